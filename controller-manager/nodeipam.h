/* nodeipam.h - the node-ipam controller of kube-controller-manager with upstream's
 * RangeAllocator (pkg/controller/nodeipam/ipam/range_allocator.go) and its CIDR set
 * (ipam/cidrset/cidr_set.go):
 *
 *  - with --allocate-node-cidrs=true and --cluster-cidr (one CIDR, or one IPv4 and one IPv6
 *    comma-separated for dual stack), every Node without spec.podCIDRs gets the next free
 *    subnet of --node-cidr-mask-size bits (default 24 for IPv4, 64 for IPv6) of each cluster
 *    CIDR in spec.podCIDR and spec.podCIDRs (a strategic merge patch);
 *  - CIDRs Nodes already carry are marked used before anything is allocated, and again
 *    whenever a Node with CIDRs is seen; a deleted Node's CIDRs go back to the pool;
 *  - when a range is exhausted the Node gets upstream's Normal event CIDRNotAvailable
 *    ("Node <name> status is now: CIDRNotAvailable", source cidrAllocator) and is retried
 *    with the work queue's backoff.
 *
 * The CIDR set (nodeipam_cidrset_*) is pure and unit-tested; nodeipam_start wires it to the
 * nodes informer. The flags live in nodeipam_flags (main.c points its flag table at it).
 * Ownership: a cidrset belongs to whoever created it (nodeipam_cidrset_free). Strings the
 * functions write go into caller buffers. Thread-safety: a cidrset is not locked; the
 * controller guards its sets with one mutex.
 */
#ifndef CM_NODEIPAM_H
#define CM_NODEIPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller.h"
#include "error.h"

/* Enough for "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" and a NUL. */
#define NODEIPAM_CIDR_MAX 64

/* upstream's error texts */
#define NODEIPAM_ERR_FULL                                                                          \
    "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"
#define NODEIPAM_ERR_TOO_BIG "New CIDR set failed; the node CIDR size is too big"

/* kube-controller-manager's flags for this controller (upstream KubeCloudShared and
 * NodeIPAMController options); defaults: false, "", 0 (= 24 for IPv4, 64 for IPv6). */
struct nodeipam_config {
    bool allocate_node_cidrs; /* --allocate-node-cidrs */
    const char *cluster_cidr; /* --cluster-cidr */
    int node_cidr_mask_size;  /* --node-cidr-mask-size (single stack only) */
    /* --service-cluster-ip-range ("primary[,secondary]"): the part of a cluster CIDR it
     * overlaps is never handed to Nodes (upstream filterOutServiceRange) */
    const char *service_cluster_ip_range;
};
extern struct nodeipam_config nodeipam_flags;

struct nodeipam_cidrset;

/* A set of the /node_mask subnets of cluster_cidr ("10.244.0.0/16"; host bits are masked off
 * as Go's net.ParseCIDR does). Fails with -EINVAL when the CIDR does not parse, when node_mask
 * is shorter than the cluster's mask or longer than the address, and with NODEIPAM_ERR_TOO_BIG
 * when node_mask exceeds the cluster mask by more than 16 bits for IPv6 (upstream's limit) or
 * 24 bits for IPv4 (ours: the bitmap is allocated up front). Caller frees. */
int nodeipam_cidrset_new(const char *cluster_cidr, int node_mask, struct nodeipam_cidrset **out,
                         struct ck_error *err);
void nodeipam_cidrset_free(struct nodeipam_cidrset *s);

/* 4 or 6. */
int nodeipam_cidrset_family(const struct nodeipam_cidrset *s);
/* Number of subnets in the set, and how many are used. */
uint64_t nodeipam_cidrset_size(const struct nodeipam_cidrset *s);
uint64_t nodeipam_cidrset_used(const struct nodeipam_cidrset *s);

/* Marks the next free subnet used, searching round-robin from after the last one handed out
 * (as upstream's nextCandidate), and writes it as "a.b.c.d/n" into out. -ENOSPC with
 * NODEIPAM_ERR_FULL when every subnet is used. */
int nodeipam_cidrset_allocate_next(struct nodeipam_cidrset *s, char *out, size_t size,
                                   struct ck_error *err);
/* Marks every subnet `cidr` overlaps used (a CIDR covering the whole cluster range marks all
 * of it; one inside a subnet marks that subnet). -EINVAL for a CIDR that does not parse or is
 * of the other family ("cidr X is out the range of cluster cidr Y" when it does not overlap). */
int nodeipam_cidrset_occupy(struct nodeipam_cidrset *s, const char *cidr, struct ck_error *err);
/* The reverse of occupy: marks the subnets free again. Same errors. */
int nodeipam_cidrset_release(struct nodeipam_cidrset *s, const char *cidr, struct ck_error *err);
/* True when the subnet containing the CIDR's first address is used (false when outside). */
bool nodeipam_cidrset_is_used(const struct nodeipam_cidrset *s, const char *cidr);

/* upstream's start-up checks and defaults: parses the comma-separated --cluster-cidr list (at
 * most one IPv4 and one IPv6) and builds one set per CIDR with its family's mask size into
 * sets[0..*n). Errors (-EINVAL) as upstream's: missing --cluster-cidr, more than two CIDRs, two
 * of one family, --node-cidr-mask-size with dual stack, a cluster mask longer than the node
 * mask. Service CIDRs overlapping a set are then occupied in it; one that does not parse is
 * logged ("Unsuccessful parsing of service CIDR") and skipped, as upstream. The caller frees
 * the sets. */
int nodeipam_sets_from_config(const struct nodeipam_config *cfg, struct nodeipam_cidrset *sets[2],
                              size_t *n, struct ck_error *err);

/* The controller table row's start function: does nothing unless --allocate-node-cidrs. */
int nodeipam_start(struct ck_controller_context *cc, struct ck_error *err);

#endif
