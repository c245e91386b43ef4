/* workload.c - helpers shared by the workload and RBAC strategies (see workload.h). */
#include "workload.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "selector.h"
#include "validation.h"

#define WL_MAX_DEPTH 200

/* ---- reading ---- */

const cJSON *wl_get(const cJSON *obj, const char *key)
{
    if (!cJSON_IsObject(obj))
        return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNull(v) ? NULL : v;
}

const char *wl_str(const cJSON *obj, const char *key, const char *def)
{
    const cJSON *v = wl_get(obj, key);
    return cJSON_IsString(v) ? v->valuestring : def;
}

int wl_int32(const cJSON *v, int64_t *out)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    int64_t n;
    if (!cJSON_IsNumber(v) || ck_json_to_int64(v, &n) < 0 || n < INT32_MIN || n > INT32_MAX)
        return -1;
    *out = n;
    return 1;
}

int wl_int32_field(const cJSON *v, const char *field, struct field_errors *e, int64_t *out)
{
    int rc = wl_int32(v, out);
    if (rc < 0)
        fe_add(e, FE_INVALID, field, v, "must be a 32-bit integer");
    return rc;
}

int wl_int64_field(const cJSON *v, const char *field, struct field_errors *e, int64_t *out)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || ck_json_to_int64(v, out) < 0) {
        fe_add(e, FE_INVALID, field, v, "must be a 64-bit integer");
        return -1;
    }
    return 1;
}

bool wl_check_object(const cJSON *v, const char *field, struct field_errors *e)
{
    if (!v || cJSON_IsNull(v) || cJSON_IsObject(v))
        return true;
    fe_add(e, FE_INVALID, field, v, "must be an object");
    return false;
}

bool wl_empty(const cJSON *v)
{
    return !v || cJSON_IsNull(v) || ((cJSON_IsObject(v) || cJSON_IsArray(v)) && !v->child);
}

/* ---- defaulting ---- */

cJSON *wl_default(cJSON *obj, const char *key, cJSON *item)
{
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(item);
        return NULL;
    }
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cur && !cJSON_IsNull(cur)) {
        cJSON_Delete(item);
        return cur;
    }
    if (cur)
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
    else
        cJSON_AddItemToObject(obj, key, item);
    return item;
}

void wl_default_str(cJSON *obj, const char *key, const char *value)
{
    if (!cJSON_IsObject(obj))
        return;
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cur && !cJSON_IsNull(cur) && !(cJSON_IsString(cur) && !cur->valuestring[0]))
        return;
    if (cur)
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, cJSON_CreateString(value));
    else
        cJSON_AddStringToObject(obj, key, value);
}

cJSON *wl_object(cJSON *obj, const char *key)
{
    cJSON *v = wl_default(obj, key, cJSON_CreateObject());
    return cJSON_IsObject(v) ? v : NULL;
}

/* ---- Go %#v rendering ---- */

static void go_quote(struct ck_buf *b, const char *s)
{
    ck_buf_put_go_quoted(b, s);
}

