/* fieldutil.h - the small helpers every strategy file shares (pods.c, services.c, core.c,
 * apps.c, batch.c, rbac.c, podspec_*.c): typed reads of JSON members, defaulting of members,
 * Go's %#v rendering of the values upstream puts in field errors, and field errors built
 * from the ck_is_* checks (common/validation.h) or from such renderings, e.g.
 *   spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ...
 *   spec.dnsConfig.nameservers: Invalid value: []string{"1.1.1.1", ...}: ...
 *
 * Objects are untyped JSON here: an absent member and a JSON null both stand for Go's nil,
 * and values of the wrong JSON type are read as missing, never trusted.
 *
 * Ownership: getters borrow from the tree they are given; setters take ownership of the item
 * they are given (and free it when they do not use it); the fu_go_* printers append to a
 * caller's buffer. Nothing keeps a pointer to its arguments.
 */
#ifndef APISERVER_FIELDUTIL_H
#define APISERVER_FIELDUTIL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "fielderr.h"
#include "validation.h"

/* ---- reading ---- */

/* The member `key` of o, or NULL when o is not an object or the member is missing or JSON
 * null (borrowed). */
cJSON *fu_get(const cJSON *o, const char *key);
/* The string member, or "" when missing or not a string (borrowed). */
const char *fu_str(const cJSON *o, const char *key);
/* True and *out set when the member is an integral number within int64. */
bool fu_int(const cJSON *o, const char *key, int64_t *out);
/* True when s is one of the strings of the NULL-terminated list. */
bool fu_in_list(const char *const *list, const char *s);

/* Adds s to `set` (a JSON object used as a set of strings); true when it was already there. */
bool fu_seen(cJSON *set, const char *s);

/* ---- changing and defaulting ---- */

/* Sets member `key` of o to v (replacing it in place, or appending); takes ownership of v
 * (freed when o is not an object). */
void fu_put(cJSON *o, const char *key, cJSON *v);
/* Puts `item` at o.key when the member is missing or null (a Go pointer field); frees item
 * otherwise, and when o is not an object. Returns the member now at o.key (borrowed), or
 * NULL when o is not an object. */
cJSON *fu_default(cJSON *o, const char *key, cJSON *item);
/* Sets a string member to def when it is missing, null or "" (Go's `if x == ""`). */
void fu_default_str(cJSON *o, const char *key, const char *def);
/* The object at o.key, replacing whatever else (or nothing) is there with a new empty
 * object; NULL when o is not an object (borrowed). */
cJSON *fu_ensure_object(cJSON *o, const char *key);

/* ---- Go %#v rendering ---- */

/* A Go string: v quoted as %q, "" for anything that is not a string (a Go zero value, as a
 * JSON null decodes to). */
void fu_go_string(struct ck_buf *b, const cJSON *v);
/* `map[string]string{"a":"b", "c":"d"}` with keys sorted as fmt prints maps, values as
 * fu_go_string; `map[string]string(nil)` when m is not an object. */
void fu_go_string_map(struct ck_buf *b, const cJSON *m);
/* `[]<type>{e1, e2}` with each element printed by `elem`; `[]<type>(nil)` when a is not an
 * array. */
void fu_go_slice(struct ck_buf *b, const char *type, const cJSON *a,
                 void (*elem)(struct ck_buf *, const cJSON *));
/* `[]string{"a", "b"}`: fu_go_slice of fu_go_string. */
void fu_go_string_slice(struct ck_buf *b, const cJSON *a);
/* A Go struct of string fields, e.g. `rbac.RoleRef{APIGroup:"a", Kind:"b", Name:"c"}`: `fields`
 * pairs each Go field name with the JSON member printed as fu_go_string (NULL-terminated:
 * {"APIGroup", "apiGroup", "Kind", "kind", NULL}). */
void fu_go_struct(struct ck_buf *b, const char *type, const cJSON *obj, const char *const *fields);
/* v rendered by `show` (one of the fu_go_* printers or the caller's own), as a new string the
 * caller frees. */
char *fu_go_render(void (*show)(struct ck_buf *, const cJSON *), const cJSON *v);

/* ---- field errors ---- */

/* Adds each message of l as an Invalid error on field with the value quoted, then empties
 * l; returns how many were added. */
int fu_add_msgs(struct field_errors *e, const char *field, const char *value, struct ck_errlist *l);
/* Runs one of the ck_is_* checks on value (NULL: "") and adds its messages as fu_add_msgs
 * does; returns how many were added. */
int fu_check(struct field_errors *e, const char *field, const char *value,
             int (*fn)(const char *, struct ck_errlist *));
/* ValidatePortNum: adds `<field>: Invalid value: <port>: must be between 1 and 65535,
 * inclusive` (the number printed bare) unless port is valid; returns how many were added. */
int fu_check_port(struct field_errors *e, const char *field, int64_t port);
/* ValidatePortNumOrName over an IntOrString value: a string as a port name, a number (or
 * anything else, Go's zero IntOrString) as fu_check_port. */
void fu_check_port_num_or_name(struct field_errors *e, const char *field, const cJSON *v);
/* `<field>: Required value` when value is "", else `<field>: Unsupported value: "x": supported
 * values: ...` unless value is one of the NULL-terminated `supported`. */
void fu_check_enum(struct field_errors *e, const char *field, const char *value,
                   const char *const *supported);
/* Adds an error whose value is fu_go_render(show, v); detail may be NULL. */
void fu_add_go(struct field_errors *e, enum field_error_type type, const char *field,
               void (*show)(struct ck_buf *, const cJSON *), const cJSON *v, const char *detail);

/* ---- generic validations ---- */

/* metav1 ValidateLabels over a labels object (absent or null: nothing to check): keys as
 * qualified names, string values as label values, all reported at `field` itself as upstream
 * does. A null value is Go's "" (valid); a value of another type is `must be a string`. */
void fu_validate_labels(const cJSON *labels, const char *field, struct field_errors *e);
/* ValidateAnnotations: keys (lower-cased) as qualified names, total size of keys and values
 * at most 256 KiB; a null value is Go's "", a value of another type is `must be a string`.
 * objmeta.c validates metadata.labels/annotations of every kind with these two. */
void fu_validate_annotations(const cJSON *annotations, const char *field, struct field_errors *e);

#endif
