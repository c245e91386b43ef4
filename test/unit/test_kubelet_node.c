/* Unit tests for kubelet/node.c's pure parts: the Node the kubelet registers, how it adopts an
 * existing one, the NodeStatus (capacity, allocatable after upstream's eviction thresholds,
 * conditions with their reasons and transition times, addresses, nodeInfo, images), when a
 * status counts as changed, the Lease, and reading the machine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "kubelet/node.h"
#include "mem.h"

static cJSON *parse(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *j = ck_json_parse(s, strlen(s), &err);
    if (!j)
        fail_msg("bad JSON in test: %s", err.message);
    return j;
}

static const struct timespec NOW = {1795399200, 0};
#define NOW_S "2026-11-23T02:00:00Z"

static struct kl_machine machine(void)
{
    struct kl_machine m = {
        .cpus = 2,
        .memory = 16393616LL * 1024, /* 16393616Ki */
        .ephemeral = 102687672LL * 1024,
        .hugepages_2m = 0,
        .hugepages_1g = 0,
    };
    strcpy(m.machine_id, "mid");
    strcpy(m.system_uuid, "uuid");
    strcpy(m.boot_id, "boot");
    strcpy(m.kernel, "6.1.0");
    strcpy(m.os_image, "Debian GNU/Linux 12 (bookworm)");
    strcpy(m.arch, "amd64");
    return m;
}

static struct kl_node_params params(void)
{
    static const char *const labels[] = {"node-role.kubernetes.io/worker=", "zone=a"};
    struct kl_node_params p = {
        .name = "node-1",
        .hostname = "node-1",
        .node_ip = "10.250.0.11",
        .pod_cidr = "10.244.1.0/24",
        .max_pods = 110,
        .labels = labels,
        .n_labels = 2,
        .runtime_version = "runc://1.1.5",
        .kubelet_port = 10250,
        .network_ready = true,
    };
    return p;
}

