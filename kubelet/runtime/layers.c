/* layers.c - layer tarballs unpacked for overlayfs (see layers.h). */
#include "layers.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "registry.h"

#define READ_BUF (64 * 1024)
#define MAX_DEPTH 1024        /* path components of one entry */
#define MAX_REMOVE_DEPTH 1024 /* directory levels kl_remove_tree_at descends */
#define OPAQUE_XATTR "trusted.overlay.opaque"

/* A cleaned entry path: components pointing into buf. */
struct cpath {
    char *buf;
    char *c[MAX_DEPTH];
    int n;
};

struct dir_fixup {
    char *rel; /* "" for the root */
    struct timespec ts[2];
};

struct unpack {
    struct archive *raw; /* decompresses the blob */
    EVP_MD_CTX *md;      /* hashes the decompressed stream: the diff ID */
    char *buf;
    int rootfd;
    bool have_openat2;
    /* the last parent directory resolved, reused while entries stay in one directory */
    char *cache_rel;
    int cache_fd;
    bool cache_dirty; /* something was removed: resolutions may have changed */
    struct dir_fixup *fixups;
    size_t n_fixups;
    struct kl_layer_result *res;
    struct ck_error *err;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static int fail(struct unpack *x, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct unpack *x, int rc, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ck_error_set(x->err, 500, CK_REASON_INTERNAL, "%s", msg);
    return rc < 0 ? rc : -EIO;
}

/* Go-quoted copy of s for messages; caller frees. */
static char *quoted(const char *s)
{
    struct ck_buf b = CK_BUF_INIT;
    kl_go_quote(&b, s ? s : "");
    return ck_buf_detach(&b);
}

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static void cpath_free(struct cpath *p)
{
    free(p->buf);
    p->buf = NULL;
    p->n = 0;
}

/* Cleans name lexically (as Go's path.Clean under a root). Returns 0, -EXDEV when it climbs
 * above the root, -ENAMETOOLONG when too long or deep. */
static int cpath_clean(struct cpath *p, const char *name, int base_n, char *const *base)
{
    p->n = 0;
    p->buf = NULL;
    if (strlen(name) >= PATH_MAX)
        return -ENAMETOOLONG;
    for (int i = 0; i < base_n; i++)
        p->c[p->n++] = base[i];
    p->buf = ck_xstrdup(name);
    char *save = NULL;
    for (char *t = strtok_r(p->buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (!strcmp(t, "."))
            continue;
        if (!strcmp(t, "..")) {
            if (p->n == 0)
                return -EXDEV;
            p->n--;
            continue;
        }
        if (p->n >= MAX_DEPTH)
            return -ENAMETOOLONG;
        p->c[p->n++] = t;
    }
    return 0;
}

/* The first n components joined with '/', or "." for none; caller frees. */
static char *cpath_join(const struct cpath *p, int n)
{
    if (n <= 0)
        return ck_xstrdup(".");
    struct ck_buf b = CK_BUF_INIT;
    for (int i = 0; i < n; i++) {
        if (i)
            ck_buf_putc(&b, '/');
        ck_buf_puts(&b, p->c[i]);
    }
    return ck_buf_detach(&b);
}

/* Opens the directory rel below the root, resolving symlinks as if the root were "/".
 * Returns an fd or a negative errno. */
static int open_in_root(struct unpack *x, const char *rel)
{
    if (x->have_openat2) {
        struct open_how how = {
            .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        long fd;
        do {
            fd = syscall(SYS_openat2, x->rootfd, rel, &how, sizeof(how));
        } while (fd < 0 && errno == EAGAIN);
        if (fd >= 0)
            return (int)fd;
        if (errno != ENOSYS && errno != EPERM)
            return -errno;
        x->have_openat2 = false;
    }
    /* Without openat2: walk component by component and refuse symlinks altogether. */
    int fd = fcntl(x->rootfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    CK_AUTOFREE char *copy = ck_xstrdup(rel);
    char *save = NULL;
    for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (!strcmp(t, "."))
            continue;
        int next = openat(fd, t, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(fd);
        if (next < 0)
            return e == ELOOP ? -ENOTDIR : -e;
        fd = next;
    }
    return fd;
}

static void cache_drop(struct unpack *x)
{
    if (x->cache_fd >= 0)
        close(x->cache_fd);
    x->cache_fd = -1;
    free(x->cache_rel);
    x->cache_rel = NULL;
    x->cache_dirty = false;
}

static int set_opaque(int dirfd)
{
    if (fsetxattr(dirfd, OPAQUE_XATTR, "y", 1, 0) < 0)
        return -errno;
    return 0;
}

/* The directory holding the entry p (its first n components), made when missing. The fd is
 * borrowed from the cache and stays valid until the next call. */
static int parent_fd(struct unpack *x, const struct cpath *p, int n, int *out)
{
    if (x->cache_dirty)
        cache_drop(x);
    CK_AUTOFREE char *rel = cpath_join(p, n);
    if (x->cache_rel && !strcmp(x->cache_rel, rel)) {
        *out = x->cache_fd;
        return 0;
    }
    int fd = open_in_root(x, rel);
    if (fd == -ENOENT || fd == -ENOTDIR) {
        /* make the missing directories one by one */
        int prev = fcntl(x->rootfd, F_DUPFD_CLOEXEC, 0);
        if (prev < 0)
            return -errno;
        fd = prev;
        for (int i = 0; i < n; i++) {
            CK_AUTOFREE char *sub = cpath_join(p, i + 1);
            int next = open_in_root(x, sub);
            struct stat st;
            if (next == -ENOTDIR && fstatat(prev, p->c[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                is_whiteout(&st)) {
                /* a directory replacing a whiteout of this layer: opaque */
                if (unlinkat(prev, p->c[i], 0) == 0 && mkdirat(prev, p->c[i], 0755) == 0) {
                    next = open_in_root(x, sub);
                    if (next >= 0 && set_opaque(next) < 0) {
                        int e = -errno;
                        close(next);
                        next = e;
                    }
                }
            } else if (next == -ENOENT) {
                if (mkdirat(prev, p->c[i], 0755) < 0) {
                    int e = errno;
                    close(prev);
                    CK_AUTOFREE char *q = quoted(sub);
                    if (e == EEXIST)
                        return fail(x, -ENOTDIR,
                                    "cannot make directory %s: a dangling symlink is in the way",
                                    q);
                    return fail(x, -e, "mkdir %s: %s", q, strerror(e));
                }
                next = open_in_root(x, sub);
            }
            close(prev);
            if (next < 0) {
                CK_AUTOFREE char *q = quoted(sub);
                return fail(x, next, "open %s: %s", q, strerror(-next));
            }
            prev = next;
            fd = next;
        }
    } else if (fd < 0) {
        CK_AUTOFREE char *q = quoted(rel);
        return fail(x, fd, "open %s: %s", q, strerror(-fd));
    }
    cache_drop(x);
    x->cache_fd = fd;
    x->cache_rel = rel;
    rel = NULL;
    *out = fd;
    return 0;
}

static int rm_tree(int dirfd, const char *name, int depth)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
    if (depth >= MAX_REMOVE_DEPTH)
        return -ELOOP;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int r = rm_tree(fd, de->d_name, depth + 1);
        if (r < 0 && rc == 0)
            rc = r;
    }
    closedir(d);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && rc == 0)
        rc = -errno;
    return rc;
}

int kl_remove_tree_at(int dirfd, const char *name)
{
    return rm_tree(dirfd, name, 0);
}

/* ---- metadata ------------------------------------------------------------------------------ */

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
    if (archive_entry_mtime_is_set(e)) {
        ts[1].tv_sec = archive_entry_mtime(e);
        ts[1].tv_nsec = archive_entry_mtime_nsec(e);
    } else {
        ts[1].tv_sec = 0;
        ts[1].tv_nsec = UTIME_OMIT;
    }
    if (archive_entry_atime_is_set(e)) {
        ts[0].tv_sec = archive_entry_atime(e);
        ts[0].tv_nsec = archive_entry_atime_nsec(e);
    } else {
        ts[0] = ts[1];
    }
}

static int entry_owner(struct unpack *x, struct archive_entry *e, uid_t *uid, gid_t *gid)
{
    la_int64_t u = archive_entry_uid(e), g = archive_entry_gid(e);
    if (u < 0 || g < 0 || u >= (la_int64_t)UINT32_MAX || g >= (la_int64_t)UINT32_MAX) {
        CK_AUTOFREE char *q = quoted(archive_entry_pathname(e));
        return fail(x, -EINVAL, "invalid owner %lld:%lld of %s", (long long)u, (long long)g, q);
    }
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    return 0;
}

/* Owner, mode (after chown, which clears setuid) and the xattrs we keep, on an open file. */
static int apply_meta(struct unpack *x, int fd, struct archive_entry *e)
{
    uid_t uid = 0;
    gid_t gid = 0;
    int rc = entry_owner(x, e, &uid, &gid);
    if (rc < 0)
        return rc;
    if (fchown(fd, uid, gid) < 0 && errno != EPERM)
        return fail(x, -errno, "chown %s: %s", archive_entry_pathname(e), strerror(errno));
    if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
        return fail(x, -errno, "chmod %s: %s", archive_entry_pathname(e), strerror(errno));
    const char *name;
    const void *value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        if (!name || (strcmp(name, "security.capability") && strncmp(name, "user.", 5)))
            continue;
        if (fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP && errno != EOPNOTSUPP &&
            errno != EPERM)
            return fail(x, -errno, "setxattr %s on %s: %s", name, archive_entry_pathname(e),
                        strerror(errno));
    }
    return 0;
}

/* Owner, mode and times of something we cannot open (symlink, device, FIFO). */
static int apply_meta_at(struct unpack *x, int pfd, const char *base, struct archive_entry *e,
                         bool is_link)
{
    uid_t uid = 0;
    gid_t gid = 0;
    int rc = entry_owner(x, e, &uid, &gid);
    if (rc < 0)
        return rc;
    if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM)
        return fail(x, -errno, "lchown %s: %s", archive_entry_pathname(e), strerror(errno));
    if (!is_link && fchmodat(pfd, base, archive_entry_perm(e) & 07777, 0) < 0)
        return fail(x, -errno, "chmod %s: %s", archive_entry_pathname(e), strerror(errno));
    struct timespec ts[2];
    entry_times(e, ts);
    utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
    return 0;
}

