/* Integration tests of the pod network (kubelet/cni): the CNI runtime side, our in-process
 * "ckube-bridge" plugin and its re-executed plugin mode, and Debian's containernetworking
 * plugins through the same interface - on REAL network namespaces (needs root; skipped
 * otherwise).
 *
 * Layout: one "node" namespace (ckcni-<pid>-node) that this process enters for the whole run, so
 * every bridge, veth and sysctl lands there and nothing touches the machine's own namespace; one
 * namespace per pod (ckcni-<pid>-<name>) under /run/netns. Traffic is tested with raw ICMP echo
 * and a UDP echo from children that setns() into the pod namespaces. Everything made is removed
 * on every exit path: at group teardown, at exit, on SIGINT/SIGTERM/SIGHUP, and namespaces of a
 * crashed earlier run (dead pid) are swept at start.
 *
 * The test binary doubles as a CNI plugin the way the kubelet will: run under a name ending in
 * "bridge" (a symlink in the test's bin dir) main() hands over to kl_cni_plugin_main.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "kubelet/cni/bridge.h"
#include "kubelet/cni/cni.h"
#include "kubelet/cni/ipam.h"
#include "mem.h"

#define NETNS_DIR "/run/netns"
#define MAX_NS 64
#define MAX_CHILDREN 64
#define MAIN_NET "cktest"
#define MAIN_CONF                                                                                  \
    "{\"cniVersion\":\"1.0.0\",\"name\":\"" MAIN_NET "\",\"plugins\":[{\"type\":\"ckube-bridge\"," \
    "\"bridge\":\"cni0\",\"isGateway\":true,\"isDefaultGateway\":true,\"hairpinMode\":true,"       \
    "\"mtu\":1400,\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.244.77.0/"       \
    "24\"}]]}}]}"

/* ---- fixture state (also read by the signal handler: plain arrays only) ---- */

static struct {
    bool ready;
    char prefix[32]; /* "ckcni-<pid>-" */
    char tmp[256];   /* /tmp/ckcni-<pid>-data */
    char conf_dir[512];
    char bin_dir[512];
    char node[PATH_MAX];       /* node namespace path */
    int root_fd;               /* the namespace we came from */
    char ns[MAX_NS][PATH_MAX]; /* every namespace file we bind-mounted */
    volatile sig_atomic_t n_ns;
    pid_t children[MAX_CHILDREN];
    struct kl_cni *cni;
} T = {.root_fd = -1};

static void remove_ns_file(const char *path)
{
    umount2(path, MNT_DETACH);
    unlink(path);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Async-signal-safe part of the clean-up: children and namespaces. */
static void cleanup_ns(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (T.children[i] > 0) {
            kill(T.children[i], SIGKILL);
            waitpid(T.children[i], NULL, 0);
            T.children[i] = 0;
        }
    }
    if (T.root_fd >= 0)
        setns(T.root_fd, CLONE_NEWNET);
    for (int i = T.n_ns - 1; i >= 0; i--)
        remove_ns_file(T.ns[i]);
    T.n_ns = 0;
}

