/* Integration tests of the kubelet's container runtime (kubelet/runtime) against REAL runc,
 * overlayfs, namespaces and cgroups: a busybox root filesystem built from Debian's
 * busybox-static is the single image layer; containers run, are exec'd into, stopped
 * gracefully and forcibly, exit with codes, get OOM-killed, write CRI logs, share a sandbox's
 * network/IPC/UTS namespaces, survive a "kubelet restart", and are torn down without a trace.
 * Also the pure CRI log-line writer.
 *
 * Needs root, /usr/sbin/runc and /bin/busybox; skips otherwise. Everything it makes carries
 * the prefix ckube-klrt-<pid> (/tmp/ckube-klrt-<pid>/..., cgroup /ckube-klrt-<pid>); leftovers
 * of earlier runs whose pid is dead are swept at start, and atexit + signal handlers purge
 * this run's state even when a test fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "kubelet/runtime/bundle.h"
#include "kubelet/runtime/cgroups.h"
#include "kubelet/runtime/runc.h"
#include "kubelet/runtime/sandbox.h"
#include "kubelet/runtime/zygote.h"
#include "mem.h"
#include "timeutil.h"

#define PREFIX "ckube-klrt-"

static char g_prefix[128]; /* /tmp/ckube-klrt-<pid> */
static char g_root[160];   /* <prefix>/state */
static char g_layer[160];  /* <prefix>/layer: the busybox root filesystem */
static char g_logs[160];   /* <prefix>/logs */
static char g_cgroot[64];  /* /ckube-klrt-<pid> */
static struct kl_runtime *g_rt;
static bool g_usable;
static int g_sandboxes;

/* ---- cleanup ----------------------------------------------------------------------------- */

static bool pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Removes the state, mounts and cgroups of the run whose prefix dir is `dir` (may be gone). */
static void purge_run(const char *dir, const char *cgroot)
{
    CK_AUTOFREE char *state = ck_xasprintf("%s/state", dir);
    struct kl_runtime *rt = NULL;
    if (access(state, F_OK) == 0 && kl_runtime_init(state, cgroot, &rt, NULL) == 0) {
        (void)kl_runtime_purge(rt);
        kl_runtime_free(rt);
    }
    struct kl_cgroups *cg = NULL;
    if (kl_cgroups_init(NULL, cgroot, &cg) == 0) {
        (void)kl_cgroup_destroy(cg, cgroot);
        kl_cgroups_free(cg);
    }
    (void)kl_umount_all_under(dir);
    (void)kl_rm_rf(dir);
}

static void cleanup(void)
{
    if (!g_prefix[0])
        return;
    if (g_rt) {
        (void)kl_runtime_purge(g_rt);
        kl_runtime_free(g_rt);
        g_rt = NULL;
    }
    purge_run(g_prefix, g_cgroot);
}

static void on_signal(int sig)
{
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Leftovers of earlier runs (their pid is dead): dirs under /tmp and cgroups. */
static void sweep(void)
{
    DIR *d = opendir("/tmp");
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strncmp(de->d_name, PREFIX, strlen(PREFIX)) != 0)
                continue;
            long pid = strtol(de->d_name + strlen(PREFIX), NULL, 10);
            if (pid == getpid() || pid_alive(pid))
                continue;
            CK_AUTOFREE char *dir = ck_xasprintf("/tmp/%s", de->d_name);
            CK_AUTOFREE char *cgr = ck_xasprintf("/%s", de->d_name);
            purge_run(dir, cgr);
        }
        closedir(d);
    }
    DIR *h = opendir("/sys/fs/cgroup");
    if (!h)
        return;
    struct dirent *he;
    while ((he = readdir(h))) {
        if (he->d_name[0] == '.')
            continue;
        CK_AUTOFREE char *hd = ck_xasprintf("/sys/fs/cgroup/%s", he->d_name);
        DIR *c = opendir(hd);
        if (!c)
            continue;
        struct dirent *ce;
        while ((ce = readdir(c))) {
            if (strncmp(ce->d_name, PREFIX, strlen(PREFIX)) != 0)
                continue;
            long pid = strtol(ce->d_name + strlen(PREFIX), NULL, 10);
            if (pid == getpid() || pid_alive(pid))
                continue;
            CK_AUTOFREE char *cgr = ck_xasprintf("/%s", ce->d_name);
            struct kl_cgroups *cg = NULL;
            if (kl_cgroups_init(NULL, cgr, &cg) == 0) {
                (void)kl_cgroup_destroy(cg, cgr);
                kl_cgroups_free(cg);
            }
        }
        closedir(c);
    }
    closedir(h);
}

/* ---- fixture: the busybox layer and the runtime -----------------------------------------------
 */

static int copy_file(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (out < 0) {
        close(in);
        return -errno;
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n)
            rc = -EIO;
    close(in);
    close(out);
    return rc == 0 && chmod(to, mode) < 0 ? -errno : rc;
}

static int write_str(const char *path, const char *s)
{
    return kl_write_file_atomic(path, s, strlen(s), 0644);
}

