/* Unit tests for apiserver/openapi: the embedded 1.32 schema, its index (definitions by name
 * and group-version-kind, field lookups through $ref), and the /openapi/v2 and /openapi/v3
 * endpoints (documents, hashes, caching headers, content negotiation). */
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

#include "apiserver/openapi/openapi.h"
#include "apiserver/openapi/schema.h"
#include "buf.h"
#include "json.h"
#include "mem.h"

#define POD_DEF "io.k8s.api.core.v1.Pod"
/* The string at the given steps, or "". */
#define GETV_STR(obj, ...) ck_json_as_string(ck_json_getv((obj), __VA_ARGS__, NULL), "")

/* ---- the embedded document and its index ---- */

static void embedded_document_is_the_committed_file(void **state)
{
    (void)state;
    size_t len;
    const char *s = schema_swagger_json(&len);
    FILE *f = fopen("apiserver/openapi/swagger-v1.32.json", "rb");
    assert_non_null(f);
    struct ck_buf b = CK_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ck_buf_add(&b, chunk, n);
    fclose(f);
    assert_int_equal(len, b.len);
    assert_memory_equal(s, b.data, len);
    assert_int_equal(s[len], '\0'); /* usable as a C string */
    ck_buf_free(&b);
}

static void index_by_name_and_gvk(void **state)
{
    (void)state;
    const struct schema_doc *d = schema_builtin();
    assert_non_null(d);
    assert_ptr_equal(d, schema_builtin()); /* parsed once */
    assert_int_equal(schema_definition_count(d), 638);
    const char *first;
    assert_non_null(schema_definition_at(d, 0, &first));
    assert_null(schema_definition_at(d, 638, NULL));
    const char *prev = first;
    for (size_t i = 1; i < schema_definition_count(d); i++) {
        const char *name;
        schema_definition_at(d, i, &name);
        assert_true(strcmp(prev, name) < 0); /* name order */
        prev = name;
    }
    const cJSON *pod = schema_definition(d, POD_DEF);
    assert_non_null(pod);
    assert_null(schema_definition(d, "io.k8s.api.core.v1.Nope"));

    struct {
        const char *group, *version, *kind, *name;
    } gvks[] = {
        {"", "v1", "Pod", POD_DEF},
        {"apps", "v1", "Deployment", "io.k8s.api.apps.v1.Deployment"},
        {"batch", "v1", "CronJob", "io.k8s.api.batch.v1.CronJob"},
        {"rbac.authorization.k8s.io", "v1", "ClusterRole", "io.k8s.api.rbac.v1.ClusterRole"},
        {"apiextensions.k8s.io", "v1", "CustomResourceDefinition",
         "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"},
        /* one definition listing many group-versions */
        {"apps", "v1", "DeleteOptions", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"},
        {"", "v1", "WatchEvent", "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(gvks); i++) {
        const char *name = NULL;
        const cJSON *def = schema_for_gvk(d, gvks[i].group, gvks[i].version, gvks[i].kind, &name);
        assert_non_null(def);
        assert_string_equal(name, gvks[i].name);
        assert_ptr_equal(def, schema_definition(d, gvks[i].name));
    }
    assert_null(schema_for_gvk(d, "apps", "v1", "Pod", NULL));
    assert_null(schema_for_gvk(d, "", "v2", "Pod", NULL));
    assert_null(schema_for_gvk(d, NULL, NULL, NULL, NULL));
}

static void field_lookups_follow_refs(void **state)
{
    (void)state;
    const struct schema_doc *d = schema_builtin();
    const cJSON *pod = schema_definition(d, POD_DEF);
    struct schema_field f;

    assert_int_equal(schema_field_path(d, pod, "spec.containers", &f), 0);
    assert_string_equal(f.type, "array");
    assert_string_equal(f.patch_strategy, "merge");
    assert_string_equal(f.patch_merge_key, "name");
    assert_string_equal(f.list_type, "map");
    assert_int_equal(cJSON_GetArraySize(f.list_map_keys), 1);
    assert_string_equal(cJSON_GetArrayItem(f.list_map_keys, 0)->valuestring, "name");
    assert_ptr_equal(f.items, schema_definition(d, "io.k8s.api.core.v1.Container"));

    /* through the array to the element's fields */
    assert_int_equal(schema_field_path(d, pod, "spec.containers.ports", &f), 0);
    assert_string_equal(f.patch_merge_key, "containerPort");
    assert_int_equal(schema_field_path(d, pod, "spec.volumes", &f), 0);
    assert_string_equal(f.patch_strategy, "merge,retainKeys");
    assert_int_equal(schema_field_path(d, pod, "metadata.finalizers", &f), 0);
    assert_string_equal(f.patch_strategy, "merge");
    assert_string_equal(f.list_type, "set");
    assert_null(f.patch_merge_key);
    assert_string_equal(ck_json_get_string(f.items, "type", ""), "string");
    assert_int_equal(schema_field_path(d, pod, "spec.tolerations", &f), 0);
    assert_null(f.patch_strategy); /* replaced as a whole by strategic merge patch */
    assert_string_equal(f.list_type, "atomic");

    /* maps: additionalProperties */
    assert_int_equal(schema_field_path(d, pod, "metadata.labels", &f), 0);
    assert_string_equal(f.type, "object");
    assert_string_equal(ck_json_get_string(f.additional, "type", ""), "string");
    assert_int_equal(schema_field_path(d, pod, "spec.containers.resources.limits", &f), 0);
    assert_ptr_equal(f.additional,
                     schema_definition(d, "io.k8s.apimachinery.pkg.api.resource.Quantity"));

    /* a reference with annotations of its own: both are seen */
    const cJSON *dep = schema_definition(d, "io.k8s.api.apps.v1.Deployment");
    assert_int_equal(schema_field_path(d, dep, "spec.strategy", &f), 0);
    assert_string_equal(f.patch_strategy, "retainKeys");
    assert_ptr_equal(f.resolved, schema_definition(d, "io.k8s.api.apps.v1.DeploymentStrategy"));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(f.schema, "$ref"));
    assert_int_equal(schema_field_path(d, dep, "spec.template.spec.containers.env", &f), 0);
    assert_string_equal(f.patch_merge_key, "name");

    /* a property literally named "$ref" is a field, not a reference */
    const cJSON *props = schema_definition(
        d, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps");
    assert_int_equal(schema_field(d, props, "$ref", &f), 0);
    assert_string_equal(f.type, "string");

    assert_int_equal(schema_field_path(d, pod, "spec.nope", &f), -ENOENT);
    assert_int_equal(schema_field_path(d, pod, "spec.containers.name.deeper", &f), -ENOENT);
    assert_int_equal(schema_field(d, pod, NULL, &f), -ENOENT);
    assert_int_equal(schema_describe(d, NULL, &f), -ENOENT);
}

static void own_documents_and_bad_references(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    const char *text =
        "{\"components\":{\"schemas\":{"
        "\"A\":{\"type\":\"object\",\"properties\":{\"b\":{\"allOf\":[{\"$ref\":"
        "\"#/components/schemas/B\"}],\"x-kubernetes-patch-strategy\":\"replace\"},"
        "\"dangling\":{\"$ref\":\"#/components/schemas/Missing\"}},"
        "\"x-kubernetes-group-version-kind\":[{\"group\":\"g\",\"version\":\"v\",\"kind\":\"A\"}]},"
        "\"B\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\"}}},"
        "\"Loop1\":{\"$ref\":\"#/components/schemas/Loop2\"},"
        "\"Loop2\":{\"$ref\":\"#/components/schemas/Loop1\"}}}}";
    cJSON *doc = ck_json_parse(text, strlen(text), &err);
    assert_non_null(doc);
    struct schema_doc *d;
    assert_int_equal(schema_doc_new(doc, &d), 0);
    const cJSON *a = schema_for_gvk(d, "g", "v", "A", NULL);
    assert_ptr_equal(a, schema_definition(d, "A"));
    struct schema_field f;
    /* the OpenAPI v3 wrapping {"allOf":[{"$ref"}], ...} resolves like a $ref */
    assert_int_equal(schema_field(d, a, "b", &f), 0);
    assert_ptr_equal(f.resolved, schema_definition(d, "B"));
    assert_string_equal(f.patch_strategy, "replace");
    assert_int_equal(schema_field_path(d, a, "b.x", &f), 0);
    assert_string_equal(f.type, "integer");
    assert_int_equal(schema_field(d, a, "dangling", &f), -ENOENT);
    assert_null(schema_resolve(d, schema_definition(d, "Loop1")));
    assert_null(schema_resolve(d, NULL));
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddStringToObject(ref, "$ref", "#/definitions/A");
    assert_string_equal(schema_ref_name(ref), "A");
    assert_ptr_equal(schema_resolve(d, ref), a);
    cJSON_ReplaceItemInObjectCaseSensitive(ref, "$ref", cJSON_CreateString("elsewhere"));
    assert_string_equal(schema_ref_name(ref), "elsewhere");
    assert_null(schema_resolve(d, ref));
    assert_null(schema_ref_name(a));
    cJSON_Delete(ref);
    schema_doc_free(d);
    cJSON_Delete(doc);

    cJSON *notdefs = cJSON_CreateString("x");
    assert_int_equal(schema_doc_new(notdefs, &d), -EINVAL);
    assert_null(d);
    cJSON_Delete(notdefs);
}

static void *concurrent_first_use(void *arg)
{
    (void)arg;
    struct openapi_request rq = {.path = "/openapi/v3/apis/apps/v1"};
    struct openapi_response rs;
    openapi_serve(&rq, &rs);
    return (void *)rs.body;
}

static void built_once_under_concurrency(void **state)
{
    (void)state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, concurrent_first_use, NULL), 0);
    void *bodies[4];
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], &bodies[i]);
    for (int i = 0; i < 4; i++) {
        assert_non_null(bodies[i]);
        assert_ptr_equal(bodies[i], bodies[0]); /* one cached document */
    }
}

