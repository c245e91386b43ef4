/* run.c - the kube-scheduler daemon loop: informer handlers feeding cache and queue, the
 * scheduling thread (pop, snapshot, sched_schedule_one, assume, bind in a thread of its own),
 * failure handling (PodScheduled=False, FailedScheduling event, preemption's nomination and
 * victims) and the scheduler's metrics. See run.h. */
#include "run.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "events.h"
#include "framework.h"
#include "json.h"
#include "listers.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "queue.h"
#include "schedule.h"
#include "strmap.h"
#include "timeutil.h"

static const struct ck_gvr pods_gvr = {"", "v1", "pods"};
static const struct ck_gvr nodes_gvr = {"", "v1", "nodes"};
static const struct ck_gvr namespaces_gvr = {"", "v1", "namespaces"};
static const struct ck_gvr services_gvr = {"", "v1", "services"};
static const struct ck_gvr rcs_gvr = {"", "v1", "replicationcontrollers"};
static const struct ck_gvr rss_gvr = {"apps", "v1", "replicasets"};
static const struct ck_gvr sts_gvr = {"apps", "v1", "statefulsets"};
static const struct ck_gvr pdbs_gvr = {"policy", "v1", "poddisruptionbudgets"};

struct sched_run {
    struct ck_client *client;           /* borrowed from the component */
    struct ck_event_recorder *recorder; /* owned; NULL without a broadcaster */
    struct sched_framework *fw;
    struct sched_cache *cache;
    struct sched_queue *queue;
    struct sched_scheduler sched; /* scheduling thread only */
    struct sched_snapshot snap;   /* scheduling thread only */
    struct ck_cancel *stop;       /* borrowed: valid while the runner's workers run */
    struct ck_cancel_hook *hook;

    pthread_mutex_t mu;         /* guards ns_labels, graveyard, binding */
    pthread_cond_t bind_cv;     /* signalled when binding drops */
    struct ck_strmap ns_labels; /* namespace -> cJSON labels (owned) */
    cJSON *graveyard;           /* replaced labels, kept alive for borrowers */
    int binding;                /* binding threads running */

    struct sched_listers listers;   /* informer stores (borrowed from the factory) */
    struct sched_pdb_view pdb_view; /* scheduling thread only */

    struct ck_metric_family *attempts, *duration, *pending;
};

/* The state of the last start: freed by the next start, when the previous factory (whose
 * handlers point at it) is gone; at exit it stays reachable from here. */
static struct sched_run *current;

/* ---- namespaces (namespaceSelector) ---- */

static const cJSON *ns_labels(void *ctx, const char *ns)
{
    struct sched_run *r = ctx;
    pthread_mutex_lock(&r->mu);
    const cJSON *l = ns ? ck_strmap_get(&r->ns_labels, ns) : NULL;
    pthread_mutex_unlock(&r->mu);
    return l;
}

static void ns_put(struct sched_run *r, const cJSON *obj)
{
    const char *name = ck_json_get_string(obj, "metadata.name", NULL);
    if (!name)
        return;
    const cJSON *labels = ck_json_get(obj, "metadata.labels");
    cJSON *copy = labels ? cJSON_Duplicate(labels, true) : cJSON_CreateObject();
    pthread_mutex_lock(&r->mu);
    cJSON *old = ck_strmap_get(&r->ns_labels, name);
    if (old && cJSON_Compare(old, copy, true)) {
        cJSON_Delete(copy);
    } else {
        old = ck_strmap_put(&r->ns_labels, name, copy);
        if (old)
            cJSON_AddItemToArray(r->graveyard, old); /* may still be borrowed */
    }
    pthread_mutex_unlock(&r->mu);
}

static void ns_add(void *ctx, const struct ck_obj *o, bool initial)
{
    (void)initial;
    ns_put(ctx, o->json);
}

static void ns_update(void *ctx, const struct ck_obj *old, const struct ck_obj *cur)
{
    (void)old;
    ns_put(ctx, cur->json);
}

/* ---- handle hooks: PodTopologySpread system defaults, PDBs for preemption ---- */

static struct ck_label_selector *default_spread_selector(void *ctx, const struct sched_pod *pod)
{
    struct sched_run *r = ctx;
    return sched_default_selector(&r->listers, pod->obj);
}

