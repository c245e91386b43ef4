/* status.c - PodStatus generation (see status.h). */
#include "kubelet/status.h"

#include <string.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "quantity.h"
#include "timeutil.h"

bool kl_should_restart(const char *restart_policy, int exit_code)
{
    if (!restart_policy || !strcmp(restart_policy, "Always") || !restart_policy[0])
        return true;
    if (!strcmp(restart_policy, "OnFailure"))
        return exit_code != 0;
    return false;
}

/* ---- QoS ------------------------------------------------------------------------------------ */

struct qos_sum {
    struct ck_quantity v[2]; /* cpu, memory */
    bool has[2];
};

static void qos_add(struct qos_sum *s, const cJSON *list, bool *found_cpu, bool *found_mem)
{
    static const char *const names[2] = {"cpu", "memory"};
    for (int i = 0; i < 2; i++) {
        const cJSON *q = ck_json_getv(list, names[i], NULL);
        struct ck_quantity v;
        if (!q || ck_quantity_parse_json(q, &v, NULL) < 0 || ck_quantity_sign(&v) <= 0)
            continue;
        if (i == 0 && found_cpu)
            *found_cpu = true;
        if (i == 1 && found_mem)
            *found_mem = true;
        if (!s->has[i]) {
            s->v[i] = v;
            s->has[i] = true;
        } else {
            (void)ck_quantity_add(&s->v[i], &v);
        }
    }
}

const char *kl_pod_qos(const cJSON *spec)
{
    struct qos_sum req = {0}, lim = {0};
    bool guaranteed = true;
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < CK_ARRAY_SIZE(lists); l++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, ck_json_getv(spec, lists[l], NULL))
        {
            qos_add(&req, ck_json_getv(c, "resources", "requests", NULL), NULL, NULL);
            bool cpu = false, mem = false;
            qos_add(&lim, ck_json_getv(c, "resources", "limits", NULL), &cpu, &mem);
            if (!cpu || !mem)
                guaranteed = false;
        }
    }
    int nreq = req.has[0] + req.has[1], nlim = lim.has[0] + lim.has[1];
    if (nreq == 0 && nlim == 0)
        return "BestEffort";
    if (guaranteed)
        for (int i = 0; i < 2; i++)
            if (req.has[i] && (!lim.has[i] || ck_quantity_cmp(&req.v[i], &lim.v[i]) != 0))
                guaranteed = false;
    return guaranteed && nreq == nlim ? "Guaranteed" : "Burstable";
}

/* ---- container statuses --------------------------------------------------------------------- */

static void add_time(cJSON *o, const char *key, const struct timespec *t)
{
    char buf[CK_TIME_BUFSZ];
    if (t->tv_sec <= 0 || ck_time_format(t, buf) < 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    cJSON_AddStringToObject(o, key, buf);
}

static cJSON *terminated_state(const struct kl_ctr_run *r)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddItemToObject(t, "exitCode", ck_json_new_int64(r->st.exit_code));
    const char *reason =
        r->st.reason[0] ? r->st.reason : (r->st.exit_code == 0 ? "Completed" : "Error");
    cJSON_AddStringToObject(t, "reason", reason);
    const char *msg = r->message && r->message[0] ? r->message : r->st.message;
    if (msg && msg[0])
        cJSON_AddStringToObject(t, "message", msg);
    add_time(t, "startedAt", &r->st.started_at);
    add_time(t, "finishedAt", &r->st.finished_at);
    CK_AUTOFREE char *cid = ck_xasprintf(KL_CONTAINER_ID_PREFIX "%s", r->id);
    cJSON_AddStringToObject(t, "containerID", cid);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToObject(s, "terminated", t);
    return s;
}

static cJSON *waiting_state(const char *reason, const char *message)
{
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "reason", reason);
    if (message && message[0])
        cJSON_AddStringToObject(w, "message", message);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToObject(s, "waiting", w);
    return s;
}

static bool run_exited(const struct kl_ctr_run *r)
{
    return r && (r->st.status == KL_CONTAINER_EXITED || r->st.status == KL_CONTAINER_UNKNOWN);
}

/* volumeMounts as the status reports them (1.32: name, mountPath, readOnly,
 * recursiveReadOnly) */
