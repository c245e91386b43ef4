/* Unit tests for proxy/conntrack.c: parsing `conntrack -L` lines, upstream's choice of stale
 * UDP flows (original destination a service IP:port or a node port, reply source not a
 * serving endpoint), the delete commands, and kp_ct_clean end to end against a fake conntrack
 * tool (a shell script that prints a listing and records the deletes it is asked for). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "proxy/conntrack.h"
#include "proxy/rules.h"

static uint32_t ip(const char *s)
{
    uint32_t v = 0;
    assert_int_equal(kp_parse_ipv4(s, &v), 0);
    return v;
}

/* ---- parsing ------------------------------------------------------------------------------ */

static const struct {
    const char *line;
    int rc;
    uint8_t proto;
    const char *orig_dst, *reply_src;
    uint16_t dport;
} parse_cases[] = {
    /* a DNATed UDP flow, as conntrack 1.4.7 prints it */
    {"udp      17 29 src=10.250.77.11 dst=10.171.145.85 sport=45726 dport=81 src=10.231.1.2 "
     "dst=10.231.1.1 sport=8081 dport=46352 mark=0 use=1\n",
     0, IPPROTO_UDP, "10.171.145.85", "10.231.1.2", 81},
    /* UNREPLIED between the tuples, and -o extended's "ipv4 2" prefix */
    {"ipv4     2 udp      17 25 src=10.0.0.5 dst=10.96.0.10 sport=5353 dport=53 [UNREPLIED] "
     "src=10.244.1.7 dst=10.0.0.5 sport=53 dport=5353 mark=0 use=1",
     0, IPPROTO_UDP, "10.96.0.10", "10.244.1.7", 53},
    /* a TCP flow has its state word before the tuples */
    {"tcp      6 431999 ESTABLISHED src=1.2.3.4 dst=5.6.7.8 sport=1 dport=80 src=9.9.9.9 "
     "dst=1.2.3.4 sport=8080 dport=1 [ASSURED] mark=0 use=1",
     0, IPPROTO_TCP, "5.6.7.8", "9.9.9.9", 80},
    /* what is not an IPv4 entry with both tuples */
    {"conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.", -EINVAL, 0, NULL, NULL,
     0},
    {"ipv6     10 udp      17 29 src=fd00::1 dst=fd00::2 sport=1 dport=2 src=fd00::2 dst=fd00::1 "
     "sport=2 dport=1",
     -EINVAL, 0, NULL, NULL, 0},
    {"udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2", -EINVAL, 0, NULL, NULL, 0},
    {"udp      17 29 src=10.0.0.1 dst=300.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 "
     "sport=2 dport=1",
     -EINVAL, 0, NULL, NULL, 0},
    {"udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=70000 src=10.0.0.2 dst=10.0.0.1 "
     "sport=2 dport=1",
     -EINVAL, 0, NULL, NULL, 0},
    {"udp 17 29 src= dst= sport= dport= src= dst=", -EINVAL, 0, NULL, NULL, 0},
    {"", -EINVAL, 0, NULL, NULL, 0},
    {"   \n", -EINVAL, 0, NULL, NULL, 0},
};

static void parses_conntrack_listing_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        struct kp_ct_flow f;
        int rc = kp_ct_parse_line(parse_cases[i].line, &f);
        if (rc != parse_cases[i].rc)
            fail_msg("case %zu: rc %d, want %d", i, rc, parse_cases[i].rc);
        if (rc < 0)
            continue;
        assert_int_equal(f.proto, parse_cases[i].proto);
        assert_int_equal(f.orig_dst, ip(parse_cases[i].orig_dst));
        assert_int_equal(f.reply_src, ip(parse_cases[i].reply_src));
        assert_int_equal(f.orig_dport, parse_cases[i].dport);
    }
    struct kp_ct_flow f;
    assert_int_equal(kp_ct_parse_line(NULL, &f), -EINVAL);
}

/* ---- the rule set's UDP services ----------------------------------------------------------- */

