/* image.c - pulling images into the content-addressed store, lookups, listing, removal and
 * GC (see image.h). */
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "encoding.h"
#include "layers.h"
#include "log.h"
#include "mem.h"

#define CONFIG_MAX ((int64_t)16 << 20) /* image configs we parse */
#define RECORD_MAX ((size_t)4 << 20)   /* our own records */
#define INDEX_DEPTH 4                  /* nested indexes we follow */

struct kl_image_store {
    char *dir;
    _Atomic int64_t manifests_fetched, blobs_fetched, bytes_fetched, layers_unpacked;
};

/* ==== files ==== */

static char *spath(const struct kl_image_store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *spath(const struct kl_image_store *st, const char *fmt, ...)
{
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    ck_buf_printf(&b, "%s/", st->dir);
    va_list ap;
    va_start(ap, fmt);
    ck_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return ck_buf_detach(&b);
}

static int mkdir_p(const char *path, mode_t mode)
{
    CK_AUTOFREE char *p = ck_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Reads a whole file of at most max bytes; *data is NUL-terminated, caller frees. */
static int read_file(const char *path, size_t max, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct ck_buf b = CK_BUF_INIT;
    char tmp[65536];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            rc = -EFBIG;
            break;
        }
        ck_buf_add(&b, tmp, (size_t)n);
    }
    close(fd);
    if (rc < 0) {
        ck_buf_free(&b);
        return rc;
    }
    *len = b.len;
    *data = ck_buf_detach(&b);
    return 0;
}

static cJSON *read_json(const char *path, size_t max)
{
    char *data;
    size_t len;
    if (read_file(path, max, &data, &len) < 0)
        return NULL;
    cJSON *j = cJSON_ParseWithLength(data, len);
    free(data);
    return j;
}

/* Writes data to path through a temporary file and rename, so readers never see half. */
static int write_atomic(const struct kl_image_store *st, const char *path, const void *data,
                        size_t len)
{
    CK_AUTOFREE char *tmp = spath(st, "tmp/file-XXXXXX");
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    const char *p = data;
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -errno;
            break;
        }
        off += (size_t)w;
    }
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

static int write_json(const struct kl_image_store *st, const char *path, const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    if (!s)
        return -ENOMEM;
    int rc = write_atomic(st, path, s, strlen(s));
    free(s);
    return rc;
}

static bool is_dir(const char *path)
{
    struct stat s;
    return stat(path, &s) == 0 && S_ISDIR(s.st_mode);
}

static bool exists(const char *path)
{
    struct stat s;
    return lstat(path, &s) == 0;
}

/* Takes flock op on <dir>/<name>; returns the fd holding it (close() releases). */
static int lock_path(const char *path, int op)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    while (flock(fd, op) < 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static int store_lock(const struct kl_image_store *st, int op)
{
    CK_AUTOFREE char *p = spath(st, "store.lock");
    return lock_path(p, op);
}

static int digest_lock(const struct kl_image_store *st, const char *kind, const char *hex)
{
    CK_AUTOFREE char *p = spath(st, "locks/%s-%s", kind, hex);
    return lock_path(p, LOCK_EX);
}

static void unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Empties a directory of the store (tmp/, locks/). */
static void clear_dir(const struct kl_image_store *st, const char *sub)
{
    CK_AUTOFREE char *p = spath(st, "%s", sub);
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            kl_remove_tree_at(fd, de->d_name);
    closedir(d);
}

/* Names in a store directory (without "." and ".."), NULL-terminated; caller frees. */
static char **list_dir(const struct kl_image_store *st, const char *sub)
{
    CK_AUTOFREE char *p = spath(st, "%s", sub);
    char **v = ck_xcalloc(1, sizeof(char *));
    size_t n = 0;
    DIR *d = opendir(p);
    if (!d)
        return v;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        v = ck_xrealloc(v, (n + 2) * sizeof(char *));
        v[n++] = ck_xstrdup(de->d_name);
        v[n] = NULL;
    }
    closedir(d);
    return v;
}

static char *ref_record_path(const struct kl_image_store *st, const char *name)
{
    CK_AUTOFREE char *h = ck_sha256_hex(name, strlen(name));
    return spath(st, "refs/%s.json", h);
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jint(const cJSON *o, const char *key, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* ==== store =================================================================================== */

int kl_image_store_open(const char *dir, struct kl_image_store **out, struct ck_error *err)
{
    if (!dir || !*dir)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "image store directory is empty");
    struct kl_image_store *st = ck_xcalloc(1, sizeof(*st));
    st->dir = ck_xstrdup(dir);
    size_t n = strlen(st->dir);
    while (n > 1 && st->dir[n - 1] == '/')
        st->dir[--n] = '\0';
    static const char *const subs[] = {"",     "blobs/sha256", "layers/sha256", "images",
                                       "refs", "tmp",          "locks"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(subs); i++) {
        CK_AUTOFREE char *p = *subs[i] ? spath(st, "%s", subs[i]) : ck_xstrdup(st->dir);
        int rc = mkdir_p(p, 0711);
        if (rc < 0) {
            kl_image_store_close(st);
            return ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot create image store %s: %s", p,
                                strerror(-rc));
        }
    }
    /* leftovers of a crash, when nobody else uses the store now */
    CK_AUTOFREE char *lp = spath(st, "store.lock");
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        clear_dir(st, "tmp");
    if (fd >= 0)
        close(fd);
    *out = st;
    return 0;
}

void kl_image_store_close(struct kl_image_store *st)
{
    if (!st)
        return;
    free(st->dir);
    free(st);
}

const char *kl_image_store_dir(const struct kl_image_store *st)
{
    return st->dir;
}

void kl_image_store_get_stats(const struct kl_image_store *st, struct kl_image_store_stats *out)
{
    out->manifests_fetched = atomic_load(&st->manifests_fetched);
    out->blobs_fetched = atomic_load(&st->blobs_fetched);
    out->bytes_fetched = atomic_load(&st->bytes_fetched);
    out->layers_unpacked = atomic_load(&st->layers_unpacked);
}

