/* cgroups.c - the kubelet's pod cgroup tree over cgroupfs v1/v2 (see cgroups.h). */
#include "kubelet/runtime/cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mem.h"

#define CGROUP2_MAGIC 0x63677270
#define CGROUP1_MAGIC 0x27e0eb
#define TMPFS_MAGIC_ 0x01021994
#define KL_CG_MAX_DEPTH 32
#define KL_CG_FILE_MAX 65536

/* ---- small file helpers ---------------------------------------------------------------- */

/* Reads up to size-1 bytes of a (small, pseudo-)file into buf, NUL-terminated. Returns the
 * length or a negative errno. */
static ssize_t cg_read(const char *file, char *buf, size_t size)
{
    if (size == 0)
        return -EINVAL;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            close(fd);
            return e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

static int cg_write(const struct kl_cgroups *cg, const char *file, const char *value)
{
    int flags = O_WRONLY | O_CLOEXEC | O_TRUNC;
    int fd = open(file, flags);
    if (fd < 0 && errno == ENOENT && cg->fake)
        fd = open(file, flags | O_CREAT, 0644);
    if (fd < 0)
        return -errno;
    size_t len = strlen(value);
    ssize_t n;
    do {
        n = write(fd, value, len);
    } while (n < 0 && errno == EINTR);
    int e = n < 0 ? -errno : ((size_t)n == len ? 0 : -EIO);
    if (close(fd) < 0 && e == 0)
        e = -errno;
    return e;
}

static int cg_read_u64(const char *file, uint64_t *out)
{
    char buf[64];
    ssize_t n = cg_read(file, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (end == buf || errno)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Value of the "key N" line of a flat keyed file (memory.stat, cpu.stat, memory.events). */
static bool cg_keyed(const char *text, const char *key, uint64_t *out)
{
    size_t klen = strlen(key);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(p + klen + 1, &end, 10);
            if (end != p + klen + 1 && !errno) {
                *out = v;
                return true;
            }
            return false;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return false;
}

uint64_t kl_cgroup_parse_oom_kills(const char *text)
{
    uint64_t v = 0;
    if (text && cg_keyed(text, "oom_kill", &v))
        return v;
    return 0;
}

/* ---- paths ------------------------------------------------------------------------------ */

/* An absolute cgroup path without empty, "." or ".." components and without a trailing '/'
 * (except "/" itself). */
static bool cg_path_ok(const char *path)
{
    if (!path || path[0] != '/' || strlen(path) >= 2048)
        return false;
    if (path[1] == '\0')
        return true;
    const char *p = path + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!slash)
            return true;
        p = slash + 1;
    }
}

static bool cg_under_root(const struct kl_cgroups *cg, const char *path)
{
    if (!cg_path_ok(path))
        return false;
    size_t rl = strlen(cg->root);
    return strncmp(path, cg->root, rl) == 0 && (path[rl] == '\0' || path[rl] == '/');
}

char *kl_cgroup_file(const struct kl_cgroups *cg, const char *controller, const char *path,
                     const char *file)
{
    if (!cg || !path || !file)
        return NULL;
    if (strcmp(path, "/") == 0)
        path = "";
    if (cg->version == KL_CGROUP_V2 || !controller)
        return ck_xasprintf("%s%s/%s", cg->mount, path, file);
    return ck_xasprintf("%s/%s%s/%s", cg->mount, controller, path, file);
}

static char *cg_dir(const struct kl_cgroups *cg, const char *hierarchy, const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "";
    if (cg->version == KL_CGROUP_V2 || !hierarchy)
        return ck_xasprintf("%s%s", cg->mount, path);
    return ck_xasprintf("%s/%s%s", cg->mount, hierarchy, path);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether `word` is one of the sep-separated items of `list` ("cpu,cpuacct"; "cpu io"). */
static bool list_has(const char *list, char sep, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; *p;) {
        while (*p == sep || *p == '\n')
            p++;
        const char *q = p;
        while (*q && *q != sep && *q != '\n')
            q++;
        if ((size_t)(q - p) == wl && wl && strncmp(p, word, wl) == 0)
            return true;
        p = q;
    }
    return false;
}

/* ---- init -------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int kl_cgroups_init(const char *mount, const char *root, struct kl_cgroups **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!mount)
        mount = "/sys/fs/cgroup";
    if (!root)
        root = "/kubepods";
    if (!cg_path_ok(root) || strcmp(root, "/") == 0 || mount[0] != '/')
        return -EINVAL;
    struct statfs sfs;
    if (statfs(mount, &sfs) < 0)
        return -errno;
    struct kl_cgroups *cg = ck_xcalloc(1, sizeof(*cg));
    cg->mount = ck_xstrdup(mount);
    size_t ml = strlen(cg->mount);
    while (ml > 1 && cg->mount[ml - 1] == '/')
        cg->mount[--ml] = '\0';
    cg->root = ck_xstrdup(root);
    unsigned long t = (unsigned long)sfs.f_type;
    cg->fake = t != CGROUP2_MAGIC && t != CGROUP1_MAGIC && t != TMPFS_MAGIC_;
    CK_AUTOFREE char *probe = ck_xasprintf("%s/cgroup.controllers", cg->mount);
    if (access(probe, F_OK) == 0) {
        cg->version = KL_CGROUP_V2;
        *out = cg;
        return 0;
    }
    cg->version = KL_CGROUP_V1;
    DIR *d = opendir(cg->mount);
    if (!d) {
        int e = -errno;
        kl_cgroups_free(cg);
        return e;
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        CK_AUTOFREE char *p = ck_xasprintf("%s/%s", cg->mount, de->d_name);
        struct stat st;
        /* symlinks ("cpu" -> "cpu,cpuacct") name a hierarchy already listed */
        if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (cg->n_hierarchies == cap) {
            cap = cap ? cap * 2 : 16;
            cg->hierarchies = ck_xrealloc(cg->hierarchies, cap * sizeof(char *));
        }
        cg->hierarchies[cg->n_hierarchies++] = ck_xstrdup(de->d_name);
    }
    closedir(d);
    if (cg->n_hierarchies > 1)
        qsort(cg->hierarchies, cg->n_hierarchies, sizeof(char *), cmp_str);
    *out = cg;
    return 0;
}

