/* store.c - immutable reference-counted objects and the indexed, thread-safe store (see
 * store.h). */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "strmap.h"

/* ---- objects ------------------------------------------------------------------------------- */

char *ck_object_key(const cJSON *obj)
{
    const char *name = ck_json_get_string(obj, "metadata.name", "");
    if (!name[0])
        return NULL;
    const char *ns = ck_json_get_string(obj, "metadata.namespace", "");
    return ns[0] ? ck_xasprintf("%s/%s", ns, name) : ck_xstrdup(name);
}

int ck_split_key(const char *key, char **ns, char **name)
{
    *ns = *name = NULL;
    if (!key)
        return -EINVAL;
    const char *slash = strchr(key, '/');
    if (!slash) {
        *ns = ck_xstrdup("");
        *name = ck_xstrdup(key);
        return 0;
    }
    if (strchr(slash + 1, '/'))
        return -EINVAL;
    *ns = ck_xstrndup(key, (size_t)(slash - key));
    *name = ck_xstrdup(slash + 1);
    return 0;
}

struct ck_obj *ck_obj_new(cJSON *json)
{
    struct ck_obj *o = ck_xcalloc(1, sizeof(*o));
    atomic_init(&o->refs, 1);
    o->json = json;
    o->key = ck_object_key(json);
    if (!o->key)
        o->key = ck_xstrdup("");
    o->rv = ck_xstrdup(ck_json_get_string(json, "metadata.resourceVersion", ""));
    return o;
}

struct ck_obj *ck_obj_ref(const struct ck_obj *o)
{
    struct ck_obj *m = (struct ck_obj *)o;
    if (m)
        atomic_fetch_add(&m->refs, 1);
    return m;
}

void ck_obj_unref(const struct ck_obj *o)
{
    struct ck_obj *m = (struct ck_obj *)o;
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
        return;
    cJSON_Delete(m->json);
    free(m->key);
    free(m->rv);
    free(m);
}

void ck_strlist_add(struct ck_strlist *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = ck_xrealloc(l->v, l->cap * sizeof(char *));
    }
    l->v[l->n++] = ck_xstrdup(s);
}

