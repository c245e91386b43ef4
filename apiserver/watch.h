/* watch.h - client watches (?watch=true and /watch/ paths), served from the watch cache as
 * a chunked stream of {"type":...,"object":...} lines. */
#ifndef APISERVER_WATCH_H
#define APISERVER_WATCH_H

#include "httpd.h"
#include "requestinfo.h"
#include "registry/resources.h"
#include "server.h"

/* Serves one watch request; returns 0 once a stream answer is queued, or an error to send as a
 * Status (bad parameters, 410 for a too-old resourceVersion... see watch.c). */
int watch_serve(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                const struct resource *r, struct ck_error *err);

#endif