static void cleanup_all(void)
{
    cleanup_ns();
    if (T.tmp[0]) {
        nftw(T.tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        T.tmp[0] = '\0';
    }
    if (T.root_fd >= 0) {
        close(T.root_fd);
        T.root_fd = -1;
    }
}

static void on_signal(int sig)
{
    cleanup_ns();
    /* the temporary dir with async-signal-safe calls only: a child running rm */
    if (T.tmp[0]) {
        pid_t pid = fork();
        if (pid == 0) {
            char *const argv[] = {(char *)"rm", (char *)"-rf", T.tmp, NULL};
            char *const envp[] = {NULL};
            execve("/bin/rm", argv, envp);
            _exit(127);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Removes what a crashed earlier run (its pid gone) left behind. */
static void sweep_stale(void)
{
    const char *dirs[] = {NETNS_DIR, "/tmp"};
    for (size_t d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir)
            continue;
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            int pid;
            if (sscanf(de->d_name, "ckcni-%d-", &pid) != 1 || pid <= 0 || pid == getpid())
                continue;
            if (kill(pid, 0) == 0 || errno != ESRCH)
                continue;
            char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s/%s", dirs[d], de->d_name);
            if (d == 0)
                remove_ns_file(path);
            else
                nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        }
        closedir(dir);
    }
}

static void track_child(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (T.children[i] == 0) {
            T.children[i] = pid;
            return;
        }
    }
}

/* Waits for a tracked child; returns its exit status (-1 when it did not exit normally). */
static int reap(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (T.children[i] == pid)
            T.children[i] = 0;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Creates namespace <prefix><name> (in a child, so ours does not change) and returns its path
 * in out. */
static int netns_create(const char *name, char *out, size_t size)
{
    if (T.n_ns >= MAX_NS)
        return -ENOSPC;
    mkdir(NETNS_DIR, 0755);
    snprintf(out, size, NETNS_DIR "/%s%s", T.prefix, name);
    int fd = open(out, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0)
        return -errno;
    close(fd);
    snprintf(T.ns[T.n_ns], sizeof(T.ns[0]), "%s", out);
    T.n_ns++;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        if (unshare(CLONE_NEWNET) < 0 || mount("/proc/self/ns/net", out, "none", MS_BIND, NULL) < 0)
            _exit(1);
        _exit(0);
    }
    track_child(pid);
    return reap(pid) == 0 ? 0 : -EIO;
}

/* Removes one namespace early (what a pod teardown does before a late DEL). */
static void netns_delete(const char *path)
{
    for (int i = 0; i < T.n_ns; i++) {
        if (strcmp(T.ns[i], path) == 0) {
            remove_ns_file(path);
            memmove(&T.ns[i], &T.ns[i + 1], (size_t)(T.n_ns - i - 1) * sizeof(T.ns[0]));
            T.n_ns--;
            return;
        }
    }
}

/* Runs fn in a forked child that entered the namespace at path; the child may write up to
 * outsize bytes of answer. Returns fn's exit status (or -1), *outlen what it wrote. */
typedef int (*ns_fn)(void *arg, int outfd);

static int run_in_ns(const char *path, ns_fn fn, void *arg, void *out, size_t outsize,
                     size_t *outlen)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(p[0]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
            _exit(90);
        _exit(fn(arg, p[1]));
    }
    track_child(pid);
    close(p[1]);
    size_t got = 0;
    for (;;) {
        ssize_t n = read(p[0], (char *)out + got, outsize > got ? outsize - got : 0);
        if (n <= 0 || outsize == got)
            break;
        got += (size_t)n;
    }
    close(p[0]);
    if (outlen)
        *outlen = got;
    return reap(pid);
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static bool file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static uint32_t ip4(const char *s)
{
    uint32_t v = 0;
    assert_int_equal(kl_ipam_parse_ip4(s, &v), 0);
    return v;
}

/* ---- what runs inside the namespaces ---- */

struct if_addr {
    uint32_t addr, mask;
    int up;
};

/* The IPv4 address, netmask and up flag of an interface. */
static int child_if_addr(void *arg, int outfd)
{
    const char *ifname = arg;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    struct if_addr r = {0};
    if (ioctl(s, SIOCGIFADDR, &ifr) < 0)
        return 2;
    r.addr = ntohl(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr);
    if (ioctl(s, SIOCGIFNETMASK, &ifr) < 0)
        return 3;
    r.mask = ntohl(((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return 4;
    r.up = (ifr.ifr_flags & IFF_UP) != 0;
    close(s);
    return write(outfd, &r, sizeof(r)) == sizeof(r) ? 0 : 5;
}

/* The default route's gateway and interface, from /proc/net/route of the namespace. */
struct def_route {
    uint32_t gw;
    char dev[16];
};

static int child_default_route(void *arg, int outfd)
{
    (void)arg;
    FILE *f = fopen("/proc/self/net/route", "r");
    if (!f)
        return 2;
    char line[256];
    struct def_route r = {0};
    int found = 0;
    while (fgets(line, sizeof(line), f)) {
        char dev[16];
        unsigned dst, gw;
        if (sscanf(line, "%15s %x %x", dev, &dst, &gw) == 3 && dst == 0) {
            r.gw = ntohl(gw);
            snprintf(r.dev, sizeof(r.dev), "%s", dev);
            found = 1;
        }
    }
    fclose(f);
    if (!found)
        return 1;
    return write(outfd, &r, sizeof(r)) == sizeof(r) ? 0 : 5;
}

static uint16_t icmp_sum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

/* ICMP echo to *(uint32_t *)arg with a raw socket: 0 when a reply came back within 2 s. */
static int child_ping(void *arg, int outfd)
{
    (void)outfd;
    uint32_t dst = *(uint32_t *)arg;
    int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (s < 0)
        return 2;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(dst)};
    uint16_t id = (uint16_t)getpid();
    for (int attempt = 0; attempt < 4; attempt++) {
        unsigned char pkt[64] = {0};
        struct icmphdr *h = (struct icmphdr *)pkt;
        h->type = ICMP_ECHO;
        h->un.echo.id = htons(id);
        h->un.echo.sequence = htons((uint16_t)attempt);
        memcpy(pkt + sizeof(*h), "ckcni-ping", 10);
        h->checksum = icmp_sum(pkt, sizeof(pkt));
        if (sendto(s, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
            return 3;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            struct timespec t1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            long waited = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
            if (waited >= 500)
                break;
            struct pollfd p = {.fd = s, .events = POLLIN};
            if (poll(&p, 1, (int)(500 - waited)) <= 0)
                break;
            unsigned char buf[1500];
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
            if (n < (ssize_t)sizeof(struct iphdr))
                continue;
            size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
            if ((size_t)n < ihl + sizeof(struct icmphdr))
                continue;
            struct icmphdr *r = (struct icmphdr *)(buf + ihl);
            if (r->type == ICMP_ECHOREPLY && ntohs(r->un.echo.id) == id &&
                from.sin_addr.s_addr == htonl(dst))
                return 0;
        }
    }
    return 1;
}

static int ping(const char *ns, const char *dst)
{
    uint32_t a = ip4(dst);
    return run_in_ns(ns, child_ping, &a, NULL, 0, NULL);
}

/* UDP echo server: binds, signals readiness on outfd, echoes one datagram. */
struct udp_arg {
    uint32_t addr;
    uint16_t port;
};

static int child_udp_echo(void *arg, int outfd)
{
    struct udp_arg *u = arg;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(u->port), .sin_addr.s_addr = htonl(u->addr)};
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
        return 2;
    if (write(outfd, "R", 1) != 1)
        return 3;
    close(outfd);
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, 5000) <= 0)
        return 4;
    char buf[256];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
    if (n <= 0 || sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) != n)
        return 5;
    return 0;
}

static int child_udp_client(void *arg, int outfd)
{
    struct udp_arg *u = arg;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(u->port), .sin_addr.s_addr = htonl(u->addr)};
    static const char msg[] = "hello from ckcni";
    if (sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&a, sizeof(a)) != sizeof(msg))
        return 2;
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, 3000) <= 0)
        return 3;
    char buf[256];
    ssize_t n = recv(s, buf, sizeof(buf), 0);
    if (n != sizeof(msg) || memcmp(buf, msg, sizeof(msg)) != 0)
        return 4;
    (void)outfd;
    return 0;
}

/* Takes the default route away or sets an interface down: a "broken" pod for CHECK. */
static int child_del_default_route(void *arg, int outfd)
{
    (void)outfd;
    uint32_t gw = *(uint32_t *)arg;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct rtentry rt = {0};
    struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
    struct sockaddr_in *g = (struct sockaddr_in *)&rt.rt_gateway;
    struct sockaddr_in *m = (struct sockaddr_in *)&rt.rt_genmask;
    dst->sin_family = g->sin_family = m->sin_family = AF_INET;
    g->sin_addr.s_addr = htonl(gw);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    return ioctl(s, SIOCDELRT, &rt) == 0 ? 0 : 2;
}

static int child_set_down(void *arg, int outfd)
{
    (void)outfd;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", (const char *)arg);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return 2;
    ifr.ifr_flags &= ~IFF_UP;
    return ioctl(s, SIOCSIFFLAGS, &ifr) == 0 ? 0 : 3;
}

/* Interfaces of the current (node) namespace whose name starts with prefix. */
static int count_links(const char *prefix)
{
    struct if_nameindex *all = if_nameindex();
    int n = 0;
    for (struct if_nameindex *i = all; i && i->if_index; i++)
        n += strncmp(i->if_name, prefix, strlen(prefix)) == 0;
    if_freenameindex(all);
    return n;
}

static int read_sysctl_int(const char *path)
{
    char buf[16] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    return n > 0 ? atoi(buf) : -1;
}

/* ---- group fixture ---- */

