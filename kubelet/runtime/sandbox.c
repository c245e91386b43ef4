/* sandbox.c - pod sandboxes as bind-mounted namespaces plus shared files (see sandbox.h). */
#include "kubelet/runtime/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "timeutil.h"

#define KL_SB_MAX_SYSCTLS 128

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

/* ---- pure helpers ------------------------------------------------------------------------------
 */

char *kl_sandbox_resolv_conf(const struct kl_sandbox_config *cfg)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_init(&b);
    if (!cfg)
        return ck_buf_detach(&b);
    if (cfg->n_dns_searches > 0) {
        ck_buf_puts(&b, "search");
        for (size_t i = 0; i < cfg->n_dns_searches; i++)
            ck_buf_printf(&b, " %s", cfg->dns_searches[i] ? cfg->dns_searches[i] : "");
        ck_buf_putc(&b, '\n');
    }
    for (size_t i = 0; i < cfg->n_dns_servers; i++)
        ck_buf_printf(&b, "nameserver %s\n", cfg->dns_servers[i] ? cfg->dns_servers[i] : "");
    if (cfg->n_dns_options > 0) {
        ck_buf_puts(&b, "options");
        for (size_t i = 0; i < cfg->n_dns_options; i++)
            ck_buf_printf(&b, " %s", cfg->dns_options[i] ? cfg->dns_options[i] : "");
        ck_buf_putc(&b, '\n');
    }
    return ck_buf_detach(&b);
}

/* Upstream's NormalizeName: a name whose first separator is '/' has '.' and '/' swapped. */
static char *sysctl_dotted(const char *name)
{
    char *s = ck_xstrdup(name);
    size_t first = strcspn(s, "./");
    if (s[first] == '/')
        for (char *p = s; *p; p++)
            *p = *p == '/' ? '.' : *p == '.' ? '/' : *p;
    return s;
}

bool kl_sysctl_allowed(const char *name, bool host_network, bool host_ipc)
{
    if (!name || !*name || strlen(name) > 256 || strstr(name, ".."))
        return false;
    CK_AUTOFREE char *d = sysctl_dotted(name);
    if (strstr(d, "//") || d[0] == '/' || d[0] == '.')
        return false;
    bool ipc = strcmp(d, "kernel.sem") == 0 || strncmp(d, "kernel.shm", 10) == 0 ||
               strncmp(d, "kernel.msg", 10) == 0 || strncmp(d, "fs.mqueue.", 10) == 0;
    bool net = strncmp(d, "net.", 4) == 0;
    if (ipc)
        return !host_ipc;
    if (net)
        return !host_network;
    return false;
}

/* /proc/sys file of a sysctl name ("net.ipv4.ip_forward" -> /proc/sys/net/ipv4/ip_forward). */
static char *sysctl_path(const char *name)
{
    CK_AUTOFREE char *d = sysctl_dotted(name);
    for (char *p = d; *p; p++)
        *p = *p == '.' ? '/' : *p == '/' ? '.' : *p;
    return ck_xasprintf("/proc/sys/%s", d);
}

/* ---- structs and metadata ---------------------------------------------------------------------
 */

void kl_sandbox_free(struct kl_sandbox *sb)
{
    if (!sb)
        return;
    free(sb->id);
    free(sb->dir);
    free(sb->pod_uid);
    free(sb->pod_name);
    free(sb->pod_namespace);
    free(sb->hostname);
    free(sb->log_directory);
    free(sb->cgroup_parent);
    free(sb->netns_path);
    free(sb->ipcns_path);
    free(sb->utsns_path);
    free(sb->hostname_file);
    free(sb->hosts_file);
    free(sb->resolv_conf_file);
    free(sb->shm_dir);
    cJSON_Delete(sb->labels);
    cJSON_Delete(sb->annotations);
    free(sb);
}

void kl_sandbox_list_free(struct kl_sandbox **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kl_sandbox_free(v[i]);
    free(v);
}

