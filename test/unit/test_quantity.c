/* Unit tests for quantity.c: upstream's resource.Quantity parsing, canonical form,
 * arithmetic and rounding, with the cases of upstream's quantity_test.go tables. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "quantity.h"

#define DSI CK_QUANTITY_DECIMAL_SI
#define BSI CK_QUANTITY_BINARY_SI
#define DEX CK_QUANTITY_DECIMAL_EXPONENT

static const char err_format[] = "quantities must match the regular expression "
                                 "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
static const char err_suffix[] = "unable to parse quantity's suffix";
static const char err_numeric[] = "unable to parse numeric part of quantity";

static struct ck_quantity must_parse(const char *s)
{
    struct ck_quantity q;
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_quantity_parse(s, &q, &err);
    if (rc != 0)
        fail_msg("parse %s: %s", s, err.message);
    return q;
}

static const char *fmt(const struct ck_quantity *q, char *buf)
{
    assert_int_equal(ck_quantity_format(q, buf, CK_QUANTITY_STR_MAX), 0);
    return buf;
}

/* Parsed string -> String(), and the format the quantity keeps. */
static void parse_emits_upstream_string(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        enum ck_quantity_format format;
    } table[] = {
        /* upstream TestQuantityParseEmit */
        {"1Ki", "1Ki", BSI},
        {"1Mi", "1Mi", BSI},
        {"1Gi", "1Gi", BSI},
        {"1024Mi", "1Gi", BSI},
        {"1000M", "1G", DSI},
        {".001Ki", "1024m", BSI},
        {".000001Ki", "1024u", DSI},
        {".000000001Ki", "1024n", DSI},
        {".000000000001Ki", "2n", DSI},
        /* upstream TestQuantityString alternates (non-canonical spellings) */
        {"307200Ki", "300Mi", BSI},
        {"1025024Mi", "1001Gi", BSI},
        {"1024Gi", "1Ti", BSI},
        {"5000m", "5", DSI},
        {"0.5", "500m", DSI},
        {"0.001T", "1G", DSI},
        {"1000u", "1m", DSI},
        {"1.08", "1080m", DSI},
        {"1080000000n", "1080m", DSI},
        {".001e12", "1e9", DEX},
        {"0.001e0", "1e-3", DEX},
        {"1000e-12", "1e-9", DEX},
        {"00", "0", DSI},
        {"1000E", "1e21", DSI}, /* no DecimalSI suffix past E: falls back to e<N> */
        {"5000E", "5e21", DSI},
        {"1000000E", "1e24", DSI},
        /* the brief's everyday cases */
        {"500m", "500m", DSI},
        {"1.5", "1500m", DSI},
        {"1536Mi", "1536Mi", BSI},
        {"0.5Gi", "512Mi", BSI},
        {"1.5Gi", "1536Mi", BSI},
        {"0", "0", DSI},
        {"-1", "-1", DSI},
        {"129M", "129M", DSI},
        {"1000000000000000000000", "1e21", DSI},
        {"18446744073709551616", "18446744073709551616", DSI},
        {"1.2345", "1234500u", DSI},
        /* DecimalExponent keeps its exponent form */
        {"1e3", "1e3", DEX},
        {"129e6", "129e6", DEX},
        {"12e-3", "12e-3", DEX},
        {"1.2e3", "1200", DEX},
        {"1.3E+6", "1300e3", DEX},
        {"1e0", "1e0", DEX},
        {"10e0", "10e0", DEX},
        {"1.0e0", "1", DEX},
        /* BinarySI in (-1024, 1024) or with a fraction prints as DecimalSI */
        {"1.5Ki", "1536", BSI},
        {"100.035Ki", "102435840m", BSI},
        {"-0.5Gi", "-512Mi", BSI},
        {"0.05Gi", "53687091200m", BSI},
        /* rounding up to nano */
        {"3.001n", "4n", DSI},
        {"0.9n", "1n", DSI},
        {"0.00000012345", "124n", DSI},
        {"1.1E-9", "2e-9", DEX},
        {"-0.0000000001", "-1n", DSI},
        {"0.0000000000", "0", DSI},
        /* binary cap at 2^63-1 */
        {"9Ei", "9223372036854775807", BSI},
        {"8Ei", "9223372036854775807", BSI},
        {"-9Ei", "-9223372036854775807", BSI},
        {"9223372036854775807Ki", "9223372036854775807", BSI},
        {"7Ei", "7Ei", BSI},
        /* a long fraction on a large binary value still caps instead of overflowing */
        {"9999999999999999999.1234567890123456789012345678901234567890123456789012345678"
         "901234567890Ei",
         "9223372036854775807", BSI},
        {"7.99999999999999999999999999999999999999999999999999999999999999999999999999Ei",
         "9223372036854775807", BSI},
        {"0.0000000000000000000000000000000000000000000000000000000000000000000000000001Ei", "1n",
         DSI},
    };
    char buf[CK_QUANTITY_STR_MAX];
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_quantity q = must_parse(table[i].in);
        if (strcmp(fmt(&q, buf), table[i].out) != 0 || q.format != table[i].format)
            fail_msg("%s: got %s (%s), want %s (%s)", table[i].in, buf,
                     ck_quantity_format_name(q.format), table[i].out,
                     ck_quantity_format_name(table[i].format));
    }
}

