/* nodeipam.c - the node-ipam controller: upstream's RangeAllocator over a bitmap CIDR set per
 * cluster CIDR, allocating spec.podCIDR(s) to Nodes. See nodeipam.h. */
#include "nodeipam.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "events.h"
#include "informer.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "store.h"
#include "strmap.h"

struct nodeipam_config nodeipam_flags = {false, "", 0, ""};

/* ---- CIDRs as 128-bit numbers -------------------------------------------------------------- */

typedef unsigned __int128 u128;

struct cidr {
    int family; /* 4 or 6 */
    int bits;   /* 32 or 128 */
    u128 addr;  /* network address (host bits cleared) */
    int prefix;
};

static u128 all_ones(int bits)
{
    return bits >= 128 ? ~(u128)0 : (((u128)1 << bits) - 1);
}

/* The network mask of `prefix` leading ones in a `bits`-bit address. */
static u128 mask_of(int bits, int prefix)
{
    if (prefix <= 0)
        return 0;
    return (all_ones(bits) << (bits - prefix)) & all_ones(bits);
}

/* Parses "addr/prefix" as Go's net.ParseCIDR (IPv4 dotted quad or IPv6; the address is masked
 * to its network). Returns 0 or -EINVAL. */
static int parse_cidr(const char *s, struct cidr *c)
{
    char buf[NODEIPAM_CIDR_MAX];
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, len + 1);
    char *slash = strchr(buf, '/');
    if (!slash || !slash[1] || strlen(slash + 1) > 3)
        return -EINVAL;
    *slash = '\0';
    int prefix = 0;
    for (const char *p = slash + 1; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        prefix = prefix * 10 + (*p - '0');
    }
    unsigned char raw[16];
    memset(c, 0, sizeof(*c));
    if (!strchr(buf, ':')) {
        if (inet_pton(AF_INET, buf, raw) != 1)
            return -EINVAL;
        c->family = 4;
        c->bits = 32;
    } else {
        if (inet_pton(AF_INET6, buf, raw) != 1)
            return -EINVAL;
        c->family = 6;
        c->bits = 128;
    }
    if (prefix > c->bits)
        return -EINVAL;
    for (int i = 0; i < c->bits / 8; i++)
        c->addr = (c->addr << 8) | raw[i];
    c->prefix = prefix;
    c->addr &= mask_of(c->bits, prefix);
    return 0;
}

/* Writes the address `a` of `family` and the prefix as "addr/prefix" (inet_ntop form). */
static void format_cidr(int family, u128 a, int prefix, char *out, size_t size)
{
    unsigned char raw[16];
    int n = family == 4 ? 4 : 16;
    for (int i = n - 1; i >= 0; i--) {
        raw[i] = (unsigned char)(a & 0xff);
        a >>= 8;
    }
    char ip[INET6_ADDRSTRLEN];
    if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, raw, ip, sizeof(ip)))
        ip[0] = '\0';
    snprintf(out, size, "%s/%d", ip, prefix);
}

/* ---- the CIDR set (upstream cidrset.CidrSet) ------------------------------------------------ */

struct nodeipam_cidrset {
    struct cidr cluster;
    int node_mask;
    uint64_t max;  /* number of subnets */
    uint64_t next; /* next candidate for allocate_next */
    uint64_t used; /* bits set */
    unsigned char *bitmap;
};

int nodeipam_cidrset_new(const char *cluster_cidr, int node_mask, struct nodeipam_cidrset **out,
                         struct ck_error *err)
{
    *out = NULL;
    struct cidr c;
    if (parse_cidr(cluster_cidr, &c) < 0)
        return ck_error_set(err, 400, "BadRequest", "invalid CIDR address: %s",
                            cluster_cidr ? cluster_cidr : "");
    if (node_mask < c.prefix || node_mask > c.bits)
        return ck_error_set(err, 400, "BadRequest",
                            "invalid node CIDR mask size %d for cluster CIDR %s", node_mask,
                            cluster_cidr);
    int diff = node_mask - c.prefix;
    if (diff > (c.family == 6 ? 16 : 24))
        return ck_error_set(err, 400, "BadRequest", NODEIPAM_ERR_TOO_BIG);
    struct nodeipam_cidrset *s = ck_xmalloc(sizeof(*s));
    memset(s, 0, sizeof(*s));
    s->cluster = c;
    s->node_mask = node_mask;
    s->max = (uint64_t)1 << diff;
    s->bitmap = ck_xcalloc((size_t)((s->max + 7) / 8), 1);
    *out = s;
    return 0;
}

