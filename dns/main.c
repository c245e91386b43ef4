/* main.c - ckube-dns, the cluster DNS server (CoreDNS with kubeadm's Corefile): flags and
 * wiring only. Informers for Services and EndpointSlices (discovery.k8s.io/v1) feed the zone
 * (zone.h) served over UDP and TCP (server.h); names outside the zone go to the nameservers
 * of /etc/resolv.conf (or --upstream). HTTP endpoints as CoreDNS' plugins: /health on
 * --health-port (8080), /ready on --ready-port (8181, 200 once the informers synced),
 * /metrics on --metrics-port (9153).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "daemon.h"
#include "dns/server.h"
#include "dns/zone.h"
#include "flags.h"
#include "httpd.h"
#include "informer.h"
#include "kubeconfig.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"

#define NS_PER_SEC 1000000000LL

static const char *kubeconfig, *apiserver, *domain = "cluster.local", *bind_address = "0.0.0.0";
static const char *resolv_conf = "/etc/resolv.conf";
static struct ck_flag_strings upstream_flag;
static int port = 53, health_port = 8080, ready_port = 8181, metrics_port = 9153, ttl = 30;

static struct ck_flag flags[] = {
    CK_STRING_FLAG("kubeconfig", &kubeconfig,
                   "Path to a kubeconfig file; without it and --apiserver, the in-cluster "
                   "configuration (KUBERNETES_SERVICE_HOST/PORT and the service account)."),
    CK_STRING_FLAG("apiserver", &apiserver,
                   "The address of the Kubernetes API server (overrides any value in kubeconfig)."),
    CK_STRING_FLAG("domain", &domain, "The cluster domain served."),
    CK_INT_FLAG("port", &port, "The port DNS is served on, UDP and TCP."),
    CK_STRING_FLAG("bind-address", &bind_address, "The IPv4 address DNS is served on."),
    CK_INT_FLAG("ttl", &ttl,
                "The TTL of answers in seconds (CoreDNS' kubernetes plugin's ttl option)."),
    CK_STRINGS_FLAG("upstream", &upstream_flag,
                    "Nameservers (ip[:port]) for names outside the cluster domain; default: the "
                    "nameservers of --resolv-conf. \"none\" disables forwarding."),
    CK_STRING_FLAG("resolv-conf", &resolv_conf, "The resolv.conf the upstreams are read from."),
    CK_INT_FLAG("health-port", &health_port, "The port of /health (0: off)."),
    CK_INT_FLAG("ready-port", &ready_port, "The port of /ready (0: off)."),
    CK_INT_FLAG("metrics-port", &metrics_port, "The port of /metrics (0: off)."),
    CK_FLAG_END,
};

struct state {
    struct ck_informer *svc_inf, *eps_inf;
    struct dns_server *server;
};

static void respond_text(struct ck_http_req *req, int code, const char *text)
{
    ck_http_respond(req, code, "text/plain; charset=utf-8", text, strlen(text));
}

/* CoreDNS' health, ready and prometheus plugins, one handler for the three ports. */
static void http_handler(struct ck_http_req *req, void *ctx)
{
    struct state *st = ctx;
    const char *path = ck_http_path(req);
    if (strcmp(path, "/health") == 0) {
        respond_text(req, 200, "OK");
    } else if (strcmp(path, "/ready") == 0) {
        bool ready = ck_informer_has_synced(st->svc_inf) && ck_informer_has_synced(st->eps_inf);
        respond_text(req, ready ? 200 : 503, ready ? "OK" : "kubernetes");
    } else if (strcmp(path, "/metrics") == 0) {
        struct ck_buf b = CK_BUF_INIT;
        ck_metrics_write(ck_metrics_default(), &b);
        ck_http_respond(req, 200, CK_METRICS_CONTENT_TYPE, ck_buf_str(&b), b.len);
        ck_buf_free(&b);
    } else {
        respond_text(req, 404, "404 page not found\n");
    }
}

/* Every change moves the SOA serial to now (CoreDNS: the time of the last modification). */
static void touch(struct state *st)
{
    if (st->server)
        dns_server_set_serial(st->server, (uint32_t)time(NULL));
}
static void on_add(void *ctx, const struct ck_obj *o, bool initial)
{
    (void)o;
    (void)initial;
    touch(ctx);
}
static void on_update(void *ctx, const struct ck_obj *old, const struct ck_obj *cur)
{
    if (old != cur)
        touch(ctx);
}
static void on_delete(void *ctx, const struct ck_obj *o, bool unknown)
{
    (void)o;
    (void)unknown;
    touch(ctx);
}

static int serve_http(int p, struct state *st, struct ck_httpd **out)
{
    *out = NULL;
    if (p <= 0)
        return 0;
    struct ck_httpd_config hc = {
        .bind_address = NULL, .port = p, .handler = http_handler, .ctx = st};
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_httpd_start(&hc, out, &err);
    if (rc < 0)
        ck_err("failed to serve HTTP on :%d: %s", p, err.message);
    ck_error_clear(&err);
    return rc;
}

