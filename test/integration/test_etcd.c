/* Integration tests of the etcd client (apiserver/storage) against REAL etcd clusters started
 * by test/lib/etcd_cluster: KV semantics, txn conflicts, watch ordering and gap-free resume,
 * leases, compaction, TLS, fail-over on dead / frozen / leaderless members, and the
 * leader-kill scenario (CKUBE_LEADER_KILL_ROUNDS=N repeats it N times; CK_TEST_FILTER=leader*
 * runs only that test).
 *
 * Clusters are shared to keep the suite fast: one single-member and one three-member cluster,
 * started on first use; a test that breaks a member repairs it, and the next test that needs
 * the cluster recreates it when it is still unhealthy. Each test uses its own key prefix.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "apiserver/storage/etcd.h"
#include "buf.h"
#include "mem.h"
#include "test/lib/etcd_cluster.h"

/* ---- shared fixtures ------------------------------------------------------------------------ */

static struct ck_etcd_cluster *g_single, *g_triple;

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

/* A healthy cluster of n members, reused across tests. */
static struct ck_etcd_cluster *cluster(int n)
{
    struct ck_etcd_cluster **slot = n == 1 ? &g_single : &g_triple;
    if (*slot) {
        bool ok = true;
        for (int i = 0; i < n; i++)
            ok = ok && ck_etcd_cluster_running(*slot, i);
        if (ok && ck_etcd_cluster_wait_healthy(*slot, 5000) == 0)
            return *slot;
        ck_etcd_cluster_destroy(*slot);
        *slot = NULL;
    }
    struct ck_etcd_cluster_opts opts = {.members = n};
    int rc = ck_etcd_cluster_start(&opts, slot);
    assert_int_equal(rc, 0);
    return *slot;
}

static int teardown_clusters(void **state)
{
    (void)state;
    ck_etcd_cluster_destroy(g_single);
    ck_etcd_cluster_destroy(g_triple);
    g_single = g_triple = NULL;
    return 0;
}

static struct etcd_client *client_at(const char *endpoints, int request_ms, int attempt_ms)
{
    struct etcd_config cfg = {
        .endpoints = endpoints,
        .request_timeout_ms = request_ms,
        .attempt_timeout_ms = attempt_ms,
        .watch_idle_check_ms = 1000,
    };
    struct etcd_client *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = etcd_client_new(&cfg, &c, &err);
    if (rc < 0)
        fail_msg("etcd_client_new(%s): %s", endpoints, err.message);
    return c;
}

static struct etcd_client *client_for(struct ck_etcd_cluster *cl)
{
    return client_at(ck_etcd_cluster_endpoints(cl), 0, 0);
}

/* put key=value; returns the new revision */
static int64_t put_str(struct etcd_client *c, const char *key, const char *value)
{
    struct etcd_put_resp resp;
    struct ck_error err = CK_ERROR_INIT;
    struct etcd_put_req req = {.key = key, .value = value, .value_len = strlen(value)};
    int rc = etcd_put(c, &req, &resp, &err);
    if (rc < 0)
        fail_msg("put %s: %s", key, err.message);
    int64_t rev = resp.header.revision;
    etcd_put_resp_free(&resp);
    return rev;
}

/* value of key (NULL when absent), caller frees */
static char *get_str(struct etcd_client *c, const char *key, int64_t *mod_rev)
{
    struct etcd_range_resp resp;
    struct ck_error err = CK_ERROR_INIT;
    int rc = etcd_range(c, &(struct etcd_range_req){.key = key}, &resp, &err);
    if (rc < 0)
        fail_msg("get %s: %s", key, err.message);
    char *v = resp.n_kvs ? ck_xstrdup(resp.kvs[0].value) : NULL;
    if (mod_rev)
        *mod_rev = resp.n_kvs ? resp.kvs[0].mod_revision : 0;
    etcd_range_resp_free(&resp);
    return v;
}

/* "create if absent", as kube-apiserver creates objects */
static int create_str(struct etcd_client *c, const char *key, const char *value,
                      struct etcd_txn_resp *resp, struct ck_error *err)
{
    struct etcd_compare cmp = {.key = key, .target = ETCD_CMP_CREATE, .op = ETCD_CMP_EQUAL};
    struct etcd_op put = {.type = ETCD_OP_PUT,
                          .put = {.key = key, .value = value, .value_len = strlen(value)}};
    struct etcd_op get = {.type = ETCD_OP_RANGE, .range = {.key = key}};
    struct etcd_txn_req req = {&cmp, 1, &put, 1, &get, 1};
    return etcd_txn(c, &req, resp, err);
}

/* ---- watch collector ------------------------------------------------------------------------ */

struct rec {
    enum etcd_event_type type;
    char *key, *value, *prev_value;
    bool has_prev;
    int64_t rev;
};

struct collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct rec *ev;
    size_t n, cap;
    int progress;
    int64_t progress_rev;
    int compacted;
    int64_t compact_rev;
    struct ck_error err; /* of the last COMPACTED / ERROR delivery */
    int errors;
    bool out_of_order;
};

static void collector_init(struct collector *col)
{
    memset(col, 0, sizeof(*col));
    pthread_mutex_init(&col->mu, NULL);
    pthread_cond_init(&col->cv, NULL);
}

static void collector_free(struct collector *col)
{
    for (size_t i = 0; i < col->n; i++) {
        free(col->ev[i].key);
        free(col->ev[i].value);
        free(col->ev[i].prev_value);
    }
    free(col->ev);
    ck_error_clear(&col->err);
    pthread_mutex_destroy(&col->mu);
    pthread_cond_destroy(&col->cv);
}

static int collect(const struct etcd_watch_resp *r, void *arg)
{
    struct collector *col = arg;
    pthread_mutex_lock(&col->mu);
    switch (r->kind) {
    case ETCD_WATCH_EVENTS:
        for (size_t i = 0; i < r->n_events; i++) {
            const struct etcd_event *e = &r->events[i];
            if (col->n == col->cap) {
                col->cap = col->cap ? col->cap * 2 : 64;
                col->ev = ck_xrealloc(col->ev, col->cap * sizeof(*col->ev));
            }
            if (col->n && e->kv.mod_revision < col->ev[col->n - 1].rev)
                col->out_of_order = true;
            col->ev[col->n++] = (struct rec){
                .type = e->type,
                .key = ck_xstrdup(e->kv.key),
                .value = ck_xstrdup(e->kv.value),
                .prev_value = e->has_prev_kv ? ck_xstrdup(e->prev_kv.value) : NULL,
                .has_prev = e->has_prev_kv,
                .rev = e->kv.mod_revision,
            };
        }
        break;
    case ETCD_WATCH_PROGRESS:
        col->progress++;
        col->progress_rev = r->header.revision;
        break;
    case ETCD_WATCH_COMPACTED:
    case ETCD_WATCH_ERROR:
        if (r->kind == ETCD_WATCH_COMPACTED) {
            col->compacted++;
            col->compact_rev = r->compact_revision;
        } else {
            col->errors++;
        }
        ck_error_clear(&col->err);
        ck_error_set(&col->err, r->error->code, r->error->reason, "%s", r->error->message);
        break;
    }
    pthread_cond_broadcast(&col->cv);
    pthread_mutex_unlock(&col->mu);
    return 0;
}

/* Waits until cond(col) holds or timeout; returns whether it held. */
static bool wait_col(struct collector *col, bool (*cond)(struct collector *, int64_t), int64_t arg,
                     int timeout_ms)
{
    int64_t until = now_ms() + timeout_ms;
    pthread_mutex_lock(&col->mu);
    bool ok;
    while (!(ok = cond(col, arg)) && now_ms() < until) {
        pthread_mutex_unlock(&col->mu);
        sleep_ms(20);
        pthread_mutex_lock(&col->mu);
    }
    pthread_mutex_unlock(&col->mu);
    return ok;
}

static bool has_n_events(struct collector *col, int64_t n)
{
    return (int64_t)col->n >= n;
}

static bool has_rev(struct collector *col, int64_t rev)
{
    return col->n && col->ev[col->n - 1].rev >= rev;
}

static bool has_compacted(struct collector *col, int64_t unused)
{
    (void)unused;
    return col->compacted > 0;
}

static bool has_progress(struct collector *col, int64_t unused)
{
    (void)unused;
    return col->progress > 0;
}

/* ---- pure helpers: keys, prefixes, config ---------------------------------------------------- */

