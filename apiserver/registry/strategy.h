/* strategy.h - what differs per kind, behind the generic store (upstream's registry
 * "strategies": PrepareForCreate, PrepareForUpdate, Validate, ValidateUpdate, defaulting).
 *
 * The generic REST code does everything that is the same for all kinds (metadata, uid,
 * timestamps, resourceVersion, generation, status/spec split, name rules, storage); a strategy
 * only adds its kind's rules. Every hook may be NULL. Strategies are static and read-only.
 */
#ifndef APISERVER_STRATEGY_H
#define APISERVER_STRATEGY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "fielderr.h"

/* How metadata.name is validated (upstream's per-kind NameValidator). */
enum name_rule {
    NAME_DNS1123_SUBDOMAIN = 0, /* the default: path-segment safe DNS-1123 subdomain */
    NAME_DNS1123_LABEL,         /* namespaces */
    NAME_DNS1035_LABEL,         /* services */
    NAME_PATH_SEGMENT,          /* rbac objects, events: only "not . or .., no / or %" */
};

enum {
    /* The object has a spec/status split: create clears status, a main-resource update keeps
     * the stored status, a /status update keeps everything but status (and some metadata). */
    STRAT_STATUS = 1 << 0,
    /* metadata.generation is 1 on create and is bumped when anything but metadata and status
     * changes (upstream bumps on spec changes; for kinds without spec, on data changes). */
    STRAT_GENERATION = 1 << 1,
    /* Create keeps the status the client sent (nodes register with their status). */
    STRAT_CREATE_STATUS = 1 << 2,
    /* A /status update may change annotations (upstream's deployment status strategy keeps
     * only spec and labels: the controller writes the revision annotation with the status). */
    STRAT_STATUS_ANNOTATIONS = 1 << 3,
};

struct strategy {
    unsigned flags;
    enum name_rule name_rule;
    /* Field selector labels this kind supports besides metadata.name and metadata.namespace;
     * each names a JSON path of the object ("spec.nodeName"). NULL-terminated, may be NULL. */
    const char *const *field_labels;
    /* Fills upstream's defaults; runs on create and on every update, before validation. */
    void (*defaults)(cJSON *obj);
    /* Kind-specific create preparation after the generic one (e.g. pod phase and qosClass). */
    void (*prepare_create)(cJSON *obj);
    /* Kind-specific update preparation after the generic one; old is the stored object. */
    void (*prepare_update)(cJSON *obj, const cJSON *old);
    /* Create validation of everything but generic ObjectMeta (already checked). */
    void (*validate)(const cJSON *obj, struct field_errors *e);
    /* Update validation (immutable fields, ...); obj already passed validate. */
    void (*validate_update)(const cJSON *obj, const cJSON *old, struct field_errors *e);
    /* Graceful deletion: the grace period (seconds) this kind gives obj for the request's
     * DeleteOptions (opts may be NULL); 0 deletes at once. NULL hook: always 0. */
    int64_t (*grace_period)(const cJSON *obj, const cJSON *opts);
    /* True while kind-specific finalizers (a namespace's spec.finalizers) still hold a
     * deleted object, besides metadata.finalizers. */
    bool (*held)(const cJSON *obj);
    /* Runs when a delete leaves obj in place (held or graceful), e.g. a namespace turns
     * Terminating. */
    void (*prepare_delete)(cJSON *obj);
};

/* The strategy for kinds with no rules of their own beyond the flags. */
extern const struct strategy strategy_plain;        /* no status, no generation */
extern const struct strategy strategy_spec_status;  /* STRAT_STATUS | STRAT_GENERATION */

#endif
