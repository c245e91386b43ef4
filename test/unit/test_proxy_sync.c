/* Unit tests for proxy/sync.c: kube-proxy's sync loop over informer stores, with a fake rule
 * writer (no kernel): what a sync reads and writes, full versus partial syncs, failures and
 * retries, upstream's rate limit (burst 2, then one sync per --iptables-min-sync-period), the
 * periodic sync, health and metrics. */
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

#include "cancel.h"
#include "json.h"
#include "mem.h"
#include "metrics.h"
#include "proxy/sync.h"
#include "store.h"
#include "timeutil.h"

#define MS 1000000LL

struct fake {
    atomic_int calls;
    atomic_int fail_next; /* how many of the next calls fail */
    bool last_full;
    bool saw_svc_chain; /* the last rule set held ns1/svc1:p80's KUBE-SVC chain */
    size_t last_nat_rules;
    pthread_mutex_t mu;
};

static int fake_write(void *ctx, const struct kp_ruleset *rs, bool full, struct kp_iptc_stats *st)
{
    struct fake *f = ctx;
    pthread_mutex_lock(&f->mu);
    f->last_full = full;
    f->saw_svc_chain = kp_ruleset_find_chain(rs, KP_TABLE_NAT, "KUBE-SVC-XPGD46QRK7WJZT7O");
    f->last_nat_rules = kp_ruleset_rule_count(rs, KP_TABLE_NAT);
    pthread_mutex_unlock(&f->mu);
    atomic_fetch_add(&f->calls, 1);
    if (atomic_load(&f->fail_next) > 0) {
        atomic_fetch_sub(&f->fail_next, 1);
        snprintf(st->error, sizeof(st->error), "committing table `nat': fake");
        return -EIO;
    }
    return 0;
}

struct env {
    struct fake fake;
    struct ck_store *svcs, *slices;
    struct ck_metrics *metrics;
    struct kp_proxier *p;
    struct ck_cancel *stop;
    pthread_t loop;
    bool running;
};

static void put(struct ck_store *s, const char *json)
{
    char *t = ck_xstrdup(json);
    for (char *c = t; *c; c++)
        if (*c == '\'')
            *c = '"';
    cJSON *j = ck_json_parse(t, strlen(t), NULL);
    free(t);
    assert_non_null(j);
    struct ck_obj *o = ck_obj_new(j);
    ck_obj_unref(ck_store_put(s, o));
    ck_obj_unref(o);
}

static void env_start(struct env *e, int64_t min_period, int64_t period)
{
    memset(e, 0, sizeof(*e));
    pthread_mutex_init(&e->fake.mu, NULL);
    e->svcs = ck_store_new();
    e->slices = ck_store_new();
    e->metrics = ck_metrics_new();
    put(e->svcs, "{'metadata':{'namespace':'ns1','name':'svc1'},'spec':{'clusterIP':'172.30.0.41',"
                 "'ports':[{'name':'p80','port':80,'protocol':'TCP'}]}}");
    put(e->slices, "{'metadata':{'namespace':'ns1','name':'svc1-a','labels':{'kubernetes.io/"
                   "service-name':'svc1'}},'addressType':'IPv4','endpoints':[{'addresses':["
                   "'10.180.0.1']}],'ports':[{'name':'p80','port':80,'protocol':'TCP'}]}");
    struct kp_proxier_opts o = {
        .min_sync_period_ns = min_period,
        .sync_period_ns = period,
        .services = e->svcs,
        .slices = e->slices,
        .metrics = e->metrics,
        .write = fake_write,
        .write_ctx = &e->fake,
    };
    kp_node_config_init(&o.node);
    char name[] = "node-x"; /* the proxier copies it */
    o.node.node_name = name;
    assert_int_equal(kp_proxier_new(&o, &e->p), 0);
    name[0] = 'X';
    e->stop = ck_cancel_new();
}

static void *loop_main(void *arg)
{
    struct env *e = arg;
    kp_proxier_run(e->p, e->stop);
    return NULL;
}

static void env_run(struct env *e)
{
    assert_int_equal(pthread_create(&e->loop, NULL, loop_main, e), 0);
    e->running = true;
}

