/* Integration tests: client watches survive etcd trouble (issue 5). Each test starts its own
 * REAL etcd (1 or 3 members, test/lib/etcd_cluster) and a REAL kube-apiserver ($CKUBE_BIN) and
 * reads watches over raw non-blocking sockets from one poll loop (HTTP/1.1 chunked decoding
 * here), so hundreds of watchers cost no threads:
 *  - etcd compacts past the watch cache's revision while the apiserver's etcd watch is cut:
 *    current watchers get an ERROR event with a 410 Expired Status and their stream ends; a
 *    new list shows what was written meanwhile and a watch from that list sees what follows;
 *  - the etcd member serving the apiserver is killed mid-watch (3 members): the client sees
 *    every write, in order, exactly once;
 *  - 200 concurrent watchers each get every event, in order, exactly once;
 *  - a watcher that never reads is closed (its stream ends short of the end) while fast
 *    watchers get every event in time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "encoding.h"
#include "json.h"
#include "mem.h"
#include "test/lib/cluster.h"
#include "test/lib/watchstream.h"
#include "test/lib/etcd_cluster.h"

#define PREFIX "/registry-ckwf"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- an etcd cluster and an apiserver on it -------------------------------------------- */

struct env {
    struct ck_etcd_cluster *etcd;
    pid_t api;
    int port;
    char url[64];
    char log[PATH_MAX];
};


static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    if (ud)
        ck_buf_add(ud, p, size * n);
    return size * n;
}

/* One request; returns the HTTP status (0: no answer). url is absolute. */
static long http(const char *method, const char *url, const char *body, struct ck_buf *resp)
{
    CURL *h = curl_easy_init();
    if (!h)
        return 0;
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (resp)
        ck_buf_reset(resp);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return status;
}

static long api(struct env *e, const char *method, const char *path, const char *body,
                struct ck_buf *resp)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", e->url, path);
    return http(method, url, body, resp);
}

/* Starts `members` etcd members and an apiserver using member `only` (-1: all of them). */
static int env_start(struct env *e, int members, int only, const char *extra)
{
    memset(e, 0, sizeof(*e));
    struct ck_etcd_cluster_opts o = {.members = members};
    int rc = ck_etcd_cluster_start(&o, &e->etcd);
    if (rc < 0)
        return rc;
    char bin[PATH_MAX];
    ck_test_bin("kube-apiserver", bin, sizeof(bin));
    e->port = ck_test_free_port();
    snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%d", e->port);
    snprintf(e->log, sizeof(e->log), "%s/kube-apiserver.log", ck_etcd_cluster_dir(e->etcd));
    char *servers = ck_xasprintf("--etcd-servers=%s", only >= 0
                                                          ? ck_etcd_cluster_endpoint(e->etcd, only)
                                                          : ck_etcd_cluster_endpoints(e->etcd));
    char *port = ck_xasprintf("--insecure-port=%d", e->port);
    char *argv[] = {bin, servers, port, "--secure-port=0", "--etcd-prefix=" PREFIX, "--v=2",
                    (char *)extra, NULL};
    e->api = ck_test_spawn(argv, e->log);
    free(servers);
    free(port);
    if (e->api < 0)
        return (int)e->api;
    for (int i = 0; i < 300; i++) {
        if (api(e, "GET", "/api/v1/namespaces/default", NULL, NULL) == 200)
            return 0;
        int st;
        if (!ck_test_running(e->api, &st)) {
            e->api = 0;
            return -ECHILD;
        }
        sleep_ms(100);
    }
    return -ETIMEDOUT;
}

