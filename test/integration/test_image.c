/* Integration tests of the kubelet's image service against a REAL registry: docker-registry
 * started on 127.0.0.1 with a temporary config, seeded with images built here from Debian's
 * busybox-static with umoci (plus hand-made layers: opaque directories, devices, escapes) and
 * pushed with skopeo. A second docker-registry on the same storage demands bearer tokens from a
 * token server this test runs (ES256 JWTs with an x5c chain, as docker's token auth wants).
 *
 * Proves: pull by tag and digest over OCI and Docker schema 2 manifests and an index, digests
 * checked, the unpacked rootfs (modes, owners, symlinks, hardlinks, devices, xattrs) correct,
 * whiteouts and opaque directories seen as such by a real overlayfs mount, layers shared,
 * concurrent pulls doing the work once, mirrors (a dead one first), HTTPS unless configured
 * http://, the token flow, upstream's error messages (missing tag, manifest unknown, a corrupt
 * blob, refused access, escaping layers), pull policies, listing, removal and GC.
 *
 * Needs root (owners, device nodes, trusted.* xattrs, overlay mounts); skips otherwise.
 * Everything lives under /tmp/klimg-it-<pid>; registries die with the test (PDEATHSIG) and
 * teardown removes the rest, also when setup fails half-way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "encoding.h"
#include "error.h"
#include "httpd.h"
#include "kubelet/runtime/image.h"
#include "kubelet/runtime/layers.h"
#include "kubelet/runtime/registry.h"
#include "mem.h"
#include "test/lib/cluster.h"

/* ---- fixtures ---------------------------------------------------------------------------- */

#define BAD_DIFF_HEX "abababababababababababababababababababababababababababababababab"

static char g_tmp[128]; /* /tmp/klimg-it-<pid> */
static int g_port, g_auth_port;
static char g_host[64];      /* 127.0.0.1:<g_port> */
static char g_auth_host[64]; /* 127.0.0.1:<g_auth_port> */
static pid_t g_reg = -1, g_auth_reg = -1;
static struct ck_httpd *g_token_srv;
static struct ck_httpd *g_fake_srv; /* a registry that fails on purpose */
static atomic_int g_fake_flaky, g_fake_broken;
static struct kl_registry_config g_rc = KL_REGISTRY_CONFIG_INIT; /* both registries over http */
static struct kl_image_store *g_store;                           /* shared by the tests */
static bool g_ready;

/* token server state (guarded by g_tok_mu) */
static pthread_mutex_t g_tok_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_tok_requests;
static bool g_tok_deny;
static char g_tok_scope[256], g_tok_service[128];
static EVP_PKEY *g_tok_key;
static char *g_tok_x5c;

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    char *full = ck_xasprintf("(%s) >>%s/cmd.log 2>&1", cmd, g_tmp);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int st = system(full);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (getenv("KLIMG_TIMING"))
        fprintf(stderr, "# %.2fs %.70s\n",
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, cmd);
    free(full);
    free(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *tpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tpath(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *rel = NULL;
    if (vasprintf(&rel, fmt, ap) < 0)
        abort();
    va_end(ap);
    char *p = ck_xasprintf("%s/%s", g_tmp, rel);
    free(rel);
    return p;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct ck_buf b = CK_BUF_INIT;
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        ck_buf_add(&b, tmp, n);
    fclose(f);
    return ck_buf_detach(&b);
}

static void write_text(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

/* sha256 of a file as "sha256:<hex>"; caller frees. */
static char *file_digest(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        EVP_DigestUpdate(md, buf, n);
    fclose(f);
    unsigned char d[32];
    unsigned int len;
    EVP_DigestFinal_ex(md, d, &len);
    EVP_MD_CTX_free(md);
    char *hex = ck_hex_encode(d, 32);
    char *s = ck_xasprintf("sha256:%s", hex);
    free(hex);
    return s;
}


static bool port_open(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Starts docker-registry with config file cfg; it dies with us. Returns its pid or -1. */
static pid_t start_registry(const char *cfg, int port, const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("docker-registry", "docker-registry", "serve", cfg, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        if (port_open(port))
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static void stop_process(pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = -1;
            return;
        }
        sleep_ms(20);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = -1;
}

/* ---- a token server as docker's token auth expects --------------------------------------- */

static char *b64url(const void *d, size_t n)
{
    return ck_base64url_encode(d, n);
}

/* An ES256 JWT granting pull on repo, with the signing certificate in x5c. */
static char *make_jwt(const char *repo)
{
    char jti[37];
    ck_uuid4(jti);
    long now = (long)time(NULL);
    char *header = ck_xasprintf("{\"typ\":\"JWT\",\"alg\":\"ES256\",\"x5c\":[\"%s\"]}", g_tok_x5c);
    char *claims =
        ck_xasprintf("{\"iss\":\"klimg-issuer\",\"sub\":\"\",\"aud\":\"klimg-registry\","
                     "\"exp\":%ld,\"nbf\":%ld,\"iat\":%ld,\"jti\":\"%s\",\"access\":"
                     "[{\"type\":\"repository\",\"name\":\"%s\",\"actions\":[\"pull\"]}]}",
                     now + 600, now - 60, now, jti, repo);
    char *h64 = b64url(header, strlen(header)), *c64 = b64url(claims, strlen(claims));
    char *input = ck_xasprintf("%s.%s", h64, c64);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[256], sig[64];
    size_t derlen = sizeof(der);
    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, g_tok_key);
    EVP_DigestSign(md, der, &derlen, (const unsigned char *)input, strlen(input));
    EVP_MD_CTX_free(md);
    /* JWS wants r||s, OpenSSL gives DER */
    const unsigned char *dp = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &dp, (long)derlen);
    BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
    ECDSA_SIG_free(es);
    char *s64 = b64url(sig, sizeof(sig));
    char *jwt = ck_xasprintf("%s.%s", input, s64);
    free(header);
    free(claims);
    free(h64);
    free(c64);
    free(input);
    free(s64);
    return jwt;
}

static void token_handler(struct ck_http_req *req, void *ctx)
{
    (void)ctx;
    const char *scope = ck_http_query(req, "scope"), *service = ck_http_query(req, "service");
    pthread_mutex_lock(&g_tok_mu);
    g_tok_requests++;
    ck_snprintf(g_tok_scope, sizeof(g_tok_scope), "%s", scope ? scope : "");
    ck_snprintf(g_tok_service, sizeof(g_tok_service), "%s", service ? service : "");
    bool deny = g_tok_deny;
    pthread_mutex_unlock(&g_tok_mu);
    if (deny || !scope || strncmp(scope, "repository:", 11)) {
        const char *b = "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the "
                        "resource is denied\"}]}";
        ck_http_respond(req, 401, "application/json", b, strlen(b));
        return;
    }
    char repo[200];
    ck_snprintf(repo, sizeof(repo), "%s", scope + 11);
    char *colon = strrchr(repo, ':');
    if (colon)
        *colon = '\0';
    char *jwt = make_jwt(repo);
    char *body = ck_xasprintf("{\"token\":\"%s\",\"expires_in\":600}", jwt);
    ck_http_respond(req, 200, "application/json", body, strlen(body));
    free(body);
    free(jwt);
}

static int start_token_server(void)
{
    char *key = tpath("token.key"), *crt = tpath("token.crt");
    int rc = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s "
                 "-out %s -days 1 "
                 "-subj /CN=klimg-token -addext keyUsage=critical,digitalSignature,keyCertSign",
                 key, crt);
    FILE *f = rc == 0 ? fopen(key, "r") : NULL;
    g_tok_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    f = fopen(crt, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    free(key);
    free(crt);
    if (!g_tok_key || !x) {
        X509_free(x);
        return -1;
    }
    unsigned char *der = NULL;
    int dl = i2d_X509(x, &der);
    g_tok_x5c = ck_base64_encode(der, (size_t)dl);
    OPENSSL_free(der);
    X509_free(x);
    struct ck_httpd_config hc = {.bind_address = "127.0.0.1", .handler = token_handler};
    struct ck_error err = CK_ERROR_INIT;
    if (ck_httpd_start(&hc, &g_token_srv, &err) < 0) {
        ck_error_clear(&err);
        return -1;
    }
    return 0;
}

/* ---- hand-made layers ----------------------------------------------------------------------- */

struct tentry {
    const char *name;
    char type;       /* f file, d dir, l symlink, h hardlink, c char device, p fifo */
    const char *arg; /* file content, link target */
    int mode, uid, gid;
    const char *xattr; /* "name=value" */
};

static void write_tar(const char *path, const struct tentry *e, size_t n)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *en = archive_entry_new();
        archive_entry_set_pathname(en, e[i].name);
        archive_entry_set_perm(en, (mode_t)(e[i].mode ? e[i].mode : 0644));
        archive_entry_set_uid(en, e[i].uid);
        archive_entry_set_gid(en, e[i].gid);
        archive_entry_set_mtime(en, 1700000000, 0);
        size_t size = 0;
        switch (e[i].type) {
        case 'f':
            archive_entry_set_filetype(en, AE_IFREG);
            size = e[i].arg ? strlen(e[i].arg) : 0;
            archive_entry_set_size(en, (la_int64_t)size);
            break;
        case 'd':
            archive_entry_set_filetype(en, AE_IFDIR);
            break;
        case 'l':
            archive_entry_set_filetype(en, AE_IFLNK);
            archive_entry_set_symlink(en, e[i].arg);
            break;
        case 'h':
            archive_entry_set_filetype(en, AE_IFREG);
            archive_entry_set_hardlink(en, e[i].arg);
            break;
        case 'c':
            archive_entry_set_filetype(en, AE_IFCHR);
            archive_entry_set_rdevmajor(en, 1);
            archive_entry_set_rdevminor(en, 3);
            break;
        case 'p':
            archive_entry_set_filetype(en, AE_IFIFO);
            break;
        }
        if (e[i].xattr) {
            const char *eq = strchr(e[i].xattr, '=');
            char *xn = ck_xstrndup(e[i].xattr, (size_t)(eq - e[i].xattr));
            archive_entry_xattr_add_entry(en, xn, eq + 1, strlen(eq + 1));
            free(xn);
        }
        assert_int_equal(archive_write_header(a, en), ARCHIVE_OK);
        if (size)
            assert_int_equal(archive_write_data(a, e[i].arg, size), (la_ssize_t)size);
        archive_entry_free(en);
    }
    archive_write_close(a);
    archive_write_free(a);
}

