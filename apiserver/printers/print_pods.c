/* print_pods.c - the Pod and PodTemplate printers: upstream's printPod (READY, the STATUS reason
 * with its init-container, sidecar, terminating and node-lost rules, RESTARTS with the
 * "(5m ago)" suffix, the wide IP/NODE/NOMINATED NODE/READINESS GATES cells, the Completed row
 * condition) and printPodTemplate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "printers_internal.h"

static const struct printer_column POD_COLUMNS[] = {
    COL_NAME,
    COL("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    COL("Status", "string", "The aggregate status of the containers in this pod."),
    COL("Restarts", "string",
        "The number of times the containers in this pod have been restarted and when the last "
        "container in this pod has restarted."),
    COL_AGE,
    COL_WIDE("IP", "string",
             "podIP address allocated to the pod. Routable at least within the cluster. Empty "
             "if not yet allocated."),
    COL_WIDE("Node", "string",
             "NodeName indicates in which node this pod is scheduled. If empty, this pod is a "
             "candidate for scheduling by the scheduler defined in schedulerName."),
    COL_WIDE("Nominated Node", "string",
             "nominatedNodeName is set only when this pod preempts other pods on the node, but "
             "it cannot be scheduled right away as preemption victims receive their graceful "
             "termination periods."),
    COL_WIDE("Readiness Gates", "string",
             "If specified, all readiness gates will be evaluated for pod readiness. A pod is "
             "ready when all its containers are ready AND all conditions specified in the "
             "readiness gates have status equal to \"True\""),
    COL_END,
};

/* What the status walk has found so far. */
struct pod_state {
    const char *reason; /* borrowed from the object, a literal, or `owned` */
    char *owned;        /* a reason we formatted */
    int64_t restarts;
    int64_t ready;
    struct timespec last_restart; /* meaningful once last_restart_set */
    bool last_restart_set;
};

static void set_reason_take(struct pod_state *st, char *s)
{
    free(st->owned);
    st->owned = s;
    st->reason = s;
}

/* metav1.Time.Before on the recorded last restart: keeps the later finishedAt. */
static void note_termination(struct timespec *last, bool *set, const cJSON *status)
{
    const cJSON *term = ck_json_get(status, "lastState.terminated");
    struct timespec t;
    if (!term || cJSON_IsNull(term) || !pt_parse(pj_str(term, "finishedAt"), &t))
        return; /* a zero finishedAt is never after anything */
    if (!*set || ck_time_sub_ns(&t, last) > 0) {
        *last = t;
        *set = true;
    }
}

/* podutil.IsRestartableInitContainer: a sidecar (restartPolicy Always). */
static bool restartable(const cJSON *spec_container)
{
    return spec_container && !strcmp(pj_str(spec_container, "restartPolicy"), "Always");
}

/* The init container of the spec with this name (the last one, as a Go map keeps). */
static const cJSON *init_spec(const cJSON *pod, const char *name)
{
    const cJSON *found = NULL, *c;
    const cJSON *arr = pj_array(pod, "spec.initContainers");
    if (arr) {
        cJSON_ArrayForEach(c, arr)
        {
            if (!strcmp(pj_str(c, "name"), name))
                found = c;
        }
    }
    return found;
}

static bool has_condition(const cJSON *pod, const char *type, const char *status)
{
    const cJSON *c, *arr = pj_array(pod, "status.conditions");
    if (arr) {
        cJSON_ArrayForEach(c, arr)
        {
            if (!strcmp(pj_str(c, "type"), type))
                return !strcmp(pj_str(c, "status"), status);
        }
    }
    return false;
}

/* hasPodReadyCondition: any Ready condition that is True. */
static bool any_ready_condition(const cJSON *pod)
{
    const cJSON *c, *arr = pj_array(pod, "status.conditions");
    if (arr) {
        cJSON_ArrayForEach(c, arr)
        {
            if (!strcmp(pj_str(c, "type"), "Ready") && !strcmp(pj_str(c, "status"), "True"))
                return true;
        }
    }
    return false;
}

/* The STATUS of a failed init container, or of one still waiting or running. */
static char *init_reason(const cJSON *c, int index, int64_t n_init)
{
    if (pj_set(c, "state.terminated")) {
        const char *r = pj_str(c, "state.terminated.reason");
        int64_t sig = pj_int(c, "state.terminated.signal");
        if (*r)
            return ck_xasprintf("Init:%s", r);
        if (sig)
            return ck_xasprintf("Init:Signal:%lld", (long long)sig);
        return ck_xasprintf("Init:ExitCode:%lld",
                            (long long)pj_int(c, "state.terminated.exitCode"));
    }
    const char *waiting = pj_str(c, "state.waiting.reason");
    if (pj_set(c, "state.waiting") && *waiting && strcmp(waiting, "PodInitializing"))
        return ck_xasprintf("Init:%s", waiting);
    return ck_xasprintf("Init:%d/%lld", index, (long long)n_init);
}

