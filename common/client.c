/* client.c - REST client over libcurl: connection pool, throttling, retries, Status decoding,
 * typed helpers and streaming watches (see client.h). */
#include "client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "encoding.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "timeutil.h"

#define POOL_MAX 16
#define MAX_BODY_BYTES ((size_t)1 << 30)
#define TOKEN_FILE_TTL_NS (60 * CK_SECOND)
#define DEFAULT_TIMEOUT_NS (60 * CK_SECOND)
#define CONNECT_TIMEOUT_MS 30000L
#define MAX_RETRY_AFTER_S 60

#if defined(__x86_64__)
#define GOARCH "amd64"
#elif defined(__aarch64__)
#define GOARCH "arm64"
#elif defined(__i386__)
#define GOARCH "386"
#else
#define GOARCH "unknown"
#endif

/* ---- client -------------------------------------------------------------------------------- */

struct ck_client {
    struct ck_rest_config *cfg;
    char *base;       /* cfg->host without a trailing '/' */
    char *host_label; /* host[:port] for metrics */
    char *user_agent;
    int64_t timeout_ns;
    int max_retries;

    pthread_mutex_t rl_lock; /* guards tokens, last_ns */
    double qps, tokens;
    int burst;
    int64_t last_ns;

    pthread_mutex_t pool_lock; /* guards pool, npool */
    CURL *pool[POOL_MAX];
    size_t npool;

    pthread_mutex_t token_lock; /* guards token, token_read_ns */
    char *token;
    int64_t token_read_ns;