static cJSON *status_mounts(const cJSON *c)
{
    const cJSON *vm = ck_json_getv(c, "volumeMounts", NULL);
    if (cJSON_GetArraySize(vm) == 0)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    const cJSON *m;
    cJSON_ArrayForEach(m, vm)
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", ck_json_get_string(m, "name", ""));
        cJSON_AddStringToObject(o, "mountPath", ck_json_get_string(m, "mountPath", ""));
        bool ro = ck_json_get_bool(m, "readOnly", false);
        if (ro)
            cJSON_AddBoolToObject(o, "readOnly", true);
        if (ro)
            cJSON_AddStringToObject(o, "recursiveReadOnly", "Disabled");
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *container_status(const struct kl_ctr_info *ci, const cJSON *spec_c,
                               const char *default_waiting, bool init)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "name", ci->name);
    const struct kl_ctr_run *cur = ci->cur;
    cJSON *state = NULL, *last = NULL;
    bool running = false;
    if (cur && cur->st.status == KL_CONTAINER_RUNNING) {
        state = cJSON_CreateObject();
        cJSON *r = cJSON_CreateObject();
        add_time(r, "startedAt", &cur->st.started_at);
        cJSON_AddItemToObject(state, "running", r);
        running = true;
    } else if (run_exited(cur)) {
        if (ci->waiting_reason) {
            /* waiting to restart: the run that ended becomes lastState */
            state = waiting_state(ci->waiting_reason, ci->waiting_message);
            last = terminated_state(cur);
        } else {
            state = terminated_state(cur);
        }
    } else {
        state = waiting_state(ci->waiting_reason ? ci->waiting_reason : default_waiting,
                              ci->waiting_reason ? ci->waiting_message : NULL);
    }
    if (!last && run_exited(ci->last))
        last = terminated_state(ci->last);
    cJSON_AddItemToObject(s, "state", state);
    cJSON_AddItemToObject(s, "lastState", last ? last : cJSON_CreateObject());
    /* ready: running (and its probe says so), or an init container that completed */
    bool done = init && run_exited(cur) && cur->st.exit_code == 0 && !ci->waiting_reason;
    cJSON_AddBoolToObject(s, "ready", ci->ready && (running || done));
    cJSON_AddNumberToObject(s, "restartCount", ci->restart_count);
    const char *image = cur && cur->image && cur->image[0] ? cur->image : ci->spec_image;
    cJSON_AddStringToObject(s, "image", image ? image : "");
    cJSON_AddStringToObject(s, "imageID", cur && cur->image_id ? cur->image_id : "");
    if (cur) {
        CK_AUTOFREE char *cid = ck_xasprintf(KL_CONTAINER_ID_PREFIX "%s", cur->id);
        cJSON_AddStringToObject(s, "containerID", cid);
    }
    cJSON_AddBoolToObject(s, "started", running && ci->started);
    cJSON *mounts = cur ? status_mounts(spec_c) : NULL;
    if (mounts)
        cJSON_AddItemToObject(s, "volumeMounts", mounts);
    return s;
}

/* ---- phase ---------------------------------------------------------------------------------- */

static const cJSON *status_by_name(const cJSON *statuses, const char *name)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, statuses)
    {
        if (!strcmp(ck_json_get_string(s, "name", ""), name))
            return s;
    }
    return NULL;
}

static bool any_regular_started(const cJSON *spec, const cJSON *statuses)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_getv(spec, "containers", NULL))
    {
        const cJSON *s = status_by_name(statuses, ck_json_get_string(c, "name", ""));
        if (!s)
            continue;
        if (ck_json_getv(s, "state", "running", NULL) ||
            ck_json_getv(s, "state", "terminated", NULL) ||
            ck_json_getv(s, "lastState", "terminated", NULL))
            return true;
    }
    return false;
}

static bool is_sidecar(const cJSON *c)
{
    return !strcmp(ck_json_get_string(c, "restartPolicy", ""), "Always");
}

