/* selector.h - label and field selectors as upstream (k8s.io/apimachinery/pkg/labels,
 * pkg/fields, and metav1.LabelSelectorAsSelector), Kubernetes v1.32.
 *
 * Label selectors
 *   ck_label_selector_parse parses the string syntax (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 *   `a notin (x)`, `a`, `!a`, `a>1`, `a<5`), validating keys and values and reporting errors
 *   with upstream's texts. ck_label_selector_from_json converts a metav1.LabelSelector object
 *   (matchLabels + matchExpressions). Requirements are kept sorted by key (stable), so
 *   ck_label_selector_string gives upstream's canonical String().
 *   Three kinds of selector exist, as upstream: "everything" (no requirements: matches all,
 *   empty() is true), "nothing" (from a NULL LabelSelector: matches none), and a list of
 *   requirements that must all hold.
 *
 * Field selectors
 *   ck_field_selector_parse parses `a=b`, `a==b`, `a!=b` terms separated by commas, values
 *   backslash-escaped (`\,` `\=` `\\`), exactly as upstream's fields.ParseSelector. Which
 *   fields exist depends on the kind, so matching asks the caller: a lookup callback or a
 *   small name/value array. The requirements are public so the apiserver can reject field
 *   labels the kind does not support (or rename them) before matching.
 *
 * Errors: parse/convert functions return 0 or -EINVAL and fill `err` (400 BadRequest) with
 * upstream's message. Ownership: every selector returned through `**out` or as a return value
 * is owned by the caller and released with the matching *_free; strings returned by *_string
 * and ck_field_escape_value are owned by the caller (free()). Labels passed in are borrowed.
 * All functions accept any input without crashing; NULL selectors are treated as "nothing"
 * for labels and "everything" for fields only where stated.
 */
#ifndef CK_SELECTOR_H
#define CK_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "error.h"

/* upstream selection.Operator */
enum ck_selector_op {
    CK_SEL_IN,             /* "in" */
    CK_SEL_NOT_IN,         /* "notin" */
    CK_SEL_EQUALS,         /* "=" */
    CK_SEL_DOUBLE_EQUALS,  /* "==" */
    CK_SEL_NOT_EQUALS,     /* "!=" */
    CK_SEL_EXISTS,         /* "exists" */
    CK_SEL_DOES_NOT_EXIST, /* "!" */
    CK_SEL_GT,             /* "gt" */
    CK_SEL_LT,             /* "lt" */
};

/* The upstream string of an operator ("in", "notin", "=", "==", "!=", "exists", "!", "gt",
 * "lt"); a static string. */
const char *ck_selector_op_string(enum ck_selector_op op);

/* ---- label selectors ---- */

struct ck_label_requirement {
    char *key;
    enum ck_selector_op op;
    char **values; /* parsed selectors: de-duplicated and sorted; from JSON: as given */
    size_t nvalues;
};

struct ck_label_selector {
    bool nothing; /* matches no object at all (upstream labels.Nothing()) */
    size_t n;
    struct ck_label_requirement *reqs; /* sorted by key, stable */
};

/* Parses the string syntax (labels.Parse). An empty or all-blank string gives "everything". */
int ck_label_selector_parse(const char *s, struct ck_label_selector **out, struct ck_error *err);

/* Converts a metav1.LabelSelector JSON object (metav1.LabelSelectorAsSelector): NULL or JSON
 * null gives "nothing", an object with no matchLabels and no matchExpressions "everything".
 * Operators In, NotIn, Exists, DoesNotExist; anything else fails with
 * `"<op>" is not a valid label selector operator`. */
int ck_label_selector_from_json(const cJSON *label_selector, struct ck_label_selector **out,
                                struct ck_error *err);

/* A selector requiring every label of `set` (a string -> string object) with its value,
 * without validation (labels.SelectorFromSet; NULL or {} gives "everything"). Non-string
 * members are skipped. Never NULL. */
struct ck_label_selector *ck_label_selector_from_set(const cJSON *set);

/* New selectors that match everything / nothing. Never NULL. */
struct ck_label_selector *ck_label_selector_everything(void);
struct ck_label_selector *ck_label_selector_nothing(void);
/* A deep copy (NULL for NULL). */
struct ck_label_selector *ck_label_selector_dup(const struct ck_label_selector *sel);

