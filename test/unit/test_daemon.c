/* Unit tests for daemon.c: the /healthz /livez /readyz /metrics endpoint (upstream's healthz
 * texts: default ping, verbose listings, withheld reasons, per-check paths, exclude), HTTPS with
 * a self-signed certificate kept in --cert-dir, and SIGTERM turned into a cancel. The signal
 * test runs first, before any thread exists, as a daemon's main does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cancel.h"
#include "client.h"
#include "daemon.h"
#include "mem.h"
#include "timeutil.h"

static int get(const char *base, const char *verb, const char *path, char *out, size_t size)
{
    struct ck_rest_config cfg = {.host = (char *)base, .insecure = !strncmp(base, "https", 5)};
    struct ck_client_opts co = {.qps = -1, .max_retries = -1};
    struct ck_client *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_client_new(&cfg, &co, &c, &err), 0);
    struct ck_request req = {.verb = verb, .path = path};
    struct ck_response resp = CK_RESPONSE_INIT;
    ck_client_do(c, &req, &resp, &err);
    snprintf(out, size, "%s", resp.body.data ? resp.body.data : "");
    int status = resp.status;
    ck_response_free(&resp);
    ck_error_clear(&err);
    ck_client_free(c);
    return status;
}

static void sigterm_fires_the_stop_token(void **state)
{
    (void)state;
    assert_int_equal(ck_signals_block(), 0);
    struct ck_cancel *stop = ck_cancel_new();
    struct ck_signals *s = NULL;
    assert_int_equal(ck_signals_start(stop, &s), 0);
    assert_int_equal(ck_signals_received(s), 0);
    kill(getpid(), SIGTERM);
    assert_int_equal(ck_cancel_sleep(stop, 5 * CK_SECOND), -ECANCELED);
    assert_int_equal(ck_signals_received(s), SIGTERM);
    ck_signals_stop(s);
    ck_cancel_free(stop);
}

static int passing(void *ctx, struct ck_error *why)
{
    (void)ctx;
    (void)why;
    return 0;
}

static int failing(void *ctx, struct ck_error *why)
{
    snprintf(why->message, sizeof(why->message), "%s", (const char *)ctx);
    return -EIO;
}

static void health_endpoints_speak_upstreams_texts(void **state)
{
    (void)state;
    struct ck_metrics *reg = ck_metrics_new();
    ck_metric_inc(ck_metric_with(ck_metrics_counter(reg, "things_total", "Things.", NULL), NULL));
    struct ck_daemon_opts o = {.component = "test", .bind_address = "127.0.0.1",
                               .secure_port = -1, .plain_http = true, .metrics = reg};
    struct ck_daemon *d = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_daemon_start(&o, &d, &err), 0);
    char base[64], body[4096];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", ck_daemon_port(d));
    /* no checks yet: upstream's default ping */
    assert_int_equal(get(base, "GET", "/healthz", body, sizeof(body)), 200);
    assert_string_equal(body, "ok");
    assert_int_equal(get(base, "GET", "/livez?verbose", body, sizeof(body)), 200);
    assert_string_equal(body, "[+]ping ok\nlivez check passed\n");
    ck_daemon_add_check(d, "informer-sync", CK_CHECK_READYZ, passing, NULL);
    ck_daemon_add_check(d, "etcd", CK_CHECK_READYZ | CK_CHECK_HEALTHZ, failing, "etcd down");
    /* failures always list every check, the reason withheld */
    assert_int_equal(get(base, "GET", "/readyz", body, sizeof(body)), 500);
    assert_string_equal(body, "[+]informer-sync ok\n[-]etcd failed: reason withheld\n"
                              "readyz check failed\n");
    assert_int_equal(get(base, "GET", "/healthz", body, sizeof(body)), 500);
    assert_string_equal(body, "[-]etcd failed: reason withheld\nhealthz check failed\n");
    /* one check: its reason is served */
    assert_int_equal(get(base, "GET", "/readyz/etcd", body, sizeof(body)), 500);
    assert_string_equal(body, "internal server error: etcd down\n");
    assert_int_equal(get(base, "GET", "/readyz/informer-sync", body, sizeof(body)), 200);
    assert_string_equal(body, "ok");
    assert_int_equal(get(base, "GET", "/readyz/nope", body, sizeof(body)), 404);
    /* exclusion */
    assert_int_equal(get(base, "GET", "/readyz?exclude=etcd", body, sizeof(body)), 200);
    assert_string_equal(body, "ok");
    assert_int_equal(get(base, "GET", "/readyz?verbose&exclude=etcd", body, sizeof(body)), 200);
    assert_string_equal(body, "[+]informer-sync ok\n[+]etcd excluded: ok\nreadyz check passed\n");
    assert_int_equal(get(base, "GET", "/readyz?exclude=nope", body, sizeof(body)), 500);
    assert_non_null(strstr(body, "warn: some health checks cannot be excluded: no matches for "
                                 "\"nope\"\n"));
    /* livez has only its default */
    assert_int_equal(get(base, "GET", "/livez", body, sizeof(body)), 200);
    /* metrics, other paths, other methods */
    assert_int_equal(get(base, "GET", "/metrics", body, sizeof(body)), 200);
    assert_string_equal(body, "# HELP things_total Things.\n# TYPE things_total counter\n"
                              "things_total 1\n");
    assert_int_equal(get(base, "GET", "/healthzz", body, sizeof(body)), 404);
    assert_string_equal(body, "404 page not found\n");
    assert_int_equal(get(base, "POST", "/healthz", body, sizeof(body)), 405);
    ck_daemon_stop(d);
    /* port 0: nothing served */
    struct ck_daemon_opts off = {.secure_port = 0};
    assert_int_equal(ck_daemon_start(&off, &d, &err), 0);
    assert_int_equal(ck_daemon_port(d), 0);
    ck_daemon_stop(d);
    ck_metrics_free(reg);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = ck_xcalloc(1, 16384);
    size_t n = fread(buf, 1, 16383, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void https_with_a_kept_self_signed_certificate(void **state)
{
    (void)state;
    char dir[] = "/tmp/ck7-certdir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct ck_daemon_opts o = {.component = "kube-test", .bind_address = "127.0.0.1",
                               .secure_port = -1, .cert_dir = dir};
    struct ck_daemon *d = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_daemon_start(&o, &d, &err), 0);
    char base[64], body[256];
    snprintf(base, sizeof(base), "https://127.0.0.1:%d", ck_daemon_port(d));
    assert_int_equal(get(base, "GET", "/healthz", body, sizeof(body)), 200);
    assert_string_equal(body, "ok");
    ck_daemon_stop(d);
    char *crt = ck_xasprintf("%s/kube-test.crt", dir), *key = ck_xasprintf("%s/kube-test.key", dir);
    char *first = slurp(crt);
    assert_non_null(first);
    assert_non_null(strstr(first, "-----BEGIN CERTIFICATE-----"));
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 077, 0); /* the key is private */
    /* a second start reuses the pair */
    assert_int_equal(ck_daemon_start(&o, &d, &err), 0);
    ck_daemon_stop(d);
    char *second = slurp(crt);
    assert_string_equal(first, second);
    free(first);
    free(second);
    unlink(crt);
    unlink(key);
    rmdir(dir);
    free(crt);
    free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigterm_fires_the_stop_token),
        cmocka_unit_test(health_endpoints_speak_upstreams_texts),
        cmocka_unit_test(https_with_a_kept_self_signed_certificate),
    };
    int rc = cmocka_run_group_tests_name("daemon", tests, NULL, NULL);
    ck_metrics_default_reset();
    return rc;
}
