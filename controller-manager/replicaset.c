/* replicaset.c - the ReplicaSet controller (upstream's ReplicaSetController): keeps the number
 * of active pods owned by each ReplicaSet equal to spec.replicas. The same code serves v1
 * ReplicationControllers (upstream's ReplicationManager): a struct rs_kind row says what
 * differs (resource, ownerReference kind, map selector, events source "replication-controller").
 *
 *  - claims pods as upstream's PodControllerRefManager: adopts matching orphans (ownerReference
 *    to the owner's kind, controller=true, blockOwnerDeletion=true), releases owned pods whose
 *    labels stopped matching;
 *  - creates missing pods from the template in slow-start batches (1, 2, 4, ...; at most 500
 *    per sync, upstream's burstReplicas), named "<rs>-<5 random chars>";
 *  - deletes surplus pods in upstream's ActivePodsWithRanks order (unscheduled, pending,
 *    not ready, lower deletion cost, more co-located pods, ready for less time, more restarts,
 *    newer first);
 *  - expectations (adds counted, deletes by pod key, 5 minute expiry) so a stale informer
 *    cache never makes it create or delete twice;
 *  - status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (minReadySeconds),
 *    observedGeneration and the ReplicaFailure condition;
 *  - events SuccessfulCreate/SuccessfulDelete/FailedCreate/FailedDelete with upstream's text.
 *    A create refused because the namespace is terminating is silently ignored, as upstream.
 * The start functions are replicaset_start and replicationcontroller_start (rows
 * "replicaset-controller" and "replicationcontroller-controller" in main.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller.h"
#include "encoding.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "replicaset.h"
#include "selector.h"
#include "strmap.h"
#include "timeutil.h"

#define RS_BURST 500
#define RS_EXPECT_TTL_NS (5LL * 60 * 1000000000LL)
#define RS_MAX_PODS 100000

static const struct ck_gvr pod_gvr = {"", "v1", "pods"};

/* What differs between the two kinds this file serves (upstream runs the same controller for
 * ReplicationControllers through a conversion to ReplicaSets). */
struct rs_kind {
    const char *queue;       /* work queue name (metrics, logs) */
    struct ck_gvr gvr;       /* the owner resource */
    const char *api_version; /* of the pods' ownerReferences */
    const char *kind;        /* ditto */
    const char *noun;        /* in log lines */
    bool map_selector;       /* spec.selector is a plain label map (v1 ReplicationController) */
    const char *events_from; /* the events' source.component */
};

static const struct rs_kind rs_kinds[2] = {
    {.queue = "replicaset",
     .gvr = {"apps", "v1", "replicasets"},
     .api_version = "apps/v1",
     .kind = "ReplicaSet",
     .noun = "replicaset",
     .events_from = "replicaset-controller"},
    {.queue = "replicationmanager",
     .gvr = {"", "v1", "replicationcontrollers"},
     .api_version = "v1",
     .kind = "ReplicationController",
     .noun = "replicationcontroller",
     .map_selector = true,
     .events_from = "replication-controller"},
};

/* Outstanding creations and deletions of one ReplicaSet (upstream's ControlleeExpectations). */
struct rs_expect {
    char *key;
    int64_t add;
    struct ck_strlist dels; /* pod keys whose deletion we wait to observe */
    int64_t stamp;          /* monotonic ns when set */
    struct rs_expect *next;
};