static void env_free(struct env *e)
{
    if (e->running) {
        ck_cancel_fire(e->stop);
        pthread_join(e->loop, NULL);
    }
    kp_proxier_free(e->p);
    ck_cancel_free(e->stop);
    ck_store_free(e->svcs);
    ck_store_free(e->slices);
    ck_metrics_free(e->metrics);
    pthread_mutex_destroy(&e->fake.mu);
}

/* Waits up to ms (wall time) for the fake to have been called n times; returns the count. */
static int wait_calls(struct env *e, int n, int ms)
{
    int64_t deadline = ck_mono_ns() + ms * MS;
    while (atomic_load(&e->fake.calls) < n && ck_mono_ns() < deadline)
        ck_cancel_sleep(NULL, MS);
    return atomic_load(&e->fake.calls);
}

static bool metric_line(struct ck_metrics *m, const char *line)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_metrics_write(m, &b);
    char *needle = ck_xasprintf("\n%s\n", line);
    bool found = strstr(b.data, needle) != NULL;
    if (!found)
        fprintf(stderr, "# metrics lack \"%s\":\n%s", line, b.data);
    free(needle);
    ck_buf_free(&b);
    return found;
}

static void first_sync_is_full_then_partial(void **state)
{
    (void)state;
    struct env e;
    env_start(&e, 0, 0);
    assert_int_equal(kp_proxier_sync_once(e.p), 0);
    assert_true(e.fake.last_full);
    assert_true(e.fake.saw_svc_chain); /* built from the stores */
    assert_int_equal(kp_proxier_sync_once(e.p), 0);
    assert_false(e.fake.last_full);
    kp_proxier_force_full(e.p);
    assert_int_equal(kp_proxier_sync_once(e.p), 0);
    assert_true(e.fake.last_full);
    struct kp_proxier_status s;
    kp_proxier_status(e.p, &s);
    assert_int_equal(s.syncs, 3);
    assert_int_equal(s.full_syncs, 2);
    assert_int_equal(s.partial_syncs, 1);
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.rules.service_ports, 1);
    assert_true(s.last_sync_wall_ns > 0);
    assert_true(metric_line(e.metrics, "kubeproxy_sync_proxy_rules_duration_seconds_count 3"));
    assert_true(metric_line(e.metrics, "kubeproxy_sync_full_proxy_rules_duration_seconds_count 2"));
    assert_true(
        metric_line(e.metrics, "kubeproxy_sync_partial_proxy_rules_duration_seconds_count 1"));
    char *rules = ck_xasprintf("kubeproxy_sync_proxy_rules_iptables_total{table=\"nat\"} %zu",
                               e.fake.last_nat_rules);
    assert_true(metric_line(e.metrics, rules));
    free(rules);
    env_free(&e);
}

static void store_changes_reach_the_next_sync(void **state)
{
    (void)state;
    struct env e;
    env_start(&e, 0, 0);
    assert_int_equal(kp_proxier_sync_once(e.p), 0);
    assert_true(e.fake.saw_svc_chain);
    ck_obj_unref(ck_store_delete(e.slices, "ns1/svc1-a"));
    assert_int_equal(kp_proxier_sync_once(e.p), 0);
    assert_false(e.fake.saw_svc_chain); /* no endpoints: no KUBE-SVC chain */
    env_free(&e);
}

static void failure_is_counted_and_makes_the_next_sync_full(void **state)
{
    (void)state;
    struct env e;
    env_start(&e, 0, 0);
    assert_int_equal(kp_proxier_sync_once(e.p), 0);
    atomic_store(&e.fake.fail_next, 1);
    assert_int_equal(kp_proxier_sync_once(e.p), -EIO); /* a partial one fails */
    assert_false(e.fake.last_full);
    assert_int_equal(kp_proxier_sync_once(e.p), 0);
    assert_true(e.fake.last_full);
    struct kp_proxier_status s;
    kp_proxier_status(e.p, &s);
    assert_int_equal(s.failures, 1);
    assert_true(
        metric_line(e.metrics, "kubeproxy_sync_proxy_rules_iptables_restore_failures_total 1"));
    assert_true(metric_line(
        e.metrics, "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total 1"));
    env_free(&e);
}

