/* services.c - the Service strategy: DNS-1035 names, field selectors, upstream's defaults
 * (SetDefaults_Service, plus the IP family fields upstream's allocator initialises), create and
 * update preparation (clusterIP/clusterIPs normalisation, keeping allocated values, wiping
 * type-dependent fields), ValidateService and ValidateServiceUpdate (v1.32).
 * ClusterIP and NodePort allocation live in the apiserver's allocator, not here; this file
 * assumes a single-stack IPv4 cluster for the IP family defaults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fieldutil.h"
#include "json.h"
#include "kinds.h"
#include "mem.h"
#include "podspec.h"

static const char *const SERVICE_FIELDS[] = {"spec.clusterIP", "spec.type", NULL};

/* upstream's MaxClientIPServiceAffinitySeconds and DefaultClientIPServiceAffinitySeconds */
#define MAX_AFFINITY_SECONDS 86400
#define DEFAULT_AFFINITY_SECONDS 10800

static const char *svc_type(const cJSON *spec)
{
    return fu_str(spec, "type");
}

static bool type_is(const cJSON *spec, const char *t)
{
    return !strcmp(svc_type(spec), t);
}

/* ExternallyAccessible: NodePort, LoadBalancer, or ClusterIP with external IPs. */
static bool externally_accessible(const cJSON *spec)
{
    return type_is(spec, "LoadBalancer") || type_is(spec, "NodePort") ||
           (type_is(spec, "ClusterIP") && cJSON_GetArraySize(fu_get(spec, "externalIPs")) > 0);
}

static bool needs_cluster_ip(const cJSON *spec)
{
    return type_is(spec, "ClusterIP") || type_is(spec, "NodePort") || type_is(spec, "LoadBalancer");
}

static bool needs_node_port(const cJSON *spec)
{
    if (type_is(spec, "NodePort"))
        return true;
    return type_is(spec, "LoadBalancer") &&
           !cJSON_IsFalse(fu_get(spec, "allocateLoadBalancerNodePorts"));
}

static bool needs_health_check(const cJSON *spec)
{
    return type_is(spec, "LoadBalancer") && !strcmp(fu_str(spec, "externalTrafficPolicy"), "Local");
}

/* isHeadlessService: clusterIPs is exactly ["None"]. */
static bool headless(const cJSON *spec)
{
    const cJSON *ips = fu_get(spec, "clusterIPs");
    return cJSON_GetArraySize(ips) == 1 && cJSON_IsString(ips->child) &&
           !strcmp(ips->child->valuestring, "None");
}

static const char *family_of(const char *ip)
{
    return ck_parse_ip(ip, NULL) == 6 ? "IPv6" : "IPv4";
}

/* initIPFamilyFields for a single-stack IPv4 cluster: ipFamilyPolicy SingleStack (or
 * RequireDualStack for a headless service without selector), ipFamilies from the
 * clusterIPs or the cluster's family. */
static void ip_family_defaults(cJSON *spec)
{
    if (!needs_cluster_ip(spec))
        return;
    bool selectorless_headless = !strcmp(fu_str(spec, "clusterIP"), "None") &&
                                 cJSON_GetArraySize(fu_get(spec, "selector")) == 0;
    if (!fu_get(spec, "ipFamilyPolicy"))
        fu_put(spec, "ipFamilyPolicy",
               cJSON_CreateString(selectorless_headless ? "RequireDualStack" : "SingleStack"));
    cJSON *fams = fu_get(spec, "ipFamilies");
    if (fams && !cJSON_IsArray(fams))
        return;
    int have = cJSON_GetArraySize(fams), i = 0;
    const cJSON *ips = fu_get(spec, "clusterIPs"), *ip;
    cJSON_ArrayForEach(ip, ips)
    {
        if (!cJSON_IsString(ip) || !strcmp(ip->valuestring, "None") || !ip->valuestring[0])
            break;
        if (i++ < have)
            continue;
        if (!fams) {
            fams = cJSON_CreateArray();
            fu_put(spec, "ipFamilies", fams);
        }
        cJSON_AddItemToArray(fams, cJSON_CreateString(family_of(ip->valuestring)));
    }
    if (cJSON_GetArraySize(fams) == 0) {
        fams = cJSON_CreateArray();
        cJSON_AddItemToArray(fams, cJSON_CreateString("IPv4"));
        fu_put(spec, "ipFamilies", fams);
    }
    /* a selectorless headless service may carry both families even on a single-stack
     * cluster */
    if (selectorless_headless && cJSON_GetArraySize(fams) < 2 &&
        strcmp(fu_str(spec, "ipFamilyPolicy"), "SingleStack")) {
        bool v6 = cJSON_IsString(fams->child) && !strcmp(fams->child->valuestring, "IPv6");
        cJSON_AddItemToArray(fams, cJSON_CreateString(v6 ? "IPv4" : "IPv6"));
    }
}

