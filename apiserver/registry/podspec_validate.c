/* podspec_validate.c - ValidatePodSpec and the PodTemplateSpec rules (pkg/apis/core/validation,
 * v1.32 with RelaxedEnvironmentVariableValidation on and the sleep action's zero value off),
 * the helpers every part of it shares (paths, file modes, field selectors), security
 * contexts and DNS config. The other parts live in podspec_<part>.c (see podspec_internal.h). */
#include "podspec_internal.h"

#include <string.h>

#include "json.h"
#include "mem.h"
#include "quantity.h"

/* ---- helpers of every part (see podspec_internal.h) ---- */

/* Required when empty, else the DNS-1123 label messages (upstream's pattern for names). */
void ps_required_label(struct field_errors *e, const char *field, const char *v)
{
    if (!v[0])
        fe_add(e, FE_REQUIRED, field, NULL, NULL);
    else
        fu_check(e, field, v, ck_is_dns1123_label);
}

int ps_name_subdomain(const char *v, struct ck_errlist *l)
{
    return ck_name_is_dns_subdomain(v, false, l);
}

/* validatePathNoBacksteps / validateLocalDescendingPath / ValidateLocalNonReservedPath */
bool ps_path_has_backstep(const char *p)
{
    for (const char *s = p;;) {
        const char *end = s + strcspn(s, "/\\");
        if (end - s == 2 && s[0] == '.' && s[1] == '.')
            return true;
        if (!*end)
            return false;
        s = end + 1;
    }
}

void ps_no_backsteps(struct field_errors *e, const char *field, const char *p)
{
    if (ps_path_has_backstep(p))
        fe_add_str(e, FE_INVALID, field, p, "must not contain '..'");
}

void ps_local_descending(struct field_errors *e, const char *field, const char *p)
{
    if (p[0] == '/')
        fe_add_str(e, FE_INVALID, field, p, "must be a relative path");
    ps_no_backsteps(e, field, p);
}

void ps_local_non_reserved(struct field_errors *e, const char *field, const char *p)
{
    ps_local_descending(e, field, p);
    if (!strncmp(p, "..", 2) && strncmp(p, "../", 3))
        fe_add_str(e, FE_INVALID, field, p, "must not start with '..'");
}

/* An optional int32 file mode member. */
void ps_file_mode(struct field_errors *e, const cJSON *o, const char *key, const char *field)
{
    int64_t m;
    if (fu_int(o, key, &m) && (m > 0777 || m < 0))
        fe_add_int(e, FE_INVALID, field, m, PS_FILE_MODE_MSG);
}

void ps_required_str(struct field_errors *e, const cJSON *o, const char *key, const char *base,
                     const char *detail)
{
    if (fu_str(o, key)[0])
        return;
    CK_AUTOFREE char *f = ck_xasprintf("%s.%s", base, key);
    if (detail)
        fe_add(e, FE_REQUIRED, f, NULL, "%s", detail);
    else
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
}

/* podshelper.ConvertDownwardAPIFieldLabel + validateObjectFieldSelector */
const char *const PS_ENV_FIELD_PATHS[] = {
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
    NULL,
};
const char *const PS_VOLUME_FIELD_PATHS[] = {
    "metadata.annotations", "metadata.labels", "metadata.name",
    "metadata.namespace",   "metadata.uid",    NULL,
};

