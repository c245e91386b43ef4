/* main.c - kube-controller-manager: flags and wiring only. The controllers themselves live in
 * one file each in this folder and are listed in the table below; common/component.c runs
 * them (leader election on the Lease kube-system/kube-controller-manager, health and metrics
 * on --secure-port 10257, graceful stop on SIGTERM). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "client.h"
#include "cm.h"
#include "component.h"
#include "daemon.h"
#include "deployment.h"
#include "endpoints.h"
#include "flags.h"
#include "log.h"
#include "mem.h"
#include "nodeipam.h"
#include "replicaset.h"
#include "timeutil.h"

/* Worker counts, upstream's --concurrent-*-syncs flags and defaults. Controllers without such a
 * flag upstream keep the count their start function asks for. */
static int rs_workers = 5, rc_workers = 5, deploy_workers = 5, ep_workers = 5, eps_workers = 5,
           ns_workers = 10, gc_workers = 20;

/* Runs start, then gives every controller it registered `workers` threads. */
static int with_workers(const char *name, ck_controller_start_fn start, int workers,
                        struct ck_controller_context *cc, struct ck_error *err)
{
    size_t first = cc->n;
    int rc = start(cc, err);
    for (size_t i = first; rc >= 0 && i < cc->n; i++) {
        cc->workers[i] = workers;
        ck_vinfo(2, "Controller workers controller=\"%s\" workers=%d", name, workers);
    }
    return rc;
}

#define CM_WITH_WORKERS(fn, name, var)                                                             \
    static int fn##_workers(struct ck_controller_context *cc, struct ck_error *err)                \
    {                                                                                              \
        return with_workers(name, fn, var, cc, err);                                               \
    }
CM_WITH_WORKERS(cm_namespace_start, "namespace-controller", ns_workers)
CM_WITH_WORKERS(cm_gc_start, "garbage-collector-controller", gc_workers)
CM_WITH_WORKERS(replicaset_start, "replicaset-controller", rs_workers)
CM_WITH_WORKERS(replicationcontroller_start, "replicationcontroller-controller", rc_workers)
CM_WITH_WORKERS(deployment_start, "deployment-controller", deploy_workers)
CM_WITH_WORKERS(endpoints_start, "endpoints-controller", ep_workers)
CM_WITH_WORKERS(endpointslice_start, "endpointslice-controller", eps_workers)

/* Adding a controller = adding one row: {"<upstream name>", <start function>, <off by default>}.
 * The start function (controller.h: ck_controller_start_fn) declares its informers and
 * registers its ck_controller with the context. */
static const struct ck_controller_desc controllers[] = {
    {"serviceaccount-controller", cm_serviceaccount_start, false},
    {"namespace-controller", cm_namespace_start_workers, false},
    {"garbage-collector-controller", cm_gc_start_workers, false},
    {"replicaset-controller", replicaset_start_workers, false},
    {"replicationcontroller-controller", replicationcontroller_start_workers, false},
    {"deployment-controller", deployment_start_workers, false},
    {"endpoints-controller", endpoints_start_workers, false},
    {"endpointslice-controller", endpointslice_start_workers, false},
    {"node-ipam-controller", nodeipam_start, false},
    {NULL, NULL, false},
};

/* upstream's controller aliases (the pre-1.28 short names), accepted by --controllers. */
static const char *const aliases[][2] = {
    {"serviceaccount", "serviceaccount-controller"},
    {"namespace", "namespace-controller"},
    {"garbagecollector", "garbage-collector-controller"},
    {"replicaset", "replicaset-controller"},
    {"replicationcontroller", "replicationcontroller-controller"},
    {"deployment", "deployment-controller"},
    {"endpoint", "endpoints-controller"},
    {"endpointslice", "endpointslice-controller"},
    {"nodeipam", "node-ipam-controller"},
};

/* Checks --controllers as upstream's Validate (every name, with or without "-", must be a
 * controller or an alias; "*" is always fine) and writes the list with aliases replaced by
 * canonical names to out (caller frees out->items and each item). Returns 0, or -EINVAL with
 * upstream's message in err. */
static int canonical_controllers(const struct ck_flag_strings *in, struct ck_flag_strings *out,
                                 struct ck_error *err)
{
    struct ck_buf bad = CK_BUF_INIT;
    size_t nbad = 0;
    out->items = ck_xcalloc(in->n + 1, sizeof(*out->items));
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        const char *e = in->items[i];
        bool minus = e[0] == '-';
        const char *name = minus ? e + 1 : e;
        const char *canon = NULL;
        if (!strcmp(e, "*"))
            canon = e;
        for (size_t a = 0; !canon && a < CK_ARRAY_SIZE(aliases); a++)
            if (!strcmp(aliases[a][0], name))
                canon = aliases[a][1];
        for (size_t t = 0; !canon && controllers[t].name; t++)
            if (!strcmp(controllers[t].name, name))
                canon = name;
        if (!canon) {
            ck_buf_printf(&bad, "%s\"%s\" is not in the list of known controllers",
                          nbad ? ", " : "", name);
            nbad++;
            continue;
        }
        out->items[out->n++] = ck_xasprintf("%s%s", minus && strcmp(e, "*") ? "-" : "", canon);
    }
    int rc = 0;
    if (nbad) /* one error alone, several as an aggregate "[a, b]" */
        rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST, nbad > 1 ? "[%s]" : "%s",
                          ck_buf_str(&bad));
    ck_buf_free(&bad);
    return rc < 0 ? -EINVAL : 0;
}

