/* agnhost: ckube's stand-in for upstream's e2e test image (registry.k8s.io/e2e-test-images/agnhost),
 * pushed to the lab registry as ckube/agnhost. One static binary with subcommands named and
 * behaving like upstream's, so later tests can be written the way upstream's e2e tests are:
 *
 *   agnhost pause                      sleep until SIGTERM/SIGINT (the image's default command)
 *   agnhost serve-hostname [--port=9376] [--http=true] [--tcp] [--udp] [--close]
 *                                      answer every request with the pod's hostname
 *   agnhost netexec [--http-port=8080] [--udp-port=8081]
 *                                      HTTP: / (NOW: time), /clientip, /echo?msg=&code=,
 *                                      /exit?code=, /healthz, /hostname, /hostName, /shell?cmd=,
 *                                      /shutdown; UDP: "hostname", "echo <msg>", "clientip"
 *
 * Written for this project (no upstream code); extended by later issues. Built with cc -static
 * by deploy/images/agnhost.sh, so it must not need NSS (numeric addresses only). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX 16384  /* request line + headers we read */
#define BODY_MAX 65536 /* bytes of /shell output returned */

/* Go's log package prefix: "2006/01/02 15:04:05 " */
static void logf_(const char *fmt, ...)
{
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y/%m/%d %H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    flockfile(stdout);
    printf("%s ", ts);
    vprintf(fmt, ap);
    putchar('\n');
    funlockfile(stdout);
    fflush(stdout);
    va_end(ap);
}

static void hostname_of(char *out, size_t n)
{
    if (gethostname(out, n) < 0)
        snprintf(out, n, "unknown");
    out[n - 1] = '\0';
}

/* --- flags: --name=value, --name value, --bool, --bool=false ------------------------------- */

struct flag {
    const char *name;
    bool is_bool;
    int *ival;
    bool *bval;
};

static int parse_flags(struct flag *flags, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) && strncmp(a, "-", 1)) {
            fprintf(stderr, "Error: unexpected argument %s\n", a);
            return -1;
        }
        a += a[1] == '-' ? 2 : 1;
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        struct flag *f = NULL;
        for (struct flag *p = flags; p->name; p++)
            if (strlen(p->name) == len && !strncmp(p->name, a, len))
                f = p;
        if (!f) {
            fprintf(stderr, "Error: unknown flag: --%.*s\n", (int)len, a);
            return -1;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (f->is_bool) {
            *f->bval = !val || !strcmp(val, "true") || !strcmp(val, "1");
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "Error: flag needs an argument: --%s\n", f->name);
                return -1;
            }
            val = argv[++i];
        }
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || *end || end == val || v < -1 || v > 65535) {
            fprintf(stderr, "Error: invalid argument \"%s\" for \"--%s\"\n", val, f->name);
            return -1;
        }
        *f->ival = (int)v;
    }
    return 0;
}

/* --- sockets ----------------------------------------------------------------------------- */

static int listen_on(int type, int port)
{
    int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
    bool v6 = fd >= 0;
    if (!v6)
        fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc;
    if (v6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                                  .sin6_addr = in6addr_any};
        rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    } else {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_ANY)};
        rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    }
    if (rc < 0 || (type == SOCK_STREAM && listen(fd, 128) < 0)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* "ip:port" as Go prints a RemoteAddr ("[::1]:80" for IPv6), v4-mapped addresses as IPv4 */
static void addr_string(const struct sockaddr_storage *ss, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        port = ntohs(s6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip, sizeof ip);
            snprintf(out, n, "%s:%d", ip, port);
            return;
        }
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        snprintf(out, n, "[%s]:%d", ip, port);
        return;
    }
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
    snprintf(out, n, "%s:%d", ip, ntohs(s4->sin_port));
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* --- HTTP -------------------------------------------------------------------------------- */

struct request {
    char method[16];
    char path[2048];  /* decoded path, without the query */
    char query[4096]; /* raw query string */
    char peer[80];    /* "ip:port" */
};

static const char *status_text(int code)
{
    switch (code) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 412: return "Precondition Failed";
    case 417: return "Expectation Failed";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static void respond(int fd, int code, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     code, status_text(code), len);
    if (write_all(fd, head, (size_t)n) == 0 && len)
        write_all(fd, body, len);
}

