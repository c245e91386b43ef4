/* Unit tests for selector.c: label selectors (string syntax, metav1.LabelSelector, matching,
 * canonical String) and field selectors (parsing, escaping, matching), against upstream's
 * behaviour and error texts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mem.h"
#include "selector.h"

/* Messages upstream builds from its validation helpers, spelled out once here. */
#define KEY_NAME_MSG                                                                               \
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "  \
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for " \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define VALUE_MSG                                                                                  \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is "                                       \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

static struct ck_label_selector *parse_ok(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    struct ck_label_selector *sel = NULL;
    int rc = ck_label_selector_parse(s, &sel, &err);
    if (rc != 0)
        fail_msg("parse(\"%s\") failed: %s", s, err.message);
    assert_non_null(sel);
    return sel;
}

/* ---- label selector: parsing to the canonical string ---- */

static void label_parse_canonical_strings(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"  \t\r\n ", ""},
        {"x=a", "x=a"},
        {"x==a", "x==a"},
        {"x!=a", "x!=a"},
        {"  x  =  a  ", "x=a"},
        {"x\t==\na", "x==a"},
        {"x in (b,a)", "x in (a,b)"},
        {"x notin ( b , a )", "x notin (a,b)"},
        {"x in (a,a,b,a)", "x in (a,b)"},
        {"x", "x"},
        {"!x", "!x"},
        {"! x", "!x"},
        {"x>1", "x>1"},
        {"x<5", "x<5"},
        {"x > 10", "x>10"},
        {"z=1,a=2,m", "a=2,m,z=1"},
        {"x in ()", "x in ()"},
        {"x in (a,)", "x in (,a)"},
        {"x in (,a)", "x in (,a)"},
        {"x in (a,,b)", "x in (,a,b)"},
        {"x in (,)", "x in ()"},
        {"x=", "x="},
        {"x=,y", "x=,y"},
        {"x!=,!y", "x!=,!y"},
        {"in in (in)", "in in (in)"},
        {"notin notin (notin,in)", "notin notin (in,notin)"},
        {"example.com/app=web,app.kubernetes.io/name in (a)",
         "app.kubernetes.io/name in (a),example.com/app=web"},
        {"x in (b),x notin (a)", "x in (b),x notin (a)"},
        {"x notin (a),x in (b)", "x notin (a),x in (b)"},
        {"x=007", "x=007"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        CK_AUTOLABELSEL struct ck_label_selector *sel = parse_ok(cases[i].in);
        CK_AUTOFREE char *got = ck_label_selector_string(sel);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("parse(\"%s\").String() = \"%s\", want \"%s\"", cases[i].in, got,
                     cases[i].want);
    }
}

static void label_parse_keeps_requirements_sorted(void **state)
{
    (void)state;
    CK_AUTOLABELSEL struct ck_label_selector *sel = parse_ok("c in (y,x),a,!b,d>3");
    assert_int_equal(sel->n, 4);
    assert_string_equal(sel->reqs[0].key, "a");
    assert_int_equal(sel->reqs[0].op, CK_SEL_EXISTS);
    assert_int_equal(sel->reqs[0].nvalues, 0);
    assert_string_equal(sel->reqs[1].key, "b");
    assert_int_equal(sel->reqs[1].op, CK_SEL_DOES_NOT_EXIST);
    assert_int_equal(sel->reqs[2].op, CK_SEL_IN);
    assert_int_equal(sel->reqs[2].nvalues, 2);
    assert_string_equal(sel->reqs[2].values[0], "x"); /* parsed value sets are sorted */
    assert_string_equal(sel->reqs[2].values[1], "y");
    assert_int_equal(sel->reqs[3].op, CK_SEL_GT);
    assert_false(ck_label_selector_empty(sel));
    assert_string_equal(ck_selector_op_string(sel->reqs[3].op), "gt");
    assert_string_equal(ck_selector_op_string(CK_SEL_DOES_NOT_EXIST), "!");
}

/* ---- label selector: parse errors ---- */

