/* Unit tests for the pure parts of the kubelet's image service: image references exactly as
 * upstream's distribution/reference parses them (with docker's error texts), the kubelet's
 * default-tag and pull-policy rules, registry mirror flags and endpoint order, WWW-Authenticate
 * challenges, and picking the platform's entry of an image index. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "kubelet/runtime/image.h"
#include "kubelet/runtime/registry.h"
#include "mem.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX32 "0123456789abcdef0123456789abcdef"

/* ---- valid references ------------------------------------------------------------------ */

struct ref_case {
    const char *in;
    const char *domain, *path, *tag, *digest;
    const char *docker;   /* ParseDockerRef form */
    const char *familiar; /* docker's familiar form */
};

static const struct ref_case valid_refs[] = {
    {"busybox", "docker.io", "library/busybox", NULL, NULL, "docker.io/library/busybox:latest",
     "busybox"},
    {"busybox:1.36", "docker.io", "library/busybox", "1.36", NULL, "docker.io/library/busybox:1.36",
     "busybox:1.36"},
    {"busybox:Latest_1.x-y", "docker.io", "library/busybox", "Latest_1.x-y", NULL,
     "docker.io/library/busybox:Latest_1.x-y", "busybox:Latest_1.x-y"},
    {"library/busybox", "docker.io", "library/busybox", NULL, NULL,
     "docker.io/library/busybox:latest", "busybox"},
    {"docker.io/busybox", "docker.io", "library/busybox", NULL, NULL,
     "docker.io/library/busybox:latest", "busybox"},
    {"index.docker.io/busybox:1", "docker.io", "library/busybox", "1", NULL,
     "docker.io/library/busybox:1", "busybox:1"},
    {"repo/name:tag", "docker.io", "repo/name", "tag", NULL, "docker.io/repo/name:tag",
     "repo/name:tag"},
    {"docker.io/library/a/b", "docker.io", "library/a/b", NULL, NULL,
     "docker.io/library/a/b:latest", "library/a/b"},
    {"localhost/foo", "localhost", "foo", NULL, NULL, "localhost/foo:latest", "localhost/foo"},
    {"localhost:5000/foo/bar:v1", "localhost:5000", "foo/bar", "v1", NULL,
     "localhost:5000/foo/bar:v1", "localhost:5000/foo/bar:v1"},
    {"127.0.0.1:5000/test/busybox:1.36", "127.0.0.1:5000", "test/busybox", "1.36", NULL,
     "127.0.0.1:5000/test/busybox:1.36", "127.0.0.1:5000/test/busybox:1.36"},
    {"host:5000/name@sha256:" HEX64, "host:5000", "name", NULL, "sha256:" HEX64,
     "host:5000/name@sha256:" HEX64, "host:5000/name@sha256:" HEX64},
    /* tag and digest: the digest wins for pulling */
    {"name:tag@sha256:" HEX64, "docker.io", "library/name", "tag", "sha256:" HEX64,
     "docker.io/library/name@sha256:" HEX64, "name:tag@sha256:" HEX64},
    {"[::1]:5000/foo:bar", "[::1]:5000", "foo", "bar", NULL, "[::1]:5000/foo:bar",
     "[::1]:5000/foo:bar"},
    /* an uppercase first component is taken for a registry host */
    {"Foo/bar", "Foo", "bar", NULL, NULL, "Foo/bar:latest", "Foo/bar"},
    {"Example.COM:443/x", "Example.COM:443", "x", NULL, NULL, "Example.COM:443/x:latest",
     "Example.COM:443/x"},
    {"registry.k8s.io/pause:3.10", "registry.k8s.io", "pause", "3.10", NULL,
     "registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"},
    {"a__b/c--d/e.f_g", "docker.io", "a__b/c--d/e.f_g", NULL, NULL,
     "docker.io/a__b/c--d/e.f_g:latest", "a__b/c--d/e.f_g"},
    {"sub-domain.example.com/x-y/z@sha512:" HEX64 HEX64, "sub-domain.example.com", "x-y/z", NULL,
     "sha512:" HEX64 HEX64, "sub-domain.example.com/x-y/z@sha512:" HEX64 HEX64,
     "sub-domain.example.com/x-y/z@sha512:" HEX64 HEX64},
};

