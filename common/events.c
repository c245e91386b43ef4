/* events.c - Event recorder, broadcaster queue and upstream's EventCorrelator (see events.h). */
#include "events.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "mem.h"
#include "strmap.h"
#include "timeutil.h"

#define LRU_SIZE 4096

/* ---- a small LRU cache (used by the writer thread only) ------------------------------------ */

struct lru_entry {
    char *key;
    void *value;
    struct lru_entry *prev, *next;
};

struct lru {
    struct ck_strmap map; /* key -> struct lru_entry* */
    struct lru_entry head; /* sentinel: head.next is the most recent */
    size_t cap;
    void (*free_value)(void *);
};

static void lru_init(struct lru *l, size_t cap, void (*free_value)(void *))
{
    memset(l, 0, sizeof(*l));
    l->head.next = l->head.prev = &l->head;
    l->cap = cap;
    l->free_value = free_value;
}

static void lru_unlink(struct lru_entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void lru_front(struct lru *l, struct lru_entry *e)
{
    e->next = l->head.next;
    e->prev = &l->head;
    l->head.next->prev = e;
    l->head.next = e;
}

static void lru_drop(struct lru *l, struct lru_entry *e)
{
    lru_unlink(e);
    ck_strmap_remove(&l->map, e->key);
    l->free_value(e->value);
    free(e->key);
    free(e);
}

static void *lru_get(struct lru *l, const char *key)
{
    struct lru_entry *e = ck_strmap_get(&l->map, key);
    if (!e)
        return NULL;
    lru_unlink(e);
    lru_front(l, e);
    return e->value;
}

/* Stores value (owned) under key, replacing and freeing an older value. */
static void lru_put(struct lru *l, const char *key, void *value)
{
    struct lru_entry *e = ck_strmap_get(&l->map, key);
    if (e) {
        if (e->value != value)
            l->free_value(e->value);
        e->value = value;
        lru_unlink(e);
        lru_front(l, e);
        return;
    }
    e = ck_xcalloc(1, sizeof(*e));
    e->key = ck_xstrdup(key);
    e->value = value;
    ck_strmap_put(&l->map, key, e);
    lru_front(l, e);
    if (l->map.len > l->cap)
        lru_drop(l, l->head.prev);
}

static void lru_free(struct lru *l)
{
    while (l->head.next != &l->head)
        lru_drop(l, l->head.next);
    ck_strmap_free(&l->map, NULL);
}

/* ---- cache records ------------------------------------------------------------------------- */

struct spam_record {
    double tokens;
    int64_t last_ns;
};

struct aggregate_record {
    struct ck_strmap local_keys; /* message -> (void *)1 */
    int64_t last_ns;
};

struct event_log {
    int64_t count;
    char first[CK_TIME_BUFSZ];
    char *name, *rv;
};

static void free_aggregate(void *p)
{
    struct aggregate_record *r = p;
    ck_strmap_free(&r->local_keys, NULL);
    free(r);
}

static void free_event_log(void *p)
{
    struct event_log *l = p;
    free(l->name);
    free(l->rv);
    free(l);
}

/* ---- broadcaster --------------------------------------------------------------------------- */

struct ck_event_broadcaster {
    struct ck_client *client;
    struct ck_event_broadcaster_opts o;
    pthread_mutex_t lock; /* guards the queue, busy, stopping, stats */
    pthread_cond_t cond;  /* queue changes, busy changes, stop */
    cJSON **queue;
    size_t head, len;
    bool busy, stopping;
    struct ck_event_stats stats;
    struct ck_cancel *stop;
    pthread_t thread;
    /* writer thread only */
    struct lru spam, aggregate, logs;
};

struct ck_event_recorder {
    struct ck_event_broadcaster *b;
    char *component, *host;
};

static const char *gs(const cJSON *o, const char *path)
{
    return ck_json_get_string(o, path, "");
}

static char *join_fields(const cJSON *ev, const char *const *paths)
{
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; paths[i]; i++) {
        ck_buf_puts(&b, gs(ev, paths[i]));
        ck_buf_putc(&b, '\x1f');
    }
    return ck_buf_detach(&b);
}

/* upstream getEventKey: everything but timestamps and count */
static char *event_key(const cJSON *ev)
{
    static const char *const f[] = {"source.component", "source.host", "involvedObject.kind",
                                     "involvedObject.namespace", "involvedObject.name",
                                     "involvedObject.fieldPath", "involvedObject.uid",
                                     "involvedObject.apiVersion", "type", "reason", "message",
                                     NULL};
    return join_fields(ev, f);
}