static int group_setup(void **state)
{
    (void)state;
    if (geteuid() != 0)
        return 0; /* every test skips */
    snprintf(T.prefix, sizeof(T.prefix), "ckcni-%d-", (int)getpid());
    sweep_stale();
    atexit(cleanup_all);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    T.root_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (T.root_fd < 0)
        return 0;
    snprintf(T.tmp, sizeof(T.tmp), "/tmp/%sdata", T.prefix);
    snprintf(T.conf_dir, sizeof(T.conf_dir), "%s/net.d", T.tmp);
    snprintf(T.bin_dir, sizeof(T.bin_dir), "%s/bin", T.tmp);
    if (mkdir(T.tmp, 0700) < 0 || mkdir(T.conf_dir, 0755) < 0 || mkdir(T.bin_dir, 0755) < 0)
        return 0;
    /* the test binary as a plugin, the way the kubelet binary is installed as one */
    char self[PATH_MAX], link[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 0;
    self[n] = '\0';
    snprintf(link, sizeof(link), "%s/ckube-exec-bridge", T.bin_dir);
    if (symlink(self, link) < 0)
        return 0;
    if (netns_create("node", T.node, sizeof(T.node)) < 0)
        return 0;
    int fd = open(T.node, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        if (fd >= 0)
            close(fd);
        return 0; /* never run the tests in the machine's own namespace */
    }
    close(fd);
    char conf[PATH_MAX + 32];
    snprintf(conf, sizeof(conf), "%s/10-test.conflist", T.conf_dir);
    write_file(conf, MAIN_CONF);
    char bins[2 * PATH_MAX];
    snprintf(bins, sizeof(bins), "%s:/usr/lib/cni", T.bin_dir);
    struct ck_error err = CK_ERROR_INIT;
    if (kl_cni_setup(T.conf_dir, bins, T.tmp, &T.cni, &err) < 0)
        return 0;
    T.ready = true;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kl_cni_free(T.cni);
    T.cni = NULL;
    cleanup_all();
    return 0;
}

#define NEED_ROOT()                                                                                \
    do {                                                                                           \
        if (!T.ready)                                                                              \
            skip();                                                                                \
    } while (0)

/* ADDs a pod of the main network in a new namespace; returns the namespace path in ns. */
static void add_pod(const char *name, char *ns, size_t size, struct kl_cni_result *res)
{
    assert_int_equal(netns_create(name, ns, size), 0);
    struct ck_error err = CK_ERROR_INIT;
    int rc = kl_cni_add(T.cni, "default", name, "uid-1", name, ns, res, &err);
    if (rc < 0)
        fail_msg("ADD %s: %s", name, err.message);
}

/* ---- tests ---- */

static void conf_dir_picks_first_valid_file(void **state)
{
    (void)state;
    NEED_ROOT();
    char dir[PATH_MAX + 16], path[PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/confs", T.tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    struct kl_cni *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_cni_setup(dir, NULL, T.tmp, &c, &err), 0);
    /* nothing there yet: not ready, with the runtime's wording */
    assert_int_equal(kl_cni_status(c, NULL, 0, &err), -EAGAIN);
    assert_non_null(strstr(err.message, "cni plugin not initialized: no network config found in"));

    /* lexical order; broken files are skipped; a single .conf becomes a one-plugin list */
    snprintf(path, sizeof(path), "%s/00-broken.conflist", dir);
    write_file(path, "{\"cniVersion\":\"1.0.0\",\"name\":\"x\"");
    snprintf(path, sizeof(path), "%s/05-noplugins.conflist", dir);
    write_file(path, "{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[]}");
    snprintf(path, sizeof(path), "%s/07-escape.conflist", dir);
    write_file(path,
               "{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[{\"type\":\"../sh\"}]}");
    snprintf(path, sizeof(path), "%s/10-single.conf", dir);
    write_file(path, "{\"cniVersion\":\"1.0.0\",\"name\":\"single\",\"type\":\"bridge\"}");
    snprintf(path, sizeof(path), "%s/20-later.conflist", dir);
    write_file(path,
               "{\"cniVersion\":\"1.0.0\",\"name\":\"later\",\"plugins\":[{\"type\":\"x\"}]}");
    snprintf(path, sizeof(path), "%s/01-ignored.txt", dir);
    write_file(path, "{}");
    char name[64];
    assert_int_equal(kl_cni_status(c, name, sizeof(name), &err), 0);
    assert_string_equal(name, "single");

    /* the kubelet's own config for a node's podCIDR sorts first and is picked up */
    assert_int_equal(kl_cni_write_default_conf(dir, "10.244.3.0/24", 0, "/var/lib/x", &err), 0);
    assert_int_equal(kl_cni_status(c, name, sizeof(name), &err), 0);
    assert_string_equal(name, "ckube");
    snprintf(path, sizeof(path), "%s/10-ckube.conflist", dir);
    struct stat st1, st2;
    assert_int_equal(stat(path, &st1), 0);
    assert_int_equal(kl_cni_write_default_conf(dir, "10.244.3.0/24", 0, "/var/lib/x", &err), 0);
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(st1.st_ino, st2.st_ino); /* unchanged content is not rewritten */
    assert_true(kl_cni_write_default_conf(dir, "10.244.3.7/24", 0, NULL, &err) < 0);
    assert_non_null(strstr(err.message, "host bits set"));
    kl_cni_free(c);
}

static void plugin_protocol_answers_like_upstream(void **state)
{
    (void)state;
    /* pure protocol: no namespace needed, but keep the suite's single skip rule */
    NEED_ROOT();
    char *const env_flag[] = {(char *)"CKUBE_CNI_PLUGIN=1", NULL};
    char *const env_none[] = {(char *)"PATH=/bin", NULL};
    assert_true(kl_cni_plugin_invoked("/opt/cni/bin/ckube-bridge", env_none));
    assert_true(kl_cni_plugin_invoked("/usr/bin/kubelet", env_flag));
    assert_false(kl_cni_plugin_invoked("/usr/bin/kubelet", env_none));

    struct kl_cni_args a = {.command = "VERSION"};
    struct kl_cni_error e = {0};
    cJSON *out = NULL;
    assert_int_equal(kl_cni_plugin_run(&a, "{\"cniVersion\":\"1.0.0\"}", 22, &out, &e), 0);
    char *s = ck_json_print(out, 0);
    assert_string_equal(s, "{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\","
                           "\"0.4.0\",\"1.0.0\"]}");
    free(s);
    cJSON_Delete(out);

    static const struct {
        struct kl_cni_args a;
        const char *conf;
        unsigned code;
        const char *msg;
    } cases[] = {
        {{.command = "ADD", .ifname = "eth0"},
         "{}",
         KL_CNI_ERR_INVALID_ENV,
         "required env variables [CNI_CONTAINERID CNI_NETNS CNI_PATH] missing"},
        {{.command = "DEL", .container_id = "c", .ifname = "eth0"},
         "{}",
         KL_CNI_ERR_INVALID_ENV,
         "required env variables [CNI_PATH] missing"},
        {{.command = "FROB"}, "{}", KL_CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND: FROB"},
        {{.command = "ADD", .container_id = "c", .netns = "/x", .ifname = "eth0", .path = "/b"},
         "{\"cniVersion\":\"0.2.0\"}",
         KL_CNI_ERR_INCOMPATIBLE_VERSION,
         "incompatible CNI versions; config is \"0.2.0\", plugin supports [\"0.3.0\" \"0.3.1\" "
         "\"0.4.0\" \"1.0.0\"]"},
        {{.command = "CHECK", .container_id = "c", .netns = "/x", .ifname = "eth0", .path = "/b"},
         "{\"cniVersion\":\"0.3.1\"}",
         KL_CNI_ERR_INCOMPATIBLE_VERSION,
         "config version does not allow CHECK"},
        {{.command = "ADD", .container_id = "c", .netns = "/x", .ifname = "eth0", .path = "/b"},
         "{\"cniVersion\":",
         KL_CNI_ERR_DECODE,
         NULL},
        {{.command = "ADD", .container_id = "c", .netns = "/x", .ifname = "eth0", .path = "/b"},
         "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipMasq\":true,\"ipam\":{}}",
         KL_CNI_ERR_UNSUPPORTED_FIELD,
         NULL},
        {{.command = "ADD",
          .container_id = "bad id",
          .netns = "/x",
          .ifname = "eth0",
          .path = "/b"},
         "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\","
         "\"subnet\":\"10.9.0.0/24\"}}",
         KL_CNI_ERR_INVALID_ENV,
         "invalid characters in containerID"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        memset(&e, 0, sizeof(e));
        out = NULL;
        int rc = kl_cni_plugin_run(&cases[i].a, cases[i].conf, strlen(cases[i].conf), &out, &e);
        assert_true(rc < 0);
        assert_null(out);
        assert_int_equal(e.code, cases[i].code);
        if (cases[i].msg)
            assert_string_equal(e.msg, cases[i].msg);
    }
}

static void plugin_survives_malformed_configs(void **state)
{
    (void)state;
    NEED_ROOT();
    static const char *const confs[] = {
        "",
        "null",
        "[]",
        "{\"cniVersion\":1}",
        "{\"cniVersion\":\"1.0.0\"}",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":\"host-local\"}",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\","
        "\"ranges\":\"10.0.0.0/24\"}}",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\","
        "\"ranges\":[[1,2]]}}",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\","
        "\"subnet\":\"10.0.0.0/24\",\"routes\":[{\"dst\":5}]}}",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mtu\":1e99,\"ipam\":{}}",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"bridge\":\"a-very-long-bridge-name\","
        "\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.0.0.0/24\"}}",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"../../etc\",\"ipam\":{\"type\":\"host-local\","
        "\"subnet\":\"10.0.0.0/24\"}}",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\","
        "\"subnet\":\"10.0.0.0/24\"},\"prevResult\":{\"ips\":[{\"address\":\"zz\"}]}}",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\","
        "\"subnet\":\"10.0.0.0/24\"},\"prevResult\":{\"ips\":7,\"routes\":[{}]}}",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\","
        "\"subnet\":\"10.0.0.0/24\"}}",
    };
    static const char *const cmds[] = {"ADD", "CHECK", "DEL"};
    for (size_t c = 0; c < CK_ARRAY_SIZE(cmds); c++) {
        for (size_t i = 0; i < CK_ARRAY_SIZE(confs); i++) {
            struct kl_cni_args a = {.command = cmds[c],
                                    .container_id = "fuzz",
                                    .netns = "/nonexistent/netns",
                                    .ifname = "eth0",
                                    .path = "/b",
                                    .data_dir = T.tmp};
            struct kl_cni_error e = {0};
            cJSON *out = NULL;
            int rc = kl_cni_plugin_run(&a, confs[i], strlen(confs[i]), &out, &e);
            /* DEL of a well-formed config succeeds without the namespace; all else fails */
            if (rc == 0) {
                assert_string_equal(cmds[c], "DEL");
                assert_null(out);
                continue;
            }
            assert_null(out);
            assert_true(e.code != 0);
            assert_true(e.msg[0] != '\0');
        }
    }
}

static void add_gives_pods_addresses_routes_and_hairpin(void **state)
{
    (void)state;
    NEED_ROOT();
    int root_forward_before = -1;
    {
        /* the machine's own ip_forward, read from the root namespace in a child */
        pid_t pid = fork();
        if (pid == 0) {
            if (setns(T.root_fd, CLONE_NEWNET) < 0)
                _exit(255);
            _exit(read_sysctl_int("/proc/sys/net/ipv4/ip_forward"));
        }
        track_child(pid);
        root_forward_before = reap(pid);
    }
    char ns1[PATH_MAX], ns2[PATH_MAX];
    struct kl_cni_result r1, r2;
    add_pod("pod1", ns1, sizeof(ns1), &r1);
    add_pod("pod2", ns2, sizeof(ns2), &r2);

    /* the kubelet's view: .2 and .3 of the pod CIDR behind gateway .1 */
    assert_int_equal(r1.n_ips, 1);
    assert_string_equal(r1.ips[0].ip, "10.244.77.2");
    assert_string_equal(r1.ips[0].address, "10.244.77.2/24");
    assert_string_equal(r1.ips[0].gateway, "10.244.77.1");
    assert_string_equal(r2.ips[0].ip, "10.244.77.3");
    /* the spec's result: bridge, node veth, pod eth0 with its sandbox; ips point at eth0 */
    assert_string_equal(ck_json_get_string(r1.json, "cniVersion", ""), "1.0.0");
    assert_string_equal(ck_json_get_string(r1.json, "interfaces[0].name", ""), "cni0");
    assert_string_equal(ck_json_get_string(r1.json, "interfaces[2].name", ""), "eth0");
    assert_string_equal(ck_json_get_string(r1.json, "interfaces[2].sandbox", ""), ns1);
    assert_int_equal(ck_json_get_int64(r1.json, "ips[0].interface", -1), 2);
    assert_string_equal(ck_json_get_string(r1.json, "routes[0].dst", ""), "0.0.0.0/0");
    assert_string_equal(ck_json_get_string(r1.json, "routes[0].gw", ""), "10.244.77.1");

    /* inside the pods: eth0 up with the address/24, lo up, default route via the gateway */
    struct if_addr ia;
    size_t got;
    assert_int_equal(run_in_ns(ns2, child_if_addr, (void *)"eth0", &ia, sizeof(ia), &got), 0);
    assert_int_equal(ia.addr, ip4("10.244.77.3"));
    assert_int_equal(ia.mask, 0xffffff00u);
    assert_true(ia.up);
    assert_int_equal(run_in_ns(ns2, child_if_addr, (void *)"lo", &ia, sizeof(ia), &got), 0);
    assert_true(ia.up);
    struct def_route dr;
    assert_int_equal(run_in_ns(ns1, child_default_route, NULL, &dr, sizeof(dr), &got), 0);
    assert_int_equal(dr.gw, ip4("10.244.77.1"));
    assert_string_equal(dr.dev, "eth0");
    struct kl_cni_link_info li;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_cni_link_info(ns1, "eth0", &li, &err), 0);
    assert_string_equal(li.kind, "veth");
    assert_int_equal(li.mtu, 1400);

    /* on the node: the bridge holds the gateway address; each node end is a hairpin port */
    assert_int_equal(kl_cni_link_info(NULL, "cni0", &li, &err), 0);
    assert_string_equal(li.kind, "bridge");
    assert_true(li.up);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "cni0");
    assert_int_equal(ioctl(s, SIOCGIFADDR, &ifr), 0);
    close(s);
    assert_int_equal(ntohl(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr),
                     ip4("10.244.77.1"));
    const char *host1 = ck_json_get_string(r1.json, "interfaces[1].name", "");
    assert_int_equal(strncmp(host1, "veth", 4), 0);
    assert_int_equal(kl_cni_link_info(NULL, host1, &li, &err), 0);
    assert_string_equal(li.master, "cni0");
    assert_true(li.hairpin);
    assert_true(li.up);
    assert_int_equal(li.mtu, 1400);
    assert_int_equal(
        kl_cni_link_info(NULL, ck_json_get_string(r2.json, "interfaces[1].name", ""), &li, &err),
        0);
    assert_true(li.hairpin);

    /* forwarding is on in the node namespace only; the machine's own setting is untouched */
    assert_int_equal(read_sysctl_int("/proc/sys/net/ipv4/ip_forward"), 1);
    pid_t pid = fork();
    if (pid == 0) {
        if (setns(T.root_fd, CLONE_NEWNET) < 0)
            _exit(255);
        _exit(read_sysctl_int("/proc/sys/net/ipv4/ip_forward"));
    }
    track_child(pid);
    assert_int_equal(reap(pid), root_forward_before);

    /* the result is cached for DEL and CHECK */
    char cache[PATH_MAX + 64];
    snprintf(cache, sizeof(cache), "%s/results/" MAIN_NET "-pod1-eth0", T.tmp);
    assert_true(file_exists(cache));
    kl_cni_result_free(&r1);
    kl_cni_result_free(&r2);
}

static void pods_reach_each_other_and_the_gateway(void **state)
{
    (void)state;
    NEED_ROOT();
    char ns1[PATH_MAX], ns2[PATH_MAX];
    snprintf(ns1, sizeof(ns1), NETNS_DIR "/%spod1", T.prefix);
    snprintf(ns2, sizeof(ns2), NETNS_DIR "/%spod2", T.prefix);
    if (!file_exists(ns1) || !file_exists(ns2))
        fail_msg("pods of the previous test are missing");
    assert_int_equal(ping(ns1, "10.244.77.3"), 0);
    assert_int_equal(ping(ns2, "10.244.77.2"), 0);
    assert_int_equal(ping(ns1, "10.244.77.1"), 0);
    /* an address nobody has stays silent (the ping helper can fail) */
    assert_int_equal(ping(ns1, "10.244.77.200"), 1);

    /* UDP from pod1 to a server in pod2 and back */
    struct udp_arg srv = {ip4("10.244.77.3"), 7777};
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t server = fork();
    assert_true(server >= 0);
    if (server == 0) {
        close(p[0]);
        int fd = open(ns2, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
            _exit(90);
        _exit(child_udp_echo(&srv, p[1]));
    }
    track_child(server);
    close(p[1]);
    char ready = 0;
    assert_int_equal(read(p[0], &ready, 1), 1);
    close(p[0]);
    assert_int_equal(run_in_ns(ns1, child_udp_client, &srv, NULL, 0, NULL), 0);
    assert_int_equal(reap(server), 0);

    /* an ADD retried for a pod that has its network returns the same result, breaks nothing */
    struct kl_cni_result r;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_cni_add(T.cni, "default", "pod1", "uid-1", "pod1", ns1, &r, &err), 0);
    assert_string_equal(r.ips[0].ip, "10.244.77.2");
    kl_cni_result_free(&r);
    assert_int_equal(kl_cni_check(T.cni, "default", "pod1", "uid-1", "pod1", ns1, &err), 0);
    assert_int_equal(ping(ns2, "10.244.77.2"), 0);
}

static void del_releases_and_is_idempotent(void **state)
{
    (void)state;
    NEED_ROOT();
    char ns3[PATH_MAX];
    struct kl_cni_result r;
    add_pod("pod3", ns3, sizeof(ns3), &r);
    assert_string_equal(r.ips[0].ip, "10.244.77.4");
    char host[32];
    snprintf(host, sizeof(host), "%s", ck_json_get_string(r.json, "interfaces[1].name", ""));
    kl_cni_result_free(&r);
    char ipfile[PATH_MAX + 64], cache[PATH_MAX + 64];
    snprintf(ipfile, sizeof(ipfile), "%s/networks/" MAIN_NET "/10.244.77.4", T.tmp);
    snprintf(cache, sizeof(cache), "%s/results/" MAIN_NET "-pod3-eth0", T.tmp);
    assert_true(file_exists(ipfile));
    int veths = count_links("veth");

    struct ck_error err = CK_ERROR_INIT;
    struct kl_cni_link_info li;
    assert_int_equal(kl_cni_del(T.cni, "default", "pod3", "uid-1", "pod3", ns3, &err), 0);
    assert_false(file_exists(ipfile));
    assert_false(file_exists(cache));
    assert_int_equal(kl_cni_link_info(NULL, host, &li, &err), -ENOENT);
    assert_int_equal(kl_cni_link_info(ns3, "eth0", &li, &err), -ENOENT);
    assert_int_equal(count_links("veth"), veths - 1);
    /* a second DEL, and a DEL after the namespace is gone, are fine */
    assert_int_equal(kl_cni_del(T.cni, "default", "pod3", "uid-1", "pod3", ns3, &err), 0);
    char ns4[PATH_MAX];
    add_pod("pod4", ns4, sizeof(ns4), &r);
    assert_string_equal(r.ips[0].ip, "10.244.77.5"); /* round robin: .4 is not reused at once */
    kl_cni_result_free(&r);
    netns_delete(ns4);
    assert_int_equal(kl_cni_del(T.cni, "default", "pod4", "uid-1", "pod4", ns4, &err), 0);
    snprintf(ipfile, sizeof(ipfile), "%s/networks/" MAIN_NET "/10.244.77.5", T.tmp);
    assert_false(file_exists(ipfile));
    assert_int_equal(kl_cni_del(T.cni, "default", "pod4", "uid-1", "pod4", ns4, &err), 0);
}

static void check_sees_healthy_and_broken_pods(void **state)
{
    (void)state;
    NEED_ROOT();
    char ns5[PATH_MAX], ns6[PATH_MAX];
    struct kl_cni_result r;
    add_pod("pod5", ns5, sizeof(ns5), &r);
    kl_cni_result_free(&r);
    add_pod("pod6", ns6, sizeof(ns6), &r);
    kl_cni_result_free(&r);
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_cni_check(T.cni, "default", "pod5", "uid-1", "pod5", ns5, &err), 0);
    assert_int_equal(kl_cni_check(T.cni, "default", "pod6", "uid-1", "pod6", ns6, &err), 0);

    /* pod5 loses its default route */
    uint32_t gw = ip4("10.244.77.1");
    assert_int_equal(run_in_ns(ns5, child_del_default_route, &gw, NULL, 0, NULL), 0);
    assert_true(kl_cni_check(T.cni, "default", "pod5", "uid-1", "pod5", ns5, &err) < 0);
    assert_string_equal(err.message, "plugin type=\"ckube-bridge\" name=\"" MAIN_NET
                                     "\" failed (check): Failed to match route 0.0.0.0/0 via "
                                     "10.244.77.1 on interface eth0");
    /* pod6's eth0 goes down */
    assert_int_equal(run_in_ns(ns6, child_set_down, (void *)"eth0", NULL, 0, NULL), 0);
    assert_true(kl_cni_check(T.cni, "default", "pod6", "uid-1", "pod6", ns6, &err) < 0);
    assert_non_null(strstr(err.message, "interface eth0 in"));
    assert_non_null(strstr(err.message, "is down"));
    /* pod7: hairpin turned off, then detached from the bridge, then its address file lost */
    char ns7[PATH_MAX], cmd[256], ipfile[PATH_MAX + 64];
    add_pod("pod7", ns7, sizeof(ns7), &r);
    char host7[32];
    snprintf(host7, sizeof(host7), "%s", ck_json_get_string(r.json, "interfaces[1].name", ""));
    snprintf(ipfile, sizeof(ipfile), "%s/networks/" MAIN_NET "/%s", T.tmp, r.ips[0].ip);
    kl_cni_result_free(&r);
    snprintf(cmd, sizeof(cmd), "bridge link set dev %s hairpin off", host7);
    assert_int_equal(system(cmd), 0); /* runs in the node namespace, like this process */
    assert_true(kl_cni_check(T.cni, "default", "pod7", "uid-1", "pod7", ns7, &err) < 0);
    assert_non_null(strstr(err.message, "hairpin mode is off on bridge port veth"));
    snprintf(cmd, sizeof(cmd), "ip link set dev %s nomaster", host7);
    assert_int_equal(system(cmd), 0);
    assert_true(kl_cni_check(T.cni, "default", "pod7", "uid-1", "pod7", ns7, &err) < 0);
    assert_non_null(strstr(err.message, "is not a port of bridge cni0"));
    assert_int_equal(unlink(ipfile), 0);
    assert_true(kl_cni_check(T.cni, "default", "pod7", "uid-1", "pod7", ns7, &err) < 0);
    assert_non_null(
        strstr(err.message, "host-local: Failed to find address added by container pod7"));
    assert_int_equal(kl_cni_del(T.cni, "default", "pod7", "uid-1", "pod7", ns7, &err), 0);
    /* a pod that was never added has nothing to check against */
    assert_true(kl_cni_check(T.cni, "default", "ghost", "uid-1", "ghost", ns6, &err) < 0);
    assert_string_equal(err.message,
                        "failed to get network \"" MAIN_NET "\" cached result for ghost");
    assert_int_equal(kl_cni_del(T.cni, "default", "pod5", "uid-1", "pod5", ns5, &err), 0);
    assert_int_equal(kl_cni_del(T.cni, "default", "pod6", "uid-1", "pod6", ns6, &err), 0);
}

static void exhausted_range_fails_cleanly(void **state)
{
    (void)state;
    NEED_ROOT();
    char dir[PATH_MAX + 16], path[PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/small.d", T.tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof(path), "%s/10-small.conflist", dir);
    write_file(path, "{\"cniVersion\":\"1.0.0\",\"name\":\"cksmall\",\"plugins\":[{\"type\":"
                     "\"ckube-bridge\",\"bridge\":\"cksmall0\",\"isGateway\":true,"
                     "\"isDefaultGateway\":true,\"ipam\":{\"type\":\"host-local\",\"ranges\":"
                     "[[{\"subnet\":\"10.244.78.0/24\",\"rangeStart\":\"10.244.78.2\","
                     "\"rangeEnd\":\"10.244.78.3\"}]]}}]}");
    struct kl_cni *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_cni_setup(dir, NULL, T.tmp, &c, &err), 0);
    char ns[3][PATH_MAX];
    struct kl_cni_result r;
    for (int i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof(name), "small%d", i);
        assert_int_equal(netns_create(name, ns[i], sizeof(ns[i])), 0);
        assert_int_equal(kl_cni_add(c, "default", name, "u", name, ns[i], &r, &err), 0);
        const char *host = ck_json_get_string(r.json, "interfaces[1].name", "");
        struct kl_cni_link_info li;
        assert_int_equal(kl_cni_link_info(NULL, host, &li, &err), 0);
        assert_string_equal(li.master, "cksmall0");
        assert_false(li.hairpin); /* hairpinMode not set in this config */
        kl_cni_result_free(&r);
    }
    int veths = count_links("veth");
    assert_int_equal(netns_create("small2", ns[2], sizeof(ns[2])), 0);
    assert_true(kl_cni_add(c, "default", "small2", "u", "small2", ns[2], &r, &err) < 0);
    assert_string_equal(err.message, "plugin type=\"ckube-bridge\" name=\"cksmall\" failed (add): "
                                     "no IP addresses available in range set: "
                                     "10.244.78.2-10.244.78.3");
    assert_null(r.json);
    /* nothing is left behind: no new veth, no eth0 in the pod, no cached result */
    struct kl_cni_link_info li;
    assert_int_equal(count_links("veth"), veths);
    assert_int_equal(kl_cni_link_info(ns[2], "eth0", &li, &err), -ENOENT);
    snprintf(path, sizeof(path), "%s/results/cksmall-small2-eth0", T.tmp);
    assert_false(file_exists(path));
    /* a release makes room again */
    assert_int_equal(kl_cni_del(c, "default", "small0", "u", "small0", ns[0], &err), 0);
    assert_int_equal(kl_cni_add(c, "default", "small2", "u", "small2", ns[2], &r, &err), 0);
    assert_string_equal(r.ips[0].ip, "10.244.78.2");
    kl_cni_result_free(&r);
    kl_cni_free(c);
}