/* ---- the OCI layout ------------------------------------------------------------------------ */

/* The manifest digest of tag in the layout, and (when asked) its config and first/last layer. */
static void oci_lookup(const char *tag, char *manifest, char *config, char *layer0,
                       char *layer_last)
{
    char *ip = tpath("oci/index.json");
    char *s = read_text(ip);
    free(ip);
    assert_non_null(s);
    cJSON *idx = cJSON_Parse(s);
    free(s);
    const cJSON *m;
    const char *dg = NULL;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(idx, "manifests"))
    {
        const cJSON *an = cJSON_GetObjectItemCaseSensitive(m, "annotations");
        const cJSON *nm =
            an ? cJSON_GetObjectItemCaseSensitive(an, "org.opencontainers.image.ref.name") : NULL;
        if (cJSON_IsString(nm) && !strcmp(nm->valuestring, tag))
            dg = cJSON_GetObjectItemCaseSensitive(m, "digest")->valuestring;
    }
    assert_non_null(dg);
    strcpy(manifest, dg);
    char *mp = tpath("oci/blobs/sha256/%s", dg + 7);
    s = read_text(mp);
    free(mp);
    cJSON *man = cJSON_Parse(s);
    free(s);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(man, "config");
    if (config && cfg)
        strcpy(config, cJSON_GetObjectItemCaseSensitive(cfg, "digest")->valuestring);
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(man, "layers");
    int n = cJSON_GetArraySize(ls);
    if (layer0 && n > 0)
        strcpy(layer0,
               cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ls, 0), "digest")->valuestring);
    if (layer_last && n > 0)
        strcpy(
            layer_last,
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ls, n - 1), "digest")->valuestring);
    cJSON_Delete(man);
    cJSON_Delete(idx);
}

static char *oci_put_blob(const char *data)
{
    char *hex = ck_sha256_hex(data, strlen(data));
    char *p = tpath("oci/blobs/sha256/%s", hex);
    write_text(p, data);
    free(p);
    char *d = ck_xasprintf("sha256:%s", hex);
    free(hex);
    return d;
}

/* Adds tag "multi": an index of an arm64 image (base's layer under an arm64 config) and base
 * itself as linux/amd64. Returns the index digest in out. */
static void oci_make_index(char *out)
{
    char man[80], cfg[80];
    oci_lookup("base", man, cfg, NULL, NULL);
    char *p = tpath("oci/blobs/sha256/%s", cfg + 7);
    char *s = read_text(p);
    free(p);
    cJSON *c = cJSON_Parse(s);
    free(s);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "architecture", cJSON_CreateString("arm64"));
    char *cs = cJSON_PrintUnformatted(c);
    char *arm_cfg = oci_put_blob(cs);
    size_t arm_cfg_size = strlen(cs);
    free(cs);
    cJSON_Delete(c);
    p = tpath("oci/blobs/sha256/%s", man + 7);
    s = read_text(p);
    free(p);
    size_t amd_size = strlen(s);
    cJSON *m = cJSON_Parse(s);
    free(s);
    cJSON *mc = cJSON_GetObjectItemCaseSensitive(m, "config");
    cJSON_ReplaceItemInObjectCaseSensitive(mc, "digest", cJSON_CreateString(arm_cfg));
    cJSON_ReplaceItemInObjectCaseSensitive(mc, "size", cJSON_CreateNumber((double)arm_cfg_size));
    char *ms = cJSON_PrintUnformatted(m);
    char *arm_man = oci_put_blob(ms);
    size_t arm_man_size = strlen(ms);
    free(ms);
    cJSON_Delete(m);
    char *idx = ck_xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"" KL_MT_OCI_INDEX "\",\"manifests\":["
        "{\"mediaType\":\"" KL_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
        "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
        "{\"mediaType\":\"" KL_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
        "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
        arm_man, arm_man_size, man, amd_size);
    char *idx_d = oci_put_blob(idx);
    size_t idx_size = strlen(idx);
    free(idx);
    p = tpath("oci/index.json");
    s = read_text(p);
    cJSON *top = cJSON_Parse(s);
    free(s);
    char *entry =
        ck_xasprintf("{\"mediaType\":\"" KL_MT_OCI_INDEX "\",\"digest\":\"%s\",\"size\":%zu,"
                     "\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi\"}}",
                     idx_d, idx_size);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(top, "manifests"), cJSON_Parse(entry));
    char *ts = cJSON_PrintUnformatted(top);
    write_text(p, ts);
    free(ts);
    free(entry);
    cJSON_Delete(top);
    free(p);
    strcpy(out, idx_d);
    free(idx_d);
    free(arm_cfg);
    free(arm_man);
}

static char g_multi_index[80];

/* Adds tag "baddiff": base's manifest over a config whose diff ID does not match the layer. */
static void oci_make_bad_diff_id(void)
{
    char man[80], cfg[80];
    oci_lookup("base", man, cfg, NULL, NULL);
    char *p = tpath("oci/blobs/sha256/%s", cfg + 7);
    char *s = read_text(p);
    free(p);
    cJSON *c = cJSON_Parse(s);
    free(s);
    cJSON *ids =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "rootfs"), "diff_ids");
    cJSON_ReplaceItemInArray(ids, 0, cJSON_CreateString("sha256:" BAD_DIFF_HEX));
    char *cs = cJSON_PrintUnformatted(c);
    char *bad_cfg = oci_put_blob(cs);
    size_t bad_cfg_size = strlen(cs);
    free(cs);
    cJSON_Delete(c);
    p = tpath("oci/blobs/sha256/%s", man + 7);
    s = read_text(p);
    free(p);
    cJSON *m = cJSON_Parse(s);
    free(s);
    cJSON *mc = cJSON_GetObjectItemCaseSensitive(m, "config");
    cJSON_ReplaceItemInObjectCaseSensitive(mc, "digest", cJSON_CreateString(bad_cfg));
    cJSON_ReplaceItemInObjectCaseSensitive(mc, "size", cJSON_CreateNumber((double)bad_cfg_size));
    char *ms = cJSON_PrintUnformatted(m);
    char *bad_man = oci_put_blob(ms);
    size_t bad_man_size = strlen(ms);
    free(ms);
    cJSON_Delete(m);
    p = tpath("oci/index.json");
    s = read_text(p);
    cJSON *top = cJSON_Parse(s);
    free(s);
    char *entry =
        ck_xasprintf("{\"mediaType\":\"" KL_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
                     "\"annotations\":{\"org.opencontainers.image.ref.name\":\"baddiff\"}}",
                     bad_man, bad_man_size);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(top, "manifests"), cJSON_Parse(entry));
    char *ts = cJSON_PrintUnformatted(top);
    write_text(p, ts);
    free(ts);
    free(entry);
    cJSON_Delete(top);
    free(p);
    free(bad_cfg);
    free(bad_man);
}

