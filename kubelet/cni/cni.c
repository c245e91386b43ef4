/* kubelet/cni/cni.c - the CNI protocol: the runtime side the kubelet drives (config loading,
 * plugin execution, result cache) and the plugin side of our own bridge plugin (see cni.h). */
#include "cni.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "buf.h"
#include "encoding.h"
#include "json.h"
#include "log.h"
#include "mem.h"

extern char **environ;

#define DEFAULT_BIN_DIRS "/opt/cni/bin:/usr/lib/cni"
#define CONF_FILE_MAX ((size_t)1 << 20)     /* a network config file */
#define PLUGIN_OUTPUT_MAX ((size_t)8 << 20) /* what a plugin may print */
#define DEFAULT_CONF_NAME "10-ckube.conflist"
#define MAX_CONTAINER_ID 200 /* keeps <network>-<id>-<ifname> a valid file name */

static const char *const supported_versions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};

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

static int error_with_details(struct kl_cni_error *e, unsigned code, const char *msg,
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
        return error_with_details(e, KL_CNI_ERR_INVALID_ENV, "invalid characters in containerID",
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
        return error_with_details(e, KL_CNI_ERR_INVALID_CONFIG,
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
        return error_with_details(e, KL_CNI_ERR_INVALID_ENV, "interface name is too long",
                                  "interface name should be less than 16 characters");
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_ENV, "interface name is . or ..");
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
            return error_with_details(e, KL_CNI_ERR_INVALID_ENV,
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

bool kl_cni_version_supported(const char *v)
{
    for (size_t i = 0; i < CK_ARRAY_SIZE(supported_versions); i++) {
        if (v && strcmp(v, supported_versions[i]) == 0)
            return true;
    }
    return false;
}

/* ---- plugin side ---- */

static cJSON *version_info(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "cniVersion", KL_CNI_VERSION);
    cJSON *arr = cJSON_AddArrayToObject(o, "supportedVersions");
    for (size_t i = 0; i < CK_ARRAY_SIZE(supported_versions); i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(supported_versions[i]));
    return o;
}

static bool unset(const char *s)
{
    return !s || !*s;
}

int kl_cni_plugin_run(const struct kl_cni_args *a, const char *conf, size_t len, cJSON **out,
                      struct kl_cni_error *e)
{
    *out = NULL;
    const char *cmd = a->command;
    if (unset(cmd))
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_ENV,
                                "required env variables [CNI_COMMAND] missing");
    if (strcmp(cmd, "VERSION") == 0) {
        *out = version_info();
        return 0;
    }
    bool add = strcmp(cmd, "ADD") == 0, del = strcmp(cmd, "DEL") == 0,
         check = strcmp(cmd, "CHECK") == 0;
    if (!add && !del && !check)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND: %s", cmd);

    /* the variables each command needs, as upstream's plugin skeleton lists them */
    struct ck_buf missing = CK_BUF_INIT;
    const struct {
        const char *name, *value;
        bool needed;
    } req[] = {
        {"CNI_CONTAINERID", a->container_id, true},
        {"CNI_NETNS", a->netns, !del},
        {"CNI_IFNAME", a->ifname, true},
        {"CNI_PATH", a->path, true},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(req); i++) {
        if (req[i].needed && unset(req[i].value))
            ck_buf_printf(&missing, "%s%s", missing.len ? " " : "", req[i].name);
    }
    if (missing.len) {
        int rc = kl_cni_error_set(e, KL_CNI_ERR_INVALID_ENV, "required env variables [%s] missing",
                                  missing.data);
        ck_buf_free(&missing);
        return rc;
    }
    ck_buf_free(&missing);

    struct ck_error perr = CK_ERROR_INIT;
    struct ck_json_parse_opts opts = {.max_bytes = CONF_FILE_MAX, .raw_message = true};
    cJSON *c = ck_json_parse_with(conf ? conf : "", conf ? len : 0, &opts, &perr);
    if (!c || !cJSON_IsObject(c)) {
        int rc = kl_cni_error_set(e, KL_CNI_ERR_DECODE, "decoding version from network config: %s",
                                  c ? "not a JSON object" : perr.message);
        cJSON_Delete(c);
        ck_error_clear(&perr);
        return rc;
    }
    const cJSON *vj = cJSON_GetObjectItemCaseSensitive(c, "cniVersion");
    /* a config without a version is a 0.1.0 config to upstream's decoder */
    const char *version = cJSON_IsString(vj) && vj->valuestring[0] ? vj->valuestring : "0.1.0";
    int rc = 0;
    if (!kl_cni_version_supported(version)) {
        struct ck_buf list = CK_BUF_INIT;
        for (size_t i = 0; i < CK_ARRAY_SIZE(supported_versions); i++)
            ck_buf_printf(&list, "%s\"%s\"", i ? " " : "", supported_versions[i]);
        rc = kl_cni_error_set(e, KL_CNI_ERR_INCOMPATIBLE_VERSION,
                              "incompatible CNI versions; config is \"%s\", plugin supports [%s]",
                              version, list.data);
        ck_buf_free(&list);
    } else if (check && kl_cni_version_cmp(version, "0.4.0") < 0) {
        rc = kl_cni_error_set(e, KL_CNI_ERR_INCOMPATIBLE_VERSION,
                              "config version does not allow CHECK");
    } else if (add) {
        rc = kl_cni_bridge_add(a, c, out, e);
    } else if (del) {
        rc = kl_cni_bridge_del(a, c, e);
    } else {
        rc = kl_cni_bridge_check(a, c, e);
    }
    cJSON_Delete(c);
    return rc;
}

static const char *env_get(char *const envp[], const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; envp && envp[i]; i++) {
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    }
    return NULL;
}

