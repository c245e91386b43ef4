/* model.c - Services and EndpointSlices as kube-proxy sees them (see model.h): upstream's
 * service change tracker, EndpointSlice cache and CategorizeEndpoints. */
#include "model.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"

/* Bounds on what one object may contribute, so hostile input cannot exhaust memory. */
#define MAX_PORTS_PER_SERVICE 1024
#define MAX_HINTS 64

/* ---- services (upstream's ServicePort) --------------------------------------------------- */

struct port_list {
    size_t *idx;
    size_t n;
};

static void endpoint_free(struct kp_endpoint *e)
{
    for (size_t i = 0; i < e->nzones; i++)
        free(e->zones[i]);
    free(e->zones);
}

static void svc_port_free(struct kp_svc_port *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->neps; i++)
        endpoint_free(&p->eps[i]);
    free(p->eps);
    free(p->name);
    free(p->nsname);
    free(p->port_name);
    free(p);
}

static void port_list_free(void *v)
{
    struct port_list *l = v;
    free(l->idx);
    free(l);
}

void kp_model_free(struct kp_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        svc_port_free(m->ports[i]);
    free(m->ports);
    ck_strmap_free(&m->by_service, port_list_free);
    memset(m, 0, sizeof(*m));
}

/* A port's protocol: absent means TCP (the API default); anything but TCP, UDP or SCTP
 * (including a non-string) makes the port unusable. */
static bool protocol_of(const cJSON *port, const char **lower, uint8_t *ipproto)
{
    const cJSON *item = ck_json_getv(port, "protocol", NULL);
    const char *p = item ? ck_json_as_string(item, "") : "TCP";
    if (strcmp(p, "TCP") == 0) {
        *lower = "tcp";
        *ipproto = IPPROTO_TCP;
    } else if (strcmp(p, "UDP") == 0) {
        *lower = "udp";
        *ipproto = IPPROTO_UDP;
    } else if (strcmp(p, "SCTP") == 0) {
        *lower = "sctp";
        *ipproto = IPPROTO_SCTP;
    } else {
        return false;
    }
    return true;
}

static uint16_t port_of(const cJSON *item)
{
    int64_t v = ck_json_as_int64(item, 0);
    return v > 0 && v <= 65535 ? (uint16_t)v : 0;
}

/* upstream GetClusterIPByFamily(IPv4): the first IPv4 of spec.clusterIPs, else spec.clusterIP. */
static bool cluster_ipv4(const cJSON *spec, uint32_t *ip)
{
    const cJSON *ips = ck_json_getv(spec, "clusterIPs", NULL);
    if (cJSON_IsArray(ips) && cJSON_GetArraySize(ips) > 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, ips)
        {
            if (kp_parse_ipv4(ck_json_as_string(it, ""), ip) == 0)
                return true;
        }
        return false;
    }
    return kp_parse_ipv4(ck_json_get_string(spec, "clusterIP", ""), ip) == 0;
}

static void model_add_port(struct kp_model *m, struct kp_svc_port *p)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->ports = ck_xrealloc(m->ports, m->cap * sizeof(*m->ports));
    }
    m->ports[m->n++] = p;
}

