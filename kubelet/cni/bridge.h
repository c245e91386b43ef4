/* kubelet/cni/bridge.h - the "ckube-bridge" CNI plugin: a Linux bridge on the node with one veth
 * pair per pod and host-local IPAM (ipam.c), written with libnl-route-3. It follows upstream's
 * "bridge" plugin (containernetworking/plugins) in config fields, defaults and result shape, so
 * a config can name either one.
 *
 * ADD: creates the bridge (default "cni0") if missing and brings it up; allocates an address;
 *   creates a veth pair whose pod end is born inside the pod's network namespace under CNI_IFNAME
 *   (eth0) and whose node end ("veth" + 8 hex digits) joins the bridge with the bridge port's
 *   hairpin flag when "hairpinMode" is set; gives eth0 the address/prefix, brings it and "lo" up,
 *   installs the ipam routes (and 0.0.0.0/0 via the gateway when "isDefaultGateway"); with
 *   "isGateway" puts the gateway address on the bridge and turns on net.ipv4.ip_forward.
 *   A failed ADD undoes what it did (address released, veth removed).
 * DEL: releases the address, then deletes CNI_IFNAME in the namespace (which removes the pair);
 *   a missing namespace or interface is success, so DEL is idempotent.
 * CHECK: verifies the allocation, the bridge (and its gateway address), eth0 with the result's
 *   addresses, its veth peer on the bridge (and hairpin), and the result's routes.
 *
 * Config fields (upstream's names and defaults): bridge ("cni0"), isGateway (false),
 * isDefaultGateway (false; implies isGateway), forceAddress (false), hairpinMode (false),
 * promiscMode (false), mtu (0 = kernel default), ipam (type "host-local" only, in-process).
 * "ipMasq": true is refused: ckube never masquerades pod traffic to the outside; kube-proxy owns
 * service NAT. VLAN options are refused as unsupported.
 *
 * Namespaces: the node side is the calling thread's network namespace; the pod side is reached
 * by opening netlink sockets inside CNI_NETNS (setns on the calling thread only, switched back at
 * once), so the functions are safe to call from several threads.
 */
#ifndef KL_BRIDGE_H
#define KL_BRIDGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "cni.h"
#include "error.h"
#include "ipam.h"

#define KL_BRIDGE_DEFAULT_NAME "cni0"
/* IFNAMSIZ (kept here so users need not mix <net/if.h> with libnl's <linux/if.h>). */
#define KL_IFNAMSIZ 16

struct kl_bridge_conf {
    char name[256];           /* network name */
    char cni_version[16];     /* the config's cniVersion: the result is written in it */
    char bridge[KL_IFNAMSIZ]; /* bridge device */
    bool is_gateway, is_default_gw, force_address, hairpin, promisc;
    int mtu;
    struct kl_ipam_conf ipam;
    const cJSON *prev_result; /* borrowed from the parsed config, NULL when none */
};

/* Parses one plugin config (as found on stdin) into c; prev_result borrows from conf. */
int kl_bridge_conf_parse(const cJSON *conf, struct kl_bridge_conf *c, struct kl_cni_error *e);

/* The plugin commands on one parsed JSON config. *result (ADD) is a CNI result object in the
 * config's cniVersion, owned by the caller. */
int kl_cni_bridge_add(const struct kl_cni_args *a, const cJSON *conf, cJSON **result,
                      struct kl_cni_error *e);
int kl_cni_bridge_del(const struct kl_cni_args *a, const cJSON *conf, struct kl_cni_error *e);
int kl_cni_bridge_check(const struct kl_cni_args *a, const cJSON *conf, struct kl_cni_error *e);

/* Brings "lo" up inside the namespace at netns_path (what runtimes do for every sandbox). */
int kl_cni_loopback_up(const char *netns_path, struct ck_error *err);

/* Node sysctls the pod network needs, in the calling thread's network namespace:
 * net.ipv4.ip_forward=1 (an error when it cannot be set), and
 * net.bridge.bridge-nf-call-iptables=1 so kube-proxy's rules see bridged pod-to-pod traffic;
 * when br_netfilter is missing, `modprobe br_netfilter` is tried and, failing that, a warning
 * is logged (not an error). Sets *br_netfilter (may be NULL) to whether the sysctl is on. */
int kl_cni_node_setup(bool *br_netfilter, struct ck_error *err);

/* What the node side knows about one interface (for CHECK and tests). */
struct kl_cni_link_info {
    int ifindex;
    char kind[16];            /* "veth", "bridge", "" for none */
    char master[KL_IFNAMSIZ]; /* bridge it is a port of, "" for none */
    bool up;
    bool hairpin; /* bridge port hairpin flag */
    unsigned mtu;
    int peer_ifindex; /* veth: peer's ifindex (in the peer's namespace), else 0 */
    char mac[24];
};
/* Looks ifname up in the namespace at netns_path (NULL: the calling thread's); -ENOENT when
 * missing. */
int kl_cni_link_info(const char *netns_path, const char *ifname, struct kl_cni_link_info *out,
                     struct ck_error *err);

#endif
