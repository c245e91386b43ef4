/* rules.c - Services + EndpointSlices -> kube-proxy's desired iptables rule set (see rules.h):
 * names, the rule set's building blocks, upstream syncProxyRules' chain layout (build_service
 * and the top-level chains in kp_rules_build) over the model of model.h, and rendering in
 * iptables-save format.
 */
#include "rules.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "mem.h"
#include "model.h"
#include "strmap.h"

const char *kp_table_name(enum kp_table_id t)
{
    switch (t) {
    case KP_TABLE_FILTER:
        return "filter";
    case KP_TABLE_NAT:
        return "nat";
    case KP_TABLE_MANGLE:
        return "mangle";
    default:
        return "?";
    }
}

void kp_node_config_init(struct kp_node_config *c)
{
    memset(c, 0, sizeof(*c));
    c->masquerade_bit = 14;
    c->localhost_nodeports = true;
    c->random_fully = true;
}

/* ---- names ------------------------------------------------------------------------------- */

/* The first 16 characters of Go's base32.StdEncoding of sha256(s): 10 digest bytes. */
static void hash16(const char *s, char out[17])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint8_t d[32];
    ck_sha256(s, strlen(s), d);
    uint64_t acc = 0;
    int bits = 0, o = 0;
    for (int i = 0; i < 10; i++) {
        acc = (acc << 8) | d[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    out[16] = '\0';
}

void kp_port_proto_hash(const char *svc_port_name, const char *proto, char out[17])
{
    CK_AUTOFREE char *s = ck_xasprintf("%s%s", svc_port_name, proto);
    hash16(s, out);
}

void kp_service_chain_name(const char *prefix, const char *svc_port_name, const char *proto,
                           char out[KP_CHAIN_NAME_MAX + 1])
{
    char h[17];
    kp_port_proto_hash(svc_port_name, proto, h);
    snprintf(out, KP_CHAIN_NAME_MAX + 1, "%s%s", prefix, h);
}

void kp_endpoint_chain_name(const char *svc_port_name, const char *proto, const char *endpoint,
                            char out[KP_CHAIN_NAME_MAX + 1])
{
    char h[17];
    CK_AUTOFREE char *s = ck_xasprintf("%s%s%s", svc_port_name, proto, endpoint);
    hash16(s, h);
    snprintf(out, KP_CHAIN_NAME_MAX + 1, "KUBE-SEP-%s", h);
}

bool kp_is_service_chain(const char *name)
{
    static const char *const prefixes[] = {"KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-", "KUBE-FW-",
                                           "KUBE-EXT-"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(prefixes); i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

uint32_t kp_probability(unsigned n)
{
    if (n == 0)
        n = 1;
    /* upstream prints "%0.10f" and iptables parses that text back: keep both roundings */
    char text[32];
    snprintf(text, sizeof(text), "%0.10f", 1.0 / (double)n);
    double p = strtod(text, NULL);
    return (uint32_t)lround(p * 2147483648.0);
}

/* ---- addresses --------------------------------------------------------------------------- */

int kp_parse_ipv4(const char *s, uint32_t *ip)
{
    if (!s)
        return -EINVAL;
    uint32_t v = 0;
    for (int part = 0; part < 4; part++) {
        if (!isdigit((unsigned char)*s))
            return -EINVAL;
        unsigned n = 0;
        int digits = 0;
        while (isdigit((unsigned char)*s)) {
            n = n * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3 || n > 255)
                return -EINVAL;
        }
        v = (v << 8) | n;
        if (part < 3 && *s++ != '.')
            return -EINVAL;
    }
    if (*s)
        return -EINVAL;
    *ip = v;
    return 0;
}

static uint32_t prefix_mask(uint8_t len)
{
    return len == 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

int kp_parse_cidr4(const char *s, uint32_t *net, uint8_t *len)
{
    if (!s)
        return -EINVAL;
    const char *slash = strchr(s, '/');
    if (!slash || slash - s > 15 || !slash[1] || strlen(slash + 1) > 2)
        return -EINVAL;
    char ip[16];
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    uint32_t v;
    if (kp_parse_ipv4(ip, &v) < 0)
        return -EINVAL;
    int l = 0;
    for (const char *p = slash + 1; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        l = l * 10 + (*p - '0');
    }
    if (l > 32)
        return -EINVAL;
    *len = (uint8_t)l;
    *net = v & prefix_mask((uint8_t)l);
    return 0;
}

void kp_format_ipv4(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* ---- rule set building blocks ------------------------------------------------------------ */

struct builder {
    struct kp_ruleset *rs;
    struct ck_strmap index[KP_TABLE_COUNT]; /* chain name -> index + 1 */
};

static size_t chain_get(struct builder *b, enum kp_table_id t, const char *name)
{
    uintptr_t v = (uintptr_t)ck_strmap_get(&b->index[t], name);
    if (v)
        return v - 1;
    struct kp_table *tb = &b->rs->tables[t];
    if (tb->n == tb->cap) {
        tb->cap = tb->cap ? tb->cap * 2 : 16;
        tb->chains = ck_xrealloc(tb->chains, tb->cap * sizeof(*tb->chains));
    }
    struct kp_chain *c = &tb->chains[tb->n];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    ck_strmap_put(&b->index[t], name, (void *)(uintptr_t)(tb->n + 1));
    return tb->n++;
}

/* A new, empty rule at the end of the chain; the pointer is valid until the chain grows. */
static struct kp_rule *rule_add(struct builder *b, enum kp_table_id t, size_t ci)
{
    struct kp_chain *c = &b->rs->tables[t].chains[ci];
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4;
        c->rules = ck_xrealloc(c->rules, c->cap * sizeof(*c->rules));
    }
    struct kp_rule *r = &c->rules[c->n++];
    memset(r, 0, sizeof(*r));
    return r;
}

static struct kp_match *match_add(struct kp_rule *r, enum kp_match_type type)
{
    if (r->nmatches >= KP_RULE_MAX_MATCHES)
        abort(); /* a programming error: no rule of ours has more */
    struct kp_match *m = &r->m[r->nmatches++];
    memset(m, 0, sizeof(*m));
    m->type = type;
    return m;
}

static void r_comment(struct kp_rule *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void r_comment(struct kp_rule *r, const char *fmt, ...)
{
    struct kp_match *m = match_add(r, KP_MATCH_COMMENT);
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&m->text, fmt, ap) < 0)
        abort();
    va_end(ap);
}

static void r_proto(struct kp_rule *r, uint8_t proto, uint16_t dport)
{
    r->proto = proto;
    match_add(r, KP_MATCH_PROTO)->port = dport;
}

static void r_src(struct kp_rule *r, uint32_t ip, uint8_t len, bool inv)
{
    r->src = ip;
    r->src_len = len;
    r->src_inv = inv;
}

static void r_dst(struct kp_rule *r, uint32_t ip, uint8_t len, bool inv)
{
    r->dst = ip;
    r->dst_len = len;
    r->dst_inv = inv;
}

static void r_addrtype(struct kp_rule *r, enum kp_addrtype_dir dir)
{
    match_add(r, KP_MATCH_ADDRTYPE)->value = dir;
}

static void r_ctstate(struct kp_rule *r, uint32_t states, bool invert)
{
    struct kp_match *m = match_add(r, KP_MATCH_CONNTRACK);
    m->value = states;
    m->invert = invert;
}

static void r_jump(struct kp_rule *r, const char *chain)
{
    r->t.type = KP_TARGET_JUMP;
    snprintf(r->t.chain, sizeof(r->t.chain), "%s", chain);
}

static void r_target(struct kp_rule *r, enum kp_target_type type)
{
    r->t.type = type;
}

static struct kp_rule *jump_add(struct kp_ruleset *rs, enum kp_table_id t, const char *builtin)
{
    struct kp_table *tb = &rs->tables[t];
    if (tb->njumps == tb->jumps_cap) {
        tb->jumps_cap = tb->jumps_cap ? tb->jumps_cap * 2 : 8;
        tb->jumps = ck_xrealloc(tb->jumps, tb->jumps_cap * sizeof(*tb->jumps));
    }
    struct kp_jump *j = &tb->jumps[tb->njumps++];
    memset(j, 0, sizeof(*j));
    j->builtin = builtin;
    return &j->rule;
}

static void rule_free(struct kp_rule *r)
{
    for (int i = 0; i < r->nmatches; i++)
        free(r->m[i].text);
}

void kp_ruleset_free(struct kp_ruleset *rs)
{
    if (!rs)
        return;
    for (int t = 0; t < KP_TABLE_COUNT; t++) {
        struct kp_table *tb = &rs->tables[t];
        for (size_t i = 0; i < tb->n; i++) {
            for (size_t j = 0; j < tb->chains[i].n; j++)
                rule_free(&tb->chains[i].rules[j]);
            free(tb->chains[i].rules);
        }
        free(tb->chains);
        for (size_t i = 0; i < tb->njumps; i++)
            rule_free(&tb->jumps[i].rule);
        free(tb->jumps);
    }
    for (size_t i = 0; i < rs->nudp; i++) {
        free(rs->udp[i].ips);
        free(rs->udp[i].eps);
    }
    free(rs->udp);
    free(rs);
}

/* The UDP ports of the model, for stale conntrack cleaning. */
static void collect_udp(struct kp_ruleset *rs, const struct kp_model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++)
        n += m->ports[i]->ipproto == IPPROTO_UDP && m->ports[i]->cluster_ip;
    if (!n)
        return;
    rs->udp = ck_xcalloc(n, sizeof(*rs->udp));
    for (size_t i = 0; i < m->n; i++) {
        const struct kp_svc_port *p = m->ports[i];
        if (p->ipproto != IPPROTO_UDP || !p->cluster_ip)
            continue;
        struct kp_udp_service *u = &rs->udp[rs->nudp++];
        u->ips = ck_xmalloc((1 + p->next + p->nlb) * sizeof(uint32_t));
        u->ips[u->nips++] = p->cluster_ip;
        for (size_t k = 0; k < p->next; k++)
            u->ips[u->nips++] = p->ext_ips[k];
        for (size_t k = 0; k < p->nlb; k++)
            u->ips[u->nips++] = p->lb_ips[k];
        u->port = p->port;
        u->node_port = p->node_port;
        u->eps = ck_xmalloc((p->neps + 1) * sizeof(uint32_t));
        for (size_t k = 0; k < p->neps; k++)
            if (p->eps[k].serving)
                u->eps[u->neps++] = p->eps[k].ip;
    }
}

const struct kp_chain *kp_ruleset_find_chain(const struct kp_ruleset *rs, enum kp_table_id t,
                                             const char *name)
{
    if (!rs || t < 0 || t >= KP_TABLE_COUNT || !name)
        return NULL;
    const struct kp_table *tb = &rs->tables[t];
    for (size_t i = 0; i < tb->n; i++)
        if (strcmp(tb->chains[i].name, name) == 0)
            return &tb->chains[i];
    return NULL;
}

size_t kp_ruleset_rule_count(const struct kp_ruleset *rs, enum kp_table_id t)
{
    size_t n = 0;
    if (!rs || t < 0 || t >= KP_TABLE_COUNT)
        return 0;
    for (size_t i = 0; i < rs->tables[t].n; i++)
        n += rs->tables[t].chains[i].n;
    return n;
}

/* ---- upstream's chain layout ------------------------------------------------------------- */

#define C_SERVICES "KUBE-SERVICES"
#define C_EXTERNAL_SERVICES "KUBE-EXTERNAL-SERVICES"
#define C_NODEPORTS "KUBE-NODEPORTS"
#define C_POSTROUTING "KUBE-POSTROUTING"
#define C_MARK_MASQ "KUBE-MARK-MASQ"
#define C_FORWARD "KUBE-FORWARD"
#define C_PROXY_FIREWALL "KUBE-PROXY-FIREWALL"
#define C_FIREWALL "KUBE-FIREWALL"
#define C_CANARY "KUBE-PROXY-CANARY"

#define F KP_TABLE_FILTER
#define N KP_TABLE_NAT

struct gen {
    struct builder b;
    const struct kp_node_config *nc;
    uint32_t mark;
    bool local_detect;
    uint32_t local_net;
    uint8_t local_len;
    bool has_node_ip;
    uint32_t node_ip;
    bool large;
    size_t f_services, f_external, f_forward, f_nodeports, f_proxy_fw;
    size_t n_services, n_nodeports, n_postrouting, n_mark_masq;
};

/* A rule in table t, chain ci, starting "-m comment --comment <name-of-service> ..." unless
 * in large cluster mode (upstream's appendServiceCommentLocked). */
static struct kp_rule *svc_rule(struct gen *g, enum kp_table_id t, size_t ci, const char *comment)
{
    struct kp_rule *r = rule_add(&g->b, t, ci);
    if (!g->large)
        r_comment(r, "%s", comment);
    return r;
}

/* The REJECT/DROP verdicts of the filter table for a service port without (local) endpoints. */
struct verdict {
    enum kp_target_type target; /* 0: traffic is handled in nat */
    bool no_local;              /* "has no local endpoints" rather than "has no endpoints" */
};

static struct kp_rule *filter_rule(struct gen *g, size_t ci, const struct kp_svc_port *p,
                                   const struct verdict *v)
{
    struct kp_rule *r = rule_add(&g->b, F, ci);
    r_comment(r, v->no_local ? "%s has no local endpoints" : "%s has no endpoints", p->name);
    return r;
}

/* upstream writeServiceToEndpointRules: affinity checks first, then random balancing. */
static void endpoint_rules(struct gen *g, const struct kp_svc_port *p, const char *chain,
                           const struct kp_ep_list *eps)
{
    size_t ci = chain_get(&g->b, N, chain);
    char comment[512];
    if (p->affinity) {
        for (size_t i = 0; i < eps->n; i++) {
            snprintf(comment, sizeof(comment), "%s -> %s", p->name, eps->v[i]->str);
            struct kp_rule *r = svc_rule(g, N, ci, comment);
            struct kp_match *m = match_add(r, KP_MATCH_RECENT);
            m->value = KP_RECENT_RCHECK;
            m->mask = (uint32_t)p->sticky_seconds;
            m->text = ck_xstrdup(eps->v[i]->chain);
            r_jump(r, eps->v[i]->chain);
        }
    }
    for (size_t i = 0; i < eps->n; i++) {
        snprintf(comment, sizeof(comment), "%s -> %s", p->name, eps->v[i]->str);
        struct kp_rule *r = svc_rule(g, N, ci, comment);
        if (i + 1 < eps->n)
            match_add(r, KP_MATCH_STATISTIC)->value = kp_probability((unsigned)(eps->n - i));
        r_jump(r, eps->v[i]->chain);
    }
}

static void endpoint_chain(struct gen *g, const struct kp_svc_port *p, const struct kp_endpoint *e)
{
    size_t ci = chain_get(&g->b, N, e->chain);
    struct kp_rule *r = svc_rule(g, N, ci, p->name);
    r_src(r, e->ip, 32, false);
    r_jump(r, C_MARK_MASQ);
    r = svc_rule(g, N, ci, p->name);
    if (p->affinity) {
        struct kp_match *m = match_add(r, KP_MATCH_RECENT);
        m->value = KP_RECENT_SET;
        m->text = ck_xstrdup(e->chain);
    }
    r_proto(r, p->ipproto, 0);
    r->t.type = KP_TARGET_DNAT;
    r->t.ip = e->ip;
    r->t.port = e->port;
}

/* The rules of one service port, in the order upstream's syncProxyRules writes them. */
static void build_service(struct gen *g, const struct kp_svc_port *p)
{
    struct kp_categorized c;
    kp_categorize(p, g->nc->zone, &c);
    const char *name = p->name;

    bool uses_cluster_chain = c.cluster.n > 0 && kp_uses_cluster_endpoints(p);
    bool uses_local_chain = c.local.n > 0 && kp_uses_local_endpoints(p);
    const char *internal_chain = p->itp_local ? p->svl_chain : p->svc_chain;
    bool has_internal = c.has_any && (!p->itp_local || c.local.n > 0);
    const char *external_policy_chain = p->etp_local ? p->svl_chain : p->svc_chain;
    bool has_external = c.has_any && (!p->etp_local || c.local.n > 0);
    bool uses_ext_chain = c.has_any && kp_svc_externally_accessible(p);
    bool uses_fw = c.has_any && p->nlb > 0 && p->nsrc > 0;
    const char *lb_chain = uses_fw ? p->fw_chain : p->ext_chain;

    struct verdict vi = {0, false}, ve = {0, false};
    if (!c.has_any) {
        vi.target = ve.target = KP_TARGET_REJECT;
    } else {
        if (!has_internal) {
            vi = (struct verdict){KP_TARGET_DROP, true};
            g->b.rs->stats.no_local_endpoints_internal++;
        }
        if (!has_external) {
            ve = (struct verdict){KP_TARGET_DROP, true};
            g->b.rs->stats.no_local_endpoints_external++;
        }
    }

    struct kp_rule *r;
    /* cluster IP */
    if (has_internal) {
        r = rule_add(&g->b, N, g->n_services);
        r_comment(r, "%s cluster IP", name);
        r_proto(r, p->ipproto, p->port);
        r_dst(r, p->cluster_ip, 32, false);
        r_jump(r, internal_chain);
    } else {
        r = filter_rule(g, g->f_services, p, &vi);
        r_proto(r, p->ipproto, p->port);
        r_dst(r, p->cluster_ip, 32, false);
        r_target(r, vi.target);
    }
    /* external IPs */
    for (size_t i = 0; i < p->next; i++) {
        if (c.has_any) {
            r = rule_add(&g->b, N, g->n_services);
            r_comment(r, "%s external IP", name);
            r_proto(r, p->ipproto, p->port);
            r_dst(r, p->ext_ips[i], 32, false);
            r_jump(r, p->ext_chain);
        }
        if (!has_external) {
            r = filter_rule(g, g->f_external, p, &ve);
            r_proto(r, p->ipproto, p->port);
            r_dst(r, p->ext_ips[i], 32, false);
            r_target(r, ve.target);
        }
    }
    /* load-balancer ingress IPs */
    for (size_t i = 0; i < p->nlb; i++) {
        if (c.has_any) {
            r = rule_add(&g->b, N, g->n_services);
            r_comment(r, "%s loadbalancer IP", name);
            r_proto(r, p->ipproto, p->port);
            r_dst(r, p->lb_ips[i], 32, false);
            r_jump(r, lb_chain);
        }
        if (uses_fw) {
            r = rule_add(&g->b, F, g->f_proxy_fw);
            r_comment(r, "%s traffic not accepted by %s", name, p->fw_chain);
            r_proto(r, p->ipproto, p->port);
            r_dst(r, p->lb_ips[i], 32, false);
            r_target(r, KP_TARGET_DROP);
        }
    }
    if (!has_external) {
        for (size_t i = 0; i < p->nlb; i++) {
            r = filter_rule(g, g->f_external, p, &ve);
            r_proto(r, p->ipproto, p->port);
            r_dst(r, p->lb_ips[i], 32, false);
            r_target(r, ve.target);
        }
    }
    /* node port */
    if (p->node_port) {
        if (c.has_any) {
            r = rule_add(&g->b, N, g->n_nodeports);
            r_comment(r, "%s", name);
            r_proto(r, p->ipproto, p->node_port);
            r_jump(r, p->ext_chain);
        }
        if (!has_external) {
            r = filter_rule(g, g->f_external, p, &ve);
            r_addrtype(r, KP_ADDRTYPE_DST);
            r_proto(r, p->ipproto, p->node_port);
            r_target(r, ve.target);
        }
    }
    /* health check node port: accepted whether or not there are local endpoints */
    if (p->hc_node_port) {
        r = rule_add(&g->b, F, g->f_nodeports);
        r_comment(r, "%s health check node port", name);
        r_proto(r, IPPROTO_TCP, p->hc_node_port);
        r_target(r, KP_TARGET_ACCEPT);
    }

    /* internal traffic: masquerade what does not come from a pod */
    if (has_internal && (g->nc->masquerade_all || g->local_detect)) {
        size_t ci = chain_get(&g->b, N, internal_chain);
        r = rule_add(&g->b, N, ci);
        r_comment(r, "%s cluster IP", name);
        r_proto(r, p->ipproto, p->port);
        r_dst(r, p->cluster_ip, 32, false);
        if (!g->nc->masquerade_all)
            r_src(r, g->local_net, g->local_len, true);
        r_jump(r, C_MARK_MASQ);
    }
    /* external destinations */
    if (uses_ext_chain) {
        size_t ci = chain_get(&g->b, N, p->ext_chain);
        if (!p->etp_local) {
            r = rule_add(&g->b, N, ci);
            r_comment(r, "masquerade traffic for %s external destinations", name);
            r_jump(r, C_MARK_MASQ);
        } else {
            if (g->local_detect) {
                r = rule_add(&g->b, N, ci);
                r_comment(r, "pod traffic for %s external destinations", name);
                r_src(r, g->local_net, g->local_len, false);
                r_jump(r, p->svc_chain);
            }
            r = rule_add(&g->b, N, ci);
            r_comment(r, "masquerade LOCAL traffic for %s external destinations", name);
            r_addrtype(r, KP_ADDRTYPE_SRC);
            r_jump(r, C_MARK_MASQ);
            r = rule_add(&g->b, N, ci);
            r_comment(r, "route LOCAL traffic for %s external destinations", name);
            r_addrtype(r, KP_ADDRTYPE_SRC);
            r_jump(r, p->svc_chain);
        }
        if (has_external) {
            r = rule_add(&g->b, N, ci);
            r_jump(r, external_policy_chain);
        }
    }
    /* loadBalancerSourceRanges */
    if (uses_fw) {
        size_t ci = chain_get(&g->b, N, p->fw_chain);
        bool allow_from_node = false;
        for (size_t i = 0; i < p->nsrc; i++) {
            r = rule_add(&g->b, N, ci);
            r_comment(r, "%s loadbalancer IP", name);
            r_src(r, p->src_nets[i], p->src_lens[i], false);
            r_jump(r, p->ext_chain);
            if (g->has_node_ip && (g->node_ip & prefix_mask(p->src_lens[i])) == p->src_nets[i])
                allow_from_node = true;
        }
        if (allow_from_node) {
            for (size_t i = 0; i < p->nlb; i++) {
                r = rule_add(&g->b, N, ci);
                r_comment(r, "%s loadbalancer IP", name);
                r_src(r, p->lb_ips[i], 32, false);
                r_jump(r, p->ext_chain);
            }
        }
        r = rule_add(&g->b, N, ci);
        r_comment(r, "other traffic to %s will be dropped by KUBE-PROXY-FIREWALL", name);
    }
    if (uses_cluster_chain)
        endpoint_rules(g, p, p->svc_chain, &c.cluster);
    if (uses_local_chain)
        endpoint_rules(g, p, p->svl_chain, &c.local);
    for (size_t i = 0; i < c.reachable.n; i++)
        endpoint_chain(g, p, c.reachable.v[i]);
    kp_categorized_free(&c);
}

/* The top-level rules written before the services (postrouting, mark, localnet firewall). */
static void build_fixed_head(struct gen *g)
{
    struct kp_rule *r = rule_add(&g->b, N, g->n_postrouting);
    struct kp_match *m = match_add(r, KP_MATCH_MARK);
    m->invert = true;
    m->value = m->mask = g->mark;
    r_target(r, KP_TARGET_RETURN);
    r = rule_add(&g->b, N, g->n_postrouting);
    r->t.type = KP_TARGET_MARK;
    r->t.mark = g->mark;
    r->t.mask = 0;
    r = rule_add(&g->b, N, g->n_postrouting);
    r_comment(r, "kubernetes service traffic requiring SNAT");
    r->t.type = KP_TARGET_MASQUERADE;
    r->t.random_fully = g->nc->random_fully;

    r = rule_add(&g->b, N, g->n_mark_masq);
    r->t.type = KP_TARGET_MARK;
    r->t.mark = r->t.mask = g->mark;

    if (g->nc->localhost_nodeports) {
        size_t ci = chain_get(&g->b, F, C_FIREWALL);
        r = rule_add(&g->b, F, ci);
        r_comment(r, "block incoming localnet connections");
        r_dst(r, 0x7f000000u, 8, false);
        r_src(r, 0x7f000000u, 8, true);
        r_ctstate(r, KP_CT_RELATED | KP_CT_ESTABLISHED | KP_CT_DNAT, true);
        r_target(r, KP_TARGET_DROP);
    }
}

/* The rules written after the services: the node ports tail call and KUBE-FORWARD. */
static void build_fixed_tail(struct gen *g)
{
    static const char nodeports_comment[] =
        "kubernetes service nodeports; NOTE: this must be the last rule in this chain";
    struct kp_rule *r;
    if (!g->nc->nodeport_ips) {
        r = rule_add(&g->b, N, g->n_services);
        r_comment(r, "%s", nodeports_comment);
        r_addrtype(r, KP_ADDRTYPE_DST);
        if (!g->nc->localhost_nodeports)
            r_dst(r, 0x7f000000u, 8, true);
        r_jump(r, C_NODEPORTS);
    } else {
        for (size_t i = 0; i < g->nc->n_nodeport_ips; i++) {
            uint32_t ip;
            if (kp_parse_ipv4(g->nc->nodeport_ips[i], &ip) < 0)
                continue;
            if ((ip >> 24) == 127 && !g->nc->localhost_nodeports)
                continue;
            r = rule_add(&g->b, N, g->n_services);
            r_comment(r, "%s", nodeports_comment);
            r_dst(r, ip, 32, false);
            r_jump(r, C_NODEPORTS);
        }
    }

    if (!g->nc->conntrack_tcp_liberal) {
        r = rule_add(&g->b, F, g->f_forward);
        r_ctstate(r, KP_CT_INVALID, false);
        r_target(r, KP_TARGET_DROP);
    }
    r = rule_add(&g->b, F, g->f_forward);
    r_comment(r, "kubernetes forwarding rules");
    struct kp_match *m = match_add(r, KP_MATCH_MARK);
    m->value = m->mask = g->mark;
    r_target(r, KP_TARGET_ACCEPT);
    r = rule_add(&g->b, F, g->f_forward);
    r_comment(r, "kubernetes forwarding conntrack rule");
    r_ctstate(r, KP_CT_RELATED | KP_CT_ESTABLISHED, false);
    r_target(r, KP_TARGET_ACCEPT);
}

/* upstream's iptablesJumpChains followed by iptablesKubeletJumpChains. */
static void build_jumps(struct kp_ruleset *rs)
{
    static const struct {
        enum kp_table_id table;
        const char *target, *builtin, *comment;
        bool ct_new;
    } jumps[] = {
        {F, C_EXTERNAL_SERVICES, "INPUT", "kubernetes externally-visible service portals", true},
        {F, C_EXTERNAL_SERVICES, "FORWARD", "kubernetes externally-visible service portals", true},
        {F, C_NODEPORTS, "INPUT", "kubernetes health check service ports", false},
        {F, C_SERVICES, "FORWARD", "kubernetes service portals", true},
        {F, C_SERVICES, "OUTPUT", "kubernetes service portals", true},
        {F, C_FORWARD, "FORWARD", "kubernetes forwarding rules", false},
        {F, C_PROXY_FIREWALL, "INPUT", "kubernetes load balancer firewall", true},
        {F, C_PROXY_FIREWALL, "OUTPUT", "kubernetes load balancer firewall", true},
        {F, C_PROXY_FIREWALL, "FORWARD", "kubernetes load balancer firewall", true},
        {N, C_SERVICES, "OUTPUT", "kubernetes service portals", false},
        {N, C_SERVICES, "PREROUTING", "kubernetes service portals", false},
        {N, C_POSTROUTING, "POSTROUTING", "kubernetes postrouting rules", false},
        {F, C_FIREWALL, "INPUT", NULL, false},
        {F, C_FIREWALL, "OUTPUT", NULL, false},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(jumps); i++) {
        struct kp_rule *r = jump_add(rs, jumps[i].table, jumps[i].builtin);
        if (jumps[i].ct_new)
            r_ctstate(r, KP_CT_NEW, false);
        if (jumps[i].comment)
            r_comment(r, "%s", jumps[i].comment);
        r_jump(r, jumps[i].target);
    }
}

int kp_rules_build(const struct kp_node_config *node, const cJSON *const *services,
                   size_t nservices, const cJSON *const *slices, size_t nslices,
                   struct kp_ruleset **out)
{
    if (!node || !out || node->masquerade_bit < 0 || node->masquerade_bit > 31 ||
        (nservices && !services) || (nslices && !slices))
        return -EINVAL;

    struct kp_model m;
    kp_model_build(&m, node->node_name, services, nservices, slices, nslices);
    size_t total_endpoints = m.total_endpoints;

    struct gen g;
    memset(&g, 0, sizeof(g));
    g.b.rs = ck_xcalloc(1, sizeof(*g.b.rs));
    g.nc = node;
    g.mark = 1u << node->masquerade_bit;
    g.local_detect = node->local_cidr && *node->local_cidr &&
                     kp_parse_cidr4(node->local_cidr, &g.local_net, &g.local_len) == 0;
    g.has_node_ip = node->node_ip && kp_parse_ipv4(node->node_ip, &g.node_ip) == 0;
    g.large = total_endpoints > KP_LARGE_CLUSTER_ENDPOINTS;

    /* chains in upstream's order of declaration */
    g.f_services = chain_get(&g.b, F, C_SERVICES);
    g.f_external = chain_get(&g.b, F, C_EXTERNAL_SERVICES);
    g.f_forward = chain_get(&g.b, F, C_FORWARD);
    g.f_nodeports = chain_get(&g.b, F, C_NODEPORTS);
    g.f_proxy_fw = chain_get(&g.b, F, C_PROXY_FIREWALL);
    g.n_services = chain_get(&g.b, N, C_SERVICES);
    g.n_nodeports = chain_get(&g.b, N, C_NODEPORTS);
    g.n_postrouting = chain_get(&g.b, N, C_POSTROUTING);
    g.n_mark_masq = chain_get(&g.b, N, C_MARK_MASQ);
    for (int t = 0; t < KP_TABLE_COUNT; t++)
        chain_get(&g.b, (enum kp_table_id)t, C_CANARY);

    build_fixed_head(&g);
    for (size_t i = 0; i < m.n; i++)
        build_service(&g, m.ports[i]);
    build_fixed_tail(&g);
    build_jumps(g.b.rs);
    collect_udp(g.b.rs, &m);

    g.b.rs->stats.service_ports = m.n;
    g.b.rs->stats.endpoints = total_endpoints;
    g.b.rs->stats.large_cluster = g.large;
    for (int t = 0; t < KP_TABLE_COUNT; t++)
        ck_strmap_free(&g.b.index[t], NULL);
    kp_model_free(&m);
    *out = g.b.rs;
    return 0;
}

#undef F
#undef N

/* ---- rendering --------------------------------------------------------------------------- */

/* xtables_save_string: bare when only [A-Za-z0-9_-], else double-quoted with \ before " ' \. */
static void save_string(struct ck_buf *out, const char *v)
{
    static const char bare[] = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    size_t n = strspn(v, bare);
    ck_buf_putc(out, ' ');
    if (n > 0 && v[n] == '\0') {
        ck_buf_puts(out, v);
        return;
    }
    ck_buf_putc(out, '"');
    for (; *v; v++) {
        if (*v == '"' || *v == '\\' || *v == '\'')
            ck_buf_putc(out, '\\');
        ck_buf_putc(out, *v);
    }
    ck_buf_putc(out, '"');
}

static void render_addr(struct ck_buf *out, const char *flag, uint32_t ip, uint8_t len, bool inv)
{
    char s[16];
    kp_format_ipv4(ip, s);
    ck_buf_printf(out, "%s %s %s/%u", inv ? " !" : "", flag, s, len);
}

static const char *proto_name(uint8_t p)
{
    return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_SCTP ? "sctp" : "all";
}

static void render_ctstate(struct ck_buf *out, uint32_t s)
{
    /* libxt_conntrack's order; SNAT/DNAT/UNTRACKED are the bits after IP_CT_NUMBER */
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{KP_CT_INVALID, "INVALID"}, {KP_CT_NEW, "NEW"},
                 {KP_CT_RELATED, "RELATED"}, {KP_CT_ESTABLISHED, "ESTABLISHED"},
                 {1u << 8, "UNTRACKED"},     {1u << 6, "SNAT"},
                 {KP_CT_DNAT, "DNAT"}};
    const char *sep = " ";
    for (size_t i = 0; i < CK_ARRAY_SIZE(names); i++) {
        if (names[i].bit && (s & names[i].bit)) {
            ck_buf_printf(out, "%s%s", sep, names[i].name);
            sep = ",";
        }
    }
}

