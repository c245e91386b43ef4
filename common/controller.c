/* controller.c - informers -> work queue -> workers calling sync(key), and the run/stop of a
 * binary's controller table (see controller.h). */
#include "controller.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "timeutil.h"

struct watch_ctx {
    struct ck_controller *c;
    ck_key_fn key_fn;
    bool deletions_only; /* and the initial list (ck_controller_watch_deletions) */
    struct watch_ctx *next;
};

struct ck_controller {
    char *name;
    ck_sync_fn sync;
    void *ctx;
    int max_retries;
    struct ck_workqueue *queue;
    pthread_mutex_t lock;            /* guards informers, watches, threads */
    struct ck_informer **informers; /* to wait for; borrowed */
    size_t ninformers;
    struct watch_ctx *watches;       /* handler contexts; owned */
    pthread_t *threads;
    size_t nthreads;
    atomic_uint_fast64_t syncs;
};

struct ck_controller *ck_controller_new(const struct ck_controller_opts *o)
{
    if (!o || !o->sync)
        return NULL;
    struct ck_controller *c = ck_xcalloc(1, sizeof(*c));
    c->name = ck_xstrdup(o->name && o->name[0] ? o->name : "controller");
    c->sync = o->sync;
    c->ctx = o->ctx;
    c->max_retries = o->max_retries;
    struct ck_workqueue_opts qo = {.name = c->name, .limiter = o->limiter};
    c->queue = ck_workqueue_new(&qo);
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void ck_controller_free(struct ck_controller *c)
{
    if (!c)
        return;
    ck_controller_stop(c);
    ck_workqueue_free(c->queue);
    while (c->watches) {
        struct watch_ctx *w = c->watches;
        c->watches = w->next;
        free(w);
    }
    free(c->informers);
    free(c->threads);
    pthread_mutex_destroy(&c->lock);
    free(c->name);
    free(c);
}

struct ck_workqueue *ck_controller_queue(struct ck_controller *c)
{
    return c ? c->queue : NULL;
}

const char *ck_controller_name(const struct ck_controller *c)
{
    return c ? c->name : "";
}

void ck_controller_enqueue(struct ck_controller *c, const char *key)
{
    if (c)
        ck_workqueue_add(c->queue, key);
}

void ck_controller_enqueue_after(struct ck_controller *c, const char *key, int64_t delay_ns)
{
    if (c)
        ck_workqueue_add_after(c->queue, key, delay_ns);
}

uint64_t ck_controller_syncs(struct ck_controller *c)
{
    return c ? atomic_load(&c->syncs) : 0;
}

/* ---- event handlers ------------------------------------------------------------------------ */

static void enqueue_obj(struct watch_ctx *w, const struct ck_obj *o)
{
    if (!o)
        return;
    if (!w->key_fn) {
        if (o->key[0])
            ck_workqueue_add(w->c->queue, o->key);
        return;
    }
    struct ck_strlist keys = CK_STRLIST_INIT;
    w->key_fn(w->c->ctx, o, &keys);
    for (size_t i = 0; i < keys.n; i++)
        ck_workqueue_add(w->c->queue, keys.v[i]);
    ck_strlist_free(&keys);
}

static void on_add(void *ctx, const struct ck_obj *obj, bool initial)
{
    struct watch_ctx *w = ctx;
    if (w->deletions_only && !initial)
        return;
    enqueue_obj(ctx, obj);
}

static void on_update(void *ctx, const struct ck_obj *old, const struct ck_obj *cur)
{
    struct watch_ctx *w = ctx;
    if (w->deletions_only)
        return;
    enqueue_obj(ctx, cur);
    if (old != cur)
        enqueue_obj(ctx, old);
}

static void on_delete(void *ctx, const struct ck_obj *obj, bool unknown)
{
    (void)unknown;
    enqueue_obj(ctx, obj);
}

static void remember_informer(struct ck_controller *c, struct ck_informer *inf)
{
    for (size_t i = 0; i < c->ninformers; i++)
        if (c->informers[i] == inf)
            return;
    c->informers = ck_xrealloc(c->informers, (c->ninformers + 1) * sizeof(*c->informers));
    c->informers[c->ninformers++] = inf;
}

static int watch(struct ck_controller *c, struct ck_informer *inf, ck_key_fn key_fn,
                 bool deletions_only)
{
    if (!c || !inf)
        return -EINVAL;
    struct watch_ctx *w = ck_xcalloc(1, sizeof(*w));
    w->c = c;
    w->key_fn = key_fn;
    w->deletions_only = deletions_only;
    pthread_mutex_lock(&c->lock);
    w->next = c->watches;
    c->watches = w;
    remember_informer(c, inf);
    pthread_mutex_unlock(&c->lock);
    struct ck_event_handler h = {on_add, on_update, on_delete, w};
    return ck_informer_add_handler(inf, &h, 0);
}

int ck_controller_watch(struct ck_controller *c, struct ck_informer *inf, ck_key_fn key_fn)
{
    return watch(c, inf, key_fn, false);
}

int ck_controller_watch_deletions(struct ck_controller *c, struct ck_informer *inf,
                                  ck_key_fn key_fn)
{
    return watch(c, inf, key_fn, true);
}

int ck_controller_needs(struct ck_controller *c, struct ck_informer *inf)
{
    if (!c || !inf)
        return -EINVAL;
    pthread_mutex_lock(&c->lock);
    remember_informer(c, inf);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* ---- workers ------------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    struct ck_controller *c = arg;
    char *key;
    while (ck_workqueue_get(c->queue, &key) == 0) {
        int64_t t0 = ck_mono_ns();
        int rc = c->sync(c->ctx, key);
        atomic_fetch_add(&c->syncs, 1);
        ck_vinfo(4, "Finished syncing %s \"%s\" in %.3fms", c->name, key,
                 (double)(ck_mono_ns() - t0) / 1e6);
        if (rc == 0) {
            ck_workqueue_forget(c->queue, key);
        } else if (c->max_retries > 0 &&
                   ck_workqueue_num_requeues(c->queue, key) >= c->max_retries) {
            ck_warn("%s: dropping %s out of the queue: %s", c->name, key, strerror(-rc));
            ck_workqueue_forget(c->queue, key);
        } else {
            ck_vinfo(2, "%s: error syncing %s, requeuing: %s", c->name, key,
                     rc < 0 ? strerror(-rc) : "failed");
            ck_workqueue_add_rate_limited(c->queue, key);
        }
        ck_workqueue_done(c->queue, key);
        free(key);
    }
    return NULL;
}

int ck_controller_run(struct ck_controller *c, int workers, struct ck_cancel *cancel)
{
    if (!c)
        return -EINVAL;
    pthread_mutex_lock(&c->lock);
    size_t n = c->ninformers;
    struct ck_informer **infs = ck_xcalloc(n ? n : 1, sizeof(*infs));
    memcpy(infs, c->informers, n * sizeof(*infs));
    pthread_mutex_unlock(&c->lock);
    ck_info("Waiting for caches to sync for %s", c->name);
    for (size_t i = 0; i < n; i++) {
        int rc = ck_informer_wait_for_sync(infs[i], cancel, -1);
        if (rc < 0) {
            free(infs);
            ck_info("Unable to sync caches for %s", c->name);
            return rc;
        }
    }
    free(infs);
    ck_info("Caches are synced for %s", c->name);
    if (workers <= 0) {
        /* as upstream's `for i := 0; i < workers; i++`: the queue fills, nothing syncs */
        ck_vinfo(2, "%s: no workers (%d), keys are queued but not synced", c->name, workers);
        return 0;
    }
    pthread_mutex_lock(&c->lock);
    c->threads = ck_xrealloc(c->threads, (c->nthreads + (size_t)workers) * sizeof(pthread_t));
    int rc = 0;
    for (int i = 0; i < workers; i++) {
        rc = -pthread_create(&c->threads[c->nthreads], NULL, worker_main, c);
        if (rc < 0)
            break;
        c->nthreads++;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void ck_controller_stop(struct ck_controller *c)
{
    if (!c)
        return;
    ck_workqueue_shutdown(c->queue);
    pthread_mutex_lock(&c->lock);
    pthread_t *threads = c->threads;
    size_t n = c->nthreads;
    c->threads = NULL;
    c->nthreads = 0;
    pthread_mutex_unlock(&c->lock);
    for (size_t i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    free(threads);
}

/* ---- a binary's table ---------------------------------------------------------------------- */

int ck_controller_context_add(struct ck_controller_context *cc, struct ck_controller *c,
                              int workers)
{
    if (!cc || !c)
        return -EINVAL;
    cc->controllers = ck_xrealloc(cc->controllers, (cc->n + 1) * sizeof(*cc->controllers));
    cc->workers = ck_xrealloc(cc->workers, (cc->n + 1) * sizeof(*cc->workers));
    cc->controllers[cc->n] = c;
    cc->workers[cc->n] = workers;
    cc->n++;
    return 0;
}

bool ck_controller_enabled(const char *name, bool disabled_by_default, const char *const *list,
                           size_t n)
{
    bool star = false;
    for (size_t i = 0; i < n; i++) {
        const char *e = list[i];
        if (!strcmp(e, name))
            return true;
        if (e[0] == '-' && !strcmp(e + 1, name))
            return false;
        if (!strcmp(e, "*"))
            star = true;
    }
    return star && !disabled_by_default;
}

int ck_controllers_start(struct ck_controller_context *cc, const struct ck_controller_desc *table,
                         size_t n, const char *const *enabled, size_t nenabled,
                         struct ck_error *err)
{
    if (!cc)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!ck_controller_enabled(table[i].name, table[i].disabled_by_default, enabled,
                                   nenabled)) {
            ck_warn("\"%s\" is disabled", table[i].name);
            continue;
        }
        ck_info("Starting %s", table[i].name);
        int rc = table[i].start(cc, err);
        if (rc < 0) {
            ck_err("Error starting %s: %s", table[i].name, err ? err->message : "");
            return rc;
        }
        ck_info("Started %s", table[i].name);
    }
    ck_informer_factory_start(cc->informers);
    for (size_t i = 0; i < cc->n; i++) {
        int rc = ck_controller_run(cc->controllers[i], cc->workers[i], cc->stop);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void ck_controllers_stop(struct ck_controller_context *cc)
{
    if (!cc)
        return;
    for (size_t i = 0; i < cc->n; i++)
        ck_controller_stop(cc->controllers[i]);
    ck_informer_factory_shutdown(cc->informers);
    for (size_t i = 0; i < cc->n; i++)
        ck_controller_free(cc->controllers[i]);
    free(cc->controllers);
    free(cc->workers);
    cc->controllers = NULL;
    cc->workers = NULL;
    cc->n = 0;
}