bool kl_cni_plugin_invoked(const char *argv0, char *const envp[])
{
    const char *flag = env_get(envp, "CKUBE_CNI_PLUGIN");
    if (flag && strcmp(flag, "1") == 0)
        return true;
    if (!argv0)
        return false;
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    size_t n = strlen(base);
    return n >= 6 && strcmp(base + n - 6, "bridge") == 0;
}

static int write_fd_all(int fd, const char *data, size_t len)
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
static int read_fd_all(int fd, struct ck_buf *b, size_t max)
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

static void print_json_line(const cJSON *o)
{
    char *s = ck_json_print(o, 0);
    if (s) {
        write_fd_all(STDOUT_FILENO, s, strlen(s));
        write_fd_all(STDOUT_FILENO, "\n", 1);
        free(s);
    }
}

int kl_cni_plugin_main(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    struct kl_cni_args a = {
        .command = env_get(envp, "CNI_COMMAND"),
        .container_id = env_get(envp, "CNI_CONTAINERID"),
        .netns = env_get(envp, "CNI_NETNS"),
        .ifname = env_get(envp, "CNI_IFNAME"),
        .args = env_get(envp, "CNI_ARGS"),
        .path = env_get(envp, "CNI_PATH"),
        .data_dir = env_get(envp, "CKUBE_CNI_DATA_DIR"),
    };
    struct kl_cni_error e = {0};
    struct ck_buf in = CK_BUF_INIT;
    cJSON *out = NULL;
    int rc = read_fd_all(STDIN_FILENO, &in, CONF_FILE_MAX);
    if (rc < 0)
        kl_cni_error_set(&e, KL_CNI_ERR_IO, "error reading from stdin: %s", strerror(-rc));
    else
        rc = kl_cni_plugin_run(&a, ck_buf_str(&in), in.len, &out, &e);

    if (rc == 0) {
        if (out)
            print_json_line(out);
    } else {
        /* the error object carries the config's version when it has a usable one */
        const char *version = KL_CNI_VERSION;
        cJSON *c = cJSON_ParseWithLength(ck_buf_str(&in), in.len);
        const char *cv = ck_json_get_string(c, "cniVersion", NULL);
        if (kl_cni_version_supported(cv))
            version = cv;
        cJSON *eo = cJSON_CreateObject();
        cJSON_AddStringToObject(eo, "cniVersion", version);
        cJSON_AddNumberToObject(eo, "code", e.code ? e.code : KL_CNI_ERR_INTERNAL);
        cJSON_AddStringToObject(eo, "msg", e.msg);
        if (e.details[0])
            cJSON_AddStringToObject(eo, "details", e.details);
        print_json_line(eo);
        cJSON_Delete(eo);
        cJSON_Delete(c);
    }
    cJSON_Delete(out);
    ck_buf_free(&in);
    return rc == 0 ? 0 : 1;
}

/* ---- runtime side: configuration ---- */

struct kl_cni {
    char *conf_dir;
    char *data_dir;
    char *ipam_dir;  /* <data_dir>/networks: default IPAM state of the in-process plugin */
    char *cni_path;  /* bin dirs joined with ':' (CNI_PATH) */
    char **bin_dirs; /* NULL-terminated */
    int timeout_ms;
    pthread_mutex_t mu; /* guards conf, conf_file and conf_sig */
    cJSON *conf;        /* the loaded list, conflist form; NULL when none */
    char *conf_file;
    char *conf_sig; /* fingerprint of the conf dir conf was loaded from */
};

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int read_file(const char *path, struct ck_buf *b, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = read_fd_all(fd, b, max);
    close(fd);
    return rc;
}

