/* objmeta.c - generic metadata preparation and validation (see objmeta.h). */
#include "objmeta.h"

#include <string.h>

#include "encoding.h"
#include "mem.h"
#include "registry/fieldutil.h"
#include "registry/strategy.h"
#include "timeutil.h"
#include "validation.h"

cJSON *meta_of(cJSON *obj)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (!cJSON_IsObject(m)) {
        if (m)
            cJSON_DeleteItemFromObjectCaseSensitive(obj, "metadata");
        m = cJSON_AddObjectToObject(obj, "metadata");
    }
    return m;
}

const char *meta_str(const cJSON *obj, const char *field)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, field);
    return cJSON_IsString(v) ? v->valuestring : "";
}

const char *meta_name(const cJSON *obj)
{
    return meta_str(obj, "name");
}

const char *meta_namespace(const cJSON *obj)
{
    return meta_str(obj, "namespace");
}

static void set_item(cJSON *o, const char *key, cJSON *item)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, item);
    else
        cJSON_AddItemToObject(o, key, item);
}

void meta_set_str(cJSON *obj, const char *field, const char *value)
{
    set_item(meta_of(obj), field, cJSON_CreateString(value));
}

static void copy_field(cJSON *dst, const cJSON *src, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
    if (v)
        set_item(dst, key, cJSON_Duplicate(v, 1));
    else
        cJSON_DeleteItemFromObjectCaseSensitive(dst, key);
}

/* A JSON null in a map[string]string decodes to Go's "": labels and annotations are stored
 * that way (validation then treats them as the empty string, as upstream does). */
static void map_nulls_to_empty(cJSON *m)
{
    static const char *const MAPS[] = {"labels", "annotations", NULL};
    for (size_t i = 0; MAPS[i]; i++) {
        cJSON *map = cJSON_GetObjectItemCaseSensitive(m, MAPS[i]);
        if (!cJSON_IsObject(map))
            continue;
        for (cJSON *kv = map->child, *nx; kv; kv = nx) {
            nx = kv->next;
            if (cJSON_IsNull(kv))
                cJSON_ReplaceItemInObjectCaseSensitive(map, kv->string, cJSON_CreateString(""));
        }
    }
}

void meta_prepare_create(const struct resource *r, cJSON *obj)
{
    const struct strategy *s = r->strategy;
    cJSON *m = meta_of(obj);
    map_nulls_to_empty(m);
    const char *gen = meta_str(obj, "generateName");
    if (!meta_name(obj)[0] && gen[0]) {
        char *name = ck_generate_name(gen);
        meta_set_str(obj, "name", name);
        free(name);
    }
    char uid[37];
    ck_uuid4(uid);
    meta_set_str(obj, "uid", uid);
    char ts[CK_TIME_BUFSZ];
    ck_time_now_string(ts);
    meta_set_str(obj, "creationTimestamp", ts);
    cJSON_DeleteItemFromObjectCaseSensitive(m, "resourceVersion");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "deletionTimestamp");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "deletionGracePeriodSeconds");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "selfLink");
    /* managedFields sent with a create stay: the fieldmanager starts from them (rest.c) */
    if (s->flags & STRAT_GENERATION)
        set_item(m, "generation", cJSON_CreateNumber(1));
    else
        cJSON_DeleteItemFromObjectCaseSensitive(m, "generation");
    if ((s->flags & STRAT_STATUS) && !(s->flags & STRAT_CREATE_STATUS))
        set_item(obj, "status", cJSON_CreateObject());
    if (s->prepare_create)
        s->prepare_create(obj);
    if (s->defaults)
        s->defaults(obj);
}

/* True when obj and old differ outside metadata and status (upstream compares the spec). */
static bool spec_changed(const cJSON *obj, const cJSON *old)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, obj)
    {
        if (!strcmp(a->string, "metadata") || !strcmp(a->string, "status"))
            continue;
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(old, a->string);
        if (!b || !cJSON_Compare(a, b, 1))
            return true;
    }
    cJSON_ArrayForEach(a, old)
    {
        if (strcmp(a->string, "metadata") && strcmp(a->string, "status") &&
            !cJSON_GetObjectItemCaseSensitive(obj, a->string))
            return true;
    }
    return false;
}