static void put_str(cJSON *m, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(m, k, v);
}

static char *get_str(const cJSON *m, const char *k)
{
    const char *v = ck_json_get_string(m, k, NULL);
    return v ? ck_xstrdup(v) : NULL;
}

static int sandbox_save(const struct kl_sandbox *sb)
{
    cJSON *m = cJSON_CreateObject();
    put_str(m, "id", sb->id);
    put_str(m, "podUid", sb->pod_uid);
    put_str(m, "podName", sb->pod_name);
    put_str(m, "podNamespace", sb->pod_namespace);
    cJSON_AddNumberToObject(m, "attempt", sb->attempt);
    put_str(m, "hostname", sb->hostname);
    put_str(m, "logDirectory", sb->log_directory);
    put_str(m, "cgroupParent", sb->cgroup_parent);
    cJSON_AddBoolToObject(m, "hostNetwork", sb->host_network);
    cJSON_AddBoolToObject(m, "hostIpc", sb->host_ipc);
    cJSON_AddBoolToObject(m, "hostPid", sb->host_pid);
    put_str(m, "netnsPath", sb->netns_path);
    put_str(m, "ipcnsPath", sb->ipcns_path);
    put_str(m, "utsnsPath", sb->utsns_path);
    put_str(m, "hostnameFile", sb->hostname_file);
    put_str(m, "hostsFile", sb->hosts_file);
    put_str(m, "resolvConfFile", sb->resolv_conf_file);
    put_str(m, "shmDir", sb->shm_dir);
    cJSON_AddBoolToObject(m, "ready", sb->ready);
    char ts[32];
    kl_format_rfc3339nano(&sb->created_at, ts);
    cJSON_AddStringToObject(m, "createdAt", ts);
    cJSON_AddItemToObject(m, "labels", ck_json_dup(sb->labels));
    cJSON_AddItemToObject(m, "annotations", ck_json_dup(sb->annotations));
    CK_AUTOFREE char *p = ck_xasprintf("%s/meta.json", sb->dir);
    int rc = kl_write_json_file(p, m);
    cJSON_Delete(m);
    return rc;
}

int kl_sandbox_get(struct kl_runtime *rt, const char *id, struct kl_sandbox **out)
{
    if (!rt || !out || !hex_id_ok(id))
        return -EINVAL;
    *out = NULL;
    CK_AUTOFREE char *dir = ck_xasprintf("%s/sandboxes/%s", rt->root, id);
    CK_AUTOFREE char *mp = ck_xasprintf("%s/meta.json", dir);
    cJSON *m = kl_read_json_file(mp);
    if (!m)
        return access(dir, F_OK) == 0 ? -EIO : -ENOENT;
    struct kl_sandbox *sb = ck_xcalloc(1, sizeof(*sb));
    sb->id = ck_xstrdup(id);
    sb->dir = ck_xstrdup(dir);
    sb->pod_uid = get_str(m, "podUid");
    sb->pod_name = get_str(m, "podName");
    sb->pod_namespace = get_str(m, "podNamespace");
    sb->attempt = (unsigned)ck_json_get_int64(m, "attempt", 0);
    sb->hostname = get_str(m, "hostname");
    sb->log_directory = get_str(m, "logDirectory");
    sb->cgroup_parent = get_str(m, "cgroupParent");
    sb->host_network = ck_json_get_bool(m, "hostNetwork", false);
    sb->host_ipc = ck_json_get_bool(m, "hostIpc", false);
    sb->host_pid = ck_json_get_bool(m, "hostPid", false);
    sb->netns_path = get_str(m, "netnsPath");
    sb->ipcns_path = get_str(m, "ipcnsPath");
    sb->utsns_path = get_str(m, "utsnsPath");
    sb->hostname_file = get_str(m, "hostnameFile");
    sb->hosts_file = get_str(m, "hostsFile");
    sb->resolv_conf_file = get_str(m, "resolvConfFile");
    sb->shm_dir = get_str(m, "shmDir");
    sb->ready = ck_json_get_bool(m, "ready", false);
    const char *ts = ck_json_get_string(m, "createdAt", NULL);
    if (!ts || ck_time_parse(ts, &sb->created_at, NULL) < 0)
        memset(&sb->created_at, 0, sizeof(sb->created_at));
    cJSON *l = ck_json_getv(m, "labels", NULL);
    sb->labels = cJSON_IsObject(l) ? ck_json_dup(l) : cJSON_CreateObject();
    cJSON *a = ck_json_getv(m, "annotations", NULL);
    sb->annotations = cJSON_IsObject(a) ? ck_json_dup(a) : cJSON_CreateObject();
    cJSON_Delete(m);
    if (!sb->pod_uid || !sb->pod_name || !sb->pod_namespace || !sb->hostname) {
        kl_sandbox_free(sb);
        return -EIO;
    }
    *out = sb;
    return 0;
}

