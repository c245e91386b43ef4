/* podspec_containers.c - the container rules of ValidatePodSpec: containers, init containers
 * (sidecars with restartPolicy Always) and ephemeral containers, and what each holds: ports,
 * env and envFrom, volume mounts and devices, image pull policy, probes and lifecycle
 * handlers (pkg/apis/core/validation, v1.32). */
#include "podspec_internal.h"

#include <inttypes.h>
#include <string.h>

#include "mem.h"

/* ---- containers ---- */

static int relaxed_env_name(const char *v, struct ck_errlist *l)
{
    if (!v[0]) {
        ck_errlist_add(l, "environment variable name must be non-empty");
        return 1;
    }
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 32 || *p >= 127 || *p == '=') {
            ck_errlist_add(l, "a valid environment variable name must consist only of printable "
                              "ASCII characters other than '='");
            return 1;
        }
    }
    return 0;
}

static const char *const PROTOCOLS[] = {"SCTP", "TCP", "UDP", NULL};

static void validate_ports(struct field_errors *e, const cJSON *ports, const char *base)
{
    cJSON *names = cJSON_CreateObject();
    EACH_OBJ(port, i, ports)
    {
        CK_AUTOFREE char *ip = ck_xasprintf("%s[%d]", base, i);
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", ip);
        const char *name = fu_str(port, "name");
        if (name[0]) {
            if (fu_check(e, fn, name, ck_is_valid_port_name) == 0) {
                if (fu_seen(names, name))
                    fe_add_str(e, FE_DUPLICATE, fn, name, NULL);
            }
        }
        int64_t cp = 0, hp = 0;
        fu_int(port, "containerPort", &cp);
        fu_int(port, "hostPort", &hp);
        CK_AUTOFREE char *fc = ck_xasprintf("%s.containerPort", ip);
        if (cp == 0) {
            fe_add(e, FE_REQUIRED, fc, NULL, NULL);
        } else {
            fu_check_port(e, fc, cp);
        }
        if (hp != 0) {
            CK_AUTOFREE char *fh = ck_xasprintf("%s.hostPort", ip);
            fu_check_port(e, fh, hp);
        }
        const char *proto = fu_str(port, "protocol");
        CK_AUTOFREE char *fp = ck_xasprintf("%s.protocol", ip);
        fu_check_enum(e, fp, proto, PROTOCOLS);
    }
    cJSON_Delete(names);
}

static void key_selector(struct field_errors *e, const cJSON *s, const char *base)
{
    CK_AUTOFREE char *fn = ck_xasprintf("%s.name", base);
    CK_AUTOFREE char *fk = ck_xasprintf("%s.key", base);
    fu_check(e, fn, fu_str(s, "name"), ps_name_subdomain);
    const char *key = fu_str(s, "key");
    if (!key[0])
        fe_add(e, FE_REQUIRED, fk, NULL, NULL);
    else
        fu_check(e, fk, key, ck_is_config_map_key);
}

static void validate_env(struct field_errors *e, const cJSON *env, const char *base)
{
    EACH_OBJ(ev, i, env)
    {
        CK_AUTOFREE char *ip = ck_xasprintf("%s[%d]", base, i);
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", ip);
        const char *name = fu_str(ev, "name");
        if (!name[0])
            fe_add(e, FE_REQUIRED, fn, NULL, NULL);
        else
            fu_check(e, fn, name, relaxed_env_name);
        const cJSON *vf = fu_get(ev, "valueFrom");
        if (!vf)
            continue;
        CK_AUTOFREE char *fv = ck_xasprintf("%s.valueFrom", ip);
        int n = 0;
        const cJSON *x;
        if ((x = fu_get(vf, "fieldRef"))) {
            n++;
            CK_AUTOFREE char *f = ck_xasprintf("%s.fieldRef", fv);
            ps_object_field_selector(e, x, PS_ENV_FIELD_PATHS, f);
        }
        if ((x = fu_get(vf, "resourceFieldRef"))) {
            n++;
            CK_AUTOFREE char *f = ck_xasprintf("%s.resourceFieldRef", fv);
            ps_resource_field_selector(e, x, f, false);
        }
        if ((x = fu_get(vf, "configMapKeyRef"))) {
            n++;
            CK_AUTOFREE char *f = ck_xasprintf("%s.configMapKeyRef", fv);
            key_selector(e, x, f);
        }
        if ((x = fu_get(vf, "secretKeyRef"))) {
            n++;
            CK_AUTOFREE char *f = ck_xasprintf("%s.secretKeyRef", fv);
            key_selector(e, x, f);
        }
        if (n == 0)
            fe_add_str(e, FE_INVALID, fv, "",
                       "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` "
                       "or `secretKeyRef`");
        else if (fu_str(ev, "value")[0])
            fe_add_str(e, FE_INVALID, fv, "", "may not be specified when `value` is not empty");
        else if (n > 1)
            fe_add_str(e, FE_INVALID, fv, "",
                       "may not have more than one field specified at a time");
    }
}

