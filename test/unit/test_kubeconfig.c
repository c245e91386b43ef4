/* Unit tests for kubeconfig.c: clientcmd's loading rules (explicit path, $KUBECONFIG merge where
 * the first file wins per name, ~/.kube/config), context resolution and overrides, path
 * resolution, validation messages, and in-cluster configuration. Files live in a fresh
 * temporary directory removed at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "kubeconfig.h"
#include "mem.h"

static char tmpdir[64];

static char *path_of(const char *name)
{
    return ck_xasprintf("%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *content)
{
    char *p = path_of(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    free(p);
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/ck7-kubeconfig-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("POD_NAMESPACE");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char *cmd = ck_xasprintf("rm -rf '%s'", tmpdir);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

/* "Q0EtUEVN" is base64 of "CA-PEM" */
static const char *full_config = "apiVersion: v1\n"
                                 "kind: Config\n"
                                 "clusters:\n"
                                 "- name: prod\n"
                                 "  cluster:\n"
                                 "    server: https://10.0.0.1:6443\n"
                                 "    certificate-authority-data: Q0EtUEVN\n"
                                 "    tls-server-name: api.example\n"
                                 "- name: dev\n"
                                 "  cluster:\n"
                                 "    server: 127.0.0.1:8080\n"
                                 "users:\n"
                                 "- name: admin\n"
                                 "  user:\n"
                                 "    token: secret-token\n"
                                 "- name: filetok\n"
                                 "  user:\n"
                                 "    tokenFile: tok\n"
                                 "contexts:\n"
                                 "- name: prod-admin\n"
                                 "  context:\n"
                                 "    cluster: prod\n"
                                 "    user: admin\n"
                                 "    namespace: kube-system\n"
                                 "- name: dev\n"
                                 "  context:\n"
                                 "    cluster: dev\n"
                                 "    user: filetok\n"
                                 "current-context: prod-admin\n";

static void explicit_file_resolves_current_context(void **state)
{
    (void)state;
    write_file("full", full_config);
    char *p = path_of("full");
    struct ck_kubeconfig_opts o = {.explicit_path = p};
    struct ck_rest_config *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_kubeconfig_load(&o, &c, &err), 0);
    assert_string_equal(c->host, "https://10.0.0.1:6443");
    assert_string_equal(c->namespace, "kube-system");
    assert_string_equal(c->context, "prod-admin");
    assert_int_equal(c->ca_data_len, 6);
    assert_memory_equal(c->ca_data, "CA-PEM", 6);
    assert_string_equal(c->tls_server_name, "api.example");
    assert_string_equal(c->token, "secret-token");
    assert_null(c->token_file);
    assert_false(c->insecure);
    /* a copy is deep */
    struct ck_rest_config *d = ck_rest_config_dup(c);
    ck_rest_config_free(c);
    assert_memory_equal(d->ca_data, "CA-PEM", 6);
    assert_string_equal(d->token, "secret-token");
    ck_rest_config_free(d);
    free(p);
}

static void context_override_token_file_and_scheme_default(void **state)
{
    (void)state;
    write_file("full", full_config);
    write_file("tok", "  file-token\n");
    char *p = path_of("full");
    struct ck_kubeconfig_opts o = {.explicit_path = p, .context = "dev"};
    struct ck_rest_config *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_kubeconfig_load(&o, &c, &err), 0);
    /* a server without scheme and no TLS settings is plain http (rest.DefaultServerURL) */
    assert_string_equal(c->host, "http://127.0.0.1:8080");
    assert_string_equal(c->namespace, "default");
    /* tokenFile relative to the kubeconfig's directory, read and trimmed */
    char *tok = path_of("tok");
    assert_string_equal(c->token_file, tok);
    assert_string_equal(c->token, "file-token");
    free(tok);
    ck_rest_config_free(c);
    /* --master and --namespace override */
    struct ck_kubeconfig_opts o2 = {.explicit_path = p, .master = "https://other:443",
                                    .namespace = "ns1"};
    assert_int_equal(ck_kubeconfig_load(&o2, &c, &err), 0);
    assert_string_equal(c->host, "https://other:443");
    assert_string_equal(c->namespace, "ns1");
    assert_string_equal(c->token, "secret-token");
    ck_rest_config_free(c);
    /* an unknown context is an error with upstream's words */
    struct ck_kubeconfig_opts o3 = {.explicit_path = p, .context = "nope"};
    assert_int_equal(ck_kubeconfig_load(&o3, &c, &err), -EINVAL);
    assert_null(c);
    /* as upstream's ConfirmUsable: the missing context leaves an empty cluster, reported too */
    assert_string_equal(err.message,
                        "invalid configuration: [context was not found for specified context: "
                        "nope, cluster has no server defined]");
    free(p);
}

