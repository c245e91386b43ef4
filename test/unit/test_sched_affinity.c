/* Unit tests for the cross-node plugins: InterPodAffinity (scheduler/plugins/interpodaffinity.c)
 * and PodTopologySpread (scheduler/plugins/podtopologyspread.c): filters with upstream's
 * reasons, the first-pod exception, symmetry of existing anti-affinity, namespaces and
 * namespaceSelector, skew with minDomains and inclusion policies, matchLabelKeys, scores and
 * system default constraints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sched_test_util.h"

static const struct sched_plugin *const IPA[] = {&sched_plugin_inter_pod_affinity};
static const struct sched_plugin *const PTS[] = {&sched_plugin_pod_topology_spread};

static cJSON *g_ns_team_a;

static const cJSON *ns_labels(void *ctx, const char *ns)
{
    (void)ctx;
    return strcmp(ns, "team-a") == 0 ? ck_json_get(g_ns_team_a, "labels") : NULL;
}

static void three_nodes(struct world *w)
{
    world_node(
        w, node_json("n1", "4", "8Gi", 110, "{'zone':'z1','kubernetes.io/hostname':'n1'}", NULL));
    world_node(
        w, node_json("n2", "4", "8Gi", 110, "{'zone':'z1','kubernetes.io/hostname':'n2'}", NULL));
    world_node(
        w, node_json("n3", "4", "8Gi", 110, "{'zone':'z2','kubernetes.io/hostname':'n3'}", NULL));
    world_node(w, node_json("n4", "4", "8Gi", 110, "{'kubernetes.io/hostname':'n4'}", NULL));
}

#define AFF(kind, when, terms)                                                                     \
    "'affinity':{'" kind "':{'" when "DuringSchedulingIgnoredDuringExecution':" terms "}}"
#define REQ_AFF(terms) AFF("podAffinity", "required", terms)
#define REQ_ANTI(terms) AFF("podAntiAffinity", "required", terms)
#define TERM(sel, key) "{'labelSelector':{'matchLabels':" sel "},'topologyKey':'" key "'}"

struct ipa_case {
    const char *what;
    const char *existing_ns, *existing_labels, *existing_node, *existing_extra;
    const char *pod_ns, *pod_labels, *pod_extra;
    const char *want[4]; /* n1..n4 */
};

#define OK ""
#define AFF_NO "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules"
#define ANTI_NO "Unschedulable: node(s) didn't match pod anti-affinity rules"
#define EXIST_NO "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules"