static void parses_valid_references(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(valid_refs); i++) {
        const struct ref_case *c = &valid_refs[i];
        struct kl_image_ref r;
        char msg[256] = "";
        int rc = kl_image_ref_parse(c->in, &r, msg, sizeof(msg));
        if (rc != 0)
            fail_msg("%s: %s", c->in, msg);
        assert_string_equal(r.domain, c->domain);
        assert_string_equal(r.path, c->path);
        if (c->tag)
            assert_string_equal(r.tag, c->tag);
        else
            assert_null(r.tag);
        if (c->digest)
            assert_string_equal(r.digest, c->digest);
        else
            assert_null(r.digest);
        char *d = kl_image_ref_docker_string(&r);
        assert_string_equal(d, c->docker);
        free(d);
        char *f = kl_image_ref_familiar(&r);
        assert_string_equal(f, c->familiar);
        free(f);
        kl_image_ref_free(&r);
    }
}

static void prints_reference_string_with_tag_and_digest(void **state)
{
    (void)state;
    struct kl_image_ref r;
    assert_int_equal(kl_image_ref_parse("name:tag@sha256:" HEX64, &r, NULL, 0), 0);
    char *s = kl_image_ref_string(&r);
    assert_string_equal(s, "docker.io/library/name:tag@sha256:" HEX64);
    free(s);
    s = kl_image_ref_name(&r);
    assert_string_equal(s, "docker.io/library/name");
    free(s);
    kl_image_ref_free(&r);
}

static void accepts_tag_up_to_128_characters(void **state)
{
    (void)state;
    char in[300], msg[256];
    memcpy(in, "busybox:", 8);
    memset(in + 8, 't', 128);
    in[8 + 128] = '\0';
    struct kl_image_ref r;
    assert_int_equal(kl_image_ref_parse(in, &r, msg, sizeof(msg)), 0);
    assert_int_equal(strlen(r.tag), 128);
    kl_image_ref_free(&r);
    strcat(in, "t");
    assert_int_equal(kl_image_ref_parse(in, &r, msg, sizeof(msg)), -EINVAL);
    assert_string_equal(msg, "invalid reference format");
}

/* ---- invalid references with docker's messages ------------------------------------------ */

struct bad_case {
    const char *in, *msg;
};

static const struct bad_case bad_refs[] = {
    {"", "invalid reference format"},
    {"Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"},
    {"repo/Name:tag", "invalid reference format: repository name (repo/Name) must be lowercase"},
    {"host:5000/Name", "invalid reference format: repository name (Name) must be lowercase"},
    {"THIS IS NOT A VALID IMAGE REFERENCE!!",
     "invalid reference format: repository name (library/THIS IS NOT A VALID IMAGE REFERENCE!!) "
     "must be lowercase"},
    {"busybox:", "invalid reference format"},
    {":tag", "invalid reference format"},
    {"busybox:tag:tag2", "invalid reference format"},
    {"busybox:-tag", "invalid reference format"},
    {"a/b//c", "invalid reference format"},
    {"-foo", "invalid reference format"},
    {"foo_", "invalid reference format"},
    {"foo..bar", "invalid reference format"},
    {"foo___bar", "invalid reference format"},
    {"docker.io/library/", "invalid reference format"},
    {"localhost:abc/foo", "invalid reference format"},
    {"https://registry/foo", "invalid reference format"},
    {"busybox@sha256:abc", "invalid reference format"},
    {"busybox@sha256:" HEX64 "@sha256:" HEX64, "invalid reference format"},
    {"busybox@sha256:" HEX32, "invalid checksum digest length"},
    {"busybox@sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
     "invalid checksum digest format"},
    {"busybox@md5:" HEX32, "unsupported digest algorithm"},
    /* upstream checks the text before the first ':' for uppercase, digest algorithm included */
    {"busybox@SHA256:" HEX64,
     "invalid reference format: repository name (library/busybox@SHA256) must be lowercase"},
    {"busybox@sha512:" HEX64, "invalid checksum digest length"},
    {HEX64, "invalid repository name (" HEX64 "), cannot specify 64-byte hexadecimal strings"},
};

