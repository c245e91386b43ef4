/* server.c - UDP/TCP listeners and the forwarder of ckube-dns (see server.h). */
#include "dns/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"

#define MAX_TCP_CONNS 64
#define MAX_FORWARDS 64
#define TCP_IDLE_MS 10000

struct dns_server {
    struct dns_zone zone; /* copy; serial updated through `serial` */
    _Atomic uint32_t serial;
    int udp_fd, tcp_fd, port;
    atomic_bool stop;
    atomic_int threads; /* detached connection/forward threads still running */
    pthread_t udp_thread, tcp_thread;
    bool udp_started, tcp_started;
    struct sockaddr_in upstreams[DNS_MAX_UPSTREAMS];
    _Atomic int64_t down_until[DNS_MAX_UPSTREAMS]; /* ms (monotonic) an upstream is skipped */
    size_t n_upstreams;
    struct ck_metric_family *requests, *responses, *forwards;
};

size_t dns_read_resolv_conf(const char *path, char **out, size_t max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = 0;
    char line[512];
    while (n < max && fgets(line, sizeof(line), f)) {
        char word[32], addr[64];
        if (sscanf(line, "%31s %63s", word, addr) == 2 && strcmp(word, "nameserver") == 0)
            out[n++] = ck_xstrdup(addr);
    }
    fclose(f);
    return n;
}

static int parse_upstream(const char *s, struct sockaddr_in *sa)
{
    char host[64];
    int port = 53;
    const char *colon = strchr(s, ':');
    if (colon) {
        if ((size_t)(colon - s) >= sizeof(host) || strchr(colon + 1, ':'))
            return -EINVAL; /* IPv6 upstreams are not supported */
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = atoi(colon + 1);
    } else {
        snprintf(host, sizeof(host), "%s", s);
    }
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return -EINVAL;
    return 0;
}

static uint8_t *memdup(const uint8_t *p, size_t n)
{
    uint8_t *d = ck_xmalloc(n ? n : 1);
    memcpy(d, p, n);
    return d;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Without upstreams a name outside the zone is REFUSED at once (CoreDNS without a server
 * block for the name); with upstreams that all failed, the prepared SERVFAIL stands. */
static void set_rcode(uint8_t *msg, size_t len, int rcode)
{
    if (len >= 12)
        msg[3] = (uint8_t)((msg[3] & 0xf0) | (rcode & 0x0f));
}

static void count_request(struct dns_server *s, const char *proto, const uint8_t *pkt, size_t len)
{
    /* the question type, read without a full parse: name, then type */
    char type_buf[16], name[DNS_MAX_NAME];
    const char *type = "other";
    size_t off = 12;
    if (len > 12 && dns_name_decode(pkt, len, &off, name, sizeof(name)) == 0 && off + 2 <= len)
        type = dns_type_name((uint16_t)((pkt[off] << 8) | pkt[off + 1]), type_buf);
    ck_metric_inc(ck_metric_with(s->requests, proto, type, NULL));
}

static void count_response(struct dns_server *s, const uint8_t *pkt, size_t len)
{
    static const char *names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                  "NXDOMAIN", "NOTIMP",  "REFUSED"};
    uint16_t flags = 0;
    if (dns_parse_header(pkt, len, NULL, &flags, NULL) < 0)
        return;
    unsigned rc = DNS_RCODE(flags);
    char other[16];
    snprintf(other, sizeof(other), "RCODE%u", rc);
    ck_metric_inc(ck_metric_with(s->responses, rc < 6 ? names[rc] : other, NULL));
}

