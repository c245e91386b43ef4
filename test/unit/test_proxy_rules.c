/* Unit tests for proxy/rules.c: Services + EndpointSlices -> kube-proxy's iptables rule set, in
 * iptables-save text. Chain names and rule texts are upstream's: the "overall" case is
 * upstream's TestOverallIPTablesRules (pkg/proxy/iptables/proxier_test.go), whose expected
 * restore input was loaded with the real iptables-restore and read back with iptables-save to
 * get the lines below (with --random-fully and without nfacct, as upstream writes on a host
 * without nfacct); the table-driven cases cover one feature each. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "proxy/rules.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* Parses a JSON array written with single quotes (for readability) into its items. */
static cJSON *parse_array(const char *text)
{
    if (!text)
        return cJSON_CreateArray();
    char *s = ck_xstrdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    cJSON *a = ck_json_parse(s, strlen(s), NULL);
    free(s);
    assert_non_null(a);
    assert_true(cJSON_IsArray(a));
    return a;
}

static const cJSON **items_of(const cJSON *a, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(a);
    const cJSON **v = ck_xcalloc(*n + 1, sizeof(*v));
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) v[i++] = it;
    return v;
}

static void test_node(struct kp_node_config *nc)
{
    kp_node_config_init(nc);
    nc->node_name = "test-node";
    nc->node_ip = "192.168.0.2";
    nc->local_cidr = "10.0.0.0/8";
}

struct rendered {
    char *table[KP_TABLE_COUNT];
    struct kp_ruleset_stats stats;
};

static void build(const char *services, const char *slices, const struct kp_node_config *nc,
                  struct rendered *out)
{
    cJSON *sa = parse_array(services), *ea = parse_array(slices);
    size_t ns, ne;
    const cJSON **sv = items_of(sa, &ns), **ev = items_of(ea, &ne);
    struct kp_ruleset *rs = NULL;
    assert_int_equal(kp_rules_build(nc, sv, ns, ev, ne, &rs), 0);
    for (int t = 0; t < KP_TABLE_COUNT; t++) {
        struct ck_buf b = CK_BUF_INIT;
        ck_buf_putc(&b, '\n');
        kp_ruleset_render(rs, (enum kp_table_id)t, 0, &b);
        out->table[t] = ck_buf_detach(&b);
    }
    out->stats = rs->stats;
    kp_ruleset_free(rs);
    free(sv);
    free(ev);
    cJSON_Delete(sa);
    cJSON_Delete(ea);
}

static void rendered_free(struct rendered *r)
{
    for (int t = 0; t < KP_TABLE_COUNT; t++)
        free(r->table[t]);
}

/* "nat|<line>": the nat table holds exactly this line; "!nat|<text>": no line of it contains
 * text. Prints the table when the expectation fails. */
static void check(const struct rendered *r, const char *spec)
{
    bool negate = spec[0] == '!';
    if (negate)
        spec++;
    const char *bar = strchr(spec, '|');
    assert_non_null(bar);
    enum kp_table_id t = strncmp(spec, "nat", 3) == 0      ? KP_TABLE_NAT
                         : strncmp(spec, "filter", 6) == 0 ? KP_TABLE_FILTER
                                                           : KP_TABLE_MANGLE;
    const char *text = r->table[t];
    bool found;
    if (negate) {
        found = strstr(text, bar + 1) != NULL;
    } else {
        char *line = ck_xasprintf("\n%s\n", bar + 1);
        found = strstr(text, line) != NULL;
        free(line);
    }
    if (found == negate)
        fprintf(stderr, "# %s expectation failed: %s%s\n# table:%.4000s", negate ? "negative" : "",
                negate ? "!" : "", spec, text);
    assert_true(found != negate);
}

/* ---- table-driven cases --------------------------------------------------------------------- */

#define SVC1 "'metadata':{'namespace':'ns1','name':'svc1'}"
#define P80 "'ports':[{'name':'p80','port':80,'protocol':'TCP'}]"
#define SLICE(ns, svc, name, eps, ports)                                                           \
    "{'metadata':{'namespace':'" ns "','name':'" name                                              \
    "','labels':{'kubernetes.io/service-name':'" svc "'}},'addressType':'IPv4','endpoints':" eps   \
    ",'ports':" ports "}"
#define EP80 "[{'name':'p80','port':80,'protocol':'TCP'}]"
#define CLUSTERIP1 "[{" SVC1 ",'spec':{'type':'ClusterIP','clusterIP':'172.30.0.41'," P80 "}}]"

/* the three rules every KUBE-SVC/KUBE-SEP of ns1/svc1:p80 -> 10.180.0.1:80 has */
#define SVC1_MASQ                                                                                  \
    "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O ! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m comment "        \
    "--comment \"ns1/svc1:p80 cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ"
#define SEP1_HAIRPIN                                                                               \
    "nat|-A KUBE-SEP-SXIVWICOYRO3J4NJ -s 10.180.0.1/32 -m comment --comment \"ns1/svc1:p80\" -j "  \
    "KUBE-MARK-MASQ"
#define SEP1_DNAT                                                                                  \
    "nat|-A KUBE-SEP-SXIVWICOYRO3J4NJ -p tcp -m comment --comment \"ns1/svc1:p80\" -m tcp -j "     \
    "DNAT --to-destination 10.180.0.1:80"

struct rcase {
    const char *name;
    const char *services, *slices; /* JSON arrays, single-quoted */
    void (*tweak)(struct kp_node_config *nc);
    const char *const *expect; /* NULL-terminated */
    size_t service_ports, endpoints, no_local_internal, no_local_external;
};

static void no_localhost_nodeports(struct kp_node_config *nc)
{
    nc->localhost_nodeports = false;
}

static void nodeport_addresses(struct kp_node_config *nc)
{
    static const char *const ips[] = {"192.168.0.2", "127.0.0.1"};
    nc->localhost_nodeports = false;
    nc->nodeport_ips = ips;
    nc->n_nodeport_ips = 2;
}

static void masquerade_all(struct kp_node_config *nc)
{
    nc->masquerade_all = true;
    nc->masquerade_bit = 0;
    nc->conntrack_tcp_liberal = true;
    nc->random_fully = false;
}

static void no_local_detector(struct kp_node_config *nc)
{
    nc->local_cidr = NULL;
}

static void zone_a(struct kp_node_config *nc)
{
    nc->zone = "zone-a";
}

static void node_in_source_range(struct kp_node_config *nc)
{
    nc->node_ip = "203.0.113.5";
}

