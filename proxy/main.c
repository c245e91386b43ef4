/* main.c - kube-proxy (iptables mode): flags and wiring only. Informers for Services and
 * EndpointSlices (with upstream's label selector) feed the sync loop (sync.h), which writes
 * the rules with libiptc (iptc.h). Serves /healthz and /livez on --healthz-bind-address
 * (0.0.0.0:10256) and /metrics on --metrics-bind-address (127.0.0.1:10249), as upstream.
 * `--cleanup` removes every rule and chain of ours and exits.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "daemon.h"
#include "flags.h"
#include "httpd.h"
#include "informer.h"
#include "json.h"
#include "kubeconfig.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "proxy/iptc.h"
#include "proxy/rules.h"
#include "proxy/sync.h"
#include "timeutil.h"

#define NS_PER_SEC 1000000000LL

static const char *kubeconfig, *master, *hostname_override, *cluster_cidr;
static const char *healthz_bind = "0.0.0.0:10256", *metrics_bind = "127.0.0.1:10249";
static const char *proxy_mode = "iptables", *detect_local_mode = "ClusterCIDR";
static int64_t min_sync_period = 1 * NS_PER_SEC, sync_period = 30 * NS_PER_SEC;
static int64_t config_sync_period = 15 * 60 * NS_PER_SEC;
static int masquerade_bit = 14;
static bool masquerade_all, localhost_nodeports = true, cleanup;
static struct ck_flag_strings nodeport_addresses;
static double api_qps = 5;
static int api_burst = 10;

static struct ck_flag flags[] = {
    CK_STRING_FLAG("kubeconfig", &kubeconfig,
                   "Path to kubeconfig file with authorization information (the master location "
                   "can be overridden by the master flag)."),
    CK_STRING_FLAG("master", &master,
                   "The address of the Kubernetes API server (overrides any value in kubeconfig)"),
    CK_STRING_FLAG("hostname-override", &hostname_override,
                   "If non-empty, will be used as the name of the Node that kube-proxy is running "
                   "on. If unset, the node name is assumed to be the same as the node's hostname."),
    CK_STRING_FLAG("cluster-cidr", &cluster_cidr,
                   "The CIDR range of the pods in the cluster. (For dual-stack clusters, this can "
                   "be a comma-separated dual-stack pair of CIDR ranges.). When "
                   "--detect-local-mode is set to ClusterCIDR, kube-proxy will consider traffic to "
                   "be local if its source IP is in this range. (Otherwise it is not used.)"),
    CK_STRING_FLAG("detect-local-mode", &detect_local_mode,
                   "Mode to use to detect local traffic. This parameter is ignored if a config "
                   "file is specified by --config."),
    CK_STRING_FLAG("proxy-mode", &proxy_mode,
                   "Which proxy mode to use: on Linux this can be 'iptables' (default) or 'ipvs'."),
    CK_DURATION_FLAG(
        "iptables-min-sync-period", &min_sync_period,
        "The minimum period between iptables rule resyncs (e.g. '5s', '1m', '2h22m'). A value of 0 "
        "means every Service or EndpointSlice change will result in an immediate iptables resync."),
    CK_DURATION_FLAG(
        "iptables-sync-period", &sync_period,
        "An interval (e.g. '5s', '1m', '2h22m') indicating how frequently various re-synchronizing "
        "and cleanup operations are performed. Must be greater than 0."),
    CK_DURATION_FLAG(
        "config-sync-period", &config_sync_period,
        "How often configuration from the apiserver is refreshed.  Must be greater than 0."),
    CK_INT_FLAG("iptables-masquerade-bit", &masquerade_bit,
                "If using the iptables or ipvs proxy mode, the bit of the fwmark space to mark "
                "packets requiring SNAT with.  Must be within the range [0, 31]."),
    CK_BOOL_FLAG("masquerade-all", &masquerade_all,
                 "SNAT all traffic sent via Service cluster IPs. This may be required with some "
                 "CNI plugins."),
    CK_BOOL_FLAG("iptables-localhost-nodeports", &localhost_nodeports,
                 "If false, kube-proxy will disable the legacy behavior of allowing NodePort "
                 "services to be accessed via localhost. (Applies only to iptables mode and IPv4; "
                 "localhost NodePorts are never allowed with other proxy modes or with IPv6.)"),
    CK_STRINGS_FLAG("nodeport-addresses", &nodeport_addresses,
                    "A list of CIDR ranges that contain valid node IPs, or alternatively, the "
                    "single string 'primary'. If set, NodePort connections will only be accepted "
                    "on node IPs in one of the indicated ranges (or on the node's primary IP). If "
                    "unset, NodePort connections will be accepted on all local IPs."),
    CK_STRING_FLAG(
        "healthz-bind-address", &healthz_bind,
        "The IP address and port for the health check server to serve on, defaulting to "
        "\"0.0.0.0:10256\". This can be set to \"\" to disable the health check server."),
    CK_STRING_FLAG("metrics-bind-address", &metrics_bind,
                   "The IP address and port for the metrics server to serve on, defaulting to "
                   "\"127.0.0.1:10249\". (Set to \"0.0.0.0:10249\" / \"[::]:10249\" to bind on all "
                   "interfaces.) Set empty to disable."),
    CK_FLOAT_FLAG("kube-api-qps", &api_qps, "QPS to use while talking with kubernetes apiserver."),
    CK_INT_FLAG("kube-api-burst", &api_burst,
                "Burst to use while talking with kubernetes apiserver."),
    CK_BOOL_FLAG("cleanup", &cleanup, "If true cleanup iptables and ipvs rules and exit."),
    CK_FLAG_END,
};

/* ---- health and metrics servers ---------------------------------------------------------- */

