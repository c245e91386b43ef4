/* Unit tests for timeutil.c: metav1.Time/MicroTime text, Go's time.Parse errors, Go durations
 * and upstream's human-readable ages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "error.h"
#include "mem.h"
#include "timeutil.h"

#define T2026 1795356000 /* 2026-11-22T14:00:00Z */

static void formats_metav1_time_and_microtime(void **state)
{
    (void)state;
    static const struct {
        int64_t sec;
        long nsec;
        const char *time, *micro;
    } cases[] = {
        {T2026, 0, "2026-11-22T14:00:00Z", "2026-11-22T14:00:00.000000Z"},
        /* the fraction is truncated, never rounded */
        {T2026, 999999999, "2026-11-22T14:00:00Z", "2026-11-22T14:00:00.999999Z"},
        {T2026, 123456789, "2026-11-22T14:00:00Z", "2026-11-22T14:00:00.123456Z"},
        {0, 0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000Z"},
        {-1, 500000000, "1969-12-31T23:59:59Z", "1969-12-31T23:59:59.500000Z"},
        {951782400, 0, "2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000000Z"},
        {-62167219200, 0, "0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000000Z"},
        {253402300799, 0, "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000000Z"},
    };
    char out[CK_TIME_BUFSZ];
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct timespec ts = {.tv_sec = cases[i].sec, .tv_nsec = cases[i].nsec};
        assert_int_equal(ck_time_format(&ts, out), 0);
        assert_string_equal(out, cases[i].time);
        assert_int_equal(ck_microtime_format(&ts, out), 0);
        assert_string_equal(out, cases[i].micro);
    }
    struct timespec far = {.tv_sec = 253402300800, .tv_nsec = 0}; /* year 10000 */
    assert_int_equal(ck_time_format(&far, out), -ERANGE);
    struct timespec ancient = {.tv_sec = -62167219201, .tv_nsec = 0}; /* year -1 */
    assert_int_equal(ck_time_format(&ancient, out), -ERANGE);
    struct timespec huge = {.tv_sec = INT64_MAX, .tv_nsec = 0};
    assert_int_equal(ck_microtime_format(&huge, out), -ERANGE);
    struct timespec bad = {.tv_sec = 0, .tv_nsec = 1000000000};
    assert_int_equal(ck_time_format(&bad, out), -EINVAL);
    assert_int_equal(ck_microtime_format(NULL, out), -EINVAL);
}

static void parses_rfc3339_into_utc(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t sec;
        long nsec;
    } cases[] = {
        {"2026-11-22T14:00:00Z", T2026, 0},
        {"2026-11-22T15:00:00+01:00", T2026, 0},
        {"2026-11-22T09:30:00-04:30", T2026, 0},
        {"2026-11-23T00:00:00+10:00", T2026, 0},
        {"2026-11-22T14:00:00.5Z", T2026, 500000000},
        {"2026-11-22T14:00:00,25Z", T2026, 250000000},            /* Go also takes a comma */
        {"2026-11-22T14:00:00.1234567891234Z", T2026, 123456789}, /* beyond 9 digits ignored */
        {"2026-11-22T4:00:00Z", T2026 - 10 * 3600, 0},       /* Go's layout takes a 1-digit hour */
        {"2026-11-22T14:00:00+24:00", T2026 - 24 * 3600, 0}, /* Go accepts offsets up to 24h */
        {"2024-02-29T00:00:00Z", 1709164800, 0},
        {"0000-01-01T00:00:00Z", -62167219200, 0},
        {"9999-12-31T23:59:59Z", 253402300799, 0},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct timespec ts = {0, 0};
        struct ck_error err = CK_ERROR_INIT;
        if (ck_time_parse(cases[i].in, &ts, &err) != 0)
            fail_msg("%s: %s", cases[i].in, err.message);
        assert_int_equal(ts.tv_sec, cases[i].sec);
        assert_int_equal(ts.tv_nsec, cases[i].nsec);
    }
}

