/* message.h - the DNS wire format (RFC 1035, RFC 6891 EDNS0) for ckube-dns: a decoder that
 * checks every length and offset of an untrusted packet (name compression pointers must point
 * backwards and at most DNS_MAX_POINTERS are followed, names are at most 255 octets), and an
 * encoder that compresses owner and target names and truncates (TC bit) to a size limit.
 *
 * Names are kept in presentation form without the final dot ("web.default.svc.cluster.local",
 * "" for the root), labels escaped as "\046" / "\." when they hold dots, spaces or
 * non-printable octets, as dig prints them.
 *
 * Ownership: everything lives in caller-provided structs; dns_msg_parse fills fixed arrays
 * (records beyond DNS_MAX_RRS are counted but not kept). No allocation, no global state:
 * all functions are thread-safe on distinct structs.
 */
#ifndef DNS_MESSAGE_H
#define DNS_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_MAX_NAME 1024     /* presentation form, escapes included */
#define DNS_MAX_WIRE_NAME 255 /* RFC 1035 */
#define DNS_MAX_POINTERS 64   /* compression pointers followed per name */
#define DNS_MAX_RRS 64        /* records kept per parsed message */
#define DNS_UDP_MIN 512       /* RFC 1035 UDP size without EDNS0 */
#define DNS_MAX_MSG 65535

enum dns_type {
    DNS_T_A = 1,
    DNS_T_NS = 2,
    DNS_T_CNAME = 5,
    DNS_T_SOA = 6,
    DNS_T_PTR = 12,
    DNS_T_TXT = 16,
    DNS_T_AAAA = 28,
    DNS_T_SRV = 33,
    DNS_T_OPT = 41,
    DNS_T_AXFR = 252,
    DNS_T_ANY = 255,
};
#define DNS_CLASS_IN 1

enum dns_rcode {
    DNS_RCODE_NOERROR = 0,
    DNS_RCODE_FORMERR = 1,
    DNS_RCODE_SERVFAIL = 2,
    DNS_RCODE_NXDOMAIN = 3,
    DNS_RCODE_NOTIMP = 4,
    DNS_RCODE_REFUSED = 5,
};

/* header flag bits (second 16-bit word) */
#define DNS_F_QR 0x8000
#define DNS_F_AA 0x0400
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags)&0xf)

struct dns_soa {
    char mname[DNS_MAX_NAME], rname[DNS_MAX_NAME];
    uint32_t serial, refresh, retry, expire, minimum;
};

struct dns_srv {
    uint16_t priority, weight, port;
    char target[DNS_MAX_NAME];
};

/* One resource record. rdata that is not decoded (unknown types, OPT options) is kept raw
 * up to sizeof(raw) octets; rdlen is the real length. */
struct dns_rr {
    char name[DNS_MAX_NAME];
    uint16_t type, class;
    uint32_t ttl;
    uint16_t rdlen;
    union {
        uint8_t a[4];
        uint8_t aaaa[16];
        char target[DNS_MAX_NAME]; /* CNAME, PTR, NS */
        struct dns_srv srv;
        struct dns_soa soa;
        char txt[256]; /* TXT: the first character-string */
        uint8_t raw[256];
    } d;
};

struct dns_question {
    char name[DNS_MAX_NAME];
    uint16_t type, class;
};

/* A decoded message. Only the first question is kept (qdcount tells how many there were). */
struct dns_msg {
    uint16_t id, flags;
    uint16_t qdcount, ancount, nscount, arcount;
    struct dns_question q;
    bool has_q;
    bool edns;             /* an OPT record was present */
    uint16_t edns_payload; /* its UDP payload size (as sent) */
    uint8_t edns_version;
    size_t n_an, n_ns, n_ar; /* records kept in the arrays below */
    struct dns_rr an[DNS_MAX_RRS], ns[DNS_MAX_RRS], ar[DNS_MAX_RRS];
};

/* What a server needs of a query: header, first question, EDNS0. Small (no records). */
struct dns_query {
    uint16_t id, flags, qdcount;
    struct dns_question q;
    bool has_q;
    bool edns;
    uint16_t edns_payload;
    uint8_t edns_version;
};

/* Decodes the header only: 0 or -EBADMSG (shorter than 12 octets). */
int dns_parse_header(const uint8_t *pkt, size_t len, uint16_t *id, uint16_t *flags,
                     uint16_t *qdcount);
/* Decodes a whole message into *m (about 600 KiB: heap-allocate it). 0, or -EBADMSG for
 * any malformed part (truncated sections, bad names, pointer loops, rdata overruns,
 * trailing garbage is ignored as resolvers do). */
int dns_msg_parse(const uint8_t *pkt, size_t len, struct dns_msg *m);
/* Checks a whole message as dns_msg_parse does but keeps only what struct dns_query holds
 * (cheap: for every packet a server receives). 0 or -EBADMSG. */
int dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q);
/* Decodes the name at *off into out (presentation form) and advances *off past it (past the
 * first pointer when compressed). 0 or -EBADMSG. */
int dns_name_decode(const uint8_t *pkt, size_t len, size_t *off, char *out, size_t outsz);

/* ---- encoder -------------------------------------------------------------------------- */

#define DNS_COMP_MAX 128 /* names remembered for compression */

struct dns_builder {
    uint8_t *buf; /* caller's, cap octets */
    size_t len, cap;
    size_t limit; /* records that would cross it are dropped and TC set */
    bool truncated;
    uint16_t counts[4]; /* qd, an, ns, ar */
    int section;        /* the last section written to (records must come in order) */
    size_t n_comp;
    uint16_t comp_off[DNS_COMP_MAX]; /* offsets of encoded names (any label start) */
};

/* Starts a message in buf (cap octets) whose final size must stay within limit
 * (<= cap). Writes the header; counts are patched by dns_build_finish. */
void dns_build_init(struct dns_builder *b, uint8_t *buf, size_t cap, size_t limit, uint16_t id,
                    uint16_t flags);
/* Appends the question. 0, -EINVAL (bad name) or -EMSGSIZE (does not fit even alone). */
int dns_build_question(struct dns_builder *b, const struct dns_question *q);
/* Appends rr to section 1 (answer), 2 (authority) or 3 (additional). When it does not fit the
 * limit, nothing is written, the TC flag is set and later records are refused too
 * (-EMSGSIZE). -EINVAL for an unencodable name or type, or a section before the last one
 * written. */
int dns_build_rr(struct dns_builder *b, int section, const struct dns_rr *rr);
/* Appends an OPT record advertising payload (with room reserved: call it last). */
int dns_build_opt(struct dns_builder *b, uint16_t payload);
/* Patches counts and flags (TC when truncated, rcode); returns the message length. */
size_t dns_build_finish(struct dns_builder *b, int rcode);

/* Encodes a presentation name to wire form without compression into out (>= 256 octets).
 * Returns the length or -EINVAL. */
int dns_name_to_wire(const char *name, uint8_t *out, size_t outsz);

/* Lower-cases an ASCII name in place (DNS comparisons are case-insensitive). */
void dns_name_lower(char *name);

/* "A", "AAAA", ..., or "TYPE<n>". */
const char *dns_type_name(uint16_t type, char buf[16]);

#endif
