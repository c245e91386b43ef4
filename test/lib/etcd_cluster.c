/* etcd_cluster.c - the real-etcd test harness (see etcd_cluster.h). */
#include "etcd_cluster.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"

#define MAX_CLUSTERS 16
#define MAX_ARGS 48

struct member {
    pid_t pid; /* 0 while not running */
    bool paused;
    int client_port, peer_port;
    char name[8];
    char client_url[64];
    char peer_url[64];
    char data_dir[PATH_MAX];
    char log_path[PATH_MAX];
};

struct ck_etcd_cluster {
    int n;
    bool tls;
    char progress[32];
    struct member m[CK_ETCD_MAX_MEMBERS];
    char dir[PATH_MAX];
    char etcd_bin[PATH_MAX];
    char endpoints[CK_ETCD_MAX_MEMBERS * 64];
    char initial_cluster[CK_ETCD_MAX_MEMBERS * 96];
    char token[40];
    char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX]; /* client side */
    char server_cert[PATH_MAX], server_key[PATH_MAX]; /* member side */
    int guard_fd; /* write end of the guardian's stdin; -1 when none */
    pid_t guard_pid;
};

/* ---- clean-up on every exit path ---------------------------------------------------------- */

/* clusters alive in this process, for atexit; guarded by reg_lock */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ck_etcd_cluster *registry[MAX_CLUSTERS];
/* member pids for the signal handler, which may only read them */
static volatile pid_t live_pids[MAX_CLUSTERS * CK_ETCD_MAX_MEMBERS];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void track_pid(pid_t old, pid_t pid)
{
    for (size_t i = 0; i < CK_ARRAY_SIZE(live_pids); i++) {
        if (live_pids[i] == old) {
            live_pids[i] = pid;
            return;
        }
    }
}

static void on_fatal_signal(int sig)
{
    for (size_t i = 0; i < CK_ARRAY_SIZE(live_pids); i++) {
        pid_t p = live_pids[i];
        if (p > 0)
            kill(p, SIGKILL);
    }
    /* the guardian removes the directories once this process is gone */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void destroy_all(void)
{
    for (;;) {
        struct ck_etcd_cluster *c = NULL;
        pthread_mutex_lock(&reg_lock);
        for (int i = 0; i < MAX_CLUSTERS && !c; i++)
            c = registry[i];
        pthread_mutex_unlock(&reg_lock);
        if (!c)
            return;
        ck_etcd_cluster_destroy(c);
    }
}

static void install_handler(int sig)
{
    struct sigaction old;
    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL);
    }
}

static void init_process(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    atexit(destroy_all);
    install_handler(SIGINT);
    install_handler(SIGTERM);
    install_handler(SIGHUP);
    signal(SIGPIPE, SIG_IGN);
}

static void register_cluster(struct ck_etcd_cluster *c, bool add)
{
    pthread_mutex_lock(&reg_lock);
    for (int i = 0; i < MAX_CLUSTERS; i++) {
        if (add ? registry[i] == NULL : registry[i] == c) {
            registry[i] = add ? c : NULL;
            break;
        }
    }
    pthread_mutex_unlock(&reg_lock);
}

/* ---- processes ---------------------------------------------------------------------------- */

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

/* fork + exec argv[0] with stdin from in_fd (-1: /dev/null), output to log (NULL: inherit).
 * With pdeath the child dies with the calling thread. Only syscalls run in the child. */
static pid_t spawn(char *const argv[], int in_fd, const char *log, bool pdeath)
{
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        if (pdeath) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(127);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        dup2(in_fd >= 0 ? in_fd : devnull, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    if (devnull >= 0)
        close(devnull);
    if (out >= 0)
        close(out);
    return pid < 0 ? -errno : pid;
}

/* Waits up to ms for pid; true when it was reaped. */
static bool reap(pid_t pid, int ms)
{
    int64_t until = now_ms() + ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return true;
        if (now_ms() >= until)
            return false;
        sleep_ms(10);
    }
}

