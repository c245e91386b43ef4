/* Unit tests for the node-local scheduler plugins (scheduler/plugins/nodebasic.c,
 * nodeaffinity.c, noderesources.c) and the pod model (scheduler/nodeinfo.c): upstream's
 * filter verdicts and reason strings, request arithmetic, and score values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sched_test_util.h"

static const struct sched_plugin *const FILTERS[] = {
    &sched_plugin_node_unschedulable, &sched_plugin_node_name,  &sched_plugin_taint_toleration,
    &sched_plugin_node_affinity,      &sched_plugin_node_ports, &sched_plugin_node_resources_fit,
};

struct filter_case {
    const char *what;
    const char *node_labels;
    const char *node_spec;
    const char *pod_extra; /* spec members */
    const char *pod_node;  /* spec.nodeName */
    const char *want;      /* "" = fits */
};

static void run_filter_cases(const struct filter_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct world w;
        world_init(&w, FILTERS, CK_ARRAY_SIZE(FILTERS), NULL);
        world_node(&w, node_json("n1", "4", "8Gi", 110, cases[i].node_labels, cases[i].node_spec));
        char *got = world_filter(
            &w, pod_json("default", "p", NULL, "100m", "", cases[i].pod_node, cases[i].pod_extra),
            "n1");
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].what, got, cases[i].want);
        assert_string_equal(got, cases[i].want);
        free(got);
        world_free(&w);
    }
}

#define UNRES "UnschedulableAndUnresolvable: "

static void unschedulable_name_and_taints(void **state)
{
    (void)state;
    static const struct filter_case cases[] = {
        {"schedulable node", NULL, "{}", "", "", ""},
        {"cordoned node", NULL, "{'unschedulable':true}", "", "",
         UNRES "node(s) were unschedulable"},
        {"cordoned node, pod tolerates the unschedulable taint", NULL, "{'unschedulable':true}",
         "'tolerations':[{'key':'node.kubernetes.io/unschedulable','operator':'Exists',"
         "'effect':'NoSchedule'}]",
         "", ""},
        {"cordoned node, toleration for another effect", NULL, "{'unschedulable':true}",
         "'tolerations':[{'key':'node.kubernetes.io/unschedulable','operator':'Exists',"
         "'effect':'NoExecute'}]",
         "", UNRES "node(s) were unschedulable"},
        {"nodeName matches", NULL, "{}", "", "n1", ""},
        {"nodeName differs", NULL, "{}", "", "n2",
         UNRES "node(s) didn't match the requested node name"},
        {"control-plane taint without toleration", NULL,
         "{'taints':[{'key':'node-role.kubernetes.io/control-plane','effect':'NoSchedule'}]}", "",
         "", UNRES "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"},
        {"taint with a value, Equal toleration of another value", NULL,
         "{'taints':[{'key':'dedicated','value':'gpu','effect':'NoSchedule'}]}",
         "'tolerations':[{'key':'dedicated','operator':'Equal','value':'db'}]", "",
         UNRES "node(s) had untolerated taint {dedicated: gpu}"},
        {"Equal toleration (operator defaulted) of the same value", NULL,
         "{'taints':[{'key':'dedicated','value':'gpu','effect':'NoSchedule'}]}",
         "'tolerations':[{'key':'dedicated','value':'gpu','effect':'NoSchedule'}]", "", ""},
        {"Exists with an empty key tolerates everything", NULL,
         "{'taints':[{'key':'a','value':'1','effect':'NoExecute'},{'key':'b','effect':'NoSchedule'}"
         "]}",
         "'tolerations':[{'operator':'Exists'}]", "", ""},
        {"NoExecute taint is filtered too", NULL,
         "{'taints':[{'key':'node.kubernetes.io/not-ready','effect':'NoExecute'}]}", "", "",
         UNRES "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"},
        {"PreferNoSchedule never filters", NULL,
         "{'taints':[{'key':'soft','value':'x','effect':'PreferNoSchedule'}]}", "", "", ""},
        {"the first untolerated taint is reported", NULL,
         "{'taints':[{'key':'a','effect':'NoSchedule'},{'key':'b','value':'2','effect':'NoSchedule'"
         "}]}",
         "'tolerations':[{'key':'a','operator':'Exists'}]", "",
         UNRES "node(s) had untolerated taint {b: 2}"},
    };
    run_filter_cases(cases, CK_ARRAY_SIZE(cases));
}

