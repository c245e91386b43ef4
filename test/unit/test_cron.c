/* Unit tests for common/cron.c: robfig/cron ParseStandard acceptance and error texts,
 * SpecSchedule.Next in UTC and across DST changes, and TZif zone loading. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "cron.h"

static const struct {
    const char *spec, *message;
} BAD[] = {
    {"", "empty spec string"},
    {"x", "expected exactly 5 fields, found 1: [x]"},
    {"* * * *", "expected exactly 5 fields, found 4: [* * * *]"},
    {"0  0 *\t* * *", "expected exactly 5 fields, found 6: [0 0 * * * *]"},
    {"60 * * * *", "end of range (60) above maximum (59): 60"},
    {"* 24 * * *", "end of range (24) above maximum (23): 24"},
    {"* * 0 * *", "beginning of range (0) below minimum (1): 0"},
    {"* * * 13 *", "end of range (13) above maximum (12): 13"},
    {"* * * * 7", "end of range (7) above maximum (6): 7"},
    {"a * * * *", "failed to parse int from a: strconv.Atoi: parsing \"a\": invalid syntax"},
    {"1- * * * *", "failed to parse int from : strconv.Atoi: parsing \"\": invalid syntax"},
    {"99999999999999999999 * * * *",
     "failed to parse int from 99999999999999999999: strconv.Atoi: parsing "
     "\"99999999999999999999\": value out of range"},
    {"5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"},
    {"*/0 * * * *", "step of range should be a positive number: */0"},
    {"1-2-3 * * * *", "too many hyphens: 1-2-3"},
    {"1/2/3 * * * *", "too many slashes: 1/2/3"},
    {"0 0 * * fun", "failed to parse int from fun: strconv.Atoi: parsing \"fun\": invalid syntax"},
    {"@sometimes", "unrecognized descriptor: @sometimes"},
    {"@hourly ", "unrecognized descriptor: @hourly "},
    {"@every x", "failed to parse duration @every x: time: invalid duration \"x\""},
    {"TZ=Mars/Base * * * * *", "provided bad location Mars/Base: unknown time zone Mars/Base"},
};

static void bad_schedules_fail_with_robfig_messages(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        struct ck_cron *c = (struct ck_cron *)1;
        struct ck_error err = CK_ERROR_INIT;
        int rc = ck_cron_parse(BAD[i].spec, &c, &err);
        if (rc != -EINVAL || strcmp(err.message, BAD[i].message))
            fail_msg("%s: rc %d, message %s", BAD[i].spec, rc, err.message);
        assert_null(c);
        assert_int_equal(err.code, 400);
        ck_error_clear(&err);
    }
}

static const char *const GOOD[] = {
    "*/15 * * * *", "0 0 * * SUN",   "0 0 1 JAN-mar *",  "@hourly",
    "@every 90s",   "? * * * *",     "*-5 * * * *", /* robfig ignores what follows a leading '*' up
                                                       to '/' */
    "1,,2 * * * *", "  0 0 * * *  ", "TZ=UTC 0 0 * * *", "@every 1h30m",
};

static void good_schedules_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(GOOD) / sizeof(GOOD[0]); i++) {
        const char *spec = GOOD[i];
        struct ck_cron *c = NULL;
        struct ck_error err = CK_ERROR_INIT;
        if (ck_cron_parse(spec, &c, &err) < 0)
            fail_msg("%s: %s", spec, err.message);
        assert_non_null(c);
        ck_cron_free(c);
    }
}

/* Unix seconds of some instants (computed independently). */
#define T_2024_01_01 INT64_C(1704067200)
#define T_2023_03_01 INT64_C(1677628800)
#define T_2024_02_29 INT64_C(1709164800)

struct next_case {
    const char *spec;
    int64_t after, next; /* next < 0: no activation (ENOENT) */
};

