/* Unit tests for kubelet/status.c: the PodStatus the kubelet reports (phase, conditions in
 * upstream's order with their reasons and messages, container statuses with state, lastState,
 * restartCount, ready, started, image and IDs), the QoS class, restart policies and the merge
 * patches status writes are sent as. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "json.h"
#include "kubelet/status.h"
#include "mem.h"

static cJSON *parse(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *j = ck_json_parse(s, strlen(s), &err);
    if (!j)
        fail_msg("bad JSON in test: %s", err.message);
    return j;
}

static const struct timespec NOW = {1795399200, 0}; /* 2026-11-23T02:00:00Z */
#define NOW_S "2026-11-23T02:00:00Z"

static struct kl_ctr_run run_state(const char *id, enum kl_container_status st, int code,
                                   const char *reason)
{
    struct kl_ctr_run r = {.id = id,
                           .image = "docker.io/library/busybox:1.36",
                           .image_id = "docker.io/library/busybox@sha256:abc"};
    r.st.status = st;
    r.st.exit_code = code;
    if (reason)
        strcpy(r.st.reason, reason);
    r.st.started_at = (struct timespec){NOW.tv_sec - 60, 0};
    if (st == KL_CONTAINER_EXITED)
        r.st.finished_at = (struct timespec){NOW.tv_sec - 30, 0};
    return r;
}

static const char *cond(const cJSON *st, const char *type, const char *field)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_get(st, "conditions"))
    {
        if (!strcmp(ck_json_get_string(c, "type", ""), type))
            return ck_json_get_string(c, field, "<none>");
    }
    return "<missing>";
}

static const char *POD_ONE =
    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u1\"},"
    "\"spec\":{\"restartPolicy\":\"Always\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1."
    "36\"}]}}";

static void running_pod_is_running_and_ready(void **state)
{
    (void)state;
    cJSON *pod = parse(POD_ONE);
    struct kl_ctr_run r = run_state("aaa", KL_CONTAINER_RUNNING, 0, NULL);
    struct kl_ctr_info ci = {
        .name = "c", .spec_image = "busybox:1.36", .cur = &r, .ready = true, .started = true};
    const char *ips[] = {"10.244.1.5"};
    struct kl_pod_info pi = {.pod = pod,
                             .ctrs = &ci,
                             .n_ctrs = 1,
                             .sandbox_ready = true,
                             .pod_ips = ips,
                             .n_pod_ips = 1,
                             .host_ip = "10.250.0.11",
                             .now = NOW};
    cJSON *st = kl_pod_status_build(&pi);
    assert_string_equal(ck_json_get_string(st, "phase", ""), "Running");
    /* upstream's order of the kubelet's conditions */
    const char *order[] = {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                           "PodScheduled"};
    assert_int_equal(cJSON_GetArraySize(ck_json_get(st, "conditions")), 5);
    for (int i = 0; i < 5; i++) {
        const cJSON *c = cJSON_GetArrayItem(ck_json_get(st, "conditions"), i);
        assert_string_equal(ck_json_get_string(c, "type", ""), order[i]);
        assert_string_equal(ck_json_get_string(c, "status", ""), "True");
        assert_true(cJSON_IsNull(ck_json_get(c, "lastProbeTime")));
        assert_string_equal(ck_json_get_string(c, "lastTransitionTime", ""), NOW_S);
    }
    assert_string_equal(ck_json_get_string(st, "podIP", ""), "10.244.1.5");
    assert_string_equal(ck_json_get_string(st, "podIPs[0].ip", ""), "10.244.1.5");
    assert_string_equal(ck_json_get_string(st, "hostIP", ""), "10.250.0.11");
    assert_string_equal(ck_json_get_string(st, "hostIPs[0].ip", ""), "10.250.0.11");
    assert_string_equal(ck_json_get_string(st, "startTime", ""), NOW_S);
    assert_string_equal(ck_json_get_string(st, "qosClass", ""), "BestEffort");
    const cJSON *cs = ck_json_get(st, "containerStatuses[0]");
    assert_string_equal(ck_json_get_string(cs, "name", ""), "c");
    assert_string_equal(ck_json_get_string(cs, "state.running.startedAt", ""),
                        "2026-11-23T01:59:00Z");
    assert_int_equal(cJSON_GetArraySize(ck_json_get(cs, "lastState")), 0);
    assert_true(ck_json_get_bool(cs, "ready", false));
    assert_true(ck_json_get_bool(cs, "started", false));
    assert_int_equal(ck_json_get_int64(cs, "restartCount", -1), 0);
    assert_string_equal(ck_json_get_string(cs, "image", ""), "docker.io/library/busybox:1.36");
    assert_string_equal(ck_json_get_string(cs, "imageID", ""),
                        "docker.io/library/busybox@sha256:abc");
    assert_string_equal(ck_json_get_string(cs, "containerID", ""), "runc://aaa");
    assert_null(ck_json_get(st, "initContainerStatuses"));
    cJSON_Delete(st);
    cJSON_Delete(pod);
}