/* Checks a list as libcni's ConfListFromBytes does (plus a required cniVersion and a plugin
 * type that cannot walk out of the bin dirs); the warning names the problem. */
static bool list_valid(const cJSON *list, char *why, size_t size)
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
    int rc = read_file(path, &b, CONF_FILE_MAX);
    if (rc < 0) {
        ck_warn("cni: skipping %s: %s", path, strerror(-rc));
        ck_buf_free(&b);
        return NULL;
    }
    struct ck_error err = CK_ERROR_INIT;
    struct ck_json_parse_opts opts = {.max_bytes = CONF_FILE_MAX, .raw_message = true};
    cJSON *j = ck_json_parse_with(ck_buf_str(&b), b.len, &opts, &err);
    ck_buf_free(&b);
    if (!j) {
        ck_warn("cni: skipping %s: %s", path, err.message);
        ck_error_clear(&err);
        return NULL;
    }
    if (!has_suffix(path, ".conflist") && cJSON_IsObject(j)) {
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
    if (!list_valid(j, why, sizeof(why))) {
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
        if (!has_suffix(de->d_name, ".conf") && !has_suffix(de->d_name, ".conflist") &&
            !has_suffix(de->d_name, ".json"))
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
static cJSON *conf_snapshot(struct kl_cni *cni)
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
    if (rc < 0)
        return ck_error_set(err, 503, CK_REASON_SERVICE_UNAVAILABLE,
                            "cni plugin not initialized: no network config found in %s",
                            cni->conf_dir);
    return 0;
}

/* ---- runtime side: running plugins ---- */

/* Where an exec'd plugin lives: the first bin dir holding an executable of that name. */
static char *find_plugin(const struct kl_cni *cni, const char *type, struct kl_cni_error *e)
{
    for (size_t i = 0; cni->bin_dirs[i]; i++) {
        char *path = ck_xasprintf("%s/%s", cni->bin_dirs[i], type);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0)
            return path;
        free(path);
    }
    struct ck_buf dirs = CK_BUF_INIT;
    for (size_t i = 0; cni->bin_dirs[i]; i++)
        ck_buf_printf(&dirs, "%s%s", i ? " " : "", cni->bin_dirs[i]);
    kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "failed to find plugin \"%s\" in path [%s]", type,
                     ck_buf_str(&dirs));
    ck_buf_free(&dirs);
    return NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the plugin binary with env and stdin; collects stdout. Returns 0 and the exit status,
 * or a negative errno (with e) when it could not run, ran too long or printed too much. */
static int spawn_plugin(const char *path, char *const envp[], const char *in, size_t inlen,
                        int timeout_ms, struct ck_buf *out, int *status, struct kl_cni_error *e)
{
    int rc;
    /* stdin from a memfd: no pipe to block on or to raise SIGPIPE in the kubelet */
    int infd = memfd_create("cni-stdin", MFD_CLOEXEC);
    if (infd < 0)
        return kl_cni_error_set(e, KL_CNI_ERR_IO, "memfd_create: %s", strerror(errno));
    if ((rc = write_fd_all(infd, in, inlen)) < 0 || lseek(infd, 0, SEEK_SET) < 0) {
        close(infd);
        return kl_cni_error_set(e, KL_CNI_ERR_IO, "writing plugin stdin: %s",
                                strerror(rc < 0 ? -rc : errno));
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        close(infd);
        return kl_cni_error_set(e, KL_CNI_ERR_IO, "pipe: %s", strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, infd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *const argv[] = {(char *)path, NULL};
    pid_t pid;
    rc = posix_spawn(&pid, path, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(infd);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "exec %s: %s", path, strerror(rc));
    }

    int64_t deadline = now_ms() + timeout_ms;
    rc = 0;
    char chunk[65536];
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "plugin %s timed out after %d ms", path,
                                  timeout_ms);
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int n = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = kl_cni_error_set(e, KL_CNI_ERR_IO, "poll: %s", strerror(errno));
            break;
        }
        if (n == 0)
            continue;
        ssize_t got = read(pfd[0], chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break; /* EOF (or an error: treat as the end of the output) */
        if (out->len + (size_t)got > PLUGIN_OUTPUT_MAX) {
            rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "plugin %s printed more than %zu bytes",
                                  path, PLUGIN_OUTPUT_MAX);
            break;
        }
        ck_buf_add(out, chunk, (size_t)got);
    }
    close(pfd[0]);
    if (rc < 0)
        kill(pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            if (rc == 0)
                rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "waitpid: %s", strerror(errno));
            break;
        }
    }
    *status = st;
    return rc;
}

