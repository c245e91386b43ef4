/* kubelet/cni/bridge.c - the "ckube-bridge" CNI plugin over libnl-route-3: config, ADD (bridge,
 * veth pair, addresses, routes, hairpin) and DEL (see bridge.h). CHECK lives in bridge_check.c,
 * the netlink helpers in bridge_nl.c. */
#include "bridge.h"
#include "bridge_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "encoding.h"
#include "json.h"
#include "log.h"
#include "mem.h"

/* ---- config ---- */

static int get_bool(const cJSON *conf, const char *key, bool *out, struct kl_cni_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsBool(v))
        return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "%s: must be true or false", key);
    *out = cJSON_IsTrue(v);
    return 0;
}

int kl_bridge_conf_parse(const cJSON *conf, struct kl_bridge_conf *c, struct kl_cni_error *e)
{
    memset(c, 0, sizeof(*c));
    int rc;
    if (!cJSON_IsObject(conf))
        return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "failed to load netconf: not an object");
    const char *name = ck_json_get_string(conf, "name", NULL);
    if ((rc = kl_cni_validate_network_name(name, e)) < 0)
        return rc;
    snprintf(c->name, sizeof(c->name), "%s", name);
    const char *version = ck_json_get_string(conf, "cniVersion", "");
    if (ck_snprintf(c->cni_version, sizeof(c->cni_version), "%s", version) < 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INCOMPATIBLE_VERSION, "invalid cniVersion \"%s\"",
                                version);

    const cJSON *br = cJSON_GetObjectItemCaseSensitive(conf, "bridge");
    const char *brname = KL_BRIDGE_DEFAULT_NAME;
    if (br && !cJSON_IsNull(br)) {
        if (!cJSON_IsString(br))
            return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "bridge: must be a string");
        if (br->valuestring[0])
            brname = br->valuestring;
    }
    struct kl_cni_error tmp = {0};
    if (kl_cni_validate_ifname(brname, &tmp) < 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "bridge \"%s\": %s", brname, tmp.msg);
    snprintf(c->bridge, sizeof(c->bridge), "%s", brname);

    bool ipmasq = false;
    if ((rc = get_bool(conf, "isGateway", &c->is_gateway, e)) < 0 ||
        (rc = get_bool(conf, "isDefaultGateway", &c->is_default_gw, e)) < 0 ||
        (rc = get_bool(conf, "forceAddress", &c->force_address, e)) < 0 ||
        (rc = get_bool(conf, "hairpinMode", &c->hairpin, e)) < 0 ||
        (rc = get_bool(conf, "promiscMode", &c->promisc, e)) < 0 ||
        (rc = get_bool(conf, "ipMasq", &ipmasq, e)) < 0)
        return rc;
    if (c->is_default_gw)
        c->is_gateway = true; /* as upstream: a default gateway must be a gateway */
    if (ipmasq)
        return kl_cni_error_set(e, KL_CNI_ERR_UNSUPPORTED_FIELD,
                                "ipMasq: true is not supported by %s: pod traffic is never "
                                "masqueraded to the outside (kube-proxy owns service NAT)",
                                KL_CNI_BRIDGE_TYPE);
    const cJSON *vlan = cJSON_GetObjectItemCaseSensitive(conf, "vlan");
    if (vlan && !cJSON_IsNull(vlan) && !(cJSON_IsNumber(vlan) && vlan->valuedouble == 0))
        return kl_cni_error_set(e, KL_CNI_ERR_UNSUPPORTED_FIELD, "vlan: not supported by %s",
                                KL_CNI_BRIDGE_TYPE);

    const cJSON *mtu = cJSON_GetObjectItemCaseSensitive(conf, "mtu");
    if (mtu && !cJSON_IsNull(mtu)) {
        int64_t v;
        if (ck_json_to_int64(mtu, &v) < 0)
            return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "mtu: must be an integer");
        if (v < 0 || v > 65535 || (v > 0 && v < 68))
            return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG,
                                    "invalid MTU %lld: must be between 68 and 65535", (long long)v);
        c->mtu = (int)v;
    }
    if ((rc = kl_ipam_conf_parse(cJSON_GetObjectItemCaseSensitive(conf, "ipam"), &c->ipam, e)) < 0)
        return rc;
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(conf, "prevResult");
    c->prev_result = (prev && cJSON_IsObject(prev)) ? prev : NULL;
    return 0;
}