void kl_cgroups_free(struct kl_cgroups *cg)
{
    if (!cg)
        return;
    for (size_t i = 0; i < cg->n_hierarchies; i++)
        free(cg->hierarchies[i]);
    free(cg->hierarchies);
    free(cg->mount);
    free(cg->root);
    free(cg);
}

/* ---- conversions -------------------------------------------------------------------------- */

uint64_t kl_milli_cpu_to_shares(int64_t milli)
{
    if (milli <= 0)
        return KL_CPU_MIN_SHARES;
    /* milli * 1024 / 1000 without overflow for any realistic request */
    uint64_t shares = (uint64_t)milli / 1000 * KL_CPU_SHARES_PER_CPU +
                      (uint64_t)milli % 1000 * KL_CPU_SHARES_PER_CPU / 1000;
    if (shares < KL_CPU_MIN_SHARES)
        return KL_CPU_MIN_SHARES;
    if (shares > KL_CPU_MAX_SHARES)
        return KL_CPU_MAX_SHARES;
    return shares;
}

int64_t kl_milli_cpu_to_quota(int64_t milli, int64_t period)
{
    if (milli <= 0)
        return 0;
    if (period <= 0)
        period = KL_CPU_QUOTA_PERIOD;
    if (milli > INT64_MAX / period)
        return INT64_MAX / 1000;
    int64_t quota = milli * period / 1000;
    return quota < KL_CPU_MIN_QUOTA ? KL_CPU_MIN_QUOTA : quota;
}

uint64_t kl_cpu_shares_to_weight(uint64_t shares)
{
    if (shares == 0)
        return 0;
    if (shares < KL_CPU_MIN_SHARES)
        shares = KL_CPU_MIN_SHARES;
    if (shares > KL_CPU_MAX_SHARES)
        shares = KL_CPU_MAX_SHARES;
    return 1 + ((shares - 2) * 9999) / 262142;
}

/* ---- creation and limits ------------------------------------------------------------------- */

