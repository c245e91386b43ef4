/* Unit tests for kubelet/env.c: a container's environment as upstream's kubelet builds it
 * (envFrom with prefixes, env in order with $(VAR) expansion, valueFrom sources, service link
 * variables) and the CreateContainerConfigError messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "json.h"
#include "kubelet/env.h"
#include "mem.h"

static cJSON *parse(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *j = ck_json_parse(s, strlen(s), &err);
    if (!j)
        fail_msg("bad JSON in test: %s", err.message);
    return j;
}

static int fake_get(void *ctx, const char *resource, const char *ns, const char *name, cJSON **out,
                    struct ck_error *err)
{
    (void)ctx;
    if (!strcmp(resource, "configmaps") && !strcmp(ns, "ns") && !strcmp(name, "cfg")) {
        *out = parse("{\"data\":{\"MODE\":\"fast\",\"LEVEL\":\"3\",\"bad=key\":\"x\"}}");
        return 0;
    }
    if (!strcmp(resource, "secrets") && !strcmp(ns, "ns") && !strcmp(name, "sec")) {
        *out = parse("{\"data\":{\"TOKEN\":\"czNjcjN0\"}}");
        return 0;
    }
    return ck_error_set(err, 404, CK_REASON_NOT_FOUND, "not found");
}

static const char *SERVICES = "[{\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\"},"
                              "\"spec\":{\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"name\":"
                              "\"https\",\"port\":443,\"protocol\":\"TCP\"}]}},"
                              "{\"metadata\":{\"name\":\"my-db\",\"namespace\":\"ns\"},"
                              "\"spec\":{\"clusterIP\":\"10.96.7.7\",\"ports\":[{\"port\":5432},{"
                              "\"name\":\"metrics\",\"port\":9187,\"protocol\":\"UDP\"}]}},"
                              "{\"metadata\":{\"name\":\"headless\",\"namespace\":\"ns\"},\"spec\":"
                              "{\"clusterIP\":\"None\",\"ports\":[{\"port\":1}]}},"
                              "{\"metadata\":{\"name\":\"elsewhere\",\"namespace\":\"other\"},"
                              "\"spec\":{\"clusterIP\":\"10.96.9.9\",\"ports\":[{\"port\":80}]}}]";

static void env_order_sources_and_expansion(void **state)
{
    (void)state;
    cJSON *pod = parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\"},"
                       "\"spec\":{\"nodeName\":\"node-1\",\"containers\":[{\"name\":\"c\","
                       "\"resources\":{\"limits\":{\"memory\":\"32Mi\"}}}]}}");
    cJSON *c =
        parse("{\"name\":\"c\",\"resources\":{\"limits\":{\"memory\":\"32Mi\"}},"
              "\"envFrom\":[{\"configMapRef\":{\"name\":\"cfg\"},\"prefix\":\"CFG_\"},"
              "{\"secretRef\":{\"name\":\"sec\"}}],"
              "\"env\":[{\"name\":\"A\",\"value\":\"one\"},"
              "{\"name\":\"B\",\"value\":\"$(A)-two-$(NOPE)-$$(A)\"},"
              "{\"name\":\"CFG_MODE\",\"value\":\"override\"},"
              "{\"name\":\"POD\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
              "{\"name\":\"NODE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.nodeName\"}}},"
              "{\"name\":\"IP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIP\"}}},"
              "{\"name\":\"MEM\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits."
              "memory\",\"divisor\":\"1Mi\"}}},"
              "{\"name\":\"LVL\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\",\"key\":"
              "\"LEVEL\"}}},"
              "{\"name\":\"SECRET\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"sec\",\"key\":"
              "\"TOKEN\"}}},"
              "{\"name\":\"OPT\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"nope\",\"key\":\"x\","
              "\"optional\":true}}},"
              "{\"name\":\"HOST\",\"value\":\"$(KUBERNETES_SERVICE_HOST)\"}]}");
    const char *ips[] = {"10.244.1.9"};
    struct kl_downward_env d = {.pod_ips = ips, .n_pod_ips = 1};
    cJSON *svcs = parse(SERVICES);
    struct kl_env env;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_container_env(pod, c, &d, fake_get, NULL, svcs, &env, &err), 0);
    static const char *const want[][2] = {
        {"CFG_MODE", "override"},
        {"CFG_LEVEL", "3"},
        {"TOKEN", "s3cr3t"},
        {"A", "one"},
        {"B", "one-two-$(NOPE)-$(A)"},
        {"POD", "p"},
        {"NODE", "node-1"},
        {"IP", "10.244.1.9"},
        {"MEM", "32"},
        {"LVL", "3"},
        {"SECRET", "s3cr3t"},
        {"HOST", "10.96.0.1"},
        /* service links of the pod's namespace and the master service */
        {"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
        {"KUBERNETES_SERVICE_PORT", "443"},
        {"KUBERNETES_SERVICE_PORT_HTTPS", "443"},
        {"KUBERNETES_PORT", "tcp://10.96.0.1:443"},
        {"KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"},
        {"KUBERNETES_PORT_443_TCP_PROTO", "tcp"},
        {"KUBERNETES_PORT_443_TCP_PORT", "443"},
        {"KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"},
        {"MY_DB_SERVICE_HOST", "10.96.7.7"},
        {"MY_DB_SERVICE_PORT", "5432"},
        {"MY_DB_SERVICE_PORT_METRICS", "9187"},
        {"MY_DB_PORT", "tcp://10.96.7.7:5432"},
        {"MY_DB_PORT_9187_UDP", "udp://10.96.7.7:9187"},
        {"MY_DB_PORT_9187_UDP_PROTO", "udp"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *v = kl_env_get(&env, want[i][0]);
        if (!v || strcmp(v, want[i][1]) != 0)
            fail_msg("%s=%s, want %s", want[i][0], v ? v : "<unset>", want[i][1]);
    }
    /* envFrom first, a later definition replaces in place */
    assert_string_equal(env.v[0], "CFG_MODE=override");
    assert_null(kl_env_get(&env, "OPT"));
    assert_null(kl_env_get(&env, "CFG_bad=key"));
    assert_null(kl_env_get(&env, "HEADLESS_SERVICE_HOST"));
    assert_null(kl_env_get(&env, "ELSEWHERE_SERVICE_HOST"));
    kl_env_free(&env);
    cJSON_Delete(pod);

    /* enableServiceLinks: false keeps only the master service */
    pod = parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},"
                "\"spec\":{\"enableServiceLinks\":false,\"containers\":[{\"name\":\"c\"}]}}");
    cJSON *plain = parse("{\"name\":\"c\"}");
    assert_int_equal(kl_container_env(pod, plain, &d, fake_get, NULL, svcs, &env, &err), 0);
    assert_non_null(kl_env_get(&env, "KUBERNETES_SERVICE_HOST"));
    assert_null(kl_env_get(&env, "MY_DB_SERVICE_HOST"));
    kl_env_free(&env);
    cJSON_Delete(plain);
    cJSON_Delete(pod);
    cJSON_Delete(svcs);
    cJSON_Delete(c);
}