static void unready_container_names_itself(void **state)
{
    (void)state;
    cJSON *pod =
        parse("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}}");
    struct kl_ctr_run ra = run_state("1", KL_CONTAINER_RUNNING, 0, NULL);
    struct kl_ctr_run rb = run_state("2", KL_CONTAINER_RUNNING, 0, NULL);
    struct kl_ctr_info ci[3] = {
        {.name = "a", .cur = &ra, .ready = false, .started = true},
        {.name = "b", .cur = &rb, .ready = true, .started = true},
        {.name = "c", .spec_image = "img"}, /* not created yet */
    };
    struct kl_pod_info pi = {
        .pod = pod, .ctrs = ci, .n_ctrs = 3, .sandbox_ready = true, .now = NOW};
    cJSON *st = kl_pod_status_build(&pi);
    assert_string_equal(ck_json_get_string(st, "phase", ""), "Pending");
    assert_string_equal(cond(st, "Ready", "status"), "False");
    assert_string_equal(cond(st, "Ready", "reason"), "ContainersNotReady");
    assert_string_equal(cond(st, "Ready", "message"), "containers with unready status: [a c]");
    assert_string_equal(cond(st, "ContainersReady", "message"),
                        "containers with unready status: [a c]");
    /* a container without a run waits in ContainerCreating, with its spec image */
    const cJSON *cs = ck_json_get(st, "containerStatuses[2]");
    assert_string_equal(ck_json_get_string(cs, "state.waiting.reason", ""), "ContainerCreating");
    assert_null(ck_json_get(cs, "state.waiting.message"));
    assert_string_equal(ck_json_get_string(cs, "image", ""), "img");
    assert_string_equal(ck_json_get_string(cs, "imageID", "x"), "");
    assert_null(ck_json_get(cs, "containerID"));
    assert_false(ck_json_get_bool(cs, "started", true));
    /* running but not ready */
    assert_false(ck_json_get_bool(st, "containerStatuses[0].ready", true));
    cJSON_Delete(st);
    cJSON_Delete(pod);
}

struct phase_case {
    const char *policy;
    enum kl_container_status st;
    int code;
    const char *waiting; /* worker's waiting reason */
    bool terminal;
    const char *phase;
    const char *ready_reason;
};

