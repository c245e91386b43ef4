/* timeutil.c - Kubernetes time formats, clocks and Go durations (see timeutil.h). */
#include "timeutil.h"
#include "buf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Go's time-package quoting of values in error messages: double quotes, backslash before '"'
 * and '\\', every byte outside printable ASCII as \xNN. */
static void go_quote(struct ck_buf *b, const char *s)
{
    ck_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x80) {
            ck_buf_printf(b, "\\x%02x", *p);
            continue;
        }
        if (*p == '"' || *p == '\\')
            ck_buf_putc(b, '\\');
        ck_buf_putc(b, (char)*p);
    }
    ck_buf_putc(b, '"');
}

static int fail(struct ck_error *err, struct ck_buf *msg)
{
    ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", ck_buf_str(msg));
    ck_buf_free(msg);
    return -EINVAL;
}

/* ---- formatting instants ---- */

static int format_time(const struct timespec *t, char *out, int micro)
{
    out[0] = '\0';
    if (!t || t->tv_nsec < 0 || t->tv_nsec >= CK_NSEC_PER_SEC)
        return -EINVAL;
    struct tm tm;
    time_t sec = t->tv_sec;
    if (!gmtime_r(&sec, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
        return -ERANGE;
    int n = snprintf(out, CK_TIME_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (micro)
        n += snprintf(out + n, CK_TIME_BUFSZ - (size_t)n, ".%06ld", t->tv_nsec / 1000);
    snprintf(out + n, CK_TIME_BUFSZ - (size_t)n, "Z");
    return 0;
}

int ck_time_format(const struct timespec *t, char out[CK_TIME_BUFSZ])
{
    return format_time(t, out, 0);
}

int ck_microtime_format(const struct timespec *t, char out[CK_TIME_BUFSZ])
{
    return format_time(t, out, 1);
}

/* ---- parsing instants, with Go's time.Parse rules for the two layouts ---- */

struct tparse {
    const char *value;  /* the whole input */
    const char *layout; /* the layout named in messages */
    struct ck_error *err;
};

/* "parsing time V as L: cannot parse ELEM as LAYOUTELEM" */
static int bad_elem(const struct tparse *tp, const char *elem, const char *layout_elem)
{
    struct ck_buf m = CK_BUF_INIT;
    ck_buf_puts(&m, "parsing time ");
    go_quote(&m, tp->value);
    ck_buf_puts(&m, " as ");
    go_quote(&m, tp->layout);
    ck_buf_puts(&m, ": cannot parse ");
    go_quote(&m, elem);
    ck_buf_puts(&m, " as ");
    go_quote(&m, layout_elem);
    return fail(tp->err, &m);
}

/* "parsing time V: WHAT out of range" and friends */
static int bad_value(const struct tparse *tp, const char *what, const char *extra)
{
    struct ck_buf m = CK_BUF_INIT;
    ck_buf_puts(&m, "parsing time ");
    go_quote(&m, tp->value);
    if (extra) {
        ck_buf_puts(&m, ": extra text: ");
        go_quote(&m, extra);
    } else {
        ck_buf_printf(&m, ": %s out of range", what);
    }
    return fail(tp->err, &m);
}

/* One or two digits (exactly two when fixed), as Go's getnum. */
static int getnum(const char **v, bool fixed, int *out)
{
    const char *s = *v;
    if (!is_digit(s[0]))
        return -1;
    if (!is_digit(s[1])) {
        if (fixed)
            return -1;
        *out = s[0] - '0';
        *v = s + 1;
        return 0;
    }
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    *v = s + 2;
    return 0;
}

/* Go's atoi over exactly n bytes: optional sign, then digits only (an empty rest is 0). */
static int atoi_n(const char *s, size_t n, long *out)
{
    bool neg = false;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s++, n--;
    }
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]) || v > 100000000000L)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

/* Go's parseNanoseconds: s[0] is the separator, nbytes counts it plus the digits. */
static int parse_nanos(const char *s, size_t nbytes, long *ns, bool *range)
{
    if (s[0] != '.' && s[0] != ',')
        return -1;
    if (nbytes > 10)
        nbytes = 10;
    long v;
    if (atoi_n(s + 1, nbytes - 1, &v) < 0)
        return -1;
    if (v < 0) {
        *range = true;
        return 0;
    }
    for (size_t i = nbytes; i < 10; i++)
        v *= 10;
    *ns = v;
    return 0;
}

static int days_in(int month, int year)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
        return 29;
    return days[month - 1];
}

static int literal(const struct tparse *tp, const char **v, char c)
{
    if (**v != c) {
        char want[2] = {c, '\0'};
        return bad_elem(tp, *v, want);
    }
    (*v)++;
    return 0;
}

