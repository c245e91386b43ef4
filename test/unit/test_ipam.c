/* Unit tests for kubelet/cni/ipam.c: IPv4/CIDR parsing, ranges with upstream host-local's
 * defaults and messages, the round-robin iterator, and the flock-protected state files in a
 * temporary directory (no network needed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kubelet/cni/ipam.h"
#include "json.h"
#include "mem.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

/* ---- parsing ---- */

static void parse_ip4_follows_go_rules(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        uint32_t ip;
    } cases[] = {
        {"10.244.0.1", 0, IP4(10, 244, 0, 1)},
        {"0.0.0.0", 0, 0},
        {"255.255.255.255", 0, 0xffffffffu},
        {"256.0.0.1", -EINVAL, 0},
        {"10.01.0.1", -EINVAL, 0}, /* leading zeros are refused since Go 1.17 */
        {"1.2.3", -EINVAL, 0},
        {"1.2.3.4.5", -EINVAL, 0},
        {"1..2.3", -EINVAL, 0},
        {"", -EINVAL, 0},
        {" 1.2.3.4", -EINVAL, 0},
        {"1.2.3.4 ", -EINVAL, 0},
        {"a.b.c.d", -EINVAL, 0},
        {"1234.0.0.1", -EINVAL, 0},
        {"fd00::1", -EAFNOSUPPORT, 0},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        uint32_t ip = 0;
        int rc = kl_ipam_parse_ip4(cases[i].in, &ip);
        if (rc != cases[i].rc)
            fail_msg("parse_ip4(\"%s\") = %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc == 0)
            assert_int_equal(ip, cases[i].ip);
    }
    char buf[KL_IPAM_IP4_STRLEN];
    assert_string_equal(kl_ipam_ip4_str(IP4(10, 244, 77, 254), buf), "10.244.77.254");
    assert_string_equal(kl_ipam_ip4_str(0xffffffffu, buf), "255.255.255.255");
}

static void parse_cidr_accepts_go_forms(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        uint32_t ip;
        unsigned prefix;
    } cases[] = {
        {"10.244.0.0/16", 0, IP4(10, 244, 0, 0), 16},
        {"10.244.77.5/24", 0, IP4(10, 244, 77, 5), 24}, /* host bits kept as written */
        {"0.0.0.0/0", 0, 0, 0},
        {"10.0.0.0/08", 0, IP4(10, 0, 0, 0), 8}, /* Go's dtoi takes leading zeros */
        {"10.0.0.0/32", 0, IP4(10, 0, 0, 0), 32},
        {"10.0.0.0/33", -EINVAL, 0, 0},
        {"10.0.0.0/", -EINVAL, 0, 0},
        {"10.0.0.0", -EINVAL, 0, 0},
        {"/24", -EINVAL, 0, 0},
        {"10.0.0.0/24x", -EINVAL, 0, 0},
        {"10.0.0.0/-1", -EINVAL, 0, 0},
        {"fd00::/64", -EAFNOSUPPORT, 0, 0},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        uint32_t ip = 0;
        unsigned prefix = 99;
        int rc = kl_ipam_parse_cidr(cases[i].in, &ip, &prefix);
        if (rc != cases[i].rc)
            fail_msg("parse_cidr(\"%s\") = %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc == 0) {
            assert_int_equal(ip, cases[i].ip);
            assert_int_equal(prefix, cases[i].prefix);
        }
    }
    assert_int_equal(kl_ipam_mask(24), 0xffffff00u);
    assert_int_equal(kl_ipam_mask(0), 0);
    assert_int_equal(kl_ipam_mask(32), 0xffffffffu);
}

/* ---- ranges ---- */