/* ==== platforms ==== */

const char *kl_host_arch(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__i386__)
    return "386";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#else
    return "unknown";
#endif
}

const cJSON *kl_manifest_select_platform(const cJSON *index, const char *os, const char *arch)
{
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(index, "manifests");
    const cJSON *m, *unplatformed = NULL;
    cJSON_ArrayForEach(m, ms)
    {
        if (!cJSON_IsObject(m))
            continue;
        const cJSON *pl = cJSON_GetObjectItemCaseSensitive(m, "platform");
        if (!pl) {
            if (!unplatformed)
                unplatformed = m;
            continue;
        }
        const char *mos = jstr(pl, "os"), *march = jstr(pl, "architecture");
        if (mos && march && !strcmp(mos, os) && !strcmp(march, arch))
            return m;
    }
    return unplatformed;
}

/* ==== pulling ==== */

struct desc {
    char media_type[128];
    char digest[72];
    char hex[65];
    int64_t size;
};

struct pull {
    struct kl_image_store *st;
    const struct kl_registry_config *rc;
    struct kl_image_ref ref;
    char *name;  /* domain/path */
    char *image; /* what containerd calls it: name:tag or name@digest */
    struct kl_registry_client *client;
    struct ck_error *err;
};

/* "rpc error: code = C desc = failed to pull and unpack image "R": <detail>" */
static int pull_fail(struct pull *p, const char *grpc_code, int http,
                     const struct kl_registry_status *rs, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int pull_fail(struct pull *p, const char *grpc_code, int http,
                     const struct kl_registry_status *rs, const char *fmt, ...)
{
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    ck_buf_printf(&b, "rpc error: code = %s desc = failed to pull and unpack image ", grpc_code);
    kl_go_quote(&b, p->image);
    ck_buf_puts(&b, ": ");
    va_list ap;
    va_start(ap, fmt);
    ck_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    int rc = ck_error_set(p->err, http, "ErrImagePull", "%s", b.data);
    if (p->err && rs && rs->code[0]) {
        cJSON *details = cJSON_CreateObject();
        cJSON *causes = cJSON_AddArrayToObject(details, "causes");
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "reason", rs->code);
        cJSON_AddStringToObject(c, "message", rs->detail);
        cJSON_AddItemToArray(causes, c);
        ck_error_set_details(p->err, details);
    }
    return rc;
}

static int parse_desc(const cJSON *j, struct desc *d)
{
    memset(d, 0, sizeof(*d));
    const char *dg = jstr(j, "digest"), *mt = jstr(j, "mediaType");
    if (!kl_digest_is_sha256(dg) || !jint(j, "size", &d->size))
        return -EINVAL;
    ck_snprintf(d->digest, sizeof(d->digest), "%s", dg);
    ck_snprintf(d->hex, sizeof(d->hex), "%s", dg + 7);
    ck_snprintf(d->media_type, sizeof(d->media_type), "%s", mt ? mt : "");
    return 0;
}

enum mkind { MK_UNKNOWN, MK_INDEX, MK_MANIFEST, MK_SCHEMA1 };

static enum mkind manifest_kind(const char *content_type, const cJSON *j)
{
    const char *mt = content_type;
    if (!mt || !*mt || !strcmp(mt, "application/json") || !strcmp(mt, "text/plain") ||
        !strcmp(mt, "application/octet-stream"))
        mt = jstr(j, "mediaType");
    if (mt) {
        if (!strcmp(mt, KL_MT_OCI_INDEX) || !strcmp(mt, KL_MT_DOCKER_LIST))
            return MK_INDEX;
        if (!strcmp(mt, KL_MT_OCI_MANIFEST) || !strcmp(mt, KL_MT_DOCKER_MANIFEST))
            return MK_MANIFEST;
        if (!strcmp(mt, KL_MT_DOCKER_SCHEMA1) || !strcmp(mt, KL_MT_DOCKER_SCHEMA1_SIGNED))
            return MK_SCHEMA1;
    }
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(j, "schemaVersion");
    if (cJSON_IsNumber(sv) && sv->valuedouble == 1)
        return MK_SCHEMA1;
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "manifests")))
        return MK_INDEX;
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "config")))
        return MK_MANIFEST;
    return MK_UNKNOWN;
}

static bool layer_media_type_ok(const char *mt)
{
    static const char *const ok[] = {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };
    if (!*mt)
        return true; /* schema 2 allows leaving it out: the data says what it is */
    for (size_t i = 0; i < CK_ARRAY_SIZE(ok); i++)
        if (!strcmp(mt, ok[i]))
            return true;
    return false;
}

static bool config_media_type_ok(const char *mt)
{
    return !*mt || !strcmp(mt, "application/vnd.oci.image.config.v1+json") ||
           !strcmp(mt, "application/vnd.docker.container.image.v1+json");
}

static char *sha256_digest_of(const char *data, size_t len)
{
    CK_AUTOFREE char *hex = ck_sha256_hex(data, len);
    return ck_xasprintf("sha256:%s", hex);
}

/* Asks each endpoint in turn what the reference points to (containerd's resolver: a 404 moves
 * on quietly, the first other failure is what gets reported when no endpoint has it). */
