/* podworker.h - internals shared by podworker.c, podsync.c and probes.c: what the kubelet
 * tracks per pod.
 *
 * A struct kl_pod exists for every pod UID the kubelet knows: pods the informer reports for
 * this node and pods the runtime still has after a restart. Its API object and api_gone are
 * guarded by kl_pods.lock; everything else belongs to the one worker syncing the pod (the
 * work queue never hands a UID to two workers at once), except the probe results in each
 * slot, which the prober writes under kl_pods.lock.
 */
#ifndef KL_PODWORKER_H
#define KL_PODWORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kubelet/kubelet.h"
#include "kubelet/runtime/sandbox.h"
#include "kubelet/volumes.h"
#include "store.h"
#include "strmap.h"
#include "workqueue.h"

/* One run of a container. */
struct kl_run {
    struct kl_container *c;
    struct kl_container_state st;
    char *message; /* termination message, read once it exited */
    bool message_read;
};

/* Probe results of one container (written by the prober under kl_pods.lock). */
struct kl_probe_results {
    char container_id[72]; /* the run they are about ("" none) */
    bool ready;            /* readiness probe succeeded (meaningful with a probe) */
    bool started;          /* startup probe succeeded (meaningful with a probe) */
    bool liveness_failed;  /* liveness probe failed failureThreshold times */
    char liveness_message[256];
};

/* One container of the spec. */
struct kl_slot {
    char *name;
    bool init;
    struct kl_run *cur, *last;
    char *waiting_reason, *waiting_message;
    struct kl_probe_results probe; /* kl_pods.lock */
};

struct kl_pod {
    char *uid, *ns, *name;
    /* kl_pods.lock */
    struct ck_obj *obj; /* the latest API object, NULL when never seen */
    bool api_gone;      /* deleted from the API, or unknown to it (an orphan) */
    /* the pod's worker */
    struct kl_sandbox *sb;
    struct kl_sandbox **old_sbs; /* other sandboxes found for this UID: removed */
    size_t n_old_sbs;
    char *cgroup;
    char **ips;
    size_t n_ips;
    bool sandbox_ready;
    struct kl_pod_volumes vols;
    bool vols_ok;
    int64_t vols_at; /* monotonic ns of the last volume setup */
    char *hosts_file;
    struct kl_slot *slots; /* init containers, then containers */
    size_t n_slots;
    struct kl_run **adopted; /* runs found at start-up not placed in a slot yet */
    size_t n_adopted;
    cJSON *reported;  /* the status written last */
    bool terminated;  /* containers stopped, sandbox stopped, network released */
    bool cleaned;     /* runtime objects, cgroup, volumes, logs removed */
    bool delete_sent; /* the final DELETE was answered */
    bool dns_warned;
    int64_t sandbox_retry_at; /* monotonic ns; 0: now */
};

struct kl_pods {
    struct kl_kubelet *k;
    pthread_mutex_t lock; /* guards map and each pod's obj, api_gone, slot probe results */
    struct ck_strmap map; /* uid -> struct kl_pod */
    struct ck_workqueue *q;
    pthread_t *workers;
    int n_workers;
    struct kl_backoff *crash; /* CrashLoopBackOff, key "<uid>/<container>" */
    struct kl_backoff *pull;  /* ImagePullBackOff, key "<uid>_<image>" */
    bool started;
};

/* ---- shared by podworker.c and podsync.c ----------------------------------------------------- */

/* upstream's minimumGracePeriodInSeconds: containers always get this long to stop */
#define MIN_GRACE_SECONDS 2

static inline bool kl_run_alive(const struct kl_run *r)
{
    return r && (r->st.status == KL_CONTAINER_RUNNING || r->st.status == KL_CONTAINER_CREATED);
}

static inline bool kl_run_exited(const struct kl_run *r)
{
    return r && (r->st.status == KL_CONTAINER_EXITED || r->st.status == KL_CONTAINER_UNKNOWN);
}

/* A run of c (taken), not yet refreshed (CREATED). Freed by kl_run_remove or the pod. */
struct kl_run *kl_run_new(struct kl_container *c);
/* Removes the run from the runtime (its log file stays) and frees it; NULL accepted. */
void kl_run_remove(struct kl_kubelet *k, struct kl_run *r);
/* A container's annotation (borrowed; "" when absent). */
const char *kl_ctr_annotation(const struct kl_container *c, const char *key);
/* The spec of slot s's container in pod (borrowed), or NULL. */
const cJSON *kl_slot_spec(const cJSON *pod, const struct kl_slot *s);

/* podsync.c: the runtime side of a sync, on the pod's worker */
/* CPU time the calling thread used so far, in ms (for the --v=4 step timings). */
int64_t kl_thread_cpu_ms(void);
void kl_refresh_runs(struct kl_kubelet *k, struct kl_pod *p, const cJSON *pod);
/* Stops the containers (preStop, grace period, SIGKILL), the sandbox, and releases the network
 * (upstream's KillPod). */
void kl_kill_pod(struct kl_kubelet *k, struct kl_pod *p, const cJSON *pod, int64_t grace);
/* Removes containers, sandboxes, the pod cgroup, volumes and logs. */
void kl_cleanup_pod(struct kl_kubelet *k, struct kl_pod *p);
/* Pod cgroup, sandbox, network and /etc/hosts; 0 when the sandbox is ready. */
int kl_ensure_sandbox(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod);
/* Sets up or refreshes the volumes; 0 when they are usable. */
int kl_ensure_volumes(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod);
/* Init containers in order, then app containers; *wake gets the earliest back-off end (ns
 * from now) when something waits for one. */
void kl_sync_containers(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod, int64_t *wake);
bool kl_pod_any_alive(const struct kl_pod *p);

#endif
