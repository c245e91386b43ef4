/* Unit tests for kubelet/volumes.c: upstream's AtomicWriter layout (..data, timestamped
 * directories, visible symlinks), configMap / secret / downwardAPI / projected volumes with
 * items, modes and optional sources, the downward API's formats, emptyDir and hostPath with
 * their type checks, and teardown. ConfigMaps and Secrets come from a fake getter. Works in
 * /tmp/ckube-klvol-<pid> (removed at the end); the tmpfs cases need root and skip otherwise. */
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
#include <sys/vfs.h>
#include <unistd.h>

#include "json.h"
#include "kubelet/runtime/bundle.h"
#include "kubelet/volumes.h"
#include "mem.h"

static char g_dir[64];

static cJSON *parse(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *j = ck_json_parse(s, strlen(s), &err);
    if (!j)
        fail_msg("bad JSON in test: %s", err.message);
    return j;
}

/* the fake API: configmaps cm1 (and binaryData), secret s1 in namespace ns */
static int fake_get(void *ctx, const char *resource, const char *ns, const char *name, cJSON **out,
                    struct ck_error *err)
{
    int *calls = ctx;
    if (calls)
        (*calls)++;
    if (!strcmp(resource, "configmaps") && !strcmp(ns, "ns") && !strcmp(name, "cm1")) {
        *out =
            parse("{\"data\":{\"a\":\"alpha\",\"b\":\"beta\"},\"binaryData\":{\"bin\":\"AAEC\"}}");
        return 0;
    }
    if (!strcmp(resource, "secrets") && !strcmp(ns, "ns") && !strcmp(name, "s1")) {
        *out = parse("{\"data\":{\"password\":\"aHVudGVyMg==\"}}");
        return 0;
    }
    return ck_error_set(err, 404, CK_REASON_NOT_FOUND, "%s \"%s\" not found", resource, name);
}

static char *slurp(const char *path)
{
    char *s = NULL;
    if (kl_read_file(path, 1 << 20, &s, NULL) < 0)
        return NULL;
    return s;
}

static char *link_of(const char *path)
{
    char buf[256];
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return ck_xstrdup(buf);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/ckube-klvol-%d", (int)getpid());
    return kl_mkdir_p(g_dir, 0755);
}

static int group_teardown(void **state)
{
    (void)state;
    (void)kl_umount_all_under(g_dir);
    (void)kl_rm_rf(g_dir);
    return 0;
}

