/* Unit tests for one scheduling cycle (scheduler/schedule.c), preemption
 * (scheduler/plugins/defaultpreemption.c) and the cache (scheduler/cache.c) with upstream's
 * default profile: the FailedScheduling message format and ordering, node sampling, random tie
 * breaking, victims and candidate choice, assumed pods, the PodScheduled condition. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "sched_test_util.h"

static void feasible_nodes_to_find(void **state)
{
    (void)state;
    static const struct {
        int pct;
        int32_t nodes, want;
    } cases[] = {{0, 0, 0},       {0, 50, 50},    {0, 99, 99},       {0, 100, 100},
                 {0, 1000, 420},  {0, 5000, 500}, {0, 6000, 300},    {0, 20000, 1000},
                 {30, 1000, 300}, {1, 1000, 100}, {100, 5000, 5000}, {0, 250, 120}};
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++)
        assert_int_equal(sched_num_feasible_nodes_to_find(cases[i].pct, cases[i].nodes),
                         cases[i].want);
}

static char *schedule(struct world *w, struct sched_scheduler *s, cJSON *pod,
                      struct sched_result *r)
{
    sched_cache_update_snapshot(w->cache, &w->snap);
    struct sched_pod *p = parse_pod(pod);
    assert_int_equal(sched_schedule_one(s, &w->snap, p, NULL, r), 0);
    sched_pod_unref(p);
    return r->code == SCHED_SUCCESS ? ck_xasprintf("node %s", r->node) : ck_xstrdup(r->message);
}

#define CP_TAINT                                                                                   \
    "{'taints':[{'key':'node-role.kubernetes.io/control-plane','effect':'NoSchedule'}]}"

/* The message of the issue: one control plane, two busy nodes, two of another pool. */
static void five_nodes(struct world *w, const char *busy_prio)
{
    world_node(w, node_json("cp", "4", "8Gi", 110, "{'pool':'a'}", CP_TAINT));
    world_node(w, node_json("a1", "4", "8Gi", 110, "{'pool':'a'}", NULL));
    world_node(w, node_json("a2", "4", "8Gi", 110, "{'pool':'a'}", NULL));
    world_node(w, node_json("b1", "4", "8Gi", 110, "{'pool':'b'}", NULL));
    world_node(w, node_json("b2", "4", "8Gi", 110, "{'pool':'b'}", NULL));
    char extra[64];
    snprintf(extra, sizeof(extra), "'priority':%s", busy_prio);
    world_pod(w, pod_json("d", "busy1", NULL, "3", "", "a1", extra));
    world_pod(w, pod_json("d", "busy2", NULL, "3", "", "a2", extra));
}

