/* schedule.h - one scheduling cycle as upstream's schedulePod / findNodesThatFitPod /
 * prioritizeNodes / selectHost (pkg/scheduler/schedule_one.go, v1.32), and the texts a failed
 * attempt produces: the FitError message ("0/5 nodes are available: 1 node(s) had untolerated
 * taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/5 nodes
 * are available: 5 Preemption is not helpful for scheduling..", reasons counted over nodes and
 * sorted as strings, as upstream), the PodScheduled=False condition and the FailedScheduling
 * event message.
 *
 * A cycle: PreFilter (which may narrow the nodes); the pod's nominated node first when it has
 * one; then Filter over nodes starting where the previous cycle stopped, until
 * numFeasibleNodesToFind feasible nodes are found (all nodes below 100; else
 * max(100, n * p / 100) with p = percentageOfNodesToScore or, when 0, max(5, 50 - n/125));
 * with none, PostFilter (preemption); with one, that node; else Score and a uniformly random
 * pick among the best totals. Pure: no I/O; the daemon binds, patches, deletes victims.
 */
#ifndef SCHED_SCHEDULE_H
#define SCHED_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "framework.h"
#include "queue.h"

#define SCHED_REASON_UNSCHEDULABLE "Unschedulable"
#define SCHED_REASON_SCHEDULER_ERROR "SchedulerError"
#define SCHED_NO_NODES_MESSAGE "no nodes available to schedule pods"
#define SCHED_EVENT_MESSAGE_MAX 1024

/* The scheduling algorithm's state across cycles (upstream Scheduler.nextStartNodeIndex). */
struct sched_scheduler {
    struct sched_framework *fw; /* borrowed */
    size_t next_start;
};

struct sched_result {
    enum sched_code code; /* SUCCESS, UNSCHEDULABLE (or ..._AND_UNRESOLVABLE), or ERROR */
    char *node;           /* the chosen node (owned), NULL unless SUCCESS */
    size_t evaluated;     /* nodes filtered */
    size_t feasible;      /* of which passed */
    const char *reason; /* condition reason: "Unschedulable" / "SchedulerError"; NULL on success */
    char *message;      /* owned: condition and event message; NULL on success */
    uint32_t unsched_plugins; /* plugins (bit per id) that rejected the pod, for the queue */
    struct sched_postfilter_result post; /* preemption: nomination, victims */
};

/* Schedules `pod` on `snap`. Returns 0 with *out filled (out->code says the outcome), or
 * -EINVAL for bad arguments. `nom` (may be NULL) gives the nominated pods filters must
 * respect. Release *out with sched_result_clear. */
int sched_schedule_one(struct sched_scheduler *s, const struct sched_snapshot *snap,
                       struct sched_pod *pod, struct sched_nominator *nom,
                       struct sched_result *out);
void sched_result_clear(struct sched_result *r);

/* upstream numFeasibleNodesToFind. */
int32_t sched_num_feasible_nodes_to_find(int percentage, int32_t num_all_nodes);

/* upstream FitError.Error(): node_status maps node names to struct sched_status* (may be
 * NULL); absent is the status of nodes not in the map (may be NULL); the messages may be NULL
 * or "". Caller frees. */
char *sched_fit_error_message(size_t num_all_nodes, struct ck_strmap *node_status,
                              const struct sched_status *absent, const char *prefilter_msg,
                              const char *postfilter_msg);

/* The PodScheduled=False condition for status.conditions: {"type":"PodScheduled",
 * "status":"False","lastProbeTime":null,"lastTransitionTime":now,"reason":..,"message":..}.
 * `now` is an RFC 3339 time (NULL: the current time). Caller owns it. */
cJSON *sched_unschedulable_condition(const char *reason, const char *message, const char *now);
/* The FailedScheduling event message: message cut to 1024 bytes ending in " ..." as upstream's
 * truncateMessage. Caller frees. */
char *sched_event_message(const char *message);

#endif
