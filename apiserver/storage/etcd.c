/* etcd.c - the etcd client's transport: endpoints, the pool of reused libcurl handles, and the
 * request engine with fail-over, backoff, deadlines and etcd -> API error mapping (see etcd.h).
 */
#include "etcd_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mem.h"

#define MAX_ENDPOINT_LEN 512
#define MAX_ENDPOINTS 64

int64_t etcd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void etcd_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void etcd_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

void etcd_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until_ms)
{
    struct timespec ts = {until_ms / 1000, (until_ms % 1000) * 1000000};
    pthread_cond_timedwait(cv, mu, &ts);
}

/* ---- client lifecycle ------------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    (void)h;
    (void)access;
    struct etcd_client *c = ud;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    (void)h;
    struct etcd_client *c = ud;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&c->share_locks[data]);
}

/* Splits "a, b,c" into trimmed endpoint URLs without trailing '/'. */
static int parse_endpoints(struct etcd_client *c, const char *list, struct ck_error *err)
{
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;
        while (len && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '/'))
            len--;
        if (len) {
            if (len > MAX_ENDPOINT_LEN || c->n_endpoints >= MAX_ENDPOINTS)
                return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                    "etcd endpoints: too many or too long");
            bool http = len > 7 && strncmp(s, "http://", 7) == 0;
            bool https = len > 8 && strncmp(s, "https://", 8) == 0;
            if (!http && !https)
                return ck_error_set(
                    err, 400, CK_REASON_BAD_REQUEST,
                    "etcd endpoint %.*s: want http://host:port or https://host:port", (int)len, s);
            c->endpoints = ck_xrealloc(c->endpoints, (c->n_endpoints + 1) * sizeof(char *));
            c->endpoints[c->n_endpoints++] = ck_xstrndup(s, len);
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (c->n_endpoints == 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "no etcd endpoints given");
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? ck_xstrdup(s) : NULL;
}

int etcd_client_new(const struct etcd_config *cfg, struct etcd_client **out, struct ck_error *err)
{
    *out = NULL;
    if (!cfg || !cfg->endpoints)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "no etcd endpoints given");
    pthread_once(&curl_once, curl_init_once);

    struct etcd_client *c = ck_xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->pool_lock, NULL);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->share_locks[i], NULL);
    int rc = parse_endpoints(c, cfg->endpoints, err);
    if (rc < 0) {
        etcd_client_free(c);
        return rc;
    }
    c->ca_file = dup_or_null(cfg->ca_file);
    c->cert_file = dup_or_null(cfg->cert_file);
    c->key_file = dup_or_null(cfg->key_file);
    c->request_timeout_ms =
        cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : ETCD_DEFAULT_REQUEST_TIMEOUT_MS;
    c->attempt_timeout_ms =
        cfg->attempt_timeout_ms > 0 ? cfg->attempt_timeout_ms : ETCD_DEFAULT_ATTEMPT_TIMEOUT_MS;
    c->dial_timeout_ms =
        cfg->dial_timeout_ms > 0 ? cfg->dial_timeout_ms : ETCD_DEFAULT_DIAL_TIMEOUT_MS;
    c->watch_idle_check_ms =
        cfg->watch_idle_check_ms > 0 ? cfg->watch_idle_check_ms : ETCD_DEFAULT_WATCH_IDLE_CHECK_MS;
    c->max_response_bytes = cfg->max_response_bytes ? cfg->max_response_bytes : (size_t)1 << 30;

    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    /* gRPC metadata through the gateway: fail fast on a member without a leader */
    c->headers = curl_slist_append(c->headers, "Grpc-Metadata-hasleader: true");
    /* large bodies: no 100-continue round trip */
    c->headers = curl_slist_append(c->headers, "Expect:");
    c->share = curl_share_init();
    if (!c->headers || !c->share) {
        etcd_client_free(c);
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "libcurl initialization failed");
    }
    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    *out = c;
    return 0;
}

void etcd_client_free(struct etcd_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_pool; i++)
        curl_easy_cleanup(c->pool[i]);
    if (c->share)
        curl_share_cleanup(c->share);
    curl_slist_free_all(c->headers);
    for (size_t i = 0; i < c->n_endpoints; i++)
        free(c->endpoints[i]);
    free(c->endpoints);
    free(c->ca_file);
    free(c->cert_file);
    free(c->key_file);
    pthread_mutex_destroy(&c->pool_lock);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&c->share_locks[i]);
    free(c);
}

size_t etcd_endpoint_count(const struct etcd_client *c)
{
    return c->n_endpoints;
}

