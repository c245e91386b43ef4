/* Integration tests of store_create_guarded (apiserver/store.c) against a REAL single-member
 * etcd: a create admitted on a cached namespace is written only while the namespace's stored
 * revision is still the cached one, in the same transaction. A moved or missing guard gives
 * -ESTALE with nothing written and no Status (the caller re-admits on fresh data); an
 * existing object with a good guard is 409 AlreadyExists as for a plain create.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/registry/resources.h"
#include "apiserver/storage/etcd.h"
#include "apiserver/store.h"
#include "json.h"
#include "mem.h"
#include "test/lib/etcd_cluster.h"

static struct ck_etcd_cluster *cluster;
static struct etcd_client *client;
static struct store st = {.prefix = "/ckgs"};
static const struct resource *cms, *nss;

static int setup(void **state)
{
    (void)state;
    if (ck_etcd_cluster_start(NULL, &cluster) < 0)
        return -1;
    struct etcd_config cfg = {.endpoints = ck_etcd_cluster_endpoints(cluster)};
    if (etcd_client_new(&cfg, &client, NULL) < 0)
        return -1;
    st.etcd = client;
    cms = resource_find("", "v1", "configmaps");
    nss = resource_find("", "v1", "namespaces");
    return cms && nss ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    etcd_client_free(client);
    ck_etcd_cluster_destroy(cluster);
    return 0;
}

static cJSON *obj(const char *kind, const char *ns, const char *name, const char *data)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "{\"apiVersion\":\"v1\",\"kind\":\"%s\",\"metadata\":{\"name\":\"%s\"%s%s%s},"
             "\"data\":{\"v\":\"%s\"}}",
             kind, name, ns ? ",\"namespace\":\"" : "", ns ? ns : "", ns ? "\"" : "", data);
    return ck_json_parse(buf, strlen(buf), NULL);
}

/* Creates (or re-creates) namespace name and returns its revision. */
static int64_t make_ns(const char *name)
{
    cJSON *o = obj("Namespace", NULL, name, "");
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(store_create(&st, nss, o, &err), 0);
    int64_t rv = atoll(ck_json_get_string(o, "metadata.resourceVersion", "0"));
    cJSON_Delete(o);
    assert_true(rv > 0);
    return rv;
}

/* The stored ConfigMap's data.v, or NULL when it does not exist (caller frees). */
static char *stored_v(const char *ns, const char *name)
{
    cJSON *o = NULL;
    if (store_get(&st, cms, ns, name, &o, NULL) < 0)
        return NULL;
    char *v = ck_xstrdup(ck_json_get_string(o, "data.v", ""));
    cJSON_Delete(o);
    return v;
}

static void guarded_create_follows_the_namespace_revision(void **state)
{
    (void)state;
    int64_t ns_rv = make_ns("g1");
    int64_t moved_rv = make_ns("g2");
    /* g2 moves on: an update through a delete and a create gives it a newer revision */
    assert_int_equal(store_delete(&st, nss, "", "g2", 0, NULL, NULL), 0);
    int64_t g2_now = make_ns("g2");
    assert_true(g2_now > moved_rv);
    /* a pre-existing object in g1 */
    cJSON *pre = obj("ConfigMap", "g1", "exists", "old");
    assert_int_equal(store_create(&st, cms, pre, NULL), 0);
    cJSON_Delete(pre);

    static const struct {
        const char *ns, *name, *guard_ns; /* guard_ns NULL: no guard */
        int which_rv;                     /* 0: g1's, 1: g2's stale one, 2: g2's current */
        int rc, code;                     /* expected return and Status code */
        const char *stored;               /* data.v stored afterwards, NULL: nothing */
    } cases[] = {
        {"g1", "fresh", "g1", 0, 0, 0, "new"},          /* guard holds: written */
        {"g2", "stale", "g2", 1, -ESTALE, 0, NULL},     /* guard moved: nothing written */
        {"g2", "current", "g2", 2, 0, 0, "new"},        /* its current revision holds */
        {"gone", "nons", "gone", 0, -ESTALE, 0, NULL},  /* guard object missing */
        {"g1", "exists", "g1", 0, -EEXIST, 409, "old"}, /* exists: 409, left alone */
        {"g2", "stale2", "g2", 1, -ESTALE, 0, NULL},
        {"g1", "exists", NULL, 0, -EEXIST, 409, "old"}, /* unguarded: plain create */
        {"g1", "plain", NULL, 0, 0, 0, "new"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t rv = cases[i].which_rv == 0 ? ns_rv : cases[i].which_rv == 1 ? moved_rv : g2_now;
        cJSON *o = obj("ConfigMap", cases[i].ns, cases[i].name, "new");
        struct ck_error err = CK_ERROR_INIT;
        int rc = store_create_guarded(&st, cms, o, cases[i].guard_ns ? nss : NULL, "",
                                      cases[i].guard_ns, rv, &err);
        assert_int_equal(rc, cases[i].rc);
        assert_int_equal(err.code, cases[i].code);
        if (cases[i].code == 409)
            assert_non_null(strstr(err.message, "already exists"));
        if (rc == 0) /* the object carries the revision it was stored at */
            assert_true(atoll(ck_json_get_string(o, "metadata.resourceVersion", "0")) > rv);
        char *v = stored_v(cases[i].ns, cases[i].name);
        if (cases[i].stored) {
            assert_non_null(v);
            assert_string_equal(v, cases[i].stored);
        } else {
            assert_null(v);
        }
        free(v);
        ck_error_clear(&err);
        cJSON_Delete(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guarded_create_follows_the_namespace_revision),
    };
    return cmocka_run_group_tests_name("store_guarded", tests, setup, teardown);
}