static void parse_errors_are_gos(void **state)
{
    (void)state;
    static const struct {
        const char *in, *msg;
    } cases[] = {
        {"", "parsing time \"\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"2006\""},
        {"26-11-22T14:00:00Z", "parsing time \"26-11-22T14:00:00Z\" as "
                               "\"2006-01-02T15:04:05Z07:00\": cannot parse "
                               "\"26-11-22T14:00:00Z\" as \"2006\""},
        {"2026-1-22T14:00:00Z", "parsing time \"2026-1-22T14:00:00Z\" as "
                                "\"2006-01-02T15:04:05Z07:00\": cannot parse \"1-22T14:00:00Z\" "
                                "as \"01\""},
        {"2026-13-01T00:00:00Z", "parsing time \"2026-13-01T00:00:00Z\": month out of range"},
        {"2023-02-29T00:00:00Z", "parsing time \"2023-02-29T00:00:00Z\": day out of range"},
        {"2026-04-31T00:00:00Z", "parsing time \"2026-04-31T00:00:00Z\": day out of range"},
        {"2026-11-22 14:00:00Z", "parsing time \"2026-11-22 14:00:00Z\" as "
                                 "\"2006-01-02T15:04:05Z07:00\": cannot parse \" 14:00:00Z\" as "
                                 "\"T\""},
        {"2026-11-22t14:00:00Z", "parsing time \"2026-11-22t14:00:00Z\" as "
                                 "\"2006-01-02T15:04:05Z07:00\": cannot parse \"t14:00:00Z\" as "
                                 "\"T\""},
        {"2026-11-22T24:00:00Z", "parsing time \"2026-11-22T24:00:00Z\": hour out of range"},
        {"2026-11-22T14:60:00Z", "parsing time \"2026-11-22T14:60:00Z\": minute out of range"},
        {"2026-11-22T23:59:60Z", "parsing time \"2026-11-22T23:59:60Z\": second out of range"},
        {"2026-11-22T14:00:00z", "parsing time \"2026-11-22T14:00:00z\" as "
                                 "\"2006-01-02T15:04:05Z07:00\": cannot parse \"z\" as "
                                 "\"Z07:00\""},
        {"2026-11-22T14:00:00", "parsing time \"2026-11-22T14:00:00\" as "
                                "\"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"Z07:00\""},
        {"2026-11-22T14:00:00+0100", "parsing time \"2026-11-22T14:00:00+0100\" as "
                                     "\"2006-01-02T15:04:05Z07:00\": cannot parse \"+0100\" as "
                                     "\"Z07:00\""},
        {"2026-11-22T14:00:00+25:00",
         "parsing time \"2026-11-22T14:00:00+25:00\": time zone offset hour out of range"},
        {"2026-11-22T14:00:00Zjunk",
         "parsing time \"2026-11-22T14:00:00Zjunk\": extra text: \"junk\""},
        {"2026-11-22T14:00:00Z\xc3\xa9",
         "parsing time \"2026-11-22T14:00:00Z\\xc3\\xa9\": extra text: \"\\xc3\\xa9\""},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct timespec ts;
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(ck_time_parse(cases[i].in, &ts, &err), -EINVAL);
        assert_int_equal(err.code, 400);
        if (strcmp(err.message, cases[i].msg) != 0)
            fail_msg("case %zu: got [%s], want [%s]", i, err.message, cases[i].msg);
    }
    assert_int_equal(ck_time_parse(NULL, NULL, NULL), -EINVAL);
}

