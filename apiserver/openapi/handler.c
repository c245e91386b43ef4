/* handler.c - sends what openapi_serve answers over the apiserver's HTTP server (see
 * openapi.h for the endpoints). The apiserver's request entry point calls openapi_handle first
 * for every GET; it answers (and returns true) only for the /openapi paths. */
#include <string.h>
#include <time.h>

#include "httpd.h"
#include "openapi.h"

bool openapi_handle(struct ck_http_req *req)
{
    const char *path = ck_http_path(req);
    if (!openapi_is_path(path))
        return false;
    const char *method = ck_http_method(req);
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        struct ck_error err = CK_ERROR_INIT;
        ck_error_set(&err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                     "the server does not allow this method on the requested resource");
        ck_http_respond_error(req, &err);
        ck_error_clear(&err);
        return true;
    }
    struct openapi_request rq = {
        .path = path,
        .hash = ck_http_query(req, "hash"),
        .accept = ck_http_header(req, "Accept"),
        .if_none_match = ck_http_header(req, "If-None-Match"),
    };
    struct openapi_response rs;
    openapi_serve(&rq, &rs);
    if (rs.etag[0])
        ck_http_add_header(req, "Etag", rs.etag);
    if (rs.vary)
        ck_http_add_header(req, "Vary", rs.vary);
    if (rs.cache_control)
        ck_http_add_header(req, "Cache-Control", rs.cache_control);
    if (rs.expires_in_a_year) {
        char exp[64];
        openapi_expires(exp, sizeof(exp), time(NULL));
        ck_http_add_header(req, "Expires", exp);
    }
    if (rs.location[0])
        ck_http_add_header(req, "Location", rs.location);
    if (rs.status == 404) {
        struct ck_error err = CK_ERROR_INIT;
        ck_error_set(&err, 404, CK_REASON_NOT_FOUND,
                     "the server could not find the requested resource");
        ck_http_respond_error(req, &err);
        ck_error_clear(&err);
        return true;
    }
    ck_http_respond(req, rs.status, rs.content_type, rs.body ? rs.body : "", rs.body_len);
    return true;
}
