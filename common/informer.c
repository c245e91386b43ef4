/* informer.c - reflector (list + watch), handler dispatch, resync, and the shared informer
 * factory (see informer.h). */
#include "informer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "mem.h"
#include "strmap.h"
#include "timeutil.h"

#define DEFAULT_PAGE 500
#define BACKOFF_MIN (800 * INT64_C(1000000))
#define BACKOFF_MAX (30 * CK_SECOND)
#define MIN_RESYNC CK_SECOND
#define MIN_WATCH_TIMEOUT_S 300

struct handler {
    struct ck_event_handler h;
    int64_t resync_ns;   /* <= 0: none */
    int64_t next_resync; /* monotonic ns */
    struct handler *next;
};

struct ck_informer {
    struct ck_client *client; /* borrowed */
    char *group, *version, *resource;
    struct ck_gvr gvr; /* points at the strings above */
    char *ns, *label, *field;
    int64_t default_resync, page_size;
    struct ck_store *store;

    /* serializes store changes with their notifications, and guards handlers */
    pthread_mutex_t dispatch;
    struct handler *handlers;

    pthread_mutex_t state; /* guards everything below */
    pthread_cond_t synced_cond;
    bool synced, running;
    char last_rv[64];
    struct ck_informer_stats stats;
    pthread_t reflector, resyncer;
    struct ck_cancel *stop; /* owned; a fresh one per start */
};

static char *dup_opt(const char *s)
{
    return s && s[0] ? ck_xstrdup(s) : NULL;
}

int ck_informer_new(struct ck_client *client, const struct ck_gvr *gvr,
                    const struct ck_informer_opts *opts, struct ck_informer **out)
{
    *out = NULL;
    if (!client || !gvr || !gvr->version || !gvr->resource)
        return -EINVAL;
    struct ck_informer_opts none = {0};
    if (!opts)
        opts = &none;
    struct ck_informer *inf = ck_xcalloc(1, sizeof(*inf));
    inf->client = client;
    inf->group = ck_xstrdup(gvr->group ? gvr->group : "");
    inf->version = ck_xstrdup(gvr->version);
    inf->resource = ck_xstrdup(gvr->resource);
    inf->gvr = (struct ck_gvr){inf->group, inf->version, inf->resource};
    inf->ns = dup_opt(opts->namespace);
    inf->label = dup_opt(opts->label_selector);
    inf->field = dup_opt(opts->field_selector);
    inf->default_resync = opts->resync_ns;
    inf->page_size = opts->page_size > 0 ? opts->page_size : DEFAULT_PAGE;
    inf->store = ck_store_new();
    pthread_mutex_init(&inf->dispatch, NULL);
    pthread_mutex_init(&inf->state, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&inf->synced_cond, &ca);
    pthread_condattr_destroy(&ca);
    *out = inf;
    return 0;
}

void ck_informer_free(struct ck_informer *inf)
{
    if (!inf)
        return;
    ck_informer_stop(inf);
    while (inf->handlers) {
        struct handler *h = inf->handlers;
        inf->handlers = h->next;
        free(h);
    }
    ck_store_free(inf->store);
    pthread_mutex_destroy(&inf->dispatch);
    pthread_mutex_destroy(&inf->state);
    pthread_cond_destroy(&inf->synced_cond);
    free(inf->group);
    free(inf->version);
    free(inf->resource);
    free(inf->ns);
    free(inf->label);
    free(inf->field);
    free(inf);
}

struct ck_store *ck_informer_store(struct ck_informer *inf)
{
    return inf ? inf->store : NULL;
}

const struct ck_gvr *ck_informer_gvr(const struct ck_informer *inf)
{
    return &inf->gvr;
}

int ck_informer_add_index(struct ck_informer *inf, const char *name, ck_index_fn fn)
{
    if (!inf)
        return -EINVAL;
    return ck_store_add_index(inf->store, name, fn);
}

bool ck_informer_has_synced(struct ck_informer *inf)
{
    if (!inf)
        return false;
    pthread_mutex_lock(&inf->state);
    bool s = inf->synced;
    pthread_mutex_unlock(&inf->state);
    return s;
}