/* Gives a new v1 cpuset cgroup its parent's cpus and mems (an empty cpuset admits no task). */
static void cpuset_inherit(const struct kl_cgroups *cg, const char *dir)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(files); i++) {
        CK_AUTOFREE char *mine = ck_xasprintf("%s/%s", dir, files[i]);
        char cur[4096];
        ssize_t n = cg_read(mine, cur, sizeof(cur));
        if (n > 0 && cur[0] != '\n' && cur[0] != '\0')
            continue;
        CK_AUTOFREE char *parent_dir = ck_xstrdup(dir);
        char *slash = strrchr(parent_dir, '/');
        if (!slash)
            continue;
        *slash = '\0';
        CK_AUTOFREE char *theirs = ck_xasprintf("%s/%s", parent_dir, files[i]);
        char val[4096];
        if (cg_read(theirs, val, sizeof(val)) > 0 && val[0] != '\n') {
            int rc = cg_write(cg, mine, val);
            if (rc < 0)
                ck_warn("cgroups: cannot initialize %s: %s", mine, strerror(-rc));
        }
    }
}

/* Enables the usual controllers in dir/cgroup.subtree_control (v2), best effort: one write
 * with all of them, then one by one when the kernel refuses the set. */
static void v2_enable_subtree(const struct kl_cgroups *cg, const char *dir, const char *avail)
{
    static const char *const wanted[] = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids"};
    CK_AUTOBUF struct ck_buf all = CK_BUF_INIT;
    for (size_t i = 0; i < CK_ARRAY_SIZE(wanted); i++) {
        if (!list_has(avail, ' ', wanted[i]))
            continue;
        ck_buf_printf(&all, "%s+%s", all.len ? " " : "", wanted[i]);
    }
    if (all.len == 0)
        return;
    CK_AUTOFREE char *file = ck_xasprintf("%s/cgroup.subtree_control", dir);
    if (cg_write(cg, file, all.data) == 0)
        return;
    for (size_t i = 0; i < CK_ARRAY_SIZE(wanted); i++) {
        if (!list_has(avail, ' ', wanted[i]))
            continue;
        char one[32];
        snprintf(one, sizeof(one), "+%s", wanted[i]);
        (void)cg_write(cg, file, one);
    }
}

/* Calls fn(cg, dir, arg) for each component directory of path below base, creating it. */
static int mkdir_components(const struct kl_cgroups *cg, const char *base, const char *path,
                            void (*fn)(const struct kl_cgroups *, const char *, const char *),
                            const char *arg)
{
    CK_AUTOBUF struct ck_buf cur = CK_BUF_INIT;
    ck_buf_puts(&cur, base);
    if (fn)
        fn(cg, cur.data, arg);
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        ck_buf_putc(&cur, '/');
        ck_buf_add(&cur, p, n);
        if (mkdir(cur.data, 0755) < 0 && errno != EEXIST)
            return -errno;
        if (fn)
            fn(cg, cur.data, arg);
        p += n;
    }
    return 0;
}

static void cpuset_cb(const struct kl_cgroups *cg, const char *dir, const char *arg)
{
    (void)arg;
    cpuset_inherit(cg, dir);
}

static void v2_cb(const struct kl_cgroups *cg, const char *dir, const char *avail)
{
    v2_enable_subtree(cg, dir, avail);
}

int kl_cgroup_ensure(const struct kl_cgroups *cg, const char *path,
                     const struct kl_cgroup_resources *res)
{
    if (!cg || !cg_under_root(cg, path))
        return -EINVAL;
    if (cg->version == KL_CGROUP_V2) {
        CK_AUTOFREE char *cf = ck_xasprintf("%s/cgroup.controllers", cg->mount);
        char avail[1024];
        if (cg_read(cf, avail, sizeof(avail)) < 0)
            avail[0] = '\0';
        int rc = mkdir_components(cg, cg->mount, path, v2_cb, avail);
        if (rc < 0)
            return rc;
    } else {
        for (size_t i = 0; i < cg->n_hierarchies; i++) {
            const char *h = cg->hierarchies[i];
            CK_AUTOFREE char *base = ck_xasprintf("%s/%s", cg->mount, h);
            bool cpuset = list_has(h, ',', "cpuset");
            int rc = mkdir_components(cg, base, path, cpuset ? cpuset_cb : NULL, NULL);
            if (rc < 0)
                return rc;
        }
    }
    return res ? kl_cgroup_update(cg, path, res) : 0;
}

static void keep_first(int *first, int rc)
{
    if (rc < 0 && *first == 0)
        *first = rc;
}

static int write_num_or(const struct kl_cgroups *cg, const char *file, int64_t v, const char *none)
{
    char val[32];
    if (v > 0)
        snprintf(val, sizeof(val), "%" PRId64, v);
    else
        snprintf(val, sizeof(val), "%s", none);
    return cg_write(cg, file, val);
}

