/* podsync.c - the runtime side of a pod's sync, as upstream's kuberuntime manager (SyncPod,
 * KillPod) does it: the pod cgroup, the sandbox and its CNI network, the managed /etc/hosts,
 * the volumes, images (pull policy, ImagePullBackOff), init containers one at a time, app
 * containers, restarts under the restartPolicy with CrashLoopBackOff, restarts for a changed
 * image or a failed liveness probe, postStart / preStop hooks, graceful stops, and removing
 * everything once the pod is gone. Called by the pod's worker only (see podworker.h). */
#include "kubelet/podworker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "kubelet/backoff.h"
#include "kubelet/containers.h"
#include "kubelet/env.h"
#include "kubelet/probes.h"
#include "kubelet/status.h"
#include "log.h"
#include "mem.h"
#include "timeutil.h"

static int64_t wall_ns(void)
{
    struct timespec t;
    ck_time_now(&t);
    return (int64_t)t.tv_sec * CK_SECOND + t.tv_nsec;
}

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * CK_SECOND + t->tv_nsec;
}

/* CPU time of the calling thread (ms): the --v=4 step timings show it next to wall time */
int64_t kl_thread_cpu_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) < 0)
        return 0;
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? ck_xstrdup(v) : NULL;
}

/* ---- events ------------------------------------------------------------------------------------
 */