static int build_layer(void)
{
    CK_AUTOFREE char *bin = ck_xasprintf("%s/bin", g_layer);
    CK_AUTOFREE char *etc = ck_xasprintf("%s/etc", g_layer);
    CK_AUTOFREE char *tmp = ck_xasprintf("%s/tmp", g_layer);
    CK_AUTOFREE char *bb = ck_xasprintf("%s/busybox", bin);
    if (kl_mkdir_p(bin, 0755) < 0 || kl_mkdir_p(etc, 0755) < 0 || kl_mkdir_p(tmp, 01777) < 0 ||
        chmod(tmp, 01777) < 0 || copy_file("/bin/busybox", bb, 0755) < 0)
        return -1;
    CK_AUTOFREE char *pw = ck_xasprintf("%s/passwd", etc);
    CK_AUTOFREE char *gr = ck_xasprintf("%s/group", etc);
    if (write_str(pw, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n") < 0 ||
        write_str(gr, "root:x:0:\nnogroup:x:65534:\n") < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        if (chroot(g_layer) < 0 || chdir("/") < 0)
            _exit(1);
        execl("/bin/busybox", "/bin/busybox", "--install", "-s", "/bin", (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    CK_AUTOFREE char *sh = ck_xasprintf("%s/sh", bin);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 && access(sh, F_OK) == 0 ? 0 : -1;
}

static int group_setup(void **state)
{
    (void)state;
    if (geteuid() != 0 || access("/usr/sbin/runc", X_OK) < 0 || access("/bin/busybox", X_OK) < 0)
        return 0; /* every test skips */
    snprintf(g_prefix, sizeof(g_prefix), "/tmp/%s%d", PREFIX, (int)getpid());
    snprintf(g_root, sizeof(g_root), "%s/state", g_prefix);
    snprintf(g_layer, sizeof(g_layer), "%s/layer", g_prefix);
    snprintf(g_logs, sizeof(g_logs), "%s/logs", g_prefix);
    snprintf(g_cgroot, sizeof(g_cgroot), "/%s%d", PREFIX, (int)getpid());
    sweep();
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    if (kl_mkdir_p(g_prefix, 0755) < 0 || build_layer() < 0) {
        fprintf(stderr, "# cannot build the busybox layer\n");
        return -1;
    }
    struct ck_error err = CK_ERROR_INIT;
    if (kl_runtime_init(g_root, g_cgroot, &g_rt, &err) < 0) {
        fprintf(stderr, "# kl_runtime_init: %s\n", err.message);
        return -1;
    }
    g_usable = true;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cleanup();
    return 0;
}

#define NEED_RUNTIME()                                                                             \
    do {                                                                                           \
        if (!g_usable)                                                                             \
            skip();                                                                                \
    } while (0)

/* ---- helpers -----------------------------------------------------------------------------------
 */

struct pod {
    struct kl_sandbox *sb;
    char *cgroup;
    char uid[40];
};

static void pod_make(struct pod *p, const char *name)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->uid, sizeof(p->uid), "0000-%s-%d", name, ++g_sandboxes);
    struct kl_cgroup_resources res = {.cpu_shares = 1024};
    assert_int_equal(kl_cgroup_pod_ensure(g_rt->cg, KL_QOS_BURSTABLE, p->uid, &res, &p->cgroup), 0);
    CK_AUTOFREE char *logdir = ck_xasprintf("%s/default_%s_%s", g_logs, name, p->uid);
    const char *dns[] = {"10.96.0.10"};
    const char *search[] = {"default.svc.cluster.local", "svc.cluster.local"};
    const char *opts[] = {"ndots:5"};
    struct kl_sandbox_config cfg = {
        .pod_uid = p->uid,
        .pod_name = name,
        .pod_namespace = "default",
        .hostname = name,
        .log_directory = logdir,
        .cgroup_parent = p->cgroup,
        .dns_servers = dns,
        .n_dns_servers = 1,
        .dns_searches = search,
        .n_dns_searches = 2,
        .dns_options = opts,
        .n_dns_options = 1,
    };
    struct ck_error err = CK_ERROR_INIT;
    int rc = kl_sandbox_create(g_rt, &cfg, &p->sb, &err);
    if (rc < 0)
        fprintf(stderr, "# sandbox: %s\n", err.message);
    assert_int_equal(rc, 0);
}

static void pod_destroy(struct pod *p)
{
    if (p->sb) {
        struct ck_error err = CK_ERROR_INIT;
        int rc = kl_sandbox_destroy(g_rt, p->sb, &err);
        if (rc < 0)
            fprintf(stderr, "# sandbox destroy: %s\n", err.message);
        assert_int_equal(rc, 0);
        assert_false(kl_has_mounts_under(p->sb->dir));
        assert_int_equal(access(p->sb->dir, F_OK), -1);
        kl_sandbox_free(p->sb);
        p->sb = NULL;
    }
    if (p->cgroup) {
        assert_int_equal(kl_cgroup_destroy(g_rt->cg, p->cgroup), 0);
        assert_false(kl_cgroup_exists(g_rt->cg, p->cgroup));
        free(p->cgroup);
        p->cgroup = NULL;
    }
}

static const char *const *sh_cmd(const char *script)
{
    static const char *cmd[4];
    cmd[0] = "sh";
    cmd[1] = "-c";
    cmd[2] = script;
    cmd[3] = NULL;
    return cmd;
}

static struct kl_container *run_sh(struct pod *p, const char *name, const char *script,
                                   int64_t memory_limit, bool start)
{
    const char *const *cmd = sh_cmd(script);
    struct kl_container_spec spec = {
        .name = name,
        .image = "busybox:test",
        .command = cmd,
        .n_command = 3,
        .memory_limit = memory_limit,
        .termination_message_path = "/dev/termination-log",
    };
    const char *layers[] = {g_layer};
    struct kl_container *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = kl_container_create(g_rt, p->sb, &spec, NULL, layers, 1, &c, &err);
    if (rc < 0)
        fprintf(stderr, "# create %s: %s\n", name, err.message);
    assert_int_equal(rc, 0);
    if (start) {
        rc = kl_container_start(g_rt, c, &err);
        if (rc < 0)
            fprintf(stderr, "# start %s: %s\n", name, err.message);
        assert_int_equal(rc, 0);
    }
    return c;
}

static int64_t now_ms(void)
{
    return ck_mono_ns() / 1000000;
}

static void wait_status(struct kl_container *c, enum kl_container_status want,
                        struct kl_container_state *st, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        assert_int_equal(kl_container_state(g_rt, c, st, NULL), 0);
        if (st->status == want || now_ms() > deadline)
            break;
        usleep(20000);
    }
    assert_int_equal(st->status, want);
}

/* Runs argv in c; returns the exit code, output in out (caller frees). */
static int exec_out(struct kl_container *c, const char *const *argv, char **out)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    int code = -1;
    struct ck_error err = CK_ERROR_INIT;
    int rc = kl_container_exec(g_rt, c, argv, -1, p[1], p[1], 20000, &code, &err);
    close(p[1]);
    if (rc < 0)
        fprintf(stderr, "# exec %s: %s\n", argv[0], err.message);
    assert_int_equal(rc, 0);
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_init(&b);
    char buf[4096];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof(buf))) > 0)
        ck_buf_add(&b, buf, (size_t)n);
    close(p[0]);
    *out = ck_buf_detach(&b);
    return code;
}