/* Runs /bin/sh -c script with $1.. = args, waits; 0 on exit status 0. */
static int run_sh(const char *script, const char *arg1)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, "sh", (char *)arg1, NULL};
    pid_t pid = spawn(argv, -1, NULL, true);
    if (pid < 0)
        return (int)pid;
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* A shell that outlives us: it collects member pids from its stdin and, when the pipe closes
 * without "done" (this process died), kills those still running etcd in dir and removes dir. */
static int start_guardian(struct ck_etcd_cluster *c)
{
    static const char script[] = "trap '' INT TERM HUP\n"
                                 "pids=\n"
                                 "while read -r p; do\n"
                                 "  [ \"$p\" = done ] && exit 0\n"
                                 "  pids=\"$pids $p\"\n"
                                 "done\n"
                                 "for p in $pids; do\n"
                                 "  case \"$(tr '\\000' ' ' < /proc/$p/cmdline 2>/dev/null)\" in\n"
                                 "    *\"$1\"*) kill -9 \"$p\" 2>/dev/null ;;\n"
                                 "  esac\n"
                                 "done\n"
                                 "sleep 0.3\n"
                                 "rm -rf \"$1\"\n";
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    char *argv[] = {"/bin/sh", "-c", (char *)script, "ck-etcd-guardian", c->dir, NULL};
    pid_t pid = spawn(argv, fds[0], NULL, false);
    close(fds[0]);
    if (pid < 0) {
        close(fds[1]);
        return (int)pid;
    }
    c->guard_fd = fds[1];
    c->guard_pid = pid;
    return 0;
}

static void tell_guardian(struct ck_etcd_cluster *c, const char *line)
{
    if (c->guard_fd < 0)
        return;
    ssize_t w = write(c->guard_fd, line, strlen(line));
    (void)w;
}

static int free_port(int *fd_out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    *fd_out = fd;
    return ntohs(a.sin_port);
}

/* Picks fresh ports for every member (held open together so they differ) and the URLs. */
static int assign_ports(struct ck_etcd_cluster *c)
{
    int fds[2 * CK_ETCD_MAX_MEMBERS];
    int nfd = 0, rc = 0;
    for (int i = 0; i < c->n && rc >= 0; i++) {
        struct member *m = &c->m[i];
        rc = m->client_port = free_port(&fds[nfd]);
        if (rc < 0)
            break;
        nfd++;
        rc = m->peer_port = free_port(&fds[nfd]);
        if (rc < 0)
            break;
        nfd++;
    }
    for (int i = 0; i < nfd; i++)
        close(fds[i]);
    if (rc < 0)
        return rc;
    struct ck_buf eps = CK_BUF_INIT, init = CK_BUF_INIT;
    for (int i = 0; i < c->n; i++) {
        struct member *m = &c->m[i];
        ck_snprintf(m->client_url, sizeof(m->client_url), "%s://127.0.0.1:%d",
                    c->tls ? "https" : "http", m->client_port);
        ck_snprintf(m->peer_url, sizeof(m->peer_url), "http://127.0.0.1:%d", m->peer_port);
        ck_buf_printf(&eps, "%s%s", i ? "," : "", m->client_url);
        ck_buf_printf(&init, "%s%s=%s", i ? "," : "", m->name, m->peer_url);
    }
    ck_strlcpy(c->endpoints, ck_buf_str(&eps), sizeof(c->endpoints));
    ck_strlcpy(c->initial_cluster, ck_buf_str(&init), sizeof(c->initial_cluster));
    ck_buf_free(&eps);
    ck_buf_free(&init);
    return 0;
}

