/* Unit tests for gostrconv.c: Go's utf8, strconv and encoding/csv behaviour, byte for byte as
 * Go prints and parses (expected values are what Go 1.22 gives for the same input). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "buf.h"
#include "gostrconv.h"
#include "mem.h"

static void utf8_decodes_like_go(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t width;
        unsigned rune;
    } cases[] = {
        {"a", 1, 'a'},
        {"\xc3\xa9", 2, 0xE9},
        {"\xe2\x82\xac", 3, 0x20AC},
        {"\xf0\x9f\x98\x80", 4, 0x1F600},
        {"\xff", 1, 0xFFFD},             /* not a leading byte */
        {"\xc0\x80", 1, 0xFFFD},         /* overlong NUL */
        {"\xed\xa0\x80", 1, 0xFFFD},     /* a surrogate */
        {"\xf4\x90\x80\x80", 1, 0xFFFD}, /* past U+10FFFF */
        {"\xe2\x82", 1, 0xFFFD},         /* truncated */
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        unsigned r = 0;
        assert_int_equal(ck_utf8_decode(cases[i].in, strlen(cases[i].in), &r), cases[i].width);
        assert_int_equal(r, cases[i].rune);
        if (cases[i].rune != 0xFFFD) {
            CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
            ck_buf_put_utf8(&b, r);
            assert_string_equal(ck_buf_str(&b), cases[i].in);
        }
    }
}

static void quote_matches_strconv(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", "\"\""},
        {"plain text", "\"plain text\""},
        {"a\"b\\c", "\"a\\\"b\\\\c\""},
        {"tab\tnl\ncr\r", "\"tab\\tnl\\ncr\\r\""},
        {"\a\b\f\v", "\"\\a\\b\\f\\v\""},
        {"\x01\x7f", "\"\\x01\\x7f\""},
        {"caf\xc3\xa9", "\"caf\xc3\xa9\""},      /* printable runes stay */
        {"soft\xc2\xadhy", "\"soft\\u00adhy\""}, /* a format character is escaped */
        {"\xe2\x80\xa8", "\"\\u2028\""},         /* line separator */
        {"\xf3\xb0\x80\x80", "\"\\U000f0000\""}, /* private use, beyond the BMP */
        {"bad\xff", "\"bad\\xff\""},             /* invalid UTF-8, byte by byte */
        {"it's", "\"it's\""},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
        ck_buf_put_go_quoted(&b, cases[i].in);
        assert_string_equal(ck_buf_str(&b), cases[i].want);
    }
    CK_AUTOBUF struct ck_buf n = CK_BUF_INIT;
    ck_buf_put_go_quoted_n(&n, "a\0b", 3);
    assert_string_equal(ck_buf_str(&n), "\"a\\x00b\"");
    ck_buf_reset(&n);
    ck_buf_put_go_quoted(&n, NULL);
    assert_string_equal(ck_buf_str(&n), "\"\"");
}