static void keys_follow_upstream_layout(void **state)
{
    (void)state;
    static const struct {
        const char *prefix, *resource, *ns, *name, *want;
    } cases[] = {
        {NULL, "pods", "default", "web", "/registry/pods/default/web"},
        {NULL, "nodes", NULL, "n1", "/registry/nodes/n1"},
        {NULL, "namespaces", "", "kube-system", "/registry/namespaces/kube-system"},
        {"/registry", "services/specs", "ns1", "svc", "/registry/services/specs/ns1/svc"},
        {"registry/", "pods", "a", "b", "/registry/pods/a/b"},
        {"//custom//prefix/", "pods", "a", "b", "/custom/prefix/pods/a/b"},
        {"/x/./y/../z", "pods", "a", "b", "/x/z/pods/a/b"},
        {"/", "pods", "a", "b", "/pods/a/b"},
        {"", "configmaps", NULL, "c", "/configmaps/c"},
        {NULL, "/deployments/", "ns", "d.x-1", "/registry/deployments/ns/d.x-1"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        char *key;
        struct ck_error err = CK_ERROR_INIT;
        int rc =
            etcd_key(cases[i].prefix, cases[i].resource, cases[i].ns, cases[i].name, &key, &err);
        assert_int_equal(rc, 0);
        assert_string_equal(key, cases[i].want);
        free(key);
    }
    static const struct {
        const char *prefix, *resource, *ns, *want;
    } lists[] = {
        {NULL, "pods", "default", "/registry/pods/default/"},
        {NULL, "pods", NULL, "/registry/pods/"},
        {"/r", "services/endpoints", "", "/r/services/endpoints/"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(lists); i++) {
        char *key;
        assert_int_equal(
            etcd_key_list_prefix(lists[i].prefix, lists[i].resource, lists[i].ns, &key, NULL), 0);
        assert_string_equal(key, lists[i].want);
        free(key);
    }
}

static void keys_reject_invalid_names(void **state)
{
    (void)state;
    static const struct {
        const char *ns, *name, *want;
    } cases[] = {
        {"default", "", "Name parameter required."},
        {"default", NULL, "Name parameter required."},
        {"default", ".", "Name parameter invalid: \".\": may not be '.'"},
        {"default", "..", "Name parameter invalid: \"..\": may not be '..'"},
        {"default", "a/b", "Name parameter invalid: \"a/b\": may not contain '/'"},
        {"default", "a%b", "Name parameter invalid: \"a%b\": may not contain '%'"},
        {"default", "%/",
         "Name parameter invalid: \"%/\": may not contain '/';may not contain '%'"},
        {"default", "q\"x/", "Name parameter invalid: \"q\\\"x/\": may not contain '/'"},
        {"a/b", "x", "Namespace parameter invalid: \"a/b\": may not contain '/'"},
        {"..", "x", "Namespace parameter invalid: \"..\": may not be '..'"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        char *key = (char *)1;
        struct ck_error err = CK_ERROR_INIT;
        int rc = etcd_key(NULL, "pods", cases[i].ns, cases[i].name, &key, &err);
        assert_int_equal(rc, -EINVAL);
        assert_null(key);
        assert_int_equal(err.code, 400);
        assert_string_equal(err.reason, "BadRequest");
        assert_string_equal(err.message, cases[i].want);
        ck_error_clear(&err);
    }
    char *key;
    assert_int_equal(etcd_key(NULL, "", "ns", "n", &key, NULL), -EINVAL);
}

static void prefix_end_increments_last_byte(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t in_len;
        const char *want;
        size_t want_len;
    } cases[] = {
        {"/registry/pods/", 15, "/registry/pods0", 15},
        {"a", 1, "b", 1},
        {"a\xff", 2, "b", 1},
        {"ab\xff\xff", 4, "ac", 2},
        {"\xff\xff", 2, "\0", 1}, /* no bound: every key >= prefix */
        {"", 0, "\0", 1},
        {"z\xfe", 2, "z\xff", 2},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        size_t len;
        char *end = etcd_prefix_end(cases[i].in, cases[i].in_len, &len);
        assert_int_equal(len, cases[i].want_len);
        assert_memory_equal(end, cases[i].want, len);
        assert_int_equal(end[len], '\0');
        free(end);
    }
}

static void client_rejects_bad_endpoints(void **state)
{
    (void)state;
    static const char *const bad[] = {"", " , ,", "ftp://127.0.0.1:1", "127.0.0.1:2379", "http://"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(bad); i++) {
        struct etcd_client *c = (struct etcd_client *)1;
        struct ck_error err = CK_ERROR_INIT;
        struct etcd_config cfg = {.endpoints = bad[i]};
        assert_int_equal(etcd_client_new(&cfg, &c, &err), -EINVAL);
        assert_null(c);
        assert_int_equal(err.code, 400);
        ck_error_clear(&err);
    }
    struct etcd_client *c;
    struct etcd_config cfg = {.endpoints = " http://a:1/ ,https://b:2"};
    assert_int_equal(etcd_client_new(&cfg, &c, NULL), 0);
    assert_int_equal(etcd_endpoint_count(c), 2);
    assert_string_equal(etcd_endpoint(c, 0), "http://a:1");
    assert_string_equal(etcd_endpoint(c, 1), "https://b:2");
    assert_null(etcd_endpoint(c, 2));
    etcd_client_free(c);
}

/* ---- KV on a single member ------------------------------------------------------------------ */

static void crud_roundtrips_values_and_revisions(void **state)
{
    (void)state;
    struct etcd_client *c = client_for(cluster(1));
    struct ck_error err = CK_ERROR_INIT;

    int64_t r1 = put_str(c, "/t/crud/a", "v1");
    struct etcd_range_resp rr;
    assert_int_equal(etcd_range(c, &(struct etcd_range_req){.key = "/t/crud/a"}, &rr, &err), 0);
    assert_int_equal(rr.n_kvs, 1);
    assert_string_equal(rr.kvs[0].key, "/t/crud/a");
    assert_string_equal(rr.kvs[0].value, "v1");
    assert_int_equal(rr.kvs[0].create_revision, r1);
    assert_int_equal(rr.kvs[0].mod_revision, r1);
    assert_int_equal(rr.kvs[0].version, 1);
    assert_int_equal(rr.count, 1);
    assert_true(rr.header.revision >= r1);
    assert_true(rr.header.member_id != 0);
    etcd_range_resp_free(&rr);

    /* update with prev_kv: the previous value comes back */
    struct etcd_put_resp pr;
    struct etcd_put_req upd = {.key = "/t/crud/a", .value = "v2", .value_len = 2, .prev_kv = true};
    assert_int_equal(etcd_put(c, &upd, &pr, &err), 0);
    assert_true(pr.has_prev_kv);
    assert_string_equal(pr.prev_kv.value, "v1");
    assert_int_equal(pr.prev_kv.mod_revision, r1);
    int64_t r2 = pr.header.revision;
    assert_true(r2 > r1);
    etcd_put_resp_free(&pr);
    int64_t mod;
    char *v = get_str(c, "/t/crud/a", &mod);
    assert_string_equal(v, "v2");
    assert_int_equal(mod, r2);
    free(v);

    /* binary values survive the base64 round trip, NUL bytes included */
    static const char bin[] = {'\0', '\xff', '{', '\n', '"', '\0', 'z'};
    struct etcd_put_req bp = {.key = "/t/crud/bin", .value = bin, .value_len = sizeof(bin)};
    assert_int_equal(etcd_put(c, &bp, &pr, &err), 0);
    assert_false(pr.has_prev_kv);
    etcd_put_resp_free(&pr);
    assert_int_equal(etcd_range(c, &(struct etcd_range_req){.key = "/t/crud/bin"}, &rr, &err), 0);
    assert_int_equal(rr.kvs[0].value_len, sizeof(bin));
    assert_memory_equal(rr.kvs[0].value, bin, sizeof(bin));
    etcd_range_resp_free(&rr);

    /* an empty value is a value (absent field in JSON), not a missing key */
    put_str(c, "/t/crud/empty", "");
    v = get_str(c, "/t/crud/empty", NULL);
    assert_non_null(v);
    assert_string_equal(v, "");
    free(v);

    /* delete with prev_kv returns what was deleted */
    struct etcd_delete_resp dr;
    struct etcd_delete_req del = {.key = "/t/crud/a", .prev_kv = true};
    assert_int_equal(etcd_delete(c, &del, &dr, &err), 0);
    assert_int_equal(dr.deleted, 1);
    assert_int_equal(dr.n_prev_kvs, 1);
    assert_string_equal(dr.prev_kvs[0].value, "v2");
    assert_int_equal(dr.prev_kvs[0].version, 2);
    etcd_delete_resp_free(&dr);
    assert_null(get_str(c, "/t/crud/a", NULL));
    /* deleting a missing key is not an error: deleted == 0 */
    assert_int_equal(etcd_delete(c, &del, &dr, &err), 0);
    assert_int_equal(dr.deleted, 0);
    assert_int_equal(dr.n_prev_kvs, 0);
    etcd_delete_resp_free(&dr);
    /* a missing key reads as no kvs, count 0 */
    assert_int_equal(etcd_range(c, &(struct etcd_range_req){.key = "/t/crud/none"}, &rr, &err), 0);
    assert_int_equal(rr.n_kvs, 0);
    assert_int_equal(rr.count, 0);
    assert_false(rr.more);
    etcd_range_resp_free(&rr);
    /* an empty key is refused before anything is sent */
    assert_int_equal(etcd_put(c, &(struct etcd_put_req){.key = ""}, &pr, &err), -EINVAL);
    assert_int_equal(err.code, 400);
    ck_error_clear(&err);
    etcd_client_free(c);
}

static void range_supports_limit_prefix_count_keys_only_and_revision(void **state)
{
    (void)state;
    struct etcd_client *c = client_for(cluster(1));
    struct ck_error err = CK_ERROR_INIT;
    char key[64], val[16];
    int64_t first = 0;
    for (int i = 0; i < 5; i++) {
        ck_snprintf(key, sizeof(key), "/t/range/items/k%d", i);
        ck_snprintf(val, sizeof(val), "v%d", i);
        int64_t r = put_str(c, key, val);
        if (!first)
            first = r;
    }
    /* neighbours that a naive prefix would catch */
    put_str(c, "/t/range/items", "parent");
    put_str(c, "/t/range/items0", "sibling");
    int64_t before_update = put_str(c, "/t/range/items/k0", "v0-new") - 1;

    struct etcd_range_resp rr;
    struct etcd_range_req all = {.key = "/t/range/items/", .prefix = true};
    assert_int_equal(etcd_range(c, &all, &rr, &err), 0);
    assert_int_equal(rr.n_kvs, 5);
    assert_int_equal(rr.count, 5);
    assert_false(rr.more);
    for (int i = 0; i < 5; i++) {
        ck_snprintf(key, sizeof(key), "/t/range/items/k%d", i);
        assert_string_equal(rr.kvs[i].key, key); /* sorted by key */
    }
    assert_string_equal(rr.kvs[0].value, "v0-new");
    etcd_range_resp_free(&rr);

    /* limit: a page plus "more" and the full count, as list pagination needs */
    struct etcd_range_req page = {.key = "/t/range/items/", .prefix = true, .limit = 2};
    assert_int_equal(etcd_range(c, &page, &rr, &err), 0);
    assert_int_equal(rr.n_kvs, 2);
    assert_true(rr.more);
    assert_int_equal(rr.count, 5);
    assert_string_equal(rr.kvs[1].key, "/t/range/items/k1");
    etcd_range_resp_free(&rr);

    /* continue from a key with an explicit range_end */
    struct etcd_range_req rest = {.key = "/t/range/items/k2", .range_end = "/t/range/items0"};
    assert_int_equal(etcd_range(c, &rest, &rr, &err), 0);
    assert_int_equal(rr.n_kvs, 3);
    assert_string_equal(rr.kvs[0].key, "/t/range/items/k2");
    etcd_range_resp_free(&rr);

    /* count_only: no kvs, the count */
    struct etcd_range_req cnt = {.key = "/t/range/items/", .prefix = true, .count_only = true};
    assert_int_equal(etcd_range(c, &cnt, &rr, &err), 0);
    assert_int_equal(rr.n_kvs, 0);
    assert_int_equal(rr.count, 5);
    etcd_range_resp_free(&rr);

    /* keys_only: keys and revisions, empty values */
    struct etcd_range_req ko = {.key = "/t/range/items/", .prefix = true, .keys_only = true};
    assert_int_equal(etcd_range(c, &ko, &rr, &err), 0);
    assert_int_equal(rr.n_kvs, 5);
    assert_string_equal(rr.kvs[3].key, "/t/range/items/k3");
    assert_int_equal(rr.kvs[3].value_len, 0);
    assert_true(rr.kvs[3].mod_revision > 0);
    etcd_range_resp_free(&rr);

    /* revision: the store as it was */
    struct etcd_range_req old = {.key = "/t/range/items/k0", .revision = before_update};
    assert_int_equal(etcd_range(c, &old, &rr, &err), 0);
    assert_int_equal(rr.n_kvs, 1);
    assert_string_equal(rr.kvs[0].value, "v0");
    assert_int_equal(rr.kvs[0].mod_revision, first);
    etcd_range_resp_free(&rr);
    struct etcd_range_req none_yet = {.key = "/t/range/items/", .prefix = true, .revision = first};
    assert_int_equal(etcd_range(c, &none_yet, &rr, &err), 0);
    assert_int_equal(rr.n_kvs, 1);
    etcd_range_resp_free(&rr);

    /* from_key: everything >= key */
    struct etcd_range_req from = {.key = "/t/range/items0", .from_key = true, .count_only = true};
    assert_int_equal(etcd_range(c, &from, &rr, &err), 0);
    assert_true(rr.count >= 1);
    etcd_range_resp_free(&rr);

    /* serializable reads answer too */
    struct etcd_range_req ser = {.key = "/t/range/items/", .prefix = true, .serializable = true};
    assert_int_equal(etcd_range(c, &ser, &rr, &err), 0);
    assert_int_equal(rr.n_kvs, 5);
    etcd_range_resp_free(&rr);

    /* a revision from the future: 504 Timeout "Too large resource version" */
    struct etcd_range_req future = {.key = "/t/range/items/k0", .revision = 1000000000};
    assert_int_equal(etcd_range(c, &future, &rr, &err), -EOVERFLOW);
    assert_int_equal(err.code, 504);
    assert_string_equal(err.reason, "Timeout");
    assert_non_null(strstr(err.message, "Too large resource version"));
    ck_error_clear(&err);
    etcd_client_free(c);
}

static void txn_reports_conflicts_and_branch_responses(void **state)
{
    (void)state;
    struct etcd_client *c = client_for(cluster(1));
    struct ck_error err = CK_ERROR_INIT;
    struct etcd_txn_resp tr;

    /* create on a free key succeeds; its put response carries the new revision */
    assert_int_equal(create_str(c, "/t/txn/obj", "one", &tr, &err), 0);
    assert_true(tr.succeeded);
    assert_false(tr.ambiguous);
    assert_int_equal(tr.n_responses, 1);
    assert_int_equal(tr.responses[0].type, ETCD_OP_PUT);
    int64_t rv1 = tr.header.revision;
    assert_int_equal(tr.responses[0].put.header.revision, rv1);
    etcd_txn_resp_free(&tr);

    /* create on an existing key fails; the failure branch shows what exists (AlreadyExists) */
    assert_int_equal(create_str(c, "/t/txn/obj", "two", &tr, &err), 0);
    assert_false(tr.succeeded);
    assert_int_equal(tr.n_responses, 1);
    assert_int_equal(tr.responses[0].type, ETCD_OP_RANGE);
    assert_int_equal(tr.responses[0].range.n_kvs, 1);
    assert_string_equal(tr.responses[0].range.kvs[0].value, "one");
    assert_int_equal(tr.responses[0].range.kvs[0].mod_revision, rv1);
    etcd_txn_resp_free(&tr);

    /* update guarded by mod_revision: the current rv wins, a stale one conflicts */
    struct etcd_compare guard = {
        .key = "/t/txn/obj", .target = ETCD_CMP_MOD, .op = ETCD_CMP_EQUAL, .number = rv1};
    struct etcd_op upd = {
        .type = ETCD_OP_PUT,
        .put = {.key = "/t/txn/obj", .value = "v2", .value_len = 2, .prev_kv = true}};
    struct etcd_op cur = {.type = ETCD_OP_RANGE, .range = {.key = "/t/txn/obj"}};
    struct etcd_txn_req req = {&guard, 1, &upd, 1, &cur, 1};
    assert_int_equal(etcd_txn(c, &req, &tr, &err), 0);
    assert_true(tr.succeeded);
    assert_true(tr.responses[0].put.has_prev_kv);
    assert_string_equal(tr.responses[0].put.prev_kv.value, "one");
    int64_t rv2 = tr.header.revision;
    etcd_txn_resp_free(&tr);
    assert_int_equal(etcd_txn(c, &req, &tr, &err), 0); /* rv1 is stale now: Conflict */
    assert_false(tr.succeeded);
    assert_int_equal(tr.responses[0].range.kvs[0].mod_revision, rv2);
    assert_string_equal(tr.responses[0].range.kvs[0].value, "v2");
    etcd_txn_resp_free(&tr);

    /* every compare target and operator */
    static const struct {
        enum etcd_cmp_target target;
        enum etcd_cmp_op op;
        int64_t number;
        const char *value;
        bool want;
    } cmps[] = {
        {ETCD_CMP_VERSION, ETCD_CMP_EQUAL, 2, NULL, true},
        {ETCD_CMP_VERSION, ETCD_CMP_NOT_EQUAL, 2, NULL, false},
        {ETCD_CMP_VERSION, ETCD_CMP_GREATER, 1, NULL, true},
        {ETCD_CMP_VERSION, ETCD_CMP_LESS, 2, NULL, false},
        {ETCD_CMP_CREATE, ETCD_CMP_EQUAL, 0, NULL, false},
        {ETCD_CMP_CREATE, ETCD_CMP_GREATER, 0, NULL, true},
        {ETCD_CMP_MOD, ETCD_CMP_LESS, 1000000000, NULL, true},
        {ETCD_CMP_VALUE, ETCD_CMP_EQUAL, 0, "v2", true},
        {ETCD_CMP_VALUE, ETCD_CMP_EQUAL, 0, "v3", false},
        {ETCD_CMP_VALUE, ETCD_CMP_LESS, 0, "v3", true},
        {ETCD_CMP_VALUE, ETCD_CMP_NOT_EQUAL, 0, "v2", false},
        {ETCD_CMP_LEASE, ETCD_CMP_EQUAL, 0, NULL, true},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cmps); i++) {
        struct etcd_compare cmp = {.key = "/t/txn/obj",
                                   .target = cmps[i].target,
                                   .op = cmps[i].op,
                                   .number = cmps[i].number,
                                   .value = cmps[i].value,
                                   .value_len = cmps[i].value ? strlen(cmps[i].value) : 0};
        struct etcd_txn_req only = {&cmp, 1, NULL, 0, NULL, 0};
        assert_int_equal(etcd_txn(c, &only, &tr, &err), 0);
        if (tr.succeeded != cmps[i].want)
            fail_msg("compare case %zu: succeeded=%d", i, tr.succeeded);
        assert_int_equal(tr.n_responses, 0);
        etcd_txn_resp_free(&tr);
    }

    /* several ops in one branch: responses in order, each of its own type */
    put_str(c, "/t/txn/multi/x", "x");
    struct etcd_op ops[] = {
        {.type = ETCD_OP_PUT, .put = {.key = "/t/txn/multi/y", .value = "y", .value_len = 1}},
        {.type = ETCD_OP_DELETE, .del = {.key = "/t/txn/multi/x", .prev_kv = true}},
        {.type = ETCD_OP_RANGE, .range = {.key = "/t/txn/multi/", .prefix = true}},
    };
    struct etcd_txn_req multi = {NULL, 0, ops, 3, NULL, 0};
    assert_int_equal(etcd_txn(c, &multi, &tr, &err), 0);
    assert_true(tr.succeeded); /* no compares: success branch */
    assert_int_equal(tr.n_responses, 3);
    assert_int_equal(tr.responses[0].type, ETCD_OP_PUT);
    assert_int_equal(tr.responses[1].type, ETCD_OP_DELETE);
    assert_int_equal(tr.responses[1].del.deleted, 1);
    assert_string_equal(tr.responses[1].del.prev_kvs[0].value, "x");
    assert_int_equal(tr.responses[2].type, ETCD_OP_RANGE);
    assert_int_equal(tr.responses[2].range.n_kvs, 1); /* sees its own txn's writes */
    assert_string_equal(tr.responses[2].range.kvs[0].key, "/t/txn/multi/y");
    etcd_txn_resp_free(&tr);

    /* etcd refuses two writes to one key in a txn: 400 */
    struct etcd_op dup[] = {
        {.type = ETCD_OP_PUT, .put = {.key = "/t/txn/d", .value = "1", .value_len = 1}},
        {.type = ETCD_OP_PUT, .put = {.key = "/t/txn/d", .value = "2", .value_len = 1}},
    };
    struct etcd_txn_req bad = {NULL, 0, dup, 2, NULL, 0};
    assert_int_equal(etcd_txn(c, &bad, &tr, &err), -EINVAL);
    assert_int_equal(err.code, 400);
    assert_non_null(strstr(err.message, "duplicate key"));
    ck_error_clear(&err);
    etcd_client_free(c);
}

static void watch_delivers_ordered_events_with_prev_kv(void **state)
{
    (void)state;
    struct etcd_client *c = client_for(cluster(1));
    struct ck_error err = CK_ERROR_INIT;
    int64_t before = put_str(c, "/t/watch/a", "old");

    struct collector col;
    collector_init(&col);
    struct etcd_watch *w;
    struct etcd_watch_req req = {.key = "/t/watch/", .prefix = true, .prev_kv = true};
    assert_int_equal(etcd_watch_start(c, &req, collect, &col, &w, &err), 0);
    assert_true(etcd_watch_running(w));
    assert_int_equal(etcd_watch_endpoint(w), 0);
    int64_t r1 = put_str(c, "/t/watch/a", "v1");
    int64_t r2 = put_str(c, "/t/watch/b", "v2");
    put_str(c, "/t/watchers/other", "not in the prefix");
    struct etcd_delete_resp dr;
    assert_int_equal(etcd_delete(c, &(struct etcd_delete_req){.key = "/t/watch/a"}, &dr, &err), 0);
    int64_t r3 = dr.header.revision;
    etcd_delete_resp_free(&dr);
    assert_true(wait_col(&col, has_n_events, 3, 5000));
    etcd_watch_stop(w);

    assert_int_equal(col.n, 3);
    assert_false(col.out_of_order);
    assert_int_equal(col.ev[0].type, ETCD_EVENT_PUT);
    assert_string_equal(col.ev[0].key, "/t/watch/a");
    assert_string_equal(col.ev[0].value, "v1");
    assert_true(col.ev[0].has_prev);
    assert_string_equal(col.ev[0].prev_value, "old");
    assert_int_equal(col.ev[0].rev, r1);
    assert_int_equal(col.ev[1].rev, r2);
    assert_false(col.ev[1].has_prev); /* a create has no previous value */
    assert_int_equal(col.ev[2].type, ETCD_EVENT_DELETE);
    assert_int_equal(col.ev[2].rev, r3);
    assert_true(col.ev[2].has_prev);
    assert_string_equal(col.ev[2].prev_value, "v1");
    collector_free(&col);

    /* start_revision replays history: the same four writes from `before` on */
    collector_init(&col);
    req.start_revision = before;
    assert_int_equal(etcd_watch_start(c, &req, collect, &col, &w, &err), 0);
    assert_true(wait_col(&col, has_n_events, 4, 5000));
    etcd_watch_stop(w);
    assert_int_equal(col.n, 4);
    assert_int_equal(col.ev[0].rev, before);
    assert_string_equal(col.ev[0].value, "old");
    assert_int_equal(col.ev[3].rev, r3);
    collector_free(&col);

    /* a single-key watch sees only that key */
    collector_init(&col);
    struct etcd_watch_req one = {.key = "/t/watch/b"};
    assert_int_equal(etcd_watch_start(c, &one, collect, &col, &w, &err), 0);
    put_str(c, "/t/watch/bb", "x");
    int64_t rb = put_str(c, "/t/watch/b", "y");
    assert_true(wait_col(&col, has_n_events, 1, 5000));
    sleep_ms(100);
    etcd_watch_stop(w);
    assert_int_equal(col.n, 1);
    assert_int_equal(col.ev[0].rev, rb);
    assert_false(col.ev[0].has_prev); /* not asked for */
    collector_free(&col);
    etcd_client_free(c);
}

static int stop_after_first(const struct etcd_watch_resp *r, void *arg)
{
    atomic_int *calls = arg;
    if (r->kind == ETCD_WATCH_EVENTS)
        atomic_fetch_add(calls, 1);
    return 1;
}

static void watch_stops_when_callback_asks(void **state)
{
    (void)state;
    struct etcd_client *c = client_for(cluster(1));
    atomic_int calls = 0;
    struct etcd_watch *w;
    struct etcd_watch_req req = {.key = "/t/wstop/", .prefix = true};
    assert_int_equal(etcd_watch_start(c, &req, stop_after_first, &calls, &w, NULL), 0);
    put_str(c, "/t/wstop/1", "a");
    int64_t until = now_ms() + 5000;
    while (etcd_watch_running(w) && now_ms() < until)
        sleep_ms(20);
    assert_false(etcd_watch_running(w));
    put_str(c, "/t/wstop/2", "b");
    sleep_ms(200);
    assert_int_equal(atomic_load(&calls), 1);
    etcd_watch_stop(w);
    /* invalid requests are refused up front */
    struct ck_error err = CK_ERROR_INIT;
    struct etcd_watch_req bad = {.key = ""};
    assert_int_equal(etcd_watch_start(c, &bad, stop_after_first, &calls, &w, &err), -EINVAL);
    assert_null(w);
    ck_error_clear(&err);
    etcd_client_free(c);
}

static void watch_reports_progress_notifications(void **state)
{
    (void)state;
    /* etcd's default progress interval is 10 minutes: a dedicated member ticks every second */
    struct ck_etcd_cluster *cl;
    struct ck_etcd_cluster_opts opts = {.members = 1, .progress_notify_interval = "1s"};
    assert_int_equal(ck_etcd_cluster_start(&opts, &cl), 0);
    struct etcd_client *c = client_for(cl);
    int64_t rev = put_str(c, "/t/progress/x", "1");
    struct collector col;
    collector_init(&col);
    struct etcd_watch *w;
    struct etcd_watch_req req = {.key = "/t/progress/", .prefix = true, .progress_notify = true};
    assert_int_equal(etcd_watch_start(c, &req, collect, &col, &w, NULL), 0);
    assert_true(wait_col(&col, has_progress, 0, 5000));
    etcd_watch_stop(w);
    assert_int_equal(col.n, 0);
    assert_true(col.progress_rev >= rev);
    collector_free(&col);
    etcd_client_free(c);
    ck_etcd_cluster_destroy(cl);
}

/* ---- leases -----------------------------------------------------------------------------------
 */

static void lease_expiry_deletes_keys_and_keepalive_prevents_it(void **state)
{
    (void)state;
    struct etcd_client *c = client_for(cluster(1));
    struct ck_error err = CK_ERROR_INIT;
    int64_t expiring, kept, granted;
    assert_int_equal(etcd_lease_grant(c, 2, &expiring, &granted, &err), 0);
    assert_int_equal(granted, 2);
    assert_int_equal(etcd_lease_grant(c, 2, &kept, NULL, &err), 0);
    assert_true(expiring != kept);
    struct etcd_put_resp pr;
    struct etcd_put_req p1 = {
        .key = "/t/lease/gone", .value = "x", .value_len = 1, .lease = expiring};
    struct etcd_put_req p2 = {.key = "/t/lease/kept", .value = "y", .value_len = 1, .lease = kept};
    assert_int_equal(etcd_put(c, &p1, &pr, &err), 0);
    etcd_put_resp_free(&pr);
    assert_int_equal(etcd_put(c, &p2, &pr, &err), 0);
    etcd_put_resp_free(&pr);

    struct etcd_lease_info info;
    assert_int_equal(etcd_lease_time_to_live(c, kept, true, &info, &err), 0);
    assert_int_equal(info.id, kept);
    assert_int_equal(info.granted_ttl, 2);
    assert_true(info.ttl >= 0 && info.ttl <= 2);
    assert_int_equal(info.n_keys, 1);
    assert_string_equal(info.keys[0], "/t/lease/kept");
    etcd_lease_info_free(&info);

    struct etcd_keepalive *ka;
    assert_int_equal(etcd_keepalive_start(c, kept, 0, &ka, &err), 0);
    /* well past the TTL: the unattended key is gone, the kept one is not */
    int64_t until = now_ms() + 6000;
    char *v;
    while ((v = get_str(c, "/t/lease/gone", NULL)) && now_ms() < until) {
        free(v);
        sleep_ms(200);
    }
    assert_null(v);
    sleep_ms(2500);
    v = get_str(c, "/t/lease/kept", NULL);
    assert_non_null(v);
    free(v);
    assert_false(etcd_keepalive_lost(ka));
    struct etcd_range_resp rr;
    assert_int_equal(etcd_range(c, &(struct etcd_range_req){.key = "/t/lease/kept"}, &rr, &err), 0);
    assert_int_equal(rr.kvs[0].lease, kept);
    etcd_range_resp_free(&rr);

    /* an expired lease: TTL -1, keep-alive and revoke say 404 NotFound */
    assert_int_equal(etcd_lease_time_to_live(c, expiring, false, &info, &err), 0);
    assert_int_equal(info.ttl, -1);
    etcd_lease_info_free(&info);
    assert_int_equal(etcd_lease_keepalive_once(c, expiring, NULL, &err), -ENOENT);
    assert_int_equal(err.code, 404);
    ck_error_clear(&err);
    assert_int_equal(etcd_lease_revoke(c, expiring, &err), -ENOENT);
    assert_int_equal(err.code, 404);
    assert_string_equal(err.reason, "NotFound");
    ck_error_clear(&err);

    /* revoking deletes the attached keys at once; the keep-alive loop notices */
    assert_int_equal(etcd_lease_revoke(c, kept, &err), 0);
    assert_null(get_str(c, "/t/lease/kept", NULL));
    until = now_ms() + 5000;
    while (!etcd_keepalive_lost(ka) && now_ms() < until)
        sleep_ms(50);
    assert_true(etcd_keepalive_lost(ka));
    etcd_keepalive_stop(ka);

    /* a put on an unknown lease fails with 404 */
    struct etcd_put_req p3 = {.key = "/t/lease/x", .value = "z", .value_len = 1, .lease = kept};
    assert_int_equal(etcd_put(c, &p3, &pr, &err), -ENOENT);
    ck_error_clear(&err);
    assert_int_equal(etcd_lease_grant(c, 0, &kept, NULL, &err), -EINVAL);
    ck_error_clear(&err);
    etcd_client_free(c);
}

static void lease_manager_reuses_leases_like_upstream(void **state)
{
    (void)state;
    struct etcd_client *c = client_for(cluster(1));
    struct ck_error err = CK_ERROR_INIT;
    /* Events' 1 h TTL: window min(60 s, 5% of 3600 s) = 60 s, granted for 3660 s */
    struct etcd_lease_manager *m = etcd_lease_manager_new(c, 0, 0, 3);
    int64_t a, b, d, e;
    assert_int_equal(etcd_lease_manager_get(m, 3600, &a, &err), 0);
    assert_int_equal(etcd_lease_manager_get(m, 3600, &b, &err), 0);
    assert_int_equal(a, b);
    struct etcd_lease_info info;
    assert_int_equal(etcd_lease_time_to_live(c, a, false, &info, &err), 0);
    assert_int_equal(info.granted_ttl, 3660);
    etcd_lease_info_free(&info);
    assert_int_equal(etcd_lease_manager_get(m, 3600, &d, &err), 0);
    assert_int_equal(d, a);
    /* max_objects (3) reached: a fresh lease */
    assert_int_equal(etcd_lease_manager_get(m, 3600, &e, &err), 0);
    assert_true(e != a);
    /* a shorter TTL cannot reuse a lease that would outlive it by more than its window */
    int64_t s;
    assert_int_equal(etcd_lease_manager_get(m, 100, &s, &err), 0);
    assert_true(s != e);
    assert_int_equal(etcd_lease_time_to_live(c, s, false, &info, &err), 0);
    assert_int_equal(info.granted_ttl, 105); /* 5% of 100 s */
    etcd_lease_info_free(&info);
    etcd_lease_manager_free(m);
    for (int64_t *id = (int64_t[]){a, e, s, 0}; *id; id++)
        assert_int_equal(etcd_lease_revoke(c, *id, NULL), 0);
    etcd_client_free(c);
}

/* ---- maintenance and compaction ---------------------------------------------------------------
 */

static void member_list_and_status_describe_the_cluster(void **state)
{
    (void)state;
    struct ck_etcd_cluster *cl = cluster(1);
    struct etcd_client *c = client_for(cl);
    struct ck_error err = CK_ERROR_INIT;
    struct etcd_member *mem;
    size_t n;
    assert_int_equal(etcd_member_list(c, &mem, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(mem[0].name, "m0");
    assert_int_equal(mem[0].n_client_urls, 1);
    assert_string_equal(mem[0].client_urls[0], ck_etcd_cluster_endpoint(cl, 0));
    assert_int_equal(mem[0].n_peer_urls, 1);
    assert_false(mem[0].is_learner);
    struct etcd_status st;
    assert_int_equal(etcd_status(c, 0, &st, &err), 0);
    assert_int_equal(st.leader, mem[0].id);
    assert_int_equal(st.header.member_id, mem[0].id);
    assert_string_equal(st.version, "3.4.23");
    assert_true(st.raft_term >= 1);
    assert_true(st.raft_index >= 1);
    assert_true(st.db_size > 0);
    assert_true(st.header.revision >= 1);
    etcd_members_free(mem, n);
    assert_int_equal(etcd_status(c, 7, &st, &err), -EINVAL);
    ck_error_clear(&err);
    etcd_client_free(c);
}

static void compaction_expires_old_revisions_for_range_and_watch(void **state)
{
    (void)state;
    struct etcd_client *c = client_for(cluster(1));
    struct ck_error err = CK_ERROR_INIT;
    int64_t r1 = put_str(c, "/t/compact/k", "v1");
    int64_t r2 = put_str(c, "/t/compact/k", "v2");
    assert_int_equal(etcd_compact(c, r2, true, &err), 0);

    struct etcd_range_resp rr;
    struct etcd_range_req old = {.key = "/t/compact/k", .revision = r1};
    assert_int_equal(etcd_range(c, &old, &rr, &err), -ESTALE);
    assert_int_equal(err.code, 410);
    assert_string_equal(err.reason, "Expired");
    assert_string_equal(err.message, "The resourceVersion for the provided list is too old.");
    ck_error_clear(&err);
    struct etcd_range_req at = {.key = "/t/compact/k", .revision = r2};
    assert_int_equal(etcd_range(c, &at, &rr, &err), 0);
    assert_string_equal(rr.kvs[0].value, "v2");
    etcd_range_resp_free(&rr);

    /* a watch from a compacted revision ends with COMPACTED carrying compact_revision */
    struct collector col;
    collector_init(&col);
    struct etcd_watch *w;
    struct etcd_watch_req req = {.key = "/t/compact/", .prefix = true, .start_revision = r1};
    assert_int_equal(etcd_watch_start(c, &req, collect, &col, &w, &err), 0);
    assert_true(wait_col(&col, has_compacted, 0, 5000));
    int64_t until = now_ms() + 2000;
    while (etcd_watch_running(w) && now_ms() < until)
        sleep_ms(10);
    assert_false(etcd_watch_running(w));
    etcd_watch_stop(w);
    assert_int_equal(col.compacted, 1);
    assert_int_equal(col.compact_rev, r2);
    assert_int_equal(col.n, 0);
    assert_int_equal(col.err.code, 410);
    assert_string_equal(col.err.reason, "Expired");
    assert_string_equal(col.err.message, "The resourceVersion for the provided watch is too old.");
    collector_free(&col);

    /* compacting again to an old revision: 410 */
    assert_int_equal(etcd_compact(c, r1, false, &err), -ESTALE);
    assert_int_equal(err.code, 410);
    ck_error_clear(&err);
    etcd_client_free(c);
}

static void compactor_compacts_to_the_previous_tick_revision(void **state)
{
    (void)state;
    struct etcd_client *c = client_for(cluster(1));
    struct ck_error err = CK_ERROR_INIT;
    int64_t start = put_str(c, "/t/compactor/k", "before");
    struct etcd_compactor *k;
    assert_int_equal(etcd_compactor_start(c, 0, &k, &err), 0); /* 0: disabled, as upstream */
    assert_null(k);
    assert_int_equal(etcd_compactor_start(c, 600, &k, &err), 0);
    /* tick 1 records the revision; tick 2 compacts to it */
    int64_t until = now_ms() + 8000;
    while (etcd_compactor_revision(k) == 0 && now_ms() < until) {
        put_str(c, "/t/compactor/k", "churn");
        sleep_ms(50);
    }
    int64_t compacted = etcd_compactor_revision(k);
    etcd_compactor_stop(k);
    assert_true(compacted > start);
    struct etcd_range_resp rr;
    struct etcd_range_req old = {.key = "/t/compactor/k", .revision = compacted - 1};
    assert_int_equal(etcd_range(c, &old, &rr, &err), -ESTALE);
    ck_error_clear(&err);
    struct etcd_range_req at = {.key = "/t/compactor/k", .revision = compacted};
    assert_int_equal(etcd_range(c, &at, &rr, &err), 0);
    etcd_range_resp_free(&rr);
    /* the coordination key holds the compacted revision, its version counts the ticks */
    assert_int_equal(etcd_range(c, &(struct etcd_range_req){.key = "compact_rev_key"}, &rr, &err),
                     0);
    assert_int_equal(rr.n_kvs, 1);
    assert_true(rr.kvs[0].version >= 2);
    assert_true(strtoll(rr.kvs[0].value, NULL, 10) >= compacted);
    etcd_range_resp_free(&rr);
    etcd_client_free(c);
}

/* ---- failure modes on one member ---------------------------------------------------------------
 */

/* a port nobody listens on (privileged, unused on test machines) */
static int closed_port(void)
{
    return 1;
}

static void dead_endpoint_fails_over_to_a_live_one(void **state)
{
    (void)state;
    struct ck_etcd_cluster *cl = cluster(1);
    char eps[256];
    ck_snprintf(eps, sizeof(eps), "http://127.0.0.1:%d,%s", closed_port(),
                ck_etcd_cluster_endpoint(cl, 0));
    /* a refused connection moves on at once, long before the 3 s attempt timeout; even an
     * unconditional put is retried, since etcd certainly did not see it */
    struct etcd_client *c = client_at(eps, 6000, 3000);
    int64_t t0 = now_ms();
    put_str(c, "/t/failover/a", "1");
    assert_true(now_ms() - t0 < 2500);
    char *v = get_str(c, "/t/failover/a", NULL);
    assert_string_equal(v, "1");
    free(v);
    etcd_client_free(c);
}

static void no_reachable_endpoint_is_503_within_the_deadline(void **state)
{
    (void)state;
    char eps[64];
    ck_snprintf(eps, sizeof(eps), "http://127.0.0.1:%d", closed_port());
    struct etcd_client *c = client_at(eps, 800, 500);
    struct ck_error err = CK_ERROR_INIT;
    struct etcd_range_resp rr;
    int64_t t0 = now_ms();
    assert_int_equal(etcd_range(c, &(struct etcd_range_req){.key = "/x"}, &rr, &err), -EAGAIN);
    int64_t took = now_ms() - t0;
    assert_true(took >= 700 && took < 3000);
    assert_int_equal(err.code, 503);
    assert_string_equal(err.reason, "ServiceUnavailable");
    ck_error_clear(&err);
    /* a watch cannot be established either */
    struct etcd_watch *w;
    struct etcd_watch_req req = {.key = "/x"};
    assert_int_equal(etcd_watch_start(c, &req, collect, NULL, &w, &err), -EAGAIN);
    assert_int_equal(err.code, 503);
    ck_error_clear(&err);
    etcd_client_free(c);
}

static void frozen_member_times_out_with_504(void **state)
{
    (void)state;
    struct ck_etcd_cluster *cl = cluster(1);
    struct etcd_client *c = client_at(ck_etcd_cluster_endpoints(cl), 3000, 500);
    struct ck_error err = CK_ERROR_INIT;
    put_str(c, "/t/frozen/k", "v"); /* a pooled connection to the member exists */
    assert_int_equal(ck_etcd_cluster_pause(cl, 0), 0);
    struct etcd_range_resp rr;
    int64_t t0 = now_ms();
    int rc = etcd_range(c, &(struct etcd_range_req){.key = "/t/frozen/k"}, &rr, &err);
    int64_t took = now_ms() - t0;
    /* an unguarded put is not retried once sent: it fails after one attempt */
    struct ck_error perr = CK_ERROR_INIT;
    struct etcd_put_resp pr;
    int64_t t1 = now_ms();
    int prc = etcd_put(
        c, &(struct etcd_put_req){.key = "/t/frozen/k", .value = "w", .value_len = 1}, &pr, &perr);
    int64_t ptook = now_ms() - t1;
    assert_int_equal(ck_etcd_cluster_resume(cl, 0), 0);
    assert_int_equal(rc, -ETIMEDOUT);
    assert_int_equal(err.code, 504);
    assert_string_equal(err.reason, "Timeout");
    assert_true(took >= 2900 && took < 5000); /* retried until the deadline */
    assert_int_equal(prc, -ETIMEDOUT);
    assert_int_equal(perr.code, 504);
    assert_true(ptook < 2000); /* one 500 ms attempt, not the 3 s deadline */
    ck_error_clear(&err);
    ck_error_clear(&perr);
    /* once the member is back, the same client serves again */
    char *v = get_str(c, "/t/frozen/k", NULL);
    assert_non_null(v);
    free(v);
    etcd_client_free(c);
}

static void tls_client_certificates_are_required_and_used(void **state)
{
    (void)state;
    struct ck_etcd_cluster *cl;
    struct ck_etcd_cluster_opts opts = {.members = 1, .tls = true};
    assert_int_equal(ck_etcd_cluster_start(&opts, &cl), 0);
    assert_non_null(strstr(ck_etcd_cluster_endpoints(cl), "https://"));
    struct etcd_config cfg = {
        .endpoints = ck_etcd_cluster_endpoints(cl),
        .ca_file = ck_etcd_cluster_ca_file(cl),
        .cert_file = ck_etcd_cluster_cert_file(cl),
        .key_file = ck_etcd_cluster_key_file(cl),
    };
    struct etcd_client *c;
    assert_int_equal(etcd_client_new(&cfg, &c, NULL), 0);
    put_str(c, "/t/tls/k", "secret");
    char *v = get_str(c, "/t/tls/k", NULL);
    assert_string_equal(v, "secret");
    free(v);
    struct collector col;
    collector_init(&col);
    struct etcd_watch *w;
    assert_int_equal(
        etcd_watch_start(c, &(struct etcd_watch_req){.key = "/t/tls/k"}, collect, &col, &w, NULL),
        0);
    put_str(c, "/t/tls/k", "again");
    assert_true(wait_col(&col, has_n_events, 1, 5000));
    etcd_watch_stop(w);
    collector_free(&col);
    etcd_client_free(c);

    /* without a client certificate the member refuses us; without the CA we refuse it */
    struct ck_error err = CK_ERROR_INIT;
    struct etcd_range_resp rr;
    struct etcd_config nocert = {
        .endpoints = cfg.endpoints, .ca_file = cfg.ca_file, .request_timeout_ms = 3000};
    assert_int_equal(etcd_client_new(&nocert, &c, NULL), 0);
    assert_true(etcd_range(c, &(struct etcd_range_req){.key = "/t/tls/k"}, &rr, &err) < 0);
    if (err.code != 503)
        fail_msg("without a client certificate: %d %s", err.code, err.message);
    ck_error_clear(&err);
    etcd_client_free(c);
    struct etcd_config noca = {.endpoints = cfg.endpoints,
                               .cert_file = cfg.cert_file,
                               .key_file = cfg.key_file,
                               .request_timeout_ms = 3000};
    assert_int_equal(etcd_client_new(&noca, &c, NULL), 0);
    assert_true(etcd_range(c, &(struct etcd_range_req){.key = "/t/tls/k"}, &rr, &err) < 0);
    if (err.code != 503 || !strstr(err.message, "SSL"))
        fail_msg("without the CA: %d %s", err.code, err.message);
    ck_error_clear(&err);
    etcd_client_free(c);
    ck_etcd_cluster_destroy(cl);
}

/* ---- a fake member: malformed answers ------------------------------------------------------ */

/* One canned HTTP answer per connection, as a broken proxy or a corrupted member might give. */
struct fake_member {
    int fd;
    int port;
    pthread_t thread;
    atomic_bool stop;
    atomic_int requests;
    pthread_mutex_t mu; /* guards status and body */
    int status;
    const char *body;
};

static void *fake_loop(void *arg)
{
    struct fake_member *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        int conn = accept(f->fd, NULL, NULL);
        if (conn < 0)
            continue;
        /* read the headers and the announced body */
        char req[65536];
        size_t got = 0;
        long want = -1;
        while (got < sizeof(req) - 1) {
            ssize_t r = read(conn, req + got, sizeof(req) - 1 - got);
            if (r <= 0)
                break;
            got += (size_t)r;
            req[got] = '\0';
            char *end = strstr(req, "\r\n\r\n");
            if (!end)
                continue;
            if (want < 0) {
                const char *cl = strcasestr(req, "content-length:");
                want = (long)(end + 4 - req) + (cl ? atol(cl + 15) : 0);
            }
            if ((long)got >= want)
                break;
        }
        atomic_fetch_add(&f->requests, 1);
        pthread_mutex_lock(&f->mu);
        char head[256];
        ck_snprintf(head, sizeof(head),
                    "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: "
                    "%zu\r\nConnection: close\r\n\r\n",
                    f->status, strlen(f->body));
        ssize_t w1 = write(conn, head, strlen(head));
        ssize_t w2 = write(conn, f->body, strlen(f->body));
        pthread_mutex_unlock(&f->mu);
        (void)w1;
        (void)w2;
        close(conn);
    }
    return NULL;
}

static void fake_start(struct fake_member *f)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->fd, 16), 0);
    assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_loop, f), 0);
}

