/* error.c - API errors and their metav1.Status form (see error.h). */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ck_error_errno(int code)
{
    switch (code) {
    case 400: return -EINVAL;
    case 401: return -EACCES;
    case 403: return -EPERM;
    case 404: return -ENOENT;
    case 405: return -EOPNOTSUPP;
    case 406: return -EPROTONOSUPPORT;
    case 409: return -EEXIST;
    case 410: return -ESTALE;
    case 413: return -E2BIG;
    case 415: return -EPROTONOSUPPORT;
    case 422: return -EINVAL;
    case 429: return -EAGAIN;
    case 503: return -EAGAIN;
    case 504: return -ETIMEDOUT;
    default: return -EIO;
    }
}

int ck_error_set(struct ck_error *err, int code, const char *reason, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        snprintf(err->reason, sizeof(err->reason), "%s", reason ? reason : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        ck_error_set_details(err, NULL);
    }
    return ck_error_errno(code);
}

void ck_error_set_details(struct ck_error *err, cJSON *details)
{
    if (!err) {
        cJSON_Delete(details);
        return;
    }
    cJSON_Delete(err->details);
    err->details = details;
}

void ck_error_clear(struct ck_error *err)
{
    if (!err)
        return;
    cJSON_Delete(err->details);
    err->details = NULL;
    err->code = 0;
    err->reason[0] = '\0';
    err->message[0] = '\0';
}

cJSON *ck_error_to_status(const struct ck_error *err)
{
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "kind", "Status");
    cJSON_AddStringToObject(st, "apiVersion", "v1");
    cJSON_AddItemToObject(st, "metadata", cJSON_CreateObject());
    cJSON_AddStringToObject(st, "status", "Failure");
    cJSON_AddStringToObject(st, "message", err->message);
    if (err->reason[0])
        cJSON_AddStringToObject(st, "reason", err->reason);
    if (err->details)
        cJSON_AddItemToObject(st, "details", cJSON_Duplicate(err->details, 1));
    cJSON_AddNumberToObject(st, "code", err->code);
    return st;
}
