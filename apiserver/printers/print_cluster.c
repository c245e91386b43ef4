/* print_cluster.c - printers for networking, RBAC, coordination, scheduling, node, certificates and
 * admission kinds: Ingress, IngressClass, NetworkPolicy, RoleBinding, ClusterRoleBinding,
 * Lease, PriorityClass, RuntimeClass, CertificateSigningRequest, the webhook configurations,
 * ValidatingAdmissionPolicy and its binding, as upstream's printers.go. Role, ClusterRole,
 * LimitRange and CustomResourceDefinition have no printer upstream (default columns). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "printers_internal.h"

/* ---- Ingress, IngressClass, NetworkPolicy ---- */

static const struct printer_column INGRESS_COLUMNS[] = {
    COL_NAME,
    COL("Class", "string",
        "The name of the IngressClass resource that should be used for additional "
        "configuration"),
    COL("Hosts", "string",
        "Hosts that incoming requests are matched against before the ingress rule"),
    COL("Address", "string", "Address is a list containing ingress points for the load-balancer"),
    COL("Ports", "string", "Ports of TLS configurations that open"),
    COL_AGE,
    COL_END,
};

/* formatHosts: the first three hosts; "+ N more..." counts every rule past the third, with
 * or without a host, as upstream; "*" when no rule has a host. */
static char *ingress_hosts(const cJSON *ing)
{
    const cJSON *r, *rules = pj_array(ing, "spec.rules");
    struct ck_buf b = CK_BUF_INIT;
    int listed = 0, n = 0;
    bool more = false;
    if (rules) {
        cJSON_ArrayForEach(r, rules)
        {
            n++;
            if (listed == 3)
                more = true;
            const char *host = pj_str(r, "host");
            if (!more && *host) {
                if (listed++)
                    ck_buf_putc(&b, ',');
                ck_buf_puts(&b, host);
            }
        }
    }
    if (!listed) {
        ck_buf_free(&b);
        return ck_xstrdup("*");
    }
    if (more)
        ck_buf_printf(&b, " + %d more...", n - 3);
    return ck_buf_detach(&b);
}

static void print_ingress(struct prow *row, const cJSON *ing)
{
    struct strset addrs = {0};
    const cJSON *in, *arr = pj_array(ing, "status.loadBalancer.ingress");
    if (arr) {
        cJSON_ArrayForEach(in, arr)
        {
            const char *ip = pj_str(in, "ip"), *host = pj_str(in, "hostname");
            if (*ip)
                strset_add(&addrs, ip);
            else if (*host)
                strset_add(&addrs, host);
        }
    }
    cell_name(row, ing);
    cell_str(row, pj_set(ing, "spec.ingressClassName") ? pj_str(ing, "spec.ingressClassName")
                                                       : "<none>");
    cell_take(row, ingress_hosts(ing));
    cell_take(row, strset_join(&addrs, ","));
    cell_str(row, pj_count(ing, "spec.tls") ? "80, 443" : "80");
    cell_age(row, ing);
    strset_free(&addrs);
}

static const struct printer_column INGRESS_CLASS_COLUMNS[] = {
    COL_NAME,
    COL("Controller", "string", "Controller that is responsible for handling this class"),
    COL("Parameters", "string", "A reference to a resource with additional parameters"),
    COL_AGE,
    COL_END,
};

static void print_ingress_class(struct prow *row, const cJSON *ic)
{
    cell_name(row, ic);
    cell_str(row, pj_str(ic, "spec.controller"));
    if (!pj_set(ic, "spec.parameters"))
        cell_str(row, "<none>");
    else if (pj_set(ic, "spec.parameters.apiGroup"))
        cell_fmt(row, "%s.%s/%s", pj_str(ic, "spec.parameters.kind"),
                 pj_str(ic, "spec.parameters.apiGroup"), pj_str(ic, "spec.parameters.name"));
    else
        cell_fmt(row, "%s/%s", pj_str(ic, "spec.parameters.kind"),
                 pj_str(ic, "spec.parameters.name"));
    cell_age(row, ic);
}

static const struct printer_column NETWORK_POLICY_COLUMNS[] = {
    COL_NAME,
    COL("Pod-Selector", "string",
        "podSelector selects the pods to which this NetworkPolicy object applies."),
    COL_AGE,
    COL_END,
};