static void atomic_writer_layout_and_updates(void **state)
{
    (void)state;
    CK_AUTOFREE char *dir = ck_xasprintf("%s/aw", g_dir);
    struct kl_projection p = {0};
    p.f = ck_xcalloc(3, sizeof(*p.f));
    p.f[0] = (struct kl_file_projection){ck_xstrdup("key"), ck_xstrdup("v1"), 2, 0644};
    p.f[1] = (struct kl_file_projection){ck_xstrdup("sub/deep"), ck_xstrdup("d"), 1, 0400};
    p.f[2] = (struct kl_file_projection){ck_xstrdup("gone"), ck_xstrdup("g"), 1, 0644};
    p.n = 3;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_atomic_write(dir, &p, &err), 0);
    CK_AUTOFREE char *data = ck_xasprintf("%s/..data", dir);
    CK_AUTOFREE char *ts1 = link_of(data);
    assert_non_null(ts1);
    assert_true(!strncmp(ts1, "..", 2) && strlen(ts1) > 22); /* ..2026_11_23_02_00_00.xxxxxx */
    CK_AUTOFREE char *key = ck_xasprintf("%s/key", dir);
    CK_AUTOFREE char *kl = link_of(key);
    assert_string_equal(kl, "..data/key");
    CK_AUTOFREE char *kv = slurp(key);
    assert_string_equal(kv, "v1");
    CK_AUTOFREE char *subl_path = ck_xasprintf("%s/sub", dir);
    CK_AUTOFREE char *subl = link_of(subl_path);
    assert_string_equal(subl, "..data/sub"); /* only the top-level name is linked */
    CK_AUTOFREE char *deep = ck_xasprintf("%s/sub/deep", dir);
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0400);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0777);

    /* the same payload again: nothing is rewritten */
    assert_int_equal(kl_atomic_write(dir, &p, &err), 0);
    CK_AUTOFREE char *ts_same = link_of(data);
    assert_string_equal(ts_same, ts1);

    /* a changed payload: new data directory, old one gone, dropped names unlinked */
    free(p.f[0].data);
    p.f[0].data = ck_xstrdup("v2");
    p.n = 2;
    assert_int_equal(kl_atomic_write(dir, &p, &err), 0);
    CK_AUTOFREE char *ts2 = link_of(data);
    assert_string_not_equal(ts2, ts1);
    CK_AUTOFREE char *kv2 = slurp(key);
    assert_string_equal(kv2, "v2");
    CK_AUTOFREE char *old = ck_xasprintf("%s/%s", dir, ts1);
    assert_int_equal(access(old, F_OK), -1);
    CK_AUTOFREE char *gone = ck_xasprintf("%s/gone", dir);
    assert_int_equal(lstat(gone, &st), -1);
    p.n = 3;
    kl_projection_free(&p);

    /* paths that climb out or are absolute are refused */
    static const char *const bad[] = {"../x", "/etc/x", "a/../../x", "..data", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kl_projection b = {0};
        b.f = ck_xcalloc(1, sizeof(*b.f));
        b.f[0] = (struct kl_file_projection){ck_xstrdup(bad[i]), ck_xstrdup("x"), 1, 0644};
        b.n = 1;
        assert_int_equal(kl_atomic_write(dir, &b, &err), -EINVAL);
        kl_projection_free(&b);
    }
    ck_error_clear(&err);
}

static const char *POD =
    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u-1\","
    "\"labels\":{\"b\":\"2\",\"a\":\"x\\\"y\"},\"annotations\":{\"k\":\"v\"}},"
    "\"spec\":{\"nodeName\":\"node-1\",\"serviceAccountName\":\"default\",\"containers\":["
    "{\"name\":\"c\",\"resources\":{\"limits\":{\"memory\":\"64Mi\",\"cpu\":\"1500m\"},"
    "\"requests\":{\"cpu\":\"250m\"}}},{\"name\":\"d\"}]}}";

static void downward_api_fields_and_resources(void **state)
{
    (void)state;
    cJSON *pod = parse(POD);
    const char *ips[] = {"10.244.1.5"};
    cJSON *alloc = parse("{\"cpu\":\"2\",\"memory\":\"1Gi\"}");
    struct kl_downward_env d = {
        .host_ip = "10.250.0.11", .pod_ips = ips, .n_pod_ips = 1, .node_allocatable = alloc};
    static const char *const cases[][2] = {
        {"metadata.name", "p"},
        {"metadata.namespace", "ns"},
        {"metadata.uid", "u-1"},
        /* sorted `key="value"` lines, values quoted as Go's %q */
        {"metadata.labels", "a=\"x\\\"y\"\nb=\"2\""},
        {"metadata.labels['b']", "2"},
        {"metadata.annotations['k']", "v"},
        {"metadata.annotations['missing']", ""},
        {"spec.nodeName", "node-1"},
        {"spec.serviceAccountName", "default"},
        {"status.hostIP", "10.250.0.11"},
        {"status.podIP", "10.244.1.5"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *v = NULL;
        assert_int_equal(kl_downward_field(pod, &d, cases[i][0], &v, NULL), 0);
        if (strcmp(v, cases[i][1]) != 0)
            fail_msg("%s: \"%s\"", cases[i][0], v);
        free(v);
    }
    struct ck_error err = CK_ERROR_INIT;
    char *v = NULL;
    assert_int_equal(kl_downward_field(pod, &d, "spec.bogus", &v, &err), -EINVAL);
    assert_string_equal(err.message, "unsupported fieldPath: spec.bogus");
    static const char *const res[][4] = {
        {"c", "limits.memory", "1Mi", "64"},
        {"c", "limits.memory", NULL, "67108864"},
        {"c", "limits.cpu", "1", "2"}, /* 1.5 rounded up */
        {"c", "limits.cpu", "1m", "1500"},
        {"c", "requests.cpu", "1m", "250"},
        /* no limit: the node's allocatable */
        {"d", "limits.cpu", "1", "2"},
        {"d", "limits.memory", "1Mi", "1024"},
    };
    for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
        v = NULL;
        assert_int_equal(kl_downward_resource(pod, &d, res[i][0], res[i][1], res[i][2], &v, NULL),
                         0);
        if (strcmp(v, res[i][3]) != 0)
            fail_msg("%s %s/%s: \"%s\"", res[i][0], res[i][1], res[i][2] ? res[i][2] : "", v);
        free(v);
    }
    assert_true(kl_downward_resource(pod, &d, "c", "limits.gpu", NULL, &v, &err) < 0);
    assert_true(kl_downward_resource(pod, &d, "zz", "limits.cpu", NULL, &v, &err) < 0);
    ck_error_clear(&err);
    cJSON_Delete(alloc);
    cJSON_Delete(pod);
}