void ck_informer_last_rv(struct ck_informer *inf, char *out, size_t size)
{
    pthread_mutex_lock(&inf->state);
    snprintf(out, size, "%s", inf->last_rv);
    pthread_mutex_unlock(&inf->state);
}

void ck_informer_stats(struct ck_informer *inf, struct ck_informer_stats *out)
{
    pthread_mutex_lock(&inf->state);
    *out = inf->stats;
    pthread_mutex_unlock(&inf->state);
}

static void set_last_rv(struct ck_informer *inf, const char *rv)
{
    if (!rv || !rv[0])
        return;
    pthread_mutex_lock(&inf->state);
    snprintf(inf->last_rv, sizeof(inf->last_rv), "%s", rv);
    pthread_mutex_unlock(&inf->state);
}

/* ---- dispatch (callers hold inf->dispatch) ---------------------------------------------- */

static void notify_add(struct ck_informer *inf, const struct ck_obj *o, bool initial)
{
    for (struct handler *h = inf->handlers; h; h = h->next)
        if (h->h.on_add)
            h->h.on_add(h->h.ctx, o, initial);
}

static void notify_update(struct ck_informer *inf, const struct ck_obj *old,
                          const struct ck_obj *cur)
{
    for (struct handler *h = inf->handlers; h; h = h->next)
        if (h->h.on_update)
            h->h.on_update(h->h.ctx, old, cur);
}

static void notify_delete(struct ck_informer *inf, const struct ck_obj *o, bool unknown)
{
    for (struct handler *h = inf->handlers; h; h = h->next)
        if (h->h.on_delete)
            h->h.on_delete(h->h.ctx, o, unknown);
}

int ck_informer_add_handler(struct ck_informer *inf, const struct ck_event_handler *h,
                            int64_t resync_ns)
{
    if (!inf || !h)
        return -EINVAL;
    struct handler *n = ck_xcalloc(1, sizeof(*n));
    n->h = *h;
    if (resync_ns == 0)
        resync_ns = inf->default_resync;
    n->resync_ns = resync_ns <= 0 ? 0 : resync_ns < MIN_RESYNC ? MIN_RESYNC : resync_ns;
    n->next_resync = ck_mono_ns() + n->resync_ns;
    pthread_mutex_lock(&inf->dispatch);
    struct handler **pp = &inf->handlers;
    while (*pp)
        pp = &(*pp)->next;
    *pp = n;
    /* a late handler first hears about everything already known */
    if (ck_informer_has_synced(inf) && n->h.on_add) {
        struct ck_obj_list all;
        ck_store_list(inf->store, &all);
        for (size_t i = 0; i < all.n; i++)
            n->h.on_add(n->h.ctx, all.items[i], true);
        ck_obj_list_free(&all);
    }
    pthread_mutex_unlock(&inf->dispatch);
    return 0;
}

/* ---- list ---------------------------------------------------------------------------------- */

/* Sets apiVersion/kind on items that lack them, from the list's ("PodList" -> "Pod"). */
static void fill_type(cJSON *item, const char *api_version, const char *list_kind)
{
    if (!cJSON_IsObject(item))
        return;
    if (!ck_json_get(item, "apiVersion") && api_version)
        cJSON_AddStringToObject(item, "apiVersion", api_version);
    size_t kl = list_kind ? strlen(list_kind) : 0;
    if (!ck_json_get(item, "kind") && kl > 4 && !strcmp(list_kind + kl - 4, "List")) {
        char *k = ck_xstrndup(list_kind, kl - 4);
        cJSON_AddStringToObject(item, "kind", k);
        free(k);
    }
}

