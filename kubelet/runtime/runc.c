/* runc.c - containers over runc, the per-container shim and CRI log writer (see runc.h). */
#include "kubelet/runtime/runc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "encoding.h"
#include "json.h"
#include "kubelet/runtime/sandbox.h"
#include "kubelet/runtime/zygote.h"
#include "log.h"
#include "mem.h"
#include "timeutil.h"

#define KL_STATE_MAX (1u << 20)
#define KL_RUNC_TIMEOUT_MS 60000
#define KL_TERMINATION_MSG_MAX 4096

/* ---- time and CRI log lines -------------------------------------------------------------- */

void kl_format_rfc3339nano(const struct timespec *t, char out[32])
{
    struct tm tm;
    time_t s = t->tv_sec;
    long ns = t->tv_nsec;
    if (ns < 0 || ns >= 1000000000L)
        ns = 0;
    if (!gmtime_r(&s, &tm)) {
        snprintf(out, 32, "1970-01-01T00:00:00.000000000Z");
        return;
    }
    char base[24];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.19s.%09ldZ", base, ns);
}

static void crilog_line(struct ck_buf *out, const char *ts, const char *name, char tag,
                        const char *data, size_t len)
{
    ck_buf_printf(out, "%s %s %c ", ts, name, tag);
    ck_buf_add(out, data, len);
    ck_buf_putc(out, '\n');
}

static void crilog_append(struct kl_crilog_stream *st, const void *data, size_t len)
{
    if (st->len + len + 1 > st->cap) {
        size_t cap = st->cap ? st->cap : 256;
        while (cap < st->len + len + 1)
            cap *= 2;
        st->buf = ck_xrealloc(st->buf, cap);
        st->cap = cap;
    }
    memcpy(st->buf + st->len, data, len);
    st->len += len;
}

static void crilog_consume(struct kl_crilog_stream *st, size_t n)
{
    memmove(st->buf, st->buf + n, st->len - n);
    st->len -= n;
}

void kl_crilog_feed(struct kl_crilog_stream *st, const char *name, const void *data, size_t len,
                    const struct timespec *now, size_t max_line, struct ck_buf *out)
{
    if (!st || !name || !out || (!data && len))
        return;
    if (max_line == 0)
        max_line = KL_CRILOG_MAX_LINE;
    char ts[32];
    kl_format_rfc3339nano(now, ts);
    const char *p = data;
    while (len > 0) {
        const char *nl = memchr(p, '\n', len);
        size_t take = nl ? (size_t)(nl - p) + 1 : len;
        crilog_append(st, p, take);
        p += take;
        len -= take;
        if (nl) {
            size_t content = st->len - 1; /* without the '\n' */
            if (content > 0 && st->buf[content - 1] == '\r')
                content--;
            size_t off = 0;
            while (content - off > max_line) {
                crilog_line(out, ts, name, 'P', st->buf + off, max_line);
                off += max_line;
            }
            crilog_line(out, ts, name, 'F', st->buf + off, content - off);
            st->len = 0;
            continue;
        }
        /* no newline yet: cut what passes the limit, keeping a '\r' that may precede "\n" */
        while (st->len > max_line && !(st->len == max_line + 1 && st->buf[max_line] == '\r')) {
            crilog_line(out, ts, name, 'P', st->buf, max_line);
            crilog_consume(st, max_line);
        }
    }
}

void kl_crilog_flush(struct kl_crilog_stream *st, const char *name, const struct timespec *now,
                     size_t max_line, struct ck_buf *out)
{
    if (!st || !name || !out)
        return;
    if (max_line == 0)
        max_line = KL_CRILOG_MAX_LINE;
    char ts[32];
    kl_format_rfc3339nano(now, ts);
    size_t off = 0;
    while (st->len - off > max_line) {
        crilog_line(out, ts, name, 'P', st->buf + off, max_line);
        off += max_line;
    }
    if (st->len > off)
        crilog_line(out, ts, name, 'P', st->buf + off, st->len - off);
    st->len = 0;
}

void kl_crilog_stream_free(struct kl_crilog_stream *st)
{
    if (!st)
        return;
    free(st->buf);
    st->buf = NULL;
    st->len = st->cap = 0;
}

/* ---- small helpers ------------------------------------------------------------------------- */

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static int64_t mono_ms(void)
{
    return ck_mono_ns() / 1000000;
}

static bool path_exists(const char *p)
{
    return access(p, F_OK) == 0;
}

/* A name usable as one path component. */
static bool component_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 253 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (const char *p = s; *p; p++)
        if (*p == '/' || (unsigned char)*p < 0x20)
            return false;
    return true;
}

static bool hex_id_ok(const char *id)
{
    if (!id || strlen(id) != 64)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static void set_time(cJSON *obj, const char *key, const struct timespec *t)
{
    char s[32];
    kl_format_rfc3339nano(t, s);
    cJSON_AddStringToObject(obj, key, s);
}

static void get_time(const cJSON *obj, const char *key, struct timespec *t)
{
    memset(t, 0, sizeof(*t));
    const char *s = ck_json_get_string(obj, key, NULL);
    if (s && ck_time_parse(s, t, NULL) < 0)
        memset(t, 0, sizeof(*t));
}

/* Start time (field 22 of /proc/<pid>/stat) of a live process; 0 when it is gone. */
static unsigned long long proc_start_time(int pid)
{
    if (pid <= 0)
        return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    /* fields after the command: state(3) ppid(4) ... starttime(22) */
    for (int field = 2; field < 21 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* Whether pid is still the process that started at `start` (and is not a zombie we keep). */
static bool proc_alive(int pid, unsigned long long start)
{
    if (pid <= 0 || kill(pid, 0) < 0)
        return false;
    return start == 0 || proc_start_time(pid) == start;
}

/* Whether pid is a shim of container dir (its argv is "ckube-kl-shim <dir>"). */
static bool is_shim_of(int pid, const char *dir)
{
    if (pid <= 1)
        return false;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
    /* cmdline holds the NUL-separated words of argv */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[8192];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    size_t a0 = strlen(buf);
    if (strcmp(buf, KL_SHIM_ARGV0) != 0 || (ssize_t)a0 + 1 >= n)
        return false;
    return strcmp(buf + a0 + 1, dir) == 0;
}

/* ---- running runc --------------------------------------------------------------------------- */

/* The message of the last error line of runc's JSON log output (or the text itself). */
static void runc_error_message(const char *text, char *out, size_t size)
{
    out[0] = '\0';
    if (!text)
        return;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        if (l > 0 && p[0] == '{') {
            cJSON *j = ck_json_parse(p, l, NULL);
            const char *lvl = ck_json_get_string(j, "level", "");
            const char *msg = ck_json_get_string(j, "msg", NULL);
            if (msg && (strcmp(lvl, "error") == 0 || strcmp(lvl, "fatal") == 0))
                snprintf(out, size, "%s", msg);
            cJSON_Delete(j);
        }
        p = nl ? nl + 1 : p + l;
    }
    if (!out[0]) {
        size_t l = strlen(text);
        while (l > 0 && (text[l - 1] == '\n' || text[l - 1] == ' '))
            l--;
        snprintf(out, size, "%.*s", (int)(l < size ? l : size - 1), text);
    }
}

struct runc_result {
    int status;    /* exit status; 128+signal when killed */
    char *out;     /* captured stdout, caller frees */
    char msg[512]; /* runc's error message when status != 0 */
};

char **kl_shim_environ(const char *marker)
{
    size_t ne = 0;
    while (environ && environ[ne])
        ne++;
    char **envp = ck_xcalloc(ne + 2, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], KL_SHIM_ENV "=", sizeof(KL_SHIM_ENV)) != 0)
            envp[k++] = environ[i];
    envp[k++] = (char *)marker;
    envp[k] = NULL;
    return envp;
}

void kl_child_signals_default(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
}

void kl_child_close_from(int lowfd)
{
    if (syscall(__NR_close_range, (unsigned)lowfd, ~0U, 0) == 0)
        return;
    for (int fd = lowfd; fd < 1024; fd++)
        close(fd);
}

/* Runs `runc --root R --log-format json <args...>` with stdin from /dev/null, capturing
 * stdout and stderr. Returns 0 when it ran (see res->status) or a negative errno. */
