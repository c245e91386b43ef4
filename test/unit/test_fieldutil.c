/* Unit tests for apiserver/registry/fieldutil.c and the field error helpers of fielderr.c that
 * every strategy shares: JSON member reads and defaults, Go's %#v renderings, and the field
 * errors (texts as upstream's field.ErrorList prints them). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "apiserver/registry/fielderr.h"
#include "apiserver/registry/fieldutil.h"
#include "json.h"
#include "mem.h"
#include "yaml.h"

/* A JSON tree from YAML flow syntax (test readability: {a: 'b'}); caller frees. */
static cJSON *J(const char *yaml)
{
    cJSON *v = NULL;
    assert_int_equal(ck_yaml_parse(yaml, strlen(yaml), 0, &v, NULL), 0);
    return v;
}

static void reads_treat_null_as_absent(void **state)
{
    (void)state;
    cJSON *o = J("{'s':'x','n':null,'i':7,'f':1.5,'b':true}");
    assert_string_equal(fu_str(o, "s"), "x");
    assert_null(fu_get(o, "n"));
    assert_null(fu_get(o, "missing"));
    assert_null(fu_get(NULL, "s"));
    assert_string_equal(fu_str(o, "i"), ""); /* not a string */
    int64_t v = 0;
    assert_true(fu_int(o, "i", &v));
    assert_int_equal(v, 7);
    assert_false(fu_int(o, "f", &v));
    assert_false(fu_int(o, "b", &v));
    static const char *const L[] = {"a", "b", NULL};
    assert_true(fu_in_list(L, "b"));
    assert_false(fu_in_list(L, "c"));
    cJSON *set = cJSON_CreateObject();
    assert_false(fu_seen(set, "k"));
    assert_true(fu_seen(set, "k"));
    cJSON_Delete(set);
    cJSON_Delete(o);
}

static void defaults_fill_only_what_go_leaves_unset(void **state)
{
    (void)state;
    cJSON *o = J("{'keep':'v','empty':'','nul':null,'num':0,'obj':5}");
    fu_default_str(o, "keep", "d");
    fu_default_str(o, "empty", "d"); /* Go's if x == "" */
    fu_default_str(o, "nul", "d");
    fu_default_str(o, "new", "d");
    cJSON *num = fu_default(o, "num", cJSON_CreateNumber(9)); /* set: kept, returned */
    assert_true(cJSON_IsNumber(num) && num->valuedouble == 0);
    assert_true(cJSON_IsTrue(fu_default(o, "ptr", cJSON_CreateTrue())));
    assert_non_null(fu_ensure_object(o, "obj")); /* a non-object is replaced */
    CK_AUTOFREE char *s = ck_json_print(o, 0);
    assert_string_equal(s, "{\"keep\":\"v\",\"empty\":\"d\",\"nul\":\"d\",\"num\":0,\"obj\":{},"
                           "\"new\":\"d\",\"ptr\":true}");
    /* a non-object holder takes nothing and leaks nothing */
    cJSON *arr = cJSON_CreateArray();
    assert_null(fu_default(arr, "x", cJSON_CreateTrue()));
    assert_null(fu_ensure_object(arr, "x"));
    fu_put(arr, "x", cJSON_CreateTrue());
    assert_int_equal(cJSON_GetArraySize(arr), 0);
    cJSON_Delete(arr);
    cJSON_Delete(o);
}

static void go_renderings_match_fmt(void **state)
{
    (void)state;
    cJSON *m = J("{'b':'2','a':'1','n':null}");
    cJSON *a = J("['x', \"y\\\"z\", 3]");
    cJSON *ref = J("{'apiGroup':'rbac.authorization.k8s.io','kind':'Role','name':'r'}");
    static const char *const F[] = {"APIGroup", "apiGroup", "Kind", "kind", "Name", "name", NULL};
    static const struct {
        char *got;
        const char *want;
    } cases[] = {
        {NULL, "map[string]string{\"a\":\"1\", \"b\":\"2\", \"n\":\"\"}"},
        {NULL, "map[string]string(nil)"},
        {NULL, "[]string{\"x\", \"y\\\"z\", \"\"}"},
        {NULL, "[]string(nil)"},
        {NULL, "rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"r\"}"},
    };
    char *got[] = {
        fu_go_render(fu_go_string_map, m),
        fu_go_render(fu_go_string_map, a),
        fu_go_render(fu_go_string_slice, a),
        fu_go_render(fu_go_string_slice, m),
        NULL,
    };
    struct ck_buf b = CK_BUF_INIT;
    fu_go_struct(&b, "rbac.RoleRef", ref, F);
    got[4] = ck_buf_detach(&b);
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        assert_string_equal(got[i], cases[i].want);
        free(got[i]);
    }
    cJSON_Delete(m);
    cJSON_Delete(a);
    cJSON_Delete(ref);
}

