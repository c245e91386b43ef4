/* bench_watch - watch event delivery latency through the kube-apiserver: the time from the
 * start of a ConfigMap create to the moment each of N watchers of that resource has read its
 * ADDED event, p50/p99, with 1, 100 and 1000 watchers on one resource; and the number of etcd
 * watchers while they run (etcd's etcd_debugging_mvcc_watcher_total), which must not grow with
 * the client count (the watch cache serves every client watch from one etcd watch).
 *
 * The watchers are raw non-blocking sockets read by ONE epoll thread (HTTP/1.1 chunked
 * decoding here), not a thread each. Every watcher starts at the same resourceVersion, so none
 * can miss an event by connecting late; a warm-up event seen by all of them marks the start.
 * Goal: p99 < 100 ms at 1000 watchers ("RATIO watch_p99_<N>_vs_100ms" = 100 ms / p99).
 *
 * Environment: CK_BENCH_SECONDS (writing time per cell, default 4; events are written every
 * 50 ms), CKUBE_BIN (where kube-apiserver is, default bin).
 *
 * Note: the apiserver's HTTP server (libmicrohttpd, thread per connection) accepts at most
 * FD_SETSIZE - 4 = 1020 connections at once by default; further watchers would wait in the
 * listen backlog. Each cell therefore ends by making the server notice its closed watches.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "test/lib/cluster.h"
#include "test/lib/watchstream.h"
#include "test/lib/etcd_cluster.h"

#define MAX_WATCHERS 1000
#define MAX_EVENTS 2000
#define WRITE_EVERY_MS 50

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A watcher: its stream (test/lib/watchstream.h) and what it saw. */
struct wconn {
    struct ck_watch_stream s;
    uint64_t events; /* measured events seen */
    bool warm;       /* saw the warm-up event */
};

/* ---- the measurement -------------------------------------------------------------------- */

static int g_port;
static char g_api[64];
static int64_t g_sent_ns[MAX_EVENTS]; /* when the create of event i started (0: not yet) */
static struct wconn g_conns[MAX_WATCHERS];
static int g_n;
static double *g_lat;                 /* latencies in ms, one per (watcher, event) */
static size_t g_n_lat, g_cap_lat;
static atomic_bool g_stop;
static atomic_int g_warm;             /* watchers that saw the warm-up event */
static atomic_uint_fast64_t g_seen;   /* measured events received, all watchers */
static char g_cell[32];               /* name prefix of this cell's objects */

static void on_line(void *ctx, const char *line, size_t len)
{
    struct wconn *c = ctx;
    int64_t now = mono_ns();
    char pat[64];
    int pn = snprintf(pat, sizeof(pat), "\"name\":\"%s-", g_cell);
    const char *m = memmem(line, len, pat, (size_t)pn);
    if (!m || memmem(line, len, "\"type\":\"ADDED\"", 14) == NULL)
        return;
    const char *num = m + pn;
    if (!strncmp(num, "warm\"", 5)) {
        if (!c->warm) {
            c->warm = true;
            atomic_fetch_add(&g_warm, 1);
        }
        return;
    }
    long i = strtol(num, NULL, 10);
    if (i < 0 || i >= MAX_EVENTS || !g_sent_ns[i])
        return;
    if (g_n_lat == g_cap_lat) {
        g_cap_lat = g_cap_lat ? g_cap_lat * 2 : 4096;
        g_lat = ck_xrealloc(g_lat, g_cap_lat * sizeof(*g_lat));
    }
    g_lat[g_n_lat++] = (double)(now - g_sent_ns[i]) / 1e6;
    c->events++;
    atomic_fetch_add(&g_seen, 1);
}

static void *poller(void *arg)
{
    (void)arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return NULL;
    for (int i = 0; i < g_n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, g_conns[i].s.fd, &ev);
    }
    struct epoll_event evs[256];
    while (!atomic_load(&g_stop)) {
        int r = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < r; k++) {
            struct wconn *c = &g_conns[evs[k].data.u32];
            if (c->s.fd >= 0 &&
                (!ck_watch_stream_read(&c->s, on_line, c) || c->s.st == CK_WS_DONE)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->s.fd, NULL);
                close(c->s.fd);
                c->s.fd = -1;
            }
        }
    }
    close(ep);
    return NULL;
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    if (ud)
        ck_buf_add(ud, p, size * n);
    return size * n;
}

