/* bench_apiserver - create and get throughput through the kube-apiserver (ConfigMaps, plain
 * HTTP, libcurl with one keep-alive handle per client thread) against raw etcd puts and
 * ranges through the same etcd v3 JSON gateway on the same single-member etcd, in the same
 * run, with the same number of threads and values of about the same size. Slices of both sides
 * are interleaved (B A A B ...) so drifts in the machine's load hit both alike.
 * Goal: apiserver creates >= 0.5 of raw etcd puts. A third anchor, etcd doing the storage work of
 * a create (a create-if-absent transaction on keys one watch stream follows, as the watch
 * cache does), shows the apiserver's own overhead ("vs txn"). The table also gives etcd's and
 * the apiserver's CPU time per operation (from /proc), which says where a create's cost goes.
 *
 * Environment: CK_BENCH_SECONDS (per side and op, default 3), CKUBE_BIN (where
 * kube-apiserver is, default bin), CK_BENCH_PROFILE=create|get (only run apiserver creates or
 * gets for CK_BENCH_SECONDS and print the apiserver's pid first: for perf). Prints a table and "RATIO <name> <value>" lines.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "encoding.h"
#include "mem.h"
#include "test/lib/cluster.h"
#include "test/lib/etcd_cluster.h"

#define THREADS 16
#define ROUNDS 4     /* interleaved measurements per side and op */
#define VALUE_BYTES 1024
#define GET_KEYS 256 /* objects read by the get measurements */

enum op { OP_CREATE, OP_GET };
/* SIDE_TXN: etcd doing the storage work of a create (a create-if-absent transaction) while one
 * watch stream follows the keys, as the apiserver's watch cache does: the apiserver's own
 * overhead shows against it */
enum side { SIDE_ETCD, SIDE_API, SIDE_TXN, N_SIDES };

static const char *g_etcd;  /* http://127.0.0.1:P of the etcd member */
static char g_api[64];      /* http://127.0.0.1:P of the apiserver */
static char *g_value;       /* VALUE_BYTES of letters */
static char *g_value64;     /* base64 of it */
static atomic_bool g_stop;
static atomic_uint g_round; /* makes every measurement's names unique */

struct worker {
    pthread_t thread;
    enum op op;
    enum side side;
    int id;
    unsigned round;
    uint64_t ops, errors;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    if (ud)
        ck_buf_add(ud, p, size * n);
    return size * n;
}

/* One request on handle h; returns the HTTP status (0 on a transport failure). */
static long request(CURL *h, const char *url, const char *post_body, struct ck_buf *resp)
{
    ck_buf_reset(resp);
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (post_body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post_body);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    long status = 0;
    if (curl_easy_perform(h) != CURLE_OK ||
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        return 0;
    return status;
}

static CURL *new_handle(struct curl_slist *hdr, struct ck_buf *resp)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    return h;
}

/* The body of a ConfigMap create, and the etcd put of a value of the same size. */
static char *cm_body(const char *name)
{
    return ck_xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                        "\"%s\",\"labels\":{\"app\":\"bench\"}},\"data\":{\"v\":\"%s\"}}",
                        name, g_value);
}

static char *put_body(const char *key)
{
    CK_AUTOFREE char *k64 = ck_base64_encode(key, strlen(key));
    /* about the size the apiserver stores: the value plus ~300 bytes of metadata */
    return ck_xasprintf("{\"key\":\"%s\",\"value\":\"%s\"}", k64, g_value64);
}

