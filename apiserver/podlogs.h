/* podlogs.h - GET /api/v1/namespaces/<ns>/pods/<name>/log: upstream's LogREST.
 *
 * The query is a PodLogOptions (container, follow, previous, timestamps, sinceSeconds,
 * sinceTime, tailLines, limitBytes, insecureSkipTLSVerifyBackend), validated as upstream
 * (422 `PodLogOptions "p" is invalid: tailLines: Invalid value: -1: must be greater than or
 * equal to 0`). The container is checked against the pod as upstream's LogLocation does (400
 * `a container name must be specified for pod p, choose one of: [a b]`, 400 `container x is
 * not valid for pod p`); a pod not bound to a node yet gets an empty 200 answer, as
 * upstream's nil location. Otherwise the request goes to the kubelet of the pod's node at its
 * InternalIP (then ExternalIP, then Hostname: kubeadm's --kubelet-preferred-address-types)
 * and status.daemonEndpoints.kubeletEndpoint.Port (10250 when unset), GET
 * /containerLogs/<ns>/<pod>/<container>, and its body is streamed back as it arrives (libcurl
 * multi, never buffered whole). A kubelet error becomes a Status as upstream's
 * GenericHttpResponseChecker makes it: 400 -> BadRequest with the kubelet's text, 500 ->
 * InternalError, others -> the generic server response ("... ( pods/log p)").
 *
 * Plain HTTP to the kubelet for now (no client certificate): TLS comes with the security
 * issue. Served outside the max-in-flight limit, as upstream counts pods/log long-running.
 */
#ifndef APISERVER_PODLOGS_H
#define APISERVER_PODLOGS_H

#include "httpd.h"
#include "requestinfo.h"
#include "server.h"

/* Answers the request (always exactly once, errors included). */
void podlogs_handle(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri);

#endif
