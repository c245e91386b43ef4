/* iptc.c - the libiptc writer of kube-proxy (see iptc.h): kp_rule -> struct ipt_entry with the
 * kernel's match and target payloads, chain diffing by digest, stale chain removal, jump rules,
 * the xtables lock, and --cleanup.
 *
 * Revisions are the ones iptables 1.8 picks on current kernels where it matters for the text
 * iptables-save prints back (comment 0, tcp/udp/sctp 0, statistic 0, recent 1, conntrack 3,
 * mark 1, addrtype 1; targets REJECT 0, DNAT 2, MASQUERADE 0, MARK 2).
 */
#include "iptc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libiptc/libiptc.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_recent.h>
#include <linux/netfilter/xt_sctp.h>
#include <linux/netfilter/xt_statistic.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>

#include "buf.h"
#include "encoding.h"
#include "log.h"
#include "mem.h"
#include "strmap.h"

#define DEFAULT_LOCK "/run/xtables.lock"
#define CANARY "KUBE-PROXY-CANARY"

struct kp_iptc {
    char *lock_path; /* "" : no lock */
    int lock_timeout_ms;
    /* per table: chain name -> sha256 (32 bytes, malloc'ed) of what we last committed */
    struct ck_strmap digests[KP_TABLE_COUNT];
    bool known[KP_TABLE_COUNT];              /* digests and info reflect the kernel */
    struct ipt_getinfo info[KP_TABLE_COUNT]; /* the table as our last sync left it */
};

/* ---- entries ----------------------------------------------------------------------------- */

static size_t match_payload(const struct kp_rule *r, const struct kp_match *m)
{
    switch (m->type) {
    case KP_MATCH_COMMENT:
        return sizeof(struct xt_comment_info);
    case KP_MATCH_PROTO:
        return r->proto == IPPROTO_UDP    ? sizeof(struct xt_udp)
               : r->proto == IPPROTO_SCTP ? sizeof(struct xt_sctp_info)
                                          : sizeof(struct xt_tcp);
    case KP_MATCH_STATISTIC:
        return sizeof(struct xt_statistic_info);
    case KP_MATCH_RECENT:
        return sizeof(struct xt_recent_mtinfo_v1);
    case KP_MATCH_CONNTRACK:
        return sizeof(struct xt_conntrack_mtinfo3);
    case KP_MATCH_MARK:
        return sizeof(struct xt_mark_mtinfo1);
    case KP_MATCH_ADDRTYPE:
        return sizeof(struct xt_addrtype_info_v1);
    }
    return 0;
}

static size_t target_payload(const struct kp_target *t)
{
    switch (t->type) {
    case KP_TARGET_REJECT:
        return sizeof(struct ipt_reject_info);
    case KP_TARGET_DNAT:
        return sizeof(struct nf_nat_range2);
    case KP_TARGET_MASQUERADE:
        return sizeof(struct nf_nat_ipv4_multi_range_compat);
    case KP_TARGET_MARK:
        return sizeof(struct xt_mark_tginfo2);
    default: /* standard target: verdict or jump, filled in by libiptc from the name */
        return sizeof(int);
    }
}

