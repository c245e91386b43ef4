/* config.c - the kubelet's flags and derived settings (see config.h). */
#include "kubelet/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "flags.h"
#include "log.h"
#include "mem.h"
#include "timeutil.h"

bool kl_ip_valid(const char *s)
{
    unsigned char b[16];
    return s && (inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1);
}

bool kl_cidr4_valid(const char *s)
{
    if (!s)
        return false;
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || (size_t)(slash - s) >= 16)
        return false;
    char ip[16];
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    struct in_addr a;
    if (inet_pton(AF_INET, ip, &a) != 1)
        return false;
    const char *p = slash + 1;
    if (!*p || strlen(p) > 2)
        return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    return atoi(p) <= 32;
}

void kl_default_node_ip(char out[48])
{
    out[0] = '\0';
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) < 0)
        return;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
            (i->ifa_flags & IFF_LOOPBACK))
            continue;
        if (!strcmp(i->ifa_name, "cni0") || !strncmp(i->ifa_name, "veth", 4))
            continue;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
        uint32_t a = ntohl(sin->sin_addr.s_addr);
        if ((a >> 24) == 127 || (a >> 16) == 0xa9fe) /* loopback, link-local */
            continue;
        inet_ntop(AF_INET, &sin->sin_addr, out, 48);
        break;
    }
    freeifaddrs(ifa);
}

static char **strv_from_flag(const struct ck_flag_strings *l, size_t *n)
{
    char **v = ck_xcalloc(l->n + 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i] && l->items[i][0])
            v[k++] = ck_xstrdup(l->items[i]);
    *n = k;
    return v;
}

static void strv_free(char **v)
{
    if (!v)
        return;
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

void kl_config_free(struct kl_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->kubeconfig);
    free(cfg->root_dir);
    free(cfg->pod_cidr);
    free(cfg->cgroup_root);
    free(cfg->pod_infra_container_image);
    free(cfg->cluster_domain);
    strv_free(cfg->cluster_dns);
    free(cfg->resolv_conf);
    free(cfg->healthz_bind_address);
    free(cfg->address);
    strv_free(cfg->node_labels);
    free(cfg->node_name);
    free(cfg->node_ip);
    free(cfg->pod_logs_dir);
    free(cfg->cni_conf_dir);
    free(cfg->cni_bin_dir);
    free(cfg->cni_data_dir);
    free(cfg->runtime_dir);
    free(cfg->images_dir);
    free(cfg->pods_dir);
    free(cfg->node_cgroup);
    kl_registry_config_free(&cfg->registry);
    memset(cfg, 0, sizeof(*cfg));
}

/* the values the flag table points at (reset by ck_flags_free after each parse) */
struct flagvals {
    const char *kubeconfig, *hostname_override, *node_ip, *root_dir, *pod_cidr, *cgroup_root;
    const char *pod_infra, *cluster_domain, *resolv_conf, *healthz_bind, *address;
    const char *pod_logs_dir, *cni_conf_dir, *cni_bin_dir, *runtime_endpoint, *config;
    const char *eviction_hard; /* NULL: not given */
    struct ck_flag_strings mirrors, cluster_dns;
    struct ck_flag_map node_labels;
    int max_pods, healthz_port, port, lease_seconds, api_burst;
    bool register_node, serialize_pulls, fail_swap_on, version, mirrors_only;
    int64_t status_update, status_report, sync, pressure_transition;
    double api_qps;
};

static char *trim_slashes(const char *p)
{
    char *s = ck_xstrdup(p);
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        s[--n] = '\0';
    return s;
}