/* Upstream reuses the input as String() when its fast path judges it canonical, so a few
 * odd spellings survive a round trip verbatim; arithmetic drops that memory. */
static void parse_keeps_canonical_looking_input(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out, *after_neg;
    } table[] = {
        {"+1", "+1", "-1"},
        {"01", "01", "-1"},
        {"1.500", "1.500", "-1500m"},
        {"1.", "1.", "-1"},
        {"1.G", "1.G", "-1G"},
        {"1E3", "1E3", "-1e3"},
        {"1025Ki", "1025Ki", "-1025Ki"},
        {"1000", "1k", "-1k"},
        {"+1Ki", "+1Ki", "-1Ki"},
        {"01Mi", "01Mi", "-1Mi"},
        {"+8Ki", "8Ki", "-8Ki"},
        {"+1.5Ki", "1536", "-1536"},
        {"1.000", "1", "-1"},
        {"1e+3", "1e+3", "-1e3"},
    };
    char buf[CK_QUANTITY_STR_MAX];
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_quantity q = must_parse(table[i].in);
        assert_string_equal(fmt(&q, buf), table[i].out);
        ck_quantity_neg(&q);
        assert_string_equal(fmt(&q, buf), table[i].after_neg);
    }
}

/* Parsed values, compared exactly with mantissa * 10^exponent (upstream's decQuantity). */
static void parse_gives_exact_values(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t mant;
        int32_t exp;
        enum ck_quantity_format format;
    } table[] = {
        {"0n", 0, 0, DSI},
        {"0Ki", 0, 0, BSI},
        {"1", 1, 0, DSI},
        {"8Ki", 8 * 1024, 0, BSI},
        {"3Ei", 3LL << 60, 0, BSI},
        {"100Ti", 100LL << 40, 0, BSI},
        {"5n", 5, -9, DSI},
        {"4u", 4, -6, DSI},
        {"50k", 5, 4, DSI},
        {"300T", 3, 14, DSI},
        {"1E", 1, 18, DSI},
        {"1E-3", 1, -3, DEX},
        {"1e15", 1, 15, DEX},
        {"100.035k", 100035, 0, DSI},
        {"0.0005k", 5, -1, DSI},
        {"0.00050k", 5, -1, DSI},
        {"0.5e-2", 5, -3, DEX},
        {"10.035M", 10035, 3, DSI},
        {"1.40e9", 14, 8, DEX},
        {"1.7E18", 17, 17, DEX},
        {"6.987654321G", 6987654321, 0, DSI},
        {"1.01E", 101, 16, DSI},
        {"0.5e-9", 1, -9, DEX},
        {"0.0000000005", 1, -9, DSI},
        {"0.5Mi", 512 * 1024, 0, BSI},
        {"0.025Ti", 274877906944, -1, BSI},
        {".001", 1, -3, DSI},
        {".0001k", 100, -3, DSI},
        {"1.G", 1, 9, DSI},
        {"-5n", -5, -9, DSI},
        {"+8k", 8, 3, DSI},
        {"-100.035k", -100035, 0, DSI},
        /* upstream's scanner is looser than its regexp: these are zero */
        {"Gi", 0, 0, BSI},
        {"m", 0, 0, DSI},
        {".", 0, 0, DSI},
        {"-", 0, 0, DSI},
        {"-.", 0, 0, DSI},
        {"e3", 0, 0, DEX},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_quantity q = must_parse(table[i].in);
        struct ck_quantity want = ck_quantity_from_scaled(table[i].mant, table[i].exp, DSI);
        if (ck_quantity_cmp(&q, &want) != 0 || q.format != table[i].format)
            fail_msg("%s: value or format differs", table[i].in);
    }
    /* values past int64 stay exact */
    struct ck_quantity big = must_parse("9223372036854775808");
    struct ck_quantity max = ck_quantity_from_int64(INT64_MAX, DSI);
    assert_int_equal(ck_quantity_cmp(&big, &max), 1);
    struct ck_quantity one = ck_quantity_from_int64(1, DSI);
    assert_int_equal(ck_quantity_sub(&big, &one), 0);
    assert_int_equal(ck_quantity_cmp(&big, &max), 0);
    assert_int_equal(ck_quantity_value(&big), INT64_MAX);
}