/* a pod with the given volumes JSON array, in namespace ns */
static cJSON *pod_with(const char *volumes)
{
    CK_AUTOFREE char *j =
        ck_xasprintf("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u-1\","
                     "\"labels\":{\"app\":\"x\"}},"
                     "\"spec\":{\"containers\":[{\"name\":\"c\"}],\"volumes\":%s}}",
                     volumes);
    return parse(j);
}

static void config_map_volume_items_and_modes(void **state)
{
    (void)state;
    CK_AUTOFREE char *pd = ck_xasprintf("%s/pod-cm", g_dir);
    cJSON *pod = pod_with("[{\"name\":\"all\",\"configMap\":{\"name\":\"cm1\"}},"
                          "{\"name\":\"some\",\"configMap\":{\"name\":\"cm1\",\"defaultMode\":256,"
                          "\"items\":[{\"key\":\"a\",\"path\":\"dir/first\"},"
                          "{\"key\":\"b\",\"path\":\"second\",\"mode\":384}]}}]");
    struct kl_pod_volumes v;
    struct ck_error err = CK_ERROR_INIT;
    int calls = 0;
    assert_int_equal(kl_volumes_setup(pd, pod, NULL, fake_get, &calls, &v, &err), 0);
    assert_int_equal(v.n, 2);
    const struct kl_volume *all = kl_pod_volume(&v, "all");
    assert_non_null(all);
    CK_AUTOFREE char *want = ck_xasprintf("%s/volumes/kubernetes.io~configmap/all", pd);
    assert_string_equal(all->path, want);
    assert_true(all->readonly);
    CK_AUTOFREE char *a = ck_xasprintf("%s/a", all->path);
    CK_AUTOFREE char *av = slurp(a);
    assert_string_equal(av, "alpha");
    CK_AUTOFREE char *bin = ck_xasprintf("%s/bin", all->path);
    CK_AUTOFREE char *bv = slurp(bin);
    assert_int_equal(bv[0], 0); /* binaryData decoded: 00 01 02 */
    struct stat st;
    assert_int_equal(stat(a, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    const struct kl_volume *some = kl_pod_volume(&v, "some");
    CK_AUTOFREE char *first = ck_xasprintf("%s/dir/first", some->path);
    CK_AUTOFREE char *fv = slurp(first);
    assert_string_equal(fv, "alpha");
    assert_int_equal(stat(first, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0400); /* defaultMode */
    CK_AUTOFREE char *second = ck_xasprintf("%s/second", some->path);
    assert_int_equal(stat(second, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600); /* the item's mode */
    CK_AUTOFREE char *bpath = ck_xasprintf("%s/b", some->path);
    assert_int_equal(access(bpath, F_OK), -1); /* only the items */
    assert_null(kl_pod_volume(&v, "nope"));
    kl_pod_volumes_free(&v);
    cJSON_Delete(pod);
    assert_int_equal(kl_volumes_teardown(pd), 0);
    assert_int_equal(access(pd, F_OK), -1);
}

static void missing_sources_fail_like_upstream(void **state)
{
    (void)state;
    CK_AUTOFREE char *pd = ck_xasprintf("%s/pod-miss", g_dir);
    static const char *const cases[][2] = {
        {"[{\"name\":\"v\",\"configMap\":{\"name\":\"nope\"}}]",
         "MountVolume.SetUp failed for volume \"v\" : configmap \"nope\" not found"},
        {"[{\"name\":\"v\",\"secret\":{\"secretName\":\"nope\"}}]",
         "MountVolume.SetUp failed for volume \"v\" : secret \"nope\" not found"},
        {"[{\"name\":\"v\",\"configMap\":{\"name\":\"cm1\",\"items\":[{\"key\":\"zz\",\"path\":"
         "\"z\"}]}}]",
         "MountVolume.SetUp failed for volume \"v\" : configmap references non-existent config "
         "key: zz"},
        {"[{\"name\":\"h\",\"hostPath\":{\"path\":\"/nonexistent/ckube\",\"type\":\"Directory\"}}]",
         "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: "
         "/nonexistent/ckube is not a directory"},
        {"[{\"name\":\"h\",\"hostPath\":{\"path\":\"/etc/hostname\",\"type\":\"Directory\"}}]",
         "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: /etc/hostname is "
         "not a directory"},
        {"[{\"name\":\"h\",\"hostPath\":{\"path\":\"/etc\",\"type\":\"File\"}}]",
         "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: /etc is not a "
         "file"},
        {"[{\"name\":\"e\",\"emptyDir\":{\"medium\":\"Disk\"}}]",
         "MountVolume.SetUp failed for volume \"e\" : unknown storage medium \"Disk\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *pod = pod_with(cases[i][0]);
        struct kl_pod_volumes v;
        struct ck_error err = CK_ERROR_INIT;
        assert_true(kl_volumes_setup(pd, pod, NULL, fake_get, NULL, &v, &err) < 0);
        if (strcmp(err.message, cases[i][1]) != 0)
            fail_msg("case %zu: \"%s\"", i, err.message);
        assert_int_equal(v.n, 0);
        ck_error_clear(&err);
        cJSON_Delete(pod);
    }
    /* optional sources that do not exist give an empty volume */
    cJSON *pod =
        pod_with("[{\"name\":\"v\",\"configMap\":{\"name\":\"nope\",\"optional\":true}},"
                 "{\"name\":\"w\",\"configMap\":{\"name\":\"cm1\",\"optional\":true,"
                 "\"items\":[{\"key\":\"zz\",\"path\":\"z\"},{\"key\":\"a\",\"path\":\"a\"}]}}]");
    struct kl_pod_volumes v;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_volumes_setup(pd, pod, NULL, fake_get, NULL, &v, &err), 0);
    CK_AUTOFREE char *data = ck_xasprintf("%s/..data", kl_pod_volume(&v, "v")->path);
    struct stat st;
    assert_int_equal(lstat(data, &st), 0);
    CK_AUTOFREE char *z = ck_xasprintf("%s/z", kl_pod_volume(&v, "w")->path);
    CK_AUTOFREE char *a = ck_xasprintf("%s/a", kl_pod_volume(&v, "w")->path);
    assert_int_equal(access(z, F_OK), -1);
    assert_int_equal(access(a, F_OK), 0);
    kl_pod_volumes_free(&v);
    cJSON_Delete(pod);
    kl_volumes_teardown(pd);
}

static void projected_and_downward_volumes(void **state)
{
    (void)state;
    CK_AUTOFREE char *pd = ck_xasprintf("%s/pod-proj", g_dir);
    cJSON *pod = pod_with(
        "[{\"name\":\"kube-api-access\",\"projected\":{\"defaultMode\":420,\"sources\":["
        "{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}},"
        "{\"configMap\":{\"name\":\"cm1\",\"items\":[{\"key\":\"b\",\"path\":\"ca.crt\"}]}},"
        "{\"downwardAPI\":{\"items\":[{\"path\":\"namespace\",\"fieldRef\":{\"apiVersion\":\"v1\","
        "\"fieldPath\":\"metadata.namespace\"}}]}}]}},"
        "{\"name\":\"info\",\"downwardAPI\":{\"items\":[{\"path\":\"labels\",\"fieldRef\":"
        "{\"fieldPath\":\"metadata.labels\"}},{\"path\":\"mem\",\"resourceFieldRef\":{"
        "\"containerName\":\"c\",\"resource\":\"limits.memory\",\"divisor\":\"1Mi\"}}]}}]");
    cJSON *alloc = parse("{\"memory\":\"2Gi\"}");
    struct kl_downward_env d = {.node_allocatable = alloc};
    struct kl_pod_volumes v;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_volumes_setup(pd, pod, &d, fake_get, NULL, &v, &err), 0);
    const struct kl_volume *pv = kl_pod_volume(&v, "kube-api-access");
    CK_AUTOFREE char *want = ck_xasprintf("%s/volumes/kubernetes.io~projected/kube-api-access", pd);
    assert_string_equal(pv->path, want);
    CK_AUTOFREE char *ns = ck_xasprintf("%s/namespace", pv->path);
    CK_AUTOFREE char *nsv = slurp(ns);
    assert_string_equal(nsv, "ns");
    CK_AUTOFREE char *ca = ck_xasprintf("%s/ca.crt", pv->path);
    CK_AUTOFREE char *cav = slurp(ca);
    assert_string_equal(cav, "beta");
    CK_AUTOFREE char *tok = ck_xasprintf("%s/token", pv->path);
    assert_int_equal(access(tok, F_OK), -1); /* no tokens issued yet */
    const struct kl_volume *iv = kl_pod_volume(&v, "info");
    CK_AUTOFREE char *want2 = ck_xasprintf("%s/volumes/kubernetes.io~downward-api/info", pd);
    assert_string_equal(iv->path, want2);
    CK_AUTOFREE char *lab = ck_xasprintf("%s/labels", iv->path);
    CK_AUTOFREE char *labv = slurp(lab);
    assert_string_equal(labv, "app=\"x\"");
    CK_AUTOFREE char *mem = ck_xasprintf("%s/mem", iv->path);
    CK_AUTOFREE char *memv = slurp(mem);
    assert_string_equal(memv, "2048");
    kl_pod_volumes_free(&v);
    cJSON_Delete(alloc);
    cJSON_Delete(pod);
    kl_volumes_teardown(pd);
}

static void empty_dir_and_host_path(void **state)
{
    (void)state;
    CK_AUTOFREE char *pd = ck_xasprintf("%s/pod-ed", g_dir);
    CK_AUTOFREE char *hp = ck_xasprintf("%s/host/made/here", g_dir);
    CK_AUTOFREE char *hf = ck_xasprintf("%s/host/file.txt", g_dir);
    CK_AUTOFREE char *vols = ck_xasprintf(
        "[{\"name\":\"scratch\",\"emptyDir\":{}},"
        "{\"name\":\"h\",\"hostPath\":{\"path\":\"%s\",\"type\":\"DirectoryOrCreate\"}},"
        "{\"name\":\"f\",\"hostPath\":{\"path\":\"%s\",\"type\":\"FileOrCreate\"}},"
        "{\"name\":\"any\",\"hostPath\":{\"path\":\"/etc\"}},"
        "{\"name\":\"claim\",\"persistentVolumeClaim\":{\"claimName\":\"x\"}}]",
        hp, hf);
    cJSON *pod = pod_with(vols);
    struct kl_pod_volumes v;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_volumes_setup(pd, pod, NULL, fake_get, NULL, &v, &err), 0);
    const struct kl_volume *ed = kl_pod_volume(&v, "scratch");
    CK_AUTOFREE char *want = ck_xasprintf("%s/volumes/kubernetes.io~empty-dir/scratch", pd);
    assert_string_equal(ed->path, want);
    assert_false(ed->readonly);
    struct stat st;
    assert_int_equal(stat(ed->path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0777);
    assert_string_equal(kl_pod_volume(&v, "h")->path, hp);
    assert_int_equal(stat(hp, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(stat(hf, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_string_equal(kl_pod_volume(&v, "any")->path, "/etc");
    assert_non_null(kl_pod_volume(&v, "claim")); /* stands in as an empty dir */
    /* set up again: idempotent */
    struct kl_pod_volumes v2;
    assert_int_equal(kl_volumes_setup(pd, pod, NULL, fake_get, NULL, &v2, &err), 0);
    assert_int_equal(v2.n, v.n);
    kl_pod_volumes_free(&v2);
    kl_pod_volumes_free(&v);
    cJSON_Delete(pod);
    kl_volumes_teardown(pd);
    /* the host path is the host's: teardown of the pod leaves it */
    assert_int_equal(access(hp, F_OK), 0);
}

static void secret_and_memory_volumes_are_tmpfs(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    CK_AUTOFREE char *pd = ck_xasprintf("%s/pod-sec", g_dir);
    cJSON *pod =
        pod_with("[{\"name\":\"creds\",\"secret\":{\"secretName\":\"s1\",\"defaultMode\":256}},"
                 "{\"name\":\"ram\",\"emptyDir\":{\"medium\":\"Memory\",\"sizeLimit\":\"8Mi\"}}]");
    struct kl_pod_volumes v;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_volumes_setup(pd, pod, NULL, fake_get, NULL, &v, &err), 0);
    const struct kl_volume *s = kl_pod_volume(&v, "creds");
    CK_AUTOFREE char *want = ck_xasprintf("%s/volumes/kubernetes.io~secret/creds", pd);
    assert_string_equal(s->path, want);
    struct statfs fs;
    assert_int_equal(statfs(s->path, &fs), 0);
    assert_int_equal(fs.f_type, 0x01021994); /* TMPFS_MAGIC */
    CK_AUTOFREE char *pw = ck_xasprintf("%s/password", s->path);
    CK_AUTOFREE char *pwv = slurp(pw);
    assert_string_equal(pwv, "hunter2"); /* base64 decoded */
    struct stat st;
    assert_int_equal(stat(pw, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0400);
    const struct kl_volume *r = kl_pod_volume(&v, "ram");
    assert_int_equal(statfs(r->path, &fs), 0);
    assert_int_equal(fs.f_type, 0x01021994);
    assert_int_equal((long long)fs.f_blocks * fs.f_bsize, 8 << 20);
    /* again: no second tmpfs on top */
    struct kl_pod_volumes v2;
    assert_int_equal(kl_volumes_setup(pd, pod, NULL, fake_get, NULL, &v2, &err), 0);
    kl_pod_volumes_free(&v2);
    kl_pod_volumes_free(&v);
    cJSON_Delete(pod);
    assert_true(kl_has_mounts_under(pd));
    assert_int_equal(kl_volumes_teardown(pd), 0);
    assert_false(kl_has_mounts_under(pd));
    assert_int_equal(access(pd, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(atomic_writer_layout_and_updates),
        cmocka_unit_test(downward_api_fields_and_resources),
        cmocka_unit_test(config_map_volume_items_and_modes),
        cmocka_unit_test(missing_sources_fail_like_upstream),
        cmocka_unit_test(projected_and_downward_volumes),
        cmocka_unit_test(empty_dir_and_host_path),
        cmocka_unit_test(secret_and_memory_volumes_are_tmpfs),
    };
    return cmocka_run_group_tests_name("kubelet volumes", tests, group_setup, group_teardown);
}
