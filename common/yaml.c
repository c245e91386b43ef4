/* yaml.c - YAML <-> JSON with the rules of sigs.k8s.io/yaml over go-yaml v2 (see yaml.h).
 *
 * Reading goes in three steps, as upstream's does: libyaml's events build a node tree of the
 * first document (anchors resolved to nodes, nesting capped); the tree is decoded with
 * go-yaml v2's scalar resolution, merge keys and alias budget; keys are turned into JSON
 * strings as sigs.k8s.io/yaml does. Errors keep upstream's precedence: a syntax or decode
 * error first, then strict-mode duplicate keys, then key conversion, then JSON encoding.
 *
 * Writing drives libyaml's emitter with the styles go-yaml v2's encoder asks for (go-yaml's
 * emitter is a port of libyaml's, so layout, quoting fallbacks and line folding agree).
 */
#include "yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CK_YAML_WANT_LIBYAML /* libyaml's <yaml.h>, even with -Icommon first (see yaml.h) */
#include <yaml.h>

#include "encoding.h"
#include "mem.h"

#define TAG_PREFIX "tag:yaml.org,2002:"
#define TAG_STR TAG_PREFIX "str"
#define TAG_BOOL TAG_PREFIX "bool"
#define TAG_INT TAG_PREFIX "int"
#define TAG_FLOAT TAG_PREFIX "float"
#define TAG_NULL TAG_PREFIX "null"
#define TAG_TIMESTAMP TAG_PREFIX "timestamp"
#define TAG_BINARY TAG_PREFIX "binary"
#define TAG_MERGE TAG_PREFIX "merge"

/* Integers beyond this magnitude do not fit a double exactly and are kept as raw text. */
#define EXACT_DOUBLE_INT 9007199254740992.0 /* 2^53 */
/* go-yaml's big-integer fallback; we convert at most this many digits to decimal. */
#define MAX_BIG_DIGITS 2048
/* Longest scalar quoted back in an error message. */
#define ERR_VALUE_MAX 200
/* kubectl's YAMLOrJSONDecoder sniffs this many bytes for a leading `{`. */
#define JSON_SNIFF_BYTES 4096

/* ------------------------------------------------------------------------------------------
 * Arena: the node tree of one document lives here and is freed at once.
 */

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
};

#define ARENA_HDR ((sizeof(struct arena_block) + 15) & ~(size_t)15)

