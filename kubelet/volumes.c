/* volumes.c - pod volumes: emptyDir, hostPath, configMap, secret, downwardAPI, projected
 * (see volumes.h). */
#include "kubelet/volumes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "buf.h"
#include "encoding.h"
#include "json.h"
#include "kubelet/runtime/bundle.h"
#include "kubelet/runtime/registry.h"
#include "log.h"
#include "mem.h"
#include "quantity.h"

#define KL_MAX_PROJECTED_FILES 4096

static int verr(struct ck_error *err, const char *vol, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int verr(struct ck_error *err, const char *vol, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ck_error_set(err, 500, "FailedMount", "MountVolume.SetUp failed for volume \"%s\" : %s",
                        vol, msg);
}

/* ---- projections ---------------------------------------------------------------------------- */

void kl_projection_free(struct kl_projection *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->f[i].path);
        free(p->f[i].data);
    }
    free(p->f);
    p->f = NULL;
    p->n = 0;
}

static void proj_add(struct kl_projection *p, const char *path, const void *data, size_t len,
                     int mode)
{
    /* a later file of the same path wins, as a map would */
    for (size_t i = 0; i < p->n; i++) {
        if (!strcmp(p->f[i].path, path)) {
            free(p->f[i].data);
            p->f[i].data = ck_xmalloc(len + 1);
            memcpy(p->f[i].data, data, len);
            p->f[i].data[len] = '\0';
            p->f[i].len = len;
            p->f[i].mode = mode;
            return;
        }
    }
    p->f = ck_xrealloc(p->f, (p->n + 1) * sizeof(*p->f));
    struct kl_file_projection *f = &p->f[p->n++];
    f->path = ck_xstrdup(path);
    f->data = ck_xmalloc(len + 1);
    memcpy(f->data, data, len);
    f->data[len] = '\0';
    f->len = len;
    f->mode = mode;
}

/* upstream's validatePath: relative, no ".." element, not starting with "..", at most 4096 */
static bool payload_path_ok(const char *p)
{
    if (!p[0] || p[0] == '/' || strlen(p) > 4096 || !strncmp(p, "..", 2))
        return false;
    const char *s = p;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 2 && !strncmp(s, "..", 2)))
            return false;
        if (!e)
            break;
        s = e + 1;
    }
    return true;
}

static void top_name(const char *path, char *out, size_t size)
{
    const char *e = strchr(path, '/');
    size_t n = e ? (size_t)(e - path) : strlen(path);
    if (n >= size)
        n = size - 1;
    memcpy(out, path, n);
    out[n] = '\0';
}

static bool file_equals(const char *path, const struct kl_file_projection *f)
{
    char *data = NULL;
    size_t len = 0;
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || (int)(st.st_mode & 07777) != f->mode)
        return false;
    if (kl_read_file(path, f->len + 1, &data, &len) < 0)
        return false;
    bool eq = len == f->len && memcmp(data, f->data, len) == 0;
    free(data);
    return eq;
}

/* every regular file under dir (relative paths), for the "anything changed?" check */
static int count_files(const char *dir, int depth)
{
    if (depth > 32)
        return 100000;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        CK_AUTOFREE char *p = ck_xasprintf("%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            n += count_files(p, depth + 1);
        else
            n++;
    }
    closedir(d);
    return n;
}

static bool payload_unchanged(const char *data_dir, const struct kl_projection *p)
{
    for (size_t i = 0; i < p->n; i++) {
        CK_AUTOFREE char *fp = ck_xasprintf("%s/%s", data_dir, p->f[i].path);
        if (!file_equals(fp, &p->f[i]))
            return false;
    }
    return count_files(data_dir, 0) == (int)p->n;
}

