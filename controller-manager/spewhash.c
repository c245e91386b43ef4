/* spewhash.c - go-spew's "%#v" of a Go value read from cJSON through the gotypes.h table,
 * and upstream's pod-template-hash sum over it. See spewhash.h for what is reproduced.
 *
 * spew's rules for %#v that matter here (go-spew format.go): a value prints its type in
 * parentheses unless it is a slice element or a map key/value; strings print raw (no
 * quotes); a struct prints `{Field:value ...}`; a slice `[a b]`, a map `map[k:v ...]` with
 * keys sorted; nil slices, maps and pointers print `<nil>`; a pointer prints `(*T)` and
 * then its target without a type (or `<*>` where types are not shown).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deployment_util.h"
#include "json.h"
#include "mem.h"
#include "quantity.h"
#include "spewhash.h"

#define SPEW_MAX_DEPTH 64

typedef unsigned __int128 u128;

/* The last member named key (Go's decoder keeps the last of duplicates), or NULL. */
static const cJSON *member(const cJSON *obj, const char *key)
{
    const cJSON *found = NULL, *c;
    if (!cJSON_IsObject(obj))
        return NULL;
    cJSON_ArrayForEach(c, obj)
    {
        if (c->string && strcmp(c->string, key) == 0)
            found = c;
    }
    return found;
}

static void put_type(struct ck_buf *b, const char *name, bool show)
{
    if (!show)
        return;
    ck_buf_putc(b, '(');
    ck_buf_puts(b, name);
    ck_buf_putc(b, ')');
}

/* ---- resource.Quantity ----------------------------------------------------------------- */

/* What ParseQuantity leaves in a Quantity: either the int64Amount (dec == false) or an
 * inf.Dec whose unscaled magnitude is words[0..nwords) (least significant first). */
struct spew_qty {
    int64_t value;
    int32_t scale;
    bool dec;
    bool dec_neg;
    int nwords;
    uint64_t words[2];
    int32_t dec_scale;
    const char *s; /* the string cache ("" when not kept) */
    const char *format;
};

static const char *format_name(int base, bool exponent_form)
{
    if (exponent_form)
        return "DecimalExponent";
    return base == 2 ? "BinarySI" : "DecimalSI";
}

/* upstream's suffix table: base, exponent and format of a suffix; false when unknown. */
static bool suffix_interpret(const char *suf, int *base, int32_t *exp, const char **format)
{
    static const struct {
        const char *s;
        int base;
        int32_t exp;
    } table[] = {{"n", 10, -9}, {"u", 10, -6}, {"m", 10, -3}, {"", 10, 0},
                 {"k", 10, 3},  {"M", 10, 6},  {"G", 10, 9},  {"T", 10, 12},
                 {"P", 10, 15}, {"E", 10, 18}, {"Ki", 2, 10}, {"Mi", 2, 20},
                 {"Gi", 2, 30}, {"Ti", 2, 40}, {"Pi", 2, 50}, {"Ei", 2, 60}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(suf, table[i].s) == 0) {
            *base = table[i].base;
            *exp = table[i].exp;
            *format = format_name(table[i].base, false);
            return true;
        }
    }
    if ((suf[0] == 'e' || suf[0] == 'E') && suf[1]) {
        char *end;
        errno = 0;
        long long e = strtoll(suf + 1, &end, 10);
        if (errno || *end || e < INT32_MIN || e > INT32_MAX)
            return false;
        *base = 10;
        *exp = (int32_t)e;
        *format = format_name(10, true);
        return true;
    }
    return false;
}

/* upstream's scanner: sign, the numeric text (value, with sign and fraction), the integer
 * digits without leading zeros (num), the fraction digits (denom) and the suffix. The
 * spans point into str. Returns false on the format error. */