struct state {
    struct kp_proxier *proxier;
    int64_t started_wall_ns;
};

/* Go's time.Time.String() for a UTC instant: "2006-01-02 15:04:05.999999999 +0000 UTC". */
static void go_time(int64_t wall_ns, char out[64])
{
    time_t s = (time_t)(wall_ns / NS_PER_SEC);
    long ns = (long)(wall_ns % NS_PER_SEC);
    struct tm tm;
    gmtime_r(&s, &tm);
    char base[32], frac[16] = "";
    strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
    if (ns) {
        snprintf(frac, sizeof(frac), ".%09ld", ns);
        for (size_t l = strlen(frac); frac[l - 1] == '0'; l--)
            frac[l - 1] = '\0';
    }
    snprintf(out, 64, "%s%s +0000 UTC", base, frac);
}

static int64_t now_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* upstream's ProxyHealthServer: 503 once a queued change waited 2 sync periods unsynced. */
static void healthz_handler(struct ck_http_req *req, void *ctx)
{
    struct state *st = ctx;
    const char *path = ck_http_path(req);
    if (strcmp(path, "/healthz") != 0 && strcmp(path, "/livez") != 0) {
        ck_http_respond(req, 404, "text/plain; charset=utf-8", "404 page not found\n", 19);
        return;
    }
    struct kp_proxier_status s;
    kp_proxier_status(st->proxier, &s);
    bool healthy = kp_proxier_healthy(st->proxier, 2 * sync_period);
    char last[64], now[64];
    go_time(s.last_sync_wall_ns > st->started_wall_ns ? s.last_sync_wall_ns : st->started_wall_ns,
            last);
    go_time(now_wall_ns(), now);
    CK_AUTOFREE char *body = ck_xasprintf(
        strcmp(path, "/healthz") == 0
            ? "{\"lastUpdated\": \"%s\",\"currentTime\": \"%s\", \"nodeEligible\": true}"
            : "{\"lastUpdated\": \"%s\",\"currentTime\": \"%s\"}",
        last, now);
    ck_http_add_header(req, "X-Content-Type-Options", "nosniff");
    ck_http_respond(req, healthy ? 200 : 503, "application/json", body, strlen(body));
}

static void metrics_handler(struct ck_http_req *req, void *ctx)
{
    (void)ctx;
    const char *path = ck_http_path(req);
    if (strcmp(path, "/metrics") == 0) {
        struct ck_buf b = CK_BUF_INIT;
        ck_metrics_write(ck_metrics_default(), &b);
        ck_http_respond(req, 200, CK_METRICS_CONTENT_TYPE, ck_buf_str(&b), b.len);
        ck_buf_free(&b);
    } else if (strcmp(path, "/healthz") == 0) {
        ck_http_respond(req, 200, "text/plain; charset=utf-8", "ok", 2);
    } else if (strcmp(path, "/proxyMode") == 0) {
        ck_http_respond(req, 200, "text/plain; charset=utf-8", "iptables", 8);
    } else {
        ck_http_respond(req, 404, "text/plain; charset=utf-8", "404 page not found\n", 19);
    }
}