static char *spam_key(const cJSON *ev)
{
    static const char *const f[] = {"source.component", "source.host", "involvedObject.kind",
                                    "involvedObject.namespace", "involvedObject.name",
                                    "involvedObject.uid", "involvedObject.apiVersion", NULL};
    return join_fields(ev, f);
}

static char *aggregate_key(const cJSON *ev)
{
    static const char *const f[] = {"source.component", "source.host", "involvedObject.kind",
                                    "involvedObject.namespace", "involvedObject.name",
                                    "involvedObject.uid", "involvedObject.apiVersion", "type",
                                    "reason", "reportingComponent", "reportingInstance", NULL};
    return join_fields(ev, f);
}

/* A fresh Event for ref at time now (wall ns). */
static cJSON *make_event(const cJSON *ref, const char *type, const char *reason,
                         const char *message, const char *component, const char *host,
                         const struct timespec *now, bool reporting)
{
    char ts[CK_TIME_BUFSZ];
    ck_time_format(now, ts);
    int64_t nanos = (int64_t)now->tv_sec * CK_NSEC_PER_SEC + now->tv_nsec;
    const char *ns = gs(ref, "namespace");
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "kind", "Event");
    cJSON_AddStringToObject(ev, "apiVersion", "v1");
    cJSON *md = cJSON_AddObjectToObject(ev, "metadata");
    char *name = ck_xasprintf("%s.%llx", gs(ref, "name"), (unsigned long long)nanos);
    cJSON_AddStringToObject(md, "name", name);
    free(name);
    cJSON_AddStringToObject(md, "namespace", ns[0] ? ns : "default");
    cJSON_AddItemToObject(ev, "involvedObject", ck_json_dup(ref));
    cJSON_AddStringToObject(ev, "reason", reason);
    cJSON_AddStringToObject(ev, "message", message);
    cJSON *src = cJSON_AddObjectToObject(ev, "source");
    if (component && component[0])
        cJSON_AddStringToObject(src, "component", component);
    if (host && host[0])
        cJSON_AddStringToObject(src, "host", host);
    cJSON_AddStringToObject(ev, "firstTimestamp", ts);
    cJSON_AddStringToObject(ev, "lastTimestamp", ts);
    cJSON_AddNumberToObject(ev, "count", 1);
    cJSON_AddStringToObject(ev, "type", type);
    cJSON_AddNullToObject(ev, "eventTime");
    /* upstream's aggregate copy leaves the reporting fields empty */
    cJSON_AddStringToObject(ev, "reportingComponent", reporting && component ? component : "");
    cJSON_AddStringToObject(ev, "reportingInstance", reporting && host ? host : "");
    return ev;
}

/* EventAggregate: returns the event to write (ev itself or a new aggregate, ev then freed) and
 * its cache key (caller frees). */
static cJSON *aggregate(struct ck_event_broadcaster *b, cJSON *ev, char **cache_key)
{
    int64_t now = ck_mono_ns();
    char *akey = aggregate_key(ev);
    struct aggregate_record *r = lru_get(&b->aggregate, akey);
    if (!r || now - r->last_ns > b->o.aggregate_window_ns) {
        r = ck_xcalloc(1, sizeof(*r));
        lru_put(&b->aggregate, akey, r);
    }
    ck_strmap_put(&r->local_keys, gs(ev, "message"), (void *)1);
    r->last_ns = now;
    if (r->local_keys.len < (size_t)b->o.aggregate_max) {
        free(akey);
        *cache_key = event_key(ev);
        return ev;
    }
    /* over the threshold: forget one message and write the combined event */
    if (r->local_keys.nbuckets) {
        for (size_t i = 0; i < r->local_keys.nbuckets; i++) {
            if (r->local_keys.buckets[i]) {
                char *k = ck_xstrdup(r->local_keys.buckets[i]->key);
                ck_strmap_remove(&r->local_keys, k);
                free(k);
                break;
            }
        }
    }
    struct timespec t;
    ck_time_now(&t);
    char *msg = ck_xasprintf("(combined from similar events): %s", gs(ev, "message"));
    cJSON *agg = make_event(ck_json_get(ev, "involvedObject"), gs(ev, "type"), gs(ev, "reason"),
                            msg, gs(ev, "source.component"), gs(ev, "source.host"), &t, false);
    cJSON_ReplaceItemInObjectCaseSensitive(ck_json_get(agg, "metadata"), "namespace",
                                           cJSON_CreateString(gs(ev, "metadata.namespace")));
    free(msg);
    cJSON_Delete(ev);
    *cache_key = akey;
    return agg;
}