const char *etcd_endpoint(const struct etcd_client *c, size_t i)
{
    return i < c->n_endpoints ? c->endpoints[i] : NULL;
}

/* ---- handle pool ----------------------------------------------------------------------- */

CURL *etcd_handle_get(struct etcd_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->pool_lock);
    if (c->n_pool)
        h = c->pool[--c->n_pool];
    pthread_mutex_unlock(&c->pool_lock);
    if (h)
        return h;
    h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_SHARE, c->share);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 10L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    /* never through an http_proxy from the environment (and no per-request lookup of it) */
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (c->cert_file)
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
    if (c->key_file)
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
    return h;
}

void etcd_handle_put(struct etcd_client *c, CURL *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&c->pool_lock);
    if (c->n_pool < ETCD_POOL_MAX) {
        c->pool[c->n_pool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->pool_lock);
    if (h)
        curl_easy_cleanup(h);
}

/* ---- error mapping --------------------------------------------------------------------- */

/* What an attempt's failure allows. */
enum outcome {
    OUT_OK,
    OUT_UNSENT, /* etcd certainly did not apply it: retry anywhere */
    OUT_MAYBE,  /* unknown: retry only idempotent requests */
    OUT_FINAL,  /* a real answer: return it */
};

/* gRPC status codes the gateway reports in "code" */
enum { GRPC_CANCELED = 1, GRPC_DEADLINE = 4, GRPC_RESOURCE_EXHAUSTED = 8, GRPC_UNAVAILABLE = 14 };

static bool has(const char *msg, const char *needle)
{
    return strstr(msg, needle) != NULL;
}

static int set_retry_details(struct ck_error *err, int rc)
{
    if (err) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "retryAfterSeconds", 1);
        ck_error_set_details(err, d);
    }
    return rc;
}

/* Classifies an etcd error answer; fills err as the API should report it. */
static enum outcome classify(const char *msg, int code, int *rc, struct ck_error *err)
{
    if (has(msg, "required revision has been compacted")) {
        *rc = ck_error_set(err, 410, CK_REASON_EXPIRED, "%s", ETCD_MSG_LIST_EXPIRED);
        return OUT_FINAL;
    }
    if (has(msg, "required revision is a future revision")) {
        ck_error_set(err, 504, CK_REASON_TIMEOUT, "Timeout: Too large resource version");
        if (err) {
            cJSON *d = cJSON_CreateObject();
            cJSON *causes = cJSON_AddArrayToObject(d, "causes");
            cJSON *cause = cJSON_CreateObject();
            cJSON_AddStringToObject(cause, "reason", "ResourceVersionTooLarge");
            cJSON_AddStringToObject(cause, "message", "Too large resource version");
            cJSON_AddItemToArray(causes, cause);
            cJSON_AddNumberToObject(d, "retryAfterSeconds", 1);
            ck_error_set_details(err, d);
        }
        *rc = -EOVERFLOW;
        return OUT_FINAL;
    }
    if (has(msg, "requested lease not found")) {
        *rc = ck_error_set(err, 404, CK_REASON_NOT_FOUND, "%s", msg);
        return OUT_FINAL;
    }
    if (has(msg, "request is too large")) {
        *rc = ck_error_set(err, 413, CK_REASON_TOO_LARGE, "%s", msg);
        return OUT_FINAL;
    }
    if (has(msg, "no leader") || has(msg, "not leader") || has(msg, "not capable") ||
        has(msg, "too many requests") || has(msg, "unhealthy cluster") ||
        has(msg, "not supported for learner") || has(msg, "proposal dropped")) {
        *rc = set_retry_details(err, ck_error_set(err, 503, CK_REASON_SERVICE_UNAVAILABLE,
                                                  "etcd unavailable: %s", msg));
        return OUT_UNSENT;
    }
    if (has(msg, "request timed out") || code == GRPC_DEADLINE) {
        *rc = set_retry_details(
            err, ck_error_set(err, 504, CK_REASON_TIMEOUT, "Timeout: etcd: %s", msg));
        return OUT_MAYBE;
    }
    if (has(msg, "leader changed") || has(msg, "server stopped") || code == GRPC_UNAVAILABLE ||
        code == GRPC_CANCELED) {
        *rc = set_retry_details(err, ck_error_set(err, 503, CK_REASON_SERVICE_UNAVAILABLE,
                                                  "etcd unavailable: %s", msg));
        return OUT_MAYBE;
    }
    if (code == 3 /* InvalidArgument */ || has(msg, "too many operations") ||
        has(msg, "duplicate key") || has(msg, "key is not provided") ||
        has(msg, "too large lease TTL")) {
        *rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "etcd: %s", msg);
        return OUT_FINAL;
    }
    (void)GRPC_RESOURCE_EXHAUSTED;
    *rc = ck_error_set(err, 500, CK_REASON_INTERNAL, "etcd: %s", msg);
    return OUT_FINAL;
}