struct arena {
    struct arena_block *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        struct arena_block *b = ck_xmalloc(ARENA_HDR + cap);
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = (char *)a->head + ARENA_HDR + a->head->used;
    a->head->used += n;
    return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void arena_free(struct arena *a)
{
    while (a->head) {
        struct arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

/* ------------------------------------------------------------------------------------------
 * Small string helpers shared by both directions.
 */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        min = 0x80;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        min = 0x800;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return len;
}

/* Copies s with every invalid UTF-8 byte replaced by U+FFFD, as Go's JSON encoding does.
 * Returns NULL when s is already valid (no copy needed); otherwise a malloc'd string. */
static char *utf8_sanitize(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t l = utf8_seq_len((const unsigned char *)s + i, n - i);
        if (!l)
            break;
        i += l;
    }
    if (i == n)
        return NULL;
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_add(&b, s, i);
    while (i < n) {
        size_t l = utf8_seq_len((const unsigned char *)s + i, n - i);
        if (l) {
            ck_buf_add(&b, s + i, l);
            i += l;
        } else {
            ck_buf_puts(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    return ck_buf_detach(&b);
}

/* Appends s as Go's strconv.Quote would write it (printable UTF-8 kept, the rest escaped). */
static void go_quote(struct ck_buf *b, const char *s, size_t n)
{
    ck_buf_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t l = utf8_seq_len((const unsigned char *)s + i, n - i);
        if (c >= 0x80 && l > 1) {
            ck_buf_add(b, s + i, l);
            i += l;
            continue;
        }
        switch (c) {
        case '"':
            ck_buf_puts(b, "\\\"");
            break;
        case '\\':
            ck_buf_puts(b, "\\\\");
            break;
        case '\n':
            ck_buf_puts(b, "\\n");
            break;
        case '\t':
            ck_buf_puts(b, "\\t");
            break;
        case '\r':
            ck_buf_puts(b, "\\r");
            break;
        case '\a':
            ck_buf_puts(b, "\\a");
            break;
        case '\b':
            ck_buf_puts(b, "\\b");
            break;
        case '\f':
            ck_buf_puts(b, "\\f");
            break;
        case '\v':
            ck_buf_puts(b, "\\v");
            break;
        default:
            if (c < 0x20 || c == 0x7F || c >= 0x80)
                ck_buf_printf(b, "\\x%02x", c);
            else
                ck_buf_putc(b, (char)c);
        }
        i++;
    }
    ck_buf_putc(b, '"');
}

/* Formats v as Go's strconv.FormatFloat(v, 'g', -1, bits): the shortest digits that read
 * back as the same float32/float64, exponent form when the exponent is < -4 or >= 6. */
static void go_format_g(double v, int bits, char *out, size_t size)
{
    if (isnan(v)) {
        snprintf(out, size, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, size, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char buf[48];
    if (bits == 32) {
        float f = (float)v;
        for (int p = 1; p <= 9; p++) {
            snprintf(buf, sizeof(buf), "%.*e", p - 1, (double)f);
            if (strtof(buf, NULL) == f)
                break;
        }
    } else {
        for (int p = 1; p <= 17; p++) {
            snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
    /* buf is [-]d[.ddd]e(+|-)xx: split into sign, digits and decimal exponent */
    const char *p = buf;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < sizeof(digits) - 1)
            digits[nd++] = *p;
    int exp10 = *p == 'e' ? atoi(p + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    struct ck_buf b = CK_BUF_INIT;
    if (neg)
        ck_buf_putc(&b, '-');
    if (nd == 1 && digits[0] == '0') {
        ck_buf_putc(&b, '0');
    } else if (exp10 < -4 || exp10 >= 6) {
        ck_buf_putc(&b, digits[0]);
        if (nd > 1) {
            ck_buf_putc(&b, '.');
            ck_buf_add(&b, digits + 1, nd - 1);
        }
        ck_buf_printf(&b, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    } else {
        int dp = exp10 + 1;
        if (dp <= 0) {
            ck_buf_puts(&b, "0.");
            for (int i = 0; i < -dp; i++)
                ck_buf_putc(&b, '0');
            ck_buf_add(&b, digits, nd);
        } else if ((size_t)dp >= nd) {
            ck_buf_add(&b, digits, nd);
            for (size_t i = nd; i < (size_t)dp; i++)
                ck_buf_putc(&b, '0');
        } else {
            ck_buf_add(&b, digits, (size_t)dp);
            ck_buf_putc(&b, '.');
            ck_buf_add(&b, digits + dp, nd - (size_t)dp);
        }
    }
    snprintf(out, size, "%s", ck_buf_str(&b));
    ck_buf_free(&b);
}

/* ------------------------------------------------------------------------------------------
 * go-yaml v2 scalar resolution (resolve.go): what a plain scalar means.
 */

enum rkind {
    RK_NULL,
    RK_BOOL,
    RK_INT,  /* fits int64 */
    RK_UINT, /* above int64, fits uint64 */
    RK_BIG,  /* beyond 64 bits, written with a base prefix: decimal text in `own` */
    RK_FLOAT,
    RK_TIMESTAMP, /* decoded as the string itself */
    RK_STR,
    RK_BINARY, /* !!binary: decoded bytes in `own` */
};

struct rval {
    enum rkind kind;
    bool b;
    int64_t i;
    uint64_t u;
    double f;
    const char *s; /* RK_STR/RK_TIMESTAMP: borrowed text */
    size_t slen;
    char *own; /* RK_BIG/RK_BINARY: malloc'd text */
    size_t ownlen;
};

static void rval_free(struct rval *r)
{
    free(r->own);
    r->own = NULL;
}

static const char *rkind_tag(enum rkind k)
{
    switch (k) {
    case RK_NULL:
        return TAG_NULL;
    case RK_BOOL:
        return TAG_BOOL;
    case RK_INT:
    case RK_UINT:
    case RK_BIG:
        return TAG_INT;
    case RK_FLOAT:
        return TAG_FLOAT;
    case RK_TIMESTAMP:
        return TAG_TIMESTAMP;
    case RK_BINARY:
        return TAG_BINARY;
    case RK_STR:
        break;
    }
    return TAG_STR;
}

/* The words go-yaml v2 maps directly (its resolve table), with their meaning. */
static const struct {
    const char *word;
    enum rkind kind;
    int val; /* bool value, or float: 1 = +inf, -1 = -inf, 0 = nan */
} resolve_words[] = {
    {"y", RK_BOOL, 1},       {"Y", RK_BOOL, 1},       {"yes", RK_BOOL, 1},
    {"Yes", RK_BOOL, 1},     {"YES", RK_BOOL, 1},     {"true", RK_BOOL, 1},
    {"True", RK_BOOL, 1},    {"TRUE", RK_BOOL, 1},    {"on", RK_BOOL, 1},
    {"On", RK_BOOL, 1},      {"ON", RK_BOOL, 1},      {"n", RK_BOOL, 0},
    {"N", RK_BOOL, 0},       {"no", RK_BOOL, 0},      {"No", RK_BOOL, 0},
    {"NO", RK_BOOL, 0},      {"false", RK_BOOL, 0},   {"False", RK_BOOL, 0},
    {"FALSE", RK_BOOL, 0},   {"off", RK_BOOL, 0},     {"Off", RK_BOOL, 0},
    {"OFF", RK_BOOL, 0},     {"", RK_NULL, 0},        {"~", RK_NULL, 0},
    {"null", RK_NULL, 0},    {"Null", RK_NULL, 0},    {"NULL", RK_NULL, 0},
    {".nan", RK_FLOAT, 0},   {".NaN", RK_FLOAT, 0},   {".NAN", RK_FLOAT, 0},
    {".inf", RK_FLOAT, 1},   {".Inf", RK_FLOAT, 1},   {".INF", RK_FLOAT, 1},
    {"+.inf", RK_FLOAT, 1},  {"+.Inf", RK_FLOAT, 1},  {"+.INF", RK_FLOAT, 1},
    {"-.inf", RK_FLOAT, -1}, {"-.Inf", RK_FLOAT, -1}, {"-.INF", RK_FLOAT, -1},
};

/* go-yaml's first-byte hint: 'S' sign, 'D' digit, 'M' in the word table, '.' float, 0 none. */
static char resolve_hint(const char *in, size_t len)
{
    if (len == 0)
        return 'N';
    char c = in[0];
    if (c == '+' || c == '-')
        return 'S';
    if (c >= '0' && c <= '9')
        return 'D';
    if (c && strchr("yYnNtTfFoO~", c))
        return 'M';
    if (c == '.')
        return '.';
    return 0;
}

enum perr { P_OK, P_SYNTAX, P_RANGE };

static int digit_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    return 99;
}

/* Go's strconv.ParseUint(s, base, 64); base 0 reads 0b/0o/0x and a leading-0 octal prefix. */
static enum perr go_parse_uint(const char *s, size_t n, int base, uint64_t *out)
{
    *out = 0;
    if (n == 0)
        return P_SYNTAX;
    if (base == 0) {
        base = 10;
        if (s[0] == '0') {
            char p = n >= 3 ? (char)(s[1] | 0x20) : 0;
            if (p == 'b' || p == 'o' || p == 'x') {
                base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
                s += 2;
                n -= 2;
            } else {
                base = 8;
                s++;
                n--;
            }
        }
    }
    uint64_t cutoff = UINT64_MAX / (uint64_t)base + 1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digit_val(s[i]);
        if (d >= base)
            return P_SYNTAX;
        if (v >= cutoff)
            return P_RANGE;
        v *= (uint64_t)base;
        uint64_t v1 = v + (uint64_t)d;
        if (v1 < v)
            return P_RANGE;
        v = v1;
    }
    *out = v;
    return P_OK;
}

/* Go's strconv.ParseInt(s, base, 64). */
static enum perr go_parse_int(const char *s, size_t n, int base, int64_t *out)
{
    *out = 0;
    if (n == 0)
        return P_SYNTAX;
    bool neg = false;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        s++;
        n--;
    }
    uint64_t u;
    enum perr e = go_parse_uint(s, n, base, &u);
    if (e != P_OK)
        return e;
    if (!neg && u >= (uint64_t)1 << 63)
        return P_RANGE;
    if (neg && u > (uint64_t)1 << 63)
        return P_RANGE;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return P_OK;
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i < n && s[i] == '.') {
        i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    } else {
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
        if (i < n && s[i] == '.') {
            i++;
            while (i < n && s[i] >= '0' && s[i] <= '9')
                i++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

/* Go's strconv underscoreOK: underscores only between digits. */
static bool go_underscore_ok(const char *s, size_t n)
{
    char saw = '^';
    size_t i = 0;
    if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
        s++;
        n--;
    }
    bool hex = false;
    if (n >= 2 && s[0] == '0' && strchr("bBoOxX", s[1])) {
        i = 2;
        saw = '0';
        hex = (s[1] | 0x20) == 'x';
    }
    for (; i < n; i++) {
        char c = s[i];
        if ((c >= '0' && c <= '9') || (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')) {
            saw = '0';
            continue;
        }
        if (c == '_') {
            if (saw != '0')
                return false;
            saw = '_';
            continue;
        }
        if (saw == '_')
            return false;
        saw = '!';
    }
    return saw != '_';
}

/* strtod over a decimal float already checked for syntax; false on overflow (Go's ErrRange). */
static bool parse_decimal_float(const char *s, size_t n, double *out)
{
    char stack[64];
    char *tmp = n < sizeof(stack) ? stack : ck_xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            tmp[j++] = s[i];
    tmp[j] = '\0';
    double v = strtod(tmp, NULL);
    if (tmp != stack)
        free(tmp);
    if (isinf(v))
        return false;
    *out = v;
    return true;
}

/* Go's ParseFloat for a scalar starting with '.' (go-yaml's '.' hint): decimal syntax with
 * underscores between digits allowed. */
static bool go_parse_float_dot(const char *s, size_t n, double *out)
{
    size_t i = 0;
    bool sawdot = false, sawdigits = false, underscores = false;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            underscores = true;
        } else if (c == '.') {
            if (sawdot)
                break;
            sawdot = true;
        } else if (c >= '0' && c <= '9') {
            sawdigits = true;
        } else {
            break;
        }
    }
    if (!sawdigits)
        return false;
    if (i < n && (s[i] | 0x20) == 'e') {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return false;
        for (; i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); i++)
            if (s[i] == '_')
                underscores = true;
    }
    if (i != n)
        return false;
    if (underscores && !go_underscore_ok(s, n))
        return false;
    return parse_decimal_float(s, n, out);
}

/* big.Int.SetString(s, 0) for an unsigned, prefixed literal; sets r->own to its decimal form.
 * Only reached for 0b/0o/0x/0-prefixed integers that overflow 64 bits. */
static bool big_to_decimal(const char *s, size_t n, struct rval *r)
{
    int base = 10;
    if (n >= 2 && s[0] == '0' && strchr("bBoOxX", s[1])) {
        char p = (char)(s[1] | 0x20);
        base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
        s += 2;
        n -= 2;
    } else if (n >= 1 && s[0] == '0') {
        base = 8;
        s++;
        n--;
    }
    if (n == 0 || n > MAX_BIG_DIGITS)
        return false;
    /* little-endian limbs of 10^9 */
    size_t cap = n / 2 + 2, used = 1;
    uint32_t *limb = ck_xcalloc(cap, sizeof(*limb));
    for (size_t i = 0; i < n; i++) {
        int d = digit_val(s[i]);
        if (d >= base) {
            free(limb);
            return false;
        }
        uint64_t carry = (uint64_t)d;
        for (size_t k = 0; k < used; k++) {
            uint64_t x = (uint64_t)limb[k] * (uint64_t)base + carry;
            limb[k] = (uint32_t)(x % 1000000000u);
            carry = x / 1000000000u;
        }
        if (carry)
            limb[used++] = (uint32_t)carry;
    }
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_printf(&b, "%u", limb[used - 1]);
    for (size_t k = used - 1; k-- > 0;)
        ck_buf_printf(&b, "%09u", limb[k]);
    free(limb);
    r->kind = RK_BIG;
    r->ownlen = b.len;
    r->own = ck_buf_detach(&b);
    return true;
}

/* Reads 1 or 2 digits (Go's non-fixed layout numbers); returns the count read. */
static int ts_num(const char *s, size_t n, size_t *i, int *v)
{
    int cnt = 0;
    *v = 0;
    while (*i < n && cnt < 2 && s[*i] >= '0' && s[*i] <= '9') {
        *v = *v * 10 + (s[*i] - '0');
        (*i)++;
        cnt++;
    }
    return cnt;
}

/* go-yaml's parseTimestamp: the layouts 2006-1-2T15:4:5.999999999Z07:00 (also with 't'),
 * "2006-1-2 15:4:5.999999999" and 2006-1-2, with Go's range checks. */
static bool parse_timestamp(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i != 4 || i == n || s[i] != '-')
        return false;
    int year = atoi(s) /* four digits followed by '-' */, mon, day;
    i++;
    if (!ts_num(s, n, &i, &mon) || i >= n || s[i] != '-')
        return false;
    i++;
    if (!ts_num(s, n, &i, &day))
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1])
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mon == 2 && day == 29 && !leap)
        return false;
    if (i == n)
        return true;
    char sep = s[i];
    if (sep != 'T' && sep != 't' && sep != ' ')
        return false;
    i++;
    int hh, mm, ss;
    if (!ts_num(s, n, &i, &hh) || i >= n || s[i] != ':')
        return false;
    i++;
    if (!ts_num(s, n, &i, &mm) || i >= n || s[i] != ':')
        return false;
    i++;
    if (!ts_num(s, n, &i, &ss))
        return false;
    if (hh > 23 || mm > 59 || ss > 59)
        return false;
    if (i < n && s[i] == '.' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (sep == ' ')
        return i == n;
    if (i < n && s[i] == 'Z')
        return i + 1 == n;
    if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        for (size_t k = i + 1; k < n; k++)
            if (k != i + 3 && (s[k] < '0' || s[k] > '9'))
                return false;
        return true;
    }
    return false;
}