const char *kl_pod_phase(const cJSON *spec, const cJSON *init_statuses, const cJSON *statuses,
                         bool terminal)
{
    int pending_init = 0, failed_init = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_getv(spec, "initContainers", NULL))
    {
        const cJSON *s = status_by_name(init_statuses, ck_json_get_string(c, "name", ""));
        if (is_sidecar(c)) {
            if (!s || !ck_json_getv(s, "started", NULL) || !ck_json_get_bool(s, "started", false))
                pending_init++;
            continue;
        }
        if (!s) {
            pending_init++;
        } else if (ck_json_getv(s, "state", "running", NULL)) {
            pending_init++;
        } else if (ck_json_getv(s, "state", "terminated", NULL)) {
            if (ck_json_get_int64(s, "state.terminated.exitCode", 0) != 0)
                failed_init++;
        } else if (ck_json_getv(s, "state", "waiting", NULL)) {
            if (ck_json_getv(s, "lastState", "terminated", NULL)) {
                if (ck_json_get_int64(s, "lastState.terminated.exitCode", 0) != 0)
                    failed_init++;
            } else {
                pending_init++;
            }
        } else {
            pending_init++;
        }
    }
    int unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
    cJSON_ArrayForEach(c, ck_json_getv(spec, "containers", NULL))
    {
        const cJSON *s = status_by_name(statuses, ck_json_get_string(c, "name", ""));
        if (!s) {
            unknown++;
        } else if (ck_json_getv(s, "state", "running", NULL)) {
            running++;
        } else if (ck_json_getv(s, "state", "terminated", NULL)) {
            stopped++;
            if (ck_json_get_int64(s, "state.terminated.exitCode", 0) == 0)
                succeeded++;
        } else if (ck_json_getv(s, "state", "waiting", NULL)) {
            if (ck_json_getv(s, "lastState", "terminated", NULL))
                stopped++;
            else
                waiting++;
        } else {
            unknown++;
        }
    }
    const char *policy = ck_json_get_string(spec, "restartPolicy", "Always");
    if (failed_init > 0 && !strcmp(policy, "Never"))
        return "Failed";
    if ((pending_init > 0 && !any_regular_started(spec, statuses)) || waiting > 0)
        return "Pending";
    if (running > 0 && unknown == 0)
        return "Running";
    if (running == 0 && stopped > 0 && unknown == 0) {
        if (terminal)
            return stopped == succeeded ? "Succeeded" : "Failed";
        if (!strcmp(policy, "Always"))
            return "Running";
        if (stopped == succeeded)
            return "Succeeded";
        if (!strcmp(policy, "Never"))
            return "Failed";
        return "Running";
    }
    return "Pending";
}

/* ---- conditions ----------------------------------------------------------------------------- */

static bool kubelet_condition(const char *type)
{
    static const char *const owned[] = {"PodScheduled", "Ready", "Initialized", "ContainersReady",
                                        "PodReadyToStartContainers"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(owned); i++)
        if (!strcmp(type, owned[i]))
            return true;
    return false;
}

static const cJSON *old_condition(const cJSON *old_status, const char *type)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_getv(old_status, "conditions", NULL))
    {
        if (!strcmp(ck_json_get_string(c, "type", ""), type))
            return c;
    }
    return NULL;
}

static void add_condition(cJSON *conds, const cJSON *old_status, const char *type, bool status,
                          const char *reason, const char *message, const struct timespec *now)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", type);
    const char *st = status ? "True" : "False";
    cJSON_AddStringToObject(c, "status", st);
    cJSON_AddNullToObject(c, "lastProbeTime");
    const cJSON *old = old_condition(old_status, type);
    const char *old_t = ck_json_get_string(old, "lastTransitionTime", "");
    if (old && !strcmp(ck_json_get_string(old, "status", ""), st) && old_t[0]) {
        cJSON_AddStringToObject(c, "lastTransitionTime", old_t);
    } else {
        add_time(c, "lastTransitionTime", now);
    }
    if (reason && reason[0])
        cJSON_AddStringToObject(c, "reason", reason);
    if (message && message[0])
        cJSON_AddStringToObject(c, "message", message);
    cJSON_AddItemToArray(conds, c);
}

/* "[a b c]" as Go prints a []string */
static void go_list(struct ck_buf *b, const char *const *names, size_t n)
{
    ck_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            ck_buf_putc(b, ' ');
        ck_buf_puts(b, names[i]);
    }
    ck_buf_putc(b, ']');
}

struct namelist {
    const char *v[64];
    size_t n;
};

static void nl_add(struct namelist *l, const char *s)
{
    if (l->n < CK_ARRAY_SIZE(l->v))
        l->v[l->n++] = s;
}

static bool init_done(const cJSON *c, const cJSON *s)
{
    if (is_sidecar(c))
        return ck_json_get_bool(s, "started", false);
    return ck_json_getv(s, "state", "terminated", NULL) &&
           ck_json_get_int64(s, "state.terminated.exitCode", -1) == 0;
}

