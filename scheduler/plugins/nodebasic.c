/* nodebasic.c - the small filter plugins: NodeUnschedulable, NodeName, NodePorts, and
 * TaintToleration (filter on NoSchedule/NoExecute, PreferNoSchedule scoring), as upstream's
 * pkg/scheduler/framework/plugins/{nodeunschedulable,nodename,nodeports,tainttoleration}. */
#include <string.h>

#include "mem.h"
#include "scheduler/plugins/plugins.h"

/* ---- NodeUnschedulable ---- */

static bool tolerates_unschedulable(const struct sched_pod *pod)
{
    static const struct sched_taint t = {"node.kubernetes.io/unschedulable", "", "NoSchedule"};
    for (size_t i = 0; i < pod->ntols; i++)
        if (sched_toleration_tolerates(&pod->tols[i], &t))
            return true;
    return false;
}

static struct sched_status *unschedulable_filter(struct sched_cycle *c,
                                                 const struct sched_node_info *ni)
{
    if (!ni->node || !ni->node->unschedulable || tolerates_unschedulable(c->pod))
        return NULL;
    return sched_status_new(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE, SCHED_REASON_NODE_UNSCHEDULABLE);
}

static enum sched_hint unschedulable_hint(const struct sched_pod *pod, const struct sched_event *ev)
{
    if (ev->resource == SCHED_RES_NODE)
        return ev->new_node && (!ev->new_node->unschedulable || tolerates_unschedulable(pod))
                   ? SCHED_HINT_QUEUE
                   : SCHED_HINT_SKIP;
    return SCHED_HINT_QUEUE;
}

const struct sched_plugin sched_plugin_node_unschedulable = {
    .name = "NodeUnschedulable",
    .id = SCHED_PL_NODE_UNSCHEDULABLE,
    .filter = unschedulable_filter,
    .events = {{SCHED_RES_NODE, SCHED_ACT_ADD | SCHED_ACT_UPDATE_NODE_TAINT},
               {SCHED_RES_UNSCHEDULED_POD, SCHED_ACT_UPDATE_POD_TOLERATION}},
    .hint = unschedulable_hint,
};

/* ---- NodeName ---- */

static struct sched_status *nodename_filter(struct sched_cycle *c, const struct sched_node_info *ni)
{
    if (!c->pod->node_name[0] || strcmp(c->pod->node_name, ni->name) == 0)
        return NULL;
    return sched_status_new(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE, SCHED_REASON_NODE_NAME);
}

static enum sched_hint nodename_hint(const struct sched_pod *pod, const struct sched_event *ev)
{
    if (ev->resource == SCHED_RES_NODE && ev->new_node)
        return !pod->node_name[0] || strcmp(pod->node_name, ev->new_node->name) == 0
                   ? SCHED_HINT_QUEUE
                   : SCHED_HINT_SKIP;
    return SCHED_HINT_QUEUE;
}

const struct sched_plugin sched_plugin_node_name = {
    .name = "NodeName",
    .id = SCHED_PL_NODE_NAME,
    .filter = nodename_filter,
    .events = {{SCHED_RES_NODE, SCHED_ACT_ADD | SCHED_ACT_UPDATE}},
    .hint = nodename_hint,
};

/* ---- NodePorts ---- */

static bool port_conflict(const struct sched_host_port *want, const struct sched_host_port *used)
{
    if (want->port != used->port || strcmp(want->protocol, used->protocol) != 0)
        return false;
    /* 0.0.0.0 on either side binds every address */
    return strcmp(want->ip, "0.0.0.0") == 0 || strcmp(used->ip, "0.0.0.0") == 0 ||
           strcmp(want->ip, used->ip) == 0;
}

bool sched_node_ports_fit(const struct sched_pod *pod, const struct sched_node_info *ni)
{
    for (size_t i = 0; i < pod->nports; i++)
        for (size_t j = 0; j < ni->npods; j++)
            for (size_t k = 0; k < ni->pods[j]->nports; k++)
                if (port_conflict(&pod->ports[i], &ni->pods[j]->ports[k]))
                    return false;
    return true;
}

static struct sched_status *ports_pre_filter(struct sched_cycle *c,
                                             struct sched_prefilter_result *res)
{
    (void)res;
    return c->pod->nports ? NULL : sched_status_new(SCHED_SKIP, NULL);
}