/* The environment of an exec'd plugin: ours (minus any CNI_*) plus the CNI variables. The
 * array and the CNI strings are owned by *owned (free with free_env). */
static char **plugin_env(const struct kl_cni_args *a, char ***owned)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = ck_xcalloc(n + 8, sizeof(char *));
    char **mine = ck_xcalloc(8, sizeof(char *));
    size_t k = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "CNI_", 4) != 0)
            env[k++] = environ[i];
    }
    const struct {
        const char *name, *value;
    } vars[] = {{"CNI_COMMAND", a->command}, {"CNI_CONTAINERID", a->container_id},
                {"CNI_NETNS", a->netns},     {"CNI_IFNAME", a->ifname},
                {"CNI_ARGS", a->args},       {"CNI_PATH", a->path}};
    for (size_t i = 0; i < CK_ARRAY_SIZE(vars); i++) {
        mine[m] = ck_xasprintf("%s=%s", vars[i].name, vars[i].value ? vars[i].value : "");
        env[k++] = mine[m++];
    }
    env[k] = NULL;
    *owned = mine;
    return env;
}

static void free_env(char **env, char **owned)
{
    for (size_t i = 0; owned && owned[i]; i++)
        free(owned[i]);
    free(owned);
    free(env);
}

/* Turns a failed plugin's stdout into e, as libcni does. */
static int plugin_failure(const struct ck_buf *out, int status, struct kl_cni_error *e)
{
    if (out->len == 0) {
        char what[64];
        if (WIFEXITED(status))
            snprintf(what, sizeof(what), "exit status %d", WEXITSTATUS(status));
        else
            snprintf(what, sizeof(what), "signal: %s", strsignal(WTERMSIG(status)));
        return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                                "netplugin failed with no error message: %s", what);
    }
    cJSON *j = cJSON_ParseWithLength(out->data, out->len);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    const char *msg = ck_json_get_string(j, "msg", NULL);
    int rc;
    if (!cJSON_IsObject(j) || (!cJSON_IsNumber(code) && !msg)) {
        rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                              "netplugin failed but error parsing its diagnostic message \"%.*s\"",
                              (int)(out->len > 512 ? 512 : out->len), out->data);
    } else {
        double c = cJSON_IsNumber(code) ? code->valuedouble : KL_CNI_ERR_INTERNAL;
        rc = error_with_details(e, c >= 0 && c < 1e6 ? (unsigned)c : KL_CNI_ERR_INTERNAL,
                                msg ? msg : "", ck_json_get_string(j, "details", ""));
    }
    cJSON_Delete(j);
    return rc;
}

/* Runs one plugin of the list for a->command with the given per-plugin config. ADD leaves the
 * plugin's result in *result (caller owns). */
static int run_plugin(struct kl_cni *cni, const cJSON *pconf, const struct kl_cni_args *a,
                      cJSON **result, struct kl_cni_error *e)
{
    *result = NULL;
    const char *type = ck_json_get_string(pconf, "type", "");
    char *text = ck_json_print(pconf, 0);
    if (!text)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "network config is too deep");
    int rc;
    if (strcmp(type, KL_CNI_BRIDGE_TYPE) == 0) {
        struct kl_cni_args in = *a;
        in.data_dir = cni->ipam_dir;
        rc = kl_cni_plugin_run(&in, text, strlen(text), result, e);
        free(text);
        return rc;
    }
    char *path = find_plugin(cni, type, e);
    if (!path) {
        free(text);
        return -ENOENT;
    }
    char **owned;
    char **env = plugin_env(a, &owned);
    struct ck_buf out = CK_BUF_INIT;
    int status = 0;
    rc = spawn_plugin(path, env, text, strlen(text), cni->timeout_ms, &out, &status, e);
    free_env(env, owned);
    free(text);
    if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        rc = plugin_failure(&out, status, e);
    if (rc == 0 && strcmp(a->command, "ADD") == 0) {
        struct ck_error perr = CK_ERROR_INIT;
        struct ck_json_parse_opts opts = {
            .max_bytes = PLUGIN_OUTPUT_MAX, .raw_message = true, .require_object = true};
        *result = ck_json_parse_with(ck_buf_str(&out), out.len, &opts, &perr);
        if (!*result)
            rc = kl_cni_error_set(e, KL_CNI_ERR_DECODE, "failed to decode result of %s: %s", path,
                                  perr.message);
        ck_error_clear(&perr);
    }
    ck_buf_free(&out);
    free(path);
    return rc;
}

/* The config one plugin gets: its own object with the list's name and cniVersion injected and
 * the previous result attached (libcni's buildOneConfig). Caller owns it. */