static int resolve(struct pull *p, char **body, size_t *len, char **mt)
{
    char **eps = NULL;
    size_t n = kl_registry_endpoints(p->rc, p->ref.domain, &eps);
    const char *reference = p->ref.digest ? p->ref.digest
                            : p->ref.tag  ? p->ref.tag
                                          : KL_DEFAULT_TAG;
    struct kl_registry_status first = {0}, last404 = {0};
    int first_rc = 0;
    bool saw404 = false;
    for (size_t i = 0; i < n; i++) {
        struct kl_registry_client *c =
            kl_registry_client_new(p->rc, p->ref.domain, eps[i], p->ref.path);
        struct kl_registry_status rs;
        int rc = kl_registry_get_manifest(c, reference, body, len, mt, &rs);
        if (rc == 0) {
            p->client = c;
            kl_strv_free(eps);
            atomic_fetch_add(&p->st->manifests_fetched, 1);
            return 0;
        }
        ck_vinfo(2, "resolving %s at %s: %s", p->image, eps[i], rs.message);
        if (rc == -ENOENT) {
            saw404 = true;
            last404 = rs;
        } else if (!first_rc) {
            first_rc = rc;
            first = rs;
        }
        kl_registry_client_free(c);
    }
    kl_strv_free(eps);
    CK_AUTOBUF struct ck_buf q = CK_BUF_INIT;
    kl_go_quote(&q, p->image);
    if (n == 0)
        return pull_fail(p, "Unknown", 500, NULL,
                         "failed to resolve reference %s: no mirror configured for registry %s and "
                         "falling back to it is disabled",
                         q.data, p->ref.domain);
    if (first_rc)
        return pull_fail(p, "Unknown", 500, &first, "failed to resolve reference %s: %s", q.data,
                         first.message);
    return pull_fail(p, "NotFound", 404, saw404 ? &last404 : NULL,
                     "failed to resolve reference %s: %s: not found", q.data, p->image);
}

/* Fetches a manifest by digest from the endpoint that resolved the reference. */
static int fetch_manifest(struct pull *p, const struct desc *d, char **body, size_t *len, char **mt)
{
    struct kl_registry_status rs;
    int rc = kl_registry_get_manifest(p->client, d->digest, body, len, mt, &rs);
    if (rc == -ENOENT)
        return pull_fail(
            p, "NotFound", 404, &rs,
            "failed to copy: httpReadSeeker: failed open: content at %s not found: not found",
            rs.url);
    if (rc < 0)
        return pull_fail(p, "Unknown", 500, &rs, "failed to copy: %s", rs.message);
    atomic_fetch_add(&p->st->manifests_fetched, 1);
    CK_AUTOFREE char *got = sha256_digest_of(*body, *len);
    if (strcmp(got, d->digest) || (d->size && (int64_t)*len != d->size)) {
        free(*body);
        free(*mt);
        *body = *mt = NULL;
        if (strcmp(got, d->digest))
            return pull_fail(p, "FailedPrecondition", 412, NULL,
                             "failed commit on ref \"manifest-%s\": unexpected commit digest %s, "
                             "expected %s: failed precondition",
                             d->digest, got, d->digest);
        return pull_fail(
            p, "FailedPrecondition", 412, NULL,
            "failed commit on ref \"manifest-%s\": unexpected commit size %zu, expected "
            "%lld: failed precondition",
            d->digest, *len, (long long)d->size);
    }
    return 0;
}

/* Makes blobs/sha256/<hex> present, downloading it once however many pulls want it. */
static int ensure_blob(struct pull *p, const struct desc *d, const char *kind)
{
    CK_AUTOFREE char *path = spath(p->st, "blobs/sha256/%s", d->hex);
    if (exists(path))
        return 0;
    int lk = digest_lock(p->st, "blob", d->hex);
    if (lk < 0)
        return pull_fail(p, "Unknown", 500, NULL, "failed to lock %s: %s", d->digest,
                         strerror(-lk));
    int rc = 0;
    if (!exists(path)) {
        CK_AUTOFREE char *tmp = spath(p->st, "tmp/blob-XXXXXX");
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
            rc = pull_fail(p, "Unknown", 500, NULL, "failed to open writer for %s: %s", d->digest,
                           strerror(errno));
        } else {
            struct kl_registry_status rs;
            int fr = kl_registry_fetch_blob(p->client, d->digest, d->size, fd, &rs);
            close(fd);
            if (fr == -EBADMSG)
                rc = pull_fail(p, "FailedPrecondition", 412, NULL,
                               "failed commit on ref \"%s-%s\": %s", kind, d->digest, rs.message);
            else if (fr == -ENOENT)
                rc = pull_fail(p, "NotFound", 404, &rs, "failed to copy: %s", rs.message);
            else if (fr < 0)
                rc = pull_fail(p, "Unknown", 500, &rs, "failed to copy: %s", rs.message);
            else if (rename(tmp, path) < 0)
                rc = pull_fail(p, "Unknown", 500, NULL, "failed to commit %s: %s", d->digest,
                               strerror(errno));
            if (rc < 0)
                unlink(tmp);
            else {
                atomic_fetch_add(&p->st->blobs_fetched, 1);
                atomic_fetch_add(&p->st->bytes_fetched, d->size);
            }
        }
    }
    unlock(lk);
    return rc;
}

