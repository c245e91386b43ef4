/* sync.h - kube-proxy's sync loop (upstream's Proxier.syncProxyRules driven by a
 * BoundedFrequencyRunner): reads the Services and EndpointSlices informer stores, builds the
 * rule set (rules.h) and writes it (iptc.h), rate-limited and mostly partial.
 *
 * Timing, as upstream's iptables proxier:
 *  - kp_proxier_request_sync (upstream's Sync(), called from informer handlers) queues a sync;
 *    syncs run at most once per --iptables-min-sync-period (default 1 s) with a burst of 2,
 *    so a storm of changes costs a few syncs, and the first change after a quiet spell is
 *    programmed at once.
 *  - every --iptables-sync-period (default 30 s) a periodic sync runs (upstream's iptables
 *    monitor: a table whose KUBE-PROXY-CANARY vanished is rewritten in full; otherwise
 *    nothing changed and nothing is committed).
 *  - a failed sync is retried after --iptables-sync-period and makes the next sync full.
 *  - a full sync (every chain rewritten, jump rules ensured) happens first, after a failure,
 *    and once an hour (upstream's FullSyncPeriod); every other sync rewrites only the chains
 *    whose rules changed.
 * Metrics (registered in opts.metrics or the default registry), upstream's names:
 *   kubeproxy_sync_proxy_rules_duration_seconds, kubeproxy_sync_full_proxy_rules_duration_seconds,
 *   kubeproxy_sync_partial_proxy_rules_duration_seconds (histograms),
 *   kubeproxy_sync_proxy_rules_last_timestamp_seconds,
 *   kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds,
 *   kubeproxy_sync_proxy_rules_iptables_total{table},
 *   kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy} (gauges),
 *   kubeproxy_sync_proxy_rules_iptables_restore_failures_total,
 *   kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total (counters).
 * After each successful sync the stale UDP conntrack entries are deleted (conntrack.h), when
 * opts.conntrack_tool is set and some service has a UDP port.
 *
 * Ownership: the proxier belongs to the caller (kp_proxier_free, after kp_proxier_run has
 * returned); it copies the node configuration; the stores are borrowed and must outlive it.
 * Thread-safety: request_sync, status and healthy may be called from any thread; run and
 * sync_once from one thread at a time. A mutex guards the schedule and the status.
 */
#ifndef KP_SYNC_H
#define KP_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "cancel.h"
#include "iptc.h"
#include "metrics.h"
#include "rules.h"
#include "store.h"

/* The rule writer: kp_iptc_sync by default; tests may put a fake in. Returns 0 or < 0. */
typedef int (*kp_write_fn)(void *ctx, const struct kp_ruleset *rs, bool full,
                           struct kp_iptc_stats *stats);

struct kp_proxier_opts {
    struct kp_node_config node; /* copied, strings included */
    int64_t min_sync_period_ns; /* 0: 1 s; < 0: no rate limit */
    int64_t sync_period_ns;     /* 0: 30 s */
    struct ck_store *services;  /* borrowed: the Service informer's store */
    struct ck_store *slices;    /* borrowed: the EndpointSlice informer's store */
    struct kp_iptc_opts iptc;
    struct ck_metrics *metrics; /* NULL: ck_metrics_default() */
    kp_write_fn write;          /* NULL: a kp_iptc writer */
    void *write_ctx;
    /* The conntrack tool (conntrack.h) that clears stale UDP entries after each successful
     * sync; NULL or "": no cleaning. */
    const char *conntrack_tool;
};

struct kp_proxier_status {
    uint64_t syncs, full_syncs, partial_syncs, failures;
    int64_t last_sync_wall_ns;      /* wall clock of the last successful sync (0: none) */
    int64_t last_queued_wall_ns;    /* wall clock of the last request_sync */
    int64_t oldest_pending_mono_ns; /* queued and not yet synced since (0: nothing pending) */
    struct kp_iptc_stats last;      /* the writer's report of the last sync */
    struct kp_ruleset_stats rules;
};

struct kp_proxier;

/* Caller frees with kp_proxier_free. Fails with -EINVAL for bad node config or periods. */
int kp_proxier_new(const struct kp_proxier_opts *opts, struct kp_proxier **out);
void kp_proxier_free(struct kp_proxier *p);

/* Queues a sync (upstream's Sync()). */
void kp_proxier_request_sync(struct kp_proxier *p);
/* Forces the next sync to be full (e.g. the node's configuration changed). */
void kp_proxier_force_full(struct kp_proxier *p);
/* One sync now, in this thread, ignoring the rate limit. Returns the writer's result. */
int kp_proxier_sync_once(struct kp_proxier *p);
/* The loop: runs queued, periodic and retry syncs until stop fires. Returns 0. */
int kp_proxier_run(struct kp_proxier *p, struct ck_cancel *stop);

/* A snapshot of the counters. */
void kp_proxier_status(struct kp_proxier *p, struct kp_proxier_status *out);
/* upstream's proxier health: false when a queued change has waited longer than timeout_ns
 * without a successful sync. */
bool kp_proxier_healthy(struct kp_proxier *p, int64_t timeout_ns);

#endif