static void print_network_policy(struct prow *row, const cJSON *np)
{
    const cJSON *sel = ck_json_get(np, "spec.podSelector");
    cJSON *empty = NULL;
    if (!sel || cJSON_IsNull(sel)) /* a struct upstream: absent reads as {} (everything) */
        sel = empty = cJSON_CreateObject();
    cell_name(row, np);
    cell_take(row, fmt_label_selector(sel));
    cell_age(row, np);
    cJSON_Delete(empty);
}

/* ---- RoleBinding, ClusterRoleBinding ---- */

#define ROLE_REF_DESC                                                                              \
    "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "        \
    "namespace."

static const struct printer_column ROLE_BINDING_COLUMNS[] = {
    COL_NAME,
    COL("Role", "string", ROLE_REF_DESC),
    COL_AGE,
    COL_WIDE("Users", "string", "Users in the roleBinding"),
    COL_WIDE("Groups", "string", "Groups in the roleBinding"),
    COL_WIDE("ServiceAccounts", "string", "ServiceAccounts in the roleBinding"),
    COL_END,
};

static const struct printer_column CLUSTER_ROLE_BINDING_COLUMNS[] = {
    COL_NAME,
    COL("Role", "string", ROLE_REF_DESC),
    COL_AGE,
    COL_WIDE("Users", "string", "Users in the clusterRoleBinding"),
    COL_WIDE("Groups", "string", "Groups in the clusterRoleBinding"),
    COL_WIDE("ServiceAccounts", "string", "ServiceAccounts in the clusterRoleBinding"),
    COL_END,
};

/* rbac.SubjectsStrings, each list joined by ", ". */
static void print_binding(struct prow *row, const cJSON *rb)
{
    struct ck_buf users = CK_BUF_INIT, groups = CK_BUF_INIT, sas = CK_BUF_INIT;
    const cJSON *s, *subjects = pj_array(rb, "subjects");
    if (subjects) {
        cJSON_ArrayForEach(s, subjects)
        {
            const char *kind = pj_str(s, "kind");
            struct ck_buf *w = !strcmp(kind, "User")             ? &users
                               : !strcmp(kind, "Group")          ? &groups
                               : !strcmp(kind, "ServiceAccount") ? &sas
                                                                 : NULL;
            if (!w)
                continue;
            if (w->len)
                ck_buf_puts(w, ", ");
            if (w == &sas)
                ck_buf_printf(w, "%s/", pj_str(s, "namespace"));
            ck_buf_puts(w, pj_str(s, "name"));
        }
    }
    cell_name(row, rb);
    cell_fmt(row, "%s/%s", pj_str(rb, "roleRef.kind"), pj_str(rb, "roleRef.name"));
    cell_age(row, rb);
    cell_take(row, ck_buf_detach(&users));
    cell_take(row, ck_buf_detach(&groups));
    cell_take(row, ck_buf_detach(&sas));
}

/* ---- Lease, PriorityClass, RuntimeClass ---- */

static const struct printer_column LEASE_COLUMNS[] = {
    COL_NAME,
    COL("Holder", "string",
        "holderIdentity contains the identity of the holder of a current "
        "lease."),
    COL_AGE,
    COL_END,
};

static void print_lease(struct prow *row, const cJSON *l)
{
    cell_name(row, l);
    cell_str(row, pj_str(l, "spec.holderIdentity"));
    cell_age(row, l);
}

static const struct printer_column PRIORITY_CLASS_COLUMNS[] = {
    COL_NAME,
    COL("Value", "integer",
        "value represents the integer value of this priority class. This is the actual priority "
        "that pods receive when they have the name of this class in their pod spec."),
    COL("Global-Default", "boolean",
        "globalDefault specifies whether this PriorityClass should be considered as the default "
        "priority for pods that do not have any priority class."),
    COL_AGE,
    COL("PreemptionPolicy", "string",
        "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, "
        "PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."),
    COL_END,
};

static void print_priority_class(struct prow *row, const cJSON *pc)
{
    cell_name(row, pc);
    cell_int(row, pj_int(pc, "value"));
    cell_bool(row, pj_bool(pc, "globalDefault", false));
    cell_age(row, pc);
    cell_str(row, pj_str(pc, "preemptionPolicy"));
}