/* ---- /openapi/v2 ---- */

static void serve(const char *path, const char *hash, const char *accept, const char *inm,
                  struct openapi_response *rs)
{
    struct openapi_request rq = {path, hash, accept, inm};
    openapi_serve(&rq, rs);
}

static void v2_document(void **state)
{
    (void)state;
    struct openapi_response rs;
    size_t len;
    const char *s = schema_swagger_json(&len);
    char hash[129], etag[140];
    openapi_hash(s, len, hash);
    snprintf(etag, sizeof(etag), "\"%s\"", hash);

    const char *json_accepts[] = {
        NULL,
        "",
        "*/*",
        "application/json",
        "application/*",
        "application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json",
        "application/json;q=0.5, */*",
        "application/json;q=0"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(json_accepts); i++) {
        serve("/openapi/v2", NULL, json_accepts[i], NULL, &rs);
        assert_int_equal(rs.status, 200);
        assert_string_equal(rs.content_type, "application/json");
        assert_ptr_equal(rs.body, s);
        assert_int_equal(rs.body_len, len);
        assert_string_equal(rs.etag, etag);
        assert_string_equal(rs.vary, "Accept");
        assert_null(rs.cache_control);
    }
    assert_int_equal(strlen(hash), 128);
    for (size_t i = 0; i < 128; i++)
        assert_non_null(strchr("0123456789ABCDEF", hash[i]));

    /* protobuf only (what client-go's OpenAPISchema sends), or nothing we know: 406 */
    const char *refused[] = {"application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
                             "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
                             "text/html", "application/yaml"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(refused); i++) {
        serve("/openapi/v2", NULL, refused[i], NULL, &rs);
        assert_int_equal(rs.status, 406);
        assert_null(rs.body);
        assert_null(rs.content_type);
    }

    /* If-None-Match with the ETag: 304 without a body */
    serve("/openapi/v2", NULL, NULL, etag, &rs);
    assert_int_equal(rs.status, 304);
    assert_null(rs.body);
    serve("/openapi/v2", NULL, NULL, "\"other\", *", &rs);
    assert_int_equal(rs.status, 304);
    serve("/openapi/v2", NULL, NULL, "\"other\"", &rs);
    assert_int_equal(rs.status, 200);
}

