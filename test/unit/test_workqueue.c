/* Unit tests for workqueue.c: client-go's queue semantics (dedup, one worker per key, FIFO,
 * delays, shutdown and drain), its rate limiters (timings checked as ranges) and metrics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "metrics.h"
#include "timeutil.h"
#include "workqueue.h"

#define MS INT64_C(1000000)

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* gets a key that must be ready now and checks it */
static void expect_key(struct ck_workqueue *q, const char *want)
{
    char *k = NULL;
    assert_int_equal(ck_workqueue_get_timeout(q, 0, &k), 0);
    assert_string_equal(k, want);
    ck_workqueue_done(q, k);
    free(k);
}

static void adds_are_deduplicated_and_fifo(void **state)
{
    (void)state;
    struct ck_workqueue *q = ck_workqueue_new(NULL);
    ck_workqueue_add(q, "ns/b");
    ck_workqueue_add(q, "ns/a");
    ck_workqueue_add(q, "ns/b");
    ck_workqueue_add(q, "ns/c");
    ck_workqueue_add(q, "ns/a");
    assert_int_equal(ck_workqueue_len(q), 3);
    expect_key(q, "ns/b");
    expect_key(q, "ns/a");
    expect_key(q, "ns/c");
    char *k = NULL;
    assert_int_equal(ck_workqueue_get_timeout(q, 20 * MS, &k), -ETIMEDOUT);
    assert_null(k);
    ck_workqueue_free(q);
}

static void key_added_while_processing_waits_for_done(void **state)
{
    (void)state;
    struct ck_workqueue *q = ck_workqueue_new(NULL);
    ck_workqueue_add(q, "k");
    char *k = NULL;
    assert_int_equal(ck_workqueue_get(q, &k), 0);
    /* re-added while a worker holds it: not handed to a second worker */
    ck_workqueue_add(q, "k");
    ck_workqueue_add(q, "k");
    assert_int_equal(ck_workqueue_len(q), 0);
    char *k2 = NULL;
    assert_int_equal(ck_workqueue_get_timeout(q, 20 * MS, &k2), -ETIMEDOUT);
    ck_workqueue_done(q, k);
    free(k);
    /* ... but queued again (once) when the worker is done */
    assert_int_equal(ck_workqueue_len(q), 1);
    expect_key(q, "k");
    assert_int_equal(ck_workqueue_len(q), 0);
    /* done for a key nobody holds changes nothing */
    ck_workqueue_done(q, "other");
    assert_int_equal(ck_workqueue_len(q), 0);
    ck_workqueue_free(q);
}

/* ---- concurrency: never two workers on one key, no lost update ---- */

#define NKEYS 16
struct conc {
    struct ck_workqueue *q;
    atomic_int active[NKEYS];
    atomic_int wanted[NKEYS]; /* generation the producer asked for last */
    atomic_int seen[NKEYS];   /* generation a worker read when it processed the key */
    atomic_int overlap;
    atomic_int processed;
};

static void *worker(void *arg)
{
    struct conc *c = arg;
    char *k;
    while (ck_workqueue_get(c->q, &k) == 0) {
        int i = atoi(k + 1);
        if (atomic_fetch_add(&c->active[i], 1) != 0)
            atomic_fetch_add(&c->overlap, 1);
        atomic_store(&c->seen[i], atomic_load(&c->wanted[i]));
        if (rand() % 8 == 0)
            sleep_ms(1);
        atomic_fetch_sub(&c->active[i], 1);
        atomic_fetch_add(&c->processed, 1);
        ck_workqueue_done(c->q, k);
        free(k);
    }
    return NULL;
}

static void *producer(void *arg)
{
    struct conc *c = arg;
    for (int n = 0; n < 3000; n++) {
        int i = rand() % NKEYS;
        atomic_fetch_add(&c->wanted[i], 1);
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        ck_workqueue_add(c->q, key);
    }
    return NULL;
}

