/* conntrack.c - stale UDP conntrack cleaning through the conntrack tool (see conntrack.h). */
#include "conntrack.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"

extern char **environ;

static bool parse_port(const char *s, size_t len, uint16_t *out)
{
    if (len == 0 || len > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

static bool parse_ip(const char *s, size_t len, uint32_t *out)
{
    char tmp[16];
    if (len == 0 || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return kp_parse_ipv4(tmp, out) == 0;
}

int kp_ct_parse_line(const char *line, struct kp_ct_flow *out)
{
    if (!line || !out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    /* the tuples' fields, in order: src dst sport dport (original), src (reply) */
    int srcs = 0, dsts = 0, dports = 0, words = 0;
    bool have_orig_dst = false, have_reply_src = false, have_dport = false;
    bool skipped_family = false;
    const char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        size_t len = (size_t)(p - w);
        if (words++ == 0) {
            /* -L prints the layer-4 protocol first (with -o extended: "ipv4 2 udp ...") */
            if (len == 4 && memcmp(w, "ipv4", 4) == 0 && !skipped_family) {
                /* and its number ("ipv4 2") */
                while (*p == ' ' || *p == '\t')
                    p++;
                while (*p >= '0' && *p <= '9')
                    p++;
                skipped_family = true;
                words = 0;
                continue;
            }
            if (len == 4 && memcmp(w, "ipv6", 4) == 0)
                return -EINVAL;
            if (len == 3 && memcmp(w, "udp", 3) == 0)
                out->proto = IPPROTO_UDP;
            else if (len == 3 && memcmp(w, "tcp", 3) == 0)
                out->proto = IPPROTO_TCP;
            else if (len == 4 && memcmp(w, "sctp", 4) == 0)
                out->proto = IPPROTO_SCTP;
            else if (len == 4 && memcmp(w, "icmp", 4) == 0)
                out->proto = IPPROTO_ICMP;
            else
                return -EINVAL;
            continue;
        }
        if (len > 4 && memcmp(w, "src=", 4) == 0) {
            srcs++;
            if (srcs == 2) {
                if (!parse_ip(w + 4, len - 4, &out->reply_src))
                    return -EINVAL;
                have_reply_src = true;
            } else if (srcs == 1) {
                uint32_t ignored;
                if (!parse_ip(w + 4, len - 4, &ignored))
                    return -EINVAL;
            }
        } else if (len > 4 && memcmp(w, "dst=", 4) == 0) {
            dsts++;
            if (dsts == 1) {
                if (!parse_ip(w + 4, len - 4, &out->orig_dst))
                    return -EINVAL;
                have_orig_dst = true;
            }
        } else if (len > 6 && memcmp(w, "dport=", 6) == 0) {
            dports++;
            if (dports == 1) {
                if (!parse_port(w + 6, len - 6, &out->orig_dport))
                    return -EINVAL;
                have_dport = true;
            }
        }
    }
    /* both tuples, and the original destination port before the reply tuple began */
    if (!have_orig_dst || !have_reply_src || srcs < 2 || dsts < 2)
        return -EINVAL;
    if ((out->proto == IPPROTO_UDP || out->proto == IPPROTO_TCP || out->proto == IPPROTO_SCTP) &&
        !have_dport)
        return -EINVAL;
    return 0;
}

static bool has_ip(const uint32_t *v, size_t n, uint32_t ip)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == ip)
            return true;
    return false;
}

static bool filter_eq(const struct kp_ct_filter *a, const struct kp_ct_filter *b)
{
    return a->kind == b->kind && a->reply_src == b->reply_src &&
           (a->kind == KP_CT_NAT ? a->orig_dst == b->orig_dst : a->port == b->port);
}

static void add_filter(struct kp_ct_filter **v, size_t *n, size_t *cap,
                       const struct kp_ct_filter *f)
{
    for (size_t i = 0; i < *n; i++)
        if (filter_eq(&(*v)[i], f))
            return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = ck_xrealloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = *f;
}

size_t kp_ct_stale(const struct kp_ruleset *rs, const struct kp_ct_flow *flows, size_t n,
                   struct kp_ct_filter **out)
{
    if (out)
        *out = NULL;
    if (!rs || !flows || !out || !rs->nudp)
        return 0;
    struct kp_ct_filter *v = NULL;
    size_t nv = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        const struct kp_ct_flow *f = &flows[i];
        if (f->proto != IPPROTO_UDP)
            continue;
        for (size_t s = 0; s < rs->nudp; s++) {
            const struct kp_udp_service *u = &rs->udp[s];
            if (f->orig_dport == u->port && has_ip(u->ips, u->nips, f->orig_dst) &&
                !has_ip(u->eps, u->neps, f->reply_src)) {
                struct kp_ct_filter nat = {
                    .kind = KP_CT_NAT, .orig_dst = f->orig_dst, .reply_src = f->reply_src};
                add_filter(&v, &nv, &cap, &nat);
            }
            if (u->node_port && f->orig_dport == u->node_port &&
                !has_ip(u->eps, u->neps, f->reply_src)) {
                struct kp_ct_filter pnat = {
                    .kind = KP_CT_PORT_NAT, .port = u->node_port, .reply_src = f->reply_src};
                add_filter(&v, &nv, &cap, &pnat);
            }
        }
    }
    *out = v;
    return nv;
}