/* ---- /openapi/v3 ---- */

static cJSON *parse_body(const struct openapi_response *rs)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *j = ck_json_parse(rs->body, rs->body_len, &err);
    ck_error_clear(&err);
    assert_non_null(j);
    return j;
}

static void group_keys(void **state)
{
    (void)state;
    struct {
        const char *path, *gv;
    } cases[] = {
        {"/api/v1/namespaces/{namespace}/pods", "api/v1"},
        {"/api/v1/", "api/v1"},
        {"/api/", "api"},
        {"/apis/", "apis"},
        {"/apis/apps/", "apis/apps"},
        {"/apis/apps/v1/deployments", "apis/apps/v1"},
        {"/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}",
         "apis/rbac.authorization.k8s.io/v1"},
        {"/version/", "version"},
        {"/logs/{logpath}", "logs"},
        {"/.well-known/openid-configuration/", ".well-known/openid-configuration"},
        {"/openid/v1/jwks/", "openid/v1/jwks"},
    };
    char out[128];
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        assert_int_equal(openapi_v3_group_of(cases[i].path, out, sizeof(out)), 0);
        assert_string_equal(out, cases[i].gv);
    }
    assert_int_equal(openapi_v3_group_of("/", out, sizeof(out)), -EINVAL);
    assert_int_equal(openapi_v3_group_of("/{x}", out, sizeof(out)), -EINVAL);
    assert_int_equal(openapi_v3_group_of("/apis/apps/v1/x", out, 5), -EINVAL);
}

