/* Integration tests of informers (and the controller skeleton and event recorder built on
 * them) against a REAL kube-apiserver on a REAL etcd (test/lib/cluster), started once for the
 * suite with a small watch cache (--default-watch-cache-size=50) so that 410s can be forced:
 *  - the cache equals the server after 1000 random creates/updates/deletes, and what the
 *    handlers were told adds up to the same state;
 *  - a watcher that falls behind is closed, gets 410 Expired on resuming, relists, and reports
 *    the deletions it missed as tombstones (DeletedFinalStateUnknown);
 *  - the informer recovers after the apiserver restarts (graceful and kill -9);
 *  - periodic resync replays the cache to the handlers that asked for it;
 *  - a controller's sync runs per key, retries failures with backoff, and stops cleanly;
 *  - events: creation, count++ by patch for repeats, aggregation, type check.
 * Each test works in its own namespace.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "controller.h"
#include "events.h"
#include "informer.h"
#include "json.h"
#include "mem.h"
#include "strmap.h"
#include "test/lib/cluster.h"
#include "timeutil.h"

#define MS INT64_C(1000000)

static const struct ck_gvr cms = {"", "v1", "configmaps"};
static const struct ck_gvr namespaces = {"", "v1", "namespaces"};
static const struct ck_gvr events = {"", "v1", "events"};

static struct ck_test_cluster *cluster;
static struct ck_client *client;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int setup(void **state)
{
    (void)state;
    static const char *const args[] = {"--default-watch-cache-size=50", NULL};
    struct ck_test_cluster_opts o = {.apiserver_args = args};
    if (ck_test_cluster_start(&o, &cluster) < 0)
        return -1;
    struct ck_rest_config cfg = {.host = (char *)ck_test_cluster_url(cluster)};
    struct ck_client_opts co = {.component = "test-informer", .qps = -1};
    struct ck_error err = CK_ERROR_INIT;
    if (ck_client_new(&cfg, &co, &client, &err) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ck_client_free(client);
    int rc = ck_test_cluster_check_logs(cluster);
    ck_test_cluster_destroy(cluster);
    ck_metrics_default_reset();
    return rc;
}

static void make_namespace(const char *ns)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"metadata\":{\"name\":\"%s\"}}", ns);
    cJSON *o = ck_json_parse(body, strlen(body), NULL);
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_create(client, &namespaces, NULL, o, NULL, &err);
    assert_true(rc == 0 || rc == -EEXIST);
    cJSON_Delete(o);
    ck_error_clear(&err);
}

static int put_cm(const char *ns, const char *name, const char *value, bool create)
{
    cJSON *o = cJSON_CreateObject();
    ck_json_set_string(o, "metadata.name", name);
    ck_json_set_string(o, "metadata.namespace", ns);
    ck_json_set_string(o, "data.v", value);
    struct ck_error err = CK_ERROR_INIT;
    int rc = create ? ck_client_create(client, &cms, ns, o, NULL, &err)
                    : ck_client_update(client, &cms, ns, o, NULL, &err);
    cJSON_Delete(o);
    ck_error_clear(&err);
    return rc;
}

static int delete_cm(const char *ns, const char *name)
{
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_delete(client, &cms, ns, name, NULL, NULL, &err);
    ck_error_clear(&err);
    return rc;
}

/* true when the store holds exactly the server's objects of ns, at the same versions */
static bool store_matches_server(struct ck_store *store, const char *ns, char *why, size_t wl)
{
    cJSON *list = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_client_list(client, &cms, ns, NULL, &list, &err) < 0) {
        snprintf(why, wl, "list: %.400s", err.message);
        ck_error_clear(&err);
        return false;
    }
    cJSON *items = ck_json_get(list, "items");
    size_t n = 0;
    bool ok = true;
    cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        n++;
        char *key = ck_object_key(it);
        struct ck_obj *o = ck_store_get(store, key);
        const char *rv = ck_json_get_string(it, "metadata.resourceVersion", "");
        if (!o || strcmp(o->rv, rv) ||
            !ck_json_equal(ck_json_get(o->json, "data"), ck_json_get(it, "data"))) {
            snprintf(why, wl, "%s: server rv %s, cache %s", key, rv, o ? o->rv : "missing");
            ok = false;
        }
        ck_obj_unref(o);
        free(key);
        if (!ok)
            break;
    }
    if (ok && n != ck_store_len(store)) {
        snprintf(why, wl, "server has %zu objects, cache %zu", n, ck_store_len(store));
        ok = false;
    }
    cJSON_Delete(list);
    return ok;
}