struct qscan {
    bool positive;
    size_t value_len, num_off, num_len, denom_off, denom_len, suf_off;
    bool num_zero; /* num is the literal "0" (all digits stripped) */
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool qty_scan(const char *str, struct qscan *q)
{
    size_t pos = 0, end = strlen(str);
    memset(q, 0, sizeof(*q));
    q->positive = true;
    q->suf_off = end;
    if (pos < end && (str[0] == '-' || str[0] == '+')) {
        q->positive = str[0] == '+';
        pos++;
    }
    while (pos < end && str[pos] == '0')
        pos++;
    if (pos >= end) {
        q->num_zero = true;
        q->value_len = 0; /* value is "0" */
        return true;
    }
    size_t i = pos;
    while (i < end && is_digit(str[i]))
        i++;
    q->num_off = pos;
    q->num_len = i - pos;
    q->num_zero = q->num_len == 0;
    if (i >= end) {
        q->value_len = end;
        return true;
    }
    pos = i;
    if (str[pos] == '.') {
        pos++;
        i = pos;
        while (i < end && is_digit(str[i]))
            i++;
        q->denom_off = pos;
        q->denom_len = i - pos;
        if (i >= end) {
            q->value_len = end;
            return true;
        }
        pos = i;
    }
    q->value_len = pos;
    q->suf_off = pos;
    i = pos;
    while (i < end && strchr("eEinumkKMGTP", str[i]))
        i++;
    if (i >= end)
        return true;
    pos = i;
    if (str[pos] == '-' || str[pos] == '+')
        pos++;
    for (i = pos; i < end; i++)
        if (!is_digit(str[i]))
            return false;
    return true;
}

static bool mul_u128(u128 a, u128 b, u128 *out)
{
    if (a != 0 && b > ((u128)-1) / a)
        return false;
    *out = a * b;
    return true;
}

/* inf.Dec slow path of ParseQuantity, bounded to magnitudes below 2^128. */
static int qty_slow(const char *str, const struct qscan *sc, int base, int32_t exp,
                    const char **format, struct spew_qty *q, struct ck_error *err)
{
    u128 mag = 0;
    int32_t scale = 0;
    bool seen_point = false;
    for (size_t i = 0; i < sc->value_len; i++) {
        char c = str[i];
        if (c == '.') {
            seen_point = true;
            continue;
        }
        if (!is_digit(c))
            continue;
        if (!mul_u128(mag, 10, &mag) || mag + (u128)(c - '0') < mag)
            goto range;
        mag += (u128)(c - '0');
        if (seen_point)
            scale++;
    }
    if (base == 10) {
        scale -= exp;
    } else {
        if (exp < 0 || exp >= 127 || (exp > 0 && (mag >> (128 - exp)) != 0))
            goto range;
        mag <<= exp;
    }
    if (mag != 0) { /* inf.Dec Round to scale 9, away from zero */
        if (scale <= 9) {
            for (int32_t s = scale; s < 9; s++)
                if (!mul_u128(mag, 10, &mag))
                    goto range;
        } else {
            bool rem = false;
            for (int32_t s = scale; s > 9 && mag != 0; s--) {
                rem |= mag % 10 != 0;
                mag /= 10;
            }
            if (rem)
                mag++;
        }
        scale = 9;
    }
    /* BinarySI: capped at 2^63-1 (scale 0); a value in (0, 1) turns DecimalSI. After the
     * rounding above a non-zero magnitude is at scale 9. */
    if (mag != 0 && strcmp(*format, "BinarySI") == 0) {
        const u128 giga = 1000000000u;
        if (mag > (u128)INT64_MAX * giga) {
            mag = (u128)INT64_MAX;
            scale = 0;
        } else if (mag < giga) {
            *format = "DecimalSI";
        }
    }
    q->dec = true;
    q->dec_neg = !sc->positive && mag != 0;
    q->dec_scale = scale;
    q->words[0] = (uint64_t)mag;
    q->words[1] = (uint64_t)(mag >> 64);
    q->nwords = mag == 0 ? 0 : (q->words[1] ? 2 : 1);
    q->format = *format;
    q->s = "";
    return 0;
range:
    ck_error_set(err, 400, "BadRequest", "quantity %s is beyond what the hash reproduces", str);
    return -ERANGE;
}

/* upstream's ParseQuantity(str), reduced to the fields it sets. str must outlive q. */
static int qty_fields(const char *str, struct spew_qty *q, struct ck_error *err)
{
    memset(q, 0, sizeof(*q));
    q->s = "";
    q->format = "";
    if (strcmp(str, "0") == 0) {
        q->format = "DecimalSI";
        q->s = str;
        return 0;
    }
    struct qscan sc;
    int base;
    int32_t exp;
    const char *format;
    if (!qty_scan(str, &sc) || !suffix_interpret(str + sc.suf_off, &base, &exp, &format)) {
        ck_error_set(err, 400, "BadRequest", "quantity %s does not parse", str);
        return -EINVAL;
    }
    if (exp < -(1 << 20) || exp > (1 << 20)) {
        ck_error_set(err, 400, "BadRequest", "quantity %s is beyond what the hash reproduces", str);
        return -ERANGE;
    }
    size_t num_len = sc.num_zero ? 1 : sc.num_len;
    int32_t precision, scale = 0;
    int64_t mantissa = 1;
    if (base == 10) {
        scale = exp;
        precision = 18 - (int32_t)(num_len + sc.denom_len);
    } else if (exp >= 0 && sc.denom_len == 0) {
        mantissa = (int64_t)1 << exp;
        precision = 15 - (int32_t)num_len - (int32_t)((float)exp * 3 / 10) - 1;
    } else {
        precision = -1;
    }
    if (precision >= 0) {
        scale -= (int32_t)sc.denom_len;
        if (scale >= -9) {
            char shifted[64];
            if (num_len + sc.denom_len >= sizeof(shifted))
                goto slow;
            if (sc.num_zero)
                strcpy(shifted, "0");
            else
                snprintf(shifted, sizeof(shifted), "%.*s", (int)sc.num_len, str + sc.num_off);
            snprintf(shifted + strlen(shifted), sizeof(shifted) - strlen(shifted), "%.*s",
                     (int)sc.denom_len, str + sc.denom_off);
            char *end;
            errno = 0;
            long long v = strtoll(shifted, &end, 10);
            if (errno || *end) {
                ck_error_set(err, 400, "BadRequest", "quantity %s does not parse", str);
                return -EINVAL;
            }
            long long r;
            if (!__builtin_mul_overflow(v, (long long)mantissa, &r)) {
                q->value = sc.positive ? r : -r;
                q->scale = scale;
                q->format = format;
                size_t sl = strlen(shifted);
                bool keep;
                if (base == 2)
                    keep = exp % 10 == 0 && (v & 7) != 0;
                else
                    keep = scale % 3 == 0 && !(sl >= 3 && strcmp(shifted + sl - 3, "000") == 0) &&
                           shifted[0] != '0';
                q->s = keep ? str : "";
                return 0;
            }
        }
    }
slow:
    return qty_slow(str, &sc, base, exp, &format, q, err);
}

static void put_u128_words(struct ck_buf *b, const struct spew_qty *q)
{
    if (q->nwords == 0) {
        ck_buf_puts(b, "<nil>");
        return;
    }
    ck_buf_putc(b, '[');
    for (int i = 0; i < q->nwords; i++)
        ck_buf_printf(b, "%s%llu", i ? " " : "", (unsigned long long)q->words[i]);
    ck_buf_putc(b, ']');
}

static void put_qty(struct ck_buf *b, const struct spew_qty *q, bool show)
{
    put_type(b, "resource.Quantity", show);
    ck_buf_printf(b, "{i:(resource.int64Amount){value:(int64)%lld scale:(resource.Scale)%d} ",
                  (long long)q->value, (int)q->scale);
    ck_buf_puts(b, "d:(resource.infDecAmount){Dec:(*inf.Dec)");
    if (q->dec) {
        ck_buf_printf(b, "{unscaled:(big.Int){neg:(bool)%s abs:(big.nat)",
                      q->dec_neg ? "true" : "false");
        put_u128_words(b, q);
        ck_buf_printf(b, "} scale:(inf.Scale)%d}", (int)q->dec_scale);
    } else {
        ck_buf_puts(b, "<nil>");
    }
    ck_buf_printf(b, "} s:(string)%s Format:(resource.Format)%s}", q->s, q->format);
}

/* A quantity member as the controller-manager decodes it: the apiserver's String() of the
 * parsed value, parsed again. */
static int print_quantity(struct ck_buf *b, const cJSON *v, bool show, struct ck_error *err)
{
    struct spew_qty q;
    if (!v || cJSON_IsNull(v)) {
        memset(&q, 0, sizeof(q));
        q.s = "";
        q.format = "";
        put_qty(b, &q, show);
        return 0;
    }
    struct ck_quantity parsed;
    int r = ck_quantity_parse_json(v, &parsed, err);
    if (r < 0)
        return r;
    char canon[CK_QUANTITY_STR_MAX];
    r = ck_quantity_format(&parsed, canon, sizeof(canon));
    if (r < 0) {
        ck_error_set(err, 500, "InternalError", "quantity does not format");
        return -EINVAL;
    }
    r = qty_fields(canon, &q, err);
    if (r < 0)
        return r;
    put_qty(b, &q, show);
    return 0;
}

/* ---- the other special types ----------------------------------------------------------- */

static void print_intorstring(struct ck_buf *b, const cJSON *v, bool show)
{
    int64_t n = 0;
    const char *s = "";
    int type = 0;
    if (cJSON_IsString(v) && v->valuestring) {
        type = 1;
        s = v->valuestring;
    } else if (cJSON_IsNumber(v) && ck_json_to_int64(v, &n) < 0) {
        n = 0;
    }
    put_type(b, "intstr.IntOrString", show);
    ck_buf_printf(b, "{Type:(intstr.Type)%d IntVal:(int32)%d StrVal:(string)%s}", type,
                  (int)(int32_t)n, s);
}

static int print_time(struct ck_buf *b, const cJSON *v, bool show, struct ck_error *err)
{
    if (v && !cJSON_IsNull(v)) {
        ck_error_set(err, 500, "InternalError",
                     "a set metav1.Time cannot be hashed as upstream does");
        return -ENOTSUP;
    }
    put_type(b, "v1.Time", show);
    ck_buf_puts(b, "{Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}}");
    return 0;
}

static void print_fieldsv1(struct ck_buf *b, const cJSON *v, bool show)
{
    put_type(b, "v1.FieldsV1", show);
    ck_buf_puts(b, "{Raw:([]uint8)");
    CK_AUTOFREE char *raw = v ? cJSON_PrintUnformatted(v) : NULL;
    if (!raw || !*raw) {
        ck_buf_puts(b, "<nil>}");
        return;
    }
    ck_buf_putc(b, '[');
    for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
        ck_buf_printf(b, "%s%u", p == (const unsigned char *)raw ? "" : " ", *p);
    ck_buf_puts(b, "]}");
}

/* ---- the walk -------------------------------------------------------------------------- */

static int print_value(struct ck_buf *b, const struct gt_type *t, const cJSON *v, bool show,
                       int depth, struct ck_error *err);

struct map_entry {
    const cJSON *item;
    size_t index;
};

static int map_entry_cmp(const void *pa, const void *pb)
{
    const struct map_entry *a = pa, *b = pb;
    int c = strcmp(a->item->string, b->item->string);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int print_map(struct ck_buf *b, const struct gt_type *t, const cJSON *v, int depth,
                     struct ck_error *err)
{
    size_t n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, v) n++;
    CK_AUTOFREE struct map_entry *e = ck_xmalloc(n * sizeof(*e) + 1);
    n = 0;
    cJSON_ArrayForEach(c, v)
    {
        if (c->string) {
            e[n].item = c;
            e[n].index = n;
            n++;
        }
    }
    qsort(e, n, sizeof(*e), map_entry_cmp);
    ck_buf_puts(b, "map[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && strcmp(e[i].item->string, e[i + 1].item->string) == 0)
            continue; /* a later duplicate wins, as in Go's decoder */
        if (!first)
            ck_buf_putc(b, ' ');
        first = false;
        ck_buf_puts(b, e[i].item->string);
        ck_buf_putc(b, ':');
        int r = print_value(b, t->elem, e[i].item, false, depth + 1, err);
        if (r < 0)
            return r;
    }
    ck_buf_putc(b, ']');
    return 0;
}

static int print_struct(struct ck_buf *b, const struct gt_type *t, const cJSON *v, int depth,
                        struct ck_error *err)
{
    const cJSON *obj = cJSON_IsObject(v) ? v : NULL;
    ck_buf_putc(b, '{');
    for (size_t i = 0; i < t->nfields; i++) {
        const struct gt_field *f = &t->fields[i];
        if (i)
            ck_buf_putc(b, ' ');
        ck_buf_puts(b, f->go_name);
        ck_buf_putc(b, ':');
        const cJSON *fv = f->json ? member(obj, f->json) : obj;
        int r = print_value(b, f->type, fv, true, depth + 1, err);
        if (r < 0)
            return r;
    }
    ck_buf_putc(b, '}');
    return 0;
}

static int print_value(struct ck_buf *b, const struct gt_type *t, const cJSON *v, bool show,
                       int depth, struct ck_error *err)
{
    if (depth > SPEW_MAX_DEPTH) {
        ck_error_set(err, 500, "InternalError", "template nests too deep to hash");
        return -ELOOP;
    }
    if (v && cJSON_IsNull(v))
        v = NULL;
    switch (t->kind) {
    case GT_PTR:
        if (!v) {
            if (show)
                put_type(b, t->name, true);
            ck_buf_puts(b, "<nil>");
            return 0;
        }
        if (show)
            put_type(b, t->name, true);
        else
            ck_buf_puts(b, "<*>");
        return print_value(b, t->elem, v, false, depth + 1, err);
    case GT_STRING:
        put_type(b, t->name, show);
        if (cJSON_IsString(v) && v->valuestring)
            ck_buf_puts(b, v->valuestring);
        return 0;
    case GT_BOOL:
        put_type(b, t->name, show);
        ck_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
        return 0;
    case GT_INT32:
    case GT_INT64: {
        int64_t n = 0;
        if (!cJSON_IsNumber(v) || ck_json_to_int64(v, &n) < 0)
            n = 0;
        if (t->kind == GT_INT32)
            n = (int32_t)n;
        put_type(b, t->name, show);
        ck_buf_printf(b, "%lld", (long long)n);
        return 0;
    }
    case GT_SLICE: {
        put_type(b, t->name, show);
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
            ck_buf_puts(b, "<nil>");
            return 0;
        }
        ck_buf_putc(b, '[');
        const cJSON *c;
        bool first = true;
        cJSON_ArrayForEach(c, v)
        {
            if (!first)
                ck_buf_putc(b, ' ');
            first = false;
            int r = print_value(b, t->elem, c, false, depth + 1, err);
            if (r < 0)
                return r;
        }
        ck_buf_putc(b, ']');
        return 0;
    }
    case GT_MAP:
        put_type(b, t->name, show);
        if (!cJSON_IsObject(v) || !v->child) {
            ck_buf_puts(b, "<nil>");
            return 0;
        }
        return print_map(b, t, v, depth, err);
    case GT_STRUCT:
        put_type(b, t->name, show);
        return print_struct(b, t, v, depth, err);
    case GT_QUANTITY:
        return print_quantity(b, v, show, err);
    case GT_INTORSTRING:
        print_intorstring(b, v, show);
        return 0;
    case GT_TIME:
        return print_time(b, v, show, err);
    case GT_FIELDSV1:
        print_fieldsv1(b, v, show);
        return 0;
    }
    ck_error_set(err, 500, "InternalError", "unknown Go type kind");
    return -EINVAL;
}

int spew_print(struct ck_buf *out, const struct gt_type *t, const cJSON *v, struct ck_error *err)
{
    if (!out || !t)
        return -EINVAL;
    return print_value(out, t, v, true, 0, err);
}

int spew_template_sum(const cJSON *tmpl, const int64_t *collision_count, uint32_t *sum,
                      struct ck_error *err)
{
    CK_AUTOBUF struct ck_buf b;
    ck_buf_init(&b);
    int r = spew_print(&b, gt_pod_template_spec(), tmpl, err);
    if (r < 0)
        return r;
    uint32_t h = dp_fnv32a(DP_FNV32_OFFSET, b.data, b.len);
    if (collision_count) {
        uint32_t c = (uint32_t)*collision_count;
        unsigned char bytes[8] = {(unsigned char)c, (unsigned char)(c >> 8),
                                  (unsigned char)(c >> 16), (unsigned char)(c >> 24)};
        h = dp_fnv32a(h, bytes, sizeof(bytes));
    }
    *sum = h;
    return 0;
}