/* Makes layers/sha256/<diff hex> present: downloads and unpacks the layer once. */
static int ensure_layer(struct pull *p, const struct desc *d, const char *diff_id)
{
    const char *dhex = diff_id + 7;
    CK_AUTOFREE char *ldir = spath(p->st, "layers/sha256/%s", dhex);
    if (is_dir(ldir))
        return 0;
    int lk = digest_lock(p->st, "layer", dhex);
    if (lk < 0)
        return pull_fail(p, "Unknown", 500, NULL, "failed to lock %s: %s", diff_id, strerror(-lk));
    int rc = 0;
    if (!is_dir(ldir))
        rc = ensure_blob(p, d, "layer");
    if (rc == 0 && !is_dir(ldir)) {
        CK_AUTOFREE char *tmp = spath(p->st, "tmp/layer-XXXXXX");
        CK_AUTOFREE char *blob = spath(p->st, "blobs/sha256/%s", d->hex);
        if (!mkdtemp(tmp)) {
            rc = pull_fail(p, "Unknown", 500, NULL, "failed to extract layer %s: %s", diff_id,
                           strerror(errno));
        } else {
            struct kl_layer_result res;
            struct ck_error lerr = CK_ERROR_INIT;
            int ur = kl_layer_unpack(blob, tmp, &res, &lerr);
            if (ur < 0)
                rc = pull_fail(p, "Unknown", 500, NULL, "failed to extract layer %s: %s", diff_id,
                               lerr.message);
            else if (strcmp(res.diff_id, diff_id))
                rc = pull_fail(p, "Unknown", 500, NULL,
                               "failed to extract layer %s: mismatched diff ID %s of layer %s",
                               diff_id, res.diff_id, d->digest);
            else if (rename(tmp, ldir) < 0)
                rc = pull_fail(p, "Unknown", 500, NULL, "failed to commit layer %s: %s", diff_id,
                               strerror(errno));
            ck_error_clear(&lerr);
            if (rc < 0) {
                CK_AUTOFREE char *tdir = spath(p->st, "tmp");
                int tfd = open(tdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (tfd >= 0) {
                    kl_remove_tree_at(tfd, strrchr(tmp, '/') + 1);
                    close(tfd);
                }
            } else {
                atomic_fetch_add(&p->st->layers_unpacked, 1);
                ck_vinfo(4, "unpacked layer %s (%lld entries, %lld bytes)", diff_id,
                         (long long)res.entries, (long long)res.bytes);
            }
        }
    }
    unlock(lk);
    return rc;
}

static int put_blob(struct pull *p, const char *digest, const char *data, size_t len)
{
    CK_AUTOFREE char *path = spath(p->st, "blobs/sha256/%s", digest + 7);
    if (exists(path))
        return 0;
    int rc = write_atomic(p->st, path, data, len);
    if (rc < 0)
        return pull_fail(p, "Unknown", 500, NULL, "failed to commit %s: %s", digest, strerror(-rc));
    return 0;
}

static int write_ref(struct pull *p, const char *name, const char *id, const char *target)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "name", name);
    cJSON_AddStringToObject(r, "id", id);
    cJSON_AddStringToObject(r, "target", target);
    cJSON_AddNumberToObject(r, "pulled", (double)time(NULL));
    CK_AUTOFREE char *path = ref_record_path(p->st, name);
    int rc = write_json(p->st, path, r);
    cJSON_Delete(r);
    if (rc < 0)
        return pull_fail(p, "Unknown", 500, NULL, "failed to record %s: %s", name, strerror(-rc));
    return 0;
}

static int load_image(struct kl_image_store *st, const char *id, const char *ref,
                      const char *repo_digest, struct kl_image **out, struct ck_error *err);