    struct ck_metric_family *m_requests, *m_duration;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

static int client_error(struct ck_error *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int client_error(struct ck_error *err, int rc, const char *fmt, ...)
{
    if (err) {
        ck_error_clear(err);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return rc;
}

int ck_client_new(const struct ck_rest_config *cfg, const struct ck_client_opts *opts,
                  struct ck_client **out, struct ck_error *err)
{
    *out = NULL;
    if (!cfg || !cfg->host || !cfg->host[0])
        return client_error(err, -EINVAL, "host must be a URL or a host:port pair");
    if (cfg->insecure && (cfg->ca_file || cfg->ca_data))
        return client_error(err, -EINVAL, "specifying a root certificates file with the insecure "
                                          "flag is not allowed");
    if ((cfg->cert_file || cfg->cert_data) && !(cfg->key_file || cfg->key_data))
        return client_error(err, -EINVAL, "tls: client certificate given without a private key");
    const char *scheme_end = strstr(cfg->host, "://");
    if (!scheme_end || (strncmp(cfg->host, "http://", 7) && strncmp(cfg->host, "https://", 8)))
        return client_error(err, -EINVAL, "unsupported protocol scheme in host \"%s\"",
                            cfg->host);
    pthread_once(&curl_once, curl_init);
    struct ck_client_opts none = {0};
    if (!opts)
        opts = &none;
    struct ck_client *c = ck_xcalloc(1, sizeof(*c));
    c->cfg = ck_rest_config_dup(cfg);
    c->base = ck_xstrdup(cfg->host);
    size_t n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    const char *h = scheme_end + 3;
    c->host_label = ck_xstrndup(h, strcspn(h, "/"));
    c->user_agent = ck_xasprintf("%s/%s (linux/%s) kubernetes/ckube",
                                 opts->component ? opts->component : "ckube", CK_KUBE_VERSION,
                                 GOARCH);
    c->qps = opts->qps == 0 ? 5 : opts->qps;
    c->burst = opts->burst <= 0 ? 10 : opts->burst;
    c->tokens = c->burst;
    c->last_ns = ck_mono_ns();
    c->timeout_ns = opts->timeout_ns == 0 ? DEFAULT_TIMEOUT_NS : opts->timeout_ns;
    c->max_retries = opts->max_retries == 0 ? 10 : opts->max_retries < 0 ? 0 : opts->max_retries;
    pthread_mutex_init(&c->rl_lock, NULL);
    pthread_mutex_init(&c->pool_lock, NULL);
    pthread_mutex_init(&c->token_lock, NULL);
    c->token = cfg->token ? ck_xstrdup(cfg->token) : NULL;
    c->token_read_ns = ck_mono_ns();
    struct ck_metrics *reg = opts->metrics ? opts->metrics : ck_metrics_default();
    static const char *const req_labels[] = {"code", "host", "method", NULL};
    static const char *const dur_labels[] = {"verb", "host", NULL};
    static const double buckets[] = {0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60};
    c->m_requests = ck_metrics_counter(reg, "rest_client_requests_total",
                                       "Number of HTTP requests, partitioned by status code, "
                                       "method, and host.",
                                       req_labels);
    c->m_duration = ck_metrics_histogram(reg, "rest_client_request_duration_seconds",
                                         "Request latency in seconds. Broken down by verb, and "
                                         "host.",
                                         dur_labels, buckets, CK_ARRAY_SIZE(buckets));
    *out = c;
    return 0;
}

void ck_client_free(struct ck_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->npool; i++)
        curl_easy_cleanup(c->pool[i]);
    ck_rest_config_free(c->cfg);
    free(c->base);
    free(c->host_label);
    free(c->user_agent);
    free(c->token);
    pthread_mutex_destroy(&c->rl_lock);
    pthread_mutex_destroy(&c->pool_lock);
    pthread_mutex_destroy(&c->token_lock);
    free(c);
}

const char *ck_client_host(const struct ck_client *c)
{
    return c->base;
}

const char *ck_client_namespace(const struct ck_client *c)
{
    return c->cfg->namespace ? c->cfg->namespace : "default";
}

const char *ck_client_user_agent(const struct ck_client *c)
{
    return c->user_agent;
}

/* ---- throttling, tokens, handles ----------------------------------------------------------- */

/* Takes one token, waiting for it (golang.org/x/time/rate reservation semantics). */
static int throttle(struct ck_client *c, struct ck_cancel *cancel)
{
    if (c->qps < 0)
        return 0;
    pthread_mutex_lock(&c->rl_lock);
    int64_t now = ck_mono_ns();
    if (now > c->last_ns) {
        c->tokens += (double)(now - c->last_ns) / 1e9 * c->qps;
        if (c->tokens > c->burst)
            c->tokens = c->burst;
        c->last_ns = now;
    }
    c->tokens -= 1;
    int64_t wait = c->tokens >= 0 ? 0 : (int64_t)(-c->tokens / c->qps * 1e9);
    pthread_mutex_unlock(&c->rl_lock);
    if (wait > 0 && CK_V(4))
        ck_info("Waited for %.3fs due to client-side throttling", (double)wait / 1e9);
    return ck_cancel_sleep(cancel, wait);
}

/* The bearer token to send (caller frees), re-reading the token file at most once a minute. */
static char *current_token(struct ck_client *c)
{
    pthread_mutex_lock(&c->token_lock);
    if (c->cfg->token_file && ck_mono_ns() - c->token_read_ns > TOKEN_FILE_TTL_NS) {
        FILE *f = fopen(c->cfg->token_file, "r");
        if (f) {
            char buf[16384];
            size_t n = fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
            buf[n] = '\0';
            char *s = buf;
            while (isspace((unsigned char)*s))
                s++;
            while (n > 0 && isspace((unsigned char)buf[n - 1]))
                buf[--n] = '\0';
            if (*s) {
                free(c->token);
                c->token = ck_xstrdup(s);
            }
        } else {
            ck_warn("reading token file %s: %s (keeping the last token)", c->cfg->token_file,
                    strerror(errno));
        }
        c->token_read_ns = ck_mono_ns();
    }
    char *t = c->token ? ck_xstrdup(c->token) : NULL;
    pthread_mutex_unlock(&c->token_lock);
    return t;
}

static CURL *pool_get(struct ck_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->pool_lock);
    if (c->npool > 0)
        h = c->pool[--c->npool];
    pthread_mutex_unlock(&c->pool_lock);
    return h ? h : curl_easy_init();
}

/* Returns a handle to the pool; it keeps its connections for the next request. */
static void pool_put(struct ck_client *c, CURL *h)
{
    curl_easy_reset(h);
    pthread_mutex_lock(&c->pool_lock);
    if (c->npool < POOL_MAX) {
        c->pool[c->npool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->pool_lock);
    if (h)
        curl_easy_cleanup(h);
}

/* TLS, auth, user agent and common options on h */
static struct curl_slist *setup_handle(struct ck_client *c, CURL *h, const char *content_type)
{
    const struct ck_rest_config *cfg = c->cfg;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    if (cfg->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (cfg->ca_data) {
        struct curl_blob b = {cfg->ca_data, cfg->ca_data_len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
    } else if (cfg->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
    }
    if (cfg->cert_data) {
        struct curl_blob b = {cfg->cert_data, cfg->cert_data_len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &b);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    } else if (cfg->cert_file) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->cert_file);
    }
    if (cfg->key_data) {
        struct curl_blob b = {cfg->key_data, cfg->key_data_len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &b);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    } else if (cfg->key_file) {
        curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->key_file);
    }
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json, */*");
    if (content_type) {
        char *ct = ck_xasprintf("Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, ct);
        free(ct);
    }
    char *token = current_token(c);
    if (token) {
        char *auth = ck_xasprintf("Authorization: Bearer %s", token);
        hdrs = curl_slist_append(hdrs, auth);
        free(auth);
        free(token);
    } else if (cfg->username) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, cfg->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    return hdrs;
}

/* ---- URLs ---------------------------------------------------------------------------------- */

static void put_escaped(struct ck_buf *b, const char *s, bool query)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
            (!query && (*p == ':' || *p == '@')))
            ck_buf_putc(b, (char)*p);
        else {
            ck_buf_putc(b, '%');
            ck_buf_putc(b, hex[*p >> 4]);
            ck_buf_putc(b, hex[*p & 15]);
        }
    }
}