static void wait_match(struct ck_store *store, const char *ns, int timeout_ms)
{
    char why[512] = "";
    int64_t until = ck_mono_ns() + timeout_ms * MS;
    while (ck_mono_ns() < until) {
        if (store_matches_server(store, ns, why, sizeof(why)))
            return;
        sleep_ms(100);
    }
    fail_msg("cache never matched the server: %s", why);
}

/* ---- what handlers saw: key -> resourceVersion ----------------------------------------- */

struct seen {
    pthread_mutex_t lock;
    struct ck_strmap rv; /* key -> char* rv */
    int adds, updates, deletes, tombstones;
    struct ck_strlist tombstone_keys;
    /* a gate that can block the reflector thread inside a handler */
    pthread_cond_t cond;
    bool gate_closed, blocked;
};

static void seen_init(struct seen *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
}

static void seen_free(struct seen *s)
{
    ck_strmap_free(&s->rv, free);
    ck_strlist_free(&s->tombstone_keys);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
}

static void gate(struct seen *s)
{
    while (s->gate_closed) {
        s->blocked = true;
        pthread_cond_broadcast(&s->cond);
        pthread_cond_wait(&s->cond, &s->lock);
    }
}

static void seen_add(void *ctx, const struct ck_obj *o, bool initial)
{
    (void)initial;
    struct seen *s = ctx;
    pthread_mutex_lock(&s->lock);
    gate(s);
    s->adds++;
    free(ck_strmap_put(&s->rv, o->key, ck_xstrdup(o->rv)));
    pthread_mutex_unlock(&s->lock);
}

static void seen_update(void *ctx, const struct ck_obj *old, const struct ck_obj *cur)
{
    (void)old;
    struct seen *s = ctx;
    pthread_mutex_lock(&s->lock);
    gate(s);
    s->updates++;
    free(ck_strmap_put(&s->rv, cur->key, ck_xstrdup(cur->rv)));
    pthread_mutex_unlock(&s->lock);
}

static void seen_delete(void *ctx, const struct ck_obj *o, bool unknown)
{
    struct seen *s = ctx;
    pthread_mutex_lock(&s->lock);
    gate(s);
    s->deletes++;
    if (unknown) {
        s->tombstones++;
        ck_strlist_add(&s->tombstone_keys, o->key);
    }
    free(ck_strmap_remove(&s->rv, o->key));
    pthread_mutex_unlock(&s->lock);
}

struct cmp_ctx {
    struct ck_store *store;
    bool ok;
};

static void cmp_entry(const char *key, void *value, void *ctx)
{
    struct cmp_ctx *c = ctx;
    struct ck_obj *o = ck_store_get(c->store, key);
    if (!o || strcmp(o->rv, value))
        c->ok = false;
    ck_obj_unref(o);
}

/* the handlers' view equals the store */
static void assert_seen_matches(struct seen *s, struct ck_store *store)
{
    pthread_mutex_lock(&s->lock);
    struct cmp_ctx c = {store, true};
    ck_strmap_each(&s->rv, cmp_entry, &c);
    size_t n = s->rv.len;
    pthread_mutex_unlock(&s->lock);
    assert_true(c.ok);
    assert_int_equal(n, ck_store_len(store));
}