static void concurrent_adds_get_distinct_addresses(void **state)
{
    (void)state;
    NEED_ROOT();
    enum { N = 20 };
    char ns[N][PATH_MAX];
    char names[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "par%02d", i);
        assert_int_equal(netns_create(names[i], ns[i], sizeof(ns[i])), 0);
    }
    int veths = count_links("veth");
    int p[N][2];
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(pipe(p[i]), 0);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            struct kl_cni_result r;
            struct ck_error err = CK_ERROR_INIT;
            uint32_t ip = 0;
            if (kl_cni_add(T.cni, "default", names[i], "u", names[i], ns[i], &r, &err) == 0) {
                kl_ipam_parse_ip4(r.ips[0].ip, &ip);
                kl_cni_result_free(&r);
            }
            _exit(write(p[i][1], &ip, sizeof(ip)) == sizeof(ip) ? 0 : 1);
        }
        track_child(pids[i]);
        close(p[i][1]);
    }
    uint32_t got[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(read(p[i][0], &got[i], sizeof(got[i])), sizeof(got[i]));
        close(p[i][0]);
        assert_int_equal(reap(pids[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_true((got[i] & 0xffffff00u) == ip4("10.244.77.0"));
        assert_true((got[i] & 0xff) >= 2 && (got[i] & 0xff) <= 254);
        for (int j = 0; j < i; j++) {
            if (got[i] == got[j])
                fail_msg("two pods got %u.%u.%u.%u", got[i] >> 24, (got[i] >> 16) & 0xff,
                         (got[i] >> 8) & 0xff, got[i] & 0xff);
        }
    }
    assert_int_equal(count_links("veth"), veths + N);
    struct ck_error err = CK_ERROR_INIT;
    for (int i = 0; i < N; i++)
        assert_int_equal(kl_cni_del(T.cni, "default", names[i], "u", names[i], ns[i], &err), 0);
    assert_int_equal(count_links("veth"), veths);
}

struct thread_add {
    const char *name, *ns;
    uint32_t ip;
    bool same_ns; /* the thread is back in the node namespace afterwards */
};

static void *thread_add_main(void *arg)
{
    struct thread_add *t = arg;
    struct kl_cni_result r;
    struct ck_error err = CK_ERROR_INIT;
    if (kl_cni_add(T.cni, "default", t->name, "u", t->name, t->ns, &r, &err) == 0) {
        kl_ipam_parse_ip4(r.ips[0].ip, &t->ip);
        kl_cni_result_free(&r);
    }
    struct stat self, node;
    t->same_ns = stat("/proc/thread-self/ns/net", &self) == 0 && stat(T.node, &node) == 0 &&
                 self.st_ino == node.st_ino;
    return NULL;
}

static void threaded_adds_stay_in_the_node_namespace(void **state)
{
    (void)state;
    NEED_ROOT();
    enum { N = 8 };
    char ns[N][PATH_MAX], names[N][16];
    struct thread_add t[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "thr%d", i);
        assert_int_equal(netns_create(names[i], ns[i], sizeof(ns[i])), 0);
        t[i] = (struct thread_add){.name = names[i], .ns = ns[i]};
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&th[i], NULL, thread_add_main, &t[i]), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < N; i++) {
        assert_true(t[i].ip != 0);
        assert_true(t[i].same_ns);
        for (int j = 0; j < i; j++)
            assert_true(t[i].ip != t[j].ip);
    }
    struct ck_error err = CK_ERROR_INIT;
    for (int i = 0; i < N; i++) {
        assert_int_equal(kl_cni_check(T.cni, "default", names[i], "u", names[i], ns[i], &err), 0);
        assert_int_equal(kl_cni_del(T.cni, "default", names[i], "u", names[i], ns[i], &err), 0);
    }
}