static char *txn_body(const char *key)
{
    CK_AUTOFREE char *k64 = ck_base64_encode(key, strlen(key));
    return ck_xasprintf("{\"compare\":[{\"key\":\"%s\",\"target\":\"CREATE\","
                        "\"create_revision\":\"0\"}],\"success\":[{\"request_put\":{\"key\":"
                        "\"%s\",\"value\":\"%s\"}}],\"failure\":[{\"request_range\":{\"key\":"
                        "\"%s\"}}]}",
                        k64, k64, g_value64, k64);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct ck_buf resp = CK_BUF_INIT;
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Accept: application/json");
    CURL *h = new_handle(hdr, &resp);
    char url[256];
    if (w->side == SIDE_ETCD)
        ck_snprintf(url, sizeof(url), "%s%s", g_etcd,
                    w->op == OP_CREATE ? "/v3/kv/put" : "/v3/kv/range");
    else if (w->side == SIDE_TXN)
        ck_snprintf(url, sizeof(url), "%s/v3/kv/txn", g_etcd);
    else if (w->op == OP_CREATE)
        ck_snprintf(url, sizeof(url), "%s/api/v1/namespaces/default/configmaps", g_api);
    for (unsigned i = 0; h && !atomic_load(&g_stop); i++) {
        char name[96];
        long status;
        if (w->op == OP_CREATE) {
            ck_snprintf(name, sizeof(name), "bench-%u-%d-%u", w->round, w->id, i);
            char *body;
            if (w->side == SIDE_ETCD) {
                char key[160];
                ck_snprintf(key, sizeof(key), "/bench-raw/configmaps/default/%s", name);
                body = put_body(key);
            } else if (w->side == SIDE_TXN) {
                char key[160];
                ck_snprintf(key, sizeof(key), "/bench-txn/configmaps/default/%s", name);
                body = txn_body(key);
            } else {
                body = cm_body(name);
            }
            status = request(h, url, body, &resp);
            free(body);
            if (status == (w->side == SIDE_API ? 201 : 200))
                w->ops++;
            else
                w->errors++;
        } else {
            unsigned k = ((unsigned)w->id * 61 + i) % GET_KEYS;
            if (w->side == SIDE_ETCD) {
                char key[160];
                ck_snprintf(key, sizeof(key), "/bench-raw/configmaps/default/get-%u", k);
                CK_AUTOFREE char *k64 = ck_base64_encode(key, strlen(key));
                CK_AUTOFREE char *body = ck_xasprintf("{\"key\":\"%s\"}", k64);
                status = request(h, url, body, &resp);
            } else {
                ck_snprintf(url, sizeof(url), "%s/api/v1/namespaces/default/configmaps/get-%u",
                            g_api, k);
                status = request(h, url, NULL, &resp);
            }
            if (status == 200)
                w->ops++;
            else
                w->errors++;
        }
    }
    if (h)
        curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    ck_buf_free(&resp);
    return NULL;
}

/* ops/s of one measurement with THREADS clients. */
static double measure(enum op op, enum side side, double seconds, uint64_t *errors)
{
    struct worker ws[THREADS];
    unsigned round = atomic_fetch_add(&g_round, 1);
    atomic_store(&g_stop, false);
    double t0 = now_s();
    int started = 0;
    for (int i = 0; i < THREADS; i++) {
        ws[i] = (struct worker){.op = op, .side = side, .id = i, .round = round};
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0)
            break;
        started++;
    }
    sleep_ms((int)(seconds * 1000));
    atomic_store(&g_stop, true);
    uint64_t ops = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(ws[i].thread, NULL);
        ops += ws[i].ops;
        *errors += ws[i].errors;
    }
    if (started < THREADS)
        *errors += 1;
    return (double)ops / (now_s() - t0);
}

/* One etcd watch stream on /bench-txn/ for the whole run (what the watch cache costs etcd);
 * ends when the bench stops etcd. */
static void *txn_watcher(void *arg)
{
    (void)arg;
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    char url[256];
    ck_snprintf(url, sizeof(url), "%s/v3/watch", g_etcd);
    CK_AUTOFREE char *k = ck_base64_encode("/bench-txn/", 11);
    CK_AUTOFREE char *end = ck_base64_encode("/bench-txn0", 11);
    CK_AUTOFREE char *body =
        ck_xasprintf("{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\"}}", k, end);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_perform(h);
    curl_easy_cleanup(h);
    return NULL;
}

/* CPU seconds (user + system) process pid has used so far, or 0. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Our child named etcd (the member ck_etcd_cluster started), or 0. */
static pid_t find_etcd(void)
{
    DIR *d = opendir("/proc");
    pid_t found = 0;
    struct dirent *de;
    while (d && !found && (de = readdir(d))) {
        char path[300], buf[512];
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        int ppid = 0;
        const char *p = strrchr(buf, ')');
        if (strstr(buf, "(etcd)") && p && sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == getpid())
            found = (pid_t)atoi(de->d_name);
    }
    if (d)
        closedir(d);
    return found;
}


