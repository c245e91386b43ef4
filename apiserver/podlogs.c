/* podlogs.c - pods/log: options, container choice, and the stream proxied from the kubelet
 * (see podlogs.h). */
#include "podlogs.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "gostrconv.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "podutil.h"
#include "registry/fielderr.h"
#include "registry/resources.h"
#include "store.h"
#include "timeutil.h"

#define KUBELET_DEFAULT_PORT 10250
#define MAX_ERROR_BODY 50000   /* as upstream's maxReadLength */
#define MAX_PENDING (1u << 20) /* received from the kubelet, not yet sent: pause above */
#define POLL_MS 1000

/* ---- options ---- */

struct log_opts {
    const char *container;
    bool follow, previous, timestamps;
    bool has_since_seconds, has_tail, has_limit;
    int64_t since_seconds, tail_lines, limit_bytes;
    const char *since_time; /* RFC 3339 in UTC without a fraction (as upstream forwards it),
                               or NULL */
    char since_buf[CK_TIME_BUFSZ];
};

/* as apimachinery's query conversion: absent / "0" / "false" are false, anything else true */
static bool query_bool(struct ck_http_req *req, const char *name)
{
    const char *v = ck_http_query(req, name);
    return v && strcmp(v, "0") && strcasecmp(v, "false");
}

static int query_int(struct ck_http_req *req, const char *name, bool *has, int64_t *out,
                     struct ck_error *err)
{
    const char *v = ck_http_query(req, name);
    *has = false;
    if (!v || !v[0])
        return 0;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || end == v) {
        CK_AUTOBUF struct ck_buf m = CK_BUF_INIT;
        ck_go_num_error(&m, "ParseInt", v, errno == ERANGE);
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", ck_buf_str(&m));
    }
    *has = true;
    *out = x;
    return 0;
}

static int parse_opts(struct ck_http_req *req, const char *pod, struct log_opts *o,
                      struct ck_error *err)
{
    memset(o, 0, sizeof(*o));
    o->container = ck_http_query(req, "container");
    if (!o->container)
        o->container = "";
    o->follow = query_bool(req, "follow");
    o->previous = query_bool(req, "previous");
    o->timestamps = query_bool(req, "timestamps");
    int rc = query_int(req, "sinceSeconds", &o->has_since_seconds, &o->since_seconds, err);
    if (rc == 0)
        rc = query_int(req, "tailLines", &o->has_tail, &o->tail_lines, err);
    if (rc == 0)
        rc = query_int(req, "limitBytes", &o->has_limit, &o->limit_bytes, err);
    if (rc < 0)
        return rc;
    const char *st = ck_http_query(req, "sinceTime");
    if (st && st[0]) {
        struct timespec t;
        struct ck_error perr = CK_ERROR_INIT;
        if (ck_time_parse(st, &t, &perr) < 0) {
            rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", perr.message);
            ck_error_clear(&perr);
            return rc;
        }
        if (ck_time_format(&t, o->since_buf) < 0)
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "sinceTime %s is out of range",
                                st);
        o->since_time = o->since_buf;
    }
    /* upstream's ValidatePodLogOptions */
    struct field_errors fe = FIELD_ERRORS_INIT;
    if (o->has_tail && o->tail_lines < 0)
        fe_add_int(&fe, FE_INVALID, "tailLines", o->tail_lines,
                   "must be greater than or equal to 0");
    if (o->has_limit && o->limit_bytes < 1)
        fe_add_int(&fe, FE_INVALID, "limitBytes", o->limit_bytes, "must be greater than 0");
    if (o->has_since_seconds && o->since_time)
        fe_add(&fe, FE_FORBIDDEN, "", NULL,
               "at most one of `sinceTime` or `sinceSeconds` may be specified");
    else if (o->has_since_seconds && o->since_seconds < 1)
        fe_add_int(&fe, FE_INVALID, "sinceSeconds", o->since_seconds, "must be greater than 0");
    if (fe.len)
        rc = fe_to_error(&fe, "", "PodLogOptions", pod, err);
    field_errors_free(&fe);
    return rc;
}

/* ---- the container ---- */

/* upstream's validateContainer: the one container when there is one, else an error naming
 * every container (init, regular, ephemeral: the order podutil.VisitContainers walks) */