void ck_gvr_path(struct ck_buf *out, const struct ck_gvr *gvr, const char *ns, const char *name,
                 const char *subresource)
{
    if (!gvr->group || !gvr->group[0])
        ck_buf_printf(out, "/api/%s", gvr->version);
    else
        ck_buf_printf(out, "/apis/%s/%s", gvr->group, gvr->version);
    if (ns && ns[0]) {
        ck_buf_puts(out, "/namespaces/");
        put_escaped(out, ns, false);
    }
    ck_buf_putc(out, '/');
    put_escaped(out, gvr->resource, false);
    if (name && name[0]) {
        ck_buf_putc(out, '/');
        put_escaped(out, name, false);
        if (subresource && subresource[0]) {
            ck_buf_putc(out, '/');
            put_escaped(out, subresource, false);
        }
    }
}

static char *request_url(struct ck_client *c, const struct ck_request *req)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, c->base);
    if (req->gvr)
        ck_gvr_path(&b, req->gvr, req->namespace, req->name, req->subresource);
    else
        ck_buf_puts(&b, req->path ? req->path : "/");
    bool first = !strchr(b.data, '?');
    for (const char *const *p = req->params; p && p[0] && p[1]; p += 2) {
        ck_buf_putc(&b, first ? '?' : '&');
        first = false;
        put_escaped(&b, p[0], true);
        ck_buf_putc(&b, '=');
        put_escaped(&b, p[1], true);
    }
    return ck_buf_detach(&b);
}

/* ---- responses and errors ------------------------------------------------------------------ */

void ck_response_free(struct ck_response *r)
{
    if (!r)
        return;
    ck_buf_free(&r->body);
    r->status = 0;
}

struct xfer {
    struct ck_buf *body;
    int64_t retry_after; /* seconds, -1 when absent */
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (x->body->len + len > MAX_BODY_BYTES)
        return 0;
    ck_buf_add(x->body, p, len);
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
        char v[32];
        size_t vl = len - 12 < sizeof(v) - 1 ? len - 12 : sizeof(v) - 1;
        memcpy(v, p + 12, vl);
        v[vl] = '\0';
        char *end;
        long s = strtol(v, &end, 10);
        while (*end == ' ' || *end == '\r' || *end == '\n')
            end++;
        if (end != v && !*end && s >= 0)
            x->retry_after = s;
    }
    return len;
}

/* "pods", "deployments.apps" as client-go's qualifiedResource.String() */
static char *qualified_resource(const struct ck_request *req)
{
    if (!req->gvr)
        return NULL;
    if (req->gvr->group && req->gvr->group[0])
        return ck_xasprintf("%s.%s", req->gvr->resource, req->gvr->group);
    return ck_xstrdup(req->gvr->resource);
}

int ck_error_from_status(const cJSON *status, int http_code, struct ck_error *err)
{
    int code = (int)ck_json_get_int64(status, "code", 0);
    if (code == 0)
        code = http_code;
    const char *reason = ck_json_get_string(status, "reason", "");
    const char *msg = ck_json_get_string(status, "message", "");
    int rc = ck_error_set(err, code, reason, "%s", msg);
    if (code == 409 && !strcmp(reason, CK_REASON_CONFLICT))
        rc = -EBUSY; /* a conflict is not an AlreadyExists */
    const cJSON *details = ck_json_get(status, "details");
    if (err && cJSON_IsObject(details))
        ck_error_set_details(err, ck_json_dup(details));
    return rc;
}