void nodeipam_cidrset_free(struct nodeipam_cidrset *s)
{
    if (!s)
        return;
    free(s->bitmap);
    free(s);
}

int nodeipam_cidrset_family(const struct nodeipam_cidrset *s)
{
    return s->cluster.family;
}

uint64_t nodeipam_cidrset_size(const struct nodeipam_cidrset *s)
{
    return s->max;
}

uint64_t nodeipam_cidrset_used(const struct nodeipam_cidrset *s)
{
    return s->used;
}

static bool bit_get(const struct nodeipam_cidrset *s, uint64_t i)
{
    return (s->bitmap[i / 8] >> (i % 8)) & 1;
}

static void bit_put(struct nodeipam_cidrset *s, uint64_t i, bool on)
{
    if (bit_get(s, i) == on)
        return;
    if (on) {
        s->bitmap[i / 8] |= (unsigned char)(1u << (i % 8));
        s->used++;
    } else {
        s->bitmap[i / 8] &= (unsigned char)~(1u << (i % 8));
        s->used--;
    }
}

static int subnet_shift(const struct nodeipam_cidrset *s)
{
    return s->cluster.bits - s->node_mask;
}

/* Index of the subnet holding address a (a inside the cluster range). */
static uint64_t index_of(const struct nodeipam_cidrset *s, u128 a)
{
    int shift = subnet_shift(s);
    u128 off = a - s->cluster.addr;
    return shift >= 128 ? 0 : (uint64_t)(off >> shift);
}

int nodeipam_cidrset_allocate_next(struct nodeipam_cidrset *s, char *out, size_t size,
                                   struct ck_error *err)
{
    if (s->used >= s->max) {
        ck_error_set(err, 409, "Conflict", NODEIPAM_ERR_FULL);
        return -ENOSPC;
    }
    uint64_t cand = s->next;
    for (uint64_t i = 0; i < s->max && bit_get(s, cand); i++)
        cand = (cand + 1) % s->max;
    bit_put(s, cand, true);
    s->next = (cand + 1) % s->max;
    int shift = subnet_shift(s);
    u128 a = s->cluster.addr + (shift >= 128 ? 0 : ((u128)cand << shift));
    format_cidr(s->cluster.family, a, s->node_mask, out, size);
    return 0;
}

/* upstream getBeginningAndEndIndices: the subnets `cidr` overlaps. */
static int cidr_range(const struct nodeipam_cidrset *s, const char *cidr, uint64_t *begin,
                      uint64_t *end, struct ck_error *err)
{
    struct cidr c;
    char cl[NODEIPAM_CIDR_MAX];
    format_cidr(s->cluster.family, s->cluster.addr, s->cluster.prefix, cl, sizeof(cl));
    if (parse_cidr(cidr, &c) < 0)
        return ck_error_set(err, 400, "BadRequest", "invalid CIDR address: %s", cidr ? cidr : "");
    char cs[NODEIPAM_CIDR_MAX];
    format_cidr(c.family, c.addr, c.prefix, cs, sizeof(cs));
    int shorter = c.prefix < s->cluster.prefix ? c.prefix : s->cluster.prefix;
    u128 m = mask_of(s->cluster.bits, shorter);
    if (c.family != s->cluster.family || (c.addr & m) != (s->cluster.addr & m))
        return ck_error_set(err, 400, "BadRequest", "cidr %s is out the range of cluster cidr %s",
                            cs, cl);
    *begin = 0;
    *end = s->max - 1;
    if (s->cluster.prefix < c.prefix) {
        u128 sub = mask_of(c.bits, s->node_mask);
        u128 last = c.addr | (all_ones(c.bits) & ~mask_of(c.bits, c.prefix));
        *begin = index_of(s, c.addr & sub);
        *end = index_of(s, last & sub);
    }
    return 0;
}

static int mark(struct nodeipam_cidrset *s, const char *cidr, bool on, struct ck_error *err)
{
    uint64_t b, e;
    int rc = cidr_range(s, cidr, &b, &e, err);
    if (rc < 0)
        return rc;
    for (uint64_t i = b; i <= e && i < s->max; i++)
        bit_put(s, i, on);
    return 0;
}

int nodeipam_cidrset_occupy(struct nodeipam_cidrset *s, const char *cidr, struct ck_error *err)
{
    return mark(s, cidr, true, err);
}

