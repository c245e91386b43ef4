/* kubelet/cni/cni_conf.c - the runtime side's network configuration: the first valid config list
 * of the conf dir, reloaded when its files change (see cni.h). */
#include "cni.h"
#include "cni_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "json.h"
#include "log.h"
#include "mem.h"

#define DEFAULT_BIN_DIRS "/opt/cni/bin:/usr/lib/cni"

/* ---- runtime side: configuration ---- */

/* Checks a list as libcni's ConfListFromBytes does (plus a required cniVersion and a plugin
 * type that cannot walk out of the bin dirs); the warning names the problem. */
bool kl_cni_list_valid(const cJSON *list, char *why, size_t size)
{
    const char *name = ck_json_get_string(list, "name", NULL);
    if (!cJSON_IsObject(list)) {
        snprintf(why, size, "error parsing configuration list: not an object");
        return false;
    }
    if (!name || !*name) {
        snprintf(why, size, "error parsing configuration list: no name");
        return false;
    }
    struct kl_cni_error e = {0};
    if (kl_cni_validate_network_name(name, &e) < 0) {
        snprintf(why, size, "%s", kl_cni_error_str(&e));
        return false;
    }
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(list, "cniVersion"))) {
        snprintf(why, size, "error parsing configuration list: no cniVersion");
        return false;
    }
    const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(list, "plugins");
    if (!plugins) {
        snprintf(why, size, "error parsing configuration list: no 'plugins' key");
        return false;
    }
    if (!cJSON_IsArray(plugins) || cJSON_GetArraySize(plugins) == 0) {
        snprintf(why, size, "error parsing configuration list: no plugins in list");
        return false;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, plugins)
    {
        const char *type = ck_json_get_string(p, "type", NULL);
        if (!cJSON_IsObject(p) || !type || !*type) {
            snprintf(why, size, "error parsing configuration: missing 'type'");
            return false;
        }
        if (strchr(type, '/') || strcmp(type, ".") == 0 || strcmp(type, "..") == 0) {
            snprintf(why, size, "invalid plugin name: %s", type);
            return false;
        }
    }
    return true;
}

/* Loads one file as a list (a single-plugin .conf/.json becomes a one-plugin list, as
 * libcni's ConfListFromConf); NULL with a logged warning when unusable. */
