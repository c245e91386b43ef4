/* managedfields.c - field sets, typed walks over the OpenAPI schema and the Update operation's
 * managedFields bookkeeping (see managedfields.h). Apply lives in patch/apply.c. */
#include "managedfields.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/openapi/schema.h"
#include "buf.h"
#include "json.h"
#include "managedfields_internal.h"
#include "mem.h"

/* ---- field sets: a node is an object; "." marks the node itself as a member ---- */

#define MEMBER "."

cJSON *mf_set_new(void)
{
    return cJSON_CreateObject();
}

static bool is_member(const cJSON *n)
{
    return cJSON_GetObjectItemCaseSensitive(n, MEMBER) != NULL;
}

static void set_member(cJSON *n)
{
    if (!is_member(n))
        cJSON_AddItemToObject(n, MEMBER, cJSON_CreateObject());
}

static cJSON *child_get(const cJSON *n, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(n, k);
}

static cJSON *child_ensure(cJSON *n, const char *k)
{
    cJSON *c = child_get(n, k);
    if (!c)
        c = cJSON_AddObjectToObject(n, k);
    return c;
}

bool mf_set_empty(const cJSON *set)
{
    return !set || !set->child;
}

static bool valid_elem(const char *k)
{
    return !strcmp(k, MEMBER) ||
           ((k[0] == 'f' || k[0] == 'k' || k[0] == 'v' || k[0] == 'i') && k[1] == ':');
}

static int from_fv1(const cJSON *in, cJSON *out, int depth)
{
    if (!cJSON_IsObject(in) || depth > MF_MAX_DEPTH)
        return -EINVAL;
    if (!in->child) {
        set_member(out);
        return 0;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, in)
    {
        if (!c->string || !valid_elem(c->string))
            return -EINVAL;
        if (!strcmp(c->string, MEMBER)) {
            set_member(out);
            continue;
        }
        int rc = from_fv1(c, child_ensure(out, c->string), depth + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int mf_set_from_fieldsv1(const cJSON *fv1, cJSON **out)
{
    cJSON *s = mf_set_new();
    *out = NULL;
    if (!cJSON_IsObject(fv1)) {
        cJSON_Delete(s);
        return -EINVAL;
    }
    if (!fv1->child) { /* the empty set */
        *out = s;
        return 0;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, fv1)
    {
        if (!c->string || !valid_elem(c->string) || !strcmp(c->string, MEMBER) ||
            from_fv1(c, child_ensure(s, c->string), 1) < 0) {
            cJSON_Delete(s);
            return -EINVAL;
        }
    }
    *out = s;
    return 0;
}

/* upstream's PathElement order: field names, then keys, then values, then indexes; within a
 * class by their text (indexes by number). */
static int elem_class(const char *k)
{
    switch (k[0]) {
    case 'f':
        return 0;
    case 'k':
        return 1;
    case 'v':
        return 2;
    default:
        return 3;
    }
}

static int elem_cmp(const void *a, const void *b)
{
    const char *x = (*(const cJSON *const *)a)->string, *y = (*(const cJSON *const *)b)->string;
    int cx = elem_class(x), cy = elem_class(y);
    if (cx != cy)
        return cx - cy;
    if (cx == 3)
        return atoi(x + 2) - atoi(y + 2);
    return strcmp(x + 2, y + 2);
}

/* The children of n other than ".", sorted; *count gets their number. Caller frees. */
static const cJSON **sorted_children(const cJSON *n, int *count)
{
    int k = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, n) k++;
    const cJSON **v = ck_xmalloc(sizeof(*v) * (size_t)(k + 1));
    k = 0;
    cJSON_ArrayForEach(c, n)
    {
        if (strcmp(c->string, MEMBER))
            v[k++] = c;
    }
    qsort(v, (size_t)k, sizeof(*v), elem_cmp);
    *count = k;
    return v;
}

static cJSON *to_fv1(const cJSON *n, int depth)
{
    cJSON *o = cJSON_CreateObject();
    int k;
    const cJSON **kids = sorted_children(n, &k);
    if (k && is_member(n))
        cJSON_AddItemToObject(o, MEMBER, cJSON_CreateObject());
    for (int i = 0; i < k && depth < MF_MAX_DEPTH; i++)
        cJSON_AddItemToObject(o, kids[i]->string, to_fv1(kids[i], depth + 1));
    free(kids);
    return o;
}

cJSON *mf_set_to_fieldsv1(const cJSON *set)
{
    return to_fv1(set, 0);
}

static bool set_equal(const cJSON *a, const cJSON *b, int depth)
{
    if (depth > MF_MAX_DEPTH)
        return false;
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        return false;
    const cJSON *c;
    cJSON_ArrayForEach(c, a)
    {
        const cJSON *d = child_get(b, c->string);
        if (!d || !set_equal(c, d, depth + 1))
            return false;
    }
    return true;
}

bool mf_set_equal(const cJSON *a, const cJSON *b)
{
    return set_equal(a, b, 0);
}

static void set_union(cJSON *dst, const cJSON *src, int depth)
{
    const cJSON *c;
    if (depth > MF_MAX_DEPTH)
        return;
    cJSON_ArrayForEach(c, src)
    {
        if (!strcmp(c->string, MEMBER))
            set_member(dst);
        else
            set_union(child_ensure(dst, c->string), c, depth + 1);
    }
}

void mf_set_union(cJSON *dst, const cJSON *src)
{
    set_union(dst, src, 0);
}

static void set_subtract(cJSON *dst, const cJSON *src, int depth)
{
    const cJSON *c;
    if (depth > MF_MAX_DEPTH)
        return;
    cJSON_ArrayForEach(c, src)
    {
        cJSON *d = child_get(dst, c->string);
        if (!d)
            continue;
        if (!strcmp(c->string, MEMBER)) {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, MEMBER);
            continue;
        }
        set_subtract(d, c, depth + 1);
        if (!d->child)
            cJSON_DeleteItemFromObjectCaseSensitive(dst, c->string);
    }
}

void mf_set_subtract(cJSON *dst, const cJSON *src)
{
    set_subtract(dst, src, 0);
}

static cJSON *set_intersect(const cJSON *a, const cJSON *b, int depth)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *c;
    if (depth > MF_MAX_DEPTH)
        return o;
    cJSON_ArrayForEach(c, a)
    {
        const cJSON *d = child_get(b, c->string);
        if (!d)
            continue;
        if (!strcmp(c->string, MEMBER)) {
            set_member(o);
            continue;
        }
        cJSON *x = set_intersect(c, d, depth + 1);
        if (x->child)
            cJSON_AddItemToObject(o, c->string, x);
        else
            cJSON_Delete(x);
    }
    return o;
}

