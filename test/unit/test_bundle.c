/* Unit tests for kubelet/runtime/bundle.c: a container spec plus an image config become the
 * OCI config.json upstream's kubelet + containerd would produce (command/args vs
 * Entrypoint/Cmd, $(VAR) expansion, env merging, workingDir, users and groups from the image's
 * passwd/group, capabilities, privileged, read-only root, mounts and their order, resources,
 * namespaces), plus the file helpers and the in-root reading of /etc/passwd. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "kubelet/runtime/bundle.h"
#include "mem.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static const struct kl_bundle_env ENV0 = {
    .container_id = "c0ffee",
    .sandbox_id = "5a5a",
    .pod_name = "web",
    .pod_namespace = "default",
    .hostname = "web",
    .node_hostname = "node-1",
    .netns_path = "/run/sb/ns/net",
    .ipcns_path = "/run/sb/ns/ipc",
    .utsns_path = "/run/sb/ns/uts",
    .hostname_file = "/run/sb/hostname",
    .hosts_file = "/run/sb/hosts",
    .resolv_conf_file = "/run/sb/resolv.conf",
    .shm_dir = "/run/sb/shm",
    .termination_log_file = "/run/c/termination-log",
    .cgroup_parent = "/kubepods/burstable/pod42",
    .cap_last_cap = 40,
};

static cJSON *parse(const char *json)
{
    if (!json)
        return NULL;
    cJSON *j = ck_json_parse(json, strlen(json), NULL);
    assert_non_null(j);
    return j;
}

/* Builds the config; the test fails unless that succeeds. */
static cJSON *build(const struct kl_container_spec *spec, const char *image,
                    const struct kl_bundle_env *env)
{
    cJSON *img = parse(image);
    cJSON *out = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = kl_bundle_config(spec, img, env ? env : &ENV0, &out, &err);
    if (rc < 0)
        fprintf(stderr, "# kl_bundle_config: %s\n", err.message);
    assert_int_equal(rc, 0);
    cJSON_Delete(img);
    return out;
}

/* Builds expecting failure; returns the error message (static). */
static const char *build_err(const struct kl_container_spec *spec, const char *image,
                             const struct kl_bundle_env *env)
{
    static struct ck_error err;
    ck_error_clear(&err);
    cJSON *img = parse(image);
    cJSON *out = (cJSON *)1;
    assert_int_equal(kl_bundle_config(spec, img, env ? env : &ENV0, &out, &err), -EINVAL);
    assert_null(out);
    cJSON_Delete(img);
    return err.message;
}

/* The strings of a JSON array joined with '|' (caller frees). */
static char *joined(const cJSON *arr)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_init(&b);
    const cJSON *it;
    bool first = true;
    cJSON_ArrayForEach(it, arr)
    {
        if (!first)
            ck_buf_putc(&b, '|');
        first = false;
        if (cJSON_IsString(it))
            ck_buf_puts(&b, it->valuestring);
        else if (cJSON_IsNumber(it))
            ck_buf_printf(&b, "%lld", (long long)ck_json_as_int64(it, -1));
        else if (cJSON_IsObject(it))
            ck_buf_printf(&b, "%s:%s", ck_json_get_string(it, "type", "?"),
                          ck_json_get_string(it, "path", "-"));
    }
    return ck_buf_detach(&b);
}

static char *get_joined(const cJSON *cfg, const char *path)
{
    const cJSON *a = ck_json_get(cfg, path);
    assert_true(cJSON_IsArray(a));
    return joined(a);
}

#define V(...) ((const char *const[]){__VA_ARGS__})
#define N(...) (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* ---- command and args ------------------------------------------------------------------------ */

struct args_case {
    const char *name;
    const char *const *command;
    size_t n_command;
    const char *const *args;
    size_t n_args;
    const char *image;
    const char *want; /* '|'-joined argv, or NULL for "no command specified" */
};

