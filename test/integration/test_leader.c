/* Integration tests of leader election (common/leader.c) and of the kube-controller-manager and
 * kube-scheduler binaries wired on it, against a REAL kube-apiserver and etcd (test/lib/cluster):
 *  - configuration checks with upstream's messages;
 *  - two candidates in one process: exactly one leads at any time; a released lease is taken
 *    over at once; a lease whose holder stopped renewing is taken over after the lease
 *    duration, never before; leaseTransitions counts takeovers;
 *  - a leader that cannot renew (apiserver down) loses leadership after the renew deadline;
 *  - two kube-controller-manager processes: one leads (healthz, metrics, Lease holder); after
 *    kill -9 of the leader the other takes over within lease duration + two retry periods
 *    (the bound upstream's algorithm gives: expiry counts from when the follower last SAW a
 *    renewal, and it looks every retry period, jittered up to 2.2x); SIGTERM exits 0;
 *  - kube-scheduler gives its Lease up on SIGTERM (ReleaseOnCancel, as upstream).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cancel.h"
#include "client.h"
#include "json.h"
#include "leader.h"
#include "mem.h"
#include "test/lib/cluster.h"
#include "timeutil.h"

#define MS INT64_C(1000000)

static const struct ck_gvr leases = {"coordination.k8s.io", "v1", "leases"};

static struct ck_test_cluster *cluster;
static struct ck_client *client;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int setup(void **state)
{
    (void)state;
    if (ck_test_cluster_start(NULL, &cluster) < 0)
        return -1;
    struct ck_rest_config cfg = {.host = (char *)ck_test_cluster_url(cluster)};
    struct ck_client_opts co = {.component = "test-leader", .qps = -1, .max_retries = -1,
                                .timeout_ns = 5 * CK_SECOND};
    struct ck_error err = CK_ERROR_INIT;
    return ck_client_new(&cfg, &co, &client, &err);
}

static int teardown(void **state)
{
    (void)state;
    ck_client_free(client);
    int rc = ck_test_cluster_check_logs(cluster);
    ck_test_cluster_destroy(cluster);
    ck_metrics_default_reset();
    return rc;
}

/* The Lease's holder and transitions; false when it cannot be read. */
static bool read_lease(const char *ns, const char *name, char *holder, size_t hl,
                       int64_t *transitions, int64_t *duration)
{
    cJSON *l = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_client_get(client, &leases, ns, name, &l, &err) < 0) {
        ck_error_clear(&err);
        return false;
    }
    snprintf(holder, hl, "%s", ck_json_get_string(l, "spec.holderIdentity", ""));
    if (transitions)
        *transitions = ck_json_get_int64(l, "spec.leaseTransitions", -1);
    if (duration)
        *duration = ck_json_get_int64(l, "spec.leaseDurationSeconds", -1);
    cJSON_Delete(l);
    return true;
}

/* ---- in-process candidates ----------------------------------------------------------------- */

static atomic_int leading_now; /* candidates inside on_started_leading */
static atomic_int max_leading;

struct candidate {
    struct ck_leader_elector *le;
    struct ck_cancel *cancel;
    pthread_t thread;
    atomic_int started, stopped, rc;
    int64_t started_ns;
};

static void started(void *ctx, struct ck_cancel *leading)
{
    struct candidate *c = ctx;
    c->started_ns = ck_mono_ns();
    atomic_fetch_add(&c->started, 1);
    int now = atomic_fetch_add(&leading_now, 1) + 1;
    int max = atomic_load(&max_leading);
    while (now > max && !atomic_compare_exchange_weak(&max_leading, &max, now)) {
    }
    ck_cancel_sleep(leading, INT64_MAX);
    atomic_fetch_sub(&leading_now, 1);
}

static void stopped(void *ctx)
{
    struct candidate *c = ctx;
    atomic_fetch_add(&c->stopped, 1);
}

