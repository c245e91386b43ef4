/* kubeconfig.h - where a client connects and how it authenticates: kubeconfig files (loading,
 * merging, contexts, overrides) and in-cluster configuration, as client-go's clientcmd and
 * rest.InClusterConfig do it. The result is a struct ck_rest_config, which client.h turns
 * into a REST client.
 *
 * Loading rules (clientcmd.ClientConfigLoadingRules):
 *  - An explicit path (--kubeconfig) is loaded alone and must exist ("stat <path>: no such file
 *    or directory").
 *  - Otherwise, with use_env, $KUBECONFIG is a ':'-separated list of files (duplicates and
 *    empty entries dropped, missing files ignored) that are merged; without $KUBECONFIG,
 *    ~/.kube/config (missing: empty config).
 *  - Merging: for clusters, users and contexts the FIRST file that defines a name wins,
 *    whole (entries of the same name in later files are discarded, even their other fields);
 *    current-context is taken from the first file that sets it.
 *  - Relative file paths in a file (certificate-authority, client-certificate, client-key,
 *    tokenFile) are resolved against that file's directory.
 *  - The context used is opts->context or current-context; its cluster's server can be
 *    overridden (--master); the namespace is the context's, else "default".
 * The component binaries (scheduler, controller-manager, kubelet, proxy) use
 * ck_rest_config_from_flags, i.e. clientcmd.BuildConfigFromFlags: --kubeconfig and --master
 * only, in-cluster config when both are empty, and no $KUBECONFIG (as upstream).
 *
 * Errors read as upstream's ("invalid configuration: context was not found for specified
 * context: x", "invalid configuration: no configuration has been provided, try setting
 * KUBERNETES_MASTER environment variable", "unable to load in-cluster configuration,
 * KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"), with code 0 in the
 * ck_error (they are not API errors) and -EINVAL/-ENOENT returned.
 *
 * Ownership: configs returned through **out belong to the caller (ck_rest_config_free). Nothing
 * here keeps state; all functions are thread-safe (they read the environment).
 */
#ifndef CK_KUBECONFIG_H
#define CK_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"

/* The in-cluster service account directory (token, ca.crt, namespace). */
#define CK_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Everything needed to reach one apiserver (client-go's rest.Config, connection part). All
 * strings and buffers are owned by the struct; NULL means unset. */
struct ck_rest_config {
    char *host;        /* "https://10.0.0.1:6443"; a server without scheme gets https:// when
                          TLS settings are present, else http:// (rest.DefaultServerURL) */
    char *namespace;   /* the context's namespace, or "default" */
    char *context;     /* name of the context used (NULL for in-cluster/--master only) */
    char *ca_file;     /* certificate-authority (absolute path) */
    uint8_t *ca_data;  /* certificate-authority-data, decoded PEM */
    size_t ca_data_len;
    char *cert_file;   /* client-certificate */
    uint8_t *cert_data;
    size_t cert_data_len;
    char *key_file;    /* client-key */
    uint8_t *key_data;
    size_t key_data_len;
    char *token;       /* bearer token */
    char *token_file;  /* re-read (at most once a minute) by the client, as client-go */
    char *username, *password; /* basic auth */
    char *tls_server_name;
    bool insecure;     /* insecure-skip-tls-verify */
};

void ck_rest_config_free(struct ck_rest_config *c);
/* A deep copy (NULL for NULL); caller frees. */
struct ck_rest_config *ck_rest_config_dup(const struct ck_rest_config *c);

struct ck_kubeconfig_opts {
    const char *explicit_path; /* --kubeconfig */
    bool use_env;              /* without explicit_path: $KUBECONFIG or ~/.kube/config */
    const char *context;       /* --context */
    const char *cluster;       /* --cluster: overrides the context's cluster */
    const char *user;          /* --user: overrides the context's user */
    const char *master;        /* --master / --server: overrides the cluster's server */
    const char *namespace;     /* --namespace */
};

/* Loads and merges the files named by the loading rules into one config object:
 *   {"clusters":{name:{...}}, "users":{name:{...}}, "contexts":{name:{...}},
 *    "current-context":"..."}
 * (maps by name, kubeconfig field names, paths made absolute, *-data fields still base64).
 * Returns 0 and *out (caller owns), or an error for an unreadable or malformed file. */
int ck_kubeconfig_load_merged(const struct ck_kubeconfig_opts *opts, cJSON **out,
                              struct ck_error *err);

/* Loads per opts and resolves the context into a rest config (clientcmd's
 * DirectClientConfig.ClientConfig), validating it. */
int ck_kubeconfig_load(const struct ck_kubeconfig_opts *opts, struct ck_rest_config **out,
                       struct ck_error *err);

/* rest.InClusterConfig: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with the
 * service account token (as token_file) and CA (when readable) from sa_dir (NULL:
 * CK_SERVICEACCOUNT_DIR); namespace from $POD_NAMESPACE, sa_dir/namespace, else "default". */
int ck_rest_config_in_cluster(const char *sa_dir, struct ck_rest_config **out,
                              struct ck_error *err);

/* clientcmd.BuildConfigFromFlags(master, kubeconfig): both empty -> in-cluster (with a
 * warning), falling back to an empty config overridden by master. */
int ck_rest_config_from_flags(const char *master, const char *kubeconfig,
                              struct ck_rest_config **out, struct ck_error *err);

#endif
