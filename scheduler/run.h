/* run.h - the kube-scheduler's scheduling loop (upstream's Scheduler.Run / ScheduleOne and its
 * event handlers, pkg/scheduler/{scheduler,schedule_one,eventhandlers}.go): informers feed the
 * cache (nodes, assigned pods) and the queue (pending pods of schedulerName
 * "default-scheduler"); one thread pops a pod, schedules it on a fresh snapshot, assumes it and
 * binds it asynchronously through pods/<name>/binding; pods that do not fit get the
 * PodScheduled=False condition and a FailedScheduling event and go back to the queue.
 * Services, ReplicationControllers, ReplicaSets and StatefulSets are read (listers.h) for
 * PodTopologySpread's system default constraints, PodDisruptionBudgets for preemption, whose
 * victims get DisruptionTarget=True before they are deleted. cc->config, when set, is the
 * struct sched_config read from --config (config.h).
 * Metrics: scheduler_pending_pods{queue}, scheduler_schedule_attempts_total{profile,result},
 * scheduler_scheduling_attempt_duration_seconds{profile,result}.
 */
#ifndef SCHED_RUN_H
#define SCHED_RUN_H

#include "controller.h"
#include "error.h"

#define SCHED_DEFAULT_SCHEDULER_NAME "default-scheduler"

/* The row start function: registers the scheduler's informers and its runner (a controller
 * whose two workers run the scheduling loop and the queue's 1 s timer until cc->stop fires).
 * The state lives until the next start (or process exit, reachable from a static). */
int sched_run_start(struct ck_controller_context *cc, struct ck_error *err);

#endif