/* Builds every image and pushes it to the registry. */
static int build_images(void)
{
    const char *T = g_tmp;
    if (run("set -e; cd %s; umoci init --layout oci; umoci new --image oci:base;"
            "umoci unpack --image oci:base b1;"
            "mkdir -p b1/rootfs/bin b1/rootfs/etc/sub b1/rootfs/tmp;"
            "cp /bin/busybox b1/rootfs/bin/busybox; ln -s /bin/busybox b1/rootfs/bin/sh;"
            "echo hello > b1/rootfs/etc/hello; ln b1/rootfs/etc/hello b1/rootfs/etc/hello-link;"
            "echo a > b1/rootfs/etc/sub/a; echo secret > b1/rootfs/etc/secret;"
            "chmod 0600 b1/rootfs/etc/secret; chown 1000:1001 b1/rootfs/etc/secret;"
            "echo x > b1/rootfs/bin/suid; chmod 4755 b1/rootfs/bin/suid; chmod 1777 b1/rootfs/tmp;"
            "umoci repack --image oci:base b1;"
            "umoci config --image oci:base --config.cmd /bin/sh --config.env FOO=bar "
            "--config.workingdir /etc --config.user 1000:1001;"
            /* whiteouts: a second layer deleting files */
            "umoci unpack --image oci:base b2; rm b2/rootfs/etc/hello b2/rootfs/etc/hello-link;"
            "rm b2/rootfs/etc/sub/a; echo b > b2/rootfs/etc/sub/b; umoci repack --image oci:wh b2;"
            /* a layer of its own, to corrupt in the registry */
            "umoci new --image oci:corrupt; umoci unpack --image oci:corrupt b3;"
            "head -c 200000 /dev/urandom > b3/rootfs/random; umoci repack --image oci:corrupt b3;"
            "umoci new --image oci:empty",
            T) != 0)
        return -1;

    char *p;
    /* opaque dir, whiteout replaced by a dir, in-root symlink, device, FIFO, xattr, AUFS junk */
    const struct tentry opq[] = {
        {"etc/", 'd', NULL, 0755, 0, 0, NULL},
        {"etc/sub/", 'd', NULL, 0755, 0, 0, NULL},
        {"etc/sub/.wh..wh..opq", 'f', NULL, 0644, 0, 0, NULL},
        {"etc/sub/c", 'f', "c\n", 0644, 0, 0, NULL},
        {"etc/.wh.secret", 'f', NULL, 0644, 0, 0, NULL},
        {"etc/secret/", 'd', NULL, 0750, 0, 0, NULL},
        {"etc/secret/inner", 'f', "inner\n", 0644, 0, 0, NULL},
        {"data/", 'd', NULL, 0755, 0, 0, NULL},
        {"link", 'l', "/data", 0777, 0, 0, NULL},
        {"link/via-link", 'f', "via\n", 0644, 0, 0, NULL},
        {"dev/null", 'c', NULL, 0666, 0, 0, NULL},
        {"run/fifo", 'p', NULL, 0600, 0, 0, NULL},
        {"etc/xattr", 'f', "x\n", 0644, 0, 0, "user.klimg=yes"},
        {".wh..wh.plnk/", 'd', NULL, 0700, 0, 0, NULL},
        {"./", 'd', NULL, 0755, 0, 0, NULL},
    };
    p = tpath("opq.tar");
    write_tar(p, opq, CK_ARRAY_SIZE(opq));
    free(p);
    char *escape = ck_xasprintf("%s/host", g_tmp);
    const struct tentry dotdot[] = {{"ok", 'f', "ok\n", 0644, 0, 0, NULL},
                                    {"../klimg-escaped", 'f', "bad\n", 0644, 0, 0, NULL}};
    const struct tentry symesc[] = {
        {"ok", 'f', "ok\n", 0644, 0, 0, NULL},
        {"a/evil", 'l', "../../../../../../../../tmp", 0777, 0, 0, NULL}};
    const struct tentry hardesc[] = {
        {"hl", 'h', "../../../../../../../etc/passwd", 0644, 0, 0, NULL}};
    const struct tentry abstrav[] = {{"abs", 'l', escape, 0777, 0, 0, NULL},
                                     {"abs/pwned", 'f', "bad\n", 0644, 0, 0, NULL}};
    const struct {
        const char *tag;
        const struct tentry *e;
        size_t n;
    } evil[] = {{"dotdot", dotdot, 2},
                {"symesc", symesc, 2},
                {"hardesc", hardesc, 1},
                {"abstrav", abstrav, 2}};
    for (size_t i = 0; i < CK_ARRAY_SIZE(evil); i++) {
        p = tpath("%s.tar", evil[i].tag);
        write_tar(p, evil[i].e, evil[i].n);
        free(p);
        if (run("cd %s && umoci raw add-layer --image oci:empty --tag %s %s.tar", T, evil[i].tag,
                evil[i].tag) != 0)
            return -1;
    }
    free(escape);
    if (run("set -e; cd %s; umoci raw add-layer --image oci:base --tag opq opq.tar; mkdir -p host",
            T) != 0)
        return -1;
    oci_make_index(g_multi_index);
    oci_make_bad_diff_id();

    /* skopeo pushes in parallel: each waits mostly on itself */
    static const char *const pushes[][3] = {
        {"base", "test/busybox:1.36", ""},          {"base", "library/busybox:latest", ""},
        {"wh", "test/busybox:wh", "--format v2s2"}, {"opq", "test/busybox:opq", ""},
        {"corrupt", "test/corrupt:1", ""},          {"multi", "test/multi:1", "--all"},
        {"multi", "test/multi:gone", "--all"},      {"dotdot", "test/evil:dotdot", ""},
        {"symesc", "test/evil:symesc", ""},         {"hardesc", "test/evil:hardesc", ""},
        {"abstrav", "test/evil:abstrav", ""},       {"baddiff", "test/busybox:baddiff", ""},
    };
    CK_AUTOBUF struct ck_buf sh = CK_BUF_INIT;
    ck_buf_puts(&sh, "pids=; ");
    for (size_t i = 0; i < CK_ARRAY_SIZE(pushes); i++)
        ck_buf_printf(&sh,
                      "skopeo copy -q %s --dest-tls-verify=false oci:%s/oci:%s docker://%s/%s & "
                      "pids=\"$pids $!\"; ",
                      pushes[i][2], g_tmp, pushes[i][0], g_host, pushes[i][1]);
    ck_buf_puts(&sh, "rc=0; for p in $pids; do wait $p || rc=1; done; exit $rc");
    return run("%s", sh.data) == 0 ? 0 : -1;
}

static char *registry_config(const char *name, int port, bool token)
{
    char *cfg = tpath("%s.yml", name);
    char *auth = token ? ck_xasprintf("auth:\n  token:\n    realm: http://127.0.0.1:%d/token\n"
                                      "    service: klimg-registry\n    issuer: klimg-issuer\n"
                                      "    rootcertbundle: %s/token.crt\n",
                                      ck_httpd_port(g_token_srv), g_tmp)
                       : ck_xstrdup("");
    char *text =
        ck_xasprintf("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
                     "storage:\n  filesystem:\n    rootdirectory: %s/regdata\n"
                     "  delete:\n    enabled: true\n  cache:\n    blobdescriptor: \"\"\n"
                     "http:\n  addr: 127.0.0.1:%d\n%s",
                     g_tmp, port, auth);
    write_text(cfg, text);
    free(text);
    free(auth);
    return cfg;
}

static int teardown_all(void **state)
{
    (void)state;
    stop_process(&g_reg);
    stop_process(&g_auth_reg);
    if (g_token_srv)
        ck_httpd_stop(g_token_srv);
    g_token_srv = NULL;
    if (g_fake_srv)
        ck_httpd_stop(g_fake_srv);
    g_fake_srv = NULL;
    kl_image_store_close(g_store);
    g_store = NULL;
    kl_registry_config_free(&g_rc);
    EVP_PKEY_free(g_tok_key);
    g_tok_key = NULL;
    free(g_tok_x5c);
    g_tok_x5c = NULL;
    if (g_tmp[0]) {
        char *mnt = tpath("mnt");
        umount2(mnt, MNT_DETACH);
        free(mnt);
        if (!getenv("KLIMG_KEEP"))
            run("rm -rf %s", g_tmp);
    }
    return 0;
}