static void range_defaults_reserve_network_gateway_broadcast(void **state)
{
    (void)state;
    struct kl_ipam_range r;
    struct kl_cni_error e = {0};
    assert_int_equal(kl_ipam_range_init(&r, "10.244.77.0/24", NULL, NULL, NULL, &e), 0);
    assert_int_equal(r.subnet, IP4(10, 244, 77, 0));
    assert_int_equal(r.prefix, 24);
    assert_int_equal(r.gateway, IP4(10, 244, 77, 1));
    assert_int_equal(r.start, IP4(10, 244, 77, 1)); /* the gateway is skipped by the iterator */
    assert_int_equal(r.end, IP4(10, 244, 77, 254)); /* never the broadcast address */

    assert_int_equal(
        kl_ipam_range_init(&r, "10.10.0.0/16", "10.10.1.20", "10.10.3.50", "10.10.0.254", &e), 0);
    assert_int_equal(r.start, IP4(10, 10, 1, 20));
    assert_int_equal(r.end, IP4(10, 10, 3, 50));
    assert_int_equal(r.gateway, IP4(10, 10, 0, 254));

    /* a /30 has exactly two usable addresses, the first being the gateway */
    assert_int_equal(kl_ipam_range_init(&r, "192.168.5.0/30", NULL, NULL, NULL, &e), 0);
    assert_int_equal(r.start, IP4(192, 168, 5, 1));
    assert_int_equal(r.end, IP4(192, 168, 5, 2));
}