static void del_after_config_removed_uses_cached_config(void **state)
{
    (void)state;
    NEED_ROOT();
    char dir[PATH_MAX + 16], path[PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/gone.d", T.tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof(path), "%s/10-gone.conflist", dir);
    write_file(path, "{\"cniVersion\":\"1.0.0\",\"name\":\"ckgone\",\"plugins\":[{\"type\":"
                     "\"ckube-bridge\",\"bridge\":\"ckgone0\",\"isDefaultGateway\":true,"
                     "\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.244.82.0/24\"}}]}");
    struct kl_cni *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_cni_setup(dir, NULL, T.tmp, &c, &err), 0);
    char ns[PATH_MAX];
    assert_int_equal(netns_create("gone1", ns, sizeof(ns)), 0);
    struct kl_cni_result r;
    assert_int_equal(kl_cni_add(c, "default", "gone1", "u", "gone1", ns, &r, &err), 0);
    kl_cni_result_free(&r);
    char ipfile[PATH_MAX + 64];
    snprintf(ipfile, sizeof(ipfile), "%s/networks/ckgone/10.244.82.2", T.tmp);
    assert_true(file_exists(ipfile));
    /* the node's config goes away (node being torn down): not ready, but DEL still works */
    assert_int_equal(unlink(path), 0);
    char name[32];
    assert_int_equal(kl_cni_status(c, name, sizeof(name), &err), -EAGAIN);
    assert_int_equal(kl_cni_del(c, "default", "gone1", "u", "gone1", ns, &err), 0);
    assert_false(file_exists(ipfile));
    struct kl_cni_link_info li;
    assert_int_equal(kl_cni_link_info(ns, "eth0", &li, &err), -ENOENT);
    kl_cni_free(c);
}

