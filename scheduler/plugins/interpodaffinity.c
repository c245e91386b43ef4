/* interpodaffinity.c - the InterPodAffinity plugin as upstream's
 * pkg/scheduler/framework/plugins/interpodaffinity (v1.32).
 *
 * PreFilter counts, per topology pair (key, value):
 *   - existing pods' required anti-affinity terms that match the incoming pod (symmetry),
 *   - existing pods matching all of the incoming pod's required affinity terms,
 *   - existing pods matching each of the incoming pod's required anti-affinity terms;
 * Filter then checks the node's pairs against those counts (with upstream's exception for the
 * first pod of a group that has affinity to itself). AddPod/RemovePod keep the counts right for
 * preemption. PreScore sums preferred terms of both sides (and existing pods' required
 * affinity with the hard weight, default 1) per topology pair; Score adds the node's pairs;
 * NormalizeScore scales min..max to 0..100.
 *
 * namespaceSelector is evaluated through the handle's namespace-labels lookup instead of
 * upstream's merge of selected namespaces into the term: the result is the same. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "scheduler/plugins/plugins.h"

char *sched_topology_pair(const char *key, const char *value)
{
    return ck_xasprintf("%s\x01%s", key, value);
}

struct ipa_state {
    struct ck_strmap existing_anti; /* pair -> count (intptr_t) */
    struct ck_strmap affinity;
    struct ck_strmap anti;
    /* scoring */
    struct ck_strmap scores; /* pair -> score (intptr_t) */
    char **keys;             /* distinct topology keys in `scores` */
    size_t nkeys;
};

static intptr_t map_get(const struct ck_strmap *m, const char *k, const char *v)
{
    char buf[512];
    char *key = buf;
    if (snprintf(buf, sizeof(buf), "%s\x01%s", k, v) >= (int)sizeof(buf))
        key = sched_topology_pair(k, v);
    intptr_t r = (intptr_t)ck_strmap_get(m, key);
    if (key != buf)
        free(key);
    return r;
}

static void map_add(struct ck_strmap *m, const char *k, const char *v, intptr_t delta)
{
    char *key = sched_topology_pair(k, v);
    intptr_t n = (intptr_t)ck_strmap_get(m, key) + delta;
    if (n == 0)
        ck_strmap_remove(m, key);
    else
        ck_strmap_put(m, key, (void *)n);
    free(key);
}

static void copy_entry(const char *key, void *value, void *ctx)
{
    ck_strmap_put(ctx, key, value);
}

static void *ipa_clone(const void *p)
{
    const struct ipa_state *s = p;
    struct ipa_state *d = ck_xcalloc(1, sizeof(*d));
    ck_strmap_each(&s->existing_anti, copy_entry, &d->existing_anti);
    ck_strmap_each(&s->affinity, copy_entry, &d->affinity);
    ck_strmap_each(&s->anti, copy_entry, &d->anti);
    ck_strmap_each(&s->scores, copy_entry, &d->scores);
    d->nkeys = s->nkeys;
    d->keys = s->nkeys ? ck_xcalloc(s->nkeys, sizeof(char *)) : NULL;
    for (size_t i = 0; i < s->nkeys; i++)
        d->keys[i] = ck_xstrdup(s->keys[i]);
    return d;
}

static void ipa_free(void *p)
{
    struct ipa_state *s = p;
    ck_strmap_free(&s->existing_anti, NULL);
    ck_strmap_free(&s->affinity, NULL);
    ck_strmap_free(&s->anti, NULL);
    ck_strmap_free(&s->scores, NULL);
    for (size_t i = 0; i < s->nkeys; i++)
        free(s->keys[i]);
    free(s->keys);
    free(s);
}

static struct ipa_state *state_of(struct sched_cycle *c)
{
    if (!c->state[SCHED_PL_INTER_POD_AFFINITY])
        c->state[SCHED_PL_INTER_POD_AFFINITY] = ck_xcalloc(1, sizeof(struct ipa_state));
    return c->state[SCHED_PL_INTER_POD_AFFINITY];
}

/* Labels of the namespace of `p` when a term needs them (ns selectors), else NULL. */
static const cJSON *ns_labels_of(struct sched_cycle *c, const struct sched_pod *p,
                                 const struct sched_affinity_term *t)
{
    if (!t->ns_selector || t->ns_selector->nothing)
        return NULL;
    if (strcmp(p->ns, c->pod->ns) == 0)
        return c->ns_labels;
    const struct sched_handle *h = &c->fw->handle;
    return h->namespace_labels ? h->namespace_labels(h->ctx, p->ns) : NULL;
}

static bool term_matches_pod(struct sched_cycle *c, const struct sched_affinity_term *t,
                             const struct sched_pod *p)
{
    return sched_term_matches(t, p->ns, p->labels, ns_labels_of(c, p, t));
}

static bool matches_all_affinity_terms(struct sched_cycle *c, const struct sched_pod *p)
{
    if (c->pod->nreq_aff == 0)
        return false;
    for (size_t i = 0; i < c->pod->nreq_aff; i++)
        if (!term_matches_pod(c, &c->pod->req_aff[i], p))
            return false;
    return true;
}

