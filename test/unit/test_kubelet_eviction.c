/* Unit tests for kubelet/eviction.c: --eviction-hard parsed as upstream (defaults, percentages,
 * quantities, "0%"/"100%" switching a signal off, upstream's error messages), which thresholds
 * an injected machine observation meets, and the MemoryPressure / DiskPressure / PIDPressure
 * conditions they drive, with the pressure transition period. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet/eviction.h"

#define MI (1024LL * 1024)
#define GI (1024LL * MI)
#define SEC 1000000000LL

/* ---- parsing ------------------------------------------------------------------------------ */

static void defaults_are_upstreams(void **state)
{
    (void)state;
    struct kl_eviction_thresholds th;
    kl_eviction_defaults(&th);
    char *s = kl_eviction_format(&th);
    assert_string_equal(s, "memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,"
                           "imagefs.available<15%,imagefs.inodesFree<5%");
    free(s);
    assert_false(th.t[KL_SIG_PID_AVAILABLE].set);
    assert_int_equal(th.t[KL_SIG_MEMORY_AVAILABLE].quantity, 100 * MI);
}

static void flag_values_parse(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *formatted; /* NULL: an error */
        const char *error;
    } cases[] = {
        {"memory.available<100Mi,nodefs.available<10%",
         "memory.available<100Mi,nodefs.available<10%", NULL},
        /* the flag replaces every default */
        {"memory.available<1Gi", "memory.available<1Gi", NULL},
        {"", "", NULL},
        {"pid.available<1k", "pid.available<1k", NULL},
        {"pid.available<20%", "pid.available<20%", NULL},
        {" imagefs.available < 5% ", "imagefs.available<5%", NULL},
        {"nodefs.inodesFree<2.5%", "nodefs.inodesFree<2.5%", NULL},
        /* "0%" and "100%" turn a signal off */
        {"memory.available<100Mi,nodefs.available<0%", "memory.available<100Mi", NULL},
        {"nodefs.available<100%", "", NULL},
        /* the last of a repeated signal wins, as in upstream's map flag */
        {"memory.available<1Gi,memory.available<200Mi", "memory.available<200Mi", NULL},
        {"memory.available=100Mi", NULL, "malformed pair, expect string<string"},
        {"memory.available<100Mi,", "memory.available<100Mi", NULL},
        {"memory.free<100Mi", NULL, "unsupported eviction signal memory.free"},
        {"memory.available<0", NULL, "eviction threshold memory.available must be positive: 0"},
        {"memory.available<-1Mi", NULL,
         "eviction threshold memory.available must be positive: -1Mi"},
        {"nodefs.available<-5%", NULL,
         "eviction percentage threshold nodefs.available must be >= 0%: -5%"},
        {"nodefs.available<150%", NULL,
         "eviction percentage threshold nodefs.available must be <= 100%: 150%"},
        {"nodefs.available<abc%", NULL, "strconv.ParseFloat: parsing \"abc\": invalid syntax"},
        {"nodefs.available<%", NULL, "strconv.ParseFloat: parsing \"\": invalid syntax"},
        {"memory.available<lots", NULL, NULL /* the quantity parser's message */},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kl_eviction_thresholds th;
        struct ck_error err = CK_ERROR_INIT;
        int rc = kl_eviction_parse(cases[i].in, &th, &err);
        if (cases[i].formatted) {
            if (rc != 0)
                fail_msg("case %zu (%s): %s", i, cases[i].in, err.message);
            char *s = kl_eviction_format(&th);
            if (strcmp(s, cases[i].formatted) != 0)
                fail_msg("case %zu (%s): got \"%s\"", i, cases[i].in, s);
            free(s);
        } else {
            if (rc != -EINVAL)
                fail_msg("case %zu (%s): rc %d", i, cases[i].in, rc);
            if (cases[i].error && strcmp(err.message, cases[i].error) != 0)
                fail_msg("case %zu (%s): message \"%s\"", i, cases[i].in, err.message);
            assert_true(err.message[0] != '\0');
            /* nothing half-parsed is left behind */
            for (int s = 0; s < KL_SIG_COUNT; s++)
                assert_false(th.t[s].set);
        }
        ck_error_clear(&err);
    }
}

