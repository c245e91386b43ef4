/* Unit tests for dns/zone.c: the answers of ckube-dns over a table of Services and
 * EndpointSlices (every record kind of the Kubernetes DNS specification, NXDOMAIN vs NODATA,
 * case-insensitive names, reverse lookups, forwarding), and whole-packet handling (flags,
 * errors, UDP truncation, EDNS0). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/message.h"
#include "dns/zone.h"
#include "mem.h"
#include "store.h"

static const char *services[] = {
    "{\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\"},\"spec\":{\"type\":"
    "\"ClusterIP\",\"clusterIP\":\"10.96.0.1\",\"clusterIPs\":[\"10.96.0.1\"],\"ports\":[{\"name\":"
    "\"https\",\"port\":443,\"protocol\":\"TCP\"}]}}",
    "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":"
    "\"10.96.0.20\",\"clusterIPs\":[\"10.96.0.20\"],\"ports\":[{\"name\":\"http\",\"port\":80,"
    "\"protocol\":\"TCP\"},{\"port\":9000,\"protocol\":\"TCP\"}]}}",
    "{\"metadata\":{\"name\":\"db\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"None\","
    "\"ports\":[{\"name\":\"pg\",\"port\":5432,\"protocol\":\"TCP\"}]}}",
    "{\"metadata\":{\"name\":\"empty\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":"
    "\"None\"}}",
    "{\"metadata\":{\"name\":\"ext\",\"namespace\":\"default\"},\"spec\":{\"type\":"
    "\"ExternalName\",\"externalName\":\"example.com.\"}}",
    "{\"metadata\":{\"name\":\"web\",\"namespace\":\"other\"},\"spec\":{\"clusterIP\":"
    "\"10.96.5.5\"}}",
    "{\"metadata\":{\"name\":\"nr\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"None\","
    "\"publishNotReadyAddresses\":true}}",
    "{\"metadata\":{\"name\":\"many\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":"
    "\"None\"}}",
};

static const char *slices[] = {
    "{\"metadata\":{\"name\":\"db-abc\",\"namespace\":\"default\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"db\"}},\"endpoints\":[{\"addresses\":[\"10.244.1.5\"],"
    "\"hostname\":\"db-0\",\"conditions\":{\"ready\":true}},{\"addresses\":[\"10.244.2.6\"],"
    "\"hostname\":\"DB-1\",\"conditions\":{}},{\"addresses\":[\"10.244.3.7\"],\"hostname\":"
    "\"db-2\",\"conditions\":{\"ready\":false}}],\"ports\":[{\"name\":\"pg\",\"port\":5432,"
    "\"protocol\":\"TCP\"}]}",
    "{\"metadata\":{\"name\":\"db-def\",\"namespace\":\"default\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"db\"}},\"endpoints\":[{\"addresses\":[\"10.244.1.5\"],"
    "\"hostname\":\"db-0\"},{\"addresses\":[\"10.244.4.8\"]}],\"ports\":[{\"name\":\"pg\","
    "\"port\":5432,\"protocol\":\"TCP\"}]}",
    "{\"metadata\":{\"name\":\"web-xyz\",\"namespace\":\"default\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"web\"}},\"endpoints\":[{\"addresses\":[\"10.244.1.9\"]}],"
    "\"ports\":[{\"name\":\"http\",\"port\":8080}]}",
    "{\"metadata\":{\"name\":\"nr-1\",\"namespace\":\"default\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"nr\"}},\"endpoints\":[{\"addresses\":[\"10.244.9.9\"],"
    "\"conditions\":{\"ready\":false}}]}",
};

struct fixture {
    struct ck_store *svc, *eps;
    struct dns_zone zone;
};

static void put(struct ck_store *s, const char *json)
{
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    struct ck_obj *o = ck_obj_new(j);
    ck_obj_unref(ck_store_put(s, o));
    ck_obj_unref(o);
}

static int setup(void **state)
{
    struct fixture *f = ck_xcalloc(1, sizeof(*f));
    f->svc = ck_store_new();
    f->eps = ck_store_new();
    ck_store_add_index(f->svc, "namespace", ck_index_namespace);
    ck_store_add_index(f->svc, DNS_INDEX_SERVICE_IP, dns_index_service_ip);
    ck_store_add_index(f->eps, DNS_INDEX_SLICE_SERVICE, dns_index_slice_service);
    ck_store_add_index(f->eps, DNS_INDEX_SLICE_IP, dns_index_slice_ip);
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        put(f->svc, services[i]);
    for (size_t i = 0; i < sizeof(slices) / sizeof(slices[0]); i++)
        put(f->eps, slices[i]);
    /* "many": 60 ready endpoints, for truncation */
    char *big = ck_xstrdup("{\"metadata\":{\"name\":\"many-1\",\"namespace\":\"default\","
                           "\"labels\":{\"kubernetes.io/service-name\":\"many\"}},"
                           "\"endpoints\":[");
    for (int i = 0; i < 60; i++) {
        char *n = ck_xasprintf("%s%s{\"addresses\":[\"10.250.%d.%d\"]}", big, i ? "," : "", i / 10,
                               i % 10 + 1);
        free(big);
        big = n;
    }
    char *n = ck_xasprintf("%s]}", big);
    free(big);
    put(f->eps, n);
    free(n);
    f->zone = (struct dns_zone){.domain = "cluster.local",
                                .ttl = 30,
                                .serial = 1700000000,
                                .services = f->svc,
                                .slices = f->eps};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ck_store_free(f->svc);
    ck_store_free(f->eps);
    free(f);
    return 0;
}