/* Called by DefaultPreemption on the scheduling thread: the array stays valid until the next
 * call, long after the plugin is done with it. */
static const cJSON *pdbs(void *ctx)
{
    struct sched_run *r = ctx;
    return sched_pdb_view_take(&r->pdb_view, r->listers.pdbs);
}

/* ---- nodes ---- */

static void node_add(void *ctx, const struct ck_obj *o, bool initial)
{
    (void)initial;
    struct sched_run *r = ctx;
    struct ck_error err = CK_ERROR_INIT;
    if (sched_cache_add_node(r->cache, o->json, &err) < 0 && err.message[0])
        ck_warn("node %s: %s", o->key, err.message);
    struct sched_node *n = sched_node_new(o->json, &err);
    if (n) {
        sched_queue_node_added(r->queue, n);
        sched_node_unref(n);
    }
}

static void node_update(void *ctx, const struct ck_obj *old, const struct ck_obj *cur)
{
    struct sched_run *r = ctx;
    struct ck_error err = CK_ERROR_INIT;
    if (sched_cache_update_node(r->cache, old->json, cur->json, &err) < 0 && err.message[0])
        ck_warn("node %s: %s", cur->key, err.message);
    if (old == cur)
        return;
    struct sched_node *on = sched_node_new(old->json, &err);
    struct sched_node *nn = sched_node_new(cur->json, &err);
    if (on && nn)
        sched_queue_node_updated(r->queue, on, nn);
    sched_node_unref(on);
    sched_node_unref(nn);
}

static void node_delete(void *ctx, const struct ck_obj *o, bool unknown)
{
    (void)unknown;
    struct sched_run *r = ctx;
    struct ck_error err = CK_ERROR_INIT;
    sched_cache_remove_node(r->cache, o->json);
    struct sched_node *n = sched_node_new(o->json, &err);
    if (n) {
        sched_queue_node_deleted(r->queue, n);
        sched_node_unref(n);
    }
}

/* ---- pods ---- */

static bool assigned(const cJSON *pod)
{
    const char *n = ck_json_get_string(pod, "spec.nodeName", "");
    return n[0] != '\0';
}

/* upstream responsibleForPod + not being deleted */
static bool ours_pending(const cJSON *pod)
{
    if (assigned(pod) || ck_json_get(pod, "metadata.deletionTimestamp"))
        return false;
    const char *s = ck_json_get_string(pod, "spec.schedulerName", SCHED_DEFAULT_SCHEDULER_NAME);
    return strcmp(s, SCHED_DEFAULT_SCHEDULER_NAME) == 0;
}

static void assigned_event(struct sched_run *r, const cJSON *old, const cJSON *cur, int kind)
{
    struct ck_error err = CK_ERROR_INIT;
    struct sched_pod *op = old ? sched_pod_new(old, &err) : NULL;
    struct sched_pod *np = cur ? sched_pod_new(cur, &err) : NULL;
    if (kind == 0 && np)
        sched_queue_assigned_pod_added(r->queue, np);
    else if (kind == 1 && op && np)
        sched_queue_assigned_pod_updated(r->queue, op, np);
    else if (kind == 2 && op)
        sched_queue_assigned_pod_deleted(r->queue, op);
    sched_pod_unref(op);
    sched_pod_unref(np);
}

static void pod_add(void *ctx, const struct ck_obj *o, bool initial)
{
    (void)initial;
    struct sched_run *r = ctx;
    struct ck_error err = CK_ERROR_INIT;
    if (assigned(o->json)) {
        if (sched_cache_add_pod(r->cache, o->json, &err) < 0 && err.message[0])
            ck_warn("pod %s: %s", o->key, err.message);
        assigned_event(r, NULL, o->json, 0);
    } else if (ours_pending(o->json)) {
        if (sched_queue_add(r->queue, o->json, &err) < 0 && err.message[0])
            ck_warn("pod %s: %s", o->key, err.message);
    }
}

