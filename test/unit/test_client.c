/* Unit tests for client.c against an in-process fake apiserver (common/httpd on a free loopback
 * port): URLs, headers (user agent, bearer token, content types), Status decoding and
 * client-go's generic messages, retries (Retry-After, 429, 5xx on GET only, refused
 * connections), client-side throttling, the typed helpers' requests, and the watch stream
 * reader (events split across chunks, ERROR events, 410 answers, cancellation). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cancel.h"
#include "client.h"
#include "httpd.h"
#include "json.h"
#include "mem.h"
#include "timeutil.h"

#define MS INT64_C(1000000)

static const struct ck_gvr pods = {"", "v1", "pods"};
static const struct ck_gvr deployments = {"apps", "v1", "deployments"};

/* ---- the fake server ----------------------------------------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int hits;          /* requests to the scripted paths */
static char last[4096];   /* "<METHOD> <path>?<query> ct=<content type> ua=<ua> auth=<auth>" */
static char last_body[4096];
static struct ck_httpd *server;
static char base[64];

struct stream_ctx {
    const char *data;
    size_t len, off, chunk;
    bool endless;
};

static ssize_t stream_read(void *ctx, char *buf, size_t max)
{
    struct stream_ctx *s = ctx;
    if (s->off >= s->len) {
        if (!s->endless || ck_httpd_stopping(server))
            return -1;
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
        return 0;
    }
    size_t n = s->len - s->off;
    if (n > s->chunk)
        n = s->chunk;
    if (n > max)
        n = max;
    memcpy(buf, s->data + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_done(void *ctx)
{
    free(ctx);
}

/* three events, one of them split over many tiny chunks, plus a bookmark */
static const char watch_events[] =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"5\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"6\"}}}\n"
    "\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":"
    "\"9\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"10\"}}}";

static const char watch_gone[] =
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
    "\"status\":\"Failure\",\"message\":\"too old resource version: 1 (13)\",\"reason\":"
    "\"Expired\",\"code\":410}}\n";

static void respond_json(struct ck_http_req *r, int code, const char *json)
{
    ck_http_respond(r, code, "application/json", json, strlen(json));
}

static void handler(struct ck_http_req *r, void *ctx)
{
    (void)ctx;
    const char *path = ck_http_path(r);
    const char *q = ck_http_query(r, "watch");
    size_t blen;
    const char *body = ck_http_body(r, &blen);
    const char *ct = ck_http_header(r, "Content-Type");
    const char *ua = ck_http_header(r, "User-Agent");
    const char *auth = ck_http_header(r, "Authorization");
    const char *ls = ck_http_query(r, "labelSelector");
    const char *limit = ck_http_query(r, "limit");
    const char *cont = ck_http_query(r, "continue");
    pthread_mutex_lock(&lock);
    snprintf(last, sizeof(last), "%s %s ls=%s limit=%s continue=%s ct=%s ua=%s auth=%s",
             ck_http_method(r), path, ls ? ls : "", limit ? limit : "", cont ? cont : "",
             ct ? ct : "", ua ? ua : "", auth ? auth : "");
    snprintf(last_body, sizeof(last_body), "%.*s", (int)blen, body);
    int n = ++hits;
    pthread_mutex_unlock(&lock);

    if (q && !strcmp(path, "/api/v1/namespaces/ns/pods")) {
        const char *rv = ck_http_query(r, "resourceVersion");
        struct stream_ctx *s = ck_xcalloc(1, sizeof(*s));
        if (rv && !strcmp(rv, "1")) {
            s->data = watch_gone;
            s->len = strlen(watch_gone);
            s->chunk = 1000;
        } else if (rv && !strcmp(rv, "forever")) {
            s->endless = true;
        } else {
            s->data = watch_events;
            s->len = strlen(watch_events);
            s->chunk = 7; /* lines arrive in pieces */
        }
        ck_http_respond_stream(r, 200, "application/json", stream_read, stream_done, s);
        return;
    }
    if (q && !strcmp(path, "/api/v1/pods")) { /* a watch refused with a Status */
        respond_json(r, 410,
                     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                     "\"message\":\"too old resource version: 2 (40)\",\"reason\":\"Expired\","
                     "\"code\":410}");
        return;
    }
    if (!strcmp(path, "/retry-after")) {
        if (n <= 2) {
            ck_http_add_header(r, "Retry-After", "1");
            respond_json(r, 429, "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":"
                                 "\"TooManyRequests\",\"code\":429,\"message\":\"slow down\"}");
        } else {
            respond_json(r, 200, "{\"ok\":true}");
        }
        return;
    }
    if (!strcmp(path, "/unavailable")) {
        respond_json(r, 503, "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":"
                             "\"ServiceUnavailable\",\"code\":503,\"message\":\"etcd down\"}");
        return;
    }
    if (!strcmp(path, "/api/v1/namespaces/ns/pods/missing")) {
        respond_json(r, 404, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                             "\"status\":\"Failure\",\"message\":\"pods \\\"missing\\\" not "
                             "found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"missing\","
                             "\"kind\":\"pods\"},\"code\":404}");
        return;
    }
    if (!strcmp(path, "/apis/apps/v1/namespaces/ns/deployments/web")) {
        ck_http_respond(r, 404, "text/plain", "nope", 4); /* not a Status */
        return;
    }
    if (!strcmp(path, "/api/v1/namespaces/ns/pods/taken")) {
        respond_json(r, 409, "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Conflict\","
                             "\"code\":409,\"message\":\"the object has been modified\"}");
        return;
    }
    if (!strcmp(path, "/oops")) {
        ck_http_respond(r, 500, "text/plain", "boom", 4);
        return;
    }
    /* anything else: echo the request as JSON */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "Echo");
    cJSON_AddStringToObject(o, "method", ck_http_method(r));
    cJSON_AddStringToObject(o, "path", path);
    char *s = cJSON_PrintUnformatted(o);
    respond_json(r, strcmp(ck_http_method(r), "POST") ? 200 : 201, s);
    free(s);
    cJSON_Delete(o);
}

static int setup(void **state)
{
    (void)state;
    struct ck_httpd_config hc = {.bind_address = "127.0.0.1", .port = 0, .handler = handler};
    struct ck_error err = CK_ERROR_INIT;
    if (ck_httpd_start(&hc, &server, &err) < 0)
        return -1;
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", ck_httpd_port(server));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ck_httpd_stop(server);
    ck_metrics_default_reset();
    return 0;
}

static struct ck_client *new_client(const char *token, double qps, int burst)
{
    struct ck_rest_config cfg = {.host = base, .token = (char *)token};
    struct ck_client_opts o = {.component = "test-component", .qps = qps, .burst = burst};
    struct ck_client *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_client_new(&cfg, &o, &c, &err), 0);
    return c;
}

