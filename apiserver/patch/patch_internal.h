/* patch_internal.h - helpers shared by the patch implementations (patch.c, jsonpatch.c,
 * strategic.c); not part of the module's API. */
#ifndef APISERVER_PATCH_INTERNAL_H
#define APISERVER_PATCH_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

/* Deepest nesting the recursive patch algorithms walk (as CK_JSON_MAX_DEPTH). */
#define PATCH_MAX_DEPTH 1000

/* Appends Go's fmt "%v" rendering of a value decoded from JSON into interface{} (as the
 * apimachinery messages print maps): map[a:1 b:[x y]] with sorted keys, <nil> for null,
 * integers in full, other numbers as Go's shortest %g. */
void patch_gofmt(struct ck_buf *b, const cJSON *v);
/* Go's "%s" of such a value: strings as they are, anything else as %!s(type=value). */
void patch_gofmt_s(struct ck_buf *b, const cJSON *v);
/* Go's reflect type name of such a value: "string", "int64", "float64", "bool",
 * "map[string]interface {}", "[]interface {}", "%!s(<nil>)" for null (as printed by %s). */
const char *patch_gotype(const cJSON *v);

/* The errors upstream's patch handler turns the failures into (see patch.h). */
int patch_err_bad_request(struct ck_error *err, const char *msg);
int patch_err_invalid(struct ck_error *err, const char *msg);  /* generic 422 with one cause */
int patch_err_internal(struct ck_error *err, const char *msg); /* 500, no reason */

/* A map from strings to the first index they were put with (open addressing; keys copied). */
struct patch_keyidx {
    char **keys;
    size_t *vals;
    size_t cap, n;
};
void patch_keyidx_init(struct patch_keyidx *k, size_t expect);
/* Records key -> val unless key is there already; returns true when it was new. */
bool patch_keyidx_put(struct patch_keyidx *k, const char *key, size_t val);
/* The value recorded for key, or false. */
bool patch_keyidx_get(const struct patch_keyidx *k, const char *key, size_t *val);
void patch_keyidx_free(struct patch_keyidx *k);

/* A canonical string for a scalar or any JSON value, equal for values Go's == (scalars) or
 * our JSON equality treats as equal; caller frees. NULL input gives "<absent>". */
char *patch_value_key(const cJSON *v);

/* ---- strategic merge patch internals (strategic.c, strategic_list.c) ---- */

struct schema_doc;

enum smp_err_class { SMP_BAD_REQUEST, SMP_INVALID, SMP_INTERNAL };

/* One strategic merge: the schema document and the first error (later ones are dropped). */
struct smp {
    const struct schema_doc *doc;
    struct ck_error *err;
    int failed; /* the negative errno of the first error, 0 while none */
};

/* Records an error of the given class (see patch.h) unless one is recorded; returns NULL. */
void *smp_fail(struct smp *s, enum smp_err_class cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* mergepatch.ErrNoMergeKey and ErrBadArgType; return NULL. */
void *smp_fail_no_merge_key(struct smp *s, const cJSON *m, const char *key);
void *smp_fail_arg_type(struct smp *s, const char *expected, const cJSON *actual);
#define SMP_GO_MAP "map[string]interface {}"
#define SMP_GO_SLICE "[]interface {}"

#define SMP_DIRECTIVE "$patch"
#define SMP_RETAIN_KEYS "$retainKeys"
#define SMP_DELETE_PREFIX "$deleteFromPrimitiveList"
#define SMP_ORDER_PREFIX "$setElementOrder"

/* A field's patch metadata. */
struct smp_meta {
    const char *strategy; /* "merge", "replace", "other" or NULL */
    bool retain_keys;
    const char *merge_key; /* NULL when none */
};

/* The schema of field `key` of object schema `schema` (NULL when unknown; the element schema
 * when `slice`) and its metadata. 0, or -EINVAL with the error recorded. */
int smp_lookup_field(struct smp *s, const cJSON *schema, const char *key, bool slice,
                     const cJSON **sub, struct smp_meta *m);

/* The merge steps; each consumes the trees it is given and returns an owned tree, or NULL with
 * the error recorded. */
cJSON *smp_merge_map(struct smp *s, cJSON *original, cJSON *patch, const cJSON *schema, int depth);
cJSON *smp_merge_list(struct smp *s, cJSON *original, cJSON *patch, const cJSON *elem,
                      const struct smp_meta *m, bool delete_list, int depth);
/* Handles every "$setElementOrder/<list>" member of patch (removing them and the lists they
 * order from patch). 0 or -EINVAL. */
int smp_merge_ordered_lists(struct smp *s, cJSON *original, cJSON *patch, const cJSON *schema,
                            int depth);
/* removeDirectives: consumes v, returns what remains (*keep false: nothing). */
cJSON *smp_remove_directives(cJSON *v, bool *keep, int depth);

#endif