static void kubeconfig_env_merges_first_file_wins(void **state)
{
    (void)state;
    write_file("a", "clusters:\n"
                    "- name: shared\n"
                    "  cluster:\n"
                    "    server: https://a:1\n"
                    "    certificate-authority: certs/ca.pem\n"
                    "users:\n"
                    "- name: u\n"
                    "  user:\n"
                    "    token: from-a\n"
                    "contexts:\n"
                    "- name: ctx-a\n"
                    "  context: {cluster: shared, user: u}\n");
    write_file("b", "clusters:\n"
                    "- name: shared\n"
                    "  cluster:\n"
                    "    server: https://b:2\n"
                    "    insecure-skip-tls-verify: true\n"
                    "- name: only-b\n"
                    "  cluster:\n"
                    "    server: https://b:3\n"
                    "contexts:\n"
                    "- name: ctx-b\n"
                    "  context: {cluster: only-b, user: u, namespace: nb}\n"
                    "current-context: ctx-b\n");
    write_file("c", "current-context: ctx-a\n");
    char *certs = ck_xasprintf("%s/certs", tmpdir);
    mkdir(certs, 0700);
    free(certs);
    write_file("certs/ca.pem", "-----BEGIN CERTIFICATE-----\n");
    char *a = path_of("a"), *b = path_of("b"), *cc = path_of("c");
    /* a missing file, an empty entry and a repeated path are all fine */
    char *env = ck_xasprintf("%s/missing::%s:%s:%s:%s", tmpdir, a, b, a, cc);
    setenv("KUBECONFIG", env, 1);
    struct ck_kubeconfig_opts o = {.use_env = true};
    cJSON *merged = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_kubeconfig_load_merged(&o, &merged, &err), 0);
    /* "shared" comes whole from a: b's insecure flag is discarded */
    assert_string_equal(ck_json_get_string(merged, "clusters.shared.server", ""), "https://a:1");
    assert_null(ck_json_get(merged, "clusters.shared.insecure-skip-tls-verify"));
    /* relative paths are made absolute against the defining file's directory */
    char *ca = path_of("certs/ca.pem");
    assert_string_equal(ck_json_get_string(merged, "clusters.shared.certificate-authority", ""),
                        ca);
    assert_string_equal(ck_json_get_string(merged, "clusters.only-b.server", ""), "https://b:3");
    /* current-context: the first file that sets it (b, not c) */
    assert_string_equal(ck_json_get_string(merged, "current-context", ""), "ctx-b");
    cJSON_Delete(merged);

    struct ck_rest_config *c = NULL;
    assert_int_equal(ck_kubeconfig_load(&o, &c, &err), 0);
    assert_string_equal(c->host, "https://b:3");
    assert_string_equal(c->namespace, "nb");
    assert_string_equal(c->token, "from-a"); /* user u from file a */
    ck_rest_config_free(c);
    struct ck_kubeconfig_opts o2 = {.use_env = true, .context = "ctx-a"};
    assert_int_equal(ck_kubeconfig_load(&o2, &c, &err), 0);
    assert_string_equal(c->host, "https://a:1");
    assert_string_equal(c->ca_file, ca);
    ck_rest_config_free(c);
    /* an explicit path ignores $KUBECONFIG entirely */
    struct ck_kubeconfig_opts o3 = {.explicit_path = cc, .use_env = true};
    assert_int_equal(ck_kubeconfig_load(&o3, &c, &err), -EINVAL);
    assert_string_equal(err.message,
                        "invalid configuration: [context was not found for specified context: "
                        "ctx-a, cluster has no server defined]");
    unsetenv("KUBECONFIG");
    free(ca);
    free(env);
    free(a);
    free(b);
    free(cc);
}

