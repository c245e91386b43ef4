/* queue.c - scheduling queue and nominator (see queue.h). */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "timeutil.h"

struct nomination {
    struct sched_pod *pod;
    char *node;
};

struct sched_nominator {
    pthread_mutex_t mu;      /* guards by_pod; taken after the queue's lock, never before */
    struct ck_strmap by_pod; /* pod key -> struct nomination* */
};

struct heap {
    struct sched_qpod **a;
    size_t n, cap;
};

struct inflight {
    uint64_t seq;
    struct sched_pod *latest; /* newer version seen meanwhile, or NULL */
    bool deleted;
};

struct logged_event {
    uint64_t seq;
    struct sched_event ev; /* pointers below */
    struct sched_pod *old_pod, *new_pod;
    struct sched_node *old_node, *new_node;
};

struct sched_queue {
    pthread_mutex_t mu; /* guards everything but the nominator */
    pthread_cond_t cond;
    struct sched_queue_opts opts;
    struct heap active, backoff;
    struct ck_strmap unsched;  /* key -> qpod */
    struct ck_strmap queued;   /* key -> qpod, every pod in active, backoff or unsched */
    struct ck_strmap inflight; /* key -> struct inflight* */
    struct logged_event *events;
    size_t nevents;
    uint64_t seq;
    int64_t cycle;
    int64_t last_unsched_flush;
    bool closed;
    struct sched_nominator nom;
};

static int64_t now(struct sched_queue *q)
{
    return q->opts.now_ns ? q->opts.now_ns(q->opts.clock_ctx) : ck_mono_ns();
}

void sched_qpod_free(struct sched_qpod *qp)
{
    if (!qp)
        return;
    sched_pod_unref(qp->pod);
    free(qp);
}

int64_t sched_queue_backoff_ns(const struct sched_queue *q, int attempts)
{
    if (attempts <= 0)
        return 0;
    int64_t d = q->opts.initial_backoff_ns;
    for (int i = 1; i < attempts; i++) {
        if (d > q->opts.max_backoff_ns - d)
            return q->opts.max_backoff_ns;
        d += d;
    }
    return d;
}

static int64_t backoff_expiry(const struct sched_queue *q, const struct sched_qpod *qp)
{
    return qp->timestamp + sched_queue_backoff_ns(q, qp->attempts);
}

/* ---- heaps ---- */

static bool less(const struct sched_queue *q, const struct heap *h, const struct sched_qpod *a,
                 const struct sched_qpod *b)
{
    if (h == &q->active) {
        if (a->pod->priority != b->pod->priority)
            return a->pod->priority > b->pod->priority;
        return a->timestamp < b->timestamp;
    }
    return backoff_expiry(q, a) < backoff_expiry(q, b);
}

static void heap_set(struct heap *h, size_t i, struct sched_qpod *qp)
{
    h->a[i] = qp;
    qp->heap_index = i;
}

static void heap_up(const struct sched_queue *q, struct heap *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!less(q, h, h->a[i], h->a[p]))
            break;
        struct sched_qpod *t = h->a[p];
        heap_set(h, p, h->a[i]);
        heap_set(h, i, t);
        i = p;
    }
}

static void heap_down(const struct sched_queue *q, struct heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && less(q, h, h->a[l], h->a[m]))
            m = l;
        if (r < h->n && less(q, h, h->a[r], h->a[m]))
            m = r;
        if (m == i)
            break;
        struct sched_qpod *t = h->a[m];
        heap_set(h, m, h->a[i]);
        heap_set(h, i, t);
        i = m;
    }
}

static void heap_push(const struct sched_queue *q, struct heap *h, struct sched_qpod *qp)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->a = ck_xrealloc(h->a, h->cap * sizeof(*h->a));
    }
    heap_set(h, h->n++, qp);
    heap_up(q, h, h->n - 1);
}

static void heap_remove(const struct sched_queue *q, struct heap *h, size_t i)
{
    h->n--;
    if (i == h->n)
        return;
    heap_set(h, i, h->a[h->n]);
    heap_down(q, h, i);
    heap_up(q, h, i);
}

/* ---- placement ---- */