static void event(struct kl_kubelet *k, const cJSON *pod, const struct kl_slot *s, const char *type,
                  const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void event(struct kl_kubelet *k, const cJSON *pod, const struct kl_slot *s, const char *type,
                  const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    kl_pod_event(k, pod, s ? s->name : NULL, s && s->init, type, reason, "%s", msg ? msg : "");
    free(msg);
}

static char *log_tail(const char *path, size_t max_bytes, int max_lines)
{
    char *text = NULL;
    size_t len = 0;
    if (!path || !path[0] || kl_read_file(path, 4 << 20, &text, &len) < 0)
        return NULL;
    /* the message of each line: after "<time> <stream> <tag> " */
    struct ck_buf out = CK_BUF_INIT;
    int lines = 0;
    const char *end = text + len;
    const char *p = end;
    /* walk back max_lines lines */
    while (p > text && lines <= max_lines) {
        p--;
        if (*p == '\n' && p != end - 1)
            lines++;
    }
    if (lines > max_lines)
        p++;
    for (const char *l = p; l < end;) {
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        size_t ll = nl ? (size_t)(nl - l) : (size_t)(end - l);
        const char *f = l;
        int spaces = 0;
        while (f < l + ll && spaces < 3)
            if (*f++ == ' ')
                spaces++;
        if (spaces == 3) {
            bool partial = f >= l + 2 && f[-2] == 'P';
            ck_buf_add(&out, f, (size_t)(l + ll - f));
            if (!partial)
                ck_buf_putc(&out, '\n');
        }
        l += ll + (nl ? 1 : 0);
    }
    free(text);
    if (!out.len) {
        ck_buf_free(&out);
        return NULL;
    }
    char *s = ck_buf_detach(&out);
    size_t sl = strlen(s);
    if (sl > max_bytes) {
        char *t = ck_xstrdup(s + sl - max_bytes);
        free(s);
        s = t;
    }
    return s;
}

/* ---- runtime state -----------------------------------------------------------------------------
 */

static void refresh_run(struct kl_kubelet *k, struct kl_run *r, const cJSON *spec_c)
{
    if (!r || (kl_run_exited(r) && r->message_read))
        return;
    struct kl_container_state st;
    if (kl_container_state(k->rt, r->c, &st, NULL) == 0)
        r->st = st;
    if (kl_run_exited(r) && !r->message_read) {
        char *msg = NULL;
        if (kl_container_termination_message(r->c, &msg) == 0 && msg && msg[0]) {
            r->message = msg;
        } else {
            free(msg);
            const char *policy = ck_json_get_string(spec_c, "terminationMessagePolicy", "File");
            if (!strcmp(policy, "FallbackToLogsOnError") && r->st.exit_code != 0)
                r->message = log_tail(r->c->log_path, 2048, 80);
        }
        r->message_read = true;
    }
}

void kl_refresh_runs(struct kl_kubelet *k, struct kl_pod *p, const cJSON *pod)
{
    for (size_t i = 0; i < p->n_slots; i++) {
        const cJSON *sc = pod ? kl_slot_spec(pod, &p->slots[i]) : NULL;
        refresh_run(k, p->slots[i].cur, sc);
        refresh_run(k, p->slots[i].last, sc);
    }
    for (size_t i = 0; i < p->n_adopted; i++)
        refresh_run(k, p->adopted[i], NULL);
}

/* ---- stopping ----------------------------------------------------------------------------------
 */

struct stop_job {
    struct kl_kubelet *k;
    const cJSON *pod;
    struct kl_slot *s;
    int64_t grace;
    pthread_t t;
    bool started;
};

static void *stop_one(void *arg)
{
    struct stop_job *j = arg;
    struct kl_run *r = j->s->cur;
    int64_t grace = j->grace;
    const cJSON *sc = j->pod ? kl_slot_spec(j->pod, j->s) : NULL;
    const cJSON *pre = ck_json_get(sc, "lifecycle.preStop");
    if (pre && grace > 0) {
        int64_t t0 = ck_mono_ns();
        kl_run_hook(j->k, j->pod, r->c, pre, grace, "PreStop", NULL);
        grace -= (ck_mono_ns() - t0) / CK_SECOND;
    }
    if (grace < MIN_GRACE_SECONDS)
        grace = MIN_GRACE_SECONDS;
    struct ck_error err = CK_ERROR_INIT;
    if (kl_container_stop(j->k->rt, r->c, grace, &err) < 0)
        ck_err("StopContainer failed containerID=\"%s\" err=\"%s\"", r->c->id, err.message);
    ck_error_clear(&err);
    return NULL;
}

/* stops every live container of the pod, all at once, each with the grace period */
static void stop_containers(struct kl_kubelet *k, struct kl_pod *p, const cJSON *pod, int64_t grace,
                            const char *message)
{
    struct stop_job *jobs = ck_xcalloc(p->n_slots + 1, sizeof(*jobs));
    for (size_t i = 0; i < p->n_slots; i++) {
        struct kl_slot *s = &p->slots[i];
        if (!kl_run_alive(s->cur))
            continue;
        if (pod)
            event(k, pod, s, CK_EVENT_NORMAL, "Killing", "%s",
                  message ? message : "Stopping container");
        jobs[i] = (struct stop_job){.k = k, .pod = pod, .s = s, .grace = grace};
        jobs[i].started = pthread_create(&jobs[i].t, NULL, stop_one, &jobs[i]) == 0;
        if (!jobs[i].started)
            stop_one(&jobs[i]);
    }
    for (size_t i = 0; i < p->n_slots; i++)
        if (jobs[i].started)
            pthread_join(jobs[i].t, NULL);
    free(jobs);
    for (size_t i = 0; i < p->n_adopted; i++)
        if (kl_run_alive(p->adopted[i]))
            (void)kl_container_stop(k->rt, p->adopted[i]->c, MIN_GRACE_SECONDS, NULL);
    kl_refresh_runs(k, p, pod);
}

static void release_network(struct kl_kubelet *k, struct kl_pod *p, struct kl_sandbox *sb)
{
    if (!sb || sb->host_network)
        return;
    struct ck_error err = CK_ERROR_INIT;
    if (kl_cni_del(k->cni, p->ns, p->name, p->uid, sb->id, kl_sandbox_netns_path(sb), &err) < 0)
        ck_err("Failed to destroy network for sandbox sandboxID=\"%s\" err=\"%s\"", sb->id,
               err.message);
    ck_error_clear(&err);
}

/* containers stopped, sandbox stopped, network released (upstream's KillPod) */
void kl_kill_pod(struct kl_kubelet *k, struct kl_pod *p, const cJSON *pod, int64_t grace)
{
    stop_containers(k, p, pod, grace, NULL);
    if (p->sb) {
        struct ck_error err = CK_ERROR_INIT;
        if (kl_sandbox_stop(k->rt, p->sb, &err) < 0)
            ck_err("StopPodSandbox failed sandboxID=\"%s\" err=\"%s\"", p->sb->id, err.message);
        ck_error_clear(&err);
        release_network(k, p, p->sb);
    }
    p->sandbox_ready = false;
    p->terminated = true;
}

static void pod_log_dir(struct kl_kubelet *k, const char *ns, const char *name, const char *uid,
                        char **out)
{
    *out = ck_xasprintf("%s/%s_%s_%s", k->cfg->pod_logs_dir, ns, name, uid);
}

/* removes everything the pod had on the node */
void kl_cleanup_pod(struct kl_kubelet *k, struct kl_pod *p)
{
    if (p->cleaned)
        return;
    for (size_t i = 0; i < p->n_slots; i++) {
        kl_run_remove(k, p->slots[i].cur);
        kl_run_remove(k, p->slots[i].last);
        p->slots[i].cur = p->slots[i].last = NULL;
    }
    for (size_t i = 0; i < p->n_adopted; i++)
        kl_run_remove(k, p->adopted[i]);
    free(p->adopted);
    p->adopted = NULL;
    p->n_adopted = 0;
    struct ck_error err = CK_ERROR_INIT;
    struct kl_sandbox **all = ck_xcalloc(p->n_old_sbs + 2, sizeof(*all));
    size_t n = 0;
    if (p->sb)
        all[n++] = p->sb;
    for (size_t i = 0; i < p->n_old_sbs; i++)
        all[n++] = p->old_sbs[i];
    for (size_t i = 0; i < n; i++) {
        (void)kl_sandbox_stop(k->rt, all[i], NULL);
        release_network(k, p, all[i]);
        if (kl_sandbox_destroy(k->rt, all[i], &err) < 0)
            ck_err("RemovePodSandbox failed sandboxID=\"%s\" err=\"%s\"", all[i]->id, err.message);
        ck_error_clear(&err);
        kl_sandbox_free(all[i]);
    }
    free(all);
    p->sb = NULL;
    free(p->old_sbs);
    p->old_sbs = NULL;
    p->n_old_sbs = 0;
    /* the pod cgroup: ours, or the one a crashed kubelet left for this pod */
    for (int q = 0; q < 3; q++) {
        CK_AUTOFREE char *cg = kl_cgroup_pod_path(k->rt->cg, (enum kl_qos)q, p->uid);
        if (cg && kl_cgroup_exists(k->rt->cg, cg) && kl_cgroup_destroy(k->rt->cg, cg) < 0)
            ck_err("Failed to remove the pod cgroup cgroup=\"%s\"", cg);
    }
    kl_pod_volumes_free(&p->vols);
    p->vols_ok = false;
    CK_AUTOFREE char *pod_dir = ck_xasprintf("%s/%s", k->cfg->pods_dir, p->uid);
    if (kl_volumes_teardown(pod_dir) < 0)
        ck_err("Failed to remove the pod directory dir=\"%s\"", pod_dir);
    if (p->ns[0] && p->name[0]) {
        char *logs = NULL;
        pod_log_dir(k, p->ns, p->name, p->uid, &logs);
        (void)kl_rm_rf(logs);
        free(logs);
    }
    for (size_t i = 0; i < p->n_ips; i++)
        free(p->ips[i]);
    free(p->ips);
    p->ips = NULL;
    p->n_ips = 0;
    p->sandbox_ready = false;
    p->terminated = true;
    p->cleaned = true;
}

/* ---- sandbox, network, volumes -----------------------------------------------------------------
 */

static void set_ips(struct kl_pod *p, const char *const *ips, size_t n)
{
    for (size_t i = 0; i < p->n_ips; i++)
        free(p->ips[i]);
    free(p->ips);
    p->ips = ck_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        p->ips[i] = ck_xstrdup(ips[i]);
    p->n_ips = n;
}

static int setup_network(struct kl_kubelet *k, struct kl_pod *p, struct ck_error *err)
{
    if (p->sb->host_network) {
        const char *ip = k->cfg->node_ip;
        set_ips(p, &ip, ip[0] ? 1 : 0);
        return 0;
    }
    struct kl_cni_result res = {0};
    int rc = kl_cni_add(k->cni, p->ns, p->name, p->uid, p->sb->id, kl_sandbox_netns_path(p->sb),
                        &res, err);
    if (rc < 0)
        return rc;
    const char *ips[KL_CNI_MAX_IPS];
    size_t n = 0;
    for (size_t i = 0; i < res.n_ips && n < KL_CNI_MAX_IPS; i++)
        ips[n++] = res.ips[i].ip;
    set_ips(p, ips, n);
    kl_cni_result_free(&res);
    return 0;
}

static void write_hosts(struct kl_kubelet *k, struct kl_pod *p, const cJSON *pod)
{
    if (p->sb && p->sb->host_network)
        return;
    CK_AUTOFREE char *path = ck_xasprintf("%s/%s/etc-hosts", k->cfg->pods_dir, p->uid);
    CK_AUTOFREE char *dir = ck_xasprintf("%s/%s", k->cfg->pods_dir, p->uid);
    (void)kl_mkdir_p(dir, 0750);
    CK_AUTOFREE char *txt = kl_hosts_file(pod, p->n_ips ? p->ips[0] : NULL, k->cfg->cluster_domain);
    if (kl_write_file_atomic(path, txt, strlen(txt), 0644) == 0)
        set_str(&p->hosts_file, path);
}

/* pod cgroup, sandbox and network; 0 when the sandbox is ready */
int kl_ensure_sandbox(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod)
{
    struct kl_kubelet *k = ps->k;
    if (p->sb && p->sandbox_ready)
        return 0;
    if (p->sandbox_retry_at && ck_mono_ns() < p->sandbox_retry_at)
        return -EAGAIN;
    struct ck_error err = CK_ERROR_INIT;
    int rc = 0;
    enum kl_qos qos;
    struct kl_cgroup_resources res;
    kl_pod_cgroup_resources(pod, &qos, &res);
    if (!p->cgroup) {
        rc = kl_cgroup_pod_ensure(k->rt->cg, qos, p->uid, &res, &p->cgroup);
        if (rc < 0) {
            event(k, pod, NULL, CK_EVENT_WARNING, "FailedCreatePodContainer",
                  "unable to ensure pod container exists: failed to create container for "
                  "[kubepods %s pod%s] : %s",
                  qos == KL_QOS_GUARANTEED  ? ""
                  : qos == KL_QOS_BURSTABLE ? "burstable"
                                            : "besteffort",
                  p->uid, strerror(-rc));
            goto retry;
        }
    }
    bool host_net = ck_json_get_bool(pod, "spec.hostNetwork", false);
    if (!host_net) {
        pthread_mutex_lock(&k->lock);
        bool net = k->network_ready;
        pthread_mutex_unlock(&k->lock);
        if (!net && kl_cni_status(k->cni, NULL, 0, NULL) < 0) {
            event(k, pod, NULL, CK_EVENT_WARNING, "NetworkNotReady",
                  "network is not ready: container runtime network not ready: "
                  "NetworkReady=false reason:NetworkPluginNotReady message:Network plugin "
                  "returns error: cni plugin not initialized");
            rc = -EAGAIN;
            goto retry;
        }
    }
    if (!p->sb) {
        char *logs = NULL;
        pod_log_dir(k, p->ns, p->name, p->uid, &logs);
        struct kl_dns_params dns = {
            .cluster_dns = (const char *const *)k->cfg->cluster_dns,
            .n_cluster_dns = k->cfg->n_cluster_dns,
            .cluster_domain = k->cfg->cluster_domain,
            .host = &k->host_resolv,
        };
        struct kl_sandbox_spec ss;
        kl_sandbox_spec_build(&ss, pod, &dns, logs, p->cgroup);
        free(logs);
        if (ss.cluster_dns_missing && !p->dns_warned) {
            event(k, pod, NULL, CK_EVENT_WARNING, "MissingClusterDNS",
                  "pod: \"%s_%s(%s)\". kubelet does not have ClusterDNS IP configured and cannot "
                  "create Pod using \"ClusterFirst\" policy. Falling back to \"Default\" policy.",
                  p->name, p->ns, p->uid);
            p->dns_warned = true;
        }
        int64_t t0 = ck_mono_ns(), c0 = kl_thread_cpu_ms();
        rc = kl_sandbox_create(k->rt, &ss.cfg, &p->sb, &err);
        ck_vinfo(4, "RunPodSandbox pod=\"%s/%s\" took %lld ms (cpu %lld ms)", p->ns, p->name,
                 (long long)((ck_mono_ns() - t0) / 1000000), (long long)(kl_thread_cpu_ms() - c0));
        kl_sandbox_spec_free(&ss);
        if (rc < 0) {
            event(k, pod, NULL, CK_EVENT_WARNING, "FailedCreatePodSandBox",
                  "Failed to create pod sandbox: %s", err.message);
            goto retry;
        }
    }
    int64_t tn = ck_mono_ns(), cn = kl_thread_cpu_ms();
    rc = setup_network(k, p, &err);
    ck_vinfo(4, "SetUpPod network pod=\"%s/%s\" took %lld ms (cpu %lld ms)", p->ns, p->name,
             (long long)((ck_mono_ns() - tn) / 1000000), (long long)(kl_thread_cpu_ms() - cn));
    if (rc < 0) {
        event(k, pod, NULL, CK_EVENT_WARNING, "FailedCreatePodSandBox",
              "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup "
              "network for sandbox \"%s\": %s",
              p->sb->id, err.message);
        /* a fresh sandbox next time */
        release_network(k, p, p->sb);
        (void)kl_sandbox_destroy(k->rt, p->sb, NULL);
        kl_sandbox_free(p->sb);
        p->sb = NULL;
        goto retry;
    }
    write_hosts(k, p, pod);
    p->sandbox_ready = true;
    p->terminated = false;
    p->sandbox_retry_at = 0;
    ck_error_clear(&err);
    return 0;
retry:
    ck_error_clear(&err);
    p->sandbox_retry_at = ck_mono_ns() + 2 * CK_SECOND;
    return rc < 0 ? rc : -EAGAIN;
}

int kl_ensure_volumes(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod)
{
    struct kl_kubelet *k = ps->k;
    if (p->vols_ok && ck_mono_ns() - p->vols_at < k->cfg->sync_frequency)
        return 0;
    CK_AUTOFREE char *pod_dir = ck_xasprintf("%s/%s", k->cfg->pods_dir, p->uid);
    pthread_mutex_lock(&k->lock);
    cJSON *alloc = ck_json_dup(k->node_allocatable);
    pthread_mutex_unlock(&k->lock);
    struct kl_downward_env denv = {
        .host_ip = k->cfg->node_ip,
        .pod_ips = (const char *const *)p->ips,
        .n_pod_ips = p->n_ips,
        .node_allocatable = alloc,
    };
    struct kl_pod_volumes vols;
    struct ck_error err = CK_ERROR_INIT;
    int rc = kl_volumes_setup(pod_dir, pod, &denv, kl_api_get_object, k, &vols, &err);
    cJSON_Delete(alloc);
    p->vols_at = ck_mono_ns();
    if (rc < 0) {
        event(k, pod, NULL, CK_EVENT_WARNING, "FailedMount", "%s", err.message);
        ck_error_clear(&err);
        if (!p->vols_ok)
            return rc;
        return 0; /* keep what is mounted; the refresh failed */
    }
    kl_pod_volumes_free(&p->vols);
    p->vols = vols;
    p->vols_ok = true;
    return 0;
}

/* ---- images ------------------------------------------------------------------------------------
 */

static void set_waiting(struct kl_slot *s, const char *reason, const char *message)
{
    set_str(&s->waiting_reason, reason);
    set_str(&s->waiting_message, message && message[0] ? message : NULL);
}

/* EnsureImageExists: 0 with *img, or a negative errno with the slot's waiting reason set */
static int ensure_image(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod, struct kl_slot *s,
                        const cJSON *c, struct kl_image **img, int64_t *wake)
{
    struct kl_kubelet *k = ps->k;
    const char *image = ck_json_get_string(c, "image", "");
    const char *pp = ck_json_get_string(c, "imagePullPolicy", "");
    if (!pp[0])
        pp = kl_image_default_pull_policy(image);
    enum kl_pull_policy policy;
    if (kl_pull_policy_parse(pp, &policy) < 0)
        policy = KL_PULL_IF_NOT_PRESENT;
    struct ck_error err = CK_ERROR_INIT;
    char *full = NULL;
    if (kl_image_apply_default_tag(image, &full, &err) < 0) {
        event(k, pod, s, CK_EVENT_WARNING, "InspectFailed", "%s", err.message);
        event(k, pod, s, CK_EVENT_WARNING, "Failed", "Error: InvalidImageName");
        set_waiting(s, "InvalidImageName", err.message);
        ck_error_clear(&err);
        return -EINVAL;
    }
    if (policy != KL_PULL_ALWAYS && kl_image_get(k->images, full, img, NULL) == 0) {
        event(k, pod, s, CK_EVENT_NORMAL, "Pulled",
              "Container image \"%s\" already present on machine", image);
        free(full);
        return 0;
    }
    if (policy == KL_PULL_NEVER) {
        int rc = kl_image_ensure(k->images, full, policy, &k->cfg->registry, img, NULL, &err);
        if (rc < 0) {
            event(k, pod, s, CK_EVENT_WARNING, "ErrImageNeverPull", "%s", err.message);
            event(k, pod, s, CK_EVENT_WARNING, "Failed", "Error: ErrImageNeverPull");
            set_waiting(s, "ErrImageNeverPull", err.message);
        }
        ck_error_clear(&err);
        free(full);
        return rc;
    }
    CK_AUTOFREE char *key = ck_xasprintf("%s_%s", p->uid, image);
    int64_t now = wall_ns();
    int64_t until = kl_backoff_until_update(ps->pull, key, now);
    if (until) {
        CK_AUTOFREE char *msg = ck_xasprintf("Back-off pulling image \"%s\"", image);
        event(k, pod, s, CK_EVENT_NORMAL, "BackOff", "%s", msg);
        event(k, pod, s, CK_EVENT_WARNING, "Failed", "Error: ImagePullBackOff");
        set_waiting(s, "ImagePullBackOff", msg);
        int64_t d = until - now;
        if (*wake == 0 || d < *wake)
            *wake = d;
        free(full);
        return -EAGAIN;
    }
    event(k, pod, s, CK_EVENT_NORMAL, "Pulling", "Pulling image \"%s\"", image);
    int64_t t0 = ck_mono_ns();
    if (k->cfg->serialize_image_pulls)
        pthread_mutex_lock(&k->pull_lock);
    int64_t t1 = ck_mono_ns();
    int rc = kl_image_ensure(k->images, full, policy, &k->cfg->registry, img, NULL, &err);
    int64_t t2 = ck_mono_ns();
    if (k->cfg->serialize_image_pulls)
        pthread_mutex_unlock(&k->pull_lock);
    free(full);
    if (rc < 0) {
        event(k, pod, s, CK_EVENT_WARNING, "Failed", "Failed to pull image \"%s\": %s", image,
              err.message);
        event(k, pod, s, CK_EVENT_WARNING, "Failed", "Error: ErrImagePull");
        kl_backoff_next(ps->pull, key, wall_ns(), wall_ns());
        set_waiting(s,
                    err.reason[0] && !strcmp(err.reason, "InvalidImageName") ? "InvalidImageName"
                                                                             : "ErrImagePull",
                    err.message);
        int64_t d = kl_backoff_get(ps->pull, key);
        if (*wake == 0 || d < *wake)
            *wake = d;
        ck_error_clear(&err);
        return rc;
    }
    char d1[CK_DURATION_BUFSZ], d2[CK_DURATION_BUFSZ];
    ck_duration_format((t2 - t1) / 1000000 * 1000000, d1);
    ck_duration_format((t2 - t0) / 1000000 * 1000000, d2);
    event(k, pod, s, CK_EVENT_NORMAL, "Pulled",
          "Successfully pulled image \"%s\" in %s (%s including waiting). Image size: %" PRId64
          " bytes.",
          image, d1, d2, (*img)->size);
    kl_backoff_reset(ps->pull, key);
    return 0;
}

/* ---- starting containers -----------------------------------------------------------------------
 */

static cJSON *visible_services(struct kl_kubelet *k)
{
    cJSON *arr = cJSON_CreateArray();
    if (!k->svc_informer)
        return arr;
    struct ck_obj_list l = CK_OBJ_LIST_INIT;
    ck_store_list(ck_informer_store(k->svc_informer), &l);
    for (size_t i = 0; i < l.n; i++)
        cJSON_AddItemToArray(arr, ck_json_dup(l.items[i]->json));
    ck_obj_list_free(&l);
    return arr;
}

/* runs a postStart hook; false when it failed (the container was then killed) */
static bool post_start(struct kl_kubelet *k, struct kl_pod *p, const cJSON *pod, struct kl_slot *s,
                       const cJSON *c)
{
    (void)p;
    const cJSON *hook = ck_json_get(c, "lifecycle.postStart");
    if (!hook)
        return true;
    char msg[512] = "";
    int64_t grace = ck_json_get_int64(pod, "spec.terminationGracePeriodSeconds", 30);
    if (kl_run_hook(k, pod, s->cur->c, hook, grace, "PostStart", msg) == 0)
        return true;
    event(k, pod, s, CK_EVENT_WARNING, "FailedPostStartHook", "%s", msg);
    event(k, pod, s, CK_EVENT_NORMAL, "Killing", "FailedPostStartHook");
    (void)kl_container_stop(k->rt, s->cur->c, MIN_GRACE_SECONDS, NULL);
    refresh_run(k, s->cur, c);
    return false;
}

/* creates and starts the container of slot s (attempt = restart count); 0 or <0 with the slot's
 * waiting reason set */
static int start_container(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod,
                           struct kl_slot *s, unsigned attempt, int64_t *wake)
{
    struct kl_kubelet *k = ps->k;
    const cJSON *c = kl_slot_spec(pod, s);
    if (!c)
        return -ENOENT;
    struct kl_image *img = NULL;
    int64_t t0 = ck_mono_ns();
    int rc = ensure_image(ps, p, pod, s, c, &img, wake);
    int64_t t1 = ck_mono_ns();
    if (rc < 0)
        return rc;
    struct ck_error err = CK_ERROR_INIT;
    pthread_mutex_lock(&k->lock);
    cJSON *alloc = ck_json_dup(k->node_allocatable);
    int64_t node_mem = k->node_memory;
    pthread_mutex_unlock(&k->lock);
    struct kl_downward_env denv = {
        .host_ip = k->cfg->node_ip,
        .pod_ips = (const char *const *)p->ips,
        .n_pod_ips = p->n_ips,
        .node_allocatable = alloc,
    };
    cJSON *svcs = visible_services(k);
    struct kl_env env;
    rc = kl_container_env(pod, c, &denv, kl_api_get_object, k, svcs, &env, &err);
    cJSON_Delete(svcs);
    cJSON_Delete(alloc);
    if (rc < 0) {
        event(k, pod, s, CK_EVENT_WARNING, "Failed", "Error: %s", err.message);
        set_waiting(s, "CreateContainerConfigError", err.message);
        ck_error_clear(&err);
        kl_image_free(img);
        return rc;
    }
    struct kl_cspec cs;
    struct kl_cspec_params cp = {
        .attempt = attempt,
        .image_ref = img->ref,
        .image_id = img->repo_digest ? img->repo_digest : img->id,
        .env = &env,
        .vols = &p->vols,
        .hosts_file = p->hosts_file,
        .node_memory = node_mem,
    };
    rc = kl_cspec_build(&cs, pod, c, &cp, &err);
    kl_env_free(&env);
    if (rc < 0) {
        event(k, pod, s, CK_EVENT_WARNING, "Failed", "Error: %s", err.message);
        set_waiting(s, "CreateContainerConfigError", err.message);
        ck_error_clear(&err);
        kl_image_free(img);
        return rc;
    }
    struct kl_container *ctr = NULL;
    int64_t t2 = ck_mono_ns(), c2 = kl_thread_cpu_ms();
    /* CreateContainer + StartContainer in one runc call (`runc run --detach`): one runc
     * process less per container on the startup path */
    rc = kl_container_run(k->rt, p->sb, &cs.spec, img->config, (const char *const *)img->layer_dirs,
                          img->n_layers, &ctr, &err);
    int64_t t3 = ck_mono_ns(), c3 = kl_thread_cpu_ms();
    kl_cspec_free(&cs);
    kl_image_free(img);
    if (rc < 0) {
        event(k, pod, s, CK_EVENT_WARNING, "Failed", "Error: %s", err.message);
        /* runc could not start the process (a missing command, ...): upstream's runtimes
         * fail that at start, so it reads RunContainerError there */
        set_waiting(s,
                    strstr(err.message, "unable to start container process")
                        ? "RunContainerError"
                        : "CreateContainerError",
                    err.message);
        ck_error_clear(&err);
        return rc;
    }
    event(k, pod, s, CK_EVENT_NORMAL, "Created", "Created container: %s", s->name);
    /* the new run replaces the current one, which becomes lastState */
    if (s->last)
        kl_run_remove(k, s->last);
    s->last = s->cur;
    s->cur = kl_run_new(ctr);
    event(k, pod, s, CK_EVENT_NORMAL, "Started", "Started container %s", s->name);
    ck_vinfo(4,
             "Started container pod=\"%s/%s\" container=\"%s\" image=%lldms config=%lldms "
             "run=%lldms (cpu %lldms)",
             p->ns, p->name, s->name, (long long)((t1 - t0) / 1000000),
             (long long)((t2 - t1) / 1000000), (long long)((t3 - t2) / 1000000),
             (long long)(c3 - c2));
    set_waiting(s, NULL, NULL);
    refresh_run(k, s->cur, c);
    if (!post_start(k, p, pod, s, c))
        return -EIO;
    return 0;
}

/* restarts an exited container unless it is backing off; 0 when started */
static int restart_container(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod,
                             struct kl_slot *s, int64_t *wake)
{
    struct kl_kubelet *k = ps->k;
    CK_AUTOFREE char *key = ck_xasprintf("%s/%s", p->uid, s->name);
    int64_t finished = ts_ns(&s->cur->st.finished_at);
    int64_t now = wall_ns();
    int64_t until = kl_backoff_until_since(ps->crash, key, finished, now);
    if (until) {
        char d[CK_DURATION_BUFSZ];
        ck_duration_format(kl_backoff_get(ps->crash, key), d);
        CK_AUTOFREE char *msg =
            ck_xasprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", d, s->name,
                         p->name, p->ns, p->uid);
        bool first = !s->waiting_reason || strcmp(s->waiting_reason, "CrashLoopBackOff") != 0;
        if (first)
            event(k, pod, s, CK_EVENT_WARNING, "BackOff",
                  "Back-off restarting failed container %s in pod %s_%s(%s)", s->name, p->name,
                  p->ns, p->uid);
        set_waiting(s, "CrashLoopBackOff", msg);
        int64_t dl = until - now;
        if (*wake == 0 || dl < *wake)
            *wake = dl;
        return -EAGAIN;
    }
    kl_backoff_next(ps->crash, key, finished, now);
    return start_container(ps, p, pod, s, s->cur->c->attempt + 1, wake);
}

