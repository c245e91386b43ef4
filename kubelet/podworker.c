/* podworker.c - the pods bound to this node (see kubelet.h, podworker.h): the pod map fed by
 * the informer, adoption of what the runtime runs after a restart, the worker threads, the
 * status written through the API, and the top of each pod's sync (podsync.c does the runtime
 * side of it).
 *
 * Each sync of a pod (keyed by UID, one worker at a time) reconciles the runtime with the pod
 * as upstream's pod workers + kuberuntime SyncPod do:
 *   1. the pod is gone from the API (or never was: a leftover after a restart): its
 *      containers are stopped, its sandbox, network, cgroup, volumes and logs removed;
 *   2. it has a deletionTimestamp: its containers are stopped gracefully (preStop, the stop
 *      signal, the grace period, SIGKILL), the final status is written, everything is removed
 *      and the pod object is deleted with gracePeriodSeconds=0 (upstream's status manager);
 *   3. it reached Succeeded/Failed: the sandbox stops and the network is released; the
 *      containers stay for their logs until the pod is deleted;
 *   4. otherwise: pod cgroup, sandbox + CNI network, /etc/hosts, volumes; init containers one
 *      at a time in order, then every app container; exited containers restart as the
 *      restartPolicy says, with CrashLoopBackOff; images are pulled as the pull policy says,
 *      with ImagePullBackOff; containers whose image changed are restarted.
 * Then the status is computed (status.c) and written through pods/<name>/status (a merge
 * patch of what changed) when it differs from what was written. Pods with live containers
 * sync every second (the PLEG's relist), others on their events or back-off timers.
 */
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

static const struct ck_gvr PODS = {"", "v1", "pods"};

#define RELIST_NS (1 * CK_SECOND)

/* ---- small helpers ----------------------------------------------------------------------------
 */

static const char *label_of(const struct kl_container *c, const char *key)
{
    return ck_json_as_string(ck_json_getv(c->labels, key, NULL), "");
}

const char *kl_ctr_annotation(const struct kl_container *c, const char *key)
{
    return ck_json_as_string(ck_json_getv(c->annotations, key, NULL), "");
}

static void run_free(struct kl_run *r)
{
    if (!r)
        return;
    kl_container_free(r->c);
    free(r->message);
    free(r);
}

struct kl_run *kl_run_new(struct kl_container *c)
{
    struct kl_run *r = ck_xcalloc(1, sizeof(*r));
    r->c = c;
    r->st.status = KL_CONTAINER_CREATED;
    return r;
}

/* removes a run from the runtime (its log file stays) and frees it */
void kl_run_remove(struct kl_kubelet *k, struct kl_run *r)
{
    if (!r)
        return;
    struct ck_error err = CK_ERROR_INIT;
    if (kl_container_remove(k->rt, r->c, &err) < 0)
        ck_err("RemoveContainer failed containerID=\"%s\" err=\"%s\"", r->c->id, err.message);
    ck_error_clear(&err);
    run_free(r);
}

/* the last `max` bytes of the last lines of a CRI log, as FallbackToLogsOnError reads it */
/* ---- the pod map ------------------------------------------------------------------------------
 */

static struct kl_pods *pods_of(struct kl_kubelet *k)
{
    return k->pods;
}

/* the pod for uid, created when missing (kl_pods.lock held) */
static struct kl_pod *pod_get_or_create(struct kl_pods *ps, const char *uid, const char *ns,
                                        const char *name)
{
    struct kl_pod *p = ck_strmap_get(&ps->map, uid);
    if (p)
        return p;
    p = ck_xcalloc(1, sizeof(*p));
    p->uid = ck_xstrdup(uid);
    p->ns = ck_xstrdup(ns ? ns : "");
    p->name = ck_xstrdup(name ? name : "");
    ck_strmap_put(&ps->map, uid, p);
    return p;
}