/* upstream's service change tracker + newBaseServiceInfo, for every port of one Service. */
static void parse_service(struct kp_model *m, const cJSON *svc)
{
    const char *ns = ck_json_get_string(svc, "metadata.namespace", "");
    const char *name = ck_json_get_string(svc, "metadata.name", "");
    const cJSON *spec = ck_json_getv(svc, "spec", NULL);
    if (!*name || !cJSON_IsObject(spec))
        return;
    if (ck_json_getv(svc, "metadata", "labels", "service.kubernetes.io/service-proxy-name", NULL))
        return;
    const char *type = ck_json_get_string(spec, "type", "ClusterIP");
    if (strcmp(type, "ExternalName") == 0)
        return;
    const char *cip = ck_json_get_string(spec, "clusterIP", "");
    if (!*cip || strcmp(cip, "None") == 0)
        return;
    uint32_t cluster_ip;
    if (!cluster_ipv4(spec, &cluster_ip))
        return;

    const cJSON *ext = ck_json_getv(spec, "externalIPs", NULL);
    bool lb = strcmp(type, "LoadBalancer") == 0;
    /* apiservice.ExternallyAccessible / ExternalPolicyLocal / InternalPolicyLocal */
    bool svc_external = lb || strcmp(type, "NodePort") == 0 ||
                        (strcmp(type, "ClusterIP") == 0 && cJSON_GetArraySize(ext) > 0);
    bool etp_local =
        svc_external && strcmp(ck_json_get_string(spec, "externalTrafficPolicy", ""), "Local") == 0;
    bool itp_local = strcmp(ck_json_get_string(spec, "internalTrafficPolicy", ""), "Local") == 0;
    bool affinity = strcmp(ck_json_get_string(spec, "sessionAffinity", ""), "ClientIP") == 0;
    int64_t sticky =
        ck_json_get_int64(spec, "sessionAffinityConfig.clientIP.timeoutSeconds", 10800);
    if (sticky <= 0 || sticky > 86400)
        sticky = 10800;

    const cJSON *ports = ck_json_getv(spec, "ports", NULL);
    const cJSON *port;
    int nports = 0;
    cJSON_ArrayForEach(port, ports)
    {
        if (++nports > MAX_PORTS_PER_SERVICE)
            break;
        const char *pname = ck_json_get_string(port, "name", "");
        const char *lower;
        uint8_t ipproto;
        if (!protocol_of(port, &lower, &ipproto))
            continue;
        uint16_t pnum = port_of(ck_json_getv(port, "port", NULL));
        if (!pnum)
            continue;
        struct kp_svc_port *p = ck_xcalloc(1, sizeof(*p));
        p->nsname = ck_xasprintf("%s/%s", ns, name);
        p->name = *pname ? ck_xasprintf("%s:%s", p->nsname, pname) : ck_xstrdup(p->nsname);
        p->port_name = ck_xstrdup(pname);
        p->proto = lower;
        p->ipproto = ipproto;
        p->cluster_ip = cluster_ip;
        p->port = pnum;
        p->node_port = port_of(ck_json_getv(port, "nodePort", NULL));
        p->affinity = affinity;
        p->sticky_seconds = affinity ? (int)sticky : 0;
        p->etp_local = etp_local;
        p->itp_local = itp_local;
        if (lb && etp_local)
            p->hc_node_port = port_of(ck_json_getv(spec, "healthCheckNodePort", NULL));
        const cJSON *it;
        cJSON_ArrayForEach(it, ext)
        {
            uint32_t ip;
            if (p->next < KP_MAX_IPS_PER_SERVICE &&
                kp_parse_ipv4(ck_json_as_string(it, ""), &ip) == 0)
                p->ext_ips[p->next++] = ip;
        }
        cJSON_ArrayForEach(it, ck_json_getv(svc, "status", "loadBalancer", "ingress", NULL))
        {
            uint32_t ip;
            if (strcmp(ck_json_get_string(it, "ipMode", "VIP"), "Proxy") == 0)
                continue;
            if (p->nlb < KP_MAX_IPS_PER_SERVICE &&
                kp_parse_ipv4(ck_json_get_string(it, "ip", ""), &ip) == 0)
                p->lb_ips[p->nlb++] = ip;
        }
        cJSON_ArrayForEach(it, ck_json_getv(spec, "loadBalancerSourceRanges", NULL))
        {
            /* validation lets whitespace through; upstream trims it */
            const char *s = ck_json_as_string(it, "");
            while (isspace((unsigned char)*s))
                s++;
            CK_AUTOFREE char *t = ck_xstrdup(s);
            size_t l = strlen(t);
            while (l && isspace((unsigned char)t[l - 1]))
                t[--l] = '\0';
            if (p->nsrc < KP_MAX_IPS_PER_SERVICE &&
                kp_parse_cidr4(t, &p->src_nets[p->nsrc], &p->src_lens[p->nsrc]) == 0)
                p->nsrc++;
        }
        kp_service_chain_name("KUBE-SVC-", p->name, p->proto, p->svc_chain);
        kp_service_chain_name("KUBE-SVL-", p->name, p->proto, p->svl_chain);
        kp_service_chain_name("KUBE-EXT-", p->name, p->proto, p->ext_chain);
        kp_service_chain_name("KUBE-FW-", p->name, p->proto, p->fw_chain);

        struct port_list *l = ck_strmap_get(&m->by_service, p->nsname);
        if (!l) {
            l = ck_xcalloc(1, sizeof(*l));
            ck_strmap_put(&m->by_service, p->nsname, l);
        }
        l->idx = ck_xrealloc(l->idx, (l->n + 1) * sizeof(*l->idx));
        l->idx[l->n++] = m->n;
        model_add_port(m, p);
    }
}

static void endpoint_push(struct kp_svc_port *p, const struct kp_endpoint *e)
{
    if (p->neps == p->eps_cap) {
        p->eps_cap = p->eps_cap ? p->eps_cap * 2 : 4;
        p->eps = ck_xrealloc(p->eps, p->eps_cap * sizeof(*p->eps));
    }
    p->eps[p->neps++] = *e;
}

