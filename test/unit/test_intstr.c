/* Unit tests for intstr.c: upstream's IntOrString, GetScaledValueFromIntOrPercent and the
 * Deployment fencepost resolution built on it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "intstr.h"
#include "mem.h"

static void percent_scales_up_or_down(void **state)
{
    (void)state;
    static const struct {
        const char *str; /* NULL: use the int */
        int32_t i;
        int64_t total;
        bool up;
        int64_t want;
    } table[] = {
        {"25%", 0, 10, true, 3},    {"25%", 0, 10, false, 2},   {"25%", 0, 1, true, 1},
        {"25%", 0, 1, false, 0},    {"0%", 0, 10, true, 0},     {"100%", 0, 7, false, 7},
        {"33%", 0, 3, true, 1},     {"33%", 0, 3, false, 0},    {"50%", 0, 5, true, 3},
        {"50%", 0, 5, false, 2},    {"-50%", 0, 10, true, -5},  {"-25%", 0, 10, false, -3},
        {"150%", 0, 10, false, 15}, {"+10%", 0, 100, true, 10}, {"010%", 0, 100, true, 10},
        {NULL, 5, 10, true, 5},     {NULL, 0, 10, false, 0},    {NULL, -3, 10, true, -3},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_intstr v =
            table[i].str ? ck_intstr_from_string(table[i].str) : ck_intstr_from_int(table[i].i);
        int64_t got = -99;
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(ck_intstr_scaled_value(&v, table[i].total, table[i].up, &got, &err), 0);
        if (got != table[i].want)
            fail_msg("row %zu (%s of %lld): got %lld want %lld", i,
                     table[i].str ? table[i].str : "int", (long long)table[i].total, (long long)got,
                     (long long)table[i].want);
        ck_intstr_clear(&v);
    }
}