static int parse_rfc3339(const char *s, bool micro, struct timespec *out, struct ck_error *err)
{
    struct tparse tp = {
        s ? s : "", micro ? "2006-01-02T15:04:05.000000Z07:00" : "2006-01-02T15:04:05Z07:00", err};
    const char *v = tp.value, *hold;
    int month, day, hour, min, sec, zone = 0;
    long year, nsec = 0;

    if (strnlen(v, 4) < 4 || !is_digit(v[0]) || atoi_n(v, 4, &year) < 0)
        return bad_elem(&tp, v, "2006");
    v += 4;
    if (literal(&tp, &v, '-') < 0)
        return -EINVAL;
    hold = v;
    if (getnum(&v, true, &month) < 0)
        return bad_elem(&tp, hold, "01");
    if (month < 1 || month > 12)
        return bad_value(&tp, "month", NULL);
    if (literal(&tp, &v, '-') < 0)
        return -EINVAL;
    hold = v;
    if (getnum(&v, true, &day) < 0)
        return bad_elem(&tp, hold, "02");
    if (literal(&tp, &v, 'T') < 0)
        return -EINVAL;
    hold = v;
    if (getnum(&v, false, &hour) < 0)
        return bad_elem(&tp, hold, "15");
    if (hour >= 24)
        return bad_value(&tp, "hour", NULL);
    if (literal(&tp, &v, ':') < 0)
        return -EINVAL;
    hold = v;
    if (getnum(&v, true, &min) < 0)
        return bad_elem(&tp, hold, "04");
    if (min >= 60)
        return bad_value(&tp, "minute", NULL);
    if (literal(&tp, &v, ':') < 0)
        return -EINVAL;
    hold = v;
    if (getnum(&v, true, &sec) < 0)
        return bad_elem(&tp, hold, "05");
    if (sec >= 60)
        return bad_value(&tp, "second", NULL);
    bool range = false;
    if (!micro && (v[0] == '.' || v[0] == ',') && is_digit(v[1])) {
        /* a fraction the layout does not name: Go takes any number of digits */
        size_t n = 2;
        while (is_digit(v[n]))
            n++;
        if (parse_nanos(v, n, &nsec, &range) < 0)
            return bad_elem(&tp, v, "05");
        v += n;
    } else if (micro) {
        hold = v;
        if (strnlen(v, 7) < 7 || parse_nanos(v, 7, &nsec, &range) < 0)
            return bad_elem(&tp, hold, ".000000");
        v += 7;
    }
    if (range)
        return bad_value(&tp, "fractional second", NULL);

    hold = v;
    if (v[0] == 'Z') {
        v++;
    } else {
        if (strnlen(v, 6) < 6 || v[3] != ':')
            return bad_elem(&tp, hold, "Z07:00");
        int hr = 0, mm = 0;
        const char *h = v + 1, *m = v + 4;
        /* as Go: the minutes are read only when the hours were, and a range error is
         * reported before a syntax error */
        bool bad = getnum(&h, true, &hr) < 0 || getnum(&m, true, &mm) < 0;
        const char *what = NULL;
        if (hr > 24) /* Go accepts offsets up to 24:60 */
            what = "time zone offset hour";
        if (mm > 60)
            what = "time zone offset minute";
        if (what)
            return bad_value(&tp, what, NULL);
        if (bad || (v[0] != '+' && v[0] != '-'))
            return bad_elem(&tp, hold, "Z07:00");
        zone = (hr * 60 + mm) * 60 * (v[0] == '-' ? -1 : 1);
        v += 6;
    }
    if (*v)
        return bad_value(&tp, NULL, v);
    if (day < 1 || day > days_in(month, (int)year))
        return bad_value(&tp, "day", NULL);

    struct tm tm = {.tm_year = (int)year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec};
    if (out) {
        out->tv_sec = timegm(&tm) - zone;
        out->tv_nsec = nsec;
    }
    return 0;
}

int ck_time_parse(const char *s, struct timespec *out, struct ck_error *err)
{
    return parse_rfc3339(s, false, out, err);
}

int ck_microtime_parse(const char *s, struct timespec *out, struct ck_error *err)
{
    return parse_rfc3339(s, true, out, err);
}

/* ---- clocks ---- */

void ck_time_now(struct timespec *out)
{
    clock_gettime(CLOCK_REALTIME, out);
}

int64_t ck_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CK_NSEC_PER_SEC + ts.tv_nsec;
}

void ck_time_now_string(char out[CK_TIME_BUFSZ])
{
    struct timespec ts;
    ck_time_now(&ts);
    ck_time_format(&ts, out);
}