int nodeipam_cidrset_release(struct nodeipam_cidrset *s, const char *cidr, struct ck_error *err)
{
    return mark(s, cidr, false, err);
}

bool nodeipam_cidrset_is_used(const struct nodeipam_cidrset *s, const char *cidr)
{
    uint64_t b, e;
    if (cidr_range(s, cidr, &b, &e, NULL) < 0)
        return false;
    return bit_get(s, b);
}

/* ---- configuration (upstream startNodeIpamController's checks) ------------------------------ */

static void free_sets(struct nodeipam_cidrset *sets[2], size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        nodeipam_cidrset_free(sets[i]);
        sets[i] = NULL;
    }
    *n = 0;
}

/* upstream filterOutServiceRange: every service CIDR overlapping a cluster CIDR is occupied. */
static void filter_out_service_range(struct nodeipam_cidrset *sets[2], size_t n, const char *list)
{
    if (!list || !list[0] || strlen(list) > 4 * NODEIPAM_CIDR_MAX)
        return;
    char *copy = ck_xstrdup(list);
    for (char *p = copy, *comma; p; p = comma ? comma + 1 : NULL) {
        comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        struct cidr c;
        if (parse_cidr(p, &c) < 0) {
            ck_warn("Unsuccessful parsing of service CIDR CIDR=\"%s\"", p);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            const struct cidr *cl = &sets[i]->cluster;
            int shorter = c.prefix < cl->prefix ? c.prefix : cl->prefix;
            u128 m = mask_of(cl->bits, shorter);
            if (c.family != cl->family || (c.addr & m) != (cl->addr & m))
                continue;
            struct ck_error err = CK_ERROR_INIT;
            if (nodeipam_cidrset_occupy(sets[i], p, &err) < 0)
                ck_warn("Error filtering out service cidr out the node CIDRs CIDR=%s: %s", p,
                        err.message);
        }
    }
    free(copy);
}

int nodeipam_sets_from_config(const struct nodeipam_config *cfg, struct nodeipam_cidrset *sets[2],
                              size_t *n, struct ck_error *err)
{
    *n = 0;
    sets[0] = sets[1] = NULL;
    const char *list = cfg->cluster_cidr ? cfg->cluster_cidr : "";
    while (isspace((unsigned char)*list))
        list++;
    size_t len = strlen(list);
    while (len > 0 && isspace((unsigned char)list[len - 1]))
        len--;
    if (len == 0)
        return ck_error_set(
            err, 400, "BadRequest",
            "Controller: Must specify --cluster-cidr if --allocate-node-cidrs is set");
    if (len > 4 * NODEIPAM_CIDR_MAX)
        return ck_error_set(err, 400, "BadRequest", "invalid --cluster-cidr: too long");
    char *copy = ck_xstrndup(list, len);
    struct cidr cs[3];
    size_t count = 0;
    int rc = 0;
    bool v4 = false, v6 = false;
    /* strtok_r would skip empty entries, which upstream rejects: split by hand */
    for (char *p = copy, *comma; p && rc == 0; p = comma ? comma + 1 : NULL) {
        comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        struct cidr c;
        if (parse_cidr(p, &c) < 0) {
            rc = ck_error_set(err, 400, "BadRequest",
                              "failed to parse cidr value:\"%s\" with error:invalid CIDR "
                              "address: %s",
                              p, p);
            break;
        }
        if (count < 3)
            cs[count] = c;
        count++;
        v4 |= c.family == 4;
        v6 |= c.family == 6;
    }
    free(copy);
    if (rc < 0)
        return rc;
    bool dual = v4 && v6;
    if (count > 1 && !dual)
        return ck_error_set(err, 400, "BadRequest",
                            "len of ClusterCIDRs==%zu and they are not configured as dual stack "
                            "(at least one from each IPFamily",
                            count);
    if (count > 2)
        return ck_error_set(err, 400, "BadRequest",
                            "len of clusters is:%zu > more than max allowed of 2", count);
    if (dual && cfg->node_cidr_mask_size != 0)
        return ck_error_set(err, 400, "BadRequest",
                            "usage of --node-cidr-mask-size is not allowed with dual-stack "
                            "clusters");
    for (size_t i = 0; i < count; i++) {
        int mask = cs[i].family == 4 ? 24 : 64;
        if (!dual && cfg->node_cidr_mask_size != 0)
            mask = cfg->node_cidr_mask_size;
        if (cs[i].prefix > mask) {
            free_sets(sets, n);
            return ck_error_set(err, 400, "BadRequest",
                                "Controller: Invalid --cluster-cidr, mask size of cluster CIDR "
                                "must be less than or equal to --node-cidr-mask-size configured "
                                "for CIDR family");
        }
        char text[NODEIPAM_CIDR_MAX];
        format_cidr(cs[i].family, cs[i].addr, cs[i].prefix, text, sizeof(text));
        rc = nodeipam_cidrset_new(text, mask, &sets[i], err);
        if (rc < 0) {
            free_sets(sets, n);
            return rc;
        }
        *n = i + 1;
    }
    filter_out_service_range(sets, *n, cfg->service_cluster_ip_range);
    return 0;
}

