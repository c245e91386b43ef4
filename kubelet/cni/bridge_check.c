/* kubelet/cni/bridge_check.c - CHECK of the "ckube-bridge" plugin: the attachment is still as
 * ADD left it (IPAM lease, bridge and its gateway, pod interface, addresses, routes, the veth
 * peer on the bridge with its hairpin flag). */
#include "bridge.h"
#include "bridge_internal.h"

#include <stdlib.h>
#include <string.h>

#include <linux/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

#include "json.h"
#include "mem.h"

/* ---- CHECK ---- */

struct prev_ip {
    uint32_t ip, gw;
    unsigned prefix;
    bool has_gw;
};

/* Reads the IPv4 entries of a result's "ips" (and their gateway) and "routes". */
static int parse_prev(const cJSON *prev, struct prev_ip *ips, size_t max_ips, size_t *n_ips,
                      struct kl_br_route *routes, size_t max_routes, size_t *n_routes,
                      struct kl_cni_error *e)
{
    *n_ips = *n_routes = 0;
    const cJSON *it;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(prev, "ips");
    cJSON_ArrayForEach(it, arr)
    {
        const char *addr = ck_json_get_string(it, "address", NULL);
        struct prev_ip p = {0};
        if (!addr || kl_ipam_parse_cidr(addr, &p.ip, &p.prefix) < 0)
            return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "prevResult: invalid address \"%s\"",
                                    addr ? addr : "");
        const char *gw = ck_json_get_string(it, "gateway", NULL);
        p.has_gw = gw && kl_ipam_parse_ip4(gw, &p.gw) == 0;
        if (*n_ips < max_ips)
            ips[(*n_ips)++] = p;
    }
    arr = cJSON_GetObjectItemCaseSensitive(prev, "routes");
    cJSON_ArrayForEach(it, arr)
    {
        const char *dst = ck_json_get_string(it, "dst", NULL);
        struct kl_br_route r = {0};
        if (!dst || kl_ipam_parse_cidr(dst, &r.dst, &r.prefix) < 0)
            return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "prevResult: invalid route \"%s\"",
                                    dst ? dst : "");
        r.dst &= kl_ipam_mask(r.prefix);
        const char *gw = ck_json_get_string(it, "gw", NULL);
        r.has_gw = gw && kl_ipam_parse_ip4(gw, &r.gw) == 0;
        if (*n_routes < max_routes)
            routes[(*n_routes)++] = r;
    }
    return 0;
}

struct route_scan {
    int ifindex;
    const struct kl_br_route *want;
    bool found;
};

static void scan_route(struct nl_object *obj, void *arg)
{
    struct rtnl_route *r = (struct rtnl_route *)obj;
    struct route_scan *s = arg;
    uint32_t dst = 0, gw;
    struct nl_addr *d = rtnl_route_get_dst(r);
    if (rtnl_route_get_family(r) != AF_INET || rtnl_route_get_table(r) != RT_TABLE_MAIN)
        return;
    unsigned prefix = d ? (unsigned)nl_addr_get_prefixlen(d) : 0;
    if (d && nl_addr_get_len(d) == 4)
        kl_br_addr_is(d, &dst);
    if (prefix != s->want->prefix || dst != s->want->dst)
        return;
    for (int i = 0; i < rtnl_route_get_nnexthops(r); i++) {
        struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, i);
        if (rtnl_route_nh_get_ifindex(nh) != s->ifindex)
            continue;
        if (!s->want->has_gw ||
            (kl_br_addr_is(rtnl_route_nh_get_gateway(nh), &gw) && gw == s->want->gw))
            s->found = true;
    }
}

