/* rest.h - the generic REST verbs over the resource table: get, list, create, update, patch,
 * delete, deletecollection, and the subresources every kind shares (status). */
#ifndef APISERVER_REST_H
#define APISERVER_REST_H

#include "httpd.h"
#include "requestinfo.h"
#include "registry/resources.h"
#include "server.h"

/* Serves one resource request; always responds. */
void rest_handle(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                 const struct resource *r);

/* Reads ?dryRun: true for "All"; a bad value sets *rc to a 400 error. */
bool rest_dry_run(struct ck_http_req *req, struct ck_error *err, int *rc);
/* Fills err with upstream's 409 Conflict for a stale resourceVersion; returns -EBUSY. */
int rest_conflict(const struct resource *r, const char *name, struct ck_error *err);
/* Records the Update operation of request req in obj's managedFields: what its field manager
 * (?fieldManager= or the User-Agent) changed going from old (NULL on create) to obj, on
 * subresource ("" for the main resource). */
void rest_record_update(struct ck_http_req *req, const struct resource *r, const cJSON *old,
                        cJSON *obj, const char *subresource);

#endif