static void long_and_odd_input_is_refused_safely(void **state)
{
    (void)state;
    size_t n = 100000;
    char *big = malloc(n + 1);
    memset(big, ',', n);
    big[n] = '\0';
    struct kl_eviction_thresholds th;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_eviction_parse(big, &th, &err), -EINVAL);
    ck_error_clear(&err);
    free(big);
    assert_int_equal(kl_eviction_parse("<", &th, &err), -EINVAL);
    assert_string_equal(err.message, "unsupported eviction signal ");
    ck_error_clear(&err);
    assert_int_equal(kl_eviction_parse(NULL, &th, &err), 0);
    assert_int_equal(kl_signal_from_name(NULL), -1);
    assert_null(kl_signal_name(KL_SIG_COUNT));
    assert_string_equal(kl_signal_name(KL_SIG_PID_AVAILABLE), "pid.available");
}

/* ---- thresholds against observations ------------------------------------------------------ */

/* a healthy 16Gi node with a 100Gi disk (1M inodes) and pid_max 32768 */
static struct kl_eviction_stats healthy(void)
{
    return (struct kl_eviction_stats){
        .memory_capacity = 16 * GI,
        .memory_available = 12 * GI,
        .allocatable_memory_capacity = -1,
        .allocatable_memory_available = -1,
        .nodefs_capacity = 100 * GI,
        .nodefs_available = 60 * GI,
        .nodefs_inodes = 1000000,
        .nodefs_inodes_free = 900000,
        .imagefs_capacity = 100 * GI,
        .imagefs_available = 60 * GI,
        .imagefs_inodes = 1000000,
        .imagefs_inodes_free = 900000,
        .containerfs_capacity = -1,
        .containerfs_available = -1,
        .containerfs_inodes = -1,
        .containerfs_inodes_free = -1,
        .pid_max = 32768,
        .pid_running = 400,
    };
}

static void thresholds_met_by_observations(void **state)
{
    (void)state;
    struct kl_eviction_thresholds def;
    kl_eviction_defaults(&def);
    struct kl_eviction_thresholds pid;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_eviction_parse("pid.available<10%,memory.available<1Gi", &pid, &err), 0);
    static const struct {
        const char *name;
        int which; /* 0 defaults, 1 pid+1Gi */
        int64_t mem_avail, nodefs_avail, nodefs_ifree, imagefs_avail, pids;
        bool mem, disk, pidp;
    } cases[] = {
        {"healthy", 0, 12 * GI, 60 * GI, 900000, 60 * GI, 400, false, false, false},
        {"memory just at 100Mi is not below it", 0, 100 * MI, 60 * GI, 900000, 60 * GI, 400, false,
         false, false},
        {"memory one byte under 100Mi", 0, 100 * MI - 1, 60 * GI, 900000, 60 * GI, 400, true, false,
         false},
        /* 10% of 100Gi, as float32 times the capacity */
        {"nodefs a byte over an exact 10% is still under float32 10%", 0, 12 * GI, 10 * GI + 1,
         900000, 60 * GI, 400, false, true, false},
        {"nodefs over float32 10% is fine", 0, 12 * GI, 10 * GI + 200, 900000, 60 * GI, 400, false,
         false, false},
        {"nodefs under 10%", 0, 12 * GI, 9 * GI, 900000, 60 * GI, 400, false, true, false},
        {"nodefs inodes under 5%", 0, 12 * GI, 60 * GI, 49999, 60 * GI, 400, false, true, false},
        {"imagefs under 15% (nodefs fine)", 0, 12 * GI, 60 * GI, 900000, 14 * GI, 400, false, true,
         false},
        {"pids without a pid threshold", 0, 12 * GI, 60 * GI, 900000, 60 * GI, 32000, false, false,
         false},
        {"pid.available under 10% of pid_max", 1, 12 * GI, 60 * GI, 900000, 60 * GI, 30000, false,
         false, true},
        {"memory under a 1Gi flag value", 1, 900 * MI, 60 * GI, 900000, 60 * GI, 400, true, false,
         false},
        {"a replaced default does not apply", 1, 12 * GI, 1 * GI, 0, 1 * GI, 400, false, false,
         false},
        {"everything at once", 0, 1 * MI, 1 * GI, 0, 1 * GI, 400, true, true, false},
        /* a signal not observed never fires */
        {"memory not observed", 0, -1, 60 * GI, 900000, 60 * GI, 400, false, false, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kl_eviction_stats st = healthy();
        st.memory_available = cases[i].mem_avail;
        st.nodefs_available = cases[i].nodefs_avail;
        st.nodefs_inodes_free = cases[i].nodefs_ifree;
        st.imagefs_available = cases[i].imagefs_avail;
        st.pid_running = cases[i].pids;
        struct kl_pressure p = {0};
        kl_pressure_update(&p, cases[i].which ? &pid : &def, &st, 10 * SEC, 300 * SEC);
        if (p.memory != cases[i].mem || p.disk != cases[i].disk || p.pid != cases[i].pidp)
            fail_msg("%s: memory %d disk %d pid %d", cases[i].name, p.memory, p.disk, p.pid);
    }
}