/* What go-yaml v2's resolve() makes of `in` when no tag forces a string. `with_ts` asks for
 * the timestamp check (done for untagged and !!timestamp scalars only). */
static void resolve_plain(const char *in, size_t len, bool with_ts, struct rval *r)
{
    memset(r, 0, sizeof(*r));
    r->kind = RK_STR;
    r->s = in;
    r->slen = len;
    char hint = resolve_hint(in, len);
    if (!hint)
        return;
    for (size_t k = 0; k < CK_ARRAY_SIZE(resolve_words); k++) {
        if (strlen(resolve_words[k].word) == len && !memcmp(resolve_words[k].word, in, len)) {
            r->kind = resolve_words[k].kind;
            if (r->kind == RK_BOOL)
                r->b = resolve_words[k].val != 0;
            else if (r->kind == RK_FLOAT)
                r->f = resolve_words[k].val == 0  ? NAN
                       : resolve_words[k].val > 0 ? INFINITY
                                                  : -INFINITY;
            return;
        }
    }
    if (hint == '.') {
        double f;
        if (go_parse_float_dot(in, len, &f)) {
            r->kind = RK_FLOAT;
            r->f = f;
        }
        return;
    }
    if (hint != 'D' && hint != 'S')
        return;
    if (with_ts && parse_timestamp(in, len)) {
        r->kind = RK_TIMESTAMP;
        return;
    }
    /* go-yaml drops every underscore before the numeric parses */
    char stack[128];
    char *plain = len < sizeof(stack) ? stack : ck_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (in[i] != '_')
            plain[n++] = in[i];
    plain[n] = '\0';

    int64_t iv;
    uint64_t uv;
    enum perr uerr = P_OK;
    double f;
    if (go_parse_int(plain, n, 0, &iv) == P_OK) {
        r->kind = RK_INT;
        r->i = iv;
    } else if ((uerr = go_parse_uint(plain, n, 0, &uv)) == P_OK) {
        r->kind = RK_UINT;
        r->u = uv;
    } else if (yaml_style_float(plain, n) && parse_decimal_float(plain, n, &f)) {
        r->kind = RK_FLOAT;
        r->f = f;
    } else if (n >= 2 && plain[0] == '0' && plain[1] == 'b' &&
               go_parse_int(plain + 2, n - 2, 2, &iv) == P_OK) {
        r->kind = RK_INT;
        r->i = iv;
    } else if (n >= 2 && plain[0] == '0' && plain[1] == 'b' &&
               go_parse_uint(plain + 2, n - 2, 2, &uv) == P_OK) {
        r->kind = RK_UINT;
        r->u = uv;
    } else if (n >= 3 && !(plain[0] == '0' && plain[1] == 'b') && !memcmp(plain, "-0b", 3)) {
        /* "-0b" followed by base-2 digits, which ParseInt(.., 0, ..) already read, or by a
         * second sign that go-yaml's ParseInt("-"+rest, 2) accepts */
        plain[2] = '-';
        if (go_parse_int(plain + 2, n - 2, 2, &iv) == P_OK) {
            r->kind = RK_INT;
            r->i = iv;
        }
        plain[2] = 'b';
    }
    if (r->kind == RK_STR && uerr == P_RANGE)
        big_to_decimal(plain, n, r);
    if (plain != stack)
        free(plain);
}

/* go-yaml's isBase60Float: strings like 1:20 are quoted on output for YAML 1.1 readers. */
static bool is_base60_float(const char *s, size_t n)
{
    if (n == 0 || !(s[0] == '+' || s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) ||
        !memchr(s, ':', n))
        return false;
    size_t i = 0;
    if (s[i] == '+' || s[i] == '-')
        i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return false;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        i++;
    int groups = 0;
    while (i < n && s[i] == ':') {
        i++;
        size_t d = i;
        if (i < n && s[i] >= '0' && s[i] <= '5')
            i++;
        if (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        else if (i - d == 1)
            ; /* a single digit 0-5 is a full group */
        else
            return false;
        groups++;
    }
    if (!groups)
        return false;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            i++;
    }
    return i == n;
}

/* ------------------------------------------------------------------------------------------
 * Node tree of one document, built from libyaml events without recursion.
 */

enum ykind { YK_SCALAR, YK_MAPPING, YK_SEQUENCE, YK_ALIAS };

struct ynode {
    enum ykind kind;
    bool implicit;     /* scalar: plain and untagged, so resolved */
    bool busy;         /* alias: being expanded (go-yaml's "contains itself" check) */
    int line;          /* 0-based line of the start mark */
    const char *tag;   /* scalar tag (long form) or NULL */
    const char *value; /* scalar text, or the alias's anchor name */
    size_t len;
    struct ynode *target; /* alias: the anchored node */
    struct ynode **kids;  /* mapping: key, value, key, value...; sequence: items */
    size_t nkids;
};

struct anchor_ent {
    const char *name;
    struct ynode *node;
};

struct tree {
    struct arena arena;
    struct ynode *root; /* NULL for a stream without documents */
    struct anchor_ent *anchors;
    size_t anchor_cap, anchor_count;
};

static uint32_t hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static struct anchor_ent *anchor_slot(struct tree *t, const char *name)
{
    size_t mask = t->anchor_cap - 1;
    size_t i = hash_str(name, strlen(name)) & mask;
    while (t->anchors[i].name && strcmp(t->anchors[i].name, name))
        i = (i + 1) & mask;
    return &t->anchors[i];
}

/* Records an anchor; a later anchor of the same name replaces it, as in go-yaml. */
static void anchor_set(struct tree *t, const char *name, struct ynode *n)
{
    if ((t->anchor_count + 1) * 2 > t->anchor_cap) {
        struct anchor_ent *old = t->anchors;
        size_t oldcap = t->anchor_cap;
        t->anchor_cap = oldcap ? oldcap * 2 : 16;
        t->anchors = ck_xcalloc(t->anchor_cap, sizeof(*t->anchors));
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].name)
                *anchor_slot(t, old[i].name) = old[i];
        free(old);
    }
    struct anchor_ent *e = anchor_slot(t, name);
    if (!e->name) {
        e->name = arena_strndup(&t->arena, name, strlen(name));
        t->anchor_count++;
    }
    e->node = n;
}

static struct ynode *anchor_get(struct tree *t, const char *name)
{
    if (!t->anchor_cap)
        return NULL;
    struct anchor_ent *e = anchor_slot(t, name);
    return e->name ? e->node : NULL;
}

static void tree_free(struct tree *t)
{
    arena_free(&t->arena);
    free(t->anchors);
    memset(t, 0, sizeof(*t));
}

/* go-yaml's parser.fail(): "line N: " from the problem mark (scanner errors count from 1,
 * the others as go-yaml reports them), else from the context mark, then the problem. */
static void parser_error(const yaml_parser_t *p, char *msg, size_t size)
{
    size_t line = 0;
    if (p->problem_mark.line != 0) {
        line = p->problem_mark.line;
        if (p->error == YAML_SCANNER_ERROR)
            line++;
    } else if (p->context_mark.line != 0) {
        line = p->context_mark.line;
    }
    const char *problem =
        p->problem && *p->problem ? p->problem : "unknown problem parsing YAML content";
    if (line)
        snprintf(msg, size, "yaml: line %zu: %s", line, problem);
    else
        snprintf(msg, size, "yaml: %s", problem);
}

/* go-yaml v2's scanner knows no `\/` escape, which libyaml 0.2.5 accepts: look for one in
 * the source of a double-quoted scalar. Sets *lines to the line breaks before it. */
static bool find_slash_escape(const char *src, size_t n, size_t *lines)
{
    *lines = 0;
    for (size_t i = 1; i < n; i++) {
        bool esc = src[i] == '\\' && i + 1 < n;
        if (esc && src[i + 1] == '/')
            return true;
        if (esc)
            i++;
        if (src[i] == '\n' || (src[i] == '\r' && !(i + 1 < n && src[i + 1] == '\n')))
            (*lines)++;
    }
    return false;
}

/* Byte offset of libyaml's character index `target` in UTF-8 input (marks count characters);
 * the cursor only moves forward, as events do. */
struct src_cursor {
    size_t chars, bytes;
};

static size_t src_offset(struct src_cursor *c, const char *data, size_t len, size_t target)
{
    while (c->chars < target && c->bytes < len) {
        size_t l = utf8_seq_len((const unsigned char *)data + c->bytes, len - c->bytes);
        c->bytes += l ? l : 1;
        c->chars++;
    }
    return c->bytes;
}

