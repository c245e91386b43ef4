/* Unit tests for dns/server.c: ckube-dns' UDP and TCP transports over loopback (answers from a
 * zone, several queries on one TCP connection, malformed input survived) and the forwarder
 * (relaying to an upstream, REFUSED at once without upstreams, SERVFAIL for a silent upstream
 * and at once while it is marked down), with the request and response counters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/message.h"
#include "dns/server.h"
#include "dns/zone.h"
#include "mem.h"
#include "metrics.h"
#include "store.h"

struct fixture {
    struct ck_store *svc, *eps;
    struct dns_zone zone;
    struct ck_metrics *metrics;
    struct dns_server *server;
    int upstream_fd; /* a fake upstream on loopback, or -1 */
    pthread_t upstream_thread;
    bool upstream_answers, upstream_running;
};

static int setup(void **state)
{
    struct fixture *f = ck_xcalloc(1, sizeof(*f));
    f->svc = ck_store_new();
    f->eps = ck_store_new();
    ck_store_add_index(f->svc, "namespace", ck_index_namespace);
    ck_store_add_index(f->svc, DNS_INDEX_SERVICE_IP, dns_index_service_ip);
    ck_store_add_index(f->eps, DNS_INDEX_SLICE_SERVICE, dns_index_slice_service);
    ck_store_add_index(f->eps, DNS_INDEX_SLICE_IP, dns_index_slice_ip);
    struct ck_obj *o = ck_obj_new(
        cJSON_Parse("{\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\"},\"spec\":{"
                    "\"clusterIP\":\"10.96.0.1\"}}"));
    ck_obj_unref(ck_store_put(f->svc, o));
    ck_obj_unref(o);
    f->zone = (struct dns_zone){
        .domain = "cluster.local", .ttl = 30, .serial = 1, .services = f->svc, .slices = f->eps};
    f->metrics = ck_metrics_new();
    f->upstream_fd = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    dns_server_stop(f->server);
    if (f->upstream_running) {
        shutdown(f->upstream_fd, SHUT_RDWR);
        pthread_join(f->upstream_thread, NULL);
    }
    if (f->upstream_fd >= 0)
        close(f->upstream_fd);
    ck_metrics_free(f->metrics);
    ck_store_free(f->svc);
    ck_store_free(f->eps);
    free(f);
    return 0;
}

/* The fake upstream: answers every query with A 192.0.2.7 (when upstream_answers). */
static void *upstream_loop(void *arg)
{
    struct fixture *f = arg;
    uint8_t in[512], out[512];
    for (;;) {
        struct sockaddr_in peer;
        socklen_t pl = sizeof(peer);
        ssize_t n = recvfrom(f->upstream_fd, in, sizeof(in), 0, (struct sockaddr *)&peer, &pl);
        if (n <= 0)
            return NULL;
        if (!f->upstream_answers)
            continue;
        struct dns_msg *m = ck_xmalloc(sizeof(*m));
        if (dns_msg_parse(in, (size_t)n, m) == 0) {
            struct dns_builder b;
            dns_build_init(&b, out, sizeof(out), sizeof(out), m->id, DNS_F_QR | DNS_F_RA);
            dns_build_question(&b, &m->q);
            struct dns_rr rr = {.type = DNS_T_A, .ttl = 300, .d.a = {192, 0, 2, 7}};
            strcpy(rr.name, m->q.name);
            dns_build_rr(&b, 1, &rr);
            size_t len = dns_build_finish(&b, 0);
            sendto(f->upstream_fd, out, len, 0, (struct sockaddr *)&peer, pl);
        }
        free(m);
    }
}

/* Starts the fake upstream; writes its "127.0.0.1:port" into addr. */
static void start_upstream(struct fixture *f, bool answers, char addr[32])
{
    f->upstream_fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(f->upstream_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t l = sizeof(sa);
    getsockname(f->upstream_fd, (struct sockaddr *)&sa, &l);
    snprintf(addr, 32, "127.0.0.1:%d", ntohs(sa.sin_port));
    f->upstream_answers = answers;
    assert_int_equal(pthread_create(&f->upstream_thread, NULL, upstream_loop, f), 0);
    f->upstream_running = true;
}

static void start_server(struct fixture *f, const char *upstream)
{
    const char *ups[2] = {upstream, NULL};
    struct dns_server_opts o = {.bind_address = "127.0.0.1",
                                .port = 0,
                                .upstreams = upstream ? ups : NULL,
                                .metrics = f->metrics};
    assert_int_equal(dns_server_start(&f->zone, &o, &f->server), 0);
    assert_true(dns_server_port(f->server) > 0);
}

static size_t make_query(uint8_t *buf, uint16_t id, const char *name)
{
    struct dns_builder b;
    dns_build_init(&b, buf, 512, 512, id, DNS_F_RD);
    struct dns_question q = {.type = DNS_T_A, .class = DNS_CLASS_IN};
    snprintf(q.name, sizeof(q.name), "%s", name);
    dns_build_question(&b, &q);
    return dns_build_finish(&b, 0);
}

static struct sockaddr_in server_addr(struct fixture *f)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)dns_server_port(f->server)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    return sa;
}

