/* kubelet/cni/ipam.c - host-local IPAM: IPv4 ranges, the round-robin allocator and its
 * flock-protected state files (see ipam.h). */
#include "ipam.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mem.h"

#define LAST_RESERVED_FILE "last_reserved_ip.0" /* ".<range set index>", we have one set */
#define LOCK_FILE "lock"
#define STATE_FILE_MAX 4096 /* an allocation file is "<id>\r\n<ifname>" */

/* ---- addresses ---- */

uint32_t kl_ipam_mask(unsigned prefix)
{
    if (prefix == 0)
        return 0;
    if (prefix >= 32)
        return 0xffffffffu;
    return 0xffffffffu << (32 - prefix);
}

char *kl_ipam_ip4_str(uint32_t ip, char *buf)
{
    snprintf(buf, KL_IPAM_IP4_STRLEN, "%u.%u.%u.%u", (ip >> 24) & 0xff, (ip >> 16) & 0xff,
             (ip >> 8) & 0xff, ip & 0xff);
    return buf;
}

/* Reads a decimal field of at most 3 digits without a leading zero (Go's dtoi rules for
 * IPv4 fields) whose value is <= max; advances *p. */
static int parse_field(const char **p, unsigned max, unsigned *out)
{
    const char *s = *p;
    unsigned v = 0;
    size_t n = 0;
    while (isdigit((unsigned char)s[n]) && n < 4) {
        v = v * 10 + (unsigned)(s[n] - '0');
        n++;
    }
    if (n == 0 || n > 3 || v > max || (n > 1 && s[0] == '0'))
        return -EINVAL;
    *p = s + n;
    *out = v;
    return 0;
}

int kl_ipam_parse_ip4(const char *s, uint32_t *ip)
{
    if (!s)
        return -EINVAL;
    if (strchr(s, ':'))
        return -EAFNOSUPPORT;
    const char *p = s;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned f;
        if (i > 0 && *p++ != '.')
            return -EINVAL;
        if (parse_field(&p, 255, &f) < 0)
            return -EINVAL;
        v = (v << 8) | f;
    }
    if (*p != '\0')
        return -EINVAL;
    *ip = v;
    return 0;
}

int kl_ipam_parse_cidr(const char *s, uint32_t *ip, unsigned *prefix)
{
    if (!s)
        return -EINVAL;
    const char *slash = strchr(s, '/');
    if (!slash)
        return strchr(s, ':') ? -EAFNOSUPPORT : -EINVAL;
    size_t alen = (size_t)(slash - s);
    if (alen == 0 || alen >= 64)
        return -EINVAL;
    char addr[64];
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    int r = kl_ipam_parse_ip4(addr, ip);
    if (r < 0)
        return r;
    /* Go's ParseCIDR reads the length with dtoi: decimal digits, leading zeros allowed */
    const char *p = slash + 1;
    unsigned n = 0;
    size_t digits = 0;
    for (; isdigit((unsigned char)*p) && digits < 8; p++, digits++)
        n = n * 10 + (unsigned)(*p - '0');
    if (digits == 0 || *p != '\0' || n > 32)
        return -EINVAL;
    *prefix = n;
    return 0;
}

/* ---- ranges ---- */

static void cidr_str(uint32_t ip, unsigned prefix, char *buf, size_t size)
{
    char a[KL_IPAM_IP4_STRLEN];
    snprintf(buf, size, "%s/%u", kl_ipam_ip4_str(ip, a), prefix);
}

static bool in_subnet(const struct kl_ipam_range *r, uint32_t ip)
{
    return (ip & kl_ipam_mask(r->prefix)) == r->subnet;
}

/* Parses an optional IP field of a range; "invalid IP address: x" as Go's net.IP decoding. */
static int parse_range_ip(const char *s, uint32_t *ip, struct kl_cni_error *e)
{
    int r = kl_ipam_parse_ip4(s, ip);
    if (r == -EAFNOSUPPORT)
        return kl_cni_error_set(e, KL_CNI_ERR_UNSUPPORTED_FIELD,
                                "IPv6 address %s: ckube's host-local supports IPv4 only", s);
    if (r < 0)
        return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "invalid IP address: %s", s);
    return 0;
}

