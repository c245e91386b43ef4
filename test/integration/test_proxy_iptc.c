/* Integration tests of kube-proxy's libiptc writer (proxy/iptc.c) against the REAL kernel and
 * iptables-legacy, in private network namespaces (needs root; skipped otherwise).
 *
 * Isolation: every test first moves this process into a brand-new network namespace
 * (unshare(CLONE_NEWNET)), so each one starts from empty tables and nothing ever reaches the
 * machine's own tables; a namespace vanishes with its last user, so even a crash leaves
 * nothing behind. The packet test adds two more namespaces ("client" and "endpoint") held by
 * child processes that die with us (PR_SET_PDEATHSIG) and are killed by the teardown; the
 * veth pairs go with their namespaces. The xtables lock is a private file, removed at exit.
 *
 * What is proven: the kernel holds exactly the rule set we render (iptables-save reads back
 * our text byte for byte), which is what upstream's restore input gives for the same
 * Services; packets follow it (cluster IP and node port reach the endpoints, both endpoints
 * get traffic, ClientIP affinity sticks, a service without endpoints refuses at once);
 * partial syncs leave unchanged chains (and their counters) alone and remove stale ones; a
 * flushed table is noticed through the canary and rewritten in full; jump rules are inserted
 * once; other chains are never touched; --cleanup removes everything of ours.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "proxy/iptc.h"
#include "proxy/rules.h"
#include "timeutil.h"

static struct {
    bool usable;
    char lock[64];
    pid_t holders[2]; /* client, endpoint namespaces */
    pthread_t server;
    bool server_running;
    volatile int stop_server;
    int listen_fd;
} T = {.listen_fd = -1};

#define CLIENT 0
#define ENDPOINT 1

/* ---- shell helpers ------------------------------------------------------------------------ */

/* Runs a shell command (in our current namespace); returns its output (caller frees) and
 * exit status. */