void ck_microtime_now_string(char out[CK_TIME_BUFSZ])
{
    struct timespec ts;
    ck_time_now(&ts);
    ck_microtime_format(&ts, out);
}

int64_t ck_time_sub_ns(const struct timespec *a, const struct timespec *b)
{
    int64_t ds, r;
    if (__builtin_sub_overflow((int64_t)a->tv_sec, (int64_t)b->tv_sec, &ds) ||
        __builtin_mul_overflow(ds, CK_NSEC_PER_SEC, &r) ||
        __builtin_add_overflow(r, (int64_t)(a->tv_nsec - b->tv_nsec), &r))
        return a->tv_sec < b->tv_sec ? INT64_MIN : INT64_MAX;
    return r;
}

/* ---- durations ---- */

static int duration_error(struct ck_error *err, const char *what, const char *unit,
                          const char *unit_end, const char *orig)
{
    struct ck_buf m = CK_BUF_INIT;
    ck_buf_puts(&m, what);
    if (unit) {
        char u[64];
        snprintf(u, sizeof(u), "%.*s", (int)(unit_end - unit), unit);
        go_quote(&m, u);
        ck_buf_puts(&m, " in duration ");
    }
    go_quote(&m, orig);
    return fail(err, &m);
}

static uint64_t unit_ns(const char *u, size_t n)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        {"ns", 1},
        {"us", 1000},
        {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
        {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
        {"ms", 1000000},
        {"s", 1000000000},
        {"m", UINT64_C(60000000000)},
        {"h", UINT64_C(3600000000000)},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
            return units[i].ns;
    return 0;
}

int ck_duration_parse(const char *s, int64_t *ns, struct ck_error *err)
{
    const uint64_t lim = UINT64_C(1) << 63;
    const char *orig = s ? s : "";
    const char *invalid = "time: invalid duration ";
    uint64_t total = 0;
    bool neg = false;
    s = orig;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (!*s)
        return duration_error(err, invalid, NULL, NULL, orig);
    while (*s) {
        uint64_t v = 0, f = 0;
        double scale = 1;
        if (*s != '.' && !is_digit(*s))
            return duration_error(err, invalid, NULL, NULL, orig);
        const char *start = s;
        for (; is_digit(*s); s++) {
            if (v > lim / 10)
                return duration_error(err, invalid, NULL, NULL, orig);
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > lim)
                return duration_error(err, invalid, NULL, NULL, orig);
        }
        bool pre = s != start, post = false;
        if (*s == '.') {
            const char *fs = ++s;
            bool overflow = false;
            for (; is_digit(*s); s++) {
                if (overflow)
                    continue;
                if (f > (lim - 1) / 10) { /* stop collecting precision, keep consuming */
                    overflow = true;
                    continue;
                }
                uint64_t y = f * 10 + (uint64_t)(*s - '0');
                if (y > lim) {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10;
            }
            post = s != fs;
        }
        if (!pre && !post)
            return duration_error(err, invalid, NULL, NULL, orig);
        const char *u = s;
        while (*s && *s != '.' && !is_digit(*s))
            s++;
        if (s == u)
            return duration_error(err, "time: missing unit in duration ", NULL, NULL, orig);
        uint64_t unit = unit_ns(u, (size_t)(s - u));
        if (!unit)
            return duration_error(err, "time: unknown unit ", u, s, orig);
        if (v > lim / unit)
            return duration_error(err, invalid, NULL, NULL, orig);
        v *= unit;
        if (f > 0) {
            v += (uint64_t)((double)f * ((double)unit / scale));
            if (v > lim)
                return duration_error(err, invalid, NULL, NULL, orig);
        }
        total += v;
        if (total > lim)
            return duration_error(err, invalid, NULL, NULL, orig);
    }
    if (neg) {
        *ns = total == lim ? INT64_MIN : -(int64_t)total;
        return 0;
    }
    if (total > lim - 1)
        return duration_error(err, invalid, NULL, NULL, orig);
    *ns = (int64_t)total;
    return 0;
}

/* Appends v / 10^prec with its fraction, trailing zeros (and a bare '.') left out. */
static int put_frac(char *o, size_t size, uint64_t v, int prec)
{
    if (prec < 0 || prec > 9) /* durations have at most nanosecond (9-digit) fractions */
        prec = 9;
    uint64_t scale = 1;
    for (int i = 0; i < prec; i++)
        scale *= 10;
    uint64_t whole = v / scale, frac = v % scale;
    if (!frac)
        return snprintf(o, size, "%" PRIu64, whole);
    char digits[24];
    snprintf(digits, sizeof(digits), "%0*" PRIu64, prec, frac);
    size_t n = strlen(digits);
    while (n > 0 && digits[n - 1] == '0')
        n--;
    return snprintf(o, size, "%" PRIu64 ".%.*s", whole, (int)n, digits);
}

void ck_duration_format(int64_t d, char out[CK_DURATION_BUFSZ])
{
    uint64_t u = d < 0 ? -(uint64_t)d : (uint64_t)d;
    size_t size = CK_DURATION_BUFSZ;
    char *o = out;
    int n;
    if (d < 0)
        *o++ = '-', size--;
    if (u == 0) {
        snprintf(out, CK_DURATION_BUFSZ, "0s");
        return;
    }
    if (u < 1000) {
        snprintf(o, size, "%" PRIu64 "ns", u);
    } else if (u < 1000000) {
        n = put_frac(o, size, u, 3);
        snprintf(o + n, size - (size_t)n, "\xc2\xb5s"); /* µs, as Go */
    } else if (u < 1000000000) {
        n = put_frac(o, size, u, 6);
        snprintf(o + n, size - (size_t)n, "ms");
    } else {
        uint64_t secs = u / 1000000000;
        uint64_t h = secs / 3600, m = secs / 60 % 60;
        n = 0;
        if (h > 0)
            n = snprintf(o, size, "%" PRIu64 "h%" PRIu64 "m", h, m);
        else if (secs >= 60)
            n = snprintf(o, size, "%" PRIu64 "m", m);
        n += put_frac(o + n, size - (size_t)n, u % 60000000000, 9);
        snprintf(o + n, size - (size_t)n, "s");
    }
}

void ck_short_human_duration(int64_t d, char out[CK_HUMAN_BUFSZ])
{
    int64_t seconds = d / CK_SECOND; /* truncates toward zero, as Go's int(d.Seconds()) */
    if (seconds < -1)
        snprintf(out, CK_HUMAN_BUFSZ, "<invalid>");
    else if (seconds < 0)
        snprintf(out, CK_HUMAN_BUFSZ, "0s");
    else if (seconds < 60)
        snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "s", seconds);
    else if (d / CK_MINUTE < 60)
        snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "m", d / CK_MINUTE);
    else if (d / CK_HOUR < 24)
        snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "h", d / CK_HOUR);
    else if (d / CK_HOUR < 24 * 365)
        snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "d", d / CK_HOUR / 24);
    else
        snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "y", d / CK_HOUR / 24 / 365);
}

