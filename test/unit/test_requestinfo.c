/* Unit tests for apiserver/requestinfo.c: URL -> group, version, namespace, resource, name,
 * subresource and verb, as upstream's RequestInfoFactory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "apiserver/requestinfo.h"

struct tcase {
    const char *method, *path;
    int watch;
    int is_resource;
    const char *verb, *group, *version, *ns, *resource, *name, *sub, *subpath;
};

static const struct tcase CASES[] = {
    {"GET", "/api/v1/namespaces/default/pods", 0, 1, "list", "", "v1", "default", "pods", "", "", ""},
    {"GET", "/api/v1/namespaces/default/pods/web", 0, 1, "get", "", "v1", "default", "pods", "web", "", ""},
    {"PUT", "/api/v1/namespaces/default/pods/web/status", 0, 1, "update", "", "v1", "default", "pods", "web", "status", ""},
    {"POST", "/api/v1/namespaces/default/pods/web/binding", 0, 1, "create", "", "v1", "default", "pods", "web", "binding", ""},
    {"GET", "/api/v1/pods", 0, 1, "list", "", "v1", "", "pods", "", "", ""},
    {"GET", "/api/v1/pods", 1, 1, "watch", "", "v1", "", "pods", "", "", ""},
    {"GET", "/api/v1/watch/namespaces/ns1/pods", 0, 1, "watch", "", "v1", "ns1", "pods", "", "", ""},
    {"GET", "/api/v1/watch/namespaces/ns1/pods/p", 0, 1, "watch", "", "v1", "ns1", "pods", "p", "", ""},
    {"GET", "/apis/apps/v1/deployments", 0, 1, "list", "apps", "v1", "", "deployments", "", "", ""},
    {"PATCH", "/apis/apps/v1/namespaces/x/deployments/d/scale", 0, 1, "patch", "apps", "v1", "x", "deployments", "d", "scale", ""},
    {"DELETE", "/apis/batch/v1/namespaces/x/jobs", 0, 1, "deletecollection", "batch", "v1", "x", "jobs", "", "", ""},
    {"DELETE", "/apis/batch/v1/namespaces/x/jobs/j", 0, 1, "delete", "batch", "v1", "x", "jobs", "j", "", ""},
    /* the namespaces resource itself */
    {"GET", "/api/v1/namespaces", 0, 1, "list", "", "v1", "", "namespaces", "", "", ""},
    {"GET", "/api/v1/namespaces/kube-system", 0, 1, "get", "", "v1", "", "namespaces", "kube-system", "", ""},
    {"PUT", "/api/v1/namespaces/foo/finalize", 0, 1, "update", "", "v1", "", "namespaces", "foo", "finalize", ""},
    {"PUT", "/api/v1/namespaces/foo/status", 0, 1, "update", "", "v1", "", "namespaces", "foo", "status", ""},
    {"DELETE", "/api/v1/namespaces/foo", 0, 1, "delete", "", "v1", "", "namespaces", "foo", "", ""},
    /* cluster-scoped with subresource and proxy sub-path */
    {"GET", "/api/v1/nodes/n1/proxy/metrics/cadvisor", 0, 1, "get", "", "v1", "", "nodes", "n1", "proxy", "metrics/cadvisor"},
    {"GET", "/api/v1/nodes/n1", 1, 1, "get", "", "v1", "", "nodes", "n1", "", ""},
    /* discovery and non-resource paths */
    {"GET", "/api", 0, 0, "", "", "", "", "", "", "", ""},
    {"GET", "/api/v1", 0, 0, "", "", "v1", "", "", "", "", ""},
    {"GET", "/apis", 0, 0, "", "", "", "", "", "", "", ""},
    {"GET", "/apis/apps", 0, 0, "", "", "", "", "", "", "", ""},
    {"GET", "/apis/apps/v1", 0, 0, "", "apps", "v1", "", "", "", "", ""},
    {"GET", "/healthz", 0, 0, "", "", "", "", "", "", "", ""},
    {"GET", "/version", 0, 0, "", "", "", "", "", "", "", ""},
};

static void parses_upstream_url_shapes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        const struct tcase *c = &CASES[i];
        struct request_info ri;
        assert_int_equal(request_info_parse(c->method, c->path, c->watch, &ri), 0);
        if (ri.is_resource != c->is_resource)
            fail_msg("%s %s: is_resource %d", c->method, c->path, ri.is_resource);
        if (!c->is_resource) {
            assert_string_equal(ri.group, c->group);
            assert_string_equal(ri.version, c->version);
            continue;
        }
        if (strcmp(ri.verb, c->verb))
            fail_msg("%s %s: verb %s, want %s", c->method, c->path, ri.verb, c->verb);
        assert_string_equal(ri.group, c->group);
        assert_string_equal(ri.version, c->version);
        assert_string_equal(ri.namespace_, c->ns);
        assert_string_equal(ri.resource, c->resource);
        assert_string_equal(ri.name, c->name);
        assert_string_equal(ri.subresource, c->sub);
        assert_string_equal(ri.subpath, c->subpath);
    }
}

static void rejects_overlong_segments(void **state)
{
    (void)state;
    char path[600] = "/api/v1/namespaces/";
    memset(path + strlen(path), 'a', 300);
    struct request_info ri;
    assert_int_equal(request_info_parse("GET", path, 0, &ri), -22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_upstream_url_shapes),
        cmocka_unit_test(rejects_overlong_segments),
    };
    return cmocka_run_group_tests_name("requestinfo", tests, NULL, NULL);
}
