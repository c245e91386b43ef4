/* watch.c - client watches from the watch cache (see watch.h).
 *
 * Upstream's semantics: resourceVersion unset or "0" starts with synthetic ADDED events for
 * the current state; resourceVersion=N replays the cached events after N, or answers a single
 * ERROR event with a 410 Expired Status when N is older than the cache's window;
 * sendInitialEvents=true (with resourceVersionMatch=NotOlderThan) ends the initial burst with a
 * BOOKMARK annotated k8s.io/initial-events-end. Label and field selectors apply to both the
 * new and old object of each event: an object that starts matching arrives as ADDED, one that
 * stops matching as DELETED (carrying its last matching state). A watcher reads the cache's
 * ring directly; one that falls behind the ring is closed, as upstream closes slow watchers.
 */
#include "watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "codec.h"
#include "encoding.h"
#include "fields.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "printers/printers.h"
#include "selector.h"
#include "timeutil.h"
#include "watchcache.h"

#define BOOKMARK_EVERY_NS (60 * CK_SECOND)
#define MIN_REQUEST_TIMEOUT_S 1800 /* upstream's --min-request-timeout */
#define EVENTS_PER_READ 64

struct watcher {
    struct ck_httpd *server;
    struct watchcache *wc;
    uint64_t epoch;
    const struct resource *r;
    char ns[254], name[254];
    struct ck_label_selector *labels;
    struct ck_field_selector *fields;
    bool bookmarks;
    bool table;            /* kubectl get -w: each object as a one-row Table */
    char include_object[16];
    /* initial ADDED events still to send */
    struct wc_obj **initial;
    size_t n_initial, i_initial;
    bool initial_end_bookmark; /* send the initial-events-end bookmark after them */
    int64_t initial_rv;
    uint64_t next_seq;     /* next ring event to look at */
    int64_t last_rv;       /* revision of the last event or bookmark sent */
    int64_t deadline_ns;   /* monotonic end of the watch */
    int64_t next_bookmark_ns;
    struct ck_buf out;     /* bytes ready for the client */
    size_t out_pos;
    bool finished;         /* the last bytes are in out; end after them */
};

static bool matches(const struct watcher *w, const struct wc_obj *o)
{
    if (!o)
        return false;
    if (w->ns[0] && strcmp(o->ns, w->ns))
        return false;
    if (w->name[0] && strcmp(o->name, w->name))
        return false;
    if (w->labels && !ck_label_selector_matches(w->labels, ck_json_get(o->obj, "metadata.labels")))
        return false;
    if (w->fields && !fields_match(w->r, w->fields, o->obj))
        return false;
    return true;
}

static void put_event(struct watcher *w, const char *type, const char *object_json)
{
    ck_buf_printf(&w->out, "{\"type\":\"%s\",\"object\":%s}\n", type, object_json);
}

/* An event for an object: its cached JSON, or a one-row Table when the client asked. */
static void put_object(struct watcher *w, const char *type, const cJSON *obj, const char *json)
{
    if (!w->table) {
        put_event(w, type, json);
        return;
    }
    struct timespec now;
    ck_time_now(&now);
    cJSON *t = printers_table_object(w->r, obj, w->include_object[0] ? w->include_object : NULL,
                                     &now);
    char *s = ck_json_print(t, 0);
    put_event(w, type, s);
    free(s);
    cJSON_Delete(t);
}

static void put_bookmark(struct watcher *w, int64_t rv, bool initial_end)
{
    char gv[300];
    resource_api_version(w->r, gv, sizeof(gv));
    ck_buf_printf(&w->out,
                  "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
                  "\"metadata\":{\"resourceVersion\":\"%lld\",\"creationTimestamp\":null%s}}}\n",
                  w->r->kind, gv, (long long)rv,
                  initial_end ? ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}" : "");
    w->last_rv = rv;
}

