/* framework.h - the scheduling framework as upstream's (pkg/scheduler/framework, v1.32):
 * statuses, the snapshot plugins read, the cycle state, the plugin interface with its
 * extension points (PreFilter + AddPod/RemovePod extensions, Filter, PostFilter, PreScore,
 * Score, NormalizeScore, Reserve/Unreserve, Permit, Bind) and cluster events with queueing
 * hints, and the runners that call the plugins in their configured order.
 *
 * Nothing here does I/O. A profile (struct sched_framework) lists its plugins with score
 * weights; sched_framework_new_default() builds upstream's default profile:
 *   Filter:  NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts,
 *            NodeResourcesFit, PodTopologySpread, InterPodAffinity
 *   Score:   TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1 (LeastAllocated),
 *            PodTopologySpread 2, InterPodAffinity 2, NodeResourcesBalancedAllocation 1,
 *            ImageLocality 1
 *   PostFilter: DefaultPreemption
 * (QueueSort = PrioritySort and PreEnqueue = SchedulingGates live in queue.c; Bind is the
 * daemon's pods/binding call; volume plugins are future work and have hooks here.)
 *
 * Ownership: a NULL struct sched_status * means Success, as upstream's nil *Status. Every
 * status a function returns is owned by the caller (sched_status_free). A cycle owns its
 * plugin states; clones copy them. Snapshots belong to the cache (cache.h) and are only read
 * here. Thread-safety: a cycle and the snapshot it reads are used by one thread at a time.
 */
#ifndef SCHED_FRAMEWORK_H
#define SCHED_FRAMEWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "nodeinfo.h"
#include "strmap.h"

#define SCHED_MAX_NODE_SCORE 100
#define SCHED_MIN_NODE_SCORE 0

/* ---- statuses ---- */

enum sched_code {
    SCHED_SUCCESS = 0,
    SCHED_ERROR,
    SCHED_UNSCHEDULABLE,
    SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE,
    SCHED_WAIT,
    SCHED_SKIP,
    SCHED_PENDING,
};

struct sched_status {
    enum sched_code code;
    const char *plugin; /* static name of the plugin that returned it, or NULL */
    char **reasons;     /* owned */
    size_t nreasons;
};

