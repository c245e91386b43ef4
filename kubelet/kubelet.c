/* kubelet.c - the kubelet's start-up and shutdown, and helpers its parts share (see kubelet.h).
 *
 * Start-up order (as upstream's RunKubelet): directories, the REST client, the runtime (runc
 * state and the pod cgroup tree), the image store, CNI and the node's network sysctls, events,
 * the health endpoint (--healthz-port on --healthz-bind-address), the Node (registered before
 * pods are handled, so the pod CIDR is known), then the pod informer and the pod workers,
 * which first adopt what the runtime still runs from an earlier kubelet.
 * Shutdown stops the kubelet's own threads only: containers keep running.
 */
#include "kubelet/kubelet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "daemon.h"
#include "json.h"
#include "kubelet/cni/bridge.h"
#include "kubelet/probes.h"
#include "kubelet/runtime/bundle.h"
#include "kubelet/server.h"
#include "log.h"
#include "mem.h"
#include "timeutil.h"

static const struct ck_gvr PODS = {"", "v1", "pods"};
static const struct ck_gvr SERVICES = {"", "v1", "services"};

int kl_api_get_object(void *kubelet, const char *resource, const char *ns, const char *name,
                      cJSON **out, struct ck_error *err)
{
    struct kl_kubelet *k = kubelet;
    struct ck_gvr gvr = {"", "v1", resource};
    return ck_client_get(k->client, &gvr, ns, name, out, err);
}

void kl_pod_event(struct kl_kubelet *k, const cJSON *pod, const char *container, bool init,
                  const char *type, const char *reason, const char *fmt, ...)
{
    if (!k->recorder || !pod)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddStringToObject(ref, "kind", "Pod");
    cJSON_AddStringToObject(ref, "namespace", ck_json_get_string(pod, "metadata.namespace", ""));
    cJSON_AddStringToObject(ref, "name", ck_json_get_string(pod, "metadata.name", ""));
    cJSON_AddStringToObject(ref, "uid", ck_json_get_string(pod, "metadata.uid", ""));
    cJSON_AddStringToObject(ref, "apiVersion", "v1");
    const char *rv = ck_json_get_string(pod, "metadata.resourceVersion", "");
    if (rv[0])
        cJSON_AddStringToObject(ref, "resourceVersion", rv);
    if (container) {
        CK_AUTOFREE char *fp =
            ck_xasprintf("spec.%s{%s}", init ? "initContainers" : "containers", container);
        cJSON_AddStringToObject(ref, "fieldPath", fp);
    }
    ck_event_record(k->recorder, ref, type, reason, msg ? msg : "");
    cJSON_Delete(ref);
    free(msg);
}