/* Stops everything; fails the test when the apiserver's log holds a sanitizer report. */
static void env_stop(struct env *e)
{
    if (e->api > 0)
        ck_test_stop(e->api, SIGTERM, 10000);
    bool bad = false;
    FILE *f = fopen(e->log, "r");
    if (f) {
        char line[2048];
        while (fgets(line, sizeof(line), f))
            if (strstr(line, "ERROR: AddressSanitizer") || strstr(line, "runtime error:") ||
                strstr(line, "ERROR: LeakSanitizer")) {
                fputs(line, stderr);
                bad = true;
            }
        fclose(f);
    }
    ck_etcd_cluster_destroy(e->etcd);
    assert_false(bad);
}

static long create_cm(struct env *e, const char *name, size_t data_bytes)
{
    char *pad = ck_xmalloc(data_bytes + 1);
    memset(pad, 'x', data_bytes);
    pad[data_bytes] = '\0';
    char *body = ck_xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                              "\"%s\"},\"data\":{\"v\":\"%s\"}}",
                              name, pad);
    struct ck_buf resp = CK_BUF_INIT;
    long st = api(e, "POST", "/api/v1/namespaces/default/configmaps", body, &resp);
    if (st != 201)
        print_message("# create %s: HTTP %ld %.300s\n", name, st, resp.data ? resp.data : "");
    ck_buf_free(&resp);
    free(body);
    free(pad);
    return st;
}

/* A create that rides out an etcd fail-over: retried on 5xx/no answer, 409 counts as done
 * (an earlier attempt of uncertain outcome was applied). */
static bool create_cm_retrying(struct env *e, const char *name)
{
    for (int i = 0; i < 40; i++) {
        long st = create_cm(e, name, 16);
        if (st == 201 || (st == 409 && i > 0))
            return true;
        if (st != 0 && st < 500 && st != 429)
            return false;
        sleep_ms(250);
    }
    return false;
}

/* metadata.resourceVersion of the configmaps list in default ("" when it fails), from etcd
 * or (from_cache) from the watch cache. */
static void list_rv_from(struct env *e, bool from_cache, char *rv, size_t size, int *items)
{
    struct ck_buf b = CK_BUF_INIT;
    rv[0] = '\0';
    if (items)
        *items = -1;
    if (api(e, "GET",
            from_cache ? "/api/v1/namespaces/default/configmaps?resourceVersion=0"
                       : "/api/v1/namespaces/default/configmaps",
            NULL, &b) == 200) {
        cJSON *o = ck_json_parse(b.data, b.len, NULL);
        snprintf(rv, size, "%s", ck_json_get_string(o, "metadata.resourceVersion", ""));
        if (items)
            *items = cJSON_GetArraySize(ck_json_get(o, "items"));
        cJSON_Delete(o);
    }
    ck_buf_free(&b);
}

static void list_rv(struct env *e, char *rv, size_t size, int *items)
{
    list_rv_from(e, false, rv, size, items);
}

/* ---- watch clients: raw sockets, chunked decoding, events parsed into a list ---------- */

struct wevent {
    char type[16];
    char name[64];
    long long rv;
    int code; /* ERROR: the Status code */
};

/* A watch stream (test/lib/watchstream.h) and the events it brought. */
struct watcher {
    struct ck_watch_stream s;
    bool ended; /* the stream ended (terminating chunk or connection closed) */
    struct wevent *ev;
    size_t n, cap;
};

static int watcher_open(struct watcher *w, int port, const char *path, int rcvbuf)
{
    memset(w, 0, sizeof(*w));
    return ck_watch_stream_open(&w->s, port, path, rcvbuf);
}

static void watcher_close(struct watcher *w)
{
    ck_watch_stream_close(&w->s);
    free(w->ev);
    w->ev = NULL;
    w->n = w->cap = 0;
}

