/* bundle.h - OCI bundles for the kubelet's containers: the container spec the kubelet hands
 * to the runtime, its translation into an OCI runtime config.json (pure, unit-tested), the
 * overlayfs root filesystem over the image's layer directories, and the small file helpers
 * the runtime shares.
 *
 * The translation follows what upstream's kubelet + containerd CRI produce together:
 *  - process.args: Kubernetes' command/args rules over the image's Entrypoint/Cmd -- no
 *    command and no args: Entrypoint + Cmd; args only: Entrypoint + args; command (with or
 *    without args): command + args, the image's ignored; an Entrypoint of [""] counts as
 *    none; nothing at all fails with "no command specified". $(VAR) references in command
 *    and args are expanded from the container's env as the kubelet does ($$ escapes,
 *    unknown references stay verbatim).
 *  - process.env: PATH default, HOSTNAME=<pod hostname>, then the image's Env, then the
 *    container's env; a later value of a name replaces the earlier one in place.
 *  - process.cwd: workingDir, else the image's WorkingDir, else "/".
 *  - process.user: runAsUser/runAsGroup, else the image's User with its group part dropped
 *    (as the kubelet passes it); names resolve through the image's /etc/passwd and
 *    /etc/group; a uid missing from passwd gets gid 0; additionalGids = the primary gid, the
 *    user's groups from /etc/group, then supplementalGroups.
 *  - capabilities: the runtime default set (bounding/effective/permitted), add/drop with
 *    "ALL" handled first and names prefixed "CAP_" and upper-cased; privileged: all of them,
 *    writable /sys and cgroupfs, no masked/readonly paths, every device allowed.
 *  - mounts: /proc /dev /dev/pts /dev/mqueue /sys /sys/fs/cgroup, then the sandbox's
 *    /etc/hostname /etc/hosts /etc/resolv.conf (read-only when readOnlyRootFilesystem) and
 *    /dev/shm, the termination message file, and the volume mounts (bind, rprivate/rslave/
 *    rshared, ro/rw) sorted by depth; a volume at one of those paths replaces the default.
 *  - linux.resources: devices denied by default, cpu.shares from the request (2 without
 *    one), cpu.quota/period from the limit, memory.limit (and swap = limit on v1);
 *    oomScoreAdj; cgroupsPath = <pod cgroup>/<container id>.
 *  - namespaces: a new pid and mount namespace; network, ipc and uts joined by path from the
 *    sandbox (left out when the pod uses the host's); a cgroup namespace on v2 unless
 *    privileged; maskedPaths/readonlyPaths as upstream's defaults unless procMount Unmasked.
 *
 * Strings in these structs are borrowed: the caller keeps them alive for the call.
 */
#ifndef KL_BUNDLE_H
#define KL_BUNDLE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

enum kl_propagation {
    KL_PROPAGATION_PRIVATE = 0,       /* mountPropagation None */
    KL_PROPAGATION_HOST_TO_CONTAINER, /* HostToContainer: rslave */
    KL_PROPAGATION_BIDIRECTIONAL,     /* Bidirectional: rshared */
};

/* One volume mount, resolved by the kubelet to a host path. */
struct kl_mount {
    const char *container_path; /* absolute */
    const char *host_path;      /* absolute */
    bool readonly;
    enum kl_propagation propagation;
};

/* A container as the kubelet asks the runtime to run it (what upstream passes through CRI,
 * minus the pod-level parts that live in the sandbox). Zero values mean "not set". */
struct kl_container_spec {
    const char *name;  /* container name, required */
    unsigned attempt;  /* restart count; the log goes to <name>/<attempt>.log */
    const char *image; /* image reference (for status and annotations) */

    const char *const *command; /* pod spec command, unexpanded */
    size_t n_command;
    const char *const *args; /* pod spec args, unexpanded */
    size_t n_args;
    const char *const *env; /* resolved "NAME=value", in the kubelet's order */
    size_t n_env;
    const char *working_dir;

    /* the effective security context (container's over the pod's) */
    bool has_run_as_user;
    int64_t run_as_user;
    bool has_run_as_group;
    int64_t run_as_group;
    const int64_t *supplemental_groups;
    size_t n_supplemental_groups;
    bool privileged;
    bool read_only_root_filesystem;
    bool no_new_privileges; /* allowPrivilegeEscalation: false */
    const char *const *cap_add;
    size_t n_cap_add;
    const char *const *cap_drop;
    size_t n_cap_drop;
    bool unmasked_proc_mount; /* procMount: Unmasked */

    /* resources */
    int64_t cpu_request_milli; /* 0: none (shares 2) */
    int64_t cpu_limit_milli;   /* 0: no quota */
    int64_t memory_limit;      /* bytes, 0: unlimited */
    int oom_score_adj;

