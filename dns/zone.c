/* zone.c - answers from the Service and EndpointSlice stores (see zone.h). */
#include "dns/zone.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "mem.h"

#define SERVICE_NAME_LABEL "kubernetes.io/service-name"
#define MAX_LABELS 8

/* ---- store indexes ---------------------------------------------------------------------- */

void dns_index_slice_service(const cJSON *obj, struct ck_strlist *out)
{
    const char *ns = ck_json_get_string(obj, "metadata.namespace", "");
    const char *svc =
        ck_json_as_string(ck_json_getv(obj, "metadata", "labels", SERVICE_NAME_LABEL, NULL), NULL);
    if (!svc || !*svc)
        return;
    CK_AUTOFREE char *key = ck_xasprintf("%s/%s", ns, svc);
    ck_strlist_add(out, key);
}

void dns_index_slice_ip(const cJSON *obj, struct ck_strlist *out)
{
    const cJSON *ep;
    cJSON_ArrayForEach(ep, ck_json_get(obj, "endpoints"))
    {
        const char *ip =
            ck_json_as_string(cJSON_GetArrayItem(ck_json_get(ep, "addresses"), 0), NULL);
        if (ip && *ip)
            ck_strlist_add(out, ip);
    }
}

void dns_index_service_ip(const cJSON *obj, struct ck_strlist *out)
{
    const cJSON *ips = ck_json_get(obj, "spec.clusterIPs");
    const cJSON *ip;
    bool any = false;
    cJSON_ArrayForEach(ip, ips)
    {
        const char *s = ck_json_as_string(ip, NULL);
        if (s && *s && strcmp(s, "None") != 0) {
            ck_strlist_add(out, s);
            any = true;
        }
    }
    const char *one = ck_json_get_string(obj, "spec.clusterIP", NULL);
    if (!any && one && *one && strcmp(one, "None") != 0)
        ck_strlist_add(out, one);
}

/* ---- record sets ------------------------------------------------------------------------ */

static struct dns_rr *rr_add(struct dns_rrset *s, const char *owner, uint16_t type, uint32_t ttl)
{
    if (s->n >= DNS_MAX_ANSWERS)
        return NULL;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4;
        s->v = ck_xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    struct dns_rr *rr = &s->v[s->n++];
    memset(rr, 0, sizeof(*rr));
    snprintf(rr->name, sizeof(rr->name), "%s", owner);
    rr->type = type;
    rr->class = DNS_CLASS_IN;
    rr->ttl = ttl;
    return rr;
}

void dns_answer_free(struct dns_answer *a)
{
    if (!a)
        return;
    free(a->an.v);
    free(a->ns.v);
    free(a->ar.v);
    memset(a, 0, sizeof(*a));
}

/* Adds an A or AAAA record for ip when it is of the asked family (or family 0: either). */
static bool add_addr(struct dns_rrset *s, const char *owner, const char *ip, uint16_t qtype,
                     uint32_t ttl)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, ip, &a4) == 1) {
        if (qtype != DNS_T_A && qtype != DNS_T_ANY)
            return false;
        struct dns_rr *rr = rr_add(s, owner, DNS_T_A, ttl);
        if (rr)
            memcpy(rr->d.a, &a4, 4);
        return rr != NULL;
    }
    if (inet_pton(AF_INET6, ip, &a6) == 1) {
        if (qtype != DNS_T_AAAA && qtype != DNS_T_ANY)
            return false;
        struct dns_rr *rr = rr_add(s, owner, DNS_T_AAAA, ttl);
        if (rr)
            memcpy(rr->d.aaaa, &a6, 16);
        return rr != NULL;
    }
    return false;
}

/* ---- services and endpoints ------------------------------------------------------------- */

struct endpoint {
    const char *ip;     /* borrowed from the slice */
    char host[64];      /* hostname, or the address with dashes */
    const cJSON *ports; /* the slice's ports */
};

struct svc_view {
    struct ck_obj *svc;        /* reference */
    struct ck_obj_list slices; /* references keeping the endpoints' strings alive */
    struct endpoint *eps;
    size_t n_eps;
    bool headless, external;
};

