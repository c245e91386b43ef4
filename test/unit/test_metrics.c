/* Unit tests for metrics.c: Prometheus text exposition exactly as client_golang writes it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"

static char *render(struct ck_metrics *reg)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_metrics_write(reg, &b);
    return ck_buf_detach(&b);
}

static void floats_format_as_go_g(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0"},
        {-0.0, "0"},
        {1, "1"},
        {-1, "-1"},
        {0.005, "0.005"},
        {0.0001, "0.0001"},
        {1e-05, "1e-05"},
        {1e-08, "1e-08"},
        {2.5, "2.5"},
        {100, "100"},
        {123456, "123456"},
        {1e6, "1e+06"},
        {1234567, "1.234567e+06"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1e21, "1e+21"},
        {-0.25, "-0.25"},
        {1.5e300, "1.5e+300"},
        {NAN, "NaN"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[32];
        ck_metric_format_float(cases[i].v, out);
        assert_string_equal(out, cases[i].want);
    }
}

static void counter_series_sorted_and_labels_by_name(void **state)
{
    (void)state;
    struct ck_metrics *reg = ck_metrics_new();
    static const char *const lbl[] = {"method", "code", "host", NULL};
    struct ck_metric_family *f = ck_metrics_counter(reg, "rest_client_requests_total",
                                                    "Number of HTTP requests, partitioned by "
                                                    "status code, method, and host.",
                                                    lbl);
    assert_non_null(f);
    ck_metric_inc(ck_metric_with(f, "GET", "200", "h:1", NULL));
    ck_metric_add(ck_metric_with(f, "GET", "200", "h:1", NULL), 2);
    ck_metric_inc(ck_metric_with(f, "POST", "201", "h:1", NULL));
    ck_metric_inc(ck_metric_with(f, "GET", "404", "h:1", NULL));
    /* negative adds to counters are ignored */
    ck_metric_add(ck_metric_with(f, "POST", "201", "h:1", NULL), -5);
    /* wrong number of values: no series */
    assert_null(ck_metric_with(f, "GET", NULL));
    char *s = render(reg);
    assert_string_equal(
        s, "# HELP rest_client_requests_total Number of HTTP requests, partitioned by status "
           "code, method, and host.\n"
           "# TYPE rest_client_requests_total counter\n"
           "rest_client_requests_total{code=\"200\",host=\"h:1\",method=\"GET\"} 3\n"
           "rest_client_requests_total{code=\"201\",host=\"h:1\",method=\"POST\"} 1\n"
           "rest_client_requests_total{code=\"404\",host=\"h:1\",method=\"GET\"} 1\n");
    free(s);
    ck_metrics_free(reg);
}

static void histogram_buckets_are_cumulative_with_le_last(void **state)
{
    (void)state;
    struct ck_metrics *reg = ck_metrics_new();
    static const char *const lbl[] = {"verb", NULL};
    static const double b[] = {0.1, 1, 10};
    struct ck_metric_family *f =
        ck_metrics_histogram(reg, "req_seconds", "Latency.", lbl, b, 3);
    struct ck_metric *m = ck_metric_with(f, "GET", NULL);
    ck_metric_observe(m, 0.05);
    ck_metric_observe(m, 0.1); /* on the bound: counted in that bucket */
    ck_metric_observe(m, 5);
    ck_metric_observe(m, 50);
    assert_int_equal(ck_metric_count(m), 4);
    assert_true(fabs(ck_metric_value(m) - 55.15) < 1e-9);
    char *s = render(reg);
    assert_string_equal(s, "# HELP req_seconds Latency.\n"
                           "# TYPE req_seconds histogram\n"
                           "req_seconds_bucket{verb=\"GET\",le=\"0.1\"} 2\n"
                           "req_seconds_bucket{verb=\"GET\",le=\"1\"} 2\n"
                           "req_seconds_bucket{verb=\"GET\",le=\"10\"} 3\n"
                           "req_seconds_bucket{verb=\"GET\",le=\"+Inf\"} 4\n"
                           "req_seconds_sum{verb=\"GET\"} 55.15\n"
                           "req_seconds_count{verb=\"GET\"} 4\n");
    free(s);
    ck_metrics_free(reg);
}