/* "runc://1.1.5" from `runc --version` */
static void runtime_version(struct kl_kubelet *k)
{
    snprintf(k->runtime_version, sizeof(k->runtime_version), "runc://unknown");
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        int dn = open("/dev/null", O_RDWR);
        if (dn >= 0) {
            dup2(dn, 0);
            dup2(dn, 2);
        }
        execl(k->rt->runc, k->rt->runc, "--version", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[256] = "";
    ssize_t n = pid > 0 ? read(p[0], buf, sizeof(buf) - 1) : -1;
    close(p[0]);
    if (pid > 0)
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    if (n <= 0)
        return;
    buf[n] = '\0';
    const char *v = strstr(buf, "runc version ");
    if (!v)
        return;
    v += strlen("runc version ");
    size_t l = strcspn(v, " \n");
    snprintf(k->runtime_version, sizeof(k->runtime_version), "runc://%.*s", (int)l, v);
}

static int check_synced(void *ctx, struct ck_error *why)
{
    struct kl_kubelet *k = ctx;
    pthread_mutex_lock(&k->lock);
    bool ok = k->registered;
    pthread_mutex_unlock(&k->lock);
    if (ok)
        return 0;
    return ck_error_set(why, 500, CK_REASON_INTERNAL, "the node is not registered yet");
}

static int make_dirs(const struct kl_config *cfg)
{
    const char *dirs[] = {cfg->root_dir,   cfg->pods_dir,     cfg->pod_logs_dir,
                          cfg->images_dir, cfg->cni_conf_dir, cfg->cni_data_dir};
    for (size_t i = 0; i < CK_ARRAY_SIZE(dirs); i++) {
        int rc = kl_mkdir_p(dirs[i], 0750);
        if (rc < 0) {
            ck_err("cannot create %s: %s", dirs[i], strerror(-rc));
            return rc;
        }
    }
    return 0;
}

static void host_resolv(struct kl_kubelet *k)
{
    char *text = NULL;
    if (k->cfg->resolv_conf[0] && kl_read_file(k->cfg->resolv_conf, 1 << 20, &text, NULL) == 0)
        kl_resolv_parse(text, &k->host_resolv);
    free(text);
}

void kl_node_event(struct kl_kubelet *k, const char *type, const char *reason, const char *msg)
{
    if (!k->recorder)
        return;
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddStringToObject(ref, "kind", "Node");
    cJSON_AddStringToObject(ref, "name", k->cfg->node_name);
    cJSON_AddStringToObject(ref, "uid", k->cfg->node_name);
    ck_event_record(k->recorder, ref, type, reason, msg);
    cJSON_Delete(ref);
}

int kl_kubelet_run(struct kl_config *cfg, struct ck_cancel *stop)
{
    struct kl_kubelet kk;
    struct kl_kubelet *k = &kk;
    memset(k, 0, sizeof(*k));
    k->cfg = cfg;
    k->stop = stop;
    pthread_mutex_init(&k->lock, NULL);
    pthread_mutex_init(&k->pull_lock, NULL);
    int exit_code = 1;
    struct ck_error err = CK_ERROR_INIT;
    struct ck_rest_config *rc_cfg = NULL;
    struct ck_daemon *daemon = NULL;
    struct kl_server *server = NULL;
    ck_info("Kubelet version kubeletVersion=\"%s\"", KL_VERSION);
    ck_info("node=\"%s\" nodeIP=\"%s\" rootDir=\"%s\" podLogsDir=\"%s\" cgroupRoot=\"%s\"",
            cfg->node_name, cfg->node_ip, cfg->root_dir, cfg->pod_logs_dir, cfg->node_cgroup);
    if (make_dirs(cfg) < 0)
        goto out;
    host_resolv(k);
    if (!cfg->kubeconfig[0]) {
        ck_err("no --kubeconfig: standalone mode is not supported");
        goto out;
    }
    if (ck_rest_config_from_flags(NULL, cfg->kubeconfig, &rc_cfg, &err) < 0) {
        ck_err("failed to load kubeconfig: %s", err.message);
        goto out;
    }
    struct ck_client_opts co = {
        .component = "kubelet", .qps = cfg->kube_api_qps, .burst = cfg->kube_api_burst};
    if (ck_client_new(rc_cfg, &co, &k->client, &err) < 0) {
        ck_err("failed to create the API client: %s", err.message);
        goto out;
    }
    if (kl_runtime_init(cfg->runtime_dir, cfg->node_cgroup, &k->rt, &err) < 0) {
        ck_err("failed to initialize the container runtime: %s", err.message);
        goto out;
    }
    runtime_version(k);
    if (kl_image_store_open(cfg->images_dir, &k->images, &err) < 0) {
        ck_err("failed to open the image store: %s", err.message);
        goto out;
    }
    if (kl_cni_setup(cfg->cni_conf_dir, cfg->cni_bin_dir, cfg->cni_data_dir, &k->cni, &err) < 0) {
        ck_err("failed to set up CNI: %s", err.message);
        goto out;
    }
    ck_error_clear(&err);
    bool brnf = false;
    if (kl_cni_node_setup(&brnf, &err) < 0)
        ck_warn("node network setup: %s", err.message);
    ck_error_clear(&err);
    k->broadcaster = ck_event_broadcaster_new(k->client, NULL);
    k->recorder = ck_event_recorder_new(k->broadcaster, "kubelet", cfg->node_name);

    if (cfg->healthz_port > 0) {
        struct ck_daemon_opts dopts = {
            .component = "kubelet",
            .bind_address = cfg->healthz_bind_address,
            .secure_port = cfg->healthz_port,
            .plain_http = true,
        };
        if (ck_daemon_start(&dopts, &daemon, &err) < 0) {
            ck_err("failed to serve healthz on %s:%d: %s", cfg->healthz_bind_address,
                   cfg->healthz_port, err.message);
            goto out;
        }
        ck_daemon_add_check(daemon, "syncloop", CK_CHECK_ALL, check_synced, k);
    }

    CK_AUTOFREE char *sel = ck_xasprintf("spec.nodeName=%s", cfg->node_name);
    struct ck_informer_opts po = {.field_selector = sel};
    if (ck_informer_new(k->client, &PODS, &po, &k->pod_informer) < 0 ||
        ck_informer_new(k->client, &SERVICES, NULL, &k->svc_informer) < 0) {
        ck_err("failed to create informers");
        goto out;
    }
    ck_informer_start(k->svc_informer);
    if (kl_server_start(k, &server, &err) < 0) {
        ck_err("failed to serve the kubelet API on %s:%d: %s", cfg->address, cfg->port,
               err.message);
        goto out;
    }

    kl_node_event(k, CK_EVENT_NORMAL, "Starting", "Starting kubelet.");
    if (kl_node_start(k) < 0)
        goto stopping;
    kl_node_event(k, CK_EVENT_NORMAL, "NodeAllocatableEnforced",
                  "Updated Node Allocatable limit across pods");
    kl_prober_start(k);
    int rc = kl_pods_start(k);
    if (rc < 0 && rc != -ECANCELED) {
        ck_err("failed to start the pod workers: %s", strerror(-rc));
        goto stopping;
    }
    ck_info("Started kubelet");
    while (ck_cancel_sleep(stop, 3600 * CK_SECOND) == 0)
        ;
stopping:
    ck_info("Shutting down kubelet");
    exit_code = 0;
out:
    ck_cancel_fire(stop);
    kl_node_stop(k);
    kl_prober_stop(k);
    kl_pods_stop(k);
    kl_prober_free(k);
    kl_server_stop(server);
    ck_informer_free(k->pod_informer);
    ck_informer_free(k->svc_informer);
    ck_daemon_stop(daemon);
    ck_event_recorder_free(k->recorder);
    ck_event_broadcaster_free(k->broadcaster);
    kl_cni_free(k->cni);
    if (k->images)
        kl_image_store_close(k->images);
    kl_runtime_free(k->rt);
    ck_client_free(k->client);
    ck_rest_config_free(rc_cfg);
    kl_resolv_free(&k->host_resolv);
    cJSON_Delete(k->node_allocatable);
    ck_error_clear(&err);
    pthread_mutex_destroy(&k->lock);
    pthread_mutex_destroy(&k->pull_lock);
    return exit_code;
}
