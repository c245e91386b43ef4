/* deployment.c - the Deployment controller (upstream's DeploymentController, sync.go,
 * progress.go): rolls a Deployment's pod template out through ReplicaSets it owns.
 *
 *  - claims ReplicaSets as upstream's ReplicaSetControllerRefManager: adopts matching orphans
 *    (ownerReference apps/v1 Deployment, controller=true, blockOwnerDeletion=true), releases
 *    owned ones whose labels stopped matching;
 *  - finds or creates the new ReplicaSet "<deployment>-<pod-template-hash>" (hash label on its
 *    selector, template and labels; collisionCount bumped when the name is taken by another
 *    template), syncing the revision annotations on it and on the Deployment;
 *  - paused Deployments and replica changes only scale (proportionally mid-rollout);
 *    otherwise the strategy runs (deployment_rollout.c);
 *  - old ReplicaSets beyond revisionHistoryLimit are deleted once scaled to zero;
 *  - status and the Available / Progressing conditions, re-checked at the progress deadline;
 *  - events ScalingReplicaSet and SelectorNone with upstream's text.
 * The start function is deployment_start (row "deployment-controller" in main.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deployment.h"
#include "deployment_util.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "selector.h"
#include "timeutil.h"

static const struct ck_gvr dep_gvr = {"apps", "v1", "deployments"};
static const struct ck_gvr rs_gvr = {"apps", "v1", "replicasets"};
static const struct ck_gvr pod_gvr = {"", "v1", "pods"};

struct dp_ctl {
    struct ck_client *client;
    struct ck_store *deps, *rss, *pods; /* informer stores (thread-safe) */
    struct ck_event_recorder *recorder; /* may be NULL */
    struct ck_controller *ctl;
};

static int64_t now_s(void)
{
    struct timespec ts;
    ck_time_now(&ts);
    return (int64_t)ts.tv_sec;
}

static const char *name_of(const cJSON *o)
{
    return ck_json_get_string(o, "metadata.name", "");
}

static const char *uid_of(const cJSON *o)
{
    return ck_json_get_string(o, "metadata.uid", "");
}

/* The controller ownerReference of obj (borrowed), or NULL. */
static const cJSON *controller_of(const cJSON *obj)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, ck_json_get(obj, "metadata.ownerReferences"))
    {
        if (ck_json_get_bool(ref, "controller", false))
            return ref;
    }
    return NULL;
}