static void unlabelled_metrics_exist_at_zero_and_empty_vectors_are_omitted(void **state)
{
    (void)state;
    struct ck_metrics *reg = ck_metrics_new();
    static const char *const lbl[] = {"name", NULL};
    ck_metrics_gauge(reg, "b_vec", "never set", lbl);
    struct ck_metric_family *h = ck_metrics_histogram(reg, "a_hist", "h", NULL, NULL, 0);
    struct ck_metric_family *g = ck_metrics_gauge(reg, "c_gauge", "g", NULL);
    struct ck_metric *gm = ck_metric_with(g, NULL);
    ck_metric_set(gm, 7);
    ck_metric_inc(gm);
    ck_metric_dec(gm);
    ck_metric_dec(gm);
    assert_true(ck_metric_value(gm) == 6);
    (void)h;
    char *s = render(reg);
    /* the default buckets, families sorted by name, the empty vector left out */
    assert_string_equal(s, "# HELP a_hist h\n"
                           "# TYPE a_hist histogram\n"
                           "a_hist_bucket{le=\"0.005\"} 0\n"
                           "a_hist_bucket{le=\"0.01\"} 0\n"
                           "a_hist_bucket{le=\"0.025\"} 0\n"
                           "a_hist_bucket{le=\"0.05\"} 0\n"
                           "a_hist_bucket{le=\"0.1\"} 0\n"
                           "a_hist_bucket{le=\"0.25\"} 0\n"
                           "a_hist_bucket{le=\"0.5\"} 0\n"
                           "a_hist_bucket{le=\"1\"} 0\n"
                           "a_hist_bucket{le=\"2.5\"} 0\n"
                           "a_hist_bucket{le=\"5\"} 0\n"
                           "a_hist_bucket{le=\"10\"} 0\n"
                           "a_hist_bucket{le=\"+Inf\"} 0\n"
                           "a_hist_sum 0\n"
                           "a_hist_count 0\n"
                           "# HELP c_gauge g\n"
                           "# TYPE c_gauge gauge\n"
                           "c_gauge 6\n");
    free(s);
    ck_metrics_free(reg);
}