/* Validates a requirement as upstream's labels.NewRequirement (key, operator/value count,
 * integer values for gt/lt, label values) and adds it in key order. Adding to a "nothing"
 * selector is accepted and changes nothing (as upstream). Returns 0 or -EINVAL. */
int ck_label_selector_add(struct ck_label_selector *sel, const char *key, enum ck_selector_op op,
                          const char *const *values, size_t nvalues, struct ck_error *err);

/* True when every requirement holds for `labels` (a string -> string object; NULL = no
 * labels). A NULL selector matches nothing. */
bool ck_label_selector_matches(const struct ck_label_selector *sel, const cJSON *labels);
/* True for "everything" (no restriction); false for "nothing" and for NULL. */
bool ck_label_selector_empty(const struct ck_label_selector *sel);
/* Canonical form, as upstream String(): requirements joined by ',', `k in (a,b)` with sorted
 * values, `!k` for DoesNotExist; "" for everything and nothing. Caller frees. */
char *ck_label_selector_string(const struct ck_label_selector *sel);
/* If the selector pins `key` to one value (the first requirement on `key` is =, == or in with
 * a single value), stores it in *value (borrowed from sel) and returns true. */
bool ck_label_selector_requires_exact_match(const struct ck_label_selector *sel, const char *key,
                                            const char **value);

void ck_label_selector_free(struct ck_label_selector *sel);
void ck_label_selector_freep(struct ck_label_selector **sel);
#define CK_AUTOLABELSEL __attribute__((cleanup(ck_label_selector_freep)))

/* ---- field selectors ---- */

struct ck_field_requirement {
    char *field;
    enum ck_selector_op op; /* CK_SEL_EQUALS (for "=" and "==") or CK_SEL_NOT_EQUALS */
    char *value;            /* unescaped */
};

struct ck_field_selector {
    size_t n; /* 0: matches everything */
    struct ck_field_requirement *reqs;
};

/* Parses a field selector (fields.ParseSelector). Terms are ordered by their raw text, as
 * upstream sorts them; empty terms are skipped; a term with neither field nor value ("=")
 * selects everything. */
int ck_field_selector_parse(const char *s, struct ck_field_selector **out, struct ck_error *err);
/* New selectors: everything, and a single `field=value` term. Never NULL. */
struct ck_field_selector *ck_field_selector_everything(void);
struct ck_field_selector *ck_field_selector_one_term_equal(const char *field, const char *value);

/* Returns the object's value of `field` (borrowed), or NULL when it has none (compared as ""). */
typedef const char *(*ck_field_lookup_fn)(void *ctx, const char *field);
/* A selectable field of an object, for ck_field_selector_matches_set. */
struct ck_field_kv {
    const char *name;
    const char *value;
};

/* True when every term holds; a missing field reads as "" (so `spec.nodeName=` selects
 * unscheduled pods and `f!=x` holds when f is absent). A NULL selector matches everything. */
bool ck_field_selector_matches(const struct ck_field_selector *sel, ck_field_lookup_fn lookup,
                               void *ctx);
bool ck_field_selector_matches_set(const struct ck_field_selector *sel,
                                   const struct ck_field_kv *fields, size_t nfields);
bool ck_field_selector_empty(const struct ck_field_selector *sel);
/* Upstream String(): terms joined by ',', `f=v` / `f!=v` with the value escaped. Caller frees. */
char *ck_field_selector_string(const struct ck_field_selector *sel);
/* If a term requires `field` to equal a value, stores it (borrowed) and returns true. */
bool ck_field_selector_requires_exact_match(const struct ck_field_selector *sel, const char *field,
                                            const char **value);
void ck_field_selector_free(struct ck_field_selector *sel);
void ck_field_selector_freep(struct ck_field_selector **sel);
#define CK_AUTOFIELDSEL __attribute__((cleanup(ck_field_selector_freep)))

/* fields.EscapeValue: prefixes '\\', ',' and '=' with a backslash. Caller frees. */
char *ck_field_escape_value(const char *s);
/* fields.UnescapeValue: *out (caller frees) gets the literal value; fails with upstream's
 * "invalid field selector: ..." message on a bad escape or an unescaped ',' or '='. */
int ck_field_unescape_value(const char *s, char **out, struct ck_error *err);

#endif
