/* main.c - kube-apiserver: flags and wiring only. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"
#include "flags.h"
#include "log.h"
#include "server.h"
#include "storage/etcd.h"
#include "watchcache.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static bool is_loopback(const char *addr)
{
    return !strncmp(addr, "127.", 4) || !strcmp(addr, "::1") || !strcmp(addr, "localhost");
}

int main(int argc, char **argv)
{
    static struct apiserver_config cfg = {
        .etcd_servers = NULL,
        .etcd_prefix = ETCD_DEFAULT_PREFIX,
        .bind_address = "0.0.0.0",
        .secure_port = 6443,
        .insecure_bind_address = "127.0.0.1",
        .insecure_port = 0,
        .service_cluster_ip_range = "10.96.0.0/12",
        .service_node_port_range = "30000-32767",
        .max_requests_inflight = 400,
        .max_mutating_requests_inflight = 200,
        .etcd_compaction_interval_ns = 5LL * 60 * 1000000000,
        .watch_cache_size = 4096,
    };
    static struct ck_flag flags[] = {
        CK_STRING_FLAG("etcd-servers", &cfg.etcd_servers,
                       "List of etcd servers to connect with (scheme://ip:port), comma separated."),
        CK_STRING_FLAG("etcd-prefix", &cfg.etcd_prefix,
                       "The prefix to prepend to all resource paths in etcd."),
        CK_STRING_FLAG("etcd-cafile", &cfg.etcd_cafile,
                       "SSL Certificate Authority file used to secure etcd communication."),
        CK_STRING_FLAG("etcd-certfile", &cfg.etcd_certfile,
                       "SSL certification file used to secure etcd communication."),
        CK_STRING_FLAG("etcd-keyfile", &cfg.etcd_keyfile,
                       "SSL key file used to secure etcd communication."),
        CK_DURATION_FLAG("etcd-compaction-interval", &cfg.etcd_compaction_interval_ns,
                         "The interval of compaction requests. If 0, the compaction request from "
                         "apiserver is disabled."),
        CK_STRING_FLAG("bind-address", &cfg.bind_address,
                       "The IP address on which to listen for the --secure-port port."),
        CK_INT_FLAG("secure-port", &cfg.secure_port,
                    "The port on which to serve HTTPS with authentication and authorization."),
        CK_STRING_FLAG("insecure-bind-address", &cfg.insecure_bind_address,
                       "The loopback address on which to serve plain HTTP (--insecure-port)."),
        CK_INT_FLAG("insecure-port", &cfg.insecure_port,
                    "The port on which to serve unauthenticated plain HTTP on loopback; 0 "
                    "disables it."),
        CK_STRING_FLAG("advertise-address", &cfg.advertise_address,
                       "The IP address on which to advertise the apiserver to members of the "
                       "cluster."),
        CK_STRING_FLAG("service-cluster-ip-range", &cfg.service_cluster_ip_range,
                       "A CIDR notation IP range from which to assign service cluster IPs."),
        CK_STRING_FLAG("service-node-port-range", &cfg.service_node_port_range,
                       "A port range to reserve for services with NodePort visibility."),
        CK_INT_FLAG("default-watch-cache-size", &cfg.watch_cache_size,
                    "Default watch cache size: the number of recent events kept per resource."),
        CK_INT_FLAG("max-requests-inflight", &cfg.max_requests_inflight,
                    "The maximum number of non-mutating requests in flight at a given time. When "
                    "the server exceeds this, it rejects requests. Zero for no limit."),
        CK_INT_FLAG("max-mutating-requests-inflight", &cfg.max_mutating_requests_inflight,
                    "The maximum number of mutating requests in flight at a given time. When the "
                    "server exceeds this, it rejects requests. Zero for no limit."),
        CK_FLAG_END,
    };
    struct ck_flags_result res;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_flags_parse(flags, argc, argv, &res, &err) < 0) {
        fprintf(stderr, "Error: %s\n", err.message);
        ck_flags_free(flags);
        return 1;
    }
    if (res.help) {
        ck_flags_usage(flags, "kube-apiserver", stdout);
        ck_flags_free(flags);
        return 0;
    }
    /* SIGTERM/SIGINT stay blocked in every thread (all start after this); main waits for them
     * with sigsuspend, so no signal slips between a check and the wait */
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = 1;
    struct apiserver s = {.cfg = &cfg};
    pthread_mutex_init(&s.caches_lock, NULL);
    apiserver_metrics_init(&s);
    if (!cfg.etcd_servers || !cfg.etcd_servers[0]) {
        fprintf(stderr, "Error: --etcd-servers must be specified\n");
        goto out;
    }
    if (cfg.insecure_port && !is_loopback(cfg.insecure_bind_address)) {
        fprintf(stderr, "Error: --insecure-bind-address must be a loopback address, not %s\n",
                cfg.insecure_bind_address);
        goto out;
    }
    struct etcd_config ec = {.endpoints = cfg.etcd_servers,
                             .ca_file = cfg.etcd_cafile,
                             .cert_file = cfg.etcd_certfile,
                             .key_file = cfg.etcd_keyfile};
    if (etcd_client_new(&ec, &s.etcd, &err) < 0) {
        fprintf(stderr, "Error: %s\n", err.message);
        goto out;
    }
    s.store = (struct store){s.etcd, (char *)cfg.etcd_prefix};
    if (alloc_init_ips(&s.service_ips, s.etcd, cfg.etcd_prefix, cfg.service_cluster_ip_range,
                       &err) < 0 ||
        alloc_init_ports(&s.service_ports, s.etcd, cfg.etcd_prefix, cfg.service_node_port_range,
                         &err) < 0) {
        fprintf(stderr, "Error: %s\n", err.message);
        goto out;
    }
    if (bootstrap_run(&s, &err) < 0) {
        ck_err("bootstrap failed: %s", err.message);
        goto out;
    }
    if (watchcaches_start_all(&s, &err) < 0) {
        ck_err("starting watch caches: %s", err.message);
        goto out;
    }
    struct etcd_compactor *compactor = NULL;
    etcd_compactor_start(s.etcd, (int)(cfg.etcd_compaction_interval_ns / 1000000), &compactor,
                         NULL);
    if (cfg.insecure_port) {
        struct ck_httpd_config hc = {.bind_address = cfg.insecure_bind_address,
                                     .port = cfg.insecure_port,
                                     .handler = apiserver_handle,
                                     .ctx = &s};
        if (ck_httpd_start(&hc, &s.insecure, &err) < 0) {
            ck_err("%s", err.message);
            etcd_compactor_stop(compactor);
            goto out;
        }
        ck_info("Serving insecurely on %s:%d", cfg.insecure_bind_address,
                ck_httpd_port(s.insecure));
    }
    while (!stop_requested)
        sigsuspend(&old); /* unblocks SIGTERM/SIGINT and waits, atomically */
    ck_info("shutting down");
    ck_httpd_stop(s.insecure);
    etcd_compactor_stop(compactor);
    rc = 0;
out:
    watchcaches_stop(&s); /* after the server: no watcher reads a cache any more */
    alloc_free(&s.service_ips);
    alloc_free(&s.service_ports);
    etcd_client_free(s.etcd);
    ck_error_clear(&err);
    ck_flags_free(flags);
    return rc;
}