int kl_sandbox_list(struct kl_runtime *rt, struct kl_sandbox ***out, size_t *n)
{
    if (!rt || !out || !n)
        return -EINVAL;
    *out = NULL;
    *n = 0;
    CK_AUTOFREE char *sd = ck_xasprintf("%s/sandboxes", rt->root);
    DIR *d = opendir(sd);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct kl_sandbox *sb;
        if (!hex_id_ok(de->d_name) || kl_sandbox_get(rt, de->d_name, &sb) < 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = ck_xrealloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = sb;
    }
    closedir(d);
    return 0;
}

const char *kl_sandbox_netns_path(const struct kl_sandbox *sb)
{
    return sb ? sb->netns_path : NULL;
}

/* ---- creation -----------------------------------------------------------------------------------
 */

static int write_text(const char *path, const char *text)
{
    return kl_write_file_atomic(path, text, strlen(text), 0644);
}

static int copy_host_file(const char *from, const char *to, const char *fallback)
{
    char *text = NULL;
    int rc = kl_read_file(from, 1u << 20, &text, NULL);
    if (rc < 0)
        return write_text(to, fallback);
    rc = write_text(to, text);
    free(text);
    return rc;
}

static int touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

struct ns_job {
    int flags;
    const char *hostname;
    const char *net_file, *ipc_file, *uts_file;
    char **sysctl_paths, **sysctl_values;
    size_t n_sysctls;
};

struct ns_report {
    int err;        /* errno of the failed step, 0 on success */
    int step;       /* which step failed */
    int sysctl_idx; /* for step 3 */
};

/* Runs in the forked child: only system calls (the parent may be multi-threaded). */
static void ns_child(const struct ns_job *job, int report_fd)
{
    struct ns_report r = {0, 0, -1};
    if (unshare(job->flags) < 0) {
        r = (struct ns_report){errno, 1, -1};
        goto done;
    }
    if ((job->flags & CLONE_NEWUTS) && sethostname(job->hostname, strlen(job->hostname)) < 0) {
        r = (struct ns_report){errno, 2, -1};
        goto done;
    }
    if (job->flags & CLONE_NEWNET) {
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, "lo", 3);
        if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
            r = (struct ns_report){errno, 4, -1};
            goto done;
        }
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
            r = (struct ns_report){errno, 4, -1};
            goto done;
        }
        close(s);
    }
    for (size_t i = 0; i < job->n_sysctls; i++) {
        int fd = open(job->sysctl_paths[i], O_WRONLY | O_CLOEXEC);
        size_t vl = strlen(job->sysctl_values[i]);
        if (fd < 0 || write(fd, job->sysctl_values[i], vl) != (ssize_t)vl) {
            r = (struct ns_report){errno, 3, (int)i};
            goto done;
        }
        close(fd);
    }
    if (job->net_file && mount("/proc/self/ns/net", job->net_file, NULL, MS_BIND, NULL) < 0) {
        r = (struct ns_report){errno, 5, -1};
        goto done;
    }
    if (job->ipc_file && mount("/proc/self/ns/ipc", job->ipc_file, NULL, MS_BIND, NULL) < 0) {
        r = (struct ns_report){errno, 5, -1};
        goto done;
    }
    if (job->uts_file && mount("/proc/self/ns/uts", job->uts_file, NULL, MS_BIND, NULL) < 0) {
        r = (struct ns_report){errno, 5, -1};
        goto done;
    }
