/* strmap.c - string-keyed hash map (see strmap.h). FNV-1a hashing, chains, doubling. */
#include "strmap.h"

#include <stdint.h>
#include <string.h>

#include "mem.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static struct ck_strmap_entry **slot(const struct ck_strmap *m, const char *key)
{
    struct ck_strmap_entry **p = &m->buckets[hash(key) & (m->nbuckets - 1)];
    while (*p && strcmp((*p)->key, key))
        p = &(*p)->next;
    return p;
}

void *ck_strmap_get(const struct ck_strmap *m, const char *key)
{
    if (!m->nbuckets)
        return NULL;
    struct ck_strmap_entry *e = *slot(m, key);
    return e ? e->value : NULL;
}

static void grow(struct ck_strmap *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
    struct ck_strmap_entry **b = ck_xcalloc(n, sizeof(*b));
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct ck_strmap_entry *e = m->buckets[i];
        while (e) {
            struct ck_strmap_entry *next = e->next;
            size_t h = hash(e->key) & (n - 1);
            e->next = b[h];
            b[h] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void *ck_strmap_put(struct ck_strmap *m, const char *key, void *value)
{
    if (m->len + 1 > m->nbuckets * 3 / 4)
        grow(m);
    struct ck_strmap_entry **p = slot(m, key);
    if (*p) {
        void *old = (*p)->value;
        (*p)->value = value;
        return old;
    }
    struct ck_strmap_entry *e = ck_xmalloc(sizeof(*e));
    e->key = ck_xstrdup(key);
    e->value = value;
    e->next = NULL;
    *p = e;
    m->len++;
    return NULL;
}

void *ck_strmap_remove(struct ck_strmap *m, const char *key)
{
    if (!m->nbuckets)
        return NULL;
    struct ck_strmap_entry **p = slot(m, key);
    struct ck_strmap_entry *e = *p;
    if (!e)
        return NULL;
    *p = e->next;
    void *v = e->value;
    free(e->key);
    free(e);
    m->len--;
    return v;
}

void ck_strmap_each(const struct ck_strmap *m, void (*fn)(const char *key, void *value, void *ctx),
                    void *ctx)
{
    for (size_t i = 0; i < m->nbuckets; i++)
        for (struct ck_strmap_entry *e = m->buckets[i]; e; e = e->next)
            fn(e->key, e->value, ctx);
}

void ck_strmap_free(struct ck_strmap *m, void (*free_value)(void *value))
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct ck_strmap_entry *e = m->buckets[i];
        while (e) {
            struct ck_strmap_entry *next = e->next;
            if (free_value)
                free_value(e->value);
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->len = 0;
}
