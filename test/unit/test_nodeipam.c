/* test_nodeipam.c - the node-ipam controller's CIDR set (upstream cidrset.CidrSet: subnets of a
 * cluster CIDR handed out round-robin, occupied, released, exhausted) and its start-up checks
 * of --cluster-cidr / --node-cidr-mask-size (upstream startNodeIpamController), and the
 * Service range kept out of the pool (--service-cluster-ip-range). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller-manager/nodeipam.h"

static struct nodeipam_cidrset *set_new(const char *cidr, int mask)
{
    struct nodeipam_cidrset *s = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (nodeipam_cidrset_new(cidr, mask, &s, &err) < 0)
        fail_msg("cidrset %s/%d: %s", cidr, mask, err.message);
    return s;
}

static void expect_next(struct nodeipam_cidrset *s, const char *want)
{
    char out[NODEIPAM_CIDR_MAX];
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(nodeipam_cidrset_allocate_next(s, out, sizeof(out), &err), 0);
    assert_string_equal(out, want);
}

static void test_new(void **state)
{
    (void)state;
    static const struct {
        const char *cidr;
        int mask;
        int rc;
        uint64_t size;   /* when rc == 0 */
        const char *msg; /* when rc < 0: substring of the message */
    } cases[] = {
        {"10.244.0.0/16", 24, 0, 256, NULL},
        {"10.244.3.7/16", 24, 0, 256, NULL}, /* host bits masked off */
        {"10.0.0.0/8", 32, 0, 1u << 24, NULL},
        {"10.0.0.0/30", 30, 0, 1, NULL},
        {"fd00::/48", 64, 0, 65536, NULL},
        {"fd00::/40", 64, -EINVAL, 0, NODEIPAM_ERR_TOO_BIG},
        {"0.0.0.0/0", 32, -EINVAL, 0, NODEIPAM_ERR_TOO_BIG},
        {"10.0.0.0/8", 7, -EINVAL, 0, "invalid node CIDR mask size 7"},
        {"10.0.0.0/8", 33, -EINVAL, 0, "invalid node CIDR mask size 33"},
        {"10.0.0.0/33", 33, -EINVAL, 0, "invalid CIDR address: 10.0.0.0/33"},
        {"10.0.0.0/", 24, -EINVAL, 0, "invalid CIDR address"},
        {"10.0.0.0/-8", 24, -EINVAL, 0, "invalid CIDR address"},
        {"10.0.0.0/1a", 24, -EINVAL, 0, "invalid CIDR address"},
        {"10.0.0/8", 24, -EINVAL, 0, "invalid CIDR address"},
        {"10.0.0.0", 24, -EINVAL, 0, "invalid CIDR address"},
        {"", 24, -EINVAL, 0, "invalid CIDR address"},
        {"fd00::zz/48", 64, -EINVAL, 0, "invalid CIDR address"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct nodeipam_cidrset *s = NULL;
        struct ck_error err = CK_ERROR_INIT;
        int rc = nodeipam_cidrset_new(cases[i].cidr, cases[i].mask, &s, &err);
        if (rc != cases[i].rc)
            fail_msg("%s/%d: rc %d, want %d (%s)", cases[i].cidr, cases[i].mask, rc, cases[i].rc,
                     err.message);
        if (rc == 0) {
            assert_int_equal(nodeipam_cidrset_size(s), cases[i].size);
            assert_int_equal(nodeipam_cidrset_used(s), 0);
        } else {
            assert_null(s);
            if (!strstr(err.message, cases[i].msg))
                fail_msg("%s/%d: message \"%s\" lacks \"%s\"", cases[i].cidr, cases[i].mask,
                         err.message, cases[i].msg);
        }
        nodeipam_cidrset_free(s);
    }
    nodeipam_cidrset_free(NULL); /* allowed */
}

/* Subnets come in address order; a cluster CIDR with host bits starts at its network. */
static void test_allocate_in_order(void **state)
{
    (void)state;
    struct nodeipam_cidrset *s = set_new("10.244.3.7/16", 24);
    assert_int_equal(nodeipam_cidrset_family(s), 4);
    expect_next(s, "10.244.0.0/24");
    expect_next(s, "10.244.1.0/24");
    expect_next(s, "10.244.2.0/24");
    assert_int_equal(nodeipam_cidrset_used(s), 3);
    nodeipam_cidrset_free(s);

    s = set_new("fd00:10::/56", 64);
    assert_int_equal(nodeipam_cidrset_family(s), 6);
    expect_next(s, "fd00:10::/64");
    expect_next(s, "fd00:10:0:1::/64");
    nodeipam_cidrset_free(s);

    s = set_new("192.168.0.0/30", 32);
    expect_next(s, "192.168.0.0/32");
    expect_next(s, "192.168.0.1/32");
    nodeipam_cidrset_free(s);
}