static int write_one(const char *root, const struct kl_file_projection *f)
{
    CK_AUTOFREE char *path = ck_xasprintf("%s/%s", root, f->path);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    int rc = kl_mkdir_p(path, 0755);
    *slash = '/';
    if (rc < 0)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    size_t off = 0;
    while (off < f->len) {
        ssize_t w = write(fd, f->data + off, f->len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            close(fd);
            return rc;
        }
        off += (size_t)w;
    }
    if (fchmod(fd, (mode_t)f->mode) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    close(fd);
    return 0;
}

int kl_atomic_write(const char *dir, const struct kl_projection *p, struct ck_error *err)
{
    for (size_t i = 0; i < p->n; i++)
        if (!payload_path_ok(p->f[i].path))
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "invalid path %s", p->f[i].path);
    int rc = kl_mkdir_p(dir, 0777);
    if (rc == 0 && chmod(dir, 0777) < 0)
        rc = -errno;
    if (rc < 0)
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot create %s: %s", dir,
                            strerror(-rc));
    CK_AUTOFREE char *data_link = ck_xasprintf("%s/..data", dir);
    char old_ts[256] = "";
    ssize_t ln = readlink(data_link, old_ts, sizeof(old_ts) - 1);
    if (ln > 0) {
        old_ts[ln] = '\0';
        CK_AUTOFREE char *old_dir = ck_xasprintf("%s/%s", dir, old_ts);
        if (!strchr(old_ts, '/') && payload_unchanged(old_dir, p))
            return 0;
    } else {
        old_ts[0] = '\0';
    }
    /* ..2006_01_02_15_04_05.<random>, as upstream's MkdirTemp pattern */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[64];
    strftime(stamp, sizeof(stamp), "..%Y_%m_%d_%H_%M_%S.", &tm);
    CK_AUTOFREE char *tmpl = ck_xasprintf("%s/%sXXXXXX", dir, stamp);
    if (!mkdtemp(tmpl))
        return ck_error_set(err, 500, CK_REASON_INTERNAL,
                            "cannot create a data directory in %s: %s", dir, strerror(errno));
    if (chmod(tmpl, 0755) < 0) {
        rc = -errno;
        goto fail;
    }
    for (size_t i = 0; i < p->n; i++)
        if ((rc = write_one(tmpl, &p->f[i])) < 0)
            goto fail;
    const char *ts_name = strrchr(tmpl, '/') + 1;
    CK_AUTOFREE char *tmp_link = ck_xasprintf("%s/..data_tmp", dir);
    (void)unlink(tmp_link);
    if (symlink(ts_name, tmp_link) < 0 || rename(tmp_link, data_link) < 0) {
        rc = -errno;
        (void)unlink(tmp_link);
        goto fail;
    }
    /* the visible names: symlinks into ..data */
    char name[256];
    for (size_t i = 0; i < p->n; i++) {
        top_name(p->f[i].path, name, sizeof(name));
        CK_AUTOFREE char *vis = ck_xasprintf("%s/%s", dir, name);
        CK_AUTOFREE char *target = ck_xasprintf("..data/%s", name);
        struct stat st;
        if (lstat(vis, &st) == 0)
            continue;
        if (symlink(target, vis) < 0 && errno != EEXIST)
            ck_warn("cannot link %s: %s", vis, strerror(errno));
    }
    /* names the old payload had and the new one does not */
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.' && (de->d_name[1] == '.' || !de->d_name[1]))
                continue;
            bool keep = false;
            for (size_t i = 0; i < p->n && !keep; i++) {
                top_name(p->f[i].path, name, sizeof(name));
                keep = !strcmp(name, de->d_name);
            }
            if (!keep) {
                CK_AUTOFREE char *vis = ck_xasprintf("%s/%s", dir, de->d_name);
                struct stat st;
                if (lstat(vis, &st) == 0 && S_ISLNK(st.st_mode))
                    (void)unlink(vis);
            }
        }
        closedir(d);
    }
    if (old_ts[0] && !strchr(old_ts, '/') && !strncmp(old_ts, "..", 2)) {
        CK_AUTOFREE char *old_dir = ck_xasprintf("%s/%s", dir, old_ts);
        (void)kl_rm_rf(old_dir);
    }
    return 0;
fail:
    (void)kl_rm_rf(tmpl);
    return ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot write the volume data in %s: %s", dir,
                        strerror(-rc));
}

/* ---- downward API -----------------------------------------------------------------------------
 */