static void *run_candidate(void *arg)
{
    struct candidate *c = arg;
    atomic_store(&c->rc, ck_leader_elector_run(c->le, c->cancel));
    return NULL;
}

static void start_candidate(struct candidate *c, const char *lease, const char *id, bool release)
{
    memset(c, 0, sizeof(*c));
    struct ck_leader_config cfg = {
        .client = client,
        .name = lease,
        .identity = id,
        .lease_duration_ns = 2 * CK_SECOND,
        .renew_deadline_ns = 1500 * MS,
        .retry_period_ns = 250 * MS,
        .release_on_cancel = release,
        .on_started_leading = started,
        .on_stopped_leading = stopped,
        .ctx = c,
    };
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_leader_elector_new(&cfg, &c->le, &err), 0);
    c->cancel = ck_cancel_new();
    assert_int_equal(pthread_create(&c->thread, NULL, run_candidate, c), 0);
}

static void stop_candidate(struct candidate *c)
{
    ck_cancel_fire(c->cancel);
    pthread_join(c->thread, NULL);
    ck_leader_elector_free(c->le);
    ck_cancel_free(c->cancel);
    c->le = NULL;
}

static struct candidate *wait_leader(struct candidate *a, struct candidate *b, int timeout_ms)
{
    int64_t until = ck_mono_ns() + timeout_ms * MS;
    while (ck_mono_ns() < until) {
        if (a && atomic_load(&a->started) && !atomic_load(&a->stopped))
            return a;
        if (b && atomic_load(&b->started) && !atomic_load(&b->stopped))
            return b;
        sleep_ms(10);
    }
    return NULL;
}

static void config_is_checked_as_upstream(void **state)
{
    (void)state;
    static const struct {
        int64_t lease, renew, retry;
        const char *msg;
    } cases[] = {
        {10 * CK_SECOND, 10 * CK_SECOND, 2 * CK_SECOND,
         "leaseDuration must be greater than renewDeadline"},
        {15 * CK_SECOND, 2 * CK_SECOND, 2 * CK_SECOND,
         "renewDeadline must be greater than retryPeriod*JitterFactor"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ck_leader_config cfg = {.client = client, .name = "x",
                                       .lease_duration_ns = cases[i].lease,
                                       .renew_deadline_ns = cases[i].renew,
                                       .retry_period_ns = cases[i].retry,
                                       .on_started_leading = started,
                                       .on_stopped_leading = stopped};
        struct ck_leader_elector *le = NULL;
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(ck_leader_elector_new(&cfg, &le, &err), -EINVAL);
        assert_string_equal(err.message, cases[i].msg);
    }
    struct ck_leader_config nocb = {.client = client, .name = "x"};
    struct ck_leader_elector *le = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_leader_elector_new(&nocb, &le, &err), -EINVAL);
    assert_string_equal(err.message, "OnStartedLeading callback must not be nil");
    /* the default identity is <hostname>_<uuid> */
    char *id = ck_leader_default_identity();
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    assert_true(!strncmp(id, host, strlen(host)));
    assert_int_equal(id[strlen(host)], '_');
    assert_int_equal(strlen(id + strlen(host) + 1), 36);
    free(id);
}