static void label_parse_errors_match_upstream(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"x y", "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"},
        {"x!", "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"},
        {"x=a,", "found '', expected: identifier after ','"},
        {"x=a,,y", "found ',', expected: identifier after ','"},
        {",x", "found ',', expected: !, identifier, or 'end of string'"},
        {"=a", "found '=', expected: !, identifier, or 'end of string'"},
        {"(x)", "found '(', expected: !, identifier, or 'end of string'"},
        {"x=a b", "found 'b', expected: ',' or 'end of string'"},
        {"!x=y", "found '=', expected: ',' or 'end of string'"},
        {"!x in (a)", "found 'in', expected: ',' or 'end of string'"},
        {"!", "unable to parse requirement: found '', expected: identifier"},
        {"!!x", "unable to parse requirement: found '!', expected: identifier"},
        {"x in", "unable to parse requirement: found '' expected: '('"},
        {"x in a", "unable to parse requirement: found 'a' expected: '('"},
        {"x in (a", "unable to parse requirement: found '', expected: ',' or ')'"},
        {"x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"},
        {"x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"},
        {"x in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"},
        {"x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"},
        {"x=(a)", "unable to parse requirement: found '(', expected: identifier"},
        {"x>=1", "unable to parse requirement: found '=', expected: identifier"},
        {"x>a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
                "operators, the value must be an integer"},
        {"x<1.5", "unable to parse requirement: values[0]: Invalid value: \"1.5\": for 'Gt', "
                  "'Lt' operators, the value must be an integer"},
        {"x<99999999999999999999", "unable to parse requirement: values[0]: Invalid value: "
                                   "\"99999999999999999999\": for 'Gt', 'Lt' operators, the "
                                   "value must be an integer"},
        {"x>", "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' "
               "operators, the value must be an integer"},
        {"x>-1", "unable to parse requirement: values[0][x]: Invalid value: \"-1\": " VALUE_MSG},
        {"x=a b c", "found 'b', expected: ',' or 'end of string'"},
        /* '|' is an ordinary character, and the value is validated before what follows it */
        {"x=a||y=b",
         "unable to parse requirement: values[0][x]: Invalid value: \"a||y\": " VALUE_MSG},
        {"x=a,b c",
         "unable to parse requirement: found 'c', expected: in, notin, =, ==, !=, gt, lt"},
        {"x==a==b", "found '==', expected: ',' or 'end of string'"},
        {"x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
                "operators, the value must be an integer"},
        {"-x=a", "unable to parse requirement: <nil>: Invalid value: \"-x\": " KEY_NAME_MSG},
        {"x=-a", "unable to parse requirement: values[0][x]: Invalid value: \"-a\": " VALUE_MSG},
        {"x=\xc3\xbc", "unable to parse requirement: values[0][x]: Invalid value: "
                       "\"\xc3\xbc\": " VALUE_MSG},
        {"x=\"q\"", "unable to parse requirement: values[0][x]: Invalid value: "
                    "\"\\\"q\\\"\": " VALUE_MSG},
        {"x in (ok,-bad)", "unable to parse requirement: values[0][x]: Invalid value: "
                           "\"-bad\": " VALUE_MSG},
        {"a/b/c", "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified "
                  "name must consist of alphanumeric characters, '-', '_' or '.', and must "
                  "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name', "
                  " or '123-abc', regex used for validation is "
                  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain "
                  "prefix and '/' (e.g. 'example.com/MyName')"},
        {"/a", "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be "
               "non-empty"},
        {"Ex.com/a", "unable to parse requirement: <nil>: Invalid value: \"Ex.com/a\": prefix "
                     "part a lowercase RFC 1123 subdomain must consist of lower case "
                     "alphanumeric characters, '-' or '.', and must start and end with an "
                     "alphanumeric character (e.g. 'example.com', regex used for validation is "
                     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct ck_error err = CK_ERROR_INIT;
        struct ck_label_selector *sel = (void *)1;
        int rc = ck_label_selector_parse(cases[i].in, &sel, &err);
        if (rc != -EINVAL)
            fail_msg("parse(\"%s\") = %d, want -EINVAL", cases[i].in, rc);
        assert_null(sel);
        assert_int_equal(err.code, 400);
        assert_string_equal(err.reason, "BadRequest");
        if (strcmp(err.message, cases[i].want) != 0)
            fail_msg("parse(\"%s\")\n got: %s\nwant: %s", cases[i].in, err.message, cases[i].want);
        ck_error_clear(&err);
    }
}