static bool api_ready(void)
{
    struct ck_buf resp = CK_BUF_INIT;
    CURL *h = new_handle(NULL, &resp);
    char url[128];
    ck_snprintf(url, sizeof(url), "%s/api/v1/namespaces/default", g_api);
    bool ok = h && request(h, url, NULL, &resp) == 200;
    if (h)
        curl_easy_cleanup(h);
    ck_buf_free(&resp);
    return ok;
}

/* The objects and keys the get measurements read. */
static int seed_gets(void)
{
    struct ck_buf resp = CK_BUF_INIT;
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    CURL *h = new_handle(hdr, &resp);
    char api_url[128], etcd_url[128];
    ck_snprintf(api_url, sizeof(api_url), "%s/api/v1/namespaces/default/configmaps", g_api);
    ck_snprintf(etcd_url, sizeof(etcd_url), "%s/v3/kv/put", g_etcd);
    int bad = 0;
    for (int k = 0; h && k < GET_KEYS; k++) {
        char name[64], key[160];
        ck_snprintf(name, sizeof(name), "get-%d", k);
        ck_snprintf(key, sizeof(key), "/bench-raw/configmaps/default/%s", name);
        char *b1 = cm_body(name), *b2 = put_body(key);
        bad += request(h, api_url, b1, &resp) != 201;
        bad += request(h, etcd_url, b2, &resp) != 200;
        free(b1);
        free(b2);
    }
    if (h)
        curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    ck_buf_free(&resp);
    return h && !bad ? 0 : -EIO;
}

