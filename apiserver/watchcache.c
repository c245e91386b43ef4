/* watchcache.c - the per-resource cache behind every watch (see watchcache.h). */
#include "watchcache.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "server.h"
#include "storage/etcd.h"
#include "timeutil.h"

#define DEFAULT_RING 4096

void wc_obj_unref(struct wc_obj *o)
{
    if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
        return;
    cJSON_Delete(o->obj);
    free(o->json);
    free(o->ns);
    free(o->name);
    free(o);
}

const char *wc_obj_json(struct wc_obj *o)
{
    char *s = atomic_load(&o->json);
    if (s)
        return s;
    char *mine = ck_json_print(o->obj, 0), *none = NULL;
    if (atomic_compare_exchange_strong(&o->json, &none, mine))
        return mine;
    free(mine); /* another reader printed it first */
    return none;
}

static struct wc_obj *wc_obj_ref(struct wc_obj *o)
{
    if (o)
        atomic_fetch_add(&o->refs, 1);
    return o;
}

void wc_event_unref(struct wc_event *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    wc_obj_unref(e->cur);
    wc_obj_unref(e->prev);
    free(e);
}

/* Takes ownership of obj (which carries its resourceVersion). */
static struct wc_obj *wc_obj_new(cJSON *obj, int64_t rv)
{
    struct wc_obj *o = ck_xcalloc(1, sizeof(*o));
    atomic_init(&o->refs, 1);
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)rv);
    ck_json_set_string(obj, "metadata.resourceVersion", buf);
    o->obj = obj;
    o->rv = rv;
    o->ns = ck_xstrdup(ck_json_get_string(obj, "metadata.namespace", ""));
    o->name = ck_xstrdup(ck_json_get_string(obj, "metadata.name", ""));
    return o;
}

static struct wc_obj *decode_kv(const struct etcd_kv *kv, int64_t rv)
{
    cJSON *obj = ck_json_parse(kv->value, kv->value_len, NULL);
    if (!cJSON_IsObject(obj)) {
        ck_err("watchcache: undecodable value at %s", kv->key);
        cJSON_Delete(obj);
        return NULL;
    }
    return wc_obj_new(obj, rv);
}

/* The state key of an etcd key: what follows the cache's prefix. */
static const char *state_key(const struct watchcache *wc, const char *key)
{
    size_t n = strlen(wc->key_prefix);
    return strncmp(key, wc->key_prefix, n) ? NULL : key + n;
}

/* Appends an event (taking its ref) and drops the oldest one when the ring is full. Caller
 * holds the lock. */
static void ring_push(struct watchcache *wc, struct wc_event *e)
{
    if (wc->next_seq - wc->first_seq == wc->cap) {
        struct wc_event *old = wc->ring[wc->first_seq % wc->cap];
        wc->oldest_rv = old->rv;
        wc_event_unref(old);
        wc->first_seq++;
    }
    wc->ring[wc->next_seq % wc->cap] = e;
    wc->next_seq++;
}

static void apply_event(struct watchcache *wc, const struct etcd_event *ev)
{
    const char *sk = state_key(wc, ev->kv.key);
    if (!sk)
        return;
    int64_t rv = ev->kv.mod_revision;
    struct wc_event *e = ck_xcalloc(1, sizeof(*e));
    atomic_init(&e->refs, 1);
    e->rv = rv;
    struct wc_obj *prev = ck_strmap_get(&wc->state, sk);
    if (ev->type == ETCD_EVENT_PUT) {
        struct wc_obj *cur = decode_kv(&ev->kv, rv);
        if (!cur) {
            free(e);
            return;
        }
        e->type = prev ? WC_MODIFIED : WC_ADDED;
        e->cur = cur;
        e->prev = ck_strmap_put(&wc->state, sk, wc_obj_ref(cur)); /* the map's old ref */
    } else {
        if (!prev) { /* a delete of something never seen: nothing to tell */
            free(e);
            return;
        }
        e->type = WC_DELETED;
        e->prev = ck_strmap_remove(&wc->state, sk);
        e->cur = wc_obj_new(ck_json_dup(prev->obj), rv);
    }
    ring_push(wc, e);
}