static void help_and_label_values_are_escaped(void **state)
{
    (void)state;
    struct ck_metrics *reg = ck_metrics_new();
    static const char *const lbl[] = {"path", NULL};
    struct ck_metric_family *f =
        ck_metrics_counter(reg, "esc_total", "line1\nback\\slash \"quoted\"", lbl);
    ck_metric_inc(ck_metric_with(f, "a\"b\\c\nd", NULL));
    char *s = render(reg);
    /* HELP escapes \ and newline only; label values also escape the double quote */
    assert_string_equal(s, "# HELP esc_total line1\\nback\\\\slash \"quoted\"\n"
                           "# TYPE esc_total counter\n"
                           "esc_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
    free(s);
    ck_metrics_free(reg);
}

static void registration_is_idempotent_and_checked(void **state)
{
    (void)state;
    struct ck_metrics *reg = ck_metrics_new();
    static const char *const lbl[] = {"name", NULL};
    static const char *const other[] = {"queue", NULL};
    static const char *const dup[] = {"a", "a", NULL};
    static const char *const reserved[] = {"__x", NULL};
    static const char *const le[] = {"le", NULL};
    struct ck_metric_family *f = ck_metrics_gauge(reg, "workqueue_depth", "d", lbl);
    assert_non_null(f);
    assert_ptr_equal(ck_metrics_gauge(reg, "workqueue_depth", "d", lbl), f);
    assert_null(ck_metrics_counter(reg, "workqueue_depth", "d", lbl)); /* other type */
    assert_null(ck_metrics_gauge(reg, "workqueue_depth", "d", other));  /* other labels */
    assert_null(ck_metrics_gauge(reg, "1bad", "x", NULL));
    assert_null(ck_metrics_gauge(reg, "bad-name", "x", NULL));
    assert_non_null(ck_metrics_gauge(reg, "ns:sub_name", "x", NULL)); /* colons allowed */
    assert_null(ck_metrics_gauge(reg, "g2", "x", dup));
    assert_null(ck_metrics_gauge(reg, "g3", "x", reserved));
    assert_null(ck_metrics_histogram(reg, "h1", "x", le, NULL, 0));
    static const double unsorted[] = {1, 0.5};
    assert_null(ck_metrics_histogram(reg, "h2", "x", NULL, unsorted, 2));
    /* NULL families and series are harmless */
    assert_null(ck_metric_with(NULL, "x", NULL));
    ck_metric_inc(NULL);
    ck_metric_observe(NULL, 1);
    assert_true(ck_metric_value(NULL) == 0);
    /* a series can be deleted */
    struct ck_metric *m = ck_metric_with(f, "q1", NULL);
    ck_metric_set(m, 3);
    const char *v[] = {"q1"};
    assert_int_equal(ck_metric_delete(f, v, 1), 0);
    assert_int_equal(ck_metric_delete(f, v, 1), -ENOENT);
    char *s = render(reg);
    assert_null(strstr(s, "q1"));
    free(s);
    ck_metrics_free(reg);
}

static int collected;

static void collector(void *ctx)
{
    collected++;
    ck_metric_set(ctx, collected * 10);
}

static void collectors_run_before_each_write(void **state)
{
    (void)state;
    struct ck_metrics *reg = ck_metrics_new();
    struct ck_metric *m = ck_metric_with(ck_metrics_gauge(reg, "lazy", "l", NULL), NULL);
    collected = 0;
    assert_int_equal(ck_metrics_add_collector(reg, collector, m), 0);
    char *s = render(reg);
    assert_non_null(strstr(s, "lazy 10\n"));
    free(s);
    s = render(reg);
    assert_non_null(strstr(s, "lazy 20\n"));
    free(s);
    assert_int_equal(ck_metrics_remove_collector(reg, collector, m), 0);
    assert_int_equal(ck_metrics_remove_collector(reg, collector, m), -ENOENT);
    s = render(reg);
    assert_non_null(strstr(s, "lazy 20\n"));
    free(s);
    assert_int_equal(collected, 2);
    ck_metrics_free(reg);
}

static void *bump(void *arg)
{
    struct ck_metric_family *f = arg;
    for (int i = 0; i < 10000; i++) {
        ck_metric_inc(ck_metric_with(f, i % 2 ? "odd" : "even", NULL));
    }
    return NULL;
}

static void concurrent_increments_are_not_lost(void **state)
{
    (void)state;
    struct ck_metrics *reg = ck_metrics_new();
    static const char *const lbl[] = {"kind", NULL};
    struct ck_metric_family *f = ck_metrics_counter(reg, "c_total", "c", lbl);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, bump, f);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_true(ck_metric_value(ck_metric_with(f, "odd", NULL)) == 20000);
    assert_true(ck_metric_value(ck_metric_with(f, "even", NULL)) == 20000);
    ck_metrics_free(reg);
}

static void default_registry_is_shared_until_reset(void **state)
{
    (void)state;
    struct ck_metrics *a = ck_metrics_default();
    assert_ptr_equal(ck_metrics_default(), a);
    ck_metric_inc(ck_metric_with(ck_metrics_counter(a, "x_total", "x", NULL), NULL));
    ck_metrics_default_reset();
    struct ck_metrics *b = ck_metrics_default();
    char *s = render(b);
    assert_null(strstr(s, "x_total"));
    free(s);
    ck_metrics_default_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(floats_format_as_go_g),
        cmocka_unit_test(counter_series_sorted_and_labels_by_name),
        cmocka_unit_test(histogram_buckets_are_cumulative_with_le_last),
        cmocka_unit_test(unlabelled_metrics_exist_at_zero_and_empty_vectors_are_omitted),
        cmocka_unit_test(help_and_label_values_are_escaped),
        cmocka_unit_test(registration_is_idempotent_and_checked),
        cmocka_unit_test(collectors_run_before_each_write),
        cmocka_unit_test(concurrent_increments_are_not_lost),
        cmocka_unit_test(default_registry_is_shared_until_reset),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
