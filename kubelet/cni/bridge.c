/* kubelet/cni/bridge.c - the "ckube-bridge" CNI plugin over libnl-route-3: bridge, veth pair,
 * addresses, routes, hairpin, node sysctls (see bridge.h). */
#include "bridge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "buf.h"
#include "encoding.h"
#include "json.h"
#include "log.h"
#include "mem.h"

#define MAX_POD_ROUTES (KL_IPAM_MAX_ROUTES + 1)

/* ---- small helpers ---- */

/* Sets e from a libnl error: "<what>: <libnl message>". Returns a negative errno. */
static int nl_fail(struct kl_cni_error *e, int nlerr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int nl_fail(struct kl_cni_error *e, int nlerr, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "%s: %s", what, nl_geterror(nlerr));
    if (nlerr == -NLE_EXIST)
        return -EEXIST;
    if (nlerr == -NLE_OBJ_NOTFOUND || nlerr == -NLE_NODEV)
        return -ENOENT;
    if (nlerr == -NLE_PERM)
        return -EPERM;
    return -EIO;
}

static bool nl_notfound(int nlerr)
{
    return nlerr == -NLE_OBJ_NOTFOUND || nlerr == -NLE_NODEV;
}

/* Copies a kl_cni_error into a ck_error (500 InternalError) for the kubelet-facing helpers. */
static int to_ck_error(struct ck_error *err, const struct kl_cni_error *e, int rc)
{
    if (err)
        ck_error_set(err, 500, CK_REASON_INTERNAL, "%s", e->msg);
    return rc;
}

/* Opens a NETLINK_ROUTE socket inside the namespace open at nsfd (-1: the calling thread's
 * own). The thread enters the namespace only while the socket is created: a netlink socket
 * stays bound to the namespace it was born in. */
static struct nl_sock *nl_open_in(int nsfd, const char *ns_name, struct kl_cni_error *e)
{
    int self = -1;
    if (nsfd >= 0) {
        self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0) {
            kl_cni_error_set(e, KL_CNI_ERR_IO, "open own netns: %s", strerror(errno));
            return NULL;
        }
        if (setns(nsfd, CLONE_NEWNET) < 0) {
            int saved = errno;
            close(self);
            if (saved == EINVAL)
                kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "%s is not a network namespace", ns_name);
            else
                kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "enter netns %s: %s", ns_name,
                                 strerror(saved));
            return NULL;
        }
    }
    struct nl_sock *sk = nl_socket_alloc();
    int rc = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
    if (self >= 0) {
        if (setns(self, CLONE_NEWNET) < 0)
            ck_err("cni: cannot return to the node network namespace: %s", strerror(errno));
        close(self);
    }
    if (rc < 0) {
        if (sk)
            nl_socket_free(sk);
        nl_fail(e, rc, "netlink socket");
        return NULL;
    }
    return sk;
}

/* Opens the namespace file; -ENOENT (with e) when it does not exist. */
static int netns_open(const char *path, struct kl_cni_error *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        kl_cni_error_set(e, rc == -ENOENT ? KL_CNI_ERR_UNKNOWN_CONTAINER : KL_CNI_ERR_INTERNAL,
                         "failed to open netns \"%s\": %s", path, strerror(-rc));
        return rc;
    }
    return fd;
}

static struct nl_addr *ip4_addr(uint32_t ip, unsigned prefix)
{
    uint32_t be = htonl(ip);
    struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));
    if (a)
        nl_addr_set_prefixlen(a, (int)prefix);
    return a;
}

static bool addr_is(const struct nl_addr *a, uint32_t *ip)
{
    if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4)
        return false;
    uint32_t be;
    memcpy(&be, nl_addr_get_binary_addr(a), 4);
    *ip = ntohl(be);
    return true;
}

static int link_get(struct nl_sock *sk, int ifindex, const char *name, struct rtnl_link **out)
{
    *out = NULL;
    return rtnl_link_get_kernel(sk, ifindex, name, out);
}

