/* daemon.c - /healthz /livez /readyz /metrics endpoint and signal handling (see daemon.h). */
#include "daemon.h"

#include <errno.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "encoding.h"
#include "httpd.h"
#include "log.h"
#include "mem.h"
#include "timeutil.h"

struct check {
    char *name;
    unsigned kinds;
    ck_check_fn fn;
    void *ctx;
    struct check *next;
};

struct ck_daemon {
    char *component;
    struct ck_metrics *metrics;
    struct ck_httpd *httpd;
    pthread_mutex_t lock; /* guards checks */
    struct check *checks;  /* in registration order */
};

int ck_daemon_add_check(struct ck_daemon *d, const char *name, unsigned kinds, ck_check_fn fn,
                        void *ctx)
{
    if (!d || !name || !fn)
        return -EINVAL;
    struct check *c = ck_xcalloc(1, sizeof(*c));
    c->name = ck_xstrdup(name);
    c->kinds = kinds;
    c->fn = fn;
    c->ctx = ctx;
    pthread_mutex_lock(&d->lock);
    struct check **pp = &d->checks;
    while (*pp)
        pp = &(*pp)->next;
    *pp = c;
    pthread_mutex_unlock(&d->lock);
    return 0;
}

static int ping(void *ctx, struct ck_error *why)
{
    (void)ctx;
    (void)why;
    return 0;
}

/* a snapshot of the checks for one endpoint (upstream's default: ping alone) */
static size_t checks_for(struct ck_daemon *d, unsigned kind, struct check *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&d->lock);
    for (struct check *c = d->checks; c && n < max; c = c->next)
        if (c->kinds & kind)
            out[n++] = *c;
    pthread_mutex_unlock(&d->lock);
    if (n == 0)
        out[n++] = (struct check){.name = "ping", .kinds = kind, .fn = ping};
    return n;
}

static void respond_text(struct ck_http_req *r, int status, const char *text)
{
    ck_http_add_header(r, "X-Content-Type-Options", "nosniff");
    ck_http_respond(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* excluded: ?exclude=a&exclude=b reaches us as the first value only (libmicrohttpd) */
static void serve_health(struct ck_daemon *d, struct ck_http_req *r, const char *name,
                         unsigned kind, const char *sub)
{
    struct check cs[64];
    size_t n = checks_for(d, kind, cs, CK_ARRAY_SIZE(cs));
    if (sub) { /* /healthz/<check> */
        for (size_t i = 0; i < n; i++) {
            if (strcmp(cs[i].name, sub))
                continue;
            struct ck_error why = CK_ERROR_INIT;
            if (cs[i].fn(cs[i].ctx, &why) < 0) {
                char *msg = ck_xasprintf("internal server error: %s\n", why.message);
                respond_text(r, 500, msg);
                free(msg);
            } else {
                respond_text(r, 200, "ok");
            }
            ck_error_clear(&why);
            return;
        }
        respond_text(r, 404, "404 page not found\n");
        return;
    }
    const char *exclude = ck_http_query(r, "exclude");
    bool excluded_found = false;
    struct ck_buf out = CK_BUF_INIT, log = CK_BUF_INIT, failed = CK_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (exclude && !strcmp(exclude, cs[i].name)) {
            excluded_found = true;
            ck_buf_printf(&out, "[+]%s excluded: ok\n", cs[i].name);
            continue;
        }
        struct ck_error why = CK_ERROR_INIT;
        if (cs[i].fn(cs[i].ctx, &why) < 0) {
            ck_buf_printf(&out, "[-]%s failed: reason withheld\n", cs[i].name);
            ck_buf_printf(&log, "[-]%s failed: %s\n", cs[i].name, why.message);
            ck_buf_printf(&failed, "%s%s", failed.len ? "," : "", cs[i].name);
        } else {
            ck_buf_printf(&out, "[+]%s ok\n", cs[i].name);
        }
        ck_error_clear(&why);
    }
    if (exclude && exclude[0] && !excluded_found)
        ck_buf_printf(&out, "warn: some health checks cannot be excluded: no matches for \"%s\"\n",
                      exclude);
    if (failed.len) {
        ck_vinfo(2, "%s check failed: %s\n%s", ck_buf_str(&failed), name, ck_buf_str(&log));
        ck_buf_printf(&out, "%s check failed\n", name);
        respond_text(r, 500, ck_buf_str(&out));
    } else if (!ck_http_query(r, "verbose")) {
        respond_text(r, 200, "ok");
    } else {
        ck_buf_printf(&out, "%s check passed\n", name);
        respond_text(r, 200, ck_buf_str(&out));
    }
    ck_buf_free(&out);
    ck_buf_free(&log);
    ck_buf_free(&failed);
}

static void handle(struct ck_http_req *r, void *ctx)
{
    struct ck_daemon *d = ctx;
    const char *path = ck_http_path(r);
    const char *method = ck_http_method(r);
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        respond_text(r, 405, "Method Not Allowed\n");
        return;
    }
    static const struct {
        const char *name;
        unsigned kind;
    } eps[] = {{"healthz", CK_CHECK_HEALTHZ}, {"livez", CK_CHECK_LIVEZ}, {"readyz", CK_CHECK_READYZ}};
    for (size_t i = 0; i < CK_ARRAY_SIZE(eps); i++) {
        size_t l = strlen(eps[i].name);
        if (path[0] == '/' && !strncmp(path + 1, eps[i].name, l) &&
            (path[l + 1] == '\0' || (path[l + 1] == '/' && path[l + 2]))) {
            serve_health(d, r, eps[i].name, eps[i].kind, path[l + 1] ? path + l + 2 : NULL);
            return;
        }
    }
    if (!strcmp(path, "/metrics")) {
        struct ck_buf b = CK_BUF_INIT;
        ck_metrics_write(d->metrics, &b);
        ck_http_respond(r, 200, CK_METRICS_CONTENT_TYPE, ck_buf_str(&b), b.len);
        ck_buf_free(&b);
        return;
    }
    respond_text(r, 404, "404 page not found\n");
}

