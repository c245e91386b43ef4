/* Unit tests for kubelet/runtime/cgroups.c on fake cgroupfs trees in a temporary directory:
 * v1 (hierarchies per controller, a co-mounted cpu,cpuacct with symlinks, cpuset inheritance)
 * and v2 (cgroup.controllers, subtree_control, cpu.weight/cpu.max), the upstream pod layout,
 * limits, OOM counters, stats, destruction; and the shares/quota/weight conversions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kubelet/runtime/bundle.h"
#include "kubelet/runtime/cgroups.h"
#include "mem.h"

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/ckube-kltest-cg-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return ck_xstrdup(tmpl);
}

static void put(const char *dir, const char *file, const char *text)
{
    CK_AUTOFREE char *p = ck_xasprintf("%s/%s", dir, file);
    assert_int_equal(kl_write_file_atomic(p, text, strlen(text), 0644), 0);
}

/* Contents of <mount>/<rel>, "" when missing (static buffer). */
static const char *get(const char *mount, const char *rel)
{
    static char buf[4096];
    CK_AUTOFREE char *p = ck_xasprintf("%s/%s", mount, rel);
    char *text = NULL;
    if (kl_read_file(p, sizeof(buf) - 1, &text, NULL) < 0)
        return "";
    snprintf(buf, sizeof(buf), "%s", text);
    free(text);
    return buf;
}