static void put_error(struct watcher *w, const struct ck_error *err)
{
    cJSON *st = ck_error_to_status(err);
    char *s = ck_json_print(st, 0);
    put_event(w, "ERROR", s);
    free(s);
    cJSON_Delete(st);
    w->finished = true;
}

/* Appends the lines for one cache event, as this watcher's selectors see it. */
static void put_cache_event(struct watcher *w, const struct wc_event *e)
{
    bool now = e->type != WC_DELETED && matches(w, e->cur);
    bool before = e->prev && matches(w, e->prev);
    if (e->type == WC_DELETED)
        now = false, before = matches(w, e->prev);
    if (now && !before)
        put_object(w, "ADDED", e->cur->obj, wc_obj_json(e->cur));
    else if (now && before)
        put_object(w, "MODIFIED", e->cur->obj, wc_obj_json(e->cur));
    else if (!now && before) {
        /* upstream sends the last matching state, stamped with this event's revision */
        if (e->type == WC_DELETED) {
            put_object(w, "DELETED", e->cur->obj, wc_obj_json(e->cur));
        } else {
            cJSON *o = ck_json_dup(e->prev->obj);
            char rv[32];
            snprintf(rv, sizeof(rv), "%lld", (long long)e->rv);
            ck_json_set_string(o, "metadata.resourceVersion", rv);
            char *s = ck_json_print(o, 0);
            put_object(w, "DELETED", o, s);
            free(s);
            cJSON_Delete(o);
        }
    }
    w->last_rv = e->rv;
}

/* Fills w->out with the next lines; blocks up to a second waiting for events. */
static void produce(struct watcher *w)
{
    if (w->i_initial < w->n_initial) {
        for (size_t k = 0; k < EVENTS_PER_READ && w->i_initial < w->n_initial; k++) {
            struct wc_obj *o = w->initial[w->i_initial++];
            if (matches(w, o))
                put_object(w, "ADDED", o->obj, wc_obj_json(o));
        }
        return;
    }
    if (w->initial_end_bookmark) {
        put_bookmark(w, w->initial_rv, true);
        w->initial_end_bookmark = false;
        return;
    }
    int64_t now = ck_mono_ns();
    if (now >= w->deadline_ns) {
        w->finished = true;
        return;
    }
    struct watchcache *wc = w->wc;
    struct wc_event *batch[EVENTS_PER_READ];
    size_t nb = 0;
    bool expired = false;
    int64_t cache_rv = 0;
    /* the counter first: a change after it makes the wait below return at once */
    uint32_t seen = atomic_load(&wc->seq);
    pthread_rwlock_rdlock(&wc->lock);
    /* a cache that stopped (etcd compacted past it) gets no more events: its watchers are
     * expired, even one that joined after the epoch moved */
    bool dead = wc->stopping || wc->epoch != w->epoch;
    bool idle = w->next_seq >= wc->next_seq && !dead;
    pthread_rwlock_unlock(&wc->lock);
    if (idle) {
        int64_t wait_until = w->deadline_ns;
        if (w->bookmarks && w->next_bookmark_ns < wait_until)
            wait_until = w->next_bookmark_ns;
        int64_t wait_ns = wait_until - now;
        if (wait_ns > CK_SECOND)
            wait_ns = CK_SECOND;
        watchcache_wait(wc, seen, wait_ns);
    }
    pthread_rwlock_rdlock(&wc->lock);
    dead = wc->stopping || wc->epoch != w->epoch;
    if (dead || w->next_seq < wc->first_seq) {
        expired = true;
    } else {
        while (w->next_seq < wc->next_seq && nb < EVENTS_PER_READ) {
            struct wc_event *e = wc->ring[w->next_seq % wc->cap];
            atomic_fetch_add(&e->refs, 1);
            batch[nb++] = e;
            w->next_seq++;
        }
    }
    cache_rv = wc->rv;
    pthread_rwlock_unlock(&wc->lock);

    if (expired) {
        if (dead) {
            struct ck_error err = CK_ERROR_INIT;
            ck_error_set(&err, 410, CK_REASON_EXPIRED,
                         "The resourceVersion for the provided watch is too old.");
            put_error(w, &err);
            ck_error_clear(&err);
        } else {
            /* fell too far behind: close, the client re-watches from its last revision */
            ck_vinfo(2, "closing a slow watcher of %s", w->r->plural);
            w->finished = true;
        }
        return;
    }
    for (size_t i = 0; i < nb; i++) {
        put_cache_event(w, batch[i]);
        wc_event_unref(batch[i]);
    }
    now = ck_mono_ns();
    if (w->bookmarks && now >= w->next_bookmark_ns && w->out.len == w->out_pos) {
        if (cache_rv > w->last_rv)
            put_bookmark(w, cache_rv, false);
        w->next_bookmark_ns = now + BOOKMARK_EVERY_NS;
    }
}