struct open_coll {
    struct ynode *node;
    size_t first; /* index of its first kid in the pending stack */
};

/* Builds the tree of the first document of data. Returns 0, or -EINVAL with msg set. */
static int tree_build(const char *data, size_t len, struct tree *t, char *msg, size_t msgsize)
{
    memset(t, 0, sizeof(*t));
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(msg, msgsize, "yaml: cannot initialize the YAML parser");
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)(len ? data : "\n"),
                                 len ? len : 1);
    struct ynode **pending = NULL;
    size_t npending = 0, cappending = 0;
    /* the `\/` check needs byte offsets, which it can find in UTF-8 input only */
    bool utf16 = len >= 2 && ((unsigned char)data[0] == 0xFE || (unsigned char)data[0] == 0xFF);
    struct src_cursor cur = {0, len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) ? 3 : 0};
    struct open_coll *open = NULL;
    size_t nopen = 0, capopen = 0;
    int rc = 0;
    bool done = false;

    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            parser_error(&parser, msg, msgsize);
            rc = -EINVAL;
            break;
        }
        struct ynode *node = NULL;
        const yaml_char_t *anchor = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            done = true;
            break;
        case YAML_ALIAS_EVENT: {
            const char *name = (const char *)ev.data.alias.anchor;
            struct ynode *target = anchor_get(t, name);
            if (!target) {
                snprintf(msg, msgsize, "yaml: unknown anchor '%.*s' referenced", ERR_VALUE_MAX,
                         name);
                rc = -EINVAL;
                done = true;
                break;
            }
            node = arena_alloc(&t->arena, sizeof(*node));
            memset(node, 0, sizeof(*node));
            node->kind = YK_ALIAS;
            node->value = arena_strndup(&t->arena, name, strlen(name));
            node->target = target;
            break;
        }
        case YAML_SCALAR_EVENT:
            if (ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE && !utf16 &&
                memchr(ev.data.scalar.value, '/', ev.data.scalar.length)) {
                size_t a = src_offset(&cur, data, len, ev.start_mark.index);
                size_t b = src_offset(&cur, data, len, ev.end_mark.index);
                size_t lines;
                if (a < b && find_slash_escape(data + a, b - a, &lines)) {
                    size_t line0 = ev.start_mark.line + lines;
                    if (line0)
                        snprintf(msg, msgsize, "yaml: line %zu: found unknown escape character",
                                 line0 + 1);
                    else
                        snprintf(msg, msgsize, "yaml: found unknown escape character");
                    rc = -EINVAL;
                    done = true;
                    break;
                }
            }
            node = arena_alloc(&t->arena, sizeof(*node));
            memset(node, 0, sizeof(*node));
            node->kind = YK_SCALAR;
            node->value =
                arena_strndup(&t->arena, (const char *)ev.data.scalar.value, ev.data.scalar.length);
            node->len = ev.data.scalar.length;
            if (ev.data.scalar.tag)
                node->tag = arena_strndup(&t->arena, (const char *)ev.data.scalar.tag,
                                          strlen((const char *)ev.data.scalar.tag));
            node->implicit = ev.data.scalar.plain_implicit;
            anchor = ev.data.scalar.anchor;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            struct ynode *c = arena_alloc(&t->arena, sizeof(*c));
            memset(c, 0, sizeof(*c));
            c->kind = ev.type == YAML_MAPPING_START_EVENT ? YK_MAPPING : YK_SEQUENCE;
            c->line = (int)ev.start_mark.line;
            anchor = ev.type == YAML_MAPPING_START_EVENT ? ev.data.mapping_start.anchor
                                                         : ev.data.sequence_start.anchor;
            if (anchor)
                anchor_set(t, (const char *)anchor, c);
            anchor = NULL;
            if (nopen >= CK_YAML_MAX_DEPTH) {
                /* worded as go-yaml's scanner limit, which has no line on the first one */
                if (ev.start_mark.line)
                    snprintf(msg, msgsize, "yaml: line %zu: exceeded max depth of %d",
                             (size_t)ev.start_mark.line + 1, CK_YAML_MAX_DEPTH);
                else
                    snprintf(msg, msgsize, "yaml: exceeded max depth of %d", CK_YAML_MAX_DEPTH);
                rc = -EINVAL;
                done = true;
                break;
            }
            if (nopen == capopen) {
                capopen = capopen ? capopen * 2 : 16;
                open = ck_xrealloc(open, capopen * sizeof(*open));
            }
            open[nopen].node = c;
            open[nopen].first = npending;
            nopen++;
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            struct open_coll *oc = &open[--nopen];
            node = oc->node;
            node->nkids = npending - oc->first;
            node->kids =
                arena_alloc(&t->arena, (node->nkids ? node->nkids : 1) * sizeof(*node->kids));
            if (node->nkids)
                memcpy(node->kids, pending + oc->first, node->nkids * sizeof(*node->kids));
            npending = oc->first;
            break;
        }
        default:
            break;
        }
        if (node) {
            if (node->kind == YK_SCALAR || node->kind == YK_ALIAS)
                node->line = (int)ev.start_mark.line;
            if (anchor)
                anchor_set(t, (const char *)anchor, node);
            if (nopen == 0) {
                t->root = node;
            } else {
                if (npending == cappending) {
                    cappending = cappending ? cappending * 2 : 64;
                    pending = ck_xrealloc(pending, cappending * sizeof(*pending));
                }
                pending[npending++] = node;
            }
        }
        yaml_event_delete(&ev);
    }
    free(pending);
    free(open);
    yaml_parser_delete(&parser);
    if (rc < 0)
        tree_free(t);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Decoding the tree: go-yaml v2's decode.go into interface{} values, then sigs.k8s.io/yaml's
 * conversion of keys to strings.
 */

struct decoder {
    unsigned flags;
    long decode_count, alias_count;
    int alias_depth;
    int depth;
    bool fatal;
    char msg[900];         /* the first fatal error */
    struct ck_buf terrors; /* strict mode: "\n  line N: ..." per duplicate */
    bool has_conv;         /* a key JSON cannot hold */
    char conv[600];
    bool has_json; /* a value JSON cannot hold (NaN, Inf) */
    char json[64];
};

static void dfail(struct decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dfail(struct decoder *d, const char *fmt, ...)
{
    if (d->fatal)
        return;
    d->fatal = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
}

/* go-yaml's allowedAliasRatio: 99% of decode work may come from aliases in small documents,
 * sliding down to 10% for documents past four million decode steps. */
static double allowed_alias_ratio(long count)
{
    if (count <= 400000)
        return 0.99;
    if (count >= 4000000)
        return 0.10;
    return 0.99 - 0.89 * ((double)(count - 400000) / (double)(4000000 - 400000));
}

/* One go-yaml unmarshal() step: counts work and stops alias bombs. */
static bool dcount(struct decoder *d)
{
    d->decode_count++;
    if (d->alias_depth > 0)
        d->alias_count++;
    if (d->alias_count > 100 && d->decode_count > 1000 &&
        (double)d->alias_count / (double)d->decode_count > allowed_alias_ratio(d->decode_count))
        dfail(d, "yaml: document contains excessive aliasing");
    return !d->fatal;
}

static bool ddepth_enter(struct decoder *d)
{
    if (++d->depth > CK_YAML_MAX_DEPTH)
        dfail(d, "yaml: exceeded max depth of %d", CK_YAML_MAX_DEPTH);
    return !d->fatal;
}

/* Writes go-yaml's short form of a tag ("!!int") into out. */
static void fmt_short_tag(const char *tag, char *out, size_t size)
{
    if (!strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)))
        snprintf(out, size, "!!%s", tag + strlen(TAG_PREFIX));
    else
        snprintf(out, size, "%s", tag);
}

/* !!binary: base64 as Go's StdEncoding reads it (line breaks ignored, padding required). */
static bool decode_binary(const char *in, size_t len, struct rval *r)
{
    char *clean = ck_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\r' || in[i] == '\n')
            continue;
        if (in[i] == '-' || in[i] == '_') {
            free(clean);
            return false;
        }
        clean[n++] = in[i];
    }
    uint8_t *out = NULL;
    size_t outlen = 0;
    int rc = n % 4 ? -EINVAL : ck_base64_decode(clean, n, &out, &outlen);
    free(clean);
    if (rc < 0)
        return false;
    memset(r, 0, sizeof(*r));
    r->kind = RK_BINARY;
    r->own = (char *)out;
    r->ownlen = outlen;
    return true;
}