#define ZONE_LABELS                                                                                \
    "{'topology.kubernetes.io/zone':'z1','disktype':'ssd','cores':'8','kubernetes.io/"             \
    "hostname':'n1'}"
#define REQUIRED(terms)                                                                            \
    "'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"                \
    "{'nodeSelectorTerms':" terms "}}}"
#define AFF_FAIL UNRES "node(s) didn't match Pod's node affinity/selector"

static void node_affinity_operators(void **state)
{
    (void)state;
    static const struct filter_case cases[] = {
        {"nodeSelector matches", ZONE_LABELS, "{}", "'nodeSelector':{'disktype':'ssd'}", "", ""},
        {"nodeSelector value differs", ZONE_LABELS, "{}", "'nodeSelector':{'disktype':'hdd'}", "",
         AFF_FAIL},
        {"nodeSelector label missing", ZONE_LABELS, "{}", "'nodeSelector':{'gpu':'true'}", "",
         AFF_FAIL},
        {"In", ZONE_LABELS, "{}",
         REQUIRED(
             "[{'matchExpressions':[{'key':'disktype','operator':'In','values':['hdd','ssd']}]}]"),
         "", ""},
        {"NotIn with the value", ZONE_LABELS, "{}",
         REQUIRED(
             "[{'matchExpressions':[{'key':'disktype','operator':'NotIn','values':['ssd']}]}]"),
         "", AFF_FAIL},
        {"NotIn with the label absent matches", ZONE_LABELS, "{}",
         REQUIRED("[{'matchExpressions':[{'key':'gpu','operator':'NotIn','values':['x']}]}]"), "",
         ""},
        {"Exists", ZONE_LABELS, "{}",
         REQUIRED("[{'matchExpressions':[{'key':'disktype','operator':'Exists'}]}]"), "", ""},
        {"DoesNotExist on a present label", ZONE_LABELS, "{}",
         REQUIRED("[{'matchExpressions':[{'key':'disktype','operator':'DoesNotExist'}]}]"), "",
         AFF_FAIL},
        {"Gt true (8 > 4)", ZONE_LABELS, "{}",
         REQUIRED("[{'matchExpressions':[{'key':'cores','operator':'Gt','values':['4']}]}]"), "",
         ""},
        {"Gt false (8 > 8)", ZONE_LABELS, "{}",
         REQUIRED("[{'matchExpressions':[{'key':'cores','operator':'Gt','values':['8']}]}]"), "",
         AFF_FAIL},
        {"Lt true (8 < 16)", ZONE_LABELS, "{}",
         REQUIRED("[{'matchExpressions':[{'key':'cores','operator':'Lt','values':['16']}]}]"), "",
         ""},
        {"Gt on a non-numeric label never matches", ZONE_LABELS, "{}",
         REQUIRED("[{'matchExpressions':[{'key':'disktype','operator':'Gt','values':['1']}]}]"), "",
         AFF_FAIL},
        {"Gt with two values is a broken term", ZONE_LABELS, "{}",
         REQUIRED("[{'matchExpressions':[{'key':'cores','operator':'Gt','values':['1','2']}]}]"),
         "", AFF_FAIL},
        {"terms are ORed", ZONE_LABELS, "{}",
         REQUIRED("[{'matchExpressions':[{'key':'disktype','operator':'In','values':['hdd']}]},"
                  "{'matchExpressions':[{'key':'cores','operator':'Exists'}]}]"),
         "", ""},
        {"expressions in a term are ANDed", ZONE_LABELS, "{}",
         REQUIRED("[{'matchExpressions':[{'key':'disktype','operator':'In','values':['ssd']},"
                  "{'key':'cores','operator':'Lt','values':['2']}]}]"),
         "", AFF_FAIL},
        {"an empty term matches nothing", ZONE_LABELS, "{}", REQUIRED("[{}]"), "", AFF_FAIL},
        {"matchFields metadata.name In", ZONE_LABELS, "{}",
         REQUIRED("[{'matchFields':[{'key':'metadata.name','operator':'In','values':['n1']}]}]"),
         "", ""},
        {"matchFields metadata.name NotIn", ZONE_LABELS, "{}",
         REQUIRED("[{'matchFields':[{'key':'metadata.name','operator':'NotIn','values':['n1']}]}]"),
         "", AFF_FAIL},
        {"matchFields pinning another node leaves this one out of PreFilter", ZONE_LABELS, "{}",
         REQUIRED("[{'matchFields':[{'key':'metadata.name','operator':'In','values':['n9']}]}]"),
         "", "Skip: not in PreFilterResult"},
        {"conflicting matchFields in one term", ZONE_LABELS, "{}",
         REQUIRED("[{'matchFields':[{'key':'metadata.name','operator':'In','values':['n1']},"
                  "{'key':'metadata.name','operator':'In','values':['n2']}]}]"),
         "", UNRES "pod affinity terms conflict"},
        {"nodeSelector and affinity must both hold", ZONE_LABELS, "{}",
         "'nodeSelector':{'disktype':'hdd'}," REQUIRED(
             "[{'matchExpressions':[{'key':'cores','operator':'Exists'}]}]"),
         "", AFF_FAIL},
    };
    run_filter_cases(cases, CK_ARRAY_SIZE(cases));
}