static void exec_path_runs_plugin_binaries(void **state)
{
    (void)state;
    NEED_ROOT();
    char dir[PATH_MAX + 16], path[PATH_MAX + 64], bins[2 * PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/exec.d", T.tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof(path), "%s/10-exec.conflist", dir);
    /* the re-executed kubelet-style binary as an ordinary CNI plugin */
    char conf[4 * PATH_MAX];
    snprintf(conf, sizeof(conf),
             "{\"cniVersion\":\"1.0.0\",\"name\":\"ckexec\",\"plugins\":[{\"type\":"
             "\"ckube-exec-bridge\",\"bridge\":\"ckexec0\",\"isDefaultGateway\":true,"
             "\"hairpinMode\":true,\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"%s/execipam\","
             "\"ranges\":[[{\"subnet\":\"10.244.81.0/24\"}]]}}]}",
             T.tmp);
    write_file(path, conf);
    snprintf(bins, sizeof(bins), "%s", T.bin_dir);
    struct kl_cni *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_cni_setup(dir, bins, T.tmp, &c, &err), 0);
    char ns[PATH_MAX];
    assert_int_equal(netns_create("exec1", ns, sizeof(ns)), 0);
    struct kl_cni_result r;
    assert_int_equal(kl_cni_add(c, "default", "exec1", "u", "exec1", ns, &r, &err), 0);
    assert_string_equal(r.ips[0].ip, "10.244.81.2");
    kl_cni_result_free(&r);
    assert_int_equal(kl_cni_check(c, "default", "exec1", "u", "exec1", ns, &err), 0);
    snprintf(path, sizeof(path), "%s/execipam/ckexec/10.244.81.2", T.tmp);
    assert_true(file_exists(path));
    assert_int_equal(kl_cni_del(c, "default", "exec1", "u", "exec1", ns, &err), 0);
    assert_false(file_exists(path));
    struct kl_cni_link_info li;
    assert_int_equal(kl_cni_link_info(ns, "eth0", &li, &err), -ENOENT);

    /* a plugin's error object comes back with its message */
    snprintf(path, sizeof(path), "%s/10-exec.conflist", dir);
    write_file(path, "{\"cniVersion\":\"1.0.0\",\"name\":\"ckexec\",\"plugins\":[{\"type\":"
                     "\"ckube-exec-bridge\",\"ipMasq\":true,\"ipam\":{\"type\":\"host-local\","
                     "\"subnet\":\"10.244.81.0/24\"}}]}");
    assert_true(kl_cni_add(c, "default", "exec1", "u", "exec1", ns, &r, &err) < 0);
    assert_non_null(strstr(err.message, "plugin type=\"ckube-exec-bridge\" name=\"ckexec\" failed "
                                        "(add): ipMasq: true is not supported"));
    /* and a plugin that is not installed is named with the dirs searched */
    write_file(path, "{\"cniVersion\":\"1.0.0\",\"name\":\"ckexec\",\"plugins\":[{\"type\":"
                     "\"nosuchplugin\"}]}");
    assert_true(kl_cni_add(c, "default", "exec1", "u", "exec1", ns, &r, &err) < 0);
    char want[3 * PATH_MAX];
    snprintf(want, sizeof(want), "failed to find plugin \"nosuchplugin\" in path [%s]", T.bin_dir);
    assert_non_null(strstr(err.message, want));
    kl_cni_free(c);
}