/* go-yaml's scalar(): resolves a scalar node under its tag. False after a fatal error. */
static bool scalar_resolve(struct decoder *d, const struct ynode *n, struct rval *r)
{
    const char *tag = n->tag;
    if (!tag && !n->implicit) {
        memset(r, 0, sizeof(*r));
        r->kind = RK_STR;
        r->s = n->value;
        r->slen = n->len;
        return true;
    }
    if (tag && !strcmp(tag, TAG_BINARY)) {
        if (!decode_binary(n->value, n->len, r)) {
            dfail(d, "yaml: !!binary value contains invalid base64 data");
            return false;
        }
        return true;
    }
    bool resolvable = !tag || !strcmp(tag, TAG_STR) || !strcmp(tag, TAG_BOOL) ||
                      !strcmp(tag, TAG_INT) || !strcmp(tag, TAG_FLOAT) || !strcmp(tag, TAG_NULL) ||
                      !strcmp(tag, TAG_TIMESTAMP);
    if (!resolvable || (tag && !strcmp(tag, TAG_STR))) {
        memset(r, 0, sizeof(*r));
        r->kind = RK_STR;
        r->s = n->value;
        r->slen = n->len;
        return true;
    }
    resolve_plain(n->value, n->len, !tag || !strcmp(tag, TAG_TIMESTAMP), r);
    if (!tag || !strcmp(tag, rkind_tag(r->kind)))
        return true;
    if (!strcmp(tag, TAG_FLOAT) && r->kind == RK_INT) {
        r->kind = RK_FLOAT;
        r->f = (double)r->i;
        return true;
    }
    char have[64], want[64];
    fmt_short_tag(rkind_tag(r->kind), have, sizeof(have));
    fmt_short_tag(tag, want, sizeof(want));
    rval_free(r);
    dfail(d, "yaml: cannot decode %s `%.*s` as a %s", have, ERR_VALUE_MAX, n->value, want);
    return false;
}

static cJSON *number_or_raw_u(uint64_t u, bool neg)
{
    if (u <= (uint64_t)1 << 53)
        return cJSON_CreateNumber(neg ? -(double)u : (double)u);
    char buf[32];
    snprintf(buf, sizeof(buf), "%s%llu", neg ? "-" : "", (unsigned long long)u);
    return cJSON_CreateRaw(buf);
}

static cJSON *string_item(const char *s, size_t n)
{
    char *fixed = utf8_sanitize(s, n);
    cJSON *item;
    if (fixed) {
        item = cJSON_CreateString(fixed);
        free(fixed);
    } else if (s[n] == '\0') {
        item = cJSON_CreateString(s);
    } else {
        char *copy = ck_xstrndup(s, n);
        item = cJSON_CreateString(copy);
        free(copy);
    }
    return item;
}

/* The JSON value of a resolved scalar (json.Marshal of go-yaml's Go value). */
static cJSON *rval_to_json(struct decoder *d, const struct rval *r)
{
    switch (r->kind) {
    case RK_NULL:
        return cJSON_CreateNull();
    case RK_BOOL:
        return cJSON_CreateBool(r->b);
    case RK_INT:
        return r->i < 0 ? number_or_raw_u((uint64_t)0 - (uint64_t)r->i, true)
                        : number_or_raw_u((uint64_t)r->i, false);
    case RK_UINT:
        return number_or_raw_u(r->u, false);
    case RK_BIG:
        return cJSON_CreateRaw(r->own);
    case RK_FLOAT:
        if (isnan(r->f) || isinf(r->f)) {
            if (!d->has_json) {
                d->has_json = true;
                snprintf(d->json, sizeof(d->json), "json: unsupported value: %s",
                         isnan(r->f) ? "NaN"
                         : r->f > 0  ? "+Inf"
                                     : "-Inf");
            }
            return cJSON_CreateNull();
        }
        return cJSON_CreateNumber(r->f);
    case RK_BINARY:
        return string_item(r->own, r->ownlen);
    case RK_TIMESTAMP:
    case RK_STR:
        break;
    }
    return string_item(r->s, r->slen);
}

/* Approximates Go's %#v of a decoded value, for error messages. */
static void gofmt_value(struct ck_buf *b, const cJSON *v, bool nested, int depth)
{
    if (b->len > 400 || depth > 20) {
        ck_buf_puts(b, "...");
        return;
    }
    if (cJSON_IsNull(v)) {
        ck_buf_puts(b, nested ? "interface {}(nil)" : "<nil>");
    } else if (cJSON_IsBool(v)) {
        ck_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsRaw(v)) {
        ck_buf_puts(b, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        double f = v->valuedouble;
        if (f == floor(f) && fabs(f) <= EXACT_DOUBLE_INT) {
            ck_buf_printf(b, "%.0f", f);
        } else {
            char buf[40];
            go_format_g(f, 64, buf, sizeof(buf));
            ck_buf_puts(b, buf);
        }
    } else if (cJSON_IsString(v)) {
        go_quote(b, v->valuestring, strlen(v->valuestring));
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool obj = cJSON_IsObject(v);
        ck_buf_puts(b, obj ? "map[interface {}]interface {}{" : "[]interface {}{");
        for (const cJSON *c = v->child; c; c = c->next) {
            if (c != v->child)
                ck_buf_puts(b, ", ");
            if (obj) {
                go_quote(b, c->string, strlen(c->string));
                ck_buf_putc(b, ':');
            }
            gofmt_value(b, c, true, depth + 1);
        }
        ck_buf_putc(b, '}');
    }
}

/* A decoded mapping key: its JSON string, or why JSON cannot hold it. */
struct dkey {
    enum rkind kind;    /* the Go type class, for strict duplicate detection */
    char *str;          /* malloc'd JSON key, NULL when the key cannot be converted */
    char gofmt[300];    /* Go's %#v of the key, for messages */
    const char *gotype; /* Go type name when str is NULL */
};

/* An output mapping with a hash index of its keys (merges write into the same one). */
struct mapent {
    cJSON *item; /* item->string is the key */
    enum rkind kind;
};

struct mapb {
    cJSON *obj;
    struct mapent *tab;
    size_t cap, count;
    struct ck_buf unconv; /* strict mode: keys JSON cannot hold, as "kind:%#v\n" lines */
};

static struct mapent *mapb_slot(struct mapb *m, const char *key)
{
    size_t mask = m->cap - 1;
    size_t i = hash_str(key, strlen(key)) & mask;
    while (m->tab[i].item && strcmp(m->tab[i].item->string, key))
        i = (i + 1) & mask;
    return &m->tab[i];
}

static void mapb_grow(struct mapb *m)
{
    struct mapent *old = m->tab;
    size_t oldcap = m->cap;
    m->cap = oldcap ? oldcap * 2 : 16;
    m->tab = ck_xcalloc(m->cap, sizeof(*m->tab));
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].item)
            *mapb_slot(m, old[i].item->string) = old[i];
    free(old);
}

static cJSON *decode_node(struct decoder *d, struct ynode *n);
static void decode_mapping_into(struct decoder *d, struct ynode *n, struct mapb *m);

/* Stores key -> val (val is consumed). Duplicates: the last value wins, or, in strict mode,
 * go-yaml's "key ... already set in map" (line of the value, as go-yaml counts it). */
static void mapb_set(struct decoder *d, struct mapb *m, struct dkey *k, cJSON *val, int line)
{
    if (!k->str) {
        if (d->flags & CK_YAML_STRICT) {
            char *entry = ck_xasprintf("\n%d:%s\n", (int)k->kind, k->gofmt);
            bool seen =
                m->unconv.len && memmem(m->unconv.data, m->unconv.len, entry, strlen(entry));
            if (seen)
                ck_buf_printf(&d->terrors, "\n  line %d: key %s already set in map", line + 1,
                              k->gofmt);
            else
                ck_buf_puts(&m->unconv, entry + (m->unconv.len ? 1 : 0)); /* "\nK:..\nK:..\n" */
            free(entry);
            if (seen) {
                cJSON_Delete(val);
                return;
            }
        }
        if (!d->has_conv) {
            struct ck_buf vb = CK_BUF_INIT;
            gofmt_value(&vb, val, false, 0);
            d->has_conv = true;
            snprintf(d->conv, sizeof(d->conv),
                     "unsupported map key of type: %s, key: %s, value: %s", k->gotype, k->gofmt,
                     ck_buf_str(&vb));
            ck_buf_free(&vb);
        }
        cJSON_Delete(val);
        return;
    }
    if ((m->count + 1) * 2 > m->cap)
        mapb_grow(m);
    struct mapent *e = mapb_slot(m, k->str);
    if (e->item) {
        if ((d->flags & CK_YAML_STRICT) && e->kind == k->kind) {
            ck_buf_printf(&d->terrors, "\n  line %d: key %s already set in map", line + 1,
                          k->gofmt);
            cJSON_Delete(val);
            return;
        }
        val->string = e->item->string; /* hand the key over to the new item */
        e->item->string = NULL;
        cJSON_ReplaceItemViaPointer(m->obj, e->item, val);
        e->item = val;
        e->kind = k->kind;
        return;
    }
    cJSON_AddItemToObject(m->obj, k->str, val);
    e->item = val;
    e->kind = k->kind;
    m->count++;
}