void kp_ct_filter_argv(const char *tool, const struct kp_ct_filter *f, char bufs[2][24],
                       const char *argv[9])
{
    size_t i = 0;
    argv[i++] = tool;
    argv[i++] = "-D";
    argv[i++] = "-p";
    argv[i++] = "udp";
    if (f->kind == KP_CT_PORT_NAT) {
        snprintf(bufs[0], 24, "%u", (unsigned)f->port);
        argv[i++] = "--orig-port-dst";
    } else {
        kp_format_ipv4(f->orig_dst, bufs[0]);
        argv[i++] = "--orig-dst";
    }
    argv[i++] = bufs[0];
    kp_format_ipv4(f->reply_src, bufs[1]);
    argv[i++] = "--reply-src";
    argv[i++] = bufs[1];
    argv[i] = NULL;
}

/* Runs argv with stdin from /dev/null, stderr to /dev/null and stdout to out_fd (or
 * /dev/null when < 0). Returns the pid, or a negative errno. */
static pid_t spawn(const char *const argv[], int out_fd)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -ENOMEM;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    else
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -rc;
}

/* waits for pid; its exit status, or -1 when it did not exit normally */
static int reap(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `tool -L -p udp -f ipv4` into a flow array (caller frees). */
static int list_flows(const char *tool, struct kp_ct_flow **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    const char *argv[] = {tool, "-L", "-p", "udp", "-f", "ipv4", NULL};
    pid_t pid = spawn(argv, fds[1]);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return (int)pid;
    }
    FILE *f = fdopen(fds[0], "r");
    if (!f) {
        int e = -errno;
        close(fds[0]);
        reap(pid);
        return e;
    }
    struct kp_ct_flow *v = NULL;
    size_t nv = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) >= 0) {
        struct kp_ct_flow fl;
        if (nv >= KP_CT_MAX_FLOWS || kp_ct_parse_line(line, &fl) < 0 || fl.proto != IPPROTO_UDP)
            continue;
        if (nv == cap) {
            cap = cap ? cap * 2 : 64;
            v = ck_xrealloc(v, cap * sizeof(*v));
        }
        v[nv++] = fl;
    }
    free(line);
    fclose(f);
    int status = reap(pid);
    /* a tool that could not be executed exits 127 from the child */
    if (status == 127 || status < 0) {
        free(v);
        return -ENOENT;
    }
    *out = v;
    *n = nv;
    return 0;
}

int kp_ct_clean(const char *tool, const struct kp_ruleset *rs, struct kp_ct_stats *stats)
{
    struct kp_ct_stats st = {0};
    if (stats)
        *stats = st;
    if (!tool || !*tool || !rs)
        return -EINVAL;
    if (!rs->nudp)
        return 0;
    struct kp_ct_flow *flows = NULL;
    size_t n = 0;
    int rc = list_flows(tool, &flows, &n);
    if (rc < 0)
        return rc;
    st.flows = n;
    struct kp_ct_filter *filters = NULL;
    size_t nf = kp_ct_stale(rs, flows, n, &filters);
    free(flows);
    for (size_t i = 0; i < nf; i++) {
        char bufs[2][24];
        const char *argv[9];
        kp_ct_filter_argv(tool, &filters[i], bufs, argv);
        pid_t pid = spawn(argv, -1);
        /* exit 1 also means "0 flow entries have been deleted": only a tool that did not
         * run (or died) counts as a failure */
        int status = pid < 0 ? -1 : reap(pid);
        st.filters++;
        if (status < 0 || status == 127)
            st.failures++;
        ck_vinfo(4, "Deleting conntrack entries: %s %s %s %s", argv[4], argv[5], argv[6], argv[7]);
    }
    free(filters);
    if (stats)
        *stats = st;
    return 0;
}