static void rejects_invalid_references_with_docker_messages(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(bad_refs); i++) {
        struct kl_image_ref r = {0};
        char msg[512] = "";
        int rc = kl_image_ref_parse(bad_refs[i].in, &r, msg, sizeof(msg));
        if (rc != -EINVAL)
            fail_msg("%s: parsed", bad_refs[i].in);
        assert_string_equal(msg, bad_refs[i].msg);
        assert_null(r.path);
    }
}

static void rejects_repository_names_over_255_characters(void **state)
{
    (void)state;
    char in[400], msg[256];
    memset(in, 'a', 300);
    memcpy(in, "example.com/", 12);
    in[12 + 255] = '\0'; /* a path of exactly 255 */
    struct kl_image_ref r;
    assert_int_equal(kl_image_ref_parse(in, &r, msg, sizeof(msg)), 0);
    kl_image_ref_free(&r);
    in[12 + 255] = 'a';
    in[12 + 256] = '\0';
    assert_int_equal(kl_image_ref_parse(in, &r, msg, sizeof(msg)), -EINVAL);
    assert_string_equal(msg, "repository name must not be more than 255 characters");
}

static void recognizes_image_ids(void **state)
{
    (void)state;
    char id[80];
    assert_true(kl_image_id_parse("sha256:" HEX64, id, sizeof(id)));
    assert_string_equal(id, "sha256:" HEX64);
    assert_true(kl_image_id_parse(HEX64, id, sizeof(id)));
    assert_string_equal(id, "sha256:" HEX64);
    assert_false(kl_image_id_parse("sha256:" HEX32, id, sizeof(id)));
    assert_false(kl_image_id_parse("busybox", id, sizeof(id)));
    assert_false(kl_image_id_parse(
        "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", NULL, 0));
    assert_true(kl_digest_is_sha256("sha256:" HEX64));
    assert_false(kl_digest_is_sha256("sha512:" HEX64));
    assert_false(kl_digest_is_sha256(NULL));
}

/* ---- the kubelet's rules ------------------------------------------------------------------ */

static void applies_default_tag_like_the_kubelet(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"busybox", "busybox:latest"},
        {"busybox:1.36", "busybox:1.36"},
        {"busybox:latest", "busybox:latest"},
        {"busybox@sha256:" HEX64, "busybox@sha256:" HEX64},
        {"localhost:5000/x", "localhost:5000/x:latest"},
        {"docker.io/library/busybox", "docker.io/library/busybox:latest"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        char *out = NULL;
        assert_int_equal(kl_image_apply_default_tag(cases[i].in, &out, NULL), 0);
        assert_string_equal(out, cases[i].out);
        free(out);
    }
    struct ck_error err = CK_ERROR_INIT;
    char *out = NULL;
    assert_int_equal(kl_image_apply_default_tag("BusyBox", &out, &err), -EINVAL);
    assert_null(out);
    assert_string_equal(err.reason, "InvalidImageName");
    assert_string_equal(err.message,
                        "Failed to apply default image tag \"BusyBox\": couldn't parse image name "
                        "\"BusyBox\": invalid reference format: repository name (library/BusyBox) "
                        "must be lowercase");
    ck_error_clear(&err);
    assert_int_equal(kl_image_apply_default_tag(":sha-0b293ab", &out, &err), -EINVAL);
    assert_string_equal(err.message, "Failed to apply default image tag \":sha-0b293ab\": couldn't "
                                     "parse image name \":sha-0b293ab\": invalid reference format");
    ck_error_clear(&err);
}

