/* fielderr.c - validation errors and their Status (see fielderr.h). */
#include "fielderr.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

static const struct {
    const char *reason;  /* the cause's "reason" */
    const char *message; /* the words printed */
} TYPES[] = {
    [FE_REQUIRED] = {"FieldValueRequired", "Required value"},
    [FE_INVALID] = {"FieldValueInvalid", "Invalid value"},
    [FE_NOT_SUPPORTED] = {"FieldValueNotSupported", "Unsupported value"},
    [FE_DUPLICATE] = {"FieldValueDuplicate", "Duplicate value"},
    [FE_FORBIDDEN] = {"FieldValueForbidden", "Forbidden"},
    [FE_TOO_LONG] = {"FieldValueTooLong", "Too long"},
    [FE_TOO_MANY] = {"FieldValueTooMany", "Too many"},
    [FE_NOT_FOUND] = {"FieldValueNotFound", "Not found"},
    [FE_INTERNAL] = {"InternalError", "Internal error"},
};

static void push(struct field_errors *e, enum field_error_type type, const char *field, char *value,
                 char *detail)
{
    if (e->len == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 8;
        e->items = ck_xrealloc(e->items, e->cap * sizeof(*e->items));
    }
    e->items[e->len++] = (struct field_error){type, ck_xstrdup(field), value, detail};
}

/* Pushes one error whose detail is printf-formatted from fmt (NULL: no detail). */
static void vpush(struct field_errors *e, enum field_error_type type, const char *field,
                  char *value, const char *fmt, va_list ap)
{
    char *detail = NULL;
    if (fmt) {
        struct ck_buf b = CK_BUF_INIT;
        ck_buf_vprintf(&b, fmt, ap);
        detail = ck_buf_detach(&b);
    }
    push(e, type, field, value, detail);
}

/* The body of every fe_add* below: push with the detail formatted from the variadic args. */
#define VPUSH(e, type, field, value, fmt)                                                          \
    do {                                                                                           \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        vpush(e, type, field, value, fmt, ap);                                                     \
        va_end(ap);                                                                                \
    } while (0)

static char *quote(const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    char *copy = ck_xstrdup(out);
    cJSON_free(out);
    return copy;
}

void fe_add(struct field_errors *e, enum field_error_type type, const char *field,
            const cJSON *value, const char *detail_fmt, ...)
{
    char *v = NULL;
    if (value) {
        char *p = cJSON_PrintUnformatted(value);
        v = ck_xstrdup(p ? p : "null");
        cJSON_free(p);
    }
    VPUSH(e, type, field, v, detail_fmt);
}

void fe_add_str(struct field_errors *e, enum field_error_type type, const char *field,
                const char *value, const char *detail_fmt, ...)
{
    VPUSH(e, type, field, value ? quote(value) : NULL, detail_fmt);
}

void fe_add_raw(struct field_errors *e, enum field_error_type type, const char *field,
                const char *raw, const char *detail_fmt, ...)
{
    VPUSH(e, type, field, raw ? ck_xstrdup(raw) : NULL, detail_fmt);
}

void fe_add_int(struct field_errors *e, enum field_error_type type, const char *field,
                int64_t value, const char *detail_fmt, ...)
{
    VPUSH(e, type, field, ck_xasprintf("%" PRId64, value), detail_fmt);
}

void fe_not_supported(struct field_errors *e, const char *field, const char *value,
                      const char *const *supported)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "supported values: ");
    for (size_t i = 0; supported[i]; i++) {
        char *q = quote(supported[i]);
        ck_buf_printf(&b, "%s%s", i ? ", " : "", q);
        free(q);
    }
    push(e, FE_NOT_SUPPORTED, field, value ? quote(value) : NULL, ck_buf_detach(&b));
}

void fe_move(struct field_errors *e, struct field_errors *src)
{
    for (size_t i = 0; i < src->len; i++) {
        struct field_error *x = &src->items[i];
        push(e, x->type, x->field, x->value, x->detail);
        free(x->field);
    }
    free(src->items);
    *src = (struct field_errors)FIELD_ERRORS_INIT;
}

void field_errors_free(struct field_errors *e)
{
    for (size_t i = 0; i < e->len; i++) {
        free(e->items[i].field);
        free(e->items[i].value);
        free(e->items[i].detail);
    }
    free(e->items);
    e->items = NULL;
    e->len = e->cap = 0;
}

/* The cause's message: everything after "<field>: ". */
static void format_message(struct ck_buf *b, const struct field_error *fe)
{
    ck_buf_puts(b, TYPES[fe->type].message);
    if (fe->value)
        ck_buf_printf(b, ": %s", fe->value);
    if (fe->detail && fe->detail[0])
        ck_buf_printf(b, ": %s", fe->detail);
}

char *fe_format(const struct field_error *fe)
{
    struct ck_buf b = CK_BUF_INIT;
    if (fe->field[0])
        ck_buf_printf(&b, "%s: ", fe->field);
    format_message(&b, fe);
    return ck_buf_detach(&b);
}

char *fe_join(const struct field_errors *e, const char *sep)
{
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; i < e->len; i++) {
        char *s = fe_format(&e->items[i]);
        ck_buf_printf(&b, "%s%s", i ? sep : "", s);
        free(s);
    }
    return ck_buf_detach(&b);
}

int fe_to_error(const struct field_errors *e, const char *group, const char *kind, const char *name,
                struct ck_error *err)
{
    struct ck_buf msg = CK_BUF_INIT;
    /* upstream prints the GroupKind: "Pod", "Deployment.apps" */
    if (group && group[0])
        ck_buf_printf(&msg, "%s.%s \"%s\" is invalid: ", kind, group, name ? name : "");
    else
        ck_buf_printf(&msg, "%s \"%s\" is invalid: ", kind, name ? name : "");
    CK_AUTOFREE char *all = fe_join(e, ", ");
    ck_buf_printf(&msg, e->len > 1 ? "[%s]" : "%s", all);
    cJSON *causes = cJSON_CreateArray();
    for (size_t i = 0; i < e->len; i++) {
        struct ck_buf m = CK_BUF_INIT;
        format_message(&m, &e->items[i]);
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "reason", TYPES[e->items[i].type].reason);
        cJSON_AddStringToObject(c, "message", ck_buf_str(&m));
        cJSON_AddStringToObject(c, "field", e->items[i].field);
        cJSON_AddItemToArray(causes, c);
        ck_buf_free(&m);
    }
    int rc = ck_error_set(err, 422, CK_REASON_INVALID, "%s", ck_buf_str(&msg));
    cJSON *details = cJSON_CreateObject();
    if (name && name[0])
        cJSON_AddStringToObject(details, "name", name);
    if (group && group[0])
        cJSON_AddStringToObject(details, "group", group);
    cJSON_AddStringToObject(details, "kind", kind);
    cJSON_AddItemToObject(details, "causes", causes);
    ck_error_set_details(err, details);
    ck_buf_free(&msg);
    return rc;
}