cJSON *mf_set_intersect(const cJSON *a, const cJSON *b)
{
    return set_intersect(a, b, 0);
}

void mf_set_insert(cJSON *set, const char *const *elems, int n)
{
    cJSON *node = set;
    for (int i = 0; i < n; i++)
        node = child_ensure(node, elems[i]);
    if (n > 0)
        set_member(node);
}

/* Drops the whole subtree at the path (and parents left empty). */
static void set_drop(cJSON *set, const char *const *elems, int n)
{
    if (n <= 0 || !set)
        return;
    cJSON *c = child_get(set, elems[0]);
    if (!c)
        return;
    if (n == 1) {
        cJSON_DeleteItemFromObjectCaseSensitive(set, elems[0]);
        return;
    }
    set_drop(c, elems + 1, n - 1);
    if (!c->child)
        cJSON_DeleteItemFromObjectCaseSensitive(set, elems[0]);
}

/* Appends one element as upstream's PathElement.String(). */
static void elem_string(struct ck_buf *b, const char *e)
{
    if (e[0] == 'f') {
        ck_buf_printf(b, ".%s", e + 2);
    } else if (e[0] == 'i') {
        ck_buf_printf(b, "[%s]", e + 2);
    } else if (e[0] == 'v') {
        ck_buf_printf(b, "[=%s]", e + 2);
    } else {
        cJSON *k = cJSON_Parse(e + 2);
        ck_buf_putc(b, '[');
        const cJSON *m;
        bool first = true;
        cJSON_ArrayForEach(m, k)
        {
            CK_AUTOFREE char *v = ck_json_print(m, 0);
            ck_buf_printf(b, "%s%s=%s", first ? "" : ",", m->string, v ? v : "null");
            first = false;
        }
        ck_buf_putc(b, ']');
        cJSON_Delete(k);
    }
}