static const struct next_case NEXT_UTC[] = {
    {"*/15 * * * *", T_2024_01_01, T_2024_01_01 + 900},
    {"*/15 * * * *", T_2024_01_01 + 899, T_2024_01_01 + 900},
    {"*/15 * * * *", T_2024_01_01 + 900, T_2024_01_01 + 1800},
    {"0 0 29 2 *", T_2023_03_01, T_2024_02_29},
    {"0 0 30 2 *", T_2023_03_01, -1},
    /* Friday 10:00 -> Monday 09:00 */
    {"0 9 * * 1-5", INT64_C(1717754400), INT64_C(1718010000)},
    /* both day fields restricted: the 1st OR a Monday; Tue 2024-08-27 -> Sun 09-01 */
    {"0 0 1 * 1", INT64_C(1724716800), INT64_C(1725148800)},
    /* a step of 1 after '*' keeps the star: AND, so the next Monday 09-02 */
    {"0 0 */1 * 1", INT64_C(1724716800), INT64_C(1725235200)},
    {"@weekly", INT64_C(1717545600), INT64_C(1717891200)},
    {"@yearly", INT64_C(1717200000), INT64_C(1735689600)},
    {"@every 90s", 1000, 1090},
    {"@every 100ms", 1000, 1001},
    {"0 0 1 1 *", T_2024_01_01 - 1, T_2024_01_01},
};

static void next_in_utc(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(NEXT_UTC) / sizeof(NEXT_UTC[0]); i++) {
        const struct next_case *tc = &NEXT_UTC[i];
        struct ck_cron *c = NULL;
        assert_int_equal(ck_cron_parse(tc->spec, &c, NULL), 0);
        int64_t next = 0;
        int rc = ck_cron_next(c, tc->after, &next);
        if (tc->next < 0) {
            if (rc != -ENOENT)
                fail_msg("%s after %lld: rc %d next %lld", tc->spec, (long long)tc->after, rc,
                         (long long)next);
        } else if (rc != 0 || next != tc->next) {
            fail_msg("%s after %lld: rc %d next %lld, want %lld", tc->spec, (long long)tc->after,
                     rc, (long long)next, (long long)tc->next);
        }
        ck_cron_free(c);
    }
}

static void next_rejects_out_of_range_instants(void **state)
{
    (void)state;
    struct ck_cron *c = NULL;
    assert_int_equal(ck_cron_parse("* * * * *", &c, NULL), 0);
    int64_t next;
    assert_int_equal(ck_cron_next(c, INT64_MAX, &next), -ERANGE);
    assert_int_equal(ck_cron_next(c, INT64_MIN, &next), -ERANGE);
    ck_cron_free(c);
}

static bool have_zoneinfo(void)
{
    return access("/usr/share/zoneinfo/America/New_York", R_OK) == 0 &&
           access("/usr/share/zoneinfo/Australia/Sydney", R_OK) == 0;
}

static const struct next_case NEXT_NY[] = {
    /* 02:30 EST on 03-09 */
    {"TZ=America/New_York 30 2 * * *", INT64_C(1709899200), INT64_C(1709969400)},
    /* 02:30 does not exist on 03-10 (spring forward): the next run is 02:30 EDT on 03-11 */
    {"TZ=America/New_York 30 2 * * *", INT64_C(1709971200), INT64_C(1710138600)},
    /* 01:30 happens twice on 11-03 (fall back): once in EDT ... */
    {"CRON_TZ=America/New_York 30 1 * * *", INT64_C(1730606400), INT64_C(1730611800)},
    /* ... and again in EST */
    {"CRON_TZ=America/New_York 30 1 * * *", INT64_C(1730611800), INT64_C(1730615400)},
};

