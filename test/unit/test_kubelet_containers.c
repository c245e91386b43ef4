/* Unit tests for kubelet/containers.c: resolv.conf parsing and upstream's DNS policies, the
 * sandbox config (hostname, sysctls, labels), the pod cgroup's resources, OOM score
 * adjustment, the kubelet-managed /etc/hosts, the container hash, and the container runtime
 * spec (command, env, security context, resources, volume mounts, labels, annotations). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "json.h"
#include "kubelet/containers.h"
#include "mem.h"

static cJSON *parse(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *j = ck_json_parse(s, strlen(s), &err);
    if (!j)
        fail_msg("bad JSON in test: %s", err.message);
    return j;
}

static void join(char *out, size_t size, const char *const *v, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strncat(out, " ", size - strlen(out) - 1);
        strncat(out, v[i], size - strlen(out) - 1);
    }
}

static void resolv_conf_parsing(void **state)
{
    (void)state;
    struct kl_resolv r;
    kl_resolv_parse("# a comment\nnameserver 10.0.0.2\nnameserver 10.0.0.3 ; trailing\n"
                    "domain old.example\nsearch corp.example lab.example\n"
                    "options ndots:2 timeout:1\nnameserver 10.0.0.2\n",
                    &r);
    char buf[256];
    join(buf, sizeof(buf), (const char *const *)r.servers.v, r.servers.n);
    assert_string_equal(buf, "10.0.0.2 10.0.0.3");
    join(buf, sizeof(buf), (const char *const *)r.searches.v, r.searches.n);
    assert_string_equal(buf, "corp.example lab.example"); /* the last search/domain line wins */
    join(buf, sizeof(buf), (const char *const *)r.options.v, r.options.n);
    assert_string_equal(buf, "ndots:2 timeout:1");
    kl_resolv_free(&r);
}

struct dns_case {
    const char *spec;
    bool cluster_dns;
    const char *servers, *searches, *options;
    bool missing;
};

static void dns_policies_as_upstream(void **state)
{
    (void)state;
    struct kl_resolv host;
    kl_resolv_parse("nameserver 192.0.2.53\nsearch corp.example\noptions edns0\n", &host);
    static const struct dns_case cases[] = {
        {"{}", true, "10.96.0.10",
         "ns1.svc.cluster.local svc.cluster.local cluster.local corp.example", "ndots:5", false},
        /* no cluster DNS configured: the node's resolver, flagged */
        {"{}", false, "192.0.2.53", "corp.example", "edns0", true},
        {"{\"dnsPolicy\":\"Default\"}", true, "192.0.2.53", "corp.example", "edns0", false},
        {"{\"hostNetwork\":true}", true, "192.0.2.53", "corp.example", "edns0", false},
        {"{\"hostNetwork\":true,\"dnsPolicy\":\"ClusterFirstWithHostNet\"}", true, "10.96.0.10",
         "ns1.svc.cluster.local svc.cluster.local cluster.local corp.example", "ndots:5", false},
        {"{\"dnsPolicy\":\"None\",\"dnsConfig\":{\"nameservers\":[\"1.1.1.1\",\"1.1.1.1\"],"
         "\"searches\":[\"a.example\"],\"options\":[{\"name\":\"ndots\",\"value\":\"2\"},{\"name\":"
         "\"rotate\"}]}}",
         true, "1.1.1.1", "a.example", "ndots:2 rotate", false},
        /* dnsConfig adds to a policy; an option of the same name replaces it */
        {"{\"dnsConfig\":{\"nameservers\":[\"8.8.8.8\",\"9.9.9.9\",\"7.7.7.7\"],"
         "\"options\":[{\"name\":\"ndots\",\"value\":\"1\"}]}}",
         true, "10.96.0.10 8.8.8.8 9.9.9.9",
         "ns1.svc.cluster.local svc.cluster.local cluster.local corp.example", "ndots:1", false},
    };
    const char *cdns[] = {"10.96.0.10"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CK_AUTOFREE char *j = ck_xasprintf(
            "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns1\",\"uid\":\"u\"},\"spec\":%s}",
            cases[i].spec);
        cJSON *pod = parse(j);
        struct kl_dns_params dp = {.cluster_dns = cdns,
                                   .n_cluster_dns = cases[i].cluster_dns,
                                   .cluster_domain = "cluster.local",
                                   .host = &host};
        struct kl_sandbox_spec ss;
        kl_sandbox_spec_build(&ss, pod, &dp, "/logs/ns1_p_u", "/kubepods/podu");
        char buf[512];
        join(buf, sizeof(buf), ss.cfg.dns_servers, ss.cfg.n_dns_servers);
        if (strcmp(buf, cases[i].servers))
            fail_msg("case %zu servers: %s", i, buf);
        join(buf, sizeof(buf), ss.cfg.dns_searches, ss.cfg.n_dns_searches);
        if (strcmp(buf, cases[i].searches))
            fail_msg("case %zu searches: %s", i, buf);
        join(buf, sizeof(buf), ss.cfg.dns_options, ss.cfg.n_dns_options);
        if (strcmp(buf, cases[i].options))
            fail_msg("case %zu options: %s", i, buf);
        assert_int_equal(ss.cluster_dns_missing, cases[i].missing);
        kl_sandbox_spec_free(&ss);
        cJSON_Delete(pod);
    }
    kl_resolv_free(&host);
}