static int choose_container(const cJSON *pod, const char *pod_name, const char *given,
                            const char **out, struct ck_error *err)
{
    if (given[0]) {
        if (!ck_pod_container(pod, given))
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                "container %s is not valid for pod %s", given, pod_name);
        *out = given;
        return 0;
    }
    const cJSON *containers = ck_json_get(pod, "spec.containers");
    int n = cJSON_GetArraySize(containers);
    if (n == 1) {
        *out = ck_json_get_string(cJSON_GetArrayItem(containers, 0), "name", "");
        return 0;
    }
    if (n == 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "a container name must be specified for pod %s", pod_name);
    CK_AUTOBUF struct ck_buf names = CK_BUF_INIT;
    for (size_t i = 0; i < CK_POD_CONTAINER_LISTS_N; i++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, ck_json_get(pod, ck_pod_container_lists[i]))
        {
            ck_buf_printf(&names, "%s%s", names.len ? " " : "", ck_json_get_string(c, "name", ""));
        }
    }
    return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                        "a container name must be specified for pod %s, choose one of: [%s]",
                        pod_name, ck_buf_str(&names));
}

/* ---- the kubelet's address ---- */

static int kubelet_url(struct apiserver *s, const char *node, const char *ns, const char *pod,
                       const char *container, const struct log_opts *o, char **url,
                       struct ck_error *err)
{
    cJSON *n = NULL;
    int rc = store_get(&s->store, resource_find("", "v1", "nodes"), "", node, &n, err);
    if (rc < 0)
        return rc;
    static const char *const types[] = {"InternalIP", "ExternalIP", "Hostname"};
    const char *host = NULL;
    for (size_t t = 0; t < CK_ARRAY_SIZE(types) && !host; t++) {
        const cJSON *a;
        cJSON_ArrayForEach(a, ck_json_get(n, "status.addresses"))
        {
            const char *addr = ck_json_get_string(a, "address", "");
            if (addr[0] && !strcmp(ck_json_get_string(a, "type", ""), types[t])) {
                host = addr;
                break;
            }
        }
    }
    if (!host) {
        cJSON_Delete(n);
        return ck_error_set(err, 500, CK_REASON_INTERNAL,
                            "Internal error occurred: no preferred addresses found; known "
                            "addresses: []");
    }
    int64_t port = ck_json_get_int64(n, "status.daemonEndpoints.kubeletEndpoint.Port", 0);
    if (port <= 0 || port > 65535)
        port = KUBELET_DEFAULT_PORT;
    CURL *h = curl_easy_init();
    if (!h) {
        cJSON_Delete(n);
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot create an HTTP client");
    }
    char *e_ns = curl_easy_escape(h, ns, 0), *e_pod = curl_easy_escape(h, pod, 0);
    char *e_c = curl_easy_escape(h, container, 0);
    struct ck_buf b = CK_BUF_INIT;
    bool v6 = strchr(host, ':') != NULL;
    ck_buf_printf(&b, "http://%s%s%s:%d/containerLogs/%s/%s/%s", v6 ? "[" : "", host, v6 ? "]" : "",
                  (int)port, e_ns ? e_ns : "", e_pod ? e_pod : "", e_c ? e_c : "");
    char sep = '?';
#define ADD(...)                                                                                   \
    do {                                                                                           \
        ck_buf_putc(&b, sep);                                                                      \
        sep = '&';                                                                                 \
        ck_buf_printf(&b, __VA_ARGS__);                                                            \
    } while (0)
    if (o->follow)
        ADD("follow=true");
    if (o->previous)
        ADD("previous=true");
    if (o->timestamps)
        ADD("timestamps=true");
    if (o->has_since_seconds)
        ADD("sinceSeconds=%lld", (long long)o->since_seconds);
    if (o->since_time) {
        char *e = curl_easy_escape(h, o->since_time, 0);
        ADD("sinceTime=%s", e ? e : "");
        curl_free(e);
    }
    if (o->has_tail)
        ADD("tailLines=%lld", (long long)o->tail_lines);
    if (o->has_limit)
        ADD("limitBytes=%lld", (long long)o->limit_bytes);
#undef ADD
    curl_free(e_ns);
    curl_free(e_pod);
    curl_free(e_c);
    curl_easy_cleanup(h);
    cJSON_Delete(n);
    *url = ck_buf_detach(&b);
    return 0;
}