static void inter_pod_affinity_filter(void **state)
{
    (void)state;
    static const struct ipa_case cases[] = {
        {"affinity to a db in the same zone",
         "default",
         "{'app':'db'}",
         "n1",
         "",
         "default",
         "{'app':'web'}",
         REQ_AFF("[" TERM("{'app':'db'}", "zone") "]"),
         {OK, OK, AFF_NO, AFF_NO}},
        {"affinity: no match anywhere and the pod does not match itself",
         "default",
         "{'app':'cache'}",
         "n1",
         "",
         "default",
         "{'app':'web'}",
         REQ_AFF("[" TERM("{'app':'db'}", "zone") "]"),
         {AFF_NO, AFF_NO, AFF_NO, AFF_NO}},
        {"affinity: the first pod of a self-affine group may go anywhere with the key",
         "default",
         "{'app':'cache'}",
         "n1",
         "",
         "default",
         "{'app':'db'}",
         REQ_AFF("[" TERM("{'app':'db'}", "zone") "]"),
         {OK, OK, OK, AFF_NO}},
        {"affinity counts only the term's namespaces",
         "default",
         "{'app':'db'}",
         "n1",
         "",
         "default",
         "{'app':'web'}",
         REQ_AFF("[{'labelSelector':{'matchLabels':{'app':'db'}},'namespaces':['other'],"
                 "'topologyKey':'zone'}]"),
         {AFF_NO, AFF_NO, AFF_NO, AFF_NO}},
        {"affinity with an empty namespaceSelector spans namespaces",
         "other",
         "{'app':'db'}",
         "n3",
         "",
         "default",
         "{'app':'web'}",
         REQ_AFF("[{'labelSelector':{'matchLabels':{'app':'db'}},'namespaceSelector':{},"
                 "'topologyKey':'zone'}]"),
         {AFF_NO, AFF_NO, OK, AFF_NO}},
        {"affinity with a namespaceSelector on namespace labels",
         "team-a",
         "{'app':'db'}",
         "n2",
         "",
         "default",
         "{'app':'web'}",
         REQ_AFF("[{'labelSelector':{'matchLabels':{'app':'db'}},'namespaceSelector':"
                 "{'matchLabels':{'team':'a'}},'topologyKey':'kubernetes.io/hostname'}]"),
         {AFF_NO, OK, AFF_NO, AFF_NO}},
        {"anti-affinity per hostname",
         "default",
         "{'app':'web'}",
         "n1",
         "",
         "default",
         "{'app':'web'}",
         REQ_ANTI("[" TERM("{'app':'web'}", "kubernetes.io/hostname") "]"),
         {ANTI_NO, OK, OK, OK}},
        {"anti-affinity per zone; a node without the key is fine",
         "default",
         "{'app':'web'}",
         "n2",
         "",
         "default",
         "{'app':'web'}",
         REQ_ANTI("[" TERM("{'app':'web'}", "zone") "]"),
         {ANTI_NO, ANTI_NO, OK, OK}},
        {"existing pod's anti-affinity repels the incoming pod (symmetry)",
         "default",
         "{'app':'db'}",
         "n1",
         REQ_ANTI("[" TERM("{'app':'web'}", "zone") "]"),
         "default",
         "{'app':'web'}",
         "",
         {EXIST_NO, EXIST_NO, OK, OK}},
        {"existing anti-affinity of another namespace does not apply",
         "other",
         "{'app':'db'}",
         "n1",
         REQ_ANTI("[" TERM("{'app':'web'}", "zone") "]"),
         "default",
         "{'app':'web'}",
         "",
         {OK, OK, OK, OK}},
        {"affinity to a db in the other zone",
         "default",
         "{'app':'db'}",
         "n3",
         "",
         "default",
         "{'app':'web'}",
         REQ_AFF("[" TERM("{'app':'db'}", "zone") "]"),
         {AFF_NO, AFF_NO, OK, AFF_NO}},
        {"a bad selector fails the pod",
         "default",
         "{'app':'db'}",
         "n1",
         "",
         "default",
         "{'app':'web'}",
         REQ_AFF("[{'labelSelector':{'matchExpressions':[{'key':'app','operator':'Bogus'}]},"
                 "'topologyKey':'zone'}]"),
         {"UnschedulableAndUnresolvable: parsing pod: \"Bogus\" is not a valid label selector "
          "operator",
          NULL, NULL, NULL}},
    };
    struct sched_handle h = {.namespace_labels = ns_labels};
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        const struct ipa_case *tc = &cases[i];
        for (int n = 0; n < 4 && tc->want[n]; n++) {
            struct world w;
            world_init(&w, IPA, 1, &h);
            three_nodes(&w);
            world_pod(&w, pod_json(tc->existing_ns, "old", tc->existing_labels, "", "",
                                   tc->existing_node, tc->existing_extra));
            char node[4] = {'n', (char)('1' + n), 0};
            char *got = world_filter(
                &w, pod_json(tc->pod_ns, "new", tc->pod_labels, "", "", "", tc->pod_extra), node);
            if (strcmp(got, tc->want[n]) != 0)
                fail_msg("%s on %s: got \"%s\" want \"%s\"", tc->what, node, got, tc->want[n]);
            assert_string_equal(got, tc->want[n]);
            free(got);
            world_free(&w);
        }
    }
}