int main(void)
{
    double seconds = getenv("CK_BENCH_SECONDS") ? atof(getenv("CK_BENCH_SECONDS")) : 3.0;
    if (seconds <= 0 || seconds > 20)
        seconds = 3.0;
    curl_global_init(CURL_GLOBAL_ALL);
    g_value = ck_xmalloc(VALUE_BYTES + 1);
    for (int i = 0; i < VALUE_BYTES; i++)
        g_value[i] = (char)('a' + i % 26);
    g_value[VALUE_BYTES] = '\0';
    /* the raw value: what a stored ConfigMap of this size weighs (metadata included) */
    CK_AUTOFREE char *stored = ck_xasprintf("%s%0300d", g_value, 0);
    g_value64 = ck_base64_encode(stored, strlen(stored));

    struct ck_etcd_cluster *cl = NULL;
    int rc = ck_etcd_cluster_start(NULL, &cl);
    if (rc < 0) {
        fprintf(stderr, "bench_apiserver: cannot start etcd: %s\n", strerror(-rc));
        return 1;
    }
    g_etcd = ck_etcd_cluster_endpoint(cl, 0);
    char bin[PATH_MAX];
    ck_test_bin("kube-apiserver", bin, sizeof(bin));
    int port = ck_test_free_port();
    ck_snprintf(g_api, sizeof(g_api), "http://127.0.0.1:%d", port);
    char *servers = ck_xasprintf("--etcd-servers=%s", ck_etcd_cluster_endpoints(cl));
    char *portarg = ck_xasprintf("--insecure-port=%d", port);
    char *logpath = ck_xasprintf("%s/kube-apiserver.log", ck_etcd_cluster_dir(cl));
    char *argv[] = {bin, servers, portarg, "--secure-port=0", "--max-requests-inflight=0",
                    "--max-mutating-requests-inflight=0", NULL};
    pid_t api = ck_test_spawn(argv, logpath);
    bool up = false;
    for (int i = 0; api > 0 && i < 300 && !up; i++) {
        up = api_ready();
        if (!up)
            sleep_ms(100);
    }
    int status = 1;
    pthread_t watcher;
    bool watching = false;
    if (!up || seed_gets() < 0) {
        fprintf(stderr, "bench_apiserver: the apiserver did not come up (log %s)\n", logpath);
        goto out;
    }
    uint64_t errors = 0;
    const char *prof = getenv("CK_BENCH_PROFILE");
    if (prof && prof[0]) {
        enum op op = strcmp(prof, "get") ? OP_CREATE : OP_GET;
        printf("apiserver pid %d\n", (int)api);
        fflush(stdout);
        printf("%s: %.0f ops/s\n", prof, measure(op, SIDE_API, seconds, &errors));
        status = errors ? 1 : 0;
        goto out;
    }
    watching = pthread_create(&watcher, NULL, txn_watcher, NULL) == 0;
    /* warm-up of every side */
    for (int side = 0; side < N_SIDES; side++)
        measure(OP_CREATE, side, 0.3, &errors);
    errors = 0;

    printf("kube-apiserver vs raw etcd v3 JSON gateway: single-member etcd 3.4, %d client threads "
           "(libcurl keep-alive), ~%d-byte values, %.1f s per side and op, %d interleaved rounds\n"
           "etcd txn = a create-if-absent transaction on keys one watch stream follows (the "
           "storage work of an apiserver create)\n\n",
           THREADS, VALUE_BYTES + 300, seconds, ROUNDS);
    pid_t etcd_pid = find_etcd();
    printf("%-7s %12s %12s %16s %8s %8s   %s\n", "op", "etcd put/get", "etcd txn", "apiserver",
           "ratio", "vs txn", "CPU us/op: etcd put | etcd txn | etcd + apiserver");
    static const char *const names[] = {"apiserver_create_vs_etcd_put", "apiserver_get_vs_etcd_get"};
    /* per round the sides run in alternating order, so drifts hit them alike */
    static const enum side order[2][N_SIDES] = {{SIDE_ETCD, SIDE_API, SIDE_TXN},
                                                {SIDE_TXN, SIDE_API, SIDE_ETCD}};
    for (int op = OP_CREATE; op <= OP_GET; op++) {
        double rate[N_SIDES] = {0}, cpu_etcd[N_SIDES] = {0}, cpu_api = 0;
        double slice = seconds / ROUNDS;
        for (int round = 0; round < ROUNDS; round++) {
            for (int k = 0; k < N_SIDES; k++) {
                enum side side = order[round % 2][k];
                if (side == SIDE_TXN && op != OP_CREATE)
                    continue;
                double e0 = proc_cpu_s(etcd_pid), a0 = proc_cpu_s(api);
                double v = measure(op, side, slice, &errors);
                double de = proc_cpu_s(etcd_pid) - e0, da = proc_cpu_s(api) - a0;
                double ops = v * slice;
                rate[side] += v / ROUNDS;
                cpu_etcd[side] += ops > 0 ? de / ops * 1e6 / ROUNDS : 0;
                if (side == SIDE_API)
                    cpu_api += ops > 0 ? da / ops * 1e6 / ROUNDS : 0;
            }
        }
        double ratio = rate[SIDE_ETCD] > 0 ? rate[SIDE_API] / rate[SIDE_ETCD] : 0;
        double vs_txn = rate[SIDE_TXN] > 0 ? rate[SIDE_API] / rate[SIDE_TXN] : 0;
        if (op == OP_CREATE)
            printf("%-7s %12.0f %12.0f %16.0f %8.3f %8.3f   %6.0f | %6.0f | %6.0f + %4.0f\n",
                   "create", rate[SIDE_ETCD], rate[SIDE_TXN], rate[SIDE_API], ratio, vs_txn,
                   cpu_etcd[SIDE_ETCD], cpu_etcd[SIDE_TXN], cpu_etcd[SIDE_API], cpu_api);
        else
            printf("%-7s %12.0f %12s %16.0f %8.3f %8s   %6.0f | %6s | %6.0f + %4.0f\n", "get",
                   rate[SIDE_ETCD], "-", rate[SIDE_API], ratio, "-", cpu_etcd[SIDE_ETCD], "-",
                   cpu_etcd[SIDE_API], cpu_api);
        printf("RATIO %s %.3f\n", names[op], ratio);
        if (op == OP_CREATE)
            printf("RATIO apiserver_create_vs_etcd_txn_watched %.3f\n", vs_txn);
        fflush(stdout);
    }
    printf("\ngoal: creates >= 0.5 of etcd puts; %" PRIu64 " failed requests\n", errors);
    status = errors ? 1 : 0;
out:
    if (api > 0)
        ck_test_stop(api, SIGTERM, 10000);
    free(servers);
    free(portarg);
    free(logpath);
    ck_etcd_cluster_destroy(cl); /* ends the watcher's stream */
    if (watching)
        pthread_join(watcher, NULL);
    free(g_value);
    free(g_value64);
    curl_global_cleanup();
    return status;
}
