/* deployment_util.h - the pure logic of the Deployment controller (upstream's
 * pkg/controller/deployment/util and the arithmetic of rolling.go, sync.go, progress.go),
 * kept apart from I/O so it can be unit-tested without a cluster.
 *
 * Objects are cJSON trees as the apiserver serves them (apps/v1 Deployment and ReplicaSet);
 * all inputs are borrowed. Arrays of ReplicaSets are `const cJSON *const *rss` plus a count;
 * NULL entries are allowed where upstream allows a nil new ReplicaSet.
 * Times are unix seconds so tests can fix the clock.
 */
#ifndef CKCM_DEPLOYMENT_UTIL_H
#define CKCM_DEPLOYMENT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"

#define DP_HASH_LABEL "pod-template-hash"
#define DP_REVISION_ANN "deployment.kubernetes.io/revision"
#define DP_REVISION_HISTORY_ANN "deployment.kubernetes.io/revision-history"
#define DP_DESIRED_ANN "deployment.kubernetes.io/desired-replicas"
#define DP_MAX_ANN "deployment.kubernetes.io/max-replicas"
#define DP_MAX_REV_HISTORY_LEN 2000 /* upstream's maxRevHistoryLengthInChars */

/* Condition reasons (upstream's deployment util constants). */
#define DP_NEW_RS_REASON "NewReplicaSetCreated"
#define DP_FOUND_NEW_RS_REASON "FoundNewReplicaSet"
#define DP_RS_UPDATED_REASON "ReplicaSetUpdated"
#define DP_NEW_RS_AVAILABLE_REASON "NewReplicaSetAvailable"
#define DP_TIMED_OUT_REASON "ProgressDeadlineExceeded"
#define DP_PAUSED_REASON "DeploymentPaused"
#define DP_RESUMED_REASON "DeploymentResumed"
#define DP_FAILED_RS_CREATE_REASON "ReplicaSetCreateError"
#define DP_MIN_AVAILABLE_REASON "MinimumReplicasAvailable"
#define DP_MIN_UNAVAILABLE_REASON "MinimumReplicasUnavailable"

/* ---- pod-template-hash ---------------------------------------------------------------------- */

/* FNV-1a, 32 bits, continuing from h (start with DP_FNV32_OFFSET). */
#define DP_FNV32_OFFSET 2166136261u
uint32_t dp_fnv32a(uint32_t h, const void *data, size_t len);
/* upstream's rand.SafeEncodeString: every byte of s mapped into "bcdfghjklmnpqrstvwxz2456789"
 * (no vowels, no look-alikes). Exact for ASCII, which is all the hash feeds it (upstream maps
 * runes, so non-ASCII input would differ). Caller frees. */
char *dp_safe_encode(const char *s);
/* The pod-template-hash of tmpl (a PodTemplateSpec) and collision_count (NULL: none): upstream's
 * ComputeHash value (fnv32a of go-spew's rendering of the Go struct, see spewhash.h, then of the
 * count as 8 little-endian bytes, printed in decimal and safe-encoded). A template spewhash
 * cannot render exactly is hashed over our canonical JSON instead, with a warning. Caller frees. */
char *dp_compute_hash(const cJSON *tmpl, const int64_t *collision_count);
/* upstream's EqualIgnoreHash: the templates are equal once pod-template-hash is dropped from
 * both label sets. */
bool dp_equal_ignore_hash(const cJSON *t1, const cJSON *t2);

/* ---- replica arithmetic --------------------------------------------------------------------- */

/* spec.replicas of a Deployment or ReplicaSet (defaulted: 1 when absent). */
int32_t dp_spec_replicas(const cJSON *obj);
bool dp_is_rolling(const cJSON *d);
/* ResolveFenceposts of d's rollingUpdate against spec.replicas (maxSurge rounds up,
 * maxUnavailable down, both 0 -> unavailable 1). -EINVAL with err on a bad value. */
int dp_resolve_fenceposts(const cJSON *d, int32_t *surge, int32_t *unavailable,
                          struct ck_error *err);
/* upstream's MaxSurge / MaxUnavailable (0 for Recreate; unavailable capped at replicas). */
int32_t dp_max_surge(const cJSON *d);
int32_t dp_max_unavailable(const cJSON *d);
/* Sums over rss of spec.replicas, status.replicas, status.readyReplicas,
 * status.availableReplicas (NULL entries skipped). */
int32_t dp_sum_spec(const cJSON *const *rss, size_t n);
int32_t dp_sum_status(const cJSON *const *rss, size_t n, const char *field);
/* upstream's NewRSNewReplicas: how many replicas the new ReplicaSet may have now. */
int dp_new_rs_new_replicas(const cJSON *d, const cJSON *const *all, size_t n, const cJSON *new_rs,
                           int32_t *out, struct ck_error *err);
/* upstream's IsSaturated: new_rs runs d's full, available size. */
bool dp_is_saturated(const cJSON *d, const cJSON *new_rs);
/* The int annotation key of obj into *out; false when absent or not a number. */
bool dp_int_annotation(const cJSON *obj, const char *key, int32_t *out);