static void args_follow_kubernetes_rules(void **state)
{
    (void)state;
    const char *img = "{\"config\":{\"Entrypoint\":[\"/ep\",\"-x\"],\"Cmd\":[\"a\",\"b\"]}}";
    const struct args_case cases[] = {
        {"neither: Entrypoint + Cmd", NULL, 0, NULL, 0, img, "/ep|-x|a|b"},
        {"args only: Entrypoint + args", NULL, 0, V("x"), 1, img, "/ep|-x|x"},
        {"command only: image ignored", V("/c"), 1, NULL, 0, img, "/c"},
        {"command and args", V("/c", "-v"), 2, V("y", "z"), 2, img, "/c|-v|y|z"},
        {"Entrypoint [\"\"] counts as none", NULL, 0, NULL, 0,
         "{\"Entrypoint\":[\"\"],\"Cmd\":[\"sh\"]}", "sh"},
        {"args without Entrypoint run as they are", NULL, 0, V("sh", "-c", "x"), 3,
         "{\"Cmd\":[\"ignored\"]}", "sh|-c|x"},
        {"only Entrypoint", NULL, 0, NULL, 0, "{\"Entrypoint\":[\"/only\"]}", "/only"},
        {"null Entrypoint and Cmd", NULL, 0, NULL, 0, "{\"Entrypoint\":null,\"Cmd\":null}", NULL},
        {"no image config at all", NULL, 0, NULL, 0, NULL, NULL},
        {"whole image config blob", NULL, 0, NULL, 0,
         "{\"architecture\":\"amd64\",\"config\":{\"Cmd\":[\"blob\"]},\"rootfs\":{}}", "blob"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        const struct args_case *c = &cases[i];
        struct kl_container_spec spec = {.name = "c",
                                         .command = c->command,
                                         .n_command = c->n_command,
                                         .args = c->args,
                                         .n_args = c->n_args};
        if (!c->want) {
            assert_string_equal(build_err(&spec, c->image, NULL), "no command specified");
            continue;
        }
        cJSON *cfg = build(&spec, c->image, NULL);
        CK_AUTOFREE char *got = get_joined(cfg, "process.args");
        if (strcmp(got, c->want) != 0)
            fail_msg("%s: got %s, want %s", c->name, got, c->want);
        cJSON_Delete(cfg);
    }
}

static void command_and_args_expand_container_env(void **state)
{
    (void)state;
    struct kl_container_spec spec = {
        .name = "c",
        .command = V("echo", "$(FOO)", "$$(FOO)", "$(MISSING)"),
        .n_command = 4,
        .args = V("$(FOO", "a$b", "$(FOO)$(BAR)"),
        .n_args = 3,
        .env = V("FOO=first", "BAR=x", "FOO=bar"),
        .n_env = 3,
    };
    /* the image's Env does not take part in the expansion */
    cJSON *cfg = build(&spec, "{\"Env\":[\"MISSING=img\"]}", NULL);
    CK_AUTOFREE char *got = get_joined(cfg, "process.args");
    assert_string_equal(got, "echo|bar|$(FOO)|$(MISSING)|$(FOO|a$b|barx");
    cJSON_Delete(cfg);
}

struct expand_case {
    const char *in, *want;
};

static void expand_vars_like_the_kubelet(void **state)
{
    (void)state;
    const char *env[] = {"A=1", "EMPTY=", "B=two", "A=one"};
    const struct expand_case cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"$(A)", "one"}, /* the last definition wins */
        {"x$(A)y$(B)z", "xoneytwoz"},
        {"$(EMPTY)|", "|"},
        {"$$", "$"},
        {"$$$$", "$$"},
        {"$$(A)", "$(A)"},
        {"$", "$"},
        {"a$", "a$"},
        {"$x", "$x"},
        {"$(", "$("},
        {"$(A", "$(A"},
        {"$()", "$()"},
        {"$(NOPE)", "$(NOPE)"},
        {"$(A)$(A)", "oneone"},
        {"$($(A))", "$($(A))"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        CK_AUTOFREE char *got = kl_expand_vars(cases[i].in, env, 4);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("expand(%s) = %s, want %s", cases[i].in, got, cases[i].want);
    }
    CK_AUTOFREE char *null_in = kl_expand_vars(NULL, env, 4);
    assert_string_equal(null_in, "");
}

/* ---- env, cwd ------------------------------------------------------------------------------- */

static void env_merges_defaults_image_and_container(void **state)
{
    (void)state;
    struct kl_container_spec spec = {
        .name = "c",
        .command = V("/x"),
        .n_command = 1,
        .env = V("B=3", "C=4", "HOSTNAME=mine", "EMPTY="),
        .n_env = 4,
    };
    cJSON *cfg = build(&spec, "{\"Env\":[\"PATH=/img/bin\",\"A=1\",\"B=2\"]}", NULL);
    CK_AUTOFREE char *got = get_joined(cfg, "process.env");
    /* later values replace earlier ones in place; new names are appended */
    assert_string_equal(got, "PATH=/img/bin|HOSTNAME=mine|A=1|B=3|C=4|EMPTY=");
    cJSON_Delete(cfg);

    /* no image Env: the default PATH and the pod's hostname (the node's when it has none) */
    struct kl_container_spec bare = {.name = "c", .command = V("/x"), .n_command = 1};
    struct kl_bundle_env env = ENV0;
    env.hostname = "";
    cfg = build(&bare, "{}", &env);
    CK_AUTOFREE char *got2 = get_joined(cfg, "process.env");
    assert_string_equal(got2, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|"
                              "HOSTNAME=node-1");
    cJSON_Delete(cfg);
}

static void working_dir_from_spec_then_image_then_root(void **state)
{
    (void)state;
    struct kl_container_spec spec = {.name = "c", .command = V("/x"), .n_command = 1};
    cJSON *cfg = build(&spec, "{\"WorkingDir\":\"/srv\"}", NULL);
    assert_string_equal(ck_json_get_string(cfg, "process.cwd", ""), "/srv");
    cJSON_Delete(cfg);
    spec.working_dir = "/data";
    cfg = build(&spec, "{\"WorkingDir\":\"/srv\"}", NULL);
    assert_string_equal(ck_json_get_string(cfg, "process.cwd", ""), "/data");
    cJSON_Delete(cfg);
    spec.working_dir = NULL;
    cfg = build(&spec, "{\"WorkingDir\":\"\"}", NULL);
    assert_string_equal(ck_json_get_string(cfg, "process.cwd", ""), "/");
    cJSON_Delete(cfg);
}