static void quote_rune_matches_quoterune(void **state)
{
    (void)state;
    static const struct {
        unsigned rune;
        const char *want;
    } cases[] = {
        {'x', "'x'"},
        {'\'', "'\\''"},
        {'"', "'\"'"},
        {'\\', "'\\\\'"},
        {'\n', "'\\n'"},
        {0, "'\\x00'"},
        {0x7F, "'\\x7f'"},
        {0xE9, "'\xc3\xa9'"},
        {0x85, "'\\u0085'"},
        {0xA0, "'\\u00a0'"},
        {0x1F600, "'\xf0\x9f\x98\x80'"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
        ck_buf_put_go_quoted_rune(&b, cases[i].rune);
        assert_string_equal(ck_buf_str(&b), cases[i].want);
    }
}

static void parse_int_follows_strconv(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int bits;
        int rc;
        int64_t want;
        const char *msg;
    } cases[] = {
        {"42", 64, 0, 42, ""},
        {"-0x1F", 64, 0, -31, ""},
        {"0o17", 64, 0, 15, ""},
        {"017", 64, 0, 15, ""}, /* leading 0: octal */
        {"0b101", 64, 0, 5, ""},
        {"1_000_000", 64, 0, 1000000, ""},
        {"0x_ff", 64, 0, 255, ""},
        {"9223372036854775807", 64, 0, INT64_MAX, ""},
        {"-9223372036854775808", 64, 0, INT64_MIN, ""},
        {"-2147483648", 32, 0, INT32_MIN, ""},
        {"2147483648", 32, -ERANGE, 0,
         "strconv.ParseInt: parsing \"2147483648\": value out of range"},
        {"9223372036854775808", 64, -ERANGE, 0,
         "strconv.ParseInt: parsing \"9223372036854775808\": value out of range"},
        {"1__0", 64, -EINVAL, 0, "strconv.ParseInt: parsing \"1__0\": invalid syntax"},
        {"_1", 64, -EINVAL, 0, "strconv.ParseInt: parsing \"_1\": invalid syntax"},
        {"", 64, -EINVAL, 0, "strconv.ParseInt: parsing \"\": invalid syntax"},
        {"-", 64, -EINVAL, 0, "strconv.ParseInt: parsing \"-\": invalid syntax"},
        {"0x", 64, -EINVAL, 0, "strconv.ParseInt: parsing \"0x\": invalid syntax"},
        {"12a", 64, -EINVAL, 0, "strconv.ParseInt: parsing \"12a\": invalid syntax"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        CK_AUTOBUF struct ck_buf msg = CK_BUF_INIT;
        int64_t v = 0;
        assert_int_equal(ck_go_parse_int_msg(cases[i].in, cases[i].bits, &v, &msg), cases[i].rc);
        if (cases[i].rc == 0)
            assert_int_equal(v, cases[i].want);
        assert_string_equal(ck_buf_str(&msg), cases[i].msg);
    }
    /* explicit bases read no prefixes and no underscores */
    uint64_t u = 0;
    assert_int_equal(ck_go_parse_uint("ff", 2, 16, 64, &u), CK_GO_NUM_OK);
    assert_int_equal(u, 255);
    assert_int_equal(ck_go_parse_uint("1_0", 3, 10, 64, &u), CK_GO_NUM_SYNTAX);
    assert_int_equal(ck_go_parse_uint("18446744073709551616", 20, 10, 64, &u), CK_GO_NUM_RANGE);
}

static void parse_bool_and_float_follow_strconv(void **state)
{
    (void)state;
    bool b = false;
    assert_int_equal(ck_go_parse_bool("T", &b, NULL), 0);
    assert_true(b);
    assert_int_equal(ck_go_parse_bool("False", &b, NULL), 0);
    assert_false(b);
    CK_AUTOBUF struct ck_buf msg = CK_BUF_INIT;
    assert_int_equal(ck_go_parse_bool("yes", &b, &msg), -EINVAL);
    assert_string_equal(ck_buf_str(&msg), "strconv.ParseBool: parsing \"yes\": invalid syntax");

    static const struct {
        const char *in;
        int rc;
        double want;
    } cases[] = {
        {"1.5", 0, 1.5},        {"1_000.25", 0, 1000.25},
        {".5e1", 0, 5},         {"0x1p-2", 0, 0.25},
        {"-Inf", 0, -INFINITY}, {"infinity", 0, INFINITY},
        {"1e400", -ERANGE, 0},  {"1.5.2", -EINVAL, 0},
        {"0x1.8", -EINVAL, 0}, /* a hex mantissa needs an exponent */
        {"1__5", -EINVAL, 0},   {"+nan", -EINVAL, 0},
        {"", -EINVAL, 0},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        double v = 0;
        ck_buf_reset(&msg);
        assert_int_equal(ck_go_parse_float(cases[i].in, &v, &msg), cases[i].rc);
        if (cases[i].rc == 0)
            assert_true(v == cases[i].want);
        else
            assert_non_null(strstr(ck_buf_str(&msg), "strconv.ParseFloat: parsing"));
    }
    double nan_v = 0;
    assert_int_equal(ck_go_parse_float("NaN", &nan_v, NULL), 0);
    assert_true(isnan(nan_v));
}

static void format_float_is_shortest(void **state)
{
    (void)state;
    static const struct {
        double v;
        char fmt;
        int bits;
        const char *want;
    } cases[] = {
        {1e6, 'g', 64, "1e+06"},
        {123456, 'g', 64, "123456"},
        {1.5e-5, 'g', 64, "1.5e-05"},
        {0.0001, 'g', 64, "0.0001"},
        {0.1, 'g', 64, "0.1"},
        {-0.0, 'g', 64, "-0"},
        {1e100, 'g', 64, "1e+100"},
        {0.1, 'g', 32, "0.1"},
        {1.0 / 3, 'g', 32, "0.33333334"},
        {1.0 / 3, 'g', 64, "0.3333333333333333"},
        {1e21, 'e', 64, "1e+21"},
        {1e-7, 'e', 64, "1e-07"},
        {-1.5e7, 'e', 64, "-1.5e+07"},
        {1e-7, 'f', 64, "0.0000001"},
        {1.5e7, 'f', 64, "15000000"},
        {NAN, 'g', 64, "NaN"},
        {-INFINITY, 'f', 64, "-Inf"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        char out[CK_GO_FLOAT_BUFSZ];
        ck_go_format_float(cases[i].v, cases[i].fmt, cases[i].bits, out);
        assert_string_equal(out, cases[i].want);
    }
}

static void csv_reads_and_writes_like_encoding_csv(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        const char *joined; /* fields joined with '|', or the error text */
    } cases[] = {
        {"a,b,c", 0, "a|b|c"},
        {"\"a,b\",c", 0, "a,b|c"},
        {"\"say \"\"hi\"\"\"", 0, "say \"hi\""},
        {"\n\nx,y\nz", 0, "x|y"}, /* empty lines skipped, only the first record */
        {"a,", 0, "a|"},
        {"a\"b", -EINVAL, "parse error on line 1, column 2: bare \" in non-quoted-field"},
        {"\"a\"b", -EINVAL,
         "parse error on line 1, column 3: extraneous or missing \" in quoted-field"},
        {"\n", -EINVAL, "EOF"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        CK_AUTOBUF struct ck_buf msg = CK_BUF_INIT;
        char **fields = NULL;
        size_t n = 0;
        assert_int_equal(ck_go_csv_read(cases[i].in, &fields, &n, &msg), cases[i].rc);
        if (cases[i].rc < 0) {
            assert_null(fields);
            assert_string_equal(ck_buf_str(&msg), cases[i].joined);
            continue;
        }
        CK_AUTOBUF struct ck_buf j = CK_BUF_INIT;
        for (size_t k = 0; k < n; k++)
            ck_buf_printf(&j, "%s%s", k ? "|" : "", fields[k]);
        assert_string_equal(ck_buf_str(&j), cases[i].joined);
        ck_go_csv_free(fields, n);
    }
    const char *const out[] = {"plain", "with,comma", "say \"hi\"", "", " lead", "\\."};
    CK_AUTOBUF struct ck_buf w = CK_BUF_INIT;
    ck_go_csv_write(&w, out, CK_ARRAY_SIZE(out));
    assert_string_equal(ck_buf_str(&w),
                        "plain,\"with,comma\",\"say \"\"hi\"\"\",,\" lead\",\"\\.\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_decodes_like_go),
        cmocka_unit_test(quote_matches_strconv),
        cmocka_unit_test(quote_rune_matches_quoterune),
        cmocka_unit_test(parse_int_follows_strconv),
        cmocka_unit_test(parse_bool_and_float_follow_strconv),
        cmocka_unit_test(format_float_is_shortest),
        cmocka_unit_test(csv_reads_and_writes_like_encoding_csv),
    };
    return cmocka_run_group_tests_name("gostrconv", tests, NULL, NULL);
}