static void range_errors_use_upstream_messages(void **state)
{
    (void)state;
    static const struct {
        const char *subnet, *start, *end, *gw;
        unsigned code;
        const char *msg;
    } cases[] = {
        {"10.0.0.0/31", NULL, NULL, NULL, KL_CNI_ERR_INVALID_CONFIG,
         "Network 10.0.0.0/31 too small to allocate from"},
        {"10.0.0.7/32", NULL, NULL, NULL, KL_CNI_ERR_INVALID_CONFIG,
         "Network 10.0.0.7/32 too small to allocate from"},
        {"10.244.77.5/24", NULL, NULL, NULL, KL_CNI_ERR_INVALID_CONFIG,
         "Network has host bits set. For a subnet mask of length 24 the network address is "
         "10.244.77.0"},
        {"10.0.0.0/24", "10.1.0.5", NULL, NULL, KL_CNI_ERR_INVALID_CONFIG,
         "RangeStart 10.1.0.5 not in network 10.0.0.0/24"},
        {"10.0.0.0/24", NULL, "10.0.1.0", NULL, KL_CNI_ERR_INVALID_CONFIG,
         "RangeEnd 10.0.1.0 not in network 10.0.0.0/24"},
        {"10.0.0.0/24", "10.0.0.9", "10.0.0.3", NULL, KL_CNI_ERR_INVALID_CONFIG,
         "RangeStart 10.0.0.9 is after RangeEnd 10.0.0.3"},
        {"banana", NULL, NULL, NULL, KL_CNI_ERR_DECODE, "invalid CIDR address: banana"},
        {"10.0.0.0/24", "10.0.0.300", NULL, NULL, KL_CNI_ERR_DECODE,
         "invalid IP address: 10.0.0.300"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct kl_ipam_range r;
        struct kl_cni_error e = {0};
        int rc =
            kl_ipam_range_init(&r, cases[i].subnet, cases[i].start, cases[i].end, cases[i].gw, &e);
        assert_true(rc < 0);
        assert_int_equal(e.code, cases[i].code);
        assert_string_equal(e.msg, cases[i].msg);
    }
}

static int parse_conf(const char *json, struct kl_ipam_conf *c, struct kl_cni_error *e)
{
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    int rc = kl_ipam_conf_parse(j, c, e);
    cJSON_Delete(j);
    return rc;
}

static void conf_parses_legacy_and_ranges(void **state)
{
    (void)state;
    struct kl_ipam_conf c;
    struct kl_cni_error e = {0};
    assert_int_equal(parse_conf("{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":"
                                "\"10.1.0.0/24\"},{\"subnet\":\"10.2.0.0/24\",\"rangeStart\":"
                                "\"10.2.0.10\"}]],\"routes\":[{\"dst\":\"0.0.0.0/0\"},"
                                "{\"dst\":\"192.168.0.0/16\",\"gw\":\"10.1.0.5\"}],"
                                "\"dataDir\":\"/run/x\"}",
                                &c, &e),
                     0);
    assert_int_equal(c.n_ranges, 2);
    assert_int_equal(c.ranges[0].subnet, IP4(10, 1, 0, 0));
    assert_int_equal(c.ranges[1].start, IP4(10, 2, 0, 10));
    assert_int_equal(c.n_routes, 2);
    assert_false(c.routes[0].has_gw);
    assert_int_equal(c.routes[0].prefix, 0);
    assert_true(c.routes[1].has_gw);
    assert_int_equal(c.routes[1].gw, IP4(10, 1, 0, 5));
    assert_string_equal(c.data_dir, "/run/x");
    char buf[128];
    kl_ipam_rangeset_str(&c, buf, sizeof(buf));
    assert_string_equal(buf, "10.1.0.1-10.1.0.254,10.2.0.10-10.2.0.254");

    /* the legacy top-level range alone */
    assert_int_equal(parse_conf("{\"type\":\"host-local\",\"subnet\":\"10.3.0.0/16\","
                                "\"rangeStart\":\"10.3.1.20\",\"gateway\":\"10.3.0.254\"}",
                                &c, &e),
                     0);
    assert_int_equal(c.n_ranges, 1);
    assert_int_equal(c.ranges[0].start, IP4(10, 3, 1, 20));
    assert_int_equal(c.ranges[0].gateway, IP4(10, 3, 0, 254));
    assert_string_equal(c.data_dir, "");
}

static void conf_rejects_what_upstream_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        unsigned code;
        const char *msg;
    } cases[] = {
        {"{\"type\":\"host-local\"}", KL_CNI_ERR_INVALID_CONFIG, "no IP ranges specified"},
        {"{\"type\":\"host-local\",\"ranges\":[[]]}", KL_CNI_ERR_INVALID_CONFIG,
         "invalid range set 0: empty range set"},
        {"{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"},"
         "{\"subnet\":\"10.0.0.0/24\",\"rangeStart\":\"10.0.0.10\",\"rangeEnd\":\"10.0.0.20\"}]]}",
         KL_CNI_ERR_INVALID_CONFIG,
         "invalid range set 0: subnets 10.0.0.1-10.0.0.254 and 10.0.0.10-10.0.0.20 overlap"},
        {"{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.0.0.1/24\"}]]}",
         KL_CNI_ERR_INVALID_CONFIG,
         "invalid range set 0: Network has host bits set. For a subnet mask of length 24 the "
         "network address is 10.0.0.0"},
        {"{\"type\":\"dhcp\"}", KL_CNI_ERR_UNSUPPORTED_FIELD,
         "ipam type \"dhcp\" is not supported by ckube-bridge (use \"host-local\")"},
        {"{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"}],"
         "[{\"subnet\":\"10.1.0.0/24\"}]]}",
         KL_CNI_ERR_UNSUPPORTED_FIELD,
         "ipam: only one range set (one address per pod) is supported, got 2"},
        {"{\"type\":\"host-local\",\"subnet\":\"10.1.0.0/24\",\"ranges\":[[{\"subnet\":"
         "\"10.2.0.0/24\"}]]}",
         KL_CNI_ERR_UNSUPPORTED_FIELD,
         "ipam: only one range set (one address per pod) is supported, got 2"},
        {"{\"type\":\"host-local\",\"subnet\":\"fd00::/64\"}", KL_CNI_ERR_UNSUPPORTED_FIELD,
         "IPv6 subnet fd00::/64: ckube's host-local supports IPv4 only"},
        {"{\"type\":\"host-local\",\"subnet\":24}", KL_CNI_ERR_DECODE,
         "ipam: \"subnet\" must be a string"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        struct kl_ipam_conf c;
        struct kl_cni_error e = {0};
        assert_true(parse_conf(cases[i].json, &c, &e) < 0);
        assert_int_equal(e.code, cases[i].code);
        assert_string_equal(e.msg, cases[i].msg);
    }
    struct kl_ipam_conf c;
    struct kl_cni_error e = {0};
    assert_true(kl_ipam_conf_parse(NULL, &c, &e) < 0);
    assert_string_equal(e.msg, "IPAM config missing 'ipam' key");
}

/* ---- the iterator ---- */

static size_t walk(const struct kl_ipam_conf *c, bool have_last, uint32_t last, uint32_t *out,
                   size_t max)
{
    struct kl_ipam_iter it;
    kl_ipam_iter_init(&it, c, have_last, last);
    size_t n = 0;
    uint32_t ip;
    while (kl_ipam_iter_next(&it, &ip, NULL)) {
        if (n < max)
            out[n] = ip;
        n++;
        if (n > 100000)
            break; /* would be an endless walk */
    }
    return n;
}