done:
    (void)!write(report_fd, &r, sizeof(r));
    _exit(0);
}

static int make_namespaces(const struct ns_job *job, struct ck_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(p[0]);
        close(p[1]);
        return e;
    }
    if (pid == 0)
        ns_child(job, p[1]);
    close(p[1]);
    struct ns_report r = {EIO, 0, -1};
    ssize_t n;
    do {
        n = read(p[0], &r, sizeof(r));
    } while (n < 0 && errno == EINTR);
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (n != (ssize_t)sizeof(r))
        r = (struct ns_report){EIO, 0, -1};
    if (r.err == 0)
        return 0;
    static const char *const steps[] = {"namespace setup", "unshare",
                                        "sethostname",     "sysctl",
                                        "loopback up",     "bind-mounting the namespaces"};
    const char *what = r.step >= 0 && r.step < 6 ? steps[r.step] : steps[0];
    if (r.step == 3 && r.sysctl_idx >= 0 && (size_t)r.sysctl_idx < job->n_sysctls)
        ck_error_set(err, 500, CK_REASON_INTERNAL, "sysctl %s: %s", job->sysctl_paths[r.sysctl_idx],
                     strerror(r.err));
    else
        ck_error_set(err, 500, CK_REASON_INTERNAL, "pod sandbox %s: %s", what, strerror(r.err));
    return -r.err;
}

static void sandbox_cleanup_dir(const char *dir)
{
    (void)kl_umount_all_under(dir);
    (void)kl_rm_rf(dir);
}