static void inter_pod_affinity_score(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, IPA, 1, NULL);
    three_nodes(&w);
    world_pod(&w, pod_json("default", "db", "{'app':'db'}", "", "", "n1", ""));
    /* preferred affinity weight 10 on zone: n1, n2 share z1; n4 has no zone -> 100,100,0,0 x2 */
    char *s = world_scores(
        &w, pod_json("default", "web", "{'app':'web'}", "", "", "",
                     AFF("podAffinity", "preferred",
                         "[{'weight':10,'podAffinityTerm':" TERM("{'app':'db'}", "zone") "}]")));
    assert_string_equal(s, "n1:200 n2:200 n3:0 n4:0");
    free(s);
    /* preferred anti-affinity: z1 gets -10, everything else 0 -> normalized 0 / 100 */
    s = world_scores(
        &w, pod_json("default", "web", "{'app':'web'}", "", "", "",
                     AFF("podAntiAffinity", "preferred",
                         "[{'weight':10,'podAffinityTerm':" TERM("{'app':'db'}", "zone") "}]")));
    assert_string_equal(s, "n1:0 n2:0 n3:200 n4:200");
    free(s);
    /* no preferences anywhere: the plugin skips and every node scores 0 */
    s = world_scores(&w, pod_json("default", "web", "{'app':'web'}", "", "", "", ""));
    assert_string_equal(s, "n1:0 n2:0 n3:0 n4:0");
    free(s);
    world_free(&w);

    /* existing pods' terms score the incoming pod: required affinity with the hard weight (1)
     * and preferred terms with theirs */
    world_init(&w, IPA, 1, NULL);
    three_nodes(&w);
    world_pod(&w, pod_json("default", "a", "{'app':'a'}", "", "", "n3",
                           REQ_AFF("[" TERM("{'app':'web'}", "kubernetes.io/hostname") "]")));
    world_pod(&w,
              pod_json("default", "b", "{'app':'b'}", "", "", "n1",
                       AFF("podAffinity", "preferred",
                           "[{'weight':3,'podAffinityTerm':" TERM("{'app':'web'}", "zone") "}]")));
    s = world_scores(&w, pod_json("default", "web", "{'app':'web'}", "", "", "", ""));
    /* n1: 3, n2: 3, n3: 1, n4: 0 -> 100, 100, 33, 0 x2 */
    assert_string_equal(s, "n1:200 n2:200 n3:66 n4:0");
    free(s);
    world_free(&w);
}

#define TSC(extra)                                                                                 \
    "'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone',"                              \
    "'whenUnsatisfiable':'DoNotSchedule','labelSelector':{'matchLabels':{'app':'web'}}" extra "}]"
#define SKEW_NO "Unschedulable: node(s) didn't match pod topology spread constraints"
#define LABEL_NO                                                                                   \
    "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints "          \
    "(missing required label)"

