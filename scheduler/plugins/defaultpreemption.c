/* defaultpreemption.c - the DefaultPreemption PostFilter plugin as upstream's
 * pkg/scheduler/framework/plugins/defaultpreemption and framework/preemption (v1.32).
 *
 * When no node fits, the nodes whose failure was Unschedulable (not Unresolvable) are tried
 * from a random offset: all lower-priority pods are removed, the pod must then pass the
 * filters (nominated pods included), and victims are reprieved from the most important down,
 * PDB-violating ones first. The search stops once enough candidates are found
 * (max(10% of the nodes, 100)). The best candidate has the fewest PDB violations, then the
 * lowest highest-victim priority, the lowest priority sum, the fewest victims, the latest
 * start of its most important victims. The result names the node to nominate, the victims
 * to delete and the lower-priority pods nominated there whose nomination must be cleared.
 * Messages follow upstream: "preemption: not eligible due to preemptionPolicy=Never.",
 * "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling." */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "mem.h"
#include "scheduler/plugins/plugins.h"
#include "scheduler/queue.h"
#include "scheduler/schedule.h"

#define MIN_CANDIDATE_NODES_PERCENTAGE 10
#define MIN_CANDIDATE_NODES_ABSOLUTE 100

struct pdb {
    const char *ns;
    struct ck_label_selector *sel;
    const cJSON *disrupted;
    int64_t allowed;
};

struct candidate {
    struct sched_node_info *ni; /* snapshot's */
    struct sched_pod **victims; /* references, most important first */
    size_t nvictims;
    int violations;
};

static bool terminating_by_preemption(const struct sched_pod *p)
{
    if (!p->terminating)
        return false;
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_get(p->obj, "status.conditions"))
    {
        if (strcmp(ck_json_get_string(c, "type", ""), "DisruptionTarget") == 0)
            return strcmp(ck_json_get_string(c, "status", ""), "True") == 0 &&
                   strcmp(ck_json_get_string(c, "reason", ""), "PreemptionByScheduler") == 0;
    }
    return false;
}

static const struct sched_status *status_of(struct ck_strmap *m, const struct sched_status *absent,
                                            const char *name)
{
    const struct sched_status *st = ck_strmap_get(m, name);
    return st ? st : absent;
}

static size_t load_pdbs(struct sched_cycle *c, struct pdb **out)
{
    const struct sched_handle *h = &c->fw->handle;
    const cJSON *arr = h->pdbs ? h->pdbs(h->ctx) : NULL, *it;
    size_t n = 0;
    *out = NULL;
    cJSON_ArrayForEach(it, arr)
    {
        struct pdb p = {0};
        if (ck_label_selector_from_json(ck_json_get(it, "spec.selector"), &p.sel, NULL) < 0)
            continue;
        p.ns = ck_json_get_string(it, "metadata.namespace", "");
        p.disrupted = ck_json_get(it, "status.disruptedPods");
        p.allowed = ck_json_get_int64(it, "status.disruptionsAllowed", 0);
        *out = ck_xrealloc(*out, (n + 1) * sizeof(**out));
        (*out)[n++] = p;
    }
    return n;
}

static int cmp_importance(const void *a, const void *b)
{
    const struct sched_pod *x = *(struct sched_pod *const *)a, *y = *(struct sched_pod *const *)b;
    if (sched_pod_more_important(x, y))
        return -1;
    return sched_pod_more_important(y, x) ? 1 : 0;
}

/* upstream filterPodsWithPDBViolation: violating[i] for pods[i]. */
static void pdb_violations(struct sched_pod **pods, size_t n, struct pdb *pdbs, size_t npdb,
                           bool *violating)
{
    int64_t *allowed = ck_xcalloc(npdb ? npdb : 1, sizeof(int64_t));
    for (size_t i = 0; i < npdb; i++)
        allowed[i] = pdbs[i].allowed;
    for (size_t i = 0; i < n; i++) {
        violating[i] = false;
        if (cJSON_GetArraySize(pods[i]->labels) == 0)
            continue;
        for (size_t j = 0; j < npdb; j++) {
            if (strcmp(pdbs[j].ns, pods[i]->ns) != 0 || ck_label_selector_empty(pdbs[j].sel) ||
                !ck_label_selector_matches(pdbs[j].sel, pods[i]->labels))
                continue;
            if (pdbs[j].disrupted &&
                cJSON_GetObjectItemCaseSensitive(pdbs[j].disrupted, pods[i]->name))
                continue;
            if (--allowed[j] < 0)
                violating[i] = true;
        }
    }
    free(allowed);
}

