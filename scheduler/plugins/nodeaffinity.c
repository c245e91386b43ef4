/* nodeaffinity.c - the NodeAffinity plugin as upstream's
 * pkg/scheduler/framework/plugins/nodeaffinity and component-helpers' nodeaffinity package:
 * spec.nodeSelector plus requiredDuringScheduling node selector terms (ORed; expressions and
 * fields ANDed inside a term; operators In, NotIn, Exists, DoesNotExist, Gt, Lt; matchFields on
 * metadata.name with In/NotIn), a PreFilter that narrows the nodes to the names matchFields
 * pins, and preferred terms summed by weight for scoring. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "scheduler/plugins/plugins.h"

/* Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, nothing else. */
static bool parse_int64(const char *s, int64_t *out)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!*p)
        return false;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if ((!neg && v > INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* One NodeSelectorRequirement against a label (or field) value; value NULL = absent. */
static bool requirement_matches(const cJSON *req, const char *value, bool field, bool *ok)
{
    const char *op = ck_json_get_string(req, "operator", "");
    const cJSON *vals = ck_json_get(req, "values");
    int nv = cJSON_IsArray(vals) ? cJSON_GetArraySize(vals) : 0;
    bool in = strcmp(op, "In") == 0, notin = strcmp(op, "NotIn") == 0;
    if (in || notin) {
        if (nv == 0 || (field && nv != 1)) {
            *ok = false;
            return false;
        }
        bool found = false;
        const cJSON *v;
        cJSON_ArrayForEach(v, vals) if (value && cJSON_IsString(v) &&
                                        strcmp(v->valuestring, value) == 0) found = true;
        return in ? found : !found;
    }
    if (field) {
        *ok = false;
        return false;
    }
    if (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0) {
        if (nv != 0) {
            *ok = false;
            return false;
        }
        return (op[0] == 'E') == (value != NULL);
    }
    if (strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0) {
        int64_t want, have;
        const char *w = nv == 1 ? ck_json_as_string(cJSON_GetArrayItem(vals, 0), NULL) : NULL;
        if (!w || !parse_int64(w, &want)) {
            *ok = false;
            return false;
        }
        if (!value || !parse_int64(value, &have))
            return false;
        return op[0] == 'G' ? have > want : have < want;
    }
    *ok = false;
    return false;
}

bool sched_node_selector_term_matches(const cJSON *term, const struct sched_node *node, bool *ok)
{
    const cJSON *exprs = ck_json_get(term, "matchExpressions");
    const cJSON *fields = ck_json_get(term, "matchFields");
    bool term_ok = true, match = true;
    if (cJSON_GetArraySize(exprs) == 0 && cJSON_GetArraySize(fields) == 0)
        return false;
    const cJSON *r;
    cJSON_ArrayForEach(r, exprs)
    {
        const char *key = ck_json_get_string(r, "key", "");
        if (!requirement_matches(r, sched_node_label(node, key), false, &term_ok))
            match = false;
    }
    cJSON_ArrayForEach(r, fields)
    {
        if (strcmp(ck_json_get_string(r, "key", ""), "metadata.name") != 0) {
            term_ok = false;
            continue;
        }
        if (!requirement_matches(r, node->name, true, &term_ok))
            match = false;
    }
    if (ok && !term_ok)
        *ok = false;
    return term_ok && match;
}

static const cJSON *required_terms(const struct sched_pod *pod)
{
    return ck_json_get(pod->obj,
                       "spec.affinity.nodeAffinity."
                       "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
}

bool sched_node_affinity_required_matches(const struct sched_pod *pod,
                                          const struct sched_node *node)
{
    if (!node)
        return false;
    const cJSON *sel = ck_json_get(pod->obj, "spec.nodeSelector"), *kv;
    cJSON_ArrayForEach(kv, sel)
    {
        const char *have = sched_node_label(node, kv->string);
        if (!have || !cJSON_IsString(kv) || strcmp(have, kv->valuestring) != 0)
            return false;
    }
    const cJSON *req = ck_json_get(pod->obj, "spec.affinity.nodeAffinity."
                                             "requiredDuringSchedulingIgnoredDuringExecution");
    if (!req || cJSON_IsNull(req))
        return true;
    const cJSON *term;
    cJSON_ArrayForEach(term, ck_json_get(req, "nodeSelectorTerms"))
    {
        if (sched_node_selector_term_matches(term, node, NULL))
            return true;
    }
    return false;
}

static bool has_required(const struct sched_pod *pod)
{
    const cJSON *req = ck_json_get(pod->obj, "spec.affinity.nodeAffinity."
                                             "requiredDuringSchedulingIgnoredDuringExecution");
    return req && !cJSON_IsNull(req);
}

static void names_add(char ***names, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*names)[i], name) == 0)
            return;
    *names = ck_xrealloc(*names, (*n + 1) * sizeof(char *));
    (*names)[(*n)++] = ck_xstrdup(name);
}

