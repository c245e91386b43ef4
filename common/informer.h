/* informer.h - shared informers (client-go's SharedIndexInformer and SharedInformerFactory):
 * keep a local, indexed copy of one resource type current and tell handlers what changed.
 *
 * The reflector (one thread per informer) lists the resource in pages of 500 (limit/continue;
 * an expired continue token restarts with one unpaginated list), replaces the store with the
 * result, then watches from the list's resourceVersion with allowWatchBookmarks and a random
 * timeoutSeconds in [300, 600) as upstream. It keeps the last resourceVersion seen (events and
 * bookmarks); when a watch ends normally it re-watches from there; when the connection breaks
 * or is refused it backs off (800 ms doubling to 30 s) and re-watches from there; when the
 * server says 410 Gone/Expired it relists (a fresh, consistent list); other errors back off and
 * relist. Items lacking apiVersion/kind get them from the list (as client-go's
 * UnstructuredList decoding does).
 *
 * Handlers (all optional, called on the reflector thread, one at a time per informer, in the
 * order of the events; they must be quick and must not block — typically they enqueue a key):
 *  - on_add(obj, in_initial_list)
 *  - on_update(old, cur): a watch MODIFIED, a relist finding an object again (as upstream's
 *    Replaced delta: also when unchanged), and a periodic resync (old == cur).
 *  - on_delete(obj, final_state_unknown): obj is the last state; final_state_unknown is true
 *    when a relist showed the object gone and the deletion itself was missed (upstream's
 *    DeletedFinalStateUnknown tombstone), obj then is the last state the store had.
 * Objects are borrowed for the call (ck_obj_ref to keep one). A handler added after the
 * informer synced first receives on_add for everything already in the store. Handlers must
 * not add handlers or stop the informer.
 *
 * The store (store.h) is readable from any thread at any time; it reflects every event handed
 * to handlers before the handler runs.
 *
 * A factory shares one informer per resource type between all controllers of a process.
 * Ownership: informers created by a factory belong to it; ck_informer_new's to the caller.
 */
#ifndef CK_INFORMER_H
#define CK_INFORMER_H

#include <stdbool.h>
#include <stdint.h>

#include "cancel.h"
#include "client.h"
#include "store.h"

struct ck_event_handler {
    void (*on_add)(void *ctx, const struct ck_obj *obj, bool in_initial_list);
    void (*on_update)(void *ctx, const struct ck_obj *old, const struct ck_obj *cur);
    void (*on_delete)(void *ctx, const struct ck_obj *obj, bool final_state_unknown);
    void *ctx;
};

struct ck_informer_opts {
    const char *namespace; /* NULL/"": all namespaces */
    const char *label_selector, *field_selector;
    int64_t resync_ns;     /* default resync period of handlers added with resync 0; 0: none */
    int64_t page_size;     /* 0: 500 */
};

struct ck_informer;

/* A new informer (not started) for gvr through client (borrowed, must outlive it). */
int ck_informer_new(struct ck_client *client, const struct ck_gvr *gvr,
                    const struct ck_informer_opts *opts, struct ck_informer **out);
/* Stops (if running) and frees. */
void ck_informer_free(struct ck_informer *inf);

/* Adds a handler (copied) with its own resync period (0: the informer's; < 0: none; at least
 * 1 s otherwise). Allowed before and after start. */
int ck_informer_add_handler(struct ck_informer *inf, const struct ck_event_handler *h,
                            int64_t resync_ns);
/* Adds an index to the store (before or after start). */
int ck_informer_add_index(struct ck_informer *inf, const char *name, ck_index_fn fn);
/* The informer's store (borrowed; lives as long as the informer). */
struct ck_store *ck_informer_store(struct ck_informer *inf);
const struct ck_gvr *ck_informer_gvr(const struct ck_informer *inf);

/* Starts the reflector (and resync) threads; 0, or -EALREADY when running. */
int ck_informer_start(struct ck_informer *inf);
/* Stops the threads and waits for them; the store keeps its content. */
void ck_informer_stop(struct ck_informer *inf);
/* True once the first list has been stored and its on_add calls made. */
bool ck_informer_has_synced(struct ck_informer *inf);
/* Waits until synced: 0, -ETIMEDOUT (timeout_ns >= 0 elapsed) or -ECANCELED (cancel fired;
 * cancel may be NULL). */
int ck_informer_wait_for_sync(struct ck_informer *inf, struct ck_cancel *cancel,
                              int64_t timeout_ns);
/* The last resourceVersion the informer has seen, copied into out. */
void ck_informer_last_rv(struct ck_informer *inf, char *out, size_t size);

/* Counters, for tests and logs. */
struct ck_informer_stats {
    uint64_t lists;   /* completed (full) lists */
    uint64_t watches; /* watch requests opened */
    uint64_t expired; /* 410s that forced a relist */
    uint64_t events;  /* watch events applied */
};
void ck_informer_stats(struct ck_informer *inf, struct ck_informer_stats *out);

/* ---- shared informer factory --------------------------------------------------------------- */

struct ck_informer_factory;

/* A factory creating informers with opts (namespace, selectors, default resync); opts may be
 * NULL. client is borrowed. */
struct ck_informer_factory *ck_informer_factory_new(struct ck_client *client,
                                                    const struct ck_informer_opts *opts);
/* The one informer of this factory for gvr, created on first request (not started). Borrowed:
 * the factory owns it. */
struct ck_informer *ck_informer_factory_get(struct ck_informer_factory *f,
                                            const struct ck_gvr *gvr);
/* Starts every informer requested so far that is not running yet (call again after requesting
 * more). */
void ck_informer_factory_start(struct ck_informer_factory *f);
/* Waits until every started informer has synced (see ck_informer_wait_for_sync). */
int ck_informer_factory_wait_for_sync(struct ck_informer_factory *f, struct ck_cancel *cancel,
                                      int64_t timeout_ns);
/* Stops every informer (and waits for their threads). */
void ck_informer_factory_shutdown(struct ck_informer_factory *f);
/* Shuts down and frees the factory and its informers. */
void ck_informer_factory_free(struct ck_informer_factory *f);

#endif
