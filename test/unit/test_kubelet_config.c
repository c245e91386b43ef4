/* Unit tests for kubelet/config.c: the kubelet's flags, upstream's defaults, what is derived
 * from them (node name, directories under --root-dir, the node cgroup, registry mirrors) and
 * the messages for bad values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet/config.h"
#include "mem.h"
#include "timeutil.h"

static int parse(struct kl_config *cfg, struct ck_error *err, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "kubelet";
    va_list ap;
    va_start(ap, err);
    const char *a;
    while ((a = va_arg(ap, const char *)) && argc < 31)
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    FILE *out = fopen("/dev/null", "w");
    int rc = kl_config_parse(cfg, argc, argv, out, err);
    fclose(out);
    return rc;
}

static void lab_flags_derive_per_node_paths(void **state)
{
    (void)state;
    struct kl_config cfg;
    struct ck_error err = CK_ERROR_INIT;
    int rc = parse(&cfg, &err, "--hostname-override=Node-1", "--kubeconfig=/lab/node-1/kubeconfig",
                   "--root-dir=/lab/node-1/kubelet/", "--pod-cidr=10.244.1.0/24",
                   "--node-ip=10.250.0.11", "--registry-mirror=docker.io=http://10.250.0.1:5000",
                   "--registry-mirror=registry.k8s.io=http://10.250.0.1:5000", "--v=2", NULL);
    assert_int_equal(rc, 0);
    /* upstream lower-cases the node name */
    assert_string_equal(cfg.node_name, "node-1");
    assert_string_equal(cfg.node_ip, "10.250.0.11");
    assert_string_equal(cfg.pod_cidr, "10.244.1.0/24");
    assert_string_equal(cfg.root_dir, "/lab/node-1/kubelet");
    assert_string_equal(cfg.kubeconfig, "/lab/node-1/kubeconfig");
    /* everything the kubelet writes lies under its root dir */
    assert_string_equal(cfg.runtime_dir, "/lab/node-1/kubelet/runtime");
    assert_string_equal(cfg.images_dir, "/lab/node-1/kubelet/images");
    assert_string_equal(cfg.pods_dir, "/lab/node-1/kubelet/pods");
    assert_string_equal(cfg.pod_logs_dir, "/lab/node-1/kubelet/pods-logs");
    assert_string_equal(cfg.cni_conf_dir, "/lab/node-1/kubelet/cni/net.d");
    assert_string_equal(cfg.cni_data_dir, "/lab/node-1/kubelet/cni");
    /* mirrors in flag order */
    assert_int_equal(cfg.registry.n_mirrors, 2);
    assert_string_equal(cfg.registry.mirrors[0].host, "docker.io");
    assert_string_equal(cfg.registry.mirrors[0].endpoint, "http://10.250.0.1:5000");
    assert_string_equal(cfg.registry.mirrors[1].host, "registry.k8s.io");
    assert_false(cfg.registry.mirrors_only);
    /* upstream defaults */
    assert_int_equal(cfg.max_pods, 110);
    assert_int_equal(cfg.healthz_port, 10248);
    assert_string_equal(cfg.healthz_bind_address, "127.0.0.1");
    assert_int_equal(cfg.port, 10250);
    assert_true(cfg.register_node);
    assert_true(cfg.serialize_image_pulls);
    assert_int_equal(cfg.node_status_update_frequency, 10 * CK_SECOND);
    assert_int_equal(cfg.node_status_report_frequency, 5 * CK_MINUTE);
    assert_int_equal(cfg.sync_frequency, CK_MINUTE);
    assert_int_equal(cfg.node_lease_duration_seconds, 40);
    assert_string_equal(cfg.node_cgroup, "/kubepods");
    assert_string_equal(cfg.resolv_conf, "/etc/resolv.conf");
    assert_string_equal(cfg.pod_infra_container_image, "registry.k8s.io/pause:3.10");
    kl_config_free(&cfg);
}