static void label_parse_rejects_unicode_and_long_keys(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    struct ck_label_selector *sel = NULL;
    /* a non-ASCII key is quoted as printable text, as Go's %q does */
    assert_int_equal(ck_label_selector_parse("\xd0\xba\xd0\xbb=a", &sel, &err), -EINVAL);
    assert_string_equal(
        err.message,
        "unable to parse requirement: <nil>: Invalid value: \"\xd0\xba\xd0\xbb\": " KEY_NAME_MSG);
    /* a key of 64 characters trips the length limit and nothing else */
    char key[70];
    memset(key, 'k', 64);
    strcpy(key + 64, "=v");
    assert_int_equal(ck_label_selector_parse(key, &sel, &err), -EINVAL);
    assert_non_null(strstr(err.message, "\": name part must be no more than 63 characters"));
    assert_null(strstr(err.message, "; "));
    /* 63 is fine */
    strcpy(key + 63, "=v");
    CK_AUTOLABELSEL struct ck_label_selector *ok = parse_ok(key);
    assert_int_equal(ok->n, 1);
    /* a control byte in a value is escaped in the message */
    assert_int_equal(ck_label_selector_parse("x=a\x01", &sel, &err), -EINVAL);
    assert_non_null(strstr(err.message, "Invalid value: \"a\\x01\": "));
    ck_error_clear(&err);
}

static void label_parse_survives_very_long_input(void **state)
{
    (void)state;
    /* 200k requirements and a 1 MB value: linear work, no crash, errors stay bounded */
    size_t n = 200000;
    char *big = ck_xmalloc(n * 8 + 1);
    size_t off = 0;
    for (size_t i = 0; i < n; i++)
        off += (size_t)sprintf(big + off, "%sk%zu", i ? "," : "", i % 1000);
    CK_AUTOLABELSEL struct ck_label_selector *sel = parse_ok(big);
    assert_int_equal(sel->n, n);
    assert_string_equal(sel->reqs[0].key, "k0");
    cJSON *labels = cJSON_Parse("{\"k0\":\"\"}");
    assert_false(ck_label_selector_matches(sel, labels));
    cJSON_Delete(labels);
    free(big);

    size_t vlen = 1 << 20;
    char *val = ck_xmalloc(vlen + 3);
    memcpy(val, "x=", 2);
    memset(val + 2, 'v', vlen);
    val[vlen + 2] = '\0';
    struct ck_error err = CK_ERROR_INIT;
    struct ck_label_selector *bad = NULL;
    assert_int_equal(ck_label_selector_parse(val, &bad, &err), -EINVAL);
    assert_true(strncmp(err.message,
                        "unable to parse requirement: values[0][x]: Invalid value: \"vvv",
                        60) == 0);
    assert_true(strlen(err.message) < sizeof(err.message));
    free(val);
    ck_error_clear(&err);
}

/* ---- label selector: matching ---- */

