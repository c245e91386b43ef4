/* handler.c - the apiserver's request entry point: health and version endpoints, discovery,
 * then resource requests through the resource table to the generic REST verbs. */
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "discovery.h"
#include "log.h"
#include "openapi/openapi.h"
#include "podlogs.h"
#include "requestinfo.h"
#include "rest.h"
#include "timeutil.h"
#include "server.h"

#define KUBE_VERSION "v1.32.4"

static void serve_health(struct ck_http_req *req, const char *name)
{
    const char *verbose = ck_http_query(req, "verbose");
    if (verbose) {
        char body[256];
        snprintf(body, sizeof(body), "[+]ping ok\n[+]log ok\n[+]etcd ok\n%s check passed\n",
                 name);
        ck_http_respond(req, 200, "text/plain; charset=utf-8", body, strlen(body));
    } else {
        ck_http_respond(req, 200, "text/plain; charset=utf-8", "ok", 2);
    }
}

static void serve_version(struct ck_http_req *req)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "major", "1");
    cJSON_AddStringToObject(v, "minor", "32");
    cJSON_AddStringToObject(v, "gitVersion", KUBE_VERSION);
    cJSON_AddStringToObject(v, "gitCommit", "ckube");
    cJSON_AddStringToObject(v, "gitTreeState", "clean");
    cJSON_AddStringToObject(v, "buildDate", "2026-11-23T00:00:00Z");
    cJSON_AddStringToObject(v, "goVersion", "n/a (C)");
    cJSON_AddStringToObject(v, "compiler", "gcc");
    cJSON_AddStringToObject(v, "platform", "linux/amd64");
    codec_respond(req, 200, v);
    cJSON_Delete(v);
}

static void not_found(struct ck_http_req *req)
{
    struct ck_error err = CK_ERROR_INIT;
    ck_error_set(&err, 404, CK_REASON_NOT_FOUND,
                 "the server could not find the requested resource");
    codec_respond_error(req, &err);
    ck_error_clear(&err);
}

/* upstream's buckets for apiserver_request_duration_seconds */
static const double DURATION_BUCKETS[] = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25,
                                          1.5,   2,     3,    4,   5,   6,   8,   10,  15,  20,
                                          30,    45,    60};

void apiserver_metrics_init(struct apiserver *s)
{
    static const char *const TOTAL_LABELS[] = {"verb",        "dry_run", "group", "version",
                                               "resource",    "subresource", "scope",
                                               "component",   "code",    NULL};
    static const char *const DUR_LABELS[] = {"verb",  "dry_run",     "group", "version",
                                             "resource", "subresource", "scope", "component",
                                             NULL};
    struct ck_metrics *m = ck_metrics_default();
    s->requests_total = ck_metrics_counter(
        m, "apiserver_request_total",
        "Counter of apiserver requests broken out for each verb, dry run value, group, version, "
        "resource, scope, component, and HTTP response code.",
        TOTAL_LABELS);
    s->request_duration = ck_metrics_histogram(
        m, "apiserver_request_duration_seconds",
        "Response latency distribution in seconds for each verb, dry run value, group, version, "
        "resource, subresource, scope and component.",
        DUR_LABELS, DURATION_BUCKETS, sizeof(DURATION_BUCKETS) / sizeof(DURATION_BUCKETS[0]));
}

static void serve_metrics(struct ck_http_req *req)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_metrics_write(ck_metrics_default(), &b);
    ck_http_respond(req, 200, CK_METRICS_CONTENT_TYPE, ck_buf_str(&b), b.len);
    ck_buf_free(&b);
}

/* Counts one resource request as upstream's metrics name it (verbs in upper case). */
static void observe(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                    const struct resource *r, int64_t start_ns)
{
    char verb[24], code[8];
    size_t i = 0;
    for (; ri->verb[i] && i < sizeof(verb) - 1; i++)
        verb[i] = (char)(ri->verb[i] >= 'a' && ri->verb[i] <= 'z' ? ri->verb[i] - 32 : ri->verb[i]);
    verb[i] = '\0';
    if (!strcmp(ri->verb, "list") && ri->name[0])
        snprintf(verb, sizeof(verb), "GET");
    snprintf(code, sizeof(code), "%d", ck_http_status(req));
    const char *dry = ck_http_query(req, "dryRun");
    const char *scope = ri->name[0] ? "resource" : ri->namespace_[0] ? "namespace" : "cluster";
    const char *const total[] = {verb,      dry ? dry : "", r->group, r->version, r->plural,
                                 ri->subresource, scope, "apiserver", code};
    ck_metric_inc(ck_metric_withv(s->requests_total, total, 9));
    ck_metric_observe(ck_metric_withv(s->request_duration, total, 8),
                      (double)(ck_mono_ns() - start_ns) / 1e9);
}

void apiserver_handle(struct ck_http_req *req, void *ctx)
{
    struct apiserver *s = ctx;
    const char *path = ck_http_path(req);
    const char *method = ck_http_method(req);
    ck_vinfo(4, "%s %s", method, path);

    if (!strcmp(path, "/healthz") || !strcmp(path, "/livez") || !strcmp(path, "/readyz")) {
        serve_health(req, path + 1);
        return;
    }
    if (!strcmp(path, "/version") || !strcmp(path, "/version/")) {
        serve_version(req);
        return;
    }
    if (!strcmp(path, "/metrics")) {
        serve_metrics(req);
        return;
    }
    if (openapi_handle(req))
        return;
    const char *watch = ck_http_query(req, "watch");
    bool watching = watch && (!strcmp(watch, "true") || !strcmp(watch, "1"));
    struct request_info ri;
    if (request_info_parse(method, path, watching, &ri) < 0) {
        not_found(req);
        return;
    }
    if (!ri.is_resource) {
        if (!discovery_serve(req, path))
            not_found(req);
        return;
    }
    const struct resource *r = resource_find(ri.group, ri.version, ri.resource);
    if (!r || !strcmp(ri.api_prefix, r->group[0] ? "api" : "apis")) {
        not_found(req);
        return;
    }
    /* pods/log streams from the kubelet; long-running as upstream counts it */
    if (!strcmp(ri.subresource, "log") && !strcmp(r->plural, "pods") && ri.name[0] &&
        ri.namespace_[0]) {
        podlogs_handle(s, req, &ri);
        return;
    }
    /* upstream's max-in-flight filter: watches are long-running and not counted */
    bool watch_req = !strcmp(ri.verb, "watch");
    bool write = !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH") ||
                 !strcmp(method, "DELETE");
    atomic_int *counter = write ? &s->inflight_writes : &s->inflight_reads;
    int limit = write ? s->cfg->max_mutating_requests_inflight : s->cfg->max_requests_inflight;
    if (!watch_req) {
        int now = atomic_fetch_add(counter, 1) + 1;
        if (limit > 0 && now > limit) {
            atomic_fetch_sub(counter, 1);
            struct ck_error err = CK_ERROR_INIT;
            ck_error_set(&err, 429, CK_REASON_TOO_MANY_REQUESTS,
                         "Too many requests, please try again later.");
            cJSON *d = cJSON_CreateObject();
            cJSON_AddNumberToObject(d, "retryAfterSeconds", 1);
            ck_error_set_details(&err, d);
            ck_http_add_header(req, "Retry-After", "1");
            codec_respond_error(req, &err);
            ck_error_clear(&err);
            return;
        }
    }
    int64_t start = ck_mono_ns();
    rest_handle(s, req, &ri, r);
    if (!watch_req)
        atomic_fetch_sub(counter, 1);
    observe(s, req, &ri, r, start);
}
