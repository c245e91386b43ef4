/* kubelet/cni/cni_exec.c - running one plugin of a list: our own in-process, any other as an
 * executable from the bin dirs with the CNI_* environment, a timeout and a size-capped output
 * (see cni.h). */
#include "cni.h"
#include "cni_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "mem.h"

extern char **environ;

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
    if ((rc = kl_cni_write_all(infd, in, inlen)) < 0 || lseek(infd, 0, SEEK_SET) < 0) {
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
        if (out->len + (size_t)got > KL_CNI_OUTPUT_MAX) {
            rc = kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "plugin %s printed more than %zu bytes",
                                  path, KL_CNI_OUTPUT_MAX);
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
        rc = kl_cni_error_details(e, c >= 0 && c < 1e6 ? (unsigned)c : KL_CNI_ERR_INTERNAL,
                                  msg ? msg : "", ck_json_get_string(j, "details", ""));
    }
    cJSON_Delete(j);
    return rc;
}

/* Runs one plugin of the list for a->command with the given per-plugin config. ADD leaves the
 * plugin's result in *result (caller owns). */
int kl_cni_run_plugin(struct kl_cni *cni, const cJSON *pconf, const struct kl_cni_args *a,
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
            .max_bytes = KL_CNI_OUTPUT_MAX, .raw_message = true, .require_object = true};
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
cJSON *kl_cni_plugin_conf(const cJSON *list, const cJSON *plugin, const cJSON *prev)
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