static void field_errors_print_like_upstream(void **state)
{
    (void)state;
    struct field_errors e = FIELD_ERRORS_INIT;
    fu_check_port(&e, "spec.ports[0].port", 0);
    fu_check_port(&e, "spec.ports[1].port", 80); /* valid: nothing */
    cJSON *name = cJSON_CreateString("Http");
    fu_check_port_num_or_name(&e, "spec.ports[0].targetPort", name);
    cJSON_Delete(name);
    fu_check_port_num_or_name(&e, "spec.ports[1].targetPort", NULL); /* Go's zero IntOrString */
    static const char *const POL[] = {"Always", "Never", NULL};
    fu_check_enum(&e, "spec.restartPolicy", "", POL);
    fu_check_enum(&e, "spec.restartPolicy", "Sometimes", POL);
    fu_check_enum(&e, "spec.restartPolicy", "Never", POL);
    cJSON *labels = J("{'app':'web'}");
    fu_add_go(&e, FE_INVALID, "spec.template.metadata.labels", fu_go_string_map, labels,
              "`selector` does not match template `labels`");
    cJSON_Delete(labels);
    fe_add_int(&e, FE_INVALID, "spec.replicas", -1, "must be greater than or equal to %d", 0);
    CK_AUTOFREE char *got = fe_join(&e, "\n");
    assert_string_equal(
        got, "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive\n"
             "spec.ports[0].targetPort: Invalid value: \"Http\": must contain only alpha-numeric "
             "characters (a-z, 0-9), and hyphens (-)\n"
             "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, "
             "inclusive\n"
             "spec.restartPolicy: Required value\n"
             "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
             "\"Never\"\n"
             "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: "
             "`selector` does not match template `labels`\n"
             "spec.replicas: Invalid value: -1: must be greater than or equal to 0");
    /* fe_move keeps the order and empties its source */
    struct field_errors all = FIELD_ERRORS_INIT;
    fe_add(&all, FE_REQUIRED, "first", NULL, NULL);
    fe_move(&all, &e);
    assert_int_equal(e.len, 0);
    assert_int_equal(all.len, 8);
    assert_string_equal(all.items[0].field, "first");
    assert_string_equal(all.items[7].field, "spec.replicas");
    field_errors_free(&all);
    field_errors_free(&e);
}

static void labels_and_annotations_follow_metav1(void **state)
{
    (void)state;
    struct field_errors e = FIELD_ERRORS_INIT;
    cJSON *labels = J("{'ok':'v','bad key':'v','k':'bad value','n':null,'num':1}");
    fu_validate_labels(labels, "metadata.labels", &e);
    cJSON_Delete(labels);
    CK_AUTOFREE char *lgot = fe_join(&e, "\n");
    assert_string_equal(
        lgot,
        "metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric "
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
        "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n"
        "metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string "
        "or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
        "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')\n"
        "metadata.labels: Invalid value: 1: must be a string");
    field_errors_free(&e);

    /* keys compare lower-cased; the size limit counts keys and values */
    cJSON *ann = cJSON_CreateObject();
    cJSON_AddStringToObject(ann, "Example.COM/Key", "v");
    fu_validate_annotations(ann, "metadata.annotations", &e);
    assert_int_equal(e.len, 0);
    char *big = ck_xmalloc(256 * 1024 + 1);
    memset(big, 'x', 256 * 1024);
    big[256 * 1024] = '\0';
    cJSON_AddStringToObject(ann, "k", big);
    free(big);
    fu_validate_annotations(ann, "metadata.annotations", &e);
    CK_AUTOFREE char *agot = fe_join(&e, "\n");
    assert_string_equal(agot, "metadata.annotations: Too long: must have at most 262144 bytes");
    field_errors_free(&e);
    cJSON_Delete(ann);

    cJSON *notobj = J("['a']");
    fu_validate_labels(notobj, "spec.selector", &e);
    fu_validate_labels(NULL, "spec.selector", &e);
    CK_AUTOFREE char *ngot = fe_join(&e, "\n");
    assert_string_equal(ngot,
                        "spec.selector: Invalid value: [\"a\"]: must be an object of strings");
    field_errors_free(&e);
    cJSON_Delete(notobj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_treat_null_as_absent),
        cmocka_unit_test(defaults_fill_only_what_go_leaves_unset),
        cmocka_unit_test(go_renderings_match_fmt),
        cmocka_unit_test(field_errors_print_like_upstream),
        cmocka_unit_test(labels_and_annotations_follow_metav1),
    };
    return cmocka_run_group_tests_name("fieldutil", tests, NULL, NULL);
}