static void microtime_needs_six_digits(void **state)
{
    (void)state;
    struct timespec ts;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_microtime_parse("2026-11-22T14:00:00.123456Z", &ts, &err), 0);
    assert_int_equal(ts.tv_sec, T2026);
    assert_int_equal(ts.tv_nsec, 123456000);
    assert_int_equal(ck_microtime_parse("2026-11-22T15:00:00.000001+01:00", &ts, &err), 0);
    assert_int_equal(ts.tv_sec, T2026);
    assert_int_equal(ts.tv_nsec, 1000);
    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"2026-11-22T14:00:00Z", "parsing time \"2026-11-22T14:00:00Z\" as "
                                 "\"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as "
                                 "\".000000\""},
        {"2026-11-22T14:00:00.123Z", "parsing time \"2026-11-22T14:00:00.123Z\" as "
                                     "\"2006-01-02T15:04:05.000000Z07:00\": cannot parse "
                                     "\".123Z\" as \".000000\""},
        {"2026-11-22T14:00:00.123456789Z", "parsing time \"2026-11-22T14:00:00.123456789Z\" as "
                                           "\"2006-01-02T15:04:05.000000Z07:00\": cannot parse "
                                           "\"789Z\" as \"Z07:00\""},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(bad); i++) {
        assert_int_equal(ck_microtime_parse(bad[i].in, &ts, &err), -EINVAL);
        assert_string_equal(err.message, bad[i].msg);
    }
    /* what we format, we parse back */
    char out[CK_TIME_BUFSZ];
    struct timespec t0 = {.tv_sec = T2026 + 7, .tv_nsec = 654321000}, t1;
    ck_microtime_format(&t0, out);
    assert_int_equal(ck_microtime_parse(out, &t1, NULL), 0);
    assert_int_equal(t1.tv_sec, t0.tv_sec);
    assert_int_equal(t1.tv_nsec, t0.tv_nsec);
    ck_time_format(&t0, out);
    assert_int_equal(ck_time_parse(out, &t1, NULL), 0);
    assert_int_equal(t1.tv_sec, t0.tv_sec);
    assert_int_equal(t1.tv_nsec, 0);
}

static void parses_go_durations(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t ns;
    } cases[] = {
        {"5m30s", 330 * CK_SECOND},
        {"1h", CK_HOUR},
        {"300ms", 300000000},
        {"1.5h", 90 * CK_MINUTE},
        {"-2s", -2 * CK_SECOND},
        {"+5s", 5 * CK_SECOND},
        {"1h2m3.5s", 3723 * CK_SECOND + 500000000},
        {"0", 0},
        {"-0", 0},
        {"0s", 0},
        {".5s", 500000000},
        {"5.s", 5 * CK_SECOND},
        {"1us", 1000},
        {"1\xc2\xb5s", 1000}, /* U+00B5 micro sign */
        {"1\xce\xbcs", 1000}, /* U+03BC Greek mu */
        {"7ns", 7},
        {"1.0000000001s", CK_SECOND}, /* below a nanosecond is dropped */
        {"2562047h47m16.854775807s", INT64_MAX},
        {"-2562047h47m16.854775808s", INT64_MIN},
        {"9223372036854775807ns", INT64_MAX},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        int64_t ns = 42;
        struct ck_error err = CK_ERROR_INIT;
        if (ck_duration_parse(cases[i].in, &ns, &err) != 0)
            fail_msg("%s: %s", cases[i].in, err.message);
        if (ns != cases[i].ns)
            fail_msg("%s: got %lld", cases[i].in, (long long)ns);
    }
}

static void duration_errors_are_gos(void **state)
{
    (void)state;
    static const struct {
        const char *in, *msg;
    } cases[] = {
        {"x", "time: invalid duration \"x\""},
        {"", "time: invalid duration \"\""},
        {"-", "time: invalid duration \"-\""},
        {".s", "time: invalid duration \".s\""},
        {"5", "time: missing unit in duration \"5\""},
        {"00", "time: missing unit in duration \"00\""},
        {"5ms3", "time: missing unit in duration \"5ms3\""},
        {"5d", "time: unknown unit \"d\" in duration \"5d\""},
        {"1h 2m", "time: unknown unit \"h \" in duration \"1h 2m\""},
        {"1e3s", "time: unknown unit \"e\" in duration \"1e3s\""},
        {"3\x01", "time: unknown unit \"\\x01\" in duration \"3\\x01\""},
        {"1\"s", "time: unknown unit \"\\\"s\" in duration \"1\\\"s\""},
        {"9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\""},
        {"2562047h47m16.854775808s", "time: invalid duration \"2562047h47m16.854775808s\""},
        {"99999999999999999999s", "time: invalid duration \"99999999999999999999s\""},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        int64_t ns;
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(ck_duration_parse(cases[i].in, &ns, &err), -EINVAL);
        assert_int_equal(err.code, 400);
        if (strcmp(err.message, cases[i].msg) != 0)
            fail_msg("case %zu: got [%s], want [%s]", i, err.message, cases[i].msg);
    }
}