/* Walks the init container statuses, in order, until one has not finished; returns true
 * when such a one was found (the pod is still initializing). Sidecars that have started
 * count as finished (and ready when ready). */
static bool walk_init_containers(const cJSON *pod, struct pod_state *st, int64_t *sidecar_restarts,
                                 struct timespec *sidecar_last, bool *sidecar_last_set)
{
    const cJSON *arr = pj_array(pod, "status.initContainerStatuses");
    int n = arr ? cJSON_GetArraySize(arr) : 0;
    for (int i = 0; i < n; i++) {
        const cJSON *c = cJSON_GetArrayItem(arr, i);
        const cJSON *spec = init_spec(pod, pj_str(c, "name"));
        int64_t rc = pj_int(c, "restartCount");
        st->restarts += rc;
        note_termination(&st->last_restart, &st->last_restart_set, c);
        if (restartable(spec)) {
            *sidecar_restarts += rc;
            note_termination(sidecar_last, sidecar_last_set, c);
        }
        if (pj_set(c, "state.terminated") && pj_int(c, "state.terminated.exitCode") == 0)
            continue;
        if (restartable(spec) && pj_bool(c, "started", false)) {
            if (pj_bool(c, "ready", false))
                st->ready++;
            continue;
        }
        set_reason_take(st, init_reason(c, i, pj_count(pod, "spec.initContainers")));
        return true;
    }
    return false;
}

/* Walks the app container statuses from the last to the first, as upstream. */
static void walk_containers(const cJSON *pod, struct pod_state *st)
{
    const cJSON *arr = pj_array(pod, "status.containerStatuses");
    bool has_running = false;
    for (int i = arr ? cJSON_GetArraySize(arr) - 1 : -1; i >= 0; i--) {
        const cJSON *c = cJSON_GetArrayItem(arr, i);
        st->restarts += pj_int(c, "restartCount");
        note_termination(&st->last_restart, &st->last_restart_set, c);
        const char *waiting = pj_str(c, "state.waiting.reason");
        const char *term = pj_str(c, "state.terminated.reason");
        if (pj_set(c, "state.waiting") && *waiting) {
            st->reason = waiting;
        } else if (pj_set(c, "state.terminated") && *term) {
            st->reason = term;
        } else if (pj_set(c, "state.terminated")) {
            int64_t sig = pj_int(c, "state.terminated.signal");
            if (sig)
                set_reason_take(st, ck_xasprintf("Signal:%lld", (long long)sig));
            else
                set_reason_take(st,
                                ck_xasprintf("ExitCode:%lld",
                                             (long long)pj_int(c, "state.terminated.exitCode")));
        } else if (pj_bool(c, "ready", false) && pj_set(c, "state.running")) {
            has_running = true;
            st->ready++;
        }
    }
    /* a pod whose last container completed but another still runs is not "Completed" */
    if (st->reason && !strcmp(st->reason, "Completed") && has_running)
        st->reason = any_ready_condition(pod) ? "Running" : "NotReady";
}

static cJSON *completed_condition(const char *reason, const char *message)
{
    cJSON *arr = cJSON_CreateArray(), *c = cJSON_CreateObject();
    if (!arr || !c)
        abort();
    cJSON_AddStringToObject(c, "type", "Completed");
    cJSON_AddStringToObject(c, "status", "True");
    cJSON_AddStringToObject(c, "reason", reason);
    cJSON_AddStringToObject(c, "message", message);
    cJSON_AddItemToArray(arr, c);
    return arr;
}

static int64_t total_containers(const cJSON *pod)
{
    int64_t total = pj_count(pod, "spec.containers");
    const cJSON *c, *arr = pj_array(pod, "spec.initContainers");
    if (arr) {
        cJSON_ArrayForEach(c, arr)
        {
            if (restartable(c))
                total++;
        }
    }
    return total;
}

/* The first pod IP as the internal object holds it (status.podIP wins over podIPs, as the
 * v1 conversion does), "<none>" when there is none. */
