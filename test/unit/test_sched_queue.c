/* Unit tests for the scheduling queue (scheduler/queue.c) with an injected clock: priority
 * then queue-time ordering, upstream's backoff (1 s doubling to 10 s), moves on cluster
 * events through the rejecting plugins' registrations and hints, events during a scheduling
 * attempt, the 5-minute unschedulable flush, scheduling gates, updates and deletes in flight,
 * blocking pop with shutdown, and the nominator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "sched_test_util.h"

#define SEC 1000000000LL

static int64_t g_now;

static int64_t clock_fn(void *ctx)
{
    (void)ctx;
    return g_now;
}

struct fixture {
    struct sched_framework *fw;
    struct sched_queue *q;
};

static int setup(void **state)
{
    struct fixture *f = ck_xcalloc(1, sizeof(*f));
    g_now = 1000 * SEC;
    f->fw = sched_framework_new_default(NULL);
    struct sched_queue_opts o = {.fw = f->fw, .now_ns = clock_fn};
    f->q = sched_queue_new(&o);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sched_queue_free(f->q);
    sched_framework_free(f->fw);
    free(f);
    return 0;
}

static void add(struct sched_queue *q, const char *name, int prio, const char *extra)
{
    char spec[512];
    snprintf(spec, sizeof(spec), "'priority':%d%s%s", prio, extra[0] ? "," : "", extra);
    cJSON *p = pod_json("default", name, "{'app':'x'}", "1", "", "", spec);
    assert_int_equal(sched_queue_add(q, p, NULL), 0);
    cJSON_Delete(p);
}

static char *pop_name(struct sched_queue *q)
{
    struct sched_qpod *qp = sched_queue_pop(q, false);
    if (!qp)
        return ck_xstrdup("");
    char *n = ck_xstrdup(qp->pod->name);
    sched_queue_done(q, qp->pod->key);
    sched_qpod_free(qp);
    return n;
}

static void orders_by_priority_then_time(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *name;
        int prio;
    } in[] = {{"low-early", 10}, {"high", 100}, {"low-late", 10}, {"zero", 0}, {"neg", -5}};
    static const char *const want[] = {"high", "low-early", "low-late", "zero", "neg", ""};
    for (size_t i = 0; i < CK_ARRAY_SIZE(in); i++) {
        add(f->q, in[i].name, in[i].prio, "");
        g_now += SEC;
    }
    cJSON *dup = pod_json("default", "high", NULL, "", "", "", "");
    assert_int_equal(sched_queue_add(f->q, dup, NULL), -EEXIST);
    cJSON_Delete(dup);
    struct sched_queue_stats st;
    sched_queue_stats(f->q, &st);
    assert_int_equal(st.active, 5);
    for (size_t i = 0; i < CK_ARRAY_SIZE(want); i++) {
        char *n = pop_name(f->q);
        assert_string_equal(n, want[i]);
        free(n);
    }
}

static void backoff_doubles_to_ten_seconds(void **state)
{
    struct fixture *f = *state;
    static const struct {
        int attempts;
        int64_t want;
    } cases[] = {{0, 0},       {1, 1 * SEC},  {2, 2 * SEC},  {3, 4 * SEC},
                 {4, 8 * SEC}, {5, 10 * SEC}, {50, 10 * SEC}};
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++)
        assert_int_equal(sched_queue_backoff_ns(f->q, cases[i].attempts), cases[i].want);

    /* an error (no rejecting plugin) sends the pod to backoffQ for 1 s, then 2 s */
    add(f->q, "p", 0, "");
    for (int attempt = 1; attempt <= 2; attempt++) {
        struct sched_qpod *qp = sched_queue_pop(f->q, false);
        assert_non_null(qp);
        assert_int_equal(qp->attempts, attempt);
        const char *key = "uid-default-p";
        assert_int_equal(sched_queue_add_unschedulable(f->q, qp, 0), 0);
        assert_int_equal(sched_queue_where(f->q, key), SCHED_Q_BACKOFF);
        g_now += (attempt == 1 ? SEC : 2 * SEC) - 1;
        sched_queue_flush_backoff(f->q);
        assert_int_equal(sched_queue_where(f->q, key), SCHED_Q_BACKOFF);
        g_now += 1;
        sched_queue_flush_backoff(f->q);
        assert_int_equal(sched_queue_where(f->q, key), SCHED_Q_ACTIVE);
    }
}