#define PORTS(p) "'containers':[{'name':'c','image':'x','ports':[" p "]}]"

static void node_ports(void **state)
{
    (void)state;
    static const struct {
        const char *used, *want_port, *want;
    } cases[] = {
        {"{'containerPort':80,'hostPort':8080}", "{'containerPort':80,'hostPort':8080}",
         "Unschedulable: node(s) didn't have free ports for the requested pod ports"},
        {"{'containerPort':80,'hostPort':8080}", "{'containerPort':80,'hostPort':8081}", ""},
        {"{'containerPort':80,'hostPort':8080}",
         "{'containerPort':80,'hostPort':8080,'protocol':'UDP'}", ""},
        {"{'containerPort':80,'hostPort':8080,'hostIP':'10.0.0.1'}",
         "{'containerPort':80,'hostPort':8080,'hostIP':'10.0.0.2'}", ""},
        {"{'containerPort':80,'hostPort':8080,'hostIP':'10.0.0.1'}",
         "{'containerPort':80,'hostPort':8080}",
         "Unschedulable: node(s) didn't have free ports for the requested pod ports"},
        {"{'containerPort':80}", "{'containerPort':80}", ""},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct world w;
        world_init(&w, FILTERS, CK_ARRAY_SIZE(FILTERS), NULL);
        world_node(&w, node_json("n1", "4", "8Gi", 110, NULL, NULL));
        char used[256], want[256];
        snprintf(used, sizeof(used),
                 "{'metadata':{'namespace':'a','name':'old','uid':'u1'},"
                 "'spec':{'nodeName':'n1'," PORTS("%s") "}}",
                 cases[i].used);
        snprintf(want, sizeof(want),
                 "{'metadata':{'namespace':'a','name':'new','uid':'u2'},"
                 "'spec':{" PORTS("%s") "}}",
                 cases[i].want_port);
        world_pod(&w, J("%s", used));
        char *got = world_filter(&w, J("%s", want), "n1");
        assert_string_equal(got, cases[i].want);
        free(got);
        world_free(&w);
    }
}

