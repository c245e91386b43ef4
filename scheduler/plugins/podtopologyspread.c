/* podtopologyspread.c - the PodTopologySpread plugin as upstream's
 * pkg/scheduler/framework/plugins/podtopologyspread (v1.32).
 *
 * DoNotSchedule constraints filter: for every constraint the node's domain count of matching
 * pods, plus one when the pod matches its own selector, minus the global minimum (0 when fewer
 * than minDomains domains exist) must not exceed maxSkew; a node without the topology label
 * fails as unresolvable. Domains are counted over nodes that carry every constraint's key and
 * pass the inclusion policies (nodeAffinityPolicy Honor and nodeTaintsPolicy Ignore by
 * default). matchLabelKeys add the pod's own label values to the selector.
 * ScheduleAnyway constraints score (fewer matching pods in the domain is better, weighted by
 * log(domains + 2)); without constraints of its own a pod gets the system defaults (hostname
 * maxSkew 3, zone maxSkew 5, ScheduleAnyway) when the handle gives a default selector (the
 * Services / ReplicaSets / StatefulSets / RCs selecting it). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "scheduler/plugins/plugins.h"

#define LABEL_HOSTNAME "kubernetes.io/hostname"
#define LABEL_ZONE "topology.kubernetes.io/zone"

struct tsc {
    int32_t max_skew;
    const char *key; /* borrowed from the pod, or static */
    struct ck_label_selector *sel;
    int32_t min_domains;
    bool affinity_honor, taints_honor;
};

struct pts_state {
    struct tsc *hard;
    size_t nhard;
    struct ck_strmap *counts; /* per hard constraint: domain value -> count (intptr_t) */
    int64_t *min;             /* per hard constraint, valid when !dirty */
    bool dirty;
    struct tsc *soft;
    size_t nsoft;
    struct ck_strmap ignored;     /* node names not scored */
    struct ck_strmap pair_counts; /* "key\1value" -> count (intptr_t) */
    double *weights;
};

int64_t sched_count_pods_matching(const struct sched_node_info *ni,
                                  const struct ck_label_selector *sel, const char *ns)
{
    if (ck_label_selector_empty(sel))
        return 0;
    int64_t n = 0;
    for (size_t i = 0; i < ni->npods; i++) {
        const struct sched_pod *p = ni->pods[i];
        if (!p->terminating && strcmp(p->ns, ns) == 0 && ck_label_selector_matches(sel, p->labels))
            n++;
    }
    return n;
}

static void tsc_free(struct tsc *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_label_selector_free(t[i].sel);
    free(t);
}

static struct tsc *tsc_dup(const struct tsc *t, size_t n)
{
    if (!n)
        return NULL;
    struct tsc *d = ck_xcalloc(n, sizeof(*d));
    for (size_t i = 0; i < n; i++) {
        d[i] = t[i];
        d[i].sel = ck_label_selector_dup(t[i].sel);
    }
    return d;
}

static void copy_entry(const char *key, void *value, void *ctx)
{
    ck_strmap_put(ctx, key, value);
}

static void *pts_clone(const void *p)
{
    const struct pts_state *s = p;
    struct pts_state *d = ck_xcalloc(1, sizeof(*d));
    d->nhard = s->nhard;
    d->hard = tsc_dup(s->hard, s->nhard);
    d->dirty = true;
    if (s->nhard) {
        d->counts = ck_xcalloc(s->nhard, sizeof(*d->counts));
        d->min = ck_xcalloc(s->nhard, sizeof(*d->min));
        for (size_t i = 0; i < s->nhard; i++)
            ck_strmap_each(&s->counts[i], copy_entry, &d->counts[i]);
    }
    d->nsoft = s->nsoft;
    d->soft = tsc_dup(s->soft, s->nsoft);
    ck_strmap_each(&s->ignored, copy_entry, &d->ignored);
    ck_strmap_each(&s->pair_counts, copy_entry, &d->pair_counts);
    if (s->nsoft) {
        d->weights = ck_xcalloc(s->nsoft, sizeof(double));
        memcpy(d->weights, s->weights, s->nsoft * sizeof(double));
    }
    return d;
}

