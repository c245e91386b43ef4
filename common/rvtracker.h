/* rvtracker.h - per object key, the resourceVersion a controller's own last update replaced.
 * While an informer cache still shows that version, the cache is behind the controller's own
 * write: a sync from it must wait (be retried) rather than write again from stale data and
 * fail with a conflict (upstream's staleEndpointsTracker, and the EndpointSlice controller's
 * tracker of the slices it updated). Thread-safe; the tracker owns its copies of keys and
 * versions. */
#ifndef CK_RVTRACKER_H
#define CK_RVTRACKER_H

#include <pthread.h>
#include <stdbool.h>

#include "strmap.h"

struct ck_rv_tracker {
    pthread_mutex_t mu;
    struct ck_strmap replaced; /* key -> the version our last update replaced (owned) */
};

void ck_rv_tracker_init(struct ck_rv_tracker *t);
void ck_rv_tracker_free(struct ck_rv_tracker *t);
/* Remembers that our update of key replaced version rv; rv NULL forgets key. */
void ck_rv_tracker_set(struct ck_rv_tracker *t, const char *key, const char *rv);
/* True when rv (a cached object's version) is the one our last update of key replaced. */
bool ck_rv_tracker_stale(struct ck_rv_tracker *t, const char *key, const char *rv);

#endif