/* ---- self-signed serving certificate ------------------------------------------------------- */

static int write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    if (k)
        fchmod(fileno(f), 0600);
    int ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    return ok ? 0 : -EIO;
}

/* A self-signed certificate for localhost and 127.0.0.1 (P-256 key, one year), as upstream's
 * GenerateSelfSignedCertKey would make for the loopback address, written to cert/key. */
static int self_signed(const char *component, const char *cert, const char *key)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    int rc = -EIO;
    if (!k || !x)
        goto out;
    X509_set_version(x, 2);
    uint8_t serial[8];
    ck_rand_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600);
    X509_set_pubkey(x, k);
    char cn[256];
    snprintf(cn, sizeof(cn), "localhost@%lld", (long long)time(NULL));
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    static const struct {
        int nid;
        const char *value;
    } exts[] = {
        {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
        {NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign"},
        {NID_ext_key_usage, "serverAuth"},
        {NID_basic_constraints, "critical,CA:TRUE"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(exts); i++) {
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, exts[i].value);
        if (!e)
            goto out;
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (!X509_sign(x, k, EVP_sha256()))
        goto out;
    rc = write_pem(cert, x, NULL);
    if (rc == 0)
        rc = write_pem(key, NULL, k);
    if (rc == 0)
        ck_info("Generated self-signed cert (%s, %s) for %s", cert, key, component);
out:
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}

int ck_daemon_start(const struct ck_daemon_opts *opts, struct ck_daemon **out,
                    struct ck_error *err)
{
    *out = NULL;
    struct ck_daemon_opts none = {0};
    if (!opts)
        opts = &none;
    struct ck_daemon *d = ck_xcalloc(1, sizeof(*d));
    d->component = ck_xstrdup(opts->component ? opts->component : "ckube");
    d->metrics = opts->metrics ? opts->metrics : ck_metrics_default();
    pthread_mutex_init(&d->lock, NULL);
    if (opts->secure_port == 0) {
        *out = d;
        return 0;
    }
    struct ck_httpd_config hc = {
        .bind_address = opts->bind_address ? opts->bind_address : "0.0.0.0",
        .port = opts->secure_port < 0 ? 0 : opts->secure_port,
        .handler = handle,
        .ctx = d,
    };
    char tmpdir[64] = "";
    char *cert = NULL, *key = NULL;
    int rc = 0;
    if (!opts->plain_http) {
        if (opts->tls_cert_file && opts->tls_key_file) {
            hc.tls_cert_file = opts->tls_cert_file;
            hc.tls_key_file = opts->tls_key_file;
        } else {
            const char *dir = opts->cert_dir;
            if (!dir || !dir[0]) {
                snprintf(tmpdir, sizeof(tmpdir), "/tmp/ckube-serving-XXXXXX");
                if (!mkdtemp(tmpdir)) {
                    tmpdir[0] = '\0';
                    rc = -errno;
                }
                dir = tmpdir;
            } else {
                mkdir(dir, 0700);
            }
            cert = ck_xasprintf("%s/%s.crt", dir, d->component);
            key = ck_xasprintf("%s/%s.key", dir, d->component);
            if (rc == 0 && (access(cert, R_OK) != 0 || access(key, R_OK) != 0))
                rc = self_signed(d->component, cert, key);
            if (rc < 0)
                ck_error_set(err, 500, CK_REASON_INTERNAL,
                             "unable to create a self-signed certificate: %s", strerror(-rc));
            hc.tls_cert_file = cert;
            hc.tls_key_file = key;
        }
    }
    if (rc == 0)
        rc = ck_httpd_start(&hc, &d->httpd, err);
    if (tmpdir[0]) { /* the server keeps the PEM in memory */
        unlink(cert);
        unlink(key);
        rmdir(tmpdir);
    }
    free(cert);
    free(key);
    if (rc < 0) {
        ck_daemon_stop(d);
        return rc;
    }
    ck_info("Serving %s on %s:%d", opts->plain_http ? "insecurely" : "securely",
            hc.bind_address, ck_httpd_port(d->httpd));
    *out = d;
    return 0;
}

void ck_daemon_stop(struct ck_daemon *d)
{
    if (!d)
        return;
    ck_httpd_stop(d->httpd);
    while (d->checks) {
        struct check *c = d->checks;
        d->checks = c->next;
        free(c->name);
        free(c);
    }
    pthread_mutex_destroy(&d->lock);
    free(d->component);
    free(d);
}

int ck_daemon_port(const struct ck_daemon *d)
{
    return d && d->httpd ? ck_httpd_port(d->httpd) : 0;
}

/* ---- signals ------------------------------------------------------------------------------- */

struct ck_signals {
    struct ck_cancel *stop;
    pthread_t thread;
    pthread_mutex_t lock; /* guards quit, received */
    bool quit;
    int received;
};

static void signal_set(sigset_t *s)
{
    sigemptyset(s);
    sigaddset(s, SIGTERM);
    sigaddset(s, SIGINT);
}

int ck_signals_block(void)
{
    signal(SIGPIPE, SIG_IGN);
    sigset_t s;
    signal_set(&s);
    return -pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void *signals_main(void *arg)
{
    struct ck_signals *s = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    for (;;) {
        pthread_mutex_lock(&s->lock);
        bool quit = s->quit;
        pthread_mutex_unlock(&s->lock);
        if (quit)
            break;
        struct timespec ts = {0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig <= 0)
            continue;
        pthread_mutex_lock(&s->lock);
        bool first = s->received == 0;
        if (first)
            s->received = sig;
        pthread_mutex_unlock(&s->lock);
        if (first) {
            ck_info("Received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            ck_cancel_fire(s->stop);
        } else {
            ck_warn("Received another signal while shutting down");
        }
    }
    return NULL;
}

int ck_signals_start(struct ck_cancel *stop, struct ck_signals **out)
{
    struct ck_signals *s = ck_xcalloc(1, sizeof(*s));
    s->stop = stop;
    pthread_mutex_init(&s->lock, NULL);
    int rc = -pthread_create(&s->thread, NULL, signals_main, s);
    if (rc < 0) {
        pthread_mutex_destroy(&s->lock);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int ck_signals_received(struct ck_signals *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    int r = s->received;
    pthread_mutex_unlock(&s->lock);
    return r;
}

void ck_signals_stop(struct ck_signals *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->quit = true;
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