static int run_runc(struct kl_runtime *rt, const char *const *args, struct runc_result *res)
{
    memset(res, 0, sizeof(*res));
    size_t na = 0;
    while (args[na])
        na++;
    const char **argv = ck_xcalloc(na + 6, sizeof(char *));
    size_t k = 0;
    argv[k++] = rt->runc;
    argv[k++] = "--root";
    argv[k++] = rt->runc_root;
    argv[k++] = "--log-format";
    argv[k++] = "json";
    for (size_t i = 0; i < na; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    int out[2], errp[2];
    if (pipe2(out, O_CLOEXEC) < 0) {
        free(argv);
        return -errno;
    }
    if (pipe2(errp, O_CLOEXEC) < 0) {
        int e = -errno;
        close(out[0]);
        close(out[1]);
        free(argv);
        return e;
    }
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(out[0]);
        close(out[1]);
        close(errp[0]);
        close(errp[1]);
        if (devnull >= 0)
            close(devnull);
        free(argv);
        return e;
    }
    if (pid == 0) {
        kl_child_signals_default();
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(errp[1], 2);
        kl_child_close_from(3);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    free(argv);
    if (devnull >= 0)
        close(devnull);
    close(out[1]);
    close(errp[1]);
    struct ck_buf ob = CK_BUF_INIT, eb = CK_BUF_INIT;
    ck_buf_init(&ob);
    ck_buf_init(&eb);
    struct pollfd pfd[2] = {{out[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
    int open_fds = 2;
    int64_t deadline = mono_ms() + KL_RUNC_TIMEOUT_MS;
    bool timed_out = false;
    while (open_fds > 0) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        int r = poll(pfd, 2, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (pfd[i].fd < 0 || !pfd[i].revents)
                continue;
            char buf[4096];
            ssize_t n = read(pfd[i].fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                open_fds--;
                continue;
            }
            struct ck_buf *b = i == 0 ? &ob : &eb;
            if (b->len < KL_STATE_MAX)
                ck_buf_add(b, buf, (size_t)n);
        }
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i].fd >= 0)
            close(pfd[i].fd);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    res->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    res->out = ck_buf_detach(&ob);
    if (res->status != 0)
        runc_error_message(ck_buf_str(&eb), res->msg, sizeof(res->msg));
    if (timed_out)
        snprintf(res->msg, sizeof(res->msg), "runc %s timed out", args[0]);
    ck_buf_free(&eb);
    return 0;
}

static bool msg_means_gone(const char *msg)
{
    return strstr(msg, "does not exist") || strstr(msg, "not exist") ||
           strstr(msg, "container not running") || strstr(msg, "process already finished");
}

/* ---- runtime ----------------------------------------------------------------------------------
 */

int kl_runtime_init(const char *root, const char *cgroup_root, struct kl_runtime **out,
                    struct ck_error *err)
{
    if (!out || !root || root[0] != '/' || strlen(root) > 512) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "runtime root must be an absolute path");
        return -EINVAL;
    }
    *out = NULL;
    struct kl_runtime *rt = ck_xcalloc(1, sizeof(*rt));
    rt->root = ck_xstrdup(root);
    size_t rl = strlen(rt->root);
    while (rl > 1 && rt->root[rl - 1] == '/')
        rt->root[--rl] = '\0';
    rt->runc_root = ck_xasprintf("%s/runc", rt->root);
    const char *r = getenv("CKUBE_RUNC");
    rt->runc = ck_xstrdup(r && *r ? r : "/usr/sbin/runc");
    int rc = 0;
    const char *subs[] = {"", "/runc", "/containers", "/sandboxes"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(subs) && rc == 0; i++) {
        CK_AUTOFREE char *d = ck_xasprintf("%s%s", rt->root, subs[i]);
        rc = kl_mkdir_p(d, 0711);
    }
    if (rc < 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot create %s: %s", rt->root, strerror(-rc));
        kl_runtime_free(rt);
        return rc;
    }
    if (access(rt->runc, X_OK) < 0) {
        rc = -errno;
        ck_error_set(err, 500, CK_REASON_INTERNAL, "runc binary %s: %s", rt->runc, strerror(errno));
        kl_runtime_free(rt);
        return rc;
    }
    rc = kl_cgroups_init(NULL, cgroup_root, &rt->cg);
    if (rc == 0)
        rc = kl_cgroups_ensure_node(rt->cg);
    if (rc < 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cgroups under %s: %s",
                     cgroup_root ? cgroup_root : "/kubepods", strerror(-rc));
        kl_runtime_free(rt);
        return rc;
    }
    if (gethostname(rt->node_hostname, sizeof(rt->node_hostname) - 1) < 0)
        snprintf(rt->node_hostname, sizeof(rt->node_hostname), "localhost");
    rt->cap_last_cap = 40;
    char *text = NULL;
    if (kl_read_file("/proc/sys/kernel/cap_last_cap", 64, &text, NULL) == 0) {
        int v = atoi(text);
        if (v > 0 && v < 64)
            rt->cap_last_cap = v;
    }
    free(text);
    /* shims start by fork from the zygote; CKUBE_KL_SHIM_EXEC=1 (or a zygote that cannot
     * start) keeps the exec of this binary per shim */
    const char *ex = getenv("CKUBE_KL_SHIM_EXEC");
    if (!(ex && strcmp(ex, "1") == 0)) {
        rc = kl_zygote_start(&rt->zygote);
        if (rc < 0)
            ck_warn("Cannot start the container shim launcher, starting shims by exec err=\"%s\"",
                    strerror(-rc));
    }
    *out = rt;
    return 0;
}

void kl_runtime_free(struct kl_runtime *rt)
{
    if (!rt)
        return;
    kl_zygote_free(rt->zygote);
    kl_cgroups_free(rt->cg);
    free(rt->root);
    free(rt->runc_root);
    free(rt->runc);
    free(rt);
}

/* ---- the shim ----------------------------------------------------------------------------------
 */

/* Everything below runs in the shim process (a re-executed copy of this binary). It reports
 * to stderr, which is <container dir>/shim.log. */

struct shim {
    const char *dir, *id, *runc, *runc_root, *log_path, *oom_file;
    bool run; /* `runc run --detach` (created and started at once) instead of `runc create` */
    int log_fd;
    struct kl_crilog_stream streams[2];
};

static void shim_open_log(struct shim *s)
{
    if (s->log_fd >= 0)
        close(s->log_fd);
    s->log_fd = -1;
    if (!s->log_path || !s->log_path[0])
        return;
    CK_AUTOFREE char *parent = ck_xstrdup(s->log_path);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        (void)kl_mkdir_p(parent, 0755);
    }
    s->log_fd = open(s->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (s->log_fd < 0)
        fprintf(stderr, "shim: cannot open log %s: %s\n", s->log_path, strerror(errno));
}

static void shim_write(struct shim *s, struct ck_buf *b)
{
    if (b->len && s->log_fd >= 0) {
        size_t off = 0;
        while (off < b->len) {
            ssize_t n = write(s->log_fd, b->data + off, b->len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                fprintf(stderr, "shim: log write: %s\n", strerror(errno));
                break;
            }
            off += (size_t)n;
        }
    }
    ck_buf_reset(b);
}

static void shim_report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void shim_report(int fd, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++)
        if (*p == '\n')
            *p = ' ';
    size_t l = strlen(line);
    if (l + 1 < sizeof(line)) {
        line[l++] = '\n';
        line[l] = '\0';
    }
    (void)!write(fd, line, l);
}

#define SHIM_STATUS_FD 3
#define SHIM_DRAIN_MS 2000

struct shim_run {
    struct shim s;
    int sfd;              /* signalfd: SIGCHLD, SIGUSR1, SIGTERM */
    struct pollfd pfd[3]; /* signalfd, stdout pipe, stderr pipe */
    pid_t runc_pid;       /* `runc create` or `runc run --detach` */
    int init_pid;         /* the container's init, once created */
    int init_status;
    bool created, exited;
    int64_t drain_deadline; /* after the init exited: stop waiting for the pipes */
    struct timespec finished;
    struct {
        int pid, status;
    } early[64]; /* children reaped before the init pid was known */
    size_t n_early;
    struct ck_buf capture[2]; /* runc's own stdout, stderr until it returned */
    struct ck_buf lines;      /* CRI lines to write */
    char runc_log[4096], pid_file[4096];
};