static void topology_spread_filter(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *pod_labels, *pod_extra;
        int web_on_n3; /* extra web pods on n3 */
        bool taint_n3;
        const char *want[4];
    } cases[] = {
        {"z1 has 2, z2 has 0: only z2 keeps skew <= 1",
         "{'app':'web'}",
         TSC(""),
         0,
         false,
         {SKEW_NO, SKEW_NO, OK, LABEL_NO}},
        {"maxSkew 3 allows z1",
         "{'app':'web'}",
         "'topologySpreadConstraints':[{'maxSkew':3,'topologyKey':'zone','whenUnsatisfiable':"
         "'DoNotSchedule','labelSelector':{'matchLabels':{'app':'web'}}}]",
         0,
         false,
         {OK, OK, OK, LABEL_NO}},
        {"a pod not matching its own selector adds nothing",
         "{'app':'other'}",
         TSC(""),
         0,
         false,
         {SKEW_NO, SKEW_NO, OK, LABEL_NO}},
        {"min is 1 once z2 has a pod",
         "{'app':'web'}",
         TSC(""),
         1,
         false,
         {SKEW_NO, SKEW_NO, OK, LABEL_NO}},
        {"minDomains above the domain count makes the minimum 0",
         "{'app':'web'}",
         TSC(",'minDomains':3"),
         1,
         false,
         {SKEW_NO, SKEW_NO, SKEW_NO, LABEL_NO}},
        {"nodeAffinityPolicy Honor drops domains the pod cannot use",
         "{'app':'web'}",
         TSC("") ",'nodeSelector':{'zone':'z1'}",
         0,
         false,
         {OK, OK, OK, LABEL_NO}},
        {"nodeAffinityPolicy Ignore keeps them",
         "{'app':'web'}",
         TSC(",'nodeAffinityPolicy':'Ignore'") ",'nodeSelector':{'zone':'z1'}",
         0,
         false,
         {SKEW_NO, SKEW_NO, OK, LABEL_NO}},
        {"nodeTaintsPolicy Ignore (default) counts tainted z2",
         "{'app':'web'}",
         TSC(""),
         0,
         true,
         {SKEW_NO, SKEW_NO, OK, LABEL_NO}},
        {"nodeTaintsPolicy Honor drops the tainted domain",
         "{'app':'web'}",
         TSC(",'nodeTaintsPolicy':'Honor'"),
         0,
         true,
         {OK, OK, OK, LABEL_NO}},
        {"matchLabelKeys narrow the selector to the pod's version",
         "{'app':'web','v':'2'}",
         TSC(",'matchLabelKeys':['v']"),
         0,
         false,
         {OK, OK, OK, LABEL_NO}},
        {"ScheduleAnyway never filters",
         "{'app':'web'}",
         "'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone','whenUnsatisfiable':"
         "'ScheduleAnyway','labelSelector':{'matchLabels':{'app':'web'}}}]",
         0,
         false,
         {OK, OK, OK, OK}},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        for (int n = 0; n < 4; n++) {
            struct world w;
            world_init(&w, PTS, 1, NULL);
            three_nodes(&w);
            if (cases[i].taint_n3)
                world_node(&w, node_json("n3", "4", "8Gi", 110,
                                         "{'zone':'z2','kubernetes.io/hostname':'n3'}",
                                         "{'taints':[{'key':'t','effect':'NoSchedule'}]}"));
            world_pod(&w, pod_json("default", "w1", "{'app':'web','v':'1'}", "", "", "n1", ""));
            world_pod(&w, pod_json("default", "w2", "{'app':'web','v':'1'}", "", "", "n2", ""));
            world_pod(&w, pod_json("other", "w3", "{'app':'web'}", "", "", "n3", ""));
            for (int k = 0; k < cases[i].web_on_n3; k++)
                world_pod(&w, pod_json("default", "w4", "{'app':'web'}", "", "", "n3", ""));
            char node[4] = {'n', (char)('1' + n), 0};
            char *got = world_filter(
                &w, pod_json("default", "new", cases[i].pod_labels, "", "", "", cases[i].pod_extra),
                node);
            if (strcmp(got, cases[i].want[n]) != 0)
                fail_msg("%s on %s: got \"%s\"", cases[i].what, node, got);
            assert_string_equal(got, cases[i].want[n]);
            free(got);
            world_free(&w);
        }
    }
}

static struct ck_label_selector *default_selector(void *ctx, const struct sched_pod *pod)
{
    (void)ctx;
    if (!pod->labels || !cJSON_GetObjectItemCaseSensitive(pod->labels, "app"))
        return NULL;
    cJSON *set = J("{'app':'web'}");
    struct ck_label_selector *s = ck_label_selector_from_set(set);
    cJSON_Delete(set);
    return s;
}