static void failed_scheduling_messages(void **state)
{
    (void)state;
    static const struct {
        const char *what, *busy_prio, *cpu, *extra, *want;
    } cases[] = {
        {"the request exceeds every node: preemption cannot help", "0", "5",
         "'nodeSelector':{'pool':'a'}",
         "0/5 nodes are available: 1 node(s) had untolerated taint "
         "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu, 2 node(s) didn't match "
         "Pod's node affinity/selector. preemption: 0/5 nodes are available: 5 Preemption is not "
         "helpful for scheduling.."},
        {"busy nodes with pods of equal priority", "0", "2", "'nodeSelector':{'pool':'a'}",
         "0/5 nodes are available: 1 node(s) had untolerated taint "
         "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu, 2 node(s) didn't match "
         "Pod's node affinity/selector. preemption: 0/5 nodes are available: 2 No preemption "
         "victims found for incoming pod, 3 Preemption is not helpful for scheduling.."},
        {"preemptionPolicy Never", "0", "2",
         "'nodeSelector':{'pool':'a'},'priority':10,'preemptionPolicy':'Never'",
         "0/5 nodes are available: 1 node(s) had untolerated taint "
         "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu, 2 node(s) didn't match "
         "Pod's node affinity/selector. preemption: not eligible due to "
         "preemptionPolicy=Never.."},
        {"PreFilter rejection replaces the node histogram", "0", "1",
         "'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
         "{'nodeSelectorTerms':[{'matchFields':[{'key':'metadata.name','operator':'In','values':"
         "['a1']},{'key':'metadata.name','operator':'In','values':['b1']}]}]}}}",
         "0/5 nodes are available: pod affinity terms conflict. preemption: 0/5 nodes are "
         "available: 5 Preemption is not helpful for scheduling.."},
        {"nodes left out by a PreFilter result", "0", "2",
         "'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
         "{'nodeSelectorTerms':[{'matchFields':[{'key':'metadata.name','operator':'In','values':"
         "['a1']}]}]}}}",
         "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) "
         "[NodeAffinity]. preemption: 0/5 nodes are available: 1 No preemption victims found "
         "for incoming pod, 4 Preemption is not helpful for scheduling.."},
        {"fits on b once the selector allows it", "0", "2", "'nodeSelector':{'pool':'b'}", "b"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct world w;
        world_init(&w, NULL, 0, NULL);
        five_nodes(&w, cases[i].busy_prio);
        struct sched_scheduler s = {w.fw, 0};
        struct sched_result r;
        char *got =
            schedule(&w, &s, pod_json("d", "p", NULL, cases[i].cpu, "", "", cases[i].extra), &r);
        if (strlen(cases[i].want) == 1) {
            assert_int_equal(r.code, SCHED_SUCCESS);
            assert_int_equal(r.node[0], cases[i].want[0]);
        } else {
            if (strcmp(got, cases[i].want) != 0)
                fail_msg("%s:\n got  %s\n want %s", cases[i].what, got, cases[i].want);
            assert_string_equal(got, cases[i].want);
            assert_string_equal(r.reason, "Unschedulable");
            assert_int_not_equal(r.unsched_plugins, 0);
        }
        free(got);
        sched_result_clear(&r);
        world_free(&w);
    }
}

static void histogram_sorts_as_strings(void **state)
{
    (void)state;
    struct ck_strmap m = CK_STRMAP_INIT;
    for (int i = 0; i < 12; i++) {
        char name[16];
        snprintf(name, sizeof(name), "n%d", i);
        ck_strmap_put(
            &m, name,
            sched_status_new(SCHED_UNSCHEDULABLE, i < 10 ? "Insufficient cpu" : "Too many pods"));
    }
    struct sched_status *absent = sched_status_new(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE, "gone");
    char *msg = sched_fit_error_message(15, &m, absent, NULL, "preemption: x");
    /* "10 ..." sorts before "2 ..." (Go's sort.Strings on "count reason") */
    assert_string_equal(msg, "0/15 nodes are available: 10 Insufficient cpu, 2 Too many pods, 3 "
                             "gone. preemption: x.");
    free(msg);
    msg = sched_fit_error_message(3, NULL, NULL, NULL, NULL);
    assert_string_equal(msg, "0/3 nodes are available:");
    free(msg);
    sched_status_free(absent);
    ck_strmap_free(&m, (void (*)(void *))sched_status_free);

    cJSON *c = sched_unschedulable_condition("Unschedulable", "0/1 nodes are available: x.",
                                             "2026-01-02T03:04:05Z");
    char *txt = ck_json_print(c, 0);
    assert_string_equal(txt, "{\"type\":\"PodScheduled\",\"status\":\"False\",\"lastProbeTime\":"
                             "null,\"lastTransitionTime\":\"2026-01-02T03:04:05Z\",\"reason\":"
                             "\"Unschedulable\",\"message\":\"0/1 nodes are available: x.\"}");
    free(txt);
    cJSON_Delete(c);
    char big[1500];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    char *ev = sched_event_message(big);
    assert_int_equal(strlen(ev), 1024);
    assert_string_equal(ev + 1020, " ...");
    free(ev);
    ev = sched_event_message("short");
    assert_string_equal(ev, "short");
    free(ev);
}

static uint64_t rand_zero(void *ctx, uint64_t n)
{
    (void)ctx;
    (void)n;
    return 0;
}

static uint64_t rand_last(void *ctx, uint64_t n)
{
    (void)ctx;
    return n - 1;
}

static void scoring_sampling_and_ties(void **state)
{
    (void)state;
    struct world w;
    struct sched_result r;
    for (int variant = 0; variant < 2; variant++) {
        struct sched_handle h = {.rand = variant ? rand_last : rand_zero};
        world_init(&w, NULL, 0, &h);
        for (int i = 0; i < 3; i++) {
            char name[16];
            snprintf(name, sizeof(name), "n%d", i);
            world_node(&w, node_json(name, "4", "8Gi", 110, NULL, NULL));
        }
        world_pod(&w, pod_json("d", "busy", NULL, "2", "", "n1", ""));
        struct sched_scheduler s = {w.fw, 0};
        char *got = schedule(&w, &s, pod_json("d", "p", NULL, "1", "1Gi", "", ""), &r);
        /* n0 and n2 tie; the reservoir keeps a later tie only when rand(ties) == 0 */
        assert_string_equal(got, variant ? "node n0" : "node n2");
        assert_int_equal(r.evaluated, 3);
        assert_int_equal(r.feasible, 3);
        free(got);
        sched_result_clear(&r);
        world_free(&w);
    }

    /* 250 nodes: 120 feasible nodes are enough (48%), and the next cycle starts after them */
    world_init(&w, NULL, 0, NULL);
    for (int i = 0; i < 250; i++) {
        char name[16];
        snprintf(name, sizeof(name), "n%03d", i);
        world_node(&w, node_json(name, "4", "8Gi", 110, NULL, NULL));
    }
    struct sched_scheduler s = {w.fw, 0};
    char *got = schedule(&w, &s, pod_json("d", "p", NULL, "1", "", "", ""), &r);
    assert_int_equal(r.feasible, 120);
    assert_int_equal(r.evaluated, 120);
    assert_int_equal(s.next_start, 120);
    free(got);
    sched_result_clear(&r);
    got = schedule(&w, &s, pod_json("d", "p", NULL, "1", "", "", ""), &r);
    assert_int_equal(s.next_start, 240);
    free(got);
    sched_result_clear(&r);
    got = schedule(&w, &s, pod_json("d", "p", NULL, "1", "", "", ""), &r);
    assert_int_equal(s.next_start, 110); /* wraps around */
    free(got);
    sched_result_clear(&r);
    world_free(&w);

    /* no nodes at all */
    world_init(&w, NULL, 0, NULL);
    s.fw = w.fw;
    got = schedule(&w, &s, pod_json("d", "p", NULL, "1", "", "", ""), &r);
    assert_string_equal(got, "no nodes available to schedule pods");
    assert_string_equal(r.reason, "Unschedulable");
    free(got);
    sched_result_clear(&r);
    world_free(&w);
}

static const cJSON *g_pdbs;
static const cJSON *pdbs(void *ctx)
{
    (void)ctx;
    return g_pdbs;
}

static void preemption_picks_minimal_victims(void **state)
{
    (void)state;
    struct sched_handle h = {.pdbs = pdbs, .rand = rand_zero};
    struct world w;
    world_init(&w, NULL, 0, &h);
    world_node(&w, node_json("n1", "4", "8Gi", 110, NULL, NULL));
    world_node(&w, node_json("n2", "4", "8Gi", 110, NULL, NULL));
    /* n1: priorities 1 (1 cpu) and 2 (2 cpu); n2: priority 5 (3 cpu) */
    world_pod(&w, pod_json("d", "low1", "{'app':'a'}", "1", "", "n1", "'priority':1"));
    world_pod(&w, pod_json("d", "low2", "{'app':'b'}", "2", "", "n1", "'priority':2"));
    world_pod(&w, pod_json("d", "mid", "{'app':'c'}", "3", "", "n2", "'priority':5"));
    struct sched_scheduler s = {w.fw, 0};
    struct sched_result r;
    char *got = schedule(&w, &s, pod_json("d", "hi", NULL, "2", "", "", "'priority':100"), &r);
    /* the preemption succeeded: no "preemption:" part, the pod is nominated to n1 where only
     * low1 must go (low2 is reprieved); n2 would need a priority-5 victim */
    assert_string_equal(got, "0/2 nodes are available: 2 Insufficient cpu.");
    assert_true(r.post.nominate);
    assert_string_equal(r.post.node, "n1");
    assert_int_equal(r.post.nvictims, 1);
    assert_string_equal(r.post.victims[0]->name, "low1");
    free(got);
    sched_result_clear(&r);

    /* a PDB on low1 (no disruptions allowed): PDB-violating pods are reprieved first, so
     * low1 stays and low2 becomes the victim on n1 */
    cJSON *pdb = J("[{'metadata':{'namespace':'d','name':'pdb'},'spec':{'selector':"
                   "{'matchLabels':{'app':'a'}}},'status':{'disruptionsAllowed':0}}]");
    g_pdbs = pdb;
    got = schedule(&w, &s, pod_json("d", "hi", NULL, "2", "", "", "'priority':100"), &r);
    assert_string_equal(r.post.node, "n1");
    assert_int_equal(r.post.nvictims, 1);
    assert_string_equal(r.post.victims[0]->name, "low2");
    free(got);
    sched_result_clear(&r);
    /* a PDB on both: n1 must violate it, so n2 (no violation) wins despite its priority */
    ck_json_set(pdb, "[0].spec.selector",
                J("{'matchExpressions':[{'key':'app','operator':'In',"
                  "'values':['a','b']}]}"));
    got = schedule(&w, &s, pod_json("d", "hi", NULL, "2", "", "", "'priority':100"), &r);
    assert_string_equal(r.post.node, "n2");
    assert_string_equal(r.post.victims[0]->name, "mid");
    free(got);
    sched_result_clear(&r);
    /* a pod already in the PDB's disruptedPods does not consume the budget */
    ck_json_set(pdb, "[0].status.disruptedPods", J("{'low1':'2026-01-01T00:00:00Z'}"));
    got = schedule(&w, &s, pod_json("d", "hi", NULL, "2", "", "", "'priority':100"), &r);
    assert_string_equal(r.post.node, "n1");
    assert_string_equal(r.post.victims[0]->name, "low1");
    free(got);
    sched_result_clear(&r);
    g_pdbs = NULL;
    cJSON_Delete(pdb);

    /* lower priority than everything: nothing to preempt */
    got = schedule(&w, &s, pod_json("d", "lo", NULL, "2", "", "", "'priority':1"), &r);
    assert_string_equal(got, "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes "
                             "are available: 2 No preemption victims found for incoming pod..");
    assert_true(r.post.nominate);
    assert_string_equal(r.post.node, ""); /* clears a stale nomination */
    free(got);
    sched_result_clear(&r);
    world_free(&w);
}

static void nominated_pods_hold_their_room(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, NULL, 0, NULL);
    world_node(&w, node_json("n1", "4", "8Gi", 110, NULL, NULL));
    struct sched_queue *q = sched_queue_new(NULL);
    struct sched_pod *nom = parse_pod(pod_json("d", "nom", NULL, "3", "", "", "'priority':50"));
    sched_queue_set_nominated(q, nom, "n1");
    sched_cache_update_snapshot(w.cache, &w.snap);
    struct sched_scheduler s = {w.fw, 0};
    struct sched_result r;
    /* a lower-priority pod must leave room for the nominated one */
    struct sched_pod *p = parse_pod(pod_json("d", "p", NULL, "2", "", "", "'priority':10"));
    assert_int_equal(sched_schedule_one(&s, &w.snap, p, sched_queue_nominator(q), &r), 0);
    assert_int_equal(r.code, SCHED_UNSCHEDULABLE);
    assert_string_equal(r.message, "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 "
                                   "nodes are available: 1 No preemption victims found for "
                                   "incoming pod..");
    sched_result_clear(&r);
    sched_pod_unref(p);
    /* a higher-priority pod may take it */
    p = parse_pod(pod_json("d", "vip", NULL, "2", "", "", "'priority':100"));
    assert_int_equal(sched_schedule_one(&s, &w.snap, p, sched_queue_nominator(q), &r), 0);
    assert_int_equal(r.code, SCHED_SUCCESS);
    assert_string_equal(r.node, "n1");
    sched_result_clear(&r);
    sched_pod_unref(p);
    sched_pod_unref(nom);
    sched_queue_free(q);
    world_free(&w);
}

