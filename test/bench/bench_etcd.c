/* bench_etcd - writes/s and reads/s through the etcd client (apiserver/storage) against a
 * baseline measured in the same run on the same single-member etcd: a plain libcurl loop that
 * posts the same JSON with one reused handle per thread and does not parse the answer (the
 * "direct curl loop"). 1 and 16 concurrent clients; prints a table and client/baseline ratios.
 * Goal: the client costs < 10% (ratio >= 0.90).
 *
 * Environment: CK_BENCH_SECONDS (per side and cell, default 3), CK_BENCH_VALUE_BYTES (default
 * 1024). Lines "RATIO <name> <ratio>" are for test/bench/run's summary.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/storage/etcd.h"
#include "buf.h"
#include "encoding.h"
#include "mem.h"
#include "test/lib/etcd_cluster.h"

#define KEYS 1000
#define MAX_THREADS 16
#define SLICES 8 /* measurements per cell, half of them baseline */

static char *g_keys[KEYS];         /* "/bench/key-000123" */
static char *g_put_bodies[KEYS];   /* the JSON the client sends for a put of that key */
static char *g_range_bodies[KEYS]; /* and for a range */
static char *g_value;
static size_t g_value_len;
static const char *g_endpoint;
static struct etcd_client *g_client;
static atomic_bool g_stop;

enum op { OP_WRITE, OP_READ };
enum mode { MODE_BASELINE, MODE_CLIENT };

struct worker {
    pthread_t thread;
    enum op op;
    enum mode mode;
    int id;
    uint64_t ops;
    uint64_t errors;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    ck_buf_add(ud, p, size * n);
    return size * n;
}

/* The direct curl loop: pre-built bodies, one handle, the answer only checked for 200. */
static void run_baseline(struct worker *w)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    char url[256];
    ck_snprintf(url, sizeof(url), "%s%s", g_endpoint,
                w->op == OP_WRITE ? "/v3/kv/put" : "/v3/kv/range");
    struct ck_buf resp = CK_BUF_INIT;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    for (unsigned i = (unsigned)w->id * 61; !atomic_load(&g_stop); i++) {
        char *body = w->op == OP_WRITE ? g_put_bodies[i % KEYS] : g_range_bodies[i % KEYS];
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        ck_buf_reset(&resp);
        long status = 0;
        if (curl_easy_perform(h) == CURLE_OK &&
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200)
            w->ops++;
        else
            w->errors++;
    }
    ck_buf_free(&resp);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
}

/* The same requests through the client: encoding, fail-over engine, parsing, decoding. */
static void run_client(struct worker *w)
{
    for (unsigned i = (unsigned)w->id * 61; !atomic_load(&g_stop); i++) {
        const char *key = g_keys[i % KEYS];
        int rc;
        if (w->op == OP_WRITE) {
            struct etcd_put_resp r;
            struct etcd_put_req req = {.key = key, .value = g_value, .value_len = g_value_len};
            rc = etcd_put(g_client, &req, &r, NULL);
            if (rc == 0)
                etcd_put_resp_free(&r);
        } else {
            struct etcd_range_resp r;
            rc = etcd_range(g_client, &(struct etcd_range_req){.key = key}, &r, NULL);
            if (rc == 0) {
                rc = r.n_kvs == 1 && r.kvs[0].value_len == g_value_len ? 0 : -EIO;
                etcd_range_resp_free(&r);
            }
        }
        if (rc == 0)
            w->ops++;
        else
            w->errors++;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    if (w->mode == MODE_BASELINE)
        run_baseline(w);
    else
        run_client(w);
    return NULL;
}

/* Compacts away the history earlier measurements wrote, so that every measurement starts
 * from a store of the same shape (a growing history slows etcd down over a run). */
static void settle(void)
{
    struct etcd_range_resp r;
    if (etcd_range(g_client,
                   &(struct etcd_range_req){.key = "/bench/", .prefix = true, .count_only = true},
                   &r, NULL) < 0)
        return;
    etcd_compact(g_client, r.header.revision, true, NULL);
    etcd_range_resp_free(&r);
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ops/s of one measurement; adds this process' CPU seconds and the ops to *cpu, *n */
static double measure(enum op op, enum mode mode, int threads, double seconds, uint64_t *errors,
                      double *cpu, uint64_t *n)
{
    settle();
    struct worker ws[MAX_THREADS];
    atomic_store(&g_stop, false);
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < threads; i++) {
        ws[i] = (struct worker){.op = op, .mode = mode, .id = i};
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&g_stop, true);
    uint64_t ops = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ws[i].thread, NULL);
        ops += ws[i].ops;
        *errors += ws[i].errors;
    }
    *cpu += cpu_s() - c0;
    *n += ops;
    return (double)ops / (now_s() - t0);
}