static void topology_spread_score(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, PTS, 1, NULL);
    three_nodes(&w);
    world_pod(&w, pod_json("default", "w1", "{'app':'web'}", "", "", "n1", ""));
    world_pod(&w, pod_json("default", "w2", "{'app':'web'}", "", "", "n2", ""));
    /* zone counts z1=2, z2=0, weight log(2+2): n1, n2 score 3, n3 0, n4 ignored (no key) */
    char *s = world_scores(
        &w, pod_json("default", "new", "{'app':'web'}", "", "", "",
                     "'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone',"
                     "'whenUnsatisfiable':'ScheduleAnyway','labelSelector':{'matchLabels':"
                     "{'app':'web'}}}]"));
    assert_string_equal(s, "n1:0 n2:0 n3:200 n4:0");
    free(s);
    /* DoNotSchedule constraints do not score; without soft constraints nor defaults: skip */
    s = world_scores(&w, pod_json("default", "new", "{'app':'web'}", "", "", "", TSC("")));
    assert_string_equal(s, "n1:0 n2:0 n3:0 n4:0");
    free(s);
    world_free(&w);

    /* system defaults (hostname maxSkew 3, zone maxSkew 5) when a Service selects the pod;
     * nodes without a zone still get hostname spreading */
    struct sched_handle h = {.default_spread_selector = default_selector};
    world_init(&w, PTS, 1, &h);
    three_nodes(&w);
    world_pod(&w, pod_json("default", "w1", "{'app':'web'}", "", "", "n1", ""));
    world_pod(&w, pod_json("default", "w2", "{'app':'web'}", "", "", "n1", ""));
    s = world_scores(&w, pod_json("default", "new", "{'app':'web'}", "", "", "", ""));
    /* these nodes carry a custom "zone" key, so only the hostname default applies:
     * n1: 2*log(4+2)+2 = 5.58 -> 6, the others 2; normalized 100*(6+2-s)/6: 33, 100; x2 */
    assert_string_equal(s, "n1:66 n2:200 n3:200 n4:200");
    free(s);
    /* with topology.kubernetes.io/zone on n1..n3 the zone default (maxSkew 5) applies too:
     * zone domains z1 (2 pods), z2, and "" for n4 (which then skips the zone term) */
    for (int i = 1; i <= 3; i++) {
        char name[4] = {'n', (char)('0' + i), 0}, labels[160];
        snprintf(labels, sizeof(labels),
                 "{'topology.kubernetes.io/zone':'%s','kubernetes.io/hostname':'%s'}",
                 i < 3 ? "z1" : "z2", name);
        world_node(&w, node_json(name, "4", "8Gi", 110, labels, NULL));
    }
    s = world_scores(&w, pod_json("default", "new", "{'app':'web'}", "", "", "", ""));
    /* n1: 2*log(6)+2 + 2*log(5)+4 = 12.8 -> 13; n2: 2 + 7.2 = 9; n3: 2 + 4 = 6; n4: 2;
     * normalized 100*(13+2-s)/13: 15, 46, 69, 100; x2. The snapshot lists nodes zone by zone
     * round-robin (zones "", z1, z2 in order of appearance), as upstream's node tree. */
    assert_string_equal(s, "n4:200 n1:30 n3:138 n2:92");
    free(s);
    /* a pod no workload selects gets no default constraints */
    s = world_scores(&w, pod_json("default", "lonely", "{'x':'y'}", "", "", "", ""));
    assert_string_equal(s, "n4:0 n1:0 n3:0 n2:0");
    free(s);
    world_free(&w);
}

int main(void)
{
    g_ns_team_a = J("{'labels':{'team':'a'}}");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inter_pod_affinity_filter),
        cmocka_unit_test(inter_pod_affinity_score),
        cmocka_unit_test(topology_spread_filter),
        cmocka_unit_test(topology_spread_score),
    };
    int rc = cmocka_run_group_tests_name("sched_affinity", tests, NULL, NULL);
    cJSON_Delete(g_ns_team_a);
    return rc;
}