static int link_set_flags(struct nl_sock *sk, struct rtnl_link *link, unsigned flags)
{
    struct rtnl_link *c = rtnl_link_alloc();
    if (!c)
        return -NLE_NOMEM;
    rtnl_link_set_flags(c, flags);
    int rc = rtnl_link_change(sk, link, c, 0);
    rtnl_link_put(c);
    return rc;
}

static void link_mac(struct rtnl_link *link, char *buf, size_t size)
{
    buf[0] = '\0';
    struct nl_addr *a = rtnl_link_get_addr(link);
    if (a && nl_addr_get_len(a) == 6) {
        const unsigned char *m = nl_addr_get_binary_addr(a);
        snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    }
}

static const char *link_kind(struct rtnl_link *link)
{
    const char *t = rtnl_link_get_type(link);
    return t ? t : "";
}

/* Sets or clears the hairpin flag of a bridge port: RTM_SETLINK in the AF_BRIDGE family with
 * IFLA_PROTINFO/IFLA_BRPORT_MODE, as `bridge link set dev X hairpin on` (libnl's link change
 * cannot switch the family of a request). */
static int set_hairpin(struct nl_sock *sk, int ifindex, bool on)
{
    struct nl_msg *m = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
    if (!m)
        return -NLE_NOMEM;
    struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = ifindex};
    int rc = nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
    struct nlattr *nest = rc < 0 ? NULL : nla_nest_start(m, IFLA_PROTINFO | NLA_F_NESTED);
    if (!nest || nla_put_u8(m, IFLA_BRPORT_MODE, on ? 1 : 0) < 0) {
        nlmsg_free(m);
        return -NLE_NOMEM;
    }
    nla_nest_end(m, nest);
    return nl_send_sync(sk, m); /* frees m */
}

/* Reads a bridge port's hairpin flag through the AF_BRIDGE link dump. */
static int get_hairpin(struct nl_sock *sk, int ifindex, bool *on)
{
    struct nl_cache *cache = NULL;
    *on = false;
    int rc = rtnl_link_alloc_cache(sk, AF_BRIDGE, &cache);
    if (rc < 0)
        return rc;
    struct rtnl_link *port = rtnl_link_get(cache, ifindex);
    if (port) {
        int flags = rtnl_link_bridge_get_flags(port);
        *on = flags > 0 && (flags & RTNL_BRIDGE_HAIRPIN_MODE);
        rtnl_link_put(port);
    }
    nl_cache_free(cache);
    return port ? 0 : -NLE_OBJ_NOTFOUND;
}

static int write_sysctl(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, value, strlen(value));
    int rc = n < 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int read_sysctl(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, size - 1);
    int rc = n < 0 ? -errno : 0;
    close(fd);
    if (rc == 0)
        buf[n] = '\0';
    return rc;
}

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

/* ---- ADD ---- */

struct pod_route {
    uint32_t dst;
    unsigned prefix;
    uint32_t gw;
    bool has_gw; /* as written in the ipam config: the result carries "gw" only then */
};

/* The routes the pod gets: the ipam ones (gateway filled in), plus the default route through
 * the gateway for isDefaultGateway unless ipam already has one. */