static void set_free(struct dp_rsset *s)
{
    for (size_t i = 0; i < s->n; i++)
        cJSON_Delete(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void set_add(struct dp_rsset *s, cJSON *rs)
{
    s->v = ck_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
    s->v[s->n++] = rs;
}

static void event(struct dp_ctl *c, const cJSON *d, const char *type, const char *reason,
                  const char *msg)
{
    if (c->recorder)
        ck_event_record(c->recorder, d, type, reason, msg);
}

/* PUTs *d's status; on success *d becomes the apiserver's answer. */
static int update_status(struct dp_ctl *c, cJSON **d)
{
    cJSON *out = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_update_status(c->client, &dep_gvr, NULL, *d, &out, &err);
    if (rc < 0) {
        if (rc != -ENOENT && err.code != 409)
            ck_warn("updating status of deployment %s: %s", name_of(*d), err.message);
        if (rc == -ENOENT)
            rc = 0;
    } else if (out) {
        cJSON_Delete(*d);
        *d = out;
        out = NULL;
    }
    cJSON_Delete(out);
    ck_error_clear(&err);
    return rc;
}

/* PUTs rs (taken) as set->v[idx]; on success the slot holds the apiserver's answer. */
static int update_rs(struct dp_ctl *c, struct dp_rsset *set, size_t idx, cJSON *rs)
{
    cJSON *out = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_update(c->client, &rs_gvr, NULL, rs, &out, &err);
    if (rc < 0 && err.code != 409)
        ck_warn("updating replicaset %s: %s", name_of(rs), err.message);
    if (rc == 0 && out) {
        cJSON_Delete(set->v[idx]);
        set->v[idx] = out;
        out = NULL;
    }
    cJSON_Delete(out);
    cJSON_Delete(rs);
    ck_error_clear(&err);
    return rc;
}

/* ---- claiming ReplicaSets ------------------------------------------------------------------- */

static cJSON *owner_ref(const cJSON *d)
{
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddStringToObject(ref, "apiVersion", "apps/v1");
    cJSON_AddStringToObject(ref, "kind", "Deployment");
    cJSON_AddStringToObject(ref, "name", name_of(d));
    cJSON_AddStringToObject(ref, "uid", uid_of(d));
    cJSON_AddBoolToObject(ref, "controller", true);
    cJSON_AddBoolToObject(ref, "blockOwnerDeletion", true);
    return ref;
}

/* Adopts (adopt) or releases rs by patching its ownerReferences, guarded by its
 * resourceVersion. *out gets the patched ReplicaSet (caller owns) when asked for. */
static int patch_owner(struct dp_ctl *c, const cJSON *d, const cJSON *rs, bool adopt, cJSON **out)
{
    cJSON *patch = cJSON_CreateObject();
    cJSON *md = cJSON_AddObjectToObject(patch, "metadata");
    cJSON_AddStringToObject(md, "resourceVersion",
                            ck_json_get_string(rs, "metadata.resourceVersion", ""));
    cJSON *refs = cJSON_AddArrayToObject(md, "ownerReferences");
    const cJSON *ref;
    cJSON_ArrayForEach(ref, ck_json_get(rs, "metadata.ownerReferences"))
    {
        if (strcmp(ck_json_get_string(ref, "uid", ""), uid_of(d)))
            cJSON_AddItemToArray(refs, ck_json_dup(ref));
    }
    if (adopt)
        cJSON_AddItemToArray(refs, owner_ref(d));
    if (!refs->child)
        cJSON_ReplaceItemInObjectCaseSensitive(md, "ownerReferences", cJSON_CreateNull());
    CK_AUTOFREE char *body = ck_json_print(patch, 0);
    cJSON_Delete(patch);
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_patch(c->client, &rs_gvr, ck_json_get_string(rs, "metadata.namespace", ""),
                             name_of(rs), NULL, CK_PATCH_MERGE, body, NULL, out, &err);
    if (rc < 0 && rc != -ENOENT)
        ck_warn("%s replicaset %s: %s", adopt ? "adopting" : "releasing", name_of(rs), err.message);
    ck_error_clear(&err);
    return rc == -ENOENT ? 0 : rc;
}

/* upstream's RecheckDeletionTimestamp before the first adoption: the live Deployment must
 * still be this one (same uid) and not being deleted; the cache may be behind. */
static bool can_adopt(struct dp_ctl *c, const cJSON *d)
{
    cJSON *live = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_get(c->client, &dep_gvr, ck_json_get_string(d, "metadata.namespace", ""),
                           name_of(d), &live, &err);
    bool ok = rc == 0 && !strcmp(uid_of(live), uid_of(d)) &&
              !ck_json_get(live, "metadata.deletionTimestamp");
    if (rc < 0 && rc != -ENOENT)
        ck_warn("deployment %s: checking before adoption: %s", name_of(d), err.message);
    ck_error_clear(&err);
    cJSON_Delete(live);
    return ok;
}

/* The ReplicaSets d owns after adoption and release (upstream's getReplicaSetsForDeployment). */
static int claim_rss(struct dp_ctl *c, const cJSON *d, const struct ck_label_selector *sel,
                     struct dp_rsset *set)
{
    bool deleting = ck_json_get(d, "metadata.deletionTimestamp") != NULL;
    int adoptable = -1; /* unknown until the first orphan */
    struct ck_obj_list all = CK_OBJ_LIST_INIT;
    ck_store_list_namespace(c->rss, ck_json_get_string(d, "metadata.namespace", ""), &all);
    int rc = 0;
    for (size_t i = 0; i < all.n; i++) {
        const cJSON *rs = all.items[i]->json;
        const cJSON *ref = controller_of(rs);
        bool matches = ck_label_selector_matches(sel, ck_json_get(rs, "metadata.labels"));
        if (ref) {
            if (strcmp(ck_json_get_string(ref, "uid", ""), uid_of(d)))
                continue;
            if (matches)
                set_add(set, ck_json_dup(rs));
            else if (!deleting && patch_owner(c, d, rs, false, NULL) < 0)
                rc = -EAGAIN;
            continue;
        }
        if (!matches || deleting || ck_json_get(rs, "metadata.deletionTimestamp"))
            continue;
        if (adoptable < 0)
            adoptable = can_adopt(c, d);
        if (!adoptable)
            continue;
        cJSON *adopted = NULL;
        if (patch_owner(c, d, rs, true, &adopted) < 0)
            rc = -EAGAIN;
        else if (adopted)
            set_add(set, adopted);
    }
    ck_obj_list_free(&all);
    return rc;
}

/* ---- the new ReplicaSet and revisions ------------------------------------------------------- */

/* The ReplicaSet object for d's current template (caller owns), with name and hash. */
static cJSON *new_rs_object(const cJSON *d, int32_t replicas)
{
    const cJSON *ccj = ck_json_get(d, "status.collisionCount");
    int64_t cc = ck_json_as_int64(ccj, 0);
    const cJSON *tmpl = ck_json_get(d, "spec.template");
    CK_AUTOFREE char *hash = dp_compute_hash(tmpl, ccj ? &cc : NULL);
    CK_AUTOFREE char *name = ck_xasprintf("%s-%s", name_of(d), hash);
    cJSON *rs = cJSON_CreateObject();
    cJSON_AddStringToObject(rs, "apiVersion", "apps/v1");
    cJSON_AddStringToObject(rs, "kind", "ReplicaSet");
    cJSON *md = cJSON_AddObjectToObject(rs, "metadata");
    cJSON_AddStringToObject(md, "name", name);
    cJSON_AddStringToObject(md, "namespace", ck_json_get_string(d, "metadata.namespace", ""));
    cJSON *refs = cJSON_AddArrayToObject(md, "ownerReferences");
    cJSON_AddItemToArray(refs, owner_ref(d));
    cJSON *t = tmpl ? ck_json_dup(tmpl) : cJSON_CreateObject();
    ck_json_setv(t, cJSON_CreateString(hash), "metadata", "labels", DP_HASH_LABEL, NULL);
    cJSON_AddItemToObject(md, "labels", ck_json_dup(ck_json_get(t, "metadata.labels")));
    cJSON *spec = cJSON_AddObjectToObject(rs, "spec");
    cJSON_AddItemToObject(spec, "replicas", ck_json_new_int64(replicas));
    cJSON_AddItemToObject(spec, "minReadySeconds",
                          ck_json_new_int64(ck_json_get_int64(d, "spec.minReadySeconds", 0)));
    const cJSON *dsel = ck_json_get(d, "spec.selector");
    cJSON *sel = dsel ? ck_json_dup(dsel) : cJSON_CreateObject();
    ck_json_setv(sel, cJSON_CreateString(hash), "matchLabels", DP_HASH_LABEL, NULL);
    cJSON_AddItemToObject(spec, "selector", sel);
    cJSON_AddItemToObject(spec, "template", t);
    return rs;
}

/* Records the Progressing condition reason/message on d's status when d has a deadline. */
static void progressing(cJSON *d, const char *status, const char *reason, const char *msg)
{
    cJSON *st = ck_json_ensure_object(d, "status");
    if (st)
        dp_condition_set(st, dp_condition_new("Progressing", status, reason, msg, now_s()));
}

/* Creates the new ReplicaSet (upstream's getNewReplicaSet, creating half). */
static int create_new_rs(struct dp_ctl *c, cJSON **d, struct dp_rsset *set, const char *revision,
                         int *new_idx)
{
    cJSON *rs = new_rs_object(*d, 0);
    /* the replicas it may start with count the new one itself (at 0) */
    set_add(set, ck_json_dup(rs));
    int32_t want = 0;
    struct ck_error err = CK_ERROR_INIT;
    int rc = dp_new_rs_new_replicas(*d, (const cJSON *const *)set->v, set->n, rs, &want, &err);
    cJSON_Delete(set->v[--set->n]);
    if (rc < 0) {
        ck_warn("deployment %s: %s", name_of(*d), err.message);
        ck_error_clear(&err);
        cJSON_Delete(rs);
        return rc;
    }
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(rs, "spec"), "replicas",
                                           ck_json_new_int64(want));
    dp_set_new_rs_annotations(*d, rs, revision, false);
    CK_AUTOFREE char *rsname = ck_xstrdup(name_of(rs));
    cJSON *out = NULL;
    rc = ck_client_create(c->client, &rs_gvr, NULL, rs, &out, &err);
    bool existed = false;
    if (rc == -EEXIST && !strcmp(err.reason, "AlreadyExists")) {
        ck_error_clear(&err);
        cJSON *cur = NULL;
        rc = ck_client_get(c->client, &rs_gvr, ck_json_get_string(*d, "metadata.namespace", ""),
                           rsname, &cur, &err);
        if (rc < 0) {
            ck_error_clear(&err);
            cJSON_Delete(rs);
            return rc;
        }
        const cJSON *ref = controller_of(cur);
        if (ref && !strcmp(ck_json_get_string(ref, "uid", ""), uid_of(*d)) &&
            dp_equal_ignore_hash(ck_json_get(*d, "spec.template"),
                                 ck_json_get(cur, "spec.template"))) {
            out = cur; /* ours, created by an earlier sync the cache has not seen yet */
            existed = true;
            rc = 0;
        } else {
            /* a hash collision: a different template owns the name; try the next count */
            cJSON_Delete(cur);
            int64_t cc = ck_json_get_int64(*d, "status.collisionCount", 0);
            cJSON *st = ck_json_ensure_object(*d, "status");
            if (st) {
                cJSON_DeleteItemFromObjectCaseSensitive(st, "collisionCount");
                cJSON_AddItemToObject(st, "collisionCount", ck_json_new_int64(cc + 1));
            }
            if (update_status(c, d) == 0)
                ck_info("deployment %s: found a hash collision, collisionCount %lld -> %lld",
                        name_of(*d), (long long)cc, (long long)cc + 1);
            cJSON_Delete(rs);
            return -EEXIST;
        }
    } else if (rc < 0) {
        if (dp_has_progress_deadline(*d)) {
            CK_AUTOFREE char *m =
                ck_xasprintf("Failed to create new replica set \"%s\": %s", rsname, err.message);
            progressing(*d, "False", DP_FAILED_RS_CREATE_REASON, m);
            update_status(c, d);
        }
        ck_warn("deployment %s: creating replicaset %s: %s", name_of(*d), rsname, err.message);
        ck_error_clear(&err);
        cJSON_Delete(rs);
        return rc;
    }
    cJSON_Delete(rs);
    ck_error_clear(&err);
    if (!existed && want > 0) {
        CK_AUTOFREE char *m =
            ck_xasprintf("Scaled up replica set %s from 0 to %d", rsname, (int)want);
        event(c, *d, CK_EVENT_NORMAL, "ScalingReplicaSet", m);
    }
    set_add(set, out);
    *new_idx = (int)set->n - 1;
    bool needs = dp_set_deployment_revision(*d, revision);
    if (!existed && dp_has_progress_deadline(*d)) {
        CK_AUTOFREE char *m = ck_xasprintf("Created new replica set \"%s\"", rsname);
        progressing(*d, "True", DP_NEW_RS_REASON, m);
        needs = true;
    }
    return needs ? update_status(c, d) : 0;
}

int dp_sync_revision(struct dp_ctl *c, cJSON **d, struct dp_rsset *set, bool create, int *new_idx)
{
    int idx = dp_find_new_rs(*d, (const cJSON *const *)set->v, set->n);
    int64_t maxrev = 0;
    for (size_t i = 0; i < set->n; i++) {
        int64_t r = (int)i == idx ? 0 : dp_revision(set->v[i]);
        if (r > maxrev)
            maxrev = r;
    }
    char rev[24];
    snprintf(rev, sizeof(rev), "%lld", (long long)maxrev + 1);
    *new_idx = -1;
    if (idx < 0)
        return create ? create_new_rs(c, d, set, rev, new_idx) : 0;
    cJSON *copy = ck_json_dup(set->v[idx]);
    bool changed = dp_set_new_rs_annotations(*d, copy, rev, true);
    int64_t mrs = ck_json_get_int64(*d, "spec.minReadySeconds", 0);
    if (ck_json_get_int64(copy, "spec.minReadySeconds", 0) != mrs) {
        ck_json_set_int64(copy, "spec.minReadySeconds", mrs);
        changed = true;
    }
    int rc = 0;
    if (changed) {
        if ((rc = update_rs(c, set, (size_t)idx, copy)) < 0)
            return rc;
    } else {
        cJSON_Delete(copy);
    }
    *new_idx = idx;
    const cJSON *a = ck_json_get(set->v[idx], "metadata.annotations");
    const char *cur = ck_json_as_string(cJSON_GetObjectItemCaseSensitive(a, DP_REVISION_ANN), "");
    bool needs = dp_set_deployment_revision(*d, cur);
    if (dp_has_progress_deadline(*d) &&
        !dp_condition_get(ck_json_get(*d, "status"), "Progressing")) {
        CK_AUTOFREE char *m = ck_xasprintf("Found new replica set \"%s\"", name_of(set->v[idx]));
        progressing(*d, "True", DP_FOUND_NEW_RS_REASON, m);
        needs = true;
    }
    return needs ? update_status(c, d) : 0;
}

/* ---- scaling -------------------------------------------------------------------------------- */

int dp_scale_rs(struct dp_ctl *c, const cJSON *d, struct dp_rsset *set, size_t idx, int32_t n,
                bool *scaled)
{
    if (scaled)
        *scaled = false;
    const cJSON *rs = set->v[idx];
    int32_t cur = dp_spec_replicas(rs), want = dp_spec_replicas(d);
    int32_t max = want + dp_max_surge(d);
    bool size = cur != n;
    if (!size && !dp_replicas_annotations_need_update(rs, want, max))
        return 0;
    CK_AUTOFREE char *name = ck_xstrdup(name_of(rs));
    cJSON *copy = ck_json_dup(rs);
    ck_json_set_int64(copy, "spec.replicas", n);
    dp_set_replicas_annotations(copy, want, max);
    int rc = update_rs(c, set, idx, copy);
    if (rc == 0 && size) {
        CK_AUTOFREE char *m = ck_xasprintf("Scaled %s replica set %s from %d to %d",
                                           cur < n ? "up" : "down", name, (int)cur, (int)n);
        event(c, d, CK_EVENT_NORMAL, "ScalingReplicaSet", m);
        if (scaled)
            *scaled = true;
    }
    return rc;
}

/* upstream's scaleReplicaSetAndRecordEvent: only a size change is worth an update here. */
static int scale_if_needed(struct dp_ctl *c, const cJSON *d, struct dp_rsset *set, size_t idx,
                           int32_t n)
{
    if (dp_spec_replicas(set->v[idx]) == n)
        return 0;
    return dp_scale_rs(c, d, set, idx, n, NULL);
}

/* upstream's scale(): brings the ReplicaSets to d's replica count without rolling. */
static int scale(struct dp_ctl *c, const cJSON *d, struct dp_rsset *set, int new_idx)
{
    int32_t want = dp_spec_replicas(d);
    size_t nactive = 0, active = 0;
    for (size_t i = 0; i < set->n; i++)
        if (dp_spec_replicas(set->v[i]) > 0) {
            nactive++;
            active = i;
        }
    /* FindActiveOrLatest: the one active, or the newest when none is */
    int target = -1;
    if (nactive == 1) {
        target = (int)active;
    } else if (nactive == 0) {
        if (new_idx >= 0) {
            target = new_idx;
        } else {
            for (size_t i = 0; i < set->n; i++) {
                const cJSON *a = set->v[i], *b = target >= 0 ? set->v[target] : NULL;
                const cJSON *pair[2] = {a, b};
                if (!b) {
                    target = (int)i;
                    continue;
                }
                dp_sort_by_creation(pair, 2);
                if (pair[1] == a)
                    target = (int)i;
            }
        }
    }
    if (target >= 0)
        return scale_if_needed(c, d, set, (size_t)target, want);
    const cJSON *new_rs = new_idx >= 0 ? set->v[new_idx] : NULL;
    int rc = 0;
    if (dp_is_saturated(d, new_rs)) {
        for (size_t i = 0; i < set->n && rc == 0; i++)
            if ((int)i != new_idx && dp_spec_replicas(set->v[i]) > 0)
                rc = scale_if_needed(c, d, set, i, 0);
        return rc;
    }
    if (!dp_is_rolling(d))
        return 0;
    const cJSON **act = ck_xmalloc((set->n + 1) * sizeof(*act));
    size_t *where = ck_xmalloc((set->n + 1) * sizeof(*where));
    int32_t *sizes = ck_xmalloc((set->n + 1) * sizeof(*sizes));
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        if (dp_spec_replicas(set->v[i]) > 0) {
            where[n] = i;
            act[n++] = set->v[i];
        }
    dp_proportional_sizes(d, act, n, sizes);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = dp_scale_rs(c, d, set, where[i], sizes[i], NULL);
    free(act);
    free(where);
    free(sizes);
    return rc;
}

/* upstream's isScalingEvent: an active ReplicaSet was sized for another replica count. */
static bool scaling_event(const cJSON *d, const struct dp_rsset *set)
{
    for (size_t i = 0; i < set->n; i++) {
        int32_t desired;
        if (dp_spec_replicas(set->v[i]) > 0 &&
            dp_int_annotation(set->v[i], DP_DESIRED_ANN, &desired) &&
            desired != dp_spec_replicas(d))
            return true;
    }
    return false;
}

/* ---- clean-up and status -------------------------------------------------------------------- */

int dp_cleanup(struct dp_ctl *c, const cJSON *d, struct dp_rsset *set, int new_idx)
{
    const cJSON *limj = ck_json_get(d, "spec.revisionHistoryLimit");
    if (!cJSON_IsNumber(limj))
        return 0;
    int64_t limit = ck_json_as_int64(limj, 0);
    const cJSON **old = ck_xmalloc((set->n + 1) * sizeof(*old));
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        if ((int)i != new_idx && !ck_json_get(set->v[i], "metadata.deletionTimestamp"))
            old[n++] = set->v[i];
    int rc = 0;
    if ((int64_t)n > limit) {
        dp_sort_by_revision(old, n);
        for (size_t i = 0; i < (size_t)((int64_t)n - limit); i++) {
            const cJSON *rs = old[i];
            if (ck_json_get_int64(rs, "status.replicas", 0) != 0 || dp_spec_replicas(rs) != 0 ||
                ck_json_get_int64(rs, "metadata.generation", 0) >
                    ck_json_get_int64(rs, "status.observedGeneration", 0))
                continue;
            struct ck_error err = CK_ERROR_INIT;
            int r = ck_client_delete(c->client, &rs_gvr,
                                     ck_json_get_string(rs, "metadata.namespace", ""), name_of(rs),
                                     NULL, NULL, &err);
            if (r < 0 && r != -ENOENT) {
                ck_warn("deployment %s: deleting old replicaset %s: %s", name_of(d), name_of(rs),
                        err.message);
                rc = r;
            }
            ck_error_clear(&err);
        }
    }
    free(old);
    return rc;
}

/* upstream's syncDeploymentStatus: counts and Available only. */
static int sync_status(struct dp_ctl *c, cJSON **d, struct dp_rsset *set, int new_idx)
{
    cJSON *ns = dp_calculate_status(*d, (const cJSON *const *)set->v, set->n,
                                    new_idx >= 0 ? set->v[new_idx] : NULL, now_s());
    if (ck_json_equal(ck_json_get(*d, "status"), ns)) {
        cJSON_Delete(ns);
        return 0;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(*d, "status");
    cJSON_AddItemToObject(*d, "status", ns);
    return update_status(c, d);
}

int dp_sync_rollout_status(struct dp_ctl *c, cJSON **d, struct dp_rsset *set, int new_idx)
{
    int64_t now = now_s();
    const cJSON *new_rs = new_idx >= 0 ? set->v[new_idx] : NULL;
    const cJSON *const *all = (const cJSON *const *)set->v;
    cJSON *ns = dp_calculate_status(*d, all, set->n, new_rs, now);
    dp_rollout_conditions(*d, ns, new_rs, all, set->n, now);
    if (ck_json_equal(ck_json_get(*d, "status"), ns)) {
        int64_t after = dp_requeue_after(*d, ns, now);
        cJSON_Delete(ns);
        if (after >= 0) {
            CK_AUTOFREE char *key = ck_object_key(*d);
            if (key)
                ck_controller_enqueue_after(c->ctl, key,
                                            after > 0 ? after * CK_SECOND : CK_SECOND / 2);
        }
        return 0;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(*d, "status");
    cJSON_AddItemToObject(*d, "status", ns);
    return update_status(c, d);
}

bool dp_old_pods_running(struct dp_ctl *c, const cJSON *d, struct dp_rsset *set, int new_idx)
{
    for (size_t i = 0; i < set->n; i++)
        if ((int)i != new_idx && ck_json_get_int64(set->v[i], "status.replicas", 0) > 0)
            return true;
    struct ck_obj_list pods = CK_OBJ_LIST_INIT;
    ck_store_list_namespace(c->pods, ck_json_get_string(d, "metadata.namespace", ""), &pods);
    bool running = false;
    for (size_t i = 0; i < pods.n && !running; i++) {
        const cJSON *pod = pods.items[i]->json;
        const cJSON *ref = controller_of(pod);
        if (!ref)
            continue;
        const char *phase = ck_json_get_string(pod, "status.phase", "");
        if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))
            continue;
        const char *puid = ck_json_get_string(ref, "uid", "");
        for (size_t j = 0; j < set->n; j++)
            if ((int)j != new_idx && !strcmp(puid, uid_of(set->v[j])))
                running = true;
    }
    ck_obj_list_free(&pods);
    return running;
}

/* ---- sync ----------------------------------------------------------------------------------- */

/* upstream's sync(): scaling only (paused Deployments, replica changes). */
static int scale_only(struct dp_ctl *c, cJSON **d, struct dp_rsset *set)
{
    int new_idx, rc;
    if ((rc = dp_sync_revision(c, d, set, false, &new_idx)) < 0)
        return rc;
    if ((rc = scale(c, *d, set, new_idx)) < 0)
        return rc;
    if (ck_json_get_bool(*d, "spec.paused", false) && (rc = dp_cleanup(c, *d, set, new_idx)) < 0)
        return rc;
    return sync_status(c, d, set, new_idx);
}

static bool selector_empty(const cJSON *sel)
{
    const cJSON *ml = ck_json_get(sel, "matchLabels"), *me = ck_json_get(sel, "matchExpressions");
    return !(cJSON_IsObject(ml) && ml->child) && !(cJSON_IsArray(me) && me->child);
}

static int sync_deployment(struct dp_ctl *c, cJSON **d)
{
    const cJSON *seljson = ck_json_get(*d, "spec.selector");
    if (selector_empty(seljson)) {
        event(c, *d, CK_EVENT_WARNING, "SelectorNone",
              "This deployment is selecting all pods. A non-empty selector is required.");
        int64_t gen = ck_json_get_int64(*d, "metadata.generation", 0);
        if (ck_json_get_int64(*d, "status.observedGeneration", 0) < gen) {
            ck_json_set_int64(*d, "status.observedGeneration", gen);
            return update_status(c, d);
        }
        return 0;
    }
    struct ck_label_selector *sel = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_label_selector_from_json(seljson, &sel, &err) < 0) {
        ck_warn("deployment %s has an invalid selector: %s", name_of(*d), err.message);
        ck_error_clear(&err);
        return 0;
    }
    struct dp_rsset set = {NULL, 0};
    int rc = claim_rss(c, *d, sel, &set);
    ck_label_selector_free(sel);
    int new_idx;
    if (rc < 0) {
        /* a failed adoption or release: retry the whole sync later */
    } else if (ck_json_get(*d, "metadata.deletionTimestamp")) {
        if ((rc = dp_sync_revision(c, d, &set, false, &new_idx)) == 0)
            rc = sync_status(c, d, &set, new_idx);
    } else if (dp_paused_conditions(*d, now_s()) && (rc = update_status(c, d)) < 0) {
        /* requeued */
    } else if (ck_json_get_bool(*d, "spec.paused", false)) {
        rc = scale_only(c, d, &set);
    } else if ((rc = dp_sync_revision(c, d, &set, false, &new_idx)) < 0) {
        /* requeued */
    } else if (scaling_event(*d, &set)) {
        rc = scale_only(c, d, &set);
    } else if (!strcmp(ck_json_get_string(*d, "spec.strategy.type", ""), "Recreate")) {
        rc = dp_rollout_recreate(c, d, &set);
    } else {
        rc = dp_rollout_rolling(c, d, &set);
    }
    set_free(&set);
    return rc;
}