static void sandbox_hostname_sysctls_labels(void **state)
{
    (void)state;
    cJSON *pod = parse("{\"metadata\":{\"name\":\"a-very-long-pod-name-that-goes-on-and-on-past-"
                       "sixty-three-chars-x\","
                       "\"namespace\":\"ns\",\"uid\":\"u1\"},\"spec\":{\"hostIPC\":true,"
                       "\"securityContext\":{\"sysctls\":["
                       "{\"name\":\"net.ipv4.ip_local_port_range\",\"value\":\"1024 65000\"},"
                       "{\"name\":\"kernel.shm_rmid_forced\",\"value\":\"1\"},"
                       "{\"name\":\"vm.swappiness\",\"value\":\"1\"}]}}}");
    struct kl_sandbox_spec ss;
    kl_sandbox_spec_build(&ss, pod, NULL, "/logs/x", "/kubepods/podu1");
    /* 63 characters at most, without a trailing '-' */
    assert_string_equal(ss.cfg.hostname,
                        "a-very-long-pod-name-that-goes-on-and-on-past-sixty-three-chars");
    assert_string_equal(ss.cfg.pod_uid, "u1");
    assert_string_equal(ss.cfg.pod_namespace, "ns");
    assert_string_equal(ss.cfg.log_directory, "/logs/x");
    assert_string_equal(ss.cfg.cgroup_parent, "/kubepods/podu1");
    assert_true(ss.cfg.host_ipc);
    assert_false(ss.cfg.host_network);
    /* only namespaced sysctls, and none of the IPC ones with hostIPC */
    assert_int_equal(ss.cfg.n_sysctls, 1);
    assert_string_equal(ss.cfg.sysctls[0], "net.ipv4.ip_local_port_range=1024 65000");
    assert_int_equal(ss.cfg.n_labels, 3);
    assert_string_equal(ss.cfg.labels[2], "io.kubernetes.pod.uid=u1");
    kl_sandbox_spec_free(&ss);
    cJSON_Delete(pod);
    pod = parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\"},"
                "\"spec\":{\"hostname\":\"custom\"}}");
    kl_sandbox_spec_build(&ss, pod, NULL, NULL, NULL);
    assert_string_equal(ss.cfg.hostname, "custom");
    assert_null(ss.cfg.log_directory);
    kl_sandbox_spec_free(&ss);
    cJSON_Delete(pod);
}

static void pod_cgroup_resources(void **state)
{
    (void)state;
    static const struct {
        const char *containers;
        enum kl_qos qos;
        uint64_t shares;
        int64_t quota, memory;
    } cases[] = {
        {"\"containers\":[{}]", KL_QOS_BESTEFFORT, 2, 0, 0},
        {"\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"500m\"}}},"
         "{\"resources\":{\"requests\":{\"cpu\":\"250m\"},\"limits\":{\"cpu\":\"1\"}}}]",
         KL_QOS_BURSTABLE, 768, 0, 0},
        {"\"containers\":[{\"resources\":{\"limits\":{\"cpu\":\"1500m\",\"memory\":\"64Mi\"},"
         "\"requests\":{\"cpu\":\"1500m\",\"memory\":\"64Mi\"}}}]",
         KL_QOS_GUARANTEED, 1536, 150000, 64 << 20},
        /* a bigger init container request wins over the containers' sum */
        {"\"initContainers\":[{\"resources\":{\"requests\":{\"cpu\":\"2\"}}}],"
         "\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"100m\"},\"limits\":{\"memory\":"
         "\"16Mi\"}}}]",
         KL_QOS_BURSTABLE, 2048, 0, 16 << 20},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CK_AUTOFREE char *j = ck_xasprintf("{\"spec\":{%s}}", cases[i].containers);
        cJSON *pod = parse(j);
        enum kl_qos q;
        struct kl_cgroup_resources r;
        kl_pod_cgroup_resources(pod, &q, &r);
        assert_int_equal(q, cases[i].qos);
        if (r.cpu_shares != cases[i].shares || r.cpu_quota != cases[i].quota ||
            r.memory_limit != cases[i].memory)
            fail_msg("case %zu: shares %llu quota %lld memory %lld", i,
                     (unsigned long long)r.cpu_shares, (long long)r.cpu_quota,
                     (long long)r.memory_limit);
        cJSON_Delete(pod);
    }
}

