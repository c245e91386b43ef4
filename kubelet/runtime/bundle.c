/* bundle.c - container spec -> OCI config.json, overlayfs root filesystems, file helpers
 * (see bundle.h). */
#include "kubelet/runtime/bundle.h"
#include "kubelet/runtime/cgroups.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "encoding.h"
#include "json.h"
#include "mem.h"

/* ---- string lists ------------------------------------------------------------------------- */

struct strv {
    char **v;
    size_t n, cap;
};

static void strv_push_owned(struct strv *s, char *str)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = ck_xrealloc(s->v, s->cap * sizeof(char *));
    }
    s->v[s->n++] = str;
}

static void strv_push(struct strv *s, const char *str)
{
    strv_push_owned(s, ck_xstrdup(str));
}

static void strv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static cJSON *strv_json(const struct strv *s)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i])
            cJSON_AddItemToArray(a, cJSON_CreateString(s->v[i]));
    return a;
}

static cJSON *str_array(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

/* A JSON array of strings from the image config, as a strv; absent/null gives an empty one. */
static void image_strings(const cJSON *cfg, const char *key, struct strv *out)
{
    const cJSON *a = cfg ? ck_json_getv(cfg, key, NULL) : NULL;
    if (!cJSON_IsArray(a))
        return;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (cJSON_IsString(it))
            strv_push(out, it->valuestring);
    }
}

/* ---- $(VAR) expansion ----------------------------------------------------------------------- */

static const char *env_lookup(const char *const *env, size_t n, const char *name, size_t nlen)
{
    for (size_t i = n; i-- > 0;) {
        const char *e = env[i];
        if (e && strncmp(e, name, nlen) == 0 && e[nlen] == '=')
            return e + nlen + 1;
    }
    return NULL;
}

char *kl_expand_vars(const char *in, const char *const *env, size_t n_env)
{
    if (!in)
        return ck_xstrdup("");
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_init(&b);
    size_t len = strlen(in);
    for (size_t i = 0; i < len; i++) {
        if (in[i] != '$' || i + 1 >= len) {
            ck_buf_putc(&b, in[i]);
            continue;
        }
        char next = in[i + 1];
        if (next == '$') { /* escaped operator */
            ck_buf_putc(&b, '$');
            i++;
        } else if (next == '(') {
            const char *close = memchr(in + i + 2, ')', len - i - 2);
            if (!close) { /* incomplete reference: "$(" stays, the rest follows as text */
                ck_buf_puts(&b, "$(");
                i++;
                continue;
            }
            const char *name = in + i + 2;
            size_t nlen = (size_t)(close - name);
            const char *val = env_lookup(env, n_env, name, nlen);
            if (val)
                ck_buf_puts(&b, val);
            else
                ck_buf_add(&b, in + i, nlen + 3);
            i = (size_t)(close - in);
        } else { /* not a reference: "$x" stays */
            ck_buf_putc(&b, '$');
            ck_buf_putc(&b, next);
            i++;
        }
    }
    return ck_buf_detach(&b);
}

/* ---- env merging (containerd's replaceOrAppendEnvValues) ------------------------------------- */

static size_t env_key_len(const char *e)
{
    const char *eq = strchr(e, '=');
    return eq ? (size_t)(eq - e) : strlen(e);
}

/* Applies overrides to env: a NAME=value replaces NAME in place or is appended; a bare NAME
 * (no '=') removes it. */
static void env_merge(struct strv *env, const char *override)
{
    size_t kl = env_key_len(override);
    bool unset = override[kl] != '=';
    for (size_t i = 0; i < env->n; i++) {
        if (!env->v[i])
            continue;
        if (env_key_len(env->v[i]) == kl && strncmp(env->v[i], override, kl) == 0) {
            free(env->v[i]);
            env->v[i] = unset ? NULL : ck_xstrdup(override);
            return;
        }
    }
    if (!unset)
        strv_push(env, override);
}

/* ---- users -------------------------------------------------------------------------------- */

/* A numeric id as Go's strconv.Atoi would accept it, in uint32 range. */
static bool parse_id(const char *s, size_t len, uint32_t *out)
{
    if (len == 0 || len > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Field `idx` (0-based) of a ':'-separated line [line, end); returns false when missing. */
static bool field(const char *line, const char *end, int idx, const char **fs, size_t *fl)
{
    const char *p = line;
    for (int i = 0; i < idx; i++) {
        const char *c = memchr(p, ':', (size_t)(end - p));
        if (!c)
            return false;
        p = c + 1;
    }
    const char *c = memchr(p, ':', (size_t)(end - p));
    *fs = p;
    *fl = c ? (size_t)(c - p) : (size_t)(end - p);
    return true;
}

/* Iterates the lines of a passwd/group text; calls fn until it returns true. */
static bool each_line(const char *text, bool (*fn)(const char *, const char *, void *), void *arg)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        if (end > p && *p != '#' && fn(p, end, arg))
            return true;
        p = nl ? nl + 1 : NULL;
    }
    return false;
}

struct user_q {
    const char *name; /* match by name ... */
    bool by_uid;      /* ... or by uid */
    uint32_t uid;
    bool found;
    uint32_t out_uid, out_gid;
    char out_name[256];
};