static void fake_answer(struct fake_member *f, int status, const char *body)
{
    pthread_mutex_lock(&f->mu);
    f->status = status;
    f->body = body;
    pthread_mutex_unlock(&f->mu);
}

static void fake_stop(struct fake_member *f)
{
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    close(f->fd);
    pthread_mutex_destroy(&f->mu);
}

static void malformed_answers_are_errors_not_crashes(void **state)
{
    (void)state;
    struct fake_member f;
    fake_start(&f);
    char eps[256];
    ck_snprintf(eps, sizeof(eps), "http://127.0.0.1:%d", f.port);
    struct etcd_client *c = client_at(eps, 1500, 500);
    struct ck_error err = CK_ERROR_INIT;
    struct etcd_range_resp rr;
    struct etcd_range_req get = {.key = "/a"};
    static const struct {
        int status;
        const char *body;
    } broken[] = {
        {200, "{\"kvs\":[{\"key\":\"!!not base64\",\"value\":\"eA==\"}]}"},
        {200, "{\"kvs\":\"not an array\"}"},
        {200, "{\"kvs\":[7]}"},
        {200, "{\"kvs\":[{\"key\":17}]}"},
        {200, "not json"},
        {200, "[1,2]"},
        {200, ""},
        {404, "404 page not found"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(broken); i++) {
        fake_answer(&f, broken[i].status, broken[i].body);
        int rc = etcd_range(c, &get, &rr, &err);
        if (rc != -EIO || err.code != 500)
            fail_msg("answer %zu: rc=%d code=%d %s", i, rc, err.code, err.message);
        assert_string_equal(err.reason, "InternalError");
        assert_int_equal(rr.n_kvs, 0);
        ck_error_clear(&err);
    }

    /* absent fields read as zero and empty, as the gateway omits zero values */
    fake_answer(&f, 200,
                "{\"header\":{\"revision\":\"7\"},\"kvs\":[{\"key\":\"L2E=\","
                "\"create_revision\":\"5\"}],\"count\":\"1\"}");
    assert_int_equal(etcd_range(c, &get, &rr, &err), 0);
    assert_int_equal(rr.header.revision, 7);
    assert_int_equal(rr.header.member_id, 0);
    assert_int_equal(rr.n_kvs, 1);
    assert_string_equal(rr.kvs[0].key, "/a");
    assert_string_equal(rr.kvs[0].value, "");
    assert_int_equal(rr.kvs[0].create_revision, 5);
    assert_int_equal(rr.kvs[0].mod_revision, 0);
    assert_int_equal(rr.kvs[0].version, 0);
    assert_false(rr.more);
    etcd_range_resp_free(&rr);

    /* a txn answer whose responses do not match the branch that ran */
    fake_answer(&f, 200, "{\"succeeded\":true,\"responses\":[]}");
    struct etcd_op op = {.type = ETCD_OP_PUT, .put = {.key = "/a", .value = "x", .value_len = 1}};
    struct etcd_txn_req tx = {NULL, 0, &op, 1, NULL, 0};
    struct etcd_txn_resp tr;
    assert_int_equal(etcd_txn(c, &tx, &tr, &err), -EIO);
    assert_int_equal(err.code, 500);
    ck_error_clear(&err);
    fake_answer(&f, 200, "{\"succeeded\":true,\"responses\":[{\"response_range\":{}}]}");
    assert_int_equal(etcd_txn(c, &tx, &tr, &err), -EIO);
    ck_error_clear(&err);
    etcd_client_free(c);

    /* a 502 from a broken member: reads fail over to a real one, an unconditional put does not
     * (it may have been applied) */
    fake_answer(&f, 502, "<html>bad gateway</html>");
    ck_snprintf(eps, sizeof(eps), "http://127.0.0.1:%d,%s", f.port,
                ck_etcd_cluster_endpoint(cluster(1), 0));
    c = client_at(eps, 3000, 1000);
    int before = atomic_load(&f.requests);
    free(get_str(c, "/t/fake/k", NULL)); /* 502, then the real member answers */
    assert_int_equal(atomic_load(&f.requests), before + 1);
    put_str(c, "/t/fake/k", "v"); /* the client now prefers the real member */
    char *v = get_str(c, "/t/fake/k", NULL);
    assert_string_equal(v, "v");
    free(v);
    assert_int_equal(atomic_load(&f.requests), before + 1);
    etcd_client_free(c);
    before = atomic_load(&f.requests);
    c = client_at(eps, 3000, 1000);
    struct etcd_put_resp pr;
    struct etcd_put_req put = {.key = "/t/fake/k", .value = "w", .value_len = 1};
    assert_int_equal(etcd_put(c, &put, &pr, &err), -EAGAIN);
    assert_int_equal(err.code, 503);
    assert_non_null(strstr(err.message, "HTTP 502"));
    ck_error_clear(&err);
    assert_int_equal(atomic_load(&f.requests), before + 1);
    v = get_str(c, "/t/fake/k", NULL); /* a range is retried on the real member */
    assert_string_equal(v, "v");
    free(v);
    etcd_client_free(c);
    fake_stop(&f);
}

/* ---- three members -----------------------------------------------------------------------------
 */

static void member_list_shows_three_members(void **state)
{
    (void)state;
    struct ck_etcd_cluster *cl = cluster(3);
    struct etcd_client *c = client_for(cl);
    struct etcd_member *mem;
    size_t n;
    assert_int_equal(etcd_member_list(c, &mem, &n, NULL), 0);
    assert_int_equal(n, 3);
    int leader = ck_etcd_cluster_leader(cl, 5000);
    assert_true(leader >= 0);
    uint64_t leader_id = 0;
    for (int i = 0; i < 3; i++) {
        struct etcd_status st;
        assert_int_equal(etcd_status(c, i, &st, NULL), 0);
        if (i == leader)
            leader_id = st.header.member_id;
        assert_true(st.leader != 0);
    }
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found = found || mem[i].id == leader_id;
    assert_true(found);
    etcd_members_free(mem, n);
    etcd_client_free(c);
}

/* Freezes member `victim` (SIGSTOP: it keeps its sockets but answers nothing), with it first in
 * the client's endpoint list, and runs a guarded create; returns how long it took. */
static int64_t create_with_frozen_member(struct ck_etcd_cluster *cl, int victim, const char *key)
{
    char eps[512];
    int n = ck_etcd_cluster_size(cl);
    ck_snprintf(eps, sizeof(eps), "%s,%s,%s", ck_etcd_cluster_endpoint(cl, victim),
                ck_etcd_cluster_endpoint(cl, (victim + 1) % n),
                ck_etcd_cluster_endpoint(cl, (victim + 2) % n));
    struct etcd_client *c = client_at(eps, 10000, 1000);
    put_str(c, "/t/partition/warm", "x"); /* pooled connection to the victim */
    assert_int_equal(ck_etcd_cluster_pause(cl, victim), 0);
    int64_t t0 = now_ms();
    struct ck_error err = CK_ERROR_INIT;
    struct etcd_txn_resp tr;
    int rc = create_str(c, key, "v", &tr, &err);
    /* a timed-out attempt may still have been applied: then the retry's compare fails and
     * says so (ambiguous), and the key holds our value */
    bool ok = rc == 0 && (tr.succeeded || (tr.ambiguous && tr.responses[0].range.n_kvs == 1 &&
                                           strcmp(tr.responses[0].range.kvs[0].value, "v") == 0));
    if (rc == 0) {
        if (!ok)
            fail_msg("guarded create with member %d frozen: succeeded=%d ambiguous=%d", victim,
                     tr.succeeded, tr.ambiguous);
        etcd_txn_resp_free(&tr);
    }
    int64_t took = now_ms() - t0;
    char *v = ok ? get_str(c, key, NULL) : NULL;
    ck_etcd_cluster_resume(cl, victim);
    etcd_client_free(c);
    if (!ok)
        fail_msg("guarded create with member %d frozen: rc=%d %s", victim, rc, err.message);
    assert_string_equal(v, "v");
    free(v);
    return took;
}

static void frozen_member_does_not_fail_requests_others_can_serve(void **state)
{
    (void)state;
    struct ck_etcd_cluster *cl = cluster(3);
    int leader = ck_etcd_cluster_leader(cl, 5000);
    assert_true(leader >= 0);
    /* a frozen follower costs one short attempt */
    int64_t follower_ms = create_with_frozen_member(cl, (leader + 1) % 3, "/t/partition/a");
    assert_int_equal(ck_etcd_cluster_wait_healthy(cl, 15000), 0);
    /* a frozen leader also loses what followers forward to it until a new one is elected */
    int64_t leader_ms = create_with_frozen_member(cl, leader, "/t/partition/b");
    print_message("# guarded create with a frozen follower first: %" PRId64
                  " ms; with the frozen leader first: %" PRId64 " ms\n",
                  follower_ms, leader_ms);
    assert_true(follower_ms < 2500);
    assert_true(leader_ms < 8000);
    assert_int_equal(ck_etcd_cluster_wait_healthy(cl, 15000), 0);
}

static void leaderless_member_answers_no_leader_at_once(void **state)
{
    (void)state;
    struct ck_etcd_cluster *cl = cluster(3);
    /* freeze two members: the third loses its leader; "hasleader" makes it say so */
    assert_int_equal(ck_etcd_cluster_pause(cl, 1), 0);
    assert_int_equal(ck_etcd_cluster_pause(cl, 2), 0);
    struct etcd_client *c = client_at(ck_etcd_cluster_endpoint(cl, 0), 800, 500);
    struct ck_error err = CK_ERROR_INIT;
    struct etcd_range_resp rr;
    int rc = 0;
    int64_t until = now_ms() + 8000;
    do {
        ck_error_clear(&err);
        rc = etcd_range(c, &(struct etcd_range_req){.key = "/t/nl"}, &rr, &err);
        if (rc == 0)
            etcd_range_resp_free(&rr);
    } while ((rc == 0 || !strstr(err.message, "no leader")) && now_ms() < until);
    ck_etcd_cluster_resume(cl, 1);
    ck_etcd_cluster_resume(cl, 2);
    assert_int_equal(rc, -EAGAIN);
    assert_int_equal(err.code, 503);
    assert_non_null(strstr(err.message, "etcdserver: no leader"));
    ck_error_clear(&err);
    etcd_client_free(c);
    assert_int_equal(ck_etcd_cluster_wait_healthy(cl, 15000), 0);
}

/* A writer creating unique keys with guarded txns, recording what etcd acknowledged. */
struct ack {
    char key[64];
    int64_t rev;
    int64_t start_ms, end_ms;
};

struct writer {
    struct etcd_client *c;
    char prefix[48];
    int id;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t mu; /* guards the fields below */
    struct ack *acks;
    size_t n, cap;
    int failures;
    int ambiguous_resolved;
    char last_error[256];
};

static void *writer_loop(void *arg)
{
    struct writer *wr = arg;
    for (int i = 0; !atomic_load(&wr->stop); i++) {
        char key[64], val[64];
        ck_snprintf(key, sizeof(key), "%s/w%d-%06d", wr->prefix, wr->id, i);
        ck_snprintf(val, sizeof(val), "value-of-%s", key);
        int64_t t0 = now_ms();
        struct etcd_txn_resp tr;
        struct ck_error err = CK_ERROR_INIT;
        int rc = create_str(wr->c, key, val, &tr, &err);
        bool acked = false;
        int64_t rev = 0;
        if (rc == 0 && tr.succeeded) {
            acked = true;
            rev = tr.header.revision;
        } else if (rc == 0 && tr.ambiguous && tr.responses[0].range.n_kvs == 1 &&
                   strcmp(tr.responses[0].range.kvs[0].value, val) == 0) {
            /* the first attempt was applied: the key holds exactly our value */
            acked = true;
            rev = tr.responses[0].range.kvs[0].mod_revision;
            pthread_mutex_lock(&wr->mu);
            wr->ambiguous_resolved++;
            pthread_mutex_unlock(&wr->mu);
        }
        if (rc == 0)
            etcd_txn_resp_free(&tr);
        pthread_mutex_lock(&wr->mu);
        if (acked) {
            if (wr->n == wr->cap) {
                wr->cap = wr->cap ? wr->cap * 2 : 256;
                wr->acks = ck_xrealloc(wr->acks, wr->cap * sizeof(*wr->acks));
            }
            struct ack *a = &wr->acks[wr->n++];
            ck_strlcpy(a->key, key, sizeof(a->key));
            a->rev = rev;
            a->start_ms = t0;
            a->end_ms = now_ms();
        } else {
            wr->failures++;
            ck_snprintf(wr->last_error, sizeof(wr->last_error), "%s: rc=%d %s", key, rc,
                        rc < 0 ? err.message : "compare failed");
        }
        pthread_mutex_unlock(&wr->mu);
        ck_error_clear(&err);
        if (!acked)
            sleep_ms(20);
    }
    return NULL;
}

static void writer_start(struct writer *wr, struct etcd_client *c, const char *prefix, int id)
{
    memset(wr, 0, sizeof(*wr));
    wr->c = c;
    wr->id = id;
    ck_strlcpy(wr->prefix, prefix, sizeof(wr->prefix));
    pthread_mutex_init(&wr->mu, NULL);
    atomic_init(&wr->stop, false);
    assert_int_equal(pthread_create(&wr->thread, NULL, writer_loop, wr), 0);
}

static void writer_stop(struct writer *wr)
{
    atomic_store(&wr->stop, true);
    pthread_join(wr->thread, NULL);
}

static void writer_free(struct writer *wr)
{
    free(wr->acks);
    pthread_mutex_destroy(&wr->mu);
}

/* Milliseconds from `since` to the ack of the first write started at or after it; -1: none. */
static int64_t first_ack_after(struct writer *wrs, int n, int64_t since)
{
    int64_t best = -1;
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&wrs[i].mu);
        for (size_t j = wrs[i].n; j-- > 0;) {
            struct ack *a = &wrs[i].acks[j];
            if (a->start_ms < since)
                break;
            if (best < 0 || a->end_ms - since < best)
                best = a->end_ms - since;
        }
        pthread_mutex_unlock(&wrs[i].mu);
    }
    return best;
}