/* Decodes a key node into k. False after a fatal error. */
static bool decode_key(struct decoder *d, struct ynode *n, struct dkey *k)
{
    memset(k, 0, sizeof(*k));
    if (!dcount(d))
        return false;
    struct ynode *alias = NULL;
    if (n->kind == YK_ALIAS) {
        if (n->busy) {
            dfail(d, "yaml: anchor '%.*s' value contains itself", ERR_VALUE_MAX, n->value);
            return false;
        }
        alias = n;
        n = n->target;
        d->alias_depth++;
        if (!dcount(d)) {
            d->alias_depth--;
            return false;
        }
    }
    if (n->kind != YK_SCALAR) {
        if (alias)
            alias->busy = true;
        cJSON *v = n->kind == YK_MAPPING || n->kind == YK_SEQUENCE ? decode_node(d, n) : NULL;
        /* decode_node counted the node again; go-yaml counts it once */
        if (alias) {
            alias->busy = false;
            d->alias_depth--;
        }
        if (v) {
            struct ck_buf b = CK_BUF_INIT;
            gofmt_value(&b, v, false, 0);
            dfail(d, "yaml: invalid map key: %s", ck_buf_str(&b));
            ck_buf_free(&b);
            cJSON_Delete(v);
        }
        return false;
    }
    if (alias)
        d->alias_depth--;
    struct rval r;
    if (!scalar_resolve(d, n, &r))
        return false;
    k->kind = r.kind == RK_TIMESTAMP || r.kind == RK_BINARY ? RK_STR : r.kind;
    char buf[48];
    struct ck_buf fb = CK_BUF_INIT;
    switch (r.kind) {
    case RK_NULL:
        k->gotype = "%!s(<nil>)";
        ck_buf_puts(&fb, "<nil>");
        break;
    case RK_BOOL:
        k->str = ck_xstrdup(r.b ? "true" : "false");
        ck_buf_puts(&fb, k->str);
        break;
    case RK_INT:
        k->str = ck_xasprintf("%lld", (long long)r.i);
        ck_buf_puts(&fb, k->str);
        break;
    case RK_UINT:
        k->gotype = "uint64";
        ck_buf_printf(&fb, "0x%llx", (unsigned long long)r.u);
        break;
    case RK_BIG:
        k->gotype = "*big.Int";
        ck_buf_puts(&fb, r.own);
        break;
    case RK_FLOAT:
        /* sigs.k8s.io/yaml formats float keys as float32 */
        if (isnan(r.f))
            k->str = ck_xstrdup(".nan");
        else if (isinf(r.f))
            k->str = ck_xstrdup(r.f > 0 ? ".inf" : "-.inf");
        else {
            go_format_g(r.f, 32, buf, sizeof(buf));
            k->str = ck_xstrdup(buf);
        }
        go_format_g(r.f, 64, buf, sizeof(buf));
        ck_buf_puts(&fb, buf);
        break;
    case RK_BINARY: {
        char *fixed = utf8_sanitize(r.own, r.ownlen);
        k->str = fixed ? fixed : ck_xstrndup(r.own, r.ownlen);
        go_quote(&fb, r.own, r.ownlen);
        break;
    }
    case RK_TIMESTAMP:
    case RK_STR: {
        char *fixed = utf8_sanitize(r.s, r.slen);
        k->str = fixed ? fixed : ck_xstrndup(r.s, r.slen);
        go_quote(&fb, r.s, r.slen > ERR_VALUE_MAX ? ERR_VALUE_MAX : r.slen);
        break;
    }
    }
    snprintf(k->gofmt, sizeof(k->gofmt), "%s", ck_buf_str(&fb));
    ck_buf_free(&fb);
    rval_free(&r);
    return true;
}

static bool is_merge_key(const struct ynode *n)
{
    return n->kind == YK_SCALAR && n->len == 2 && !memcmp(n->value, "<<", 2) &&
           (n->implicit || (n->tag && !strcmp(n->tag, TAG_MERGE)));
}

/* Merges one mapping (or alias of one) into m, counting work as go-yaml's unmarshal does. */
static void merge_one(struct decoder *d, struct ynode *n, struct mapb *m)
{
    if (!dcount(d))
        return;
    struct ynode *alias = NULL;
    if (n->kind == YK_ALIAS) {
        if (n->busy) {
            dfail(d, "yaml: anchor '%.*s' value contains itself", ERR_VALUE_MAX, n->value);
            return;
        }
        alias = n;
        alias->busy = true;
        d->alias_depth++;
        n = n->target;
        if (!dcount(d))
            goto out;
    }
    if (ddepth_enter(d))
        decode_mapping_into(d, n, m);
    d->depth--;
out:
    if (alias) {
        alias->busy = false;
        d->alias_depth--;
    }
}

/* go-yaml's merge(): `<<: map`, `<<: *alias` or `<<: [*a, *b]` (earlier ones win). */
static void decode_merge(struct decoder *d, struct ynode *v, struct mapb *m)
{
    static const char want_map[] = "yaml: map merge requires map or sequence of maps as the value";
    switch (v->kind) {
    case YK_MAPPING:
        merge_one(d, v, m);
        return;
    case YK_ALIAS:
        if (v->target->kind != YK_MAPPING) {
            dfail(d, "%s", want_map);
            return;
        }
        merge_one(d, v, m);
        return;
    case YK_SEQUENCE:
        for (size_t i = v->nkids; i-- > 0 && !d->fatal;) {
            struct ynode *ni = v->kids[i];
            struct ynode *real = ni->kind == YK_ALIAS ? ni->target : ni;
            if (real->kind != YK_MAPPING) {
                dfail(d, "%s", want_map);
                return;
            }
            merge_one(d, ni, m);
        }
        return;
    case YK_SCALAR:
        break;
    }
    dfail(d, "%s", want_map);
}

static void decode_mapping_into(struct decoder *d, struct ynode *n, struct mapb *m)
{
    for (size_t i = 0; i + 1 < n->nkids && !d->fatal; i += 2) {
        struct ynode *kn = n->kids[i], *vn = n->kids[i + 1];
        if (is_merge_key(kn)) {
            decode_merge(d, vn, m);
            continue;
        }
        struct dkey k;
        if (!decode_key(d, kn, &k))
            return;
        cJSON *val = decode_node(d, vn);
        if (!val) {
            free(k.str);
            return;
        }
        mapb_set(d, m, &k, val, vn->line);
        free(k.str);
    }
}

/* Decodes any node into a new cJSON value; NULL after a fatal error. */
static cJSON *decode_node(struct decoder *d, struct ynode *n)
{
    if (!dcount(d))
        return NULL;
    switch (n->kind) {
    case YK_ALIAS: {
        if (n->busy) {
            dfail(d, "yaml: anchor '%.*s' value contains itself", ERR_VALUE_MAX, n->value);
            return NULL;
        }
        n->busy = true;
        d->alias_depth++;
        cJSON *v = decode_node(d, n->target);
        d->alias_depth--;
        n->busy = false;
        return v;
    }
    case YK_SCALAR: {
        struct rval r;
        if (!scalar_resolve(d, n, &r))
            return NULL;
        cJSON *v = rval_to_json(d, &r);
        rval_free(&r);
        return v;
    }
    case YK_MAPPING: {
        cJSON *obj = NULL;
        if (ddepth_enter(d)) {
            struct mapb m = {cJSON_CreateObject(), NULL, 0, 0, CK_BUF_INIT};
            decode_mapping_into(d, n, &m);
            free(m.tab);
            ck_buf_free(&m.unconv);
            obj = m.obj;
        }
        d->depth--;
        if (d->fatal) {
            cJSON_Delete(obj);
            return NULL;
        }
        return obj;
    }
    case YK_SEQUENCE: {
        cJSON *arr = NULL;
        if (ddepth_enter(d)) {
            arr = cJSON_CreateArray();
            for (size_t i = 0; i < n->nkids; i++) {
                cJSON *v = decode_node(d, n->kids[i]);
                if (!v)
                    break;
                cJSON_AddItemToArray(arr, v);
            }
        }
        d->depth--;
        if (d->fatal) {
            cJSON_Delete(arr);
            return NULL;
        }
        return arr;
    }
    }
    return NULL;
}

/* sigs.k8s.io/yaml.YAMLToJSON of the first document of data. On error msg holds the text
 * after "error converting YAML to JSON: ". */
static int yaml_to_json(const char *data, size_t len, unsigned flags, cJSON **out, char *msg,
                        size_t msgsize)
{
    *out = NULL;
    struct tree t;
    int rc = tree_build(data, len, &t, msg, msgsize);
    if (rc < 0)
        return -EINVAL;
    if (!t.root) {
        tree_free(&t);
        *out = cJSON_CreateNull();
        return 0;
    }
    struct decoder d;
    memset(&d, 0, sizeof(d));
    d.flags = flags;
    dcount(&d); /* the document node */
    cJSON *v = decode_node(&d, t.root);
    tree_free(&t);
    if (d.fatal) {
        snprintf(msg, msgsize, "%s", d.msg);
    } else if (d.terrors.len) {
        snprintf(msg, msgsize, "yaml: unmarshal errors:%s", ck_buf_str(&d.terrors));
    } else if (d.has_conv) {
        snprintf(msg, msgsize, "%s", d.conv);
    } else if (d.has_json) {
        snprintf(msg, msgsize, "%s", d.json);
    } else {
        ck_buf_free(&d.terrors);
        *out = v;
        return 0;
    }
    ck_buf_free(&d.terrors);
    cJSON_Delete(v);
    return -EINVAL;
}