static void phase_follows_restart_policy(void **state)
{
    (void)state;
    static const struct phase_case cases[] = {
        {"Never", KL_CONTAINER_EXITED, 0, NULL, false, "Succeeded", "PodCompleted"},
        {"Never", KL_CONTAINER_EXITED, 1, NULL, false, "Failed", "PodFailed"},
        {"OnFailure", KL_CONTAINER_EXITED, 0, NULL, false, "Succeeded", "PodCompleted"},
        {"OnFailure", KL_CONTAINER_EXITED, 2, "CrashLoopBackOff", false, "Running",
         "ContainersNotReady"},
        {"Always", KL_CONTAINER_EXITED, 0, "CrashLoopBackOff", false, "Running",
         "ContainersNotReady"},
        {"Always", KL_CONTAINER_EXITED, 137, NULL, false, "Running", "ContainersNotReady"},
        /* a terminal pod (deleted and stopped) is done whatever its policy */
        {"Always", KL_CONTAINER_EXITED, 143, NULL, true, "Failed", "PodFailed"},
        {"Always", KL_CONTAINER_EXITED, 0, NULL, true, "Succeeded", "PodCompleted"},
        {"Always", KL_CONTAINER_RUNNING, 0, NULL, false, "Running", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct phase_case *t = &cases[i];
        CK_AUTOFREE char *j = ck_xasprintf(
            "{\"spec\":{\"restartPolicy\":\"%s\",\"containers\":[{\"name\":\"c\"}]}}", t->policy);
        cJSON *pod = parse(j);
        struct kl_ctr_run r = run_state("x", t->st, t->code, NULL);
        struct kl_ctr_info ci = {.name = "c",
                                 .cur = &r,
                                 .restart_count = 1,
                                 .waiting_reason = t->waiting,
                                 .ready = true,
                                 .started = true};
        struct kl_pod_info pi = {
            .pod = pod, .ctrs = &ci, .n_ctrs = 1, .terminal = t->terminal, .now = NOW};
        cJSON *st = kl_pod_status_build(&pi);
        if (strcmp(ck_json_get_string(st, "phase", ""), t->phase) != 0)
            fail_msg("case %zu: phase %s, want %s", i, ck_json_get_string(st, "phase", ""),
                     t->phase);
        assert_string_equal(cond(st, "Ready", "reason"),
                            t->ready_reason ? t->ready_reason : "<none>");
        cJSON_Delete(st);
        cJSON_Delete(pod);
    }
}

static void crashloop_moves_last_run_to_last_state(void **state)
{
    (void)state;
    cJSON *pod = parse(POD_ONE);
    struct kl_ctr_run cur = run_state("new", KL_CONTAINER_EXITED, 1, "Error");
    struct kl_ctr_run last = run_state("old", KL_CONTAINER_EXITED, 2, "Error");
    struct kl_ctr_info ci = {.name = "c",
                             .cur = &cur,
                             .last = &last,
                             .restart_count = 4,
                             .waiting_reason = "CrashLoopBackOff",
                             .waiting_message = "back-off 40s restarting failed container=c "
                                                "pod=p_default(u1)"};
    struct kl_pod_info pi = {
        .pod = pod, .ctrs = &ci, .n_ctrs = 1, .sandbox_ready = true, .now = NOW};
    cJSON *st = kl_pod_status_build(&pi);
    const cJSON *cs = ck_json_get(st, "containerStatuses[0]");
    assert_string_equal(ck_json_get_string(cs, "state.waiting.reason", ""), "CrashLoopBackOff");
    assert_string_equal(ck_json_get_string(cs, "state.waiting.message", ""),
                        "back-off 40s restarting failed container=c pod=p_default(u1)");
    /* lastState is the run that just ended, not the one before */
    assert_string_equal(ck_json_get_string(cs, "lastState.terminated.containerID", ""),
                        "runc://new");
    assert_int_equal(ck_json_get_int64(cs, "lastState.terminated.exitCode", -1), 1);
    assert_string_equal(ck_json_get_string(cs, "lastState.terminated.reason", ""), "Error");
    assert_string_equal(ck_json_get_string(cs, "lastState.terminated.finishedAt", ""),
                        "2026-11-23T01:59:30Z");
    assert_string_equal(ck_json_get_string(cs, "containerID", ""), "runc://new");
    assert_int_equal(ck_json_get_int64(cs, "restartCount", -1), 4);
    assert_false(ck_json_get_bool(cs, "ready", true));
    assert_string_equal(ck_json_get_string(st, "phase", ""), "Running");
    cJSON_Delete(st);
    /* a running restart shows the run before as lastState */
    struct kl_ctr_run now_running = run_state("newer", KL_CONTAINER_RUNNING, 0, NULL);
    ci.cur = &now_running;
    ci.last = &cur;
    ci.waiting_reason = ci.waiting_message = NULL;
    st = kl_pod_status_build(&pi);
    cs = ck_json_get(st, "containerStatuses[0]");
    assert_non_null(ck_json_get(cs, "state.running"));
    assert_string_equal(ck_json_get_string(cs, "lastState.terminated.containerID", ""),
                        "runc://new");
    cJSON_Delete(st);
    cJSON_Delete(pod);
}

static void terminated_state_reasons_and_message(void **state)
{
    (void)state;
    cJSON *pod =
        parse("{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\"}]}}");
    struct kl_ctr_run r = run_state("x", KL_CONTAINER_EXITED, 137, "OOMKilled");
    struct kl_ctr_info ci = {.name = "c", .cur = &r};
    struct kl_pod_info pi = {.pod = pod, .ctrs = &ci, .n_ctrs = 1, .now = NOW};
    cJSON *st = kl_pod_status_build(&pi);
    assert_string_equal(ck_json_get_string(st, "containerStatuses[0].state.terminated.reason", ""),
                        "OOMKilled");
    assert_int_equal(ck_json_get_int64(st, "containerStatuses[0].state.terminated.exitCode", 0),
                     137);
    assert_string_equal(ck_json_get_string(st, "phase", ""), "Failed");
    cJSON_Delete(st);
    /* no runtime reason: Completed for 0, Error otherwise; the termination message is kept */
    struct kl_ctr_run r0 = run_state("y", KL_CONTAINER_EXITED, 0, NULL);
    r0.message = "all good";
    ci.cur = &r0;
    st = kl_pod_status_build(&pi);
    assert_string_equal(ck_json_get_string(st, "containerStatuses[0].state.terminated.reason", ""),
                        "Completed");
    assert_string_equal(ck_json_get_string(st, "containerStatuses[0].state.terminated.message", ""),
                        "all good");
    assert_string_equal(ck_json_get_string(st, "phase", ""), "Succeeded");
    assert_string_equal(cond(st, "Initialized", "reason"), "PodCompleted");
    cJSON_Delete(st);
    cJSON_Delete(pod);
}

static void init_containers_gate_the_pod(void **state)
{
    (void)state;
    cJSON *pod = parse("{\"spec\":{\"restartPolicy\":\"Always\","
                       "\"initContainers\":[{\"name\":\"i1\"},{\"name\":\"i2\"}],"
                       "\"containers\":[{\"name\":\"app\"}]}}");
    struct kl_ctr_run i1 = run_state("i1", KL_CONTAINER_RUNNING, 0, NULL);
    struct kl_ctr_info init[2] = {{.name = "i1", .cur = &i1, .started = true}, {.name = "i2"}};
    struct kl_ctr_info app = {.name = "app"};
    struct kl_pod_info pi = {.pod = pod,
                             .init = init,
                             .n_init = 2,
                             .ctrs = &app,
                             .n_ctrs = 1,
                             .sandbox_ready = true,
                             .now = NOW};
    cJSON *st = kl_pod_status_build(&pi);
    assert_string_equal(ck_json_get_string(st, "phase", ""), "Pending");
    assert_string_equal(cond(st, "Initialized", "status"), "False");
    assert_string_equal(cond(st, "Initialized", "reason"), "ContainersNotInitialized");
    assert_string_equal(cond(st, "Initialized", "message"),
                        "containers with incomplete status: [i1 i2]");
    /* with init containers, everything not created waits in PodInitializing */
    assert_string_equal(ck_json_get_string(st, "initContainerStatuses[1].state.waiting.reason", ""),
                        "PodInitializing");
    assert_string_equal(ck_json_get_string(st, "containerStatuses[0].state.waiting.reason", ""),
                        "PodInitializing");
    assert_non_null(ck_json_get(st, "initContainerStatuses[0].state.running"));
    cJSON_Delete(st);
    /* both done: initialized, and a completed init container is ready */
    struct kl_ctr_run d1 = run_state("i1", KL_CONTAINER_EXITED, 0, NULL);
    struct kl_ctr_run d2 = run_state("i2", KL_CONTAINER_EXITED, 0, NULL);
    struct kl_ctr_run a = run_state("a", KL_CONTAINER_RUNNING, 0, NULL);
    init[0] = (struct kl_ctr_info){.name = "i1", .cur = &d1, .ready = true};
    init[1] = (struct kl_ctr_info){.name = "i2", .cur = &d2, .ready = true};
    app = (struct kl_ctr_info){.name = "app", .cur = &a, .ready = true, .started = true};
    st = kl_pod_status_build(&pi);
    assert_string_equal(ck_json_get_string(st, "phase", ""), "Running");
    assert_string_equal(cond(st, "Initialized", "status"), "True");
    assert_true(ck_json_get_bool(st, "initContainerStatuses[0].ready", false));
    assert_false(ck_json_get_bool(st, "initContainerStatuses[0].started", true));
    assert_string_equal(cond(st, "Ready", "status"), "True");
    cJSON_Delete(st);
    cJSON_Delete(pod);
}

static void failed_init_container_fails_a_never_pod(void **state)
{
    (void)state;
    cJSON *pod =
        parse("{\"spec\":{\"restartPolicy\":\"Never\",\"initContainers\":[{\"name\":\"i\"}],"
              "\"containers\":[{\"name\":\"app\"}]}}");
    struct kl_ctr_run i = run_state("i", KL_CONTAINER_EXITED, 1, NULL);
    struct kl_ctr_info init = {.name = "i", .cur = &i};
    struct kl_ctr_info app = {.name = "app"};
    struct kl_pod_info pi = {
        .pod = pod, .init = &init, .n_init = 1, .ctrs = &app, .n_ctrs = 1, .now = NOW};
    cJSON *st = kl_pod_status_build(&pi);
    assert_string_equal(ck_json_get_string(st, "phase", ""), "Failed");
    cJSON_Delete(st);
    /* with restartPolicy Always the same pod is Pending while the init container restarts */
    cJSON_Delete(pod);
    pod = parse("{\"spec\":{\"restartPolicy\":\"Always\",\"initContainers\":[{\"name\":\"i\"}],"
                "\"containers\":[{\"name\":\"app\"}]}}");
    init.waiting_reason = "CrashLoopBackOff";
    pi.pod = pod;
    st = kl_pod_status_build(&pi);
    assert_string_equal(ck_json_get_string(st, "phase", ""), "Pending");
    cJSON_Delete(st);
    cJSON_Delete(pod);
}

static void transition_times_and_start_time_are_kept(void **state)
{
    (void)state;
    cJSON *pod = parse(
        "{\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Running\","
        "\"startTime\":\"2020-01-01T00:00:00Z\",\"qosClass\":\"Burstable\","
        "\"nominatedNodeName\":\"n9\",\"conditions\":["
        "{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2020-01-01T00:00:05Z\"},"
        "{\"type\":\"PodScheduled\",\"status\":\"True\",\"lastTransitionTime\":\"2020-01-01T00:00:"
        "01Z\"},"
        "{\"type\":\"DisruptionTarget\",\"status\":\"True\",\"reason\":\"EvictionByEvictionAPI\"},"
        "{\"type\":\"ContainersReady\",\"status\":\"False\",\"lastTransitionTime\":\"2020-01-01T00:"
        "00:02Z\"}]}}");
    struct kl_ctr_run r = run_state("x", KL_CONTAINER_RUNNING, 0, NULL);
    struct kl_ctr_info ci = {.name = "c", .cur = &r, .ready = true, .started = true};
    struct kl_pod_info pi = {
        .pod = pod, .ctrs = &ci, .n_ctrs = 1, .sandbox_ready = true, .now = NOW};
    cJSON *st = kl_pod_status_build(&pi);
    assert_string_equal(cond(st, "Ready", "lastTransitionTime"), "2020-01-01T00:00:05Z");
    assert_string_equal(cond(st, "PodScheduled", "lastTransitionTime"), "2020-01-01T00:00:01Z");
    /* a status that changed gets a new transition time */
    assert_string_equal(cond(st, "ContainersReady", "lastTransitionTime"), NOW_S);
    /* conditions the kubelet does not own stay, first */
    assert_string_equal(ck_json_get_string(st, "conditions[0].type", ""), "DisruptionTarget");
    assert_string_equal(ck_json_get_string(st, "startTime", ""), "2020-01-01T00:00:00Z");
    assert_string_equal(ck_json_get_string(st, "qosClass", ""), "Burstable");
    assert_string_equal(ck_json_get_string(st, "nominatedNodeName", ""), "n9");
    cJSON_Delete(st);
    cJSON_Delete(pod);
}

static void terminal_phase_never_changes_back(void **state)
{
    (void)state;
    cJSON *pod = parse("{\"spec\":{\"restartPolicy\":\"Always\",\"containers\":[{\"name\":\"c\"}]},"
                       "\"status\":{\"phase\":\"Succeeded\",\"podIP\":\"10.244.1.9\","
                       "\"podIPs\":[{\"ip\":\"10.244.1.9\"}]}}");
    struct kl_ctr_run r = run_state("x", KL_CONTAINER_RUNNING, 0, NULL);
    struct kl_ctr_info ci = {.name = "c", .cur = &r, .ready = true, .started = true};
    struct kl_pod_info pi = {.pod = pod, .ctrs = &ci, .n_ctrs = 1, .now = NOW};
    cJSON *st = kl_pod_status_build(&pi);
    assert_string_equal(ck_json_get_string(st, "phase", ""), "Succeeded");
    /* a finished pod keeps the address it had after its network is released */
    assert_string_equal(ck_json_get_string(st, "podIP", ""), "10.244.1.9");
    assert_string_equal(ck_json_get_string(st, "podIPs[0].ip", ""), "10.244.1.9");
    cJSON_Delete(st);
    cJSON_Delete(pod);
}

static void volume_mounts_reported_for_created_containers(void **state)
{
    (void)state;
    cJSON *pod = parse("{\"spec\":{\"containers\":[{\"name\":\"c\",\"volumeMounts\":["
                       "{\"name\":\"cfg\",\"mountPath\":\"/etc/cfg\",\"readOnly\":true},"
                       "{\"name\":\"data\",\"mountPath\":\"/data\"}]}]}}");
    struct kl_ctr_run r = run_state("x", KL_CONTAINER_RUNNING, 0, NULL);
    struct kl_ctr_info ci = {.name = "c", .cur = &r};
    struct kl_pod_info pi = {.pod = pod, .ctrs = &ci, .n_ctrs = 1, .now = NOW};
    cJSON *st = kl_pod_status_build(&pi);
    const cJSON *vm = ck_json_get(st, "containerStatuses[0].volumeMounts");
    assert_int_equal(cJSON_GetArraySize(vm), 2);
    assert_string_equal(ck_json_get_string(vm, "[0].name", ""), "cfg");
    assert_true(ck_json_get_bool(vm, "[0].readOnly", false));
    assert_string_equal(ck_json_get_string(vm, "[0].recursiveReadOnly", ""), "Disabled");
    assert_null(ck_json_get(vm, "[1].readOnly"));
    assert_null(ck_json_get(vm, "[1].recursiveReadOnly"));
    cJSON_Delete(st);
    ci.cur = NULL; /* not created yet: no mounts reported */
    st = kl_pod_status_build(&pi);
    assert_null(ck_json_get(st, "containerStatuses[0].volumeMounts"));
    cJSON_Delete(st);
    cJSON_Delete(pod);
}

struct qos_case {
    const char *containers;
    const char *qos;
};

static void qos_class_as_upstream(void **state)
{
    (void)state;
    static const struct qos_case cases[] = {
        {"[{\"name\":\"a\"}]", "BestEffort"},
        {"[{\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
         "\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]",
         "Guaranteed"},
        /* 1000m equals 1 */
        {"[{\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
         "\"requests\":{\"cpu\":\"1000m\",\"memory\":\"1024Mi\"}}}]",
         "Guaranteed"},
        {"[{\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
         "\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}]",
         "Burstable"},
        /* memory limit only: not guaranteed */
        {"[{\"resources\":{\"limits\":{\"memory\":\"16Mi\"},\"requests\":{\"memory\":\"16Mi\"}}}]",
         "Burstable"},
        /* one container without anything makes it Burstable */
        {"[{\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
         "\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}},{\"name\":\"b\"}]",
         "Burstable"},
        /* zero quantities do not count */
        {"[{\"resources\":{\"requests\":{\"cpu\":\"0\"}}}]", "BestEffort"},
        /* other resources do not count */
        {"[{\"resources\":{\"requests\":{\"ephemeral-storage\":\"1Gi\"}}}]", "BestEffort"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CK_AUTOFREE char *j = ck_xasprintf("{\"containers\":%s}", cases[i].containers);
        cJSON *spec = parse(j);
        if (strcmp(kl_pod_qos(spec), cases[i].qos) != 0)
            fail_msg("case %zu: %s, want %s", i, kl_pod_qos(spec), cases[i].qos);
        cJSON_Delete(spec);
    }
}

static void restart_policies(void **state)
{
    (void)state;
    assert_true(kl_should_restart("Always", 0));
    assert_true(kl_should_restart("Always", 1));
    assert_true(kl_should_restart(NULL, 0));
    assert_false(kl_should_restart("OnFailure", 0));
    assert_true(kl_should_restart("OnFailure", 137));
    assert_false(kl_should_restart("Never", 1));
    assert_false(kl_should_restart("Never", 0));
}

static void merge_patch_diff_removes_and_replaces(void **state)
{
    (void)state;
    cJSON *a = parse("{\"phase\":\"Pending\",\"reason\":\"x\",\"conditions\":[1,2],"
                     "\"nested\":{\"keep\":1,\"drop\":2,\"change\":3}}");
    cJSON *b = parse("{\"phase\":\"Running\",\"conditions\":[1,2],"
                     "\"nested\":{\"keep\":1,\"change\":4},\"podIP\":\"1.2.3.4\"}");
    cJSON *d = kl_merge_patch_diff(a, b);
    CK_AUTOFREE char *txt = ck_json_print(d, CK_JSON_SORT_KEYS);
    assert_string_equal(txt, "{\"nested\":{\"change\":4,\"drop\":null},\"phase\":\"Running\","
                             "\"podIP\":\"1.2.3.4\",\"reason\":null}");
    cJSON_Delete(d);
    /* equal trees: no patch at all */
    assert_null(kl_merge_patch_diff(a, a));
    /* an array that differs is replaced whole */
    cJSON *c = parse("{\"phase\":\"Pending\",\"reason\":\"x\",\"conditions\":[2],"
                     "\"nested\":{\"keep\":1,\"drop\":2,\"change\":3}}");
    d = kl_merge_patch_diff(a, c);
    CK_AUTOFREE char *t2 = ck_json_print(d, 0);
    assert_string_equal(t2, "{\"conditions\":[2]}");
    cJSON_Delete(d);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(running_pod_is_running_and_ready),
        cmocka_unit_test(unready_container_names_itself),
        cmocka_unit_test(phase_follows_restart_policy),
        cmocka_unit_test(crashloop_moves_last_run_to_last_state),
        cmocka_unit_test(terminated_state_reasons_and_message),
        cmocka_unit_test(init_containers_gate_the_pod),
        cmocka_unit_test(failed_init_container_fails_a_never_pod),
        cmocka_unit_test(transition_times_and_start_time_are_kept),
        cmocka_unit_test(terminal_phase_never_changes_back),
        cmocka_unit_test(volume_mounts_reported_for_created_containers),
        cmocka_unit_test(qos_class_as_upstream),
        cmocka_unit_test(restart_policies),
        cmocka_unit_test(merge_patch_diff_removes_and_replaces),
    };
    return cmocka_run_group_tests_name("kubelet status", tests, NULL, NULL);
}