static void foreach_rec(const cJSON *n, struct ck_buf *path, void (*fn)(const char *, void *),
                        void *ctx, int depth)
{
    if (depth > MF_MAX_DEPTH)
        return;
    if (is_member(n) && path->len)
        fn(path->data, ctx);
    int k;
    const cJSON **kids = sorted_children(n, &k);
    for (int i = 0; i < k; i++) {
        size_t keep = path->len;
        elem_string(path, kids[i]->string);
        foreach_rec(kids[i], path, fn, ctx, depth + 1);
        ck_buf_truncate(path, keep);
    }
    free(kids);
}

void mf_set_foreach(const cJSON *set, void (*fn)(const char *path, void *ctx), void *ctx)
{
    struct ck_buf path = CK_BUF_INIT;
    ck_buf_puts(&path, "");
    foreach_rec(set, &path, fn, ctx, 0);
    ck_buf_free(&path);
}

/* ---- types from the schema ---- */

static bool has_word(const char *list, const char *word)
{
    if (!list)
        return false;
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

/* What the schema says of node, before a value decides a deduced type. */
static void schema_type(const struct mf_type *t, const cJSON *node, struct mf_tinfo *ti)
{
    memset(ti, 0, sizeof(*ti));
    struct schema_field sf;
    if (!t || !t->doc || !node || schema_describe(t->doc, node, &sf) < 0) {
        ti->kind = MF_DEDUCED;
    } else if (sf.type && !strcmp(sf.type, "array")) {
        ti->elem = sf.items;
        if (sf.list_type && !strcmp(sf.list_type, "map")) {
            ti->kind = MF_LIST_MAP;
            ti->keys = sf.list_map_keys;
        } else if (sf.list_type && !strcmp(sf.list_type, "set")) {
            ti->kind = MF_LIST_SET;
        } else if (sf.list_type) {
            ti->kind = MF_ATOMIC;
        } else if (has_word(sf.patch_strategy, "merge") && sf.patch_merge_key) {
            ti->kind = MF_LIST_MAP;
            ti->merge_key = sf.patch_merge_key;
        } else if (has_word(sf.patch_strategy, "merge")) {
            ti->kind = MF_LIST_SET;
        } else {
            ti->kind = MF_ATOMIC;
        }
    } else if (sf.map_type && !strcmp(sf.map_type, "atomic")) {
        ti->kind = MF_ATOMIC;
    } else if (sf.properties && cJSON_IsObject(sf.properties) && sf.properties->child) {
        ti->kind = MF_STRUCT;
        ti->props = sf.properties;
    } else if (sf.additional) {
        ti->kind = MF_MAP;
        ti->elem = sf.additional;
    } else if (sf.type && !strcmp(sf.type, "object")) {
        ti->kind = MF_DEDUCED;
    } else if (sf.type) {
        ti->kind = MF_SCALAR;
    } else {
        ti->kind = MF_DEDUCED;
    }
}

/* A per-thread direct-mapped cache of schema_type for the built-in document (which never
 * changes or goes away, so its node addresses are stable keys): describing a node follows
 * references by name, which dominated the cost of a write. */
#define TYPE_CACHE_SIZE 1024
static __thread struct {
    const cJSON *node;
    struct mf_tinfo ti;
} type_cache[TYPE_CACHE_SIZE];

void mf_type_of(const struct mf_type *t, const cJSON *node, const cJSON *value, struct mf_tinfo *ti)
{
    if (node && t && t->doc && t->doc == schema_builtin()) {
        size_t h = ((uintptr_t)node >> 4) % TYPE_CACHE_SIZE;
        if (type_cache[h].node != node) {
            schema_type(t, node, &type_cache[h].ti);
            type_cache[h].node = node;
        }
        *ti = type_cache[h].ti;
    } else {
        schema_type(t, node, ti);
    }
    if (ti->kind == MF_DEDUCED) { /* by the value: objects are maps, the rest leaves */
        ti->elem = NULL;
        ti->kind = cJSON_IsObject(value) ? MF_MAP : MF_SCALAR;
        ti->deduced = true;
    }
}

const cJSON *mf_member_schema(const struct mf_tinfo *ti, const char *key)
{
    if (ti->kind == MF_STRUCT)
        return cJSON_GetObjectItemCaseSensitive(ti->props, key);
    if (ti->kind == MF_MAP)
        return ti->elem;
    return NULL;
}

bool mf_is_container(const struct mf_tinfo *ti)
{
    return ti->kind == MF_STRUCT || ti->kind == MF_MAP || ti->kind == MF_LIST_SET ||
           ti->kind == MF_LIST_MAP;
}

/* The value fits the container kind (object for structs/maps, array for lists). */
bool mf_value_fits(const struct mf_tinfo *ti, const cJSON *v)
{
    if (ti->kind == MF_STRUCT || ti->kind == MF_MAP)
        return cJSON_IsObject(v);
    return cJSON_IsArray(v);
}

static char *item_elem(const struct mf_tinfo *ti, const cJSON *item, int index)
{
    if (ti->kind == MF_LIST_SET) {
        CK_AUTOFREE char *j = ck_json_print(item, 0);
        return ck_xasprintf("v:%s", j ? j : "null");
    }
    if (ti->kind == MF_LIST_MAP && cJSON_IsObject(item)) {
        /* key fields in name order, as upstream sorts a key's field list */
        const char *names[16];
        int n = 0;
        if (ti->merge_key) {
            names[n++] = ti->merge_key;
        } else {
            const cJSON *k;
            cJSON_ArrayForEach(k, ti->keys)
            {
                if (cJSON_IsString(k) && n < 16)
                    names[n++] = k->valuestring;
            }
        }
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
                const char *x = names[j];
                names[j] = names[j - 1];
                names[j - 1] = x;
            }
        cJSON *key = cJSON_CreateObject();
        for (int i = 0; i < n; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, names[i]);
            if (v && !cJSON_IsObject(v) && !cJSON_IsArray(v))
                cJSON_AddItemToObject(key, names[i], ck_json_dup(v));
            else if (!v && !strcmp(names[i], "protocol")) /* the schema default of ports */
                cJSON_AddStringToObject(key, names[i], "TCP");
        }
        char *out = NULL;
        if (key->child) {
            CK_AUTOFREE char *j = ck_json_print(key, 0);
            out = ck_xasprintf("k:%s", j ? j : "{}");
        }
        cJSON_Delete(key);
        if (out)
            return out;
    }
    return ck_xasprintf("i:%d", index);
}

