/* leader.c - leader election on a coordination.k8s.io/v1 Lease, following client-go's
 * leaderelection package (see leader.h). */
#include "leader.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encoding.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "timeutil.h"

#define JITTER_FACTOR 1.2

static const struct ck_gvr lease_gvr = {"coordination.k8s.io", "v1", "leases"};

/* client-go's LeaderElectionRecord */
struct record {
    char holder[256];
    int64_t duration_s;
    char acquire[CK_TIME_BUFSZ], renew[CK_TIME_BUFSZ];
    int64_t transitions;
};

struct ck_leader_elector {
    struct ck_leader_config cfg; /* strings below owned */
    char *ns, *name, *identity, *desc;
    pthread_mutex_t lock;    /* guards everything below */
    cJSON *lease;            /* the Lease as last read or written (for its resourceVersion) */
    struct record observed;
    char *observed_raw;      /* canonical JSON of the observed spec */
    int64_t observed_ns;     /* monotonic time of the last observation change */
    char reported[256];      /* leader last reported to on_new_leader */
    bool leading;
    struct ck_metric *m_status;
};

char *ck_leader_default_identity(void)
{
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
        snprintf(host, sizeof(host), "localhost");
    char uuid[37];
    ck_uuid4(uuid);
    return ck_xasprintf("%s_%s", host, uuid);
}

static int cfg_error(struct ck_error *err, const char *msg)
{
    if (err) {
        ck_error_clear(err);
        snprintf(err->message, sizeof(err->message), "%s", msg);
    }
    return -EINVAL;
}

int ck_leader_elector_new(const struct ck_leader_config *cfg, struct ck_leader_elector **out,
                          struct ck_error *err)
{
    *out = NULL;
    if (!cfg || !cfg->client || !cfg->name || !cfg->name[0])
        return cfg_error(err, "Lock must not be nil.");
    struct ck_leader_config c = *cfg;
    if (!c.lease_duration_ns)
        c.lease_duration_ns = 15 * CK_SECOND;
    if (!c.renew_deadline_ns)
        c.renew_deadline_ns = 10 * CK_SECOND;
    if (!c.retry_period_ns)
        c.retry_period_ns = 2 * CK_SECOND;
    /* upstream's NewLeaderElector checks, in its order */
    if (c.lease_duration_ns <= c.renew_deadline_ns)
        return cfg_error(err, "leaseDuration must be greater than renewDeadline");
    if (c.renew_deadline_ns <= (int64_t)(JITTER_FACTOR * (double)c.retry_period_ns))
        return cfg_error(err, "renewDeadline must be greater than retryPeriod*JitterFactor");
    if (c.lease_duration_ns < 1)
        return cfg_error(err, "leaseDuration must be greater than zero");
    if (c.renew_deadline_ns < 1)
        return cfg_error(err, "renewDeadline must be greater than zero");
    if (c.retry_period_ns < 1)
        return cfg_error(err, "retryPeriod must be greater than zero");
    if (!c.on_started_leading)
        return cfg_error(err, "OnStartedLeading callback must not be nil");
    if (!c.on_stopped_leading)
        return cfg_error(err, "OnStoppedLeading callback must not be nil");
    if (c.identity && !c.identity[0])
        return cfg_error(err, "Lock identity is empty");
    struct ck_leader_elector *le = ck_xcalloc(1, sizeof(*le));
    le->ns = ck_xstrdup(c.namespace && c.namespace[0] ? c.namespace : "kube-system");
    le->name = ck_xstrdup(c.name);
    le->identity = c.identity ? ck_xstrdup(c.identity) : ck_leader_default_identity();
    le->desc = ck_xasprintf("%s/%s", le->ns, le->name);
    c.namespace = le->ns;
    c.name = le->name;
    c.identity = le->identity;
    le->cfg = c;
    pthread_mutex_init(&le->lock, NULL);
    static const char *const lbl[] = {"name", NULL};
    le->m_status = ck_metric_with(
        ck_metrics_gauge(c.metrics ? c.metrics : ck_metrics_default(),
                         "leader_election_master_status",
                         "Gauge of if the reporting system is master of the relevant lease, 0 "
                         "indicates backup, 1 indicates master. 'name' is the string used to "
                         "identify the lease. Please make sure to group by name.",
                         lbl),
        le->name, NULL);
    ck_metric_set(le->m_status, 0);
    *out = le;
    return 0;
}

void ck_leader_elector_free(struct ck_leader_elector *le)
{
    if (!le)
        return;
    cJSON_Delete(le->lease);
    free(le->observed_raw);
    free(le->ns);
    free(le->name);
    free(le->identity);
    free(le->desc);
    pthread_mutex_destroy(&le->lock);
    free(le);
}