static long http(CURL *h, const char *method, const char *path, const char *body,
                 struct ck_buf *resp)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", strncmp(path, "http", 4) ? g_api : "", path);
    if (resp)
        ck_buf_reset(resp);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    if (!body)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    long status = 0;
    if (curl_easy_perform(h) != CURLE_OK)
        return 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static long create_cm(CURL *h, const char *name)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},"
             "\"data\":{\"k\":\"some value of a typical size for a small config map\"}}",
             name);
    return http(h, "POST", "/api/v1/namespaces/default/configmaps", body, NULL);
}

/* The current resourceVersion of configmaps in default, or -1. */
static long long list_rv(CURL *h)
{
    struct ck_buf b = CK_BUF_INIT;
    long long rv = -1;
    if (http(h, "GET", "/api/v1/namespaces/default/configmaps?limit=1", NULL, &b) == 200 &&
        b.data) {
        const char *m = strstr(b.data, "\"resourceVersion\":\"");
        if (m)
            rv = atoll(m + 19);
    }
    ck_buf_free(&b);
    return rv;
}

/* etcd's count of watchers, or -1. */
static long etcd_watchers(CURL *h, const char *etcd)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/metrics", etcd);
    struct ck_buf b = CK_BUF_INIT;
    long n = -1;
    if (http(h, "GET", url, NULL, &b) == 200 && b.data) {
        const char *m = strstr(b.data, "\netcd_debugging_mvcc_watcher_total ");
        if (m)
            n = atol(m + 36);
    }
    ck_buf_free(&b);
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct cell_result {
    double p50, p99, max;
    long etcd_watchers;
    uint64_t missing;
    int connected;
};

static int run_cell(int watchers, double seconds, const char *etcd, struct cell_result *res)
{
    static int cell_no;
    memset(res, 0, sizeof(*res));
    snprintf(g_cell, sizeof(g_cell), "c%d", cell_no++);
    memset(g_sent_ns, 0, sizeof(g_sent_ns));
    g_n_lat = 0;
    atomic_store(&g_warm, 0);
    atomic_store(&g_seen, 0);
    CURL *h = curl_easy_init();
    if (!h)
        return -ENOMEM;
    long long rv = list_rv(h);
    if (rv < 0) {
        curl_easy_cleanup(h);
        return -EIO;
    }
    char path[256];
    snprintf(path, sizeof(path),
             "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=%lld"
             "&timeoutSeconds=600",
             rv);
    g_n = 0;
    for (int i = 0; i < watchers; i++) {
        memset(&g_conns[i], 0, sizeof(g_conns[i]));
        if (ck_watch_stream_open(&g_conns[i].s, g_port, path, 0) < 0) {
            ck_watch_stream_close(&g_conns[i].s);
            break;
        }
        g_n++;
    }
    res->connected = g_n;
    atomic_store(&g_stop, false);
    pthread_t t;
    int rc = 0;
    if (pthread_create(&t, NULL, poller, NULL) != 0) {
        for (int i = 0; i < g_n; i++)
            ck_watch_stream_close(&g_conns[i].s);
        curl_easy_cleanup(h);
        return -EAGAIN;
    }
    /* the warm-up event: every watcher is connected and reading */
    char name[64];
    snprintf(name, sizeof(name), "%s-warm", g_cell);
    create_cm(h, name);
    int64_t until = mono_ns() + 30 * (int64_t)1000000000;
    while (atomic_load(&g_warm) < g_n && mono_ns() < until)
        sleep_ms(20);
    if (atomic_load(&g_warm) < g_n) {
        fprintf(stderr, "bench_watch: only %d of %d watchers saw the warm-up event\n",
                atomic_load(&g_warm), g_n);
        rc = -ETIMEDOUT;
    }
    res->etcd_watchers = etcd_watchers(h, etcd);
    int events = (int)(seconds * 1000 / WRITE_EVERY_MS);
    if (events > MAX_EVENTS)
        events = MAX_EVENTS;
    int64_t start = mono_ns();
    for (int i = 0; rc == 0 && i < events; i++) {
        int64_t at = start + (int64_t)i * WRITE_EVERY_MS * 1000000;
        int64_t wait = at - mono_ns();
        if (wait > 0)
            sleep_ms((int)(wait / 1000000));
        snprintf(name, sizeof(name), "%s-%d", g_cell, i);
        g_sent_ns[i] = mono_ns();
        if (create_cm(h, name) != 201) {
            fprintf(stderr, "bench_watch: create %s failed\n", name);
            rc = -EIO;
        }
    }
    uint64_t want = (uint64_t)events * (uint64_t)g_n;
    until = mono_ns() + 20 * (int64_t)1000000000;
    while (atomic_load(&g_seen) < want && mono_ns() < until)
        sleep_ms(20);
    atomic_store(&g_stop, true);
    pthread_join(t, NULL);
    res->missing = want - atomic_load(&g_seen);
    if (g_n_lat) {
        qsort(g_lat, g_n_lat, sizeof(*g_lat), cmp_double);
        res->p50 = g_lat[g_n_lat / 2];
        res->p99 = g_lat[(size_t)((double)(g_n_lat - 1) * 0.99)];
        res->max = g_lat[g_n_lat - 1];
    }
    for (int i = 0; i < g_n; i++)
        ck_watch_stream_close(&g_conns[i].s);
    /* one more event makes the server write to every closed watch and end it, so the next
     * cell starts without this one's connections (the server accepts about 1020 at once) */
    snprintf(name, sizeof(name), "%s-bye", g_cell);
    create_cm(h, name);
    sleep_ms(1500);
    curl_easy_cleanup(h);
    return rc;
}


