/* fieldutil.c - helpers shared by the strategy files (see fieldutil.h). */
#include "fieldutil.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "mem.h"

/* ---- reading ---- */

cJSON *fu_get(const cJSON *o, const char *key)
{
    if (!cJSON_IsObject(o) || !key)
        return NULL;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

const char *fu_str(const cJSON *o, const char *key)
{
    const cJSON *v = fu_get(o, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

bool fu_int(const cJSON *o, const char *key, int64_t *out)
{
    const cJSON *v = fu_get(o, key);
    return cJSON_IsNumber(v) && ck_json_to_int64(v, out) == 0;
}

bool fu_in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(list[i], s))
            return true;
    return false;
}

bool fu_seen(cJSON *set, const char *s)
{
    if (cJSON_GetObjectItemCaseSensitive(set, s))
        return true;
    cJSON_AddTrueToObject(set, s);
    return false;
}

/* ---- changing and defaulting ---- */

void fu_put(cJSON *o, const char *key, cJSON *v)
{
    if (!cJSON_IsObject(o) || !v) {
        cJSON_Delete(v);
        return;
    }
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    else
        cJSON_AddItemToObject(o, key, v);
}

cJSON *fu_default(cJSON *o, const char *key, cJSON *item)
{
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(item);
        return NULL;
    }
    cJSON *cur = fu_get(o, key);
    if (cur) {
        cJSON_Delete(item);
        return cur;
    }
    fu_put(o, key, item);
    return item;
}

void fu_default_str(cJSON *o, const char *key, const char *def)
{
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]))
        fu_put(o, key, cJSON_CreateString(def));
}

cJSON *fu_ensure_object(cJSON *o, const char *key)
{
    if (!cJSON_IsObject(o))
        return NULL;
    cJSON *v = fu_get(o, key);
    if (!cJSON_IsObject(v)) {
        v = cJSON_CreateObject();
        fu_put(o, key, v);
    }
    return v;
}

/* ---- Go %#v rendering ---- */

void fu_go_string(struct ck_buf *b, const cJSON *v)
{
    ck_buf_put_go_quoted(b, cJSON_IsString(v) && v->valuestring ? v->valuestring : "");
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

void fu_go_string_map(struct ck_buf *b, const cJSON *m)
{
    if (!cJSON_IsObject(m)) {
        ck_buf_puts(b, "map[string]string(nil)");
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(m), k = 0;
    const cJSON **items = ck_xcalloc(n ? n : 1, sizeof(*items));
    const cJSON *kv;
    cJSON_ArrayForEach(kv, m)
    {
        if (k < n)
            items[k++] = kv;
    }
    qsort(items, k, sizeof(*items), cmp_keys); /* fmt prints maps sorted by key */
    ck_buf_puts(b, "map[string]string{");
    for (size_t i = 0; i < k; i++) {
        if (i)
            ck_buf_puts(b, ", ");
        ck_buf_put_go_quoted(b, items[i]->string);
        ck_buf_putc(b, ':');
        fu_go_string(b, items[i]);
    }
    ck_buf_putc(b, '}');
    free(items);
}

void fu_go_slice(struct ck_buf *b, const char *type, const cJSON *a,
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

void fu_go_string_slice(struct ck_buf *b, const cJSON *a)
{
    fu_go_slice(b, "string", a, fu_go_string);
}

void fu_go_struct(struct ck_buf *b, const char *type, const cJSON *obj, const char *const *fields)
{
    ck_buf_printf(b, "%s{", type);
    for (size_t i = 0; fields[i] && fields[i + 1]; i += 2) {
        ck_buf_printf(b, "%s%s:", i ? ", " : "", fields[i]);
        fu_go_string(b, fu_get(obj, fields[i + 1]));
    }
    ck_buf_putc(b, '}');
}

char *fu_go_render(void (*show)(struct ck_buf *, const cJSON *), const cJSON *v)
{
    struct ck_buf b = CK_BUF_INIT;
    show(&b, v);
    return ck_buf_detach(&b);
}

/* ---- field errors ---- */

int fu_add_msgs(struct field_errors *e, const char *field, const char *value, struct ck_errlist *l)
{
    int n = (int)l->n;
    for (size_t i = 0; i < l->n; i++)
        fe_add_str(e, FE_INVALID, field, value, "%s", l->items[i]);
    ck_errlist_free(l);
    return n;
}

int fu_check(struct field_errors *e, const char *field, const char *value,
             int (*fn)(const char *, struct ck_errlist *))
{
    struct ck_errlist l = CK_ERRLIST_INIT;
    fn(value ? value : "", &l);
    return fu_add_msgs(e, field, value ? value : "", &l);
}

int fu_check_port(struct field_errors *e, const char *field, int64_t port)
{
    struct ck_errlist l = CK_ERRLIST_INIT;
    ck_is_valid_port_num(port, &l);
    int n = (int)l.n;
    for (size_t i = 0; i < l.n; i++)
        fe_add_int(e, FE_INVALID, field, port, "%s", l.items[i]);
    ck_errlist_free(&l);
    return n;
}

void fu_check_port_num_or_name(struct field_errors *e, const char *field, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        fu_check(e, field, v->valuestring, ck_is_valid_port_name);
        return;
    }
    int64_t n = 0;
    if (cJSON_IsNumber(v))
        ck_json_to_int64(v, &n);
    fu_check_port(e, field, n);
}

void fu_check_enum(struct field_errors *e, const char *field, const char *value,
                   const char *const *supported)
{
    if (!value[0])
        fe_add(e, FE_REQUIRED, field, NULL, NULL);
    else if (!fu_in_list(supported, value))
        fe_not_supported(e, field, value, supported);
}

void fu_add_go(struct field_errors *e, enum field_error_type type, const char *field,
               void (*show)(struct ck_buf *, const cJSON *), const cJSON *v, const char *detail)
{
    CK_AUTOFREE char *shown = fu_go_render(show, v);
    if (detail)
        fe_add_raw(e, type, field, shown, "%s", detail);
    else
        fe_add_raw(e, type, field, shown, NULL);
}

/* ---- generic validations ---- */

void fu_validate_labels(const cJSON *labels, const char *field, struct field_errors *e)
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
        fu_check(e, field, kv->string, ck_is_qualified_name);
        if (cJSON_IsString(kv))
            fu_check(e, field, kv->valuestring, ck_is_valid_label_value);
        else if (!cJSON_IsNull(kv))
            fe_add(e, FE_INVALID, field, kv, "must be a string");
    }
}

void fu_validate_annotations(const cJSON *annotations, const char *field, struct field_errors *e)
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
        fu_add_msgs(e, field, kv->string, &l);
        if (!cJSON_IsString(kv) && !cJSON_IsNull(kv))
            fe_add(e, FE_INVALID, field, kv, "must be a string");
        total += strlen(kv->string) + (cJSON_IsString(kv) ? strlen(kv->valuestring) : 0);
    }
    if (total > CK_TOTAL_ANNOTATION_SIZE_LIMIT)
        fe_add(e, FE_TOO_LONG, field, NULL, "must have at most %d bytes",
               CK_TOTAL_ANNOTATION_SIZE_LIMIT);
}