static int64_t g_now;
static int64_t clock_fn(void *ctx)
{
    (void)ctx;
    return g_now;
}

static void cache_assumes_and_confirms(void **state)
{
    (void)state;
    struct sched_cache_opts o = {.assumed_ttl_ns = 30LL * 1000000000, .now_ns = clock_fn};
    struct sched_cache *c = sched_cache_new(&o);
    struct sched_snapshot snap;
    sched_snapshot_init(&snap);
    cJSON *n = node_json("n1", "4", "8Gi", 110, "{'topology.kubernetes.io/zone':'z'}", NULL);
    assert_int_equal(sched_cache_add_node(c, n, NULL), 0);
    struct sched_pod *p = parse_pod(pod_json("d", "p", NULL, "3", "", "", ""));
    assert_int_equal(sched_cache_assume_pod(c, p, "n1"), 0);
    assert_true(sched_cache_is_assumed(c, p->key));
    sched_cache_update_snapshot(c, &snap);
    struct sched_node_info *ni = sched_snapshot_get(&snap, "n1");
    assert_int_equal(ni->requested.milli_cpu, 3000);
    assert_int_equal(ni->npods, 1);
    /* forgetting (failed binding) releases the room */
    assert_int_equal(sched_cache_forget_pod(c, p->key), 0);
    assert_int_equal(sched_cache_forget_pod(c, p->key), -ENOENT);
    sched_cache_update_snapshot(c, &snap);
    assert_int_equal(sched_snapshot_get(&snap, "n1")->requested.milli_cpu, 0);
    /* assumed, binding finished, never confirmed: expires after the ttl */
    assert_int_equal(sched_cache_assume_pod(c, p, "n1"), 0);
    assert_int_equal(sched_cache_finish_binding(c, p->key), 0);
    g_now += 29LL * 1000000000;
    assert_int_equal(sched_cache_cleanup_assumed(c), 0);
    g_now += 1LL * 1000000000;
    assert_int_equal(sched_cache_cleanup_assumed(c), 1);
    assert_int_equal(sched_cache_pod_count(c), 0);
    /* assumed then confirmed by the informer: no longer assumed, not expirable */
    assert_int_equal(sched_cache_assume_pod(c, p, "n1"), 0);
    cJSON *bound = pod_json("d", "p", NULL, "3", "", "n1", "");
    assert_int_equal(sched_cache_add_pod(c, bound, NULL), 0);
    assert_false(sched_cache_is_assumed(c, p->key));
    assert_int_equal(sched_cache_add_pod(c, bound, NULL), -EEXIST);
    sched_cache_update_snapshot(c, &snap);
    assert_int_equal(sched_snapshot_get(&snap, "n1")->npods, 1);
    /* removing the node keeps its pods' node info out of the snapshot */
    assert_int_equal(sched_cache_remove_node(c, n), 0);
    assert_int_equal(sched_cache_node_count(c), 0);
    sched_cache_update_snapshot(c, &snap);
    assert_int_equal(snap.nnodes, 0);
    assert_null(sched_snapshot_get(&snap, "n1"));
    /* the node comes back: its pod is still accounted */
    assert_int_equal(sched_cache_add_node(c, n, NULL), 0);
    sched_cache_update_snapshot(c, &snap);
    assert_int_equal(snap.nnodes, 1);
    assert_int_equal(sched_snapshot_get(&snap, "n1")->requested.milli_cpu, 3000);
    assert_int_equal(sched_cache_remove_pod(c, bound), 0);
    assert_int_equal(sched_cache_remove_pod(c, bound), -ENOENT);
    sched_cache_update_snapshot(c, &snap);
    assert_int_equal(sched_snapshot_get(&snap, "n1")->npods, 0);
    cJSON_Delete(bound);
    cJSON_Delete(n);
    sched_pod_unref(p);
    sched_snapshot_free(&snap);
    sched_cache_free(c);
}