static struct ck_informer *start_informer(const char *ns, struct seen *s)
{
    struct ck_informer_opts io = {.namespace = ns};
    struct ck_informer *inf = NULL;
    assert_int_equal(ck_informer_new(client, &cms, &io, &inf), 0);
    struct ck_event_handler h = {seen_add, seen_update, seen_delete, s};
    assert_int_equal(ck_informer_add_handler(inf, &h, 0), 0);
    assert_int_equal(ck_informer_start(inf), 0);
    assert_int_equal(ck_informer_wait_for_sync(inf, NULL, 30 * CK_SECOND), 0);
    return inf;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void cache_equals_server_after_random_changes(void **state)
{
    (void)state;
    const char *ns = "rand";
    make_namespace(ns);
    /* some objects exist before the informer starts: they come from the (paginated) list */
    char name[32], value[32];
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof(name), "pre-%d", i);
        assert_int_equal(put_cm(ns, name, "0", true), 0);
    }
    struct seen s;
    seen_init(&s);
    struct ck_informer_opts io = {.namespace = ns, .page_size = 7};
    struct ck_informer *inf = NULL;
    assert_int_equal(ck_informer_new(client, &cms, &io, &inf), 0);
    struct ck_event_handler h = {seen_add, seen_update, seen_delete, &s};
    ck_informer_add_handler(inf, &h, 0);
    assert_false(ck_informer_has_synced(inf));
    assert_int_equal(ck_informer_start(inf), 0);
    assert_int_equal(ck_informer_start(inf), -EALREADY);
    assert_int_equal(ck_informer_wait_for_sync(inf, NULL, 30 * CK_SECOND), 0);
    assert_int_equal(ck_store_len(ck_informer_store(inf)), 30);
    assert_int_equal(s.adds, 30);

    /* 1000 random operations on 60 names */
    bool exists[60] = {false};
    srand(12345);
    int done = 0;
    while (done < 1000) {
        int i = rand() % 60;
        snprintf(name, sizeof(name), "cm-%d", i);
        snprintf(value, sizeof(value), "%d", rand());
        int rc;
        if (!exists[i]) {
            rc = put_cm(ns, name, value, true);
            exists[i] = rc == 0;
        } else if (rand() % 3) {
            rc = put_cm(ns, name, value, false);
        } else {
            rc = delete_cm(ns, name);
            exists[i] = false;
        }
        assert_int_equal(rc, 0);
        done++;
    }
    wait_match(ck_informer_store(inf), ns, 30000);
    assert_seen_matches(&s, ck_informer_store(inf));
    struct ck_informer_stats st;
    ck_informer_stats(inf, &st);
    assert_true(st.events >= 1000); /* the changes came as watch events, not relists */
    /* a handler added late hears about everything already there */
    struct seen late;
    seen_init(&late);
    struct ck_event_handler h2 = {seen_add, seen_update, seen_delete, &late};
    ck_informer_add_handler(inf, &h2, 0);
    assert_int_equal((size_t)late.adds, ck_store_len(ck_informer_store(inf)));
    ck_informer_free(inf);
    seen_free(&s);
    seen_free(&late);
}

static void falls_behind_gets_410_relists_and_reports_tombstones(void **state)
{
    (void)state;
    const char *ns = "slow";
    make_namespace(ns);
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof(name), "victim-%d", i);
        assert_int_equal(put_cm(ns, name, "v", true), 0);
    }
    assert_int_equal(put_cm(ns, "big", "0", true), 0);
    struct seen s;
    seen_init(&s);
    struct ck_informer *inf = start_informer(ns, &s);
    /* block the reflector inside a handler, then outrun the 50-event watch cache with big
     * updates that also fill the socket buffers */
    pthread_mutex_lock(&s.lock);
    s.gate_closed = true;
    pthread_mutex_unlock(&s.lock);
    assert_int_equal(put_cm(ns, "big", "1", false), 0);
    pthread_mutex_lock(&s.lock);
    while (!s.blocked)
        pthread_cond_wait(&s.cond, &s.lock);
    pthread_mutex_unlock(&s.lock);
    char *blob = ck_xmalloc(64 * 1024 + 1);
    for (int i = 0; i < 200; i++) {
        memset(blob, 'a' + i % 26, 64 * 1024);
        blob[64 * 1024] = '\0';
        assert_int_equal(put_cm(ns, "big", blob, false), 0);
    }
    free(blob);
    /* deletions the informer will never see as events */
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof(name), "victim-%d", i);
        assert_int_equal(delete_cm(ns, name), 0);
    }
    pthread_mutex_lock(&s.lock);
    s.gate_closed = false;
    pthread_cond_broadcast(&s.cond);
    pthread_mutex_unlock(&s.lock);
    wait_match(ck_informer_store(inf), ns, 60000);
    struct ck_informer_stats st;
    ck_informer_stats(inf, &st);
    assert_true(st.expired >= 1);
    assert_true(st.lists >= 2);
    assert_seen_matches(&s, ck_informer_store(inf));
    pthread_mutex_lock(&s.lock);
    assert_int_equal(s.tombstones, 5);
    for (size_t i = 0; i < s.tombstone_keys.n; i++)
        assert_true(!strncmp(s.tombstone_keys.v[i], "slow/victim-", 12));
    pthread_mutex_unlock(&s.lock);
    ck_informer_free(inf);
    seen_free(&s);
}