/* SetDefaults_Service */
static void service_defaults(cJSON *svc)
{
    if (!cJSON_IsObject(svc))
        return;
    cJSON *spec = fu_ensure_object(svc, "spec");
    fu_default_str(spec, "sessionAffinity", "None");
    const char *aff = fu_str(spec, "sessionAffinity");
    if (!strcmp(aff, "None"))
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "sessionAffinityConfig");
    if (!strcmp(aff, "ClientIP") &&
        !fu_get(fu_get(fu_get(spec, "sessionAffinityConfig"), "clientIP"), "timeoutSeconds")) {
        cJSON *cfg = cJSON_CreateObject();
        cJSON *cip = cJSON_AddObjectToObject(cfg, "clientIP");
        cJSON_AddNumberToObject(cip, "timeoutSeconds", DEFAULT_AFFINITY_SECONDS);
        fu_put(spec, "sessionAffinityConfig", cfg);
    }
    fu_default_str(spec, "type", "ClusterIP");
    const cJSON *ports = fu_get(spec, "ports");
    for (cJSON *p = cJSON_IsArray(ports) ? ports->child : NULL; p; p = p->next) {
        if (!cJSON_IsObject(p))
            continue;
        fu_default_str(p, "protocol", "TCP");
        const cJSON *tp = fu_get(p, "targetPort");
        bool unset = !tp || (cJSON_IsNumber(tp) && tp->valuedouble == 0) ||
                     (cJSON_IsString(tp) && !tp->valuestring[0]);
        int64_t port = 0;
        fu_int(p, "port", &port);
        if (unset)
            fu_put(p, "targetPort", ck_json_new_int64(port));
    }
    if (externally_accessible(spec))
        fu_default_str(spec, "externalTrafficPolicy", "Cluster");
    if (!fu_get(spec, "internalTrafficPolicy") && needs_cluster_ip(spec))
        fu_put(spec, "internalTrafficPolicy", cJSON_CreateString("Cluster"));
    if (type_is(spec, "LoadBalancer")) {
        if (!fu_get(spec, "allocateLoadBalancerNodePorts"))
            fu_put(spec, "allocateLoadBalancerNodePorts", cJSON_CreateTrue());
        const cJSON *ing = fu_get(fu_get(fu_get(svc, "status"), "loadBalancer"), "ingress");
        for (cJSON *i = cJSON_IsArray(ing) ? ing->child : NULL; i; i = i->next)
            if (fu_str(i, "ip")[0] && !fu_get(i, "ipMode"))
                fu_put(i, "ipMode", cJSON_CreateString("VIP"));
    }
    ip_family_defaults(spec);
}

/* normalizeClusterIPs for a create: a lone clusterIP fills clusterIPs. */
static void normalize_create(cJSON *spec)
{
    const char *ip = fu_str(spec, "clusterIP");
    if (ip[0] && cJSON_GetArraySize(fu_get(spec, "clusterIPs")) == 0) {
        cJSON *ips = cJSON_CreateArray();
        cJSON_AddItemToArray(ips, cJSON_CreateString(ip));
        fu_put(spec, "clusterIPs", ips);
    }
}

static void service_prepare_create(cJSON *svc)
{
    cJSON *status = cJSON_CreateObject();
    cJSON_AddObjectToObject(status, "loadBalancer");
    fu_put(svc, "status", status);
    normalize_create(fu_get(svc, "spec"));
}

static bool same_member(const cJSON *a, const cJSON *b, const char *key)
{
    return podspec_go_equal(fu_get(a, key), fu_get(b, key));
}

static void set_or_delete(cJSON *o, const char *key, const cJSON *v)
{
    if (v)
        fu_put(o, key, cJSON_Duplicate(v, 1));
    else
        cJSON_DeleteItemFromObjectCaseSensitive(o, key);
}

/* normalizeClusterIPs for an update: keep clusterIP and clusterIPs in step when a client
 * only knows (or only changed) one of them. */
static void normalize_update(cJSON *spec, const cJSON *old)
{
    const char *nip = fu_str(spec, "clusterIP"), *oip = fu_str(old, "clusterIP");
    if (cJSON_GetArraySize(fu_get(old, "clusterIPs")) > 0 &&
        cJSON_GetArraySize(fu_get(spec, "clusterIPs")) == 0 && !strcmp(oip, nip))
        set_or_delete(spec, "clusterIPs", fu_get(old, "clusterIPs"));
    if (strcmp(oip, nip)) {
        bool same = same_member(old, spec, "clusterIPs");
        if (oip[0] && !nip[0] && same)
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "clusterIPs");
        if (nip[0] && same) {
            cJSON *ips = cJSON_CreateArray();
            cJSON_AddItemToArray(ips, cJSON_CreateString(nip));
            fu_put(spec, "clusterIPs", ips);
        }
    }
}