static void oom_score_adjustment(void **state)
{
    (void)state;
    const int64_t mem = 4LL << 30;
    cJSON *g = parse("{\"spec\":{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":\"1\","
                     "\"memory\":\"1Gi\"}}}]}}");
    cJSON *gc = ck_json_get(g, "spec.containers[0]");
    /* limits alone: requests default to them, as the apiserver does, so we add them */
    ck_json_set(gc, "resources.requests", ck_json_dup(ck_json_get(gc, "resources.limits")));
    assert_int_equal(kl_oom_score_adj(g, gc, mem), -997);
    cJSON *be = parse("{\"spec\":{\"containers\":[{}]}}");
    assert_int_equal(kl_oom_score_adj(be, ck_json_get(be, "spec.containers[0]"), mem), 1000);
    cJSON *b =
        parse("{\"spec\":{\"containers\":[{\"resources\":{\"requests\":{\"memory\":\"1Gi\"}}},"
              "{\"resources\":{\"requests\":{\"memory\":\"8Gi\"}}},"
              "{\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}");
    assert_int_equal(kl_oom_score_adj(b, ck_json_get(b, "spec.containers[0]"), mem), 750);
    assert_int_equal(kl_oom_score_adj(b, ck_json_get(b, "spec.containers[1]"), mem), 3);
    assert_int_equal(kl_oom_score_adj(b, ck_json_get(b, "spec.containers[2]"), mem), 999);
    cJSON_Delete(g);
    cJSON_Delete(be);
    cJSON_Delete(b);
}

static void managed_hosts_file(void **state)
{
    (void)state;
    static const char *const head = "# Kubernetes-managed hosts file.\n"
                                    "127.0.0.1\tlocalhost\n"
                                    "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                    "fe00::0\tip6-localnet\n"
                                    "fe00::0\tip6-mcastprefix\n"
                                    "fe00::1\tip6-allnodes\n"
                                    "fe00::2\tip6-allrouters\n";
    cJSON *pod = parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\"},\"spec\":{}}");
    char *h = kl_hosts_file(pod, "10.244.1.5", "cluster.local");
    CK_AUTOFREE char *want = ck_xasprintf("%s10.244.1.5\tweb\n", head);
    assert_string_equal(h, want);
    free(h);
    cJSON_Delete(pod);
    pod = parse(
        "{\"metadata\":{\"name\":\"web-0\",\"namespace\":\"ns\"},\"spec\":{\"hostname\":\"db\","
        "\"subdomain\":\"sub\",\"hostAliases\":[{\"ip\":\"1.2.3.4\",\"hostnames\":[\"foo\",\"bar\"]"
        "}]}}");
    h = kl_hosts_file(pod, "10.244.1.6", "cluster.local");
    CK_AUTOFREE char *want2 = ck_xasprintf("%s10.244.1.6\tdb.sub.ns.svc.cluster.local\tdb\n"
                                           "\n# Entries added by HostAliases.\n1.2.3.4\tfoo\tbar\n",
                                           head);
    assert_string_equal(h, want2);
    free(h);
    cJSON_Delete(pod);
}

static void container_hash_follows_name_and_image(void **state)
{
    (void)state;
    cJSON *a = parse("{\"name\":\"c\",\"image\":\"busybox:1.36\",\"command\":[\"sh\"]}");
    cJSON *b = parse("{\"name\":\"c\",\"image\":\"busybox:1.36\",\"command\":[\"true\"]}");
    cJSON *c = parse("{\"name\":\"c\",\"image\":\"busybox:1.37\"}");
    CK_AUTOFREE char *ha = kl_container_hash(a);
    CK_AUTOFREE char *hb = kl_container_hash(b);
    CK_AUTOFREE char *hc = kl_container_hash(c);
    assert_int_equal(strlen(ha), 8);
    assert_string_equal(ha, hb);
    assert_string_not_equal(ha, hc);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
}