static void v3_discovery(void **state)
{
    (void)state;
    struct openapi_response rs;
    serve("/openapi/v3", NULL, "application/com.github.proto-openapi.spec.v3@v1.0+protobuf", NULL,
          &rs);
    assert_int_equal(rs.status, 200); /* discovery ignores Accept, as upstream */
    assert_string_equal(rs.content_type, "application/json");
    cJSON *disc = parse_body(&rs);
    cJSON *paths = cJSON_GetObjectItemCaseSensitive(disc, "paths");
    assert_int_equal(cJSON_GetArraySize(paths), 61);
    const char *expect[] = {"api",       "api/v1",       "apis",
                            "apis/apps", "apis/apps/v1", "apis/batch/v1",
                            "version",   "logs",         ".well-known/openid-configuration"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(expect); i++)
        assert_non_null(cJSON_GetObjectItemCaseSensitive(paths, expect[i]));
    /* each URL is /openapi/v3/<gv>?hash=<uppercase sha512 of that document> */
    const cJSON *p;
    const char *prev = "";
    cJSON_ArrayForEach(p, paths)
    {
        assert_true(strcmp(prev, p->string) < 0); /* keys in order, as Go prints maps */
        prev = p->string;
        const char *url = ck_json_get_string(p, "serverRelativeURL", "");
        CK_AUTOFREE char *want_prefix = ck_xasprintf("/openapi/v3/%s?hash=", p->string);
        assert_int_equal(strncmp(url, want_prefix, strlen(want_prefix)), 0);
        const char *hash = url + strlen(want_prefix);
        assert_int_equal(strlen(hash), 128);
        CK_AUTOFREE char *path = ck_xasprintf("/openapi/v3/%s", p->string);
        struct openapi_response doc;
        serve(path, hash, "application/json", NULL, &doc);
        assert_int_equal(doc.status, 200);
        char got[129];
        openapi_hash(doc.body, doc.body_len, got);
        assert_string_equal(got, hash);
    }
    cJSON_Delete(disc);
}