static struct sched_status *ports_filter(struct sched_cycle *c, const struct sched_node_info *ni)
{
    if (sched_node_ports_fit(c->pod, ni))
        return NULL;
    return sched_status_new(SCHED_UNSCHEDULABLE, SCHED_REASON_NODE_PORTS);
}

static enum sched_hint ports_hint(const struct sched_pod *pod, const struct sched_event *ev)
{
    if (ev->resource == SCHED_RES_ASSIGNED_POD) {
        const struct sched_pod *gone = ev->old_pod;
        if (!gone)
            return SCHED_HINT_SKIP;
        for (size_t i = 0; i < pod->nports; i++)
            for (size_t k = 0; k < gone->nports; k++)
                if (port_conflict(&pod->ports[i], &gone->ports[k]))
                    return SCHED_HINT_QUEUE;
        return SCHED_HINT_SKIP;
    }
    return SCHED_HINT_QUEUE;
}

const struct sched_plugin sched_plugin_node_ports = {
    .name = "NodePorts",
    .id = SCHED_PL_NODE_PORTS,
    .pre_filter = ports_pre_filter,
    .filter = ports_filter,
    .events = {{SCHED_RES_ASSIGNED_POD, SCHED_ACT_DELETE},
               {SCHED_RES_NODE, SCHED_ACT_ADD | SCHED_ACT_UPDATE}},
    .hint = ports_hint,
};

/* ---- TaintToleration ---- */

static struct sched_status *taint_filter(struct sched_cycle *c, const struct sched_node_info *ni)
{
    if (!ni->node)
        return NULL;
    const struct sched_taint *t = sched_find_untolerated_taint(
        ni->node->taints, ni->node->ntaints, c->pod->tols, c->pod->ntols,
        SCHED_EFFECT_NO_SCHEDULE | SCHED_EFFECT_NO_EXECUTE);
    if (!t)
        return NULL;
    return sched_status_newf(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE,
                             "node(s) had untolerated taint {%s: %s}", t->key, t->value);
}

static struct sched_status *taint_pre_score(struct sched_cycle *c, struct sched_node_info **nodes,
                                            size_t n)
{
    (void)c;
    (void)nodes;
    (void)n;
    return NULL;
}

/* Intolerable PreferNoSchedule taints, counting only tolerations with an empty or
 * PreferNoSchedule effect (upstream countIntolerableTaintsPreferNoSchedule). */
static int64_t taint_score(struct sched_cycle *c, const struct sched_node_info *ni)
{
    int64_t n = 0;
    if (!ni->node)
        return 0;
    for (size_t i = 0; i < ni->node->ntaints; i++) {
        const struct sched_taint *t = &ni->node->taints[i];
        if (strcmp(t->effect, "PreferNoSchedule") != 0)
            continue;
        bool ok = false;
        for (size_t j = 0; j < c->pod->ntols && !ok; j++) {
            const struct sched_toleration *tol = &c->pod->tols[j];
            if (tol->effect[0] && strcmp(tol->effect, "PreferNoSchedule") != 0)
                continue;
            ok = sched_toleration_tolerates(tol, t);
        }
        if (!ok)
            n++;
    }
    return n;
}

static void taint_normalize(struct sched_cycle *c, struct sched_node_score *s, size_t n)
{
    (void)c;
    sched_default_normalize(s, n, true);
}

static enum sched_hint taint_hint(const struct sched_pod *pod, const struct sched_event *ev)
{
    if (ev->resource == SCHED_RES_NODE && ev->new_node)
        return sched_find_untolerated_taint(ev->new_node->taints, ev->new_node->ntaints, pod->tols,
                                            pod->ntols,
                                            SCHED_EFFECT_NO_SCHEDULE | SCHED_EFFECT_NO_EXECUTE)
                   ? SCHED_HINT_SKIP
                   : SCHED_HINT_QUEUE;
    return SCHED_HINT_QUEUE;
}

const struct sched_plugin sched_plugin_taint_toleration = {
    .name = "TaintToleration",
    .id = SCHED_PL_TAINT_TOLERATION,
    .default_weight = 3,
    .filter = taint_filter,
    .pre_score = taint_pre_score,
    .score = taint_score,
    .normalize = taint_normalize,
    .events = {{SCHED_RES_NODE, SCHED_ACT_ADD | SCHED_ACT_UPDATE_NODE_TAINT},
               {SCHED_RES_UNSCHEDULED_POD, SCHED_ACT_UPDATE_POD_TOLERATION}},
    .hint = taint_hint,
};
