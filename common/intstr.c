/* intstr.c - int-or-string values and percent scaling as upstream's intstr (see intstr.h). */
#include "intstr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

static const char prefix[] = "invalid value for IntOrString";

struct ck_intstr ck_intstr_from_int(int32_t v)
{
    struct ck_intstr r = {CK_INTSTR_INT, v, NULL};
    return r;
}

struct ck_intstr ck_intstr_from_string(const char *s)
{
    struct ck_intstr r = {CK_INTSTR_STRING, 0, ck_xstrdup(s ? s : "")};
    return r;
}

const struct ck_intstr *ck_intstr_rolling_update_default(void)
{
    static const struct ck_intstr def = {CK_INTSTR_STRING, 0,
                                         (char *)CK_INTSTR_ROLLING_UPDATE_DEFAULT};
    return &def;
}

void ck_intstr_clear(struct ck_intstr *v)
{
    if (!v)
        return;
    free(v->str_val);
    v->type = CK_INTSTR_INT;
    v->int_val = 0;
    v->str_val = NULL;
}

void ck_intstr_copy(struct ck_intstr *dst, const struct ck_intstr *src)
{
    dst->type = src->type;
    dst->int_val = src->int_val;
    dst->str_val = src->str_val ? ck_xstrdup(src->str_val) : NULL;
}

static const char *str_of(const struct ck_intstr *v)
{
    return v->str_val ? v->str_val : "";
}

bool ck_intstr_equal(const struct ck_intstr *a, const struct ck_intstr *b)
{
    if (a->type != b->type)
        return false;
    if (a->type == CK_INTSTR_STRING)
        return strcmp(str_of(a), str_of(b)) == 0;
    return a->int_val == b->int_val;
}

/* ---- Go's strconv.Atoi and strconv.Quote, for identical results and messages ---------- */

enum atoi_result { ATOI_OK, ATOI_SYNTAX, ATOI_RANGE };

/* strconv.Atoi on a 64-bit platform: *out gets the value, 0 on a syntax error, or the
 * clamped bound on a range error (which, as in Go, wins when met before a bad byte). */
static enum atoi_result go_atoi(const char *s, int64_t *out)
{
    *out = 0;
    bool neg = false;
    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        s++;
    }
    if (*s == '\0')
        return ATOI_SYNTAX;
    uint64_t n = 0;
    bool range = false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return ATOI_SYNTAX;
        if (n >= UINT64_MAX / 10 + 1) {
            range = true;
            break;
        }
        uint64_t n1 = n * 10 + (uint64_t)(*s - '0');
        if (n1 < n * 10) {
            range = true;
            break;
        }
        n = n1;
    }
    if (range || (!neg && n > (uint64_t)INT64_MAX) || (neg && n > (uint64_t)INT64_MAX + 1)) {
        *out = neg ? INT64_MIN : INT64_MAX;
        return ATOI_RANGE;
    }
    *out = neg ? (n == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)n) : (int64_t)n;
    return ATOI_OK;
}

/* Length of a valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* Appends s quoted as Go's %q / strconv.Quote does for ASCII and valid UTF-8. */
static void go_quote(struct ck_buf *b, const char *s)
{
    ck_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned char c = *p;
        size_t n;
        switch (c) {
        case '"':
            ck_buf_puts(b, "\\\"");
            break;
        case '\\':
            ck_buf_puts(b, "\\\\");
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
        case '\n':
            ck_buf_puts(b, "\\n");
            break;
        case '\r':
            ck_buf_puts(b, "\\r");
            break;
        case '\t':
            ck_buf_puts(b, "\\t");
            break;
        case '\v':
            ck_buf_puts(b, "\\v");
            break;
        default:
            if (c >= 0x80 && (n = utf8_len(p)) > 0) {
                ck_buf_add(b, p, n);
                p += n;
                continue;
            }
            if (c < 0x20 || c >= 0x7f)
                ck_buf_printf(b, "\\x%02x", c);
            else
                ck_buf_putc(b, (char)c);
        }
        p++;
    }
    ck_buf_putc(b, '"');
}

struct ck_intstr ck_intstr_parse(const char *s)
{
    int64_t v;
    if (s && go_atoi(s, &v) == ATOI_OK)
        return ck_intstr_from_int((int32_t)(uint32_t)(uint64_t)v); /* as upstream's FromInt */
    return ck_intstr_from_string(s);
}

int64_t ck_intstr_int_value(const struct ck_intstr *v)
{
    if (v->type == CK_INTSTR_STRING) {
        int64_t n;
        go_atoi(str_of(v), &n);
        return n;
    }
    return v->int_val;
}