static void pts_free(void *p)
{
    struct pts_state *s = p;
    for (size_t i = 0; i < s->nhard; i++)
        ck_strmap_free(&s->counts[i], NULL);
    free(s->counts);
    free(s->min);
    tsc_free(s->hard, s->nhard);
    tsc_free(s->soft, s->nsoft);
    ck_strmap_free(&s->ignored, NULL);
    ck_strmap_free(&s->pair_counts, NULL);
    free(s->weights);
    free(s);
}

static struct pts_state *state_of(struct sched_cycle *c)
{
    if (!c->state[SCHED_PL_POD_TOPOLOGY_SPREAD])
        c->state[SCHED_PL_POD_TOPOLOGY_SPREAD] = ck_xcalloc(1, sizeof(struct pts_state));
    return c->state[SCHED_PL_POD_TOPOLOGY_SPREAD];
}

/* upstream filterTopologySpreadConstraints for one whenUnsatisfiable action. */
static int build(const struct sched_pod *pod, const char *when, struct tsc **out, size_t *n,
                 struct ck_error *err)
{
    const cJSON *arr = ck_json_get(pod->obj, "spec.topologySpreadConstraints"), *c;
    *out = NULL;
    *n = 0;
    cJSON_ArrayForEach(c, arr)
    {
        if (strcmp(ck_json_get_string(c, "whenUnsatisfiable", ""), when) != 0)
            continue;
        struct tsc t = {0};
        if (ck_label_selector_from_json(ck_json_get(c, "labelSelector"), &t.sel, err) < 0) {
            tsc_free(*out, *n);
            *out = NULL;
            *n = 0;
            return -EINVAL;
        }
        const cJSON *k;
        cJSON_ArrayForEach(k, ck_json_get(c, "matchLabelKeys"))
        {
            const cJSON *v = cJSON_IsString(k) && pod->labels
                                 ? cJSON_GetObjectItemCaseSensitive(pod->labels, k->valuestring)
                                 : NULL;
            if (cJSON_IsString(v)) {
                const char *vals[1] = {v->valuestring};
                ck_label_selector_add(t.sel, k->valuestring, CK_SEL_IN, vals, 1, NULL);
            }
        }
        t.max_skew = (int32_t)ck_json_get_int64(c, "maxSkew", 1);
        t.key = ck_json_get_string(c, "topologyKey", "");
        t.min_domains = (int32_t)ck_json_get_int64(c, "minDomains", 1);
        t.affinity_honor = strcmp(ck_json_get_string(c, "nodeAffinityPolicy", "Honor"), "Ignore");
        t.taints_honor = strcmp(ck_json_get_string(c, "nodeTaintsPolicy", "Ignore"), "Honor") == 0;
        *out = ck_xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = t;
    }
    return 0;
}

static void build_defaults(struct sched_cycle *c, struct tsc **out, size_t *n)
{
    const struct sched_handle *h = &c->fw->handle;
    *out = NULL;
    *n = 0;
    if (!c->fw->spread_system_defaulted || !h->default_spread_selector)
        return;
    struct ck_label_selector *sel = h->default_spread_selector(h->ctx, c->pod);
    if (!sel || ck_label_selector_empty(sel) || sel->nothing) {
        ck_label_selector_free(sel);
        return;
    }
    *out = ck_xcalloc(2, sizeof(**out));
    (*out)[0] = (struct tsc){3, LABEL_HOSTNAME, sel, 1, true, false};
    (*out)[1] = (struct tsc){5, LABEL_ZONE, ck_label_selector_dup(sel), 1, true, false};
    *n = 2;
}

static bool has_all_keys(const struct sched_node *node, const struct tsc *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!sched_node_label(node, t[i].key))
            return false;
    return true;
}

