/* cache.c - scheduler cache and snapshots (see cache.h). */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "timeutil.h"

struct cache_node {
    struct sched_node_info *info;
    struct cache_node *prev, *next; /* most recently changed first */
    char *zone;                     /* zone key while in the node tree, else NULL */
};

struct zone {
    char *key;
    char **names; /* borrowed from the cache nodes' infos */
    size_t n, cap;
};

struct pod_state {
    struct sched_pod *pod;
    bool assumed;
    bool binding_finished;
    int64_t deadline;
};

struct sched_cache {
    pthread_mutex_t mu;     /* guards everything below */
    struct ck_strmap nodes; /* name -> struct cache_node* */
    struct cache_node *head;
    struct ck_strmap pods; /* key -> struct pod_state* */
    struct zone *zones;
    size_t nzones, ntree;
    struct ck_strmap images; /* image name -> node count (uintptr_t) */
    uint64_t generation;
    uint64_t epoch; /* bumped when the node list or images change */
    struct sched_cache_opts opts;
};

static int64_t now_ns(struct sched_cache *c)
{
    return c->opts.now_ns ? c->opts.now_ns(c->opts.clock_ctx) : ck_mono_ns();
}

struct sched_cache *sched_cache_new(const struct sched_cache_opts *opts)
{
    struct sched_cache *c = ck_xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    if (opts)
        c->opts = *opts;
    return c;
}

static void free_cache_node(void *v)
{
    struct cache_node *n = v;
    sched_node_info_free(n->info);
    free(n->zone);
    free(n);
}

static void free_pod_state(void *v)
{
    struct pod_state *ps = v;
    sched_pod_unref(ps->pod);
    free(ps);
}