static void shim_init_exited(struct shim_run *r, int status)
{
    r->exited = true;
    r->init_status = status;
    ck_time_now(&r->finished);
    r->drain_deadline = mono_ms() + SHIM_DRAIN_MS;
}

/* Forks `runc create` (or `runc run --detach`) with the container's stdio on two pipes. */
static int shim_start_create(struct shim_run *r)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGTERM); /* the shim outlives stop requests: only SIGKILL ends it */
    sigprocmask(SIG_BLOCK, &mask, NULL);
    r->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    int out[2], errp[2];
    if (r->sfd < 0 || pipe2(out, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(errp, O_CLOEXEC) < 0)
        return -errno;
    snprintf(r->runc_log, sizeof(r->runc_log), "%s/runc.log", r->s.dir);
    snprintf(r->pid_file, sizeof(r->pid_file), "%s/init.pid", r->s.dir);
    /* `run --detach` is create + start in one runc: the container runs when it returns */
    const char *argv[16];
    size_t na = 0;
    argv[na++] = r->s.runc;
    argv[na++] = "--root";
    argv[na++] = r->s.runc_root;
    argv[na++] = "--log";
    argv[na++] = r->runc_log;
    argv[na++] = "--log-format";
    argv[na++] = "json";
    argv[na++] = r->s.run ? "run" : "create";
    if (r->s.run)
        argv[na++] = "--detach";
    argv[na++] = "--bundle";
    argv[na++] = r->s.dir;
    argv[na++] = "--pid-file";
    argv[na++] = r->pid_file;
    argv[na++] = r->s.id;
    argv[na] = NULL;
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    r->runc_pid = fork();
    if (r->runc_pid < 0)
        return -errno;
    if (r->runc_pid == 0) {
        kl_child_signals_default();
        dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(errp[1], 2);
        kl_child_close_from(3);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (devnull >= 0)
        close(devnull);
    close(out[1]);
    close(errp[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(errp[0], F_SETFL, O_NONBLOCK);
    r->pfd[0] = (struct pollfd){r->sfd, POLLIN, 0};
    /* with `run` the container may write before runc returns: its output stays in the pipes
     * (not read) until runc is done, so none of it is taken for runc's */
    short ev = r->s.run ? 0 : POLLIN;
    r->pfd[1] = (struct pollfd){out[0], ev, 0};
    r->pfd[2] = (struct pollfd){errp[0], ev, 0};
    return 0;
}

/* Handles pending signals: reaps every child (we are the subreaper), reopens the log. */
static void shim_signals(struct shim_run *r, bool *create_done, int *create_status)
{
    struct signalfd_siginfo si;
    while (read(r->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGUSR1 && r->created)
            shim_open_log(&r->s);
    }
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        if (p == r->runc_pid) {
            *create_done = true;
            *create_status = st;
        } else if (r->created && p == r->init_pid) {
            shim_init_exited(r, st);
        } else if (!r->created && r->n_early < CK_ARRAY_SIZE(r->early)) {
            r->early[r->n_early].pid = p;
            r->early[r->n_early++].status = st;
        }
    }
}

static void shim_read_stream(struct shim_run *r, int i)
{
    static const char *const names[2] = {"stdout", "stderr"};
    struct pollfd *f = &r->pfd[1 + i];
    char buf[16384];
    ssize_t n = read(f->fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    struct timespec now;
    ck_time_now(&now);
    if (n <= 0) {
        close(f->fd);
        f->fd = -1;
        if (r->created)
            kl_crilog_flush(&r->s.streams[i], names[i], &now, KL_CRILOG_MAX_LINE, &r->lines);
    } else if (!r->created) { /* runc's own output while it creates the container */
        if (r->capture[i].len < 65536)
            ck_buf_add(&r->capture[i], buf, (size_t)n);
    } else {
        kl_crilog_feed(&r->s.streams[i], names[i], buf, (size_t)n, &now, KL_CRILOG_MAX_LINE,
                       &r->lines);
    }
    shim_write(&r->s, &r->lines);
}

/* `runc create` returned: report the init pid (or runc's error) to the kubelet. */
static int shim_created(struct shim_run *r, int create_status)
{
    bool ok = WIFEXITED(create_status) && WEXITSTATUS(create_status) == 0;
    if (!ok && r->s.run) /* what runc said is still in the pipes */
        for (int i = 0; i < 2; i++) {
            char buf[4096];
            ssize_t n;
            while (r->pfd[1 + i].fd >= 0 && r->capture[i].len < 65536 &&
                   (n = read(r->pfd[1 + i].fd, buf, sizeof(buf))) > 0)
                ck_buf_add(&r->capture[i], buf, (size_t)n);
        }
    char *pidtxt = NULL;
    if (ok && kl_read_file(r->pid_file, 64, &pidtxt, NULL) == 0)
        r->init_pid = atoi(pidtxt);
    free(pidtxt);
    if (!ok || r->init_pid <= 0) {
        char *logtext = NULL;
        (void)kl_read_file(r->runc_log, KL_STATE_MAX, &logtext, NULL);
        char msg[512];
        runc_error_message(logtext && *logtext ? logtext : ck_buf_str(&r->capture[1]), msg,
                           sizeof(msg));
        free(logtext);
        shim_report(SHIM_STATUS_FD, "ERR %s", msg[0] ? msg : "runc create failed");
        return -1;
    }
    r->created = true;
    shim_open_log(&r->s);
    r->pfd[1].events = r->pfd[2].events = POLLIN; /* the container's output from here on */
    ck_buf_free(&r->capture[0]);
    ck_buf_free(&r->capture[1]);
    shim_report(SHIM_STATUS_FD, "OK %d", r->init_pid);
    close(SHIM_STATUS_FD);
    for (size_t i = 0; i < r->n_early; i++)
        if (r->early[i].pid == r->init_pid)
            shim_init_exited(r, r->early[i].status);
    return 0;
}

/* Records how the container ended: exit.json with the code, signal, OOM kill and time. */
static int shim_write_exit(struct shim_run *r)
{
    int st = r->init_status;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    bool oom = false;
    if (r->s.oom_file[0]) {
        char *text = NULL;
        if (kl_read_file(r->s.oom_file, 65536, &text, NULL) == 0)
            oom = kl_cgroup_parse_oom_kills(text) > 0;
        free(text);
    }
    cJSON *ex = cJSON_CreateObject();
    cJSON_AddNumberToObject(ex, "exitCode", code);
    cJSON_AddNumberToObject(ex, "signal", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    cJSON_AddBoolToObject(ex, "oomKilled", oom);
    set_time(ex, "finishedAt", &r->finished);
    CK_AUTOFREE char *path = ck_xasprintf("%s/exit.json", r->s.dir);
    int rc = kl_write_json_file(path, ex);
    if (rc < 0)
        fprintf(stderr, "shim: cannot write %s: %s\n", path, strerror(-rc));
    cJSON_Delete(ex);
    return rc;
}

int kl_shim_main(const char *dir)
{
    struct shim_run r = {.s = {.dir = dir, .log_fd = -1}, .sfd = -1, .init_pid = -1};
    CK_AUTOFREE char *cfg_path = ck_xasprintf("%s/shim.json", dir);
    cJSON *cfg = kl_read_json_file(cfg_path);
    if (!cfg) {
        shim_report(SHIM_STATUS_FD, "ERR cannot read %s", cfg_path);
        return 1;
    }
    r.s.id = ck_json_get_string(cfg, "id", "");
    r.s.runc = ck_json_get_string(cfg, "runc", "/usr/sbin/runc");
    r.s.runc_root = ck_json_get_string(cfg, "runcRoot", "");
    r.s.log_path = ck_json_get_string(cfg, "logPath", "");
    r.s.oom_file = ck_json_get_string(cfg, "oomFile", "");
    r.s.run = ck_json_get_bool(cfg, "run", false);
    CK_AUTOFREE char *pidf = ck_xasprintf("%s/shim.pid", dir);
    char pidtxt[32];
    snprintf(pidtxt, sizeof(pidtxt), "%d\n", (int)getpid());
    (void)kl_write_file_atomic(pidf, pidtxt, strlen(pidtxt), 0600);
    ck_buf_init(&r.capture[0]);
    ck_buf_init(&r.capture[1]);
    ck_buf_init(&r.lines);
    int rc = shim_start_create(&r);
    if (rc < 0) {
        shim_report(SHIM_STATUS_FD, "ERR shim setup: %s", strerror(-rc));
        cJSON_Delete(cfg);
        return 1;
    }
    bool create_done = false;
    int create_status = 0;
    while (!(r.exited && r.pfd[1].fd < 0 && r.pfd[2].fd < 0)) {
        int timeout = -1;
        if (r.exited) {
            int64_t left = r.drain_deadline - mono_ms();
            if (left <= 0)
                break; /* something outside the container keeps the pipes open */
            timeout = (int)left;
        }
        if (poll(r.pfd, 3, timeout) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "shim: poll: %s\n", strerror(errno));
            break;
        }
        if (r.pfd[0].revents)
            shim_signals(&r, &create_done, &create_status);
        for (int i = 0; i < 2; i++)
            if (r.pfd[1 + i].fd >= 0 && r.pfd[1 + i].revents && r.pfd[1 + i].events)
                shim_read_stream(&r, i);
        if (create_done && !r.created) {
            create_done = false;
            if (shim_created(&r, create_status) < 0) {
                rc = -1;
                break;
            }
        }
    }
    if (rc == 0) {
        struct timespec now;
        ck_time_now(&now);
        kl_crilog_flush(&r.s.streams[0], "stdout", &now, KL_CRILOG_MAX_LINE, &r.lines);
        kl_crilog_flush(&r.s.streams[1], "stderr", &now, KL_CRILOG_MAX_LINE, &r.lines);
        shim_write(&r.s, &r.lines);
        rc = shim_write_exit(&r);
    }
    for (int i = 0; i < 2; i++)
        kl_crilog_stream_free(&r.s.streams[i]);
    ck_buf_free(&r.lines);
    ck_buf_free(&r.capture[0]);
    ck_buf_free(&r.capture[1]);
    if (r.s.log_fd >= 0)
        close(r.s.log_fd);
    cJSON_Delete(cfg);
    return rc < 0 ? 1 : 0;
}

/* Shim mode: the kubelet re-executes its own binary as "ckube-kl-shim <dir>" with
 * _CKUBE_KL_SHIM=1 (or, once per runtime, as the zygote with _CKUBE_KL_SHIM=zygote: see
 * zygote.h); this runs before main (glibc passes argc/argv to constructors). */
__attribute__((constructor)) static void kl_shim_ctor(int argc, char **argv, char **envp)
{
    (void)envp;
    const char *m = getenv(KL_SHIM_ENV);
    if (!m || argc != 2 || !argv || strcmp(argv[0], KL_SHIM_ARGV0) != 0)
        return;
    if (strcmp(m, "zygote") == 0) {
        unsetenv(KL_SHIM_ENV);
        _exit(kl_zygote_main(argv[1], strlen(argv[1])));
    }
    if (strcmp(m, "1") != 0)
        return;
    unsetenv(KL_SHIM_ENV);
    _exit(kl_shim_main(argv[1]));
}

static int shim_wait_report(int fd, const char *shim_log, int *init_pid, struct ck_error *err);

/* Starts a shim for the container in dir (detached: double fork, setsid) -- through the
 * zygote when there is one, else by re-executing this binary -- and waits for its report. On
 * success *init_pid is the container's init; else err holds runc's message. */
static int spawn_shim(struct kl_runtime *rt, const char *dir, int *init_pid, struct ck_error *err)
{
    int st[2];
    if (pipe2(st, O_CLOEXEC) < 0)
        return -errno;
    CK_AUTOFREE char *shim_log = ck_xasprintf("%s/shim.log", dir);
    int logfd = open(shim_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* keep the fds we hand over clear of 0..3 so the dup2 calls cannot clobber them */
    int hi_st = fcntl(st[1], F_DUPFD_CLOEXEC, 10);
    int hi_log = logfd >= 0 ? fcntl(logfd, F_DUPFD_CLOEXEC, 10) : -1;
    int hi_null = devnull >= 0 ? fcntl(devnull, F_DUPFD_CLOEXEC, 10) : -1;
    close(st[1]);
    if (logfd >= 0)
        close(logfd);
    if (devnull >= 0)
        close(devnull);
    if (hi_st < 0 || hi_log < 0 || hi_null < 0) {
        int e = -EMFILE;
        close(st[0]);
        if (hi_st >= 0)
            close(hi_st);
        if (hi_log >= 0)
            close(hi_log);
        if (hi_null >= 0)
            close(hi_null);
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot set up the shim's files");
        return e;
    }
    if (rt->zygote) {
        int zrc = kl_zygote_spawn(rt->zygote, dir, hi_st, hi_log, hi_null);
        if (zrc == 0) {
            close(hi_st);
            close(hi_log);
            close(hi_null);
            return shim_wait_report(st[0], shim_log, init_pid, err);
        }
        if (zrc == -EPIPE)
            ck_warn("The container shim launcher is gone, starting shims by exec");
    }
    char *const argv[] = {(char *)KL_SHIM_ARGV0, (char *)dir, NULL};
    char **envp = kl_shim_environ(KL_SHIM_ENV "=1");

    pid_t a = fork();
    if (a < 0) {
        int e = -errno;
        free(envp);
        close(st[0]);
        close(hi_st);
        close(hi_log);
        close(hi_null);
        ck_error_set(err, 500, CK_REASON_INTERNAL, "fork: %s", strerror(-e));
        return e;
    }
    if (a == 0) {
        setsid();
        pid_t b = fork();
        if (b != 0)
            _exit(b < 0 ? 1 : 0);
        kl_child_signals_default();
        dup2(hi_null, 0);
        dup2(hi_log, 1);
        dup2(hi_log, 2);
        dup2(hi_st, 3);
        kl_child_close_from(4);
        if (chdir("/") < 0)
            _exit(126);
        execve("/proc/self/exe", argv, envp);
        _exit(127);
    }
    free(envp);
    close(hi_st);
    close(hi_log);
    close(hi_null);
    int ws;
    while (waitpid(a, &ws, 0) < 0 && errno == EINTR) {
    }
    return shim_wait_report(st[0], shim_log, init_pid, err);
}

/* Reads the shim's answer on fd (closed here): "OK <pid>" or "ERR <message>". */
static int shim_wait_report(int fd, const char *shim_log, int *init_pid, struct ck_error *err)
{
    char line[1100];
    size_t len = 0;
    int64_t deadline = mono_ms() + KL_RUNC_TIMEOUT_MS;
    while (len + 1 < sizeof(line)) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t n = read(fd, line + len, sizeof(line) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (memchr(line, '\n', len))
            break;
    }
    close(fd);
    line[len] = '\0';
    char *nl = strchr(line, '\n');
    if (nl)
        *nl = '\0';
    if (strncmp(line, "OK ", 3) == 0 && atoi(line + 3) > 0) {
        *init_pid = atoi(line + 3);
        return 0;
    }
    if (strncmp(line, "ERR ", 4) == 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "%s", line + 4);
        return -EIO;
    }
    ck_error_set(err, 500, CK_REASON_INTERNAL, "container shim did not report (see %s)", shim_log);
    return -EIO;
}

/* ---- containers ---------------------------------------------------------------------------- */

void kl_container_free(struct kl_container *c)
{
    if (!c)
        return;
    free(c->id);
    free(c->sandbox_id);
    free(c->name);
    free(c->image);
    free(c->dir);
    free(c->log_path);
    free(c->cgroup_path);
    free(c->termination_log);
    cJSON_Delete(c->labels);
    cJSON_Delete(c->annotations);
    free(c);
}

void kl_container_list_free(struct kl_container **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kl_container_free(v[i]);
    free(v);
}

static cJSON *container_meta(const struct kl_container *c)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", c->id);
    cJSON_AddStringToObject(m, "sandboxId", c->sandbox_id);
    cJSON_AddStringToObject(m, "name", c->name);
    cJSON_AddNumberToObject(m, "attempt", c->attempt);
    cJSON_AddStringToObject(m, "image", c->image);
    cJSON_AddStringToObject(m, "logPath", c->log_path);
    cJSON_AddStringToObject(m, "cgroupPath", c->cgroup_path);
    cJSON_AddStringToObject(m, "terminationLog", c->termination_log);
    cJSON_AddStringToObject(m, "stopSignal", c->stop_signal);
    set_time(m, "createdAt", &c->created_at);
    cJSON_AddNumberToObject(m, "initPid", c->init_pid);
    char start[32];
    snprintf(start, sizeof(start), "%llu", c->init_start);
    cJSON_AddStringToObject(m, "initStart", start);
    cJSON_AddNumberToObject(m, "shimPid", c->shim_pid);
    cJSON_AddItemToObject(m, "labels", ck_json_dup(c->labels));
    cJSON_AddItemToObject(m, "annotations", ck_json_dup(c->annotations));
    return m;
}

static char *dup_field(const cJSON *m, const char *key)
{
    return ck_xstrdup(ck_json_get_string(m, key, ""));
}

int kl_container_get(struct kl_runtime *rt, const char *id, struct kl_container **out)
{
    if (!rt || !out || !hex_id_ok(id))
        return -EINVAL;
    *out = NULL;
    CK_AUTOFREE char *dir = ck_xasprintf("%s/containers/%s", rt->root, id);
    CK_AUTOFREE char *mp = ck_xasprintf("%s/meta.json", dir);
    cJSON *m = kl_read_json_file(mp);
    if (!m)
        return path_exists(dir) ? -EIO : -ENOENT;
    struct kl_container *c = ck_xcalloc(1, sizeof(*c));
    c->id = ck_xstrdup(id);
    c->dir = ck_xstrdup(dir);
    c->sandbox_id = dup_field(m, "sandboxId");
    c->name = dup_field(m, "name");
    c->attempt = (unsigned)ck_json_get_int64(m, "attempt", 0);
    c->image = dup_field(m, "image");
    c->log_path = dup_field(m, "logPath");
    c->cgroup_path = dup_field(m, "cgroupPath");
    c->termination_log = dup_field(m, "terminationLog");
    snprintf(c->stop_signal, sizeof(c->stop_signal), "%s",
             ck_json_get_string(m, "stopSignal", "SIGTERM"));
    get_time(m, "createdAt", &c->created_at);
    c->init_pid = (int)ck_json_get_int64(m, "initPid", 0);
    c->init_start = strtoull(ck_json_get_string(m, "initStart", "0"), NULL, 10);
    c->shim_pid = (int)ck_json_get_int64(m, "shimPid", 0);
    cJSON *l = ck_json_getv(m, "labels", NULL);
    c->labels = cJSON_IsObject(l) ? ck_json_dup(l) : cJSON_CreateObject();
    cJSON *a = ck_json_getv(m, "annotations", NULL);
    c->annotations = cJSON_IsObject(a) ? ck_json_dup(a) : cJSON_CreateObject();
    cJSON_Delete(m);
    *out = c;
    return 0;
}

int kl_container_list(struct kl_runtime *rt, struct kl_container ***out, size_t *n)
{
    if (!rt || !out || !n)
        return -EINVAL;
    *out = NULL;
    *n = 0;
    CK_AUTOFREE char *cd = ck_xasprintf("%s/containers", rt->root);
    DIR *d = opendir(cd);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct kl_container *c;
        if (!hex_id_ok(de->d_name) || kl_container_get(rt, de->d_name, &c) < 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = ck_xrealloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = c;
    }
    closedir(d);
    return 0;
}

/* The image's StopSignal when it looks like a signal name or number, else SIGTERM. */
static void stop_signal_of(const cJSON *image_config, char out[24])
{
    const cJSON *cfg = image_config ? ck_json_getv(image_config, "config", NULL) : NULL;
    if (!cJSON_IsObject(cfg))
        cfg = image_config;
    const char *s = cfg ? ck_json_get_string(cfg, "StopSignal", "") : "";
    bool ok = s[0] && strlen(s) < 20;
    for (const char *p = s; ok && *p; p++)
        ok = (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+';
    snprintf(out, 24, "%s", ok ? s : "SIGTERM");
}

/* Undoes a half-made container: runc state, shim, mounts, directory. */
static void container_cleanup(struct kl_runtime *rt, const char *id, const char *dir)
{
    struct runc_result res;
    const char *del[] = {"delete", "--force", id, NULL};
    if (run_runc(rt, del, &res) == 0)
        free(res.out);
    CK_AUTOFREE char *pidf = ck_xasprintf("%s/shim.pid", dir);
    char *pidtxt = NULL;
    if (kl_read_file(pidf, 64, &pidtxt, NULL) == 0) {
        int sp = atoi(pidtxt);
        if (is_shim_of(sp, dir))
            kill(sp, SIGKILL);
    }
    free(pidtxt);
    CK_AUTOFREE char *rootfs = ck_xasprintf("%s/rootfs", dir);
    (void)kl_rootfs_umount(rootfs);
    (void)kl_umount_all_under(dir);
    (void)kl_rm_rf(dir);
}

/* Makes the bundle in dir: rootfs over the layers, termination-log, mount sources, and the
 * config.json for spec. */
static int prepare_bundle(struct kl_runtime *rt, const struct kl_sandbox *sb,
                          const struct kl_container_spec *spec, const cJSON *image_config,
                          const char *const *layers, size_t n_layers, const char *id,
                          const char *dir, const char *cg_parent, struct ck_error *err)
{
    CK_AUTOFREE char *rootfs = ck_xasprintf("%s/rootfs", dir);
    CK_AUTOFREE char *upper = ck_xasprintf("%s/upper", dir);
    CK_AUTOFREE char *work = ck_xasprintf("%s/work", dir);
    CK_AUTOFREE char *tlog = ck_xasprintf("%s/termination-log", dir);
    CK_AUTOFREE char *config_path = ck_xasprintf("%s/config.json", dir);
    if (mkdir(dir, 0711) < 0 || mkdir(rootfs, 0755) < 0 || mkdir(upper, 0755) < 0 ||
        mkdir(work, 0700) < 0) {
        int rc = -errno;
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot create %s: %s", dir, strerror(-rc));
        return rc;
    }
    int rc = kl_rootfs_mount(layers, n_layers, upper, work, rootfs);
    if (rc < 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "failed to mount rootfs: %s", strerror(-rc));
        return rc;
    }
    /* the termination message file, writable by any container user (as the kubelet makes it) */
    int tfd = open(tlog, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (tfd < 0 || fchmod(tfd, 0666) < 0) {
        rc = -errno;
        if (tfd >= 0)
            close(tfd);
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot create %s: %s", tlog, strerror(-rc));
        return rc;
    }
    close(tfd);
    for (size_t i = 0; i < spec->n_mounts; i++) {
        const char *hp = spec->mounts[i].host_path;
        if (hp && hp[0] == '/' && !path_exists(hp) && (rc = kl_mkdir_p(hp, 0755)) < 0) {
            ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot create mount source %s: %s", hp,
                         strerror(-rc));
            return rc;
        }
    }
    char *passwd = NULL, *group = NULL;
    rc = kl_rootfs_read_users(rootfs, &passwd, &group);
    if (rc < 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot read users of the image: %s",
                     strerror(-rc));
        return rc;
    }
    struct kl_bundle_env be = {
        .container_id = id,
        .sandbox_id = sb->id,
        .pod_name = sb->pod_name,
        .pod_namespace = sb->pod_namespace,
        .hostname = sb->hostname,
        .node_hostname = rt->node_hostname,
        .netns_path = sb->netns_path,
        .ipcns_path = sb->ipcns_path,
        .utsns_path = sb->utsns_path,
        .host_pid = sb->host_pid,
        .hostname_file = sb->hostname_file,
        .hosts_file = sb->hosts_file,
        .resolv_conf_file = sb->resolv_conf_file,
        .shm_dir = sb->shm_dir,
        .termination_log_file = tlog,
        .cgroup_parent = cg_parent,
        .cgroup_v2 = rt->cg->version == KL_CGROUP_V2,
        .passwd = passwd,
        .group = group,
        .cap_last_cap = rt->cap_last_cap,
    };
    cJSON *config = NULL;
    rc = kl_bundle_config(spec, image_config, &be, &config, err);
    free(passwd);
    free(group);
    if (rc < 0)
        return rc;
    rc = kl_write_json_file(config_path, config);
    cJSON_Delete(config);
    if (rc < 0)
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot write %s: %s", config_path,
                     strerror(-rc));
    return rc;
}