/* An optional rangeStart / rangeEnd (`what`): def when not given, else an address that must lie
 * in r's subnet (net, as text for the message). */
static int range_bound(const struct kl_ipam_range *r, const char *s, uint32_t def, const char *what,
                       const char *net, uint32_t *out, struct kl_cni_error *e)
{
    if (!s || !*s) {
        *out = def;
        return 0;
    }
    int rc = parse_range_ip(s, out, e);
    if (rc < 0)
        return rc;
    if (!in_subnet(r, *out))
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "%s %s not in network %s", what, s,
                                net);
    return 0;
}

int kl_ipam_range_init(struct kl_ipam_range *r, const char *subnet, const char *start,
                       const char *end, const char *gateway, struct kl_cni_error *e)
{
    memset(r, 0, sizeof(*r));
    if (!subnet || !*subnet)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "invalid CIDR address: ");
    uint32_t ip;
    unsigned prefix;
    int rc = kl_ipam_parse_cidr(subnet, &ip, &prefix);
    if (rc == -EAFNOSUPPORT)
        return kl_cni_error_set(e, KL_CNI_ERR_UNSUPPORTED_FIELD,
                                "IPv6 subnet %s: ckube's host-local supports IPv4 only", subnet);
    if (rc < 0)
        return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "invalid CIDR address: %s", subnet);
    char buf[64];
    /* a /31 or /32 has no address left once network and broadcast are taken */
    if (prefix > 30) {
        cidr_str(ip & kl_ipam_mask(prefix), prefix, buf, sizeof(buf));
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG,
                                "Network %s too small to allocate from", buf);
    }
    uint32_t net = ip & kl_ipam_mask(prefix);
    if (net != ip) {
        char a[KL_IPAM_IP4_STRLEN];
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG,
                                "Network has host bits set. For a subnet mask of length %u the "
                                "network address is %s",
                                prefix, kl_ipam_ip4_str(net, a));
    }
    r->subnet = net;
    r->prefix = prefix;
    uint32_t bcast = net | ~kl_ipam_mask(prefix);
    cidr_str(net, prefix, buf, sizeof(buf));

    if (gateway && *gateway) {
        if ((rc = parse_range_ip(gateway, &r->gateway, e)) < 0)
            return rc;
    } else {
        r->gateway = net + 1;
    }
    if ((rc = range_bound(r, start, net + 1, "RangeStart", buf, &r->start, e)) < 0 ||
        (rc = range_bound(r, end, bcast - 1, "RangeEnd", buf, &r->end, e)) < 0)
        return rc;
    /* upstream does not check this; an inverted range would make its iterator walk the whole
     * address space, so refuse it */
    if (r->start > r->end) {
        char a[KL_IPAM_IP4_STRLEN], b[KL_IPAM_IP4_STRLEN];
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "RangeStart %s is after RangeEnd %s",
                                kl_ipam_ip4_str(r->start, a), kl_ipam_ip4_str(r->end, b));
    }
    return 0;
}

static bool range_contains(const struct kl_ipam_range *r, uint32_t ip)
{
    return in_subnet(r, ip) && ip >= r->start && ip <= r->end;
}

bool kl_ipam_contains(const struct kl_ipam_conf *c, uint32_t ip, size_t *idx)
{
    for (size_t i = 0; i < c->n_ranges; i++) {
        if (range_contains(&c->ranges[i], ip)) {
            if (idx)
                *idx = i;
            return true;
        }
    }
    return false;
}

static void range_str(const struct kl_ipam_range *r, char *buf, size_t size)
{
    char a[KL_IPAM_IP4_STRLEN], b[KL_IPAM_IP4_STRLEN];
    snprintf(buf, size, "%s-%s", kl_ipam_ip4_str(r->start, a), kl_ipam_ip4_str(r->end, b));
}

void kl_ipam_rangeset_str(const struct kl_ipam_conf *c, char *buf, size_t size)
{
    if (size == 0)
        return;
    buf[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < c->n_ranges && len + 1 < size; i++) {
        char one[40];
        range_str(&c->ranges[i], one, sizeof(one));
        int n = snprintf(buf + len, size - len, "%s%s", i ? "," : "", one);
        if (n < 0)
            break;
        len += (size_t)n;
    }
}

