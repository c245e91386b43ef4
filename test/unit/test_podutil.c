/* test_podutil.c - finding a pod's containers the way upstream's podutil walks them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <string.h>

#include "json.h"
#include "podutil.h"

static void containers_are_found_in_every_list(void **state)
{
    (void)state;
    static const char pod_json[] =
        "{\"spec\":{\"initContainers\":[{\"name\":\"init\",\"image\":\"a\"}],"
        "\"containers\":[{\"name\":\"app\",\"image\":\"b\"},{\"name\":\"side\",\"image\":\"c\"}],"
        "\"ephemeralContainers\":[{\"name\":\"debug\",\"image\":\"d\"}]}}";
    cJSON *pod = ck_json_parse(pod_json, strlen(pod_json), NULL);
    assert_non_null(pod);
    static const struct {
        const char *name, *image; /* NULL image: not found */
    } cases[] = {
        {"init", "a"}, {"app", "b"}, {"side", "c"}, {"debug", "d"}, {"nope", NULL}, {"", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const cJSON *c = ck_pod_container(pod, cases[i].name);
        if (!cases[i].image) {
            assert_null(c);
            continue;
        }
        assert_non_null(c);
        assert_string_equal(ck_json_get_string(c, "image", ""), cases[i].image);
    }
    /* VisitContainers' order */
    assert_string_equal(ck_pod_container_lists[0], "spec.initContainers");
    assert_string_equal(ck_pod_container_lists[1], "spec.containers");
    assert_string_equal(ck_pod_container_lists[2], "spec.ephemeralContainers");
    /* a pod without a spec, or not an object, has none */
    assert_null(ck_pod_container(NULL, "app"));
    cJSON *empty = cJSON_CreateObject();
    assert_null(ck_pod_container(empty, "app"));
    cJSON_Delete(empty);
    cJSON_Delete(pod);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(containers_are_found_in_every_list),
    };
    return cmocka_run_group_tests_name("podutil", tests, NULL, NULL);
}
