/* cluster.c - etcd + kube-apiserver test harness and child-process helpers (see cluster.h). */
#include "cluster.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "test/lib/etcd_cluster.h"

#define MAX_CHILDREN 64
#define MAX_ARGS 64

struct ck_test_cluster {
    struct ck_etcd_cluster *etcd;
    char dir[64];
    char url[64];
    char prefix[64];
    int port;
    pid_t apiserver;
    pid_t guardian;       /* removes dir if this process dies without destroy */
    char *args[MAX_ARGS]; /* the apiserver's argv, owned */
    char log[PATH_MAX];
};

/* ---- children: tracked for atexit and signal clean-up -------------------------------------- */

static volatile pid_t children[MAX_CHILDREN];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct sigaction old_int, old_term, old_hup;

static void track(pid_t old, pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] == old) {
            children[i] = pid;
            return;
        }
    }
}

static void kill_children(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        pid_t p = children[i];
        if (p > 0) {
            kill(p, SIGKILL);
            waitpid(p, NULL, 0);
            children[i] = 0;
        }
    }
}

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] > 0)
            kill(children[i], SIGKILL);
    const struct sigaction *old = sig == SIGINT ? &old_int : sig == SIGTERM ? &old_term : &old_hup;
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler != on_signal) {
        old->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void init(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    atexit(kill_children);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    signal(SIGPIPE, SIG_IGN);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

pid_t ck_test_spawn(char *const argv[], const char *log)
{
    pthread_once(&once, init);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    int out = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        dup2(devnull, 0);
        dup2(out >= 0 ? out : devnull, 1);
        dup2(out >= 0 ? out : devnull, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int e = errno;
    if (devnull >= 0)
        close(devnull);
    if (out >= 0)
        close(out);
    if (pid < 0)
        return -e;
    track(0, pid);
    return pid;
}

bool ck_test_running(pid_t pid, int *status)
{
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == 0)
        return true;
    if (r == pid) {
        track(pid, 0);
        if (status)
            *status = st;
    }
    return false;
}

int ck_test_stop(pid_t pid, int sig, int wait_ms)
{
    if (pid <= 0)
        return -EINVAL;
    kill(pid, sig);
    int64_t until = now_ms() + wait_ms;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            track(pid, 0);
            return st;
        }
        if (r < 0) {
            track(pid, 0);
            return -errno;
        }
        if (now_ms() >= until) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            track(pid, 0);
            return st;
        }
        sleep_ms(10);
    }
}

const char *ck_test_bin(const char *name, char *buf, size_t size)
{
    const char *bin = getenv("CKUBE_BIN");
    snprintf(buf, size, "%s/%s", bin && bin[0] ? bin : "bin", name);
    return buf;
}

/* ---- the cluster --------------------------------------------------------------------------- */

int ck_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int port = -EADDRNOTAVAIL;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static bool healthy(const char *url)
{
    CURL *h = curl_easy_init();
    if (!h)
        return false;
    char u[128];
    snprintf(u, sizeof(u), "%s/healthz", url);
    curl_easy_setopt(h, CURLOPT_URL, u);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    return code == 200;
}

static void print_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    fprintf(stderr, "---- %s\n", path);
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fclose(f);
}

int ck_test_cluster_apiserver_start(struct ck_test_cluster *c)
{
    if (c->apiserver > 0)
        return -EALREADY;
    pid_t pid = ck_test_spawn(c->args, c->log);
    if (pid < 0)
        return (int)pid;
    c->apiserver = pid;
    int64_t until = now_ms() + 30000;
    while (now_ms() < until) {
        if (healthy(c->url))
            return 0;
        int st;
        if (!ck_test_running(pid, &st)) {
            c->apiserver = 0;
            fprintf(stderr, "kube-apiserver exited (status %d)\n", st);
            print_log(c->log);
            return -ECHILD;
        }
        sleep_ms(50);
    }
    fprintf(stderr, "kube-apiserver did not become healthy\n");
    print_log(c->log);
    return -ETIMEDOUT;
}

int ck_test_cluster_apiserver_stop(struct ck_test_cluster *c)
{
    if (c->apiserver <= 0)
        return 0;
    int st = ck_test_stop(c->apiserver, SIGTERM, 10000);
    c->apiserver = 0;
    return st < 0 ? st : 0;
}

int ck_test_cluster_apiserver_kill(struct ck_test_cluster *c)
{
    if (c->apiserver <= 0)
        return 0;
    int st = ck_test_stop(c->apiserver, SIGKILL, 5000);
    c->apiserver = 0;
    return st < 0 ? st : 0;
}

