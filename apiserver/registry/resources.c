/* resources.c - the rows of the resource table (see resources.h).
 *
 * Verbs, kinds, scopes and subresources match the Kubernetes 1.32 OpenAPI schema (a unit test
 * checks every row against apiserver/openapi/swagger-v1.32.json); short names, categories and
 * storage key segments follow upstream's registry. Only GA group versions are served.
 */
#include "resources.h"

#include <stdio.h>
#include <string.h>

#include "kinds.h"

#define CRUD VERBS_CRUD
/* namespaces cannot be deleted as a collection upstream */
#define CRUD_NO_DC (VERBS_CRUD & ~VERB_DELETECOLLECTION)
#define NONE {NULL}
#define SN(...) {__VA_ARGS__, NULL}
#define ALL {"all", NULL}

const struct resource ck_resources[] = {
    /* core/v1 */
    {"", "v1", "bindings", "binding", "Binding", true, VERB_CREATE, 0, NONE, NONE, NULL,
     &strategy_plain},
    {"", "v1", "componentstatuses", "componentstatus", "ComponentStatus", false,
     VERB_GET | VERB_LIST, 0, SN("cs"), NONE, NULL, &strategy_plain},
    {"", "v1", "configmaps", "configmap", "ConfigMap", true, CRUD, 0, SN("cm"), NONE,
     "configmaps", &strategy_configmap},
    {"", "v1", "endpoints", "endpoints", "Endpoints", true, CRUD, 0, SN("ep"), NONE,
     "services/endpoints", &strategy_plain},
    {"", "v1", "events", "event", "Event", true, CRUD, 0, SN("ev"), NONE, "events",
     &strategy_event},
    {"", "v1", "limitranges", "limitrange", "LimitRange", true, CRUD, 0, SN("limits"), NONE,
     "limitranges", &strategy_plain},
    {"", "v1", "namespaces", "namespace", "Namespace", false, CRUD_NO_DC,
     SUB_STATUS | SUB_FINALIZE, SN("ns"), NONE, "namespaces", &strategy_namespace},
    {"", "v1", "nodes", "node", "Node", false, CRUD, SUB_STATUS | SUB_PROXY, SN("no"), NONE,
     "minions", &strategy_node},
    {"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true,
     CRUD, SUB_STATUS, SN("pvc"), NONE, "persistentvolumeclaims", &strategy_spec_status},
    {"", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, CRUD,
     SUB_STATUS, SN("pv"), NONE, "persistentvolumes", &strategy_spec_status},
    {"", "v1", "pods", "pod", "Pod", true, CRUD,
     SUB_STATUS | SUB_BINDING | SUB_LOG | SUB_EXEC | SUB_ATTACH | SUB_PORTFORWARD | SUB_PROXY |
         SUB_EVICTION | SUB_EPHEMERAL | SUB_RESIZE,
     SN("po"), ALL, "pods", &strategy_pod},
    {"", "v1", "podtemplates", "podtemplate", "PodTemplate", true, CRUD, 0, NONE, NONE,
     "podtemplates", &strategy_plain},
    {"", "v1", "replicationcontrollers", "replicationcontroller", "ReplicationController", true,
     CRUD, SUB_STATUS | SUB_SCALE, SN("rc"), ALL, "controllers", &strategy_replicationcontroller},
    {"", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, CRUD, SUB_STATUS,
     SN("quota"), NONE, "resourcequotas", &strategy_spec_status},
    {"", "v1", "secrets", "secret", "Secret", true, CRUD, 0, NONE, NONE, "secrets",
     &strategy_secret},
    {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, CRUD, SUB_TOKEN,
     SN("sa"), NONE, "serviceaccounts", &strategy_plain},
    {"", "v1", "services", "service", "Service", true, CRUD, SUB_STATUS | SUB_PROXY, SN("svc"),
     ALL, "services/specs", &strategy_service},

    /* admissionregistration.k8s.io/v1 */
    {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
     "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", false, CRUD, 0, NONE,
     SN("api-extensions"), "mutatingwebhookconfigurations", &strategy_generation},
    {"admissionregistration.k8s.io", "v1", "validatingadmissionpolicies",
     "validatingadmissionpolicy", "ValidatingAdmissionPolicy", false, CRUD, SUB_STATUS, NONE,
     SN("api-extensions"), "validatingadmissionpolicies", &strategy_spec_status},
    {"admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings",
     "validatingadmissionpolicybinding", "ValidatingAdmissionPolicyBinding", false, CRUD, 0, NONE,
     SN("api-extensions"), "validatingadmissionpolicybindings", &strategy_generation},
    {"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
     "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", false, CRUD, 0, NONE,
     SN("api-extensions"), "validatingwebhookconfigurations", &strategy_generation},

    /* apiextensions.k8s.io/v1 */
    {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
     "CustomResourceDefinition", false, CRUD, SUB_STATUS, SN("crd", "crds"),
     SN("api-extensions"), "apiextensions.k8s.io/customresourcedefinitions",
     &strategy_spec_status},

    /* apps/v1 */
    {"apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", true, CRUD,
     0, NONE, NONE, "controllerrevisions", &strategy_plain},
    {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, CRUD, SUB_STATUS, SN("ds"), ALL,
     "daemonsets", &strategy_daemonset},
    {"apps", "v1", "deployments", "deployment", "Deployment", true, CRUD, SUB_STATUS | SUB_SCALE,
     SN("deploy"), ALL, "deployments", &strategy_deployment},
    {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, CRUD, SUB_STATUS | SUB_SCALE,
     SN("rs"), ALL, "replicasets", &strategy_replicaset},
    {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, CRUD,
     SUB_STATUS | SUB_SCALE, SN("sts"), ALL, "statefulsets", &strategy_statefulset},

    /* authentication.k8s.io/v1 and authorization.k8s.io/v1: create-only reviews */
    {"authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview",
     "SelfSubjectReview", false, VERB_CREATE, 0, NONE, NONE, NULL, &strategy_plain},
    {"authentication.k8s.io", "v1", "tokenreviews", "tokenreview", "TokenReview", false,
     VERB_CREATE, 0, NONE, NONE, NULL, &strategy_plain},
    {"authorization.k8s.io", "v1", "localsubjectaccessreviews", "localsubjectaccessreview",
     "LocalSubjectAccessReview", true, VERB_CREATE, 0, NONE, NONE, NULL, &strategy_plain},
    {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview",
     "SelfSubjectAccessReview", false, VERB_CREATE, 0, NONE, NONE, NULL, &strategy_plain},
    {"authorization.k8s.io", "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview",
     "SelfSubjectRulesReview", false, VERB_CREATE, 0, NONE, NONE, NULL, &strategy_plain},
    {"authorization.k8s.io", "v1", "subjectaccessreviews", "subjectaccessreview",
     "SubjectAccessReview", false, VERB_CREATE, 0, NONE, NONE, NULL, &strategy_plain},

    /* autoscaling: v2 is the preferred version; v1 shares its storage */
    {"autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler",
     "HorizontalPodAutoscaler", true, CRUD, SUB_STATUS, SN("hpa"), ALL,
     "horizontalpodautoscalers", &strategy_spec_status},
    {"autoscaling", "v1", "horizontalpodautoscalers", "horizontalpodautoscaler",
     "HorizontalPodAutoscaler", true, CRUD, SUB_STATUS, SN("hpa"), ALL,
     "horizontalpodautoscalers", &strategy_spec_status},

    /* batch/v1 */
    {"batch", "v1", "cronjobs", "cronjob", "CronJob", true, CRUD, SUB_STATUS, SN("cj"), ALL,
     "cronjobs", &strategy_cronjob},
    {"batch", "v1", "jobs", "job", "Job", true, CRUD, SUB_STATUS, NONE, ALL, "jobs",
     &strategy_job},

    /* certificates.k8s.io/v1 */
    {"certificates.k8s.io", "v1", "certificatesigningrequests", "certificatesigningrequest",
     "CertificateSigningRequest", false, CRUD, SUB_STATUS | SUB_APPROVAL, SN("csr"), NONE,
     "certificatesigningrequests", &strategy_spec_status},

    /* coordination.k8s.io/v1 */
    {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, CRUD, 0, NONE, NONE,
     "leases", &strategy_plain},

    /* discovery.k8s.io/v1 */
    {"discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, CRUD, 0,
     NONE, NONE, "endpointslices", &strategy_plain},

    /* events.k8s.io/v1: the same stored events as core/v1, another shape */
    {"events.k8s.io", "v1", "events", "event", "Event", true, CRUD, 0, SN("ev"), NONE, "events",
     &strategy_event},

    /* networking.k8s.io/v1 */
    {"networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false, CRUD, 0,
     NONE, NONE, "ingressclasses", &strategy_generation},
    {"networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, CRUD, SUB_STATUS,
     SN("ing"), NONE, "ingress", &strategy_spec_status},
    {"networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, CRUD,
     0, SN("netpol"), NONE, "networkpolicies", &strategy_generation},

    /* node.k8s.io/v1 */
    {"node.k8s.io", "v1", "runtimeclasses", "runtimeclass", "RuntimeClass", false, CRUD, 0, NONE,
     NONE, "runtimeclasses", &strategy_plain},

    /* policy/v1 */
    {"policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true,
     CRUD, SUB_STATUS, SN("pdb"), NONE, "poddisruptionbudgets", &strategy_spec_status},

    /* rbac.authorization.k8s.io/v1 */
    {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
     "ClusterRoleBinding", false, CRUD, 0, NONE, NONE, "clusterrolebindings", &strategy_rbac},
    {"rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, CRUD,
     0, NONE, NONE, "clusterroles", &strategy_rbac},
    {"rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, CRUD,
     0, NONE, NONE, "rolebindings", &strategy_rbac},
    {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, CRUD, 0, NONE, NONE,
     "roles", &strategy_rbac},

    /* scheduling.k8s.io/v1 */
    {"scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", false, CRUD,
     0, SN("pc"), NONE, "priorityclasses", &strategy_plain},

    /* storage.k8s.io/v1 */
    {"storage.k8s.io", "v1", "csidrivers", "csidriver", "CSIDriver", false, CRUD, 0, NONE, NONE,
     "csidrivers", &strategy_plain},
    {"storage.k8s.io", "v1", "csinodes", "csinode", "CSINode", false, CRUD, 0, NONE, NONE,
     "csinodes", &strategy_plain},
    {"storage.k8s.io", "v1", "csistoragecapacities", "csistoragecapacity", "CSIStorageCapacity",
     true, CRUD, 0, NONE, NONE, "csistoragecapacities", &strategy_plain},
    {"storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, CRUD, 0,
     SN("sc"), NONE, "storageclasses", &strategy_plain},
    {"storage.k8s.io", "v1", "volumeattachments", "volumeattachment", "VolumeAttachment", false,
     CRUD, SUB_STATUS, NONE, NONE, "volumeattachments", &strategy_spec_status},
};