static void exactly_one_of_two_leads_and_release_hands_over(void **state)
{
    (void)state;
    atomic_store(&max_leading, 0);
    struct candidate a, b;
    start_candidate(&a, "ck7-one", "cand-a", true);
    start_candidate(&b, "ck7-one", "cand-b", true);
    struct candidate *l = wait_leader(&a, &b, 5000);
    assert_non_null(l);
    /* for 3 s (many renewals and polls) never two at once, never none */
    for (int i = 0; i < 60; i++) {
        assert_int_equal(atomic_load(&leading_now), 1);
        sleep_ms(50);
    }
    assert_int_equal(atomic_load(&max_leading), 1);
    char holder[256];
    int64_t transitions;
    assert_true(read_lease("kube-system", "ck7-one", holder, sizeof(holder), &transitions, NULL));
    assert_string_equal(holder, l == &a ? "cand-a" : "cand-b");
    assert_int_equal(transitions, 0);
    assert_true(ck_leader_is_leader(l->le));
    struct candidate *other = l == &a ? &b : &a;
    assert_false(ck_leader_is_leader(other->le));
    char seen[256];
    ck_leader_get_leader(other->le, seen, sizeof(seen));
    assert_string_equal(seen, holder);
    /* the leader steps down and releases: the other takes over at its next poll */
    int64_t t0 = ck_mono_ns();
    stop_candidate(l);
    assert_int_equal(atomic_load(&l->rc), -ECANCELED);
    assert_int_equal(atomic_load(&l->stopped), 1);
    assert_non_null(wait_leader(other, NULL, 3000));
    int64_t took = other->started_ns - t0;
    assert_true(took < 1500 * MS); /* less than the 2 s lease */
    assert_true(read_lease("kube-system", "ck7-one", holder, sizeof(holder), &transitions, NULL));
    assert_string_equal(holder, other == &a ? "cand-a" : "cand-b");
    assert_int_equal(transitions, 1);
    stop_candidate(other);
    assert_int_equal(atomic_load(&max_leading), 1);
}

static void unrenewed_lease_is_taken_over_after_its_duration(void **state)
{
    (void)state;
    struct candidate a, b;
    start_candidate(&a, "ck7-expire", "cand-a", false);
    assert_non_null(wait_leader(&a, NULL, 5000));
    start_candidate(&b, "ck7-expire", "cand-b", false);
    sleep_ms(1000); /* b has observed a's renewals */
    assert_int_equal(atomic_load(&b.started), 0);
    int64_t t0 = ck_mono_ns();
    stop_candidate(&a); /* stops renewing without releasing, like a crash */
    assert_non_null(wait_leader(&b, NULL, 6000));
    int64_t took = b.started_ns - t0;
    /* not before the lease could have expired, and within duration + 2 jittered polls */
    assert_true(took >= 2000 * MS - 250 * MS);
    assert_true(took <= 2000 * MS + 2 * 550 * MS + 600 * MS);
    char holder[256];
    int64_t transitions;
    assert_true(read_lease("kube-system", "ck7-expire", holder, sizeof(holder), &transitions,
                           NULL));
    assert_string_equal(holder, "cand-b");
    assert_int_equal(transitions, 1);
    stop_candidate(&b);
}

static void leader_loses_lease_when_it_cannot_renew(void **state)
{
    (void)state;
    struct candidate a;
    start_candidate(&a, "ck7-lost", "cand-a", false);
    assert_non_null(wait_leader(&a, NULL, 5000));
    int64_t t0 = ck_mono_ns();
    assert_int_equal(ck_test_cluster_apiserver_kill(cluster), 0);
    /* the renew deadline (1.5 s) passes: run() returns, on_stopped_leading ran */
    int64_t until = t0 + 6 * CK_SECOND;
    while (ck_mono_ns() < until && !atomic_load(&a.stopped))
        sleep_ms(20);
    int64_t took = ck_mono_ns() - t0;
    assert_int_equal(atomic_load(&a.stopped), 1);
    assert_int_equal(atomic_load(&a.rc), -ETIMEDOUT);
    assert_int_equal(atomic_load(&leading_now), 0); /* the leading token fired */
    assert_true(took >= 1200 * MS && took < 4000 * MS);
    assert_int_equal(ck_test_cluster_apiserver_start(cluster), 0);
    stop_candidate(&a);
}

/* ---- the binaries -------------------------------------------------------------------------- */


struct proc {
    pid_t pid;
    int port;
    char log[PATH_MAX];
};