static void home_config_is_the_default(void **state)
{
    (void)state;
    char *home = ck_xasprintf("%s/home", tmpdir), *kube = ck_xasprintf("%s/home/.kube", tmpdir);
    mkdir(home, 0700);
    mkdir(kube, 0700);
    write_file("home/.kube/config", "clusters: [{name: h, cluster: {server: 'https://h:9'}}]\n"
                                    "contexts: [{name: h, context: {cluster: h}}]\n"
                                    "current-context: h\n");
    char *old = getenv("HOME") ? ck_xstrdup(getenv("HOME")) : NULL;
    unsetenv("KUBECONFIG");
    setenv("HOME", home, 1);
    struct ck_kubeconfig_opts o = {.use_env = true};
    struct ck_rest_config *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_kubeconfig_load(&o, &c, &err), 0);
    assert_string_equal(c->host, "https://h:9");
    ck_rest_config_free(c);
    if (old)
        setenv("HOME", old, 1);
    free(old);
    free(home);
    free(kube);
}

static void validation_errors_read_as_upstream(void **state)
{
    (void)state;
    struct ck_rest_config *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    /* nothing at all */
    struct ck_kubeconfig_opts none = {0};
    assert_int_equal(ck_kubeconfig_load(&none, &c, &err), -EINVAL);
    assert_string_equal(err.message, "invalid configuration: no configuration has been provided, "
                                     "try setting KUBERNETES_MASTER environment variable");
    /* --master alone is enough */
    struct ck_kubeconfig_opts m = {.master = "http://127.0.0.1:1234"};
    assert_int_equal(ck_kubeconfig_load(&m, &c, &err), 0);
    assert_string_equal(c->host, "http://127.0.0.1:1234");
    assert_string_equal(c->namespace, "default");
    ck_rest_config_free(c);
    /* a missing explicit file */
    char *missing = path_of("nope");
    struct ck_kubeconfig_opts x = {.explicit_path = missing};
    assert_int_equal(ck_kubeconfig_load(&x, &c, &err), -ENOENT);
    char *want = ck_xasprintf("stat %s: no such file or directory", missing);
    assert_string_equal(err.message, want);
    free(want);
    free(missing);
    /* client certificate without key, and an unreadable CA, reported together */
    write_file("bad", "clusters: [{name: k, cluster: {server: 'https://k', "
                      "certificate-authority: /nonexistent/ca}}]\n"
                      "users: [{name: v, user: {client-certificate-data: Q0EtUEVN}}]\n"
                      "contexts: [{name: k, context: {cluster: k, user: v}}]\n"
                      "current-context: k\n");
    char *bad = path_of("bad");
    struct ck_kubeconfig_opts b = {.explicit_path = bad};
    assert_int_equal(ck_kubeconfig_load(&b, &c, &err), -EINVAL);
    assert_string_equal(err.message,
                        "invalid configuration: [client-key-data or client-key must be specified "
                        "for v to use the clientCert authentication method., unable to read "
                        "certificate-authority /nonexistent/ca for k due to open /nonexistent/ca: "
                        "no such file or directory]");
    /* a cluster without server */
    write_file("noserver", "clusters: [{name: k, cluster: {insecure-skip-tls-verify: true}}]\n"
                           "contexts: [{name: k, context: {cluster: k}}]\n"
                           "current-context: k\n");
    char *ns = path_of("noserver");
    struct ck_kubeconfig_opts n = {.explicit_path = ns};
    assert_int_equal(ck_kubeconfig_load(&n, &c, &err), -EINVAL);
    assert_string_equal(err.message, "invalid configuration: no server found for cluster \"k\"");
    /* the same name twice in one file */
    write_file("dup", "clusters: [{name: k, cluster: {server: a}}, {name: k, cluster: {}}]\n");
    char *dup = path_of("dup");
    struct ck_kubeconfig_opts d = {.explicit_path = dup};
    assert_int_equal(ck_kubeconfig_load(&d, &c, &err), -EINVAL);
    assert_non_null(strstr(err.message, "duplicate name \"k\" in list"));
    /* malformed YAML */
    write_file("yaml", "clusters: [\n");
    char *y = path_of("yaml");
    struct ck_kubeconfig_opts yo = {.explicit_path = y};
    assert_int_equal(ck_kubeconfig_load(&yo, &c, &err), -EINVAL);
    assert_true(!strncmp(err.message, "error loading config file \"", 27));
    /* an empty file is an empty config, not a parse error */
    write_file("empty", "\n");
    char *e = path_of("empty");
    struct ck_kubeconfig_opts eo = {.explicit_path = e, .master = "https://m"};
    assert_int_equal(ck_kubeconfig_load(&eo, &c, &err), 0);
    assert_string_equal(c->host, "https://m");
    ck_rest_config_free(c);
    free(e);
    free(y);
    free(dup);
    free(ns);
    free(bad);
    ck_error_clear(&err);
}