static bool user_line(const char *line, const char *end, void *arg)
{
    struct user_q *q = arg;
    const char *f;
    size_t fl;
    uint32_t uid, gid;
    if (!field(line, end, 2, &f, &fl) || !parse_id(f, fl, &uid))
        return false;
    if (!field(line, end, 3, &f, &fl) || !parse_id(f, fl, &gid))
        return false;
    const char *nm;
    size_t nl;
    if (!field(line, end, 0, &nm, &nl) || nl >= sizeof(q->out_name))
        return false;
    if (q->by_uid ? uid != q->uid : (strlen(q->name) != nl || strncmp(q->name, nm, nl) != 0))
        return false;
    q->found = true;
    q->out_uid = uid;
    q->out_gid = gid;
    memcpy(q->out_name, nm, nl);
    q->out_name[nl] = '\0';
    return true;
}

struct group_q {
    const char *name; /* a group name to find (gid lookup) */
    bool found;
    uint32_t gid;
    const char *member; /* or: collect groups listing this user */
    uint32_t *gids;
    size_t n, cap;
};

static bool group_line(const char *line, const char *end, void *arg)
{
    struct group_q *q = arg;
    const char *nm, *f, *mem;
    size_t nl, fl, ml;
    uint32_t gid;
    if (!field(line, end, 0, &nm, &nl) || !field(line, end, 2, &f, &fl) || !parse_id(f, fl, &gid))
        return false;
    if (q->name) {
        if (strlen(q->name) == nl && strncmp(q->name, nm, nl) == 0) {
            q->found = true;
            q->gid = gid;
            return true;
        }
        return false;
    }
    size_t ul = strlen(q->member);
    if (nl == ul && strncmp(nm, q->member, nl) == 0)
        return false; /* the user's own group is not supplementary */
    if (!field(line, end, 3, &mem, &ml))
        return false;
    for (const char *p = mem; p < mem + ml;) {
        const char *c = memchr(p, ',', (size_t)(mem + ml - p));
        size_t l = c ? (size_t)(c - p) : (size_t)(mem + ml - p);
        if (l == ul && strncmp(p, q->member, l) == 0) {
            if (q->n == q->cap) {
                q->cap = q->cap ? q->cap * 2 : 8;
                q->gids = ck_xrealloc(q->gids, q->cap * sizeof(uint32_t));
            }
            q->gids[q->n++] = gid;
            break;
        }
        p = c ? c + 1 : mem + ml;
    }
    return false;
}

struct resolved_user {
    uint32_t uid, gid;
    uint32_t *gids;
    size_t n_gids;
};

static void gids_add(struct resolved_user *u, size_t *cap, uint32_t g)
{
    for (size_t i = 0; i < u->n_gids; i++)
        if (u->gids[i] == g)
            return;
    if (u->n_gids == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        u->gids = ck_xrealloc(u->gids, *cap * sizeof(uint32_t));
    }
    u->gids[u->n_gids++] = g;
}

/* The user part of the image's "user[:group]" (the kubelet passes only that on). */
static void image_user(const cJSON *cfg, char *out, size_t size)
{
    out[0] = '\0';
    const char *u = cfg ? ck_json_get_string(cfg, "User", "") : "";
    size_t l = strcspn(u, ":");
    if (l >= size)
        l = size - 1;
    memcpy(out, u, l);
    out[l] = '\0';
}

static int resolve_user(const struct kl_container_spec *spec, const cJSON *cfg,
                        const struct kl_bundle_env *env, struct resolved_user *u,
                        struct ck_error *err)
{
    memset(u, 0, sizeof(*u));
    char user[256] = "", group[32] = "";
    if (spec->has_run_as_user) {
        if (spec->run_as_user < 0 || spec->run_as_user > UINT32_MAX) {
            ck_error_set(err, 422, CK_REASON_INVALID, "invalid runAsUser %" PRId64,
                         spec->run_as_user);
            return -EINVAL;
        }
        snprintf(user, sizeof(user), "%" PRId64, spec->run_as_user);
    } else {
        image_user(cfg, user, sizeof(user));
    }
    if (spec->has_run_as_group) {
        if (spec->run_as_group < 0 || spec->run_as_group > UINT32_MAX) {
            ck_error_set(err, 422, CK_REASON_INVALID, "invalid runAsGroup %" PRId64,
                         spec->run_as_group);
            return -EINVAL;
        }
        snprintf(group, sizeof(group), "%" PRId64, spec->run_as_group);
    }
    if (!user[0] && group[0]) {
        ck_error_set(err, 422, CK_REASON_INVALID, "user group \"%s\" is specified without user",
                     group);
        return -EINVAL;
    }
    const char *passwd = env->passwd ? env->passwd : "";
    const char *groupf = env->group ? env->group : "";
    uint32_t num;
    bool numeric = user[0] && parse_id(user, strlen(user), &num);
    if (user[0]) {
        struct user_q q = {0};
        if (numeric) {
            q.by_uid = true;
            q.uid = num;
            each_line(passwd, user_line, &q);
            u->uid = num;
            /* a uid without passwd entry runs with gid 0 -- unless a group was given */
            u->gid = q.found ? q.out_gid : 0;
        } else {
            q.name = user;
            each_line(passwd, user_line, &q);
            if (!q.found) {
                ck_error_set(err, 500, CK_REASON_INTERNAL,
                             "unable to find user %s: no matching entries in passwd file", user);
                return -EINVAL;
            }
            u->uid = q.out_uid;
            u->gid = q.out_gid;
        }
        if (group[0])
            (void)parse_id(group, strlen(group), &u->gid);
    }
    /* supplementary groups: /etc/group membership of the user (uid 0 when none was given) */
    char member[256] = "";
    if (user[0] && !numeric) {
        snprintf(member, sizeof(member), "%s", user);
    } else {
        struct user_q q = {.by_uid = true, .uid = user[0] ? num : 0};
        each_line(passwd, user_line, &q);
        if (q.found)
            snprintf(member, sizeof(member), "%s", q.out_name);
    }
    size_t cap = 0;
    gids_add(u, &cap, u->gid);
    if (member[0]) {
        struct group_q gq = {.member = member};
        each_line(groupf, group_line, &gq);
        for (size_t i = 0; i < gq.n; i++)
            gids_add(u, &cap, gq.gids[i]);
        free(gq.gids);
    }
    for (size_t i = 0; i < spec->n_supplemental_groups; i++) {
        int64_t g = spec->supplemental_groups[i];
        if (g >= 0 && g <= UINT32_MAX)
            gids_add(u, &cap, (uint32_t)g);
    }
    return 0;
}