static void validate_env_from(struct field_errors *e, const cJSON *list, const char *base)
{
    EACH_OBJ(ev, i, list)
    {
        CK_AUTOFREE char *ip = ck_xasprintf("%s[%d]", base, i);
        const char *prefix = fu_str(ev, "prefix");
        if (prefix[0]) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.prefix", ip);
            fu_check(e, f, prefix, relaxed_env_name);
        }
        int n = 0;
        static const char *const REFS[] = {"configMapRef", "secretRef"};
        for (size_t r = 0; r < 2; r++) {
            const cJSON *x = fu_get(ev, REFS[r]);
            if (!x)
                continue;
            n++;
            CK_AUTOFREE char *f = ck_xasprintf("%s.%s.name", ip, REFS[r]);
            const char *name = fu_str(x, "name");
            if (!name[0]) {
                fe_add(e, FE_REQUIRED, f, NULL, NULL);
            } else {
                struct ck_errlist l = CK_ERRLIST_INIT;
                ck_name_is_dns_subdomain(name, true, &l);
                fu_add_msgs(e, f, name, &l);
            }
        }
        /* upstream reports these at the list's path, not the item's */
        if (n == 0)
            fe_add_str(e, FE_INVALID, base, "",
                       "must specify one of: `configMapRef` or `secretRef`");
        else if (n > 1)
            fe_add_str(e, FE_INVALID, base, "",
                       "may not have more than one field specified at a time");
    }
}

static const char *mount_path_of(const cJSON *list, const char *name, const char *pathkey)
{
    EACH_OBJ(m, i, list)
    {
        (void)i;
        if (!strcmp(fu_str(m, "name"), name))
            return fu_str(m, pathkey);
    }
    return NULL;
}

static bool path_in(const cJSON *list, const char *pathkey, const char *p)
{
    EACH_OBJ(m, i, list)
    {
        (void)i;
        if (!strcmp(fu_str(m, pathkey), p))
            return true;
    }
    return false;
}