static int spawn_member(struct ck_etcd_cluster *c, int i)
{
    struct member *m = &c->m[i];
    char *argv[MAX_ARGS];
    int n = 0;
    argv[n++] = c->etcd_bin;
    argv[n++] = "--name";
    argv[n++] = m->name;
    argv[n++] = "--data-dir";
    argv[n++] = m->data_dir;
    argv[n++] = "--listen-client-urls";
    argv[n++] = m->client_url;
    argv[n++] = "--advertise-client-urls";
    argv[n++] = m->client_url;
    argv[n++] = "--listen-peer-urls";
    argv[n++] = m->peer_url;
    argv[n++] = "--initial-advertise-peer-urls";
    argv[n++] = m->peer_url;
    argv[n++] = "--initial-cluster";
    argv[n++] = c->initial_cluster;
    argv[n++] = "--initial-cluster-state";
    argv[n++] = "new";
    argv[n++] = "--initial-cluster-token";
    argv[n++] = c->token;
    argv[n++] = "--logger";
    argv[n++] = "zap";
    argv[n++] = "--log-outputs";
    argv[n++] = "stderr";
    argv[n++] = "--log-level";
    argv[n++] = "warn";
    if (c->tls) {
        argv[n++] = "--cert-file";
        argv[n++] = c->server_cert;
        argv[n++] = "--key-file";
        argv[n++] = c->server_key;
        argv[n++] = "--client-cert-auth";
        argv[n++] = "--trusted-ca-file";
        argv[n++] = c->ca;
    }
    if (c->progress[0]) {
        argv[n++] = "--experimental-watch-progress-notify-interval";
        argv[n++] = c->progress;
    }
    argv[n] = NULL;
    pid_t pid = spawn(argv, -1, m->log_path, true);
    if (pid < 0)
        return (int)pid;
    m->pid = pid;
    m->paused = false;
    track_pid(0, pid);
    char line[32];
    ck_snprintf(line, sizeof(line), "%d\n", (int)pid);
    tell_guardian(c, line);
    return 0;
}

/* SIGKILLs member i (if running) and reaps it. */
static void kill_member(struct ck_etcd_cluster *c, int i)
{
    struct member *m = &c->m[i];
    if (m->pid <= 0)
        return;
    kill(m->pid, SIGKILL);
    reap(m->pid, 10000);
    track_pid(m->pid, 0);
    m->pid = 0;
    m->paused = false;
}

/* ---- talking to members ------------------------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    ck_buf_add(ud, p, size * n);
    return size * n;
}

/* POSTs body to member i; 0 and *out (a JSON object without "error") or -EIO. */
static int post(struct ck_etcd_cluster *c, int i, const char *path, const char *body,
                long timeout_ms, cJSON **out)
{
    *out = NULL;
    CURL *h = curl_easy_init();
    if (!h)
        return -ENOMEM;
    char url[128];
    ck_snprintf(url, sizeof(url), "%s%s", c->m[i].client_url, path);
    struct ck_buf resp = CK_BUF_INIT;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (c->tls) {
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
    }
    CURLcode cc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    int rc = -EIO;
    if (cc == CURLE_OK) {
        cJSON *o = cJSON_ParseWithLength(ck_buf_str(&resp), resp.len);
        if (cJSON_IsObject(o) && !cJSON_GetObjectItemCaseSensitive(o, "error")) {
            *out = o;
            rc = 0;
        } else {
            cJSON_Delete(o);
        }
    }
    ck_buf_free(&resp);
    return rc;
}

static uint64_t json_u64(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? strtoull(v->valuestring, NULL, 10) : 0;
}

/* Member i's own id and the leader it sees (0 when none). */
static int member_status(struct ck_etcd_cluster *c, int i, uint64_t *self, uint64_t *leader)
{
    cJSON *o;
    int rc = post(c, i, "/v3/maintenance/status", "{}", 1000, &o);
    if (rc < 0)
        return rc;
    *self = json_u64(cJSON_GetObjectItemCaseSensitive(o, "header"), "member_id");
    *leader = json_u64(o, "leader");
    cJSON_Delete(o);
    return 0;
}

/* One look: the index of the agreed leader, or -1. Also checks that each running member
 * serves a linearizable read when `reads`. */