static void label_matching_follows_upstream_semantics(void **state)
{
    (void)state;
    static const struct {
        const char *sel, *labels;
        bool want;
    } cases[] = {
        {"", "{}", true},
        {"", "{\"a\":\"b\"}", true},
        {"a=b", "{\"a\":\"b\"}", true},
        {"a==b", "{\"a\":\"b\",\"c\":\"d\"}", true},
        {"a=b", "{\"a\":\"c\"}", false},
        {"a=b", "{}", false},
        {"a=b", "{\"A\":\"b\"}", false}, /* keys are case-sensitive */
        {"a!=b", "{}", true},            /* absent key satisfies != */
        {"a!=b", "{\"a\":\"b\"}", false},
        {"a!=b", "{\"a\":\"c\"}", true},
        {"a in (x,y)", "{\"a\":\"y\"}", true},
        {"a in (x,y)", "{\"a\":\"z\"}", false},
        {"a in (x,y)", "{}", false},
        {"a notin (x)", "{}", true},
        {"a notin (x)", "{\"a\":\"x\"}", false},
        {"a notin (x)", "{\"a\":\"w\"}", true},
        {"a", "{\"a\":\"\"}", true},
        {"a", "{}", false},
        {"!a", "{}", true},
        {"!a", "{\"a\":\"1\"}", false},
        {"a>1", "{\"a\":\"2\"}", true},
        {"a>1", "{\"a\":\"1\"}", false},
        {"a>1", "{\"a\":\"x\"}", false},
        {"a>1", "{}", false},
        {"a<5", "{\"a\":\"-3\"}", true},
        {"a<5", "{\"a\":\"+4\"}", true},
        {"a<5", "{\"a\":\"05\"}", false},
        {"a>0", "{\"a\":\"99999999999999999999\"}", false}, /* out of int64 range */
        {"x in ()", "{\"x\":\"\"}", true},
        {"x in ()", "{\"x\":\"a\"}", false},
        {"x=", "{\"x\":\"\"}", true},
        {"x=", "{}", false},
        {"a=b,c", "{\"a\":\"b\"}", false},
        {"a=b,c", "{\"a\":\"b\",\"c\":\"\"}", true},
        {"a=b,!c", "{\"a\":\"b\",\"c\":\"\"}", false},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        CK_AUTOLABELSEL struct ck_label_selector *sel = parse_ok(cases[i].sel);
        cJSON *labels = cJSON_Parse(cases[i].labels);
        assert_non_null(labels);
        bool got = ck_label_selector_matches(sel, labels);
        cJSON_Delete(labels);
        if (got != cases[i].want)
            fail_msg("\"%s\" matches %s = %d, want %d", cases[i].sel, cases[i].labels, got,
                     cases[i].want);
    }
    /* no labels at all behaves like {} */
    CK_AUTOLABELSEL struct ck_label_selector *every = parse_ok("");
    CK_AUTOLABELSEL struct ck_label_selector *dne = parse_ok("!a");
    CK_AUTOLABELSEL struct ck_label_selector *eq = parse_ok("a=b");
    assert_true(ck_label_selector_matches(every, NULL));
    assert_true(ck_label_selector_matches(dne, NULL));
    assert_false(ck_label_selector_matches(eq, NULL));
    assert_false(ck_label_selector_matches(NULL, NULL));
}

/* ---- metav1.LabelSelector ---- */

static int from_json(const char *json, struct ck_label_selector **out, struct ck_error *err)
{
    cJSON *j = json ? cJSON_Parse(json) : NULL;
    if (json)
        assert_non_null(j);
    int rc = ck_label_selector_from_json(j, out, err);
    cJSON_Delete(j);
    return rc;
}