static void reset_hits(void)
{
    pthread_mutex_lock(&lock);
    hits = 0;
    pthread_mutex_unlock(&lock);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void paths_headers_and_user_agent(void **state)
{
    (void)state;
    struct ck_buf b = CK_BUF_INIT;
    ck_gvr_path(&b, &pods, "ns", "p1", "status");
    assert_string_equal(b.data, "/api/v1/namespaces/ns/pods/p1/status");
    ck_buf_reset(&b);
    ck_gvr_path(&b, &deployments, NULL, NULL, NULL);
    assert_string_equal(b.data, "/apis/apps/v1/deployments");
    ck_buf_reset(&b);
    ck_gvr_path(&b, &pods, "", "a b", NULL); /* escaped segment, cluster-wide */
    assert_string_equal(b.data, "/api/v1/pods/a%20b");
    ck_buf_free(&b);

    struct ck_client *c = new_client("s3cret", 0, 0);
    assert_string_equal(ck_client_user_agent(c), "test-component/v1.32.4 (linux/amd64) "
                                                 "kubernetes/ckube");
    assert_string_equal(ck_client_namespace(c), "default");
    cJSON *out = NULL;
    struct ck_error err = CK_ERROR_INIT;
    struct ck_list_opts lo = {.label_selector = "app=web,tier in (a,b)", .limit = 500,
                              .continue_token = "tok/en="};
    assert_int_equal(ck_client_list(c, &pods, "ns", &lo, &out, &err), 0);
    assert_string_equal(ck_json_get_string(out, "path", ""), "/api/v1/namespaces/ns/pods");
    cJSON_Delete(out);
    /* query values arrive decoded; token and user agent are sent */
    assert_string_equal(last, "GET /api/v1/namespaces/ns/pods ls=app=web,tier in (a,b) limit=500 "
                              "continue=tok/en= ct= ua=test-component/v1.32.4 (linux/amd64) "
                              "kubernetes/ckube auth=Bearer s3cret");
    ck_client_free(c);
}

static void typed_helpers_send_the_right_requests(void **state)
{
    (void)state;
    struct ck_client *c = new_client(NULL, -1, 0);
    struct ck_error err = CK_ERROR_INIT;
    const char *text = "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns\"}}";
    cJSON *obj = ck_json_parse(text, strlen(text), NULL);
    cJSON *out = NULL;
    assert_int_equal(ck_client_create(c, &pods, NULL, obj, &out, &err), 0);
    assert_string_equal(ck_json_get_string(out, "path", ""), "/api/v1/namespaces/ns/pods");
    assert_non_null(strstr(last, "POST /api/v1/namespaces/ns/pods "));
    assert_non_null(strstr(last, "ct=application/json "));
    assert_non_null(strstr(last_body, "\"name\":\"p1\""));
    assert_null(strstr(last, "auth=Bearer")); /* no token configured */
    cJSON_Delete(out);
    assert_int_equal(ck_client_update_status(c, &pods, NULL, obj, NULL, &err), 0);
    assert_non_null(strstr(last, "PUT /api/v1/namespaces/ns/pods/p1/status "));
    assert_int_equal(ck_client_patch(c, &pods, "ns", "p1", NULL, CK_PATCH_STRATEGIC,
                                     "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}", NULL, NULL,
                                     &err),
                     0);
    assert_non_null(strstr(last, "PATCH /api/v1/namespaces/ns/pods/p1 "));
    assert_non_null(strstr(last, "ct=application/strategic-merge-patch+json "));
    struct ck_delete_opts d = {.propagation_policy = "Foreground", .has_grace_period = true,
                               .grace_period_seconds = 0, .precondition_uid = "u1"};
    assert_int_equal(ck_client_delete(c, &deployments, "ns", "d1", &d, NULL, &err), 0);
    assert_non_null(strstr(last, "DELETE /apis/apps/v1/namespaces/ns/deployments/d1 "));
    cJSON *opts = ck_json_parse(last_body, strlen(last_body), NULL);
    assert_string_equal(ck_json_get_string(opts, "kind", ""), "DeleteOptions");
    assert_string_equal(ck_json_get_string(opts, "propagationPolicy", ""), "Foreground");
    assert_int_equal(ck_json_get_int64(opts, "gracePeriodSeconds", -1), 0);
    assert_string_equal(ck_json_get_string(opts, "preconditions.uid", ""), "u1");
    cJSON_Delete(opts);
    /* an update needs a name */
    cJSON *anon = cJSON_CreateObject();
    assert_int_equal(ck_client_update(c, &pods, "ns", anon, NULL, &err), -EINVAL);
    cJSON_Delete(anon);
    cJSON_Delete(obj);
    ck_client_free(c);
}

static void errors_decode_status_or_generic_message(void **state)
{
    (void)state;
    struct ck_client *c = new_client(NULL, -1, 0);
    struct ck_error err = CK_ERROR_INIT;
    cJSON *out = NULL;
    assert_int_equal(ck_client_get(c, &pods, "ns", "missing", &out, &err), -ENOENT);
    assert_null(out);
    assert_int_equal(err.code, 404);
    assert_string_equal(err.reason, "NotFound");
    assert_string_equal(err.message, "pods \"missing\" not found");
    assert_string_equal(ck_json_get_string(err.details, "name", ""), "missing");
    /* not a Status: client-go's generic wording, with verb, resource and name */
    assert_int_equal(ck_client_get(c, &deployments, "ns", "web", &out, &err), -ENOENT);
    assert_string_equal(err.reason, "NotFound");
    assert_string_equal(err.message, "the server could not find the requested resource (get "
                                     "deployments.apps web)");
    /* a conflict is -EBUSY, not -EEXIST */
    const char *text = "{\"metadata\":{\"name\":\"taken\"}}";
    cJSON *obj = ck_json_parse(text, strlen(text), NULL);
    assert_int_equal(ck_client_update(c, &pods, "ns", obj, NULL, &err), -EBUSY);
    assert_string_equal(err.reason, "Conflict");
    cJSON_Delete(obj);
    /* 500 with a text body, on POST: no retry, InternalError wording */
    reset_hits();
    struct ck_request req = {.verb = "POST", .path = "/oops", .body = "{}", .body_len = 2};
    assert_int_equal(ck_client_do(c, &req, NULL, &err), -EIO);
    assert_int_equal(err.code, 500);
    assert_string_equal(err.reason, "InternalError");
    assert_string_equal(err.message, "an error on the server (\"boom\") has prevented the request "
                                     "from succeeding");
    assert_int_equal(hits, 1);
    ck_error_clear(&err);
    ck_client_free(c);
}

static void retries_follow_retry_after_and_verbs(void **state)
{
    (void)state;
    struct ck_client *c = new_client(NULL, -1, 0);
    struct ck_error err = CK_ERROR_INIT;
    reset_hits();
    int64_t t0 = ck_mono_ns();
    struct ck_request req = {.verb = "POST", .path = "/retry-after", .body = "{}", .body_len = 2};
    struct ck_response resp = CK_RESPONSE_INIT;
    /* two 429s with Retry-After: 1, then success; even a POST is retried */
    assert_int_equal(ck_client_do(c, &req, &resp, &err), 0);
    int64_t took = ck_mono_ns() - t0;
    assert_int_equal(hits, 3);
    assert_int_equal(resp.status, 200);
    assert_true(took >= 1900 * MS && took < 5000 * MS);
    ck_response_free(&resp);
    /* 503 on GET: retried with backoff up to max_retries */
    reset_hits();
    struct ck_request get = {.verb = "GET", .path = "/unavailable", .max_retries = 2};
    assert_int_equal(ck_client_do(c, &get, NULL, &err), -EAGAIN);
    assert_int_equal(hits, 3);
    assert_string_equal(err.message, "etcd down");
    /* ... but not on PUT */
    reset_hits();
    struct ck_request put = {.verb = "PUT", .path = "/unavailable", .body = "{}", .body_len = 2};
    assert_int_equal(ck_client_do(c, &put, NULL, &err), -EAGAIN);
    assert_int_equal(hits, 1);
    /* the overall timeout bounds the retries */
    reset_hits();
    t0 = ck_mono_ns();
    struct ck_request slow = {.verb = "GET", .path = "/retry-after", .timeout_ns = 500 * MS};
    assert_int_equal(ck_client_do(c, &slow, NULL, &err), -EAGAIN);
    assert_true(ck_mono_ns() - t0 < 900 * MS);
    assert_int_equal(hits, 1);
    ck_error_clear(&err);
    ck_client_free(c);
}

static void refused_connections_read_like_go(void **state)
{
    (void)state;
    /* a port nobody listens on: the server's, after a restart elsewhere is unlikely; use 1 */
    struct ck_rest_config cfg = {.host = "http://127.0.0.1:1"};
    struct ck_client_opts o = {.qps = -1, .max_retries = 2};
    struct ck_client *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_client_new(&cfg, &o, &c, &err), 0);
    int64_t t0 = ck_mono_ns();
    cJSON *out = NULL;
    assert_int_equal(ck_client_get(c, &pods, "ns", "x", &out, &err), -ECONNREFUSED);
    assert_true(ck_mono_ns() - t0 >= 200 * MS); /* two backoffs: ~100 ms + ~200 ms */
    assert_int_equal(err.code, 0);
    assert_string_equal(err.message, "Get \"http://127.0.0.1:1/api/v1/namespaces/ns/pods/x\": "
                                     "dial tcp 127.0.0.1:1: connect: connection refused");
    ck_client_free(c);
    /* unusable configurations are refused up front */
    struct ck_rest_config bad = {.host = "http://h", .insecure = true, .ca_file = "/ca"};
    assert_int_equal(ck_client_new(&bad, NULL, &c, &err), -EINVAL);
    assert_string_equal(err.message, "specifying a root certificates file with the insecure flag "
                                     "is not allowed");
    struct ck_rest_config ftp = {.host = "ftp://h"};
    assert_int_equal(ck_client_new(&ftp, NULL, &c, &err), -EINVAL);
}