static void svc_view_free(struct svc_view *v)
{
    ck_obj_unref(v->svc);
    ck_obj_list_free(&v->slices);
    free(v->eps);
    memset(v, 0, sizeof(*v));
}

/* CoreDNS' name for an endpoint without hostname: its address with '.'/':' -> '-'. */
static void dashed(const char *ip, char out[64])
{
    snprintf(out, 64, "%s", ip);
    for (char *p = out; *p; p++)
        if (*p == '.' || *p == ':')
            *p = '-';
}

static bool is_headless(const cJSON *svc)
{
    const char *ip = ck_json_get_string(svc, "spec.clusterIP", "");
    return !*ip || strcmp(ip, "None") == 0;
}

/* Loads the service ns/name and (unless ExternalName) its endpoints. -ENOENT if absent. */
static int svc_view_load(const struct dns_zone *z, const char *ns, const char *name,
                         struct svc_view *v)
{
    memset(v, 0, sizeof(*v));
    CK_AUTOFREE char *key = ck_xasprintf("%s/%s", ns, name);
    v->svc = ck_store_get(z->services, key);
    if (!v->svc)
        return -ENOENT;
    const cJSON *s = v->svc->json;
    v->external = strcmp(ck_json_get_string(s, "spec.type", ""), "ExternalName") == 0;
    if (v->external)
        return 0;
    v->headless = is_headless(s);
    bool not_ready_ok = ck_json_get_bool(s, "spec.publishNotReadyAddresses", false);
    if (!z->slices || ck_store_by_index(z->slices, DNS_INDEX_SLICE_SERVICE, key, &v->slices) < 0)
        return 0;
    size_t cap = 0;
    for (size_t i = 0; i < v->slices.n; i++) {
        const cJSON *sl = v->slices.items[i]->json;
        const cJSON *ep;
        cJSON_ArrayForEach(ep, ck_json_get(sl, "endpoints"))
        {
            const char *ip =
                ck_json_as_string(cJSON_GetArrayItem(ck_json_get(ep, "addresses"), 0), NULL);
            if (!ip || !*ip)
                continue;
            /* a missing ready condition means ready, as EndpointSlice consumers treat it */
            if (!ck_json_get_bool(ep, "conditions.ready", true) && !not_ready_ok)
                continue;
            bool dup = false;
            for (size_t k = 0; k < v->n_eps && !dup; k++)
                dup = strcmp(v->eps[k].ip, ip) == 0;
            if (dup)
                continue;
            if (v->n_eps == cap) {
                cap = cap ? 2 * cap : 8;
                v->eps = ck_xrealloc(v->eps, cap * sizeof(*v->eps));
            }
            struct endpoint *e = &v->eps[v->n_eps++];
            e->ip = ip;
            e->ports = ck_json_get(sl, "ports");
            const char *h = ck_json_get_string(ep, "hostname", "");
            if (*h && strlen(h) < sizeof(e->host))
                snprintf(e->host, sizeof(e->host), "%s", h);
            else
                dashed(ip, e->host);
            for (char *p = e->host; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        }
    }
    return 0;
}

static const char *svc_cluster_ip(const cJSON *svc, int i)
{
    const cJSON *ips = ck_json_get(svc, "spec.clusterIPs");
    if (cJSON_IsArray(ips))
        return ck_json_as_string(cJSON_GetArrayItem(ips, i), NULL);
    return i == 0 ? ck_json_get_string(svc, "spec.clusterIP", NULL) : NULL;
}

/* ---- names ------------------------------------------------------------------------------ */

struct qctx {
    const struct dns_zone *z;
    const struct dns_question *q;
    struct dns_answer *a;
    uint32_t ttl;
    char lname[DNS_MAX_NAME]; /* lower-cased, without the final dot */
    char *labels[MAX_LABELS]; /* the labels left of the domain, leftmost first */
    int n_labels;
};

static void add_soa(struct qctx *c, struct dns_rrset *set)
{
    struct dns_rr *rr = rr_add(set, c->z->domain, DNS_T_SOA, c->ttl);
    if (!rr)
        return;
    snprintf(rr->d.soa.mname, sizeof(rr->d.soa.mname), "ns.dns.%s", c->z->domain);
    snprintf(rr->d.soa.rname, sizeof(rr->d.soa.rname), "hostmaster.%s", c->z->domain);
    rr->d.soa.serial = c->z->serial;
    /* CoreDNS' values: refresh 2h, retry 30m, expire 1d, minimum = the TTL */
    rr->d.soa.refresh = 7200;
    rr->d.soa.retry = 1800;
    rr->d.soa.expire = 86400;
    rr->d.soa.minimum = c->ttl;
}

static void nxdomain(struct qctx *c)
{
    c->a->rcode = DNS_RCODE_NXDOMAIN;
}

/* NODATA is NOERROR with no answer; the SOA goes in at the end (finish). */
static void nodata(struct qctx *c)
{
    c->a->rcode = DNS_RCODE_NOERROR;
}

static const char *owner(struct qctx *c)
{
    return c->q->name;
}

/* The target name <svc>.<ns>.svc.<domain> or <host>.<svc>.<ns>.svc.<domain>. */
static void svc_fqdn(struct qctx *c, const char *host, const char *svc, const char *ns, char *out,
                     size_t size)
{
    if (host)
        snprintf(out, size, "%s.%s.%s.svc.%s", host, svc, ns, c->z->domain);
    else
        snprintf(out, size, "%s.%s.svc.%s", svc, ns, c->z->domain);
}

static void add_cname(struct qctx *c, const struct svc_view *v)
{
    const char *ext = ck_json_get_string(v->svc->json, "spec.externalName", "");
    struct dns_rr *rr = *ext ? rr_add(&c->a->an, owner(c), DNS_T_CNAME, c->ttl) : NULL;
    if (rr) {
        snprintf(rr->d.target, sizeof(rr->d.target), "%s", ext);
        size_t l = strlen(rr->d.target);
        if (l && rr->d.target[l - 1] == '.')
            rr->d.target[l - 1] = '\0';
    }
}

/* One SRV per (target, port); weight splits 100 between records of equal priority. */
static void add_srv(struct qctx *c, const char *target, uint16_t port, uint16_t weight,
                    const char *ip)
{
    struct dns_rr *rr = rr_add(&c->a->an, owner(c), DNS_T_SRV, c->ttl);
    if (!rr)
        return;
    rr->d.srv.priority = 0;
    rr->d.srv.weight = weight;
    rr->d.srv.port = port;
    snprintf(rr->d.srv.target, sizeof(rr->d.srv.target), "%s", target);
    /* the target's address as additional (once per target) */
    for (size_t i = 0; i < c->a->ar.n; i++)
        if (strcasecmp(c->a->ar.v[i].name, target) == 0)
            return;
    add_addr(&c->a->ar, target, ip, DNS_T_ANY, c->ttl);
}

static bool port_matches(const cJSON *p, const char *pname, const char *proto)
{
    const char *n = ck_json_get_string(p, "name", "");
    const char *pr = ck_json_get_string(p, "protocol", "TCP");
    if (pname && strcasecmp(n, pname) != 0)
        return false;
    return !proto || strcasecmp(pr, proto) == 0;
}

/* SRV answers for the service's ports matching (pname, proto) (NULL: any). Returns whether
 * any port matched (the name exists). */
static bool service_srv(struct qctx *c, const struct svc_view *v, const char *svc, const char *ns,
                        const char *pname, const char *proto, bool answer)
{
    bool matched = false;
    char target[DNS_MAX_NAME];
    const cJSON *p;
    cJSON_ArrayForEach(p, ck_json_get(v->svc->json, "spec.ports"))
    {
        if (pname && !*ck_json_get_string(p, "name", ""))
            continue; /* only named ports get SRV names */
        if (!port_matches(p, pname, proto))
            continue;
        matched = true;
        if (!answer)
            continue;
        if (!v->headless) {
            svc_fqdn(c, NULL, svc, ns, target, sizeof(target));
            const char *ip = svc_cluster_ip(v->svc->json, 0);
            add_srv(c, target, (uint16_t)ck_json_get_double(p, "port", 0), 100, ip ? ip : "");
            continue;
        }
        /* headless: one per endpoint, the port the endpoint's slice gives that name */
        const char *want = ck_json_get_string(p, "name", "");
        const char *want_proto = ck_json_get_string(p, "protocol", "TCP");
        size_t n = v->n_eps ? v->n_eps : 1;
        uint16_t weight = (uint16_t)(100 / n ? 100 / n : 1);
        for (size_t i = 0; i < v->n_eps; i++) {
            const cJSON *ep_port;
            cJSON_ArrayForEach(ep_port, v->eps[i].ports)
            {
                if (!port_matches(ep_port, want, want_proto))
                    continue;
                svc_fqdn(c, v->eps[i].host, svc, ns, target, sizeof(target));
                add_srv(c, target, (uint16_t)ck_json_get_double(ep_port, "port", 0), weight,
                        v->eps[i].ip);
                break;
            }
        }
    }
    return matched;
}

/* <svc>.<ns>.svc */
static void answer_service(struct qctx *c, const char *svc, const char *ns)
{
    struct svc_view v;
    if (svc_view_load(c->z, ns, svc, &v) < 0)
        return nxdomain(c);
    uint16_t qt = c->q->type;
    if (v.external) {
        add_cname(c, &v);
    } else if (qt == DNS_T_SRV) {
        service_srv(c, &v, svc, ns, NULL, NULL, true);
    } else if (!v.headless) {
        for (int i = 0; i < 2; i++) {
            const char *ip = svc_cluster_ip(v.svc->json, i);
            if (ip)
                add_addr(&c->a->an, owner(c), ip, qt, c->ttl);
        }
    } else if (v.n_eps == 0) {
        nxdomain(c); /* a headless service without endpoints has no records (CoreDNS) */
    } else {
        for (size_t i = 0; i < v.n_eps; i++)
            add_addr(&c->a->an, owner(c), v.eps[i].ip, qt, c->ttl);
    }
    svc_view_free(&v);
}

/* <host>.<svc>.<ns>.svc */
static void answer_endpoint(struct qctx *c, const char *host, const char *svc, const char *ns)
{
    struct svc_view v;
    if (svc_view_load(c->z, ns, svc, &v) < 0)
        return nxdomain(c);
    bool found = false;
    if (host[0] == '_' && !v.external) { /* _<proto>.<svc>: an empty non-terminal of SRVs */
        found = service_srv(c, &v, svc, ns, NULL, host + 1, false);
    } else {
        for (size_t i = 0; i < v.n_eps; i++) {
            if (strcmp(v.eps[i].host, host) != 0)
                continue;
            found = true;
            add_addr(&c->a->an, owner(c), v.eps[i].ip, c->q->type, c->ttl);
        }
    }
    if (!found)
        nxdomain(c);
    svc_view_free(&v);
}

/* _<port>._<proto>.<svc>.<ns>.svc */
static void answer_srv(struct qctx *c, const char *port, const char *proto, const char *svc,
                       const char *ns)
{
    struct svc_view v;
    if (port[0] != '_' || proto[0] != '_' || svc_view_load(c->z, ns, svc, &v) < 0)
        return nxdomain(c);
    if (v.external || !service_srv(c, &v, svc, ns, port + 1, proto + 1, c->q->type == DNS_T_SRV))
        nxdomain(c);
    svc_view_free(&v);
}

/* <ns>.svc: exists while the namespace has a service (CoreDNS checks the namespace). */
static void answer_namespace(struct qctx *c, const char *ns)
{
    struct ck_obj_list l = CK_OBJ_LIST_INIT;
    ck_store_list_namespace(c->z->services, ns, &l);
    if (l.n == 0)
        nxdomain(c);
    ck_obj_list_free(&l);
}

/* <a-b-c-d>.<ns>.pod */
static void answer_pod(struct qctx *c, const char *label)
{
    char ip[64];
    snprintf(ip, sizeof(ip), "%s", label);
    for (char *p = ip; *p; p++)
        if (*p == '-')
            *p = '.';
    struct in_addr a4;
    if (inet_pton(AF_INET, ip, &a4) != 1) {
        /* IPv6 with dashes for colons */
        snprintf(ip, sizeof(ip), "%s", label);
        for (char *p = ip; *p; p++)
            if (*p == '-')
                *p = ':';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, ip, &a6) != 1)
            return nxdomain(c);
    }
    add_addr(&c->a->an, owner(c), ip, c->q->type, c->ttl);
}