static cJSON *plugin_conf(const cJSON *list, const cJSON *plugin, const cJSON *prev)
{
    cJSON *c = cJSON_Duplicate(plugin, true);
    cJSON_DeleteItemFromObjectCaseSensitive(c, "name");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "cniVersion");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "prevResult");
    cJSON_AddStringToObject(c, "cniVersion", ck_json_get_string(list, "cniVersion", ""));
    cJSON_AddStringToObject(c, "name", ck_json_get_string(list, "name", ""));
    if (prev)
        cJSON_AddItemToObject(c, "prevResult", cJSON_Duplicate(prev, true));
    return c;
}

/* ---- runtime side: the result cache ---- */

static char *cache_path(const struct kl_cni *cni, const char *net, const char *id,
                        const char *ifname)
{
    return ck_xasprintf("%s/results/%s-%s-%s", cni->data_dir, net, id, ifname);
}

static int mkdir_p(const char *path)
{
    char *tmp = ck_xstrdup(path);
    int rc = 0;
    for (char *p = tmp + 1; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            rc = -errno;
        *p = '/';
    }
    if (rc == 0 && mkdir(tmp, 0755) < 0 && errno != EEXIST)
        rc = -errno;
    free(tmp);
    return rc;
}

/* Writes data to path through a temporary file and a rename. */
static int write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
    char *tmp = ck_xasprintf("%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    int rc = fd < 0 ? -errno : write_fd_all(fd, data, len);
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

/* Stores the list ADD used and its final result, in libcni's cniCacheV1 shape. */
static void cache_write(struct kl_cni *cni, const cJSON *list, const char *id, const char *ifname,
                        const char *cni_args, const cJSON *result)
{
    const char *net = ck_json_get_string(list, "name", "");
    char *dir = ck_xasprintf("%s/results", cni->data_dir);
    int rc = mkdir_p(dir);
    free(dir);
    char *conf_text = ck_json_print(list, 0);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "kind", "cniCacheV1");
    cJSON_AddStringToObject(c, "containerId", id);
    char *b64 = ck_base64_encode(conf_text ? conf_text : "", conf_text ? strlen(conf_text) : 0);
    cJSON_AddStringToObject(c, "config", b64);
    free(b64);
    free(conf_text);
    cJSON_AddStringToObject(c, "ifName", ifname);
    cJSON_AddStringToObject(c, "networkName", net);
    cJSON *args = cJSON_AddArrayToObject(c, "cniArgs");
    /* "k=v;k=v" as pairs */
    char *copy = ck_xstrdup(cni_args), *save = NULL;
    for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(kv));
        cJSON_AddItemToArray(pair, cJSON_CreateString(eq + 1));
        cJSON_AddItemToArray(args, pair);
    }
    free(copy);
    cJSON_AddItemToObject(c, "result", cJSON_Duplicate(result, true));
    char *text = ck_json_print(c, 0);
    cJSON_Delete(c);
    char *path = cache_path(cni, net, id, ifname);
    if (rc == 0 && text)
        rc = write_atomic(path, text, strlen(text), 0600);
    if (rc < 0)
        ck_warn("cni: cannot cache the result in %s: %s", path, strerror(-rc));
    free(path);
    free(text);
}

/* Reads a cache entry of (id, ifname): the list ADD used and its result, both owned by the
 * caller. -ENOENT when there is no usable entry for them. */
static int cache_read_path(const char *path, const char *id, const char *ifname, cJSON **list,
                           cJSON **result)
{
    *list = *result = NULL;
    struct ck_buf b = CK_BUF_INIT;
    int rc = read_file(path, &b, PLUGIN_OUTPUT_MAX + CONF_FILE_MAX * 2);
    if (rc < 0) {
        ck_buf_free(&b);
        return rc;
    }
    cJSON *c = cJSON_ParseWithLength(ck_buf_str(&b), b.len);
    ck_buf_free(&b);
    if (strcmp(ck_json_get_string(c, "containerId", ""), id) != 0 ||
        strcmp(ck_json_get_string(c, "ifName", ""), ifname) != 0) {
        cJSON_Delete(c);
        return -ENOENT;
    }
    const char *b64 = ck_json_get_string(c, "config", NULL);
    uint8_t *conf = NULL;
    size_t conf_len = 0;
    if (b64 && ck_base64_decode(b64, strlen(b64), &conf, &conf_len) == 0) {
        cJSON *l = cJSON_ParseWithLength((const char *)conf, conf_len);
        char why[256];
        if (l && list_valid(l, why, sizeof(why)))
            *list = l;
        else
            cJSON_Delete(l);
    }
    free(conf);
    cJSON *r = cJSON_GetObjectItemCaseSensitive(c, "result");
    if (cJSON_IsObject(r))
        *result = cJSON_Duplicate(r, true);
    cJSON_Delete(c);
    if (!*list) {
        cJSON_Delete(*result);
        *result = NULL;
        return -ENOENT;
    }
    return 0;
}