static void fill_match(const struct kp_rule *r, const struct kp_match *m, struct xt_entry_match *em)
{
    void *d = em->data;
    const char *name = "";
    int rev = 0;
    switch (m->type) {
    case KP_MATCH_COMMENT: {
        struct xt_comment_info *c = d;
        name = "comment";
        snprintf(c->comment, sizeof(c->comment), "%s", m->text ? m->text : "");
        break;
    }
    case KP_MATCH_PROTO: {
        uint16_t lo = m->port ? m->port : 0, hi = m->port ? m->port : 0xffff;
        if (r->proto == IPPROTO_UDP) {
            struct xt_udp *u = d;
            name = "udp";
            u->spts[1] = 0xffff;
            u->dpts[0] = lo;
            u->dpts[1] = hi;
        } else if (r->proto == IPPROTO_SCTP) {
            struct xt_sctp_info *s = d;
            name = "sctp";
            s->spts[1] = 0xffff;
            s->dpts[0] = lo;
            s->dpts[1] = hi;
            if (m->port)
                s->flags = XT_SCTP_DEST_PORTS;
        } else {
            struct xt_tcp *t = d;
            name = "tcp";
            t->spts[1] = 0xffff;
            t->dpts[0] = lo;
            t->dpts[1] = hi;
        }
        break;
    }
    case KP_MATCH_STATISTIC: {
        struct xt_statistic_info *s = d;
        name = "statistic";
        s->mode = XT_STATISTIC_MODE_RANDOM;
        s->u.random.probability = m->value;
        break;
    }
    case KP_MATCH_RECENT: {
        struct xt_recent_mtinfo_v1 *rc = d;
        name = "recent";
        rev = 1;
        if (m->value == KP_RECENT_SET) {
            rc->check_set = XT_RECENT_SET;
        } else {
            rc->check_set = XT_RECENT_CHECK | XT_RECENT_REAP;
            rc->seconds = m->mask;
        }
        snprintf(rc->name, sizeof(rc->name), "%s", m->text ? m->text : "");
        rc->side = XT_RECENT_SOURCE;
        memset(&rc->mask, 0xff, sizeof(rc->mask));
        break;
    }
    case KP_MATCH_CONNTRACK: {
        struct xt_conntrack_mtinfo3 *c = d;
        name = "conntrack";
        rev = 3;
        c->match_flags = XT_CONNTRACK_STATE;
        c->invert_flags = m->invert ? XT_CONNTRACK_STATE : 0;
        c->state_mask = (uint16_t)m->value;
        break;
    }
    case KP_MATCH_MARK: {
        struct xt_mark_mtinfo1 *mk = d;
        name = "mark";
        rev = 1;
        mk->mark = m->value;
        mk->mask = m->mask;
        mk->invert = m->invert;
        break;
    }
    case KP_MATCH_ADDRTYPE: {
        struct xt_addrtype_info_v1 *a = d;
        name = "addrtype";
        rev = 1;
        if (m->value == KP_ADDRTYPE_SRC)
            a->source = XT_ADDRTYPE_LOCAL;
        else
            a->dest = XT_ADDRTYPE_LOCAL;
        break;
    }
    }
    snprintf(em->u.user.name, sizeof(em->u.user.name), "%s", name);
    em->u.user.revision = (uint8_t)rev;
}

static void fill_target(const struct kp_target *t, struct xt_entry_target *et)
{
    const char *name = "";
    int rev = 0;
    switch (t->type) {
    case KP_TARGET_NONE:
        name = ""; /* falls through to the next rule */
        break;
    case KP_TARGET_JUMP:
        name = t->chain;
        break;
    case KP_TARGET_ACCEPT:
        name = IPTC_LABEL_ACCEPT;
        break;
    case KP_TARGET_DROP:
        name = IPTC_LABEL_DROP;
        break;
    case KP_TARGET_RETURN:
        name = IPTC_LABEL_RETURN;
        break;
    case KP_TARGET_REJECT: {
        struct ipt_reject_info *ri = (void *)et->data;
        name = "REJECT";
        ri->with = IPT_ICMP_PORT_UNREACHABLE;
        break;
    }
    case KP_TARGET_DNAT: {
        struct nf_nat_range2 *nr = (void *)et->data;
        name = "DNAT";
        rev = 2;
        nr->flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
        nr->min_addr.ip = nr->max_addr.ip = htonl(t->ip);
        nr->min_proto.all = nr->max_proto.all = htons(t->port);
        break;
    }
    case KP_TARGET_MASQUERADE: {
        struct nf_nat_ipv4_multi_range_compat *mr = (void *)et->data;
        name = "MASQUERADE";
        mr->rangesize = 1;
        if (t->random_fully)
            mr->range[0].flags = NF_NAT_RANGE_PROTO_RANDOM_FULLY;
        break;
    }
    case KP_TARGET_MARK: {
        struct xt_mark_tginfo2 *mk = (void *)et->data;
        name = "MARK";
        rev = 2;
        mk->mark = t->mark;
        mk->mask = t->mask;
        break;
    }
    }
    /* our names fit (KP_CHAIN_NAME_MAX); the buffer was zeroed */
    memcpy(et->u.user.name, name, strnlen(name, sizeof(et->u.user.name) - 1));
    et->u.user.revision = (uint8_t)rev;
}