static void slots_free(struct kl_pod *p)
{
    for (size_t i = 0; i < p->n_slots; i++) {
        run_free(p->slots[i].cur);
        run_free(p->slots[i].last);
        free(p->slots[i].name);
        free(p->slots[i].waiting_reason);
        free(p->slots[i].waiting_message);
    }
    free(p->slots);
    p->slots = NULL;
    p->n_slots = 0;
}

static void pod_free(struct kl_pod *p)
{
    if (!p)
        return;
    ck_obj_unref(p->obj);
    kl_sandbox_free(p->sb);
    for (size_t i = 0; i < p->n_old_sbs; i++)
        kl_sandbox_free(p->old_sbs[i]);
    free(p->old_sbs);
    free(p->cgroup);
    for (size_t i = 0; i < p->n_ips; i++)
        free(p->ips[i]);
    free(p->ips);
    kl_pod_volumes_free(&p->vols);
    free(p->hosts_file);
    slots_free(p);
    for (size_t i = 0; i < p->n_adopted; i++)
        run_free(p->adopted[i]);
    free(p->adopted);
    cJSON_Delete(p->reported);
    free(p->uid);
    free(p->ns);
    free(p->name);
    free(p);
}

void kl_pods_enqueue(struct kl_kubelet *k, const char *uid)
{
    struct kl_pods *ps = pods_of(k);
    if (ps && ps->q)
        ck_workqueue_add(ps->q, uid);
}

size_t kl_pods_count(struct kl_kubelet *k)
{
    struct kl_pods *ps = pods_of(k);
    if (!ps)
        return 0;
    pthread_mutex_lock(&ps->lock);
    size_t n = ps->map.len;
    pthread_mutex_unlock(&ps->lock);
    return n;
}

struct image_collect {
    char **v;
    size_t n;
};

static void collect_images(const char *key, void *value, void *ctx)
{
    (void)key;
    struct kl_pod *p = value;
    struct image_collect *c = ctx;
    if (!p->obj)
        return;
    static const char *const lists[] = {"spec.containers", "spec.initContainers"};
    for (size_t l = 0; l < 2; l++) {
        const cJSON *ct;
        cJSON_ArrayForEach(ct, ck_json_get(p->obj->json, lists[l]))
        {
            c->v = ck_xrealloc(c->v, (c->n + 2) * sizeof(*c->v));
            c->v[c->n++] = ck_xstrdup(ck_json_get_string(ct, "image", ""));
            c->v[c->n] = NULL;
        }
    }
}

char **kl_pods_images_in_use(struct kl_kubelet *k)
{
    struct kl_pods *ps = pods_of(k);
    struct image_collect c = {0};
    c.v = ck_xcalloc(1, sizeof(char *));
    if (!ps)
        return c.v;
    pthread_mutex_lock(&ps->lock);
    ck_strmap_each(&ps->map, collect_images, &c);
    pthread_mutex_unlock(&ps->lock);
    return c.v;
}

/* ---- informer handlers -------------------------------------------------------------------------
 */

/* a UID, namespace or name that is safe in a path ("u-1", "default", "web-0") */
static bool path_safe(const char *s)
{
    if (!s[0] || strlen(s) > 253 || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '.' || *c == '_'))
            return false;
    return true;
}

static void on_pod(void *ctx, const struct ck_obj *obj)
{
    struct kl_kubelet *k = ctx;
    struct kl_pods *ps = k->pods;
    const char *uid = ck_json_get_string(obj->json, "metadata.uid", "");
    if (!path_safe(uid) || !path_safe(ck_json_get_string(obj->json, "metadata.namespace", "")) ||
        !path_safe(ck_json_get_string(obj->json, "metadata.name", ""))) {
        ck_warn("Ignoring pod with an unusable uid, namespace or name pod=\"%s\"", obj->key);
        return;
    }
    pthread_mutex_lock(&ps->lock);
    struct kl_pod *p =
        pod_get_or_create(ps, uid, ck_json_get_string(obj->json, "metadata.namespace", ""),
                          ck_json_get_string(obj->json, "metadata.name", ""));
    ck_obj_unref(p->obj);
    p->obj = ck_obj_ref(obj);
    pthread_mutex_unlock(&ps->lock);
    ck_workqueue_add(ps->q, uid);
}