static void next_follows_the_zone_across_dst(void **state)
{
    (void)state;
    if (!have_zoneinfo())
        skip();
    for (size_t i = 0; i < sizeof(NEXT_NY) / sizeof(NEXT_NY[0]); i++) {
        const struct next_case *tc = &NEXT_NY[i];
        struct ck_cron *c = NULL;
        struct ck_error err = CK_ERROR_INIT;
        if (ck_cron_parse(tc->spec, &c, &err) < 0)
            fail_msg("%s: %s", tc->spec, err.message);
        assert_string_equal(ck_tz_name(ck_cron_tz(c)), "America/New_York");
        int64_t next = 0;
        int rc = ck_cron_next(c, tc->after, &next);
        if (rc != 0 || next != tc->next)
            fail_msg("case %zu: rc %d next %lld, want %lld", i, rc, (long long)next,
                     (long long)tc->next);
        ck_cron_free(c);
    }
}

static void zones_give_offsets_from_transitions_and_footer(void **state)
{
    (void)state;
    if (!have_zoneinfo())
        skip();
    struct ck_tz *ny = NULL, *syd = NULL, *ber = NULL;
    assert_int_equal(ck_tz_load("America/New_York", &ny, NULL), 0);
    assert_int_equal(ck_tz_offset(ny, T_2024_01_01), -18000);
    assert_int_equal(ck_tz_offset(ny, INT64_C(1719792000)), -14400);
    /* 2100 lies beyond every transition in the file: the POSIX footer decides */
    assert_int_equal(ck_tz_offset(ny, INT64_C(4118083200)), -14400);
    assert_int_equal(ck_tz_offset(ny, INT64_C(4102444800)), -18000);
    /* southern hemisphere: summer time spans the new year */
    assert_int_equal(ck_tz_load("Australia/Sydney", &syd, NULL), 0);
    assert_int_equal(ck_tz_offset(syd, INT64_C(2524608000)), 39600);
    assert_int_equal(ck_tz_offset(syd, INT64_C(2540246400)), 36000);
    /* Berlin switches at 01:00 UTC on 2024-03-31 */
    if (ck_tz_load("Europe/Berlin", &ber, NULL) == 0) {
        assert_int_equal(ck_tz_offset(ber, INT64_C(1711846800) - 1), 3600);
        assert_int_equal(ck_tz_offset(ber, INT64_C(1711846800)), 7200);
    }
    ck_tz_free(ny);
    ck_tz_free(syd);
    ck_tz_free(ber);
}

static void zone_names_are_checked_like_go(void **state)
{
    (void)state;
    struct ck_tz *tz = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_tz_load("", &tz, NULL), 0);
    assert_string_equal(ck_tz_name(tz), "UTC");
    assert_int_equal(ck_tz_offset(tz, T_2024_01_01), 0);
    ck_tz_free(tz);
    assert_int_equal(ck_tz_load("Mars/Base", &tz, &err), -ENOENT);
    assert_string_equal(err.message, "unknown time zone Mars/Base");
    assert_null(tz);
    ck_error_clear(&err);
    assert_int_equal(ck_tz_load("../../etc/passwd", &tz, &err), -EINVAL);
    assert_string_equal(err.message, "time: invalid location name");
    ck_error_clear(&err);
    /* a file under zoneinfo that is not TZif data is no zone */
    if (access("/usr/share/zoneinfo/zone.tab", R_OK) == 0) {
        assert_int_equal(ck_tz_load("zone.tab", &tz, &err), -ENOENT);
        assert_string_equal(err.message, "unknown time zone zone.tab");
        ck_error_clear(&err);
    }
    /* a directory is no zone either */
    if (access("/usr/share/zoneinfo/America", R_OK) == 0)
        assert_int_equal(ck_tz_load("America", &tz, NULL), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_schedules_fail_with_robfig_messages),
        cmocka_unit_test(good_schedules_parse),
        cmocka_unit_test(next_in_utc),
        cmocka_unit_test(next_rejects_out_of_range_instants),
        cmocka_unit_test(next_follows_the_zone_across_dst),
        cmocka_unit_test(zones_give_offsets_from_transitions_and_footer),
        cmocka_unit_test(zone_names_are_checked_like_go),
    };
    return cmocka_run_group_tests_name("cron", tests, NULL, NULL);
}
