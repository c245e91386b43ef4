/* server.h - the DNS transports of ckube-dns: UDP and TCP (RFC 7766 length-prefixed, several
 * queries per connection) listeners on one port answering from a zone (zone.h), and the
 * forwarder that relays queries outside the zone to upstream resolvers (CoreDNS' `forward .
 * /etc/resolv.conf`): each upstream in turn within a 2 s overall budget, SERVFAIL when none
 * answers; an upstream that failed is skipped for 10 s (SERVFAIL at once when all are), and
 * without any upstream such names are REFUSED at once.
 *
 * Metrics (CoreDNS' names): coredns_dns_requests_total{proto,type},
 * coredns_dns_responses_total{rcode}, coredns_forward_requests_total{to}.
 *
 * Ownership: the server borrows the zone (which must outlive it) and copies the upstreams.
 * Thread-safety: one UDP thread, one accept thread, one thread per TCP connection and per
 * forwarded UDP query; the zone's serial may be updated with dns_server_set_serial from any
 * thread.
 */
#ifndef DNS_SERVER_H
#define DNS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "dns/zone.h"
#include "metrics.h"

#define DNS_MAX_UPSTREAMS 3
#define DNS_FORWARD_TIMEOUT_MS 2000
#define DNS_UPSTREAM_DOWN_MS 10000 /* an upstream that timed out is skipped this long */

struct dns_server_opts {
    const char *bind_address;     /* NULL: 0.0.0.0 */
    int port;                     /* 0: any free port (tests); see dns_server_port */
    const char *const *upstreams; /* "ip" or "ip:port"; NULL-terminated; NULL: none */
    struct ck_metrics *metrics;   /* NULL: ck_metrics_default() */
};

struct dns_server;

/* Binds UDP and TCP on the port and starts serving. 0 or a negative errno (bind failures). */
int dns_server_start(const struct dns_zone *zone, const struct dns_server_opts *opts,
                     struct dns_server **out);
/* Stops the listeners, waits (up to 3 s) for connection and forward threads, frees. */
void dns_server_stop(struct dns_server *s);
int dns_server_port(const struct dns_server *s);
/* Sets the SOA serial answered from now on. */
void dns_server_set_serial(struct dns_server *s, uint32_t serial);

/* Reads "nameserver" lines of a resolv.conf into out (up to max, each a malloc'd string the
 * caller frees). Returns how many were found (0 when the file is missing). */
size_t dns_read_resolv_conf(const char *path, char **out, size_t max);

#endif