static void answer_apex(struct qctx *c)
{
    if (c->q->type == DNS_T_SOA || c->q->type == DNS_T_ANY)
        add_soa(c, &c->a->an);
    if (c->q->type == DNS_T_NS || c->q->type == DNS_T_ANY) {
        struct dns_rr *rr = rr_add(&c->a->an, owner(c), DNS_T_NS, c->ttl);
        if (rr)
            snprintf(rr->d.target, sizeof(rr->d.target), "ns.dns.%s", c->z->domain);
    }
}

static void answer_in_zone(struct qctx *c)
{
    char **l = c->labels;
    int n = c->n_labels;
    if (n == 0)
        return answer_apex(c);
    if (n == 1 && strcmp(l[0], "dns-version") == 0) {
        struct dns_rr *rr =
            c->q->type == DNS_T_TXT ? rr_add(&c->a->an, owner(c), DNS_T_TXT, c->ttl) : NULL;
        if (rr)
            snprintf(rr->d.txt, sizeof(rr->d.txt), "1.1.0");
        return;
    }
    if (strcmp(l[n - 1], "svc") == 0) {
        switch (n) {
        case 1:
            return nodata(c);
        case 2:
            return answer_namespace(c, l[0]);
        case 3:
            return answer_service(c, l[0], l[1]);
        case 4:
            return answer_endpoint(c, l[0], l[1], l[2]);
        case 5:
            return answer_srv(c, l[0], l[1], l[2], l[3]);
        default:
            return nxdomain(c);
        }
    }
    if (strcmp(l[n - 1], "pod") == 0) {
        if (n <= 2)
            return nodata(c);
        if (n == 3)
            return answer_pod(c, l[0]);
    }
    nxdomain(c);
}