static void label_selector_json_nil_empty_and_full(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    cJSON *labels = cJSON_Parse("{\"a\":\"1\",\"b\":\"2\",\"c\":\"y\"}");

    CK_AUTOLABELSEL struct ck_label_selector *nil = NULL;
    assert_int_equal(from_json(NULL, &nil, &err), 0);
    assert_true(nil->nothing);
    assert_false(ck_label_selector_matches(nil, labels)); /* nil selector: nothing */
    assert_false(ck_label_selector_matches(nil, NULL));
    assert_false(ck_label_selector_empty(nil));
    CK_AUTOFREE char *nil_s = ck_label_selector_string(nil);
    assert_string_equal(nil_s, "");

    CK_AUTOLABELSEL struct ck_label_selector *jnull = NULL;
    assert_int_equal(from_json("null", &jnull, &err), 0);
    assert_false(ck_label_selector_matches(jnull, labels));

    CK_AUTOLABELSEL struct ck_label_selector *empty = NULL;
    assert_int_equal(from_json("{}", &empty, &err), 0);
    assert_true(ck_label_selector_matches(empty, labels)); /* empty selector: everything */
    assert_true(ck_label_selector_empty(empty));

    CK_AUTOLABELSEL struct ck_label_selector *empty2 = NULL;
    assert_int_equal(from_json("{\"matchLabels\":{},\"matchExpressions\":[]}", &empty2, &err), 0);
    assert_true(ck_label_selector_empty(empty2));

    CK_AUTOLABELSEL struct ck_label_selector *full = NULL;
    assert_int_equal(from_json("{\"matchLabels\":{\"b\":\"2\",\"a\":\"1\"},\"matchExpressions\":["
                               "{\"key\":\"c\",\"operator\":\"In\",\"values\":[\"z\",\"y\"]},"
                               "{\"key\":\"d\",\"operator\":\"DoesNotExist\"},"
                               "{\"key\":\"e\",\"operator\":\"NotIn\",\"values\":[\"q\"]},"
                               "{\"key\":\"a\",\"operator\":\"Exists\",\"values\":null}]}",
                               &full, &err),
                     0);
    CK_AUTOFREE char *s = ck_label_selector_string(full);
    assert_string_equal(s, "a=1,a,b=2,c in (y,z),!d,e notin (q)");
    /* JSON values keep the caller's order inside the selector; String() sorts a copy */
    assert_string_equal(full->reqs[3].values[0], "z");
    assert_true(ck_label_selector_matches(full, labels));
    cJSON_ReplaceItemInObject(labels, "c", cJSON_CreateString("x"));
    assert_false(ck_label_selector_matches(full, labels));

    CK_AUTOLABELSEL struct ck_label_selector *dups = NULL;
    assert_int_equal(from_json("{\"matchExpressions\":[{\"key\":\"c\",\"operator\":\"In\","
                               "\"values\":[\"b\",\"a\",\"b\"]}]}",
                               &dups, &err),
                     0);
    CK_AUTOFREE char *ds = ck_label_selector_string(dups);
    assert_string_equal(ds, "c in (a,b,b)"); /* not de-duplicated, as upstream */
    cJSON_Delete(labels);
}

static void label_selector_json_errors_match_upstream(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\"}]}",
         "\"Foo\" is not a valid label selector operator"},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"in\",\"values\":[\"x\"]}]}",
         "\"in\" is not a valid label selector operator"},
        {"{\"matchExpressions\":[{\"key\":\"a\"}]}", "\"\" is not a valid label selector operator"},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}",
         "\"Gt\" is not a valid label selector operator"},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
         "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
         "empty"},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"NotIn\",\"values\":[]}]}",
         "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
         "empty"},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\",\"y\"]}]"
         "}",
         "values: Invalid value: []string{\"x\", \"y\"}: values set must be empty for exists and "
         "does not exist"},
        {"{\"matchLabels\":{\"-a\":\"b\"}}", "key: Invalid value: \"-a\": " KEY_NAME_MSG},
        {"{\"matchLabels\":{\"a\":\"b c\"}}", "values[0][a]: Invalid value: \"b c\": " VALUE_MSG},
        {"{\"matchLabels\":{\"-a\":\"-b\"}}",
         "[key: Invalid value: \"-a\": " KEY_NAME_MSG
         ", values[0][-a]: Invalid value: \"-b\": " VALUE_MSG "]"},
        {"{\"matchExpressions\":[{\"key\":\"\",\"operator\":\"Exists\"}]}",
         "key: Invalid value: \"\": name part must be non-empty; " KEY_NAME_MSG},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct ck_error err = CK_ERROR_INIT;
        struct ck_label_selector *sel = (void *)1;
        assert_int_equal(from_json(cases[i].json, &sel, &err), -EINVAL);
        assert_null(sel);
        assert_int_equal(err.code, 400);
        if (strcmp(err.message, cases[i].want) != 0)
            fail_msg("%s\n got: %s\nwant: %s", cases[i].json, err.message, cases[i].want);
    }
    /* malformed shapes are rejected, not crashed on */
    const char *bad[] = {
        "[]",
        "\"x\"",
        "{\"matchLabels\":[]}",
        "{\"matchLabels\":{\"a\":1}}",
        "{\"matchExpressions\":{}}",
        "{\"matchExpressions\":[1]}",
        "{\"matchExpressions\":[{\"key\":1,\"operator\":\"Exists\"}]}",
        "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[1]}]}"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(bad); i++) {
        struct ck_error err = CK_ERROR_INIT;
        struct ck_label_selector *sel = NULL;
        assert_int_equal(from_json(bad[i], &sel, &err), -EINVAL);
        assert_null(sel);
        assert_int_equal(err.code, 400);
    }
}