static void parse_rejects_as_upstream(void **state)
{
    (void)state;
    static const struct {
        const char *in, *msg;
    } table[] = {
        {"", err_format},
        {"1.1.1", err_format},
        {"1 Gi", err_format},
        {" 1", err_format},
        {"1 ", err_format},
        {"1.1.M", err_format},
        {"1+1.0M", err_format},
        {"0.1am", err_format},
        {"aoeu", err_format},
        {"1Gb", err_format},
        {"Non-Numeric", err_format},
        {"1\n", err_format},
        {"1i", err_suffix},
        {".5i", err_suffix},
        {"-3.01i", err_suffix},
        {"0.1mi", err_suffix},
        {"-3.01e-", err_suffix},
        {"1e", err_suffix},
        {"1K", err_suffix},
        {"1EE", err_suffix},
        {"1-5", err_suffix},
        {"1e99999999999999999999", err_suffix}, /* exponent beyond int64 */
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_quantity q = ck_quantity_from_int64(7, DSI);
        struct ck_error err = CK_ERROR_INIT;
        int rc = ck_quantity_parse(table[i].in, &q, &err);
        if (rc != -EINVAL || strcmp(err.message, table[i].msg) != 0)
            fail_msg("%s: rc %d, message %s", table[i].in, rc, err.message);
        assert_int_equal(err.code, 400);
        assert_int_equal(ck_quantity_cmp_int64(&q, 7), 0); /* output untouched */
    }
    /* More significant digits than we hold: a numeric error, not a wrong value. */
    char huge[160];
    memset(huge, '9', 150);
    strcpy(huge + 150, ".5");
    struct ck_quantity q;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_quantity_parse(huge, &q, &err), -ERANGE);
    assert_string_equal(err.message, err_numeric);
    /* ...but many digits that are just zeros or beyond nano are fine */
    memset(huge, '0', 150);
    huge[0] = '1';
    huge[150] = '\0';
    q = must_parse(huge);
    char buf[CK_QUANTITY_STR_MAX];
    assert_string_equal(fmt(&q, buf), "100e147");
    assert_int_equal(ck_quantity_parse(NULL, &q, NULL), -EINVAL);
}