/* CHECK, IPAM part: every address of the result is still held by this attachment. */
static int check_ipam(const struct kl_bridge_conf *c, const struct kl_cni_args *a,
                      const struct prev_ip *ips, size_t n_ips, struct kl_cni_error *e)
{
    uint32_t held[KL_CNI_MAX_IPS];
    size_t n_held;
    int rc = kl_ipam_find(&c->ipam, a->data_dir, c->name, a->container_id, a->ifname, held,
                          KL_CNI_MAX_IPS, &n_held, e);
    if (rc < 0)
        return rc;
    if (n_held == 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                                "host-local: Failed to find address added by container %s",
                                a->container_id);
    for (size_t i = 0; i < n_ips; i++) {
        bool ok = false;
        for (size_t j = 0; j < n_held && j < KL_CNI_MAX_IPS; j++)
            ok |= held[j] == ips[i].ip;
        if (!ok) {
            char s[KL_IPAM_IP4_STRLEN];
            return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                                    "host-local: %s is not allocated to container %s",
                                    kl_ipam_ip4_str(ips[i].ip, s), a->container_id);
        }
    }
    return 0;
}

/* CHECK, node part: the bridge exists and, for a gateway, holds the result's gateways. */
static int check_bridge(struct nl_sock *hsk, const struct kl_bridge_conf *c,
                        const struct prev_ip *ips, size_t n_ips, struct rtnl_link **br,
                        struct kl_cni_error *e)
{
    int rc = kl_br_link_get(hsk, 0, c->bridge, br);
    if (rc < 0 || strcmp(kl_br_link_kind(*br), "bridge") != 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "bridge %s not found", c->bridge);
    for (size_t i = 0; c->is_gateway && i < n_ips; i++) {
        if (!ips[i].has_gw)
            continue;
        struct kl_br_addr_scan s = {
            .ifindex = rtnl_link_get_ifindex(*br), .want = ips[i].gw, .prefix = ips[i].prefix};
        if ((rc = kl_br_scan_addrs(hsk, &s)) < 0)
            return kl_br_nl_fail(e, rc, "could not list addresses of %s", c->bridge);
        if (!s.found) {
            char g[KL_IPAM_IP4_STRLEN];
            return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                                    "bridge %s lacks its gateway address %s/%u", c->bridge,
                                    kl_ipam_ip4_str(ips[i].gw, g), ips[i].prefix);
        }
    }
    return 0;
}

/* CHECK, pod part: ifname is an up veth with the result's addresses and routes (a route
 * without "gw" goes through the first address's gateway, as ADD installed it). */
static int check_pod(struct nl_sock *psk, const struct kl_cni_args *a, const struct prev_ip *ips,
                     size_t n_ips, const struct kl_br_route *routes, size_t n_routes,
                     struct rtnl_link **pod, struct kl_cni_error *e)
{
    char s1[KL_IPAM_IP4_STRLEN], s2[KL_IPAM_IP4_STRLEN];
    int rc = kl_br_link_get(psk, 0, a->ifname, pod);
    if (rc < 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "interface %s not found in netns %s",
                                a->ifname, a->netns);
    if (strcmp(kl_br_link_kind(*pod), "veth") != 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "interface %s in %s is not a veth (%s)",
                                a->ifname, a->netns, kl_br_link_kind(*pod));
    if (!(rtnl_link_get_flags(*pod) & IFF_UP))
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "interface %s in %s is down", a->ifname,
                                a->netns);
    int pod_index = rtnl_link_get_ifindex(*pod);
    for (size_t i = 0; i < n_ips; i++) {
        struct kl_br_addr_scan s = {
            .ifindex = pod_index, .want = ips[i].ip, .prefix = ips[i].prefix};
        if ((rc = kl_br_scan_addrs(psk, &s)) < 0)
            return kl_br_nl_fail(e, rc, "could not list addresses in %s", a->netns);
        if (!s.found)
            return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                                    "Failed to match addr %s/%u on interface %s",
                                    kl_ipam_ip4_str(ips[i].ip, s1), ips[i].prefix, a->ifname);
    }
    struct nl_cache *rcache = NULL;
    if ((rc = rtnl_route_alloc_cache(psk, AF_INET, 0, &rcache)) < 0)
        return kl_br_nl_fail(e, rc, "could not list routes in %s", a->netns);
    rc = 0;
    for (size_t i = 0; i < n_routes && rc == 0; i++) {
        struct kl_br_route want = routes[i];
        if (!want.has_gw && ips[0].has_gw) {
            want.gw = ips[0].gw;
            want.has_gw = true;
        }
        struct route_scan s = {.ifindex = pod_index, .want = &want};
        nl_cache_foreach(rcache, scan_route, &s);
        if (!s.found)
            rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                                  "Failed to match route %s/%u via %s on interface %s",
                                  kl_ipam_ip4_str(want.dst, s1), want.prefix,
                                  want.has_gw ? kl_ipam_ip4_str(want.gw, s2) : "-", a->ifname);
    }
    nl_cache_free(rcache);
    return rc;
}