/* upstream's FormatMap: `key="value"` lines, keys sorted, no trailing newline */
static char *format_map(const cJSON *m)
{
    size_t n = (size_t)cJSON_GetArraySize(m);
    const char **keys = ck_xcalloc(n + 1, sizeof(*keys));
    size_t k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, m)
    {
        if (e->string && k < n)
            keys[k++] = e->string;
    }
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; i < k; i++) {
        if (i)
            ck_buf_putc(&b, '\n');
        ck_buf_puts(&b, keys[i]);
        ck_buf_putc(&b, '=');
        kl_go_quote(&b, ck_json_as_string(ck_json_getv(m, keys[i], NULL), ""));
    }
    free(keys);
    if (!b.len)
        return ck_xstrdup("");
    return ck_buf_detach(&b);
}

/* "metadata.labels['key']" -> "key" (NULL when path is not of that form for prefix) */
static char *subscript(const char *path, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) != 0 || path[pl] != '[' || path[pl + 1] != '\'')
        return NULL;
    const char *k = path + pl + 2;
    size_t kl = strlen(k);
    if (kl < 2 || k[kl - 1] != ']' || k[kl - 2] != '\'')
        return NULL;
    return ck_xstrndup(k, kl - 2);
}

int kl_downward_field(const cJSON *pod, const struct kl_downward_env *denv, const char *path,
                      char **out, struct ck_error *err)
{
    *out = NULL;
    static const char *const simple[][2] = {
        {"metadata.name", "metadata.name"},
        {"metadata.namespace", "metadata.namespace"},
        {"metadata.uid", "metadata.uid"},
        {"spec.nodeName", "spec.nodeName"},
        {"spec.serviceAccountName", "spec.serviceAccountName"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(simple); i++)
        if (!strcmp(path, simple[i][0])) {
            *out = ck_xstrdup(ck_json_get_string(pod, simple[i][1], ""));
            return 0;
        }
    if (!strcmp(path, "metadata.labels") || !strcmp(path, "metadata.annotations")) {
        *out = format_map(ck_json_get(pod, path));
        return 0;
    }
    static const char *const maps[] = {"metadata.labels", "metadata.annotations"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(maps); i++) {
        char *key = subscript(path, maps[i]);
        if (key) {
            const cJSON *m = ck_json_get(pod, maps[i]);
            *out = ck_xstrdup(ck_json_as_string(ck_json_getv(m, key, NULL), ""));
            free(key);
            return 0;
        }
    }
    if (!strcmp(path, "status.hostIP")) {
        *out = ck_xstrdup(denv && denv->host_ip ? denv->host_ip : "");
        return 0;
    }
    if (!strcmp(path, "status.hostIPs")) {
        *out = ck_xstrdup(denv && denv->host_ip ? denv->host_ip : "");
        return 0;
    }
    if (!strcmp(path, "status.podIP") || !strcmp(path, "status.podIPs")) {
        struct ck_buf b = CK_BUF_INIT;
        size_t n = denv ? denv->n_pod_ips : 0;
        if (!strcmp(path, "status.podIP") && n > 1)
            n = 1;
        for (size_t i = 0; i < n; i++) {
            if (i)
                ck_buf_putc(&b, ',');
            ck_buf_puts(&b, denv->pod_ips[i]);
        }
        *out = b.len ? ck_buf_detach(&b) : ck_xstrdup("");
        ck_buf_free(&b);
        return 0;
    }
    return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "unsupported fieldPath: %s", path);
}

static const cJSON *find_container(const cJSON *pod, const char *name)
{
    static const char *const lists[] = {"spec.containers", "spec.initContainers"};
    const cJSON *only = NULL;
    for (size_t l = 0; l < CK_ARRAY_SIZE(lists); l++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, ck_json_get(pod, lists[l]))
        {
            if (name && name[0] && !strcmp(ck_json_get_string(c, "name", ""), name))
                return c;
            if (!only && l == 0)
                only = c;
        }
    }
    return name && name[0] ? NULL : only;
}