/* The body of kl_image_pull once the reference parsed; holds the store lock shared. */
static int do_pull(struct pull *p, struct kl_image **out)
{
    char *body = NULL, *mt = NULL;
    size_t len = 0;
    int rc = resolve(p, &body, &len, &mt);
    if (rc < 0)
        return rc;
    CK_AUTOFREE char *target = sha256_digest_of(body, len);
    if (p->ref.digest && strcmp(target, p->ref.digest)) {
        rc =
            pull_fail(p, "FailedPrecondition", 412, NULL,
                      "failed commit on ref \"manifest-%s\": unexpected commit digest %s, expected "
                      "%s: failed precondition",
                      p->ref.digest, target, p->ref.digest);
        free(body);
        free(mt);
        return rc;
    }
    /* index -> the platform's manifest */
    char *bodies[INDEX_DEPTH + 1] = {body};
    char *digests[INDEX_DEPTH + 1] = {ck_xstrdup(target)};
    size_t lens[INDEX_DEPTH + 1] = {len};
    int nb = 1;
    cJSON *m = cJSON_ParseWithLength(body, len);
    enum mkind kind = m ? manifest_kind(mt, m) : MK_UNKNOWN;
    while (rc == 0 && kind == MK_INDEX) {
        const cJSON *e = kl_manifest_select_platform(m, "linux", kl_host_arch());
        struct desc d;
        if (!e) {
            rc =
                pull_fail(p, "NotFound", 404, NULL, "no match for platform in manifest: not found");
            break;
        }
        if (parse_desc(e, &d) < 0 || nb > INDEX_DEPTH) {
            rc = pull_fail(p, "Unknown", 500, NULL, "invalid manifest list %s", digests[nb - 1]);
            break;
        }
        free(mt);
        mt = NULL;
        rc = fetch_manifest(p, &d, &bodies[nb], &lens[nb], &mt);
        if (rc < 0)
            break;
        digests[nb] = ck_xstrdup(d.digest);
        cJSON_Delete(m);
        m = cJSON_ParseWithLength(bodies[nb], lens[nb]);
        kind = m ? manifest_kind(mt && *mt ? mt : d.media_type, m) : MK_UNKNOWN;
        nb++;
    }
    if (rc == 0 && kind == MK_SCHEMA1)
        rc = pull_fail(p, "Unknown", 500, NULL,
                       "Docker Image Format v1 and Docker Image manifest version 2, schema 1 "
                       "support is disabled by default: the image needs to be rebuilt");
    else if (rc == 0 && kind != MK_MANIFEST)
        rc = pull_fail(p, "Unknown", 500, NULL, "unexpected media type %s for %s", mt ? mt : "",
                       digests[nb - 1]);

    /* manifest -> config and layers */
    struct desc cfg;
    struct desc *layers = NULL;
    size_t nl = 0;
    cJSON *config = NULL;
    const cJSON *diff_ids = NULL;
    if (rc == 0) {
        const cJSON *ls = cJSON_GetObjectItemCaseSensitive(m, "layers");
        if (parse_desc(cJSON_GetObjectItemCaseSensitive(m, "config"), &cfg) < 0 ||
            !cJSON_IsArray(ls))
            rc = pull_fail(p, "Unknown", 500, NULL, "invalid manifest %s", digests[nb - 1]);
        else if (!config_media_type_ok(cfg.media_type))
            rc = pull_fail(p, "Unknown", 500, NULL, "unsupported image config media type %s",
                           cfg.media_type);
        else if (cfg.size > CONFIG_MAX)
            rc = pull_fail(p, "Unknown", 500, NULL, "image config %s is too large (%lld bytes)",
                           cfg.digest, (long long)cfg.size);
        nl = rc == 0 ? (size_t)cJSON_GetArraySize(ls) : 0;
        layers = ck_xcalloc(nl + 1, sizeof(*layers));
        for (size_t i = 0; rc == 0 && i < nl; i++) {
            if (parse_desc(cJSON_GetArrayItem(ls, (int)i), &layers[i]) < 0)
                rc = pull_fail(p, "Unknown", 500, NULL, "invalid layer %zu in manifest %s", i,
                               digests[nb - 1]);
            else if (!layer_media_type_ok(layers[i].media_type))
                rc = pull_fail(p, "Unknown", 500, NULL, "unsupported layer media type %s",
                               layers[i].media_type);
        }
    }
    if (rc == 0)
        rc = ensure_blob(p, &cfg, "config");
    if (rc == 0) {
        CK_AUTOFREE char *cpath = spath(p->st, "blobs/sha256/%s", cfg.hex);
        config = read_json(cpath, (size_t)CONFIG_MAX);
        const cJSON *rootfs = config ? cJSON_GetObjectItemCaseSensitive(config, "rootfs") : NULL;
        diff_ids = rootfs ? cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids") : NULL;
        if (!config || !cJSON_IsArray(diff_ids))
            rc = pull_fail(p, "Unknown", 500, NULL, "invalid image config %s", cfg.digest);
        else if ((size_t)cJSON_GetArraySize(diff_ids) != nl)
            rc = pull_fail(p, "Unknown", 500, NULL, "mismatched image rootfs and manifest layers");
        for (size_t i = 0; rc == 0 && i < nl; i++) {
            const cJSON *di = cJSON_GetArrayItem(diff_ids, (int)i);
            if (!cJSON_IsString(di) || !kl_digest_is_sha256(di->valuestring))
                rc = pull_fail(p, "Unknown", 500, NULL, "invalid diff ID %zu in image config %s", i,
                               cfg.digest);
        }
    }
    for (size_t i = 0; rc == 0 && i < nl; i++)
        rc = ensure_layer(p, &layers[i], cJSON_GetArrayItem(diff_ids, (int)i)->valuestring);

    /* the manifests, the image record, the references */
    int64_t size = 0;
    for (int i = 0; rc == 0 && i < nb; i++) {
        rc = put_blob(p, digests[i], bodies[i], lens[i]);
        size += (int64_t)lens[i];
    }
    if (rc == 0) {
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "id", cfg.digest);
        cJSON_AddStringToObject(rec, "manifest", digests[nb - 1]);
        cJSON *cj = cJSON_AddObjectToObject(rec, "config");
        cJSON_AddStringToObject(cj, "digest", cfg.digest);
        cJSON_AddNumberToObject(cj, "size", (double)cfg.size);
        size += cfg.size;
        cJSON *la = cJSON_AddArrayToObject(rec, "layers");
        for (size_t i = 0; i < nl; i++) {
            cJSON *l = cJSON_CreateObject();
            cJSON_AddStringToObject(l, "digest", layers[i].digest);
            cJSON_AddStringToObject(l, "diffID", cJSON_GetArrayItem(diff_ids, (int)i)->valuestring);
            cJSON_AddStringToObject(l, "mediaType", layers[i].media_type);
            cJSON_AddNumberToObject(l, "size", (double)layers[i].size);
            cJSON_AddItemToArray(la, l);
            size += layers[i].size;
        }
        cJSON_AddNumberToObject(rec, "size", (double)size);
        CK_AUTOFREE char *rpath = spath(p->st, "images/%s.json", cfg.hex);
        int wr = write_json(p->st, rpath, rec);
        cJSON_Delete(rec);
        if (wr < 0)
            rc = pull_fail(p, "Unknown", 500, NULL, "failed to record image %s: %s", cfg.digest,
                           strerror(-wr));
    }
    CK_AUTOFREE char *repo_digest = ck_xasprintf("%s@%s", p->name, target);
    if (rc == 0 && !p->ref.digest)
        rc = write_ref(p, p->image, cfg.digest, target);
    if (rc == 0)
        rc = write_ref(p, repo_digest, cfg.digest, target);
    if (rc == 0 && out)
        rc = load_image(p->st, cfg.digest, p->image, repo_digest, out, p->err);

    cJSON_Delete(config);
    cJSON_Delete(m);
    free(layers);
    free(mt);
    for (int i = 0; i <= INDEX_DEPTH; i++) {
        free(bodies[i]);
        free(digests[i]);
    }
    return rc;
}

int kl_image_pull(struct kl_image_store *st, const char *ref, const struct kl_registry_config *rc,
                  struct kl_image **out, struct ck_error *err)
{
    if (out)
        *out = NULL;
    char msg[512];
    struct pull p = {.st = st, .rc = rc, .err = err};
    if (kl_image_ref_parse(ref ? ref : "", &p.ref, msg, sizeof(msg)) < 0) {
        CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
        ck_buf_puts(&b, "Failed to apply default image tag ");
        kl_go_quote(&b, ref ? ref : "");
        ck_buf_puts(&b, ": couldn't parse image name ");
        kl_go_quote(&b, ref ? ref : "");
        ck_buf_printf(&b, ": %s", msg);
        return ck_error_set(err, 400, "InvalidImageName", "%s", b.data);
    }
    p.name = kl_image_ref_name(&p.ref);
    p.image = kl_image_ref_docker_string(&p.ref);
    int lk = store_lock(st, LOCK_SH);
    int r;
    if (lk < 0) {
        r = pull_fail(&p, "Unknown", 500, NULL, "failed to lock the image store: %s",
                      strerror(-lk));
    } else {
        ck_vinfo(2, "pulling image %s", p.image);
        r = do_pull(&p, out);
        unlock(lk);
    }
    kl_registry_client_free(p.client);
    kl_image_ref_free(&p.ref);
    free(p.name);
    free(p.image);
    return r;
}

/* ==== lookups ==== */

void kl_image_free(struct kl_image *img)
{
    if (!img)
        return;
    free(img->ref);
    free(img->id);
    free(img->repo_digest);
    kl_strv_free(img->layer_dirs);
    cJSON_Delete(img->config);
    free(img);
}

static int not_present(struct ck_error *err, const char *ref)
{
    return ck_error_set(err, 404, CK_REASON_NOT_FOUND, "image \"%s\" is not present", ref);
}