/* ---- the proxied stream ---- */

struct proxy {
    struct ck_httpd *httpd;
    int client_fd; /* the client's socket (not ours to close), -1 when not found */
    CURLM *multi;
    CURL *easy;
    char *url;
    struct ck_buf buf; /* received, not yet passed on (from off) */
    size_t off;
    bool headers_done, finished, paused;
    long status;
    CURLcode result;
    char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct proxy *p = ctx;
    size_t n = size * nmemb;
    if (p->status >= 200 && p->status < 300 && p->buf.len - p->off > MAX_PENDING) {
        p->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (p->status >= 300 && p->buf.len >= MAX_ERROR_BODY)
        return n; /* an error text: keep its start only */
    ck_buf_add(&p->buf, data, n);
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct proxy *p = ctx;
    size_t n = size * nmemb;
    if ((n == 2 && data[0] == '\r' && data[1] == '\n') || (n == 1 && data[0] == '\n')) {
        long code = 0;
        curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200) { /* not a 1xx interim answer */
            p->status = code;
            p->headers_done = true;
        }
    }
    return n;
}

static void proxy_free(void *ctx)
{
    struct proxy *p = ctx;
    if (!p)
        return;
    if (p->multi && p->easy)
        curl_multi_remove_handle(p->multi, p->easy);
    if (p->easy)
        curl_easy_cleanup(p->easy);
    if (p->multi)
        curl_multi_cleanup(p->multi);
    ck_buf_free(&p->buf);
    free(p->url);
    free(p);
}

/* runs the transfer for up to wait_ms (returns early once something happened) */
static void proxy_step(struct proxy *p, int wait_ms)
{
    int running = 0;
    if (p->paused && p->buf.len - p->off < MAX_PENDING / 2) {
        p->paused = false;
        curl_easy_pause(p->easy, CURLPAUSE_CONT);
    }
    curl_multi_perform(p->multi, &running);
    if (running && wait_ms > 0) {
        curl_multi_poll(p->multi, NULL, 0, wait_ms, NULL);
        curl_multi_perform(p->multi, &running);
    }
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(p->multi, &left))) {
        if (m->msg == CURLMSG_DONE && m->easy_handle == p->easy) {
            p->finished = true;
            p->result = m->data.result;
            if (!p->headers_done) {
                curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &p->status);
                p->headers_done = p->status > 0;
            }
        }
    }
    if (!running && !p->finished) {
        /* no message yet but nothing runs: treat as done */
        p->finished = true;
    }
}

static ssize_t proxy_read(void *ctx, char *dst, size_t max)
{
    struct proxy *p = ctx;
    for (int round = 0; round < 2; round++) {
        if (p->off < p->buf.len) {
            size_t n = p->buf.len - p->off;
            if (n > max)
                n = max;
            memcpy(dst, p->buf.data + p->off, n);
            p->off += n;
            if (p->off == p->buf.len) {
                ck_buf_reset(&p->buf);
                p->off = 0;
            }
            return (ssize_t)n;
        }
        if (p->finished || ck_httpd_stopping(p->httpd) || ck_http_fd_closed(p->client_fd))
            return -1;
        proxy_step(p, POLL_MS);
    }
    return 0;
}

/* the Status for a kubelet answer outside 2xx, as upstream's GenericHttpResponseChecker */
static int kubelet_error(struct proxy *p, const char *pod, struct ck_error *err)
{
    const char *body = ck_buf_str(&p->buf);
    switch (p->status) {
    case 400:
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", body);
    case 500:
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "Internal error occurred: %s", body);
    default:
        break;
    }
    const char *reason = "", *msg = NULL;
    switch (p->status) {
    case 404:
        reason = CK_REASON_NOT_FOUND;
        msg = "the server could not find the requested resource";
        break;
    case 422:
        reason = CK_REASON_INVALID;
        msg = "the server rejected our request due to an error in our request";
        break;
    default:
        break;
    }
    int rc;
    if (msg)
        rc = ck_error_set(err, (int)p->status, reason, "%s ( pods/log %s)", msg, pod);
    else
        rc = ck_error_set(err, (int)p->status, reason,
                          "the server responded with the status code %ld but did not return "
                          "more information ( pods/log %s)",
                          p->status, pod);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "name", pod);
    cJSON_AddStringToObject(d, "kind", "pods/log");
    cJSON *causes = cJSON_AddArrayToObject(d, "causes");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "reason", "UnexpectedServerResponse");
    cJSON_AddStringToObject(c, "message", body);
    cJSON_AddItemToArray(causes, c);
    ck_error_set_details(err, d);
    return rc;
}