/* The string value of a member, NULL when absent; -EINVAL (with e) when present but not a
 * string, as Go's decoder refuses a number where it wants a string. */
static int opt_string(const cJSON *obj, const char *key, const char **out, struct kl_cni_error *e)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "ipam: \"%s\" must be a string", key);
    *out = v->valuestring;
    return 0;
}

static int parse_range_obj(const cJSON *obj, struct kl_ipam_range *r, struct kl_cni_error *e)
{
    const char *subnet, *start, *end, *gw;
    int rc;
    if (!cJSON_IsObject(obj))
        return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "ipam: a range must be an object");
    if ((rc = opt_string(obj, "subnet", &subnet, e)) < 0 ||
        (rc = opt_string(obj, "rangeStart", &start, e)) < 0 ||
        (rc = opt_string(obj, "rangeEnd", &end, e)) < 0 ||
        (rc = opt_string(obj, "gateway", &gw, e)) < 0)
        return rc;
    return kl_ipam_range_init(r, subnet, start, end, gw, e);
}

static bool ranges_overlap(const struct kl_ipam_range *a, const struct kl_ipam_range *b)
{
    return range_contains(a, b->start) || range_contains(a, b->end) ||
           range_contains(b, a->start) || range_contains(b, a->end);
}

static int add_range(struct kl_ipam_conf *c, const struct kl_ipam_range *r, struct kl_cni_error *e)
{
    if (c->n_ranges >= KL_IPAM_MAX_RANGES)
        return kl_cni_error_set(e, KL_CNI_ERR_UNSUPPORTED_FIELD,
                                "ipam: at most %d ranges are supported", KL_IPAM_MAX_RANGES);
    c->ranges[c->n_ranges++] = *r;
    return 0;
}

static int parse_ranges(const cJSON *ipam, struct kl_ipam_conf *c, struct kl_cni_error *e)
{
    int rc;
    struct kl_ipam_range r;
    const cJSON *subnet = cJSON_GetObjectItemCaseSensitive(ipam, "subnet");
    /* the legacy single range at the top of "ipam" comes first, as upstream prepends it */
    if (subnet && !cJSON_IsNull(subnet)) {
        if ((rc = parse_range_obj(ipam, &r, e)) < 0)
            goto bad_set;
        if ((rc = add_range(c, &r, e)) < 0)
            return rc;
    }
    const cJSON *ranges = cJSON_GetObjectItemCaseSensitive(ipam, "ranges");
    if (ranges && !cJSON_IsNull(ranges)) {
        if (!cJSON_IsArray(ranges))
            return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "ipam: \"ranges\" must be a list");
        int nsets = cJSON_GetArraySize(ranges);
        if (nsets + (c->n_ranges ? 1 : 0) > 1)
            return kl_cni_error_set(e, KL_CNI_ERR_UNSUPPORTED_FIELD,
                                    "ipam: only one range set (one address per pod) is "
                                    "supported, got %d",
                                    nsets + (c->n_ranges ? 1 : 0));
        const cJSON *set = cJSON_GetArrayItem(ranges, 0);
        if (set) {
            if (!cJSON_IsArray(set))
                return kl_cni_error_set(e, KL_CNI_ERR_DECODE,
                                        "ipam: each range set must be a list");
            if (cJSON_GetArraySize(set) == 0) {
                rc = kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "empty range set");
                goto bad_set;
            }
            const cJSON *it;
            cJSON_ArrayForEach(it, set)
            {
                if ((rc = parse_range_obj(it, &r, e)) < 0)
                    goto bad_set;
                if ((rc = add_range(c, &r, e)) < 0)
                    return rc;
            }
        }
    }
    if (c->n_ranges == 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "no IP ranges specified");
    for (size_t i = 0; i + 1 < c->n_ranges; i++) {
        for (size_t j = i + 1; j < c->n_ranges; j++) {
            if (ranges_overlap(&c->ranges[i], &c->ranges[j])) {
                char a[40], b[40];
                range_str(&c->ranges[i], a, sizeof(a));
                range_str(&c->ranges[j], b, sizeof(b));
                rc = kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "subnets %s and %s overlap", a,
                                      b);
                goto bad_set;
            }
        }
    }
    return 0;
