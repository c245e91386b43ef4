/* workload.h - helpers shared by the strategies of the workload and RBAC kinds (apps.c,
 * batch.c, rbac.c): typed reads of JSON fields, upstream's generic field validations
 * (ValidateNonnegativeField, ValidateLabels, ValidateLabelSelector, ValidateImmutableField),
 * apimachinery's semantic equality, and Go's %#v rendering of the values upstream puts in
 * field errors, e.g.
 *   spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ...
 *   spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"},
 *     MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable
 * Objects are untyped JSON here, so absent and JSON null both stand for Go's nil.
 *
 * Ownership: wl_go_* append to a caller's buffer; strings returned by wl_go_str are the
 * caller's (free()). Nothing keeps pointers to its arguments.
 */
#ifndef APISERVER_WORKLOAD_H
#define APISERVER_WORKLOAD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "fielderr.h"

/* ---- reading ---- */

/* A member of an object, or NULL when absent or JSON null (Go's nil). Borrowed. */
const cJSON *wl_get(const cJSON *obj, const char *key);
/* The string at obj.key, or def when absent or not a string. Borrowed. */
const char *wl_str(const cJSON *obj, const char *key, const char *def);
/* Reads an int32 field: 1 and *out when it is one, 0 when absent/null, -1 otherwise. */
int wl_int32(const cJSON *v, int64_t *out);
/* Like wl_int32 but adds `<field>: Invalid value: <v>: must be a 32-bit integer` for a value
 * of another type (upstream's decoder would refuse it). */
int wl_int32_field(const cJSON *v, const char *field, struct field_errors *e, int64_t *out);
/* The same for an int64 field (`must be a 64-bit integer`). */
int wl_int64_field(const cJSON *v, const char *field, struct field_errors *e, int64_t *out);
/* False (with `<field>: Invalid value: <v>: must be an object`) when v is present but no
 * object; true otherwise. */
bool wl_check_object(const cJSON *v, const char *field, struct field_errors *e);
/* True for a JSON object/array with no members, absent and null. */
bool wl_empty(const cJSON *v);

/* ---- defaulting ---- */

/* Puts `item` at obj.key when the member is absent or null; frees item otherwise. A
 * non-object obj is left alone (item freed). Returns the member now at obj.key (borrowed),
 * or NULL. */
cJSON *wl_default(cJSON *obj, const char *key, cJSON *item);
/* Sets obj.key to the string `value` when it is absent, null or "" (Go's `if x == ""` on a
 * string field). */
void wl_default_str(cJSON *obj, const char *key, const char *value);
/* The object at obj.key, created (replacing null) when absent; NULL when obj is no object
 * or another type is in the way. Borrowed. */
cJSON *wl_object(cJSON *obj, const char *key);

/* ---- Go %#v rendering ---- */

void wl_go_string_map(struct ck_buf *b, const cJSON *m);       /* map[string]string{...} */
void wl_go_string_slice(struct ck_buf *b, const cJSON *a);     /* []string{...} */
void wl_go_int32_slice(struct ck_buf *b, const cJSON *a);      /* []int32{...} */
void wl_go_label_selector(struct ck_buf *b, const cJSON *sel); /* v1.LabelSelector{...} */
void wl_go_intstr(struct ck_buf *b, const cJSON *v);           /* intstr.IntOrString{...} */
/* A Go value with no dedicated printer: strings quoted, numbers and bools bare, null as
 * "null", objects and arrays as compact JSON. */
void wl_go_value(struct ck_buf *b, const cJSON *v);

/* Adds an error whose value is printed exactly as `value` (a Go rendering; NULL: none). */
void wl_add_raw(struct field_errors *e, enum field_error_type type, const char *field,
                const char *value, const char *detail);

/* ---- generic validations ---- */

/* ValidateNonnegativeField for an optional int32 field: `must be greater than or equal to 0`. */
void wl_nonnegative(const cJSON *v, const char *field, struct field_errors *e);
/* The same for an int64 field. */
void wl_nonnegative64(const cJSON *v, const char *field, struct field_errors *e);
/* metav1 ValidateLabels / ValidateLabelName over a string map, errors on `field`. */
void wl_validate_labels(const cJSON *labels, const char *field, struct field_errors *e);
/* ValidateAnnotations: keys (lower-cased) as qualified names, total size 256 KiB. */
void wl_validate_annotations(const cJSON *annotations, const char *field, struct field_errors *e);
/* metav1 ValidateLabelSelector (NULL selector: nothing to check). allow_invalid_values is
 * upstream's AllowInvalidLabelValueInSelector. */
void wl_validate_label_selector(const cJSON *sel, const char *field, bool allow_invalid_values,
                                struct field_errors *e);
/* How a LabelSelector selects a set of labels, as LabelSelectorAsSelector + Matches:
 * WL_SEL_ERROR when it does not convert, WL_SEL_EMPTY for "everything" ({}), otherwise
 * WL_SEL_MATCH / WL_SEL_NO_MATCH. A NULL selector is "nothing" (never matches). */
enum wl_match { WL_SEL_ERROR, WL_SEL_EMPTY, WL_SEL_MATCH, WL_SEL_NO_MATCH };
enum wl_match wl_selector_match(const cJSON *sel, const cJSON *labels);
/* True when any matchExpressions value is not a valid label value (metav1validation's
 * LabelSelectorHasInvalidLabelValue). */
bool wl_selector_has_invalid_value(const cJSON *sel);

/* apimachinery's Semantic.DeepEqual on JSON: as ck_json_equal, except that an object member
 * that is null, {} or [] equals an absent one (nil and empty maps and slices compare equal,
 * and zero-valued structs serialize so). Depth-limited. */
bool wl_semantic_equal(const cJSON *a, const cJSON *b);
/* ValidateImmutableField: adds `<field>: Invalid value: <shown>: field is immutable` when
 * new and old differ semantically. `shown` renders the new value (NULL: wl_go_value); a nil
 * new value prints as "null", as upstream prints a nil pointer. */
void wl_immutable(const cJSON *new_v, const cJSON *old_v, const char *field,
                  void (*shown)(struct ck_buf *, const cJSON *), struct field_errors *e);

#endif