/* Lists everything (paginated); *items (caller frees) gets the objects, rv the list's RV. */
static int list_all(struct ck_informer *inf, cJSON **items, char *rv, size_t rvsize,
                    struct ck_error *err)
{
    *items = cJSON_CreateArray();
    int64_t limit = inf->page_size;
    char *cont = NULL;
    int rc = 0;
    for (;;) {
        if (ck_cancel_fired(inf->stop)) {
            rc = -ECANCELED;
            break;
        }
        struct ck_list_opts lo = {.label_selector = inf->label,
                                  .field_selector = inf->field,
                                  .limit = limit,
                                  .continue_token = cont};
        cJSON *page = NULL;
        rc = ck_client_list(inf->client, &inf->gvr, inf->ns, &lo, &page, err);
        if (rc == -ESTALE && cont) {
            /* the continue token expired mid-way: one full list instead, as client-go's
             * pager falls back */
            ck_warn("%s: continue token expired; listing without pagination", inf->resource);
            free(cont);
            cont = NULL;
            limit = 0;
            cJSON_Delete(*items);
            *items = cJSON_CreateArray();
            continue;
        }
        if (rc < 0)
            break;
        const char *api_version = ck_json_get_string(page, "apiVersion", NULL);
        const char *kind = ck_json_get_string(page, "kind", NULL);
        cJSON *list = ck_json_get(page, "items");
        cJSON *it = cJSON_IsArray(list) ? list->child : NULL;
        while (it) {
            cJSON *next = it->next;
            cJSON_DetachItemViaPointer(list, it);
            fill_type(it, api_version, kind);
            cJSON_AddItemToArray(*items, it);
            it = next;
        }
        snprintf(rv, rvsize, "%s", ck_json_get_string(page, "metadata.resourceVersion", ""));
        free(cont);
        cont = dup_opt(ck_json_get_string(page, "metadata.continue", NULL));
        cJSON_Delete(page);
        if (!cont)
            break;
    }
    free(cont);
    if (rc < 0) {
        cJSON_Delete(*items);
        *items = NULL;
    }
    return rc;
}

/* Replaces the store's content with items (taken), notifying as upstream's Replace. */
static void replace(struct ck_informer *inf, cJSON *items, const char *rv)
{
    struct ck_strmap seen = CK_STRMAP_INIT;
    pthread_mutex_lock(&inf->dispatch);
    bool initial = !ck_informer_has_synced(inf);
    cJSON *it = items->child;
    while (it) {
        cJSON *next = it->next;
        cJSON_DetachItemViaPointer(items, it);
        struct ck_obj *o = ck_obj_new(it);
        if (!o->key[0]) {
            ck_obj_unref(o);
            it = next;
            continue;
        }
        ck_strmap_put(&seen, o->key, (void *)1);
        struct ck_obj *old = ck_store_put(inf->store, o);
        if (old)
            notify_update(inf, old, o);
        else
            notify_add(inf, o, initial);
        ck_obj_unref(old);
        ck_obj_unref(o);
        it = next;
    }
    struct ck_strlist keys = CK_STRLIST_INIT;
    ck_store_keys(inf->store, &keys);
    for (size_t i = 0; i < keys.n; i++) {
        if (ck_strmap_get(&seen, keys.v[i]))
            continue;
        struct ck_obj *gone = ck_store_delete(inf->store, keys.v[i]);
        if (gone)
            notify_delete(inf, gone, true); /* DeletedFinalStateUnknown */
        ck_obj_unref(gone);
    }
    ck_strlist_free(&keys);
    ck_strmap_free(&seen, NULL);
    pthread_mutex_lock(&inf->state);
    snprintf(inf->last_rv, sizeof(inf->last_rv), "%s", rv);
    inf->stats.lists++;
    if (!inf->synced) {
        inf->synced = true;
        pthread_cond_broadcast(&inf->synced_cond);
    }
    pthread_mutex_unlock(&inf->state);
    pthread_mutex_unlock(&inf->dispatch);
    cJSON_Delete(items);
}

/* ---- watch --------------------------------------------------------------------------------- */

