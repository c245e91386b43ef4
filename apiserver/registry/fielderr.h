/* fielderr.h - validation errors with upstream's field paths, types and wording
 * (k8s.io/apimachinery/pkg/util/validation/field), and their 422 Invalid Status.
 *
 * A struct field_errors collects errors; it owns its strings. Each error prints as
 * `<field>: <type>[: <value>][: <detail>]`, e.g.
 *   spec.containers[0].image: Required value
 *   metadata.name: Invalid value: "Foo": a lowercase RFC 1123 subdomain must ...
 */
#ifndef APISERVER_FIELDERR_H
#define APISERVER_FIELDERR_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum field_error_type {
    FE_REQUIRED,      /* FieldValueRequired: "Required value" */
    FE_INVALID,       /* FieldValueInvalid: "Invalid value" */
    FE_NOT_SUPPORTED, /* FieldValueNotSupported: "Unsupported value" */
    FE_DUPLICATE,     /* FieldValueDuplicate: "Duplicate value" */
    FE_FORBIDDEN,     /* FieldValueForbidden: "Forbidden" */
    FE_TOO_LONG,      /* FieldValueTooLong: "Too long" */
    FE_TOO_MANY,      /* FieldValueTooMany: "Too many" */
    FE_NOT_FOUND,     /* FieldValueNotFound: "Not found" */
    FE_INTERNAL,      /* InternalError: "Internal error" */
};

struct field_error {
    enum field_error_type type;
    char *field;  /* "spec.containers[0].name" */
    char *value;  /* printed value (already quoted as upstream prints it), or NULL */
    char *detail; /* or NULL */
};

struct field_errors {
    struct field_error *items;
    size_t len, cap;
};

#define FIELD_ERRORS_INIT                                                                          \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Adds one error. `value` is a JSON value printed as upstream prints Go values (strings quoted,
 * numbers bare), may be NULL for no value; detail is printf-formatted, may be NULL. */
void fe_add(struct field_errors *e, enum field_error_type type, const char *field,
            const cJSON *value, const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));
/* Same with the value given as a C string (printed quoted). */
void fe_add_str(struct field_errors *e, enum field_error_type type, const char *field,
                const char *value, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Same with the value already printed as upstream prints it (e.g. Go's []string{"a"}); raw
 * may be NULL for no value. */
void fe_add_raw(struct field_errors *e, enum field_error_type type, const char *field,
                const char *raw, const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));
/* Same with an integer value, printed bare as Go prints an int. */
void fe_add_int(struct field_errors *e, enum field_error_type type, const char *field,
                int64_t value, const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));
/* Adds "Unsupported value: "x": supported values: "a", "b"" as upstream's NotSupported. */
void fe_not_supported(struct field_errors *e, const char *field, const char *value,
                      const char *const *supported);
/* Appends every error of src to e, in order, and leaves src empty. */
void fe_move(struct field_errors *e, struct field_errors *src);
void field_errors_free(struct field_errors *e);
/* The text of one error, into a new string the caller frees. */
char *fe_format(const struct field_error *fe);
/* Every error's text, joined with sep ("\n": one per line), into a new string the caller
 * frees ("" for no errors). */
char *fe_join(const struct field_errors *e, const char *sep);
/* Fills err with upstream's 422 Invalid Status for kind/name:
 * message `<Kind>[.<group>] "<name>" is invalid: <one error>` or `...: [<e1>, <e2>]`, details with
 * name, group, kind and causes. Returns a negative errno as ck_error_set does. */
int fe_to_error(const struct field_errors *e, const char *group, const char *kind, const char *name,
                struct ck_error *err);

#endif