/* The cache entry of (id, ifname): under the current network's name when there is one, else
 * any network's (a DEL after the config was removed still finds what ADD did). */
static int cache_read(struct kl_cni *cni, const char *net, const char *id, const char *ifname,
                      cJSON **list, cJSON **result)
{
    *list = *result = NULL;
    if (net) {
        char *path = cache_path(cni, net, id, ifname);
        int rc = cache_read_path(path, id, ifname, list, result);
        free(path);
        return rc;
    }
    char *dir = ck_xasprintf("%s/results", cni->data_dir);
    char *suffix = ck_xasprintf("-%s-%s", id, ifname);
    DIR *d = opendir(dir);
    int rc = -ENOENT;
    struct dirent *de;
    while (d && rc < 0 && (de = readdir(d)) != NULL) {
        if (!has_suffix(de->d_name, suffix) || strlen(de->d_name) == strlen(suffix))
            continue;
        /* "net-a-b-eth0" also ends in "-b-eth0": the entry itself names its container */
        char *path = ck_xasprintf("%s/%s", dir, de->d_name);
        rc = cache_read_path(path, id, ifname, list, result);
        free(path);
    }
    if (d)
        closedir(d);
    free(suffix);
    free(dir);
    return rc;
}

static void cache_remove(struct kl_cni *cni, const char *net, const char *id, const char *ifname)
{
    char *path = cache_path(cni, net, id, ifname);
    if (unlink(path) < 0 && errno != ENOENT)
        ck_warn("cni: cannot remove %s: %s", path, strerror(errno));
    free(path);
}

/* ---- runtime side: ADD / DEL / CHECK ---- */

/* Common argument checks; builds CNI_ARGS (caller frees *cni_args). */
static int pod_args(const char *pod_ns, const char *pod_name, const char *pod_uid,
                    const char *container_id, char **cni_args, struct ck_error *err)
{
    struct kl_cni_error e = {0};
    if (kl_cni_validate_container_id(container_id, &e) < 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", kl_cni_error_str(&e));
    const char *parts[] = {pod_ns, pod_name, pod_uid};
    for (size_t i = 0; i < CK_ARRAY_SIZE(parts); i++) {
        if (parts[i] && strpbrk(parts[i], ";="))
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                "cni: \"%s\" cannot be passed in CNI_ARGS", parts[i]);
    }
    *cni_args = ck_xasprintf("IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;"
                             "K8S_POD_INFRA_CONTAINER_ID=%s;K8S_POD_UID=%s",
                             pod_ns ? pod_ns : "", pod_name ? pod_name : "", container_id,
                             pod_uid ? pod_uid : "");
    return 0;
}

static int plugin_error(struct ck_error *err, const cJSON *plugin, const cJSON *list,
                        const char *verb, struct kl_cni_error *e, int rc)
{
    ck_error_set(err, 500, CK_REASON_INTERNAL, "plugin type=\"%s\" name=\"%s\" failed (%s): %s",
                 ck_json_get_string(plugin, "type", ""), ck_json_get_string(list, "name", ""), verb,
                 kl_cni_error_str(e));
    return rc < 0 ? rc : -EIO;
}

/* Runs DEL over the list in reverse with prevResult (for versions that carry it). Returns the
 * first failure (e filled, *failed the plugin), leaving the rest undone as libcni does. */
static int del_list(struct kl_cni *cni, const cJSON *list, const cJSON *prev,
                    const struct kl_cni_args *a, const cJSON **failed, struct kl_cni_error *e)
{
    const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(list, "plugins");
    int n = cJSON_GetArraySize(plugins);
    bool with_prev = kl_cni_version_cmp(ck_json_get_string(list, "cniVersion", ""), "0.4.0") >= 0;
    for (int i = n - 1; i >= 0; i--) {
        const cJSON *p = cJSON_GetArrayItem(plugins, i);
        cJSON *pc = plugin_conf(list, p, with_prev ? prev : NULL);
        cJSON *ignored = NULL;
        int rc = run_plugin(cni, pc, a, &ignored, e);
        cJSON_Delete(pc);
        cJSON_Delete(ignored);
        if (rc < 0) {
            *failed = p;
            return rc;
        }
    }
    return 0;
}