/* upstream matchNodeInclusionPolicies; *aff caches the node-affinity verdict (-1 unknown). */
static bool included(const struct tsc *t, const struct sched_pod *pod, const struct sched_node *n,
                     int *aff)
{
    if (t->affinity_honor) {
        if (*aff < 0)
            *aff = sched_node_affinity_required_matches(pod, n);
        if (!*aff)
            return false;
    }
    if (t->taints_honor &&
        sched_find_untolerated_taint(n->taints, n->ntaints, pod->tols, pod->ntols,
                                     SCHED_EFFECT_NO_SCHEDULE | SCHED_EFFECT_NO_EXECUTE))
        return false;
    return true;
}

static void count_add(struct ck_strmap *m, const char *v, intptr_t d)
{
    ck_strmap_put(m, v, (void *)((intptr_t)ck_strmap_get(m, v) + d));
}

static struct sched_status *pts_pre_filter(struct sched_cycle *c, struct sched_prefilter_result *r)
{
    (void)r;
    struct pts_state *s = state_of(c);
    struct ck_error err = CK_ERROR_INIT;
    if (cJSON_GetArraySize(ck_json_get(c->pod->obj, "spec.topologySpreadConstraints")) > 0 &&
        build(c->pod, "DoNotSchedule", &s->hard, &s->nhard, &err) < 0) {
        struct sched_status *st = sched_status_newf(
            SCHED_ERROR, "obtaining pod's hard topology spread constraints: %s", err.message);
        ck_error_clear(&err);
        return st;
    }
    if (s->nhard == 0)
        return sched_status_new(SCHED_SKIP, NULL);
    s->counts = ck_xcalloc(s->nhard, sizeof(*s->counts));
    s->min = ck_xcalloc(s->nhard, sizeof(*s->min));
    s->dirty = true;
    for (size_t i = 0; i < c->snap->nnodes; i++) {
        const struct sched_node_info *ni = c->snap->nodes[i];
        if (!ni->node || !has_all_keys(ni->node, s->hard, s->nhard))
            continue;
        int aff = -1;
        for (size_t j = 0; j < s->nhard; j++) {
            if (!included(&s->hard[j], c->pod, ni->node, &aff))
                continue;
            count_add(&s->counts[j], sched_node_label(ni->node, s->hard[j].key),
                      (intptr_t)sched_count_pods_matching(ni, s->hard[j].sel, c->pod->ns));
        }
    }
    return NULL;
}

static void update_with_pod(struct sched_cycle *c, const struct sched_pod *p,
                            const struct sched_node_info *ni, intptr_t d)
{
    struct pts_state *s = state_of(c);
    if (!s->nhard || !ni->node || strcmp(p->ns, c->pod->ns) != 0 ||
        !has_all_keys(ni->node, s->hard, s->nhard))
        return;
    int aff = -1;
    for (size_t j = 0; j < s->nhard; j++) {
        if (!ck_label_selector_matches(s->hard[j].sel, p->labels) ||
            !included(&s->hard[j], c->pod, ni->node, &aff))
            continue;
        count_add(&s->counts[j], sched_node_label(ni->node, s->hard[j].key), d);
        s->dirty = true;
    }
}

static void pts_add_pod(struct sched_cycle *c, const struct sched_pod *p,
                        const struct sched_node_info *ni)
{
    update_with_pod(c, p, ni, 1);
}

static void pts_remove_pod(struct sched_cycle *c, const struct sched_pod *p,
                           const struct sched_node_info *ni)
{
    update_with_pod(c, p, ni, -1);
}

struct min_ctx {
    int64_t min;
};

static void min_of(const char *key, void *value, void *ctx)
{
    (void)key;
    struct min_ctx *m = ctx;
    if ((intptr_t)value < m->min)
        m->min = (intptr_t)value;
}