static void v3_caching_semantics(void **state)
{
    (void)state;
    struct openapi_response rs, pinned;
    serve("/openapi/v3/apis/apps/v1", NULL, NULL, NULL, &rs);
    assert_int_equal(rs.status, 200);
    assert_null(rs.cache_control); /* no hash: no caching promise */
    assert_false(rs.expires_in_a_year);
    assert_string_equal(rs.vary, "Accept");
    char hash[129];
    openapi_hash(rs.body, rs.body_len, hash);
    char etag[140];
    snprintf(etag, sizeof(etag), "\"%s\"", hash);
    assert_string_equal(rs.etag, etag);

    serve("/openapi/v3/apis/apps/v1", hash, NULL, NULL, &pinned);
    assert_int_equal(pinned.status, 200);
    assert_string_equal(pinned.cache_control, "public, immutable");
    assert_true(pinned.expires_in_a_year);
    assert_ptr_equal(pinned.body, rs.body); /* built once, cached */

    serve("/openapi/v3/apis/apps/v1", "0123", NULL, NULL, &rs);
    assert_int_equal(rs.status, 301);
    CK_AUTOFREE char *loc = ck_xasprintf("/openapi/v3/apis/apps/v1?hash=%s", hash);
    assert_string_equal(rs.location, loc);
    assert_null(rs.body);

    serve("/openapi/v3/apis/apps/v1", hash, NULL, etag, &rs);
    assert_int_equal(rs.status, 304);
    assert_string_equal(rs.cache_control, "public, immutable");

    serve("/openapi/v3/apis/apps/v1", NULL,
          "application/com.github.proto-openapi.spec.v3.v1.0+protobuf", NULL, &rs);
    assert_int_equal(rs.status, 406);
    serve("/openapi/v3/apis/nope/v1", NULL, NULL, NULL, &rs);
    assert_int_equal(rs.status, 404);
    serve("/openapi/v3/", NULL, NULL, NULL, &rs);
    assert_int_equal(rs.status, 404);
    struct openapi_request other = {"/api/v1", NULL, NULL, NULL};
    assert_int_equal(openapi_serve(&other, &rs), -ENOENT);
    assert_false(openapi_is_path("/openapi/v2x"));
    assert_false(openapi_is_path("/openapi/v3x"));
    assert_true(openapi_is_path("/openapi/v3/api/v1"));

    char exp[64];
    openapi_expires(exp, sizeof(exp), 1700000000); /* 2023-11-14 22:13:20 UTC */
    assert_string_equal(exp, "Thu, 14 Nov 2024 22:13:20 GMT");
    openapi_expires(exp, sizeof(exp), 1709208000); /* 2024-02-29 12:00 UTC: Go's AddDate */
    assert_string_equal(exp, "Sat, 01 Mar 2025 12:00:00 GMT");
}

/* Every "$ref" under node names a schema of the document. */
static void check_refs(const cJSON *node, const cJSON *schemas, int *count)
{
    if (cJSON_IsObject(node)) {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(node, "$ref");
        if (cJSON_IsString(ref)) {
            const char *prefix = "#/components/schemas/";
            assert_int_equal(strncmp(ref->valuestring, prefix, strlen(prefix)), 0);
            assert_non_null(
                cJSON_GetObjectItemCaseSensitive(schemas, ref->valuestring + strlen(prefix)));
            /* OpenAPI 3.0 ignores siblings of $ref: there are none */
            assert_int_equal(cJSON_GetArraySize(node), 1);
            (*count)++;
        }
    }
    const cJSON *c;
    if (cJSON_IsObject(node) || cJSON_IsArray(node))
        cJSON_ArrayForEach(c, node) check_refs(c, schemas, count);
}

static cJSON *v3_doc(const char *gv)
{
    CK_AUTOFREE char *path = ck_xasprintf("/openapi/v3/%s", gv);
    struct openapi_response rs;
    serve(path, NULL, "application/json", NULL, &rs);
    assert_int_equal(rs.status, 200);
    return parse_body(&rs);
}

static void v3_documents_are_self_contained(void **state)
{
    (void)state;
    struct openapi_response rs;
    serve("/openapi/v3", NULL, NULL, NULL, &rs);
    cJSON *disc = parse_body(&rs);
    const cJSON *p;
    int total = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(disc, "paths"))
    {
        cJSON *doc = v3_doc(p->string);
        assert_string_equal(ck_json_get_string(doc, "openapi", ""), "3.0.0");
        const cJSON *schemas = ck_json_getv(doc, "components", "schemas", NULL);
        assert_non_null(schemas);
        int refs = 0;
        check_refs(doc, schemas, &refs);
        total += refs;
        /* only this group-version's paths */
        const cJSON *path;
        cJSON_ArrayForEach(path, cJSON_GetObjectItemCaseSensitive(doc, "paths"))
        {
            char gv[256];
            assert_int_equal(openapi_v3_group_of(path->string, gv, sizeof(gv)), 0);
            assert_string_equal(gv, p->string);
        }
        cJSON_Delete(doc);
    }
    assert_true(total > 8000); /* every reference of all 61 documents was checked */
    cJSON_Delete(disc);
}

