/* etcd_lease.c - leases: grant, keep-alive (once and periodic), revoke, time-to-live, and
 * upstream's lease manager that lets many TTL'd writes share one lease (see etcd.h).
 */
#include "etcd_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "encoding.h"
#include "log.h"
#include "mem.h"

static int lease_call(struct etcd_client *c, const char *path, const char *body,
                      enum etcd_retry retry, struct etcd_call *call, struct ck_error *err)
{
    memset(call, 0, sizeof(*call));
    call->path = path;
    call->body = body;
    call->body_len = strlen(body);
    call->retry = retry;
    call->endpoint = -1;
    return etcd_do(c, call, err);
}

int etcd_lease_grant(struct etcd_client *c, int64_t ttl, int64_t *id, int64_t *granted_ttl,
                     struct ck_error *err)
{
    *id = 0;
    if (ttl <= 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "etcd: lease TTL must be positive");
    char body[64];
    snprintf(body, sizeof(body), "{\"TTL\":\"%" PRId64 "\"}", ttl);
    /* a duplicate grant after an unknown outcome only leaves an unused lease to expire */
    struct etcd_call call;
    int rc = lease_call(c, "/v3/lease/grant", body, ETCD_RETRY_IDEMPOTENT, &call, err);
    if (rc < 0)
        return rc;
    *id = etcd_json_i64(call.resp, "ID");
    if (granted_ttl)
        *granted_ttl = etcd_json_i64(call.resp, "TTL");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(call.resp, "error");
    if (cJSON_IsString(e) && e->valuestring[0])
        rc = etcd_map_error(e->valuestring, 0, err);
    else if (*id == 0)
        rc = etcd_bad_response(err, "lease grant without ID");
    cJSON_Delete(call.resp);
    return rc;
}

int etcd_lease_keepalive_once(struct etcd_client *c, int64_t id, int64_t *ttl, struct ck_error *err)
{
    if (ttl)
        *ttl = 0;
    char body[64];
    snprintf(body, sizeof(body), "{\"ID\":\"%" PRId64 "\"}", id);
    struct etcd_call call;
    int rc = lease_call(c, "/v3/lease/keepalive", body, ETCD_RETRY_IDEMPOTENT, &call, err);
    if (rc < 0)
        return rc;
    /* a stream endpoint: the one answer is wrapped in "result"; TTL <= 0 means unknown */
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(call.resp, "result");
    int64_t left = etcd_json_i64(res, "TTL");
    cJSON_Delete(call.resp);
    if (!res)
        return etcd_bad_response(err, "keepalive without result");
    if (left <= 0)
        return ck_error_set(err, 404, CK_REASON_NOT_FOUND, "etcdserver: requested lease not found");
    if (ttl)
        *ttl = left;
    return 0;
}

int etcd_lease_revoke(struct etcd_client *c, int64_t id, struct ck_error *err)
{
    char body[64];
    snprintf(body, sizeof(body), "{\"ID\":\"%" PRId64 "\"}", id);
    struct etcd_call call;
    /* retried: if an earlier attempt revoked it, "not found" on the retry means done */
    int rc = lease_call(c, "/v3/lease/revoke", body, ETCD_RETRY_IDEMPOTENT, &call, err);
    if (rc == -ENOENT && call.ambiguous) {
        ck_error_clear(err);
        return 0;
    }
    if (rc < 0)
        return rc;
    cJSON_Delete(call.resp);
    return 0;
}

int etcd_lease_time_to_live(struct etcd_client *c, int64_t id, bool keys,
                            struct etcd_lease_info *info, struct ck_error *err)
{
    memset(info, 0, sizeof(*info));
    char body[96];
    snprintf(body, sizeof(body), "{\"ID\":\"%" PRId64 "\"%s}", id, keys ? ",\"keys\":true" : "");
    struct etcd_call call;
    int rc = lease_call(c, "/v3/lease/timetolive", body, ETCD_RETRY_IDEMPOTENT, &call, err);
    if (rc < 0)
        return rc;
    info->id = etcd_json_i64(call.resp, "ID");
    info->ttl = etcd_json_i64(call.resp, "TTL");
    info->granted_ttl = etcd_json_i64(call.resp, "grantedTTL");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(call.resp, "keys");
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    if (n > 0) {
        info->keys = ck_xcalloc((size_t)n, sizeof(char *));
        const cJSON *k;
        cJSON_ArrayForEach(k, arr)
        {
            uint8_t *data;
            size_t len;
            if (!cJSON_IsString(k) ||
                ck_base64_decode(k->valuestring, strlen(k->valuestring), &data, &len) < 0) {
                cJSON_Delete(call.resp);
                etcd_lease_info_free(info);
                return etcd_bad_response(err, "lease keys");
            }
            info->keys[info->n_keys++] = (char *)data;
        }
    }
    cJSON_Delete(call.resp);
    return 0;
}

void etcd_lease_info_free(struct etcd_lease_info *info)
{
    if (!info)
        return;
    for (size_t i = 0; i < info->n_keys; i++)
        free(info->keys[i]);
    free(info->keys);
    memset(info, 0, sizeof(*info));
}

/* ---- periodic keep-alive ----------------------------------------------------------------- */