static size_t acked_count(struct writer *wr)
{
    pthread_mutex_lock(&wr->mu);
    size_t n = wr->n;
    pthread_mutex_unlock(&wr->mu);
    return n;
}

/* Every acknowledged write is in etcd with its revision. */
static void assert_acks_durable(struct etcd_client *c, struct writer *wrs, int n,
                                const char *prefix)
{
    struct etcd_range_resp rr;
    struct ck_error err = CK_ERROR_INIT;
    char p[64];
    ck_snprintf(p, sizeof(p), "%s/", prefix);
    int rc = etcd_range(c, &(struct etcd_range_req){.key = p, .prefix = true}, &rr, &err);
    if (rc < 0)
        fail_msg("final range: %s", err.message);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        for (size_t j = 0; j < wrs[i].n; j++) {
            const struct ack *a = &wrs[i].acks[j];
            bool found = false;
            /* kvs are sorted by key: binary search */
            size_t lo = 0, hi = rr.n_kvs;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int cmp = strcmp(rr.kvs[mid].key, a->key);
                if (cmp == 0) {
                    found = rr.kvs[mid].mod_revision == a->rev;
                    break;
                }
                if (cmp < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (!found)
                fail_msg("acknowledged write %s (rev %" PRId64 ") is lost", a->key, a->rev);
            total++;
        }
    }
    assert_true(rr.n_kvs >= total);
    etcd_range_resp_free(&rr);
}

