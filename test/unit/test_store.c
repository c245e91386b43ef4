/* Unit tests for store.c: upstream's object keys, the indexed store (replace, delete,
 * re-indexing when an object moves between index values, indexes added late), shared
 * immutable objects that outlive their removal, and concurrent readers and writers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "store.h"

static struct ck_obj *pod(const char *ns, const char *name, const char *node, const char *rv)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\","
             "\"resourceVersion\":\"%s\"},\"spec\":{%s%s%s}}",
             ns, name, rv, node ? "\"nodeName\":\"" : "", node ? node : "", node ? "\"" : "");
    return ck_obj_new(ck_json_parse(buf, strlen(buf), NULL));
}

static void keys_follow_upstream(void **state)
{
    (void)state;
    struct ck_obj *p = pod("ns1", "web", NULL, "7");
    assert_string_equal(p->key, "ns1/web");
    assert_string_equal(p->rv, "7");
    ck_obj_unref(p);
    cJSON *node = ck_json_parse("{\"metadata\":{\"name\":\"n1\"}}", 26, NULL);
    char *k = ck_object_key(node);
    assert_string_equal(k, "n1"); /* cluster-scoped */
    free(k);
    cJSON_Delete(node);
    cJSON *anon = cJSON_CreateObject();
    assert_null(ck_object_key(anon));
    cJSON_Delete(anon);
    static const struct {
        const char *key, *ns, *name;
        int rc;
    } cases[] = {
        {"ns/name", "ns", "name", 0},
        {"name", "", "name", 0},
        {"/name", "", "name", 0},
        {"a/b/c", NULL, NULL, -EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *ns, *name;
        assert_int_equal(ck_split_key(cases[i].key, &ns, &name), cases[i].rc);
        if (cases[i].rc == 0) {
            assert_string_equal(ns, cases[i].ns);
            assert_string_equal(name, cases[i].name);
        }
        free(ns);
        free(name);
    }
}

static size_t count_index(struct ck_store *s, const char *index, const char *value)
{
    struct ck_obj_list l;
    assert_int_equal(ck_store_by_index(s, index, value, &l), 0);
    size_t n = l.n;
    ck_obj_list_free(&l);
    return n;
}

static void put_replace_delete_and_indexes(void **state)
{
    (void)state;
    struct ck_store *s = ck_store_new();
    assert_int_equal(ck_store_add_index(s, "namespace", ck_index_namespace), 0);
    assert_int_equal(ck_store_add_index(s, "namespace", ck_index_namespace), -EEXIST);
    struct ck_obj *a = pod("ns1", "a", "node-1", "1");
    struct ck_obj *b = pod("ns1", "b", "node-1", "2");
    struct ck_obj *c = pod("ns2", "c", NULL, "3");
    assert_null(ck_store_put(s, a));
    assert_null(ck_store_put(s, b));
    assert_null(ck_store_put(s, c));
    assert_int_equal(ck_store_len(s), 3);
    /* an index added later covers what is already stored */
    assert_int_equal(ck_store_add_index(s, "node", ck_index_node_name), 0);
    assert_int_equal(count_index(s, "node", "node-1"), 2);
    assert_int_equal(count_index(s, "namespace", "ns1"), 2);
    assert_int_equal(count_index(s, "namespace", "nope"), 0);
    struct ck_obj_list l;
    assert_int_equal(ck_store_by_index(s, "unknown", "x", &l), -ENOENT);
    /* b moves to node-2: the old index entry goes away */
    struct ck_obj *b2 = pod("ns1", "b", "node-2", "4");
    struct ck_obj *old = ck_store_put(s, b2);
    assert_ptr_equal(old, b);
    ck_obj_unref(old);
    assert_int_equal(count_index(s, "node", "node-1"), 1);
    assert_int_equal(count_index(s, "node", "node-2"), 1);
    struct ck_strlist keys = CK_STRLIST_INIT;
    assert_int_equal(ck_store_index_keys(s, "node", "node-2", &keys), 0);
    assert_int_equal(keys.n, 1);
    assert_string_equal(keys.v[0], "ns1/b");
    ck_strlist_free(&keys);
    /* get returns the newest version, as a new reference */
    struct ck_obj *got = ck_store_get(s, "ns1/b");
    assert_string_equal(got->rv, "4");
    ck_obj_unref(got);
    /* a copy is private */
    cJSON *copy = ck_store_get_copy(s, "ns1/b");
    ck_json_set_string(copy, "spec.nodeName", "changed");
    got = ck_store_get(s, "ns1/b");
    assert_string_equal(ck_json_get_string(got->json, "spec.nodeName", ""), "node-2");
    ck_obj_unref(got);
    cJSON_Delete(copy);
    /* delete: the caller's reference keeps the object alive after removal */
    struct ck_obj *gone = ck_store_delete(s, "ns1/a");
    assert_ptr_equal(gone, a);
    assert_null(ck_store_delete(s, "ns1/a"));
    assert_null(ck_store_get(s, "ns1/a"));
    assert_int_equal(count_index(s, "node", "node-1"), 0);
    ck_obj_unref(gone);
    assert_string_equal(ck_json_get_string(a->json, "metadata.name", ""), "a"); /* still ours */
    ck_store_list_namespace(s, "ns2", &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0]->key, "ns2/c");
    ck_obj_list_free(&l);
    ck_store_list(s, &l);
    assert_int_equal(l.n, 2);
    ck_obj_list_free(&l);
    ck_store_free(s);
    /* the store's references are gone; ours remain valid */
    assert_string_equal(c->key, "ns2/c");
    ck_obj_unref(a);
    ck_obj_unref(b);
    ck_obj_unref(b2);
    ck_obj_unref(c);
}

