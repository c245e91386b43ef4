/* alloc.h - allocation of Service cluster IPs and node ports from bitmaps kept in etcd, as
 * upstream's RangeAllocation objects at <prefix>/ranges/serviceips and
 * <prefix>/ranges/servicenodeports. Every change is a compare-and-swap on the bitmap's key, so
 * several apiservers can share the ranges.
 *
 * Offsets follow upstream: for a CIDR, offset 0 is the first usable address (network + 1) and
 * the broadcast address is excluded; for ports, offset 0 is the first port of the range. Random
 * allocation prefers the upper "dynamic" band and keeps the lower band for requested values, as
 * upstream's allocators do since 1.27.
 */
#ifndef APISERVER_ALLOC_H
#define APISERVER_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct etcd_client;

struct range_alloc {
    struct etcd_client *etcd; /* borrowed */
    char *key;                /* owned: etcd key of the bitmap */
    char range[64];           /* "10.96.0.0/12" or "30000-32767", as the RangeAllocation says */
    bool ip;                  /* addresses (true) or ports */
    uint32_t base;            /* first value (host-order address, or port) */
    uint32_t size;            /* number of values */
    uint32_t static_band;     /* offsets below this are kept for requested values */
};

/* Parses the service CIDR ("10.96.0.0/12") or node port range ("30000-32767"). */
int alloc_init_ips(struct range_alloc *a, struct etcd_client *etcd, const char *prefix,
                   const char *cidr, struct ck_error *err);
int alloc_init_ports(struct range_alloc *a, struct etcd_client *etcd, const char *prefix,
                     const char *range, struct ck_error *err);
void alloc_free(struct range_alloc *a);

/* Allocates `want` (an IP string / port number), or any free value when want is NULL / 0.
 * The value is returned in out (string form, "10.96.0.10" or "30080"). Errors as upstream:
 * 422 "provided IP is already allocated" / "provided port is already allocated" / "provided IP
 * is not in the valid range..." / 500 "range is full". */
int alloc_allocate(struct range_alloc *a, const char *want, char out[64], struct ck_error *err);
/* Frees a value; values outside the range or already free are ignored. */
int alloc_release(struct range_alloc *a, const char *value, struct ck_error *err);
/* Sets the whole bitmap to exactly the given values (start-up repair). */
int alloc_repair(struct range_alloc *a, const char *const *values, size_t n, struct ck_error *err);
/* True when value is allocated. */
bool alloc_has(struct range_alloc *a, const char *value);

#endif