    const struct kl_mount *mounts;
    size_t n_mounts;
    const char *termination_message_path;      /* in the container; NULL/"": none */
    const char *termination_message_host_path; /* NULL: a file in the container's dir */
    const char *log_path; /* absolute; NULL: <sandbox log dir>/<name>/<attempt>.log */

    const char *const *labels; /* "key=value", kept with the container for listing */
    size_t n_labels;
    const char *const *annotations; /* "key=value", also put into the OCI annotations */
    size_t n_annotations;
};

/* What the bundle needs from the sandbox and the host. */
struct kl_bundle_env {
    const char *container_id;
    const char *sandbox_id;
    const char *pod_name, *pod_namespace;
    const char *hostname;      /* the pod's hostname */
    const char *node_hostname; /* HOSTNAME when the pod has none */
    const char *netns_path;    /* NULL: the host's network (and uts) namespace */
    const char *ipcns_path;    /* NULL: the host's ipc namespace */
    const char *utsns_path;    /* NULL: the host's uts namespace */
    bool host_pid;
    const char *hostname_file, *hosts_file, *resolv_conf_file; /* NULL: not mounted */
    const char *shm_dir;              /* NULL: /dev/shm stays the container's own tmpfs */
    const char *termination_log_file; /* host file for termination_message_path */
    const char *cgroup_parent;        /* the pod's cgroup; NULL: no cgroupsPath */
    bool cgroup_v2;
    const char *passwd; /* the image's /etc/passwd content, NULL when absent */
    const char *group;  /* the image's /etc/group content, NULL when absent */
    int cap_last_cap;   /* /proc/sys/kernel/cap_last_cap; 0: 40 */
};

/* Builds the OCI runtime config for spec over an image config (`image_config` may be the
 * whole OCI image config blob, whose "config" member is used, or that member itself, or
 * NULL). On success *out is a new tree owned by the caller. Fails with -EINVAL and err set
 * for: no command, an unknown user or group name, a runAsGroup without a user, a relative
 * mount path. */
int kl_bundle_config(const struct kl_container_spec *spec, const cJSON *image_config,
                     const struct kl_bundle_env *env, cJSON **out, struct ck_error *err);

/* The kubelet's $(VAR) expansion (upstream's third_party expansion package) of `in` with the
 * variables of env ("NAME=value"; the last definition of a name wins): $(NAME) becomes the
 * value when defined and stays as written when not; $$ is a literal $; a $ followed by
 * anything else, or an unterminated $(, stays verbatim. Returns a new string (caller frees). */
char *kl_expand_vars(const char *in, const char *const *env, size_t n_env);

/* Reads /etc/passwd and /etc/group of a mounted root filesystem, resolving symlinks inside
 * it only (openat2 RESOLVE_IN_ROOT), at most 1 MiB each. *passwd / *group are NULL when the
 * file is absent, otherwise owned by the caller. */
int kl_rootfs_read_users(const char *rootfs, char **passwd, char **group);

/* Mounts an overlayfs at target with the layer directories (lowest first, at least one) as
 * lowerdirs and upper/work as its writable part (all absolute, without ',' or ':'; upper and
 * work on one filesystem). When the option string would pass the kernel's page limit the
 * layers are named relative to their common parent from a child that changed into it. */
int kl_rootfs_mount(const char *const *layers, size_t n, const char *upper, const char *work,
                    const char *target);
/* Unmounts target (retrying briefly on EBUSY, then lazily). Not mounted: success. */
int kl_rootfs_umount(const char *target);

/* ---- file helpers shared by the runtime -------------------------------------------------- */

/* Creates dir and missing parents with mode. */
int kl_mkdir_p(const char *dir, mode_t mode);
/* Writes data to path through a temporary file and rename (readers never see half). */
int kl_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Reads a whole file of at most max bytes; *out (NUL-terminated, caller frees) and *len. */
int kl_read_file(const char *path, size_t max, char **out, size_t *len);
/* Removes path recursively without crossing into other mounts or following symlinks. */
int kl_rm_rf(const char *path);
/* Whether some mount point lies at or below path (per /proc/self/mountinfo). */
bool kl_has_mounts_under(const char *path);
/* Unmounts (lazily) every mount at or below path, deepest first; returns how many. */
int kl_umount_all_under(const char *path);
/* A new random object id: 64 lowercase hex digits (caller frees). */
char *kl_new_id(void);
/* Writes / reads a JSON state file (at most 1 MiB); the tree read is the caller's. */
int kl_write_json_file(const char *path, const cJSON *obj);
cJSON *kl_read_json_file(const char *path);
/* "key=value" strings as a JSON object of strings (the last value of a key wins; entries
 * without '=' or with an empty key are skipped); caller owns the result. */
cJSON *kl_kv_object(const char *const *kv, size_t n);

#endif
