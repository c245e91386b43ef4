/* kubelet/cni/cni.c - what both sides of the CNI protocol share (see cni.h): CNI errors, name
 * and version checks, small file helpers, and the node's default network config. The runtime
 * side lives in cni_conf.c (config loading), cni_exec.c (running plugins) and cni_runtime.c
 * (ADD/DEL/CHECK and the result cache); the plugin side in cni_plugin.c. */
#include "cni.h"
#include "cni_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge.h"
#include "buf.h"
#include "json.h"
#include "log.h"
#include "mem.h"

#define DEFAULT_CONF_NAME "10-ckube.conflist"
#define MAX_CONTAINER_ID 200 /* keeps <network>-<id>-<ifname> a valid file name */

/* ---- errors, validation, versions ---- */

static int code_errno(unsigned code)
{
    switch (code) {
    case KL_CNI_ERR_INCOMPATIBLE_VERSION:
        return -EPROTO;
    case KL_CNI_ERR_UNSUPPORTED_FIELD:
    case KL_CNI_ERR_INVALID_ENV:
    case KL_CNI_ERR_DECODE:
    case KL_CNI_ERR_INVALID_CONFIG:
        return -EINVAL;
    case KL_CNI_ERR_UNKNOWN_CONTAINER:
        return -ENOENT;
    case KL_CNI_ERR_TRY_AGAIN:
        return -EAGAIN;
    default:
        return -EIO;
    }
}

int kl_cni_error_set(struct kl_cni_error *e, unsigned code, const char *fmt, ...)
{
    if (e) {
        e->code = code;
        e->details[0] = '\0';
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return code_errno(code);
}

int kl_cni_error_details(struct kl_cni_error *e, unsigned code, const char *msg,
                         const char *details)
{
    int rc = kl_cni_error_set(e, code, "%s", msg);
    if (e)
        snprintf(e->details, sizeof(e->details), "%s", details ? details : "");
    return rc;
}

const char *kl_cni_error_str(struct kl_cni_error *e)
{
    if (!e->details[0])
        return e->msg;
    size_t n = strlen(e->msg);
    if (n + 2 < sizeof(e->msg))
        snprintf(e->msg + n, sizeof(e->msg) - n, "; %s", e->details);
    e->details[0] = '\0';
    return e->msg;
}

/* libcni's name rule: [a-zA-Z0-9][a-zA-Z0-9_.\-]* */
static bool valid_cni_name(const char *s)
{
    if (!s || !isalnum((unsigned char)s[0]))
        return false;
    for (const char *p = s; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
            return false;
    }
    return true;
}

int kl_cni_validate_container_id(const char *id, struct kl_cni_error *e)
{
    if (!id || !*id)
        return kl_cni_error_set(e, KL_CNI_ERR_UNKNOWN_CONTAINER, "missing containerID");
    if (!valid_cni_name(id))
        return kl_cni_error_details(e, KL_CNI_ERR_INVALID_ENV, "invalid characters in containerID",
                                    id);
    if (strlen(id) > MAX_CONTAINER_ID)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_ENV,
                                "containerID is longer than %d characters", MAX_CONTAINER_ID);
    return 0;
}

int kl_cni_validate_network_name(const char *name, struct kl_cni_error *e)
{
    if (!name || !*name)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "missing network name:");
    if (!valid_cni_name(name))
        return kl_cni_error_details(e, KL_CNI_ERR_INVALID_CONFIG,
                                    "invalid characters found in network name", name);
    if (strlen(name) > 200)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG,
                                "network name is longer than 200 characters");
    return 0;
}

int kl_cni_validate_ifname(const char *name, struct kl_cni_error *e)
{
    if (!name || !*name)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_ENV, "interface name is empty");
    if (strlen(name) > 15)
        return kl_cni_error_details(e, KL_CNI_ERR_INVALID_ENV, "interface name is too long",
                                    "interface name should be less than 16 characters");
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_ENV, "interface name is . or ..");
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
            return kl_cni_error_details(e, KL_CNI_ERR_INVALID_ENV,
                                        "interface name contains / or : or whitespace characters",
                                        name);
    }
    return 0;
}

/* Parses "a.b.c" into three numbers; false for anything else. */
static bool parse_version(const char *v, long out[3])
{
    if (!v)
        return false;
    const char *p = v;
    for (int i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)*p))
            return false;
        char *end;
        out[i] = strtol(p, &end, 10);
        if (out[i] > 100000)
            return false;
        p = end;
        if (i < 2 && *p++ != '.')
            return false;
    }
    return *p == '\0';
}