void ps_object_field_selector(struct field_errors *e, const cJSON *fs, const char *const *allowed,
                              const char *base)
{
    const char *version = fu_str(fs, "apiVersion"), *fp = fu_str(fs, "fieldPath");
    CK_AUTOFREE char *fv = ck_xasprintf("%s.apiVersion", base);
    CK_AUTOFREE char *ff = ck_xasprintf("%s.fieldPath", base);
    if (!version[0]) {
        fe_add(e, FE_REQUIRED, fv, NULL, NULL);
        return;
    }
    if (!fp[0]) {
        fe_add(e, FE_REQUIRED, ff, NULL, NULL);
        return;
    }
    if (strcmp(version, "v1")) {
        fe_add_str(e, FE_INVALID, ff, fp, "error converting fieldPath: unsupported pod version: %s",
                   version);
        return;
    }
    /* a subscripted path: metadata.labels['key'] */
    size_t n = strlen(fp);
    const char *open = strstr(fp, "['");
    if (n >= 2 && !strcmp(fp + n - 2, "']") && open && open > fp) {
        CK_AUTOFREE char *path = ck_xstrndup(fp, (size_t)(open - fp));
        CK_AUTOFREE char *sub = ck_xstrndup(open + 2, (size_t)(fp + n - 2 - (open + 2)));
        if (strcmp(path, "metadata.annotations") && strcmp(path, "metadata.labels")) {
            fe_add_str(e, FE_INVALID, ff, fp,
                       "error converting fieldPath: field label does not support subscript: %s",
                       fp);
            return;
        }
        if (!strcmp(path, "metadata.annotations"))
            for (char *p = sub; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
        fu_check(e, base, sub, ck_is_qualified_name);
        return;
    }
    static const char *const KNOWN[] = {
        "metadata.annotations", "metadata.labels", "metadata.name",      "metadata.namespace",
        "metadata.uid",         "spec.nodeName",   "spec.restartPolicy", "spec.serviceAccountName",
        "spec.schedulerName",   "status.phase",    "status.hostIP",      "status.hostIPs",
        "status.podIP",         "status.podIPs",   "spec.host",          NULL,
    };
    if (!fu_in_list(KNOWN, fp)) {
        fe_add_str(e, FE_INVALID, ff, fp,
                   "error converting fieldPath: field label not supported: %s", fp);
        return;
    }
    const char *internal = strcmp(fp, "spec.host") ? fp : "spec.nodeName";
    if (!fu_in_list(allowed, internal))
        fe_not_supported(e, ff, internal, allowed);
}

static const char *const RESOURCE_FIELD_PATHS[] = {
    "limits.cpu",   "limits.ephemeral-storage",   "limits.memory",
    "requests.cpu", "requests.ephemeral-storage", "requests.memory",
    NULL,
};

static void divisor_check(struct field_errors *e, const cJSON *fs, const char *res,
                          const char *base)
{
    const cJSON *d = fu_get(fs, "divisor");
    struct ck_quantity q;
    if (!d || ck_quantity_parse_json(d, &q, NULL) < 0 || ck_quantity_is_zero(&q))
        return;
    char s[CK_QUANTITY_STR_MAX];
    ck_quantity_format(&q, s, sizeof(s));
    static const char *const MEM[] = {"1",   "1k",  "1M",  "1G",  "1T",  "1P",  "1E",
                                      "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei", NULL};
    static const char *const CPU[] = {"1m", "1", NULL};
    CK_AUTOFREE char *f = ck_xasprintf("%s.divisor", base);
    const char *all = "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei";
    if ((!strcmp(res, "limits.cpu") || !strcmp(res, "requests.cpu")) && !fu_in_list(CPU, s))
        fe_add_str(e, FE_INVALID, f, res,
                   "only divisor's values 1m and 1 are supported with the cpu resource");
    else if ((!strcmp(res, "limits.memory") || !strcmp(res, "requests.memory")) &&
             !fu_in_list(MEM, s))
        fe_add_str(e, FE_INVALID, f, res,
                   "only divisor's values %s are supported with the memory resource", all);
    else if ((!strcmp(res, "limits.ephemeral-storage") ||
              !strcmp(res, "requests.ephemeral-storage")) &&
             !fu_in_list(MEM, s))
        fe_add_str(e, FE_INVALID, f, res,
                   "only divisor's values %s are supported with the local ephemeral storage "
                   "resource",
                   all);
    if ((!strncmp(res, "requests.hugepages-", 19) || !strncmp(res, "limits.hugepages-", 17)) &&
        !fu_in_list(MEM, s))
        fe_add_str(e, FE_INVALID, f, res,
                   "only divisor's values %s are supported with the hugepages resource", all);
}

void ps_resource_field_selector(struct field_errors *e, const cJSON *fs, const char *base,
                                bool volume)
{
    const char *res = fu_str(fs, "resource");
    if (volume && !fu_str(fs, "containerName")[0]) {
        ps_required_str(e, fs, "containerName", base, NULL);
    } else if (!res[0]) {
        ps_required_str(e, fs, "resource", base, NULL);
    } else if (!fu_in_list(RESOURCE_FIELD_PATHS, res) && strncmp(res, "requests.hugepages-", 19) &&
               strncmp(res, "limits.hugepages-", 17)) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.resource", base);
        fe_not_supported(e, f, res, RESOURCE_FIELD_PATHS);
    }
    divisor_check(e, fs, res, base);
}