static void label_selector_from_set_add_and_exact_match(void **state)
{
    (void)state;
    cJSON *set = cJSON_Parse("{\"tier\":\"web\",\"app\":\"nginx\"}");
    CK_AUTOLABELSEL struct ck_label_selector *sel = ck_label_selector_from_set(set);
    CK_AUTOFREE char *s = ck_label_selector_string(sel);
    assert_string_equal(s, "app=nginx,tier=web");
    assert_true(ck_label_selector_matches(sel, set));
    const char *v = NULL;
    assert_true(ck_label_selector_requires_exact_match(sel, "tier", &v));
    assert_string_equal(v, "web");
    assert_false(ck_label_selector_requires_exact_match(sel, "zone", &v));
    cJSON_Delete(set);

    CK_AUTOLABELSEL struct ck_label_selector *none = ck_label_selector_from_set(NULL);
    assert_true(ck_label_selector_empty(none));

    /* gt/lt through the requirement constructor (node affinity uses these) */
    struct ck_error err = CK_ERROR_INIT;
    const char *three[] = {"3"};
    assert_int_equal(ck_label_selector_add(sel, "cpus", CK_SEL_GT, three, 1, &err), 0);
    CK_AUTOFREE char *s2 = ck_label_selector_string(sel);
    assert_string_equal(s2, "app=nginx,cpus>3,tier=web");
    cJSON *node = cJSON_Parse("{\"tier\":\"web\",\"app\":\"nginx\",\"cpus\":\"4\"}");
    assert_true(ck_label_selector_matches(sel, node));
    cJSON_Delete(node);
    const char *two[] = {"1", "2"};
    assert_int_equal(ck_label_selector_add(sel, "cpus", CK_SEL_LT, two, 2, &err), -EINVAL);
    assert_string_equal(err.message, "values: Invalid value: []string{\"1\", \"2\"}: for 'Gt', "
                                     "'Lt' operators, exactly one value is required");
    assert_int_equal(ck_label_selector_add(sel, "x", CK_SEL_EQUALS, NULL, 0, &err), -EINVAL);
    assert_string_equal(err.message, "values: Invalid value: []string(nil): exact-match "
                                     "compatibility requires one single value");

    /* in with one value pins the key; notin does not; dup is deep */
    CK_AUTOLABELSEL struct ck_label_selector *p = parse_ok("a in (x),b notin (y)");
    assert_true(ck_label_selector_requires_exact_match(p, "a", &v));
    assert_string_equal(v, "x");
    assert_false(ck_label_selector_requires_exact_match(p, "b", &v));
    CK_AUTOLABELSEL struct ck_label_selector *d = ck_label_selector_dup(p);
    CK_AUTOFREE char *ps = ck_label_selector_string(p);
    CK_AUTOFREE char *dstr = ck_label_selector_string(d);
    assert_string_equal(ps, dstr);
    assert_ptr_not_equal(p->reqs[0].key, d->reqs[0].key);

    /* adding to nothing keeps it nothing */
    CK_AUTOLABELSEL struct ck_label_selector *nothing = ck_label_selector_nothing();
    assert_int_equal(ck_label_selector_add(nothing, "a", CK_SEL_EXISTS, NULL, 0, &err), 0);
    assert_false(ck_label_selector_matches(nothing, NULL));
    assert_int_equal(nothing->n, 0);
    ck_error_clear(&err);
}

/* ---- field selectors ---- */

