/* framework.c - statuses, events, profiles, cycle state and the extension-point runners (see
 * framework.h). */
#include "framework.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "plugins/plugins.h"
#include "queue.h"

/* ---- statuses ---- */

struct sched_status *sched_status_new(enum sched_code code, const char *reason)
{
    struct sched_status *st = ck_xcalloc(1, sizeof(*st));
    st->code = code;
    if (reason)
        sched_status_add_reason(st, reason);
    return st;
}

struct sched_status *sched_status_newf(enum sched_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    struct sched_status *st = sched_status_new(code, s ? s : fmt);
    free(s);
    return st;
}

void sched_status_add_reason(struct sched_status *st, const char *reason)
{
    st->reasons = ck_xrealloc(st->reasons, (st->nreasons + 1) * sizeof(char *));
    st->reasons[st->nreasons++] = ck_xstrdup(reason);
}

struct sched_status *sched_status_dup(const struct sched_status *st)
{
    if (!st)
        return NULL;
    struct sched_status *d = sched_status_new(st->code, NULL);
    d->plugin = st->plugin;
    for (size_t i = 0; i < st->nreasons; i++)
        sched_status_add_reason(d, st->reasons[i]);
    return d;
}

void sched_status_free(struct sched_status *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->nreasons; i++)
        free(st->reasons[i]);
    free(st->reasons);
    free(st);
}

enum sched_code sched_status_code(const struct sched_status *st)
{
    return st ? st->code : SCHED_SUCCESS;
}

bool sched_status_rejected(const struct sched_status *st)
{
    enum sched_code c = sched_status_code(st);
    return c == SCHED_UNSCHEDULABLE || c == SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE ||
           c == SCHED_PENDING;
}

char *sched_status_message(const struct sched_status *st)
{
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; st && i < st->nreasons; i++) {
        if (i)
            ck_buf_puts(&b, ", ");
        ck_buf_puts(&b, st->reasons[i]);
    }
    return ck_buf_detach(&b);
}

void sched_postfilter_result_clear(struct sched_postfilter_result *r)
{
    if (!r)
        return;
    free(r->node);
    for (size_t i = 0; i < r->nvictims; i++)
        sched_pod_unref(r->victims[i]);
    free(r->victims);
    for (size_t i = 0; i < r->nclear; i++)
        sched_pod_unref(r->clear_nominated[i]);
    free(r->clear_nominated);
    memset(r, 0, sizeof(*r));
}

void sched_prefilter_result_clear(struct sched_prefilter_result *r)
{
    for (size_t i = 0; r && i < r->nnames; i++)
        free(r->names[i]);
    if (r) {
        free(r->names);
        r->names = NULL;
        r->nnames = 0;
        r->all_nodes = true;
    }
}

/* ---- snapshot lookups ---- */

struct sched_node_info *sched_snapshot_get(const struct sched_snapshot *s, const char *name)
{
    return s && name ? ck_strmap_get(&s->by_name, name) : NULL;
}

size_t sched_snapshot_image_nodes(const struct sched_snapshot *s, const char *image)
{
    return (size_t)(uintptr_t)ck_strmap_get(&s->image_nodes, image);
}

/* ---- events ---- */

static bool json_member_equal(const cJSON *a, const cJSON *b, const char *path)
{
    return ck_json_equal(ck_json_get(a, path), ck_json_get(b, path));
}

/* Conditions compared by type -> status only, as upstream's nodeConditionsChanged. */
static bool conditions_changed(const cJSON *a, const cJSON *b)
{
    const cJSON *ca = ck_json_get(a, "status.conditions"),
                *cb = ck_json_get(b, "status.conditions");
    if (cJSON_GetArraySize(ca) != cJSON_GetArraySize(cb))
        return true;
    const cJSON *x, *y;
    cJSON_ArrayForEach(x, ca)
    {
        const char *t = ck_json_get_string(x, "type", "");
        bool found = false;
        cJSON_ArrayForEach(y, cb) if (strcmp(ck_json_get_string(y, "type", ""), t) == 0)
        {
            found = true;
            if (strcmp(ck_json_get_string(x, "status", ""), ck_json_get_string(y, "status", "")))
                return true;
        }
        if (!found)
            return true;
    }
    return false;
}