static const struct rcase rcases[] = {
    {
        .name = "ClusterIP without endpoints is rejected in filter KUBE-SERVICES, no nat chains",
        .services = CLUSTERIP1,
        .expect =
            (const char *const[]){
                "filter|-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "
                "\"ns1/svc1:p80 has no endpoints\" -m tcp --dport 80 -j REJECT --reject-with "
                "icmp-port-unreachable",
                "!nat|KUBE-SVC-XPGD46QRK7WJZT7O",
                "!nat|ns1/svc1",
                NULL,
            },
        .service_ports = 1,
    },
    {
        .name = "ClusterIP with one endpoint: SVC -> SEP with hairpin masquerade and DNAT",
        .services = CLUSTERIP1,
        .slices = "[" SLICE("ns1", "svc1", "svc1-abc", "[{'addresses':['10.180.0.1']}]", EP80) "]",
        .expect =
            (const char *const[]){
                "nat|:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]",
                "nat|:KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]",
                "nat|-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "
                "\"ns1/svc1:p80 cluster IP\" -m tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O",
                SVC1_MASQ,
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.1:80\" -j KUBE-SEP-SXIVWICOYRO3J4NJ",
                SEP1_HAIRPIN,
                SEP1_DNAT,
                "!nat|statistic",
                "!filter|ns1/svc1",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 1,
    },
    {
        .name = "three endpoints: sorted as strings, 1/3 then 1/2 then the rest",
        .services = CLUSTERIP1,
        .slices = "[" SLICE("ns1", "svc1", "svc1-abc",
                            "[{'addresses':['10.180.0.3']},{'addresses':['10.180.0.10']},"
                            "{'addresses':['10.180.0.2']}]",
                            EP80) "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.10:80\" -m statistic --mode random --probability 0.33333333349 -j "
                "KUBE-SEP-A6IB6ZRNSXM7OKSA",
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.2:80\" -m statistic --mode random --probability 0.50000000000 -j "
                "KUBE-SEP-LXVODXWDISEETFEF",
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.3:80\" -j KUBE-SEP-ICDUIKC33SFI6ZPR",
                "nat|-A KUBE-SEP-A6IB6ZRNSXM7OKSA -p tcp -m comment --comment \"ns1/svc1:p80\" -m "
                "tcp -j DNAT --to-destination 10.180.0.10:80",
                "nat|-A KUBE-SEP-ICDUIKC33SFI6ZPR -s 10.180.0.3/32 -m comment --comment "
                "\"ns1/svc1:p80\" -j KUBE-MARK-MASQ",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 3,
    },
    {
        .name = "LoadBalancer: ingress IP to KUBE-EXT, node port, ipMode Proxy ignored",
        .services = "[{'metadata':{'namespace':'ns7','name':'svc7'},'spec':{'type':'LoadBalancer',"
                    "'clusterIP':'172.30.0.47','ports':[{'name':'p80','port':80,'protocol':'TCP',"
                    "'nodePort':3007}]},'status':{'loadBalancer':{'ingress':[{'ip':'7.7.7.7'},"
                    "{'ip':'8.8.8.8','ipMode':'Proxy'},{'hostname':'lb.example.com'}]}}}]",
        .slices = "[" SLICE("ns7", "svc7", "svc7-x", "[{'addresses':['7.7.7.7']}]", EP80) "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SERVICES -d 7.7.7.7/32 -p tcp -m comment --comment \"ns7/svc7:p80 "
                "loadbalancer IP\" -m tcp --dport 80 -j KUBE-EXT-KPEMU3PDPRCEMWRI",
                "nat|-A KUBE-NODEPORTS -p tcp -m comment --comment \"ns7/svc7:p80\" -m tcp "
                "--dport 3007 -j KUBE-EXT-KPEMU3PDPRCEMWRI",
                "nat|-A KUBE-EXT-KPEMU3PDPRCEMWRI -m comment --comment \"masquerade traffic for "
                "ns7/svc7:p80 external destinations\" -j KUBE-MARK-MASQ",
                "nat|-A KUBE-EXT-KPEMU3PDPRCEMWRI -j KUBE-SVC-KPEMU3PDPRCEMWRI",
                "nat|-A KUBE-SEP-LQV5RWQFSDNC5QJ4 -p tcp -m comment --comment \"ns7/svc7:p80\" -m "
                "tcp -j DNAT --to-destination 7.7.7.7:80",
                "!nat|8.8.8.8",
                "!nat|KUBE-FW-",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 1,
    },
    {
        .name = "externalIPs on a ClusterIP service make it externally accessible",
        .services = "[{" SVC1 ",'spec':{'type':'ClusterIP','clusterIP':'172.30.0.41',"
                    "'externalIPs':['192.168.99.11','not-an-ip','fd00::1']," P80 "}}]",
        .slices = "[" SLICE("ns1", "svc1", "svc1-abc", "[{'addresses':['10.180.0.1']}]", EP80) "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SERVICES -d 192.168.99.11/32 -p tcp -m comment --comment "
                "\"ns1/svc1:p80 external IP\" -m tcp --dport 80 -j KUBE-EXT-XPGD46QRK7WJZT7O",
                "nat|-A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment \"masquerade traffic for "
                "ns1/svc1:p80 external destinations\" -j KUBE-MARK-MASQ",
                "nat|-A KUBE-EXT-XPGD46QRK7WJZT7O -j KUBE-SVC-XPGD46QRK7WJZT7O",
                "!nat|fd00",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 1,
    },
    {
        .name = "externalTrafficPolicy Local with a local endpoint: EXT short-circuits to SVL",
        .services = "[{'metadata':{'namespace':'ns2','name':'svc2'},'spec':{'type':'NodePort',"
                    "'clusterIP':'172.30.0.42','externalTrafficPolicy':'Local','ports':[{'name':"
                    "'p80','port':80,'protocol':'TCP','nodePort':3001}]}}]",
        .slices = "[" SLICE("ns2", "svc2", "svc2-a",
                            "[{'addresses':['10.180.0.2'],'nodeName':'test-node'},"
                            "{'addresses':['10.180.0.3'],'nodeName':'other'}]",
                            EP80) "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-NODEPORTS -p tcp -m comment --comment \"ns2/svc2:p80\" -m tcp "
                "--dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT",
                "nat|-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -s 10.0.0.0/8 -m comment --comment \"pod "
                "traffic for ns2/svc2:p80 external destinations\" -j KUBE-SVC-GNZBNJ2PO5MGZ6GT",
                "nat|-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment \"masquerade LOCAL traffic "
                "for ns2/svc2:p80 external destinations\" -m addrtype --src-type LOCAL -j "
                "KUBE-MARK-MASQ",
                "nat|-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment \"route LOCAL traffic for "
                "ns2/svc2:p80 external destinations\" -m addrtype --src-type LOCAL -j "
                "KUBE-SVC-GNZBNJ2PO5MGZ6GT",
                "nat|-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVL-GNZBNJ2PO5MGZ6GT",
                "nat|-A KUBE-SVL-GNZBNJ2PO5MGZ6GT -m comment --comment \"ns2/svc2:p80 -> "
                "10.180.0.2:80\" -j KUBE-SEP-RS4RBKLTHTF2IUXJ",
                "nat|-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment \"ns2/svc2:p80 -> "
                "10.180.0.2:80\" -m statistic --mode random --probability 0.50000000000 -j "
                "KUBE-SEP-RS4RBKLTHTF2IUXJ",
                "!filter|ns2/svc2",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 2,
    },
    {
        .name = "internalTrafficPolicy Local: cluster IP goes to KUBE-SVL with local endpoints",
        .services = "[{" SVC1
                    ",'spec':{'clusterIP':'172.30.0.41','internalTrafficPolicy':'Local'," P80 "}}]",
        .slices = "[" SLICE("ns1", "svc1", "svc1-a",
                            "[{'addresses':['10.180.0.1'],'nodeName':'test-node'},"
                            "{'addresses':['10.180.0.4'],'nodeName':'other'}]",
                            EP80) "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "
                "\"ns1/svc1:p80 cluster IP\" -m tcp --dport 80 -j KUBE-SVL-XPGD46QRK7WJZT7O",
                "nat|-A KUBE-SVL-XPGD46QRK7WJZT7O ! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m "
                "comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp --dport 80 -j "
                "KUBE-MARK-MASQ",
                "nat|-A KUBE-SVL-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.1:80\" -j KUBE-SEP-SXIVWICOYRO3J4NJ",
                SEP1_DNAT,
                "!nat|KUBE-SVC-XPGD46QRK7WJZT7O",
                "!nat|KUBE-SEP-RPPRE45QSPCKGE5U", /* the remote endpoint */
                NULL,
            },
        .service_ports = 1,
        .endpoints = 2,
    },
    {
        .name = "internalTrafficPolicy Local without local endpoints: DROP, not REJECT",
        .services = "[{" SVC1
                    ",'spec':{'clusterIP':'172.30.0.41','internalTrafficPolicy':'Local'," P80 "}}]",
        .slices = "[" SLICE("ns1", "svc1", "svc1-a",
                            "[{'addresses':['10.180.0.4'],'nodeName':'other'}]", EP80) "]",
        .expect =
            (const char *const[]){
                "filter|-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "
                "\"ns1/svc1:p80 has no local endpoints\" -m tcp --dport 80 -j DROP",
                "!nat|ns1/svc1",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 1,
        .no_local_internal = 1,
    },
    {
        .name = "sessionAffinity ClientIP: recent --rcheck per endpoint first, --set in SEP",
        .services = "[{" SVC1 ",'spec':{'clusterIP':'172.30.0.41','sessionAffinity':'ClientIP',"
                    "'sessionAffinityConfig':{'clientIP':{'timeoutSeconds':600}}," P80 "}}]",
        .slices =
            "[" SLICE("ns1", "svc1", "svc1-a",
                      "[{'addresses':['10.180.0.1']},{'addresses':['10.180.0.4']}]", EP80) "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.1:80\" -m recent --rcheck --seconds 600 --reap --name "
                "KUBE-SEP-SXIVWICOYRO3J4NJ --mask 255.255.255.255 --rsource -j "
                "KUBE-SEP-SXIVWICOYRO3J4NJ",
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.4:80\" -m recent --rcheck --seconds 600 --reap --name "
                "KUBE-SEP-RPPRE45QSPCKGE5U --mask 255.255.255.255 --rsource -j "
                "KUBE-SEP-RPPRE45QSPCKGE5U",
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.1:80\" -m statistic --mode random --probability 0.50000000000 -j "
                "KUBE-SEP-SXIVWICOYRO3J4NJ",
                "nat|-A KUBE-SEP-SXIVWICOYRO3J4NJ -p tcp -m comment --comment \"ns1/svc1:p80\" -m "
                "recent --set --name KUBE-SEP-SXIVWICOYRO3J4NJ --mask 255.255.255.255 --rsource "
                "-m tcp -j DNAT --to-destination 10.180.0.1:80",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 2,
    },
    {
        .name = "a named targetPort is resolved through the EndpointSlice port",
        .services = "[{" SVC1 ",'spec':{'clusterIP':'172.30.0.41','ports':[{'name':'http','port':"
                    "80,'protocol':'TCP','targetPort':'web'}]}}]",
        .slices = "[" SLICE("ns1", "svc1", "svc1-a", "[{'addresses':['10.180.0.1']}]",
                            "[{'name':'http','port':8080,'protocol':'TCP'}]") "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "
                "\"ns1/svc1:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-CW3AQCZPGQ5G56X3",
                "nat|-A KUBE-SVC-CW3AQCZPGQ5G56X3 -m comment --comment \"ns1/svc1:http -> "
                "10.180.0.1:8080\" -j KUBE-SEP-SR7TQGKXGHASIPOC",
                "nat|-A KUBE-SEP-SR7TQGKXGHASIPOC -p tcp -m comment --comment \"ns1/svc1:http\" "
                "-m tcp -j DNAT --to-destination 10.180.0.1:8080",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 1,
    },
    {
        .name = "several ports and protocols: one chain set per port, -p udp/sctp",
        .services = "[{" SVC1 ",'spec':{'clusterIP':'172.30.0.41','ports':[{'name':'dns','port':53,"
                    "'protocol':'UDP'},{'name':'sc','port':9,'protocol':'SCTP'},{'name':'bad',"
                    "'port':1,'protocol':'ICMP'}]}}]",
        .slices = "[" SLICE("ns1", "svc1", "svc1-a", "[{'addresses':['10.180.0.1']}]",
                            "[{'name':'dns','port':53,'protocol':'UDP'},{'name':'sc','port':9,"
                            "'protocol':'SCTP'}]") "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SERVICES -d 172.30.0.41/32 -p udp -m comment --comment "
                "\"ns1/svc1:dns cluster IP\" -m udp --dport 53 -j KUBE-SVC-AYLPSI7UY3HP5RJD",
                "nat|-A KUBE-SERVICES -d 172.30.0.41/32 -p sctp -m comment --comment "
                "\"ns1/svc1:sc cluster IP\" -m sctp --dport 9 -j KUBE-SVC-STCQK3EKJYMPLNNA",
                "nat|-A KUBE-SEP-WKRC27AOPMEXEDZA -p udp -m comment --comment \"ns1/svc1:dns\" -m "
                "udp -j DNAT --to-destination 10.180.0.1:53",
                "nat|-A KUBE-SEP-QVZJ5ORVERU3XOAD -p sctp -m comment --comment \"ns1/svc1:sc\" -m "
                "sctp -j DNAT --to-destination 10.180.0.1:9",
                "!nat|ns1/svc1:bad",
                NULL,
            },
        .service_ports = 2,
        .endpoints = 2,
    },
    {
        .name = "only ready endpoints when any is ready; terminating and not-ready left out",
        .services = CLUSTERIP1,
        .slices =
            "[" SLICE("ns1", "svc1", "svc1-a",
                      "[{'addresses':['10.180.0.1'],'conditions':{'ready':true}},"
                      "{'addresses':['10.180.0.2'],'conditions':{'ready':false,'serving':true,"
                      "'terminating':true}},{'addresses':['10.180.0.3'],'conditions':"
                      "{'ready':false,'serving':false}}]",
                      EP80) "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.1:80\" -j KUBE-SEP-SXIVWICOYRO3J4NJ",
                "!nat|10.180.0.2",
                "!nat|10.180.0.3",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 3,
    },
    {
        .name = "no ready endpoint: serving terminating ones are used, not-serving never",
        .services = CLUSTERIP1,
        .slices =
            "[" SLICE("ns1", "svc1", "svc1-a",
                      "[{'addresses':['10.180.0.2'],'conditions':{'ready':false,'serving':true,"
                      "'terminating':true}},{'addresses':['10.180.0.3'],'conditions':"
                      "{'ready':false,'serving':false,'terminating':true}}]",
                      EP80) "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.2:80\" -j KUBE-SEP-LXVODXWDISEETFEF",
                "!nat|10.180.0.3",
                "!filter|ns1/svc1",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 2,
    },
    {
        .name = "not-ready endpoints only: the service counts as having no endpoints",
        .services = CLUSTERIP1,
        .slices =
            "[" SLICE("ns1", "svc1", "svc1-a",
                      "[{'addresses':['10.180.0.3'],'conditions':{'ready':false}}]", EP80) "]",
        .expect =
            (const char *const[]){
                "filter|-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "
                "\"ns1/svc1:p80 has no endpoints\" -m tcp --dport 80 -j REJECT --reject-with "
                "icmp-port-unreachable",
                "!nat|ns1/svc1",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 1,
    },
    {
        .name = "headless, ExternalName, service-proxy-name and non-IPv4 services are ignored",
        .services =
            "[{'metadata':{'namespace':'ns1','name':'headless'},'spec':{'clusterIP':'None'," P80
            "}},{'metadata':{'namespace':'ns1','name':'ext'},'spec':{'type':"
            "'ExternalName','externalName':'example.com'," P80 "}},{'metadata':"
            "{'namespace':'ns1','name':'other','labels':{'service.kubernetes.io/"
            "service-proxy-name':'foo'}},'spec':{'clusterIP':'172.30.0.9'," P80 "}},"
            "{'metadata':{'namespace':'ns1','name':'v6'},'spec':{'clusterIP':'fd00::9',"
            "'clusterIPs':['fd00::9']," P80 "}}]",
        .slices = "[" SLICE("ns1", "headless", "h-1", "[{'addresses':['10.180.0.1']}]", EP80) "]",
        .expect =
            (const char *const[]){
                "!nat|ns1/",
                "!filter|ns1/",
                "nat|-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: "
                "this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j "
                "KUBE-NODEPORTS",
                NULL,
            },
    },
    {
        .name = "unnamed port: servicePortName is ns/name without a colon",
        .services = "[{" SVC1 ",'spec':{'clusterIP':'172.30.0.41','ports':[{'port':80}]}}]",
        .slices = "[" SLICE("ns1", "svc1", "svc1-a", "[{'addresses':['10.180.0.1']}]",
                            "[{'name':'','port':80,'protocol':'TCP'}]") "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment \"ns1/svc1 "
                "cluster IP\" -m tcp --dport 80 -j KUBE-SVC-AQI2S6QIMU7PVVRP",
                "nat|-A KUBE-SEP-RD5U5EMOXIC4RU5H -p tcp -m comment --comment \"ns1/svc1\" -m tcp "
                "-j DNAT --to-destination 10.180.0.1:80",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 1,
    },
    {
        .name = "slice ports match by name and protocol; unlabelled and IPv6 slices ignored",
        .services = "[{" SVC1 ",'spec':{'clusterIP':'172.30.0.41','ports':[{'name':'dns','port':53,"
                    "'protocol':'UDP'}]}}]",
        .slices = "[" SLICE(
            "ns1", "svc1", "svc1-a", "[{'addresses':['10.180.0.1']}]",
            "[{'name':'dns','port':53,'protocol':'TCP'}]") ","
                                                           "{'metadata':{'namespace':'ns1','name':'"
                                                           "nolabel'},'addressType':'IPv4',"
                                                           "'endpoints':[{'addresses':['10.180.0.1'"
                                                           "]}],'ports':[{'name':'dns','port':53,"
                                                           "'protocol':'UDP'}]}," SLICE(
                                                               "ns1", "svc1", "svc1-v6",
                                                               "[{'addresses':['fd00::1']}]",
                                                               "[{'name':'dns','port':53,'protocol'"
                                                               ":'UDP'}]") "]",
        .expect =
            (const char *const[]){
                "filter|-A KUBE-SERVICES -d 172.30.0.41/32 -p udp -m comment --comment "
                "\"ns1/svc1:dns has no endpoints\" -m udp --dport 53 -j REJECT --reject-with "
                "icmp-port-unreachable",
                "!nat|ns1/svc1",
                NULL,
            },
        .service_ports = 1,
    },
    {
        .name = "an endpoint in two slices counts once, the non-terminating copy wins",
        .services = CLUSTERIP1,
        .slices =
            "[" SLICE("ns1", "svc1", "svc1-a", "[{'addresses':['10.180.0.1']}]", EP80) "," SLICE(
                "ns1", "svc1", "svc1-b",
                "[{'addresses':['10.180.0.1'],'conditions':{'ready':false,'serving':false,"
                "'terminating':true}}]",
                EP80) "]",
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.1:80\" -j KUBE-SEP-SXIVWICOYRO3J4NJ",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 1,
    },
    {
        .name = "topology: zone hints for this node's zone restrict cluster endpoints",
        .services = CLUSTERIP1,
        .slices =
            "[" SLICE("ns1", "svc1", "svc1-a",
                      "[{'addresses':['10.180.0.1'],'hints':{'forZones':[{'name':'zone-a'}]}},"
                      "{'addresses':['10.180.0.4'],'hints':{'forZones':[{'name':'zone-b'}]}}]",
                      EP80) "]",
        .tweak = zone_a,
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.1:80\" -j KUBE-SEP-SXIVWICOYRO3J4NJ",
                "!nat|10.180.0.4",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 2,
    },
    {
        .name = "topology: one endpoint without hints disables zone filtering",
        .services = CLUSTERIP1,
        .slices =
            "[" SLICE("ns1", "svc1", "svc1-a",
                      "[{'addresses':['10.180.0.1'],'hints':{'forZones':[{'name':'zone-a'}]}},"
                      "{'addresses':['10.180.0.4']}]",
                      EP80) "]",
        .tweak = zone_a,
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> "
                "10.180.0.4:80\" -j KUBE-SEP-RPPRE45QSPCKGE5U",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 2,
    },
    {
        .name = "--masquerade-all, mark bit 0, tcp_be_liberal, no --random-fully",
        .services = CLUSTERIP1,
        .slices = "[" SLICE("ns1", "svc1", "svc1-a", "[{'addresses':['10.180.0.1']}]", EP80) "]",
        .tweak = masquerade_all,
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -d 172.30.0.41/32 -p tcp -m comment --comment "
                "\"ns1/svc1:p80 cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ",
                "nat|-A KUBE-MARK-MASQ -j MARK --set-xmark 0x1/0x1",
                "nat|-A KUBE-POSTROUTING -m mark ! --mark 0x1/0x1 -j RETURN",
                "nat|-A KUBE-POSTROUTING -j MARK --set-xmark 0x1/0x0",
                "nat|-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic "
                "requiring SNAT\" -j MASQUERADE",
                "filter|-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m "
                "mark --mark 0x1/0x1 -j ACCEPT",
                "!filter|INVALID",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 1,
    },
    {
        .name = "no local traffic detector: no masquerade rule for cluster IP, no pod shortcut",
        .services = "[{'metadata':{'namespace':'ns2','name':'svc2'},'spec':{'type':'NodePort',"
                    "'clusterIP':'172.30.0.42','externalTrafficPolicy':'Local','ports':[{'name':"
                    "'p80','port':80,'protocol':'TCP','nodePort':3001}]}}]",
        .slices = "[" SLICE("ns2", "svc2", "svc2-a",
                            "[{'addresses':['10.180.0.2'],'nodeName':'test-node'}]", EP80) "]",
        .tweak = no_local_detector,
        .expect =
            (const char *const[]){
                "!nat|cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ",
                "!nat|pod traffic",
                "nat|-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVL-GNZBNJ2PO5MGZ6GT",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 1,
    },
    {
        .name = "loadBalancerSourceRanges including the node IP also accept the LB IP as source",
        .services = "[{'metadata':{'namespace':'ns5','name':'svc5'},'spec':{'type':'LoadBalancer',"
                    "'clusterIP':'172.30.0.45','loadBalancerSourceRanges':['203.0.113.0/25',"
                    "'bogus'],'ports':[{'name':'p80','port':80,'protocol':'TCP','nodePort':3002}]},"
                    "'status':{'loadBalancer':{'ingress':[{'ip':'5.6.7.8'}]}}}]",
        .slices = "[" SLICE("ns5", "svc5", "svc5-a", "[{'addresses':['10.180.0.3']}]", EP80) "]",
        .tweak = node_in_source_range,
        .expect =
            (const char *const[]){
                "nat|-A KUBE-FW-NUKIZ6OKUXPJNT4C -s 203.0.113.0/25 -m comment --comment "
                "\"ns5/svc5:p80 loadbalancer IP\" -j KUBE-EXT-NUKIZ6OKUXPJNT4C",
                "nat|-A KUBE-FW-NUKIZ6OKUXPJNT4C -s 5.6.7.8/32 -m comment --comment "
                "\"ns5/svc5:p80 loadbalancer IP\" -j KUBE-EXT-NUKIZ6OKUXPJNT4C",
                "filter|-A KUBE-PROXY-FIREWALL -d 5.6.7.8/32 -p tcp -m comment --comment "
                "\"ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C\" -m tcp "
                "--dport 80 -j DROP",
                NULL,
            },
        .service_ports = 1,
        .endpoints = 1,
    },
    {
        .name = "--iptables-localhost-nodeports=false: node ports not on 127.0.0.0/8",
        .tweak = no_localhost_nodeports,
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SERVICES ! -d 127.0.0.0/8 -m comment --comment \"kubernetes service "
                "nodeports; NOTE: this must be the last rule in this chain\" -m addrtype "
                "--dst-type LOCAL -j KUBE-NODEPORTS",
                "!filter|KUBE-FIREWALL",
                NULL,
            },
    },
    {
        .name = "--nodeport-addresses: one tail rule per node IP, loopback dropped",
        .tweak = nodeport_addresses,
        .expect =
            (const char *const[]){
                "nat|-A KUBE-SERVICES -d 192.168.0.2/32 -m comment --comment \"kubernetes service "
                "nodeports; NOTE: this must be the last rule in this chain\" -j KUBE-NODEPORTS",
                "!nat|127.0.0.1",
                "!nat|addrtype",
                NULL,
            },
    },
};

static void rules_case(void **state)
{
    const struct rcase *c = *state;
    struct kp_node_config nc;
    test_node(&nc);
    if (c->tweak)
        c->tweak(&nc);
    struct rendered r;
    build(c->services, c->slices, &nc, &r);
    for (const char *const *e = c->expect; *e; e++)
        check(&r, *e);
    assert_int_equal(r.stats.service_ports, c->service_ports);
    assert_int_equal(r.stats.endpoints, c->endpoints);
    assert_int_equal(r.stats.no_local_endpoints_internal, c->no_local_internal);
    assert_int_equal(r.stats.no_local_endpoints_external, c->no_local_external);
    rendered_free(&r);
}

/* ---- upstream's TestOverallIPTablesRules ---------------------------------------------------- */

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

static const char overall_slices[] =
    "[" SLICE("ns1", "svc1", "svc1-1", "[{'addresses':['10.180.0.1']}]", EP80) "," SLICE(
        "ns2", "svc2", "svc2-1", "[{'addresses':['10.180.0.2']}]",
        EP80) "," SLICE("ns3", "svc3", "svc3-1", "[{'addresses':['10.180.0.3']}]",
                        EP80) "," SLICE("ns4", "svc4", "svc4-1",
                                        "[{'addresses':['10.180.0.4']},{'addresses':["
                                        "'10.180.0.5'],'nodeName':'test-node'}]",
                                        EP80) "," SLICE("ns5", "svc5", "svc5-1",
                                                        "[{'addresses':['10.180.0.3']}]", EP80) "]";

/* iptables-save of upstream's expected restore input (see the file comment): the rules of the
 * filter table, then of the nat table. */
static const char overall_expected[] =
    "-A KUBE-EXTERNAL-SERVICES -d 192.168.99.22/32 -p tcp -m comment --comment \"ns2/svc2:p80 has "
    "no local endpoints\" -m tcp --dport 80 -j DROP\n"
    "-A KUBE-EXTERNAL-SERVICES -d 1.2.3.4/32 -p tcp -m comment --comment \"ns2/svc2:p80 has no "
    "local endpoints\" -m tcp --dport 80 -j DROP\n"
    "-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment \"ns2/svc2:p80 has no local endpoints\" "
    "-m addrtype --dst-type LOCAL -m tcp --dport 3001 -j DROP\n"
    "-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming "
    "localnet connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n"
    "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"
    "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark "
    "0x4000/0x4000 -j ACCEPT\n"
    "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack "
    "--ctstate RELATED,ESTABLISHED -j ACCEPT\n"
    "-A KUBE-NODEPORTS -p tcp -m comment --comment \"ns2/svc2:p80 health check node port\" -m tcp "
    "--dport 30000 -j ACCEPT\n"
    "-A KUBE-PROXY-FIREWALL -d 5.6.7.8/32 -p tcp -m comment --comment \"ns5/svc5:p80 traffic not "
    "accepted by KUBE-FW-NUKIZ6OKUXPJNT4C\" -m tcp --dport 80 -j DROP\n"
    "-A KUBE-SERVICES -d 172.30.0.46/32 -p tcp -m comment --comment \"ns6/svc6:p80 has no "
    "endpoints\" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable\n"
    "-A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment \"masquerade traffic for ns4/svc4:p80 "
    "external destinations\" -j KUBE-MARK-MASQ\n"
    "-A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK\n"
    "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -s 10.0.0.0/8 -m comment --comment \"pod traffic for "
    "ns2/svc2:p80 external destinations\" -j KUBE-SVC-GNZBNJ2PO5MGZ6GT\n"
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
    "-A KUBE-FW-NUKIZ6OKUXPJNT4C -s 203.0.113.0/25 -m comment --comment \"ns5/svc5:p80 "
    "loadbalancer IP\" -j KUBE-EXT-NUKIZ6OKUXPJNT4C\n"
    "-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment \"other traffic to ns5/svc5:p80 will be "
    "dropped by KUBE-PROXY-FIREWALL\"\n"
    "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n"
    "-A KUBE-NODEPORTS -p tcp -m comment --comment \"ns2/svc2:p80\" -m tcp --dport 3001 -j "
    "KUBE-EXT-GNZBNJ2PO5MGZ6GT\n"
    "-A KUBE-NODEPORTS -p tcp -m comment --comment \"ns3/svc3:p80\" -m tcp --dport 3003 -j "
    "KUBE-EXT-X27LE4BHSL4DOUIK\n"
    "-A KUBE-NODEPORTS -p tcp -m comment --comment \"ns5/svc5:p80\" -m tcp --dport 3002 -j "
    "KUBE-EXT-NUKIZ6OKUXPJNT4C\n"
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
    "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n"
    "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j "
    "MASQUERADE --random-fully\n"
    "-A KUBE-SEP-C6EBXVWJJZMIWKLZ -s 10.180.0.5/32 -m comment --comment \"ns4/svc4:p80\" -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-C6EBXVWJJZMIWKLZ -p tcp -m comment --comment \"ns4/svc4:p80\" -m tcp -j DNAT "
    "--to-destination 10.180.0.5:80\n"
    "-A KUBE-SEP-I77PXRDZVX7PMWMN -s 10.180.0.3/32 -m comment --comment \"ns5/svc5:p80\" -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-I77PXRDZVX7PMWMN -p tcp -m comment --comment \"ns5/svc5:p80\" -m recent --set "
    "--name KUBE-SEP-I77PXRDZVX7PMWMN --mask 255.255.255.255 --rsource -m tcp -j DNAT "
    "--to-destination 10.180.0.3:80\n"
    "-A KUBE-SEP-OYPFS5VJICHGATKP -s 10.180.0.3/32 -m comment --comment \"ns3/svc3:p80\" -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-OYPFS5VJICHGATKP -p tcp -m comment --comment \"ns3/svc3:p80\" -m tcp -j DNAT "
    "--to-destination 10.180.0.3:80\n"
    "-A KUBE-SEP-RS4RBKLTHTF2IUXJ -s 10.180.0.2/32 -m comment --comment \"ns2/svc2:p80\" -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-RS4RBKLTHTF2IUXJ -p tcp -m comment --comment \"ns2/svc2:p80\" -m tcp -j DNAT "
    "--to-destination 10.180.0.2:80\n"
    "-A KUBE-SEP-SXIVWICOYRO3J4NJ -s 10.180.0.1/32 -m comment --comment \"ns1/svc1:p80\" -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-SXIVWICOYRO3J4NJ -p tcp -m comment --comment \"ns1/svc1:p80\" -m tcp -j DNAT "
    "--to-destination 10.180.0.1:80\n"
    "-A KUBE-SEP-UKSFD7AGPMPPLUHC -s 10.180.0.4/32 -m comment --comment \"ns4/svc4:p80\" -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-UKSFD7AGPMPPLUHC -p tcp -m comment --comment \"ns4/svc4:p80\" -m tcp -j DNAT "
    "--to-destination 10.180.0.4:80\n"
    "-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment \"ns1/svc1:p80 cluster IP\" -m "
    "tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O\n"
    "-A KUBE-SERVICES -d 172.30.0.42/32 -p tcp -m comment --comment \"ns2/svc2:p80 cluster IP\" -m "
    "tcp --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT\n"
    "-A KUBE-SERVICES -d 192.168.99.22/32 -p tcp -m comment --comment \"ns2/svc2:p80 external IP\" "
    "-m tcp --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT\n"
    "-A KUBE-SERVICES -d 1.2.3.4/32 -p tcp -m comment --comment \"ns2/svc2:p80 loadbalancer IP\" "
    "-m tcp --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT\n"
    "-A KUBE-SERVICES -d 172.30.0.43/32 -p tcp -m comment --comment \"ns3/svc3:p80 cluster IP\" -m "
    "tcp --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK\n"
    "-A KUBE-SERVICES -d 172.30.0.44/32 -p tcp -m comment --comment \"ns4/svc4:p80 cluster IP\" -m "
    "tcp --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK\n"
    "-A KUBE-SERVICES -d 192.168.99.33/32 -p tcp -m comment --comment \"ns4/svc4:p80 external IP\" "
    "-m tcp --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK\n"
    "-A KUBE-SERVICES -d 172.30.0.45/32 -p tcp -m comment --comment \"ns5/svc5:p80 cluster IP\" -m "
    "tcp --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C\n"
    "-A KUBE-SERVICES -d 5.6.7.8/32 -p tcp -m comment --comment \"ns5/svc5:p80 loadbalancer IP\" "
    "-m tcp --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C\n"
    "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the "
    "last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n"
    "-A KUBE-SVC-4SW47YFZTEDKD3PK ! -s 10.0.0.0/8 -d 172.30.0.44/32 -p tcp -m comment --comment "
    "\"ns4/svc4:p80 cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.4:80\" -m "
    "statistic --mode random --probability 0.50000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC\n"
    "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.5:80\" -j "
    "KUBE-SEP-C6EBXVWJJZMIWKLZ\n"
    "-A KUBE-SVC-GNZBNJ2PO5MGZ6GT ! -s 10.0.0.0/8 -d 172.30.0.42/32 -p tcp -m comment --comment "
    "\"ns2/svc2:p80 cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment \"ns2/svc2:p80 -> 10.180.0.2:80\" -j "
    "KUBE-SEP-RS4RBKLTHTF2IUXJ\n"
    "-A KUBE-SVC-NUKIZ6OKUXPJNT4C ! -s 10.0.0.0/8 -d 172.30.0.45/32 -p tcp -m comment --comment "
    "\"ns5/svc5:p80 cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment \"ns5/svc5:p80 -> 10.180.0.3:80\" -m recent "
    "--rcheck --seconds 10800 --reap --name KUBE-SEP-I77PXRDZVX7PMWMN --mask 255.255.255.255 "
    "--rsource -j KUBE-SEP-I77PXRDZVX7PMWMN\n"
    "-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment \"ns5/svc5:p80 -> 10.180.0.3:80\" -j "
    "KUBE-SEP-I77PXRDZVX7PMWMN\n"
    "-A KUBE-SVC-X27LE4BHSL4DOUIK ! -s 10.0.0.0/8 -d 172.30.0.43/32 -p tcp -m comment --comment "
    "\"ns3/svc3:p80 cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment \"ns3/svc3:p80 -> 10.180.0.3:80\" -j "
    "KUBE-SEP-OYPFS5VJICHGATKP\n"
    "-A KUBE-SVC-XPGD46QRK7WJZT7O ! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m comment --comment "
    "\"ns1/svc1:p80 cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -j "
    "KUBE-SEP-SXIVWICOYRO3J4NJ\n";

/* The "-A" lines of a rendered table. */
static void rule_lines(const char *text, struct ck_buf *out)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 3 && strncmp(p, "-A ", 3) == 0) {
            ck_buf_add(out, p, len);
            ck_buf_putc(out, '\n');
        }
        p += len + (nl ? 1 : 0);
    }
}