/* ---- security contexts ---- */

static void id_range(struct field_errors *e, const cJSON *o, const char *key, const char *base)
{
    int64_t v;
    if (fu_int(o, key, &v) && (v < 0 || v > 2147483647)) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.%s", base, key);
        fe_add_int(e, FE_INVALID, f, v, "must be between 0 and 2147483647, inclusive");
    }
}

static void seccomp_profile(struct field_errors *e, const cJSON *sp, const char *base)
{
    if (!sp)
        return;
    CK_AUTOFREE char *ft = ck_xasprintf("%s.type", base);
    CK_AUTOFREE char *fl = ck_xasprintf("%s.localhostProfile", base);
    const char *t = fu_str(sp, "type");
    static const char *const TYPES[] = {"Localhost", "RuntimeDefault", "Unconfined", NULL};
    if (!t[0])
        fe_add(e, FE_REQUIRED, ft, NULL, "type is required when seccompProfile is set");
    else if (!fu_in_list(TYPES, t))
        fe_not_supported(e, ft, t, TYPES);
    const cJSON *lp = fu_get(sp, "localhostProfile");
    if (!strcmp(t, "Localhost")) {
        if (!lp)
            fe_add(e, FE_REQUIRED, fl, NULL, "must be set when seccomp type is Localhost");
        else
            ps_local_descending(e, fl, cJSON_IsString(lp) ? lp->valuestring : "");
    } else if (lp) {
        fe_add_raw(e, FE_INVALID, fl, "{...}", "can only be set when seccomp type is Localhost");
    }
}

void ps_container_security_context(struct field_errors *e, const cJSON *sc, const char *base)
{
    if (!cJSON_IsObject(sc))
        return;
    id_range(e, sc, "runAsUser", base);
    id_range(e, sc, "runAsGroup", base);
    const cJSON *pm = fu_get(sc, "procMount");
    if (cJSON_IsString(pm)) {
        static const char *const PM[] = {"Default", "Unmasked", NULL};
        CK_AUTOFREE char *f = ck_xasprintf("%s.procMount", base);
        if (!fu_in_list(PM, pm->valuestring))
            fe_not_supported(e, f, pm->valuestring, PM);
    }
    CK_AUTOFREE char *fs = ck_xasprintf("%s.seccompProfile", base);
    seccomp_profile(e, fu_get(sc, "seccompProfile"), fs);
    if (cJSON_IsFalse(fu_get(sc, "allowPrivilegeEscalation")) &&
        cJSON_IsTrue(fu_get(sc, "privileged")))
        fe_add_raw(e, FE_INVALID, base, "{...}",
                   "cannot set `allowPrivilegeEscalation` to false and `privileged` to true");
}

/* ---- DNS config and the pod's security context ---- */