static void validate_mounts(struct field_errors *e, const cJSON *ctr, const char *base,
                            const struct ps_vctx *c)
{
    const cJSON *mounts = fu_get(ctr, "volumeMounts"), *devices = fu_get(ctr, "volumeDevices");
    cJSON *seen = cJSON_CreateObject();
    EACH_OBJ(m, i, mounts)
    {
        CK_AUTOFREE char *ip = ck_xasprintf("%s[%d]", base, i);
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", ip);
        CK_AUTOFREE char *fp = ck_xasprintf("%s.mountPath", ip);
        const char *name = fu_str(m, "name"), *mp = fu_str(m, "mountPath");
        if (!name[0])
            fe_add(e, FE_REQUIRED, fn, NULL, NULL);
        if (!cJSON_GetObjectItemCaseSensitive(c->vols, name))
            fe_add_str(e, FE_NOT_FOUND, fn, name, NULL);
        if (!mp[0])
            fe_add(e, FE_REQUIRED, fp, NULL, NULL);
        if (fu_seen(seen, mp))
            fe_add_str(e, FE_INVALID, fp, mp, "must be unique");
        if (mount_path_of(devices, name, "devicePath"))
            fe_add_str(e, FE_INVALID, fn, name, "must not already exist in volumeDevices");
        if (path_in(devices, "devicePath", mp))
            fe_add_str(e, FE_INVALID, fp, mp, "must not already exist as a path in volumeDevices");
        /* upstream reports subPath problems at the list's path (a long-standing quirk) */
        const char *sub = fu_str(m, "subPath"), *expr = fu_str(m, "subPathExpr");
        if (sub[0]) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.subPath", base);
            ps_local_descending(e, f, sub);
        }
        if (expr[0]) {
            if (sub[0]) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.subPathExpr", ip);
                fe_add_str(e, FE_INVALID, f, expr,
                           "subPathExpr and subPath are mutually exclusive");
            }
            CK_AUTOFREE char *f = ck_xasprintf("%s.subPathExpr", base);
            ps_local_descending(e, f, expr);
        }
        const cJSON *prop = fu_get(m, "mountPropagation");
        if (cJSON_IsString(prop)) {
            static const char *const PROPS[] = {"Bidirectional", "HostToContainer", "None", NULL};
            CK_AUTOFREE char *f = ck_xasprintf("%s.mountPropagation", base);
            if (!fu_in_list(PROPS, prop->valuestring))
                fe_not_supported(e, f, prop->valuestring, PROPS);
            if (!strcmp(prop->valuestring, "Bidirectional") &&
                !cJSON_IsTrue(fu_get(fu_get(ctr, "securityContext"), "privileged")))
                fe_add(e, FE_FORBIDDEN, f, NULL,
                       "Bidirectional mount propagation is available only to privileged "
                       "containers");
        }
        const cJSON *rro = fu_get(m, "recursiveReadOnly");
        if (cJSON_IsString(rro) && strcmp(rro->valuestring, "Disabled")) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.recursiveReadOnly", base);
            static const char *const RRO[] = {"Disabled", "Enabled", "IfPossible", NULL};
            if (!fu_in_list(RRO, rro->valuestring)) {
                fe_not_supported(e, f, rro->valuestring, RRO);
            } else {
                if (!cJSON_IsTrue(fu_get(m, "readOnly")))
                    fe_add(e, FE_FORBIDDEN, f, NULL, "may only be specified when readOnly is true");
                if (cJSON_IsString(prop) && strcmp(prop->valuestring, "None"))
                    fe_add(e, FE_FORBIDDEN, f, NULL,
                           "may only be specified when mountPropagation is None or not specified");
            }
        }
    }
    cJSON_Delete(seen);
    CK_AUTOFREE char *dbase = NULL;
    {
        const char *dot = strrchr(base, '.');
        size_t pre = dot ? (size_t)(dot - base) : 0;
        dbase = ck_xasprintf("%.*s.volumeDevices", (int)pre, base);
    }
    cJSON *names = cJSON_CreateObject(), *paths = cJSON_CreateObject();
    EACH_OBJ(d, i, devices)
    {
        CK_AUTOFREE char *ip = ck_xasprintf("%s[%d]", dbase, i);
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", ip);
        CK_AUTOFREE char *fp = ck_xasprintf("%s.devicePath", ip);
        const char *name = fu_str(d, "name"), *dp = fu_str(d, "devicePath");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c->vols, name);
        if (!name[0])
            fe_add(e, FE_REQUIRED, fn, NULL, NULL);
        if (cJSON_GetObjectItemCaseSensitive(names, name))
            fe_add_str(e, FE_INVALID, fn, name, "must be unique");
        if (kind && strcmp(fu_str(c->vols, name), "pvc"))
            fe_add_str(e, FE_INVALID, fn, name,
                       "can only use volume source type of PersistentVolumeClaim or Ephemeral for "
                       "block mode");
        if (!kind)
            fe_add_str(e, FE_NOT_FOUND, fn, name, NULL);
        if (!dp[0])
            fe_add(e, FE_REQUIRED, fp, NULL, NULL);
        if (cJSON_GetObjectItemCaseSensitive(paths, dp))
            fe_add_str(e, FE_INVALID, fp, dp, "must be unique");
        if (dp[0] && ps_path_has_backstep(dp))
            fe_add_str(e, FE_INVALID, fp, dp, "can not contain backsteps ('..')");
        else if (!cJSON_GetObjectItemCaseSensitive(paths, dp))
            cJSON_AddTrueToObject(paths, dp);
        if (mount_path_of(mounts, name, "mountPath"))
            fe_add_str(e, FE_INVALID, fn, name, "must not already exist in volumeMounts");
        if (path_in(mounts, "mountPath", dp))
            fe_add_str(e, FE_INVALID, fp, dp, "must not already exist as a path in volumeMounts");
        if (name[0] && !cJSON_GetObjectItemCaseSensitive(names, name))
            cJSON_AddTrueToObject(names, name);
    }
    cJSON_Delete(names);
    cJSON_Delete(paths);
}

