/* message.c - DNS wire decoding and encoding (see message.h). Every read is bounds-checked
 * against the packet length; compression pointers are followed only backwards and at most
 * DNS_MAX_POINTERS times, so no packet can make the decoder loop or read out of bounds. */
#include "dns/message.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int dns_parse_header(const uint8_t *pkt, size_t len, uint16_t *id, uint16_t *flags,
                     uint16_t *qdcount)
{
    if (!pkt || len < 12)
        return -EBADMSG;
    if (id)
        *id = rd16(pkt);
    if (flags)
        *flags = rd16(pkt + 2);
    if (qdcount)
        *qdcount = rd16(pkt + 4);
    return 0;
}

/* Appends one label octet in presentation form (escaped as dig does). */
static int put_label_octet(char *out, size_t outsz, size_t *o, uint8_t c)
{
    char tmp[5];
    size_t n;
    if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' ||
        c == '$') {
        tmp[0] = '\\';
        tmp[1] = (char)c;
        n = 2;
    } else if (c <= 0x20 || c >= 0x7f) {
        snprintf(tmp, sizeof(tmp), "\\%03u", c);
        n = 4;
    } else {
        tmp[0] = (char)c;
        n = 1;
    }
    if (*o + n >= outsz)
        return -EBADMSG;
    memcpy(out + *o, tmp, n);
    *o += n;
    return 0;
}

int dns_name_decode(const uint8_t *pkt, size_t len, size_t *off, char *out, size_t outsz)
{
    if (!pkt || !off || !out || outsz == 0)
        return -EBADMSG;
    size_t pos = *off, o = 0, wire = 1, end = 0;
    bool jumped = false;
    int pointers = 0;
    out[0] = '\0';
    for (;;) {
        if (pos >= len)
            return -EBADMSG;
        uint8_t l = pkt[pos];
        if ((l & 0xc0) == 0xc0) {
            if (pos + 1 >= len || ++pointers > DNS_MAX_POINTERS)
                return -EBADMSG;
            size_t target = ((size_t)(l & 0x3f) << 8) | pkt[pos + 1];
            if (target >= pos) /* only backwards: rules out loops and forward tricks */
                return -EBADMSG;
            if (!jumped) {
                end = pos + 2;
                jumped = true;
            }
            pos = target;
            continue;
        }
        if (l & 0xc0) /* 0x40/0x80: extended label types, not supported (RFC 6891) */
            return -EBADMSG;
        if (l == 0) {
            if (!jumped)
                end = pos + 1;
            break;
        }
        if (pos + 1 + l > len)
            return -EBADMSG;
        wire += (size_t)l + 1;
        if (wire > DNS_MAX_WIRE_NAME)
            return -EBADMSG;
        if (o > 0) {
            if (o + 1 >= outsz)
                return -EBADMSG;
            out[o++] = '.';
        }
        for (size_t i = 0; i < l; i++)
            if (put_label_octet(out, outsz, &o, pkt[pos + 1 + i]) < 0)
                return -EBADMSG;
        pos += 1 + (size_t)l;
    }
    out[o] = '\0';
    *off = end;
    return 0;
}

static int parse_question(const uint8_t *pkt, size_t len, size_t *off, struct dns_question *q)
{
    if (dns_name_decode(pkt, len, off, q->name, sizeof(q->name)) < 0 || *off + 4 > len)
        return -EBADMSG;
    q->type = rd16(pkt + *off);
    q->class = rd16(pkt + *off + 2);
    *off += 4;
    return 0;
}

/* Decodes rdata of known types; names inside rdata may be compressed (RFC 3597 allows it for
 * the RFC 1035 types and SRV). The decoded names must end exactly at the rdata end. */