static const struct printer_column RUNTIME_CLASS_COLUMNS[] = {
    COL_NAME,
    COL("Handler", "string",
        "handler specifies the underlying runtime and configuration that the CRI implementation "
        "will use to handle pods of this class."),
    COL_AGE,
    COL_END,
};

static void print_runtime_class(struct prow *row, const cJSON *rc)
{
    cell_name(row, rc);
    cell_str(row, pj_str(rc, "handler"));
    cell_age(row, rc);
}

/* ---- CertificateSigningRequest ---- */

static const struct printer_column CSR_COLUMNS[] = {
    COL_NAME,
    COL_AGE,
    COL("SignerName", "string",
        "Requested signer for the request. It is a qualified name in the form: "
        "`scope-hostname.io/name`."),
    COL("Requestor", "string", "Base64-encoded PKCS#10 CSR data"),
    COL("RequestedDuration", "string",
        "expirationSeconds is the requested duration of validity of the issued certificate."),
    COL("Condition", "string", "Conditions applied to the request, such as approval or denial."),
    COL_END,
};

/* extractCSRStatus: Denied over Approved over Pending (by condition type alone), then
 * ",Failed" and ",Issued". */
static char *csr_status(const cJSON *csr)
{
    bool approved = false, denied = false, failed = false;
    const cJSON *c, *arr = pj_array(csr, "status.conditions");
    if (arr) {
        cJSON_ArrayForEach(c, arr)
        {
            const char *type = pj_str(c, "type");
            approved |= !strcmp(type, "Approved");
            denied |= !strcmp(type, "Denied");
            failed |= !strcmp(type, "Failed");
        }
    }
    return ck_xasprintf("%s%s%s",
                        denied     ? "Denied"
                        : approved ? "Approved"
                                   : "Pending",
                        failed ? ",Failed" : "",
                        *pj_str(csr, "status.certificate") ? ",Issued" : "");
}

static void print_csr(struct prow *row, const cJSON *csr)
{
    const char *signer = pj_str(csr, "spec.signerName");
    cell_name(row, csr);
    cell_age(row, csr);
    cell_str(row, *signer ? signer : "<none>");
    cell_str(row, pj_str(csr, "spec.username"));
    if (pj_set(csr, "spec.expirationSeconds")) {
        char d[CK_HUMAN_BUFSZ];
        ck_human_duration(pj_int(csr, "spec.expirationSeconds") * CK_SECOND, d);
        cell_str(row, d);
    } else {
        cell_str(row, "<none>");
    }
    cell_take(row, csr_status(csr));
}

/* ---- admission ---- */

static const struct printer_column WEBHOOK_COLUMNS[] = {
    COL_NAME,
    COL("Webhooks", "integer",
        "Webhooks indicates the number of webhooks registered in this configuration"),
    COL_AGE,
    COL_END,
};

static void print_webhook_configuration(struct prow *row, const cJSON *w)
{
    cell_name(row, w);
    cell_int(row, pj_count(w, "webhooks"));
    cell_age(row, w);
}

static const struct printer_column VAP_COLUMNS[] = {
    COL_NAME,
    COL("Validations", "integer",
        "Validations indicates the number of validation rules defined in this configuration"),
    COL("ParamKind", "string",
        "ParamKind specifies the kind of resources used to parameterize this policy"),
    COL_AGE,
    COL_END,
};

static void print_vap(struct prow *row, const cJSON *p)
{
    cell_name(row, p);
    cell_int(row, pj_count(p, "spec.validations"));
    if (pj_set(p, "spec.paramKind"))
        cell_fmt(row, "%s/%s", pj_str(p, "spec.paramKind.apiVersion"),
                 pj_str(p, "spec.paramKind.kind"));
    else
        cell_str(row, "<unset>");
    cell_age(row, p);
}

static const struct printer_column VAP_BINDING_COLUMNS[] = {
    COL_NAME,
    COL("PolicyName", "string",
        "PolicyName indicates the policy definition which the policy binding binded to"),
    COL("ParamRef", "string",
        "ParamRef indicates the param resource which sets the configration param"),
    COL_AGE,
    COL_END,
};