/* ---- the controller ------------------------------------------------------------------------ */

static const struct ck_gvr nodes_gvr = {"", "v1", "nodes"};

struct ipam_ctl {
    struct ck_client *client;           /* borrowed from the context */
    struct ck_store *nodes;             /* the nodes informer's store (borrowed) */
    struct ck_event_recorder *recorder; /* owned; NULL without a broadcaster */
    pthread_mutex_t mu;                 /* guards everything below */
    struct nodeipam_cidrset *sets[2];
    size_t nsets;
    bool primed;               /* existing CIDRs occupied */
    struct ck_strmap assigned; /* node name -> uid we patched CIDRs onto (owned) */
};

/* The state of the last start; freed by the next start (the previous factory, whose handlers
 * point at it, is gone by then) or at exit. */
static struct ipam_ctl *the_ctl;

static void ipam_free(struct ipam_ctl *c)
{
    if (!c)
        return;
    free_sets(c->sets, &c->nsets);
    ck_strmap_free(&c->assigned, free);
    ck_event_recorder_free(c->recorder);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static void ipam_free_at_exit(void)
{
    ipam_free(the_ctl);
    the_ctl = NULL;
}

/* The node's podCIDRs (spec.podCIDRs, else spec.podCIDR) into out[0..2); returns the count. */
static size_t node_cidrs(const cJSON *node, const char *out[2])
{
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ck_json_get(node, "spec.podCIDRs"))
    {
        if (cJSON_IsString(it) && it->valuestring[0] && n < 2)
            out[n++] = it->valuestring;
    }
    if (n == 0) {
        const char *one = ck_json_get_string(node, "spec.podCIDR", "");
        if (one[0])
            out[n++] = one;
    }
    return n;
}

/* upstream occupyCIDRs (c->mu held): podCIDRs[i] belongs to set i. */
static int occupy_node(struct ipam_ctl *c, const cJSON *node)
{
    const char *cidrs[2];
    size_t n = node_cidrs(node, cidrs);
    const char *name = ck_json_get_string(node, "metadata.name", "");
    for (size_t i = 0; i < n; i++) {
        struct ck_error err = CK_ERROR_INIT;
        if (i >= c->nsets) {
            ck_warn("node:%s has an allocated cidr: %s at index:%zu that does not exist in "
                    "cluster cidrs configuration",
                    name, cidrs[i], i);
            return -EINVAL;
        }
        if (nodeipam_cidrset_occupy(c->sets[i], cidrs[i], &err) < 0) {
            ck_warn("failed to mark cidr[%s] at idx [%zu] as occupied for node: %s: %s", cidrs[i],
                    i, name, err.message);
            return -EINVAL;
        }
    }
    return 0;
}

/* upstream ReleaseCIDR (c->mu held). */
static void release_node(struct ipam_ctl *c, const cJSON *node)
{
    const char *cidrs[2];
    size_t n = node_cidrs(node, cidrs);
    for (size_t i = 0; i < n && i < c->nsets; i++) {
        struct ck_error err = CK_ERROR_INIT;
        if (nodeipam_cidrset_release(c->sets[i], cidrs[i], &err) < 0)
            ck_warn("Error when releasing CIDR %s of node %s: %s", cidrs[i],
                    ck_json_get_string(node, "metadata.name", ""), err.message);
        else
            ck_vinfo(4, "Release CIDR for node %s: %s",
                     ck_json_get_string(node, "metadata.name", ""), cidrs[i]);
    }
}

/* Marks every CIDR the nodes already carry, before the first allocation (upstream does it when
 * the allocator is built, from a list of the nodes). c->mu held. */