static int load_image(struct kl_image_store *st, const char *id, const char *ref,
                      const char *repo_digest, struct kl_image **out, struct ck_error *err)
{
    CK_AUTOFREE char *rpath = spath(st, "images/%s.json", id + 7);
    cJSON *rec = read_json(rpath, RECORD_MAX);
    const cJSON *layers = rec ? cJSON_GetObjectItemCaseSensitive(rec, "layers") : NULL;
    const cJSON *cfgd = rec ? cJSON_GetObjectItemCaseSensitive(rec, "config") : NULL;
    const char *cdig = cfgd ? jstr(cfgd, "digest") : NULL;
    if (!cJSON_IsArray(layers) || !kl_digest_is_sha256(cdig)) {
        cJSON_Delete(rec);
        return not_present(err, ref);
    }
    struct kl_image *img = ck_xcalloc(1, sizeof(*img));
    img->ref = ck_xstrdup(ref);
    img->id = ck_xstrdup(id);
    img->repo_digest = repo_digest ? ck_xstrdup(repo_digest) : NULL;
    jint(rec, "size", &img->size);
    size_t n = (size_t)cJSON_GetArraySize(layers);
    img->layer_dirs = ck_xcalloc(n + 1, sizeof(char *));
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *di = jstr(cJSON_GetArrayItem(layers, (int)i), "diffID");
        if (!kl_digest_is_sha256(di)) {
            rc = not_present(err, ref);
            break;
        }
        img->layer_dirs[i] = spath(st, "layers/sha256/%s", di + 7);
        img->n_layers = i + 1;
        if (!is_dir(img->layer_dirs[i]))
            rc = not_present(err, ref);
    }
    if (rc == 0) {
        CK_AUTOFREE char *cpath = spath(st, "blobs/sha256/%s", cdig + 7);
        cJSON *config = read_json(cpath, (size_t)CONFIG_MAX);
        if (!config) {
            rc = not_present(err, ref);
        } else {
            cJSON *inner = cJSON_DetachItemFromObjectCaseSensitive(config, "config");
            img->config = cJSON_IsObject(inner) ? inner : cJSON_CreateObject();
            if (!cJSON_IsObject(inner))
                cJSON_Delete(inner);
            cJSON_Delete(config);
        }
    }
    cJSON_Delete(rec);
    if (rc < 0) {
        kl_image_free(img);
        return rc;
    }
    *out = img;
    return 0;
}

/* Reads refs/ into parallel arrays of records (caller deletes each). */
static size_t read_refs(struct kl_image_store *st, cJSON ***out)
{
    char **names = list_dir(st, "refs");
    cJSON **v = NULL;
    size_t n = 0;
    for (char **nm = names; *nm; nm++) {
        CK_AUTOFREE char *path = spath(st, "refs/%s", *nm);
        cJSON *r = read_json(path, RECORD_MAX);
        if (!r || !jstr(r, "name") || !kl_digest_is_sha256(jstr(r, "id")) ||
            !kl_digest_is_sha256(jstr(r, "target"))) {
            cJSON_Delete(r);
            continue;
        }
        v = ck_xrealloc(v, (n + 1) * sizeof(*v));
        v[n++] = r;
    }
    kl_strv_free(names);
    *out = v;
    return n;
}

static void free_refs(cJSON **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(v[i]);
    free(v);
}

/* The image ID a reference or ID names (with the store locked); -ENOENT when none. On success
 * *repo_digest (may be NULL) gets the name@digest the reference resolved to (caller frees). */
static int resolve_local(struct kl_image_store *st, const char *ref, char id[80], char **key,
                         char **repo_digest, struct ck_error *err)
{
    if (repo_digest)
        *repo_digest = NULL;
    if (kl_image_id_parse(ref, id, 80)) {
        CK_AUTOFREE char *rpath = spath(st, "images/%s.json", id + 7);
        if (!exists(rpath))
            return not_present(err, ref);
        *key = ck_xstrdup(id);
        if (repo_digest) {
            cJSON **refs;
            size_t n = read_refs(st, &refs);
            for (size_t i = 0; i < n && !*repo_digest; i++)
                if (!strcmp(jstr(refs[i], "id"), id) && strchr(jstr(refs[i], "name"), '@'))
                    *repo_digest = ck_xstrdup(jstr(refs[i], "name"));
            free_refs(refs, n);
        }
        return 0;
    }
    struct kl_image_ref r;
    char msg[512];
    if (kl_image_ref_parse(ref, &r, msg, sizeof(msg)) < 0)
        return ck_error_set(err, 400, "InvalidImageName", "couldn't parse image name \"%s\": %s",
                            ref, msg);
    CK_AUTOFREE char *name = kl_image_ref_docker_string(&r);
    CK_AUTOFREE char *repo = kl_image_ref_name(&r);
    kl_image_ref_free(&r);
    CK_AUTOFREE char *path = ref_record_path(st, name);
    cJSON *rec = read_json(path, RECORD_MAX);
    const char *rid = rec ? jstr(rec, "id") : NULL;
    const char *target = rec ? jstr(rec, "target") : NULL;
    if (!kl_digest_is_sha256(rid) || !kl_digest_is_sha256(target) ||
        strcmp(jstr(rec, "name") ? jstr(rec, "name") : "", name)) {
        cJSON_Delete(rec);
        return not_present(err, name);
    }
    ck_snprintf(id, 80, "%s", rid);
    *key = ck_xstrdup(name);
    if (repo_digest)
        *repo_digest = ck_xasprintf("%s@%s", repo, target);
    cJSON_Delete(rec);
    return 0;
}

int kl_image_get(struct kl_image_store *st, const char *ref, struct kl_image **out,
                 struct ck_error *err)
{
    *out = NULL;
    if (!ref)
        return not_present(err, "");
    int lk = store_lock(st, LOCK_SH);
    if (lk < 0)
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "failed to lock the image store: %s",
                            strerror(-lk));
    char id[80];
    CK_AUTOFREE char *key = NULL;
    CK_AUTOFREE char *repo_digest = NULL;
    int rc = resolve_local(st, ref, id, &key, &repo_digest, err);
    if (rc == 0)
        rc = load_image(st, id, key, repo_digest, out, err);
    unlock(lk);
    return rc;
}