static void snapshot_interleaves_zones(void **state)
{
    (void)state;
    struct sched_cache *c = sched_cache_new(NULL);
    struct sched_snapshot snap;
    sched_snapshot_init(&snap);
    static const char *const nodes[][2] = {{"a1", "za"}, {"a2", "za"}, {"a3", "za"},
                                           {"b1", "zb"}, {"c1", "zc"}, {"b2", "zb"}};
    for (size_t i = 0; i < CK_ARRAY_SIZE(nodes); i++) {
        char labels[128];
        snprintf(labels, sizeof(labels), "{'topology.kubernetes.io/zone':'%s'}", nodes[i][1]);
        cJSON *n = node_json(nodes[i][0], "4", "8Gi", 110, labels, NULL);
        sched_cache_add_node(c, n, NULL);
        cJSON_Delete(n);
    }
    sched_cache_update_snapshot(c, &snap);
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; i < snap.nnodes; i++)
        ck_buf_printf(&b, "%s ", snap.nodes[i]->name);
    assert_string_equal(ck_buf_str(&b), "a1 b1 c1 a2 b2 a3 ");
    ck_buf_free(&b);
    assert_int_equal(sched_cache_node_count(c), 6);
    sched_snapshot_free(&snap);
    sched_cache_free(c);
}