static void default_root_dir_logs_to_var_log_pods(void **state)
{
    (void)state;
    struct kl_config cfg;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(parse(&cfg, &err, "--hostname-override=n", "--node-ip=10.0.0.1", NULL), 0);
    assert_string_equal(cfg.root_dir, "/var/lib/kubelet");
    assert_string_equal(cfg.pod_logs_dir, "/var/log/pods");
    kl_config_free(&cfg);
    assert_int_equal(parse(&cfg, &err, "--hostname-override=n", "--pod-logs-dir=/x/logs/",
                           "--cni-conf-dir=/etc/cni/net.d", NULL),
                     0);
    assert_string_equal(cfg.pod_logs_dir, "/x/logs");
    assert_string_equal(cfg.cni_conf_dir, "/etc/cni/net.d");
    kl_config_free(&cfg);
}

static void cgroup_root_holds_kubepods(void **state)
{
    (void)state;
    struct kl_config cfg;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(parse(&cfg, &err, "--hostname-override=n", "--cgroup-root=/lab-node-1/", NULL),
                     0);
    assert_string_equal(cfg.cgroup_root, "/lab-node-1");
    assert_string_equal(cfg.node_cgroup, "/lab-node-1/kubepods");
    kl_config_free(&cfg);
    assert_int_equal(parse(&cfg, &err, "--hostname-override=n", "--cgroup-root=/", NULL), 0);
    assert_string_equal(cfg.node_cgroup, "/kubepods");
    kl_config_free(&cfg);
}

static void labels_dns_and_mirrors_only(void **state)
{
    (void)state;
    struct kl_config cfg;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(parse(&cfg, &err, "--hostname-override=n", "--node-labels=a=1,b.io/c=2",
                           "--cluster-dns=10.96.0.10", "--cluster-domain=cluster.local",
                           "--registry-mirrors-only", "--max-pods=20", "--register-node=false",
                           NULL),
                     0);
    assert_int_equal(cfg.n_node_labels, 2);
    assert_string_equal(cfg.node_labels[0], "a=1");
    assert_string_equal(cfg.node_labels[1], "b.io/c=2");
    assert_null(cfg.node_labels[2]);
    assert_int_equal(cfg.n_cluster_dns, 1);
    assert_string_equal(cfg.cluster_dns[0], "10.96.0.10");
    assert_string_equal(cfg.cluster_domain, "cluster.local");
    assert_true(cfg.registry.mirrors_only);
    assert_int_equal(cfg.max_pods, 20);
    assert_false(cfg.register_node);
    kl_config_free(&cfg);
}

struct bad_case {
    const char *flag;
    const char *message;
};

static void bad_values_are_refused(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"--node-ip=10.0.0", "failed to parse node IP: \"10.0.0\" is not a valid IP address"},
        {"--pod-cidr=10.244.1.0", "invalid argument \"10.244.1.0\" for \"--pod-cidr\" flag: "
                                  "invalid CIDR address"},
        {"--pod-cidr=10.244.1.0/33", "invalid argument \"10.244.1.0/33\" for \"--pod-cidr\" flag: "
                                     "invalid CIDR address"},
        {"--max-pods=0", "invalid configuration: maxPods (--max-pods) 0 must not be a negative "
                         "integer or zero"},
        {"--root-dir=relative", "--root-dir relative must be an absolute path"},
        {"--cgroup-root=kubepods", "invalid configuration: cgroupRoot (--cgroup-root) kubepods "
                                   "must be an absolute path"},
        {"--cluster-dns=nameserver", "invalid configuration: clusterDNS (--cluster-dns) nameserver "
                                     "is not a valid IP address"},
        {"--port=0", "invalid configuration: port (--port) 0 must be between 1 and 65535, "
                     "inclusive"},
        {"--nope", "unknown flag: --nope"},
        {"--max-pods=x", "invalid argument \"x\" for \"--max-pods\" flag: strconv.ParseInt: "
                         "parsing \"x\": invalid syntax"},
        {"--eviction-hard=memory.available=1Gi",
         "invalid argument \"memory.available=1Gi\" for \"--eviction-hard\" flag: malformed "
         "pair, expect string<string"},
        {"--eviction-hard=disk.available<1Gi", "invalid argument \"disk.available<1Gi\" for "
                                               "\"--eviction-hard\" flag: unsupported eviction "
                                               "signal disk.available"},
        {"--eviction-pressure-transition-period=-1s",
         "invalid configuration: evictionPressureTransitionPeriod must not be negative"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kl_config cfg;
        struct ck_error err = CK_ERROR_INIT;
        int rc = parse(&cfg, &err, "--hostname-override=n", cases[i].flag, NULL);
        assert_true(rc < 0);
        if (strcmp(err.message, cases[i].message) != 0)
            fail_msg("%s: got \"%s\"", cases[i].flag, err.message);
        kl_config_free(&cfg);
        ck_error_clear(&err);
    }
    /* a bad mirror is refused with the registry module's message */
    struct kl_config cfg;
    struct ck_error err = CK_ERROR_INIT;
    assert_true(parse(&cfg, &err, "--registry-mirror=docker.io", NULL) < 0);
    assert_non_null(strstr(err.message, "docker.io"));
    kl_config_free(&cfg);
}