const char *ck_leader_identity(const struct ck_leader_elector *le)
{
    return le->identity;
}

bool ck_leader_is_leader(struct ck_leader_elector *le)
{
    pthread_mutex_lock(&le->lock);
    bool l = !strcmp(le->observed.holder, le->identity);
    pthread_mutex_unlock(&le->lock);
    return l;
}

void ck_leader_get_leader(struct ck_leader_elector *le, char *out, size_t size)
{
    pthread_mutex_lock(&le->lock);
    snprintf(out, size, "%s", le->observed.holder);
    pthread_mutex_unlock(&le->lock);
}

/* ---- the record <-> Lease spec ------------------------------------------------------------- */

static void record_from_spec(const cJSON *spec, struct record *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->holder, sizeof(r->holder), "%s", ck_json_get_string(spec, "holderIdentity", ""));
    r->duration_s = ck_json_get_int64(spec, "leaseDurationSeconds", 0);
    snprintf(r->acquire, sizeof(r->acquire), "%s", ck_json_get_string(spec, "acquireTime", ""));
    snprintf(r->renew, sizeof(r->renew), "%s", ck_json_get_string(spec, "renewTime", ""));
    r->transitions = ck_json_get_int64(spec, "leaseTransitions", 0);
}

static cJSON *spec_from_record(const struct record *r)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "holderIdentity", r->holder);
    cJSON_AddItemToObject(s, "leaseDurationSeconds", ck_json_new_int64(r->duration_s));
    if (r->acquire[0])
        cJSON_AddStringToObject(s, "acquireTime", r->acquire);
    if (r->renew[0])
        cJSON_AddStringToObject(s, "renewTime", r->renew);
    cJSON_AddItemToObject(s, "leaseTransitions", ck_json_new_int64(r->transitions));
    return s;
}

/* caller holds le->lock */
static void set_observed(struct ck_leader_elector *le, const struct record *r)
{
    le->observed = *r;
    le->observed_ns = ck_mono_ns();
}

/* caller holds le->lock */
static bool lease_valid(struct ck_leader_elector *le, int64_t now)
{
    return le->observed_ns + le->observed.duration_s * CK_SECOND > now;
}

static int64_t remaining(int64_t deadline)
{
    int64_t left = deadline - ck_mono_ns();
    return left < 1000000 ? 1000000 : left; /* at least 1 ms */
}

/* PUT the Lease with spec r, based on the last Lease read (optimistic concurrency). */
static int update_lease(struct ck_leader_elector *le, const struct record *r, int64_t deadline,
                        struct ck_error *err)
{
    pthread_mutex_lock(&le->lock);
    cJSON *lease = le->lease ? ck_json_dup(le->lease) : NULL;
    pthread_mutex_unlock(&le->lock);
    if (!lease) {
        if (err)
            snprintf(err->message, sizeof(err->message),
                     "lease not initialized, call get or create first");
        return -EINVAL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(lease, "spec");
    cJSON_AddItemToObject(lease, "spec", spec_from_record(r));
    char *body = ck_json_print(lease, 0);
    cJSON_Delete(lease);
    struct ck_request req = {.verb = "PUT", .gvr = &lease_gvr, .namespace = le->ns,
                             .name = le->name, .body = body, .body_len = strlen(body),
                             .timeout_ns = remaining(deadline), .max_retries = -1};
    cJSON *out = NULL;
    int rc = ck_client_do_json(le->cfg.client, &req, NULL, &out, err);
    free(body);
    if (rc == 0) {
        pthread_mutex_lock(&le->lock);
        cJSON_Delete(le->lease);
        le->lease = out;
        pthread_mutex_unlock(&le->lock);
    } else {
        cJSON_Delete(out);
    }
    return rc;
}

/* client-go's tryAcquireOrRenew */
static bool try_acquire_or_renew(struct ck_leader_elector *le, int64_t deadline)
{
    struct record rec = {0};
    snprintf(rec.holder, sizeof(rec.holder), "%s", le->identity);
    rec.duration_s = le->cfg.lease_duration_ns / CK_SECOND;
    ck_microtime_now_string(rec.renew);
    memcpy(rec.acquire, rec.renew, sizeof(rec.acquire));
    struct ck_error err = CK_ERROR_INIT;

    /* 1. the leader's fast path: update assuming the Lease did not change */
    pthread_mutex_lock(&le->lock);
    bool fast = !strcmp(le->observed.holder, le->identity) && lease_valid(le, ck_mono_ns());
    struct record old = le->observed;
    pthread_mutex_unlock(&le->lock);
    if (fast) {
        memcpy(rec.acquire, old.acquire, sizeof(rec.acquire));
        rec.transitions = old.transitions;
        if (update_lease(le, &rec, deadline, &err) == 0) {
            pthread_mutex_lock(&le->lock);
            set_observed(le, &rec);
            pthread_mutex_unlock(&le->lock);
            return true;
        }
        ck_err("Failed to update lock optimistically: %s, falling back to slow path",
               err.message);
        ck_error_clear(&err);
    }

    /* 2. get or create the Lease */
    cJSON *lease = NULL;
    struct ck_request get = {.verb = "GET", .gvr = &lease_gvr, .namespace = le->ns,
                             .name = le->name, .timeout_ns = remaining(deadline),
                             .max_retries = -1};
    int rc = ck_client_do_json(le->cfg.client, &get, NULL, &lease, &err);
    if (rc == -ENOENT) {
        ck_error_clear(&err);
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "apiVersion", "coordination.k8s.io/v1");
        cJSON_AddStringToObject(obj, "kind", "Lease");
        cJSON *md = cJSON_AddObjectToObject(obj, "metadata");
        cJSON_AddStringToObject(md, "name", le->name);
        cJSON_AddStringToObject(md, "namespace", le->ns);
        cJSON_AddItemToObject(obj, "spec", spec_from_record(&rec));
        struct ck_request create = {.verb = "POST", .gvr = &lease_gvr, .namespace = le->ns,
                                    .timeout_ns = remaining(deadline), .max_retries = -1};
        cJSON *created = NULL;
        rc = ck_client_do_json(le->cfg.client, &create, obj, &created, &err);
        cJSON_Delete(obj);
        if (rc < 0) {
            ck_err("error initially creating leader election record: %s", err.message);
            ck_error_clear(&err);
            return false;
        }
        pthread_mutex_lock(&le->lock);
        cJSON_Delete(le->lease);
        le->lease = created;
        set_observed(le, &rec);
        pthread_mutex_unlock(&le->lock);
        return true;
    }
    if (rc < 0) {
        ck_err("error retrieving resource lock %s: %s", le->desc, err.message);
        ck_error_clear(&err);
        return false;
    }