/* Exhaustion gives upstream's message; a release makes room again. */
static void test_exhausted(void **state)
{
    (void)state;
    struct nodeipam_cidrset *s = set_new("10.0.0.0/23", 24);
    expect_next(s, "10.0.0.0/24");
    expect_next(s, "10.0.1.0/24");
    char out[NODEIPAM_CIDR_MAX];
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(nodeipam_cidrset_allocate_next(s, out, sizeof(out), &err), -ENOSPC);
    assert_string_equal(err.message, NODEIPAM_ERR_FULL);
    assert_int_equal(nodeipam_cidrset_release(s, "10.0.0.0/24", NULL), 0);
    assert_int_equal(nodeipam_cidrset_used(s), 1);
    expect_next(s, "10.0.0.0/24");
    assert_int_equal(nodeipam_cidrset_allocate_next(s, out, sizeof(out), NULL), -ENOSPC);
    nodeipam_cidrset_free(s);
}

/* As upstream's nextCandidate: a released subnet is not handed out again until the search
 * wraps around. */
static void test_round_robin(void **state)
{
    (void)state;
    struct nodeipam_cidrset *s = set_new("10.0.0.0/22", 24);
    expect_next(s, "10.0.0.0/24");
    expect_next(s, "10.0.1.0/24");
    assert_int_equal(nodeipam_cidrset_release(s, "10.0.0.0/24", NULL), 0);
    expect_next(s, "10.0.2.0/24");
    expect_next(s, "10.0.3.0/24");
    expect_next(s, "10.0.0.0/24"); /* wrapped */
    nodeipam_cidrset_free(s);
}

/* Occupied CIDRs (Nodes that already carry one) are skipped; occupy covers every subnet the
 * CIDR overlaps, whatever its size; release is the reverse and idempotent. */
static void test_occupy(void **state)
{
    (void)state;
    struct nodeipam_cidrset *s = set_new("10.244.0.0/16", 24);
    assert_int_equal(nodeipam_cidrset_occupy(s, "10.244.0.0/24", NULL), 0);
    assert_int_equal(nodeipam_cidrset_occupy(s, "10.244.0.0/24", NULL), 0); /* twice: once */
    assert_int_equal(nodeipam_cidrset_used(s), 1);
    assert_true(nodeipam_cidrset_is_used(s, "10.244.0.0/24"));
    expect_next(s, "10.244.1.0/24");
    /* a /22 marks the four subnets 4..7 */
    assert_int_equal(nodeipam_cidrset_occupy(s, "10.244.4.0/22", NULL), 0);
    assert_int_equal(nodeipam_cidrset_used(s), 6);
    assert_true(nodeipam_cidrset_is_used(s, "10.244.7.0/24"));
    assert_false(nodeipam_cidrset_is_used(s, "10.244.8.0/24"));
    /* a /26 inside a subnet marks that subnet */
    assert_int_equal(nodeipam_cidrset_occupy(s, "10.244.9.64/26", NULL), 0);
    assert_true(nodeipam_cidrset_is_used(s, "10.244.9.0/24"));
    assert_int_equal(nodeipam_cidrset_used(s), 7);
    expect_next(s, "10.244.2.0/24");
    expect_next(s, "10.244.3.0/24");
    expect_next(s, "10.244.8.0/24");  /* 4..7 occupied */
    expect_next(s, "10.244.10.0/24"); /* 9 occupied */
    /* release: idempotent, only what it covers */
    assert_int_equal(nodeipam_cidrset_release(s, "10.244.4.0/22", NULL), 0);
    assert_int_equal(nodeipam_cidrset_release(s, "10.244.4.0/22", NULL), 0);
    assert_false(nodeipam_cidrset_is_used(s, "10.244.5.0/24"));
    assert_int_equal(nodeipam_cidrset_used(s), 7);
    /* a CIDR covering the whole cluster range marks all of it */
    assert_int_equal(nodeipam_cidrset_occupy(s, "10.0.0.0/8", NULL), 0);
    assert_int_equal(nodeipam_cidrset_used(s), 256);
    char out[NODEIPAM_CIDR_MAX];
    assert_int_equal(nodeipam_cidrset_allocate_next(s, out, sizeof(out), NULL), -ENOSPC);
    nodeipam_cidrset_free(s);
}