int kl_br_check_args(const struct kl_cni_args *a, bool need_netns, struct kl_cni_error *e)
{
    int rc;
    if ((rc = kl_cni_validate_container_id(a->container_id, e)) < 0 ||
        (rc = kl_cni_validate_ifname(a->ifname, e)) < 0)
        return rc;
    if (need_netns && (!a->netns || !*a->netns))
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_ENV,
                                "required env variables [CNI_NETNS] missing");
    return 0;
}

/* The routes the pod gets: the ipam ones (gateway filled in), plus the default route through
 * the gateway for isDefaultGateway unless ipam already has one. */
static int pod_routes(const struct kl_bridge_conf *c, const struct kl_ipam_lease *l,
                      struct kl_br_route *out, size_t *n, struct kl_cni_error *e)
{
    *n = 0;
    bool have_default = false;
    for (size_t i = 0; i < c->ipam.n_routes; i++) {
        const struct kl_ipam_route *r = &c->ipam.routes[i];
        out[*n] =
            (struct kl_br_route){r->dst, r->prefix, r->has_gw ? r->gw : l->gateway, r->has_gw};
        if (r->prefix == 0) {
            if (c->is_default_gw && r->has_gw && r->gw != l->gateway) {
                char a[KL_IPAM_IP4_STRLEN];
                return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG,
                                        "isDefaultGateway ineffective because IPAM sets default "
                                        "route via %s",
                                        kl_ipam_ip4_str(r->gw, a));
            }
            have_default = true;
        }
        (*n)++;
    }
    if (c->is_default_gw && !have_default)
        out[(*n)++] = (struct kl_br_route){0, 0, l->gateway, true};
    return 0;
}

/* Finds or creates the bridge and brings it up; *out is a reference the caller puts. */
static int ensure_bridge(struct nl_sock *sk, const struct kl_bridge_conf *c, struct rtnl_link **out,
                         struct kl_cni_error *e)
{
    int rc = kl_br_link_get(sk, 0, c->bridge, out);
    if (kl_br_nl_notfound(rc)) {
        struct rtnl_link *br = rtnl_link_bridge_alloc();
        if (!br)
            return kl_br_nl_fail(e, -NLE_NOMEM, "could not add \"%s\"", c->bridge);
        rtnl_link_set_name(br, c->bridge);
        if (c->mtu > 0)
            rtnl_link_set_mtu(br, (unsigned)c->mtu);
        rc = rtnl_link_add(sk, br, NLM_F_CREATE | NLM_F_EXCL);
        rtnl_link_put(br);
        if (rc < 0 && rc != -NLE_EXIST) /* EXIST: another ADD made it meanwhile */
            return kl_br_nl_fail(e, rc, "could not add \"%s\"", c->bridge);
        ck_vinfo(2, "cni: created bridge %s", c->bridge);
        rc = kl_br_link_get(sk, 0, c->bridge, out);
    }
    if (rc < 0)
        return kl_br_nl_fail(e, rc, "could not look up \"%s\"", c->bridge);
    if (strcmp(kl_br_link_kind(*out), "bridge") != 0) {
        rtnl_link_put(*out);
        *out = NULL;
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "\"%s\" already exists but is not a bridge",
                                c->bridge);
    }
    unsigned want = IFF_UP | (c->promisc ? IFF_PROMISC : 0);
    if ((rtnl_link_get_flags(*out) & want) != want) {
        rc = kl_br_link_set_flags(sk, *out, want);
        if (rc < 0)
            return kl_br_nl_fail(e, rc, "failed to set bridge %s up", c->bridge);
    }
    return 0;
}