static void upstream_overall_rules(void **state)
{
    (void)state;
    struct kp_node_config nc;
    test_node(&nc);
    struct rendered r;
    build(overall_services, overall_slices, &nc, &r);
    struct ck_buf got = CK_BUF_INIT;
    rule_lines(r.table[KP_TABLE_FILTER], &got);
    rule_lines(r.table[KP_TABLE_NAT], &got);
    if (strcmp(got.data, overall_expected) != 0)
        fprintf(stderr, "# got:\n%s", got.data);
    assert_string_equal(got.data, overall_expected);
    /* chain declarations: upstream's set plus the canary, sorted as libiptc keeps them */
    assert_non_null(strstr(r.table[KP_TABLE_FILTER],
                           "\n:KUBE-EXTERNAL-SERVICES - [0:0]\n:KUBE-FIREWALL - [0:0]\n"
                           ":KUBE-FORWARD - [0:0]\n:KUBE-NODEPORTS - [0:0]\n"
                           ":KUBE-PROXY-CANARY - [0:0]\n:KUBE-PROXY-FIREWALL - [0:0]\n"
                           ":KUBE-SERVICES - [0:0]\n-A "));
    assert_int_equal(r.stats.no_local_endpoints_external, 1);
    assert_int_equal(r.stats.no_local_endpoints_internal, 0);
    assert_false(r.stats.large_cluster);
    ck_buf_free(&got);
    rendered_free(&r);
}

