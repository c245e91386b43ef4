/* server.h - the kube-apiserver's state shared by its request handlers. */
#ifndef APISERVER_SERVER_H
#define APISERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "alloc.h"
#include "httpd.h"
#include "metrics.h"
#include "store.h"

struct apiserver_config {
    const char *etcd_servers;  /* comma-separated URLs */
    const char *etcd_prefix;   /* "/registry" */
    const char *etcd_cafile, *etcd_certfile, *etcd_keyfile;
    const char *bind_address;  /* secure listener */
    int secure_port;
    const char *insecure_bind_address; /* loopback only */
    int insecure_port;         /* 0 = off */
    const char *advertise_address;
    const char *service_cluster_ip_range;
    const char *service_node_port_range;
    int max_requests_inflight;          /* read-only requests; 0 = no limit */
    int max_mutating_requests_inflight; /* writes; 0 = no limit */
    int64_t etcd_compaction_interval_ns;
    int watch_cache_size;      /* events kept per resource */
};

struct watchcache;

struct apiserver {
    const struct apiserver_config *cfg; /* borrowed from main */
    struct etcd_client *etcd;           /* owned */
    struct store store;
    struct ck_httpd *insecure;          /* owned; NULL when off */
    struct range_alloc service_ips;     /* --service-cluster-ip-range */
    struct range_alloc service_ports;   /* --service-node-port-range */
    atomic_int inflight_reads, inflight_writes; /* requests being served (not watches) */
    struct ck_metric_family *requests_total;    /* apiserver_request_total */
    struct ck_metric_family *request_duration;  /* apiserver_request_duration_seconds */
    pthread_mutex_t caches_lock;        /* guards caches */
    struct watchcache **caches;         /* one slot per ck_resources row, started lazily */
    struct watchcache **dead_caches;    /* replaced after a compaction, freed at shutdown */
    size_t n_dead_caches;
};

/* Registers the apiserver's request metrics in the process registry. */
void apiserver_metrics_init(struct apiserver *s);
/* The one request entry point (a ck_http_handler; ctx is the struct apiserver). */
void apiserver_handle(struct ck_http_req *req, void *ctx);

#endif