static int on_event(void *ctx, const char *type, cJSON *obj)
{
    struct ck_informer *inf = ctx;
    if (!strcmp(type, "BOOKMARK")) {
        set_last_rv(inf, ck_json_get_string(obj, "metadata.resourceVersion", NULL));
        cJSON_Delete(obj);
        return 0;
    }
    if (!strcmp(type, "ERROR")) {
        struct ck_error e = CK_ERROR_INIT;
        int rc = ck_error_from_status(obj, 0, &e);
        if (rc != -ESTALE)
            ck_warn("%s: watch error event: %s", inf->resource, e.message);
        ck_error_clear(&e);
        cJSON_Delete(obj);
        return rc < 0 ? rc : -EIO;
    }
    bool deleted = !strcmp(type, "DELETED");
    if (!deleted && strcmp(type, "ADDED") && strcmp(type, "MODIFIED")) {
        cJSON_Delete(obj);
        return -EBADMSG;
    }
    struct ck_obj *o = ck_obj_new(obj);
    if (!o->key[0]) {
        ck_obj_unref(o);
        return 0;
    }
    pthread_mutex_lock(&inf->dispatch);
    if (deleted) {
        struct ck_obj *old = ck_store_delete(inf->store, o->key);
        if (old) /* a deletion of something a relist already removed is not reported twice */
            notify_delete(inf, o, false);
        ck_obj_unref(old);
    } else {
        struct ck_obj *old = ck_store_put(inf->store, o);
        if (old)
            notify_update(inf, old, o);
        else
            notify_add(inf, o, false);
        ck_obj_unref(old);
    }
    pthread_mutex_lock(&inf->state);
    if (o->rv[0])
        snprintf(inf->last_rv, sizeof(inf->last_rv), "%s", o->rv);
    inf->stats.events++;
    pthread_mutex_unlock(&inf->state);
    pthread_mutex_unlock(&inf->dispatch);
    ck_obj_unref(o);
    return 0;
}

static bool is_transport_error(int rc, const struct ck_error *err)
{
    return err->code == 0 && (rc == -ECONNREFUSED || rc == -ECONNRESET || rc == -ETIMEDOUT ||
                              rc == -EIO || rc == -EHOSTUNREACH);
}

static void *reflector_main(void *arg)
{
    struct ck_informer *inf = arg;
    int64_t backoff = BACKOFF_MIN;
    bool need_list = true;
    struct ck_error err = CK_ERROR_INIT;
    while (!ck_cancel_fired(inf->stop)) {
        if (need_list) {
            cJSON *items = NULL;
            char rv[64] = "";
            int rc = list_all(inf, &items, rv, sizeof(rv), &err);
            if (rc == -ECANCELED)
                break;
            if (rc < 0) {
                ck_warn("failed to list %s: %s", inf->resource, err.message);
                ck_cancel_sleep(inf->stop, backoff);
                backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
                continue;
            }
            replace(inf, items, rv);
            need_list = false;
            backoff = BACKOFF_MIN;
        }
        char rv[64];
        ck_informer_last_rv(inf, rv, sizeof(rv));
        struct ck_watch_opts wo = {.resource_version = rv,
                                   .label_selector = inf->label,
                                   .field_selector = inf->field,
                                   .timeout_seconds = MIN_WATCH_TIMEOUT_S +
                                                      rand() % MIN_WATCH_TIMEOUT_S,
                                   .allow_bookmarks = true,
                                   .cancel = inf->stop};
        pthread_mutex_lock(&inf->state);
        inf->stats.watches++;
        pthread_mutex_unlock(&inf->state);
        ck_error_clear(&err);
        int rc = ck_client_watch(inf->client, &inf->gvr, inf->ns, &wo, on_event, inf, &err);
        if (rc == 0) { /* the server closed the watch: resume from the last RV */
            backoff = BACKOFF_MIN;
            continue;
        }
        if (rc == -ECANCELED)
            break;
        if (rc == -ESTALE) {
            ck_vinfo(2, "%s: watch closed with: too old resource version %s; relisting",
                     inf->resource, rv);
            pthread_mutex_lock(&inf->state);
            inf->stats.expired++;
            pthread_mutex_unlock(&inf->state);
            need_list = true;
            continue;
        }
        if (is_transport_error(rc, &err) || rc == -EAGAIN) {
            /* broken or refused connection, or 429: resume from the last RV after a pause */
            ck_vinfo(2, "%s: watch ended with: %s", inf->resource, err.message);
        } else {
            ck_warn("%s: watch ended with: %s; relisting", inf->resource,
                    err.message[0] ? err.message : strerror(-rc));
            need_list = true;
        }
        ck_cancel_sleep(inf->stop, backoff);
        backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
    }
    ck_error_clear(&err);
    return NULL;
}

