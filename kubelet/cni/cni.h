/* kubelet/cni/cni.h - the pod network through the Container Network Interface (CNI spec 1.0.0).
 *
 * Both sides of the CNI protocol live here.
 *
 * Runtime side (what the kubelet calls, as containerd's CRI plugin does for upstream):
 *   kl_cni_setup loads the network configuration list from a conf dir (/etc/cni/net.d, in the lab
 *   <kubelet-root>/cni/net.d): the first valid *.conf, *.conflist or *.json file in lexical order
 *   (invalid files are skipped with a warning, as CRI-O does). kl_cni_add / kl_cni_check /
 *   kl_cni_del run each plugin of the list (ADD and CHECK in order, DEL in reverse) with the
 *   CNI_* environment, the plugin's config on stdin (the list's "name" and "cniVersion" injected,
 *   "prevResult" chained) and read the result or the error object {"code","msg","details"} from
 *   its stdout. The final ADD result is cached under <data_dir>/results/ so DEL and CHECK get
 *   their prevResult (and the config ADD used) even after a kubelet restart or a config change.
 *   A plugin of type "ckube-bridge" runs our own bridge + host-local plugin (bridge*.c, ipam.c)
 *   in-process; any other type is an executable looked up in the bin dirs (CNI_PATH), so
 *   Debian's containernetworking-plugins ("bridge" + "host-local", /usr/lib/cni) can be swapped
 *   in by config alone.
 *   CNI_ARGS carries the pod as containerd passes it:
 *     IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=name;K8S_POD_INFRA_CONTAINER_ID=id;K8S_POD_UID=uid
 *   The kubelet also brings up "lo" in the pod's namespace itself before running the list.
 *   The conf dir is looked at again on every call (parsed again only when its files changed), so
 *   a config written later - e.g. by kl_cni_write_default_conf once the node has its podCIDR -
 *   is picked up without a restart.
 *
 * Plugin side: kl_cni_plugin_main is the entry point of the kubelet binary run as a CNI plugin,
 *   so the same code can serve other runtimes: the kubelet's main() must start with
 *       if (kl_cni_plugin_invoked(argv[0], envp)) return kl_cni_plugin_main(argc, argv, envp);
 *   which is true when argv[0]'s base name ends in "bridge" (install it as a symlink, e.g.
 *   /opt/cni/bin/ckube-bridge -> /usr/bin/kubelet) or CKUBE_CNI_PLUGIN=1 is set. The plugin then
 *   reads CNI_COMMAND (ADD/DEL/CHECK/VERSION), CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS,
 *   CNI_PATH from the environment and the config from stdin, prints the result (or error) JSON
 *   to stdout and exits 0 (1 on error). CKUBE_CNI_DATA_DIR names the IPAM state dir used when
 *   the config's ipam section has no "dataDir" (default /var/lib/cni/networks, as host-local).
 *
 * Thread-safety: a struct kl_cni may be used by several threads at once (its config is guarded by
 * an internal mutex; plugin runs do not hold it). The in-process plugin switches only the calling
 * thread's network namespace (setns), and always switches back.
 */
#ifndef KL_CNI_H
#define KL_CNI_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* The spec version we speak and the ones our plugin can answer in. */
#define KL_CNI_VERSION "1.0.0"
/* Interface name the kubelet asks for in every pod (as upstream runtimes do). */
#define KL_CNI_IFNAME "eth0"
/* Our plugin's type name; configs naming it run bridge*.c in-process. */
#define KL_CNI_BRIDGE_TYPE "ckube-bridge"
/* Default IPAM state dir of host-local. */
#define KL_CNI_DEFAULT_IPAM_DIR "/var/lib/cni/networks"
/* How long an exec'd plugin may run before it is killed (ms). */
#define KL_CNI_DEFAULT_TIMEOUT_MS 120000

/* Well-known error codes of the spec; plugin-specific codes are 100 and up, and 999 is what
 * upstream's plugin skeleton reports for an error without a code. */
enum kl_cni_code {
    KL_CNI_ERR_INCOMPATIBLE_VERSION = 1,
    KL_CNI_ERR_UNSUPPORTED_FIELD = 2,
    KL_CNI_ERR_UNKNOWN_CONTAINER = 3,
    KL_CNI_ERR_INVALID_ENV = 4,
    KL_CNI_ERR_IO = 5,
    KL_CNI_ERR_DECODE = 6,
    KL_CNI_ERR_INVALID_CONFIG = 7,
    KL_CNI_ERR_TRY_AGAIN = 11,
    KL_CNI_ERR_INTERNAL = 999,
};

/* A CNI error as a plugin reports it (the spec's error object). code 0 = no error. */
struct kl_cni_error {
    unsigned code;
    char msg[1024];
    char details[512];
};

/* Sets code and a printf-formatted message (details cleared); e may be NULL. Returns the
 * negative errno that fits the code: -EPROTO (1), -EINVAL (2, 4, 6, 7), -ENOENT (3),
 * -EAGAIN (11), -EIO (5 and plugin-specific codes). */
