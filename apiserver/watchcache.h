/* watchcache.h - one etcd watch per resource feeding an in-memory cache: the current objects
 * plus a ring of recent events, from which every client watch of that resource is served
 * (upstream's cacher). N client watches cost one etcd watch.
 *
 * Objects and events are reference-counted and immutable once published, so watchers read
 * them without holding the cache's lock; they take it shared only to pick up event pointers,
 * and sleep on a futex counter, so one change wakes N watchers without lock contention. A
 * cache starts on first use and lives until watchcaches_stop. When etcd compacts past the
 * revision a cache's etcd watch must resume from, the cache stops: its watchers get one ERROR
 * event with 410 Expired, and a fresh cache relists at once (or on next use if that fails).
 */
#ifndef APISERVER_WATCHCACHE_H
#define APISERVER_WATCHCACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "registry/resources.h"
#include "strmap.h"

struct apiserver;
struct etcd_watch;

/* One version of one object; shared, read-only after creation. */
struct wc_obj {
    atomic_int refs;
    cJSON *obj;       /* with metadata.resourceVersion */
    _Atomic(char *) json; /* obj printed compactly, on first use: read it with wc_obj_json */
    int64_t rv;
    char *ns, *name;  /* "" ns for cluster-scoped objects */
};

enum wc_event_type { WC_ADDED, WC_MODIFIED, WC_DELETED };

/* One change; shared, read-only after creation. For DELETED, cur is the last state with the
 * deletion's resourceVersion (as upstream sends it) and prev the state before. */
struct wc_event {
    atomic_int refs;
    enum wc_event_type type;
    int64_t rv;
    struct wc_obj *cur;
    struct wc_obj *prev; /* NULL for ADDED */
};

struct watchcache {
    const struct resource *r; /* the served row (its kind/apiVersion label events) */
    char *key_prefix;         /* "<prefix>/<storage>/" */
    pthread_rwlock_t lock;    /* guards everything below: written by the etcd watch's thread,
                                 read (shared) by watchers, lists and lookups */
    _Atomic uint32_t seq;     /* bumped, and its waiters woken (futex), on every event,
                                 progress and stop: see watchcache_wait */
    struct ck_strmap state;   /* "<ns>/<name>" or "<name>" -> struct wc_obj* (one ref) */
    struct wc_event **ring;   /* ring[seq % cap], one ref each */
    size_t cap;
    uint64_t first_seq, next_seq; /* the ring holds seqs [first_seq, next_seq) */
    int64_t rv;               /* the cache is current up to this revision */
    int64_t oldest_rv;        /* events after this revision are all in the ring */
    uint64_t epoch;           /* bumped on a relist: older watchers must relist too */
    bool stopping;
    struct etcd_watch *ew;    /* owned */
    struct apiserver *server; /* borrowed */
};

void wc_obj_unref(struct wc_obj *o);
/* o's object printed compactly for the wire, printed by the first caller that needs it (most
 * versions of an object never reach a watcher). Owned by o; thread-safe. */
const char *wc_obj_json(struct wc_obj *o);
void wc_event_unref(struct wc_event *e);

/* The cache of r's storage, started (listed and watching) on first use. Returns 0 with a
 * borrowed *out, or an error (etcd unavailable). Thread-safe. */
int watchcache_get(struct apiserver *s, const struct resource *r, struct watchcache **out,
                   struct ck_error *err);
/* Starts the cache of every stored resource, as upstream does at start-up, so watches can
 * resume from any revision since the server started. Returns the first error. */
int watchcaches_start_all(struct apiserver *s, struct ck_error *err);
/* Stops every cache's etcd watch and frees them; no watcher may still read. */
void watchcaches_stop(struct apiserver *s);

/* The cached current version of one object of r (ns "" for cluster-scoped kinds): 0 with a
 * ref in *out (release with wc_obj_unref), -ENOENT when the cache does not hold it, or the
 * error of starting the cache. The cache may lag etcd by the time an event takes to arrive:
 * callers that need the latest state guard their writes with the object's rv. */
int watchcache_lookup(struct apiserver *s, const struct resource *r, const char *ns,
                      const char *name, struct wc_obj **out, struct ck_error *err);

/* Waits up to timeout_ns until wc->seq differs from seen (read it before checking the
 * cache, so that no change between the check and the wait is missed). Each waiter sleeps on
 * the counter itself, so a change wakes N watchers without any lock to fight over. */
void watchcache_wait(struct watchcache *wc, uint32_t seen, int64_t timeout_ns);

/* A snapshot of the current objects (refs taken; release each with wc_obj_unref and free the
 * array), optionally restricted to namespace ns, and the revision it reflects. Waits up to 3 s
 * for the cache to reach min_rv (0: no wait); -ETIMEDOUT (504) when it does not. */
int watchcache_snapshot(struct watchcache *wc, const char *ns, int64_t min_rv,
                        struct wc_obj ***objs, size_t *n, int64_t *rv, struct ck_error *err);

#endif