static void on_add(void *ctx, const struct ck_obj *obj, bool initial)
{
    (void)initial;
    on_pod(ctx, obj);
}

static void on_update(void *ctx, const struct ck_obj *old, const struct ck_obj *cur)
{
    (void)old;
    on_pod(ctx, cur);
}

static void on_delete(void *ctx, const struct ck_obj *obj, bool unknown)
{
    (void)unknown;
    struct kl_kubelet *k = ctx;
    struct kl_pods *ps = k->pods;
    const char *uid = ck_json_get_string(obj->json, "metadata.uid", "");
    if (!uid[0])
        return;
    pthread_mutex_lock(&ps->lock);
    struct kl_pod *p = ck_strmap_get(&ps->map, uid);
    if (p) {
        p->api_gone = true;
        ck_obj_unref(p->obj);
        p->obj = ck_obj_ref(obj);
    }
    pthread_mutex_unlock(&ps->lock);
    if (p)
        ck_workqueue_add(ps->q, uid);
}

/* ---- adoption after a restart ------------------------------------------------------------------
 */

static void adopt_runtime(struct kl_pods *ps)
{
    struct kl_kubelet *k = ps->k;
    struct kl_sandbox **sbs = NULL;
    size_t nsb = 0;
    if (kl_sandbox_list(k->rt, &sbs, &nsb) == 0) {
        for (size_t i = 0; i < nsb; i++) {
            struct kl_sandbox *sb = sbs[i];
            struct kl_pod *p = pod_get_or_create(ps, sb->pod_uid, sb->pod_namespace, sb->pod_name);
            if (!p->sb && sb->ready) {
                p->sb = sb;
            } else {
                p->old_sbs = ck_xrealloc(p->old_sbs, (p->n_old_sbs + 1) * sizeof(*p->old_sbs));
                p->old_sbs[p->n_old_sbs++] = sb;
            }
        }
        free(sbs);
    }
    struct kl_container **cs = NULL;
    size_t nc = 0;
    if (kl_container_list(k->rt, &cs, &nc) == 0) {
        for (size_t i = 0; i < nc; i++) {
            const char *uid = label_of(cs[i], KL_LABEL_POD_UID);
            if (!uid[0]) {
                /* not ours to interpret: a container without pod labels is removed */
                struct kl_run *r = kl_run_new(cs[i]);
                kl_run_remove(k, r);
                continue;
            }
            struct kl_pod *p = pod_get_or_create(ps, uid, label_of(cs[i], KL_LABEL_POD_NAMESPACE),
                                                 label_of(cs[i], KL_LABEL_POD_NAME));
            p->adopted = ck_xrealloc(p->adopted, (p->n_adopted + 1) * sizeof(*p->adopted));
            p->adopted[p->n_adopted++] = kl_run_new(cs[i]);
        }
        free(cs);
    }
    ck_info("Adopted %zu pods from the runtime", ps->map.len);
}

/* places adopted runs into the spec's slots (newest = cur, the one before = last) */
static void place_adopted(struct kl_kubelet *k, struct kl_pod *p)
{
    for (size_t i = 0; i < p->n_adopted; i++) {
        struct kl_run *r = p->adopted[i];
        struct kl_slot *s = NULL;
        for (size_t j = 0; j < p->n_slots && !s; j++)
            if (!strcmp(p->slots[j].name, label_of(r->c, KL_LABEL_CONTAINER_NAME)))
                s = &p->slots[j];
        if (!s) {
            kl_run_remove(k, r);
            continue;
        }
        if (!s->cur || r->c->attempt > s->cur->c->attempt) {
            if (s->last)
                kl_run_remove(k, s->last);
            s->last = s->cur;
            s->cur = r;
        } else if (!s->last || r->c->attempt > s->last->c->attempt) {
            kl_run_remove(k, s->last);
            s->last = r;
        } else {
            kl_run_remove(k, r);
        }
    }
    free(p->adopted);
    p->adopted = NULL;
    p->n_adopted = 0;
}

