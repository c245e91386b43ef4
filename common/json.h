/* json.h - helpers over cJSON for Kubernetes objects: path access, typed getters, mutation by
 * path, deep copy and JSON-semantics equality, a Go-compatible parser and Go-compatible printing.
 *
 * Paths. A dot path names nested members: "metadata.labels", "spec.containers[0].image",
 * "spec.containers.0.image" (a numeric step indexes an array). A backslash escapes the next
 * character, so keys containing dots work: "metadata.labels.kubernetes\\.io/hostname". The
 * vector forms take one key per argument and need no escaping:
 *     ck_json_getv(obj, "metadata", "labels", "kubernetes.io/hostname", NULL)
 * Key lookups are case-sensitive (never use cJSON_GetObjectItem, which folds case).
 * An empty path ("" or no steps) names `obj` itself. A path has at most 64 steps.
 *
 * Ownership (see CONVENTIONS.md): getters borrow (the pointer lives as long as the tree and
 * that member); ck_json_parse / ck_json_dup / ck_json_new_* / ck_json_detach* return trees the
 * caller frees with cJSON_Delete; print functions return strings the caller frees with free().
 * Setters always take ownership of the item they are given, also when they fail (they free it).
 * Functions returning int return 0 or a negative errno:
 *   -EINVAL  malformed path / NULL argument     -ENOENT  nothing at the path
 *   -ENOTDIR a non-container value is in the way -ERANGE  array index past the end
 *
 * Numbers. cJSON keeps numbers as double, which cannot hold every int64 (anything beyond 2^53
 * loses precision). Our parser keeps integer literals that fit in int64 exactly: for those
 * beyond 2^53 it stores the decimal text in the (otherwise unused) `valuestring` of the number
 * node, which cJSON_Duplicate copies and cJSON_Delete frees. ck_json_to_int64 and our printers
 * use that text when it still agrees with `valuedouble`. To change a number, use
 * ck_json_new_int64 / ck_json_set_int64 (or cJSON_SetNumberValue for doubles, which is
 * fine unless the old text would round to the same double). cJSON_Print knows nothing of this:
 * print with ck_json_print.
 *
 * Thread-safety: no shared state; concurrent calls on distinct trees (or read-only calls on a
 * shared tree) are safe. The parser assumes the C locale for numbers (daemons never call
 * setlocale).
 */
#ifndef CK_JSON_H
#define CK_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* Deepest nesting our parser accepts and our recursive functions walk (cJSON's own
 * CJSON_NESTING_LIMIT; Go allows 10000, but no Kubernetes object comes near either). */
#define CK_JSON_MAX_DEPTH 1000
/* Default input size limit of ck_json_parse. */
#define CK_JSON_MAX_BYTES ((size_t)64 << 20)
/* Upstream apiserver's limit on a request body (MaxRequestBodyBytes, 3 MiB). */
#define CK_JSON_MAX_REQUEST_BYTES ((size_t)3 << 20)

/* ---- parsing ---- */

struct ck_json_parse_opts {
    size_t max_bytes;    /* 0: CK_JSON_MAX_BYTES; longer input fails with 413 */
    int max_depth;       /* 0 or more than CK_JSON_MAX_DEPTH: CK_JSON_MAX_DEPTH */
    bool require_object; /* top-level value must be an object (a Kubernetes object body) */
    bool raw_message;    /* leave out upstream's "couldn't get version/kind; ..." prefix */
    size_t *duplicate_keys; /* if set, receives how many members a later one of the same key
                               replaced (0: the tree holds every member the input had) */
};

/* Parses exactly one JSON value of `len` bytes (no NUL needed) with Go's encoding/json rules;
 * returns a tree the caller owns, or NULL with err set:
 *  - syntax errors: 400 BadRequest, worded as upstream's request decoding does, which is Go's
 *    scanner message behind a fixed prefix, e.g.
 *      "couldn't get version/kind; json parse error: invalid character 'x' looking for
 *       beginning of value", "...: unexpected end of JSON input";
 *  - input longer than the limit: 413 RequestEntityTooLarge "Request entity too large: limit
 *    is N" (as upstream's body reader);
 *  - numbers beyond float64 (1e999): 400 "json: cannot unmarshal number 1e999 into Go value of
 *    type float64" (as Go's decoder into an unstructured object);
 *  - "\u0000" in a string: 400 (C strings cannot hold NUL; Go would accept it).
 * Invalid UTF-8 inside strings is replaced by U+FFFD and unpaired surrogate escapes decode to
 * U+FFFD, as Go's decoder does. Duplicate object keys: the last one wins (as Go decoding into a
 * map); the earlier members are dropped. Whitespace is only space, tab, CR and LF. */
cJSON *ck_json_parse(const char *s, size_t len, struct ck_error *err);
/* ck_json_parse with options (opts may be NULL). With require_object, a non-object top level
 * fails like upstream's decoder: "couldn't get version/kind; json parse error: json: cannot
 * unmarshal array into Go value of type struct { APIVersion string ... }". */
cJSON *ck_json_parse_with(const char *s, size_t len, const struct ck_json_parse_opts *opts,
                          struct ck_error *err);

/* ---- getting ---- */

/* The value at a dot path, or NULL (borrowed). */
cJSON *ck_json_get(const cJSON *obj, const char *path);
/* The value at the steps given as NULL-terminated string arguments, or NULL (borrowed). */
cJSON *ck_json_getv(const cJSON *obj, ...) __attribute__((sentinel));
/* The value at steps[0..n-1], or NULL (borrowed). */
cJSON *ck_json_get_steps(const cJSON *obj, const char *const *steps, size_t n);

