/* status.h - the PodStatus the kubelet reports, built (purely, for unit tests) from what the
 * pod worker knows about a pod's containers, with upstream's names and rules
 * (pkg/kubelet/kubelet_pods.go generateAPIPodStatus, getPhase, convertToAPIContainerStatuses,
 * pkg/kubelet/status/generate.go, the status manager's transition times):
 *
 *  - phase: Pending while an init container has not succeeded or a container waits to start;
 *    Running while one runs (or all are restarting under restartPolicy Always); Succeeded /
 *    Failed once every container stopped and none will restart (or the pod is terminal); a
 *    failed init container makes a restartPolicy Never pod Failed. A terminal phase already
 *    reported never changes back.
 *  - conditions, in upstream's order: the ones not owned by the kubelet (kept as they are),
 *    PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled; each keeps
 *    its lastTransitionTime while its status does not change. Reasons and messages as upstream:
 *    ContainersNotInitialized "containers with incomplete status: [a b]", ContainersNotReady
 *    "containers with unready status: [c]", PodCompleted, PodFailed.
 *  - containerStatuses / initContainerStatuses in spec order: state running / terminated /
 *    waiting (ContainerCreating, or PodInitializing for pods with init containers, or the
 *    worker's reason: CrashLoopBackOff, ErrImagePull, ImagePullBackOff, CreateContainerError,
 *    ...); a container waiting to restart shows its last run as lastState; ready, started,
 *    restartCount, image, imageID, containerID "runc://<id>".
 *  - hostIP(s), podIP(s), startTime (kept once set), qosClass.
 *
 * Ownership: returned trees belong to the caller (cJSON_Delete).
 */
#ifndef KL_STATUS_H
#define KL_STATUS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "kubelet/runtime/runc.h"

/* Upstream's container ID scheme for our runtime. */
#define KL_CONTAINER_ID_PREFIX "runc://"

/* One run of a container (a runtime container). */
struct kl_ctr_run {
    const char *id;       /* 64 hex digits */
    const char *image;    /* as the runtime records it: "docker.io/library/busybox:latest" */
    const char *image_id; /* "docker.io/library/busybox@sha256:..." or "" */
    struct kl_container_state st;
    const char *message; /* termination message (exited runs), NULL/"" for none */
};

/* What the pod worker knows about one container of the spec. */
struct kl_ctr_info {
    const char *name;
    const char *spec_image;
    const struct kl_ctr_run *cur;  /* newest run, NULL when none exists */
    const struct kl_ctr_run *last; /* the run before it, NULL when none */
    unsigned restart_count;
    /* why it does not run, set by the worker (NULL: the default waiting reason) */
    const char *waiting_reason, *waiting_message;
    bool ready;   /* readiness: a running container's probe result (or running without a
                   * readiness probe); an init container that completed successfully */
    bool started; /* startup probe passed, or running without one */
};

struct kl_pod_info {
    const cJSON *pod; /* the API object: spec and the status last reported */
    const struct kl_ctr_info *init;
    size_t n_init;
    const struct kl_ctr_info *ctrs;
    size_t n_ctrs;
    bool sandbox_ready; /* sandbox made and its network set up */
    const char *const *pod_ips;
    size_t n_pod_ips;
    const char *host_ip;
    bool terminal; /* the worker is done with the pod: nothing will run again */
    struct timespec now;
};

/* The pod's status. Never NULL. */
cJSON *kl_pod_status_build(const struct kl_pod_info *pi);

/* Upstream's getPhase over built container statuses. */
const char *kl_pod_phase(const cJSON *spec, const cJSON *init_statuses, const cJSON *statuses,
                         bool terminal);
/* Upstream's GetPodQOS: "Guaranteed", "Burstable" or "BestEffort" (static strings). */
const char *kl_pod_qos(const cJSON *spec);

/* A JSON merge patch (RFC 7386) turning `from` into `to` (objects merged key by key, removed
 * keys set to null, anything else replaced when different). NULL when they are equal. */
cJSON *kl_merge_patch_diff(const cJSON *from, const cJSON *to);

/* Whether a restartPolicy restarts a container that exited with exit_code. */
bool kl_should_restart(const char *restart_policy, int exit_code);

#endif