static struct kl_container *container_new(const struct kl_sandbox *sb,
                                          const struct kl_container_spec *spec,
                                          const cJSON *image_config, const char *id,
                                          const char *dir, const char *cg_parent)
{
    struct kl_container *c = ck_xcalloc(1, sizeof(*c));
    c->id = ck_xstrdup(id);
    c->sandbox_id = ck_xstrdup(sb->id);
    c->name = ck_xstrdup(spec->name);
    c->attempt = spec->attempt;
    c->image = ck_xstrdup(spec->image ? spec->image : "");
    c->dir = ck_xstrdup(dir);
    if (spec->log_path && spec->log_path[0])
        c->log_path = ck_xstrdup(spec->log_path);
    else if (sb->log_directory && sb->log_directory[0])
        c->log_path = ck_xasprintf("%s/%s/%u.log", sb->log_directory, spec->name, spec->attempt);
    else
        c->log_path = ck_xstrdup("");
    c->cgroup_path = ck_xasprintf("%s/%s", cg_parent, id);
    c->termination_log = spec->termination_message_host_path
                             ? ck_xstrdup(spec->termination_message_host_path)
                             : ck_xasprintf("%s/termination-log", dir);
    stop_signal_of(image_config, c->stop_signal);
    ck_time_now(&c->created_at);
    c->labels = kl_kv_object(spec->labels, spec->n_labels);
    c->annotations = kl_kv_object(spec->annotations, spec->n_annotations);
    return c;
}