static int probe(struct ck_etcd_cluster *c, bool reads)
{
    uint64_t ids[CK_ETCD_MAX_MEMBERS] = {0}, agreed = 0;
    int serving = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->m[i].pid <= 0 || c->m[i].paused)
            continue;
        uint64_t leader;
        if (member_status(c, i, &ids[i], &leader) < 0 || leader == 0)
            return -1;
        if (agreed && leader != agreed)
            return -1;
        agreed = leader;
        if (reads) {
            cJSON *o;
            /* key "health", as etcdctl endpoint health reads */
            if (post(c, i, "/v3/kv/range", "{\"key\":\"aGVhbHRo\"}", 2000, &o) < 0)
                return -1;
            cJSON_Delete(o);
        }
        serving++;
    }
    if (!serving)
        return -1;
    for (int i = 0; i < c->n; i++)
        if (ids[i] == agreed && c->m[i].pid > 0)
            return i;
    return -1;
}

int ck_etcd_cluster_leader(struct ck_etcd_cluster *c, int timeout_ms)
{
    int64_t until = now_ms() + timeout_ms;
    for (;;) {
        int l = probe(c, false);
        if (l >= 0)
            return l;
        if (now_ms() >= until)
            return -ETIMEDOUT;
        sleep_ms(50);
    }
}

int ck_etcd_cluster_wait_healthy(struct ck_etcd_cluster *c, int timeout_ms)
{
    int64_t until = now_ms() + timeout_ms;
    for (;;) {
        if (probe(c, true) >= 0)
            return 0;
        for (int i = 0; i < c->n; i++) {
            struct member *m = &c->m[i];
            if (m->pid > 0 && waitpid(m->pid, NULL, WNOHANG) == m->pid) {
                fprintf(stderr, "# etcd member %s exited; see %s\n", m->name, m->log_path);
                track_pid(m->pid, 0);
                m->pid = 0;
                return -ECHILD;
            }
        }
        if (now_ms() >= until)
            return -ETIMEDOUT;
        sleep_ms(50);
    }
}

/* ---- set-up ------------------------------------------------------------------------------- */

static int make_certs(struct ck_etcd_cluster *c)
{
    /* a CA, a server certificate for 127.0.0.1 (also usable as a client, which etcd's own
     * gateway needs), and a client certificate */
    static const char script[] =
        "set -e; cd \"$1\"\n"
        "req() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout \"$1.key\" -out \"$1.csr\" -subj \"/CN=$2\" 2>/dev/null; }\n"
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout ca.key -out ca.crt -days 2 -subj /CN=ck-etcd-test-ca 2>/dev/null\n"
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n"
        "extendedKeyUsage=serverAuth,clientAuth\\n' > server.ext\n"
        "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n"
        "req server etcd-server; req client kube-apiserver-etcd-client\n"
        "for n in server client; do openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key "
        "-CAcreateserial -days 2 -extfile $n.ext -out $n.crt 2>/dev/null; done\n";
    int rc = run_sh(script, c->dir);
    if (rc < 0)
        return rc;
    ck_snprintf(c->ca, sizeof(c->ca), "%s/ca.crt", c->dir);
    ck_snprintf(c->cert, sizeof(c->cert), "%s/client.crt", c->dir);
    ck_snprintf(c->key, sizeof(c->key), "%s/client.key", c->dir);
    ck_snprintf(c->server_cert, sizeof(c->server_cert), "%s/server.crt", c->dir);
    ck_snprintf(c->server_key, sizeof(c->server_key), "%s/server.key", c->dir);
    return 0;
}

static int find_etcd(char *out, size_t size)
{
    const char *env = getenv("CK_ETCD_BIN");
    if (env && *env)
        return ck_strlcpy(out, env, size);
    const char *path = getenv("PATH");
    char copy[4096];
    ck_strlcpy(copy, path && *path ? path : "/usr/local/bin:/usr/bin:/bin", sizeof(copy));
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        ck_snprintf(out, size, "%s/etcd", d);
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -ENOENT;
}

