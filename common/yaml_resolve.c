/* yaml_resolve.c - what YAML scalars mean, for both directions: go-yaml v2's resolution of
 * plain scalars (YAML 1.1 booleans, octal, base-60 floats, timestamps, big integers), and the
 * UTF-8 helpers reading and writing share (see yaml_internal.h). */
#include "yaml_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gostrconv.h"
#include "mem.h"

/* ------------------------------------------------------------------------------------------
 * Small string helpers shared by both directions.
 */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is invalid. */
size_t ck_yaml_utf8_len(const unsigned char *s, size_t n)
{
    unsigned r;
    size_t w = ck_utf8_decode((const char *)s, n, &r);
    return w == 1 && r == 0xFFFD ? 0 : w;
}

/* Copies s with every invalid UTF-8 byte replaced by U+FFFD, as Go's JSON encoding does.
 * Returns NULL when s is already valid (no copy needed); otherwise a malloc'd string. */
char *ck_yaml_utf8_sanitize(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t l = ck_yaml_utf8_len((const unsigned char *)s + i, n - i);
        if (!l)
            break;
        i += l;
    }
    if (i == n)
        return NULL;
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_add(&b, s, i);
    while (i < n) {
        size_t l = ck_yaml_utf8_len((const unsigned char *)s + i, n - i);
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

/* ------------------------------------------------------------------------------------------
 * go-yaml v2 scalar resolution (resolve.go): what a plain scalar means.
 */

void ck_yaml_rval_free(struct rval *r)
{
    free(r->own);
    r->own = NULL;
}

const char *ck_yaml_rkind_tag(enum rkind k)
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
        int d = ck_go_digit_val(s[i]);
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
void ck_yaml_resolve_plain(const char *in, size_t len, bool with_ts, struct rval *r)
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
        if (ck_go_parse_float_n(in, len, &f) == CK_GO_NUM_OK) {
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
    enum ck_go_numerr uerr = CK_GO_NUM_OK;
    double f;
    if (ck_go_parse_int(plain, n, 0, 64, &iv) == CK_GO_NUM_OK) {
        r->kind = RK_INT;
        r->i = iv;
    } else if ((uerr = ck_go_parse_uint(plain, n, 0, 64, &uv)) == CK_GO_NUM_OK) {
        r->kind = RK_UINT;
        r->u = uv;
    } else if (yaml_style_float(plain, n) && ck_go_parse_float_n(plain, n, &f) == CK_GO_NUM_OK) {
        r->kind = RK_FLOAT;
        r->f = f;
    } else if (n >= 2 && plain[0] == '0' && plain[1] == 'b' &&
               ck_go_parse_int(plain + 2, n - 2, 2, 64, &iv) == CK_GO_NUM_OK) {
        r->kind = RK_INT;
        r->i = iv;
    } else if (n >= 2 && plain[0] == '0' && plain[1] == 'b' &&
               ck_go_parse_uint(plain + 2, n - 2, 2, 64, &uv) == CK_GO_NUM_OK) {
        r->kind = RK_UINT;
        r->u = uv;
    } else if (n >= 3 && !(plain[0] == '0' && plain[1] == 'b') && !memcmp(plain, "-0b", 3)) {
        /* "-0b" followed by base-2 digits, which ParseInt(.., 0, ..) already read, or by a
         * second sign that go-yaml's ParseInt("-"+rest, 2) accepts */
        plain[2] = '-';
        if (ck_go_parse_int(plain + 2, n - 2, 2, 64, &iv) == CK_GO_NUM_OK) {
            r->kind = RK_INT;
            r->i = iv;
        }
        plain[2] = 'b';
    }
    if (r->kind == RK_STR && uerr == CK_GO_NUM_RANGE)
        big_to_decimal(plain, n, r);
    if (plain != stack)
        free(plain);
}

/* go-yaml's isBase60Float: strings like 1:20 are quoted on output for YAML 1.1 readers. */
bool ck_yaml_is_base60_float(const char *s, size_t n)
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