static int dp_sync(void *ctx, const char *key)
{
    struct dp_ctl *c = ctx;
    cJSON *d = ck_store_get_copy(c->deps, key);
    if (!d)
        return 0;
    int rc = sync_deployment(c, &d);
    cJSON_Delete(d);
    return rc;
}

/* ---- event routing -------------------------------------------------------------------------- */

/* The Deployment keys of a ReplicaSet: its controller, or (orphans) every selecting one. */
static void rs_keys(void *ctx, const struct ck_obj *obj, struct ck_strlist *keys)
{
    struct dp_ctl *c = ctx;
    const cJSON *rs = obj->json;
    const char *ns = ck_json_get_string(rs, "metadata.namespace", "");
    const cJSON *ref = controller_of(rs);
    if (ref) {
        if (!strcmp(ck_json_get_string(ref, "kind", ""), "Deployment")) {
            CK_AUTOFREE char *k = ck_xasprintf("%s/%s", ns, ck_json_get_string(ref, "name", ""));
            ck_strlist_add(keys, k);
        }
        return;
    }
    struct ck_obj_list deps = CK_OBJ_LIST_INIT;
    ck_store_list_namespace(c->deps, ns, &deps);
    for (size_t i = 0; i < deps.n; i++) {
        const cJSON *sj = ck_json_get(deps.items[i]->json, "spec.selector");
        struct ck_label_selector *sel = NULL;
        if (selector_empty(sj) || ck_label_selector_from_json(sj, &sel, NULL) < 0)
            continue;
        if (ck_label_selector_matches(sel, ck_json_get(rs, "metadata.labels")))
            ck_strlist_add(keys, deps.items[i]->key);
        ck_label_selector_free(sel);
    }
    ck_obj_list_free(&deps);
}