static const char *tmp_base(void)
{
    const char *t = getenv("TMPDIR");
    if (t && *t)
        return t;
    if (access("/dev/shm", W_OK) == 0)
        return "/dev/shm";
    return "/tmp";
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void print_logs(struct ck_etcd_cluster *c)
{
    for (int i = 0; i < c->n; i++) {
        FILE *f = fopen(c->m[i].log_path, "r");
        if (!f)
            continue;
        char buf[2048];
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0, SEEK_SET);
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        fprintf(stderr, "# --- tail of %s:\n%s\n", c->m[i].log_path, buf);
    }
}

int ck_etcd_cluster_start(const struct ck_etcd_cluster_opts *opts, struct ck_etcd_cluster **out)
{
    *out = NULL;
    pthread_once(&init_once, init_process);
    struct ck_etcd_cluster_opts def = {0};
    if (!opts)
        opts = &def;
    int n = opts->members > 0 ? opts->members : 1;
    if (n > CK_ETCD_MAX_MEMBERS)
        return -EINVAL;

    struct ck_etcd_cluster *c = ck_xcalloc(1, sizeof(*c));
    c->n = n;
    c->tls = opts->tls;
    c->guard_fd = -1;
    if (opts->progress_notify_interval)
        ck_strlcpy(c->progress, opts->progress_notify_interval, sizeof(c->progress));
    int rc = find_etcd(c->etcd_bin, sizeof(c->etcd_bin));
    if (rc < 0) {
        fprintf(stderr, "# etcd binary not found (set CK_ETCD_BIN)\n");
        free(c);
        return rc;
    }
    ck_snprintf(c->dir, sizeof(c->dir), "%s/ck-etcd-XXXXXX", tmp_base());
    if (!mkdtemp(c->dir)) {
        rc = -errno;
        free(c);
        return rc;
    }
    register_cluster(c, true);
    rc = start_guardian(c);
    if (rc == 0 && c->tls)
        rc = make_certs(c);
    for (int i = 0; i < n; i++) {
        struct member *m = &c->m[i];
        ck_snprintf(m->name, sizeof(m->name), "m%d", i);
        ck_snprintf(m->data_dir, sizeof(m->data_dir), "%s/m%d.etcd", c->dir, i);
        ck_snprintf(m->log_path, sizeof(m->log_path), "%s/m%d.log", c->dir, i);
    }
    /* a port picked here can be taken by someone else before etcd binds it: retry afresh */
    for (int attempt = 0; rc == 0 && attempt < 3; attempt++) {
        ck_snprintf(c->token, sizeof(c->token), "ck-%d-%lld-%d", (int)getpid(), (long long)now_ms(),
                    attempt);
        rc = assign_ports(c);
        for (int i = 0; rc == 0 && i < n; i++)
            rc = spawn_member(c, i);
        if (rc == 0)
            rc = ck_etcd_cluster_wait_healthy(c, 30000);
        if (rc == 0)
            break;
        if (attempt == 2)
            break;
        print_logs(c);
        for (int i = 0; i < n; i++) {
            kill_member(c, i);
            nftw(c->m[i].data_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        }
        rc = 0;
    }
    if (rc < 0) {
        fprintf(stderr, "# etcd cluster did not become healthy (%s)\n", strerror(-rc));
        print_logs(c);
        ck_etcd_cluster_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

void ck_etcd_cluster_destroy(struct ck_etcd_cluster *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++) {
        if (c->m[i].paused && c->m[i].pid > 0)
            kill(c->m[i].pid, SIGCONT);
        kill_member(c, i);
    }
    const char *keep = getenv("CK_ETCD_KEEP");
    bool keep_dir = keep && strcmp(keep, "1") == 0;
    if (c->guard_fd >= 0) {
        tell_guardian(c, "done\n");
        close(c->guard_fd);
        reap(c->guard_pid, 5000);
    }
    if (keep_dir)
        fprintf(stderr, "# etcd cluster directory kept: %s\n", c->dir);
    else
        nftw(c->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    register_cluster(c, false);
    free(c);
}

/* ---- accessors and faults ------------------------------------------------------------------ */

int ck_etcd_cluster_size(const struct ck_etcd_cluster *c)
{
    return c->n;
}

const char *ck_etcd_cluster_endpoints(const struct ck_etcd_cluster *c)
{
    return c->endpoints;
}

const char *ck_etcd_cluster_endpoint(const struct ck_etcd_cluster *c, int i)
{
    return i >= 0 && i < c->n ? c->m[i].client_url : NULL;
}

const char *ck_etcd_cluster_dir(const struct ck_etcd_cluster *c)
{
    return c->dir;
}

const char *ck_etcd_cluster_ca_file(const struct ck_etcd_cluster *c)
{
    return c->tls ? c->ca : NULL;
}

const char *ck_etcd_cluster_cert_file(const struct ck_etcd_cluster *c)
{
    return c->tls ? c->cert : NULL;
}

const char *ck_etcd_cluster_key_file(const struct ck_etcd_cluster *c)
{
    return c->tls ? c->key : NULL;
}

bool ck_etcd_cluster_running(const struct ck_etcd_cluster *c, int i)
{
    return i >= 0 && i < c->n && c->m[i].pid > 0;
}

int ck_etcd_cluster_kill(struct ck_etcd_cluster *c, int i)
{
    if (i < 0 || i >= c->n)
        return -EINVAL;
    if (c->m[i].pid <= 0)
        return -ESRCH;
    kill_member(c, i);
    return 0;
}

int ck_etcd_cluster_stop(struct ck_etcd_cluster *c, int i)
{
    if (i < 0 || i >= c->n)
        return -EINVAL;
    struct member *m = &c->m[i];
    if (m->pid <= 0)
        return -ESRCH;
    if (m->paused)
        kill(m->pid, SIGCONT);
    kill(m->pid, SIGTERM);
    if (!reap(m->pid, 10000))
        kill_member(c, i);
    track_pid(m->pid, 0);
    m->pid = 0;
    m->paused = false;
    return 0;
}

/* Whether every thread of pid is in state `want` ('T' stopped) or not (`want` 0: running). */
static bool threads_in_state(pid_t pid, char want)
{
    char path[64];
    ck_snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool all = true;
    struct dirent *e;
    while (all && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char stat[128], buf[256];
        ck_snprintf(stat, sizeof(stat), "%s/%s/stat", path, e->d_name);
        FILE *f = fopen(stat, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *close = strrchr(buf, ')'); /* "pid (comm) S ..." */
        char state = close && close[1] == ' ' ? close[2] : '?';
        all = want ? state == want : state != 'T' && state != 't';
    }
    closedir(d);
    return all;
}

/* Sends sig and waits (up to 2 s) until every thread has taken it. */
static int signal_and_settle(pid_t pid, int sig, char want)
{
    if (kill(pid, sig) < 0)
        return -errno;
    int64_t until = now_ms() + 2000;
    while (!threads_in_state(pid, want) && now_ms() < until)
        sleep_ms(2);
    return 0;
}

int ck_etcd_cluster_pause(struct ck_etcd_cluster *c, int i)
{
    if (i < 0 || i >= c->n)
        return -EINVAL;
    if (c->m[i].pid <= 0)
        return -ESRCH;
    int rc = signal_and_settle(c->m[i].pid, SIGSTOP, 'T');
    if (rc < 0)
        return rc;
    c->m[i].paused = true;
    return 0;
}

int ck_etcd_cluster_resume(struct ck_etcd_cluster *c, int i)
{
    if (i < 0 || i >= c->n)
        return -EINVAL;
    if (c->m[i].pid <= 0)
        return -ESRCH;
    int rc = signal_and_settle(c->m[i].pid, SIGCONT, 0);
    if (rc < 0)
        return rc;
    c->m[i].paused = false;
    return 0;
}

int ck_etcd_cluster_restart(struct ck_etcd_cluster *c, int i)
{
    if (i < 0 || i >= c->n)
        return -EINVAL;
    if (c->m[i].pid > 0)
        kill_member(c, i);
    int rc = spawn_member(c, i);
    if (rc < 0)
        return rc;
    rc = ck_etcd_cluster_wait_healthy(c, 30000);
    if (rc < 0)
        print_logs(c);
    return rc;
}
