/* bench_proxy - kube-proxy's rule programming.
 *
 * (1) Full sync of 1000 Services x 10 endpoints (upstream's iptables proxier at the size its
 *     own scale notes discuss): the same rule set (rules.h, ~32k rules over ~12k chains) is
 *     written into empty filter/nat/mangle tables once through our libiptc writer
 *     (kp_iptc_sync, full) and once through `iptables-restore` reading its iptables-save
 *     rendering (kp_ruleset_render), which is how upstream's kube-proxy writes it. Each write
 *     runs in a fresh network namespace of this process (unshare(CLONE_NEWNET): the namespace
 *     and its tables are gone once the next one replaces it or the process exits), so nothing
 *     touches the host's tables; both results are read back with iptables-save and must have
 *     the same number of rules. Building the rule set is excluded from both timings. Prints
 *     the median of CK_BENCH_PROXY_ROUNDS (default 3) rounds and
 *     "RATIO proxy_sync_libiptc_vs_restore X", X = restore time / our time (> 1: we are
 *     faster). Also prints a partial sync (one service's endpoints changed) and a no-change
 *     sync of our writer, for information.
 *
 * (2) Network programming latency (skipped with CK_BENCH_PROXY_LAB=0): runs
 *     test/bench/bench_proxy_latency.sh (a deploy/lab cluster: create a Service for a running
 *     pod, time until a node namespace first connects through its ClusterIP) and passes its
 *     "LATENCY" lines on (it brings a lab up, ~30 s).
 *
 * Needs root (network namespaces, iptables); otherwise prints why and exits 0.
 * Environment: CK_BENCH_PROXY_SERVICES (default 1000), CK_BENCH_PROXY_ENDPOINTS (default 10).
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "proxy/iptc.h"
#include "proxy/rules.h"

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int env_int(const char *name, int def, int lo, int hi)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    int v = atoi(s);
    return v < lo ? lo : v > hi ? hi : v;
}

/* nsvc ClusterIP services "bench/svc-N" (port 80 -> 8080) with neps endpoints each, the
 * endpoints of service `bump` shifted by one address (a changed service for the partial sync). */
static void make_objects(int nsvc, int neps, int bump, cJSON **svcs, cJSON **slices)
{
    *svcs = cJSON_CreateArray();
    *slices = cJSON_CreateArray();
    for (int i = 0; i < nsvc; i++) {
        char name[32], ip[32];
        snprintf(name, sizeof(name), "svc-%d", i);
        snprintf(ip, sizeof(ip), "172.30.%d.%d", i / 250, i % 250 + 1);
        cJSON *s = cJSON_CreateObject();
        ck_json_set(s, "metadata.name", cJSON_CreateString(name));
        ck_json_set(s, "metadata.namespace", cJSON_CreateString("bench"));
        ck_json_set(s, "spec.clusterIP", cJSON_CreateString(ip));
        cJSON *port = cJSON_CreateObject();
        cJSON_AddStringToObject(port, "name", "http");
        cJSON_AddNumberToObject(port, "port", 80);
        cJSON_AddStringToObject(port, "protocol", "TCP");
        cJSON *ports = cJSON_CreateArray();
        cJSON_AddItemToArray(ports, port);
        ck_json_set(s, "spec.ports", ports);
        cJSON_AddItemToArray(*svcs, s);

        cJSON *e = cJSON_CreateObject();
        char sname[40];
        snprintf(sname, sizeof(sname), "%s-abcde", name);
        ck_json_set(e, "metadata.name", cJSON_CreateString(sname));
        ck_json_set(e, "metadata.namespace", cJSON_CreateString("bench"));
        cJSON *labels = cJSON_CreateObject();
        cJSON_AddStringToObject(labels, "kubernetes.io/service-name", name);
        ck_json_set(e, "metadata.labels", labels);
        cJSON_AddStringToObject(e, "addressType", "IPv4");
        cJSON *eports = cJSON_CreateArray();
        cJSON *ep = cJSON_CreateObject();
        cJSON_AddStringToObject(ep, "name", "http");
        cJSON_AddNumberToObject(ep, "port", 8080);
        cJSON_AddStringToObject(ep, "protocol", "TCP");
        cJSON_AddItemToArray(eports, ep);
        cJSON_AddItemToObject(e, "ports", eports);
        cJSON *eps = cJSON_CreateArray();
        for (int j = 0; j < neps; j++) {
            unsigned k = (unsigned)(i * neps + j + 1 + (i == bump ? 1 : 0) * 100000);
            char a[32];
            snprintf(a, sizeof(a), "10.%u.%u.%u", 128 + (k >> 16), (k >> 8) & 255, k & 255);
            cJSON *one = cJSON_CreateObject();
            cJSON *addrs = cJSON_CreateArray();
            cJSON_AddItemToArray(addrs, cJSON_CreateString(a));
            cJSON_AddItemToObject(one, "addresses", addrs);
            cJSON_AddItemToArray(eps, one);
        }
        cJSON_AddItemToObject(e, "endpoints", eps);
        cJSON_AddItemToArray(*slices, e);
    }
}

