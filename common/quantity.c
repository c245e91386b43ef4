/* quantity.c - exact resource quantities as upstream's resource.Quantity (see quantity.h).
 *
 * The magnitude is a small fixed-width unsigned integer (CK_QUANTITY_LIMBS 32-bit words)
 * with its own few operations below (bn_*); a quantity is sign * magnitude * 10^scale,
 * kept with trailing decimal zeros moved into the scale.
 */
#include "quantity.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

#define NL CK_QUANTITY_LIMBS
#define MAX_DIGITS 96 /* every 96-digit number fits in 320 bits */
#define DEC_BUF 112   /* decimal digits of any magnitude, with room to spare */

static const char msg_format[] = "quantities must match the regular expression "
                                 "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
static const char msg_suffix[] = "unable to parse quantity's suffix";
static const char msg_numeric[] = "unable to parse numeric part of quantity";

static const uint32_t pow10_u32[10] = {1,      10,      100,      1000,      10000,
                                       100000, 1000000, 10000000, 100000000, 1000000000};

/* ---- fixed-width unsigned magnitudes ------------------------------------------------ */

static bool bn_is_zero(const uint32_t *a)
{
    for (int i = 0; i < NL; i++)
        if (a[i])
            return false;
    return true;
}

static int bn_cmp(const uint32_t *a, const uint32_t *b)
{
    for (int i = NL; i-- > 0;)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

static void bn_set_u64(uint32_t *a, uint64_t v)
{
    memset(a, 0, NL * sizeof(*a));
    a[0] = (uint32_t)v;
    a[1] = (uint32_t)(v >> 32);
}

static bool bn_get_u64(const uint32_t *a, uint64_t *v)
{
    for (int i = 2; i < NL; i++)
        if (a[i])
            return false;
    *v = (uint64_t)a[0] | ((uint64_t)a[1] << 32);
    return true;
}

/* r = a + b; false on overflow. r may alias a or b. */
static bool bn_add(uint32_t *r, const uint32_t *a, const uint32_t *b)
{
    uint64_t c = 0;
    for (int i = 0; i < NL; i++) {
        c += (uint64_t)a[i] + b[i];
        r[i] = (uint32_t)c;
        c >>= 32;
    }
    return c == 0;
}

/* r = a - b for a >= b. r may alias a or b. */
static void bn_sub(uint32_t *r, const uint32_t *a, const uint32_t *b)
{
    uint64_t borrow = 0;
    for (int i = 0; i < NL; i++) {
        uint64_t d = (uint64_t)a[i] - b[i] - borrow;
        r[i] = (uint32_t)d;
        borrow = (d >> 63) & 1;
    }
}

/* a *= m in place; false on overflow (a is then garbage: callers work on copies). */
static bool bn_mul_small(uint32_t *a, uint32_t m)
{
    uint64_t c = 0;
    for (int i = 0; i < NL; i++) {
        c += (uint64_t)a[i] * m;
        a[i] = (uint32_t)c;
        c >>= 32;
    }
    return c == 0;
}

static bool bn_add_small(uint32_t *a, uint32_t v)
{
    uint64_t c = v;
    for (int i = 0; i < NL && c; i++) {
        c += a[i];
        a[i] = (uint32_t)c;
        c >>= 32;
    }
    return c == 0;
}

/* a /= d in place (d > 0); returns the remainder. */
static uint32_t bn_div_small(uint32_t *a, uint32_t d)
{
    uint64_t r = 0;
    for (int i = NL; i-- > 0;) {
        uint64_t cur = (r << 32) | a[i];
        a[i] = (uint32_t)(cur / d);
        r = cur % d;
    }
    return (uint32_t)r;
}

/* a *= m in place; false on overflow. */
static bool bn_mul_u64(uint32_t *a, uint64_t m)
{
    uint32_t mw[2] = {(uint32_t)m, (uint32_t)(m >> 32)};
    uint32_t r[NL + 2];
    memset(r, 0, sizeof(r));
    for (int j = 0; j < 2; j++) {
        uint64_t c = 0;
        for (int i = 0; i < NL; i++) {
            uint64_t t = (uint64_t)a[i] * mw[j] + r[i + j] + c;
            r[i + j] = (uint32_t)t;
            c = t >> 32;
        }
        r[NL + j] = (uint32_t)c;
    }
    if (r[NL] || r[NL + 1])
        return false;
    memcpy(a, r, NL * sizeof(*a));
    return true;
}

/* a *= 10^k in place (k >= 0); false on overflow. */
static bool bn_mul_pow10(uint32_t *a, int64_t k)
{
    if (bn_is_zero(a) || k == 0)
        return true;
    if (k > MAX_DIGITS + 1)
        return false;
    while (k > 0) {
        int step = k >= 9 ? 9 : (int)k;
        if (!bn_mul_small(a, pow10_u32[step]))
            return false;
        k -= step;
    }
    return true;
}

/* a /= 10^k in place, toward zero (k >= 0); sets *inexact when a remainder was dropped. */
static void bn_div_pow10(uint32_t *a, int64_t k, bool *inexact)
{
    if (k > MAX_DIGITS + 1) {
        if (!bn_is_zero(a))
            *inexact = true;
        memset(a, 0, NL * sizeof(*a));
        return;
    }
    while (k > 0) {
        int step = k >= 9 ? 9 : (int)k;
        if (bn_div_small(a, pow10_u32[step]))
            *inexact = true;
        k -= step;
    }
}

/* Decimal digits of a into buf (at least DEC_BUF bytes); returns their count. */
static size_t bn_to_dec(const uint32_t *a, char *buf)
{
    uint32_t t[NL];
    char rev[DEC_BUF];
    size_t n = 0;
    memcpy(t, a, sizeof(t));
    while (!bn_is_zero(t) && n + 9 < sizeof(rev)) {
        uint32_t r = bn_div_small(t, 1000000000u);
        for (int j = 0; j < 9; j++) {
            rev[n++] = (char)('0' + r % 10);
            r /= 10;
        }
    }
    while (n > 1 && rev[n - 1] == '0')
        n--;
    if (n == 0)
        rev[n++] = '0';
    for (size_t i = 0; i < n; i++)
        buf[i] = rev[n - 1 - i];
    buf[n] = '\0';
    return n;
}

static size_t bn_declen(const uint32_t *a)
{
    char buf[DEC_BUF];
    return bn_to_dec(a, buf);
}

/* ---- quantity helpers ------------------------------------------------------------- */

static int fail(struct ck_error *err, int rc, const char *msg)
{
    ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", msg);
    return rc;
}

/* Moves factors of ten from the magnitude into the scale; zero gets scale 0. */
static void q_normalize(struct ck_quantity *q)
{
    if (bn_is_zero(q->mag)) {
        q->scale = 0;
        q->negative = false;
        return;
    }
    uint32_t t[NL];
    while (q->scale < INT32_MAX) {
        memcpy(t, q->mag, sizeof(t));
        if (bn_div_small(t, 10) != 0)
            break;
        memcpy(q->mag, t, sizeof(t));
        q->scale++;
    }
}

/* Stores mag * 10^scale (scale as a wide integer) into q; -ERANGE if it can't be held. */
static int q_store(struct ck_quantity *q, const uint32_t *mag, int64_t scale)
{
    uint32_t m[NL];
    memcpy(m, mag, sizeof(m));
    if (bn_is_zero(m)) {
        memset(q->mag, 0, sizeof(q->mag));
        q->scale = 0;
        q->negative = false;
        return 0;
    }
    uint32_t t[NL];
    while (scale < INT32_MAX) { /* strip factors of ten first: they may bring scale in range */
        memcpy(t, m, sizeof(t));
        if (bn_div_small(t, 10) != 0)
            break;
        memcpy(m, t, sizeof(t));
        scale++;
    }
    if (scale < INT32_MIN)
        return -ERANGE;
    if (scale > INT32_MAX) {
        if (!bn_mul_pow10(m, scale - INT32_MAX))
            return -ERANGE;
        scale = INT32_MAX;
    }
    memcpy(q->mag, m, sizeof(m));
    q->scale = (int32_t)scale;
    return 0;
}

/* ---- parsing ---------------------------------------------------------------------- */

/* The pieces upstream's scanner (parseQuantityString) finds in a quantity string. */
struct qscan {
    bool positive;
    const char *num; /* integer digits without leading zeros; "0" when there are none */
    size_t num_len;
    const char *denom; /* fraction digits */
    size_t denom_len;
    const char *suffix;
    size_t suffix_len;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_suffix_char(char c)
{
    return c != '\0' && strchr("eEinumkKMGTP", c) != NULL;
}

/* Splits s[0..end) as upstream's scanner does; -EINVAL for the format error. */
static int scan_quantity(const char *s, size_t end, struct qscan *r)
{
    size_t pos = 0, i;
    r->positive = true;
    r->num = "0";
    r->num_len = 1;
    r->denom = "";
    r->denom_len = 0;
    r->suffix = "";
    r->suffix_len = 0;

    if (pos < end && (s[0] == '-' || s[0] == '+')) {
        r->positive = s[0] == '+';
        pos++;
    }
    while (pos < end && s[pos] == '0')
        pos++;
    if (pos >= end)
        return 0;
    for (i = pos; i < end && is_digit(s[i]); i++)
        ;
    if (i > pos) {
        r->num = s + pos;
        r->num_len = i - pos;
    }
    if (i >= end)
        return 0;
    pos = i;
    if (s[pos] == '.') {
        pos++;
        for (i = pos; i < end && is_digit(s[i]); i++)
            ;
        r->denom = s + pos;
        r->denom_len = i - pos;
        if (i >= end)
            return 0;
        pos = i;
    }
    size_t suffix_start = pos;
    for (i = pos; i < end && is_suffix_char(s[i]); i++)
        ;
    if (i < end) {
        pos = i;
        if (s[pos] == '-' || s[pos] == '+')
            pos++;
        for (i = pos; i < end && is_digit(s[i]); i++)
            ;
        if (i < end)
            return -EINVAL;
    }
    r->suffix = s + suffix_start;
    r->suffix_len = end - suffix_start;
    return 0;
}

/* strconv.ParseInt(s, 10, 64) acceptance: optional sign, at least one digit, in range. */
static bool parse_go_int64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i++;
    }
    if (i >= n)
        return false;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

struct qsuffix {
    int base; /* 10 or 2 */
    int32_t exponent;
    enum ck_quantity_format format;
};

static const struct {
    const char *text;
    int base;
    int exponent;
} suffixes[] = {
    {"", 10, 0},   {"n", 10, -9}, {"u", 10, -6}, {"m", 10, -3}, {"k", 10, 3},  {"M", 10, 6},
    {"G", 10, 9},  {"T", 10, 12}, {"P", 10, 15}, {"E", 10, 18}, {"Ki", 2, 10}, {"Mi", 2, 20},
    {"Gi", 2, 30}, {"Ti", 2, 40}, {"Pi", 2, 50}, {"Ei", 2, 60},
};

/* Upstream's suffixer.interpret. */
static bool interpret_suffix(const char *s, size_t n, struct qsuffix *o)
{
    for (size_t i = 0; i < CK_ARRAY_SIZE(suffixes); i++) {
        if (strlen(suffixes[i].text) == n && memcmp(suffixes[i].text, s, n) == 0) {
            o->base = suffixes[i].base;
            o->exponent = suffixes[i].exponent;
            o->format = o->base == 10 ? CK_QUANTITY_DECIMAL_SI : CK_QUANTITY_BINARY_SI;
            return true;
        }
    }
    if (n > 1 && (s[0] == 'e' || s[0] == 'E')) {
        int64_t v;
        if (!parse_go_int64(s + 1, n - 1, &v))
            return false;
        o->base = 10;
        o->exponent = (int32_t)(uint32_t)(uint64_t)v; /* upstream truncates to int32 too */
        o->format = CK_QUANTITY_DECIMAL_EXPONENT;
        return true;
    }
    return false;
}

/* i-th digit of the concatenation num + denom. */
static char digit_at(const struct qscan *sc, size_t i)
{
    return i < sc->num_len ? sc->num[i] : sc->denom[i - sc->num_len];
}

/* Upstream keeps the input string as the cached String() when its int64 fast path
 * succeeds and the input "looks canonical"; this reproduces that decision. */
static bool keeps_input(const struct qscan *sc, const struct qsuffix *sx)
{
    size_t n = sc->num_len + sc->denom_len;
    if (sx->base == 10) {
        if (n > 18)
            return false;
        int64_t scale = (int64_t)sx->exponent - (int64_t)sc->denom_len;
        if (scale < CK_SCALE_NANO || scale % 3 != 0)
            return false;
        if (digit_at(sc, 0) == '0')
            return false;
        if (n >= 3 && digit_at(sc, n - 1) == '0' && digit_at(sc, n - 2) == '0' &&
            digit_at(sc, n - 3) == '0')
            return false;
        return true;
    }
    if (sc->denom_len != 0)
        return false;
    int precision = 15 - (int)sc->num_len - sx->exponent * 3 / 10 - 1;
    if (precision < 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < sc->num_len; i++)
        v = v * 10 + (uint64_t)(sc->num[i] - '0');
    return (v & 7) != 0;
}

/* Appends digits [from, to) of the scan to mag; false on overflow. */
static bool add_digits(uint32_t *mag, const struct qscan *sc, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (!bn_mul_small(mag, 10) || !bn_add_small(mag, (uint32_t)(digit_at(sc, i) - '0')))
            return false;
    return true;
}

static bool any_nonzero(const struct qscan *sc, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (digit_at(sc, i) != '0')
            return true;
    return false;
}

/* Value of a decimal (DecimalSI / DecimalExponent) quantity, rounded up to nano. */
static int parse_decimal(const struct qscan *sc, int32_t exponent, struct ck_quantity *q)
{
    size_t n = sc->num_len + sc->denom_len, keep = n, start = 0;
    int64_t scale = (int64_t)exponent - (int64_t)sc->denom_len;
    bool sticky = false;
    if (scale < CK_SCALE_NANO) {
        int64_t drop = CK_SCALE_NANO - scale;
        keep = drop >= (int64_t)n ? 0 : n - (size_t)drop;
        sticky = any_nonzero(sc, keep, n);
        scale = CK_SCALE_NANO;
    }
    while (start < keep && digit_at(sc, start) == '0')
        start++;
    if (!sticky)
        while (keep > start && digit_at(sc, keep - 1) == '0') {
            keep--;
            scale++;
        }
    if (keep - start > MAX_DIGITS)
        return -ERANGE;
    uint32_t mag[NL];
    memset(mag, 0, sizeof(mag));
    if (!add_digits(mag, sc, start, keep) || (sticky && !bn_add_small(mag, 1)))
        return -ERANGE;
    return q_store(q, mag, scale);
}

/* Value of a BinarySI quantity: the decimal number times 2^exponent, rounded up to nano,
 * capped at 2^63-1; a value in (0, 1) switches to DecimalSI, as upstream. */
static int parse_binary(const struct qscan *sc, int32_t exponent, struct ck_quantity *q)
{
    static const uint64_t cap = (uint64_t)INT64_MAX;
    uint32_t mag[NL];
    int64_t scale;
    bool capped = sc->num_len > 19;
    if (!capped) {
        uint64_t ip = 0;
        for (size_t i = 0; i < sc->num_len; i++)
            ip = ip * 10 + (uint64_t)(sc->num[i] - '0');
        capped = ip >= (1ull << (63 - exponent));
    }
    if (!capped) {
        /* Fraction digits past 10+exponent places cannot change the nano-rounded result
         * beyond a sticky "something was there", which rounds the kept digits up. */
        size_t frac = sc->denom_len, frac_keep = (size_t)(10 + exponent);
        bool sticky = false;
        if (frac > frac_keep) {
            sticky = any_nonzero(sc, sc->num_len + frac_keep, sc->num_len + frac);
            frac = frac_keep;
        }
        memset(mag, 0, sizeof(mag));
        if (!add_digits(mag, sc, 0, sc->num_len + frac) || (sticky && !bn_add_small(mag, 1)))
            return -ERANGE; /* cannot happen with the bounds above */
        for (int32_t e = 0; e < exponent; e += 10)
            if (!bn_mul_small(mag, 1024))
                return -ERANGE;
        scale = -(int64_t)frac;
        if (scale < CK_SCALE_NANO) {
            bool inexact = false;
            bn_div_pow10(mag, CK_SCALE_NANO - scale, &inexact);
            if (inexact)
                bn_add_small(mag, 1);
            scale = CK_SCALE_NANO;
        }
        uint32_t limit[NL];
        bn_set_u64(limit, cap);
        bn_mul_pow10(limit, -scale);
        if (bn_cmp(mag, limit) > 0)
            capped = true;
        else {
            uint32_t one[NL];
            bn_set_u64(one, 1);
            bn_mul_pow10(one, -scale);
            if (!bn_is_zero(mag) && bn_cmp(mag, one) < 0)
                q->format = CK_QUANTITY_DECIMAL_SI;
        }
    }
    if (capped) {
        bn_set_u64(mag, cap);
        scale = 0;
    }
    return q_store(q, mag, scale);
}

int ck_quantity_parse(const char *s, struct ck_quantity *out, struct ck_error *err)
{
    if (!s || !*s)
        return fail(err, -EINVAL, msg_format);
    struct ck_quantity q;
    memset(&q, 0, sizeof(q));
    size_t len = strlen(s);
    if (strcmp(s, "0") == 0) {
        q.format = CK_QUANTITY_DECIMAL_SI;
        strcpy(q.cached, "0");
        *out = q;
        return 0;
    }
    struct qscan sc;
    if (scan_quantity(s, len, &sc) < 0)
        return fail(err, -EINVAL, msg_format);
    struct qsuffix sx;
    if (!interpret_suffix(sc.suffix, sc.suffix_len, &sx))
        return fail(err, -EINVAL, msg_suffix);
    q.format = sx.format;
    int rc =
        sx.base == 10 ? parse_decimal(&sc, sx.exponent, &q) : parse_binary(&sc, sx.exponent, &q);
    if (rc < 0)
        return fail(err, rc, msg_numeric);
    q.negative = !sc.positive && !bn_is_zero(q.mag);
    if (len < sizeof(q.cached) && keeps_input(&sc, &sx))
        memcpy(q.cached, s, len + 1);
    *out = q;
    return 0;
}

/* The text Go's encoding/json would have written for a float64: shortest round-trip
 * digits, plain notation for 1e-6 <= |d| < 1e21, otherwise d[.ddd]e[+-]N. */
static void format_json_number(double d, char *buf, size_t size)
{
    if (d == floor(d) && fabs(d) < 1e21) {
        snprintf(buf, size, "%.0f", d);
        return;
    }
    char tmp[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* tmp is [-]D[.DDD]e(+|-)XX */
    char digits[32];
    size_t nd = 0;
    const char *p = tmp;
    bool neg = *p == '-';
    if (neg)
        p++;
    for (; *p && *p != 'e' && nd < sizeof(digits) - 1; p++)
        if (is_digit(*p))
            digits[nd++] = *p;
    digits[nd] = '\0';
    long exp10 = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;
    struct ck_buf b = CK_BUF_INIT;
    if (neg)
        ck_buf_putc(&b, '-');
    double a = fabs(d);
    if (a < 1e-6 || a >= 1e21) {
        ck_buf_putc(&b, digits[0]);
        if (nd > 1) {
            ck_buf_putc(&b, '.');
            ck_buf_puts(&b, digits + 1);
        }
        ck_buf_printf(&b, "e%c%ld", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    } else if (exp10 < 0) {
        ck_buf_puts(&b, "0.");
        for (long i = 0; i < -exp10 - 1; i++)
            ck_buf_putc(&b, '0');
        ck_buf_puts(&b, digits);
    } else {
        for (long i = 0; i <= exp10 || i < (long)nd; i++) {
            if (i == exp10 + 1)
                ck_buf_putc(&b, '.');
            ck_buf_putc(&b, i < (long)nd ? digits[i] : '0');
        }
    }
    ck_strlcpy(buf, ck_buf_str(&b), size);
    ck_buf_free(&b);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int ck_quantity_parse_json(const cJSON *v, struct ck_quantity *out, struct ck_error *err)
{
    if (!v || cJSON_IsNull(v)) {
        memset(out, 0, sizeof(*out));
        return 0;
    }
    if (cJSON_IsNumber(v)) {
        if (!isfinite(v->valuedouble))
            return fail(err, -EINVAL, msg_format);
        char text[64];
        format_json_number(v->valuedouble, text, sizeof(text));
        return ck_quantity_parse(text, out, err);
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return fail(err, -EINVAL, msg_format);
    const char *s = v->valuestring;
    size_t len = strlen(s);
    while (len > 0 && is_space(*s)) {
        s++;
        len--;
    }
    while (len > 0 && is_space(s[len - 1]))
        len--;
    CK_AUTOFREE char *trimmed = ck_xstrndup(s, len);
    return ck_quantity_parse(trimmed, out, err);
}

/* ---- formatting ------------------------------------------------------------------- */

static const char *decimal_si_suffix(int64_t exp)
{
    for (size_t i = 0; i < CK_ARRAY_SIZE(suffixes); i++)
        if (suffixes[i].base == 10 && suffixes[i].exponent == exp)
            return suffixes[i].text;
    return NULL;
}

/* Upstream's AsCanonicalBytes + decimal suffix: no trailing zeros in the digits beyond
 * what makes the exponent a multiple of three. */
static void format_decimal(const struct ck_quantity *q, enum ck_quantity_format fmt,
                           struct ck_buf *b)
{
    char digits[DEC_BUF];
    size_t n = bn_to_dec(q->mag, digits);
    int64_t exp = q->scale;
    while (n > 1 && digits[n - 1] == '0') {
        n--;
        exp++;
    }
    int64_t r = ((exp % 3) + 3) % 3;
    exp -= r;
    if (q->negative)
        ck_buf_putc(b, '-');
    ck_buf_add(b, digits, n);
    for (int64_t i = 0; i < r; i++)
        ck_buf_putc(b, '0');
    const char *si = fmt == CK_QUANTITY_DECIMAL_SI ? decimal_si_suffix(exp) : NULL;
    if (si)
        ck_buf_puts(b, si);
    else if (exp != 0)
        ck_buf_printf(b, "e%lld", (long long)exp);
}

/* The integer value of q when it has no fraction (and fits our width). */
static bool as_integer(const struct ck_quantity *q, uint32_t *v)
{
    memcpy(v, q->mag, sizeof(q->mag));
    if (q->scale >= 0)
        return bn_mul_pow10(v, q->scale);
    bool inexact = false;
    bn_div_pow10(v, -(int64_t)q->scale, &inexact);
    return !inexact;
}

static void format_canonical(const struct ck_quantity *q, struct ck_buf *b)
{
    static const char *const bin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    enum ck_quantity_format fmt = q->format;
    if (fmt == CK_QUANTITY_BINARY_SI) {
        uint32_t v[NL];
        if (ck_quantity_cmp_int64(q, -1024) > 0 && ck_quantity_cmp_int64(q, 1024) < 0) {
            fmt = CK_QUANTITY_DECIMAL_SI;
        } else if (!as_integer(q, v)) {
            fmt = CK_QUANTITY_DECIMAL_SI; /* a fraction: don't lose precision */
        } else {
            /* Upstream has no suffix past Ei; we keep larger multiples on Ei. */
            size_t k = 0;
            uint32_t t[NL];
            while (k + 1 < CK_ARRAY_SIZE(bin)) {
                memcpy(t, v, sizeof(t));
                if (bn_div_small(t, 1024) != 0)
                    break;
                memcpy(v, t, sizeof(t));
                k++;
            }
            char digits[DEC_BUF];
            size_t n = bn_to_dec(v, digits);
            if (q->negative)
                ck_buf_putc(b, '-');
            ck_buf_add(b, digits, n);
            ck_buf_puts(b, bin[k]);
            return;
        }
    } else if (fmt != CK_QUANTITY_DECIMAL_SI) {
        fmt = CK_QUANTITY_DECIMAL_EXPONENT;
    }
    format_decimal(q, fmt, b);
}

int ck_quantity_format(const struct ck_quantity *q, char *buf, size_t size)
{
    if (!buf || size == 0)
        return -ENOSPC;
    if (q->cached[0] && memchr(q->cached, '\0', sizeof(q->cached)))
        return ck_strlcpy(buf, q->cached, size);
    if (bn_is_zero(q->mag))
        return ck_strlcpy(buf, "0", size);
    struct ck_buf b = CK_BUF_INIT;
    format_canonical(q, &b);
    int rc = ck_strlcpy(buf, ck_buf_str(&b), size);
    ck_buf_free(&b);
    return rc;
}

char *ck_quantity_to_string(const struct ck_quantity *q)
{
    char buf[CK_QUANTITY_STR_MAX];
    if (ck_quantity_format(q, buf, sizeof(buf)) < 0)
        return ck_xstrdup("0"); /* cannot happen: the buffer always suffices */
    return ck_xstrdup(buf);
}

cJSON *ck_quantity_to_json(const struct ck_quantity *q)
{
    char buf[CK_QUANTITY_STR_MAX];
    if (ck_quantity_format(q, buf, sizeof(buf)) < 0)
        buf[0] = '\0';
    return cJSON_CreateString(buf);
}

const char *ck_quantity_format_name(enum ck_quantity_format format)
{
    switch (format) {
    case CK_QUANTITY_BINARY_SI:
        return "BinarySI";
    case CK_QUANTITY_DECIMAL_SI:
        return "DecimalSI";
    default:
        return "DecimalExponent";
    }
}

/* ---- constructors and arithmetic -------------------------------------------------- */

struct ck_quantity ck_quantity_from_scaled(int64_t value, int32_t scale,
                                           enum ck_quantity_format format)
{
    struct ck_quantity q;
    memset(&q, 0, sizeof(q));
    q.format = format;
    bn_set_u64(q.mag, value < 0 ? 0 - (uint64_t)value : (uint64_t)value);
    q.negative = value < 0;
    q.scale = scale;
    q_normalize(&q);
    return q;
}

struct ck_quantity ck_quantity_from_int64(int64_t value, enum ck_quantity_format format)
{
    return ck_quantity_from_scaled(value, 0, format);
}

struct ck_quantity ck_quantity_from_milli(int64_t milli, enum ck_quantity_format format)
{
    return ck_quantity_from_scaled(milli, CK_SCALE_MILLI, format);
}

bool ck_quantity_is_zero(const struct ck_quantity *q)
{
    return bn_is_zero(q->mag);
}

int ck_quantity_sign(const struct ck_quantity *q)
{
    if (bn_is_zero(q->mag))
        return 0;
    return q->negative ? -1 : 1;
}

/* Compares |a| and |b| exactly. */
static int cmp_magnitude(const uint32_t *am, int32_t as, const uint32_t *bm, int32_t bs)
{
    bool az = bn_is_zero(am), bz = bn_is_zero(bm);
    if (az || bz)
        return az && bz ? 0 : (az ? -1 : 1);
    int64_t ta = (int64_t)bn_declen(am) + as, tb = (int64_t)bn_declen(bm) + bs;
    if (ta != tb)
        return ta < tb ? -1 : 1;
    /* Same position of the leading digit: aligning the scales cannot overflow. */
    uint32_t a[NL], b[NL];
    memcpy(a, am, sizeof(a));
    memcpy(b, bm, sizeof(b));
    if (as > bs)
        bn_mul_pow10(a, (int64_t)as - bs);
    else if (bs > as)
        bn_mul_pow10(b, (int64_t)bs - as);
    return bn_cmp(a, b);
}

int ck_quantity_cmp(const struct ck_quantity *a, const struct ck_quantity *b)
{
    int sa = ck_quantity_sign(a), sb = ck_quantity_sign(b);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    int c = cmp_magnitude(a->mag, a->scale, b->mag, b->scale);
    return sa > 0 ? c : -c;
}

int ck_quantity_cmp_int64(const struct ck_quantity *a, int64_t b)
{
    struct ck_quantity t = ck_quantity_from_int64(b, CK_QUANTITY_DECIMAL_SI);
    return ck_quantity_cmp(a, &t);
}

/* q += (neg ? -1 : 1) * mag * 10^scale, exact; q untouched on -ERANGE. */
static int add_signed(struct ck_quantity *q, const uint32_t *mag, int32_t scale, bool neg)
{
    if (bn_is_zero(mag))
        return 0;
    if (bn_is_zero(q->mag)) {
        memmove(q->mag, mag, sizeof(q->mag));
        q->scale = scale;
        q->negative = neg;
        q_normalize(q);
        return 0;
    }
    uint32_t a[NL], b[NL], r[NL];
    memcpy(a, q->mag, sizeof(a));
    memcpy(b, mag, sizeof(b));
    int32_t s = q->scale < scale ? q->scale : scale;
    if (!bn_mul_pow10(a, (int64_t)q->scale - s) || !bn_mul_pow10(b, (int64_t)scale - s))
        return -ERANGE;
    bool rneg;
    if (q->negative == neg) {
        if (!bn_add(r, a, b))
            return -ERANGE;
        rneg = neg;
    } else if (bn_cmp(a, b) >= 0) {
        bn_sub(r, a, b);
        rneg = q->negative;
    } else {
        bn_sub(r, b, a);
        rneg = neg;
    }
    memcpy(q->mag, r, sizeof(r));
    q->scale = s;
    q->negative = rneg;
    q_normalize(q);
    return 0;
}

int ck_quantity_add(struct ck_quantity *q, const struct ck_quantity *y)
{
    struct ck_quantity t = *q;
    if (bn_is_zero(t.mag))
        t.format = y->format;
    int rc = add_signed(&t, y->mag, y->scale, y->negative);
    if (rc < 0)
        return rc;
    t.cached[0] = '\0';
    *q = t;
    return 0;
}

int ck_quantity_sub(struct ck_quantity *q, const struct ck_quantity *y)
{
    struct ck_quantity t = *q;
    if (bn_is_zero(t.mag))
        t.format = y->format;
    int rc = add_signed(&t, y->mag, y->scale, !y->negative);
    if (rc < 0)
        return rc;
    t.cached[0] = '\0';
    *q = t;
    return 0;
}

int ck_quantity_mul(struct ck_quantity *q, int64_t y)
{
    uint32_t m[NL];
    memcpy(m, q->mag, sizeof(m));
    if (!bn_mul_u64(m, y < 0 ? 0 - (uint64_t)y : (uint64_t)y))
        return -ERANGE;
    memcpy(q->mag, m, sizeof(m));
    q->negative = q->negative != (y < 0);
    q->cached[0] = '\0';
    q_normalize(q);
    return 0;
}

void ck_quantity_neg(struct ck_quantity *q)
{
    q->cached[0] = '\0';
    if (!bn_is_zero(q->mag))
        q->negative = !q->negative;
}

bool ck_quantity_round_up(struct ck_quantity *q, int32_t scale)
{
    if (q->scale >= scale)
        return true;
    bool inexact = false;
    bn_div_pow10(q->mag, (int64_t)scale - q->scale, &inexact);
    if (inexact)
        bn_add_small(q->mag, 1); /* cannot overflow after a division */
    q->scale = scale;
    q->cached[0] = '\0';
    q_normalize(q);
    return !inexact;
}

int ck_quantity_scaled_value(const struct ck_quantity *q, int32_t scale, int64_t *out)
{
    uint32_t m[NL];
    memcpy(m, q->mag, sizeof(m));
    int64_t diff = (int64_t)q->scale - scale;
    if (diff >= 0) {
        if (!bn_mul_pow10(m, diff))
            return -ERANGE;
    } else {
        bool inexact = false;
        bn_div_pow10(m, -diff, &inexact);
        if (inexact)
            bn_add_small(m, 1);
    }
    uint64_t u;
    if (!bn_get_u64(m, &u))
        return -ERANGE;
    if (q->negative) {
        if (u > (uint64_t)INT64_MAX + 1)
            return -ERANGE;
        *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    } else {
        if (u > (uint64_t)INT64_MAX)
            return -ERANGE;
        *out = (int64_t)u;
    }
    return 0;
}

static int64_t saturated_scaled_value(const struct ck_quantity *q, int32_t scale)
{
    int64_t v;
    if (ck_quantity_scaled_value(q, scale, &v) < 0)
        return q->negative ? INT64_MIN : INT64_MAX;
    return v;
}

int64_t ck_quantity_value(const struct ck_quantity *q)
{
    return saturated_scaled_value(q, 0);
}

int64_t ck_quantity_milli_value(const struct ck_quantity *q)
{
    return saturated_scaled_value(q, CK_SCALE_MILLI);
}

double ck_quantity_as_float64(const struct ck_quantity *q)
{
    double base = 0;
    for (int i = NL; i-- > 0;)
        base = base * 4294967296.0 + q->mag[i];
    if (q->negative)
        base = -base;
    if (q->scale == 0 || base == 0)
        return base;
    return base * pow(10.0, q->scale);
}