/* image pulls have their own back-off */
static bool image_reason(const char *r)
{
    return !strcmp(r, "ErrImagePull") || !strcmp(r, "ImagePullBackOff") ||
           !strcmp(r, "InvalidImageName") || !strcmp(r, "ErrImageNeverPull");
}

/* a failed create/start is retried after the crash back-off too */
static int first_start(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod, struct kl_slot *s,
                       int64_t *wake)
{
    CK_AUTOFREE char *key = ck_xasprintf("%s/%s#start", p->uid, s->name);
    int64_t now = wall_ns();
    int64_t until = kl_backoff_until_update(ps->crash, key, now);
    if (until && s->waiting_reason && !image_reason(s->waiting_reason)) {
        int64_t d = until - now;
        if (*wake == 0 || d < *wake)
            *wake = d;
        return -EAGAIN;
    }
    int rc = start_container(ps, p, pod, s, 0, wake);
    if (rc < 0 && rc != -EAGAIN && !(s->waiting_reason && image_reason(s->waiting_reason))) {
        kl_backoff_next(ps->crash, key, now, now);
        int64_t d = kl_backoff_get(ps->crash, key);
        if (*wake == 0 || d < *wake)
            *wake = d;
    } else if (rc == 0) {
        kl_backoff_reset(ps->crash, key);
    }
    return rc;
}