static bool isdir(const char *mount, const char *rel)
{
    CK_AUTOFREE char *p = ck_xasprintf("%s/%s", mount, rel);
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A v1 tree: cpu,cpuacct co-mounted (with cpu and cpuacct symlinks), cpuset, memory, pids,
 * systemd. */
static char *fake_v1(void)
{
    char *m = tmpdir();
    const char *dirs[] = {"cpu,cpuacct", "cpuset", "memory", "pids", "systemd"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(dirs); i++) {
        CK_AUTOFREE char *d = ck_xasprintf("%s/%s", m, dirs[i]);
        assert_int_equal(mkdir(d, 0755), 0);
    }
    CK_AUTOFREE char *l1 = ck_xasprintf("%s/cpu", m);
    CK_AUTOFREE char *l2 = ck_xasprintf("%s/cpuacct", m);
    assert_int_equal(symlink("cpu,cpuacct", l1), 0);
    assert_int_equal(symlink("cpu,cpuacct", l2), 0);
    CK_AUTOFREE char *cs = ck_xasprintf("%s/cpuset", m);
    put(cs, "cpuset.cpus", "0-3\n");
    put(cs, "cpuset.mems", "0\n");
    return m;
}

static char *fake_v2(void)
{
    char *m = tmpdir();
    put(m, "cgroup.controllers", "cpuset cpu io memory pids\n");
    return m;
}

/* ---- conversions ------------------------------------------------------------------------------
 */

struct conv_case {
    int64_t in;
    int64_t want;
};

static void conversions_match_upstream(void **state)
{
    (void)state;
    const struct conv_case shares[] = {
        {0, 2},       {1, 2},       {2, 2},           {100, 102},           {250, 256}, {999, 1022},
        {1000, 1024}, {1500, 1536}, {256000, 262144}, {1000000000, 262144}, {-5, 2}};
    for (size_t i = 0; i < CK_ARRAY_SIZE(shares); i++)
        if ((int64_t)kl_milli_cpu_to_shares(shares[i].in) != shares[i].want)
            fail_msg("shares(%lld)", (long long)shares[i].in);
    const struct conv_case quota[] = {{0, 0},       {1, 1000},      {10, 1000},
                                      {250, 25000}, {1000, 100000}, {2500, 250000}};
    for (size_t i = 0; i < CK_ARRAY_SIZE(quota); i++)
        if (kl_milli_cpu_to_quota(quota[i].in, 100000) != quota[i].want)
            fail_msg("quota(%lld)", (long long)quota[i].in);
    assert_int_equal(kl_milli_cpu_to_quota(500, 50000), 25000);
    assert_int_equal(kl_milli_cpu_to_quota(500, 0), 50000); /* default period */
    const struct conv_case weight[] = {{0, 0},     {1, 1},          {2, 1},         {1024, 39},
                                       {2048, 79}, {262144, 10000}, {999999, 10000}};
    for (size_t i = 0; i < CK_ARRAY_SIZE(weight); i++)
        if ((int64_t)kl_cpu_shares_to_weight((uint64_t)weight[i].in) != weight[i].want)
            fail_msg("weight(%lld) = %llu", (long long)weight[i].in,
                     (unsigned long long)kl_cpu_shares_to_weight((uint64_t)weight[i].in));
}

/* ---- v1
 * ------------------------------------------------------------------------------------------ */

static void v1_layout_limits_and_destroy(void **state)
{
    (void)state;
    CK_AUTOFREE char *m = fake_v1();
    struct kl_cgroups *cg = NULL;
    assert_int_equal(kl_cgroups_init(m, NULL, &cg), 0);
    assert_int_equal(cg->version, KL_CGROUP_V1);
    assert_true(cg->fake);
    assert_string_equal(cg->root, "/kubepods");
    /* real directories only, sorted; the symlinks name the co-mounted one */
    assert_int_equal(cg->n_hierarchies, 5);
    assert_string_equal(cg->hierarchies[0], "cpu,cpuacct");
    assert_string_equal(cg->hierarchies[4], "systemd");

    assert_int_equal(kl_cgroups_ensure_node(cg), 0);
    const char *h[] = {"cpu,cpuacct", "cpuset", "memory", "pids", "systemd"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(h); i++) {
        CK_AUTOFREE char *a = ck_xasprintf("%s/kubepods/burstable", h[i]);
        CK_AUTOFREE char *b = ck_xasprintf("%s/kubepods/besteffort", h[i]);
        assert_true(isdir(m, a));
        assert_true(isdir(m, b));
    }
    assert_string_equal(get(m, "cpu/kubepods/besteffort/cpu.shares"), "2");
    /* new cpusets inherit cpus and mems at every level */
    assert_string_equal(get(m, "cpuset/kubepods/cpuset.cpus"), "0-3\n");
    assert_string_equal(get(m, "cpuset/kubepods/burstable/cpuset.mems"), "0\n");

    struct kl_cgroup_resources res = {
        .cpu_shares = 512, .cpu_quota = 50000, .memory_limit = 128 << 20, .pids_limit = 100};
    char *path = NULL;
    assert_int_equal(kl_cgroup_pod_ensure(cg, KL_QOS_BURSTABLE, "u-1", &res, &path), 0);
    assert_string_equal(path, "/kubepods/burstable/podu-1");
    assert_true(kl_cgroup_exists(cg, path));
    assert_string_equal(get(m, "cpu/kubepods/burstable/podu-1/cpu.shares"), "512");
    assert_string_equal(get(m, "cpuacct/kubepods/burstable/podu-1/cpu.cfs_period_us"), "100000");
    assert_string_equal(get(m, "cpu,cpuacct/kubepods/burstable/podu-1/cpu.cfs_quota_us"), "50000");
    assert_string_equal(get(m, "memory/kubepods/burstable/podu-1/memory.limit_in_bytes"),
                        "134217728");
    assert_string_equal(get(m, "pids/kubepods/burstable/podu-1/pids.max"), "100");
    assert_string_equal(get(m, "cpuset/kubepods/burstable/podu-1/cpuset.cpus"), "0-3\n");
    /* lifting the limits */
    struct kl_cgroup_resources open = {.cpu_shares = 1024};
    assert_int_equal(kl_cgroup_update(cg, path, &open), 0);
    assert_string_equal(get(m, "cpu/kubepods/burstable/podu-1/cpu.cfs_quota_us"), "-1");
    assert_string_equal(get(m, "memory/kubepods/burstable/podu-1/memory.limit_in_bytes"), "-1");
    assert_string_equal(get(m, "pids/kubepods/burstable/podu-1/pids.max"), "max");
    assert_string_equal(get(m, "cpu/kubepods/burstable/podu-1/cpu.shares"), "1024");

    /* the other QoS classes, listing */
    char *g = NULL, *b = NULL;
    assert_int_equal(kl_cgroup_pod_ensure(cg, KL_QOS_GUARANTEED, "u-2", NULL, &g), 0);
    assert_string_equal(g, "/kubepods/podu-2");
    assert_int_equal(kl_cgroup_pod_ensure(cg, KL_QOS_BESTEFFORT, "u-3", NULL, &b), 0);
    assert_string_equal(b, "/kubepods/besteffort/podu-3");
    char **uids = NULL;
    size_t n = 0;
    assert_int_equal(kl_cgroup_list_pods(cg, &uids, &n), 0);
    assert_int_equal(n, 3);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        seen |= strcmp(uids[i], "u-1") == 0   ? 1
                : strcmp(uids[i], "u-2") == 0 ? 2
                : strcmp(uids[i], "u-3") == 0 ? 4
                                              : 8;
        free(uids[i]);
    }
    free(uids);
    assert_int_equal(seen, 7);

    /* OOM kills and usage */
    CK_AUTOFREE char *memdir = ck_xasprintf("%s/memory%s", m, path);
    put(memdir, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    put(memdir, "memory.usage_in_bytes", "1000\n");
    put(memdir, "memory.stat", "cache 5\nrss 1\ntotal_rss 500\ntotal_inactive_file 300\n");
    CK_AUTOFREE char *cpudir = ck_xasprintf("%s/cpuacct%s", m, path);
    put(cpudir, "cpuacct.usage", "12345\n");
    CK_AUTOFREE char *pidsdir = ck_xasprintf("%s/pids%s", m, path);
    put(pidsdir, "pids.current", "4\n");
    uint64_t kills = 0;
    assert_int_equal(kl_cgroup_oom_kills(cg, path, &kills), 0);
    assert_int_equal(kills, 3);
    CK_AUTOFREE char *oomf = kl_cgroup_oom_file(cg, path);
    CK_AUTOFREE char *want_oomf = ck_xasprintf("%s/memory%s/memory.oom_control", m, path);
    assert_string_equal(oomf, want_oomf);
    struct kl_cgroup_stats st;
    assert_int_equal(kl_cgroup_stats(cg, path, &st), 0);
    assert_int_equal(st.memory_usage, 1000);
    assert_int_equal(st.memory_working_set, 700);
    assert_int_equal(st.memory_rss, 500);
    assert_int_equal(st.cpu_usage_ns, 12345);
    assert_int_equal(st.pids_current, 4);
    assert_int_equal(st.oom_kills, 3);

    /* a container cgroup below the pod goes with it */
    CK_AUTOFREE char *ctr = ck_xasprintf("%s/abc", path);
    assert_int_equal(kl_cgroup_ensure(cg, ctr, NULL), 0);
    assert_int_equal(kl_cgroup_destroy(cg, path), 0);
    assert_false(kl_cgroup_exists(cg, path));
    for (size_t i = 0; i < CK_ARRAY_SIZE(h); i++) {
        CK_AUTOFREE char *a = ck_xasprintf("%s/kubepods/burstable/podu-1", h[i]);
        assert_false(isdir(m, a));
    }
    assert_int_equal(kl_cgroup_destroy(cg, path), 0); /* already gone */
    assert_int_equal(kl_cgroup_stats(cg, path, &st), -ENOENT);
    /* the whole tree */
    assert_int_equal(kl_cgroup_destroy(cg, "/kubepods"), 0);
    assert_false(isdir(m, "memory/kubepods"));
    free(path);
    free(g);
    free(b);
    kl_cgroups_free(cg);
    assert_int_equal(kl_rm_rf(m), 0);
}

static void paths_outside_the_root_are_refused(void **state)
{
    (void)state;
    CK_AUTOFREE char *m = fake_v1();
    struct kl_cgroups *cg = NULL;
    assert_int_equal(kl_cgroups_init(m, "/ckube-test", &cg), 0);
    assert_string_equal(cg->root, "/ckube-test");
    const char *bad_uids[] = {"", "..", ".", "a/b", "x\ny"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(bad_uids); i++) {
        assert_null(kl_cgroup_pod_path(cg, KL_QOS_BURSTABLE, bad_uids[i]));
        assert_int_equal(kl_cgroup_pod_ensure(cg, KL_QOS_BURSTABLE, bad_uids[i], NULL, NULL),
                         -EINVAL);
    }
    const char *bad_paths[] = {"/",
                               "/other",
                               "/ckube-testx",
                               "ckube-test/a",
                               "/ckube-test/../x",
                               "/ckube-test//a",
                               "/ckube-test/a/",
                               "/ckube-test/./a"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(bad_paths); i++) {
        assert_int_equal(kl_cgroup_ensure(cg, bad_paths[i], NULL), -EINVAL);
        assert_int_equal(kl_cgroup_destroy(cg, bad_paths[i]), -EINVAL);
    }
    assert_int_equal(kl_cgroup_ensure(cg, "/ckube-test/a", NULL), 0);
    assert_false(isdir(m, "memory/other"));
    kl_cgroups_free(cg);
    assert_int_equal(kl_cgroups_init(m, "/", &cg), -EINVAL);
    assert_int_equal(kl_cgroups_init(m, "relative", &cg), -EINVAL);
    assert_int_equal(kl_cgroups_init("/no/such/mount", NULL, &cg), -ENOENT);
    assert_int_equal(kl_rm_rf(m), 0);
}

/* ---- v2
 * ------------------------------------------------------------------------------------------ */

static void v2_layout_limits_and_destroy(void **state)
{
    (void)state;
    CK_AUTOFREE char *m = fake_v2();
    struct kl_cgroups *cg = NULL;
    assert_int_equal(kl_cgroups_init(m, "/kubepods", &cg), 0);
    assert_int_equal(cg->version, KL_CGROUP_V2);
    assert_int_equal(cg->n_hierarchies, 0);
    assert_int_equal(kl_cgroups_ensure_node(cg), 0);
    /* controllers enabled from the root down (only those available: no hugetlb here) */
    assert_string_equal(get(m, "cgroup.subtree_control"), "+cpuset +cpu +io +memory +pids");
    assert_string_equal(get(m, "kubepods/cgroup.subtree_control"),
                        "+cpuset +cpu +io +memory +pids");
    assert_string_equal(get(m, "kubepods/besteffort/cpu.weight"), "1");
    assert_string_equal(get(m, "kubepods/besteffort/cpu.max"), "max 100000");

    struct kl_cgroup_resources res = {
        .cpu_shares = 1024, .cpu_quota = 50000, .memory_limit = 64 << 20, .pids_limit = 42};
    char *path = NULL;
    assert_int_equal(kl_cgroup_pod_ensure(cg, KL_QOS_BURSTABLE, "u-9", &res, &path), 0);
    assert_string_equal(path, "/kubepods/burstable/podu-9");
    assert_string_equal(get(m, "kubepods/burstable/podu-9/cpu.weight"), "39");
    assert_string_equal(get(m, "kubepods/burstable/podu-9/cpu.max"), "50000 100000");
    assert_string_equal(get(m, "kubepods/burstable/podu-9/memory.max"), "67108864");
    assert_string_equal(get(m, "kubepods/burstable/podu-9/pids.max"), "42");
    assert_string_equal(get(m, "kubepods/burstable/cgroup.subtree_control"),
                        "+cpuset +cpu +io +memory +pids");
    struct kl_cgroup_resources open = {.cpu_period = 50000};
    assert_int_equal(kl_cgroup_update(cg, path, &open), 0);
    assert_string_equal(get(m, "kubepods/burstable/podu-9/cpu.max"), "max 50000");
    assert_string_equal(get(m, "kubepods/burstable/podu-9/memory.max"), "max");
    assert_string_equal(get(m, "kubepods/burstable/podu-9/pids.max"), "max");
    assert_string_equal(get(m, "kubepods/burstable/podu-9/cpu.weight"), "39"); /* kept */

    CK_AUTOFREE char *dir = ck_xasprintf("%s%s", m, path);
    /* "oom" must not be read as "oom_kill" */
    put(dir, "memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\noom_group_kill 0\n");
    put(dir, "memory.current", "4096\n");
    put(dir, "memory.stat", "anon 1024\nfile 3000\ninactive_file 5000\n");
    put(dir, "cpu.stat", "usage_usec 2000\nuser_usec 1500\n");
    put(dir, "pids.current", "2\n");
    struct kl_cgroup_stats st;
    assert_int_equal(kl_cgroup_stats(cg, path, &st), 0);
    assert_int_equal(st.oom_kills, 1);
    assert_int_equal(st.cpu_usage_ns, 2000000);
    assert_int_equal(st.memory_usage, 4096);
    assert_int_equal(st.memory_working_set, 0); /* inactive beyond usage floors at 0 */
    assert_int_equal(st.memory_rss, 1024);
    assert_int_equal(st.pids_current, 2);
    CK_AUTOFREE char *oomf = kl_cgroup_oom_file(cg, path);
    CK_AUTOFREE char *want = ck_xasprintf("%s/memory.events", dir);
    assert_string_equal(oomf, want);

    assert_int_equal(kl_cgroup_destroy(cg, path), 0);
    assert_false(isdir(m, "kubepods/burstable/podu-9"));
    assert_true(isdir(m, "kubepods/burstable"));
    assert_int_equal(kl_cgroup_update(cg, path, &res), -ENOENT);
    free(path);
    kl_cgroups_free(cg);
    assert_int_equal(kl_rm_rf(m), 0);
}

struct oom_case {
    const char *text;
    uint64_t want;
};

static void oom_counter_parsing(void **state)
{
    (void)state;
    const struct oom_case cases[] = {
        {"oom_kill_disable 0\nunder_oom 0\noom_kill 7\n", 7},
        {"oom 4\noom_kill 2", 2},
        {"oom 4\n", 0},
        {"", 0},
        {"oom_kill x\n", 0},
        {"oom_killer 5\n", 0},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++)
        assert_int_equal(kl_cgroup_parse_oom_kills(cases[i].text), cases[i].want);
    assert_int_equal(kl_cgroup_parse_oom_kills(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conversions_match_upstream),
        cmocka_unit_test(v1_layout_limits_and_destroy),
        cmocka_unit_test(paths_outside_the_root_are_refused),
        cmocka_unit_test(v2_layout_limits_and_destroy),
        cmocka_unit_test(oom_counter_parsing),
    };
    return cmocka_run_group_tests_name("cgroups", tests, NULL, NULL);
}