static void prime(struct ipam_ctl *c)
{
    if (c->primed)
        return;
    struct ck_obj_list l = CK_OBJ_LIST_INIT;
    ck_store_list(c->nodes, &l);
    for (size_t i = 0; i < l.n; i++)
        (void)occupy_node(c, l.items[i]->json);
    ck_obj_list_free(&l);
    c->primed = true;
}

/* upstream RecordNodeStatusChange: a Normal event on the Node named by a reference. */
static void record_status(struct ipam_ctl *c, const cJSON *node, const char *status)
{
    if (!c->recorder)
        return;
    const char *name = ck_json_get_string(node, "metadata.name", "");
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddStringToObject(ref, "apiVersion", "v1");
    cJSON_AddStringToObject(ref, "kind", "Node");
    cJSON_AddStringToObject(ref, "name", name);
    cJSON_AddStringToObject(ref, "uid", ck_json_get_string(node, "metadata.uid", ""));
    ck_vinfo(2, "Recording status change event message for node status=%s node=%s", status, name);
    ck_event_recordf(c->recorder, ref, CK_EVENT_NORMAL, status, "Node %s status is now: %s", name,
                     status);
    cJSON_Delete(ref);
}

/* upstream PatchNodeCIDRs: a strategic merge patch of spec.podCIDR and spec.podCIDRs. */
static int patch_cidrs(struct ipam_ctl *c, const char *name, char cidrs[2][NODEIPAM_CIDR_MAX],
                       size_t n, struct ck_error *err)
{
    cJSON *patch = cJSON_CreateObject();
    cJSON *spec = cJSON_AddObjectToObject(patch, "spec");
    cJSON_AddStringToObject(spec, "podCIDR", cidrs[0]);
    cJSON *arr = cJSON_AddArrayToObject(spec, "podCIDRs");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(cidrs[i]));
    char *body = cJSON_PrintUnformatted(patch);
    cJSON_Delete(patch);
    int rc = ck_client_patch(c->client, &nodes_gvr, "", name, NULL, CK_PATCH_STRATEGIC, body, NULL,
                             NULL, err);
    free(body);
    return rc;
}

/* Allocates one subnet per set for `node` (c->mu held); on failure releases what it took,
 * records CIDRNotAvailable and returns -ENOSPC. */
static int allocate(struct ipam_ctl *c, const cJSON *node, char cidrs[2][NODEIPAM_CIDR_MAX])
{
    for (size_t i = 0; i < c->nsets; i++) {
        struct ck_error err = CK_ERROR_INIT;
        if (nodeipam_cidrset_allocate_next(c->sets[i], cidrs[i], NODEIPAM_CIDR_MAX, &err) < 0) {
            for (size_t j = 0; j < i; j++)
                (void)nodeipam_cidrset_release(c->sets[j], cidrs[j], NULL);
            record_status(c, node, "CIDRNotAvailable");
            ck_warn("failed to allocate cidr from cluster cidr at idx:%zu: %s", i, err.message);
            return -ENOSPC;
        }
    }
    return 0;
}

#define CIDR_UPDATE_RETRIES 3 /* upstream cidrUpdateRetries */