static void validate_pull_policy(struct field_errors *e, const cJSON *ctr, const char *field)
{
    static const char *const POLICIES[] = {"Always", "IfNotPresent", "Never", NULL};
    const char *p = fu_str(ctr, "imagePullPolicy");
    fu_check_enum(e, field, p, POLICIES);
}

/* ---- probes and handlers ---- */

static void validate_handler(struct field_errors *e, const cJSON *h, const char *base,
                             bool lifecycle, const struct ps_vctx *c)
{
    static const char *const KINDS[] = {"exec", "httpGet", "tcpSocket", "grpc", "sleep"};
    int n = 0;
    for (size_t k = 0; k < CK_ARRAY_SIZE(KINDS); k++) {
        /* probes have no sleep action; lifecycle handlers have no grpc */
        if ((!lifecycle && k == 4) || (lifecycle && k == 3))
            continue;
        const cJSON *x = fu_get(h, KINDS[k]);
        if (!x)
            continue;
        CK_AUTOFREE char *f = ck_xasprintf("%s.%s", base, KINDS[k]);
        if (n++ > 0) {
            fe_add(e, FE_FORBIDDEN, f, NULL, "may not specify more than 1 handler type");
            continue;
        }
        if (k == 0) {
            if (cJSON_GetArraySize(fu_get(x, "command")) == 0) {
                CK_AUTOFREE char *fc = ck_xasprintf("%s.command", f);
                fe_add(e, FE_REQUIRED, fc, NULL, NULL);
            }
        } else if (k == 1) {
            CK_AUTOFREE char *fp = ck_xasprintf("%s.path", f);
            CK_AUTOFREE char *fo = ck_xasprintf("%s.port", f);
            CK_AUTOFREE char *fs = ck_xasprintf("%s.scheme", f);
            CK_AUTOFREE char *fh = ck_xasprintf("%s.httpHeaders", f);
            if (!fu_str(x, "path")[0])
                fe_add(e, FE_REQUIRED, fp, NULL, NULL);
            fu_check_port_num_or_name(e, fo, fu_get(x, "port"));
            static const char *const SCHEMES[] = {"HTTP", "HTTPS", NULL};
            if (!fu_in_list(SCHEMES, fu_str(x, "scheme")))
                fe_not_supported(e, fs, fu_str(x, "scheme"), SCHEMES);
            EACH_OBJ(hdr, j, fu_get(x, "httpHeaders"))
            {
                (void)j;
                fu_check(e, fh, fu_str(hdr, "name"), ck_is_http_header_name);
            }
        } else if (k == 2) {
            CK_AUTOFREE char *fo = ck_xasprintf("%s.port", f);
            fu_check_port_num_or_name(e, fo, fu_get(x, "port"));
        } else if (k == 3) {
            CK_AUTOFREE char *fo = ck_xasprintf("%s.port", f);
            int64_t port = 0;
            fu_int(x, "port", &port);
            fu_check_port(e, fo, port);
        } else if (c->has_grace) {
            int64_t secs = 0;
            fu_int(x, "seconds", &secs);
            if (secs <= 0 || secs > c->grace) {
                fe_add_int(e, FE_INVALID, f, secs,
                           "must be greater than 0 and less than terminationGracePeriodSeconds "
                           "(%" PRId64 "). Enable AllowPodLifecycleSleepActionZeroValue feature "
                           "gate for zero sleep.",
                           c->grace);
            }
        }
    }
    if (n == 0)
        fe_add(e, FE_REQUIRED, base, NULL, "must specify a handler type");
}

enum probe_kind { PROBE_LIVENESS, PROBE_READINESS, PROBE_STARTUP };