static void on_line(void *ctx, const char *s, size_t len)
{
    struct watcher *w = ctx;
    cJSON *o = ck_json_parse(s, len, NULL);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return;
    }
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->ev = ck_xrealloc(w->ev, w->cap * sizeof(*w->ev));
    }
    struct wevent *e = &w->ev[w->n++];
    memset(e, 0, sizeof(*e));
    snprintf(e->type, sizeof(e->type), "%s", ck_json_get_string(o, "type", ""));
    snprintf(e->name, sizeof(e->name), "%s", ck_json_get_string(o, "object.metadata.name", ""));
    e->rv = atoll(ck_json_get_string(o, "object.metadata.resourceVersion", "0"));
    const cJSON *code = ck_json_get(o, "object.code");
    e->code = cJSON_IsNumber(code) ? code->valueint : 0;
    cJSON_Delete(o);
}

/* Reads what the socket has; the stream has ended at its terminating chunk or when the
 * connection closed (then closed here). */
static void watcher_read(struct watcher *w)
{
    if (!ck_watch_stream_read(&w->s, on_line, w)) {
        w->ended = true;
        close(w->s.fd);
        w->s.fd = -1;
    } else if (w->s.st == CK_WS_DONE) {
        w->ended = true;
    }
}

/* Polls the watchers (those with read set) for up to ms, or until done(ctx) says so. */
static void pump(struct watcher *ws, int n, const bool *skip, int ms, bool (*done)(void *),
                 void *ctx)
{
    struct pollfd *pf = ck_xcalloc((size_t)n, sizeof(*pf));
    int64_t until = now_ms() + ms;
    while (now_ms() < until && !(done && done(ctx))) {
        for (int i = 0; i < n; i++) {
            pf[i].fd = skip && skip[i] ? -1 : ws[i].s.fd;
            pf[i].events = POLLIN;
            pf[i].revents = 0;
        }
        if (poll(pf, (nfds_t)n, 50) <= 0)
            continue;
        for (int i = 0; i < n; i++)
            if (pf[i].revents)
                watcher_read(&ws[i]);
    }
    free(pf);
}

/* Number of ADDED events for names "<prefix><i>", i in [0, count), seen in order exactly once;
 * -1 when one is duplicated or out of order or resourceVersions do not increase. */
static int added_in_order(const struct watcher *w, const char *prefix, int count)
{
    int next = 0;
    long long last_rv = 0;
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < w->n; i++) {
        const struct wevent *e = &w->ev[i];
        if (strcmp(e->type, "ADDED") || strncmp(e->name, prefix, pl))
            continue;
        if (atoi(e->name + pl) != next || e->rv <= last_rv) {
            print_message("event %zu: %s %s rv %lld, expected %s%d after rv %lld\n", i, e->type,
                          e->name, e->rv, prefix, next, last_rv);
            return -1;
        }
        last_rv = e->rv;
        next++;
    }
    return next <= count ? next : -1;
}

struct all_ctx {
    struct watcher *ws;
    int n;
    const char *prefix;
    int count;
};

static bool all_have_all(void *vctx)
{
    struct all_ctx *c = vctx;
    for (int i = 0; i < c->n; i++)
        if (added_in_order(&c->ws[i], c->prefix, c->count) != c->count)
            return false;
    return true;
}

static bool watcher_ended(void *vctx)
{
    return ((struct watcher *)vctx)->ended;
}

static void watch_path(char *dst, size_t size, const char *rv)
{
    snprintf(dst, size,
             "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=%s"
             "&timeoutSeconds=300",
             rv);
}

/* ---- the tests -------------------------------------------------------------------------- */

/* Writes a ConfigMap straight into etcd under the apiserver's prefix (member `via`). */
static long etcd_put_cm(struct env *e, int via, const char *name)
{
    char key[256];
    snprintf(key, sizeof(key), PREFIX "/configmaps/default/%s", name);
    char *val = ck_xasprintf("{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
                             "\"%s\",\"namespace\":\"default\",\"uid\":\"0b6f5e2c-2b1f-4f6e-9d7e-"
                             "6f1b2c3d4e5f\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},"
                             "\"data\":{\"v\":\"direct\"}}",
                             name);
    char *k64 = ck_base64_encode(key, strlen(key)), *v64 = ck_base64_encode(val, strlen(val));
    char *body = ck_xasprintf("{\"key\":\"%s\",\"value\":\"%s\"}", k64, v64);
    char url[256];
    snprintf(url, sizeof(url), "%s/v3/kv/put", ck_etcd_cluster_endpoint(e->etcd, via));
    long st = http("POST", url, body, NULL);
    free(body);
    free(k64);
    free(v64);
    free(val);
    return st;
}