static void pod_update(void *ctx, const struct ck_obj *old, const struct ck_obj *cur)
{
    struct sched_run *r = ctx;
    struct ck_error err = CK_ERROR_INIT;
    bool was = assigned(old->json), is = assigned(cur->json);
    if (was && is) {
        if (sched_cache_update_pod(r->cache, old->json, cur->json, &err) < 0 && err.message[0])
            ck_warn("pod %s: %s", cur->key, err.message);
        if (old != cur)
            assigned_event(r, old->json, cur->json, 1);
    } else if (is) {
        /* bound: leaves the queue, joins the cache (confirming the assumed pod) */
        sched_queue_delete(r->queue, old->json);
        if (sched_cache_add_pod(r->cache, cur->json, &err) < 0 && err.message[0])
            ck_warn("pod %s: %s", cur->key, err.message);
        assigned_event(r, NULL, cur->json, 0);
    } else if (ours_pending(cur->json)) {
        if (sched_queue_update(r->queue, old->json, cur->json, &err) < 0 && err.message[0])
            ck_warn("pod %s: %s", cur->key, err.message);
    } else {
        sched_queue_delete(r->queue, cur->json);
    }
}

static void pod_delete(void *ctx, const struct ck_obj *o, bool unknown)
{
    (void)unknown;
    struct sched_run *r = ctx;
    if (assigned(o->json)) {
        sched_cache_remove_pod(r->cache, o->json);
        assigned_event(r, o->json, NULL, 2);
    } else {
        sched_queue_delete(r->queue, o->json);
    }
}

/* ---- API writes ---- */

static void record(struct sched_run *r, const cJSON *pod, const char *type, const char *reason,
                   const char *msg)
{
    if (r->recorder)
        ck_event_record(r->recorder, pod, type, reason, msg);
}

/* upstream updatePod: the PodScheduled condition and nominatedNodeName through pods/status. */
static void patch_status(struct sched_run *r, const struct sched_pod *p, const char *reason,
                         const char *message, const char *nominated)
{
    cJSON *patch = cJSON_CreateObject();
    cJSON *status = cJSON_AddObjectToObject(patch, "status");
    if (reason) {
        cJSON *conds = cJSON_AddArrayToObject(status, "conditions");
        cJSON_AddItemToArray(conds, sched_unschedulable_condition(reason, message, NULL));
    }
    if (nominated) {
        if (nominated[0])
            cJSON_AddStringToObject(status, "nominatedNodeName", nominated);
        else
            cJSON_AddNullToObject(status, "nominatedNodeName");
    }
    char *body = cJSON_PrintUnformatted(patch);
    cJSON_Delete(patch);
    struct ck_error err = CK_ERROR_INIT;
    if (body && ck_client_patch(r->client, &pods_gvr, p->ns, p->name, "status", CK_PATCH_STRATEGIC,
                                body, NULL, NULL, &err) < 0)
        ck_warn("Error updating pod %s/%s: %s", p->ns, p->name, err.message);
    free(body);
}

/* upstream PrepareCandidate (PodDisruptionConditions, GA in 1.31): before a victim is deleted
 * it gets DisruptionTarget=True, reason PreemptionByScheduler, through pods/status. */
static void mark_disruption_target(struct sched_run *r, const struct sched_pod *preemptor,
                                   const struct sched_pod *v)
{
    char now[CK_TIME_BUFSZ];
    ck_time_now_string(now);
    cJSON *patch = cJSON_CreateObject();
    cJSON *conds = cJSON_AddArrayToObject(cJSON_AddObjectToObject(patch, "status"), "conditions");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(conds, c);
    cJSON_AddStringToObject(c, "type", "DisruptionTarget");
    cJSON_AddStringToObject(c, "status", "True");
    cJSON_AddNullToObject(c, "lastProbeTime");
    cJSON_AddStringToObject(c, "lastTransitionTime", now);
    cJSON_AddStringToObject(c, "reason", "PreemptionByScheduler");
    char *msg = ck_xasprintf(
        "%s: preempting to accommodate a higher priority pod",
        ck_json_get_string(preemptor->obj, "spec.schedulerName", SCHED_DEFAULT_SCHEDULER_NAME));
    cJSON_AddStringToObject(c, "message", msg);
    free(msg);
    char *body = cJSON_PrintUnformatted(patch);
    cJSON_Delete(patch);
    struct ck_error err = CK_ERROR_INIT;
    if (body &&
        ck_client_patch(r->client, &pods_gvr, v->ns, v->name, "status", CK_PATCH_STRATEGIC, body,
                        NULL, NULL, &err) < 0 &&
        err.code != 404)
        ck_warn("Could not add DisruptionTarget condition due to preemption to pod %s/%s: %s",
                v->ns, v->name, err.message);
    ck_error_clear(&err);
    free(body);
}