bad_set:
    /* upstream wraps range validation errors as "invalid range set N: ..." (decoding errors
     * come from its JSON decoder, unwrapped) */
    if (e && e->code == KL_CNI_ERR_INVALID_CONFIG) {
        static const char prefix[] = "invalid range set 0: ";
        size_t plen = sizeof(prefix) - 1, mlen = strnlen(e->msg, sizeof(e->msg) - 1);
        if (mlen + plen >= sizeof(e->msg))
            mlen = sizeof(e->msg) - 1 - plen;
        memmove(e->msg + plen, e->msg, mlen);
        memcpy(e->msg, prefix, plen);
        e->msg[plen + mlen] = '\0';
    }
    return rc;
}

static int parse_routes(const cJSON *ipam, struct kl_ipam_conf *c, struct kl_cni_error *e)
{
    const cJSON *routes = cJSON_GetObjectItemCaseSensitive(ipam, "routes");
    if (!routes || cJSON_IsNull(routes))
        return 0;
    if (!cJSON_IsArray(routes))
        return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "ipam: \"routes\" must be a list");
    const cJSON *it;
    cJSON_ArrayForEach(it, routes)
    {
        if (c->n_routes >= KL_IPAM_MAX_ROUTES)
            return kl_cni_error_set(e, KL_CNI_ERR_UNSUPPORTED_FIELD,
                                    "ipam: at most %d routes are supported", KL_IPAM_MAX_ROUTES);
        if (!cJSON_IsObject(it))
            return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "ipam: a route must be an object");
        const char *dst, *gw;
        int rc;
        if ((rc = opt_string(it, "dst", &dst, e)) < 0 || (rc = opt_string(it, "gw", &gw, e)) < 0)
            return rc;
        struct kl_ipam_route *rt = &c->routes[c->n_routes];
        memset(rt, 0, sizeof(*rt));
        rc = dst ? kl_ipam_parse_cidr(dst, &rt->dst, &rt->prefix) : -EINVAL;
        if (rc == -EAFNOSUPPORT)
            return kl_cni_error_set(e, KL_CNI_ERR_UNSUPPORTED_FIELD,
                                    "IPv6 route %s: ckube's host-local supports IPv4 only", dst);
        if (rc < 0)
            return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "invalid CIDR address: %s",
                                    dst ? dst : "");
        rt->dst &= kl_ipam_mask(rt->prefix);
        if (gw) {
            if ((rc = parse_range_ip(gw, &rt->gw, e)) < 0)
                return rc;
            rt->has_gw = true;
        }
        c->n_routes++;
    }
    return 0;
}

int kl_ipam_conf_parse(const cJSON *ipam, struct kl_ipam_conf *c, struct kl_cni_error *e)
{
    memset(c, 0, sizeof(*c));
    if (!ipam || cJSON_IsNull(ipam))
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "IPAM config missing 'ipam' key");
    if (!cJSON_IsObject(ipam))
        return kl_cni_error_set(e, KL_CNI_ERR_DECODE, "ipam: must be an object");
    const char *type, *dir;
    int rc;
    if ((rc = opt_string(ipam, "type", &type, e)) < 0)
        return rc;
    if (!type || strcmp(type, "host-local") != 0)
        return kl_cni_error_set(e, KL_CNI_ERR_UNSUPPORTED_FIELD,
                                "ipam type \"%s\" is not supported by %s (use \"host-local\")",
                                type ? type : "", KL_CNI_BRIDGE_TYPE);
    if ((rc = parse_ranges(ipam, c, e)) < 0 || (rc = parse_routes(ipam, c, e)) < 0)
        return rc;
    if ((rc = opt_string(ipam, "dataDir", &dir, e)) < 0)
        return rc;
    if (dir && ck_snprintf(c->data_dir, sizeof(c->data_dir), "%s", dir) < 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "ipam: dataDir is too long");
    return 0;
}

/* ---- the round-robin iterator ---- */

void kl_ipam_iter_init(struct kl_ipam_iter *it, const struct kl_ipam_conf *c, bool have_last,
                       uint32_t last)
{
    memset(it, 0, sizeof(*it));
    it->c = c;
    it->done = c->n_ranges == 0;
    size_t idx;
    if (have_last && kl_ipam_contains(c, last, &idx)) {
        /* the first step moves past last */
        it->idx = it->start_idx = idx;
        it->cur = last;
        it->have_cur = true;
    } else if (!it->done) {
        it->start_ip = c->ranges[0].start;
        it->have_start = true;
    }
}