/* client-go's NewGenericServerResponse for answers that are not a Status */
static int generic_error(const struct ck_request *req, int code, const char *body,
                         struct ck_error *err)
{
    const char *reason = "";
    char msg[600];
    snprintf(msg, sizeof(msg), "the server responded with the status code %d but did not return "
                               "more information", code);
    switch (code) {
    case 409:
        reason = strcmp(req->verb, "POST") ? CK_REASON_CONFLICT : CK_REASON_ALREADY_EXISTS;
        snprintf(msg, sizeof(msg), "the server reported a conflict");
        break;
    case 404:
        reason = CK_REASON_NOT_FOUND;
        snprintf(msg, sizeof(msg), "the server could not find the requested resource");
        break;
    case 400:
        reason = CK_REASON_BAD_REQUEST;
        snprintf(msg, sizeof(msg), "the server rejected our request for an unknown reason");
        break;
    case 401:
        reason = CK_REASON_UNAUTHORIZED;
        snprintf(msg, sizeof(msg), "the server has asked for the client to provide credentials");
        break;
    case 403:
        reason = CK_REASON_FORBIDDEN;
        snprintf(msg, sizeof(msg), "%.500s", body);
        break;
    case 405:
        reason = CK_REASON_METHOD_NOT_ALLOWED;
        snprintf(msg, sizeof(msg), "the server does not allow this method on the requested "
                                   "resource");
        break;
    case 422:
        reason = CK_REASON_INVALID;
        snprintf(msg, sizeof(msg), "the server rejected our request due to an error in our "
                                   "request");
        break;
    case 429:
        reason = CK_REASON_TOO_MANY_REQUESTS;
        snprintf(msg, sizeof(msg), "the server has received too many requests and has asked us "
                                   "to try again later");
        break;
    case 503:
        reason = CK_REASON_SERVICE_UNAVAILABLE;
        snprintf(msg, sizeof(msg), "the server is currently unable to handle the request");
        break;
    case 504:
        reason = CK_REASON_TIMEOUT;
        snprintf(msg, sizeof(msg), "the server was unable to return a response in the time "
                                   "allotted, but may still be processing the request");
        break;
    default:
        if (code >= 500) {
            reason = CK_REASON_INTERNAL;
            snprintf(msg, sizeof(msg), "an error on the server (\"%.400s\") has prevented the "
                                       "request from succeeding",
                     body);
        }
    }
    char *qr = qualified_resource(req);
    char verb[16];
    snprintf(verb, sizeof(verb), "%s", req->verb);
    for (char *p = verb; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    int rc;
    if (qr && req->name && req->name[0])
        rc = ck_error_set(err, code, reason, "%s (%s %s %s)", msg, verb, qr, req->name);
    else if (qr)
        rc = ck_error_set(err, code, reason, "%s (%s %s)", msg, verb, qr);
    else
        rc = ck_error_set(err, code, reason, "%s", msg);
    free(qr);
    return rc;
}

static int decode_error(const struct ck_request *req, int code, const struct ck_buf *body,
                        struct ck_error *err)
{
    cJSON *st = body->len ? ck_json_parse(body->data, body->len, NULL) : NULL;
    int rc;
    if (cJSON_IsObject(st) && !strcmp(ck_json_get_string(st, "kind", ""), "Status"))
        rc = ck_error_from_status(st, code, err);
    else
        rc = generic_error(req, code, body->len ? body->data : "unknown", err);
    cJSON_Delete(st);
    return rc;
}

/* Go's net/http spelling of the method in transport errors: "Get", "Post", ... */
static void go_method(const char *verb, char out[16])
{
    snprintf(out, 16, "%s", verb);
    for (char *p = out + 1; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

static int transport_error(CURL *h, CURLcode cc, const char *verb, const char *url,
                           const char *errbuf, struct ck_error *err)
{
    char m[16];
    go_method(verb, m);
    long oserr = 0;
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    int hl = (int)strcspn(host, "/?");
    switch (cc) {
    case CURLE_COULDNT_CONNECT: {
        char e[128];
        snprintf(e, sizeof(e), "%s", strerror(oserr ? (int)oserr : ECONNREFUSED));
        e[0] = (char)tolower((unsigned char)e[0]);
        client_error(err, 0, "%s \"%s\": dial tcp %.*s: connect: %s", m, url, hl, host, e);
        return oserr ? -(int)oserr : -ECONNREFUSED;
    }
    case CURLE_OPERATION_TIMEDOUT:
        client_error(err, 0, "%s \"%s\": context deadline exceeded", m, url);
        return -ETIMEDOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
        client_error(err, 0, "%s \"%s\": dial tcp: lookup %.*s: no such host", m, url, hl, host);
        return -EHOSTUNREACH;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        client_error(err, 0, "%s \"%s\": %s", m, url, errbuf[0] ? errbuf : "EOF");
        return -ECONNRESET;
    default:
        client_error(err, 0, "%s \"%s\": %s", m, url,
                     errbuf[0] ? errbuf : curl_easy_strerror(cc));
        return -EIO;
    }
}

/* ---- requests ------------------------------------------------------------------------------ */

static void record(struct ck_client *c, const char *verb, int status, int64_t ns)
{
    char code[16];
    if (status)
        snprintf(code, sizeof(code), "%d", status);
    else
        strcpy(code, "<error>");
    ck_metric_inc(ck_metric_with(c->m_requests, code, c->host_label, verb, NULL));
    ck_metric_observe(ck_metric_with(c->m_duration, verb, c->host_label, NULL), (double)ns / 1e9);
}

/* exponential backoff with jitter: 100 ms doubling to 5 s */
static int64_t backoff_ns(int attempt)
{
    double d = 0.1 * pow(2, attempt > 10 ? 10 : attempt);
    if (d > 5)
        d = 5;
    d *= 0.8 + 0.4 * ((double)rand() / RAND_MAX);
    return (int64_t)(d * 1e9);
}

int ck_client_do(struct ck_client *c, const struct ck_request *req, struct ck_response *resp,
                 struct ck_error *err)
{
    struct ck_response local = CK_RESPONSE_INIT;
    if (!resp)
        resp = &local;
    ck_response_free(resp);
    if (!c || !req || !req->verb)
        return client_error(err, -EINVAL, "invalid request");
    char *url = request_url(c, req);
    int64_t timeout = req->timeout_ns ? req->timeout_ns : c->timeout_ns;
    int64_t deadline = timeout > 0 ? ck_mono_ns() + timeout : INT64_MAX;
    int retries = req->max_retries < 0 ? 0 : req->max_retries ? req->max_retries : c->max_retries;
    bool is_get = !strcmp(req->verb, "GET");
    int rc = 0;
    for (int attempt = 0;; attempt++) {
        throttle(c, NULL);
        CURL *h = pool_get(c);
        struct xfer x = {&resp->body, -1};
        ck_buf_reset(&resp->body);
        struct curl_slist *hdrs =
            setup_handle(c, h, req->body ? (req->content_type ? req->content_type
                                                              : "application/json")
                                         : NULL);
        char errbuf[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_URL, url);
        if (is_get)
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        else
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->verb);
        if (req->body) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        }
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
        int64_t left = deadline == INT64_MAX ? 0 : deadline - ck_mono_ns();
        if (deadline != INT64_MAX)
            curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, left > 1000000 ? (long)(left / 1000000) : 1L);
        int64_t t0 = ck_mono_ns();
        CURLcode cc = curl_easy_perform(h);
        long status = 0;
        if (cc == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        record(c, req->verb, (int)status, ck_mono_ns() - t0);
        resp->status = (int)status;
        int64_t wait = -1; /* >= 0: retry after this long */
        if (cc != CURLE_OK) {
            rc = transport_error(h, cc, req->verb, url, errbuf, err);
            /* a refused connection sent nothing: safe for every verb */
            if (cc == CURLE_COULDNT_CONNECT || (is_get && rc == -ECONNRESET))
                wait = backoff_ns(attempt);
        } else if (status >= 200 && status < 300) {
            rc = 0;
        } else {
            rc = decode_error(req, (int)status, &resp->body, err);
            if ((status == 429 || status >= 500) && x.retry_after >= 0)
                wait = (x.retry_after > MAX_RETRY_AFTER_S ? MAX_RETRY_AFTER_S : x.retry_after) *
                       CK_SECOND;
            else if (status == 429 || (is_get && (status == 500 || status == 502 ||
                                                   status == 503 || status == 504)))
                wait = backoff_ns(attempt);
        }
        curl_slist_free_all(hdrs);
        pool_put(c, h);
        if (wait < 0 || attempt >= retries || ck_mono_ns() + wait >= deadline)
            break;
        if (CK_V(4))
            ck_info("retrying %s %s in %.3fs (attempt %d): %s", req->verb, url,
                    (double)wait / 1e9, attempt + 1, err ? err->message : "");
        ck_cancel_sleep(NULL, wait);
    }
    free(url);
    if (rc == 0 && err)
        ck_error_clear(err);
    ck_response_free(&local);
    return rc;
}

int ck_client_do_json(struct ck_client *c, const struct ck_request *req, const cJSON *body,
                      cJSON **out, struct ck_error *err)
{
    if (out)
        *out = NULL;
    struct ck_request r = *req;
    char *text = NULL;
    if (body) {
        text = ck_json_print(body, CK_JSON_NO_HTML_ESCAPE);
        if (!text)
            return client_error(err, -EINVAL, "the object cannot be encoded as JSON");
        r.body = text;
        r.body_len = strlen(text);
    }
    struct ck_response resp = CK_RESPONSE_INIT;
    int rc = ck_client_do(c, &r, &resp, err);
    free(text);
    if (rc == 0 && out) {
        struct ck_error perr = CK_ERROR_INIT;
        *out = ck_json_parse(resp.body.data ? resp.body.data : "", resp.body.len, &perr);
        if (!*out) {
            rc = client_error(err, -EBADMSG, "decoding the answer to %s: %s", req->verb,
                              perr.message);
            ck_error_clear(&perr);
        }
    }
    ck_response_free(&resp);
    return rc;
}

/* ---- typed helpers ------------------------------------------------------------------------- */

int ck_client_get(struct ck_client *c, const struct ck_gvr *r, const char *ns, const char *name,
                  cJSON **out, struct ck_error *err)
{
    struct ck_request req = {.verb = "GET", .gvr = r, .namespace = ns, .name = name};
    return ck_client_do_json(c, &req, NULL, out, err);
}

/* key/value pairs of list options into params (at most 14 entries + NULL) */
static void list_params(const struct ck_list_opts *o, const char **p, char *limit, char *timeout)
{
    size_t n = 0;
    if (o) {
        if (o->label_selector && o->label_selector[0]) {
            p[n++] = "labelSelector";
            p[n++] = o->label_selector;
        }
        if (o->field_selector && o->field_selector[0]) {
            p[n++] = "fieldSelector";
            p[n++] = o->field_selector;
        }
        if (o->limit > 0) {
            snprintf(limit, 24, "%lld", (long long)o->limit);
            p[n++] = "limit";
            p[n++] = limit;
        }
        if (o->continue_token && o->continue_token[0]) {
            p[n++] = "continue";
            p[n++] = o->continue_token;
        }
        if (o->resource_version && o->resource_version[0]) {
            p[n++] = "resourceVersion";
            p[n++] = o->resource_version;
        }
        if (o->resource_version_match && o->resource_version_match[0]) {
            p[n++] = "resourceVersionMatch";
            p[n++] = o->resource_version_match;
        }
        if (o->timeout_seconds > 0) {
            snprintf(timeout, 24, "%d", o->timeout_seconds);
            p[n++] = "timeoutSeconds";
            p[n++] = timeout;
        }
    }
    p[n] = NULL;
}

int ck_client_list(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                   const struct ck_list_opts *o, cJSON **out, struct ck_error *err)
{
    const char *params[16];
    char limit[24], timeout[24];
    list_params(o, params, limit, timeout);
    struct ck_request req = {.verb = "GET", .gvr = r, .namespace = ns, .params = params};
    return ck_client_do_json(c, &req, NULL, out, err);
}

static const char *obj_ns(const cJSON *obj, const char *ns)
{
    return ns ? ns : ck_json_get_string(obj, "metadata.namespace", NULL);
}

int ck_client_create(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                     const cJSON *obj, cJSON **out, struct ck_error *err)
{
    struct ck_request req = {.verb = "POST", .gvr = r, .namespace = obj_ns(obj, ns)};
    return ck_client_do_json(c, &req, obj, out, err);
}

static int put_object(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                      const cJSON *obj, const char *sub, cJSON **out, struct ck_error *err)
{
    const char *name = ck_json_get_string(obj, "metadata.name", "");
    if (!name[0])
        return client_error(err, -EINVAL, "resource name may not be empty");
    struct ck_request req = {
        .verb = "PUT", .gvr = r, .namespace = obj_ns(obj, ns), .name = name, .subresource = sub};
    return ck_client_do_json(c, &req, obj, out, err);
}

int ck_client_update(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                     const cJSON *obj, cJSON **out, struct ck_error *err)
{
    return put_object(c, r, ns, obj, NULL, out, err);
}

int ck_client_update_status(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                            const cJSON *obj, cJSON **out, struct ck_error *err)
{
    return put_object(c, r, ns, obj, "status", out, err);
}

int ck_client_create_subresource(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                                 const char *name, const char *subresource, const cJSON *obj,
                                 cJSON **out, struct ck_error *err)
{
    struct ck_request req = {.verb = "POST", .gvr = r, .namespace = ns, .name = name,
                             .subresource = subresource};
    return ck_client_do_json(c, &req, obj, out, err);
}

int ck_client_patch(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                    const char *name, const char *subresource, enum ck_patch_type type,
                    const char *patch, const char *field_manager, cJSON **out,
                    struct ck_error *err)
{
    static const char *const types[] = {
        [CK_PATCH_MERGE] = "application/merge-patch+json",
        [CK_PATCH_STRATEGIC] = "application/strategic-merge-patch+json",
        [CK_PATCH_JSON] = "application/json-patch+json",
        [CK_PATCH_APPLY] = "application/apply-patch+yaml",
    };
    if (type < CK_PATCH_MERGE || type > CK_PATCH_APPLY || !patch || !name || !name[0])
        return client_error(err, -EINVAL, "invalid patch request");
    const char *params[5] = {NULL};
    if (field_manager && field_manager[0]) {
        params[0] = "fieldManager";
        params[1] = field_manager;
    }
    struct ck_request req = {.verb = "PATCH", .gvr = r, .namespace = ns, .name = name,
                             .subresource = subresource, .params = params,
                             .content_type = types[type], .body = patch,
                             .body_len = strlen(patch)};
    struct ck_response resp = CK_RESPONSE_INIT;
    int rc = ck_client_do(c, &req, &resp, err);
    if (out)
        *out = rc == 0 ? ck_json_parse(resp.body.data ? resp.body.data : "", resp.body.len, NULL)
                       : NULL;
    ck_response_free(&resp);
    return rc;
}

static cJSON *delete_options(const struct ck_delete_opts *o)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "kind", "DeleteOptions");
    cJSON_AddStringToObject(d, "apiVersion", "v1");
    if (!o)
        return d;
    if (o->has_grace_period)
        cJSON_AddItemToObject(d, "gracePeriodSeconds", ck_json_new_int64(o->grace_period_seconds));
    if (o->precondition_uid || o->precondition_rv) {
        cJSON *p = cJSON_AddObjectToObject(d, "preconditions");
        if (o->precondition_uid)
            cJSON_AddStringToObject(p, "uid", o->precondition_uid);
        if (o->precondition_rv)
            cJSON_AddStringToObject(p, "resourceVersion", o->precondition_rv);
    }
    if (o->propagation_policy)
        cJSON_AddStringToObject(d, "propagationPolicy", o->propagation_policy);
    if (o->dry_run) {
        cJSON *dr = cJSON_AddArrayToObject(d, "dryRun");
        cJSON_AddItemToArray(dr, cJSON_CreateString("All"));
    }
    return d;
}

