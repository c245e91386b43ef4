/* store.h - the generic object store: Kubernetes objects as JSON in etcd, with upstream's
 * resourceVersion semantics (upstream's storage.Interface over etcd3).
 *
 * Keys: <prefix>/<resource storage segment>/<namespace>/<name> (cluster-scoped kinds leave out
 * the namespace). Values: the object as JSON without metadata.resourceVersion; reads set
 * resourceVersion to the key's etcd mod_revision. Creates are etcd transactions on
 * create_revision == 0, updates and deletes on mod_revision == the revision read.
 *
 * Thread-safe: any number of request threads may call in at once. Every returned cJSON tree
 * belongs to the caller.
 */
#ifndef APISERVER_STORE_H
#define APISERVER_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "registry/resources.h"

struct etcd_client;

struct store {
    struct etcd_client *etcd; /* borrowed; outlives the store */
    char *prefix;             /* "/registry", owned */
};


/* Stores a new object. On success obj's metadata.resourceVersion is set. Already existing ->
 * 409 AlreadyExists `<plural>[.<group>] "<name>" already exists`. */
int store_create(struct store *s, const struct resource *r, cJSON *obj, struct ck_error *err);
/* store_create, guarded: with guard_r set, the object is written only while the stored guard
 * object (guard_r, guard_ns, guard_name) still has revision guard_rv, in the same etcd
 * transaction (a create admitted against a cached namespace stays exact without a second
 * round trip). -ESTALE, with err untouched, when the guard moved or is gone: the caller
 * decides again on fresh data. guard_r NULL: store_create. */
int store_create_guarded(struct store *s, const struct resource *r, cJSON *obj,
                         const struct resource *guard_r, const char *guard_ns,
                         const char *guard_name, int64_t guard_rv, struct ck_error *err);

/* Reads one object into *out. Missing -> 404 NotFound `<plural> "<name>" not found`. */
int store_get(struct store *s, const struct resource *r, const char *ns, const char *name,
              cJSON **out, struct ck_error *err);

/* A list request: objects of one resource in one namespace ("" = all), at most `limit` (0 = no
 * limit) starting after `continue_token`, at revision `rv` (0 = latest). */
struct store_list_opts {
    const char *ns;
    int64_t limit;
    const char *continue_token;
    int64_t rv;
    /* keeps an object when it returns true; NULL keeps all */
    bool (*filter)(const cJSON *obj, void *ctx);
    void *filter_ctx;
};
struct store_list_result {
    cJSON *items;          /* array, owned by the caller */
    int64_t rv;            /* the revision the list was read at */
    char *continue_token;  /* next page, or NULL; caller frees */
    int64_t remaining;     /* remainingItemCount when known (>= 0), else -1 */
};
int store_list(struct store *s, const struct resource *r, const struct store_list_opts *o,
               struct store_list_result *out, struct ck_error *err);
void store_list_result_free(struct store_list_result *res);

/* Read-modify-write with retries on conflict (upstream's GuaranteedUpdate): reads the current
 * object, calls fn with it (fn may not keep it) to produce the new object in *next (owned by
 * the store afterwards) or an error; writes it if the stored revision did not move, else
 * retries with the newer object. fn returning 1 means "no change, keep current" (nothing is
 * written). When fn sets *delete_it, the object is deleted instead (guarded the same way).
 * *out receives the object as stored (or as deleted), may be NULL. */
typedef int (*store_update_fn)(const cJSON *current, void *ctx, cJSON **next, bool *delete_it,
                               struct ck_error *err);
/* STORE_DRY_RUN: compute and return the result, write nothing (dryRun=All). */
enum { STORE_DRY_RUN = 1 << 0 };
int store_update(struct store *s, const struct resource *r, const char *ns, const char *name,
                 store_update_fn fn, void *ctx, unsigned flags, cJSON **out,
                 struct ck_error *err);

/* Deletes when the stored revision is `rv` (0 = whatever is stored). *out receives the deleted
 * object, may be NULL. */
int store_delete(struct store *s, const struct resource *r, const char *ns, const char *name,
                 int64_t rv, cJSON **out, struct ck_error *err);

/* "pods" or "deployments.apps": how upstream's errors name a resource. */
void store_qualified_resource(const struct resource *r, char *dst, size_t size);

#endif