static void recovers_after_apiserver_restarts(void **state)
{
    (void)state;
    const char *ns = "restart";
    make_namespace(ns);
    assert_int_equal(put_cm(ns, "a", "1", true), 0);
    struct seen s;
    seen_init(&s);
    struct ck_informer *inf = start_informer(ns, &s);
    /* graceful restart, then changes */
    assert_int_equal(ck_test_cluster_apiserver_stop(cluster), 0);
    sleep_ms(500);
    assert_int_equal(ck_test_cluster_apiserver_start(cluster), 0);
    assert_int_equal(put_cm(ns, "b", "1", true), 0);
    assert_int_equal(put_cm(ns, "a", "2", false), 0);
    wait_match(ck_informer_store(inf), ns, 60000);
    /* kill -9 and a longer outage */
    assert_int_equal(ck_test_cluster_apiserver_kill(cluster), 0);
    sleep_ms(2000);
    assert_int_equal(ck_test_cluster_apiserver_start(cluster), 0);
    assert_int_equal(delete_cm(ns, "a"), 0);
    assert_int_equal(put_cm(ns, "c", "1", true), 0);
    wait_match(ck_informer_store(inf), ns, 60000);
    assert_seen_matches(&s, ck_informer_store(inf));
    struct ck_informer_stats st;
    ck_informer_stats(inf, &st);
    assert_true(st.watches >= 3); /* it re-watched after each outage */
    ck_informer_free(inf);
    seen_free(&s);
}

struct resync_count {
    atomic_int same, other;
};

static void count_resync(void *ctx, const struct ck_obj *old, const struct ck_obj *cur)
{
    struct resync_count *r = ctx;
    atomic_fetch_add(old == cur ? &r->same : &r->other, 1);
}

static void periodic_resync_replays_the_cache(void **state)
{
    (void)state;
    const char *ns = "resync";
    make_namespace(ns);
    assert_int_equal(put_cm(ns, "a", "1", true), 0);
    assert_int_equal(put_cm(ns, "b", "1", true), 0);
    struct ck_informer_opts io = {.namespace = ns, .resync_ns = CK_SECOND};
    struct ck_informer *inf = NULL;
    assert_int_equal(ck_informer_new(client, &cms, &io, &inf), 0);
    struct resync_count every = {0}, never = {0};
    struct ck_event_handler h1 = {.on_update = count_resync, .ctx = &every};
    struct ck_event_handler h2 = {.on_update = count_resync, .ctx = &never};
    ck_informer_add_handler(inf, &h1, 0);  /* the informer's 1 s */
    ck_informer_add_handler(inf, &h2, -1); /* no resync */
    assert_int_equal(ck_informer_start(inf), 0);
    assert_int_equal(ck_informer_wait_for_sync(inf, NULL, 30 * CK_SECOND), 0);
    sleep_ms(2600);
    ck_informer_stop(inf);
    /* two objects, about two resyncs: on_update(obj, obj) for each, and only there */
    int same = atomic_load(&every.same);
    assert_true(same >= 2 && same <= 6 && same % 2 == 0);
    assert_int_equal(atomic_load(&every.other), 0);
    assert_int_equal(atomic_load(&never.same), 0);
    ck_informer_free(inf);
}

/* ---- controller skeleton ------------------------------------------------------------------ */

struct ctl_state {
    struct ck_informer *inf;
    atomic_int flaky_attempts;
    atomic_int flaky_failures;
    atomic_int labelled;
};