static void missing_references_fail_like_upstream(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"gone\",\"key\":"
         "\"k\"}}}]",
         "configmap \"gone\" not found"},
        {"\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\",\"key\":"
         "\"k\"}}}]",
         "couldn't find key k in ConfigMap ns/cfg"},
        {"\"env\":[{\"name\":\"X\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"gone\",\"key\":"
         "\"k\"}}}]",
         "secret \"gone\" not found"},
        {"\"env\":[{\"name\":\"X\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"sec\",\"key\":\"k\"}"
         "}}]",
         "couldn't find key k in Secret ns/sec"},
        {"\"envFrom\":[{\"configMapRef\":{\"name\":\"gone\"}}]", "configmap \"gone\" not found"},
        {"\"env\":[{\"name\":\"X\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.bogus\"}}}]",
         "unsupported fieldPath: spec.bogus"},
    };
    cJSON *pod = parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},\"spec\":{}}");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CK_AUTOFREE char *j = ck_xasprintf("{\"name\":\"c\",%s}", cases[i][0]);
        cJSON *c = parse(j);
        struct kl_env env;
        struct ck_error err = CK_ERROR_INIT;
        assert_true(kl_container_env(pod, c, NULL, fake_get, NULL, NULL, &env, &err) < 0);
        if (strcmp(err.message, cases[i][1]) != 0)
            fail_msg("case %zu: \"%s\"", i, err.message);
        assert_int_equal(env.n, 0);
        ck_error_clear(&err);
        cJSON_Delete(c);
    }
    cJSON_Delete(pod);
}

static void set_replaces_in_place(void **state)
{
    (void)state;
    struct kl_env env = {0};
    kl_env_set(&env, "A", "1");
    kl_env_set(&env, "AB", "2");
    kl_env_set(&env, "A", "3");
    assert_int_equal(env.n, 2);
    assert_string_equal(env.v[0], "A=3");
    assert_string_equal(kl_env_get(&env, "AB"), "2");
    assert_null(kl_env_get(&env, "B"));
    kl_env_free(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(env_order_sources_and_expansion),
        cmocka_unit_test(missing_references_fail_like_upstream),
        cmocka_unit_test(set_replaces_in_place),
    };
    return cmocka_run_group_tests_name("kubelet env", tests, NULL, NULL);
}