static void test_occupy_errors(void **state)
{
    (void)state;
    static const struct {
        const char *cidr, *msg;
    } cases[] = {
        {"10.245.0.0/24", "cidr 10.245.0.0/24 is out the range of cluster cidr 10.244.0.0/16"},
        {"10.245.0.9/24", "cidr 10.245.0.0/24 is out the range of cluster cidr 10.244.0.0/16"},
        {"11.0.0.0/8", "cidr 11.0.0.0/8 is out the range of cluster cidr 10.244.0.0/16"},
        {"fd00::/64", "cidr fd00::/64 is out the range of cluster cidr 10.244.0.0/16"},
        {"garbage", "invalid CIDR address: garbage"},
        {"10.244.0.0/99", "invalid CIDR address: 10.244.0.0/99"},
    };
    struct nodeipam_cidrset *s = set_new("10.244.0.0/16", 24);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(nodeipam_cidrset_occupy(s, cases[i].cidr, &err), -EINVAL);
        assert_string_equal(err.message, cases[i].msg);
        err = (struct ck_error)CK_ERROR_INIT;
        assert_int_equal(nodeipam_cidrset_release(s, cases[i].cidr, &err), -EINVAL);
        assert_string_equal(err.message, cases[i].msg);
        assert_false(nodeipam_cidrset_is_used(s, cases[i].cidr));
    }
    assert_int_equal(nodeipam_cidrset_used(s), 0);
    assert_int_equal(nodeipam_cidrset_occupy(s, NULL, NULL), -EINVAL);
    nodeipam_cidrset_free(s);
}

static void test_config(void **state)
{
    (void)state;
    static const struct {
        const char *cluster;
        int mask;
        size_t nsets;     /* 0: error */
        uint64_t size[2]; /* subnets per set */
        const char *msg;  /* error message */
    } cases[] = {
        {"10.244.0.0/16", 0, 1, {256, 0}, NULL},
        {"  10.244.0.0/16 ", 0, 1, {256, 0}, NULL},
        {"10.244.0.0/16", 26, 1, {1024, 0}, NULL},
        {"fd00::/56", 0, 1, {256, 0}, NULL},
        {"10.244.0.0/16,fd00::/56", 0, 2, {256, 256}, NULL},
        {"fd00::/56,10.244.0.0/16", 0, 2, {256, 256}, NULL},
        {"",
         0,
         0,
         {0, 0},
         "Controller: Must specify --cluster-cidr if --allocate-node-cidrs is set"},
        {"  ",
         0,
         0,
         {0, 0},
         "Controller: Must specify --cluster-cidr if --allocate-node-cidrs is set"},
        {"10.244.0.0/16,fd00::/56",
         24,
         0,
         {0, 0},
         "usage of --node-cidr-mask-size is not allowed with dual-stack clusters"},
        {"10.244.0.0/16,10.245.0.0/16",
         0,
         0,
         {0, 0},
         "len of ClusterCIDRs==2 and they are not configured as dual stack (at least one from "
         "each IPFamily"},
        {"10.244.0.0/16,fd00::/56,10.245.0.0/16",
         0,
         0,
         {0, 0},
         "len of clusters is:3 > more than max allowed of 2"},
        {"10.244.0.0/25",
         0,
         0,
         {0, 0},
         "Controller: Invalid --cluster-cidr, mask size of cluster CIDR must be less than or "
         "equal to --node-cidr-mask-size configured for CIDR family"},
        {"10.244.0.0/16", 8, 0, {0, 0}, "Controller: Invalid --cluster-cidr"},
        {"10.244.0.0/16, fd00::/56",
         0,
         0,
         {0, 0},
         "failed to parse cidr value:\" fd00::/56\" with error:invalid CIDR address:  fd00::/56"},
        {"10.244.0.0/16,", 0, 0, {0, 0}, "failed to parse cidr value:\"\""},
        {"fd00::/40", 0, 0, {0, 0}, NODEIPAM_ERR_TOO_BIG},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct nodeipam_config cfg = {true, cases[i].cluster, cases[i].mask, NULL};
        struct nodeipam_cidrset *sets[2];
        size_t n = 99;
        struct ck_error err = CK_ERROR_INIT;
        int rc = nodeipam_sets_from_config(&cfg, sets, &n, &err);
        if (cases[i].nsets == 0) {
            if (rc != -EINVAL || !strstr(err.message, cases[i].msg))
                fail_msg("\"%s\"/%d: rc %d message \"%s\", want \"%s\"", cases[i].cluster,
                         cases[i].mask, rc, err.message, cases[i].msg);
            assert_int_equal(n, 0);
            continue;
        }
        if (rc != 0)
            fail_msg("\"%s\"/%d: %s", cases[i].cluster, cases[i].mask, err.message);
        assert_int_equal(n, cases[i].nsets);
        for (size_t j = 0; j < n; j++) {
            assert_int_equal(nodeipam_cidrset_size(sets[j]), cases[i].size[j]);
            nodeipam_cidrset_free(sets[j]);
        }
    }
    struct nodeipam_config none = {true, NULL, 0, NULL};
    struct nodeipam_cidrset *sets[2];
    size_t n;
    assert_int_equal(nodeipam_sets_from_config(&none, sets, &n, NULL), -EINVAL);
    /* upstream's defaults: off, no cluster CIDR, family default mask */
    assert_false(nodeipam_flags.allocate_node_cidrs);
    assert_string_equal(nodeipam_flags.cluster_cidr, "");
    assert_int_equal(nodeipam_flags.node_cidr_mask_size, 0);
    assert_string_equal(nodeipam_flags.service_cluster_ip_range, "");
}

