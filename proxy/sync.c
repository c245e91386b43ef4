/* sync.c - kube-proxy's rate-limited sync loop and its metrics (see sync.h). */
#include "sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conntrack.h"
#include "log.h"
#include "mem.h"
#include "timeutil.h"

#define NS_PER_SEC 1000000000LL
#define FULL_SYNC_PERIOD_NS (3600 * NS_PER_SEC) /* upstream's proxyutil.FullSyncPeriod */
#define BURST 2.0                               /* upstream's burstSyncs */

struct kp_proxier {
    /* immutable after creation */
    struct kp_node_config node;
    char *node_name, *node_ip, *zone, *local_cidr;
    char **nodeport_ips;
    int64_t min_period, period;
    struct ck_store *services, *slices;
    kp_write_fn write;
    void *write_ctx;
    struct kp_iptc *iptc;  /* the default writer (NULL with a custom one) */
    char *conntrack_tool;  /* NULL: no stale conntrack cleaning */
    bool conntrack_failed; /* the last cleaning failed (logged once per failure spell) */

    struct ck_metric *m_duration, *m_full, *m_partial, *m_last, *m_queued, *m_failures,
        *m_partial_failures, *m_rules[KP_TABLE_COUNT], *m_no_local_int, *m_no_local_ext;

    /* guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool pending, stop, need_full;
    double tokens;
    int64_t tokens_at, next_periodic, retry_at, last_full;
    struct kp_proxier_status status;
};

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int default_write(void *ctx, const struct kp_ruleset *rs, bool full,
                         struct kp_iptc_stats *st)
{
    return kp_iptc_sync(ctx, rs, full, st);
}

static void register_metrics(struct kp_proxier *p, struct ck_metrics *reg)
{
    double buckets[15];
    ck_metric_exponential_buckets(0.001, 2, 15, buckets);
    p->m_duration =
        ck_metric_with(ck_metrics_histogram(reg, "kubeproxy_sync_proxy_rules_duration_seconds",
                                            "SyncProxyRules latency in seconds", NULL, buckets, 15),
                       NULL);
    p->m_full =
        ck_metric_with(ck_metrics_histogram(reg, "kubeproxy_sync_full_proxy_rules_duration_seconds",
                                            "SyncProxyRules latency in seconds for full resyncs",
                                            NULL, buckets, 15),
                       NULL);
    p->m_partial = ck_metric_with(
        ck_metrics_histogram(reg, "kubeproxy_sync_partial_proxy_rules_duration_seconds",
                             "SyncProxyRules latency in seconds for partial resyncs", NULL, buckets,
                             15),
        NULL);
    p->m_last =
        ck_metric_with(ck_metrics_gauge(reg, "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                                        "The last time proxy rules were successfully synced", NULL),
                       NULL);
    p->m_queued = ck_metric_with(
        ck_metrics_gauge(reg, "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
                         "The last time a sync of proxy rules was queued", NULL),
        NULL);
    p->m_failures = ck_metric_with(
        ck_metrics_counter(reg, "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
                           "Cumulative proxy iptables restore failures", NULL),
        NULL);
    p->m_partial_failures = ck_metric_with(
        ck_metrics_counter(reg,
                           "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
                           "Cumulative proxy iptables partial restore failures", NULL),
        NULL);
    static const char *const table_label[] = {"table", NULL};
    struct ck_metric_family *rules =
        ck_metrics_gauge(reg, "kubeproxy_sync_proxy_rules_iptables_total",
                         "Total number of iptables rules owned by kube-proxy", table_label);
    for (int t = 0; t < KP_TABLE_COUNT; t++)
        p->m_rules[t] = t == KP_TABLE_MANGLE ? NULL : ck_metric_with(rules, kp_table_name(t), NULL);
    static const char *const policy_label[] = {"traffic_policy", NULL};
    struct ck_metric_family *nle = ck_metrics_gauge(
        reg, "kubeproxy_sync_proxy_rules_no_local_endpoints_total",
        "Number of services with a Local traffic policy and no endpoints", policy_label);
    p->m_no_local_int = ck_metric_with(nle, "internal", NULL);
    p->m_no_local_ext = ck_metric_with(nle, "external", NULL);
}

static char *dup_or_null(const char *s)
{
    return s ? ck_xstrdup(s) : NULL;
}

int kp_proxier_new(const struct kp_proxier_opts *opts, struct kp_proxier **out)
{
    if (!opts || !out || opts->node.masquerade_bit < 0 || opts->node.masquerade_bit > 31 ||
        opts->sync_period_ns < 0)
        return -EINVAL;
    struct kp_proxier *p = ck_xcalloc(1, sizeof(*p));
    p->node = opts->node;
    p->node.node_name = p->node_name = dup_or_null(opts->node.node_name);
    p->node.node_ip = p->node_ip = dup_or_null(opts->node.node_ip);
    p->node.zone = p->zone = dup_or_null(opts->node.zone);
    p->node.local_cidr = p->local_cidr = dup_or_null(opts->node.local_cidr);
    if (opts->node.nodeport_ips) {
        p->nodeport_ips = ck_xcalloc(opts->node.n_nodeport_ips + 1, sizeof(char *));
        for (size_t i = 0; i < opts->node.n_nodeport_ips; i++)
            p->nodeport_ips[i] = ck_xstrdup(opts->node.nodeport_ips[i]);
        p->node.nodeport_ips = (const char *const *)p->nodeport_ips;
    }
    p->min_period = opts->min_sync_period_ns == 0 ? NS_PER_SEC : opts->min_sync_period_ns;
    p->period = opts->sync_period_ns ? opts->sync_period_ns : 30 * NS_PER_SEC;
    p->services = opts->services;
    p->slices = opts->slices;
    if (opts->conntrack_tool && *opts->conntrack_tool)
        p->conntrack_tool = ck_xstrdup(opts->conntrack_tool);
    if (opts->write) {
        p->write = opts->write;
        p->write_ctx = opts->write_ctx;
    } else {
        p->iptc = kp_iptc_new(&opts->iptc);
        p->write = default_write;
        p->write_ctx = p->iptc;
    }
    register_metrics(p, opts->metrics ? opts->metrics : ck_metrics_default());

    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    p->need_full = true;
    p->tokens = BURST;
    p->tokens_at = ck_mono_ns();
    *out = p;
    return 0;
}

void kp_proxier_free(struct kp_proxier *p)
{
    if (!p)
        return;
    kp_iptc_free(p->iptc);
    free(p->conntrack_tool);
    free(p->node_name);
    free(p->node_ip);
    free(p->zone);
    free(p->local_cidr);
    if (p->nodeport_ips)
        for (size_t i = 0; p->nodeport_ips[i]; i++)
            free(p->nodeport_ips[i]);
    free(p->nodeport_ips);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void kp_proxier_request_sync(struct kp_proxier *p)
{
    if (!p)
        return;
    int64_t wall = wall_ns();
    pthread_mutex_lock(&p->mu);
    p->pending = true;
    p->status.last_queued_wall_ns = wall;
    if (!p->status.oldest_pending_mono_ns)
        p->status.oldest_pending_mono_ns = ck_mono_ns();
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    ck_metric_set(p->m_queued, (double)wall / NS_PER_SEC);
}

void kp_proxier_force_full(struct kp_proxier *p)
{
    pthread_mutex_lock(&p->mu);
    p->need_full = true;
    pthread_mutex_unlock(&p->mu);
}

/* The objects of a store as a borrowed JSON array (the references in list keep them alive). */
static const cJSON **objects_of(struct ck_store *s, struct ck_obj_list *list, size_t *n)
{
    *n = 0;
    if (!s)
        return NULL;
    ck_store_list(s, list);
    const cJSON **v = ck_xmalloc((list->n + 1) * sizeof(*v));
    for (size_t i = 0; i < list->n; i++)
        v[(*n)++] = list->items[i]->json;
    return v;
}

/* upstream's CleanStaleEntries after a successful sync (only this thread runs it) */
static void clean_conntrack(struct kp_proxier *p, const struct kp_ruleset *rs)
{
    if (!p->conntrack_tool || !rs->nudp)
        return;
    struct kp_ct_stats cs;
    int rc = kp_ct_clean(p->conntrack_tool, rs, &cs);
    if (rc < 0) {
        if (!p->conntrack_failed)
            ck_err("\"Failed to list conntrack entries\" err=\"%s\" tool=\"%s\"", strerror(-rc),
                   p->conntrack_tool);
        p->conntrack_failed = true;
        return;
    }
    p->conntrack_failed = false;
    if (cs.filters)
        ck_vinfo(2, "\"Deleted stale UDP conntrack entries\" filters=%zu udpFlows=%zu failures=%zu",
                 cs.filters, cs.flows, cs.failures);
}

int kp_proxier_sync_once(struct kp_proxier *p)
{
    int64_t start = ck_mono_ns();
    pthread_mutex_lock(&p->mu);
    bool full = p->need_full || start - p->last_full > FULL_SYNC_PERIOD_NS;
    /* what is queued now is covered by this sync */
    p->pending = false;
    int64_t queued_since = p->status.oldest_pending_mono_ns;
    pthread_mutex_unlock(&p->mu);

    struct ck_obj_list svcs = CK_OBJ_LIST_INIT, slices = CK_OBJ_LIST_INIT;
    size_t nsvc, nslice;
    const cJSON **sv = objects_of(p->services, &svcs, &nsvc);
    const cJSON **sl = objects_of(p->slices, &slices, &nslice);
    struct kp_ruleset *rs = NULL;
    int rc = kp_rules_build(&p->node, (const cJSON *const *)sv, nsvc, (const cJSON *const *)sl,
                            nslice, &rs);
    struct kp_iptc_stats st;
    memset(&st, 0, sizeof(st));
    if (rc == 0)
        rc = p->write(p->write_ctx, rs, full, &st);
    free(sv);
    free(sl);
    ck_obj_list_free(&svcs);
    ck_obj_list_free(&slices);

    double secs = (double)(ck_mono_ns() - start) / NS_PER_SEC;
    ck_metric_observe(p->m_duration, secs);
    ck_metric_observe(full ? p->m_full : p->m_partial, secs);
    if (rc < 0) {
        char retry[CK_DURATION_BUFSZ];
        ck_duration_format(p->period, retry);
        ck_err("Failed to execute iptables-restore: %s (retrying in %s)", st.error, retry);
        ck_metric_inc(p->m_failures);
        if (!full)
            ck_metric_inc(p->m_partial_failures);
    } else {
        int64_t wall = wall_ns();
        ck_metric_set(p->m_last, (double)wall / NS_PER_SEC);
        for (int t = 0; t < KP_TABLE_COUNT; t++)
            ck_metric_set(p->m_rules[t], (double)kp_ruleset_rule_count(rs, (enum kp_table_id)t));
        ck_metric_set(p->m_no_local_int, (double)rs->stats.no_local_endpoints_internal);
        ck_metric_set(p->m_no_local_ext, (double)rs->stats.no_local_endpoints_external);
        clean_conntrack(p, rs);
        ck_vinfo(2,
                 "SyncProxyRules complete: fullSync=%s elapsed=%.3fms services=%zu "
                 "endpoints=%zu chainsWritten=%zu chainsKept=%zu chainsDeleted=%zu",
                 full ? "true" : "false", secs * 1000, rs->stats.service_ports, rs->stats.endpoints,
                 st.chains_written, st.chains_kept, st.chains_deleted);
    }

    pthread_mutex_lock(&p->mu);
    p->status.syncs++;
    p->status.last = st;
    if (rs)
        p->status.rules = rs->stats;
    if (rc < 0) {
        p->status.failures++;
        p->need_full = true;
    } else {
        if (full) {
            p->status.full_syncs++;
            p->last_full = start;
            p->need_full = false;
        } else {
            p->status.partial_syncs++;
        }
        p->status.last_sync_wall_ns = wall_ns();
        /* a request that arrived during the sync stays pending */
        if (p->status.oldest_pending_mono_ns == queued_since)
            p->status.oldest_pending_mono_ns = p->pending ? ck_mono_ns() : 0;
    }
    pthread_mutex_unlock(&p->mu);
    kp_ruleset_free(rs);
    return rc;
}

static void on_stop(void *arg)
{
    struct kp_proxier *p = arg;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

/* Token bucket of upstream's BoundedFrequencyRunner: one token per min period, burst 2. */
static void refill(struct kp_proxier *p, int64_t now)
{
    if (p->min_period <= 0) {
        p->tokens = BURST;
        return;
    }
    p->tokens += (double)(now - p->tokens_at) / (double)p->min_period;
    if (p->tokens > BURST)
        p->tokens = BURST;
    p->tokens_at = now;
}

int kp_proxier_run(struct kp_proxier *p, struct ck_cancel *stop)
{
    struct ck_cancel_hook *hook = stop ? ck_cancel_hook_add(stop, on_stop, p) : NULL;
    pthread_mutex_lock(&p->mu);
    p->next_periodic = ck_mono_ns() + p->period;
    while (!p->stop) {
        int64_t now = ck_mono_ns();
        refill(p, now);
        bool due = p->pending || now >= p->next_periodic || (p->retry_at && now >= p->retry_at);
        if (due && p->tokens >= 1.0) {
            p->tokens -= 1.0;
            p->retry_at = 0;
            pthread_mutex_unlock(&p->mu);
            int rc = kp_proxier_sync_once(p);
            pthread_mutex_lock(&p->mu);
            now = ck_mono_ns();
            p->next_periodic = now + p->period;
            if (rc < 0)
                p->retry_at = now + p->period;
            continue;
        }
        int64_t wake = p->next_periodic;
        if (p->retry_at && p->retry_at < wake)
            wake = p->retry_at;
        if (due) /* waiting for a token */
            wake = now + (int64_t)((1.0 - p->tokens) * (double)p->min_period) + 1;
        struct timespec ts = {wake / NS_PER_SEC, wake % NS_PER_SEC};
        pthread_cond_timedwait(&p->cond, &p->mu, &ts);
    }
    pthread_mutex_unlock(&p->mu);
    if (stop)
        ck_cancel_hook_remove(stop, hook);
    return 0;
}

void kp_proxier_status(struct kp_proxier *p, struct kp_proxier_status *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->status;
    pthread_mutex_unlock(&p->mu);
}

bool kp_proxier_healthy(struct kp_proxier *p, int64_t timeout_ns)
{
    pthread_mutex_lock(&p->mu);
    int64_t since = p->status.oldest_pending_mono_ns;
    pthread_mutex_unlock(&p->mu);
    return since == 0 || ck_mono_ns() - since <= timeout_ns;
}