static struct sched_status *pts_filter(struct sched_cycle *c, const struct sched_node_info *ni)
{
    struct pts_state *s = state_of(c);
    if (!ni->node || s->nhard == 0)
        return NULL;
    if (s->dirty) {
        for (size_t j = 0; j < s->nhard; j++) {
            struct min_ctx m = {INT32_MAX};
            ck_strmap_each(&s->counts[j], min_of, &m);
            s->min[j] = m.min;
        }
        s->dirty = false;
    }
    for (size_t j = 0; j < s->nhard; j++) {
        const struct tsc *t = &s->hard[j];
        const char *v = sched_node_label(ni->node, t->key);
        if (!v)
            return sched_status_new(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE,
                                    SCHED_REASON_SPREAD_LABEL);
        int64_t min = s->min[j];
        if ((int64_t)s->counts[j].len < t->min_domains)
            min = 0;
        int64_t self = ck_label_selector_matches(t->sel, c->pod->labels) ? 1 : 0;
        int64_t skew = (intptr_t)ck_strmap_get(&s->counts[j], v) + self - min;
        if (skew > t->max_skew)
            return sched_status_new(SCHED_UNSCHEDULABLE, SCHED_REASON_SPREAD);
    }
    return NULL;
}

/* ---- scoring ---- */

static struct sched_status *pts_pre_score(struct sched_cycle *c, struct sched_node_info **nodes,
                                          size_t n)
{
    struct pts_state *s = state_of(c);
    if (n == 0 || c->snap->nnodes == 0)
        return sched_status_new(SCHED_SKIP, NULL);
    bool own = cJSON_GetArraySize(ck_json_get(c->pod->obj, "spec.topologySpreadConstraints")) > 0;
    bool require_all = own || !c->fw->spread_system_defaulted;
    struct ck_error err = CK_ERROR_INIT;
    if (own) {
        if (build(c->pod, "ScheduleAnyway", &s->soft, &s->nsoft, &err) < 0) {
            struct sched_status *st = sched_status_newf(
                SCHED_ERROR, "obtaining pod's soft topology spread constraints: %s", err.message);
            ck_error_clear(&err);
            return st;
        }
    } else {
        build_defaults(c, &s->soft, &s->nsoft);
    }
    if (s->nsoft == 0)
        return sched_status_new(SCHED_SKIP, NULL);
    size_t *sizes = ck_xcalloc(s->nsoft, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        const struct sched_node *node = nodes[i]->node;
        if (require_all && !has_all_keys(node, s->soft, s->nsoft)) {
            ck_strmap_put(&s->ignored, nodes[i]->name, (void *)1);
            continue;
        }
        for (size_t j = 0; j < s->nsoft; j++) {
            if (strcmp(s->soft[j].key, LABEL_HOSTNAME) == 0)
                continue;
            const char *v = sched_node_label(node, s->soft[j].key);
            char *pair = sched_topology_pair(s->soft[j].key, v ? v : "");
            if (!ck_strmap_get(&s->pair_counts, pair)) {
                /* stored as count + 1 so that a present pair is never NULL */
                ck_strmap_put(&s->pair_counts, pair, (void *)1);
                sizes[j]++;
            }
            free(pair);
        }
    }
    s->weights = ck_xcalloc(s->nsoft, sizeof(double));
    for (size_t j = 0; j < s->nsoft; j++) {
        size_t sz = sizes[j];
        if (strcmp(s->soft[j].key, LABEL_HOSTNAME) == 0)
            sz = n - s->ignored.len;
        s->weights[j] = log((double)sz + 2);
    }
    free(sizes);
    for (size_t i = 0; i < c->snap->nnodes; i++) {
        const struct sched_node_info *ni = c->snap->nodes[i];
        if (!ni->node || (require_all && !has_all_keys(ni->node, s->soft, s->nsoft)))
            continue;
        int aff = -1;
        for (size_t j = 0; j < s->nsoft; j++) {
            if (!included(&s->soft[j], c->pod, ni->node, &aff))
                continue;
            const char *v = sched_node_label(ni->node, s->soft[j].key);
            char *pair = sched_topology_pair(s->soft[j].key, v ? v : "");
            intptr_t cur = (intptr_t)ck_strmap_get(&s->pair_counts, pair);
            if (cur)
                ck_strmap_put(&s->pair_counts, pair,
                              (void *)(cur + (intptr_t)sched_count_pods_matching(ni, s->soft[j].sel,
                                                                                 c->pod->ns)));
            free(pair);
        }
    }
    return NULL;
}