/* upstream TestMilliNewSet, TestNewSet, TestNewScaledSet */
static void constructors_print_canonically(void **state)
{
    (void)state;
    static const struct {
        int64_t value;
        int32_t scale;
        enum ck_quantity_format format;
        const char *out;
    } table[] = {
        {1, -3, DSI, "1m"},
        {1000, -3, DSI, "1"},
        {1234000, -3, DSI, "1234"},
        {1024, -3, BSI, "1024m"},
        {1000000, -3, DEX, "1e3"},
        {1048576, -3, BSI, "1048576m"},
        {1, 0, DSI, "1"},
        {1000, 0, DSI, "1k"},
        {1234000, 0, DSI, "1234k"},
        {1024, 0, BSI, "1Ki"},
        {1000000, 0, DEX, "1e6"},
        {1048576, 0, BSI, "1Mi"},
        {1, -9, DSI, "1n"},
        {1000, -9, DSI, "1u"},
        {1000, -6, DSI, "1m"},
        {0, -9, DSI, "0"},
        {0, 0, BSI, "0"},
        {5, 0, BSI, "5"},
        {500, -3, BSI, "500m"},
        {1025, 0, BSI, "1025"},
        {1, -12, DSI, "1e-12"},
        {1, 21, DSI, "1e21"},
        {80, -3, DEX, "80e-3"},
        {300, 6, DEX, "300e6"},
        {108, -2, DSI, "1080m"},
        {10800, -10, DSI, "1080n"},
        {-901, -2, DSI, "-9010m"},
        {INT64_MIN, 0, DSI, "-9223372036854775808"},
        {INT64_MIN, -3, DSI, "-9223372036854775808m"},
        {1LL << 62, 0, BSI, "4Ei"},
    };
    char buf[CK_QUANTITY_STR_MAX];
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_quantity q =
            ck_quantity_from_scaled(table[i].value, table[i].scale, table[i].format);
        if (strcmp(fmt(&q, buf), table[i].out) != 0)
            fail_msg("%lld e%d: got %s want %s", (long long)table[i].value, table[i].scale, buf,
                     table[i].out);
        /* the canonical string parses back to the same value */
        if (table[i].scale >= CK_SCALE_NANO) {
            struct ck_quantity back = must_parse(buf);
            assert_int_equal(ck_quantity_cmp(&back, &q), 0);
        }
    }
    struct ck_quantity m = ck_quantity_from_milli(1500, DSI);
    assert_int_equal(ck_quantity_milli_value(&m), 1500);
    struct ck_quantity zero;
    memset(&zero, 0, sizeof(zero));
    assert_true(ck_quantity_is_zero(&zero));
    assert_string_equal(fmt(&zero, buf), "0");
}