static uint32_t mask_of(uint8_t len)
{
    return len == 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

void *kp_iptc_entry(const struct kp_rule *r, size_t *size)
{
    size_t msz[KP_RULE_MAX_MATCHES], total_m = 0;
    for (int i = 0; i < r->nmatches; i++) {
        msz[i] = XT_ALIGN(sizeof(struct xt_entry_match)) + XT_ALIGN(match_payload(r, &r->m[i]));
        total_m += msz[i];
    }
    size_t tsz = XT_ALIGN(sizeof(struct xt_entry_target)) + XT_ALIGN(target_payload(&r->t));
    size_t head = XT_ALIGN(sizeof(struct ipt_entry));
    size_t total = head + total_m + tsz;
    struct ipt_entry *e = ck_xcalloc(1, total);
    if (r->src_len) {
        e->ip.src.s_addr = htonl(r->src);
        e->ip.smsk.s_addr = htonl(mask_of(r->src_len));
        if (r->src_inv)
            e->ip.invflags |= IPT_INV_SRCIP;
    }
    if (r->dst_len) {
        e->ip.dst.s_addr = htonl(r->dst);
        e->ip.dmsk.s_addr = htonl(mask_of(r->dst_len));
        if (r->dst_inv)
            e->ip.invflags |= IPT_INV_DSTIP;
    }
    e->ip.proto = r->proto;
    e->target_offset = (uint16_t)(head + total_m);
    e->next_offset = (uint16_t)total;
    size_t off = head;
    for (int i = 0; i < r->nmatches; i++) {
        struct xt_entry_match *em = (void *)((char *)e + off);
        em->u.user.match_size = (uint16_t)msz[i];
        fill_match(r, &r->m[i], em);
        off += msz[i];
    }
    struct xt_entry_target *et = (void *)((char *)e + off);
    et->u.user.target_size = (uint16_t)tsz;
    fill_target(&r->t, et);
    *size = total;
    return e;
}

/* ---- the xtables lock -------------------------------------------------------------------- */

static const char *lock_path_of(const char *configured)
{
    if (configured)
        return configured;
    const char *env = getenv("XTABLES_LOCKFILE");
    return env && *env ? env : DEFAULT_LOCK;
}

/* Takes the lock iptables takes (flock on the lock file), waiting up to timeout_ms. Returns
 * the descriptor (>= 0), -1 when locking is off, or a negative errno. */
static int xtables_lock(const char *path, int timeout_ms)
{
    if (!*path)
        return -1;
    int fd = open(path, O_CREAT | O_RDONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    for (int waited = 0;; waited += 10) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        if (errno != EWOULDBLOCK || waited >= timeout_ms) {
            int e = errno == EWOULDBLOCK ? ETIMEDOUT : errno;
            close(fd);
            return -e;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void xtables_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

/* ---- writer ------------------------------------------------------------------------------ */

struct kp_iptc *kp_iptc_new(const struct kp_iptc_opts *opts)
{
    struct kp_iptc *w = ck_xcalloc(1, sizeof(*w));
    w->lock_path = ck_xstrdup(lock_path_of(opts ? opts->lock_path : NULL));
    w->lock_timeout_ms = opts && opts->lock_timeout_ms > 0 ? opts->lock_timeout_ms : 5000;
    return w;
}

void kp_iptc_reset(struct kp_iptc *w)
{
    if (!w)
        return;
    for (int t = 0; t < KP_TABLE_COUNT; t++) {
        ck_strmap_free(&w->digests[t], free);
        w->known[t] = false;
    }
}

void kp_iptc_free(struct kp_iptc *w)
{
    if (!w)
        return;
    kp_iptc_reset(w);
    free(w->lock_path);
    free(w);
}

static int fail(struct kp_iptc_stats *st, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct kp_iptc_stats *st, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->error, sizeof(st->error), fmt, ap);
    va_end(ap);
    return err > 0 ? -err : err < 0 ? err : -EIO;
}

static void chain_digest(const struct kp_chain *c, struct ck_buf *scratch, uint8_t out[32])
{
    ck_buf_reset(scratch);
    kp_chain_render(c, scratch);
    ck_sha256(scratch->data ? scratch->data : "", scratch->len, out);
}

static int append_rules(struct xtc_handle *h, const struct kp_chain *c, struct kp_iptc_stats *st)
{
    for (size_t i = 0; i < c->n; i++) {
        size_t sz;
        void *e = kp_iptc_entry(&c->rules[i], &sz);
        int ok = iptc_append_entry(c->name, e, h);
        int saved = errno;
        free(e);
        if (!ok)
            return fail(st, saved, "appending rule %zu to %s: %s", i + 1, c->name,
                        iptc_strerror(saved));
        st->rules_written++;
    }
    return 0;
}

/* Every chain name of the handle, each in an xt_chainlabel-sized buffer (caller frees). */
static void list_chains(struct xtc_handle *h, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    size_t cap = 0;
    for (const char *c = iptc_first_chain(h); c; c = iptc_next_chain(h)) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *names = ck_xrealloc(*names, cap * sizeof(**names));
        }
        char *label = ck_xcalloc(1, sizeof(xt_chainlabel)); /* libiptc reads whole labels */
        snprintf(label, sizeof(xt_chainlabel), "%s", c);
        (*names)[(*n)++] = label;
    }
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Removes per-service chains not in the wanted set: all are flushed first (so references
 * between stale chains vanish), then deleted. */
static bool delete_stale(struct xtc_handle *h, const struct ck_strmap *wanted,
                         struct kp_iptc_stats *st)
{
    char **names;
    size_t n;
    list_chains(h, &names, &n);
    const char **stale = ck_xmalloc((n + 1) * sizeof(*stale));
    size_t nstale = 0;
    for (size_t i = 0; i < n; i++) {
        if (!kp_is_service_chain(names[i]) || ck_strmap_get(wanted, names[i]))
            continue;
        xt_chainlabel label;
        snprintf(label, sizeof(label), "%s", names[i]);
        if (!iptc_flush_entries(label, h))
            ck_warn("flushing stale chain %s: %s", names[i], iptc_strerror(errno));
        stale[nstale++] = names[i];
    }
    for (size_t i = 0; i < nstale; i++) {
        xt_chainlabel label;
        snprintf(label, sizeof(label), "%s", stale[i]);
        if (iptc_delete_chain(label, h))
            st->chains_deleted++;
        else
            ck_warn("deleting stale chain %s: %s", stale[i], iptc_strerror(errno));
    }
    free(stale);
    free_names(names, n);
    return nstale > 0;
}

/* Ensures each jump rule exists in its built-in chain (upstream's EnsureChain + EnsureRule
 * with Prepend). Returns 1 when something was added, 0, or a negative errno. */
static int ensure_jumps(struct xtc_handle *h, const struct kp_table *tb, struct kp_iptc_stats *st)
{
    int changed = 0;
    for (size_t i = 0; i < tb->njumps; i++) {
        const struct kp_jump *j = &tb->jumps[i];
        if (j->rule.t.type == KP_TARGET_JUMP && !iptc_is_chain(j->rule.t.chain, h)) {
            if (!iptc_create_chain(j->rule.t.chain, h))
                return fail(st, errno, "creating chain %s: %s", j->rule.t.chain,
                            iptc_strerror(errno));
            changed = 1;
        }
        size_t sz;
        void *e = kp_iptc_entry(&j->rule, &sz);
        unsigned char *mask = ck_xmalloc(sz);
        memset(mask, 0xff, sz);
        int present = iptc_check_entry(j->builtin, e, mask, h);
        int ok = present || iptc_insert_entry(j->builtin, e, 0, h);
        int saved = errno;
        free(mask);
        free(e);
        if (!ok)
            return fail(st, saved, "inserting jump from %s to %s: %s", j->builtin, j->rule.t.chain,
                        iptc_strerror(saved));
        if (!present) {
            st->jumps_added++;
            changed = 1;
        }
    }
    return changed;
}

/* The kernel's size and entry count of a table (IPT_SO_GET_INFO): a cheap fingerprint that
 * changes whenever anyone replaces the table with different content. */
static bool table_info(const char *table, struct ipt_getinfo *info)
{
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd < 0)
        return false;
    memset(info, 0, sizeof(*info));
    snprintf(info->name, sizeof(info->name), "%s", table);
    socklen_t len = sizeof(*info);
    bool ok = getsockopt(fd, IPPROTO_IP, IPT_SO_GET_INFO, info, &len) == 0;
    close(fd);
    return ok;
}

/* True when fresh names exactly the chains of old with the same digests. */
static bool same_digests(const struct ck_strmap *fresh, const struct ck_strmap *old)
{
    if (fresh->len != old->len)
        return false;
    for (size_t b = 0; b < fresh->nbuckets; b++)
        for (const struct ck_strmap_entry *e = fresh->buckets[b]; e; e = e->next) {
            const uint8_t *o = ck_strmap_get(old, e->key);
            if (!o || memcmp(o, e->value, 32) != 0)
                return false;
        }
    return true;
}

/* Writes one table: see iptc.h. fresh holds the digests of the desired chains. With
 * touched (someone else changed the table since our last sync), the fixed top-level chains
 * are rewritten even when their digest is unchanged, as upstream rewrites them on every
 * sync; per-service chains follow their digests. */
static int write_table(struct kp_iptc *w, enum kp_table_id t, const struct kp_table *tb, bool full,
                       bool touched, struct ck_strmap *fresh, struct kp_iptc_stats *st)
{
    struct xtc_handle *h = iptc_init(kp_table_name(t));
    if (!h)
        return fail(st, errno, "can't initialize iptables table `%s': %s", kp_table_name(t),
                    iptc_strerror(errno));
    full = full || !iptc_is_chain(CANARY, h);
    st->full[t] = full;

    bool changed = false, jump_target_created = false;
    int rc = 0;
    bool *created = ck_xcalloc(tb->n + 1, sizeof(*created));
    for (size_t i = 0; i < tb->n && rc == 0; i++) {
        if (iptc_is_chain(tb->chains[i].name, h))
            continue;
        if (!iptc_create_chain(tb->chains[i].name, h))
            rc = fail(st, errno, "creating chain %s: %s", tb->chains[i].name, iptc_strerror(errno));
        created[i] = changed = true;
        for (size_t j = 0; j < tb->njumps; j++)
            if (strcmp(tb->jumps[j].rule.t.chain, tb->chains[i].name) == 0)
                jump_target_created = true; /* its jumps went with it */
    }
    for (size_t i = 0; i < tb->n && rc == 0; i++) {
        const struct kp_chain *c = &tb->chains[i];
        const uint8_t *old = ck_strmap_get(&w->digests[t], c->name);
        const uint8_t *now = ck_strmap_get(fresh, c->name);
        bool refresh = touched && !kp_is_service_chain(c->name);
        if (!full && !created[i] && !refresh && old && memcmp(old, now, 32) == 0) {
            st->chains_kept++;
            continue;
        }
        if (!created[i] && !iptc_flush_entries(c->name, h)) {
            rc = fail(st, errno, "flushing chain %s: %s", c->name, iptc_strerror(errno));
            break;
        }
        rc = append_rules(h, c, st);
        st->chains_written++;
        changed = true;
    }
    free(created);
    if (rc == 0 && delete_stale(h, fresh, st))
        changed = true;
    if (rc == 0 && (full || jump_target_created)) {
        int j = ensure_jumps(h, tb, st);
        if (j < 0)
            rc = j;
        else if (j > 0)
            changed = true;
    }
    if (rc == 0 && changed) {
        if (!iptc_commit(h))
            rc = fail(st, errno, "committing table `%s': %s", kp_table_name(t),
                      iptc_strerror(errno));
        else
            st->committed[t] = true;
    }
    iptc_free(h);
    return rc;
}

/* One table. A partial sync whose chains all hash as last committed, on a table the kernel
 * still holds at the size and entry count we left it with, needs nothing: the table is not
 * even read (what makes the periodic sync cheap on big tables). */
static int sync_table(struct kp_iptc *w, enum kp_table_id t, const struct kp_ruleset *rs, bool full,
                      struct kp_iptc_stats *st)
{
    const struct kp_table *tb = &rs->tables[t];
    struct ck_strmap fresh = CK_STRMAP_INIT;
    struct ck_buf scratch = CK_BUF_INIT;
    for (size_t i = 0; i < tb->n; i++) {
        uint8_t *d = ck_xmalloc(32);
        chain_digest(&tb->chains[i], &scratch, d);
        free(ck_strmap_put(&fresh, tb->chains[i].name, d));
    }
    ck_buf_free(&scratch);
    full = full || !w->known[t];
    struct ipt_getinfo info;
    bool touched = !table_info(kp_table_name(t), &info) || info.size != w->info[t].size ||
                   info.num_entries != w->info[t].num_entries;
    if (!full && !touched && same_digests(&fresh, &w->digests[t])) {
        st->chains_kept += tb->n;
        ck_strmap_free(&fresh, free);
        return 0;
    }
    int rc = write_table(w, t, tb, full, touched, &fresh, st);
    if (rc == 0) {
        ck_strmap_free(&w->digests[t], free);
        w->digests[t] = fresh;
        w->known[t] = table_info(kp_table_name(t), &w->info[t]);
    } else {
        ck_strmap_free(&fresh, free);
    }
    return rc;
}

int kp_iptc_sync(struct kp_iptc *w, const struct kp_ruleset *rs, bool full,
                 struct kp_iptc_stats *stats)
{
    struct kp_iptc_stats local;
    struct kp_iptc_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof(*st));
    if (!w || !rs)
        return fail(st, EINVAL, "no writer or rule set");
    int lock = xtables_lock(w->lock_path, w->lock_timeout_ms);
    if (lock < -1)
        return fail(st, -lock, "another app is currently holding the xtables lock (%s): %s",
                    w->lock_path, strerror(-lock));
    static const enum kp_table_id order[] = {KP_TABLE_FILTER, KP_TABLE_NAT, KP_TABLE_MANGLE};
    int rc = 0;
    for (size_t i = 0; i < CK_ARRAY_SIZE(order) && rc == 0; i++)
        rc = sync_table(w, order[i], rs, full, st);
    xtables_unlock(lock);
    if (rc < 0)
        kp_iptc_reset(w); /* the state is unknown now: the next sync is full */
    return rc;
}

