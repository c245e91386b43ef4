/* noderesources.c - NodeResourcesFit (filter on cpu, memory, ephemeral-storage, pod count and
 * scalar resources; LeastAllocated scoring over cpu and memory, weight 1 each) and
 * NodeResourcesBalancedAllocation, as upstream's pkg/scheduler/framework/plugins/noderesources
 * (v1.32). Scoring uses the non-zero requests (100m / 200Mi for containers that request
 * nothing) for LeastAllocated and the real requests for BalancedAllocation, as upstream. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "scheduler/plugins/plugins.h"

static void add_reason(struct sched_status **st, bool *unresolvable, bool unres, const char *r)
{
    if (!st)
        return;
    if (!*st)
        *st = sched_status_new(SCHED_UNSCHEDULABLE, NULL);
    sched_status_add_reason(*st, r);
    if (unres)
        *unresolvable = true;
}

size_t sched_fit_insufficient(const struct sched_pod *pod, const struct sched_node_info *ni,
                              struct sched_status **st)
{
    const struct sched_resource *alloc = sched_node_info_allocatable(ni);
    const struct sched_resource *req = &pod->req, *used = &ni->requested;
    size_t n = 0;
    bool unres = false;
    if ((int64_t)ni->npods + 1 > alloc->allowed_pods) {
        n++;
        add_reason(st, &unres, false, SCHED_REASON_TOO_MANY_PODS);
    }
    if (req->milli_cpu == 0 && req->memory == 0 && req->ephemeral_storage == 0 && req->nscalar == 0)
        goto out;
    if (req->milli_cpu > 0 && req->milli_cpu > alloc->milli_cpu - used->milli_cpu) {
        n++;
        add_reason(st, &unres, req->milli_cpu > alloc->milli_cpu, "Insufficient cpu");
    }
    if (req->memory > 0 && req->memory > alloc->memory - used->memory) {
        n++;
        add_reason(st, &unres, req->memory > alloc->memory, "Insufficient memory");
    }
    if (req->ephemeral_storage > 0 &&
        req->ephemeral_storage > alloc->ephemeral_storage - used->ephemeral_storage) {
        n++;
        add_reason(st, &unres, req->ephemeral_storage > alloc->ephemeral_storage,
                   "Insufficient ephemeral-storage");
    }
    for (size_t i = 0; i < req->nscalar; i++) {
        const struct sched_scalar *s = &req->scalar[i];
        if (s->value == 0)
            continue;
        int64_t a = sched_resource_scalar(alloc, s->name);
        if (s->value > a - sched_resource_scalar(used, s->name)) {
            n++;
            if (st) {
                char *r = ck_xasprintf("Insufficient %s", s->name);
                add_reason(st, &unres, s->value > a, r);
                free(r);
            }
        }
    }
out:
    if (st && *st && unres)
        (*st)->code = SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE;
    return n;
}

static struct sched_status *fit_pre_filter(struct sched_cycle *c, struct sched_prefilter_result *r)
{
    (void)c;
    (void)r;
    return NULL;
}

static struct sched_status *fit_filter(struct sched_cycle *c, const struct sched_node_info *ni)
{
    struct sched_status *st = NULL;
    sched_fit_insufficient(c->pod, ni, &st);
    return st;
}

/* Requested and allocatable of cpu and memory for scoring (upstream
 * calculateResourceAllocatableRequest); `real` selects Requested over NonZeroRequested. */
static void cpu_mem(const struct sched_pod *pod, const struct sched_node_info *ni, bool real,
                    int64_t req[2], int64_t alloc[2])
{
    const struct sched_resource *a = sched_node_info_allocatable(ni);
    alloc[0] = a->milli_cpu;
    alloc[1] = a->memory;
    if (real) {
        req[0] = ni->requested.milli_cpu + pod->req.milli_cpu;
        req[1] = ni->requested.memory + pod->req.memory;
    } else {
        req[0] = ni->non0_cpu + pod->non0_cpu;
        req[1] = ni->non0_mem + pod->non0_mem;
    }
}

