/* Unit tests for apiserver/managedfields.c: the FieldsV1 set encoding as upstream prints it for
 * a created Deployment, Pod and ConfigMap, set algebra, upstream's path strings, the Update
 * operation's per-manager bookkeeping (entries merged by manager/operation/apiVersion/
 * subresource, fields taken over or removed, times, sorting) and manager names from the
 * User-Agent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "apiserver/managedfields.h"
#include "apiserver/openapi/schema.h"
#include "buf.h"
#include "json.h"
#include "mem.h"

static cJSON *parse(const char *s)
{
    cJSON *v = ck_json_parse(s, strlen(s), NULL);
    assert_non_null(v);
    return v;
}

static struct mf_type type_of(const char *group, const char *version, const char *kind)
{
    const struct schema_doc *doc = schema_builtin();
    assert_non_null(doc);
    struct mf_type t = {doc, schema_for_gvk(doc, group, version, kind, NULL)};
    assert_non_null(t.root);
    return t;
}

/* The fieldsV1 of entry i of obj's managedFields, printed compact. */
static char *entry_fields(const cJSON *obj, int i)
{
    const cJSON *e = cJSON_GetArrayItem(ck_json_get(obj, "metadata.managedFields"), i);
    assert_non_null(e);
    return ck_json_print(cJSON_GetObjectItemCaseSensitive(e, "fieldsV1"), 0);
}

static const char *entry_str(const cJSON *obj, int i, const char *field)
{
    const cJSON *e = cJSON_GetArrayItem(ck_json_get(obj, "metadata.managedFields"), i);
    return ck_json_get_string(e, field, "<none>");
}

static int entry_count(const cJSON *obj)
{
    return cJSON_GetArraySize(ck_json_get(obj, "metadata.managedFields"));
}

/* ---- encoding of a create, as upstream prints it ---- */

/* A Deployment as kubectl create sends it, after the server's defaults. */
static const char DEPLOYMENT[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
    "\"namespace\":\"default\",\"uid\":\"u\",\"generation\":1,\"creationTimestamp\":\"2026-01-"
    "01T00:"
    "00:00Z\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":"
    "{\"app\":\"web\"}},\"template\":{\"metadata\":{\"creationTimestamp\":null,\"labels\":{\"app\":"
    "\"web\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\",\"ports\":[{"
    "\"containerPort\":80,\"protocol\":\"TCP\"}],\"resources\":{},\"terminationMessagePath\":\"/"
    "dev/"
    "termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"Always\"}],"
    "\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":"
    "\"ClusterFirst\",\"securityContext\":{},\"schedulerName\":\"default-scheduler\"}},"
    "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":\"25%\","
    "\"maxSurge\":\"25%\"}},\"revisionHistoryLimit\":10,\"progressDeadlineSeconds\":600},"
    "\"status\":{}}";

/* What upstream stores for it: struct fields present in the zero object (spec, template,
 * strategy) carry no ".", pointers and maps that were added (rollingUpdate, labels) and list
 * items do; atomic selector and empty structs are leaves; status and the system metadata are
 * not tracked. */
static const char DEPLOYMENT_FIELDS[] =
    "{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app\":{}}},\"f:spec\":{"
    "\"f:progressDeadlineSeconds\":{},\"f:replicas\":{},\"f:revisionHistoryLimit\":{},"
    "\"f:selector\":{},\"f:strategy\":{\"f:rollingUpdate\":{\".\":{},\"f:maxSurge\":{},"
    "\"f:maxUnavailable\":{}},\"f:type\":{}},\"f:template\":{\"f:metadata\":{\"f:labels\":{"
    "\".\":{},\"f:app\":{}}},\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{"
    "\".\":{},\"f:image\":{},\"f:imagePullPolicy\":{},\"f:name\":{},\"f:ports\":{\".\":{},"
    "\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},"
    "\"f:containerPort\":{},\"f:protocol\":{}}},\"f:resources\":{},"
    "\"f:terminationMessagePath\":{},\"f:terminationMessagePolicy\":{}}},\"f:dnsPolicy\":{},"
    "\"f:restartPolicy\":{},\"f:schedulerName\":{},\"f:securityContext\":{},"
    "\"f:terminationGracePeriodSeconds\":{}}}}}";

struct create_case {
    const char *group, *version, *kind, *api_version;
    const char *obj;
    bool has_status;
    const char *fields;
};

static const struct create_case CREATES[] = {
    {"apps", "v1", "Deployment", "apps/v1", DEPLOYMENT, true, DEPLOYMENT_FIELDS},
    {"", "v1", "ConfigMap", "v1",
     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"namespace\":"
     "\"default\"},\"data\":{\"b\":\"2\",\"a\":\"1\"}}",
     false, "{\"f:data\":{\".\":{},\"f:a\":{},\"f:b\":{}}}"},
    /* a Pod: containers is null in the zero PodSpec, so it has no "." of its own; a set
     * (finalizers) names items by value; an atomic list (args) is one leaf */
    {"", "v1", "Pod", "v1",
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"finalizers\":[\"a/"
     "b\"]},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"args\":[\"x\",\"y\"]}]},"
     "\"status\":{\"phase\":\"Pending\"}}",
     true,
     "{\"f:metadata\":{\"f:finalizers\":{\".\":{},\"v:\\\"a/b\\\"\":{}}},\"f:spec\":{"
     "\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{},\"f:args\":{},\"f:image\":{},"
     "\"f:name\":{}}}}}"},
};

static void create_records_upstream_fieldsv1(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(CREATES); i++) {
        const struct create_case *c = &CREATES[i];
        struct mf_type t = type_of(c->group, c->version, c->kind);
        cJSON *obj = parse(c->obj);
        mf_record_update(&t, NULL, obj, "kubectl-create", c->api_version, "", c->has_status,
                         "2026-01-01T00:00:00Z");
        assert_int_equal(entry_count(obj), 1);
        CK_AUTOFREE char *f = entry_fields(obj, 0);
        assert_string_equal(f, c->fields);
        assert_string_equal(entry_str(obj, 0, "manager"), "kubectl-create");
        assert_string_equal(entry_str(obj, 0, "operation"), "Update");
        assert_string_equal(entry_str(obj, 0, "apiVersion"), c->api_version);
        assert_string_equal(entry_str(obj, 0, "time"), "2026-01-01T00:00:00Z");
        assert_string_equal(entry_str(obj, 0, "fieldsType"), "FieldsV1");
        assert_string_equal(entry_str(obj, 0, "subresource"), "<none>");
        cJSON_Delete(obj);
    }
}