static bool is_sidecar(const cJSON *c)
{
    return !strcmp(ck_json_get_string(c, "restartPolicy", ""), "Always");
}

/* one app (or sidecar) container: start, restart or leave it */
static void sync_one(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod, struct kl_slot *s,
                     const char *policy, int64_t *wake)
{
    struct kl_kubelet *k = ps->k;
    const cJSON *c = kl_slot_spec(pod, s);
    if (!s->cur) {
        (void)first_start(ps, p, pod, s, wake);
        return;
    }
    if (s->cur->st.status == KL_CONTAINER_CREATED) {
        /* created but never started (a crash in between): start over */
        struct kl_run *r = s->cur;
        s->cur = s->last;
        s->last = NULL;
        unsigned attempt = r->c->attempt;
        kl_run_remove(k, r);
        (void)start_container(ps, p, pod, s, attempt, wake);
        return;
    }
    if (s->cur->st.status == KL_CONTAINER_RUNNING) {
        CK_AUTOFREE char *hash = kl_container_hash(c);
        bool changed = strcmp(hash, kl_ctr_annotation(s->cur->c, KL_ANN_HASH)) != 0;
        pthread_mutex_lock(&ps->lock);
        bool live_failed =
            s->probe.liveness_failed && !strcmp(s->probe.container_id, s->cur->c->id);
        char live_msg[256];
        ck_strlcpy(live_msg, s->probe.liveness_message, sizeof(live_msg));
        if (live_failed)
            s->probe.liveness_failed = false;
        pthread_mutex_unlock(&ps->lock);
        if (!changed && !live_failed)
            return;
        int64_t grace = ck_json_get_int64(pod, "spec.terminationGracePeriodSeconds", 30);
        if (changed)
            event(k, pod, s, CK_EVENT_NORMAL, "Killing",
                  "Container %s definition changed, will be restarted", s->name);
        else
            event(k, pod, s, CK_EVENT_NORMAL, "Killing", "%s", live_msg);
        struct stop_job j = {.k = k, .pod = pod, .s = s, .grace = grace};
        stop_one(&j);
        refresh_run(k, s->cur, c);
        if (changed) {
            (void)start_container(ps, p, pod, s, s->cur->c->attempt + 1, wake);
            return;
        }
    }
    if (kl_run_exited(s->cur) && kl_should_restart(policy, s->cur->st.exit_code))
        (void)restart_container(ps, p, pod, s, wake);
    else if (kl_run_exited(s->cur))
        set_waiting(s, NULL, NULL);
}