static struct kp_ruleset *build(int nsvc, int neps, int bump)
{
    cJSON *sa, *ea;
    make_objects(nsvc, neps, bump, &sa, &ea);
    size_t ns = (size_t)cJSON_GetArraySize(sa), ne = (size_t)cJSON_GetArraySize(ea);
    const cJSON **sv = ck_xcalloc(ns + 1, sizeof(*sv)), **ev = ck_xcalloc(ne + 1, sizeof(*ev));
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, sa) sv[i++] = it;
    i = 0;
    cJSON_ArrayForEach(it, ea) ev[i++] = it;
    struct kp_node_config nc;
    kp_node_config_init(&nc);
    nc.node_name = "bench-node";
    nc.node_ip = "192.168.0.2";
    nc.local_cidr = "10.128.0.0/9";
    struct kp_ruleset *rs = NULL;
    if (kp_rules_build(&nc, sv, ns, ev, ne, &rs) < 0)
        rs = NULL;
    free(sv);
    free(ev);
    cJSON_Delete(sa);
    cJSON_Delete(ea);
    return rs;
}

/* the first of two tool names found in the sbin/bin directories, into path; NULL if none */
static const char *first_tool(const char *a, const char *b, char path[256])
{
    static const char *dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
            snprintf(path, 256, "%s/%s", dirs[i], k ? b : a);
            if (access(path, X_OK) == 0)
                return path;
        }
    return NULL;
}

/* Runs argv with stdin fed from in (may be NULL) and stdout captured into out (may be NULL).
 * Returns the exit status, or -1. */