struct rs_ctl {
    const struct rs_kind *k;
    struct ck_client *client;
    struct ck_store *rss, *pods;
    struct ck_event_recorder *recorder;
    struct ck_controller *ctl;
    pthread_mutex_t lock; /* guards expects */
    struct rs_expect *expects;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- expectations (callers hold c->lock) ---------------------------------------------------- */

static struct rs_expect *exp_find(struct rs_ctl *c, const char *key, bool create)
{
    for (struct rs_expect *e = c->expects; e; e = e->next)
        if (!strcmp(e->key, key))
            return e;
    if (!create)
        return NULL;
    struct rs_expect *e = ck_xmalloc(sizeof(*e));
    memset(e, 0, sizeof(*e));
    e->key = ck_xstrdup(key);
    e->next = c->expects;
    c->expects = e;
    return e;
}

static void exp_free(struct rs_expect *e)
{
    ck_strlist_free(&e->dels);
    free(e->key);
    free(e);
}

static void exp_drop(struct rs_ctl *c, const char *key)
{
    pthread_mutex_lock(&c->lock);
    for (struct rs_expect **p = &c->expects; *p; p = &(*p)->next) {
        if (!strcmp((*p)->key, key)) {
            struct rs_expect *e = *p;
            *p = e->next;
            exp_free(e);
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

/* True when nothing is outstanding for key, or the expectations expired. */
static bool exp_satisfied(struct rs_ctl *c, const char *key)
{
    pthread_mutex_lock(&c->lock);
    struct rs_expect *e = exp_find(c, key, false);
    bool ok = !e || (e->add <= 0 && e->dels.n == 0) || mono_ns() - e->stamp > RS_EXPECT_TTL_NS;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static void exp_set(struct rs_ctl *c, const char *key, int64_t add)
{
    pthread_mutex_lock(&c->lock);
    struct rs_expect *e = exp_find(c, key, true);
    e->add = add;
    ck_strlist_free(&e->dels);
    e->stamp = mono_ns();
    pthread_mutex_unlock(&c->lock);
}

static void exp_add_delete(struct rs_ctl *c, const char *key, const char *podkey)
{
    pthread_mutex_lock(&c->lock);
    struct rs_expect *e = exp_find(c, key, true);
    ck_strlist_add(&e->dels, podkey);
    e->stamp = mono_ns();
    pthread_mutex_unlock(&c->lock);
}

static void exp_lower_add(struct rs_ctl *c, const char *key, int64_t n)
{
    pthread_mutex_lock(&c->lock);
    struct rs_expect *e = exp_find(c, key, false);
    if (e)
        e->add -= n;
    pthread_mutex_unlock(&c->lock);
}

static void exp_observe_delete(struct rs_ctl *c, const char *key, const char *podkey)
{
    pthread_mutex_lock(&c->lock);
    struct rs_expect *e = exp_find(c, key, false);
    for (size_t i = 0; e && i < e->dels.n; i++) {
        if (!strcmp(e->dels.v[i], podkey)) {
            free(e->dels.v[i]);
            e->dels.v[i] = e->dels.v[--e->dels.n];
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

/* ---- pod helpers ---------------------------------------------------------------------------- */

/* The controller ownerReference of obj, or NULL (borrowed). */
static const cJSON *controller_ref(const cJSON *obj)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, ck_json_get(obj, "metadata.ownerReferences"))
    {
        if (ck_json_get_bool(ref, "controller", false))
            return ref;
    }
    return NULL;
}

static bool pod_active(const cJSON *pod)
{
    const char *phase = ck_json_get_string(pod, "status.phase", "");
    return strcmp(phase, "Succeeded") && strcmp(phase, "Failed") &&
           !ck_json_get(pod, "metadata.deletionTimestamp");
}

/* The Ready condition of pod (borrowed) when its status is True, else NULL. */
static const cJSON *pod_ready_cond(const cJSON *pod)
{
    const cJSON *cond;
    cJSON_ArrayForEach(cond, ck_json_get(pod, "status.conditions"))
    {
        if (!strcmp(ck_json_get_string(cond, "type", ""), "Ready"))
            return strcmp(ck_json_get_string(cond, "status", ""), "True") ? NULL : cond;
    }
    return NULL;
}

static int64_t time_field(const cJSON *obj, const char *path)
{
    const char *s = ck_json_get_string(obj, path, NULL);
    struct timespec ts;
    if (!s || ck_time_parse(s, &ts, NULL) < 0)
        return 0;
    return (int64_t)ts.tv_sec;
}

/* upstream's IsPodAvailable: ready for at least minReadySeconds at now (unix seconds). */
static bool pod_available(const cJSON *pod, int64_t min_ready, int64_t now)
{
    const cJSON *c = pod_ready_cond(pod);
    if (!c)
        return false;
    if (min_ready <= 0)
        return true;
    int64_t t = time_field(c, "lastTransitionTime");
    return t > 0 && t + min_ready <= now;
}

/* ---- delete ordering (upstream's ActivePodsWithRanks) --------------------------------------- */

struct ranked {
    const cJSON *pod;
    int rank;
};

static int phase_ordinal(const char *p)
{
    if (!strcmp(p, "Unknown"))
        return 1;
    if (!strcmp(p, "Running"))
        return 2;
    return 0;
}

static int64_t max_restarts(const cJSON *pod)
{
    int64_t m = 0;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, ck_json_get(pod, "status.containerStatuses"))
    {
        int64_t r = ck_json_get_int64(cs, "restartCount", 0);
        if (r > m)
            m = r;
    }
    return m;
}

/* < 0 when a should be deleted before b. */
static int rank_cmp(const void *pa, const void *pb)
{
    const struct ranked *ra = pa, *rb = pb;
    const cJSON *a = ra->pod, *b = rb->pod;
    bool na = *ck_json_get_string(a, "spec.nodeName", ""),
         nb = *ck_json_get_string(b, "spec.nodeName", "");
    if (na != nb)
        return na ? 1 : -1;
    int pa_ = phase_ordinal(ck_json_get_string(a, "status.phase", "")),
        pb_ = phase_ordinal(ck_json_get_string(b, "status.phase", ""));
    if (pa_ != pb_)
        return pa_ < pb_ ? -1 : 1;
    const cJSON *rca = pod_ready_cond(a), *rcb = pod_ready_cond(b);
    if (!rca != !rcb)
        return rca ? 1 : -1;
    const char *ca = ck_json_get_string(
                   a, "metadata.annotations.controller\\.kubernetes\\.io/pod-deletion-cost", "0"),
               *cb = ck_json_get_string(
                   b, "metadata.annotations.controller\\.kubernetes\\.io/pod-deletion-cost", "0");
    long long da = atoll(ca), db = atoll(cb);
    if (da != db)
        return da < db ? -1 : 1;
    if (ra->rank != rb->rank)
        return ra->rank > rb->rank ? -1 : 1;
    if (rca && rcb) {
        int64_t ta = time_field(rca, "lastTransitionTime"),
                tb = time_field(rcb, "lastTransitionTime");
        if (ta != tb)
            return ta > tb ? -1 : 1;
    }
    int64_t xa = max_restarts(a), xb = max_restarts(b);
    if (xa != xb)
        return xa > xb ? -1 : 1;
    int64_t ta = time_field(a, "metadata.creationTimestamp"),
            tb = time_field(b, "metadata.creationTimestamp");
    if (ta != tb)
        return ta > tb ? -1 : 1;
    return strcmp(ck_json_get_string(a, "metadata.name", ""),
                  ck_json_get_string(b, "metadata.name", ""));
}

/* ---- claiming ------------------------------------------------------------------------------- */

/* True when ref (an ownerReference) points at an object of c's kind. */
static bool ref_is_ours(const struct rs_ctl *c, const cJSON *ref)
{
    return !strcmp(ck_json_get_string(ref, "kind", ""), c->k->kind) &&
           !strcmp(ck_json_get_string(ref, "apiVersion", ""), c->k->api_version);
}

/* The label selector of rs (caller frees with ck_label_selector_free): a LabelSelector, or for
 * ReplicationControllers a map read as matchLabels (an absent map selects nothing). */
static int rs_selector(const struct rs_ctl *c, const cJSON *rs, struct ck_label_selector **out,
                       struct ck_error *err)
{
    const cJSON *sel = ck_json_get(rs, "spec.selector");
    if (!c->k->map_selector)
        return ck_label_selector_from_json(sel, out, err);
    if (sel && !cJSON_IsObject(sel))
        return ck_error_set(err, 422, CK_REASON_INVALID, "spec.selector must be a map");
    cJSON *ls = NULL;
    if (sel) {
        ls = cJSON_CreateObject();
        cJSON_AddItemToObject(ls, "matchLabels", ck_json_dup(sel));
    }
    int rc = ck_label_selector_from_json(ls, out, err);
    cJSON_Delete(ls);
    return rc;
}

static cJSON *owner_ref_for(const struct rs_ctl *c, const cJSON *rs)
{
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddStringToObject(ref, "apiVersion", c->k->api_version);
    cJSON_AddStringToObject(ref, "kind", c->k->kind);
    cJSON_AddStringToObject(ref, "name", ck_json_get_string(rs, "metadata.name", ""));
    cJSON_AddStringToObject(ref, "uid", ck_json_get_string(rs, "metadata.uid", ""));
    cJSON_AddBoolToObject(ref, "controller", true);
    cJSON_AddBoolToObject(ref, "blockOwnerDeletion", true);
    return ref;
}

/* Patches pod's ownerReferences: adds ours (adopt) or removes the one with uid (release).
 * Guarded by the pod's resourceVersion; a vanished pod is not an error. */
static int patch_owner(struct rs_ctl *c, const cJSON *rs, const cJSON *pod, bool adopt)
{
    const char *uid = ck_json_get_string(rs, "metadata.uid", "");
    cJSON *patch = cJSON_CreateObject();
    cJSON *md = cJSON_AddObjectToObject(patch, "metadata");
    cJSON_AddStringToObject(md, "resourceVersion",
                            ck_json_get_string(pod, "metadata.resourceVersion", ""));
    cJSON *refs = cJSON_AddArrayToObject(md, "ownerReferences");
    const cJSON *ref;
    cJSON_ArrayForEach(ref, ck_json_get(pod, "metadata.ownerReferences"))
    {
        if (!strcmp(ck_json_get_string(ref, "uid", ""), uid))
            continue;
        cJSON_AddItemToArray(refs, ck_json_dup(ref));
    }
    if (adopt)
        cJSON_AddItemToArray(refs, owner_ref_for(c, rs));
    if (cJSON_GetArraySize(refs) == 0) /* as upstream's release: no empty list left behind */
        cJSON_ReplaceItemInObjectCaseSensitive(md, "ownerReferences", cJSON_CreateNull());
    CK_AUTOFREE char *body = ck_json_print(patch, 0);
    cJSON_Delete(patch);
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_patch(c->client, &pod_gvr, ck_json_get_string(pod, "metadata.namespace", ""),
                             ck_json_get_string(pod, "metadata.name", ""), NULL, CK_PATCH_MERGE,
                             body, NULL, NULL, &err);
    if (rc == -ENOENT)
        rc = 0;
    if (rc < 0)
        ck_warn("%s pod %s: %s", adopt ? "adopting" : "releasing",
                ck_json_get_string(pod, "metadata.name", ""), err.message);
    ck_error_clear(&err);
    return rc;
}

/* ---- creating and deleting ------------------------------------------------------------------ */

static cJSON *pod_from_template(const struct rs_ctl *c, const cJSON *rs)
{
    const cJSON *tmpl = ck_json_get(rs, "spec.template");
    cJSON *pod = cJSON_CreateObject();
    cJSON_AddStringToObject(pod, "apiVersion", "v1");
    cJSON_AddStringToObject(pod, "kind", "Pod");
    cJSON *md = cJSON_AddObjectToObject(pod, "metadata");
    const char *name = ck_json_get_string(rs, "metadata.name", "");
    CK_AUTOFREE char *prefix = ck_xasprintf("%s-", name);
    CK_AUTOFREE char *podname = ck_generate_name(prefix);
    cJSON_AddStringToObject(md, "name", podname);
    cJSON_AddStringToObject(md, "generateName", prefix);
    cJSON_AddStringToObject(md, "namespace", ck_json_get_string(rs, "metadata.namespace", ""));
    const cJSON *labels = ck_json_get(tmpl, "metadata.labels");
    if (labels)
        cJSON_AddItemToObject(md, "labels", ck_json_dup(labels));
    const cJSON *ann = ck_json_get(tmpl, "metadata.annotations");
    if (ann)
        cJSON_AddItemToObject(md, "annotations", ck_json_dup(ann));
    const cJSON *fin = ck_json_get(tmpl, "metadata.finalizers");
    if (fin)
        cJSON_AddItemToObject(md, "finalizers", ck_json_dup(fin));
    cJSON *refs = cJSON_AddArrayToObject(md, "ownerReferences");
    cJSON_AddItemToArray(refs, owner_ref_for(c, rs));
    const cJSON *spec = ck_json_get(tmpl, "spec");
    cJSON_AddItemToObject(pod, "spec", spec ? ck_json_dup(spec) : cJSON_CreateObject());
    return pod;
}

/* True when err carries the NamespaceTerminating cause (creating in a namespace being deleted). */
static bool ns_terminating(const struct ck_error *err)
{
    const cJSON *cause;
    cJSON_ArrayForEach(cause, ck_json_get(err->details, "causes"))
    {
        if (!strcmp(ck_json_get_string(cause, "reason", ""), "NamespaceTerminating"))
            return true;
    }
    return false;
}

/* Creates one pod; fills errmsg (caller frees) on failure. As upstream, a refusal because the
 * namespace is being terminated is no failure (no event, no condition): every later creation
 * would fail the same way and the owner is about to go away. */
static int create_pod(struct rs_ctl *c, const cJSON *rs, const char *key, char **errmsg)
{
    cJSON *pod = pod_from_template(c, rs);
    cJSON *out = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_create(c->client, &pod_gvr, NULL, pod, &out, &err);
    if (rc < 0 && ns_terminating(&err)) {
        ck_vinfo(2, "not creating pods for %s %s: %s", c->k->noun, key, err.message);
        rc = 0;
    } else if (rc < 0) {
        exp_lower_add(c, key, 1);
        *errmsg = ck_xstrdup(err.message[0] ? err.message : "unknown error");
        ck_event_recordf(c->recorder, rs, CK_EVENT_WARNING, "FailedCreate", "Error creating: %s",
                         *errmsg);
    } else {
        ck_event_recordf(c->recorder, rs, CK_EVENT_NORMAL, "SuccessfulCreate", "Created pod: %s",
                         ck_json_get_string(out, "metadata.name", ""));
    }
    ck_error_clear(&err);
    cJSON_Delete(out);
    cJSON_Delete(pod);
    return rc;
}

/* Creates n pods in slow-start batches; returns the first error (message in *errmsg). */
static int create_pods(struct rs_ctl *c, const cJSON *rs, const char *key, int64_t n, char **errmsg)
{
    exp_set(c, key, n);
    int64_t done = 0, batch = 1;
    while (done < n) {
        if (batch > n - done)
            batch = n - done;
        int first = 0;
        for (int64_t i = 0; i < batch; i++) {
            char *m = NULL;
            int rc = create_pod(c, rs, key, &m);
            if (rc < 0) {
                if (!first) {
                    first = rc;
                    free(*errmsg);
                    *errmsg = m;
                } else {
                    free(m);
                }
            }
        }
        done += batch;
        if (first) {
            /* the pods of later batches will not be created: stop expecting them */
            exp_lower_add(c, key, n - done);
            return first;
        }
        batch *= 2;
    }
    return 0;
}

static int delete_pods(struct rs_ctl *c, const cJSON *rs, const char *key, struct ranked *pods,
                       size_t npods, int64_t n, char **errmsg)
{
    exp_set(c, key, 0);
    int first = 0;
    for (int64_t i = 0; i < n && (size_t)i < npods; i++) {
        CK_AUTOFREE char *pk = ck_object_key(pods[i].pod);
        if (pk)
            exp_add_delete(c, key, pk);
    }
    for (int64_t i = 0; i < n && (size_t)i < npods; i++) {
        const cJSON *pod = pods[i].pod;
        const char *name = ck_json_get_string(pod, "metadata.name", "");
        CK_AUTOFREE char *pk = ck_object_key(pod);
        struct ck_error err = CK_ERROR_INIT;
        int rc =
            ck_client_delete(c->client, &pod_gvr, ck_json_get_string(pod, "metadata.namespace", ""),
                             name, NULL, NULL, &err);
        if (rc == -ENOENT) {
            if (pk)
                exp_observe_delete(c, key, pk);
        } else if (rc < 0) {
            if (pk)
                exp_observe_delete(c, key, pk);
            ck_event_recordf(c->recorder, rs, CK_EVENT_WARNING, "FailedDelete",
                             "Error deleting: %s", err.message);
            if (!first) {
                first = rc;
                free(*errmsg);
                *errmsg = ck_xstrdup(err.message[0] ? err.message : "unknown error");
            }
        } else {
            ck_event_recordf(c->recorder, rs, CK_EVENT_NORMAL, "SuccessfulDelete",
                             "Deleted pod: %s", name);
        }
        ck_error_clear(&err);
    }
    return first;
}

/* ---- status --------------------------------------------------------------------------------- */

/* Sets or clears the ReplicaFailure condition in status (owned) as upstream's calculateStatus. */
static void set_failure_cond(cJSON *status, const char *reason, const char *msg)
{
    cJSON *conds = cJSON_GetObjectItemCaseSensitive(status, "conditions");
    int idx = -1, i = 0;
    const cJSON *cond;
    cJSON_ArrayForEach(cond, conds)
    {
        if (!strcmp(ck_json_get_string(cond, "type", ""), "ReplicaFailure"))
            idx = i;
        i++;
    }
    if (!reason) {
        if (idx >= 0)
            cJSON_DeleteItemFromArray(conds, idx);
        if (conds && cJSON_GetArraySize(conds) == 0)
            cJSON_DeleteItemFromObjectCaseSensitive(status, "conditions");
        return;
    }
    if (idx >= 0)
        return;
    if (!conds)
        conds = cJSON_AddArrayToObject(status, "conditions");
    char now[CK_TIME_BUFSZ];
    ck_time_now_string(now);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", "ReplicaFailure");
    cJSON_AddStringToObject(c, "status", "True");
    cJSON_AddStringToObject(c, "lastTransitionTime", now);
    cJSON_AddStringToObject(c, "reason", reason);
    cJSON_AddStringToObject(c, "message", msg ? msg : "");
    cJSON_AddItemToArray(conds, c);
}

static int update_status(struct rs_ctl *c, const cJSON *rs, const cJSON *status)
{
    const cJSON *cur = ck_json_get(rs, "status");
    cJSON *want = ck_json_dup(status);
    if (cur && ck_json_equal(cur, want)) {
        cJSON_Delete(want);
        return 0;
    }
    cJSON *obj = ck_json_dup(rs);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
    cJSON_AddItemToObject(obj, "status", want);
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_update_status(c->client, &c->k->gvr, NULL, obj, NULL, &err);
    if (rc == -ENOENT || err.code == 409)
        rc = 0; /* gone, or changed meanwhile: the update event requeues the key */
    if (rc < 0)
        ck_warn("updating status of %s %s: %s", c->k->noun,
                ck_json_get_string(rs, "metadata.name", ""), err.message);
    ck_error_clear(&err);
    cJSON_Delete(obj);
    return rc;
}

/* ---- sync ----------------------------------------------------------------------------------- */

static bool labels_superset(const cJSON *labels, const cJSON *want)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, want)
    {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(labels, w->string);
        if (!cJSON_IsString(l) || !cJSON_IsString(w) || strcmp(l->valuestring, w->valuestring))
            return false;
    }
    return true;
}

static int rs_sync(void *ctx, const char *key)
{
    struct rs_ctl *c = ctx;
    struct ck_obj *o = ck_store_get(c->rss, key);
    if (!o) {
        exp_drop(c, key);
        return 0;
    }
    const cJSON *rs = o->json;
    const char *ns = ck_json_get_string(rs, "metadata.namespace", "");
    const char *uid = ck_json_get_string(rs, "metadata.uid", "");
    bool rs_deleting = ck_json_get(rs, "metadata.deletionTimestamp") != NULL;
    bool need_sync = exp_satisfied(c, key);
    struct ck_label_selector *sel = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = 0;
    if (rs_selector(c, rs, &sel, &err) < 0) {
        ck_warn("%s %s has an invalid selector: %s", c->k->noun, key, err.message);
        ck_error_clear(&err);
        ck_obj_unref(o);
        return 0;
    }
    struct ck_obj_list pods = CK_OBJ_LIST_INIT;
    ck_store_list_namespace(c->pods, ns, &pods);
    struct ranked *mine = ck_xmalloc((pods.n + 1) * sizeof(*mine));
    size_t nmine = 0;
    for (size_t i = 0; i < pods.n; i++) {
        const cJSON *pod = pods.items[i]->json;
        const cJSON *ref = controller_ref(pod);
        bool matches = ck_label_selector_matches(sel, ck_json_get(pod, "metadata.labels"));
        bool deleting = ck_json_get(pod, "metadata.deletionTimestamp") != NULL;
        if (ref) {
            if (strcmp(ck_json_get_string(ref, "uid", ""), uid))
                continue;
            if (!matches) {
                if (!rs_deleting && patch_owner(c, rs, pod, false) < 0)
                    rc = -EAGAIN;
                continue;
            }
        } else {
            if (!matches || deleting || rs_deleting)
                continue;
            if (patch_owner(c, rs, pod, true) < 0) {
                rc = -EAGAIN;
                continue;
            }
        }
        if (pod_active(pod))
            mine[nmine++] = (struct ranked){pod, 0};
    }
    int64_t want = ck_json_get_int64(rs, "spec.replicas", 1);
    char *errmsg = NULL;
    const char *fail_reason = NULL;
    int mrc = 0;
    if (need_sync && !rs_deleting) {
        int64_t diff = (int64_t)nmine - want;
        if (diff < 0) {
            int64_t n = -diff > RS_BURST ? RS_BURST : -diff;
            mrc = create_pods(c, rs, key, n, &errmsg);
            if (mrc < 0)
                fail_reason = "FailedCreate";
        } else if (diff > 0) {
            int64_t n = diff > RS_BURST ? RS_BURST : diff;
            /* rank: how many of these pods share a node with each pod */
            for (size_t i = 0; i < nmine; i++) {
                const char *node = ck_json_get_string(mine[i].pod, "spec.nodeName", "");
                if (!*node)
                    continue;
                for (size_t j = 0; j < nmine; j++)
                    if (!strcmp(node, ck_json_get_string(mine[j].pod, "spec.nodeName", "")))
                        mine[i].rank++;
            }
            qsort(mine, nmine, sizeof(*mine), rank_cmp);
            mrc = delete_pods(c, rs, key, mine, nmine, n, &errmsg);
            if (mrc < 0)
                fail_reason = "FailedDelete";
        }
    }
    /* status */
    struct timespec now;
    ck_time_now(&now);
    int64_t min_ready = ck_json_get_int64(rs, "spec.minReadySeconds", 0);
    const cJSON *tlabels = ck_json_get(rs, "spec.template.metadata.labels");
    int64_t full = 0, ready = 0, avail = 0;
    for (size_t i = 0; i < nmine; i++) {
        const cJSON *pod = mine[i].pod;
        if (labels_superset(ck_json_get(pod, "metadata.labels"), tlabels))
            full++;
        if (pod_ready_cond(pod)) {
            ready++;
            if (pod_available(pod, min_ready, now.tv_sec))
                avail++;
        }
    }
    cJSON *status = ck_json_dup(ck_json_get(rs, "status"));
    if (!cJSON_IsObject(status)) {
        cJSON_Delete(status);
        status = cJSON_CreateObject();
    }
    const char *fields[] = {"replicas", "fullyLabeledReplicas", "readyReplicas",
                            "availableReplicas", "observedGeneration"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(fields); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(status, fields[i]);
    cJSON_AddItemToObject(status, "replicas", ck_json_new_int64((int64_t)nmine));
    if (full)
        cJSON_AddItemToObject(status, "fullyLabeledReplicas", ck_json_new_int64(full));
    if (ready)
        cJSON_AddItemToObject(status, "readyReplicas", ck_json_new_int64(ready));
    if (avail)
        cJSON_AddItemToObject(status, "availableReplicas", ck_json_new_int64(avail));
    cJSON_AddItemToObject(status, "observedGeneration",
                          ck_json_new_int64(ck_json_get_int64(rs, "metadata.generation", 0)));
    /* as upstream's calculateStatus: any sync without a failure clears the condition */
    set_failure_cond(status, fail_reason, errmsg);
    int src = update_status(c, rs, status);
    cJSON_Delete(status);
    if (min_ready > 0 && ready == want && avail != want)
        ck_controller_enqueue_after(c->ctl, key, min_ready * 1000000000LL);
    free(errmsg);
    free(mine);
    ck_obj_list_free(&pods);
    ck_label_selector_free(sel);
    ck_obj_unref(o);
    if (mrc < 0)
        return mrc;
    if (src < 0)
        return src;
    return rc;
}

/* ---- event routing -------------------------------------------------------------------------- */

/* A pod's keys: its controlling ReplicaSet, or (orphans) every ReplicaSet that selects it. */
static void pod_keys(void *ctx, const struct ck_obj *obj, struct ck_strlist *keys)
{
    struct rs_ctl *c = ctx;
    const cJSON *pod = obj->json;
    const char *ns = ck_json_get_string(pod, "metadata.namespace", "");
    const cJSON *ref = controller_ref(pod);
    if (ref) {
        if (!ref_is_ours(c, ref))
            return;
        CK_AUTOFREE char *k = ck_xasprintf("%s/%s", ns, ck_json_get_string(ref, "name", ""));
        ck_strlist_add(keys, k);
        return;
    }
    if (ck_json_get(pod, "metadata.deletionTimestamp"))
        return;
    struct ck_obj_list rss = CK_OBJ_LIST_INIT;
    ck_store_list_namespace(c->rss, ns, &rss);
    for (size_t i = 0; i < rss.n; i++) {
        struct ck_label_selector *sel = NULL;
        if (rs_selector(c, rss.items[i]->json, &sel, NULL) < 0)
            continue;
        if (!ck_label_selector_empty(sel) &&
            ck_label_selector_matches(sel, ck_json_get(pod, "metadata.labels")))
            ck_strlist_add(keys, rss.items[i]->key);
        ck_label_selector_free(sel);
    }
    ck_obj_list_free(&rss);
}

/* The key of pod's controlling owner of c's kind (caller frees) or NULL. */
static char *owner_key(const struct rs_ctl *c, const cJSON *pod)
{
    const cJSON *ref = controller_ref(pod);
    if (!ref || !ref_is_ours(c, ref))
        return NULL;
    return ck_xasprintf("%s/%s", ck_json_get_string(pod, "metadata.namespace", ""),
                        ck_json_get_string(ref, "name", ""));
}

/* Expectations bookkeeping: observed creations and deletions. */
static void on_pod_add(void *ctx, const struct ck_obj *obj, bool initial)
{
    (void)initial;
    struct rs_ctl *c = ctx;
    CK_AUTOFREE char *k = owner_key(c, obj->json);
    if (!k)
        return;
    if (ck_json_get(obj->json, "metadata.deletionTimestamp"))
        exp_observe_delete(c, k, obj->key);
    else
        exp_lower_add(c, k, 1);
}

static void on_pod_update(void *ctx, const struct ck_obj *old, const struct ck_obj *cur)
{
    struct rs_ctl *c = ctx;
    if (!ck_json_get(cur->json, "metadata.deletionTimestamp") ||
        ck_json_get(old->json, "metadata.deletionTimestamp"))
        return;
    CK_AUTOFREE char *k = owner_key(c, cur->json);
    if (k)
        exp_observe_delete(c, k, cur->key);
}

static void on_pod_delete(void *ctx, const struct ck_obj *obj, bool unknown)
{
    (void)unknown;
    struct rs_ctl *c = ctx;
    CK_AUTOFREE char *k = owner_key(c, obj->json);
    if (k)
        exp_observe_delete(c, k, obj->key);
}

/* ---- start ---------------------------------------------------------------------------------- */

static struct rs_ctl *the_ctls[2]; /* one per rs_kinds row; freed at exit by rs_ctls_free */

static void rs_ctls_free(void)
{
    for (size_t i = 0; i < CK_ARRAY_SIZE(the_ctls); i++) {
        struct rs_ctl *c = the_ctls[i];
        if (!c)
            continue;
        while (c->expects) {
            struct rs_expect *e = c->expects;
            c->expects = e->next;
            exp_free(e);
        }
        ck_event_recorder_free(c->recorder);
        pthread_mutex_destroy(&c->lock);
        free(c);
        the_ctls[i] = NULL;
    }
}

static int start_kind(struct ck_controller_context *cc, size_t which)
{
    static bool atexit_done;
    if (the_ctls[which])
        return -EALREADY;
    const struct rs_kind *k = &rs_kinds[which];
    struct rs_ctl *c = ck_xmalloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->k = k;
    c->client = cc->client;
    struct ck_informer *rsi = ck_informer_factory_get(cc->informers, &k->gvr);
    struct ck_informer *podi = ck_informer_factory_get(cc->informers, &pod_gvr);
    c->rss = ck_informer_store(rsi);
    c->pods = ck_informer_store(podi);
    if (cc->events)
        c->recorder = ck_event_recorder_new(cc->events, k->events_from, NULL);
    the_ctls[which] = c;
    if (!atexit_done) {
        atexit_done = true;
        atexit(rs_ctls_free);
    }
    struct ck_event_handler h = {
        .on_add = on_pod_add, .on_update = on_pod_update, .on_delete = on_pod_delete, .ctx = c};
    int rc = ck_informer_add_handler(podi, &h, -1);
    if (rc < 0)
        return rc;
    struct ck_controller_opts o = {.name = k->queue, .sync = rs_sync, .ctx = c};
    c->ctl = ck_controller_new(&o);
    if ((rc = ck_controller_watch(c->ctl, rsi, NULL)) < 0 ||
        (rc = ck_controller_watch(c->ctl, podi, pod_keys)) < 0) {
        ck_controller_free(c->ctl);
        return rc;
    }
    return ck_controller_context_add(cc, c->ctl, 5);
}

int replicaset_start(struct ck_controller_context *cc, struct ck_error *err)
{
    (void)err;
    return start_kind(cc, 0);
}

int replicationcontroller_start(struct ck_controller_context *cc, struct ck_error *err)
{
    (void)err;
    return start_kind(cc, 1);
}