char *mf_item_elem(const struct mf_tinfo *ti, const cJSON *item, int index)
{
    return item_elem(ti, item, index);
}

char *mf_list_item_elem(const struct mf_type *t, const cJSON *list_schema, const cJSON *item,
                        int index)
{
    struct mf_tinfo ti;
    mf_type_of(t, list_schema, NULL, &ti);
    return item_elem(&ti, item, index);
}

/* ---- walks ---- */

void mf_path_push(struct mf_path *p, char *elem)
{
    if (p->n < MF_MAX_DEPTH + 2)
        p->e[p->n] = elem;
    else
        free(elem);
    p->n++;
}

void mf_path_pop(struct mf_path *p)
{
    p->n--;
    if (p->n < MF_MAX_DEPTH + 2)
        free(p->e[p->n]);
}

void mf_path_insert(cJSON *set, const struct mf_path *p)
{
    if (p->n <= MF_MAX_DEPTH + 2)
        mf_set_insert(set, (const char *const *)p->e, p->n);
}

/* upstream's ToFieldSet: leaves, atomic values, empty or null maps, list items, and map entries
 * that are not struct fields. */
static void fieldset_rec(const struct mf_type *t, const cJSON *schema, const cJSON *v,
                         struct mf_path *p, cJSON *set, int depth)
{
    struct mf_tinfo ti;
    mf_type_of(t, schema, v, &ti);
    if (depth > MF_MAX_DEPTH || !mf_is_container(&ti) || !mf_value_fits(&ti, v)) {
        mf_path_insert(set, p);
        return;
    }
    const cJSON *c;
    if (ti.kind == MF_STRUCT || ti.kind == MF_MAP) {
        if (!v->child && p->n)
            mf_path_insert(set, p);
        cJSON_ArrayForEach(c, v)
        {
            mf_path_push(p, ck_xasprintf("f:%s", c->string));
            const cJSON *cs = mf_member_schema(&ti, c->string);
            fieldset_rec(t, cs, c, p, set, depth + 1);
            if (ti.kind == MF_MAP || cJSON_IsNull(c))
                mf_path_insert(set, p);
            mf_path_pop(p);
        }
        return;
    }
    int i = 0;
    cJSON_ArrayForEach(c, v)
    {
        mf_path_push(p, item_elem(&ti, c, i++));
        fieldset_rec(t, ti.elem, c, p, set, depth + 1);
        mf_path_insert(set, p);
        mf_path_pop(p);
    }
}