/* ------------------------------------------------------------------------------------------
 * Public parsing API.
 */

int ck_yaml_parse(const char *data, size_t len, unsigned flags, cJSON **out, struct ck_error *err)
{
    char msg[1000];
    *out = NULL;
    if (!data && len)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "no YAML input");
    if (yaml_to_json(data ? data : "", len, flags, out, msg, sizeof(msg)) < 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "error converting YAML to JSON: %s",
                            msg);
    return 0;
}

bool ck_yaml_looks_like_json(const char *data, size_t len)
{
    for (size_t i = 0; data && i < len; i++) {
        char c = data[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
            continue;
        return c == '{' || c == '[';
    }
    return false;
}

static bool is_go_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* kubectl's YAMLOrJSONDecoder treats a stream as JSON when the first non-space byte in its
 * first 4096 bytes is `{`. */
static bool sniff_json_stream(const char *data, size_t len)
{
    size_t lim = len < JSON_SNIFF_BYTES ? len : JSON_SNIFF_BYTES;
    for (size_t i = 0; i < lim; i++) {
        if (is_go_space((unsigned char)data[i]))
            continue;
        return data[i] == '{';
    }
    return false;
}

static int stream_error(struct ck_error *err, cJSON *docs, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int stream_error(struct ck_error *err, cJSON *docs, const char *fmt, ...)
{
    char msg[1000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON_Delete(docs);
    return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", msg);
}

/* Adds a decoded document unless it is null (kubectl skips those). */
static void add_doc(cJSON *docs, cJSON *doc)
{
    if (cJSON_IsNull(doc))
        cJSON_Delete(doc);
    else
        cJSON_AddItemToArray(docs, doc);
}

/* A stream of concatenated JSON values. Each is checked as strict JSON by cJSON and then
 * decoded through the YAML path, which keeps big integers exact; a value libyaml cannot read
 * (JSON's surrogate-pair escapes) falls back to cJSON's tree. */
static int parse_json_stream(const char *data, size_t len, unsigned flags, cJSON **out,
                             struct ck_error *err)
{
    cJSON *docs = cJSON_CreateArray();
    size_t i = 0;
    int line = 1;
    for (;;) {
        while (i < len && is_go_space((unsigned char)data[i])) {
            if (data[i] == '\n')
                line++;
            i++;
        }
        if (i >= len)
            break;
        /* find the end of this value */
        size_t start = i;
        int depth = 0;
        bool in_str = false, complete = false;
        for (; i < len; i++) {
            char c = data[i];
            if (in_str) {
                if (c == '\\')
                    i++;
                else if (c == '"') {
                    in_str = false;
                    if (depth == 0) {
                        i++;
                        complete = true;
                        break;
                    }
                }
                continue;
            }
            if (c == '"') {
                in_str = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth <= 0) {
                    i++;
                    complete = true;
                    break;
                }
            } else if (depth == 0 && (is_go_space((unsigned char)c) || c == ',' || c == ':')) {
                complete = i > start;
                break;
            }
        }
        if (!complete && depth == 0 && i >= len && i > start && !in_str)
            complete = true; /* a bare scalar ending the stream */
        if (!complete && i == start && i < len) {
            i++; /* a stray character: let the JSON check name it */
            complete = true;
        }
        if (!complete)
            return stream_error(err, docs, "unexpected EOF");
        const char *end = NULL;
        cJSON *strict = cJSON_ParseWithLengthOpts(data + start, i - start, &end, false);
        if (!strict || end != data + i) {
            const char *bad = end && end >= data + start && end < data + len ? end : data + start;
            int bad_line = line;
            for (const char *p = data + start; p < bad; p++)
                if (*p == '\n')
                    bad_line++;
            cJSON_Delete(strict);
            return stream_error(err, docs, "json: line %d: invalid character '%c' in JSON input",
                                bad_line, *bad);
        }
        char msg[1000];
        cJSON *doc = NULL;
        if (yaml_to_json(data + start, i - start, flags, &doc, msg, sizeof(msg)) == 0) {
            cJSON_Delete(strict);
            add_doc(docs, doc);
        } else if (strstr(msg, "already set in map")) {
            cJSON_Delete(strict);
            return stream_error(err, docs, "error converting YAML to JSON: %s", msg);
        } else {
            add_doc(docs, strict);
        }
        for (size_t k = start; k < i; k++)
            if (data[k] == '\n')
                line++;
    }
    *out = docs;
    return 0;
}

int ck_yaml_parse_stream(const char *data, size_t len, unsigned flags, cJSON **out,
                         struct ck_error *err)
{
    *out = NULL;
    if (!data)
        len = 0;
    if (len && sniff_json_stream(data, len))
        return parse_json_stream(data, len, flags, out, err);

    /* kubectl's YAMLReader: lines (CRLF read as LF); a line starting with "---" ends the
     * current document, or opens one when nothing has been gathered yet. */
    cJSON *docs = cJSON_CreateArray();
    struct ck_buf chunk = CK_BUF_INIT;
    size_t pos = 0;
    for (;;) {
        bool eof = pos >= len;
        const char *line = data + pos;
        size_t linelen = 0;
        if (!eof) {
            const char *nl = memchr(line, '\n', len - pos);
            linelen = nl ? (size_t)(nl - line) : len - pos;
            pos += linelen + (nl ? 1 : 0);
            if (linelen && line[linelen - 1] == '\r' && nl)
                linelen--;
        }
        bool boundary = eof;
        if (!eof && linelen >= 3 && !memcmp(line, "---", 3)) {
            size_t a = 3, b = linelen;
            while (a < b && is_go_space((unsigned char)line[a]))
                a++;
            while (b > a && is_go_space((unsigned char)line[b - 1]))
                b--;
            if (a < b && line[a] != '#') {
                ck_buf_free(&chunk);
                return stream_error(err, docs, "invalid Yaml document separator: %.*s",
                                    (int)(b - a > 200 ? 200 : b - a), line + a);
            }
            boundary = chunk.len != 0;
        }
        if (boundary) {
            if (chunk.len) {
                char msg[1000];
                cJSON *doc = NULL;
                if (yaml_to_json(chunk.data, chunk.len, flags, &doc, msg, sizeof(msg)) < 0) {
                    ck_buf_free(&chunk);
                    return stream_error(err, docs, "error converting YAML to JSON: %s", msg);
                }
                add_doc(docs, doc);
                ck_buf_reset(&chunk);
            }
            if (eof)
                break;
            continue;
        }
        ck_buf_add(&chunk, line, linelen);
        ck_buf_putc(&chunk, '\n');
    }
    ck_buf_free(&chunk);
    *out = docs;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Emitting: go-yaml v2's encoder choices on libyaml's emitter.
 */

struct emitter {
    yaml_emitter_t em;
    unsigned flags;
    int depth;
    bool failed;
    char msg[256];
};

static int emit_write(void *data, unsigned char *buffer, size_t size)
{
    ck_buf_add(data, buffer, size);
    return 1;
}

static bool emit_event(struct emitter *e, yaml_event_t *ev, int init_ok)
{
    if (e->failed)
        return false;
    /* the emitter owns (and frees) the event even when it fails */
    if (!init_ok || !yaml_emitter_emit(&e->em, ev)) {
        e->failed = true;
        snprintf(e->msg, sizeof(e->msg), "yaml: %s",
                 e->em.problem ? e->em.problem : "unknown problem generating YAML content");
        return false;
    }
    return true;
}

static bool emit_scalar(struct emitter *e, const char *s, size_t n, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    int ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style);
    return emit_event(e, &ev, ok);
}

/* go-yaml's stringv: double quotes when the text would read back as something else, a literal
 * block for multi-line text, else plain (the emitter falls back to quotes where plain text
 * is not allowed). */
static bool emit_string(struct emitter *e, const char *s)
{
    size_t n = strlen(s);
    char *fixed = utf8_sanitize(s, n);
    if (fixed) {
        s = fixed;
        n = strlen(fixed);
    }
    struct rval r;
    resolve_plain(s, n, true, &r);
    bool plain_ok = r.kind == RK_STR && !is_base60_float(s, n);
    rval_free(&r);
    yaml_scalar_style_t style = memchr(s, '\n', n) ? YAML_LITERAL_SCALAR_STYLE
                                : plain_ok         ? YAML_PLAIN_SCALAR_STYLE
                                                   : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    bool ok = emit_scalar(e, s, n, style);
    free(fixed);
    return ok;
}

/* Numbers as go-yaml prints the Go value kubectl has: integers in full, other floats in Go's
 * shortest 'g' form. */
static bool emit_number(struct emitter *e, double v)
{
    char buf[64];
    if (isnan(v))
        snprintf(buf, sizeof(buf), ".nan");
    else if (isinf(v))
        snprintf(buf, sizeof(buf), "%s", v > 0 ? ".inf" : "-.inf");
    else if (v == floor(v) && v >= -9223372036854775808.0 && v < 18446744073709551616.0)
        snprintf(buf, sizeof(buf), "%.0f", v == 0 ? 0.0 : v);
    else
        go_format_g(v, 64, buf, sizeof(buf));
    return emit_scalar(e, buf, strlen(buf), YAML_PLAIN_SCALAR_STYLE);
}

/* go-yaml's map key order (sorter.go), for string keys: rune by rune, letters before other
 * runes, runs of digits compared by value. Non-ASCII runes count as letters. */
static bool go_key_less(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t i = 0, j = 0;
    while (i < la && j < lb) {
        size_t na = utf8_seq_len((const unsigned char *)a + i, la - i);
        size_t nb = utf8_seq_len((const unsigned char *)b + j, lb - j);
        if (!na)
            na = 1;
        if (!nb)
            nb = 1;
        if (na == nb && !memcmp(a + i, b + j, na)) {
            i += na;
            j += nb;
            continue;
        }
        unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[j];
        bool al = ca >= 0x80 || ((ca | 0x20) >= 'a' && (ca | 0x20) <= 'z');
        bool bl = cb >= 0x80 || ((cb | 0x20) >= 'a' && (cb | 0x20) <= 'z');
        if (al && bl) {
            if (na != nb || ca < 0x80)
                return na != nb ? na < nb : ca < cb;
            return memcmp(a + i, b + j, na) < 0; /* UTF-8 byte order is code point order */
        }
        if (al || bl)
            return bl;
        int64_t an = 0, bn = 0;
        if (ca == '0' || cb == '0') {
            for (size_t k = i; k-- > 0 && a[k] >= '0' && a[k] <= '9';) {
                if (a[k] != '0') {
                    an = bn = 1;
                    break;
                }
            }
        }
        size_t ai = i, bi = j;
        for (; ai < la && a[ai] >= '0' && a[ai] <= '9'; ai++)
            an = an * 10 + (a[ai] - '0');
        for (; bi < lb && b[bi] >= '0' && b[bi] <= '9'; bi++)
            bn = bn * 10 + (b[bi] - '0');
        if (an != bn)
            return an < bn;
        if (ai - i != bi - j)
            return ai - i < bi - j;
        return ca < cb;
    }
    return la - i < lb - j;
}

static int key_cmp(const void *pa, const void *pb)
{
    const cJSON *a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
    const char *ka = a->string ? a->string : "", *kb = b->string ? b->string : "";
    if (go_key_less(ka, kb))
        return -1;
    if (go_key_less(kb, ka))
        return 1;
    return 0;
}

static bool emit_node(struct emitter *e, const cJSON *v);

static bool emit_mapping(struct emitter *e, const cJSON *v)
{
    yaml_event_t ev;
    int ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    if (!emit_event(e, &ev, ok))
        return false;
    size_t n = 0;
    for (const cJSON *c = v->child; c; c = c->next)
        n++;
    const cJSON **items = ck_xmalloc((n ? n : 1) * sizeof(*items));
    n = 0;
    for (const cJSON *c = v->child; c; c = c->next)
        items[n++] = c;
    if (e->flags & CK_YAML_SORT_KEYS)
        qsort(items, n, sizeof(*items), key_cmp);
    for (size_t i = 0; i < n && !e->failed; i++) {
        if (emit_string(e, items[i]->string ? items[i]->string : ""))
            emit_node(e, items[i]);
    }
    free(items);
    ok = yaml_mapping_end_event_initialize(&ev);
    return emit_event(e, &ev, ok);
}

static bool emit_sequence(struct emitter *e, const cJSON *v)
{
    yaml_event_t ev;
    int ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    if (!emit_event(e, &ev, ok))
        return false;
    for (const cJSON *c = v->child; c && !e->failed; c = c->next)
        emit_node(e, c);
    ok = yaml_sequence_end_event_initialize(&ev);
    return emit_event(e, &ev, ok);
}

/* A raw item: an integer (what ck_yaml_parse makes of big integers) is written digit for
 * digit, as go-yaml writes int64/uint64/big.Int values; other raw JSON is parsed and written. */
static bool emit_raw(struct emitter *e, const char *raw)
{
    size_t n = strlen(raw);
    size_t i = raw[0] == '-' ? 1 : 0;
    bool number = n > i && strspn(raw + i, "0123456789") == n - i;
    if (number)
        return emit_scalar(e, raw, n, YAML_PLAIN_SCALAR_STYLE);
    cJSON *parsed = cJSON_Parse(raw);
    bool ok = parsed ? emit_node(e, parsed) : emit_string(e, raw);
    cJSON_Delete(parsed);
    return ok;
}

static bool emit_node(struct emitter *e, const cJSON *v)
{
    if (e->failed)
        return false;
    if (++e->depth > CK_YAML_MAX_DEPTH) {
        e->failed = true;
        snprintf(e->msg, sizeof(e->msg), "yaml: exceeded max depth of %d", CK_YAML_MAX_DEPTH);
        return false;
    }
    bool ok;
    if (cJSON_IsObject(v))
        ok = emit_mapping(e, v);
    else if (cJSON_IsArray(v))
        ok = emit_sequence(e, v);
    else if (cJSON_IsString(v))
        ok = emit_string(e, v->valuestring ? v->valuestring : "");
    else if (cJSON_IsRaw(v))
        ok = emit_raw(e, v->valuestring ? v->valuestring : "null");
    else if (cJSON_IsNumber(v))
        ok = emit_number(e, v->valuedouble);
    else if (cJSON_IsBool(v))
        ok = emit_scalar(e, cJSON_IsTrue(v) ? "true" : "false", cJSON_IsTrue(v) ? 4 : 5,
                         YAML_PLAIN_SCALAR_STYLE);
    else
        ok = emit_scalar(e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    e->depth--;
    return ok;
}

/* Writes docs[0..n) as one YAML stream into out. */
static int emit_docs(const cJSON *const *docs, size_t n, unsigned flags, struct ck_buf *out,
                     struct ck_error *err)
{
    struct emitter e;
    memset(&e, 0, sizeof(e));
    e.flags = flags;
    if (!yaml_emitter_initialize(&e.em))
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "yaml: cannot initialize the emitter");
    yaml_emitter_set_output(&e.em, emit_write, out);
    yaml_emitter_set_unicode(&e.em, 1);
    yaml_emitter_set_indent(&e.em, 2);
    yaml_emitter_set_width(&e.em, 80);
    yaml_emitter_set_break(&e.em, YAML_LN_BREAK);

    yaml_event_t ev;
    int ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    emit_event(&e, &ev, ok);
    for (size_t i = 0; i < n && !e.failed; i++) {
        ok = yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
        if (!emit_event(&e, &ev, ok))
            break;
        if (!emit_node(&e, docs[i]))
            break;
        ok = yaml_document_end_event_initialize(&ev, 1);
        emit_event(&e, &ev, ok);
    }
    if (!e.failed) {
        e.em.open_ended = 0; /* as go-yaml: no "..." at the end of the stream */
        ok = yaml_stream_end_event_initialize(&ev);
        emit_event(&e, &ev, ok);
    }
    if (!e.failed && !yaml_emitter_flush(&e.em)) {
        e.failed = true;
        snprintf(e.msg, sizeof(e.msg), "yaml: cannot write the output");
    }
    yaml_emitter_delete(&e.em);
    if (e.failed)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "error converting JSON to YAML: %s",
                            e.msg);
    return 0;
}

int ck_yaml_emit(const cJSON *doc, unsigned flags, struct ck_buf *out, struct ck_error *err)
{
    if (!doc)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "no document to write as YAML");
    return emit_docs(&doc, 1, flags, out, err);
}

int ck_yaml_emit_stream(const cJSON *docs, unsigned flags, struct ck_buf *out, struct ck_error *err)
{
    if (!cJSON_IsArray(docs))
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "a YAML stream is written from an array of documents");
    size_t n = 0;
    for (const cJSON *c = docs->child; c; c = c->next)
        n++;
    if (!n)
        return 0;
    const cJSON **list = ck_xmalloc(n * sizeof(*list));
    n = 0;
    for (const cJSON *c = docs->child; c; c = c->next)
        list[n++] = c;
    int rc = emit_docs(list, n, flags, out, err);
    free(list);
    return rc;
}

char *ck_yaml_dump(const cJSON *doc, unsigned flags)
{
    struct ck_buf b = CK_BUF_INIT;
    if (ck_yaml_emit(doc, flags, &b, NULL) < 0) {
        ck_buf_free(&b);
        return NULL;
    }
    return ck_buf_detach(&b);
}