static int64_t pts_score(struct sched_cycle *c, const struct sched_node_info *ni)
{
    struct pts_state *s = state_of(c);
    if (ck_strmap_get(&s->ignored, ni->name))
        return 0;
    double score = 0;
    for (size_t j = 0; j < s->nsoft; j++) {
        const char *v = sched_node_label(ni->node, s->soft[j].key);
        if (!v)
            continue;
        int64_t cnt;
        if (strcmp(s->soft[j].key, LABEL_HOSTNAME) == 0) {
            cnt = sched_count_pods_matching(ni, s->soft[j].sel, c->pod->ns);
        } else {
            char *pair = sched_topology_pair(s->soft[j].key, v);
            intptr_t stored = (intptr_t)ck_strmap_get(&s->pair_counts, pair);
            free(pair);
            cnt = stored ? stored - 1 : 0;
        }
        score += (double)cnt * s->weights[j] + (double)(s->soft[j].max_skew - 1);
    }
    return (int64_t)llround(score);
}

static void pts_normalize(struct sched_cycle *c, struct sched_node_score *sc, size_t n)
{
    struct pts_state *s = state_of(c);
    int64_t min = INT64_MAX, max = 0;
    for (size_t i = 0; i < n; i++) {
        if (ck_strmap_get(&s->ignored, sc[i].ni->name)) {
            sc[i].score = -1;
            continue;
        }
        if (sc[i].score < min)
            min = sc[i].score;
        if (sc[i].score > max)
            max = sc[i].score;
    }
    for (size_t i = 0; i < n; i++) {
        if (sc[i].score == -1) {
            sc[i].score = 0;
            continue;
        }
        if (max == 0) {
            sc[i].score = SCHED_MAX_NODE_SCORE;
            continue;
        }
        sc[i].score = SCHED_MAX_NODE_SCORE * (max + min - sc[i].score) / max;
    }
}

static enum sched_hint pts_hint(const struct sched_pod *pod, const struct sched_event *ev)
{
    if (ev->resource == SCHED_RES_ASSIGNED_POD) {
        const struct sched_pod *p = ev->new_pod ? ev->new_pod : ev->old_pod;
        return p && strcmp(p->ns, pod->ns) == 0 ? SCHED_HINT_QUEUE : SCHED_HINT_SKIP;
    }
    return SCHED_HINT_QUEUE;
}

const struct sched_plugin sched_plugin_pod_topology_spread = {
    .name = "PodTopologySpread",
    .id = SCHED_PL_POD_TOPOLOGY_SPREAD,
    .default_weight = 2,
    .pre_filter = pts_pre_filter,
    .add_pod = pts_add_pod,
    .remove_pod = pts_remove_pod,
    .filter = pts_filter,
    .pre_score = pts_pre_score,
    .score = pts_score,
    .normalize = pts_normalize,
    .state_clone = pts_clone,
    .state_free = pts_free,
    .events = {{SCHED_RES_ASSIGNED_POD,
                SCHED_ACT_ADD | SCHED_ACT_UPDATE_POD_LABEL | SCHED_ACT_DELETE},
               {SCHED_RES_NODE, SCHED_ACT_ADD | SCHED_ACT_DELETE | SCHED_ACT_UPDATE_NODE_LABEL |
                                    SCHED_ACT_UPDATE_NODE_TAINT}},
    .hint = pts_hint,
};