    /* 3. compare with what we saw before: expiry counts from when WE saw the last change */
    const cJSON *spec = ck_json_get(lease, "spec");
    char *raw = ck_json_canonical(spec);
    if (!raw)
        raw = ck_xstrdup("");
    struct record cur;
    record_from_spec(spec, &cur);
    pthread_mutex_lock(&le->lock);
    cJSON_Delete(le->lease);
    le->lease = lease;
    if (!le->observed_raw || strcmp(le->observed_raw, raw)) {
        set_observed(le, &cur);
        free(le->observed_raw);
        le->observed_raw = raw;
        raw = NULL;
    }
    free(raw);
    bool is_leader = !strcmp(le->observed.holder, le->identity);
    if (cur.holder[0] && lease_valid(le, ck_mono_ns()) && !is_leader) {
        pthread_mutex_unlock(&le->lock);
        ck_vinfo(4, "lock is held by %s and has not yet expired", cur.holder);
        return false;
    }
    pthread_mutex_unlock(&le->lock);

    /* 4. take over (or renew through the slow path) */
    if (is_leader) {
        memcpy(rec.acquire, cur.acquire, sizeof(rec.acquire));
        rec.transitions = cur.transitions;
    } else {
        rec.transitions = cur.transitions + 1;
    }
    if (update_lease(le, &rec, deadline, &err) < 0) {
        ck_err("Failed to update lock: %s", err.message);
        ck_error_clear(&err);
        return false;
    }
    pthread_mutex_lock(&le->lock);
    set_observed(le, &rec);
    pthread_mutex_unlock(&le->lock);
    return true;
}

static void maybe_report_transition(struct ck_leader_elector *le)
{
    char leader[256];
    pthread_mutex_lock(&le->lock);
    bool changed = strcmp(le->observed.holder, le->reported) != 0;
    if (changed)
        snprintf(le->reported, sizeof(le->reported), "%s", le->observed.holder);
    snprintf(leader, sizeof(leader), "%s", le->observed.holder);
    pthread_mutex_unlock(&le->lock);
    if (changed && le->cfg.on_new_leader)
        le->cfg.on_new_leader(le->cfg.ctx, leader);
}

/* Gives the Lease up: empty holder, duration 1 s, as client-go's release. */
static void release(struct ck_leader_elector *le)
{
    if (!ck_leader_is_leader(le))
        return;
    struct record rec = {0};
    pthread_mutex_lock(&le->lock);
    rec.transitions = le->observed.transitions;
    pthread_mutex_unlock(&le->lock);
    rec.duration_s = 1;
    ck_microtime_now_string(rec.renew);
    memcpy(rec.acquire, rec.renew, sizeof(rec.acquire));
    struct ck_error err = CK_ERROR_INIT;
    if (update_lease(le, &rec, ck_mono_ns() + le->cfg.renew_deadline_ns, &err) < 0) {
        ck_err("Failed to release lock: %s", err.message);
        ck_error_clear(&err);
        return;
    }
    pthread_mutex_lock(&le->lock);
    set_observed(le, &rec);
    pthread_mutex_unlock(&le->lock);
    ck_info("released lease %s", le->desc);
}