static void validate_probe(struct field_errors *e, const cJSON *p, const char *base,
                           enum probe_kind kind, const struct ps_vctx *c)
{
    if (!p)
        return;
    validate_handler(e, p, base, false, c);
    static const char *const NONNEG[] = {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                                         "successThreshold", "failureThreshold"};
    for (size_t k = 0; k < CK_ARRAY_SIZE(NONNEG); k++) {
        int64_t v;
        if (fu_int(p, NONNEG[k], &v) && v < 0) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.%s", base, NONNEG[k]);
            fe_add_int(e, FE_INVALID, f, v, PS_NEGATIVE_MSG);
        }
    }
    int64_t tg;
    CK_AUTOFREE char *ftg = ck_xasprintf("%s.terminationGracePeriodSeconds", base);
    if (fu_int(p, "terminationGracePeriodSeconds", &tg) && tg <= 0)
        fe_add_int(e, FE_INVALID, ftg, tg, "must be greater than 0");
    if (kind == PROBE_READINESS) {
        if (fu_int(p, "terminationGracePeriodSeconds", &tg))
            fe_add_int(e, FE_INVALID, ftg, tg, "must not be set for readinessProbes");
    } else {
        int64_t st = 0;
        fu_int(p, "successThreshold", &st);
        if (st != 1) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.successThreshold", base);
            fe_add_int(e, FE_INVALID, f, st, "must be 1");
        }
    }
}

static void validate_lifecycle(struct field_errors *e, const cJSON *lc, const char *base,
                               const struct ps_vctx *c)
{
    static const char *const HOOKS[] = {"postStart", "preStop"};
    for (size_t k = 0; k < 2; k++) {
        const cJSON *h = fu_get(lc, HOOKS[k]);
        if (!h)
            continue;
        CK_AUTOFREE char *f = ck_xasprintf("%s.%s", base, HOOKS[k]);
        validate_handler(e, h, f, true, c);
    }
}

/* validateContainerCommon: the rules every kind of container shares. */
static void container_common(struct field_errors *e, const cJSON *ctr, const char *base,
                             const struct ps_vctx *c)
{
    CK_AUTOFREE char *fn = ck_xasprintf("%s.name", base);
    ps_required_label(e, fn, fu_str(ctr, "name"));
    if (!fu_str(ctr, "image")[0]) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.image", base);
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
    }
    const char *tmp = fu_str(ctr, "terminationMessagePolicy");
    CK_AUTOFREE char *ft = ck_xasprintf("%s.terminationMessagePolicy", base);
    static const char *const TMP[] = {"File", "FallbackToLogsOnError", NULL};
    fu_check_enum(e, ft, tmp, TMP);
    CK_AUTOFREE char *fp = ck_xasprintf("%s.ports", base);
    validate_ports(e, fu_get(ctr, "ports"), fp);
    CK_AUTOFREE char *fe_ = ck_xasprintf("%s.env", base);
    validate_env(e, fu_get(ctr, "env"), fe_);
    CK_AUTOFREE char *ff = ck_xasprintf("%s.envFrom", base);
    validate_env_from(e, fu_get(ctr, "envFrom"), ff);
    CK_AUTOFREE char *fm = ck_xasprintf("%s.volumeMounts", base);
    validate_mounts(e, ctr, fm, c);
    CK_AUTOFREE char *fi = ck_xasprintf("%s.imagePullPolicy", base);
    validate_pull_policy(e, ctr, fi);
    CK_AUTOFREE char *fr = ck_xasprintf("%s.resources", base);
    ps_validate_resources(e, fu_get(ctr, "resources"), fr, c);
    CK_AUTOFREE char *fz = ck_xasprintf("%s.resizePolicy", base);
    EACH_OBJ(rp, i, fu_get(ctr, "resizePolicy"))
    {
        (void)i;
        static const char *const RES[] = {"cpu", "memory", NULL};
        static const char *const POL[] = {"NotRequired", "RestartContainer", NULL};
        const char *rn = fu_str(rp, "resourceName"), *pol = fu_str(rp, "restartPolicy");
        fu_check_enum(e, fz, rn, RES);
        fu_check_enum(e, fz, pol, POL);
    }
    CK_AUTOFREE char *fs = ck_xasprintf("%s.securityContext", base);
    ps_container_security_context(e, fu_get(ctr, "securityContext"), fs);
}