static void init_slots(struct kl_kubelet *k, struct kl_pod *p, const cJSON *pod)
{
    size_t ni = (size_t)cJSON_GetArraySize(ck_json_get(pod, "spec.initContainers"));
    size_t nc = (size_t)cJSON_GetArraySize(ck_json_get(pod, "spec.containers"));
    p->slots = ck_xcalloc(ni + nc + 1, sizeof(*p->slots));
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_get(pod, "spec.initContainers"))
    {
        p->slots[p->n_slots].name = ck_xstrdup(ck_json_get_string(c, "name", ""));
        p->slots[p->n_slots++].init = true;
    }
    cJSON_ArrayForEach(c, ck_json_get(pod, "spec.containers"))
    {
        p->slots[p->n_slots++].name = ck_xstrdup(ck_json_get_string(c, "name", ""));
    }
    place_adopted(k, p);
}

const cJSON *kl_slot_spec(const cJSON *pod, const struct kl_slot *s)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_get(pod, s->init ? "spec.initContainers" : "spec.containers"))
    {
        if (!strcmp(ck_json_get_string(c, "name", ""), s->name))
            return c;
    }
    return NULL;
}

/* ---- the status --------------------------------------------------------------------------------
 */

static void run_view(const struct kl_run *r, struct kl_ctr_run *v)
{
    memset(v, 0, sizeof(*v));
    v->id = r->c->id;
    v->image = r->c->image;
    v->image_id = kl_ctr_annotation(r->c, KL_ANN_IMAGE_ID);
    v->st = r->st;
    v->message = r->message;
}

static bool has_probe(const cJSON *c, const char *which)
{
    return ck_json_getv(c, which, NULL) != NULL;
}

static cJSON *build_status(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod, bool terminal)
{
    struct kl_kubelet *k = ps->k;
    size_t n = p->n_slots;
    struct kl_ctr_info *infos = ck_xcalloc(n + 1, sizeof(*infos));
    struct kl_ctr_run *runs = ck_xcalloc(2 * n + 1, sizeof(*runs));
    size_t ni = 0;
    pthread_mutex_lock(&ps->lock);
    for (size_t i = 0; i < n; i++) {
        struct kl_slot *s = &p->slots[i];
        struct kl_ctr_info *ci = &infos[i];
        const cJSON *sc = kl_slot_spec(pod, s);
        ci->name = s->name;
        ci->spec_image = ck_json_get_string(sc, "image", "");
        if (s->cur) {
            run_view(s->cur, &runs[2 * i]);
            ci->cur = &runs[2 * i];
            ci->restart_count = s->cur->c->attempt;
        }
        if (s->last) {
            run_view(s->last, &runs[2 * i + 1]);
            ci->last = &runs[2 * i + 1];
        }
        ci->waiting_reason = s->waiting_reason;
        ci->waiting_message = s->waiting_message;
        bool running = s->cur && s->cur->st.status == KL_CONTAINER_RUNNING;
        bool id_ok = running && !strcmp(s->probe.container_id, s->cur->c->id);
        ci->started = running && (!has_probe(sc, "startupProbe") || (id_ok && s->probe.started));
        ci->ready = ci->started && (!has_probe(sc, "readinessProbe") || (id_ok && s->probe.ready));
        /* an init container is ready once it completed successfully */
        if (s->init && strcmp(ck_json_get_string(sc, "restartPolicy", ""), "Always") != 0)
            ci->ready = kl_run_exited(s->cur) && s->cur->st.exit_code == 0;
        if (s->init)
            ni++;
    }
    pthread_mutex_unlock(&ps->lock);
    const char *ips[8];
    size_t nips = 0;
    for (size_t i = 0; i < p->n_ips && nips < 8; i++)
        ips[nips++] = p->ips[i];
    /* the status written last is what transition times and startTime build on */
    cJSON *view = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(view, "spec", ck_json_get(pod, "spec"));
    const cJSON *old = p->reported ? p->reported : ck_json_get(pod, "status");
    if (old)
        cJSON_AddItemReferenceToObject(view, "status", (cJSON *)old);
    struct kl_pod_info pi = {
        .pod = view,
        .init = infos,
        .n_init = ni,
        .ctrs = infos + ni,
        .n_ctrs = n - ni,
        .sandbox_ready = p->sandbox_ready,
        .pod_ips = ips,
        .n_pod_ips = nips,
        .host_ip = k->cfg->node_ip,
        .terminal = terminal,
    };
    ck_time_now(&pi.now);
    cJSON *st = kl_pod_status_build(&pi);
    cJSON_Delete(view);
    free(infos);
    free(runs);
    return st;
}