/* upstream syncNode + AllocateOrOccupyCIDR + updateCIDRsAllocation for one Node name. */
static int ipam_sync(void *ctx, const char *key)
{
    struct ipam_ctl *c = ctx;
    struct ck_obj *o = ck_store_get(c->nodes, key);
    pthread_mutex_lock(&c->mu);
    prime(c);
    if (!o) {
        free(ck_strmap_remove(&c->assigned, key));
        pthread_mutex_unlock(&c->mu);
        ck_vinfo(3, "node has been deleted node=%s", key);
        return 0;
    }
    const cJSON *node = o->json;
    const char *uid = ck_json_get_string(node, "metadata.uid", "");
    const char *have[2];
    if (ck_json_get(node, "metadata.deletionTimestamp")) {
        release_node(c, node);
        pthread_mutex_unlock(&c->mu);
        ck_obj_unref(o);
        return 0;
    }
    if (node_cidrs(node, have) > 0) {
        free(ck_strmap_remove(&c->assigned, key));
        (void)occupy_node(c, node);
        pthread_mutex_unlock(&c->mu);
        ck_obj_unref(o);
        return 0;
    }
    const char *mine = ck_strmap_get(&c->assigned, key);
    if (mine && strcmp(mine, uid) == 0) {
        /* we patched this node already; the informer has not shown it yet */
        pthread_mutex_unlock(&c->mu);
        ck_obj_unref(o);
        return 0;
    }
    char cidrs[2][NODEIPAM_CIDR_MAX];
    int rc = allocate(c, node, cidrs);
    size_t n = c->nsets;
    pthread_mutex_unlock(&c->mu);
    if (rc < 0) {
        ck_obj_unref(o);
        return rc;
    }
    struct ck_error err = CK_ERROR_INIT;
    for (int i = 0; i < CIDR_UPDATE_RETRIES; i++) {
        ck_error_clear(&err);
        rc = patch_cidrs(c, key, cidrs, n, &err);
        if (rc == 0 || rc == -ENOENT)
            break;
    }
    pthread_mutex_lock(&c->mu);
    if (rc == 0) {
        free(ck_strmap_put(&c->assigned, key, ck_xstrdup(uid)));
        ck_info("Set node PodCIDR node=%s podCIDRs=%s%s%s", key, cidrs[0], n > 1 ? "," : "",
                n > 1 ? cidrs[1] : "");
    } else {
        ck_warn("Failed to update node %s PodCIDR %s after multiple attempts: %s", key, cidrs[0],
                err.message);
        if (rc != -ENOENT)
            record_status(c, node, "CIDRAssignmentFailed");
        /* upstream keeps the CIDRs when the server timed out (the patch may have landed) */
        if (err.code != 504)
            for (size_t i = 0; i < n; i++)
                (void)nodeipam_cidrset_release(c->sets[i], cidrs[i], NULL);
    }
    pthread_mutex_unlock(&c->mu);
    ck_error_clear(&err);
    ck_obj_unref(o);
    return rc == -ENOENT ? 0 : rc;
}

/* Deleted Nodes give their CIDRs back at once (there is no finalizer: the informer's last
 * state is all that is left of them). */
static void on_node_delete(void *ctx, const struct ck_obj *obj, bool unknown)
{
    (void)unknown;
    struct ipam_ctl *c = ctx;
    pthread_mutex_lock(&c->mu);
    if (c->primed)
        release_node(c, obj->json);
    pthread_mutex_unlock(&c->mu);
}

int nodeipam_start(struct ck_controller_context *cc, struct ck_error *err)
{
    const struct nodeipam_config *cfg = &nodeipam_flags;
    if (!cfg->allocate_node_cidrs) {
        ck_vinfo(2, "Skipping \"node-ipam-controller\": --allocate-node-cidrs is false");
        return 0;
    }
    struct nodeipam_cidrset *sets[2];
    size_t n = 0;
    int rc = nodeipam_sets_from_config(cfg, sets, &n, err);
    if (rc < 0)
        return rc;
    static bool registered;
    if (!registered) {
        atexit(ipam_free_at_exit);
        registered = true;
    }
    ipam_free(the_ctl);
    struct ipam_ctl *c = ck_xmalloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    the_ctl = c;
    pthread_mutex_init(&c->mu, NULL);
    c->assigned = (struct ck_strmap)CK_STRMAP_INIT;
    c->sets[0] = sets[0];
    c->sets[1] = sets[1];
    c->nsets = n;
    c->client = cc->client;
    struct ck_informer *inf = ck_informer_factory_get(cc->informers, &nodes_gvr);
    if (!inf)
        return ck_error_set(err, 500, "InternalError", "node-ipam-controller: out of memory");
    c->nodes = ck_informer_store(inf);
    if (cc->events)
        c->recorder = ck_event_recorder_new(cc->events, "cidrAllocator", NULL);
    struct ck_event_handler h = {.on_delete = on_node_delete, .ctx = c};
    if ((rc = ck_informer_add_handler(inf, &h, -1)) < 0)
        return rc;
    struct ck_controller_opts o = {.name = "node-ipam", .sync = ipam_sync, .ctx = c};
    struct ck_controller *ctl = ck_controller_new(&o);
    if (!ctl)
        return ck_error_set(err, 500, "InternalError", "node-ipam-controller: out of memory");
    if ((rc = ck_controller_watch(ctl, inf, NULL)) < 0) {
        ck_controller_free(ctl);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        char text[NODEIPAM_CIDR_MAX];
        format_cidr(sets[i]->cluster.family, sets[i]->cluster.addr, sets[i]->cluster.prefix, text,
                    sizeof(text));
        ck_info("Starting range CIDR allocator clusterCIDR=%s nodeMaskSize=%d", text,
                sets[i]->node_mask);
    }
    return ck_controller_context_add(cc, ctl, 2);
}