static int addr_change(struct nl_sock *sk, int ifindex, uint32_t ip, unsigned prefix, bool add)
{
    struct rtnl_addr *a = rtnl_addr_alloc();
    struct nl_addr *local = kl_br_ip4_addr(ip, prefix);
    struct nl_addr *bcast = kl_br_ip4_addr(ip | ~kl_ipam_mask(prefix), 32);
    int rc = -NLE_NOMEM;
    if (a && local && bcast) {
        rtnl_addr_set_ifindex(a, ifindex);
        rtnl_addr_set_family(a, AF_INET);
        rtnl_addr_set_local(a, local);
        rtnl_addr_set_prefixlen(a, (int)prefix);
        if (prefix < 31)
            rtnl_addr_set_broadcast(a, bcast);
        rc = add ? rtnl_addr_add(sk, a, 0) : rtnl_addr_delete(sk, a, 0);
    }
    if (local)
        nl_addr_put(local);
    if (bcast)
        nl_addr_put(bcast);
    if (a)
        rtnl_addr_put(a);
    return rc;
}

/* Puts the gateway address on the bridge, as upstream's ensureAddr: an existing different
 * address of the same subnet is an error unless forceAddress, which replaces it. */
static int ensure_bridge_addr(struct nl_sock *sk, const struct kl_bridge_conf *c, int ifindex,
                              const struct kl_ipam_lease *l, struct kl_cni_error *e)
{
    struct kl_br_addr_scan s = {.ifindex = ifindex, .want = l->gateway, .prefix = l->prefix};
    int rc = kl_br_scan_addrs(sk, &s);
    if (rc < 0)
        return kl_br_nl_fail(e, rc, "could not list addresses of %s", c->bridge);
    if (s.found)
        return 0;
    char a[KL_IPAM_IP4_STRLEN];
    if (s.conflict) {
        if (!c->force_address)
            return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                                    "\"%s\" already has an IP address different from %s/%u",
                                    c->bridge, kl_ipam_ip4_str(l->gateway, a), l->prefix);
        rc = addr_change(sk, ifindex, s.other, s.other_prefix, false);
        if (rc < 0)
            return kl_br_nl_fail(e, rc, "failed to remove IP address from \"%s\"", c->bridge);
    }
    rc = addr_change(sk, ifindex, l->gateway, l->prefix, true);
    if (rc < 0 && rc != -NLE_EXIST)
        return kl_br_nl_fail(e, rc, "could not add IP address to \"%s\"", c->bridge);
    return 0;
}

/* Creates the pair: node end "veth<8 hex>" here, pod end `ifname` born in the namespace. */
static int create_veth(struct nl_sock *sk, int nsfd, const char *ifname, int mtu, char *host,
                       size_t host_size, struct kl_cni_error *e)
{
    int rc = -NLE_EXIST;
    for (int attempt = 0; attempt < 8 && rc == -NLE_EXIST; attempt++) {
        uint32_t rnd;
        ck_rand_bytes(&rnd, sizeof(rnd));
        snprintf(host, host_size, "veth%08x", rnd);
        struct rtnl_link *veth = rtnl_link_veth_alloc();
        if (!veth)
            return kl_br_nl_fail(e, -NLE_NOMEM, "failed to make veth pair");
        struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
        rtnl_link_set_name(veth, host);
        rtnl_link_set_name(peer, ifname);
        rtnl_link_set_ns_fd(peer, nsfd);
        if (mtu > 0) {
            rtnl_link_set_mtu(veth, (unsigned)mtu);
            rtnl_link_set_mtu(peer, (unsigned)mtu);
        }
        rtnl_link_put(peer);
        rc = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
        rtnl_link_veth_release(veth);
    }
    if (rc < 0)
        return kl_br_nl_fail(e, rc, "failed to make veth pair");
    return 0;
}

static int add_route(struct nl_sock *sk, int ifindex, const struct kl_br_route *r)
{
    struct rtnl_route *route = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    struct nl_addr *dst = kl_br_ip4_addr(r->dst, r->prefix);
    struct nl_addr *gw = kl_br_ip4_addr(r->gw, 32);
    int rc = -NLE_NOMEM;
    if (route && nh && dst && gw) {
        rtnl_route_set_family(route, AF_INET);
        rtnl_route_set_table(route, RT_TABLE_MAIN);
        rtnl_route_set_protocol(route, RTPROT_BOOT);
        rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
        rtnl_route_set_type(route, RTN_UNICAST);
        rc = rtnl_route_set_dst(route, dst);
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, gw);
        rtnl_route_add_nexthop(route, nh); /* route owns nh now */
        nh = NULL;
        if (rc == 0)
            rc = rtnl_route_add(sk, route, NLM_F_CREATE | NLM_F_EXCL);
    }
    if (nh)
        rtnl_route_nh_free(nh);
    if (dst)
        nl_addr_put(dst);
    if (gw)
        nl_addr_put(gw);
    if (route)
        rtnl_route_put(route);
    return rc;
}