int ck_client_delete(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                     const char *name, const struct ck_delete_opts *o, cJSON **out,
                     struct ck_error *err)
{
    if (!name || !name[0])
        return client_error(err, -EINVAL, "resource name may not be empty");
    cJSON *body = delete_options(o);
    struct ck_request req = {.verb = "DELETE", .gvr = r, .namespace = ns, .name = name};
    int rc = ck_client_do_json(c, &req, body, out, err);
    cJSON_Delete(body);
    return rc;
}

int ck_client_delete_collection(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                                const struct ck_list_opts *lo, const struct ck_delete_opts *o,
                                struct ck_error *err)
{
    const char *params[16];
    char limit[24], timeout[24];
    list_params(lo, params, limit, timeout);
    cJSON *body = delete_options(o);
    struct ck_request req = {.verb = "DELETE", .gvr = r, .namespace = ns, .params = params};
    int rc = ck_client_do_json(c, &req, body, NULL, err);
    cJSON_Delete(body);
    return rc;
}

/* ---- watch --------------------------------------------------------------------------------- */

#define MAX_EVENT_LINE ((size_t)64 << 20)

struct watch_state {
    CURL *h;
    CURLM *m;
    ck_watch_fn fn;
    void *ctx;
    struct ck_buf line;   /* a partial event line */
    struct ck_buf errbody; /* the body of a non-200 answer */
    long status;
    int stop;             /* fn's non-zero answer, or -EBADMSG */
};