/* ---- capabilities -----------------------------------------------------------------------------
 */

static const char *const all_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

/* The runtime's default set (containerd's, which is Docker's). */
static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

static void caps_set_all(struct strv *caps, int last)
{
    strv_free(caps);
    for (int i = 0; i <= last && i < (int)CK_ARRAY_SIZE(all_caps); i++)
        strv_push(caps, all_caps[i]);
}

static bool caps_has(const struct strv *caps, const char *c)
{
    for (size_t i = 0; i < caps->n; i++)
        if (caps->v[i] && strcmp(caps->v[i], c) == 0)
            return true;
    return false;
}

static char *cap_name(const char *c)
{
    char *s = ck_xasprintf("CAP_%s", c);
    for (char *p = s; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return s;
}

static bool list_has_all(const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && strcasecmp(v[i], "ALL") == 0)
            return true;
    return false;
}

static void build_caps(const struct kl_container_spec *spec, int last, struct strv *caps)
{
    if (spec->privileged) {
        caps_set_all(caps, last);
        return;
    }
    for (size_t i = 0; i < CK_ARRAY_SIZE(default_caps); i++)
        strv_push(caps, default_caps[i]);
    /* "ALL" first, so that individual names after it still apply */
    if (list_has_all(spec->cap_add, spec->n_cap_add))
        caps_set_all(caps, last);
    if (list_has_all(spec->cap_drop, spec->n_cap_drop))
        strv_free(caps);
    for (size_t i = 0; i < spec->n_cap_add; i++) {
        if (!spec->cap_add[i] || strcasecmp(spec->cap_add[i], "ALL") == 0)
            continue;
        char *c = cap_name(spec->cap_add[i]);
        if (caps_has(caps, c))
            free(c);
        else
            strv_push_owned(caps, c);
    }
    for (size_t i = 0; i < spec->n_cap_drop; i++) {
        if (!spec->cap_drop[i] || strcasecmp(spec->cap_drop[i], "ALL") == 0)
            continue;
        CK_AUTOFREE char *c = cap_name(spec->cap_drop[i]);
        for (size_t j = 0; j < caps->n; j++) {
            if (caps->v[j] && strcmp(caps->v[j], c) == 0) {
                free(caps->v[j]);
                caps->v[j] = NULL;
            }
        }
    }
}

/* ---- mounts ------------------------------------------------------------------------------- */

/* Upstream kubelet's default masked and read-only paths (pkg/securitycontext). */
static const char *const masked_paths[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

struct bmount {
    char *dst;
    const char *src;
    bool ro;
    enum kl_propagation prop;
};

static cJSON *mount_json(const char *dst, const char *type, const char *src,
                         const char *const *opts, size_t n)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "destination", dst);
    cJSON_AddStringToObject(m, "type", type);
    cJSON_AddStringToObject(m, "source", src);
    cJSON_AddItemToObject(m, "options", str_array(opts, n));
    return m;
}

/* filepath.Clean for an absolute path: collapses //, /./ and /../ and drops a trailing /. */
static char *clean_path(const char *p)
{
    size_t len = strlen(p);
    char *out = ck_xmalloc(len + 2);
    size_t o = 0;
    out[o++] = '/';
    for (const char *s = p; *s;) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 1 && s[0] == '.') {
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 1 && out[o - 1] != '/')
                o--;
            if (o > 1)
                o--;
        } else {
            if (o > 1)
                out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
        s += n;
    }
    out[o] = '\0';
    return out;
}

static size_t path_depth(const char *p)
{
    size_t n = 0;
    for (; *p; p++)
        n += *p == '/';
    return n;
}

static bool bmounts_have(const struct bmount *m, size_t n, const char *dst)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].dst, dst) == 0)
            return true;
    return false;
}

static void add_default_mount(cJSON *arr, const struct bmount *user, size_t n_user, const char *dst,
                              const char *type, const char *src, const char *const *opts,
                              size_t n_opts)
{
    if (bmounts_have(user, n_user, dst))
        return;
    if (strncmp(dst, "/dev/", 5) == 0 && bmounts_have(user, n_user, "/dev"))
        return;
    cJSON_AddItemToArray(arr, mount_json(dst, type, src, opts, n_opts));
}