/* Any key outside the apiserver's prefix, written through member `via`. */
static long etcd_put_key(struct env *e, int via, const char *key)
{
    char *k64 = ck_base64_encode(key, strlen(key));
    char *body = ck_xasprintf("{\"key\":\"%s\",\"value\":\"eA==\"}", k64);
    char url[256];
    snprintf(url, sizeof(url), "%s/v3/kv/put", ck_etcd_cluster_endpoint(e->etcd, via));
    long st = http("POST", url, body, NULL);
    free(body);
    free(k64);
    return st;
}

/* A put retried for up to 10 s until etcd answers 200 (right after an election it may
 * answer 503); puts of one value are safe to repeat. */
static long etcd_retrying(long (*put)(struct env *, int, const char *), struct env *e, int via,
                          const char *arg)
{
    long st = 0;
    for (int i = 0; i < 40; i++) {
        if ((st = put(e, via, arg)) == 200)
            break;
        sleep_ms(250);
    }
    return st;
}

/* Compacts etcd's history up to its current revision (through member `via`). */
static long etcd_compact_all(struct env *e, int via)
{
    char url[256];
    struct ck_buf b = CK_BUF_INIT;
    snprintf(url, sizeof(url), "%s/v3/kv/range", ck_etcd_cluster_endpoint(e->etcd, via));
    long st = http("POST", url, "{\"key\":\"AA==\"}", &b);
    cJSON *o = st == 200 ? ck_json_parse(b.data, b.len, NULL) : NULL;
    long long rev = atoll(ck_json_get_string(o, "header.revision", "0"));
    cJSON_Delete(o);
    ck_buf_free(&b);
    if (rev <= 0)
        return 0;
    snprintf(url, sizeof(url), "%s/v3/kv/compaction", ck_etcd_cluster_endpoint(e->etcd, via));
    char body[128];
    snprintf(body, sizeof(body), "{\"revision\":\"%lld\",\"physical\":true}", rev);
    return http("POST", url, body, NULL);
}

