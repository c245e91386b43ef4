/* alloc.c - cluster IP and node port bitmaps in etcd (see alloc.h). */
#include "alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "json.h"
#include "mem.h"
#include "storage/etcd.h"

#define CAS_ROUNDS 100

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

int alloc_init_ips(struct range_alloc *a, struct etcd_client *etcd, const char *prefix,
                   const char *cidr, struct ck_error *err)
{
    memset(a, 0, sizeof(*a));
    char addr[64];
    int bits;
    const char *slash = strchr(cidr, '/');
    struct in_addr in;
    if (!slash || (size_t)(slash - cidr) >= sizeof(addr))
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "invalid CIDR address: %s", cidr);
    snprintf(addr, sizeof(addr), "%.*s", (int)(slash - cidr), cidr);
    bits = atoi(slash + 1);
    if (inet_pton(AF_INET, addr, &in) != 1 || bits < 8 || bits > 30)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "invalid CIDR address: %s", cidr);
    uint32_t mask = bits ? 0xffffffffu << (32 - bits) : 0;
    a->ip = true;
    a->base = ntohl(in.s_addr) & mask;
    a->size = (uint32_t)((1ull << (32 - bits)) - 2); /* no network, no broadcast */
    /* upstream: min(max(16, size/16), 256) addresses kept for static assignment */
    a->static_band = min_u32(max_u32(16, a->size / 16), 256);
    snprintf(a->range, sizeof(a->range), "%s", cidr);
    a->etcd = etcd;
    a->key = ck_xasprintf("%s/ranges/serviceips", prefix);
    return 0;
}

int alloc_init_ports(struct range_alloc *a, struct etcd_client *etcd, const char *prefix,
                     const char *range, struct ck_error *err)
{
    memset(a, 0, sizeof(*a));
    unsigned lo, hi;
    char tail;
    if (sscanf(range, "%u-%u%c", &lo, &hi, &tail) != 2 || lo == 0 || hi > 65535 || lo > hi)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "invalid port range: %s", range);
    a->ip = false;
    a->base = lo;
    a->size = hi - lo + 1;
    /* upstream: min(max(16, size/32), 128) ports kept for static assignment */
    a->static_band = min_u32(max_u32(16, a->size / 32), 128);
    snprintf(a->range, sizeof(a->range), "%s", range);
    a->etcd = etcd;
    a->key = ck_xasprintf("%s/ranges/servicenodeports", prefix);
    return 0;
}

void alloc_free(struct range_alloc *a)
{
    free(a->key);
    a->key = NULL;
}

/* value string -> offset; -1 when not in the range */
static int64_t offset_of(const struct range_alloc *a, const char *value)
{
    if (a->ip) {
        struct in_addr in;
        if (inet_pton(AF_INET, value, &in) != 1)
            return -1;
        int64_t off = (int64_t)ntohl(in.s_addr) - (int64_t)a->base - 1;
        return off >= 0 && off < a->size ? off : -1;
    }
    char *end;
    long p = strtol(value, &end, 10);
    if (*end || p < (long)a->base || p >= (long)a->base + (long)a->size)
        return -1;
    return p - a->base;
}

static void value_of(const struct range_alloc *a, uint32_t off, char out[64])
{
    if (a->ip) {
        struct in_addr in = {.s_addr = htonl(a->base + 1 + off)};
        inet_ntop(AF_INET, &in, out, 64);
    } else {
        snprintf(out, 64, "%u", a->base + off);
    }
}

struct bitmap {
    uint8_t *bits; /* size/8 + 1 bytes */
    int64_t mod_revision; /* 0: the key does not exist yet */
};

static bool bit_get(const struct bitmap *b, uint32_t i)
{
    return b->bits[i / 8] & (1u << (i % 8));
}