void meta_prepare_update(const struct resource *r, cJSON *obj, const cJSON *old, bool status)
{
    const struct strategy *s = r->strategy;
    cJSON *m = meta_of(obj);
    map_nulls_to_empty(m);
    const cJSON *om = cJSON_GetObjectItemCaseSensitive(old, "metadata");
    static const char *const SYSTEM[] = {"uid", "creationTimestamp", "deletionTimestamp",
                                         "deletionGracePeriodSeconds", "generation", NULL};
    for (size_t i = 0; SYSTEM[i]; i++)
        copy_field(m, om, SYSTEM[i]);
    cJSON_DeleteItemFromObjectCaseSensitive(m, "selfLink");
    if (status) {
        /* a status update changes status only: everything else comes from the stored object,
         * including the metadata upstream's ResetObjectMetaForStatus restores */
        static const char *const RESET[] = {"labels", "annotations", "finalizers",
                                            "ownerReferences", NULL};
        for (size_t i = 0; RESET[i]; i++)
            if (strcmp(RESET[i], "annotations") != 0 || !(s->flags & STRAT_STATUS_ANNOTATIONS))
                copy_field(m, om, RESET[i]);
        cJSON *st = cJSON_DetachItemFromObjectCaseSensitive(obj, "status");
        cJSON *keep = cJSON_DetachItemFromObjectCaseSensitive(obj, "metadata");
        cJSON *child;
        while ((child = obj->child))
            cJSON_Delete(cJSON_DetachItemViaPointer(obj, child));
        cJSON_ArrayForEach(child, old)
        {
            if (strcmp(child->string, "metadata") && strcmp(child->string, "status"))
                cJSON_AddItemToObject(obj, child->string, cJSON_Duplicate(child, 1));
        }
        cJSON_AddItemToObject(obj, "metadata", keep);
        cJSON_AddItemToObject(obj, "status", st ? st : cJSON_CreateObject());
        return;
    }
    if (s->flags & STRAT_STATUS)
        copy_field(obj, old, "status");
    if (s->prepare_update)
        s->prepare_update(obj, old);
    if (s->defaults)
        s->defaults(obj);
    if ((s->flags & STRAT_GENERATION) && spec_changed(obj, old)) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(om, "generation");
        double next = (cJSON_IsNumber(g) ? g->valuedouble : 0) + 1;
        set_item(m, "generation", cJSON_CreateNumber(next));
    }
}

/* Adds each message of l as an error of the given type on field, with value. */
static void add_all(struct field_errors *e, enum field_error_type t, const char *field,
                    const char *value, const struct ck_errlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        fe_add_str(e, t, field, value, "%s", l->items[i]);
}

static ck_name_validator name_validator(enum name_rule rule)
{
    switch (rule) {
    case NAME_DNS1123_LABEL: return ck_name_is_dns_label;
    case NAME_DNS1035_LABEL: return ck_name_is_dns1035_label;
    case NAME_PATH_SEGMENT: return ck_validate_path_segment_name;
    case NAME_DNS1123_SUBDOMAIN:
    default: return ck_name_is_dns_subdomain;
    }
}

static void validate_owner_refs(const cJSON *refs, struct field_errors *e)
{
    if (!refs || cJSON_IsNull(refs))
        return;
    if (!cJSON_IsArray(refs)) {
        fe_add(e, FE_INVALID, "metadata.ownerReferences", refs, "must be a list");
        return;
    }
    int i = 0, controllers = 0;
    const cJSON *ref;
    cJSON_ArrayForEach(ref, refs)
    {
        static const char *const REQUIRED[] = {"apiVersion", "kind", "name", "uid", NULL};
        for (size_t k = 0; REQUIRED[k]; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(ref, REQUIRED[k]);
            if (!cJSON_IsString(v) || !v->valuestring[0]) {
                CK_AUTOFREE char *f =
                    ck_xasprintf("metadata.ownerReferences[%d].%s", i, REQUIRED[k]);
                fe_add(e, FE_INVALID, f, v ? v : NULL, "%s must not be empty",
                       strcmp(REQUIRED[k], "apiVersion") ? REQUIRED[k] : "version");
            }
        }
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "controller")))
            controllers++;
        i++;
    }
    if (controllers > 1)
        fe_add(e, FE_INVALID, "metadata.ownerReferences", refs,
               "Only one reference can have Controller set to true");
}

