/* conntrack.h - kube-proxy's stale UDP conntrack cleaning, as upstream's (pkg/proxy/conntrack,
 * v1.32) CleanStaleEntries does after every successful sync: UDP has no connection to close,
 * so a conntrack entry keeps sending a client's datagrams to the endpoint the flow was first
 * DNATed to, even after that endpoint left the service, and keeps a flow that reached a
 * service while it had no endpoints from ever reaching the endpoints that came later.
 *
 * The rule: for each UDP conntrack entry (the kernel's table, listed with the `conntrack` tool
 * of Debian's conntrack package),
 *  - whose original destination is a UDP service's IP and port (cluster IP, external IPs,
 *    load-balancer IPs) and whose reply source is not one of that service port's serving
 *    endpoint IPs: delete the entries of that (original destination, reply source) pair
 *    (`conntrack -D -p udp --orig-dst IP --reply-src EP`, upstream's filterForNAT);
 *  - whose original destination port is a UDP service's node port and whose reply source is
 *    not one of its serving endpoints: delete the entries of that (port, reply source) pair
 *    (`conntrack -D -p udp --orig-port-dst PORT --reply-src EP`, filterForPortNAT).
 * Entries of services that are gone entirely are left to time out, as upstream leaves them.
 *
 * Ownership: kp_ct_stale's filter array belongs to the caller (free()); the rule set and flows
 * are borrowed. No shared state; kp_ct_clean forks the tool and waits for it.
 */
#ifndef KP_CONNTRACK_H
#define KP_CONNTRACK_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

/* Most flows one listing is read for (a bigger table is cleaned over several syncs). */
#define KP_CT_MAX_FLOWS 65536

/* One conntrack entry: its protocol, original destination and reply source (host order). */
struct kp_ct_flow {
    uint8_t proto; /* IPPROTO_UDP, IPPROTO_TCP, ... (0: other) */
    uint32_t orig_dst;
    uint16_t orig_dport;
    uint32_t reply_src;
};

/* Parses one line of `conntrack -L` output ("udp 17 29 src=A dst=B sport=P dport=Q
 * [UNREPLIED] src=C dst=D sport=R dport=S ..."). Returns 0, or -EINVAL for a line that is
 * not an IPv4 entry with both tuples (headers, summaries, IPv6, garbage). */
int kp_ct_parse_line(const char *line, struct kp_ct_flow *out);

enum kp_ct_filter_kind {
    KP_CT_NAT = 1, /* --orig-dst orig_dst --reply-src reply_src */
    KP_CT_PORT_NAT /* --orig-port-dst port --reply-src reply_src */
};

struct kp_ct_filter {
    enum kp_ct_filter_kind kind;
    uint32_t orig_dst; /* KP_CT_NAT */
    uint16_t port;     /* KP_CT_PORT_NAT */
    uint32_t reply_src;
};

/* The delete filters for the stale UDP flows among flows[0..n) (see above), each once, in
 * the order first needed. Returns their number and *out (caller frees; NULL when 0). */
size_t kp_ct_stale(const struct kp_ruleset *rs, const struct kp_ct_flow *flows, size_t n,
                   struct kp_ct_filter **out);

/* The tool's argument vector for one filter, NULL-terminated, into argv (9 slots) with the
 * strings in bufs; argv[0] = tool. */
void kp_ct_filter_argv(const char *tool, const struct kp_ct_filter *f, char bufs[2][24],
                       const char *argv[9]);

struct kp_ct_stats {
    size_t flows;    /* UDP entries listed */
    size_t filters;  /* deletes run */
    size_t failures; /* deletes the tool failed for (other than "nothing matched") */
};

/* Lists the UDP entries with `tool -L -p udp -f ipv4` and deletes the stale ones (see above).
 * tool: the conntrack binary (a path, or a name looked up in PATH). Does nothing (returns 0)
 * when rs has no UDP service. Returns 0, or a negative errno when the listing could not be
 * run or read (stats may be NULL). */
int kp_ct_clean(const char *tool, const struct kp_ruleset *rs, struct kp_ct_stats *stats);

#endif
