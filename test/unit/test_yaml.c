/* Unit tests for yaml.c: YAML -> JSON as kubectl and the apiserver decode it (sigs.k8s.io/yaml
 * over go-yaml v2), and JSON -> YAML as `kubectl get -o yaml` prints it. The expected values
 * were checked against go-yaml v2 (2.4) with ghodss/sigs.k8s.io yaml conversion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "mem.h"
#include "yaml.h"

/* Parses yaml and returns its compact JSON, or "ERR: <message>"; caller frees. */
static char *y2j_flags(const char *yaml, size_t len, unsigned flags)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *doc = NULL;
    int rc = ck_yaml_parse(yaml, len, flags, &doc, &err);
    char *out;
    if (rc < 0) {
        assert_int_equal(rc, -EINVAL);
        assert_null(doc);
        assert_int_equal(err.code, 400);
        out = ck_xasprintf("ERR: %s", err.message);
    } else {
        out = cJSON_PrintUnformatted(doc);
    }
    cJSON_Delete(doc);
    ck_error_clear(&err);
    return out;
}

static char *y2j(const char *yaml)
{
    return y2j_flags(yaml, strlen(yaml), 0);
}

/* Parses a stream and returns the JSON array of documents, or "ERR: <message>". */
static char *stream2j(const char *yaml)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *docs = NULL;
    char *out;
    if (ck_yaml_parse_stream(yaml, strlen(yaml), 0, &docs, &err) < 0) {
        assert_null(docs);
        out = ck_xasprintf("ERR: %s", err.message);
    } else {
        out = cJSON_PrintUnformatted(docs);
    }
    cJSON_Delete(docs);
    ck_error_clear(&err);
    return out;
}

/* Emits the JSON text as YAML (sorted keys when sort) and returns it, or "ERR: ...". */
static char *j2y(const char *json, bool sort)
{
    cJSON *doc = cJSON_Parse(json);
    assert_non_null(doc);
    struct ck_error err = CK_ERROR_INIT;
    struct ck_buf b = CK_BUF_INIT;
    char *out;
    if (ck_yaml_emit(doc, sort ? CK_YAML_SORT_KEYS : 0, &b, &err) < 0)
        out = ck_xasprintf("ERR: %s", err.message);
    else
        out = ck_buf_detach(&b);
    ck_buf_free(&b);
    cJSON_Delete(doc);
    ck_error_clear(&err);
    return out;
}

struct conv_case {
    const char *in;
    const char *want;
};

