/* requestinfo.c - parse resource URLs (see requestinfo.h). */
#include "requestinfo.h"

#include <errno.h>
#include <string.h>

#include "buf.h"

#define MAX_SEGS 16

static int split(const char *path, char segs[MAX_SEGS][254], int *n, const char **rest_at)
{
    *n = 0;
    const char *p = path;
    const char *starts[MAX_SEGS];
    while (*p == '/')
        p++;
    while (*p && *n < MAX_SEGS) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= 254)
            return -EINVAL;
        starts[*n] = p;
        memcpy(segs[*n], p, len);
        segs[*n][len] = '\0';
        (*n)++;
        if (!e)
            break;
        p = e + 1;
    }
    /* rest_at[i] = where segment i starts in the original path, for sub-paths */
    for (int i = 0; i < *n; i++)
        rest_at[i] = starts[i];
    return 0;
}

int request_info_parse(const char *method, const char *path, bool watch_param,
                       struct request_info *out)
{
    memset(out, 0, sizeof(*out));
    char segs[MAX_SEGS][254];
    const char *starts[MAX_SEGS];
    int n;
    if (split(path, segs, &n, starts) < 0)
        return -EINVAL;
    int i = 0;
    if (n < 1 || (strcmp(segs[0], "api") && strcmp(segs[0], "apis")))
        return 0;
    ck_strlcpy(out->api_prefix, segs[0], sizeof(out->api_prefix));
    i = 1;
    if (!strcmp(segs[0], "apis")) {
        if (n < 3) /* /apis or /apis/<group>: discovery */
            return 0;
        ck_strlcpy(out->group, segs[1], sizeof(out->group));
        i = 2;
    } else if (n < 2) {
        return 0;
    }
    ck_strlcpy(out->version, segs[i], sizeof(out->version));
    i++;
    if (i >= n) /* /api/v1, /apis/apps/v1: discovery */
        return 0;

    out->is_resource = true;
    out->parts = n - i;
    bool legacy_watch = false;
    if (!strcmp(segs[i], "watch")) {
        legacy_watch = true;
        i++;
    }
    if (i < n && !strcmp(segs[i], "namespaces")) {
        if (i + 1 < n) {
            ck_strlcpy(out->namespace_, segs[i + 1], sizeof(out->namespace_));
            /* /namespaces/<ns>/<resource>... unless this addresses the namespace itself:
             * /namespaces/<name> or /namespaces/<name>/{status,finalize} */
            if (i + 2 < n && !(i + 3 == n && (!strcmp(segs[i + 2], "status") ||
                                              !strcmp(segs[i + 2], "finalize")))) {
                i += 2;
            } else {
                /* the namespaces resource: its namespace field stays empty */
                ck_strlcpy(out->resource, "namespaces", sizeof(out->resource));
                ck_strlcpy(out->name, segs[i + 1], sizeof(out->name));
                out->namespace_[0] = '\0';
                if (i + 2 < n)
                    ck_strlcpy(out->subresource, segs[i + 2], sizeof(out->subresource));
                i = n;
            }
        }
    }
    if (i < n) {
        ck_strlcpy(out->resource, segs[i], sizeof(out->resource));
        if (i + 1 < n)
            ck_strlcpy(out->name, segs[i + 1], sizeof(out->name));
        if (i + 2 < n)
            ck_strlcpy(out->subresource, segs[i + 2], sizeof(out->subresource));
        if (i + 3 < n)
            ck_strlcpy(out->subpath, starts[i + 3], sizeof(out->subpath));
    }

    const char *verb;
    bool named = out->name[0] != '\0';
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
        verb = named ? "get" : "list";
    else if (!strcmp(method, "POST"))
        verb = "create";
    else if (!strcmp(method, "PUT"))
        verb = "update";
    else if (!strcmp(method, "PATCH"))
        verb = "patch";
    else if (!strcmp(method, "DELETE"))
        verb = named ? "delete" : "deletecollection";
    else
        verb = "";
    /* /watch/ paths always watch (a single object too); ?watch=true turns a list into one */
    if (legacy_watch || (watch_param && !strcmp(verb, "list")))
        verb = "watch";
    ck_strlcpy(out->verb, verb, sizeof(out->verb));
    return 0;
}