/* CHECK, the pair: the pod interface's peer is a port of the bridge (with hairpin if set). */
static int check_peer(struct nl_sock *hsk, const struct kl_bridge_conf *c,
                      const struct kl_cni_args *a, struct rtnl_link *pod, struct rtnl_link *br,
                      struct kl_cni_error *e)
{
    struct rtnl_link *peer = NULL;
    int peer_index = rtnl_link_get_link(pod);
    int rc = peer_index > 0 ? kl_br_link_get(hsk, peer_index, NULL, &peer) : -NLE_OBJ_NOTFOUND;
    if (rc < 0 || strcmp(kl_br_link_kind(peer), "veth") != 0 ||
        (int)rtnl_link_get_master(peer) != rtnl_link_get_ifindex(br)) {
        rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                              "the node end of %s (ifindex %d) is not a port of bridge %s",
                              a->ifname, peer_index, c->bridge);
    } else if (c->hairpin) {
        bool on = false;
        if (kl_br_get_hairpin(hsk, peer_index, &on) < 0 || !on)
            rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "hairpin mode is off on bridge port %s",
                                  rtnl_link_get_name(peer));
    }
    if (peer)
        rtnl_link_put(peer);
    return rc < 0 ? rc : 0;
}

int kl_cni_bridge_check(const struct kl_cni_args *a, const cJSON *conf, struct kl_cni_error *e)
{
    struct kl_bridge_conf *c = ck_xcalloc(1, sizeof(*c));
    struct kl_br_nl_pair nl = {.nsfd = -1};
    struct rtnl_link *br = NULL, *pod = NULL;
    struct prev_ip ips[KL_CNI_MAX_IPS];
    struct kl_br_route routes[KL_BR_MAX_ROUTES];
    size_t n_ips = 0, n_routes = 0;
    int rc = kl_bridge_conf_parse(conf, c, e);
    if (rc < 0 || (rc = kl_br_check_args(a, true, e)) < 0)
        goto out;
    if (!c->prev_result) {
        rc = kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "Required prevResult missing");
        goto out;
    }
    if ((rc = parse_prev(c->prev_result, ips, KL_CNI_MAX_IPS, &n_ips, routes, KL_BR_MAX_ROUTES,
                         &n_routes, e)) < 0)
        goto out;
    if (n_ips == 0) {
        rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "prevResult has no IP addresses");
        goto out;
    }
    if ((rc = check_ipam(c, a, ips, n_ips, e)) < 0 ||
        (rc = kl_br_nl_pair_open(&nl, a->netns, e)) < 0)
        goto out;
    if ((rc = check_bridge(nl.host, c, ips, n_ips, &br, e)) < 0 ||
        (rc = check_pod(nl.pod, a, ips, n_ips, routes, n_routes, &pod, e)) < 0 ||
        (rc = check_peer(nl.host, c, a, pod, br, e)) < 0)
        goto out;
    rc = 0;
out:
    kl_br_link_put(pod);
    kl_br_link_put(br);
    kl_br_nl_pair_close(&nl);
    free(c);
    return rc;
}