static void one_worker_per_key_and_no_lost_updates(void **state)
{
    (void)state;
    static struct conc c;
    memset(&c, 0, sizeof(c));
    c.q = ck_workqueue_new(NULL);
    pthread_t w[4], p[3];
    for (int i = 0; i < 4; i++)
        pthread_create(&w[i], NULL, worker, &c);
    for (int i = 0; i < 3; i++)
        pthread_create(&p[i], NULL, producer, &c);
    for (int i = 0; i < 3; i++)
        pthread_join(p[i], NULL);
    ck_workqueue_shutdown_with_drain(c.q);
    for (int i = 0; i < 4; i++)
        pthread_join(w[i], NULL);
    assert_int_equal(atomic_load(&c.overlap), 0);
    /* every key was processed after its last add */
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(atomic_load(&c.seen[i]), atomic_load(&c.wanted[i]));
    /* dedup: far fewer syncs than the 9000 adds would be typical, but at least one per key */
    assert_true(atomic_load(&c.processed) >= NKEYS);
    assert_true(atomic_load(&c.processed) <= 9000);
    ck_workqueue_free(c.q);
}

/* ---- shutdown ---- */

static void *blocked_getter(void *arg)
{
    char *k = NULL;
    intptr_t rc = ck_workqueue_get(arg, &k);
    free(k);
    return (void *)rc;
}

static void shutdown_hands_out_queued_keys_then_stops(void **state)
{
    (void)state;
    struct ck_workqueue *q = ck_workqueue_new(NULL);
    pthread_t t;
    pthread_create(&t, NULL, blocked_getter, q);
    sleep_ms(30);
    ck_workqueue_shutdown(q);
    void *rc;
    pthread_join(t, &rc);
    assert_int_equal((intptr_t)rc, -ESHUTDOWN); /* a blocked worker wakes up */

    q = (ck_workqueue_free(q), ck_workqueue_new(NULL));
    ck_workqueue_add(q, "a");
    ck_workqueue_add(q, "b");
    ck_workqueue_add_after(q, "later", 10 * MS);
    ck_workqueue_shutdown(q);
    assert_true(ck_workqueue_shutting_down(q));
    ck_workqueue_add(q, "c"); /* ignored */
    assert_int_equal(ck_workqueue_delayed_len(q), 0); /* delayed keys dropped */
    expect_key(q, "a");
    expect_key(q, "b");
    char *k = NULL;
    assert_int_equal(ck_workqueue_get(q, &k), -ESHUTDOWN);
    ck_workqueue_free(q);
}

static void *slow_worker(void *arg)
{
    struct ck_workqueue *q = arg;
    char *k;
    if (ck_workqueue_get(q, &k) == 0) {
        sleep_ms(150);
        ck_workqueue_done(q, k);
        free(k);
    }
    return NULL;
}

static void shutdown_with_drain_waits_for_workers(void **state)
{
    (void)state;
    struct ck_workqueue *q = ck_workqueue_new(NULL);
    ck_workqueue_add(q, "x");
    pthread_t t;
    pthread_create(&t, NULL, slow_worker, q);
    sleep_ms(20); /* the worker holds x */
    int64_t t0 = ck_mono_ns();
    ck_workqueue_shutdown_with_drain(q);
    int64_t waited = ck_mono_ns() - t0;
    assert_true(waited >= 100 * MS);
    assert_true(waited < 2000 * MS);
    pthread_join(t, NULL);
    ck_workqueue_free(q);
}

/* ---- delays ---- */

