/* gostrconv.c - Go's utf8, strconv and encoding/csv behaviour (see gostrconv.h). */
#include "gostrconv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

/* ---- UTF-8 ---- */

size_t ck_utf8_decode(const char *str, size_t len, unsigned *rune)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned r = 0xFFFD;
    if (len == 0) {
        *rune = r;
        return 0;
    }
    unsigned c = s[0];
    unsigned lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80) {
        *rune = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        r = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        r = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        r = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        *rune = 0xFFFD;
        return 1;
    }
    if (len < need + 1) {
        *rune = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        unsigned cc = s[i];
        unsigned l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (cc < l || cc > h) {
            *rune = 0xFFFD;
            return 1;
        }
        r = (r << 6) | (cc & 0x3F);
    }
    *rune = r;
    return need + 1;
}

void ck_buf_put_utf8(struct ck_buf *b, unsigned r)
{
    char o[4];
    size_t n;
    if (r < 0x80) {
        o[0] = (char)r, n = 1;
    } else if (r < 0x800) {
        o[0] = (char)(0xC0 | r >> 6), o[1] = (char)(0x80 | (r & 0x3F)), n = 2;
    } else if (r < 0x10000) {
        o[0] = (char)(0xE0 | r >> 12), o[1] = (char)(0x80 | (r >> 6 & 0x3F));
        o[2] = (char)(0x80 | (r & 0x3F)), n = 3;
    } else {
        o[0] = (char)(0xF0 | r >> 18), o[1] = (char)(0x80 | (r >> 12 & 0x3F));
        o[2] = (char)(0x80 | (r >> 6 & 0x3F)), o[3] = (char)(0x80 | (r & 0x3F)), n = 4;
    }
    ck_buf_add(b, o, n);
}

/* ---- quoting ---- */

bool ck_go_is_print(unsigned r)
{
    if (r < 0x80)
        return r >= 0x20 && r < 0x7F;
    if (r < 0xA0 || r == 0xA0 || r == 0xAD || r == 0x1680 || r == 0x180E)
        return false;
    if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F) ||
        (r >= 0x205F && r <= 0x206F) || r == 0x3000 || r == 0xFEFF)
        return false;
    if ((r >= 0xE000 && r <= 0xF8FF) || (r >= 0xFFF0 && r <= 0xFFFB) || r == 0xFFFE ||
        r == 0xFFFF || r >= 0xF0000)
        return false;
    return true;
}

/* One rune inside a quoted literal (quote is '"' or '\''), as strconv's appendEscapedRune. */
static void put_escaped_rune(struct ck_buf *b, unsigned r, char quote)
{
    if (r == (unsigned char)quote || r == '\\') {
        ck_buf_putc(b, '\\');
        ck_buf_putc(b, (char)r);
        return;
    }
    if (ck_go_is_print(r)) {
        ck_buf_put_utf8(b, r);
        return;
    }
    static const char from[] = "\a\b\f\n\r\t\v", to[] = "abfnrtv";
    const char *e = r && r < 0x80 ? strchr(from, (int)r) : NULL;
    if (e)
        ck_buf_printf(b, "\\%c", to[e - from]);
    else if (r < 0x20 || r == 0x7F)
        ck_buf_printf(b, "\\x%02x", r);
    else if (r < 0x10000)
        ck_buf_printf(b, "\\u%04x", r);
    else
        ck_buf_printf(b, "\\U%08x", r);
}

void ck_buf_put_go_quoted_n(struct ck_buf *b, const char *s, size_t len)
{
    ck_buf_putc(b, '"');
    for (size_t i = 0; i < len;) {
        unsigned r;
        size_t w = ck_utf8_decode(s + i, len - i, &r);
        if (w == 1 && r == 0xFFFD)
            ck_buf_printf(b, "\\x%02x", (unsigned char)s[i]);
        else
            put_escaped_rune(b, r, '"');
        i += w;
    }
    ck_buf_putc(b, '"');
}