int kl_downward_resource(const cJSON *pod, const struct kl_downward_env *denv,
                         const char *container_name, const char *resource, const char *divisor,
                         char **out, struct ck_error *err)
{
    *out = NULL;
    const cJSON *c = find_container(pod, container_name);
    if (!c)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "container %s not found",
                            container_name ? container_name : "");
    const char *dot = strchr(resource ? resource : "", '.');
    if (!dot || (strncmp(resource, "limits", 6) && strncmp(resource, "requests", 8)))
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "unsupported container resource : %s",
                            resource ? resource : "");
    bool limits = !strncmp(resource, "limits", 6);
    const char *name = dot + 1;
    if (strcmp(name, "cpu") && strcmp(name, "memory") && strcmp(name, "ephemeral-storage") &&
        strncmp(name, "hugepages-", 10))
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "unsupported container resource : %s",
                            resource);
    const cJSON *qj = ck_json_getv(c, "resources", limits ? "limits" : "requests", name, NULL);
    if (!qj && limits && denv && denv->node_allocatable)
        qj = ck_json_getv(denv->node_allocatable, name, NULL);
    struct ck_quantity q = {0}, d;
    if (qj && ck_quantity_parse_json(qj, &q, err) < 0)
        return -EINVAL;
    if (ck_quantity_parse(divisor && divisor[0] ? divisor : "1", &d, err) < 0)
        return -EINVAL;
    double v;
    if (!strcmp(name, "cpu")) {
        int64_t dm = ck_quantity_milli_value(&d);
        if (dm <= 0)
            dm = 1;
        v = ceil((double)ck_quantity_milli_value(&q) / (double)dm);
    } else {
        int64_t dv = ck_quantity_value(&d);
        if (dv <= 0)
            dv = 1;
        v = ceil((double)ck_quantity_value(&q) / (double)dv);
    }
    *out = ck_xasprintf("%lld", (long long)v);
    return 0;
}

/* ---- sources -------------------------------------------------------------------------------- */

static int item_mode(const cJSON *item, int def)
{
    const cJSON *m = ck_json_getv(item, "mode", NULL);
    return cJSON_IsNumber(m) ? (int)ck_json_as_int64(m, def) & 07777 : def;
}

/* the data of a configMap (data + binaryData) or secret (data, base64) for key; 0, -ENOENT */
static int object_value(const cJSON *obj, bool secret, const char *key, char **data, size_t *len)
{
    const cJSON *v = ck_json_getv(obj, "data", key, NULL);
    bool b64 = secret;
    if (!v && !secret) {
        v = ck_json_getv(obj, "binaryData", key, NULL);
        b64 = true;
    }
    if (!cJSON_IsString(v))
        return -ENOENT;
    if (!b64) {
        *len = strlen(v->valuestring);
        *data = ck_xstrdup(v->valuestring);
        return 0;
    }
    uint8_t *raw = NULL;
    size_t n = 0;
    if (ck_base64_decode(v->valuestring, strlen(v->valuestring), &raw, &n) < 0)
        return -EINVAL;
    *data = ck_xmalloc(n + 1);
    memcpy(*data, raw, n);
    (*data)[n] = '\0';
    *len = n;
    free(raw);
    return 0;
}

/* configMap or secret source (volume or projection) into p */
static int project_object(const cJSON *src, bool secret, const char *ns, int default_mode,
                          kl_object_getter get, void *gctx, struct kl_projection *p,
                          const char *vol, struct ck_error *err)
{
    const char *name = ck_json_get_string(src, secret ? "secretName" : "name", "");
    if (secret && !name[0])
        name = ck_json_get_string(src, "name", "");
    bool optional = ck_json_get_bool(src, "optional", false);
    const char *kind = secret ? "secret" : "configmap";
    cJSON *obj = NULL;
    struct ck_error gerr = CK_ERROR_INIT;
    int rc = get(gctx, secret ? "secrets" : "configmaps", ns, name, &obj, &gerr);
    ck_error_clear(&gerr);
    if (rc == -ENOENT) {
        if (optional)
            return 0;
        return verr(err, vol, "%s \"%s\" not found", kind, name);
    }
    if (rc < 0)
        return verr(err, vol, "failed to get %s %s/%s: %s", kind, ns, name, strerror(-rc));
    const cJSON *items = ck_json_getv(src, "items", NULL);
    rc = 0;
    if (cJSON_GetArraySize(items) > 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            const char *key = ck_json_get_string(it, "key", "");
            char *data = NULL;
            size_t len = 0;
            if (object_value(obj, secret, key, &data, &len) < 0) {
                if (optional)
                    continue;
                rc = verr(err, vol, "%s references non-existent %s key: %s", kind,
                          secret ? "secret" : "config", key);
                break;
            }
            proj_add(p, ck_json_get_string(it, "path", key), data, len,
                     item_mode(it, default_mode));
            free(data);
        }
    } else {
        static const char *const fields[] = {"data", "binaryData"};
        for (size_t f = 0; f < (secret ? 1u : 2u) && rc == 0; f++) {
            const cJSON *e;
            cJSON_ArrayForEach(e, ck_json_getv(obj, fields[f], NULL))
            {
                char *data = NULL;
                size_t len = 0;
                if (!e->string || object_value(obj, secret, e->string, &data, &len) < 0)
                    continue;
                if (p->n < KL_MAX_PROJECTED_FILES)
                    proj_add(p, e->string, data, len, default_mode);
                free(data);
            }
        }
    }
    cJSON_Delete(obj);
    return rc;
}