static int build_mounts(const struct kl_container_spec *spec, const struct kl_bundle_env *env,
                        cJSON *arr, char **rootfs_propagation, struct ck_error *err)
{
    *rootfs_propagation = NULL;
    size_t cap = spec->n_mounts + 6, n = 0;
    struct bmount *bm = ck_xcalloc(cap, sizeof(*bm));
    int rc = 0;
    /* the kubelet's mounts: volumes, then the termination message file */
    for (size_t i = 0; i < spec->n_mounts; i++) {
        const struct kl_mount *m = &spec->mounts[i];
        if (!m->container_path || m->container_path[0] != '/' || !m->host_path ||
            m->host_path[0] != '/') {
            ck_error_set(err, 422, CK_REASON_INVALID,
                         "mount %s: container and host paths must be absolute",
                         m->container_path ? m->container_path : "(null)");
            rc = -EINVAL;
            goto out;
        }
        bm[n++] = (struct bmount){clean_path(m->container_path), m->host_path, m->readonly,
                                  m->propagation};
    }
    const char *tm = spec->termination_message_path;
    const char *tm_host = spec->termination_message_host_path ? spec->termination_message_host_path
                                                              : env->termination_log_file;
    if (tm && tm[0] && tm_host) {
        if (tm[0] != '/') {
            ck_error_set(err, 422, CK_REASON_INVALID, "terminationMessagePath %s must be absolute",
                         tm);
            rc = -EINVAL;
            goto out;
        }
        char *dst = clean_path(tm);
        if (bmounts_have(bm, n, dst))
            free(dst);
        else
            bm[n++] = (struct bmount){dst, tm_host, false, KL_PROPAGATION_PRIVATE};
    }
    size_t n_user = n;
    /* the sandbox's files, unless the kubelet mounts its own there */
    bool ro = spec->read_only_root_filesystem;
    struct {
        const char *dst, *src;
        bool ro;
    } extra[] = {
        {"/etc/hostname", env->hostname_file, ro},
        {"/etc/hosts", env->hosts_file, ro},
        {"/etc/resolv.conf", env->resolv_conf_file, ro},
        {"/dev/shm", env->shm_dir, false},
    };
    size_t n_extra = 0;
    struct bmount ex[4];
    for (size_t i = 0; i < CK_ARRAY_SIZE(extra); i++) {
        if (!extra[i].src || bmounts_have(bm, n_user, extra[i].dst))
            continue;
        ex[n_extra++] = (struct bmount){ck_xstrdup(extra[i].dst), extra[i].src, extra[i].ro,
                                        KL_PROPAGATION_PRIVATE};
    }
    /* containerd lists the sandbox's mounts first, then sorts by depth (stable here) */
    struct bmount *all = ck_xcalloc(n + n_extra + 1, sizeof(*all));
    size_t na = 0;
    for (size_t i = 0; i < n_extra; i++)
        all[na++] = ex[i];
    for (size_t i = 0; i < n; i++)
        all[na++] = bm[i];
    for (size_t i = 1; i < na; i++) { /* insertion sort: stable */
        struct bmount t = all[i];
        size_t j = i;
        while (j > 0 && path_depth(all[j - 1].dst) > path_depth(t.dst)) {
            all[j] = all[j - 1];
            j--;
        }
        all[j] = t;
    }
    /* defaults, minus those a supplied mount replaces */
    static const char *const proc_o[] = {"nosuid", "noexec", "nodev"};
    static const char *const dev_o[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
    static const char *const pts_o[] = {"nosuid",        "noexec",    "newinstance",
                                        "ptmxmode=0666", "mode=0620", "gid=5"};
    static const char *const shm_o[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"};
    static const char *const mq_o[] = {"nosuid", "noexec", "nodev"};
    static const char *const sys_ro[] = {"nosuid", "noexec", "nodev", "ro"};
    static const char *const sys_rw[] = {"nosuid", "noexec", "nodev", "rw"};
    static const char *const cg_ro[] = {"nosuid", "noexec", "nodev", "relatime", "ro"};
    static const char *const cg_rw[] = {"nosuid", "noexec", "nodev", "relatime", "rw"};
    bool priv = spec->privileged;
    add_default_mount(arr, all, na, "/proc", "proc", "proc", proc_o, 3);
    add_default_mount(arr, all, na, "/dev", "tmpfs", "tmpfs", dev_o, 4);
    add_default_mount(arr, all, na, "/dev/pts", "devpts", "devpts", pts_o, 6);
    add_default_mount(arr, all, na, "/dev/shm", "tmpfs", "shm", shm_o, 5);
    add_default_mount(arr, all, na, "/dev/mqueue", "mqueue", "mqueue", mq_o, 3);
    add_default_mount(arr, all, na, "/sys", "sysfs", "sysfs", priv ? sys_rw : sys_ro, 4);
    add_default_mount(arr, all, na, "/sys/fs/cgroup", "cgroup", "cgroup", priv ? cg_rw : cg_ro, 5);
    for (size_t i = 0; i < na; i++) {
        const char *opts[3] = {"rbind", "rprivate", all[i].ro ? "ro" : "rw"};
        if (all[i].prop == KL_PROPAGATION_BIDIRECTIONAL) {
            opts[1] = "rshared";
            free(*rootfs_propagation);
            *rootfs_propagation = ck_xstrdup("rshared");
        } else if (all[i].prop == KL_PROPAGATION_HOST_TO_CONTAINER) {
            opts[1] = "rslave";
            if (!*rootfs_propagation)
                *rootfs_propagation = ck_xstrdup("rslave");
        }
        cJSON_AddItemToArray(arr, mount_json(all[i].dst, "bind", all[i].src, opts, 3));
    }
    for (size_t i = 0; i < na; i++)
        free(all[i].dst);
    free(all);
    free(bm);
    return 0;
out:
    for (size_t i = 0; i < n; i++)
        free(bm[i].dst);
    free(bm);
    return rc;
}

/* ---- the config ----------------------------------------------------------------------------- */

static const cJSON *inner_config(const cJSON *img)
{
    if (!cJSON_IsObject(img))
        return NULL;
    const cJSON *c = ck_json_getv(img, "config", NULL);
    if (cJSON_IsObject(c))
        return c;
    if (ck_json_getv(img, "rootfs", NULL) || ck_json_getv(img, "architecture", NULL))
        return NULL; /* a whole image config without a "config" member */
    return img;
}

static int build_args(const struct kl_container_spec *spec, const cJSON *cfg, struct strv *out,
                      struct ck_error *err)
{
    struct strv command = {0}, args = {0};
    for (size_t i = 0; i < spec->n_command; i++)
        strv_push_owned(&command, kl_expand_vars(spec->command[i], spec->env, spec->n_env));
    for (size_t i = 0; i < spec->n_args; i++)
        strv_push_owned(&args, kl_expand_vars(spec->args[i], spec->env, spec->n_env));
    if (command.n == 0) {
        if (args.n == 0)
            image_strings(cfg, "Cmd", &args);
        struct strv ep = {0};
        image_strings(cfg, "Entrypoint", &ep);
        if (!(ep.n == 1 && ep.v[0][0] == '\0')) {
            strv_free(&command);
            command = ep;
        } else {
            strv_free(&ep);
        }
    }
    if (command.n == 0 && args.n == 0) {
        strv_free(&command);
        strv_free(&args);
        ck_error_set(err, 500, CK_REASON_INTERNAL, "no command specified");
        return -EINVAL;
    }
    *out = command;
    for (size_t i = 0; i < args.n; i++)
        strv_push_owned(out, args.v[i]);
    free(args.v);
    return 0;
}

static void add_ns(cJSON *arr, const char *type, const char *path)
{
    cJSON *ns = cJSON_CreateObject();
    cJSON_AddStringToObject(ns, "type", type);
    if (path)
        cJSON_AddStringToObject(ns, "path", path);
    cJSON_AddItemToArray(arr, ns);
}

static void annotate(cJSON *ann, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return;
    CK_AUTOFREE char *k = ck_xstrndup(kv, (size_t)(eq - kv));
    cJSON_DeleteItemFromObjectCaseSensitive(ann, k);
    cJSON_AddStringToObject(ann, k, eq + 1);
}

int kl_bundle_config(const struct kl_container_spec *spec, const cJSON *image_config,
                     const struct kl_bundle_env *env, cJSON **out, struct ck_error *err)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!spec || !env || !spec->name || !spec->name[0]) {
        ck_error_set(err, 422, CK_REASON_INVALID, "container name is required");
        return -EINVAL;
    }
    const cJSON *cfg = inner_config(image_config);
    int rc;
    struct strv argv = {0}, envv = {0}, caps = {0};
    struct resolved_user user = {0};
    char *rprop = NULL;
    cJSON *root = cJSON_CreateObject();

    rc = build_args(spec, cfg, &argv, err);
    if (rc < 0)
        goto fail;
    rc = resolve_user(spec, cfg, env, &user, err);
    if (rc < 0)
        goto fail;

    /* environment: PATH, HOSTNAME, image Env, container env */
    strv_push(&envv, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    {
        const char *hn = env->hostname && env->hostname[0] ? env->hostname : env->node_hostname;
        CK_AUTOFREE char *h = ck_xasprintf("HOSTNAME=%s", hn ? hn : "");
        env_merge(&envv, h);
        struct strv ienv = {0};
        image_strings(cfg, "Env", &ienv);
        for (size_t i = 0; i < ienv.n; i++)
            env_merge(&envv, ienv.v[i]);
        strv_free(&ienv);
        for (size_t i = 0; i < spec->n_env; i++)
            if (spec->env[i] && strchr(spec->env[i], '='))
                env_merge(&envv, spec->env[i]);
    }

    cJSON_AddStringToObject(root, "ociVersion", "1.0.2-dev");
    cJSON *proc = cJSON_AddObjectToObject(root, "process");
    cJSON_AddBoolToObject(proc, "terminal", false);
    cJSON *u = cJSON_AddObjectToObject(proc, "user");
    cJSON_AddItemToObject(u, "uid", ck_json_new_int64(user.uid));
    cJSON_AddItemToObject(u, "gid", ck_json_new_int64(user.gid));
    cJSON *ag = cJSON_AddArrayToObject(u, "additionalGids");
    for (size_t i = 0; i < user.n_gids; i++)
        cJSON_AddItemToArray(ag, ck_json_new_int64(user.gids[i]));
    cJSON_AddItemToObject(proc, "args", strv_json(&argv));
    cJSON_AddItemToObject(proc, "env", strv_json(&envv));
    {
        const char *cwd = "/";
        if (spec->working_dir && spec->working_dir[0])
            cwd = spec->working_dir;
        else if (cfg && ck_json_get_string(cfg, "WorkingDir", "")[0])
            cwd = ck_json_get_string(cfg, "WorkingDir", "/");
        cJSON_AddStringToObject(proc, "cwd", cwd);
    }
    int last = env->cap_last_cap > 0 ? env->cap_last_cap : 40;
    build_caps(spec, last, &caps);
    cJSON *cj = cJSON_AddObjectToObject(proc, "capabilities");
    cJSON_AddItemToObject(cj, "bounding", strv_json(&caps));
    cJSON_AddItemToObject(cj, "effective", strv_json(&caps));
    cJSON_AddItemToObject(cj, "permitted", strv_json(&caps));
    cJSON_AddBoolToObject(proc, "noNewPrivileges", spec->no_new_privileges);
    cJSON_AddItemToObject(proc, "oomScoreAdj", ck_json_new_int64(spec->oom_score_adj));

    cJSON *rootfs = cJSON_AddObjectToObject(root, "root");
    cJSON_AddStringToObject(rootfs, "path", "rootfs");
    cJSON_AddBoolToObject(rootfs, "readonly", spec->read_only_root_filesystem);
    if (env->utsns_path && env->hostname && env->hostname[0])
        cJSON_AddStringToObject(root, "hostname", env->hostname);

    cJSON *mounts = cJSON_AddArrayToObject(root, "mounts");
    rc = build_mounts(spec, env, mounts, &rprop, err);
    if (rc < 0)
        goto fail;

    cJSON *ann = cJSON_AddObjectToObject(root, "annotations");
    for (size_t i = 0; i < spec->n_annotations; i++)
        if (spec->annotations[i])
            annotate(ann, spec->annotations[i]);
    cJSON_AddStringToObject(ann, "io.kubernetes.cri.container-type", "container");
    cJSON_AddStringToObject(ann, "io.kubernetes.cri.container-name", spec->name);
    if (env->sandbox_id)
        cJSON_AddStringToObject(ann, "io.kubernetes.cri.sandbox-id", env->sandbox_id);
    if (env->pod_name)
        cJSON_AddStringToObject(ann, "io.kubernetes.cri.sandbox-name", env->pod_name);
    if (env->pod_namespace)
        cJSON_AddStringToObject(ann, "io.kubernetes.cri.sandbox-namespace", env->pod_namespace);
    if (spec->image)
        cJSON_AddStringToObject(ann, "io.kubernetes.cri.image-name", spec->image);

    cJSON *linux_ = cJSON_AddObjectToObject(root, "linux");
    cJSON *res = cJSON_AddObjectToObject(linux_, "resources");
    cJSON *devs = cJSON_AddArrayToObject(res, "devices");
    cJSON *dev = cJSON_CreateObject();
    cJSON_AddBoolToObject(dev, "allow", spec->privileged);
    cJSON_AddStringToObject(dev, "access", "rwm");
    cJSON_AddItemToArray(devs, dev);
    if (spec->memory_limit > 0) {
        cJSON *mem = cJSON_AddObjectToObject(res, "memory");
        cJSON_AddItemToObject(mem, "limit", ck_json_new_int64(spec->memory_limit));
        if (!env->cgroup_v2)
            cJSON_AddItemToObject(mem, "swap", ck_json_new_int64(spec->memory_limit));
    }
    {
        cJSON *cpu = cJSON_AddObjectToObject(res, "cpu");
        int64_t req = spec->cpu_request_milli;
        if (req <= 0 && spec->cpu_limit_milli > 0)
            req = spec->cpu_limit_milli; /* as the kubelet: request defaults to the limit */
        cJSON_AddItemToObject(cpu, "shares",
                              ck_json_new_int64((int64_t)kl_milli_cpu_to_shares(req)));
        int64_t quota = kl_milli_cpu_to_quota(spec->cpu_limit_milli, KL_CPU_QUOTA_PERIOD);
        if (quota > 0)
            cJSON_AddItemToObject(cpu, "quota", ck_json_new_int64(quota));
        cJSON_AddItemToObject(cpu, "period", ck_json_new_int64(KL_CPU_QUOTA_PERIOD));
    }
    if (env->cgroup_parent && env->container_id) {
        CK_AUTOFREE char *cp = ck_xasprintf("%s/%s", env->cgroup_parent, env->container_id);
        cJSON_AddStringToObject(linux_, "cgroupsPath", cp);
    }
    cJSON *nss = cJSON_AddArrayToObject(linux_, "namespaces");
    if (!env->host_pid)
        add_ns(nss, "pid", NULL);
    if (env->ipcns_path)
        add_ns(nss, "ipc", env->ipcns_path);
    if (env->utsns_path)
        add_ns(nss, "uts", env->utsns_path);
    add_ns(nss, "mount", NULL);
    if (env->netns_path)
        add_ns(nss, "network", env->netns_path);
    if (env->cgroup_v2 && !spec->privileged)
        add_ns(nss, "cgroup", NULL);
    bool unmasked = spec->unmasked_proc_mount || spec->privileged;
    cJSON_AddItemToObject(linux_, "maskedPaths",
                          unmasked ? cJSON_CreateArray()
                                   : str_array(masked_paths, CK_ARRAY_SIZE(masked_paths)));
    cJSON_AddItemToObject(linux_, "readonlyPaths",
                          unmasked ? cJSON_CreateArray()
                                   : str_array(readonly_paths, CK_ARRAY_SIZE(readonly_paths)));
    if (rprop)
        cJSON_AddStringToObject(linux_, "rootfsPropagation", rprop);

    strv_free(&argv);
    strv_free(&envv);
    strv_free(&caps);
    free(user.gids);
    free(rprop);
    *out = root;
    return 0;
fail:
    strv_free(&argv);
    strv_free(&envv);
    strv_free(&caps);
    free(user.gids);
    free(rprop);
    cJSON_Delete(root);
    return rc;
}

/* ---- root filesystems ------------------------------------------------------------------------ */

#define KL_USERS_MAX (1u << 20)

/* Opens rel inside the directory dirfd as if dirfd were "/" (symlinks cannot escape). */
static int open_in_root(int dirfd, const char *rel)
{
    struct open_how how = {0};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    /* O_NOFOLLOW applies to the last component only; RESOLVE_IN_ROOT keeps the rest inside */
    how.flags &= ~(uint64_t)O_NOFOLLOW;
    long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
    return fd < 0 ? -errno : (int)fd;
}

static int read_fd(int fd, size_t max, char **out)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_init(&b);
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            ck_buf_free(&b);
            return e;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            ck_buf_free(&b);
            return -EFBIG;
        }
        ck_buf_add(&b, chunk, (size_t)n);
    }
    *out = ck_buf_detach(&b);
    return 0;
}