/* The jump rules in the built-in chains end up in upstream's order (each was prepended). */
static void builtin_jumps_in_upstream_order(void **state)
{
    (void)state;
    struct kp_node_config nc;
    test_node(&nc);
    struct kp_ruleset *rs;
    assert_int_equal(kp_rules_build(&nc, NULL, 0, NULL, 0, &rs), 0);
    struct ck_buf b = CK_BUF_INIT;
    kp_ruleset_render(rs, KP_TABLE_NAT, KP_RENDER_BUILTINS, &b);
    assert_non_null(strstr(
        b.data, "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                ":POSTROUTING ACCEPT [0:0]\n:KUBE-MARK-MASQ - [0:0]\n"
                ":KUBE-NODEPORTS - [0:0]\n:KUBE-POSTROUTING - [0:0]\n"
                ":KUBE-PROXY-CANARY - [0:0]\n:KUBE-SERVICES - [0:0]\n"
                "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j "
                "KUBE-SERVICES\n-A OUTPUT -m comment --comment \"kubernetes service portals\" -j "
                "KUBE-SERVICES\n-A POSTROUTING -m comment --comment \"kubernetes postrouting "
                "rules\" -j KUBE-POSTROUTING\n"));
    ck_buf_reset(&b);
    kp_ruleset_render(rs, KP_TABLE_FILTER, KP_RENDER_BUILTINS, &b);
    assert_non_null(strstr(
        b.data,
        "-A INPUT -j KUBE-FIREWALL\n"
        "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer "
        "firewall\" -j KUBE-PROXY-FIREWALL\n"
        "-A INPUT -m comment --comment \"kubernetes health check service ports\" -j "
        "KUBE-NODEPORTS\n"
        "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes "
        "externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n"
        "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer "
        "firewall\" -j KUBE-PROXY-FIREWALL\n"
        "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n"
        "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service "
        "portals\" -j KUBE-SERVICES\n"
        "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes "
        "externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n"
        "-A OUTPUT -j KUBE-FIREWALL\n"
        "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer "
        "firewall\" -j KUBE-PROXY-FIREWALL\n"
        "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service "
        "portals\" -j KUBE-SERVICES\n"));
    ck_buf_reset(&b);
    kp_ruleset_render(rs, KP_TABLE_MANGLE, KP_RENDER_BUILTINS, &b);
    assert_string_equal(b.data, "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n"
                                ":FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                                ":POSTROUTING ACCEPT [0:0]\n:KUBE-PROXY-CANARY - [0:0]\n"
                                "COMMIT\n");
    ck_buf_free(&b);
    kp_ruleset_free(rs);
}

