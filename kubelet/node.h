/* node.h - the kubelet's Node object, built purely from what the machine looks like (so it is
 * unit-tested) and kept current by node.c's thread (see kubelet.h):
 *
 *  - registration: the Node as upstream's initialNode makes it: labels kubernetes.io/hostname,
 *    kubernetes.io/os, kubernetes.io/arch (and their beta.kubernetes.io twins) plus
 *    --node-labels, the annotation volumes.kubernetes.io/controller-managed-attach-detach,
 *    spec.podCIDR(s) from --pod-cidr when given. On AlreadyExists the existing Node is adopted:
 *    its default labels and the annotation are reconciled, as upstream's
 *    tryRegisterWithAPIServer does.
 *  - status: capacity (cpu, memory, ephemeral-storage, hugepages-1Gi/2Mi, pods) from /proc,
 *    the filesystem of --root-dir and the node cgroup's limits; allocatable minus the hard
 *    eviction thresholds memory.available and nodefs.available (--eviction-hard, upstream's
 *    defaults 100Mi and 10%); conditions MemoryPressure, DiskPressure, PIDPressure (True
 *    while eviction.c says a threshold is crossed), Ready with upstream's reasons and
 *    messages, lastTransitionTime kept while a status holds; addresses InternalIP and
 *    Hostname; daemonEndpoints; nodeInfo; images (50 largest, digests then tags).
 *  - image garbage collection every 5 minutes once the image filesystem is more than 85% full
 *    (upstream's high threshold; every image no pod of the node uses goes at once);
 *  - the Lease kube-node-lease/<node> (holderIdentity, leaseDurationSeconds, renewTime,
 *    owned by the Node), renewed every leaseDuration/4; the status is computed every
 *    --node-status-update-frequency and posted when it changed or
 *    --node-status-report-frequency passed, as upstream.
 *
 * Ownership: returned trees belong to the caller.
 */
#ifndef KL_NODE_H
#define KL_NODE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kubelet/eviction.h"
#include "kubelet/runtime/cgroups.h"

struct kl_machine {
    int64_t cpus;      /* usable CPUs */
    int64_t memory;    /* bytes */
    int64_t ephemeral; /* bytes of the filesystem holding the root dir */
    int64_t ephemeral_available;
    int64_t hugepages_2m; /* bytes reserved as huge pages */
    int64_t hugepages_1g;
    int64_t memory_available;    /* bytes (MemAvailable) */
    int64_t inodes, inodes_free; /* of the filesystem holding the root dir; -1 unknown */
    int64_t pid_max;             /* min(kernel.pid_max, kernel.threads-max); -1 unknown */
    int64_t pid_running;         /* processes on the machine; -1 unknown */
    int64_t nvidia_gpus;         /* NVIDIA GPUs the driver sees (nvidia.com/gpu); 0: none */
    char machine_id[64], system_uuid[64], boot_id[64];
    char kernel[128], os_image[256], arch[16];
};

/* Reads the machine: /proc/meminfo, the CPUs this process may run on, statvfs(root_dir),
 * /sys/kernel/mm/hugepages, /etc/machine-id, /etc/os-release, uname; a memory or CPU limit on
 * the node's cgroup (cg, may be NULL) lowers the capacity. */
int kl_machine_read(struct kl_machine *m, const char *root_dir, const struct kl_cgroups *cg);
/* The NVIDIA GPUs of the machine whose filesystem is at root ("/" here): one directory per GPU
 * under proc/driver/nvidia/gpus (the driver's own list), else the /dev/nvidia<N> devices. */
int64_t kl_count_nvidia_gpus(const char *root);

struct kl_node_params {
    const char *name;     /* node name */
    const char *hostname; /* the Hostname address */
    const char *node_ip;
    const char *pod_cidr; /* for registration; "" or NULL: none */
    int max_pods;
    const char *const *labels; /* --node-labels "k=v" */
    size_t n_labels;
    const char *runtime_version; /* "runc://1.1.5" */
    int kubelet_port;
    bool network_ready;
    const char *network_message; /* why not, when not ready */
    const cJSON *images;         /* status.images, may be NULL */
    /* the hard eviction thresholds (allocatable subtracts memory.available and
     * nodefs.available) and the pressure conditions; NULL: upstream's defaults, no pressure */
    const struct kl_eviction_thresholds *eviction;
    const struct kl_pressure *pressure;
};

/* The eviction signals' observation from the machine: memory, the root dir's filesystem as
 * nodefs and imagefs (the images live under the root dir), PIDs. */
void kl_machine_eviction_stats(const struct kl_machine *m, struct kl_eviction_stats *out);

/* The Node to register. */
cJSON *kl_node_initial(const struct kl_machine *m, const struct kl_node_params *p);
/* A merge patch reconciling an existing Node's default labels and annotation with what
 * registration wants, or NULL when nothing differs. */
cJSON *kl_node_reconcile(const cJSON *existing, const struct kl_machine *m,
                         const struct kl_node_params *p);
/* The Node's status; old_status (may be NULL) gives lastTransitionTimes. */
cJSON *kl_node_status(const struct kl_machine *m, const struct kl_node_params *p,
                      const cJSON *old_status, const struct timespec *now);
/* Whether two statuses differ in more than the conditions' lastHeartbeatTime. */
bool kl_node_status_changed(const cJSON *a, const cJSON *b);
/* The Lease object for node (uid: the Node's, for the owner reference). */
cJSON *kl_node_lease(const char *node, const char *uid, int duration_seconds,
                     const struct timespec *now);

#endif