/* patchAllocatedValues: an update that leaves out allocated values keeps the old ones. */
static void patch_allocated(cJSON *spec, const cJSON *old)
{
    if (needs_cluster_ip(old) && needs_cluster_ip(spec)) {
        if (!fu_str(spec, "clusterIP")[0] && fu_get(old, "clusterIP"))
            set_or_delete(spec, "clusterIP", fu_get(old, "clusterIP"));
        if (cJSON_GetArraySize(fu_get(spec, "clusterIPs")) == 0 &&
            cJSON_GetArraySize(fu_get(old, "clusterIPs")) > 0)
            set_or_delete(spec, "clusterIPs", fu_get(old, "clusterIPs"));
    }
    if (needs_node_port(old) && needs_node_port(spec)) {
        const cJSON *op = fu_get(old, "ports"), *np = fu_get(spec, "ports");
        for (cJSON *p = cJSON_IsArray(np) ? np->child : NULL; p; p = p->next) {
            int64_t v = 0;
            fu_int(p, "nodePort", &v);
            if (v != 0)
                continue;
            int64_t oldv = 0;
            for (const cJSON *o = cJSON_IsArray(op) ? op->child : NULL; o; o = o->next)
                if (!strcmp(fu_str(o, "name"), fu_str(p, "name")))
                    fu_int(o, "nodePort", &oldv);
            /* not when another port of the new service already uses that value */
            bool used = false;
            for (const cJSON *q = np->child; q && oldv; q = q->next) {
                int64_t qv = 0;
                fu_int(q, "nodePort", &qv);
                used = used || qv == oldv;
            }
            if (oldv && !used && cJSON_IsObject(p))
                fu_put(p, "nodePort", ck_json_new_int64(oldv));
        }
    }
    if (needs_health_check(old) && needs_health_check(spec)) {
        int64_t v = 0;
        fu_int(spec, "healthCheckNodePort", &v);
        if (v == 0 && fu_get(old, "healthCheckNodePort"))
            set_or_delete(spec, "healthCheckNodePort", fu_get(old, "healthCheckNodePort"));
    }
}

/* dropTypeDependentFields: switching type wipes the values the old type needed, when the
 * client left them unchanged. */
static void drop_type_dependent(cJSON *svc, cJSON *spec, const cJSON *old)
{
    if (needs_cluster_ip(old) && !needs_cluster_ip(spec)) {
        if (same_member(old, spec, "clusterIPs") && same_member(old, spec, "clusterIP")) {
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "clusterIP");
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "clusterIPs");
        }
        if (same_member(old, spec, "ipFamilies"))
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "ipFamilies");
        if (same_member(old, spec, "ipFamilyPolicy"))
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "ipFamilyPolicy");
    }
    if (needs_node_port(old) && !needs_node_port(spec)) {
        bool same = true;
        const cJSON *op = fu_get(old, "ports"), *np = fu_get(spec, "ports");
        const cJSON *o = cJSON_IsArray(op) ? op->child : NULL;
        const cJSON *n = cJSON_IsArray(np) ? np->child : NULL;
        for (; o && n; o = o->next, n = n->next)
            same = same && same_member(o, n, "nodePort");
        same = same && !o && !n;
        for (cJSON *p = cJSON_IsArray(np) && same ? np->child : NULL; p; p = p->next)
            cJSON_DeleteItemFromObjectCaseSensitive(p, "nodePort");
    }
    if (needs_health_check(old) && !needs_health_check(spec) &&
        same_member(old, spec, "healthCheckNodePort"))
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "healthCheckNodePort");
    if (type_is(old, "LoadBalancer") && !type_is(spec, "LoadBalancer")) {
        const cJSON *a = fu_get(spec, "allocateLoadBalancerNodePorts");
        const cJSON *b = fu_get(old, "allocateLoadBalancerNodePorts");
        if (a && b && podspec_go_equal(a, b))
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "allocateLoadBalancerNodePorts");
        if (same_member(old, spec, "loadBalancerClass"))
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "loadBalancerClass");
    }
    if (externally_accessible(old) && !externally_accessible(spec) &&
        same_member(old, spec, "externalTrafficPolicy"))
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "externalTrafficPolicy");
    if (!type_is(spec, "LoadBalancer")) {
        cJSON *status = fu_get(svc, "status");
        if (cJSON_IsObject(status))
            fu_put(status, "loadBalancer", cJSON_CreateObject());
    }
}

static void service_prepare_update(cJSON *svc, const cJSON *old)
{
    cJSON *spec = fu_get(svc, "spec");
    const cJSON *ospec = fu_get(old, "spec");
    if (!cJSON_IsObject(spec))
        return;
    normalize_update(spec, ospec);
    /* the client's type may be unset here; defaults only run after us */
    bool typed = fu_str(spec, "type")[0];
    if (!typed)
        fu_put(spec, "type", cJSON_CreateString("ClusterIP"));
    drop_type_dependent(svc, spec, ospec);
    patch_allocated(spec, ospec);
    if (!fu_get(spec, "ipFamilyPolicy") && fu_get(ospec, "ipFamilyPolicy") &&
        needs_cluster_ip(spec))
        set_or_delete(spec, "ipFamilyPolicy", fu_get(ospec, "ipFamilyPolicy"));
}

/* ---- validation ---- */