/* upstream EndpointSliceCache.addEndpoints for one slice port matched to service port p. */
static void add_slice_endpoints(struct kp_model *m, struct kp_svc_port *p, uint16_t portnum,
                                const cJSON *endpoints, const char *node_name)
{
    const cJSON *ep;
    cJSON_ArrayForEach(ep, endpoints)
    {
        const cJSON *addrs = ck_json_getv(ep, "addresses", NULL);
        if (cJSON_GetArraySize(addrs) < 1)
            continue;
        struct kp_endpoint e;
        memset(&e, 0, sizeof(e));
        if (kp_parse_ipv4(ck_json_as_string(cJSON_GetArrayItem(addrs, 0), ""), &e.ip) < 0)
            continue;
        e.port = portnum;
        char ip[16];
        kp_format_ipv4(e.ip, ip);
        snprintf(e.str, sizeof(e.str), "%s:%u", ip, portnum);
        const char *nn = ck_json_get_string(ep, "nodeName", "");
        e.local = node_name && *node_name && strcmp(nn, node_name) == 0;
        e.ready = ck_json_as_bool(ck_json_getv(ep, "conditions", "ready", NULL), true);
        e.serving = ck_json_as_bool(ck_json_getv(ep, "conditions", "serving", NULL), true);
        e.terminating = ck_json_as_bool(ck_json_getv(ep, "conditions", "terminating", NULL), false);
        const cJSON *z;
        cJSON_ArrayForEach(z, ck_json_getv(ep, "hints", "forZones", NULL))
        {
            const char *zn = ck_json_get_string(z, "name", NULL);
            if (!zn || e.nzones >= MAX_HINTS)
                continue;
            e.zones = ck_xrealloc(e.zones, (e.nzones + 1) * sizeof(*e.zones));
            e.zones[e.nzones++] = ck_xstrdup(zn);
        }
        e.seq = m->seq++;
        endpoint_push(p, &e);
    }
}

static void add_slice(struct kp_model *m, const cJSON *slice, const char *node_name)
{
    if (strcmp(ck_json_get_string(slice, "addressType", ""), "IPv4") != 0)
        return;
    const char *ns = ck_json_get_string(slice, "metadata.namespace", "");
    const char *svc = ck_json_as_string(
        ck_json_getv(slice, "metadata", "labels", "kubernetes.io/service-name", NULL), "");
    if (!*svc || !*ns || !*ck_json_get_string(slice, "metadata.name", ""))
        return;
    CK_AUTOFREE char *key = ck_xasprintf("%s/%s", ns, svc);
    struct port_list *l = ck_strmap_get(&m->by_service, key);
    if (!l)
        return;
    const cJSON *port;
    cJSON_ArrayForEach(port, ck_json_getv(slice, "ports", NULL))
    {
        const cJSON *pn = ck_json_getv(port, "name", NULL);
        uint16_t num = port_of(ck_json_getv(port, "port", NULL));
        if (!cJSON_IsString(pn) || !num) /* upstream ignores nil names and ports */
            continue;
        const char *lower;
        uint8_t ipproto;
        if (!protocol_of(port, &lower, &ipproto))
            continue;
        for (size_t i = 0; i < l->n; i++) {
            struct kp_svc_port *p = m->ports[l->idx[i]];
            if (p->ipproto == ipproto && strcmp(p->port_name, pn->valuestring) == 0)
                add_slice_endpoints(m, p, num, ck_json_getv(slice, "endpoints", NULL), node_name);
        }
    }
}

