/* Unit tests for server-side apply (apiserver/patch/apply.c): merge by the schema's list types
 * and keys, ownership of applied fields, conflicts with upstream's 409 Status, force, removal
 * of fields no longer applied, no-op re-apply; and fieldValidation (apiserver/fieldvalidation.c):
 * upstream's unknown/duplicate field messages and the Strict/Warn/Ignore directives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/fieldvalidation.h"
#include "apiserver/managedfields.h"
#include "apiserver/openapi/schema.h"
#include "json.h"
#include "mem.h"

static cJSON *parse(const char *s)
{
    cJSON *v = ck_json_parse(s, strlen(s), NULL);
    assert_non_null(v);
    return v;
}

static struct mf_type deployments(void)
{
    const struct schema_doc *doc = schema_builtin();
    assert_non_null(doc);
    struct mf_type t = {doc, schema_for_gvk(doc, "apps", "v1", "Deployment", NULL)};
    assert_non_null(t.root);
    return t;
}

static struct mf_apply_opts opts(const char *manager, bool force, const char *now)
{
    struct mf_apply_opts o = {.manager = manager,
                              .api_version = "apps/v1",
                              .subresource = "",
                              .force = force,
                              .has_status = true,
                              .now = now};
    return o;
}

/* A Deployment config naming containers by the given JSON list. */
static cJSON *config(const char *replicas, const char *containers)
{
    CK_AUTOFREE char *s = ck_xasprintf(
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
        "\"spec\":{%s%s%s\"template\":{\"spec\":{\"containers\":%s}}}}",
        replicas ? "\"replicas\":" : "", replicas ? replicas : "", replicas ? "," : "", containers);
    return parse(s);
}

static char *fields_of(const cJSON *obj, const char *manager)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, ck_json_get(obj, "metadata.managedFields"))
    {
        if (!strcmp(ck_json_get_string(e, "manager", ""), manager))
            return ck_json_print(cJSON_GetObjectItemCaseSensitive(e, "fieldsV1"), 0);
    }
    return ck_xstrdup("<none>");
}

static const char *container_image(const cJSON *obj, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_get(obj, "spec.template.spec.containers"))
    {
        if (!strcmp(ck_json_get_string(c, "name", ""), name))
            return ck_json_get_string(c, "image", "");
    }
    return NULL;
}

/* Applies cfg as manager over live (consumed); returns the result or NULL with err set. */
static cJSON *apply(cJSON *live, cJSON *cfg, const char *manager, bool force, const char *now,
                    struct ck_error *err, int *rc)
{
    struct mf_type t = deployments();
    struct mf_apply_opts o = opts(manager, force, now);
    cJSON *out = NULL;
    *rc = mf_apply(&t, live, cfg, &o, &out, err);
    cJSON_Delete(live);
    cJSON_Delete(cfg);
    return out;
}