/* upstream preFilterState.updateWithPod: counts for existing pod `p` on `node` change by d. */
static void update_with_pod(struct sched_cycle *c, struct ipa_state *s, const struct sched_pod *p,
                            const struct sched_node *node, intptr_t d)
{
    const struct sched_pod *in = c->pod;
    for (size_t i = 0; i < p->nreq_anti; i++) {
        const struct sched_affinity_term *t = &p->req_anti[i];
        const char *v = sched_node_label(node, t->topology_key);
        if (v && sched_term_matches(t, in->ns, in->labels, c->ns_labels))
            map_add(&s->existing_anti, t->topology_key, v, d);
    }
    if (matches_all_affinity_terms(c, p)) {
        for (size_t i = 0; i < in->nreq_aff; i++) {
            const char *v = sched_node_label(node, in->req_aff[i].topology_key);
            if (v)
                map_add(&s->affinity, in->req_aff[i].topology_key, v, d);
        }
    }
    for (size_t i = 0; i < in->nreq_anti; i++) {
        const struct sched_affinity_term *t = &in->req_anti[i];
        const char *v = sched_node_label(node, t->topology_key);
        if (v && term_matches_pod(c, t, p))
            map_add(&s->anti, t->topology_key, v, d);
    }
}

static struct sched_status *ipa_pre_filter(struct sched_cycle *c, struct sched_prefilter_result *r)
{
    (void)r;
    const struct sched_pod *in = c->pod;
    if (in->parse_error)
        return sched_status_newf(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE, "parsing pod: %s",
                                 in->parse_error);
    struct ipa_state *s = state_of(c);
    bool incoming = in->nreq_aff || in->nreq_anti;
    for (size_t i = 0; i < c->snap->nnodes; i++) {
        const struct sched_node_info *ni = c->snap->nodes[i];
        if (!ni->node || (!incoming && ni->nreq_anti == 0))
            continue;
        for (size_t j = 0; j < ni->npods; j++) {
            const struct sched_pod *p = ni->pods[j];
            if (!incoming && p->nreq_anti == 0)
                continue;
            update_with_pod(c, s, p, ni->node, 1);
        }
    }
    if (s->existing_anti.len == 0 && !incoming)
        return sched_status_new(SCHED_SKIP, NULL);
    return NULL;
}

static void ipa_add_pod(struct sched_cycle *c, const struct sched_pod *p,
                        const struct sched_node_info *ni)
{
    if (ni->node)
        update_with_pod(c, state_of(c), p, ni->node, 1);
}

static void ipa_remove_pod(struct sched_cycle *c, const struct sched_pod *p,
                           const struct sched_node_info *ni)
{
    if (ni->node)
        update_with_pod(c, state_of(c), p, ni->node, -1);
}

static bool satisfy_affinity(struct sched_cycle *c, struct ipa_state *s, const struct sched_node *n)
{
    bool exist = true;
    for (size_t i = 0; i < c->pod->nreq_aff; i++) {
        const char *k = c->pod->req_aff[i].topology_key, *v = sched_node_label(n, k);
        if (!v)
            return false; /* every topology label must exist on the node */
        if (map_get(&s->affinity, k, v) <= 0)
            exist = false;
    }
    if (exist)
        return true;
    /* the first pod of a series with affinity to itself */
    if (s->affinity.len == 0 && matches_all_affinity_terms(c, c->pod))
        return true;
    return false;
}

static struct sched_status *ipa_filter(struct sched_cycle *c, const struct sched_node_info *ni)
{
    struct ipa_state *s = state_of(c);
    const struct sched_node *n = ni->node;
    if (!n)
        return NULL;
    if (!satisfy_affinity(c, s, n))
        return sched_status_new(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE, SCHED_REASON_POD_AFFINITY);
    if (s->anti.len > 0) {
        for (size_t i = 0; i < c->pod->nreq_anti; i++) {
            const char *k = c->pod->req_anti[i].topology_key, *v = sched_node_label(n, k);
            if (v && map_get(&s->anti, k, v) > 0)
                return sched_status_new(SCHED_UNSCHEDULABLE, SCHED_REASON_POD_ANTI_AFFINITY);
        }
    }
    if (s->existing_anti.len > 0) {
        const cJSON *l;
        cJSON_ArrayForEach(l, n->labels)
        {
            if (cJSON_IsString(l) && map_get(&s->existing_anti, l->string, l->valuestring) > 0)
                return sched_status_new(SCHED_UNSCHEDULABLE, SCHED_REASON_EXISTING_ANTI_AFFINITY);
        }
    }
    return NULL;
}

/* ---- scoring ---- */