/* AccumulateUniqueHostPorts over the containers of arr (or the single container `one`). */
static void host_port_conflicts(struct field_errors *e, const cJSON *arr, const cJSON *one,
                                int one_index, const char *path)
{
    cJSON *seen = cJSON_CreateObject();
    int ci = 0;
    const cJSON *ctr = one ? one : (cJSON_IsArray(arr) ? arr->child : NULL);
    for (; ctr; ctr = one ? NULL : ctr->next, ci++) {
        int idx = one ? one_index : ci;
        EACH_OBJ(port, pi, fu_get(ctr, "ports"))
        {
            int64_t hp = 0;
            fu_int(port, "hostPort", &hp);
            if (hp == 0)
                continue;
            CK_AUTOFREE char *key = ck_xasprintf("%s/%s/%" PRId64, fu_str(port, "protocol"),
                                                 fu_str(port, "hostIP"), hp);
            if (fu_seen(seen, key)) {
                CK_AUTOFREE char *f = ck_xasprintf("%s[%d].ports[%d].hostPort", path, idx, pi);
                fe_add_str(e, FE_DUPLICATE, f, key, NULL);
            }
        }
    }
    cJSON_Delete(seen);
}

/* ---- container lists ---- */

void ps_validate_containers(struct field_errors *e, const cJSON *spec, const char *path,
                            const struct ps_vctx *c)
{
    const cJSON *list = fu_get(spec, "containers");
    CK_AUTOFREE char *base = ck_xasprintf("%s.containers", path);
    if (cJSON_GetArraySize(list) == 0) {
        fe_add(e, FE_REQUIRED, base, NULL, NULL);
        return;
    }
    cJSON *names = cJSON_CreateObject();
    EACH_OBJ(ctr, i, list)
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s[%d]", base, i);
        container_common(e, ctr, p, c);
        const char *name = fu_str(ctr, "name");
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", p);
        if (fu_seen(names, name))
            fe_add_str(e, FE_DUPLICATE, fn, name, NULL);
        const cJSON *lc = fu_get(ctr, "lifecycle");
        if (lc) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.lifecycle", p);
            validate_lifecycle(e, lc, f, c);
        }
        CK_AUTOFREE char *fl = ck_xasprintf("%s.livenessProbe", p);
        CK_AUTOFREE char *fr = ck_xasprintf("%s.readinessProbe", p);
        CK_AUTOFREE char *fs = ck_xasprintf("%s.startupProbe", p);
        validate_probe(e, fu_get(ctr, "livenessProbe"), fl, PROBE_LIVENESS, c);
        validate_probe(e, fu_get(ctr, "readinessProbe"), fr, PROBE_READINESS, c);
        validate_probe(e, fu_get(ctr, "startupProbe"), fs, PROBE_STARTUP, c);
        if (fu_get(ctr, "restartPolicy")) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.restartPolicy", p);
            fe_add(e, FE_FORBIDDEN, f, NULL, "may not be set for non-init containers");
        }
    }
    cJSON_Delete(names);
    host_port_conflicts(e, list, NULL, 0, base);
}

void ps_validate_init_containers(struct field_errors *e, const cJSON *spec, const char *path,
                                 const struct ps_vctx *c)
{
    CK_AUTOFREE char *base = ck_xasprintf("%s.initContainers", path);
    cJSON *names = cJSON_CreateObject();
    EACH_OBJ(ctr, i, fu_get(spec, "containers"))
    {
        (void)i;
        const char *n = fu_str(ctr, "name");
        if (!cJSON_GetObjectItemCaseSensitive(names, n))
            cJSON_AddTrueToObject(names, n);
    }
    EACH_OBJ(ctr, i, fu_get(spec, "initContainers"))
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s[%d]", base, i);
        container_common(e, ctr, p, c);
        bool always = false;
        const cJSON *rp = fu_get(ctr, "restartPolicy");
        if (rp) {
            const char *v = cJSON_IsString(rp) ? rp->valuestring : "";
            always = !strcmp(v, "Always");
            if (!always) {
                static const char *const ALWAYS[] = {"Always", NULL};
                CK_AUTOFREE char *f = ck_xasprintf("%s.restartPolicy", p);
                fe_not_supported(e, f, v, ALWAYS);
            }
        }
        const char *name = fu_str(ctr, "name");
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", p);
        if (cJSON_GetObjectItemCaseSensitive(names, name))
            fe_add_str(e, FE_DUPLICATE, fn, name, NULL);
        else if (name[0])
            cJSON_AddTrueToObject(names, name);
        /* upstream checks each init container alone, so it always reports index 0 */
        host_port_conflicts(e, NULL, ctr, 0, base);
        static const char *const PROBES[] = {"livenessProbe", "readinessProbe", "startupProbe"};
        if (always) {
            const cJSON *lc = fu_get(ctr, "lifecycle");
            if (lc) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.lifecycle", p);
                validate_lifecycle(e, lc, f, c);
            }
            for (int k = 0; k < 3; k++) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.%s", p, PROBES[k]);
                validate_probe(e, fu_get(ctr, PROBES[k]), f, (enum probe_kind)k, c);
            }
        } else {
            static const char *const NOT[] = {"lifecycle", "livenessProbe", "readinessProbe",
                                              "startupProbe"};
            for (size_t k = 0; k < CK_ARRAY_SIZE(NOT); k++) {
                if (!fu_get(ctr, NOT[k]))
                    continue;
                CK_AUTOFREE char *f = ck_xasprintf("%s.%s", p, NOT[k]);
                fe_add(e, FE_FORBIDDEN, f, NULL,
                       "may not be set for init containers without restartPolicy=Always");
            }
        }
        if (cJSON_GetArraySize(fu_get(ctr, "resizePolicy")) > 0) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.resizePolicy", p);
            fe_add_raw(e, FE_INVALID, f, "[]core.ContainerResizePolicy{...}",
                       "must not be set for init containers");
        }
    }
    cJSON_Delete(names);
}