/* What the shim needs to know, in <dir>/shim.json. */
static int write_shim_config(struct kl_runtime *rt, const struct kl_container *c, bool run,
                             struct ck_error *err)
{
    CK_AUTOFREE char *oom = kl_cgroup_oom_file(rt->cg, c->cgroup_path);
    cJSON *sj = cJSON_CreateObject();
    cJSON_AddStringToObject(sj, "id", c->id);
    cJSON_AddStringToObject(sj, "runc", rt->runc);
    cJSON_AddStringToObject(sj, "runcRoot", rt->runc_root);
    cJSON_AddStringToObject(sj, "logPath", c->log_path);
    cJSON_AddStringToObject(sj, "oomFile", oom ? oom : "");
    cJSON_AddBoolToObject(sj, "run", run);
    CK_AUTOFREE char *sp = ck_xasprintf("%s/shim.json", c->dir);
    int rc = kl_write_json_file(sp, sj);
    cJSON_Delete(sj);
    if (rc < 0)
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot write %s: %s", sp, strerror(-rc));
    return rc;
}

/* Notes when the container's process started (read back by kl_container_state). */
static int write_started(const struct kl_container *c)
{
    struct timespec now;
    ck_time_now(&now);
    char ts[32];
    kl_format_rfc3339nano(&now, ts);
    CK_AUTOFREE char *sf = ck_xasprintf("%s/started", c->dir);
    return kl_write_file_atomic(sf, ts, strlen(ts), 0600);
}

