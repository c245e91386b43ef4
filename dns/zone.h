/* zone.h - the answers of ckube-dns: the Kubernetes DNS-based service discovery specification
 * (kubernetes/dns docs/specification.md, schema 1.1.0) as CoreDNS' kubernetes plugin serves it
 * with kubeadm's Corefile (`pods insecure`, `ttl 30`, reverse zones falling through to the
 * forwarder), computed from informer stores of Services and EndpointSlices.
 *
 * Records under <domain> (default cluster.local):
 *  - <svc>.<ns>.svc: A/AAAA of the ClusterIPs; headless: of the ready endpoint addresses
 *    (also not-ready ones with publishNotReadyAddresses); ExternalName: a CNAME.
 *  - <host>.<svc>.<ns>.svc: the endpoints whose hostname is <host>, or whose address written
 *    with dashes is <host> (CoreDNS' name for endpoints without a hostname).
 *  - _<port>._<proto>.<svc>.<ns>.svc: SRV for named ports (ClusterIP: one, target the service;
 *    headless: one per endpoint, target its host name), targets' addresses as additionals.
 *    SRV on <svc>.<ns>.svc itself lists every port.
 *  - <a-b-c-d>.<ns>.pod: A of that address (insecure pods mode: not checked against pods).
 *  - dns-version: TXT "1.1.0"; the apex answers SOA and NS (ns.dns.<domain>).
 *  - <d.c.b.a>.in-addr.arpa PTR: the service names of ClusterIPs and endpoint host names of
 *    endpoint addresses; a miss is forwarded (CoreDNS' fallthrough).
 * A name that does not exist is NXDOMAIN; an existing name without records of the asked type
 * is NODATA (NOERROR, no answer); both carry the zone's SOA in the authority section. Names
 * compare case-insensitively; answers repeat the question's spelling.
 *
 * Ownership: a zone borrows its stores; answers own their record arrays (dns_answer_free).
 * Thread-safety: answering only reads the stores (which have their own locks): any number of
 * threads may answer at once.
 */
#ifndef DNS_ZONE_H
#define DNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/message.h"
#include "store.h"

#define DNS_DEFAULT_TTL 30   /* kubeadm's Corefile: `ttl 30` */
#define DNS_MAX_ANSWERS 1000 /* records kept per section */

/* Store index names the zone uses: add them with these functions to the informers. */
#define DNS_INDEX_SLICE_SERVICE "dns-service" /* EndpointSlice -> "<ns>/<service-name>" */
#define DNS_INDEX_SLICE_IP "dns-ip"           /* EndpointSlice -> each endpoint address */
#define DNS_INDEX_SERVICE_IP "dns-clusterip"  /* Service -> each ClusterIP */
void dns_index_slice_service(const cJSON *obj, struct ck_strlist *out);
void dns_index_slice_ip(const cJSON *obj, struct ck_strlist *out);
void dns_index_service_ip(const cJSON *obj, struct ck_strlist *out);

struct dns_zone {
    const char *domain;                 /* "cluster.local" (lower case, no dots at the ends) */
    uint32_t ttl;                       /* 0: DNS_DEFAULT_TTL */
    uint32_t serial;                    /* SOA serial (CoreDNS: the time of the last change) */
    struct ck_store *services, *slices; /* borrowed, with the indexes above */
};

struct dns_rrset {
    struct dns_rr *v;
    size_t n, cap;
};

struct dns_answer {
    int rcode;
    bool forward; /* not ours: hand the query to the upstream resolvers */
    bool authoritative;
    struct dns_rrset an, ns, ar;
};

/* Computes the answer to q into *a (initialised here; free with dns_answer_free). Returns 0;
 * a->forward tells the caller to forward instead. */
int dns_zone_answer(const struct dns_zone *z, const struct dns_question *q, struct dns_answer *a);
void dns_answer_free(struct dns_answer *a);

enum dns_respond_result {
    DNS_REPLY = 0,   /* *out_len octets of answer are in out */
    DNS_FORWARD = 1, /* forward the query; out holds a SERVFAIL to send if that fails */
};
/* Handles one query packet: decodes it, answers from the zone, encodes the reply with
 * compression into out (cap >= 512) within the transport's limit (UDP: 512, or the EDNS0
 * payload size up to cap; TCP: cap), truncating with TC. Returns DNS_REPLY/DNS_FORWARD, or
 * -EBADMSG when the packet must be dropped (too short to answer, or itself a response). */
int dns_zone_respond(const struct dns_zone *z, const uint8_t *pkt, size_t len, bool udp,
                     uint8_t *out, size_t cap, size_t *out_len);

#endif