static const char *SPEC_POD =
    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u1\"},\"spec\":{"
    "\"terminationGracePeriodSeconds\":7,"
    "\"securityContext\":{\"runAsUser\":1000,\"runAsGroup\":3000,\"fsGroup\":2000,"
    "\"supplementalGroups\":[4000]},\"containers\":[{\"name\":\"app\",\"image\":\"busybox\","
    "\"command\":[\"sh\",\"-c\"],\"args\":[\"echo $(X)\"],\"workingDir\":\"/w\","
    "\"securityContext\":{\"runAsUser\":0,\"allowPrivilegeEscalation\":false,"
    "\"capabilities\":{\"add\":[\"NET_ADMIN\"],\"drop\":[\"ALL\"]},\"readOnlyRootFilesystem\":true}"
    ","
    "\"resources\":{\"requests\":{\"cpu\":\"250m\"},\"limits\":{\"cpu\":\"1\",\"memory\":\"64Mi\"}}"
    ","
    "\"volumeMounts\":[{\"name\":\"cfg\",\"mountPath\":\"/etc/cfg\"},"
    "{\"name\":\"data\",\"mountPath\":\"/data/x\",\"subPath\":\"x/y\",\"readOnly\":true},"
    "{\"name\":\"data\",\"mountPath\":\"/shared\",\"mountPropagation\":\"HostToContainer\"}]}]}}";

static void container_runtime_spec(void **state)
{
    (void)state;
    cJSON *pod = parse(SPEC_POD);
    const cJSON *c = ck_json_get(pod, "spec.containers[0]");
    struct kl_volume vols[] = {{.name = "cfg", .path = "/pods/u1/volumes/cm/cfg", .readonly = true},
                               {.name = "data", .path = "/pods/u1/volumes/ed/data"}};
    struct kl_pod_volumes pv = {.v = vols, .n = 2};
    char *envv[] = {"X=1", "PATH=/bin"};
    struct kl_env env = {.v = envv, .n = 2};
    struct kl_cspec_params p = {.attempt = 3,
                                .image_ref = "docker.io/library/busybox:latest",
                                .image_id = "docker.io/library/busybox@sha256:ab",
                                .env = &env,
                                .vols = &pv,
                                .hosts_file = "/pods/u1/etc-hosts",
                                .node_memory = 1LL << 30};
    struct kl_cspec cs;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_cspec_build(&cs, pod, c, &p, &err), 0);
    const struct kl_container_spec *s = &cs.spec;
    assert_string_equal(s->name, "app");
    assert_int_equal(s->attempt, 3);
    assert_string_equal(s->image, "docker.io/library/busybox:latest");
    assert_int_equal(s->n_command, 2);
    assert_string_equal(s->command[1], "-c");
    assert_int_equal(s->n_args, 1);
    assert_string_equal(s->args[0], "echo $(X)"); /* expanded later, by the bundle */
    assert_int_equal(s->n_env, 2);
    assert_string_equal(s->env[0], "X=1");
    assert_string_equal(s->working_dir, "/w");
    /* the container's runAsUser (0) wins over the pod's; the group comes from the pod */
    assert_true(s->has_run_as_user);
    assert_int_equal(s->run_as_user, 0);
    assert_true(s->has_run_as_group);
    assert_int_equal(s->run_as_group, 3000);
    assert_int_equal(s->n_supplemental_groups, 2);
    assert_int_equal(s->supplemental_groups[0], 4000);
    assert_int_equal(s->supplemental_groups[1], 2000); /* fsGroup */
    assert_true(s->no_new_privileges);
    assert_true(s->read_only_root_filesystem);
    assert_false(s->privileged);
    assert_int_equal(s->n_cap_add, 1);
    assert_string_equal(s->cap_add[0], "NET_ADMIN");
    assert_string_equal(s->cap_drop[0], "ALL");
    assert_int_equal(s->cpu_request_milli, 250);
    assert_int_equal(s->cpu_limit_milli, 1000);
    assert_int_equal(s->memory_limit, 64 << 20);
    assert_string_equal(s->termination_message_path, "/dev/termination-log");
    /* mounts: the volumes (configMap read-only), subPath under the volume, propagation, and the
     * managed /etc/hosts */
    assert_int_equal(s->n_mounts, 4);
    assert_string_equal(s->mounts[0].container_path, "/etc/cfg");
    assert_string_equal(s->mounts[0].host_path, "/pods/u1/volumes/cm/cfg");
    assert_true(s->mounts[0].readonly);
    assert_string_equal(s->mounts[1].host_path, "/pods/u1/volumes/ed/data/x/y");
    assert_true(s->mounts[1].readonly);
    assert_false(s->mounts[2].readonly);
    assert_int_equal(s->mounts[2].propagation, KL_PROPAGATION_HOST_TO_CONTAINER);
    assert_string_equal(s->mounts[3].container_path, "/etc/hosts");
    assert_string_equal(s->mounts[3].host_path, "/pods/u1/etc-hosts");
    /* labels the kubelet finds its containers by, and annotations */
    assert_int_equal(s->n_labels, 4);
    assert_string_equal(s->labels[0], "io.kubernetes.pod.name=p");
    assert_string_equal(s->labels[1], "io.kubernetes.pod.namespace=ns");
    assert_string_equal(s->labels[2], "io.kubernetes.pod.uid=u1");
    assert_string_equal(s->labels[3], "io.kubernetes.container.name=app");
    CK_AUTOFREE char *hash = kl_container_hash(c);
    CK_AUTOFREE char *hash_ann = ck_xasprintf("io.kubernetes.container.hash=%s", hash);
    bool found_hash = false, found_rc = false, found_id = false, found_grace = false;
    for (size_t i = 0; i < s->n_annotations; i++) {
        found_hash |= !strcmp(s->annotations[i], hash_ann);
        found_rc |= !strcmp(s->annotations[i], "io.kubernetes.container.restartCount=3");
        found_id |=
            !strcmp(s->annotations[i], "ckube.io/image-id=docker.io/library/busybox@sha256:ab");
        found_grace |= !strcmp(s->annotations[i], "io.kubernetes.pod.terminationGracePeriod=7");
    }
    assert_true(found_hash && found_rc && found_id && found_grace);
    assert_int_equal(s->oom_score_adj, 999); /* Burstable without a memory request */
    kl_cspec_free(&cs);
    cJSON_Delete(pod);
}