/* Relays query to the upstreams in turn (2 s overall); 0 with the answer in out, or -errno. */
static int forward(struct dns_server *s, const uint8_t *q, size_t qlen, uint8_t *out, size_t cap,
                   size_t *out_len)
{
    if (s->n_upstreams == 0 || qlen < 12)
        return -ENOENT;
    int64_t deadline = now_ms() + DNS_FORWARD_TIMEOUT_MS;
    size_t live = 0;
    for (size_t i = 0; i < s->n_upstreams; i++)
        live += atomic_load(&s->down_until[i]) <= now_ms();
    for (size_t i = 0; i < s->n_upstreams && live > 0; i++) {
        if (atomic_load(&s->down_until[i]) > now_ms())
            continue; /* failed lately: answer at once rather than wait for it again */
        int64_t left = deadline - now_ms();
        if (left <= 0)
            break;
        int budget = (int)(left / (int64_t)live--);
        char to[32];
        inet_ntop(AF_INET, &s->upstreams[i].sin_addr, to, sizeof(to));
        ck_metric_inc(ck_metric_with(s->forwards, to, NULL));
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
        if (connect(fd, (struct sockaddr *)&s->upstreams[i], sizeof(s->upstreams[i])) < 0 ||
            send(fd, q, qlen, 0) < 0) {
            ck_vinfo(2, "forward to %s: %s", to, strerror(errno));
            close(fd);
            atomic_store(&s->down_until[i], now_ms() + DNS_UPSTREAM_DOWN_MS);
            continue;
        }
        int64_t until = now_ms() + budget;
        for (;;) {
            int wait = (int)(until - now_ms());
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (wait <= 0 || poll(&p, 1, wait) <= 0)
                break;
            ssize_t n = recv(fd, out, cap, 0);
            if (n < 0)
                break; /* ICMP unreachable: next upstream */
            if (n >= 12 && out[0] == q[0] && out[1] == q[1]) {
                atomic_store(&s->down_until[i], 0);
                close(fd);
                *out_len = (size_t)n;
                return 0;
            }
        }
        close(fd);
        atomic_store(&s->down_until[i], now_ms() + DNS_UPSTREAM_DOWN_MS);
    }
    return -ETIMEDOUT;
}

/* ---- UDP ---------------------------------------------------------------------------------- */

struct udp_forward {
    struct dns_server *s;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    uint8_t *query, *servfail;
    size_t qlen, sflen;
};

static void *udp_forward_thread(void *arg)
{
    struct udp_forward *f = arg;
    uint8_t *out = ck_xmalloc(DNS_MAX_MSG);
    size_t n = 0;
    if (forward(f->s, f->query, f->qlen, out, DNS_MAX_MSG, &n) < 0) {
        memcpy(out, f->servfail, f->sflen);
        n = f->sflen;
    }
    count_response(f->s, out, n);
    sendto(f->s->udp_fd, out, n, 0, (struct sockaddr *)&f->peer, f->peer_len);
    free(out);
    free(f->query);
    free(f->servfail);
    atomic_fetch_sub(&f->s->threads, 1);
    free(f);
    return NULL;
}

static struct dns_zone zone_now(struct dns_server *s)
{
    struct dns_zone z = s->zone;
    z.serial = atomic_load(&s->serial);
    return z;
}

static void *udp_loop(void *arg)
{
    struct dns_server *s = arg;
    uint8_t *in = ck_xmalloc(DNS_MAX_MSG), *out = ck_xmalloc(DNS_MAX_MSG);
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->udp_fd, .events = POLLIN};
        if (poll(&p, 1, 300) <= 0)
            continue;
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        ssize_t n = recvfrom(s->udp_fd, in, DNS_MAX_MSG, 0, (struct sockaddr *)&peer, &plen);
        if (n <= 0)
            continue;
        count_request(s, "udp", in, (size_t)n);
        struct dns_zone z = zone_now(s);
        size_t olen = 0;
        int rc = dns_zone_respond(&z, in, (size_t)n, true, out, DNS_MAX_MSG, &olen);
        if (rc < 0)
            continue;
        if (rc == DNS_FORWARD && s->n_upstreams == 0)
            set_rcode(out, olen, DNS_RCODE_REFUSED);
        if (rc == DNS_FORWARD && s->n_upstreams > 0 &&
            atomic_fetch_add(&s->threads, 1) < MAX_FORWARDS) {
            struct udp_forward *f = ck_xcalloc(1, sizeof(*f));
            f->s = s;
            f->peer = peer;
            f->peer_len = plen;
            f->query = memdup(in, (size_t)n);
            f->qlen = (size_t)n;
            f->servfail = memdup(out, olen);
            f->sflen = olen;
            pthread_t t;
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            int e = pthread_create(&t, &attr, udp_forward_thread, f);
            pthread_attr_destroy(&attr);
            if (e == 0)
                continue;
            free(f->query);
            free(f->servfail);
            free(f);
            atomic_fetch_sub(&s->threads, 1);
        } else if (rc == DNS_FORWARD && s->n_upstreams > 0) {
            atomic_fetch_sub(&s->threads, 1);
        }
        count_response(s, out, olen);
        sendto(s->udp_fd, out, olen, 0, (struct sockaddr *)&peer, plen);
    }
    free(in);
    free(out);
    return NULL;
}

