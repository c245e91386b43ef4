/* discovery.h - the discovery documents, derived from the resource table:
 * /api (APIVersions), /apis (APIGroupList), /apis/<group> (APIGroup),
 * /api/v1 and /apis/<group>/<version> (APIResourceList). */
#ifndef APISERVER_DISCOVERY_H
#define APISERVER_DISCOVERY_H

#include <stdbool.h>

#include "httpd.h"

/* Serves path if it is a discovery path; returns false (without responding) otherwise. */
bool discovery_serve(struct ck_http_req *req, const char *path);

#endif