/* upstream's BoundedFrequencyRunner: two syncs at once, then one per min period. */
static void requests_are_rate_limited_with_a_burst_of_two(void **state)
{
    (void)state;
    struct env e;
    env_start(&e, 400 * MS, 3600 * 1000 * MS);
    env_run(&e);
    kp_proxier_request_sync(e.p);
    assert_int_equal(wait_calls(&e, 1, 1000), 1);
    kp_proxier_request_sync(e.p);
    assert_int_equal(wait_calls(&e, 2, 1000), 2);
    int64_t t0 = ck_mono_ns();
    kp_proxier_request_sync(e.p);
    kp_proxier_request_sync(e.p);                /* coalesces with the one before */
    assert_int_equal(wait_calls(&e, 3, 150), 2); /* no token yet */
    assert_int_equal(wait_calls(&e, 3, 5000), 3);
    int64_t waited = ck_mono_ns() - t0;
    assert_true(waited >= 150 * MS && waited < 5000 * MS);
    assert_int_equal(wait_calls(&e, 4, 600), 3); /* the two requests made one sync */
    env_free(&e);
}

static void periodic_sync_runs_every_sync_period(void **state)
{
    (void)state;
    struct env e;
    env_start(&e, -1, 150 * MS);
    env_run(&e);
    assert_true(wait_calls(&e, 3, 3000) >= 3); /* nothing requested: the monitor's syncs */
    env_free(&e);
}

static void failed_sync_is_retried_after_sync_period(void **state)
{
    (void)state;
    struct env e;
    env_start(&e, -1, 300 * MS);
    atomic_store(&e.fake.fail_next, 1);
    env_run(&e);
    kp_proxier_request_sync(e.p);
    assert_int_equal(wait_calls(&e, 1, 1000), 1);
    int64_t t0 = ck_mono_ns();
    assert_int_equal(wait_calls(&e, 2, 2000), 2);
    assert_true(ck_mono_ns() - t0 >= 200 * MS);
    assert_true(e.fake.last_full);
    struct kp_proxier_status s;
    kp_proxier_status(e.p, &s);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.full_syncs, 1);
    env_free(&e);
}

static void unhealthy_while_a_queued_change_waits_too_long(void **state)
{
    (void)state;
    struct env e;
    env_start(&e, 0, 0);
    assert_true(kp_proxier_healthy(e.p, 10 * MS)); /* nothing pending */
    kp_proxier_request_sync(e.p);
    assert_true(kp_proxier_healthy(e.p, 60 * 1000 * MS));
    ck_cancel_sleep(NULL, 30 * MS);
    assert_false(kp_proxier_healthy(e.p, 10 * MS));
    atomic_store(&e.fake.fail_next, 1);
    assert_int_equal(kp_proxier_sync_once(e.p), -EIO);
    assert_false(kp_proxier_healthy(e.p, 10 * MS)); /* a failed sync does not count */
    assert_int_equal(kp_proxier_sync_once(e.p), 0);
    assert_true(kp_proxier_healthy(e.p, 10 * MS));
    struct kp_proxier_status s;
    kp_proxier_status(e.p, &s);
    assert_true(s.last_queued_wall_ns > 0);
    env_free(&e);
}

static void bad_options_are_refused(void **state)
{
    (void)state;
    struct kp_proxier *p = NULL;
    struct kp_proxier_opts o = {0};
    kp_node_config_init(&o.node);
    o.node.masquerade_bit = 40;
    assert_int_equal(kp_proxier_new(&o, &p), -EINVAL);
    o.node.masquerade_bit = 14;
    o.sync_period_ns = -1;
    assert_int_equal(kp_proxier_new(&o, &p), -EINVAL);
    assert_int_equal(kp_proxier_new(NULL, &p), -EINVAL);
    assert_null(p);
    kp_proxier_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_sync_is_full_then_partial),
        cmocka_unit_test(store_changes_reach_the_next_sync),
        cmocka_unit_test(failure_is_counted_and_makes_the_next_sync_full),
        cmocka_unit_test(requests_are_rate_limited_with_a_burst_of_two),
        cmocka_unit_test(periodic_sync_runs_every_sync_period),
        cmocka_unit_test(failed_sync_is_retried_after_sync_period),
        cmocka_unit_test(unhealthy_while_a_queued_change_waits_too_long),
        cmocka_unit_test(bad_options_are_refused),
    };
    return cmocka_run_group_tests_name("test_proxy_sync", tests, NULL, NULL);
}
