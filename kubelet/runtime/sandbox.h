/* sandbox.h - pod sandboxes: the namespaces and files a pod's containers share.
 *
 * Choice: no "pause" process. A sandbox is a set of namespaces kept alive by bind mounts,
 * the way `ip netns add` keeps a network namespace: a short-lived child unshares a new
 * network, IPC and UTS namespace, sets the pod's hostname, brings loopback up, applies the
 * pod's namespaced sysctls, bind-mounts /proc/self/ns/{net,ipc,uts} onto files in the
 * sandbox directory and exits. Containers join them through the OCI "path" entries (see
 * bundle.h); the network namespace file is what CNI plugins get as CNI_NETNS. Nothing has to
 * run, be reaped or be re-adopted after a kubelet restart, and a crash leaves only mounts that
 * kl_runtime_purge / kl_sandbox_destroy remove. What this gives up: a pod-wide PID namespace
 * (shareProcessNamespace) has no holder; every container gets its own PID namespace, or the
 * host's with hostPID.
 *
 * Files (<root>/sandboxes/<id>/): meta.json, hostname, hosts (a copy of the node's
 * /etc/hosts, used when the kubelet mounts no /etc/hosts of its own), resolv.conf (from the
 * pod's DNS config, or the node's file when there is none), shm/ (a 64 MiB tmpfs mounted at
 * every container's /dev/shm, so IPC through POSIX shared memory works pod-wide), ns/net,
 * ns/ipc, ns/uts. hostNetwork leaves out net and uts (the host's are used), hostIPC leaves out
 * ipc and shm (the host's /dev/shm is mounted).
 *
 * The kubelet must run in the host's mount namespace (not under `ip netns exec`, which gives
 * each run a private one): the bind mounts and container root filesystems live there and
 * must still be visible after a restart.
 */
#ifndef KL_SANDBOX_H
#define KL_SANDBOX_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"
#include "kubelet/runtime/runc.h"

struct kl_sandbox_config {
    const char *pod_uid, *pod_name, *pod_namespace; /* required */
    unsigned attempt;
    const char *hostname;      /* the pod's hostname; NULL/"": the pod's name */
    const char *log_directory; /* /var/log/pods/<ns>_<name>_<uid>; NULL: containers' log_path */
    const char *cgroup_parent; /* the pod's cgroup (kl_cgroup_pod_ensure); NULL: none */
    bool host_network, host_ipc, host_pid;
    const char *const *dns_servers;
    size_t n_dns_servers;
    const char *const *dns_searches;
    size_t n_dns_searches;
    const char *const *dns_options;
    size_t n_dns_options;
    const char *const *sysctls; /* "name=value", namespaced ones only (net.*, kernel.shm*, ...) */
    size_t n_sysctls;
    const char *const *labels; /* "key=value" */
    size_t n_labels;
    const char *const *annotations; /* "key=value" */
    size_t n_annotations;
};

/* A sandbox; every field owned by the struct, read-only for callers. */
struct kl_sandbox {
    char *id; /* 64 hex digits */
    char *dir;
    char *pod_uid, *pod_name, *pod_namespace;
    unsigned attempt;
    char *hostname;
    char *log_directory; /* may be NULL */
    char *cgroup_parent; /* may be NULL */
    bool host_network, host_ipc, host_pid;
    char *netns_path, *ipcns_path, *utsns_path; /* NULL for the host's */
    char *hostname_file, *hosts_file, *resolv_conf_file;
    char *shm_dir; /* the sandbox tmpfs, or "/dev/shm" with hostIPC */
    bool ready;    /* false once stopped */
    struct timespec created_at;
    cJSON *labels, *annotations; /* objects of strings */
};

/* Creates a sandbox (namespaces, files, shm). On failure nothing is left behind. *out is
 * owned by the caller (kl_sandbox_free). */
int kl_sandbox_create(struct kl_runtime *rt, const struct kl_sandbox_config *cfg,
                      struct kl_sandbox **out, struct ck_error *err);
/* The network namespace file for CNI, or NULL with hostNetwork (borrowed). */
const char *kl_sandbox_netns_path(const struct kl_sandbox *sb);
/* StopPodSandbox: kills every container of the sandbox (no grace: the kubelet stopped them
 * gracefully before) and marks it not ready; namespaces stay until kl_sandbox_destroy so the
 * kubelet can still run CNI DEL on the network namespace. */
int kl_sandbox_stop(struct kl_runtime *rt, struct kl_sandbox *sb, struct ck_error *err);
/* RemovePodSandbox: removes the sandbox's containers, unmounts its namespaces and shm and
 * deletes its directory. The struct stays valid for kl_sandbox_free. */
int kl_sandbox_destroy(struct kl_runtime *rt, struct kl_sandbox *sb, struct ck_error *err);
/* Loads one / all sandboxes from disk (after a kubelet restart). Caller owns the results. */
int kl_sandbox_get(struct kl_runtime *rt, const char *id, struct kl_sandbox **out);
int kl_sandbox_list(struct kl_runtime *rt, struct kl_sandbox ***out, size_t *n);
void kl_sandbox_free(struct kl_sandbox *sb);
void kl_sandbox_list_free(struct kl_sandbox **v, size_t n);

/* Renders a resolv.conf as containerd does: "search ..." / "nameserver ..." lines /
 * "options ..."; caller frees. */
char *kl_sandbox_resolv_conf(const struct kl_sandbox_config *cfg);
/* Whether a sysctl name is namespaced (allowed for a pod) given the pod's host namespaces:
 * kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* (not with hostIPC) and net.* (not with
 * hostNetwork); '/' may separate the parts instead of '.'. */
bool kl_sysctl_allowed(const char *name, bool host_network, bool host_ipc);

#endif