void wl_go_value(struct ck_buf *b, const cJSON *v)
{
    if (!v || cJSON_IsNull(v)) {
        ck_buf_puts(b, "null");
    } else if (cJSON_IsString(v)) {
        go_quote(b, v->valuestring);
    } else {
        char *s = ck_json_print(v, 0);
        ck_buf_puts(b, s ? s : "null");
        free(s);
    }
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

void wl_go_string_map(struct ck_buf *b, const cJSON *m)
{
    if (!cJSON_IsObject(m)) {
        ck_buf_puts(b, "map[string]string(nil)");
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(m), i = 0;
    const cJSON **items = ck_xcalloc(n ? n : 1, sizeof(*items));
    const cJSON *kv;
    cJSON_ArrayForEach(kv, m) items[i++] = kv;
    qsort(items, n, sizeof(*items), cmp_keys); /* fmt prints maps sorted by key */
    ck_buf_puts(b, "map[string]string{");
    for (i = 0; i < n; i++) {
        if (i)
            ck_buf_puts(b, ", ");
        go_quote(b, items[i]->string);
        ck_buf_putc(b, ':');
        wl_go_value(b, items[i]);
    }
    ck_buf_putc(b, '}');
    free(items);
}

static void go_slice(struct ck_buf *b, const cJSON *a, const char *type,
                     void (*elem)(struct ck_buf *, const cJSON *))
{
    if (!cJSON_IsArray(a)) {
        ck_buf_printf(b, "[]%s(nil)", type);
        return;
    }
    ck_buf_printf(b, "[]%s{", type);
    const cJSON *x;
    bool first = true;
    cJSON_ArrayForEach(x, a)
    {
        if (!first)
            ck_buf_puts(b, ", ");
        first = false;
        elem(b, x);
    }
    ck_buf_putc(b, '}');
}

void wl_go_string_slice(struct ck_buf *b, const cJSON *a)
{
    go_slice(b, a, "string", wl_go_value);
}

void wl_go_int32_slice(struct ck_buf *b, const cJSON *a)
{
    go_slice(b, a, "int32", wl_go_value);
}

static void go_requirement(struct ck_buf *b, const cJSON *r)
{
    ck_buf_puts(b, "v1.LabelSelectorRequirement{Key:");
    go_quote(b, wl_str(r, "key", ""));
    ck_buf_puts(b, ", Operator:");
    go_quote(b, wl_str(r, "operator", ""));
    ck_buf_puts(b, ", Values:");
    wl_go_string_slice(b, wl_get(r, "values"));
    ck_buf_putc(b, '}');
}

void wl_go_label_selector(struct ck_buf *b, const cJSON *sel)
{
    ck_buf_puts(b, "v1.LabelSelector{MatchLabels:");
    wl_go_string_map(b, wl_get(sel, "matchLabels"));
    ck_buf_puts(b, ", MatchExpressions:");
    go_slice(b, wl_get(sel, "matchExpressions"), "v1.LabelSelectorRequirement", go_requirement);
    ck_buf_putc(b, '}');
}

void wl_go_intstr(struct ck_buf *b, const cJSON *v)
{
    int64_t n = 0;
    if (cJSON_IsString(v)) {
        ck_buf_puts(b, "intstr.IntOrString{Type:1, IntVal:0, StrVal:");
        go_quote(b, v->valuestring);
        ck_buf_putc(b, '}');
        return;
    }
    if (wl_int32(v, &n) < 0)
        n = 0;
    ck_buf_printf(b, "intstr.IntOrString{Type:0, IntVal:%lld, StrVal:\"\"}", (long long)n);
}

void wl_add_raw(struct field_errors *e, enum field_error_type type, const char *field,
                const char *value, const char *detail)
{
    cJSON *raw = value ? cJSON_CreateRaw(value) : NULL;
    if (detail)
        fe_add(e, type, field, raw, "%s", detail);
    else
        fe_add(e, type, field, raw, NULL);
    cJSON_Delete(raw);
}

/* ---- generic validations ---- */

void wl_nonnegative(const cJSON *v, const char *field, struct field_errors *e)
{
    int64_t n;
    if (wl_int32_field(v, field, e, &n) > 0 && n < 0)
        fe_add(e, FE_INVALID, field, v, "must be greater than or equal to 0");
}

void wl_nonnegative64(const cJSON *v, const char *field, struct field_errors *e)
{
    int64_t n;
    if (wl_int64_field(v, field, e, &n) > 0 && n < 0)
        fe_add(e, FE_INVALID, field, v, "must be greater than or equal to 0");
}

static void add_msgs(struct field_errors *e, const char *field, const char *value,
                     struct ck_errlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        fe_add_str(e, FE_INVALID, field, value, "%s", l->items[i]);
    ck_errlist_free(l);
}

void wl_validate_labels(const cJSON *labels, const char *field, struct field_errors *e)
{
    if (!labels || cJSON_IsNull(labels))
        return;
    if (!cJSON_IsObject(labels)) {
        fe_add(e, FE_INVALID, field, labels, "must be an object of strings");
        return;
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, labels)
    {
        struct ck_errlist l = CK_ERRLIST_INIT;
        ck_is_qualified_name(kv->string, &l);
        add_msgs(e, field, kv->string, &l);
        if (!cJSON_IsString(kv)) {
            fe_add(e, FE_INVALID, field, kv, "must be a string");
            continue;
        }
        ck_is_valid_label_value(kv->valuestring, &l);
        add_msgs(e, field, kv->valuestring, &l);
    }
}

void wl_validate_annotations(const cJSON *annotations, const char *field, struct field_errors *e)
{
    if (!annotations || cJSON_IsNull(annotations))
        return;
    if (!cJSON_IsObject(annotations)) {
        fe_add(e, FE_INVALID, field, annotations, "must be an object of strings");
        return;
    }
    size_t total = 0;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, annotations)
    {
        CK_AUTOFREE char *lower = ck_xstrdup(kv->string);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        struct ck_errlist l = CK_ERRLIST_INIT;
        ck_is_qualified_name(lower, &l);
        add_msgs(e, field, kv->string, &l);
        total += strlen(kv->string) + (cJSON_IsString(kv) ? strlen(kv->valuestring) : 0);
    }
    if (total > CK_TOTAL_ANNOTATION_SIZE_LIMIT)
        fe_add(e, FE_TOO_LONG, field, NULL, "must have at most %d bytes",
               CK_TOTAL_ANNOTATION_SIZE_LIMIT);
}

static void validate_requirement(const cJSON *r, const char *field, bool allow_invalid_values,
                                 struct field_errors *e)
{
    const char *op = wl_str(r, "operator", "");
    const cJSON *values = wl_get(r, "values");
    int nvalues = cJSON_IsArray(values) ? cJSON_GetArraySize(values) : 0;
    CK_AUTOFREE char *vpath = ck_xasprintf("%s.values", field);
    if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
        if (!nvalues)
            fe_add(e, FE_REQUIRED, vpath, NULL,
                   "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) {
        if (nvalues)
            fe_add(e, FE_FORBIDDEN, vpath, NULL,
                   "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else {
        CK_AUTOFREE char *opath = ck_xasprintf("%s.operator", field);
        fe_add_str(e, FE_INVALID, opath, op, "not a valid selector operator");
    }
    CK_AUTOFREE char *kpath = ck_xasprintf("%s.key", field);
    const char *key = wl_str(r, "key", "");
    struct ck_errlist l = CK_ERRLIST_INIT;
    ck_is_qualified_name(key, &l);
    add_msgs(e, kpath, key, &l);
    if (allow_invalid_values || !nvalues)
        return;
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, values)
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s.values[%d]", field, i++);
        if (!cJSON_IsString(v)) {
            fe_add(e, FE_INVALID, p, v, "must be a string");
            continue;
        }
        ck_is_valid_label_value(v->valuestring, &l);
        add_msgs(e, p, v->valuestring, &l);
    }
}