static struct ck_field_selector *fparse_ok(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    struct ck_field_selector *sel = NULL;
    if (ck_field_selector_parse(s, &sel, &err) != 0)
        fail_msg("field parse(\"%s\") failed: %s", s, err.message);
    return sel;
}

static void field_parse_canonical_strings(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {",,", ""},
        {"=", ""}, /* neither field nor value: upstream turns it into Everything */
        {"metadata.name=foo", "metadata.name=foo"},
        {"metadata.name==foo", "metadata.name=foo"},
        {"b=1,a!=2", "a!=2,b=1"},
        {"a=1,", "a=1"},
        {"a=", "a="},
        {"a b=c", "a b=c"},
        {"a!b=c", "a!b=c"},
        {"a=x\\,y", "a=x\\,y"},
        {"a=x\\=y\\\\z", "a=x\\=y\\\\z"},
        {"spec.nodeName=,status.phase!=Running", "spec.nodeName=,status.phase!=Running"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        CK_AUTOFIELDSEL struct ck_field_selector *sel = fparse_ok(cases[i].in);
        CK_AUTOFREE char *got = ck_field_selector_string(sel);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("field parse(\"%s\").String() = \"%s\", want \"%s\"", cases[i].in, got,
                     cases[i].want);
    }
}

static void field_parse_exposes_unescaped_requirements(void **state)
{
    (void)state;
    CK_AUTOFIELDSEL struct ck_field_selector *sel =
        fparse_ok("status.phase!=Running,metadata.name=a\\,b\\=c\\\\d,spec.nodeName==n1");
    assert_int_equal(sel->n, 3);
    assert_string_equal(sel->reqs[0].field, "metadata.name");
    assert_int_equal(sel->reqs[0].op, CK_SEL_EQUALS);
    assert_string_equal(sel->reqs[0].value, "a,b=c\\d");
    assert_string_equal(sel->reqs[1].field, "spec.nodeName");
    assert_int_equal(sel->reqs[1].op, CK_SEL_EQUALS);
    assert_string_equal(sel->reqs[1].value, "n1");
    assert_string_equal(sel->reqs[2].field, "status.phase");
    assert_int_equal(sel->reqs[2].op, CK_SEL_NOT_EQUALS);
    const char *v;
    assert_true(ck_field_selector_requires_exact_match(sel, "spec.nodeName", &v));
    assert_string_equal(v, "n1");
    assert_false(ck_field_selector_requires_exact_match(sel, "status.phase", &v));
    /* unicode passes through; invalid UTF-8 becomes U+FFFD only on the escaping path */
    CK_AUTOFIELDSEL struct ck_field_selector *u = fparse_ok("a=\xc3\xbc,b=\xff,c=\xff\\,");
    assert_string_equal(u->reqs[0].value, "\xc3\xbc");
    assert_string_equal(u->reqs[1].value, "\xff");
    assert_string_equal(u->reqs[2].value, "\xef\xbf\xbd,");
}

static void field_parse_errors_match_upstream(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"abc", "invalid selector: 'abc'; can't understand 'abc'"},
        {"a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"},
        {"a=x,y", "invalid selector: 'a=x,y'; can't understand 'y'"},
        {"a=b=c", "invalid field selector: unescaped character in value: 61"},
        {"a===b", "invalid field selector: unescaped character in value: 61"},
        {"a=\\x", "invalid field selector: invalid escape sequence: \\x"},
        {"a=x\\", "invalid field selector: invalid escape sequence: \\"},
        {"a=\\!", "invalid field selector: invalid escape sequence: \\!"},
        {"a=\\\xc3\xbc", "invalid field selector: invalid escape sequence: \\\xc3\xbc"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct ck_error err = CK_ERROR_INIT;
        struct ck_field_selector *sel = (void *)1;
        assert_int_equal(ck_field_selector_parse(cases[i].in, &sel, &err), -EINVAL);
        assert_null(sel);
        assert_int_equal(err.code, 400);
        if (strcmp(err.message, cases[i].want) != 0)
            fail_msg("field parse(\"%s\")\n got: %s\nwant: %s", cases[i].in, err.message,
                     cases[i].want);
    }
}