int kl_pull_policy_parse(const char *s, enum kl_pull_policy *out)
{
    if (s && !strcmp(s, "Always"))
        *out = KL_PULL_ALWAYS;
    else if (s && !strcmp(s, "IfNotPresent"))
        *out = KL_PULL_IF_NOT_PRESENT;
    else if (s && !strcmp(s, "Never"))
        *out = KL_PULL_NEVER;
    else
        return -EINVAL;
    return 0;
}

int kl_image_ensure(struct kl_image_store *st, const char *image, enum kl_pull_policy policy,
                    const struct kl_registry_config *rc, struct kl_image **out, bool *pulled,
                    struct ck_error *err)
{
    *out = NULL;
    if (pulled)
        *pulled = false;
    CK_AUTOFREE char *img = NULL;
    int r = kl_image_apply_default_tag(image, &img, err);
    if (r < 0)
        return r;
    struct kl_image *local = NULL;
    bool present = kl_image_get(st, img, &local, NULL) == 0;
    bool pull = policy == KL_PULL_ALWAYS || (policy == KL_PULL_IF_NOT_PRESENT && !present);
    if (!pull) {
        if (present) {
            *out = local;
            return 0;
        }
        CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
        ck_buf_puts(&b, "Container image ");
        kl_go_quote(&b, img);
        ck_buf_puts(&b, " is not present with pull policy of Never");
        return ck_error_set(err, 404, "ErrImageNeverPull", "%s", b.data);
    }
    kl_image_free(local);
    if (pulled)
        *pulled = true;
    return kl_image_pull(st, img, rc, out, err);
}

/* ==== listing ==== */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strv_push(char ***v, size_t *n, const char *s)
{
    *v = ck_xrealloc(*v, (*n + 2) * sizeof(char *));
    (*v)[(*n)++] = ck_xstrdup(s);
    (*v)[*n] = NULL;
}

static int cmp_summary(const void *a, const void *b)
{
    return strcmp(((const struct kl_image_summary *)a)->id,
                  ((const struct kl_image_summary *)b)->id);
}

int kl_image_list(struct kl_image_store *st, struct kl_image_summary **out, size_t *n,
                  struct ck_error *err)
{
    *out = NULL;
    *n = 0;
    int lk = store_lock(st, LOCK_SH);
    if (lk < 0)
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "failed to lock the image store: %s",
                            strerror(-lk));
    char **recs = list_dir(st, "images");
    struct kl_image_summary *v = NULL;
    size_t nv = 0;
    for (char **r = recs; *r; r++) {
        size_t l = strlen(*r);
        if (l != 64 + 5 || strcmp(*r + 64, ".json"))
            continue;
        CK_AUTOFREE char *path = spath(st, "images/%s", *r);
        cJSON *rec = read_json(path, RECORD_MAX);
        if (!rec)
            continue;
        v = ck_xrealloc(v, (nv + 1) * sizeof(*v));
        struct kl_image_summary *s = &v[nv++];
        memset(s, 0, sizeof(*s));
        s->id = ck_xasprintf("sha256:%.64s", *r);
        s->repo_tags = ck_xcalloc(1, sizeof(char *));
        s->repo_digests = ck_xcalloc(1, sizeof(char *));
        jint(rec, "size", &s->size);
        cJSON_Delete(rec);
    }
    kl_strv_free(recs);
    cJSON **refs;
    size_t nr = read_refs(st, &refs);
    for (size_t i = 0; i < nr; i++) {
        const char *id = jstr(refs[i], "id"), *name = jstr(refs[i], "name");
        for (size_t k = 0; k < nv; k++) {
            if (strcmp(v[k].id, id))
                continue;
            if (strchr(name, '@'))
                strv_push(&v[k].repo_digests, &v[k].n_repo_digests, name);
            else
                strv_push(&v[k].repo_tags, &v[k].n_repo_tags, name);
            int64_t t;
            if (jint(refs[i], "pulled", &t) && t > v[k].pulled_at)
                v[k].pulled_at = t;
        }
    }
    free_refs(refs, nr);
    unlock(lk);
    for (size_t k = 0; k < nv; k++) {
        qsort(v[k].repo_tags, v[k].n_repo_tags, sizeof(char *), cmp_str);
        qsort(v[k].repo_digests, v[k].n_repo_digests, sizeof(char *), cmp_str);
    }
    if (nv)
        qsort(v, nv, sizeof(*v), cmp_summary);
    *out = v;
    *n = nv;
    return 0;
}

void kl_image_list_free(struct kl_image_summary *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i].id);
        kl_strv_free(list[i].repo_tags);
        kl_strv_free(list[i].repo_digests);
    }
    free(list);
}

/* ==== removal and GC ==== */

/* Deletes the image record and every reference to id (store locked exclusive). */
static void drop_image(struct kl_image_store *st, const char *id)
{
    cJSON **refs;
    size_t nr = read_refs(st, &refs);
    for (size_t i = 0; i < nr; i++) {
        if (strcmp(jstr(refs[i], "id"), id))
            continue;
        CK_AUTOFREE char *path = ref_record_path(st, jstr(refs[i], "name"));
        unlink(path);
    }
    free_refs(refs, nr);
    CK_AUTOFREE char *rpath = spath(st, "images/%s.json", id + 7);
    unlink(rpath);
}

struct strset {
    char **v;
    size_t n;
};

static void set_add(struct strset *s, const char *x)
{
    if (x)
        strv_push(&s->v, &s->n, x);
}

static bool set_has(const struct strset *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x))
            return true;
    return false;
}