static int cmp_endpoint_seq(const void *a, const void *b)
{
    const struct kp_endpoint *x = a, *y = b;
    int c = strcmp(x->str, y->str);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts by endpoint string and keeps one endpoint per string: a later duplicate replaces an
 * earlier one unless the later one is terminating (upstream's addEndpoints rule). */
static void finish_endpoints(struct kp_svc_port *p)
{
    if (p->neps == 0)
        return;
    qsort(p->eps, p->neps, sizeof(*p->eps), cmp_endpoint_seq);
    size_t out = 0;
    for (size_t i = 0; i < p->neps;) {
        size_t j = i + 1, keep = i;
        while (j < p->neps && strcmp(p->eps[j].str, p->eps[i].str) == 0) {
            if (!p->eps[j].terminating)
                keep = j;
            j++;
        }
        for (size_t k = i; k < j; k++)
            if (k != keep)
                endpoint_free(&p->eps[k]);
        p->eps[out++] = p->eps[keep];
        i = j;
    }
    p->neps = out;
    for (size_t i = 0; i < p->neps; i++)
        kp_endpoint_chain_name(p->name, p->proto, p->eps[i].str, p->eps[i].chain);
}

static int cmp_port(const void *a, const void *b)
{
    const struct kp_svc_port *x = *(struct kp_svc_port *const *)a,
                             *y = *(struct kp_svc_port *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->proto, y->proto);
}

static int cmp_slice(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    int c = strcmp(ck_json_get_string(x, "metadata.namespace", ""),
                   ck_json_get_string(y, "metadata.namespace", ""));
    return c ? c
             : strcmp(ck_json_get_string(x, "metadata.name", ""),
                      ck_json_get_string(y, "metadata.name", ""));
}

void kp_model_build(struct kp_model *m, const char *node_name, const cJSON *const *services,
                    size_t nservices, const cJSON *const *slices, size_t nslices)
{
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < nservices; i++)
        if (services && services[i])
            parse_service(m, services[i]);
    if (nslices && slices) {
        /* slices in (namespace, name) order: deterministic duplicate handling */
        const cJSON **sorted = ck_xmalloc(nslices * sizeof(*sorted));
        size_t ns = 0;
        for (size_t i = 0; i < nslices; i++)
            if (slices[i])
                sorted[ns++] = slices[i];
        qsort(sorted, ns, sizeof(*sorted), cmp_slice);
        for (size_t i = 0; i < ns; i++)
            add_slice(m, sorted[i], node_name);
        free(sorted);
    }
    for (size_t i = 0; i < m->n; i++) {
        finish_endpoints(m->ports[i]);
        m->total_endpoints += m->ports[i]->neps;
    }
    if (m->n)
        qsort(m->ports, m->n, sizeof(*m->ports), cmp_port);
}

/* ---- endpoint selection (upstream's CategorizeEndpoints) -------------------------------- */

bool kp_svc_externally_accessible(const struct kp_svc_port *p)
{
    return p->node_port != 0 || p->nlb > 0 || p->next > 0;
}

bool kp_uses_cluster_endpoints(const struct kp_svc_port *p)
{
    return !p->itp_local || kp_svc_externally_accessible(p);
}

bool kp_uses_local_endpoints(const struct kp_svc_port *p)
{
    return p->itp_local || (p->etp_local && kp_svc_externally_accessible(p));
}

static bool has_zone(const struct kp_endpoint *e, const char *zone)
{
    for (size_t i = 0; i < e->nzones; i++)
        if (strcmp(e->zones[i], zone) == 0)
            return true;
    return false;
}

/* Topology-aware routing (1.32, traffic distribution on): usable when the node has a zone,
 * every ready endpoint carries zone hints and one of them is for this zone. */
static bool can_use_topology(const struct kp_svc_port *p, const char *zone)
{
    if (!zone || !*zone)
        return false;
    bool for_zone = false;
    for (size_t i = 0; i < p->neps; i++) {
        const struct kp_endpoint *e = &p->eps[i];
        if (!e->ready)
            continue;
        if (e->nzones == 0)
            return false;
        if (has_zone(e, zone))
            for_zone = true;
    }
    return for_zone;
}

static void list_push(struct kp_ep_list *l, const struct kp_endpoint *e)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = ck_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = e;
}

void kp_categorize(const struct kp_svc_port *p, const char *zone, struct kp_categorized *c)
{
    memset(c, 0, sizeof(*c));
    if (kp_uses_cluster_endpoints(p)) {
        bool topo = can_use_topology(p, zone);
        for (size_t i = 0; i < p->neps; i++)
            if (p->eps[i].ready && (!topo || has_zone(&p->eps[i], zone)))
                list_push(&c->cluster, &p->eps[i]);
        if (c->cluster.n == 0)
            for (size_t i = 0; i < p->neps; i++)
                if (p->eps[i].serving && p->eps[i].terminating)
                    list_push(&c->cluster, &p->eps[i]);
        c->has_any = c->cluster.n > 0;
    }
    if (kp_uses_local_endpoints(p)) {
        bool local_ready = false, local_st = false;
        for (size_t i = 0; i < p->neps; i++) {
            const struct kp_endpoint *e = &p->eps[i];
            if (e->ready) {
                c->has_any = true;
                local_ready |= e->local;
            } else if (e->serving && e->terminating) {
                c->has_any = true;
                local_st |= e->local;
            }
        }
        for (size_t i = 0; i < p->neps; i++) {
            const struct kp_endpoint *e = &p->eps[i];
            if (local_ready ? (e->local && e->ready)
                            : local_st && e->local && e->serving && e->terminating)
                list_push(&c->local, e);
        }
    }
    /* the union, in endpoint order: both lists point into p->eps in increasing order */
    size_t i = 0, j = 0;
    while (i < c->cluster.n || j < c->local.n) {
        const struct kp_endpoint *a = i < c->cluster.n ? c->cluster.v[i] : NULL;
        const struct kp_endpoint *b = j < c->local.n ? c->local.v[j] : NULL;
        if (a && (!b || a < b)) {
            list_push(&c->reachable, a);
            i++;
        } else if (b && (!a || b < a)) {
            list_push(&c->reachable, b);
            j++;
        } else {
            list_push(&c->reachable, a);
            i++;
            j++;
        }
    }
}

void kp_categorized_free(struct kp_categorized *c)
{
    free(c->cluster.v);
    free(c->local.v);
    free(c->reachable.v);
}