struct etcd_keepalive {
    struct etcd_client *c; /* immutable */
    int64_t id;            /* immutable */
    int interval_ms;       /* immutable */
    pthread_t thread;
    pthread_mutex_t mu; /* guards stop */
    pthread_cond_t cv;  /* signalled on stop */
    bool stop;
    atomic_bool lost; /* written by the loop, read by anyone */
};

static void *keepalive_loop(void *arg)
{
    struct etcd_keepalive *k = arg;
    int64_t next = etcd_now_ms() + k->interval_ms;
    for (;;) {
        pthread_mutex_lock(&k->mu);
        while (!k->stop && etcd_now_ms() < next)
            etcd_cond_wait_until(&k->cv, &k->mu, next);
        bool stop = k->stop;
        pthread_mutex_unlock(&k->mu);
        if (stop)
            break;
        struct ck_error err = CK_ERROR_INIT;
        int rc = etcd_lease_keepalive_once(k->c, k->id, NULL, &err);
        if (rc == -ENOENT) {
            ck_warn("etcd: lease %" PRId64 " expired; keep-alive stops", k->id);
            atomic_store(&k->lost, true);
            ck_error_clear(&err);
            break;
        }
        if (rc < 0)
            ck_vinfo(2, "etcd: lease %" PRId64 " keep-alive failed: %s", k->id, err.message);
        ck_error_clear(&err);
        /* after a failure try again sooner, the lease may be close to its end */
        int64_t wait = rc < 0 && k->interval_ms > 1000 ? 1000 : k->interval_ms;
        next = etcd_now_ms() + wait;
    }
    return NULL;
}

int etcd_keepalive_start(struct etcd_client *c, int64_t id, int interval_ms,
                         struct etcd_keepalive **out, struct ck_error *err)
{
    *out = NULL;
    if (interval_ms <= 0) {
        int64_t ttl = 0;
        int rc = etcd_lease_keepalive_once(c, id, &ttl, err);
        if (rc < 0)
            return rc;
        interval_ms = ttl * 1000 / 3 > 500 ? (int)(ttl * 1000 / 3) : 500;
    }
    struct etcd_keepalive *k = ck_xcalloc(1, sizeof(*k));
    k->c = c;
    k->id = id;
    k->interval_ms = interval_ms;
    pthread_mutex_init(&k->mu, NULL);
    etcd_cond_init(&k->cv);
    atomic_init(&k->lost, false);
    if (pthread_create(&k->thread, NULL, keepalive_loop, k) != 0) {
        pthread_cond_destroy(&k->cv);
        pthread_mutex_destroy(&k->mu);
        free(k);
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "etcd: cannot start keep-alive thread");
    }
    *out = k;
    return 0;
}

bool etcd_keepalive_lost(struct etcd_keepalive *k)
{
    return atomic_load(&k->lost);
}

void etcd_keepalive_stop(struct etcd_keepalive *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

/* ---- lease manager ----------------------------------------------------------------------- */

struct etcd_lease_manager {
    struct etcd_client *c; /* immutable */
    int64_t reuse_seconds; /* immutable */
    double reuse_percent;  /* immutable */
    int64_t max_objects;   /* immutable */
    /* guarded by mu, which is held across a grant so that concurrent writers share one */
    pthread_mutex_t mu;
    int64_t prev_id;
    int64_t prev_expiry_ms; /* etcd_now_ms time at which prev_id's granted TTL runs out */
    int64_t prev_count;     /* writes handed prev_id */
};

struct etcd_lease_manager *etcd_lease_manager_new(struct etcd_client *c, int64_t reuse_seconds,
                                                  double reuse_percent, int64_t max_objects)
{
    struct etcd_lease_manager *m = ck_xcalloc(1, sizeof(*m));
    m->c = c;
    m->reuse_seconds = reuse_seconds > 0 ? reuse_seconds : 60;
    m->reuse_percent = reuse_percent > 0 ? reuse_percent : 0.05;
    m->max_objects = max_objects > 0 ? max_objects : 1000;
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

int etcd_lease_manager_get(struct etcd_lease_manager *m, int64_t ttl, int64_t *id,
                           struct ck_error *err)
{
    *id = 0;
    if (ttl <= 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "etcd: lease TTL must be positive");
    pthread_mutex_lock(&m->mu);
    int64_t now = etcd_now_ms();
    int64_t reuse = (int64_t)(m->reuse_percent * (double)ttl);
    if (reuse > m->reuse_seconds)
        reuse = m->reuse_seconds;
    /* reusable while it outlives the requested TTL, but not by more than the window */
    bool valid = now + ttl * 1000 < m->prev_expiry_ms;
    bool sufficient = now + (ttl + reuse) * 1000 > m->prev_expiry_ms;
    if (m->prev_id && valid && sufficient && m->prev_count < m->max_objects) {
        m->prev_count++;
        *id = m->prev_id;
        pthread_mutex_unlock(&m->mu);
        return 0;
    }
    int64_t granted = 0;
    int rc = etcd_lease_grant(m->c, ttl + reuse, id, &granted, err);
    if (rc == 0) {
        m->prev_id = *id;
        m->prev_expiry_ms = now + (ttl + reuse) * 1000;
        m->prev_count = 1;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

void etcd_lease_manager_free(struct etcd_lease_manager *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}