/* Removes directories of earlier runs that died without cleaning up. */
static void remove_stale_dirs(void)
{
    DIR *d = opendir("/tmp");
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        int pid;
        if (sscanf(de->d_name, "klimg-it-%d", &pid) == 1 && pid > 0 && kill(pid, 0) < 0 &&
            errno == ESRCH) {
            char *mnt = ck_xasprintf("/tmp/%s/mnt", de->d_name);
            umount2(mnt, MNT_DETACH); /* a crash in the middle of an overlay check */
            free(mnt);
            char *cmd = ck_xasprintf("rm -rf /tmp/%s", de->d_name);
            if (system(cmd) != 0)
                fprintf(stderr, "# could not remove /tmp/%s\n", de->d_name);
            free(cmd);
        }
    }
    closedir(d);
}

static int setup_all(void **state)
{
    if (geteuid() != 0)
        return 0; /* every test skips */
    remove_stale_dirs();
    snprintf(g_tmp, sizeof(g_tmp), "/tmp/klimg-it-%d", (int)getpid());
    if (mkdir(g_tmp, 0700) < 0)
        return -1;
    g_port = ck_test_free_port();
    snprintf(g_host, sizeof(g_host), "127.0.0.1:%d", g_port);
    char *cfg = registry_config("registry", g_port, false);
    char *log = tpath("registry.log");
    g_reg = start_registry(cfg, g_port, log);
    free(cfg);
    free(log);
    if (g_reg < 0 || build_images() < 0 || start_token_server() < 0)
        goto fail;
    g_auth_port = ck_test_free_port();
    snprintf(g_auth_host, sizeof(g_auth_host), "127.0.0.1:%d", g_auth_port);
    cfg = registry_config("auth-registry", g_auth_port, true);
    log = tpath("auth-registry.log");
    g_auth_reg = start_registry(cfg, g_auth_port, log);
    free(cfg);
    free(log);
    if (g_auth_reg < 0)
        goto fail;
    char flag[256];
    snprintf(flag, sizeof(flag), "%s=http://%s", g_host, g_host);
    if (kl_registry_config_add_mirror(&g_rc, flag, NULL) < 0)
        goto fail;
    snprintf(flag, sizeof(flag), "%s=http://%s", g_auth_host, g_auth_host);
    if (kl_registry_config_add_mirror(&g_rc, flag, NULL) < 0)
        goto fail;
    g_rc.mirrors_only = true;
    g_rc.retry_delay_ms = 50;
    char *sp = tpath("store");
    int rc = kl_image_store_open(sp, &g_store, NULL);
    free(sp);
    if (rc < 0)
        goto fail;
    g_ready = true;
    return 0;
fail:
    fprintf(stderr, "# setup failed; see %s/cmd.log\n", g_tmp);
    setenv("KLIMG_KEEP", "1", 1);
    teardown_all(state);
    return -1;
}

#define NEED_SETUP()                                                                               \
    do {                                                                                           \
        if (!g_ready)                                                                              \
            skip();                                                                                \
    } while (0)

static struct kl_image_store *fresh_store(const char *name)
{
    char *p = tpath("%s", name);
    struct kl_image_store *st = NULL;
    assert_int_equal(kl_image_store_open(p, &st, NULL), 0);
    free(p);
    return st;
}

static char *ref_of(const char *host, const char *rest)
{
    return ck_xasprintf("%s/%s", host, rest);
}

static bool dir_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return true;
    struct dirent *de;
    bool empty = true;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            empty = false;
    closedir(d);
    return empty;
}

/* ---- pulling ------------------------------------------------------------------------------- */

static void pulls_busybox_and_unpacks_its_rootfs(void **state)
{
    (void)state;
    NEED_SETUP();
    char man[80], cfg[80], layer[80];
    oci_lookup("base", man, cfg, layer, NULL);
    char *ref = ref_of(g_host, "test/busybox:1.36");
    struct kl_image *img = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = kl_image_pull(g_store, ref, &g_rc, &img, &err);
    if (rc < 0)
        fail_msg("%s", err.message);
    assert_string_equal(img->ref, ref);
    assert_string_equal(img->id, cfg);
    char *rd = ck_xasprintf("%s/test/busybox@%s", g_host, man);
    assert_string_equal(img->repo_digest, rd);
    free(rd);
    assert_int_equal(img->n_layers, 1);
    assert_null(img->layer_dirs[1]);
    assert_true(img->size > 1000000);

    /* the blobs in the store are what the registry has, by digest */
    char *bp = ck_xasprintf("%s/blobs/sha256/%s", kl_image_store_dir(g_store), layer + 7);
    char *got = file_digest(bp);
    assert_string_equal(got, layer);
    free(got);
    free(bp);
    bp = ck_xasprintf("%s/blobs/sha256/%s", kl_image_store_dir(g_store), man + 7);
    got = file_digest(bp);
    assert_string_equal(got, man);
    free(got);
    free(bp);

    /* the rootfs */
    const char *L = img->layer_dirs[0];
    char *p = ck_xasprintf("%s/bin/busybox", L);
    got = file_digest(p);
    char *want = file_digest("/bin/busybox");
    assert_string_equal(got, want);
    free(got);
    free(want);
    struct stat s;
    assert_int_equal(stat(p, &s), 0);
    assert_int_equal(s.st_mode & 07777, 0755);
    free(p);
    p = ck_xasprintf("%s/bin/busybox echo unpacked", L);
    FILE *f = popen(p, "r");
    char line[64] = "";
    assert_non_null(fgets(line, sizeof(line), f));
    pclose(f);
    assert_string_equal(line, "unpacked\n");
    free(p);
    char target[256];
    p = ck_xasprintf("%s/bin/sh", L);
    ssize_t tl = readlink(p, target, sizeof(target) - 1);
    assert_true(tl > 0);
    target[tl] = '\0';
    assert_string_equal(target, "/bin/busybox"); /* absolute targets stay as they are */
    free(p);
    struct stat a, b;
    char *p1 = ck_xasprintf("%s/etc/hello", L), *p2 = ck_xasprintf("%s/etc/hello-link", L);
    assert_int_equal(stat(p1, &a), 0);
    assert_int_equal(stat(p2, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino); /* hardlink kept */
    assert_int_equal(a.st_nlink, 2);
    char *txt = read_text(p1);
    assert_string_equal(txt, "hello\n");
    free(txt);
    free(p1);
    free(p2);
    p = ck_xasprintf("%s/etc/secret", L);
    assert_int_equal(stat(p, &s), 0);
    assert_int_equal(s.st_mode & 07777, 0600);
    assert_int_equal(s.st_uid, 1000);
    assert_int_equal(s.st_gid, 1001);
    free(p);
    p = ck_xasprintf("%s/bin/suid", L);
    assert_int_equal(stat(p, &s), 0);
    assert_int_equal(s.st_mode & 07777, 04755);
    free(p);
    p = ck_xasprintf("%s/tmp", L);
    assert_int_equal(stat(p, &s), 0);
    assert_int_equal(s.st_mode & 07777, 01777);
    free(p);

    /* the config the runtime needs */
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(img->config, "Cmd");
    assert_string_equal(cJSON_GetArrayItem(cmd, 0)->valuestring, "/bin/sh");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(img->config, "WorkingDir")->valuestring,
                        "/etc");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(img->config, "User")->valuestring,
                        "1000:1001");
    bool foo = false;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(img->config, "Env")) foo =
        foo || !strcmp(e->valuestring, "FOO=bar");
    assert_true(foo);
    kl_image_free(img);

    /* present locally now, by reference, by ID and by digest */
    assert_int_equal(kl_image_get(g_store, ref, &img, NULL), 0);
    assert_string_equal(img->id, cfg);
    kl_image_free(img);
    assert_int_equal(kl_image_get(g_store, cfg, &img, NULL), 0);
    assert_string_equal(img->ref, cfg);
    kl_image_free(img);
    char *dref = ck_xasprintf("%s/test/busybox@%s", g_host, man);
    assert_int_equal(kl_image_get(g_store, dref, &img, NULL), 0);
    assert_int_equal(img->n_layers, 1);
    kl_image_free(img);
    free(dref);
    dref = ref_of(g_host, "test/busybox:1.37");
    assert_int_equal(kl_image_get(g_store, dref, &img, &err), -ENOENT);
    assert_int_equal(err.code, 404);
    ck_error_clear(&err);
    free(dref);
    free(ref);
}