/* writes status when it differs from what the API has and from what we wrote last; -EAGAIN
 * when writing failed (the caller syncs again later) */
static int write_status(struct kl_pods *ps, struct kl_pod *p, const cJSON *pod, cJSON *st)
{
    struct kl_kubelet *k = ps->k;
    if (p->reported && ck_json_equal(p->reported, st)) {
        cJSON_Delete(st);
        return 0;
    }
    cJSON *diff = kl_merge_patch_diff(ck_json_get(pod, "status"), st);
    if (!diff) {
        cJSON_Delete(p->reported);
        p->reported = st;
        return 0;
    }
    cJSON *patch = cJSON_CreateObject();
    cJSON *md = cJSON_AddObjectToObject(patch, "metadata");
    cJSON_AddStringToObject(md, "uid", p->uid);
    cJSON_AddItemToObject(patch, "status", diff);
    CK_AUTOFREE char *txt = ck_json_print(patch, 0);
    cJSON_Delete(patch);
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_patch(k->client, &PODS, p->ns, p->name, "status", CK_PATCH_MERGE, txt, NULL,
                             NULL, &err);
    if (rc < 0) {
        if (rc != -ENOENT)
            ck_err("Failed to update status for pod pod=\"%s/%s\" err=\"%s\"", p->ns, p->name,
                   err.message);
        ck_error_clear(&err);
        cJSON_Delete(st);
        return rc == -ENOENT ? 0 : -EAGAIN;
    }
    ck_vinfo(3, "Patch status for pod pod=\"%s/%s\" podUID=\"%s\" phase=\"%s\"", p->ns, p->name,
             p->uid, ck_json_get_string(st, "phase", ""));
    cJSON_Delete(p->reported);
    p->reported = st;
    return 0;
}

/* ---- the sync
 * ------------------------------------------------------------------------------------ */

static bool terminal_phase(const char *phase)
{
    return phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
}

static int64_t grace_of(const cJSON *pod)
{
    const cJSON *d = ck_json_get(pod, "metadata.deletionGracePeriodSeconds");
    int64_t g = cJSON_IsNumber(d)
                    ? ck_json_as_int64(d, 30)
                    : ck_json_get_int64(pod, "spec.terminationGracePeriodSeconds", 30);
    return g < 0 ? 0 : g;
}

static void send_delete(struct kl_pods *ps, struct kl_pod *p)
{
    struct ck_delete_opts o = {
        .has_grace_period = true,
        .grace_period_seconds = 0,
        .precondition_uid = p->uid,
    };
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_delete(ps->k->client, &PODS, p->ns, p->name, &o, NULL, &err);
    if (rc == 0 || rc == -ENOENT || err.code == 409) {
        p->delete_sent = true;
        ck_vinfo(2, "Pod fully terminated and removed from etcd pod=\"%s/%s\"", p->ns, p->name);
    } else {
        ck_err("Failed to delete status for pod pod=\"%s/%s\" err=\"%s\"", p->ns, p->name,
               err.message);
    }
    ck_error_clear(&err);
}

