/* kubelet/cni/cni_runtime.c - the runtime side's commands: ADD, DEL and CHECK over the loaded
 * list, with the result cache that gives DEL and CHECK their prevResult (see cni.h). */
#include "cni.h"
#include "cni_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "buf.h"
#include "encoding.h"
#include "json.h"
#include "log.h"
#include "mem.h"

/* ---- runtime side: the result cache ---- */

static char *cache_path(const struct kl_cni *cni, const char *net, const char *id,
                        const char *ifname)
{
    return ck_xasprintf("%s/results/%s-%s-%s", cni->data_dir, net, id, ifname);
}

/* Stores the list ADD used and its final result, in libcni's cniCacheV1 shape. */
static void cache_write(struct kl_cni *cni, const cJSON *list, const char *id, const char *ifname,
                        const char *cni_args, const cJSON *result)
{
    const char *net = ck_json_get_string(list, "name", "");
    char *dir = ck_xasprintf("%s/results", cni->data_dir);
    int rc = kl_cni_mkdir_p(dir, 0755);
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
        rc = kl_cni_write_atomic(path, text, strlen(text), 0600);
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
    int rc = kl_cni_read_file(path, &b, KL_CNI_OUTPUT_MAX + KL_CNI_CONF_FILE_MAX * 2);
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
        if (l && kl_cni_list_valid(l, why, sizeof(why)))
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
        if (!kl_cni_has_suffix(de->d_name, suffix) || strlen(de->d_name) == strlen(suffix))
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

/* The arguments of one command on the pod's attachment (all borrowed). */
static struct kl_cni_args command_args(const struct kl_cni *cni, const char *command,
                                       const char *container_id, const char *netns,
                                       const char *cni_args)
{
    return (struct kl_cni_args){.command = command,
                                .container_id = container_id,
                                .netns = netns ? netns : "",
                                .ifname = KL_CNI_IFNAME,
                                .args = cni_args,
                                .path = cni->cni_path};
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
        cJSON *pc = kl_cni_plugin_conf(list, p, with_prev ? prev : NULL);
        cJSON *ignored = NULL;
        int rc = kl_cni_run_plugin(cni, pc, a, &ignored, e);
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
    cJSON *list = kl_cni_conf_snapshot(cni);
    if (!list) {
        free(cni_args);
        return kl_cni_not_initialized(err, cni);
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
    struct kl_cni_args a = command_args(cni, "ADD", container_id, netns_path, cni_args);
    const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(list, "plugins");
    cJSON *prev = NULL;
    const cJSON *p;
    cJSON_ArrayForEach(p, plugins)
    {
        cJSON *pc = kl_cni_plugin_conf(list, p, prev);
        cJSON *res = NULL;
        struct kl_cni_error e = {0};
        rc = kl_cni_run_plugin(cni, pc, &a, &res, &e);
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
    cJSON *current = kl_cni_conf_snapshot(cni);
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
    struct kl_cni_args a = command_args(cni, "DEL", container_id, netns_path, cni_args);
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
    cJSON *current = kl_cni_conf_snapshot(cni);
    const char *net = ck_json_get_string(current, "name", NULL);
    cJSON *list = NULL, *prev = NULL;
    if (!net) {
        rc = kl_cni_not_initialized(err, cni);
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
    struct kl_cni_args a = command_args(cni, "CHECK", container_id, netns_path, cni_args);
    const cJSON *p;
    rc = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(list, "plugins"))
    {
        cJSON *pc = kl_cni_plugin_conf(list, p, prev);
        cJSON *ignored = NULL;
        struct kl_cni_error e = {0};
        rc = kl_cni_run_plugin(cni, pc, &a, &ignored, &e);
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