static void respond_str(int fd, int code, const char *body)
{
    respond(fd, code, body, strlen(body));
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* percent-decodes src[0..n) into out (NUL-terminated, truncated to cap); '+' is a space when
 * plus_space (query values, as Go's url.ParseQuery) */
static void url_decode(const char *src, size_t n, char *out, size_t cap, bool plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        int hi, lo;
        if (src[i] == '%' && i + 2 < n && (hi = hexval(src[i + 1])) >= 0 &&
            (lo = hexval(src[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (src[i] == '+' && plus_space) {
            out[o++] = ' ';
        } else {
            out[o++] = src[i];
        }
    }
    out[o] = '\0';
}

/* the decoded value of query parameter `name` (first occurrence) into out; false if absent */
static bool query_get(const char *query, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        if (klen == nl && !strncmp(p, name, nl)) {
            if (eq)
                url_decode(eq + 1, len - klen - 1, out, cap, true);
            else
                out[0] = '\0';
            return true;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    out[0] = '\0';
    return false;
}

/* reads the request head; 0 on success */
static int read_request(int fd, struct request *r)
{
    char *buf = malloc(REQ_MAX + 1);
    if (!buf)
        return -1;
    size_t len = 0;
    int rc = -1;
    while (len < REQ_MAX) {
        ssize_t n = recv(fd, buf + len, REQ_MAX - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto out;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
            break;
    }
    buf[len] = '\0';
    char *sp1 = strchr(buf, ' ');
    if (!sp1 || (size_t)(sp1 - buf) >= sizeof r->method)
        goto out;
    memcpy(r->method, buf, (size_t)(sp1 - buf));
    r->method[sp1 - buf] = '\0';
    char *target = sp1 + 1;
    char *sp2 = strpbrk(target, " \r\n");
    if (!sp2)
        goto out;
    *sp2 = '\0';
    char *q = strchr(target, '?');
    if (q) {
        *q = '\0';
        snprintf(r->query, sizeof r->query, "%s", q + 1);
    } else {
        r->query[0] = '\0';
    }
    url_decode(target, strlen(target), r->path, sizeof r->path, false);
    rc = 0;
out:
    free(buf);
    return rc;
}

/* --- netexec ----------------------------------------------------------------------------- */

static void json_escape_into(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void handle_shell(int fd, const struct request *r)
{
    char *cmd = malloc(sizeof r->query);
    char *out = malloc(BODY_MAX);
    if (!cmd || !out) {
        free(cmd);
        free(out);
        respond_str(fd, 500, "out of memory");
        return;
    }
    if (!query_get(r->query, "shellCommand", cmd, sizeof r->query) || !cmd[0])
        query_get(r->query, "cmd", cmd, sizeof r->query);
    logf_("GET /shell?cmd=%s", cmd);
    size_t len = 0;
    int status = -1;
    FILE *p = popen(cmd, "r");
    if (p) {
        size_t n;
        while ((n = fread(out + len, 1, BODY_MAX - 1 - len, p)) > 0)
            len += n;
        status = pclose(p);
    }
    char *body = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&body, &blen);
    if (!f) {
        free(cmd);
        free(out);
        respond_str(fd, 500, "out of memory");
        return;
    }
    fputc('{', f);
    bool comma = false;
    if (len) {
        fputs("\"output\":", f);
        json_escape_into(f, out, len);
        comma = true;
    }
    if (status != 0) {
        char msg[64];
        if (status == -1)
            snprintf(msg, sizeof msg, "exec: %s", strerror(errno));
        else if (WIFEXITED(status))
            snprintf(msg, sizeof msg, "exit status %d", WEXITSTATUS(status));
        else
            snprintf(msg, sizeof msg, "signal: %d", WTERMSIG(status));
        fprintf(f, "%s\"error\":", comma ? "," : "");
        json_escape_into(f, msg, strlen(msg));
    }
    fputc('}', f);
    fclose(f);
    respond(fd, 200, body, blen);
    free(body);
    free(cmd);
    free(out);
}

static void netexec_http(int fd, const struct request *r)
{
    char val[4096], host[256];
    const char *path = r->path;
    if (!strcmp(path, "/clientip")) {
        logf_("GET /clientip");
        respond_str(fd, 200, r->peer);
    } else if (!strcmp(path, "/echo")) {
        char code_s[32];
        query_get(r->query, "msg", val, sizeof val);
        bool has_code = query_get(r->query, "code", code_s, sizeof code_s) && code_s[0];
        logf_("GET /echo?msg=%s&code=%s", val, code_s);
        int code = 200;
        if (has_code) {
            char *end;
            long c = strtol(code_s, &end, 10);
            if (*end || c < 100 || c > 999) {
                char msg[128];
                snprintf(msg, sizeof msg, "argument 'code' must be an integer or empty, got %.40s\n",
                         code_s);
                respond_str(fd, 200, msg);
                return;
            }
            code = (int)c;
        }
        respond_str(fd, code, val);
    } else if (!strcmp(path, "/exit") || !strcmp(path, "/shutdown")) {
        long code = 0;
        if (path[1] == 'e' && query_get(r->query, "code", val, sizeof val) && val[0]) {
            char *end;
            code = strtol(val, &end, 10);
            if (*end || code < 0 || code > 127) {
                respond_str(fd, 200, "argument 'code' must be an integer [0-127] or empty\n");
                return;
            }
        }
        logf_("GET %s: exiting with %ld", path, code);
        close(fd);
        fflush(stdout);
        _exit((int)code);
    } else if (!strcmp(path, "/healthz")) {
        logf_("GET /healthz");
        respond(fd, 200, "", 0);
    } else if (!strcmp(path, "/hostname") || !strcmp(path, "/hostName")) {
        logf_("GET %s", path);
        hostname_of(host, sizeof host);
        respond_str(fd, 200, host);
    } else if (!strcmp(path, "/shell")) {
        handle_shell(fd, r);
    } else {
        /* upstream's mux sends every other path to the root handler */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        localtime_r(&ts.tv_sec, &tm);
        char when[64], zone[16], body[128];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        strftime(zone, sizeof zone, "%z %Z", &tm);
        snprintf(body, sizeof body, "NOW: %s.%09ld %s", when, ts.tv_nsec, zone);
        logf_("GET /");
        respond_str(fd, 200, body);
    }
}

static void netexec_udp(int fd)
{
    char buf[2048], reply[2300];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    ssize_t n = recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&ss, &sl);
    if (n <= 0)
        return;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (!strcmp(buf, "hostname")) {
        hostname_of(reply, 256);
    } else if (!strncmp(buf, "echo ", 5)) {
        snprintf(reply, sizeof reply, "%s", buf + 5);
    } else if (!strcmp(buf, "clientip")) {
        addr_string(&ss, reply, sizeof reply);
    } else {
        snprintf(reply, sizeof reply, "unknown command: %s", buf);
    }
    logf_("UDP %s", buf);
    sendto(fd, reply, strlen(reply), 0, (struct sockaddr *)&ss, sl);
}

/* --- serve loop ---------------------------------------------------------------------------- */

enum mode { MODE_NETEXEC, MODE_HOSTNAME_HTTP, MODE_HOSTNAME_TCP };

struct conn {
    int fd;
    enum mode mode;
    struct sockaddr_storage peer;
};

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    struct timeval tv = {.tv_sec = 10};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char host[256];
    if (c->mode == MODE_HOSTNAME_TCP) {
        hostname_of(host, sizeof host);
        write_all(c->fd, host, strlen(host));
    } else {
        struct request *r = calloc(1, sizeof *r);
        if (r && read_request(c->fd, r) == 0) {
            addr_string(&c->peer, r->peer, sizeof r->peer);
            if (c->mode == MODE_NETEXEC) {
                netexec_http(c->fd, r);
            } else {
                hostname_of(host, sizeof host);
                respond_str(c->fd, 200, host);
            }
        } else if (r) {
            respond_str(c->fd, 400, "bad request");
        }
        free(r);
    }
    close(c->fd);
    free(c);
    return NULL;
}

/* serves tcp_fd (HTTP or raw TCP per mode) and udp_fd (either may be -1) until killed */
static int serve(int tcp_fd, int udp_fd, enum mode mode)
{
    struct pollfd p[2] = {{.fd = tcp_fd, .events = POLLIN}, {.fd = udp_fd, .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("poll");
            return 1;
        }
        if (udp_fd >= 0 && (p[1].revents & POLLIN)) {
            if (mode == MODE_NETEXEC) {
                netexec_udp(udp_fd);
            } else {
                char buf[2048], host[256];
                struct sockaddr_storage ss;
                socklen_t sl = sizeof ss;
                if (recvfrom(udp_fd, buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl) >= 0) {
                    hostname_of(host, sizeof host);
                    sendto(udp_fd, host, strlen(host), 0, (struct sockaddr *)&ss, sl);
                }
            }
        }
        if (tcp_fd >= 0 && (p[0].revents & POLLIN)) {
            struct conn *c = calloc(1, sizeof *c);
            if (!c)
                continue;
            socklen_t sl = sizeof c->peer;
            c->fd = accept4(tcp_fd, (struct sockaddr *)&c->peer, &sl, SOCK_CLOEXEC);
            if (c->fd < 0) {
                free(c);
                continue;
            }
            c->mode = mode;
            pthread_t t;
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            if (pthread_create(&t, &attr, conn_main, c) != 0) {
                close(c->fd);
                free(c);
            }
            pthread_attr_destroy(&attr);
        }
    }
}

static int cmd_netexec(int argc, char **argv)
{
    int http_port = 8080, udp_port = 8081;
    struct flag flags[] = {{"http-port", false, &http_port, NULL},
                           {"udp-port", false, &udp_port, NULL},
                           {NULL, false, NULL, NULL}};
    if (parse_flags(flags, argc, argv) < 0)
        return 1;
    int t = listen_on(SOCK_STREAM, http_port);
    if (t < 0) {
        fprintf(stderr, "listen tcp :%d: %s\n", http_port, strerror(errno));
        return 1;
    }
    int u = -1;
    if (udp_port != -1) {
        u = listen_on(SOCK_DGRAM, udp_port);
        if (u < 0) {
            fprintf(stderr, "listen udp :%d: %s\n", udp_port, strerror(errno));
            return 1;
        }
        logf_("Started UDP server on port %d", udp_port);
    }
    logf_("Started HTTP server on port %d", http_port);
    return serve(t, u, MODE_NETEXEC);
}

static int cmd_serve_hostname(int argc, char **argv)
{
    int port = 9376;
    bool http = true, tcp = false, udp = false, close_conn = false;
    struct flag flags[] = {{"port", false, &port, NULL},   {"http", true, NULL, &http},
                           {"tcp", true, NULL, &tcp},      {"udp", true, NULL, &udp},
                           {"close", true, NULL, &close_conn}, {NULL, false, NULL, NULL}};
    if (parse_flags(flags, argc, argv) < 0)
        return 1;
    if (http && (tcp || udp)) { /* as upstream: pass --http=false with --tcp/--udp */
        fprintf(stderr, "Error: --http cannot be combined with --tcp or --udp\n");
        return 1;
    }
    int t = -1, u = -1;
    if (http || tcp) {
        t = listen_on(SOCK_STREAM, port);
        if (t < 0) {
            fprintf(stderr, "listen tcp :%d: %s\n", port, strerror(errno));
            return 1;
        }
    }
    if (udp) {
        u = listen_on(SOCK_DGRAM, port);
        if (u < 0) {
            fprintf(stderr, "listen udp :%d: %s\n", port, strerror(errno));
            return 1;
        }
    }
    logf_("Serving on port %d.", port);
    return serve(t, u, http ? MODE_HOSTNAME_HTTP : MODE_HOSTNAME_TCP);
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static int cmd_pause(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    logf_("Paused");
    while (!stop_signal)
        sigsuspend(&old);
    logf_("Signal received: %s, exiting", stop_signal == SIGTERM ? "terminated" : "interrupt");
    return 0;
}

/* SIGTERM/SIGINT end the servers the way they end a process that does not catch them, also
 * when we are PID 1 of a container (where the kernel would otherwise ignore them) */
static void on_fatal(int sig)
{
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

static void usage(FILE *f)
{
    fputs("Usage: agnhost <subcommand> [flags]\n\n"
          "Subcommands:\n"
          "  netexec         HTTP (--http-port=8080) and UDP (--udp-port=8081) test server\n"
          "  pause           sleep until SIGTERM or SIGINT\n"
          "  serve-hostname  answer with the hostname (--port=9376, --http, --tcp, --udp)\n",
          f);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "pause"))
        return cmd_pause();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(cmd, "netexec"))
        return cmd_netexec(argc - 2, argv + 2);
    if (!strcmp(cmd, "serve-hostname"))
        return cmd_serve_hostname(argc - 2, argv + 2);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "Error: unknown command \"%s\" for \"agnhost\"\n", cmd);
    usage(stderr);
    return 1;
}