/* A UDP+TCP service "ns/dns" (cluster IP 172.30.0.10, external IP 1.1.1.1, UDP node port
 * 30053) with endpoints 10.1.0.1 (ready), 10.1.0.2 (not serving) and 10.1.0.3 (ready). */
static const char services_json[] =
    "[{'metadata':{'name':'dns','namespace':'ns'},'spec':{'clusterIP':'172.30.0.10','type':"
    "'NodePort','externalIPs':['1.1.1.1'],'ports':[{'name':'udp','port':53,'protocol':'UDP',"
    "'nodePort':30053},{'name':'tcp','port':53,'protocol':'TCP','nodePort':30054}]}},"
    "{'metadata':{'name':'web','namespace':'ns'},'spec':{'clusterIP':'172.30.0.20','ports':"
    "[{'name':'p','port':80,'protocol':'TCP'}]}}]";
static const char slices_json[] =
    "[{'metadata':{'name':'dns-1','namespace':'ns','labels':{'kubernetes.io/service-name':"
    "'dns'}},'addressType':'IPv4','ports':[{'name':'udp','port':5353,'protocol':'UDP'},{'name':"
    "'tcp','port':5353,'protocol':'TCP'}],'endpoints':[{'addresses':['10.1.0.1']},"
    "{'addresses':['10.1.0.2'],'conditions':{'ready':false,'serving':false}},{'addresses':"
    "['10.1.0.3'],'conditions':{'ready':true}}]}]";

static cJSON *parse_quoted(const char *text)
{
    char *s = ck_xstrdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    cJSON *a = ck_json_parse(s, strlen(s), NULL);
    free(s);
    assert_non_null(a);
    return a;
}

static struct kp_ruleset *build_rules(void)
{
    cJSON *sa = parse_quoted(services_json), *ea = parse_quoted(slices_json);
    const cJSON *sv[4], *ev[4];
    size_t ns = 0, ne = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, sa) sv[ns++] = it;
    cJSON_ArrayForEach(it, ea) ev[ne++] = it;
    struct kp_node_config nc;
    kp_node_config_init(&nc);
    nc.node_name = "node-1";
    struct kp_ruleset *rs = NULL;
    assert_int_equal(kp_rules_build(&nc, sv, ns, ev, ne, &rs), 0);
    cJSON_Delete(sa);
    cJSON_Delete(ea);
    return rs;
}

static void ruleset_lists_udp_service_ports_with_serving_endpoints(void **state)
{
    (void)state;
    struct kp_ruleset *rs = build_rules();
    /* only the UDP port of ns/dns: TCP ports are never cleaned */
    assert_int_equal(rs->nudp, 1);
    const struct kp_udp_service *u = &rs->udp[0];
    assert_int_equal(u->port, 53);
    assert_int_equal(u->node_port, 30053);
    assert_int_equal(u->nips, 2);
    assert_int_equal(u->ips[0], ip("172.30.0.10"));
    assert_int_equal(u->ips[1], ip("1.1.1.1"));
    /* the endpoint that is not serving is not one traffic may stick to */
    assert_int_equal(u->neps, 2);
    assert_int_equal(u->eps[0], ip("10.1.0.1"));
    assert_int_equal(u->eps[1], ip("10.1.0.3"));
    kp_ruleset_free(rs);
}

/* ---- stale flows ---------------------------------------------------------------------------- */