/* upstream TestQuantityCmp and TestQuantityCmpInt64AndDec */
static void cmp_is_exact_across_scales(void **state)
{
    (void)state;
    static const struct {
        int64_t av;
        int32_t as;
        int64_t bv;
        int32_t bs;
        int want;
    } table[] = {
        {901, -2, 901, -2, 0},
        {90, -1, 901, -2, -1},
        {901, -2, 900, -2, 1},
        {0, 1, 0, -1, 0},
        {800, -3, 1, 0, -1},
        {800, -3, 79, -2, 1},
        {INT64_MAX, 0, 1, -1, 1},
        {INT64_MAX, 1, 1, 1, 1},
        {INT64_MAX, -16, 1, 3, -1},
        {INT64_MIN, 0, 0, 0, -1},
        {INT64_MIN, -18, -1, 0, -1},
        {INT64_MIN, -19, -1, 0, 1},
        {1000000000000000000, -17, 1, 1, 0},
        {1000000000000000000, -17, -10, 0, 1},
        {-1000000000000000000, -17, -10, 0, 0},
        {1000000000000000001, -17, 1, 1, 1},
        {999999999999999999, -17, 1, 1, -1},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_quantity a = ck_quantity_from_scaled(table[i].av, table[i].as, DSI);
        struct ck_quantity b = ck_quantity_from_scaled(table[i].bv, table[i].bs, DSI);
        if (ck_quantity_cmp(&a, &b) != table[i].want || ck_quantity_cmp(&b, &a) != -table[i].want)
            fail_msg("row %zu: cmp wrong", i);
    }
    static const struct {
        const char *a, *b;
        int want;
    } parsed[] = {
        {"0", "0", 0},           {"100m", "50m", 1},       {"50m", "100m", -1},
        {"10000T", "100Gi", 1},  {"1Gi", "1073741824", 0}, {"1e3", "1k", 0},
        {"-1Ki", "-1k", -1},     {"1e100", "1e99", 1},     {"1e-9", "0", 1},
        {"1n", "-1E", 1},        {"1e200", "5n", 1},       {"-1e200", "-5n", -1},
        {"123e200", "1e202", 1}, {"99e200", "1e202", -1},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(parsed); i++) {
        struct ck_quantity a = must_parse(parsed[i].a), b = must_parse(parsed[i].b);
        if (ck_quantity_cmp(&a, &b) != parsed[i].want)
            fail_msg("%s vs %s: cmp wrong", parsed[i].a, parsed[i].b);
    }
    struct ck_quantity q = must_parse("1023");
    assert_int_equal(ck_quantity_cmp_int64(&q, 1024), -1);
    assert_int_equal(ck_quantity_sign(&q), 1);
    ck_quantity_neg(&q);
    assert_int_equal(ck_quantity_sign(&q), -1);
}

