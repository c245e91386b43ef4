/* cache.h - the scheduler cache as upstream's pkg/scheduler/backend/cache (v1.32): nodes, pods
 * assigned to them (from the informer) and pods the scheduler assumed onto a node before the
 * binding landed, so decisions taken meanwhile count them. Once per cycle
 * sched_cache_update_snapshot copies what changed into the snapshot the plugins read.
 *
 *  - Nodes are ordered as upstream's node tree: nodes grouped by zone ("region:zone" from the
 *    topology.kubernetes.io labels or their failure-domain.beta predecessors), the snapshot
 *    list interleaving the zones round-robin, so node sampling spreads over zones.
 *  - Every change bumps a generation; node infos are kept in most-recently-changed order and
 *    only those newer than the snapshot are copied (the copies share pods by reference).
 *  - Assumed pods: sched_cache_assume_pod adds the pod (with spec.nodeName set) to the node;
 *    the informer's add of the bound pod confirms it; sched_cache_forget_pod undoes it when the
 *    binding fails. With a non-zero ttl an assumed pod whose binding finished but never showed
 *    up expires ttl after sched_cache_finish_binding (upstream's default ttl is 0: never).
 *
 * Objects passed in are borrowed (the cache keeps its own parsed copies). Thread-safety: every
 * function takes the cache's mutex; a snapshot belongs to its caller and may be read without
 * the lock. Errors: -ENOENT (unknown pod or node), -EEXIST (pod already added), -EINVAL
 * (malformed object; err says why).
 */
#ifndef SCHED_CACHE_H
#define SCHED_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "framework.h"
#include "nodeinfo.h"

struct sched_cache;

struct sched_cache_opts {
    int64_t assumed_ttl_ns;       /* 0: assumed pods never expire (upstream default) */
    int64_t (*now_ns)(void *ctx); /* clock; NULL: monotonic clock */
    void *clock_ctx;
};

/* opts may be NULL. Caller frees with sched_cache_free. */
struct sched_cache *sched_cache_new(const struct sched_cache_opts *opts);
void sched_cache_free(struct sched_cache *c);

int sched_cache_add_node(struct sched_cache *c, const cJSON *node, struct ck_error *err);
/* old may be NULL. A node not in the cache is added. */
int sched_cache_update_node(struct sched_cache *c, const cJSON *old_node, const cJSON *new_node,
                            struct ck_error *err);
int sched_cache_remove_node(struct sched_cache *c, const cJSON *node);

/* An assigned pod seen by the informer (confirms an assumed pod of the same key). */
int sched_cache_add_pod(struct sched_cache *c, const cJSON *pod, struct ck_error *err);
int sched_cache_update_pod(struct sched_cache *c, const cJSON *old_pod, const cJSON *new_pod,
                           struct ck_error *err);
int sched_cache_remove_pod(struct sched_cache *c, const cJSON *pod);

/* Assumes `pod` bound to `node` (the cache keeps a copy with spec.nodeName = node). */
int sched_cache_assume_pod(struct sched_cache *c, const struct sched_pod *pod, const char *node);
/* The binding call returned: start the expiry clock of the assumed pod. */
int sched_cache_finish_binding(struct sched_cache *c, const char *key);
/* Removes an assumed pod (binding failed). -ENOENT unless assumed. */
int sched_cache_forget_pod(struct sched_cache *c, const char *key);
bool sched_cache_is_assumed(struct sched_cache *c, const char *key);
/* Expires assumed pods past their deadline; returns how many. */
size_t sched_cache_cleanup_assumed(struct sched_cache *c);

size_t sched_cache_node_count(struct sched_cache *c);
size_t sched_cache_pod_count(struct sched_cache *c);
/* A reference to the parsed node, or NULL. */
struct sched_node *sched_cache_get_node(struct sched_cache *c, const char *name);

/* Snapshots: zero-initialise with sched_snapshot_init, release with sched_snapshot_free. */
void sched_snapshot_init(struct sched_snapshot *s);
void sched_snapshot_free(struct sched_snapshot *s);
/* Brings the snapshot up to date with the cache. */
void sched_cache_update_snapshot(struct sched_cache *c, struct sched_snapshot *s);

#endif
