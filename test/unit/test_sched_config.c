/* test_sched_config.c - the KubeSchedulerConfiguration fields kube-scheduler honours from
 * --config: percentageOfNodesToScore (global and the default profile's), pod backoff seconds,
 * upstream's defaults and validation messages, YAML and JSON files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scheduler/config.h"
#include "yaml.h"

#define HDR "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"

static void test_from_yaml(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        int rc;
        int pct;
        int64_t initial_s, max_s;
        const char *msg; /* error message when rc < 0 */
    } cases[] = {
        {HDR, 0, 0, 1, 10, NULL},
        {HDR "percentageOfNodesToScore: 50\n", 0, 50, 1, 10, NULL},
        {HDR "percentageOfNodesToScore: 0\n", 0, 0, 1, 10, NULL},
        {HDR "percentageOfNodesToScore: 100\n", 0, 100, 1, 10, NULL},
        {HDR "percentageOfNodesToScore: 20\nprofiles:\n- schedulerName: default-scheduler\n"
             "  percentageOfNodesToScore: 70\n",
         0, 70, 1, 10, NULL},
        {HDR "percentageOfNodesToScore: 20\nprofiles:\n- schedulerName: other\n"
             "  percentageOfNodesToScore: 70\n",
         0, 20, 1, 10, NULL},
        {HDR "profiles:\n- percentageOfNodesToScore: 30\n", 0, 30, 1, 10, NULL},
        {HDR "podInitialBackoffSeconds: 2\npodMaxBackoffSeconds: 60\n", 0, 0, 2, 60, NULL},
        {HDR "podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 5\n", 0, 0, 5, 5, NULL},
        {HDR "leaderElection:\n  leaderElect: false\nclientConnection:\n  qps: 10\n", 0, 0, 1, 10,
         NULL},
        {HDR "percentageOfNodesToScore: 101\n", -EINVAL, 0, 1, 10,
         "percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]"},
        {HDR "percentageOfNodesToScore: -1\n", -EINVAL, 0, 1, 10,
         "percentageOfNodesToScore: Invalid value: -1: not in valid range [0-100]"},
        {HDR "profiles:\n- percentageOfNodesToScore: 200\n", -EINVAL, 0, 1, 10,
         "profiles[0].percentageOfNodesToScore: Invalid value: 200: not in valid range [0-100]"},
        {HDR "podInitialBackoffSeconds: 0\n", -EINVAL, 0, 1, 10,
         "podInitialBackoffSeconds: Invalid value: 0: must be greater than 0"},
        {HDR "podInitialBackoffSeconds: 20\n", -EINVAL, 0, 1, 10,
         "podMaxBackoffSeconds: Invalid value: 10: must be greater than or equal to "
         "PodInitialBackoffSeconds"},
        {HDR "percentageOfNodesToScore: 101\npodInitialBackoffSeconds: -1\n", -EINVAL, 0, 1, 10,
         "percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100], "
         "podInitialBackoffSeconds: Invalid value: -1: must be greater than 0"},
        {HDR "percentageOfNodesToScore: fifty\n", -EINVAL, 0, 1, 10,
         "percentageOfNodesToScore: Invalid value: must be an integer"},
        {HDR "percentageOfNodesToScore: 2.5\n", -EINVAL, 0, 1, 10,
         "percentageOfNodesToScore: Invalid value: must be an integer"},
        {"apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n",
         -EINVAL, 0, 1, 10,
         "no kind \"KubeSchedulerConfiguration\" is registered for version "
         "\"kubescheduler.config.k8s.io/v1beta3\""},
        {"[1, 2]\n", -EINVAL, 0, 1, 10, "KubeSchedulerConfiguration: not an object"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *doc = NULL;
        assert_int_equal(ck_yaml_parse(cases[i].yaml, strlen(cases[i].yaml), 0, &doc, NULL), 0);
        struct sched_config c;
        struct ck_error err = CK_ERROR_INIT;
        int rc = sched_config_from_json(doc, &c, &err);
        cJSON_Delete(doc);
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d want %d (%s)", i, rc, cases[i].rc, err.message);
        if (rc < 0)
            assert_string_equal(err.message, cases[i].msg);
        /* on error the defaults stay */
        assert_int_equal(c.percentage_of_nodes_to_score, cases[i].pct);
        assert_int_equal(c.initial_backoff_ns, cases[i].initial_s * 1000000000LL);
        assert_int_equal(c.max_backoff_ns, cases[i].max_s * 1000000000LL);
    }
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/ckube-schedcfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char json[] = "{\"apiVersion\":\"kubescheduler.config.k8s.io/v1\","
                               "\"kind\":\"KubeSchedulerConfiguration\","
                               "\"percentageOfNodesToScore\":42}";
    assert_int_equal(write(fd, json, sizeof(json) - 1), (ssize_t)(sizeof(json) - 1));
    close(fd);
    struct sched_config c;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(sched_config_load(path, &c, &err), 0);
    assert_int_equal(c.percentage_of_nodes_to_score, 42);
    unlink(path);
    assert_int_equal(sched_config_load(path, &c, &err), -EINVAL);
    assert_non_null(strstr(err.message, "failed to read config file"));
    assert_int_equal(sched_config_load(NULL, &c, NULL), -EINVAL);
    assert_int_equal(c.percentage_of_nodes_to_score, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_yaml),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests_name("sched_config", tests, NULL, NULL);
}
