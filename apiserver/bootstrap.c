/* bootstrap.c - system namespaces and the kubernetes Service at start-up (see bootstrap.h). */
#include "bootstrap.h"

#include <arpa/inet.h>

#include "hooks.h"
#include "json.h"
#include "log.h"
#include "objmeta.h"
#include "priority.h"
#include "service_alloc.h"

static const char *const SYSTEM_NAMESPACES[] = {"default", "kube-system", "kube-public",
                                                "kube-node-lease", NULL};

/* The first address of the service range (10.96.0.1 for 10.96.0.0/12) as a string. */
static void first_service_ip(const struct apiserver *s, char out[64])
{
    struct in_addr in = {.s_addr = htonl(s->service_ips.base + 1)};
    inet_ntop(AF_INET, &in, out, 64);
}

/* Creates obj (kind r) unless it exists; takes ownership of obj. */
static int ensure(struct apiserver *s, const struct resource *r, cJSON *obj, struct ck_error *err)
{
    cJSON *cur = NULL;
    struct ck_error e = CK_ERROR_INIT;
    int rc = store_get(&s->store, r, meta_namespace(obj), meta_name(obj), &cur, &e);
    cJSON_Delete(cur);
    if (rc == 0 || e.code != 404) {
        if (rc < 0)
            ck_error_set(err, e.code, e.reason, "%s", e.message);
        ck_error_clear(&e);
        cJSON_Delete(obj);
        return rc;
    }
    ck_error_clear(&e);
    meta_prepare_create(r, obj);
    const struct resource_hooks *h = hooks_for(r);
    if (h && h->create && (rc = h->create(s, obj, err)) < 0) {
        cJSON_Delete(obj);
        return rc;
    }
    rc = store_create(&s->store, r, obj, &e);
    if (rc < 0 && h && h->create_failed)
        h->create_failed(s, obj);
    if (rc < 0 && e.code != 409)
        ck_error_set(err, e.code, e.reason, "%s", e.message);
    else
        rc = 0;
    ck_error_clear(&e);
    ck_info("created %s %s/%s", r->plural, meta_namespace(obj), meta_name(obj));
    cJSON_Delete(obj);
    return rc;
}

/* default/kubernetes: the Service in front of the apiserver itself, with the first service IP
 * (upstream's bootstrap controller); its endpoints come when the apiserver knows its own
 * advertised address. */
static int kubernetes_service(struct apiserver *s, struct ck_error *err)
{
    char ip[64];
    first_service_ip(s, ip);
    cJSON *svc = cJSON_Parse("{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":"
                             "{\"name\":\"kubernetes\",\"namespace\":\"default\",\"labels\":"
                             "{\"component\":\"apiserver\",\"provider\":\"kubernetes\"}},"
                             "\"spec\":{\"type\":\"ClusterIP\",\"sessionAffinity\":\"None\","
                             "\"ports\":[{\"name\":\"https\",\"protocol\":\"TCP\",\"port\":443}]}}");
    ck_json_set_string(svc, "spec.clusterIP", ip);
    ck_json_set_int64(ck_json_get(svc, "spec.ports[0]"), "targetPort", s->cfg->secure_port);
    int rc = ensure(s, resource_find("", "v1", "services"), svc, err);
    const char *adv = s->cfg->advertise_address;
    if (rc < 0 || !adv || !adv[0])
        return rc;
    cJSON *ep = cJSON_Parse("{\"kind\":\"Endpoints\",\"apiVersion\":\"v1\",\"metadata\":"
                            "{\"name\":\"kubernetes\",\"namespace\":\"default\",\"labels\":"
                            "{\"endpointslice.kubernetes.io/skip-mirror\":\"true\"}},"
                            "\"subsets\":[{\"addresses\":[{}],\"ports\":[{\"name\":\"https\","
                            "\"protocol\":\"TCP\"}]}]}");
    ck_json_set_string(ep, "subsets[0].addresses[0].ip", adv);
    ck_json_set_int64(ep, "subsets[0].ports[0].port", s->cfg->secure_port);
    rc = ensure(s, resource_find("", "v1", "endpoints"), ep, err);
    if (rc < 0)
        return rc;
    cJSON *es = cJSON_Parse("{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\","
                            "\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\","
                            "\"labels\":{\"kubernetes.io/service-name\":\"kubernetes\"}},"
                            "\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[],"
                            "\"conditions\":{\"ready\":true}}],\"ports\":[{\"name\":\"https\","
                            "\"protocol\":\"TCP\"}]}");
    cJSON_AddItemToArray(ck_json_get(es, "endpoints[0].addresses"), cJSON_CreateString(adv));
    ck_json_set_int64(es, "ports[0].port", s->cfg->secure_port);
    return ensure(s, resource_find("discovery.k8s.io", "v1", "endpointslices"), es, err);
}

int bootstrap_run(struct apiserver *s, struct ck_error *err)
{
    int rc = service_alloc_repair(s, err);
    if (rc < 0)
        return rc;
    const struct resource *r = resource_find("", "v1", "namespaces");
    for (size_t i = 0; SYSTEM_NAMESPACES[i]; i++) {
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "kind", "Namespace");
        cJSON_AddStringToObject(obj, "apiVersion", "v1");
        meta_set_str(obj, "name", SYSTEM_NAMESPACES[i]);
        if ((rc = ensure(s, r, obj, err)) < 0)
            return rc;
    }
    if ((rc = priority_bootstrap(s, err)) < 0)
        return rc;
    return kubernetes_service(s, err);
}