static void container_spec_errors(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"{\"name\":\"c\",\"volumeMounts\":[{\"name\":\"gone\",\"mountPath\":\"/x\"}]}",
         "cannot find volume \"gone\" to mount into container \"c\""},
        {"{\"name\":\"c\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/x\",\"subPath\":\"../"
         "etc\"}]}",
         "subPath \"../etc\" must be a relative path without \"..\""},
        {"{\"name\":\"c\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/x\",\"subPath\":\"/"
         "etc\"}]}",
         "subPath \"/etc\" must be a relative path without \"..\""},
        {"{\"name\":\"c\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"x\"}]}",
         "mount path \"x\" is not absolute"},
    };
    cJSON *pod =
        parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\"},\"spec\":{}}");
    struct kl_volume vols[] = {{.name = "v", .path = "/pods/u/v"}};
    struct kl_pod_volumes pv = {.v = vols, .n = 1};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *c = parse(cases[i][0]);
        struct kl_cspec_params p = {.vols = &pv};
        struct kl_cspec cs;
        struct ck_error err = CK_ERROR_INIT;
        assert_true(kl_cspec_build(&cs, pod, c, &p, &err) < 0);
        if (strcmp(err.message, cases[i][1]))
            fail_msg("case %zu: \"%s\"", i, err.message);
        assert_string_equal(err.reason, "CreateContainerConfigError");
        ck_error_clear(&err);
        cJSON_Delete(c);
    }
    /* subPathExpr expands the container's variables; a user mount at /etc/hosts wins */
    cJSON *c =
        parse("{\"name\":\"c\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/etc/hosts\","
              "\"subPathExpr\":\"$(POD)/hosts\"}]}");
    char *envv[] = {"POD=p"};
    struct kl_env env = {.v = envv, .n = 1};
    struct kl_cspec_params p = {.vols = &pv, .env = &env, .hosts_file = "/pods/u/etc-hosts"};
    struct kl_cspec cs;
    assert_int_equal(kl_cspec_build(&cs, pod, c, &p, NULL), 0);
    assert_int_equal(cs.spec.n_mounts, 1);
    assert_string_equal(cs.spec.mounts[0].host_path, "/pods/u/v/p/hosts");
    kl_cspec_free(&cs);
    cJSON_Delete(c);
    cJSON_Delete(pod);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resolv_conf_parsing),
        cmocka_unit_test(dns_policies_as_upstream),
        cmocka_unit_test(sandbox_hostname_sysctls_labels),
        cmocka_unit_test(pod_cgroup_resources),
        cmocka_unit_test(oom_score_adjustment),
        cmocka_unit_test(managed_hosts_file),
        cmocka_unit_test(container_hash_follows_name_and_image),
        cmocka_unit_test(container_runtime_spec),
        cmocka_unit_test(container_spec_errors),
    };
    return cmocka_run_group_tests_name("kubelet containers", tests, NULL, NULL);
}