static int parse_rdata(const uint8_t *pkt, size_t off, struct dns_rr *rr)
{
    size_t end = off + rr->rdlen, p = off;
    switch (rr->type) {
    case DNS_T_A:
        if (rr->rdlen != 4)
            return -EBADMSG;
        memcpy(rr->d.a, pkt + off, 4);
        return 0;
    case DNS_T_AAAA:
        if (rr->rdlen != 16)
            return -EBADMSG;
        memcpy(rr->d.aaaa, pkt + off, 16);
        return 0;
    case DNS_T_CNAME:
    case DNS_T_PTR:
    case DNS_T_NS:
        if (dns_name_decode(pkt, end, &p, rr->d.target, sizeof(rr->d.target)) < 0 || p != end)
            return -EBADMSG;
        return 0;
    case DNS_T_SRV:
        if (rr->rdlen < 7)
            return -EBADMSG;
        rr->d.srv.priority = rd16(pkt + off);
        rr->d.srv.weight = rd16(pkt + off + 2);
        rr->d.srv.port = rd16(pkt + off + 4);
        p = off + 6;
        if (dns_name_decode(pkt, end, &p, rr->d.srv.target, sizeof(rr->d.srv.target)) < 0 ||
            p != end)
            return -EBADMSG;
        return 0;
    case DNS_T_SOA:
        if (dns_name_decode(pkt, end, &p, rr->d.soa.mname, sizeof(rr->d.soa.mname)) < 0 ||
            dns_name_decode(pkt, end, &p, rr->d.soa.rname, sizeof(rr->d.soa.rname)) < 0 ||
            p + 20 != end)
            return -EBADMSG;
        rr->d.soa.serial = rd32(pkt + p);
        rr->d.soa.refresh = rd32(pkt + p + 4);
        rr->d.soa.retry = rd32(pkt + p + 8);
        rr->d.soa.expire = rd32(pkt + p + 12);
        rr->d.soa.minimum = rd32(pkt + p + 16);
        return 0;
    case DNS_T_TXT: {
        if (rr->rdlen < 1 || (size_t)pkt[off] + 1 > rr->rdlen)
            return -EBADMSG;
        size_t n = pkt[off];
        memcpy(rr->d.txt, pkt + off + 1, n);
        rr->d.txt[n] = '\0';
        return 0;
    }
    default: {
        size_t n = rr->rdlen < sizeof(rr->d.raw) ? rr->rdlen : sizeof(rr->d.raw);
        memcpy(rr->d.raw, pkt + off, n);
        return 0;
    }
    }
}

static int parse_rr(const uint8_t *pkt, size_t len, size_t *off, struct dns_rr *rr)
{
    if (dns_name_decode(pkt, len, off, rr->name, sizeof(rr->name)) < 0 || *off + 10 > len)
        return -EBADMSG;
    rr->type = rd16(pkt + *off);
    rr->class = rd16(pkt + *off + 2);
    rr->ttl = rd32(pkt + *off + 4);
    rr->rdlen = rd16(pkt + *off + 8);
    *off += 10;
    if (*off + rr->rdlen > len)
        return -EBADMSG;
    if (parse_rdata(pkt, *off, rr) < 0)
        return -EBADMSG;
    *off += rr->rdlen;
    return 0;
}

/* Walks a whole message: header, questions, the three record sections. The header, first
 * question and EDNS0 go to *hq; records are kept in m when m is not NULL (up to DNS_MAX_RRS
 * per section), else decoded into a scratch record and dropped. */
static int walk_msg(const uint8_t *pkt, size_t len, struct dns_query *hq, struct dns_msg *m)
{
    uint16_t counts[3];
    memset(hq, 0, sizeof(*hq));
    if (dns_parse_header(pkt, len, &hq->id, &hq->flags, &hq->qdcount) < 0)
        return -EBADMSG;
    counts[0] = rd16(pkt + 6);
    counts[1] = rd16(pkt + 8);
    counts[2] = rd16(pkt + 10);
    if (m) {
        m->ancount = counts[0];
        m->nscount = counts[1];
        m->arcount = counts[2];
    }
    size_t off = 12;
    for (unsigned i = 0; i < hq->qdcount; i++) {
        struct dns_question q;
        if (parse_question(pkt, len, &off, &q) < 0)
            return -EBADMSG;
        if (i == 0) {
            hq->q = q;
            hq->has_q = true;
        }
    }
    struct dns_rr *scratch = malloc(sizeof(*scratch));
    if (!scratch)
        return -ENOMEM;
    int rc = 0;
    for (int s = 0; s < 3 && rc == 0; s++) {
        for (unsigned i = 0; i < counts[s] && rc == 0; i++) {
            struct dns_rr *arr = !m ? NULL : s == 0 ? m->an : s == 1 ? m->ns : m->ar;
            size_t *kept = !m ? NULL : s == 0 ? &m->n_an : s == 1 ? &m->n_ns : &m->n_ar;
            struct dns_rr *rr = m && *kept < DNS_MAX_RRS ? &arr[*kept] : scratch;
            if (parse_rr(pkt, len, &off, rr) < 0) {
                rc = -EBADMSG;
                break;
            }
            if (s == 2 && rr->type == DNS_T_OPT) {
                if (hq->edns || rr->name[0] != '\0') { /* one OPT, owned by the root */
                    rc = -EBADMSG;
                    break;
                }
                hq->edns = true;
                hq->edns_payload = rr->class;
                hq->edns_version = (uint8_t)(rr->ttl >> 16);
            }
            if (rr != scratch)
                (*kept)++;
        }
    }
    free(scratch);
    return rc;
}

int dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q)
{
    if (!q)
        return -EINVAL;
    return walk_msg(pkt, len, q, NULL);
}

int dns_msg_parse(const uint8_t *pkt, size_t len, struct dns_msg *m)
{
    if (!m)
        return -EINVAL;
    /* only the header part is cleared: records are written as they are decoded */
    m->ancount = m->nscount = m->arcount = 0;
    m->n_an = m->n_ns = m->n_ar = 0;
    struct dns_query hq;
    int rc = walk_msg(pkt, len, &hq, m);
    m->id = hq.id;
    m->flags = hq.flags;
    m->qdcount = hq.qdcount;
    m->q = hq.q;
    m->has_q = hq.has_q;
    m->edns = hq.edns;
    m->edns_payload = hq.edns_payload;
    m->edns_version = hq.edns_version;
    return rc;
}

/* ---- encoder ---------------------------------------------------------------------------- */

/* Parses one presentation label starting at *p into lab (<= 63 octets); *p ends at the dot
 * or the end. Returns the label length or -EINVAL. */
static int read_label(const char **p, uint8_t lab[64])
{
    int n = 0;
    const char *s = *p;
    while (*s && *s != '.') {
        unsigned c = (unsigned char)*s++;
        if (c == '\\') {
            if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
                isdigit((unsigned char)s[2])) {
                c = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
                if (c > 255)
                    return -EINVAL;
                s += 3;
            } else if (*s) {
                c = (unsigned char)*s++;
            } else {
                return -EINVAL;
            }
        }
        if (n >= 63)
            return -EINVAL;
        lab[n++] = (uint8_t)c;
    }
    *p = s;
    return n;
}

int dns_name_to_wire(const char *name, uint8_t *out, size_t outsz)
{
    if (!name || !out || outsz < 1)
        return -EINVAL;
    size_t o = 0;
    const char *p = name;
    if (strcmp(p, ".") == 0)
        p = "";
    while (*p) {
        uint8_t lab[64];
        int n = read_label(&p, lab);
        if (n <= 0) /* empty label: "a..b" or a leading dot */
            return -EINVAL;
        if (o + 1 + (size_t)n + 1 > outsz || o + 1 + (size_t)n + 1 > DNS_MAX_WIRE_NAME)
            return -EINVAL;
        out[o++] = (uint8_t)n;
        memcpy(out + o, lab, (size_t)n);
        o += (size_t)n;
        if (*p == '.') {
            p++;
            if (!*p) /* a trailing dot ends the name */
                break;
        }
    }
    out[o++] = 0;
    return (int)o;
}

void dns_name_lower(char *name)
{
    for (; name && *name; name++)
        *name = (char)tolower((unsigned char)*name);
}

void dns_build_init(struct dns_builder *b, uint8_t *buf, size_t cap, size_t limit, uint16_t id,
                    uint16_t flags)
{
    memset(b, 0, sizeof(*b));
    b->buf = buf;
    b->cap = cap;
    b->limit = limit < cap ? limit : cap;
    if (b->limit < 12)
        b->limit = 12;
    if (cap >= 12) {
        memset(buf, 0, 12);
        wr16(buf, id);
        wr16(buf + 2, flags);
        b->len = 12;
    }
}

/* Case-insensitively compares the wire name at pkt offset a (possibly compressed, inside our
 * own buffer) with the uncompressed wire name w. */