static void percent_errors_match_upstream(void **state)
{
    (void)state;
    static const struct {
        const char *str, *msg;
    } table[] = {
        {"50", "invalid value for IntOrString: invalid type: string is not a percentage"},
        {"", "invalid value for IntOrString: invalid type: string is not a percentage"},
        {"%25", "invalid value for IntOrString: invalid type: string is not a percentage"},
        {"abc%", "invalid value for IntOrString: invalid value \"abc%\": strconv.Atoi: parsing "
                 "\"abc\": invalid syntax"},
        {"%", "invalid value for IntOrString: invalid value \"%\": strconv.Atoi: parsing \"\": "
              "invalid syntax"},
        {"25%%", "invalid value for IntOrString: invalid value \"25%%\": strconv.Atoi: parsing "
                 "\"25%\": invalid syntax"},
        {"1.5%", "invalid value for IntOrString: invalid value \"1.5%\": strconv.Atoi: parsing "
                 "\"1.5\": invalid syntax"},
        {" 5%", "invalid value for IntOrString: invalid value \" 5%\": strconv.Atoi: parsing "
                "\" 5\": invalid syntax"},
        {"a\"b\n%", "invalid value for IntOrString: invalid value \"a\\\"b\\n%\": strconv.Atoi: "
                    "parsing \"a\\\"b\\n\": invalid syntax"},
        {"99999999999999999999%", "invalid value for IntOrString: invalid value "
                                  "\"99999999999999999999%\": strconv.Atoi: parsing "
                                  "\"99999999999999999999\": value out of range"},
        /* Go reports the overflow it meets before the bad byte */
        {"99999999999999999999x%", "invalid value for IntOrString: invalid value "
                                   "\"99999999999999999999x%\": strconv.Atoi: parsing "
                                   "\"99999999999999999999x\": value out of range"},
        {"-9223372036854775809%", "invalid value for IntOrString: invalid value "
                                  "\"-9223372036854775809%\": strconv.Atoi: parsing "
                                  "\"-9223372036854775809\": value out of range"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_intstr v = ck_intstr_from_string(table[i].str);
        int64_t got = 42;
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(ck_intstr_scaled_value(&v, 10, true, &got, &err), -EINVAL);
        assert_string_equal(err.message, table[i].msg);
        assert_int_equal(err.code, 400);
        assert_int_equal(got, 42);
        ck_intstr_clear(&v);
    }
    struct ck_error err = CK_ERROR_INIT;
    int64_t got;
    assert_int_equal(ck_intstr_scaled_value(NULL, 10, true, &got, &err), -EINVAL);
    assert_string_equal(err.message, "nil value for IntOrString");
    /* the largest int64 still parses */
    struct ck_intstr v = ck_intstr_from_string("-9223372036854775808%");
    assert_int_equal(ck_intstr_scaled_value(&v, 0, true, &got, &err), 0);
    assert_int_equal(got, 0);
    ck_intstr_clear(&v);
}

static void json_round_trips_type(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        enum ck_intstr_type type;
        int32_t i;
        const char *s, *out;
    } table[] = {
        {"8080", CK_INTSTR_INT, 8080, NULL, "8080"},
        {"\"http\"", CK_INTSTR_STRING, 0, "http", "\"http\""},
        {"\"25%\"", CK_INTSTR_STRING, 0, "25%", "\"25%\""},
        {"\"1\"", CK_INTSTR_STRING, 0, "1", "\"1\""}, /* a quoted number stays a string */
        {"-2147483648", CK_INTSTR_INT, INT32_MIN, NULL, "-2147483648"},
        {"null", CK_INTSTR_INT, 0, NULL, "0"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        cJSON *j = cJSON_Parse(table[i].json);
        struct ck_intstr v = CK_INTSTR_INIT;
        assert_int_equal(ck_intstr_from_json(j, &v, NULL), 0);
        assert_int_equal(v.type, table[i].type);
        if (table[i].s)
            assert_string_equal(v.str_val, table[i].s);
        else
            assert_int_equal(v.int_val, table[i].i);
        cJSON *back = ck_intstr_to_json(&v);
        char *text = cJSON_PrintUnformatted(back);
        assert_string_equal(text, table[i].out);
        free(text);
        cJSON_Delete(back);
        cJSON_Delete(j);
        ck_intstr_clear(&v);
    }
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"1.5", "json: cannot unmarshal number 1.5 into Go value of type int32"},
        {"3000000000", "json: cannot unmarshal number 3000000000 into Go value of type int32"},
        {"true", "json: cannot unmarshal bool into Go value of type int32"},
        {"{}", "json: cannot unmarshal object into Go value of type int32"},
        {"[1]", "json: cannot unmarshal array into Go value of type int32"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(bad); i++) {
        cJSON *j = cJSON_Parse(bad[i].json);
        struct ck_intstr v = CK_INTSTR_INIT;
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(ck_intstr_from_json(j, &v, &err), -EINVAL);
        assert_string_equal(err.message, bad[i].msg);
        assert_null(v.str_val);
        cJSON_Delete(j);
    }
}

static void parse_string_and_int_value(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        enum ck_intstr_type type;
        int64_t int_value;
        const char *str;
    } table[] = {
        {"8080", CK_INTSTR_INT, 8080, "8080"},
        {"+5", CK_INTSTR_INT, 5, "5"},
        {"-7", CK_INTSTR_INT, -7, "-7"},
        {"http", CK_INTSTR_STRING, 0, "http"},
        {"25%", CK_INTSTR_STRING, 0, "25%"},
        {"", CK_INTSTR_STRING, 0, ""},
        {"4294967297", CK_INTSTR_INT, 1, "1"}, /* FromInt truncates to int32, as upstream */
        {"99999999999999999999", CK_INTSTR_STRING, INT64_MAX, "99999999999999999999"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_intstr v = ck_intstr_parse(table[i].in);
        assert_int_equal(v.type, table[i].type);
        assert_int_equal(ck_intstr_int_value(&v), table[i].int_value);
        CK_AUTOFREE char *s = ck_intstr_to_string(&v);
        assert_string_equal(s, table[i].str);
        ck_intstr_clear(&v);
    }
    struct ck_intstr a = ck_intstr_from_string("http"), b = CK_INTSTR_INIT;
    ck_intstr_copy(&b, &a);
    assert_true(ck_intstr_equal(&a, &b));
    assert_ptr_not_equal(a.str_val, b.str_val);
    struct ck_intstr n = ck_intstr_from_int(80);
    assert_false(ck_intstr_equal(&a, &n));
    ck_intstr_clear(&a);
    ck_intstr_clear(&b);
    assert_int_equal(b.type, CK_INTSTR_INT);
    assert_null(b.str_val);
}