static void initialized_condition(cJSON *conds, const cJSON *spec, const cJSON *init_st,
                                  const cJSON *st, const char *phase, const cJSON *old,
                                  const struct timespec *now)
{
    struct namelist unknown = {0}, incomplete = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_getv(spec, "initContainers", NULL))
    {
        const char *name = ck_json_get_string(c, "name", "");
        const cJSON *s = status_by_name(init_st, name);
        if (!s)
            nl_add(&unknown, name);
        else if (!init_done(c, s))
            nl_add(&incomplete, name);
    }
    if (!strcmp(phase, "Succeeded") && unknown.n == 0) {
        add_condition(conds, old, "Initialized", true, "PodCompleted", NULL, now);
        return;
    }
    if (any_regular_started(spec, st)) {
        add_condition(conds, old, "Initialized", true, NULL, NULL, now);
        return;
    }
    struct ck_buf msg = CK_BUF_INIT;
    if (unknown.n) {
        ck_buf_puts(&msg, "containers with unknown status: ");
        go_list(&msg, unknown.v, unknown.n);
    }
    if (incomplete.n) {
        if (msg.len)
            ck_buf_puts(&msg, ", ");
        ck_buf_puts(&msg, "containers with incomplete status: ");
        go_list(&msg, incomplete.v, incomplete.n);
    }
    if (msg.len)
        add_condition(conds, old, "Initialized", false, "ContainersNotInitialized",
                      ck_buf_str(&msg), now);
    else
        add_condition(conds, old, "Initialized", true, NULL, NULL, now);
    ck_buf_free(&msg);
}

/* ContainersReady (and, from it, Ready): status, reason, message */
static void containers_ready(const cJSON *spec, const cJSON *init_st, const cJSON *st,
                             const char *phase, bool *ready, const char **reason,
                             struct ck_buf *msg)
{
    struct namelist unknown = {0}, unready = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_getv(spec, "initContainers", NULL))
    {
        if (!is_sidecar(c))
            continue;
        const char *name = ck_json_get_string(c, "name", "");
        const cJSON *s = status_by_name(init_st, name);
        if (!s)
            nl_add(&unknown, name);
        else if (!ck_json_get_bool(s, "ready", false))
            nl_add(&unready, name);
    }
    cJSON_ArrayForEach(c, ck_json_getv(spec, "containers", NULL))
    {
        const char *name = ck_json_get_string(c, "name", "");
        const cJSON *s = status_by_name(st, name);
        if (!s)
            nl_add(&unknown, name);
        else if (!ck_json_get_bool(s, "ready", false))
            nl_add(&unready, name);
    }
    *reason = NULL;
    if (!strcmp(phase, "Succeeded") && unknown.n == 0) {
        *ready = false;
        *reason = "PodCompleted";
        return;
    }
    if (!strcmp(phase, "Failed")) {
        *ready = false;
        *reason = "PodFailed";
        return;
    }
    if (unknown.n) {
        ck_buf_puts(msg, "containers with unknown status: ");
        go_list(msg, unknown.v, unknown.n);
    }
    if (unready.n) {
        if (msg->len)
            ck_buf_puts(msg, ", ");
        ck_buf_puts(msg, "containers with unready status: ");
        go_list(msg, unready.v, unready.n);
    }
    if (msg->len) {
        *ready = false;
        *reason = "ContainersNotReady";
        return;
    }
    *ready = true;
}

/* ---- the status ----------------------------------------------------------------------------- */

static cJSON *ip_list(const char *const *ips, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ip", ips[i]);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static const cJSON *spec_container(const cJSON *spec, const char *list, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_getv(spec, list, NULL))
    {
        if (!strcmp(ck_json_get_string(c, "name", ""), name))
            return c;
    }
    return NULL;
}

static bool is_terminal_phase(const char *p)
{
    return p && (!strcmp(p, "Succeeded") || !strcmp(p, "Failed"));
}

