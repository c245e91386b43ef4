/* config.h - the kubelet's configuration: its command-line flags (upstream's names, defaults
 * and help texts, plus the few ckube adds for a runtime that lives inside the kubelet), and
 * the derived, validated settings every other part reads (node name, node IP, directories).
 *
 * Flags ckube adds (upstream keeps these in containerd's config or its own config file):
 *   --registry-mirror HOST=URL   (repeatable) registry mirrors, as containerd's hosts.toml
 *   --registry-mirrors-only      never fall back to the registry itself (air-gapped nodes)
 *   --pod-logs-dir DIR           KubeletConfiguration podLogsDir (default /var/log/pods with
 *                                the default --root-dir, else <root-dir>/pods-logs so several
 *                                kubelets on one machine never share a directory)
 *   --cni-conf-dir, --cni-bin-dir the CNI locations (default <root-dir>/cni/net.d and
 *                                /opt/cni/bin:/usr/lib/cni)
 * Every path the kubelet writes lies under --root-dir (or --pod-logs-dir), and every cgroup
 * under --cgroup-root, so kubelets of a lab on one machine stay apart.
 *
 * Ownership: kl_config_parse fills a struct kl_config whose strings belong to it; release
 * with kl_config_free. Not thread-safe while parsing; read-only afterwards.
 */
#ifndef KL_CONFIG_H
#define KL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "kubelet/eviction.h"
#include "kubelet/runtime/registry.h"

#define KL_VERSION "v1.32.4"
#define KL_DEFAULT_ROOT_DIR "/var/lib/kubelet"
#define KL_DEFAULT_POD_LOGS_DIR "/var/log/pods"

struct kl_config {
    /* as given (owned copies) */
    char *kubeconfig;
    char *root_dir;    /* absolute, no trailing '/' */
    char *pod_cidr;    /* "" when not given */
    char *cgroup_root; /* "/" by default; pods go to <cgroup_root>/kubepods */
    char *pod_infra_container_image;
    char *cluster_domain;
    char **cluster_dns; /* NULL-terminated */
    size_t n_cluster_dns;
    char *resolv_conf; /* "" disables host DNS inheritance */
    char *healthz_bind_address;
    char *address;
    char **node_labels; /* "key=value", NULL-terminated */
    size_t n_node_labels;
    int max_pods;
    int healthz_port;
    int port;
    bool register_node;
    bool serialize_image_pulls;
    int64_t node_status_update_frequency; /* ns */
    int64_t node_status_report_frequency; /* ns */
    int64_t sync_frequency;               /* ns */
    int node_lease_duration_seconds;
    double kube_api_qps;
    int kube_api_burst;
    int workers; /* pod worker threads */
    /* --eviction-hard (upstream's defaults unless given) and
     * --eviction-pressure-transition-period (ns) */
    struct kl_eviction_thresholds eviction_hard;
    int64_t eviction_pressure_transition_period;

    /* derived */
    char *node_name;    /* lower-cased --hostname-override or the host name */
    char *node_ip;      /* --node-ip, or the first global IPv4 address of the host */
    char *pod_logs_dir; /* see above */
    char *cni_conf_dir, *cni_bin_dir, *cni_data_dir;
    char *runtime_dir; /* <root>/runtime: runc state, containers, sandboxes */
    char *images_dir;  /* <root>/images */
    char *pods_dir;    /* <root>/pods: per-pod volumes and files */
    char *node_cgroup; /* <cgroup_root>/kubepods */
    struct kl_registry_config registry;
};

/* Parses argv into cfg (zeroed first) and validates it. Returns 0; 1 when --help or
 * --version was handled (text written to out); or a negative errno with err->message worded
 * as upstream words it ("invalid argument ..." / "--node-ip ... is not a valid IP address").
 * cfg must be released with kl_config_free in every case. */
int kl_config_parse(struct kl_config *cfg, int argc, char **argv, FILE *out, struct ck_error *err);
void kl_config_free(struct kl_config *cfg);

/* Pure helpers, exposed for tests. */
/* Whether s is a dotted IPv4 or an IPv6 address. */
bool kl_ip_valid(const char *s);
/* Whether s is an IPv4 CIDR "a.b.c.d/n" (n <= 32); host bits may be set, as upstream's
 * net.ParseCIDR accepts them. */
bool kl_cidr4_valid(const char *s);
/* The first global-scope IPv4 address of an up, non-loopback interface that is not a pod
 * bridge or veth (cni0, veth*); "" when none. */
void kl_default_node_ip(char out[48]);

#endif