static int update_v1(const struct kl_cgroups *cg, const char *path,
                     const struct kl_cgroup_resources *res)
{
    int first = 0;
    uint64_t period = res->cpu_period ? res->cpu_period : KL_CPU_QUOTA_PERIOD;
    CK_AUTOFREE char *cpu = cg_dir(cg, "cpu", path);
    if (is_dir(cpu)) {
        char val[32];
        if (res->cpu_shares) {
            CK_AUTOFREE char *f = ck_xasprintf("%s/cpu.shares", cpu);
            snprintf(val, sizeof(val), "%" PRIu64, res->cpu_shares);
            keep_first(&first, cg_write(cg, f, val));
        }
        CK_AUTOFREE char *fp = ck_xasprintf("%s/cpu.cfs_period_us", cpu);
        CK_AUTOFREE char *fq = ck_xasprintf("%s/cpu.cfs_quota_us", cpu);
        if (res->cpu_quota > 0) {
            snprintf(val, sizeof(val), "%" PRIu64, period);
            keep_first(&first, cg_write(cg, fp, val));
        }
        keep_first(&first, write_num_or(cg, fq, res->cpu_quota, "-1"));
    }
    CK_AUTOFREE char *mem = cg_dir(cg, "memory", path);
    if (is_dir(mem)) {
        CK_AUTOFREE char *f = ck_xasprintf("%s/memory.limit_in_bytes", mem);
        keep_first(&first, write_num_or(cg, f, res->memory_limit, "-1"));
    }
    CK_AUTOFREE char *pids = cg_dir(cg, "pids", path);
    if (is_dir(pids)) {
        CK_AUTOFREE char *f = ck_xasprintf("%s/pids.max", pids);
        keep_first(&first, write_num_or(cg, f, res->pids_limit, "max"));
    }
    return first;
}

static int update_v2(const struct kl_cgroups *cg, const char *path,
                     const struct kl_cgroup_resources *res)
{
    int first = 0;
    uint64_t period = res->cpu_period ? res->cpu_period : KL_CPU_QUOTA_PERIOD;
    CK_AUTOFREE char *dir = cg_dir(cg, NULL, path);
    char val[64];
    if (res->cpu_shares) {
        CK_AUTOFREE char *f = ck_xasprintf("%s/cpu.weight", dir);
        snprintf(val, sizeof(val), "%" PRIu64, kl_cpu_shares_to_weight(res->cpu_shares));
        keep_first(&first, cg_write(cg, f, val));
    }
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s/cpu.max", dir);
        if (res->cpu_quota > 0)
            snprintf(val, sizeof(val), "%" PRId64 " %" PRIu64, res->cpu_quota, period);
        else
            snprintf(val, sizeof(val), "max %" PRIu64, period);
        keep_first(&first, cg_write(cg, f, val));
    }
    CK_AUTOFREE char *fm = ck_xasprintf("%s/memory.max", dir);
    keep_first(&first, write_num_or(cg, fm, res->memory_limit, "max"));
    CK_AUTOFREE char *fp = ck_xasprintf("%s/pids.max", dir);
    keep_first(&first, write_num_or(cg, fp, res->pids_limit, "max"));
    return first;
}

int kl_cgroup_update(const struct kl_cgroups *cg, const char *path,
                     const struct kl_cgroup_resources *res)
{
    if (!cg || !res || !cg_under_root(cg, path))
        return -EINVAL;
    if (!kl_cgroup_exists(cg, path))
        return -ENOENT;
    return cg->version == KL_CGROUP_V2 ? update_v2(cg, path, res) : update_v1(cg, path, res);
}

bool kl_cgroup_exists(const struct kl_cgroups *cg, const char *path)
{
    if (!cg || !cg_path_ok(path))
        return false;
    CK_AUTOFREE char *dir = cg_dir(cg, cg->version == KL_CGROUP_V2 ? NULL : "memory", path);
    return is_dir(dir);
}

int kl_cgroups_ensure_node(const struct kl_cgroups *cg)
{
    if (!cg)
        return -EINVAL;
    int rc = kl_cgroup_ensure(cg, cg->root, NULL);
    if (rc < 0)
        return rc;
    CK_AUTOFREE char *bu = ck_xasprintf("%s/burstable", cg->root);
    rc = kl_cgroup_ensure(cg, bu, NULL);
    if (rc < 0)
        return rc;
    CK_AUTOFREE char *be = ck_xasprintf("%s/besteffort", cg->root);
    struct kl_cgroup_resources res = {.cpu_shares = KL_CPU_MIN_SHARES};
    return kl_cgroup_ensure(cg, be, &res);
}