static void client_side_throttling_spaces_requests(void **state)
{
    (void)state;
    struct ck_client *c = new_client(NULL, 20, 2); /* 2 at once, then one per 50 ms */
    struct ck_error err = CK_ERROR_INIT;
    int64_t t0 = ck_mono_ns();
    for (int i = 0; i < 8; i++) {
        struct ck_request req = {.verb = "GET", .path = "/echo"};
        assert_int_equal(ck_client_do(c, &req, NULL, &err), 0);
    }
    int64_t took = ck_mono_ns() - t0;
    assert_true(took >= 280 * MS); /* 6 waits of 50 ms */
    assert_true(took < 2000 * MS);
    ck_client_free(c);
}

struct collected {
    char log[1024];
    int n;
    int stop_after;
};

static int collect(void *ctx, const char *type, cJSON *object)
{
    struct collected *c = ctx;
    size_t l = strlen(c->log);
    snprintf(c->log + l, sizeof(c->log) - l, "%s:%s:%s;", type,
             ck_json_get_string(object, "metadata.name", ""),
             ck_json_get_string(object, "metadata.resourceVersion", ""));
    cJSON_Delete(object);
    c->n++;
    return c->stop_after && c->n >= c->stop_after ? 42 : 0;
}

static void watch_streams_events_split_across_chunks(void **state)
{
    (void)state;
    struct ck_client *c = new_client(NULL, -1, 0);
    struct ck_error err = CK_ERROR_INIT;
    struct collected col = {0};
    struct ck_watch_opts wo = {.resource_version = "4", .allow_bookmarks = true,
                               .timeout_seconds = 30};
    /* the last event has no trailing newline: still delivered when the stream ends */
    assert_int_equal(ck_client_watch(c, &pods, "ns", &wo, collect, &col, &err), 0);
    assert_string_equal(col.log, "ADDED:a:5;MODIFIED:a:6;BOOKMARK::9;DELETED:a:10;");
    /* the callback can stop the watch */
    struct collected two = {.stop_after = 2};
    assert_int_equal(ck_client_watch(c, &pods, "ns", &wo, collect, &two, &err), 42);
    assert_int_equal(two.n, 2);
    /* an ERROR event is handed over as such */
    struct collected gone = {0};
    struct ck_watch_opts old = {.resource_version = "1"};
    assert_int_equal(ck_client_watch(c, &pods, "ns", &old, collect, &gone, &err), 0);
    assert_string_equal(gone.log, "ERROR::;");
    /* a refused watch: its Status */
    struct collected none = {0};
    assert_int_equal(ck_client_watch(c, &pods, NULL, &old, collect, &none, &err), -ESTALE);
    assert_int_equal(err.code, 410);
    assert_string_equal(err.reason, "Expired");
    assert_int_equal(none.n, 0);
    ck_error_clear(&err);
    ck_client_free(c);
}