/* eth0 inside the pod: address, up, lo up, routes. */
static int configure_pod_if(struct nl_sock *psk, const char *ifname, const struct kl_ipam_lease *l,
                            const struct kl_br_route *routes, size_t n_routes, char *mac,
                            size_t mac_size, struct kl_cni_error *e)
{
    struct rtnl_link *link;
    int rc = kl_br_link_get(psk, 0, ifname, &link);
    if (rc < 0)
        return kl_br_nl_fail(e, rc, "failed to lookup %s", ifname);
    int ifindex = rtnl_link_get_ifindex(link);
    kl_br_link_mac(link, mac, mac_size);
    char a[KL_IPAM_IP4_STRLEN];
    rc = addr_change(psk, ifindex, l->ip, l->prefix, true);
    if (rc < 0 && rc != -NLE_EXIST) {
        rtnl_link_put(link);
        return kl_br_nl_fail(e, rc, "failed to add IP addr %s/%u to \"%s\"",
                             kl_ipam_ip4_str(l->ip, a), l->prefix, ifname);
    }
    rc = kl_br_link_set_flags(psk, link, IFF_UP);
    rtnl_link_put(link);
    if (rc < 0)
        return kl_br_nl_fail(e, rc, "failed to set %s UP", ifname);
    if ((rc = kl_br_set_link_up_by_name(psk, "lo")) < 0)
        return kl_br_nl_fail(e, rc, "failed to set lo UP");
    for (size_t i = 0; i < n_routes; i++) {
        rc = add_route(psk, ifindex, &routes[i]);
        if (rc < 0 && rc != -NLE_EXIST) {
            char d[KL_IPAM_IP4_STRLEN], g[KL_IPAM_IP4_STRLEN];
            return kl_br_nl_fail(e, rc, "failed to add route '%s/%u via %s dev %s'",
                                 kl_ipam_ip4_str(routes[i].dst, d), routes[i].prefix,
                                 kl_ipam_ip4_str(routes[i].gw, g), ifname);
        }
    }
    return 0;
}

/* The result object in the config's version: interfaces (bridge, node veth, pod eth0), the one
 * IP, the routes and an empty dns. Caller owns it. */
static cJSON *build_result(const struct kl_bridge_conf *c, const struct kl_cni_args *a,
                           const char *br_mac, const char *host, const char *host_mac,
                           const char *pod_mac, const struct kl_ipam_lease *l,
                           const struct kl_br_route *routes, size_t n_routes)
{
    char ip[KL_IPAM_IP4_STRLEN], gw[KL_IPAM_IP4_STRLEN], buf[64];
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "cniVersion", c->cni_version);
    cJSON *ifs = cJSON_AddArrayToObject(res, "interfaces");
    cJSON *i0 = cJSON_CreateObject();
    cJSON_AddStringToObject(i0, "name", c->bridge);
    cJSON_AddStringToObject(i0, "mac", br_mac);
    cJSON_AddItemToArray(ifs, i0);
    cJSON *i1 = cJSON_CreateObject();
    cJSON_AddStringToObject(i1, "name", host);
    cJSON_AddStringToObject(i1, "mac", host_mac);
    cJSON_AddItemToArray(ifs, i1);
    cJSON *i2 = cJSON_CreateObject();
    cJSON_AddStringToObject(i2, "name", a->ifname);
    cJSON_AddStringToObject(i2, "mac", pod_mac);
    cJSON_AddStringToObject(i2, "sandbox", a->netns);
    cJSON_AddItemToArray(ifs, i2);

    cJSON *ips = cJSON_AddArrayToObject(res, "ips");
    cJSON *ipc = cJSON_CreateObject();
    /* results before 1.0.0 carry the address family */
    if (kl_cni_version_cmp(c->cni_version, "1.0.0") < 0)
        cJSON_AddStringToObject(ipc, "version", "4");
    snprintf(buf, sizeof(buf), "%s/%u", kl_ipam_ip4_str(l->ip, ip), l->prefix);
    cJSON_AddStringToObject(ipc, "address", buf);
    cJSON_AddStringToObject(ipc, "gateway", kl_ipam_ip4_str(l->gateway, gw));
    cJSON_AddNumberToObject(ipc, "interface", 2);
    cJSON_AddItemToArray(ips, ipc);

    if (n_routes > 0) {
        cJSON *rts = cJSON_AddArrayToObject(res, "routes");
        for (size_t i = 0; i < n_routes; i++) {
            cJSON *r = cJSON_CreateObject();
            snprintf(buf, sizeof(buf), "%s/%u", kl_ipam_ip4_str(routes[i].dst, ip),
                     routes[i].prefix);
            cJSON_AddStringToObject(r, "dst", buf);
            if (routes[i].has_gw)
                cJSON_AddStringToObject(r, "gw", kl_ipam_ip4_str(routes[i].gw, gw));
            cJSON_AddItemToArray(rts, r);
        }
    }
    cJSON_AddItemToObject(res, "dns", cJSON_CreateObject());
    return res;
}