static void render_match(struct ck_buf *out, const struct kp_rule *r, const struct kp_match *m)
{
    switch (m->type) {
    case KP_MATCH_COMMENT:
        ck_buf_puts(out, " -m comment --comment");
        save_string(out, m->text ? m->text : "");
        break;
    case KP_MATCH_PROTO:
        ck_buf_printf(out, " -m %s", proto_name(r->proto));
        if (m->port)
            ck_buf_printf(out, " --dport %u", m->port);
        break;
    case KP_MATCH_STATISTIC:
        ck_buf_printf(out, " -m statistic --mode random --probability %.11f",
                      (double)m->value / 2147483648.0);
        break;
    case KP_MATCH_RECENT:
        ck_buf_puts(out, " -m recent");
        if (m->value == KP_RECENT_SET)
            ck_buf_puts(out, " --set");
        else
            ck_buf_printf(out, " --rcheck --seconds %u --reap", m->mask);
        ck_buf_printf(out, " --name %s --mask 255.255.255.255 --rsource", m->text ? m->text : "");
        break;
    case KP_MATCH_CONNTRACK:
        ck_buf_printf(out, " -m conntrack%s --ctstate", m->invert ? " !" : "");
        render_ctstate(out, m->value);
        break;
    case KP_MATCH_MARK:
        ck_buf_printf(out, " -m mark%s --mark 0x%x", m->invert ? " !" : "", m->value);
        if (m->mask != 0xffffffffu)
            ck_buf_printf(out, "/0x%x", m->mask);
        break;
    case KP_MATCH_ADDRTYPE:
        ck_buf_printf(out, " -m addrtype --%s-type LOCAL",
                      m->value == KP_ADDRTYPE_SRC ? "src" : "dst");
        break;
    }
}

