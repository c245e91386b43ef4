/* Unit tests for dns/message.c: the DNS wire codec of ckube-dns (decoding untrusted packets
 * with bounds and compression-loop checks, encoding with compression and truncation). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/message.h"

/* A query for name/type with id 0x1234 and RD, as a resolver sends it. */
static size_t make_query(uint8_t *buf, size_t cap, const char *name, uint16_t type, bool edns,
                         uint16_t payload)
{
    struct dns_builder b;
    dns_build_init(&b, buf, cap, cap, 0x1234, DNS_F_RD);
    struct dns_question q = {.type = type, .class = DNS_CLASS_IN};
    strcpy(q.name, name);
    assert_int_equal(dns_build_question(&b, &q), 0);
    if (edns)
        assert_int_equal(dns_build_opt(&b, payload), 0);
    return dns_build_finish(&b, 0);
}

static void query_round_trips(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = make_query(buf, sizeof(buf), "Web.default.svc.cluster.local", DNS_T_SRV, true, 4096);
    struct dns_msg *m = malloc(sizeof(*m));
    assert_int_equal(dns_msg_parse(buf, n, m), 0);
    assert_int_equal(m->id, 0x1234);
    assert_true(m->flags & DNS_F_RD);
    assert_false(m->flags & DNS_F_QR);
    assert_int_equal(m->qdcount, 1);
    assert_string_equal(m->q.name, "Web.default.svc.cluster.local"); /* case kept */
    assert_int_equal(m->q.type, DNS_T_SRV);
    assert_int_equal(m->q.class, DNS_CLASS_IN);
    assert_true(m->edns);
    assert_int_equal(m->edns_payload, 4096);
    /* exact wire: 12 header + 31 name + 4 + 11 OPT */
    assert_int_equal(n, 12 + 31 + 4 + 11);
    free(m);
}

static void names_escape_special_octets(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a\\.b.example", "a\\.b.example"}, /* a dot inside a label */
        {"sp\\032ace.x", "sp\\032ace.x"},   /* a space */
        {"UPPER.Case.", "UPPER.Case"},      /* trailing dot dropped, case kept */
        {".", ""},                          /* the root */
        {"back\\\\slash", "back\\\\slash"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t w[256];
        int n = dns_name_to_wire(cases[i].in, w, sizeof(w));
        assert_true(n > 0);
        char out[DNS_MAX_NAME];
        size_t off = 0;
        assert_int_equal(dns_name_decode(w, (size_t)n, &off, out, sizeof(out)), 0);
        assert_int_equal(off, (size_t)n);
        assert_string_equal(out, cases[i].out);
    }
}

static void bad_names_are_not_encoded(void **state)
{
    (void)state;
    char long_label[80], long_name[300];
    memset(long_label, 'a', 64);
    long_label[64] = '\0';
    /* 4 x 63 + dots = 255 chars -> 257 wire octets: one too many */
    memset(long_name, 'b', 255);
    long_name[255] = '\0';
    for (int i = 1; i < 4; i++)
        long_name[i * 64 - 1] = '.';
    const char *bad[] = {long_label, long_name, "a..b", ".a", "trailing\\"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t w[300];
        assert_int_equal(dns_name_to_wire(bad[i], w, sizeof(w)), -EINVAL);
    }
    /* 63-octet labels are fine */
    uint8_t w[300];
    long_label[63] = '\0';
    assert_int_equal(dns_name_to_wire(long_label, w, sizeof(w)), 65);
}

