/* containers.h - translating a Pod into what the runtime takes: the sandbox config (hostname,
 * DNS as upstream's dns configurer computes it for each dnsPolicy, sysctls, namespaces), the
 * pod cgroup's resources (upstream's ResourceConfigForPod), each container's runtime spec
 * (command, env, working dir, effective security context, resources, OOM score, volume
 * mounts with subPath, the kubelet-managed /etc/hosts, labels and annotations the kubelet
 * finds its containers by), and the managed /etc/hosts file itself.
 *
 * Container labels (as upstream's kubelet sets them through CRI): io.kubernetes.pod.name,
 * io.kubernetes.pod.namespace, io.kubernetes.pod.uid, io.kubernetes.container.name;
 * annotations: io.kubernetes.container.hash, io.kubernetes.container.restartCount,
 * io.kubernetes.container.terminationMessagePath/Policy, io.kubernetes.pod.terminationGracePeriod
 * and ckube.io/image-id (the image's repo digest for the status' imageID).
 *
 * Ownership: struct kl_cspec / kl_sandbox_spec own every string their runtime structs point
 * at; release with kl_cspec_free / kl_sandbox_spec_free.
 */
#ifndef KL_CONTAINERS_H
#define KL_CONTAINERS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "kubelet/env.h"
#include "kubelet/runtime/bundle.h"
#include "kubelet/runtime/cgroups.h"
#include "kubelet/runtime/sandbox.h"
#include "kubelet/volumes.h"

#define KL_LABEL_POD_NAME "io.kubernetes.pod.name"
#define KL_LABEL_POD_NAMESPACE "io.kubernetes.pod.namespace"
#define KL_LABEL_POD_UID "io.kubernetes.pod.uid"
#define KL_LABEL_CONTAINER_NAME "io.kubernetes.container.name"
#define KL_ANN_HASH "io.kubernetes.container.hash"
#define KL_ANN_RESTART_COUNT "io.kubernetes.container.restartCount"
#define KL_ANN_IMAGE_ID "ckube.io/image-id"

/* A growable list of owned strings (the arena behind the borrowed runtime structs). */
struct kl_strs {
    char **v;
    size_t n;
};

/* The host's resolver configuration (--resolv-conf). */
struct kl_resolv {
    struct kl_strs servers, searches, options;
};
/* Parses resolv.conf text (nameserver / search / domain / options lines). */
void kl_resolv_parse(const char *text, struct kl_resolv *out);
void kl_resolv_free(struct kl_resolv *r);

/* What the DNS configurer needs from the kubelet. */
struct kl_dns_params {
    const char *const *cluster_dns;
    size_t n_cluster_dns;
    const char *cluster_domain;   /* "" when none */
    const struct kl_resolv *host; /* may be NULL */
};

struct kl_sandbox_spec {
    struct kl_sandbox_config cfg;
    struct kl_strs arena;
    const char **servers, **searches, **options, **sysctls, **labels, **annotations;
    bool cluster_dns_missing; /* ClusterFirst without --cluster-dns (upstream's event) */
};
/* The sandbox config of pod. log_dir and cgroup_parent are copied. */
void kl_sandbox_spec_build(struct kl_sandbox_spec *out, const cJSON *pod,
                           const struct kl_dns_params *dns, const char *log_dir,
                           const char *cgroup_parent);
void kl_sandbox_spec_free(struct kl_sandbox_spec *s);

/* The pod cgroup's resources and QoS class (ResourceConfigForPod). */
void kl_pod_cgroup_resources(const cJSON *pod, enum kl_qos *qos, struct kl_cgroup_resources *res);

/* The hash the kubelet records per container to notice spec changes that need a restart
 * (name and image, as upstream's 1.32 hash). Caller frees. */
char *kl_container_hash(const cJSON *c);

struct kl_cspec {
    struct kl_container_spec spec;
    struct kl_strs arena;
    const char **command, **args, **env, **labels, **annotations, **cap_add, **cap_drop;
    int64_t *groups;
    struct kl_mount *mounts;
};
/* What kl_cspec_build needs besides the pod and container. */
struct kl_cspec_params {
    unsigned attempt;
    const char *image_ref; /* the resolved image reference the runtime records */
    const char *image_id;  /* its repo digest, "" when unknown */
    const struct kl_env *env;
    const struct kl_pod_volumes *vols;
    const char *hosts_file; /* the managed /etc/hosts, NULL: none */
    int64_t node_memory;    /* capacity, for the OOM score of Burstable pods */
};
/* Fails with err (reason CreateContainerConfigError) for a volumeMount of an unknown volume
 * or a bad subPath. */
int kl_cspec_build(struct kl_cspec *out, const cJSON *pod, const cJSON *c,
                   const struct kl_cspec_params *p, struct ck_error *err);
void kl_cspec_free(struct kl_cspec *s);

/* Upstream's OOM score adjustment of a container (-997 Guaranteed, 1000 BestEffort, else
 * 1000 - 1000 * memory request / node memory, within [3, 999]). */
int kl_oom_score_adj(const cJSON *pod, const cJSON *c, int64_t node_memory);

/* The kubelet-managed /etc/hosts of a pod with pod_ip ("# Kubernetes-managed hosts file."
 * header, localhost entries, the pod's own name/FQDN line, then hostAliases). Caller frees. */
char *kl_hosts_file(const cJSON *pod, const char *pod_ip, const char *cluster_domain);

#endif
