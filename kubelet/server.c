/* server.c - the kubelet's API: /healthz, /pods and /containerLogs (see server.h). */
#include "kubelet/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "gostrconv.h"
#include "httpd.h"
#include "json.h"
#include "kubelet/kubelet.h"
#include "kubelet/logs.h"
#include "log.h"
#include "mem.h"
#include "podutil.h"
#include "store.h"
#include "timeutil.h"

struct kl_server {
    struct kl_kubelet *k;
    struct ck_httpd *httpd;
};

static void respond_text(struct ck_http_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void respond_text(struct ck_http_req *req, int status, const char *fmt, ...)
{
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ck_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    ck_http_respond(req, status, "text/plain; charset=utf-8", b.data ? b.data : "", b.len);
}

/* ---- /pods ---- */

static void serve_pods(struct kl_server *s, struct ck_http_req *req)
{
    struct ck_obj_list l = CK_OBJ_LIST_INIT;
    ck_store_list(ck_informer_store(s->k->pod_informer), &l);
    cJSON *list = cJSON_CreateObject();
    cJSON_AddStringToObject(list, "kind", "PodList");
    cJSON_AddStringToObject(list, "apiVersion", "v1");
    cJSON_AddObjectToObject(list, "metadata");
    cJSON *items = cJSON_AddArrayToObject(list, "items");
    for (size_t i = 0; i < l.n; i++) {
        cJSON *p = ck_json_dup(l.items[i]->json);
        if (!cJSON_GetObjectItemCaseSensitive(p, "kind")) {
            cJSON_AddStringToObject(p, "kind", "Pod");
            cJSON_AddStringToObject(p, "apiVersion", "v1");
        }
        cJSON_AddItemToArray(items, p);
    }
    ck_obj_list_free(&l);
    char *text = cJSON_PrintUnformatted(list);
    cJSON_Delete(list);
    ck_http_respond(req, 200, "application/json", text ? text : "{}", text ? strlen(text) : 2);
    free(text);
}

/* ---- /containerLogs: options ---- */

struct log_query {
    bool follow, previous, timestamps;
    bool has_since_seconds, has_since_time, has_tail, has_limit;
    int64_t since_seconds, tail_lines, limit_bytes;
    struct timespec since_time;
};

/* as apimachinery's query conversion: absent / "0" / "false" are false, anything else true */
static bool query_bool(struct ck_http_req *req, const char *name)
{
    const char *v = ck_http_query(req, name);
    return v && strcmp(v, "0") && strcasecmp(v, "false");
}

/* an optional int64 (absent or "" leaves it unset); false on a syntax error */
static bool query_int(struct ck_http_req *req, const char *name, bool *has, int64_t *out)
{
    const char *v = ck_http_query(req, name);
    *has = false;
    if (!v || !v[0])
        return true;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || end == v)
        return false;
    *has = true;
    *out = x;
    return true;
}

/* 0, or the status to answer with (its text in msg) */
static int parse_log_query(struct ck_http_req *req, struct log_query *q, struct ck_buf *msg)
{
    memset(q, 0, sizeof(*q));
    q->follow = query_bool(req, "follow");
    q->previous = query_bool(req, "previous");
    q->timestamps = query_bool(req, "timestamps");
    bool ok = query_int(req, "sinceSeconds", &q->has_since_seconds, &q->since_seconds) &&
              query_int(req, "tailLines", &q->has_tail, &q->tail_lines) &&
              query_int(req, "limitBytes", &q->has_limit, &q->limit_bytes);
    const char *st = ck_http_query(req, "sinceTime");
    if (ok && st && st[0]) {
        ok = ck_time_parse(st, &q->since_time, NULL) == 0;
        q->has_since_time = ok;
    }
    if (!ok) {
        ck_buf_puts(msg, "Unable to decode query.");
        return 400;
    }
    /* upstream's ValidatePodLogOptions */
    if ((q->has_tail && q->tail_lines < 0) || (q->has_limit && q->limit_bytes < 1) ||
        (q->has_since_seconds && q->since_seconds < 1) ||
        (q->has_since_seconds && q->has_since_time)) {
        ck_buf_puts(msg, "{\"message\": \"Invalid request.\"}");
        return 422;
    }
    return 0;
}