static void reject(struct fixture *f, const char *name, enum sched_plugin_id pl)
{
    struct sched_qpod *qp = sched_queue_pop(f->q, false);
    assert_non_null(qp);
    assert_string_equal(qp->pod->name, name);
    char key[64];
    snprintf(key, sizeof(key), "%s", qp->pod->key);
    assert_int_equal(sched_queue_add_unschedulable(f->q, qp, 1u << pl), 0);
    assert_int_equal(sched_queue_where(f->q, key), SCHED_Q_UNSCHEDULABLE);
}

static struct sched_node *node(const char *name, const char *cpu, const char *spec)
{
    cJSON *j = node_json(name, cpu, "8Gi", 110, "{'zone':'z1'}", spec);
    struct sched_node *n = sched_node_new(j, NULL);
    cJSON_Delete(j);
    return n;
}

static void node_events_move_through_hints(void **state)
{
    struct fixture *f = *state;
    add(f->q, "big", 0, "");
    reject(f, "big", SCHED_PL_NODE_RESOURCES_FIT);
    /* a node too small for 1 cpu does not help (NodeResourcesFit's hint) */
    struct sched_node *small = node("small", "500m", NULL);
    sched_queue_node_added(f->q, small);
    assert_int_equal(sched_queue_where(f->q, "uid-default-big"), SCHED_Q_UNSCHEDULABLE);
    /* a big node helps NodeResourcesFit even when tainted (that is another plugin's business) */
    struct sched_node *big = node("big", "4", "{'taints':[{'key':'t','effect':'NoSchedule'}]}");
    g_now += 5 * SEC; /* past the 1 s backoff: straight to activeQ */
    sched_queue_node_added(f->q, big);
    assert_int_equal(sched_queue_where(f->q, "uid-default-big"), SCHED_Q_ACTIVE);

    /* a pod rejected by TaintToleration waits for a node it tolerates */
    reject(f, "big", SCHED_PL_TAINT_TOLERATION);
    sched_queue_node_added(f->q, big);
    assert_int_equal(sched_queue_where(f->q, "uid-default-big"), SCHED_Q_UNSCHEDULABLE);
    /* a pure annotation update is not registered by TaintToleration */
    struct sched_event ann = {
        SCHED_RES_NODE, SCHED_ACT_UPDATE_NODE_ANNOTATION, "NodeUpdate", NULL, NULL, big, small};
    sched_queue_move_all(f->q, &ann);
    assert_int_equal(sched_queue_where(f->q, "uid-default-big"), SCHED_Q_UNSCHEDULABLE);
    /* the taint removed: moved, to backoffQ because the attempt was just now */
    sched_queue_node_updated(f->q, big, small);
    assert_int_equal(sched_queue_where(f->q, "uid-default-big"), SCHED_Q_BACKOFF);
    sched_node_unref(small);
    sched_node_unref(big);
}

static void events_during_the_attempt_count(void **state)
{
    struct fixture *f = *state;
    add(f->q, "p", 0, "");
    struct sched_qpod *qp = sched_queue_pop(f->q, false);
    struct sched_node *n = node("n", "8", NULL);
    sched_queue_node_added(f->q, n); /* arrives while p is being scheduled */
    assert_int_equal(sched_queue_add_unschedulable(f->q, qp, 1u << SCHED_PL_NODE_RESOURCES_FIT), 0);
    assert_int_equal(sched_queue_where(f->q, "uid-default-p"), SCHED_Q_BACKOFF);
    /* an event before the attempt does not count */
    g_now += 20 * SEC;
    sched_queue_flush_backoff(f->q);
    qp = sched_queue_pop(f->q, false);
    assert_int_equal(qp->attempts, 2);
    assert_int_equal(sched_queue_add_unschedulable(f->q, qp, 1u << SCHED_PL_NODE_RESOURCES_FIT), 0);
    assert_int_equal(sched_queue_where(f->q, "uid-default-p"), SCHED_Q_UNSCHEDULABLE);
    sched_node_unref(n);
}