/* A shell that waits for this process to be gone (however it ended: a failed assertion that
 * aborts, a sanitizer report, SIGKILL) and then removes dir. Not a tracked child: it must
 * outlive us. */
static pid_t start_guardian(const char *dir)
{
    char parent[32];
    snprintf(parent, sizeof(parent), "%d", (int)getpid());
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl("/bin/sh", "sh", "-c",
              "trap '' INT TERM HUP; while kill -0 \"$1\" 2>/dev/null && [ -d \"$2\" ]; do "
              "sleep 1; done; [ \"$3\" = 1 ] || rm -rf \"$2\"",
              "ck-test-cluster-guardian", parent, dir,
              getenv("CK_TEST_KEEP") ? getenv("CK_TEST_KEEP") : "0", (char *)NULL);
        _exit(127);
    }
    return pid > 0 ? pid : 0;
}

int ck_test_cluster_start(const struct ck_test_cluster_opts *opts, struct ck_test_cluster **out)
{
    *out = NULL;
    pthread_once(&once, init);
    struct ck_test_cluster *c = ck_xcalloc(1, sizeof(*c));
    snprintf(c->dir, sizeof(c->dir), "/tmp/ck7-cluster-XXXXXX");
    if (!mkdtemp(c->dir)) {
        free(c);
        return -errno;
    }
    snprintf(c->log, sizeof(c->log), "%s/kube-apiserver.log", c->dir);
    c->guardian = start_guardian(c->dir);
    int rc = ck_etcd_cluster_start(NULL, &c->etcd);
    if (rc < 0) {
        ck_test_cluster_destroy(c);
        return rc;
    }
    char bin[PATH_MAX];
    ck_test_bin("kube-apiserver", bin, sizeof(bin));
    for (int attempt = 0; attempt < 3; attempt++) {
        c->port = ck_test_free_port();
        if (c->port < 0) {
            rc = c->port;
            break;
        }
        snprintf(c->url, sizeof(c->url), "http://127.0.0.1:%d", c->port);
        snprintf(c->prefix, sizeof(c->prefix), "/registry-ck7-%d-%d", (int)getpid(), attempt);
        for (int i = 0; i < MAX_ARGS && c->args[i]; i++) {
            free(c->args[i]);
            c->args[i] = NULL;
        }
        int n = 0;
        c->args[n++] = ck_xstrdup(bin);
        c->args[n++] = ck_xasprintf("--etcd-servers=%s", ck_etcd_cluster_endpoints(c->etcd));
        c->args[n++] = ck_xasprintf("--insecure-port=%d", c->port);
        c->args[n++] = ck_xasprintf("--etcd-prefix=%s", c->prefix);
        c->args[n++] = ck_xstrdup("--secure-port=0");
        c->args[n++] = ck_xstrdup("--v=2");
        for (const char *const *a = opts ? opts->apiserver_args : NULL; a && *a && n < MAX_ARGS - 1;
             a++)
            c->args[n++] = ck_xstrdup(*a);
        rc = ck_test_cluster_apiserver_start(c);
        if (rc == 0)
            break;
    }
    if (rc < 0) {
        ck_test_cluster_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

int ck_test_cluster_check_logs(struct ck_test_cluster *c)
{
    FILE *f = fopen(c->log, "r");
    if (!f)
        return 0;
    char line[2048];
    int rc = 0;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, "ERROR: AddressSanitizer") || strstr(line, "runtime error:") ||
            strstr(line, "ERROR: LeakSanitizer"))
            rc = -EIO;
    fclose(f);
    if (rc < 0)
        print_log(c->log);
    return rc;
}

void ck_test_cluster_destroy(struct ck_test_cluster *c)
{
    if (!c)
        return;
    ck_test_cluster_apiserver_stop(c);
    ck_etcd_cluster_destroy(c->etcd);
    for (int i = 0; i < MAX_ARGS && c->args[i]; i++)
        free(c->args[i]);
    const char *keep = getenv("CK_TEST_KEEP");
    if (!(keep && !strcmp(keep, "1"))) {
        char *cmd = ck_xasprintf("rm -rf '%s'", c->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", c->dir);
        free(cmd);
    } else {
        fprintf(stderr, "kept %s\n", c->dir);
    }
    if (c->guardian > 0) {
        kill(c->guardian, SIGKILL);
        waitpid(c->guardian, NULL, 0);
    }
    free(c);
}

const char *ck_test_cluster_url(const struct ck_test_cluster *c)
{
    return c->url;
}

const char *ck_test_cluster_dir(const struct ck_test_cluster *c)
{
    return c->dir;
}