/* returns the delay before the next sync (ns), or -1 for none, or -2 when the pod is gone */
static int64_t sync_pod(struct kl_pods *ps, struct kl_pod *p)
{
    struct kl_kubelet *k = ps->k;
    pthread_mutex_lock(&ps->lock);
    struct ck_obj *obj = ck_obj_ref(p->obj);
    bool gone = p->api_gone;
    pthread_mutex_unlock(&ps->lock);
    const cJSON *pod = obj ? obj->json : NULL;
    if (pod && !p->slots)
        init_slots(k, p, pod);
    kl_refresh_runs(k, p, pod);
    if (!pod || gone) {
        if (!p->cleaned) {
            ck_info("Cleaning up pod pod=\"%s/%s\" podUID=\"%s\"", p->ns, p->name, p->uid);
            kl_kill_pod(k, p, pod, pod ? grace_of(pod) : MIN_GRACE_SECONDS);
            kl_cleanup_pod(k, p);
        }
        ck_obj_unref(obj);
        return -2;
    }
    int64_t wake = 0;
    if (ck_json_get(pod, "metadata.deletionTimestamp")) {
        if (!p->terminated || kl_pod_any_alive(p)) {
            ck_info("Killing pod pod=\"%s/%s\" gracePeriod=%" PRId64, p->ns, p->name,
                    grace_of(pod));
            kl_kill_pod(k, p, pod, grace_of(pod));
        }
        cJSON *st = build_status(ps, p, pod, true);
        (void)write_status(ps, p, pod, st);
        kl_cleanup_pod(k, p);
        if (!p->delete_sent)
            send_delete(ps, p);
        ck_obj_unref(obj);
        return p->delete_sent ? -1 : 2 * CK_SECOND;
    }
    const char *old_phase =
        ck_json_get_string(p->reported ? p->reported : ck_json_get(pod, "status"), "phase", "");
    if (terminal_phase(old_phase)) {
        if (!p->terminated || kl_pod_any_alive(p))
            kl_kill_pod(k, p, pod, grace_of(pod));
        cJSON *st = build_status(ps, p, pod, true);
        int wrc = write_status(ps, p, pod, st);
        ck_obj_unref(obj);
        return wrc < 0 ? 2 * CK_SECOND : -1;
    }
    /* volumes first, as upstream waits for them before it makes the sandbox */
    if (kl_ensure_volumes(ps, p, pod) == 0 && kl_ensure_sandbox(ps, p, pod) == 0) {
        kl_sync_containers(ps, p, pod, &wake);
    } else {
        wake = 2 * CK_SECOND;
    }
    cJSON *st = build_status(ps, p, pod, false);
    if (terminal_phase(ck_json_get_string(st, "phase", ""))) {
        /* done: nothing will run again */
        cJSON_Delete(st);
        kl_kill_pod(k, p, pod, grace_of(pod));
        st = build_status(ps, p, pod, true);
        int wrc = write_status(ps, p, pod, st);
        ck_obj_unref(obj);
        return wrc < 0 ? 2 * CK_SECOND : -1;
    }
    if (write_status(ps, p, pod, st) < 0 && (wake == 0 || wake > 2 * CK_SECOND))
        wake = 2 * CK_SECOND;
    kl_prober_sync_pod(k, p, pod);
    ck_obj_unref(obj);
    if (kl_pod_any_alive(p) && (wake == 0 || wake > RELIST_NS))
        wake = RELIST_NS;
    if (wake <= 0)
        wake = k->cfg->sync_frequency;
    return wake;
}