int kl_cni_error_set(struct kl_cni_error *e, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "msg" or "msg; details", as upstream's types.Error prints itself (borrowed buffer in e). */
const char *kl_cni_error_str(struct kl_cni_error *e);

/* What a plugin invocation gets from its environment (all borrowed; NULL = unset). */
struct kl_cni_args {
    const char *command;      /* CNI_COMMAND */
    const char *container_id; /* CNI_CONTAINERID */
    const char *netns;        /* CNI_NETNS: path of the network namespace */
    const char *ifname;       /* CNI_IFNAME */
    const char *args;         /* CNI_ARGS */
    const char *path;         /* CNI_PATH */
    const char *data_dir;     /* IPAM dir when the config has no ipam.dataDir (NULL: default) */
};

/* ---- runtime side ---- */

struct kl_cni;

#define KL_CNI_MAX_IPS 8

struct kl_cni_ip {
    char address[64]; /* CIDR as the plugin returned it, "10.244.1.2/24" */
    char ip[48];      /* the address alone, "10.244.1.2" (what podIP(s) get) */
    char gateway[48]; /* "" when none */
};

struct kl_cni_result {
    size_t n_ips;
    struct kl_cni_ip ips[KL_CNI_MAX_IPS];
    cJSON *json; /* the final result object of the list (owned; kl_cni_result_free) */
};

/* Creates the runtime handle. conf_dir: where network configs live; bin_dirs: plugin dirs,
 * separated by ':' or ',' (NULL or "": /opt/cni/bin:/usr/lib/cni); data_dir: our state dir (the
 * results cache goes to <data_dir>/results and the in-process IPAM defaults to
 * <data_dir>/networks). Loads the config now if there is one; no config yet is not an error
 * (see kl_cni_status). *out is owned by the caller (kl_cni_free). */
int kl_cni_setup(const char *conf_dir, const char *bin_dirs, const char *data_dir,
                 struct kl_cni **out, struct ck_error *err);
void kl_cni_free(struct kl_cni *cni);
/* Changes the exec'd plugin timeout (ms, > 0). */
void kl_cni_set_timeout(struct kl_cni *cni, int timeout_ms);

/* Re-reads the conf dir; 0 when a network config is loaded, else -ENOENT with
 * "cni plugin not initialized: no network config found in <dir>" (the NetworkReady=false reason
 * upstream runtimes report). Writes the loaded network's name into name (may be NULL). */
int kl_cni_status(struct kl_cni *cni, char *name, size_t name_size, struct ck_error *err);

/* Sets up the pod network in the namespace at netns_path for the sandbox container_id.
 * On success fills *result (caller frees with kl_cni_result_free). Errors name the plugin as
 * containerd does: `plugin type="bridge" name="net" failed (add): <plugin message>`. A failed
 * ADD is rolled back with a DEL of the attachment so nothing stays allocated. An ADD for an
 * attachment whose result is cached for the same namespace returns that result without running
 * the plugins again (an ADD retried after a kubelet restart). Exec'd plugins are waited for
 * with waitpid(): the kubelet must not ignore SIGCHLD nor reap children it did not start. */
int kl_cni_add(struct kl_cni *cni, const char *pod_ns, const char *pod_name, const char *pod_uid,
               const char *container_id, const char *netns_path, struct kl_cni_result *result,
               struct ck_error *err);
/* Tears it down; idempotent (a second DEL, a missing namespace or a missing cache are fine). */
int kl_cni_del(struct kl_cni *cni, const char *pod_ns, const char *pod_name, const char *pod_uid,
               const char *container_id, const char *netns_path, struct ck_error *err);
/* Asks every plugin whether the pod's network is still as ADD left it (spec CHECK). */
int kl_cni_check(struct kl_cni *cni, const char *pod_ns, const char *pod_name, const char *pod_uid,
                 const char *container_id, const char *netns_path, struct ck_error *err);
void kl_cni_result_free(struct kl_cni_result *r);

/* Writes <conf_dir>/10-ckube.conflist for the node's pod CIDR: network "ckube", one
 * "ckube-bridge" plugin on bridge cni0 (gateway, default route, hairpin, mtu) with host-local
 * IPAM over pod_cidr storing its state in ipam_data_dir (NULL: no "dataDir", so the in-process
 * plugin uses <data_dir>/networks of kl_cni_setup).
 * Atomic (temp file + rename); unchanged content is not rewritten. mtu <= 0 means 1500. */
int kl_cni_write_default_conf(const char *conf_dir, const char *pod_cidr, int mtu,
                              const char *ipam_data_dir, struct ck_error *err);

/* ---- plugin side ---- */

/* True when this process was started as a CNI plugin (see the top of this file). */
bool kl_cni_plugin_invoked(const char *argv0, char *const envp[]);
/* The plugin binary's main: environment from envp, config from stdin, result to stdout.
 * Returns the process exit status (0, or 1 after printing an error object). */
int kl_cni_plugin_main(int argc, char **argv, char **envp);
/* What kl_cni_plugin_main and the in-process path share: runs one command of our plugin on
 * one config (conf, len bytes of JSON). ADD and VERSION return their output in *out (owned by
 * the caller); DEL and CHECK leave it NULL. */
int kl_cni_plugin_run(const struct kl_cni_args *args, const char *conf, size_t len, cJSON **out,
                      struct kl_cni_error *e);

/* ---- helpers shared with bridge*.c / ipam.c ---- */

/* Validation with libcni's rules and messages; 0 or the CNI error (code 4 or 7). */
int kl_cni_validate_container_id(const char *id, struct kl_cni_error *e);
int kl_cni_validate_network_name(const char *name, struct kl_cni_error *e);
int kl_cni_validate_ifname(const char *name, struct kl_cni_error *e);
/* True for the versions our plugin answers in (0.3.0 .. 1.0.0). */
bool kl_cni_version_supported(const char *v);
/* Compares two dotted versions like "0.4.0"; <0, 0, >0. Garbage sorts lowest. */
int kl_cni_version_cmp(const char *a, const char *b);
/* Writes all of data to fd (retrying short writes and EINTR); 0 or a negative errno. */
int kl_cni_write_all(int fd, const char *data, size_t len);
/* mkdir -p with mode for the directories it creates; 0 or a negative errno (-ENAMETOOLONG for a
 * path of PATH_MAX or more). */
int kl_cni_mkdir_p(const char *path, mode_t mode);

#endif