static void validate_dns_config(struct field_errors *e, const cJSON *spec, const char *path)
{
    const cJSON *cfg = fu_get(spec, "dnsConfig");
    CK_AUTOFREE char *base = ck_xasprintf("%s.dnsConfig", path);
    CK_AUTOFREE char *fn = ck_xasprintf("%s.nameservers", base);
    CK_AUTOFREE char *fs = ck_xasprintf("%s.searches", base);
    if (!strcmp(fu_str(spec, "dnsPolicy"), "None")) {
        if (!cfg) {
            fe_add(e, FE_REQUIRED, base, NULL, "must provide `dnsConfig` when `dnsPolicy` is None");
            return;
        }
        if (cJSON_GetArraySize(fu_get(cfg, "nameservers")) == 0) {
            fe_add(e, FE_REQUIRED, fn, NULL,
                   "must provide at least one DNS nameserver when `dnsPolicy` is None");
            return;
        }
    }
    if (!cfg)
        return;
    const cJSON *ns = fu_get(cfg, "nameservers"), *se = fu_get(cfg, "searches");
    if (cJSON_GetArraySize(ns) > 3) {
        fu_add_go(e, FE_INVALID, fn, fu_go_string_slice, ns,
                  "must not have more than 3 nameservers");
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ns)
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s[%d]", fn, i++);
        fu_check(e, f, cJSON_IsString(it) ? it->valuestring : "", ck_is_valid_ip);
    }
    size_t chars = 0;
    int count = cJSON_GetArraySize(se);
    cJSON_ArrayForEach(it, se) chars += (cJSON_IsString(it) ? strlen(it->valuestring) : 0) + 1;
    if (count > 32) {
        fu_add_go(e, FE_INVALID, fs, fu_go_string_slice, se,
                  "must not have more than 32 search paths");
    }
    if (count && chars - 1 > 2048) {
        fu_add_go(e, FE_INVALID, fs, fu_go_string_slice, se,
                  "must not have more than 2048 characters (including spaces) in the search list");
    }
    i = 0;
    cJSON_ArrayForEach(it, se)
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s[%d]", fs, i++);
        CK_AUTOFREE char *s = ck_xstrdup(cJSON_IsString(it) ? it->valuestring : "");
        size_t n = strlen(s);
        if (n && s[n - 1] == '.')
            s[n - 1] = 0;
        fu_check(e, f, s, ck_is_dns1123_subdomain);
    }
    EACH_OBJ(opt, j, fu_get(cfg, "options"))
    {
        if (!fu_str(opt, "name")[0]) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.options[%d]", base, j);
            fe_add(e, FE_REQUIRED, f, NULL, "must not be empty");
        }
    }
}

