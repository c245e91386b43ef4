/* handler.c - the apiserver's request entry point: health and version endpoints, discovery,
 * then resource requests through the resource table to the generic REST verbs. */
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "discovery.h"
#include "log.h"
#include "openapi/openapi.h"
#include "requestinfo.h"
#include "rest.h"
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
    rest_handle(s, req, &ri, r);
    if (!watch_req)
        atomic_fetch_sub(counter, 1);
}