static void formats_go_durations(void **state)
{
    (void)state;
    static const struct {
        int64_t ns;
        const char *want;
    } cases[] = {
        {0, "0s"},
        {1, "1ns"},
        {999, "999ns"},
        {1000, "1\xc2\xb5s"},
        {1100, "1.1\xc2\xb5s"},
        {2200000, "2.2ms"},
        {300000000, "300ms"},
        {999999999, "999.999999ms"},
        {1500000000, "1.5s"},
        {60 * CK_SECOND, "1m0s"},
        {61 * CK_SECOND, "1m1s"},
        {330 * CK_SECOND, "5m30s"},
        {CK_HOUR, "1h0m0s"},
        {3723 * CK_SECOND + 500000000, "1h2m3.5s"},
        {-2 * CK_SECOND, "-2s"},
        {-1, "-1ns"},
        {INT64_MAX, "2562047h47m16.854775807s"},
        {INT64_MIN, "-2562047h47m16.854775808s"},
    };
    char out[CK_DURATION_BUFSZ];
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        ck_duration_format(cases[i].ns, out);
        assert_string_equal(out, cases[i].want);
        /* Go's String output parses back to the same duration */
        int64_t back;
        assert_int_equal(ck_duration_parse(out, &back, NULL), 0);
        assert_true(back == cases[i].ns);
    }
}

static void human_duration_matches_upstream(void **state)
{
    (void)state;
    /* upstream's duration_test.go boundary tables */
    const int64_t S = CK_SECOND, M = CK_MINUTE, H = CK_HOUR, MS = 1000000, D = 24 * CK_HOUR;
    const int64_t Y = 365 * D;
    const struct {
        int64_t ns;
        const char *want;
    } human[] = {
        {S, "1s"},
        {70 * S, "70s"},
        {190 * S, "3m10s"},
        {70 * M, "70m"},
        {47 * H, "47h"},
        {49 * H, "2d1h"},
        {(8 * 24 + 2) * H, "8d"},
        {367 * D, "367d"},
        {(365 * 2 * 24 + 25) * H, "2y1d"},
        {(365 * 8 * 24 + 2) * H, "8y"},
        {-2 * S, "<invalid>"},
        {-2 * S + 1, "0s"},
        {0, "0s"},
        {S - MS, "0s"},
        {2 * M - MS, "119s"},
        {2 * M, "2m"},
        {2 * M + S, "2m1s"},
        {10 * M - MS, "9m59s"},
        {10 * M, "10m"},
        {10 * M + S, "10m"},
        {3 * H - MS, "179m"},
        {3 * H, "3h"},
        {3 * H + M, "3h1m"},
        {8 * H - MS, "7h59m"},
        {8 * H, "8h"},
        {8 * H + 59 * M, "8h"},
        {2 * D - MS, "47h"},
        {2 * D, "2d"},
        {2 * D + H, "2d1h"},
        {8 * D - MS, "7d23h"},
        {8 * D, "8d"},
        {8 * D + 23 * H, "8d"},
        {2 * Y - MS, "729d"},
        {2 * Y, "2y"},
        {2 * Y + 24 * H - MS, "2y"},
        {2 * Y + 24 * H, "2y1d"},
        {3 * Y, "3y"},
        {8 * Y - MS, "7y364d"},
        {8 * Y, "8y"},
        {8 * Y + 364 * D, "8y"},
        {9 * Y, "9y"},
    };
    const struct {
        int64_t ns;
        const char *want;
    } shorter[] = {
        {-2 * S, "<invalid>"}, {-2 * S + 1, "0s"}, {0, "0s"},
        {S - MS, "0s"},        {S, "1s"},          {2 * S - MS, "1s"},
        {M - MS, "59s"},       {M, "1m"},          {2 * M - MS, "1m"},
        {H - MS, "59m"},       {H, "1h"},          {2 * H - MS, "1h"},
        {D - MS, "23h"},       {D, "1d"},          {2 * D - MS, "1d"},
        {Y - MS, "364d"},      {Y, "1y"},          {2 * Y - MS, "1y"},
        {2 * Y, "2y"},
    };
    char out[CK_HUMAN_BUFSZ];
    for (size_t i = 0; i < CK_ARRAY_SIZE(human); i++) {
        ck_human_duration(human[i].ns, out);
        if (strcmp(out, human[i].want) != 0)
            fail_msg("HumanDuration(%lld) = %s, want %s", (long long)human[i].ns, out,
                     human[i].want);
    }
    for (size_t i = 0; i < CK_ARRAY_SIZE(shorter); i++) {
        ck_short_human_duration(shorter[i].ns, out);
        if (strcmp(out, shorter[i].want) != 0)
            fail_msg("ShortHumanDuration(%lld) = %s, want %s", (long long)shorter[i].ns, out,
                     shorter[i].want);
    }
}