/* create (run=false) or create and start at once (run=true) */
static int container_make(struct kl_runtime *rt, const struct kl_sandbox *sb,
                          const struct kl_container_spec *spec, const cJSON *image_config,
                          const char *const *layer_dirs, size_t n_layers, bool run,
                          struct kl_container **out, struct ck_error *err)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!rt || !sb || !spec || !layer_dirs || n_layers == 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "container create: missing arguments");
        return -EINVAL;
    }
    if (!component_ok(spec->name)) {
        ck_error_set(err, 422, CK_REASON_INVALID, "invalid container name \"%s\"",
                     spec->name ? spec->name : "");
        return -EINVAL;
    }
    if (!sb->ready) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "sandbox %s is not ready", sb->id);
        return -EINVAL;
    }
    CK_AUTOFREE char *id = kl_new_id();
    CK_AUTOFREE char *dir = ck_xasprintf("%s/containers/%s", rt->root, id);
    CK_AUTOFREE char *pidf = ck_xasprintf("%s/shim.pid", dir);
    CK_AUTOFREE char *mp = ck_xasprintf("%s/meta.json", dir);
    const char *cg_parent =
        sb->cgroup_parent && sb->cgroup_parent[0] ? sb->cgroup_parent : rt->cg->root;
    struct kl_container *c = NULL;
    int64_t t0 = ck_mono_ns();
    int rc =
        prepare_bundle(rt, sb, spec, image_config, layer_dirs, n_layers, id, dir, cg_parent, err);
    if (rc < 0)
        goto fail;
    c = container_new(sb, spec, image_config, id, dir, cg_parent);
    rc = write_shim_config(rt, c, run, err);
    if (rc < 0)
        goto fail;
    int64_t t1 = ck_mono_ns();
    rc = spawn_shim(rt, dir, &c->init_pid, err);
    if (rc < 0)
        goto fail;
    ck_vinfo(4, "%s container=\"%s\" id=\"%.12s\" bundle=%lldms shim+runc-%s=%lldms",
             run ? "RunContainer" : "CreateContainer", spec->name, id,
             (long long)((t1 - t0) / 1000000), run ? "run" : "create",
             (long long)((ck_mono_ns() - t1) / 1000000));
    /* with run, a short-lived init may be gone already: 0 then (pid checks only) */
    c->init_start = proc_start_time(c->init_pid);
    if (run && (rc = write_started(c)) < 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot record the start of %s: %s", id,
                     strerror(-rc));
        goto fail;
    }
    char *pidtxt = NULL;
    if (kl_read_file(pidf, 64, &pidtxt, NULL) == 0)
        c->shim_pid = atoi(pidtxt);
    free(pidtxt);
    cJSON *meta = container_meta(c);
    rc = kl_write_json_file(mp, meta);
    cJSON_Delete(meta);
    if (rc < 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot write %s: %s", mp, strerror(-rc));
        goto fail;
    }
    *out = c;
    return 0;
fail:
    container_cleanup(rt, id, dir);
    kl_container_free(c);
    return rc;
}

int kl_container_start(struct kl_runtime *rt, const struct kl_container *c, struct ck_error *err)
{
    if (!rt || !c)
        return -EINVAL;
    struct runc_result res;
    const char *args[] = {"start", c->id, NULL};
    int rc = run_runc(rt, args, &res);
    if (rc < 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot run runc: %s", strerror(-rc));
        return rc;
    }
    free(res.out);
    if (res.status != 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "failed to start container %s: %s", c->id,
                     res.msg);
        return -EIO;
    }
    return write_started(c);
}

int kl_container_create(struct kl_runtime *rt, const struct kl_sandbox *sb,
                        const struct kl_container_spec *spec, const cJSON *image_config,
                        const char *const *layer_dirs, size_t n_layers, struct kl_container **out,
                        struct ck_error *err)
{
    return container_make(rt, sb, spec, image_config, layer_dirs, n_layers, false, out, err);
}

int kl_container_run(struct kl_runtime *rt, const struct kl_sandbox *sb,
                     const struct kl_container_spec *spec, const cJSON *image_config,
                     const char *const *layer_dirs, size_t n_layers, struct kl_container **out,
                     struct ck_error *err)
{
    return container_make(rt, sb, spec, image_config, layer_dirs, n_layers, true, out, err);
}

static bool read_started(const struct kl_container *c, struct timespec *t)
{
    memset(t, 0, sizeof(*t));
    CK_AUTOFREE char *sf = ck_xasprintf("%s/started", c->dir);
    char *text = NULL;
    if (kl_read_file(sf, 64, &text, NULL) < 0)
        return false;
    bool ok = ck_time_parse(text, t, NULL) == 0;
    free(text);
    return ok;
}

