/* component.h - the shared main loop of the control-plane components (kube-controller-manager,
 * kube-scheduler): REST client from --kubeconfig/--master (clientcmd.BuildConfigFromFlags),
 * the /healthz /livez /readyz /metrics endpoint on --secure-port, SIGTERM/SIGINT as graceful
 * stop, leader election on the Lease <--leader-elect-resource-namespace>/<...-name>, and while
 * leading (or always, with --leader-elect=false) the enabled rows of a controller table,
 * sharing one informer factory and one event broadcaster.
 *
 * Exit codes as upstream: 0 after a graceful stop; 1 on a start-up error or when leadership is
 * lost ("leaderelection lost"). The flag macros below give each binary upstream's flag names,
 * defaults and help texts; a binary sets its own defaults in the config before parsing.
 *
 * Ownership: the config and the table are the caller's; ck_component_main frees everything
 * it creates before returning.
 */
#ifndef CK_COMPONENT_H
#define CK_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller.h"
#include "flags.h"

struct ck_component_config {
    const char *name; /* "kube-controller-manager": user agent, event source, cert names */

    /* client */
    const char *kubeconfig, *master;
    double kube_api_qps;
    int kube_api_burst;
    const char *kube_api_content_type; /* accepted; requests are always JSON */

    /* leader election */
    bool leader_elect;
    int64_t lease_duration, renew_deadline, retry_period;
    const char *resource_lock, *resource_name, *resource_namespace;
    bool release_on_cancel; /* kube-scheduler: true; kube-controller-manager: false */

    /* serving */
    int secure_port;
    const char *bind_address, *cert_dir, *tls_cert_file, *tls_key_file;

    /* controllers */
    int64_t min_resync_period;        /* informer resync: random in [min, 2*min); 0: none */
    struct ck_flag_strings controllers; /* --controllers; empty: "*" */
    const struct ck_controller_desc *table; /* rows until one with name NULL */
    void *user;                        /* passed as ck_controller_context.config */
};

#define CK_COMPONENT_CLIENT_FLAGS(cfg)                                                             \
    CK_STRING_FLAG("kubeconfig", &(cfg).kubeconfig,                                                \
                   "Path to kubeconfig file with authorization and master location information "   \
                   "(the master location can be overridden by the master flag)."),                 \
        CK_STRING_FLAG("master", &(cfg).master,                                                    \
                       "The address of the Kubernetes API server (overrides any value in "         \
                       "kubeconfig)."),                                                            \
        CK_FLOAT_FLAG("kube-api-qps", &(cfg).kube_api_qps,                                         \
                      "QPS to use while talking with kubernetes apiserver."),                      \
        CK_INT_FLAG("kube-api-burst", &(cfg).kube_api_burst,                                       \
                    "Burst to use while talking with kubernetes apiserver."),                      \
        CK_STRING_FLAG("kube-api-content-type", &(cfg).kube_api_content_type,                      \
                       "Content type of requests sent to apiserver.")

#define CK_COMPONENT_LEADER_FLAGS(cfg)                                                             \
    CK_BOOL_FLAG("leader-elect", &(cfg).leader_elect,                                              \
                 "Start a leader election client and gain leadership before executing the main "   \
                 "loop. Enable this when running replicated components for high availability."),   \
        CK_DURATION_FLAG("leader-elect-lease-duration", &(cfg).lease_duration,                     \
                         "The duration that non-leader candidates will wait after observing a "    \
                         "leadership renewal until attempting to acquire leadership of a led but " \
                         "unrenewed leader slot. This is effectively the maximum duration that a " \
                         "leader can be stopped before it is replaced by another candidate. This " \
                         "is only applicable if leader election is enabled."),                     \
        CK_DURATION_FLAG("leader-elect-renew-deadline", &(cfg).renew_deadline,                     \
                         "The interval between attempts by the acting master to renew a "          \
                         "leadership slot before it stops leading. This must be less than the "    \
                         "lease duration. This is only applicable if leader election is "          \
                         "enabled."),                                                              \
        CK_DURATION_FLAG("leader-elect-retry-period", &(cfg).retry_period,                         \
                         "The duration the clients should wait between attempting acquisition "    \
                         "and renewal of a leadership. This is only applicable if leader "         \
                         "election is enabled."),                                                  \
        CK_STRING_FLAG("leader-elect-resource-lock", &(cfg).resource_lock,                         \
                       "The type of resource object that is used for locking during leader "       \
                       "election. Supported options are 'leases'."),                               \
        CK_STRING_FLAG("leader-elect-resource-name", &(cfg).resource_name,                         \
                       "The name of resource object that is used for locking during leader "       \
                       "election."),                                                               \
        CK_STRING_FLAG("leader-elect-resource-namespace", &(cfg).resource_namespace,               \
                       "The namespace of resource object that is used for locking during leader "  \
                       "election.")

#define CK_COMPONENT_SERVING_FLAGS(cfg)                                                            \
    CK_INT_FLAG("secure-port", &(cfg).secure_port,                                                 \
                "The port on which to serve HTTPS with authentication and authorization. If 0, "   \
                "don't serve HTTPS at all."),                                                      \
        CK_STRING_FLAG("bind-address", &(cfg).bind_address,                                        \
                       "The IP address on which to listen for the --secure-port port. The "        \
                       "associated interface(s) must be reachable by the rest of the cluster, "    \
                       "and by CLI/web clients. If blank or an unspecified address (0.0.0.0 or "   \
                       "::), all interfaces and IP address families will be used."),               \
        CK_STRING_FLAG("cert-dir", &(cfg).cert_dir,                                                \
                       "The directory where the TLS certs are located. If --tls-cert-file and "    \
                       "--tls-private-key-file are provided, this flag will be ignored."),         \
        CK_STRING_FLAG("tls-cert-file", &(cfg).tls_cert_file,                                      \
                       "File containing the default x509 Certificate for HTTPS. (CA cert, if "     \
                       "any, concatenated after server cert). If HTTPS serving is enabled, and "   \
                       "--tls-cert-file and --tls-private-key-file are not provided, a "           \
                       "self-signed certificate and key are generated for the public address "     \
                       "and saved to the directory specified by --cert-dir."),                     \
        CK_STRING_FLAG("tls-private-key-file", &(cfg).tls_key_file,                                \
                       "File containing the default x509 private key matching --tls-cert-file.")

/* Runs the component until SIGTERM/SIGINT or lost leadership; returns the exit code. Call
 * ck_signals_block() before (first thing in main). */
int ck_component_main(struct ck_component_config *cfg);

#endif