/* The names one term pins with matchFields metadata.name In (intersected); false when the term
 * has no such requirement. */
static bool term_names(const cJSON *term, char ***names, size_t *n)
{
    bool any = false;
    const cJSON *r;
    cJSON_ArrayForEach(r, ck_json_get(term, "matchFields"))
    {
        if (strcmp(ck_json_get_string(r, "key", ""), "metadata.name") != 0 ||
            strcmp(ck_json_get_string(r, "operator", ""), "In") != 0)
            continue;
        char **mine = NULL;
        size_t nmine = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, ck_json_get(r, "values")) if (cJSON_IsString(v))
            names_add(&mine, &nmine, v->valuestring);
        if (!any) {
            *names = mine;
            *n = nmine;
            any = true;
            continue;
        }
        size_t k = 0;
        for (size_t i = 0; i < *n; i++) {
            bool keep = false;
            for (size_t j = 0; j < nmine && !keep; j++)
                keep = strcmp((*names)[i], mine[j]) == 0;
            if (keep)
                (*names)[k++] = (*names)[i];
            else
                free((*names)[i]);
        }
        *n = k;
        for (size_t j = 0; j < nmine; j++)
            free(mine[j]);
        free(mine);
    }
    return any;
}

static struct sched_status *affinity_pre_filter(struct sched_cycle *c,
                                                struct sched_prefilter_result *res)
{
    const struct sched_pod *pod = c->pod;
    if (!has_required(pod) && !ck_json_get(pod->obj, "spec.nodeSelector"))
        return sched_status_new(SCHED_SKIP, NULL);
    const cJSON *terms = required_terms(pod), *t;
    if (cJSON_GetArraySize(terms) == 0)
        return NULL;
    char **all = NULL;
    size_t nall = 0;
    cJSON_ArrayForEach(t, terms)
    {
        char **names = NULL;
        size_t n = 0;
        if (!term_names(t, &names, &n)) {
            for (size_t i = 0; i < nall; i++)
                free(all[i]);
            free(all);
            return NULL; /* a term without names: every node may match */
        }
        for (size_t i = 0; i < n; i++) {
            names_add(&all, &nall, names[i]);
            free(names[i]);
        }
        free(names);
    }
    if (nall == 0) {
        free(all);
        return sched_status_new(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE,
                                SCHED_REASON_NODE_AFFINITY_CONFLICT);
    }
    res->all_nodes = false;
    res->names = all;
    res->nnames = nall;
    return NULL;
}

static struct sched_status *affinity_filter(struct sched_cycle *c, const struct sched_node_info *ni)
{
    if (sched_node_affinity_required_matches(c->pod, ni->node))
        return NULL;
    return sched_status_new(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE, SCHED_REASON_NODE_AFFINITY);
}

static const cJSON *preferred_terms(const struct sched_pod *pod)
{
    return ck_json_get(
        pod->obj, "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution");
}

static struct sched_status *affinity_pre_score(struct sched_cycle *c,
                                               struct sched_node_info **nodes, size_t n)
{
    (void)nodes;
    (void)n;
    return cJSON_GetArraySize(preferred_terms(c->pod)) > 0 ? NULL
                                                           : sched_status_new(SCHED_SKIP, NULL);
}

static int64_t affinity_score(struct sched_cycle *c, const struct sched_node_info *ni)
{
    int64_t sum = 0;
    const cJSON *t;
    if (!ni->node)
        return 0;
    cJSON_ArrayForEach(t, preferred_terms(c->pod))
    {
        int64_t w = ck_json_get_int64(t, "weight", 0);
        if (w != 0 &&
            sched_node_selector_term_matches(ck_json_get(t, "preference"), ni->node, NULL))
            sum += w;
    }
    return sum;
}

static void affinity_normalize(struct sched_cycle *c, struct sched_node_score *s, size_t n)
{
    (void)c;
    sched_default_normalize(s, n, false);
}

static enum sched_hint affinity_hint(const struct sched_pod *pod, const struct sched_event *ev)
{
    if (ev->resource == SCHED_RES_NODE && ev->new_node)
        return sched_node_affinity_required_matches(pod, ev->new_node) ? SCHED_HINT_QUEUE
                                                                       : SCHED_HINT_SKIP;
    return SCHED_HINT_QUEUE;
}

const struct sched_plugin sched_plugin_node_affinity = {
    .name = "NodeAffinity",
    .id = SCHED_PL_NODE_AFFINITY,
    .default_weight = 2,
    .pre_filter = affinity_pre_filter,
    .filter = affinity_filter,
    .pre_score = affinity_pre_score,
    .score = affinity_score,
    .normalize = affinity_normalize,
    .events = {{SCHED_RES_NODE, SCHED_ACT_ADD | SCHED_ACT_UPDATE_NODE_LABEL},
               {SCHED_RES_UNSCHEDULED_POD, SCHED_ACT_UPDATE_OTHER}},
    .hint = affinity_hint,
};