static void registration_node_has_labels_and_cidr(void **state)
{
    (void)state;
    struct kl_machine m = machine();
    struct kl_node_params p = params();
    cJSON *n = kl_node_initial(&m, &p);
    assert_string_equal(ck_json_get_string(n, "kind", ""), "Node");
    assert_string_equal(ck_json_get_string(n, "metadata.name", ""), "node-1");
    const cJSON *l = ck_json_get(n, "metadata.labels");
    static const char *const want[][2] = {
        {"kubernetes.io/hostname", "node-1"},
        {"kubernetes.io/os", "linux"},
        {"kubernetes.io/arch", "amd64"},
        {"beta.kubernetes.io/os", "linux"},
        {"beta.kubernetes.io/arch", "amd64"},
        {"node-role.kubernetes.io/worker", ""},
        {"zone", "a"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_string_equal(ck_json_as_string(ck_json_getv(l, want[i][0], NULL), "<none>"),
                            want[i][1]);
    assert_string_equal(
        ck_json_as_string(ck_json_getv(n, "metadata", "annotations",
                                       "volumes.kubernetes.io/controller-managed-attach-detach",
                                       NULL),
                          ""),
        "true");
    assert_string_equal(ck_json_get_string(n, "spec.podCIDR", ""), "10.244.1.0/24");
    assert_string_equal(ck_json_get_string(n, "spec.podCIDRs[0]", ""), "10.244.1.0/24");
    cJSON_Delete(n);
    p.pod_cidr = NULL;
    n = kl_node_initial(&m, &p);
    assert_null(ck_json_get(n, "spec.podCIDR"));
    cJSON_Delete(n);
}

static void adopting_an_existing_node(void **state)
{
    (void)state;
    struct kl_machine m = machine();
    struct kl_node_params p = params();
    /* as the lab pre-creates it: hostname label and podCIDR only */
    cJSON *existing = parse("{\"metadata\":{\"name\":\"node-1\",\"labels\":{"
                            "\"kubernetes.io/hostname\":\"node-1\",\"custom\":\"x\"}},"
                            "\"spec\":{\"podCIDR\":\"10.244.9.0/24\"}}");
    cJSON *patch = kl_node_reconcile(existing, &m, &p);
    assert_non_null(patch);
    const cJSON *l = ck_json_get(patch, "metadata.labels");
    assert_string_equal(ck_json_as_string(ck_json_getv(l, "kubernetes.io/os", NULL), ""), "linux");
    assert_string_equal(ck_json_as_string(ck_json_getv(l, "beta.kubernetes.io/arch", NULL), ""),
                        "amd64");
    /* what is already right, and labels that are not the kubelet's defaults, are not touched */
    assert_null(ck_json_getv(l, "kubernetes.io/hostname", NULL));
    assert_null(ck_json_getv(l, "custom", NULL));
    assert_null(ck_json_getv(l, "zone", NULL));
    assert_non_null(ck_json_getv(patch, "metadata", "annotations",
                                 "volumes.kubernetes.io/controller-managed-attach-detach", NULL));
    /* an existing podCIDR stays */
    assert_null(ck_json_get(patch, "spec"));
    cJSON_Delete(patch);
    cJSON_Delete(existing);
    /* a node that has everything: nothing to patch; one without a CIDR gets the flag's */
    existing = kl_node_initial(&m, &p);
    assert_null(kl_node_reconcile(existing, &m, &p));
    ck_json_delete(existing, "spec.podCIDR");
    patch = kl_node_reconcile(existing, &m, &p);
    assert_string_equal(ck_json_get_string(patch, "spec.podCIDR", ""), "10.244.1.0/24");
    assert_null(ck_json_get(patch, "metadata"));
    cJSON_Delete(patch);
    cJSON_Delete(existing);
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

static void status_capacity_conditions_and_info(void **state)
{
    (void)state;
    struct kl_machine m = machine();
    struct kl_node_params p = params();
    cJSON *images = parse("[{\"names\":[\"docker.io/library/busybox@sha256:ab\","
                          "\"docker.io/library/busybox:1.36\"],\"sizeBytes\":1089409}]");
    p.images = images;
    cJSON *st = kl_node_status(&m, &p, NULL, &NOW);
    assert_string_equal(ck_json_get_string(st, "capacity.cpu", ""), "2");
    assert_string_equal(ck_json_get_string(st, "capacity.memory", ""), "16393616Ki");
    assert_string_equal(ck_json_get_string(st, "capacity.pods", ""), "110");
    assert_string_equal(ck_json_get_string(st, "capacity.ephemeral-storage", ""), "102687672Ki");
    assert_string_equal(ck_json_get_string(st, "capacity.hugepages-2Mi", ""), "0");
    /* allocatable: memory.available<100Mi and nodefs.available<10% kept back */
    assert_string_equal(ck_json_get_string(st, "allocatable.memory", ""), "16291216Ki");
    assert_string_equal(ck_json_get_string(st, "allocatable.ephemeral-storage", ""), "94636958359");
    assert_string_equal(ck_json_get_string(st, "allocatable.cpu", ""), "2");
    /* upstream's order, reasons and messages */
    static const char *const want[][4] = {
        {"MemoryPressure", "False", "KubeletHasSufficientMemory",
         "kubelet has sufficient memory available"},
        {"DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
        {"PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"},
        {"Ready", "True", "KubeletReady", "kubelet is posting ready status"},
    };
    for (int i = 0; i < 4; i++) {
        const cJSON *c = cJSON_GetArrayItem(ck_json_get(st, "conditions"), i);
        assert_string_equal(ck_json_get_string(c, "type", ""), want[i][0]);
        assert_string_equal(ck_json_get_string(c, "status", ""), want[i][1]);
        assert_string_equal(ck_json_get_string(c, "reason", ""), want[i][2]);
        assert_string_equal(ck_json_get_string(c, "message", ""), want[i][3]);
        assert_string_equal(ck_json_get_string(c, "lastHeartbeatTime", ""), NOW_S);
        assert_string_equal(ck_json_get_string(c, "lastTransitionTime", ""), NOW_S);
    }
    assert_string_equal(ck_json_get_string(st, "addresses[0].type", ""), "InternalIP");
    assert_string_equal(ck_json_get_string(st, "addresses[0].address", ""), "10.250.0.11");
    assert_string_equal(ck_json_get_string(st, "addresses[1].type", ""), "Hostname");
    assert_string_equal(ck_json_get_string(st, "addresses[1].address", ""), "node-1");
    assert_int_equal(ck_json_get_int64(st, "daemonEndpoints.kubeletEndpoint.Port", 0), 10250);
    assert_string_equal(ck_json_get_string(st, "nodeInfo.kubeletVersion", ""), "v1.32.4");
    assert_string_equal(ck_json_get_string(st, "nodeInfo.containerRuntimeVersion", ""),
                        "runc://1.1.5");
    assert_string_equal(ck_json_get_string(st, "nodeInfo.operatingSystem", ""), "linux");
    assert_string_equal(ck_json_get_string(st, "nodeInfo.architecture", ""), "amd64");
    assert_string_equal(ck_json_get_string(st, "nodeInfo.osImage", ""),
                        "Debian GNU/Linux 12 (bookworm)");
    assert_string_equal(ck_json_get_string(st, "nodeInfo.machineID", ""), "mid");
    assert_string_equal(ck_json_get_string(st, "nodeInfo.bootID", ""), "boot");
    assert_string_equal(ck_json_get_string(st, "images[0].names[1]", ""),
                        "docker.io/library/busybox:1.36");

    /* ten seconds later, unchanged: transition times stay, only heartbeats move */
    struct timespec later = {NOW.tv_sec + 10, 0};
    cJSON *st2 = kl_node_status(&m, &p, st, &later);
    assert_string_equal(cond(st2, "Ready", "lastTransitionTime"), NOW_S);
    assert_string_equal(cond(st2, "Ready", "lastHeartbeatTime"), "2026-11-23T02:00:10Z");
    assert_false(kl_node_status_changed(st, st2));
    /* the network goes away: NotReady with the runtime's reason, a new transition */
    p.network_ready = false;
    p.network_message = "cni plugin not initialized";
    cJSON *st3 = kl_node_status(&m, &p, st2, &later);
    assert_true(kl_node_status_changed(st2, st3));
    assert_string_equal(cond(st3, "Ready", "status"), "False");
    assert_string_equal(cond(st3, "Ready", "reason"), "KubeletNotReady");
    assert_string_equal(cond(st3, "Ready", "message"),
                        "container runtime network not ready: NetworkReady=false "
                        "reason:NetworkPluginNotReady message:Network plugin returns error: cni "
                        "plugin not initialized");
    assert_string_equal(cond(st3, "Ready", "lastTransitionTime"), "2026-11-23T02:00:10Z");
    assert_string_equal(cond(st3, "MemoryPressure", "lastTransitionTime"), NOW_S);
    assert_true(kl_node_status_changed(NULL, st3));
    cJSON_Delete(st);
    cJSON_Delete(st2);
    cJSON_Delete(st3);
    cJSON_Delete(images);
}

static void lease_object(void **state)
{
    (void)state;
    struct timespec t = {NOW.tv_sec, 123456789};
    cJSON *l = kl_node_lease("node-2", "uid-9", 40, &t);
    assert_string_equal(ck_json_get_string(l, "apiVersion", ""), "coordination.k8s.io/v1");
    assert_string_equal(ck_json_get_string(l, "kind", ""), "Lease");
    assert_string_equal(ck_json_get_string(l, "metadata.name", ""), "node-2");
    assert_string_equal(ck_json_get_string(l, "metadata.namespace", ""), "kube-node-lease");
    assert_string_equal(ck_json_get_string(l, "metadata.ownerReferences[0].kind", ""), "Node");
    assert_string_equal(ck_json_get_string(l, "metadata.ownerReferences[0].apiVersion", ""), "v1");
    assert_string_equal(ck_json_get_string(l, "metadata.ownerReferences[0].uid", ""), "uid-9");
    assert_string_equal(ck_json_get_string(l, "spec.holderIdentity", ""), "node-2");
    assert_int_equal(ck_json_get_int64(l, "spec.leaseDurationSeconds", 0), 40);
    /* a MicroTime */
    assert_string_equal(ck_json_get_string(l, "spec.renewTime", ""), "2026-11-23T02:00:00.123456Z");
    cJSON_Delete(l);
    l = kl_node_lease("node-2", NULL, 40, &t);
    assert_null(ck_json_get(l, "metadata.ownerReferences"));
    cJSON_Delete(l);
}

/* the pressure conditions eviction.c computes, as the status shows them (upstream's True
 * reasons and messages, a transition time of their own), and allocatable after --eviction-hard */
static void status_pressure_conditions_and_thresholds(void **state)
{
    (void)state;
    struct kl_machine m = machine();
    struct kl_node_params p = params();
    static const struct {
        bool memory, disk, pid;
        const char *mem_reason, *disk_reason, *pid_reason;
        const char *mem_msg, *disk_msg, *pid_msg;
    } cases[] = {
        {false, false, false, "KubeletHasSufficientMemory", "KubeletHasNoDiskPressure",
         "KubeletHasSufficientPID", "kubelet has sufficient memory available",
         "kubelet has no disk pressure", "kubelet has sufficient PID available"},
        {true, false, false, "KubeletHasInsufficientMemory", "KubeletHasNoDiskPressure",
         "KubeletHasSufficientPID", "kubelet has insufficient memory available",
         "kubelet has no disk pressure", "kubelet has sufficient PID available"},
        {false, true, false, "KubeletHasSufficientMemory", "KubeletHasDiskPressure",
         "KubeletHasSufficientPID", "kubelet has sufficient memory available",
         "kubelet has disk pressure", "kubelet has sufficient PID available"},
        {false, false, true, "KubeletHasSufficientMemory", "KubeletHasNoDiskPressure",
         "KubeletHasInsufficientPID", "kubelet has sufficient memory available",
         "kubelet has no disk pressure", "kubelet has insufficient PID available"},
    };
    cJSON *healthy = kl_node_status(&m, &p, NULL, &NOW);
    struct timespec later = {NOW.tv_sec + 10, 0};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kl_pressure pr = {
            .memory = cases[i].memory, .disk = cases[i].disk, .pid = cases[i].pid};
        p.pressure = &pr;
        cJSON *st = kl_node_status(&m, &p, healthy, &later);
        assert_string_equal(cond(st, "MemoryPressure", "status"),
                            cases[i].memory ? "True" : "False");
        assert_string_equal(cond(st, "MemoryPressure", "reason"), cases[i].mem_reason);
        assert_string_equal(cond(st, "MemoryPressure", "message"), cases[i].mem_msg);
        assert_string_equal(cond(st, "DiskPressure", "status"), cases[i].disk ? "True" : "False");
        assert_string_equal(cond(st, "DiskPressure", "reason"), cases[i].disk_reason);
        assert_string_equal(cond(st, "DiskPressure", "message"), cases[i].disk_msg);
        assert_string_equal(cond(st, "PIDPressure", "status"), cases[i].pid ? "True" : "False");
        assert_string_equal(cond(st, "PIDPressure", "reason"), cases[i].pid_reason);
        assert_string_equal(cond(st, "PIDPressure", "message"), cases[i].pid_msg);
        /* a condition that flipped has a new transition time; the others keep theirs */
        assert_string_equal(cond(st, "MemoryPressure", "lastTransitionTime"),
                            cases[i].memory ? "2026-11-23T02:00:10Z" : NOW_S);
        assert_string_equal(cond(st, "DiskPressure", "lastTransitionTime"),
                            cases[i].disk ? "2026-11-23T02:00:10Z" : NOW_S);
        assert_string_equal(cond(st, "Ready", "status"), "True");
        assert_true(kl_node_status_changed(healthy, st) ==
                    (cases[i].memory || cases[i].disk || cases[i].pid));
        cJSON_Delete(st);
    }
    cJSON_Delete(healthy);
    /* --eviction-hard=memory.available<1Gi,nodefs.available<20%: allocatable keeps those back */
    struct kl_eviction_thresholds th;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_eviction_parse("memory.available<1Gi,nodefs.available<20%", &th, &err), 0);
    p.pressure = NULL;
    p.eviction = &th;
    cJSON *st = kl_node_status(&m, &p, NULL, &NOW);
    assert_string_equal(ck_json_get_string(st, "allocatable.memory", ""), "15345040Ki");
    assert_string_equal(ck_json_get_string(st, "allocatable.ephemeral-storage", ""), "84121740590");
    cJSON_Delete(st);
    /* no memory threshold at all: allocatable memory is the capacity */
    assert_int_equal(kl_eviction_parse("nodefs.available<10%", &th, &err), 0);
    st = kl_node_status(&m, &p, NULL, &NOW);
    assert_string_equal(ck_json_get_string(st, "allocatable.memory", ""), "16393616Ki");
    cJSON_Delete(st);
}

/* what the eviction signals see of the machine */
static void machine_eviction_stats(void **state)
{
    (void)state;
    struct kl_machine m = machine();
    m.memory_available = 20LL << 40; /* more than the (cgroup-limited) capacity */
    m.ephemeral_available = 1000;
    m.inodes = 500;
    m.inodes_free = 7;
    m.pid_max = 32768;
    m.pid_running = 300;
    struct kl_eviction_stats es;
    kl_machine_eviction_stats(&m, &es);
    assert_int_equal(es.memory_capacity, m.memory);
    assert_int_equal(es.memory_available, m.memory);
    assert_int_equal(es.nodefs_capacity, m.ephemeral);
    assert_int_equal(es.imagefs_available, 1000);
    assert_int_equal(es.nodefs_inodes_free, 7);
    assert_int_equal(es.imagefs_inodes, 500);
    assert_int_equal(es.pid_max - es.pid_running, 32468);
    assert_int_equal(es.allocatable_memory_available, -1);
    assert_int_equal(es.containerfs_available, -1);
    /* with upstream's defaults this machine has disk pressure (7 of 500 inodes free) only */
    struct kl_eviction_thresholds def;
    kl_eviction_defaults(&def);
    struct kl_pressure pr = {0};
    kl_pressure_update(&pr, &def, &es, 1, 300LL * 1000000000);
    assert_false(pr.memory);
    assert_true(pr.disk);
    assert_false(pr.pid);
}

static void machine_is_read(void **state)
{
    (void)state;
    struct kl_machine m;
    assert_int_equal(kl_machine_read(&m, "/", NULL), 0);
    assert_true(m.cpus >= 1);
    assert_true(m.memory > 64 << 20);
    assert_true(m.ephemeral > 0);
    assert_true(m.kernel[0] != '\0');
    assert_true(m.os_image[0] != '\0');
    assert_string_equal(m.arch, "amd64");
    assert_true(m.inodes > 0 && m.inodes_free >= 0 && m.inodes_free <= m.inodes);
    assert_true(m.pid_max > 0);
    assert_true(m.pid_running > 0 && m.pid_running < m.pid_max);
}

/* Creates root/<rel> (a directory when rel ends in '/', an empty file otherwise). */
static void make_path(const char *root, const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *q = path + strlen(root) + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        mkdir(path, 0755);
        *q = '/';
    }
    if (path[strlen(path) - 1] != '/') {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
    }
}

static void nvidia_gpus_are_counted_and_advertised(void **state)
{
    (void)state;
    char root[] = "/tmp/ckube-test-gpus.XXXXXX";
    assert_non_null(mkdtemp(root));
    /* no driver, no devices: none */
    assert_int_equal(kl_count_nvidia_gpus(root), 0);
    /* device nodes only: nvidia<N>, not the control or uvm devices */
    make_path(root, "dev/nvidia0");
    make_path(root, "dev/nvidia1");
    make_path(root, "dev/nvidiactl");
    make_path(root, "dev/nvidia-uvm");
    make_path(root, "dev/nvidia-caps/");
    assert_int_equal(kl_count_nvidia_gpus(root), 2);
    /* the driver's list wins when present */
    make_path(root, "proc/driver/nvidia/gpus/0000:01:00.0/");
    make_path(root, "proc/driver/nvidia/gpus/0000:02:00.0/");
    make_path(root, "proc/driver/nvidia/gpus/0000:03:00.0/");
    assert_int_equal(kl_count_nvidia_gpus(root), 3);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);

    /* capacity and allocatable carry nvidia.com/gpu only when there are GPUs */
    struct kl_machine m = machine();
    struct kl_node_params p = params();
    cJSON *st = kl_node_status(&m, &p, NULL, &NOW);
    assert_null(ck_json_getv(st, "capacity", "nvidia.com/gpu", NULL));
    assert_null(ck_json_getv(st, "allocatable", "nvidia.com/gpu", NULL));
    cJSON_Delete(st);
    m.nvidia_gpus = 3;
    st = kl_node_status(&m, &p, NULL, &NOW);
    assert_string_equal(cJSON_GetStringValue(ck_json_getv(st, "capacity", "nvidia.com/gpu", NULL)),
                        "3");
    assert_string_equal(
        cJSON_GetStringValue(ck_json_getv(st, "allocatable", "nvidia.com/gpu", NULL)), "3");
    cJSON_Delete(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registration_node_has_labels_and_cidr),
        cmocka_unit_test(nvidia_gpus_are_counted_and_advertised),
        cmocka_unit_test(adopting_an_existing_node),
        cmocka_unit_test(status_capacity_conditions_and_info),
        cmocka_unit_test(lease_object),
        cmocka_unit_test(status_pressure_conditions_and_thresholds),
        cmocka_unit_test(machine_eviction_stats),
        cmocka_unit_test(machine_is_read),
    };
    return cmocka_run_group_tests_name("kubelet node", tests, NULL, NULL);
}