cJSON *kl_pod_status_build(const struct kl_pod_info *pi)
{
    const cJSON *spec = ck_json_getv(pi->pod, "spec", NULL);
    const cJSON *old = ck_json_getv(pi->pod, "status", NULL);
    cJSON *st = cJSON_CreateObject();
    bool has_init = cJSON_GetArraySize(ck_json_getv(spec, "initContainers", NULL)) > 0;
    const char *def_wait = has_init ? "PodInitializing" : "ContainerCreating";

    cJSON *init_st = cJSON_CreateArray();
    for (size_t i = 0; i < pi->n_init; i++)
        cJSON_AddItemToArray(
            init_st,
            container_status(&pi->init[i], spec_container(spec, "initContainers", pi->init[i].name),
                             def_wait, true));
    cJSON *ctr_st = cJSON_CreateArray();
    for (size_t i = 0; i < pi->n_ctrs; i++)
        cJSON_AddItemToArray(ctr_st,
                             container_status(&pi->ctrs[i],
                                              spec_container(spec, "containers", pi->ctrs[i].name),
                                              def_wait, false));

    const char *old_phase = ck_json_get_string(old, "phase", "");
    const char *phase = kl_pod_phase(spec, init_st, ctr_st, pi->terminal);
    if (is_terminal_phase(old_phase))
        phase = old_phase; /* a terminal phase never changes back */
    cJSON_AddStringToObject(st, "phase", phase);

    cJSON *conds = cJSON_CreateArray();
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_getv(old, "conditions", NULL))
    {
        if (!kubelet_condition(ck_json_get_string(c, "type", "")))
            cJSON_AddItemToArray(conds, ck_json_dup(c));
    }
    add_condition(conds, old, "PodReadyToStartContainers", pi->sandbox_ready, NULL, NULL, &pi->now);
    initialized_condition(conds, spec, init_st, ctr_st, phase, old, &pi->now);
    bool ready;
    const char *reason;
    struct ck_buf msg = CK_BUF_INIT;
    containers_ready(spec, init_st, ctr_st, phase, &ready, &reason, &msg);
    add_condition(conds, old, "Ready", ready, reason, msg.len ? ck_buf_str(&msg) : NULL, &pi->now);
    add_condition(conds, old, "ContainersReady", ready, reason, msg.len ? ck_buf_str(&msg) : NULL,
                  &pi->now);
    ck_buf_free(&msg);
    add_condition(conds, old, "PodScheduled", true, NULL, NULL, &pi->now);
    cJSON_AddItemToObject(st, "conditions", conds);

    if (pi->host_ip && pi->host_ip[0]) {
        cJSON_AddStringToObject(st, "hostIP", pi->host_ip);
        const char *hip[] = {pi->host_ip};
        cJSON_AddItemToObject(st, "hostIPs", ip_list(hip, 1));
    }
    if (pi->n_pod_ips > 0) {
        cJSON_AddStringToObject(st, "podIP", pi->pod_ips[0]);
        cJSON_AddItemToObject(st, "podIPs", ip_list(pi->pod_ips, pi->n_pod_ips));
    } else if (ck_json_getv(old, "podIP", NULL) && is_terminal_phase(phase)) {
        /* a finished pod keeps the address it had */
        cJSON_AddItemToObject(st, "podIP", ck_json_dup(ck_json_getv(old, "podIP", NULL)));
        const cJSON *ips = ck_json_getv(old, "podIPs", NULL);
        if (ips)
            cJSON_AddItemToObject(st, "podIPs", ck_json_dup(ips));
    }
    const char *start = ck_json_get_string(old, "startTime", "");
    if (start[0])
        cJSON_AddStringToObject(st, "startTime", start);
    else
        add_time(st, "startTime", &pi->now);
    if (has_init)
        cJSON_AddItemToObject(st, "initContainerStatuses", init_st);
    else
        cJSON_Delete(init_st);
    cJSON_AddItemToObject(st, "containerStatuses", ctr_st);
    const char *qos = ck_json_get_string(old, "qosClass", "");
    cJSON_AddStringToObject(st, "qosClass", qos[0] ? qos : kl_pod_qos(spec));
    /* fields others own stay as they are */
    static const char *const keep[] = {"nominatedNodeName", "resize", "resourceClaimStatuses",
                                       "ephemeralContainerStatuses"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(keep); i++) {
        const cJSON *v = ck_json_getv(old, keep[i], NULL);
        if (v)
            cJSON_AddItemToObject(st, keep[i], ck_json_dup(v));
    }
    return st;
}

/* ---- merge patches -------------------------------------------------------------------------- */

static cJSON *object_member(const cJSON *o, const char *key)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, o)
    {
        if (m->string && !strcmp(m->string, key))
            return (cJSON *)m;
    }
    return NULL;
}

cJSON *kl_merge_patch_diff(const cJSON *from, const cJSON *to)
{
    if (!cJSON_IsObject(from) || !cJSON_IsObject(to))
        return ck_json_equal(from, to) ? NULL : (to ? ck_json_dup(to) : cJSON_CreateNull());
    cJSON *patch = cJSON_CreateObject();
    const cJSON *m;
    cJSON_ArrayForEach(m, to)
    {
        const cJSON *o = object_member(from, m->string);
        if (!o) {
            cJSON_AddItemToObject(patch, m->string, ck_json_dup(m));
            continue;
        }
        if (cJSON_IsObject(o) && cJSON_IsObject(m)) {
            cJSON *sub = kl_merge_patch_diff(o, m);
            if (sub)
                cJSON_AddItemToObject(patch, m->string, sub);
        } else if (!ck_json_equal(o, m)) {
            cJSON_AddItemToObject(patch, m->string, ck_json_dup(m));
        }
    }
    cJSON_ArrayForEach(m, from)
    {
        if (!object_member(to, m->string))
            cJSON_AddNullToObject(patch, m->string);
    }
    if (cJSON_GetArraySize(patch) == 0) {
        cJSON_Delete(patch);
        return NULL;
    }
    return patch;
}