/* ---- users ------------------------------------------------------------------------------------
 */

static const char *PASSWD = "root:x:0:0:root:/root:/bin/sh\n"
                            "# a comment\n"
                            "broken line\n"
                            "alice:x:1000:1000::/home/alice:/bin/sh\n"
                            "nobody:x:65534:65534::/:/bin/false\n";
static const char *GROUP = "root:x:0:\n"
                           "wheel:x:10:root,alice\n"
                           "staff:x:20:alice\n"
                           "alice:x:1000:alice\n"
                           "web:x:3000:\n";

struct user_case {
    const char *name;
    const char *image_user;
    bool has_uid;
    int64_t uid;
    bool has_gid;
    int64_t gid;
    const int64_t *supp;
    size_t n_supp;
    const char *want; /* "uid gid additionalGids" or NULL: error */
    const char *want_err;
};

static void users_resolve_through_the_image(void **state)
{
    (void)state;
    static const int64_t supp[] = {5, 10};
    const struct user_case cases[] = {
        {"no user: root and root's groups", NULL, false, 0, false, 0, NULL, 0, "0 0 0|10", NULL},
        {"image user name", "alice", false, 0, false, 0, NULL, 0, "1000 1000 1000|10|20", NULL},
        {"image uid:gid keeps only the uid", "1000:2000", false, 0, false, 0, NULL, 0,
         "1000 1000 1000|10|20", NULL},
        {"uid without passwd entry gets gid 0", "4242", false, 0, false, 0, NULL, 0, "4242 0 0",
         NULL},
        {"runAsUser overrides the image", "nobody", true, 1000, false, 0, NULL, 0,
         "1000 1000 1000|10|20", NULL},
        {"runAsUser and runAsGroup", NULL, true, 1000, true, 3000, NULL, 0, "1000 3000 3000|10|20",
         NULL},
        {"runAsGroup with the image's user", "alice", false, 0, true, 3000, NULL, 0,
         "1000 3000 3000|10|20", NULL},
        {"supplementalGroups appended once", NULL, true, 1000, false, 0, supp, 2,
         "1000 1000 1000|10|20|5", NULL},
        {"runAsGroup without any user", NULL, false, 0, true, 3000, NULL, 0, NULL,
         "user group \"3000\" is specified without user"},
        {"unknown user name", "ghost", false, 0, false, 0, NULL, 0, NULL,
         "unable to find user ghost: no matching entries in passwd file"},
    };
    struct kl_bundle_env env = ENV0;
    env.passwd = PASSWD;
    env.group = GROUP;
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        const struct user_case *c = &cases[i];
        struct kl_container_spec spec = {.name = "c",
                                         .command = V("/x"),
                                         .n_command = 1,
                                         .has_run_as_user = c->has_uid,
                                         .run_as_user = c->uid,
                                         .has_run_as_group = c->has_gid,
                                         .run_as_group = c->gid,
                                         .supplemental_groups = c->supp,
                                         .n_supplemental_groups = c->n_supp};
        CK_AUTOFREE char *img =
            c->image_user ? ck_xasprintf("{\"User\":\"%s\"}", c->image_user) : ck_xstrdup("{}");
        if (!c->want) {
            const char *msg = build_err(&spec, img, &env);
            if (strcmp(msg, c->want_err) != 0)
                fail_msg("%s: error %s", c->name, msg);
            continue;
        }
        cJSON *cfg = build(&spec, img, &env);
        CK_AUTOFREE char *gids = get_joined(cfg, "process.user.additionalGids");
        CK_AUTOFREE char *got =
            ck_xasprintf("%lld %lld %s", (long long)ck_json_get_int64(cfg, "process.user.uid", -1),
                         (long long)ck_json_get_int64(cfg, "process.user.gid", -1), gids);
        if (strcmp(got, c->want) != 0)
            fail_msg("%s: got %s, want %s", c->name, got, c->want);
        cJSON_Delete(cfg);
    }
    /* without passwd and group files a name cannot resolve, a uid still can */
    struct kl_container_spec spec = {.name = "c", .command = V("/x"), .n_command = 1};
    assert_string_equal(build_err(&spec, "{\"User\":\"alice\"}", NULL),
                        "unable to find user alice: no matching entries in passwd file");
    cJSON *cfg = build(&spec, "{\"User\":\"33\"}", NULL);
    assert_int_equal(ck_json_get_int64(cfg, "process.user.uid", -1), 33);
    assert_int_equal(ck_json_get_int64(cfg, "process.user.gid", -1), 0);
    cJSON_Delete(cfg);
}

/* ---- capabilities and privileges ----------------------------------------------------------------
 */