int kl_sandbox_create(struct kl_runtime *rt, const struct kl_sandbox_config *cfg,
                      struct kl_sandbox **out, struct ck_error *err)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!rt || !cfg || !component_ok(cfg->pod_uid) || !component_ok(cfg->pod_name) ||
        !component_ok(cfg->pod_namespace)) {
        ck_error_set(err, 422, CK_REASON_INVALID,
                     "pod sandbox: pod uid, name and namespace are required");
        return -EINVAL;
    }
    const char *hostname = cfg->hostname && cfg->hostname[0] ? cfg->hostname : cfg->pod_name;
    if (strlen(hostname) > 64 || strchr(hostname, '/') || strchr(hostname, '\n')) {
        ck_error_set(err, 422, CK_REASON_INVALID, "invalid pod hostname \"%s\"", hostname);
        return -EINVAL;
    }
    if (cfg->n_sysctls > KL_SB_MAX_SYSCTLS) {
        ck_error_set(err, 422, CK_REASON_INVALID, "too many sysctls");
        return -EINVAL;
    }
    for (size_t i = 0; i < cfg->n_sysctls; i++) {
        const char *kv = cfg->sysctls[i];
        const char *eq = kv ? strchr(kv, '=') : NULL;
        CK_AUTOFREE char *name = eq ? ck_xstrndup(kv, (size_t)(eq - kv)) : NULL;
        if (!name || !kl_sysctl_allowed(name, cfg->host_network, cfg->host_ipc)) {
            ck_error_set(err, 422, CK_REASON_INVALID, "forbidden sysctl: \"%s\"",
                         kv ? kv : "(null)");
            return -EINVAL;
        }
    }
    struct kl_sandbox *sb = ck_xcalloc(1, sizeof(*sb));
    sb->id = kl_new_id();
    sb->dir = ck_xasprintf("%s/sandboxes/%s", rt->root, sb->id);
    sb->pod_uid = ck_xstrdup(cfg->pod_uid);
    sb->pod_name = ck_xstrdup(cfg->pod_name);
    sb->pod_namespace = ck_xstrdup(cfg->pod_namespace);
    sb->attempt = cfg->attempt;
    sb->hostname = ck_xstrdup(hostname);
    sb->log_directory = cfg->log_directory ? ck_xstrdup(cfg->log_directory) : NULL;
    sb->cgroup_parent = cfg->cgroup_parent ? ck_xstrdup(cfg->cgroup_parent) : NULL;
    sb->host_network = cfg->host_network;
    sb->host_ipc = cfg->host_ipc;
    sb->host_pid = cfg->host_pid;
    sb->hostname_file = ck_xasprintf("%s/hostname", sb->dir);
    sb->hosts_file = ck_xasprintf("%s/hosts", sb->dir);
    sb->resolv_conf_file = ck_xasprintf("%s/resolv.conf", sb->dir);
    sb->labels = kl_kv_object(cfg->labels, cfg->n_labels);
    sb->annotations = kl_kv_object(cfg->annotations, cfg->n_annotations);
    ck_time_now(&sb->created_at);
    struct ns_job job = {0};
    int rc;
    if (mkdir(sb->dir, 0711) < 0) {
        rc = -errno;
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot create %s: %s", sb->dir,
                     strerror(errno));
        kl_sandbox_free(sb);
        return rc;
    }
    CK_AUTOFREE char *hn = ck_xasprintf("%s\n", hostname);
    rc = write_text(sb->hostname_file, hn);
    if (rc == 0)
        rc = copy_host_file("/etc/hosts", sb->hosts_file,
                            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    if (rc == 0) {
        if (cfg->n_dns_servers || cfg->n_dns_searches || cfg->n_dns_options) {
            CK_AUTOFREE char *rc_text = kl_sandbox_resolv_conf(cfg);
            rc = write_text(sb->resolv_conf_file, rc_text);
        } else {
            rc = copy_host_file("/etc/resolv.conf", sb->resolv_conf_file, "");
        }
    }
    if (rc < 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot write the sandbox files: %s",
                     strerror(-rc));
        goto fail;
    }
    if (cfg->host_ipc) {
        sb->shm_dir = ck_xstrdup("/dev/shm");
    } else {
        sb->shm_dir = ck_xasprintf("%s/shm", sb->dir);
        if (mkdir(sb->shm_dir, 0755) < 0 ||
            mount("shm", sb->shm_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=1777,size=65536k") < 0) {
            rc = -errno;
            ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot mount the sandbox shm: %s",
                         strerror(errno));
            goto fail;
        }
    }
    job.hostname = hostname;
    if (!cfg->host_network)
        job.flags |= CLONE_NEWNET | CLONE_NEWUTS;
    if (!cfg->host_ipc)
        job.flags |= CLONE_NEWIPC;
    if (job.flags) {
        CK_AUTOFREE char *nsdir = ck_xasprintf("%s/ns", sb->dir);
        if (mkdir(nsdir, 0711) < 0) {
            rc = -errno;
            ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot create %s: %s", nsdir,
                         strerror(errno));
            goto fail;
        }
        if (!cfg->host_network) {
            sb->netns_path = ck_xasprintf("%s/net", nsdir);
            sb->utsns_path = ck_xasprintf("%s/uts", nsdir);
        }
        if (!cfg->host_ipc)
            sb->ipcns_path = ck_xasprintf("%s/ipc", nsdir);
        const char *files[3] = {sb->netns_path, sb->ipcns_path, sb->utsns_path};
        for (int i = 0; i < 3; i++) {
            if (files[i] && (rc = touch(files[i])) < 0) {
                ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot create %s: %s", files[i],
                             strerror(-rc));
                goto fail;
            }
        }
        job.net_file = sb->netns_path;
        job.ipc_file = sb->ipcns_path;
        job.uts_file = sb->utsns_path;
        job.n_sysctls = cfg->n_sysctls;
        job.sysctl_paths = ck_xcalloc(cfg->n_sysctls + 1, sizeof(char *));
        job.sysctl_values = ck_xcalloc(cfg->n_sysctls + 1, sizeof(char *));
        for (size_t i = 0; i < cfg->n_sysctls; i++) {
            const char *eq = strchr(cfg->sysctls[i], '=');
            CK_AUTOFREE char *name = ck_xstrndup(cfg->sysctls[i], (size_t)(eq - cfg->sysctls[i]));
            job.sysctl_paths[i] = sysctl_path(name);
            job.sysctl_values[i] = ck_xstrdup(eq + 1);
        }
        rc = make_namespaces(&job, err);
        if (rc < 0)
            goto fail;
    }
    sb->ready = true;
    rc = sandbox_save(sb);
    if (rc < 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot write the sandbox state: %s",
                     strerror(-rc));
        goto fail;
    }
    for (size_t i = 0; i < job.n_sysctls; i++) {
        free(job.sysctl_paths[i]);
        free(job.sysctl_values[i]);
    }
    free(job.sysctl_paths);
    free(job.sysctl_values);
    *out = sb;
    return 0;
