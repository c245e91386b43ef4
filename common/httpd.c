/* httpd.c - HTTP(S) server over libmicrohttpd, one thread per connection (see httpd.h). */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "mem.h"

#define DEFAULT_MAX_BODY (3 * 1024 * 1024)

struct ck_httpd {
    struct MHD_Daemon *mhd;
    ck_http_handler handler;
    void *ctx;
    size_t max_body;
    int port;
    atomic_bool stopping;
    char *tls_cert, *tls_key, *tls_ca; /* file contents, kept while the daemon runs */
};

struct header {
    char *name, *value;
};

/* One request; owned by libmicrohttpd's per-request pointer, freed in request_completed. */
struct ck_http_req {
    struct ck_httpd *server;
    struct MHD_Connection *conn;
    const char *method, *path;
    struct ck_buf body;
    bool too_large;
    struct header *headers;
    size_t nheaders;
    struct MHD_Response *response;
    int status;
};

const char *ck_http_method(const struct ck_http_req *r)
{
    return r->method;
}

const char *ck_http_path(const struct ck_http_req *r)
{
    return r->path;
}

const char *ck_http_body(const struct ck_http_req *r, size_t *len)
{
    if (len)
        *len = r->body.len;
    return ck_buf_str((struct ck_buf *)&r->body);
}

const char *ck_http_header(const struct ck_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *ck_http_query(const struct ck_http_req *r, const char *name)
{
    const char *v = NULL;
    if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v,
                                      NULL) != MHD_YES)
        return NULL;
    return v ? v : "";
}