static const struct {
    const char *what;
    uint8_t proto;
    const char *orig_dst;
    uint16_t dport;
    const char *reply_src;
    /* the filter wanted: 0 none, else KP_CT_NAT / KP_CT_PORT_NAT */
    int kind;
} stale_cases[] = {
    {"to a serving endpoint", IPPROTO_UDP, "172.30.0.10", 53, "10.1.0.1", 0},
    {"to a removed endpoint", IPPROTO_UDP, "172.30.0.10", 53, "10.1.0.9", KP_CT_NAT},
    {"to an endpoint that stopped serving", IPPROTO_UDP, "172.30.0.10", 53, "10.1.0.2", KP_CT_NAT},
    {"via the external IP to a removed endpoint", IPPROTO_UDP, "1.1.1.1", 53, "10.1.0.9",
     KP_CT_NAT},
    /* blackholed while the service had no endpoints: the reply source is the service itself */
    {"never DNATed", IPPROTO_UDP, "172.30.0.10", 53, "172.30.0.10", KP_CT_NAT},
    {"another port of the service IP", IPPROTO_UDP, "172.30.0.10", 54, "10.1.0.9", 0},
    {"TCP to the same IP and port", IPPROTO_TCP, "172.30.0.10", 53, "10.1.0.9", 0},
    {"not a service IP", IPPROTO_UDP, "172.30.0.99", 53, "10.1.0.9", 0},
    {"node port to a removed endpoint", IPPROTO_UDP, "192.168.0.2", 30053, "10.1.0.9",
     KP_CT_PORT_NAT},
    {"node port to a serving endpoint", IPPROTO_UDP, "192.168.0.2", 30053, "10.1.0.3", 0},
    {"the TCP node port over UDP", IPPROTO_UDP, "192.168.0.2", 30054, "10.1.0.9", 0},
};

static void stale_udp_flows_are_those_upstream_clears(void **state)
{
    (void)state;
    struct kp_ruleset *rs = build_rules();
    for (size_t i = 0; i < sizeof(stale_cases) / sizeof(stale_cases[0]); i++) {
        struct kp_ct_flow f = {stale_cases[i].proto, ip(stale_cases[i].orig_dst),
                               stale_cases[i].dport, ip(stale_cases[i].reply_src)};
        struct kp_ct_filter *v = NULL;
        size_t n = kp_ct_stale(rs, &f, 1, &v);
        if (n != (stale_cases[i].kind ? 1u : 0u))
            fail_msg("%s: %zu filters", stale_cases[i].what, n);
        if (n) {
            assert_int_equal(v[0].kind, stale_cases[i].kind);
            assert_int_equal(v[0].reply_src, f.reply_src);
            if (v[0].kind == KP_CT_NAT)
                assert_int_equal(v[0].orig_dst, f.orig_dst);
            else
                assert_int_equal(v[0].port, f.orig_dport);
        }
        free(v);
    }
    kp_ruleset_free(rs);
}

static void stale_filters_are_deduplicated_in_first_seen_order(void **state)
{
    (void)state;
    struct kp_ruleset *rs = build_rules();
    struct kp_ct_flow flows[] = {
        {IPPROTO_UDP, ip("172.30.0.10"), 53, ip("10.1.0.8")},
        {IPPROTO_UDP, ip("172.30.0.10"), 53, ip("10.1.0.9")},
        {IPPROTO_UDP, ip("172.30.0.10"), 53, ip("10.1.0.8")}, /* another client, same pair */
        {IPPROTO_UDP, ip("10.250.0.11"), 30053, ip("10.1.0.8")},
        {IPPROTO_UDP, ip("10.250.0.12"), 30053, ip("10.1.0.8")}, /* same port, same endpoint */
    };
    struct kp_ct_filter *v = NULL;
    size_t n = kp_ct_stale(rs, flows, 5, &v);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].reply_src, ip("10.1.0.8"));
    assert_int_equal(v[1].reply_src, ip("10.1.0.9"));
    assert_int_equal(v[2].kind, KP_CT_PORT_NAT);
    assert_int_equal(v[2].port, 30053);
    free(v);
    /* nothing to do without flows or without UDP services */
    assert_int_equal(kp_ct_stale(rs, flows, 0, &v), 0);
    assert_null(v);
    struct kp_ruleset empty = {0};
    assert_int_equal(kp_ct_stale(&empty, flows, 5, &v), 0);
    assert_null(v);
    kp_ruleset_free(rs);
}