bool kl_ipam_iter_next(struct kl_ipam_iter *it, uint32_t *ip, size_t *idx)
{
    /* each pass of the loop advances one address; the walk ends when it comes back to where it
     * started, so it runs at most (addresses in the set + 1) times */
    while (!it->done) {
        const struct kl_ipam_range *r = &it->c->ranges[it->idx];
        if (!it->have_cur) {
            it->cur = r->start;
            it->start_ip = it->cur;
            it->have_start = true;
            it->have_cur = true;
        } else {
            if (it->cur == r->end) {
                it->idx = (it->idx + 1) % it->c->n_ranges;
                r = &it->c->ranges[it->idx];
                it->cur = r->start;
            } else {
                it->cur++;
            }
            if (!it->have_start) {
                /* remember the range too: the first step may already have left last's range
                 * (upstream keeps last's range here and never stops on a full set then) */
                it->start_ip = it->cur;
                it->start_idx = it->idx;
                it->have_start = true;
            } else if (it->idx == it->start_idx && it->cur == it->start_ip) {
                it->done = true;
                return false;
            }
        }
        if (it->cur == r->gateway)
            continue;
        *ip = it->cur;
        if (idx)
            *idx = it->idx;
        return true;
    }
    return false;
}

/* ---- the store ---- */

struct store {
    char dir[PATH_MAX];
    int lock_fd;
};

/* Opens <dir>/<network> (creating it when create) and takes its lock. -ENOENT when the dir
 * does not exist and create is false. */
static int store_open(struct store *s, const struct kl_ipam_conf *c, const char *default_dir,
                      const char *network, bool create, struct kl_cni_error *e)
{
    s->lock_fd = -1;
    int rc = kl_cni_validate_network_name(network, e);
    if (rc < 0)
        return rc;
    const char *base = c->data_dir[0]                  ? c->data_dir
                       : (default_dir && *default_dir) ? default_dir
                                                       : KL_CNI_DEFAULT_IPAM_DIR;
    if (ck_snprintf(s->dir, sizeof(s->dir), "%s/%s", base, network) < 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "ipam: data dir path too long");
    if (create) {
        rc = kl_cni_mkdir_p(s->dir, 0755);
        if (rc < 0)
            return kl_cni_error_set(e, KL_CNI_ERR_IO, "mkdir %s: %s", s->dir, strerror(-rc));
    }
    char lock[PATH_MAX];
    if (ck_snprintf(lock, sizeof(lock), "%s/" LOCK_FILE, s->dir) < 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "ipam: data dir path too long");
    s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0) {
        rc = -errno;
        if (!create && rc == -ENOENT)
            return rc;
        return kl_cni_error_set(e, KL_CNI_ERR_IO, "open %s: %s", lock, strerror(-rc));
    }
    while (flock(s->lock_fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        rc = -errno;
        close(s->lock_fd);
        s->lock_fd = -1;
        return kl_cni_error_set(e, KL_CNI_ERR_IO, "flock %s: %s", lock, strerror(-rc));
    }
    return 0;
}

static void store_close(struct store *s)
{
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* drops the flock */
    s->lock_fd = -1;
}

/* Reads a small file whole (NUL-terminated, at most size-1 bytes); -EFBIG when larger. */
static int read_small(int dirfd, const char *name, char *buf, size_t size)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    for (;;) {
        if (len + 1 >= size) {
            close(fd);
            return -EFBIG;
        }
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int rc = -errno;
            close(fd);
            return rc;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (int)len;
}

