/* model.h - what kube-proxy's rules are made of: each Service port as upstream's ServicePort
 * (pkg/proxy/serviceport.go, servicechangetracker.go), the endpoints of each port merged from
 * all of the service's EndpointSlices as upstream's EndpointSliceCache does (deduplicated,
 * sorted by "ip:port"), and upstream's CategorizeEndpoints (ready endpoints, else serving
 * terminating ones; Cluster and Local traffic policy; zone hints).
 *
 * Used by rules.c only; split out so the chain layout reads on its own. Ownership: the model
 * owns every port and endpoint (kp_model_free); categorized lists borrow from the model and
 * are freed with kp_categorized_free. No shared state.
 */
#ifndef KP_MODEL_H
#define KP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "rules.h"
#include "strmap.h"

/* Most external IPs, load-balancer IPs and source ranges one service contributes. */
#define KP_MAX_IPS_PER_SERVICE 256

/* One endpoint of one service port (upstream's BaseEndpointInfo). */
struct kp_endpoint {
    char str[24]; /* "ip:port", upstream's Endpoint.String() */
    uint32_t ip;  /* host byte order */
    uint16_t port;
    bool local, ready, serving, terminating;
    char **zones; /* zone hints */
    size_t nzones;
    size_t seq;                 /* arrival order, for upstream's duplicate rule */
    char chain[KP_CHAIN_LABEL]; /* its KUBE-SEP chain */
};

/* One port of one Service (upstream's BaseServicePortInfo), with its endpoints. */
struct kp_svc_port {
    char *name;   /* servicePortName: "ns/name:port" or "ns/name" */
    char *nsname; /* "ns/name" */
    char *port_name;
    const char *proto; /* "tcp", "udp", "sctp" (static) */
    uint8_t ipproto;
    uint32_t cluster_ip;
    uint16_t port, node_port, hc_node_port;
    uint32_t ext_ips[KP_MAX_IPS_PER_SERVICE];
    size_t next;
    uint32_t lb_ips[KP_MAX_IPS_PER_SERVICE];
    size_t nlb;
    uint32_t src_nets[KP_MAX_IPS_PER_SERVICE];
    uint8_t src_lens[KP_MAX_IPS_PER_SERVICE];
    size_t nsrc;
    bool affinity;
    int sticky_seconds;
    bool etp_local, itp_local; /* upstream's ExternalPolicyLocal / InternalPolicyLocal */
    struct kp_endpoint *eps;   /* sorted by str, one per str */
    size_t neps, eps_cap;
    char svc_chain[KP_CHAIN_LABEL], svl_chain[KP_CHAIN_LABEL];
    char ext_chain[KP_CHAIN_LABEL], fw_chain[KP_CHAIN_LABEL];
};

struct kp_model {
    struct kp_svc_port **ports; /* sorted by (name, proto) after kp_model_build */
    size_t n, cap;
    size_t total_endpoints;      /* over every port */
    struct ck_strmap by_service; /* "ns/name" -> the indexes of its ports */
    size_t seq;
};

/* Builds the model from borrowed Service and EndpointSlice objects (NULL entries skipped).
 * node_name marks local endpoints. Never fails: unusable objects and fields are skipped. */
void kp_model_build(struct kp_model *m, const char *node_name, const cJSON *const *services,
                    size_t nservices, const cJSON *const *slices, size_t nslices);
void kp_model_free(struct kp_model *m);

/* upstream's ExternallyAccessible, UsesClusterEndpoints, UsesLocalEndpoints of a port. */
bool kp_svc_externally_accessible(const struct kp_svc_port *p);
bool kp_uses_cluster_endpoints(const struct kp_svc_port *p);
bool kp_uses_local_endpoints(const struct kp_svc_port *p);

struct kp_ep_list {
    const struct kp_endpoint **v; /* borrowed from the port */
    size_t n, cap;
};

/* upstream's CategorizeEndpoints result: usable endpoints for Cluster and Local policy, all
 * reachable ones (their union, in endpoint order), and whether any is usable anywhere. */
struct kp_categorized {
    struct kp_ep_list cluster, local, reachable;
    bool has_any;
};

/* zone: this node's topology.kubernetes.io/zone (NULL: none). */
void kp_categorize(const struct kp_svc_port *p, const char *zone, struct kp_categorized *c);
void kp_categorized_free(struct kp_categorized *c);

#endif