static bool wire_name_equal(const uint8_t *pkt, size_t len, size_t a, const uint8_t *w)
{
    int hops = 0;
    size_t wi = 0;
    for (;;) {
        if (a >= len)
            return false;
        uint8_t l = pkt[a];
        if ((l & 0xc0) == 0xc0) {
            if (a + 1 >= len || ++hops > DNS_MAX_POINTERS)
                return false;
            a = ((size_t)(l & 0x3f) << 8) | pkt[a + 1];
            continue;
        }
        if (l != w[wi] || a + 1 + l > len)
            return false;
        if (l == 0)
            return true;
        for (size_t i = 1; i <= l; i++)
            if (tolower(pkt[a + i]) != tolower(w[wi + i]))
                return false;
        a += 1 + (size_t)l;
        wi += 1 + (size_t)l;
    }
}

/* Writes wire name w at b->len using the longest suffix already in the message; remembers
 * the new label starts for later names. Returns 0 or -EMSGSIZE (cap). */
static int put_name(struct dns_builder *b, const uint8_t *w, size_t wlen)
{
    size_t starts[128], ns = 0;
    for (size_t i = 0; i < wlen && w[i] != 0 && ns < 128; i += 1 + (size_t)w[i])
        starts[ns++] = i;
    for (size_t k = 0; k < ns; k++) {
        const uint8_t *suffix = w + starts[k];
        for (size_t c = 0; c < b->n_comp; c++) {
            if (!wire_name_equal(b->buf, b->len, b->comp_off[c], suffix))
                continue;
            if (b->len + starts[k] + 2 > b->cap)
                return -EMSGSIZE;
            memcpy(b->buf + b->len, w, starts[k]);
            for (size_t j = 0; j < k && b->n_comp < DNS_COMP_MAX; j++)
                if (b->len + starts[j] < 0x3fff)
                    b->comp_off[b->n_comp++] = (uint16_t)(b->len + starts[j]);
            b->len += starts[k];
            wr16(b->buf + b->len, (uint16_t)(0xc000 | b->comp_off[c]));
            b->len += 2;
            return 0;
        }
    }
    if (b->len + wlen > b->cap)
        return -EMSGSIZE;
    memcpy(b->buf + b->len, w, wlen);
    for (size_t j = 0; j < ns && b->n_comp < DNS_COMP_MAX; j++)
        if (b->len + starts[j] < 0x3fff)
            b->comp_off[b->n_comp++] = (uint16_t)(b->len + starts[j]);
    b->len += wlen;
    return 0;
}

static int put_pname(struct dns_builder *b, const char *name)
{
    uint8_t w[DNS_MAX_WIRE_NAME + 1];
    int n = dns_name_to_wire(name, w, sizeof(w));
    if (n < 0)
        return n;
    return put_name(b, w, (size_t)n);
}

static int put_bytes(struct dns_builder *b, const void *p, size_t n)
{
    if (b->len + n > b->cap)
        return -EMSGSIZE;
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    return 0;
}

static int put16(struct dns_builder *b, uint16_t v)
{
    uint8_t t[2];
    wr16(t, v);
    return put_bytes(b, t, 2);
}

static int put32(struct dns_builder *b, uint32_t v)
{
    uint8_t t[4];
    wr32(t, v);
    return put_bytes(b, t, 4);
}

int dns_build_question(struct dns_builder *b, const struct dns_question *q)
{
    size_t save_len = b->len, save_comp = b->n_comp;
    int rc = put_pname(b, q->name);
    if (rc == 0)
        rc = put16(b, q->type);
    if (rc == 0)
        rc = put16(b, q->class);
    if (rc == 0 && b->len > b->limit)
        rc = -EMSGSIZE;
    if (rc < 0) {
        b->len = save_len;
        b->n_comp = save_comp;
        return rc;
    }
    b->counts[0]++;
    return 0;
}