static void add_fixup(struct unpack *x, const struct cpath *p, int n, struct archive_entry *e)
{
    struct timespec ts[2];
    entry_times(e, ts);
    if (ts[1].tv_nsec == UTIME_OMIT)
        return;
    x->fixups = ck_xrealloc(x->fixups, (x->n_fixups + 1) * sizeof(*x->fixups));
    x->fixups[x->n_fixups].rel = n ? cpath_join(p, n) : ck_xstrdup(".");
    memcpy(x->fixups[x->n_fixups].ts, ts, sizeof(ts));
    x->n_fixups++;
}

/* ---- entries ------------------------------------------------------------------------------- */

static int write_file(struct unpack *x, struct archive *a, int fd, struct archive_entry *e)
{
    const void *buf;
    size_t size;
    la_int64_t off, end = 0;
    int r;
    while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
        const char *p = buf;
        size_t done = 0;
        while (done < size) {
            ssize_t w = pwrite(fd, p + done, size - done, (off_t)off + (off_t)done);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return fail(x, -errno, "write %s: %s", archive_entry_pathname(e), strerror(errno));
            }
            done += (size_t)w;
        }
        if (off + (la_int64_t)size > end)
            end = off + (la_int64_t)size;
        x->res->bytes += (int64_t)size;
    }
    if (r != ARCHIVE_EOF)
        return fail(x, -EIO, "failed to read layer: %s", archive_error_string(a));
    la_int64_t want = archive_entry_size_is_set(e) ? archive_entry_size(e) : end;
    if (want > end && ftruncate(fd, (off_t)want) < 0) /* a sparse file's trailing hole */
        return fail(x, -errno, "truncate %s: %s", archive_entry_pathname(e), strerror(errno));
    return 0;
}