static void score_add(struct ipa_state *s, const char *k, const char *v, intptr_t d)
{
    bool known = false;
    for (size_t i = 0; i < s->nkeys && !known; i++)
        known = strcmp(s->keys[i], k) == 0;
    if (!known) {
        s->keys = ck_xrealloc(s->keys, (s->nkeys + 1) * sizeof(char *));
        s->keys[s->nkeys++] = ck_xstrdup(k);
    }
    char *key = sched_topology_pair(k, v);
    ck_strmap_put(&s->scores, key, (void *)((intptr_t)ck_strmap_get(&s->scores, key) + d));
    free(key);
}

/* upstream scoreMap.processTerms over one side's terms matched against the other side's pod. */
static void process_terms(struct sched_cycle *c, struct ipa_state *s,
                          const struct sched_affinity_term *terms, size_t n, int32_t hard_weight,
                          const struct sched_pod *target, const cJSON *target_ns_labels,
                          const struct sched_node *node, int mult)
{
    for (size_t i = 0; i < n; i++) {
        const struct sched_affinity_term *t = &terms[i];
        const cJSON *nsl = target == c->pod ? target_ns_labels : ns_labels_of(c, target, t);
        if (!sched_term_matches(t, target->ns, target->labels, nsl))
            continue;
        const char *v = sched_node_label(node, t->topology_key);
        if (v)
            score_add(s, t->topology_key, v,
                      (intptr_t)(hard_weight ? hard_weight : t->weight) * mult);
    }
}

static struct sched_status *ipa_pre_score(struct sched_cycle *c, struct sched_node_info **nodes,
                                          size_t nn)
{
    (void)nodes;
    (void)nn;
    const struct sched_pod *in = c->pod;
    if (in->parse_error)
        return sched_status_newf(SCHED_ERROR, "failed to parse pod: %s", in->parse_error);
    struct ipa_state *s = state_of(c);
    bool constraints = in->npref_aff || in->npref_anti;
    for (size_t i = 0; i < c->snap->nnodes; i++) {
        const struct sched_node_info *ni = c->snap->nodes[i];
        const struct sched_node *node = ni->node;
        if (!node || (!constraints && !ni->naffinity) || !node->labels || !node->labels->child)
            continue;
        for (size_t j = 0; j < ni->npods; j++) {
            const struct sched_pod *p = ni->pods[j];
            if (!constraints && !p->has_affinity)
                continue;
            process_terms(c, s, in->pref_aff, in->npref_aff, 0, p, NULL, node, 1);
            process_terms(c, s, in->pref_anti, in->npref_anti, 0, p, NULL, node, -1);
            if (c->fw->hard_pod_affinity_weight > 0)
                process_terms(c, s, p->req_aff, p->nreq_aff, c->fw->hard_pod_affinity_weight, in,
                              c->ns_labels, node, 1);
            process_terms(c, s, p->pref_aff, p->npref_aff, 0, in, c->ns_labels, node, 1);
            process_terms(c, s, p->pref_anti, p->npref_anti, 0, in, c->ns_labels, node, -1);
        }
    }
    if (s->scores.len == 0)
        return sched_status_new(SCHED_SKIP, NULL);
    return NULL;
}

static int64_t ipa_score(struct sched_cycle *c, const struct sched_node_info *ni)
{
    struct ipa_state *s = state_of(c);
    int64_t sum = 0;
    for (size_t i = 0; i < s->nkeys; i++) {
        const char *v = sched_node_label(ni->node, s->keys[i]);
        if (v)
            sum += map_get(&s->scores, s->keys[i], v);
    }
    return sum;
}

static void ipa_normalize(struct sched_cycle *c, struct sched_node_score *sc, size_t n)
{
    (void)c;
    int64_t min = INT64_MAX, max = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (sc[i].score > max)
            max = sc[i].score;
        if (sc[i].score < min)
            min = sc[i].score;
    }
    int64_t diff = max - min;
    for (size_t i = 0; i < n; i++) {
        double f = 0;
        if (diff > 0)
            f = (double)SCHED_MAX_NODE_SCORE * ((double)(sc[i].score - min) / (double)diff);
        sc[i].score = (int64_t)f;
    }
}

static enum sched_hint ipa_hint(const struct sched_pod *pod, const struct sched_event *ev)
{
    (void)pod;
    (void)ev;
    return SCHED_HINT_QUEUE;
}

const struct sched_plugin sched_plugin_inter_pod_affinity = {
    .name = "InterPodAffinity",
    .id = SCHED_PL_INTER_POD_AFFINITY,
    .default_weight = 2,
    .pre_filter = ipa_pre_filter,
    .add_pod = ipa_add_pod,
    .remove_pod = ipa_remove_pod,
    .filter = ipa_filter,
    .pre_score = ipa_pre_score,
    .score = ipa_score,
    .normalize = ipa_normalize,
    .state_clone = ipa_clone,
    .state_free = ipa_free,
    .events = {{SCHED_RES_ASSIGNED_POD,
                SCHED_ACT_ADD | SCHED_ACT_UPDATE_POD_LABEL | SCHED_ACT_DELETE},
               {SCHED_RES_NODE, SCHED_ACT_ADD | SCHED_ACT_UPDATE_NODE_LABEL}},
    .hint = ipa_hint,
};