static int put_rdata(struct dns_builder *b, const struct dns_rr *rr)
{
    switch (rr->type) {
    case DNS_T_A:
        return put_bytes(b, rr->d.a, 4);
    case DNS_T_AAAA:
        return put_bytes(b, rr->d.aaaa, 16);
    case DNS_T_CNAME:
    case DNS_T_PTR:
    case DNS_T_NS:
        return put_pname(b, rr->d.target);
    case DNS_T_SRV: {
        int rc = put16(b, rr->d.srv.priority);
        if (rc == 0)
            rc = put16(b, rr->d.srv.weight);
        if (rc == 0)
            rc = put16(b, rr->d.srv.port);
        /* RFC 2782: the target is not compressed */
        uint8_t w[DNS_MAX_WIRE_NAME + 1];
        int n = rc == 0 ? dns_name_to_wire(rr->d.srv.target, w, sizeof(w)) : rc;
        return n < 0 ? n : put_bytes(b, w, (size_t)n);
    }
    case DNS_T_SOA: {
        int rc = put_pname(b, rr->d.soa.mname);
        if (rc == 0)
            rc = put_pname(b, rr->d.soa.rname);
        const uint32_t v[5] = {rr->d.soa.serial, rr->d.soa.refresh, rr->d.soa.retry,
                               rr->d.soa.expire, rr->d.soa.minimum};
        for (int i = 0; i < 5 && rc == 0; i++)
            rc = put32(b, v[i]);
        return rc;
    }
    case DNS_T_TXT: {
        size_t n = strnlen(rr->d.txt, 255);
        uint8_t l = (uint8_t)n;
        int rc = put_bytes(b, &l, 1);
        return rc == 0 ? put_bytes(b, rr->d.txt, n) : rc;
    }
    default:
        return -EINVAL;
    }
}

int dns_build_rr(struct dns_builder *b, int section, const struct dns_rr *rr)
{
    if (section < 1 || section > 3 || !rr || section < b->section)
        return -EINVAL;
    if (b->truncated)
        return -EMSGSIZE;
    size_t save_len = b->len, save_comp = b->n_comp;
    int rc = put_pname(b, rr->name);
    if (rc == 0)
        rc = put16(b, rr->type);
    if (rc == 0)
        rc = put16(b, rr->class ? rr->class : DNS_CLASS_IN);
    if (rc == 0)
        rc = put32(b, rr->ttl);
    size_t rdlen_at = b->len;
    if (rc == 0)
        rc = put16(b, 0);
    if (rc == 0)
        rc = put_rdata(b, rr);
    if (rc == 0 && b->len > b->limit)
        rc = -EMSGSIZE;
    if (rc < 0) {
        b->len = save_len;
        b->n_comp = save_comp;
        if (rc == -EMSGSIZE)
            b->truncated = true;
        return rc;
    }
    wr16(b->buf + rdlen_at, (uint16_t)(b->len - rdlen_at - 2));
    b->counts[section]++;
    b->section = section;
    return 0;
}

int dns_build_opt(struct dns_builder *b, uint16_t payload)
{
    /* the OPT record is 11 octets; it may use room the limit kept for it */
    uint8_t opt[11] = {0, 0, DNS_T_OPT, (uint8_t)(payload >> 8), (uint8_t)payload, 0, 0, 0,
                       0, 0, 0};
    if (b->len + sizeof(opt) > b->cap)
        return -EMSGSIZE;
    memcpy(b->buf + b->len, opt, sizeof(opt));
    b->len += sizeof(opt);
    b->counts[3]++;
    b->section = 3;
    return 0;
}

size_t dns_build_finish(struct dns_builder *b, int rcode)
{
    if (b->cap < 12)
        return 0;
    uint16_t flags = rd16(b->buf + 2);
    flags = (uint16_t)((flags & ~0x000f) | (rcode & 0xf));
    if (b->truncated)
        flags |= DNS_F_TC;
    wr16(b->buf + 2, flags);
    for (int i = 0; i < 4; i++)
        wr16(b->buf + 4 + 2 * i, b->counts[i]);
    return b->len;
}

const char *dns_type_name(uint16_t type, char buf[16])
{
    static const struct {
        uint16_t t;
        const char *n;
    } names[] = {{DNS_T_A, "A"},       {DNS_T_NS, "NS"},   {DNS_T_CNAME, "CNAME"},
                 {DNS_T_SOA, "SOA"},   {DNS_T_PTR, "PTR"}, {DNS_T_TXT, "TXT"},
                 {DNS_T_AAAA, "AAAA"}, {DNS_T_SRV, "SRV"}, {DNS_T_OPT, "OPT"},
                 {DNS_T_AXFR, "AXFR"}, {DNS_T_ANY, "ANY"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].t == type)
            return names[i].n;
    snprintf(buf, 16, "TYPE%u", type);
    return buf;
}
