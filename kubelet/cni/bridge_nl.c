/* kubelet/cni/bridge_nl.c - the netlink, namespace and sysctl helpers of the "ckube-bridge"
 * plugin (see bridge_internal.h), and the helpers the kubelet calls directly (see bridge.h):
 * loopback up, node sysctls, link info. */
#include "bridge.h"
#include "bridge_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_bridge.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link/bridge.h>

#include "log.h"
#include "mem.h"

/* ---- small helpers ---- */

/* Sets e from a libnl error: "<what>: <libnl message>". Returns a negative errno. */
int kl_br_nl_fail(struct kl_cni_error *e, int nlerr, const char *fmt, ...)
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

bool kl_br_nl_notfound(int nlerr)
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
struct nl_sock *kl_br_nl_open_in(int nsfd, const char *ns_name, struct kl_cni_error *e)
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
        kl_br_nl_fail(e, rc, "netlink socket");
        return NULL;
    }
    return sk;
}

/* Opens the namespace file; -ENOENT (with e) when it does not exist. */
int kl_br_netns_open(const char *path, struct kl_cni_error *e)
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

/* A NETLINK_ROUTE socket in the namespace at path (NULL: the calling thread's); NULL with e
 * and *rc set (-ENOENT for a missing namespace, -EIO otherwise) on failure. */
struct nl_sock *kl_br_nl_open_at(const char *path, int *rc, struct kl_cni_error *e)
{
    int nsfd = -1;
    if (path && (nsfd = kl_br_netns_open(path, e)) < 0) {
        *rc = nsfd;
        return NULL;
    }
    struct nl_sock *sk = kl_br_nl_open_in(nsfd, path ? path : "", e);
    if (nsfd >= 0)
        close(nsfd);
    if (!sk)
        *rc = -EIO;
    return sk;
}

int kl_br_nl_pair_open(struct kl_br_nl_pair *p, const char *netns, struct kl_cni_error *e)
{
    if ((p->nsfd = kl_br_netns_open(netns, e)) < 0)
        return p->nsfd;
    if (!(p->host = kl_br_nl_open_in(-1, "", e)) || !(p->pod = kl_br_nl_open_in(p->nsfd, netns, e)))
        return -EIO;
    return 0;
}

void kl_br_nl_pair_close(struct kl_br_nl_pair *p)
{
    if (p->pod)
        nl_socket_free(p->pod);
    if (p->host)
        nl_socket_free(p->host);
    if (p->nsfd >= 0)
        close(p->nsfd);
}

/* rtnl_link_put for a link that may be NULL. */
void kl_br_link_put(struct rtnl_link *l)
{
    if (l)
        rtnl_link_put(l);
}

struct nl_addr *kl_br_ip4_addr(uint32_t ip, unsigned prefix)
{
    uint32_t be = htonl(ip);
    struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));
    if (a)
        nl_addr_set_prefixlen(a, (int)prefix);
    return a;
}

bool kl_br_addr_is(const struct nl_addr *a, uint32_t *ip)
{
    if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4)
        return false;
    uint32_t be;
    memcpy(&be, nl_addr_get_binary_addr(a), 4);
    *ip = ntohl(be);
    return true;
}

int kl_br_link_get(struct nl_sock *sk, int ifindex, const char *name, struct rtnl_link **out)
{
    *out = NULL;
    return rtnl_link_get_kernel(sk, ifindex, name, out);
}

int kl_br_link_set_flags(struct nl_sock *sk, struct rtnl_link *link, unsigned flags)
{
    struct rtnl_link *c = rtnl_link_alloc();
    if (!c)
        return -NLE_NOMEM;
    rtnl_link_set_flags(c, flags);
    int rc = rtnl_link_change(sk, link, c, 0);
    rtnl_link_put(c);
    return rc;
}

void kl_br_link_mac(struct rtnl_link *link, char *buf, size_t size)
{
    buf[0] = '\0';
    struct nl_addr *a = rtnl_link_get_addr(link);
    if (a && nl_addr_get_len(a) == 6) {
        const unsigned char *m = nl_addr_get_binary_addr(a);
        snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    }
}