/* Above 1000 endpoints upstream drops the per-endpoint comments (largeClusterMode). */
static void large_cluster_mode_drops_endpoint_comments(void **state)
{
    (void)state;
    struct ck_buf eps = CK_BUF_INIT;
    ck_buf_puts(&eps, "[");
    for (int i = 0; i < 1001; i++)
        ck_buf_printf(&eps, "%s{'addresses':['10.1.%d.%d']}", i ? "," : "", i / 250, i % 250 + 1);
    ck_buf_puts(&eps, "]");
    char *slices = ck_xasprintf("[" SLICE("ns1", "svc1", "svc1-a", "%s", EP80) "]", eps.data);
    struct kp_node_config nc;
    test_node(&nc);
    struct rendered r;
    build(CLUSTERIP1, slices, &nc, &r);
    assert_true(r.stats.large_cluster);
    assert_int_equal(r.stats.endpoints, 1001);
    check(&r, SVC1_MASQ); /* the cluster IP rule keeps its comment */
    /* first of 1001 ("10.1.0.100:80" sorts first as a string): upstream's "0.0009990010", as
     * the kernel stores it */
    check(&r, "nat|-A KUBE-SVC-XPGD46QRK7WJZT7O -m statistic --mode random --probability "
              "0.00099900085 -j KUBE-SEP-N46ELHKE2EUACYLI");
    check(&r, "nat|-A KUBE-SEP-N46ELHKE2EUACYLI -s 10.1.0.100/32 -j KUBE-MARK-MASQ");
    check(&r, "nat|-A KUBE-SEP-N46ELHKE2EUACYLI -p tcp -m tcp -j DNAT --to-destination "
              "10.1.0.100:80");
    check(&r, "!nat|ns1/svc1:p80 ->");
    rendered_free(&r);
    free(slices);
    ck_buf_free(&eps);
}