/* ---- set algebra and printing ---- */

static cJSON *set_of(const char *fv1)
{
    cJSON *j = parse(fv1), *s = NULL;
    assert_int_equal(mf_set_from_fieldsv1(j, &s), 0);
    cJSON_Delete(j);
    return s;
}

static char *printed(const cJSON *set)
{
    cJSON *f = mf_set_to_fieldsv1(set);
    char *s = ck_json_print(f, 0);
    cJSON_Delete(f);
    return s;
}

struct setop_case {
    const char *a, *b;
    const char *uni, *sub, *inter;
};

static const struct setop_case SETOPS[] = {
    /* a member and its children are distinct members */
    {"{\"f:a\":{\".\":{},\"f:x\":{}}}", "{\"f:a\":{}}", "{\"f:a\":{\".\":{},\"f:x\":{}}}",
     "{\"f:a\":{\"f:x\":{}}}", "{\"f:a\":{}}"},
    {"{\"f:a\":{}}", "{\"f:b\":{}}", "{\"f:a\":{},\"f:b\":{}}", "{\"f:a\":{}}", "{}"},
    /* output order: fields, keys, values, indexes; "." first */
    {"{\"i:1\":{},\"v:2\":{}}", "{\"k:{\\\"n\\\":1}\":{},\"f:z\":{\"f:q\":{}}}",
     "{\"f:z\":{\"f:q\":{}},\"k:{\\\"n\\\":1}\":{},\"v:2\":{},\"i:1\":{}}",
     "{\"v:2\":{},\"i:1\":{}}", "{}"},
    {"{\"f:s\":{\"f:x\":{},\"f:y\":{}}}", "{\"f:s\":{\"f:x\":{}}}",
     "{\"f:s\":{\"f:x\":{},\"f:y\":{}}}", "{\"f:s\":{\"f:y\":{}}}", "{\"f:s\":{\"f:x\":{}}}"},
};