static char *lower_dup(const char *s)
{
    char *r = ck_xstrdup(s);
    for (char *p = r; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return r;
}

/* <root>/kubepods, as upstream's cgroupfs driver names the node-level cgroup */
static char *node_cgroup_of(const char *root)
{
    if (!root[0] || !strcmp(root, "/"))
        return ck_xstrdup("/kubepods");
    return ck_xasprintf("%s/kubepods", root);
}

static int derive(struct kl_config *cfg, const struct flagvals *v, struct ck_error *err)
{
    if (!v->root_dir[0] || v->root_dir[0] != '/')
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "--root-dir %s must be an absolute path", v->root_dir);
    cfg->root_dir = trim_slashes(v->root_dir);
    cfg->kubeconfig = ck_xstrdup(v->kubeconfig ? v->kubeconfig : "");
    cfg->pod_cidr = ck_xstrdup(v->pod_cidr ? v->pod_cidr : "");
    if (cfg->pod_cidr[0] && !kl_cidr4_valid(cfg->pod_cidr))
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "invalid argument \"%s\" for \"--pod-cidr\" flag: invalid CIDR address",
                            cfg->pod_cidr);
    const char *cgr = v->cgroup_root ? v->cgroup_root : "";
    if (cgr[0] && cgr[0] != '/')
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "invalid configuration: cgroupRoot (--cgroup-root) %s must be an "
                            "absolute path",
                            cgr);
    cfg->cgroup_root = trim_slashes(cgr[0] ? cgr : "/");
    cfg->node_cgroup = node_cgroup_of(cfg->cgroup_root);
    cfg->pod_infra_container_image = ck_xstrdup(v->pod_infra ? v->pod_infra : "");
    cfg->cluster_domain = ck_xstrdup(v->cluster_domain ? v->cluster_domain : "");
    cfg->cluster_dns = strv_from_flag(&v->cluster_dns, &cfg->n_cluster_dns);
    for (size_t i = 0; i < cfg->n_cluster_dns; i++)
        if (!kl_ip_valid(cfg->cluster_dns[i]))
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                "invalid configuration: clusterDNS (--cluster-dns) %s is not a "
                                "valid IP address",
                                cfg->cluster_dns[i]);
    cfg->resolv_conf = ck_xstrdup(v->resolv_conf ? v->resolv_conf : "");
    cfg->healthz_bind_address = ck_xstrdup(v->healthz_bind ? v->healthz_bind : "127.0.0.1");
    cfg->address = ck_xstrdup(v->address ? v->address : "0.0.0.0");
    if (v->max_pods <= 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "invalid configuration: maxPods (--max-pods) %d must not be a "
                            "negative integer or zero",
                            v->max_pods);
    if (v->healthz_port < 0 || v->healthz_port > 65535)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "invalid configuration: healthzPort (--healthz-port) %d must be "
                            "between 1 and 65535, inclusive",
                            v->healthz_port);
    if (v->port < 1 || v->port > 65535)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "invalid configuration: port (--port) %d must be between 1 and "
                            "65535, inclusive",
                            v->port);
    if (v->status_update <= 0 || v->sync <= 0 || v->lease_seconds <= 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "invalid configuration: nodeStatusUpdateFrequency, syncFrequency and "
                            "nodeLeaseDurationSeconds must be positive");
    cfg->max_pods = v->max_pods;
    cfg->healthz_port = v->healthz_port;
    cfg->port = v->port;
    cfg->register_node = v->register_node;
    cfg->serialize_image_pulls = v->serialize_pulls;
    cfg->node_status_update_frequency = v->status_update;
    cfg->node_status_report_frequency = v->status_report;
    cfg->sync_frequency = v->sync;
    cfg->node_lease_duration_seconds = v->lease_seconds;
    cfg->kube_api_qps = v->api_qps;
    cfg->kube_api_burst = v->api_burst;
    cfg->workers = 16;
    if (v->pressure_transition < 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "invalid configuration: evictionPressureTransitionPeriod must not be "
                            "negative");
    cfg->eviction_pressure_transition_period = v->pressure_transition;
    if (!v->eviction_hard) {
        kl_eviction_defaults(&cfg->eviction_hard);
    } else {
        struct ck_error ee = CK_ERROR_INIT;
        if (kl_eviction_parse(v->eviction_hard, &cfg->eviction_hard, &ee) < 0) {
            ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                         "invalid argument \"%s\" for \"--eviction-hard\" flag: %s",
                         v->eviction_hard, ee.message);
            ck_error_clear(&ee);
            return -EINVAL;
        }
    }

    /* node labels, in the flag's order */
    cfg->node_labels = ck_xcalloc(v->node_labels.n + 1, sizeof(char *));
    for (size_t i = 0; i < v->node_labels.n; i++)
        cfg->node_labels[cfg->n_node_labels++] =
            ck_xasprintf("%s=%s", v->node_labels.keys[i], v->node_labels.values[i]);

    /* node name: --hostname-override or the host name, lower-cased as upstream */
    char host[256] = "";
    if (v->hostname_override && v->hostname_override[0])
        ck_strlcpy(host, v->hostname_override, sizeof(host));
    else if (gethostname(host, sizeof(host) - 1) < 0)
        host[0] = '\0';
    char *h = host;
    while (isspace((unsigned char)*h))
        h++;
    size_t hl = strlen(h);
    while (hl > 0 && isspace((unsigned char)h[hl - 1]))
        h[--hl] = '\0';
    if (!h[0])
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "empty hostname is invalid");
    cfg->node_name = lower_dup(h);

    if (v->node_ip && v->node_ip[0]) {
        if (!kl_ip_valid(v->node_ip))
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                "failed to parse node IP: \"%s\" is not a valid IP address",
                                v->node_ip);
        cfg->node_ip = ck_xstrdup(v->node_ip);
    } else {
        char ip[48];
        kl_default_node_ip(ip);
        cfg->node_ip = ck_xstrdup(ip);
    }

    if (v->pod_logs_dir && v->pod_logs_dir[0])
        cfg->pod_logs_dir = trim_slashes(v->pod_logs_dir);
    else if (!strcmp(cfg->root_dir, KL_DEFAULT_ROOT_DIR))
        cfg->pod_logs_dir = ck_xstrdup(KL_DEFAULT_POD_LOGS_DIR);
    else
        cfg->pod_logs_dir = ck_xasprintf("%s/pods-logs", cfg->root_dir);
    if (cfg->pod_logs_dir[0] != '/')
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "--pod-logs-dir %s must be an absolute path", cfg->pod_logs_dir);
    cfg->cni_conf_dir = v->cni_conf_dir && v->cni_conf_dir[0]
                            ? trim_slashes(v->cni_conf_dir)
                            : ck_xasprintf("%s/cni/net.d", cfg->root_dir);
    cfg->cni_bin_dir = ck_xstrdup(
        v->cni_bin_dir && v->cni_bin_dir[0] ? v->cni_bin_dir : "/opt/cni/bin:/usr/lib/cni");
    cfg->cni_data_dir = ck_xasprintf("%s/cni", cfg->root_dir);
    cfg->runtime_dir = ck_xasprintf("%s/runtime", cfg->root_dir);
    cfg->images_dir = ck_xasprintf("%s/images", cfg->root_dir);
    cfg->pods_dir = ck_xasprintf("%s/pods", cfg->root_dir);

    cfg->registry.mirrors_only = v->mirrors_only;
    for (size_t i = 0; i < v->mirrors.n; i++) {
        if (!v->mirrors.items[i] || !v->mirrors.items[i][0])
            continue;
        int rc = kl_registry_config_add_mirror(&cfg->registry, v->mirrors.items[i], err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int kl_config_parse(struct kl_config *cfg, int argc, char **argv, FILE *out, struct ck_error *err)
{
    memset(cfg, 0, sizeof(*cfg));
    struct flagvals v;
    memset(&v, 0, sizeof(v));
    v.root_dir = KL_DEFAULT_ROOT_DIR;
    v.pod_infra = "registry.k8s.io/pause:3.10";
    v.resolv_conf = "/etc/resolv.conf";
    v.healthz_bind = "127.0.0.1";
    v.address = "0.0.0.0";
    v.runtime_endpoint = "unix:///run/containerd/containerd.sock";
    v.max_pods = 110;
    v.healthz_port = 10248;
    v.port = 10250;
    v.lease_seconds = 40;
    v.register_node = true;
    v.serialize_pulls = true;
    v.fail_swap_on = true;
    v.status_update = 10 * CK_SECOND;
    v.status_report = 5 * CK_MINUTE;
    v.sync = CK_MINUTE;
    v.pressure_transition = 5 * CK_MINUTE;
    v.api_qps = 50;
    v.api_burst = 100;
    struct ck_flag flags[] = {
        CK_STRING_FLAG("kubeconfig", &v.kubeconfig,
                       "Path to a kubeconfig file, specifying how to connect to the API server. "
                       "Providing --kubeconfig enables API server mode, omitting --kubeconfig "
                       "enables standalone mode."),
        CK_STRING_FLAG("hostname-override", &v.hostname_override,
                       "If non-empty, will use this string as identification instead of the "
                       "actual hostname."),
        CK_STRING_FLAG("node-ip", &v.node_ip,
                       "IP address of the node. If unset, kubelet will use the node's default "
                       "IPv4 address, if any."),
        CK_STRING_FLAG("root-dir", &v.root_dir,
                       "Directory path for managing kubelet files (volume mounts,etc)."),
        CK_STRING_FLAG("pod-cidr", &v.pod_cidr,
                       "The CIDR to use for pod IP addresses, only used in standalone mode.  In "
                       "cluster mode, this is obtained from the master."),
        CK_STRINGS_FLAG("registry-mirror", &v.mirrors,
                        "A registry mirror as HOST=URL (docker.io=http://10.250.0.1:5000); "
                        "repeatable, tried in order before the registry itself. '*' as HOST "
                        "mirrors every registry."),
        CK_BOOL_FLAG("registry-mirrors-only", &v.mirrors_only,
                     "Pull only through the --registry-mirror endpoints, never from the registry "
                     "an image names (air-gapped nodes, as containerd's hosts.toml with the "
                     "mirror as server)."),
        CK_STRING_FLAG("cgroup-root", &v.cgroup_root,
                       "Optional root cgroup to use for pods. This is handled by the container "
                       "runtime on a best effort basis. Default: '', which means use the "
                       "container runtime default."),
        CK_INT_FLAG("max-pods", &v.max_pods, "Number of Pods that can run on this Kubelet."),
        CK_MAP_FLAG("node-labels", &v.node_labels,
                    "<Warning: Alpha feature> Labels to add when registering the node in the "
                    "cluster.  Labels must be key=value pairs separated by ','."),
        CK_BOOL_FLAG("register-node", &v.register_node,
                     "Register the node with the apiserver. If --kubeconfig is not provided, "
                     "this flag is irrelevant, as the Kubelet won't have an apiserver to "
                     "register with."),
        CK_INT_FLAG("healthz-port", &v.healthz_port,
                    "The port of the localhost healthz endpoint (set to 0 to disable)"),
        CK_STRING_FLAG("healthz-bind-address", &v.healthz_bind,
                       "The IP address for the healthz server to serve on (set to '0.0.0.0' or "
                       "'::' for listening in all interfaces and IP families)"),
        CK_INT_FLAG("port", &v.port, "The port for the Kubelet to serve on."),
        CK_STRING_FLAG("address", &v.address,
                       "The IP address for the Kubelet to serve on (set to '0.0.0.0' or '::' for "
                       "listening in all interfaces and IP families)"),
        CK_STRING_FLAG("pod-infra-container-image", &v.pod_infra,
                       "Specified image will not be pruned by the image garbage collector. CRI "
                       "implementations have their own configuration to set this image.",
                       .deprecated = "will be removed in 1.35. Image garbage collector will get "
                                     "sandbox image information from CRI."),
        CK_STRINGS_FLAG("cluster-dns", &v.cluster_dns,
                        "Comma-separated list of DNS server IP address.  This value is used for "
                        "containers DNS server in case of Pods with \"dnsPolicy=ClusterFirst\"."),
        CK_STRING_FLAG("cluster-domain", &v.cluster_domain,
                       "Domain for this cluster.  If set, kubelet will configure all containers "
                       "to search this domain in addition to the host's search domains"),
        CK_STRING_FLAG("resolv-conf", &v.resolv_conf,
                       "Resolver configuration file used as the basis for the container DNS "
                       "resolution configuration."),
        CK_DURATION_FLAG("node-status-update-frequency", &v.status_update,
                         "Specifies how often kubelet posts node status to master. Note: be "
                         "cautious when changing the constant, it must work with "
                         "nodeMonitorGracePeriod in nodecontroller."),
        CK_DURATION_FLAG("node-status-report-frequency", &v.status_report,
                         "How often the kubelet posts an unchanged node status (the Lease is "
                         "the heartbeat)."),
        CK_STRING_FLAG("eviction-hard", &v.eviction_hard,
                       "A set of eviction thresholds (e.g. memory.available<1Gi) that if met "
                       "would trigger a pod eviction. (default imagefs.available<15%,"
                       "imagefs.inodesFree<5%,memory.available<100Mi,nodefs.available<10%,"
                       "nodefs.inodesFree<5%)",
                       .type_name = "mapStringString"),
        CK_DURATION_FLAG("eviction-pressure-transition-period", &v.pressure_transition,
                         "Duration for which the kubelet has to wait before transitioning out "
                         "of an eviction pressure condition."),
        CK_DURATION_FLAG("sync-frequency", &v.sync,
                         "Max period between synchronizing running containers and config"),
        CK_INT_FLAG("node-lease-duration-seconds", &v.lease_seconds,
                    "The duration in seconds of the node's Lease in kube-node-lease."),
        CK_BOOL_FLAG("serialize-image-pulls", &v.serialize_pulls, "Pull images one at a time."),
        CK_FLOAT_FLAG("kube-api-qps", &v.api_qps,
                      "QPS to use while talking with kubernetes apiserver"),
        CK_INT_FLAG("kube-api-burst", &v.api_burst,
                    "Burst to use while talking with kubernetes apiserver"),
        CK_STRING_FLAG("pod-logs-dir", &v.pod_logs_dir,
                       "Directory of the containers' CRI log files "
                       "(<dir>/<namespace>_<pod>_<uid>/<container>/<n>.log). Default: "
                       "/var/log/pods with the default --root-dir, else <root-dir>/pods-logs."),
        CK_STRING_FLAG(
            "cni-conf-dir", &v.cni_conf_dir,
            "Directory of the CNI network configuration. Default: <root-dir>/cni/net.d."),
        CK_STRING_FLAG("cni-bin-dir", &v.cni_bin_dir,
                       "Directories (':'-separated) holding CNI plugin binaries. Default: "
                       "/opt/cni/bin:/usr/lib/cni."),
        CK_STRING_FLAG("container-runtime-endpoint", &v.runtime_endpoint,
                       "The endpoint of remote runtime service. Accepted for compatibility: "
                       "ckube's kubelet drives runc itself."),
        CK_BOOL_FLAG("fail-swap-on", &v.fail_swap_on,
                     "Makes the Kubelet fail to start if swap is enabled on the node. "),
        CK_STRING_FLAG("config", &v.config,
                       "The Kubelet will load its initial configuration from this file. Not "
                       "supported yet: flags only."),
        CK_BOOL_FLAG("version", &v.version, "Print version information and quit"),
        CK_FLAG_END,
    };
    struct ck_flags_result res;
    int rc = ck_flags_parse(flags, argc, argv, &res, err);
    if (rc == 0 && res.help) {
        fprintf(out, "The kubelet is the primary \"node agent\" that runs on each node.\n\n"
                     "Usage:\n  kubelet [flags]\n\nFlags:\n");
        ck_flags_usage(flags, "kubelet", out);
        rc = 1;
    } else if (rc == 0 && v.version) {
        fprintf(out, "Kubernetes %s\n", KL_VERSION);
        rc = 1;
    } else if (rc == 0 && res.nargs > 0) {
        rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "unknown command \"%s\" for \"kubelet\"",
                          res.args[0]);
    } else if (rc == 0 && v.config && v.config[0]) {
        rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                          "--config %s: kubelet configuration files are not supported yet",
                          v.config);
    } else if (rc == 0) {
        rc = derive(cfg, &v, err);
    }
    ck_flags_free(flags);
    return rc;
}