static const char *DEFAULT_CAPS = "CAP_CHOWN|CAP_DAC_OVERRIDE|CAP_FSETID|CAP_FOWNER|CAP_MKNOD|"
                                  "CAP_NET_RAW|CAP_SETGID|CAP_SETUID|CAP_SETFCAP|CAP_SETPCAP|"
                                  "CAP_NET_BIND_SERVICE|CAP_SYS_CHROOT|CAP_KILL|CAP_AUDIT_WRITE";

static int count_items(const char *joined_list)
{
    int n = joined_list[0] ? 1 : 0;
    for (const char *p = joined_list; *p; p++)
        n += *p == '|';
    return n;
}

static void capabilities_default_add_drop_all(void **state)
{
    (void)state;
    struct kl_container_spec spec = {.name = "c", .command = V("/x"), .n_command = 1};
    cJSON *cfg = build(&spec, "{}", NULL);
    const char *sets[] = {"bounding", "effective", "permitted"};
    for (size_t i = 0; i < 3; i++) {
        CK_AUTOFREE char *path = ck_xasprintf("process.capabilities.%s", sets[i]);
        CK_AUTOFREE char *got = get_joined(cfg, path);
        assert_string_equal(got, DEFAULT_CAPS);
    }
    assert_null(ck_json_get(cfg, "process.capabilities.ambient"));
    assert_null(ck_json_get(cfg, "process.capabilities.inheritable"));
    cJSON_Delete(cfg);

    /* names are upper-cased and prefixed; a drop removes, an add appends once */
    spec.cap_add = V("net_admin", "CHOWN");
    spec.n_cap_add = 2;
    spec.cap_drop = V("kill", "MKNOD", "NET_RAW");
    spec.n_cap_drop = 3;
    cfg = build(&spec, "{}", NULL);
    CK_AUTOFREE char *got = get_joined(cfg, "process.capabilities.bounding");
    assert_string_equal(got, "CAP_CHOWN|CAP_DAC_OVERRIDE|CAP_FSETID|CAP_FOWNER|CAP_SETGID|"
                             "CAP_SETUID|CAP_SETFCAP|CAP_SETPCAP|CAP_NET_BIND_SERVICE|"
                             "CAP_SYS_CHROOT|CAP_AUDIT_WRITE|CAP_NET_ADMIN");
    cJSON_Delete(cfg);

    /* add ALL then drop one: everything the kernel knows but that one */
    spec.cap_add = V("ALL");
    spec.n_cap_add = 1;
    spec.cap_drop = V("CHOWN");
    spec.n_cap_drop = 1;
    cfg = build(&spec, "{}", NULL);
    CK_AUTOFREE char *all_but = get_joined(cfg, "process.capabilities.effective");
    assert_int_equal(count_items(all_but), 40);
    assert_null(strstr(all_but, "CAP_CHOWN"));
    assert_non_null(strstr(all_but, "CAP_CHECKPOINT_RESTORE"));
    cJSON_Delete(cfg);

    /* drop ALL then add one: only that one ("all" in any case) */
    spec.cap_add = V("NET_BIND_SERVICE");
    spec.cap_drop = V("all");
    cfg = build(&spec, "{}", NULL);
    CK_AUTOFREE char *only = get_joined(cfg, "process.capabilities.permitted");
    assert_string_equal(only, "CAP_NET_BIND_SERVICE");
    cJSON_Delete(cfg);

    /* the kernel's last capability bounds ALL */
    struct kl_bundle_env env = ENV0;
    env.cap_last_cap = 37;
    spec.cap_add = V("ALL");
    spec.n_cap_drop = 0;
    cfg = build(&spec, "{}", &env);
    CK_AUTOFREE char *k37 = get_joined(cfg, "process.capabilities.bounding");
    assert_int_equal(count_items(k37), 38);
    assert_null(strstr(k37, "CAP_PERFMON"));
    cJSON_Delete(cfg);
}

