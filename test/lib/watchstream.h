/* watchstream.h - a raw HTTP/1.1 watch client for tests and benchmarks: a non-blocking loopback
 * socket, chunked transfer decoding, and a callback per event line. Tests use it where libcurl
 * would hide what they look at (when exactly bytes arrive, a server that stops reading,
 * thousands of streams on one thread). The stream owns its socket and buffers. */
#ifndef CK_TEST_WATCHSTREAM_H
#define CK_TEST_WATCHSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum ck_ws_state { CK_WS_HEADERS, CK_WS_SIZE, CK_WS_DATA, CK_WS_CRLF, CK_WS_DONE };

struct ck_watch_stream {
    int fd; /* -1 once closed */
    enum ck_ws_state st; /* CK_WS_DONE: the terminating chunk came, or the status was not 200 */
    size_t chunk_left;
    struct ck_buf in;   /* raw bytes not consumed yet */
    struct ck_buf line; /* decoded body up to the next newline */
    int status;         /* the HTTP status once the headers are in */
};

/* Called with each complete line of the body (without its newline). */
typedef void (*ck_watch_line_fn)(void *ctx, const char *line, size_t len);

/* Connects to 127.0.0.1:port and sends GET path (Accept: application/json, TCP_NODELAY, and
 * SO_RCVBUF = rcvbuf when rcvbuf > 0); the socket is left non-blocking. 0 or a negative
 * errno; either way close with ck_watch_stream_close. */
int ck_watch_stream_open(struct ck_watch_stream *w, int port, const char *path, int rcvbuf);
void ck_watch_stream_close(struct ck_watch_stream *w);
/* Reads what the socket has now (until it would block), calling fn for every complete line.
 * Returns false when the peer closed the connection or it failed (the caller closes), true
 * otherwise; w->st tells whether the response ended. */
bool ck_watch_stream_read(struct ck_watch_stream *w, ck_watch_line_fn fn, void *ctx);

#endif
