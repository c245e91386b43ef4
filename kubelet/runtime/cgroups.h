/* cgroups.h - the kubelet's cgroup tree over cgroupfs, v1 (also hybrid) and v2, laid out as
 * upstream's cgroupfs driver does:
 *
 *     <root>                       node-level cgroup for all pods ("/kubepods" upstream)
 *     <root>/pod<uid>              Guaranteed pods
 *     <root>/burstable/pod<uid>    Burstable pods
 *     <root>/besteffort/pod<uid>   BestEffort pods (cpu shares 2)
 *     <pod cgroup>/<container id>  one per container, created by runc from the OCI
 *                                  linux.cgroupsPath the bundle sets
 *
 * Cgroup paths in this API are absolute inside the hierarchy ("/kubepods/burstable/pod42").
 * v1: every hierarchy mounted under the mount point (cpu, memory, pids, cpuset, ..., the
 * name=systemd one and a hybrid "unified" tree) gets the directory, as libcontainer's cgroupfs
 * manager does; limits go to the controller that owns them (cpu.shares, cpu.cfs_quota_us,
 * memory.limit_in_bytes, pids.max); new cpuset cgroups inherit cpuset.cpus/mems from their
 * parent. v2: one tree; controllers are enabled through cgroup.subtree_control down to the new
 * cgroup; cpu shares become cpu.weight with runc's conversion, quota becomes cpu.max.
 *
 * Version detection: a mount point holding cgroup.controllers is v2, anything else v1 -- which
 * also lets unit tests run on a fake tree in a temporary directory. Only on such a fake tree
 * (a mount point that is not tmpfs or cgroupfs) are missing control files created on write
 * and plain files removed before rmdir; on a real cgroupfs the kernel owns them.
 *
 * Functions return 0 or a negative errno. Not thread-safe per struct kl_cgroups for
 * kl_cgroups_free; all other calls only read it and may run concurrently.
 */
#ifndef KL_CGROUPS_H
#define KL_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kl_cgroup_version { KL_CGROUP_V1 = 1, KL_CGROUP_V2 = 2 };

/* A pod's QoS class, as upstream's v1.PodQOSClass. */
enum kl_qos { KL_QOS_GUARANTEED, KL_QOS_BURSTABLE, KL_QOS_BESTEFFORT };

/* Upstream's constants (pkg/kubelet/cm): shares bounds and the CFS period. */
#define KL_CPU_MIN_SHARES 2
#define KL_CPU_MAX_SHARES 262144
#define KL_CPU_SHARES_PER_CPU 1024
#define KL_CPU_QUOTA_PERIOD 100000 /* microseconds */
#define KL_CPU_MIN_QUOTA 1000      /* microseconds */

struct kl_cgroups {
    enum kl_cgroup_version version;
    char *mount;        /* "/sys/fs/cgroup" */
    char *root;         /* the node-level pods cgroup, absolute, e.g. "/kubepods" */
    bool fake;          /* not a real cgroupfs (tests) */
    char **hierarchies; /* v1: directory names under mount ("cpu", "memory", "unified", ...) */
    size_t n_hierarchies;
};

/* Resource settings of one cgroup. Zero means "leave unlimited / unset". */
struct kl_cgroup_resources {
    uint64_t cpu_shares;  /* v1 cpu.shares; v2 cpu.weight via kl_cpu_shares_to_weight */
    int64_t cpu_quota;    /* microseconds per period; 0 or negative: no quota */
    uint64_t cpu_period;  /* microseconds; 0: KL_CPU_QUOTA_PERIOD */
    int64_t memory_limit; /* bytes; 0: unlimited */
    int64_t pids_limit;   /* 0: unlimited */
};

/* What kl_cgroup_stats reads (cadvisor's definitions). */
struct kl_cgroup_stats {
    uint64_t cpu_usage_ns;       /* cpuacct.usage / cpu.stat usage_usec * 1000 */
    uint64_t memory_usage;       /* memory.usage_in_bytes / memory.current */
    uint64_t memory_working_set; /* usage minus inactive file pages, floored at 0 */
    uint64_t memory_rss;         /* memory.stat total_rss / anon */
    uint64_t pids_current;
    uint64_t oom_kills;
};