char *ck_intstr_to_string(const struct ck_intstr *v)
{
    if (v->type == CK_INTSTR_STRING)
        return ck_xstrdup(str_of(v));
    return ck_xasprintf("%d", v->int_val);
}

cJSON *ck_intstr_to_json(const struct ck_intstr *v)
{
    if (v->type == CK_INTSTR_STRING)
        return cJSON_CreateString(str_of(v));
    return cJSON_CreateNumber(v->int_val);
}

/* Spelling of a JSON number in Go's decode errors ("number 1.5"). */
static void number_text(double d, char *buf, size_t size)
{
    if (d == floor(d) && fabs(d) < 1e21) {
        snprintf(buf, size, "%.0f", d);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

int ck_intstr_from_json(const cJSON *v, struct ck_intstr *out, struct ck_error *err)
{
    static const char fmt[] = "json: cannot unmarshal %s into Go value of type int32";
    if (!v || cJSON_IsNull(v)) {
        *out = ck_intstr_from_int(0);
        return 0;
    }
    if (cJSON_IsString(v)) {
        *out = ck_intstr_from_string(v->valuestring);
        return 0;
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (isfinite(d) && d == floor(d) && d >= INT32_MIN && d <= INT32_MAX) {
            *out = ck_intstr_from_int((int32_t)d);
            return 0;
        }
        char text[64] = "number ";
        if (isfinite(d))
            number_text(d, text + strlen(text), sizeof(text) - strlen(text));
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, fmt, text);
    }
    const char *kind = cJSON_IsBool(v) ? "bool" : cJSON_IsArray(v) ? "array" : "object";
    return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, fmt, kind);
}

const struct ck_intstr *ck_intstr_value_or_default(const struct ck_intstr *v,
                                                   const struct ck_intstr *def)
{
    return v ? v : def;
}

/* int(x) for a float64 already rounded to a whole number, clamped instead of undefined. */
static int64_t whole_to_int64(double x)
{
    if (x >= 9223372036854775808.0)
        return INT64_MAX;
    if (x < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)x;
}

int ck_intstr_scaled_value(const struct ck_intstr *v, int64_t total, bool round_up, int64_t *out,
                           struct ck_error *err)
{
    if (!v)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "nil value for IntOrString");
    if (v->type == CK_INTSTR_INT) {
        *out = v->int_val;
        return 0;
    }
    if (v->type != CK_INTSTR_STRING)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "%s: invalid type: neither int nor percentage", prefix);
    const char *s = str_of(v);
    size_t n = strlen(s);
    if (n == 0 || s[n - 1] != '%')
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "%s: invalid type: string is not a percentage", prefix);
    CK_AUTOFREE char *num = ck_xstrndup(s, n - 1);
    int64_t value;
    enum atoi_result r = go_atoi(num, &value);
    if (r != ATOI_OK) {
        CK_AUTOBUF struct ck_buf whole = CK_BUF_INIT;
        CK_AUTOBUF struct ck_buf part = CK_BUF_INIT;
        go_quote(&whole, s);
        go_quote(&part, num);
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "%s: invalid value %s: strconv.Atoi: parsing %s: %s", prefix,
                            ck_buf_str(&whole), ck_buf_str(&part),
                            r == ATOI_RANGE ? "value out of range" : "invalid syntax");
    }
    double x = (double)value * (double)total / 100;
    *out = whole_to_int64(round_up ? ceil(x) : floor(x));
    return 0;
}

bool ck_intstr_is_valid_percent(const char *s)
{
    if (!s)
        return false;
    size_t digits = strspn(s, "0123456789");
    return digits > 0 && s[digits] == '%' && s[digits + 1] == '\0';
}

int ck_intstr_resolve_fenceposts(const struct ck_intstr *max_surge,
                                 const struct ck_intstr *max_unavailable, int32_t desired,
                                 int32_t *surge, int32_t *unavailable, struct ck_error *err)
{
    static const struct ck_intstr zero = CK_INTSTR_INIT;
    int64_t s, u;
    int rc = ck_intstr_scaled_value(ck_intstr_value_or_default(max_surge, &zero), desired, true, &s,
                                    err);
    if (rc < 0)
        return rc;
    rc = ck_intstr_scaled_value(ck_intstr_value_or_default(max_unavailable, &zero), desired, false,
                                &u, err);
    if (rc < 0)
        return rc;
    if (s == 0 && u == 0)
        u = 1; /* rounding may zero both; upstream then allows one unavailable */
    *surge = (int32_t)s;
    *unavailable = (int32_t)u;
    return 0;
}