static void pulls_by_digest(void **state)
{
    (void)state;
    NEED_SETUP();
    char man[80], cfg[80];
    oci_lookup("base", man, cfg, NULL, NULL);
    struct kl_image_store *st = fresh_store("store-digest");
    char *ref = ck_xasprintf("%s/test/busybox:ignored@%s", g_host, man);
    struct kl_image *img = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (kl_image_pull(st, ref, &g_rc, &img, &err) < 0)
        fail_msg("%s", err.message);
    char *want = ck_xasprintf("%s/test/busybox@%s", g_host, man); /* the digest wins */
    assert_string_equal(img->ref, want);
    assert_string_equal(img->repo_digest, want);
    assert_string_equal(img->id, cfg);
    kl_image_free(img);
    free(want);
    free(ref);
    kl_image_store_close(st);
}

static void pulls_docker_io_names_through_mirrors_in_order(void **state)
{
    (void)state;
    NEED_SETUP();
    struct kl_registry_config rc = KL_REGISTRY_CONFIG_INIT;
    char flag[256];
    int dead = ck_test_free_port();
    snprintf(flag, sizeof(flag), "docker.io=http://127.0.0.1:%d", dead);
    assert_int_equal(kl_registry_config_add_mirror(&rc, flag, NULL), 0);
    snprintf(flag, sizeof(flag), "docker.io=http://%s", g_host);
    assert_int_equal(kl_registry_config_add_mirror(&rc, flag, NULL), 0);
    rc.mirrors_only = true;
    char *ref = ref_of(g_host, "test/busybox:1.36");
    assert_int_equal(kl_image_pull(g_store, ref, &g_rc, NULL, NULL), 0);
    struct kl_image_store_stats before, after;
    kl_image_store_get_stats(g_store, &before);
    struct kl_image *img = NULL, *other = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (kl_image_pull(g_store, "busybox", &rc, &img, &err) < 0)
        fail_msg("%s", err.message);
    assert_string_equal(img->ref, "docker.io/library/busybox:latest");
    assert_true(!strncmp(img->repo_digest, "docker.io/library/busybox@sha256:", 33));
    /* the same layer as test/busybox:1.36: shared, not fetched nor unpacked again */
    assert_int_equal(kl_image_get(g_store, ref, &other, NULL), 0);
    assert_string_equal(img->layer_dirs[0], other->layer_dirs[0]);
    kl_image_store_get_stats(g_store, &after);
    assert_int_equal(after.layers_unpacked - before.layers_unpacked, 0);
    assert_int_equal(after.blobs_fetched - before.blobs_fetched, 0);
    assert_int_equal(after.manifests_fetched - before.manifests_fetched, 1);
    kl_image_free(img);
    kl_image_free(other);
    free(ref);
    /* mirrors only, and none for this registry: nothing is asked */
    assert_true(kl_image_pull(g_store, "quay.io/x/y:1", &rc, NULL, &err) < 0);
    assert_string_equal(err.message,
                        "rpc error: code = Unknown desc = failed to pull and unpack image "
                        "\"quay.io/x/y:1\": failed to resolve reference \"quay.io/x/y:1\": "
                        "no mirror configured for registry quay.io and falling back to "
                        "it is disabled");
    ck_error_clear(&err);
    kl_registry_config_free(&rc);
}

static void uses_https_unless_the_endpoint_is_configured_http(void **state)
{
    (void)state;
    NEED_SETUP();
    char *ref = ref_of(g_host, "test/busybox:1.36");
    struct ck_error err = CK_ERROR_INIT;
    struct kl_registry_config rc = {.max_attempts = 1};
    assert_true(kl_image_pull(g_store, ref, &rc, NULL, &err) < 0);
    assert_string_equal(err.reason, "ErrImagePull");
    char *want = ck_xasprintf("rpc error: code = Unknown desc = failed to pull and unpack image "
                              "\"%s\": failed to resolve reference \"%s\": failed to do request: "
                              "Get \"https://%s/v2/test/busybox/manifests/1.36\": ",
                              ref, ref, g_host);
    assert_true(!strncmp(err.message, want, strlen(want)));
    free(want);
    ck_error_clear(&err);
    free(ref);
}

static void pulls_an_index_picking_linux_amd64(void **state)
{
    (void)state;
    NEED_SETUP();
    char man[80], cfg[80];
    oci_lookup("base", man, cfg, NULL, NULL);
    struct kl_image_store *st = fresh_store("store-index");
    char *ref = ref_of(g_host, "test/multi:1");
    struct kl_image *img = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (kl_image_pull(st, ref, &g_rc, &img, &err) < 0)
        fail_msg("%s", err.message);
    assert_string_equal(img->id, cfg); /* amd64's config, not arm64's */
    char *rd = ck_xasprintf("%s/test/multi@%s", g_host, g_multi_index);
    assert_string_equal(img->repo_digest, rd); /* the index digest, as containerd records */
    free(rd);
    struct kl_image_store_stats s;
    kl_image_store_get_stats(st, &s);
    assert_int_equal(s.manifests_fetched, 2);
    char *ib = ck_xasprintf("%s/blobs/sha256/%s", kl_image_store_dir(st), g_multi_index + 7);
    struct stat sb;
    assert_int_equal(stat(ib, &sb), 0); /* the index is kept too */
    free(ib);
    kl_image_free(img);
    free(ref);

    /* the amd64 child gone from the repository: the registry says MANIFEST_UNKNOWN */
    assert_int_equal(run("curl -sf -X DELETE http://%s/v2/test/multi/manifests/%s", g_host, man),
                     0);
    ref = ref_of(g_host, "test/multi:gone");
    struct kl_image_store *st2 = fresh_store("store-index2");
    assert_int_equal(kl_image_pull(st2, ref, &g_rc, NULL, &err), -ENOENT);
    char *want = ck_xasprintf("rpc error: code = NotFound desc = failed to pull and unpack image "
                              "\"%s\": failed to copy: httpReadSeeker: failed open: content at "
                              "http://%s/v2/test/multi/manifests/%s not found: not found",
                              ref, g_host, man);
    assert_string_equal(err.message, want);
    const cJSON *cause =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(err.details, "causes"), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cause, "reason")->valuestring,
                        "MANIFEST_UNKNOWN");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cause, "message")->valuestring,
                        "manifest unknown");
    ck_error_clear(&err);
    free(want);
    free(ref);
    kl_image_store_close(st2);
    kl_image_store_close(st);
}

/* ---- whiteouts and opaque directories through a real overlay mount ------------------------- */

static char *mount_layers(const struct kl_image *img)
{
    struct ck_buf lower = CK_BUF_INIT;
    for (size_t i = img->n_layers; i-- > 0;)
        ck_buf_printf(&lower, "%s%s", lower.len ? ":" : "", img->layer_dirs[i]);
    char *mnt = tpath("mnt");
    mkdir(mnt, 0755);
    char *opts = ck_xasprintf("lowerdir=%s", lower.data);
    int rc = mount("overlay", mnt, "overlay", MS_RDONLY, opts);
    if (rc < 0)
        fail_msg("mount overlay: %s", strerror(errno));
    free(opts);
    ck_buf_free(&lower);
    return mnt;
}

static void unmount_layers(char *mnt)
{
    umount2(mnt, MNT_DETACH);
    rmdir(mnt);
    free(mnt);
}

static void whiteouts_hide_lower_files_in_overlayfs(void **state)
{
    (void)state;
    NEED_SETUP();
    char *ref = ref_of(g_host, "test/busybox:wh");
    struct kl_image *img = NULL, *base = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (kl_image_pull(g_store, ref, &g_rc, &img, &err) < 0)
        fail_msg("%s", err.message);
    assert_int_equal(img->n_layers, 2);
    char *bref = ref_of(g_host, "test/busybox:1.36");
    assert_int_equal(kl_image_pull(g_store, bref, &g_rc, &base, NULL), 0);
    assert_string_equal(img->layer_dirs[0], base->layer_dirs[0]); /* shared lower layer */
    /* the upper layer holds whiteouts as 0/0 character devices */
    char *p = ck_xasprintf("%s/etc/hello", img->layer_dirs[1]);
    struct stat s;
    assert_int_equal(lstat(p, &s), 0);
    assert_true(S_ISCHR(s.st_mode));
    assert_int_equal(s.st_rdev, makedev(0, 0));
    free(p);
    char *mnt = mount_layers(img);
    p = ck_xasprintf("%s/etc/hello", mnt);
    assert_int_equal(lstat(p, &s), -1); /* deleted */
    free(p);
    p = ck_xasprintf("%s/etc/sub/a", mnt);
    assert_int_equal(lstat(p, &s), -1);
    free(p);
    p = ck_xasprintf("%s/etc/sub/b", mnt);
    char *t = read_text(p);
    assert_string_equal(t, "b\n");
    free(t);
    free(p);
    p = ck_xasprintf("%s/bin/busybox", mnt);
    assert_int_equal(stat(p, &s), 0);
    free(p);
    unmount_layers(mnt);
    kl_image_free(img);
    kl_image_free(base);
    free(bref);
    free(ref);
}