/* Proportional scaling (upstream's scale() for a RollingUpdate Deployment whose replicas
 * changed mid-rollout): the new size of each of the n active ReplicaSets rss, into sizes[].
 * Larger ReplicaSets get more of the difference; ties go to the newer one when growing, the
 * older one when shrinking; the rounding leftover goes to the first in that order. */
void dp_proportional_sizes(const cJSON *d, const cJSON *const *rss, size_t n, int32_t *sizes);

/* Rolling update scale-down plan for the old ReplicaSets (upstream's reconcileOldReplicaSets):
 * first the unhealthy replicas, oldest ReplicaSet first (sizes after that step into
 * cleaned[]), then available ones down to replicas - maxUnavailable (final sizes into
 * sizes[]). olds[] are the active old ReplicaSets. Returns how many replicas are scaled down
 * in total. */
int32_t dp_rolling_scale_down_plan(const cJSON *d, const cJSON *const *olds, size_t n,
                                   const cJSON *new_rs, int32_t *cleaned, int32_t *sizes);

/* ---- ordering ------------------------------------------------------------------------------- */

/* Sorts rss oldest first (creationTimestamp, then name): ReplicaSetsByCreationTimestamp. */
void dp_sort_by_creation(const cJSON **rss, size_t n);
/* The revision annotation of obj (0 when absent or bad). */
int64_t dp_revision(const cJSON *obj);
int64_t dp_max_revision(const cJSON *const *rss, size_t n);
/* Sorts rss by revision, then creation (ReplicaSetsByRevision). */
void dp_sort_by_revision(const cJSON **rss, size_t n);
/* Index of the ReplicaSet whose template equals d's (the oldest such), or -1. */
int dp_find_new_rs(const cJSON *d, const cJSON *const *rss, size_t n);

/* ---- annotations ---------------------------------------------------------------------------- */

/* upstream's ReplicasAnnotationsNeedUpdate / SetReplicasAnnotations (rs modified in place). */
bool dp_replicas_annotations_need_update(const cJSON *rs, int32_t desired, int32_t max);
bool dp_set_replicas_annotations(cJSON *rs, int32_t desired, int32_t max);
/* upstream's SetNewReplicaSetAnnotations: copies d's annotations (but the controller's own
 * and kubectl's last-applied), raises the revision to new_revision keeping the previous one in
 * revision-history (bounded to DP_MAX_REV_HISTORY_LEN chars), and for a ReplicaSet not yet
 * created (!exists) the replicas annotations. Returns true when rs changed. */
bool dp_set_new_rs_annotations(const cJSON *d, cJSON *rs, const char *new_revision, bool exists);
/* Sets d's revision annotation (d modified in place); true when it changed. */
bool dp_set_deployment_revision(cJSON *d, const char *revision);

/* ---- status and conditions ------------------------------------------------------------------ */

/* A new DeploymentCondition with both times at now (caller owns it). */
cJSON *dp_condition_new(const char *type, const char *status, const char *reason,
                        const char *message, int64_t now);
/* The condition of that type in a DeploymentStatus (borrowed), or NULL. */
const cJSON *dp_condition_get(const cJSON *status, const char *type);
/* upstream's SetDeploymentCondition: no-op when status and reason are unchanged; keeps
 * lastTransitionTime when only the reason changes; the condition moves to the end. Takes
 * cond. */
void dp_condition_set(cJSON *status, cJSON *cond);
void dp_condition_remove(cJSON *status, const char *type);
/* upstream's calculateStatus: counts from the ReplicaSets plus the Available condition
 * (MinimumReplicasAvailable / MinimumReplicasUnavailable). Caller owns the result. */
cJSON *dp_calculate_status(const cJSON *d, const cJSON *const *all, size_t n, const cJSON *new_rs,
                           int64_t now);
bool dp_has_progress_deadline(const cJSON *d);
/* upstream's DeploymentComplete, DeploymentProgressing, DeploymentTimedOut. */
bool dp_complete(const cJSON *d, const cJSON *status);
bool dp_progressing(const cJSON *d, const cJSON *status);
bool dp_timed_out(const cJSON *d, const cJSON *status, int64_t now);
/* The Progressing/ReplicaFailure part of upstream's syncRolloutStatus applied to new_status
 * (computed by dp_calculate_status): NewReplicaSetAvailable, ReplicaSetUpdated or
 * ProgressDeadlineExceeded with upstream's messages. new_rs may be NULL. */
void dp_rollout_conditions(const cJSON *d, cJSON *new_status, const cJSON *new_rs,
                           const cJSON *const *all, size_t n, int64_t now);
/* upstream's checkPausedConditions: the Progressing condition for a paused or resumed
 * Deployment; returns true when status (d's, modified in place) changed. */
bool dp_paused_conditions(cJSON *d, int64_t now);
/* Seconds until the Progressing deadline of d should be re-checked (requeueStuckDeployment);
 * -1 when no re-check is needed. */
int64_t dp_requeue_after(const cJSON *d, const cJSON *new_status, int64_t now);

#endif