void ck_human_duration(int64_t d, char out[CK_HUMAN_BUFSZ])
{
    int64_t seconds = d / CK_SECOND;
    if (seconds < -1) {
        snprintf(out, CK_HUMAN_BUFSZ, "<invalid>");
        return;
    }
    if (seconds < 0) {
        snprintf(out, CK_HUMAN_BUFSZ, "0s");
        return;
    }
    if (seconds < 60 * 2) {
        snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "s", seconds);
        return;
    }
    int64_t minutes = d / CK_MINUTE;
    if (minutes < 10) {
        int64_t s = seconds % 60;
        if (s == 0)
            snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "m", minutes);
        else
            snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "m%" PRId64 "s", minutes, s);
        return;
    }
    if (minutes < 60 * 3) {
        snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "m", minutes);
        return;
    }
    int64_t hours = d / CK_HOUR;
    if (hours < 8) {
        int64_t m = minutes % 60;
        if (m == 0)
            snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "h", hours);
        else
            snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "h%" PRId64 "m", hours, m);
    } else if (hours < 48) {
        snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "h", hours);
    } else if (hours < 24 * 8) {
        int64_t h = hours % 24;
        if (h == 0)
            snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "d", hours / 24);
        else
            snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "d%" PRId64 "h", hours / 24, h);
    } else if (hours < 24 * 365 * 2) {
        snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "d", hours / 24);
    } else if (hours < 24 * 365 * 8) {
        int64_t dy = hours / 24 % 365;
        if (dy == 0)
            snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "y", hours / 24 / 365);
        else
            snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "y%" PRId64 "d", hours / 24 / 365, dy);
    } else {
        snprintf(out, CK_HUMAN_BUFSZ, "%" PRId64 "y", hours / 24 / 365);
    }
}

void ck_human_age(const char *timestamp, const struct timespec *now, char out[CK_HUMAN_BUFSZ])
{
    struct timespec t, n;
    if (!timestamp || !*timestamp || ck_time_parse(timestamp, &t, NULL) < 0) {
        snprintf(out, CK_HUMAN_BUFSZ, "<unknown>");
        return;
    }
    if (!now) {
        ck_time_now(&n);
        now = &n;
    }
    ck_human_duration(ck_time_sub_ns(now, &t), out);
}