static void apply_creates_and_owns_only_what_it_applied(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    int rc;
    cJSON *obj = apply(NULL, config("2", "[{\"name\":\"a\",\"image\":\"x\"}]"), "kubectl", false,
                       "2026-01-01T00:00:00Z", &err, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(ck_json_get_int64(obj, "spec.replicas", 0), 2);
    CK_AUTOFREE char *f = fields_of(obj, "kubectl");
    assert_string_equal(f, "{\"f:spec\":{\"f:replicas\":{},\"f:template\":{\"f:spec\":{"
                           "\"f:containers\":{\"k:{\\\"name\\\":\\\"a\\\"}\":{\".\":{},"
                           "\"f:image\":{},\"f:name\":{}}}}}}}");
    const cJSON *e = cJSON_GetArrayItem(ck_json_get(obj, "metadata.managedFields"), 0);
    assert_string_equal(ck_json_get_string(e, "operation", ""), "Apply");
    assert_string_equal(ck_json_get_string(e, "time", ""), "2026-01-01T00:00:00Z");
    cJSON_Delete(obj);
}

static void reapply_is_a_noop(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    int rc;
    cJSON *live = apply(NULL, config("2", "[{\"name\":\"a\",\"image\":\"x\"}]"), "kubectl", false,
                        "2026-01-01T00:00:00Z", &err, &rc);
    cJSON *before = ck_json_dup(live);
    cJSON *again = apply(live, config("2", "[{\"name\":\"a\",\"image\":\"x\"}]"), "kubectl", false,
                         "2026-05-05T00:00:00Z", &err, &rc);
    assert_int_equal(rc, 0);
    assert_true(ck_json_equal(before, again)); /* time included: nothing to write */
    cJSON_Delete(before);
    cJSON_Delete(again);
}

/* A live object whose replicas belong to an Update manager. */
static cJSON *live_with_scaler(const char *replicas)
{
    struct ck_error err = CK_ERROR_INIT;
    int rc;
    cJSON *live = apply(NULL, config("2", "[{\"name\":\"a\",\"image\":\"x\"}]"), "kubectl", false,
                        "2026-01-01T00:00:00Z", &err, &rc);
    cJSON *next = ck_json_dup(live);
    ck_json_set(next, "spec.replicas", parse(replicas));
    struct mf_type t = deployments();
    mf_record_update(&t, live, next, "kubectl-client-side-apply", "apps/v1", "", true,
                     "2026-01-02T00:00:00Z");
    cJSON_Delete(live);
    return next;
}

static void conflict_is_upstreams_409(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    int rc;
    cJSON *out = apply(live_with_scaler("3"), config("1", "[{\"name\":\"a\",\"image\":\"x\"}]"),
                       "kubectl", false, "2026-01-03T00:00:00Z", &err, &rc);
    assert_null(out);
    assert_int_equal(rc, -EBUSY);
    assert_int_equal(err.code, 409);
    assert_string_equal(err.reason, "Conflict");
    assert_string_equal(err.message, "Apply failed with 1 conflict: conflict with "
                                     "\"kubectl-client-side-apply\" using apps/v1: .spec.replicas");
    cJSON *st = ck_error_to_status(&err);
    const cJSON *cause = cJSON_GetArrayItem(ck_json_get(st, "details.causes"), 0);
    assert_string_equal(ck_json_get_string(cause, "reason", ""), "FieldManagerConflict");
    assert_string_equal(ck_json_get_string(cause, "message", ""),
                        "conflict with \"kubectl-client-side-apply\" using apps/v1");
    assert_string_equal(ck_json_get_string(cause, "field", ""), ".spec.replicas");
    cJSON_Delete(st);
    ck_error_clear(&err);
}

static void several_conflicts_are_listed_per_manager(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    int rc;
    cJSON *live = live_with_scaler("3");
    cJSON *next = ck_json_dup(live);
    cJSON *c0 = cJSON_GetArrayItem(ck_json_get(next, "spec.template.spec.containers"), 0);
    cJSON_ReplaceItemInObjectCaseSensitive(c0, "image", cJSON_CreateString("y"));
    struct mf_type t = deployments();
    mf_record_update(&t, live, next, "kubectl-edit", "apps/v1", "", true, "2026-01-03T00:00:00Z");
    cJSON_Delete(live);
    cJSON *out = apply(next, config("1", "[{\"name\":\"a\",\"image\":\"z\"}]"), "kubectl", false,
                       "2026-01-04T00:00:00Z", &err, &rc);
    assert_null(out);
    assert_string_equal(
        err.message, "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" "
                     "using apps/v1:\n- .spec.replicas\nconflicts with \"kubectl-edit\" using "
                     "apps/v1:\n- .spec.template.spec.containers[name=\"a\"].image");
    ck_error_clear(&err);
}

static void same_value_is_shared_not_a_conflict(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    int rc;
    cJSON *out = apply(live_with_scaler("3"), config("3", "[{\"name\":\"a\",\"image\":\"x\"}]"),
                       "kubectl", false, "2026-01-03T00:00:00Z", &err, &rc);
    assert_int_equal(rc, 0);
    CK_AUTOFREE char *mine = fields_of(out, "kubectl");
    CK_AUTOFREE char *theirs = fields_of(out, "kubectl-client-side-apply");
    assert_non_null(strstr(mine, "\"f:replicas\""));
    assert_string_equal(theirs, "{\"f:spec\":{\"f:replicas\":{}}}");
    cJSON_Delete(out);
}

static void force_takes_ownership(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    int rc;
    cJSON *out = apply(live_with_scaler("3"), config("1", "[{\"name\":\"a\",\"image\":\"x\"}]"),
                       "kubectl", true, "2026-01-03T00:00:00Z", &err, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(ck_json_get_int64(out, "spec.replicas", 0), 1);
    CK_AUTOFREE char *theirs = fields_of(out, "kubectl-client-side-apply");
    assert_string_equal(theirs, "<none>"); /* its only field went: the entry is gone */
    assert_int_equal(cJSON_GetArraySize(ck_json_get(out, "metadata.managedFields")), 1);
    cJSON_Delete(out);
}

static void fields_no_longer_applied_are_removed(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    int rc;
    cJSON *live = apply(NULL,
                        config("2", "[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\","
                                    "\"image\":\"y\"}]"),
                        "kubectl", false, "2026-01-01T00:00:00Z", &err, &rc);
    /* another manager also sets b's image to the same value: shared */
    cJSON *out = apply(live, config(NULL, "[{\"name\":\"b\",\"image\":\"y\"}]"), "other", false,
                       "2026-01-02T00:00:00Z", &err, &rc);
    assert_int_equal(rc, 0);
    /* kubectl drops replicas and container b */
    cJSON *out2 = apply(out, config(NULL, "[{\"name\":\"a\",\"image\":\"x\"}]"), "kubectl", false,
                        "2026-01-03T00:00:00Z", &err, &rc);
    assert_int_equal(rc, 0);
    assert_null(ck_json_get(out2, "spec.replicas"));      /* owned by no one: removed */
    assert_string_equal(container_image(out2, "b"), "y"); /* still owned by "other" */
    assert_string_equal(container_image(out2, "a"), "x");
    /* "other" drops b: it goes */
    cJSON *out3 =
        apply(out2, config(NULL, "[]"), "other", false, "2026-01-04T00:00:00Z", &err, &rc);
    assert_int_equal(rc, 0);
    assert_null(container_image(out3, "b"));
    assert_string_equal(container_image(out3, "a"), "x");
    cJSON_Delete(out3);
}

static void two_managers_own_different_containers(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    int rc;
    cJSON *live = apply(NULL, config("1", "[{\"name\":\"app\",\"image\":\"x\"}]"), "kubectl", false,
                        "2026-01-01T00:00:00Z", &err, &rc);
    cJSON *out = apply(live, config(NULL, "[{\"name\":\"sidecar\",\"image\":\"s\"}]"), "mesh",
                       false, "2026-01-02T00:00:00Z", &err, &rc);
    assert_int_equal(rc, 0);
    /* items merge by the key, new ones after the live ones */
    const cJSON *cs = ck_json_get(out, "spec.template.spec.containers");
    assert_int_equal(cJSON_GetArraySize(cs), 2);
    assert_string_equal(ck_json_get_string(cJSON_GetArrayItem(cs, 0), "name", ""), "app");
    assert_string_equal(ck_json_get_string(cJSON_GetArrayItem(cs, 1), "name", ""), "sidecar");
    CK_AUTOFREE char *mesh = fields_of(out, "mesh");
    assert_string_equal(mesh, "{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{"
                              "\"k:{\\\"name\\\":\\\"sidecar\\\"}\":{\".\":{},\"f:image\":{},"
                              "\"f:name\":{}}}}}}}");
    /* kubectl updates its container: no conflict with mesh */
    cJSON *out2 = apply(out, config("1", "[{\"name\":\"app\",\"image\":\"x2\"}]"), "kubectl", false,
                        "2026-01-03T00:00:00Z", &err, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(container_image(out2, "app"), "x2");
    assert_string_equal(container_image(out2, "sidecar"), "s");
    cJSON_Delete(out2);
}

struct merge_case {
    const char *lhs, *rhs, *want;
};

static void merge_follows_list_types(void **state)
{
    (void)state;
    static const struct merge_case cases[] = {
        /* list-map by key: merged in place, others kept */
        {"{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{"
         "\"name\":\"b\",\"image\":\"2\"}]}}}}",
         "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"3\"}]}}}}",
         "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{"
         "\"name\":\"b\",\"image\":\"3\"}]}}}}"},
        /* set: union */
        {"{\"metadata\":{\"finalizers\":[\"x\"]}}", "{\"metadata\":{\"finalizers\":[\"y\",\"x\"]}}",
         "{\"metadata\":{\"finalizers\":[\"x\",\"y\"]}}"},
        /* atomic list replaced; atomic map (selector) replaced whole */
        {"{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"1\","
         "\"2\"]}]}}}}",
         "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"3\"]}]}}}"
         "}",
         "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"3\"]}]}}}"
         "}"},
        {"{\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"1\"}}}}",
         "{\"spec\":{\"selector\":{\"matchLabels\":{\"b\":\"2\"}}}}",
         "{\"spec\":{\"selector\":{\"matchLabels\":{\"b\":\"2\"}}}}"},
        /* granular map merges */
        {"{\"metadata\":{\"labels\":{\"a\":\"1\"}}}", "{\"metadata\":{\"labels\":{\"b\":\"2\"}}}",
         "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}"},
    };
    struct mf_type t = deployments();
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        cJSON *l = parse(cases[i].lhs), *r = parse(cases[i].rhs), *want = parse(cases[i].want);
        cJSON *m = mf_merge(&t, l, r);
        assert_true(ck_json_equal(m, want));
        cJSON_Delete(l);
        cJSON_Delete(r);
        cJSON_Delete(want);
        cJSON_Delete(m);
    }
}

static void remove_paths_drops_members_only(void **state)
{
    (void)state;
    struct mf_type t = deployments();
    cJSON *obj = parse("{\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":[{"
                       "\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\",\"image\":\"y\"}]}}}}");
    cJSON *fv =
        parse("{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":"
              "\\\"a\\\"}\":{\"f:image\":{}},\"k:{\\\"name\\\":\\\"b\\\"}\":{}}}}}}");
    cJSON *set = NULL;
    assert_int_equal(mf_set_from_fieldsv1(fv, &set), 0);
    mf_remove_paths(&t, obj, set);
    cJSON *want = parse("{\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":[{"
                        "\"name\":\"a\"}]}}}}");
    assert_true(ck_json_equal(obj, want));
    cJSON_Delete(obj);
    cJSON_Delete(fv);
    cJSON_Delete(set);
    cJSON_Delete(want);
}

static void apply_rejects_non_objects_and_other_versions(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    int rc;
    cJSON *out = apply(NULL, parse("[1]"), "kubectl", false, "t", &err, &rc);
    assert_null(out);
    assert_int_equal(err.code, 400);
    ck_error_clear(&err);
    /* the configuration must be of the version applied to */
    out = apply(NULL, parse("{\"apiVersion\":\"apps/v1beta1\",\"kind\":\"Deployment\"}"), "kubectl",
                false, "t", &err, &rc);
    assert_null(out);
    assert_int_equal(err.code, 400);
    assert_string_equal(err.message, "Incorrect version specified in apply patch. Specified patch "
                                     "version: apps/v1beta1, expected: apps/v1");
    ck_error_clear(&err);
}

/* ---- fieldValidation ---- */

struct fv_case {
    const char *body; /* as sent, duplicates and all */
    const char *want; /* the messages joined with ", " */
};

static void unknown_and_duplicate_fields_as_upstream(void **state)
{
    (void)state;
    static const struct fv_case cases[] = {
        {"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"spec\":{\"foo\":1}}",
         "unknown field \"spec.foo\""},
        {"{\"metadata\":{\"bogus\":1},\"spec\":{\"replicas\":1,\"replicas\":2},\"x\":{}}",
         "unknown field \"metadata.bogus\", duplicate field \"spec.replicas\", unknown field "
         "\"x\""},
        {"{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\","
         "\"imagee\":\"x\"}]}}}}",
         "unknown field \"spec.template.spec.containers[1].imagee\""},
        /* maps take any key */
        {"{\"metadata\":{\"labels\":{\"anything\":\"x\"},\"annotations\":{\"a/b\":\"c\"}}}", ""},
    };
    const struct schema_doc *doc = schema_builtin();
    const cJSON *def = schema_for_gvk(doc, "apps", "v1", "Deployment", NULL);
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        cJSON *raw = cJSON_Parse(cases[i].body); /* cJSON keeps duplicate members */
        cJSON *obj = parse(cases[i].body);
        struct ck_errlist l = CK_ERRLIST_INIT;
        fv_check(doc, def, raw, obj, &l);
        CK_AUTOFREE char *all = ck_errlist_join(&l, ", ");
        assert_string_equal(all, cases[i].want);
        /* unknown fields are dropped from the object */
        CK_AUTOFREE char *printed = ck_json_print(obj, 0);
        assert_null(strstr(printed, "foo"));
        assert_null(strstr(printed, "bogus"));
        assert_null(strstr(printed, "imagee"));
        assert_null(strstr(printed, "\"x\":{}"));
        ck_errlist_free(&l);
        cJSON_Delete(raw);
        cJSON_Delete(obj);
    }
}

static void directives_strict_warn_ignore(void **state)
{
    (void)state;
    enum fv_directive d;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(fv_parse_directive(NULL, "CreateOptions", &d, &err), 0);
    assert_int_equal(d, FV_WARN);
    assert_int_equal(fv_parse_directive("Strict", "CreateOptions", &d, &err), 0);
    assert_int_equal(d, FV_STRICT);
    assert_int_equal(fv_parse_directive("Ignore", "CreateOptions", &d, &err), 0);
    assert_int_equal(d, FV_IGNORE);
    assert_true(fv_parse_directive("strict", "PatchOptions", &d, &err) < 0);
    assert_int_equal(err.code, 422);
    assert_string_equal(
        err.message, "PatchOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported "
                     "value: \"strict\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"");
    ck_error_clear(&err);

    struct ck_errlist l = CK_ERRLIST_INIT;
    ck_errlist_add(&l, "unknown field \"spec.foo\"");
    ck_errlist_add(&l, "unknown field \"spec.bar\"");
    assert_int_equal(fv_report(NULL, FV_IGNORE, &l, "", &err), 0);
    assert_int_equal(fv_report(NULL, FV_WARN, &l, "", &err), 0);
    assert_true(fv_report(NULL, FV_STRICT, &l,
                          "Deployment in version \"v1\" cannot be handled "
                          "as a Deployment: ",
                          &err) < 0);
    assert_int_equal(err.code, 400);
    assert_string_equal(err.reason, "BadRequest");
    assert_string_equal(err.message, "Deployment in version \"v1\" cannot be handled as a "
                                     "Deployment: strict decoding error: unknown field "
                                     "\"spec.foo\", unknown field \"spec.bar\"");
    ck_error_clear(&err);
    ck_errlist_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(apply_creates_and_owns_only_what_it_applied),
        cmocka_unit_test(reapply_is_a_noop),
        cmocka_unit_test(conflict_is_upstreams_409),
        cmocka_unit_test(several_conflicts_are_listed_per_manager),
        cmocka_unit_test(same_value_is_shared_not_a_conflict),
        cmocka_unit_test(force_takes_ownership),
        cmocka_unit_test(fields_no_longer_applied_are_removed),
        cmocka_unit_test(two_managers_own_different_containers),
        cmocka_unit_test(merge_follows_list_types),
        cmocka_unit_test(remove_paths_drops_members_only),
        cmocka_unit_test(apply_rejects_non_objects_and_other_versions),
        cmocka_unit_test(unknown_and_duplicate_fields_as_upstream),
        cmocka_unit_test(directives_strict_warn_ignore),
    };
    return cmocka_run_group_tests_name("apply", tests, NULL, NULL);
}
