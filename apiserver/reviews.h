/* reviews.h - the create-only review resources, never stored: authentication.k8s.io's
 * SelfSubjectReview and TokenReview, authorization.k8s.io's SubjectAccessReview,
 * LocalSubjectAccessReview, SelfSubjectAccessReview and SelfSubjectRulesReview. A create
 * answers the review in its status, as upstream's REST storage for them does.
 *
 * Until authentication and authorization land, every request reaches the apiserver through
 * its insecure port, as upstream's old insecure port: its user is upstream's insecure
 * superuser (system:unsecured in system:masters), tokens are not authenticated (no token
 * authenticator: a TokenReview comes back with an empty status), and everything is allowed
 * (upstream's AlwaysAllow authorizer: allowed, every rule). */
#ifndef APISERVER_REVIEWS_H
#define APISERVER_REVIEWS_H

#include "httpd.h"
#include "requestinfo.h"
#include "registry/resources.h"

/* Serves a create of review resource r (a row without storage); always responds. */
void reviews_create(struct ck_http_req *req, const struct request_info *ri,
                    const struct resource *r);

#endif
