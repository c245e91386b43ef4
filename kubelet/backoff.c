/* backoff.c - per-key exponential back-off (see backoff.h). */
#include "kubelet/backoff.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "strmap.h"

struct entry {
    int64_t backoff_ns;
    int64_t last_update_ns;
};

struct kl_backoff {
    int64_t initial, max;
    pthread_mutex_t lock; /* guards map */
    struct ck_strmap map; /* key -> struct entry */
};

struct kl_backoff *kl_backoff_new(int64_t initial_ns, int64_t max_ns)
{
    struct kl_backoff *b = ck_xcalloc(1, sizeof(*b));
    b->initial = initial_ns;
    b->max = max_ns;
    pthread_mutex_init(&b->lock, NULL);
    return b;
}

void kl_backoff_free(struct kl_backoff *b)
{
    if (!b)
        return;
    ck_strmap_free(&b->map, free);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static bool expired(const struct kl_backoff *b, int64_t event, int64_t last_update)
{
    return event - last_update > 2 * b->max;
}

int64_t kl_backoff_get(struct kl_backoff *b, const char *key)
{
    pthread_mutex_lock(&b->lock);
    struct entry *e = ck_strmap_get(&b->map, key);
    int64_t v = e ? e->backoff_ns : 0;
    pthread_mutex_unlock(&b->lock);
    return v;
}

void kl_backoff_next(struct kl_backoff *b, const char *key, int64_t event_ns, int64_t now_ns)
{
    pthread_mutex_lock(&b->lock);
    struct entry *e = ck_strmap_get(&b->map, key);
    if (!e) {
        e = ck_xcalloc(1, sizeof(*e));
        ck_strmap_put(&b->map, key, e);
        e->backoff_ns = b->initial;
    } else if (expired(b, event_ns, e->last_update_ns)) {
        e->backoff_ns = b->initial;
    } else {
        int64_t d = e->backoff_ns > b->max / 2 ? b->max : e->backoff_ns * 2;
        e->backoff_ns = d < b->max ? d : b->max;
    }
    e->last_update_ns = now_ns;
    pthread_mutex_unlock(&b->lock);
}

int64_t kl_backoff_until_since(struct kl_backoff *b, const char *key, int64_t event_ns,
                               int64_t now_ns)
{
    pthread_mutex_lock(&b->lock);
    struct entry *e = ck_strmap_get(&b->map, key);
    int64_t until = 0;
    if (e && !expired(b, event_ns, e->last_update_ns) && now_ns - event_ns < e->backoff_ns)
        until = event_ns + e->backoff_ns;
    pthread_mutex_unlock(&b->lock);
    return until;
}

bool kl_backoff_in_backoff_since(struct kl_backoff *b, const char *key, int64_t event_ns,
                                 int64_t now_ns)
{
    return kl_backoff_until_since(b, key, event_ns, now_ns) != 0;
}

int64_t kl_backoff_until_update(struct kl_backoff *b, const char *key, int64_t now_ns)
{
    pthread_mutex_lock(&b->lock);
    struct entry *e = ck_strmap_get(&b->map, key);
    int64_t until = 0;
    if (e && !expired(b, now_ns, e->last_update_ns) && now_ns - e->last_update_ns < e->backoff_ns)
        until = e->last_update_ns + e->backoff_ns;
    pthread_mutex_unlock(&b->lock);
    return until;
}

bool kl_backoff_in_backoff_since_update(struct kl_backoff *b, const char *key, int64_t now_ns)
{
    return kl_backoff_until_update(b, key, now_ns) != 0;
}

void kl_backoff_reset(struct kl_backoff *b, const char *key)
{
    pthread_mutex_lock(&b->lock);
    free(ck_strmap_remove(&b->map, key));
    pthread_mutex_unlock(&b->lock);
}

struct collect {
    const char *prefix;
    int64_t now, max2;
    char **keys;
    size_t n, cap;
};

static void collect_key(struct collect *c, const char *key)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        c->keys = ck_xrealloc(c->keys, c->cap * sizeof(*c->keys));
    }
    c->keys[c->n++] = ck_xstrdup(key);
}

static void by_prefix(const char *key, void *value, void *ctx)
{
    (void)value;
    struct collect *c = ctx;
    if (!strncmp(key, c->prefix, strlen(c->prefix)))
        collect_key(c, key);
}

static void by_age(const char *key, void *value, void *ctx)
{
    struct collect *c = ctx;
    const struct entry *e = value;
    if (c->now - e->last_update_ns > c->max2)
        collect_key(c, key);
}

static void remove_collected(struct kl_backoff *b, struct collect *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(ck_strmap_remove(&b->map, c->keys[i]));
        free(c->keys[i]);
    }
    free(c->keys);
}

void kl_backoff_reset_prefix(struct kl_backoff *b, const char *prefix)
{
    struct collect c = {.prefix = prefix};
    pthread_mutex_lock(&b->lock);
    ck_strmap_each(&b->map, by_prefix, &c);
    remove_collected(b, &c);
    pthread_mutex_unlock(&b->lock);
}

void kl_backoff_gc(struct kl_backoff *b, int64_t now_ns)
{
    struct collect c = {.now = now_ns, .max2 = 2 * b->max};
    pthread_mutex_lock(&b->lock);
    ck_strmap_each(&b->map, by_age, &c);
    remove_collected(b, &c);
    pthread_mutex_unlock(&b->lock);
}

unsigned kl_backoff_len(struct kl_backoff *b)
{
    pthread_mutex_lock(&b->lock);
    unsigned n = (unsigned)b->map.len;
    pthread_mutex_unlock(&b->lock);
    return n;
}
