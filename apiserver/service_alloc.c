/* service_alloc.c - cluster IPs and node ports of Services (see service_alloc.h).
 *
 * Cluster IPs: every type but ExternalName gets one unless spec.clusterIP is "None"
 * (headless); a requested address must be free and in the service CIDR. Node ports: NodePort
 * services, and LoadBalancer ones unless allocateLoadBalancerNodePorts is false, get one per
 * port; requested ports must be free. Errors read as upstream's, on the field they concern.
 */
#include "service_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "registry/fielderr.h"
#include "server.h"
#include "store.h"

static const char *svc_type(const cJSON *svc)
{
    return ck_json_get_string(svc, "spec.type", "ClusterIP");
}

static bool wants_ip(const cJSON *svc)
{
    return strcmp(svc_type(svc), "ExternalName") &&
           strcmp(ck_json_get_string(svc, "spec.clusterIP", ""), "None");
}

static bool wants_node_ports(const cJSON *svc)
{
    const char *t = svc_type(svc);
    if (!strcmp(t, "NodePort"))
        return true;
    return !strcmp(t, "LoadBalancer") &&
           !cJSON_IsFalse(ck_json_get(svc, "spec.allocateLoadBalancerNodePorts"));
}

/* Turns an allocator error into upstream's Invalid on `field`, the value printed `raw`. */
static int field_error(const cJSON *svc, const char *field, const char *raw, const char *what,
                       const struct ck_error *e, struct ck_error *err)
{
    if (e->code != 422)
        return ck_error_set(err, e->code, e->reason, "%s", e->message);
    struct field_errors fe = FIELD_ERRORS_INIT;
    if (what)
        fe_add_raw(&fe, FE_INVALID, field, raw, "failed to allocate %s: %s", what, e->message);
    else
        fe_add_raw(&fe, FE_INVALID, field, raw, "%s", e->message);
    int rc = fe_to_error(&fe, "", "Service", ck_json_get_string(svc, "metadata.name", ""), err);
    field_errors_free(&fe);
    return rc;
}

static int take_ip(struct apiserver *s, cJSON *svc, struct ck_error *err)
{
    const char *want = ck_json_get_string(svc, "spec.clusterIP", "");
    char got[64];
    struct ck_error e = CK_ERROR_INIT;
    if (alloc_allocate(&s->service_ips, want, got, &e) < 0) {
        char raw[128], what[128];
        snprintf(raw, sizeof(raw), "[]string{\"%s\"}", want);
        snprintf(what, sizeof(what), "IP %s", want);
        int rc = field_error(svc, "spec.clusterIPs", raw, what, &e, err);
        ck_error_clear(&e);
        return rc;
    }
    ck_json_set_string(svc, "spec.clusterIP", got);
    cJSON *ips = cJSON_CreateArray();
    cJSON_AddItemToArray(ips, cJSON_CreateString(got));
    ck_json_set(svc, "spec.clusterIPs", ips);
    return 0;
}

/* Allocates node ports for ports that lack one (or asks for the one requested, when `old`
 * did not already hold it). */
static int take_ports(struct apiserver *s, cJSON *svc, const cJSON *old, struct ck_error *err)
{
    cJSON *ports = ck_json_get(svc, "spec.ports");
    int i = 0;
    cJSON *p;
    cJSON_ArrayForEach(p, ports)
    {
        int64_t np = ck_json_get_int64(p, "nodePort", 0);
        bool held = false;
        const cJSON *op;
        cJSON_ArrayForEach(op, ck_json_get(old, "spec.ports"))
        {
            if (np && ck_json_get_int64(op, "nodePort", 0) == np)
                held = true;
        }
        if (held && wants_node_ports(old)) {
            i++;
            continue;
        }
        char want[32] = "", got[64];
        if (np)
            snprintf(want, sizeof(want), "%lld", (long long)np);
        struct ck_error e = CK_ERROR_INIT;
        if (alloc_allocate(&s->service_ports, want, got, &e) < 0) {
            /* upstream: spec.ports[0].nodePort: Invalid value: 30080: provided port is ... */
            char field[64], raw[32];
            snprintf(field, sizeof(field), "spec.ports[%d].nodePort", i);
            snprintf(raw, sizeof(raw), "%lld", (long long)np);
            int rc = field_error(svc, field, raw, NULL, &e, err);
            ck_error_clear(&e);
            return rc;
        }
        ck_json_set_int64(p, "nodePort", strtoll(got, NULL, 10));
        i++;
    }
    return 0;
}