static int pod_routes(const struct kl_bridge_conf *c, const struct kl_ipam_lease *l,
                      struct pod_route *out, size_t *n, struct kl_cni_error *e)
{
    *n = 0;
    bool have_default = false;
    for (size_t i = 0; i < c->ipam.n_routes; i++) {
        const struct kl_ipam_route *r = &c->ipam.routes[i];
        out[*n] = (struct pod_route){r->dst, r->prefix, r->has_gw ? r->gw : l->gateway, r->has_gw};
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
        out[(*n)++] = (struct pod_route){0, 0, l->gateway, true};
    return 0;
}

/* Finds or creates the bridge and brings it up; *out is a reference the caller puts. */
static int ensure_bridge(struct nl_sock *sk, const struct kl_bridge_conf *c, struct rtnl_link **out,
                         struct kl_cni_error *e)
{
    int rc = link_get(sk, 0, c->bridge, out);
    if (nl_notfound(rc)) {
        struct rtnl_link *br = rtnl_link_bridge_alloc();
        if (!br)
            return nl_fail(e, -NLE_NOMEM, "could not add \"%s\"", c->bridge);
        rtnl_link_set_name(br, c->bridge);
        if (c->mtu > 0)
            rtnl_link_set_mtu(br, (unsigned)c->mtu);
        rc = rtnl_link_add(sk, br, NLM_F_CREATE | NLM_F_EXCL);
        rtnl_link_put(br);
        if (rc < 0 && rc != -NLE_EXIST) /* EXIST: another ADD made it meanwhile */
            return nl_fail(e, rc, "could not add \"%s\"", c->bridge);
        ck_vinfo(2, "cni: created bridge %s", c->bridge);
        rc = link_get(sk, 0, c->bridge, out);
    }
    if (rc < 0)
        return nl_fail(e, rc, "could not look up \"%s\"", c->bridge);
    if (strcmp(link_kind(*out), "bridge") != 0) {
        rtnl_link_put(*out);
        *out = NULL;
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "\"%s\" already exists but is not a bridge",
                                c->bridge);
    }
    unsigned want = IFF_UP | (c->promisc ? IFF_PROMISC : 0);
    if ((rtnl_link_get_flags(*out) & want) != want) {
        rc = link_set_flags(sk, *out, want);
        if (rc < 0)
            return nl_fail(e, rc, "failed to set bridge %s up", c->bridge);
    }
    return 0;
}

struct addr_scan {
    int ifindex;
    uint32_t want;
    unsigned prefix;
    bool found;    /* want/prefix is there */
    bool conflict; /* another address of the same subnet is there */
    uint32_t other;
    unsigned other_prefix;
};

static void scan_addr(struct nl_object *obj, void *arg)
{
    struct rtnl_addr *a = (struct rtnl_addr *)obj;
    struct addr_scan *s = arg;
    uint32_t ip;
    if (rtnl_addr_get_ifindex(a) != s->ifindex || !addr_is(rtnl_addr_get_local(a), &ip))
        return;
    unsigned prefix = (unsigned)rtnl_addr_get_prefixlen(a);
    if (ip == s->want && prefix == s->prefix) {
        s->found = true;
    } else if ((ip & kl_ipam_mask(s->prefix)) == (s->want & kl_ipam_mask(s->prefix))) {
        s->conflict = true;
        s->other = ip;
        s->other_prefix = prefix;
    }
}

static int scan_addrs(struct nl_sock *sk, struct addr_scan *s)
{
    struct nl_cache *cache = NULL;
    int rc = rtnl_addr_alloc_cache(sk, &cache);
    if (rc < 0)
        return rc;
    nl_cache_foreach(cache, scan_addr, s);
    nl_cache_free(cache);
    return 0;
}

static int addr_change(struct nl_sock *sk, int ifindex, uint32_t ip, unsigned prefix, bool add)
{
    struct rtnl_addr *a = rtnl_addr_alloc();
    struct nl_addr *local = ip4_addr(ip, prefix);
    struct nl_addr *bcast = ip4_addr(ip | ~kl_ipam_mask(prefix), 32);
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
    struct addr_scan s = {.ifindex = ifindex, .want = l->gateway, .prefix = l->prefix};
    int rc = scan_addrs(sk, &s);
    if (rc < 0)
        return nl_fail(e, rc, "could not list addresses of %s", c->bridge);
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
            return nl_fail(e, rc, "failed to remove IP address from \"%s\"", c->bridge);
    }
    rc = addr_change(sk, ifindex, l->gateway, l->prefix, true);
    if (rc < 0 && rc != -NLE_EXIST)
        return nl_fail(e, rc, "could not add IP address to \"%s\"", c->bridge);
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
            return nl_fail(e, -NLE_NOMEM, "failed to make veth pair");
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
        return nl_fail(e, rc, "failed to make veth pair");
    return 0;
}