/* Go's strings.TrimSpace for ASCII whitespace, in place. */
static char *trim_space(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

enum match { MATCH_NONE, MATCH_NEW, MATCH_OLD };

/* Whether an allocation file's contents name (id, ifname) - or only id, the format before
 * upstream stored the interface name. */
static enum match owner_matches(char *contents, const char *id, const char *ifname)
{
    char *t = trim_space(contents);
    size_t idlen = strlen(id);
    if (strncmp(t, id, idlen) == 0 && strncmp(t + idlen, "\r\n", 2) == 0 &&
        strcmp(t + idlen + 2, ifname) == 0)
        return MATCH_NEW;
    return strcmp(t, id) == 0 ? MATCH_OLD : MATCH_NONE;
}

/* Calls fn for every allocation file (named by an IPv4 address) whose owner matches. */
typedef void (*owned_fn)(int dirfd, const char *name, uint32_t ip, enum match m, void *ctx);

static int walk_owned(const struct store *s, const char *id, const char *ifname, owned_fn fn,
                      void *ctx)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return -errno;
    char trimmed_id[256];
    if (ck_snprintf(trimmed_id, sizeof(trimmed_id), "%s", id) < 0) {
        closedir(d);
        return -ENAMETOOLONG;
    }
    const char *want = trim_space(trimmed_id);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint32_t ip;
        if (kl_ipam_parse_ip4(de->d_name, &ip) < 0)
            continue;
        char buf[STATE_FILE_MAX];
        if (read_small(dirfd(d), de->d_name, buf, sizeof(buf)) < 0)
            continue;
        enum match m = owner_matches(buf, want, ifname);
        if (m != MATCH_NONE)
            fn(dirfd(d), de->d_name, ip, m, ctx);
    }
    closedir(d);
    return 0;
}

struct found {
    uint32_t *ips;
    size_t max, n;
};

static void collect(int dirfd, const char *name, uint32_t ip, enum match m, void *ctx)
{
    (void)dirfd;
    (void)name;
    (void)m;
    struct found *f = ctx;
    if (f->n < f->max)
        f->ips[f->n] = ip;
    f->n++;
}

static int read_last_reserved(const struct store *s, uint32_t *ip)
{
    int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    char buf[64];
    int rc = read_small(dfd, LAST_RESERVED_FILE, buf, sizeof(buf));
    close(dfd);
    if (rc < 0)
        return rc;
    return kl_ipam_parse_ip4(trim_space(buf), ip);
}

/* Claims ip for (id, ifname): 1 when claimed, 0 when the file already exists, <0 on error. */
static int reserve(const struct store *s, uint32_t ip, const char *id, const char *ifname)
{
    char a[KL_IPAM_IP4_STRLEN], path[PATH_MAX];
    if (ck_snprintf(path, sizeof(path), "%s/%s", s->dir, kl_ipam_ip4_str(ip, a)) < 0)
        return -ENAMETOOLONG;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? 0 : -errno;
    CK_AUTOFREE char *contents = ck_xasprintf("%s\r\n%s", id, ifname);
    int rc = kl_cni_write_all(fd, contents, strlen(contents));
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        unlink(path);
        return rc;
    }
    /* remember where the round robin stands (upstream writes it in place, so do we) */
    if (ck_snprintf(path, sizeof(path), "%s/" LAST_RESERVED_FILE, s->dir) < 0)
        return 1;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || kl_cni_write_all(fd, a, strlen(a)) < 0)
        ck_warn("ipam: cannot record %s in %s: %s", a, path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return 1;
}

int kl_ipam_allocate(const struct kl_ipam_conf *c, const char *default_dir, const char *network,
                     const char *id, const char *ifname, struct kl_ipam_lease *out,
                     struct kl_cni_error *e)
{
    int rc;
    if ((rc = kl_cni_validate_container_id(id, e)) < 0 ||
        (rc = kl_cni_validate_ifname(ifname, e)) < 0)
        return rc;
    if (c->n_ranges == 0)
        return kl_cni_error_set(e, KL_CNI_ERR_INVALID_CONFIG, "no IP ranges specified");
    struct store s;
    if ((rc = store_open(&s, c, default_dir, network, true, e)) < 0)
        return rc;