static void run_y2j_table(const struct conv_case *cases, size_t n, unsigned flags)
{
    for (size_t i = 0; i < n; i++) {
        char *got = y2j_flags(cases[i].in, strlen(cases[i].in), flags);
        if (strcmp(got, cases[i].want))
            print_error("case %zu: %s\n  want %s\n  got  %s\n", i, cases[i].in, cases[i].want, got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

/* ---- YAML 1.1 scalar resolution (go-yaml v2 resolve.go) -------------------------------- */

static void yaml11_scalars_resolve_as_go_yaml_v2(void **state)
{
    (void)state;
    static const struct conv_case cases[] = {
        /* booleans: exactly the spellings in go-yaml v2's table */
        {"v: on", "{\"v\":true}"},
        {"v: On", "{\"v\":true}"},
        {"v: ON", "{\"v\":true}"},
        {"v: oN", "{\"v\":\"oN\"}"},
        {"v: yes", "{\"v\":true}"},
        {"v: Yes", "{\"v\":true}"},
        {"v: YES", "{\"v\":true}"},
        {"v: yEs", "{\"v\":\"yEs\"}"},
        {"v: y", "{\"v\":true}"},
        {"v: Y", "{\"v\":true}"},
        {"v: n", "{\"v\":false}"},
        {"v: NO", "{\"v\":false}"},
        {"v: No", "{\"v\":false}"},
        {"v: off", "{\"v\":false}"},
        {"v: OFF", "{\"v\":false}"},
        {"v: True", "{\"v\":true}"},
        {"v: FALSE", "{\"v\":false}"},
        {"v: tRue", "{\"v\":\"tRue\"}"},
        /* nulls */
        {"v: ~", "{\"v\":null}"},
        {"v: null", "{\"v\":null}"},
        {"v: Null", "{\"v\":null}"},
        {"v: NULL", "{\"v\":null}"},
        {"v: nULL", "{\"v\":\"nULL\"}"},
        {"v:", "{\"v\":null}"},
        {"v: \"~\"", "{\"v\":\"~\"}"},
        /* quoting keeps strings */
        {"v: \"1\"", "{\"v\":\"1\"}"},
        {"v: '1'", "{\"v\":\"1\"}"},
        {"v: 1", "{\"v\":1}"},
        {"v: \"on\"", "{\"v\":\"on\"}"},
        {"v: \"\"", "{\"v\":\"\"}"},
        /* integers: Go's ParseInt(base 0) after dropping underscores */
        {"v: 0x1F", "{\"v\":31}"},
        {"v: 0X1f", "{\"v\":31}"},
        {"v: 0o17", "{\"v\":15}"},
        {"v: 017", "{\"v\":15}"},
        {"v: 0b101", "{\"v\":5}"},
        {"v: -0b101", "{\"v\":-5}"},
        {"v: 0b-101", "{\"v\":-5}"},
        {"v: +1", "{\"v\":1}"},
        {"v: -0", "{\"v\":0}"},
        {"v: 1_000", "{\"v\":1000}"},
        {"v: 0x_1F", "{\"v\":31}"},
        {"v: 0x", "{\"v\":\"0x\"}"},
        {"v: 0b2", "{\"v\":\"0b2\"}"},
        {"v: 08", "{\"v\":8}"}, /* not octal, but a YAML-style float */
        {"v: 1:20", "{\"v\":\"1:20\"}"},
        /* floats */
        {"v: 1.5", "{\"v\":1.5}"},
        {"v: 1.", "{\"v\":1}"},
        {"v: .5", "{\"v\":0.5}"},
        {"v: +.5", "{\"v\":0.5}"},
        {"v: ._5", "{\"v\":\"._5\"}"},
        {"v: .1_0", "{\"v\":0.1}"},
        {"v: 1e3", "{\"v\":1000}"},
        {"v: 1E+3", "{\"v\":1000}"},
        {"v: 1e1_0", "{\"v\":10000000000}"},
        {"v: 1e", "{\"v\":\"1e\"}"},
        {"v: 1e400", "{\"v\":\"1e400\"}"},
        {"v: inf", "{\"v\":\"inf\"}"},
        /* timestamps stay the text they are */
        {"v: 2001-12-14", "{\"v\":\"2001-12-14\"}"},
        {"v: 2001-12-14T21:59:43.10-05:00", "{\"v\":\"2001-12-14T21:59:43.10-05:00\"}"},
        /* block scalars and their chomping */
        {"v: |\n  lit\n  x\n", "{\"v\":\"lit\\nx\\n\"}"},
        {"v: |-\n  a\n\n", "{\"v\":\"a\"}"},
        {"v: |+\n  a\n\n", "{\"v\":\"a\\n\\n\"}"},
        {"v: >\n  folded\n  x\n\n  para\n", "{\"v\":\"folded x\\npara\\n\"}"},
        {"v: \"\\x41\\u00e9\\t\"", "{\"v\":\"Aé\\t\"}"},
        {"v: 'it''s'", "{\"v\":\"it's\"}"},
    };
    run_y2j_table(cases, CK_ARRAY_SIZE(cases), 0);
}

static void explicit_tags_force_or_check_types(void **state)
{
    (void)state;
    static const struct conv_case cases[] = {
        {"v: !!str 1", "{\"v\":\"1\"}"},
        {"v: !!str ~", "{\"v\":\"~\"}"},
        {"v: !!int \"12\"", "{\"v\":12}"},
        {"v: !!int 0x10", "{\"v\":16}"},
        {"v: !!float \"3\"", "{\"v\":3}"},
        {"v: !!bool \"yes\"", "{\"v\":true}"},
        {"v: !!null \"\"", "{\"v\":null}"},
        {"v: !!timestamp 2001-12-14", "{\"v\":\"2001-12-14\"}"},
        {"v: !!binary aGVsbG8=", "{\"v\":\"hello\"}"},
        {"v: !custom foo", "{\"v\":\"foo\"}"},
        {"v: !!int foo",
         "ERR: error converting YAML to JSON: yaml: cannot decode !!str `foo` as a !!int"},
        {"v: !!int 1.5",
         "ERR: error converting YAML to JSON: yaml: cannot decode !!float `1.5` as a !!int"},
        {"v: !!bool 1",
         "ERR: error converting YAML to JSON: yaml: cannot decode !!int `1` as a !!bool"},
        {"v: !!null foo",
         "ERR: error converting YAML to JSON: yaml: cannot decode !!str `foo` as a !!null"},
        {"v: !!float 18446744073709551615", "ERR: error converting YAML to JSON: yaml: cannot "
                                            "decode !!int `18446744073709551615` as a !!float"},
        {"v: !!timestamp foo",
         "ERR: error converting YAML to JSON: yaml: cannot decode !!str `foo` as a !!timestamp"},
        {"v: !!binary aGVsbG8",
         "ERR: error converting YAML to JSON: yaml: !!binary value contains invalid base64 data"},
        /* JSON has no NaN or Inf: json.Marshal rejects them */
        {"v: .inf", "ERR: error converting YAML to JSON: json: unsupported value: +Inf"},
        {"v: -.Inf", "ERR: error converting YAML to JSON: json: unsupported value: -Inf"},
        {"v: .NaN", "ERR: error converting YAML to JSON: json: unsupported value: NaN"},
    };
    run_y2j_table(cases, CK_ARRAY_SIZE(cases), 0);
}

static void collections_anchors_and_merge_keys(void **state)
{
    (void)state;
    static const struct conv_case cases[] = {
        {"a: [1, {b: c}, [d]]\ne: {}\nf: []",
         "{\"a\":[1,{\"b\":\"c\"},[\"d\"]],\"e\":{},\"f\":[]}"},
        {"- a\n- - b\n  - c\n", "[\"a\",[\"b\",\"c\"]]"},
        {"a: &x {p: 1}\nb: *x\nc: *x", "{\"a\":{\"p\":1},\"b\":{\"p\":1},\"c\":{\"p\":1}}"},
        {"a: &x 1\nb: *x\nc: &x 2\nd: *x", "{\"a\":1,\"b\":1,\"c\":2,\"d\":2}"},
        {"a: &e\nb: *e", "{\"a\":null,\"b\":null}"},
        /* merge: explicit keys after the merge win, the merge overrides keys before it, and
         * in a merge list earlier maps win (go-yaml v2) */
        {"base: &b {x: 1, w: 2}\nd:\n  <<: *b\n  x: 3\n",
         "{\"base\":{\"x\":1,\"w\":2},\"d\":{\"x\":3,\"w\":2}}"},
        {"a: 1\n<<: {a: 2, b: 3}\nc: 4\n<<: [{c: 5, d: 6}, {d: 7, e: 8}]\n",
         "{\"a\":2,\"b\":3,\"c\":5,\"d\":6,\"e\":8}"},
        {"p: &p {x: 1}\nq: &q {x: 2, z: 3}\nd:\n  <<: [*p, *q]\n",
         "{\"p\":{\"x\":1},\"q\":{\"x\":2,\"z\":3},\"d\":{\"x\":1,\"z\":3}}"},
        {"d:\n  \"<<\": {a: 1}\n", "{\"d\":{\"<<\":{\"a\":1}}}"},
        {"d:\n  <<: 1\n", "ERR: error converting YAML to JSON: yaml: map merge requires map or "
                          "sequence of maps as the value"},
        {"a: &a [1]\nd:\n  <<: *a\n", "ERR: error converting YAML to JSON: yaml: map merge "
                                      "requires map or sequence of maps as the value"},
        {"a: &x [*x]",
         "ERR: error converting YAML to JSON: yaml: anchor 'x' value contains itself"},
        {"a: &x {b: *x}",
         "ERR: error converting YAML to JSON: yaml: anchor 'x' value contains itself"},
        {"a: *nope", "ERR: error converting YAML to JSON: yaml: unknown anchor 'nope' referenced"},
        /* documents: only the first counts for the single-document call */
        {"", "null"},
        {"# only a comment\n", "null"},
        {"---\n", "null"},
        {"a: 1\n...\nb: 2\n", "{\"a\":1}"},
        {"a: 1\n---\nb: 2\n", "{\"a\":1}"},
        {"scalar", "\"scalar\""},
        {"{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{\"d\":1.5}}",
         "{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{\"d\":1.5}}"},
    };
    run_y2j_table(cases, CK_ARRAY_SIZE(cases), 0);
}

/* sigs.k8s.io/yaml turns non-string keys into strings; float keys via float32 formatting. */
static void map_keys_become_json_strings(void **state)
{
    (void)state;
    static const struct conv_case cases[] = {
        {"1: a", "{\"1\":\"a\"}"},
        {"true: x", "{\"true\":\"x\"}"},
        {"yes: x", "{\"true\":\"x\"}"},
        {"y: 1\nn: 2", "{\"true\":1,\"false\":2}"},
        {"0x10: hex", "{\"16\":\"hex\"}"},
        {"1.5: x", "{\"1.5\":\"x\"}"},
        {"1e3: x", "{\"1000\":\"x\"}"},
        {"0.1: x", "{\"0.1\":\"x\"}"},
        {"3.14159265358979: x", "{\"3.1415927\":\"x\"}"},
        {"1e20: x", "{\"1e+20\":\"x\"}"},
        {"\"1\": a", "{\"1\":\"a\"}"},
        {"2001-12-14: d", "{\"2001-12-14\":\"d\"}"},
        {"&k key: v\n*k : w", "{\"key\":\"w\"}"},
        {"~: x",
         "ERR: error converting YAML to JSON: unsupported map key of type: %!s(<nil>), key: <nil>, "
         "value: \"x\""},
        {"18446744073709551615: x",
         "ERR: error converting YAML to JSON: unsupported map key of type: uint64, key: "
         "0xffffffffffffffff, value: \"x\""},
        {"[a, b]: c",
         "ERR: error converting YAML to JSON: yaml: invalid map key: []interface {}{\"a\", \"b\"}"},
        {"{namespace: }: x", "ERR: error converting YAML to JSON: yaml: invalid map key: "
                             "map[interface {}]interface {}{\"namespace\":interface {}(nil)}"},
        /* duplicates: without strict the last value wins (in the first one's place) */
        {"a: 1\nb: 2\na: 3", "{\"a\":3,\"b\":2}"},
        {"1: a\n\"1\": b", "{\"1\":\"b\"}"},
    };
    run_y2j_table(cases, CK_ARRAY_SIZE(cases), 0);
}

static void strict_mode_rejects_duplicate_keys(void **state)
{
    (void)state;
    static const struct conv_case cases[] = {
        {"a: 1\na: 2", "ERR: error converting YAML to JSON: yaml: unmarshal errors:\n"
                       "  line 2: key \"a\" already set in map"},
        {"a: 1\nb:\n  c: 1\n  c: 2\n  c: 3\n",
         "ERR: error converting YAML to JSON: yaml: unmarshal errors:\n"
         "  line 4: key \"c\" already set in map\n  line 5: key \"c\" already set in map"},
        {"true: 1\nyes: 2", "ERR: error converting YAML to JSON: yaml: unmarshal errors:\n"
                            "  line 2: key true already set in map"},
        {"1: a\n0x1: b", "ERR: error converting YAML to JSON: yaml: unmarshal errors:\n"
                         "  line 2: key 1 already set in map"},
        /* go-yaml v2 strict also trips over a key that overrides a merged one */
        {"base: &b {x: 1}\nd:\n  <<: *b\n  x: 2\n",
         "ERR: error converting YAML to JSON: yaml: unmarshal errors:\n"
         "  line 4: key \"x\" already set in map"},
        /* different Go types are different keys to go-yaml */
        {"1: a\n\"1\": b", "{\"1\":\"b\"}"},
        {"a: 1\nb: 2", "{\"a\":1,\"b\":2}"},
    };
    run_y2j_table(cases, CK_ARRAY_SIZE(cases), CK_YAML_STRICT);
}

/* Integers past 2^53 keep every digit as raw JSON numbers. */
static void big_integers_keep_their_digits(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *raw; /* NULL: a plain cJSON number */
        double num;
    } cases[] = {
        {"9007199254740992", NULL, 9007199254740992.0},
        {"9007199254740993", "9007199254740993", 0},
        {"-9007199254740993", "-9007199254740993", 0},
        {"9223372036854775807", "9223372036854775807", 0},
        {"-9223372036854775808", "-9223372036854775808", 0},
        {"12345678901234567890", "12345678901234567890", 0},   /* uint64 */
        {"0xFFFFFFFFFFFFFFFFFF", "4722366482869645213695", 0}, /* go-yaml's big.Int */
        {"0o7777777777777777777777777", "37778931862957161709567", 0},
        {"123456789012345678901234", NULL, 1.2345678901234568e23}, /* a float in go-yaml */
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        CK_AUTOFREE char *yaml = ck_xasprintf("v: %s", cases[i].in);
        cJSON *doc = NULL;
        assert_int_equal(ck_yaml_parse(yaml, strlen(yaml), 0, &doc, NULL), 0);
        cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "v");
        if (cases[i].raw) {
            assert_true(cJSON_IsRaw(v));
            assert_string_equal(v->valuestring, cases[i].raw);
        } else {
            assert_true(cJSON_IsNumber(v));
            assert_true(v->valuedouble == cases[i].num);
        }
        /* and they print back exactly */
        CK_AUTOFREE char *back = ck_yaml_dump(doc, 0);
        CK_AUTOFREE char *want = ck_xasprintf("v: %s\n", cases[i].raw ? cases[i].raw
                                                         : i == 0     ? "9007199254740992"
                                                                      : "1.2345678901234569e+23");
        assert_string_equal(back, want);
        cJSON_Delete(doc);
    }
}

static void syntax_errors_read_like_upstream(void **state)
{
    (void)state;
    static const struct conv_case cases[] = {
        {"a: b: c", "ERR: error converting YAML to JSON: yaml: mapping values are not allowed in "
                    "this context"},
        {"a: 1\nb: 2\nc: d: e\n", "ERR: error converting YAML to JSON: yaml: line 3: mapping "
                                  "values are not allowed in this context"},
        {"a:\n  - b\n - c\n", "ERR: error converting YAML to JSON: yaml: line 2: did not find "
                              "expected key"},
        {"{a: 1", "ERR: error converting YAML to JSON: yaml: line 1: did not find expected ',' "
                  "or '}'"},
        {"a: \"unterminated\n", "ERR: error converting YAML to JSON: yaml: line 2: found "
                                "unexpected end of stream"},
        {"\ta: 1\n", "ERR: error converting YAML to JSON: yaml: found character that cannot "
                     "start any token"},
        {"a: @x\n", "ERR: error converting YAML to JSON: yaml: found character that cannot start "
                    "any token"},
        {"x: 1\ny: \"a\\/b\"\n", "ERR: error converting YAML to JSON: yaml: line 2: found unknown "
                                 "escape character"},
        {"- a\nb: c\n", "ERR: error converting YAML to JSON: yaml: line 1: did not find expected "
                        "'-' indicator"},
    };
    run_y2j_table(cases, CK_ARRAY_SIZE(cases), 0);
}

static void invalid_utf8_is_an_error_not_a_crash(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"a: \xff\n", 6, "ERR: error converting YAML to JSON: yaml: invalid leading UTF-8 octet"},
        {"a: \xc3\x28\n", 7,
         "ERR: error converting YAML to JSON: yaml: invalid trailing UTF-8 octet"},
        {"a: 1\x00\n", 6,
         "ERR: error converting YAML to JSON: yaml: control characters are not allowed"},
        {"\xef\xbb\xbf"
         "a: 1\n",
         8, "{\"a\":1}"}, /* a UTF-8 BOM is fine */
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        char *got = y2j_flags(cases[i].in, cases[i].len, 0);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    /* pseudo-random bytes: every result is a document or an error, never a crash */
    uint32_t seed = 12345;
    char buf[256];
    int errors = 0;
    for (int round = 0; round < 500; round++) {
        size_t n = 1 + round % (sizeof(buf) - 1);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (char)((seed >> 16) & 0xff);
            if (round % 2 && (buf[i] & 0x80))
                buf[i] = "ab: -[]{}&*!|>'\"%@`#,?\n"[(seed >> 8) % 24];
        }
        cJSON *doc = NULL;
        struct ck_error err = CK_ERROR_INIT;
        int rc = ck_yaml_parse(buf, n, 0, &doc, &err);
        if (rc < 0) {
            errors++;
            assert_null(doc);
            assert_true(strlen(err.message) > 0);
        } else {
            assert_non_null(doc);
        }
        cJSON_Delete(doc);
        ck_error_clear(&err);
    }
    assert_true(errors > 0);
}