static void leader_kill_loses_no_acknowledged_write(void **state)
{
    (void)state;
    int rounds = 1;
    const char *env = getenv("CKUBE_LEADER_KILL_ROUNDS");
    if (env && atoi(env) > 0)
        rounds = atoi(env);
    struct ck_etcd_cluster *cl = cluster(3);
    /* the client as kube-apiserver uses it: default deadlines */
    struct etcd_client *c = client_for(cl);
    enum { WRITERS = 2 };
    struct writer wrs[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        writer_start(&wrs[i], c, "/t/leaderkill", i);
    int64_t worst = 0, total_ms = 0;
    for (int r = 1; r <= rounds; r++) {
        size_t before = acked_count(&wrs[0]);
        int64_t until = now_ms() + 5000;
        while (acked_count(&wrs[0]) < before + 20 && now_ms() < until)
            sleep_ms(10);
        int leader = ck_etcd_cluster_leader(cl, 10000);
        assert_true(leader >= 0);
        int64_t killed = now_ms();
        assert_int_equal(ck_etcd_cluster_kill(cl, leader), 0);
        int64_t resumed;
        while ((resumed = first_ack_after(wrs, WRITERS, killed)) < 0 && now_ms() - killed < 20000)
            sleep_ms(10);
        print_message("# round %d/%d: killed leader m%d, writes resumed after %" PRId64 " ms\n", r,
                      rounds, leader, resumed);
        if (resumed < 0 || resumed > 10000)
            fail_msg("round %d: writes did not resume within 10 s of the leader kill (%" PRId64
                     " ms; last error: %s)",
                     r, resumed, wrs[0].last_error);
        worst = resumed > worst ? resumed : worst;
        total_ms += resumed;
        assert_int_equal(ck_etcd_cluster_restart(cl, leader), 0);
    }
    sleep_ms(300);
    for (int i = 0; i < WRITERS; i++)
        writer_stop(&wrs[i]);
    int failures = 0, resolved = 0;
    size_t acks = 0;
    for (int i = 0; i < WRITERS; i++) {
        failures += wrs[i].failures;
        resolved += wrs[i].ambiguous_resolved;
        acks += wrs[i].n;
    }
    print_message("# %d round(s): worst fail-over %" PRId64 " ms, mean %" PRId64
                  " ms; %zu acknowledged writes, %d failed (unacknowledged), %d ambiguous "
                  "resolved\n",
                  rounds, worst, total_ms / rounds, acks, failures, resolved);
    assert_acks_durable(c, wrs, WRITERS, "/t/leaderkill");
    for (int i = 0; i < WRITERS; i++)
        writer_free(&wrs[i]);
    etcd_client_free(c);
}

/* Checks that the watched events are exactly the keys etcd holds under prefix, in revision
 * order, each once. */
static void assert_watch_matches_store(struct etcd_client *c, struct collector *col,
                                       const char *prefix)
{
    struct etcd_range_resp rr;
    struct etcd_range_req req = {.key = prefix, .prefix = true};
    assert_int_equal(etcd_range(c, &req, &rr, NULL), 0);
    assert_false(col->out_of_order);
    if (col->n != rr.n_kvs)
        fail_msg("watch saw %zu events, etcd holds %zu keys", col->n, rr.n_kvs);
    for (size_t i = 1; i < col->n; i++)
        if (col->ev[i].rev <= col->ev[i - 1].rev)
            fail_msg("event %zu: revision %" PRId64 " after %" PRId64, i, col->ev[i].rev,
                     col->ev[i - 1].rev);
    for (size_t i = 0; i < rr.n_kvs; i++) {
        bool found = false;
        for (size_t j = 0; j < col->n && !found; j++)
            found = col->ev[j].rev == rr.kvs[i].mod_revision &&
                    strcmp(col->ev[j].key, rr.kvs[i].key) == 0;
        if (!found)
            fail_msg("no event for %s (rev %" PRId64 ")", rr.kvs[i].key, rr.kvs[i].mod_revision);
    }
    etcd_range_resp_free(&rr);
}

static int64_t last_ack_rev(struct writer *wr)
{
    pthread_mutex_lock(&wr->mu);
    int64_t rev = wr->n ? wr->acks[wr->n - 1].rev : 0;
    pthread_mutex_unlock(&wr->mu);
    return rev;
}

/* Kills (or freezes) the member the watch is connected to while a writer writes. */
static void watch_survives_losing_its_member(bool freeze)
{
    struct ck_etcd_cluster *cl = cluster(3);
    const char *prefix = freeze ? "/t/wfreeze" : "/t/wkill";
    char p[32];
    ck_snprintf(p, sizeof(p), "%s/", prefix);
    struct etcd_client *wc = client_at(ck_etcd_cluster_endpoints(cl), 15000, 1000);
    struct etcd_client *c = client_at(ck_etcd_cluster_endpoints(cl), 15000, 1000);
    struct collector col;
    collector_init(&col);
    struct etcd_watch *w;
    struct etcd_watch_req req = {.key = p, .prefix = true, .prev_kv = true};
    assert_int_equal(etcd_watch_start(c, &req, collect, &col, &w, NULL), 0);
    int victim = etcd_watch_endpoint(w);
    assert_true(victim >= 0);
    struct writer wr;
    writer_start(&wr, wc, prefix, 0);
    int64_t until = now_ms() + 5000;
    while (acked_count(&wr) < 30 && now_ms() < until)
        sleep_ms(10);
    if (freeze)
        assert_int_equal(ck_etcd_cluster_pause(cl, victim), 0);
    else
        assert_int_equal(ck_etcd_cluster_kill(cl, victim), 0);
    size_t at_fault = acked_count(&wr);
    until = now_ms() + 15000;
    while (acked_count(&wr) < at_fault + 50 && now_ms() < until)
        sleep_ms(10);
    writer_stop(&wr);
    int64_t last = last_ack_rev(&wr);
    bool caught_up = wait_col(&col, has_rev, last, 15000);
    sleep_ms(200); /* anything extra would show up now */
    int reconnects = etcd_watch_reconnects(w);
    int now_on = etcd_watch_endpoint(w);
    etcd_watch_stop(w);
    if (freeze)
        ck_etcd_cluster_resume(cl, victim);
    else
        ck_etcd_cluster_restart(cl, victim);
    print_message("# %s member m%d under the watch: %zu writes, %zu events, %d reconnect(s), "
                  "%d failed writes\n",
                  freeze ? "froze" : "killed", victim, wr.n, col.n, reconnects, wr.failures);
    assert_true(caught_up);
    assert_true(wr.n >= at_fault + 50);
    assert_true(reconnects >= 1);
    assert_true(now_on != victim);
    assert_int_equal(col.errors, 0);
    assert_watch_matches_store(c, &col, p);
    writer_free(&wr);
    collector_free(&col);
    etcd_client_free(c);
    etcd_client_free(wc);
}

static void watch_resumes_without_loss_when_its_member_is_killed(void **state)
{
    (void)state;
    watch_survives_losing_its_member(false);
}

static void watch_leaves_a_frozen_member_without_loss(void **state)
{
    (void)state;
    watch_survives_losing_its_member(true);
}

static void restarted_member_serves_again(void **state)
{
    (void)state;
    struct ck_etcd_cluster *cl = cluster(3);
    struct etcd_client *c = client_for(cl);
    assert_int_equal(ck_etcd_cluster_stop(cl, 2), 0);
    assert_false(ck_etcd_cluster_running(cl, 2));
    /* writes go on with two of three members */
    int64_t rev = put_str(c, "/t/restart/k", "written-while-down");
    assert_int_equal(ck_etcd_cluster_restart(cl, 2), 0);
    struct etcd_client *only = client_at(ck_etcd_cluster_endpoint(cl, 2), 10000, 2000);
    int64_t mod;
    char *v = get_str(only, "/t/restart/k", &mod);
    assert_string_equal(v, "written-while-down");
    assert_int_equal(mod, rev);
    free(v);
    struct etcd_status st;
    assert_int_equal(etcd_status(only, 0, &st, NULL), 0);
    assert_true(st.leader != 0);
    assert_true(st.header.revision >= rev);
    put_str(only, "/t/restart/k2", "through the restarted member");
    etcd_client_free(only);
    etcd_client_free(c);
}

/* ---- concurrency --------------------------------------------------------------------------------
 */

struct hammer {
    struct etcd_client *c;
    int id;
    int errors;
};

static void *hammer_loop(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < 100; i++) {
        char key[64], val[32];
        ck_snprintf(key, sizeof(key), "/t/concurrent/%d/%d", h->id, i);
        ck_snprintf(val, sizeof(val), "%d", i);
        struct etcd_put_resp pr;
        struct etcd_put_req req = {.key = key, .value = val, .value_len = strlen(val)};
        if (etcd_put(h->c, &req, &pr, NULL) < 0) {
            h->errors++;
            continue;
        }
        etcd_put_resp_free(&pr);
        struct etcd_range_resp rr;
        if (etcd_range(h->c, &(struct etcd_range_req){.key = key}, &rr, NULL) < 0 ||
            rr.n_kvs != 1 || strcmp(rr.kvs[0].value, val) != 0)
            h->errors++;
        etcd_range_resp_free(&rr);
    }
    return NULL;
}

