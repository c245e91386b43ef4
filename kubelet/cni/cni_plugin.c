/* kubelet/cni/cni_plugin.c - the plugin side of the CNI protocol: our "ckube-bridge" plugin run
 * as an executable or in-process (see cni.h). */
#include "cni.h"
#include "cni_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "buf.h"
#include "json.h"
#include "mem.h"

static const char *const supported_versions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};

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
    struct ck_json_parse_opts opts = {.max_bytes = KL_CNI_CONF_FILE_MAX, .raw_message = true};
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

static void print_json_line(const cJSON *o)
{
    char *s = ck_json_print(o, 0);
    if (s) {
        kl_cni_write_all(STDOUT_FILENO, s, strlen(s));
        kl_cni_write_all(STDOUT_FILENO, "\n", 1);
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
    int rc = kl_cni_read_all(STDIN_FILENO, &in, KL_CNI_CONF_FILE_MAX);
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