static void relist_now(struct watchcache *dead);

static int on_watch(const struct etcd_watch_resp *resp, void *arg)
{
    struct watchcache *wc = arg;
    bool relist = false;
    pthread_rwlock_wrlock(&wc->lock);
    switch (resp->kind) {
    case ETCD_WATCH_EVENTS:
        for (size_t i = 0; i < resp->n_events; i++)
            apply_event(wc, &resp->events[i]);
        /* while etcd replays history the header's revision runs ahead of the events delivered:
         * only the last event (or a progress notification) says how far the cache is */
        if (resp->n_events && resp->events[resp->n_events - 1].kv.mod_revision > wc->rv)
            wc->rv = resp->events[resp->n_events - 1].kv.mod_revision;
        break;
    case ETCD_WATCH_PROGRESS:
        if (resp->header.revision > wc->rv)
            wc->rv = resp->header.revision;
        break;
    case ETCD_WATCH_COMPACTED:
        /* we fell behind a compaction: every watcher must relist; this cache stops serving
         * and a fresh one relists right away (below) */
        ck_warn("watchcache %s: watch compacted at %lld, watchers must relist", wc->r->plural,
                (long long)resp->compact_revision);
        wc->epoch++;
        wc->stopping = true;
        relist = true;
        break;
    case ETCD_WATCH_ERROR:
        ck_warn("watchcache %s: etcd watch trouble: %s", wc->r->plural,
                resp->error ? resp->error->message : "?");
        break;
    }
    pthread_rwlock_unlock(&wc->lock);
    /* the fresh cache first: the watchers told 410 below relist and watch again, and find it */
    if (relist)
        relist_now(wc);
    /* after unlocking, so the woken readers find the lock free */
    atomic_fetch_add(&wc->seq, 1);
    syscall(SYS_futex, &wc->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    return 0;
}

void watchcache_wait(struct watchcache *wc, uint32_t seen, int64_t timeout_ns)
{
    if (timeout_ns <= 0)
        return;
    struct timespec ts = {(time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000)};
    /* returns at once when seq moved already; EINTR and spurious wake-ups are fine: callers
     * check the cache again */
    syscall(SYS_futex, &wc->seq, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
}

static void free_cache(struct watchcache *wc)
{
    if (!wc)
        return;
    etcd_watch_stop(wc->ew);
    for (uint64_t s = wc->first_seq; s < wc->next_seq; s++)
        wc_event_unref(wc->ring[s % wc->cap]);
    free(wc->ring);
    ck_strmap_free(&wc->state, (void (*)(void *))wc_obj_unref);
    pthread_rwlock_destroy(&wc->lock);
    free(wc->key_prefix);
    free(wc);
}

/* Lists the resource and starts its etcd watch right after the list's revision. */
static int start_cache(struct apiserver *s, const struct resource *r, struct watchcache **out,
                       struct ck_error *err)
{
    if (!r->storage)
        return ck_error_set(err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                            "the server does not allow this method on the requested resource");
    struct watchcache *wc = ck_xcalloc(1, sizeof(*wc));
    wc->r = r;
    wc->server = s;
    wc->cap = s->cfg->watch_cache_size > 0 ? (size_t)s->cfg->watch_cache_size : DEFAULT_RING;
    wc->ring = ck_xcalloc(wc->cap, sizeof(*wc->ring));
    /* writers first: the one writer must not wait behind a stream of readers */
    pthread_rwlockattr_t la;
    pthread_rwlockattr_init(&la);
    pthread_rwlockattr_setkind_np(&la, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&wc->lock, &la);
    pthread_rwlockattr_destroy(&la);
    atomic_init(&wc->seq, 0);
    int rc = etcd_key_list_prefix(s->store.prefix, r->storage, NULL, &wc->key_prefix, err);
    if (rc < 0) {
        free_cache(wc);
        return rc;
    }
    struct etcd_range_req req = {.key = wc->key_prefix, .prefix = true};
    struct etcd_range_resp resp = {0};
    rc = etcd_range(s->etcd, &req, &resp, err);
    if (rc < 0) {
        etcd_range_resp_free(&resp);
        free_cache(wc);
        return rc;
    }
    for (size_t i = 0; i < resp.n_kvs; i++) {
        struct wc_obj *o = decode_kv(&resp.kvs[i], resp.kvs[i].mod_revision);
        const char *sk = state_key(wc, resp.kvs[i].key);
        if (o && sk)
            wc_obj_unref(ck_strmap_put(&wc->state, sk, o));
        else
            wc_obj_unref(o);
    }
    wc->rv = wc->oldest_rv = resp.header.revision;
    etcd_range_resp_free(&resp);
    struct etcd_watch_req wr = {.key = wc->key_prefix,
                                .prefix = true,
                                .start_revision = wc->rv + 1,
                                /* no prev_kv: the cache has every previous state itself, and
                                 * etcd would read and send each one again */
                                .progress_notify = true};
    rc = etcd_watch_start(s->etcd, &wr, on_watch, wc, &wc->ew, err);
    if (rc < 0) {
        free_cache(wc);
        return rc;
    }
    ck_vinfo(2, "watchcache %s started at revision %lld with %zu objects", r->plural,
             (long long)wc->rv, wc->state.len);
    *out = wc;
    return 0;
}

/* watchcache_get with s->caches_lock held. */
static int get_locked(struct apiserver *s, const struct resource *r, struct watchcache **out,
                      struct ck_error *err)
{
    size_t idx = (size_t)(r - ck_resources);
    if (!s->caches)
        s->caches = ck_xcalloc(ck_resources_count, sizeof(*s->caches));
    struct watchcache *wc = s->caches[idx];
    int rc = 0;
    if (wc) {
        pthread_rwlock_rdlock(&wc->lock);
        bool dead = wc->stopping;
        pthread_rwlock_unlock(&wc->lock);
        if (dead) /* compacted away: rebuild below; the old one stays for its readers */
            wc = NULL;
    }
    if (!wc) {
        rc = start_cache(s, r, &wc, err);
        if (rc == 0) {
            if (s->caches[idx]) { /* keep the dead one for its remaining readers */
                s->dead_caches = ck_xrealloc(s->dead_caches,
                                             (s->n_dead_caches + 1) * sizeof(*s->dead_caches));
                s->dead_caches[s->n_dead_caches++] = s->caches[idx];
            }
            s->caches[idx] = wc;
        }
    }
    *out = wc;
    return rc;
}

int watchcache_get(struct apiserver *s, const struct resource *r, struct watchcache **out,
                   struct ck_error *err)
{
    pthread_mutex_lock(&s->caches_lock);
    int rc = get_locked(s, r, out, err);
    pthread_mutex_unlock(&s->caches_lock);
    return rc;
}

/* Rebuilds the cache that `dead` was, on dead's own etcd watch thread, as upstream's reflector
 * relists at once after "too old resource version", so that a client's list + watch right
 * after finds a cache that starts before its list. Best effort: when the caches' lock stays
 * taken (watchcaches_stop joins this very thread while holding it), the next user of the
 * resource rebuilds it instead. */
static void relist_now(struct watchcache *dead)
{
    struct apiserver *s = dead->server;
    const struct resource *r = dead->r;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    if (pthread_mutex_timedlock(&s->caches_lock, &until) != 0)
        return;
    struct watchcache *fresh;
    size_t idx = (size_t)(r - ck_resources);
    if (s->caches && s->caches[idx] == dead && get_locked(s, r, &fresh, NULL) < 0)
        ck_warn("watchcache %s: relist failed; the next request retries", r->plural);
    pthread_mutex_unlock(&s->caches_lock);
}

int watchcaches_start_all(struct apiserver *s, struct ck_error *err)
{
    for (size_t i = 0; i < ck_resources_count; i++) {
        struct watchcache *wc;
        if (ck_resources[i].storage && (ck_resources[i].verbs & VERB_WATCH)) {
            int rc = watchcache_get(s, &ck_resources[i], &wc, err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

void watchcaches_stop(struct apiserver *s)
{
    pthread_mutex_lock(&s->caches_lock);
    for (size_t i = 0; s->caches && i < ck_resources_count; i++)
        free_cache(s->caches[i]);
    for (size_t i = 0; i < s->n_dead_caches; i++)
        free_cache(s->dead_caches[i]);
    free(s->caches);
    free(s->dead_caches);
    s->caches = NULL;
    s->dead_caches = NULL;
    s->n_dead_caches = 0;
    pthread_mutex_unlock(&s->caches_lock);
}

int watchcache_lookup(struct apiserver *s, const struct resource *r, const char *ns,
                      const char *name, struct wc_obj **out, struct ck_error *err)
{
    *out = NULL;
    struct watchcache *wc;
    int rc = watchcache_get(s, r, &wc, err);
    if (rc < 0)
        return rc;
    char key[600];
    if (ck_snprintf(key, sizeof(key), "%s%s%s", r->namespaced ? ns : "", r->namespaced ? "/" : "",
                    name) < 0)
        return -ENOENT;
    pthread_rwlock_rdlock(&wc->lock);
    struct wc_obj *o = wc->stopping ? NULL : wc_obj_ref(ck_strmap_get(&wc->state, key));
    pthread_rwlock_unlock(&wc->lock);
    *out = o;
    return o ? 0 : -ENOENT;
}

struct snap_ctx {
    const char *ns;
    struct wc_obj **objs;
    size_t n;
};

static void snap_one(const char *key, void *value, void *vctx)
{
    (void)key;
    struct snap_ctx *c = vctx;
    struct wc_obj *o = value;
    if (c->ns && c->ns[0] && strcmp(o->ns, c->ns))
        return;
    c->objs[c->n++] = wc_obj_ref(o);
}

static int cmp_obj(const void *a, const void *b)
{
    const struct wc_obj *x = *(struct wc_obj *const *)a, *y = *(struct wc_obj *const *)b;
    int c = strcmp(x->ns, y->ns);
    return c ? c : strcmp(x->name, y->name);
}

int watchcache_snapshot(struct watchcache *wc, const char *ns, int64_t min_rv,
                        struct wc_obj ***objs, size_t *n, int64_t *rv, struct ck_error *err)
{
    if (min_rv > 0) {
        int64_t deadline = ck_mono_ns() + 3 * CK_SECOND;
        for (;;) {
            uint32_t seen = atomic_load(&wc->seq);
            pthread_rwlock_rdlock(&wc->lock);
            bool ready = min_rv <= wc->rv, dead = wc->stopping;
            int64_t cur = wc->rv;
            pthread_rwlock_unlock(&wc->lock);
            if (ready)
                break;
            int64_t left = deadline - ck_mono_ns();
            if (left <= 0 || dead) /* a stopped cache will not get there */
                return ck_error_set(err, 504, CK_REASON_TIMEOUT,
                                    "Too large resource version: %lld, current: %lld",
                                    (long long)min_rv, (long long)cur);
            watchcache_wait(wc, seen, left);
        }
    }
    pthread_rwlock_rdlock(&wc->lock);
    struct snap_ctx c = {ns, ck_xcalloc(wc->state.len + 1, sizeof(struct wc_obj *)), 0};
    ck_strmap_each(&wc->state, snap_one, &c);
    *rv = wc->rv;
    pthread_rwlock_unlock(&wc->lock);
    qsort(c.objs, c.n, sizeof(*c.objs), cmp_obj);
    *objs = c.objs;
    *n = c.n;
    return 0;
}