/* TCP sockets in `state` (hex code of /proc/net/tcp: 01 established, 06 time-wait) whose
 * remote end is 127.0.0.1:port. */
static int count_tcp(int port, int state)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned rport, st;
        if (sscanf(line, " %*d: %*x:%*x %*x:%x %x", &rport, &st) == 2 && (int)rport == port &&
            (int)st == state)
            n++;
    }
    fclose(f);
    return n;
}

static void connections_are_reused(void **state)
{
    (void)state;
    struct ck_etcd_cluster *cl = cluster(1);
    int port = atoi(strrchr(ck_etcd_cluster_endpoint(cl, 0), ':') + 1);
    struct etcd_client *c = client_for(cl);
    put_str(c, "/t/reuse/k", "v");
    int closed_before = count_tcp(port, 0x06);
    for (int i = 0; i < 200; i++) {
        put_str(c, "/t/reuse/k", "v");
        free(get_str(c, "/t/reuse/k", NULL));
    }
    struct etcd_status st;
    assert_int_equal(etcd_status(c, 0, &st, NULL), 0);
    int closed_after = count_tcp(port, 0x06);
    /* 401 requests, no connection closed: no handshake per request */
    assert_true(closed_before >= 0);
    if (closed_after - closed_before > 1)
        fail_msg("%d connections were closed during 401 requests", closed_after - closed_before);
    etcd_client_free(c);
}