/* []core.IPFamily{"IPv4"} */
static void go_ip_families(struct ck_buf *b, const cJSON *families)
{
    fu_go_slice(b, "core.IPFamily", families, fu_go_string);
}

static const char *const PROTOCOLS[] = {"SCTP", "TCP", "UDP", NULL};

/* %#v of the core.ServicePort upstream keys duplicate ports by. */
static char *port_key(const char *protocol, int64_t port)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "core.ServicePort{Name:\"\", Protocol:");
    ck_buf_put_go_quoted(&b, protocol);
    ck_buf_printf(&b,
                  ", AppProtocol:(*string)(nil), Port:%lld, TargetPort:intstr.IntOrString{Type:0, "
                  "IntVal:0, StrVal:\"\"}, NodePort:0}",
                  (long long)port);
    return ck_buf_detach(&b);
}

static void validate_port(const cJSON *p, int i, bool require_name, cJSON *names,
                          struct field_errors *e)
{
    CK_AUTOFREE char *base = ck_xasprintf("spec.ports[%d]", i);
    CK_AUTOFREE char *fn = ck_xasprintf("%s.name", base);
    const char *name = fu_str(p, "name");
    if (require_name && !name[0]) {
        fe_add(e, FE_REQUIRED, fn, NULL, NULL);
    } else if (name[0]) {
        fu_check(e, fn, name, ck_is_dns1123_label);
        if (fu_seen(names, name))
            fe_add_str(e, FE_DUPLICATE, fn, name, NULL);
    }
    int64_t port = 0;
    fu_int(p, "port", &port);
    CK_AUTOFREE char *fp = ck_xasprintf("%s.port", base);
    fu_check_port(e, fp, port);
    const char *proto = fu_str(p, "protocol");
    CK_AUTOFREE char *fpr = ck_xasprintf("%s.protocol", base);
    fu_check_enum(e, fpr, proto, PROTOCOLS);
    const cJSON *tp = fu_get(p, "targetPort");
    CK_AUTOFREE char *ft = ck_xasprintf("%s.targetPort", base);
    fu_check_port_num_or_name(e, ft, tp);
    const cJSON *ap = fu_get(p, "appProtocol");
    if (ap) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.appProtocol", base);
        fu_check(e, f, cJSON_IsString(ap) ? ap->valuestring : "", ck_is_qualified_name);
    }
}

/* ValidateServiceClusterIPsRelatedFields */
static void validate_cluster_ips(const cJSON *spec, struct field_errors *e)
{
    if (type_is(spec, "ExternalName"))
        return;
    const char *ip = fu_str(spec, "clusterIP");
    const cJSON *ips = fu_get(spec, "clusterIPs");
    int n = cJSON_GetArraySize(ips);
    CK_AUTOFREE char *ipsv = fu_go_render(fu_go_string_slice, ips);
    if (ip[0]) {
        if (n == 0)
            fe_add(e, FE_REQUIRED, "spec.clusterIPs", NULL, NULL);
        else if (!cJSON_IsString(ips->child) || strcmp(ips->child->valuestring, ip))
            fe_add_raw(e, FE_INVALID, "spec.clusterIPs", ipsv,
                       "first value must match `clusterIP`");
    } else if (n) {
        fe_add_raw(e, FE_INVALID, "spec.clusterIPs", ipsv,
                   "must be empty when `clusterIP` is not specified");
    }
    static const char *const FAMILIES[] = {"IPv4", "IPv6", NULL};
    const cJSON *fams = fu_get(spec, "ipFamilies"), *f;
    int i = 0;
    cJSON *seen = cJSON_CreateObject();
    cJSON_ArrayForEach(f, fams)
    {
        CK_AUTOFREE char *fp = ck_xasprintf("spec.ipFamilies[%d]", i++);
        const char *v = cJSON_IsString(f) ? f->valuestring : "";
        if (!fu_in_list(FAMILIES, v))
            fe_not_supported(e, fp, v, FAMILIES);
        if (fu_seen(seen, v))
            fe_add_str(e, FE_DUPLICATE, fp, v, NULL);
    }
    cJSON_Delete(seen);
    const cJSON *pol = fu_get(spec, "ipFamilyPolicy");
    static const char *const POLICIES[] = {"PreferDualStack", "RequireDualStack", "SingleStack",
                                           NULL};
    if (pol && !(cJSON_IsString(pol) && fu_in_list(POLICIES, pol->valuestring)))
        fe_not_supported(e, "spec.ipFamilyPolicy", cJSON_IsString(pol) ? pol->valuestring : "",
                         POLICIES);
    bool bad = false;
    i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ips)
    {
        const char *v = cJSON_IsString(it) ? it->valuestring : "";
        if (i == 0 && !strcmp(v, "None")) {
            if (n > 1) {
                bad = true;
                fe_add_raw(e, FE_INVALID, "spec.clusterIPs", ipsv,
                           "'None' must be the first and only value");
            }
            i++;
            continue;
        }
        CK_AUTOFREE char *fp = ck_xasprintf("spec.clusterIPs[%d]", i++);
        bad = fu_check(e, fp, v, ck_is_valid_ip) > 0 || bad;
    }
    if (n > 2)
        fe_add_raw(e, FE_INVALID, "spec.clusterIPs", ipsv, "may only hold up to 2 values");
    if (bad)
        return;
    if (n == 2) {
        const char *a = cJSON_IsString(ips->child) ? ips->child->valuestring : "";
        const char *b = cJSON_IsString(ips->child->next) ? ips->child->next->valuestring : "";
        if (!strcmp(family_of(a), family_of(b)))
            fe_add_raw(e, FE_INVALID, "spec.clusterIPs", ipsv,
                       "may specify no more than one IP for each IP family");
    }
    if (!headless(spec) && n > 0 && cJSON_GetArraySize(fams) > 0) {
        const cJSON *fi = fams->child;
        i = 0;
        cJSON_ArrayForEach(it, ips)
        {
            if (!fi)
                break;
            const char *v = cJSON_IsString(it) ? it->valuestring : "";
            const char *fam = cJSON_IsString(fi) ? fi->valuestring : "";
            bool v6 = ck_parse_ip(v, NULL) == 6;
            CK_AUTOFREE char *fp = ck_xasprintf("spec.clusterIPs[%d]", i);
            if (!strcmp(fam, "IPv4") && v6)
                fe_add_str(e, FE_INVALID, fp, v,
                           "expected an IPv4 value as indicated by `ipFamilies[%d]`", i);
            if (!strcmp(fam, "IPv6") && !v6)
                fe_add_str(e, FE_INVALID, fp, v,
                           "expected an IPv6 value as indicated by `ipFamilies[%d]`", i);
            fi = fi->next;
            i++;
        }
    }
}