static void bit_set(struct bitmap *b, uint32_t i, bool on)
{
    if (on)
        b->bits[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        b->bits[i / 8] &= (uint8_t)~(1u << (i % 8));
}

static int load(struct range_alloc *a, struct bitmap *b, struct ck_error *err)
{
    size_t nbytes = a->size / 8 + 1;
    b->bits = ck_xcalloc(nbytes, 1);
    b->mod_revision = 0;
    struct etcd_range_req req = {.key = a->key};
    struct etcd_range_resp resp = {0};
    int rc = etcd_range(a->etcd, &req, &resp, err);
    if (rc == 0 && resp.n_kvs == 1) {
        b->mod_revision = resp.kvs[0].mod_revision;
        cJSON *ra = ck_json_parse(resp.kvs[0].value, resp.kvs[0].value_len, NULL);
        const char *data = ck_json_get_string(ra, "data", "");
        uint8_t *raw = NULL;
        size_t len = 0;
        if (ck_base64_decode(data, strlen(data), &raw, &len) == 0) {
            memcpy(b->bits, raw, len < nbytes ? len : nbytes);
            free(raw);
        }
        cJSON_Delete(ra);
    }
    etcd_range_resp_free(&resp);
    if (rc < 0) {
        free(b->bits);
        b->bits = NULL;
    }
    return rc;
}

/* Writes b if nobody changed the key since load; 1 when somebody did (retry). */
static int save(struct range_alloc *a, struct bitmap *b, struct ck_error *err)
{
    cJSON *ra = cJSON_CreateObject();
    cJSON_AddStringToObject(ra, "kind", "RangeAllocation");
    cJSON_AddStringToObject(ra, "apiVersion", "v1");
    cJSON_AddObjectToObject(ra, "metadata");
    cJSON_AddStringToObject(ra, "range", a->range);
    char *data = ck_base64_encode(b->bits, a->size / 8 + 1);
    cJSON_AddStringToObject(ra, "data", data);
    free(data);
    char *value = ck_json_print(ra, 0);
    cJSON_Delete(ra);
    struct etcd_compare cmp = {.key = a->key,
                               .target = b->mod_revision ? ETCD_CMP_MOD : ETCD_CMP_CREATE,
                               .op = ETCD_CMP_EQUAL,
                               .number = b->mod_revision};
    struct etcd_op put = {.type = ETCD_OP_PUT,
                          .put = {.key = a->key, .value = value, .value_len = strlen(value)}};
    struct etcd_txn_req req = {&cmp, 1, &put, 1, NULL, 0};
    struct etcd_txn_resp resp = {0};
    int rc = etcd_txn(a->etcd, &req, &resp, err);
    if (rc == 0 && !resp.succeeded)
        rc = 1;
    etcd_txn_resp_free(&resp);
    free(value);
    return rc;
}

/* A free offset, random within [lo, hi) first; -1 when that band is full. */
static int64_t find_free(const struct bitmap *b, uint32_t lo, uint32_t hi)
{
    if (lo >= hi)
        return -1;
    uint32_t r;
    ck_rand_bytes(&r, sizeof(r));
    uint32_t n = hi - lo, start = r % n;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = lo + (start + k) % n;
        if (!bit_get(b, i))
            return i;
    }
    return -1;
}

int alloc_allocate(struct range_alloc *a, const char *want, char out[64], struct ck_error *err)
{
    int64_t off = -1;
    if (want && want[0] && strcmp(want, "0")) {
        off = offset_of(a, want);
        if (off < 0)
            return ck_error_set(err, 422, CK_REASON_INVALID,
                                a->ip ? "provided IP is not in the valid range. The range of "
                                        "valid IPs is %s"
                                      : "provided port is not in the valid range. The range of "
                                        "valid ports is %s",
                                a->range);
    }
    for (int round = 0; round < CAS_ROUNDS; round++) {
        struct bitmap b;
        int rc = load(a, &b, err);
        if (rc < 0)
            return rc;
        int64_t pick = off;
        if (pick >= 0 && bit_get(&b, (uint32_t)pick)) {
            free(b.bits);
            return ck_error_set(err, 422, CK_REASON_INVALID,
                                a->ip ? "provided IP is already allocated"
                                      : "provided port is already allocated");
        }
        if (pick < 0) {
            pick = find_free(&b, a->static_band, a->size);
            if (pick < 0)
                pick = find_free(&b, 0, min_u32(a->static_band, a->size));
            if (pick < 0) {
                free(b.bits);
                return ck_error_set(err, 500, CK_REASON_INTERNAL,
                                    "range is full: no more %s in %s are available",
                                    a->ip ? "IPs" : "ports", a->range);
            }
        }
        bit_set(&b, (uint32_t)pick, true);
        rc = save(a, &b, err);
        free(b.bits);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            value_of(a, (uint32_t)pick, out);
            return 0;
        }
    }
    return ck_error_set(err, 409, CK_REASON_CONFLICT, "too many concurrent allocations in %s",
                        a->range);
}

int alloc_release(struct range_alloc *a, const char *value, struct ck_error *err)
{
    int64_t off = offset_of(a, value);
    if (off < 0)
        return 0;
    for (int round = 0; round < CAS_ROUNDS; round++) {
        struct bitmap b;
        int rc = load(a, &b, err);
        if (rc < 0)
            return rc;
        if (!bit_get(&b, (uint32_t)off)) {
            free(b.bits);
            return 0;
        }
        bit_set(&b, (uint32_t)off, false);
        rc = save(a, &b, err);
        free(b.bits);
        if (rc <= 0)
            return rc;
    }
    return ck_error_set(err, 409, CK_REASON_CONFLICT, "too many concurrent allocations in %s",
                        a->range);
}

bool alloc_has(struct range_alloc *a, const char *value)
{
    int64_t off = offset_of(a, value);
    struct bitmap b;
    if (off < 0 || load(a, &b, NULL) < 0)
        return false;
    bool set = bit_get(&b, (uint32_t)off);
    free(b.bits);
    return set;
}

int alloc_repair(struct range_alloc *a, const char *const *values, size_t n, struct ck_error *err)
{
    for (int round = 0; round < CAS_ROUNDS; round++) {
        struct bitmap b;
        int rc = load(a, &b, err);
        if (rc < 0)
            return rc;
        memset(b.bits, 0, a->size / 8 + 1);
        for (size_t i = 0; i < n; i++) {
            int64_t off = offset_of(a, values[i]);
            if (off >= 0)
                bit_set(&b, (uint32_t)off, true);
        }
        rc = save(a, &b, err);
        free(b.bits);
        if (rc <= 0)
            return rc;
    }
    return ck_error_set(err, 409, CK_REASON_CONFLICT, "too many concurrent allocations in %s",
                        a->range);
}
