/* subresources.h - subresources with their own shapes: pods/binding (and the legacy
 * bindings resource), <workload>/scale (autoscaling/v1 Scale), namespaces/finalize. */
#ifndef APISERVER_SUBRESOURCES_H
#define APISERVER_SUBRESOURCES_H

#include "httpd.h"
#include "requestinfo.h"
#include "registry/resources.h"
#include "server.h"

/* POST pods/<name>/binding or bindings: assigns the pod to target.name. */
int subresource_binding(struct apiserver *s, struct ck_http_req *req,
                        const struct request_info *ri, struct ck_error *err);
/* GET/PUT/PATCH <workload>/<name>/scale. */
int subresource_scale(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                      const struct resource *r, struct ck_error *err);
/* PUT namespaces/<name>/finalize: replaces spec.finalizers; a deleted namespace whose last
 * finalizer goes is removed. */
int subresource_finalize(struct apiserver *s, struct ck_http_req *req,
                         const struct request_info *ri, const struct resource *r,
                         struct ck_error *err);

#endif