static int project_downward(const cJSON *src, const cJSON *pod, const struct kl_downward_env *denv,
                            int default_mode, struct kl_projection *p, const char *vol,
                            struct ck_error *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, ck_json_getv(src, "items", NULL))
    {
        char *val = NULL;
        struct ck_error e2 = CK_ERROR_INIT;
        int rc;
        const cJSON *fr = ck_json_getv(it, "fieldRef", NULL);
        const cJSON *rr = ck_json_getv(it, "resourceFieldRef", NULL);
        if (fr) {
            rc = kl_downward_field(pod, denv, ck_json_get_string(fr, "fieldPath", ""), &val, &e2);
        } else if (rr) {
            const cJSON *dv = ck_json_getv(rr, "divisor", NULL);
            char dbuf[CK_QUANTITY_STR_MAX] = "1";
            struct ck_quantity dq;
            if (dv && ck_quantity_parse_json(dv, &dq, NULL) == 0)
                ck_quantity_format(&dq, dbuf, sizeof(dbuf));
            rc = kl_downward_resource(pod, denv, ck_json_get_string(rr, "containerName", ""),
                                      ck_json_get_string(rr, "resource", ""), dbuf, &val, &e2);
        } else {
            continue;
        }
        if (rc < 0) {
            rc = verr(err, vol, "%s", e2.message);
            ck_error_clear(&e2);
            return rc;
        }
        proj_add(p, ck_json_get_string(it, "path", ""), val, strlen(val),
                 item_mode(it, default_mode));
        free(val);
    }
    return 0;
}

/* ---- volumes -------------------------------------------------------------------------------- */

static void vol_add(struct kl_pod_volumes *v, const char *name, const char *path, bool ro)
{
    v->v = ck_xrealloc(v->v, (v->n + 1) * sizeof(*v->v));
    v->v[v->n].name = ck_xstrdup(name);
    v->v[v->n].path = ck_xstrdup(path);
    v->v[v->n].readonly = ro;
    v->n++;
}

void kl_pod_volumes_free(struct kl_pod_volumes *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->v[i].name);
        free(v->v[i].path);
    }
    free(v->v);
    v->v = NULL;
    v->n = 0;
}

const struct kl_volume *kl_pod_volume(const struct kl_pod_volumes *v, const char *name)
{
    for (size_t i = 0; v && i < v->n; i++)
        if (!strcmp(v->v[i].name, name))
            return &v->v[i];
    return NULL;
}

static bool is_mountpoint(const char *path)
{
    struct stat a, b;
    CK_AUTOFREE char *parent = ck_xasprintf("%s/..", path);
    if (stat(path, &a) < 0 || stat(parent, &b) < 0)
        return false;
    return a.st_dev != b.st_dev;
}

static int ensure_tmpfs(const char *dir, const char *size_opt)
{
    int rc = kl_mkdir_p(dir, 0777);
    if (rc < 0)
        return rc;
    if (is_mountpoint(dir))
        return 0;
    CK_AUTOFREE char *opts = size_opt && size_opt[0] ? ck_xasprintf("mode=0777,size=%s", size_opt)
                                                     : ck_xstrdup("mode=0777");
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
        return -errno;
    return 0;
}