/* Malformed packets: every one must be refused with -EBADMSG, none may crash. */
static void malformed_packets_are_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint8_t pkt[64];
        size_t len;
    } cases[] = {
        {"short header", {0x12, 0x34, 0x01, 0x00, 0x00}, 5},
        {"question missing", {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}, 12},
        {"label runs past the end",
         {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 10, 'a', 'b'},
         15},
        {"name without terminator", {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a'}, 14},
        {"pointer to itself (loop)",
         {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1},
         18},
        {"forward pointer",
         {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 16, 0, 1, 0, 1, 1, 'a', 0},
         21},
        {"pointer past the end",
         {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0, 1, 0, 1},
         18},
        {"pointer cut in half", {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0}, 13},
        {"extended label type 0x40",
         {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1},
         19},
        {"question type cut",
         {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0},
         18},
        {"answer rdlength past the end",
         {0x12, 0x34, 0x81, 0x80, 0, 0, 0,  1, 0,   0, 0, 0, 0, 0,
          1,    0,    1,    0,    0, 0, 30, 0, 200, 1, 2, 3, 4},
         27},
        {"A record with 3 octets",
         {0x12, 0x34, 0x81, 0x80, 0, 0, 0, 1,  0, 0, 0, 0, 0,
          0,    1,    0,    1,    0, 0, 0, 30, 0, 3, 1, 2, 3},
         26},
        {"CNAME target overrunning its rdata",
         {0x12, 0x34, 0x81, 0x80, 0, 0, 0,  1, 0, 0, 0,   0,   0,   0,
          5,    0,    1,    0,    0, 0, 30, 0, 2, 3, 'a', 'b', 'c', 0},
         28},
        {"OPT not owned by the root",
         {0x12, 0x34, 0x01, 0x00, 0,    0, 0, 0, 0, 0, 0, 1, 1,
          'a',  0,    0,    41,   0x10, 0, 0, 0, 0, 0, 0, 0},
         25},
        {"two OPT records",
         {0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0,  0,    0, 2, 0, 0, 41, 0x10, 0,
          0,    0,    0,    0,    0, 0, 0, 0, 41, 0x10, 0, 0, 0, 0, 0,  0,    0},
         34},
        {"more answers announced than present",
         {0x12, 0x34, 0x81, 0x80, 0, 0, 0,  2, 0, 0, 0, 0, 0, 0,
          1,    0,    1,    0,    0, 0, 30, 0, 4, 1, 2, 3, 4},
         27},
    };
    struct dns_msg *m = malloc(sizeof(*m));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = dns_msg_parse(cases[i].pkt, cases[i].len, m);
        if (rc != -EBADMSG)
            fail_msg("%s: got %d", cases[i].what, rc);
    }
    /* the last case minus its second announced answer parses: the table is not vacuous */
    uint8_t ok[27];
    memcpy(ok, cases[sizeof(cases) / sizeof(cases[0]) - 1].pkt, 27);
    ok[7] = 1;
    assert_int_equal(dns_msg_parse(ok, 27, m), 0);
    assert_int_equal(m->n_an, 1);
    assert_int_equal(m->an[0].type, DNS_T_A);
    assert_memory_equal(m->an[0].d.a, ((uint8_t[]){1, 2, 3, 4}), 4);
    free(m);
}

/* A chain of 100 backward pointers (each pointing at the previous) exceeds the hop limit. */
static void pointer_chains_are_limited(void **state)
{
    (void)state;
    uint8_t pkt[400] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    size_t off = 12;
    pkt[off++] = 1;
    pkt[off++] = 'a';
    pkt[off++] = 0;
    size_t prev = 12;
    for (int i = 0; i < 100; i++) {
        pkt[off] = (uint8_t)(0xc0 | (prev >> 8));
        pkt[off + 1] = (uint8_t)prev;
        prev = off;
        off += 2;
    }
    char out[DNS_MAX_NAME];
    size_t at = prev;
    assert_int_equal(dns_name_decode(pkt, off, &at, out, sizeof(out)), -EBADMSG);
    /* a short chain is followed */
    at = 12 + 3 + 2 * 9; /* the 10th pointer: 10 hops */
    assert_int_equal(dns_name_decode(pkt, off, &at, out, sizeof(out)), 0);
    assert_string_equal(out, "a");
    assert_int_equal(at, 12 + 3 + 2 * 10);
}

/* Decompressed names longer than 255 octets are refused even when built from pointers. */
static void decompressed_names_are_limited(void **state)
{
    (void)state;
    uint8_t pkt[600] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    size_t off = 12;
    /* label(63) label(63) label(63) 0 at 12; then label(63) + pointer to 12 -> 257 octets */
    for (int i = 0; i < 3; i++) {
        pkt[off++] = 63;
        memset(pkt + off, 'x', 63);
        off += 63;
    }
    pkt[off++] = 0;
    size_t second = off;
    pkt[off++] = 63;
    memset(pkt + off, 'y', 63);
    off += 63;
    pkt[off++] = 0xc0;
    pkt[off++] = 12;
    char out[DNS_MAX_NAME];
    size_t at = 12;
    assert_int_equal(dns_name_decode(pkt, off, &at, out, sizeof(out)), 0);
    at = second;
    assert_int_equal(dns_name_decode(pkt, off, &at, out, sizeof(out)), -EBADMSG);
}