const char *kl_br_link_kind(struct rtnl_link *link)
{
    const char *t = rtnl_link_get_type(link);
    return t ? t : "";
}

/* Sets or clears the hairpin flag of a bridge port: RTM_SETLINK in the AF_BRIDGE family with
 * IFLA_PROTINFO/IFLA_BRPORT_MODE, as `bridge link set dev X hairpin on` (libnl's link change
 * cannot switch the family of a request). */
int kl_br_set_hairpin(struct nl_sock *sk, int ifindex, bool on)
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
int kl_br_get_hairpin(struct nl_sock *sk, int ifindex, bool *on)
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

int kl_br_write_sysctl(const char *path, const char *value)
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

static void scan_addr(struct nl_object *obj, void *arg)
{
    struct rtnl_addr *a = (struct rtnl_addr *)obj;
    struct kl_br_addr_scan *s = arg;
    uint32_t ip;
    if (rtnl_addr_get_ifindex(a) != s->ifindex || !kl_br_addr_is(rtnl_addr_get_local(a), &ip))
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

int kl_br_scan_addrs(struct nl_sock *sk, struct kl_br_addr_scan *s)
{
    struct nl_cache *cache = NULL;
    int rc = rtnl_addr_alloc_cache(sk, &cache);
    if (rc < 0)
        return rc;
    nl_cache_foreach(cache, scan_addr, s);
    nl_cache_free(cache);
    return 0;
}

int kl_br_set_link_up_by_name(struct nl_sock *sk, const char *name)
{
    struct rtnl_link *l;
    int rc = kl_br_link_get(sk, 0, name, &l);
    if (rc < 0)
        return rc;
    if (!(rtnl_link_get_flags(l) & IFF_UP))
        rc = kl_br_link_set_flags(sk, l, IFF_UP);
    rtnl_link_put(l);
    return rc;
}

/* ---- kubelet-facing helpers ---- */

int kl_cni_loopback_up(const char *netns_path, struct ck_error *err)
{
    struct kl_cni_error e = {0};
    int rc;
    struct nl_sock *sk = kl_br_nl_open_at(netns_path, &rc, &e);
    if (!sk)
        return to_ck_error(err, &e, rc);
    rc = kl_br_set_link_up_by_name(sk, "lo");
    nl_socket_free(sk);
    if (rc < 0)
        return to_ck_error(err, &e, kl_br_nl_fail(&e, rc, "failed to set lo UP in %s", netns_path));
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
    int rc = kl_br_write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
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
    rc = kl_br_write_sysctl(nf, "1");
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
    int rc;
    struct nl_sock *sk = kl_br_nl_open_at(netns_path, &rc, &e);
    if (!sk)
        return to_ck_error(err, &e, rc);
    struct rtnl_link *l = NULL, *m = NULL;
    rc = kl_br_link_get(sk, 0, ifname, &l);
    if (rc < 0) {
        rc = kl_br_nl_fail(&e, rc, "link %s", ifname);
        goto out;
    }
    out->ifindex = rtnl_link_get_ifindex(l);
    snprintf(out->kind, sizeof(out->kind), "%s", kl_br_link_kind(l));
    out->up = rtnl_link_get_flags(l) & IFF_UP;
    out->mtu = rtnl_link_get_mtu(l);
    kl_br_link_mac(l, out->mac, sizeof(out->mac));
    if (strcmp(out->kind, "veth") == 0)
        out->peer_ifindex = rtnl_link_get_link(l);
    int master = rtnl_link_get_master(l);
    if (master > 0 && kl_br_link_get(sk, master, NULL, &m) == 0) {
        snprintf(out->master, sizeof(out->master), "%s", rtnl_link_get_name(m));
        bool on = false;
        if (kl_br_get_hairpin(sk, out->ifindex, &on) == 0)
            out->hairpin = on;
    }
    rc = 0;
out:
    kl_br_link_put(m);
    kl_br_link_put(l);
    nl_socket_free(sk);
    return rc < 0 ? to_ck_error(err, &e, rc) : 0;
}