static int dispatch_line(struct watch_state *w, const char *s, size_t len)
{
    while (len && (s[len - 1] == '\r' || s[len - 1] == ' '))
        len--;
    if (len == 0)
        return 0;
    cJSON *ev = ck_json_parse(s, len, NULL);
    const char *type = ck_json_get_string(ev, "type", NULL);
    cJSON *obj = cJSON_DetachItemFromObjectCaseSensitive(ev, "object");
    if (!type || !cJSON_IsObject(obj)) {
        ck_warn("watch: undecodable event (%zu bytes)", len);
        cJSON_Delete(obj);
        cJSON_Delete(ev);
        return -EBADMSG;
    }
    int r = w->fn(w->ctx, type, obj);
    cJSON_Delete(ev);
    return r;
}

static size_t on_watch_body(char *p, size_t size, size_t n, void *ud)
{
    struct watch_state *w = ud;
    size_t len = size * n;
    if (w->status == 0)
        curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &w->status);
    if (w->status != 200) {
        if (w->errbody.len + len < (1u << 20))
            ck_buf_add(&w->errbody, p, len);
        return len;
    }
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\n')
            continue;
        int r;
        if (w->line.len) {
            ck_buf_add(&w->line, p + start, i - start);
            r = dispatch_line(w, w->line.data, w->line.len);
            ck_buf_reset(&w->line);
        } else {
            r = dispatch_line(w, p + start, i - start);
        }
        start = i + 1;
        if (r) {
            w->stop = r;
            return 0; /* aborts the transfer */
        }
    }
    if (start < len) {
        if (w->line.len + (len - start) > MAX_EVENT_LINE) {
            w->stop = -EBADMSG;
            return 0;
        }
        ck_buf_add(&w->line, p + start, len - start);
    }
    return len;
}

