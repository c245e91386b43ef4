/* workload.h - helpers shared by the strategies of the workload and RBAC kinds (apps.c,
 * batch.c, rbac.c), on top of fieldutil.h: typed reads of int32/int64 fields, upstream's generic
 * field validations (ValidateNonnegativeField, ValidateLabelSelector, ValidateImmutableField),
 * apimachinery's semantic equality, and Go's %#v rendering of the workload values upstream
 * puts in field errors, e.g.
 *   spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ...
 *   spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"},
 *     MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable
 * Objects are untyped JSON here, so absent and JSON null both stand for Go's nil.
 *
 * Ownership: getters borrow; wl_go_* append to a caller's buffer. Nothing keeps pointers to
 * its arguments.
 */
#ifndef APISERVER_WORKLOAD_H
#define APISERVER_WORKLOAD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "fielderr.h"
#include "fieldutil.h"

/* ---- reading ---- */

/* obj.spec when it is an object, else NULL (borrowed). */
const cJSON *wl_spec(const cJSON *obj);
/* A pod template's metadata.labels, or NULL (borrowed). */
const cJSON *wl_template_labels(const cJSON *tmpl);

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

/* The object at obj.key, created (replacing null) when absent; NULL when obj is no object
 * or another type is in the way. Borrowed. */
cJSON *wl_object(cJSON *obj, const char *key);
/* The pod template at spec.template (created when absent) gets podtemplate_defaults. */
void wl_template_defaults(cJSON *spec);

/* ---- Go %#v rendering ---- */

void wl_go_int32_slice(struct ck_buf *b, const cJSON *a);      /* []int32{...} */
void wl_go_label_selector(struct ck_buf *b, const cJSON *sel); /* v1.LabelSelector{...} */
void wl_go_intstr(struct ck_buf *b, const cJSON *v);           /* intstr.IntOrString{...} */
/* A Go value with no dedicated printer: strings quoted, numbers and bools bare, null as
 * "null", objects and arrays as compact JSON. */
void wl_go_value(struct ck_buf *b, const cJSON *v);

/* ---- generic validations ---- */

/* ValidateNonnegativeField for an optional int32 field: `must be greater than or equal to 0`. */
void wl_nonnegative(const cJSON *v, const char *field, struct field_errors *e);
/* The same for an int64 field. */
void wl_nonnegative64(const cJSON *v, const char *field, struct field_errors *e);
/* metav1 ValidateLabelSelector (NULL selector: nothing to check). allow_invalid_values is
 * upstream's AllowInvalidLabelValueInSelector. */
void wl_validate_label_selector(const cJSON *sel, const char *field, bool allow_invalid_values,
                                struct field_errors *e);
/* `<field>: Invalid value: map[string]string{...}: `selector` does not match template
 * `labels``, showing the template's labels. */
void wl_selector_mismatch(const cJSON *tmpl, const char *field, struct field_errors *e);
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