static void percentage_amounts(void **state)
{
    (void)state;
    struct kl_threshold t = {.set = true, .is_percent = true, .percentage = (double)0.1f};
    /* float32 0.1 is a little above 0.1: upstream's amount is not exactly a tenth */
    assert_int_equal(kl_threshold_amount(&t, 1000000000), 100000001);
    assert_int_equal(kl_threshold_amount(&t, 0), 0);
    struct kl_threshold q = {.set = true, .quantity = 42};
    assert_int_equal(kl_threshold_amount(&q, -1), 42);
    struct kl_threshold off = {0};
    assert_int_equal(kl_threshold_amount(&off, 100), 0);
    /* an unknown capacity never meets a percentage */
    struct kl_eviction_thresholds def;
    kl_eviction_defaults(&def);
    struct kl_eviction_stats st = healthy();
    st.nodefs_capacity = -1;
    st.nodefs_available = 0;
    assert_false(kl_eviction_met(&def, &st, KL_SIG_NODEFS_AVAILABLE));
    assert_false(kl_eviction_met(&def, &st, (enum kl_signal)99));
}

/* ---- the conditions over time ------------------------------------------------------------- */

static void pressure_holds_for_the_transition_period(void **state)
{
    (void)state;
    struct kl_eviction_thresholds def;
    kl_eviction_defaults(&def);
    struct kl_pressure p = {0};
    struct kl_eviction_stats ok = healthy(), low = healthy();
    low.memory_available = 50 * MI;
    const int64_t period = 300 * SEC;
    static const struct {
        int64_t at_s;
        bool low;
        bool memory, changed;
    } steps[] = {
        {1, false, false, false}, /* healthy from the start: nothing changes */
        {10, true, true, true},   /* crossed: True at once */
        {20, true, true, false},   {30, false, true, false}, /* recovered, but within the period */
        {319, false, true, false}, /* 299 s after the last time it was met */
        {320, false, false, true}, /* 300 s: False again */
        {330, true, true, true},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        bool changed =
            kl_pressure_update(&p, &def, steps[i].low ? &low : &ok, steps[i].at_s * SEC, period);
        if (p.memory != steps[i].memory || changed != steps[i].changed)
            fail_msg("step %zu (t=%llds): memory %d changed %d", i, (long long)steps[i].at_s,
                     p.memory, changed);
        assert_false(p.disk);
        assert_false(p.pid);
    }
    /* a zero period drops the condition at the first healthy observation */
    struct kl_pressure q = {0};
    kl_pressure_update(&q, &def, &low, 5 * SEC, 0);
    assert_true(q.memory);
    kl_pressure_update(&q, &def, &ok, 6 * SEC, 0);
    assert_false(q.memory);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_upstreams),
        cmocka_unit_test(flag_values_parse),
        cmocka_unit_test(long_and_odd_input_is_refused_safely),
        cmocka_unit_test(thresholds_met_by_observations),
        cmocka_unit_test(percentage_amounts),
        cmocka_unit_test(pressure_holds_for_the_transition_period),
    };
    return cmocka_run_group_tests_name("kubelet eviction", tests, NULL, NULL);
}