/* periodic resync: on_update(obj, obj) for everything, per handler period */
static void *resync_main(void *arg)
{
    struct ck_informer *inf = arg;
    int64_t wait = CK_SECOND;
    while (ck_cancel_sleep(inf->stop, wait) == 0) {
        wait = CK_SECOND; /* handlers may be added at any time: look at least once a second */
        if (!ck_informer_has_synced(inf))
            continue;
        int64_t now = ck_mono_ns();
        pthread_mutex_lock(&inf->dispatch);
        struct ck_obj_list all = CK_OBJ_LIST_INIT;
        bool listed = false;
        for (struct handler *h = inf->handlers; h; h = h->next) {
            if (h->resync_ns <= 0)
                continue;
            if (now >= h->next_resync) {
                if (!listed) {
                    ck_store_list(inf->store, &all);
                    listed = true;
                }
                if (h->h.on_update)
                    for (size_t i = 0; i < all.n; i++)
                        h->h.on_update(h->h.ctx, all.items[i], all.items[i]);
                h->next_resync = now + h->resync_ns;
            }
            if (h->next_resync - now < wait)
                wait = h->next_resync - now;
        }
        ck_obj_list_free(&all);
        pthread_mutex_unlock(&inf->dispatch);
        if (wait < 10 * INT64_C(1000000))
            wait = 10 * INT64_C(1000000);
    }
    return NULL;
}

int ck_informer_start(struct ck_informer *inf)
{
    if (!inf)
        return -EINVAL;
    pthread_mutex_lock(&inf->state);
    if (inf->running) {
        pthread_mutex_unlock(&inf->state);
        return -EALREADY;
    }
    ck_cancel_free(inf->stop);
    inf->stop = ck_cancel_new();
    int rc = -pthread_create(&inf->reflector, NULL, reflector_main, inf);
    if (rc == 0) {
        rc = -pthread_create(&inf->resyncer, NULL, resync_main, inf);
        if (rc < 0) {
            ck_cancel_fire(inf->stop);
            pthread_mutex_unlock(&inf->state);
            pthread_join(inf->reflector, NULL);
            return rc;
        }
        inf->running = true;
    }
    pthread_mutex_unlock(&inf->state);
    return rc;
}

void ck_informer_stop(struct ck_informer *inf)
{
    if (!inf)
        return;
    pthread_mutex_lock(&inf->state);
    bool running = inf->running;
    inf->running = false;
    pthread_mutex_unlock(&inf->state);
    if (running) {
        ck_cancel_fire(inf->stop);
        pthread_join(inf->reflector, NULL);
        pthread_join(inf->resyncer, NULL);
    }
    pthread_mutex_lock(&inf->state);
    pthread_cond_broadcast(&inf->synced_cond); /* waiters re-check */
    pthread_mutex_unlock(&inf->state);
    ck_cancel_free(inf->stop);
    inf->stop = NULL;
}

int ck_informer_wait_for_sync(struct ck_informer *inf, struct ck_cancel *cancel,
                              int64_t timeout_ns)
{
    if (!inf)
        return -EINVAL;
    int64_t deadline = timeout_ns >= 0 ? ck_mono_ns() + timeout_ns : INT64_MAX;
    pthread_mutex_lock(&inf->state);
    while (!inf->synced) {
        int64_t now = ck_mono_ns();
        if (ck_cancel_fired(cancel)) {
            pthread_mutex_unlock(&inf->state);
            return -ECANCELED;
        }
        if (now >= deadline) {
            pthread_mutex_unlock(&inf->state);
            return -ETIMEDOUT;
        }
        int64_t until = now + 50 * INT64_C(1000000); /* re-check cancel every 50 ms */
        if (until > deadline)
            until = deadline;
        struct timespec ts = {(time_t)(until / CK_NSEC_PER_SEC),
                              (long)(until % CK_NSEC_PER_SEC)};
        pthread_cond_timedwait(&inf->synced_cond, &inf->state, &ts);
    }
    pthread_mutex_unlock(&inf->state);
    return 0;
}

