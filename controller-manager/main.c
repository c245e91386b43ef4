/* main.c - kube-controller-manager: flags and wiring only. The controllers themselves live in
 * one file each in this folder and are listed in the table below; common/component.c runs
 * them (leader election on the Lease kube-system/kube-controller-manager, health and metrics
 * on --secure-port 10257, graceful stop on SIGTERM). */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "cm.h"
#include "component.h"
#include "daemon.h"
#include "deployment.h"
#include "endpoints.h"
#include "flags.h"
#include "nodeipam.h"
#include "replicaset.h"
#include "timeutil.h"

/* Adding a controller = adding one row: {"<upstream name>", <start function>, <off by default>}.
 * The start function (controller.h: ck_controller_start_fn) declares its informers and
 * registers its ck_controller with the context. */
static const struct ck_controller_desc controllers[] = {
    {"serviceaccount-controller", cm_serviceaccount_start, false},
    {"namespace-controller", cm_namespace_start, false},
    {"garbage-collector-controller", cm_gc_start, false},
    {"replicaset-controller", replicaset_start, false},
    {"deployment-controller", deployment_start, false},
    {"endpoints-controller", endpoints_start, false},
    {"endpointslice-controller", endpointslice_start, false},
    {"node-ipam-controller", nodeipam_start, false},
    {NULL, NULL, false},
};

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
    } else
        rc = ck_component_main(&cfg);
    ck_flags_free(flags);
    return rc;
}
