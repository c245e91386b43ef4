/* leader.h - leader election through a coordination.k8s.io/v1 Lease, as client-go's
 * tools/leaderelection with a LeaseLock (kube-controller-manager, kube-scheduler).
 *
 * The Lease spec carries holderIdentity ("<hostname>_<uuid>" by default, as upstream's
 * binaries), leaseDurationSeconds, acquireTime and renewTime (MicroTime) and leaseTransitions.
 * Every write is a PUT carrying the resourceVersion last read, so two candidates can never
 * both succeed (optimistic concurrency).
 *
 * Candidates poll every retry period (jittered by a factor up to 1.2). A lease counts as
 * expired when lease_duration has passed since THIS candidate last saw it change (its own
 * monotonic clock, never the renewTime written by another machine, so clock skew does not
 * matter). Taking over increments leaseTransitions; the leader keeps acquireTime and renews
 * renewTime every retry period. If renewing fails for renew_deadline, leadership is lost.
 *
 * Run sequence (ck_leader_elector_run, blocking): acquire; on success on_started_leading runs
 * on its own thread with a `leading` cancel token that fires when leadership ends (it must
 * return then); renew until the deadline is missed or `cancel` fires; with release_on_cancel a
 * cancelled leader gives the lease up (empty holder, duration 1 s) so another takes over at
 * once; finally on_stopped_leading runs (always, even when never elected, as upstream).
 * Upstream's binaries exit when leadership is lost.
 *
 * Defaults and checks are upstream's: lease 15 s, renew deadline 10 s, retry 2 s; "leaseDuration
 * must be greater than renewDeadline", "renewDeadline must be greater than
 * retryPeriod*JitterFactor", ...
 * Metric: leader_election_master_status{name} (1 while leading).
 */
#ifndef CK_LEADER_H
#define CK_LEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cancel.h"
#include "client.h"
#include "error.h"
#include "metrics.h"

struct ck_event_recorder;

struct ck_leader_config {
    struct ck_client *client; /* borrowed */
    const char *namespace;    /* NULL: "kube-system" */
    const char *name;         /* the Lease, e.g. "kube-controller-manager" */
    const char *identity;     /* NULL: ck_leader_default_identity() */
    int64_t lease_duration_ns, renew_deadline_ns, retry_period_ns; /* 0: 15 s, 10 s, 2 s */
    bool release_on_cancel;
    /* Runs on its own thread once elected; must return when `leading` fires. */
    void (*on_started_leading)(void *ctx, struct ck_cancel *leading);
    /* Runs when run() ends (on its thread). */
    void (*on_stopped_leading)(void *ctx);
    /* Optional: the observed leader changed (may be "" when released). */
    void (*on_new_leader)(void *ctx, const char *identity);
    void *ctx;
    struct ck_event_recorder *recorder; /* optional: "<id> became leader" Events on the Lease */
    struct ck_metrics *metrics;         /* NULL: ck_metrics_default() */
};

struct ck_leader_elector;

/* "<hostname>_<random uuid>", as kube-controller-manager and kube-scheduler name themselves.
 * Caller frees. */
char *ck_leader_default_identity(void);

/* Validates cfg (strings are copied) and returns an elector in *out (ck_leader_elector_free).
 * Errors have code 0 and upstream's messages. */
int ck_leader_elector_new(const struct ck_leader_config *cfg, struct ck_leader_elector **out,
                          struct ck_error *err);
void ck_leader_elector_free(struct ck_leader_elector *le);

/* Runs the election (see above). Returns -ECANCELED when cancel fired, -ETIMEDOUT when
 * leadership was lost (renew deadline missed). */
int ck_leader_elector_run(struct ck_leader_elector *le, struct ck_cancel *cancel);

/* This candidate's identity (borrowed). */
const char *ck_leader_identity(const struct ck_leader_elector *le);
/* True when the last observed holder is this candidate. */
bool ck_leader_is_leader(struct ck_leader_elector *le);
/* The last observed holder, copied into out ("" when none). */
void ck_leader_get_leader(struct ck_leader_elector *le, char *out, size_t size);
/* upstream's leader-election healthz check (NewLeaderHealthzAdaptor): fails (-ETIMEDOUT, err
 * "failed election to renew leadership on lease <name>") when leading but not renewed for
 * lease duration + tolerance. 0 otherwise (also for a NULL elector). */
int ck_leader_check(struct ck_leader_elector *le, int64_t tolerance_ns, struct ck_error *err);

#endif