static void answers_are_compressed(void **state)
{
    (void)state;
    uint8_t buf[512];
    struct dns_builder b;
    dns_build_init(&b, buf, sizeof(buf), sizeof(buf), 7, DNS_F_QR | DNS_F_AA);
    struct dns_question q = {
        .name = "web.default.svc.cluster.local", .type = DNS_T_SRV, .class = DNS_CLASS_IN};
    assert_int_equal(dns_build_question(&b, &q), 0);
    size_t after_q = b.len;
    struct dns_rr rr = {.name = "WEB.default.svc.cluster.local", .type = DNS_T_A, .ttl = 30};
    memcpy(rr.d.a, ((uint8_t[]){10, 96, 0, 7}), 4);
    assert_int_equal(dns_build_rr(&b, 1, &rr), 0);
    /* the owner is only a pointer: 2 + 10 + 4 octets (case-insensitive match) */
    assert_int_equal(b.len - after_q, 16);
    struct dns_rr ptr = {.name = "7.0.96.10.in-addr.arpa", .type = DNS_T_PTR, .ttl = 30};
    strcpy(ptr.d.target, "db.default.svc.cluster.local");
    size_t before = b.len;
    assert_int_equal(dns_build_rr(&b, 1, &ptr), 0);
    /* target: "db" label + pointer to "default.svc.cluster.local" = 3 + 2 octets */
    assert_int_equal(b.len - before, 24 + 10 + 5);
    size_t n = dns_build_finish(&b, DNS_RCODE_NOERROR);
    struct dns_msg *m = malloc(sizeof(*m));
    assert_int_equal(dns_msg_parse(buf, n, m), 0);
    assert_int_equal(m->ancount, 2);
    /* the owner was compressed to the question's name: spelled as the question */
    assert_string_equal(m->an[0].name, "web.default.svc.cluster.local");
    assert_string_equal(m->an[1].d.target, "db.default.svc.cluster.local");
    assert_true(m->flags & DNS_F_AA);
    assert_int_equal(DNS_RCODE(m->flags), 0);
    free(m);
}

static void every_record_type_round_trips(void **state)
{
    (void)state;
    uint8_t buf[1024];
    struct dns_builder b;
    dns_build_init(&b, buf, sizeof(buf), sizeof(buf), 9, DNS_F_QR);
    struct dns_rr rrs[6];
    memset(rrs, 0, sizeof(rrs));
    strcpy(rrs[0].name, "a.x");
    rrs[0].type = DNS_T_AAAA;
    rrs[0].d.aaaa[15] = 1;
    strcpy(rrs[1].name, "_http._tcp.web.x");
    rrs[1].type = DNS_T_SRV;
    rrs[1].d.srv = (struct dns_srv){.priority = 0, .weight = 50, .port = 8080, .target = "h.web.x"};
    strcpy(rrs[2].name, "x");
    rrs[2].type = DNS_T_SOA;
    rrs[2].d.soa = (struct dns_soa){.mname = "ns.dns.x",
                                    .rname = "hostmaster.x",
                                    .serial = 5,
                                    .refresh = 7200,
                                    .retry = 1800,
                                    .expire = 86400,
                                    .minimum = 30};
    strcpy(rrs[3].name, "dns-version.x");
    rrs[3].type = DNS_T_TXT;
    strcpy(rrs[3].d.txt, "1.1.0");
    strcpy(rrs[4].name, "ext.x");
    rrs[4].type = DNS_T_CNAME;
    strcpy(rrs[4].d.target, "example.com");
    strcpy(rrs[5].name, "x");
    rrs[5].type = DNS_T_NS;
    strcpy(rrs[5].d.target, "ns.dns.x");
    for (int i = 0; i < 6; i++) {
        rrs[i].ttl = 30;
        if (i != 2)
            assert_int_equal(dns_build_rr(&b, 1, &rrs[i]), 0);
    }
    assert_int_equal(dns_build_rr(&b, 2, &rrs[2]), 0);
    /* sections are written in order: no answer after an authority record */
    assert_int_equal(dns_build_rr(&b, 1, &rrs[0]), -EINVAL);
    size_t n = dns_build_finish(&b, DNS_RCODE_NXDOMAIN);
    struct dns_msg *m = malloc(sizeof(*m));
    assert_int_equal(dns_msg_parse(buf, n, m), 0);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_NXDOMAIN);
    assert_int_equal(m->n_an, 5);
    assert_int_equal(m->n_ns, 1);
    assert_int_equal(m->an[0].d.aaaa[15], 1);
    assert_int_equal(m->an[1].d.srv.weight, 50);
    assert_int_equal(m->an[1].d.srv.port, 8080);
    assert_string_equal(m->an[1].d.srv.target, "h.web.x");
    assert_string_equal(m->an[2].d.txt, "1.1.0");
    assert_string_equal(m->an[3].d.target, "example.com");
    assert_string_equal(m->an[4].d.target, "ns.dns.x");
    assert_string_equal(m->ns[0].d.soa.mname, "ns.dns.x");
    assert_string_equal(m->ns[0].d.soa.rname, "hostmaster.x");
    assert_int_equal(m->ns[0].d.soa.expire, 86400);
    assert_int_equal(m->ns[0].d.soa.minimum, 30);
    assert_int_equal(m->an[0].ttl, 30);
    free(m);
}