/* Preemption's outcome: victims deleted, lower nominations cleared, the pod nominated. */
static void apply_preemption(struct sched_run *r, struct sched_pod *p,
                             const struct sched_postfilter_result *post)
{
    for (size_t i = 0; i < post->nvictims; i++) {
        struct sched_pod *v = post->victims[i];
        mark_disruption_target(r, p, v);
        struct ck_delete_opts o = {.precondition_uid = v->uid && v->uid[0] ? v->uid : NULL};
        struct ck_error err = CK_ERROR_INIT;
        int rc = ck_client_delete(r->client, &pods_gvr, v->ns, v->name, &o, NULL, &err);
        if (rc < 0 && rc != -ENOENT) {
            ck_warn("Error preempting victim %s/%s: %s", v->ns, v->name, err.message);
            continue;
        }
        char *msg = ck_xasprintf("Preempted by pod %s on node %s", p->uid ? p->uid : "",
                                 post->node ? post->node : "");
        record(r, v->obj, CK_EVENT_NORMAL, "Preempted", msg);
        free(msg);
    }
    for (size_t i = 0; i < post->nclear; i++) {
        sched_queue_delete_nominated(r->queue, post->clear_nominated[i]->key);
        patch_status(r, post->clear_nominated[i], NULL, NULL, "");
    }
    sched_queue_set_nominated(r->queue, p, post->node ? post->node : "");
}

/* ---- binding ---- */

struct bind_job {
    struct sched_run *r;
    struct sched_qpod *qp;
    char *node;
    int64_t start;
};

static void bind_done(struct sched_run *r)
{
    pthread_mutex_lock(&r->mu);
    r->binding--;
    pthread_cond_broadcast(&r->bind_cv);
    pthread_mutex_unlock(&r->mu);
}

/* upstream handleBindingCycleError + handleSchedulingFailure for a failed binding: the assumed
 * pod is forgotten, which frees its resources as an AssignedPodDelete would (so the pods it
 * kept out may move), the pod goes back to the queue (backoff), and it gets the Warning
 * FailedScheduling event and PodScheduled=False/SchedulerError with the binder's error, worded
 * as upstream's RunBindPlugins wraps it. */
static void bind_failed(struct sched_run *r, struct bind_job *j, const char *key,
                        const struct ck_error *err, double secs)
{
    struct sched_pod *p = j->qp->pod;
    ck_warn("Failed to bind pod %s/%s to %s: %s", p->ns, p->name, j->node, err->message);
    sched_cache_forget_pod(r->cache, key);
    cJSON *copy = cJSON_Duplicate(p->obj, true);
    cJSON *spec = copy ? cJSON_GetObjectItemCaseSensitive(copy, "spec") : NULL;
    if (cJSON_IsObject(spec)) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "nodeName");
        cJSON_AddStringToObject(spec, "nodeName", j->node);
        struct sched_pod *assumed = sched_pod_new(copy, NULL);
        if (assumed)
            sched_queue_assigned_pod_deleted(r->queue, assumed);
        sched_pod_unref(assumed);
    }
    cJSON_Delete(copy);
    ck_metric_inc(ck_metric_with(r->attempts, "error", SCHED_DEFAULT_SCHEDULER_NAME, NULL));
    ck_metric_observe(ck_metric_with(r->duration, "error", SCHED_DEFAULT_SCHEDULER_NAME, NULL),
                      secs);
    char *message = ck_xasprintf("running Bind plugin \"DefaultBinder\": %s", err->message);
    char *evmsg = sched_event_message(message);
    record(r, p->obj, CK_EVENT_WARNING, "FailedScheduling", evmsg);
    free(evmsg);
    patch_status(r, p, SCHED_REASON_SCHEDULER_ERROR, message, NULL);
    free(message);
    sched_queue_add_unschedulable(r->queue, j->qp, 0);
}

