/* controller.h - the controller skeleton (upstream's informer + work queue + syncHandler
 * pattern) and the registration table the controller-manager and scheduler run.
 *
 * A controller is a small file that declares the informers it watches and implements
 * sync(key):
 *
 *     static int rs_sync(void *ctx, const char *key) { ... return 0 or -errno; }
 *
 *     int replicaset_start(struct ck_controller_context *cc, struct ck_error *err)
 *     {
 *         struct ck_controller_opts o = {.name = "replicaset", .sync = rs_sync, .ctx = state};
 *         struct ck_controller *c = ck_controller_new(&o);
 *         ck_controller_watch(c, ck_informer_factory_get(cc->informers, &rs_gvr), NULL);
 *         ck_controller_watch(c, ck_informer_factory_get(cc->informers, &pod_gvr), pod_owner);
 *         return ck_controller_context_add(cc, c, 5);
 *     }
 *
 * Event handlers map objects to keys (by default the object's own "ns/name") and add them
 * to the controller's rate-limited work queue; `workers` threads take keys one at a time and
 * call sync. A sync returning 0 forgets the key's failures; an error requeues the key with the
 * rate limiter's backoff (5 ms doubling to 1000 s, 10 qps overall), or drops it after
 * max_retries attempts when that is set (as upstream controllers with maxRetries do).
 *
 * Ownership: controllers created with ck_controller_new belong to the caller until handed to
 * ck_controller_context_add, which then owns them. Thread-safety: all functions are
 * thread-safe; sync runs on worker threads, never two at once for the same key.
 */
#ifndef CK_CONTROLLER_H
#define CK_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cancel.h"
#include "client.h"
#include "error.h"
#include "informer.h"
#include "store.h"
#include "workqueue.h"

struct ck_event_broadcaster;

typedef int (*ck_sync_fn)(void *ctx, const char *key);
/* Adds the keys to enqueue for obj (e.g. a pod's owning ReplicaSet) to keys. */
typedef void (*ck_key_fn)(void *ctx, const struct ck_obj *obj, struct ck_strlist *keys);

struct ck_controller_opts {
    const char *name;                /* queue name (metrics, logs) */
    ck_sync_fn sync;
    void *ctx;                       /* passed to sync and key functions */
    struct ck_rate_limiter *limiter; /* taken; NULL: ck_rate_limiter_default() */
    int max_retries;                 /* 0: retry forever */
};

struct ck_controller;

struct ck_controller *ck_controller_new(const struct ck_controller_opts *o);
/* Stops (if running) and frees. Unregistering from informers is not possible: free a
 * controller only after its informers stopped (ck_controllers_stop does it in that order). */
void ck_controller_free(struct ck_controller *c);

/* Enqueues key_fn's keys (NULL: the object's own key) on every add, update (old and new
 * object) and delete of inf, and makes run wait for inf to sync. */
int ck_controller_watch(struct ck_controller *c, struct ck_informer *inf, ck_key_fn key_fn);
/* The same, but only for deletions and the objects of inf's initial list (a check of what was
 * left over while the controller was down), never for later adds and updates. */
int ck_controller_watch_deletions(struct ck_controller *c, struct ck_informer *inf,
                                  ck_key_fn key_fn);
/* Makes run wait for inf to sync without handling its events (a lister only). */
int ck_controller_needs(struct ck_controller *c, struct ck_informer *inf);

struct ck_workqueue *ck_controller_queue(struct ck_controller *c);
const char *ck_controller_name(const struct ck_controller *c);
void ck_controller_enqueue(struct ck_controller *c, const char *key);
void ck_controller_enqueue_after(struct ck_controller *c, const char *key, int64_t delay_ns);

/* Waits for the informers to sync (until cancel fires: -ECANCELED), then starts `workers`
 * worker threads and returns 0. As upstream's controllers (a concurrency of 0 is a valid
 * --concurrent-*-syncs value there), workers <= 0 starts none: keys queue up, nothing syncs. */
int ck_controller_run(struct ck_controller *c, int workers, struct ck_cancel *cancel);
/* Shuts the queue down and waits for the workers (each finishes its current key). */
void ck_controller_stop(struct ck_controller *c);
/* Keys synced so far (successful or not), for tests. */
uint64_t ck_controller_syncs(struct ck_controller *c);

/* ---- what a binary runs --------------------------------------------------------------------- */

/* Everything a controller's start function may use. The binary fills the first fields; start
 * functions register their controllers with ck_controller_context_add. */
struct ck_controller_context {
    const char *component;                  /* "kube-controller-manager" */
    struct ck_client *client;               /* borrowed */
    struct ck_informer_factory *informers;  /* borrowed */
    struct ck_event_broadcaster *events;    /* borrowed; may be NULL */
    struct ck_cancel *stop;                 /* fires when the binary stops leading/exits */
    void *config;                           /* the binary's own options (flags) */
    /* filled by ck_controller_context_add (owned) */
    struct ck_controller **controllers;
    int *workers;
    size_t n;
};

/* Hands c to cc (cc owns it now), to be run with `workers` threads. */
int ck_controller_context_add(struct ck_controller_context *cc, struct ck_controller *c,
                              int workers);

/* One row of a binary's controller table: adding a controller = adding one row. */
typedef int (*ck_controller_start_fn)(struct ck_controller_context *cc, struct ck_error *err);
struct ck_controller_desc {
    const char *name; /* as upstream names it for --controllers, e.g. "replicaset-controller" */
    ck_controller_start_fn start;
    bool disabled_by_default;
};

/* upstream's IsControllerEnabled for a --controllers list: "name" enables, "-name" disables,
 * "*" enables everything not disabled by default; no choice and no "*" means off. */
bool ck_controller_enabled(const char *name, bool disabled_by_default, const char *const *list,
                           size_t n);

/* Calls start for every enabled row, starts the factory, waits for the informers to sync and
 * runs every registered controller. Returns 0, or the first start error (already started
 * controllers keep running until ck_controllers_stop), or -ECANCELED. */
int ck_controllers_start(struct ck_controller_context *cc, const struct ck_controller_desc *table,
                         size_t n, const char *const *enabled, size_t nenabled,
                         struct ck_error *err);
/* Stops every controller's workers, shuts the informer factory down, frees the controllers.
 * The factory's informers still point at the freed controllers' handlers: free the factory
 * afterwards, never restart it. */
void ck_controllers_stop(struct ck_controller_context *cc);

#endif