/* The paths upstream's fieldmanager never records (its stripMeta). */
static void drop_untracked(cJSON *set)
{
    static const char *const TOP[] = {"f:apiVersion", "f:kind"};
    static const char *const META[] = {
        "f:name",     "f:namespace",         "f:uid",           "f:resourceVersion", "f:generation",
        "f:selfLink", "f:creationTimestamp", "f:managedFields", "f:clusterName"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(TOP); i++)
        set_drop(set, &TOP[i], 1);
    for (size_t i = 0; i < CK_ARRAY_SIZE(META); i++) {
        const char *path[2] = {"f:metadata", META[i]};
        set_drop(set, path, 2);
    }
}

cJSON *mf_fieldset_of(const struct mf_type *t, const cJSON *obj)
{
    cJSON *set = mf_set_new();
    struct mf_path p = {0};
    fieldset_rec(t, t ? t->root : NULL, obj, &p, set, 0);
    drop_untracked(set);
    return set;
}

struct cmp {
    const struct mf_type *t;
    struct mf_path p;
    cJSON *added, *modified, *removed;
};

/* Every node of v into set (a subtree only one side has). */
static void all_nodes(struct cmp *c, const cJSON *schema, const cJSON *v, cJSON *set, int depth)
{
    struct mf_tinfo ti;
    mf_type_of(c->t, schema, v, &ti);
    if (c->p.n)
        mf_path_insert(set, &c->p);
    if (depth > MF_MAX_DEPTH || !mf_is_container(&ti) || !mf_value_fits(&ti, v))
        return;
    const cJSON *ch;
    int i = 0;
    cJSON_ArrayForEach(ch, v)
    {
        bool list = ti.kind == MF_LIST_MAP || ti.kind == MF_LIST_SET;
        mf_path_push(&c->p, list ? item_elem(&ti, ch, i) : ck_xasprintf("f:%s", ch->string));
        all_nodes(c, list ? ti.elem : mf_member_schema(&ti, ch->string), ch, set, depth + 1);
        mf_path_pop(&c->p);
        i++;
    }
}

static void compare_rec(struct cmp *c, const cJSON *schema, const cJSON *l, const cJSON *r,
                        int depth);

static void compare_lists(struct cmp *c, const struct mf_tinfo *ti, const cJSON *l, const cJSON *r,
                          int depth)
{
    int nl = cJSON_GetArraySize(l), nr = cJSON_GetArraySize(r);
    char **le = ck_xmalloc(sizeof(char *) * (size_t)(nl + 1));
    const cJSON **li = ck_xmalloc(sizeof(cJSON *) * (size_t)(nl + 1));
    struct patch_keyidx idx;
    patch_keyidx_init(&idx, (size_t)nl);
    bool *seen = ck_xcalloc((size_t)nl + 1, sizeof(bool));
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, l)
    {
        le[i] = item_elem(ti, it, i);
        li[i] = it;
        patch_keyidx_put(&idx, le[i], (size_t)i);
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(it, r)
    {
        char *e = item_elem(ti, it, i++);
        size_t at;
        const cJSON *lv = NULL;
        if (patch_keyidx_get(&idx, e, &at) && !seen[at]) {
            seen[at] = true;
            lv = li[at];
        }
        mf_path_push(&c->p, e);
        compare_rec(c, ti->elem, lv, it, depth + 1);
        mf_path_pop(&c->p);
    }
    for (i = 0; i < nl; i++) {
        if (!seen[i]) {
            size_t at;
            if (patch_keyidx_get(&idx, le[i], &at) && (int)at == i) {
                mf_path_push(&c->p, ck_xstrdup(le[i]));
                compare_rec(c, ti->elem, li[i], NULL, depth + 1);
                mf_path_pop(&c->p);
            }
        }
        free(le[i]);
    }
    (void)nr;
    free(le);
    free(li);
    free(seen);
    patch_keyidx_free(&idx);
}