/* ValidateNonSpecialIP for external IPs. */
static void non_special_ip(const char *ip, const char *field, struct field_errors *e)
{
    unsigned char b[16];
    int fam = ck_parse_ip(ip, b);
    static const unsigned char zero[16] = {0};
    bool v4 = fam == 4;
    const unsigned char *a = v4 ? b + 12 : b;
    bool unspecified = v4 ? !memcmp(a, zero, 4) : !memcmp(b, zero, 16);
    bool loopback = v4 ? a[0] == 127 : (!memcmp(b, zero, 15) && b[15] == 1);
    bool ll_unicast = v4 ? (a[0] == 169 && a[1] == 254) : (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
    bool ll_multicast =
        v4 ? (a[0] == 224 && a[1] == 0 && a[2] == 0) : (b[0] == 0xff && (b[1] & 0x0f) == 0x02);
    if (unspecified)
        fe_add_str(e, FE_INVALID, field, ip, "may not be unspecified (%s)", ip);
    if (loopback)
        fe_add_str(e, FE_INVALID, field, ip,
                   "may not be in the loopback range (127.0.0.0/8, ::1/128)");
    if (ll_unicast)
        fe_add_str(e, FE_INVALID, field, ip,
                   "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
    if (ll_multicast)
        fe_add_str(e, FE_INVALID, field, ip,
                   "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
}

/* IsValidCIDR */
static void valid_cidr(const char *v, const char *field, struct field_errors *e)
{
    const char *slash = strchr(v, '/');
    bool ok = slash && slash > v;
    if (ok) {
        CK_AUTOFREE char *ip = ck_xstrndup(v, (size_t)(slash - v));
        int fam = ck_parse_ip(ip, NULL);
        char *end;
        long bits = strtol(slash + 1, &end, 10);
        ok = fam && slash[1] && !*end && slash[1] != '+' && slash[1] != '-' && bits >= 0 &&
             bits <= (fam == 4 ? 32 : 128);
    }
    if (!ok)
        fe_add_str(e, FE_INVALID, field, v,
                   "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
}

/* ValidateService (ObjectMeta is checked generically). */
static void service_validate(const cJSON *svc, struct field_errors *e)
{
    const cJSON *spec = fu_get(svc, "spec");
    const cJSON *ann = fu_get(fu_get(svc, "metadata"), "annotations");
    const char *hints = "service.kubernetes.io/topology-aware-hints";
    const char *mode = "service.kubernetes.io/topology-mode";
    if (fu_get(ann, hints) && fu_get(ann, mode) && strcmp(fu_str(ann, hints), fu_str(ann, mode)))
        fe_add_str(e, FE_INVALID, "metadata.annotations[service.kubernetes.io/topology-mode]",
                   fu_str(ann, mode), "must match annotations[%s] when both are specified", hints);
    const cJSON *ports = fu_get(spec, "ports");
    int nports = cJSON_GetArraySize(ports);
    bool hl = headless(spec);
    const cJSON *ips = fu_get(spec, "clusterIPs");
    if (nports == 0 && !hl && !type_is(spec, "ExternalName"))
        fe_add(e, FE_REQUIRED, "spec.ports", NULL, NULL);
    if (type_is(spec, "LoadBalancer") && hl)
        fe_add_str(e, FE_INVALID, "spec.clusterIPs[0]", ips->child->valuestring,
                   "may not be set to 'None' for LoadBalancer services");
    else if (type_is(spec, "NodePort") && hl)
        fe_add_str(e, FE_INVALID, "spec.clusterIPs[0]", ips->child->valuestring,
                   "may not be set to 'None' for NodePort services");
    else if (type_is(spec, "ExternalName")) {
        if (cJSON_GetArraySize(ips) > 0)
            fe_add(e, FE_FORBIDDEN, "spec.clusterIPs", NULL,
                   "may not be set for ExternalName services");
        if (cJSON_GetArraySize(fu_get(spec, "ipFamilies")) > 0)
            fe_add(e, FE_FORBIDDEN, "spec.ipFamilies", NULL,
                   "may not be set for ExternalName services");
        if (fu_get(spec, "ipFamilyPolicy"))
            fe_add(e, FE_FORBIDDEN, "spec.ipFamilyPolicy", NULL,
                   "may not be set for ExternalName services");
        CK_AUTOFREE char *cname = ck_xstrdup(fu_str(spec, "externalName"));
        size_t n = strlen(cname);
        if (n && cname[n - 1] == '.')
            cname[--n] = 0;
        if (n)
            fu_check(e, "spec.externalName", cname, ck_is_dns1123_subdomain);
        else
            fe_add(e, FE_REQUIRED, "spec.externalName", NULL, NULL);
    }
    cJSON *names = cJSON_CreateObject();
    int i = 0;
    for (const cJSON *p = cJSON_IsArray(ports) ? ports->child : NULL; p; p = p->next, i++)
        validate_port(p, i, nports > 1, names, e);
    cJSON_Delete(names);
    const cJSON *sel = fu_get(spec, "selector");
    if (sel)
        fu_validate_labels(sel, "spec.selector", e);
    const char *aff = fu_str(spec, "sessionAffinity");
    static const char *const AFFINITIES[] = {"ClientIP", "None", NULL};
    fu_check_enum(e, "spec.sessionAffinity", aff, AFFINITIES);
    const cJSON *cfg = fu_get(spec, "sessionAffinityConfig");
    if (!strcmp(aff, "ClientIP")) {
        const cJSON *cip = fu_get(cfg, "clientIP");
        int64_t t = 0;
        if (!cfg)
            fe_add(e, FE_REQUIRED, "spec.sessionAffinityConfig", NULL,
                   "when session affinity type is ClientIP");
        else if (!cip)
            fe_add(e, FE_REQUIRED, "spec.sessionAffinityConfig.clientIP", NULL,
                   "when session affinity type is ClientIP");
        else if (!fu_get(cip, "timeoutSeconds"))
            fe_add(e, FE_REQUIRED, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", NULL,
                   "when session affinity type is ClientIP");
        else if (!fu_int(cip, "timeoutSeconds", &t) || t <= 0 || t > MAX_AFFINITY_SECONDS)
            fe_add_int(e, FE_INVALID, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", t,
                       "must be greater than 0 and less than 86400");
    } else if (!strcmp(aff, "None") && cfg) {
        fe_add(e, FE_FORBIDDEN, "spec.sessionAffinityConfig", NULL,
               "must not be set when session affinity is None");
    }
    validate_cluster_ips(spec, e);
    i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, fu_get(spec, "externalIPs"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("spec.externalIPs[%d]", i++);
        const char *v = cJSON_IsString(it) ? it->valuestring : "";
        if (fu_check(e, f, v, ck_is_valid_ip) == 0)
            non_special_ip(v, f, e);
    }
    static const char *const TYPES[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
                                        NULL};
    const char *type = svc_type(spec);
    fu_check_enum(e, "spec.type", type, TYPES);
    cJSON *nodeports = cJSON_CreateObject(), *pairs = cJSON_CreateObject();
    i = 0;
    for (const cJSON *p = cJSON_IsArray(ports) ? ports->child : NULL; p; p = p->next, i++) {
        int64_t np = 0;
        fu_int(p, "nodePort", &np);
        if (np && !strcmp(type, "ClusterIP")) {
            CK_AUTOFREE char *f = ck_xasprintf("spec.ports[%d].nodePort", i);
            fe_add(e, FE_FORBIDDEN, f, NULL, "may not be used when `type` is 'ClusterIP'");
        }
    }
    i = 0;
    for (const cJSON *p = cJSON_IsArray(ports) ? ports->child : NULL; p; p = p->next, i++) {
        int64_t np = 0;
        fu_int(p, "nodePort", &np);
        if (!np)
            continue;
        CK_AUTOFREE char *key = ck_xasprintf("%s/%lld", fu_str(p, "protocol"), (long long)np);
        if (cJSON_GetObjectItemCaseSensitive(nodeports, key)) {
            CK_AUTOFREE char *f = ck_xasprintf("spec.ports[%d].nodePort", i);
            fe_add_int(e, FE_DUPLICATE, f, np, NULL);
        } else {
            cJSON_AddTrueToObject(nodeports, key);
        }
    }
    i = 0;
    for (const cJSON *p = cJSON_IsArray(ports) ? ports->child : NULL; p; p = p->next, i++) {
        int64_t port = 0;
        fu_int(p, "port", &port);
        CK_AUTOFREE char *key = ck_xasprintf("%s/%lld", fu_str(p, "protocol"), (long long)port);
        if (cJSON_GetObjectItemCaseSensitive(pairs, key)) {
            CK_AUTOFREE char *f = ck_xasprintf("spec.ports[%d]", i);
            CK_AUTOFREE char *v = port_key(fu_str(p, "protocol"), port);
            fe_add_raw(e, FE_DUPLICATE, f, v, NULL);
        } else {
            cJSON_AddTrueToObject(pairs, key);
        }
    }
    cJSON_Delete(nodeports);
    cJSON_Delete(pairs);
    const cJSON *ranges = fu_get(spec, "loadBalancerSourceRanges");
    if (cJSON_GetArraySize(ranges) > 0) {
        if (strcmp(type, "LoadBalancer"))
            fe_add(e, FE_FORBIDDEN, "spec.LoadBalancerSourceRanges", NULL,
                   "may only be used when `type` is 'LoadBalancer'");
        i = 0;
        cJSON_ArrayForEach(it, ranges)
        {
            CK_AUTOFREE char *f = ck_xasprintf("spec.LoadBalancerSourceRanges[%d]", i++);
            CK_AUTOFREE char *v = ck_xstrdup(cJSON_IsString(it) ? it->valuestring : "");
            char *s = v;
            while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
            size_t n = strlen(s);
            while (n &&
                   (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
                s[--n] = 0;
            valid_cidr(s, f, e);
        }
    }
    if (fu_get(spec, "allocateLoadBalancerNodePorts") && strcmp(type, "LoadBalancer"))
        fe_add(e, FE_FORBIDDEN, "spec.allocateLoadBalancerNodePorts", NULL,
               "may only be used when `type` is 'LoadBalancer'");
    if (!strcmp(type, "LoadBalancer") && !fu_get(spec, "allocateLoadBalancerNodePorts"))
        fe_add(e, FE_REQUIRED, "allocateLoadBalancerNodePorts", NULL, NULL);
    const cJSON *lbc = fu_get(spec, "loadBalancerClass");
    if (lbc) {
        if (!strcmp(type, "LoadBalancer"))
            fu_check(e, "spec.loadBalancerClass", cJSON_IsString(lbc) ? lbc->valuestring : "",
                     ck_is_qualified_name);
        else
            fe_add(e, FE_FORBIDDEN, "spec.loadBalancerClass", NULL,
                   "may only be used when `type` is 'LoadBalancer'");
    }
    const char *etp = fu_str(spec, "externalTrafficPolicy");
    static const char *const POLICIES[] = {"Cluster", "Local", NULL};
    if (!externally_accessible(spec)) {
        if (etp[0])
            fe_add_str(e, FE_INVALID, "spec.externalTrafficPolicy", etp,
                       "may only be set for externally-accessible services");
    } else if (!etp[0]) {
        fe_add(e, FE_REQUIRED, "spec.externalTrafficPolicy", NULL, NULL);
    } else if (!fu_in_list(POLICIES, etp)) {
        fe_not_supported(e, "spec.externalTrafficPolicy", etp, POLICIES);
    }
    int64_t hc = 0;
    fu_int(spec, "healthCheckNodePort", &hc);
    if (!needs_health_check(spec)) {
        if (hc)
            fe_add_int(e, FE_INVALID, "spec.healthCheckNodePort", hc,
                       "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` "
                       "is 'Local'");
    } else if (!hc) {
        fe_add(e, FE_REQUIRED, "spec.healthCheckNodePort", NULL, NULL);
    } else {
        fu_check_port(e, "spec.healthCheckNodePort", hc);
    }
    const cJSON *itp = fu_get(spec, "internalTrafficPolicy");
    if (!itp && needs_cluster_ip(spec))
        fe_add(e, FE_REQUIRED, "spec.internalTrafficPolicy", NULL, NULL);
    if (itp && !(cJSON_IsString(itp) && fu_in_list(POLICIES, itp->valuestring)))
        fe_not_supported(e, "spec.internalTrafficPolicy",
                         cJSON_IsString(itp) ? itp->valuestring : "", POLICIES);
    const cJSON *td = fu_get(spec, "trafficDistribution");
    if (td && !(cJSON_IsString(td) && !strcmp(td->valuestring, "PreferClose"))) {
        static const char *const TD[] = {"PreferClose", NULL};
        fe_not_supported(e, "spec.trafficDistribution", cJSON_IsString(td) ? td->valuestring : "",
                         TD);
    }
}

/* validateUpgradeDowngradeClusterIPs / IPFamilies, loadBalancerClass and
 * healthCheckNodePort immutability. */
static void service_validate_update(const cJSON *svc, const cJSON *old, struct field_errors *e)
{
    const cJSON *spec = fu_get(svc, "spec"), *ospec = fu_get(old, "spec");
    bool external = type_is(spec, "ExternalName") || type_is(ospec, "ExternalName");
    const cJSON *nips = fu_get(spec, "clusterIPs"), *oips = fu_get(ospec, "clusterIPs");
    int nn = cJSON_GetArraySize(nips), on = cJSON_GetArraySize(oips);
    CK_AUTOFREE char *nv = fu_go_render(fu_go_string_slice, nips);
    if (!external && !(headless(ospec) && headless(spec))) {
        const char *first_new = nn && cJSON_IsString(nips->child) ? nips->child->valuestring : "";
        const char *first_old = on && cJSON_IsString(oips->child) ? oips->child->valuestring : "";
        if (on == nn) {
            const cJSON *a = oips ? oips->child : NULL, *b = nips ? nips->child : NULL;
            for (int i = 0; a && b; a = a->next, b = b->next, i++) {
                if (!podspec_go_equal(a, b)) {
                    CK_AUTOFREE char *f = ck_xasprintf("spec.clusterIPs[%d]", i);
                    fe_add_raw(e, FE_INVALID, f, nv, "may not change once set");
                }
            }
        } else if (on > nn) {
            if (nn == 0)
                fe_add_raw(e, FE_INVALID, "spec.clusterIPs[0]", nv,
                           "primary clusterIP can not be unset");
            if (nn > 0 && strcmp(first_new, first_old))
                fe_add_raw(e, FE_INVALID, "spec.clusterIPs[0]", nv, "may not change once set");
            if (nn == 1 && strcmp(fu_str(spec, "ipFamilyPolicy"), "SingleStack")) {
                const cJSON *pol = fu_get(spec, "ipFamilyPolicy");
                CK_AUTOFREE char *pv = NULL;
                if (cJSON_IsString(pol)) {
                    struct ck_buf b = CK_BUF_INIT;
                    ck_buf_put_go_quoted(&b, pol->valuestring);
                    pv = ck_buf_detach(&b);
                }
                fe_add_raw(e, FE_INVALID, "spec.ipFamilyPolicy", pv ? pv : "null",
                           "must be set to 'SingleStack' when releasing the secondary clusterIP");
            }
        } else if (on > 0 && strcmp(first_new, first_old)) {
            fe_add_raw(e, FE_INVALID, "spec.clusterIPs[0]", nv, "may not change once set");
        }
    }
    if (!external && headless(ospec) == headless(spec) && !headless(spec)) {
        const cJSON *nf = fu_get(spec, "ipFamilies"), *of = fu_get(ospec, "ipFamilies");
        int fn = cJSON_GetArraySize(nf), fo = cJSON_GetArraySize(of);
        CK_AUTOFREE char *fv = fu_go_render(go_ip_families, nf);
        if (fn == fo) {
            const cJSON *a = of ? of->child : NULL, *b = nf ? nf->child : NULL;
            for (; a && b; a = a->next, b = b->next)
                if (!podspec_go_equal(a, b))
                    fe_add_raw(e, FE_INVALID, "spec.ipFamilies[0]", fv, "may not change once set");
        } else if (fo > fn) {
            if (nn == 0)
                fe_add_raw(e, FE_INVALID, "spec.ipFamilies[0]", fv,
                           "primary ipFamily can not be unset");
            if (fn > 0 && !podspec_go_equal(nf->child, of->child))
                fe_add_raw(e, FE_INVALID, "spec.ipFamilies[0]", nv, "may not change once set");
        } else if (fo > 0 && fn > 0 && !podspec_go_equal(nf->child, of->child)) {
            fe_add_raw(e, FE_INVALID, "spec.ipFamilies[0]", nv, "may not change once set");
        }
    }
    if (type_is(spec, "LoadBalancer") && type_is(ospec, "LoadBalancer") &&
        !same_member(spec, ospec, "loadBalancerClass")) {
        const cJSON *v = fu_get(spec, "loadBalancerClass");
        if (cJSON_IsString(v))
            fe_add_str(e, FE_INVALID, "spec.loadBalancerClass", v->valuestring,
                       "may not change once set");
        else
            fe_add_raw(e, FE_INVALID, "spec.loadBalancerClass", "null", "may not change once set");
    }
    if (needs_health_check(ospec) && needs_health_check(spec) &&
        !same_member(spec, ospec, "healthCheckNodePort"))
        fe_add(e, FE_FORBIDDEN, "spec.healthCheckNodePort", NULL, "field is immutable");
}

const struct strategy strategy_service = {
    .flags = STRAT_STATUS,
    .name_rule = NAME_DNS1035_LABEL,
    .field_labels = SERVICE_FIELDS,
    .defaults = service_defaults,
    .prepare_create = service_prepare_create,
    .prepare_update = service_prepare_update,
    .validate = service_validate,
    .validate_update = service_validate_update,
};