static void *worker(void *arg)
{
    struct kl_pods *ps = arg;
    char *uid = NULL;
    while (ck_workqueue_get(ps->q, &uid) == 0) {
        pthread_mutex_lock(&ps->lock);
        struct kl_pod *p = ck_strmap_get(&ps->map, uid);
        pthread_mutex_unlock(&ps->lock);
        int64_t next = -1;
        int64_t t0 = ck_mono_ns(), c0 = kl_thread_cpu_ms();
        if (p && !ck_cancel_fired(ps->k->stop))
            next = sync_pod(ps, p);
        int64_t took = (ck_mono_ns() - t0) / 1000000;
        if (p && took >= 50)
            ck_vinfo(4, "SyncPod pod=\"%s/%s\" took %lld ms (cpu %lld ms)", p->ns, p->name,
                     (long long)took, (long long)(kl_thread_cpu_ms() - c0));
        if (next == -2) {
            pthread_mutex_lock(&ps->lock);
            /* a pod deleted from the API goes; an informer event may have revived it */
            bool drop = p->api_gone || !p->obj;
            if (drop)
                ck_strmap_remove(&ps->map, uid);
            pthread_mutex_unlock(&ps->lock);
            if (drop) {
                kl_prober_forget_pod(ps->k, uid);
                kl_backoff_reset_prefix(ps->crash, uid);
                kl_backoff_reset_prefix(ps->pull, uid);
                pod_free(p);
            }
        } else if (next > 0) {
            ck_workqueue_add_after(ps->q, uid, next);
        }
        ck_workqueue_done(ps->q, uid);
        free(uid);
        uid = NULL;
    }
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------------------
 */

static void enqueue_all(const char *key, void *value, void *ctx)
{
    (void)value;
    ck_workqueue_add(ctx, key);
}

static void mark_orphans(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)ctx;
    struct kl_pod *p = value;
    if (!p->obj)
        p->api_gone = true;
}

int kl_pods_start(struct kl_kubelet *k)
{
    struct kl_pods *ps = ck_xcalloc(1, sizeof(*ps));
    ps->k = k;
    pthread_mutex_init(&ps->lock, NULL);
    struct ck_workqueue_opts qo = {
        .name = "kubelet_pod_worker",
        .limiter = ck_rate_limiter_exponential(5 * 1000 * 1000, 10 * CK_SECOND)};
    ps->q = ck_workqueue_new(&qo);
    ps->crash = kl_backoff_new(10 * CK_SECOND, 300 * CK_SECOND);
    ps->pull = kl_backoff_new(10 * CK_SECOND, 300 * CK_SECOND);
    k->pods = ps;
    int removed = kl_runtime_cleanup_incomplete(k->rt);
    if (removed > 0)
        ck_info("Removed %d incomplete containers and sandboxes", removed);
    pthread_mutex_lock(&ps->lock);
    adopt_runtime(ps);
    pthread_mutex_unlock(&ps->lock);

    struct ck_event_handler h = {
        .on_add = on_add, .on_update = on_update, .on_delete = on_delete, .ctx = k};
    ck_informer_add_handler(k->pod_informer, &h, -1);
    int rc = ck_informer_start(k->pod_informer);
    if (rc < 0 && rc != -EALREADY)
        return rc;
    rc = ck_informer_wait_for_sync(k->pod_informer, k->stop, -1);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&ps->lock);
    ck_strmap_each(&ps->map, mark_orphans, NULL);
    ck_strmap_each(&ps->map, enqueue_all, ps->q);
    pthread_mutex_unlock(&ps->lock);
    ps->n_workers = k->cfg->workers > 0 ? k->cfg->workers : 8;
    ps->workers = ck_xcalloc((size_t)ps->n_workers, sizeof(pthread_t));
    for (int i = 0; i < ps->n_workers; i++)
        if (pthread_create(&ps->workers[i], NULL, worker, ps) != 0)
            return -EAGAIN;
    ps->started = true;
    return 0;
}

static void free_pod_value(void *v)
{
    pod_free(v);
}

void kl_pods_stop(struct kl_kubelet *k)
{
    struct kl_pods *ps = k->pods;
    if (!ps)
        return;
    ck_informer_stop(k->pod_informer);
    ck_workqueue_shutdown(ps->q);
    if (ps->started)
        for (int i = 0; i < ps->n_workers; i++)
            pthread_join(ps->workers[i], NULL);
    free(ps->workers);
    ck_workqueue_free(ps->q);
    ck_strmap_free(&ps->map, free_pod_value);
    kl_backoff_free(ps->crash);
    kl_backoff_free(ps->pull);
    pthread_mutex_destroy(&ps->lock);
    free(ps);
    k->pods = NULL;
}