int kl_rootfs_read_users(const char *rootfs, char **passwd, char **group)
{
    if (!rootfs || !passwd || !group)
        return -EINVAL;
    *passwd = *group = NULL;
    int dfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    const char *names[2] = {"etc/passwd", "etc/group"};
    char **outs[2] = {passwd, group};
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        int fd = open_in_root(dfd, names[i]);
        if (fd == -ENOENT || fd == -ENOTDIR)
            continue;
        if (fd < 0) {
            rc = fd;
            break;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            continue; /* not a regular file: treated as absent */
        }
        rc = read_fd(fd, KL_USERS_MAX, outs[i]);
        close(fd);
    }
    close(dfd);
    if (rc < 0) {
        free(*passwd);
        free(*group);
        *passwd = *group = NULL;
    }
    return rc;
}

static bool overlay_path_ok(const char *p)
{
    return p && p[0] == '/' && !strpbrk(p, ",:\n");
}

/* The longest directory that is a parent of every layer ("/a/b" for "/a/b/1", "/a/b/2"). */
static char *common_parent(const char *const *layers, size_t n)
{
    char *c = ck_xstrdup(layers[0]);
    char *slash = strrchr(c, '/');
    if (slash)
        *(slash == c ? slash + 1 : slash) = '\0';
    for (size_t i = 1; i < n; i++) {
        size_t cl = strlen(c);
        while (cl > 1 && !(strncmp(layers[i], c, cl) == 0 && layers[i][cl] == '/')) {
            char *s = strrchr(c, '/');
            if (!s || s == c) {
                c[1] = '\0';
                break;
            }
            *s = '\0';
            cl = strlen(c);
        }
    }
    return c;
}