void ck_buf_put_go_quoted(struct ck_buf *b, const char *s)
{
    ck_buf_put_go_quoted_n(b, s ? s : "", s ? strlen(s) : 0);
}

void ck_buf_put_go_quoted_rune(struct ck_buf *b, unsigned r)
{
    ck_buf_putc(b, '\'');
    put_escaped_rune(b, r, '\'');
    ck_buf_putc(b, '\'');
}

/* ---- parsing numbers ---- */

static int lower(int c)
{
    return c | 0x20;
}

int ck_go_digit_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (lower(c) >= 'a' && lower(c) <= 'z')
        return lower(c) - 'a' + 10;
    return 99;
}

bool ck_go_underscore_ok(const char *s, size_t n)
{
    char saw = '^';
    size_t i = 0;
    if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
        s++;
        n--;
    }
    bool hex = false;
    if (n >= 2 && s[0] == '0' && (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
        i = 2;
        saw = '0';
        hex = lower(s[1]) == 'x';
    }
    for (; i < n; i++) {
        int c = (unsigned char)s[i];
        if ((c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
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

enum ck_go_numerr ck_go_parse_uint(const char *s, size_t n, int base, int bits, uint64_t *out)
{
    if (n == 0)
        return CK_GO_NUM_SYNTAX;
    bool base0 = base == 0;
    size_t i = 0;
    if (base0) {
        base = 10;
        if (s[0] == '0') {
            int c = n >= 3 ? lower((unsigned char)s[1]) : 0;
            if (c == 'b')
                base = 2, i = 2;
            else if (c == 'o')
                base = 8, i = 2;
            else if (c == 'x')
                base = 16, i = 2;
            else
                base = 8, i = 1;
        }
    }
    uint64_t maxval = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    uint64_t cutoff = UINT64_MAX / (uint64_t)base + 1;
    uint64_t v = 0;
    bool underscores = false;
    for (; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '_' && base0) {
            underscores = true;
            continue;
        }
        int d = ck_go_digit_val(c);
        if (d >= base)
            return CK_GO_NUM_SYNTAX;
        if (v >= cutoff)
            return CK_GO_NUM_RANGE;
        v *= (uint64_t)base;
        uint64_t v1 = v + (uint64_t)d;
        if (v1 < v || v1 > maxval)
            return CK_GO_NUM_RANGE;
        v = v1;
    }
    if (underscores && !ck_go_underscore_ok(s, n))
        return CK_GO_NUM_SYNTAX;
    *out = v;
    return CK_GO_NUM_OK;
}

enum ck_go_numerr ck_go_parse_int(const char *s, size_t n, int base, int bits, int64_t *out)
{
    if (n == 0)
        return CK_GO_NUM_SYNTAX;
    bool neg = false;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        s++;
        n--;
    }
    uint64_t u;
    enum ck_go_numerr e = ck_go_parse_uint(s, n, base, bits, &u);
    if (e != CK_GO_NUM_OK)
        return e;
    uint64_t cutoff = UINT64_C(1) << (bits - 1);
    if ((!neg && u >= cutoff) || (neg && u > cutoff))
        return CK_GO_NUM_RANGE;
    if (!neg)
        *out = (int64_t)u;
    else if (u == cutoff)
        *out = bits == 64 ? INT64_MIN : -(int64_t)cutoff;
    else
        *out = -(int64_t)u;
    return CK_GO_NUM_OK;
}

void ck_go_num_error(struct ck_buf *msg, const char *fn, const char *s, bool range)
{
    if (!msg)
        return;
    ck_buf_printf(msg, "strconv.%s: parsing ", fn);
    ck_buf_put_go_quoted(msg, s);
    ck_buf_puts(msg, range ? ": value out of range" : ": invalid syntax");
}

int ck_go_parse_bool(const char *s, bool *out, struct ck_buf *msg)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(yes); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    ck_go_num_error(msg, "ParseBool", s, false);
    return -EINVAL;
}

/* A parse result as 0, -EINVAL or -ERANGE, with strconv.<fn>'s NumError text for s. */
static int num_result(enum ck_go_numerr r, const char *fn, const char *s, struct ck_buf *msg)
{
    if (r == CK_GO_NUM_OK)
        return 0;
    ck_go_num_error(msg, fn, s, r == CK_GO_NUM_RANGE);
    return r == CK_GO_NUM_RANGE ? -ERANGE : -EINVAL;
}

int ck_go_parse_int_msg(const char *s, int bits, int64_t *out, struct ck_buf *msg)
{
    return num_result(ck_go_parse_int(s, strlen(s), 0, bits, out), "ParseInt", s, msg);
}

/* Length of the case-insensitive common prefix of s[0..n) and the lower-case word. */
static size_t prefix_len_icase(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    while (i < n && word[i] && lower((unsigned char)s[i]) == word[i])
        i++;
    return i;
}

/* Checks s[0..len) against Go's float literal grammar (strconv.readFloat) and writes it
 * without `_` separators, NUL-terminated, into clean (len+1 bytes). */
static bool float_syntax_ok(const char *s, size_t len, char *clean)
{
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    int base = 10;
    if (i + 2 < len && s[i] == '0' && lower((unsigned char)s[i + 1]) == 'x') {
        base = 16;
        i += 2;
    }
    bool underscores = false, sawdot = false, sawdigits = false;
    for (; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '_') {
            underscores = true;
        } else if (c == '.') {
            if (sawdot)
                break;
            sawdot = true;
        } else if ((c >= '0' && c <= '9') || (base == 16 && lower(c) >= 'a' && lower(c) <= 'f')) {
            sawdigits = true;
        } else {
            break;
        }
    }
    if (!sawdigits)
        return false;
    if (i < len && lower((unsigned char)s[i]) == (base == 10 ? 'e' : 'p')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return false;
        for (; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); i++)
            if (s[i] == '_')
                underscores = true;
    } else if (base == 16) {
        return false; /* a hex mantissa needs a 'p' exponent */
    }
    if (i != len || (underscores && !ck_go_underscore_ok(s, len)))
        return false;
    size_t o = 0;
    for (i = 0; i < len; i++)
        if (s[i] != '_')
            clean[o++] = s[i];
    clean[o] = '\0';
    return true;
}