/* upstream TestAdd, TestSub, TestQuantityAddZeroPreservesSuffix, ...SubZero... */
static void add_sub_keep_formats_and_exactness(void **state)
{
    (void)state;
    char buf[CK_QUANTITY_STR_MAX];
    static const struct {
        const char *a, *b, *sum, *diff;
    } table[] = {
        {"10", "1e1", "20", "0"},
        {"10", "1Ki", "1034", "-1014"},
        {"10Ki", "1", "10241", "10239"},
        {"0", "50", "50", "-50"},
        {"50", "0", "50", "50"},
        {"100m", "0", "100m", "100m"},
        {"0", "100m", "100m", "-100m"},
        {"1Gi", "0", "1Gi", "1Gi"},
        {"0", "1Gi", "1Gi", "-1Gi"},
        {"1Gi", "1Gi", "2Gi", "0"},
        {"512Mi", "512Mi", "1Gi", "0"},
        {"1", "1n", "1000000001n", "999999999n"},
        {"1E", "1n", "1000000000000000000000000001n", "999999999999999999999999999n"},
        {"9223372036854775807", "1", "9223372036854775808", "9223372036854775806"},
        {"1e3", "1e3", "2e3", "0"},
        {"-1", "1", "0", "-2"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_quantity a = must_parse(table[i].a), b = must_parse(table[i].b);
        struct ck_quantity s = a, d = a;
        assert_int_equal(ck_quantity_add(&s, &b), 0);
        assert_int_equal(ck_quantity_sub(&d, &b), 0);
        if (strcmp(fmt(&s, buf), table[i].sum) != 0)
            fail_msg("%s + %s = %s, want %s", table[i].a, table[i].b, buf, table[i].sum);
        if (strcmp(fmt(&d, buf), table[i].diff) != 0)
            fail_msg("%s - %s = %s, want %s", table[i].a, table[i].b, buf, table[i].diff);
    }
    /* adding to itself */
    struct ck_quantity q = must_parse("1536Mi");
    assert_int_equal(ck_quantity_add(&q, &q), 0);
    assert_string_equal(fmt(&q, buf), "3Gi");
    /* sums of random scaled values cancel exactly (upstream TestAddSubRoundTripAcrossScales) */
    struct ck_quantity acc = ck_quantity_from_int64(0, DSI);
    int64_t vals[100];
    srand(42);
    for (int i = 0; i < 100; i++) {
        vals[i] = ((int64_t)rand() << 31) ^ rand();
        struct ck_quantity t = ck_quantity_from_scaled(vals[i], (int32_t)(vals[i] % 20 - 10), DSI);
        assert_int_equal(ck_quantity_add(&acc, &t), 0);
    }
    for (int i = 0; i < 100; i++) {
        struct ck_quantity t = ck_quantity_from_scaled(vals[i], (int32_t)(vals[i] % 20 - 10), DSI);
        assert_int_equal(ck_quantity_sub(&acc, &t), 0);
    }
    assert_true(ck_quantity_is_zero(&acc));
    /* beyond our width: -ERANGE and q unchanged */
    struct ck_quantity huge = must_parse("1e100"), tiny = must_parse("1n");
    assert_int_equal(ck_quantity_add(&huge, &tiny), -ERANGE);
    assert_string_equal(fmt(&huge, buf), "10e99");
}

static void neg_and_mul(void **state)
{
    (void)state;
    char buf[CK_QUANTITY_STR_MAX];
    struct ck_quantity q = ck_quantity_from_scaled(901, -2, DSI);
    ck_quantity_neg(&q);
    assert_string_equal(fmt(&q, buf), "-9010m");
    struct ck_quantity z = must_parse("0");
    ck_quantity_neg(&z);
    assert_string_equal(fmt(&z, buf), "0"); /* never "-0" */
    struct ck_quantity mn = ck_quantity_from_int64(INT64_MIN, DSI);
    ck_quantity_neg(&mn);
    assert_string_equal(fmt(&mn, buf), "9223372036854775808");

    static const struct {
        int64_t a, y;
        const char *out;
    } table[] = {
        {10, 10, "100"},
        {10, -10, "-100"},
        {-50, -50, "2500"},
        {50, 0, "0"},
        {INT64_MAX, 2, "18446744073709551614"},
        {INT64_MIN, -1, "9223372036854775808"},
        {INT64_MIN, -10, "92233720368547758080"},
        {INT64_MAX, INT64_MAX, "85070591730234615847396907784232501249"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_quantity m = ck_quantity_from_int64(table[i].a, DSI);
        assert_int_equal(ck_quantity_mul(&m, table[i].y), 0);
        assert_string_equal(fmt(&m, buf), table[i].out);
    }
    struct ck_quantity bi = must_parse("3Gi");
    assert_int_equal(ck_quantity_mul(&bi, 2), 0);
    assert_string_equal(fmt(&bi, buf), "6Gi");
    /* past Ei there is no binary suffix: larger multiples stay on Ei */
    struct ck_quantity ei = must_parse("4Ei");
    assert_int_equal(ck_quantity_mul(&ei, 1024), 0);
    assert_string_equal(fmt(&ei, buf), "4096Ei");
    struct ck_quantity over = ck_quantity_from_int64(INT64_MAX, DSI);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ck_quantity_mul(&over, INT64_MAX), 0);
    struct ck_quantity before = over;
    assert_int_equal(ck_quantity_mul(&over, INT64_MAX), -ERANGE); /* 2^378 > 320 bits */
    assert_int_equal(ck_quantity_cmp(&over, &before), 0);
}

/* upstream TestQuantityRoundUp */
static void round_up_away_from_zero(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int32_t scale;
        int64_t mant;
        int32_t exp;
        bool exact;
    } table[] = {
        {"9.01", -3, 901, -2, true},   {"9.01", -2, 901, -2, true},   {"9.01", -1, 91, -1, false},
        {"9.01", 0, 10, 0, false},     {"9.01", 1, 10, 0, false},     {"9.01", 2, 100, 0, false},
        {"-9.01", -3, -901, -2, true}, {"-9.01", -1, -91, -1, false}, {"-9.01", 0, -10, 0, false},
        {"-9.01", 2, -100, 0, false},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_quantity q = must_parse(table[i].in);
        struct ck_quantity want = ck_quantity_from_scaled(table[i].mant, table[i].exp, DSI);
        assert_int_equal(ck_quantity_round_up(&q, table[i].scale), table[i].exact);
        if (ck_quantity_cmp(&q, &want) != 0)
            fail_msg("%s round_up(%d) wrong", table[i].in, table[i].scale);
    }
}

