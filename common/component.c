/* component.c - shared main loop of kube-controller-manager and kube-scheduler (see
 * component.h). */
#include "component.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "events.h"
#include "informer.h"
#include "kubeconfig.h"
#include "leader.h"
#include "log.h"
#include "timeutil.h"

struct run {
    struct ck_component_config *cfg;
    struct ck_client *client;
    struct ck_event_broadcaster *events;
    struct ck_cancel *stop; /* the process's: signals, start-up failures */
    atomic_bool failed;
};

/* Runs the enabled controllers until `until` fires. */
static void run_controllers(struct run *r, struct ck_cancel *until)
{
    struct ck_component_config *cfg = r->cfg;
    struct ck_informer_opts io = {0};
    if (cfg->min_resync_period > 0) /* upstream's ResyncPeriod: random in [min, 2*min) */
        io.resync_ns = cfg->min_resync_period +
                       (int64_t)((double)rand() / ((double)RAND_MAX + 1) *
                                 (double)cfg->min_resync_period);
    struct ck_informer_factory *factory = ck_informer_factory_new(r->client, &io);
    struct ck_controller_context cc = {
        .component = cfg->name,
        .client = r->client,
        .informers = factory,
        .events = r->events,
        .stop = until,
        .config = cfg->user,
    };
    static const char *const star[] = {"*"};
    const char *const *enabled = cfg->controllers.n ? cfg->controllers.items : star;
    size_t nenabled = cfg->controllers.n ? cfg->controllers.n : 1;
    size_t n = 0;
    while (cfg->table && cfg->table[n].name)
        n++;
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_controllers_start(&cc, cfg->table, n, enabled, nenabled, &err);
    if (rc < 0 && rc != -ECANCELED) {
        ck_err("error starting controllers: %s", err.message[0] ? err.message : strerror(-rc));
        atomic_store(&r->failed, true);
        ck_cancel_fire(r->stop);
    }
    ck_error_clear(&err);
    ck_cancel_sleep(until, INT64_MAX);
    ck_controllers_stop(&cc);
    ck_informer_factory_free(factory);
}

static void on_started_leading(void *ctx, struct ck_cancel *leading)
{
    run_controllers(ctx, leading);
}

static void on_stopped_leading(void *ctx)
{
    (void)ctx;
}

static void on_new_leader(void *ctx, const char *identity)
{
    (void)ctx;
    if (identity && identity[0])
        ck_vinfo(2, "new leader elected: %s", identity);
}

static int leader_check(void *ctx, struct ck_error *why)
{
    /* upstream's NewLeaderHealthzAdaptor(20 * time.Second) */
    return ck_leader_check(ctx, 20 * CK_SECOND, why);
}

int ck_component_main(struct ck_component_config *cfg)
{
    if (cfg->leader_elect && cfg->resource_lock && strcmp(cfg->resource_lock, "leases")) {
        ck_err("unsupported --leader-elect-resource-lock \"%s\": only \"leases\" is supported",
               cfg->resource_lock);
        return 1;
    }
    ck_info("\"Starting\" component=\"%s\" version=\"%s\"", cfg->name, CK_KUBE_VERSION);
    struct ck_error err = CK_ERROR_INIT;
    struct ck_rest_config *rc_cfg = NULL;
    if (ck_rest_config_from_flags(cfg->master, cfg->kubeconfig, &rc_cfg, &err) < 0) {
        ck_err("%s", err.message);
        ck_error_clear(&err);
        return 1;
    }
    struct ck_client_opts co = {.component = cfg->name,
                                .qps = cfg->kube_api_qps,
                                .burst = cfg->kube_api_burst};
    struct run r = {.cfg = cfg, .stop = ck_cancel_new()};
    int code = 1;
    struct ck_signals *signals = NULL;
    struct ck_daemon *daemon = NULL;
    struct ck_event_recorder *recorder = NULL;
    struct ck_leader_elector *le = NULL;
    if (ck_client_new(rc_cfg, &co, &r.client, &err) < 0) {
        ck_err("%s", err.message);
        goto out;
    }
    if (ck_signals_start(r.stop, &signals) < 0) {
        ck_err("cannot watch signals");
        goto out;
    }
    struct ck_daemon_opts dopts = {.component = cfg->name,
                                   .bind_address = cfg->bind_address,
                                   .secure_port = cfg->secure_port,
                                   .tls_cert_file = cfg->tls_cert_file,
                                   .tls_key_file = cfg->tls_key_file,
                                   .cert_dir = cfg->cert_dir};
    if (ck_daemon_start(&dopts, &daemon, &err) < 0) {
        ck_err("failed to create listener: %s", err.message);
        goto out;
    }
    r.events = ck_event_broadcaster_new(r.client, NULL);
    recorder = ck_event_recorder_new(r.events, cfg->name, NULL);
    if (!cfg->leader_elect) {
        run_controllers(&r, r.stop);
        code = atomic_load(&r.failed) ? 1 : 0;
        goto out;
    }
    struct ck_leader_config lc = {
        .client = r.client,
        .namespace = cfg->resource_namespace,
        .name = cfg->resource_name ? cfg->resource_name : cfg->name,
        .lease_duration_ns = cfg->lease_duration,
        .renew_deadline_ns = cfg->renew_deadline,
        .retry_period_ns = cfg->retry_period,
        .release_on_cancel = cfg->release_on_cancel,
        .on_started_leading = on_started_leading,
        .on_stopped_leading = on_stopped_leading,
        .on_new_leader = on_new_leader,
        .ctx = &r,
        .recorder = recorder,
    };
    if (ck_leader_elector_new(&lc, &le, &err) < 0) {
        ck_err("couldn't create leader elector: %s", err.message);
        goto out;
    }
    ck_daemon_add_check(daemon, "leaderElection", CK_CHECK_HEALTHZ, leader_check, le);
    int rc = ck_leader_elector_run(le, r.stop);
    if (rc == -ETIMEDOUT) {
        ck_err("leaderelection lost");
        code = 1;
    } else {
        if (!atomic_load(&r.failed))
            ck_info("Requested to terminate, exiting");
        code = atomic_load(&r.failed) ? 1 : 0;
    }
out:
    ck_signals_stop(signals);
    ck_daemon_stop(daemon); /* before the elector its check reads */
    ck_leader_elector_free(le);
    ck_event_recorder_free(recorder);
    ck_event_broadcaster_free(r.events);
    ck_client_free(r.client);
    ck_rest_config_free(rc_cfg);
    ck_cancel_free(r.stop);
    ck_error_clear(&err);
    return code;
}