/* ---- names, numbers, parsers ---------------------------------------------------------------- */

static void chain_names_are_upstreams(void **state)
{
    (void)state;
    char h[17], c[KP_CHAIN_LABEL];
    kp_port_proto_hash("ns1/svc1:p80", "tcp", h);
    assert_string_equal(h, "XPGD46QRK7WJZT7O");
    kp_service_chain_name("KUBE-SVC-", "ns2/svc2:p80", "tcp", c);
    assert_string_equal(c, "KUBE-SVC-GNZBNJ2PO5MGZ6GT");
    kp_service_chain_name("KUBE-FW-", "ns5/svc5:p80", "tcp", c);
    assert_string_equal(c, "KUBE-FW-NUKIZ6OKUXPJNT4C");
    kp_endpoint_chain_name("ns1/svc1:p80", "tcp", "10.180.0.1:80", c);
    assert_string_equal(c, "KUBE-SEP-SXIVWICOYRO3J4NJ");
    kp_endpoint_chain_name("ns4/svc4:p80", "tcp", "10.180.0.5:80", c);
    assert_string_equal(c, "KUBE-SEP-C6EBXVWJJZMIWKLZ");
    /* the protocol is part of the hash */
    kp_port_proto_hash("ns1/svc1:p80", "udp", h);
    assert_string_not_equal(h, "XPGD46QRK7WJZT7O");
    assert_true(kp_is_service_chain("KUBE-SEP-SXIVWICOYRO3J4NJ"));
    assert_true(kp_is_service_chain("KUBE-FW-NUKIZ6OKUXPJNT4C"));
    assert_false(kp_is_service_chain("KUBE-SERVICES"));
    assert_false(kp_is_service_chain("KUBE-SVCX"));
}