static const char *pod_ip(const cJSON *pod)
{
    const char *ip = pj_str(pod, "status.podIP");
    if (!*ip)
        ip = pj_str(pod, "status.podIPs.0.ip");
    return *ip ? ip : "<none>";
}

static void cell_readiness_gates(struct prow *row, const cJSON *pod)
{
    const cJSON *gates = pj_array(pod, "spec.readinessGates"), *g, *c;
    const cJSON *conds = pj_array(pod, "status.conditions");
    int64_t n = 0, true_conditions = 0;
    if (!gates || !cJSON_GetArraySize(gates)) {
        cell_str(row, "<none>");
        return;
    }
    cJSON_ArrayForEach(g, gates)
    {
        n++;
        if (!conds)
            continue;
        cJSON_ArrayForEach(c, conds)
        {
            if (!strcmp(pj_str(c, "type"), pj_str(g, "conditionType"))) {
                if (!strcmp(pj_str(c, "status"), "True"))
                    true_conditions++;
                break;
            }
        }
    }
    cell_fmt(row, "%lld/%lld", (long long)true_conditions, (long long)n);
}

static void print_pod(struct prow *row, const cJSON *pod)
{
    struct pod_state st = {0};
    const char *phase = pj_str(pod, "status.phase");
    const char *status_reason = pj_str(pod, "status.reason");
    st.reason = *status_reason ? status_reason : phase;

    const cJSON *c, *conds = pj_array(pod, "status.conditions");
    if (conds) {
        cJSON_ArrayForEach(c, conds)
        {
            if (!strcmp(pj_str(c, "type"), "PodScheduled") &&
                !strcmp(pj_str(c, "reason"), "SchedulingGated"))
                st.reason = "SchedulingGated";
        }
    }
    if (!strcmp(phase, "Succeeded"))
        row->conditions = completed_condition("Succeeded", "The pod has completed successfully.");
    else if (!strcmp(phase, "Failed"))
        row->conditions = completed_condition("Failed", "The pod failed.");

    int64_t sidecar_restarts = 0;
    struct timespec sidecar_last = {0};
    bool sidecar_last_set = false;
    bool initializing =
        walk_init_containers(pod, &st, &sidecar_restarts, &sidecar_last, &sidecar_last_set);
    if (!initializing || has_condition(pod, "Initialized", "True")) {
        st.restarts = sidecar_restarts;
        st.last_restart = sidecar_last;
        st.last_restart_set = sidecar_last_set;
        walk_containers(pod, &st);
    }

    bool deleting = pj_set(pod, "metadata.deletionTimestamp");
    bool terminal = !strcmp(phase, "Failed") || !strcmp(phase, "Succeeded");
    if (deleting && !strcmp(status_reason, "NodeLost"))
        st.reason = "Unknown";
    else if (deleting && !terminal)
        st.reason = "Terminating";

    cell_name(row, pod);
    cell_fmt(row, "%lld/%lld", (long long)st.ready, (long long)total_containers(pod));
    cell_str(row, st.reason);
    if (st.restarts != 0 && st.last_restart_set) {
        char ago[CK_HUMAN_BUFSZ];
        ck_human_duration(ck_time_sub_ns(row->now, &st.last_restart), ago);
        cell_fmt(row, "%lld (%s ago)", (long long)st.restarts, ago);
    } else {
        cell_fmt(row, "%lld", (long long)st.restarts);
    }
    cell_age(row, pod);

    const char *node = pj_str(pod, "spec.nodeName");
    const char *nominated = pj_str(pod, "status.nominatedNodeName");
    cell_str(row, pod_ip(pod));
    cell_str(row, *node ? node : "<none>");
    cell_str(row, *nominated ? nominated : "<none>");
    cell_readiness_gates(row, pod);
    free(st.owned);
}

static const struct printer_column POD_TEMPLATE_COLUMNS[] = {
    COL_NAME,
    COL("Containers", "string", "Names of each container in the template."),
    COL("Images", "string", "Images referenced by each container in the template."),
    COL("Pod Labels", "string", "The labels for the pod template."),
    COL_END,
};

static void print_pod_template(struct prow *row, const cJSON *obj)
{
    cell_name(row, obj);
    cell_containers(row, ck_json_get(obj, "template.spec.containers"));
    cell_take(row, fmt_labels(ck_json_get(obj, "template.metadata.labels")));
}

const struct printer_kind printers_pod_kinds[] = {
    {"", "Pod", POD_COLUMNS, print_pod},
    {"", "PodTemplate", POD_TEMPLATE_COLUMNS, print_pod_template},
    {NULL, NULL, NULL, NULL},
};
