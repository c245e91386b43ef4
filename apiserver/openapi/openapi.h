/* openapi.h - the /openapi/v2 and /openapi/v3 endpoints as pure functions: a request (path,
 * ?hash=, Accept, If-None-Match) in, a response (status, headers, body) out. The apiserver's
 * handler sends what openapi_serve answers (openapi_handle in handler.c does exactly that).
 *
 *   /openapi/v2   the embedded swagger document as JSON. Clients may ask for protobuf first;
 *                 we only have JSON, so a clause we can serve later in Accept wins, and an
 *                 Accept with protobuf alone gets 406 (as upstream answers any Accept it cannot
 *                 serve). kubectl 1.32 asks /openapi/v2 for protobuf only and cannot read JSON
 *                 there; it uses /openapi/v3 for explain, apply's patch computation and the
 *                 fieldValidation check, and falls back without v2 elsewhere.
 *   /openapi/v3   the discovery document: {"paths":{"api/v1":{"serverRelativeURL":
 *                 "/openapi/v3/api/v1?hash=<HASH>"},...}} for every group-version (and
 *                 "api", "apis", "apis/<group>", "version", "logs", ...) the v2 paths name.
 *   /openapi/v3/<gv>  the OpenAPI 3.0 document of one group-version, converted from the v2
 *                 definitions as upstream's converter does (components.schemas under the same
 *                 names, "$ref": "#/components/schemas/...", a reference with siblings wrapped
 *                 in allOf, parameters inlined, bodies as requestBody, responses with content
 *                 per media type) with only the schemas its paths reach.
 *
 * Hashes and caching follow kube-openapi's handler3: HASH (and the ETag, quoted) is the
 * uppercase hex SHA-512 of the JSON body; a request whose ?hash= matches gets
 * "Cache-Control: public, immutable" and an Expires a year ahead; a stale ?hash= is
 * redirected (301) to the current URL; an If-None-Match naming the ETag gets 304.
 *
 * Everything is built once, on first use, under pthread_once, and never changes afterwards:
 * bodies returned are borrowed and live for the whole process. Thread-safe.
 */
#ifndef APISERVER_OPENAPI_OPENAPI_H
#define APISERVER_OPENAPI_OPENAPI_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct openapi_request {
    const char *path;          /* decoded URL path without query: "/openapi/v3/apis/apps/v1" */
    const char *hash;          /* the ?hash= value; NULL or "" when absent */
    const char *accept;        /* Accept header; NULL when absent (means any) */
    const char *if_none_match; /* If-None-Match header or NULL */
};

struct openapi_response {
    int status;               /* 200, 301, 304, 404, 406 or 500 */
    const char *content_type; /* static string; NULL when the response has none */
    const char *body;         /* borrowed, lives for the process; NULL when no body */
    size_t body_len;
    char etag[136];            /* the ETag header value, quoted; "" when none */
    char location[512];        /* the Location header of a 301; "" otherwise */
    const char *cache_control; /* "public, immutable" or NULL */
    bool expires_in_a_year;    /* send Expires: now + 1 year (openapi_expires formats it) */
    const char *vary;          /* "Accept" or NULL */
};

/* True when path belongs to this module: /openapi/v2, /openapi/v3 and below. */
bool openapi_is_path(const char *path);

/* Answers one GET. Returns 0 with *rs filled, or -ENOENT when path is not an openapi path
 * (rs->status is then 404). */
int openapi_serve(const struct openapi_request *rq, struct openapi_response *rs);

/* Formats the Expires value for a response sent at `now`: one year later, RFC 1123 in GMT
 * ("Mon, 02 Jan 2006 15:04:05 GMT"). */
void openapi_expires(char *buf, size_t size, time_t now);

struct ck_http_req;
/* The apiserver's entry point (handler.c): answers GET/HEAD of an openapi path with what
 * openapi_serve says (headers included) and returns true; returns false without answering for
 * any other path. */
bool openapi_handle(struct ck_http_req *req);

/* ---- building blocks, exposed for tests ---- */

/* The discovery key of a v2 path: "/api/v1/namespaces/{namespace}/pods" -> "api/v1",
 * "/apis/apps/" -> "apis/apps", "/logs/{logpath}" -> "logs". 0, or -EINVAL when it does not
 * fit in size or the path is empty. */
int openapi_v3_group_of(const char *path, char *out, size_t size);

/* The OpenAPI 3 document of group-version `gv` converted from the v2 document `swagger`; caller
 * frees. NULL when no path of swagger belongs to gv. */
cJSON *openapi_v3_document(const cJSON *swagger, const char *gv);

/* Converts one v2 schema to v3 (references rewritten, references with siblings wrapped in
 * allOf); caller frees. */
cJSON *openapi_v3_schema(const cJSON *v2);

/* Uppercase hex SHA-512 of data into out (129 bytes with the NUL). */
void openapi_hash(const void *data, size_t len, char out[129]);

#endif