static void validate_pod_security_context(struct field_errors *e, const cJSON *spec,
                                          const char *path)
{
    const cJSON *sc = fu_get(spec, "securityContext");
    if (!cJSON_IsObject(sc))
        return;
    CK_AUTOFREE char *base = ck_xasprintf("%s.securityContext", path);
    id_range(e, sc, "fsGroup", base);
    id_range(e, sc, "runAsUser", base);
    id_range(e, sc, "runAsGroup", base);
    int g = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, fu_get(sc, "supplementalGroups"))
    {
        int64_t v = 0;
        if (cJSON_IsNumber(it) && ck_json_to_int64(it, &v) == 0 && (v < 0 || v > 2147483647)) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.supplementalGroups[%d]", base, g);
            fe_add_int(e, FE_INVALID, f, v, "must be between 0 and 2147483647, inclusive");
        }
        g++;
    }
    if (cJSON_IsTrue(fu_get(spec, "shareProcessNamespace")) &&
        cJSON_IsTrue(fu_get(spec, "hostPID"))) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.shareProcessNamespace", base);
        fe_add_raw(e, FE_INVALID, f, "true",
                   "ShareProcessNamespace and HostPID cannot both be enabled");
    }
    cJSON *names = cJSON_CreateObject();
    EACH_OBJ(s, i, fu_get(sc, "sysctls"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.sysctls[%d].name", base, i);
        const char *n = fu_str(s, "name");
        bool ok = n[0] && strlen(n) <= 253;
        /* [a-z0-9]([-_a-z0-9]*[a-z0-9])? segments joined by '.' or '/' */
        for (const char *p = n; ok && *p;) {
            const char *end = p + strcspn(p, "./");
            ok = end > p && ps_is_lower_alnum(p[0]) && ps_is_lower_alnum(end[-1]);
            for (const char *q = p; ok && q < end; q++)
                ok = ps_is_lower_alnum(*q) || *q == '-' || *q == '_';
            if (!*end)
                break;
            p = end + 1;
            ok = ok && *p;
        }
        if (!n[0])
            fe_add(e, FE_REQUIRED, f, NULL, NULL);
        else if (!ok)
            fe_add_str(e, FE_INVALID, f, n,
                       "must have at most 253 characters and match regex "
                       "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$");
        else if (cJSON_GetObjectItemCaseSensitive(names, n))
            fe_add_str(e, FE_DUPLICATE, f, n, NULL);
        if (n[0] && !cJSON_GetObjectItemCaseSensitive(names, n))
            cJSON_AddTrueToObject(names, n);
    }
    cJSON_Delete(names);
    const cJSON *fcp = fu_get(sc, "fsGroupChangePolicy");
    if (fcp) {
        static const char *const POL[] = {"Always", "OnRootMismatch", NULL};
        CK_AUTOFREE char *f = ck_xasprintf("%s.fsGroupChangePolicy", base);
        const char *v = cJSON_IsString(fcp) ? fcp->valuestring : "";
        if (!fu_in_list(POL, v))
            fe_not_supported(e, f, v, POL);
    }
    CK_AUTOFREE char *fs = ck_xasprintf("%s.seccompProfile", base);
    seccomp_profile(e, fu_get(sc, "seccompProfile"), fs);
}

/* ---- ValidatePodSpec ---- */

/* core.LocalObjectReference{Name:"x"} */
static void go_local_object_reference(struct ck_buf *b, const cJSON *ref)
{
    static const char *const FIELDS[] = {"Name", "name", NULL};
    fu_go_struct(b, "core.LocalObjectReference", ref, FIELDS);
}