static void debian_plugins_swap_in_by_config(void **state)
{
    (void)state;
    NEED_ROOT();
    if (access("/usr/lib/cni/bridge", X_OK) != 0 || access("/usr/lib/cni/host-local", X_OK) != 0)
        skip();
    char dir[PATH_MAX + 16], path[PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/debian.d", T.tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof(path), "%s/10-debian.conflist", dir);
    char conf[4 * PATH_MAX];
    snprintf(conf, sizeof(conf),
             "{\"cniVersion\":\"1.0.0\",\"name\":\"ckdeb\",\"plugins\":[{\"type\":\"bridge\","
             "\"bridge\":\"ckdeb0\",\"isGateway\":true,\"isDefaultGateway\":true,"
             "\"hairpinMode\":true,\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"%s/debipam\","
             "\"ranges\":[[{\"subnet\":\"10.244.79.0/24\"}]]}}]}",
             T.tmp);
    write_file(path, conf);
    struct kl_cni *c = NULL;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_cni_setup(dir, "/usr/lib/cni", T.tmp, &c, &err), 0);
    char ns[PATH_MAX];
    assert_int_equal(netns_create("deb1", ns, sizeof(ns)), 0);
    struct kl_cni_result r;
    int rc = kl_cni_add(c, "default", "deb1", "u", "deb1", ns, &r, &err);
    if (rc < 0)
        fail_msg("Debian bridge ADD: %s", err.message);
    assert_string_equal(r.ips[0].ip, "10.244.79.2");
    assert_string_equal(r.ips[0].gateway, "10.244.79.1");
    const char *host = ck_json_get_string(r.json, "interfaces[1].name", "");
    struct kl_cni_link_info li;
    assert_int_equal(kl_cni_link_info(NULL, host, &li, &err), 0);
    assert_string_equal(li.master, "ckdeb0");
    assert_true(li.hairpin);
    kl_cni_result_free(&r);
    /* the same interface reads the allocation upstream's host-local wrote */
    snprintf(path, sizeof(path), "%s/debipam/ckdeb/10.244.79.2", T.tmp);
    assert_true(file_exists(path));
    assert_int_equal(kl_cni_check(c, "default", "deb1", "u", "deb1", ns, &err), 0);
    struct def_route dr;
    size_t got;
    assert_int_equal(run_in_ns(ns, child_default_route, NULL, &dr, sizeof(dr), &got), 0);
    assert_int_equal(dr.gw, ip4("10.244.79.1"));
    assert_int_equal(kl_cni_del(c, "default", "deb1", "u", "deb1", ns, &err), 0);
    assert_false(file_exists(path));
    assert_int_equal(kl_cni_link_info(ns, "eth0", &li, &err), -ENOENT);
    kl_cni_free(c);
}