/* A deleted pod may unblock a Recreate rollout: sync the Deployment above its ReplicaSet. */
static void on_pod_delete(void *ctx, const struct ck_obj *obj, bool unknown)
{
    (void)unknown;
    struct dp_ctl *c = ctx;
    const cJSON *ref = controller_of(obj->json);
    if (!ref || strcmp(ck_json_get_string(ref, "kind", ""), "ReplicaSet"))
        return;
    const char *ns = ck_json_get_string(obj->json, "metadata.namespace", "");
    CK_AUTOFREE char *rskey = ck_xasprintf("%s/%s", ns, ck_json_get_string(ref, "name", ""));
    struct ck_obj *rs = ck_store_get(c->rss, rskey);
    if (!rs)
        return;
    const cJSON *dref = controller_of(rs->json);
    if (dref && !strcmp(ck_json_get_string(dref, "kind", ""), "Deployment")) {
        CK_AUTOFREE char *k = ck_xasprintf("%s/%s", ns, ck_json_get_string(dref, "name", ""));
        ck_controller_enqueue(c->ctl, k);
    }
    ck_obj_unref(rs);
}

/* ---- start ---------------------------------------------------------------------------------- */

static struct dp_ctl *the_ctl; /* freed at exit by dp_ctl_free (atexit) */