/* computePodResourceRequest: containers summed, init containers as a max with sidecars
 * accumulated, overhead added; the non-zero variant defaults missing cpu/memory. */
static void pod_requests_as_upstream(void **state)
{
    (void)state;
    static const struct {
        const char *spec;
        int64_t cpu, mem, non0_cpu, non0_mem, gpu;
    } cases[] = {
        {"'containers':[{'name':'a','resources':{'requests':{'cpu':'1','memory':'1Gi'}}},"
         "{'name':'b','resources':{'requests':{'cpu':'500m'}}}]",
         1500, 1073741824, 1500, 1073741824 + 209715200, 0},
        {"'containers':[{'name':'a'}]", 0, 0, 100, 209715200, 0},
        {"'containers':[{'name':'a','resources':{'requests':{'cpu':'0'}}}]", 0, 0, 0, 209715200, 0},
        /* an init container bigger than the app containers sets the request */
        {"'initContainers':[{'name':'i','resources':{'requests':{'cpu':'2','memory':'64Mi'}}}],"
         "'containers':[{'name':'a','resources':{'requests':{'cpu':'1','memory':'128Mi'}}}]",
         2000, 134217728, 2000, 134217728, 0},
        /* sidecars (restartPolicy Always) add to the containers and to later init containers */
        {"'initContainers':[{'name':'s','restartPolicy':'Always','resources':{'requests':"
         "{'cpu':'500m'}}},{'name':'i','resources':{'requests':{'cpu':'1'}}}],"
         "'containers':[{'name':'a','resources':{'requests':{'cpu':'200m'}}}]",
         1500, 0, 1500, 2 * 209715200, 0},
        {"'containers':[{'name':'a','resources':{'requests':{'cpu':'1','nvidia.com/gpu':'2'}}}],"
         "'overhead':{'cpu':'250m','memory':'120Mi'}",
         1250, 125829120, 1250, 209715200 + 125829120, 2},
        {"'containers':[{'name':'a','resources':{'requests':{'cpu':'0.1m'}}}]", 1, 0, 1, 209715200,
         0},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct sched_pod *p =
            parse_pod(J("{'metadata':{'name':'p','namespace':'d'},'spec':{%s}}", cases[i].spec));
        assert_int_equal(p->req.milli_cpu, cases[i].cpu);
        assert_int_equal(p->req.memory, cases[i].mem);
        assert_int_equal(p->non0_cpu, cases[i].non0_cpu);
        assert_int_equal(p->non0_mem, cases[i].non0_mem);
        assert_int_equal(sched_resource_scalar(&p->req, "nvidia.com/gpu"), cases[i].gpu);
        sched_pod_unref(p);
    }
    assert_true(sched_is_scalar_resource_name("nvidia.com/gpu"));
    assert_true(sched_is_scalar_resource_name("hugepages-2Mi"));
    assert_false(sched_is_scalar_resource_name("cpu"));
    assert_false(sched_is_extended_resource_name("kubernetes.io/foo"));
}