/* ---- factory ------------------------------------------------------------------------------- */

struct ck_informer_factory {
    struct ck_client *client;
    struct ck_informer_opts opts; /* strings owned */
    pthread_mutex_t lock;         /* guards informers */
    struct ck_informer **informers;
    size_t n;
};

struct ck_informer_factory *ck_informer_factory_new(struct ck_client *client,
                                                    const struct ck_informer_opts *opts)
{
    struct ck_informer_factory *f = ck_xcalloc(1, sizeof(*f));
    f->client = client;
    if (opts) {
        f->opts = *opts;
        f->opts.namespace = dup_opt(opts->namespace);
        f->opts.label_selector = dup_opt(opts->label_selector);
        f->opts.field_selector = dup_opt(opts->field_selector);
    }
    pthread_mutex_init(&f->lock, NULL);
    return f;
}

struct ck_informer *ck_informer_factory_get(struct ck_informer_factory *f,
                                            const struct ck_gvr *gvr)
{
    if (!f || !gvr || !gvr->version || !gvr->resource)
        return NULL;
    const char *g = gvr->group ? gvr->group : "";
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n; i++) {
        struct ck_informer *inf = f->informers[i];
        if (!strcmp(inf->group, g) && !strcmp(inf->version, gvr->version) &&
            !strcmp(inf->resource, gvr->resource)) {
            pthread_mutex_unlock(&f->lock);
            return inf;
        }
    }
    struct ck_informer *inf = NULL;
    if (ck_informer_new(f->client, gvr, &f->opts, &inf) == 0) {
        f->informers = ck_xrealloc(f->informers, (f->n + 1) * sizeof(*f->informers));
        f->informers[f->n++] = inf;
    }
    pthread_mutex_unlock(&f->lock);
    return inf;
}

void ck_informer_factory_start(struct ck_informer_factory *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n; i++) {
        int rc = ck_informer_start(f->informers[i]);
        if (rc < 0 && rc != -EALREADY)
            ck_err("starting the %s informer: %s", f->informers[i]->resource, strerror(-rc));
    }
    pthread_mutex_unlock(&f->lock);
}

int ck_informer_factory_wait_for_sync(struct ck_informer_factory *f, struct ck_cancel *cancel,
                                      int64_t timeout_ns)
{
    if (!f)
        return -EINVAL;
    int64_t deadline = timeout_ns >= 0 ? ck_mono_ns() + timeout_ns : -1;
    pthread_mutex_lock(&f->lock);
    size_t n = f->n;
    struct ck_informer **list = ck_xcalloc(n ? n : 1, sizeof(*list));
    memcpy(list, f->informers, n * sizeof(*list));
    pthread_mutex_unlock(&f->lock);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int64_t left = deadline < 0 ? -1 : deadline - ck_mono_ns();
        if (deadline >= 0 && left < 0)
            left = 0;
        rc = ck_informer_wait_for_sync(list[i], cancel, left);
    }
    free(list);
    return rc;
}

void ck_informer_factory_shutdown(struct ck_informer_factory *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n; i++)
        ck_informer_stop(f->informers[i]);
    pthread_mutex_unlock(&f->lock);
}

void ck_informer_factory_free(struct ck_informer_factory *f)
{
    if (!f)
        return;
    ck_informer_factory_shutdown(f);
    for (size_t i = 0; i < f->n; i++)
        ck_informer_free(f->informers[i]);
    free(f->informers);
    free((char *)f->opts.namespace);
    free((char *)f->opts.label_selector);
    free((char *)f->opts.field_selector);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
