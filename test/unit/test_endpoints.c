/* test_endpoints.c - the Endpoints controller's capacity rule (upstream's truncateEndpoints):
 * at most 1000 addresses per Endpoints, ready ones first, shared among subsets by proportion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "controller-manager/endpoints.h"
#include "mem.h"

/* A subset with `ready` addresses and `not_ready` notReadyAddresses (10.<tag>.x.y) on port. */
static cJSON *subset(int tag, int ready, int not_ready, int port)
{
    cJSON *s = cJSON_CreateObject();
    const char *keys[2] = {"addresses", "notReadyAddresses"};
    int counts[2] = {ready, not_ready};
    for (int k = 0; k < 2; k++) {
        if (!counts[k])
            continue;
        cJSON *arr = cJSON_AddArrayToObject(s, keys[k]);
        for (int i = 0; i < counts[k]; i++) {
            char ip[32];
            snprintf(ip, sizeof(ip), "10.%d.%d.%d", tag * 2 + k, i / 250, i % 250 + 1);
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "ip", ip);
            cJSON_AddItemToArray(arr, a);
        }
    }
    cJSON *ports = cJSON_AddArrayToObject(s, "ports");
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "port", port);
    cJSON_AddItemToArray(ports, p);
    return s;
}

static int count(const cJSON *subsets, int i, const char *key)
{
    return cJSON_GetArraySize(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(subsets, i), key));
}

static void truncates_as_upstream(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        int n;
        int ready[3], not_ready[3];
        bool truncated;
        int want_ready[3], want_not_ready[3];
    } cases[] = {
        {"within capacity: untouched", 2, {500, 300}, {100, 100}, false, {500, 300}, {100, 100}},
        {"exactly at capacity: untouched", 1, {1000}, {0}, false, {1000}, {0}},
        /* more ready than capacity: ready shared by proportion (rounded up, the last gets
         * what is left), every not-ready address dropped */
        {"ready over capacity", 2, {600, 600}, {5, 0}, true, {500, 500}, {0, 0}},
        {"ready over capacity, uneven", 3, {700, 400, 101}, {0, 3, 0}, true, {583, 334, 83},
         {0, 0, 0}},
        /* ready fit: every ready kept, the not-ready ones share the rest */
        {"not-ready share the rest", 2, {800, 0}, {200, 100}, true, {800, 0}, {134, 66}},
        {"one ready too many", 1, {1001}, {0}, true, {1000}, {0}},
    };
    for (size_t c = 0; c < CK_ARRAY_SIZE(cases); c++) {
        cJSON *subsets = cJSON_CreateArray();
        for (int i = 0; i < cases[c].n; i++)
            cJSON_AddItemToArray(subsets,
                                 subset(i, cases[c].ready[i], cases[c].not_ready[i], 80 + i));
        print_message("# %s\n", cases[c].what);
        assert_int_equal(ep_truncate_subsets(subsets, EP_MAX_CAPACITY), cases[c].truncated);
        int total = 0;
        for (int i = 0; i < cases[c].n; i++) {
            assert_int_equal(count(subsets, i, "addresses"), cases[c].want_ready[i]);
            assert_int_equal(count(subsets, i, "notReadyAddresses"), cases[c].want_not_ready[i]);
            total += cases[c].want_ready[i] + cases[c].want_not_ready[i];
            /* the first addresses are the ones kept, and the ports stay */
            if (cases[c].want_ready[i])
                assert_non_null(cJSON_GetArrayItem(
                    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(subsets, i), "addresses"),
                    0));
            assert_int_equal(count(subsets, i, "ports"), 1);
        }
        if (cases[c].truncated)
            assert_int_equal(total, EP_MAX_CAPACITY);
        cJSON_Delete(subsets);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(truncates_as_upstream),
    };
    return cmocka_run_group_tests_name("endpoints", tests, NULL, NULL);
}