static cJSON *load_conf_file(const char *path)
{
    struct ck_buf b = CK_BUF_INIT;
    int rc = kl_cni_read_file(path, &b, KL_CNI_CONF_FILE_MAX);
    if (rc < 0) {
        ck_warn("cni: skipping %s: %s", path, strerror(-rc));
        ck_buf_free(&b);
        return NULL;
    }
    struct ck_error err = CK_ERROR_INIT;
    struct ck_json_parse_opts opts = {.max_bytes = KL_CNI_CONF_FILE_MAX, .raw_message = true};
    cJSON *j = ck_json_parse_with(ck_buf_str(&b), b.len, &opts, &err);
    ck_buf_free(&b);
    if (!j) {
        ck_warn("cni: skipping %s: %s", path, err.message);
        ck_error_clear(&err);
        return NULL;
    }
    if (!kl_cni_has_suffix(path, ".conflist") && cJSON_IsObject(j)) {
        if (!cJSON_GetObjectItemCaseSensitive(j, "type")) {
            ck_warn("cni: skipping %s: error parsing configuration: missing 'type'", path);
            cJSON_Delete(j);
            return NULL;
        }
        cJSON *list = cJSON_CreateObject();
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "cniVersion");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "name");
        if (v)
            cJSON_AddItemToObject(list, "cniVersion", cJSON_Duplicate(v, true));
        if (n)
            cJSON_AddItemToObject(list, "name", cJSON_Duplicate(n, true));
        cJSON *plugins = cJSON_AddArrayToObject(list, "plugins");
        cJSON_AddItemToArray(plugins, j);
        j = list;
    }
    char why[512];
    if (!kl_cni_list_valid(j, why, sizeof(why))) {
        ck_warn("cni: skipping %s: %s", path, why);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The candidate files of the dir (*.conf, *.conflist, *.json) in lexical order, and a
 * fingerprint of them (name, inode, size, mtime) so an unchanged dir is not parsed again. */
static size_t list_candidates(const char *dir, char ***out, char **sig)
{
    *out = NULL;
    *sig = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!kl_cni_has_suffix(de->d_name, ".conf") &&
            !kl_cni_has_suffix(de->d_name, ".conflist") && !kl_cni_has_suffix(de->d_name, ".json"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = ck_xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = ck_xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_names);
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "dir;");
    for (size_t i = 0; i < n; i++) {
        char *path = ck_xasprintf("%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0)
            ck_buf_printf(&b, "%s:%llu:%lld:%lld.%09ld;", names[i], (unsigned long long)st.st_ino,
                          (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        free(path);
    }
    *out = names;
    *sig = ck_buf_detach(&b);
    return n;
}

/* The first usable config among names in lexical order; -ENOENT when there is none. *file is
 * the path it came from. Both owned by the caller. */
static int load_conf_dir(const char *dir, char **names, size_t n, cJSON **out, char **file)
{
    *out = NULL;
    *file = NULL;
    for (size_t i = 0; i < n; i++) {
        char *path = ck_xasprintf("%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (*out = load_conf_file(path))) {
            *file = path;
            return 0;
        }
        free(path);
    }
    return -ENOENT;
}

/* Re-reads the conf dir into cni->conf when its files changed; a config that disappeared means
 * no network any more. Logs when the choice changes. Call with cni->mu held. */
static int reload_locked(struct kl_cni *cni)
{
    char **names, *sig;
    size_t n = list_candidates(cni->conf_dir, &names, &sig);
    int rc;
    if (sig && cni->conf_sig && strcmp(sig, cni->conf_sig) == 0) {
        rc = cni->conf ? 0 : -ENOENT;
        free(sig);
    } else {
        cJSON *conf;
        char *file;
        rc = load_conf_dir(cni->conf_dir, names, n, &conf, &file);
        bool changed = (cni->conf == NULL) != (conf == NULL) ||
                       (conf && (!ck_json_equal(conf, cni->conf) || strcmp(file, cni->conf_file)));
        if (changed) {
            if (conf)
                ck_info("cni: using network \"%s\" from %s", ck_json_get_string(conf, "name", ""),
                        file);
            else
                ck_warn("cni: no network config found in %s", cni->conf_dir);
        }
        cJSON_Delete(cni->conf);
        free(cni->conf_file);
        free(cni->conf_sig);
        cni->conf = conf;
        cni->conf_file = file;
        cni->conf_sig = sig;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* A private copy of the current list (re-read first), or NULL. */
cJSON *kl_cni_conf_snapshot(struct kl_cni *cni)
{
    pthread_mutex_lock(&cni->mu);
    reload_locked(cni);
    cJSON *c = cni->conf ? cJSON_Duplicate(cni->conf, true) : NULL;
    pthread_mutex_unlock(&cni->mu);
    return c;
}

static void split_dirs(struct kl_cni *cni, const char *dirs)
{
    if (!dirs || !*dirs)
        dirs = DEFAULT_BIN_DIRS;
    size_t n = 0, cap = 4;
    cni->bin_dirs = ck_xcalloc(cap, sizeof(char *));
    struct ck_buf path = CK_BUF_INIT;
    const char *p = dirs;
    while (*p) {
        size_t len = strcspn(p, ":,");
        if (len > 0) {
            if (n + 1 >= cap) {
                cap *= 2;
                cni->bin_dirs = ck_xrealloc(cni->bin_dirs, cap * sizeof(char *));
            }
            cni->bin_dirs[n++] = ck_xstrndup(p, len);
            ck_buf_printf(&path, "%s%.*s", path.len ? ":" : "", (int)len, p);
        }
        p += len;
        if (*p)
            p++;
    }
    cni->bin_dirs[n] = NULL;
    cni->cni_path = ck_buf_detach(&path);
}

int kl_cni_setup(const char *conf_dir, const char *bin_dirs, const char *data_dir,
                 struct kl_cni **out, struct ck_error *err)
{
    *out = NULL;
    if (!conf_dir || !*conf_dir || !data_dir || !*data_dir)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "cni: a conf dir and a data dir are required");
    struct kl_cni *cni = ck_xcalloc(1, sizeof(*cni));
    cni->conf_dir = ck_xstrdup(conf_dir);
    cni->data_dir = ck_xstrdup(data_dir);
    cni->ipam_dir = ck_xasprintf("%s/networks", data_dir);
    cni->timeout_ms = KL_CNI_DEFAULT_TIMEOUT_MS;
    split_dirs(cni, bin_dirs);
    pthread_mutex_init(&cni->mu, NULL);
    pthread_mutex_lock(&cni->mu);
    reload_locked(cni);
    pthread_mutex_unlock(&cni->mu);
    *out = cni;
    return 0;
}

void kl_cni_free(struct kl_cni *cni)
{
    if (!cni)
        return;
    pthread_mutex_destroy(&cni->mu);
    cJSON_Delete(cni->conf);
    free(cni->conf_file);
    free(cni->conf_sig);
    for (size_t i = 0; cni->bin_dirs && cni->bin_dirs[i]; i++)
        free(cni->bin_dirs[i]);
    free(cni->bin_dirs);
    free(cni->cni_path);
    free(cni->ipam_dir);
    free(cni->data_dir);
    free(cni->conf_dir);
    free(cni);
}

void kl_cni_set_timeout(struct kl_cni *cni, int timeout_ms)
{
    if (timeout_ms > 0)
        cni->timeout_ms = timeout_ms;
}

int kl_cni_status(struct kl_cni *cni, char *name, size_t name_size, struct ck_error *err)
{
    pthread_mutex_lock(&cni->mu);
    int rc = reload_locked(cni);
    if (rc == 0 && name && name_size)
        snprintf(name, name_size, "%s", ck_json_get_string(cni->conf, "name", ""));
    pthread_mutex_unlock(&cni->mu);
    return rc < 0 ? kl_cni_not_initialized(err, cni) : 0;
}

int kl_cni_not_initialized(struct ck_error *err, const struct kl_cni *cni)
{
    return ck_error_set(err, 503, CK_REASON_SERVICE_UNAVAILABLE,
                        "cni plugin not initialized: no network config found in %s", cni->conf_dir);
}