static void set_free(struct strset *s)
{
    kl_strv_free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* Removes blobs and layers no image uses, dangling references, and tmp/ and locks/ (store
 * locked exclusive, so no pull is under way). */
static void prune(struct kl_image_store *st)
{
    struct strset blobs = {0}, layers = {0}, ids = {0};
    char **recs = list_dir(st, "images");
    for (char **r = recs; *r; r++) {
        CK_AUTOFREE char *path = spath(st, "images/%s", *r);
        cJSON *rec = read_json(path, RECORD_MAX);
        const char *id = rec ? jstr(rec, "id") : NULL;
        if (!kl_digest_is_sha256(id)) {
            unlink(path);
            cJSON_Delete(rec);
            continue;
        }
        set_add(&ids, id);
        set_add(&blobs, jstr(rec, "manifest"));
        set_add(&blobs, id);
        const cJSON *l;
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(rec, "layers"))
        {
            set_add(&blobs, jstr(l, "digest"));
            set_add(&layers, jstr(l, "diffID"));
        }
        cJSON_Delete(rec);
    }
    kl_strv_free(recs);
    cJSON **refs;
    size_t nr = read_refs(st, &refs);
    for (size_t i = 0; i < nr; i++) {
        if (set_has(&ids, jstr(refs[i], "id"))) {
            set_add(&blobs, jstr(refs[i], "target"));
        } else {
            CK_AUTOFREE char *path = ref_record_path(st, jstr(refs[i], "name"));
            unlink(path);
        }
    }
    free_refs(refs, nr);

    static const char *const dirs[] = {"blobs/sha256", "layers/sha256"};
    for (size_t k = 0; k < 2; k++) {
        CK_AUTOFREE char *dpath = spath(st, "%s", dirs[k]);
        int dfd = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            continue;
        char **names = list_dir(st, dirs[k]);
        for (char **nm = names; *nm; nm++) {
            CK_AUTOFREE char *dg = ck_xasprintf("sha256:%s", *nm);
            if (!set_has(k == 0 ? &blobs : &layers, dg)) {
                ck_vinfo(4, "removing unused %s %s", k == 0 ? "blob" : "layer", dg);
                kl_remove_tree_at(dfd, *nm);
            }
        }
        kl_strv_free(names);
        close(dfd);
    }
    clear_dir(st, "tmp");
    clear_dir(st, "locks");
    set_free(&blobs);
    set_free(&layers);
    set_free(&ids);
}

int kl_image_remove(struct kl_image_store *st, const char *ref, struct ck_error *err)
{
    if (!ref)
        return not_present(err, "");
    int lk = store_lock(st, LOCK_EX);
    if (lk < 0)
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "failed to lock the image store: %s",
                            strerror(-lk));
    char id[80];
    CK_AUTOFREE char *key = NULL;
    int rc = resolve_local(st, ref, id, &key, NULL, err);
    if (rc == 0) {
        drop_image(st, id);
        prune(st);
    }
    unlock(lk);
    return rc;
}

/* Disk use of the tree under dirfd: blocks of every inode once. */
struct du {
    int64_t blocks, inodes;
    struct {
        dev_t dev;
        ino_t ino;
    } * seen;
    size_t nseen;
};

static void du_walk(int dirfd, struct du *u, int depth)
{
    if (depth > 1100)
        return;
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        struct stat s;
        if (fstatat(fd, de->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (s.st_nlink > 1 && !S_ISDIR(s.st_mode)) {
            bool dup = false;
            for (size_t i = 0; i < u->nseen && !dup; i++)
                dup = u->seen[i].dev == s.st_dev && u->seen[i].ino == s.st_ino;
            if (dup)
                continue;
            u->seen = ck_xrealloc(u->seen, (u->nseen + 1) * sizeof(*u->seen));
            u->seen[u->nseen].dev = s.st_dev;
            u->seen[u->nseen].ino = s.st_ino;
            u->nseen++;
        }
        u->blocks += (int64_t)s.st_blocks;
        u->inodes++;
        if (S_ISDIR(s.st_mode)) {
            int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                du_walk(sub, u, depth + 1);
                close(sub);
            }
        }
    }
    closedir(d);
}

static int64_t store_used_bytes(struct kl_image_store *st, int64_t *inodes)
{
    struct du u = {0};
    int fd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        du_walk(fd, &u, 0);
        close(fd);
    }
    free(u.seen);
    if (inodes)
        *inodes = u.inodes;
    return u.blocks * 512;
}

int kl_image_gc(struct kl_image_store *st, const char *const *keep, size_t n_keep,
                struct kl_image_gc_result *res, struct ck_error *err)
{
    struct kl_image_gc_result r = {0};
    int lk = store_lock(st, LOCK_EX);
    if (lk < 0)
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "failed to lock the image store: %s",
                            strerror(-lk));
    int64_t before = store_used_bytes(st, NULL);
    struct strset keep_ids = {0};
    for (size_t i = 0; i < n_keep; i++) {
        char id[80];
        CK_AUTOFREE char *key = NULL;
        if (keep[i] && resolve_local(st, keep[i], id, &key, NULL, NULL) == 0)
            set_add(&keep_ids, id);
    }
    char **recs = list_dir(st, "images");
    for (char **rn = recs; *rn; rn++) {
        if (strlen(*rn) != 64 + 5)
            continue;
        CK_AUTOFREE char *id = ck_xasprintf("sha256:%.64s", *rn);
        if (set_has(&keep_ids, id))
            continue;
        ck_vinfo(2, "image GC: removing image %s", id);
        drop_image(st, id);
        r.images_removed++;
    }
    kl_strv_free(recs);
    set_free(&keep_ids);
    prune(st);
    int64_t after = store_used_bytes(st, NULL);
    unlock(lk);
    r.bytes_freed = before > after ? before - after : 0;
    if (res)
        *res = r;
    return 0;
}

int kl_image_fs_usage(struct kl_image_store *st, struct kl_image_fs_usage *out,
                      struct ck_error *err)
{
    memset(out, 0, sizeof(*out));
    struct statvfs vfs;
    if (statvfs(st->dir, &vfs) < 0)
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "statfs %s: %s", st->dir,
                            strerror(errno));
    out->capacity_bytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
    out->available_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
    int lk = store_lock(st, LOCK_SH);
    out->used_bytes = store_used_bytes(st, &out->inodes_used);
    unlock(lk);
    return 0;
}