/* Takes qp out of whichever sub-queue holds it (stays in `queued`). */
static void detach(struct sched_queue *q, struct sched_qpod *qp)
{
    if (qp->where == SCHED_Q_ACTIVE)
        heap_remove(q, &q->active, qp->heap_index);
    else if (qp->where == SCHED_Q_BACKOFF)
        heap_remove(q, &q->backoff, qp->heap_index);
    else if (qp->where == SCHED_Q_UNSCHEDULABLE)
        ck_strmap_remove(&q->unsched, qp->pod->key);
    qp->where = SCHED_Q_NONE;
}

static void to_unsched(struct sched_queue *q, struct sched_qpod *qp)
{
    ck_strmap_put(&q->unsched, qp->pod->key, qp);
    qp->where = SCHED_Q_UNSCHEDULABLE;
}

/* upstream moveToActiveQ with the SchedulingGates PreEnqueue check. */
static void to_active(struct sched_queue *q, struct sched_qpod *qp)
{
    qp->gated = qp->pod->ngates > 0;
    if (qp->gated) {
        to_unsched(q, qp);
        return;
    }
    heap_push(q, &q->active, qp);
    qp->where = SCHED_Q_ACTIVE;
    pthread_cond_broadcast(&q->cond);
}

static bool backing_off(struct sched_queue *q, const struct sched_qpod *qp)
{
    return !qp->gated && backoff_expiry(q, qp) > now(q);
}

/* queueAfterBackoff: backoffQ while backing off, else activeQ. */
static void requeue(struct sched_queue *q, struct sched_qpod *qp)
{
    if (backing_off(q, qp)) {
        heap_push(q, &q->backoff, qp);
        qp->where = SCHED_Q_BACKOFF;
    } else {
        to_active(q, qp);
    }
}

/* ---- nominator ---- */

static void nomination_free(void *v)
{
    struct nomination *n = v;
    sched_pod_unref(n->pod);
    free(n->node);
    free(n);
}

static void nominate(struct sched_nominator *nm, struct sched_pod *pod, const char *node)
{
    if (!node)
        node = pod->nominated_node;
    pthread_mutex_lock(&nm->mu);
    struct nomination *old = ck_strmap_remove(&nm->by_pod, pod->key);
    if (old)
        nomination_free(old);
    if (node && node[0]) {
        struct nomination *n = ck_xcalloc(1, sizeof(*n));
        n->pod = sched_pod_ref(pod);
        n->node = ck_xstrdup(node);
        ck_strmap_put(&nm->by_pod, pod->key, n);
    }
    pthread_mutex_unlock(&nm->mu);
}

struct sched_nominator *sched_queue_nominator(struct sched_queue *q)
{
    return &q->nom;
}

void sched_queue_set_nominated(struct sched_queue *q, struct sched_pod *pod, const char *node)
{
    nominate(&q->nom, pod, node);
}

void sched_queue_delete_nominated(struct sched_queue *q, const char *key)
{
    pthread_mutex_lock(&q->nom.mu);
    struct nomination *old = ck_strmap_remove(&q->nom.by_pod, key);
    pthread_mutex_unlock(&q->nom.mu);
    if (old)
        nomination_free(old);
}

struct collect {
    const char *node;
    struct sched_pod **pods;
    size_t n;
};

static void collect_nominated(const char *key, void *value, void *ctx)
{
    (void)key;
    struct nomination *nm = value;
    struct collect *c = ctx;
    if (strcmp(nm->node, c->node) != 0)
        return;
    c->pods = ck_xrealloc(c->pods, (c->n + 1) * sizeof(*c->pods));
    c->pods[c->n++] = sched_pod_ref(nm->pod);
}

size_t sched_nominator_pods_for_node(struct sched_nominator *n, const char *node,
                                     struct sched_pod ***out)
{
    struct collect c = {node, NULL, 0};
    *out = NULL;
    if (__atomic_load_n(&n->by_pod.len, __ATOMIC_RELAXED) == 0)
        return 0;
    pthread_mutex_lock(&n->mu);
    ck_strmap_each(&n->by_pod, collect_nominated, &c);
    pthread_mutex_unlock(&n->mu);
    *out = c.pods;
    return c.n;
}

/* ---- lifecycle ---- */