static void insecure_and_client_certificates(void **state)
{
    (void)state;
    write_file("cert.pem", "CERT");
    write_file("key.pem", "KEY");
    write_file("tls", "clusters: [{name: k, cluster: {server: '127.0.0.1:6443', "
                      "insecure-skip-tls-verify: true}}]\n"
                      "users: [{name: v, user: {client-certificate: cert.pem, client-key: "
                      "key.pem}}]\n"
                      "contexts: [{name: k, context: {cluster: k, user: v}}]\n"
                      "current-context: k\n");
    char *p = path_of("tls"), *cert = path_of("cert.pem"), *key = path_of("key.pem");
    struct ck_kubeconfig_opts o = {.explicit_path = p};
    struct ck_rest_config *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_kubeconfig_load(&o, &c, &err), 0);
    assert_true(c->insecure);
    assert_string_equal(c->host, "https://127.0.0.1:6443"); /* TLS settings: https */
    assert_string_equal(c->cert_file, cert);
    assert_string_equal(c->key_file, key);
    ck_rest_config_free(c);
    free(p);
    free(cert);
    free(key);
}

static void in_cluster_config(void **state)
{
    (void)state;
    struct ck_rest_config *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    char *sa = path_of("sa");
    mkdir(sa, 0700);
    assert_int_equal(ck_rest_config_in_cluster(sa, &c, &err), -ENOENT);
    assert_string_equal(err.message, "unable to load in-cluster configuration, "
                                     "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be "
                                     "defined");
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    /* no token file: an error */
    assert_true(ck_rest_config_in_cluster(sa, &c, &err) < 0);
    write_file("sa/token", "jwt-token");
    write_file("sa/ca.crt", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
    write_file("sa/namespace", "team-a");
    assert_int_equal(ck_rest_config_in_cluster(sa, &c, &err), 0);
    assert_string_equal(c->host, "https://10.96.0.1:443");
    assert_string_equal(c->token, "jwt-token");
    char *tok = path_of("sa/token"), *ca = path_of("sa/ca.crt");
    assert_string_equal(c->token_file, tok);
    assert_string_equal(c->ca_file, ca);
    assert_string_equal(c->namespace, "team-a");
    ck_rest_config_free(c);
    /* IPv6 hosts are bracketed; POD_NAMESPACE wins */
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("POD_NAMESPACE", "from-env", 1);
    assert_int_equal(ck_rest_config_in_cluster(sa, &c, &err), 0);
    assert_string_equal(c->host, "https://[fd00::1]:443");
    assert_string_equal(c->namespace, "from-env");
    ck_rest_config_free(c);
    unsetenv("POD_NAMESPACE");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    free(tok);
    free(ca);
    free(sa);
}

static void build_config_from_flags(void **state)
{
    (void)state;
    struct ck_rest_config *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    /* not in a cluster and nothing given: the empty-config error */
    assert_int_equal(ck_rest_config_from_flags(NULL, NULL, &c, &err), -EINVAL);
    assert_non_null(strstr(err.message, "no configuration has been provided"));
    /* $KUBECONFIG is not consulted by the daemons' loader */
    write_file("full", full_config);
    char *p = path_of("full");
    setenv("KUBECONFIG", p, 1);
    assert_int_equal(ck_rest_config_from_flags("", "", &c, &err), -EINVAL);
    unsetenv("KUBECONFIG");
    assert_int_equal(ck_rest_config_from_flags("http://127.0.0.1:9", NULL, &c, &err), 0);
    assert_string_equal(c->host, "http://127.0.0.1:9");
    ck_rest_config_free(c);
    /* --master overrides the kubeconfig's server, keeping its credentials */
    assert_int_equal(ck_rest_config_from_flags("https://m:1", p, &c, &err), 0);
    assert_string_equal(c->host, "https://m:1");
    assert_string_equal(c->token, "secret-token");
    ck_rest_config_free(c);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(explicit_file_resolves_current_context),
        cmocka_unit_test(context_override_token_file_and_scheme_default),
        cmocka_unit_test(kubeconfig_env_merges_first_file_wins),
        cmocka_unit_test(home_config_is_the_default),
        cmocka_unit_test(validation_errors_read_as_upstream),
        cmocka_unit_test(insecure_and_client_certificates),
        cmocka_unit_test(in_cluster_config),
        cmocka_unit_test(build_config_from_flags),
    };
    return cmocka_run_group_tests_name("kubeconfig", tests, setup, teardown);
}