static void privileged_and_security_settings(void **state)
{
    (void)state;
    struct kl_container_spec spec = {.name = "c", .command = V("/x"), .n_command = 1};
    cJSON *cfg = build(&spec, "{}", NULL);
    /* defaults: upstream's masked and read-only paths, devices denied, read-write root */
    CK_AUTOFREE char *masked = get_joined(cfg, "linux.maskedPaths");
    assert_string_equal(masked, "/proc/asound|/proc/acpi|/proc/kcore|/proc/keys|"
                                "/proc/latency_stats|/proc/timer_list|/proc/timer_stats|"
                                "/proc/sched_debug|/proc/scsi|/sys/firmware|"
                                "/sys/devices/virtual/powercap");
    CK_AUTOFREE char *ro = get_joined(cfg, "linux.readonlyPaths");
    assert_string_equal(ro, "/proc/bus|/proc/fs|/proc/irq|/proc/sys|/proc/sysrq-trigger");
    assert_false(ck_json_get_bool(cfg, "linux.resources.devices[0].allow", true));
    assert_string_equal(ck_json_get_string(cfg, "linux.resources.devices[0].access", ""), "rwm");
    assert_false(ck_json_get_bool(cfg, "root.readonly", true));
    assert_string_equal(ck_json_get_string(cfg, "root.path", ""), "rootfs");
    assert_false(ck_json_get_bool(cfg, "process.noNewPrivileges", true));
    assert_false(ck_json_get_bool(cfg, "process.terminal", true));
    cJSON_Delete(cfg);

    spec.read_only_root_filesystem = true;
    spec.no_new_privileges = true;
    spec.unmasked_proc_mount = true;
    cfg = build(&spec, "{}", NULL);
    assert_true(ck_json_get_bool(cfg, "root.readonly", false));
    assert_true(ck_json_get_bool(cfg, "process.noNewPrivileges", false));
    assert_int_equal(cJSON_GetArraySize(ck_json_get(cfg, "linux.maskedPaths")), 0);
    assert_int_equal(cJSON_GetArraySize(ck_json_get(cfg, "linux.readonlyPaths")), 0);
    cJSON_Delete(cfg);

    /* privileged: all capabilities whatever add/drop say, devices, rw sysfs and cgroupfs */
    struct kl_container_spec priv = {.name = "c",
                                     .command = V("/x"),
                                     .n_command = 1,
                                     .privileged = true,
                                     .cap_drop = V("ALL"),
                                     .n_cap_drop = 1};
    struct kl_bundle_env env = ENV0;
    env.cgroup_v2 = true;
    cfg = build(&priv, "{}", &env);
    CK_AUTOFREE char *caps = get_joined(cfg, "process.capabilities.bounding");
    assert_int_equal(count_items(caps), 41);
    assert_true(ck_json_get_bool(cfg, "linux.resources.devices[0].allow", false));
    assert_int_equal(cJSON_GetArraySize(ck_json_get(cfg, "linux.maskedPaths")), 0);
    CK_AUTOFREE char *mounts = NULL;
    const cJSON *m;
    cJSON_ArrayForEach(m, ck_json_get(cfg, "mounts"))
    {
        const char *dst = ck_json_get_string(m, "destination", "");
        if (strcmp(dst, "/sys") == 0 || strcmp(dst, "/sys/fs/cgroup") == 0) {
            CK_AUTOFREE char *o = joined(ck_json_getv(m, "options", NULL));
            assert_non_null(strstr(o, "|rw"));
            assert_null(strstr(o, "ro"));
        }
    }
    /* privileged containers see the host's cgroup tree: no cgroup namespace even on v2 */
    CK_AUTOFREE char *nss = get_joined(cfg, "linux.namespaces");
    assert_null(strstr(nss, "cgroup"));
    cJSON_Delete(cfg);
}

/* ---- mounts -------------------------------------------------------------------------------------
 */

/* "dst type src opt,opt" per mount, '\n'-separated (caller frees). */
static char *mounts_str(const cJSON *cfg)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_init(&b);
    const cJSON *m;
    cJSON_ArrayForEach(m, ck_json_get(cfg, "mounts"))
    {
        CK_AUTOFREE char *o = joined(ck_json_getv(m, "options", NULL));
        for (char *p = o; *p; p++)
            if (*p == '|')
                *p = ',';
        ck_buf_printf(&b, "%s %s %s %s\n", ck_json_get_string(m, "destination", ""),
                      ck_json_get_string(m, "type", ""), ck_json_get_string(m, "source", ""), o);
    }
    return ck_buf_detach(&b);
}