/* eventObserve: an event seen before gets the earlier name/firstTimestamp and count+1, and a
 * patch (caller frees) with what changes. */
static char *observe(struct ck_event_broadcaster *b, cJSON *ev, const char *key)
{
    struct event_log *last = lru_get(&b->logs, key);
    char *patch = NULL;
    if (last && last->count > 0) {
        cJSON *md = ck_json_get(ev, "metadata");
        cJSON_ReplaceItemInObjectCaseSensitive(md, "name", cJSON_CreateString(last->name));
        if (last->rv && last->rv[0])
            ck_json_set_string(md, "resourceVersion", last->rv);
        cJSON_ReplaceItemInObjectCaseSensitive(ev, "firstTimestamp",
                                               cJSON_CreateString(last->first));
        cJSON_ReplaceItemInObjectCaseSensitive(ev, "count", ck_json_new_int64(last->count + 1));
        cJSON *p = cJSON_CreateObject();
        cJSON_AddItemToObject(p, "count", ck_json_new_int64(last->count + 1));
        cJSON_AddStringToObject(p, "lastTimestamp", gs(ev, "lastTimestamp"));
        cJSON_AddStringToObject(p, "message", gs(ev, "message"));
        patch = ck_json_print(p, CK_JSON_NO_HTML_ESCAPE);
        cJSON_Delete(p);
    }
    struct event_log *l = ck_xcalloc(1, sizeof(*l));
    l->count = ck_json_get_int64(ev, "count", 1);
    snprintf(l->first, sizeof(l->first), "%s", gs(ev, "firstTimestamp"));
    l->name = ck_xstrdup(gs(ev, "metadata.name"));
    l->rv = ck_xstrdup(gs(ev, "metadata.resourceVersion"));
    lru_put(&b->logs, key, l);
    return patch;
}

/* updateState: remember what the server answered (name, count, resourceVersion) */
static void update_state(struct ck_event_broadcaster *b, const cJSON *server_ev)
{
    char *key = event_key(server_ev);
    struct event_log *l = ck_xcalloc(1, sizeof(*l));
    l->count = ck_json_get_int64(server_ev, "count", 1);
    snprintf(l->first, sizeof(l->first), "%s", gs(server_ev, "firstTimestamp"));
    l->name = ck_xstrdup(gs(server_ev, "metadata.name"));
    l->rv = ck_xstrdup(gs(server_ev, "metadata.resourceVersion"));
    lru_put(&b->logs, key, l);
    free(key);
}

/* the spam filter's token bucket: true when the event must be dropped */
static bool spam_filtered(struct ck_event_broadcaster *b, const cJSON *ev)
{
    char *key = spam_key(ev);
    struct spam_record *r = lru_get(&b->spam, key);
    int64_t now = ck_mono_ns();
    if (!r) {
        r = ck_xcalloc(1, sizeof(*r));
        r->tokens = b->o.spam_burst;
        r->last_ns = now;
        lru_put(&b->spam, key, r);
    }
    free(key);
    r->tokens += (double)(now - r->last_ns) / 1e9 * b->o.spam_qps;
    if (r->tokens > b->o.spam_burst)
        r->tokens = b->o.spam_burst;
    r->last_ns = now;
    if (r->tokens < 1)
        return true;
    r->tokens -= 1;
    return false;
}

static const struct ck_gvr event_gvr = {"", "v1", "events"};