static int do_hardlink(struct unpack *x, struct archive_entry *e, int pfd, const char *base)
{
    const char *link = archive_entry_hardlink(e);
    struct cpath t;
    int rc = cpath_clean(&t, link, 0, NULL);
    if (rc < 0 || t.n == 0) {
        cpath_free(&t);
        CK_AUTOFREE char *qn = quoted(archive_entry_pathname(e));
        CK_AUTOFREE char *ql = quoted(link);
        return fail(x, -EXDEV, "invalid hardlink %s -> %s", qn, ql);
    }
    CK_AUTOFREE char *trel = cpath_join(&t, t.n - 1);
    int tpfd = open_in_root(x, trel);
    struct stat tst, cur;
    if (tpfd < 0 || fstatat(tpfd, t.c[t.n - 1], &tst, AT_SYMLINK_NOFOLLOW) < 0 ||
        S_ISDIR(tst.st_mode)) {
        if (tpfd >= 0)
            close(tpfd);
        cpath_free(&t);
        CK_AUTOFREE char *qn = quoted(archive_entry_pathname(e));
        CK_AUTOFREE char *ql = quoted(link);
        return fail(x, -ENOENT, "invalid hardlink %s -> %s: target is not an earlier entry", qn,
                    ql);
    }
    if (fstatat(pfd, base, &cur, AT_SYMLINK_NOFOLLOW) == 0) {
        if (cur.st_dev == tst.st_dev && cur.st_ino == tst.st_ino) {
            close(tpfd);
            cpath_free(&t);
            return 0;
        }
        if (S_ISDIR(cur.st_mode))
            x->cache_dirty = true;
        kl_remove_tree_at(pfd, base);
    }
    rc = 0;
    if (linkat(tpfd, t.c[t.n - 1], pfd, base, 0) < 0)
        rc = fail(x, -errno, "link %s: %s", archive_entry_pathname(e), strerror(errno));
    close(tpfd);
    cpath_free(&t);
    return rc;
}