int main(int argc, char **argv)
{
    if (ck_signals_block() < 0)
        return 1;
    struct ck_flags_result res;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_flags_parse(flags, argc, argv, &res, &err) < 0) {
        fprintf(stderr, "Error: %s\n", err.message);
        ck_error_clear(&err);
        ck_flags_free(flags);
        return 1;
    }
    if (res.help) {
        ck_flags_usage(flags, "ckube-dns", stdout);
        ck_flags_free(flags);
        return 0;
    }
    if (port < 0 || port > 65535 || health_port < 0 || health_port > 65535 || ready_port < 0 ||
        ready_port > 65535 || metrics_port < 0 || metrics_port > 65535 || ttl < 0 || ttl > 3600) {
        fprintf(stderr, "Error: ports must be in [0, 65535] and --ttl in [0, 3600]\n");
        ck_flags_free(flags);
        return 1;
    }
    char *zone_name = ck_xstrdup(domain);
    dns_name_lower(zone_name);
    for (size_t l = strlen(zone_name); l && zone_name[l - 1] == '.'; l--)
        zone_name[l - 1] = '\0';

    /* upstreams: --upstream, else the resolv.conf nameservers */
    char *ups[DNS_MAX_UPSTREAMS + 1] = {0};
    size_t n_ups = 0;
    if (upstream_flag.n > 0) {
        for (size_t i = 0; i < upstream_flag.n && n_ups < DNS_MAX_UPSTREAMS; i++)
            if (strcmp(upstream_flag.items[i], "none") != 0 && *upstream_flag.items[i])
                ups[n_ups++] = ck_xstrdup(upstream_flag.items[i]);
    } else {
        n_ups = dns_read_resolv_conf(resolv_conf, ups, DNS_MAX_UPSTREAMS);
    }
    ck_info("\"Starting\" component=\"ckube-dns\" version=\"%s\" zone=\"%s\" port=%d "
            "upstreams=%zu",
            CK_KUBE_VERSION, zone_name, port, n_ups);

    int code = 1;
    struct ck_rest_config *rc = NULL;
    struct ck_client *client = NULL;
    struct ck_informer_factory *factory = NULL;
    struct ck_cancel *stop = ck_cancel_new();
    struct ck_signals *signals = NULL;
    struct ck_httpd *health = NULL, *ready = NULL, *metrics = NULL;
    struct state st = {0};
    struct dns_zone zone = {0};
    if (ck_rest_config_from_flags(apiserver, kubeconfig, &rc, &err) < 0) {
        ck_err("%s", err.message);
        goto out;
    }
    struct ck_client_opts co = {.component = "ckube-dns"};
    if (ck_client_new(rc, &co, &client, &err) < 0) {
        ck_err("%s", err.message);
        goto out;
    }
    if (ck_signals_start(stop, &signals) < 0)
        goto out;
    factory = ck_informer_factory_new(client, NULL);
    st.svc_inf = ck_informer_factory_get(factory, &CK_GVR("", "v1", "services"));
    st.eps_inf =
        ck_informer_factory_get(factory, &CK_GVR("discovery.k8s.io", "v1", "endpointslices"));
    ck_informer_add_index(st.svc_inf, "namespace", ck_index_namespace);
    ck_informer_add_index(st.svc_inf, DNS_INDEX_SERVICE_IP, dns_index_service_ip);
    ck_informer_add_index(st.eps_inf, DNS_INDEX_SLICE_SERVICE, dns_index_slice_service);
    ck_informer_add_index(st.eps_inf, DNS_INDEX_SLICE_IP, dns_index_slice_ip);
    zone = (struct dns_zone){.domain = zone_name,
                             .ttl = ttl > 0 ? (uint32_t)ttl : 0,
                             .serial = (uint32_t)time(NULL),
                             .services = ck_informer_store(st.svc_inf),
                             .slices = ck_informer_store(st.eps_inf)};
    struct dns_server_opts so = {
        .bind_address = bind_address, .port = port, .upstreams = (const char *const *)ups};
    int r = dns_server_start(&zone, &so, &st.server);
    if (r < 0) {
        ck_err("listen udp/tcp %s:%d: %s", bind_address, port, strerror(-r));
        goto out;
    }
    struct ck_event_handler h = {
        .on_add = on_add, .on_update = on_update, .on_delete = on_delete, .ctx = &st};
    ck_informer_add_handler(st.svc_inf, &h, -1);
    ck_informer_add_handler(st.eps_inf, &h, -1);
    ck_informer_factory_start(factory);
    if (serve_http(health_port, &st, &health) < 0 || serve_http(ready_port, &st, &ready) < 0 ||
        serve_http(metrics_port, &st, &metrics) < 0)
        goto out;
    ck_info("serving DNS for %s on %s:%d (udp, tcp)", zone_name, bind_address,
            dns_server_port(st.server));
    bool logged_sync = false;
    while (!ck_cancel_fired(stop)) {
        ck_cancel_sleep(stop, NS_PER_SEC / 2);
        if (!logged_sync && ck_informer_has_synced(st.svc_inf) &&
            ck_informer_has_synced(st.eps_inf)) {
            ck_info("informers synced: %zu services, %zu endpointslices",
                    ck_store_len(zone.services), ck_store_len(zone.slices));
            logged_sync = true;
        }
    }
    ck_info("received signal %d, shutting down", ck_signals_received(signals));
    code = 0;
out:
    ck_httpd_stop(health);
    ck_httpd_stop(ready);
    ck_httpd_stop(metrics);
    dns_server_stop(st.server);
    if (factory)
        ck_informer_factory_free(factory);
    ck_signals_stop(signals);
    ck_client_free(client);
    ck_rest_config_free(rc);
    ck_cancel_free(stop);
    for (size_t i = 0; i < n_ups; i++)
        free(ups[i]);
    free(zone_name);
    ck_error_clear(&err);
    ck_flags_free(flags);
    return code;
}
