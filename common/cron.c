/* cron.c - cron schedules and TZif time zones (see cron.h). Written after the behaviour of
 * robfig/cron v3 (parser.go, spec.go) and Go's time package (zoneinfo_read.go, zoneinfo.go);
 * the calendar arithmetic is Howard Hinnant's days-from-civil algorithm. */
#include "cron.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mem.h"
#include "timeutil.h"
#include "validation.h"

#define DAY INT64_C(86400)
#define TZ_MAX_FILE (1u << 20)
#define TZ_MAX_TRANSITIONS 100000u
/* Go's "omega": the end of a zone period that never ends. */
#define OMEGA INT64_MAX
#define ALPHA INT64_MIN
#define TZ_RULE_T_MAX (INT64_C(100000000) * 366 * 86400) /* ~ year 100 million */

/* ---- civil calendar ---- */

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int64_t floormod(int64_t a, int64_t b)
{
    return a - floordiv(a, b) * b;
}

/* Days since 1970-01-01 of year y, month m (1..12), day d (any, counted on from the 1st). */
static int64_t days_from_civil(int64_t y, int m, int64_t d)
{
    y -= m <= 2;
    int64_t era = floordiv(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct civil {
    int64_t year;
    int mon, day, hour, min, sec, wday; /* wday 0 = Sunday */
};

/* Broken-down fields of `local` seconds (already shifted by the zone offset). */
static void civil_of(int64_t local, struct civil *c)
{
    int64_t days = floordiv(local, DAY), rem = local - days * DAY;
    c->hour = (int)(rem / 3600);
    c->min = (int)(rem / 60 % 60);
    c->sec = (int)(rem % 60);
    c->wday = (int)floormod(days + 4, 7);
    int64_t z = days + 719468;
    int64_t era = floordiv(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    c->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    c->year = yoe + era * 400 + (c->mon <= 2);
}

static bool is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in(int mon, int64_t y)
{
    static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return mon == 2 && is_leap(y) ? 29 : n[mon - 1];
}

/* ---- time zones ---- */

struct tz_type {
    int32_t off;
    bool dst;
};

enum rule_kind { RULE_JULIAN, RULE_DOY, RULE_MWD };

struct tz_rule {
    enum rule_kind kind;
    int day, week, mon;
    int32_t time; /* seconds after local midnight */
};

struct ck_tz {
    char *name;
    bool utc;
    size_t ntx, ntypes, first;
    int64_t *tx;
    unsigned char *txi;
    struct tz_type *types;
    /* the POSIX TZ footer, used past the last transition */
    bool has_extend, extend_dst;
    int32_t std_off, dst_off;
    struct tz_rule start, end;
};

struct zone_period {
    int32_t off;
    int64_t start, end;
};

/* Seconds from the start of `year` (UTC) to the rule's moment, for a zone at offset `off`. */
static int64_t rule_time(int64_t year, const struct tz_rule *r, int32_t off)
{
    int64_t d;
    switch (r->kind) {
    case RULE_JULIAN: /* 1..365, February 29 never counted */
        d = r->day - 1;
        if (is_leap(year) && r->day >= 60)
            d++;
        break;
    case RULE_DOY: /* 0..365 */
        d = r->day;
        break;
    case RULE_MWD:
    default: {
        int64_t first = days_from_civil(year, r->mon, 1);
        int wd = (int)floormod(first + 4, 7);
        int64_t dom = floormod(r->day - wd, 7); /* 0-based day of the first such weekday */
        for (int i = 1; i < r->week; i++) {
            if (dom + 7 >= days_in(r->mon, year))
                break;
            dom += 7;
        }
        d = first + dom - days_from_civil(year, 1, 1);
        break;
    }
    }
    return d * DAY + r->time - off;
}

/* The footer's period around `t`; the zone before the footer applies from `last_tx`. */
static void extend_lookup(const struct ck_tz *tz, int64_t last_tx, int64_t t,
                          struct zone_period *zp)
{
    if (!tz->extend_dst) {
        *zp = (struct zone_period){tz->std_off, last_tx, OMEGA};
        return;
    }
    /* The footer rule repeats every year; far beyond any TZif data the civil arithmetic
     * below would overflow int64, so such instants read as the rule's year +-100000000. */
    if (t > TZ_RULE_T_MAX)
        t = TZ_RULE_T_MAX;
    else if (t < -TZ_RULE_T_MAX)
        t = -TZ_RULE_T_MAX;
    struct civil c;
    civil_of(t, &c);
    int64_t ystart = days_from_civil(c.year, 1, 1) * DAY;
    int64_t ysec = t - ystart;
    int64_t s = rule_time(c.year, &tz->start, tz->std_off);
    int64_t e = rule_time(c.year, &tz->end, tz->dst_off);
    int32_t std = tz->std_off, dst = tz->dst_off;
    if (e < s) { /* southern hemisphere: the names swap, as Go does */
        int64_t ts = s;
        s = e;
        e = ts;
        int32_t to = std;
        std = dst;
        dst = to;
    }
    if (ysec < s)
        *zp = (struct zone_period){std, ystart, s + ystart};
    else if (ysec >= e)
        *zp = (struct zone_period){std, e + ystart, ystart + 365 * DAY};
    else
        *zp = (struct zone_period){dst, s + ystart, e + ystart};
}

static void tz_lookup(const struct ck_tz *tz, int64_t t, struct zone_period *zp)
{
    if (!tz || tz->utc || !tz->ntypes) {
        *zp = (struct zone_period){0, ALPHA, OMEGA};
        return;
    }
    if (!tz->ntx || t < tz->tx[0]) {
        *zp = (struct zone_period){tz->types[tz->first].off, ALPHA, tz->ntx ? tz->tx[0] : OMEGA};
        return;
    }
    size_t lo = 0, hi = tz->ntx;
    while (hi - lo > 1) {
        size_t m = lo + (hi - lo) / 2;
        if (t < tz->tx[m])
            hi = m;
        else
            lo = m;
    }
    if (lo == tz->ntx - 1 && tz->has_extend) {
        extend_lookup(tz, tz->tx[lo], t, zp);
        return;
    }
    zp->off = tz->types[tz->txi[lo]].off;
    zp->start = tz->tx[lo];
    zp->end = lo + 1 < tz->ntx ? tz->tx[lo + 1] : OMEGA;
}

int32_t ck_tz_offset(const struct ck_tz *tz, int64_t t)
{
    struct zone_period zp;
    tz_lookup(tz, t, &zp);
    return zp.off;
}

const char *ck_tz_name(const struct ck_tz *tz)
{
    return tz ? tz->name : "UTC";
}

void ck_tz_free(struct ck_tz *tz)
{
    if (!tz)
        return;
    free(tz->name);
    free(tz->tx);
    free(tz->txi);
    free(tz->types);
    free(tz);
}

/* -- POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3"), as Go's tzset -- */

static bool tzs_num(const char **s, int lo, int hi, int *out)
{
    const char *p = *s;
    int v = 0, n = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (++n > 4)
            return false;
    }
    if (!n || v < lo || v > hi)
        return false;
    *s = p;
    *out = v;
    return true;
}

static bool tzs_name(const char **s)
{
    const char *p = *s;
    if (!*p)
        return false;
    if (*p == '<') {
        const char *q = strchr(p, '>');
        if (!q)
            return false;
        *s = q + 1;
        return true;
    }
    size_t n = strcspn(p, "0123456789,-+");
    if (n < 3)
        return false;
    *s = p + n;
    return true;
}

static bool tzs_offset(const char **s, int32_t *out)
{
    const char *p = *s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    int h, m = 0, sec = 0;
    if (!tzs_num(&p, 0, 24 * 7, &h))
        return false;
    if (*p == ':') {
        p++;
        if (!tzs_num(&p, 0, 59, &m))
            return false;
        if (*p == ':') {
            p++;
            if (!tzs_num(&p, 0, 59, &sec))
                return false;
        }
    }
    int32_t off = h * 3600 + m * 60 + sec;
    *out = neg ? -off : off;
    *s = p;
    return true;
}

static bool tzs_rule(const char **s, struct tz_rule *r)
{
    const char *p = *s;
    memset(r, 0, sizeof(*r));
    if (*p == 'J') {
        p++;
        if (!tzs_num(&p, 1, 365, &r->day))
            return false;
        r->kind = RULE_JULIAN;
    } else if (*p == 'M') {
        p++;
        if (!tzs_num(&p, 1, 12, &r->mon) || *p++ != '.' || !tzs_num(&p, 1, 5, &r->week) ||
            *p++ != '.' || !tzs_num(&p, 0, 6, &r->day))
            return false;
        r->kind = RULE_MWD;
    } else {
        if (!tzs_num(&p, 0, 365, &r->day))
            return false;
        r->kind = RULE_DOY;
    }
    r->time = 2 * 3600;
    if (*p == '/') {
        p++;
        if (!tzs_offset(&p, &r->time))
            return false;
    }
    *s = p;
    return true;
}

/* Parses the footer into tz; false (and no extend) when Go's tzset would not accept it. */
static bool parse_extend(struct ck_tz *tz, const char *s)
{
    int32_t off;
    if (!tzs_name(&s) || !tzs_offset(&s, &off))
        return false;
    tz->std_off = -off;
    if (!*s || *s == ',') {
        tz->extend_dst = false;
        return true;
    }
    if (!tzs_name(&s))
        return false;
    if (!*s || *s == ',') {
        tz->dst_off = tz->std_off + 3600;
    } else {
        if (!tzs_offset(&s, &off))
            return false;
        tz->dst_off = -off;
    }
    if (!*s)
        s = ",M3.2.0,M11.1.0";
    if (*s != ',' && *s != ';')
        return false;
    s++;
    if (!tzs_rule(&s, &tz->start) || *s++ != ',' || !tzs_rule(&s, &tz->end) || *s)
        return false;
    tz->extend_dst = true;
    return true;
}

/* -- TZif files -- */

struct rd {
    const unsigned char *p;
    size_t n;
};

static const unsigned char *rd_take(struct rd *r, size_t k)
{
    if (k > r->n)
        return NULL;
    const unsigned char *p = r->p;
    r->p += k;
    r->n -= k;
    return p;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chr;
};

static bool read_header(struct rd *r, char *version, struct tzif_counts *c)
{
    const unsigned char *h = rd_take(r, 44);
    if (!h || memcmp(h, "TZif", 4))
        return false;
    *version = (char)h[4];
    c->isut = be32(h + 20);
    c->isstd = be32(h + 24);
    c->leap = be32(h + 28);
    c->time = be32(h + 32);
    c->type = be32(h + 36);
    c->chr = be32(h + 40);
    return c->type >= 1 && c->type <= 256 && c->time <= TZ_MAX_TRANSITIONS && c->chr <= 65536 &&
           c->leap <= 65536 && c->isut <= 256 && c->isstd <= 256;
}

/* Which zone applies before the first transition (Go's lookupFirstZone). */
static size_t first_zone(const struct ck_tz *tz)
{
    bool used = false;
    for (size_t i = 0; i < tz->ntx && !used; i++)
        used = tz->txi[i] == 0;
    if (!used)
        return 0;
    if (tz->ntx && tz->types[tz->txi[0]].dst) {
        for (size_t zi = tz->txi[0]; zi-- > 0;)
            if (!tz->types[zi].dst)
                return zi;
    }
    for (size_t zi = 0; zi < tz->ntypes; zi++)
        if (!tz->types[zi].dst)
            return zi;
    return 0;
}

static bool parse_tzif(struct ck_tz *tz, const unsigned char *data, size_t len)
{
    struct rd r = {data, len};
    char version;
    struct tzif_counts c;
    if (!read_header(&r, &version, &c))
        return false;
    size_t tsize = 4;
    if (version >= '2') {
        size_t v1 =
            (size_t)c.time * 5 + (size_t)c.type * 6 + c.chr + (size_t)c.leap * 8 + c.isstd + c.isut;
        char v2;
        if (!rd_take(&r, v1) || !read_header(&r, &v2, &c))
            return false;
        tsize = 8;
    }
    const unsigned char *times = rd_take(&r, (size_t)c.time * tsize);
    const unsigned char *idx = rd_take(&r, c.time);
    const unsigned char *types = rd_take(&r, (size_t)c.type * 6);
    if (!times || !idx || !types ||
        !rd_take(&r, c.chr + (size_t)c.leap * (tsize + 4) + c.isstd + c.isut))
        return false;
    tz->ntx = c.time;
    tz->ntypes = c.type;
    tz->tx = ck_xcalloc(c.time ? c.time : 1, sizeof(*tz->tx));
    tz->txi = ck_xcalloc(c.time ? c.time : 1, 1);
    tz->types = ck_xcalloc(c.type, sizeof(*tz->types));
    for (size_t i = 0; i < c.time; i++) {
        tz->tx[i] = tsize == 8 ? be64(times + i * 8) : (int32_t)be32(times + i * 4);
        if (idx[i] >= c.type || (i && tz->tx[i] <= tz->tx[i - 1]))
            return false;
        tz->txi[i] = idx[i];
    }
    for (size_t i = 0; i < c.type; i++) {
        int32_t off = (int32_t)be32(types + i * 6);
        if (off < -24 * 3600 || off > 24 * 3600)
            return false;
        tz->types[i] = (struct tz_type){off, types[i * 6 + 4] != 0};
    }
    tz->first = first_zone(tz);
    /* the footer: "\n<POSIX TZ>\n" */
    if (tsize == 8 && r.n >= 2 && r.p[0] == '\n') {
        const unsigned char *nl = memchr(r.p + 1, '\n', r.n - 1);
        if (nl && nl - r.p - 1 < 256) {
            char footer[256];
            memcpy(footer, r.p + 1, (size_t)(nl - r.p - 1));
            footer[nl - r.p - 1] = '\0';
            tz->has_extend = footer[0] && parse_extend(tz, footer);
        }
    }
    return true;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = ck_xmalloc(TZ_MAX_FILE + 1);
    size_t n = fread(buf, 1, TZ_MAX_FILE + 1, f);
    bool bad = ferror(f) || n == 0 || n > TZ_MAX_FILE;
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Reads and parses one candidate file; true on success. */
static bool load_path(struct ck_tz *tz, const char *path)
{
    size_t len;
    unsigned char *data = read_file(path, &len);
    if (!data)
        return false;
    bool ok = parse_tzif(tz, data, len);
    free(data);
    if (!ok) {
        free(tz->tx);
        free(tz->txi);
        free(tz->types);
        tz->tx = NULL;
        tz->txi = NULL;
        tz->types = NULL;
        tz->ntx = tz->ntypes = 0;
        tz->has_extend = false;
    }
    return ok;
}

int ck_tz_load(const char *name, struct ck_tz **out, struct ck_error *err)
{
    *out = NULL;
    if (!name)
        name = "";
    struct ck_tz *tz = ck_xcalloc(1, sizeof(*tz));
    tz->name = ck_xstrdup(name[0] ? name : "UTC");
    if (!name[0] || !strcmp(name, "UTC")) {
        tz->utc = true;
        *out = tz;
        return 0;
    }
    if (!strcmp(name, "Local")) {
        if (!load_path(tz, "/etc/localtime"))
            tz->utc = true;
        *out = tz;
        return 0;
    }
    if (strstr(name, "..") || name[0] == '/' || name[0] == '\\') {
        ck_tz_free(tz);
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "time: invalid location name");
    }
    const char *env = getenv("ZONEINFO");
    const char *dirs[] = {env && env[0] ? env : NULL, "/usr/share/zoneinfo/",
                          "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/", "/etc/zoneinfo/"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(dirs); i++) {
        if (!dirs[i])
            continue;
        size_t dl = strlen(dirs[i]);
        CK_AUTOFREE char *path =
            ck_xasprintf("%s%s%s", dirs[i], dl && dirs[i][dl - 1] == '/' ? "" : "/", name);
        if (load_path(tz, path)) {
            *out = tz;
            return 0;
        }
    }
    ck_tz_free(tz);
    ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "unknown time zone %s", name);
    return -ENOENT;
}

/* ---- schedules ---- */

#define STAR_BIT (UINT64_C(1) << 63)

struct ck_cron {
    uint64_t second, minute, hour, dom, month, dow;
    int64_t every; /* seconds between runs for "@every"; 0 for a field schedule */
    struct ck_tz *tz;
};

struct bounds {
    unsigned min, max;
    const char *const *names; /* names[i] stands for the value min + i; NULL-terminated */
};

static const char *const MONTH_NAMES[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const DOW_NAMES[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

/* (the seconds field of robfig's full syntax is always "0" in the standard one) */
static const struct bounds MINUTES = {0, 59, NULL}, HOURS = {0, 23, NULL}, DOM = {1, 31, NULL},
                           MONTHS = {1, 12, MONTH_NAMES}, DOW = {0, 6, DOW_NAMES};

static int cron_error(struct ck_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int cron_error(struct ck_error *err, const char *fmt, ...)
{
    struct ck_buf b = CK_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ck_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", ck_buf_str(&b));
    ck_buf_free(&b);
    return -EINVAL;
}

/* Go's strconv.Atoi on s[0..n): optional sign and decimal digits within int64. Sets *why to
 * "invalid syntax" or "value out of range" on failure. */
static bool go_atoi(const char *s, size_t n, int64_t *out, const char **why)
{
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n) {
        *why = "invalid syntax";
        return false;
    }
    uint64_t v = 0, lim = neg ? UINT64_C(1) << 63 : (UINT64_C(1) << 63) - 1;
    bool range = false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            *why = "invalid syntax";
            return false;
        }
        unsigned dgt = (unsigned)(s[i] - '0');
        if (v > (lim - dgt) / 10)
            range = true;
        else
            v = v * 10 + dgt;
    }
    if (range) {
        *why = "value out of range";
        return false;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* robfig's mustParseInt: a non-negative decimal. */
static int must_parse_int(const char *s, size_t n, uint64_t *out, struct ck_error *err)
{
    int64_t v;
    const char *why;
    if (!go_atoi(s, n, &v, &why)) {
        struct ck_buf q = CK_BUF_INIT;
        CK_AUTOFREE char *expr = ck_xstrndup(s, n);
        ck_buf_put_go_quoted(&q, expr);
        int rc = cron_error(err, "failed to parse int from %s: strconv.Atoi: parsing %s: %s", expr,
                            ck_buf_str(&q), why);
        ck_buf_free(&q);
        return rc;
    }
    if (v < 0) {
        CK_AUTOFREE char *expr = ck_xstrndup(s, n);
        return cron_error(err, "negative number (%lld) not allowed: %s", (long long)v, expr);
    }
    *out = (uint64_t)v;
    return 0;
}

static int parse_int_or_name(const char *s, size_t n, const struct bounds *r, uint64_t *out,
                             struct ck_error *err)
{
    if (r->names) {
        for (size_t i = 0; r->names[i]; i++) {
            if (strlen(r->names[i]) == n && !strncasecmp(r->names[i], s, n)) {
                *out = r->min + i;
                return 0;
            }
        }
    }
    return must_parse_int(s, n, out, err);
}

static uint64_t get_bits(uint64_t min, uint64_t max, uint64_t step)
{
    uint64_t bits = 0;
    for (uint64_t i = min; i <= max; i += step)
        bits |= UINT64_C(1) << i;
    return bits;
}

static size_t count_char(const char *s, size_t n, char ch)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == ch;
    return k;
}

/* robfig's getRange on expr[0..n). */
static int get_range(const char *expr, size_t n, const struct bounds *r, uint64_t *bits,
                     struct ck_error *err)
{
    CK_AUTOFREE char *e = ck_xstrndup(expr, n);
    size_t slashes = count_char(e, n, '/');
    size_t rlen = strcspn(e, "/"); /* the range part */
    size_t hyphens = count_char(e, rlen, '-');
    size_t lowlen = strcspn(e, "-/");
    uint64_t start = 0, end = 0, step = 1, extra = 0;
    int rc;
    if (lowlen == 1 && (e[0] == '*' || e[0] == '?')) {
        start = r->min;
        end = r->max;
        extra = STAR_BIT;
    } else {
        if ((rc = parse_int_or_name(e, lowlen, r, &start, err)) < 0)
            return rc;
        if (hyphens == 0) {
            end = start;
        } else if (hyphens == 1) {
            if ((rc = parse_int_or_name(e + lowlen + 1, rlen - lowlen - 1, r, &end, err)) < 0)
                return rc;
        } else {
            return cron_error(err, "too many hyphens: %s", e);
        }
    }
    if (slashes == 0) {
        step = 1;
    } else if (slashes == 1) {
        if ((rc = must_parse_int(e + rlen + 1, n - rlen - 1, &step, err)) < 0)
            return rc;
        if (hyphens == 0)
            end = r->max; /* "N/step" means "N-max/step" */
        if (step > 1)
            extra = 0;
    } else {
        return cron_error(err, "too many slashes: %s", e);
    }
    if (start < r->min)
        return cron_error(err, "beginning of range (%llu) below minimum (%u): %s",
                          (unsigned long long)start, r->min, e);
    if (end > r->max)
        return cron_error(err, "end of range (%llu) above maximum (%u): %s",
                          (unsigned long long)end, r->max, e);
    if (start > end)
        return cron_error(err, "beginning of range (%llu) beyond end of range (%llu): %s",
                          (unsigned long long)start, (unsigned long long)end, e);
    if (step == 0)
        return cron_error(err, "step of range should be a positive number: %s", e);
    *bits = get_bits(start, end, step) | extra;
    return 0;
}

/* robfig's getField: the union of the comma-separated ranges (empty ones skipped). */
static int get_field(const char *field, const struct bounds *r, uint64_t *bits,
                     struct ck_error *err)
{
    *bits = 0;
    const char *p = field;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n) {
            uint64_t b = 0;
            int rc = get_range(p, n, r, &b, err);
            if (rc < 0)
                return rc;
            *bits |= b;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static uint64_t all_bits(const struct bounds *r)
{
    return get_bits(r->min, r->max, 1) | STAR_BIT;
}

static int parse_descriptor(const char *d, struct ck_cron *c, struct ck_error *err)
{
    c->second = 1;
    c->minute = 1;
    c->hour = 1;
    c->dom = all_bits(&DOM);
    c->month = all_bits(&MONTHS);
    c->dow = all_bits(&DOW);
    if (!strcmp(d, "@yearly") || !strcmp(d, "@annually")) {
        c->dom = UINT64_C(1) << 1;
        c->month = UINT64_C(1) << 1;
    } else if (!strcmp(d, "@monthly")) {
        c->dom = UINT64_C(1) << 1;
    } else if (!strcmp(d, "@weekly")) {
        c->dow = 1;
    } else if (!strcmp(d, "@daily") || !strcmp(d, "@midnight")) {
        /* the defaults above */
    } else if (!strcmp(d, "@hourly")) {
        c->hour = all_bits(&HOURS);
    } else if (!strncmp(d, "@every ", 7)) {
        int64_t ns;
        struct ck_error derr = CK_ERROR_INIT;
        if (ck_duration_parse(d + 7, &ns, &derr) < 0) {
            int rc = cron_error(err, "failed to parse duration %s: %s", d, derr.message);
            ck_error_clear(&derr);
            return rc;
        }
        c->every = ns < CK_SECOND ? 1 : ns / CK_SECOND;
    } else {
        return cron_error(err, "unrecognized descriptor: %s", d);
    }
    return 0;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

/* Splits s on whitespace (strings.Fields) into at most `max` fields, counting all. */
static size_t split_fields(const char *s, char **fields, size_t max, struct ck_buf *shown)
{
    size_t n = 0;
    ck_buf_putc(shown, '[');
    while (*s) {
        while (is_space(*s))
            s++;
        if (!*s)
            break;
        const char *start = s;
        while (*s && !is_space(*s))
            s++;
        if (n)
            ck_buf_putc(shown, ' ');
        ck_buf_add(shown, start, (size_t)(s - start));
        if (n < max)
            fields[n] = ck_xstrndup(start, (size_t)(s - start));
        n++;
    }
    ck_buf_putc(shown, ']');
    return n;
}

static int parse_fields(const char *spec, struct ck_cron *c, struct ck_error *err)
{
    char *fields[5] = {0};
    struct ck_buf shown = CK_BUF_INIT;
    size_t n = split_fields(spec, fields, 5, &shown);
    int rc = 0;
    if (n != 5) {
        rc = cron_error(err, "expected exactly 5 fields, found %zu: %s", n, ck_buf_str(&shown));
    } else {
        c->second = 1; /* the seconds field defaults to "0" */
        const struct bounds *b[] = {&MINUTES, &HOURS, &DOM, &MONTHS, &DOW};
        uint64_t *dst[] = {&c->minute, &c->hour, &c->dom, &c->month, &c->dow};
        for (size_t i = 0; i < 5 && rc == 0; i++)
            rc = get_field(fields[i], b[i], dst[i], err);
    }
    for (size_t i = 0; i < 5; i++)
        free(fields[i]);
    ck_buf_free(&shown);
    return rc;
}

int ck_cron_parse(const char *spec, struct ck_cron **out, struct ck_error *err)
{
    *out = NULL;
    if (!spec || !spec[0])
        return cron_error(err, "empty spec string");
    struct ck_cron *c = ck_xcalloc(1, sizeof(*c));
    CK_AUTOFREE char *rest = NULL;
    int rc;
    if (!strncmp(spec, "TZ=", 3) || !strncmp(spec, "CRON_TZ=", 8)) {
        const char *eq = strchr(spec, '=');
        const char *sp = strchr(spec, ' ');
        CK_AUTOFREE char *name =
            sp && sp > eq ? ck_xstrndup(eq + 1, (size_t)(sp - eq - 1)) : ck_xstrdup(eq + 1);
        struct ck_error zerr = CK_ERROR_INIT;
        if (ck_tz_load(name, &c->tz, &zerr) < 0) {
            rc = cron_error(err, "provided bad location %s: %s", name, zerr.message);
            ck_error_clear(&zerr);
            ck_cron_free(c);
            return rc;
        }
        /* the rest, trimmed of whitespace on both ends */
        const char *p = sp && sp > eq ? sp : "";
        while (is_space(*p))
            p++;
        size_t n = strlen(p);
        while (n && is_space(p[n - 1]))
            n--;
        rest = ck_xstrndup(p, n);
        spec = rest;
    }
    if (spec[0] == '@')
        rc = parse_descriptor(spec, c, err);
    else
        rc = parse_fields(spec, c, err);
    if (rc < 0) {
        ck_cron_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void ck_cron_free(struct ck_cron *c)
{
    if (!c)
        return;
    ck_tz_free(c->tz);
    free(c);
}

const struct ck_tz *ck_cron_tz(const struct ck_cron *c)
{
    return c ? c->tz : NULL;
}

/* -- Next -- */

static void fields_of(const struct ck_tz *tz, int64_t t, struct civil *c)
{
    civil_of(t + ck_tz_offset(tz, t), c);
}

/* Go's time.Date(y, mon, day, h, mi, s, 0, tz): month and day may overflow; in a DST gap or
 * overlap the offset is chosen as Go chooses it. */
static int64_t make_date(const struct ck_tz *tz, int64_t y, int64_t mon, int64_t day, int h, int mi,
                         int s)
{
    y += floordiv(mon - 1, 12);
    mon = floormod(mon - 1, 12) + 1;
    int64_t local = (days_from_civil(y, (int)mon, 1) + day - 1) * DAY + h * 3600 + mi * 60 + s;
    struct zone_period zp;
    tz_lookup(tz, local, &zp);
    if (zp.off != 0) {
        int64_t utc = local - zp.off;
        int32_t off = zp.off;
        if (utc < zp.start || utc >= zp.end)
            off = ck_tz_offset(tz, utc);
        local -= off;
    }
    return local;
}

static bool day_matches(const struct ck_cron *s, const struct civil *c)
{
    bool dom = (UINT64_C(1) << c->day) & s->dom;
    bool dow = (UINT64_C(1) << c->wday) & s->dow;
    if ((s->dom & STAR_BIT) || (s->dow & STAR_BIT))
        return dom && dow;
    return dom || dow;
}

#define BIT(v) (UINT64_C(1) << (unsigned)(v))

int ck_cron_next(const struct ck_cron *s, int64_t after, int64_t *next)
{
    const int64_t lo = days_from_civil(1, 1, 1) * DAY, hi = days_from_civil(10000, 1, 1) * DAY;
    if (after < lo || after >= hi)
        return -ERANGE;
    if (s->every) {
        *next = after + s->every;
        return 0;
    }
    const struct ck_tz *tz = s->tz;
    int64_t t = after + 1;
    struct civil c;
    fields_of(tz, t, &c);
    bool added = false;
    int64_t year_limit = c.year + 5;
    long guard = 0;
wrap:
    if (++guard > 1000000)
        return -ENOENT;
    fields_of(tz, t, &c);
    if (c.year > year_limit)
        return -ENOENT;
    while (!(BIT(c.mon) & s->month)) {
        if (!added) {
            added = true;
            t = make_date(tz, c.year, c.mon, 1, 0, 0, 0);
            fields_of(tz, t, &c);
        }
        t = make_date(tz, c.year, c.mon + 1, c.day, c.hour, c.min, c.sec);
        fields_of(tz, t, &c);
        if (c.mon == 1)
            goto wrap;
    }
    while (!day_matches(s, &c)) {
        if (!added) {
            added = true;
            t = make_date(tz, c.year, c.mon, c.day, 0, 0, 0);
            fields_of(tz, t, &c);
        }
        t = make_date(tz, c.year, c.mon, c.day + 1, c.hour, c.min, c.sec);
        fields_of(tz, t, &c);
        /* midnight may not exist on a DST day: move back onto the day's start */
        if (c.hour != 0) {
            t += c.hour > 12 ? (int64_t)(24 - c.hour) * 3600 : -(int64_t)c.hour * 3600;
            fields_of(tz, t, &c);
        }
        if (c.day == 1)
            goto wrap;
    }
    while (!(BIT(c.hour) & s->hour)) {
        if (!added) {
            added = true;
            t = make_date(tz, c.year, c.mon, c.day, c.hour, 0, 0);
        }
        t += 3600;
        fields_of(tz, t, &c);
        if (c.hour == 0)
            goto wrap;
    }
    while (!(BIT(c.min) & s->minute)) {
        if (!added) {
            added = true;
            t -= floormod(t, 60);
        }
        t += 60;
        fields_of(tz, t, &c);
        if (c.min == 0)
            goto wrap;
    }
    while (!(BIT(c.sec) & s->second)) {
        added = true;
        t += 1;
        fields_of(tz, t, &c);
        if (c.sec == 0)
            goto wrap;
    }
    *next = t;
    return 0;
}