static void compaction_while_etcd_watch_is_cut_gives_410_then_relist_works(void **state)
{
    (void)state;
    struct env e;
    /* 3 members, the apiserver talks to member 0 only: killing it cuts the apiserver's etcd
     * watch while the others take writes and a compaction */
    int rc = env_start(&e, 3, 0, NULL);
    assert_int_equal(rc, 0);

    char rv[32], path[256];
    list_rv(&e, rv, sizeof(rv), NULL);
    assert_true(rv[0]);
    struct watcher w;
    watch_path(path, sizeof(path), rv);
    assert_int_equal(watcher_open(&w, e.port, path, 0), 0);
    assert_true(create_cm_retrying(&e, "before-0"));
    struct all_ctx c = {&w, 1, "before-", 1};
    pump(&w, 1, NULL, 10000, all_have_all, &c);
    assert_int_equal(added_in_order(&w, "before-", 1), 1);

    assert_int_equal(ck_etcd_cluster_kill(e.etcd, 0), 0);
    /* the others elect a leader if member 0 led */
    assert_int_equal(ck_etcd_cluster_wait_healthy(e.etcd, 20000), 0);
    /* a write the cache misses, one more revision (a compaction keeps its own revision),
     * and a compaction of everything before (puts are safe to repeat) */
    assert_int_equal(etcd_retrying(etcd_put_cm, &e, 1, "meanwhile"), 200);
    assert_int_equal(etcd_retrying(etcd_put_key, &e, 1, "/ckwf-unwatched"), 200);
    assert_int_equal(etcd_compact_all(&e, 1), 200);
    assert_int_equal(ck_etcd_cluster_restart(e.etcd, 0), 0);

    /* the watcher gets one ERROR event carrying 410 Expired, and its stream ends */
    pump(&w, 1, NULL, 30000, watcher_ended, &w);
    assert_true(w.ended);
    assert_true(w.n >= 2);
    assert_string_equal(w.ev[w.n - 1].type, "ERROR");
    assert_int_equal(w.ev[w.n - 1].code, 410);
    for (size_t i = 0; i < w.n; i++) /* the cache never made up the missed write */
        assert_string_not_equal(w.ev[i].name, "meanwhile");
    watcher_close(&w);

    /* relist: the write made while the cache was cut off is there; a watch from the list's
     * revision sees what follows */
    int items = 0;
    for (int i = 0; i < 100; i++) {
        list_rv(&e, rv, sizeof(rv), &items);
        if (items == 2)
            break;
        sleep_ms(100);
    }
    assert_int_equal(items, 2);
    /* the watch cache relisted too: it serves the missed object */
    char cache_rv[32];
    int cached = 0;
    list_rv_from(&e, true, cache_rv, sizeof(cache_rv), &cached);
    assert_int_equal(cached, 2);
    watch_path(path, sizeof(path), rv);
    assert_int_equal(watcher_open(&w, e.port, path, 0), 0);
    assert_int_equal(create_cm(&e, "after-0", 16), 201);
    struct all_ctx c2 = {&w, 1, "after-", 1};
    pump(&w, 1, NULL, 10000, all_have_all, &c2);
    assert_int_equal(added_in_order(&w, "after-", 1), 1);
    assert_false(w.ended);
    for (size_t i = 0; i < w.n; i++)
        assert_string_not_equal(w.ev[i].type, "ERROR");
    watcher_close(&w);
    env_stop(&e);
}

static void member_killed_mid_watch_loses_no_event(void **state)
{
    (void)state;
    struct env e;
    assert_int_equal(env_start(&e, 3, -1, NULL), 0);
    char rv[32], path[256];
    list_rv(&e, rv, sizeof(rv), NULL);
    assert_true(rv[0]);
    struct watcher w;
    watch_path(path, sizeof(path), rv);
    assert_int_equal(watcher_open(&w, e.port, path, 0), 0);
    enum { N = 60 };
    for (int i = 0; i < N; i++) {
        if (i == N / 3) /* the apiserver's first endpoint: its requests and watches go there */
            assert_int_equal(ck_etcd_cluster_kill(e.etcd, 0), 0);
        char name[32];
        snprintf(name, sizeof(name), "k-%d", i);
        assert_true(create_cm_retrying(&e, name));
        pump(&w, 1, NULL, 1, NULL, NULL);
    }
    struct all_ctx c = {&w, 1, "k-", N};
    pump(&w, 1, NULL, 30000, all_have_all, &c);
    assert_int_equal(added_in_order(&w, "k-", N), N);
    assert_false(w.ended);
    for (size_t i = 0; i < w.n; i++) /* nothing but the N ADDED events */
        assert_string_equal(w.ev[i].type, "ADDED");
    assert_int_equal(w.n, N);
    watcher_close(&w);
    env_stop(&e);
}

