/* nodeinfo.h - what the scheduler knows about pods and nodes, parsed once from the cJSON Pods
 * and Nodes the apiserver stores (upstream's framework.PodInfo, framework.NodeInfo and
 * framework.Resource, pkg/scheduler/framework/types.go, Kubernetes v1.32).
 *
 *  - struct sched_resource: requested or allocatable amounts: milli-CPU, bytes of memory and
 *    ephemeral storage, a pod count, and "scalar" resources (extended resources such as
 *    nvidia.com/gpu, hugepages-*, attachable-volumes-*, kubernetes.io/ prefixed ones).
 *  - struct sched_pod: an immutable, reference-counted parse of one Pod: its requests computed
 *    as upstream's resourcehelper.PodRequests (containers summed, init containers as a maximum
 *    with restartable sidecars accumulated, overhead added), the non-zero requests scoring uses
 *    (100m CPU / 200Mi memory for containers that request none), tolerations, host ports,
 *    inter-pod affinity terms, priority and the rest the plugins read. Strings are borrowed from
 *    the pod's own copy of the object (`obj`), which the sched_pod owns.
 *  - struct sched_node: the same for a Node (labels, taints, allocatable, images).
 *  - struct sched_node_info: a node with the pods assigned (or assumed) to it and their sums.
 *
 * Ownership: sched_pod_new / sched_node_new return objects with one reference, released with
 * *_unref; *_ref adds one (atomically: snapshots on the scheduling thread share them with the
 * cache). Node infos are plain owned structures (sched_node_info_free); a clone shares pods and
 * the node by reference.
 */
#ifndef SCHED_NODEINFO_H
#define SCHED_NODEINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "selector.h"
#include "strmap.h"

/* Upstream's schedutil.DefaultMilliCPURequest / DefaultMemoryRequest. */
#define SCHED_DEFAULT_MILLI_CPU_REQUEST 100
#define SCHED_DEFAULT_MEMORY_REQUEST (200 * 1024 * 1024)

struct sched_scalar {
    char *name; /* owned */
    int64_t value;
};

struct sched_resource {
    int64_t milli_cpu;
    int64_t memory;
    int64_t ephemeral_storage;
    int64_t allowed_pods;
    size_t nscalar;
    struct sched_scalar *scalar; /* owned, sorted by name */
};

/* Upstream's IsScalarResourceName: extended, hugepages-, attachable-volumes-, or
 * kubernetes.io/-prefixed native resources. */
bool sched_is_scalar_resource_name(const char *name);
/* Upstream's IsExtendedResourceName (a '/' in the name and not in the kubernetes.io domain). */
bool sched_is_extended_resource_name(const char *name);
void sched_resource_free(struct sched_resource *r);
/* dst becomes a deep copy of src (dst's old contents are released). */
void sched_resource_copy(struct sched_resource *dst, const struct sched_resource *src);
int64_t sched_resource_scalar(const struct sched_resource *r, const char *name);
void sched_resource_add_scalar(struct sched_resource *r, const char *name, int64_t v);
/* r += sign * x, field by field. */
void sched_resource_add(struct sched_resource *r, const struct sched_resource *x, int sign);
/* Upstream's Resource.Add(ResourceList): cpu as MilliValue, the others as Value (rounded up).
 * Unknown non-scalar names are ignored. Returns 0 or -EINVAL for a malformed quantity. */
int sched_resource_add_list(struct sched_resource *r, const cJSON *list, struct ck_error *err);

struct sched_toleration {
    const char *key;    /* "" = all keys */
    const char *op;     /* "", "Equal" or "Exists" */
    const char *value;  /* "" when absent */
    const char *effect; /* "" = all effects */
};

struct sched_taint {
    const char *key;
    const char *value;
    const char *effect;
};

/* True when the toleration tolerates the taint (upstream Toleration.ToleratesTaint). */
bool sched_toleration_tolerates(const struct sched_toleration *t, const struct sched_taint *taint);
/* The first taint whose effect passes `filter` (a bit set of SCHED_EFFECT_*) that no toleration
 * tolerates, or NULL (upstream FindMatchingUntoleratedTaint). */
#define SCHED_EFFECT_NO_SCHEDULE 1u
#define SCHED_EFFECT_NO_EXECUTE 2u
#define SCHED_EFFECT_PREFER_NO_SCHEDULE 4u
unsigned sched_taint_effect_bit(const char *effect);
const struct sched_taint *sched_find_untolerated_taint(const struct sched_taint *taints,
                                                       size_t ntaints,
                                                       const struct sched_toleration *tols,
                                                       size_t ntols, unsigned filter);

struct sched_host_port {
    const char *ip;       /* "0.0.0.0" when not given */
    const char *protocol; /* "TCP" when not given */
    int32_t port;
};