static void defaults_pull_policy_from_the_tag(void **state)
{
    (void)state;
    static const struct {
        const char *image, *policy;
    } cases[] = {
        {"busybox", "Always"},
        {"busybox:latest", "Always"},
        {"busybox:1.36", "IfNotPresent"},
        {"busybox@sha256:" HEX64, "IfNotPresent"},
        {"busybox:latest@sha256:" HEX64, "Always"},
        {"registry:5000/x", "Always"},
        {"registry:5000/x:v2", "IfNotPresent"},
        {"Not Valid", "IfNotPresent"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++)
        assert_string_equal(kl_image_default_pull_policy(cases[i].image), cases[i].policy);
    enum kl_pull_policy p;
    assert_int_equal(kl_pull_policy_parse("Never", &p), 0);
    assert_int_equal(p, KL_PULL_NEVER);
    assert_int_equal(kl_pull_policy_parse("IfNotPresent", &p), 0);
    assert_int_equal(p, KL_PULL_IF_NOT_PRESENT);
    assert_int_equal(kl_pull_policy_parse("always", &p), -EINVAL);
}

static void quotes_like_go(void **state)
{
    (void)state;
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    kl_go_quote(&b, "a\"b\\c\n\x01\x7f\xc3\xa9\xff");
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\x01\\x7f\xc3\xa9\\xff\"");
}

/* ---- mirrors -------------------------------------------------------------------------------- */

static void parses_mirror_flags_and_orders_endpoints(void **state)
{
    (void)state;
    struct kl_registry_config rc = KL_REGISTRY_CONFIG_INIT;
    assert_int_equal(kl_registry_config_add_mirror(&rc, "docker.io=http://10.250.0.1:5000", NULL),
                     0);
    assert_int_equal(kl_registry_config_add_mirror(&rc, "docker.io=https://m2.example/v2/", NULL),
                     0);
    assert_int_equal(kl_registry_config_add_mirror(&rc, "*=http://10.250.0.1:5000/", NULL), 0);
    assert_int_equal(kl_registry_config_add_mirror(&rc, "quay.io=https://q.example/prefix", NULL),
                     0);
    assert_int_equal(rc.n_mirrors, 4);
    assert_string_equal(rc.mirrors[0].host, "docker.io");
    assert_string_equal(rc.mirrors[0].endpoint, "http://10.250.0.1:5000");

    char **eps;
    assert_int_equal(kl_registry_endpoints(&rc, "docker.io", &eps), 3);
    assert_string_equal(eps[0], "http://10.250.0.1:5000/v2");
    assert_string_equal(eps[1], "https://m2.example/v2");
    assert_string_equal(eps[2], "https://registry-1.docker.io/v2"); /* "*" was a duplicate */
    assert_null(eps[3]);
    kl_strv_free(eps);

    assert_int_equal(kl_registry_endpoints(&rc, "quay.io", &eps), 3);
    assert_string_equal(eps[0], "https://q.example/prefix/v2");
    assert_string_equal(eps[1], "http://10.250.0.1:5000/v2");
    assert_string_equal(eps[2], "https://quay.io/v2");
    kl_strv_free(eps);

    rc.mirrors_only = true;
    assert_int_equal(kl_registry_endpoints(&rc, "registry.k8s.io", &eps), 1);
    assert_string_equal(eps[0], "http://10.250.0.1:5000/v2");
    kl_strv_free(eps);
    kl_registry_config_free(&rc);

    /* no configuration: the registry itself, always over HTTPS */
    assert_int_equal(kl_registry_endpoints(NULL, "127.0.0.1:5000", &eps), 1);
    assert_string_equal(eps[0], "https://127.0.0.1:5000/v2");
    kl_strv_free(eps);
}

static void rejects_malformed_mirror_flags(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "docker.io",
        "=http://x",
        "docker.io=ftp://x",
        "docker.io=http://",
        "docker.io=10.0.0.1:5000",
        "docker.io=http://a b",
        "dock/er=http://x",
        "",
    };
    struct kl_registry_config rc = KL_REGISTRY_CONFIG_INIT;
    for (size_t i = 0; i < CK_ARRAY_SIZE(bad); i++) {
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(kl_registry_config_add_mirror(&rc, bad[i], &err), -EINVAL);
        assert_int_equal(err.code, 400);
        assert_non_null(strstr(err.message, "invalid registry mirror"));
        ck_error_clear(&err);
    }
    assert_int_equal(rc.n_mirrors, 0);
    struct ck_error err = CK_ERROR_INIT;
    kl_registry_config_add_mirror(&rc, "docker.io", &err);
    assert_string_equal(err.message, "invalid registry mirror \"docker.io\": want "
                                     "REGISTRY=http(s)://HOST[:PORT][/PATH]");
    kl_registry_config_free(&rc);
}