/* upstream TestScaledValue plus Value/MilliValue rounding up */
static void scaled_values_round_up(void **state)
{
    (void)state;
    static const struct {
        int32_t from, to;
        int64_t want;
    } table[] = {
        {-9, -9, 1},   {-9, -6, 1},       {-9, -3, 1},    {-9, 0, 1}, {-6, -9, 1000},
        {-6, -3, 1},   {-3, -9, 1000000}, {-3, -6, 1000}, {-3, 0, 1}, {0, -9, 1000000000},
        {0, -3, 1000}, {0, 0, 1},         {2, -2, 10000},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        struct ck_quantity q = ck_quantity_from_scaled(1, table[i].from, DSI);
        int64_t v = -1;
        assert_int_equal(ck_quantity_scaled_value(&q, table[i].to, &v), 0);
        assert_int_equal(v, table[i].want);
    }
    static const struct {
        const char *in;
        int64_t value, milli;
    } vals[] = {
        {"1.5", 2, 1500},
        {"100m", 1, 100},
        {"1n", 1, 1},
        {"-1.5", -2, -1500},
        {"-1n", -1, -1},
        {"1Gi", 1073741824, 1073741824000},
        {"0.0001", 1, 1},
        {"2000m", 2, 2000},
        {"1.0001m", 1, 2},
        {"12E", INT64_MAX, INT64_MAX}, /* upstream overflows silently; we saturate */
        {"-12E", INT64_MIN, INT64_MIN},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(vals); i++) {
        struct ck_quantity q = must_parse(vals[i].in);
        if (ck_quantity_value(&q) != vals[i].value || ck_quantity_milli_value(&q) != vals[i].milli)
            fail_msg("%s: value %lld milli %lld", vals[i].in, (long long)ck_quantity_value(&q),
                     (long long)ck_quantity_milli_value(&q));
    }
    struct ck_quantity big = must_parse("9223372036854775808");
    int64_t v;
    assert_int_equal(ck_quantity_scaled_value(&big, 0, &v), -ERANGE);
    struct ck_quantity min = must_parse("-9223372036854775808");
    assert_int_equal(ck_quantity_scaled_value(&min, 0, &v), 0);
    assert_int_equal(v, INT64_MIN);
    struct ck_quantity f = must_parse("1.1Ki");
    assert_true(ck_quantity_as_float64(&f) == 1126.4);
    struct ck_quantity g = must_parse("2Gi");
    assert_true(ck_quantity_as_float64(&g) == 2147483648.0);
}