int kl_rootfs_mount(const char *const *layers, size_t n, const char *upper, const char *work,
                    const char *target)
{
    if (!layers || n == 0 || n > 500 || !overlay_path_ok(upper) || !overlay_path_ok(work) ||
        !target || target[0] != '/')
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!overlay_path_ok(layers[i]))
            return -EINVAL;
    long page = sysconf(_SC_PAGESIZE);
    size_t limit = page > 0 ? (size_t)page - 1 : 4095;
    /* lowerdir lists the top layer first */
    CK_AUTOBUF struct ck_buf o = CK_BUF_INIT;
    ck_buf_puts(&o, "lowerdir=");
    for (size_t i = n; i-- > 0;)
        ck_buf_printf(&o, "%s%s", i + 1 == n ? "" : ":", layers[i]);
    ck_buf_printf(&o, ",upperdir=%s,workdir=%s", upper, work);
    if (o.len <= limit) {
        if (mount("overlay", target, "overlay", 0, o.data) < 0)
            return -errno;
        return 0;
    }
    /* too long: name the layers relative to their common parent, from a child living there */
    CK_AUTOFREE char *parent = common_parent(layers, n);
    size_t pl = strlen(parent);
    ck_buf_reset(&o);
    ck_buf_puts(&o, "lowerdir=");
    for (size_t i = n; i-- > 0;) {
        const char *rel = layers[i] + pl + (pl > 1 ? 1 : 0);
        if (pl > 1 && (strncmp(layers[i], parent, pl) != 0 || layers[i][pl] != '/'))
            return -E2BIG;
        ck_buf_printf(&o, "%s%s", i + 1 == n ? "" : ":", rel);
    }
    ck_buf_printf(&o, ",upperdir=%s,workdir=%s", upper, work);
    if (o.len > limit)
        return -E2BIG;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(pfd[0]);
        close(pfd[1]);
        return e;
    }
    if (pid == 0) {
        int e = 0;
        if (chdir(parent) < 0 || mount("overlay", target, "overlay", 0, o.data) < 0)
            e = errno;
        (void)!write(pfd[1], &e, sizeof(e));
        _exit(0);
    }
    close(pfd[1]);
    int e = EIO;
    ssize_t r;
    do {
        r = read(pfd[0], &e, sizeof(e));
    } while (r < 0 && errno == EINTR);
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return r == (ssize_t)sizeof(e) ? -e : -EIO;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