static int64_t least_requested(int64_t requested, int64_t capacity)
{
    if (capacity == 0 || requested > capacity)
        return 0;
    return (capacity - requested) * SCHED_MAX_NODE_SCORE / capacity;
}

static struct sched_status *fit_pre_score(struct sched_cycle *c, struct sched_node_info **nodes,
                                          size_t n)
{
    (void)c;
    (void)nodes;
    (void)n;
    return NULL;
}

static int64_t fit_score(struct sched_cycle *c, const struct sched_node_info *ni)
{
    int64_t req[2], alloc[2], sum = 0, weights = 0;
    cpu_mem(c->pod, ni, false, req, alloc);
    for (int i = 0; i < 2; i++) {
        if (alloc[i] == 0)
            continue;
        sum += least_requested(req[i], alloc[i]);
        weights++;
    }
    return weights ? sum / weights : 0;
}

static bool pod_has_requests(const struct sched_pod *p)
{
    return p->req.milli_cpu || p->req.memory || p->req.ephemeral_storage || p->req.nscalar;
}

static enum sched_hint fit_hint(const struct sched_pod *pod, const struct sched_event *ev)
{
    if (ev->resource == SCHED_RES_NODE) {
        if (!ev->new_node)
            return SCHED_HINT_SKIP;
        /* upstream isFit: the pod's requests fit the node's allocatable at all */
        struct sched_node_info tmp = {.node = (struct sched_node *)ev->new_node};
        return sched_fit_insufficient(pod, &tmp, NULL) ? SCHED_HINT_SKIP : SCHED_HINT_QUEUE;
    }
    if (ev->resource == SCHED_RES_ASSIGNED_POD) {
        const struct sched_pod *p = ev->old_pod ? ev->old_pod : ev->new_pod;
        if (!p || !p->node_name[0])
            return SCHED_HINT_SKIP;
        /* a deleted or shrunk pod frees something only if the pending pod asks for anything
         * beyond a pod slot, or if it freed a slot */
        return pod_has_requests(pod) || !ev->new_pod ? SCHED_HINT_QUEUE : SCHED_HINT_SKIP;
    }
    return SCHED_HINT_QUEUE;
}

const struct sched_plugin sched_plugin_node_resources_fit = {
    .name = "NodeResourcesFit",
    .id = SCHED_PL_NODE_RESOURCES_FIT,
    .default_weight = 1,
    .pre_filter = fit_pre_filter,
    .filter = fit_filter,
    .pre_score = fit_pre_score,
    .score = fit_score,
    .events = {{SCHED_RES_ASSIGNED_POD, SCHED_ACT_DELETE | SCHED_ACT_UPDATE_POD_SCALE_DOWN},
               {SCHED_RES_NODE, SCHED_ACT_ADD | SCHED_ACT_UPDATE_NODE_ALLOCATABLE |
                                    SCHED_ACT_UPDATE_NODE_TAINT | SCHED_ACT_UPDATE_NODE_LABEL}},
    .hint = fit_hint,
};

/* ---- NodeResourcesBalancedAllocation ---- */

static struct sched_status *balanced_pre_score(struct sched_cycle *c,
                                               struct sched_node_info **nodes, size_t n)
{
    (void)c;
    (void)nodes;
    (void)n;
    return NULL;
}

static int64_t balanced_score(struct sched_cycle *c, const struct sched_node_info *ni)
{
    int64_t req[2], alloc[2];
    double fr[2];
    size_t nf = 0;
    cpu_mem(c->pod, ni, true, req, alloc);
    for (int i = 0; i < 2; i++) {
        if (alloc[i] == 0)
            continue;
        double f = (double)req[i] / (double)alloc[i];
        fr[nf++] = f > 1 ? 1 : f;
    }
    double std = nf == 2 ? fabs((fr[0] - fr[1]) / 2) : 0;
    return (int64_t)((1 - std) * SCHED_MAX_NODE_SCORE);
}