static void compare_rec(struct cmp *c, const cJSON *schema, const cJSON *l, const cJSON *r,
                        int depth)
{
    if (!l && !r)
        return;
    if (!l) {
        all_nodes(c, schema, r, c->added, depth);
        return;
    }
    if (!r) {
        all_nodes(c, schema, l, c->removed, depth);
        return;
    }
    struct mf_tinfo ti;
    mf_type_of(c->t, schema, cJSON_IsObject(r) ? r : l, &ti);
    bool lfit = mf_is_container(&ti) && (mf_value_fits(&ti, l) || cJSON_IsNull(l));
    bool rfit = mf_is_container(&ti) && (mf_value_fits(&ti, r) || cJSON_IsNull(r));
    if (depth > MF_MAX_DEPTH || !lfit || !rfit || (cJSON_IsNull(l) && cJSON_IsNull(r))) {
        if (!ck_json_equal(l, r) && c->p.n)
            mf_path_insert(c->modified, &c->p);
        return;
    }
    if (ti.kind == MF_LIST_MAP || ti.kind == MF_LIST_SET) {
        compare_lists(c, &ti, cJSON_IsNull(l) ? NULL : l, cJSON_IsNull(r) ? NULL : r, depth);
        return;
    }
    const cJSON *ch;
    cJSON_ArrayForEach(ch, r)
    {
        mf_path_push(&c->p, ck_xasprintf("f:%s", ch->string));
        compare_rec(c, mf_member_schema(&ti, ch->string),
                    cJSON_IsNull(l) ? NULL : cJSON_GetObjectItemCaseSensitive(l, ch->string), ch,
                    depth + 1);
        mf_path_pop(&c->p);
    }
    if (cJSON_IsNull(l))
        return;
    cJSON_ArrayForEach(ch, l)
    {
        if (!cJSON_IsNull(r) && cJSON_GetObjectItemCaseSensitive(r, ch->string))
            continue;
        mf_path_push(&c->p, ck_xasprintf("f:%s", ch->string));
        compare_rec(c, mf_member_schema(&ti, ch->string), ch, NULL, depth + 1);
        mf_path_pop(&c->p);
    }
}

void mf_compare(const struct mf_type *t, const cJSON *lhs, const cJSON *rhs, cJSON **added,
                cJSON **modified, cJSON **removed)
{
    struct cmp c = {
        .t = t, .added = mf_set_new(), .modified = mf_set_new(), .removed = mf_set_new()};
    compare_rec(&c, t ? t->root : NULL, lhs, rhs, 0);
    drop_untracked(c.added);
    drop_untracked(c.modified);
    drop_untracked(c.removed);
    *added = c.added;
    *modified = c.modified;
    *removed = c.removed;
}

/* ---- the zero object ---- */

static cJSON *zero_struct(const struct mf_type *t, const cJSON *schema, bool meta, int depth)
{
    cJSON *o = cJSON_CreateObject();
    if (meta)
        cJSON_AddNullToObject(o, "creationTimestamp");
    struct mf_tinfo ti;
    mf_type_of(t, schema, NULL, &ti);
    if (ti.kind != MF_STRUCT || depth > 8)
        return o;
    /* the non-pointer struct members and non-omitempty lists of the workload types */
    static const char *const STRUCTS[] = {"metadata", "spec",           "template",
                                          "strategy", "updateStrategy", "jobTemplate"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(STRUCTS); i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(ti.props, STRUCTS[i]);
        struct mf_tinfo mi;
        mf_type_of(t, m, NULL, &mi);
        if (m && mi.kind == MF_STRUCT)
            cJSON_AddItemToObject(o, STRUCTS[i],
                                  zero_struct(t, m, !strcmp(STRUCTS[i], "metadata"), depth + 1));
    }
    if (cJSON_GetObjectItemCaseSensitive(ti.props, "containers"))
        cJSON_AddNullToObject(o, "containers");
    return o;
}