enum ck_go_numerr ck_go_parse_float_n(const char *s, size_t len, double *out)
{
    const char *p = s;
    size_t n = len;
    int sign = 1;
    if (n && (*p == '+' || *p == '-')) {
        sign = *p == '-' ? -1 : 1;
        p++, n--;
    }
    if (n && (*p == 'i' || *p == 'I' || ((*p == 'n' || *p == 'N') && p == s))) {
        bool nan = *p == 'n' || *p == 'N';
        size_t k = prefix_len_icase(p, n, nan ? "nan" : "infinity");
        if (k > 3 && k < 8)
            k = 3;
        if ((k == 3 || k == 8) && k == n) {
            *out = nan ? NAN : sign * INFINITY;
            return CK_GO_NUM_OK;
        }
        return CK_GO_NUM_SYNTAX;
    }
    CK_AUTOFREE char *clean = ck_xmalloc(len + 1);
    if (!float_syntax_ok(s, len, clean))
        return CK_GO_NUM_SYNTAX;
    double v = strtod(clean, NULL);
    if (isinf(v))
        return CK_GO_NUM_RANGE;
    *out = v;
    return CK_GO_NUM_OK;
}

int ck_go_parse_float(const char *s, double *out, struct ck_buf *msg)
{
    return num_result(ck_go_parse_float_n(s, strlen(s), out), "ParseFloat", s, msg);
}

/* ---- formatting floats ---- */

/* The shortest decimal digits that read back as v (finite, not 0) at the given precision:
 * digits[] without sign, point or trailing zeros; returns their count and sets *exp10 to the
 * decimal exponent of the first digit (v = 0.d1d2... * 10^(exp10+1)). */