void kp_rule_render(const struct kp_rule *r, const char *chain, struct ck_buf *out)
{
    ck_buf_printf(out, "-A %s", chain);
    if (r->src_len)
        render_addr(out, "-s", r->src, r->src_len, r->src_inv);
    if (r->dst_len)
        render_addr(out, "-d", r->dst, r->dst_len, r->dst_inv);
    if (r->proto)
        ck_buf_printf(out, " -p %s", proto_name(r->proto));
    for (int i = 0; i < r->nmatches; i++)
        render_match(out, r, &r->m[i]);
    char ip[16];
    switch (r->t.type) {
    case KP_TARGET_NONE:
        break;
    case KP_TARGET_JUMP:
        ck_buf_printf(out, " -j %s", r->t.chain);
        break;
    case KP_TARGET_ACCEPT:
        ck_buf_puts(out, " -j ACCEPT");
        break;
    case KP_TARGET_DROP:
        ck_buf_puts(out, " -j DROP");
        break;
    case KP_TARGET_RETURN:
        ck_buf_puts(out, " -j RETURN");
        break;
    case KP_TARGET_REJECT:
        ck_buf_puts(out, " -j REJECT --reject-with icmp-port-unreachable");
        break;
    case KP_TARGET_DNAT:
        kp_format_ipv4(r->t.ip, ip);
        ck_buf_printf(out, " -j DNAT --to-destination %s:%u", ip, r->t.port);
        break;
    case KP_TARGET_MASQUERADE:
        ck_buf_puts(out, " -j MASQUERADE");
        if (r->t.random_fully)
            ck_buf_puts(out, " --random-fully");
        break;
    case KP_TARGET_MARK:
        ck_buf_printf(out, " -j MARK --set-xmark 0x%x/0x%x", r->t.mark, r->t.mask);
        break;
    }
}

