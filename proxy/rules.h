/* rules.h - kube-proxy's iptables mode, the pure part: Services + EndpointSlices + what this node
 * knows -> the complete desired rule set of the filter, nat and mangle tables, in upstream's
 * chain layout (pkg/proxy/iptables/proxier.go of v1.32), plus its iptables-save rendering.
 *
 * What is built, as upstream's syncProxyRules does:
 *  - nat: KUBE-SERVICES (one rule per cluster IP, external IP and load-balancer IP, the
 *    KUBE-NODEPORTS tail call last), KUBE-NODEPORTS, KUBE-POSTROUTING (MASQUERADE of marked
 *    packets), KUBE-MARK-MASQ (mark 1<<masquerade_bit), and per service port KUBE-SVC-<hash>
 *    (statistic random balancing over usable endpoints, ClientIP affinity with the recent
 *    match), KUBE-SVL-<hash> (Local traffic policy endpoints), KUBE-EXT-<hash> (external
 *    destinations), KUBE-FW-<hash> (loadBalancerSourceRanges) and KUBE-SEP-<hash> (hairpin
 *    masquerade + DNAT) chains.
 *  - filter: KUBE-SERVICES (REJECT for cluster IPs without endpoints, DROP without local ones),
 *    KUBE-EXTERNAL-SERVICES (the same for external IPs, LB IPs and node ports), KUBE-NODEPORTS
 *    (health check node ports), KUBE-FORWARD, KUBE-PROXY-FIREWALL, KUBE-FIREWALL (localhost
 *    node ports).
 *  - the jump rules upstream keeps in the built-in chains (PREROUTING/OUTPUT/POSTROUTING/INPUT/
 *    FORWARD), in upstream's list order (each is prepended when missing), and the empty
 *    KUBE-PROXY-CANARY chain in mangle, nat and filter.
 * Chain names are "KUBE-SVC-" + the first 16 characters of base32(sha256(servicePortName +
 * protocol)), "KUBE-SEP-" the same over servicePortName + protocol + "ip:port", exactly as
 * upstream's portProtoHash / servicePortEndpointChainName.
 *
 * Inputs are the JSON objects as the apiserver serves them (borrowed; never modified).
 * Services without a cluster IP (headless), ExternalName services, services labelled
 * service.kubernetes.io/service-proxy-name, non-IPv4 slices and malformed fields are skipped,
 * never fatal. Services are processed in servicePortName order, so the output is deterministic
 * (upstream iterates a Go map; its own tests sort the same way).
 *
 * Rendering follows iptables-save (v1.8, legacy) byte for byte: "-s/-d" with prefix, "-p"
 * before the matches, comments quoted as xtables_save_string, MARK as --set-xmark,
 * probabilities as the kernel stores them (%.11f of the 31-bit fixed point value).
 *
 * Ownership: kp_rules_build's rule set belongs to the caller (kp_ruleset_free); everything in
 * it is owned by the set. Thread-safety: no shared state.
 */
#ifndef KP_RULES_H
#define KP_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* iptables' limit on chain names (XT_EXTENSION_MAXNAMELEN - 1), and the size of libiptc's
 * chain label buffers (xt_chainlabel) our names are kept in. */
#define KP_CHAIN_NAME_MAX 28
#define KP_CHAIN_LABEL 32
/* Most matches one of our rules carries. */
#define KP_RULE_MAX_MATCHES 4
/* upstream's largeClusterEndpointsThreshold: above it, endpoint comments are left out. */
#define KP_LARGE_CLUSTER_ENDPOINTS 1000

enum kp_table_id { KP_TABLE_FILTER, KP_TABLE_NAT, KP_TABLE_MANGLE, KP_TABLE_COUNT };

/* "filter", "nat", "mangle". */
const char *kp_table_name(enum kp_table_id t);

enum kp_match_type {
    KP_MATCH_COMMENT = 1, /* -m comment --comment TEXT */
    KP_MATCH_PROTO,       /* -m tcp|udp|sctp [--dport PORT]: protocol of the rule */
    KP_MATCH_STATISTIC,   /* -m statistic --mode random --probability P */
    KP_MATCH_RECENT,      /* -m recent --set | --rcheck --seconds N --reap, --name TEXT */
    KP_MATCH_CONNTRACK,   /* -m conntrack [!] --ctstate STATES */
    KP_MATCH_MARK,        /* -m mark [!] --mark VALUE/MASK */
    KP_MATCH_ADDRTYPE,    /* -m addrtype --src-type|--dst-type LOCAL */
};