unsigned sched_node_update_actions(const struct sched_node *o, const struct sched_node *n)
{
    if (!o || !n)
        return 0;
    unsigned a = 0;
    if (o->unschedulable != n->unschedulable)
        a |= SCHED_ACT_UPDATE_NODE_TAINT;
    if (!json_member_equal(o->obj, n->obj, "status.allocatable"))
        a |= SCHED_ACT_UPDATE_NODE_ALLOCATABLE;
    if (!json_member_equal(o->obj, n->obj, "metadata.labels"))
        a |= SCHED_ACT_UPDATE_NODE_LABEL;
    if (!json_member_equal(o->obj, n->obj, "spec.taints"))
        a |= SCHED_ACT_UPDATE_NODE_TAINT;
    if (conditions_changed(o->obj, n->obj))
        a |= SCHED_ACT_UPDATE_NODE_CONDITION;
    if (!json_member_equal(o->obj, n->obj, "metadata.annotations"))
        a |= SCHED_ACT_UPDATE_NODE_ANNOTATION;
    return a;
}

static bool resource_decreased(const struct sched_resource *o, const struct sched_resource *n)
{
    if (n->milli_cpu < o->milli_cpu || n->memory < o->memory ||
        n->ephemeral_storage < o->ephemeral_storage)
        return true;
    for (size_t i = 0; i < o->nscalar; i++)
        if (sched_resource_scalar(n, o->scalar[i].name) < o->scalar[i].value)
            return true;
    return false;
}

unsigned sched_pod_update_actions(const struct sched_pod *o, const struct sched_pod *n)
{
    if (!o || !n)
        return SCHED_ACT_UPDATE_OTHER;
    unsigned a = 0;
    if (!ck_json_equal(o->labels, n->labels))
        a |= SCHED_ACT_UPDATE_POD_LABEL;
    if (resource_decreased(&o->req, &n->req))
        a |= SCHED_ACT_UPDATE_POD_SCALE_DOWN;
    if (!json_member_equal(o->obj, n->obj, "spec.tolerations"))
        a |= SCHED_ACT_UPDATE_POD_TOLERATION;
    if (o->ngates > 0 && n->ngates == 0)
        a |= SCHED_ACT_UPDATE_POD_GATES_ELIMINATED;
    return a ? a : SCHED_ACT_UPDATE_OTHER;
}

/* ---- profiles ---- */

static const struct sched_plugin *const default_plugins[] = {
    &sched_plugin_node_unschedulable,  &sched_plugin_node_name,
    &sched_plugin_taint_toleration,    &sched_plugin_node_affinity,
    &sched_plugin_node_ports,          &sched_plugin_node_resources_fit,
    &sched_plugin_pod_topology_spread, &sched_plugin_inter_pod_affinity,
    &sched_plugin_default_preemption,  &sched_plugin_balanced_allocation,
    &sched_plugin_image_locality,
};

const char *sched_plugin_name(enum sched_plugin_id id)
{
    for (size_t i = 0; i < CK_ARRAY_SIZE(default_plugins); i++)
        if (default_plugins[i]->id == id)
            return default_plugins[i]->name;
    return "";
}

struct sched_framework *sched_framework_new(const struct sched_plugin *const *plugins, size_t n,
                                            const struct sched_handle *h)
{
    struct sched_framework *fw = ck_xcalloc(1, sizeof(*fw));
    for (size_t i = 0; i < n && fw->nplugins < SCHED_PL_COUNT; i++) {
        fw->plugins[fw->nplugins++] = plugins[i];
        fw->weights[plugins[i]->id] = plugins[i]->default_weight;
    }
    if (h)
        fw->handle = *h;
    fw->hard_pod_affinity_weight = 1;
    fw->spread_system_defaulted = true;
    fw->rand_seed = 1;
    return fw;
}

struct sched_framework *sched_framework_new_default(const struct sched_handle *h)
{
    return sched_framework_new(default_plugins, CK_ARRAY_SIZE(default_plugins), h);
}