static void json_accepts_strings_and_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *json, *out;
    } table[] = {
        {"\" 1\"", "1"},      {"\"1 \"", "1"},   {"1", "1"},         {"10", "10"},
        {"-1", "-1"},         {"0.5", "500m"},   {"1.5", "1500m"},   {"1000", "1k"},
        {"2.5e-7", "250e-9"}, {"1e21", "1e+21"}, {"\"2Gi\"", "2Gi"}, {"0.1", "100m"},
        {"null", "0"},
    };
    char buf[CK_QUANTITY_STR_MAX];
    for (size_t i = 0; i < CK_ARRAY_SIZE(table); i++) {
        cJSON *j = cJSON_Parse(table[i].json);
        assert_non_null(j);
        struct ck_quantity q;
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(ck_quantity_parse_json(j, &q, &err), 0);
        if (strcmp(fmt(&q, buf), table[i].out) != 0)
            fail_msg("%s: got %s want %s", table[i].json, buf, table[i].out);
        cJSON_Delete(j);
    }
    static const char *const bad[] = {"true", "{}", "[1]", "\"\"", "\"1 Gi\""};
    for (size_t i = 0; i < CK_ARRAY_SIZE(bad); i++) {
        cJSON *j = cJSON_Parse(bad[i]);
        struct ck_quantity q;
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(ck_quantity_parse_json(j, &q, &err), -EINVAL);
        assert_string_equal(err.message, err_format);
        cJSON_Delete(j);
    }
    struct ck_quantity q = must_parse("1536Mi");
    cJSON *out = ck_quantity_to_json(&q);
    assert_string_equal(cJSON_GetStringValue(out), "1536Mi");
    cJSON_Delete(out);
    CK_AUTOFREE char *s = ck_quantity_to_string(&q);
    assert_string_equal(s, "1536Mi");
}

static void format_reports_short_buffers(void **state)
{
    (void)state;
    struct ck_quantity q = must_parse("123456789");
    char small[5];
    assert_int_equal(ck_quantity_format(&q, small, sizeof(small)), -ENOSPC);
    assert_string_equal(small, "1234");
    /* the longest value we can hold fits CK_QUANTITY_STR_MAX */
    struct ck_quantity big = ck_quantity_from_int64(-INT64_MAX, DSI);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ck_quantity_mul(&big, INT64_MAX), 0);
    struct ck_quantity n = ck_quantity_from_scaled(1, INT32_MIN, DSI);
    assert_int_equal(ck_quantity_add(&n, &n), 0);
    char buf[CK_QUANTITY_STR_MAX];
    assert_int_equal(ck_quantity_format(&big, buf, sizeof(buf)), 0);
    assert_int_equal(strlen(buf), 96);
    assert_int_equal(ck_quantity_format(&n, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "20e-2147483649");
}

/* Whatever the input, parsing never crashes, and whatever parses prints a string that
 * parses back to the same value. */
static void random_inputs_round_trip(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789..+-eEinumkKMGTPi 0";
    srand(7);
    int parsed = 0;
    for (int iter = 0; iter < 20000; iter++) {
        char in[24];
        int len = rand() % 12;
        for (int i = 0; i < len; i++)
            in[i] = alphabet[rand() % (sizeof(alphabet) - 1)];
        in[len] = '\0';
        struct ck_quantity q;
        if (ck_quantity_parse(in, &q, NULL) < 0)
            continue;
        parsed++;
        char buf[CK_QUANTITY_STR_MAX];
        assert_int_equal(ck_quantity_format(&q, buf, sizeof(buf)), 0);
        struct ck_quantity back;
        if (ck_quantity_parse(buf, &back, NULL) < 0 || ck_quantity_cmp(&q, &back) != 0)
            fail_msg("%s -> %s does not round trip", in, buf);
    }
    assert_true(parsed > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_emits_upstream_string),
        cmocka_unit_test(parse_keeps_canonical_looking_input),
        cmocka_unit_test(parse_gives_exact_values),
        cmocka_unit_test(parse_rejects_as_upstream),
        cmocka_unit_test(constructors_print_canonically),
        cmocka_unit_test(cmp_is_exact_across_scales),
        cmocka_unit_test(add_sub_keep_formats_and_exactness),
        cmocka_unit_test(neg_and_mul),
        cmocka_unit_test(round_up_away_from_zero),
        cmocka_unit_test(scaled_values_round_up),
        cmocka_unit_test(json_accepts_strings_and_numbers),
        cmocka_unit_test(format_reports_short_buffers),
        cmocka_unit_test(random_inputs_round_trip),
    };
    return cmocka_run_group_tests_name("quantity", tests, NULL, NULL);
}
