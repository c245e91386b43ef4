/* watchstream.c - the raw HTTP/1.1 watch client of tests and benchmarks (see watchstream.h). */
#include "watchstream.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ck_watch_stream_open(struct ck_watch_stream *w, int port, const char *path, int rcvbuf)
{
    memset(w, 0, sizeof(*w));
    ck_buf_init(&w->in);
    ck_buf_init(&w->line);
    w->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (w->fd < 0)
        return -errno;
    if (rcvbuf > 0)
        setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(w->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return -errno;
    int one = 1;
    setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n",
                     path);
    if (n <= 0 || (size_t)n >= sizeof(req) || send(w->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        return -EIO;
    fcntl(w->fd, F_SETFL, fcntl(w->fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

void ck_watch_stream_close(struct ck_watch_stream *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    ck_buf_free(&w->in);
    ck_buf_free(&w->line);
}

/* Decodes what is in w->in, calling fn for every complete line, and drops what it used. */
static void parse(struct ck_watch_stream *w, ck_watch_line_fn fn, void *ctx)
{
    size_t pos = 0;
    for (;;) {
        const char *p = w->in.data + pos;
        size_t avail = w->in.len - pos;
        if (w->st == CK_WS_HEADERS) {
            const char *end = memmem(p, avail, "\r\n\r\n", 4);
            if (!end)
                break;
            if (avail >= 12 && !memcmp(p, "HTTP/1.", 7))
                w->status = atoi(p + 9);
            pos += (size_t)(end - p) + 4;
            w->st = w->status == 200 ? CK_WS_SIZE : CK_WS_DONE;
        } else if (w->st == CK_WS_SIZE) {
            const char *end = memmem(p, avail, "\r\n", 2);
            if (!end)
                break;
            w->chunk_left = strtoul(p, NULL, 16);
            pos += (size_t)(end - p) + 2;
            w->st = w->chunk_left ? CK_WS_DATA : CK_WS_DONE;
        } else if (w->st == CK_WS_DATA) {
            if (!avail)
                break;
            size_t n = avail < w->chunk_left ? avail : w->chunk_left;
            size_t start = 0;
            for (size_t i = 0; i < n; i++) {
                if (p[i] != '\n')
                    continue;
                if (w->line.len) { /* the line began in an earlier chunk */
                    ck_buf_add(&w->line, p + start, i - start);
                    fn(ctx, w->line.data, w->line.len);
                    ck_buf_reset(&w->line);
                } else {
                    fn(ctx, p + start, i - start);
                }
                start = i + 1;
            }
            ck_buf_add(&w->line, p + start, n - start);
            pos += n;
            w->chunk_left -= n;
            if (!w->chunk_left)
                w->st = CK_WS_CRLF;
        } else if (w->st == CK_WS_CRLF) {
            if (avail < 2)
                break;
            pos += 2;
            w->st = CK_WS_SIZE;
        } else {
            pos = w->in.len;
            break;
        }
    }
    if (pos) {
        memmove(w->in.data, w->in.data + pos, w->in.len - pos);
        ck_buf_truncate(&w->in, w->in.len - pos);
    }
}

bool ck_watch_stream_read(struct ck_watch_stream *w, ck_watch_line_fn fn, void *ctx)
{
    char buf[65536];
    while (w->fd >= 0) {
        ssize_t n = recv(w->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            ck_buf_add(&w->in, buf, (size_t)n);
            parse(w, fn, ctx);
            if ((size_t)n < sizeof(buf)) /* drained: level-triggered polling says when more */
                return true;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n < 0 && errno == EINTR)
            continue;
        return false;
    }
    return false;
}