void podspec_validate_opts(const cJSON *spec, const char *path, const struct podspec_opts *o,
                           struct field_errors *e)
{
    if (!cJSON_IsObject(spec)) {
        /* a missing spec is Go's zero PodSpec, which decoding would have defaulted */
        cJSON *zero = cJSON_CreateObject();
        podspec_defaults(zero);
        podspec_validate_opts(zero, path, o, e);
        cJSON_Delete(zero);
        return;
    }
    static const struct podspec_opts none = {false, NULL};
    struct ps_vctx c = {o ? o : &none, cJSON_CreateObject(), cJSON_CreateObject(), false, 0};
    c.has_grace = fu_int(spec, "terminationGracePeriodSeconds", &c.grace);
    if (!fu_get(spec, "terminationGracePeriodSeconds")) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.terminationGracePeriodSeconds", path);
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
    }
    CK_AUTOFREE char *fv = ck_xasprintf("%s.volumes", path);
    ps_validate_volumes(e, fu_get(spec, "volumes"), fv, &c);
    EACH_OBJ(cl, i, fu_get(spec, "resourceClaims"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.resourceClaims[%d].name", path, i);
        const char *n = fu_str(cl, "name");
        if (!n[0]) {
            fe_add(e, FE_REQUIRED, f, NULL, NULL);
        } else if (cJSON_GetObjectItemCaseSensitive(c.claims, n)) {
            fe_add_str(e, FE_DUPLICATE, f, n, NULL);
        } else {
            fu_check(e, f, n, ck_is_dns1123_label);
            cJSON_AddTrueToObject(c.claims, n);
        }
    }
    ps_validate_containers(e, spec, path, &c);
    ps_validate_init_containers(e, spec, path, &c);
    ps_validate_ephemeral_containers(e, spec, path, &c);
    if (cJSON_IsTrue(fu_get(spec, "hostNetwork"))) {
        EACH_OBJ(ctr, i, fu_get(spec, "containers"))
        {
            EACH_OBJ(port, j, fu_get(ctr, "ports"))
            {
                int64_t hp = 0, cp = 0;
                fu_int(port, "hostPort", &hp);
                fu_int(port, "containerPort", &cp);
                if ((c.o->resource_is_pod || hp != 0) && hp != cp) {
                    CK_AUTOFREE char *f =
                        ck_xasprintf("%s.containers[%d].ports[%d].hostPort", path, i, j);
                    fe_add_int(e, FE_INVALID, f, hp,
                               "must match `containerPort` when `hostNetwork` is true");
                }
            }
        }
    }
    CK_AUTOFREE char *fr = ck_xasprintf("%s.restartPolicy", path);
    const char *rp = fu_str(spec, "restartPolicy");
    static const char *const RESTART[] = {"Always", "OnFailure", "Never", NULL};
    fu_check_enum(e, fr, rp, RESTART);
    CK_AUTOFREE char *fd = ck_xasprintf("%s.dnsPolicy", path);
    const char *dp = fu_str(spec, "dnsPolicy");
    static const char *const DNS[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None",
                                      NULL};
    fu_check_enum(e, fd, dp, DNS);
    CK_AUTOFREE char *fns = ck_xasprintf("%s.nodeSelector", path);
    fu_validate_labels(fu_get(spec, "nodeSelector"), fns, e);
    validate_pod_security_context(e, spec, path);
    EACH_OBJ(ref, i, fu_get(spec, "imagePullSecrets"))
    {
        for (const cJSON *k = ref->child; k; k = k->next) {
            if (strcmp(k->string, "name")) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.imagePullSecrets[%d]", path, i);
                fu_add_go(e, FE_INVALID, f, go_local_object_reference, ref, "only name may be set");
                break;
            }
        }
    }
    CK_AUTOFREE char *fa = ck_xasprintf("%s.affinity", path);
    ps_validate_affinity(e, fu_get(spec, "affinity"), fa);
    validate_dns_config(e, spec, path);
    EACH_OBJ(rg, i, fu_get(spec, "readinessGates"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.readinessGates[%d].conditionType", path, i);
        fu_check(e, f, fu_str(rg, "conditionType"), ck_is_qualified_name);
    }
    cJSON *gates = cJSON_CreateObject();
    EACH_OBJ(g, i, fu_get(spec, "schedulingGates"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.schedulingGates[%d]", path, i);
        const char *n = fu_str(g, "name");
        fu_check(e, f, n, ck_is_qualified_name);
        if (fu_seen(gates, n))
            fe_add_str(e, FE_DUPLICATE, f, n, NULL);
    }
    cJSON_Delete(gates);
    CK_AUTOFREE char *ft = ck_xasprintf("%s.topologySpreadConstraints", path);
    ps_validate_topology_spread(e, fu_get(spec, "topologySpreadConstraints"), ft);
    const char *sa = fu_str(spec, "serviceAccountName");
    if (sa[0]) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.serviceAccountName", path);
        fu_check(e, f, sa, ps_name_subdomain);
    }
    const char *node = fu_str(spec, "nodeName");
    if (node[0]) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.nodeName", path);
        fu_check(e, f, node, ps_name_subdomain);
    }
    int64_t ads;
    if (fu_int(spec, "activeDeadlineSeconds", &ads) && (ads < 1 || ads > 2147483647)) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.activeDeadlineSeconds", path);
        fe_add_int(e, FE_INVALID, f, ads, "must be between 1 and 2147483647, inclusive");
    }
    static const char *const LABELS[] = {"hostname", "subdomain"};
    for (int k = 0; k < 2; k++) {
        const char *v = fu_str(spec, LABELS[k]);
        if (v[0]) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.%s", path, LABELS[k]);
            fu_check(e, f, v, ck_is_dns1123_label);
        }
    }
    CK_AUTOFREE char *ftol = ck_xasprintf("%s.tolerations", path);
    podspec_validate_tolerations(fu_get(spec, "tolerations"), ftol, e);
    EACH_OBJ(ha, i, fu_get(spec, "hostAliases"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.hostAliases[%d].ip", path, i);
        fu_check(e, f, fu_str(ha, "ip"), ck_is_valid_ip);
        int j = 0;
        const cJSON *h;
        cJSON_ArrayForEach(h, fu_get(ha, "hostnames"))
        {
            CK_AUTOFREE char *fh = ck_xasprintf("%s.hostAliases[%d].hostnames[%d]", path, i, j++);
            fu_check(e, fh, cJSON_IsString(h) ? h->valuestring : "", ck_is_dns1123_subdomain);
        }
    }
    const char *pcn = fu_str(spec, "priorityClassName");
    if (pcn[0]) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.priorityClassName", path);
        fu_check(e, f, pcn, ps_name_subdomain);
    }
    const cJSON *rcn = fu_get(spec, "runtimeClassName");
    if (rcn) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.runtimeClassName", path);
        fu_check(e, f, cJSON_IsString(rcn) ? rcn->valuestring : "", ps_name_subdomain);
    }
    const cJSON *pp = fu_get(spec, "preemptionPolicy");
    if (pp) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.preemptionPolicy", path);
        static const char *const PP[] = {"PreemptLowerPriority", "Never", NULL};
        const char *v = cJSON_IsString(pp) ? pp->valuestring : "";
        fu_check_enum(e, f, v, PP);
    }
    const cJSON *oh = fu_get(spec, "overhead");
    if (oh) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.overhead", path);
        cJSON *req = cJSON_CreateObject();
        cJSON_AddItemToObject(req, "limits", cJSON_Duplicate(oh, 1));
        ps_validate_resources(e, req, f, &c);
        cJSON_Delete(req);
    }
    const cJSON *os = fu_get(spec, "os");
    if (os) {
        const char *n = fu_str(os, "name");
        static const char *const OS[] = {"linux", "windows", NULL};
        CK_AUTOFREE char *f = ck_xasprintf("%s.os", path);
        CK_AUTOFREE char *fn = ck_xasprintf("%s.os.name", path);
        if (!n[0])
            fe_add(e, FE_REQUIRED, fn, NULL, "cannot be empty");
        else if (!fu_in_list(OS, n))
            fe_not_supported(e, f, n, OS);
    }
    cJSON_Delete(c.vols);
    cJSON_Delete(c.claims);
}