/* Fills the kubelet's view of the result: every "ips" entry. */
static void fill_result(struct kl_cni_result *r, cJSON *json)
{
    memset(r, 0, sizeof(*r));
    r->json = json;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(json, "ips"))
    {
        const char *addr = ck_json_get_string(it, "address", NULL);
        if (!addr || r->n_ips >= KL_CNI_MAX_IPS)
            continue;
        struct kl_cni_ip *ip = &r->ips[r->n_ips];
        if (ck_snprintf(ip->address, sizeof(ip->address), "%s", addr) < 0)
            continue;
        size_t len = strcspn(addr, "/");
        if (len >= sizeof(ip->ip))
            continue;
        memcpy(ip->ip, addr, len);
        ip->ip[len] = '\0';
        ck_snprintf(ip->gateway, sizeof(ip->gateway), "%s", ck_json_get_string(it, "gateway", ""));
        r->n_ips++;
    }
}

/* Whether a result names netns as the sandbox of one of its interfaces. */
static bool result_sandbox_is(const cJSON *result, const char *netns)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(result, "interfaces"))
    {
        if (strcmp(ck_json_get_string(it, "sandbox", ""), netns) == 0)
            return true;
    }
    return false;
}

void kl_cni_result_free(struct kl_cni_result *r)
{
    if (!r)
        return;
    cJSON_Delete(r->json);
    memset(r, 0, sizeof(*r));
}

int kl_cni_add(struct kl_cni *cni, const char *pod_ns, const char *pod_name, const char *pod_uid,
               const char *container_id, const char *netns_path, struct kl_cni_result *result,
               struct ck_error *err)
{
    memset(result, 0, sizeof(*result));
    char *cni_args = NULL;
    int rc = pod_args(pod_ns, pod_name, pod_uid, container_id, &cni_args, err);
    if (rc < 0)
        return rc;
    if (!netns_path || !*netns_path) {
        free(cni_args);
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "cni: no network namespace given");
    }
    cJSON *list = conf_snapshot(cni);
    if (!list) {
        free(cni_args);
        return ck_error_set(err, 503, CK_REASON_SERVICE_UNAVAILABLE,
                            "cni plugin not initialized: no network config found in %s",
                            cni->conf_dir);
    }
    /* an attachment that is already up (an ADD retried after a kubelet restart) is not set
     * up twice: a second ADD would fail and its clean-up would tear the first one down */
    cJSON *cached_list = NULL, *cached = NULL;
    if (cache_read(cni, ck_json_get_string(list, "name", ""), container_id, KL_CNI_IFNAME,
                   &cached_list, &cached) == 0 &&
        cached && result_sandbox_is(cached, netns_path)) {
        ck_vinfo(2, "cni: %s already has its network, returning the cached result", container_id);
        fill_result(result, cached);
        cJSON_Delete(cached_list);
        cJSON_Delete(list);
        free(cni_args);
        return 0;
    }
    cJSON_Delete(cached_list);
    cJSON_Delete(cached);
    if ((rc = kl_cni_loopback_up(netns_path, err)) < 0) {
        free(cni_args);
        cJSON_Delete(list);
        return rc;
    }
    struct kl_cni_args a = {.command = "ADD",
                            .container_id = container_id,
                            .netns = netns_path,
                            .ifname = KL_CNI_IFNAME,
                            .args = cni_args,
                            .path = cni->cni_path};
    const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(list, "plugins");
    cJSON *prev = NULL;
    const cJSON *p;
    cJSON_ArrayForEach(p, plugins)
    {
        cJSON *pc = plugin_conf(list, p, prev);
        cJSON *res = NULL;
        struct kl_cni_error e = {0};
        rc = run_plugin(cni, pc, &a, &res, &e);
        cJSON_Delete(pc);
        if (rc < 0) {
            plugin_error(err, p, list, "add", &e, rc);
            /* undo what the list did so far, as the runtime's failed-sandbox cleanup would */
            struct kl_cni_args d = a;
            d.command = "DEL";
            const cJSON *failed = NULL;
            struct kl_cni_error de = {0};
            if (del_list(cni, list, prev, &d, &failed, &de) < 0)
                ck_warn("cni: cleanup after failed ADD of %s: %s", container_id,
                        kl_cni_error_str(&de));
            cJSON_Delete(prev);
            cJSON_Delete(list);
            free(cni_args);
            return rc < 0 ? rc : -EIO;
        }
        if (res) {
            cJSON_Delete(prev);
            prev = res;
        }
    }
    if (!prev)
        prev = cJSON_CreateObject();
    cache_write(cni, list, container_id, KL_CNI_IFNAME, cni_args, prev);
    fill_result(result, prev);
    cJSON_Delete(list);
    free(cni_args);
    return 0;
}

