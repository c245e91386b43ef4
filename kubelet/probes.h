/* probes.h - container probes and lifecycle hooks, as upstream's prober:
 *
 *  - liveness, readiness and startup probes of type exec (run in the container through runc,
 *    success on exit code 0), httpGet (from the node to the pod IP or host, success on status
 *    200..399, User-Agent "kube-probe/1.32") and tcpSocket (a connect); gRPC probes are not
 *    run and count as successful;
 *  - upstream's timing: a probe runs as soon as its worker starts and then every
 *    periodSeconds (default 10), never before initialDelaySeconds after the container
 *    started, with timeoutSeconds (default 1); a result flips after successThreshold
 *    (default 1) successes or failureThreshold (default 3) failures in a row. Liveness and
 *    readiness wait for the startup probe to succeed; a container is not ready until its
 *    readiness probe succeeded; a failed liveness or startup probe gets the container
 *    restarted by its pod worker ("Container x failed liveness probe, will be restarted").
 *    Every failure is reported as an "Unhealthy" event ("Liveness probe failed: ...").
 *  - postStart / preStop hooks: exec, httpGet and sleep handlers.
 *
 * One thread per probe (upstream runs one goroutine per probe); results go into the pod's
 * slot under kl_pods.lock and a changed result queues the pod's sync.
 */
#ifndef KL_PROBES_H
#define KL_PROBES_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "kubelet/kubelet.h"

struct kl_pod;

int kl_prober_start(struct kl_kubelet *k);
/* Stops every probe thread and waits for them; no new ones start afterwards. */
void kl_prober_stop(struct kl_kubelet *k);
/* Stops (if needed) and frees the prober; after the pod workers are gone. */
void kl_prober_free(struct kl_kubelet *k);
/* Starts probe threads for the pod's running containers that have probes and stops those of
 * containers that no longer run. Called by the pod's worker after each sync. */
void kl_prober_sync_pod(struct kl_kubelet *k, struct kl_pod *p, const cJSON *pod);
/* Stops the probe threads of a pod that went away. */
void kl_prober_forget_pod(struct kl_kubelet *k, const char *uid);

/* Runs a lifecycle hook handler (exec, httpGet, sleep) against container c of pod, for at
 * most timeout_s seconds. kind is "PostStart" or "PreStop". On failure returns a negative
 * errno and, when msg is not NULL (512 bytes), upstream's message ("Exec lifecycle hook
 * ([...]) for Container ... failed - error: ..., message: ..."). */
int kl_run_hook(struct kl_kubelet *k, const cJSON *pod, const struct kl_container *c,
                const cJSON *handler, int64_t timeout_s, const char *kind, char *msg);

/* The result of one probe handler run (exposed for tests). */
enum kl_probe_result { KL_PROBE_SUCCESS, KL_PROBE_FAILURE, KL_PROBE_UNKNOWN };
/* Runs an httpGet / tcpSocket action against host (the pod IP when the action names none);
 * output (256 bytes) says why it failed, as upstream words it. */
enum kl_probe_result kl_probe_http(const cJSON *action, const cJSON *container, const char *host,
                                   int timeout_ms, char *output, size_t size);
enum kl_probe_result kl_probe_tcp(const cJSON *action, const cJSON *container, const char *host,
                                  int timeout_ms, char *output, size_t size);
/* A port given as a number or as the name of one of the container's ports; -1 if unknown. */
int kl_probe_port(const cJSON *port, const cJSON *container);

#endif