/* A pod (anti-)affinity term as upstream's framework.AffinityTerm / WeightedAffinityTerm. */
struct sched_affinity_term {
    struct ck_label_selector *selector;    /* owned */
    struct ck_label_selector *ns_selector; /* owned; "nothing" when the term has none */
    char **namespaces;                     /* owned; the pod's own when neither is given */
    size_t nnamespaces;
    const char *topology_key; /* borrowed from the pod */
    int32_t weight;           /* preferred terms only */
};

/* Namespace labels lookup for namespaceSelector: returns the labels object of namespace `ns`
 * (borrowed, valid for the duration of the call that received it), or NULL when unknown. */
typedef const cJSON *(*sched_ns_labels_fn)(void *ctx, const char *ns);

/* upstream AffinityTerm.Matches: the pod's namespace is listed or selected by ns_selector
 * (evaluated on ns_labels), and the selector matches the pod's labels. */
bool sched_term_matches(const struct sched_affinity_term *t, const char *pod_ns,
                        const cJSON *pod_labels, const cJSON *ns_labels);

struct sched_pod {
    int refs;   /* atomic */
    cJSON *obj; /* owned copy of the Pod */
    char *key;  /* metadata.uid, or "namespace/name" when the pod has no uid */
    const char *ns, *name, *uid, *node_name, *scheduler_name, *nominated_node;
    const cJSON *labels;
    int32_t priority;
    bool preempt_never; /* spec.preemptionPolicy: Never */
    bool terminating;   /* metadata.deletionTimestamp is set */
    int64_t start_time; /* status.startTime in Unix seconds, 0 when absent */
    int64_t creation_time;
    struct sched_resource req; /* computePodResourceRequest */
    int64_t non0_cpu, non0_mem;
    struct sched_toleration *tols;
    size_t ntols;
    struct sched_host_port *ports;
    size_t nports;
    struct sched_affinity_term *req_aff, *req_anti, *pref_aff, *pref_anti;
    size_t nreq_aff, nreq_anti, npref_aff, npref_anti;
    bool has_affinity;   /* any pod affinity or anti-affinity (upstream PodsWithAffinity) */
    size_t ngates;       /* spec.schedulingGates */
    const char **images; /* init containers' then containers' images */
    size_t nimages;
    char *parse_error; /* owned; why affinity terms could not be parsed, or NULL */
};

/* Parses a Pod (the object is copied). Returns NULL with err set (400) when the object is not
 * a pod-shaped JSON object or a resource quantity is malformed; bad affinity selectors do not
 * fail the parse but set parse_error (the affected term is dropped). */
struct sched_pod *sched_pod_new(const cJSON *pod, struct ck_error *err);
struct sched_pod *sched_pod_ref(struct sched_pod *p);
void sched_pod_unref(struct sched_pod *p);
/* The cache key the scheduler uses for a Pod object (uid or namespace/name) into buf. */
void sched_pod_key(const cJSON *pod, char *buf, size_t size);
/* Upstream's corev1helpers.PodPriority. */
int32_t sched_pod_priority(const struct sched_pod *p);
/* Upstream's util.MoreImportantPod: higher priority, then the earlier start time. */
bool sched_pod_more_important(const struct sched_pod *a, const struct sched_pod *b);

struct sched_image {
    int64_t size;
};

struct sched_node {
    int refs;
    cJSON *obj; /* owned copy */
    const char *name;
    const cJSON *labels;
    struct sched_taint *taints;
    size_t ntaints;
    bool unschedulable;
    struct sched_resource allocatable;
    struct ck_strmap images; /* image name -> struct sched_image* (owned) */
};

struct sched_node *sched_node_new(const cJSON *node, struct ck_error *err);
struct sched_node *sched_node_ref(struct sched_node *n);
void sched_node_unref(struct sched_node *n);
/* Value of label `key` on the node (borrowed), or NULL. */
const char *sched_node_label(const struct sched_node *n, const char *key);

struct sched_node_info {
    struct sched_node *node; /* a reference, or NULL for a node only known from its pods */
    char *name;              /* owned */
    struct sched_pod **pods; /* references */
    size_t npods, cap;
    size_t naffinity; /* pods with any pod (anti-)affinity */
    size_t nreq_anti; /* pods with required anti-affinity */
    struct sched_resource requested;
    int64_t non0_cpu, non0_mem;
    uint64_t generation;
};

struct sched_node_info *sched_node_info_new(const char *name);
void sched_node_info_free(struct sched_node_info *ni);
/* A copy sharing node and pods by reference (caller frees). */
struct sched_node_info *sched_node_info_clone(const struct sched_node_info *ni);
/* Replaces the node (a new reference is taken; NULL clears). */
void sched_node_info_set_node(struct sched_node_info *ni, struct sched_node *node);
/* Adds the pod (a reference is taken) and its requests. */
void sched_node_info_add_pod(struct sched_node_info *ni, struct sched_pod *p);
/* Removes the pod with this key; 0 or -ENOENT. */
int sched_node_info_remove_pod(struct sched_node_info *ni, const char *key);
/* The node's allocatable resources (zeros when the node object is unknown). */
const struct sched_resource *sched_node_info_allocatable(const struct sched_node_info *ni);

#endif