static int add_route(struct nl_sock *sk, int ifindex, const struct pod_route *r)
{
    struct rtnl_route *route = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    struct nl_addr *dst = ip4_addr(r->dst, r->prefix);
    struct nl_addr *gw = ip4_addr(r->gw, 32);
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

static int set_link_up_by_name(struct nl_sock *sk, const char *name)
{
    struct rtnl_link *l;
    int rc = link_get(sk, 0, name, &l);
    if (rc < 0)
        return rc;
    if (!(rtnl_link_get_flags(l) & IFF_UP))
        rc = link_set_flags(sk, l, IFF_UP);
    rtnl_link_put(l);
    return rc;
}

/* eth0 inside the pod: address, up, lo up, routes. */
static int configure_pod_if(struct nl_sock *psk, const char *ifname, const struct kl_ipam_lease *l,
                            const struct pod_route *routes, size_t n_routes, char *mac,
                            size_t mac_size, struct kl_cni_error *e)
{
    struct rtnl_link *link;
    int rc = link_get(psk, 0, ifname, &link);
    if (rc < 0)
        return nl_fail(e, rc, "failed to lookup %s", ifname);
    int ifindex = rtnl_link_get_ifindex(link);
    link_mac(link, mac, mac_size);
    char a[KL_IPAM_IP4_STRLEN];
    rc = addr_change(psk, ifindex, l->ip, l->prefix, true);
    if (rc < 0 && rc != -NLE_EXIST) {
        rtnl_link_put(link);
        return nl_fail(e, rc, "failed to add IP addr %s/%u to \"%s\"", kl_ipam_ip4_str(l->ip, a),
                       l->prefix, ifname);
    }
    rc = link_set_flags(psk, link, IFF_UP);
    rtnl_link_put(link);
    if (rc < 0)
        return nl_fail(e, rc, "failed to set %s UP", ifname);
    if ((rc = set_link_up_by_name(psk, "lo")) < 0)
        return nl_fail(e, rc, "failed to set lo UP");
    for (size_t i = 0; i < n_routes; i++) {
        rc = add_route(psk, ifindex, &routes[i]);
        if (rc < 0 && rc != -NLE_EXIST) {
            char d[KL_IPAM_IP4_STRLEN], g[KL_IPAM_IP4_STRLEN];
            return nl_fail(e, rc, "failed to add route '%s/%u via %s dev %s'",
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
                           const struct pod_route *routes, size_t n_routes)
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
    int rc = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
    if (rc < 0)
        ck_warn("cni: cannot enable net.ipv4.ip_forward: %s", strerror(-rc));
}

static int check_args(const struct kl_cni_args *a, bool need_netns, struct kl_cni_error *e)
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

int kl_cni_bridge_add(const struct kl_cni_args *a, const cJSON *conf, cJSON **result,
                      struct kl_cni_error *e)
{
    *result = NULL;
    struct kl_bridge_conf *c = ck_xcalloc(1, sizeof(*c));
    struct nl_sock *hsk = NULL, *psk = NULL;
    struct rtnl_link *br = NULL, *hostl = NULL, *probe = NULL;
    bool allocated = false, veth_made = false;
    char host[KL_IFNAMSIZ] = "";
    int nsfd = -1;
    int rc = kl_bridge_conf_parse(conf, c, e);
    if (rc < 0 || (rc = check_args(a, true, e)) < 0)
        goto out;
    if ((nsfd = netns_open(a->netns, e)) < 0) {
        rc = nsfd;
        goto out;
    }
    rc = -EIO;
    if (!(hsk = nl_open_in(-1, "", e)) || !(psk = nl_open_in(nsfd, a->netns, e)))
        goto out;

    /* refuse to touch an interface that is already there */
    rc = link_get(psk, 0, a->ifname, &probe);
    if (rc == 0) {
        rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                              "container veth name provided (%s) already exists", a->ifname);
        goto out;
    }
    if (!nl_notfound(rc)) {
        rc = nl_fail(e, rc, "failed to lookup %s in %s", a->ifname, a->netns);
        goto out;
    }

    if ((rc = ensure_bridge(hsk, c, &br, e)) < 0)
        goto out;

    struct kl_ipam_lease lease;
    if ((rc = kl_ipam_allocate(&c->ipam, a->data_dir, c->name, a->container_id, a->ifname, &lease,
                               e)) < 0)
        goto out;
    allocated = true;

    struct pod_route routes[MAX_POD_ROUTES];
    size_t n_routes;
    if ((rc = pod_routes(c, &lease, routes, &n_routes, e)) < 0)
        goto out;

    if ((rc = create_veth(hsk, nsfd, a->ifname, c->mtu, host, sizeof(host), e)) < 0)
        goto out;
    veth_made = true;
    if ((rc = link_get(hsk, 0, host, &hostl)) < 0) {
        rc = nl_fail(e, rc, "failed to lookup %s", host);
        goto out;
    }
    /* join the bridge, hairpin, up */
    struct rtnl_link *chg = rtnl_link_alloc();
    rtnl_link_set_master(chg, rtnl_link_get_ifindex(br));
    rc = rtnl_link_change(hsk, hostl, chg, 0);
    rtnl_link_put(chg);
    if (rc < 0) {
        rc = nl_fail(e, rc, "failed to connect %s to bridge %s", host, c->bridge);
        goto out;
    }
    if (c->hairpin && (rc = set_hairpin(hsk, rtnl_link_get_ifindex(hostl), true)) < 0) {
        rc = nl_fail(e, rc, "failed to setup hairpin mode for %s", host);
        goto out;
    }
    if ((rc = link_set_flags(hsk, hostl, IFF_UP)) < 0) {
        rc = nl_fail(e, rc, "failed to set %s up", host);
        goto out;
    }

    if (c->is_gateway) {
        if ((rc = ensure_bridge_addr(hsk, c, rtnl_link_get_ifindex(br), &lease, e)) < 0)
            goto out;
        enable_forward();
    }
    char pod_mac[24];
    if ((rc = configure_pod_if(psk, a->ifname, &lease, routes, n_routes, pod_mac, sizeof(pod_mac),
                               e)) < 0)
        goto out;

    /* re-read the bridge: its MAC follows its ports until one is set */
    struct rtnl_link *br2 = NULL;
    if (link_get(hsk, rtnl_link_get_ifindex(br), NULL, &br2) == 0) {
        rtnl_link_put(br);
        br = br2;
    }
    char br_mac[24], host_mac[24];
    link_mac(br, br_mac, sizeof(br_mac));
    link_mac(hostl, host_mac, sizeof(host_mac));
    *result = build_result(c, a, br_mac, host, host_mac, pod_mac, &lease, routes, n_routes);
    char ipstr[KL_IPAM_IP4_STRLEN];
    ck_vinfo(2, "cni: %s gets %s/%u on %s (node side %s)", a->container_id,
             kl_ipam_ip4_str(lease.ip, ipstr), lease.prefix, c->bridge, host);
    rc = 0;
out:
    if (rc < 0) {
        /* undo: the pair goes with its node end, the address goes back to the pool */
        if (veth_made && hsk) {
            struct rtnl_link *del = rtnl_link_alloc();
            if (del) {
                rtnl_link_set_name(del, host);
                int drc = rtnl_link_delete(hsk, del);
                if (drc < 0 && !nl_notfound(drc))
                    ck_warn("cni: rollback: cannot delete %s: %s", host, nl_geterror(drc));
                rtnl_link_put(del);
            }
        }
        if (allocated) {
            struct kl_cni_error ignored = {0};
            kl_ipam_release(&c->ipam, a->data_dir, c->name, a->container_id, a->ifname, &ignored);
        }
    }
    if (probe)
        rtnl_link_put(probe);
    if (hostl)
        rtnl_link_put(hostl);
    if (br)
        rtnl_link_put(br);
    if (psk)
        nl_socket_free(psk);
    if (hsk)
        nl_socket_free(hsk);
    if (nsfd >= 0)
        close(nsfd);
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
    if (rc < 0 || (rc = check_args(a, false, e)) < 0)
        goto out;
    /* the address first: it must come back even when the namespace is already gone */
    if ((rc = kl_ipam_release(&c->ipam, a->data_dir, c->name, a->container_id, a->ifname, e)) < 0)
        goto out;
    rc = 0;
    if (!a->netns || !*a->netns)
        goto out;
    struct kl_cni_error ignored = {0};
    nsfd = netns_open(a->netns, &ignored);
    if (nsfd < 0) {
        if (nsfd != -ENOENT)
            ck_warn("cni: DEL %s: %s", a->container_id, ignored.msg);
        goto out; /* no namespace, no interface */
    }
    rc = -EIO;
    if (!(psk = nl_open_in(nsfd, a->netns, e)))
        goto out;
    struct rtnl_link *del = rtnl_link_alloc();
    if (!del) {
        rc = nl_fail(e, -NLE_NOMEM, "failed to delete %s", a->ifname);
        goto out;
    }
    rtnl_link_set_name(del, a->ifname);
    rc = rtnl_link_delete(psk, del);
    rtnl_link_put(del);
    if (rc < 0 && !nl_notfound(rc)) {
        rc = nl_fail(e, rc, "failed to delete %s in %s", a->ifname, a->netns);
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

/* ---- CHECK ---- */

struct prev_ip {
    uint32_t ip, gw;
    unsigned prefix;
    bool has_gw;
};

/* Reads the IPv4 entries of a result's "ips" (and their gateway) and "routes". */
static int parse_prev(const cJSON *prev, struct prev_ip *ips, size_t max_ips, size_t *n_ips,
                      struct pod_route *routes, size_t max_routes, size_t *n_routes,
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
        struct pod_route r = {0};
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
    const struct pod_route *want;
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
        addr_is(d, &dst);
    if (prefix != s->want->prefix || dst != s->want->dst)
        return;
    for (int i = 0; i < rtnl_route_get_nnexthops(r); i++) {
        struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, i);
        if (rtnl_route_nh_get_ifindex(nh) != s->ifindex)
            continue;
        if (!s->want->has_gw || (addr_is(rtnl_route_nh_get_gateway(nh), &gw) && gw == s->want->gw))
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
    int rc = link_get(hsk, 0, c->bridge, br);
    if (rc < 0 || strcmp(link_kind(*br), "bridge") != 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "bridge %s not found", c->bridge);
    for (size_t i = 0; c->is_gateway && i < n_ips; i++) {
        if (!ips[i].has_gw)
            continue;
        struct addr_scan s = {
            .ifindex = rtnl_link_get_ifindex(*br), .want = ips[i].gw, .prefix = ips[i].prefix};
        if ((rc = scan_addrs(hsk, &s)) < 0)
            return nl_fail(e, rc, "could not list addresses of %s", c->bridge);
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
                     size_t n_ips, const struct pod_route *routes, size_t n_routes,
                     struct rtnl_link **pod, struct kl_cni_error *e)
{
    char s1[KL_IPAM_IP4_STRLEN], s2[KL_IPAM_IP4_STRLEN];
    int rc = link_get(psk, 0, a->ifname, pod);
    if (rc < 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "interface %s not found in netns %s",
                                a->ifname, a->netns);
    if (strcmp(link_kind(*pod), "veth") != 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "interface %s in %s is not a veth (%s)",
                                a->ifname, a->netns, link_kind(*pod));
    if (!(rtnl_link_get_flags(*pod) & IFF_UP))
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "interface %s in %s is down", a->ifname,
                                a->netns);
    int pod_index = rtnl_link_get_ifindex(*pod);
    for (size_t i = 0; i < n_ips; i++) {
        struct addr_scan s = {.ifindex = pod_index, .want = ips[i].ip, .prefix = ips[i].prefix};
        if ((rc = scan_addrs(psk, &s)) < 0)
            return nl_fail(e, rc, "could not list addresses in %s", a->netns);
        if (!s.found)
            return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                                    "Failed to match addr %s/%u on interface %s",
                                    kl_ipam_ip4_str(ips[i].ip, s1), ips[i].prefix, a->ifname);
    }
    struct nl_cache *rcache = NULL;
    if ((rc = rtnl_route_alloc_cache(psk, AF_INET, 0, &rcache)) < 0)
        return nl_fail(e, rc, "could not list routes in %s", a->netns);
    rc = 0;
    for (size_t i = 0; i < n_routes && rc == 0; i++) {
        struct pod_route want = routes[i];
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
    int rc = peer_index > 0 ? link_get(hsk, peer_index, NULL, &peer) : -NLE_OBJ_NOTFOUND;
    if (rc < 0 || strcmp(link_kind(peer), "veth") != 0 ||
        (int)rtnl_link_get_master(peer) != rtnl_link_get_ifindex(br)) {
        rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                              "the node end of %s (ifindex %d) is not a port of bridge %s",
                              a->ifname, peer_index, c->bridge);
    } else if (c->hairpin) {
        bool on = false;
        if (get_hairpin(hsk, peer_index, &on) < 0 || !on)
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
    struct nl_sock *hsk = NULL, *psk = NULL;
    struct rtnl_link *br = NULL, *pod = NULL;
    int nsfd = -1;
    struct prev_ip ips[KL_CNI_MAX_IPS];
    struct pod_route routes[MAX_POD_ROUTES];
    size_t n_ips = 0, n_routes = 0;
    int rc = kl_bridge_conf_parse(conf, c, e);
    if (rc < 0 || (rc = check_args(a, true, e)) < 0)
        goto out;
    if (!c->prev_result) {
        rc = kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "Required prevResult missing");
        goto out;
    }
    if ((rc = parse_prev(c->prev_result, ips, KL_CNI_MAX_IPS, &n_ips, routes, MAX_POD_ROUTES,
                         &n_routes, e)) < 0)
        goto out;
    if (n_ips == 0) {
        rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "prevResult has no IP addresses");
        goto out;
    }
    if ((rc = check_ipam(c, a, ips, n_ips, e)) < 0)
        goto out;
    if ((nsfd = netns_open(a->netns, e)) < 0) {
        rc = nsfd;
        goto out;
    }
    rc = -EIO;
    if (!(hsk = nl_open_in(-1, "", e)) || !(psk = nl_open_in(nsfd, a->netns, e)))
        goto out;
    if ((rc = check_bridge(hsk, c, ips, n_ips, &br, e)) < 0 ||
        (rc = check_pod(psk, a, ips, n_ips, routes, n_routes, &pod, e)) < 0 ||
        (rc = check_peer(hsk, c, a, pod, br, e)) < 0)
        goto out;
    rc = 0;
out:
    if (pod)
        rtnl_link_put(pod);
    if (br)
        rtnl_link_put(br);
    if (psk)
        nl_socket_free(psk);
    if (hsk)
        nl_socket_free(hsk);
    if (nsfd >= 0)
        close(nsfd);
    free(c);
    return rc;
}

/* ---- kubelet-facing helpers ---- */

int kl_cni_loopback_up(const char *netns_path, struct ck_error *err)
{
    struct kl_cni_error e = {0};
    int nsfd = netns_open(netns_path, &e);
    if (nsfd < 0)
        return to_ck_error(err, &e, nsfd);
    struct nl_sock *sk = nl_open_in(nsfd, netns_path, &e);
    close(nsfd);
    if (!sk)
        return to_ck_error(err, &e, -EIO);
    int rc = set_link_up_by_name(sk, "lo");
    nl_socket_free(sk);
    if (rc < 0)
        return to_ck_error(err, &e, nl_fail(&e, rc, "failed to set lo UP in %s", netns_path));
    return 0;
}

/* Runs `modprobe br_netfilter` when a modprobe binary exists; true when it exited 0. */
static bool try_modprobe_br_netfilter(void)
{
    static const char *const paths[] = {"/usr/sbin/modprobe", "/sbin/modprobe"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(paths); i++) {
        if (access(paths[i], X_OK) != 0)
            continue;
        char *const argv[] = {(char *)"modprobe", (char *)"br_netfilter", NULL};
        char *const envp[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        pid_t pid;
        if (posix_spawn(&pid, paths[i], NULL, NULL, argv, envp) != 0)
            return false;
        int st;
        while (waitpid(pid, &st, 0) < 0) {
            if (errno != EINTR)
                return false;
        }
        return WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    return false;
}

int kl_cni_node_setup(bool *br_netfilter, struct ck_error *err)
{
    static const char *const nf = "/proc/sys/net/bridge/bridge-nf-call-iptables";
    if (br_netfilter)
        *br_netfilter = false;
    int rc = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
    if (rc < 0)
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot set net.ipv4.ip_forward=1: %s",
                            strerror(-rc));
    if (access(nf, F_OK) != 0 && try_modprobe_br_netfilter())
        ck_info("cni: loaded br_netfilter");
    if (access(nf, F_OK) != 0) {
        ck_warn("cni: br_netfilter is not available (no %s): traffic between pods on one bridge "
                "bypasses iptables, so service rules do not apply to it",
                nf);
        return 0;
    }
    char cur[16] = "";
    if (read_sysctl(nf, cur, sizeof(cur)) == 0 && cur[0] == '1') {
        if (br_netfilter)
            *br_netfilter = true;
        return 0;
    }
    rc = write_sysctl(nf, "1");
    if (rc < 0) {
        ck_warn("cni: cannot set net.bridge.bridge-nf-call-iptables=1: %s", strerror(-rc));
        return 0;
    }
    if (br_netfilter)
        *br_netfilter = true;
    return 0;
}

int kl_cni_link_info(const char *netns_path, const char *ifname, struct kl_cni_link_info *out,
                     struct ck_error *err)
{
    memset(out, 0, sizeof(*out));
    struct kl_cni_error e = {0};
    int nsfd = -1;
    if (netns_path && (nsfd = netns_open(netns_path, &e)) < 0)
        return to_ck_error(err, &e, nsfd);
    struct nl_sock *sk = nl_open_in(nsfd, netns_path ? netns_path : "", &e);
    if (nsfd >= 0)
        close(nsfd);
    if (!sk)
        return to_ck_error(err, &e, -EIO);
    struct rtnl_link *l = NULL, *m = NULL;
    int rc = link_get(sk, 0, ifname, &l);
    if (rc < 0) {
        rc = nl_fail(&e, rc, "link %s", ifname);
        goto out;
    }
    out->ifindex = rtnl_link_get_ifindex(l);
    snprintf(out->kind, sizeof(out->kind), "%s", link_kind(l));
    out->up = rtnl_link_get_flags(l) & IFF_UP;
    out->mtu = rtnl_link_get_mtu(l);
    link_mac(l, out->mac, sizeof(out->mac));
    if (strcmp(out->kind, "veth") == 0)
        out->peer_ifindex = rtnl_link_get_link(l);
    int master = rtnl_link_get_master(l);
    if (master > 0 && link_get(sk, master, NULL, &m) == 0) {
        snprintf(out->master, sizeof(out->master), "%s", rtnl_link_get_name(m));
        bool on = false;
        if (get_hairpin(sk, out->ifindex, &on) == 0)
            out->hairpin = on;
    }
    rc = 0;
out:
    if (m)
        rtnl_link_put(m);
    if (l)
        rtnl_link_put(l);
    nl_socket_free(sk);
    return rc < 0 ? to_ck_error(err, &e, rc) : 0;
}