/* ---- /containerLogs: the stream ---- */

#define LOG_READ_CHUNK 16384
#define FOLLOW_WAIT_MS 1000
#define FOLLOW_POLL_MS 100

struct log_stream {
    struct ck_httpd *httpd;
    int fd;
    int client_fd; /* the connection's socket (not ours to close), -1 when not found */
    bool follow;
    bool final_pass; /* the container ended: read to the end once more, then stop */
    bool done;
    char *exit_file; /* written by the shim once the container exited */
    char *dir;       /* the container's runtime directory */
    struct kl_log_reader rd;
    struct ck_buf out;
    size_t out_off;
};

static void log_stream_free(void *ctx)
{
    struct log_stream *ls = ctx;
    if (!ls)
        return;
    if (ls->fd >= 0)
        close(ls->fd);
    kl_log_reader_free(&ls->rd);
    ck_buf_free(&ls->out);
    free(ls->exit_file);
    free(ls->dir);
    free(ls);
}

static bool container_ended(const struct log_stream *ls)
{
    struct stat st;
    return stat(ls->exit_file, &st) == 0 || stat(ls->dir, &st) < 0;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) < 0 && errno == EINTR)
        ;
}

/* reads what the file has; false at its end (or on an error, which ends the stream) */
static bool read_some(struct log_stream *ls)
{
    char buf[LOG_READ_CHUNK];
    for (;;) {
        ssize_t n = read(ls->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ck_warn("reading a container log: %s", strerror(errno));
            ls->done = true;
            return false;
        }
        if (n == 0)
            return false;
        if (kl_log_reader_feed(&ls->rd, buf, (size_t)n, &ls->out) == 1)
            ls->done = true;
        return true;
    }
}

static ssize_t log_stream_read(void *ctx, char *dst, size_t max)
{
    struct log_stream *ls = ctx;
    int waited = 0;
    for (;;) {
        if (ls->out_off < ls->out.len) {
            size_t n = ls->out.len - ls->out_off;
            if (n > max)
                n = max;
            memcpy(dst, ls->out.data + ls->out_off, n);
            ls->out_off += n;
            return (ssize_t)n;
        }
        ck_buf_reset(&ls->out);
        ls->out_off = 0;
        if (ls->done || ck_httpd_stopping(ls->httpd))
            return -1;
        if (read_some(ls))
            continue;
        if (ls->done)
            continue;
        /* at the end of the file */
        if (!ls->follow || ls->final_pass) {
            kl_log_reader_finish(&ls->rd, &ls->out);
            ls->done = true;
            continue;
        }
        if (container_ended(ls)) {
            ls->final_pass = true; /* the shim wrote its last lines before exit.json */
            continue;
        }
        if (ck_http_fd_closed(ls->client_fd))
            return -1;
        if (waited >= FOLLOW_WAIT_MS)
            return 0;
        sleep_ms(FOLLOW_POLL_MS);
        waited += FOLLOW_POLL_MS;
    }
}

/* ---- /containerLogs ---- */