static bool name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 253 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (const char *p = s; *p; p++)
        if (*p == '/' || *p == '\n' || (unsigned char)*p < 0x20)
            return false;
    return true;
}

char *kl_cgroup_pod_path(const struct kl_cgroups *cg, enum kl_qos qos, const char *pod_uid)
{
    if (!cg || !name_ok(pod_uid))
        return NULL;
    switch (qos) {
    case KL_QOS_GUARANTEED:
        return ck_xasprintf("%s/pod%s", cg->root, pod_uid);
    case KL_QOS_BURSTABLE:
        return ck_xasprintf("%s/burstable/pod%s", cg->root, pod_uid);
    case KL_QOS_BESTEFFORT:
        return ck_xasprintf("%s/besteffort/pod%s", cg->root, pod_uid);
    }
    return NULL;
}

int kl_cgroup_pod_ensure(const struct kl_cgroups *cg, enum kl_qos qos, const char *pod_uid,
                         const struct kl_cgroup_resources *res, char **path_out)
{
    if (path_out)
        *path_out = NULL;
    char *path = kl_cgroup_pod_path(cg, qos, pod_uid);
    if (!path)
        return -EINVAL;
    int rc = kl_cgroup_ensure(cg, path, res);
    if (rc < 0 || !path_out)
        free(path);
    else
        *path_out = path;
    return rc;
}

/* ---- destruction ------------------------------------------------------------------------- */

/* SIGKILLs every process listed in cgroup.procs of dir and its descendants; returns how
 * many it signalled. */
static int kill_tree(const char *dir, int depth)
{
    if (depth > KL_CG_MAX_DEPTH)
        return 0;
    int killed = 0;
    CK_AUTOFREE char *procs = ck_xasprintf("%s/cgroup.procs", dir);
    FILE *f = fopen(procs, "re");
    if (f) {
        long pid;
        while (fscanf(f, "%ld", &pid) == 1) {
            if (pid > 1 && pid != (long)getpid() && kill((pid_t)pid, SIGKILL) == 0)
                killed++;
        }
        fclose(f);
    }
    DIR *d = opendir(dir);
    if (!d)
        return killed;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        CK_AUTOFREE char *sub = ck_xasprintf("%s/%s", dir, de->d_name);
        killed += kill_tree(sub, depth + 1);
    }
    closedir(d);
    return killed;
}

/* Removes dir and its sub-directories deepest first; on a fake tree plain files go first. */
static int rmdir_tree(const struct kl_cgroups *cg, const char *dir, int depth)
{
    if (depth > KL_CG_MAX_DEPTH)
        return -ELOOP;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    int first = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        CK_AUTOFREE char *sub = ck_xasprintf("%s/%s", dir, de->d_name);
        if (de->d_type == DT_DIR)
            keep_first(&first, rmdir_tree(cg, sub, depth + 1));
        else if (cg->fake && unlink(sub) < 0)
            keep_first(&first, -errno);
    }
    closedir(d);
    if (rmdir(dir) < 0 && errno != ENOENT)
        keep_first(&first, -errno);
    return first;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

int kl_cgroup_destroy(const struct kl_cgroups *cg, const char *path)
{
    if (!cg || !cg_under_root(cg, path))
        return -EINVAL;
    size_t n = cg->version == KL_CGROUP_V2 ? 1 : cg->n_hierarchies;
    int rc = 0;
    for (int attempt = 0; attempt < 100; attempt++) {
        rc = 0;
        for (size_t i = 0; i < n; i++) {
            CK_AUTOFREE char *dir =
                cg_dir(cg, cg->version == KL_CGROUP_V2 ? NULL : cg->hierarchies[i], path);
            if (!is_dir(dir))
                continue;
            if (cg->version == KL_CGROUP_V2 && !cg->fake) {
                CK_AUTOFREE char *kf = ck_xasprintf("%s/cgroup.kill", dir);
                if (access(kf, F_OK) == 0)
                    (void)cg_write(cg, kf, "1");
            }
            kill_tree(dir, 0);
            keep_first(&rc, rmdir_tree(cg, dir, 0));
        }
        if (rc != -EBUSY)
            break;
        sleep_ms(20);
    }
    return rc;
}

