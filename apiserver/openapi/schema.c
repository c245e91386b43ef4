/* schema.c - the OpenAPI schema index (see schema.h). */
#include "schema.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "mem.h"

/* More hops than any real chain of references; a longer one is a cycle. */
#define MAX_REF_HOPS 32

struct def_entry {
    const char *name;
    const cJSON *node;
};

struct gvk_entry {
    const char *group, *version, *kind;
    const char *name;
    const cJSON *node;
};

struct schema_doc {
    const cJSON *root;
    cJSON *owned; /* the tree when the index parsed it itself (the built-in one) */
    const cJSON *defs;
    struct def_entry *by_name; /* sorted by name */
    size_t n;
    struct gvk_entry *by_gvk; /* sorted by group, version, kind, name */
    size_t ngvk;
};

static const char *str_member(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int def_cmp(const void *a, const void *b)
{
    return strcmp(((const struct def_entry *)a)->name, ((const struct def_entry *)b)->name);
}

static int gvk_cmp(const void *a, const void *b)
{
    const struct gvk_entry *x = a, *y = b;
    int c = strcmp(x->group, y->group);
    if (!c)
        c = strcmp(x->version, y->version);
    if (!c)
        c = strcmp(x->kind, y->kind);
    if (!c && x->name && y->name)
        c = strcmp(x->name, y->name);
    return c;
}

static void add_gvk(struct schema_doc *d, size_t *cap, const cJSON *g, const char *name,
                    const cJSON *node)
{
    const char *group = str_member(g, "group"), *version = str_member(g, "version"),
               *kind = str_member(g, "kind");
    if (!version || !kind)
        return;
    if (d->ngvk == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        d->by_gvk = ck_xrealloc(d->by_gvk, *cap * sizeof(*d->by_gvk));
    }
    d->by_gvk[d->ngvk++] = (struct gvk_entry){group ? group : "", version, kind, name, node};
}

static int build_index(struct schema_doc *d, const cJSON *doc)
{
    const cJSON *defs = cJSON_GetObjectItemCaseSensitive(doc, "definitions");
    if (!defs) {
        const cJSON *comp = cJSON_GetObjectItemCaseSensitive(doc, "components");
        defs = cJSON_GetObjectItemCaseSensitive(comp, "schemas");
    }
    if (!defs)
        defs = doc;
    if (!cJSON_IsObject(defs))
        return -EINVAL;
    d->root = doc;
    d->defs = defs;
    size_t n = (size_t)cJSON_GetArraySize(defs), cap = 0;
    d->by_name = ck_xcalloc(n ? n : 1, sizeof(*d->by_name));
    const cJSON *def;
    cJSON_ArrayForEach(def, defs)
    {
        if (!def->string || !cJSON_IsObject(def))
            continue;
        d->by_name[d->n++] = (struct def_entry){def->string, def};
        const cJSON *gvks =
            cJSON_GetObjectItemCaseSensitive(def, "x-kubernetes-group-version-kind");
        if (cJSON_IsArray(gvks)) {
            const cJSON *g;
            cJSON_ArrayForEach(g, gvks) add_gvk(d, &cap, g, def->string, def);
        } else if (cJSON_IsObject(gvks)) {
            add_gvk(d, &cap, gvks, def->string, def);
        }
    }
    qsort(d->by_name, d->n, sizeof(*d->by_name), def_cmp);
    if (d->ngvk)
        qsort(d->by_gvk, d->ngvk, sizeof(*d->by_gvk), gvk_cmp);
    return 0;
}

int schema_doc_new(const cJSON *doc, struct schema_doc **out)
{
    *out = NULL;
    if (!cJSON_IsObject(doc))
        return -EINVAL;
    struct schema_doc *d = ck_xcalloc(1, sizeof(*d));
    int rc = build_index(d, doc);
    if (rc < 0) {
        schema_doc_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

void schema_doc_free(struct schema_doc *d)
{
    if (!d)
        return;
    free(d->by_name);
    free(d->by_gvk);
    cJSON_Delete(d->owned);
    free(d);
}

/* ---- the built-in document ---- */

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static struct schema_doc *builtin; /* written once under builtin_once, read-only after */

static void builtin_init(void)
{
    size_t len;
    const char *s = schema_swagger_json(&len);
    struct ck_error err = CK_ERROR_INIT;
    cJSON *doc = ck_json_parse(s, len, &err);
    if (!doc) {
        ck_err("openapi: the embedded schema does not parse: %s", err.message);
        ck_error_clear(&err);
        return;
    }
    struct schema_doc *d = ck_xcalloc(1, sizeof(*d));
    d->owned = doc;
    if (build_index(d, doc) < 0) {
        ck_err("openapi: the embedded schema has no definitions");
        schema_doc_free(d);
        return;
    }
    builtin = d;
}

const struct schema_doc *schema_builtin(void)
{
    pthread_once(&builtin_once, builtin_init);
    return builtin;
}

/* ---- lookups ---- */

const cJSON *schema_doc_root(const struct schema_doc *d)
{
    return d ? d->root : NULL;
}

size_t schema_definition_count(const struct schema_doc *d)
{
    return d ? d->n : 0;
}

const cJSON *schema_definition_at(const struct schema_doc *d, size_t i, const char **name)
{
    if (!d || i >= d->n)
        return NULL;
    if (name)
        *name = d->by_name[i].name;
    return d->by_name[i].node;
}

const cJSON *schema_definition(const struct schema_doc *d, const char *name)
{
    if (!d || !name)
        return NULL;
    struct def_entry key = {name, NULL};
    const struct def_entry *e = bsearch(&key, d->by_name, d->n, sizeof(*e), def_cmp);
    return e ? e->node : NULL;
}

const cJSON *schema_for_gvk(const struct schema_doc *d, const char *group, const char *version,
                            const char *kind, const char **name)
{
    if (!d || !version || !kind || !d->ngvk)
        return NULL;
    struct gvk_entry key = {group ? group : "", version, kind, NULL, NULL};
    /* lower bound: the first entry not below key (name ignored in the key) */
    size_t lo = 0, hi = d->ngvk;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (gvk_cmp(&d->by_gvk[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == d->ngvk || gvk_cmp(&d->by_gvk[lo], &key) != 0)
        return NULL;
    if (name)
        *name = d->by_gvk[lo].name;
    return d->by_gvk[lo].node;
}

const char *schema_ref_name(const cJSON *node)
{
    const char *ref = str_member(node, "$ref");
    if (!ref)
        return NULL;
    static const char *const prefixes[] = {"#/definitions/", "#/components/schemas/"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (!strncmp(ref, prefixes[i], n))
            return ref + n;
    }
    return ref;
}

/* The single schema a node refers to: the target of its "$ref", or the only member of an
 * "allOf" when the node adds no structure of its own; NULL when it is a schema itself. */
static const cJSON *ref_target(const struct schema_doc *d, const cJSON *node, bool *dangling)
{
    *dangling = false;
    const char *name = schema_ref_name(node);
    if (name) {
        const cJSON *t = schema_definition(d, name);
        if (!t)
            *dangling = true;
        return t;
    }
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(node, "allOf");
    if (cJSON_IsArray(all) && cJSON_GetArraySize(all) == 1 &&
        !cJSON_GetObjectItemCaseSensitive(node, "properties") &&
        !cJSON_GetObjectItemCaseSensitive(node, "items") &&
        !cJSON_GetObjectItemCaseSensitive(node, "additionalProperties"))
        return all->child;
    return NULL;
}

const cJSON *schema_resolve(const struct schema_doc *d, const cJSON *node)
{
    for (int hop = 0; node && hop <= MAX_REF_HOPS; hop++) {
        if (!cJSON_IsObject(node))
            return NULL;
        bool dangling;
        const cJSON *next = ref_target(d, node, &dangling);
        if (dangling)
            return NULL;
        if (!next)
            return node;
        node = next;
    }
    return NULL;
}

static void take_str(const char **dst, const cJSON *node, const char *key)
{
    if (!*dst)
        *dst = str_member(node, key);
}

int schema_describe(const struct schema_doc *d, const cJSON *node, struct schema_field *out)
{
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(node))
        return -ENOENT;
    out->schema = node;
    const cJSON *cur = node;
    for (int hop = 0; cur && hop <= MAX_REF_HOPS; hop++) {
        take_str(&out->patch_strategy, cur, "x-kubernetes-patch-strategy");
        take_str(&out->patch_merge_key, cur, "x-kubernetes-patch-merge-key");
        take_str(&out->list_type, cur, "x-kubernetes-list-type");
        take_str(&out->map_type, cur, "x-kubernetes-map-type");
        take_str(&out->type, cur, "type");
        take_str(&out->format, cur, "format");
        if (!out->list_map_keys) {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(cur, "x-kubernetes-list-map-keys");
            if (cJSON_IsArray(k))
                out->list_map_keys = k;
        }
        bool dangling;
        const cJSON *next = ref_target(d, cur, &dangling);
        if (dangling)
            break;
        if (!next) {
            out->resolved = cur;
            break;
        }
        cur = next;
    }
    if (!out->resolved) {
        memset(out, 0, sizeof(*out));
        return -ENOENT;
    }
    const cJSON *r = out->resolved;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(r, "items");
    if (cJSON_IsObject(items))
        out->items = schema_resolve(d, items);
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(r, "additionalProperties");
    if (cJSON_IsObject(add))
        out->additional = schema_resolve(d, add);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(r, "properties");
    if (cJSON_IsObject(props))
        out->properties = props;
    if (!out->type) {
        if (out->items)
            out->type = "array";
        else if (out->properties || out->additional)
            out->type = "object";
    }
    return 0;
}

int schema_field(const struct schema_doc *d, const cJSON *parent, const char *name,
                 struct schema_field *out)
{
    memset(out, 0, sizeof(*out));
    const cJSON *r = schema_resolve(d, parent);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(r, "properties");
    const cJSON *p = name ? cJSON_GetObjectItemCaseSensitive(props, name) : NULL;
    if (!p)
        return -ENOENT;
    return schema_describe(d, p, out);
}

int schema_field_path(const struct schema_doc *d, const cJSON *def, const char *path,
                      struct schema_field *out)
{
    int rc = schema_describe(d, def, out);
    if (rc < 0 || !path || !*path)
        return rc;
    CK_AUTOFREE char *copy = ck_xstrdup(path);
    char *save = NULL;
    for (char *seg = strtok_r(copy, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
        const cJSON *cur = out->resolved;
        /* step through arrays and maps to their elements */
        for (int i = 0; i < MAX_REF_HOPS && !cJSON_GetObjectItemCaseSensitive(cur, "properties");
             i++) {
            struct schema_field f;
            if (schema_describe(d, cur, &f) < 0)
                break;
            if (f.items)
                cur = f.items;
            else if (f.additional)
                cur = f.additional;
            else
                break;
        }
        rc = schema_field(d, cur, seg, out);
        if (rc < 0)
            return rc;
    }
    return 0;
}
