/* workload.c - helpers shared by the workload and RBAC strategies (see workload.h). */
#include "workload.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "podspec.h"
#include "selector.h"
#include "validation.h"

#define WL_MAX_DEPTH 200

/* ---- reading ---- */

const cJSON *wl_spec(const cJSON *obj)
{
    const cJSON *s = fu_get(obj, "spec");
    return cJSON_IsObject(s) ? s : NULL;
}

const cJSON *wl_template_labels(const cJSON *tmpl)
{
    return fu_get(fu_get(tmpl, "metadata"), "labels");
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

cJSON *wl_object(cJSON *obj, const char *key)
{
    cJSON *v = fu_default(obj, key, cJSON_CreateObject());
    return cJSON_IsObject(v) ? v : NULL;
}

void wl_template_defaults(cJSON *spec)
{
    cJSON *tmpl = wl_object(spec, "template");
    if (tmpl)
        podtemplate_defaults(tmpl);
}

/* ---- Go %#v rendering ---- */

void wl_go_value(struct ck_buf *b, const cJSON *v)
{
    if (!v || cJSON_IsNull(v)) {
        ck_buf_puts(b, "null");
    } else if (cJSON_IsString(v)) {
        ck_buf_put_go_quoted(b, v->valuestring);
    } else {
        char *s = ck_json_print(v, 0);
        ck_buf_puts(b, s ? s : "null");
        free(s);
    }
}

void wl_go_int32_slice(struct ck_buf *b, const cJSON *a)
{
    fu_go_slice(b, "int32", a, wl_go_value);
}

static void go_requirement(struct ck_buf *b, const cJSON *r)
{
    ck_buf_puts(b, "v1.LabelSelectorRequirement{Key:");
    ck_buf_put_go_quoted(b, fu_str(r, "key"));
    ck_buf_puts(b, ", Operator:");
    ck_buf_put_go_quoted(b, fu_str(r, "operator"));
    ck_buf_puts(b, ", Values:");
    fu_go_string_slice(b, fu_get(r, "values"));
    ck_buf_putc(b, '}');
}

void wl_go_label_selector(struct ck_buf *b, const cJSON *sel)
{
    ck_buf_puts(b, "v1.LabelSelector{MatchLabels:");
    fu_go_string_map(b, fu_get(sel, "matchLabels"));
    ck_buf_puts(b, ", MatchExpressions:");
    fu_go_slice(b, "v1.LabelSelectorRequirement", fu_get(sel, "matchExpressions"), go_requirement);
    ck_buf_putc(b, '}');
}

void wl_go_intstr(struct ck_buf *b, const cJSON *v)
{
    int64_t n = 0;
    if (cJSON_IsString(v)) {
        ck_buf_puts(b, "intstr.IntOrString{Type:1, IntVal:0, StrVal:");
        ck_buf_put_go_quoted(b, v->valuestring);
        ck_buf_putc(b, '}');
        return;
    }
    if (wl_int32(v, &n) < 0)
        n = 0;
    ck_buf_printf(b, "intstr.IntOrString{Type:0, IntVal:%lld, StrVal:\"\"}", (long long)n);
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

static void validate_requirement(const cJSON *r, const char *field, bool allow_invalid_values,
                                 struct field_errors *e)
{
    const char *op = fu_str(r, "operator");
    const cJSON *values = fu_get(r, "values");
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
    const char *key = fu_str(r, "key");
    fu_check(e, kpath, key, ck_is_qualified_name);
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
        fu_check(e, p, v->valuestring, ck_is_valid_label_value);
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
    fu_validate_labels(fu_get(sel, "matchLabels"), ml, e);
    const cJSON *exprs = fu_get(sel, "matchExpressions");
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

void wl_selector_mismatch(const cJSON *tmpl, const char *field, struct field_errors *e)
{
    fu_add_go(e, FE_INVALID, field, fu_go_string_map, wl_template_labels(tmpl),
              "`selector` does not match template `labels`");
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
    cJSON_ArrayForEach(r, fu_get(sel, "matchExpressions"))
    {
        const cJSON *v;
        cJSON_ArrayForEach(v, fu_get(r, "values"))
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
    fe_add_raw(e, FE_INVALID, field, ck_buf_str(&b), "field is immutable");
    ck_buf_free(&b);
}