int etcd_map_error(const char *msg, int grpc_code, struct ck_error *err)
{
    int rc = 0;
    classify(msg ? msg : "", grpc_code, &rc, err);
    return rc;
}

int etcd_bad_response(struct ck_error *err, const char *what)
{
    return ck_error_set(err, 500, CK_REASON_INTERNAL, "etcd: malformed response: %s", what);
}

/* ---- one attempt ----------------------------------------------------------------------- */

struct sink {
    struct ck_buf *buf;
    size_t max;
    bool too_big;
};

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = size * n;
    if (s->buf->len + len > s->max) {
        s->too_big = true;
        return 0;
    }
    ck_buf_add(s->buf, p, len);
    return len;
}

/* Reads the gateway's error object: {"error":"..","message":"..","code":14}, or the streaming
 * form {"error":{"grpc_code":14,"message":".."}}. Returns the message (borrowed) or NULL. */
static const char *gateway_error(const cJSON *o, int *code)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (!e)
        return NULL;
    const cJSON *holder = cJSON_IsObject(e) ? e : o;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(holder, "message");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(holder, "code");
    if (!k)
        k = cJSON_GetObjectItemCaseSensitive(holder, "grpc_code");
    *code = cJSON_IsNumber(k) ? k->valueint : 0;
    if (cJSON_IsString(m) && m->valuestring[0])
        return m->valuestring;
    if (cJSON_IsString(e))
        return e->valuestring;
    return "unknown error";
}

/* Runs one attempt on endpoint ep. On OUT_OK sets *resp. */
static enum outcome attempt(struct etcd_client *c, CURL *h, unsigned ep, struct etcd_call *call,
                            int timeout_ms, cJSON **resp, int *rc, struct ck_error *err)
{
    char url[MAX_ENDPOINT_LEN + 128];
    if (ck_snprintf(url, sizeof(url), "%s%s", c->endpoints[ep], call->path) < 0) {
        *rc = ck_error_set(err, 500, CK_REASON_INTERNAL, "etcd: request path too long");
        return OUT_FINAL;
    }
    CK_AUTOBUF struct ck_buf body = CK_BUF_INIT;
    struct sink sink = {&body, c->max_response_bytes, false};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, call->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    long dial = c->dial_timeout_ms < timeout_ms ? c->dial_timeout_ms : timeout_ms;
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, dial);

    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        if (sink.too_big) {
            *rc = ck_error_set(err, 500, CK_REASON_INTERNAL, "etcd: response larger than %zu bytes",
                               c->max_response_bytes);
            return OUT_FINAL;
        }
        curl_off_t pre = 0;
        curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pre);
        bool sent = pre > 0;
        switch (cc) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
            sent = false;
            break;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_SSL_CERTPROBLEM:    /* our --etcd-certfile / --etcd-keyfile */
        case CURLE_SSL_CACERT_BADFILE: /* our --etcd-cafile */
            *rc = ck_error_set(err, 500, CK_REASON_INTERNAL, "etcd endpoint %s: %s",
                               c->endpoints[ep], curl_easy_strerror(cc));
            return OUT_FINAL;
        default:
            break;
        }
        if (cc == CURLE_OPERATION_TIMEDOUT)
            *rc = set_retry_details(err, ck_error_set(err, 504, CK_REASON_TIMEOUT,
                                                      "Timeout: etcd endpoint %s: %s",
                                                      c->endpoints[ep], curl_easy_strerror(cc)));
        else
            *rc = set_retry_details(err, ck_error_set(err, 503, CK_REASON_SERVICE_UNAVAILABLE,
                                                      "etcd endpoint %s unavailable: %s",
                                                      c->endpoints[ep], curl_easy_strerror(cc)));
        return sent ? OUT_MAYBE : OUT_UNSENT;
    }

    cJSON *o = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        if (status >= 500) {
            *rc = set_retry_details(err, ck_error_set(err, 503, CK_REASON_SERVICE_UNAVAILABLE,
                                                      "etcd endpoint %s answered HTTP %ld",
                                                      c->endpoints[ep], status));
            return OUT_MAYBE;
        }
        *rc = ck_error_set(err, 500, CK_REASON_INTERNAL,
                           "etcd endpoint %s: unparseable answer (HTTP %ld)", c->endpoints[ep],
                           status);
        return OUT_FINAL;
    }
    int code = 0;
    const char *emsg = gateway_error(o, &code);
    if (emsg || status != 200) {
        enum outcome out = classify(emsg ? emsg : "", code, rc, err);
        if (!emsg && status >= 500)
            out = OUT_MAYBE;
        cJSON_Delete(o);
        return out;
    }
    *resp = o;
    return OUT_OK;
}

