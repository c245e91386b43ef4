/* kubelet/cni/bridge_internal.h - what bridge.c (config, ADD, DEL), bridge_check.c (CHECK) and
 * bridge_nl.c (netlink helpers) share; other files use bridge.h. Errors are libnl's negative
 * NLE_* codes where a function says "libnl error", else negative errnos with e filled. */
#ifndef KL_BRIDGE_INTERNAL_H
#define KL_BRIDGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "bridge.h"
#include "cni.h"
#include "ipam.h"

/* The routes a pod gets: the ipam ones plus the default route. */
#define KL_BR_MAX_ROUTES (KL_IPAM_MAX_ROUTES + 1)

struct kl_br_route {
    uint32_t dst;
    unsigned prefix;
    uint32_t gw;
    bool has_gw; /* as written in the ipam config: the result carries "gw" only then */
};

struct kl_br_addr_scan {
    int ifindex;
    uint32_t want;
    unsigned prefix;
    bool found;    /* want/prefix is there */
    bool conflict; /* another address of the same subnet is there */
    uint32_t other;
    unsigned other_prefix;
};

/* What ADD and CHECK work with: the pod's namespace (kept open, veths are moved into it) and a
 * netlink socket on each side. */
struct kl_br_nl_pair {
    int nsfd;
    struct nl_sock *host, *pod;
};

/* ---- bridge.c ---- */

/* The CNI_* arguments every command needs (and CNI_NETNS when need_netns). */
int kl_br_check_args(const struct kl_cni_args *a, bool need_netns, struct kl_cni_error *e);

/* ---- bridge_nl.c ---- */

/* Sets e from a libnl error: "<what>: <libnl message>". Returns a negative errno. */
int kl_br_nl_fail(struct kl_cni_error *e, int nlerr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* True for libnl's "no such object / device". */
bool kl_br_nl_notfound(int nlerr);
/* A NETLINK_ROUTE socket created inside the namespace open at nsfd (-1: the calling thread's);
 * NULL with e set. The caller frees it (nl_socket_free). */
struct nl_sock *kl_br_nl_open_in(int nsfd, const char *ns_name, struct kl_cni_error *e);
/* Opens the namespace file (the caller closes the fd); -ENOENT (with e) when it is gone. */
int kl_br_netns_open(const char *path, struct kl_cni_error *e);
/* A socket in the namespace at path (NULL: the calling thread's); NULL with e and *rc set. */
struct nl_sock *kl_br_nl_open_at(const char *path, int *rc, struct kl_cni_error *e);
/* Opens p (initialized {.nsfd = -1}) for the pod namespace at netns; close it with
 * kl_br_nl_pair_close also on failure. */
int kl_br_nl_pair_open(struct kl_br_nl_pair *p, const char *netns, struct kl_cni_error *e);
void kl_br_nl_pair_close(struct kl_br_nl_pair *p);
/* rtnl_link_put for a link that may be NULL. */
void kl_br_link_put(struct rtnl_link *l);
/* An IPv4 nl_addr with a prefix length (caller puts it), or NULL. */
struct nl_addr *kl_br_ip4_addr(uint32_t ip, unsigned prefix);
/* True and *ip set (host order) when a is an IPv4 address. */
bool kl_br_addr_is(const struct nl_addr *a, uint32_t *ip);
/* The link by index or name from the kernel into *out (caller puts it); libnl error. */
int kl_br_link_get(struct nl_sock *sk, int ifindex, const char *name, struct rtnl_link **out);
/* Sets flags (IFF_UP, ...) on a link; libnl error. */
int kl_br_link_set_flags(struct nl_sock *sk, struct rtnl_link *link, unsigned flags);
/* The link's MAC as "aa:bb:..." ("" when it has none). */
void kl_br_link_mac(struct rtnl_link *link, char *buf, size_t size);
/* The link's kind ("bridge", "veth", ...; "" when none); borrowed. */
const char *kl_br_link_kind(struct rtnl_link *link);
/* Sets / reads a bridge port's hairpin flag; libnl error. */
int kl_br_set_hairpin(struct nl_sock *sk, int ifindex, bool on);
int kl_br_get_hairpin(struct nl_sock *sk, int ifindex, bool *on);
/* Writes a /proc/sys file; 0 or a negative errno. */
int kl_br_write_sysctl(const char *path, const char *value);
/* Fills s (ifindex, want, prefix set by the caller) from the kernel's IPv4 addresses; libnl
 * error. */
int kl_br_scan_addrs(struct nl_sock *sk, struct kl_br_addr_scan *s);
/* Sets the named link up when it is not; libnl error. */
int kl_br_set_link_up_by_name(struct nl_sock *sk, const char *name);

#endif