/* A parameter of an operation by name, or NULL. */
static const cJSON *param(const cJSON *op, const char *name)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(op, "parameters"))
    {
        if (!strcmp(ck_json_get_string(p, "name", ""), name))
            return p;
    }
    return NULL;
}

static void check_equal(const cJSON *got, const char *want_text)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *want = ck_json_parse(want_text, strlen(want_text), &err);
    assert_non_null(want);
    if (!ck_json_equal(got, want)) {
        CK_AUTOFREE char *g = ck_json_print(got, 0);
        fprintf(stderr, "got  %s\nwant %s\n", g ? g : "(null)", want_text);
        cJSON_Delete(want);
        fail();
    }
    cJSON_Delete(want);
}

static void v3_core_document(void **state)
{
    (void)state;
    cJSON *doc = v3_doc("api/v1");
    assert_string_equal(GETV_STR(doc, "info", "title"), "Kubernetes");
    const cJSON *schemas = ck_json_getv(doc, "components", "schemas", NULL);
    const cJSON *pod = cJSON_GetObjectItemCaseSensitive(schemas, POD_DEF);
    assert_non_null(pod);
    /* only what the core paths reach */
    assert_null(cJSON_GetObjectItemCaseSensitive(schemas, "io.k8s.api.apps.v1.Deployment"));
    assert_int_equal(cJSON_GetArraySize(schemas), 239);
    check_equal(ck_json_getv(pod, "properties", "metadata", NULL),
                "{\"$ref\":\"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1."
                "ObjectMeta\"}");
    check_equal(ck_json_getv(pod, "x-kubernetes-group-version-kind", NULL),
                "[{\"group\":\"\",\"kind\":\"Pod\",\"version\":\"v1\"}]");
    const cJSON *containers =
        ck_json_getv(schemas, "io.k8s.api.core.v1.PodSpec", "properties", "containers", NULL);
    assert_string_equal(ck_json_get_string(containers, "x-kubernetes-patch-merge-key", ""), "name");
    assert_string_equal(ck_json_get_string(containers, "x-kubernetes-patch-strategy", ""), "merge");
    assert_string_equal(GETV_STR(containers, "items", "$ref"),
                        "#/components/schemas/io.k8s.api.core.v1.Container");

    const cJSON *item =
        ck_json_getv(doc, "paths", "/api/v1/namespaces/{namespace}/pods/{name}", NULL);
    assert_non_null(item);
    /* path-level parameters, the shared ones inlined from #/parameters */
    const cJSON *name = param(item, "name"), *ns = param(item, "namespace");
    check_equal(name, "{\"name\":\"name\",\"in\":\"path\",\"required\":true,"
                      "\"schema\":{\"type\":\"string\",\"uniqueItems\":true}}");
    assert_string_equal(ck_json_get_string(ns, "in", ""), "path");
    assert_null(cJSON_GetObjectItemCaseSensitive(ns, "$ref"));

    const cJSON *patch = cJSON_GetObjectItemCaseSensitive(item, "patch");
    check_equal(ck_json_getv(patch, "x-kubernetes-group-version-kind", NULL),
                "{\"group\":\"\",\"kind\":\"Pod\",\"version\":\"v1\"}");
    assert_string_equal(ck_json_get_string(patch, "x-kubernetes-action", ""), "patch");
    /* what kubectl's fieldValidation check looks for */
    check_equal(param(patch, "fieldValidation"),
                "{\"name\":\"fieldValidation\",\"in\":\"query\",\"schema\":{\"type\":"
                "\"string\",\"uniqueItems\":true}}");
    assert_null(param(patch, "body"));
    /* what kubectl apply's strategic-merge check looks for */
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(patch, "requestBody");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "required")));
    check_equal(ck_json_getv(body, "content", "application/strategic-merge-patch+json", NULL),
                "{\"schema\":{\"$ref\":\"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta."
                "v1.Patch\"}}");
    assert_non_null(ck_json_getv(body, "content", "application/json-patch+json", NULL));
    const cJSON *ok = ck_json_getv(patch, "responses", "200", NULL);
    assert_string_equal(ck_json_get_string(ok, "description", ""), "OK");
    assert_string_equal(GETV_STR(ok, "content", "application/json", "schema", "$ref"),
                        "#/components/schemas/io.k8s.api.core.v1.Pod");
    check_equal(ck_json_getv(patch, "responses", "401", NULL),
                "{\"description\":\"Unauthorized\"}");
    assert_null(cJSON_GetObjectItemCaseSensitive(patch, "consumes"));
    assert_null(cJSON_GetObjectItemCaseSensitive(patch, "produces"));
    assert_null(cJSON_GetObjectItemCaseSensitive(patch, "schemes"));
    /* the list path kubectl explain reads the kind from */
    assert_string_equal(GETV_STR(doc, "paths", "/api/v1/namespaces/{namespace}/pods", "get",
                                 "x-kubernetes-group-version-kind", "kind"),
                        "Pod");
    check_equal(ck_json_getv(doc, "components", "securitySchemes", NULL),
                "{\"BearerToken\":{\"type\":\"apiKey\",\"name\":\"authorization\",\"in\":"
                "\"header\"}}");
    cJSON_Delete(doc);
}