/* Conntrack states, as the kernel's XT_CONNTRACK_STATE bits. */
#define KP_CT_INVALID (1u << 0)
#define KP_CT_ESTABLISHED (1u << 1)
#define KP_CT_RELATED (1u << 2)
#define KP_CT_NEW (1u << 3)
#define KP_CT_DNAT (1u << 7)

enum kp_recent_op { KP_RECENT_SET = 1, KP_RECENT_RCHECK };
enum kp_addrtype_dir { KP_ADDRTYPE_SRC = 1, KP_ADDRTYPE_DST };

struct kp_match {
    enum kp_match_type type;
    bool invert;    /* CONNTRACK, MARK: "!" */
    uint16_t port;  /* PROTO: --dport (0: none) */
    uint32_t value; /* MARK: mark; CONNTRACK: state bits; STATISTIC: probability * 2^31;
                     * ADDRTYPE: enum kp_addrtype_dir; RECENT: enum kp_recent_op */
    uint32_t mask;  /* MARK: mask; RECENT: --seconds (with --rcheck, which also reaps) */
    char *text;     /* COMMENT: the comment; RECENT: --name (owned) */
};

enum kp_target_type {
    KP_TARGET_NONE = 0, /* no -j (falls through) */
    KP_TARGET_JUMP,     /* -j CHAIN */
    KP_TARGET_ACCEPT,
    KP_TARGET_DROP,
    KP_TARGET_RETURN,
    KP_TARGET_REJECT,     /* --reject-with icmp-port-unreachable */
    KP_TARGET_DNAT,       /* --to-destination ip:port */
    KP_TARGET_MASQUERADE, /* [--random-fully] */
    KP_TARGET_MARK,       /* --set-xmark value/mask (--or-mark X = X/X, --xor-mark X = X/0) */
};

struct kp_target {
    enum kp_target_type type;
    char chain[KP_CHAIN_LABEL]; /* JUMP */
    uint32_t ip;                /* DNAT, host byte order */
    uint16_t port;              /* DNAT */
    bool random_fully;          /* MASQUERADE */
    uint32_t mark, mask;        /* MARK */
};

/* One rule. Addresses are in host byte order with prefix lengths (0: absent). */
struct kp_rule {
    uint32_t src, dst;
    uint8_t src_len, dst_len; /* 1..32 when present */
    bool src_inv, dst_inv;
    uint8_t proto; /* IPPROTO_TCP/UDP/SCTP or 0 */
    uint8_t nmatches;
    struct kp_match m[KP_RULE_MAX_MATCHES];
    struct kp_target t;
};

struct kp_chain {
    char name[KP_CHAIN_LABEL];
    struct kp_rule *rules;
    size_t n, cap;
};

/* A rule kept in a built-in chain (e.g. PREROUTING -> KUBE-SERVICES): inserted at the top
 * when missing, never flushed. */
struct kp_jump {
    const char *builtin; /* static string */
    struct kp_rule rule;
};

struct kp_table {
    struct kp_chain *chains; /* our chains, in creation order */
    size_t n, cap;
    struct kp_jump *jumps; /* in upstream's order: each one is prepended when missing */
    size_t njumps, jumps_cap;
};

struct kp_ruleset_stats {
    size_t service_ports; /* service ports proxied */
    size_t endpoints;     /* total endpoints over those ports */
    bool large_cluster;   /* endpoints > KP_LARGE_CLUSTER_ENDPOINTS */
    size_t no_local_endpoints_internal, no_local_endpoints_external;
};

/* One UDP service port as stale-conntrack cleaning (conntrack.h) sees it: the addresses it is
 * reached on, its port and node port, and the IPs of its serving endpoints (upstream's
 * Endpoint.IsServing), in endpoint order. */
struct kp_udp_service {
    uint32_t *ips; /* cluster IP first, then external and load-balancer IPs (host order) */
    size_t nips;
    uint16_t port, node_port; /* node_port 0: none */
    uint32_t *eps;
    size_t neps;
};

struct kp_ruleset {
    struct kp_table tables[KP_TABLE_COUNT];
    struct kp_ruleset_stats stats;
    struct kp_udp_service *udp; /* every UDP service port, in servicePortName order */
    size_t nudp;
};