static void help_and_version_stop_early(void **state)
{
    (void)state;
    struct kl_config cfg;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(parse(&cfg, &err, "--version", NULL), 1);
    kl_config_free(&cfg);
    assert_int_equal(parse(&cfg, &err, "--help", NULL), 1);
    kl_config_free(&cfg);
    /* positional arguments are refused as cobra does */
    assert_true(parse(&cfg, &err, "run", NULL) < 0);
    assert_string_equal(err.message, "unknown command \"run\" for \"kubelet\"");
    kl_config_free(&cfg);
}

static void pure_address_helpers(void **state)
{
    (void)state;
    assert_true(kl_ip_valid("10.250.0.11"));
    assert_true(kl_ip_valid("fd00::1"));
    assert_false(kl_ip_valid("10.250.0"));
    assert_false(kl_ip_valid(NULL));
    assert_true(kl_cidr4_valid("10.244.1.0/24"));
    assert_true(kl_cidr4_valid("10.244.1.7/24")); /* host bits accepted, as net.ParseCIDR */
    assert_false(kl_cidr4_valid("10.244.1.0/"));
    assert_false(kl_cidr4_valid("10.244.1.0/2a"));
    assert_false(kl_cidr4_valid("/24"));
    assert_false(kl_cidr4_valid("10.244.1.0/33"));
}

/* --eviction-hard replaces upstream's default thresholds; the transition period defaults to 5m */
static void eviction_flags(void **state)
{
    (void)state;
    struct kl_config cfg;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(parse(&cfg, &err, "--hostname-override=n", NULL), 0);
    char *s = kl_eviction_format(&cfg.eviction_hard);
    assert_string_equal(s, "memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,"
                           "imagefs.available<15%,imagefs.inodesFree<5%");
    free(s);
    assert_int_equal(cfg.eviction_pressure_transition_period, 5 * CK_MINUTE);
    kl_config_free(&cfg);
    assert_int_equal(parse(&cfg, &err, "--hostname-override=n",
                           "--eviction-hard=memory.available<500Mi,pid.available<5%",
                           "--eviction-pressure-transition-period=30s", NULL),
                     0);
    s = kl_eviction_format(&cfg.eviction_hard);
    assert_string_equal(s, "memory.available<500Mi,pid.available<5%");
    free(s);
    assert_int_equal(cfg.eviction_pressure_transition_period, 30 * CK_SECOND);
    kl_config_free(&cfg);
    /* an empty value: no hard eviction at all */
    assert_int_equal(parse(&cfg, &err, "--hostname-override=n", "--eviction-hard=", NULL), 0);
    for (int i = 0; i < KL_SIG_COUNT; i++)
        assert_false(cfg.eviction_hard.t[i].set);
    kl_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lab_flags_derive_per_node_paths),
        cmocka_unit_test(default_root_dir_logs_to_var_log_pods),
        cmocka_unit_test(cgroup_root_holds_kubepods),
        cmocka_unit_test(labels_dns_and_mirrors_only),
        cmocka_unit_test(bad_values_are_refused),
        cmocka_unit_test(eviction_flags),
        cmocka_unit_test(help_and_version_stop_early),
        cmocka_unit_test(pure_address_helpers),
    };
    return cmocka_run_group_tests_name("kubelet config", tests, NULL, NULL);
}