static void one_client_serves_many_threads(void **state)
{
    (void)state;
    struct etcd_client *c = client_for(cluster(1));
    enum { THREADS = 8 };
    struct hammer hs[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        hs[i] = (struct hammer){c, i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, hammer_loop, &hs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(hs[i].errors, 0);
    struct etcd_range_resp rr;
    struct etcd_range_req req = {.key = "/t/concurrent/", .prefix = true, .count_only = true};
    assert_int_equal(etcd_range(c, &req, &rr, NULL), 0);
    assert_int_equal(rr.count, THREADS * 100);
    etcd_range_resp_free(&rr);
    etcd_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_follow_upstream_layout),
        cmocka_unit_test(keys_reject_invalid_names),
        cmocka_unit_test(prefix_end_increments_last_byte),
        cmocka_unit_test(client_rejects_bad_endpoints),
        cmocka_unit_test(crud_roundtrips_values_and_revisions),
        cmocka_unit_test(range_supports_limit_prefix_count_keys_only_and_revision),
        cmocka_unit_test(txn_reports_conflicts_and_branch_responses),
        cmocka_unit_test(watch_delivers_ordered_events_with_prev_kv),
        cmocka_unit_test(watch_stops_when_callback_asks),
        cmocka_unit_test(watch_reports_progress_notifications),
        cmocka_unit_test(lease_expiry_deletes_keys_and_keepalive_prevents_it),
        cmocka_unit_test(lease_manager_reuses_leases_like_upstream),
        cmocka_unit_test(member_list_and_status_describe_the_cluster),
        cmocka_unit_test(one_client_serves_many_threads),
        cmocka_unit_test(connections_are_reused),
        cmocka_unit_test(dead_endpoint_fails_over_to_a_live_one),
        cmocka_unit_test(no_reachable_endpoint_is_503_within_the_deadline),
        cmocka_unit_test(frozen_member_times_out_with_504),
        cmocka_unit_test(compaction_expires_old_revisions_for_range_and_watch),
        cmocka_unit_test(compactor_compacts_to_the_previous_tick_revision),
        cmocka_unit_test(tls_client_certificates_are_required_and_used),
        cmocka_unit_test(malformed_answers_are_errors_not_crashes),
        cmocka_unit_test(member_list_shows_three_members),
        cmocka_unit_test(frozen_member_does_not_fail_requests_others_can_serve),
        cmocka_unit_test(leaderless_member_answers_no_leader_at_once),
        cmocka_unit_test(watch_resumes_without_loss_when_its_member_is_killed),
        cmocka_unit_test(watch_leaves_a_frozen_member_without_loss),
        cmocka_unit_test(leader_kill_loses_no_acknowledged_write),
        cmocka_unit_test(restarted_member_serves_again),
    };
    /* CK_TEST_FILTER=leader_kill* runs matching tests only */
    const char *filter = getenv("CK_TEST_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests_name("etcd", tests, NULL, teardown_clusters);
}
