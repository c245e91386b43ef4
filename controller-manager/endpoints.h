/* endpoints.h - what the Endpoints and EndpointSlice controllers share: which pods back a
 * Service, their readiness, and per-pod resolution of (named) target ports; and the two
 * controllers' start functions for main.c's table.
 *
 * Ownership: strings and trees returned belong to the caller unless said otherwise.
 */
#ifndef CK_CM_ENDPOINTS_H
#define CK_CM_ENDPOINTS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "controller.h"

/* upstream podutil.IsPodReady: the Ready condition is "True". */
bool ep_pod_ready(const cJSON *pod);
/* upstream ShouldPodBeInEndpoints: the pod has an IP, is not Succeeded/Failed, and (unless
 * include_terminating) has no deletionTimestamp. */
bool ep_pod_included(const cJSON *pod, bool include_terminating);
/* The target port of service port sp for pod: a number as is, a name looked up among the
 * containers' ports with the same protocol. 0 and the port, or -ENOENT. */
int ep_resolve_port(const cJSON *pod, const cJSON *sp, int *out);
/* True when the Service has a non-empty spec.selector (the controllers manage it). */
bool ep_service_selects(const cJSON *svc);
/* Adds "ns/name" of every Service in pod's namespace (from the service store) whose selector
 * matches the pod's labels. */
void ep_services_for_pod(struct ck_store *services, const cJSON *pod, struct ck_strlist *keys);
/* The pods of svc's namespace matching its selector (new references). */
void ep_pods_for_service(struct ck_store *pods, const cJSON *svc, struct ck_obj_list *out);
/* True when the pod's hostname/subdomain make it addressable as <hostname>.<svc>: sets
 * *hostname (borrowed) then. */
bool ep_pod_hostname(const cJSON *pod, const cJSON *svc, const char **hostname);

/* True when an API error carries the NamespaceTerminating cause (a create refused because
 * the namespace is being terminated: upstream drops such keys without an event). */
bool ep_namespace_terminating(const struct ck_error *err);

/* At most this many addresses (ready and not ready) go into one Endpoints object. */
#define EP_MAX_CAPACITY 1000
#define EP_OVER_CAPACITY_ANNOTATION "endpoints.kubernetes.io/over-capacity"
/* upstream's truncateEndpoints: when subsets (an Endpoints' subsets array) hold more than
 * `max` addresses, keeps `max`, ready addresses first, each subset keeping its share of the
 * truncated kind rounded up (the last ones get what is left); returns whether it truncated. */
bool ep_truncate_subsets(cJSON *subsets, int max);

int endpoints_start(struct ck_controller_context *cc, struct ck_error *err);
int endpointslice_start(struct ck_controller_context *cc, struct ck_error *err);

#endif