static void mounts_defaults_sandbox_files_and_volumes(void **state)
{
    (void)state;
    struct kl_mount vols[] = {
        {"/var/lib/data/deep", "/h/deep", false, KL_PROPAGATION_PRIVATE},
        {"/data", "/h/data", true, KL_PROPAGATION_HOST_TO_CONTAINER},
        {"/data/./x/../y/", "/h/y", false, KL_PROPAGATION_PRIVATE},
    };
    struct kl_container_spec spec = {.name = "c",
                                     .command = V("/x"),
                                     .n_command = 1,
                                     .mounts = vols,
                                     .n_mounts = 3,
                                     .termination_message_path = "/dev/termination-log"};
    cJSON *cfg = build(&spec, "{}", NULL);
    CK_AUTOFREE char *got = mounts_str(cfg);
    assert_string_equal(
        got, "/proc proc proc nosuid,noexec,nodev\n"
             "/dev tmpfs tmpfs nosuid,strictatime,mode=755,size=65536k\n"
             "/dev/pts devpts devpts nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5\n"
             "/dev/mqueue mqueue mqueue nosuid,noexec,nodev\n"
             "/sys sysfs sysfs nosuid,noexec,nodev,ro\n"
             "/sys/fs/cgroup cgroup cgroup nosuid,noexec,nodev,relatime,ro\n"
             /* then binds by depth, the sandbox's first among equals */
             "/data bind /h/data rbind,rslave,ro\n"
             "/etc/hostname bind /run/sb/hostname rbind,rprivate,rw\n"
             "/etc/hosts bind /run/sb/hosts rbind,rprivate,rw\n"
             "/etc/resolv.conf bind /run/sb/resolv.conf rbind,rprivate,rw\n"
             "/dev/shm bind /run/sb/shm rbind,rprivate,rw\n"
             "/data/y bind /h/y rbind,rprivate,rw\n"
             "/dev/termination-log bind /run/c/termination-log rbind,rprivate,rw\n"
             "/var/lib/data/deep bind /h/deep rbind,rprivate,rw\n");
    /* HostToContainer makes the root rslave */
    assert_string_equal(ck_json_get_string(cfg, "linux.rootfsPropagation", ""), "rslave");
    cJSON_Delete(cfg);

    /* read-only root: the sandbox files too; the kubelet's own /etc/hosts wins; Bidirectional */
    struct kl_mount vols2[] = {
        {"/etc/hosts", "/pods/42/etc-hosts", false, KL_PROPAGATION_PRIVATE},
        {"/mnt/shared", "/h/shared", false, KL_PROPAGATION_BIDIRECTIONAL},
    };
    struct kl_container_spec spec2 = {.name = "c",
                                      .command = V("/x"),
                                      .n_command = 1,
                                      .mounts = vols2,
                                      .n_mounts = 2,
                                      .read_only_root_filesystem = true,
                                      .termination_message_path = "/tmp/msg",
                                      .termination_message_host_path = "/pods/42/c/abc"};
    cfg = build(&spec2, "{}", NULL);
    CK_AUTOFREE char *got2 = mounts_str(cfg);
    assert_non_null(strstr(got2, "/etc/hosts bind /pods/42/etc-hosts rbind,rprivate,rw\n"));
    assert_null(strstr(got2, "/run/sb/hosts"));
    assert_non_null(strstr(got2, "/etc/hostname bind /run/sb/hostname rbind,rprivate,ro\n"));
    assert_non_null(strstr(got2, "/etc/resolv.conf bind /run/sb/resolv.conf rbind,rprivate,ro\n"));
    assert_non_null(strstr(got2, "/dev/shm bind /run/sb/shm rbind,rprivate,rw\n"));
    assert_non_null(strstr(got2, "/tmp/msg bind /pods/42/c/abc rbind,rprivate,rw\n"));
    assert_non_null(strstr(got2, "/mnt/shared bind /h/shared rbind,rshared,rw\n"));
    assert_string_equal(ck_json_get_string(cfg, "linux.rootfsPropagation", ""), "rshared");
    cJSON_Delete(cfg);

    /* a volume at /dev replaces every default under it; no sandbox files without a sandbox */
    struct kl_mount vols3[] = {{"/dev", "/h/dev", false, KL_PROPAGATION_PRIVATE}};
    struct kl_container_spec spec3 = {
        .name = "c", .command = V("/x"), .n_command = 1, .mounts = vols3, .n_mounts = 1};
    struct kl_bundle_env env = ENV0;
    env.hostname_file = env.hosts_file = env.resolv_conf_file = env.shm_dir = NULL;
    cfg = build(&spec3, "{}", &env);
    CK_AUTOFREE char *got3 = mounts_str(cfg);
    assert_string_equal(got3, "/proc proc proc nosuid,noexec,nodev\n"
                              "/sys sysfs sysfs nosuid,noexec,nodev,ro\n"
                              "/sys/fs/cgroup cgroup cgroup nosuid,noexec,nodev,relatime,ro\n"
                              "/dev bind /h/dev rbind,rprivate,rw\n");
    assert_null(ck_json_get(cfg, "linux.rootfsPropagation"));
    cJSON_Delete(cfg);

    /* relative paths are refused */
    struct kl_mount bad[] = {{"data", "/h/data", false, KL_PROPAGATION_PRIVATE}};
    struct kl_container_spec spec4 = {
        .name = "c", .command = V("/x"), .n_command = 1, .mounts = bad, .n_mounts = 1};
    assert_non_null(strstr(build_err(&spec4, "{}", NULL), "must be absolute"));
    struct kl_container_spec spec5 = {.name = "c",
                                      .command = V("/x"),
                                      .n_command = 1,
                                      .termination_message_path = "dev/termination-log"};
    assert_non_null(strstr(build_err(&spec5, "{}", NULL), "must be absolute"));
}

/* ---- resources, namespaces, the rest
 * -------------------------------------------------------------- */

struct res_case {
    int64_t req, lim, mem;
    int64_t shares, quota; /* quota -1: absent */
};