static int setup_empty_dir(const char *dir, const cJSON *src, const char *vol, struct ck_error *err)
{
    const char *medium = ck_json_get_string(src, "medium", "");
    int rc;
    if (!strcmp(medium, "Memory")) {
        char size[64] = "";
        const cJSON *sl = ck_json_getv(src, "sizeLimit", NULL);
        struct ck_quantity q;
        if (sl && ck_quantity_parse_json(sl, &q, NULL) == 0 && ck_quantity_sign(&q) > 0)
            snprintf(size, sizeof(size), "%lld", (long long)ck_quantity_value(&q));
        rc = ensure_tmpfs(dir, size);
    } else if (!medium[0]) {
        rc = kl_mkdir_p(dir, 0777);
        if (rc == 0 && chmod(dir, 0777) < 0)
            rc = -errno;
    } else {
        return verr(err, vol, "unknown storage medium \"%s\"", medium);
    }
    if (rc < 0)
        return verr(err, vol, "cannot set up %s: %s", dir, strerror(-rc));
    return 0;
}

/* upstream's hostPath type checks */
static int setup_host_path(const cJSON *src, const char *vol, char **path, struct ck_error *err)
{
    const char *p = ck_json_get_string(src, "path", "");
    const char *type = ck_json_get_string(src, "type", "");
    *path = ck_xstrdup(p);
    if (p[0] != '/')
        return verr(err, vol, "hostPath %s must be absolute", p);
    struct stat st;
    bool exists = stat(p, &st) == 0;
    if (!strcmp(type, "DirectoryOrCreate")) {
        if (!exists) {
            int rc = kl_mkdir_p(p, 0755);
            if (rc < 0)
                return verr(err, vol, "mkdir %s: %s", p, strerror(-rc));
            return 0;
        }
        if (!S_ISDIR(st.st_mode))
            return verr(err, vol, "hostPath type check failed: %s is not a directory", p);
    } else if (!strcmp(type, "Directory")) {
        if (!exists || !S_ISDIR(st.st_mode))
            return verr(err, vol, "hostPath type check failed: %s is not a directory", p);
    } else if (!strcmp(type, "FileOrCreate")) {
        if (!exists) {
            CK_AUTOFREE char *dir = ck_xstrdup(p);
            char *s = strrchr(dir, '/');
            if (s && s != dir) {
                *s = '\0';
                (void)kl_mkdir_p(dir, 0755);
            }
            int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0)
                return verr(err, vol, "open %s: %s", p, strerror(errno));
            close(fd);
            return 0;
        }
        if (!S_ISREG(st.st_mode))
            return verr(err, vol, "hostPath type check failed: %s is not a file", p);
    } else if (!strcmp(type, "File")) {
        if (!exists || !S_ISREG(st.st_mode))
            return verr(err, vol, "hostPath type check failed: %s is not a file", p);
    } else if (!strcmp(type, "Socket")) {
        if (!exists || !S_ISSOCK(st.st_mode))
            return verr(err, vol, "hostPath type check failed: %s is not a socket file", p);
    } else if (!strcmp(type, "CharDevice")) {
        if (!exists || !S_ISCHR(st.st_mode))
            return verr(err, vol, "hostPath type check failed: %s is not a character device", p);
    } else if (!strcmp(type, "BlockDevice")) {
        if (!exists || !S_ISBLK(st.st_mode))
            return verr(err, vol, "hostPath type check failed: %s is not a block device", p);
    } else if (type[0]) {
        return verr(err, vol, "hostPath type %s is not supported", type);
    }
    return 0;
}

static int default_mode_of(const cJSON *src)
{
    const cJSON *m = ck_json_getv(src, "defaultMode", NULL);
    return cJSON_IsNumber(m) ? (int)ck_json_as_int64(m, 0644) & 07777 : 0644;
}