void ck_http_peer(const struct ck_http_req *r, char *dst, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    dst[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    char ip[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ci->client_addr;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        port = ntohs(a->sin_port);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ci->client_addr;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        port = ntohs(a->sin6_port);
    }
    snprintf(dst, size, "%s:%d", ip, port);
}

int ck_http_client_fd(const struct ck_http_req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

bool ck_http_fd_closed(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

struct ck_httpd *ck_http_server(const struct ck_http_req *r)
{
    return r->server;
}

int ck_http_status(const struct ck_http_req *r)
{
    return r->response ? r->status : 0;
}

void ck_http_add_header(struct ck_http_req *r, const char *name, const char *value)
{
    r->headers = ck_xrealloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
    r->headers[r->nheaders].name = ck_xstrdup(name);
    r->headers[r->nheaders].value = ck_xstrdup(value);
    r->nheaders++;
}

static void set_response(struct ck_http_req *r, int status, const char *content_type,
                         struct MHD_Response *resp)
{
    if (r->response) { /* a handler answered twice: keep the first answer */
        ck_err("httpd: second response to %s %s ignored", r->method, r->path);
        MHD_destroy_response(resp);
        return;
    }
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (size_t i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    r->response = resp;
    r->status = status;
}

void ck_http_respond(struct ck_http_req *r, int status, const char *content_type,
                     const void *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    set_response(r, status, content_type, resp);
}

void ck_http_respond_error(struct ck_http_req *r, const struct ck_error *err)
{
    cJSON *st = ck_error_to_status(err);
    char *s = cJSON_PrintUnformatted(st);
    cJSON_Delete(st);
    ck_http_respond(r, err->code ? err->code : 500, "application/json", s, strlen(s));
    cJSON_free(s);
}

struct stream {
    ck_http_stream_read read;
    ck_http_stream_done done;
    void *ctx;
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    ssize_t n = s->read(s->ctx, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    if (s->done)
        s->done(s->ctx);
    free(s);
}

void ck_http_respond_stream(struct ck_http_req *r, int status, const char *content_type,
                            ck_http_stream_read read, ck_http_stream_done done, void *ctx)
{
    struct stream *s = ck_xmalloc(sizeof(*s));
    *s = (struct stream){read, done, ctx};
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader, s,
                                          stream_free);
    set_response(r, status, content_type, resp);
}

static void respond_status(struct ck_http_req *r, int code, const char *reason, const char *msg)
{
    struct ck_error e = CK_ERROR_INIT;
    ck_error_set(&e, code, reason, "%s", msg);
    ck_http_respond_error(r, &e);
    ck_error_clear(&e);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    (void)version;
    struct ck_httpd *d = cls;
    struct ck_http_req *r = *con_cls;
    if (!r) { /* first call: headers are in */
        r = ck_xcalloc(1, sizeof(*r));
        r->server = d;
        r->conn = conn;
        r->method = method;
        r->path = url;
        ck_buf_init(&r->body);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) { /* a piece of the body */
        if (!r->too_large && r->body.len + *upload_data_size > d->max_body) {
            r->too_large = true;
            ck_buf_free(&r->body);
        }
        if (!r->too_large)
            ck_buf_add(&r->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_large)
        respond_status(r, 413, CK_REASON_TOO_LARGE, "the request body is too large");
    else
        d->handler(r, d->ctx);
    if (!r->response)
        respond_status(r, 500, CK_REASON_INTERNAL, "the server did not answer the request");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)r->status, r->response);
    MHD_destroy_response(r->response);
    r->response = NULL;
    return rc;
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    struct ck_http_req *r = *con_cls;
    if (!r)
        return;
    if (r->response)
        MHD_destroy_response(r->response);
    ck_buf_free(&r->body);
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    ck_vinfo(2, "httpd: %s", msg);
}

static char *slurp(const char *path, struct ck_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct ck_buf b = CK_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ck_buf_add(&b, chunk, n);
    fclose(f);
    return ck_buf_detach(&b);
}

static void free_server(struct ck_httpd *d)
{
    free(d->tls_cert);
    free(d->tls_key);
    free(d->tls_ca);
    free(d);
}

int ck_httpd_start(const struct ck_httpd_config *cfg, struct ck_httpd **out, struct ck_error *err)
{
    struct ck_httpd *d = ck_xcalloc(1, sizeof(*d));
    d->handler = cfg->handler;
    d->ctx = cfg->ctx;
    d->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
    if (cfg->bind_address && cfg->bind_address[0] &&
        inet_pton(AF_INET, cfg->bind_address, &addr.sin_addr) != 1) {
        free_server(d);
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "invalid bind address %s",
                            cfg->bind_address);
    }

    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | MHD_USE_POLL;
    struct MHD_OptionItem opts[12];
    size_t n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &addr};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_completed,
                                        NULL};
    /* libmicrohttpd clears the part of this pool a request used before the next one (with
     * 256 KiB that memset was 4% of the apiserver's CPU on creates): keep it small */
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_STACK_SIZE, 512 * 1024, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
    /* libmicrohttpd's default (FD_SETSIZE - 4) would leave watcher 1021 and later waiting in
     * the listen queue; with poll() the open-files limit is the real bound */
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, 16384, NULL};
    if (cfg->tls_cert_file && cfg->tls_key_file) {
        d->tls_cert = slurp(cfg->tls_cert_file, err);
        d->tls_key = d->tls_cert ? slurp(cfg->tls_key_file, err) : NULL;
        if (!d->tls_key) {
            free_server(d);
            return -EIO;
        }
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, d->tls_cert};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, d->tls_key};
        if (cfg->tls_client_ca_file) {
            d->tls_ca = slurp(cfg->tls_client_ca_file, err);
            if (!d->tls_ca) {
                free_server(d);
                return -EIO;
            }
            opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, d->tls_ca};
        }
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    /* the logger must come first, or MHD logs its first messages its own way */
    d->mhd = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, access_handler, d,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_ARRAY, opts,
                              MHD_OPTION_END);
    if (!d->mhd) {
        int e = errno;
        free_server(d);
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot listen on %s:%d: %s",
                            cfg->bind_address ? cfg->bind_address : "0.0.0.0", cfg->port,
                            strerror(e ? e : EADDRINUSE));
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_BIND_PORT);
    d->port = info ? info->port : cfg->port;
    *out = d;
    return 0;
}

int ck_httpd_port(const struct ck_httpd *d)
{
    return d->port;
}

bool ck_httpd_stopping(const struct ck_httpd *d)
{
    return atomic_load(&d->stopping);
}

void ck_httpd_stop(struct ck_httpd *d)
{
    if (!d)
        return;
    atomic_store(&d->stopping, true);
    MHD_stop_daemon(d->mhd);
    free_server(d);
}