static void wake_multi(void *arg)
{
    curl_multi_wakeup(arg);
}

int ck_client_watch(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                    const struct ck_watch_opts *o, ck_watch_fn fn, void *ctx,
                    struct ck_error *err)
{
    struct ck_watch_opts none = {0};
    if (!o)
        o = &none;
    if (!c || !r || !fn)
        return client_error(err, -EINVAL, "invalid watch");
    const char *params[20];
    size_t n = 0;
    char timeout[24];
    params[n++] = "watch";
    params[n++] = "true";
    if (o->resource_version && o->resource_version[0]) {
        params[n++] = "resourceVersion";
        params[n++] = o->resource_version;
    }
    if (o->allow_bookmarks) {
        params[n++] = "allowWatchBookmarks";
        params[n++] = "true";
    }
    if (o->send_initial_events) {
        params[n++] = "sendInitialEvents";
        params[n++] = "true";
        params[n++] = "resourceVersionMatch";
        params[n++] = "NotOlderThan";
    }
    if (o->label_selector && o->label_selector[0]) {
        params[n++] = "labelSelector";
        params[n++] = o->label_selector;
    }
    if (o->field_selector && o->field_selector[0]) {
        params[n++] = "fieldSelector";
        params[n++] = o->field_selector;
    }
    if (o->timeout_seconds > 0) {
        snprintf(timeout, sizeof(timeout), "%d", o->timeout_seconds);
        params[n++] = "timeoutSeconds";
        params[n++] = timeout;
    }
    params[n] = NULL;
    struct ck_request req = {.verb = "GET", .gvr = r, .namespace = ns, .params = params};
    if (throttle(c, o->cancel) < 0)
        return client_error(err, -ECANCELED, "context canceled");
    char *url = request_url(c, &req);
    struct watch_state w = {.fn = fn, .ctx = ctx};
    w.h = curl_easy_init();
    w.m = curl_multi_init();
    struct curl_slist *hdrs = setup_handle(c, w.h, NULL);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(w.h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(w.h, CURLOPT_URL, url);
    curl_easy_setopt(w.h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(w.h, CURLOPT_WRITEFUNCTION, on_watch_body);
    curl_easy_setopt(w.h, CURLOPT_WRITEDATA, &w);
    /* a watch without timeoutSeconds may last forever; a dead peer is found by keepalives */
    curl_easy_setopt(w.h, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(w.h, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_multi_add_handle(w.m, w.h);
    struct ck_cancel_hook *hook = ck_cancel_hook_add(o->cancel, wake_multi, w.m);
    int64_t t0 = ck_mono_ns();
    int rc = 0;
    bool cancelled = false;
    for (;;) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(w.m, &running);
        if (mc != CURLM_OK || !running)
            break;
        if (ck_cancel_fired(o->cancel)) {
            cancelled = true;
            break;
        }
        curl_multi_poll(w.m, NULL, 0, 1000, NULL);
    }
    CURLcode cc = CURLE_OK;
    int msgs;
    for (CURLMsg *msg; (msg = curl_multi_info_read(w.m, &msgs));)
        if (msg->msg == CURLMSG_DONE)
            cc = msg->data.result;
    ck_cancel_hook_remove(o->cancel, hook);
    if (w.status == 0)
        curl_easy_getinfo(w.h, CURLINFO_RESPONSE_CODE, &w.status);
    record(c, "WATCH", (int)w.status, ck_mono_ns() - t0);
    if (cancelled) {
        rc = client_error(err, -ECANCELED, "context canceled");
    } else if (w.stop) {
        rc = w.stop;
        if (rc == -EBADMSG)
            client_error(err, rc, "watch of %s: undecodable event", url);
    } else if (cc != CURLE_OK) {
        rc = transport_error(w.h, cc, "GET", url, errbuf, err);
    } else if (w.status != 200) {
        rc = decode_error(&req, (int)w.status, &w.errbody, err);
    } else if (w.line.len) {
        rc = dispatch_line(&w, w.line.data, w.line.len); /* a last line without newline */
    }
    curl_multi_remove_handle(w.m, w.h);
    curl_easy_cleanup(w.h);
    curl_multi_cleanup(w.m);
    curl_slist_free_all(hdrs);
    ck_buf_free(&w.line);
    ck_buf_free(&w.errbody);
    free(url);
    return rc;
}