static void iterator_skips_gateway_and_round_robins(void **state)
{
    (void)state;
    struct kl_ipam_conf c = {0};
    struct kl_cni_error e = {0};
    assert_int_equal(kl_ipam_range_init(&c.ranges[0], "10.244.77.0/24", NULL, NULL, NULL, &e), 0);
    c.n_ranges = 1;
    uint32_t seq[300];
    /* fresh: .2 first (.1 is the gateway), every usable address exactly once */
    size_t n = walk(&c, false, 0, seq, 300);
    assert_int_equal(n, 253);
    assert_int_equal(seq[0], IP4(10, 244, 77, 2));
    assert_int_equal(seq[252], IP4(10, 244, 77, 254));
    /* after .5 was handed out: resume at .6, wrap, and try .5 itself last */
    n = walk(&c, true, IP4(10, 244, 77, 5), seq, 300);
    assert_int_equal(n, 253);
    assert_int_equal(seq[0], IP4(10, 244, 77, 6));
    assert_int_equal(seq[248], IP4(10, 244, 77, 254));
    assert_int_equal(seq[249], IP4(10, 244, 77, 2));
    assert_int_equal(seq[252], IP4(10, 244, 77, 5));
    /* a last address outside the set (a changed config) starts over */
    n = walk(&c, true, IP4(10, 9, 9, 9), seq, 300);
    assert_int_equal(seq[0], IP4(10, 244, 77, 2));
    /* after the last address of the range, wrap to the first */
    n = walk(&c, true, IP4(10, 244, 77, 254), seq, 300);
    assert_int_equal(n, 253);
    assert_int_equal(seq[0], IP4(10, 244, 77, 2));
}

static void iterator_walks_several_ranges(void **state)
{
    (void)state;
    struct kl_ipam_conf c = {0};
    struct kl_cni_error e = {0};
    assert_int_equal(kl_ipam_range_init(&c.ranges[0], "10.0.0.0/29", NULL, NULL, NULL, &e), 0);
    assert_int_equal(kl_ipam_range_init(&c.ranges[1], "10.0.1.0/30", NULL, NULL, NULL, &e), 0);
    c.n_ranges = 2;
    uint32_t seq[16];
    size_t n = walk(&c, false, 0, seq, 16);
    assert_int_equal(n, 6); /* .2-.6 of the first, .2 of the second */
    assert_int_equal(seq[4], IP4(10, 0, 0, 6));
    assert_int_equal(seq[5], IP4(10, 0, 1, 2));
    n = walk(&c, true, IP4(10, 0, 0, 6), seq, 16);
    assert_int_equal(n, 6);
    assert_int_equal(seq[0], IP4(10, 0, 1, 2));
    assert_int_equal(seq[1], IP4(10, 0, 0, 2));
    char buf[64];
    kl_ipam_rangeset_str(&c, buf, sizeof(buf));
    assert_string_equal(buf, "10.0.0.1-10.0.0.6,10.0.1.1-10.0.1.2");

    /* a range holding only its gateway has nothing to give, and the walk still ends */
    struct kl_ipam_conf g = {0};
    assert_int_equal(
        kl_ipam_range_init(&g.ranges[0], "10.0.2.0/24", "10.0.2.1", "10.0.2.1", NULL, &e), 0);
    g.n_ranges = 1;
    assert_int_equal(walk(&g, false, 0, seq, 16), 0);
    assert_int_equal(walk(&g, true, IP4(10, 0, 2, 1), seq, 16), 0);
}

/* ---- the store ---- */

struct store_fixture {
    char dir[64];
};