static void spawn_component(struct proc *p, const char *bin_name, int idx)
{
    char bin[PATH_MAX], master[128], port[32];
    ck_test_bin(bin_name, bin, sizeof(bin));
    p->port = ck_test_free_port();
    snprintf(master, sizeof(master), "--master=%s", ck_test_cluster_url(cluster));
    snprintf(port, sizeof(port), "--secure-port=%d", p->port);
    snprintf(p->log, sizeof(p->log), "%s/%s-%d.log", ck_test_cluster_dir(cluster), bin_name, idx);
    char *argv[] = {bin,
                    master,
                    port,
                    "--bind-address=127.0.0.1",
                    "--leader-elect-lease-duration=3s",
                    "--leader-elect-renew-deadline=2s",
                    "--leader-elect-retry-period=500ms",
                    "--v=2",
                    NULL};
    p->pid = ck_test_spawn(argv, p->log);
    assert_true(p->pid > 0);
}

static bool log_has(const struct proc *p, const char *needle)
{
    FILE *f = fopen(p->log, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* GET https://127.0.0.1:<port><path> (self-signed certificate), body into out */
static int get_https(int port, const char *path, char *out, size_t size)
{
    char host[64];
    snprintf(host, sizeof(host), "https://127.0.0.1:%d", port);
    struct ck_rest_config cfg = {.host = host, .insecure = true};
    struct ck_client_opts co = {.qps = -1, .max_retries = -1, .timeout_ns = 5 * CK_SECOND};
    struct ck_client *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_client_new(&cfg, &co, &c, &err) < 0)
        return -1;
    struct ck_request req = {.verb = "GET", .path = path};
    struct ck_response resp = CK_RESPONSE_INIT;
    ck_client_do(c, &req, &resp, &err);
    snprintf(out, size, "%s", resp.body.data ? resp.body.data : "");
    int status = resp.status;
    ck_response_free(&resp);
    ck_error_clear(&err);
    ck_client_free(c);
    return status;
}

static void controller_managers_hand_over_leadership(void **state)
{
    (void)state;
    struct proc p[2];
    spawn_component(&p[0], "kube-controller-manager", 0);
    spawn_component(&p[1], "kube-controller-manager", 1);
    int leader = -1;
    int64_t until = ck_mono_ns() + 20 * CK_SECOND;
    while (leader < 0 && ck_mono_ns() < until) {
        for (int i = 0; i < 2; i++)
            if (log_has(&p[i], "successfully acquired lease kube-system/kube-controller-manager"))
                leader = i;
        sleep_ms(50);
    }
    assert_true(leader >= 0);
    int follower = 1 - leader;
    sleep_ms(1500); /* several renewals and polls: still exactly one */
    assert_false(log_has(&p[follower], "successfully acquired lease"));
    char holder[256], first_holder[256];
    int64_t transitions;
    assert_true(read_lease("kube-system", "kube-controller-manager", first_holder,
                           sizeof(first_holder), &transitions, NULL));
    assert_int_equal(transitions, 0);
    /* health and metrics of the leader */
    char body[65536];
    assert_int_equal(get_https(p[leader].port, "/healthz", body, sizeof(body)), 200);
    assert_string_equal(body, "ok");
    assert_int_equal(get_https(p[leader].port, "/healthz?verbose", body, sizeof(body)), 200);
    assert_string_equal(body, "[+]leaderElection ok\nhealthz check passed\n");
    assert_int_equal(get_https(p[leader].port, "/metrics", body, sizeof(body)), 200);
    assert_non_null(strstr(body, "leader_election_master_status{name=\"kube-controller-manager\"} "
                                 "1\n"));
    assert_non_null(strstr(body, "rest_client_requests_total{code=\"200\""));
    assert_int_equal(get_https(p[follower].port, "/metrics", body, sizeof(body)), 200);
    assert_non_null(strstr(body, "leader_election_master_status{name=\"kube-controller-manager\"} "
                                 "0\n"));
    assert_int_equal(get_https(p[follower].port, "/nope", body, sizeof(body)), 404);

    /* kill -9 the leader: the follower takes over once the lease has expired */
    int64_t t0 = ck_mono_ns();
    ck_test_stop(p[leader].pid, SIGKILL, 5000);
    int64_t took = -1;
    until = t0 + 15 * CK_SECOND;
    while (ck_mono_ns() < until) {
        if (read_lease("kube-system", "kube-controller-manager", holder, sizeof(holder),
                       &transitions, NULL) &&
            strcmp(holder, first_holder)) {
            took = ck_mono_ns() - t0;
            break;
        }
        sleep_ms(20);
    }
    assert_true(took > 0);
    assert_true(took >= 3000 * MS - 500 * MS);
    assert_true(took <= 3000 * MS + 2 * 1100 * MS + 1000 * MS);
    assert_int_equal(transitions, 1);
    until = ck_mono_ns() + 5 * CK_SECOND;
    while (!log_has(&p[follower], "successfully acquired lease") && ck_mono_ns() < until)
        sleep_ms(20);
    assert_true(log_has(&p[follower], "successfully acquired lease"));
    /* SIGTERM: a graceful stop, exit 0; kube-controller-manager keeps its lease (no release) */
    int st = ck_test_stop(p[follower].pid, SIGTERM, 10000);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(read_lease("kube-system", "kube-controller-manager", first_holder,
                           sizeof(first_holder), NULL, NULL));
    assert_string_equal(first_holder, holder);
}

static void scheduler_releases_its_lease_on_sigterm(void **state)
{
    (void)state;
    struct proc s;
    spawn_component(&s, "kube-scheduler", 0);
    int64_t until = ck_mono_ns() + 20 * CK_SECOND;
    while (!log_has(&s, "successfully acquired lease kube-system/kube-scheduler") &&
           ck_mono_ns() < until)
        sleep_ms(50);
    assert_true(log_has(&s, "successfully acquired lease kube-system/kube-scheduler"));
    char holder[256];
    int64_t duration;
    assert_true(read_lease("kube-system", "kube-scheduler", holder, sizeof(holder), NULL,
                           &duration));
    assert_true(holder[0] != '\0');
    assert_int_equal(duration, 3);
    int st = ck_test_stop(s.pid, SIGTERM, 10000);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(read_lease("kube-system", "kube-scheduler", holder, sizeof(holder), NULL,
                           &duration));
    assert_string_equal(holder, "");
    assert_int_equal(duration, 1);
}

static void bad_leader_flags_exit_1(void **state)
{
    (void)state;
    char bin[PATH_MAX], master[128], log[PATH_MAX];
    ck_test_bin("kube-controller-manager", bin, sizeof(bin));
    snprintf(master, sizeof(master), "--master=%s", ck_test_cluster_url(cluster));
    snprintf(log, sizeof(log), "%s/kcm-bad.log", ck_test_cluster_dir(cluster));
    char *argv[] = {bin, master, "--secure-port=0", "--leader-elect-renew-deadline=20s", NULL};
    pid_t pid = ck_test_spawn(argv, log);
    assert_true(pid > 0);
    int st = ck_test_stop(pid, 0, 10000); /* signal 0: just wait */
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    struct proc p = {.pid = pid};
    snprintf(p.log, sizeof(p.log), "%s", log);
    assert_true(log_has(&p, "leaseDuration must be greater than renewDeadline"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_is_checked_as_upstream),
        cmocka_unit_test(exactly_one_of_two_leads_and_release_hands_over),
        cmocka_unit_test(unrenewed_lease_is_taken_over_after_its_duration),
        cmocka_unit_test(leader_loses_lease_when_it_cannot_renew),
        cmocka_unit_test(controller_managers_hand_over_leadership),
        cmocka_unit_test(scheduler_releases_its_lease_on_sigterm),
        cmocka_unit_test(bad_leader_flags_exit_1),
    };
    return cmocka_run_group_tests_name("leader", tests, setup, teardown);
}