static ssize_t watch_read(void *ctx, char *buf, size_t max)
{
    struct watcher *w = ctx;
    for (int spins = 0; w->out_pos == w->out.len; spins++) {
        ck_buf_reset(&w->out);
        w->out_pos = 0;
        if (w->finished || ck_httpd_stopping(w->server))
            return -1;
        produce(w);
        if (w->out.len == 0 && spins > 0)
            return 0; /* nothing for a second: let the server check the connection */
    }
    size_t n = w->out.len - w->out_pos;
    if (n > max)
        n = max;
    memcpy(buf, w->out.data + w->out_pos, n);
    w->out_pos += n;
    return (ssize_t)n;
}

static void watch_done(void *ctx)
{
    struct watcher *w = ctx;
    for (size_t i = 0; i < w->n_initial; i++)
        wc_obj_unref(w->initial[i]);
    free(w->initial);
    ck_label_selector_free(w->labels);
    ck_field_selector_free(w->fields);
    ck_buf_free(&w->out);
    free(w);
}

static bool param_true(struct ck_http_req *req, const char *name)
{
    const char *v = ck_http_query(req, name);
    return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

int watch_serve(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                const struct resource *r, struct ck_error *err)
{
    if (!(r->verbs & VERB_WATCH))
        return ck_error_set(err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                            "the server does not allow this method on the requested resource");
    struct watcher *w = ck_xcalloc(1, sizeof(*w));
    w->server = ck_http_server(req);
    w->r = r;
    ck_buf_init(&w->out);
    snprintf(w->ns, sizeof(w->ns), "%s", ri->namespace_);
    snprintf(w->name, sizeof(w->name), "%s", ri->name);
    int rc;
    const char *ls = ck_http_query(req, "labelSelector");
    const char *fs = ck_http_query(req, "fieldSelector");
    if (ls && ls[0] && (rc = ck_label_selector_parse(ls, &w->labels, err)) < 0)
        goto fail;
    if (fs && fs[0] && ((rc = ck_field_selector_parse(fs, &w->fields, err)) < 0 ||
                        (rc = fields_check(r, w->fields, err)) < 0))
        goto fail;
    w->bookmarks = param_true(req, "allowWatchBookmarks");
    w->table = codec_wants_table(req);
    const char *io = ck_http_query(req, "includeObject");
    if (w->table && (rc = printers_check_include_object(io, err)) < 0)
        goto fail;
    snprintf(w->include_object, sizeof(w->include_object), "%s", io ? io : "");
    bool send_initial = param_true(req, "sendInitialEvents");
    const char *rvm = ck_http_query(req, "resourceVersionMatch");
    if (ck_http_query(req, "sendInitialEvents") && (!rvm || strcmp(rvm, "NotOlderThan"))) {
        rc = ck_error_set(err, 422, CK_REASON_INVALID,
                          "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: "
                          "Forbidden: sendInitialEvents requires setting resourceVersionMatch "
                          "to NotOlderThan");
        goto fail;
    }
    if (send_initial && !w->bookmarks) {
        rc = ck_error_set(err, 422, CK_REASON_INVALID,
                          "ListOptions.meta.k8s.io \"\" is invalid: allowWatchBookmarks: "
                          "Forbidden: sendInitialEvents requires setting allowWatchBookmarks to "
                          "true");
        goto fail;
    }
    int64_t timeout_s = 0;
    const char *ts = ck_http_query(req, "timeoutSeconds");
    if (ts && ts[0])
        timeout_s = strtoll(ts, NULL, 10);
    if (timeout_s <= 0) { /* upstream: a random duration in [min, 2*min) */
        uint32_t r32;
        ck_rand_bytes(&r32, sizeof(r32));
        timeout_s = MIN_REQUEST_TIMEOUT_S + r32 % MIN_REQUEST_TIMEOUT_S;
    }
    const char *rvs = ck_http_query(req, "resourceVersion");
    int64_t rv = 0;
    if (rvs && rvs[0]) {
        char *end;
        rv = strtoll(rvs, &end, 10);
        if (*end || rv < 0) {
            rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                              "invalid resource version: strconv.ParseUint: parsing \"%s\": "
                              "invalid syntax",
                              rvs);
            goto fail;
        }
    }
    if ((rc = watchcache_get(s, r, &w->wc, err)) < 0)
        goto fail;
    struct watchcache *wc = w->wc;
    /* "start at most recent" (no rv, rv=0, or initial events asked for): current state as
     * ADDED, then what follows the snapshot */
    if (rv == 0 || send_initial) {
        int64_t snap_rv;
        pthread_rwlock_rdlock(&wc->lock);
        w->epoch = wc->epoch;
        w->next_seq = wc->next_seq;
        pthread_rwlock_unlock(&wc->lock);
        if ((rc = watchcache_snapshot(wc, w->ns, send_initial ? rv : 0, &w->initial,
                                      &w->n_initial, &snap_rv, err)) < 0)
            goto fail;
        /* the snapshot may include events the ring also has: start after them */
        pthread_rwlock_rdlock(&wc->lock);
        while (w->next_seq < wc->next_seq && wc->ring[w->next_seq % wc->cap]->rv <= snap_rv)
            w->next_seq++;
        pthread_rwlock_unlock(&wc->lock);
        w->initial_rv = snap_rv;
        w->last_rv = snap_rv;
        w->initial_end_bookmark = send_initial;
    } else {
        pthread_rwlock_rdlock(&wc->lock);
        w->epoch = wc->epoch;
        bool too_old = rv < wc->oldest_rv;
        if (!too_old) {
            /* the first ring event after rv */
            uint64_t seq = wc->first_seq;
            while (seq < wc->next_seq && wc->ring[seq % wc->cap]->rv <= rv)
                seq++;
            w->next_seq = seq;
        }
        pthread_rwlock_unlock(&wc->lock);
        w->last_rv = rv;
        if (too_old) {
            /* upstream answers 200 with a single ERROR event carrying 410 Expired */
            struct ck_error e410 = CK_ERROR_INIT;
            ck_error_set(&e410, 410, CK_REASON_EXPIRED, "too old resource version: %lld (%lld)",
                         (long long)rv, (long long)wc->oldest_rv);
            put_error(w, &e410);
            ck_error_clear(&e410);
        }
    }
    int64_t now = ck_mono_ns();
    w->deadline_ns = now + timeout_s * CK_SECOND;
    w->next_bookmark_ns = now + BOOKMARK_EVERY_NS;
    if (w->deadline_ns - 2 * CK_SECOND < w->next_bookmark_ns && timeout_s > 2)
        w->next_bookmark_ns = w->deadline_ns - 2 * CK_SECOND;
    ck_http_respond_stream(req, 200, "application/json", watch_read, watch_done, w);
    return 0;
fail:
    watch_done(w);
    return rc;
}