void ps_validate_ephemeral_containers(struct field_errors *e, const cJSON *spec, const char *path,
                                      const struct ps_vctx *c)
{
    CK_AUTOFREE char *base = ck_xasprintf("%s.ephemeralContainers", path);
    cJSON *others = cJSON_CreateObject(), *all = cJSON_CreateObject();
    static const char *const LISTS[] = {"containers", "initContainers"};
    for (int l = 0; l < 2; l++) {
        EACH_OBJ(ctr, i, fu_get(spec, LISTS[l]))
        {
            (void)i;
            const char *n = fu_str(ctr, "name");
            if (!cJSON_GetObjectItemCaseSensitive(others, n)) {
                cJSON_AddTrueToObject(others, n);
                cJSON_AddTrueToObject(all, n);
            }
        }
    }
    static const char *const DISALLOWED[] = {"ports",          "resources",    "livenessProbe",
                                             "readinessProbe", "startupProbe", "lifecycle",
                                             "resizePolicy",   "restartPolicy"};
    EACH_OBJ(ec, i, fu_get(spec, "ephemeralContainers"))
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s[%d]", base, i);
        container_common(e, ec, p, c);
        const char *img = fu_str(ec, "image");
        size_t n = strlen(img);
        if (n && (img[0] == ' ' || img[0] == '\t' || img[0] == '\n' || img[n - 1] == ' ' ||
                  img[n - 1] == '\t' || img[n - 1] == '\n')) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.image", p);
            fe_add_str(e, FE_INVALID, f, img, "must not have leading or trailing whitespace");
        }
        const char *name = fu_str(ec, "name");
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", p);
        if (fu_seen(all, name))
            fe_add_str(e, FE_DUPLICATE, fn, name, NULL);
        const char *target = fu_str(ec, "targetContainerName");
        if (target[0] && !cJSON_GetObjectItemCaseSensitive(others, target)) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.targetContainerName", p);
            fe_add_str(e, FE_NOT_FOUND, f, target, NULL);
        }
        for (size_t k = 0; k < CK_ARRAY_SIZE(DISALLOWED); k++) {
            const cJSON *v = fu_get(ec, DISALLOWED[k]);
            /* the defaulted empty resources struct is the zero value */
            if (!v || (cJSON_IsObject(v) && !v->child) || (cJSON_IsArray(v) && !v->child))
                continue;
            CK_AUTOFREE char *f = ck_xasprintf("%s.%s", p, DISALLOWED[k]);
            fe_add(e, FE_FORBIDDEN, f, NULL, "cannot be set for an Ephemeral Container");
        }
        EACH_OBJ(vm, j, fu_get(ec, "volumeMounts"))
        {
            static const char *const SUB[] = {"subPath", "subPathExpr"};
            for (int k = 0; k < 2; k++) {
                if (!fu_str(vm, SUB[k])[0])
                    continue;
                CK_AUTOFREE char *f = ck_xasprintf("%s.volumeMounts[%d].%s", p, j, SUB[k]);
                fe_add(e, FE_FORBIDDEN, f, NULL, "cannot be set for an Ephemeral Container");
            }
        }
    }
    cJSON_Delete(others);
    cJSON_Delete(all);
}