static void namespace_listing_without_index(void **state)
{
    (void)state;
    struct ck_store *s = ck_store_new();
    struct ck_obj *a = pod("x", "a", NULL, "1"), *b = pod("y", "b", NULL, "1");
    ck_store_put(s, a);
    ck_store_put(s, b);
    struct ck_obj_list l;
    ck_store_list_namespace(s, "y", &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0]->key, "y/b");
    ck_obj_list_free(&l);
    ck_obj_unref(a);
    ck_obj_unref(b);
    ck_store_free(s);
}

static struct ck_store *shared;

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char name[32], node[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "p%d", i % 50);
        snprintf(node, sizeof(node), "n%d", (i + id) % 5);
        struct ck_obj *o = pod("ns", name, node, "1");
        ck_obj_unref(ck_store_put(shared, o));
        ck_obj_unref(o);
        if (i % 7 == 0) {
            char key[48];
            snprintf(key, sizeof(key), "ns/%s", name);
            ck_obj_unref(ck_store_delete(shared, key));
        }
    }
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        struct ck_obj_list l;
        ck_store_by_index(shared, "node", "n1", &l);
        for (size_t j = 0; j < l.n; j++) /* every object we hold is intact and on n1 */
            assert_string_equal(ck_json_get_string(l.items[j]->json, "spec.nodeName", ""), "n1");
        ck_obj_list_free(&l);
    }
    return NULL;
}

static void concurrent_readers_and_writers(void **state)
{
    (void)state;
    shared = ck_store_new();
    ck_store_add_index(shared, "node", ck_index_node_name);
    pthread_t t[4];
    pthread_create(&t[0], NULL, writer, (void *)0);
    pthread_create(&t[1], NULL, writer, (void *)1);
    pthread_create(&t[2], NULL, reader, NULL);
    pthread_create(&t[3], NULL, reader, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    /* every object is indexed under exactly its own node */
    size_t total = 0;
    for (int n = 0; n < 5; n++) {
        char node[16];
        snprintf(node, sizeof(node), "n%d", n);
        total += count_index(shared, "node", node);
    }
    assert_int_equal(total, ck_store_len(shared));
    ck_store_free(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_follow_upstream),
        cmocka_unit_test(put_replace_delete_and_indexes),
        cmocka_unit_test(namespace_listing_without_index),
        cmocka_unit_test(concurrent_readers_and_writers),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