static void remove_container(struct kl_container *c)
{
    struct ck_error err = CK_ERROR_INIT;
    CK_AUTOFREE char *dir = ck_xstrdup(c->dir);
    int rc = kl_container_remove(g_rt, c, &err);
    if (rc < 0)
        fprintf(stderr, "# remove: %s\n", err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(access(dir, F_OK), -1);
    assert_false(kl_has_mounts_under(dir));
    kl_container_free(c);
}

/* ---- CRI log lines (pure)
 * ------------------------------------------------------------------------ */

static const struct timespec T0 = {1795399200, 123456789}; /* 2026-11-23T02:00:00.123456789Z */

static void crilog_formats_full_and_partial_lines(void **state)
{
    (void)state;
    char ts[32];
    kl_format_rfc3339nano(&T0, ts);
    assert_string_equal(ts, "2026-11-23T02:00:00.123456789Z");
    struct timespec z = {1795399200, 5};
    kl_format_rfc3339nano(&z, ts);
    assert_string_equal(ts, "2026-11-23T02:00:00.000000005Z"); /* always nine digits */

    struct kl_crilog_stream st = {0};
    CK_AUTOBUF struct ck_buf out = CK_BUF_INIT;
    kl_crilog_feed(&st, "stdout", "hello\nwor", 9, &T0, 0, &out);
    assert_string_equal(ck_buf_str(&out), "2026-11-23T02:00:00.123456789Z stdout F hello\n");
    ck_buf_reset(&out);
    kl_crilog_feed(&st, "stdout", "ld\r\n\n", 5, &T0, 0, &out); /* CRLF ends a line; empty line */
    assert_string_equal(ck_buf_str(&out), "2026-11-23T02:00:00.123456789Z stdout F world\n"
                                          "2026-11-23T02:00:00.123456789Z stdout F \n");
    ck_buf_reset(&out);
    kl_crilog_feed(&st, "stderr", "a\rb", 3, &T0, 0, &out); /* a lone CR stays */
    assert_int_equal(out.len, 0);
    kl_crilog_flush(&st, "stderr", &T0, 0, &out); /* no newline at the end: P */
    assert_string_equal(ck_buf_str(&out), "2026-11-23T02:00:00.123456789Z stderr P a\rb\n");
    ck_buf_reset(&out);
    kl_crilog_flush(&st, "stderr", &T0, 0, &out); /* nothing pending: nothing written */
    assert_int_equal(out.len, 0);
    kl_crilog_stream_free(&st);
}

static void crilog_cuts_long_lines(void **state)
{
    (void)state;
    struct kl_crilog_stream st = {0};
    CK_AUTOBUF struct ck_buf out = CK_BUF_INIT;
    const char *P = "2026-11-23T02:00:00.123456789Z stdout P ";
    const char *F = "2026-11-23T02:00:00.123456789Z stdout F ";
    /* exactly the limit: one full line */
    kl_crilog_feed(&st, "stdout", "abcd\n", 5, &T0, 4, &out);
    CK_AUTOFREE char *w1 = ck_xasprintf("%sabcd\n", F);
    assert_string_equal(ck_buf_str(&out), w1);
    ck_buf_reset(&out);
    /* longer, fed in pieces: P pieces of the limit, then F with the rest */
    kl_crilog_feed(&st, "stdout", "abc", 3, &T0, 4, &out);
    kl_crilog_feed(&st, "stdout", "defghij", 7, &T0, 4, &out);
    CK_AUTOFREE char *w2 = ck_xasprintf("%sabcd\n%sefgh\n", P, P);
    assert_string_equal(ck_buf_str(&out), w2);
    ck_buf_reset(&out);
    kl_crilog_feed(&st, "stdout", "\n", 1, &T0, 4, &out);
    CK_AUTOFREE char *w3 = ck_xasprintf("%sij\n", F);
    assert_string_equal(ck_buf_str(&out), w3);
    ck_buf_reset(&out);
    /* a CR right after the limit belongs to a CRLF: no extra piece */
    kl_crilog_feed(&st, "stdout", "wxyz\r", 5, &T0, 4, &out);
    assert_int_equal(out.len, 0);
    kl_crilog_feed(&st, "stdout", "\n", 1, &T0, 4, &out);
    CK_AUTOFREE char *w4 = ck_xasprintf("%swxyz\n", F);
    assert_string_equal(ck_buf_str(&out), w4);
    /* the real limit is containerd's 16 KiB */
    assert_int_equal(KL_CRILOG_MAX_LINE, 16384);
    kl_crilog_stream_free(&st);
}

/* ---- containers
 * ---------------------------------------------------------------------------------- */

static void container_runs_execs_and_stops_after_grace(void **state)
{
    (void)state;
    NEED_RUNTIME();
    struct pod p;
    pod_make(&p, "run");
    struct kl_container *c = run_sh(&p, "main", "echo hi > /tmp/x; sleep 30", 0, false);
    struct kl_container_state st;
    assert_int_equal(kl_container_state(g_rt, c, &st, NULL), 0);
    assert_int_equal(st.status, KL_CONTAINER_CREATED);
    assert_true(st.pid > 0);
    assert_int_equal(st.started_at.tv_sec, 0);
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_container_start(g_rt, c, &err), 0);
    wait_status(c, KL_CONTAINER_RUNNING, &st, 5000);
    assert_true(st.pid > 0);
    assert_true(st.started_at.tv_sec >= st.created_at.tv_sec);

    /* exec sees the container's files, env and exit codes */
    const char *cat[] = {"cat", "/tmp/x", NULL};
    char *out = NULL;
    int64_t t0 = now_ms();
    for (;;) { /* the shell may not have written it yet */
        int code = exec_out(c, cat, &out);
        if (code == 0 || now_ms() - t0 > 5000)
            break;
        free(out);
        out = NULL;
        usleep(50000);
    }
    assert_string_equal(out, "hi\n");
    free(out);
    const char *ex7[] = {"sh", "-c", "exit 7", NULL};
    assert_int_equal(exec_out(c, ex7, &out), 7);
    free(out);
    const char *envp[] = {"sh", "-c", "echo $HOSTNAME:$PATH; id -u; pwd", NULL};
    assert_int_equal(exec_out(c, envp, &out), 0);
    assert_string_equal(out, "run:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                             "0\n/\n");
    free(out);
    /* a missing binary is the runtime's error, not an exit code */
    const char *nope[] = {"/no/such/binary", NULL};
    int code = 0;
    assert_int_equal(kl_container_exec(g_rt, c, nope, -1, -1, -1, 5000, &code, &err), -EIO);
    assert_non_null(strstr(err.message, "no such file"));
    /* exec timeouts kill the process */
    const char *slow[] = {"sleep", "20", NULL};
    t0 = now_ms();
    assert_int_equal(kl_container_exec(g_rt, c, slow, -1, -1, -1, 300, &code, &err), -ETIMEDOUT);
    assert_true(now_ms() - t0 < 5000);

    /* the shell is PID 1 and ignores SIGTERM: SIGKILL after the grace period */
    t0 = now_ms();
    assert_int_equal(kl_container_stop(g_rt, c, 2, &err), 0);
    int64_t took = now_ms() - t0;
    assert_true(took >= 2000);
    assert_true(took < 8000);
    assert_int_equal(kl_container_state(g_rt, c, &st, NULL), 0);
    assert_int_equal(st.status, KL_CONTAINER_EXITED);
    assert_int_equal(st.exit_code, 137);
    assert_false(st.oom_killed);
    assert_string_equal(st.reason, "Error");
    assert_true(st.finished_at.tv_sec >= st.started_at.tv_sec);
    /* stopping again is a no-op */
    assert_int_equal(kl_container_stop(g_rt, c, 2, &err), 0);
    remove_container(c);
    pod_destroy(&p);
}

static void container_stops_gracefully_on_sigterm(void **state)
{
    (void)state;
    NEED_RUNTIME();
    struct pod p;
    pod_make(&p, "graceful");
    struct kl_container *c =
        run_sh(&p, "main", "trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done", 0, true);
    struct kl_container_state st;
    wait_status(c, KL_CONTAINER_RUNNING, &st, 5000);
    usleep(200000); /* let the shell install its trap */
    struct ck_error err = CK_ERROR_INIT;
    int64_t t0 = now_ms();
    assert_int_equal(kl_container_stop(g_rt, c, 20, &err), 0);
    assert_true(now_ms() - t0 < 5000); /* well before the grace period */
    assert_int_equal(kl_container_state(g_rt, c, &st, NULL), 0);
    assert_int_equal(st.status, KL_CONTAINER_EXITED);
    assert_int_equal(st.exit_code, 0);
    assert_string_equal(st.reason, "Completed");
    char *log = NULL;
    assert_int_equal(kl_read_file(c->log_path, 1 << 20, &log, NULL), 0);
    assert_non_null(strstr(log, " stdout F bye\n"));
    free(log);
    remove_container(c);
    pod_destroy(&p);
}

static void container_exit_code_and_termination_message(void **state)
{
    (void)state;
    NEED_RUNTIME();
    struct pod p;
    pod_make(&p, "exit");
    struct kl_container *c =
        run_sh(&p, "main", "echo 'it broke' > /dev/termination-log; exit 3", 0, true);
    struct kl_container_state st;
    wait_status(c, KL_CONTAINER_EXITED, &st, 10000);
    assert_int_equal(st.exit_code, 3);
    assert_string_equal(st.reason, "Error");
    assert_false(st.oom_killed);
    assert_true(st.finished_at.tv_sec > 0);
    char *msg = NULL;
    assert_int_equal(kl_container_termination_message(c, &msg), 0);
    assert_string_equal(msg, "it broke\n");
    free(msg);
    /* a container that never started is removed as well; it counts as killed */
    struct kl_container *idle = run_sh(&p, "idle", "sleep 30", 0, false);
    struct kl_container_state ist;
    assert_int_equal(kl_container_state(g_rt, idle, &ist, NULL), 0);
    assert_int_equal(ist.status, KL_CONTAINER_CREATED);
    struct ck_error e2 = CK_ERROR_INIT;
    assert_int_equal(kl_container_stop(g_rt, idle, 30, &e2), 0);
    assert_int_equal(kl_container_state(g_rt, idle, &ist, NULL), 0);
    assert_int_equal(ist.status, KL_CONTAINER_EXITED);
    assert_int_equal(ist.exit_code, 137);
    assert_int_equal(ist.started_at.tv_sec, 0);
    remove_container(idle);
    /* exec into an exited container fails */
    const char *t[] = {"true", NULL};
    int code;
    struct ck_error err = CK_ERROR_INIT;
    assert_true(kl_container_exec(g_rt, c, t, -1, -1, -1, 5000, &code, &err) < 0);
    remove_container(c);
    pod_destroy(&p);
}

static void container_oom_killed(void **state)
{
    (void)state;
    NEED_RUNTIME();
    struct pod p;
    pod_make(&p, "oom");
    struct kl_container *c = run_sh(&p, "hog", "head -c 50m /dev/zero | tail", 8 << 20, true);
    struct kl_container_state st;
    wait_status(c, KL_CONTAINER_EXITED, &st, 20000);
    assert_int_equal(st.exit_code, 137);
    assert_true(st.oom_killed);
    assert_string_equal(st.reason, "OOMKilled");
    remove_container(c);
    pod_destroy(&p);
}


/* The runtime lists no container (a failed start left nothing behind). */
static void assert_no_containers(void)
{
    struct kl_container **all;
    size_t n;
    assert_int_equal(kl_container_list(g_rt, &all, &n), 0);
    assert_int_equal(n, 0);
    kl_container_list_free(all, n);
}
static void container_create_failure_leaves_nothing(void **state)
{
    (void)state;
    NEED_RUNTIME();
    struct pod p;
    pod_make(&p, "bad");
    const char *cmd[] = {"/no/such/program"};
    struct kl_container_spec spec = {.name = "bad", .command = cmd, .n_command = 1};
    const char *layers[] = {g_layer};
    struct kl_container *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_true(kl_container_create(g_rt, p.sb, &spec, NULL, layers, 1, &c, &err) < 0);
    assert_null(c);
    assert_non_null(strstr(err.message, "no such file"));
    assert_no_containers();
    CK_AUTOFREE char *cdir = ck_xasprintf("%s/containers", g_root);
    DIR *d = opendir(cdir);
    assert_non_null(d);
    int entries = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        entries += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(entries, 0);
    assert_false(kl_has_mounts_under(cdir));
    /* no command at all: refused before anything runs */
    struct kl_container_spec none = {.name = "none"};
    assert_int_equal(kl_container_create(g_rt, p.sb, &none, NULL, layers, 1, &c, &err), -EINVAL);
    assert_string_equal(err.message, "no command specified");
    pod_destroy(&p);
}

/* Checks one log file: each line "<ts> <stream> <tag> <text>" with a well-formed stamp. */
static void check_log(const char *path, const char *const *want, size_t n_want)
{
    char *log = NULL;
    size_t len = 0;
    assert_int_equal(kl_read_file(path, 1 << 20, &log, &len), 0);
    size_t found = 0;
    for (char *line = log, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_true(strlen(line) > 31);
        assert_int_equal(line[4], '-');
        assert_int_equal(line[10], 'T');
        assert_int_equal(line[19], '.');
        assert_int_equal(line[29], 'Z');
        assert_int_equal(line[30], ' ');
        for (size_t i = 0; i < n_want; i++)
            if (strcmp(line + 31, want[i]) == 0)
                found |= (size_t)1 << i;
    }
    assert_int_equal(found, ((size_t)1 << n_want) - 1);
    free(log);
}

static void container_logs_in_cri_format(void **state)
{
    (void)state;
    NEED_RUNTIME();
    struct pod p;
    pod_make(&p, "logs");
    struct kl_container *c = run_sh(
        &p, "talker",
        "echo hello; echo oops >&2; head -c 20000 /dev/zero | tr '\\000' a; echo; printf tail", 0,
        true);
    struct kl_container_state st;
    wait_status(c, KL_CONTAINER_EXITED, &st, 10000);
    assert_int_equal(st.exit_code, 0);
    CK_AUTOFREE char *want_path = ck_xasprintf("%s/default_logs_%s/talker/0.log", g_logs, p.uid);
    assert_string_equal(c->log_path, want_path);
    char *as_p = ck_xmalloc(16384 + 20), *as_f = ck_xmalloc(3616 + 20);
    snprintf(as_p, 20, "stdout P ");
    memset(as_p + 9, 'a', 16384);
    as_p[9 + 16384] = '\0';
    snprintf(as_f, 20, "stdout F ");
    memset(as_f + 9, 'a', 3616);
    as_f[9 + 3616] = '\0';
    const char *want[] = {"stdout F hello", "stderr F oops", as_p, as_f, "stdout P tail"};
    check_log(c->log_path, want, 5);
    free(as_p);
    free(as_f);
    /* a restarted container writes the next attempt's file */
    const char *const *cmd = sh_cmd("echo again");
    struct kl_container_spec spec = {
        .name = "talker", .attempt = 1, .command = cmd, .n_command = 3};
    const char *layers[] = {g_layer};
    struct kl_container *c2 = NULL;
    assert_int_equal(kl_container_create(g_rt, p.sb, &spec, NULL, layers, 1, &c2, NULL), 0);
    assert_int_equal(kl_container_start(g_rt, c2, NULL), 0);
    wait_status(c2, KL_CONTAINER_EXITED, &st, 10000);
    CK_AUTOFREE char *p1 = ck_xasprintf("%s/default_logs_%s/talker/1.log", g_logs, p.uid);
    const char *want2[] = {"stdout F again"};
    check_log(p1, want2, 1);
    remove_container(c2);
    remove_container(c);
    /* the log files stay for the kubelet */
    assert_int_equal(access(want_path, F_OK), 0);
    pod_destroy(&p);
}

/* kl_container_run: `runc run --detach`, the pod worker's one-call create + start */
static struct kl_container *run_now(struct pod *p, const char *name, const char *script,
                                    struct ck_error *err)
{
    const char *const *cmd = sh_cmd(script);
    struct kl_container_spec spec = {.name = name, .command = cmd, .n_command = 3};
    const char *layers[] = {g_layer};
    struct kl_container *c = NULL;
    int rc = kl_container_run(g_rt, p->sb, &spec, NULL, layers, 1, &c, err);
    if (rc < 0) {
        assert_null(c);
        return NULL;
    }
    assert_non_null(c);
    return c;
}

static void container_run_creates_and_starts_at_once(void **state)
{
    (void)state;
    NEED_RUNTIME();
    struct pod p;
    pod_make(&p, "runnow");
    struct ck_error err = CK_ERROR_INIT;
    /* running on return, with its start recorded: no kl_container_start */
    struct kl_container *c = run_now(&p, "long", "sleep 30", &err);
    assert_non_null(c);
    struct kl_container_state st;
    assert_int_equal(kl_container_state(g_rt, c, &st, NULL), 0);
    assert_int_equal(st.status, KL_CONTAINER_RUNNING);
    assert_true(st.pid > 0);
    assert_true(st.started_at.tv_sec > 0);
    assert_true(st.started_at.tv_sec >= st.created_at.tv_sec);
    /* it stops like any other container */
    assert_int_equal(kl_container_stop(g_rt, c, 1, &err), 0);
    wait_status(c, KL_CONTAINER_EXITED, &st, 5000);
    assert_int_equal(st.exit_code, 137); /* pid 1 ignores SIGTERM: killed after the grace */
    remove_container(c);

    /* a process that writes (more than a pipe holds) and exits at once, likely before runc
     * returned: every byte is in its log and the exit code is recorded */
    c = run_now(&p, "quick",
                "echo early; echo err >&2; head -c 200000 /dev/zero | tr '\\000' a; echo; exit 3",
                &err);
    assert_non_null(c);
    wait_status(c, KL_CONTAINER_EXITED, &st, 10000);
    assert_int_equal(st.exit_code, 3);
    assert_string_equal(st.reason, "Error");
    assert_true(st.started_at.tv_sec > 0);
    /* 200000 = 12 pieces of 16384 (P) + 3392 (F) */
    char *tail = ck_xmalloc(3392 + 20);
    snprintf(tail, 20, "stdout F ");
    memset(tail + 9, 'a', 3392);
    tail[9 + 3392] = '\0';
    const char *want[] = {"stdout F early", "stderr F err", tail};
    check_log(c->log_path, want, 3);
    char *log = NULL;
    assert_int_equal(kl_read_file(c->log_path, 1 << 20, &log, NULL), 0);
    int pieces = 0;
    for (const char *q = log; (q = strstr(q, " stdout P ")); q++)
        pieces++;
    assert_int_equal(pieces, 12);
    free(log);
    free(tail);
    remove_container(c);

    /* a program that cannot start fails the call with runc's message; nothing is left */
    const char *bad[] = {"/no/such/program"};
    struct kl_container_spec spec = {.name = "bad", .command = bad, .n_command = 1};
    const char *layers[] = {g_layer};
    c = NULL;
    assert_true(kl_container_run(g_rt, p.sb, &spec, NULL, layers, 1, &c, &err) < 0);
    assert_null(c);
    assert_non_null(strstr(err.message, "no such file"));
    assert_no_containers();
    ck_error_clear(&err);
    pod_destroy(&p);
}

/* The shim's command line ("ckube-kl-shim <dir>", NUL-separated) and whether its parent is
 * init or a subreaper other than us (it is detached). */
static void check_shim_of(const struct kl_container *c)
{
    assert_true(c->shim_pid > 1);
    CK_AUTOFREE char *path = ck_xasprintf("/proc/%d/cmdline", c->shim_pid);
    char buf[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    ssize_t len = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    assert_true(len > (ssize_t)strlen("ckube-kl-shim") + 1);
    buf[len] = '\0';
    assert_string_equal(buf, "ckube-kl-shim");
    assert_string_equal(buf + strlen("ckube-kl-shim") + 1, c->dir);
    CK_AUTOFREE char *stat = ck_xasprintf("/proc/%d/stat", c->shim_pid);
    char *text = NULL;
    assert_int_equal(kl_read_file(stat, 4096, &text, NULL), 0);
    char *rp = strrchr(text, ')');
    assert_non_null(rp);
    int ppid = 0;
    assert_int_equal(sscanf(rp + 2, "%*c %d", &ppid), 1);
    assert_int_not_equal(ppid, (int)getpid());
    free(text);
}

/* Shims start from the zygote (one exec per runtime) or, with CKUBE_KL_SHIM_EXEC=1, by an
 * exec each; both look and behave the same. */
static void shims_from_the_zygote_and_by_exec(void **state)
{
    (void)state;
    NEED_RUNTIME();
    assert_non_null(g_rt->zygote);
    /* requests it refuses before sending anything */
    char *longdir = ck_xmalloc(KL_ZYGOTE_ARG_SPACE + 2);
    memset(longdir, 'd', KL_ZYGOTE_ARG_SPACE + 1);
    longdir[0] = '/';
    longdir[KL_ZYGOTE_ARG_SPACE + 1] = '\0';
    assert_int_equal(kl_zygote_spawn(g_rt->zygote, longdir, 0, 1, 2), -ENAMETOOLONG);
    free(longdir);
    assert_int_equal(kl_zygote_spawn(g_rt->zygote, "relative/dir", 0, 1, 2), -EINVAL);
    assert_int_equal(kl_zygote_spawn(g_rt->zygote, "/abs", -1, 1, 2), -EINVAL);
    assert_int_equal(kl_zygote_spawn(NULL, "/abs", 0, 1, 2), -EINVAL);
    struct pod p;
    pod_make(&p, "zyg");
    struct ck_error err = CK_ERROR_INIT;
    struct kl_container *c = run_now(&p, "z", "echo from-zygote; sleep 30", &err);
    assert_non_null(c);
    check_shim_of(c);
    struct kl_container_state st;
    assert_int_equal(kl_container_state(g_rt, c, &st, NULL), 0);
    assert_int_equal(st.status, KL_CONTAINER_RUNNING);

    /* the exec path, in a second runtime over the same state */
    setenv("CKUBE_KL_SHIM_EXEC", "1", 1);
    struct kl_runtime *rt2 = NULL;
    int rc = kl_runtime_init(g_root, g_cgroot, &rt2, &err);
    unsetenv("CKUBE_KL_SHIM_EXEC");
    assert_int_equal(rc, 0);
    assert_null(rt2->zygote);
    const char *const *cmd = sh_cmd("echo by-exec; sleep 30");
    struct kl_container_spec spec = {.name = "e", .command = cmd, .n_command = 3};
    const char *layers[] = {g_layer};
    struct kl_container *c2 = NULL;
    assert_int_equal(kl_container_run(rt2, p.sb, &spec, NULL, layers, 1, &c2, &err), 0);
    check_shim_of(c2);
    kl_runtime_free(rt2);

    /* a zygote that is gone: the runtime goes on by exec */
    struct kl_runtime *rt3 = NULL;
    assert_int_equal(kl_runtime_init(g_root, g_cgroot, &rt3, &err), 0);
    assert_non_null(rt3->zygote);
    int zpid = kl_zygote_pid(rt3->zygote);
    assert_true(zpid > 1);
    assert_int_equal(kill(zpid, SIGKILL), 0);
    usleep(100000);
    struct kl_container_spec spec3 = {.name = "x", .command = cmd, .n_command = 3};
    struct kl_container *c3 = NULL;
    assert_int_equal(kl_container_run(rt3, p.sb, &spec3, NULL, layers, 1, &c3, &err), 0);
    check_shim_of(c3);
    kl_runtime_free(rt3);

    /* the logs of both paths */
    struct kl_container *all[3] = {c, c2, c3};
    const char *words[3] = {"stdout F from-zygote", "stdout F by-exec", "stdout F by-exec"};
    for (int i = 0; i < 3; i++) {
        for (int t = 0; t < 100; t++) {
            char *log = NULL;
            bool has = kl_read_file(all[i]->log_path, 1 << 16, &log, NULL) == 0 &&
                       strstr(log, words[i] + 9);
            free(log);
            if (has)
                break;
            usleep(20000);
        }
        const char *want[] = {words[i]};
        check_log(all[i]->log_path, want, 1);
        remove_container(all[i]);
    }
    ck_error_clear(&err);
    pod_destroy(&p);
}

static void containers_share_the_sandbox_namespaces(void **state)
{
    (void)state;
    NEED_RUNTIME();
    struct pod p;
    pod_make(&p, "shared");
    struct kl_container *a =
        run_sh(&p, "server",
               "echo shm-ok > /dev/shm/x; echo hello-from-a | nc -l -p 8080; sleep 30", 0, true);
    struct kl_container *b = run_sh(&p, "client", "sleep 30", 0, true);
    struct kl_container_state st;
    wait_status(a, KL_CONTAINER_RUNNING, &st, 5000);
    wait_status(b, KL_CONTAINER_RUNNING, &st, 5000);
    char *out = NULL;
    /* loopback of the shared network namespace */
    const char *conn[] = {"sh", "-c",
                          "for i in $(seq 100); do nc 127.0.0.1 8080 2>/dev/null && exit 0; "
                          "sleep 0.1; done; exit 1",
                          NULL};
    assert_int_equal(exec_out(b, conn, &out), 0);
    assert_string_equal(out, "hello-from-a\n");
    free(out);
    /* POSIX shared memory through the sandbox's /dev/shm */
    const char *shm[] = {"cat", "/dev/shm/x", NULL};
    assert_int_equal(exec_out(b, shm, &out), 0);
    assert_string_equal(out, "shm-ok\n");
    free(out);
    /* the same net/ipc/uts namespaces as the sandbox's files, distinct pid namespaces */
    struct stat ns_net, ns_ipc;
    assert_int_equal(stat(p.sb->netns_path, &ns_net), 0);
    assert_int_equal(stat(p.sb->ipcns_path, &ns_ipc), 0);
    char want[128];
    snprintf(want, sizeof(want), "net:[%llu]\nipc:[%llu]\nshared\n",
             (unsigned long long)ns_net.st_ino, (unsigned long long)ns_ipc.st_ino);
    const char *ns[] = {"sh", "-c",
                        "readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; hostname", NULL};
    char *out_a = NULL, *out_b = NULL;
    assert_int_equal(exec_out(a, ns, &out_a), 0);
    assert_int_equal(exec_out(b, ns, &out_b), 0);
    assert_string_equal(out_a, want);
    assert_string_equal(out_b, want);
    free(out_a);
    free(out_b);
    const char *pidns[] = {"readlink", "/proc/self/ns/pid", NULL};
    assert_int_equal(exec_out(a, pidns, &out_a), 0);
    assert_int_equal(exec_out(b, pidns, &out_b), 0);
    assert_string_not_equal(out_a, out_b);
    free(out_a);
    free(out_b);
    /* the pod's DNS config and hostname files */
    const char *files[] = {"cat", "/etc/resolv.conf", "/etc/hostname", NULL};
    assert_int_equal(exec_out(b, files, &out), 0);
    assert_string_equal(out, "search default.svc.cluster.local svc.cluster.local\n"
                             "nameserver 10.96.0.10\noptions ndots:5\nshared\n");
    free(out);
    /* the container's cgroup sits under the pod's, and reports usage */
    struct kl_cgroup_stats cs;
    assert_int_equal(kl_container_stats(g_rt, a, &cs), 0);
    assert_true(cs.memory_usage > 0);
    assert_true(cs.pids_current >= 1);
    assert_int_equal(strncmp(a->cgroup_path, p.cgroup, strlen(p.cgroup)), 0);
    /* stopping the sandbox kills its containers without grace; destroying removes them */
    struct ck_error err = CK_ERROR_INIT;
    int64_t t0 = now_ms();
    assert_int_equal(kl_sandbox_stop(g_rt, p.sb, &err), 0);
    assert_true(now_ms() - t0 < 5000);
    assert_false(p.sb->ready);
    assert_int_equal(kl_container_state(g_rt, a, &st, NULL), 0);
    assert_int_equal(st.status, KL_CONTAINER_EXITED);
    assert_int_equal(st.exit_code, 137);
    kl_container_free(a);
    kl_container_free(b);
    pod_destroy(&p); /* removes both containers */
    assert_no_containers();
}

static void containers_survive_a_runtime_restart(void **state)
{
    (void)state;
    NEED_RUNTIME();
    struct pod p;
    pod_make(&p, "restart");
    struct kl_container *c =
        run_sh(&p, "main", "while true; do echo tick; sleep 0.2; done", 0, true);
    struct kl_container_state st1, st2;
    wait_status(c, KL_CONTAINER_RUNNING, &st1, 5000);
    char id[65];
    snprintf(id, sizeof(id), "%s", c->id);
    kl_container_free(c);
    /* the "kubelet" goes away and comes back: same root, fresh structures */
    kl_runtime_free(g_rt);
    g_rt = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_runtime_init(g_root, g_cgroot, &g_rt, &err), 0);
    struct kl_container **all;
    size_t n;
    assert_int_equal(kl_container_list(g_rt, &all, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(all[0]->id, id);
    assert_string_equal(all[0]->name, "main");
    assert_string_equal(all[0]->sandbox_id, p.sb->id);
    assert_int_equal(kl_container_state(g_rt, all[0], &st2, NULL), 0);
    assert_int_equal(st2.status, KL_CONTAINER_RUNNING);
    assert_int_equal(st2.pid, st1.pid);
    assert_int_equal(st2.started_at.tv_sec, st1.started_at.tv_sec);
    struct kl_sandbox **sbs;
    size_t ns;
    assert_int_equal(kl_sandbox_list(g_rt, &sbs, &ns), 0);
    assert_int_equal(ns, 1);
    assert_string_equal(sbs[0]->id, p.sb->id);
    assert_string_equal(sbs[0]->netns_path, p.sb->netns_path);
    assert_true(sbs[0]->ready);
    kl_sandbox_list_free(sbs, ns);
    /* the shim kept logging meanwhile; it reopens the file after a rotation */
    CK_AUTOFREE char *rotated = ck_xasprintf("%s.rotated", all[0]->log_path);
    assert_int_equal(rename(all[0]->log_path, rotated), 0);
    assert_int_equal(kl_container_reopen_log(g_rt, all[0]), 0);
    int64_t t0 = now_ms();
    while (access(all[0]->log_path, F_OK) < 0 && now_ms() - t0 < 3000)
        usleep(20000);
    usleep(500000);
    assert_int_equal(kl_container_stop(g_rt, all[0], 0, &err), 0);
    assert_int_equal(kl_container_state(g_rt, all[0], &st2, NULL), 0);
    assert_int_equal(st2.exit_code, 137);
    char *log = NULL;
    assert_int_equal(kl_read_file(all[0]->log_path, 1 << 20, &log, NULL), 0);
    assert_non_null(strstr(log, " stdout F tick\n"));
    free(log);
    assert_int_equal(kl_read_file(rotated, 1 << 20, &log, NULL), 0);
    assert_non_null(strstr(log, " stdout F tick\n"));
    free(log);
    kl_container_list_free(all, n);
    pod_destroy(&p);
}

static void container_whose_shim_died_is_reported_unknown(void **state)
{
    (void)state;
    NEED_RUNTIME();
    struct pod p;
    pod_make(&p, "orphan");
    struct kl_container *c = run_sh(&p, "main", "sleep 30", 0, true);
    struct kl_container_state st;
    wait_status(c, KL_CONTAINER_RUNNING, &st, 5000);
    assert_int_equal(kill(c->shim_pid, SIGKILL), 0);
    usleep(100000);
    /* still running without its shim; stopping it works, the exit code is lost */
    assert_int_equal(kl_container_state(g_rt, c, &st, NULL), 0);
    assert_int_equal(st.status, KL_CONTAINER_RUNNING);
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_container_stop(g_rt, c, 0, &err), 0);
    assert_int_equal(kl_container_state(g_rt, c, &st, NULL), 0);
    assert_int_equal(st.status, KL_CONTAINER_EXITED);
    assert_int_equal(st.exit_code, 255);
    assert_string_equal(st.reason, "Unknown");
    assert_true(st.message[0] != '\0');
    remove_container(c);
    pod_destroy(&p);
}

/* ---- sandbox helpers and variants -------------------------------------------------------------
 */

static void sandbox_resolv_conf_and_sysctl_rules(void **state)
{
    (void)state;
    const char *servers[] = {"10.96.0.10", "8.8.8.8"};
    const char *search[] = {"ns.svc.cluster.local", "svc.cluster.local", "cluster.local"};
    const char *opts[] = {"ndots:5", "edns0"};
    struct kl_sandbox_config cfg = {.dns_servers = servers,
                                    .n_dns_servers = 2,
                                    .dns_searches = search,
                                    .n_dns_searches = 3,
                                    .dns_options = opts,
                                    .n_dns_options = 2};
    CK_AUTOFREE char *rc = kl_sandbox_resolv_conf(&cfg);
    assert_string_equal(rc, "search ns.svc.cluster.local svc.cluster.local cluster.local\n"
                            "nameserver 10.96.0.10\nnameserver 8.8.8.8\n"
                            "options ndots:5 edns0\n");
    struct kl_sandbox_config only = {.dns_servers = servers, .n_dns_servers = 1};
    CK_AUTOFREE char *rc2 = kl_sandbox_resolv_conf(&only);
    assert_string_equal(rc2, "nameserver 10.96.0.10\n");
    struct {
        const char *name;
        bool host_net, host_ipc, want;
    } cases[] = {
        {"net.ipv4.ip_forward", false, false, true},
        {"net/ipv4/conf/eth0.100/rp_filter", false, false, true},
        {"net.ipv4.ip_forward", true, false, false}, /* hostNetwork: the node's */
        {"kernel.shm_rmid_forced", false, false, true},
        {"kernel.shmmax", false, true, false}, /* hostIPC */
        {"kernel.msgmax", false, false, true},
        {"kernel.sem", false, false, true},
        {"kernel.semx", false, false, false},
        {"fs.mqueue.msg_max", false, false, true},
        {"kernel.panic", false, false, false}, /* node-wide */
        {"vm.swappiness", false, false, false},
        {"net..x", false, false, false},
        {"", false, false, false},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++)
        if (kl_sysctl_allowed(cases[i].name, cases[i].host_net, cases[i].host_ipc) != cases[i].want)
            fail_msg("sysctl %s", cases[i].name);
}

static void sandbox_sysctls_and_host_namespaces(void **state)
{
    (void)state;
    NEED_RUNTIME();
    const char *sysctls[] = {"net.ipv4.ip_local_port_range=40000 50000",
                             "kernel.shm_rmid_forced=1"};
    struct kl_sandbox_config cfg = {.pod_uid = "0000-sysctl",
                                    .pod_name = "tuned",
                                    .pod_namespace = "default",
                                    .sysctls = sysctls,
                                    .n_sysctls = 2};
    struct kl_sandbox *sb = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_sandbox_create(g_rt, &cfg, &sb, &err), 0);
    assert_string_equal(sb->hostname, "tuned"); /* defaults to the pod name */
    struct pod p = {.sb = sb};
    struct kl_container *c = run_sh(&p, "main", "sleep 30", 0, true);
    char *out = NULL;
    const char *rd[] = {"cat", "/proc/sys/net/ipv4/ip_local_port_range",
                        "/proc/sys/kernel/shm_rmid_forced", NULL};
    assert_int_equal(exec_out(c, rd, &out), 0);
    assert_string_equal(out, "40000\t50000\n1\n");
    free(out);
    /* stdin reaches the exec'd process */
    int in[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(write(in[1], "piped\n", 6), 6);
    close(in[1]);
    int outp[2];
    assert_int_equal(pipe(outp), 0);
    int code = -1;
    const char *cat[] = {"cat", NULL};
    assert_int_equal(kl_container_exec(g_rt, c, cat, in[0], outp[1], -1, 5000, &code, &err), 0);
    close(in[0]);
    close(outp[1]);
    char buf[64] = "";
    assert_int_equal(read(outp[0], buf, sizeof(buf) - 1), 6);
    close(outp[0]);
    assert_string_equal(buf, "piped\n");
    assert_int_equal(code, 0);
    kl_container_free(c);
    assert_int_equal(kl_sandbox_destroy(g_rt, sb, &err), 0);
    kl_sandbox_free(sb);

    /* what an interrupted create leaves behind is found and removed */
    CK_AUTOFREE char *half = ck_xasprintf("%s/containers/%064d", g_root, 7);
    CK_AUTOFREE char *half_rootfs = ck_xasprintf("%s/rootfs", half);
    assert_int_equal(kl_mkdir_p(half_rootfs, 0755), 0);
    assert_int_equal(kl_runtime_cleanup_incomplete(g_rt), 1);
    assert_int_equal(access(half, F_OK), -1);
    assert_int_equal(kl_runtime_cleanup_incomplete(g_rt), 0);
    /* a forbidden sysctl is refused before anything is made */
    const char *bad[] = {"kernel.panic=1"};
    cfg.sysctls = bad;
    cfg.n_sysctls = 1;
    assert_int_equal(kl_sandbox_create(g_rt, &cfg, &sb, &err), -EINVAL);
    assert_string_equal(err.message, "forbidden sysctl: \"kernel.panic=1\"");

    /* hostNetwork + hostIPC: the node's namespaces and /dev/shm */
    struct kl_sandbox_config host = {.pod_uid = "0000-host",
                                     .pod_name = "hostnet",
                                     .pod_namespace = "kube-system",
                                     .host_network = true,
                                     .host_ipc = true};
    assert_int_equal(kl_sandbox_create(g_rt, &host, &sb, &err), 0);
    assert_null(kl_sandbox_netns_path(sb));
    assert_null(sb->ipcns_path);
    assert_string_equal(sb->shm_dir, "/dev/shm");
    p.sb = sb;
    c = run_sh(&p, "main", "sleep 30", 0, true);
    char self_net[64] = "";
    assert_true(readlink("/proc/self/ns/net", self_net, sizeof(self_net) - 1) > 0);
    CK_AUTOFREE char *want = ck_xasprintf("%s\n", self_net);
    const char *ns[] = {"readlink", "/proc/self/ns/net", NULL};
    assert_int_equal(exec_out(c, ns, &out), 0);
    assert_string_equal(out, want);
    free(out);
    kl_container_free(c);
    assert_int_equal(kl_sandbox_destroy(g_rt, sb, &err), 0);
    assert_int_equal(access(sb->dir, F_OK), -1);
    kl_sandbox_free(sb);
}

/* Nothing of this run may remain: mounts, cgroups, runc state, shims. */
static void teardown_leaves_nothing(void **state)
{
    (void)state;
    NEED_RUNTIME();
    struct pod p;
    pod_make(&p, "last");
    struct kl_container *c = run_sh(&p, "main", "sleep 60", 0, true);
    struct kl_container_state st;
    wait_status(c, KL_CONTAINER_RUNNING, &st, 5000);
    int shim = c->shim_pid;
    assert_true(shim > 1);
    kl_container_free(c);
    free(p.cgroup);
    kl_sandbox_free(p.sb);
    /* purge everything at once, as a crashed run's sweep would */
    assert_int_equal(kl_runtime_purge(g_rt), 0);
    kl_runtime_free(g_rt);
    g_rt = NULL;
    assert_false(kl_has_mounts_under(g_prefix));
    assert_int_equal(access(g_root, F_OK), -1);
    for (int i = 0; i < 100 && kill(shim, 0) == 0; i++)
        usleep(20000);
    assert_int_equal(kill(shim, 0), -1);
    DIR *h = opendir("/sys/fs/cgroup");
    assert_non_null(h);
    struct dirent *he;
    while ((he = readdir(h))) {
        if (he->d_name[0] == '.')
            continue;
        CK_AUTOFREE char *cg = ck_xasprintf("/sys/fs/cgroup/%s%s", he->d_name, g_cgroot);
        assert_int_equal(access(cg, F_OK), -1);
    }
    closedir(h);
    /* the runtime can start again from nothing */
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_runtime_init(g_root, g_cgroot, &g_rt, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crilog_formats_full_and_partial_lines),
        cmocka_unit_test(crilog_cuts_long_lines),
        cmocka_unit_test(container_runs_execs_and_stops_after_grace),
        cmocka_unit_test(container_stops_gracefully_on_sigterm),
        cmocka_unit_test(container_exit_code_and_termination_message),
        cmocka_unit_test(container_oom_killed),
        cmocka_unit_test(container_create_failure_leaves_nothing),
        cmocka_unit_test(container_logs_in_cri_format),
        cmocka_unit_test(container_run_creates_and_starts_at_once),
        cmocka_unit_test(shims_from_the_zygote_and_by_exec),
        cmocka_unit_test(containers_share_the_sandbox_namespaces),
        cmocka_unit_test(containers_survive_a_runtime_restart),
        cmocka_unit_test(container_whose_shim_died_is_reported_unknown),
        cmocka_unit_test(sandbox_resolv_conf_and_sysctl_rules),
        cmocka_unit_test(sandbox_sysctls_and_host_namespaces),
        cmocka_unit_test(teardown_leaves_nothing),
    };
    const char *filter = getenv("CK_TEST_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests_name("runc", tests, group_setup, group_teardown);
}