static void set_union_subtract_intersect(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(SETOPS); i++) {
        const struct setop_case *c = &SETOPS[i];
        cJSON *a = set_of(c->a), *b = set_of(c->b);
        cJSON *u = ck_json_dup(a);
        mf_set_union(u, b);
        CK_AUTOFREE char *us = printed(u);
        assert_string_equal(us, c->uni);
        cJSON *d = ck_json_dup(a);
        mf_set_subtract(d, b);
        CK_AUTOFREE char *ds = printed(d);
        assert_string_equal(ds, c->sub);
        cJSON *x = mf_set_intersect(a, b);
        CK_AUTOFREE char *xs = printed(x);
        assert_string_equal(xs, c->inter);
        assert_true(mf_set_equal(u, u));
        assert_false(mf_set_equal(a, u) && strcmp(c->a, c->uni));
        cJSON_Delete(a);
        cJSON_Delete(b);
        cJSON_Delete(u);
        cJSON_Delete(d);
        cJSON_Delete(x);
    }
}

static void set_rejects_malformed_fieldsv1(void **state)
{
    (void)state;
    static const char *const BAD[] = {"[]", "\"f:a\"", "{\"x:a\":{}}", "{\"f:a\":[]}",
                                      "{\".\":{}}"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(BAD); i++) {
        cJSON *j = parse(BAD[i]), *s = (cJSON *)1;
        assert_int_equal(mf_set_from_fieldsv1(j, &s), -22);
        assert_null(s);
        cJSON_Delete(j);
    }
    cJSON *j = parse("{}"), *s = NULL;
    assert_int_equal(mf_set_from_fieldsv1(j, &s), 0);
    assert_true(mf_set_empty(s));
    cJSON_Delete(s);
    cJSON_Delete(j);
}

static void collect(const char *path, void *ctx)
{
    struct ck_buf *b = ctx;
    ck_buf_printf(b, "%s;", path);
}

static void set_paths_print_as_upstream(void **state)
{
    (void)state;
    cJSON *s =
        set_of("{\"f:spec\":{\"f:replicas\":{},\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}"
               "\":{\".\":{},\"f:image\":{}}},\"f:ports\":{\"k:{\\\"containerPort\\\":80,"
               "\\\"protocol\\\":\\\"TCP\\\"}\":{}},\"f:finalizers\":{\"v:\\\"x\\\"\":{}},"
               "\"f:args\":{\"i:0\":{}}}}");
    struct ck_buf b = CK_BUF_INIT;
    mf_set_foreach(s, collect, &b);
    assert_string_equal(b.data, ".spec.args[0];.spec.containers[name=\"c\"];"
                                ".spec.containers[name=\"c\"].image;.spec.finalizers[=\"x\"];"
                                ".spec.ports[containerPort=80,protocol=\"TCP\"];.spec.replicas;");
    ck_buf_free(&b);
    cJSON_Delete(s);
}

/* ---- the Update operation ---- */

