/* server.h - the kubelet's API on --address:--port (default 0.0.0.0:10250), what the
 * apiserver reaches for `kubectl logs`:
 *
 *   GET /healthz                                       "ok"
 *   GET /pods                                          PodList of the pods bound to this node
 *                                                      (the kubelet's informer view)
 *   GET /containerLogs/<namespace>/<pod>/<container>   the container's log (kubelet/logs.h),
 *       ?follow ?previous ?timestamps ?sinceSeconds ?sinceTime ?tailLines ?limitBytes
 *       as upstream's PodLogOptions; follow streams as the file grows and ends when the
 *       container exits.
 *
 * Errors as upstream's kubelet server writes them (plain text): 404 `pod "p" does not exist`,
 * 404 `container "c" not found in pod "p"`, 400 `Unable to decode query.`, 422
 * `{"message": "Invalid request."}`, 400 with the container-state text of
 * kl_log_container_id (e.g. `previous terminated container "c" in pod "p" not found`).
 *
 * Plain HTTP for now, with no authentication or authorization: TLS (--tls-cert-file,
 * serving certificates) and the webhook authn/authz of upstream's kubelet come with the
 * security issue. Until then, bind it where only the control plane can reach it.
 *
 * Threads: one per connection (common/httpd); handlers read the pod informer's store and
 * the runtime's on-disk state only, never the pod workers' structures.
 */
#ifndef KL_SERVER_H
#define KL_SERVER_H

#include "error.h"

struct kl_kubelet;
struct kl_server;

/* Starts serving on k->cfg->address:k->cfg->port (k->pod_informer and k->rt must exist and
 * outlive the server). *out is the caller's (kl_server_stop). */
int kl_server_start(struct kl_kubelet *k, struct kl_server **out, struct ck_error *err);
/* Ends streams, stops serving and frees; NULL accepted. */
void kl_server_stop(struct kl_server *s);

#endif
