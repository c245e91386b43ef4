/* selector.c - label selectors as upstream (see selector.h): requirements validated as
 * labels.NewRequirement does, selector objects, matching, the canonical String() and the
 * conversion of a metav1.LabelSelector. The string syntax is parsed in selector_parse.c, field
 * selectors live in selector_field.c. Every error message is worded (and, where upstream's
 * field paths show up, pathed) as upstream prints it.
 */
#include "selector.h"
#include "selector_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "validation.h"

const char *ck_selector_op_string(enum ck_selector_op op)
{
    switch (op) {
    case CK_SEL_IN:
        return "in";
    case CK_SEL_NOT_IN:
        return "notin";
    case CK_SEL_EQUALS:
        return "=";
    case CK_SEL_DOUBLE_EQUALS:
        return "==";
    case CK_SEL_NOT_EQUALS:
        return "!=";
    case CK_SEL_EXISTS:
        return "exists";
    case CK_SEL_DOES_NOT_EXIST:
        return "!";
    case CK_SEL_GT:
        return "gt";
    case CK_SEL_LT:
        return "lt";
    }
    return "";
}

/* strconv.ParseInt(s, 10, 64) succeeds. */
static bool parse_int64(const char *s, int64_t *out)
{
    return ck_go_parse_int(s, strlen(s), 10, 64, out) == CK_GO_NUM_OK;
}

/* ---- requirements ---- */

static void req_clear(struct ck_label_requirement *r)
{
    free(r->key);
    for (size_t i = 0; i < r->nvalues; i++)
        free(r->values[i]);
    free(r->values);
    memset(r, 0, sizeof(*r));
}

static char **strv_dup(const char *const *v, size_t n)
{
    if (n == 0)
        return NULL;
    char **out = ck_xmalloc(n * sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = ck_xstrdup(v[i] ? v[i] : "");
    return out;
}

/* Go's %#v of a []string as LabelSelectorAsSelector passes it (empty -> nil slice). */
static void put_go_string_slice(struct ck_buf *b, const char *const *v, size_t n)
{
    if (n == 0) {
        ck_buf_puts(b, "[]string(nil)");
        return;
    }
    ck_buf_puts(b, "[]string{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            ck_buf_puts(b, ", ");
        ck_buf_put_go_quoted(b, v[i]);
    }
    ck_buf_putc(b, '}');
}

static void invalid_values(struct ck_errlist *errs, const char *const *v, size_t n,
                           const char *detail)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "values: Invalid value: ");
    put_go_string_slice(&b, v, n);
    ck_buf_printf(&b, ": %s", detail);
    ck_errlist_add(errs, "%s", ck_buf_str(&b));
    ck_buf_free(&b);
}

/* labels.NewRequirement's checks (with a nil field path). Returns NULL when valid, else the
 * aggregated message (caller frees). */
char *ck_sel_validate_requirement(const char *key, enum ck_selector_op op, const char *const *vals,
                                  size_t n)
{
    CK_AUTOERRLIST struct ck_errlist errs = CK_ERRLIST_INIT;
    CK_AUTOERRLIST struct ck_errlist msgs = CK_ERRLIST_INIT;
    if (ck_is_qualified_name(key, &msgs)) {
        CK_AUTOFREE char *joined = ck_errlist_join(&msgs, "; ");
        ck_field_invalid(&errs, "key", key, joined);
    }
    switch (op) {
    case CK_SEL_IN:
    case CK_SEL_NOT_IN:
        if (n == 0)
            invalid_values(&errs, vals, n,
                           "for 'in', 'notin' operators, values set can't be empty");
        break;
    case CK_SEL_EQUALS:
    case CK_SEL_DOUBLE_EQUALS:
    case CK_SEL_NOT_EQUALS:
        if (n != 1)
            invalid_values(&errs, vals, n, "exact-match compatibility requires one single value");
        break;
    case CK_SEL_EXISTS:
    case CK_SEL_DOES_NOT_EXIST:
        if (n != 0)
            invalid_values(&errs, vals, n,
                           "values set must be empty for exists and does not exist");
        break;
    case CK_SEL_GT:
    case CK_SEL_LT:
        if (n != 1)
            invalid_values(&errs, vals, n,
                           "for 'Gt', 'Lt' operators, exactly one value is required");
        for (size_t i = 0; i < n; i++) {
            int64_t ignored;
            if (!parse_int64(vals[i], &ignored)) {
                CK_AUTOFREE char *path = ck_xasprintf("values[%zu]", i);
                ck_field_invalid(&errs, path, vals[i],
                                 "for 'Gt', 'Lt' operators, the value must be an integer");
            }
        }
        break;
    default:
        ck_errlist_add(&errs,
                       "operator: Unsupported value: \"%d\": supported values: \"in\", "
                       "\"notin\", \"=\", \"==\", \"!=\", \"gt\", \"lt\", \"exists\", \"!\"",
                       (int)op);
    }
    for (size_t i = 0; i < n; i++) {
        ck_errlist_free(&msgs);
        if (ck_is_valid_label_value(vals[i], &msgs)) {
            CK_AUTOFREE char *joined = ck_errlist_join(&msgs, "; ");
            CK_AUTOFREE char *path = ck_xasprintf("values[%zu][%s]", i, key);
            ck_field_invalid(&errs, path, vals[i], joined);
        }
    }
    if (errs.n == 0)
        return NULL;
    return ck_errlist_aggregate(&errs);
}

