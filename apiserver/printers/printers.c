/* printers.c - builds the meta.k8s.io/v1 Table: finds the printer for (group, kind) in the family
 * tables (or falls back to upstream's DefaultTableConvertor), writes the column definitions,
 * one row per object, the list metadata, and each row's "object" as upstream's asTable does
 * for includeObject (see printers.h). */
#include "printers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "printers_internal.h"

enum include_mode { INCLUDE_METADATA, INCLUDE_OBJECT, INCLUDE_NONE };

/* upstream's DefaultTableConvertor: the name and the creation time, RFC 3339 in UTC */
static const struct printer_column DEFAULT_COLUMNS[] = {
    COL_NAME,
    {"Created At", "date", "", PRINTERS_DESC_AGE, 0},
    COL_END,
};

/* ---- building JSON (cJSON allocation failures abort, as ck_xmalloc does) ---- */

static cJSON *must(cJSON *j)
{
    if (!j)
        abort();
    return j;
}

static void add(cJSON *obj, const char *key, cJSON *item)
{
    cJSON_AddItemToObject(obj, key, must(item));
}

/* metav1.Time's JSON form of a timestamp: RFC 3339, UTC, whole seconds; NULL for the zero
 * time (caller frees). */
static char *time_json(const char *ts)
{
    struct timespec t;
    char out[CK_TIME_BUFSZ];
    if (!pt_parse(ts, &t) || ck_time_format(&t, out) < 0)
        return NULL;
    return ck_xstrdup(out);
}

static void default_row(struct prow *row, const cJSON *obj)
{
    cell_name(row, obj);
    char *created = time_json(pj_str(obj, "metadata.creationTimestamp"));
    cell_str(row, created ? created : "0001-01-01T00:00:00Z"); /* Go's zero time */
    free(created);
}

static const struct printer_kind DEFAULT_KIND = {"", "", DEFAULT_COLUMNS, default_row};

static const struct printer_kind *const FAMILIES[] = {
    printers_pod_kinds,     printers_workload_kinds, printers_core_kinds,
    printers_storage_kinds, printers_cluster_kinds,
};

static const struct printer_kind *find_kind(const char *group, const char *kind)
{
    if (!group || !kind)
        return NULL;
    for (size_t f = 0; f < CK_ARRAY_SIZE(FAMILIES); f++)
        for (const struct printer_kind *k = FAMILIES[f]; k->kind; k++)
            if (!strcmp(k->group, group) && !strcmp(k->kind, kind))
                return k;
    return NULL;
}

bool printers_has_kind(const char *group, const char *kind)
{
    return find_kind(group, kind) != NULL;
}

int printers_check_include_object(const char *v, struct ck_error *err)
{
    if (!v || !*v || !strcmp(v, "Metadata") || !strcmp(v, "Object") || !strcmp(v, "None"))
        return 0;
    /* quoted, as Go's %#v prints the value */
    cJSON *str = must(cJSON_CreateString(v));
    CK_AUTOFREE char *quoted = ck_json_print(str, CK_JSON_NO_HTML_ESCAPE);
    cJSON_Delete(str);
    return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                        "Unable to convert to Table as requested: includeObject: Invalid value: "
                        "%s: must be 'Metadata', 'Object', 'None', or empty",
                        quoted ? quoted : "\"\"");
}

static cJSON *columns_json(const struct printer_column *cols)
{
    cJSON *arr = must(cJSON_CreateArray());
    for (const struct printer_column *c = cols; c->name; c++) {
        cJSON *col = must(cJSON_CreateObject());
        add(col, "name", cJSON_CreateString(c->name));
        add(col, "type", cJSON_CreateString(c->type));
        add(col, "format", cJSON_CreateString(c->format));
        add(col, "description", cJSON_CreateString(c->description));
        add(col, "priority", cJSON_CreateNumber(c->priority));
        cJSON_AddItemToArray(arr, col);
    }
    return arr;
}

/* Copies meta[key] when Go would print it (omitempty: not "", 0, {}, [] or null). */
static void copy_nonempty(cJSON *dst, const cJSON *meta, const char *key)
{
    const cJSON *v = ck_json_getv(meta, key, NULL);
    if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !*v->valuestring) ||
        (cJSON_IsNumber(v) && v->valuedouble == 0) ||
        ((cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child))
        return;
    add(dst, key, ck_json_dup(v));
}

/* A metav1.Time member: normalised, null when zero. */
static void add_time(cJSON *dst, const char *key, const char *ts)
{
    char *t = time_json(ts);
    add(dst, key, t ? cJSON_CreateString(t) : cJSON_CreateNull());
    free(t);
}

/* meta.AsPartialObjectMetadata: the ObjectMeta in Go's field order. */
static cJSON *partial_metadata(const cJSON *obj)
{
    const cJSON *meta = ck_json_get(obj, "metadata");
    cJSON *m = must(cJSON_CreateObject());
    static const char *const head[] = {"name", "generateName",    "namespace", "selfLink",
                                       "uid",  "resourceVersion", "generation"};
    static const char *const tail[] = {"labels", "annotations", "ownerReferences", "finalizers",
                                       "managedFields"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(head); i++)
        copy_nonempty(m, meta, head[i]);
    add_time(m, "creationTimestamp", pj_str(meta, "creationTimestamp"));
    if (pj_set(meta, "deletionTimestamp"))
        add_time(m, "deletionTimestamp", pj_str(meta, "deletionTimestamp"));
    if (pj_set(meta, "deletionGracePeriodSeconds"))
        add(m, "deletionGracePeriodSeconds",
            ck_json_new_int64(pj_int(meta, "deletionGracePeriodSeconds")));
    for (size_t i = 0; i < CK_ARRAY_SIZE(tail); i++)
        copy_nonempty(m, meta, tail[i]);

    cJSON *p = must(cJSON_CreateObject());
    add(p, "kind", cJSON_CreateString("PartialObjectMetadata"));
    add(p, "apiVersion", cJSON_CreateString("meta.k8s.io/v1"));
    cJSON_AddItemToObject(p, "metadata", m);
    return p;
}