static size_t shortest_digits(double v, int bits, char digits[24], int *exp10)
{
    char e[48];
    if (bits == 32) {
        float f = (float)v;
        for (int p = 1; p <= 9; p++) {
            snprintf(e, sizeof(e), "%.*e", p - 1, (double)f);
            if (strtof(e, NULL) == f)
                break;
        }
    } else {
        for (int p = 1; p <= 17; p++) {
            snprintf(e, sizeof(e), "%.*e", p - 1, v);
            if (strtod(e, NULL) == v)
                break;
        }
    }
    /* e is "[-]D[.DDD]e[+-]XX" */
    size_t nd = 0;
    const char *p = e + (e[0] == '-');
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < 23)
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    *exp10 = *p == 'e' ? atoi(p + 1) : 0;
    return nd;
}

void ck_go_format_float(double v, char fmt, int bits, char out[CK_GO_FLOAT_BUFSZ])
{
    if (isnan(v)) {
        strcpy(out, "NaN");
        return;
    }
    if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char digits[24];
    int exp10 = 0;
    size_t nd = 1;
    if (v == 0)
        strcpy(digits, "0");
    else
        nd = shortest_digits(v, bits, digits, &exp10);
    char *o = out;
    if (signbit(v))
        *o++ = '-';
    if (fmt == 'g')
        fmt = exp10 < -4 || exp10 >= 6 ? 'e' : 'f';
    if (fmt == 'e') {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, nd - 1);
            o += nd - 1;
        }
        snprintf(o, (size_t)(out + CK_GO_FLOAT_BUFSZ - o), "e%c%02d", exp10 < 0 ? '-' : '+',
                 exp10 < 0 ? -exp10 : exp10);
        return;
    }
    if (exp10 < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -exp10 - 1; i++)
            *o++ = '0';
        memcpy(o, digits, nd);
        o += nd;
    } else {
        for (int i = 0; i <= exp10; i++)
            *o++ = (size_t)i < nd ? digits[i] : '0';
        if (nd > (size_t)exp10 + 1) {
            *o++ = '.';
            memcpy(o, digits + exp10 + 1, nd - (size_t)exp10 - 1);
            o += nd - (size_t)exp10 - 1;
        }
    }
    *o = '\0';
}

/* ---- encoding/csv ---- */

struct csv_reader {
    const char *p, *end;
    int numline;
    struct ck_buf line; /* current line, "\r\n" normalized to "\n" */
    char **fields;
    size_t n;
};

static bool csv_read_line(struct csv_reader *r)
{
    r->numline++;
    if (r->p >= r->end)
        return false;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    size_t n = nl ? (size_t)(nl - r->p) + 1 : (size_t)(r->end - r->p);
    ck_buf_reset(&r->line);
    ck_buf_add(&r->line, r->p, n);
    r->p += n;
    struct ck_buf *l = &r->line;
    if (!nl && l->len > 0 && l->data[l->len - 1] == '\r')
        ck_buf_truncate(l, l->len - 1);
    if (l->len >= 2 && l->data[l->len - 2] == '\r' && l->data[l->len - 1] == '\n') {
        l->data[l->len - 2] = '\n';
        ck_buf_truncate(l, l->len - 1);
    }
    return true;
}

static size_t length_nl(const char *s, size_t n)
{
    return n > 0 && s[n - 1] == '\n' ? 1 : 0;
}

static void csv_push(struct csv_reader *r, const char *s, size_t n)
{
    r->fields = ck_xrealloc(r->fields, (r->n + 1) * sizeof(*r->fields));
    r->fields[r->n++] = ck_xstrndup(s, n);
}

static int csv_fail(struct ck_buf *msg, int start, int line, int col, bool bare)
{
    if (!msg)
        return -EINVAL;
    if (start != line)
        ck_buf_printf(msg, "record on line %d; ", start);
    ck_buf_printf(msg, "parse error on line %d, column %d: %s", line, col,
                  bare ? "bare \" in non-quoted-field"
                       : "extraneous or missing \" in quoted-field");
    return -EINVAL;
}