static void v3_wraps_references_with_siblings(void **state)
{
    (void)state;
    cJSON *doc = v3_doc("apis/apps/v1");
    check_equal(ck_json_getv(doc, "components", "schemas", "io.k8s.api.apps.v1.DeploymentSpec",
                             "properties", "strategy", NULL),
                "{\"x-kubernetes-patch-strategy\":\"retainKeys\",\"allOf\":[{\"$ref\":"
                "\"#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy\"}]}");
    /* apps/v1 carries the core types its kinds embed */
    assert_non_null(ck_json_getv(doc, "components", "schemas", "io.k8s.api.core.v1.PodSpec", NULL));
    assert_null(ck_json_getv(doc, "paths", "/api/v1/pods", NULL));
    cJSON_Delete(doc);

    doc = v3_doc("apis/apiextensions.k8s.io/v1");
    /* JSONSchemaProps has a property named "$ref": kept as a property */
    check_equal(ck_json_getv(doc, "components", "schemas",
                             "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."
                             "JSONSchemaProps",
                             "properties", "$ref", NULL),
                "{\"type\":\"string\"}");
    cJSON_Delete(doc);

    struct ck_error err = CK_ERROR_INIT;
    const char *v2 = "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/definitions/X\","
                     "\"description\":\"d\"},\"b\":{\"type\":\"array\",\"items\":{\"$ref\":"
                     "\"#/definitions/Y\"}},\"c\":{\"additionalProperties\":true}}}";
    cJSON *in = ck_json_parse(v2, strlen(v2), &err);
    cJSON *out = openapi_v3_schema(in);
    check_equal(out, "{\"type\":\"object\",\"properties\":{\"a\":{\"description\":\"d\","
                     "\"allOf\":[{\"$ref\":\"#/components/schemas/X\"}]},\"b\":{\"type\":"
                     "\"array\",\"items\":{\"$ref\":\"#/components/schemas/Y\"}},\"c\":{"
                     "\"additionalProperties\":true}}}");
    cJSON_Delete(out);
    cJSON_Delete(in);
    assert_null(openapi_v3_document(schema_doc_root(schema_builtin()), "apis/nope/v1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(embedded_document_is_the_committed_file),
        cmocka_unit_test(index_by_name_and_gvk),
        cmocka_unit_test(field_lookups_follow_refs),
        cmocka_unit_test(own_documents_and_bad_references),
        cmocka_unit_test(built_once_under_concurrency),
        cmocka_unit_test(v2_document),
        cmocka_unit_test(group_keys),
        cmocka_unit_test(v3_discovery),
        cmocka_unit_test(v3_caching_semantics),
        cmocka_unit_test(v3_documents_are_self_contained),
        cmocka_unit_test(v3_core_document),
        cmocka_unit_test(v3_wraps_references_with_siblings),
    };
    return cmocka_run_group_tests_name("openapi", tests, NULL, NULL);
}