static void two_hundred_watchers_each_get_every_event(void **state)
{
    (void)state;
    struct env e;
    assert_int_equal(env_start(&e, 1, -1, NULL), 0);
    char rv[32], path[256];
    list_rv(&e, rv, sizeof(rv), NULL);
    assert_true(rv[0]);
    watch_path(path, sizeof(path), rv);
    enum { W = 200, N = 50 };
    struct watcher *ws = ck_xcalloc(W, sizeof(*ws));
    for (int i = 0; i < W; i++)
        assert_int_equal(watcher_open(&ws[i], e.port, path, 0), 0);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "m-%d", i);
        assert_int_equal(create_cm(&e, name, 64), 201);
        pump(ws, W, NULL, 1, NULL, NULL);
    }
    struct all_ctx c = {ws, W, "m-", N};
    pump(ws, W, NULL, 30000, all_have_all, &c);
    for (int i = 0; i < W; i++) {
        assert_int_equal(added_in_order(&ws[i], "m-", N), N);
        assert_int_equal(ws[i].n, N);
        assert_false(ws[i].ended);
    }
    for (int i = 0; i < W; i++)
        watcher_close(&ws[i]);
    free(ws);
    env_stop(&e);
}

static void slow_watcher_is_closed_while_fast_ones_keep_up(void **state)
{
    (void)state;
    struct env e;
    /* a small ring: a watcher stuck more than 100 events behind is dropped */
    assert_int_equal(env_start(&e, 1, -1, "--default-watch-cache-size=100"), 0);
    char rv[32], path[256];
    list_rv(&e, rv, sizeof(rv), NULL);
    assert_true(rv[0]);
    watch_path(path, sizeof(path), rv);
    enum { FAST = 3 };
    /* enough 16 KiB events to overflow what the kernel can buffer towards the slow watcher
     * (the server's largest send buffer), plus the ring: at least 400 */
    long wmem_max = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
    if (f) {
        if (fscanf(f, "%*d %*d %ld", &wmem_max) != 1)
            wmem_max = 0;
        fclose(f);
    }
    int N = (int)(wmem_max / (16 * 1024)) + 150;
    N = N < 400 ? 400 : N > 3000 ? 3000 : N;
    struct watcher ws[FAST + 1];
    for (int i = 0; i < FAST; i++)
        assert_int_equal(watcher_open(&ws[i], e.port, path, 0), 0);
    /* the slow one: a tiny receive window, never read while the events are written */
    assert_int_equal(watcher_open(&ws[FAST], e.port, path, 4096), 0);
    bool skip[FAST + 1] = {false, false, false, true};
    int64_t t0 = now_ms();
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "s-%d", i);
        assert_int_equal(create_cm(&e, name, 16 * 1024), 201);
        pump(ws, FAST + 1, skip, 1, NULL, NULL);
    }
    /* the fast ones have (nearly) everything as soon as the writes are done */
    struct all_ctx c = {ws, FAST, "s-", N};
    pump(ws, FAST + 1, skip, 20000, all_have_all, &c);
    int64_t lag = now_ms() - t0;
    for (int i = 0; i < FAST; i++) {
        assert_int_equal(added_in_order(&ws[i], "s-", N), N);
        assert_false(ws[i].ended);
    }
    print_message("# fast watchers had all %d events %lld ms after the first write\n", N,
                  (long long)lag);
    /* the slow one, read at last: a prefix of the events in order, then its stream ends */
    pump(&ws[FAST], 1, NULL, 20000, watcher_ended, &ws[FAST]);
    assert_true(ws[FAST].ended);
    int got = added_in_order(&ws[FAST], "s-", N);
    print_message("# the slow watcher got %d of %d events before being closed\n", got, N);
    assert_true(got >= 0);
    assert_true(got < N);
    for (int i = 0; i <= FAST; i++)
        watcher_close(&ws[i]);
    env_stop(&e);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compaction_while_etcd_watch_is_cut_gives_410_then_relist_works),
        cmocka_unit_test(member_killed_mid_watch_loses_no_event),
        cmocka_unit_test(two_hundred_watchers_each_get_every_event),
        cmocka_unit_test(slow_watcher_is_closed_while_fast_ones_keep_up),
    };
    if (getenv("CK_TEST_FILTER"))
        cmocka_set_test_filter(getenv("CK_TEST_FILTER"));
    int rc = cmocka_run_group_tests_name("watch_faults", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