/* ---- label selector objects ---- */

struct ck_label_selector *ck_label_selector_everything(void)
{
    return ck_xcalloc(1, sizeof(struct ck_label_selector));
}

struct ck_label_selector *ck_label_selector_nothing(void)
{
    struct ck_label_selector *sel = ck_label_selector_everything();
    sel->nothing = true;
    return sel;
}

void ck_label_selector_free(struct ck_label_selector *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++)
        req_clear(&sel->reqs[i]);
    free(sel->reqs);
    free(sel);
}

void ck_label_selector_freep(struct ck_label_selector **sel)
{
    ck_label_selector_free(*sel);
    *sel = NULL;
}

struct ck_label_selector *ck_label_selector_dup(const struct ck_label_selector *sel)
{
    if (!sel)
        return NULL;
    struct ck_label_selector *d = ck_label_selector_everything();
    d->nothing = sel->nothing;
    d->n = sel->n;
    if (sel->n) {
        d->reqs = ck_xcalloc(sel->n, sizeof(*d->reqs));
        for (size_t i = 0; i < sel->n; i++) {
            d->reqs[i].key = ck_xstrdup(sel->reqs[i].key);
            d->reqs[i].op = sel->reqs[i].op;
            d->reqs[i].nvalues = sel->reqs[i].nvalues;
            d->reqs[i].values =
                strv_dup((const char *const *)sel->reqs[i].values, sel->reqs[i].nvalues);
        }
    }
    return d;
}

/* Inserts r (taken over) after every requirement whose key sorts before or equal to it, which
 * keeps requirements sorted by key and stable, as upstream's Add. */
static void insert_sorted(struct ck_label_selector *sel, struct ck_label_requirement *r)
{
    size_t lo = 0, hi = sel->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(sel->reqs[mid].key, r->key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    sel->reqs = ck_xrealloc(sel->reqs, (sel->n + 1) * sizeof(*sel->reqs));
    memmove(&sel->reqs[lo + 1], &sel->reqs[lo], (sel->n - lo) * sizeof(*sel->reqs));
    sel->reqs[lo] = *r;
    sel->n++;
    memset(r, 0, sizeof(*r));
}

int ck_label_selector_add(struct ck_label_selector *sel, const char *key, enum ck_selector_op op,
                          const char *const *values, size_t nvalues, struct ck_error *err)
{
    if (!sel || (nvalues && !values))
        return ck_sel_bad_request(err, "invalid label requirement");
    const char *k = key ? key : "";
    CK_AUTOFREE char *msg = ck_sel_validate_requirement(k, op, values, nvalues);
    if (msg)
        return ck_sel_bad_request(err, msg);
    if (sel->nothing)
        return 0;
    struct ck_label_requirement r = {ck_xstrdup(k), op, strv_dup(values, nvalues), nvalues};
    insert_sorted(sel, &r);
    return 0;
}

struct ck_label_selector *ck_label_selector_from_set(const cJSON *set)
{
    struct ck_label_selector *sel = ck_label_selector_everything();
    const cJSON *obj = cJSON_IsObject(set) ? set : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (!cJSON_IsString(it) || !it->string)
            continue;
        const char *v = it->valuestring;
        struct ck_label_requirement r = {ck_xstrdup(it->string), CK_SEL_EQUALS, strv_dup(&v, 1), 1};
        insert_sorted(sel, &r);
    }
    return sel;
}