static int store_setup(void **state)
{
    struct store_fixture *f = ck_xcalloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/ckcni-ipam-%d-XXXXXX", (int)getpid());
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int store_teardown(void **state)
{
    struct store_fixture *f = *state;
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void conf_for(struct kl_ipam_conf *c, const char *subnet, const char *start, const char *end)
{
    memset(c, 0, sizeof(*c));
    struct kl_cni_error e = {0};
    assert_int_equal(kl_ipam_range_init(&c->ranges[0], subnet, start, end, NULL, &e), 0);
    c->n_ranges = 1;
}

static void read_text(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    assert_true(n >= 0);
    buf[n] = '\0';
}

static void store_allocates_in_order_and_round_robins(void **state)
{
    struct store_fixture *f = *state;
    struct kl_ipam_conf c;
    conf_for(&c, "10.244.77.0/24", NULL, NULL);
    struct kl_ipam_lease l;
    struct kl_cni_error e = {0};
    assert_int_equal(kl_ipam_allocate(&c, f->dir, "net1", "c1", "eth0", &l, &e), 0);
    assert_int_equal(l.ip, IP4(10, 244, 77, 2));
    assert_int_equal(l.prefix, 24);
    assert_int_equal(l.gateway, IP4(10, 244, 77, 1));
    assert_int_equal(kl_ipam_allocate(&c, f->dir, "net1", "c2", "eth0", &l, &e), 0);
    assert_int_equal(l.ip, IP4(10, 244, 77, 3));

    /* the files upstream's host-local writes */
    char path[256], buf[128];
    snprintf(path, sizeof(path), "%s/net1/10.244.77.2", f->dir);
    read_text(path, buf, sizeof(buf));
    assert_string_equal(buf, "c1\r\neth0");
    snprintf(path, sizeof(path), "%s/net1/last_reserved_ip.0", f->dir);
    read_text(path, buf, sizeof(buf));
    assert_string_equal(buf, "10.244.77.3");
    snprintf(path, sizeof(path), "%s/net1/lock", f->dir);
    assert_int_equal(access(path, F_OK), 0);

    uint32_t ips[4];
    size_t n;
    assert_int_equal(kl_ipam_find(&c, f->dir, "net1", "c2", "eth0", ips, 4, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ips[0], IP4(10, 244, 77, 3));

    /* a released address is not handed out again at once */
    assert_int_equal(kl_ipam_release(&c, f->dir, "net1", "c1", "eth0", &e), 0);
    snprintf(path, sizeof(path), "%s/net1/10.244.77.2", f->dir);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(kl_ipam_allocate(&c, f->dir, "net1", "c3", "eth0", &l, &e), 0);
    assert_int_equal(l.ip, IP4(10, 244, 77, 4));
    /* release is idempotent, also for unknown containers and networks */
    assert_int_equal(kl_ipam_release(&c, f->dir, "net1", "c1", "eth0", &e), 0);
    assert_int_equal(kl_ipam_release(&c, f->dir, "nosuchnet", "c1", "eth0", &e), 0);
    assert_int_equal(kl_ipam_find(&c, f->dir, "net1", "c1", "eth0", ips, 4, &n, &e), 0);
    assert_int_equal(n, 0);
    /* the config's dataDir wins over the default */
    snprintf(c.data_dir, sizeof(c.data_dir), "%s/custom", f->dir);
    assert_int_equal(kl_ipam_allocate(&c, "/nonexistent-default", "net1", "c9", "eth0", &l, &e), 0);
    snprintf(path, sizeof(path), "%s/custom/net1/10.244.77.2", f->dir);
    assert_int_equal(access(path, F_OK), 0);
}

static void store_refuses_duplicates_and_reports_exhaustion(void **state)
{
    struct store_fixture *f = *state;
    struct kl_ipam_conf c;
    conf_for(&c, "10.244.78.0/24", "10.244.78.2", "10.244.78.3");
    struct kl_ipam_lease l;
    struct kl_cni_error e = {0};
    assert_int_equal(kl_ipam_allocate(&c, f->dir, "small", "a", "eth0", &l, &e), 0);
    assert_true(kl_ipam_allocate(&c, f->dir, "small", "a", "eth0", &l, &e) < 0);
    assert_string_equal(e.msg,
                        "10.244.78.2 has been allocated to a, duplicate allocation is not allowed");
    /* another interface of the same container is another attachment */
    assert_int_equal(kl_ipam_allocate(&c, f->dir, "small", "a", "net1", &l, &e), 0);
    assert_int_equal(l.ip, IP4(10, 244, 78, 3));
    memset(&e, 0, sizeof(e));
    assert_true(kl_ipam_allocate(&c, f->dir, "small", "b", "eth0", &l, &e) < 0);
    assert_int_equal(e.code, KL_CNI_ERR_INTERNAL);
    assert_string_equal(e.msg, "no IP addresses available in range set: 10.244.78.2-10.244.78.3");
    /* after a release the freed address is found by the wrap-around */
    assert_int_equal(kl_ipam_release(&c, f->dir, "small", "a", "eth0", &e), 0);
    assert_int_equal(kl_ipam_allocate(&c, f->dir, "small", "b", "eth0", &l, &e), 0);
    assert_int_equal(l.ip, IP4(10, 244, 78, 2));
}

static void store_reads_the_id_only_format(void **state)
{
    struct store_fixture *f = *state;
    struct kl_ipam_conf c;
    conf_for(&c, "10.244.79.0/24", NULL, NULL);
    struct kl_ipam_lease l;
    struct kl_cni_error e = {0};
    /* create the network dir, then plant a file as older host-local versions wrote it */
    assert_int_equal(kl_ipam_allocate(&c, f->dir, "old", "x", "eth0", &l, &e), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/old/10.244.79.9", f->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "legacy\n", 7), 7);
    close(fd);
    uint32_t ips[4];
    size_t n;
    assert_int_equal(kl_ipam_find(&c, f->dir, "old", "legacy", "eth0", ips, 4, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ips[0], IP4(10, 244, 79, 9));
    assert_int_equal(kl_ipam_release(&c, f->dir, "old", "legacy", "eth0", &e), 0);
    assert_int_equal(access(path, F_OK), -1);
    /* names that could leave the data dir are refused */
    assert_true(kl_ipam_allocate(&c, f->dir, "../escape", "x", "eth0", &l, &e) < 0);
    assert_string_equal(e.msg, "invalid characters found in network name");
    assert_true(kl_ipam_allocate(&c, f->dir, "old", "../x", "eth0", &l, &e) < 0);
    assert_string_equal(e.msg, "invalid characters in containerID");
    assert_true(kl_ipam_allocate(&c, f->dir, "old", "y", "eth0/x", &l, &e) < 0);
    assert_string_equal(e.msg, "interface name contains / or : or whitespace characters");
}

static void store_lock_serializes_processes(void **state)
{
    struct store_fixture *f = *state;
    struct kl_ipam_conf c;
    conf_for(&c, "10.244.80.0/24", NULL, NULL);
    enum { N = 12 };
    int pipes[N][2];
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(pipe(pipes[i]), 0);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            char id[16];
            snprintf(id, sizeof(id), "p%d", i);
            struct kl_ipam_lease l = {0};
            struct kl_cni_error e = {0};
            uint32_t ip = kl_ipam_allocate(&c, f->dir, "race", id, "eth0", &l, &e) == 0 ? l.ip : 0;
            ssize_t w = write(pipes[i][1], &ip, sizeof(ip));
            _exit(w == sizeof(ip) ? 0 : 1);
        }
        close(pipes[i][1]);
    }
    uint32_t got[N];
    for (int i = 0; i < N; i++) {
        int st;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_int_equal(read(pipes[i][0], &got[i], sizeof(got[i])), sizeof(got[i]));
        close(pipes[i][0]);
    }
    for (int i = 0; i < N; i++) {
        assert_true(got[i] >= IP4(10, 244, 80, 2) && got[i] <= IP4(10, 244, 80, 13));
        for (int j = 0; j < i; j++)
            assert_true(got[i] != got[j]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_ip4_follows_go_rules),
        cmocka_unit_test(parse_cidr_accepts_go_forms),
        cmocka_unit_test(range_defaults_reserve_network_gateway_broadcast),
        cmocka_unit_test(range_errors_use_upstream_messages),
        cmocka_unit_test(conf_parses_legacy_and_ranges),
        cmocka_unit_test(conf_rejects_what_upstream_rejects),
        cmocka_unit_test(iterator_skips_gateway_and_round_robins),
        cmocka_unit_test(iterator_walks_several_ranges),
        cmocka_unit_test_setup_teardown(store_allocates_in_order_and_round_robins, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(store_refuses_duplicates_and_reports_exhaustion,
                                        store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(store_reads_the_id_only_format, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(store_lock_serializes_processes, store_setup,
                                        store_teardown),
    };
    return cmocka_run_group_tests_name("ipam", tests, NULL, NULL);
}