static void node_setup_sets_sysctls_in_node_namespace(void **state)
{
    (void)state;
    NEED_ROOT();
    bool brnf = false;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(kl_cni_node_setup(&brnf, &err), 0);
    assert_int_equal(read_sysctl_int("/proc/sys/net/ipv4/ip_forward"), 1);
    if (access("/proc/sys/net/bridge/bridge-nf-call-iptables", F_OK) == 0) {
        assert_true(brnf);
        assert_int_equal(read_sysctl_int("/proc/sys/net/bridge/bridge-nf-call-iptables"), 1);
    } else {
        assert_false(brnf);
    }
}

int main(int argc, char **argv, char **envp)
{
    /* what the kubelet's main does: serve as a CNI plugin when run as one */
    if (kl_cni_plugin_invoked(argv[0], envp))
        return kl_cni_plugin_main(argc, argv, envp);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conf_dir_picks_first_valid_file),
        cmocka_unit_test(plugin_protocol_answers_like_upstream),
        cmocka_unit_test(plugin_survives_malformed_configs),
        cmocka_unit_test(add_gives_pods_addresses_routes_and_hairpin),
        cmocka_unit_test(pods_reach_each_other_and_the_gateway),
        cmocka_unit_test(del_releases_and_is_idempotent),
        cmocka_unit_test(check_sees_healthy_and_broken_pods),
        cmocka_unit_test(exhausted_range_fails_cleanly),
        cmocka_unit_test(concurrent_adds_get_distinct_addresses),
        cmocka_unit_test(threaded_adds_stay_in_the_node_namespace),
        cmocka_unit_test(del_after_config_removed_uses_cached_config),
        cmocka_unit_test(exec_path_runs_plugin_binaries),
        cmocka_unit_test(debian_plugins_swap_in_by_config),
        cmocka_unit_test(node_setup_sets_sysctls_in_node_namespace),
    };
    return cmocka_run_group_tests_name("cni", tests, group_setup, group_teardown);
}