/* init containers in order, then the app containers */
void kl_sync_containers(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod, int64_t *wake)
{
    const char *policy = ck_json_get_string(pod, "spec.restartPolicy", "Always");
    for (size_t i = 0; i < p->n_slots; i++) {
        struct kl_slot *s = &p->slots[i];
        if (!s->init)
            continue;
        const cJSON *c = kl_slot_spec(pod, s);
        if (is_sidecar(c)) {
            sync_one(ps, p, pod, s, "Always", wake);
            if (!s->cur || s->cur->st.status != KL_CONTAINER_RUNNING)
                return; /* a sidecar must run before the next container starts */
            continue;
        }
        if (kl_run_exited(s->cur) && s->cur->st.exit_code == 0) {
            set_waiting(s, NULL, NULL);
            continue;
        }
        if (kl_run_alive(s->cur))
            return; /* still running */
        if (!s->cur) {
            (void)first_start(ps, p, pod, s, wake);
            return;
        }
        /* failed */
        if (!strcmp(policy, "Never"))
            return; /* the pod fails */
        (void)restart_container(ps, p, pod, s, wake);
        return;
    }
    for (size_t i = 0; i < p->n_slots; i++)
        if (!p->slots[i].init)
            sync_one(ps, p, pod, &p->slots[i], policy, wake);
}

bool kl_pod_any_alive(const struct kl_pod *p)
{
    for (size_t i = 0; i < p->n_slots; i++)
        if (kl_run_alive(p->slots[i].cur))
            return true;
    return false;
}