static void *fire_later(void *arg)
{
    struct timespec ts = {0, 300 * 1000000};
    nanosleep(&ts, NULL);
    ck_cancel_fire(arg);
    return NULL;
}

static void watch_ends_promptly_when_cancelled(void **state)
{
    (void)state;
    struct ck_client *c = new_client(NULL, -1, 0);
    struct ck_error err = CK_ERROR_INIT;
    struct ck_cancel *cancel = ck_cancel_new();
    pthread_t t;
    pthread_create(&t, NULL, fire_later, cancel);
    struct collected col = {0};
    struct ck_watch_opts wo = {.resource_version = "forever", .cancel = cancel};
    int64_t t0 = ck_mono_ns();
    assert_int_equal(ck_client_watch(c, &pods, "ns", &wo, collect, &col, &err), -ECANCELED);
    int64_t took = ck_mono_ns() - t0;
    assert_true(took >= 250 * MS && took < 2000 * MS);
    pthread_join(t, NULL);
    /* an already fired token: no request at all */
    reset_hits();
    assert_int_equal(ck_client_watch(c, &pods, "ns", &wo, collect, &col, &err), -ECANCELED);
    assert_int_equal(hits, 0);
    assert_int_equal(ck_cancel_sleep(cancel, CK_SECOND), -ECANCELED);
    ck_cancel_free(cancel);
    ck_client_free(c);
}