/* "host:port" -> a started server; "" disables. */
static int serve(const char *hostport, ck_http_handler h, void *ctx, struct ck_httpd **out)
{
    *out = NULL;
    if (!hostport || !*hostport)
        return 0;
    const char *colon = strrchr(hostport, ':');
    if (!colon)
        return -EINVAL;
    CK_AUTOFREE char *host = ck_xstrndup(hostport, (size_t)(colon - hostport));
    struct ck_httpd_config hc = {
        .bind_address = *host ? host : NULL, .port = atoi(colon + 1), .handler = h, .ctx = ctx};
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_httpd_start(&hc, out, &err);
    if (rc < 0)
        ck_err("failed to serve on %s: %s", hostport, err.message);
    ck_error_clear(&err);
    return rc;
}

/* ---- node and host ------------------------------------------------------------------------ */

static void set_sysctl(const char *path, const char *value, bool required)
{
    FILE *f = fopen(path, "w");
    bool ok = f && fputs(value, f) >= 0;
    if (f && fclose(f) != 0)
        ok = false;
    if (ok)
        ck_info("\"Set sysctl\" entry=\"%s\" value=%s", path + strlen("/proc/sys/"), value);
    else if (required)
        ck_warn("can't set sysctl %s to %s: %s", path, value, strerror(errno));
    else
        ck_vinfo(2, "sysctl %s not set (%s)", path, strerror(errno));
}

static bool sysctl_is_set(const char *path)
{
    FILE *f = fopen(path, "r");
    int v = 0;
    bool set = f && fscanf(f, "%d", &v) == 1 && v != 0;
    if (f)
        fclose(f);
    return set;
}

struct node_info {
    cJSON *obj; /* the Node, or NULL */
    const char *ip, *zone, *pod_cidr;
};

/* Fetches our Node (upstream waits for it to exist), up to 30 s. */
static void get_node(struct ck_client *c, const char *name, struct ck_cancel *stop,
                     struct node_info *ni)
{
    memset(ni, 0, sizeof(*ni));
    struct ck_gvr nodes = CK_GVR("", "v1", "nodes");
    for (int i = 0; i < 30 && !ck_cancel_fired(stop); i++) {
        struct ck_error err = CK_ERROR_INIT;
        if (ck_client_get(c, &nodes, NULL, name, &ni->obj, &err) == 0)
            break;
        if (i == 0)
            ck_info("waiting for Node \"%s\": %s", name, err.message);
        ck_error_clear(&err);
        ck_cancel_sleep(stop, NS_PER_SEC);
    }
    if (!ni->obj) {
        ck_warn("Can't determine this node's IP, assuming loopback; if this is incorrect, please "
                "set the --bind-address flag");
        return;
    }
    const cJSON *a;
    for (int pass = 0; pass < 2 && !ni->ip; pass++) {
        cJSON_ArrayForEach(a, ck_json_get(ni->obj, "status.addresses"))
        {
            uint32_t ip;
            const char *type = ck_json_get_string(a, "type", "");
            const char *addr = ck_json_get_string(a, "address", "");
            if (strcmp(type, pass == 0 ? "InternalIP" : "ExternalIP") == 0 &&
                kp_parse_ipv4(addr, &ip) == 0) {
                ni->ip = addr;
                break;
            }
        }
    }
    ni->zone = ck_json_as_string(
        ck_json_getv(ni->obj, "metadata", "labels", "topology.kubernetes.io/zone", NULL), NULL);
    ni->pod_cidr = ck_json_get_string(ni->obj, "spec.podCIDR", NULL);
}

/* --nodeport-addresses: "primary", or CIDRs matched against this host's IPv4 addresses.
 * Returns a NULL-terminated list (caller frees each string and the list), NULL for "all". */
static char **nodeport_ips(const char *node_ip, size_t *n)
{
    *n = 0;
    if (nodeport_addresses.n == 0)
        return NULL;
    char **out = ck_xcalloc(64, sizeof(char *));
    if (nodeport_addresses.n == 1 && strcmp(nodeport_addresses.items[0], "primary") == 0) {
        if (node_ip)
            out[(*n)++] = ck_xstrdup(node_ip);
        return out;
    }
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0)
        return out;
    for (struct ifaddrs *i = ifs; i && *n < 63; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        uint32_t ip = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
        for (size_t k = 0; k < nodeport_addresses.n; k++) {
            uint32_t net;
            uint8_t len;
            if (kp_parse_cidr4(nodeport_addresses.items[k], &net, &len) < 0)
                continue;
            uint32_t mask = len ? ~((len >= 32) ? 0u : ((1u << (32 - len)) - 1)) : 0;
            if ((ip & mask) == net) {
                char s[16];
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, s, sizeof(s));
                out[(*n)++] = ck_xstrdup(s);
                break;
            }
        }
    }
    freeifaddrs(ifs);
    return out;
}