/* upstream DefaultBinder: POST pods/<name>/binding with target Node. */
static void *bind_thread(void *arg)
{
    struct bind_job *j = arg;
    struct sched_run *r = j->r;
    struct sched_pod *p = j->qp->pod;
    char *key = ck_xstrdup(p->key);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "apiVersion", "v1");
    cJSON_AddStringToObject(b, "kind", "Binding");
    cJSON *meta = cJSON_AddObjectToObject(b, "metadata");
    cJSON_AddStringToObject(meta, "name", p->name ? p->name : "");
    cJSON_AddStringToObject(meta, "namespace", p->ns ? p->ns : "");
    if (p->uid)
        cJSON_AddStringToObject(meta, "uid", p->uid);
    cJSON *target = cJSON_AddObjectToObject(b, "target");
    cJSON_AddStringToObject(target, "kind", "Node");
    cJSON_AddStringToObject(target, "name", j->node);
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_create_subresource(r->client, &pods_gvr, p->ns, p->name, "binding", b, NULL,
                                          &err);
    cJSON_Delete(b);
    double secs = (double)(ck_mono_ns() - j->start) / 1e9;
    if (rc == 0) {
        sched_cache_finish_binding(r->cache, key);
        char *msg = ck_xasprintf("Successfully assigned %s/%s to %s", p->ns, p->name, j->node);
        record(r, p->obj, CK_EVENT_NORMAL, "Scheduled", msg);
        free(msg);
        ck_metric_inc(ck_metric_with(r->attempts, "scheduled", SCHED_DEFAULT_SCHEDULER_NAME, NULL));
        ck_metric_observe(
            ck_metric_with(r->duration, "scheduled", SCHED_DEFAULT_SCHEDULER_NAME, NULL), secs);
        sched_qpod_free(j->qp);
    } else {
        bind_failed(r, j, key, &err, secs);
    }
    sched_queue_done(r->queue, key);
    free(key);
    free(j->node);
    free(j);
    bind_done(r);
    return NULL;
}

static void start_bind(struct sched_run *r, struct sched_qpod *qp, const char *node, int64_t start)
{
    struct bind_job *j = ck_xmalloc(sizeof(*j));
    *j = (struct bind_job){.r = r, .qp = qp, .node = ck_xstrdup(node), .start = start};
    pthread_mutex_lock(&r->mu);
    r->binding++;
    pthread_mutex_unlock(&r->mu);
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, bind_thread, j);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        bind_thread(j); /* no thread: bind inline */
}

/* ---- the scheduling cycle ---- */

/* upstream ScheduleOne for one popped pod. */
static void schedule_one(struct sched_run *r, struct sched_qpod *qp)
{
    int64_t start = ck_mono_ns();
    struct sched_pod *p = qp->pod;
    sched_cache_update_snapshot(r->cache, &r->snap);
    struct sched_result res;
    memset(&res, 0, sizeof(res));
    if (sched_schedule_one(&r->sched, &r->snap, p, sched_queue_nominator(r->queue), &res) < 0) {
        res.code = SCHED_ERROR;
    }
    if (res.code == SCHED_SUCCESS && res.node) {
        ck_vinfo(2, "Attempting to schedule pod %s/%s on %s (%zu/%zu feasible)", p->ns, p->name,
                 res.node, res.feasible, res.evaluated);
        sched_queue_delete_nominated(r->queue, p->key);
        if (sched_cache_assume_pod(r->cache, p, res.node) < 0) {
            ck_warn("Failed to assume pod %s/%s", p->ns, p->name);
            char *key = ck_xstrdup(p->key);
            sched_queue_add_unschedulable(r->queue, qp, 0);
            sched_queue_done(r->queue, key);
            free(key);
        } else {
            start_bind(r, qp, res.node, start);
        }
        sched_result_clear(&res);
        return;
    }
    bool unsched =
        res.code == SCHED_UNSCHEDULABLE || res.code == SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE;
    const char *result = unsched ? "unschedulable" : "error";
    const char *reason = res.reason ? res.reason
                         : unsched  ? SCHED_REASON_UNSCHEDULABLE
                                    : SCHED_REASON_SCHEDULER_ERROR;
    const char *message = res.message ? res.message : "scheduling failed";
    ck_info("Unable to schedule pod %s/%s: %s", p->ns, p->name, message);
    const char *nominated = NULL;
    if (res.post.nominate) {
        apply_preemption(r, p, &res.post);
        nominated = res.post.node ? res.post.node : "";
    }
    char *evmsg = sched_event_message(message);
    record(r, p->obj, CK_EVENT_WARNING, "FailedScheduling", evmsg);
    free(evmsg);
    patch_status(r, p, reason, message, nominated);
    ck_metric_inc(ck_metric_with(r->attempts, result, SCHED_DEFAULT_SCHEDULER_NAME, NULL));
    ck_metric_observe(ck_metric_with(r->duration, result, SCHED_DEFAULT_SCHEDULER_NAME, NULL),
                      (double)(ck_mono_ns() - start) / 1e9);
    char *key = ck_xstrdup(p->key);
    sched_queue_add_unschedulable(r->queue, qp, unsched ? res.unsched_plugins : 0);
    sched_queue_done(r->queue, key);
    free(key);
    sched_result_clear(&res);
}