static void enable_forward(void)
{
    int rc = kl_br_write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
    if (rc < 0)
        ck_warn("cni: cannot enable net.ipv4.ip_forward: %s", strerror(-rc));
}

int kl_cni_bridge_add(const struct kl_cni_args *a, const cJSON *conf, cJSON **result,
                      struct kl_cni_error *e)
{
    *result = NULL;
    struct kl_bridge_conf *c = ck_xcalloc(1, sizeof(*c));
    struct kl_br_nl_pair nl = {.nsfd = -1};
    struct rtnl_link *br = NULL, *hostl = NULL, *probe = NULL;
    bool allocated = false, veth_made = false;
    char host[KL_IFNAMSIZ] = "";
    int rc = kl_bridge_conf_parse(conf, c, e);
    if (rc < 0 || (rc = kl_br_check_args(a, true, e)) < 0 ||
        (rc = kl_br_nl_pair_open(&nl, a->netns, e)) < 0)
        goto out;

    /* refuse to touch an interface that is already there */
    rc = kl_br_link_get(nl.pod, 0, a->ifname, &probe);
    if (rc == 0) {
        rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                              "container veth name provided (%s) already exists", a->ifname);
        goto out;
    }
    if (!kl_br_nl_notfound(rc)) {
        rc = kl_br_nl_fail(e, rc, "failed to lookup %s in %s", a->ifname, a->netns);
        goto out;
    }

    if ((rc = ensure_bridge(nl.host, c, &br, e)) < 0)
        goto out;

    struct kl_ipam_lease lease;
    if ((rc = kl_ipam_allocate(&c->ipam, a->data_dir, c->name, a->container_id, a->ifname, &lease,
                               e)) < 0)
        goto out;
    allocated = true;

    struct kl_br_route routes[KL_BR_MAX_ROUTES];
    size_t n_routes;
    if ((rc = pod_routes(c, &lease, routes, &n_routes, e)) < 0)
        goto out;

    if ((rc = create_veth(nl.host, nl.nsfd, a->ifname, c->mtu, host, sizeof(host), e)) < 0)
        goto out;
    veth_made = true;
    if ((rc = kl_br_link_get(nl.host, 0, host, &hostl)) < 0) {
        rc = kl_br_nl_fail(e, rc, "failed to lookup %s", host);
        goto out;
    }
    /* join the bridge, hairpin, up */
    struct rtnl_link *chg = rtnl_link_alloc();
    rtnl_link_set_master(chg, rtnl_link_get_ifindex(br));
    rc = rtnl_link_change(nl.host, hostl, chg, 0);
    rtnl_link_put(chg);
    if (rc < 0) {
        rc = kl_br_nl_fail(e, rc, "failed to connect %s to bridge %s", host, c->bridge);
        goto out;
    }
    if (c->hairpin && (rc = kl_br_set_hairpin(nl.host, rtnl_link_get_ifindex(hostl), true)) < 0) {
        rc = kl_br_nl_fail(e, rc, "failed to setup hairpin mode for %s", host);
        goto out;
    }
    if ((rc = kl_br_link_set_flags(nl.host, hostl, IFF_UP)) < 0) {
        rc = kl_br_nl_fail(e, rc, "failed to set %s up", host);
        goto out;
    }

    if (c->is_gateway) {
        if ((rc = ensure_bridge_addr(nl.host, c, rtnl_link_get_ifindex(br), &lease, e)) < 0)
            goto out;
        enable_forward();
    }
    char pod_mac[24];
    if ((rc = configure_pod_if(nl.pod, a->ifname, &lease, routes, n_routes, pod_mac,
                               sizeof(pod_mac), e)) < 0)
        goto out;

    /* re-read the bridge: its MAC follows its ports until one is set */
    struct rtnl_link *br2 = NULL;
    if (kl_br_link_get(nl.host, rtnl_link_get_ifindex(br), NULL, &br2) == 0) {
        rtnl_link_put(br);
        br = br2;
    }
    char br_mac[24], host_mac[24];
    kl_br_link_mac(br, br_mac, sizeof(br_mac));
    kl_br_link_mac(hostl, host_mac, sizeof(host_mac));
    *result = build_result(c, a, br_mac, host, host_mac, pod_mac, &lease, routes, n_routes);
    char ipstr[KL_IPAM_IP4_STRLEN];
    ck_vinfo(2, "cni: %s gets %s/%u on %s (node side %s)", a->container_id,
             kl_ipam_ip4_str(lease.ip, ipstr), lease.prefix, c->bridge, host);
    rc = 0;