int main(void)
{
    double seconds = getenv("CK_BENCH_SECONDS") ? atof(getenv("CK_BENCH_SECONDS")) : 4.0;
    if (seconds <= 0 || seconds > 30)
        seconds = 4.0;
    signal(SIGPIPE, SIG_IGN);
    /* 1000 client sockets here and as many in the apiserver (which inherits the limit) */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    curl_global_init(CURL_GLOBAL_ALL);
    struct ck_etcd_cluster *cl = NULL;
    int rc = ck_etcd_cluster_start(NULL, &cl);
    if (rc < 0) {
        fprintf(stderr, "bench_watch: cannot start etcd: %s\n", strerror(-rc));
        return 1;
    }
    const char *etcd = ck_etcd_cluster_endpoint(cl, 0);
    char bin[PATH_MAX];
    ck_test_bin("kube-apiserver", bin, sizeof(bin));
    g_port = ck_test_free_port();
    snprintf(g_api, sizeof(g_api), "http://127.0.0.1:%d", g_port);
    char *servers = ck_xasprintf("--etcd-servers=%s", ck_etcd_cluster_endpoints(cl));
    char *portarg = ck_xasprintf("--insecure-port=%d", g_port);
    char *logpath = ck_xasprintf("%s/kube-apiserver.log", ck_etcd_cluster_dir(cl));
    char *argv[] = {bin, servers, portarg, "--secure-port=0", NULL};
    pid_t api = ck_test_spawn(argv, logpath);
    CURL *h = curl_easy_init();
    bool up = false;
    for (int i = 0; api > 0 && h && i < 300 && !up; i++) {
        up = http(h, "GET", "/api/v1/namespaces/default", NULL, NULL) == 200;
        if (!up)
            sleep_ms(100);
    }
    int status = 1;
    if (!up) {
        fprintf(stderr, "bench_watch: the apiserver did not come up\n");
        goto out;
    }
    long base = etcd_watchers(h, etcd);
    printf("watch event latency through kube-apiserver (create start -> ADDED read by every "
           "watcher), one epoll thread for all watchers, an event every %d ms for %.1f s\n",
           WRITE_EVERY_MS, seconds);
    printf("etcd watchers before any client watch: %ld\n\n", base);
    printf("%9s %10s %10s %10s %9s %14s\n", "watchers", "p50 ms", "p99 ms", "max ms", "missing",
           "etcd watchers");
    static const int cells[] = {1, 100, 1000};
    status = 0;
    long most = base;
    for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
        struct cell_result r;
        rc = run_cell(cells[i], seconds, etcd, &r);
        printf("%9d %10.2f %10.2f %10.2f %9" PRIu64 " %14ld%s\n", r.connected, r.p50, r.p99,
               r.max, r.missing, r.etcd_watchers, rc < 0 ? "  (failed)" : "");
        printf("RATIO watch_p99_%d_vs_100ms %.3f\n", cells[i], r.p99 > 0 ? 100.0 / r.p99 : 0);
        fflush(stdout);
        if (rc < 0 || r.missing || r.connected < cells[i])
            status = 1;
        if (r.etcd_watchers > most)
            most = r.etcd_watchers;
    }
    printf("RATIO etcd_watchers_flat %.3f\n", most > 0 && base > 0 ? (double)base / most : 0);
    printf("\ngoal: p99 < 100 ms at 1000 watchers; etcd watchers stay at %ld (max seen %ld)\n",
           base, most);
out:
    if (h)
        curl_easy_cleanup(h);
    if (api > 0)
        ck_test_stop(api, SIGTERM, 10000);
    free(servers);
    free(portarg);
    free(logpath);
    free(g_lat);
    ck_etcd_cluster_destroy(cl);
    curl_global_cleanup();
    return status;
}