cJSON *mf_zero_object(const struct mf_type *t)
{
    cJSON *o = zero_struct(t, t ? t->root : NULL, false, 0);
    if (!cJSON_GetObjectItemCaseSensitive(o, "metadata")) {
        cJSON *m = cJSON_AddObjectToObject(o, "metadata");
        cJSON_AddNullToObject(m, "creationTimestamp");
    }
    struct mf_tinfo ti;
    mf_type_of(t, t ? t->root : NULL, NULL, &ti);
    if (ti.kind == MF_STRUCT && cJSON_GetObjectItemCaseSensitive(ti.props, "status"))
        cJSON_AddObjectToObject(o, "status");
    return o;
}

/* ---- entries ---- */

static char *dup_or_empty(const char *s)
{
    return ck_xstrdup(s ? s : "");
}

struct mf_entry *mf_entries_add(struct mf_entries *e, const char *manager, const char *operation,
                                const char *api_version, const char *subresource)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 4;
        e->v = ck_xrealloc(e->v, sizeof(*e->v) * (size_t)e->cap);
    }
    struct mf_entry *x = &e->v[e->n++];
    x->manager = dup_or_empty(manager);
    x->operation = dup_or_empty(operation);
    x->api_version = dup_or_empty(api_version);
    x->subresource = dup_or_empty(subresource);
    x->time = NULL;
    x->set = mf_set_new();
    return x;
}

void mf_entries_read(const cJSON *obj, struct mf_entries *out)
{
    memset(out, 0, sizeof(*out));
    const cJSON *mf = ck_json_get(obj, "metadata.managedFields");
    const cJSON *it;
    if (!cJSON_IsArray(mf))
        return;
    cJSON_ArrayForEach(it, mf)
    {
        const char *fv = ck_json_get_string(it, "fieldsType", "FieldsV1");
        const cJSON *fv1 = cJSON_GetObjectItemCaseSensitive(it, "fieldsV1");
        cJSON *set = NULL;
        if (strcmp(fv, "FieldsV1"))
            continue;
        if (!fv1)
            set = mf_set_new();
        else if (mf_set_from_fieldsv1(fv1, &set) < 0)
            continue;
        struct mf_entry *x = mf_entries_add(
            out, ck_json_get_string(it, "manager", ""), ck_json_get_string(it, "operation", ""),
            ck_json_get_string(it, "apiVersion", ""), ck_json_get_string(it, "subresource", ""));
        cJSON_Delete(x->set);
        x->set = set;
        const char *tm = ck_json_get_string(it, "time", NULL);
        x->time = tm ? ck_xstrdup(tm) : NULL;
    }
}

static int str_or_empty_cmp(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int entry_cmp(const void *pa, const void *pb)
{
    const struct mf_entry *a = pa, *b = pb;
    int c;
    if ((c = strcmp(a->operation, b->operation)))
        return c;
    if ((c = str_or_empty_cmp(a->time, b->time))) /* RFC 3339 UTC sorts as time */
        return c;
    if ((c = strcmp(a->manager, b->manager)))
        return c;
    if ((c = strcmp(a->api_version, b->api_version)))
        return c;
    return strcmp(a->subresource, b->subresource);
}

void mf_entries_write(const struct mf_entries *e, cJSON *obj)
{
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (!cJSON_IsObject(meta))
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "managedFields");
    if (!e->n)
        return;
    qsort(e->v, (size_t)e->n, sizeof(*e->v), entry_cmp);
    cJSON *arr = cJSON_AddArrayToObject(meta, "managedFields");
    for (int i = 0; i < e->n; i++) {
        const struct mf_entry *x = &e->v[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "manager", x->manager);
        cJSON_AddStringToObject(o, "operation", x->operation);
        cJSON_AddStringToObject(o, "apiVersion", x->api_version);
        if (x->time)
            cJSON_AddStringToObject(o, "time", x->time);
        cJSON_AddStringToObject(o, "fieldsType", "FieldsV1");
        cJSON_AddItemToObject(o, "fieldsV1", mf_set_to_fieldsv1(x->set));
        if (x->subresource[0])
            cJSON_AddStringToObject(o, "subresource", x->subresource);
        cJSON_AddItemToArray(arr, o);
    }
}