const struct sched_plugin sched_plugin_balanced_allocation = {
    .name = "NodeResourcesBalancedAllocation",
    .id = SCHED_PL_BALANCED_ALLOCATION,
    .default_weight = 1,
    .pre_score = balanced_pre_score,
    .score = balanced_score,
    .events = {{SCHED_RES_ASSIGNED_POD, SCHED_ACT_DELETE | SCHED_ACT_ADD},
               {SCHED_RES_NODE, SCHED_ACT_ADD | SCHED_ACT_UPDATE_NODE_ALLOCATABLE}},
};

/* ---- ImageLocality ---- */

#define MB (1024LL * 1024LL)
#define MIN_THRESHOLD (23 * MB)
#define MAX_CONTAINER_THRESHOLD (1000 * MB)

/* upstream normalizedImageName: ":latest" unless the last path segment has a tag. */
static const char *normalized_image(const char *name, char *buf, size_t size)
{
    const char *colon = strrchr(name, ':'), *slash = strrchr(name, '/');
    if (!colon || (slash && colon < slash)) {
        snprintf(buf, size, "%s:latest", name);
        return buf;
    }
    return name;
}

/* PreScore state: the pod's normalized image names and how widely each is spread. */
struct image_state {
    size_t n;
    char **names;
    double *spread; /* nodes having it / all nodes */
};

static void image_state_free(void *p)
{
    struct image_state *s = p;
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->spread);
    free(s);
}

static void *image_state_clone(const void *p)
{
    const struct image_state *s = p;
    struct image_state *d = ck_xcalloc(1, sizeof(*d));
    d->n = s->n;
    d->names = ck_xcalloc(s->n + 1, sizeof(char *));
    d->spread = ck_xcalloc(s->n + 1, sizeof(double));
    for (size_t i = 0; i < s->n; i++) {
        d->names[i] = ck_xstrdup(s->names[i]);
        d->spread[i] = s->spread[i];
    }
    return d;
}

static struct sched_status *image_pre_score(struct sched_cycle *c, struct sched_node_info **nodes,
                                            size_t nn)
{
    (void)nodes;
    (void)nn;
    struct image_state *s = ck_xcalloc(1, sizeof(*s));
    s->names = ck_xcalloc(c->pod->nimages + 1, sizeof(char *));
    s->spread = ck_xcalloc(c->pod->nimages + 1, sizeof(double));
    char buf[1024];
    for (size_t i = 0; i < c->pod->nimages; i++) {
        const char *name = normalized_image(c->pod->images[i], buf, sizeof(buf));
        s->names[s->n] = ck_xstrdup(name);
        s->spread[s->n++] = c->snap->nnodes ? (double)sched_snapshot_image_nodes(c->snap, name) /
                                                  (double)c->snap->nnodes
                                            : 0;
    }
    if (c->state[SCHED_PL_IMAGE_LOCALITY])
        image_state_free(c->state[SCHED_PL_IMAGE_LOCALITY]);
    c->state[SCHED_PL_IMAGE_LOCALITY] = s;
    return NULL;
}

static int64_t image_score(struct sched_cycle *c, const struct sched_node_info *ni)
{
    const struct image_state *s = c->state[SCHED_PL_IMAGE_LOCALITY];
    if (!ni->node || !s)
        return 0;
    int64_t sum = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct sched_image *img = ck_strmap_get(&ni->node->images, s->names[i]);
        if (img)
            sum += (int64_t)((double)img->size * s->spread[i]);
    }
    int64_t max = MAX_CONTAINER_THRESHOLD * (int64_t)c->pod->nimages;
    if (sum < MIN_THRESHOLD)
        sum = MIN_THRESHOLD;
    else if (sum > max)
        sum = max;
    if (max <= MIN_THRESHOLD)
        return 0;
    return SCHED_MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max - MIN_THRESHOLD);
}

const struct sched_plugin sched_plugin_image_locality = {
    .name = "ImageLocality",
    .id = SCHED_PL_IMAGE_LOCALITY,
    .default_weight = 1,
    .pre_score = image_pre_score,
    .score = image_score,
    .state_clone = image_state_clone,
    .state_free = image_state_free,
};