/* ---- the request engine ---------------------------------------------------------------- */

int etcd_do(struct etcd_client *c, struct etcd_call *call, struct ck_error *err)
{
    call->resp = NULL;
    call->ambiguous = false;
    call->used = -1;
    unsigned n = (unsigned)c->n_endpoints;
    if (call->endpoint >= (int)n)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "no etcd endpoint %d", call->endpoint);
    int total_ms = call->timeout_ms > 0 ? call->timeout_ms : c->request_timeout_ms;
    int64_t deadline = etcd_now_ms() + total_ms;
    unsigned ep = call->endpoint >= 0 ? (unsigned)call->endpoint : atomic_load(&c->preferred) % n;
    CURL *h = etcd_handle_get(c);
    if (!h)
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "libcurl: cannot create a handle");

    struct ck_error last = CK_ERROR_INIT;   /* the latest attempt's failure */
    struct ck_error report = CK_ERROR_INIT; /* what the deadline error cites */
    int last_rc = 0;
    bool maybe_applied = false;
    unsigned failed_in_round = 0, timeouts = 0;
    int64_t backoff = 50;
    /* Per-attempt budget. Each endpoint first gets a short attempt, so a frozen member or a
     * proposal lost with a dead or frozen leader costs one short attempt per endpoint; after a
     * whole round of timeouts the budget doubles, so a request that is merely slow (a huge
     * list) still completes. */
    int64_t attempt_ms = c->attempt_timeout_ms;
    int rc;
    for (;;) {
        int64_t remaining = deadline - etcd_now_ms();
        if (remaining <= 0)
            break;
        bool squeezed = remaining < attempt_ms;
        int timeout = squeezed ? (int)remaining : (int)attempt_ms;
        cJSON *resp = NULL;
        ck_error_clear(&last);
        enum outcome out = attempt(c, h, ep, call, timeout, &resp, &last_rc, &last);
        if (out == OUT_OK) {
            call->resp = resp;
            call->used = (int)ep;
            call->ambiguous = maybe_applied;
            etcd_handle_put(c, h);
            ck_error_clear(&last);
            ck_error_clear(&report);
            return 0;
        }
        maybe_applied |= out == OUT_MAYBE;
        if (out == OUT_FINAL || call->endpoint >= 0 ||
            (out == OUT_MAYBE && call->retry == ETCD_RETRY_UNSENT))
            goto fail;
        bool timed_out = last.code == 504;
        if (timed_out && ++timeouts % n == 0)
            attempt_ms *= 2;
        /* an attempt cut short by the deadline says less than the failures before it */
        if (!(timed_out && squeezed) || report.code == 0) {
            ck_error_clear(&report);
            ck_error_set(&report, last.code, last.reason, "%s", last.message);
        }
        ck_vinfo(4, "etcd: %s on %s failed (%s), trying the next endpoint", call->path,
                 c->endpoints[ep], last.message);
        /* steer later requests away from the failed endpoint too */
        unsigned expect = ep;
        atomic_compare_exchange_strong(&c->preferred, &expect, (ep + 1) % n);
        ep = (ep + 1) % n;
        if (++failed_in_round >= n) {
            failed_in_round = 0;
            int64_t left = deadline - etcd_now_ms();
            etcd_sleep_ms(backoff < left ? backoff : left);
            backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
        }
    }
    call->ambiguous = maybe_applied;
    /* deadline passed: the failures say whether etcd was too slow or no one could serve */
    if (report.code == 0 || report.code == 504)
        rc = set_retry_details(
            err, ck_error_set(err, 504, CK_REASON_TIMEOUT,
                              "Timeout: etcd request %s did not complete within %d ms%s%s",
                              call->path, total_ms, report.code ? ": " : "", report.message));
    else
        rc =
            set_retry_details(err, ck_error_set(err, 503, CK_REASON_SERVICE_UNAVAILABLE,
                                                "etcd cluster is unavailable: %s", report.message));
    etcd_handle_put(c, h);
    ck_error_clear(&last);
    ck_error_clear(&report);
    return rc;
fail:
    call->ambiguous = maybe_applied;
    rc = last_rc;
    if (err) {
        ck_error_clear(err);
        *err = last;
    } else {
        ck_error_clear(&last);
    }
    ck_error_clear(&report);
    etcd_handle_put(c, h);
    return rc;
}
