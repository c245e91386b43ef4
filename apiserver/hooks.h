/* hooks.h - what some resources do around storage besides their strategy, with access to the
 * server (upstream keeps these in the resource's REST storage or its admission plugins):
 * Services allocate cluster IPs and node ports, Pods are admitted (admit_pods.h). A table keyed by (group, plural) drives it; rest.c calls the hooks. */
#ifndef APISERVER_HOOKS_H
#define APISERVER_HOOKS_H

#include <cjson/cJSON.h>

#include "error.h"
#include "registry/resources.h"

struct apiserver;

struct resource_hooks {
    const char *group, *plural;
    /* Mutating admission of a create, before validation (dry runs included); may fill obj,
     * or refuse it. */
    int (*admit)(struct apiserver *s, cJSON *obj, struct ck_error *err);
    /* Before a create is stored (after validation); may fill obj. */
    int (*create)(struct apiserver *s, cJSON *obj, struct ck_error *err);
    /* A create that `create` prepared was not stored: give back what it took. */
    void (*create_failed)(struct apiserver *s, const cJSON *obj);
    /* Inside an update, after validation; may fill obj from what it allocates. */
    int (*update)(struct apiserver *s, cJSON *obj, const cJSON *old, struct ck_error *err);
    /* After an update attempt: `stored` is the object as written (success) or NULL (the
     * attempt `tried` was not written); release what is no longer needed. */
    void (*update_done)(struct apiserver *s, const cJSON *stored, const cJSON *old,
                        const cJSON *tried);
    /* The object was removed from storage. */
    void (*deleted)(struct apiserver *s, const cJSON *obj);
};

/* The hooks of r, or NULL. */
const struct resource_hooks *hooks_for(const struct resource *r);

#endif