int kl_cni_del(struct kl_cni *cni, const char *pod_ns, const char *pod_name, const char *pod_uid,
               const char *container_id, const char *netns_path, struct ck_error *err)
{
    char *cni_args = NULL;
    int rc = pod_args(pod_ns, pod_name, pod_uid, container_id, &cni_args, err);
    if (rc < 0)
        return rc;
    cJSON *current = conf_snapshot(cni);
    const char *net = ck_json_get_string(current, "name", NULL);
    cJSON *list = NULL, *prev = NULL;
    /* the config ADD used, as cached (also when the network was renamed since) */
    if (cache_read(cni, net, container_id, KL_CNI_IFNAME, &list, &prev) < 0 && net)
        cache_read(cni, NULL, container_id, KL_CNI_IFNAME, &list, &prev);
    if (!list) {
        list = current;
        current = NULL;
    }
    if (!list) {
        ck_warn("cni: DEL %s: no network config and no cached result, nothing to do", container_id);
        free(cni_args);
        return 0;
    }
    struct kl_cni_args a = {.command = "DEL",
                            .container_id = container_id,
                            .netns = netns_path ? netns_path : "",
                            .ifname = KL_CNI_IFNAME,
                            .args = cni_args,
                            .path = cni->cni_path};
    const cJSON *failed = NULL;
    struct kl_cni_error e = {0};
    rc = del_list(cni, list, prev, &a, &failed, &e);
    if (rc < 0)
        plugin_error(err, failed, list, "delete", &e, rc);
    else
        cache_remove(cni, ck_json_get_string(list, "name", ""), container_id, KL_CNI_IFNAME);
    cJSON_Delete(prev);
    cJSON_Delete(list);
    cJSON_Delete(current);
    free(cni_args);
    return rc;
}

int kl_cni_check(struct kl_cni *cni, const char *pod_ns, const char *pod_name, const char *pod_uid,
                 const char *container_id, const char *netns_path, struct ck_error *err)
{
    char *cni_args = NULL;
    int rc = pod_args(pod_ns, pod_name, pod_uid, container_id, &cni_args, err);
    if (rc < 0)
        return rc;
    cJSON *current = conf_snapshot(cni);
    const char *net = ck_json_get_string(current, "name", NULL);
    cJSON *list = NULL, *prev = NULL;
    if (!net) {
        rc = ck_error_set(err, 503, CK_REASON_SERVICE_UNAVAILABLE,
                          "cni plugin not initialized: no network config found in %s",
                          cni->conf_dir);
        goto out;
    }
    if (cache_read(cni, net, container_id, KL_CNI_IFNAME, &list, &prev) < 0 || !prev) {
        rc = ck_error_set(err, 404, CK_REASON_NOT_FOUND,
                          "failed to get network \"%s\" cached result for %s", net, container_id);
        goto out;
    }
    const char *version = ck_json_get_string(list, "cniVersion", "");
    if (kl_cni_version_cmp(version, "0.4.0") < 0) {
        rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                          "configuration version \"%s\" does not support the CHECK command",
                          version);
        goto out;
    }
    if (ck_json_get_bool(list, "disableCheck", false)) {
        rc = 0;
        goto out;
    }
    struct kl_cni_args a = {.command = "CHECK",
                            .container_id = container_id,
                            .netns = netns_path ? netns_path : "",
                            .ifname = KL_CNI_IFNAME,
                            .args = cni_args,
                            .path = cni->cni_path};
    const cJSON *p;
    rc = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(list, "plugins"))
    {
        cJSON *pc = plugin_conf(list, p, prev);
        cJSON *ignored = NULL;
        struct kl_cni_error e = {0};
        rc = run_plugin(cni, pc, &a, &ignored, &e);
        cJSON_Delete(pc);
        cJSON_Delete(ignored);
        if (rc < 0) {
            plugin_error(err, p, list, "check", &e, rc);
            break;
        }
    }
out:
    cJSON_Delete(prev);
    cJSON_Delete(list);
    cJSON_Delete(current);
    free(cni_args);
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

    int rc = mkdir_p(conf_dir);
    char *path = ck_xasprintf("%s/%s", conf_dir, DEFAULT_CONF_NAME);
    struct ck_buf old = CK_BUF_INIT;
    if (rc == 0 && read_file(path, &old, CONF_FILE_MAX) == 0 && old.len == body.len &&
        memcmp(old.data, body.data, body.len) == 0) {
        rc = 1; /* unchanged */
    } else if (rc == 0) {
        rc = write_atomic(path, body.data, body.len, 0644);
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