static void resources_from_requests_and_limits(void **state)
{
    (void)state;
    const struct res_case cases[] = {
        {0, 0, 0, 2, -1},           /* BestEffort: minimum shares, no quota */
        {250, 0, 0, 256, -1},       /* request only */
        {250, 500, 0, 256, 50000},  /* request and limit */
        {0, 1000, 0, 1024, 100000}, /* limit only: the request defaults to it */
        {100, 1, 0, 102, 1000},     /* a quota of at least 1ms */
        {1, 0, 0, 2, -1},           /* shares never below 2 */
        {2500, 2500, 128 << 20, 2560, 250000},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        const struct res_case *c = &cases[i];
        struct kl_container_spec spec = {.name = "c",
                                         .command = V("/x"),
                                         .n_command = 1,
                                         .cpu_request_milli = c->req,
                                         .cpu_limit_milli = c->lim,
                                         .memory_limit = c->mem,
                                         .oom_score_adj = 984};
        cJSON *cfg = build(&spec, "{}", NULL);
        assert_int_equal(ck_json_get_int64(cfg, "linux.resources.cpu.shares", -1), c->shares);
        assert_int_equal(ck_json_get_int64(cfg, "linux.resources.cpu.quota", -1), c->quota);
        assert_int_equal(ck_json_get_int64(cfg, "linux.resources.cpu.period", -1), 100000);
        assert_int_equal(ck_json_get_int64(cfg, "process.oomScoreAdj", 0), 984);
        if (c->mem) {
            assert_int_equal(ck_json_get_int64(cfg, "linux.resources.memory.limit", -1), c->mem);
            /* swap as large as memory on v1: no swapping */
            assert_int_equal(ck_json_get_int64(cfg, "linux.resources.memory.swap", -1), c->mem);
        } else {
            assert_null(ck_json_get(cfg, "linux.resources.memory"));
        }
        cJSON_Delete(cfg);
    }
    struct kl_container_spec spec = {
        .name = "c", .command = V("/x"), .n_command = 1, .memory_limit = 8 << 20};
    struct kl_bundle_env env = ENV0;
    env.cgroup_v2 = true;
    cJSON *cfg = build(&spec, "{}", &env);
    assert_int_equal(ck_json_get_int64(cfg, "linux.resources.memory.limit", -1), 8 << 20);
    assert_null(ck_json_get(cfg, "linux.resources.memory.swap"));
    assert_string_equal(ck_json_get_string(cfg, "linux.cgroupsPath", ""),
                        "/kubepods/burstable/pod42/c0ffee");
    cJSON_Delete(cfg);
}

static void namespaces_hostname_and_annotations(void **state)
{
    (void)state;
    struct kl_container_spec spec = {.name = "app",
                                     .image = "docker.io/library/busybox:1.36",
                                     .command = V("/x"),
                                     .n_command = 1,
                                     .annotations = V("team=a", "bad", "=x", "team=b"),
                                     .n_annotations = 4};
    cJSON *cfg = build(&spec, "{}", NULL);
    CK_AUTOFREE char *nss = get_joined(cfg, "linux.namespaces");
    assert_string_equal(nss, "pid:-|ipc:/run/sb/ns/ipc|uts:/run/sb/ns/uts|mount:-|"
                             "network:/run/sb/ns/net");
    assert_string_equal(ck_json_get_string(cfg, "hostname", ""), "web");
    assert_string_equal(ck_json_getv(cfg, "annotations", "team", NULL)->valuestring, "b");
    assert_null(ck_json_getv(cfg, "annotations", "bad", NULL));
    assert_string_equal(
        ck_json_getv(cfg, "annotations", "io.kubernetes.cri.container-name", NULL)->valuestring,
        "app");
    assert_string_equal(
        ck_json_getv(cfg, "annotations", "io.kubernetes.cri.sandbox-id", NULL)->valuestring,
        "5a5a");
    assert_string_equal(
        ck_json_getv(cfg, "annotations", "io.kubernetes.cri.image-name", NULL)->valuestring,
        "docker.io/library/busybox:1.36");
    assert_string_equal(ck_json_get_string(cfg, "ociVersion", ""), "1.0.2-dev");
    cJSON_Delete(cfg);

    /* hostNetwork + hostPID: no network, uts, pid entries and no hostname to set */
    struct kl_bundle_env env = ENV0;
    env.netns_path = env.utsns_path = NULL;
    env.host_pid = true;
    env.cgroup_v2 = true;
    cfg = build(&spec, "{}", &env);
    CK_AUTOFREE char *nss2 = get_joined(cfg, "linux.namespaces");
    assert_string_equal(nss2, "ipc:/run/sb/ns/ipc|mount:-|cgroup:-");
    assert_null(ck_json_get(cfg, "hostname"));
    cJSON_Delete(cfg);

    /* a name is required */
    struct kl_container_spec anon = {.command = V("/x"), .n_command = 1};
    assert_string_equal(build_err(&anon, "{}", NULL), "container name is required");
}

/* ---- files
 * ---------------------------------------------------------------------------------------- */

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/ckube-kltest-bundle-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return ck_xstrdup(tmpl);
}

