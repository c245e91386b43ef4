/* workqueue.c - rate-limited, delaying, deduplicating work queue and client-go's rate limiters
 * (see workqueue.h). */
#include "workqueue.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "strmap.h"
#include "timeutil.h"

/* ---- rate limiters ------------------------------------------------------------------------- */

/* per-key counters shared by the exponential and fast/slow limiters */
struct keyed_limiter {
    struct ck_rate_limiter base;
    pthread_mutex_t lock;      /* guards failures */
    struct ck_strmap failures; /* key -> (void *)(uintptr_t)count */
    int64_t a, b;              /* exponential: base, max; fast/slow: fast, slow */
    int max_fast;
};

static int keyed_bump(struct keyed_limiter *l, const char *key)
{
    pthread_mutex_lock(&l->lock);
    uintptr_t n = (uintptr_t)ck_strmap_get(&l->failures, key);
    ck_strmap_put(&l->failures, key, (void *)(n + 1));
    pthread_mutex_unlock(&l->lock);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

static void keyed_forget(struct ck_rate_limiter *rl, const char *key)
{
    struct keyed_limiter *l = (struct keyed_limiter *)rl;
    pthread_mutex_lock(&l->lock);
    ck_strmap_remove(&l->failures, key);
    pthread_mutex_unlock(&l->lock);
}

static int keyed_requeues(struct ck_rate_limiter *rl, const char *key)
{
    struct keyed_limiter *l = (struct keyed_limiter *)rl;
    pthread_mutex_lock(&l->lock);
    uintptr_t n = (uintptr_t)ck_strmap_get(&l->failures, key);
    pthread_mutex_unlock(&l->lock);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

static void keyed_free(struct ck_rate_limiter *rl)
{
    struct keyed_limiter *l = (struct keyed_limiter *)rl;
    ck_strmap_free(&l->failures, NULL);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static int64_t exponential_when(struct ck_rate_limiter *rl, const char *key)
{
    struct keyed_limiter *l = (struct keyed_limiter *)rl;
    int exp = keyed_bump(l, key);
    double backoff = (double)l->a * pow(2, exp);
    if (!(backoff < (double)INT64_MAX) || (int64_t)backoff > l->b)
        return l->b;
    return (int64_t)backoff;
}

static int64_t fast_slow_when(struct ck_rate_limiter *rl, const char *key)
{
    struct keyed_limiter *l = (struct keyed_limiter *)rl;
    int attempts = keyed_bump(l, key) + 1;
    return attempts <= l->max_fast ? l->a : l->b;
}

static struct keyed_limiter *keyed_new(int64_t (*when)(struct ck_rate_limiter *, const char *))
{
    struct keyed_limiter *l = ck_xcalloc(1, sizeof(*l));
    l->base.when = when;
    l->base.forget = keyed_forget;
    l->base.num_requeues = keyed_requeues;
    l->base.free = keyed_free;
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

struct ck_rate_limiter *ck_rate_limiter_exponential(int64_t base_ns, int64_t max_ns)
{
    struct keyed_limiter *l = keyed_new(exponential_when);
    l->a = base_ns < 0 ? 0 : base_ns;
    l->b = max_ns < 0 ? 0 : max_ns;
    return &l->base;
}

struct ck_rate_limiter *ck_rate_limiter_fast_slow(int64_t fast_ns, int64_t slow_ns, int max_fast)
{
    struct keyed_limiter *l = keyed_new(fast_slow_when);
    l->a = fast_ns;
    l->b = slow_ns;
    l->max_fast = max_fast;
    return &l->base;
}

/* golang.org/x/time/rate's reservation arithmetic: tokens may go negative, the wait is the
 * time until the reserved token has been refilled. */
struct bucket_limiter {
    struct ck_rate_limiter base;
    pthread_mutex_t lock; /* guards tokens, last_ns */
    double qps, tokens;
    int burst;
    int64_t last_ns;
};

static int64_t bucket_when(struct ck_rate_limiter *rl, const char *key)
{
    (void)key;
    struct bucket_limiter *l = (struct bucket_limiter *)rl;
    if (l->qps <= 0)
        return l->burst > 0 ? 0 : INT64_MAX / 2;
    pthread_mutex_lock(&l->lock);
    int64_t now = ck_mono_ns();
    if (now > l->last_ns) {
        l->tokens += (double)(now - l->last_ns) / 1e9 * l->qps;
        if (l->tokens > l->burst)
            l->tokens = l->burst;
        l->last_ns = now;
    }
    l->tokens -= 1;
    int64_t wait = l->tokens >= 0 ? 0 : (int64_t)(-l->tokens / l->qps * 1e9);
    pthread_mutex_unlock(&l->lock);
    return wait;
}

static void bucket_forget(struct ck_rate_limiter *rl, const char *key)
{
    (void)rl;
    (void)key;
}

static int bucket_requeues(struct ck_rate_limiter *rl, const char *key)
{
    (void)rl;
    (void)key;
    return 0;
}

static void bucket_free(struct ck_rate_limiter *rl)
{
    struct bucket_limiter *l = (struct bucket_limiter *)rl;
    pthread_mutex_destroy(&l->lock);
    free(l);
}

struct ck_rate_limiter *ck_rate_limiter_bucket(double qps, int burst)
{
    struct bucket_limiter *l = ck_xcalloc(1, sizeof(*l));
    l->base.when = bucket_when;
    l->base.forget = bucket_forget;
    l->base.num_requeues = bucket_requeues;
    l->base.free = bucket_free;
    pthread_mutex_init(&l->lock, NULL);
    l->qps = qps;
    l->burst = burst < 0 ? 0 : burst;
    l->tokens = l->burst;
    l->last_ns = ck_mono_ns();
    return &l->base;
}

#define MAX_OF_LIMIT 8

struct max_of_limiter {
    struct ck_rate_limiter base;
    struct ck_rate_limiter *v[MAX_OF_LIMIT];
    size_t n;
};

static int64_t max_of_when(struct ck_rate_limiter *rl, const char *key)
{
    struct max_of_limiter *l = (struct max_of_limiter *)rl;
    int64_t best = 0;
    for (size_t i = 0; i < l->n; i++) {
        int64_t d = l->v[i]->when(l->v[i], key);
        if (d > best)
            best = d;
    }
    return best;
}

static void max_of_forget(struct ck_rate_limiter *rl, const char *key)
{
    struct max_of_limiter *l = (struct max_of_limiter *)rl;
    for (size_t i = 0; i < l->n; i++)
        l->v[i]->forget(l->v[i], key);
}

static int max_of_requeues(struct ck_rate_limiter *rl, const char *key)
{
    struct max_of_limiter *l = (struct max_of_limiter *)rl;
    int best = 0;
    for (size_t i = 0; i < l->n; i++) {
        int r = l->v[i]->num_requeues(l->v[i], key);
        if (r > best)
            best = r;
    }
    return best;
}

static void max_of_free(struct ck_rate_limiter *rl)
{
    struct max_of_limiter *l = (struct max_of_limiter *)rl;
    for (size_t i = 0; i < l->n; i++)
        ck_rate_limiter_free(l->v[i]);
    free(l);
}

struct ck_rate_limiter *ck_rate_limiter_max_of(struct ck_rate_limiter **limiters, size_t n)
{
    struct max_of_limiter *l = ck_xcalloc(1, sizeof(*l));
    l->base.when = max_of_when;
    l->base.forget = max_of_forget;
    l->base.num_requeues = max_of_requeues;
    l->base.free = max_of_free;
    for (size_t i = 0; i < n; i++) {
        if (!limiters[i])
            continue;
        if (l->n < MAX_OF_LIMIT)
            l->v[l->n++] = limiters[i];
        else
            ck_rate_limiter_free(limiters[i]);
    }
    return &l->base;
}

struct ck_rate_limiter *ck_rate_limiter_default(void)
{
    struct ck_rate_limiter *v[2] = {
        ck_rate_limiter_exponential(5 * INT64_C(1000000), 1000 * CK_SECOND),
        ck_rate_limiter_bucket(10, 100),
    };
    return ck_rate_limiter_max_of(v, 2);
}

void ck_rate_limiter_free(struct ck_rate_limiter *rl)
{
    if (rl)
        rl->free(rl);
}

/* ---- queue --------------------------------------------------------------------------------- */

struct ready_item {
    char *key;
};

struct delayed_item {
    char *key;
    int64_t ready_ns;
};

struct ck_workqueue {
    pthread_mutex_t lock; /* guards everything below except rl and the metric pointers */
    pthread_cond_t cond;  /* CLOCK_MONOTONIC; signalled on add, done, shutdown */
    struct ready_item *ring;
    size_t head, len, cap;
    struct ck_strmap dirty;      /* key -> int64_t* time of the add (ns, monotonic) */
    struct ck_strmap processing; /* key -> int64_t* start time (ns) */
    struct delayed_item *heap;   /* min-heap by ready_ns */
    size_t hlen, hcap;
    struct ck_strmap waiting;    /* key -> (void *)(heap index + 1) */
    bool shutting_down, drain;
    struct ck_rate_limiter *rl; /* thread-safe on its own */
    struct ck_metrics *reg;
    struct ck_metric *depth, *adds, *retries, *queue_dur, *work_dur, *unfinished, *longest;
};

static void collect_metrics(void *ctx);

struct ck_workqueue *ck_workqueue_new(const struct ck_workqueue_opts *opts)
{
    struct ck_workqueue *q = ck_xcalloc(1, sizeof(*q));
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
    q->rl = opts && opts->limiter ? opts->limiter : ck_rate_limiter_default();
    const char *name = opts ? opts->name : NULL;
    if (name && *name) {
        q->reg = opts->metrics ? opts->metrics : ck_metrics_default();
        static const char *const lbl[] = {"name", NULL};
        double b[10];
        ck_metric_exponential_buckets(1e-8, 10, 10, b);
        q->depth = ck_metric_with(
            ck_metrics_gauge(q->reg, "workqueue_depth", "Current depth of workqueue", lbl), name,
            NULL);
        q->adds = ck_metric_with(ck_metrics_counter(q->reg, "workqueue_adds_total",
                                                    "Total number of adds handled by workqueue",
                                                    lbl),
                                 name, NULL);
        q->retries = ck_metric_with(
            ck_metrics_counter(q->reg, "workqueue_retries_total",
                               "Total number of retries handled by workqueue", lbl),
            name, NULL);
        q->queue_dur = ck_metric_with(
            ck_metrics_histogram(q->reg, "workqueue_queue_duration_seconds",
                                 "How long in seconds an item stays in workqueue before being "
                                 "requested.",
                                 lbl, b, 10),
            name, NULL);
        q->work_dur = ck_metric_with(
            ck_metrics_histogram(q->reg, "workqueue_work_duration_seconds",
                                 "How long in seconds processing an item from workqueue takes.",
                                 lbl, b, 10),
            name, NULL);
        q->unfinished = ck_metric_with(
            ck_metrics_gauge(q->reg, "workqueue_unfinished_work_seconds",
                             "How many seconds of work has done that is in progress and hasn't "
                             "been observed by work_duration. Large values indicate stuck "
                             "threads. One can deduce the number of stuck threads by observing "
                             "the rate at which this increases.",
                             lbl),
            name, NULL);
        q->longest = ck_metric_with(
            ck_metrics_gauge(q->reg, "workqueue_longest_running_processor_seconds",
                             "How many seconds has the longest running processor for workqueue "
                             "been running.",
                             lbl),
            name, NULL);
        ck_metrics_add_collector(q->reg, collect_metrics, q);
    }
    return q;
}

static void free_ptr(void *p)
{
    free(p);
}

void ck_workqueue_free(struct ck_workqueue *q)
{
    if (!q)
        return;
    ck_workqueue_shutdown(q);
    if (q->reg)
        ck_metrics_remove_collector(q->reg, collect_metrics, q);
    for (size_t i = 0; i < q->len; i++)
        free(q->ring[(q->head + i) % q->cap].key);
    free(q->ring);
    for (size_t i = 0; i < q->hlen; i++)
        free(q->heap[i].key);
    free(q->heap);
    ck_strmap_free(&q->dirty, free_ptr);
    ck_strmap_free(&q->processing, free_ptr);
    ck_strmap_free(&q->waiting, NULL);
    ck_rate_limiter_free(q->rl);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

/* dirty values: the time the key was added (for queue_duration), heap-allocated */
static int64_t *new_time(int64_t t)
{
    int64_t *p = ck_xmalloc(sizeof(*p));
    *p = t;
    return p;
}

static void ring_push(struct ck_workqueue *q, const char *key)
{
    if (q->len == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 16;
        struct ready_item *n = ck_xcalloc(ncap, sizeof(*n));
        for (size_t i = 0; i < q->len; i++)
            n[i] = q->ring[(q->head + i) % q->cap];
        free(q->ring);
        q->ring = n;
        q->cap = ncap;
        q->head = 0;
    }
    q->ring[(q->head + q->len) % q->cap].key = ck_xstrdup(key);
    q->len++;
}

static char *ring_pop(struct ck_workqueue *q)
{
    char *k = q->ring[q->head].key;
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return k;
}

static void add_locked(struct ck_workqueue *q, const char *key)
{
    if (q->shutting_down || ck_strmap_get(&q->dirty, key))
        return;
    ck_metric_inc(q->adds);
    ck_metric_inc(q->depth);
    ck_strmap_put(&q->dirty, key, new_time(ck_mono_ns()));
    if (ck_strmap_get(&q->processing, key))
        return; /* queued again by done() */
    ring_push(q, key);
    pthread_cond_signal(&q->cond);
}

void ck_workqueue_add(struct ck_workqueue *q, const char *key)
{
    if (!q || !key)
        return;
    pthread_mutex_lock(&q->lock);
    add_locked(q, key);
    pthread_mutex_unlock(&q->lock);
}

/* ---- delayed keys: a binary min-heap with an index map for dedup ---- */

static void heap_set(struct ck_workqueue *q, size_t i, struct delayed_item it)
{
    q->heap[i] = it;
    ck_strmap_put(&q->waiting, it.key, (void *)(uintptr_t)(i + 1));
}

static void heap_up(struct ck_workqueue *q, size_t i)
{
    struct delayed_item it = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (q->heap[parent].ready_ns <= it.ready_ns)
            break;
        heap_set(q, i, q->heap[parent]);
        i = parent;
    }
    heap_set(q, i, it);
}

static void heap_down(struct ck_workqueue *q, size_t i)
{
    struct delayed_item it = q->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        int64_t best = it.ready_ns;
        if (l < q->hlen && q->heap[l].ready_ns < best) {
            m = l;
            best = q->heap[l].ready_ns;
        }
        if (r < q->hlen && q->heap[r].ready_ns < best)
            m = r;
        if (m == i)
            break;
        heap_set(q, i, q->heap[m]);
        i = m;
    }
    heap_set(q, i, it);
}

static void heap_pop(struct ck_workqueue *q)
{
    ck_strmap_remove(&q->waiting, q->heap[0].key);
    free(q->heap[0].key);
    q->hlen--;
    if (q->hlen > 0) {
        q->heap[0] = q->heap[q->hlen];
        heap_down(q, 0);
    }
}

/* moves every delayed key whose time has come to the ready queue */
static void promote_ready(struct ck_workqueue *q, int64_t now)
{
    while (q->hlen > 0 && q->heap[0].ready_ns <= now) {
        char *key = ck_xstrdup(q->heap[0].key);
        heap_pop(q);
        add_locked(q, key);
        free(key);
    }
}

void ck_workqueue_add_after(struct ck_workqueue *q, const char *key, int64_t delay_ns)
{
    if (!q || !key)
        return;
    pthread_mutex_lock(&q->lock);
    if (q->shutting_down) {
        pthread_mutex_unlock(&q->lock);
        return;
    }
    if (delay_ns <= 0) {
        add_locked(q, key);
        pthread_mutex_unlock(&q->lock);
        return;
    }
    int64_t now = ck_mono_ns();
    int64_t ready = delay_ns > INT64_MAX - now ? INT64_MAX : now + delay_ns;
    uintptr_t idx = (uintptr_t)ck_strmap_get(&q->waiting, key);
    if (idx) { /* already waiting: keep the earlier time */
        if (ready < q->heap[idx - 1].ready_ns) {
            q->heap[idx - 1].ready_ns = ready;
            heap_up(q, idx - 1);
        }
    } else {
        if (q->hlen == q->hcap) {
            q->hcap = q->hcap ? q->hcap * 2 : 16;
            q->heap = ck_xrealloc(q->heap, q->hcap * sizeof(*q->heap));
        }
        q->heap[q->hlen] = (struct delayed_item){ck_xstrdup(key), ready};
        q->hlen++;
        heap_up(q, q->hlen - 1);
    }
    /* a getter may be sleeping until a later time */
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

void ck_workqueue_add_rate_limited(struct ck_workqueue *q, const char *key)
{
    if (!q || !key)
        return;
    ck_metric_inc(q->retries);
    ck_workqueue_add_after(q, key, q->rl->when(q->rl, key));
}

void ck_workqueue_forget(struct ck_workqueue *q, const char *key)
{
    if (q && key)
        q->rl->forget(q->rl, key);
}

int ck_workqueue_num_requeues(struct ck_workqueue *q, const char *key)
{
    return q && key ? q->rl->num_requeues(q->rl, key) : 0;
}

static void mono_deadline(int64_t at_ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(at_ns / CK_NSEC_PER_SEC);
    ts->tv_nsec = (long)(at_ns % CK_NSEC_PER_SEC);
}

int ck_workqueue_get_timeout(struct ck_workqueue *q, int64_t timeout_ns, char **key)
{
    if (!q || !key)
        return -EINVAL;
    *key = NULL;
    int64_t deadline = -1;
    if (timeout_ns >= 0) {
        int64_t now = ck_mono_ns();
        deadline = timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
    }
    pthread_mutex_lock(&q->lock);
    for (;;) {
        int64_t now = ck_mono_ns();
        if (!q->shutting_down)
            promote_ready(q, now);
        if (q->len > 0)
            break;
        if (q->shutting_down) {
            pthread_mutex_unlock(&q->lock);
            return -ESHUTDOWN;
        }
        if (deadline >= 0 && now >= deadline) {
            pthread_mutex_unlock(&q->lock);
            return -ETIMEDOUT;
        }
        int64_t until = deadline;
        if (q->hlen > 0 && (until < 0 || q->heap[0].ready_ns < until))
            until = q->heap[0].ready_ns;
        if (until < 0) {
            pthread_cond_wait(&q->cond, &q->lock);
        } else {
            struct timespec ts;
            mono_deadline(until, &ts);
            pthread_cond_timedwait(&q->cond, &q->lock, &ts);
        }
    }
    char *k = ring_pop(q);
    int64_t now = ck_mono_ns();
    int64_t *added = ck_strmap_remove(&q->dirty, k);
    if (added) {
        ck_metric_dec(q->depth);
        ck_metric_observe(q->queue_dur, (double)(now - *added) / 1e9);
        free(added);
    }
    free(ck_strmap_put(&q->processing, k, new_time(now)));
    pthread_mutex_unlock(&q->lock);
    *key = k;
    return 0;
}

int ck_workqueue_get(struct ck_workqueue *q, char **key)
{
    return ck_workqueue_get_timeout(q, -1, key);
}

void ck_workqueue_done(struct ck_workqueue *q, const char *key)
{
    if (!q || !key)
        return;
    pthread_mutex_lock(&q->lock);
    int64_t *start = ck_strmap_remove(&q->processing, key);
    if (start) {
        ck_metric_observe(q->work_dur, (double)(ck_mono_ns() - *start) / 1e9);
        free(start);
        if (ck_strmap_get(&q->dirty, key)) {
            ring_push(q, key);
            pthread_cond_signal(&q->cond);
        } else if (q->processing.len == 0) {
            pthread_cond_broadcast(&q->cond); /* a draining shutdown may be waiting */
        }
    }
    pthread_mutex_unlock(&q->lock);
}

size_t ck_workqueue_len(struct ck_workqueue *q)
{
    if (!q)
        return 0;
    pthread_mutex_lock(&q->lock);
    if (!q->shutting_down)
        promote_ready(q, ck_mono_ns());
    size_t n = q->len;
    pthread_mutex_unlock(&q->lock);
    return n;
}

size_t ck_workqueue_delayed_len(struct ck_workqueue *q)
{
    if (!q)
        return 0;
    pthread_mutex_lock(&q->lock);
    size_t n = q->hlen;
    pthread_mutex_unlock(&q->lock);
    return n;
}

static void shutdown_locked(struct ck_workqueue *q)
{
    q->shutting_down = true;
    while (q->hlen > 0) /* delayed keys are dropped, as upstream's delaying queue */
        heap_pop(q);
    pthread_cond_broadcast(&q->cond);
}

void ck_workqueue_shutdown(struct ck_workqueue *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    shutdown_locked(q);
    pthread_mutex_unlock(&q->lock);
}

void ck_workqueue_shutdown_with_drain(struct ck_workqueue *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->drain = true;
    shutdown_locked(q);
    while (q->processing.len > 0)
        pthread_cond_wait(&q->cond, &q->lock);
    q->drain = false;
    pthread_mutex_unlock(&q->lock);
}

bool ck_workqueue_shutting_down(struct ck_workqueue *q)
{
    if (!q)
        return true;
    pthread_mutex_lock(&q->lock);
    bool s = q->shutting_down;
    pthread_mutex_unlock(&q->lock);
    return s;
}

struct unfinished_acc {
    int64_t now;
    double total, longest;
};

static void sum_unfinished(const char *key, void *value, void *ctx)
{
    (void)key;
    struct unfinished_acc *a = ctx;
    double s = (double)(a->now - *(int64_t *)value) / 1e9;
    a->total += s;
    if (s > a->longest)
        a->longest = s;
}

/* runs at scrape time: the two gauges upstream refreshes every 500 ms */
static void collect_metrics(void *ctx)
{
    struct ck_workqueue *q = ctx;
    struct unfinished_acc a = {ck_mono_ns(), 0, 0};
    pthread_mutex_lock(&q->lock);
    ck_strmap_each(&q->processing, sum_unfinished, &a);
    pthread_mutex_unlock(&q->lock);
    ck_metric_set(q->unfinished, a.total);
    ck_metric_set(q->longest, a.longest);
}