/* starts the request; answers the client (stream or error). Takes url. */
static int proxy_start(struct ck_http_req *req, char *url, const char *pod, struct ck_error *err)
{
    struct proxy *p = ck_xmalloc(sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->httpd = ck_http_server(req);
    p->client_fd = ck_http_client_fd(req);
    p->url = url;
    ck_buf_init(&p->buf);
    p->multi = curl_multi_init();
    p->easy = curl_easy_init();
    if (!p->multi || !p->easy) {
        proxy_free(p);
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot create an HTTP client");
    }
    curl_easy_setopt(p->easy, CURLOPT_URL, p->url);
    curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(p->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(p->easy, CURLOPT_HEADERDATA, p);
    curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
    curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(p->easy, CURLOPT_NOPROXY, "*");
    curl_multi_add_handle(p->multi, p->easy);
    /* wait for the kubelet's status line and headers */
    while (!p->headers_done && !p->finished) {
        if (ck_httpd_stopping(p->httpd)) {
            proxy_free(p);
            return ck_error_set(err, 503, CK_REASON_SERVICE_UNAVAILABLE,
                                "the server is shutting down");
        }
        proxy_step(p, POLL_MS);
    }
    if (!p->headers_done || (p->finished && p->result != CURLE_OK && p->status == 0)) {
        int rc = ck_error_set(err, 500, "", "Get \"%s\": %s", p->url,
                              p->errbuf[0] ? p->errbuf : curl_easy_strerror(p->result));
        proxy_free(p);
        return rc;
    }
    if (p->status < 200 || p->status > 206) {
        while (!p->finished && !ck_httpd_stopping(p->httpd))
            proxy_step(p, POLL_MS);
        int rc = kubelet_error(p, pod, err);
        proxy_free(p);
        return rc;
    }
    ck_http_respond_stream(req, 200, "text/plain", proxy_read, proxy_free, p);
    return 0;
}

/* ---- entry ---- */

static int serve(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                 struct ck_error *err)
{
    if (strcmp(ck_http_method(req), "GET"))
        return ck_error_set(err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                            "the server does not allow this method on the requested resource");
    struct log_opts o;
    int rc = parse_opts(req, ri->name, &o, err);
    if (rc < 0)
        return rc;
    cJSON *pod = NULL;
    rc = store_get(&s->store, resource_find("", "v1", "pods"), ri->namespace_, ri->name, &pod, err);
    if (rc < 0)
        return rc;
    const char *container = NULL;
    rc = choose_container(pod, ri->name, o.container, &container, err);
    const char *node = ck_json_get_string(pod, "spec.nodeName", "");
    if (rc == 0 && !node[0]) {
        /* not scheduled: upstream's nil location streams nothing */
        ck_http_respond(req, 200, "text/plain", "", 0);
    } else if (rc == 0) {
        char *url = NULL;
        rc = kubelet_url(s, node, ri->namespace_, ri->name, container, &o, &url, err);
        if (rc == 0) {
            ck_vinfo(4, "pods/log %s/%s -> %s", ri->namespace_, ri->name, url);
            rc = proxy_start(req, url, ri->name, err);
        }
    }
    cJSON_Delete(pod);
    return rc;
}

void podlogs_handle(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri)
{
    struct ck_error err = CK_ERROR_INIT;
    int rc = serve(s, req, ri, &err);
    if (rc < 0) {
        if (!err.code)
            ck_error_set(&err, 500, CK_REASON_INTERNAL, "internal error (%d)", rc);
        codec_respond_error(req, &err);
    }
    ck_error_clear(&err);
}
