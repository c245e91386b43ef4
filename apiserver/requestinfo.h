/* requestinfo.h - what a request URL names, as upstream's RequestInfoFactory parses it:
 * API group, version, namespace, resource, name, subresource and the verb.
 *
 *   /api/v1/namespaces/default/pods/web/status   -> core v1, ns default, pods, web, status
 *   /apis/apps/v1/deployments                     -> list across namespaces
 *   /api/v1/watch/namespaces/default/pods         -> legacy watch path
 *   /api/v1/namespaces/kube-system                -> the namespace object itself
 */
#ifndef APISERVER_REQUESTINFO_H
#define APISERVER_REQUESTINFO_H

#include <stdbool.h>

struct request_info {
    bool is_resource;     /* false for /healthz, /api, /apis/apps, discovery, ... */
    char verb[20];        /* get list watch create update patch delete deletecollection */
    char api_prefix[5];   /* "api" or "apis" */
    char group[254];
    char version[32];
    char namespace_[254];
    char resource[254];
    char name[254];
    char subresource[64];
    char subpath[1024]; /* rest of the path after a subresource (pods/proxy/<path>) */
    int parts;          /* number of path segments after the version */
};

/* Parses method + decoded path (+ whether ?watch=true was given). Returns 0, or -EINVAL for
 * a path with a segment too long to be a name (callers answer 404). Non-resource paths return
 * 0 with is_resource false. */
int request_info_parse(const char *method, const char *path, bool watch_param,
                       struct request_info *out);

#endif