static void opaque_dirs_devices_and_in_root_symlinks(void **state)
{
    (void)state;
    NEED_SETUP();
    char *ref = ref_of(g_host, "test/busybox:opq");
    struct kl_image *img = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (kl_image_pull(g_store, ref, &g_rc, &img, &err) < 0)
        fail_msg("%s", err.message);
    assert_int_equal(img->n_layers, 2);
    const char *U = img->layer_dirs[1];
    char val[8] = "";
    char *p = ck_xasprintf("%s/etc/sub", U);
    assert_int_equal(getxattr(p, "trusted.overlay.opaque", val, sizeof(val)), 1);
    assert_int_equal(val[0], 'y');
    free(p);
    /* a directory replacing a whiteout of its own layer is opaque as well */
    p = ck_xasprintf("%s/etc/secret", U);
    assert_int_equal(getxattr(p, "trusted.overlay.opaque", val, sizeof(val)), 1);
    struct stat s;
    assert_int_equal(stat(p, &s), 0);
    assert_int_equal(s.st_mode & 07777, 0750);
    free(p);
    /* a symlink to "/data" is followed inside the layer, never on the host */
    p = ck_xasprintf("%s/data/via-link", U);
    char *t = read_text(p);
    assert_string_equal(t, "via\n");
    free(t);
    free(p);
    p = ck_xasprintf("%s/dev/null", U);
    assert_int_equal(lstat(p, &s), 0);
    assert_true(S_ISCHR(s.st_mode));
    assert_int_equal(s.st_rdev, makedev(1, 3));
    assert_int_equal(s.st_mode & 0777, 0666);
    free(p);
    p = ck_xasprintf("%s/run/fifo", U);
    assert_int_equal(lstat(p, &s), 0);
    assert_true(S_ISFIFO(s.st_mode));
    free(p);
    p = ck_xasprintf("%s/etc/xattr", U);
    assert_int_equal(getxattr(p, "user.klimg", val, sizeof(val)), 3);
    assert_memory_equal(val, "yes", 3);
    free(p);
    p = ck_xasprintf("%s/.wh..wh.plnk", U);
    assert_int_equal(lstat(p, &s), -1); /* AUFS bookkeeping skipped */
    free(p);
    p = ck_xasprintf("%s/etc/hello", U);
    assert_int_equal(lstat(p, &s), -1);
    free(p);

    char *mnt = mount_layers(img);
    p = ck_xasprintf("%s/etc/sub/a", mnt);
    assert_int_equal(lstat(p, &s), -1); /* hidden by the opaque directory */
    free(p);
    p = ck_xasprintf("%s/etc/sub/c", mnt);
    assert_int_equal(lstat(p, &s), 0);
    free(p);
    p = ck_xasprintf("%s/etc/secret/inner", mnt);
    assert_int_equal(lstat(p, &s), 0);
    free(p);
    p = ck_xasprintf("%s/etc/hello", mnt);
    assert_int_equal(lstat(p, &s), 0); /* lower files outside opaque dirs stay */
    free(p);
    unmount_layers(mnt);
    kl_image_free(img);
    free(ref);
}

/* ---- concurrency ---- */

struct puller {
    struct kl_image_store *st;
    const char *ref;
    int rc;
    char id[80];
    char msg[256];
};

static void *pull_thread(void *arg)
{
    struct puller *p = arg;
    struct kl_image *img = NULL;
    struct ck_error err = CK_ERROR_INIT;
    p->rc = kl_image_pull(p->st, p->ref, &g_rc, &img, &err);
    if (img)
        ck_snprintf(p->id, sizeof(p->id), "%s", img->id);
    ck_snprintf(p->msg, sizeof(p->msg), "%s", err.message);
    kl_image_free(img);
    ck_error_clear(&err);
    return NULL;
}

static void concurrent_pulls_do_the_work_once(void **state)
{
    (void)state;
    NEED_SETUP();
    char cfg[80], man[80];
    oci_lookup("wh", man, cfg, NULL, NULL);
    struct kl_image_store *st = fresh_store("store-concurrent");
    char *ref = ref_of(g_host, "test/busybox:1.36");
    struct puller p[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (struct puller){.st = st, .ref = ref};
        assert_int_equal(pthread_create(&th[i], NULL, pull_thread, &p[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    oci_lookup("base", man, cfg, NULL, NULL);
    for (int i = 0; i < 4; i++) {
        if (p[i].rc != 0)
            fail_msg("puller %d: %s", i, p[i].msg);
        assert_string_equal(p[i].id, cfg);
    }
    struct kl_image_store_stats s;
    kl_image_store_get_stats(st, &s);
    assert_int_equal(s.layers_unpacked, 1);
    assert_int_equal(s.blobs_fetched, 2); /* config + layer, once */
    assert_int_equal(s.manifests_fetched, 4);
    char *tmp = ck_xasprintf("%s/tmp", kl_image_store_dir(st));
    assert_true(dir_empty(tmp));
    free(tmp);
    free(ref);
    kl_image_store_close(st);
}

/* ---- errors
 * -------------------------------------------------------------------------------------- */

static void missing_tag_and_unknown_digest_are_not_found(void **state)
{
    (void)state;
    NEED_SETUP();
    char *ref = ref_of(g_host, "test/busybox:nope");
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_image_pull(g_store, ref, &g_rc, NULL, &err), -ENOENT);
    assert_int_equal(err.code, 404);
    assert_string_equal(err.reason, "ErrImagePull");
    char *want = ck_xasprintf("rpc error: code = NotFound desc = failed to pull and unpack image "
                              "\"%s\": failed to resolve reference \"%s\": %s: not found",
                              ref, ref, ref);
    assert_string_equal(err.message, want);
    free(want);
    ck_error_clear(&err);
    free(ref);

    ref = ref_of(g_host, "test/busybox@sha256:"
                         "00000000000000000000000000000000"
                         "00000000000000000000000000000000");
    assert_int_equal(kl_image_pull(g_store, ref, &g_rc, NULL, &err), -ENOENT);
    want = ck_xasprintf("rpc error: code = NotFound desc = failed to pull and unpack image \"%s\": "
                        "failed to resolve reference \"%s\": %s: not found",
                        ref, ref, ref);
    assert_string_equal(err.message, want);
    const cJSON *cause =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(err.details, "causes"), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cause, "reason")->valuestring,
                        "MANIFEST_UNKNOWN");
    free(want);
    ck_error_clear(&err);
    free(ref);

    /* invalid names never reach the registry */
    assert_int_equal(kl_image_pull(g_store, "Busybox:1", &g_rc, NULL, &err), -EINVAL);
    assert_string_equal(err.reason, "InvalidImageName");
    ck_error_clear(&err);
}

static void corrupt_blob_is_rejected(void **state)
{
    (void)state;
    NEED_SETUP();
    char man[80], layer[80];
    oci_lookup("corrupt", man, NULL, layer, NULL);
    char *data =
        tpath("regdata/docker/registry/v2/blobs/sha256/%.2s/%s/data", layer + 7, layer + 7);
    int fd = open(data, O_RDWR);
    assert_true(fd >= 0);
    char c;
    assert_int_equal(pread(fd, &c, 1, 1000), 1);
    c = (char)~c;
    assert_int_equal(pwrite(fd, &c, 1, 1000), 1); /* same size, different bytes */
    close(fd);
    char *tampered = file_digest(data);
    struct kl_image_store *st = fresh_store("store-corrupt");
    char *ref = ref_of(g_host, "test/corrupt:1");
    struct ck_error err = CK_ERROR_INIT;
    assert_true(kl_image_pull(st, ref, &g_rc, NULL, &err) < 0);
    char *want =
        ck_xasprintf("rpc error: code = FailedPrecondition desc = failed to pull and unpack "
                     "image \"%s\": failed commit on ref \"layer-%s\": unexpected commit "
                     "digest %s, expected %s: failed precondition",
                     ref, layer, tampered, layer);
    assert_string_equal(err.message, want);
    assert_string_equal(err.reason, "ErrImagePull");
    ck_error_clear(&err);
    /* nothing of it was kept */
    char *bp = ck_xasprintf("%s/blobs/sha256/%s", kl_image_store_dir(st), layer + 7);
    struct stat s;
    assert_int_equal(stat(bp, &s), -1);
    char *ld = ck_xasprintf("%s/layers/sha256", kl_image_store_dir(st));
    assert_true(dir_empty(ld));
    char *tmp = ck_xasprintf("%s/tmp", kl_image_store_dir(st));
    assert_true(dir_empty(tmp));
    struct kl_image *img = NULL;
    assert_int_equal(kl_image_get(st, ref, &img, NULL), -ENOENT);
    free(tmp);
    free(ld);
    free(bp);
    free(want);
    free(ref);
    free(tampered);
    free(data);
    kl_image_store_close(st);
}

static void layer_not_matching_its_diff_id_is_rejected(void **state)
{
    (void)state;
    NEED_SETUP();
    char man[80], layer[80];
    oci_lookup("base", man, NULL, layer, NULL);
    struct kl_image_store *st = fresh_store("store-baddiff");
    char *ref = ref_of(g_host, "test/busybox:baddiff");
    struct ck_error err = CK_ERROR_INIT;
    assert_true(kl_image_pull(st, ref, &g_rc, NULL, &err) < 0);
    struct kl_layer_result res;
    struct ck_error lerr = CK_ERROR_INIT;
    char *blob = ck_xasprintf("%s/blobs/sha256/%s", kl_image_store_dir(st), layer + 7);
    char *dir = tpath("baddiff-check");
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(kl_layer_unpack(blob, dir, &res, &lerr), 0); /* the blob itself was fine */
    char *want =
        ck_xasprintf("rpc error: code = Unknown desc = failed to pull and unpack image \"%s\": "
                     "failed to extract layer sha256:" BAD_DIFF_HEX ": mismatched diff ID "
                     "%s of layer %s",
                     ref, res.diff_id, layer);
    assert_string_equal(err.message, want);
    ck_error_clear(&err);
    char *ld = ck_xasprintf("%s/layers/sha256", kl_image_store_dir(st));
    assert_true(dir_empty(ld));
    char *tmp = ck_xasprintf("%s/tmp", kl_image_store_dir(st));
    assert_true(dir_empty(tmp));
    free(tmp);
    free(ld);
    free(want);
    free(dir);
    free(blob);
    free(ref);
    kl_image_store_close(st);
}

static void escaping_layers_are_refused(void **state)
{
    (void)state;
    NEED_SETUP();
    static const struct {
        const char *tag, *msg;
    } cases[] = {
        {"dotdot", "path \"../klimg-escaped\" is outside of the layer root"},
        {"symesc", "invalid symlink \"a/evil\" -> \"../../../../../../../../tmp\""},
        {"hardesc", "invalid hardlink \"hl\" -> \"../../../../../../../etc/passwd\""},
        {"abstrav", "a dangling symlink is in the way"},
    };
    struct kl_image_store *st = fresh_store("store-evil");
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        char *ref = ck_xasprintf("%s/test/evil:%s", g_host, cases[i].tag);
        struct ck_error err = CK_ERROR_INIT;
        assert_true(kl_image_pull(st, ref, &g_rc, NULL, &err) < 0);
        if (!strstr(err.message, cases[i].msg) ||
            !strstr(err.message, "failed to extract layer sha256:"))
            fail_msg("%s: %s", cases[i].tag, err.message);
        ck_error_clear(&err);
        free(ref);
    }
    /* nothing landed outside the layer directories */
    struct stat s;
    char *p = ck_xasprintf("%s/tmp/klimg-escaped", kl_image_store_dir(st));
    assert_int_equal(lstat(p, &s), -1);
    free(p);
    p = ck_xasprintf("%s/klimg-escaped", kl_image_store_dir(st));
    assert_int_equal(lstat(p, &s), -1);
    free(p);
    p = tpath("host/pwned");
    assert_int_equal(lstat(p, &s), -1);
    free(p);
    p = ck_xasprintf("%s/layers/sha256", kl_image_store_dir(st));
    assert_true(dir_empty(p));
    free(p);
    p = ck_xasprintf("%s/tmp", kl_image_store_dir(st));
    assert_true(dir_empty(p));
    free(p);
    kl_image_store_close(st);
}