/* Opens the cgroup tree at `mount` (NULL: "/sys/fs/cgroup") for the node-level cgroup `root`
 * (NULL: "/kubepods"; must be absolute, not "/"). Detects the version and, for v1, lists the
 * hierarchies. Creates nothing. *out is owned by the caller (kl_cgroups_free). */
int kl_cgroups_init(const char *mount, const char *root, struct kl_cgroups **out);
void kl_cgroups_free(struct kl_cgroups *cg);

/* Upstream's MilliCPUToShares: 0 -> 2, else milli*1024/1000 clamped to [2, 262144]. */
uint64_t kl_milli_cpu_to_shares(int64_t milli);
/* Upstream's milliCPUToQuota: 0 -> 0 (no quota), else milli*period/1000, at least 1000. */
int64_t kl_milli_cpu_to_quota(int64_t milli, int64_t period);
/* runc's cgroup v2 conversion: 0 -> 0, else 1 + ((shares - 2) * 9999) / 262142. */
uint64_t kl_cpu_shares_to_weight(uint64_t shares);

/* Creates the node-level cgroups <root>, <root>/burstable and <root>/besteffort (the latter
 * with the minimum cpu shares), as upstream's QoS container manager does. Idempotent. */
int kl_cgroups_ensure_node(const struct kl_cgroups *cg);

/* The cgroup path of a pod: "<root>/pod<uid>", "<root>/burstable/pod<uid>" or
 * "<root>/besteffort/pod<uid>". Returns NULL for a uid that is empty or holds '/' or is not
 * a plain name; the caller frees the result. */
char *kl_cgroup_pod_path(const struct kl_cgroups *cg, enum kl_qos qos, const char *pod_uid);

/* Creates (if missing) the cgroup at `path` with its parents and applies `res` (may be NULL).
 * `path` must lie under cg->root. */
int kl_cgroup_ensure(const struct kl_cgroups *cg, const char *path,
                     const struct kl_cgroup_resources *res);
/* Creates the pod's cgroup (kl_cgroup_pod_path) and applies res; *path_out (may be NULL)
 * receives the path, owned by the caller. */
int kl_cgroup_pod_ensure(const struct kl_cgroups *cg, enum kl_qos qos, const char *pod_uid,
                         const struct kl_cgroup_resources *res, char **path_out);
/* Writes the settings of `res` into an existing cgroup. */
int kl_cgroup_update(const struct kl_cgroups *cg, const char *path,
                     const struct kl_cgroup_resources *res);
/* Whether the cgroup directory exists (in the memory hierarchy for v1). */
bool kl_cgroup_exists(const struct kl_cgroups *cg, const char *path);
/* Kills every process in the subtree at `path` (SIGKILL; cgroup.kill on v2 when present) and
 * removes its directories deepest first in every hierarchy. A missing cgroup is success.
 * Gives up with -EBUSY when processes survive about two seconds. `path` must lie under
 * cg->root or be cg->root itself. */
int kl_cgroup_destroy(const struct kl_cgroups *cg, const char *path);
/* Lists the pod uids that have a cgroup under any QoS class (for cleanup after a restart);
 * *uids is an array of n strings, all owned by the caller (free each, then the array). */
int kl_cgroup_list_pods(const struct kl_cgroups *cg, char ***uids, size_t *n);

/* Number of OOM kills in the cgroup: v1 memory.oom_control "oom_kill", v2 memory.events
 * "oom_kill". */
int kl_cgroup_oom_kills(const struct kl_cgroups *cg, const char *path, uint64_t *count);
/* The file holding that counter, for a reader that outlives this struct (the container
 * shim); caller frees. */
char *kl_cgroup_oom_file(const struct kl_cgroups *cg, const char *path);
/* Parses the "oom_kill N" line of a memory.oom_control / memory.events text; 0 if absent. */
uint64_t kl_cgroup_parse_oom_kills(const char *text);
/* Usage counters of the cgroup; counters a controller lacks stay 0. */
int kl_cgroup_stats(const struct kl_cgroups *cg, const char *path, struct kl_cgroup_stats *st);

/* The absolute file name of `file` of controller `controller` ("memory", "cpu", ...) for the
 * cgroup at `path`: "<mount>/<controller>/<path>/<file>" on v1, "<mount>/<path>/<file>" on
 * v2. Caller frees. */
char *kl_cgroup_file(const struct kl_cgroups *cg, const char *controller, const char *path,
                     const char *file);

#endif