void sched_framework_free(struct sched_framework *fw)
{
    free(fw);
}

bool sched_framework_has(const struct sched_framework *fw, enum sched_plugin_id id)
{
    for (size_t i = 0; i < fw->nplugins; i++)
        if (fw->plugins[i]->id == id)
            return true;
    return false;
}

uint64_t sched_framework_rand(struct sched_framework *fw, uint64_t n)
{
    if (n <= 1)
        return 0;
    if (fw->handle.rand)
        return fw->handle.rand(fw->handle.ctx, n) % n;
    uint64_t r = ((uint64_t)rand_r(&fw->rand_seed) << 31) ^ (uint64_t)rand_r(&fw->rand_seed);
    return r % n;
}

/* ---- cycles ---- */

struct sched_cycle *sched_cycle_new(struct sched_framework *fw, const struct sched_snapshot *snap,
                                    struct sched_pod *pod)
{
    struct sched_cycle *c = ck_xcalloc(1, sizeof(*c));
    c->fw = fw;
    c->snap = snap;
    c->pod = sched_pod_ref(pod);
    if (fw->handle.namespace_labels)
        c->ns_labels = fw->handle.namespace_labels(fw->handle.ctx, pod->ns);
    return c;
}

struct sched_cycle *sched_cycle_clone(const struct sched_cycle *c)
{
    struct sched_cycle *d = ck_xcalloc(1, sizeof(*d));
    *d = *c;
    sched_pod_ref(d->pod);
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        d->state[pl->id] =
            c->state[pl->id] && pl->state_clone ? pl->state_clone(c->state[pl->id]) : NULL;
    }
    return d;
}

void sched_cycle_free(struct sched_cycle *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        if (c->state[pl->id] && pl->state_free)
            pl->state_free(c->state[pl->id]);
    }
    sched_pod_unref(c->pod);
    free(c);
}

/* ---- runners ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* res = res intersect r (a restriction of all_nodes=false). */
static void merge_prefilter(struct sched_prefilter_result *res, struct sched_prefilter_result *r)
{
    if (r->all_nodes)
        return;
    if (res->all_nodes) {
        sched_prefilter_result_clear(res);
        *res = *r;
        res->all_nodes = false;
        r->names = NULL;
        r->nnames = 0;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < res->nnames; i++) {
        bool keep = false;
        for (size_t j = 0; j < r->nnames && !keep; j++)
            keep = strcmp(res->names[i], r->names[j]) == 0;
        if (keep)
            res->names[k++] = res->names[i];
        else
            free(res->names[i]);
    }
    res->nnames = k;
}

struct sched_status *sched_run_pre_filter(struct sched_cycle *c, struct sched_prefilter_result *res,
                                          uint32_t *unsched_plugins, uint32_t *with_nodes)
{
    res->all_nodes = true;
    res->names = NULL;
    res->nnames = 0;
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        if (!pl->pre_filter)
            continue;
        struct sched_prefilter_result r = {.all_nodes = true};
        struct sched_status *st = pl->pre_filter(c, &r);
        if (sched_status_code(st) == SCHED_SKIP) {
            c->skip_filter |= 1u << pl->id;
            sched_status_free(st);
            sched_prefilter_result_clear(&r);
            continue;
        }
        if (st) {
            st->plugin = pl->name;
            if (sched_status_rejected(st) && unsched_plugins)
                *unsched_plugins |= 1u << pl->id;
            sched_prefilter_result_clear(&r);
            return st;
        }
        if (!r.all_nodes) {
            if (with_nodes)
                *with_nodes |= 1u << pl->id;
            merge_prefilter(res, &r);
            if (res->nnames == 0) {
                struct ck_buf b = CK_BUF_INIT;
                size_t n = 0;
                for (size_t j = 0; j < c->fw->nplugins; j++)
                    if (with_nodes && (*with_nodes & (1u << c->fw->plugins[j]->id)))
                        n++;
                const char *names[SCHED_PL_COUNT];
                size_t k = 0;
                for (size_t j = 0; j < c->fw->nplugins; j++)
                    if (with_nodes && (*with_nodes & (1u << c->fw->plugins[j]->id)))
                        names[k++] = c->fw->plugins[j]->name;
                qsort(names, k, sizeof(char *), cmp_str);
                if (n == 1) {
                    ck_buf_printf(&b, "node(s) didn't satisfy plugin %s", names[0]);
                } else {
                    ck_buf_puts(&b, "node(s) didn't satisfy plugin(s) [");
                    for (size_t j = 0; j < k; j++)
                        ck_buf_printf(&b, "%s%s", j ? " " : "", names[j]);
                    ck_buf_puts(&b, "] simultaneously");
                }
                st = sched_status_new(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE, ck_buf_str(&b));
                ck_buf_free(&b);
                sched_prefilter_result_clear(&r);
                return st;
            }
        }
        sched_prefilter_result_clear(&r);
    }
    return NULL;
}