static void prepare(size_t value_bytes)
{
    g_value_len = value_bytes;
    g_value = ck_xmalloc(value_bytes + 1);
    for (size_t i = 0; i < value_bytes; i++)
        g_value[i] = (char)('a' + i % 26);
    g_value[value_bytes] = '\0';
    char *v64 = ck_base64_encode(g_value, g_value_len);
    for (int i = 0; i < KEYS; i++) {
        g_keys[i] = ck_xasprintf("/bench/key-%06d", i);
        char *k64 = ck_base64_encode(g_keys[i], strlen(g_keys[i]));
        g_put_bodies[i] = ck_xasprintf("{\"key\":\"%s\",\"value\":\"%s\"}", k64, v64);
        g_range_bodies[i] = ck_xasprintf("{\"key\":\"%s\"}", k64);
        free(k64);
    }
    free(v64);
}

int main(void)
{
    double seconds = getenv("CK_BENCH_SECONDS") ? atof(getenv("CK_BENCH_SECONDS")) : 3.0;
    if (seconds <= 0)
        seconds = 3.0;
    size_t value_bytes =
        getenv("CK_BENCH_VALUE_BYTES") ? (size_t)atol(getenv("CK_BENCH_VALUE_BYTES")) : 1024;
    if (value_bytes == 0 || value_bytes > (1 << 20))
        value_bytes = 1024;

    struct ck_etcd_cluster *cl;
    int rc = ck_etcd_cluster_start(NULL, &cl);
    if (rc < 0) {
        fprintf(stderr, "bench_etcd: cannot start etcd: %s\n", strerror(-rc));
        return 1;
    }
    g_endpoint = ck_etcd_cluster_endpoint(cl, 0);
    struct ck_error err = CK_ERROR_INIT;
    struct etcd_config cfg = {.endpoints = ck_etcd_cluster_endpoints(cl)};
    if (etcd_client_new(&cfg, &g_client, &err) < 0) {
        fprintf(stderr, "bench_etcd: %s\n", err.message);
        return 1;
    }
    prepare(value_bytes);
    /* the keys exist before reads are measured; a short warm-up of both paths */
    uint64_t errors = 0, n = 0;
    double cpu = 0;
    measure(OP_WRITE, MODE_BASELINE, 4, 0.5, &errors, &cpu, &n);
    measure(OP_WRITE, MODE_CLIENT, 4, 0.5, &errors, &cpu, &n);
    for (int i = 0; i < KEYS; i++) {
        struct etcd_put_resp r;
        struct etcd_put_req req = {.key = g_keys[i], .value = g_value, .value_len = g_value_len};
        if (etcd_put(g_client, &req, &r, NULL) == 0)
            etcd_put_resp_free(&r);
    }

    printf("etcd client vs direct curl loop: single-member etcd 3.4, %zu-byte values, "
           "%.1f s per side, mean of %d interleaved slices per side\n\n",
           value_bytes, seconds, SLICES / 2);
    printf("%-6s %8s %15s %15s %7s %18s\n", "op", "clients", "baseline ops/s", "client ops/s",
           "ratio", "CPU us/op b -> c");
    static const int conc[] = {1, 16};
    double worst = 1e9;
    errors = 0;
    for (int op = OP_WRITE; op <= OP_READ; op++) {
        for (size_t ci = 0; ci < 2; ci++) {
            double base = 0, cli = 0, cpu_b = 0, cpu_c = 0;
            uint64_t n_b = 0, n_c = 0;
            /* short slices in the order B C C B B C C B ...: drifts in etcd's speed and the
             * machine's load over the run hit both sides alike */
            for (int slice = 0; slice < SLICES; slice++) {
                enum mode m = (slice % 4 == 0 || slice % 4 == 3) ? MODE_BASELINE : MODE_CLIENT;
                bool b = m == MODE_BASELINE;
                double v = measure(op, m, conc[ci], seconds * 2 / SLICES, &errors,
                                   b ? &cpu_b : &cpu_c, b ? &n_b : &n_c);
                *(m == MODE_BASELINE ? &base : &cli) += v / (SLICES / 2);
            }
            double ratio = base > 0 ? cli / base : 0;
            worst = ratio < worst ? ratio : worst;
            const char *name = op == OP_WRITE ? "write" : "read";
            /* the client's own cost per request, measured in this process only */
            double us_b = n_b ? cpu_b / (double)n_b * 1e6 : 0;
            double us_c = n_c ? cpu_c / (double)n_c * 1e6 : 0;
            printf("%-6s %8d %15.0f %15.0f %7.3f %8.1f -> %6.1f\n", name, conc[ci], base, cli,
                   ratio, us_b, us_c);
            printf("RATIO etcd_%s_c%d %.3f\n", name, conc[ci], ratio);
            fflush(stdout);
        }
    }
    printf("\nworst client/baseline ratio %.3f (overhead %.1f%%; goal < 10%%), %" PRIu64
           " failed requests\n",
           worst, (1 - worst) * 100, errors);

    etcd_client_free(g_client);
    ck_etcd_cluster_destroy(cl);
    for (int i = 0; i < KEYS; i++) {
        free(g_keys[i]);
        free(g_put_bodies[i]);
        free(g_range_bodies[i]);
    }
    free(g_value);
    return errors ? 1 : 0;
}