struct sched_queue *sched_queue_new(const struct sched_queue_opts *opts)
{
    struct sched_queue *q = ck_xcalloc(1, sizeof(*q));
    if (opts)
        q->opts = *opts;
    if (q->opts.initial_backoff_ns <= 0)
        q->opts.initial_backoff_ns = SCHED_INITIAL_BACKOFF_NS;
    if (q->opts.max_backoff_ns <= 0)
        q->opts.max_backoff_ns = SCHED_MAX_BACKOFF_NS;
    if (q->opts.max_unschedulable_ns <= 0)
        q->opts.max_unschedulable_ns = SCHED_MAX_UNSCHEDULABLE_NS;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cond, NULL);
    pthread_mutex_init(&q->nom.mu, NULL);
    q->last_unsched_flush = now(q);
    return q;
}

static void free_qpod_v(void *v)
{
    sched_qpod_free(v);
}

static void free_inflight(void *v)
{
    struct inflight *f = v;
    sched_pod_unref(f->latest);
    free(f);
}

static void event_release(struct logged_event *e)
{
    sched_pod_unref(e->old_pod);
    sched_pod_unref(e->new_pod);
    sched_node_unref(e->old_node);
    sched_node_unref(e->new_node);
}

void sched_queue_free(struct sched_queue *q)
{
    if (!q)
        return;
    ck_strmap_free(&q->queued, free_qpod_v);
    ck_strmap_free(&q->unsched, NULL);
    ck_strmap_free(&q->inflight, free_inflight);
    free(q->active.a);
    free(q->backoff.a);
    for (size_t i = 0; i < q->nevents; i++)
        event_release(&q->events[i]);
    free(q->events);
    ck_strmap_free(&q->nom.by_pod, nomination_free);
    pthread_mutex_destroy(&q->nom.mu);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

void sched_queue_close(struct sched_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
}

/* ---- pending pods ---- */

int sched_queue_add(struct sched_queue *q, const cJSON *obj, struct ck_error *err)
{
    struct sched_pod *p = sched_pod_new(obj, err);
    if (!p)
        return -EINVAL;
    pthread_mutex_lock(&q->mu);
    int rc = 0;
    if (ck_strmap_get(&q->queued, p->key)) {
        rc = -EEXIST;
        sched_pod_unref(p);
    } else {
        struct sched_qpod *qp = ck_xcalloc(1, sizeof(*qp));
        qp->pod = p;
        qp->timestamp = now(q);
        ck_strmap_put(&q->queued, p->key, qp);
        to_active(q, qp);
        nominate(&q->nom, p, NULL);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* upstream isPodUpdated: a change beyond status, resourceVersion, generation, managedFields
 * and finalizers. */
static bool pod_updated(const cJSON *a, const cJSON *b)
{
    static const char *const strip[] = {"metadata.resourceVersion", "metadata.generation", "status",
                                        "metadata.managedFields", "metadata.finalizers"};
    cJSON *x = ck_json_dup(a), *y = ck_json_dup(b);
    for (size_t i = 0; i < CK_ARRAY_SIZE(strip); i++) {
        ck_json_delete(x, strip[i]);
        ck_json_delete(y, strip[i]);
    }
    bool r = !ck_json_equal(x, y);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return r;
}

int sched_queue_update(struct sched_queue *q, const cJSON *old_obj, const cJSON *new_obj,
                       struct ck_error *err)
{
    struct sched_pod *p = sched_pod_new(new_obj, err);
    if (!p)
        return -EINVAL;
    pthread_mutex_lock(&q->mu);
    struct inflight *f = ck_strmap_get(&q->inflight, p->key);
    struct sched_qpod *qp = ck_strmap_get(&q->queued, p->key);
    if (f) {
        sched_pod_unref(f->latest);
        f->latest = sched_pod_ref(p);
    } else if (!qp) {
        qp = ck_xcalloc(1, sizeof(*qp));
        qp->pod = sched_pod_ref(p);
        qp->timestamp = now(q);
        ck_strmap_put(&q->queued, p->key, qp);
        to_active(q, qp);
    } else {
        const cJSON *prev = old_obj ? old_obj : qp->pod->obj;
        bool changed = pod_updated(prev, new_obj);
        enum sched_qwhere w = qp->where;
        detach(q, qp);
        sched_pod_unref(qp->pod);
        qp->pod = sched_pod_ref(p);
        if (w == SCHED_Q_ACTIVE)
            to_active(q, qp);
        else if (w == SCHED_Q_BACKOFF)
            requeue(q, qp);
        else if (changed)
            requeue(q, qp);
        else
            to_unsched(q, qp);
    }
    nominate(&q->nom, p, NULL);
    pthread_mutex_unlock(&q->mu);
    sched_pod_unref(p);
    return 0;
}

int sched_queue_delete(struct sched_queue *q, const cJSON *obj)
{
    char key[512];
    sched_pod_key(obj, key, sizeof(key));
    pthread_mutex_lock(&q->mu);
    int rc = -ENOENT;
    struct inflight *f = ck_strmap_get(&q->inflight, key);
    if (f) {
        f->deleted = true;
        rc = 0;
    }
    struct sched_qpod *qp = ck_strmap_get(&q->queued, key);
    if (qp) {
        detach(q, qp);
        ck_strmap_remove(&q->queued, key);
        sched_qpod_free(qp);
        rc = 0;
    }
    pthread_mutex_unlock(&q->mu);
    sched_queue_delete_nominated(q, key);
    return rc;
}

struct sched_qpod *sched_queue_pop(struct sched_queue *q, bool block)
{
    pthread_mutex_lock(&q->mu);
    while (q->active.n == 0 && !q->closed && block)
        pthread_cond_wait(&q->cond, &q->mu);
    if (q->closed || q->active.n == 0) {
        pthread_mutex_unlock(&q->mu);
        return NULL;
    }
    struct sched_qpod *qp = q->active.a[0];
    heap_remove(q, &q->active, 0);
    qp->where = SCHED_Q_NONE;
    ck_strmap_remove(&q->queued, qp->pod->key);
    qp->attempts++;
    if (!qp->initial_attempt)
        qp->initial_attempt = now(q);
    qp->cycle = ++q->cycle;
    qp->popped_seq = ++q->seq;
    qp->unsched_plugins = 0;
    struct inflight *f = ck_xcalloc(1, sizeof(*f));
    f->seq = qp->popped_seq;
    struct inflight *stale = ck_strmap_put(&q->inflight, qp->pod->key, f);
    if (stale)
        free_inflight(stale);
    pthread_mutex_unlock(&q->mu);
    return qp;
}

/* ---- cluster events ---- */

static bool worth_requeue(const struct sched_queue *q, const struct sched_qpod *qp,
                          const struct sched_event *ev)
{
    if (qp->unsched_plugins == 0 || ev->resource == SCHED_RES_WILDCARD || !q->opts.fw)
        return true;
    const struct sched_framework *fw = q->opts.fw;
    for (size_t i = 0; i < fw->nplugins; i++) {
        const struct sched_plugin *pl = fw->plugins[i];
        if (!(qp->unsched_plugins & (1u << pl->id)))
            continue;
        for (size_t j = 0; j < CK_ARRAY_SIZE(pl->events) && pl->events[j].resource; j++) {
            if (!(pl->events[j].resource & ev->resource) || !(pl->events[j].actions & ev->actions))
                continue;
            if (!pl->hint || pl->hint(qp->pod, ev) == SCHED_HINT_QUEUE)
                return true;
        }
    }
    return false;
}

/* Drops logged events no in-flight pod can still need. */
static void prune_events(struct sched_queue *q)
{
    if (q->inflight.len > 0 || q->nevents == 0)
        return;
    for (size_t i = 0; i < q->nevents; i++)
        event_release(&q->events[i]);
    q->nevents = 0;
}

static void log_event(struct sched_queue *q, const struct sched_event *ev)
{
    if (q->inflight.len == 0)
        return;
    q->events = ck_xrealloc(q->events, (q->nevents + 1) * sizeof(*q->events));
    struct logged_event *e = &q->events[q->nevents++];
    e->seq = ++q->seq;
    e->ev = *ev;
    e->old_pod = sched_pod_ref((struct sched_pod *)ev->old_pod);
    e->new_pod = sched_pod_ref((struct sched_pod *)ev->new_pod);
    e->old_node = sched_node_ref((struct sched_node *)ev->old_node);
    e->new_node = sched_node_ref((struct sched_node *)ev->new_node);
}

/* Moves the listed unschedulable pods the event may help. */
static void move_pods(struct sched_queue *q, struct sched_qpod **list, size_t n,
                      const struct sched_event *ev)
{
    for (size_t i = 0; i < n; i++) {
        struct sched_qpod *qp = list[i];
        if (qp->gated || !worth_requeue(q, qp, ev))
            continue;
        detach(q, qp);
        requeue(q, qp);
    }
    log_event(q, ev);
}

struct gather {
    struct sched_qpod **list;
    size_t n;
    const struct sched_pod *pod; /* for the cross-topology pre-filter, or NULL */
    const cJSON *ns_labels;
    int64_t older_than; /* for the leftover flush, or 0 */
    int64_t now;
};

static void gather_unsched(const char *key, void *value, void *ctx)
{
    (void)key;
    struct gather *g = ctx;
    struct sched_qpod *qp = value;
    if (g->pod) {
        bool want = (qp->unsched_plugins & (1u << SCHED_PL_POD_TOPOLOGY_SPREAD)) &&
                    strcmp(qp->pod->ns, g->pod->ns) == 0;
        for (size_t i = 0; !want && i < qp->pod->nreq_aff; i++)
            want =
                sched_term_matches(&qp->pod->req_aff[i], g->pod->ns, g->pod->labels, g->ns_labels);
        if (!want)
            return;
    }
    if (g->older_than && g->now - qp->timestamp <= g->older_than)
        return;
    g->list = ck_xrealloc(g->list, (g->n + 1) * sizeof(*g->list));
    g->list[g->n++] = qp;
}

static void move_matching(struct sched_queue *q, const struct sched_event *ev,
                          const struct sched_pod *cross)
{
    struct gather g = {0};
    g.pod = cross;
    if (cross && q->opts.namespace_labels)
        g.ns_labels = q->opts.namespace_labels(q->opts.ns_ctx, cross->ns);
    ck_strmap_each(&q->unsched, gather_unsched, &g);
    move_pods(q, g.list, g.n, ev);
    free(g.list);
}

void sched_queue_move_all(struct sched_queue *q, const struct sched_event *ev)
{
    pthread_mutex_lock(&q->mu);
    move_matching(q, ev, NULL);
    pthread_mutex_unlock(&q->mu);
}

void sched_queue_node_added(struct sched_queue *q, const struct sched_node *node)
{
    struct sched_event ev = {SCHED_RES_NODE, SCHED_ACT_ADD, "NodeAdd", NULL, NULL, NULL, node};
    sched_queue_move_all(q, &ev);
}

void sched_queue_node_updated(struct sched_queue *q, const struct sched_node *old_node,
                              const struct sched_node *new_node)
{
    unsigned a = sched_node_update_actions(old_node, new_node);
    if (!a)
        return;
    struct sched_event ev = {SCHED_RES_NODE, a, "NodeUpdate", NULL, NULL, old_node, new_node};
    sched_queue_move_all(q, &ev);
}

void sched_queue_node_deleted(struct sched_queue *q, const struct sched_node *node)
{
    struct sched_event ev = {
        SCHED_RES_NODE, SCHED_ACT_DELETE, "NodeDelete", NULL, NULL, node, NULL};
    sched_queue_move_all(q, &ev);
}

void sched_queue_assigned_pod_added(struct sched_queue *q, const struct sched_pod *pod)
{
    struct sched_event ev = {
        SCHED_RES_ASSIGNED_POD, SCHED_ACT_ADD, "AssignedPodAdd", NULL, pod, NULL, NULL};
    pthread_mutex_lock(&q->mu);
    move_matching(q, &ev, pod);
    pthread_mutex_unlock(&q->mu);
}

void sched_queue_assigned_pod_updated(struct sched_queue *q, const struct sched_pod *old_pod,
                                      const struct sched_pod *new_pod)
{
    unsigned a = sched_pod_update_actions(old_pod, new_pod);
    struct sched_event ev = {
        SCHED_RES_ASSIGNED_POD, a, "AssignedPodUpdate", old_pod, new_pod, NULL, NULL};
    pthread_mutex_lock(&q->mu);
    move_matching(q, &ev, (a & SCHED_ACT_UPDATE_POD_SCALE_DOWN) ? NULL : new_pod);
    pthread_mutex_unlock(&q->mu);
}

void sched_queue_assigned_pod_deleted(struct sched_queue *q, const struct sched_pod *pod)
{
    struct sched_event ev = {
        SCHED_RES_ASSIGNED_POD, SCHED_ACT_DELETE, "AssignedPodDelete", pod, NULL, NULL, NULL};
    sched_queue_move_all(q, &ev);
}

int sched_queue_add_unschedulable(struct sched_queue *q, struct sched_qpod *qp,
                                  uint32_t unsched_plugins)
{
    pthread_mutex_lock(&q->mu);
    struct inflight *f = ck_strmap_remove(&q->inflight, qp->pod->key);
    int rc = 0;
    if ((f && f->deleted) || ck_strmap_get(&q->queued, qp->pod->key)) {
        rc = f && f->deleted ? -ENOENT : -EEXIST;
        sched_qpod_free(qp);
        goto out;
    }
    if (f && f->latest) {
        sched_pod_unref(qp->pod);
        qp->pod = sched_pod_ref(f->latest);
    }
    qp->unsched_plugins = unsched_plugins;
    qp->timestamp = now(q);
    ck_strmap_put(&q->queued, qp->pod->key, qp);
    bool move = unsched_plugins == 0;
    for (size_t i = 0; i < q->nevents && !move; i++)
        if (q->events[i].seq > qp->popped_seq)
            move = worth_requeue(q, qp, &q->events[i].ev);
    if (move)
        requeue(q, qp);
    else
        to_unsched(q, qp);
    nominate(&q->nom, qp->pod, NULL);
out:
    if (f)
        free_inflight(f);
    prune_events(q);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void sched_queue_done(struct sched_queue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    struct inflight *f = ck_strmap_remove(&q->inflight, key);
    if (f)
        free_inflight(f);
    prune_events(q);
    pthread_mutex_unlock(&q->mu);
}

/* ---- timers ---- */

void sched_queue_flush_backoff(struct sched_queue *q)
{
    pthread_mutex_lock(&q->mu);
    int64_t t = now(q);
    while (q->backoff.n > 0 && backoff_expiry(q, q->backoff.a[0]) <= t) {
        struct sched_qpod *qp = q->backoff.a[0];
        heap_remove(q, &q->backoff, 0);
        qp->where = SCHED_Q_NONE;
        to_active(q, qp);
    }
    pthread_mutex_unlock(&q->mu);
}

void sched_queue_flush_unschedulable(struct sched_queue *q)
{
    static const struct sched_event ev = {
        SCHED_RES_WILDCARD, SCHED_ACT_ALL, "UnschedulableTimeout", NULL, NULL, NULL, NULL};
    pthread_mutex_lock(&q->mu);
    struct gather g = {0};
    g.now = now(q);
    g.older_than = q->opts.max_unschedulable_ns;
    q->last_unsched_flush = g.now;
    ck_strmap_each(&q->unsched, gather_unsched, &g);
    if (g.n)
        move_pods(q, g.list, g.n, &ev);
    free(g.list);
    pthread_mutex_unlock(&q->mu);
}

void sched_queue_tick(struct sched_queue *q)
{
    sched_queue_flush_backoff(q);
    pthread_mutex_lock(&q->mu);
    bool due = now(q) - q->last_unsched_flush >= SCHED_UNSCHEDULABLE_FLUSH_NS;
    pthread_mutex_unlock(&q->mu);
    if (due)
        sched_queue_flush_unschedulable(q);
}

/* ---- introspection ---- */

static void count_gated(const char *key, void *value, void *ctx)
{
    (void)key;
    if (((struct sched_qpod *)value)->gated)
        (*(size_t *)ctx)++;
}

void sched_queue_stats(struct sched_queue *q, struct sched_queue_stats *out)
{
    pthread_mutex_lock(&q->mu);
    out->active = q->active.n;
    out->backoff = q->backoff.n;
    out->gated = 0;
    ck_strmap_each(&q->unsched, count_gated, &out->gated);
    out->unschedulable = q->unsched.len - out->gated;
    pthread_mutex_unlock(&q->mu);
}

enum sched_qwhere sched_queue_where(struct sched_queue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    struct sched_qpod *qp = ck_strmap_get(&q->queued, key);
    enum sched_qwhere w = qp ? qp->where : SCHED_Q_NONE;
    pthread_mutex_unlock(&q->mu);
    return w;
}