/* A status with one reason (reason may be NULL for none). Caller frees. */
struct sched_status *sched_status_new(enum sched_code code, const char *reason);
struct sched_status *sched_status_newf(enum sched_code code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sched_status_add_reason(struct sched_status *st, const char *reason);
struct sched_status *sched_status_dup(const struct sched_status *st);
void sched_status_free(struct sched_status *st);
enum sched_code sched_status_code(const struct sched_status *st);
/* Unschedulable or UnschedulableAndUnresolvable (upstream IsRejected). */
bool sched_status_rejected(const struct sched_status *st);
/* The reasons joined with ", " (upstream Status.Message); caller frees. */
char *sched_status_message(const struct sched_status *st);

/* ---- the snapshot plugins read (filled by cache.c) ---- */

struct sched_snapshot {
    struct sched_node_info **nodes; /* owned; zone-interleaved order as upstream's node tree */
    size_t nnodes;
    struct ck_strmap by_name;     /* name -> struct sched_node_info* (borrowed from nodes) */
    struct ck_strmap image_nodes; /* image name -> number of nodes having it (uintptr_t) */
    uint64_t generation;          /* cache generation this snapshot reflects */
    uint64_t nodes_epoch;         /* cache bookkeeping: node set / image version copied */
};

struct sched_node_info *sched_snapshot_get(const struct sched_snapshot *s, const char *name);
size_t sched_snapshot_image_nodes(const struct sched_snapshot *s, const char *image);

/* ---- events and queueing hints ---- */

enum sched_event_resource {
    SCHED_RES_NODE = 1u << 0,
    SCHED_RES_ASSIGNED_POD = 1u << 1,    /* a pod bound to a node */
    SCHED_RES_UNSCHEDULED_POD = 1u << 2, /* the pending pod itself */
    SCHED_RES_WILDCARD = 0xffu,
};

enum sched_action {
    SCHED_ACT_ADD = 1u << 0,
    SCHED_ACT_DELETE = 1u << 1,
    SCHED_ACT_UPDATE_NODE_ALLOCATABLE = 1u << 2,
    SCHED_ACT_UPDATE_NODE_LABEL = 1u << 3,
    SCHED_ACT_UPDATE_NODE_TAINT = 1u << 4,
    SCHED_ACT_UPDATE_NODE_CONDITION = 1u << 5,
    SCHED_ACT_UPDATE_NODE_ANNOTATION = 1u << 6,
    SCHED_ACT_UPDATE_POD_LABEL = 1u << 7,
    SCHED_ACT_UPDATE_POD_SCALE_DOWN = 1u << 8,
    SCHED_ACT_UPDATE_POD_TOLERATION = 1u << 9,
    SCHED_ACT_UPDATE_POD_GATES_ELIMINATED = 1u << 10,
    SCHED_ACT_UPDATE_OTHER = 1u << 11,
    SCHED_ACT_UPDATE = 0xffcu, /* every update kind */
    SCHED_ACT_ALL = 0xfffu,
};

struct sched_event {
    unsigned resource; /* one SCHED_RES_*, or SCHED_RES_WILDCARD */
    unsigned actions;  /* SCHED_ACT_* bits */
    const char *label; /* upstream's event label, e.g. "NodeAdd", "AssignedPodDelete" */
    const struct sched_pod *old_pod, *new_pod;    /* pod events (either may be NULL) */
    const struct sched_node *old_node, *new_node; /* node events */
};

/* Classifies a node update as upstream's nodeSchedulingPropertiesChange; 0 when nothing the
 * scheduler cares about changed. */
unsigned sched_node_update_actions(const struct sched_node *old_node,
                                   const struct sched_node *new_node);
/* Classifies an assigned pod update (labels, scale-down of requests, other). */
unsigned sched_pod_update_actions(const struct sched_pod *old_pod, const struct sched_pod *new_pod);

enum sched_hint { SCHED_HINT_SKIP = 0, SCHED_HINT_QUEUE = 1 };

struct sched_event_reg {
    unsigned resource;
    unsigned actions;
};

/* ---- plugins ---- */

enum sched_plugin_id {
    SCHED_PL_NODE_UNSCHEDULABLE,
    SCHED_PL_NODE_NAME,
    SCHED_PL_TAINT_TOLERATION,
    SCHED_PL_NODE_AFFINITY,
    SCHED_PL_NODE_PORTS,
    SCHED_PL_NODE_RESOURCES_FIT,
    SCHED_PL_POD_TOPOLOGY_SPREAD,
    SCHED_PL_INTER_POD_AFFINITY,
    SCHED_PL_DEFAULT_PREEMPTION,
    SCHED_PL_BALANCED_ALLOCATION,
    SCHED_PL_IMAGE_LOCALITY,
    SCHED_PL_COUNT
};

struct sched_cycle;
struct sched_framework;

struct sched_node_score {
    struct sched_node_info *ni; /* borrowed from the snapshot */
    int64_t score;
};

/* PreFilter may narrow the nodes to a set of names (upstream PreFilterResult). */
struct sched_prefilter_result {
    bool all_nodes; /* true: no restriction */
    char **names;   /* owned */
    size_t nnames;
};

/* Result of PostFilter (preemption). */
struct sched_postfilter_result {
    bool nominate;              /* set nominatedNodeName to `node` ("" clears it) */
    char *node;                 /* owned */
    struct sched_pod **victims; /* references: pods to delete */
    size_t nvictims;
    struct sched_pod **clear_nominated; /* lower-priority pods nominated to that node */
    size_t nclear;
};
void sched_postfilter_result_clear(struct sched_postfilter_result *r);

struct sched_plugin {
    const char *name;
    enum sched_plugin_id id;
    int default_weight; /* 0: not a score plugin */
    struct sched_status *(*pre_filter)(struct sched_cycle *c, struct sched_prefilter_result *res);
    /* PreFilterExtensions: keep the plugin's cycle state right when `p` is added to or
     * removed from `ni` (preemption dry runs, nominated pods). */
    void (*add_pod)(struct sched_cycle *c, const struct sched_pod *p,
                    const struct sched_node_info *ni);
    void (*remove_pod)(struct sched_cycle *c, const struct sched_pod *p,
                       const struct sched_node_info *ni);
    struct sched_status *(*filter)(struct sched_cycle *c, const struct sched_node_info *ni);
    struct sched_status *(*post_filter)(struct sched_cycle *c, struct ck_strmap *node_status,
                                        const struct sched_status *absent,
                                        struct sched_postfilter_result *res);
    struct sched_status *(*pre_score)(struct sched_cycle *c, struct sched_node_info **nodes,
                                      size_t n);
    int64_t (*score)(struct sched_cycle *c, const struct sched_node_info *ni);
    void (*normalize)(struct sched_cycle *c, struct sched_node_score *scores, size_t n);
    /* Binding cycle (upstream Reserve/Unreserve, Permit, PreBind, Bind); none of the default
     * plugins but the daemon's binder needs them yet: VolumeBinding will. Bind returns Skip to
     * let the next binder (the daemon's pods/binding call) do it. */
    struct sched_status *(*reserve)(struct sched_cycle *c, const char *node);
    void (*unreserve)(struct sched_cycle *c, const char *node);
    struct sched_status *(*permit)(struct sched_cycle *c, const char *node, int64_t *wait_ns);
    struct sched_status *(*pre_bind)(struct sched_cycle *c, const char *node);
    struct sched_status *(*bind)(struct sched_cycle *c, const char *node);
    void *(*state_clone)(const void *state);
    void (*state_free)(void *state);
    struct sched_event_reg events[4]; /* zero-terminated: what may make a rejected pod fit */
    enum sched_hint (*hint)(const struct sched_pod *pod, const struct sched_event *ev);
};

extern const struct sched_plugin sched_plugin_node_unschedulable;
extern const struct sched_plugin sched_plugin_node_name;
extern const struct sched_plugin sched_plugin_taint_toleration;
extern const struct sched_plugin sched_plugin_node_affinity;
extern const struct sched_plugin sched_plugin_node_ports;
extern const struct sched_plugin sched_plugin_node_resources_fit;
extern const struct sched_plugin sched_plugin_pod_topology_spread;
extern const struct sched_plugin sched_plugin_inter_pod_affinity;
extern const struct sched_plugin sched_plugin_default_preemption;
extern const struct sched_plugin sched_plugin_balanced_allocation;
extern const struct sched_plugin sched_plugin_image_locality;

/* Name of a plugin id ("NodeResourcesFit", ...); "" when out of range. */
const char *sched_plugin_name(enum sched_plugin_id id);

/* ---- handle: what plugins may ask of the daemon ---- */

struct sched_handle {
    void *ctx;
    /* namespaceSelector support: labels of a namespace (borrowed) or NULL */
    sched_ns_labels_fn namespace_labels;
    /* PodTopologySpread system defaults: the selector of the Services, ReplicationControllers,
     * ReplicaSets and StatefulSets selecting the pod (upstream helper.DefaultSelector), or NULL
     * for none. The caller of the hook owns the result. */
    struct ck_label_selector *(*default_spread_selector)(void *ctx, const struct sched_pod *pod);
    /* PodDisruptionBudgets for preemption: a JSON array of policy/v1 PDBs (borrowed), or NULL */
    const cJSON *(*pdbs)(void *ctx);
    /* random numbers in [0, n) for tie breaking; NULL: rand_r on an internal seed */
    uint64_t (*rand)(void *ctx, uint64_t n);
};

struct sched_framework {
    const struct sched_plugin *plugins[SCHED_PL_COUNT]; /* in extension-point order */
    int weights[SCHED_PL_COUNT];                        /* by plugin id */
    size_t nplugins;
    int percentage_of_nodes_to_score; /* 0: adaptive, as upstream */
    int hard_pod_affinity_weight;     /* InterPodAffinity; default 1 */
    bool spread_system_defaulted;     /* PodTopologySpread defaultingType System */
    struct sched_handle handle;
    unsigned rand_seed;
};

/* Upstream's default profile (see the header comment). `h` may be NULL. Caller frees with
 * sched_framework_free. */
struct sched_framework *sched_framework_new_default(const struct sched_handle *h);
/* A profile with only the given plugins (in the given order) and their default weights. */
struct sched_framework *sched_framework_new(const struct sched_plugin *const *plugins, size_t n,
                                            const struct sched_handle *h);
void sched_framework_free(struct sched_framework *fw);
bool sched_framework_has(const struct sched_framework *fw, enum sched_plugin_id id);
/* Random number in [0, n) through the handle (n > 0). */
uint64_t sched_framework_rand(struct sched_framework *fw, uint64_t n);

/* ---- the cycle state ---- */

struct sched_nominator; /* queue.h */

struct sched_cycle {
    struct sched_framework *fw;
    const struct sched_snapshot *snap;
    struct sched_pod *pod;             /* a reference */
    void *state[SCHED_PL_COUNT];       /* per plugin, owned through state_free */
    uint32_t skip_filter;              /* bit per plugin id: PreFilter returned Skip */
    uint32_t skip_score;               /* PreScore returned Skip */
    const cJSON *ns_labels;            /* labels of the pod's namespace (borrowed) or NULL */
    struct sched_nominator *nominator; /* may be NULL */
};

/* A new cycle for `pod` over `snap` (a reference to the pod is taken). Caller frees. */
struct sched_cycle *sched_cycle_new(struct sched_framework *fw, const struct sched_snapshot *snap,
                                    struct sched_pod *pod);
struct sched_cycle *sched_cycle_clone(const struct sched_cycle *c);
void sched_cycle_free(struct sched_cycle *c);

/* ---- runners ---- */

/* Runs PreFilter plugins; merges their node restrictions into *res (res->all_nodes true when
 * none). On rejection the status names the plugin and *unsched_plugins gets its bit.
 * `with_nodes` gets the bits of plugins that returned a node restriction. */
struct sched_status *sched_run_pre_filter(struct sched_cycle *c, struct sched_prefilter_result *res,
                                          uint32_t *unsched_plugins, uint32_t *with_nodes);
void sched_prefilter_result_clear(struct sched_prefilter_result *r);
/* Filters one node: the first non-success status (with its plugin) or NULL. */
struct sched_status *sched_run_filter(struct sched_cycle *c, const struct sched_node_info *ni);
/* upstream RunFilterPluginsWithNominatedPods: with equal-or-higher priority pods nominated to
 * the node added first, then (when some were added and that passed) without them. */
struct sched_status *sched_run_filter_with_nominated(struct sched_cycle *c,
                                                     const struct sched_node_info *ni);
/* Runs the AddPod / RemovePod extensions of every plugin not skipped. */
void sched_run_add_pod(struct sched_cycle *c, const struct sched_pod *p,
                       const struct sched_node_info *ni);
void sched_run_remove_pod(struct sched_cycle *c, const struct sched_pod *p,
                          const struct sched_node_info *ni);
/* PreScore, Score, NormalizeScore and weights: totals[i] for nodes[i]. Returns an Error status
 * when a plugin returns an error or a normalized score outside [0, 100]. */
struct sched_status *sched_run_score(struct sched_cycle *c, struct sched_node_info **nodes,
                                     size_t n, int64_t *totals);
/* Binding cycle runners, in plugin order. Reserve stops at the first failure and then runs
 * Unreserve of every plugin in reverse (as upstream). Permit returns Wait with the longest
 * *wait_ns when a plugin asks to wait. Bind returns Skip when no plugin bound the pod: the
 * caller then POSTs pods/binding (upstream's DefaultBinder). */
struct sched_status *sched_run_reserve(struct sched_cycle *c, const char *node);
void sched_run_unreserve(struct sched_cycle *c, const char *node);
struct sched_status *sched_run_permit(struct sched_cycle *c, const char *node, int64_t *wait_ns);
struct sched_status *sched_run_pre_bind(struct sched_cycle *c, const char *node);
struct sched_status *sched_run_bind(struct sched_cycle *c, const char *node);

/* upstream's preCheckForNode / AdmissionCheck: the pod fits the node's resources, name,
 * affinity, ports, and tolerates its NoSchedule taints. */
bool sched_node_admits(const struct sched_pod *pod, const struct sched_node_info *ni);

/* upstream DefaultNormalizeScore. */
void sched_default_normalize(struct sched_node_score *scores, size_t n, bool reverse);

#endif