struct started {
    struct ck_leader_elector *le;
    struct ck_cancel *leading;
};

static void *started_main(void *arg)
{
    struct started *s = arg;
    s->le->cfg.on_started_leading(s->le->cfg.ctx, s->leading);
    return NULL;
}

int ck_leader_elector_run(struct ck_leader_elector *le, struct ck_cancel *cancel)
{
    int rc = 0;
    int64_t retry = le->cfg.retry_period_ns;
    ck_info("attempting to acquire leader lease %s...", le->desc);
    for (;;) {
        if (ck_cancel_fired(cancel)) {
            rc = -ECANCELED;
            goto out;
        }
        bool ok = try_acquire_or_renew(le, ck_mono_ns() + le->cfg.renew_deadline_ns);
        maybe_report_transition(le);
        if (ok)
            break;
        ck_vinfo(4, "failed to acquire lease %s", le->desc);
        int64_t wait = retry + (int64_t)((double)rand() / RAND_MAX * JITTER_FACTOR *
                                         (double)retry);
        if (ck_cancel_sleep(cancel, wait) < 0) {
            rc = -ECANCELED;
            goto out;
        }
    }
    ck_info("successfully acquired lease %s", le->desc);
    ck_metric_set(le->m_status, 1);
    pthread_mutex_lock(&le->lock);
    le->leading = true;
    cJSON *lease = ck_json_dup(le->lease);
    pthread_mutex_unlock(&le->lock);
    if (le->cfg.recorder && lease) {
        cJSON_ReplaceItemInObjectCaseSensitive(lease, "kind", cJSON_CreateString("Lease"));
        cJSON_ReplaceItemInObjectCaseSensitive(lease, "apiVersion",
                                               cJSON_CreateString("coordination.k8s.io/v1"));
        ck_event_recordf(le->cfg.recorder, lease, CK_EVENT_NORMAL, "LeaderElection",
                         "%s became leader", le->identity);
    }
    cJSON_Delete(lease);

    struct started s = {le, ck_cancel_new()};
    pthread_t started_thread;
    bool started = pthread_create(&started_thread, NULL, started_main, &s) == 0;
    if (!started)
        le->cfg.on_started_leading(le->cfg.ctx, s.leading); /* degrade: run inline */
    for (;;) {
        int64_t start = ck_mono_ns(), deadline = start + le->cfg.renew_deadline_ns;
        bool ok = false;
        while (!ck_cancel_fired(cancel)) {
            ok = try_acquire_or_renew(le, deadline);
            maybe_report_transition(le);
            if (ok || ck_mono_ns() + retry >= deadline)
                break;
            ck_cancel_sleep(cancel, retry);
        }
        if (ck_cancel_fired(cancel)) {
            rc = -ECANCELED;
            break;
        }
        if (!ok) {
            ck_info("failed to renew lease %s: timed out waiting for the condition", le->desc);
            rc = -ETIMEDOUT;
            break;
        }
        ck_vinfo(5, "successfully renewed lease %s", le->desc);
        if (ck_cancel_sleep(cancel, retry) < 0) {
            rc = -ECANCELED;
            break;
        }
    }
    ck_metric_set(le->m_status, 0);
    ck_cancel_fire(s.leading);
    if (started)
        pthread_join(started_thread, NULL);
    ck_cancel_free(s.leading);
    pthread_mutex_lock(&le->lock);
    le->leading = false;
    pthread_mutex_unlock(&le->lock);
    if (rc == -ECANCELED && le->cfg.release_on_cancel)
        release(le);
out:
    le->cfg.on_stopped_leading(le->cfg.ctx);
    return rc;
}

int ck_leader_check(struct ck_leader_elector *le, int64_t tolerance_ns, struct ck_error *err)
{
    if (!le)
        return 0;
    pthread_mutex_lock(&le->lock);
    bool bad = le->leading && !strcmp(le->observed.holder, le->identity) &&
               le->observed_ns + le->cfg.lease_duration_ns + tolerance_ns < ck_mono_ns();
    pthread_mutex_unlock(&le->lock);
    if (!bad)
        return 0;
    if (err) {
        ck_error_clear(err);
        snprintf(err->message, sizeof(err->message),
                 "failed election to renew leadership on lease %s", le->name);
    }
    return -ETIMEDOUT;
}