static void percent_validation_regex(void **state)
{
    (void)state;
    assert_true(ck_intstr_is_valid_percent("25%"));
    assert_true(ck_intstr_is_valid_percent("0%"));
    assert_true(ck_intstr_is_valid_percent("100%"));
    assert_false(ck_intstr_is_valid_percent("%"));
    assert_false(ck_intstr_is_valid_percent("-5%"));
    assert_false(ck_intstr_is_valid_percent("5"));
    assert_false(ck_intstr_is_valid_percent("5%%"));
    assert_false(ck_intstr_is_valid_percent("1.5%"));
    assert_false(ck_intstr_is_valid_percent(NULL));
}

/* upstream deployment util ResolveFenceposts, with the 25% API defaults */
static void fenceposts_resolve_like_deployments(void **state)
{
    (void)state;
    const struct ck_intstr *def = ck_intstr_rolling_update_default();
    assert_string_equal(def->str_val, "25%");
    struct ck_intstr zero = ck_intstr_from_int(0), two = ck_intstr_from_int(2);
    struct ck_intstr half = ck_intstr_from_string("50%");
    static const struct {
        int surge_kind, unavail_kind; /* 0 NULL, 1 default 25%, 2 int 0, 3 int 2, 4 50% */
        int32_t desired, surge, unavail;
    } table[] = {
        {1, 1, 10, 3, 2}, {1, 1, 1, 1, 0},  {1, 1, 0, 0, 1}, {1, 1, 4, 1, 1}, {2, 2, 10, 0, 1},
        {0, 0, 10, 0, 1}, {3, 1, 10, 2, 2}, {4, 4, 3, 2, 1}, {2, 4, 1, 0, 1},
    };
    const struct ck_intstr *kinds[] = {NULL, def, &zero, &two, &half};
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        int32_t s = -1, u = -1;
        assert_int_equal(ck_intstr_resolve_fenceposts(kinds[table[i].surge_kind],
                                                      kinds[table[i].unavail_kind],
                                                      table[i].desired, &s, &u, NULL),
                         0);
        if (s != table[i].surge || u != table[i].unavail)
            fail_msg("row %zu: surge %d unavailable %d", i, s, u);
    }
    struct ck_intstr bad = ck_intstr_from_string("3");
    struct ck_error err = CK_ERROR_INIT;
    int32_t s, u;
    assert_int_equal(ck_intstr_resolve_fenceposts(&bad, def, 10, &s, &u, &err), -EINVAL);
    assert_string_equal(err.message,
                        "invalid value for IntOrString: invalid type: string is not a percentage");
    assert_ptr_equal(ck_intstr_value_or_default(NULL, def), def);
    assert_ptr_equal(ck_intstr_value_or_default(&bad, def), &bad);
    ck_intstr_clear(&bad);
    ck_intstr_clear(&half);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(percent_scales_up_or_down),
        cmocka_unit_test(percent_errors_match_upstream),
        cmocka_unit_test(json_round_trips_type),
        cmocka_unit_test(parse_string_and_int_value),
        cmocka_unit_test(percent_validation_regex),
        cmocka_unit_test(fenceposts_resolve_like_deployments),
    };
    return cmocka_run_group_tests_name("intstr", tests, NULL, NULL);
}