static int run_tool(const char *const argv[], struct ck_buf *in, struct ck_buf *out)
{
    int pin[2] = {-1, -1}, pout[2] = {-1, -1};
    if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
    posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pin[0]);
    close(pout[1]);
    if (rc != 0) {
        close(pin[1]);
        close(pout[0]);
        return -1;
    }
    /* the input goes first (iptables-restore reads it all before answering), then the output */
    size_t off = 0;
    while (in && off < in->len) {
        ssize_t w = write(pin[1], ck_buf_str(in) + off, in->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(pin[1]);
    char tmp[65536];
    for (;;) {
        ssize_t r = read(pout[0], tmp, sizeof(tmp));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (out)
            ck_buf_add(out, tmp, (size_t)r);
    }
    close(pout[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* "-A " lines in iptables-save's output of this namespace */
static long count_rules(const char *save)
{
    struct ck_buf out = CK_BUF_INIT;
    const char *argv[] = {save, NULL};
    long n = -1;
    if (run_tool(argv, NULL, &out) == 0) {
        n = 0;
        const char *s = ck_buf_str(&out);
        if (strncmp(s, "-A ", 3) == 0)
            n++;
        for (const char *p = strstr(s, "\n-A "); p; p = strstr(p + 1, "\n-A "))
            n++;
    }
    ck_buf_free(&out);
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define MAX_ROUNDS 15

int main(void)
{
    int nsvc = env_int("CK_BENCH_PROXY_SERVICES", 1000, 1, 20000);
    int neps = env_int("CK_BENCH_PROXY_ENDPOINTS", 10, 1, 100);
    int rounds = env_int("CK_BENCH_PROXY_ROUNDS", 3, 1, MAX_ROUNDS);
    printf("kube-proxy iptables sync: %d services x %d endpoints\n", nsvc, neps);
    if (geteuid() != 0) {
        printf("skipped: needs root (network namespaces and iptables)\n");
        return 0;
    }
    char restore_path[256], save[256];
    const char *restore = first_tool("iptables-legacy-restore", "iptables-restore", restore_path);
    if (!restore || !first_tool("iptables-legacy-save", "iptables-save", save)) {
        printf("skipped: iptables-restore / iptables-save not found\n");
        return 0;
    }

    /* the namespace we started in: the lab of (2) runs there, not in our throwaway ones */
    int home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    double t0 = now_s();
    struct kp_ruleset *rs = build(nsvc, neps, -1), *rs2 = build(nsvc, neps, nsvc / 2);
    if (!rs || !rs2) {
        fprintf(stderr, "building the rule set failed\n");
        if (home_ns >= 0)
            close(home_ns);
        kp_ruleset_free(rs);
        kp_ruleset_free(rs2);
        return 1;
    }
    double t_build = now_s() - t0;
    struct ck_buf text = CK_BUF_INIT;
    static const enum kp_table_id order[] = {KP_TABLE_FILTER, KP_TABLE_NAT, KP_TABLE_MANGLE};
    for (size_t i = 0; i < 3; i++)
        kp_ruleset_render(rs, order[i], KP_RENDER_BUILTINS, &text);
    size_t chains = 0, rules = 0;
    for (int t = 0; t < KP_TABLE_COUNT; t++) {
        chains += rs->tables[t].n;
        rules += kp_ruleset_rule_count(rs, (enum kp_table_id)t);
    }
    printf("rule set: %zu chains, %zu rules, %zu bytes of iptables-restore input (built in "
           "%.3f s, not timed below)\n",
           chains, rules, text.len, t_build);

    /* iptables-restore --noflush rewriting one service's KUBE-SVC chain: the least an
     * upstream partial restore does (it also lists every changed KUBE-SEP chain) */
    char svc_chain[KP_CHAIN_NAME_MAX + 1], svc_name[64];
    snprintf(svc_name, sizeof(svc_name), "bench/svc-%d:http", nsvc / 2);
    kp_service_chain_name("KUBE-SVC-", svc_name, "tcp", svc_chain);
    const struct kp_chain *one = kp_ruleset_find_chain(rs, KP_TABLE_NAT, svc_chain);
    struct ck_buf one_text = CK_BUF_INIT;
    ck_buf_printf(&one_text, "*nat\n:%s - [0:0]\n", svc_chain);
    if (one)
        kp_chain_render(one, &one_text);
    ck_buf_puts(&one_text, "\nCOMMIT\n");
    double restore_partial = 0;

    double ours[MAX_ROUNDS], theirs[MAX_ROUNDS], partial = 0, nochange = 0;
    long ours_rules = -1, their_rules = -1;
    int rc = 0;
    for (int r = 0; r < rounds && rc == 0; r++) {
        /* ours, into a fresh namespace's empty tables */
        if (unshare(CLONE_NEWNET) < 0) {
            printf("skipped: unshare(CLONE_NEWNET): %s\n", strerror(errno));
            goto out;
        }
        struct kp_iptc *w = kp_iptc_new(NULL);
        struct kp_iptc_stats st;
        t0 = now_s();
        rc = kp_iptc_sync(w, rs, true, &st);
        ours[r] = now_s() - t0;
        if (rc < 0) {
            fprintf(stderr, "kp_iptc_sync: %s\n", st.error);
            kp_iptc_free(w);
            break;
        }
        ours_rules = count_rules(save);
        if (r == 0) {
            /* a partial sync (one service's endpoints moved) and one with nothing to do */
            t0 = now_s();
            rc = kp_iptc_sync(w, rs2, false, &st);
            partial = now_s() - t0;
            t0 = now_s();
            if (rc == 0)
                rc = kp_iptc_sync(w, rs2, false, &st);
            nochange = now_s() - t0;
            if (rc < 0)
                fprintf(stderr, "kp_iptc_sync (partial): %s\n", st.error);
        }
        kp_iptc_free(w);

        /* iptables-restore of the same rules, into another fresh namespace */
        if (unshare(CLONE_NEWNET) < 0) {
            printf("skipped: unshare(CLONE_NEWNET): %s\n", strerror(errno));
            goto out;
        }
        const char *argv[] = {restore, "-w", "5", NULL};
        t0 = now_s();
        int st2 = run_tool(argv, &text, NULL);
        theirs[r] = now_s() - t0;
        if (st2 != 0) {
            fprintf(stderr, "%s exited with %d\n", restore, st2);
            rc = -1;
            break;
        }
        their_rules = count_rules(save);
        if (r == 0 && one) {
            const char *pargv[] = {restore, "-w", "5", "--noflush", NULL};
            t0 = now_s();
            st2 = run_tool(pargv, &one_text, NULL);
            restore_partial = now_s() - t0;
            if (st2 != 0)
                fprintf(stderr, "%s --noflush exited with %d\n", restore, st2);
        }
    }
    if (rc != 0)
        goto out;
    if (ours_rules != their_rules || ours_rules <= 0) {
        fprintf(stderr, "the two writes differ: %ld rules through libiptc, %ld through %s\n",
                ours_rules, their_rules, restore);
        rc = 1;
        goto out;
    }
    qsort(ours, (size_t)rounds, sizeof(double), cmp_double);
    qsort(theirs, (size_t)rounds, sizeof(double), cmp_double);
    double o = ours[rounds / 2], t = theirs[rounds / 2];
    printf("full sync, median of %d: libiptc %.3f s, %s %.3f s (%ld rules read back from "
           "each)\n",
           rounds, o, restore, t, ours_rules);
    printf("partial sync: libiptc (1 service's endpoints changed) %.3f s, %s --noflush "
           "(1 chain rewritten) %.3f s; libiptc no-change sync: %.4f s\n",
           partial, restore, restore_partial, nochange);
    printf("RATIO proxy_sync_libiptc_vs_restore %.2f\n", o > 0 ? t / o : 0);

    if (!getenv("CK_BENCH_PROXY_LAB") || strcmp(getenv("CK_BENCH_PROXY_LAB"), "0") != 0) {
        fflush(stdout);
        if (home_ns < 0 || setns(home_ns, CLONE_NEWNET) < 0) {
            printf("network programming latency: can't return to the original network "
                   "namespace: %s\n",
                   strerror(errno));
            goto out;
        }
        const char *argv[] = {"/bin/bash", "test/bench/bench_proxy_latency.sh", NULL};
        struct ck_buf out = CK_BUF_INIT;
        int st3 = access(argv[1], R_OK) == 0 ? run_tool(argv, NULL, &out) : -1;
        fputs(ck_buf_str(&out), stdout);
        if (st3 != 0)
            printf("network programming latency: %s failed (%d)\n", argv[1], st3);
        ck_buf_free(&out);
    }
out:
    if (home_ns >= 0)
        close(home_ns);
    ck_buf_free(&text);
    ck_buf_free(&one_text);
    kp_ruleset_free(rs);
    kp_ruleset_free(rs2);
    return rc == 0 ? 0 : 1;
}