/* ---- TCP ---------------------------------------------------------------------------------- */

struct tcp_conn {
    struct dns_server *s;
    int fd;
};

/* Reads exactly n octets within the idle timeout; 0, or -1 on EOF/timeout/stop. */
static int read_full(struct dns_server *s, int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    int64_t until = now_ms() + TCP_IDLE_MS;
    while (got < n) {
        int wait = (int)(until - now_ms());
        if (wait <= 0 || atomic_load(&s->stop))
            return -1;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = poll(&pf, 1, wait < 300 ? wait : 300);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0)
            continue;
        ssize_t k = recv(fd, p + got, n - got, 0);
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

static int write_msg(int fd, const uint8_t *p, size_t n)
{
    uint8_t hdr[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    struct iovec iov[2] = {{hdr, 2}, {(void *)p, n}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    size_t total = n + 2;
    ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
    return w == (ssize_t)total ? 0 : -1;
}

static void *tcp_conn_thread(void *arg)
{
    struct tcp_conn *c = arg;
    struct dns_server *s = c->s;
    uint8_t *in = ck_xmalloc(DNS_MAX_MSG), *out = ck_xmalloc(DNS_MAX_MSG);
    for (;;) {
        uint8_t hdr[2];
        if (read_full(s, c->fd, hdr, 2) < 0)
            break;
        size_t len = ((size_t)hdr[0] << 8) | hdr[1];
        if (len == 0 || read_full(s, c->fd, in, len) < 0)
            break;
        count_request(s, "tcp", in, len);
        struct dns_zone z = zone_now(s);
        size_t olen = 0;
        int rc = dns_zone_respond(&z, in, len, false, out, DNS_MAX_MSG, &olen);
        if (rc < 0)
            break;
        if (rc == DNS_FORWARD && s->n_upstreams == 0) {
            set_rcode(out, olen, DNS_RCODE_REFUSED);
        } else if (rc == DNS_FORWARD) {
            /* upstream over UDP; a truncated upstream answer is passed on as it is */
            uint8_t *fw = ck_xmalloc(DNS_MAX_MSG);
            size_t flen = 0;
            if (forward(s, in, len, fw, DNS_MAX_MSG, &flen) == 0) {
                memcpy(out, fw, flen);
                olen = flen;
            }
            free(fw);
        }
        count_response(s, out, olen);
        if (write_msg(c->fd, out, olen) < 0)
            break;
    }
    free(in);
    free(out);
    close(c->fd);
    atomic_fetch_sub(&s->threads, 1);
    free(c);
    return NULL;
}

static void *tcp_loop(void *arg)
{
    struct dns_server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->tcp_fd, .events = POLLIN};
        if (poll(&p, 1, 300) <= 0)
            continue;
        int fd = accept4(s->tcp_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        if (atomic_fetch_add(&s->threads, 1) >= MAX_TCP_CONNS + MAX_FORWARDS) {
            atomic_fetch_sub(&s->threads, 1);
            close(fd);
            continue;
        }
        struct tcp_conn *c = ck_xcalloc(1, sizeof(*c));
        c->s = s;
        c->fd = fd;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, tcp_conn_thread, c) != 0) {
            close(fd);
            free(c);
            atomic_fetch_sub(&s->threads, 1);
        }
        pthread_attr_destroy(&attr);
    }
    return NULL;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static int bind_socket(int type, const char *addr, int port, int *fd_out, int *port_out)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        return -EINVAL;
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        (type == SOCK_STREAM && listen(fd, 128) < 0)) {
        int e = -errno;
        close(fd);
        return e;
    }
    socklen_t l = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &l);
    *port_out = ntohs(sa.sin_port);
    *fd_out = fd;
    return 0;
}