int kl_rootfs_umount(const char *target)
{
    if (!target)
        return -EINVAL;
    for (int i = 0; i < 10; i++) {
        if (umount2(target, UMOUNT_NOFOLLOW) == 0)
            return 0;
        if (errno == EINVAL || errno == ENOENT)
            return 0; /* not a mount point (any more) */
        if (errno != EBUSY)
            return -errno;
        nap_ms(50);
    }
    if (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
        return -errno;
    return 0;
}

/* ---- file helpers -----------------------------------------------------------------------------
 */

int kl_mkdir_p(const char *dir, mode_t mode)
{
    if (!dir || !*dir)
        return -EINVAL;
    CK_AUTOFREE char *p = ck_xstrdup(dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(p, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int kl_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    if (!path || (!data && len))
        return -EINVAL;
    char rnd[9];
    ck_rand_string(rnd, 8);
    CK_AUTOFREE char *tmp = ck_xasprintf("%s.tmp-%s", path, rnd);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    const char *p = data;
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        off += (size_t)n;
    }
    if (fchmod(fd, mode) < 0 && rc == 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int kl_read_file(const char *path, size_t max, char **out, size_t *len)
{
    if (!path || !out)
        return -EINVAL;
    *out = NULL;
    if (len)
        *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = read_fd(fd, max, out);
    close(fd);
    if (rc == 0 && len)
        *len = strlen(*out);
    return rc;
}

static __thread int rm_first_err;

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    int r = (flag == FTW_DP || flag == FTW_D) ? rmdir(p) : unlink(p);
    if (r < 0 && errno != ENOENT && rm_first_err == 0)
        rm_first_err = -errno;
    return 0;
}

int kl_rm_rf(const char *path)
{
    if (!path || !path[0] || strcmp(path, "/") == 0)
        return -EINVAL;
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
    rm_first_err = 0;
    if (nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && rm_first_err == 0)
        rm_first_err = -errno;
    return rm_first_err;
}

/* Decodes mountinfo's octal escapes (\040 for space) in place. */
static void unescape_mountinfo(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
            p[3] >= '0' && p[3] <= '7') {
            *o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
            p += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* Mount points at or below path, as newly allocated strings. */
static size_t mounts_under(const char *path, char ***out)
{
    *out = NULL;
    size_t n = 0, cap = 0, pl = strlen(path);
    while (pl > 1 && path[pl - 1] == '/')
        pl--;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return 0;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        /* id parent major:minor root mountpoint ... */
        char *save = NULL, *tok = strtok_r(line, " ", &save);
        for (int i = 0; tok && i < 4; i++)
            tok = strtok_r(NULL, " ", &save);
        if (!tok)
            continue;
        unescape_mountinfo(tok);
        if (strncmp(tok, path, pl) != 0 || (tok[pl] != '\0' && tok[pl] != '/'))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = ck_xrealloc(*out, cap * sizeof(char *));
        }
        (*out)[n++] = ck_xstrdup(tok);
    }
    free(line);
    fclose(f);
    return n;
}

bool kl_has_mounts_under(const char *path)
{
    if (!path)
        return false;
    char **m;
    size_t n = mounts_under(path, &m);
    for (size_t i = 0; i < n; i++)
        free(m[i]);
    free(m);
    return n > 0;
}

static int cmp_len_desc(const void *a, const void *b)
{
    size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
    return la < lb ? 1 : la > lb ? -1 : 0;
}

int kl_umount_all_under(const char *path)
{
    if (!path || !path[0] || strcmp(path, "/") == 0)
        return -EINVAL;
    int done = 0;
    for (int round = 0; round < 8; round++) { /* stacked mounts need one round each */
        char **m;
        size_t n = mounts_under(path, &m);
        if (n == 0)
            break;
        qsort(m, n, sizeof(char *), cmp_len_desc);
        for (size_t i = 0; i < n; i++) {
            if (umount2(m[i], MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                done++;
            free(m[i]);
        }
        free(m);
    }
    return done;
}

char *kl_new_id(void)
{
    unsigned char raw[32];
    ck_rand_bytes(raw, sizeof(raw));
    return ck_hex_encode(raw, sizeof(raw));
}

int kl_write_json_file(const char *path, const cJSON *obj)
{
    CK_AUTOFREE char *s = ck_json_print(obj, CK_JSON_INDENT);
    if (!s)
        return -EINVAL;
    return kl_write_file_atomic(path, s, strlen(s), 0600);
}

cJSON *kl_read_json_file(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (!path || kl_read_file(path, 1u << 20, &text, &len) < 0)
        return NULL;
    cJSON *j = ck_json_parse(text, len, NULL);
    free(text);
    return j;
}

cJSON *kl_kv_object(const char *const *kv, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < n; i++) {
        const char *eq = kv && kv[i] ? strchr(kv[i], '=') : NULL;
        if (!eq || eq == kv[i])
            continue;
        CK_AUTOFREE char *k = ck_xstrndup(kv[i], (size_t)(eq - kv[i]));
        cJSON_DeleteItemFromObjectCaseSensitive(o, k);
        cJSON_AddStringToObject(o, k, eq + 1);
    }
    return o;
}