/* The generated String() of a metav1.LabelSelector, which upstream prints for a paramRef
 * selector: &LabelSelector{MatchLabels:map[string]string{k: v,},MatchExpressions:[]...,}. */
static char *label_selector_go_string(const cJSON *sel)
{
    struct ck_buf b = CK_BUF_INIT;
    struct strset keys = {0};
    const cJSON *m, *labels = ck_json_get(sel, "matchLabels");
    if (cJSON_IsObject(labels)) {
        cJSON_ArrayForEach(m, labels)
        {
            strset_add(&keys, m->string ? m->string : "");
        }
    }
    strset_sort(&keys);
    ck_buf_puts(&b, "&LabelSelector{MatchLabels:map[string]string{");
    for (size_t i = 0; i < keys.n; i++)
        ck_buf_printf(&b, "%s: %s,", keys.v[i],
                      ck_json_as_string(ck_json_getv(labels, keys.v[i], NULL), ""));
    strset_free(&keys);
    ck_buf_puts(&b, "},MatchExpressions:[]LabelSelectorRequirement{");
    const cJSON *e, *exprs = pj_array(sel, "matchExpressions");
    if (exprs) {
        cJSON_ArrayForEach(e, exprs)
        {
            CK_AUTOFREE char *values = join_strings(ck_json_get(e, "values"), " ");
            ck_buf_printf(&b, "LabelSelectorRequirement{Key:%s,Operator:%s,Values:[%s],},",
                          pj_str(e, "key"), pj_str(e, "operator"), values);
        }
    }
    ck_buf_puts(&b, "},}");
    return ck_buf_detach(&b);
}

static void print_vap_binding(struct prow *row, const cJSON *b)
{
    const char *name = pj_str(b, "spec.paramRef.name");
    const char *ns = pj_str(b, "spec.paramRef.namespace");
    cell_name(row, b);
    cell_str(row, pj_str(b, "spec.policyName"));
    if (!pj_set(b, "spec.paramRef"))
        cell_str(row, "<unset>");
    else if (*name && *ns)
        cell_fmt(row, "%s/%s", ns, name);
    else if (*name) /* cluster-scoped or any namespace: upstream cannot tell */
        cell_fmt(row, "*/%s", name);
    else if (pj_set(b, "spec.paramRef.selector"))
        cell_take(row, label_selector_go_string(ck_json_get(b, "spec.paramRef.selector")));
    else
        cell_str(row, "<unset>");
    cell_age(row, b);
}

const struct printer_kind printers_cluster_kinds[] = {
    {"networking.k8s.io", "Ingress", INGRESS_COLUMNS, print_ingress},
    {"networking.k8s.io", "IngressClass", INGRESS_CLASS_COLUMNS, print_ingress_class},
    {"networking.k8s.io", "NetworkPolicy", NETWORK_POLICY_COLUMNS, print_network_policy},
    {"rbac.authorization.k8s.io", "RoleBinding", ROLE_BINDING_COLUMNS, print_binding},
    {"rbac.authorization.k8s.io", "ClusterRoleBinding", CLUSTER_ROLE_BINDING_COLUMNS,
     print_binding},
    {"coordination.k8s.io", "Lease", LEASE_COLUMNS, print_lease},
    {"scheduling.k8s.io", "PriorityClass", PRIORITY_CLASS_COLUMNS, print_priority_class},
    {"node.k8s.io", "RuntimeClass", RUNTIME_CLASS_COLUMNS, print_runtime_class},
    {"certificates.k8s.io", "CertificateSigningRequest", CSR_COLUMNS, print_csr},
    {"admissionregistration.k8s.io", "MutatingWebhookConfiguration", WEBHOOK_COLUMNS,
     print_webhook_configuration},
    {"admissionregistration.k8s.io", "ValidatingWebhookConfiguration", WEBHOOK_COLUMNS,
     print_webhook_configuration},
    {"admissionregistration.k8s.io", "ValidatingAdmissionPolicy", VAP_COLUMNS, print_vap},
    {"admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", VAP_BINDING_COLUMNS,
     print_vap_binding},
    {NULL, NULL, NULL, NULL},
};