/* One write attempt; true when done (written, or rejected for good). */
static bool write_event(struct ck_event_broadcaster *b, cJSON *ev, const char *patch)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *out = NULL;
    const char *ns = gs(ev, "metadata.namespace");
    int rc = -ENOENT;
    if (patch) {
        rc = ck_client_patch(b->client, &event_gvr, ns, gs(ev, "metadata.name"), NULL,
                             CK_PATCH_STRATEGIC, patch, NULL, &out, &err);
        if (rc == 0) {
            pthread_mutex_lock(&b->lock);
            b->stats.patched++;
            pthread_mutex_unlock(&b->lock);
        }
    }
    if (rc == -ENOENT) { /* not patched: (re)create it */
        ck_error_clear(&err);
        cJSON_DeleteItemFromObjectCaseSensitive(ck_json_get(ev, "metadata"), "resourceVersion");
        rc = ck_client_create(b->client, &event_gvr, ns, ev, &out, &err);
        if (rc == 0) {
            pthread_mutex_lock(&b->lock);
            b->stats.created++;
            pthread_mutex_unlock(&b->lock);
        }
    }
    bool done = true;
    if (rc == 0) {
        if (out)
            update_state(b, out);
    } else if (err.code != 0) { /* the server rejected it: never retried */
        if (rc == -EEXIST)
            ck_vinfo(5, "Server rejected event '%s': '%s' (will not retry!)",
                     gs(ev, "metadata.name"), err.message);
        else
            ck_err("Server rejected event '%s': '%s' (will not retry!)", gs(ev, "metadata.name"),
                   err.message);
    } else {
        ck_err("Unable to write event '%s': '%s' (may retry after sleeping)",
               gs(ev, "metadata.name"), err.message);
        done = false;
    }
    cJSON_Delete(out);
    ck_error_clear(&err);
    return done;
}

static void handle(struct ck_event_broadcaster *b, cJSON *ev)
{
    char *key = NULL;
    ev = aggregate(b, ev, &key);
    char *patch = observe(b, ev, key);
    free(key);
    if (spam_filtered(b, ev)) {
        pthread_mutex_lock(&b->lock);
        b->stats.filtered++;
        pthread_mutex_unlock(&b->lock);
    } else {
        for (int tries = 1;; tries++) {
            if (write_event(b, ev, patch))
                break;
            if (tries >= b->o.max_tries) {
                ck_err("Unable to write event '%s' (retry limit exceeded!)",
                       gs(ev, "metadata.name"));
                pthread_mutex_lock(&b->lock);
                b->stats.failed++;
                pthread_mutex_unlock(&b->lock);
                break;
            }
            /* the first sleep is randomized so clients do not retry in step */
            int64_t d = b->o.retry_sleep_ns;
            if (tries == 1)
                d = (int64_t)((double)d * ((double)rand() / RAND_MAX));
            if (ck_cancel_sleep(b->stop, d) < 0) {
                pthread_mutex_lock(&b->lock);
                b->stats.failed++;
                pthread_mutex_unlock(&b->lock);
                break;
            }
        }
    }
    free(patch);
    cJSON_Delete(ev);
}

static void *writer_main(void *arg)
{
    struct ck_event_broadcaster *b = arg;
    size_t cap = (size_t)b->o.queue_size;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        while (b->len == 0 && !b->stopping)
            pthread_cond_wait(&b->cond, &b->lock);
        if (b->len == 0) {
            pthread_mutex_unlock(&b->lock);
            break;
        }
        cJSON *ev = b->queue[b->head];
        b->head = (b->head + 1) % cap;
        b->len--;
        b->busy = true;
        pthread_mutex_unlock(&b->lock);
        handle(b, ev);
        pthread_mutex_lock(&b->lock);
        b->busy = false;
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
    }
    return NULL;
}

struct ck_event_broadcaster *ck_event_broadcaster_new(struct ck_client *client,
                                                      const struct ck_event_broadcaster_opts *opts)
{
    struct ck_event_broadcaster *b = ck_xcalloc(1, sizeof(*b));
    b->client = client;
    if (opts)
        b->o = *opts;
    if (b->o.queue_size <= 0)
        b->o.queue_size = 1000;
    if (b->o.spam_burst <= 0)
        b->o.spam_burst = 25;
    if (b->o.spam_qps <= 0)
        b->o.spam_qps = 1.0 / 300.0;
    if (b->o.aggregate_max <= 0)
        b->o.aggregate_max = 10;
    if (b->o.aggregate_window_ns <= 0)
        b->o.aggregate_window_ns = 600 * CK_SECOND;
    if (b->o.retry_sleep_ns <= 0)
        b->o.retry_sleep_ns = 10 * CK_SECOND;
    if (b->o.max_tries <= 0)
        b->o.max_tries = 12;
    b->queue = ck_xcalloc((size_t)b->o.queue_size, sizeof(cJSON *));
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    b->stop = ck_cancel_new();
    lru_init(&b->spam, LRU_SIZE, free);
    lru_init(&b->aggregate, LRU_SIZE, free_aggregate);
    lru_init(&b->logs, LRU_SIZE, free_event_log);
    if (pthread_create(&b->thread, NULL, writer_main, b) != 0) {
        ck_err("events: cannot start the writer thread; events will be dropped");
        b->stopping = true;
        b->thread = 0;
    }
    return b;
}