/* upstream SelectVictimsOnNode on copies of the node and the cycle. NULL on success. */
static struct sched_status *select_victims(struct sched_cycle *c, struct sched_node_info *ni,
                                           struct pdb *pdbs, size_t npdb, struct candidate *out)
{
    struct sched_pod **pot = ck_xcalloc(ni->npods ? ni->npods : 1, sizeof(*pot));
    size_t npot = 0;
    struct sched_status *st = NULL;
    for (size_t i = 0; i < ni->npods; i++)
        if (ni->pods[i]->priority < c->pod->priority)
            pot[npot++] = sched_pod_ref(ni->pods[i]);
    for (size_t i = 0; i < npot; i++) {
        sched_node_info_remove_pod(ni, pot[i]->key);
        sched_run_remove_pod(c, pot[i], ni);
    }
    if (npot == 0) {
        st = sched_status_new(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE, SCHED_REASON_NO_VICTIMS);
        goto out;
    }
    if ((st = sched_run_filter_with_nominated(c, ni)))
        goto out;
    qsort(pot, npot, sizeof(*pot), cmp_importance);
    bool *viol = ck_xcalloc(npot, sizeof(bool));
    pdb_violations(pot, npot, pdbs, npdb, viol);
    out->victims = ck_xcalloc(npot, sizeof(*out->victims));
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < npot; i++) {
            if (viol[i] != (pass == 0))
                continue;
            sched_node_info_add_pod(ni, pot[i]);
            sched_run_add_pod(c, pot[i], ni);
            struct sched_status *f = sched_run_filter_with_nominated(c, ni);
            if (f) {
                sched_node_info_remove_pod(ni, pot[i]->key);
                sched_run_remove_pod(c, pot[i], ni);
                out->victims[out->nvictims++] = sched_pod_ref(pot[i]);
                if (pass == 0)
                    out->violations++;
            }
            sched_status_free(f);
        }
    }
    free(viol);
    qsort(out->victims, out->nvictims, sizeof(*out->victims), cmp_importance);
out:
    for (size_t i = 0; i < npot; i++)
        sched_pod_unref(pot[i]);
    free(pot);
    return st;
}

static int64_t earliest_start_of_top(const struct candidate *cd)
{
    int32_t maxp = cd->victims[0]->priority;
    int64_t now = (int64_t)time(NULL);
    int64_t t = cd->victims[0]->start_time ? cd->victims[0]->start_time : now;
    for (size_t i = 0; i < cd->nvictims; i++) {
        const struct sched_pod *p = cd->victims[i];
        int64_t s = p->start_time ? p->start_time : now;
        if (p->priority == maxp && s < t) {
            t = s;
        } else if (p->priority > maxp) {
            maxp = p->priority;
            t = s;
        }
    }
    return t;
}

/* upstream pickOneNodeForPreemption: successive criteria, each keeping the best ties. */
static size_t pick(struct candidate *cds, size_t n)
{
    bool *alive = ck_xcalloc(n, sizeof(bool));
    for (size_t i = 0; i < n; i++)
        alive[i] = true;
    for (int crit = 0; crit < 5; crit++) {
        int64_t best = 0;
        bool first = true;
        int64_t *v = ck_xcalloc(n, sizeof(int64_t));
        for (size_t i = 0; i < n; i++) {
            if (!alive[i])
                continue;
            const struct candidate *cd = &cds[i];
            int64_t sum = 0;
            switch (crit) {
            case 0:
                v[i] = -(int64_t)cd->violations;
                break;
            case 1:
                v[i] = -(int64_t)cd->victims[0]->priority;
                break;
            case 2:
                for (size_t j = 0; j < cd->nvictims; j++)
                    sum += (int64_t)cd->victims[j]->priority + INT32_MAX + 1;
                v[i] = -sum;
                break;
            case 3:
                v[i] = -(int64_t)cd->nvictims;
                break;
            default:
                v[i] = earliest_start_of_top(cd);
                break;
            }
            if (first || v[i] > best)
                best = v[i];
            first = false;
        }
        for (size_t i = 0; i < n; i++)
            if (alive[i] && v[i] != best)
                alive[i] = false;
        free(v);
    }
    size_t r = 0;
    while (r < n && !alive[r])
        r++;
    free(alive);
    return r < n ? r : 0;
}

static struct sched_status *preemption_status(const char *msg)
{
    return sched_status_newf(SCHED_UNSCHEDULABLE, "preemption: %s", msg);
}