/* ---- matching ---- */

static const cJSON *label_get(const cJSON *labels, const char *key)
{
    if (!cJSON_IsObject(labels))
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(labels, key);
}

static const char *label_value(const cJSON *it)
{
    return cJSON_IsString(it) && it->valuestring ? it->valuestring : "";
}

static bool req_has_value(const struct ck_label_requirement *r, const char *v)
{
    for (size_t i = 0; i < r->nvalues; i++)
        if (strcmp(r->values[i], v) == 0)
            return true;
    return false;
}

static bool req_matches(const struct ck_label_requirement *r, const cJSON *labels)
{
    const cJSON *it = label_get(labels, r->key);
    switch (r->op) {
    case CK_SEL_IN:
    case CK_SEL_EQUALS:
    case CK_SEL_DOUBLE_EQUALS:
        return it && req_has_value(r, label_value(it));
    case CK_SEL_NOT_IN:
    case CK_SEL_NOT_EQUALS:
        return !it || !req_has_value(r, label_value(it));
    case CK_SEL_EXISTS:
        return it != NULL;
    case CK_SEL_DOES_NOT_EXIST:
        return it == NULL;
    case CK_SEL_GT:
    case CK_SEL_LT: {
        int64_t have, want;
        if (!it || r->nvalues != 1 || !parse_int64(label_value(it), &have) ||
            !parse_int64(r->values[0], &want))
            return false;
        return r->op == CK_SEL_GT ? have > want : have < want;
    }
    }
    return false;
}

bool ck_label_selector_matches(const struct ck_label_selector *sel, const cJSON *labels)
{
    if (!sel || sel->nothing)
        return false;
    for (size_t i = 0; i < sel->n; i++)
        if (!req_matches(&sel->reqs[i], labels))
            return false;
    return true;
}

bool ck_label_selector_empty(const struct ck_label_selector *sel)
{
    return sel && !sel->nothing && sel->n == 0;
}

bool ck_label_selector_requires_exact_match(const struct ck_label_selector *sel, const char *key,
                                            const char **value)
{
    if (!sel || sel->nothing || !key)
        return false;
    for (size_t i = 0; i < sel->n; i++) {
        const struct ck_label_requirement *r = &sel->reqs[i];
        if (strcmp(r->key, key) != 0)
            continue;
        if ((r->op == CK_SEL_EQUALS || r->op == CK_SEL_DOUBLE_EQUALS || r->op == CK_SEL_IN) &&
            r->nvalues == 1) {
            if (value)
                *value = r->values[0];
            return true;
        }
        return false;
    }
    return false;
}

/* ---- canonical string ---- */

static void req_string(struct ck_buf *b, const struct ck_label_requirement *r)
{
    if (r->op == CK_SEL_DOES_NOT_EXIST)
        ck_buf_putc(b, '!');
    ck_buf_puts(b, r->key);
    switch (r->op) {
    case CK_SEL_EQUALS:
        ck_buf_puts(b, "=");
        break;
    case CK_SEL_DOUBLE_EQUALS:
        ck_buf_puts(b, "==");
        break;
    case CK_SEL_NOT_EQUALS:
        ck_buf_puts(b, "!=");
        break;
    case CK_SEL_IN:
        ck_buf_puts(b, " in ");
        break;
    case CK_SEL_NOT_IN:
        ck_buf_puts(b, " notin ");
        break;
    case CK_SEL_GT:
        ck_buf_puts(b, ">");
        break;
    case CK_SEL_LT:
        ck_buf_puts(b, "<");
        break;
    case CK_SEL_EXISTS:
    case CK_SEL_DOES_NOT_EXIST:
        return;
    }
    bool set = r->op == CK_SEL_IN || r->op == CK_SEL_NOT_IN;
    if (set)
        ck_buf_putc(b, '(');
    if (r->nvalues == 1) {
        ck_buf_puts(b, r->values[0]);
    } else if (r->nvalues > 1) {
        /* sorted copy: the selector itself keeps the caller's order */
        char **sorted = ck_xmalloc(r->nvalues * sizeof(*sorted));
        memcpy(sorted, r->values, r->nvalues * sizeof(*sorted));
        qsort(sorted, r->nvalues, sizeof(*sorted), ck_sel_cmp_str);
        for (size_t i = 0; i < r->nvalues; i++) {
            if (i)
                ck_buf_putc(b, ',');
            ck_buf_puts(b, sorted[i]);
        }
        free(sorted);
    }
    if (set)
        ck_buf_putc(b, ')');
}