/* Typed views of one item, `def` when the item is missing or of another JSON type. */
const char *ck_json_as_string(const cJSON *item, const char *def); /* borrowed */
bool ck_json_as_bool(const cJSON *item, bool def);
double ck_json_as_double(const cJSON *item, double def);
/* An integral number within int64 (exact when the parser kept its text); else def. */
int64_t ck_json_as_int64(const cJSON *item, int64_t def);
/* Strict int64 read: 0 and *out set; -ENOENT for a NULL item; -EINVAL for a non-number, a
 * fraction (1.5) or a value outside int64. Note 1.0 reads as 1 (cJSON cannot tell them apart). */
int ck_json_to_int64(const cJSON *item, int64_t *out);

/* The typed views applied to ck_json_get(obj, path). */
const char *ck_json_get_string(const cJSON *obj, const char *path, const char *def);
int64_t ck_json_get_int64(const cJSON *obj, const char *path, int64_t def);
bool ck_json_get_bool(const cJSON *obj, const char *path, bool def);
double ck_json_get_double(const cJSON *obj, const char *path, double def);

/* ---- changing ---- */

/* Puts `item` (owned by the call, freed on failure; must not be linked into another tree) at
 * the path, creating missing intermediate objects (or an array when the next step is an
 * explicit "[0]"), and turning a JSON null on the way into a container. An existing member is
 * replaced in place (key order kept); an array index equal to the size appends. Setting the
 * empty path is -EINVAL. */
int ck_json_set(cJSON *obj, const char *path, cJSON *item);
int ck_json_setv(cJSON *obj, cJSON *item, ...) __attribute__((sentinel));
int ck_json_set_steps(cJSON *obj, const char *const *steps, size_t n, cJSON *item);
/* Shorthands building the item. */
int ck_json_set_string(cJSON *obj, const char *path, const char *value);
int ck_json_set_int64(cJSON *obj, const char *path, int64_t value);
int ck_json_set_bool(cJSON *obj, const char *path, bool value);

/* The object at the path, created (with intermediates) when missing or null; NULL when a
 * non-object is in the way or the path is malformed (borrowed). */
cJSON *ck_json_ensure_object(cJSON *obj, const char *path);
cJSON *ck_json_ensure_objectv(cJSON *obj, ...) __attribute__((sentinel));
/* Likewise for an array. */
cJSON *ck_json_ensure_array(cJSON *obj, const char *path);

/* Removes and frees the value at the path: 0, -ENOENT, -EINVAL (empty/malformed path). */
int ck_json_delete(cJSON *obj, const char *path);
int ck_json_deletev(cJSON *obj, ...) __attribute__((sentinel));
/* Unlinks the value at the path and returns it (caller owns), or NULL. */
cJSON *ck_json_detach(cJSON *obj, const char *path);

/* ---- building, copying, comparing ---- */

/* A number node holding v exactly (also beyond 2^53); caller owns. */
cJSON *ck_json_new_int64(int64_t v);
/* Deep copy (NULL for NULL); caller owns. */
cJSON *ck_json_dup(const cJSON *item);
/* Deep equality with JSON semantics: object member order does not matter, numbers compare by
 * value (1 == 1.0; exact int64s compare exactly), true/false/null by type. Two NULLs are
 * equal. Trees deeper than CK_JSON_MAX_DEPTH compare unequal. */
bool ck_json_equal(const cJSON *a, const cJSON *b);

/* ---- printing ---- */

enum ck_json_print_flags {
    CK_JSON_SORT_KEYS = 1 << 0,      /* object keys in bytewise order, as Go prints maps */
    CK_JSON_INDENT = 1 << 1,         /* 4-space indent, as `kubectl get -o json` */
    CK_JSON_NO_HTML_ESCAPE = 1 << 2, /* keep < > & literal (Go escapes them by default) */
};

/* Prints like Go's encoding/json: numbers as Go formats float64 (integers in full up to 1e21,
 * shortest round-trip digits, exponent form below 1e-6 and from 1e21: 1e+21, 1e-7), exact
 * int64 text where the parser kept it, -0 as 0, non-finite numbers as null; strings escaped as
 * Go does (\" \\ \n \r \t \b \f, other controls \u00XX, U+2028/U+2029, <>& as \u003c etc.
 * unless CK_JSON_NO_HTML_ESCAPE, invalid UTF-8 as \ufffd). Without flags the output is
 * compact and keeps member order. Returns a string the caller frees, or NULL for a NULL item
 * or a tree deeper than CK_JSON_MAX_DEPTH.
 * Limits: the shortest-digits search may, at rare power-of-two boundaries, use one digit more
 * than Go; cJSON_Raw items are copied verbatim; cJSON_Invalid prints as null. */
char *ck_json_print(const cJSON *item, unsigned flags);
/* Appends the printed form to b: 0, or -ELOOP when too deep, -EINVAL for a NULL item. */
int ck_json_print_buf(struct ck_buf *b, const cJSON *item, unsigned flags);
/* Canonical form for hashing and stable output: sorted keys, no whitespace (= flags
 * CK_JSON_SORT_KEYS). Equal trees (ck_json_equal) print identically, except for exact
 * integers beyond 2^53 versus doubles that round to them. Caller frees. */
char *ck_json_canonical(const cJSON *item);

/* Go's formatting of one float64 into out (at least 32 bytes): "1", "1.5", "1e+21", "1e-7". */
void ck_json_format_double(double d, char out[32]);

#endif