int dns_server_start(const struct dns_zone *zone, const struct dns_server_opts *opts,
                     struct dns_server **out)
{
    *out = NULL;
    const char *addr = opts->bind_address && *opts->bind_address ? opts->bind_address : "0.0.0.0";
    struct dns_server *s = ck_xcalloc(1, sizeof(*s));
    s->zone = *zone;
    atomic_init(&s->serial, zone->serial);
    s->udp_fd = s->tcp_fd = -1;
    for (size_t i = 0; opts->upstreams && opts->upstreams[i] && s->n_upstreams < DNS_MAX_UPSTREAMS;
         i++) {
        if (parse_upstream(opts->upstreams[i], &s->upstreams[s->n_upstreams]) == 0)
            s->n_upstreams++;
        else
            ck_warn("ignoring upstream nameserver \"%s\" (not an IPv4 address)",
                    opts->upstreams[i]);
    }
    struct ck_metrics *reg = opts->metrics ? opts->metrics : ck_metrics_default();
    s->requests = ck_metrics_counter(reg, "coredns_dns_requests_total",
                                     "Counter of DNS requests made per zone, protocol and family.",
                                     (const char *[]){"proto", "type", NULL});
    s->responses =
        ck_metrics_counter(reg, "coredns_dns_responses_total", "Counter of response status codes.",
                           (const char *[]){"rcode", NULL});
    s->forwards =
        ck_metrics_counter(reg, "coredns_forward_requests_total",
                           "Counter of requests made per upstream.", (const char *[]){"to", NULL});
    /* UDP and TCP share one port: with port 0 the free UDP port may be taken for TCP, so a
     * few other ports are tried */
    int port = opts->port, rc = -EADDRINUSE;
    for (int attempt = 0; attempt < 20 && rc == -EADDRINUSE; attempt++) {
        if (s->udp_fd >= 0)
            close(s->udp_fd);
        s->udp_fd = -1;
        rc = bind_socket(SOCK_DGRAM, addr, opts->port, &s->udp_fd, &s->port);
        if (rc == 0)
            rc = bind_socket(SOCK_STREAM, addr, s->port, &s->tcp_fd, &port);
        if (opts->port != 0)
            break;
    }
    if (rc == 0 && pthread_create(&s->udp_thread, NULL, udp_loop, s) == 0)
        s->udp_started = true;
    else if (rc == 0)
        rc = -EAGAIN;
    if (rc == 0 && pthread_create(&s->tcp_thread, NULL, tcp_loop, s) == 0)
        s->tcp_started = true;
    else if (rc == 0)
        rc = -EAGAIN;
    if (rc < 0) {
        dns_server_stop(s);
        return rc;
    }
    *out = s;
    return 0;
}

void dns_server_stop(struct dns_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    if (s->udp_started)
        pthread_join(s->udp_thread, NULL);
    if (s->tcp_started)
        pthread_join(s->tcp_thread, NULL);
    for (int i = 0; i < 300 && atomic_load(&s->threads) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&s->threads) > 0) {
        ck_warn("%d DNS threads still running at stop; leaking the server",
                atomic_load(&s->threads));
        return;
    }
    if (s->udp_fd >= 0)
        close(s->udp_fd);
    if (s->tcp_fd >= 0)
        close(s->tcp_fd);
    free(s);
}

int dns_server_port(const struct dns_server *s)
{
    return s ? s->port : 0;
}

void dns_server_set_serial(struct dns_server *s, uint32_t serial)
{
    if (s)
        atomic_store(&s->serial, serial);
}