/* labels every configmap synced=yes; "flaky" fails three times first */
static int ctl_sync(void *ctx, const char *key)
{
    struct ctl_state *st = ctx;
    char *ns, *name;
    if (ck_split_key(key, &ns, &name) < 0)
        return 0;
    int rc = 0;
    if (!strcmp(name, "flaky") && atomic_fetch_add(&st->flaky_attempts, 1) < 3) {
        atomic_fetch_add(&st->flaky_failures, 1);
        rc = -EAGAIN;
        goto out;
    }
    struct ck_obj *o = ck_store_get(ck_informer_store(st->inf), key);
    if (o && strcmp(ck_json_get_string(o->json, "metadata.labels.synced", ""), "yes")) {
        struct ck_error err = CK_ERROR_INIT;
        rc = ck_client_patch(client, &cms, ns, name, NULL, CK_PATCH_MERGE,
                             "{\"metadata\":{\"labels\":{\"synced\":\"yes\"}}}", NULL, NULL, &err);
        if (rc == 0)
            atomic_fetch_add(&st->labelled, 1);
        ck_error_clear(&err);
    }
    ck_obj_unref(o);
out:
    free(ns);
    free(name);
    return rc;
}

static void controller_syncs_keys_and_retries_failures(void **state)
{
    (void)state;
    const char *ns = "ctl";
    make_namespace(ns);
    struct ck_informer_factory *f = ck_informer_factory_new(client, &(struct ck_informer_opts){
                                                                        .namespace = ns});
    struct ctl_state st = {.inf = ck_informer_factory_get(f, &cms)};
    assert_ptr_equal(ck_informer_factory_get(f, &cms), st.inf); /* shared per resource */
    struct ck_controller_opts o = {.name = "labeler", .sync = ctl_sync, .ctx = &st};
    struct ck_controller *c = ck_controller_new(&o);
    assert_int_equal(ck_controller_watch(c, st.inf, NULL), 0);
    ck_informer_factory_start(f);
    struct ck_cancel *stop = ck_cancel_new();
    assert_int_equal(ck_controller_run(c, 2, stop), 0);
    assert_int_equal(put_cm(ns, "x", "1", true), 0);
    assert_int_equal(put_cm(ns, "flaky", "1", true), 0);
    int64_t until = ck_mono_ns() + 20 * CK_SECOND;
    while (ck_mono_ns() < until && atomic_load(&st.labelled) < 2)
        sleep_ms(50);
    assert_int_equal(atomic_load(&st.labelled), 2);
    /* 3 failures, then success (later syncs come from the label's own update event) */
    assert_int_equal(atomic_load(&st.flaky_failures), 3);
    assert_true(atomic_load(&st.flaky_attempts) >= 4);
    assert_true(ck_controller_syncs(c) >= 5);
    assert_int_equal(ck_workqueue_num_requeues(ck_controller_queue(c), "ctl/flaky"), 0);
    cJSON *got = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_client_get(client, &cms, ns, "flaky", &got, &err), 0);
    assert_string_equal(ck_json_get_string(got, "metadata.labels.synced", ""), "yes");
    cJSON_Delete(got);
    ck_controller_stop(c);
    ck_informer_factory_shutdown(f);
    ck_controller_free(c);
    ck_informer_factory_free(f);
    ck_cancel_free(stop);
}

/* ---- events -------------------------------------------------------------------------------- */

static cJSON *list_events(const char *ns)
{
    cJSON *list = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_client_list(client, &events, ns, NULL, &list, &err), 0);
    return list;
}