static void free_strings(struct ck_flag_strings *l)
{
    for (size_t i = 0; i < l->n; i++)
        free((char *)l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

int main(int argc, char **argv)
{
    static struct ck_component_config cfg = {
        .name = "kube-controller-manager",
        .kube_api_qps = 20,
        .kube_api_burst = 30,
        .kube_api_content_type = "application/vnd.kubernetes.protobuf",
        .leader_elect = true,
        .lease_duration = 15 * CK_SECOND,
        .renew_deadline = 10 * CK_SECOND,
        .retry_period = 2 * CK_SECOND,
        .resource_lock = "leases",
        .resource_name = "kube-controller-manager",
        .resource_namespace = "kube-system",
        .release_on_cancel = false,
        .secure_port = 10257,
        .bind_address = "0.0.0.0",
        .min_resync_period = 12 * CK_HOUR,
        .table = controllers,
    };
    static const char *all[] = {"*"};
    cfg.controllers = (struct ck_flag_strings){all, 1};
    static bool version;
    static struct ck_flag flags[] = {
        CK_COMPONENT_CLIENT_FLAGS(cfg),
        CK_COMPONENT_LEADER_FLAGS(cfg),
        CK_COMPONENT_SERVING_FLAGS(cfg),
        CK_STRINGS_FLAG("controllers", &cfg.controllers,
                        "A list of controllers to enable. '*' enables all on-by-default "
                        "controllers, 'foo' enables the controller named 'foo', '-foo' disables "
                        "the controller named 'foo'."),
        CK_DURATION_FLAG("min-resync-period", &cfg.min_resync_period,
                         "The resync period in reflectors will be random between "
                         "MinResyncPeriod and 2*MinResyncPeriod."),
        CK_BOOL_FLAG("allocate-node-cidrs", &nodeipam_flags.allocate_node_cidrs,
                     "Should CIDRs for Pods be allocated and set on the cloud provider."),
        CK_STRING_FLAG("cluster-cidr", &nodeipam_flags.cluster_cidr,
                       "CIDR Range for Pods in cluster. Only used when --allocate-node-cidrs=true; "
                       "if false, this option will be ignored."),
        CK_INT_FLAG("node-cidr-mask-size", &nodeipam_flags.node_cidr_mask_size,
                    "Mask size for node cidr in cluster. Default is 24 for IPv4 and 64 for IPv6."),
        CK_STRING_FLAG("service-cluster-ip-range", &nodeipam_flags.service_cluster_ip_range,
                       "CIDR Range for Services in cluster. Requires --allocate-node-cidrs to be "
                       "true"),
        CK_INT_FLAG("concurrent-replicaset-syncs", &rs_workers,
                    "The number of replica sets that are allowed to sync concurrently. Larger "
                    "number = more responsive replica management, but more CPU (and network) "
                    "load"),
        CK_INT_FLAG("concurrent-rc-syncs", &rc_workers,
                    "The number of replication controllers that are allowed to sync "
                    "concurrently. Larger number = more responsive replica management, but more "
                    "CPU (and network) load"),
        CK_INT_FLAG("concurrent-deployment-syncs", &deploy_workers,
                    "The number of deployment objects that are allowed to sync concurrently. "
                    "Larger number = more responsive deployments, but more CPU (and network) "
                    "load"),
        CK_INT_FLAG("concurrent-endpoint-syncs", &ep_workers,
                    "The number of endpoint syncing operations that will be done concurrently. "
                    "Larger number = faster endpoint updating, but more CPU (and network) load"),
        CK_INT_FLAG("concurrent-service-endpoint-syncs", &eps_workers,
                    "The number of service endpoint syncing operations that will be done "
                    "concurrently. Larger number = faster endpoint slice updating, but more CPU "
                    "(and network) load. Defaults to 5."),
        CK_INT_FLAG("concurrent-namespace-syncs", &ns_workers,
                    "The number of namespace objects that are allowed to sync concurrently. "
                    "Larger number = more responsive namespace termination, but more CPU (and "
                    "network) load"),
        CK_INT_FLAG("concurrent-gc-syncs", &gc_workers,
                    "The number of garbage collector workers that are allowed to sync "
                    "concurrently."),
        CK_BOOL_FLAG("version", &version, "Print version information and quit."),
        CK_FLAG_END,
    };
    if (ck_signals_block() < 0)
        return 1;
    struct ck_flags_result res;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_flags_parse(flags, argc, argv, &res, &err) < 0) {
        fprintf(stderr, "Error: %s\n", err.message);
        ck_flags_free(flags);
        return 1;
    }
    int rc = 0;
    if (res.help)
        ck_flags_usage(flags, "kube-controller-manager", stdout);
    else if (version)
        printf("Kubernetes %s\n", CK_KUBE_VERSION);
    else if (res.nargs > 0) {
        fprintf(stderr, "Error: unknown command \"%s\" for \"kube-controller-manager\"\n",
                res.args[0]);
        rc = 1;
    } else {
        struct ck_flag_strings canon = {0};
        if (canonical_controllers(&cfg.controllers, &canon, &err) < 0) {
            fprintf(stderr, "Error: %s\n", err.message);
            rc = 1;
        } else if (eps_workers < 1 || eps_workers > 50) { /* upstream's EndpointSlice Validate */
            fprintf(stderr, "Error: concurrent-service-endpoint-syncs must not be %s, but got %d\n",
                    eps_workers < 1 ? "less than 1" : "more than 50", eps_workers);
            rc = 1;
        } else {
            struct ck_component_config run = cfg;
            run.controllers = canon;
            rc = ck_component_main(&run);
        }
        free_strings(&canon);
        ck_error_clear(&err);
    }
    ck_flags_free(flags);
    return rc;
}
