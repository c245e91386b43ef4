/* schema.h - the OpenAPI schema index: definitions by name and by group-version-kind, and
 * field lookups that follow "$ref", for strategic merge patch, validation helpers and the
 * /openapi documents.
 *
 * A struct schema_doc indexes one swagger-style document (an object with "definitions", or a
 * bare definitions object). The built-in one, schema_builtin(), indexes the Kubernetes 1.32
 * document embedded in the binary (embed.c); it is parsed on first use, once, under
 * pthread_once, and then never changes, so every reader may use it without a lock. Tests and
 * other callers can index their own documents with schema_doc_new.
 *
 * References: "#/definitions/NAME" (OpenAPI v2) and "#/components/schemas/NAME" (v3) both
 * resolve against the document's definitions; a schema that is only {"allOf":[{"$ref":...}],
 * plus annotations} (the v3 wrapping of a reference with siblings) resolves like the $ref.
 *
 * Ownership: every const cJSON * returned points into the document's tree and lives as long as
 * the struct schema_doc (for the built-in one: the whole process). Nothing returned is freed by
 * the caller except what schema_doc_new hands out (schema_doc_free).
 */
#ifndef APISERVER_OPENAPI_SCHEMA_H
#define APISERVER_OPENAPI_SCHEMA_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct schema_doc;

/* The embedded swagger JSON (NUL-terminated, not parsed); *len gets its length without the
 * NUL. Lives for the process. */
const char *schema_swagger_json(size_t *len);

/* The index over the embedded 1.32 document; NULL only if that document failed to parse
 * (which the unit tests rule out). Thread-safe; parses on the first call. */
const struct schema_doc *schema_builtin(void);

/* Indexes `doc` (an object with "definitions", or the definitions object itself). The index
 * borrows doc, which must outlive it and not change. Returns 0 and *out (free with
 * schema_doc_free), or -EINVAL when doc holds no definitions object. */
int schema_doc_new(const cJSON *doc, struct schema_doc **out);
void schema_doc_free(struct schema_doc *d);

/* The whole document the index was built over (for the built-in one: the parsed swagger). */
const cJSON *schema_doc_root(const struct schema_doc *d);
/* Number of definitions, and the i-th one in name order (name into *name); NULL past the end. */
size_t schema_definition_count(const struct schema_doc *d);
const cJSON *schema_definition_at(const struct schema_doc *d, size_t i, const char **name);
/* The definition called `name` ("io.k8s.api.core.v1.Pod"), or NULL. */
const cJSON *schema_definition(const struct schema_doc *d, const char *name);
/* The definition whose x-kubernetes-group-version-kind lists group/version/kind (group "" for
 * the core group), or NULL; *name (optional) gets its name. */
const cJSON *schema_for_gvk(const struct schema_doc *d, const char *group, const char *version,
                            const char *kind, const char **name);

/* Follows "$ref" (and a lone-allOf wrapping) until a schema with content; returns node itself
 * when it is no reference, NULL for a dangling or cyclic reference or a NULL node. */
const cJSON *schema_resolve(const struct schema_doc *d, const cJSON *node);
/* The name a reference points at ("#/definitions/X" -> "X"), or NULL when node is none. */
const char *schema_ref_name(const cJSON *node);

/* What a field's schema says, with references resolved. All pointers borrowed; NULL/absent
 * members mean the schema does not say. */
struct schema_field {
    const cJSON *schema;   /* the field's schema as written (may be a $ref) */
    const cJSON *resolved; /* schema after following references */
    const char *type;      /* "object", "array", "string", "integer", "number", "boolean" */
    const char *format;    /* "int32", "int-or-string", "date-time", ... */
    const char
        *patch_strategy; /* x-kubernetes-patch-strategy, e.g. "merge" or "merge,retainKeys" */
    const char *patch_merge_key; /* x-kubernetes-patch-merge-key, e.g. "name" */
    const char *list_type;       /* x-kubernetes-list-type: "atomic", "set", "map" */
    const cJSON *list_map_keys;  /* x-kubernetes-list-map-keys: array of strings */
    const char *map_type;        /* x-kubernetes-map-type: "atomic", "granular" */
    const cJSON *items;          /* arrays: the resolved element schema */
    const cJSON *additional;     /* maps: the resolved additionalProperties schema */
    const cJSON *properties;     /* objects: the resolved "properties" object */
};

/* Describes `node` (a field schema as written, e.g. a member of "properties", or a definition):
 * annotations are read from node and from every reference on the way to the resolved schema
 * (the nearest wins). Returns 0, or -ENOENT for a NULL node or a dangling reference (out is
 * then zeroed). */
int schema_describe(const struct schema_doc *d, const cJSON *node, struct schema_field *out);
/* The property `name` of the object schema `parent` (resolved first): 0 and *out filled, or
 * -ENOENT when parent has no such property. */
int schema_field(const struct schema_doc *d, const cJSON *parent, const char *name,
                 struct schema_field *out);
/* Walks a dot path of property names from a definition ("spec.template.spec.containers"); an
 * array or map on the way is stepped through to its element schema. 0 and *out, or -ENOENT. */
int schema_field_path(const struct schema_doc *d, const cJSON *def, const char *path,
                      struct schema_field *out);

#endif