static void delete_commands_are_the_conntrack_tools(void **state)
{
    (void)state;
    static const struct {
        struct kp_ct_filter f;
        const char *want;
    } cases[] = {
        {{KP_CT_NAT, 0xac1e000a, 0, 0x0a010009},
         "conntrack -D -p udp --orig-dst 172.30.0.10 --reply-src 10.1.0.9"},
        {{KP_CT_PORT_NAT, 0, 30053, 0x0a010009},
         "conntrack -D -p udp --orig-port-dst 30053 --reply-src 10.1.0.9"},
    };
    for (size_t i = 0; i < 2; i++) {
        char bufs[2][24];
        const char *argv[9];
        kp_ct_filter_argv("conntrack", &cases[i].f, bufs, argv);
        struct ck_buf b = CK_BUF_INIT;
        for (size_t k = 0; argv[k]; k++)
            ck_buf_printf(&b, "%s%s", k ? " " : "", argv[k]);
        assert_string_equal(ck_buf_str(&b), cases[i].want);
        ck_buf_free(&b);
    }
}

/* ---- kp_ct_clean with a fake tool ----------------------------------------------------------- */

static void clean_runs_the_listing_and_the_deletes(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_proxy_conntrack.XXXXXX";
    assert_non_null(mkdtemp(dir));
    CK_AUTOFREE char *tool = ck_xasprintf("%s/conntrack", dir);
    CK_AUTOFREE char *log = ck_xasprintf("%s/calls", dir);
    FILE *f = fopen(tool, "w");
    assert_non_null(f);
    fprintf(f,
            "#!/bin/sh\n"
            "echo \"$*\" >>'%s'\n"
            "if [ \"$1\" = -L ]; then\n"
            "  echo 'udp      17 29 src=10.250.0.11 dst=172.30.0.10 sport=4000 dport=53 "
            "src=10.1.0.1 dst=10.250.0.11 sport=5353 dport=4000 mark=0 use=1'\n"
            "  echo 'udp      17 29 src=10.250.0.11 dst=172.30.0.10 sport=4001 dport=53 "
            "[UNREPLIED] src=10.1.0.7 dst=10.250.0.11 sport=5353 dport=4001 mark=0 use=1'\n"
            "  echo 'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.' >&2\n"
            "  exit 0\n"
            "fi\n"
            "echo 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.' >&2\n"
            "exit 1\n",
            log);
    fclose(f);
    assert_int_equal(chmod(tool, 0755), 0);

    struct kp_ruleset *rs = build_rules();
    struct kp_ct_stats st;
    assert_int_equal(kp_ct_clean(tool, rs, &st), 0);
    assert_int_equal(st.flows, 2);
    assert_int_equal(st.filters, 1);
    /* "nothing deleted" (exit 1) is no failure */
    assert_int_equal(st.failures, 0);
    f = fopen(log, "r");
    assert_non_null(f);
    char calls[512] = "";
    size_t got = fread(calls, 1, sizeof(calls) - 1, f);
    calls[got] = '\0';
    fclose(f);
    assert_string_equal(calls, "-L -p udp -f ipv4\n"
                               "-D -p udp --orig-dst 172.30.0.10 --reply-src 10.1.0.7\n");

    /* a missing tool is an error, not a crash; no UDP service: the tool is not even run */
    CK_AUTOFREE char *missing = ck_xasprintf("%s/no-such-tool", dir);
    assert_int_equal(kp_ct_clean(missing, rs, &st), -ENOENT);
    struct kp_ruleset empty = {0};
    assert_int_equal(kp_ct_clean(missing, &empty, &st), 0);
    assert_int_equal(st.flows, 0);
    assert_int_equal(kp_ct_clean(NULL, rs, &st), -EINVAL);

    kp_ruleset_free(rs);
    unlink(tool);
    unlink(log);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_conntrack_listing_lines),
        cmocka_unit_test(ruleset_lists_udp_service_ports_with_serving_endpoints),
        cmocka_unit_test(stale_udp_flows_are_those_upstream_clears),
        cmocka_unit_test(stale_filters_are_deduplicated_in_first_seen_order),
        cmocka_unit_test(delete_commands_are_the_conntrack_tools),
        cmocka_unit_test(clean_runs_the_listing_and_the_deletes),
    };
    return cmocka_run_group_tests_name("proxy_conntrack", tests, NULL, NULL);
}
