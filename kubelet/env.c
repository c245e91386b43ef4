/* env.c - container environment variables (see env.h). */
#include "kubelet/env.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "encoding.h"
#include "json.h"
#include "kubelet/runtime/bundle.h"
#include "mem.h"
#include "quantity.h"

void kl_env_free(struct kl_env *env)
{
    if (!env)
        return;
    for (size_t i = 0; i < env->n; i++)
        free(env->v[i]);
    free(env->v);
    env->v = NULL;
    env->n = 0;
}

static ssize_t env_find(const struct kl_env *env, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < env->n; i++)
        if (!strncmp(env->v[i], name, nl) && env->v[i][nl] == '=')
            return (ssize_t)i;
    return -1;
}

const char *kl_env_get(const struct kl_env *env, const char *name)
{
    ssize_t i = env_find(env, name);
    return i < 0 ? NULL : env->v[i] + strlen(name) + 1;
}

void kl_env_set(struct kl_env *env, const char *name, const char *value)
{
    char *kv = ck_xasprintf("%s=%s", name, value ? value : "");
    ssize_t i = env_find(env, name);
    if (i >= 0) {
        free(env->v[i]);
        env->v[i] = kv;
        return;
    }
    env->v = ck_xrealloc(env->v, (env->n + 1) * sizeof(*env->v));
    env->v[env->n++] = kv;
}

/* upstream makeEnvVariableName: upper case, '-' -> '_' */
static char *env_name(const char *s)
{
    char *r = ck_xstrdup(s);
    for (char *p = r; *p; p++)
        *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    return r;
}

static void set_if_absent(struct kl_env *env, const char *name, const char *value)
{
    if (env_find(env, name) < 0)
        kl_env_set(env, name, value);
}

static bool cluster_ip_set(const cJSON *svc)
{
    const char *ip = ck_json_get_string(svc, "spec.clusterIP", "");
    return ip[0] && strcmp(ip, "None") != 0;
}