static void unschedulable_flush_after_five_minutes(void **state)
{
    struct fixture *f = *state;
    add(f->q, "p", 0, "");
    reject(f, "p", SCHED_PL_NODE_AFFINITY);
    g_now += 5 * 60 * SEC;
    sched_queue_tick(f->q); /* exactly 5 minutes: not yet */
    assert_int_equal(sched_queue_where(f->q, "uid-default-p"), SCHED_Q_UNSCHEDULABLE);
    g_now += 1;
    sched_queue_flush_unschedulable(f->q);
    assert_int_equal(sched_queue_where(f->q, "uid-default-p"), SCHED_Q_ACTIVE);
}

static void gates_and_updates(void **state)
{
    struct fixture *f = *state;
    cJSON *gated = pod_json("default", "g", NULL, "", "", "",
                            "'schedulingGates':[{'name':'example.com/wait'}]");
    assert_int_equal(sched_queue_add(f->q, gated, NULL), 0);
    struct sched_queue_stats st;
    sched_queue_stats(f->q, &st);
    assert_int_equal(st.gated, 1);
    assert_int_equal(st.active, 0);
    assert_null(sched_queue_pop(f->q, false));
    /* a status-only update changes nothing */
    cJSON *st_only = ck_json_dup(gated);
    ck_json_set_string(st_only, "status.phase", "Pending");
    assert_int_equal(sched_queue_update(f->q, gated, st_only, NULL), 0);
    assert_int_equal(sched_queue_where(f->q, "uid-default-g"), SCHED_Q_UNSCHEDULABLE);
    /* removing the gates releases it */
    cJSON *open = ck_json_dup(gated);
    ck_json_delete(open, "spec.schedulingGates");
    assert_int_equal(sched_queue_update(f->q, st_only, open, NULL), 0);
    assert_int_equal(sched_queue_where(f->q, "uid-default-g"), SCHED_Q_ACTIVE);
    sched_queue_stats(f->q, &st);
    assert_int_equal(st.gated, 0);
    assert_int_equal(st.active, 1);

    /* an unschedulable pod whose spec changes is retried; one whose status changes is not */
    reject(f, "g", SCHED_PL_NODE_AFFINITY);
    cJSON *st2 = ck_json_dup(open);
    ck_json_set_string(st2, "status.message", "x");
    sched_queue_update(f->q, open, st2, NULL);
    assert_int_equal(sched_queue_where(f->q, "uid-default-g"), SCHED_Q_UNSCHEDULABLE);
    cJSON *labeled = ck_json_dup(st2);
    ck_json_set_string(labeled, "metadata.labels.tier", "gold");
    g_now += 2 * SEC;
    sched_queue_update(f->q, st2, labeled, NULL);
    assert_int_equal(sched_queue_where(f->q, "uid-default-g"), SCHED_Q_ACTIVE);

    /* updated while in flight: the newest version comes back; deleted: it does not */
    struct sched_qpod *qp = sched_queue_pop(f->q, false);
    cJSON *newer = ck_json_dup(labeled);
    ck_json_set_string(newer, "metadata.labels.tier", "silver");
    sched_queue_update(f->q, labeled, newer, NULL);
    assert_int_equal(sched_queue_add_unschedulable(f->q, qp, 1u << SCHED_PL_NODE_NAME), 0);
    sched_queue_flush_unschedulable(f->q);
    g_now += 6 * 60 * SEC;
    sched_queue_flush_unschedulable(f->q);
    qp = sched_queue_pop(f->q, false);
    assert_non_null(qp);
    assert_string_equal(ck_json_get_string(qp->pod->labels, "tier", ""), "silver");
    assert_int_equal(sched_queue_delete(f->q, newer), 0);
    assert_int_equal(sched_queue_add_unschedulable(f->q, qp, 0), -ENOENT);
    assert_int_equal(sched_queue_where(f->q, "uid-default-g"), SCHED_Q_NONE);
    cJSON *all[] = {gated, st_only, open, st2, labeled, newer};
    for (size_t i = 0; i < CK_ARRAY_SIZE(all); i++)
        cJSON_Delete(all[i]);
}