static char *run(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *run(int *status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    char *full = ck_xasprintf("%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    struct ck_buf b = CK_BUF_INIT;
    char chunk[4096];
    size_t n;
    while (p && (n = fread(chunk, 1, sizeof(chunk), p)) > 0)
        ck_buf_add(&b, chunk, n);
    int st = p ? pclose(p) : -1;
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (status)
        *status = rc;
    else if (rc != 0)
        fprintf(stderr, "# command failed (%d): %s\n# %s\n", rc, cmd, ck_buf_str(&b));
    free(cmd);
    free(full);
    return ck_buf_detach(&b);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    int st;
    char *out = run(&st, "%s", cmd);
    if (st != 0)
        fprintf(stderr, "# command failed (%d): %s\n# %s\n", st, cmd, out);
    free(out);
    free(cmd);
    assert_int_equal(st, 0);
}

/* iptables-save of one table without its "#" comment lines (caller frees). Without
 * counters, the built-in chains' policy counters (which traffic moves) read [0:0]. */
static char *save_table(const char *table, bool counters)
{
    char *raw = run(NULL, "iptables-legacy-save %s-t %s", counters ? "-c " : "", table);
    struct ck_buf b = CK_BUF_INIT;
    for (char *line = strtok(raw, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *bracket = line[0] == ':' ? strchr(line, '[') : NULL;
        if (bracket && !counters)
            strcpy(bracket, "[0:0]");
        ck_buf_puts(&b, line);
        ck_buf_putc(&b, '\n');
    }
    free(raw);
    return ck_buf_detach(&b);
}

/* Lines of text starting with prefix, in order (caller frees). */
static char *lines_with_prefix(const char *text, const char *prefix)
{
    struct ck_buf b = CK_BUF_INIT;
    size_t pl = strlen(prefix);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len >= pl && strncmp(p, prefix, pl) == 0) {
            ck_buf_add(&b, p, len);
            ck_buf_putc(&b, '\n');
        }
        p += len + (nl ? 1 : 0);
    }
    return ck_buf_detach(&b);
}

static size_t count_lines_with(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- namespaces --------------------------------------------------------------------------- */

/* Moves this process into a new, empty network namespace with lo up. */
static void fresh_netns(void)
{
    assert_int_equal(unshare(CLONE_NEWNET), 0);
    sh("ip link set lo up");
}

/* A child holding a new network namespace until killed (and dying with us). */
static pid_t spawn_holder(void)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char ok = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
        if (write(p[1], &ok, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    char ok = 'n';
    assert_int_equal(read(p[0], &ok, 1), 1);
    close(p[0]);
    assert_int_equal(ok, 'y');
    return pid;
}

static void kill_holders(void)
{
    for (int i = 0; i < 2; i++) {
        if (T.holders[i] > 0) {
            kill(T.holders[i], SIGKILL);
            waitpid(T.holders[i], NULL, 0);
            T.holders[i] = 0;
        }
    }
}

/* Runs fn with the calling thread inside holder h's namespace, then comes back. */
static int enter(int h)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)T.holders[h]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    assert_true(self >= 0);
    assert_int_equal(setns(fd, CLONE_NEWNET), 0);
    close(fd);
    return self; /* give back to leave() */
}

static void leave(int self)
{
    assert_int_equal(setns(self, CLONE_NEWNET), 0);
    close(self);
}

/* The endpoint's server: answers each connection with "<local address>:<what it read>". */
static void *server_main(void *arg)
{
    (void)arg;
    while (!T.stop_server) {
        struct pollfd pfd = {T.listen_fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        int c = accept(T.listen_fd, NULL, NULL);
        if (c < 0)
            continue;
        char in[64] = "", out[128];
        struct pollfd cp = {c, POLLIN, 0};
        ssize_t n = poll(&cp, 1, 1000) > 0 ? read(c, in, sizeof(in) - 1) : 0;
        in[n > 0 ? n : 0] = '\0';
        struct sockaddr_in local;
        socklen_t len = sizeof(local);
        getsockname(c, (struct sockaddr *)&local, &len);
        char ip[16];
        inet_ntop(AF_INET, &local.sin_addr, ip, sizeof(ip));
        int m = snprintf(out, sizeof(out), "%s:%s", ip, in);
        if (write(c, out, (size_t)m) < 0) {
            /* the client went away: nothing to do */
        }
        close(c);
    }
    return NULL;
}

/* node (this namespace) 10.99.1.1 <-veth-> client 10.99.1.2
 * node                  10.99.2.1 <-veth-> endpoint 10.99.2.2 + 10.99.2.3, server on :8080 */
static void topology_up(void)
{
    T.holders[CLIENT] = spawn_holder();
    T.holders[ENDPOINT] = spawn_holder();
    int c = T.holders[CLIENT], e = T.holders[ENDPOINT];
    sh("ip link add vc0 type veth peer name vc1 netns %d", c);
    sh("ip link add ve0 type veth peer name ve1 netns %d", e);
    sh("ip addr add 10.99.1.1/24 dev vc0 && ip link set vc0 up");
    sh("ip addr add 10.99.2.1/24 dev ve0 && ip link set ve0 up");
    sh("ip route add 10.96.0.0/16 via 10.99.2.2"); /* service IPs: forwarded, never local */
    sh("echo 1 > /proc/sys/net/ipv4/ip_forward");
    sh("nsenter --net=/proc/%d/ns/net sh -c 'ip link set lo up && ip addr add 10.99.1.2/24 dev "
       "vc1 && ip link set vc1 up && ip route add default via 10.99.1.1'",
       c);
    sh("nsenter --net=/proc/%d/ns/net sh -c 'ip link set lo up && ip addr add 10.99.2.2/24 dev "
       "ve1 && ip addr add 10.99.2.3/24 dev ve1 && ip link set ve1 up && ip route add default "
       "via 10.99.2.1'",
       e);
    int self = enter(ENDPOINT);
    T.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    leave(self);
    assert_true(T.listen_fd >= 0);
    int one = 1;
    setsockopt(T.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
    assert_int_equal(bind(T.listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(T.listen_fd, 64), 0);
    T.stop_server = 0;
    assert_int_equal(pthread_create(&T.server, NULL, server_main, NULL), 0);
    T.server_running = true;
}

static void topology_down(void)
{
    if (T.server_running) {
        T.stop_server = 1;
        pthread_join(T.server, NULL);
        T.server_running = false;
    }
    if (T.listen_fd >= 0) {
        close(T.listen_fd);
        T.listen_fd = -1;
    }
    kill_holders();
}

/* Connects from the client namespace to ip:port, sends "hi" and returns the answer in out.
 * Returns 0, or -errno (e.g. -ECONNREFUSED) with *elapsed_ms set. */
static int client_request(const char *ip, int port, char *out, size_t size, int64_t *elapsed_ms)
{
    int self = enter(CLIENT);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    leave(self);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    int64_t start = ck_mono_ns();
    int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        rc = poll(&p, 1, 3000);
        if (rc == 0) {
            rc = -ETIMEDOUT;
        } else {
            int err = 0;
            socklen_t len = sizeof(err);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            rc = -err;
        }
    } else if (rc < 0) {
        rc = -errno;
    }
    if (elapsed_ms)
        *elapsed_ms = (ck_mono_ns() - start) / 1000000;
    if (rc == 0) {
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        struct timeval tv = {3, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        assert_int_equal(write(fd, "hi", 2), 2);
        ssize_t n = 0, got;
        while ((size_t)n < size - 1 && (got = read(fd, out + n, size - 1 - (size_t)n)) > 0)
            n += got;
        out[n] = '\0';
    }
    close(fd);
    return rc;
}

/* ---- rule sets ------------------------------------------------------------------------------ */

static cJSON *parse_q(const char *text)
{
    char *s = ck_xstrdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    cJSON *j = ck_json_parse(s, strlen(s), NULL);
    free(s);
    assert_non_null(j);
    return j;
}

static struct kp_ruleset *build(const char *services, const char *slices, const char *cidr)
{
    cJSON *sa = parse_q(services), *ea = parse_q(slices);
    size_t ns = (size_t)cJSON_GetArraySize(sa), ne = (size_t)cJSON_GetArraySize(ea);
    const cJSON **sv = ck_xcalloc(ns + 1, sizeof(*sv)), **ev = ck_xcalloc(ne + 1, sizeof(*ev));
    for (size_t i = 0; i < ns; i++)
        sv[i] = cJSON_GetArrayItem(sa, (int)i);
    for (size_t i = 0; i < ne; i++)
        ev[i] = cJSON_GetArrayItem(ea, (int)i);
    struct kp_node_config nc;
    kp_node_config_init(&nc);
    nc.node_name = "test-node";
    nc.node_ip = "192.168.0.2";
    nc.local_cidr = cidr;
    struct kp_ruleset *rs = NULL;
    assert_int_equal(kp_rules_build(&nc, sv, ns, ev, ne, &rs), 0);
    free(sv);
    free(ev);
    cJSON_Delete(sa);
    cJSON_Delete(ea);
    return rs;
}

static struct kp_iptc *writer(void)
{
    struct kp_iptc_opts o = {.lock_path = T.lock, .lock_timeout_ms = 2000};
    return kp_iptc_new(&o);
}

static void expect_sync(struct kp_iptc *w, const struct kp_ruleset *rs, bool full,
                        struct kp_iptc_stats *st)
{
    int rc = kp_iptc_sync(w, rs, full, st);
    if (rc < 0)
        fprintf(stderr, "# sync failed: %s\n", st->error);
    assert_int_equal(rc, 0);
}

/* Every table as iptables-save prints it equals our rendering of it. */
static void assert_kernel_holds(const struct kp_ruleset *rs)
{
    for (int t = 0; t < KP_TABLE_COUNT; t++) {
        struct ck_buf want = CK_BUF_INIT;
        kp_ruleset_render(rs, (enum kp_table_id)t, KP_RENDER_BUILTINS, &want);
        char *got = save_table(kp_table_name((enum kp_table_id)t), false);
        if (strcmp(got, want.data) != 0)
            fprintf(stderr, "# table %s differs\n# want:\n%s# got:\n%s",
                    kp_table_name((enum kp_table_id)t), want.data, got);
        assert_string_equal(got, want.data);
        free(got);
        ck_buf_free(&want);
    }
}

/* upstream's TestOverallIPTablesRules input */
static const char overall_services[] =
    "[{'metadata':{'namespace':'ns1','name':'svc1'},'spec':{'clusterIP':'172.30.0.41','ports':["
    "{'name':'p80','port':80,'protocol':'TCP'}]}},"
    "{'metadata':{'namespace':'ns2','name':'svc2'},'spec':{'type':'LoadBalancer',"
    "'externalTrafficPolicy':'Local','clusterIP':'172.30.0.42','externalIPs':['192.168.99.22'],"
    "'healthCheckNodePort':30000,'ports':[{'name':'p80','port':80,'protocol':'TCP','nodePort':"
    "3001}]},'status':{'loadBalancer':{'ingress':[{'ip':'1.2.3.4'}]}}},"
    "{'metadata':{'namespace':'ns3','name':'svc3'},'spec':{'type':'NodePort','clusterIP':"
    "'172.30.0.43','ports':[{'name':'p80','port':80,'protocol':'TCP','nodePort':3003}]}},"
    "{'metadata':{'namespace':'ns4','name':'svc4'},'spec':{'type':'NodePort','clusterIP':"
    "'172.30.0.44','externalIPs':['192.168.99.33'],'ports':[{'name':'p80','port':80,'protocol':"
    "'TCP','targetPort':80}]}},"
    "{'metadata':{'namespace':'ns5','name':'svc5'},'spec':{'type':'LoadBalancer',"
    "'externalTrafficPolicy':'Cluster','clusterIP':'172.30.0.45','healthCheckNodePort':30000,"
    "'loadBalancerSourceRanges':[' 203.0.113.0/25'],'sessionAffinity':'ClientIP',"
    "'sessionAffinityConfig':{'clientIP':{'timeoutSeconds':10800}},'ports':[{'name':'p80','port':"
    "80,'protocol':'TCP','nodePort':3002}]},'status':{'loadBalancer':{'ingress':[{'ip':"
    "'5.6.7.8'}]}}},"
    "{'metadata':{'namespace':'ns6','name':'svc6'},'spec':{'type':'ClusterIP','clusterIP':"
    "'172.30.0.46','ports':[{'name':'p80','port':80,'protocol':'TCP','targetPort':80}]}}]";

#define SLICE(ns, svc, eps)                                                                        \
    "{'metadata':{'namespace':'" ns "','name':'" svc "-1','labels':{'kubernetes.io/service-name':" \
    "'" svc "'}},'addressType':'IPv4','endpoints':" eps ",'ports':[{'name':'p80','port':80,"       \
    "'protocol':'TCP'}]}"

static const char overall_slices[] =
    "[" SLICE("ns1", "svc1", "[{'addresses':['10.180.0.1']}]") "," SLICE("ns2", "svc2", "[{'addresses':['10.180.0.2']}]") "," SLICE(
        "ns3", "svc3",
        "[{'addresses':['10.180.0.3']}]") "," SLICE("ns4", "svc4",
                                                    "[{'addresses':['10.180.0.4']},{'"
                                                    "addresses':['10.180.0.5'],'nodeName':'"
                                                    "test-node'}]") "," SLICE("ns5", "svc5",
                                                                              "[{'"
                                                                              "addresses':["
                                                                              "'10.180.0.3'"
                                                                              "]}]") "]";

/* upstream's expected iptables-restore input for that (proxier_test.go), as upstream writes it
 * where nfacct is unavailable and --random-fully is supported */
static const char upstream_restore[] =
    "*filter\n"
    ":KUBE-NODEPORTS - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-EXTERNAL-SERVICES - [0:0]\n"
    ":KUBE-FIREWALL - [0:0]\n:KUBE-FORWARD - [0:0]\n:KUBE-PROXY-FIREWALL - [0:0]\n"
    "-A KUBE-NODEPORTS -m comment --comment \"ns2/svc2:p80 health check node port\" -m tcp -p tcp "
    "--dport 30000 -j ACCEPT\n"
    "-A KUBE-SERVICES -m comment --comment \"ns6/svc6:p80 has no endpoints\" -m tcp -p tcp -d "
    "172.30.0.46 --dport 80 -j REJECT\n"
    "-A KUBE-EXTERNAL-SERVICES -m comment --comment \"ns2/svc2:p80 has no local endpoints\" -m tcp "
    "-p tcp -d 192.168.99.22 --dport 80 -j DROP\n"
    "-A KUBE-EXTERNAL-SERVICES -m comment --comment \"ns2/svc2:p80 has no local endpoints\" -m tcp "
    "-p tcp -d 1.2.3.4 --dport 80 -j DROP\n"
    "-A KUBE-EXTERNAL-SERVICES -m comment --comment \"ns2/svc2:p80 has no local endpoints\" -m "
    "addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP\n"
    "-A KUBE-FIREWALL -m comment --comment \"block incoming localnet connections\" -d 127.0.0.0/8 "
    "! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n"
    "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"
    "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark "
    "0x4000/0x4000 -j ACCEPT\n"
    "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack "
    "--ctstate RELATED,ESTABLISHED -j ACCEPT\n"
    "-A KUBE-PROXY-FIREWALL -m comment --comment \"ns5/svc5:p80 traffic not accepted by "
    "KUBE-FW-NUKIZ6OKUXPJNT4C\" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP\n"
    "COMMIT\n"
    "*nat\n"
    ":KUBE-NODEPORTS - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-EXT-4SW47YFZTEDKD3PK - [0:0]\n"
    ":KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]\n:KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]\n"
    ":KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]\n:KUBE-FW-NUKIZ6OKUXPJNT4C - [0:0]\n"
    ":KUBE-MARK-MASQ - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]\n"
    ":KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]\n:KUBE-SEP-OYPFS5VJICHGATKP - [0:0]\n"
    ":KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]\n:KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]\n"
    ":KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]\n:KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]\n"
    ":KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]\n:KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]\n"
    ":KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]\n:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]\n"
    "-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j "
    "KUBE-EXT-GNZBNJ2PO5MGZ6GT\n"
    "-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j "
    "KUBE-EXT-X27LE4BHSL4DOUIK\n"
    "-A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 3002 -j "
    "KUBE-EXT-NUKIZ6OKUXPJNT4C\n"
    "-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d "
    "172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O\n"
    "-A KUBE-SERVICES -m comment --comment \"ns2/svc2:p80 cluster IP\" -m tcp -p tcp -d "
    "172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT\n"
    "-A KUBE-SERVICES -m comment --comment \"ns2/svc2:p80 external IP\" -m tcp -p tcp -d "
    "192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT\n"
    "-A KUBE-SERVICES -m comment --comment \"ns2/svc2:p80 loadbalancer IP\" -m tcp -p tcp -d "
    "1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT\n"
    "-A KUBE-SERVICES -m comment --comment \"ns3/svc3:p80 cluster IP\" -m tcp -p tcp -d "
    "172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK\n"
    "-A KUBE-SERVICES -m comment --comment \"ns4/svc4:p80 cluster IP\" -m tcp -p tcp -d "
    "172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK\n"
    "-A KUBE-SERVICES -m comment --comment \"ns4/svc4:p80 external IP\" -m tcp -p tcp -d "
    "192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK\n"
    "-A KUBE-SERVICES -m comment --comment \"ns5/svc5:p80 cluster IP\" -m tcp -p tcp -d "
    "172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C\n"
    "-A KUBE-SERVICES -m comment --comment \"ns5/svc5:p80 loadbalancer IP\" -m tcp -p tcp -d "
    "5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C\n"
    "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the "
    "last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n"
    "-A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment \"masquerade traffic for ns4/svc4:p80 "
    "external destinations\" -j KUBE-MARK-MASQ\n"
    "-A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK\n"
    "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment \"pod traffic for ns2/svc2:p80 external "
    "destinations\" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT\n"
    "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment \"masquerade LOCAL traffic for ns2/svc2:p80 "
    "external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ\n"
    "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment \"route LOCAL traffic for ns2/svc2:p80 "
    "external destinations\" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT\n"
    "-A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment \"masquerade traffic for ns5/svc5:p80 "
    "external destinations\" -j KUBE-MARK-MASQ\n"
    "-A KUBE-EXT-NUKIZ6OKUXPJNT4C -j KUBE-SVC-NUKIZ6OKUXPJNT4C\n"
    "-A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment \"masquerade traffic for ns3/svc3:p80 "
    "external destinations\" -j KUBE-MARK-MASQ\n"
    "-A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK\n"
    "-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment \"ns5/svc5:p80 loadbalancer IP\" -s "
    "203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C\n"
    "-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment \"other traffic to ns5/svc5:p80 will be "
    "dropped by KUBE-PROXY-FIREWALL\"\n"
    "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n"
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
    "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n"
    "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j "
    "MASQUERADE --random-fully\n"
    "-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT "
    "--to-destination 10.180.0.5:80\n"
    "-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --name "
    "KUBE-SEP-I77PXRDZVX7PMWMN --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80\n"
    "-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT "
    "--to-destination 10.180.0.3:80\n"
    "-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT "
    "--to-destination 10.180.0.2:80\n"
    "-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT "
    "--to-destination 10.180.0.1:80\n"
    "-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT "
    "--to-destination 10.180.0.4:80\n"
    "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 cluster IP\" -m tcp -p tcp "
    "-d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.4:80\" -m "
    "statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC\n"
    "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.5:80\" -j "
    "KUBE-SEP-C6EBXVWJJZMIWKLZ\n"
    "-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment \"ns2/svc2:p80 cluster IP\" -m tcp -p tcp "
    "-d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment \"ns2/svc2:p80 -> 10.180.0.2:80\" -j "
    "KUBE-SEP-RS4RBKLTHTF2IUXJ\n"
    "-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment \"ns5/svc5:p80 cluster IP\" -m tcp -p tcp "
    "-d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment \"ns5/svc5:p80 -> 10.180.0.3:80\" -m recent "
    "--name KUBE-SEP-I77PXRDZVX7PMWMN --rcheck --seconds 10800 --reap -j "
    "KUBE-SEP-I77PXRDZVX7PMWMN\n"
    "-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment \"ns5/svc5:p80 -> 10.180.0.3:80\" -j "
    "KUBE-SEP-I77PXRDZVX7PMWMN\n"
    "-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment \"ns3/svc3:p80 cluster IP\" -m tcp -p tcp "
    "-d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment \"ns3/svc3:p80 -> 10.180.0.3:80\" -j "
    "KUBE-SEP-OYPFS5VJICHGATKP\n"
    "-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp "
    "-d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -j "
    "KUBE-SEP-SXIVWICOYRO3J4NJ\n"
    "COMMIT\n";

/* ---- tests ---------------------------------------------------------------------------------- */

#define REQUIRE_ENV()                                                                              \
    do {                                                                                           \
        if (!T.usable)                                                                             \
            skip();                                                                                \
    } while (0)

/* Our libiptc write reads back, table by table, as exactly the text we render; and its KUBE
 * rules are what iptables-restore makes of upstream's own restore input for the same
 * Services. */
static void kernel_holds_what_upstream_would_write(void **state)
{
    (void)state;
    REQUIRE_ENV();
    fresh_netns();
    struct kp_ruleset *rs = build(overall_services, overall_slices, "10.0.0.0/8");
    struct kp_iptc *w = writer();
    struct kp_iptc_stats st;
    expect_sync(w, rs, true, &st);
    assert_true(st.full[KP_TABLE_NAT] && st.full[KP_TABLE_FILTER] && st.full[KP_TABLE_MANGLE]);
    assert_int_equal(st.jumps_added, 14);
    assert_kernel_holds(rs);

    char *ours = NULL;
    {
        char *f = save_table("filter", false), *n = save_table("nat", false);
        char *a = lines_with_prefix(f, "-A KUBE-"), *b = lines_with_prefix(n, "-A KUBE-");
        ours = ck_xasprintf("%s%s", a, b);
        free(f);
        free(n);
        free(a);
        free(b);
    }
    /* upstream's text through the real iptables-restore, in a namespace of its own */
    char path[64];
    snprintf(path, sizeof(path), "/tmp/ckproxy-%d-upstream.rules", (int)getpid());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(upstream_restore, fp);
    fclose(fp);
    char *theirs_raw = run(NULL,
                           "unshare -n sh -c 'iptables-legacy-restore < %s && "
                           "iptables-legacy-save -t filter && iptables-legacy-save -t nat'",
                           path);
    unlink(path);
    char *theirs = lines_with_prefix(theirs_raw, "-A KUBE-");
    if (strcmp(ours, theirs) != 0)
        fprintf(stderr, "# ours:\n%s# upstream's:\n%s", ours, theirs);
    assert_string_equal(ours, theirs);
    assert_int_equal(count_lines_with(theirs, "\n"), 62);
    free(theirs_raw);
    free(theirs);
    free(ours);
    kp_iptc_free(w);
    kp_ruleset_free(rs);
}

static const char echo_services[] =
    "[{'metadata':{'namespace':'ns1','name':'echo'},'spec':{'type':'NodePort','clusterIP':"
    "'10.96.0.50','ports':[{'name':'p80','port':80,'protocol':'TCP','nodePort':30080}]}},"
    "{'metadata':{'namespace':'ns1','name':'sticky'},'spec':{'clusterIP':'10.96.0.52',"
    "'sessionAffinity':'ClientIP','sessionAffinityConfig':{'clientIP':{'timeoutSeconds':60}},"
    "'ports':[{'name':'p80','port':80,'protocol':'TCP'}]}},"
    "{'metadata':{'namespace':'ns1','name':'empty'},'spec':{'clusterIP':'10.96.0.51','ports':"
    "[{'name':'p80','port':80,'protocol':'TCP'}]}}]";

#define ECHO_EPS                                                                                   \
    "[{'addresses':['10.99.2.2'],'nodeName':'test-node'},{'addresses':['10.99.2.3'],"              \
    "'nodeName':'test-node'}]"
#define ECHO_SLICE(svc)                                                                            \
    "{'metadata':{'namespace':'ns1','name':'" svc                                                  \
    "-1','labels':{'kubernetes.io/service-name':'" svc                                             \
    "'}},'addressType':'IPv4','endpoints':" ECHO_EPS ",'ports':[{'name':'p80','port':8080,"        \
    "'protocol':'TCP'}]}"
static const char echo_slices[] = "[" ECHO_SLICE("echo") "," ECHO_SLICE("sticky") "]";

static int teardown_topology(void **state)
{
    (void)state;
    topology_down();
    return 0;
}

/* Real packets: the cluster IP and the node port reach the endpoints, both endpoints serve,
 * ClientIP affinity sticks to one, and a service without endpoints refuses at once. */
static void packets_follow_the_rules(void **state)
{
    (void)state;
    REQUIRE_ENV();
    fresh_netns();
    topology_up();
    struct kp_ruleset *rs = build(echo_services, echo_slices, "10.244.0.0/16");
    struct kp_iptc *w = writer();
    struct kp_iptc_stats st;
    expect_sync(w, rs, true, &st);

    char answer[128];
    /* direct reachability first, so a failure below is the rules' fault */
    assert_int_equal(client_request("10.99.2.2", 8080, answer, sizeof(answer), NULL), 0);
    assert_string_equal(answer, "10.99.2.2:hi");

    bool seen2 = false, seen3 = false;
    for (int i = 0; i < 40 && !(seen2 && seen3); i++) {
        assert_int_equal(client_request("10.96.0.50", 80, answer, sizeof(answer), NULL), 0);
        seen2 |= strcmp(answer, "10.99.2.2:hi") == 0;
        seen3 |= strcmp(answer, "10.99.2.3:hi") == 0;
        assert_true(strcmp(answer, "10.99.2.2:hi") == 0 || strcmp(answer, "10.99.2.3:hi") == 0);
    }
    assert_true(seen2 && seen3); /* 2^-39 chance of a false failure */

    assert_int_equal(client_request("10.99.1.1", 30080, answer, sizeof(answer), NULL), 0);
    assert_true(strcmp(answer, "10.99.2.2:hi") == 0 || strcmp(answer, "10.99.2.3:hi") == 0);

    char first[128];
    assert_int_equal(client_request("10.96.0.52", 80, first, sizeof(first), NULL), 0);
    for (int i = 0; i < 15; i++) {
        assert_int_equal(client_request("10.96.0.52", 80, answer, sizeof(answer), NULL), 0);
        assert_string_equal(answer, first);
    }

    int64_t ms = -1;
    assert_int_equal(client_request("10.96.0.51", 80, answer, sizeof(answer), &ms), -ECONNREFUSED);
    assert_true(ms >= 0 && ms < 1000);

    kp_iptc_free(w);
    kp_ruleset_free(rs);
}

/* A partial sync rewrites only changed chains: the chains of an unchanged service keep their
 * rules and packet counters, a new service's chains appear, a removed one's vanish; a full
 * sync rewrites everything (counters start again). */
static void partial_sync_keeps_unchanged_chains(void **state)
{
    (void)state;
    REQUIRE_ENV();
    fresh_netns();
    topology_up();
    struct kp_ruleset *rs = build(echo_services, echo_slices, "10.244.0.0/16");
    struct kp_iptc *w = writer();
    struct kp_iptc_stats st;
    expect_sync(w, rs, true, &st);
    char answer[128];
    for (int i = 0; i < 3; i++)
        assert_int_equal(client_request("10.96.0.50", 80, answer, sizeof(answer), NULL), 0);
    char svc[KP_CHAIN_LABEL], added[KP_CHAIN_LABEL];
    kp_service_chain_name("KUBE-SVC-", "ns1/echo:p80", "tcp", svc);
    kp_service_chain_name("KUBE-SVC-", "ns1/added:p80", "tcp", added);
    char *pattern = ck_xasprintf("-A %s ! -s 10.244.0.0/16", svc);
    char *before = save_table("nat", true);
    char *masq = strstr(before, pattern);
    assert_non_null(masq);
    /* "[packets:bytes] -A ...": nat sees the first packet of each of the 3 connections */
    char *line_start = masq;
    while (line_start > before && line_start[-1] != '\n')
        line_start--;
    assert_true(strncmp(line_start, "[3:", 3) == 0);

    /* add a service: everything of echo is kept */
    static const char more_services[] =
        "[{'metadata':{'namespace':'ns1','name':'echo'},'spec':{'type':'NodePort','clusterIP':"
        "'10.96.0.50','ports':[{'name':'p80','port':80,'protocol':'TCP','nodePort':30080}]}},"
        "{'metadata':{'namespace':'ns1','name':'sticky'},'spec':{'clusterIP':'10.96.0.52',"
        "'sessionAffinity':'ClientIP','sessionAffinityConfig':{'clientIP':{'timeoutSeconds':60}},"
        "'ports':[{'name':'p80','port':80,'protocol':'TCP'}]}},"
        "{'metadata':{'namespace':'ns1','name':'added'},'spec':{'clusterIP':'10.96.0.53','ports':"
        "[{'name':'p80','port':80,'protocol':'TCP'}]}}]";
    static const char more_slices[] =
        "[" ECHO_SLICE("echo") "," ECHO_SLICE("sticky") "," ECHO_SLICE("added") "]";
    struct kp_ruleset *rs2 = build(more_services, more_slices, "10.244.0.0/16");
    expect_sync(w, rs2, false, &st);
    assert_false(st.full[KP_TABLE_NAT]);
    assert_int_equal(st.jumps_added, 0);
    assert_true(st.chains_kept >= 10);
    /* written: KUBE-SERVICES (nat) + added's SVC and two SEPs; filter lost the REJECT of empty */
    assert_int_equal(st.chains_written, 5);
    assert_kernel_holds(rs2);
    char *after = save_table("nat", true);
    char *still = strstr(after, pattern);
    assert_non_null(still);
    while (still > after && still[-1] != '\n')
        still--;
    assert_true(strncmp(still, "[3:", 3) == 0); /* counters survived: the chain was not touched */
    char *decl = ck_xasprintf(":%s - [0:0]", added);
    assert_non_null(strstr(after, decl));

    /* remove it again: its chains are deleted, the rest stays */
    expect_sync(w, rs, false, &st);
    assert_int_equal(st.chains_deleted, 3);
    assert_kernel_holds(rs);

    /* a full sync rewrites every chain */
    expect_sync(w, rs, true, &st);
    assert_int_equal(st.chains_kept, 0);
    char *full = save_table("nat", true);
    char *reset = strstr(full, pattern);
    assert_non_null(reset);
    while (reset > full && reset[-1] != '\n')
        reset--;
    assert_true(strncmp(reset, "[0:0]", 5) == 0);

    /* a rule someone slipped into our KUBE-SERVICES goes at the next (partial) sync; our
     * per-service chains are not rewritten for it */
    sh("iptables-legacy -w -t nat -I KUBE-SERVICES -s 10.1.2.3 -j RETURN");
    expect_sync(w, rs, false, &st);
    assert_false(st.full[KP_TABLE_NAT]);
    assert_true(st.committed[KP_TABLE_NAT]);
    assert_int_equal(st.chains_written, 5); /* nat's 4 fixed chains + its canary */
    assert_kernel_holds(rs);

    /* nothing changed: no commit at all */
    expect_sync(w, rs, false, &st);
    assert_false(st.committed[KP_TABLE_NAT] || st.committed[KP_TABLE_FILTER] ||
                 st.committed[KP_TABLE_MANGLE]);
    assert_int_equal(st.chains_written, 0);

    free(full);
    free(decl);
    free(after);
    free(before);
    free(pattern);
    kp_ruleset_free(rs2);
    kp_iptc_free(w);
    kp_ruleset_free(rs);
}

/* Someone flushes nat: the canary is gone, so the next (partial) sync rewrites nat in full,
 * jump rules included; the other tables are left as they are. */
static void flushed_table_is_rewritten_in_full(void **state)
{
    (void)state;
    REQUIRE_ENV();
    fresh_netns();
    struct kp_ruleset *rs = build(overall_services, overall_slices, "10.0.0.0/8");
    struct kp_iptc *w = writer();
    struct kp_iptc_stats st;
    expect_sync(w, rs, true, &st);
    sh("iptables-legacy -w -t nat -F && iptables-legacy -w -t nat -X");
    expect_sync(w, rs, false, &st);
    assert_true(st.full[KP_TABLE_NAT]);
    assert_false(st.full[KP_TABLE_FILTER]);
    assert_int_equal(st.jumps_added, 3); /* PREROUTING, OUTPUT, POSTROUTING */
    assert_kernel_holds(rs);
    kp_iptc_free(w);
    kp_ruleset_free(rs);
}

/* Jump rules go in once, at the top of the built-in chains; chains and rules that are not
 * ours survive syncs, stale-chain removal and --cleanup; --cleanup leaves no chain of ours. */
static void foreign_rules_survive_and_cleanup_removes_ours(void **state)
{
    (void)state;
    REQUIRE_ENV();
    fresh_netns();
    sh("iptables-legacy -w -t nat -N MY-CHAIN && iptables-legacy -w -t nat -A MY-CHAIN -j RETURN"
       " && iptables-legacy -w -t nat -A PREROUTING -p udp --dport 9 -j MY-CHAIN"
       " && iptables-legacy -w -t filter -N KUBE-KUBELET-CANARY"
       " && iptables-legacy -w -t filter -A INPUT -p tcp --dport 22 -j ACCEPT");
    struct kp_ruleset *rs = build(overall_services, overall_slices, "10.0.0.0/8");
    struct kp_iptc *w = writer();
    struct kp_iptc_stats st;
    expect_sync(w, rs, true, &st);
    kp_iptc_reset(w); /* as after a restart: another full sync */
    expect_sync(w, rs, true, &st);
    assert_int_equal(st.jumps_added, 0);
    char *nat = save_table("nat", false);
    assert_int_equal(count_lines_with(nat, "-j KUBE-SERVICES\n"), 2); /* PREROUTING + OUTPUT */
    /* ours prepended above the foreign rule */
    assert_non_null(strstr(nat, "-A PREROUTING -m comment --comment \"kubernetes service "
                                "portals\" -j KUBE-SERVICES\n-A PREROUTING -p udp -m udp "
                                "--dport 9 -j MY-CHAIN\n"));
    assert_non_null(strstr(nat, "-A MY-CHAIN -j RETURN\n"));
    free(nat);

    assert_int_equal(kp_iptc_cleanup(&(struct kp_iptc_opts){.lock_path = T.lock}, &st), 0);
    assert_int_equal(st.chains_deleted, 29); /* 7 filter, 21 nat, the mangle canary */
    assert_int_equal(st.jumps_removed, 14);
    char *f = save_table("filter", false), *n = save_table("nat", false),
         *m = save_table("mangle", false);
    assert_string_equal(n, "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n"
                           ":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
                           ":MY-CHAIN - [0:0]\n-A PREROUTING -p udp -m udp --dport 9 -j MY-CHAIN\n"
                           "-A MY-CHAIN -j RETURN\nCOMMIT\n");
    assert_string_equal(f, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
                           ":OUTPUT ACCEPT [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\n"
                           "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n");
    assert_null(strstr(m, "KUBE-"));
    /* a second cleanup finds nothing to do */
    assert_int_equal(kp_iptc_cleanup(&(struct kp_iptc_opts){.lock_path = T.lock}, &st), 0);
    assert_int_equal(st.chains_deleted, 0);
    free(f);
    free(n);
    free(m);
    kp_iptc_free(w);
    kp_ruleset_free(rs);
}

/* A rule the kernel refuses fails the sync with libiptc's reason, and the writer falls back to
 * a full sync next time. */
static void refused_commit_is_reported_and_forces_full(void **state)
{
    (void)state;
    REQUIRE_ENV();
    fresh_netns();
    struct kp_ruleset *rs = build(overall_services, overall_slices, "10.0.0.0/8");
    struct kp_iptc *w = writer();
    struct kp_iptc_stats st;
    expect_sync(w, rs, true, &st);
    /* DNAT is only valid in nat: smuggle one into a filter chain */
    struct kp_ruleset *bad = build(overall_services, overall_slices, "10.0.0.0/8");
    struct kp_rule *r = NULL;
    for (size_t i = 0; i < bad->tables[KP_TABLE_FILTER].n && !r; i++)
        if (bad->tables[KP_TABLE_FILTER].chains[i].n > 0)
            r = &bad->tables[KP_TABLE_FILTER].chains[i].rules[0];
    assert_non_null(r);
    r->proto = IPPROTO_TCP;
    r->t.type = KP_TARGET_DNAT;
    r->t.ip = 0x0a000001;
    r->t.port = 80;
    assert_true(kp_iptc_sync(w, bad, false, &st) < 0);
    assert_non_null(strstr(st.error, "committing table `filter'"));
    assert_kernel_holds(rs); /* nothing of the failed sync reached the kernel */
    expect_sync(w, rs, false, &st);
    assert_true(st.full[KP_TABLE_FILTER] && st.full[KP_TABLE_NAT]);
    kp_ruleset_free(bad);
    kp_iptc_free(w);
    kp_ruleset_free(rs);
}

/* The lock iptables takes serializes us with it: held by someone else, we time out. */
static void xtables_lock_is_honoured(void **state)
{
    (void)state;
    REQUIRE_ENV();
    fresh_netns();
    int fd = open(T.lock, O_CREAT | O_RDONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* a separate open file description, as another iptables would have */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int f2 = open(T.lock, O_RDONLY);
        if (f2 < 0 || flock(f2, LOCK_EX) < 0)
            _exit(1);
        pause();
        _exit(0);
    }
    usleep(200 * 1000);
    struct kp_ruleset *rs = build(overall_services, overall_slices, "10.0.0.0/8");
    struct kp_iptc_opts o = {.lock_path = T.lock, .lock_timeout_ms = 300};
    struct kp_iptc *w = kp_iptc_new(&o);
    struct kp_iptc_stats st;
    assert_int_equal(kp_iptc_sync(w, rs, true, &st), -ETIMEDOUT);
    assert_non_null(strstr(st.error, "xtables lock"));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    expect_sync(w, rs, true, &st);
    close(fd);
    kp_iptc_free(w);
    kp_ruleset_free(rs);
}

static void remove_lock(void)
{
    if (T.lock[0])
        unlink(T.lock);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(T.lock, sizeof(T.lock), "/tmp/ckproxy-%d.lock", (int)getpid());
    atexit(remove_lock);
    atexit(kill_holders);
    int st = -1;
    char *out = run(&st, "command -v iptables-legacy-save && command -v iptables-legacy-restore && "
                         "command -v nsenter && command -v ip");
    free(out);
    T.usable = geteuid() == 0 && st == 0;
    if (T.usable) {
        /* probe: can we make a namespace and use iptables in it? */
        pid_t pid = fork();
        if (pid == 0)
            _exit(unshare(CLONE_NEWNET) == 0 &&
                          system("iptables-legacy-save -t nat >/dev/null") == 0
                      ? 0
                      : 1);
        int ws = 0;
        waitpid(pid, &ws, 0);
        T.usable = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
    }
    if (!T.usable)
        fprintf(stderr, "# needs root, network namespaces and iptables-legacy: skipping\n");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    topology_down();
    remove_lock();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_holds_what_upstream_would_write),
        cmocka_unit_test_teardown(packets_follow_the_rules, teardown_topology),
        cmocka_unit_test_teardown(partial_sync_keeps_unchanged_chains, teardown_topology),
        cmocka_unit_test(flushed_table_is_rewritten_in_full),
        cmocka_unit_test(foreign_rules_survive_and_cleanup_removes_ours),
        cmocka_unit_test(refused_commit_is_reported_and_forces_full),
        cmocka_unit_test(xtables_lock_is_honoured),
    };
    return cmocka_run_group_tests_name("proxy_iptc", tests, group_setup, group_teardown);
}