static void read_users_stays_inside_the_root(void **state)
{
    (void)state;
    CK_AUTOFREE char *root = tmpdir();
    CK_AUTOFREE char *etc = ck_xasprintf("%s/etc", root);
    assert_int_equal(kl_mkdir_p(etc, 0755), 0);
    CK_AUTOFREE char *real = ck_xasprintf("%s/etc/real-passwd", root);
    assert_int_equal(kl_write_file_atomic(real, "alice:x:1:1::/:/bin/sh\n", 23, 0644), 0);
    /* an absolute symlink resolves inside the image root, not on the host */
    CK_AUTOFREE char *pw = ck_xasprintf("%s/etc/passwd", root);
    assert_int_equal(symlink("/etc/real-passwd", pw), 0);
    /* climbing out stops at the image root: the host's /etc/group is never read */
    CK_AUTOFREE char *gr = ck_xasprintf("%s/etc/group", root);
    assert_int_equal(symlink("../../../../../../etc/hostname-nope", gr), 0);
    char *passwd = NULL, *group = NULL;
    assert_int_equal(kl_rootfs_read_users(root, &passwd, &group), 0);
    assert_string_equal(passwd, "alice:x:1:1::/:/bin/sh\n");
    assert_null(group);
    free(passwd);
    /* directories and missing roots */
    assert_int_equal(unlink(gr), 0);
    assert_int_equal(mkdir(gr, 0755), 0);
    assert_int_equal(kl_rootfs_read_users(root, &passwd, &group), 0);
    assert_null(group);
    free(passwd);
    assert_int_equal(kl_rootfs_read_users("/no/such/root", &passwd, &group), -ENOENT);
    assert_int_equal(kl_rm_rf(root), 0);
    assert_int_equal(access(root, F_OK), -1);
}

static void file_helpers(void **state)
{
    (void)state;
    CK_AUTOFREE char *root = tmpdir();
    CK_AUTOFREE char *deep = ck_xasprintf("%s/a/b/c", root);
    assert_int_equal(kl_mkdir_p(deep, 0755), 0);
    assert_int_equal(kl_mkdir_p(deep, 0755), 0); /* idempotent */
    CK_AUTOFREE char *f = ck_xasprintf("%s/file", deep);
    assert_int_equal(kl_write_file_atomic(f, "one", 3, 0600), 0);
    assert_int_equal(kl_write_file_atomic(f, "two!", 4, 0640), 0);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(kl_read_file(f, 100, &text, &len), 0);
    assert_string_equal(text, "two!");
    assert_int_equal(len, 4);
    free(text);
    struct stat st;
    assert_int_equal(stat(f, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(kl_read_file(f, 3, &text, &len), -EFBIG);
    assert_int_equal(kl_mkdir_p(f, 0755), -ENOTDIR);
    /* JSON state files and key=value objects */
    CK_AUTOFREE char *jf = ck_xasprintf("%s/s.json", root);
    cJSON *kv = kl_kv_object(V("a=1", "b=x=y", "noeq", "=v", "a=2"), 5);
    assert_int_equal(kl_write_json_file(jf, kv), 0);
    cJSON *back = kl_read_json_file(jf);
    assert_true(ck_json_equal(kv, back));
    assert_string_equal(ck_json_get_string(back, "a", ""), "2");
    assert_string_equal(ck_json_get_string(back, "b", ""), "x=y");
    assert_int_equal(cJSON_GetArraySize(back), 2);
    cJSON_Delete(kv);
    cJSON_Delete(back);
    CK_AUTOFREE char *id1 = kl_new_id();
    CK_AUTOFREE char *id2 = kl_new_id();
    assert_int_equal(strlen(id1), 64);
    assert_string_not_equal(id1, id2);
    /* rm -rf does not follow symlinks out of the tree */
    CK_AUTOFREE char *outside = tmpdir();
    CK_AUTOFREE char *keep = ck_xasprintf("%s/keep", outside);
    assert_int_equal(kl_write_file_atomic(keep, "k", 1, 0600), 0);
    CK_AUTOFREE char *link = ck_xasprintf("%s/a/link", root);
    assert_int_equal(symlink(outside, link), 0);
    assert_int_equal(kl_rm_rf(root), 0);
    assert_int_equal(access(root, F_OK), -1);
    assert_int_equal(access(keep, F_OK), 0);
    assert_int_equal(kl_rm_rf(outside), 0);
    assert_int_equal(kl_rm_rf(root), 0); /* already gone */
    assert_int_equal(kl_rm_rf("/"), -EINVAL);
    assert_false(kl_has_mounts_under(root));
    /* overlay options refuse separators inside paths */
    const char *layers[] = {"/l/a,b"};
    assert_int_equal(kl_rootfs_mount(layers, 1, "/u", "/w", "/t"), -EINVAL);
    assert_int_equal(kl_rootfs_mount(layers, 0, "/u", "/w", "/t"), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(args_follow_kubernetes_rules),
        cmocka_unit_test(command_and_args_expand_container_env),
        cmocka_unit_test(expand_vars_like_the_kubelet),
        cmocka_unit_test(env_merges_defaults_image_and_container),
        cmocka_unit_test(working_dir_from_spec_then_image_then_root),
        cmocka_unit_test(users_resolve_through_the_image),
        cmocka_unit_test(capabilities_default_add_drop_all),
        cmocka_unit_test(privileged_and_security_settings),
        cmocka_unit_test(mounts_defaults_sandbox_files_and_volumes),
        cmocka_unit_test(resources_from_requests_and_limits),
        cmocka_unit_test(namespaces_hostname_and_annotations),
        cmocka_unit_test(read_users_stays_inside_the_root),
        cmocka_unit_test(file_helpers),
    };
    return cmocka_run_group_tests_name("bundle", tests, NULL, NULL);
}