static void bearer_token_flow(void **state)
{
    (void)state;
    NEED_SETUP();
    struct kl_image_store *st = fresh_store("store-auth");
    char *ref = ref_of(g_auth_host, "test/busybox:1.36");
    struct kl_image *img = NULL;
    struct ck_error err = CK_ERROR_INIT;
    pthread_mutex_lock(&g_tok_mu);
    g_tok_requests = 0;
    pthread_mutex_unlock(&g_tok_mu);
    if (kl_image_pull(st, ref, &g_rc, &img, &err) < 0)
        fail_msg("%s", err.message);
    char cfg[80], man[80];
    oci_lookup("base", man, cfg, NULL, NULL);
    assert_string_equal(img->id, cfg);
    kl_image_free(img);
    pthread_mutex_lock(&g_tok_mu);
    assert_int_equal(g_tok_requests, 1); /* one token for the manifest and both blobs */
    assert_string_equal(g_tok_scope, "repository:test/busybox:pull");
    assert_string_equal(g_tok_service, "klimg-registry");
    g_tok_deny = true;
    pthread_mutex_unlock(&g_tok_mu);

    assert_true(kl_image_pull(st, ref, &g_rc, NULL, &err) < 0);
    char *want =
        ck_xasprintf("rpc error: code = Unknown desc = failed to pull and unpack image \"%s\": "
                     "failed to resolve reference \"%s\": pull access denied, repository "
                     "does not exist or may require authorization: server message: denied: "
                     "requested access to the resource is denied",
                     ref, ref);
    assert_string_equal(err.message, want);
    free(want);
    ck_error_clear(&err);
    pthread_mutex_lock(&g_tok_mu);
    g_tok_deny = false;
    pthread_mutex_unlock(&g_tok_mu);
    free(ref);
    kl_image_store_close(st);
}

static void fake_registry(struct ck_http_req *req, void *ctx)
{
    (void)ctx;
    const char *path = ck_http_path(req);
    const char *unknown =
        "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}";
    if (!strcmp(path, "/v2/flaky/manifests/x") && atomic_fetch_add(&g_fake_flaky, 1) == 0)
        ck_http_respond(req, 503, "application/json", "{}", 2);
    else if (!strcmp(path, "/v2/broken/manifests/x") && atomic_fetch_add(&g_fake_broken, 1) >= 0)
        ck_http_respond(req, 500, "text/plain", "oops", 4);
    else
        ck_http_respond(req, 404, "application/json", unknown, strlen(unknown));
}

static void retries_transient_failures(void **state)
{
    (void)state;
    NEED_SETUP();
    struct ck_httpd_config hc = {.bind_address = "127.0.0.1", .handler = fake_registry};
    assert_int_equal(ck_httpd_start(&hc, &g_fake_srv, NULL), 0);
    char host[64], flag[256];
    snprintf(host, sizeof(host), "127.0.0.1:%d", ck_httpd_port(g_fake_srv));
    snprintf(flag, sizeof(flag), "%s=http://%s", host, host);
    struct kl_registry_config rc = {.retry_delay_ms = 20, .mirrors_only = true};
    assert_int_equal(kl_registry_config_add_mirror(&rc, flag, NULL), 0);
    struct ck_error err = CK_ERROR_INIT;

    /* a 503 is tried again: the second answer (404) is the one reported */
    char *ref = ck_xasprintf("%s/flaky:x", host);
    assert_int_equal(kl_image_pull(g_store, ref, &rc, NULL, &err), -ENOENT);
    assert_int_equal(atomic_load(&g_fake_flaky), 2);
    assert_non_null(strstr(err.message, ": not found"));
    ck_error_clear(&err);
    free(ref);

    /* a registry that keeps failing: three tries, then upstream's wording */
    ref = ck_xasprintf("%s/broken:x", host);
    assert_true(kl_image_pull(g_store, ref, &rc, NULL, &err) < 0);
    assert_int_equal(atomic_load(&g_fake_broken), 3);
    char *want =
        ck_xasprintf("rpc error: code = Unknown desc = failed to pull and unpack image \"%s\": "
                     "failed to resolve reference \"%s\": unexpected status from GET request "
                     "to http://%s/v2/broken/manifests/x: 500 Internal Server Error",
                     ref, ref, host);
    assert_string_equal(err.message, want);
    ck_error_clear(&err);
    free(want);
    free(ref);
    kl_registry_config_free(&rc);
    ck_httpd_stop(g_fake_srv);
    g_fake_srv = NULL;
}

/* ---- policies, listing, removal, GC ---- */