static bool read_exit(const struct kl_container *c, struct kl_container_state *st)
{
    CK_AUTOFREE char *ef = ck_xasprintf("%s/exit.json", c->dir);
    cJSON *ex = kl_read_json_file(ef);
    if (!ex)
        return false;
    st->status = KL_CONTAINER_EXITED;
    st->pid = 0;
    st->exit_code = (int)ck_json_get_int64(ex, "exitCode", 255);
    st->oom_killed = ck_json_get_bool(ex, "oomKilled", false);
    get_time(ex, "finishedAt", &st->finished_at);
    snprintf(st->reason, sizeof(st->reason), "%s",
             st->oom_killed       ? "OOMKilled"
             : st->exit_code == 0 ? "Completed"
                                  : "Error");
    cJSON_Delete(ex);
    return true;
}

static void state_unknown_exit(struct kl_container_state *st, const char *why)
{
    st->status = KL_CONTAINER_EXITED;
    st->pid = 0;
    st->exit_code = 255;
    snprintf(st->reason, sizeof(st->reason), "Unknown");
    snprintf(st->message, sizeof(st->message), "%s", why);
    ck_time_now(&st->finished_at);
}

int kl_container_state(struct kl_runtime *rt, const struct kl_container *c,
                       struct kl_container_state *st, struct ck_error *err)
{
    if (!rt || !c || !st)
        return -EINVAL;
    memset(st, 0, sizeof(*st));
    st->created_at = c->created_at;
    bool started = read_started(c, &st->started_at);
    if (read_exit(c, st))
        return 0;
    if (started && proc_alive(c->init_pid, c->init_start)) {
        st->status = KL_CONTAINER_RUNNING;
        st->pid = c->init_pid;
        return 0;
    }
    struct runc_result res;
    const char *args[] = {"state", c->id, NULL};
    int rc = run_runc(rt, args, &res);
    if (rc < 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot run runc: %s", strerror(-rc));
        return rc;
    }
    if (res.status != 0) {
        free(res.out);
        if (read_exit(c, st))
            return 0;
        if (msg_means_gone(res.msg)) {
            state_unknown_exit(st, "container is gone and its exit was not recorded");
            return 0;
        }
        ck_error_set(err, 500, CK_REASON_INTERNAL, "runc state %s: %s", c->id, res.msg);
        return -EIO;
    }
    cJSON *j = ck_json_parse(res.out, strlen(res.out), NULL);
    free(res.out);
    const char *status = ck_json_get_string(j, "status", "");
    int pid = (int)ck_json_get_int64(j, "pid", 0);
    if (strcmp(status, "created") == 0) {
        st->status = KL_CONTAINER_CREATED;
        st->pid = pid;
    } else if (strcmp(status, "running") == 0 || strcmp(status, "paused") == 0) {
        st->status = KL_CONTAINER_RUNNING;
        st->pid = pid;
        if (!started) /* started by a kubelet that died before noting when */
            st->started_at = st->created_at;
    } else {
        /* stopped: the shim is about to write the exit (it drains the pipes first) */
        cJSON_Delete(j);
        for (int i = 0; i < 60; i++) {
            if (read_exit(c, st))
                return 0;
            if (!is_shim_of(c->shim_pid, c->dir))
                break;
            nap_ms(50);
        }
        if (read_exit(c, st))
            return 0;
        state_unknown_exit(st, "the container's shim exited without recording the exit status");
        return 0;
    }
    cJSON_Delete(j);
    return 0;
}

/* Sends sig (a runc signal name) to the container's init, or with all=true to every process. */
static int runc_kill(struct kl_runtime *rt, const struct kl_container *c, const char *sig, bool all,
                     struct ck_error *err)
{
    struct runc_result res;
    const char *a1[] = {"kill", "--all", c->id, sig, NULL};
    const char *a2[] = {"kill", c->id, sig, NULL};
    int rc = run_runc(rt, all ? a1 : a2, &res);
    if (rc < 0)
        return rc;
    free(res.out);
    if (res.status != 0 && !msg_means_gone(res.msg)) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "failed to kill container %s: %s", c->id,
                     res.msg);
        return -EIO;
    }
    return 0;
}

/* Waits until the container's exit is recorded, or its shim and init are both gone. */
static bool wait_exit(const struct kl_container *c, int64_t ms)
{
    CK_AUTOFREE char *ef = ck_xasprintf("%s/exit.json", c->dir);
    int64_t deadline = mono_ms() + ms;
    int step = 5;
    for (;;) {
        if (path_exists(ef))
            return true;
        /* a dead shim writes nothing: the container is over once its init is gone too */
        if (!is_shim_of(c->shim_pid, c->dir) && !proc_alive(c->init_pid, c->init_start))
            return true;
        if (mono_ms() >= deadline)
            return false;
        nap_ms(step);
        if (step < 50)
            step *= 2;
    }
}

int kl_container_stop(struct kl_runtime *rt, const struct kl_container *c, int64_t grace_seconds,
                      struct ck_error *err)
{
    if (!rt || !c)
        return -EINVAL;
    struct kl_container_state st;
    int rc = kl_container_state(rt, c, &st, err);
    if (rc < 0)
        return rc;
    if (st.status == KL_CONTAINER_EXITED)
        return 0;
    if (grace_seconds > 0 && st.status == KL_CONTAINER_RUNNING) {
        rc = runc_kill(rt, c, c->stop_signal, false, err);
        if (rc < 0)
            return rc;
        int64_t ms = grace_seconds > INT64_MAX / 1000 ? INT64_MAX / 2 : grace_seconds * 1000;
        if (wait_exit(c, ms))
            return 0;
    }
    rc = runc_kill(rt, c, "SIGKILL", true, err);
    if (rc < 0)
        return rc;
    if (!wait_exit(c, 10000)) {
        ck_error_set(err, 504, CK_REASON_TIMEOUT, "container %s did not exit after SIGKILL", c->id);
        return -ETIMEDOUT;
    }
    return 0;
}