void kp_chain_render(const struct kp_chain *c, struct ck_buf *out)
{
    for (size_t i = 0; i < c->n; i++) {
        kp_rule_render(&c->rules[i], c->name, out);
        ck_buf_putc(out, '\n');
    }
}

struct named {
    const char *name;
    const struct kp_chain *chain; /* NULL: a chain only a jump rule needs */
};

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static const char *const *builtins_of(enum kp_table_id t)
{
    static const char *const filter[] = {"INPUT", "FORWARD", "OUTPUT", NULL};
    static const char *const nat[] = {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", NULL};
    static const char *const mangle[] = {"PREROUTING", "INPUT",       "FORWARD",
                                         "OUTPUT",     "POSTROUTING", NULL};
    return t == KP_TABLE_FILTER ? filter : t == KP_TABLE_NAT ? nat : mangle;
}

void kp_ruleset_render(const struct kp_ruleset *rs, enum kp_table_id t, unsigned flags,
                       struct ck_buf *out)
{
    if (!rs || t < 0 || t >= KP_TABLE_COUNT)
        return;
    const struct kp_table *tb = &rs->tables[t];
    bool builtins = flags & KP_RENDER_BUILTINS;
    ck_buf_printf(out, "*%s\n", kp_table_name(t));
    if (builtins)
        for (const char *const *b = builtins_of(t); *b; b++)
            ck_buf_printf(out, ":%s ACCEPT [0:0]\n", *b);

    /* our chains, plus chains only our jump rules create, sorted as libiptc keeps them */
    struct named *v = ck_xmalloc((tb->n + tb->njumps + 1) * sizeof(*v));
    size_t nn = 0;
    for (size_t i = 0; i < tb->n; i++)
        v[nn++] = (struct named){tb->chains[i].name, &tb->chains[i]};
    if (builtins) {
        for (size_t i = 0; i < tb->njumps; i++) {
            const char *target = tb->jumps[i].rule.t.chain;
            bool seen = false;
            for (size_t j = 0; j < nn && !seen; j++)
                seen = strcmp(v[j].name, target) == 0;
            if (!seen)
                v[nn++] = (struct named){target, NULL};
        }
    }
    qsort(v, nn, sizeof(*v), cmp_named);
    for (size_t i = 0; i < nn; i++)
        ck_buf_printf(out, ":%s - [0:0]\n", v[i].name);

    if (builtins) {
        for (const char *const *b = builtins_of(t); *b; b++) {
            for (size_t i = tb->njumps; i-- > 0;) {
                if (strcmp(tb->jumps[i].builtin, *b) != 0)
                    continue;
                kp_rule_render(&tb->jumps[i].rule, *b, out);
                ck_buf_putc(out, '\n');
            }
        }
    }
    for (size_t i = 0; i < nn; i++)
        if (v[i].chain)
            kp_chain_render(v[i].chain, out);
    free(v);
    ck_buf_puts(out, "COMMIT\n");
}