static void serve_logs(struct kl_server *s, struct ck_http_req *req, const char *rest)
{
    char ns[256], pod[256], ctr[256];
    int used = 0;
    if (sscanf(rest, "%255[^/]/%255[^/]/%255[^/]%n", ns, pod, ctr, &used) != 3 ||
        rest[used] != '\0') {
        respond_text(req, 404, "404 page not found");
        return;
    }
    CK_AUTOBUF struct ck_buf msg = CK_BUF_INIT;
    struct log_query q;
    int status = parse_log_query(req, &q, &msg);
    if (status) {
        respond_text(req, status, "%s", ck_buf_str(&msg));
        return;
    }
    CK_AUTOFREE char *key = ck_xasprintf("%s/%s", ns, pod);
    struct ck_obj *o = ck_store_get(ck_informer_store(s->k->pod_informer), key);
    if (!o) {
        respond_text(req, 404, "pod \"%s\" does not exist", pod);
        return;
    }
    if (!ck_pod_container(o->json, ctr)) {
        ck_obj_unref(o);
        respond_text(req, 404, "container \"%s\" not found in pod \"%s\"", ctr, pod);
        return;
    }
    char *id = NULL;
    int rc = kl_log_container_id(o->json, ctr, q.previous, &id, &msg);
    ck_obj_unref(o);
    if (rc < 0) {
        respond_text(req, 400, "%s", ck_buf_str(&msg));
        return;
    }
    /* the ID comes from the API (anyone allowed to write pods/status could set it): only a
     * runtime ID may name a directory */
    size_t idlen = strspn(id, "0123456789abcdef");
    if (idlen == 0 || idlen > 64 || id[idlen]) {
        respond_text(req, 400, "container \"%s\" in pod \"%s\" has an invalid container ID", ctr,
                     pod);
        free(id);
        return;
    }
    struct kl_container *c = NULL;
    rc = kl_container_get(s->k->rt, id, &c);
    if (rc < 0 || !c->log_path || !c->log_path[0]) {
        respond_text(req, 400, "failed to get container status \"%s\": %s", id,
                     rc < 0 ? strerror(-rc) : "the container has no log file");
        kl_container_free(c);
        free(id);
        return;
    }
    free(id);
    int fd = open(c->log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        respond_text(req, 400, "failed to open log file \"%s\": %s", c->log_path, strerror(errno));
        kl_container_free(c);
        return;
    }
    struct kl_log_opts lo = {.tail_lines = q.has_tail ? q.tail_lines : -1,
                             .limit_bytes = q.has_limit ? q.limit_bytes : 0,
                             .timestamps = q.timestamps};
    if (q.has_since_time) {
        lo.has_since = true;
        lo.since = q.since_time;
    } else if (q.has_since_seconds) {
        lo.has_since = true;
        ck_time_now(&lo.since);
        lo.since.tv_sec -= q.since_seconds;
    }
    off_t start = 0;
    if (kl_log_tail_offset(fd, lo.tail_lines, &start) < 0 || lseek(fd, start, SEEK_SET) < 0) {
        respond_text(req, 500, "failed to seek in log file \"%s\"", c->log_path);
        close(fd);
        kl_container_free(c);
        return;
    }
    struct log_stream *ls = ck_xmalloc(sizeof(*ls));
    memset(ls, 0, sizeof(*ls));
    ls->httpd = ck_http_server(req);
    ls->fd = fd;
    ls->follow = q.follow;
    ls->client_fd = q.follow ? ck_http_client_fd(req) : -1;
    ls->exit_file = ck_xasprintf("%s/exit.json", c->dir);
    ls->dir = ck_xstrdup(c->dir);
    kl_log_reader_init(&ls->rd, &lo);
    ck_buf_init(&ls->out);
    kl_container_free(c);
    ck_http_respond_stream(req, 200, "text/plain", log_stream_read, log_stream_free, ls);
}

static void handle(struct ck_http_req *req, void *ctx)
{
    struct kl_server *s = ctx;
    const char *path = ck_http_path(req);
    const char *method = ck_http_method(req);
    ck_vinfo(4, "kubelet API %s %s", method, path);
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        respond_text(req, 405, "405: Method Not Allowed");
        return;
    }
    if (!strcmp(path, "/healthz")) {
        respond_text(req, 200, "ok");
    } else if (!strcmp(path, "/pods") || !strcmp(path, "/pods/")) {
        serve_pods(s, req);
    } else if (!strncmp(path, "/containerLogs/", 15)) {
        serve_logs(s, req, path + 15);
    } else {
        respond_text(req, 404, "404 page not found");
    }
}

int kl_server_start(struct kl_kubelet *k, struct kl_server **out, struct ck_error *err)
{
    *out = NULL;
    struct kl_server *s = ck_xmalloc(sizeof(*s));
    memset(s, 0, sizeof(*s));
    s->k = k;
    struct ck_httpd_config hc = {
        .bind_address = k->cfg->address,
        .port = k->cfg->port,
        .handler = handle,
        .ctx = s,
    };
    int rc = ck_httpd_start(&hc, &s->httpd, err);
    if (rc < 0) {
        free(s);
        return rc;
    }
    ck_info("Starting to listen address=\"%s\" port=%d", k->cfg->address, k->cfg->port);
    *out = s;
    return 0;
}

void kl_server_stop(struct kl_server *s)
{
    if (!s)
        return;
    ck_httpd_stop(s->httpd);
    free(s);
}