    /* the spec forbids a second ADD for the same attachment */
    uint32_t held[4];
    struct found f = {held, CK_ARRAY_SIZE(held), 0};
    if ((rc = walk_owned(&s, id, ifname, collect, &f)) < 0) {
        store_close(&s);
        return kl_cni_error_set(e, KL_CNI_ERR_IO, "read %s: %s", s.dir, strerror(-rc));
    }
    for (size_t i = 0; i < f.n && i < f.max; i++) {
        if (kl_ipam_contains(c, held[i], NULL)) {
            char a[KL_IPAM_IP4_STRLEN];
            store_close(&s);
            return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL,
                                    "%s has been allocated to %s, duplicate allocation is not "
                                    "allowed",
                                    kl_ipam_ip4_str(held[i], a), id);
        }
    }

    uint32_t last = 0;
    bool have_last = read_last_reserved(&s, &last) == 0;
    struct kl_ipam_iter it;
    kl_ipam_iter_init(&it, c, have_last, last);
    uint32_t ip;
    size_t idx;
    while (kl_ipam_iter_next(&it, &ip, &idx)) {
        rc = reserve(&s, ip, id, ifname);
        if (rc < 0) {
            char a[KL_IPAM_IP4_STRLEN];
            store_close(&s);
            return kl_cni_error_set(e, KL_CNI_ERR_IO, "reserve %s in %s: %s",
                                    kl_ipam_ip4_str(ip, a), s.dir, strerror(-rc));
        }
        if (rc == 1) {
            store_close(&s);
            out->ip = ip;
            out->prefix = c->ranges[idx].prefix;
            out->gateway = c->ranges[idx].gateway;
            return 0;
        }
    }
    store_close(&s);
    char set[KL_IPAM_MAX_RANGES * 34];
    kl_ipam_rangeset_str(c, set, sizeof(set));
    return kl_cni_error_set(e, KL_CNI_ERR_INTERNAL, "no IP addresses available in range set: %s",
                            set);
}

struct release_ctx {
    enum match only;
    size_t removed;
};

static void remove_owned(int dirfd, const char *name, uint32_t ip, enum match m, void *ctx)
{
    (void)ip;
    struct release_ctx *rc = ctx;
    if (m != rc->only)
        return;
    if (unlinkat(dirfd, name, 0) == 0)
        rc->removed++;
    else
        ck_warn("ipam: cannot release %s: %s", name, strerror(errno));
}

/* Checks the attachment's names and opens the network's store when it exists: 1 when open (the
 * caller closes it), 0 when nothing was ever allocated in the network, or a negative errno. */
static int store_open_existing(struct store *s, const struct kl_ipam_conf *c,
                               const char *default_dir, const char *network, const char *id,
                               const char *ifname, struct kl_cni_error *e)
{
    int rc;
    if ((rc = kl_cni_validate_container_id(id, e)) < 0 ||
        (rc = kl_cni_validate_ifname(ifname, e)) < 0)
        return rc;
    rc = store_open(s, c, default_dir, network, false, e);
    return rc == -ENOENT ? 0 : rc < 0 ? rc : 1;
}

int kl_ipam_release(const struct kl_ipam_conf *c, const char *default_dir, const char *network,
                    const char *id, const char *ifname, struct kl_cni_error *e)
{
    struct store s;
    int rc = store_open_existing(&s, c, default_dir, network, id, ifname, e);
    if (rc <= 0)
        return rc;
    /* files naming the interface first; the older id-only files only when there are none */
    struct release_ctx ctx = {MATCH_NEW, 0};
    rc = walk_owned(&s, id, ifname, remove_owned, &ctx);
    if (rc == 0 && ctx.removed == 0) {
        ctx.only = MATCH_OLD;
        rc = walk_owned(&s, id, ifname, remove_owned, &ctx);
    }
    store_close(&s);
    if (rc < 0 && rc != -ENOENT)
        return kl_cni_error_set(e, KL_CNI_ERR_IO, "read %s: %s", s.dir, strerror(-rc));
    return 0;
}

int kl_ipam_find(const struct kl_ipam_conf *c, const char *default_dir, const char *network,
                 const char *id, const char *ifname, uint32_t *ips, size_t max, size_t *n,
                 struct kl_cni_error *e)
{
    *n = 0;
    struct store s;
    int rc = store_open_existing(&s, c, default_dir, network, id, ifname, e);
    if (rc <= 0)
        return rc;
    struct found f = {ips, max, 0};
    rc = walk_owned(&s, id, ifname, collect, &f);
    store_close(&s);
    if (rc < 0)
        return kl_cni_error_set(e, KL_CNI_ERR_IO, "read %s: %s", s.dir, strerror(-rc));
    *n = f.n;
    return 0;
}