static void pull_policies_like_the_kubelet(void **state)
{
    (void)state;
    NEED_SETUP();
    struct kl_registry_config dead = KL_REGISTRY_CONFIG_INIT;
    char flag[256];
    snprintf(flag, sizeof(flag), "%s=http://127.0.0.1:%d", g_host, ck_test_free_port());
    assert_int_equal(kl_registry_config_add_mirror(&dead, flag, NULL), 0);
    dead.mirrors_only = true;
    char *ref = ref_of(g_host, "test/busybox:1.36");
    assert_int_equal(kl_image_pull(g_store, ref, &g_rc, NULL, NULL), 0);
    struct kl_image *img = NULL;
    bool pulled = true;
    struct ck_error err = CK_ERROR_INIT;
    /* present: IfNotPresent and Never do not ask the (dead) registry */
    assert_int_equal(
        kl_image_ensure(g_store, ref, KL_PULL_IF_NOT_PRESENT, &dead, &img, &pulled, &err), 0);
    assert_false(pulled);
    kl_image_free(img);
    assert_int_equal(kl_image_ensure(g_store, ref, KL_PULL_NEVER, &dead, &img, &pulled, &err), 0);
    kl_image_free(img);
    /* Always asks, and fails with the registry down */
    assert_true(kl_image_ensure(g_store, ref, KL_PULL_ALWAYS, &dead, &img, &pulled, &err) < 0);
    assert_true(pulled);
    assert_string_equal(err.reason, "ErrImagePull");
    ck_error_clear(&err);
    /* absent with Never */
    char *absent = ref_of(g_host, "test/nothere");
    assert_int_equal(kl_image_ensure(g_store, absent, KL_PULL_NEVER, &g_rc, &img, &pulled, &err),
                     -ENOENT);
    char *want = ck_xasprintf(
        "Container image \"%s:latest\" is not present with pull policy of Never", absent);
    assert_string_equal(err.reason, "ErrImageNeverPull");
    assert_string_equal(err.message, want);
    ck_error_clear(&err);
    free(want);
    assert_int_equal(
        kl_image_ensure(g_store, "BAD name", KL_PULL_IF_NOT_PRESENT, &g_rc, &img, &pulled, &err),
        -EINVAL);
    assert_string_equal(err.reason, "InvalidImageName");
    ck_error_clear(&err);
    free(absent);
    free(ref);
    kl_registry_config_free(&dead);
}

static void lists_removes_and_collects_garbage(void **state)
{
    (void)state;
    NEED_SETUP();
    struct kl_image_store *st = fresh_store("store-gc");
    char *base = ref_of(g_host, "test/busybox:1.36"), *wh = ref_of(g_host, "test/busybox:wh");
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_image_pull(st, base, &g_rc, NULL, &err), 0);
    struct kl_image *whi = NULL;
    assert_int_equal(kl_image_pull(st, wh, &g_rc, &whi, &err), 0);
    struct kl_image_summary *list;
    size_t n;
    assert_int_equal(kl_image_list(st, &list, &n, &err), 0);
    assert_int_equal(n, 2);
    size_t bi = strcmp(list[0].id, whi->id) ? 0 : 1;
    assert_int_equal(list[bi].n_repo_tags, 1);
    assert_string_equal(list[bi].repo_tags[0], base);
    assert_int_equal(list[bi].n_repo_digests, 1);
    assert_true(list[bi].size > 1000000);
    assert_true(list[bi].pulled_at > 0);
    kl_image_list_free(list, n);

    struct kl_image_fs_usage u0, u1;
    assert_int_equal(kl_image_fs_usage(st, &u0, &err), 0);
    assert_true(u0.used_bytes > 2000000); /* compressed and unpacked busybox */
    assert_true(u0.capacity_bytes > u0.available_bytes);

    /* keep wh: base's own pieces go, the layer they share stays */
    const char *keep[] = {wh};
    struct kl_image_gc_result gr;
    assert_int_equal(kl_image_gc(st, keep, 1, &gr, &err), 0);
    assert_int_equal(gr.images_removed, 1);
    struct kl_image *img = NULL;
    assert_int_equal(kl_image_get(st, base, &img, NULL), -ENOENT);
    assert_int_equal(kl_image_get(st, wh, &img, NULL), 0);
    kl_image_free(img);
    struct stat s;
    assert_int_equal(stat(whi->layer_dirs[0], &s), 0);

    /* remove by ID: everything goes */
    assert_int_equal(kl_image_remove(st, whi->id, &err), 0);
    assert_int_equal(kl_image_remove(st, whi->id, &err), -ENOENT);
    ck_error_clear(&err);
    assert_int_equal(stat(whi->layer_dirs[0], &s), -1);
    char *d = ck_xasprintf("%s/blobs/sha256", kl_image_store_dir(st));
    assert_true(dir_empty(d));
    free(d);
    d = ck_xasprintf("%s/refs", kl_image_store_dir(st));
    assert_true(dir_empty(d));
    free(d);
    assert_int_equal(kl_image_fs_usage(st, &u1, &err), 0);
    assert_true(u1.used_bytes < u0.used_bytes / 10);
    assert_int_equal(kl_image_list(st, &list, &n, &err), 0);
    assert_int_equal(n, 0);
    kl_image_list_free(list, n);

    /* GC with an empty keep list after a pull: all gone, bytes reported */
    assert_int_equal(kl_image_pull(st, base, &g_rc, NULL, &err), 0);
    assert_int_equal(kl_image_gc(st, NULL, 0, &gr, &err), 0);
    assert_int_equal(gr.images_removed, 1);
    assert_true(gr.bytes_freed > 2000000);
    kl_image_free(whi);
    free(base);
    free(wh);
    kl_image_store_close(st);
}

static void unpacks_layers_directly(void **state)
{
    (void)state;
    NEED_SETUP();
    /* a plain (uncompressed) tar with the root entry, a nested implicit parent and a sparse-free
     * file: diff ID equals the tar's own digest */
    const struct tentry e[] = {
        {"./", 'd', NULL, 0700, 0, 0, NULL},
        {"deep/er/file", 'f', "content", 0640, 7, 8, NULL},
        {"deep/er/file", 'f', "replaced", 0644, 0, 0, NULL},
        {".wh.gone", 'f', NULL, 0644, 0, 0, NULL},
    };
    char *tar = tpath("direct.tar");
    write_tar(tar, e, CK_ARRAY_SIZE(e));
    char *dir = tpath("direct");
    assert_int_equal(mkdir(dir, 0700), 0);
    struct kl_layer_result res;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_layer_unpack(tar, dir, &res, &err), 0);
    char *want = file_digest(tar);
    assert_string_equal(res.diff_id, want);
    assert_int_equal(res.entries, 4);
    free(want);
    struct stat s;
    assert_int_equal(stat(dir, &s), 0);
    assert_int_equal(s.st_mode & 0777, 0700); /* the root entry's mode */
    char *p = ck_xasprintf("%s/deep/er/file", dir);
    char *t = read_text(p);
    assert_string_equal(t, "replaced"); /* a later entry replaces an earlier one */
    free(t);
    free(p);
    p = ck_xasprintf("%s/gone", dir);
    assert_int_equal(lstat(p, &s), 0);
    assert_true(S_ISCHR(s.st_mode));
    free(p);
    int fd = open(g_tmp, O_RDONLY | O_DIRECTORY);
    assert_int_equal(kl_remove_tree_at(fd, "direct"), 0);
    close(fd);
    assert_int_equal(stat(dir, &s), -1);
    free(dir);
    free(tar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pulls_busybox_and_unpacks_its_rootfs),
        cmocka_unit_test(pulls_by_digest),
        cmocka_unit_test(pulls_docker_io_names_through_mirrors_in_order),
        cmocka_unit_test(uses_https_unless_the_endpoint_is_configured_http),
        cmocka_unit_test(whiteouts_hide_lower_files_in_overlayfs),
        cmocka_unit_test(opaque_dirs_devices_and_in_root_symlinks),
        cmocka_unit_test(concurrent_pulls_do_the_work_once),
        cmocka_unit_test(missing_tag_and_unknown_digest_are_not_found),
        cmocka_unit_test(corrupt_blob_is_rejected),
        cmocka_unit_test(layer_not_matching_its_diff_id_is_rejected),
        cmocka_unit_test(escaping_layers_are_refused),
        cmocka_unit_test(bearer_token_flow),
        cmocka_unit_test(retries_transient_failures),
        cmocka_unit_test(pull_policies_like_the_kubelet),
        cmocka_unit_test(lists_removes_and_collects_garbage),
        cmocka_unit_test(unpacks_layers_directly),
        cmocka_unit_test(pulls_an_index_picking_linux_amd64),
    };
    return cmocka_run_group_tests_name("image", tests, setup_all, teardown_all);
}