/* ---- cleanup ----------------------------------------------------------------------------- */

static bool is_our_chain(const char *name)
{
    static const char *const fixed[] = {
        "KUBE-SERVICES",       "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS",
        "KUBE-POSTROUTING",    "KUBE-MARK-MASQ",         "KUBE-FORWARD",
        "KUBE-PROXY-FIREWALL", "KUBE-FIREWALL",          CANARY,
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(fixed); i++)
        if (strcmp(name, fixed[i]) == 0)
            return true;
    return kp_is_service_chain(name);
}

static int cleanup_table(const char *table, struct kp_iptc_stats *st)
{
    struct xtc_handle *h = iptc_init(table);
    if (!h) {
        if (errno == ENOENT || errno == EINVAL)
            return 0; /* table not there: nothing of ours either */
        return fail(st, errno, "can't initialize iptables table `%s': %s", table,
                    iptc_strerror(errno));
    }
    char **names;
    size_t n;
    list_chains(h, &names, &n);
    bool changed = false;
    /* 1. jump rules from built-in chains into ours, deleted from the bottom up */
    for (size_t i = 0; i < n; i++) {
        if (!iptc_builtin(names[i], h))
            continue;
        unsigned num = 0, del[1024];
        size_t ndel = 0;
        for (const struct ipt_entry *e = iptc_first_rule(names[i], h); e;
             e = iptc_next_rule(e, h)) {
            num++;
            if (is_our_chain(iptc_get_target(e, h)) && ndel < CK_ARRAY_SIZE(del))
                del[ndel++] = num;
        }
        while (ndel > 0) {
            if (!iptc_delete_num_entry(names[i], del[--ndel] - 1, h)) {
                int rc =
                    fail(st, errno, "deleting rule from %s: %s", names[i], iptc_strerror(errno));
                free_names(names, n);
                iptc_free(h);
                return rc;
            }
            st->jumps_removed++;
            changed = true;
        }
    }
    /* 2. flush every chain of ours, 3. delete them */
    for (size_t i = 0; i < n; i++)
        if (is_our_chain(names[i]) && iptc_flush_entries(names[i], h))
            changed = true;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!is_our_chain(names[i]))
            continue;
        if (!iptc_delete_chain(names[i], h))
            rc = fail(st, errno, "deleting chain %s in %s: %s", names[i], table,
                      iptc_strerror(errno));
        else
            st->chains_deleted++;
    }
    if (rc == 0 && changed && !iptc_commit(h))
        rc = fail(st, errno, "committing table `%s': %s", table, iptc_strerror(errno));
    free_names(names, n);
    iptc_free(h);
    return rc;
}

int kp_iptc_cleanup(const struct kp_iptc_opts *opts, struct kp_iptc_stats *stats)
{
    struct kp_iptc_stats local;
    struct kp_iptc_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof(*st));
    const char *path = lock_path_of(opts ? opts->lock_path : NULL);
    int lock = xtables_lock(path, opts && opts->lock_timeout_ms > 0 ? opts->lock_timeout_ms : 5000);
    if (lock < -1)
        return fail(st, -lock, "another app is currently holding the xtables lock (%s): %s", path,
                    strerror(-lock));
    int rc = 0;
    static const char *const tables[] = {"filter", "nat", "mangle"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(tables) && rc == 0; i++)
        rc = cleanup_table(tables[i], st);
    xtables_unlock(lock);
    return rc;
}