static int g_unreserved;
static struct sched_status *deny_reserve(struct sched_cycle *c, const char *node)
{
    (void)c;
    return strcmp(node, "bad") == 0 ? sched_status_new(SCHED_UNSCHEDULABLE, "no volume") : NULL;
}
static void count_unreserve(struct sched_cycle *c, const char *node)
{
    (void)c;
    (void)node;
    g_unreserved++;
}
static struct sched_status *wait_permit(struct sched_cycle *c, const char *node, int64_t *w)
{
    (void)c;
    (void)node;
    *w = 5;
    return sched_status_new(SCHED_WAIT, NULL);
}

static void binding_cycle_hooks_and_admission(void **state)
{
    (void)state;
    static const struct sched_plugin vol = {.name = "Volumes",
                                            .id = SCHED_PL_NODE_PORTS,
                                            .reserve = deny_reserve,
                                            .unreserve = count_unreserve,
                                            .permit = wait_permit};
    static const struct sched_plugin *const pls[] = {&vol};
    struct world w;
    world_init(&w, pls, 1, NULL);
    world_node(&w, node_json("n1", "4", "8Gi", 110, "{'a':'b'}", NULL));
    sched_cache_update_snapshot(w.cache, &w.snap);
    struct sched_pod *p = parse_pod(pod_json("d", "p", NULL, "1", "", "", ""));
    struct sched_cycle *c = sched_cycle_new(w.fw, &w.snap, p);
    assert_null(sched_run_reserve(c, "n1"));
    struct sched_status *st = sched_run_reserve(c, "bad");
    assert_string_equal(st->plugin, "Volumes");
    assert_int_equal(g_unreserved, 1); /* a failed Reserve unreserves */
    sched_status_free(st);
    int64_t wait = 0;
    st = sched_run_permit(c, "n1", &wait);
    assert_int_equal(sched_status_code(st), SCHED_WAIT);
    assert_int_equal(wait, 5);
    sched_status_free(st);
    assert_null(sched_run_pre_bind(c, "n1"));
    st = sched_run_bind(c, "n1"); /* nobody binds: the daemon's pods/binding call does */
    assert_int_equal(sched_status_code(st), SCHED_SKIP);
    sched_status_free(st);
    sched_cycle_free(c);

    /* the queue's pre-check of a node for a pod (resources, name, affinity, ports, taints) */
    struct sched_node_info *ni = sched_snapshot_get(&w.snap, "n1");
    assert_true(sched_node_admits(p, ni));
    sched_pod_unref(p);
    p = parse_pod(pod_json("d", "big", NULL, "5", "", "", ""));
    assert_false(sched_node_admits(p, ni));
    sched_pod_unref(p);
    p = parse_pod(pod_json("d", "sel", NULL, "1", "", "", "'nodeSelector':{'a':'c'}"));
    assert_false(sched_node_admits(p, ni));
    sched_pod_unref(p);
    world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(feasible_nodes_to_find),
        cmocka_unit_test(failed_scheduling_messages),
        cmocka_unit_test(histogram_sorts_as_strings),
        cmocka_unit_test(scoring_sampling_and_ties),
        cmocka_unit_test(preemption_picks_minimal_victims),
        cmocka_unit_test(nominated_pods_hold_their_room),
        cmocka_unit_test(cache_assumes_and_confirms),
        cmocka_unit_test(snapshot_interleaves_zones),
        cmocka_unit_test(binding_cycle_hooks_and_admission),
    };
    return cmocka_run_group_tests_name("sched_schedule", tests, NULL, NULL);
}