/* The conntrack tool for stale UDP entries (conntrack.h): its path in PATH or the sbin
 * directories, or NULL (logged: UDP services then keep stale flows until they time out). */
static const char *find_conntrack(void)
{
    static char found[4096];
    const char *path = getenv("PATH");
    CK_AUTOFREE char *dirs =
        ck_xasprintf("%s:/usr/sbin:/sbin:/usr/local/sbin", path && *path ? path : "/usr/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(found, sizeof(found), "%s/conntrack", *d ? d : ".");
        if (access(found, X_OK) == 0)
            return found;
    }
    ck_warn("\"conntrack\" tool not found in PATH: stale UDP conntrack entries will not be "
            "cleared (install Debian's conntrack package)");
    return NULL;
}

/* ---- informer handlers -------------------------------------------------------------------- */

static void on_add(void *ctx, const struct ck_obj *obj, bool initial)
{
    (void)obj;
    (void)initial;
    kp_proxier_request_sync(ctx);
}

static void on_update(void *ctx, const struct ck_obj *old, const struct ck_obj *cur)
{
    if (old != cur) /* a resync changes nothing */
        kp_proxier_request_sync(ctx);
}

static void on_delete(void *ctx, const struct ck_obj *obj, bool unknown)
{
    (void)obj;
    (void)unknown;
    kp_proxier_request_sync(ctx);
}

static int run_cleanup(void)
{
    struct kp_iptc_stats st;
    if (kp_iptc_cleanup(NULL, &st) < 0) {
        ck_err("\"Error cleaning up iptables rules\" err=\"%s\"", st.error);
        return 1;
    }
    ck_info("cleaned up: %zu chains and %zu jump rules removed", st.chains_deleted,
            st.jumps_removed);
    return 0;
}