static void add_after_delays_and_keeps_the_earliest_time(void **state)
{
    (void)state;
    struct ck_workqueue *q = ck_workqueue_new(NULL);
    int64_t t0 = ck_mono_ns();
    ck_workqueue_add_after(q, "slow", 120 * MS);
    ck_workqueue_add_after(q, "fast", 40 * MS);
    ck_workqueue_add_after(q, "fast", 500 * MS); /* later time ignored */
    ck_workqueue_add_after(q, "now", 0);         /* no delay: ready at once */
    assert_int_equal(ck_workqueue_delayed_len(q), 2);
    assert_int_equal(ck_workqueue_len(q), 1);
    expect_key(q, "now");
    char *k = NULL;
    assert_int_equal(ck_workqueue_get(q, &k), 0);
    int64_t t1 = ck_mono_ns() - t0;
    assert_string_equal(k, "fast");
    assert_true(t1 >= 40 * MS && t1 < 1000 * MS);
    ck_workqueue_done(q, k);
    free(k);
    assert_int_equal(ck_workqueue_get(q, &k), 0);
    int64_t t2 = ck_mono_ns() - t0;
    assert_string_equal(k, "slow");
    assert_true(t2 >= 120 * MS && t2 < 1500 * MS);
    ck_workqueue_done(q, k);
    free(k);
    /* an earlier delay replaces a later one */
    t0 = ck_mono_ns();
    ck_workqueue_add_after(q, "z", 3000 * MS);
    ck_workqueue_add_after(q, "z", 30 * MS);
    assert_int_equal(ck_workqueue_get(q, &k), 0);
    assert_true(ck_mono_ns() - t0 < 2000 * MS);
    ck_workqueue_done(q, k);
    free(k);
    /* a delayed key that is also queued is handed out once */
    ck_workqueue_add(q, "d");
    ck_workqueue_add_after(q, "d", 20 * MS);
    sleep_ms(40);
    assert_int_equal(ck_workqueue_len(q), 1);
    expect_key(q, "d");
    ck_workqueue_free(q);
}

/* ---- rate limiters ---- */

static void exponential_limiter_doubles_from_5ms_to_1000s(void **state)
{
    (void)state;
    struct ck_rate_limiter *rl = ck_rate_limiter_exponential(5 * MS, 1000 * CK_SECOND);
    int64_t want = 5 * MS;
    for (int i = 0; i < 18; i++) { /* 5ms * 2^17 = 655.36 s */
        assert_int_equal(rl->when(rl, "a"), want);
        want *= 2;
    }
    assert_int_equal(rl->when(rl, "a"), 1000 * CK_SECOND); /* capped */
    for (int i = 0; i < 100; i++)                           /* no overflow, ever */
        assert_int_equal(rl->when(rl, "a"), 1000 * CK_SECOND);
    assert_int_equal(rl->num_requeues(rl, "a"), 119);
    /* keys are independent */
    assert_int_equal(rl->when(rl, "b"), 5 * MS);
    assert_int_equal(rl->num_requeues(rl, "b"), 1);
    rl->forget(rl, "a");
    assert_int_equal(rl->num_requeues(rl, "a"), 0);
    assert_int_equal(rl->when(rl, "a"), 5 * MS);
    ck_rate_limiter_free(rl);
}

static void bucket_limiter_allows_burst_then_qps(void **state)
{
    (void)state;
    struct ck_rate_limiter *rl = ck_rate_limiter_bucket(10, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(rl->when(rl, "k"), 0);
    int64_t d1 = rl->when(rl, "k"), d2 = rl->when(rl, "other"), d3 = rl->when(rl, "k");
    /* tokens come back at 10/s: the next reservations wait ~100, ~200, ~300 ms (less the
     * time the calls themselves took) */
    assert_true(d1 > 0 && d1 <= 100 * MS);
    assert_true(d2 > 100 * MS && d2 <= 200 * MS);
    assert_true(d3 > 200 * MS && d3 <= 300 * MS);
    assert_true(d2 - d1 > 50 * MS && d3 - d2 > 50 * MS);
    assert_int_equal(rl->num_requeues(rl, "k"), 0); /* the bucket keeps no per-key state */
    ck_rate_limiter_free(rl);
}

static void default_limiter_is_max_of_both(void **state)
{
    (void)state;
    struct ck_rate_limiter *rl = ck_rate_limiter_default();
    assert_int_equal(rl->when(rl, "a"), 5 * MS);
    assert_int_equal(rl->when(rl, "a"), 10 * MS);
    assert_int_equal(rl->when(rl, "a"), 20 * MS);
    assert_int_equal(rl->num_requeues(rl, "a"), 3);
    rl->forget(rl, "a");
    assert_int_equal(rl->num_requeues(rl, "a"), 0);
    /* after the burst of 100 the overall bucket dominates a fresh key's 5 ms */
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        rl->when(rl, key);
    }
    int64_t d = rl->when(rl, "fresh");
    assert_true(d > 5 * MS && d <= 400 * MS);
    ck_rate_limiter_free(rl);
}

