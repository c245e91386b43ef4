/* deployment.h - the Deployment controller (upstream's pkg/controller/deployment).
 *
 * deployment.c          the controller: informers, event routing, ReplicaSet claiming, the
 *                       sync entry point, the new ReplicaSet, scaling, clean-up and status;
 * deployment_rollout.c  the strategies: RollingUpdate and Recreate;
 * deployment_util.c     the pure arithmetic (deployment_util.h), unit-tested.
 *
 * The declarations below the start function are shared by deployment*.c only.
 */
#ifndef CKCM_DEPLOYMENT_H
#define CKCM_DEPLOYMENT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "controller.h"

/* Registers the "deployment" controller (informers on deployments, replicasets and pods). */
int deployment_start(struct ck_controller_context *cc, struct ck_error *err);

/* ---- internal to deployment*.c -------------------------------------------------------------- */

struct dp_ctl;

/* The ReplicaSets a Deployment owns, as owned copies kept up to date with the answers of our
 * own updates (so one sync never acts on what it just changed). */
struct dp_rsset {
    cJSON **v;
    size_t n;
};

/* The new ReplicaSet of d in set (index, -1 for none) after syncing its revision and
 * annotations (upstream's getAllReplicaSetsAndSyncRevision); creates it when create is set.
 * d may be replaced by the apiserver's answer. */
int dp_sync_revision(struct dp_ctl *c, cJSON **d, struct dp_rsset *set, bool create, int *new_idx);
/* Scales set->v[idx] to n, recording ScalingReplicaSet; *scaled (may be NULL) tells whether
 * the size changed. */
int dp_scale_rs(struct dp_ctl *c, const cJSON *d, struct dp_rsset *set, size_t idx, int32_t n,
                bool *scaled);
/* Deletes old ReplicaSets beyond spec.revisionHistoryLimit (upstream's cleanupDeployment). */
int dp_cleanup(struct dp_ctl *c, const cJSON *d, struct dp_rsset *set, int new_idx);
/* upstream's syncRolloutStatus: status, Progressing/Available conditions, deadline requeue. */
int dp_sync_rollout_status(struct dp_ctl *c, cJSON **d, struct dp_rsset *set, int new_idx);
/* True while pods of old ReplicaSets are not terminal (upstream's oldPodsRunning). */
bool dp_old_pods_running(struct dp_ctl *c, const cJSON *d, struct dp_rsset *set, int new_idx);

/* deployment_rollout.c */
int dp_rollout_rolling(struct dp_ctl *c, cJSON **d, struct dp_rsset *set);
int dp_rollout_recreate(struct dp_ctl *c, cJSON **d, struct dp_rsset *set);

#endif