static void entry_free(struct mf_entry *x)
{
    free(x->manager);
    free(x->operation);
    free(x->api_version);
    free(x->time);
    free(x->subresource);
    cJSON_Delete(x->set);
}

void mf_entries_free(struct mf_entries *e)
{
    for (int i = 0; i < e->n; i++)
        entry_free(&e->v[i]);
    free(e->v);
    memset(e, 0, sizeof(*e));
}

void mf_entries_drop_empty(struct mf_entries *e)
{
    int j = 0;
    for (int i = 0; i < e->n; i++) {
        if (mf_set_empty(e->v[i].set))
            entry_free(&e->v[i]);
        else
            e->v[j++] = e->v[i];
    }
    e->n = j;
}

struct mf_entry *mf_entries_find(struct mf_entries *e, const char *manager, const char *operation,
                                 const char *api_version, const char *subresource)
{
    bool apply = !strcmp(operation, "Apply");
    for (int i = 0; i < e->n; i++) {
        struct mf_entry *x = &e->v[i];
        if (!strcmp(x->manager, manager) && !strcmp(x->operation, operation) &&
            !strcmp(x->subresource, subresource ? subresource : "") &&
            (apply || !strcmp(x->api_version, api_version)))
            return x;
    }
    return NULL;
}

char *mf_manager_name(const char *field_manager, const char *user_agent)
{
    const char *s = field_manager && field_manager[0] ? field_manager
                    : user_agent                      ? user_agent
                                                      : "";
    size_t n = field_manager && field_manager[0] ? strlen(s) : strcspn(s, "/");
    if (n > MF_MAX_MANAGER)
        n = MF_MAX_MANAGER;
    return ck_xasprintf("%.*s", (int)n, s);
}

void mf_scope_sets(cJSON *set, const char *subresource, bool has_status)
{
    if (subresource && !strcmp(subresource, "status")) {
        cJSON *c = set->child;
        while (c) {
            cJSON *next = c->next;
            if (strcmp(c->string, "f:status"))
                cJSON_Delete(cJSON_DetachItemViaPointer(set, c));
            c = next;
        }
    } else if (has_status) {
        const char *st = "f:status";
        set_drop(set, &st, 1);
    }
}

void mf_record_update(const struct mf_type *t, const cJSON *old_obj, cJSON *new_obj,
                      const char *manager, const char *api_version, const char *subresource,
                      bool has_status, const char *now)
{
    cJSON *zero = old_obj ? NULL : mf_zero_object(t);
    cJSON *added, *modified, *removed;
    mf_compare(t, old_obj ? old_obj : zero, new_obj, &added, &modified, &removed);
    mf_scope_sets(added, subresource, has_status);
    mf_scope_sets(modified, subresource, has_status);
    mf_scope_sets(removed, subresource, has_status);
    mf_set_union(added, modified); /* added = what this write set */
    /* managedFields the client sent with a main-resource write replace the live ones (how
     * kubectl migrates client-side apply ownership), as upstream's decodeLiveOrNew */
    struct mf_entries e;
    bool sub = subresource && subresource[0];
    if (sub)
        memset(&e, 0, sizeof(e));
    else
        mf_entries_read(new_obj, &e);
    if (!e.n) {
        mf_entries_free(&e);
        mf_entries_read(old_obj, &e);
    }
    struct mf_entry *self = mf_entries_find(&e, manager, "Update", api_version, subresource);
    for (int i = 0; i < e.n; i++) {
        if (&e.v[i] != self)
            mf_set_subtract(e.v[i].set, added);
        mf_set_subtract(e.v[i].set, removed);
    }
    if (!mf_set_empty(added)) {
        if (!self)
            self = mf_entries_add(&e, manager, "Update", api_version, subresource);
        mf_set_union(self->set, added);
        free(self->time);
        self->time = ck_xstrdup(now);
    }
    mf_entries_drop_empty(&e);
    mf_entries_write(&e, new_obj);
    mf_entries_free(&e);
    cJSON_Delete(added);
    cJSON_Delete(modified);
    cJSON_Delete(removed);
    cJSON_Delete(zero);
}