void kl_env_add_services(struct kl_env *env, const cJSON *services)
{
    const cJSON *svc;
    cJSON_ArrayForEach(svc, services)
    {
        const cJSON *ports = ck_json_get(svc, "spec.ports");
        if (!cluster_ip_set(svc) || cJSON_GetArraySize(ports) == 0)
            continue;
        const char *ip = ck_json_get_string(svc, "spec.clusterIP", "");
        CK_AUTOFREE char *prefix = env_name(ck_json_get_string(svc, "metadata.name", ""));
        CK_AUTOFREE char *host = ck_xasprintf("%s_SERVICE_HOST", prefix);
        set_if_absent(env, host, ip);
        CK_AUTOFREE char *sport = ck_xasprintf("%s_SERVICE_PORT", prefix);
        char num[32];
        snprintf(num, sizeof(num), "%lld",
                 (long long)ck_json_get_int64(cJSON_GetArrayItem(ports, 0), "port", 0));
        set_if_absent(env, sport, num);
        const cJSON *p;
        cJSON_ArrayForEach(p, ports)
        {
            const char *pn = ck_json_get_string(p, "name", "");
            if (!pn[0])
                continue;
            CK_AUTOFREE char *n = env_name(pn);
            CK_AUTOFREE char *k = ck_xasprintf("%s_%s", sport, n);
            snprintf(num, sizeof(num), "%lld", (long long)ck_json_get_int64(p, "port", 0));
            set_if_absent(env, k, num);
        }
        bool first = true;
        cJSON_ArrayForEach(p, ports)
        {
            long long port = (long long)ck_json_get_int64(p, "port", 0);
            CK_AUTOFREE char *proto_up = env_name(ck_json_get_string(p, "protocol", "TCP"));
            CK_AUTOFREE char *proto = ck_xstrdup(proto_up);
            for (char *c = proto; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            bool v6 = strchr(ip, ':') != NULL;
            CK_AUTOFREE char *url =
                ck_xasprintf("%s://%s%s%s:%lld", proto, v6 ? "[" : "", ip, v6 ? "]" : "", port);
            if (first) {
                CK_AUTOFREE char *k = ck_xasprintf("%s_PORT", prefix);
                set_if_absent(env, k, url);
                first = false;
            }
            CK_AUTOFREE char *pp = ck_xasprintf("%s_PORT_%lld_%s", prefix, port, proto_up);
            set_if_absent(env, pp, url);
            CK_AUTOFREE char *k1 = ck_xasprintf("%s_PROTO", pp);
            set_if_absent(env, k1, proto);
            CK_AUTOFREE char *k2 = ck_xasprintf("%s_PORT", pp);
            snprintf(num, sizeof(num), "%lld", port);
            set_if_absent(env, k2, num);
            CK_AUTOFREE char *k3 = ck_xasprintf("%s_ADDR", pp);
            set_if_absent(env, k3, ip);
        }
    }
}

/* the services a pod sees: its namespace's (with enableServiceLinks) and default/kubernetes */
static cJSON *visible_services(const cJSON *pod, const cJSON *services)
{
    const char *ns = ck_json_get_string(pod, "metadata.namespace", "default");
    bool links = ck_json_get_bool(pod, "spec.enableServiceLinks", true);
    cJSON *out = cJSON_CreateArray();
    const cJSON *svc;
    cJSON_ArrayForEach(svc, services)
    {
        const char *sns = ck_json_get_string(svc, "metadata.namespace", "");
        const char *name = ck_json_get_string(svc, "metadata.name", "");
        if (!cluster_ip_set(svc))
            continue;
        bool master = !strcmp(sns, "default") && !strcmp(name, "kubernetes");
        if (master || (links && !strcmp(sns, ns)))
            cJSON_AddItemToArray(out, ck_json_dup(svc));
    }
    return out;
}

/* configMap or secret value for a key ref; 0, 1 (optional and missing), <0 error */
static int key_ref(const cJSON *ref, bool secret, const char *ns, kl_object_getter get, void *gctx,
                   char **out, struct ck_error *err)
{
    const char *name = ck_json_get_string(ref, "name", "");
    const char *key = ck_json_get_string(ref, "key", "");
    bool optional = ck_json_get_bool(ref, "optional", false);
    cJSON *obj = NULL;
    struct ck_error gerr = CK_ERROR_INIT;
    int rc = get ? get(gctx, secret ? "secrets" : "configmaps", ns, name, &obj, &gerr) : -ENOENT;
    ck_error_clear(&gerr);
    if (rc == -ENOENT) {
        if (optional)
            return 1;
        return ck_error_set(err, 404, "CreateContainerConfigError", "%s \"%s\" not found",
                            secret ? "secret" : "configmap", name);
    }
    if (rc < 0)
        return ck_error_set(err, 500, "CreateContainerConfigError", "failed to get %s %s/%s: %s",
                            secret ? "secret" : "configmap", ns, name, strerror(-rc));
    const cJSON *v = ck_json_getv(obj, "data", key, NULL);
    bool b64 = secret;
    if (!v && !secret) {
        v = ck_json_getv(obj, "binaryData", key, NULL);
        b64 = true;
    }
    if (!cJSON_IsString(v)) {
        cJSON_Delete(obj);
        if (optional)
            return 1;
        return ck_error_set(err, 404, "CreateContainerConfigError",
                            "couldn't find key %s in %s %s/%s", key,
                            secret ? "Secret" : "ConfigMap", ns, name);
    }
    if (b64) {
        uint8_t *raw = NULL;
        size_t n = 0;
        if (ck_base64_decode(v->valuestring, strlen(v->valuestring), &raw, &n) < 0) {
            cJSON_Delete(obj);
            return ck_error_set(err, 500, "CreateContainerConfigError",
                                "invalid base64 data for key %s", key);
        }
        *out = ck_xstrndup((const char *)raw, n);
        free(raw);
    } else {
        *out = ck_xstrdup(v->valuestring);
    }
    cJSON_Delete(obj);
    return 0;
}

static int env_from(const cJSON *c, const char *ns, kl_object_getter get, void *gctx,
                    struct kl_env *env, struct ck_error *err)
{
    const cJSON *ef;
    cJSON_ArrayForEach(ef, ck_json_getv(c, "envFrom", NULL))
    {
        const char *prefix = ck_json_get_string(ef, "prefix", "");
        const cJSON *ref = ck_json_getv(ef, "configMapRef", NULL);
        bool secret = false;
        if (!ref) {
            ref = ck_json_getv(ef, "secretRef", NULL);
            secret = true;
        }
        if (!ref)
            continue;
        const char *name = ck_json_get_string(ref, "name", "");
        cJSON *obj = NULL;
        struct ck_error gerr = CK_ERROR_INIT;
        int rc =
            get ? get(gctx, secret ? "secrets" : "configmaps", ns, name, &obj, &gerr) : -ENOENT;
        ck_error_clear(&gerr);
        if (rc == -ENOENT) {
            if (ck_json_get_bool(ref, "optional", false))
                continue;
            return ck_error_set(err, 404, "CreateContainerConfigError", "%s \"%s\" not found",
                                secret ? "secret" : "configmap", name);
        }
        if (rc < 0)
            return ck_error_set(err, 500, "CreateContainerConfigError",
                                "failed to get %s %s/%s: %s", secret ? "secret" : "configmap", ns,
                                name, strerror(-rc));
        const cJSON *e;
        cJSON_ArrayForEach(e, ck_json_getv(obj, "data", NULL))
        {
            if (!e->string || strchr(e->string, '=') || !cJSON_IsString(e))
                continue;
            CK_AUTOFREE char *k = ck_xasprintf("%s%s", prefix, e->string);
            if (secret) {
                uint8_t *raw = NULL;
                size_t n = 0;
                if (ck_base64_decode(e->valuestring, strlen(e->valuestring), &raw, &n) < 0)
                    continue;
                CK_AUTOFREE char *val = ck_xstrndup((const char *)raw, n);
                free(raw);
                kl_env_set(env, k, val);
            } else {
                kl_env_set(env, k, e->valuestring);
            }
        }
        cJSON_Delete(obj);
    }
    return 0;
}

int kl_container_env(const cJSON *pod, const cJSON *c, const struct kl_downward_env *denv,
                     kl_object_getter get, void *gctx, const cJSON *services, struct kl_env *env,
                     struct ck_error *err)
{
    memset(env, 0, sizeof(*env));
    const char *ns = ck_json_get_string(pod, "metadata.namespace", "default");
    cJSON *vis = visible_services(pod, services);
    struct kl_env svc_env = {0};
    kl_env_add_services(&svc_env, vis);
    cJSON_Delete(vis);
    int rc = env_from(c, ns, get, gctx, env, err);
    const cJSON *e;
    cJSON_ArrayForEach(e, ck_json_getv(c, "env", NULL))
    {
        if (rc < 0)
            break;
        const char *name = ck_json_get_string(e, "name", "");
        if (!name[0])
            continue;
        const cJSON *vf = ck_json_getv(e, "valueFrom", NULL);
        if (!vf) {
            /* $(VAR) over the service variables and everything defined so far */
            size_t n = svc_env.n + env->n;
            const char **all = ck_xcalloc(n + 1, sizeof(*all));
            for (size_t i = 0; i < svc_env.n; i++)
                all[i] = svc_env.v[i];
            for (size_t i = 0; i < env->n; i++)
                all[svc_env.n + i] = env->v[i];
            char *val = kl_expand_vars(ck_json_get_string(e, "value", ""), all, n);
            free(all);
            kl_env_set(env, name, val);
            free(val);
            continue;
        }
        char *val = NULL;
        const cJSON *r;
        if ((r = ck_json_getv(vf, "fieldRef", NULL))) {
            rc = kl_downward_field(pod, denv, ck_json_get_string(r, "fieldPath", ""), &val, err);
        } else if ((r = ck_json_getv(vf, "resourceFieldRef", NULL))) {
            const char *cn = ck_json_get_string(r, "containerName", "");
            if (!cn[0])
                cn = ck_json_get_string(c, "name", "");
            const cJSON *dv = ck_json_getv(r, "divisor", NULL);
            char dbuf[CK_QUANTITY_STR_MAX] = "1";
            struct ck_quantity dq;
            if (dv && ck_quantity_parse_json(dv, &dq, NULL) == 0)
                ck_quantity_format(&dq, dbuf, sizeof(dbuf));
            rc = kl_downward_resource(pod, denv, cn, ck_json_get_string(r, "resource", ""), dbuf,
                                      &val, err);
        } else if ((r = ck_json_getv(vf, "configMapKeyRef", NULL))) {
            rc = key_ref(r, false, ns, get, gctx, &val, err);
        } else if ((r = ck_json_getv(vf, "secretKeyRef", NULL))) {
            rc = key_ref(r, true, ns, get, gctx, &val, err);
        } else {
            continue;
        }
        if (rc == 0)
            kl_env_set(env, name, val);
        if (rc == 1)
            rc = 0; /* optional and missing: not set */
        free(val);
    }
    if (rc == 0)
        for (size_t i = 0; i < svc_env.n; i++) {
            char *eq = strchr(svc_env.v[i], '=');
            CK_AUTOFREE char *k = ck_xstrndup(svc_env.v[i], (size_t)(eq - svc_env.v[i]));
            set_if_absent(env, k, eq + 1);
        }
    kl_env_free(&svc_env);
    if (rc < 0)
        kl_env_free(env);
    return rc < 0 ? rc : 0;
}