static void resources_fit(void **state)
{
    (void)state;
    static const struct {
        const char *what, *requests, *want;
        int pods_on_node;
    } cases[] = {
        {"fits", "'cpu':'1','memory':'1Gi'", "", 0},
        {"cpu short after existing requests", "'cpu':'3'", "Unschedulable: Insufficient cpu", 0},
        {"cpu and memory short, both listed", "'cpu':'3','memory':'7Gi'",
         "Unschedulable: Insufficient cpu, Insufficient memory", 0},
        {"more than the whole node is unresolvable", "'cpu':'5'", UNRES "Insufficient cpu", 0},
        {"ephemeral storage", "'ephemeral-storage':'200Gi'", UNRES "Insufficient ephemeral-storage",
         0},
        {"extended resource the node lacks", "'nvidia.com/gpu':'1'",
         UNRES "Insufficient nvidia.com/gpu", 0},
        {"extended resource the node has", "'example.com/foo':'2'", "", 0},
        {"pod count first", "'cpu':'3'", "Unschedulable: Too many pods, Insufficient cpu", 2},
        {"a request-less pod only needs a pod slot", "", "Unschedulable: Too many pods", 2},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct world w;
        world_init(&w, FILTERS, CK_ARRAY_SIZE(FILTERS), NULL);
        cJSON *n = node_json("n1", "4", "8Gi", 3, NULL, NULL);
        ck_json_set_string(n, "status.allocatable.example\\.com/foo", "4");
        world_node(&w, n);
        world_pod(&w, pod_json("a", "busy", NULL, "2", "2Gi", "n1", ""));
        for (int k = 0; k < cases[i].pods_on_node; k++) {
            char name[16];
            snprintf(name, sizeof(name), "x%d", k);
            world_pod(&w, pod_json("a", name, NULL, "", "", "n1", ""));
        }
        char *got = world_filter(&w,
                                 J("{'metadata':{'namespace':'a','name':'p'},"
                                   "'spec':{'containers':[{'name':'c','resources':"
                                   "{'requests':{%s}}}]}}",
                                   cases[i].requests),
                                 "n1");
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: got \"%s\"", cases[i].what, got);
        assert_string_equal(got, cases[i].want);
        free(got);
        world_free(&w);
    }
}

/* Whatever the apiserver hands over, parsing and the whole default profile never crash; a
 * malformed quantity is refused with upstream's message. */
