/* test_sched_listers.c - PodTopologySpread's default selector (upstream helper.DefaultSelector)
 * from Services and the pod's controlling ReplicationController / ReplicaSet / StatefulSet, and
 * the PDB view DefaultPreemption reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "scheduler/listers.h"
#include "selector.h"
#include "store.h"

/* Parses printf-formatted JSON in which ' stands for ". Aborts on bad JSON. */
static cJSON *J(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *J(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    cJSON *j = ck_json_parse(s, strlen(s), NULL);
    if (!j) {
        fprintf(stderr, "bad test JSON: %s\n", s);
        abort();
    }
    free(s);
    return j;
}

static void put(struct ck_store *s, cJSON *obj)
{
    struct ck_obj *o = ck_obj_new(obj);
    ck_obj_unref(ck_store_put(s, o));
    ck_obj_unref(o);
}

struct lworld {
    struct sched_listers l;
};

/* Services: web (app=web), fe (tier=fe), other-ns (app=web in ns "other"), nosel (no selector),
 * db (app=db). Workloads: rs1 (app=web + env In [prod]), rc1 (rc=one), sts1 (sts Exists),
 * rsnil (no selector). */
static void lworld_init(struct lworld *w)
{
    w->l.services = ck_store_new();
    w->l.rcs = ck_store_new();
    w->l.rss = ck_store_new();
    w->l.sts = ck_store_new();
    w->l.pdbs = ck_store_new();
    ck_store_add_index(w->l.services, "namespace", ck_index_namespace);
    put(w->l.services, J("{'metadata':{'namespace':'default','name':'web'},"
                         "'spec':{'selector':{'app':'web'}}}"));
    put(w->l.services, J("{'metadata':{'namespace':'default','name':'fe'},"
                         "'spec':{'selector':{'tier':'fe'}}}"));
    put(w->l.services, J("{'metadata':{'namespace':'other','name':'web'},"
                         "'spec':{'selector':{'zone':'x'}}}"));
    put(w->l.services, J("{'metadata':{'namespace':'default','name':'nosel'},'spec':{}}"));
    put(w->l.services, J("{'metadata':{'namespace':'default','name':'db'},"
                         "'spec':{'selector':{'app':'db'}}}"));
    put(w->l.rss, J("{'metadata':{'namespace':'default','name':'rs1'},'spec':{'selector':"
                    "{'matchLabels':{'app':'web'},'matchExpressions':[{'key':'env',"
                    "'operator':'In','values':['prod']}]}}}"));
    put(w->l.rss, J("{'metadata':{'namespace':'default','name':'rsnil'},'spec':{}}"));
    put(w->l.rcs, J("{'metadata':{'namespace':'default','name':'rc1'},"
                    "'spec':{'selector':{'rc':'one'}}}"));
    put(w->l.sts, J("{'metadata':{'namespace':'default','name':'sts1'},'spec':{'selector':"
                    "{'matchExpressions':[{'key':'sts','operator':'Exists'}]}}}"));
}

static void lworld_free(struct lworld *w)
{
    ck_store_free(w->l.services);
    ck_store_free(w->l.rcs);
    ck_store_free(w->l.rss);
    ck_store_free(w->l.sts);
    ck_store_free(w->l.pdbs);
}

static void test_default_selector(void **state)
{
    (void)state;
    static const struct {
        const char *name, *ns, *labels, *owners, *want;
    } cases[] = {
        {"nothing selects the pod", "default", "{'x':'y'}", "[]", ""},
        {"one service", "default", "{'app':'web'}", "[]", "app=web"},
        {"services merged, non-matching and selector-less ones skipped", "default",
         "{'app':'web','tier':'fe'}", "[]", "app=web,tier=fe"},
        {"services of other namespaces are ignored", "default", "{'zone':'x'}", "[]", ""},
        {"selector of the namespace's own service only", "other", "{'zone':'x','app':'web'}", "[]",
         "zone=x"},
        {"ReplicaSet owner adds its requirements", "default", "{'app':'web','env':'prod'}",
         "[{'apiVersion':'apps/v1','kind':'ReplicaSet','name':'rs1','controller':true}]",
         "app=web,app=web,env in (prod)"},
        {"ReplicationController owner merges its map", "default", "{'rc':'one'}",
         "[{'apiVersion':'v1','kind':'ReplicationController','name':'rc1','controller':true}]",
         "rc=one"},
        {"StatefulSet owner", "default", "{'sts':'a'}",
         "[{'apiVersion':'apps/v1','kind':'StatefulSet','name':'sts1','controller':true}]", "sts"},
        {"a non-controller owner is ignored", "default", "{'rc':'one'}",
         "[{'apiVersion':'v1','kind':'ReplicationController','name':'rc1'}]", ""},
        {"an owner of another group/version is ignored", "default", "{'app':'web'}",
         "[{'apiVersion':'extensions/v1beta1','kind':'ReplicaSet','name':'rs1',"
         "'controller':true}]",
         "app=web"},
        {"an owner missing from the lister adds nothing", "default", "{'app':'web'}",
         "[{'apiVersion':'apps/v1','kind':'ReplicaSet','name':'gone','controller':true}]",
         "app=web"},
        {"an owner with a nil selector adds nothing", "default", "{'app':'web'}",
         "[{'apiVersion':'apps/v1','kind':'ReplicaSet','name':'rsnil','controller':true}]",
         "app=web"},
    };
    struct lworld w;
    lworld_init(&w);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *pod = J("{'metadata':{'namespace':'%s','name':'p','labels':%s,"
                       "'ownerReferences':%s}}",
                       cases[i].ns, cases[i].labels, cases[i].owners);
        struct ck_label_selector *sel = sched_default_selector(&w.l, pod);
        assert_non_null(sel);
        char *s = ck_label_selector_string(sel);
        if (strcmp(s, cases[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name, s, cases[i].want);
        /* the selector selects the pod it was built for whenever it selects anything */
        if (cases[i].want[0])
            assert_true(ck_label_selector_matches(sel, ck_json_get(pod, "metadata.labels")));
        free(s);
        ck_label_selector_free(sel);
        cJSON_Delete(pod);
    }
    lworld_free(&w);
}

/* No listers at all (a scheduler without informers): no defaults, no crash. */
static void test_default_selector_without_listers(void **state)
{
    (void)state;
    cJSON *pod = J("{'metadata':{'namespace':'default','name':'p','labels':{'app':'web'},"
                   "'ownerReferences':[{'apiVersion':'apps/v1','kind':'ReplicaSet',"
                   "'name':'rs1','controller':true}]}}");
    struct sched_listers none = {0};
    struct ck_label_selector *sel = sched_default_selector(&none, pod);
    assert_true(ck_label_selector_empty(sel));
    ck_label_selector_free(sel);
    sel = sched_default_selector(NULL, pod);
    assert_true(ck_label_selector_empty(sel));
    ck_label_selector_free(sel);
    cJSON_Delete(pod);
}

static void test_pdb_view(void **state)
{
    (void)state;
    struct lworld w;
    lworld_init(&w);
    struct sched_pdb_view v = SCHED_PDB_VIEW_INIT;
    const cJSON *arr = sched_pdb_view_take(&v, w.l.pdbs);
    assert_int_equal(cJSON_GetArraySize(arr), 0);
    put(w.l.pdbs, J("{'metadata':{'namespace':'default','name':'a'},'spec':{'selector':"
                    "{'matchLabels':{'app':'web'}}},'status':{'disruptionsAllowed':1}}"));
    put(w.l.pdbs, J("{'metadata':{'namespace':'default','name':'b'},'spec':{},"
                    "'status':{'disruptionsAllowed':0}}"));
    arr = sched_pdb_view_take(&v, w.l.pdbs);
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    int64_t allowed = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) allowed += ck_json_get_int64(it, "status.disruptionsAllowed", -9);
    assert_int_equal(allowed, 1);
    /* the view keeps the objects alive after the store drops them */
    ck_obj_unref(ck_store_delete(w.l.pdbs, "default/a"));
    ck_obj_unref(ck_store_delete(w.l.pdbs, "default/b"));
    int n = 0;
    cJSON_ArrayForEach(it, arr)
    {
        assert_string_equal(ck_json_get_string(it, "metadata.namespace", ""), "default");
        n++;
    }
    assert_int_equal(n, 2);
    assert_int_equal(cJSON_GetArraySize(sched_pdb_view_take(&v, w.l.pdbs)), 0);
    assert_int_equal(cJSON_GetArraySize(sched_pdb_view_take(&v, NULL)), 0);
    sched_pdb_view_clear(&v);
    sched_pdb_view_clear(&v); /* twice is fine */
    lworld_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_selector),
        cmocka_unit_test(test_default_selector_without_listers),
        cmocka_unit_test(test_pdb_view),
    };
    return cmocka_run_group_tests_name("sched_listers", tests, NULL, NULL);
}