void sched_cache_free(struct sched_cache *c)
{
    if (!c)
        return;
    ck_strmap_free(&c->nodes, free_cache_node);
    ck_strmap_free(&c->pods, free_pod_state);
    for (size_t i = 0; i < c->nzones; i++) {
        free(c->zones[i].key);
        free(c->zones[i].names);
    }
    free(c->zones);
    ck_strmap_free(&c->images, NULL);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- node list bookkeeping ---- */

static void move_to_head(struct sched_cache *c, struct cache_node *n)
{
    n->info->generation = ++c->generation;
    if (c->head == n)
        return;
    if (n->prev)
        n->prev->next = n->next;
    if (n->next)
        n->next->prev = n->prev;
    n->prev = NULL;
    n->next = c->head;
    if (c->head)
        c->head->prev = n;
    c->head = n;
}

static void unlink_node(struct sched_cache *c, struct cache_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else if (c->head == n)
        c->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

static struct cache_node *get_or_create(struct sched_cache *c, const char *name)
{
    struct cache_node *n = ck_strmap_get(&c->nodes, name);
    if (!n) {
        n = ck_xcalloc(1, sizeof(*n));
        n->info = sched_node_info_new(name);
        ck_strmap_put(&c->nodes, name, n);
        move_to_head(c, n);
    }
    return n;
}

static char *zone_key(const struct sched_node *node)
{
    const char *zone = sched_node_label(node, "topology.kubernetes.io/zone");
    if (!zone)
        zone = sched_node_label(node, "failure-domain.beta.kubernetes.io/zone");
    const char *region = sched_node_label(node, "topology.kubernetes.io/region");
    if (!region)
        region = sched_node_label(node, "failure-domain.beta.kubernetes.io/region");
    if ((!zone || !*zone) && (!region || !*region))
        return ck_xstrdup("");
    return ck_xasprintf("%s:\x01:%s", region ? region : "", zone ? zone : "");
}

static void tree_add(struct sched_cache *c, struct cache_node *n)
{
    n->zone = zone_key(n->info->node);
    size_t i = 0;
    while (i < c->nzones && strcmp(c->zones[i].key, n->zone) != 0)
        i++;
    if (i == c->nzones) {
        c->zones = ck_xrealloc(c->zones, (c->nzones + 1) * sizeof(*c->zones));
        c->zones[c->nzones++] = (struct zone){ck_xstrdup(n->zone), NULL, 0, 0};
    }
    struct zone *z = &c->zones[i];
    if (z->n == z->cap) {
        z->cap = z->cap ? z->cap * 2 : 16;
        z->names = ck_xrealloc(z->names, z->cap * sizeof(char *));
    }
    z->names[z->n++] = n->info->name;
    c->ntree++;
    c->epoch++;
}

static void tree_remove(struct sched_cache *c, struct cache_node *n)
{
    if (!n->zone)
        return;
    for (size_t i = 0; i < c->nzones; i++) {
        struct zone *z = &c->zones[i];
        if (strcmp(z->key, n->zone) != 0)
            continue;
        for (size_t j = 0; j < z->n; j++) {
            if (z->names[j] != n->info->name)
                continue;
            z->names[j] = z->names[--z->n]; /* as upstream: the last one fills the hole */
            c->ntree--;
            break;
        }
        if (z->n == 0) {
            free(z->key);
            free(z->names);
            memmove(z, z + 1, (c->nzones - i - 1) * sizeof(*z));
            c->nzones--;
        }
        break;
    }
    free(n->zone);
    n->zone = NULL;
    c->epoch++;
}

static void images_account(struct sched_cache *c, const struct sched_node *node, int sign)
{
    if (!node)
        return;
    for (size_t b = 0; b < node->images.nbuckets; b++) {
        for (struct ck_strmap_entry *e = node->images.buckets[b]; e; e = e->next) {
            uintptr_t n = (uintptr_t)ck_strmap_get(&c->images, e->key);
            n = sign > 0 ? n + 1 : (n ? n - 1 : 0);
            if (n)
                ck_strmap_put(&c->images, e->key, (void *)n);
            else
                ck_strmap_remove(&c->images, e->key);
        }
    }
    c->epoch++;
}

/* ---- nodes ---- */

static int set_node(struct sched_cache *c, const cJSON *obj, struct ck_error *err)
{
    struct sched_node *node = sched_node_new(obj, err);
    if (!node)
        return -EINVAL;
    struct cache_node *n = get_or_create(c, node->name);
    char *zk = zone_key(node);
    bool rezone = !n->zone || strcmp(n->zone, zk) != 0;
    free(zk);
    if (rezone)
        tree_remove(c, n);
    images_account(c, n->info->node, -1);
    sched_node_info_set_node(n->info, node);
    images_account(c, node, 1);
    if (rezone)
        tree_add(c, n);
    sched_node_unref(node);
    move_to_head(c, n);
    return 0;
}

int sched_cache_add_node(struct sched_cache *c, const cJSON *node, struct ck_error *err)
{
    pthread_mutex_lock(&c->mu);
    int rc = set_node(c, node, err);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int sched_cache_update_node(struct sched_cache *c, const cJSON *old_node, const cJSON *new_node,
                            struct ck_error *err)
{
    (void)old_node;
    return sched_cache_add_node(c, new_node, err);
}

int sched_cache_remove_node(struct sched_cache *c, const cJSON *node)
{
    const char *name = ck_json_get_string(node, "metadata.name", "");
    pthread_mutex_lock(&c->mu);
    struct cache_node *n = ck_strmap_get(&c->nodes, name);
    if (!n || !n->info->node) {
        pthread_mutex_unlock(&c->mu);
        return -ENOENT;
    }
    tree_remove(c, n);
    images_account(c, n->info->node, -1);
    sched_node_info_set_node(n->info, NULL);
    if (n->info->npods == 0) {
        unlink_node(c, n);
        ck_strmap_remove(&c->nodes, name);
        free_cache_node(n);
        c->generation++;
    } else {
        move_to_head(c, n);
    }
    pthread_mutex_unlock(&c->mu);
    return 0;
}

struct sched_node *sched_cache_get_node(struct sched_cache *c, const char *name)
{
    pthread_mutex_lock(&c->mu);
    struct cache_node *n = ck_strmap_get(&c->nodes, name);
    struct sched_node *r = n ? sched_node_ref(n->info->node) : NULL;
    pthread_mutex_unlock(&c->mu);
    return r;
}

/* ---- pods ---- */

static void add_to_node(struct sched_cache *c, struct sched_pod *p)
{
    struct cache_node *n = get_or_create(c, p->node_name);
    sched_node_info_add_pod(n->info, p);
    move_to_head(c, n);
}

static void remove_from_node(struct sched_cache *c, const struct sched_pod *p)
{
    struct cache_node *n = ck_strmap_get(&c->nodes, p->node_name);
    if (!n)
        return;
    sched_node_info_remove_pod(n->info, p->key);
    if (n->info->npods == 0 && !n->info->node) {
        unlink_node(c, n);
        ck_strmap_remove(&c->nodes, p->node_name);
        free_cache_node(n);
        c->generation++;
    } else {
        move_to_head(c, n);
    }
}

int sched_cache_add_pod(struct sched_cache *c, const cJSON *obj, struct ck_error *err)
{
    struct sched_pod *p = sched_pod_new(obj, err);
    if (!p)
        return -EINVAL;
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    struct pod_state *ps = ck_strmap_get(&c->pods, p->key);
    if (ps && ps->assumed) {
        /* the binding landed: replace the assumed copy with the real pod */
        remove_from_node(c, ps->pod);
        sched_pod_unref(ps->pod);
        ps->pod = sched_pod_ref(p);
        ps->assumed = false;
        add_to_node(c, p);
    } else if (ps) {
        rc = ck_error_set(err, 409, CK_REASON_ALREADY_EXISTS,
                          "pod %s/%s was already in added state", p->ns, p->name);
    } else {
        ps = ck_xcalloc(1, sizeof(*ps));
        ps->pod = sched_pod_ref(p);
        ck_strmap_put(&c->pods, p->key, ps);
        add_to_node(c, p);
    }
    pthread_mutex_unlock(&c->mu);
    sched_pod_unref(p);
    return rc;
}

int sched_cache_update_pod(struct sched_cache *c, const cJSON *old_pod, const cJSON *new_pod,
                           struct ck_error *err)
{
    (void)old_pod;
    struct sched_pod *p = sched_pod_new(new_pod, err);
    if (!p)
        return -EINVAL;
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    struct pod_state *ps = ck_strmap_get(&c->pods, p->key);
    if (!ps) {
        rc = ck_error_set(err, 404, CK_REASON_NOT_FOUND,
                          "pod %s/%s is not added to scheduler cache", p->ns, p->name);
    } else {
        remove_from_node(c, ps->pod);
        sched_pod_unref(ps->pod);
        ps->pod = sched_pod_ref(p);
        ps->assumed = false;
        add_to_node(c, p);
    }
    pthread_mutex_unlock(&c->mu);
    sched_pod_unref(p);
    return rc;
}

static int remove_key(struct sched_cache *c, const char *key, bool only_assumed)
{
    struct pod_state *ps = ck_strmap_get(&c->pods, key);
    if (!ps || (only_assumed && !ps->assumed))
        return -ENOENT;
    remove_from_node(c, ps->pod);
    ck_strmap_remove(&c->pods, key);
    free_pod_state(ps);
    return 0;
}

int sched_cache_remove_pod(struct sched_cache *c, const cJSON *pod)
{
    char key[512];
    sched_pod_key(pod, key, sizeof(key));
    pthread_mutex_lock(&c->mu);
    int rc = remove_key(c, key, false);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int sched_cache_assume_pod(struct sched_cache *c, const struct sched_pod *pod, const char *node)
{
    cJSON *copy = ck_json_dup(pod->obj);
    ck_json_set_string(copy, "spec.nodeName", node);
    struct sched_pod *p = sched_pod_new(copy, NULL);
    cJSON_Delete(copy);
    if (!p)
        return -EINVAL;
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    if (ck_strmap_get(&c->pods, p->key)) {
        rc = -EEXIST;
    } else {
        struct pod_state *ps = ck_xcalloc(1, sizeof(*ps));
        ps->pod = sched_pod_ref(p);
        ps->assumed = true;
        ck_strmap_put(&c->pods, p->key, ps);
        add_to_node(c, p);
    }
    pthread_mutex_unlock(&c->mu);
    sched_pod_unref(p);
    return rc;
}

int sched_cache_finish_binding(struct sched_cache *c, const char *key)
{
    pthread_mutex_lock(&c->mu);
    struct pod_state *ps = ck_strmap_get(&c->pods, key);
    int rc = -ENOENT;
    if (ps && ps->assumed) {
        ps->binding_finished = true;
        ps->deadline = now_ns(c) + c->opts.assumed_ttl_ns;
        rc = 0;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int sched_cache_forget_pod(struct sched_cache *c, const char *key)
{
    pthread_mutex_lock(&c->mu);
    int rc = remove_key(c, key, true);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

bool sched_cache_is_assumed(struct sched_cache *c, const char *key)
{
    pthread_mutex_lock(&c->mu);
    struct pod_state *ps = ck_strmap_get(&c->pods, key);
    bool r = ps && ps->assumed;
    pthread_mutex_unlock(&c->mu);
    return r;
}

size_t sched_cache_cleanup_assumed(struct sched_cache *c)
{
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    if (c->opts.assumed_ttl_ns > 0) {
        int64_t now = now_ns(c);
        bool again = true;
        while (again) {
            again = false;
            for (size_t b = 0; b < c->pods.nbuckets && !again; b++) {
                for (struct ck_strmap_entry *e = c->pods.buckets[b]; e; e = e->next) {
                    struct pod_state *ps = e->value;
                    if (ps->assumed && ps->binding_finished && now >= ps->deadline) {
                        remove_key(c, e->key, true);
                        n++;
                        again = true; /* the map changed under us */
                        break;
                    }
                }
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}

size_t sched_cache_node_count(struct sched_cache *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->ntree;
    pthread_mutex_unlock(&c->mu);
    return n;
}

size_t sched_cache_pod_count(struct sched_cache *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->pods.len;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* ---- snapshots ---- */

void sched_snapshot_init(struct sched_snapshot *s)
{
    memset(s, 0, sizeof(*s));
}

static void free_info(void *v)
{
    sched_node_info_free(v);
}

void sched_snapshot_free(struct sched_snapshot *s)
{
    free(s->nodes);
    ck_strmap_free(&s->by_name, free_info);
    ck_strmap_free(&s->image_nodes, NULL);
    memset(s, 0, sizeof(*s));
}

/* Moves src's contents into dst in place (pointers to dst stay valid); frees src's shell. */
static void replace_info(struct sched_node_info *dst, struct sched_node_info *src)
{
    for (size_t i = 0; i < dst->npods; i++)
        sched_pod_unref(dst->pods[i]);
    free(dst->pods);
    sched_node_unref(dst->node);
    sched_resource_free(&dst->requested);
    free(dst->name);
    *dst = *src;
    free(src);
}

struct prune_ctx {
    struct sched_cache *c;
    char **gone;
    size_t n;
};

static void find_gone(const char *key, void *value, void *ctx)
{
    (void)value;
    struct prune_ctx *p = ctx;
    struct cache_node *n = ck_strmap_get(&p->c->nodes, key);
    if (!n || !n->info->node) {
        p->gone = ck_xrealloc(p->gone, (p->n + 1) * sizeof(char *));
        p->gone[p->n++] = ck_xstrdup(key);
    }
}

static void copy_count(const char *key, void *value, void *ctx)
{
    ck_strmap_put(ctx, key, value);
}

void sched_cache_update_snapshot(struct sched_cache *c, struct sched_snapshot *s)
{
    pthread_mutex_lock(&c->mu);
    for (struct cache_node *n = c->head; n && n->info->generation > s->generation; n = n->next) {
        struct sched_node_info *have = ck_strmap_get(&s->by_name, n->info->name);
        if (!n->info->node)
            continue; /* pruned below */
        struct sched_node_info *clone = sched_node_info_clone(n->info);
        if (have) {
            replace_info(have, clone);
        } else {
            ck_strmap_put(&s->by_name, clone->name, clone);
            s->nodes_epoch = 0; /* force a list rebuild */
        }
    }
    if (s->nodes_epoch != c->epoch + 1) {
        struct prune_ctx p = {c, NULL, 0};
        ck_strmap_each(&s->by_name, find_gone, &p);
        for (size_t i = 0; i < p.n; i++) {
            sched_node_info_free(ck_strmap_remove(&s->by_name, p.gone[i]));
            free(p.gone[i]);
        }
        free(p.gone);
        free(s->nodes);
        s->nodes = ck_xcalloc(c->ntree + 1, sizeof(*s->nodes));
        s->nnodes = 0;
        for (size_t idx = 0; s->nnodes < c->ntree; idx++) {
            bool any = false;
            for (size_t z = 0; z < c->nzones; z++) {
                if (idx >= c->zones[z].n)
                    continue;
                any = true;
                struct sched_node_info *ni = ck_strmap_get(&s->by_name, c->zones[z].names[idx]);
                if (ni)
                    s->nodes[s->nnodes++] = ni;
            }
            if (!any)
                break;
        }
        ck_strmap_free(&s->image_nodes, NULL);
        ck_strmap_each(&c->images, copy_count, &s->image_nodes);
        s->nodes_epoch = c->epoch + 1;
    }
    s->generation = c->generation;
    pthread_mutex_unlock(&c->mu);
}