/* One UDP exchange: the reply decoded into m; returns the milliseconds it took, -1 if none. */
static long udp_ask(struct fixture *f, const uint8_t *q, size_t qlen, struct dns_msg *m)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = server_addr(f);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sendto(fd, q, qlen, 0, (struct sockaddr *)&sa, sizeof(sa));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    uint8_t buf[DNS_MAX_MSG];
    long ms = -1;
    uint16_t id = (uint16_t)((q[0] << 8) | q[1]);
    while (ms < 0 && poll(&p, 1, 5000) == 1) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (n < 0)
            fprintf(stderr, "# recv: %s\n", strerror(errno));
        if (n > 0 && dns_msg_parse(buf, (size_t)n, m) == 0 && m->id == id)
            ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        else if (n > 0)
            fprintf(stderr, "# unexpected reply of %zd octets\n", n);
    }
    close(fd);
    return ms;
}

static void tcp_read_msg(int fd, struct dns_msg *m)
{
    uint8_t hdr[2], buf[DNS_MAX_MSG];
    assert_int_equal(recv(fd, hdr, 2, MSG_WAITALL), 2);
    size_t n = ((size_t)hdr[0] << 8) | hdr[1];
    assert_int_equal(recv(fd, buf, n, MSG_WAITALL), (ssize_t)n);
    assert_int_equal(dns_msg_parse(buf, n, m), 0);
}

static void udp_and_tcp_answer_from_the_zone(void **state)
{
    struct fixture *f = *state;
    start_server(f, NULL);
    struct dns_msg *m = ck_xmalloc(sizeof(*m));
    uint8_t q[512];
    size_t n = make_query(q, 11, "kubernetes.default.svc.cluster.local");
    assert_true(udp_ask(f, q, n, m) >= 0);
    assert_int_equal(m->id, 11);
    assert_int_equal(m->n_an, 1);
    assert_memory_equal(m->an[0].d.a, ((uint8_t[]){10, 96, 0, 1}), 4);

    /* TCP: two queries written at once on one connection, two answers in order */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = server_addr(f);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    uint8_t two[1100];
    size_t n1 = make_query(two + 2, 21, "kubernetes.default.svc.cluster.local");
    two[0] = (uint8_t)(n1 >> 8);
    two[1] = (uint8_t)n1;
    size_t n2 = make_query(two + 4 + n1, 22, "nothere.default.svc.cluster.local");
    two[2 + n1] = (uint8_t)(n2 >> 8);
    two[3 + n1] = (uint8_t)n2;
    assert_int_equal(send(fd, two, n1 + n2 + 4, 0), (ssize_t)(n1 + n2 + 4));
    tcp_read_msg(fd, m);
    assert_int_equal(m->id, 21);
    assert_int_equal(m->n_an, 1);
    tcp_read_msg(fd, m);
    assert_int_equal(m->id, 22);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_NXDOMAIN);
    close(fd);

    /* counted as CoreDNS names them */
    assert_int_equal(ck_metric_value(ck_metric_with(
                         ck_metrics_counter(f->metrics, "coredns_dns_requests_total", "",
                                            (const char *[]){"proto", "type", NULL}),
                         "tcp", "A", NULL)),
                     2);
    assert_int_equal(
        ck_metric_value(ck_metric_with(ck_metrics_counter(f->metrics, "coredns_dns_responses_total",
                                                          "", (const char *[]){"rcode", NULL}),
                                       "NXDOMAIN", NULL)),
        1);
    free(m);
}