void ck_strlist_free(struct ck_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

void ck_index_namespace(const cJSON *obj, struct ck_strlist *out)
{
    const char *ns = ck_json_get_string(obj, "metadata.namespace", NULL);
    if (ns)
        ck_strlist_add(out, ns);
}

void ck_index_node_name(const cJSON *obj, struct ck_strlist *out)
{
    const char *node = ck_json_get_string(obj, "spec.nodeName", NULL);
    if (node)
        ck_strlist_add(out, node);
}

static void list_push(struct ck_obj_list *l, size_t *cap, struct ck_obj *o)
{
    if (l->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        l->items = ck_xrealloc(l->items, *cap * sizeof(*l->items));
    }
    l->items[l->n++] = ck_obj_ref(o);
}

void ck_obj_list_free(struct ck_obj_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        ck_obj_unref(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* ---- store --------------------------------------------------------------------------------- */

#define MAX_INDEXES 16

struct index {
    char *name;
    ck_index_fn fn;
    struct ck_strmap values; /* value -> struct ck_strmap* (key -> (void *)1) */
};

struct ck_store {
    pthread_rwlock_t lock;  /* guards objects and indexes */
    struct ck_strmap objects; /* key -> struct ck_obj* (one reference) */
    struct index idx[MAX_INDEXES];
    size_t nidx;
};

struct ck_store *ck_store_new(void)
{
    struct ck_store *s = ck_xcalloc(1, sizeof(*s));
    pthread_rwlock_init(&s->lock, NULL);
    return s;
}

static void free_keyset(void *p)
{
    struct ck_strmap *m = p;
    ck_strmap_free(m, NULL);
    free(m);
}

static void unref_value(void *p)
{
    ck_obj_unref(p);
}

void ck_store_free(struct ck_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nidx; i++) {
        ck_strmap_free(&s->idx[i].values, free_keyset);
        free(s->idx[i].name);
    }
    ck_strmap_free(&s->objects, unref_value);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

static void index_one(struct index *ix, const struct ck_obj *o, bool add)
{
    struct ck_strlist vals = CK_STRLIST_INIT;
    ix->fn(o->json, &vals);
    for (size_t i = 0; i < vals.n; i++) {
        struct ck_strmap *keys = ck_strmap_get(&ix->values, vals.v[i]);
        if (add) {
            if (!keys) {
                keys = ck_xcalloc(1, sizeof(*keys));
                ck_strmap_put(&ix->values, vals.v[i], keys);
            }
            ck_strmap_put(keys, o->key, (void *)1);
        } else if (keys) {
            ck_strmap_remove(keys, o->key);
            if (keys->len == 0)
                free_keyset(ck_strmap_remove(&ix->values, vals.v[i]));
        }
    }
    ck_strlist_free(&vals);
}

struct reindex_ctx {
    struct index *ix;
};

static void reindex_entry(const char *key, void *value, void *ctx)
{
    (void)key;
    struct reindex_ctx *r = ctx;
    index_one(r->ix, value, true);
}

int ck_store_add_index(struct ck_store *s, const char *name, ck_index_fn fn)
{
    if (!s || !name || !fn)
        return -EINVAL;
    pthread_rwlock_wrlock(&s->lock);
    int rc = 0;
    for (size_t i = 0; i < s->nidx; i++)
        if (!strcmp(s->idx[i].name, name))
            rc = -EEXIST;
    if (rc == 0 && s->nidx == MAX_INDEXES)
        rc = -ENOSPC;
    if (rc == 0) {
        struct index *ix = &s->idx[s->nidx++];
        ix->name = ck_xstrdup(name);
        ix->fn = fn;
        struct reindex_ctx r = {ix};
        ck_strmap_each(&s->objects, reindex_entry, &r);
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

struct ck_obj *ck_store_put(struct ck_store *s, struct ck_obj *o)
{
    if (!s || !o)
        return NULL;
    pthread_rwlock_wrlock(&s->lock);
    struct ck_obj *old = ck_strmap_put(&s->objects, o->key, ck_obj_ref(o));
    for (size_t i = 0; i < s->nidx; i++) {
        if (old)
            index_one(&s->idx[i], old, false);
        index_one(&s->idx[i], o, true);
    }
    pthread_rwlock_unlock(&s->lock);
    return old;
}

struct ck_obj *ck_store_delete(struct ck_store *s, const char *key)
{
    if (!s || !key)
        return NULL;
    pthread_rwlock_wrlock(&s->lock);
    struct ck_obj *old = ck_strmap_remove(&s->objects, key);
    if (old)
        for (size_t i = 0; i < s->nidx; i++)
            index_one(&s->idx[i], old, false);
    pthread_rwlock_unlock(&s->lock);
    return old;
}

struct ck_obj *ck_store_get(struct ck_store *s, const char *key)
{
    if (!s || !key)
        return NULL;
    pthread_rwlock_rdlock(&s->lock);
    struct ck_obj *o = ck_obj_ref(ck_strmap_get(&s->objects, key));
    pthread_rwlock_unlock(&s->lock);
    return o;
}

cJSON *ck_store_get_copy(struct ck_store *s, const char *key)
{
    struct ck_obj *o = ck_store_get(s, key);
    cJSON *c = o ? ck_json_dup(o->json) : NULL;
    ck_obj_unref(o);
    return c;
}

size_t ck_store_len(struct ck_store *s)
{
    if (!s)
        return 0;
    pthread_rwlock_rdlock(&s->lock);
    size_t n = s->objects.len;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

struct collect_ctx {
    struct ck_obj_list *out;
    size_t cap;
    const char *ns; /* filter, or NULL */
};

static void collect_obj(const char *key, void *value, void *ctx)
{
    (void)key;
    struct collect_ctx *c = ctx;
    struct ck_obj *o = value;
    if (c->ns && strcmp(ck_json_get_string(o->json, "metadata.namespace", ""), c->ns))
        return;
    list_push(c->out, &c->cap, o);
}

void ck_store_list(struct ck_store *s, struct ck_obj_list *out)
{
    out->items = NULL;
    out->n = 0;
    if (!s)
        return;
    struct collect_ctx c = {out, 0, NULL};
    pthread_rwlock_rdlock(&s->lock);
    ck_strmap_each(&s->objects, collect_obj, &c);
    pthread_rwlock_unlock(&s->lock);
}

static void collect_key(const char *key, void *value, void *ctx)
{
    (void)value;
    ck_strlist_add(ctx, key);
}

void ck_store_keys(struct ck_store *s, struct ck_strlist *out)
{
    if (!s)
        return;
    pthread_rwlock_rdlock(&s->lock);
    ck_strmap_each(&s->objects, collect_key, out);
    pthread_rwlock_unlock(&s->lock);
}

static struct index *find_index(struct ck_store *s, const char *name)
{
    for (size_t i = 0; i < s->nidx; i++)
        if (!strcmp(s->idx[i].name, name))
            return &s->idx[i];
    return NULL;
}

struct keys_to_objs {
    struct ck_store *s;
    struct ck_obj_list *out;
    size_t cap;
};

static void key_to_obj(const char *key, void *value, void *ctx)
{
    (void)value;
    struct keys_to_objs *k = ctx;
    struct ck_obj *o = ck_strmap_get(&k->s->objects, key);
    if (o)
        list_push(k->out, &k->cap, o);
}

int ck_store_by_index(struct ck_store *s, const char *index, const char *value,
                      struct ck_obj_list *out)
{
    out->items = NULL;
    out->n = 0;
    if (!s || !index || !value)
        return -EINVAL;
    pthread_rwlock_rdlock(&s->lock);
    struct index *ix = find_index(s, index);
    if (!ix) {
        pthread_rwlock_unlock(&s->lock);
        return -ENOENT;
    }
    struct ck_strmap *keys = ck_strmap_get(&ix->values, value);
    struct keys_to_objs k = {s, out, 0};
    if (keys)
        ck_strmap_each(keys, key_to_obj, &k);
    pthread_rwlock_unlock(&s->lock);
    return 0;
}

int ck_store_index_keys(struct ck_store *s, const char *index, const char *value,
                        struct ck_strlist *out)
{
    if (!s || !index || !value)
        return -EINVAL;
    pthread_rwlock_rdlock(&s->lock);
    struct index *ix = find_index(s, index);
    if (!ix) {
        pthread_rwlock_unlock(&s->lock);
        return -ENOENT;
    }
    struct ck_strmap *keys = ck_strmap_get(&ix->values, value);
    if (keys)
        ck_strmap_each(keys, collect_key, out);
    pthread_rwlock_unlock(&s->lock);
    return 0;
}

void ck_store_list_namespace(struct ck_store *s, const char *ns, struct ck_obj_list *out)
{
    if (ck_store_by_index(s, "namespace", ns ? ns : "", out) == -ENOENT) {
        out->items = NULL;
        out->n = 0;
        if (!s)
            return;
        struct collect_ctx c = {out, 0, ns ? ns : ""};
        pthread_rwlock_rdlock(&s->lock);
        ck_strmap_each(&s->objects, collect_obj, &c);
        pthread_rwlock_unlock(&s->lock);
    }
}