/* ObjectMeta rules shared by create and update (generateName matters on create only). */
static void validate_meta(const struct resource *r, const cJSON *obj, bool create,
                          struct field_errors *e)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *name = meta_name(obj);
    const char *gen = meta_str(obj, "generateName");
    ck_name_validator fn = name_validator(r->strategy->name_rule);
    struct ck_errlist l = CK_ERRLIST_INIT;
    if (create && gen[0]) {
        fn(gen, true, &l);
        add_all(e, FE_INVALID, "metadata.generateName", gen, &l);
        ck_errlist_free(&l);
    }
    if (!name[0]) {
        fe_add(e, FE_REQUIRED, "metadata.name", NULL, "name or generateName is required");
    } else {
        fn(name, false, &l);
        add_all(e, FE_INVALID, "metadata.name", name, &l);
        ck_errlist_free(&l);
    }
    const char *ns = meta_namespace(obj);
    if (r->namespaced) {
        if (!ns[0]) {
            fe_add(e, FE_REQUIRED, "metadata.namespace", NULL, NULL);
        } else {
            ck_validate_namespace_name(ns, false, &l);
            add_all(e, FE_INVALID, "metadata.namespace", ns, &l);
            ck_errlist_free(&l);
        }
    } else if (ns[0]) {
        fe_add(e, FE_FORBIDDEN, "metadata.namespace", NULL, "not allowed on this type");
    }
    fu_validate_labels(cJSON_GetObjectItemCaseSensitive(m, "labels"), "metadata.labels", e);
    fu_validate_annotations(cJSON_GetObjectItemCaseSensitive(m, "annotations"),
                            "metadata.annotations", e);
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(m, "finalizers");
    if (cJSON_IsArray(fin)) {
        const cJSON *f;
        cJSON_ArrayForEach(f, fin)
        {
            if (!cJSON_IsString(f)) {
                fe_add(e, FE_INVALID, "metadata.finalizers", f, "must be a string");
                continue;
            }
            ck_is_qualified_name(f->valuestring, &l);
            add_all(e, FE_INVALID, "metadata.finalizers", f->valuestring, &l);
            ck_errlist_free(&l);
        }
    }
    validate_owner_refs(cJSON_GetObjectItemCaseSensitive(m, "ownerReferences"), e);
}

void meta_validate_create(const struct resource *r, const cJSON *obj, struct field_errors *e)
{
    validate_meta(r, obj, true, e);
    if (r->strategy->validate)
        r->strategy->validate(obj, e);
}

void meta_validate_update(const struct resource *r, const cJSON *obj, const cJSON *old,
                          bool status, struct field_errors *e)
{
    static const char *const IMMUTABLE[] = {"name", "namespace", "uid", "creationTimestamp",
                                            NULL};
    for (size_t i = 0; IMMUTABLE[i]; i++) {
        const char *a = meta_str(obj, IMMUTABLE[i]), *b = meta_str(old, IMMUTABLE[i]);
        if (strcmp(a, b)) {
            CK_AUTOFREE char *f = ck_xasprintf("metadata.%s", IMMUTABLE[i]);
            fe_add_str(e, FE_INVALID, f, a, "field is immutable");
        }
    }
    validate_meta(r, obj, false, e);
    if (status) /* a status write keeps the stored spec, which passed validation before */
        return;
    if (r->strategy->validate)
        r->strategy->validate(obj, e);
    if (r->strategy->validate_update)
        r->strategy->validate_update(obj, old, e);
}