/* What the rules depend on besides Services and EndpointSlices (kube-proxy's flags and node). */
struct kp_node_config {
    const char *node_name; /* endpoints whose nodeName equals it are local */
    const char *node_ip;   /* the node's primary IPv4 (loadBalancerSourceRanges); may be NULL */
    const char *zone;      /* the node's topology.kubernetes.io/zone label (NULL: none) */
    /* The local traffic detector (--detect-local-mode ClusterCIDR / NodeCIDR): an IPv4 CIDR
     * whose sources count as pods; NULL or "": none, as upstream's no-op detector (no "! -s"
     * masquerade rules). */
    const char *local_cidr;
    /* --nodeport-addresses resolved to this node's IPv4 addresses; NULL: every local address
     * (-m addrtype --dst-type LOCAL). */
    const char *const *nodeport_ips;
    size_t n_nodeport_ips;
    int masquerade_bit;         /* --iptables-masquerade-bit, 0..31 (default 14) */
    bool masquerade_all;        /* --masquerade-all */
    bool localhost_nodeports;   /* --iptables-localhost-nodeports (default true) */
    bool random_fully;          /* MASQUERADE --random-fully (default true) */
    bool conntrack_tcp_liberal; /* nf_conntrack_tcp_be_liberal set: no INVALID drop rule */
};

/* Upstream's defaults: masquerade bit 14, localhost node ports on, --random-fully on. */
void kp_node_config_init(struct kp_node_config *c);

/* Builds the desired rule set. services/slices are arrays of borrowed JSON objects (either
 * may be NULL when its count is 0). Returns 0 and *out (caller frees with kp_ruleset_free), or
 * -EINVAL for a NULL node config / out, or an invalid masquerade bit. */
int kp_rules_build(const struct kp_node_config *node, const cJSON *const *services,
                   size_t nservices, const cJSON *const *slices, size_t nslices,
                   struct kp_ruleset **out);
void kp_ruleset_free(struct kp_ruleset *rs);

/* The chain of that name in the table, or NULL (borrowed). */
const struct kp_chain *kp_ruleset_find_chain(const struct kp_ruleset *rs, enum kp_table_id t,
                                             const char *name);
/* Number of rules in the table's chains (jump rules not counted), as upstream's
 * sync_proxy_rules_iptables_total counts restore lines. */
size_t kp_ruleset_rule_count(const struct kp_ruleset *rs, enum kp_table_id t);

/* ---- names ------------------------------------------------------------------------------- */

/* upstream portProtoHash: first 16 characters of base32(sha256(name + proto)) into out. */
void kp_port_proto_hash(const char *svc_port_name, const char *proto, char out[17]);
/* prefix ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-") + kp_port_proto_hash into out. */
void kp_service_chain_name(const char *prefix, const char *svc_port_name, const char *proto,
                           char out[KP_CHAIN_NAME_MAX + 1]);
/* "KUBE-SEP-" + first 16 chars of base32(sha256(name + proto + endpoint)) ("ip:port"). */
void kp_endpoint_chain_name(const char *svc_port_name, const char *proto, const char *endpoint,
                            char out[KP_CHAIN_NAME_MAX + 1]);
/* True for the per-service chain prefixes upstream cleans up (SVC, SVL, EXT, FW, SEP). */
bool kp_is_service_chain(const char *name);

/* The statistic match's kernel value for upstream's probability 1/n (printed "%0.10f" by
 * upstream, parsed back by iptables): lround(p * 2^31). n >= 1. */
uint32_t kp_probability(unsigned n);

/* ---- rendering (iptables-save format) ---------------------------------------------------- */

/* Appends "-A <chain> ..." (no newline) for one rule. */
void kp_rule_render(const struct kp_rule *r, const char *chain, struct ck_buf *out);
/* Appends every rule of a chain, one "-A" line each. */
void kp_chain_render(const struct kp_chain *c, struct ck_buf *out);

enum kp_render_flags {
    /* Also the built-in chains (policy ACCEPT, counters [0:0]) holding our jump rules in the
     * order they end up in: what iptables-save prints for a table only we have written. */
    KP_RENDER_BUILTINS = 1 << 0,
};
/* Appends "*<table>", the chain lines (sorted by name, as libiptc keeps them), every rule and
 * "COMMIT". Without KP_RENDER_BUILTINS the text is iptables-restore --noflush input for our
 * chains alone. */
void kp_ruleset_render(const struct kp_ruleset *rs, enum kp_table_id t, unsigned flags,
                       struct ck_buf *out);

/* ---- small parsers shared with the writer and the daemon --------------------------------- */

/* IPv4 text as Go's ParseIPSloppy accepts it (dotted quad, leading zeros allowed): 0 and *ip
 * in host byte order, or -EINVAL. */
int kp_parse_ipv4(const char *s, uint32_t *ip);
/* Dotted quad of a host-byte-order address. */
void kp_format_ipv4(uint32_t ip, char out[16]);
/* "a.b.c.d/len" (ParseCIDRSloppy): 0 with the network address (host bits cleared) and length,
 * or -EINVAL. */
int kp_parse_cidr4(const char *s, uint32_t *net, uint8_t *len);

#endif