static void fast_slow_limiter_switches_after_max_fast(void **state)
{
    (void)state;
    struct ck_rate_limiter *rl = ck_rate_limiter_fast_slow(5 * MS, 10 * CK_SECOND, 3);
    assert_int_equal(rl->when(rl, "a"), 5 * MS);
    assert_int_equal(rl->when(rl, "a"), 5 * MS);
    assert_int_equal(rl->when(rl, "a"), 5 * MS);
    assert_int_equal(rl->when(rl, "a"), 10 * CK_SECOND);
    assert_int_equal(rl->num_requeues(rl, "a"), 4);
    rl->forget(rl, "a");
    assert_int_equal(rl->when(rl, "a"), 5 * MS);
    ck_rate_limiter_free(rl);
}

static void rate_limited_adds_use_the_limiter_and_count_retries(void **state)
{
    (void)state;
    struct ck_metrics *reg = ck_metrics_new();
    struct ck_workqueue_opts o = {
        .name = "test-controller",
        .limiter = ck_rate_limiter_exponential(30 * MS, 1000 * MS),
        .metrics = reg,
    };
    struct ck_workqueue *q = ck_workqueue_new(&o);
    int64_t t0 = ck_mono_ns();
    ck_workqueue_add_rate_limited(q, "ns/x"); /* 30 ms */
    assert_int_equal(ck_workqueue_len(q), 0);
    char *k = NULL;
    assert_int_equal(ck_workqueue_get(q, &k), 0);
    int64_t e1 = ck_mono_ns() - t0;
    assert_true(e1 >= 30 * MS && e1 < 2000 * MS);
    ck_workqueue_add_rate_limited(q, k); /* second failure: 60 ms, after done */
    assert_int_equal(ck_workqueue_num_requeues(q, k), 2);
    ck_workqueue_done(q, k);
    free(k);
    t0 = ck_mono_ns();
    assert_int_equal(ck_workqueue_get(q, &k), 0);
    int64_t e2 = ck_mono_ns() - t0;
    assert_true(e2 >= 50 * MS && e2 < 2000 * MS);
    ck_workqueue_forget(q, k);
    assert_int_equal(ck_workqueue_num_requeues(q, k), 0);
    ck_workqueue_add(q, "ns/y"); /* ready, waiting for a worker: depth 1 */
    struct ck_buf b = CK_BUF_INIT;
    ck_metrics_write(reg, &b);
    assert_non_null(strstr(b.data, "workqueue_adds_total{name=\"test-controller\"} 3\n"));
    assert_non_null(strstr(b.data, "workqueue_retries_total{name=\"test-controller\"} 2\n"));
    assert_non_null(strstr(b.data, "workqueue_depth{name=\"test-controller\"} 1\n"));
    assert_non_null(strstr(b.data, "workqueue_queue_duration_seconds_count{name=\"test-"
                                   "controller\"} 2\n"));
    /* ns/x is still being processed: the unfinished-work gauges see it */
    assert_non_null(strstr(b.data, "workqueue_longest_running_processor_seconds{name=\"test-"
                                   "controller\"} "));
    assert_null(strstr(b.data, "workqueue_longest_running_processor_seconds{name=\"test-"
                               "controller\"} 0\n"));
    ck_buf_free(&b);
    ck_workqueue_done(q, k);
    free(k);
    ck_workqueue_free(q);
    ck_metrics_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adds_are_deduplicated_and_fifo),
        cmocka_unit_test(key_added_while_processing_waits_for_done),
        cmocka_unit_test(one_worker_per_key_and_no_lost_updates),
        cmocka_unit_test(shutdown_hands_out_queued_keys_then_stops),
        cmocka_unit_test(shutdown_with_drain_waits_for_workers),
        cmocka_unit_test(add_after_delays_and_keeps_the_earliest_time),
        cmocka_unit_test(exponential_limiter_doubles_from_5ms_to_1000s),
        cmocka_unit_test(bucket_limiter_allows_burst_then_qps),
        cmocka_unit_test(default_limiter_is_max_of_both),
        cmocka_unit_test(fast_slow_limiter_switches_after_max_fast),
        cmocka_unit_test(rate_limited_adds_use_the_limiter_and_count_retries),
    };
    return cmocka_run_group_tests_name("workqueue", tests, NULL, NULL);
}