/* --service-cluster-ip-range: the part of a cluster CIDR the Services use is never handed out
 * (upstream filterOutServiceRange); unparsable or non-overlapping ranges change nothing. */
static void test_service_range(void **state)
{
    (void)state;
    static const struct {
        const char *cluster, *services;
        uint64_t used[2];
        const char *first; /* first CIDR handed out of set 0 */
    } cases[] = {
        {"10.0.0.0/16", "10.0.0.0/20", {16, 0}, "10.0.16.0/24"},
        {"10.0.0.0/16", "10.96.0.0/12", {0, 0}, "10.0.0.0/24"},
        {"10.0.0.0/16", "", {0, 0}, "10.0.0.0/24"},
        {"10.0.0.0/16", "nonsense,10.0.0.0/23", {2, 0}, "10.0.2.0/24"},
        {"10.0.0.0/16", "10.0.0.128/25", {1, 0}, "10.0.1.0/24"},
        {"10.0.0.0/16", "10.0.0.0/8", {256, 0}, NULL},
        {"10.0.0.0/16,fd00::/56", "10.0.0.0/24,fd00::/120", {1, 1}, "10.0.1.0/24"},
        {"fd00::/56", "10.0.0.0/24", {0, 0}, "fd00::/64"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct nodeipam_config cfg = {true, cases[i].cluster, 0, cases[i].services};
        struct nodeipam_cidrset *sets[2];
        size_t n = 0;
        struct ck_error err = CK_ERROR_INIT;
        if (nodeipam_sets_from_config(&cfg, sets, &n, &err) < 0)
            fail_msg("%s: %s", cases[i].cluster, err.message);
        for (size_t j = 0; j < n; j++)
            if (nodeipam_cidrset_used(sets[j]) != cases[i].used[j])
                fail_msg("case %zu set %zu: %llu used, want %llu", i, j,
                         (unsigned long long)nodeipam_cidrset_used(sets[j]),
                         (unsigned long long)cases[i].used[j]);
        char out[NODEIPAM_CIDR_MAX];
        if (cases[i].first)
            expect_next(sets[0], cases[i].first);
        else
            assert_int_equal(nodeipam_cidrset_allocate_next(sets[0], out, sizeof(out), NULL),
                             -ENOSPC);
        for (size_t j = 0; j < n; j++)
            nodeipam_cidrset_free(sets[j]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new),       cmocka_unit_test(test_allocate_in_order),
        cmocka_unit_test(test_exhausted), cmocka_unit_test(test_round_robin),
        cmocka_unit_test(test_occupy),    cmocka_unit_test(test_occupy_errors),
        cmocka_unit_test(test_config),    cmocka_unit_test(test_service_range),
    };
    return cmocka_run_group_tests_name("nodeipam", tests, NULL, NULL);
}