void wl_validate_label_selector(const cJSON *sel, const char *field, bool allow_invalid_values,
                                struct field_errors *e)
{
    if (!sel || cJSON_IsNull(sel))
        return;
    if (!cJSON_IsObject(sel)) {
        fe_add(e, FE_INVALID, field, sel, "must be a label selector object");
        return;
    }
    CK_AUTOFREE char *ml = ck_xasprintf("%s.matchLabels", field);
    wl_validate_labels(wl_get(sel, "matchLabels"), ml, e);
    const cJSON *exprs = wl_get(sel, "matchExpressions");
    if (exprs && !cJSON_IsArray(exprs)) {
        CK_AUTOFREE char *p = ck_xasprintf("%s.matchExpressions", field);
        fe_add(e, FE_INVALID, p, exprs, "must be a list");
        return;
    }
    int i = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, exprs)
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s.matchExpressions[%d]", field, i++);
        validate_requirement(r, p, allow_invalid_values, e);
    }
}

enum wl_match wl_selector_match(const cJSON *sel, const cJSON *labels)
{
    struct ck_label_selector *s = NULL;
    if (sel && !cJSON_IsNull(sel) && !cJSON_IsObject(sel))
        return WL_SEL_ERROR;
    if (ck_label_selector_from_json(cJSON_IsNull(sel) ? NULL : sel, &s, NULL) < 0)
        return WL_SEL_ERROR;
    enum wl_match m = ck_label_selector_empty(s) ? WL_SEL_EMPTY
                      : ck_label_selector_matches(s, cJSON_IsObject(labels) ? labels : NULL)
                          ? WL_SEL_MATCH
                          : WL_SEL_NO_MATCH;
    ck_label_selector_free(s);
    return m;
}

bool wl_selector_has_invalid_value(const cJSON *sel)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, wl_get(sel, "matchExpressions"))
    {
        const cJSON *v;
        cJSON_ArrayForEach(v, wl_get(r, "values"))
        {
            if (!cJSON_IsString(v) || ck_is_valid_label_value(v->valuestring, NULL))
                return true;
        }
    }
    return false;
}

static bool semantic_equal(const cJSON *a, const cJSON *b, int depth)
{
    if (depth > WL_MAX_DEPTH)
        return false;
    if (wl_empty(a) && wl_empty(b))
        return true;
    if (!a || !b)
        return false;
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, a)
        {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!semantic_equal(x, y, depth + 1))
                return false;
        }
        cJSON_ArrayForEach(x, b)
        {
            if (!cJSON_GetObjectItemCaseSensitive(a, x->string) && !wl_empty(x))
                return false;
        }
        return true;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!semantic_equal(x, y, depth + 1))
                return false;
        return !x && !y;
    }
    return ck_json_equal(a, b);
}

bool wl_semantic_equal(const cJSON *a, const cJSON *b)
{
    return semantic_equal(a, b, 0);
}

void wl_immutable(const cJSON *new_v, const cJSON *old_v, const char *field,
                  void (*shown)(struct ck_buf *, const cJSON *), struct field_errors *e)
{
    if (wl_semantic_equal(new_v, old_v))
        return;
    struct ck_buf b = CK_BUF_INIT;
    if (!new_v || cJSON_IsNull(new_v))
        ck_buf_puts(&b, "null");
    else
        (shown ? shown : wl_go_value)(&b, new_v);
    wl_add_raw(e, FE_INVALID, field, ck_buf_str(&b), "field is immutable");
    ck_buf_free(&b);
}