const size_t ck_resources_count = sizeof(ck_resources) / sizeof(ck_resources[0]);

const struct resource *resource_find(const char *group, const char *version, const char *plural)
{
    for (size_t i = 0; i < ck_resources_count; i++) {
        const struct resource *r = &ck_resources[i];
        if (!strcmp(r->group, group) && !strcmp(r->version, version) &&
            !strcmp(r->plural, plural))
            return r;
    }
    return NULL;
}

const struct resource *resource_find_kind(const char *group, const char *version,
                                          const char *kind)
{
    for (size_t i = 0; i < ck_resources_count; i++) {
        const struct resource *r = &ck_resources[i];
        if (!strcmp(r->group, group) && (!version || !strcmp(r->version, version)) &&
            !strcmp(r->kind, kind))
            return r;
    }
    return NULL;
}

void resource_api_version(const struct resource *r, char *dst, size_t size)
{
    if (r->group[0])
        snprintf(dst, size, "%s/%s", r->group, r->version);
    else
        snprintf(dst, size, "%s", r->version);
}

static const char *const SUB_NAMES[] = {
    "status", "scale", "binding", "log", "exec", "attach", "portforward",
    "proxy", "eviction", "ephemeralcontainers", "resize", "token", "finalize", "approval",
};

unsigned resource_subresource_bit(const char *name)
{
    for (size_t i = 0; i < sizeof(SUB_NAMES) / sizeof(SUB_NAMES[0]); i++)
        if (!strcmp(SUB_NAMES[i], name))
            return 1u << i;
    return 0;
}

const char *resource_subresource_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof(SUB_NAMES) / sizeof(SUB_NAMES[0]); i++)
        if (bit == 1u << i)
            return SUB_NAMES[i];
    return NULL;
}

const char *resource_verb_name(unsigned bit)
{
    static const char *const names[] = {"create", "get",   "list",   "watch",
                                        "update", "patch", "delete", "deletecollection"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (bit == 1u << i)
            return names[i];
    return NULL;
}