fail:
    for (size_t i = 0; i < job.n_sysctls; i++) {
        free(job.sysctl_paths[i]);
        free(job.sysctl_values[i]);
    }
    free(job.sysctl_paths);
    free(job.sysctl_values);
    sandbox_cleanup_dir(sb->dir);
    kl_sandbox_free(sb);
    return rc < 0 ? rc : -EIO;
}

/* ---- stop and destroy --------------------------------------------------------------------------
 */

/* The sandbox's containers (caller frees with kl_container_list_free). */
static int sandbox_containers(struct kl_runtime *rt, const struct kl_sandbox *sb,
                              struct kl_container ***out, size_t *n)
{
    struct kl_container **all;
    size_t na;
    int rc = kl_container_list(rt, &all, &na);
    *out = NULL;
    *n = 0;
    if (rc < 0)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < na; i++) {
        if (strcmp(all[i]->sandbox_id, sb->id) == 0)
            all[k++] = all[i];
        else
            kl_container_free(all[i]);
    }
    *out = all;
    *n = k;
    return 0;
}

int kl_sandbox_stop(struct kl_runtime *rt, struct kl_sandbox *sb, struct ck_error *err)
{
    if (!rt || !sb)
        return -EINVAL;
    struct kl_container **cs;
    size_t n;
    int first = sandbox_containers(rt, sb, &cs, &n);
    for (size_t i = 0; i < n; i++) {
        int rc = kl_container_stop(rt, cs[i], 0, first == 0 ? err : NULL);
        if (rc < 0 && first == 0)
            first = rc;
    }
    kl_container_list_free(cs, n);
    sb->ready = false;
    if (access(sb->dir, F_OK) == 0) {
        int rc = sandbox_save(sb);
        if (rc < 0 && first == 0) {
            ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot write the sandbox state: %s",
                         strerror(-rc));
            first = rc;
        }
    }
    return first;
}

int kl_sandbox_destroy(struct kl_runtime *rt, struct kl_sandbox *sb, struct ck_error *err)
{
    if (!rt || !sb)
        return -EINVAL;
    struct kl_container **cs;
    size_t n;
    int first = sandbox_containers(rt, sb, &cs, &n);
    for (size_t i = 0; i < n; i++) {
        int rc = kl_container_remove(rt, cs[i], first == 0 ? err : NULL);
        if (rc < 0 && first == 0)
            first = rc;
    }
    kl_container_list_free(cs, n);
    sb->ready = false;
    (void)kl_umount_all_under(sb->dir);
    if (kl_has_mounts_under(sb->dir)) {
        if (first == 0) {
            ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot unmount the sandbox's mounts");
            first = -EBUSY;
        }
        return first;
    }
    int rc = kl_rm_rf(sb->dir);
    if (rc < 0 && first == 0) {
        ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot remove %s: %s", sb->dir, strerror(-rc));
        first = rc;
    }
    return first;
}
