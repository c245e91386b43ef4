/* queue.h - the scheduling queue as upstream's pkg/scheduler/backend/queue PriorityQueue
 * (v1.32, queueing hints enabled), and the nominator of pods that preemption nominated.
 *
 *  - activeQ: pods ready to be tried, highest spec.priority first, then the earliest time they
 *    entered the queue (upstream's PrioritySort on QueuedPodInfo.Timestamp);
 *  - backoffQ: pods waiting out their backoff: 1 s doubling per attempt up to 10 s, counted
 *    from the time they were last put back (sched_queue_flush_backoff moves expired ones);
 *  - unschedulable: pods rejected by plugins. A cluster event moves a pod back (to backoffQ
 *    while it is still backing off, else to activeQ) when one of the plugins that rejected it
 *    registered the event and its queueing hint says the event may help; a pod rejected by no
 *    plugin (an error) goes straight to backoffQ; sched_queue_flush_unschedulable moves pods
 *    that stayed longer than 5 minutes. Events that arrive while a pod is being scheduled are
 *    replayed against it when it comes back unschedulable.
 *  - PreEnqueue SchedulingGates: a pod with spec.schedulingGates waits as "gated" until an
 *    update removes them.
 *
 * The clock is injected (monotonic nanoseconds) so tests control backoff. Thread-safety: all
 * functions lock the queue; sched_queue_pop may block until a pod is ready or the queue is
 * closed. Ownership: sched_queue_pop hands a struct sched_qpod to the caller, who gives it back
 * with sched_queue_add_unschedulable (which takes it over) or releases it with
 * sched_queue_done + sched_qpod_free after binding. Cluster-event functions borrow their
 * arguments.
 */
#ifndef SCHED_QUEUE_H
#define SCHED_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "framework.h"
#include "nodeinfo.h"

#define SCHED_INITIAL_BACKOFF_NS (1000000000LL)
#define SCHED_MAX_BACKOFF_NS (10000000000LL)
#define SCHED_MAX_UNSCHEDULABLE_NS (300000000000LL)
#define SCHED_UNSCHEDULABLE_FLUSH_NS (30000000000LL)

enum sched_qwhere { SCHED_Q_NONE, SCHED_Q_ACTIVE, SCHED_Q_BACKOFF, SCHED_Q_UNSCHEDULABLE };

struct sched_qpod {
    struct sched_pod *pod;    /* a reference */
    int64_t timestamp;        /* when it last entered the queue */
    int64_t initial_attempt;  /* first pop, 0 before */
    int attempts;             /* pops so far */
    uint32_t unsched_plugins; /* plugins (bit per id) that rejected it last time */
    bool gated;
    /* queue bookkeeping */
    enum sched_qwhere where;
    size_t heap_index;
    uint64_t popped_seq;
    int64_t cycle;
};

void sched_qpod_free(struct sched_qpod *qp);

struct sched_queue_opts {
    const struct sched_framework *fw; /* events and hints of its plugins; NULL: any event moves */
    int64_t initial_backoff_ns;       /* 0: 1 s */
    int64_t max_backoff_ns;           /* 0: 10 s */
    int64_t max_unschedulable_ns;     /* 0: 5 min */
    int64_t (*now_ns)(void *ctx);     /* NULL: monotonic clock */
    void *clock_ctx;
    sched_ns_labels_fn namespace_labels; /* for AssignedPodAdd pre-filtering (may be NULL) */
    void *ns_ctx;
};

struct sched_queue;
struct sched_nominator;

struct sched_queue *sched_queue_new(const struct sched_queue_opts *opts);
void sched_queue_free(struct sched_queue *q);

/* A new pending pod (informer add). -EEXIST when already queued. */
int sched_queue_add(struct sched_queue *q, const cJSON *pod, struct ck_error *err);
/* A pending pod changed: updated in place, or moved out of unschedulable when it changed in a
 * way that may help (anything but status, resourceVersion, generation, managedFields,
 * finalizers); an unknown pod is added. */
int sched_queue_update(struct sched_queue *q, const cJSON *old_pod, const cJSON *new_pod,
                       struct ck_error *err);
/* The pod is gone (deleted or bound elsewhere). */
int sched_queue_delete(struct sched_queue *q, const cJSON *pod);

/* The next pod from activeQ (attempts incremented), or NULL when closed (or, with !block, when
 * activeQ is empty). */
struct sched_qpod *sched_queue_pop(struct sched_queue *q, bool block);
/* Gives a pod that failed back, rejected by `unsched_plugins` (0 for an error). Takes qp. Returns
 * -ENOENT (qp freed) when the pod was deleted meanwhile. */
int sched_queue_add_unschedulable(struct sched_queue *q, struct sched_qpod *qp,
                                  uint32_t unsched_plugins);
/* The pod's scheduling attempt is over (after binding or giving it back). */
void sched_queue_done(struct sched_queue *q, const char *key);
/* upstream's backoff of a pod after `attempts` attempts. */
int64_t sched_queue_backoff_ns(const struct sched_queue *q, int attempts);

/* Cluster events. */
void sched_queue_node_added(struct sched_queue *q, const struct sched_node *node);
void sched_queue_node_updated(struct sched_queue *q, const struct sched_node *old_node,
                              const struct sched_node *new_node);
void sched_queue_node_deleted(struct sched_queue *q, const struct sched_node *node);
void sched_queue_assigned_pod_added(struct sched_queue *q, const struct sched_pod *pod);
void sched_queue_assigned_pod_updated(struct sched_queue *q, const struct sched_pod *old_pod,
                                      const struct sched_pod *new_pod);
void sched_queue_assigned_pod_deleted(struct sched_queue *q, const struct sched_pod *pod);
/* Any event: moves pods whose rejecting plugins registered it (hints permitting). */
void sched_queue_move_all(struct sched_queue *q, const struct sched_event *ev);

/* Timers (the daemon calls sched_queue_tick every second). */
void sched_queue_flush_backoff(struct sched_queue *q);
void sched_queue_flush_unschedulable(struct sched_queue *q);
void sched_queue_tick(struct sched_queue *q);

/* Wakes every blocked pop; later pops return NULL. */
void sched_queue_close(struct sched_queue *q);

struct sched_queue_stats {
    size_t active, backoff, unschedulable, gated;
};
void sched_queue_stats(struct sched_queue *q, struct sched_queue_stats *out);
/* Where the pod with this key is queued. */
enum sched_qwhere sched_queue_where(struct sched_queue *q, const char *key);

/* ---- nominator ---- */

struct sched_nominator *sched_queue_nominator(struct sched_queue *q);
/* Nominates the pod to `node` ("" removes the nomination; NULL uses the pod's
 * status.nominatedNodeName). */
void sched_queue_set_nominated(struct sched_queue *q, struct sched_pod *pod, const char *node);
void sched_queue_delete_nominated(struct sched_queue *q, const char *key);
/* References to the pods nominated to `node` in *out (caller unrefs each and frees the array);
 * returns how many. */
size_t sched_nominator_pods_for_node(struct sched_nominator *n, const char *node,
                                     struct sched_pod ***out);

#endif