struct sched_status *sched_run_filter(struct sched_cycle *c, const struct sched_node_info *ni)
{
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        if (!pl->filter || (c->skip_filter & (1u << pl->id)))
            continue;
        struct sched_status *st = pl->filter(c, ni);
        if (st && st->code != SCHED_SUCCESS) {
            st->plugin = pl->name;
            return st;
        }
        sched_status_free(st);
    }
    return NULL;
}

void sched_run_add_pod(struct sched_cycle *c, const struct sched_pod *p,
                       const struct sched_node_info *ni)
{
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        if (pl->add_pod && !(c->skip_filter & (1u << pl->id)))
            pl->add_pod(c, p, ni);
    }
}

void sched_run_remove_pod(struct sched_cycle *c, const struct sched_pod *p,
                          const struct sched_node_info *ni)
{
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        if (pl->remove_pod && !(c->skip_filter & (1u << pl->id)))
            pl->remove_pod(c, p, ni);
    }
}

struct sched_status *sched_run_filter_with_nominated(struct sched_cycle *c,
                                                     const struct sched_node_info *ni)
{
    struct sched_pod **nominated = NULL;
    size_t n = c->nominator ? sched_nominator_pods_for_node(c->nominator, ni->name, &nominated) : 0;
    struct sched_cycle *c2 = NULL;
    struct sched_node_info *ni2 = NULL;
    for (size_t i = 0; i < n; i++) {
        struct sched_pod *np = nominated[i];
        if (np->priority >= c->pod->priority && strcmp(np->key, c->pod->key) != 0) {
            if (!c2) {
                c2 = sched_cycle_clone(c);
                ni2 = sched_node_info_clone(ni);
            }
            sched_node_info_add_pod(ni2, np);
            sched_run_add_pod(c2, np, ni2);
        }
        sched_pod_unref(np);
    }
    free(nominated);
    if (!c2)
        return sched_run_filter(c, ni);
    struct sched_status *st = sched_run_filter(c2, ni2);
    sched_cycle_free(c2);
    sched_node_info_free(ni2);
    if (st)
        return st;
    return sched_run_filter(c, ni);
}

struct sched_status *sched_run_score(struct sched_cycle *c, struct sched_node_info **nodes,
                                     size_t n, int64_t *totals)
{
    memset(totals, 0, n * sizeof(*totals));
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        if (!pl->score || c->fw->weights[pl->id] <= 0 || !pl->pre_score)
            continue;
        struct sched_status *st = pl->pre_score(c, nodes, n);
        if (sched_status_code(st) == SCHED_SKIP) {
            c->skip_score |= 1u << pl->id;
        } else if (st) {
            st->plugin = pl->name;
            return st;
        }
        sched_status_free(st);
    }
    struct sched_node_score *scores = ck_xcalloc(n ? n : 1, sizeof(*scores));
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        int w = c->fw->weights[pl->id];
        if (!pl->score || w <= 0 || (c->skip_score & (1u << pl->id)))
            continue;
        for (size_t j = 0; j < n; j++) {
            scores[j].ni = nodes[j];
            scores[j].score = pl->score(c, nodes[j]);
        }
        if (pl->normalize)
            pl->normalize(c, scores, n);
        for (size_t j = 0; j < n; j++) {
            if (scores[j].score < SCHED_MIN_NODE_SCORE || scores[j].score > SCHED_MAX_NODE_SCORE) {
                struct sched_status *st = sched_status_newf(
                    SCHED_ERROR,
                    "plugin %s returns an invalid score %lld, it should in the range of [%d, %d] "
                    "after normalizing",
                    pl->name, (long long)scores[j].score, SCHED_MIN_NODE_SCORE,
                    SCHED_MAX_NODE_SCORE);
                free(scores);
                return st;
            }
            totals[j] += scores[j].score * w;
        }
    }
    free(scores);
    return NULL;
}