char *ck_label_selector_string(const struct ck_label_selector *sel)
{
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; sel && !sel->nothing && i < sel->n; i++) {
        if (i)
            ck_buf_putc(&b, ',');
        req_string(&b, &sel->reqs[i]);
    }
    return ck_buf_detach(&b);
}

/* ---- metav1.LabelSelector ---- */

static int json_error(struct ck_error *err, const char *what)
{
    return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "invalid label selector: %s", what);
}

static int add_expression(struct ck_label_selector *sel, const cJSON *expr, struct ck_error *err)
{
    if (!cJSON_IsObject(expr))
        return json_error(err, "matchExpressions entries must be objects");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(expr, "key");
    const cJSON *oper = cJSON_GetObjectItemCaseSensitive(expr, "operator");
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(expr, "values");
    if ((key && !cJSON_IsNull(key) && !cJSON_IsString(key)) ||
        (oper && !cJSON_IsNull(oper) && !cJSON_IsString(oper)) ||
        (vals && !cJSON_IsNull(vals) && !cJSON_IsArray(vals)))
        return json_error(err, "matchExpressions entries need a string key and operator and an "
                               "array of string values");
    const char *k = cJSON_IsString(key) ? key->valuestring : "";
    const char *o = cJSON_IsString(oper) ? oper->valuestring : "";
    enum ck_selector_op op;
    if (strcmp(o, "In") == 0) {
        op = CK_SEL_IN;
    } else if (strcmp(o, "NotIn") == 0) {
        op = CK_SEL_NOT_IN;
    } else if (strcmp(o, "Exists") == 0) {
        op = CK_SEL_EXISTS;
    } else if (strcmp(o, "DoesNotExist") == 0) {
        op = CK_SEL_DOES_NOT_EXIST;
    } else {
        struct ck_buf b = CK_BUF_INIT;
        ck_buf_put_go_quoted(&b, o);
        ck_buf_puts(&b, " is not a valid label selector operator");
        int rc = ck_sel_bad_request(err, ck_buf_str(&b));
        ck_buf_free(&b);
        return rc;
    }
    size_t n = (size_t)cJSON_GetArraySize(vals);
    const char **v = ck_xcalloc(n ? n : 1, sizeof(*v));
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, vals)
    {
        if (!cJSON_IsString(it)) {
            free(v);
            return json_error(err, "matchExpressions values must be strings");
        }
        v[i++] = it->valuestring;
    }
    int rc = ck_label_selector_add(sel, k, op, v, i, err);
    free(v);
    return rc;
}

int ck_label_selector_from_json(const cJSON *ls, struct ck_label_selector **out,
                                struct ck_error *err)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!ls || cJSON_IsNull(ls)) {
        *out = ck_label_selector_nothing();
        return 0;
    }
    if (!cJSON_IsObject(ls))
        return json_error(err, "must be an object");
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(ls, "matchLabels");
    const cJSON *me = cJSON_GetObjectItemCaseSensitive(ls, "matchExpressions");
    if (ml && !cJSON_IsNull(ml) && !cJSON_IsObject(ml))
        return json_error(err, "matchLabels must be an object");
    if (me && !cJSON_IsNull(me) && !cJSON_IsArray(me))
        return json_error(err, "matchExpressions must be an array");
    struct ck_label_selector *sel = ck_label_selector_everything();
    const cJSON *labels = cJSON_IsObject(ml) ? ml : NULL;
    const cJSON *exprs = cJSON_IsArray(me) ? me : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, labels)
    {
        if (!cJSON_IsString(it)) {
            ck_label_selector_free(sel);
            return json_error(err, "matchLabels values must be strings");
        }
        const char *v = it->valuestring;
        int rc = ck_label_selector_add(sel, it->string, CK_SEL_EQUALS, &v, 1, err);
        if (rc < 0) {
            ck_label_selector_free(sel);
            return rc;
        }
    }
    cJSON_ArrayForEach(it, exprs)
    {
        int rc = add_expression(sel, it, err);
        if (rc < 0) {
            ck_label_selector_free(sel);
            return rc;
        }
    }
    *out = sel;
    return 0;
}
