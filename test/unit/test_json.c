/* Unit tests for json.c: Go-compatible parsing and errors, paths, mutation, equality and
 * Go-style printing of Kubernetes objects. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "json.h"
#include "mem.h"

static cJSON *parse_ok(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *j = ck_json_parse(s, strlen(s), &err);
    if (!j)
        fail_msg("parse of %s failed: %s", s, err.message);
    ck_error_clear(&err);
    return j;
}

/* Parses s and prints it canonically (sorted keys, Go number and string formatting). */
static char *roundtrip(const char *s)
{
    cJSON *j = parse_ok(s);
    char *out = ck_json_canonical(j);
    cJSON_Delete(j);
    return out;
}

static void parse_then_print_matches_go(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"{\"b\":1,\"a\":[true,false,null,\"x\"]}", "{\"a\":[true,false,null,\"x\"],\"b\":1}"},
        {" \t\r\n[ ] \n", "[]"},
        {"{ }", "{}"},
        /* keys sort bytewise, as Go sorts map keys: uppercase before lowercase */
        {"{\"b\":0,\"a.b\":1,\"aa\":2,\"a\":3,\"B\":4}",
         "{\"B\":4,\"a\":3,\"a.b\":1,\"aa\":2,\"b\":0}"},
        /* duplicate keys: the last one wins, as Go decoding into a map */
        {"{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}"},
        {"{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,"
         "\"k1\":10,\"k9\":9,\"k1\":11}",
         "{\"k0\":0,\"k1\":11,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,"
         "\"k9\":9}"},
        /* numbers as Go prints float64 / keeps int64 */
        {"1.0", "1"},
        {"-0", "0"},
        {"1.5", "1.5"},
        {"0.1", "0.1"},
        {"123.456", "123.456"},
        {"-2.5E-8", "-2.5e-8"},
        {"1e21", "1e+21"},
        {"1e20", "100000000000000000000"},
        {"1E-7", "1e-7"},
        {"0.000001", "0.000001"},
        {"1e100", "1e+100"},
        {"5e-324", "5e-324"},
        {"1.7976931348623157e308", "1.7976931348623157e+308"},
        {"0.30000000000000004", "0.30000000000000004"},
        {"123456789012345678901234", "1.2345678901234569e+23"},
        {"12345678.9", "12345678.9"},
        {"9007199254740993", "9007199254740993"},         /* beyond 2^53, kept exactly */
        {"-9223372036854775808", "-9223372036854775808"}, /* int64 minimum */
        {"9223372036854775807", "9223372036854775807"},   /* int64 maximum */
        {"9223372036854775808", "9223372036854776000"},   /* beyond int64: a float64 */
        {"1152921504606846976.0", "1152921504606847000"}, /* a float64, shortest digits */
        /* strings */
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\""},
        {"\"\\u0001\\u001f\\u007f\"", "\"\\u0001\\u001f\x7f\""},
        {"\"<a&b>\"", "\"\\u003ca\\u0026b\\u003e\""},
        {"\"\\u00e9\\ud83d\\ude00\"", "\"\xc3\xa9\xf0\x9f\x98\x80\""},
        {"\"\\u2028\\u2029\"", "\"\\u2028\\u2029\""},
        /* invalid UTF-8 and lone surrogates become U+FFFD, as Go's decoder */
        {"\"a\xff"
         "b\"",
         "\"a\xef\xbf\xbd"
         "b\""},
        {"\"\xc0\xaf\"", "\"\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\"\\ud800x\"", "\"\xef\xbf\xbdx\""},
        {"\"\\udc00\\ud83d\\ude00\"", "\"\xef\xbf\xbd\xf0\x9f\x98\x80\""},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        char *out = roundtrip(cases[i].in);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("case %zu: %s printed %s, want %s", i, cases[i].in, out, cases[i].want);
        free(out);
    }
}