void podspec_validate(const cJSON *spec, const char *path, struct field_errors *e)
{
    podspec_validate_opts(spec, path, NULL, e);
}

void podtemplate_validate(const cJSON *tmpl, const char *path, struct field_errors *e)
{
    if (!cJSON_IsObject(tmpl)) {
        cJSON *zero = cJSON_CreateObject();
        podtemplate_validate(zero, path, e);
        cJSON_Delete(zero);
        return;
    }
    const cJSON *meta = fu_get(tmpl, "metadata");
    CK_AUTOFREE char *fl = ck_xasprintf("%s.labels", path);
    CK_AUTOFREE char *fa = ck_xasprintf("%s.annotations", path);
    CK_AUTOFREE char *fs = ck_xasprintf("%s.spec", path);
    fu_validate_labels(fu_get(meta, "labels"), fl, e);
    fu_validate_annotations(fu_get(meta, "annotations"), fa, e);
    podspec_validate(fu_get(tmpl, "spec"), fs, e);
    if (cJSON_GetArraySize(fu_get(fu_get(tmpl, "spec"), "ephemeralContainers")) > 0) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.spec.ephemeralContainers", path);
        fe_add(e, FE_FORBIDDEN, f, NULL, "ephemeral containers not allowed in pod template");
    }
}