static void age_column_and_clocks(void **state)
{
    (void)state;
    char out[CK_HUMAN_BUFSZ];
    struct timespec now = {.tv_sec = T2026 + 190, .tv_nsec = 0};
    ck_human_age("2026-11-22T14:00:00Z", &now, out);
    assert_string_equal(out, "3m10s");
    ck_human_age("2026-11-22T14:00:01Z", &(struct timespec){T2026, 0}, out);
    assert_string_equal(out, "0s"); /* up to 2s of clock skew reads as now */
    ck_human_age("2026-11-22T14:00:05Z", &(struct timespec){T2026, 0}, out);
    assert_string_equal(out, "<invalid>");
    ck_human_age("", &now, out);
    assert_string_equal(out, "<unknown>");
    ck_human_age(NULL, &now, out);
    assert_string_equal(out, "<unknown>");
    ck_human_age("yesterday", &now, out);
    assert_string_equal(out, "<unknown>");

    struct timespec a = {.tv_sec = 10, .tv_nsec = 100}, b = {.tv_sec = 9, .tv_nsec = 900000000};
    assert_true(ck_time_sub_ns(&a, &b) == 100000100);
    assert_true(ck_time_sub_ns(&b, &a) == -100000100);
    struct timespec huge = {.tv_sec = INT64_MAX / 2, .tv_nsec = 0},
                    neg = {.tv_sec = -(INT64_MAX / 2)};
    assert_true(ck_time_sub_ns(&huge, &neg) == INT64_MAX);
    assert_true(ck_time_sub_ns(&neg, &huge) == INT64_MIN);

    int64_t m0 = ck_mono_ns(), m1 = ck_mono_ns();
    assert_true(m1 >= m0);
    char s[CK_TIME_BUFSZ];
    ck_time_now_string(s);
    struct timespec parsed, wall;
    assert_int_equal(ck_time_parse(s, &parsed, NULL), 0);
    ck_time_now(&wall);
    assert_true(parsed.tv_sec > 1704067200); /* after 2024-01-01 */
    assert_true(parsed.tv_sec <= wall.tv_sec);
    ck_microtime_now_string(s);
    assert_int_equal(strlen(s), 27);
    assert_int_equal(ck_microtime_parse(s, &parsed, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_metav1_time_and_microtime),
        cmocka_unit_test(parses_rfc3339_into_utc),
        cmocka_unit_test(parse_errors_are_gos),
        cmocka_unit_test(microtime_needs_six_digits),
        cmocka_unit_test(parses_go_durations),
        cmocka_unit_test(duration_errors_are_gos),
        cmocka_unit_test(formats_go_durations),
        cmocka_unit_test(human_duration_matches_upstream),
        cmocka_unit_test(age_column_and_clocks),
    };
    return cmocka_run_group_tests_name("timeutil", tests, NULL, NULL);
}