static int setup_projected(const char *dir, const cJSON *v, const cJSON *pod,
                           const struct kl_downward_env *denv, kl_object_getter get, void *gctx,
                           const char *vol, struct ck_error *err)
{
    const char *ns = ck_json_get_string(pod, "metadata.namespace", "default");
    struct kl_projection p = {0};
    int rc = 0;
    const cJSON *src;
    if ((src = ck_json_getv(v, "configMap", NULL))) {
        rc = project_object(src, false, ns, default_mode_of(src), get, gctx, &p, vol, err);
    } else if ((src = ck_json_getv(v, "secret", NULL))) {
        rc = project_object(src, true, ns, default_mode_of(src), get, gctx, &p, vol, err);
    } else if ((src = ck_json_getv(v, "downwardAPI", NULL))) {
        rc = project_downward(src, pod, denv, default_mode_of(src), &p, vol, err);
    } else if ((src = ck_json_getv(v, "projected", NULL))) {
        int def = default_mode_of(src);
        const cJSON *s;
        cJSON_ArrayForEach(s, ck_json_getv(src, "sources", NULL))
        {
            const cJSON *x;
            if ((x = ck_json_getv(s, "configMap", NULL)))
                rc = project_object(x, false, ns, def, get, gctx, &p, vol, err);
            else if ((x = ck_json_getv(s, "secret", NULL)))
                rc = project_object(x, true, ns, def, get, gctx, &p, vol, err);
            else if ((x = ck_json_getv(s, "downwardAPI", NULL)))
                rc = project_downward(x, pod, denv, def, &p, vol, err);
            /* serviceAccountToken, clusterTrustBundle: not issued yet */
            if (rc < 0)
                break;
        }
    }
    if (rc == 0 && ck_json_getv(v, "secret", NULL)) {
        int trc = ensure_tmpfs(dir, NULL);
        if (trc < 0)
            rc = verr(err, vol, "cannot mount a tmpfs on %s: %s", dir, strerror(-trc));
    }
    if (rc == 0) {
        struct ck_error werr = CK_ERROR_INIT;
        if (kl_atomic_write(dir, &p, &werr) < 0)
            rc = verr(err, vol, "%s", werr.message);
        ck_error_clear(&werr);
    }
    kl_projection_free(&p);
    return rc;
}

int kl_volumes_setup(const char *pod_dir, const cJSON *pod, const struct kl_downward_env *denv,
                     kl_object_getter get, void *get_ctx, struct kl_pod_volumes *out,
                     struct ck_error *err)
{
    memset(out, 0, sizeof(*out));
    const cJSON *v;
    int rc = 0;
    cJSON_ArrayForEach(v, ck_json_get(pod, "spec.volumes"))
    {
        const char *name = ck_json_get_string(v, "name", "");
        if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
            continue;
        const char *plugin = NULL;
        bool ro = true;
        if (ck_json_getv(v, "emptyDir", NULL)) {
            plugin = "kubernetes.io~empty-dir";
            ro = false;
        } else if (ck_json_getv(v, "configMap", NULL)) {
            plugin = "kubernetes.io~configmap";
        } else if (ck_json_getv(v, "secret", NULL)) {
            plugin = "kubernetes.io~secret";
        } else if (ck_json_getv(v, "downwardAPI", NULL)) {
            plugin = "kubernetes.io~downward-api";
        } else if (ck_json_getv(v, "projected", NULL)) {
            plugin = "kubernetes.io~projected";
        } else if (ck_json_getv(v, "hostPath", NULL)) {
            char *path = NULL;
            rc = setup_host_path(ck_json_getv(v, "hostPath", NULL), name, &path, err);
            if (rc == 0)
                vol_add(out, name, path, false);
            free(path);
            if (rc < 0)
                break;
            continue;
        } else {
            /* a volume type this kubelet cannot provide (PVCs, ...): an emptyDir stands in so
             * the pod still starts; say so */
            ck_warn("pod %s/%s volume %s: unsupported volume type, using an empty directory",
                    ck_json_get_string(pod, "metadata.namespace", ""),
                    ck_json_get_string(pod, "metadata.name", ""), name);
            plugin = "kubernetes.io~empty-dir";
            ro = false;
        }
        CK_AUTOFREE char *dir = ck_xasprintf("%s/volumes/%s/%s", pod_dir, plugin, name);
        if (!strcmp(plugin, "kubernetes.io~empty-dir"))
            rc = setup_empty_dir(dir, ck_json_getv(v, "emptyDir", NULL), name, err);
        else
            rc = setup_projected(dir, v, pod, denv, get, get_ctx, name, err);
        if (rc < 0)
            break;
        vol_add(out, name, dir, ro);
    }
    if (rc < 0)
        kl_pod_volumes_free(out);
    return rc;
}

int kl_volumes_teardown(const char *pod_dir)
{
    (void)kl_umount_all_under(pod_dir);
    return kl_rm_rf(pod_dir);
}