static void syntax_errors_are_worded_like_upstream(void **state)
{
    (void)state;
    static const struct {
        const char *in, *msg;
    } cases[] = {
        {"", "unexpected end of JSON input"},
        {" \t\n", "unexpected end of JSON input"},
        {"{", "unexpected end of JSON input"},
        {"[1,", "unexpected end of JSON input"},
        {"\"abc", "unexpected end of JSON input"},
        {"{\"a\":", "unexpected end of JSON input"},
        {"{bad", "invalid character 'b' looking for beginning of object key string"},
        {"{]", "invalid character ']' looking for beginning of object key string"},
        {"{\"a\":1,}", "invalid character '}' looking for beginning of object key string"},
        {"{\"a\" 1}", "invalid character '1' after object key"},
        {"{\"a\":1 \"b\"}", "invalid character '\"' after object key:value pair"},
        {"[1,]", "invalid character ']' looking for beginning of value"},
        {"[1 2]", "invalid character '2' after array element"},
        {"01", "invalid character '1' after top-level value"},
        {"{} x", "invalid character 'x' after top-level value"},
        {"tru", "invalid character ' ' in literal true (expecting 'e')"},
        {"nulx", "invalid character 'x' in literal null (expecting 'l')"},
        {"fals", "invalid character ' ' in literal false (expecting 'e')"},
        {"-", "invalid character ' ' in numeric literal"},
        {"-a", "invalid character 'a' in numeric literal"},
        {"1.", "invalid character ' ' after decimal point in numeric literal"},
        {"1.e5", "invalid character 'e' after decimal point in numeric literal"},
        {"1e+", "invalid character ' ' in exponent of numeric literal"},
        {"+1", "invalid character '+' looking for beginning of value"},
        {"NaN", "invalid character 'N' looking for beginning of value"},
        {"'x'", "invalid character '\\'' looking for beginning of value"},
        {"\"a\x01\"", "invalid character '\\x01' in string literal"},
        {"\"a\nb\"", "invalid character '\\n' in string literal"},
        {"\"\\q\"", "invalid character 'q' in string escape code"},
        {"\"\\", "invalid character ' ' in string escape code"},
        {"\"\\u12g4\"", "invalid character 'g' in \\u hexadecimal character escape"},
        {"\xef\xbb\xbf{}", "invalid character '\xc3\xaf' looking for beginning of value"},
        {"\x80", "invalid character '\\u0080' looking for beginning of value"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct ck_error err = CK_ERROR_INIT;
        cJSON *j = ck_json_parse(cases[i].in, strlen(cases[i].in), &err);
        assert_null(j);
        assert_int_equal(err.code, 400);
        assert_string_equal(err.reason, "BadRequest");
        CK_AUTOFREE char *want =
            ck_xasprintf("couldn't get version/kind; json parse error: %s", cases[i].msg);
        if (strcmp(err.message, want) != 0)
            fail_msg("case %zu: got [%s], want [%s]", i, err.message, want);
        ck_error_clear(&err);
    }
}

static char *nested_arrays(int depth)
{
    char *s = ck_xmalloc((size_t)depth * 2 + 1);
    memset(s, '[', (size_t)depth);
    memset(s + depth, ']', (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

static void parse_limits_and_options(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;

    /* nesting: CK_JSON_MAX_DEPTH levels parse, one more is refused as Go words it */
    CK_AUTOFREE char *ok = nested_arrays(CK_JSON_MAX_DEPTH);
    cJSON *j = ck_json_parse(ok, strlen(ok), &err);
    assert_non_null(j);
    cJSON_Delete(j);
    CK_AUTOFREE char *deep = nested_arrays(CK_JSON_MAX_DEPTH + 1);
    assert_null(ck_json_parse(deep, strlen(deep), &err));
    assert_string_equal(err.message, "couldn't get version/kind; json parse error: "
                                     "invalid character '[' exceeded max depth");
    struct ck_json_parse_opts shallow = {.max_depth = 2, .raw_message = true};
    assert_null(ck_json_parse_with("{\"a\":{\"b\":{}}}", 14, &shallow, &err));
    assert_string_equal(err.message, "invalid character '{' exceeded max depth");

    /* size limit: 413 as upstream's body reader */
    struct ck_json_parse_opts small = {.max_bytes = 10};
    assert_null(ck_json_parse_with("{\"a\":12345}", 11, &small, &err));
    assert_int_equal(err.code, 413);
    assert_string_equal(err.reason, "RequestEntityTooLarge");
    assert_string_equal(err.message, "Request entity too large: limit is 10");
    j = ck_json_parse_with("{\"a\":1234}", 10, &small, &err);
    assert_non_null(j);
    cJSON_Delete(j);

    /* duplicate keys are counted for the caller (fieldValidation reports them) */
    static const struct {
        const char *in;
        size_t dups;
    } dup_cases[] = {
        {"{\"a\":1,\"b\":{\"c\":1,\"d\":2}}", 0},
        {"{\"a\":1,\"a\":2}", 1},
        {"{\"a\":{\"x\":1,\"x\":2,\"x\":3},\"b\":[{\"y\":1,\"y\":1}]}", 3},
        {"{\"k1\":1,\"k2\":1,\"k3\":1,\"k4\":1,\"k5\":1,\"k6\":1,\"k7\":1,\"k8\":1,\"k9\":1,"
         "\"k2\":2,\"k9\":2}", 2}, /* more than 8 members: the sorted path */
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(dup_cases); i++) {
        size_t dups = 99;
        struct ck_json_parse_opts count = {.duplicate_keys = &dups};
        j = ck_json_parse_with(dup_cases[i].in, strlen(dup_cases[i].in), &count, &err);
        assert_non_null(j);
        assert_int_equal(dups, dup_cases[i].dups);
        cJSON_Delete(j);
    }

    /* numbers beyond float64 and NUL characters are refused */
    assert_null(ck_json_parse("[1e999]", 7, &err));
    assert_int_equal(err.code, 400);
    assert_string_equal(err.message,
                        "json: cannot unmarshal number 1e999 into Go value of type float64");
    assert_null(ck_json_parse("\"a\\u0000b\"", 10, &err));
    assert_int_equal(err.code, 400);

    /* only len bytes are read: no NUL terminator needed, trailing bytes ignored */
    j = ck_json_parse("{}garbage", 2, &err);
    assert_true(cJSON_IsObject(j));
    cJSON_Delete(j);
    assert_null(ck_json_parse(NULL, 0, &err));
    assert_string_equal(
        err.message, "couldn't get version/kind; json parse error: unexpected end of JSON input");

    /* a Kubernetes object body must be an object */
    struct ck_json_parse_opts obj = {.require_object = true};
    assert_null(ck_json_parse_with("[]", 2, &obj, &err));
    assert_string_equal(err.message,
                        "couldn't get version/kind; json parse error: json: cannot unmarshal "
                        "array into Go value of type struct { APIVersion string "
                        "\"json:\\\"apiVersion,omitempty\\\"\"; Kind string "
                        "\"json:\\\"kind,omitempty\\\"\" }");
    assert_null(ck_json_parse_with("\"s\"", 3, &obj, &err));
    assert_non_null(strstr(err.message, "cannot unmarshal string into Go value"));
    j = ck_json_parse_with("{}", 2, &obj, &err);
    assert_non_null(j);
    cJSON_Delete(j);
    ck_error_clear(&err);
    /* a NULL error pointer is accepted */
    assert_null(ck_json_parse("{", 1, NULL));
}

static const char POD[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"namespace\":"
    "\"default\",\"generation\":9007199254740993,\"labels\":{\"app\":\"web\","
    "\"kubernetes.io/hostname\":\"node-1\"}},\"spec\":{\"containers\":[{\"name\":\"c0\","
    "\"image\":\"nginx\"},{\"name\":\"c1\",\"image\":\"busybox\"}],\"hostNetwork\":true,"
    "\"terminationGracePeriodSeconds\":30,\"ratio\":0.25,\"nothing\":null}}";

static void get_by_path_and_steps(void **state)
{
    (void)state;
    cJSON *pod = parse_ok(POD);
    assert_true(cJSON_IsObject(ck_json_get(pod, "metadata.labels")));
    assert_ptr_equal(ck_json_get(pod, ""), pod);
    assert_string_equal(ck_json_get_string(pod, "metadata.name", "?"), "web");
    /* keys with dots: vector form, or backslash escapes in a dot path */
    assert_string_equal(
        ck_json_as_string(ck_json_getv(pod, "metadata", "labels", "kubernetes.io/hostname", NULL),
                          "?"),
        "node-1");
    assert_string_equal(ck_json_get_string(pod, "metadata.labels.kubernetes\\.io/hostname", "?"),
                        "node-1");
    assert_null(ck_json_get(pod, "metadata.labels.kubernetes.io/hostname"));
    const char *steps[] = {"spec", "containers", "1", "image"};
    assert_string_equal(ck_json_as_string(ck_json_get_steps(pod, steps, 4), "?"), "busybox");
    /* array steps: [n] or a numeric segment */
    assert_string_equal(ck_json_get_string(pod, "spec.containers[1].image", "?"), "busybox");
    assert_string_equal(ck_json_get_string(pod, "spec.containers.0.name", "?"), "c0");
    assert_null(ck_json_get(pod, "spec.containers[2]"));
    assert_null(ck_json_get(pod, "metadata[0]"));
    /* lookups are case-sensitive (cJSON_GetObjectItem is not) */
    assert_null(ck_json_get(pod, "Metadata.name"));
    /* malformed paths find nothing */
    static const char *bad[] = {
        "metadata..name",    ".metadata",           "metadata.", "spec.containers[x]",
        "spec.containers[1", "spec.containers[0]x", "a\\"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(bad); i++)
        if (ck_json_get(pod, bad[i]))
            fail_msg("malformed path %s found something", bad[i]);
    assert_null(ck_json_get(pod, NULL));
    assert_null(ck_json_get(NULL, "metadata"));
    cJSON_Delete(pod);
}

static void typed_getters_use_defaults(void **state)
{
    (void)state;
    cJSON *pod = parse_ok(POD);
    assert_int_equal(ck_json_get_int64(pod, "spec.terminationGracePeriodSeconds", -1), 30);
    assert_int_equal(ck_json_get_int64(pod, "metadata.generation", -1), 9007199254740993LL);
    assert_int_equal(ck_json_get_int64(pod, "spec.ratio", -1), -1);    /* a fraction */
    assert_int_equal(ck_json_get_int64(pod, "metadata.name", -1), -1); /* a string */
    assert_int_equal(ck_json_get_int64(pod, "spec.missing", 7), 7);
    assert_true(ck_json_get_bool(pod, "spec.hostNetwork", false));
    assert_false(ck_json_get_bool(pod, "spec.nothing", false));
    assert_true(ck_json_get_bool(pod, "metadata.name", true));
    assert_true(ck_json_get_double(pod, "spec.ratio", 0) == 0.25);
    assert_true(ck_json_get_double(pod, "spec.terminationGracePeriodSeconds", 0) == 30);
    assert_true(ck_json_get_double(pod, "metadata", 1.5) == 1.5);
    assert_string_equal(ck_json_get_string(pod, "spec.hostNetwork", "def"), "def");
    assert_null(ck_json_get_string(pod, "spec.nothing", NULL));

    int64_t v = 0;
    assert_int_equal(ck_json_to_int64(NULL, &v), -ENOENT);
    assert_int_equal(ck_json_to_int64(ck_json_get(pod, "spec.ratio"), &v), -EINVAL);
    assert_int_equal(ck_json_to_int64(ck_json_get(pod, "metadata.name"), &v), -EINVAL);
    cJSON *big = cJSON_CreateNumber(1e19); /* beyond int64 */
    assert_int_equal(ck_json_to_int64(big, &v), -EINVAL);
    cJSON_Delete(big);
    cJSON *min = ck_json_new_int64(INT64_MIN);
    assert_int_equal(ck_json_to_int64(min, &v), 0);
    assert_true(v == INT64_MIN);
    cJSON_Delete(min);
    cJSON_Delete(pod);
}

static void set_creates_and_replaces(void **state)
{
    (void)state;
    cJSON *obj = parse_ok("{\"kind\":\"Deployment\",\"spec\":{\"replicas\":1,\"paused\":false}}");
    assert_int_equal(ck_json_set(obj, "spec.replicas", cJSON_CreateNumber(3)), 0);
    assert_int_equal(ck_json_set_string(obj, "metadata.labels.app", "web"), 0);
    assert_int_equal(ck_json_setv(obj, cJSON_CreateString("node-1"), "metadata", "labels",
                                  "kubernetes.io/hostname", NULL),
                     0);
    assert_int_equal(ck_json_set_int64(obj, "status.observedGeneration", 9007199254740995LL), 0);
    assert_int_equal(ck_json_set_bool(obj, "spec.paused", true), 0);
    CK_AUTOFREE char *s = ck_json_print(obj, 0);
    /* replaced members keep their place; new ones are appended */
    assert_string_equal(s, "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":3,\"paused\":true},"
                           "\"metadata\":{\"labels\":{\"app\":\"web\",\"kubernetes.io/hostname\":"
                           "\"node-1\"}},\"status\":{\"observedGeneration\":9007199254740995}}");
    cJSON_Delete(obj);
}

static void set_in_arrays_and_failures(void **state)
{
    (void)state;
    cJSON *obj = parse_ok("{\"items\":[\"a\",\"b\"],\"name\":\"x\",\"labels\":null}");
    assert_int_equal(ck_json_set(obj, "items[1]", cJSON_CreateString("B")), 0);
    assert_int_equal(ck_json_set(obj, "items.2", cJSON_CreateString("c")), 0); /* appends */
    assert_int_equal(ck_json_set(obj, "items[4]", cJSON_CreateString("e")), -ERANGE);
    /* a scalar in the way is not clobbered */
    assert_int_equal(ck_json_set(obj, "name.first", cJSON_CreateString("y")), -ENOTDIR);
    assert_string_equal(ck_json_get_string(obj, "name", "?"), "x");
    /* a null in the way becomes an object */
    assert_int_equal(ck_json_set_string(obj, "labels.app", "web"), 0);
    /* an explicit [0] after a missing member creates an array */
    assert_int_equal(ck_json_set_string(obj, "ports[0].name", "http"), 0);
    assert_true(cJSON_IsArray(ck_json_get(obj, "ports")));
    /* bad calls still free the item (LeakSanitizer checks) */
    assert_int_equal(ck_json_set(obj, "", cJSON_CreateNull()), -EINVAL);
    assert_int_equal(ck_json_set(obj, "a..b", cJSON_CreateNull()), -EINVAL);
    assert_int_equal(ck_json_set(NULL, "a", cJSON_CreateNull()), -EINVAL);
    assert_int_equal(ck_json_set(obj, "a", NULL), -EINVAL);
    CK_AUTOFREE char *s = ck_json_print(obj, 0);
    assert_string_equal(s, "{\"items\":[\"a\",\"B\",\"c\"],\"name\":\"x\",\"labels\":{\"app\":"
                           "\"web\"},\"ports\":[{\"name\":\"http\"}]}");
    /* appending after replacing the last element keeps the list intact */
    cJSON *arr = ck_json_get(obj, "items");
    assert_int_equal(ck_json_set(arr, "2", cJSON_CreateString("C")), 0);
    assert_int_equal(ck_json_set(arr, "3", cJSON_CreateString("D")), 0);
    assert_int_equal(cJSON_GetArraySize(arr), 4);
    assert_string_equal(ck_json_get_string(arr, "[3]", "?"), "D");
    cJSON_Delete(obj);
}

static void delete_detach_and_ensure(void **state)
{
    (void)state;
    cJSON *obj = parse_ok("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"},"
                          "\"finalizers\":[\"x\",\"y\",\"z\"]},\"spec\":5}");
    assert_int_equal(ck_json_delete(obj, "metadata.labels.a"), 0);
    assert_int_equal(ck_json_delete(obj, "metadata.labels.a"), -ENOENT);
    assert_int_equal(ck_json_deletev(obj, "metadata", "finalizers", "1", NULL), 0);
    assert_int_equal(ck_json_delete(obj, "spec.x"), -ENOENT);
    assert_int_equal(ck_json_delete(obj, ""), -EINVAL);
    cJSON *fin = ck_json_detach(obj, "metadata.finalizers");
    assert_non_null(fin);
    assert_null(ck_json_get(obj, "metadata.finalizers"));
    CK_AUTOFREE char *f = ck_json_print(fin, 0);
    assert_string_equal(f, "[\"x\",\"z\"]");
    cJSON_Delete(fin);

    cJSON *ann = ck_json_ensure_object(obj, "metadata.annotations");
    assert_true(cJSON_IsObject(ann));
    assert_ptr_equal(ck_json_ensure_object(obj, "metadata.annotations"), ann);
    assert_ptr_equal(ck_json_ensure_objectv(obj, "metadata", "annotations", NULL), ann);
    assert_null(ck_json_ensure_object(obj, "spec"));      /* a number is in the way */
    assert_null(ck_json_ensure_object(obj, "spec.deep")); /* likewise deeper down */
    assert_true(cJSON_IsArray(ck_json_ensure_array(obj, "status.conditions")));
    assert_ptr_equal(ck_json_ensure_object(obj, ""), obj);
    CK_AUTOFREE char *s = ck_json_print(obj, 0);
    assert_string_equal(s, "{\"metadata\":{\"labels\":{\"b\":\"2\"},\"annotations\":{}},\"spec\":5,"
                           "\"status\":{\"conditions\":[]}}");
    cJSON_Delete(obj);
}

static void equality_has_json_semantics(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        bool equal;
    } cases[] = {
        {"{\"a\":1,\"b\":[1,2]}", "{\"b\":[1,2],\"a\":1}", true},
        {"{\"a\":1,\"b\":{\"x\":null,\"y\":true}}", "{\"b\":{\"y\":true,\"x\":null},\"a\":1.0}",
         true},
        {"1", "1.0", true},
        {"100", "1e2", true},
        {"-0", "0", true},
        {"[1,2]", "[2,1]", false},
        {"[1,2]", "[1,2,3]", false},
        {"{\"a\":1}", "{\"a\":1,\"b\":2}", false},
        {"{\"a\":1,\"b\":2}", "{\"a\":1,\"c\":2}", false},
        {"{\"a\":1}", "{\"A\":1}", false},
        {"1", "\"1\"", false},
        {"true", "false", false},
        {"null", "false", false},
        {"\"a\"", "\"a \"", false},
        {"9007199254740993", "9007199254740992", false}, /* exact int64s compare exactly */
        {"9007199254740993", "9007199254740993", true},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        cJSON *a = parse_ok(cases[i].a), *b = parse_ok(cases[i].b);
        if (ck_json_equal(a, b) != cases[i].equal || ck_json_equal(b, a) != cases[i].equal)
            fail_msg("case %zu: %s vs %s", i, cases[i].a, cases[i].b);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    assert_true(ck_json_equal(NULL, NULL));
    cJSON *x = parse_ok("{}");
    assert_false(ck_json_equal(x, NULL));
    cJSON_Delete(x);
}

static void dup_is_deep_and_keeps_exact_integers(void **state)
{
    (void)state;
    cJSON *pod = parse_ok(POD);
    cJSON *copy = ck_json_dup(pod);
    assert_ptr_not_equal(copy, pod);
    assert_true(ck_json_equal(pod, copy));
    assert_int_equal(ck_json_get_int64(copy, "metadata.generation", 0), 9007199254740993LL);
    assert_int_equal(ck_json_set_string(copy, "spec.containers[0].image", "redis"), 0);
    assert_false(ck_json_equal(pod, copy));
    assert_string_equal(ck_json_get_string(pod, "spec.containers[0].image", "?"), "nginx");
    /* same content, same canonical text (usable for hashing), whatever the member order */
    cJSON *reordered =
        parse_ok("{\"spec\":{\"ratio\":0.25,\"nothing\":null,\"hostNetwork\":true,"
                 "\"terminationGracePeriodSeconds\":30.0,\"containers\":[{\"image\":"
                 "\"nginx\",\"name\":\"c0\"},{\"name\":\"c1\",\"image\":\"busybox\"}]},"
                 "\"metadata\":{\"labels\":{\"kubernetes.io/hostname\":\"node-1\","
                 "\"app\":\"web\"},\"generation\":9007199254740993,\"namespace\":"
                 "\"default\",\"name\":\"web\"},\"kind\":\"Pod\",\"apiVersion\":\"v1\"}");
    CK_AUTOFREE char *c1 = ck_json_canonical(pod);
    CK_AUTOFREE char *c2 = ck_json_canonical(reordered);
    assert_string_equal(c1, c2);
    assert_null(ck_json_dup(NULL));
    cJSON_Delete(reordered);
    cJSON_Delete(copy);
    cJSON_Delete(pod);
}

static void print_keeps_order_indents_and_escapes(void **state)
{
    (void)state;
    cJSON *obj = parse_ok("{\"z\":\"<b>&\",\"a\":[1,{\"k\":[]},{}],\"n\":1e20}");
    CK_AUTOFREE char *compact = ck_json_print(obj, 0);
    assert_string_equal(compact, "{\"z\":\"\\u003cb\\u003e\\u0026\",\"a\":[1,{\"k\":[]},{}],"
                                 "\"n\":100000000000000000000}");
    CK_AUTOFREE char *raw = ck_json_print(obj, CK_JSON_NO_HTML_ESCAPE | CK_JSON_SORT_KEYS);
    assert_string_equal(raw, "{\"a\":[1,{\"k\":[]},{}],\"n\":100000000000000000000,"
                             "\"z\":\"<b>&\"}");
    CK_AUTOFREE char *ind = ck_json_print(obj, CK_JSON_INDENT);
    assert_string_equal(ind, "{\n"
                             "    \"z\": \"\\u003cb\\u003e\\u0026\",\n"
                             "    \"a\": [\n"
                             "        1,\n"
                             "        {\n"
                             "            \"k\": []\n"
                             "        },\n"
                             "        {}\n"
                             "    ],\n"
                             "    \"n\": 100000000000000000000\n"
                             "}");
    /* cJSON's own printer differs (1e+20): the reason we print ourselves */
    char *cj = cJSON_PrintUnformatted(ck_json_get(obj, "n"));
    assert_string_equal(cj, "1e+20");
    free(cj);
    /* appending to a buffer */
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "x=");
    assert_int_equal(ck_json_print_buf(&b, ck_json_get(obj, "a[1]"), 0), 0);
    assert_string_equal(b.data, "x={\"k\":[]}");
    assert_int_equal(ck_json_print_buf(&b, NULL, 0), -EINVAL);
    assert_null(ck_json_print(NULL, 0));
    cJSON_Delete(obj);

    /* programmatic values the parser never produces */
    cJSON *odd = cJSON_CreateArray();
    cJSON_AddItemToArray(odd, cJSON_CreateNumber(NAN));
    cJSON_AddItemToArray(odd, cJSON_CreateNumber(INFINITY));
    cJSON_AddItemToArray(odd, cJSON_CreateString("\x01\x7f\xe2\x80\xa8\xff"));
    cJSON_AddItemToArray(odd, ck_json_new_int64(INT64_MAX));
    CK_AUTOFREE char *o = ck_json_print(odd, 0);
    assert_string_equal(o, "[null,null,\"\\u0001\x7f\\u2028\\ufffd\",9223372036854775807]");
    cJSON_Delete(odd);
}

static void too_deep_trees_are_refused(void **state)
{
    (void)state;
    cJSON *root = cJSON_CreateArray(), *cur = root;
    for (int i = 0; i < CK_JSON_MAX_DEPTH + 5; i++) {
        cJSON *next = cJSON_CreateArray();
        cJSON_AddItemToArray(cur, next);
        cur = next;
    }
    assert_null(ck_json_print(root, 0));
    cJSON *copy = ck_json_dup(root);
    assert_false(ck_json_equal(root, copy)); /* beyond the limit: unequal rather than a crash */
    cJSON_Delete(copy);
    cJSON_Delete(root);
}

static void format_double_like_go(void **state)
{
    (void)state;
    static const struct {
        double d;
        const char *want;
    } cases[] = {
        {0, "0"},
        {-0.0, "0"},
        {1, "1"},
        {-1.5, "-1.5"},
        {1e21, "1e+21"},
        {999999999999999900000.0, "999999999999999900000"},
        {1e-6, "0.000001"},
        {1e-7, "1e-7"},
        {1.5e-10, "1.5e-10"},
        {123456.789, "123456.789"},
        {9007199254740992.0, "9007199254740992"},
        {18446744073709551616.0, "18446744073709552000"},
        {3.141592653589793, "3.141592653589793"},
        {0.1 + 0.2, "0.30000000000000004"},
        {2.5e-300, "2.5e-300"},
        {INFINITY, "null"},
    };
    char out[32];
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        ck_json_format_double(cases[i].d, out);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("case %zu: got %s, want %s", i, out, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_then_print_matches_go),
        cmocka_unit_test(syntax_errors_are_worded_like_upstream),
        cmocka_unit_test(parse_limits_and_options),
        cmocka_unit_test(get_by_path_and_steps),
        cmocka_unit_test(typed_getters_use_defaults),
        cmocka_unit_test(set_creates_and_replaces),
        cmocka_unit_test(set_in_arrays_and_failures),
        cmocka_unit_test(delete_detach_and_ensure),
        cmocka_unit_test(equality_has_json_semantics),
        cmocka_unit_test(dup_is_deep_and_keeps_exact_integers),
        cmocka_unit_test(print_keeps_order_indents_and_escapes),
        cmocka_unit_test(too_deep_trees_are_refused),
        cmocka_unit_test(format_double_like_go),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