static void dp_ctl_free(void)
{
    if (!the_ctl)
        return;
    ck_event_recorder_free(the_ctl->recorder);
    free(the_ctl);
    the_ctl = NULL;
}

int deployment_start(struct ck_controller_context *cc, struct ck_error *err)
{
    (void)err;
    if (the_ctl)
        return -EALREADY;
    struct dp_ctl *c = ck_xmalloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->client = cc->client;
    struct ck_informer *di = ck_informer_factory_get(cc->informers, &dep_gvr);
    struct ck_informer *rsi = ck_informer_factory_get(cc->informers, &rs_gvr);
    struct ck_informer *podi = ck_informer_factory_get(cc->informers, &pod_gvr);
    c->deps = ck_informer_store(di);
    c->rss = ck_informer_store(rsi);
    c->pods = ck_informer_store(podi);
    if (cc->events)
        c->recorder = ck_event_recorder_new(cc->events, "deployment-controller", NULL);
    the_ctl = c;
    atexit(dp_ctl_free);
    struct ck_controller_opts o = {.name = "deployment", .sync = dp_sync, .ctx = c};
    c->ctl = ck_controller_new(&o);
    struct ck_event_handler h = {.on_delete = on_pod_delete, .ctx = c};
    int rc;
    if ((rc = ck_controller_watch(c->ctl, di, NULL)) < 0 ||
        (rc = ck_controller_watch(c->ctl, rsi, rs_keys)) < 0 ||
        (rc = ck_controller_needs(c->ctl, podi)) < 0 ||
        (rc = ck_informer_add_handler(podi, &h, -1)) < 0) {
        ck_controller_free(c->ctl);
        return rc;
    }
    return ck_controller_context_add(cc, c->ctl, 5);
}
