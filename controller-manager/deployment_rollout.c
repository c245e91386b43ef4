/* deployment_rollout.c - the Deployment strategies (upstream's rolling.go and recreate.go).
 *
 * RollingUpdate: grow the new ReplicaSet while the total stays within replicas + maxSurge,
 * shrink old ones (unhealthy replicas first) while at least replicas - maxUnavailable stay
 * available; one step per sync, the ReplicaSet and pod events drive the next.
 * Recreate: scale every old ReplicaSet to zero, wait until none of their pods is left
 * running, then create or scale the new ReplicaSet to the full count.
 */
#include <stdlib.h>

#include "deployment.h"
#include "deployment_util.h"
#include "json.h"
#include "mem.h"

/* Scales only when the size changes (upstream's scaleReplicaSetAndRecordEvent). */
static int resize(struct dp_ctl *c, const cJSON *d, struct dp_rsset *set, size_t idx, int32_t n,
                  bool *scaled)
{
    if (dp_spec_replicas(set->v[idx]) == n)
        return 0;
    bool s = false;
    int rc = dp_scale_rs(c, d, set, idx, n, &s);
    if (s && scaled)
        *scaled = true;
    return rc;
}

/* upstream's reconcileNewReplicaSet. */
static int reconcile_new(struct dp_ctl *c, const cJSON *d, struct dp_rsset *set, int new_idx,
                         bool *scaled)
{
    int32_t want = dp_spec_replicas(d), have = dp_spec_replicas(set->v[new_idx]);
    if (have == want)
        return 0;
    if (have > want)
        return resize(c, d, set, (size_t)new_idx, want, scaled);
    int32_t n = have;
    struct ck_error err = CK_ERROR_INIT;
    int rc =
        dp_new_rs_new_replicas(d, (const cJSON *const *)set->v, set->n, set->v[new_idx], &n, &err);
    ck_error_clear(&err);
    if (rc < 0)
        return rc;
    return resize(c, d, set, (size_t)new_idx, n, scaled);
}

/* upstream's reconcileOldReplicaSets: the unhealthy clean-up, then the available scale-down. */
static int reconcile_old(struct dp_ctl *c, const cJSON *d, struct dp_rsset *set, int new_idx,
                         bool *scaled)
{
    size_t cap = set->n + 1;
    const cJSON **olds = ck_xmalloc(cap * sizeof(*olds));
    size_t *where = ck_xmalloc(cap * sizeof(*where));
    int32_t *cleaned = ck_xmalloc(cap * sizeof(*cleaned)),
            *sizes = ck_xmalloc(cap * sizeof(*sizes));
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        if ((int)i != new_idx && dp_spec_replicas(set->v[i]) > 0) {
            where[n] = i;
            olds[n++] = set->v[i];
        }
    int rc = 0;
    if (dp_rolling_scale_down_plan(d, olds, n, set->v[new_idx], cleaned, sizes) > 0) {
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = resize(c, d, set, where[i], cleaned[i], scaled);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = resize(c, d, set, where[i], sizes[i], scaled);
    }
    free(olds);
    free(where);
    free(cleaned);
    free(sizes);
    return rc;
}

int dp_rollout_rolling(struct dp_ctl *c, cJSON **d, struct dp_rsset *set)
{
    int new_idx, rc;
    if ((rc = dp_sync_revision(c, d, set, true, &new_idx)) < 0)
        return rc;
    if (new_idx < 0)
        return dp_sync_rollout_status(c, d, set, new_idx);
    bool scaled = false;
    if ((rc = reconcile_new(c, *d, set, new_idx, &scaled)) < 0)
        return rc;
    if (scaled)
        return dp_sync_rollout_status(c, d, set, new_idx);
    if ((rc = reconcile_old(c, *d, set, new_idx, &scaled)) < 0)
        return rc;
    if (scaled)
        return dp_sync_rollout_status(c, d, set, new_idx);
    if (dp_complete(*d, ck_json_get(*d, "status")) && (rc = dp_cleanup(c, *d, set, new_idx)) < 0)
        return rc;
    return dp_sync_rollout_status(c, d, set, new_idx);
}

int dp_rollout_recreate(struct dp_ctl *c, cJSON **d, struct dp_rsset *set)
{
    int new_idx, rc;
    if ((rc = dp_sync_revision(c, d, set, false, &new_idx)) < 0)
        return rc;
    bool scaled = false;
    for (size_t i = 0; i < set->n; i++)
        if ((int)i != new_idx && dp_spec_replicas(set->v[i]) > 0 &&
            (rc = resize(c, *d, set, i, 0, &scaled)) < 0)
            return rc;
    if (scaled || dp_old_pods_running(c, *d, set, new_idx))
        return dp_sync_rollout_status(c, d, set, new_idx);
    if (new_idx < 0) {
        if ((rc = dp_sync_revision(c, d, set, true, &new_idx)) < 0)
            return rc;
        if (new_idx < 0)
            return dp_sync_rollout_status(c, d, set, new_idx);
    }
    if ((rc = resize(c, *d, set, (size_t)new_idx, dp_spec_replicas(*d), NULL)) < 0)
        return rc;
    if (dp_complete(*d, ck_json_get(*d, "status")) && (rc = dp_cleanup(c, *d, set, new_idx)) < 0)
        return rc;
    return dp_sync_rollout_status(c, d, set, new_idx);
}