static void events_are_created_counted_and_aggregated(void **state)
{
    (void)state;
    const char *ns = "ev";
    make_namespace(ns);
    assert_int_equal(put_cm(ns, "subject", "1", true), 0);
    cJSON *obj = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_client_get(client, &cms, ns, "subject", &obj, &err), 0);
    struct ck_event_broadcaster *b = ck_event_broadcaster_new(client, NULL);
    struct ck_event_recorder *r = ck_event_recorder_new(b, "test-controller", "host-1");
    for (int i = 0; i < 3; i++)
        ck_event_recordf(r, obj, CK_EVENT_NORMAL, "Synced", "synced %s", "subject");
    ck_event_record(r, obj, "Bogus", "X", "dropped: not Normal/Warning");
    ck_event_broadcaster_flush(b);
    cJSON *list = list_events(ns);
    assert_int_equal(cJSON_GetArraySize(ck_json_get(list, "items")), 1);
    cJSON *ev = cJSON_GetArrayItem(ck_json_get(list, "items"), 0);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "subject.");
    assert_true(!strncmp(ck_json_get_string(ev, "metadata.name", ""), prefix, 8));
    assert_int_equal(ck_json_get_int64(ev, "count", 0), 3);
    assert_string_equal(ck_json_get_string(ev, "message", ""), "synced subject");
    assert_string_equal(ck_json_get_string(ev, "type", ""), "Normal");
    assert_string_equal(ck_json_get_string(ev, "involvedObject.kind", ""), "ConfigMap");
    assert_string_equal(ck_json_get_string(ev, "involvedObject.uid", "x"),
                        ck_json_get_string(obj, "metadata.uid", "y"));
    assert_string_equal(ck_json_get_string(ev, "source.component", ""), "test-controller");
    assert_string_equal(ck_json_get_string(ev, "source.host", ""), "host-1");
    assert_string_equal(ck_json_get_string(ev, "reportingComponent", ""), "test-controller");
    assert_string_equal(ck_json_get_string(ev, "reportingInstance", ""), "host-1");
    assert_non_null(ck_json_get(ev, "firstTimestamp"));
    cJSON_Delete(list);
    struct ck_event_stats st;
    ck_event_broadcaster_stats(b, &st);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.patched, 2);

    /* 10 messages differing only in text within 10 minutes: the 10th and later are combined */
    for (int i = 0; i < 12; i++)
        ck_event_recordf(r, obj, CK_EVENT_WARNING, "Failed", "attempt %d failed", i);
    ck_event_broadcaster_flush(b);
    list = list_events(ns);
    int failed = 0, combined = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, ck_json_get(list, "items"))
    {
        if (strcmp(ck_json_get_string(it, "reason", ""), "Failed"))
            continue;
        if (!strncmp(ck_json_get_string(it, "message", ""), "(combined from similar events): ",
                     32)) {
            combined++;
            assert_int_equal(ck_json_get_int64(it, "count", 0), 3); /* the 10th, 11th, 12th */
            assert_string_equal(ck_json_get_string(it, "message", ""),
                                "(combined from similar events): attempt 11 failed");
        } else {
            failed++;
        }
    }
    assert_int_equal(failed, 9);
    assert_int_equal(combined, 1);
    cJSON_Delete(list);
    ck_event_recorder_free(r);
    ck_event_broadcaster_free(b);
    cJSON_Delete(obj);
}

static void events_spam_filter_drops_beyond_the_burst(void **state)
{
    (void)state;
    const char *ns = "spam";
    make_namespace(ns);
    assert_int_equal(put_cm(ns, "noisy", "1", true), 0);
    cJSON *obj = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_client_get(client, &cms, ns, "noisy", &obj, &err), 0);
    struct ck_event_broadcaster_opts bo = {.spam_burst = 5};
    struct ck_event_broadcaster *b = ck_event_broadcaster_new(client, &bo);
    struct ck_event_recorder *r = ck_event_recorder_new(b, "spammer", NULL);
    for (int i = 0; i < 8; i++)
        ck_event_recordf(r, obj, CK_EVENT_NORMAL, "Tick", "tick");
    ck_event_broadcaster_flush(b);
    struct ck_event_stats st;
    ck_event_broadcaster_stats(b, &st);
    assert_int_equal(st.filtered, 3);
    cJSON *list = list_events(ns);
    cJSON *ev = cJSON_GetArrayItem(ck_json_get(list, "items"), 0);
    assert_int_equal(ck_json_get_int64(ev, "count", 0), 5);
    cJSON_Delete(list);
    ck_event_recorder_free(r);
    ck_event_broadcaster_free(b);
    cJSON_Delete(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cache_equals_server_after_random_changes),
        cmocka_unit_test(falls_behind_gets_410_relists_and_reports_tombstones),
        cmocka_unit_test(recovers_after_apiserver_restarts),
        cmocka_unit_test(periodic_resync_replays_the_cache),
        cmocka_unit_test(controller_syncs_keys_and_retries_failures),
        cmocka_unit_test(events_are_created_counted_and_aggregated),
        cmocka_unit_test(events_spam_filter_drops_beyond_the_burst),
    };
    return cmocka_run_group_tests_name("informer", tests, setup, teardown);
}