/* d.c.b.a.in-addr.arpa -> "a.b.c.d"; false when not a full IPv4 reverse name. */
static bool reverse_v4(const char *name, char out[INET_ADDRSTRLEN])
{
    const char *suffix = ".in-addr.arpa";
    size_t nl = strlen(name), sl = strlen(suffix);
    if (nl <= sl || strcmp(name + nl - sl, suffix) != 0)
        return false;
    char tmp[64];
    if (nl - sl >= sizeof(tmp))
        return false;
    memcpy(tmp, name, nl - sl);
    tmp[nl - sl] = '\0';
    char *oct[4];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(tmp, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
        if (n == 4)
            return false;
        oct[n++] = t;
    }
    if (n != 4)
        return false;
    snprintf(out, INET_ADDRSTRLEN, "%s.%s.%s.%s", oct[3], oct[2], oct[1], oct[0]);
    struct in_addr a;
    if (inet_pton(AF_INET, out, &a) != 1)
        return false;
    char canon[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, canon, sizeof(canon));
    return strcmp(canon, out) == 0; /* "010" and the like are not reverse names */
}

static void answer_reverse(struct qctx *c)
{
    char ip[INET_ADDRSTRLEN];
    if (!reverse_v4(c->lname, ip)) {
        c->a->forward = true;
        return;
    }
    char target[DNS_MAX_NAME];
    bool found = false;
    struct ck_obj_list l = CK_OBJ_LIST_INIT;
    if (ck_store_by_index(c->z->services, DNS_INDEX_SERVICE_IP, ip, &l) == 0) {
        for (size_t i = 0; i < l.n; i++) {
            const cJSON *s = l.items[i]->json;
            found = true;
            if (c->q->type != DNS_T_PTR && c->q->type != DNS_T_ANY)
                continue;
            svc_fqdn(c, NULL, ck_json_get_string(s, "metadata.name", ""),
                     ck_json_get_string(s, "metadata.namespace", ""), target, sizeof(target));
            struct dns_rr *rr = rr_add(&c->a->an, owner(c), DNS_T_PTR, c->ttl);
            if (rr)
                snprintf(rr->d.target, sizeof(rr->d.target), "%s", target);
        }
    }
    ck_obj_list_free(&l);
    if (!found && c->z->slices &&
        ck_store_by_index(c->z->slices, DNS_INDEX_SLICE_IP, ip, &l) == 0) {
        for (size_t i = 0; i < l.n; i++) {
            const cJSON *sl = l.items[i]->json;
            const char *svc = ck_json_as_string(
                ck_json_getv(sl, "metadata", "labels", SERVICE_NAME_LABEL, NULL), NULL);
            const char *ns = ck_json_get_string(sl, "metadata.namespace", "");
            const cJSON *ep;
            cJSON_ArrayForEach(ep, ck_json_get(sl, "endpoints"))
            {
                const char *eip =
                    ck_json_as_string(cJSON_GetArrayItem(ck_json_get(ep, "addresses"), 0), NULL);
                if (!svc || !eip || strcmp(eip, ip) != 0)
                    continue;
                char host[64];
                const char *h = ck_json_get_string(ep, "hostname", "");
                if (*h && strlen(h) < sizeof(host))
                    snprintf(host, sizeof(host), "%s", h);
                else
                    dashed(ip, host);
                svc_fqdn(c, host, svc, ns, target, sizeof(target));
                bool dup = false;
                for (size_t k = 0; k < c->a->an.n && !dup; k++)
                    dup = strcasecmp(c->a->an.v[k].d.target, target) == 0;
                found = true;
                if (dup || (c->q->type != DNS_T_PTR && c->q->type != DNS_T_ANY))
                    continue;
                struct dns_rr *rr = rr_add(&c->a->an, owner(c), DNS_T_PTR, c->ttl);
                if (rr)
                    snprintf(rr->d.target, sizeof(rr->d.target), "%s", target);
            }
        }
        ck_obj_list_free(&l);
    }
    if (!found)
        c->a->forward = true; /* CoreDNS: fallthrough in-addr.arpa ip6.arpa */
    else
        c->a->authoritative = true;
}