out:
    if (rc < 0) {
        /* undo: the pair goes with its node end, the address goes back to the pool */
        if (veth_made) {
            struct rtnl_link *del = rtnl_link_alloc();
            if (del) {
                rtnl_link_set_name(del, host);
                int drc = rtnl_link_delete(nl.host, del);
                if (drc < 0 && !kl_br_nl_notfound(drc))
                    ck_warn("cni: rollback: cannot delete %s: %s", host, nl_geterror(drc));
                rtnl_link_put(del);
            }
        }
        if (allocated) {
            struct kl_cni_error ignored = {0};
            kl_ipam_release(&c->ipam, a->data_dir, c->name, a->container_id, a->ifname, &ignored);
        }
    }
    kl_br_link_put(probe);
    kl_br_link_put(hostl);
    kl_br_link_put(br);
    kl_br_nl_pair_close(&nl);
    free(c);
    return rc;
}

/* ---- DEL ---- */

int kl_cni_bridge_del(const struct kl_cni_args *a, const cJSON *conf, struct kl_cni_error *e)
{
    struct kl_bridge_conf *c = ck_xcalloc(1, sizeof(*c));
    struct nl_sock *psk = NULL;
    int nsfd = -1;
    int rc = kl_bridge_conf_parse(conf, c, e);
    if (rc < 0 || (rc = kl_br_check_args(a, false, e)) < 0)
        goto out;
    /* the address first: it must come back even when the namespace is already gone */
    if ((rc = kl_ipam_release(&c->ipam, a->data_dir, c->name, a->container_id, a->ifname, e)) < 0)
        goto out;
    rc = 0;
    if (!a->netns || !*a->netns)
        goto out;
    struct kl_cni_error ignored = {0};
    nsfd = kl_br_netns_open(a->netns, &ignored);
    if (nsfd < 0) {
        if (nsfd != -ENOENT)
            ck_warn("cni: DEL %s: %s", a->container_id, ignored.msg);
        goto out; /* no namespace, no interface */
    }
    rc = -EIO;
    if (!(psk = kl_br_nl_open_in(nsfd, a->netns, e)))
        goto out;
    struct rtnl_link *del = rtnl_link_alloc();
    if (!del) {
        rc = kl_br_nl_fail(e, -NLE_NOMEM, "failed to delete %s", a->ifname);
        goto out;
    }
    rtnl_link_set_name(del, a->ifname);
    rc = rtnl_link_delete(psk, del);
    rtnl_link_put(del);
    if (rc < 0 && !kl_br_nl_notfound(rc)) {
        rc = kl_br_nl_fail(e, rc, "failed to delete %s in %s", a->ifname, a->netns);
        goto out;
    }
    rc = 0;
out:
    if (psk)
        nl_socket_free(psk);
    if (nsfd >= 0)
        close(nsfd);
    free(c);
    return rc;
}