/* Docker's rule: the target read from the symlink's directory must stay inside the root. */
static int check_symlink(struct unpack *x, const struct cpath *p, struct archive_entry *e,
                         const char *target)
{
    struct cpath t;
    int rc = cpath_clean(&t, target, p->n - 1, p->c);
    cpath_free(&t);
    if (rc < 0) {
        CK_AUTOFREE char *qn = quoted(archive_entry_pathname(e));
        CK_AUTOFREE char *qt = quoted(target);
        return fail(x, -EXDEV, "invalid symlink %s -> %s", qn, qt);
    }
    return 0;
}

static int do_whiteout(struct unpack *x, const struct cpath *p, const char *base)
{
    int pfd;
    int rc = parent_fd(x, p, p->n - 1, &pfd);
    if (rc < 0)
        return rc;
    if (!strcmp(base, ".wh..wh..opq")) {
        if (set_opaque(pfd) < 0)
            return fail(x, -errno, "setxattr %s: %s", OPAQUE_XATTR, strerror(errno));
        return 0;
    }
    if (!strncmp(base, ".wh..wh.", 8))
        return 0; /* AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs) */
    const char *target = base + 4;
    if (!*target || !strcmp(target, ".") || !strcmp(target, ".."))
        return fail(x, -EINVAL, "invalid whiteout %s", base);
    struct stat st;
    if (fstatat(pfd, target, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return 0; /* an entry of this very layer, which whiteouts do not hide */
    if (mknodat(pfd, target, S_IFCHR | 0, makedev(0, 0)) < 0)
        return fail(x, -errno, "mknod whiteout %s: %s", target, strerror(errno));
    return 0;
}

static int do_entry(struct unpack *x, struct archive *a, struct archive_entry *e)
{
    const char *name = archive_entry_pathname(e);
    if (!name)
        return fail(x, -EINVAL, "layer entry without a name");
    struct cpath p;
    int rc = cpath_clean(&p, name, 0, NULL);
    if (rc < 0) {
        cpath_free(&p);
        CK_AUTOFREE char *q = quoted(name);
        if (rc == -EXDEV)
            return fail(x, rc, "path %s is outside of the layer root", q);
        return fail(x, rc, "path %s is too long", q);
    }
    mode_t type = archive_entry_filetype(e);
    if (p.n == 0) {
        /* the root itself ("./"): only its metadata */
        if (type == AE_IFDIR && !archive_entry_hardlink(e)) {
            rc = apply_meta(x, x->rootfd, e);
            if (rc == 0)
                add_fixup(x, &p, 0, e);
        }
        cpath_free(&p);
        return rc;
    }
    const char *base = p.c[p.n - 1];
    if (!strncmp(base, ".wh.", 4)) {
        rc = do_whiteout(x, &p, base);
        cpath_free(&p);
        return rc;
    }
    int pfd;
    rc = parent_fd(x, &p, p.n - 1, &pfd);
    if (rc < 0) {
        cpath_free(&p);
        return rc;
    }
    if (archive_entry_hardlink(e)) {
        rc = do_hardlink(x, e, pfd, base);
        cpath_free(&p);
        return rc;
    }
    struct stat st;
    bool exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
    bool replaced_whiteout = exists && is_whiteout(&st);
    bool keep_dir = exists && type == AE_IFDIR && S_ISDIR(st.st_mode);
    if (exists && !keep_dir) {
        if (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
            x->cache_dirty = true;
        rc = kl_remove_tree_at(pfd, base);
        if (rc < 0) {
            rc = fail(x, rc, "remove %s: %s", name, strerror(-rc));
            goto out;
        }
    }
    struct timespec ts[2];
    entry_times(e, ts);
    switch (type) {
    case AE_IFDIR: {
        if (!keep_dir && mkdirat(pfd, base, 0700) < 0) {
            rc = fail(x, -errno, "mkdir %s: %s", name, strerror(errno));
            break;
        }
        int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            rc = fail(x, -errno, "open %s: %s", name, strerror(errno));
            break;
        }
        rc = apply_meta(x, fd, e);
        if (rc == 0 && replaced_whiteout && set_opaque(fd) < 0)
            rc = fail(x, -errno, "setxattr %s: %s", OPAQUE_XATTR, strerror(errno));
        close(fd);
        if (rc == 0)
            add_fixup(x, &p, p.n, e);
        break;
    }
    case AE_IFREG: {
        int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            rc = fail(x, -errno, "create %s: %s", name, strerror(errno));
            break;
        }
        rc = write_file(x, a, fd, e);
        if (rc == 0)
            rc = apply_meta(x, fd, e);
        if (rc == 0)
            futimens(fd, ts);
        close(fd);
        break;
    }
    case AE_IFLNK: {
        const char *target = archive_entry_symlink(e);
        if (!target || !*target) {
            rc = fail(x, -EINVAL, "symlink %s without a target", name);
            break;
        }
        rc = check_symlink(x, &p, e, target);
        if (rc < 0)
            break;
        if (symlinkat(target, pfd, base) < 0) {
            rc = fail(x, -errno, "symlink %s: %s", name, strerror(errno));
            break;
        }
        rc = apply_meta_at(x, pfd, base, e, true);
        break;
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
        dev_t dev =
            type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        if (mknodat(pfd, base, type | (archive_entry_perm(e) & 0777), dev) < 0) {
            rc = fail(x, -errno, "mknod %s: %s", name, strerror(errno));
            break;
        }
        rc = apply_meta_at(x, pfd, base, e, false);
        break;
    }
    case AE_IFSOCK:
        break; /* sockets are not unpacked (as upstream) */
    default:
        rc = fail(x, -EINVAL, "unsupported entry type %#o for %s", (unsigned)type, name);
    }
out:
    cpath_free(&p);
    return rc;
}

/* ---- driving libarchive -------------------------------------------------------------------- */

static la_ssize_t raw_read(struct archive *tar, void *ud, const void **out)
{
    struct unpack *x = ud;
    la_ssize_t n = archive_read_data(x->raw, x->buf, READ_BUF);
    if (n < 0) {
        archive_set_error(tar, EIO, "%s", archive_error_string(x->raw));
        return -1;
    }
    if (n > 0)
        EVP_DigestUpdate(x->md, x->buf, (size_t)n);
    *out = x->buf;
    return n;
}

static int unpack_stream(struct unpack *x, const char *blob_path)
{
    x->raw = archive_read_new();
    archive_read_support_filter_all(x->raw);
    archive_read_support_format_raw(x->raw);
    struct archive_entry *re;
    if (archive_read_open_filename(x->raw, blob_path, READ_BUF) != ARCHIVE_OK ||
        archive_read_next_header(x->raw, &re) != ARCHIVE_OK)
        return fail(x, -EIO, "failed to read layer: %s",
                    archive_error_string(x->raw) ? archive_error_string(x->raw) : "empty layer");
    struct archive *tar = archive_read_new();
    archive_read_support_format_tar(tar);
    int rc = 0;
    if (archive_read_open(tar, x, NULL, raw_read, NULL) != ARCHIVE_OK) {
        rc = fail(x, -EIO, "failed to read layer: %s", archive_error_string(tar));
    } else {
        struct archive_entry *e;
        int r;
        while ((r = archive_read_next_header(tar, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
            x->res->entries++;
            rc = do_entry(x, tar, e);
            if (rc < 0)
                break;
        }
        if (rc == 0 && r != ARCHIVE_EOF)
            rc = fail(x, -EIO, "failed to read layer: %s",
                      archive_error_string(tar) ? archive_error_string(tar) : "truncated archive");
    }
    archive_read_free(tar);
    if (rc < 0)
        return rc;
    /* the rest of the stream (tar padding) still counts for the diff ID */
    la_ssize_t n;
    while ((n = archive_read_data(x->raw, x->buf, READ_BUF)) > 0)
        EVP_DigestUpdate(x->md, x->buf, (size_t)n);
    if (n < 0)
        return fail(x, -EIO, "failed to read layer: %s", archive_error_string(x->raw));
    return 0;
}

int kl_layer_unpack(const char *blob_path, const char *dir, struct kl_layer_result *res,
                    struct ck_error *err)
{
    memset(res, 0, sizeof(*res));
    struct unpack x = {.rootfd = -1, .cache_fd = -1, .have_openat2 = true, .res = res, .err = err};
    x.rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (x.rootfd < 0)
        return fail(&x, -errno, "open %s: %s", dir, strerror(errno));
    fchmod(x.rootfd, 0755);
    x.buf = ck_xmalloc(READ_BUF);
    x.md = EVP_MD_CTX_new();
    int rc;
    if (!x.md || EVP_DigestInit_ex(x.md, EVP_sha256(), NULL) != 1)
        rc = fail(&x, -ENOMEM, "sha256 unavailable");
    else
        rc = unpack_stream(&x, blob_path);
    /* directory times last: every entry written into a directory changed its mtime */
    for (size_t i = x.n_fixups; i-- > 0;) {
        if (rc == 0) {
            int fd = open_in_root(&x, x.fixups[i].rel);
            if (fd >= 0) {
                futimens(fd, x.fixups[i].ts);
                close(fd);
            }
        }
        free(x.fixups[i].rel);
    }
    free(x.fixups);
    if (rc == 0) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(x.md, md, &len);
        int off = snprintf(res->diff_id, sizeof(res->diff_id), "sha256:");
        for (unsigned int i = 0; i < len && off + 3 <= (int)sizeof(res->diff_id); i++)
            off += snprintf(res->diff_id + off, sizeof(res->diff_id) - (size_t)off, "%02x", md[i]);
    }
    cache_drop(&x);
    if (x.raw)
        archive_read_free(x.raw);
    EVP_MD_CTX_free(x.md);
    free(x.buf);
    close(x.rootfd);
    return rc;
}