static void request_metrics_are_counted(void **state)
{
    (void)state;
    struct ck_metrics *reg = ck_metrics_new();
    struct ck_rest_config cfg = {.host = base};
    struct ck_client_opts o = {.qps = -1, .metrics = reg};
    struct ck_client *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_client_new(&cfg, &o, &c, &err), 0);
    struct ck_request req = {.verb = "GET", .path = "/echo"};
    ck_client_do(c, &req, NULL, &err);
    ck_client_do(c, &req, NULL, &err);
    struct ck_buf b = CK_BUF_INIT;
    ck_metrics_write(reg, &b);
    char want[256];
    snprintf(want, sizeof(want), "rest_client_requests_total{code=\"200\",host=\"%s\",method=\"GET\"} 2\n",
             base + 7);
    assert_non_null(strstr(b.data, want));
    assert_non_null(strstr(b.data, "rest_client_request_duration_seconds_count{host="));
    ck_buf_free(&b);
    ck_client_free(c);
    ck_metrics_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths_headers_and_user_agent),
        cmocka_unit_test(typed_helpers_send_the_right_requests),
        cmocka_unit_test(errors_decode_status_or_generic_message),
        cmocka_unit_test(retries_follow_retry_after_and_verbs),
        cmocka_unit_test(refused_connections_read_like_go),
        cmocka_unit_test(client_side_throttling_spaces_requests),
        cmocka_unit_test(watch_streams_events_split_across_chunks),
        cmocka_unit_test(watch_ends_promptly_when_cancelled),
        cmocka_unit_test(request_metrics_are_counted),
    };
    return cmocka_run_group_tests_name("client", tests, setup, teardown);
}