/* Reads the first record of r into r->fields. Error text as Go's csv.ParseError / io.EOF. */
static int csv_read_record(struct csv_reader *r, struct ck_buf *msg)
{
    for (;;) {
        if (!csv_read_line(r)) {
            if (msg)
                ck_buf_puts(msg, "EOF");
            return -EINVAL;
        }
        if (r->line.len != length_nl(r->line.data, r->line.len))
            break;
    }
    const int recline = r->numline;
    int pos_line = r->numline, pos_col = 1;
    const char *l = r->line.data;
    size_t len = r->line.len;
    CK_AUTOBUF struct ck_buf field = CK_BUF_INIT;
    for (;;) {
        if (len == 0 || l[0] != '"') {
            const char *comma = memchr(l, ',', len);
            size_t flen = comma ? (size_t)(comma - l) : len - length_nl(l, len);
            const char *q = memchr(l, '"', flen);
            if (q)
                return csv_fail(msg, recline, r->numline, pos_col + (int)(q - l), true);
            csv_push(r, l, flen);
            if (!comma)
                return 0;
            len -= flen + 1;
            l += flen + 1;
            pos_col += (int)flen + 1;
            continue;
        }
        ck_buf_reset(&field);
        l++, len--, pos_col++;
        for (;;) {
            const char *q = memchr(l, '"', len);
            if (q) {
                size_t i = (size_t)(q - l);
                ck_buf_add(&field, l, i);
                l += i + 1, len -= i + 1, pos_col += (int)i + 1;
                if (len > 0 && l[0] == '"') {
                    ck_buf_putc(&field, '"');
                    l++, len--, pos_col++;
                } else if (len > 0 && l[0] == ',') {
                    l++, len--, pos_col++;
                    csv_push(r, ck_buf_str(&field), field.len);
                    break;
                } else if (length_nl(l, len) == len) {
                    csv_push(r, ck_buf_str(&field), field.len);
                    return 0;
                } else {
                    return csv_fail(msg, recline, r->numline, pos_col - 1, false);
                }
            } else if (len > 0) {
                ck_buf_add(&field, l, len);
                pos_col += (int)len;
                if (csv_read_line(r)) {
                    l = r->line.data, len = r->line.len;
                    if (len > 0)
                        pos_line++, pos_col = 1;
                } else {
                    len = 0;
                }
            } else {
                return csv_fail(msg, recline, pos_line, pos_col, false);
            }
        }
    }
}

int ck_go_csv_read(const char *s, char ***fields, size_t *n, struct ck_buf *msg)
{
    struct csv_reader r = {s, s + strlen(s), 0, CK_BUF_INIT, NULL, 0};
    int rc = csv_read_record(&r, msg);
    ck_buf_free(&r.line);
    if (rc < 0) {
        ck_go_csv_free(r.fields, r.n);
        *fields = NULL;
        *n = 0;
        return rc;
    }
    *fields = r.fields;
    *n = r.n;
    return 0;
}

void ck_go_csv_free(char **fields, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(fields[i]);
    free(fields);
}

/* csv.Writer's fieldNeedsQuotes */
static bool csv_needs_quotes(const char *f)
{
    if (!*f)
        return false;
    if (strcmp(f, "\\.") == 0 || strpbrk(f, "\",\r\n"))
        return true;
    const unsigned char *u = (const unsigned char *)f;
    if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r'))
        return true;
    unsigned r;
    return ck_utf8_decode(f, strlen(f), &r) > 1 &&
           (r == 0x85 || r == 0xa0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200a) || r == 0x2028 ||
            r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000);
}

void ck_go_csv_write(struct ck_buf *b, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *f = fields[i] ? fields[i] : "";
        if (i > 0)
            ck_buf_putc(b, ',');
        if (!csv_needs_quotes(f)) {
            ck_buf_puts(b, f);
            continue;
        }
        ck_buf_putc(b, '"');
        for (; *f; f++) {
            if (*f == '"')
                ck_buf_putc(b, '"');
            ck_buf_putc(b, *f);
        }
        ck_buf_putc(b, '"');
    }
}