/* Garbage over UDP and TCP does not stop the server from answering. */
static void garbage_is_survived(void **state)
{
    struct fixture *f = *state;
    start_server(f, NULL);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = server_addr(f);
    uint8_t junk[300];
    unsigned seed = 7;
    for (int i = 0; i < 200; i++) {
        size_t len = (size_t)rand_r(&seed) % sizeof(junk);
        for (size_t k = 0; k < len; k++)
            junk[k] = (uint8_t)rand_r(&seed);
        junk[2] &= 0x7f; /* queries, not responses */
        sendto(fd, junk, len, 0, (struct sockaddr *)&sa, sizeof(sa));
    }
    close(fd);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(t, (struct sockaddr *)&sa, sizeof(sa)), 0);
    uint8_t bad[4] = {0, 200, 1, 2}; /* announces 200 octets, sends 2, hangs up */
    send(t, bad, sizeof(bad), 0);
    close(t);
    struct dns_msg *m = ck_xmalloc(sizeof(*m));
    uint8_t q[512];
    size_t n = make_query(q, 5, "kubernetes.default.svc.cluster.local");
    long took = udp_ask(f, q, n, m);
    assert_true(took >= 0 && took < 2000); /* junk is cheap to drop */
    assert_int_equal(m->id, 5);
    assert_int_equal(m->n_an, 1);
    free(m);
}

static void names_outside_are_forwarded(void **state)
{
    struct fixture *f = *state;
    char up[32];
    start_upstream(f, true, up);
    start_server(f, up);
    struct dns_msg *m = ck_xmalloc(sizeof(*m));
    uint8_t q[512];
    size_t n = make_query(q, 0x4242, "example.org");
    assert_true(udp_ask(f, q, n, m) >= 0);
    assert_int_equal(m->id, 0x4242);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_NOERROR);
    assert_int_equal(m->n_an, 1);
    assert_memory_equal(m->an[0].d.a, ((uint8_t[]){192, 0, 2, 7}), 4);
    assert_int_equal(m->an[0].ttl, 300); /* the upstream's answer, relayed */
    free(m);
}

static void without_upstreams_outside_names_are_refused_at_once(void **state)
{
    struct fixture *f = *state;
    start_server(f, NULL);
    struct dns_msg *m = ck_xmalloc(sizeof(*m));
    uint8_t q[512];
    size_t n = make_query(q, 9, "example.org");
    long ms = udp_ask(f, q, n, m);
    assert_true(ms >= 0 && ms < 500);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_REFUSED);
    assert_int_equal(m->id, 9);
    free(m);
}

/* A silent upstream: SERVFAIL after the forward timeout, then at once while it is down. */
static void silent_upstreams_servfail_then_fail_fast(void **state)
{
    struct fixture *f = *state;
    char up[32];
    start_upstream(f, false, up);
    start_server(f, up);
    struct dns_msg *m = ck_xmalloc(sizeof(*m));
    uint8_t q[512];
    size_t n = make_query(q, 1, "example.org");
    long ms = udp_ask(f, q, n, m);
    assert_true(ms >= DNS_FORWARD_TIMEOUT_MS - 100 && ms < DNS_FORWARD_TIMEOUT_MS + 1500);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_SERVFAIL);
    ms = udp_ask(f, q, n, m);
    assert_true(ms >= 0 && ms < 500);
    assert_int_equal(DNS_RCODE(m->flags), DNS_RCODE_SERVFAIL);
    free(m);
}

static void resolv_conf_nameservers_are_read(void **state)
{
    (void)state;
    char path[] = "/tmp/dnsC-resolv-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "# comment\nsearch a.b\nnameserver 10.0.0.2\noptions ndots:5\n"
                       "nameserver 10.0.0.3\nnameserver 1.1.1.1\nnameserver 8.8.8.8\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char *out[DNS_MAX_UPSTREAMS];
    size_t n = dns_read_resolv_conf(path, out, DNS_MAX_UPSTREAMS);
    unlink(path);
    assert_int_equal(n, 3); /* at most 3, as resolvers read */
    assert_string_equal(out[0], "10.0.0.2");
    assert_string_equal(out[1], "10.0.0.3");
    assert_string_equal(out[2], "1.1.1.1");
    for (size_t i = 0; i < n; i++)
        free(out[i]);
    assert_int_equal(dns_read_resolv_conf("/nonexistent/resolv.conf", out, 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(udp_and_tcp_answer_from_the_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_is_survived, setup, teardown),
        cmocka_unit_test_setup_teardown(names_outside_are_forwarded, setup, teardown),
        cmocka_unit_test_setup_teardown(without_upstreams_outside_names_are_refused_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(silent_upstreams_servfail_then_fail_fast, setup, teardown),
        cmocka_unit_test(resolv_conf_nameservers_are_read),
    };
    return cmocka_run_group_tests_name("dns_server", tests, NULL, NULL);
}
