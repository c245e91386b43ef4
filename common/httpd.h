/* httpd.h - a small HTTP(S) server over libmicrohttpd, shared by the apiserver, the kubelet's
 * API and every daemon's /healthz and /metrics.
 *
 * One thread per connection: a handler may block (on etcd, on a watch queue) without
 * stalling other clients. The handler runs once per request, after the whole body arrived
 * (bodies over max_body get a 413 Status without reaching the handler), and must answer with
 * exactly one ck_http_respond* call; if it does not, the client gets a 500.
 */
#ifndef CK_HTTPD_H
#define CK_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct ck_http_req;
struct ck_httpd;

typedef void (*ck_http_handler)(struct ck_http_req *req, void *ctx);

struct ck_httpd_config {
    const char *bind_address; /* "127.0.0.1", "0.0.0.0"; NULL = all */
    int port;                 /* 0 picks a free port; see ck_httpd_port */
    size_t max_body;          /* bytes; 0 = 3 MiB as upstream's apiserver */
    const char *tls_cert_file, *tls_key_file; /* both set = HTTPS */
    const char *tls_client_ca_file;           /* ask for client certificates signed by it */
    ck_http_handler handler;
    void *ctx;
};

/* Starts listening. On success *out owns the server; stop it with ck_httpd_stop. */
int ck_httpd_start(const struct ck_httpd_config *cfg, struct ck_httpd **out, struct ck_error *err);
/* Stops accepting, tells streaming responses to end (ck_httpd_stopping), waits for every
 * connection thread, frees the server. */
void ck_httpd_stop(struct ck_httpd *d);
/* The port actually bound (useful with port 0). */
int ck_httpd_port(const struct ck_httpd *d);
/* True once ck_httpd_stop began: long-running stream readers should end. */
bool ck_httpd_stopping(const struct ck_httpd *d);

/* Request accessors; all returned pointers are borrowed and live as long as the request. */
const char *ck_http_method(const struct ck_http_req *r);
const char *ck_http_path(const struct ck_http_req *r); /* decoded path, without query */
const char *ck_http_body(const struct ck_http_req *r, size_t *len); /* NUL-terminated */
const char *ck_http_header(const struct ck_http_req *r, const char *name);
/* A query parameter's value; "" for `?pretty` with no value; NULL when absent. */
const char *ck_http_query(const struct ck_http_req *r, const char *name);
/* "ip:port" of the peer, into dst. */
void ck_http_peer(const struct ck_http_req *r, char *dst, size_t size);
/* The socket of the request's connection (owned by the server; valid until the response
 * ends, so a streaming callback may keep it), or -1. */
int ck_http_client_fd(const struct ck_http_req *r);
/* Whether the peer of a connection socket closed its side (or the socket failed): how a
 * streaming response that has nothing to write notices a departed client, which libmicrohttpd
 * only sees on a failed write. False for fd < 0. */
bool ck_http_fd_closed(int fd);
/* The server the request arrived on. */
struct ck_httpd *ck_http_server(const struct ck_http_req *r);

/* The status code answered so far (0 before a respond call). */
int ck_http_status(const struct ck_http_req *r);
/* Adds a response header; call before responding. */
void ck_http_add_header(struct ck_http_req *r, const char *name, const char *value);
/* Answers with a body (copied). */
void ck_http_respond(struct ck_http_req *r, int status, const char *content_type,
                     const void *body, size_t len);
/* Answers with a Status object for err (as JSON, code = err->code). */
void ck_http_respond_error(struct ck_http_req *r, const struct ck_error *err);

/* Streaming answer (chunked): `read` fills up to max bytes and returns how many, 0 when it
 * has nothing yet (it should block briefly first, e.g. up to a second, to avoid spinning),
 * or -1 at the end of the stream. `done` runs once when the response is finished or the
 * client went away; it owns ctx. */
typedef ssize_t (*ck_http_stream_read)(void *ctx, char *buf, size_t max);
typedef void (*ck_http_stream_done)(void *ctx);
void ck_http_respond_stream(struct ck_http_req *r, int status, const char *content_type,
                            ck_http_stream_read read, ck_http_stream_done done, void *ctx);

#endif