/* Records past the limit are dropped whole and TC is set; the message stays parseable. */
static void answers_over_the_limit_are_truncated(void **state)
{
    (void)state;
    uint8_t buf[4096];
    struct dns_builder b;
    dns_build_init(&b, buf, sizeof(buf), DNS_UDP_MIN, 1, DNS_F_QR);
    struct dns_question q = {
        .name = "db.default.svc.cluster.local", .type = DNS_T_A, .class = DNS_CLASS_IN};
    assert_int_equal(dns_build_question(&b, &q), 0);
    int added = 0, rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) {
        struct dns_rr rr = {.name = "db.default.svc.cluster.local", .type = DNS_T_A, .ttl = 30};
        rr.d.a[0] = 10;
        rr.d.a[3] = (uint8_t)i;
        rc = dns_build_rr(&b, 1, &rr);
        if (rc == 0)
            added++;
    }
    assert_int_equal(rc, -EMSGSIZE);
    size_t n = dns_build_finish(&b, 0);
    assert_true(n <= DNS_UDP_MIN);
    /* 12 + 34 question, 16 per compressed A record */
    assert_int_equal(added, (DNS_UDP_MIN - 12 - 34) / 16);
    struct dns_msg *m = malloc(sizeof(*m));
    assert_int_equal(dns_msg_parse(buf, n, m), 0);
    assert_true(m->flags & DNS_F_TC);
    assert_int_equal(m->ancount, added);
    free(m);
}

/* Random and mutated packets never crash the decoder (ASan/UBSan watch this test). */
static void random_packets_never_crash(void **state)
{
    (void)state;
    uint8_t base[512];
    size_t n = make_query(base, sizeof(base), "a.b.c.svc.cluster.local", DNS_T_A, true, 1232);
    struct dns_msg *m = malloc(sizeof(*m));
    unsigned seed = 12345;
    int parsed = 0;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t pkt[512];
        size_t len;
        if (iter % 2) {
            memcpy(pkt, base, n);
            len = n;
            for (int k = 0; k < 1 + iter % 4; k++)
                pkt[rand_r(&seed) % n] = (uint8_t)rand_r(&seed);
            len = (size_t)rand_r(&seed) % (n + 1);
        } else {
            len = (size_t)rand_r(&seed) % sizeof(pkt);
            for (size_t k = 0; k < len; k++)
                pkt[k] = (uint8_t)rand_r(&seed);
            if (len > 12)
                pkt[12] = (uint8_t)(0xc0 | (pkt[12] & 1)); /* pointer-heavy */
        }
        if (dns_msg_parse(pkt, len, m) == 0)
            parsed++;
    }
    assert_true(parsed > 0); /* some mutations stay valid: the loop exercised the decoder */
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(query_round_trips),
        cmocka_unit_test(names_escape_special_octets),
        cmocka_unit_test(bad_names_are_not_encoded),
        cmocka_unit_test(malformed_packets_are_rejected),
        cmocka_unit_test(pointer_chains_are_limited),
        cmocka_unit_test(decompressed_names_are_limited),
        cmocka_unit_test(answers_are_compressed),
        cmocka_unit_test(every_record_type_round_trips),
        cmocka_unit_test(answers_over_the_limit_are_truncated),
        cmocka_unit_test(random_packets_never_crash),
    };
    return cmocka_run_group_tests_name("dns_message", tests, NULL, NULL);
}