static const char CM_OLD[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"managedFields\":"
    "[{\"manager\":\"creator\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2026-01-"
    "01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:data\":{\".\":{},\"f:a\":{},"
    "\"f:b\":{}}}}]},\"data\":{\"a\":\"1\",\"b\":\"2\"}}";

struct update_case {
    const char *name;
    const char *new_data; /* the data map the update writes */
    const char *manager, *api_version;
    int entries;
    /* per entry, sorted as stored: manager, time, fields */
    const char *want[3][3];
};

static const struct update_case UPDATES[] = {
    {"another manager takes the field it changes",
     "{\"a\":\"9\",\"b\":\"2\"}",
     "editor",
     "v1",
     2,
     {{"creator", "2026-01-01T00:00:00Z", "{\"f:data\":{\".\":{},\"f:b\":{}}}"},
      {"editor", "2026-02-02T00:00:00Z", "{\"f:data\":{\"f:a\":{}}}"}}},
    {"a removed field leaves its owner's set",
     "{\"a\":\"1\"}",
     "editor",
     "v1",
     1,
     {{"creator", "2026-01-01T00:00:00Z", "{\"f:data\":{\".\":{},\"f:a\":{}}}"}}},
    {"an unchanged write records nothing and keeps times",
     "{\"a\":\"1\",\"b\":\"2\"}",
     "editor",
     "v1",
     1,
     {{"creator", "2026-01-01T00:00:00Z", "{\"f:data\":{\".\":{},\"f:a\":{},\"f:b\":{}}}"}}},
    {"the same manager's entry grows and gets the new time",
     "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}",
     "creator",
     "v1",
     1,
     {{"creator", "2026-02-02T00:00:00Z",
       "{\"f:data\":{\".\":{},\"f:a\":{},\"f:b\":{},\"f:c\":{}}}"}}},
    {"another apiVersion is another entry",
     "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}",
     "creator",
     "v2",
     2,
     {{"creator", "2026-01-01T00:00:00Z", "{\"f:data\":{\".\":{},\"f:a\":{},\"f:b\":{}}}"},
      {"creator", "2026-02-02T00:00:00Z", "{\"f:data\":{\"f:c\":{}}}"}}},
    {"an owner whose entries are all taken keeps the map itself",
     "{\"a\":\"7\",\"b\":\"8\"}",
     "editor",
     "v1",
     2,
     {{"creator", "2026-01-01T00:00:00Z", "{\"f:data\":{}}"},
      {"editor", "2026-02-02T00:00:00Z", "{\"f:data\":{\"f:a\":{},\"f:b\":{}}}"}}},
};

static void update_merges_entries_per_manager(void **state)
{
    (void)state;
    struct mf_type t = type_of("", "v1", "ConfigMap");
    for (size_t i = 0; i < CK_ARRAY_SIZE(UPDATES); i++) {
        const struct update_case *c = &UPDATES[i];
        cJSON *old = parse(CM_OLD);
        cJSON *obj = ck_json_dup(old);
        cJSON_ReplaceItemInObjectCaseSensitive(obj, "data", parse(c->new_data));
        mf_record_update(&t, old, obj, c->manager, c->api_version, "", false,
                         "2026-02-02T00:00:00Z");
        print_message("case: %s\n", c->name);
        assert_int_equal(entry_count(obj), c->entries);
        for (int k = 0; k < c->entries; k++) {
            assert_string_equal(entry_str(obj, k, "manager"), c->want[k][0]);
            assert_string_equal(entry_str(obj, k, "time"), c->want[k][1]);
            CK_AUTOFREE char *f = entry_fields(obj, k);
            assert_string_equal(f, c->want[k][2]);
        }
        cJSON_Delete(old);
        cJSON_Delete(obj);
    }
}

static void status_writes_are_recorded_apart(void **state)
{
    (void)state;
    struct mf_type t = type_of("apps", "v1", "Deployment");
    cJSON *old = parse(DEPLOYMENT);
    mf_record_update(&t, NULL, old, "kubectl-create", "apps/v1", "", true, "2026-01-01T00:00:00Z");
    cJSON *obj = ck_json_dup(old);
    ck_json_set_int64(obj, "status.replicas", 1);
    ck_json_set_int64(obj, "spec.replicas", 5); /* not tracked on /status */
    mf_record_update(&t, old, obj, "kube-controller-manager", "apps/v1", "status", true,
                     "2026-01-02T00:00:00Z");
    assert_int_equal(entry_count(obj), 2);
    assert_string_equal(entry_str(obj, 1, "manager"), "kube-controller-manager");
    assert_string_equal(entry_str(obj, 1, "subresource"), "status");
    CK_AUTOFREE char *f = entry_fields(obj, 1);
    assert_string_equal(f, "{\"f:status\":{\"f:replicas\":{}}}");
    /* and a main-resource write never records status */
    cJSON *obj2 = ck_json_dup(obj);
    ck_json_set_int64(obj2, "status.replicas", 2);
    mf_record_update(&t, obj, obj2, "other", "apps/v1", "", true, "2026-01-03T00:00:00Z");
    assert_int_equal(entry_count(obj2), 2);
    cJSON_Delete(old);
    cJSON_Delete(obj);
    cJSON_Delete(obj2);
}

static void entries_sort_apply_first_then_time(void **state)
{
    (void)state;
    cJSON *obj = parse("{\"metadata\":{}}");
    struct mf_entries e = {0};
    struct mf_entry *x = mf_entries_add(&e, "b", "Update", "v1", "");
    x->time = ck_xstrdup("2026-01-01T00:00:01Z");
    mf_set_insert(x->set, (const char *const[]){"f:a"}, 1);
    x = mf_entries_add(&e, "a", "Update", "v1", "");
    x->time = ck_xstrdup("2026-01-01T00:00:02Z");
    mf_set_insert(x->set, (const char *const[]){"f:b"}, 1);
    x = mf_entries_add(&e, "z", "Apply", "v1", "");
    x->time = ck_xstrdup("2026-01-01T00:00:03Z");
    mf_set_insert(x->set, (const char *const[]){"f:c"}, 1);
    mf_entries_write(&e, obj);
    assert_string_equal(entry_str(obj, 0, "manager"), "z");
    assert_string_equal(entry_str(obj, 1, "manager"), "b");
    assert_string_equal(entry_str(obj, 2, "manager"), "a");
    /* read back: apply entries match without apiVersion, updates with it */
    struct mf_entries r;
    mf_entries_read(obj, &r);
    assert_int_equal(r.n, 3);
    assert_non_null(mf_entries_find(&r, "z", "Apply", "v9", ""));
    assert_null(mf_entries_find(&r, "b", "Update", "v9", ""));
    assert_non_null(mf_entries_find(&r, "b", "Update", "v1", ""));
    mf_entries_free(&r);
    mf_entries_free(&e);
    cJSON_Delete(obj);
}

static void undecodable_entries_are_dropped(void **state)
{
    (void)state;
    cJSON *obj = parse("{\"metadata\":{\"managedFields\":[{\"manager\":\"a\",\"operation\":"
                       "\"Update\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"bad\":{}}},{"
                       "\"manager\":\"b\",\"operation\":\"Update\",\"fieldsType\":\"FieldsV2\"},"
                       "{\"manager\":\"c\",\"operation\":\"Update\",\"fieldsType\":\"FieldsV1\","
                       "\"fieldsV1\":{\"f:x\":{}}}]}}");
    struct mf_entries r;
    mf_entries_read(obj, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].manager, "c");
    mf_entries_free(&r);
    cJSON_Delete(obj);
}