void ck_event_broadcaster_free(struct ck_event_broadcaster *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    bool had_thread = !b->stopping;
    b->stopping = true;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    ck_cancel_fire(b->stop); /* no more retry sleeps; queued events get one try each */
    if (had_thread)
        pthread_join(b->thread, NULL);
    for (size_t i = 0; i < b->len; i++)
        cJSON_Delete(b->queue[(b->head + i) % (size_t)b->o.queue_size]);
    free(b->queue);
    lru_free(&b->spam);
    lru_free(&b->aggregate);
    lru_free(&b->logs);
    ck_cancel_free(b->stop);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

void ck_event_broadcaster_flush(struct ck_event_broadcaster *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    while ((b->len > 0 || b->busy) && !(b->stopping && b->len == 0))
        pthread_cond_wait(&b->cond, &b->lock);
    pthread_mutex_unlock(&b->lock);
}

void ck_event_broadcaster_stats(struct ck_event_broadcaster *b, struct ck_event_stats *out)
{
    pthread_mutex_lock(&b->lock);
    *out = b->stats;
    pthread_mutex_unlock(&b->lock);
}

/* ---- recorder ------------------------------------------------------------------------------ */

struct ck_event_recorder *ck_event_recorder_new(struct ck_event_broadcaster *b,
                                                const char *component, const char *host)
{
    struct ck_event_recorder *r = ck_xcalloc(1, sizeof(*r));
    r->b = b;
    r->component = ck_xstrdup(component ? component : "");
    r->host = ck_xstrdup(host ? host : "");
    return r;
}

void ck_event_recorder_free(struct ck_event_recorder *r)
{
    if (!r)
        return;
    free(r->component);
    free(r->host);
    free(r);
}

/* upstream's reference.GetReference: an ObjectReference for an object (or the reference
 * itself when given one) */
static cJSON *object_ref(const cJSON *obj)
{
    cJSON *ref = cJSON_CreateObject();
    const cJSON *md = ck_json_get(obj, "metadata");
    bool is_ref = !cJSON_IsObject(md);
    static const char *const fields[][2] = {
        {"kind", "kind"},         {"namespace", "metadata.namespace"},
        {"name", "metadata.name"}, {"uid", "metadata.uid"},
        {"apiVersion", "apiVersion"}, {"resourceVersion", "metadata.resourceVersion"},
        {"fieldPath", NULL},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(fields); i++) {
        const char *path = is_ref ? fields[i][0] : fields[i][1];
        if (!path)
            continue;
        const char *v = ck_json_get_string(obj, path, "");
        if (v[0])
            cJSON_AddStringToObject(ref, fields[i][0], v);
    }
    return ref;
}

void ck_event_record(struct ck_event_recorder *r, const cJSON *obj, const char *type,
                     const char *reason, const char *message)
{
    if (!r || !obj || !type || !reason)
        return;
    if (strcmp(type, CK_EVENT_NORMAL) && strcmp(type, CK_EVENT_WARNING)) {
        ck_err("Unsupported event type: '%s'", type);
        return;
    }
    cJSON *ref = object_ref(obj);
    struct timespec now;
    ck_time_now(&now);
    cJSON *ev = make_event(ref, type, reason, message ? message : "", r->component, r->host,
                           &now, true);
    ck_vinfo(3, "Event occurred object=\"%s%s%s\" fieldPath=\"\" kind=\"%s\" apiVersion=\"%s\" "
                "type=\"%s\" reason=\"%s\" message=\"%s\"",
             gs(ref, "namespace"), gs(ref, "namespace")[0] ? "/" : "", gs(ref, "name"),
             gs(ref, "kind"), gs(ref, "apiVersion"), type, reason, message ? message : "");
    cJSON_Delete(ref);
    struct ck_event_broadcaster *b = r->b;
    pthread_mutex_lock(&b->lock);
    if (b->stopping || b->len == (size_t)b->o.queue_size) {
        b->stats.dropped++;
        pthread_mutex_unlock(&b->lock);
        cJSON_Delete(ev);
        return;
    }
    b->queue[(b->head + b->len) % (size_t)b->o.queue_size] = ev;
    b->len++;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

void ck_event_recordf(struct ck_event_recorder *r, const cJSON *obj, const char *type,
                      const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    ck_event_record(r, obj, type, reason, msg ? msg : "");
    free(msg);
}