int kl_container_exec(struct kl_runtime *rt, const struct kl_container *c, const char *const *argv,
                      int stdin_fd, int stdout_fd, int stderr_fd, int timeout_ms, int *exit_code,
                      struct ck_error *err)
{
    if (!rt || !c || !argv || !argv[0] || !exit_code)
        return -EINVAL;
    *exit_code = -1;
    size_t na = 0;
    while (argv[na])
        na++;
    if (na > 4096)
        return -E2BIG;
    char rnd[9];
    ck_rand_string(rnd, 8);
    CK_AUTOFREE char *pidf = ck_xasprintf("%s/exec-%s.pid", c->dir, rnd);
    CK_AUTOFREE char *logf = ck_xasprintf("%s/exec-%s.log", c->dir, rnd);
    const char **av = ck_xcalloc(na + 12, sizeof(char *));
    size_t k = 0;
    av[k++] = rt->runc;
    av[k++] = "--root";
    av[k++] = rt->runc_root;
    av[k++] = "--log";
    av[k++] = logf;
    av[k++] = "--log-format";
    av[k++] = "json";
    av[k++] = "exec";
    av[k++] = "--pid-file";
    av[k++] = pidf;
    av[k++] = c->id;
    for (size_t i = 0; i < na; i++)
        av[k++] = argv[i];
    av[k] = NULL;
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    int fds[3] = {stdin_fd >= 0 ? stdin_fd : devnull, stdout_fd >= 0 ? stdout_fd : devnull,
                  stderr_fd >= 0 ? stderr_fd : devnull};
    /* move them above 2 first so that dup2 into 0..2 cannot clobber one another */
    int hi[3];
    for (int i = 0; i < 3; i++)
        hi[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD_CLOEXEC, 10) : -1;
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        free(av);
        for (int i = 0; i < 3; i++)
            if (hi[i] >= 0)
                close(hi[i]);
        if (devnull >= 0)
            close(devnull);
        ck_error_set(err, 500, CK_REASON_INTERNAL, "fork: %s", strerror(-e));
        return e;
    }
    if (pid == 0) {
        kl_child_signals_default();
        for (int i = 0; i < 3; i++)
            if (hi[i] >= 0)
                dup2(hi[i], i);
        kl_child_close_from(3);
        execv(av[0], (char *const *)av);
        _exit(127);
    }
    free(av);
    for (int i = 0; i < 3; i++)
        if (hi[i] >= 0)
            close(hi[i]);
    if (devnull >= 0)
        close(devnull);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int64_t deadline = timeout_ms > 0 ? mono_ms() + timeout_ms : 0;
    bool timed_out = false;
    int ws = 0;
    for (;;) {
        pid_t r = waitpid(pid, &ws, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            ws = 0;
            break;
        }
        int wait = 100;
        if (deadline) {
            int64_t left = deadline - mono_ms();
            if (left <= 0) {
                /* kill the process in the container, then runc notices and exits */
                timed_out = true;
                char *pt = NULL;
                if (kl_read_file(pidf, 64, &pt, NULL) == 0 && atoi(pt) > 1)
                    kill(atoi(pt), SIGKILL);
                free(pt);
                kill(pid, SIGKILL);
                while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
                }
                break;
            }
            if (left < wait)
                wait = (int)left;
        }
        if (pidfd >= 0) {
            struct pollfd p = {pidfd, POLLIN, 0};
            (void)poll(&p, 1, wait);
        } else {
            nap_ms(wait < 10 ? wait : 10);
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    char *logtext = NULL;
    (void)kl_read_file(logf, KL_STATE_MAX, &logtext, NULL);
    unlink(pidf);
    unlink(logf);
    if (timed_out) {
        free(logtext);
        ck_error_set(err, 504, CK_REASON_TIMEOUT, "command timed out after %dms", timeout_ms);
        return -ETIMEDOUT;
    }
    int status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    /* runc's own failure (no such binary, container not running) is an error, not a status */
    bool runc_failed = false;
    char msg[512] = "";
    if (logtext && status != 0) {
        for (const char *p = logtext; *p;) {
            const char *nl = strchr(p, '\n');
            size_t l = nl ? (size_t)(nl - p) : strlen(p);
            cJSON *j = l ? ck_json_parse(p, l, NULL) : NULL;
            const char *lvl = ck_json_get_string(j, "level", "");
            if (strcmp(lvl, "error") == 0 || strcmp(lvl, "fatal") == 0) {
                runc_failed = true;
                snprintf(msg, sizeof(msg), "%s", ck_json_get_string(j, "msg", ""));
            }
            cJSON_Delete(j);
            p = nl ? nl + 1 : p + l;
        }
    }
    free(logtext);
    if (runc_failed) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "OCI runtime exec failed: %s", msg);
        return -EIO;
    }
    *exit_code = status;
    return 0;
}

int kl_container_remove(struct kl_runtime *rt, const struct kl_container *c, struct ck_error *err)
{
    if (!rt || !c)
        return -EINVAL;
    struct kl_container_state st;
    if (kl_container_state(rt, c, &st, NULL) < 0 || st.status != KL_CONTAINER_EXITED) {
        int rc = kl_container_stop(rt, c, 0, err);
        if (rc < 0 && rc != -ETIMEDOUT)
            return rc;
    }
    struct runc_result res;
    const char *del[] = {"delete", "--force", c->id, NULL};
    int rc = run_runc(rt, del, &res);
    if (rc == 0) {
        free(res.out);
        if (res.status != 0 && !msg_means_gone(res.msg)) {
            ck_error_set(err, 500, CK_REASON_INTERNAL, "failed to delete container %s: %s", c->id,
                         res.msg);
            return -EIO;
        }
    }
    for (int i = 0; i < 100 && is_shim_of(c->shim_pid, c->dir); i++)
        nap_ms(20);
    if (is_shim_of(c->shim_pid, c->dir))
        kill(c->shim_pid, SIGKILL);
    if (c->cgroup_path && c->cgroup_path[0])
        (void)kl_cgroup_destroy(rt->cg, c->cgroup_path);
    CK_AUTOFREE char *rootfs = ck_xasprintf("%s/rootfs", c->dir);
    rc = kl_rootfs_umount(rootfs);
    if (rc < 0 || kl_has_mounts_under(c->dir)) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot unmount %s: %s", rootfs,
                     strerror(rc < 0 ? -rc : EBUSY));
        return rc < 0 ? rc : -EBUSY;
    }
    rc = kl_rm_rf(c->dir);
    if (rc < 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot remove %s: %s", c->dir, strerror(-rc));
        return rc;
    }
    return 0;
}

int kl_container_reopen_log(struct kl_runtime *rt, const struct kl_container *c)
{
    if (!rt || !c)
        return -EINVAL;
    if (!is_shim_of(c->shim_pid, c->dir))
        return -ESRCH;
    return kill(c->shim_pid, SIGUSR1) < 0 ? -errno : 0;
}

int kl_container_termination_message(const struct kl_container *c, char **out)
{
    if (!c || !out)
        return -EINVAL;
    *out = NULL;
    int fd = open(c->termination_log, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            *out = ck_xstrdup("");
            return 0;
        }
        return -errno;
    }
    char *buf = ck_xmalloc(KL_TERMINATION_MSG_MAX + 1);
    size_t len = 0;
    while (len < KL_TERMINATION_MSG_MAX) {
        ssize_t n = read(fd, buf + len, KL_TERMINATION_MSG_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    *out = buf;
    return 0;
}

int kl_container_stats(struct kl_runtime *rt, const struct kl_container *c,
                       struct kl_cgroup_stats *st)
{
    if (!rt || !c || !st)
        return -EINVAL;
    return kl_cgroup_stats(rt->cg, c->cgroup_path, st);
}

/* ---- cleanup ----------------------------------------------------------------------------------
 */

int kl_runtime_cleanup_incomplete(struct kl_runtime *rt)
{
    if (!rt)
        return -EINVAL;
    int removed = 0;
    const char *kinds[] = {"containers", "sandboxes"};
    for (size_t k = 0; k < CK_ARRAY_SIZE(kinds); k++) {
        CK_AUTOFREE char *base = ck_xasprintf("%s/%s", rt->root, kinds[k]);
        DIR *d = opendir(base);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            CK_AUTOFREE char *dir = ck_xasprintf("%s/%s", base, de->d_name);
            CK_AUTOFREE char *meta = ck_xasprintf("%s/meta.json", dir);
            if (path_exists(meta))
                continue;
            if (k == 0)
                container_cleanup(rt, de->d_name, dir);
            else {
                (void)kl_umount_all_under(dir);
                (void)kl_rm_rf(dir);
            }
            removed++;
        }
        closedir(d);
    }
    return removed;
}

/* ---- purge ------------------------------------------------------------------------------------
 */

int kl_runtime_purge(struct kl_runtime *rt)
{
    if (!rt)
        return -EINVAL;
    int first = 0;
    CK_AUTOFREE char *cd = ck_xasprintf("%s/containers", rt->root);
    DIR *d = opendir(cd);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            CK_AUTOFREE char *dir = ck_xasprintf("%s/%s", cd, de->d_name);
            if (hex_id_ok(de->d_name)) {
                struct runc_result res;
                const char *kill_all[] = {"kill", "--all", de->d_name, "SIGKILL", NULL};
                if (run_runc(rt, kill_all, &res) == 0)
                    free(res.out);
            }
            container_cleanup(rt, de->d_name, dir);
            if (path_exists(dir) && first == 0)
                first = -EBUSY;
        }
        closedir(d);
    }
    /* anything runc still knows about */
    struct runc_result res;
    const char *list[] = {"list", "-q", NULL};
    if (run_runc(rt, list, &res) == 0) {
        for (char *p = res.out, *save = NULL, *id; (id = strtok_r(p, "\n", &save)); p = NULL) {
            struct runc_result r2;
            const char *del[] = {"delete", "--force", id, NULL};
            if (run_runc(rt, del, &r2) == 0)
                free(r2.out);
        }
        free(res.out);
    }
    int n = kl_umount_all_under(rt->root);
    (void)n;
    int rc = kl_cgroup_destroy(rt->cg, rt->cg->root);
    if (rc < 0 && first == 0)
        first = rc;
    rc = kl_rm_rf(rt->root);
    if (rc < 0 && first == 0)
        first = rc;
    return first;
}