static void close_queue(void *arg)
{
    sched_queue_close(((struct sched_run *)arg)->queue);
}

static int run_sync(void *ctx, const char *key)
{
    struct sched_run *r = ctx;
    if (strcmp(key, "tick") == 0) {
        while (ck_cancel_sleep(r->stop, CK_SECOND) == 0)
            sched_queue_tick(r->queue);
        return 0;
    }
    r->hook = ck_cancel_hook_add(r->stop, close_queue, r);
    struct sched_qpod *qp;
    while ((qp = sched_queue_pop(r->queue, true)) != NULL)
        schedule_one(r, qp);
    ck_cancel_hook_remove(r->stop, r->hook);
    r->hook = NULL;
    pthread_mutex_lock(&r->mu);
    while (r->binding > 0)
        pthread_cond_wait(&r->bind_cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    return 0;
}

/* ---- metrics ---- */

static void collect_pending(void *ctx)
{
    struct sched_run *r = ctx;
    struct sched_queue_stats st;
    sched_queue_stats(r->queue, &st);
    ck_metric_set(ck_metric_with(r->pending, "active", NULL), (double)st.active);
    ck_metric_set(ck_metric_with(r->pending, "backoff", NULL), (double)st.backoff);
    ck_metric_set(ck_metric_with(r->pending, "unschedulable", NULL), (double)st.unschedulable);
    ck_metric_set(ck_metric_with(r->pending, "gated", NULL), (double)st.gated);
}

static void register_metrics(struct sched_run *r)
{
    struct ck_metrics *reg = ck_metrics_default();
    static const char *const res_labels[] = {"result", "profile", NULL};
    static const char *const q_labels[] = {"queue", NULL};
    r->attempts = ck_metrics_counter(
        reg, "scheduler_schedule_attempts_total",
        "[STABLE] Number of attempts to schedule pods, by the result. 'unschedulable' means a "
        "pod could not be scheduled, while 'error' means an internal scheduler problem.",
        res_labels);
    double buckets[15];
    ck_metric_exponential_buckets(0.001, 2, 15, buckets);
    r->duration = ck_metrics_histogram(reg, "scheduler_scheduling_attempt_duration_seconds",
                                       "[STABLE] Scheduling attempt latency in seconds "
                                       "(scheduling algorithm + binding)",
                                       res_labels, buckets, 15);
    r->pending = ck_metrics_gauge(reg, "scheduler_pending_pods",
                                  "[STABLE] Number of pending pods, by the queue type. 'active' "
                                  "means number of pods in activeQ; 'backoff' means number of "
                                  "pods in backoffQ; 'unschedulable' means number of pods in "
                                  "unschedulablePods that the scheduler attempted to schedule "
                                  "and failed; 'gated' is the number of unschedulable pods that "
                                  "the scheduler never attempted to schedule because they are "
                                  "gated.",
                                  q_labels);
    ck_metrics_add_collector(reg, collect_pending, r);
}

/* ---- life cycle ---- */

static void run_free(struct sched_run *r)
{
    if (!r)
        return;
    ck_metrics_remove_collector(ck_metrics_default(), collect_pending, r);
    sched_queue_close(r->queue);
    sched_snapshot_free(&r->snap);
    sched_pdb_view_clear(&r->pdb_view);
    sched_queue_free(r->queue);
    sched_cache_free(r->cache);
    sched_framework_free(r->fw);
    ck_event_recorder_free(r->recorder);
    ck_strmap_free(&r->ns_labels, (void (*)(void *))cJSON_Delete);
    cJSON_Delete(r->graveyard);
    pthread_cond_destroy(&r->bind_cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static int watch(struct ck_controller_context *cc, struct ck_controller *c,
                 const struct ck_gvr *gvr, const struct ck_event_handler *h)
{
    struct ck_informer *inf = ck_informer_factory_get(cc->informers, gvr);
    if (!inf)
        return -ENOMEM;
    int rc = ck_informer_add_handler(inf, h, -1);
    if (rc == 0)
        rc = ck_controller_needs(c, inf);
    return rc;
}

/* An informer read as a lister only (upstream's scheduler builds these from its factory too). */
static int lister(struct ck_controller_context *cc, struct ck_controller *c,
                  const struct ck_gvr *gvr, struct ck_store **store)
{
    struct ck_informer *inf = ck_informer_factory_get(cc->informers, gvr);
    if (!inf)
        return -ENOMEM;
    *store = ck_informer_store(inf);
    int rc = ck_informer_add_index(inf, "namespace", ck_index_namespace);
    if (rc < 0 && rc != -EEXIST)
        return rc;
    return ck_controller_needs(c, inf);
}

int sched_run_start(struct ck_controller_context *cc, struct ck_error *err)
{
    run_free(current); /* the previous term's factory is gone: nothing points at it */
    current = NULL;
    struct sched_run *r = ck_xmalloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    r->client = cc->client;
    r->stop = cc->stop;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->bind_cv, NULL);
    r->ns_labels = (struct ck_strmap)CK_STRMAP_INIT;
    r->graveyard = cJSON_CreateArray();
    r->pdb_view = (struct sched_pdb_view)SCHED_PDB_VIEW_INIT;
    struct sched_handle h = {.ctx = r,
                             .namespace_labels = ns_labels,
                             .default_spread_selector = default_spread_selector,
                             .pdbs = pdbs};
    r->fw = sched_framework_new_default(&h);
    struct sched_config defaults;
    sched_config_defaults(&defaults);
    const struct sched_config *conf = cc->config ? cc->config : &defaults;
    if (r->fw)
        r->fw->percentage_of_nodes_to_score = conf->percentage_of_nodes_to_score;
    struct sched_queue_opts qo = {.fw = r->fw,
                                  .namespace_labels = ns_labels,
                                  .ns_ctx = r,
                                  .initial_backoff_ns = conf->initial_backoff_ns,
                                  .max_backoff_ns = conf->max_backoff_ns};
    r->queue = sched_queue_new(&qo);
    r->cache = sched_cache_new(NULL);
    r->sched.fw = r->fw;
    sched_snapshot_init(&r->snap);
    if (cc->events)
        r->recorder = ck_event_recorder_new(cc->events, SCHED_DEFAULT_SCHEDULER_NAME, NULL);
    current = r;
    if (!r->fw || !r->queue || !r->cache)
        return ck_error_set(err, 500, "InternalError", "kube-scheduler: out of memory");
    register_metrics(r);

    struct ck_controller_opts o = {
        .name = "scheduler", .sync = run_sync, .ctx = r, .max_retries = 1};
    struct ck_controller *c = ck_controller_new(&o);
    if (!c)
        return ck_error_set(err, 500, "InternalError", "kube-scheduler: out of memory");
    const struct ck_event_handler nh = {node_add, node_update, node_delete, r};
    const struct ck_event_handler ph = {pod_add, pod_update, pod_delete, r};
    const struct ck_event_handler nsh = {ns_add, ns_update, NULL, r};
    int rc = watch(cc, c, &namespaces_gvr, &nsh);
    if (rc == 0)
        rc = watch(cc, c, &nodes_gvr, &nh);
    if (rc == 0)
        rc = watch(cc, c, &pods_gvr, &ph);
    if (rc == 0)
        rc = lister(cc, c, &services_gvr, &r->listers.services);
    if (rc == 0)
        rc = lister(cc, c, &rcs_gvr, &r->listers.rcs);
    if (rc == 0)
        rc = lister(cc, c, &rss_gvr, &r->listers.rss);
    if (rc == 0)
        rc = lister(cc, c, &sts_gvr, &r->listers.sts);
    if (rc == 0)
        rc = lister(cc, c, &pdbs_gvr, &r->listers.pdbs);
    if (rc < 0) {
        ck_controller_free(c);
        return ck_error_set(err, 500, "InternalError", "kube-scheduler: informers: %s",
                            strerror(-rc));
    }
    ck_controller_enqueue(c, "schedule");
    ck_controller_enqueue(c, "tick");
    return ck_controller_context_add(cc, c, 2);
}
