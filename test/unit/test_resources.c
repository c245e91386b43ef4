/* Unit tests for apiserver/registry/resources.c: every row of the resource table agrees with
 * the Kubernetes 1.32 OpenAPI schema (kind, scope, verbs, subresources), and every GA resource
 * the schema has in the groups we serve has a row. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/registry/resources.h"
#include <cjson/cJSON.h>

#include "buf.h"

static cJSON *swagger;

static int load(void **state)
{
    (void)state;
    FILE *f = fopen("apiserver/openapi/swagger-v1.32.json", "rb");
    if (!f)
        return -1;
    struct ck_buf b = CK_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ck_buf_add(&b, chunk, n);
    fclose(f);
    swagger = cJSON_Parse(ck_buf_str(&b));
    ck_buf_free(&b);
    return swagger ? 0 : -1;
}

static int unload(void **state)
{
    (void)state;
    cJSON_Delete(swagger);
    return 0;
}

/* "/api/v1/namespaces/{namespace}/pods" or "/apis/apps/v1/deployments" */
static void path_of(const struct resource *r, bool ns, const char *suffix, char *dst, size_t n)
{
    char gv[300];
    resource_api_version(r, gv, sizeof(gv));
    snprintf(dst, n, "/%s/%s%s/%s%s", r->group[0] ? "apis" : "api", gv,
             ns ? "/namespaces/{namespace}" : "", r->plural, suffix);
}

static const cJSON *op(const char *path, const char *method)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(swagger, "paths"), path);
    return p ? cJSON_GetObjectItemCaseSensitive(p, method) : NULL;
}

static void rows_match_the_schema(void **state)
{
    (void)state;
    for (size_t i = 0; i < ck_resources_count; i++) {
        const struct resource *r = &ck_resources[i];
        char coll[600], item[600];
        path_of(r, r->namespaced, "", coll, sizeof(coll));
        path_of(r, r->namespaced, "/{name}", item, sizeof(item));
        const cJSON *create = op(coll, "post");
        const cJSON *get = op(item, "get");
        const cJSON *any = create ? create : get;
        if (!any)
            fail_msg("%s: no create or get operation in the schema", coll);
        const cJSON *gvk = cJSON_GetObjectItem(any, "x-kubernetes-group-version-kind");
        if (strcmp(cJSON_GetObjectItem(gvk, "kind")->valuestring, r->kind))
            fail_msg("%s: kind %s, schema says %s", coll, r->kind,
                     cJSON_GetObjectItem(gvk, "kind")->valuestring);
        struct {
            unsigned bit;
            const char *path, *method;
        } checks[] = {
            {VERB_CREATE, coll, "post"},        {VERB_GET, item, "get"},
            {VERB_LIST, coll, "get"},           {VERB_UPDATE, item, "put"},
            {VERB_PATCH, item, "patch"},        {VERB_DELETE, item, "delete"},
            {VERB_DELETECOLLECTION, coll, "delete"},
        };
        for (size_t c = 0; c < sizeof(checks) / sizeof(checks[0]); c++) {
            bool want = r->verbs & checks[c].bit;
            bool have = op(checks[c].path, checks[c].method) != NULL;
            if (want != have)
                fail_msg("%s %s: table says %d, schema says %d", checks[c].method,
                         checks[c].path, want, have);
        }
        for (unsigned bit = 1; bit; bit <<= 1) {
            const char *sub = resource_subresource_name(bit);
            if (!sub)
                break;
            char sp[700];
            snprintf(sp, sizeof(sp), "%s/%s", item, sub);
            const cJSON *p =
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(swagger, "paths"), sp);
            bool want = r->subresources & bit;
            if (want != (p != NULL))
                fail_msg("%s: subresource table %d, schema %d", sp, want, p != NULL);
        }
    }
}

static const char *const SERVED_GROUPS[] = {
    "",  "apps", "batch", "autoscaling", "networking.k8s.io", "policy",
    "rbac.authorization.k8s.io", "storage.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
    "events.k8s.io", "scheduling.k8s.io", "node.k8s.io", "certificates.k8s.io",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "authentication.k8s.io",
    "authorization.k8s.io", NULL,
};

static void every_ga_resource_has_a_row(void **state)
{
    (void)state;
    const cJSON *p;
    int checked = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(swagger, "paths"))
    {
        const cJSON *post = cJSON_GetObjectItem(p, "post");
        const cJSON *get = cJSON_GetObjectItem(p, "get");
        const cJSON *o = post ? post : get;
        const cJSON *gvk = o ? cJSON_GetObjectItem(o, "x-kubernetes-group-version-kind") : NULL;
        const cJSON *act = o ? cJSON_GetObjectItem(o, "x-kubernetes-action") : NULL;
        if (!gvk || !act || strstr(p->string, "/watch/") || strstr(p->string, "{name}"))
            continue;
        const char *group = cJSON_GetObjectItem(gvk, "group")->valuestring;
        const char *version = cJSON_GetObjectItem(gvk, "version")->valuestring;
        bool served = false;
        for (size_t g = 0; SERVED_GROUPS[g]; g++)
            served |= !strcmp(SERVED_GROUPS[g], group);
        if (!served || strstr(version, "alpha") || strstr(version, "beta"))
            continue;
        const char *plural = strrchr(p->string, '/') + 1;
        if (!resource_find(group, version, plural))
            fail_msg("schema path %s (%s/%s) has no row in the resource table", p->string,
                     group, version);
        checked++;
    }
    assert_true(checked > 50);
}

static void lookups_work(void **state)
{
    (void)state;
    const struct resource *r = resource_find("apps", "v1", "deployments");
    assert_non_null(r);
    assert_string_equal(r->kind, "Deployment");
    assert_string_equal(r->short_names[0], "deploy");
    assert_string_equal(r->categories[0], "all");
    char gv[64];
    resource_api_version(r, gv, sizeof(gv));
    assert_string_equal(gv, "apps/v1");
    r = resource_find("", "v1", "services");
    assert_string_equal(r->storage, "services/specs");
    assert_true(r->namespaced);
    assert_null(resource_find("", "v1", "deployments"));
    assert_ptr_equal(resource_find_kind("", "v1", "Node"), resource_find("", "v1", "nodes"));
    assert_int_equal(resource_subresource_bit("status"), SUB_STATUS);
    assert_int_equal(resource_subresource_bit("nope"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_match_the_schema),
        cmocka_unit_test(every_ga_resource_has_a_row),
        cmocka_unit_test(lookups_work),
    };
    return cmocka_run_group_tests_name("resources", tests, load, unload);
}