struct pod_fields {
    const char *name, *node, *phase;
};

static const char *pod_lookup(void *ctx, const char *field)
{
    const struct pod_fields *p = ctx;
    if (strcmp(field, "metadata.name") == 0)
        return p->name;
    if (strcmp(field, "spec.nodeName") == 0)
        return p->node;
    if (strcmp(field, "status.phase") == 0)
        return p->phase;
    return NULL;
}

static void field_matching_reads_missing_as_empty(void **state)
{
    (void)state;
    struct pod_fields pending = {"web-1", NULL, "Pending"};
    struct pod_fields running = {"web-2", "n1", "Running"};
    CK_AUTOFIELDSEL struct ck_field_selector *unsched = fparse_ok("spec.nodeName=");
    assert_true(ck_field_selector_matches(unsched, pod_lookup, &pending));
    assert_false(ck_field_selector_matches(unsched, pod_lookup, &running));
    CK_AUTOFIELDSEL struct ck_field_selector *notrun = fparse_ok("status.phase!=Running");
    assert_true(ck_field_selector_matches(notrun, pod_lookup, &pending));
    assert_false(ck_field_selector_matches(notrun, pod_lookup, &running));
    CK_AUTOFIELDSEL struct ck_field_selector *both =
        fparse_ok("spec.nodeName=n1,metadata.name=web-2");
    assert_true(ck_field_selector_matches(both, pod_lookup, &running));
    assert_false(ck_field_selector_matches(both, pod_lookup, &pending));
    CK_AUTOFIELDSEL struct ck_field_selector *every = fparse_ok("");
    assert_true(ck_field_selector_empty(every));
    assert_true(ck_field_selector_matches(every, pod_lookup, &pending));
    assert_false(ck_field_selector_empty(both));

    struct ck_field_kv kv[] = {{"metadata.name", "a,b"}, {"metadata.namespace", "default"}};
    CK_AUTOFIELDSEL struct ck_field_selector *esc = fparse_ok("metadata.name=a\\,b");
    assert_true(ck_field_selector_matches_set(esc, kv, 2));
    CK_AUTOFIELDSEL struct ck_field_selector *ns = fparse_ok("metadata.namespace!=default");
    assert_false(ck_field_selector_matches_set(ns, kv, 2));
    assert_true(ck_field_selector_matches_set(ns, NULL, 0));

    CK_AUTOFIELDSEL struct ck_field_selector *one =
        ck_field_selector_one_term_equal("metadata.name", "x=y");
    CK_AUTOFREE char *s = ck_field_selector_string(one);
    assert_string_equal(s, "metadata.name=x\\=y");
    CK_AUTOFREE char *e = ck_field_escape_value("a\\b,c=d");
    assert_string_equal(e, "a\\\\b\\,c\\=d");
    struct ck_error err = CK_ERROR_INIT;
    char *un = NULL;
    assert_int_equal(ck_field_unescape_value(e, &un, &err), 0);
    assert_string_equal(un, "a\\b,c=d");
    free(un);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_parse_canonical_strings),
        cmocka_unit_test(label_parse_keeps_requirements_sorted),
        cmocka_unit_test(label_parse_errors_match_upstream),
        cmocka_unit_test(label_parse_rejects_unicode_and_long_keys),
        cmocka_unit_test(label_parse_survives_very_long_input),
        cmocka_unit_test(label_matching_follows_upstream_semantics),
        cmocka_unit_test(label_selector_json_nil_empty_and_full),
        cmocka_unit_test(label_selector_json_errors_match_upstream),
        cmocka_unit_test(label_selector_from_set_add_and_exact_match),
        cmocka_unit_test(field_parse_canonical_strings),
        cmocka_unit_test(field_parse_exposes_unescaped_requirements),
        cmocka_unit_test(field_parse_errors_match_upstream),
        cmocka_unit_test(field_matching_reads_missing_as_empty),
    };
    return cmocka_run_group_tests_name("selector", tests, NULL, NULL);
}