static void probabilities_as_the_kernel_keeps_them(void **state)
{
    (void)state;
    assert_int_equal(kp_probability(1), 2147483648u);
    assert_int_equal(kp_probability(2), 1073741824u);
    assert_int_equal(kp_probability(3), 715827883u); /* "0.3333333333" -> 0.33333333349 */
    assert_int_equal(kp_probability(0), 2147483648u);
}

static void ipv4_parsing_is_sloppy_like_go(void **state)
{
    (void)state;
    uint32_t ip;
    uint8_t len;
    assert_int_equal(kp_parse_ipv4("10.180.0.1", &ip), 0);
    assert_int_equal(ip, 0x0ab40001u);
    assert_int_equal(kp_parse_ipv4("010.001.002.003", &ip), 0); /* ParseIPSloppy */
    assert_int_equal(ip, 0x0a010203u);
    static const char *const bad[] = {"",        "1.2.3",  "1.2.3.4.5",  "256.0.0.1", "1.2.3.4 ",
                                      "a.b.c.d", "1..2.3", "1234.1.1.1", "fd00::1"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(bad); i++)
        assert_int_equal(kp_parse_ipv4(bad[i], &ip), -EINVAL);
    assert_int_equal(kp_parse_ipv4(NULL, &ip), -EINVAL);
    assert_int_equal(kp_parse_cidr4("203.0.113.77/25", &ip, &len), 0);
    assert_int_equal(ip, 0xcb007100u); /* host bits cleared */
    assert_int_equal(len, 25);
    assert_int_equal(kp_parse_cidr4("0.0.0.0/0", &ip, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(kp_parse_cidr4("10.0.0.0/33", &ip, &len), -EINVAL);
    assert_int_equal(kp_parse_cidr4("10.0.0.0", &ip, &len), -EINVAL);
    assert_int_equal(kp_parse_cidr4("10.0.0.0/", &ip, &len), -EINVAL);
    assert_int_equal(kp_parse_cidr4("10.0.0.0/x", &ip, &len), -EINVAL);
}

static void comments_are_quoted_like_iptables_save(void **state)
{
    (void)state;
    struct kp_rule r;
    memset(&r, 0, sizeof(r));
    r.nmatches = 1;
    r.m[0].type = KP_MATCH_COMMENT;
    r.m[0].text = (char *)"plain_Name-1";
    r.t.type = KP_TARGET_ACCEPT;
    struct ck_buf b = CK_BUF_INIT;
    kp_rule_render(&r, "X", &b);
    assert_string_equal(b.data, "-A X -m comment --comment plain_Name-1 -j ACCEPT");
    ck_buf_reset(&b);
    r.m[0].text = (char *)"a \"b\" 'c' \\d";
    kp_rule_render(&r, "X", &b);
    assert_string_equal(b.data,
                        "-A X -m comment --comment \"a \\\"b\\\" \\'c\\' \\\\d\" -j ACCEPT");
    ck_buf_free(&b);
}

static void bad_input_is_skipped_not_fatal(void **state)
{
    (void)state;
    static const char services[] =
        "[1,'x',null,{},{'metadata':[]},{'metadata':{'name':'a','namespace':'n'},'spec':[]},"
        "{'metadata':{'name':'b','namespace':'n'},'spec':{'clusterIP':12,'ports':'x'}},"
        "{'metadata':{'name':'c','namespace':'n'},'spec':{'clusterIP':'10.0.0.1','ports':[1,"
        "{'port':'80'},{'port':70000},{'port':-1},{'name':'ok','port':81,'protocol':7}]}},"
        "{'metadata':{'name':'d','namespace':'n'},'spec':{'clusterIP':'10.0.0.2','ports':[{"
        "'name':'p','port':80}],'externalIPs':[1,null,'1.1.1.1'],'sessionAffinity':'ClientIP',"
        "'sessionAffinityConfig':{'clientIP':{'timeoutSeconds':-5}}},'status':{'loadBalancer':"
        "{'ingress':'x'}}}]";
    static const char slices[] =
        "[1,{},{'metadata':{'name':'s','namespace':'n','labels':{'kubernetes.io/service-name':"
        "'d'}},'addressType':'IPv4','endpoints':[1,{'addresses':[]},{'addresses':[5]},"
        "{'addresses':['10.1.1.1'],'conditions':'x','hints':{'forZones':[1,{'name':2}]}}],"
        "'ports':[{'name':null,'port':80},{'name':'p','port':0},{'name':'p','port':80}]}]";
    struct kp_node_config nc;
    test_node(&nc);
    struct rendered r;
    build(services, slices, &nc, &r);
    assert_int_equal(r.stats.service_ports, 1); /* n/d:p; n/c's ports are all unusable */
    /* a non-positive timeout is replaced by the API default */
    check(&r, "nat|-A KUBE-SVC-VBEAM5TKX4RUFGEK -m comment --comment \"n/d:p -> 10.1.1.1:80\" -m "
              "recent --rcheck --seconds 10800 --reap --name KUBE-SEP-IDOB46CSVZCAXF32 --mask "
              "255.255.255.255 --rsource -j KUBE-SEP-IDOB46CSVZCAXF32");
    check(&r, "nat|-A KUBE-SERVICES -d 1.1.1.1/32 -p tcp -m comment --comment \"n/d:p external "
              "IP\" -m tcp --dport 80 -j KUBE-EXT-VBEAM5TKX4RUFGEK");
    rendered_free(&r);

    struct kp_ruleset *rs = NULL;
    nc.masquerade_bit = 32;
    assert_int_equal(kp_rules_build(&nc, NULL, 0, NULL, 0, &rs), -EINVAL);
    nc.masquerade_bit = 14;
    assert_int_equal(kp_rules_build(NULL, NULL, 0, NULL, 0, &rs), -EINVAL);
    assert_int_equal(kp_rules_build(&nc, NULL, 1, NULL, 0, &rs), -EINVAL);
    assert_null(rs);
    assert_null(kp_ruleset_find_chain(NULL, KP_TABLE_NAT, "KUBE-SERVICES"));
    kp_ruleset_free(NULL);
}

int main(void)
{
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(upstream_overall_rules),
        cmocka_unit_test(builtin_jumps_in_upstream_order),
        cmocka_unit_test(large_cluster_mode_drops_endpoint_comments),
        cmocka_unit_test(chain_names_are_upstreams),
        cmocka_unit_test(probabilities_as_the_kernel_keeps_them),
        cmocka_unit_test(ipv4_parsing_is_sloppy_like_go),
        cmocka_unit_test(comments_are_quoted_like_iptables_save),
        cmocka_unit_test(bad_input_is_skipped_not_fatal),
    };
    /* the table-driven cases first, each named after the behaviour it proves */
    struct CMUnitTest tests[CK_ARRAY_SIZE(rcases) + CK_ARRAY_SIZE(fixed)];
    size_t n = 0;
    for (size_t i = 0; i < CK_ARRAY_SIZE(rcases); i++)
        tests[n++] =
            (struct CMUnitTest){rcases[i].name, rules_case, NULL, NULL, (void *)&rcases[i]};
    for (size_t i = 0; i < CK_ARRAY_SIZE(fixed); i++)
        tests[n++] = fixed[i];
    return cmocka_run_group_tests_name("test_proxy_rules", tests, NULL, NULL);
}