int dns_zone_answer(const struct dns_zone *z, const struct dns_question *q, struct dns_answer *a)
{
    memset(a, 0, sizeof(*a));
    struct qctx *c = ck_xcalloc(1, sizeof(*c));
    c->z = z;
    c->q = q;
    c->a = a;
    c->ttl = z->ttl ? z->ttl : DNS_DEFAULT_TTL;
    snprintf(c->lname, sizeof(c->lname), "%s", q->name);
    dns_name_lower(c->lname);
    size_t nl = strlen(c->lname);
    if (nl && c->lname[nl - 1] == '.')
        c->lname[--nl] = '\0';
    size_t dl = strlen(z->domain);
    bool in_zone = nl == dl ? strcmp(c->lname, z->domain) == 0
                            : nl > dl && c->lname[nl - dl - 1] == '.' &&
                                  strcmp(c->lname + nl - dl, z->domain) == 0;
    if (!in_zone) {
        if (nl > 5 && strcmp(c->lname + nl - 5, ".arpa") == 0)
            answer_reverse(c);
        else
            a->forward = true;
        free(c);
        return 0;
    }
    a->authoritative = true;
    c->lname[nl == dl ? 0 : nl - dl - 1] = '\0';
    bool too_many = false;
    if (c->lname[0]) {
        char *save = NULL;
        for (char *t = strtok_r(c->lname, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
            if (c->n_labels == MAX_LABELS) {
                too_many = true;
                break;
            }
            c->labels[c->n_labels++] = t;
        }
    }
    if (too_many)
        nxdomain(c);
    else
        answer_in_zone(c);
    /* negative answers (NXDOMAIN, NODATA) carry the SOA for negative caching (RFC 2308) */
    if (a->an.n == 0 && a->rcode != DNS_RCODE_SERVFAIL) {
        a->ar.n = 0;
        add_soa(c, &a->ns);
    }
    free(c);
    return 0;
}

/* ---- packets ---------------------------------------------------------------------------- */

static size_t error_reply(const uint8_t *pkt, const struct dns_query *m, bool with_q, int rcode,
                          uint8_t *out, size_t cap)
{
    uint16_t id = 0, flags = 0;
    dns_parse_header(pkt, 12, &id, &flags, NULL);
    struct dns_builder b;
    dns_build_init(&b, out, cap, cap, id,
                   (uint16_t)(DNS_F_QR | DNS_F_RA | (flags & (DNS_F_RD | 0x7800))));
    if (with_q && m && m->has_q)
        dns_build_question(&b, &m->q);
    return dns_build_finish(&b, rcode);
}

int dns_zone_respond(const struct dns_zone *z, const uint8_t *pkt, size_t len, bool udp,
                     uint8_t *out, size_t cap, size_t *out_len)
{
    uint16_t flags;
    *out_len = 0;
    if (cap < DNS_UDP_MIN || dns_parse_header(pkt, len, NULL, &flags, NULL) < 0 ||
        (flags & DNS_F_QR))
        return -EBADMSG;
    struct dns_query *m = ck_xmalloc(sizeof(*m));
    int ret = DNS_REPLY;
    if (dns_query_parse(pkt, len, m) < 0) {
        *out_len = error_reply(pkt, NULL, false, DNS_RCODE_FORMERR, out, cap);
    } else if (DNS_OPCODE(flags) != 0) {
        *out_len = error_reply(pkt, m, true, DNS_RCODE_NOTIMP, out, cap);
    } else if (m->qdcount != 1) {
        *out_len = error_reply(pkt, m, true, DNS_RCODE_FORMERR, out, cap);
    } else if (m->q.type == DNS_T_AXFR || m->q.type == 251 /* IXFR */ ||
               (m->q.class != DNS_CLASS_IN && m->q.class != 255)) {
        *out_len = error_reply(pkt, m, true, DNS_RCODE_REFUSED, out, cap);
    } else {
        struct dns_answer a;
        dns_zone_answer(z, &m->q, &a);
        size_t limit = cap;
        uint16_t payload = 0;
        if (m->edns) {
            payload = m->edns_payload < DNS_UDP_MIN ? DNS_UDP_MIN : m->edns_payload;
            if (payload > 4096)
                payload = 4096;
        }
        if (udp)
            limit = m->edns ? payload : DNS_UDP_MIN;
        if (limit > cap)
            limit = cap;
        if (m->edns)
            limit -= 11; /* room for our OPT record */
        if (a.forward) {
            ret = DNS_FORWARD;
            *out_len = error_reply(pkt, m, true, DNS_RCODE_SERVFAIL, out, cap);
        } else {
            struct dns_builder b;
            uint16_t fl = (uint16_t)(DNS_F_QR | DNS_F_RA | (flags & DNS_F_RD) |
                                     (a.authoritative ? DNS_F_AA : 0));
            dns_build_init(&b, out, cap, limit, m->id, fl);
            dns_build_question(&b, &m->q);
            for (size_t i = 0; i < a.an.n; i++)
                if (dns_build_rr(&b, 1, &a.an.v[i]) == -EMSGSIZE)
                    break;
            for (size_t i = 0; i < a.ns.n && !b.truncated; i++)
                dns_build_rr(&b, 2, &a.ns.v[i]);
            /* additionals are optional: dropping them does not truncate the answer */
            for (size_t i = 0; i < a.ar.n && !b.truncated; i++) {
                if (dns_build_rr(&b, 3, &a.ar.v[i]) == -EMSGSIZE) {
                    b.truncated = false;
                    break;
                }
            }
            if (m->edns)
                dns_build_opt(&b, 1232);
            *out_len = dns_build_finish(&b, a.rcode);
        }
        dns_answer_free(&a);
    }
    free(m);
    return ret;
}
