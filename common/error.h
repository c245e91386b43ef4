/* error.h - API errors as clients see them: upstream's metav1.Status (code, reason, message,
 * details).
 *
 * Convention (see CONVENTIONS.md): functions return 0 or a negative errno-style code, and
 * fill an optional `struct ck_error *` with what the client should be told. A NULL error
 * pointer is always accepted. The error owns `details` (a cJSON object, may be NULL);
 * ck_error_clear releases it.
 */
#ifndef CK_ERROR_H
#define CK_ERROR_H

#include <cjson/cJSON.h>

/* metav1.StatusReason values, with the HTTP code upstream pairs with each. */
#define CK_REASON_BAD_REQUEST "BadRequest"           /* 400 */
#define CK_REASON_UNAUTHORIZED "Unauthorized"        /* 401 */
#define CK_REASON_FORBIDDEN "Forbidden"              /* 403 */
#define CK_REASON_NOT_FOUND "NotFound"               /* 404 */
#define CK_REASON_METHOD_NOT_ALLOWED "MethodNotAllowed" /* 405 */
#define CK_REASON_NOT_ACCEPTABLE "NotAcceptable"     /* 406 */
#define CK_REASON_ALREADY_EXISTS "AlreadyExists"     /* 409 */
#define CK_REASON_CONFLICT "Conflict"                /* 409 */
#define CK_REASON_GONE "Gone"                        /* 410 */
#define CK_REASON_EXPIRED "Expired"                  /* 410 */
#define CK_REASON_TOO_LARGE "RequestEntityTooLarge"  /* 413 */
#define CK_REASON_UNSUPPORTED_MEDIA "UnsupportedMediaType" /* 415 */
#define CK_REASON_INVALID "Invalid"                  /* 422 */
#define CK_REASON_TOO_MANY_REQUESTS "TooManyRequests" /* 429 */
#define CK_REASON_INTERNAL "InternalError"           /* 500 */
#define CK_REASON_SERVICE_UNAVAILABLE "ServiceUnavailable" /* 503 */
#define CK_REASON_TIMEOUT "Timeout"                  /* 504 */

struct ck_error {
    int code;           /* HTTP status code; 0 while no error is set */
    char reason[40];    /* a metav1.StatusReason */
    char message[1024]; /* human-readable, as upstream words it */
    cJSON *details;     /* optional metav1.StatusDetails, owned */
};

#define CK_ERROR_INIT {0, "", "", NULL}

/* Sets code, reason and a printf-formatted message (replacing any earlier error).
 * Returns the negative errno that best matches `code`, so callers can
 * `return ck_error_set(err, 404, CK_REASON_NOT_FOUND, ...);`. */
int ck_error_set(struct ck_error *err, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Replaces the details with `details` (ownership passes to err; NULL clears). */
void ck_error_set_details(struct ck_error *err, cJSON *details);
/* Releases details and resets err to "no error". */
void ck_error_clear(struct ck_error *err);
/* Negative errno for an HTTP code (404 -> -ENOENT, 409 -> -EEXIST/-EBUSY, ...). */
int ck_error_errno(int code);
/* Builds a metav1.Status object ("kind":"Status","status":"Failure",...); caller owns it. */
cJSON *ck_error_to_status(const struct ck_error *err);

#endif