/* Releases what `a` holds and `b` does not (b may be NULL: everything). */
static void release_diff(struct apiserver *s, const cJSON *a, const cJSON *b)
{
    if (!a)
        return;
    const char *ip = ck_json_get_string(a, "spec.clusterIP", "");
    if (wants_ip(a) && ip[0] && (!b || !wants_ip(b) ||
                                 strcmp(ip, ck_json_get_string(b, "spec.clusterIP", ""))))
        alloc_release(&s->service_ips, ip, NULL);
    if (!wants_node_ports(a))
        return;
    const cJSON *p;
    cJSON_ArrayForEach(p, ck_json_get(a, "spec.ports"))
    {
        int64_t np = ck_json_get_int64(p, "nodePort", 0);
        if (!np)
            continue;
        bool kept = false;
        if (b && wants_node_ports(b)) {
            const cJSON *q;
            cJSON_ArrayForEach(q, ck_json_get(b, "spec.ports")) kept |=
                ck_json_get_int64(q, "nodePort", 0) == np;
        }
        if (!kept) {
            char v[32];
            snprintf(v, sizeof(v), "%lld", (long long)np);
            alloc_release(&s->service_ports, v, NULL);
        }
    }
}

int service_alloc_create(struct apiserver *s, cJSON *svc, struct ck_error *err)
{
    int rc;
    if (wants_ip(svc) && (rc = take_ip(s, svc, err)) < 0)
        return rc;
    if (wants_node_ports(svc) && (rc = take_ports(s, svc, NULL, err)) < 0) {
        release_diff(s, svc, NULL);
        return rc;
    }
    return 0;
}

void service_alloc_create_failed(struct apiserver *s, const cJSON *svc)
{
    release_diff(s, svc, NULL);
}

int service_alloc_update(struct apiserver *s, cJSON *svc, const cJSON *old, struct ck_error *err)
{
    int rc;
    if (wants_ip(svc) && !wants_ip(old) && (rc = take_ip(s, svc, err)) < 0)
        return rc;
    if (wants_node_ports(svc) && (rc = take_ports(s, svc, old, err)) < 0) {
        release_diff(s, svc, old);
        return rc;
    }
    if (!wants_node_ports(svc)) { /* a service that stops being a NodePort loses its ports */
        cJSON *p;
        cJSON_ArrayForEach(p, ck_json_get(svc, "spec.ports"))
            cJSON_DeleteItemFromObjectCaseSensitive(p, "nodePort");
    }
    return 0;
}

void service_alloc_update_done(struct apiserver *s, const cJSON *stored, const cJSON *old,
                               const cJSON *tried)
{
    if (stored)
        release_diff(s, old, stored); /* what the old version held and the new does not */
    else
        release_diff(s, tried, old); /* what this attempt took */
}

void service_alloc_deleted(struct apiserver *s, const cJSON *svc)
{
    release_diff(s, svc, NULL);
}

int service_alloc_repair(struct apiserver *s, struct ck_error *err)
{
    struct store_list_opts o = {.ns = ""};
    struct store_list_result res;
    int rc = store_list(&s->store, resource_find("", "v1", "services"), &o, &res, err);
    if (rc < 0)
        return rc;
    size_t n = (size_t)cJSON_GetArraySize(res.items), ni = 0, np = 0;
    const char **ips = ck_xcalloc(n + 1, sizeof(char *));
    size_t cap = 16;
    char **ports = ck_xcalloc(cap, sizeof(char *));
    const cJSON *svc;
    cJSON_ArrayForEach(svc, res.items)
    {
        if (wants_ip(svc) && ck_json_get_string(svc, "spec.clusterIP", "")[0])
            ips[ni++] = ck_json_get_string(svc, "spec.clusterIP", "");
        if (!wants_node_ports(svc))
            continue;
        const cJSON *p;
        cJSON_ArrayForEach(p, ck_json_get(svc, "spec.ports"))
        {
            int64_t v = ck_json_get_int64(p, "nodePort", 0);
            if (!v)
                continue;
            if (np == cap)
                ports = ck_xrealloc(ports, (cap *= 2) * sizeof(char *));
            ports[np++] = ck_xasprintf("%lld", (long long)v);
        }
    }
    rc = alloc_repair(&s->service_ips, ips, ni, err);
    if (rc == 0)
        rc = alloc_repair(&s->service_ports, (const char *const *)ports, np, err);
    for (size_t i = 0; i < np; i++)
        free(ports[i]);
    free(ports);
    free(ips);
    store_list_result_free(&res);
    return rc;
}