int kl_cni_version_cmp(const char *a, const char *b)
{
    long va[3], vb[3];
    bool oka = parse_version(a, va), okb = parse_version(b, vb);
    if (!oka || !okb)
        return (int)oka - (int)okb;
    for (int i = 0; i < 3; i++) {
        if (va[i] != vb[i])
            return va[i] < vb[i] ? -1 : 1;
    }
    return 0;
}

/* ---- files ---- */

int kl_cni_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads fd to EOF into b, at most max bytes (-EFBIG beyond). */
int kl_cni_read_all(int fd, struct ck_buf *b, size_t max)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return 0;
        if (b->len + (size_t)n > max)
            return -EFBIG;
        ck_buf_add(b, chunk, (size_t)n);
    }
}

bool kl_cni_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int kl_cni_read_file(const char *path, struct ck_buf *b, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = kl_cni_read_all(fd, b, max);
    close(fd);
    return rc;
}

int kl_cni_mkdir_p(const char *path, mode_t mode)
{
    if (strlen(path) >= PATH_MAX)
        return -ENAMETOOLONG;
    char *tmp = ck_xstrdup(path);
    int rc = 0;
    for (char *p = tmp + 1; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
            rc = -errno;
        *p = '/';
    }
    if (rc == 0 && mkdir(tmp, mode) < 0 && errno != EEXIST)
        rc = -errno;
    free(tmp);
    return rc;
}

/* Writes data to path through a temporary file and a rename. */
int kl_cni_write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
    char *tmp = ck_xasprintf("%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    int rc = fd < 0 ? -errno : kl_cni_write_all(fd, data, len);
    if (fd >= 0 && fsync(fd) < 0 && rc == 0)
        rc = -errno;
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* ---- the node's default config ---- */

int kl_cni_write_default_conf(const char *conf_dir, const char *pod_cidr, int mtu,
                              const char *ipam_data_dir, struct ck_error *err)
{
    struct kl_ipam_range r;
    struct kl_cni_error e = {0};
    if (kl_ipam_range_init(&r, pod_cidr, NULL, NULL, NULL, &e) < 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "podCIDR %s: %s",
                            pod_cidr ? pod_cidr : "", e.msg);
    cJSON *list = cJSON_CreateObject();
    cJSON_AddStringToObject(list, "cniVersion", KL_CNI_VERSION);
    cJSON_AddStringToObject(list, "name", "ckube");
    cJSON *plugins = cJSON_AddArrayToObject(list, "plugins");
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "type", KL_CNI_BRIDGE_TYPE);
    cJSON_AddStringToObject(p, "bridge", KL_BRIDGE_DEFAULT_NAME);
    cJSON_AddBoolToObject(p, "isGateway", true);
    cJSON_AddBoolToObject(p, "isDefaultGateway", true);
    cJSON_AddBoolToObject(p, "hairpinMode", true);
    cJSON_AddNumberToObject(p, "mtu", mtu > 0 ? mtu : 1500);
    cJSON *ipam = cJSON_AddObjectToObject(p, "ipam");
    cJSON_AddStringToObject(ipam, "type", "host-local");
    cJSON *set = cJSON_CreateArray();
    cJSON *range = cJSON_CreateObject();
    cJSON_AddStringToObject(range, "subnet", pod_cidr);
    cJSON_AddItemToArray(set, range);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ipam, "ranges"), set);
    if (ipam_data_dir && *ipam_data_dir)
        cJSON_AddStringToObject(ipam, "dataDir", ipam_data_dir);
    cJSON_AddItemToArray(plugins, p);
    char *text = ck_json_print(list, CK_JSON_INDENT | CK_JSON_NO_HTML_ESCAPE);
    cJSON_Delete(list);
    struct ck_buf body = CK_BUF_INIT;
    ck_buf_printf(&body, "%s\n", text);
    free(text);

    int rc = kl_cni_mkdir_p(conf_dir, 0755);
    char *path = ck_xasprintf("%s/%s", conf_dir, DEFAULT_CONF_NAME);
    struct ck_buf old = CK_BUF_INIT;
    if (rc == 0 && kl_cni_read_file(path, &old, KL_CNI_CONF_FILE_MAX) == 0 && old.len == body.len &&
        memcmp(old.data, body.data, body.len) == 0) {
        rc = 1; /* unchanged */
    } else if (rc == 0) {
        rc = kl_cni_write_atomic(path, body.data, body.len, 0644);
        if (rc == 0)
            ck_info("cni: wrote %s for podCIDR %s", path, pod_cidr);
    }
    ck_buf_free(&old);
    ck_buf_free(&body);
    if (rc < 0)
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cni: cannot write %s: %s", path, strerror(-rc));
    free(path);
    return rc < 0 ? rc : 0;
}