/* ---- WWW-Authenticate ------------------------------------------------------------------------ */

static void parses_bearer_and_basic_challenges(void **state)
{
    (void)state;
    struct kl_auth_challenge c;
    assert_int_equal(kl_auth_challenge_parse("Bearer realm=\"https://auth.docker.io/token\","
                                             "service=\"registry.docker.io\",scope=\"repository:"
                                             "library/busybox:pull\"",
                                             &c),
                     0);
    assert_string_equal(c.scheme, "Bearer");
    assert_string_equal(c.realm, "https://auth.docker.io/token");
    assert_string_equal(c.service, "registry.docker.io");
    assert_string_equal(c.scope, "repository:library/busybox:pull");
    kl_auth_challenge_free(&c);

    assert_int_equal(
        kl_auth_challenge_parse("Bearer realm=http://t:1/token, Service=\"a \\\"b\\\"\", "
                                "error=\"insufficient_scope\"",
                                &c),
        0);
    assert_string_equal(c.realm, "http://t:1/token");
    assert_string_equal(c.service, "a \"b\"");
    assert_null(c.scope);
    kl_auth_challenge_free(&c);

    assert_int_equal(kl_auth_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
    assert_string_equal(c.scheme, "Basic");
    assert_string_equal(c.realm, "Registry Realm");
    kl_auth_challenge_free(&c);

    assert_int_equal(kl_auth_challenge_parse("", &c), -EINVAL);
    assert_int_equal(kl_auth_challenge_parse("Bearer realm=\"unterminated", &c), -EINVAL);
    assert_int_equal(kl_auth_challenge_parse("Bearer realm", &c), -EINVAL);
}

/* ---- platform selection ---- */

static void selects_the_platform_entry_of_an_index(void **state)
{
    (void)state;
    cJSON *idx = cJSON_Parse(
        "{\"schemaVersion\":2,\"manifests\":["
        "{\"digest\":\"sha256:a\",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\","
        "\"variant\":\"v8\"}},"
        "{\"digest\":\"sha256:w\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\"}},"
        "{\"digest\":\"sha256:u\",\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}},"
        "{\"digest\":\"sha256:x\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}");
    const cJSON *e = kl_manifest_select_platform(idx, "linux", "amd64");
    assert_non_null(e);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "digest")->valuestring, "sha256:x");
    e = kl_manifest_select_platform(idx, "linux", "arm64");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "digest")->valuestring, "sha256:a");
    assert_null(kl_manifest_select_platform(idx, "linux", "s390x"));
    cJSON_Delete(idx);

    idx = cJSON_Parse(
        "{\"manifests\":[{\"digest\":\"sha256:n\"},"
        "{\"digest\":\"sha256:p\",\"platform\":{\"architecture\":\"ppc64le\",\"os\":\"linux\"}}]}");
    e = kl_manifest_select_platform(idx, "linux", "amd64");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "digest")->valuestring, "sha256:n");
    cJSON_Delete(idx);
    assert_string_equal(kl_host_arch(), "amd64");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_valid_references),
        cmocka_unit_test(prints_reference_string_with_tag_and_digest),
        cmocka_unit_test(accepts_tag_up_to_128_characters),
        cmocka_unit_test(rejects_invalid_references_with_docker_messages),
        cmocka_unit_test(rejects_repository_names_over_255_characters),
        cmocka_unit_test(recognizes_image_ids),
        cmocka_unit_test(applies_default_tag_like_the_kubelet),
        cmocka_unit_test(defaults_pull_policy_from_the_tag),
        cmocka_unit_test(quotes_like_go),
        cmocka_unit_test(parses_mirror_flags_and_orders_endpoints),
        cmocka_unit_test(rejects_malformed_mirror_flags),
        cmocka_unit_test(parses_bearer_and_basic_challenges),
        cmocka_unit_test(selects_the_platform_entry_of_an_index),
    };
    return cmocka_run_group_tests_name("image_ref", tests, NULL, NULL);
}
