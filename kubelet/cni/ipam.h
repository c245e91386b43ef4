/* kubelet/cni/ipam.h - host-local IP address management for the pod network, following
 * upstream's host-local IPAM plugin (containernetworking/plugins) in rules, messages and disk
 * layout.
 *
 * Pure part (unit-tested without a network): IPv4 and CIDR parsing with Go's rules (no leading
 * zeros, no IPv4-in-IPv6), a range set with upstream's defaults (gateway = network + 1,
 * rangeStart = network + 1, rangeEnd = broadcast - 1; the gateway is never handed out, network
 * and broadcast addresses never are), and the round-robin iterator: allocation resumes after
 * the last reserved address and wraps around, so a released address is reused only after the
 * whole range was walked (a crash-looping pod does not get the same IP back at once).
 *
 * Store part: <dataDir>/<network>/ holds one file per allocated address, named by the address
 * and containing "<containerID>\r\n<ifname>", plus last_reserved_ip.0 and a "lock" file that
 * every allocation, release and lookup holds with flock(LOCK_EX) - the same files upstream's
 * host-local writes, so either can take over the other's state. Only one IPv4 range set
 * (several ranges allowed) is supported: one address per pod.
 *
 * All addresses are uint32_t in host byte order. Functions return 0 or a negative errno and
 * fill an optional struct kl_cni_error (cni.h) with the CNI code and upstream's message.
 */
#ifndef KL_IPAM_H
#define KL_IPAM_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cni.h"

#define KL_IPAM_MAX_RANGES 16
#define KL_IPAM_MAX_ROUTES 32
/* Buffer size for a dotted quad with its terminator. */
#define KL_IPAM_IP4_STRLEN 16

struct kl_ipam_range {
    uint32_t subnet;  /* network address */
    unsigned prefix;  /* 0..30 */
    uint32_t start;   /* first address handed out (inclusive) */
    uint32_t end;     /* last address handed out (inclusive) */
    uint32_t gateway; /* never handed out */
};

struct kl_ipam_route {
    uint32_t dst;
    unsigned prefix;
    bool has_gw; /* false: via the range's gateway */
    uint32_t gw;
};

struct kl_ipam_conf {
    size_t n_ranges; /* the one range set */
    struct kl_ipam_range ranges[KL_IPAM_MAX_RANGES];
    size_t n_routes;
    struct kl_ipam_route routes[KL_IPAM_MAX_ROUTES];
    char data_dir[1024]; /* "dataDir", "" when not set */
};

/* What one allocation gives a pod. */
struct kl_ipam_lease {
    uint32_t ip;
    unsigned prefix;
    uint32_t gateway;
};

/* ---- pure logic ---- */

/* Parses a dotted quad as Go's net.ParseIP does for IPv4 (four decimal fields 0..255, no
 * leading zeros). -EAFNOSUPPORT for an IPv6 literal, -EINVAL otherwise. */
int kl_ipam_parse_ip4(const char *s, uint32_t *ip);
/* Parses "a.b.c.d/n" (n 0..32 in decimal, as Go's ParseCIDR); host bits may be set
 * (*ip is the address as written). Errors as kl_ipam_parse_ip4. */
int kl_ipam_parse_cidr(const char *s, uint32_t *ip, unsigned *prefix);
/* Formats ip into buf (KL_IPAM_IP4_STRLEN bytes); returns buf. */
char *kl_ipam_ip4_str(uint32_t ip, char *buf);
/* The netmask of a prefix length (0..32). */
uint32_t kl_ipam_mask(unsigned prefix);

/* Builds one range from its JSON strings (start, end, gateway may be NULL: upstream's defaults)
 * with upstream's checks and messages: "invalid CIDR address: x", "Network 10.0.0.0/31 too
 * small to allocate from", "Network has host bits set. For a subnet mask of length 24 the
 * network address is 10.0.0.0", "RangeStart 10.1.0.5 not in network 10.0.0.0/24", ... */
int kl_ipam_range_init(struct kl_ipam_range *r, const char *subnet, const char *start,
                       const char *end, const char *gateway, struct kl_cni_error *e);
/* Parses a plugin config's "ipam" object (type must be "host-local"): the legacy top-level
 * subnet/rangeStart/rangeEnd/gateway and/or "ranges" (one range set), "routes", "dataDir".
 * Ranges of the set must not overlap ("subnets A-B and C-D overlap"). */
int kl_ipam_conf_parse(const cJSON *ipam, struct kl_ipam_conf *c, struct kl_cni_error *e);
/* True when ip lies in [start, end] of some range; *idx (may be NULL) gets the range index. */
bool kl_ipam_contains(const struct kl_ipam_conf *c, uint32_t ip, size_t *idx);
/* "start-end[,start-end...]" as upstream prints a range set, into buf (truncated to size). */
void kl_ipam_rangeset_str(const struct kl_ipam_conf *c, char *buf, size_t size);

/* Round-robin walk over the range set: every candidate once, starting after `last` when it
 * lies in the set (then `last` itself comes last), else at the first range's start; gateways
 * are skipped. */
struct kl_ipam_iter {
    const struct kl_ipam_conf *c;
    size_t idx, start_idx;
    uint32_t cur, start_ip;
    bool have_cur, have_start, done;
};
void kl_ipam_iter_init(struct kl_ipam_iter *it, const struct kl_ipam_conf *c, bool have_last,
                       uint32_t last);
/* Next candidate into *ip (and its range index into *idx, may be NULL); false when done. */
bool kl_ipam_iter_next(struct kl_ipam_iter *it, uint32_t *ip, size_t *idx);

/* ---- the on-disk store ---- */

/* Allocates the next free address of the set for (id, ifname) in network's dir under
 * c->data_dir, else default_dir, else KL_CNI_DEFAULT_IPAM_DIR. Errors (code 999 as upstream):
 * "no IP addresses available in range set: 10.244.1.1-10.244.1.254",
 * "10.244.1.2 has been allocated to <id>, duplicate allocation is not allowed". */
int kl_ipam_allocate(const struct kl_ipam_conf *c, const char *default_dir, const char *network,
                     const char *id, const char *ifname, struct kl_ipam_lease *out,
                     struct kl_cni_error *e);
/* Frees every address held by (id, ifname) (or by id alone, in the pre-ifname file format);
 * releasing nothing is success. */
int kl_ipam_release(const struct kl_ipam_conf *c, const char *default_dir, const char *network,
                    const char *id, const char *ifname, struct kl_cni_error *e);
/* Lists the addresses held by (id, ifname) into ips[0..max-1]; *n gets how many exist. */
int kl_ipam_find(const struct kl_ipam_conf *c, const char *default_dir, const char *network,
                 const char *id, const char *ifname, uint32_t *ips, size_t max, size_t *n,
                 struct kl_cni_error *e);

#endif
