/* objmeta.h - what the apiserver does to every object's metadata, whatever its kind
 * (upstream's rest.BeforeCreate / BeforeUpdate and ValidateObjectMeta[Update]).
 */
#ifndef APISERVER_OBJMETA_H
#define APISERVER_OBJMETA_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "registry/fielderr.h"
#include "registry/resources.h"

/* Create: fills name from generateName, uid, creationTimestamp, generation (kinds that track
 * it), clears resourceVersion/deletion fields, resets status for kinds with a status split,
 * then runs the strategy's prepare_create and defaults. `obj` is modified in place. */
void meta_prepare_create(const struct resource *r, cJSON *obj);

/* Update of the main resource (or of /status when `status` is true): carries the system fields
 * of `old` over into obj, keeps old's status (main) or everything but status (status update),
 * bumps generation when the spec changed, then runs the strategy's prepare_update and
 * defaults. `obj` is modified in place; old is not. */
void meta_prepare_update(const struct resource *r, cJSON *obj, const cJSON *old, bool status);

/* Generic ObjectMeta validation on create (name rule of the kind, generateName, namespace
 * presence, labels, annotations, finalizers, ownerReferences), then the kind's validate. */
void meta_validate_create(const struct resource *r, const cJSON *obj, struct field_errors *e);
/* Update: immutable metadata (name, namespace, uid, creationTimestamp), the ObjectMeta rules
 * on the new object, then (unless `status`: a /status write keeps the stored spec) the kind's
 * validate and validate_update. */
void meta_validate_update(const struct resource *r, const cJSON *obj, const cJSON *old,
                          bool status, struct field_errors *e);

/* Borrowed accessors for the common metadata strings ("" when absent). */
const char *meta_name(const cJSON *obj);
const char *meta_namespace(const cJSON *obj);
const char *meta_str(const cJSON *obj, const char *field);
/* Sets metadata.<field> to a string, creating metadata if needed. */
void meta_set_str(cJSON *obj, const char *field, const char *value);
/* The metadata object, created if missing. Borrowed. */
cJSON *meta_of(cJSON *obj);

#endif