/* "Billion laughs": nine levels of nine aliases fail on go-yaml's alias budget, quickly. */
static void alias_bomb_is_rejected(void **state)
{
    (void)state;
    struct ck_buf y = CK_BUF_INIT;
    ck_buf_puts(
        &y, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (char c = 'b'; c <= 'i'; c++) {
        ck_buf_printf(&y, "%c: &%c [", c, c);
        for (int k = 0; k < 9; k++)
            ck_buf_printf(&y, "%s*%c", k ? "," : "", c - 1);
        ck_buf_puts(&y, "]\n");
    }
    clock_t start = clock();
    char *got = y2j(y.data);
    double secs = (double)(clock() - start) / CLOCKS_PER_SEC;
    assert_string_equal(got,
                        "ERR: error converting YAML to JSON: yaml: document contains excessive "
                        "aliasing");
    assert_true(secs < 5.0);
    free(got);
    /* the same anchors used a few times are fine */
    got = y2j("a: &a [x, z]\nb: [*a, *a]\nc: *a\n");
    assert_string_equal(
        got, "{\"a\":[\"x\",\"z\"],\"b\":[[\"x\",\"z\"],[\"x\",\"z\"]],\"c\":[\"x\",\"z\"]}");
    free(got);
    ck_buf_free(&y);
}

static void nesting_is_capped(void **state)
{
    (void)state;
    struct ck_buf y = CK_BUF_INIT;
    /* 1000 levels (the top mapping plus 999 sequences) are accepted */
    ck_buf_puts(&y, "a: ");
    for (int i = 0; i < 999; i++)
        ck_buf_putc(&y, '[');
    for (int i = 0; i < 999; i++)
        ck_buf_putc(&y, ']');
    char *got = y2j(y.data);
    assert_int_equal(strncmp(got, "{\"a\":[[[", 8), 0);
    free(got);
    /* one more is not; neither are 100000 levels */
    ck_buf_reset(&y);
    ck_buf_puts(&y, "a: ");
    for (int i = 0; i < 100000; i++)
        ck_buf_putc(&y, '[');
    got = y2j(y.data);
    assert_string_equal(got,
                        "ERR: error converting YAML to JSON: yaml: exceeded max depth of 1000");
    free(got);
    /* block nesting counts lines */
    ck_buf_reset(&y);
    for (int i = 0; i < 1200; i++) {
        for (int k = 0; k < i; k++)
            ck_buf_puts(&y, "  ");
        ck_buf_printf(&y, "k%d:\n", i);
    }
    got = y2j(y.data);
    assert_string_equal(got, "ERR: error converting YAML to JSON: yaml: line 1001: exceeded max "
                             "depth of 1000");
    free(got);
    /* aliases cannot build a deeper tree than the limit either */
    ck_buf_reset(&y);
    ck_buf_puts(&y, "a: &a ");
    for (int i = 0; i < 600; i++)
        ck_buf_putc(&y, '[');
    for (int i = 0; i < 600; i++)
        ck_buf_putc(&y, ']');
    ck_buf_puts(&y, "\nb: &b ");
    for (int i = 0; i < 600; i++)
        ck_buf_putc(&y, '[');
    ck_buf_puts(&y, "*a");
    for (int i = 0; i < 600; i++)
        ck_buf_putc(&y, ']');
    got = y2j(y.data);
    assert_string_equal(got,
                        "ERR: error converting YAML to JSON: yaml: exceeded max depth of 1000");
    free(got);
    /* the emitter refuses trees deeper than the limit */
    cJSON *deep = cJSON_CreateArray(), *cur = deep;
    for (int i = 0; i < 1500; i++) {
        cJSON *next = cJSON_CreateArray();
        cJSON_AddItemToArray(cur, next);
        cur = next;
    }
    struct ck_error err = CK_ERROR_INIT;
    struct ck_buf out = CK_BUF_INIT;
    assert_int_equal(ck_yaml_emit(deep, 0, &out, &err), -EINVAL);
    assert_string_equal(err.message,
                        "error converting JSON to YAML: yaml: exceeded max depth of 1000");
    assert_null(ck_yaml_dump(deep, 0));
    ck_buf_free(&out);
    ck_error_clear(&err);
    cJSON_Delete(deep);
    ck_buf_free(&y);
}

/* kubectl's reader: `---` lines split, empty/null documents are skipped, a separator followed
 * by anything but a comment is an error, errors count lines within their document. */
static void streams_split_as_kubectl_does(void **state)
{
    (void)state;
    static const struct conv_case cases[] = {
        {"---\napiVersion: v1\nkind: A\n---\n# comment only\n---\n\n---\nnull\n---\nb: 2\n...\n"
         "---   # trailing comment\nc: 3\n",
         "[{\"apiVersion\":\"v1\",\"kind\":\"A\"},{\"b\":2},{\"c\":3}]"},
        {"a: 1\r\n---\r\nb: 2\r\n", "[{\"a\":1},{\"b\":2}]"},
        {"a: 1", "[{\"a\":1}]"},
        {"", "[]"},
        {"- x\n---\nscalar\n", "[[\"x\"],\"scalar\"]"},
        {"a: 1\n---foo\nb: 2\n", "ERR: invalid Yaml document separator: foo"},
        {"a: 1\n--- {b: 2}\n", "ERR: invalid Yaml document separator: {b: 2}"},
        {"a: 1\n---\n\nb: x\n  c: d\n", "ERR: error converting YAML to JSON: yaml: line 3: "
                                        "mapping values are not allowed in this context"},
        /* a leading `{` makes it a stream of JSON values, big integers kept */
        {"  {\"a\": 1, \"b\": 12345678901234567890}\n{\"c\": [1,2]} {\"d\":\"\\ud83d\\ude00\"}",
         "[{\"a\":1,\"b\":12345678901234567890},{\"c\":[1,2]},{\"d\":\"\xf0\x9f\x98\x80\"}]"},
        {"{\"a\": 1,}", "ERR: json: line 1: invalid character '}' in JSON input"},
        {"{\"a\": 1\n", "ERR: unexpected EOF"},
        /* control bytes are not JSON space (cJSON would skip them), invalid UTF-8 is U+FFFD */
        {"{\"a\\u0041\xb1\":\x01 1}", "ERR: invalid character '\\x01' looking for beginning of value"},
        {"{\"a\xb1\": 1}", "[{\"a\xef\xbf\xbd\":1}]"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        char *got = stream2j(cases[i].in);
        if (strcmp(got, cases[i].want))
            print_error("case %zu: want %s got %s\n", i, cases[i].want, got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void looks_like_json_sniffs_first_byte(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool json;
    } cases[] = {
        {"{\"a\":1}", true}, {"  \n\t[1]", true}, {"a: 1", false}, {"---\n{}", false},
        {"", false},         {"   ", false},      {"# {", false},  {"\"{\"", false},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++)
        assert_int_equal(ck_yaml_looks_like_json(cases[i].in, strlen(cases[i].in)), cases[i].json);
    assert_false(ck_yaml_looks_like_json(NULL, 0));
}

/* go-yaml v2's Marshal choices: quote what would read back as another type, literal blocks
 * for multi-line text, `{}`/`[]`, Go number formatting. */
static void emitter_quotes_and_styles_like_go_yaml(void **state)
{
    (void)state;
    static const struct conv_case cases[] = {
        {"{\"k\":\"plain text\"}", "k: plain text\n"},
        {"{\"k\":\"true\"}", "k: \"true\"\n"},
        {"{\"k\":\"on\"}", "k: \"on\"\n"},
        {"{\"k\":\"1\"}", "k: \"1\"\n"},
        {"{\"k\":\"0x10\"}", "k: \"0x10\"\n"},
        {"{\"k\":\"1e3\"}", "k: \"1e3\"\n"},
        {"{\"k\":\"08\"}", "k: \"08\"\n"},
        {"{\"k\":\"null\"}", "k: \"null\"\n"},
        {"{\"k\":\"~\"}", "k: \"~\"\n"},
        {"{\"k\":\"\"}", "k: \"\"\n"},
        {"{\"k\":\"1:20\"}", "k: \"1:20\"\n"},
        {"{\"k\":\"2001-12-14\"}", "k: \"2001-12-14\"\n"},
        {"{\"k\":\" lead\"}", "k: ' lead'\n"},
        {"{\"k\":\"trail \"}", "k: 'trail '\n"},
        {"{\"k\":\"a: b\"}", "k: 'a: b'\n"},
        {"{\"k\":\"a #b\"}", "k: 'a #b'\n"},
        {"{\"k\":\"#c\"}", "k: '#c'\n"},
        {"{\"k\":\"*\"}", "k: '*'\n"},
        {"{\"k\":\"- x\"}", "k: '- x'\n"},
        {"{\"k\":\"a'b\"}", "k: a'b\n"},
        {"{\"k\":\"x\\ty\"}", "k: \"x\\ty\"\n"},
        {"{\"k\":\"a\\u0001b\"}", "k: \"a\\x01b\"\n"},
        {"{\"k\":\"café\"}", "k: café\n"},
        /* invalid UTF-8 becomes U+FFFD, as Go's JSON decoding leaves it */
        {"{\"k\":\"a\xff"
         "b\",\"\xfe\":1}",
         "k: a\xef\xbf\xbd"
         "b\n\xef\xbf\xbd: 1\n"},
        {"{\"k\":\"100m\"}", "k: 100m\n"},
        {"{\"k\":\"http://a.b/c\"}", "k: http://a.b/c\n"},
        {"{\"k\":\"multi\\nline\\n\"}", "k: |\n  multi\n  line\n"},
        {"{\"k\":\"multi\\nline\"}", "k: |-\n  multi\n  line\n"},
        {"{\"k\":\"trailing\\n\\n\"}", "k: |+\n  trailing\n\n"},
        {"{\"k\":\"  indented\\nline\"}", "k: |2-\n    indented\n  line\n"},
        {"{\"k\":\"tail space \\nx\"}", "k: \"tail space \\nx\"\n"},
        {"{\"n\":1,\"y\":2}", "\"n\": 1\n\"y\": 2\n"},
        {"{\"a\":{},\"b\":[],\"c\":null,\"d\":[{}],\"e\":[[1,2],[3]]}",
         "a: {}\nb: []\nc: null\nd:\n- {}\ne:\n- - 1\n  - 2\n- - 3\n"},
        {"{\"x\":1.5,\"i\":1000000,\"f\":1.0,\"t\":1234567.5,\"u\":1e-05,\"w\":123456.7,"
         "\"q\":1e300,\"v\":0.0001,\"b\":true}",
         "x: 1.5\ni: 1000000\nf: 1\nt: 1.2345675e+06\nu: 1e-05\nw: 123456.7\nq: 1e+300\n"
         "v: 0.0001\nb: true\n"},
        {"[{\"name\":\"x\",\"ports\":[80,443]}]", "- name: x\n  ports:\n  - 80\n  - 443\n"},
        {"\"top\"", "top\n"},
        {"{\"k\":\"a very long plain string that goes on and on past the eighty column mark so it "
         "folds\"}",
         "k: a very long plain string that goes on and on past the eighty column mark so it\n"
         "  folds\n"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        char *got = j2y(cases[i].in, false);
        if (strcmp(got, cases[i].want))
            print_error("case %zu: %s\n  want %s\n  got  %s\n", i, cases[i].in, cases[i].want, got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void sorted_keys_follow_go_yaml_order(void **state)
{
    (void)state;
    char *got = j2y("{\"z\":1,\"a10\":2,\"a9\":3,\"B\":4,\"a\":5,\"_x\":6,\"1\":7,\"10\":8,\"2\":9,"
                    "\"a-b\":10,\"ab\":11}",
                    true);
    assert_string_equal(got, "_x: 6\n\"1\": 7\n\"2\": 9\n\"10\": 8\nB: 4\na: 5\na-b: 10\na9: 3\n"
                             "a10: 2\nab: 11\nz: 1\n");
    free(got);
    got = j2y("{\"z\":1,\"a\":2}", false); /* default: the order given */
    assert_string_equal(got, "z: 1\na: 2\n");
    free(got);
}

static const char deployment_json[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
    "\"namespace\":\"default\",\"labels\":{\"app\":\"web\"},\"annotations\":{"
    "\"deployment.kubernetes.io/revision\":\"1\"}},\"spec\":{\"replicas\":3,\"selector\":{"
    "\"matchLabels\":{\"app\":\"web\"}},\"strategy\":{\"type\":\"RollingUpdate\","
    "\"rollingUpdate\":{\"maxSurge\":\"25%\",\"maxUnavailable\":\"25%\"}},\"template\":{"
    "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\","
    "\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],\"args\":["
    "\"--port\",\"8080\",\"--verbose=true\"],\"env\":[{\"name\":\"MODE\",\"value\":\"on\"},{"
    "\"name\":\"COUNT\",\"value\":\"3\"}],\"resources\":{\"limits\":{\"cpu\":\"500m\","
    "\"memory\":\"128Mi\"}}}],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30}}},"
    "\"status\":{}}";

/* What `kubectl get deploy web -o yaml` prints for it (go-yaml v2's output, byte for byte). */
static const char deployment_yaml[] = "apiVersion: apps/v1\n"
                                      "kind: Deployment\n"
                                      "metadata:\n"
                                      "  annotations:\n"
                                      "    deployment.kubernetes.io/revision: \"1\"\n"
                                      "  labels:\n"
                                      "    app: web\n"
                                      "  name: web\n"
                                      "  namespace: default\n"
                                      "spec:\n"
                                      "  replicas: 3\n"
                                      "  selector:\n"
                                      "    matchLabels:\n"
                                      "      app: web\n"
                                      "  strategy:\n"
                                      "    rollingUpdate:\n"
                                      "      maxSurge: 25%\n"
                                      "      maxUnavailable: 25%\n"
                                      "    type: RollingUpdate\n"
                                      "  template:\n"
                                      "    metadata:\n"
                                      "      labels:\n"
                                      "        app: web\n"
                                      "    spec:\n"
                                      "      containers:\n"
                                      "      - args:\n"
                                      "        - --port\n"
                                      "        - \"8080\"\n"
                                      "        - --verbose=true\n"
                                      "        env:\n"
                                      "        - name: MODE\n"
                                      "          value: \"on\"\n"
                                      "        - name: COUNT\n"
                                      "          value: \"3\"\n"
                                      "        image: nginx:1.25\n"
                                      "        name: nginx\n"
                                      "        ports:\n"
                                      "        - containerPort: 80\n"
                                      "          protocol: TCP\n"
                                      "        resources:\n"
                                      "          limits:\n"
                                      "            cpu: 500m\n"
                                      "            memory: 128Mi\n"
                                      "      restartPolicy: Always\n"
                                      "      terminationGracePeriodSeconds: 30\n"
                                      "status: {}\n";

static const char configmap_json[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"app-config\"},"
    "\"data\":{\"app.properties\":\"color=blue\\nsize=10\\n\",\"script.sh\":\"#!/bin/sh\\necho "
    "\\\"hello\\\"\\nexit 0\",\"empty\":\"\",\"flag\":\"yes\",\"port\":\"8080\",\"motd\":\"  "
    "indented first line\\nsecond\\n\"}}";

static const char configmap_yaml[] = "apiVersion: v1\n"
                                     "data:\n"
                                     "  app.properties: |\n"
                                     "    color=blue\n"
                                     "    size=10\n"
                                     "  empty: \"\"\n"
                                     "  flag: \"yes\"\n"
                                     "  motd: |2\n"
                                     "      indented first line\n"
                                     "    second\n"
                                     "  port: \"8080\"\n"
                                     "  script.sh: |-\n"
                                     "    #!/bin/sh\n"
                                     "    echo \"hello\"\n"
                                     "    exit 0\n"
                                     "kind: ConfigMap\n"
                                     "metadata:\n"
                                     "  name: app-config\n";

static void manifests_round_trip_json_yaml_json(void **state)
{
    (void)state;
    static const struct {
        const char *json, *yaml;
    } cases[] = {{deployment_json, deployment_yaml}, {configmap_json, configmap_yaml}};
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        cJSON *orig = cJSON_Parse(cases[i].json);
        assert_non_null(orig);
        CK_AUTOFREE char *yaml = ck_yaml_dump(orig, CK_YAML_SORT_KEYS);
        assert_string_equal(yaml, cases[i].yaml);
        cJSON *back = NULL;
        assert_int_equal(ck_yaml_parse(yaml, strlen(yaml), CK_YAML_STRICT, &back, NULL), 0);
        assert_true(cJSON_Compare(orig, back, true));
        /* the unsorted form reads back the same too */
        CK_AUTOFREE char *yaml2 = ck_yaml_dump(orig, 0);
        cJSON *back2 = NULL;
        assert_int_equal(ck_yaml_parse(yaml2, strlen(yaml2), 0, &back2, NULL), 0);
        assert_true(cJSON_Compare(orig, back2, true));
        cJSON_Delete(back2);
        cJSON_Delete(back);
        cJSON_Delete(orig);
    }
}

static void stream_emitter_separates_documents(void **state)
{
    (void)state;
    cJSON *docs = cJSON_Parse("[{\"a\":1},\"top\",[1,2],{\"t\":\"x\\n\\n\"},null,{}]");
    struct ck_buf b = CK_BUF_INIT;
    assert_int_equal(ck_yaml_emit_stream(docs, 0, &b, NULL), 0);
    /* go-yaml's Encoder writes exactly this for the same values */
    assert_string_equal(b.data,
                        "a: 1\n--- top\n---\n- 1\n- 2\n---\nt: |+\n  x\n\n--- null\n--- {}\n");
    /* kubectl's reader refuses the `--- top` line go-yaml writes for a scalar document */
    struct ck_error err = CK_ERROR_INIT;
    cJSON *back = NULL;
    assert_int_equal(ck_yaml_parse_stream(b.data, b.len, 0, &back, &err), -EINVAL);
    assert_string_equal(err.message, "invalid Yaml document separator: top");
    ck_error_clear(&err);
    ck_buf_free(&b);
    /* (so do `--- null` and `--- {}`); non-empty collections read back */
    cJSON *objs = cJSON_Parse("[{\"a\":1},[1,2],{\"t\":\"x\\n\\n\"}]");
    assert_int_equal(ck_yaml_emit_stream(objs, 0, &b, NULL), 0);
    assert_int_equal(ck_yaml_parse_stream(b.data, b.len, 0, &back, NULL), 0);
    CK_AUTOFREE char *s = cJSON_PrintUnformatted(back);
    assert_string_equal(s, "[{\"a\":1},[1,2],{\"t\":\"x\\n\\n\"}]");
    cJSON_Delete(back);
    cJSON_Delete(objs);
    ck_buf_free(&b);
    /* not an array: an error, nothing written */
    assert_int_equal(ck_yaml_emit_stream(cJSON_GetArrayItem(docs, 0), 0, &b, &err), -EINVAL);
    assert_int_equal(b.len, 0);
    ck_error_clear(&err);
    ck_buf_free(&b);
    cJSON_Delete(docs);
}

/* Several MiB in and out: a list of 60000 items. */
static void large_documents_work(void **state)
{
    (void)state;
    struct ck_buf y = CK_BUF_INIT;
    ck_buf_puts(&y, "items:\n");
    for (int i = 0; i < 60000; i++)
        ck_buf_printf(&y,
                      "- name: item-%d\n  labels: {app: web, tier: \"%d\"}\n  value: %d\n"
                      "  text: \"some text for item %d\"\n",
                      i, i, i * 7, i);
    assert_true(y.len > 4 * 1024 * 1024);
    cJSON *doc = NULL;
    assert_int_equal(ck_yaml_parse(y.data, y.len, CK_YAML_STRICT, &doc, NULL), 0);
    cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
    assert_int_equal(cJSON_GetArraySize(items), 60000);
    cJSON *last = cJSON_GetArrayItem(items, 59999);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(last, "value")->valuedouble, 59999 * 7);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(last, "labels"), "tier")
            ->valuestring,
        "59999");
    struct ck_buf out = CK_BUF_INIT;
    assert_int_equal(ck_yaml_emit(doc, 0, &out, NULL), 0);
    cJSON *back = NULL;
    assert_int_equal(ck_yaml_parse(out.data, out.len, 0, &back, NULL), 0);
    assert_true(cJSON_Compare(doc, back, true));
    cJSON_Delete(back);
    cJSON_Delete(doc);
    ck_buf_free(&out);
    ck_buf_free(&y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(yaml11_scalars_resolve_as_go_yaml_v2),
        cmocka_unit_test(explicit_tags_force_or_check_types),
        cmocka_unit_test(collections_anchors_and_merge_keys),
        cmocka_unit_test(map_keys_become_json_strings),
        cmocka_unit_test(strict_mode_rejects_duplicate_keys),
        cmocka_unit_test(big_integers_keep_their_digits),
        cmocka_unit_test(syntax_errors_read_like_upstream),
        cmocka_unit_test(invalid_utf8_is_an_error_not_a_crash),
        cmocka_unit_test(alias_bomb_is_rejected),
        cmocka_unit_test(nesting_is_capped),
        cmocka_unit_test(streams_split_as_kubectl_does),
        cmocka_unit_test(looks_like_json_sniffs_first_byte),
        cmocka_unit_test(emitter_quotes_and_styles_like_go_yaml),
        cmocka_unit_test(sorted_keys_follow_go_yaml_order),
        cmocka_unit_test(manifests_round_trip_json_yaml_json),
        cmocka_unit_test(stream_emitter_separates_documents),
        cmocka_unit_test(large_documents_work),
    };
    return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