struct manager_case {
    const char *param, *agent, *want;
};

static void manager_from_param_or_user_agent(void **state)
{
    (void)state;
    char long_agent[300];
    memset(long_agent, 'x', sizeof(long_agent) - 1);
    long_agent[sizeof(long_agent) - 1] = '\0';
    static char want_long[MF_MAX_MANAGER + 1];
    memset(want_long, 'x', MF_MAX_MANAGER);
    const struct manager_case cases[] = {
        {"kubectl-create", "kubectl/v1.32.4 (linux/amd64) kubernetes/abc", "kubectl-create"},
        {NULL, "kubectl-client-side-apply/v1.32.4 (linux/amd64) kubernetes/abc",
         "kubectl-client-side-apply"},
        {"", "kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/x/deployment-controller",
         "kube-controller-manager"},
        {NULL, NULL, ""},
        {NULL, long_agent, want_long},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        CK_AUTOFREE char *m = mf_manager_name(cases[i].param, cases[i].agent);
        assert_string_equal(m, cases[i].want);
    }
}

static void deep_objects_do_not_overflow(void **state)
{
    (void)state;
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "{\"metadata\":{},\"data\":");
    for (int i = 0; i < 500; i++)
        ck_buf_puts(&b, "{\"a\":");
    ck_buf_puts(&b, "1");
    for (int i = 0; i < 500; i++)
        ck_buf_puts(&b, "}");
    ck_buf_puts(&b, "}");
    struct mf_type deduced = {NULL, NULL};
    cJSON *obj = parse(b.data);
    mf_record_update(&deduced, NULL, obj, "m", "v1", "", false, "2026-01-01T00:00:00Z");
    assert_int_equal(entry_count(obj), 1);
    cJSON *s = mf_fieldset_of(&deduced, obj);
    assert_false(mf_set_empty(s));
    cJSON_Delete(s);
    cJSON_Delete(obj);
    ck_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_records_upstream_fieldsv1),
        cmocka_unit_test(set_union_subtract_intersect),
        cmocka_unit_test(set_rejects_malformed_fieldsv1),
        cmocka_unit_test(set_paths_print_as_upstream),
        cmocka_unit_test(update_merges_entries_per_manager),
        cmocka_unit_test(status_writes_are_recorded_apart),
        cmocka_unit_test(entries_sort_apply_first_then_time),
        cmocka_unit_test(undecodable_entries_are_dropped),
        cmocka_unit_test(manager_from_param_or_user_agent),
        cmocka_unit_test(deep_objects_do_not_overflow),
    };
    return cmocka_run_group_tests_name("managedfields", tests, NULL, NULL);
}