struct sched_status *sched_run_reserve(struct sched_cycle *c, const char *node)
{
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        struct sched_status *st = pl->reserve ? pl->reserve(c, node) : NULL;
        if (st && st->code != SCHED_SUCCESS) {
            st->plugin = pl->name;
            sched_run_unreserve(c, node);
            return st;
        }
        sched_status_free(st);
    }
    return NULL;
}

void sched_run_unreserve(struct sched_cycle *c, const char *node)
{
    for (size_t i = c->fw->nplugins; i-- > 0;)
        if (c->fw->plugins[i]->unreserve)
            c->fw->plugins[i]->unreserve(c, node);
}

struct sched_status *sched_run_permit(struct sched_cycle *c, const char *node, int64_t *wait_ns)
{
    int64_t longest = 0;
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        int64_t w = 0;
        struct sched_status *st = pl->permit ? pl->permit(c, node, &w) : NULL;
        if (sched_status_code(st) == SCHED_WAIT) {
            if (w > longest)
                longest = w;
        } else if (st && st->code != SCHED_SUCCESS) {
            st->plugin = pl->name;
            return st;
        }
        sched_status_free(st);
    }
    if (wait_ns)
        *wait_ns = longest;
    return longest > 0 ? sched_status_new(SCHED_WAIT, NULL) : NULL;
}

struct sched_status *sched_run_pre_bind(struct sched_cycle *c, const char *node)
{
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        struct sched_status *st = pl->pre_bind ? pl->pre_bind(c, node) : NULL;
        if (st && st->code != SCHED_SUCCESS && st->code != SCHED_SKIP) {
            st->plugin = pl->name;
            return st;
        }
        sched_status_free(st);
    }
    return NULL;
}

struct sched_status *sched_run_bind(struct sched_cycle *c, const char *node)
{
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        struct sched_status *st = pl->bind ? pl->bind(c, node) : sched_status_new(SCHED_SKIP, NULL);
        if (sched_status_code(st) != SCHED_SKIP) {
            if (st)
                st->plugin = pl->name;
            return st;
        }
        sched_status_free(st);
    }
    return sched_status_new(SCHED_SKIP, NULL);
}

bool sched_node_admits(const struct sched_pod *pod, const struct sched_node_info *ni)
{
    if (!ni->node)
        return false;
    if (sched_fit_insufficient(pod, ni, NULL) > 0)
        return false;
    if (!sched_node_affinity_required_matches(pod, ni->node))
        return false;
    if (pod->node_name[0] && strcmp(pod->node_name, ni->name) != 0)
        return false;
    if (!sched_node_ports_fit(pod, ni))
        return false;
    return !sched_find_untolerated_taint(ni->node->taints, ni->node->ntaints, pod->tols, pod->ntols,
                                         SCHED_EFFECT_NO_SCHEDULE);
}

void sched_default_normalize(struct sched_node_score *scores, size_t n, bool reverse)
{
    int64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (scores[i].score > max)
            max = scores[i].score;
    if (max == 0) {
        if (reverse)
            for (size_t i = 0; i < n; i++)
                scores[i].score = SCHED_MAX_NODE_SCORE;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t s = SCHED_MAX_NODE_SCORE * scores[i].score / max;
        scores[i].score = reverse ? SCHED_MAX_NODE_SCORE - s : s;
    }
}