/* The object converted to the request's version: kind and apiVersion first. */
static cJSON *full_object(const struct resource *r, const cJSON *obj)
{
    cJSON *o = must(cJSON_CreateObject());
    add(o, "kind", cJSON_CreateString(r->kind));
    CK_AUTOFREE char *gv =
        r->group[0] ? ck_xasprintf("%s/%s", r->group, r->version) : ck_xstrdup(r->version);
    add(o, "apiVersion", cJSON_CreateString(gv));
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
    {
        if (m->string && strcmp(m->string, "kind") && strcmp(m->string, "apiVersion"))
            add(o, m->string, ck_json_dup(m));
    }
    return o;
}

static cJSON *make_row(const struct printer_kind *pk, const struct resource *r, const cJSON *obj,
                       enum include_mode mode, const struct timespec *now)
{
    struct prow row = {now, r->version, must(cJSON_CreateArray()), NULL};
    pk->row(&row, obj);
    cJSON *item = must(cJSON_CreateObject());
    cJSON_AddItemToObject(item, "cells", row.cells);
    if (row.conditions)
        cJSON_AddItemToObject(item, "conditions", row.conditions);
    switch (mode) {
    case INCLUDE_METADATA:
        cJSON_AddItemToObject(item, "object", partial_metadata(obj));
        break;
    case INCLUDE_OBJECT:
        cJSON_AddItemToObject(item, "object", full_object(r, obj));
        break;
    case INCLUDE_NONE:
        add(item, "object", cJSON_CreateNull());
        break;
    }
    return item;
}

static int parse_mode(const char *v, enum include_mode *mode)
{
    if (printers_check_include_object(v, NULL) < 0)
        return -EINVAL;
    *mode = (v && !strcmp(v, "Object")) ? INCLUDE_OBJECT
            : (v && !strcmp(v, "None")) ? INCLUDE_NONE
                                        : INCLUDE_METADATA;
    return 0;
}

/* The table without rows: kind, apiVersion, metadata (ListMeta order) and columns. */
static cJSON *table_head(const struct printer_kind *pk, const char *rv, const char *cont,
                         int64_t remaining)
{
    cJSON *t = must(cJSON_CreateObject());
    add(t, "kind", cJSON_CreateString("Table"));
    add(t, "apiVersion", cJSON_CreateString("meta.k8s.io/v1"));
    cJSON *meta = must(cJSON_CreateObject());
    if (rv && *rv)
        add(meta, "resourceVersion", cJSON_CreateString(rv));
    if (cont && *cont)
        add(meta, "continue", cJSON_CreateString(cont));
    if (remaining >= 0)
        add(meta, "remainingItemCount", ck_json_new_int64(remaining));
    cJSON_AddItemToObject(t, "metadata", meta);
    cJSON_AddItemToObject(t, "columnDefinitions", columns_json(pk->columns));
    return t;
}

static const struct printer_kind *printer_for(const struct resource *r)
{
    const struct printer_kind *pk = find_kind(r->group, r->kind);
    return pk ? pk : &DEFAULT_KIND;
}

cJSON *printers_table(const struct resource *r, const cJSON *items, const char *include_object,
                      const char *list_rv, const char *continue_token, int64_t remaining,
                      const struct timespec *now)
{
    enum include_mode mode;
    struct timespec clock;
    if (!r || parse_mode(include_object, &mode) < 0)
        return NULL;
    if (!now) {
        ck_time_now(&clock);
        now = &clock;
    }
    const struct printer_kind *pk = printer_for(r);
    cJSON *t = table_head(pk, list_rv, continue_token, remaining);
    /* upstream's printers start from an empty slice; the default convertor appends to a nil
     * one, which marshals as null when the list is empty */
    if (pk == &DEFAULT_KIND && cJSON_GetArraySize(items) == 0) {
        add(t, "rows", cJSON_CreateNull());
        return t;
    }
    cJSON *rows = must(cJSON_CreateArray());
    const cJSON *obj;
    if (cJSON_IsArray(items)) {
        cJSON_ArrayForEach(obj, items)
        {
            if (cJSON_IsObject(obj))
                cJSON_AddItemToArray(rows, make_row(pk, r, obj, mode, now));
        }
    }
    cJSON_AddItemToObject(t, "rows", rows);
    return t;
}

cJSON *printers_table_object(const struct resource *r, const cJSON *obj, const char *include_object,
                             const struct timespec *now)
{
    enum include_mode mode;
    struct timespec clock;
    if (!r || !cJSON_IsObject(obj) || parse_mode(include_object, &mode) < 0)
        return NULL;
    if (!now) {
        ck_time_now(&clock);
        now = &clock;
    }
    const struct printer_kind *pk = printer_for(r);
    cJSON *t = table_head(pk, pj_str(obj, "metadata.resourceVersion"), NULL, -1);
    cJSON *rows = must(cJSON_CreateArray());
    cJSON_AddItemToArray(rows, make_row(pk, r, obj, mode, now));
    cJSON_AddItemToObject(t, "rows", rows);
    return t;
}