static void odd_objects_do_not_crash(void **state)
{
    (void)state;
    static const char *const pods[] = {
        "{}",
        "{'metadata':[],'spec':'x','status':1}",
        "{'metadata':{'labels':'x','name':7},'spec':{'containers':'x','initContainers':{},"
        "'tolerations':[1,{'key':2}],'affinity':{'podAffinity':{'requiredDuringScheduling"
        "IgnoredDuringExecution':[{'topologyKey':5}]}},'topologySpreadConstraints':[{}],"
        "'nodeSelector':{'a':1}}}",
        "{'metadata':{'name':'p'},'spec':{'containers':[{'ports':[{'hostPort':-1},"
        "{'hostPort':'80'}],'resources':{'requests':[]}}],'overhead':null}}",
        "{'metadata':{'name':'p'},'spec':{'affinity':{'nodeAffinity':{'requiredDuringScheduling"
        "IgnoredDuringExecution':{'nodeSelectorTerms':[{'matchExpressions':[{'key':'k',"
        "'operator':'Gt','values':['99999999999999999999']}],'matchFields':[{'key':'x',"
        "'operator':'In','values':['n1']}]}]}}}}}",
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(pods); i++) {
        struct world w;
        world_init(&w, NULL, 0, NULL);
        world_node(&w, node_json("n1", "4", "8Gi", 110, "{'k':'1'}", "{'taints':'x'}"));
        world_node(&w, J("{'metadata':{'name':'n2','labels':[]},'spec':[],'status':"
                         "{'images':[{'names':'x'},{'names':[1]}]}}"));
        struct sched_pod *p = parse_pod(J("%s", pods[i]));
        sched_cache_update_snapshot(w.cache, &w.snap);
        struct sched_scheduler s = {w.fw, 0};
        struct sched_result r;
        assert_int_equal(sched_schedule_one(&s, &w.snap, p, NULL, &r), 0);
        assert_true(r.code == SCHED_SUCCESS || r.message != NULL);
        sched_result_clear(&r);
        sched_pod_unref(p);
        world_free(&w);
    }
    struct ck_error err = CK_ERROR_INIT;
    cJSON *bad = J("{'spec':{'containers':[{'resources':{'requests':{'cpu':'1x'}}}]}}");
    assert_null(sched_pod_new(bad, &err));
    assert_int_equal(err.code, 400);
    assert_string_equal(err.message, "quantities must match the regular expression "
                                     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    cJSON_Delete(bad);
    assert_null(sched_pod_new(NULL, NULL));
    bad = J("[1]");
    assert_null(sched_node_new(bad, NULL));
    cJSON_Delete(bad);
}

static void scores_taints_affinity_resources(void **state)
{
    (void)state;
    static const struct sched_plugin *const taint_only[] = {&sched_plugin_taint_toleration};
    struct world w;
    world_init(&w, taint_only, 1, NULL);
    world_node(&w, node_json("a", "4", "8Gi", 110, NULL, NULL));
    world_node(&w, node_json("b", "4", "8Gi", 110, NULL,
                             "{'taints':[{'key':'k1','effect':'PreferNoSchedule'}]}"));
    world_node(&w, node_json("c", "4", "8Gi", 110, NULL,
                             "{'taints':[{'key':'k1','effect':'PreferNoSchedule'},"
                             "{'key':'k2','effect':'PreferNoSchedule'}]}"));
    char *s = world_scores(&w, pod_json("d", "p", NULL, "", "", "", ""));
    /* reversed and normalized: 0, 1, 2 intolerable taints -> 100, 50, 0; weight 3 */
    assert_string_equal(s, "a:300 b:150 c:0");
    free(s);
    s = world_scores(&w, pod_json("d", "p", NULL, "", "", "",
                                  "'tolerations':[{'key':'k2','operator':'Exists',"
                                  "'effect':'PreferNoSchedule'}]"));
    assert_string_equal(s, "a:300 b:0 c:0");
    free(s);
    /* a NoSchedule toleration does not count for PreferNoSchedule taints */
    s = world_scores(&w, pod_json("d", "p", NULL, "", "", "",
                                  "'tolerations':[{'key':'k1','operator':'Exists',"
                                  "'effect':'NoSchedule'}]"));
    assert_string_equal(s, "a:300 b:150 c:0");
    free(s);
    world_free(&w);

    static const struct sched_plugin *const aff_only[] = {&sched_plugin_node_affinity};
    world_init(&w, aff_only, 1, NULL);
    world_node(&w, node_json("a", "4", "8Gi", 110, "{'zone':'z1','ssd':'y'}", NULL));
    world_node(&w, node_json("b", "4", "8Gi", 110, "{'zone':'z2'}", NULL));
    world_node(&w, node_json("c", "4", "8Gi", 110, "{'zone':'z1'}", NULL));
    s = world_scores(&w, pod_json("d", "p", NULL, "", "", "",
                                  "'affinity':{'nodeAffinity':{'preferredDuringScheduling"
                                  "IgnoredDuringExecution':[{'weight':60,'preference':{"
                                  "'matchExpressions':[{'key':'zone','operator':'In','values':"
                                  "['z1']}]}},{'weight':20,'preference':{'matchExpressions':"
                                  "[{'key':'ssd','operator':'Exists'}]}}]}}"));
    /* 80, 0, 60 normalized to the max: 100, 0, 75; weight 2 */
    assert_string_equal(s, "a:200 b:0 c:150");
    free(s);
    world_free(&w);

    static const struct sched_plugin *const res_only[] = {&sched_plugin_node_resources_fit,
                                                          &sched_plugin_balanced_allocation};
    world_init(&w, res_only, 2, NULL);
    world_node(&w, node_json("a", "4", "8Gi", 110, NULL, NULL));
    world_node(&w, node_json("b", "4", "8Gi", 110, NULL, NULL));
    world_pod(&w, pod_json("d", "busy", NULL, "1", "4Gi", "b", ""));
    s = world_scores(&w, pod_json("d", "p", NULL, "1", "2Gi", "", ""));
    /* a: least (75+75)/2 = 75, balanced cpu .25 mem .25 -> 100: 175.
     * b: least cpu 50 mem 25 -> 37, balanced .5/.75 std .125 -> 87: 124. */
    assert_string_equal(s, "a:175 b:124");
    free(s);
    /* a pod without requests counts 100m / 200Mi for LeastAllocated only */
    s = world_scores(&w, pod_json("d", "q", NULL, "", "", "", ""));
    assert_string_equal(s, "a:197 b:146");
    free(s);
    world_free(&w);
}

static void image_locality(void **state)
{
    (void)state;
    static const struct sched_plugin *const img_only[] = {&sched_plugin_image_locality};
    struct world w;
    world_init(&w, img_only, 1, NULL);
    for (int i = 0; i < 2; i++) {
        cJSON *n = node_json(i ? "b" : "a", "4", "8Gi", 110, NULL, NULL);
        if (i == 0)
            ck_json_set(n, "status.images",
                        J("[{'names':['registry/app:1','app@sha256:ab'],'sizeBytes':524288000},"
                          "{'names':['small:latest'],'sizeBytes':1048576}]"));
        world_node(&w, n);
    }
    /* 500 MiB present on 1 of 2 nodes -> 250 MiB; (250-23)/(1000-23) of 100 = 23 */
    char *s = world_scores(&w, J("{'metadata':{'name':'p','namespace':'d'},'spec':{"
                                 "'containers':[{'name':'c','image':'registry/app:1'}]}}"));
    assert_string_equal(s, "a:23 b:0");
    free(s);
    /* below the 23 MiB threshold scores 0; an untagged name means :latest */
    s = world_scores(&w, J("{'metadata':{'name':'p','namespace':'d'},'spec':{"
                           "'containers':[{'name':'c','image':'small'}]}}"));
    assert_string_equal(s, "a:0 b:0");
    free(s);
    world_free(&w);
}

static void statuses_and_events(void **state)
{
    (void)state;
    struct sched_status *st = sched_status_newf(SCHED_UNSCHEDULABLE, "Insufficient %s", "cpu");
    sched_status_add_reason(st, "Insufficient memory");
    char *m = sched_status_message(st);
    assert_string_equal(m, "Insufficient cpu, Insufficient memory");
    free(m);
    assert_true(sched_status_rejected(st));
    struct sched_status *d = sched_status_dup(st);
    assert_int_equal(d->nreasons, 2);
    sched_status_free(d);
    sched_status_free(st);
    assert_false(sched_status_rejected(NULL));
    assert_int_equal(sched_status_code(NULL), SCHED_SUCCESS);

    cJSON *aj = node_json("a", "4", "8Gi", 110, "{'x':'1'}", NULL);
    struct sched_node *a = sched_node_new(aj, NULL);
    cJSON_Delete(aj);
    cJSON *nj = node_json("a", "8", "8Gi", 110, "{'x':'2'}",
                          "{'taints':[{'key':'k','effect':'NoSchedule'}]}");
    struct sched_node *b = sched_node_new(nj, NULL);
    unsigned acts = sched_node_update_actions(a, b);
    assert_true(acts & SCHED_ACT_UPDATE_NODE_ALLOCATABLE);
    assert_true(acts & SCHED_ACT_UPDATE_NODE_LABEL);
    assert_true(acts & SCHED_ACT_UPDATE_NODE_TAINT);
    assert_int_equal(sched_node_update_actions(a, a), 0);
    cJSON_Delete(nj);
    sched_node_unref(a);
    sched_node_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unschedulable_name_and_taints),
        cmocka_unit_test(node_affinity_operators),
        cmocka_unit_test(node_ports),
        cmocka_unit_test(pod_requests_as_upstream),
        cmocka_unit_test(resources_fit),
        cmocka_unit_test(scores_taints_affinity_resources),
        cmocka_unit_test(image_locality),
        cmocka_unit_test(statuses_and_events),
        cmocka_unit_test(odd_objects_do_not_crash),
    };
    return cmocka_run_group_tests_name("sched_plugins", tests, NULL, NULL);
}