/* "A 10.96.0.1", "SRV 0 100 80 web.default.svc.cluster.local", ... */
static void rr_str(const struct dns_rr *rr, char *out, size_t size)
{
    char ip[INET6_ADDRSTRLEN];
    switch (rr->type) {
    case DNS_T_A:
        inet_ntop(AF_INET, rr->d.a, ip, sizeof(ip));
        snprintf(out, size, "A %s", ip);
        break;
    case DNS_T_AAAA:
        inet_ntop(AF_INET6, rr->d.aaaa, ip, sizeof(ip));
        snprintf(out, size, "AAAA %s", ip);
        break;
    case DNS_T_CNAME:
    case DNS_T_PTR:
    case DNS_T_NS:
        snprintf(out, size, "%s %s",
                 rr->type == DNS_T_NS    ? "NS"
                 : rr->type == DNS_T_PTR ? "PTR"
                                         : "CNAME",
                 rr->d.target);
        break;
    case DNS_T_SRV:
        snprintf(out, size, "SRV %u %u %u %s", rr->d.srv.priority, rr->d.srv.weight, rr->d.srv.port,
                 rr->d.srv.target);
        break;
    case DNS_T_TXT:
        snprintf(out, size, "TXT %s", rr->d.txt);
        break;
    case DNS_T_SOA:
        snprintf(out, size, "SOA %s %s %u %u %u %u %u", rr->d.soa.mname, rr->d.soa.rname,
                 rr->d.soa.serial, rr->d.soa.refresh, rr->d.soa.retry, rr->d.soa.expire,
                 rr->d.soa.minimum);
        break;
    default:
        snprintf(out, size, "TYPE%u", rr->type);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The records of a set as sorted "; "-joined strings (store order is not defined). */
static char *set_str(const struct dns_rrset *s)
{
    char **v = ck_xcalloc(s->n + 1, sizeof(char *));
    for (size_t i = 0; i < s->n; i++) {
        v[i] = ck_xmalloc(2200);
        rr_str(&s->v[i], v[i], 2200);
    }
    qsort(v, s->n, sizeof(char *), cmp_str);
    char *out = ck_xstrdup("");
    for (size_t i = 0; i < s->n; i++) {
        char *n = ck_xasprintf("%s%s%s", out, i ? "; " : "", v[i]);
        free(out);
        free(v[i]);
        out = n;
    }
    free(v);
    return out;
}

#define SOA_NEG "SOA ns.dns.cluster.local hostmaster.cluster.local 1700000000 7200 1800 86400 30"
#define FWD -1

static const struct zcase {
    const char *name;
    uint16_t type;
    int rcode; /* FWD: forwarded */
    const char *answers;
    const char *authority;
} zcases[] = {
    /* ClusterIP services */
    {"kubernetes.default.svc.cluster.local", DNS_T_A, 0, "A 10.96.0.1", ""},
    {"KUBERNETES.Default.SVC.Cluster.Local.", DNS_T_A, 0, "A 10.96.0.1", ""},
    {"web.other.svc.cluster.local", DNS_T_A, 0, "A 10.96.5.5", ""},
    {"web.default.svc.cluster.local", DNS_T_AAAA, 0, "", SOA_NEG}, /* NODATA */
    {"web.default.svc.cluster.local", DNS_T_TXT, 0, "", SOA_NEG},  /* NODATA */
    {"nothere.default.svc.cluster.local", DNS_T_A, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    {"web.nons.svc.cluster.local", DNS_T_A, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    /* headless: ready endpoints only, deduplicated across slices */
    {"db.default.svc.cluster.local", DNS_T_A, 0, "A 10.244.1.5; A 10.244.2.6; A 10.244.4.8", ""},
    {"db.default.svc.cluster.local", DNS_T_AAAA, 0, "", SOA_NEG},
    {"empty.default.svc.cluster.local", DNS_T_A, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    {"nr.default.svc.cluster.local", DNS_T_A, 0, "A 10.244.9.9", ""}, /* publishNotReady */
    /* endpoint host names (StatefulSet pods), and dashed addresses without hostname */
    {"db-0.db.default.svc.cluster.local", DNS_T_A, 0, "A 10.244.1.5", ""},
    {"db-1.db.default.svc.cluster.local", DNS_T_A, 0, "A 10.244.2.6", ""},
    {"db-2.db.default.svc.cluster.local", DNS_T_A, DNS_RCODE_NXDOMAIN, "", SOA_NEG}, /* unready */
    {"10-244-4-8.db.default.svc.cluster.local", DNS_T_A, 0, "A 10.244.4.8", ""},
    {"db-0.db.default.svc.cluster.local", DNS_T_SRV, 0, "", SOA_NEG},
    /* SRV for named ports */
    {"_http._tcp.web.default.svc.cluster.local", DNS_T_SRV, 0,
     "SRV 0 100 80 web.default.svc.cluster.local", ""},
    {"_HTTPS._TCP.kubernetes.default.svc.cluster.local", DNS_T_SRV, 0,
     "SRV 0 100 443 kubernetes.default.svc.cluster.local", ""},
    {"_pg._tcp.db.default.svc.cluster.local", DNS_T_SRV, 0,
     "SRV 0 33 5432 10-244-4-8.db.default.svc.cluster.local; "
     "SRV 0 33 5432 db-0.db.default.svc.cluster.local; "
     "SRV 0 33 5432 db-1.db.default.svc.cluster.local",
     ""},
    {"_http._udp.web.default.svc.cluster.local", DNS_T_SRV, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    {"_nope._tcp.web.default.svc.cluster.local", DNS_T_SRV, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    {"_http._tcp.web.default.svc.cluster.local", DNS_T_A, 0, "", SOA_NEG}, /* NODATA */
    {"_tcp.web.default.svc.cluster.local", DNS_T_A, 0, "", SOA_NEG},       /* empty non-terminal */
    {"_udp.web.default.svc.cluster.local", DNS_T_A, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    {"web.default.svc.cluster.local", DNS_T_SRV, 0,
     "SRV 0 100 80 web.default.svc.cluster.local; SRV 0 100 9000 web.default.svc.cluster.local",
     ""},
    /* ExternalName */
    {"ext.default.svc.cluster.local", DNS_T_A, 0, "CNAME example.com", ""},
    {"_x._tcp.ext.default.svc.cluster.local", DNS_T_SRV, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    /* pods (insecure mode) */
    {"10-244-1-5.default.pod.cluster.local", DNS_T_A, 0, "A 10.244.1.5", ""},
    {"10-244-1-5.any.pod.cluster.local", DNS_T_AAAA, 0, "", SOA_NEG},
    {"10-244-1.default.pod.cluster.local", DNS_T_A, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    {"default.pod.cluster.local", DNS_T_A, 0, "", SOA_NEG},
    /* reverse */
    {"1.0.96.10.in-addr.arpa", DNS_T_PTR, 0, "PTR kubernetes.default.svc.cluster.local", ""},
    {"5.1.244.10.IN-ADDR.ARPA.", DNS_T_PTR, 0, "PTR db-0.db.default.svc.cluster.local", ""},
    {"8.4.244.10.in-addr.arpa", DNS_T_PTR, 0, "PTR 10-244-4-8.db.default.svc.cluster.local", ""},
    {"9.9.9.9.in-addr.arpa", DNS_T_PTR, FWD, "", ""},
    {"96.10.in-addr.arpa", DNS_T_PTR, FWD, "", ""},
    /* zone structure */
    {"cluster.local", DNS_T_SOA, 0, SOA_NEG, ""},
    {"cluster.local", DNS_T_NS, 0, "NS ns.dns.cluster.local", ""},
    {"cluster.local", DNS_T_A, 0, "", SOA_NEG},
    {"svc.cluster.local", DNS_T_A, 0, "", SOA_NEG},
    {"default.svc.cluster.local", DNS_T_A, 0, "", SOA_NEG},
    {"nons.svc.cluster.local", DNS_T_A, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    {"dns-version.cluster.local", DNS_T_TXT, 0, "TXT 1.1.0", ""},
    {"a.b.c.web.default.svc.cluster.local", DNS_T_A, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    {"a.b.c.d.e.f.g.h.i.svc.cluster.local", DNS_T_A, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    {"nothing.cluster.local", DNS_T_A, DNS_RCODE_NXDOMAIN, "", SOA_NEG},
    /* not ours */
    {"example.com", DNS_T_A, FWD, "", ""},
    {"web.default.svc.cluster.localx", DNS_T_A, FWD, "", ""},
    {"xcluster.local", DNS_T_A, FWD, "", ""},
};

static void zone_answers_every_record_kind(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(zcases) / sizeof(zcases[0]); i++) {
        const struct zcase *c = &zcases[i];
        struct dns_question q = {.type = c->type, .class = DNS_CLASS_IN};
        snprintf(q.name, sizeof(q.name), "%s", c->name);
        struct dns_answer a;
        assert_int_equal(dns_zone_answer(&f->zone, &q, &a), 0);
        char *an = set_str(&a.an), *ns = set_str(&a.ns);
        int rcode = a.forward ? FWD : a.rcode;
        if (rcode != c->rcode || strcmp(an, c->answers) != 0 || strcmp(ns, c->authority) != 0)
            fail_msg("%s %u: rcode %d answers [%s] authority [%s]; want %d [%s] [%s]", c->name,
                     c->type, rcode, an, ns, c->rcode, c->answers, c->authority);
        /* answers are owned by the question's spelling */
        for (size_t k = 0; k < a.an.n; k++)
            if (a.an.v[k].type != DNS_T_SOA)
                assert_string_equal(a.an.v[k].name, q.name);
        if (!a.forward) {
            assert_true(a.authoritative);
            for (size_t k = 0; k < a.an.n; k++)
                assert_int_equal(a.an.v[k].ttl, 30);
        }
        free(an);
        free(ns);
        dns_answer_free(&a);
    }
}

/* SRV answers carry their targets' addresses as additional records. */
static void srv_targets_come_as_additionals(void **state)
{
    struct fixture *f = *state;
    struct dns_question q = {
        .name = "_pg._tcp.db.default.svc.cluster.local", .type = DNS_T_SRV, .class = DNS_CLASS_IN};
    struct dns_answer a;
    dns_zone_answer(&f->zone, &q, &a);
    char *ar = set_str(&a.ar);
    assert_string_equal(ar, "A 10.244.1.5; A 10.244.2.6; A 10.244.4.8");
    for (size_t i = 0; i < a.ar.n; i++)
        assert_non_null(strstr(a.ar.v[i].name, ".db.default.svc.cluster.local"));
    free(ar);
    dns_answer_free(&a);
}

/* ---- packets ------------------------------------------------------------------------------ */

static size_t query(uint8_t *buf, const char *name, uint16_t type, uint16_t class, int edns)
{
    struct dns_builder b;
    dns_build_init(&b, buf, 512, 512, 0xbeef, DNS_F_RD);
    struct dns_question q = {.type = type, .class = class};
    snprintf(q.name, sizeof(q.name), "%s", name);
    assert_int_equal(dns_build_question(&b, &q), 0);
    if (edns >= 0)
        dns_build_opt(&b, (uint16_t)edns);
    return dns_build_finish(&b, 0);
}

/* Sends pkt through dns_zone_respond and decodes the reply into *m. */
static int respond(struct fixture *f, const uint8_t *pkt, size_t len, bool udp, struct dns_msg *m,
                   size_t *out_len)
{
    uint8_t out[DNS_MAX_MSG];
    size_t n = 0;
    int rc = dns_zone_respond(&f->zone, pkt, len, udp, out, sizeof(out), &n);
    if (out_len)
        *out_len = n;
    if (rc >= 0)
        assert_int_equal(dns_msg_parse(out, n, m), 0);
    return rc;
}

static void replies_echo_the_query(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[512];
    size_t n = query(pkt, "Web.Default.svc.cluster.local", DNS_T_A, DNS_CLASS_IN, -1);
    struct dns_msg *m = ck_xmalloc(sizeof(*m));
    assert_int_equal(respond(f, pkt, n, true, m, NULL), DNS_REPLY);
    assert_int_equal(m->id, 0xbeef);
    assert_true(m->flags & DNS_F_QR);
    assert_true(m->flags & DNS_F_AA);
    assert_true(m->flags & DNS_F_RD);
    assert_true(m->flags & DNS_F_RA);
    assert_false(m->flags & DNS_F_TC);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_NOERROR);
    assert_string_equal(m->q.name, "Web.Default.svc.cluster.local");
    assert_int_equal(m->n_an, 1);
    assert_string_equal(m->an[0].name, "Web.Default.svc.cluster.local");
    assert_memory_equal(m->an[0].d.a, ((uint8_t[]){10, 96, 0, 20}), 4);
    assert_false(m->edns); /* no OPT in the reply to a query without one */

    n = query(pkt, "nothere.default.svc.cluster.local", DNS_T_A, DNS_CLASS_IN, 1232);
    assert_int_equal(respond(f, pkt, n, true, m, NULL), DNS_REPLY);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_NXDOMAIN);
    assert_int_equal(m->n_an, 0);
    assert_int_equal(m->n_ns, 1);
    assert_int_equal(m->ns[0].type, DNS_T_SOA);
    assert_string_equal(m->ns[0].name, "cluster.local");
    assert_true(m->edns);
    free(m);
}

/* Queries that cannot be answered get the upstream error codes (or are dropped). */
static void bad_queries_get_error_codes(void **state)
{
    struct fixture *f = *state;
    struct dns_msg *m = ck_xmalloc(sizeof(*m));
    uint8_t pkt[512];
    size_t n;

    n = query(pkt, "web.default.svc.cluster.local", DNS_T_AXFR, DNS_CLASS_IN, -1);
    assert_int_equal(respond(f, pkt, n, false, m, NULL), DNS_REPLY);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_REFUSED);

    n = query(pkt, "version.bind", DNS_T_TXT, 3 /* CH */, -1);
    assert_int_equal(respond(f, pkt, n, true, m, NULL), DNS_REPLY);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_REFUSED);

    n = query(pkt, "web.default.svc.cluster.local", DNS_T_A, DNS_CLASS_IN, -1);
    pkt[2] |= 2 << 3; /* opcode STATUS */
    assert_int_equal(respond(f, pkt, n, true, m, NULL), DNS_REPLY);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_NOTIMP);
    assert_int_equal(m->id, 0xbeef);

    n = query(pkt, "web.default.svc.cluster.local", DNS_T_A, DNS_CLASS_IN, -1);
    pkt[5] = 0; /* no question */
    assert_int_equal(respond(f, pkt, n, true, m, NULL), DNS_REPLY);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_FORMERR);

    n = query(pkt, "web.default.svc.cluster.local", DNS_T_A, DNS_CLASS_IN, -1);
    pkt[12] = 60; /* first label overruns the packet */
    assert_int_equal(respond(f, pkt, n, true, m, NULL), DNS_REPLY);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_FORMERR);
    assert_int_equal(m->id, 0xbeef);
    assert_int_equal(m->qdcount, 0);

    n = query(pkt, "web.default.svc.cluster.local", DNS_T_A, DNS_CLASS_IN, -1);
    pkt[2] |= 0x80; /* a response: never answered (no reflection loops) */
    assert_int_equal(respond(f, pkt, n, true, m, NULL), -EBADMSG);
    assert_int_equal(respond(f, pkt, 11, true, m, NULL), -EBADMSG);

    /* out of zone: forward, with a SERVFAIL ready in case forwarding fails */
    size_t out_len;
    n = query(pkt, "example.com", DNS_T_A, DNS_CLASS_IN, -1);
    assert_int_equal(respond(f, pkt, n, true, m, &out_len), DNS_FORWARD);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_SERVFAIL);
    assert_int_equal(m->id, 0xbeef);
    assert_string_equal(m->q.name, "example.com");
    free(m);
}

/* 60 addresses do not fit 512 octets: UDP sets TC, TCP and EDNS0 4096 get them all. */
static void udp_answers_are_truncated_without_edns(void **state)
{
    struct fixture *f = *state;
    struct dns_msg *m = ck_xmalloc(sizeof(*m));
    uint8_t pkt[512];
    size_t n = query(pkt, "many.default.svc.cluster.local", DNS_T_A, DNS_CLASS_IN, -1), len;

    assert_int_equal(respond(f, pkt, n, true, m, &len), DNS_REPLY);
    assert_true(m->flags & DNS_F_TC);
    assert_true(len <= 512);
    assert_true(m->ancount > 0 && m->ancount < 60);

    assert_int_equal(respond(f, pkt, n, false, m, &len), DNS_REPLY);
    assert_false(m->flags & DNS_F_TC);
    assert_int_equal(m->ancount, 60);

    n = query(pkt, "many.default.svc.cluster.local", DNS_T_A, DNS_CLASS_IN, 4096);
    assert_int_equal(respond(f, pkt, n, true, m, &len), DNS_REPLY);
    assert_false(m->flags & DNS_F_TC);
    assert_int_equal(m->ancount, 60);
    assert_true(m->edns);
    assert_true(len > 512);

    /* an EDNS0 size below 512 means 512 (RFC 6891) */
    n = query(pkt, "many.default.svc.cluster.local", DNS_T_A, DNS_CLASS_IN, 100);
    assert_int_equal(respond(f, pkt, n, true, m, &len), DNS_REPLY);
    assert_true(m->flags & DNS_F_TC);
    assert_true(len <= 512 && len > 400);
    assert_true(m->edns); /* the OPT record survives truncation */
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(zone_answers_every_record_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(srv_targets_come_as_additionals, setup, teardown),
        cmocka_unit_test_setup_teardown(replies_echo_the_query, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_queries_get_error_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_answers_are_truncated_without_edns, setup, teardown),
    };
    return cmocka_run_group_tests_name("dns_zone", tests, NULL, NULL);
}
