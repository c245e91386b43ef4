/* kubelet.h - the kubelet's shared state and its parts:
 *
 *   kubelet.c    start-up and shutdown (kl_kubelet_run): the REST client, the runtime (runc,
 *                images, CNI), events, informers, the health endpoint; helpers every part uses
 *   node.c       the Node: registration (adopting an existing Node), status, the Lease
 *   podworker.c  the pods bound to this node: one sync at a time per pod, from the informer's
 *                events, container exits and timers; the pod status
 *   podsync.c    the runtime side of a sync: sandbox, network, volumes, images, containers
 *   status.c, containers.c, volumes.c, env.c, backoff.c, eviction.c (hard eviction thresholds
 *                and the node pressure conditions): the pure pieces they use
 *   config.c     flags
 *   probes.c     liveness / readiness / startup probes
 *
 * Threads: the informers' threads call the pod manager's handlers; worker threads run pod
 * syncs (a work queue keyed by pod UID hands each pod to one worker at a time); one thread
 * keeps the Node's status and Lease; probe threads run probes. Fields of struct kl_kubelet
 * are set before any thread starts and read-only afterwards, except those guarded by `lock`.
 */
#ifndef KL_KUBELET_H
#define KL_KUBELET_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cancel.h"
#include "client.h"
#include "events.h"
#include "informer.h"
#include "kubelet/config.h"
#include "kubelet/containers.h"
#include "kubelet/cni/cni.h"
#include "kubelet/runtime/image.h"
#include "kubelet/runtime/runc.h"

struct kl_node;
struct kl_pods;
struct kl_prober;

struct kl_kubelet {
    struct kl_config *cfg;
    struct ck_client *client;
    struct ck_cancel *stop;
    struct kl_runtime *rt;
    struct kl_image_store *images;
    struct kl_cni *cni;
    struct ck_event_broadcaster *broadcaster;
    struct ck_event_recorder *recorder;
    struct ck_informer *pod_informer;
    struct ck_informer *svc_informer;
    struct kl_node *node;
    struct kl_pods *pods;
    struct kl_prober *prober;
    struct kl_resolv host_resolv;
    char runtime_version[64];  /* "runc://1.1.5" */
    pthread_mutex_t pull_lock; /* held around a pull when --serialize-image-pulls */

    pthread_mutex_t lock; /* guards the fields below */
    char pod_cidr[64];    /* the Node's spec.podCIDR once known */
    bool network_ready;   /* a CNI config is loaded */
    char node_uid[64];
    int64_t node_memory;     /* capacity in bytes */
    cJSON *node_allocatable; /* the last allocatable posted (owned) */
    bool registered;
};

/* Runs the kubelet until stop fires; returns the process exit code. */
int kl_kubelet_run(struct kl_config *cfg, struct ck_cancel *stop);

/* ConfigMaps / Secrets from the API (a kl_object_getter). */
int kl_api_get_object(void *kubelet, const char *resource, const char *ns, const char *name,
                      cJSON **out, struct ck_error *err);

/* Events about a pod or one of its containers (fieldPath "spec.containers{name}" /
 * "spec.initContainers{name}" when container is given). */
void kl_pod_event(struct kl_kubelet *k, const cJSON *pod, const char *container, bool init,
                  const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* An event about this node (involvedObject: the Node, uid = its name, as upstream's kubelet). */
void kl_node_event(struct kl_kubelet *k, const char *type, const char *reason, const char *msg);

/* ---- node.c ------------------------------------------------------------------------------- */

/* Registers the Node (retrying until it succeeds or stop fires) and starts the status and
 * Lease thread. Returns 0, or -ECANCELED. */
int kl_node_start(struct kl_kubelet *k);
void kl_node_stop(struct kl_kubelet *k);
/* Asks the status thread to post the node status soon (e.g. the network became ready). */
void kl_node_poke(struct kl_kubelet *k);

/* ---- podworker.c -------------------------------------------------------------------------- */

/* Creates the pod manager, adopts what the runtime already runs, and starts its workers
 * once the pod informer synced. */
int kl_pods_start(struct kl_kubelet *k);
void kl_pods_stop(struct kl_kubelet *k);
/* Queues a pod's sync (by UID). */
void kl_pods_enqueue(struct kl_kubelet *k, const char *uid);
/* Number of pods the kubelet currently tracks (for the node's pod count). */
size_t kl_pods_count(struct kl_kubelet *k);
/* The image references every tracked pod uses (for image GC), NULL-terminated; caller frees
 * with kl_strv_free. */
char **kl_pods_images_in_use(struct kl_kubelet *k);

#endif