static struct sched_status *preempt(struct sched_cycle *c, struct ck_strmap *node_status,
                                    const struct sched_status *absent,
                                    struct sched_postfilter_result *res)
{
    const struct sched_pod *pod = c->pod;
    if (pod->preempt_never)
        return preemption_status("not eligible due to preemptionPolicy=Never.");
    if (pod->nominated_node[0] &&
        sched_status_code(status_of(node_status, absent, pod->nominated_node)) !=
            SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE) {
        const struct sched_node_info *nn = sched_snapshot_get(c->snap, pod->nominated_node);
        for (size_t i = 0; nn && i < nn->npods; i++)
            if (nn->pods[i]->priority < pod->priority && terminating_by_preemption(nn->pods[i]))
                return preemption_status(
                    "not eligible due to a terminating pod on the nominated node.");
    }
    size_t npot = 0;
    struct sched_node_info **pot = ck_xcalloc(c->snap->nnodes + 1, sizeof(*pot));
    for (size_t i = 0; i < c->snap->nnodes; i++)
        if (sched_status_code(status_of(node_status, absent, c->snap->nodes[i]->name)) ==
            SCHED_UNSCHEDULABLE)
            pot[npot++] = c->snap->nodes[i];
    struct ck_strmap statuses = CK_STRMAP_INIT;
    struct candidate *cds = ck_xcalloc(npot + 1, sizeof(*cds));
    size_t ncds = 0, nonviolating = 0;
    struct pdb *pdbs = NULL;
    size_t npdb = npot ? load_pdbs(c, &pdbs) : 0;
    size_t want = npot * MIN_CANDIDATE_NODES_PERCENTAGE / 100;
    if (want < MIN_CANDIDATE_NODES_ABSOLUTE)
        want = MIN_CANDIDATE_NODES_ABSOLUTE;
    if (want > npot)
        want = npot;
    size_t offset = npot ? (size_t)sched_framework_rand(c->fw, npot) : 0;
    for (size_t k = 0; k < npot; k++) {
        struct sched_node_info *orig = pot[(offset + k) % npot];
        struct sched_node_info *ni = sched_node_info_clone(orig);
        struct sched_cycle *c2 = sched_cycle_clone(c);
        struct candidate cd = {.ni = orig};
        struct sched_status *st = select_victims(c2, ni, pdbs, npdb, &cd);
        if (!st && cd.nvictims == 0)
            st = sched_status_newf(SCHED_ERROR, "expected at least one victim pod on node \"%s\"",
                                   orig->name);
        if (st) {
            ck_strmap_put(&statuses, orig->name, st);
            free(cd.victims);
        } else {
            cds[ncds++] = cd;
            if (cd.violations == 0)
                nonviolating++;
        }
        sched_cycle_free(c2);
        sched_node_info_free(ni);
        if (nonviolating > 0 && ncds >= want)
            break;
    }
    struct sched_status *ret = NULL;
    if (ncds == 0) {
        struct sched_status *not_helpful = sched_status_new(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE,
                                                            SCHED_REASON_PREEMPTION_NOT_HELPFUL);
        char *msg = sched_fit_error_message(c->snap->nnodes, &statuses, not_helpful, NULL, NULL);
        ret = preemption_status(msg);
        free(msg);
        sched_status_free(not_helpful);
        res->nominate = true;
        res->node = ck_xstrdup("");
    } else {
        /* non-violating candidates come first, as upstream appends them first */
        struct candidate *ordered = ck_xcalloc(ncds, sizeof(*ordered));
        size_t k = 0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < ncds; i++)
                if ((cds[i].violations == 0) == (pass == 0))
                    ordered[k++] = cds[i];
        memcpy(cds, ordered, ncds * sizeof(*cds));
        free(ordered);
        struct candidate *best = &cds[pick(cds, ncds)];
        res->nominate = true;
        res->node = ck_xstrdup(best->ni->name);
        res->victims = best->victims;
        res->nvictims = best->nvictims;
        best->victims = NULL;
        best->nvictims = 0;
        struct sched_pod **nom = NULL;
        size_t nn = c->nominator ? sched_nominator_pods_for_node(c->nominator, res->node, &nom) : 0;
        for (size_t i = 0; i < nn; i++) {
            if (nom[i]->priority < pod->priority) {
                res->clear_nominated =
                    ck_xrealloc(res->clear_nominated, (res->nclear + 1) * sizeof(*nom));
                res->clear_nominated[res->nclear++] = nom[i];
            } else {
                sched_pod_unref(nom[i]);
            }
        }
        free(nom);
    }
    for (size_t i = 0; i < ncds; i++) {
        for (size_t j = 0; j < cds[i].nvictims; j++)
            sched_pod_unref(cds[i].victims[j]);
        free(cds[i].victims);
    }
    free(cds);
    for (size_t i = 0; i < npdb; i++)
        ck_label_selector_free(pdbs[i].sel);
    free(pdbs);
    ck_strmap_free(&statuses, (void (*)(void *))sched_status_free);
    free(pot);
    return ret;
}

const struct sched_plugin sched_plugin_default_preemption = {
    .name = "DefaultPreemption",
    .id = SCHED_PL_DEFAULT_PREEMPTION,
    .post_filter = preempt,
};