int main(int argc, char **argv)
{
    if (ck_signals_block() < 0)
        return 1;
    struct ck_flags_result res;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_flags_parse(flags, argc, argv, &res, &err) < 0) {
        fprintf(stderr, "Error: %s\n", err.message);
        return 1;
    }
    if (res.help) {
        ck_flags_usage(flags, "kube-proxy", stdout);
        return 0;
    }
    if (cleanup)
        return run_cleanup();
    if (proxy_mode && *proxy_mode && strcmp(proxy_mode, "iptables") != 0) {
        ck_err("unsupported --proxy-mode \"%s\": only \"iptables\" is implemented", proxy_mode);
        return 1;
    }
    if (sync_period <= 0 || masquerade_bit < 0 || masquerade_bit > 31) {
        ck_err("invalid --iptables-sync-period or --iptables-masquerade-bit");
        return 1;
    }
    char hostname[256] = "";
    if (hostname_override && *hostname_override)
        snprintf(hostname, sizeof(hostname), "%s", hostname_override);
    else
        gethostname(hostname, sizeof(hostname) - 1);
    for (char *p = hostname; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    ck_info("\"Starting\" component=\"kube-proxy\" version=\"%s\" node=\"%s\"", CK_KUBE_VERSION,
            hostname);

    struct ck_rest_config *rc = NULL;
    if (ck_rest_config_from_flags(master, kubeconfig, &rc, &err) < 0) {
        ck_err("%s", err.message);
        return 1;
    }
    struct ck_client_opts co = {.component = "kube-proxy", .qps = api_qps, .burst = api_burst};
    struct ck_client *client = NULL;
    struct ck_cancel *stop = ck_cancel_new();
    struct ck_signals *signals = NULL;
    struct ck_informer_factory *factory = NULL;
    struct kp_proxier *proxier = NULL;
    struct ck_httpd *healthz = NULL, *metrics = NULL;
    struct node_info ni = {0};
    char **np_ips = NULL;
    size_t n_np = 0;
    int code = 1;
    if (ck_client_new(rc, &co, &client, &err) < 0) {
        ck_err("%s", err.message);
        goto out;
    }
    if (ck_signals_start(stop, &signals) < 0)
        goto out;

    /* the kernel settings service traffic needs in this (node) namespace */
    set_sysctl("/proc/sys/net/ipv4/ip_forward", "1", true);
    set_sysctl("/proc/sys/net/bridge/bridge-nf-call-iptables", "1", false);
    if (localhost_nodeports) {
        ck_info("Setting route_localnet=1 to allow node-ports on localhost; to change this either "
                "disable iptables.localhostNodePorts (--iptables-localhost-nodeports) or set "
                "nodePortAddresses (--nodeport-addresses) to filter loopback addresses");
        set_sysctl("/proc/sys/net/ipv4/conf/all/route_localnet", "1", true);
    }

    get_node(client, hostname, stop, &ni);
    struct kp_proxier_opts po = {
        .min_sync_period_ns = min_sync_period == 0 ? -1 : min_sync_period,
        .sync_period_ns = sync_period,
    };
    kp_node_config_init(&po.node);
    po.node.node_name = hostname;
    po.node.node_ip = ni.ip;
    po.node.zone = ni.zone;
    if (strcasecmp(detect_local_mode, "NodeCIDR") == 0)
        po.node.local_cidr = ni.pod_cidr;
    else if (strcasecmp(detect_local_mode, "ClusterCIDR") == 0)
        po.node.local_cidr = cluster_cidr;
    if (!po.node.local_cidr || !*po.node.local_cidr)
        ck_info("\"Detect-local-mode set to %s, but no %s defined\"", detect_local_mode,
                strcasecmp(detect_local_mode, "NodeCIDR") == 0 ? "PodCIDR" : "cluster CIDR");
    po.node.masquerade_bit = masquerade_bit;
    po.node.masquerade_all = masquerade_all;
    po.node.localhost_nodeports = localhost_nodeports;
    po.node.conntrack_tcp_liberal =
        sysctl_is_set("/proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal");
    po.conntrack_tool = find_conntrack();
    np_ips = nodeport_ips(ni.ip, &n_np);
    po.node.nodeport_ips = (const char *const *)np_ips;
    po.node.n_nodeport_ips = n_np;

    /* upstream's informer factory: both types, headless and foreign-proxy objects filtered */
    struct ck_informer_opts io = {
        .label_selector =
            "!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name",
        .resync_ns = config_sync_period,
    };
    factory = ck_informer_factory_new(client, &io);
    struct ck_informer *svc_inf = ck_informer_factory_get(factory, &CK_GVR("", "v1", "services"));
    struct ck_informer *eps_inf =
        ck_informer_factory_get(factory, &CK_GVR("discovery.k8s.io", "v1", "endpointslices"));
    po.services = ck_informer_store(svc_inf);
    po.slices = ck_informer_store(eps_inf);
    if (kp_proxier_new(&po, &proxier) < 0) {
        ck_err("invalid proxier configuration");
        goto out;
    }
    struct ck_event_handler h = {on_add, on_update, on_delete, proxier};
    ck_informer_add_handler(svc_inf, &h, 0);
    ck_informer_add_handler(eps_inf, &h, 0);

    struct state st = {proxier, now_wall_ns()};
    if (serve(healthz_bind, healthz_handler, &st, &healthz) < 0 ||
        serve(metrics_bind, metrics_handler, NULL, &metrics) < 0)
        goto out;
    ck_informer_factory_start(factory);
    if (ck_informer_factory_wait_for_sync(factory, stop, -1) < 0)
        goto stopped;
    ck_info("\"Caches are synced\" controller=\"service config\"");
    ck_info("\"Caches are synced\" controller=\"endpoint slice config\"");
    /* upstream syncs unconditionally once both caches are synced, then loops */
    kp_proxier_request_sync(proxier);
    kp_proxier_run(proxier, stop);
stopped:
    if (signals && ck_signals_received(signals))
        ck_info("Received signal, exiting");
    code = 0;
out:
    ck_signals_stop(signals);
    ck_httpd_stop(healthz);
    ck_httpd_stop(metrics);
    ck_informer_factory_free(factory);
    kp_proxier_free(proxier);
    if (np_ips)
        for (size_t i = 0; i < n_np; i++)
            free(np_ips[i]);
    free(np_ips);
    cJSON_Delete(ni.obj);
    ck_client_free(client);
    ck_cancel_free(stop);
    ck_rest_config_free(rc);
    ck_error_clear(&err);
    ck_flags_free(flags);
    return code;
}