int kl_cgroup_list_pods(const struct kl_cgroups *cg, char ***uids, size_t *n)
{
    if (!cg || !uids || !n)
        return -EINVAL;
    *uids = NULL;
    *n = 0;
    size_t cap = 0;
    static const char *const parents[] = {"", "/burstable", "/besteffort"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(parents); i++) {
        CK_AUTOFREE char *p = ck_xasprintf("%s%s", cg->root, parents[i]);
        CK_AUTOFREE char *dir = cg_dir(cg, cg->version == KL_CGROUP_V2 ? NULL : "memory", p);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_type != DT_DIR || strncmp(de->d_name, "pod", 3) != 0 || !de->d_name[3])
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 8;
                *uids = ck_xrealloc(*uids, cap * sizeof(char *));
            }
            (*uids)[(*n)++] = ck_xstrdup(de->d_name + 3);
        }
        closedir(d);
    }
    return 0;
}

/* ---- accounting ---------------------------------------------------------------------------- */

char *kl_cgroup_oom_file(const struct kl_cgroups *cg, const char *path)
{
    if (!cg || !cg_path_ok(path))
        return NULL;
    if (cg->version == KL_CGROUP_V2)
        return kl_cgroup_file(cg, NULL, path, "memory.events");
    return kl_cgroup_file(cg, "memory", path, "memory.oom_control");
}

int kl_cgroup_oom_kills(const struct kl_cgroups *cg, const char *path, uint64_t *count)
{
    if (!count)
        return -EINVAL;
    *count = 0;
    CK_AUTOFREE char *f = kl_cgroup_oom_file(cg, path);
    if (!f)
        return -EINVAL;
    char buf[1024];
    ssize_t n = cg_read(f, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    *count = kl_cgroup_parse_oom_kills(buf);
    return 0;
}

int kl_cgroup_stats(const struct kl_cgroups *cg, const char *path, struct kl_cgroup_stats *st)
{
    if (!cg || !st || !cg_path_ok(path))
        return -EINVAL;
    memset(st, 0, sizeof(*st));
    if (!kl_cgroup_exists(cg, path))
        return -ENOENT;
    char *text = ck_xmalloc(KL_CG_FILE_MAX);
    uint64_t inactive = 0;
    if (cg->version == KL_CGROUP_V2) {
        CK_AUTOFREE char *cpu = kl_cgroup_file(cg, NULL, path, "cpu.stat");
        uint64_t usec = 0;
        if (cg_read(cpu, text, KL_CG_FILE_MAX) >= 0 && cg_keyed(text, "usage_usec", &usec))
            st->cpu_usage_ns = usec * 1000;
        CK_AUTOFREE char *cur = kl_cgroup_file(cg, NULL, path, "memory.current");
        (void)cg_read_u64(cur, &st->memory_usage);
        CK_AUTOFREE char *ms = kl_cgroup_file(cg, NULL, path, "memory.stat");
        if (cg_read(ms, text, KL_CG_FILE_MAX) >= 0) {
            (void)cg_keyed(text, "inactive_file", &inactive);
            (void)cg_keyed(text, "anon", &st->memory_rss);
        }
        CK_AUTOFREE char *pc = kl_cgroup_file(cg, NULL, path, "pids.current");
        (void)cg_read_u64(pc, &st->pids_current);
    } else {
        CK_AUTOFREE char *cpu = kl_cgroup_file(cg, "cpuacct", path, "cpuacct.usage");
        (void)cg_read_u64(cpu, &st->cpu_usage_ns);
        CK_AUTOFREE char *cur = kl_cgroup_file(cg, "memory", path, "memory.usage_in_bytes");
        (void)cg_read_u64(cur, &st->memory_usage);
        CK_AUTOFREE char *ms = kl_cgroup_file(cg, "memory", path, "memory.stat");
        if (cg_read(ms, text, KL_CG_FILE_MAX) >= 0) {
            (void)cg_keyed(text, "total_inactive_file", &inactive);
            (void)cg_keyed(text, "total_rss", &st->memory_rss);
        }
        CK_AUTOFREE char *pc = kl_cgroup_file(cg, "pids", path, "pids.current");
        (void)cg_read_u64(pc, &st->pids_current);
    }
    free(text);
    st->memory_working_set = st->memory_usage > inactive ? st->memory_usage - inactive : 0;
    (void)kl_cgroup_oom_kills(cg, path, &st->oom_kills);
    return 0;
}
