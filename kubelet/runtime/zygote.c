/* zygote.c - the pre-started shim launcher (see zygote.h). */
#include "kubelet/runtime/zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kubelet/runtime/runc.h"
#include "mem.h"

#define ZYGOTE_FD 3
#define ZYGOTE_READY_MS 10000

struct kl_zygote {
    pthread_mutex_t mu; /* guards fd and dead */
    int fd;             /* our end of the socket */
    pid_t pid;
    bool dead;
};

int kl_zygote_start(struct kl_zygote **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    /* everything the child needs is made before the fork: it only execs */
    char *space = ck_xmalloc(KL_ZYGOTE_ARG_SPACE + 1);
    memset(space, ' ', KL_ZYGOTE_ARG_SPACE);
    memcpy(space, "zygote", 6);
    space[KL_ZYGOTE_ARG_SPACE] = '\0';
    char *const argv[] = {(char *)KL_SHIM_ARGV0, space, NULL};
    char **envp = kl_shim_environ(KL_SHIM_ENV "=zygote");
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        kl_child_signals_default();
        /* the zygote dies with its runtime's process */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(126);
        if (null_fd >= 0)
            dup2(null_fd, 0);
        if (sv[1] == ZYGOTE_FD)
            fcntl(ZYGOTE_FD, F_SETFD, 0);
        else if (dup2(sv[1], ZYGOTE_FD) < 0)
            _exit(126);
        kl_child_close_from(ZYGOTE_FD + 1);
        execve("/proc/self/exe", argv, envp);
        _exit(127);
    }
    int e = pid < 0 ? -errno : 0;
    free(space);
    free(envp);
    if (null_fd >= 0)
        close(null_fd);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return e;
    }
    /* it says "R" once it serves */
    struct pollfd p = {sv[0], POLLIN, 0};
    char c = 0;
    int r;
    do {
        r = poll(&p, 1, ZYGOTE_READY_MS);
    } while (r < 0 && errno == EINTR);
    if (r <= 0 || read(sv[0], &c, 1) != 1 || c != 'R') {
        close(sv[0]);
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        return -EIO;
    }
    struct kl_zygote *z = ck_xcalloc(1, sizeof(*z));
    pthread_mutex_init(&z->mu, NULL);
    z->fd = sv[0];
    z->pid = pid;
    *out = z;
    return 0;
}

void kl_zygote_free(struct kl_zygote *z)
{
    if (!z)
        return;
    close(z->fd); /* the zygote sees the end of its socket and exits */
    int st;
    while (waitpid(z->pid, &st, 0) < 0 && errno == EINTR) {
    }
    pthread_mutex_destroy(&z->mu);
    free(z);
}

int kl_zygote_pid(const struct kl_zygote *z)
{
    return z ? (int)z->pid : -1;
}

int kl_zygote_spawn(struct kl_zygote *z, const char *dir, int status_fd, int log_fd, int null_fd)
{
    if (!z || !dir || dir[0] != '/' || status_fd < 0 || log_fd < 0 || null_fd < 0)
        return -EINVAL;
    size_t len = strlen(dir);
    if (len >= KL_ZYGOTE_ARG_SPACE)
        return -ENAMETOOLONG;
    int fds[3] = {status_fd, log_fd, null_fd};
    union {
        char buf[CMSG_SPACE(sizeof(fds))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct iovec iov = {(void *)dir, len};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(cm), fds, sizeof(fds));
    int rc = 0;
    pthread_mutex_lock(&z->mu);
    if (z->dead) {
        rc = -EPIPE;
    } else {
        ssize_t n;
        do {
            n = sendmsg(z->fd, &msg, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n != (ssize_t)len) {
            z->dead = true;
            rc = -EPIPE;
        }
    }
    pthread_mutex_unlock(&z->mu);
    return rc;
}

/* ---- zygote mode ------------------------------------------------------------------------ */

/* one request: forks a detached shim for dir with the three descriptors */
static void serve(char *argv1, size_t argv1_space, const char *dir, size_t len, const int fds[3])
{
    pid_t a = fork();
    if (a == 0) {
        setsid();
        pid_t b = fork();
        if (b != 0)
            _exit(b < 0 ? 1 : 0);
        kl_child_signals_default();
        dup2(fds[2], 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        dup2(fds[0], ZYGOTE_FD);
        kl_child_close_from(ZYGOTE_FD + 1);
        if (chdir("/") < 0)
            _exit(126);
        /* the command line reads "ckube-kl-shim <dir>", as an exec'd shim's */
        char copy[KL_ZYGOTE_ARG_SPACE];
        memcpy(copy, dir, len);
        copy[len] = '\0';
        memset(argv1, 0, argv1_space);
        memcpy(argv1, copy, len);
        _exit(kl_shim_main(copy));
    }
    if (a < 0) {
        dprintf(fds[0], "ERR cannot start the container shim: %s\n", strerror(errno));
        return;
    }
    int st;
    while (waitpid(a, &st, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        dprintf(fds[0], "ERR cannot start the container shim\n");
}

int kl_zygote_main(char *argv1, size_t argv1_space)
{
    signal(SIGPIPE, SIG_IGN);
    if (!argv1 || argv1_space < KL_ZYGOTE_ARG_SPACE || write(ZYGOTE_FD, "R", 1) != 1)
        return 1;
    for (;;) {
        char dir[KL_ZYGOTE_ARG_SPACE];
        union {
            char buf[CMSG_SPACE(3 * sizeof(int))];
            struct cmsghdr align;
        } u;
        struct iovec iov = {dir, sizeof(dir) - 1};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf)};
        ssize_t n = recvmsg(ZYGOTE_FD, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? 0 : 1;
        int fds[3] = {-1, -1, -1};
        size_t nfds = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                continue;
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                if (nfds < 3)
                    fds[nfds++] = fd;
                else
                    close(fd);
            }
        }
        bool ok = nfds == 3 && !(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) && dir[0] == '/' &&
                  memchr(dir, '\0', (size_t)n) == NULL;
        if (ok)
            serve(argv1, argv1_space, dir, (size_t)n, fds);
        else if (nfds > 0)
            dprintf(fds[0], "ERR bad request to the container shim launcher\n");
        for (size_t i = 0; i < nfds; i++)
            close(fds[i]);
    }
}