static void assigned_pod_events(void **state)
{
    struct fixture *f = *state;
    add(f->q, "web", 0,
        "'affinity':{'podAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
        "[{'labelSelector':{'matchLabels':{'app':'db'}},'topologyKey':'zone'}]}}");
    reject(f, "web", SCHED_PL_INTER_POD_AFFINITY);
    g_now += 10 * SEC;
    struct sched_pod *other =
        parse_pod(pod_json("default", "o", "{'app':'cache'}", "", "", "n1", ""));
    sched_queue_assigned_pod_added(f->q, other);
    assert_int_equal(sched_queue_where(f->q, "uid-default-web"), SCHED_Q_UNSCHEDULABLE);
    struct sched_pod *db = parse_pod(pod_json("default", "db", "{'app':'db'}", "", "", "n1", ""));
    sched_queue_assigned_pod_added(f->q, db);
    assert_int_equal(sched_queue_where(f->q, "uid-default-web"), SCHED_Q_ACTIVE);

    /* NodePorts: only the deletion of a pod holding a conflicting host port helps */
    add(f->q, "hp", 0, "'containers':[{'name':'c','ports':[{'containerPort':1,'hostPort':80}]}]");
    char *n = pop_name(f->q); /* web */
    free(n);
    reject(f, "hp", SCHED_PL_NODE_PORTS);
    sched_queue_assigned_pod_deleted(f->q, db);
    assert_int_equal(sched_queue_where(f->q, "uid-default-hp"), SCHED_Q_UNSCHEDULABLE);
    struct sched_pod *holder = parse_pod(J("{'metadata':{'namespace':'x','name':'h','uid':'h'},"
                                           "'spec':{'nodeName':'n1','containers':[{'name':'c',"
                                           "'ports':[{'containerPort':1,'hostPort':80}]}]}}"));
    g_now += 10 * SEC;
    sched_queue_assigned_pod_deleted(f->q, holder);
    assert_int_equal(sched_queue_where(f->q, "uid-default-hp"), SCHED_Q_ACTIVE);
    sched_pod_unref(other);
    sched_pod_unref(db);
    sched_pod_unref(holder);
}

static void *closer(void *arg)
{
    usleep(20000);
    sched_queue_close(arg);
    return NULL;
}

static void nominator_and_close(void **state)
{
    struct fixture *f = *state;
    struct sched_pod *a = parse_pod(pod_json("default", "a", NULL, "1", "", "", "'priority':5"));
    struct sched_pod *b = parse_pod(J("{'metadata':{'namespace':'d','name':'b','uid':'b'},"
                                      "'spec':{},'status':{'nominatedNodeName':'n2'}}"));
    sched_queue_set_nominated(f->q, a, "n1");
    sched_queue_set_nominated(f->q, b, NULL);
    struct sched_pod **pods;
    size_t n = sched_nominator_pods_for_node(sched_queue_nominator(f->q), "n1", &pods);
    assert_int_equal(n, 1);
    assert_string_equal(pods[0]->name, "a");
    sched_pod_unref(pods[0]);
    free(pods);
    n = sched_nominator_pods_for_node(sched_queue_nominator(f->q), "n2", &pods);
    assert_int_equal(n, 1);
    sched_pod_unref(pods[0]);
    free(pods);
    sched_queue_set_nominated(f->q, a, "");
    sched_queue_delete_nominated(f->q, "b");
    n = sched_nominator_pods_for_node(sched_queue_nominator(f->q), "n1", &pods);
    assert_int_equal(n, 0);
    sched_pod_unref(a);
    sched_pod_unref(b);

    pthread_t t;
    pthread_create(&t, NULL, closer, f->q);
    assert_null(sched_queue_pop(f->q, true)); /* blocks until closed */
    pthread_join(t, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(orders_by_priority_then_time, setup, teardown),
        cmocka_unit_test_setup_teardown(backoff_doubles_to_ten_seconds, setup, teardown),
        cmocka_unit_test_setup_teardown(node_events_move_through_hints, setup, teardown),
        cmocka_unit_test_setup_teardown(events_during_the_attempt_count, setup, teardown),
        cmocka_unit_test_setup_teardown(unschedulable_flush_after_five_minutes, setup, teardown),
        cmocka_unit_test_setup_teardown(gates_and_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(assigned_pod_events, setup, teardown),
        cmocka_unit_test_setup_teardown(nominator_and_close, setup, teardown),
    };
    return cmocka_run_group_tests_name("sched_queue", tests, NULL, NULL);
}
