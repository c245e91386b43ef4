/* plugins.h - helpers the in-tree plugins share with each other and with the framework
 * (upstream's nodeaffinity.GetRequiredNodeAffinity, noderesources.fitsRequest,
 * nodeports.fitsPorts, podtopologyspread's counting), plus upstream's reason strings.
 * The plugin descriptors themselves are declared in scheduler/framework.h.
 */
#ifndef SCHED_PLUGINS_H
#define SCHED_PLUGINS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "scheduler/framework.h"
#include "scheduler/nodeinfo.h"

/* upstream's reason strings */
#define SCHED_REASON_NODE_UNSCHEDULABLE "node(s) were unschedulable"
#define SCHED_REASON_NODE_NAME "node(s) didn't match the requested node name"
#define SCHED_REASON_NODE_AFFINITY "node(s) didn't match Pod's node affinity/selector"
#define SCHED_REASON_NODE_AFFINITY_CONFLICT "pod affinity terms conflict"
#define SCHED_REASON_NODE_PORTS "node(s) didn't have free ports for the requested pod ports"
#define SCHED_REASON_TOO_MANY_PODS "Too many pods"
#define SCHED_REASON_POD_AFFINITY "node(s) didn't match pod affinity rules"
#define SCHED_REASON_POD_ANTI_AFFINITY "node(s) didn't match pod anti-affinity rules"
#define SCHED_REASON_EXISTING_ANTI_AFFINITY                                                        \
    "node(s) didn't satisfy existing pods anti-affinity rules"
#define SCHED_REASON_SPREAD "node(s) didn't match pod topology spread constraints"
#define SCHED_REASON_SPREAD_LABEL                                                                  \
    "node(s) didn't match pod topology spread constraints (missing required label)"
#define SCHED_REASON_NO_VICTIMS "No preemption victims found for incoming pod"
#define SCHED_REASON_PREEMPTION_NOT_HELPFUL "Preemption is not helpful for scheduling"

/* NodeResourcesFit: the number of insufficient resources of `ni` for the pod; with st non-NULL,
 * *st gets upstream's status (Unschedulable, or UnschedulableAndUnresolvable when a request
 * exceeds the node's whole allocatable) listing "Too many pods", "Insufficient cpu", ... */
size_t sched_fit_insufficient(const struct sched_pod *pod, const struct sched_node_info *ni,
                              struct sched_status **st);

/* NodeAffinity: the pod's nodeSelector and required node affinity both match the node
 * (upstream RequiredNodeAffinity.Match; terms that fail to parse never match). */
bool sched_node_affinity_required_matches(const struct sched_pod *pod,
                                          const struct sched_node *node);
/* One NodeSelectorTerm (matchExpressions and matchFields ANDed; an empty term matches
 * nothing). *ok is set false when the term is malformed. */
bool sched_node_selector_term_matches(const cJSON *term, const struct sched_node *node, bool *ok);

/* NodePorts: none of the pod's host ports is in use on the node. */
bool sched_node_ports_fit(const struct sched_pod *pod, const struct sched_node_info *ni);

/* PodTopologySpread: pods on `ni` in namespace `ns`, not terminating, matched by `sel` (0 for
 * an empty selector, as upstream countPodsMatchSelector). */
int64_t sched_count_pods_matching(const struct sched_node_info *ni,
                                  const struct ck_label_selector *sel, const char *ns);

/* "key\x01value" for topology pair maps; caller frees. */
char *sched_topology_pair(const char *key, const char *value);

#endif
