/* json.c - JSON helpers over cJSON: Go-compatible parser, paths, equality, Go-style printing
 * (see json.h). */
#include "json.h"
#include "mem.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWO53 9007199254740992.0
#define MAX_STEPS 64 /* steps in one path */

/* cJSON constructors return NULL only when out of memory, which is fatal for us (mem.h). */
static cJSON *must(cJSON *j)
{
    if (!j) {
        fprintf(stderr, "ckube: out of memory building JSON\n");
        abort();
    }
    return j;
}

static void must_add(cJSON *obj, const char *key, cJSON *item)
{
    if (!cJSON_AddItemToObject(obj, key, item)) {
        fprintf(stderr, "ckube: out of memory building JSON\n");
        abort();
    }
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (n bytes available) with its code point in *cp, or
 * 0 when the bytes there are not valid UTF-8 (overlong forms, surrogates and values beyond
 * U+10FFFF are invalid, as Go's utf8.DecodeRune has it). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static void utf8_put(struct ck_buf *b, uint32_t cp)
{
    char o[4];
    size_t n;
    if (cp < 0x80) {
        o[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        o[0] = (char)(0xF0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (char)(0x80 | (cp >> 6 & 0x3F)), o[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    ck_buf_add(b, o, n);
}

/* ---- exact integers ---- */

/* Stores v's decimal text in the number node (see json.h), allocated by cJSON itself so that
 * cJSON_Delete's deallocator matches. */
static void attach_exact(cJSON *num, int64_t v)
{
    char txt[24];
    snprintf(txt, sizeof(txt), "%" PRId64, v);
    cJSON *tmp = must(cJSON_CreateString(txt));
    num->valuestring = tmp->valuestring;
    tmp->valuestring = NULL;
    cJSON_Delete(tmp);
}

/* The exact integer text of a number node, when present and still matching valuedouble. */
static int exact_int(const cJSON *num, int64_t *out)
{
    if (!num->valuestring)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(num->valuestring, &end, 10);
    if (errno || end == num->valuestring || *end || (double)v != num->valuedouble)
        return 0;
    *out = v;
    return 1;
}

cJSON *ck_json_new_int64(int64_t v)
{
    cJSON *n = must(cJSON_CreateNumber((double)v));
    if (v > (int64_t)TWO53 || v < -(int64_t)TWO53)
        attach_exact(n, v);
    return n;
}

/* ---- parser ---- */

static const char DECODE_PREFIX[] = "couldn't get version/kind; json parse error: ";

struct parser {
    const unsigned char *s;
    size_t len, pos;
    int depth, max_depth;
    const char *prefix;
    struct ck_error *err;
    int failed;
    struct ck_buf str; /* the string just read */
};

/* Go's quoteChar: how its scanner shows the offending byte in messages. The byte is shown as
 * the rune of the same value (so 0xE9 reads 'é'), quoted like strconv.Quote with single
 * quotes. */
static void quote_char(char out[16], unsigned char c)
{
    /* strconv.Quote's short escapes; quoteChar itself special-cases the two quote marks */
    static const char from[] = "'\"\\\a\b\f\n\r\t\v";
    static const char *const to[] = {"'\\''", "'\"'",  "'\\\\'", "'\\a'", "'\\b'",
                                     "'\\f'", "'\\n'", "'\\r'",  "'\\t'", "'\\v'"};
    const char *hit = c ? memchr(from, c, sizeof(from) - 1) : NULL;
    const char *esc = hit ? to[hit - from] : NULL;
    if (esc)
        snprintf(out, 16, "%s", esc);
    else if (c < 0x20 || c == 0x7F)
        snprintf(out, 16, "'\\x%02x'", c);
    else if (c < 0x7F)
        snprintf(out, 16, "'%c'", c);
    else if (c < 0xA1 || c == 0xAD) /* C1 controls, no-break space, soft hyphen: not printable */
        snprintf(out, 16, "'\\u%04x'", c);
    else
        snprintf(out, 16, "'%c%c'", 0xC0 | c >> 6, 0x80 | (c & 0x3F));
}

/* Records a syntax error at byte c (-1: end of input), worded as Go's scanner. */
static void syntax_error(struct parser *p, int c, const char *context)
{
    if (p->failed)
        return;
    p->failed = 1;
    if (c < 0) {
        ck_error_set(p->err, 400, CK_REASON_BAD_REQUEST, "%sunexpected end of JSON input",
                     p->prefix);
        return;
    }
    char q[16];
    quote_char(q, (unsigned char)c);
    ck_error_set(p->err, 400, CK_REASON_BAD_REQUEST, "%sinvalid character %s %s", p->prefix, q,
                 context);
}

/* Skips whitespace; returns the next byte or -1 at the end. */
static int skip_ws(struct parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return c;
        p->pos++;
    }
    return -1;
}

/* The byte at the cursor inside a token. At the end of input Go's scanner is fed a space, so
 * "1." fails with "invalid character ' ' after decimal point"; we do the same. */
static int tok(struct parser *p)
{
    return p->pos < p->len ? p->s[p->pos] : ' ';
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at s[at..] (no syntax error reporting), or -1. */
static int peek_u4(const struct parser *p, size_t at)
{
    if (at + 4 > p->len)
        return -1;
    int v = 0;
    for (size_t i = 0; i < 4; i++) {
        int h = hexval(p->s[at + i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* Reads the string at the cursor (on its opening quote) into p->str, decoded. */
static int parse_string(struct parser *p)
{
    ck_buf_reset(&p->str);
    ck_buf_add(&p->str, "", 0); /* never leave str.data NULL */
    p->pos++;
    for (;;) {
        size_t run = p->pos;
        while (run < p->len) {
            unsigned char c = p->s[run];
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
                break;
            run++;
        }
        ck_buf_add(&p->str, p->s + p->pos, run - p->pos);
        p->pos = run;
        if (p->pos >= p->len) {
            syntax_error(p, -1, NULL);
            return -1;
        }
        unsigned char c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            return 0;
        }
        if (c < 0x20) {
            syntax_error(p, c, "in string literal");
            return -1;
        }
        if (c >= 0x80) {
            uint32_t cp;
            size_t n = utf8_decode(p->s + p->pos, p->len - p->pos, &cp);
            if (n == 0) {
                utf8_put(&p->str, 0xFFFD); /* as Go's decoder */
                p->pos++;
            } else {
                ck_buf_add(&p->str, p->s + p->pos, n);
                p->pos += n;
            }
            continue;
        }
        /* backslash escape */
        p->pos++;
        int e = tok(p);
        static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
        const char *hit = e ? strchr(esc_in, e) : NULL;
        if (!hit && e != 'u') {
            syntax_error(p, e, "in string escape code");
            return -1;
        }
        p->pos++;
        if (hit) {
            ck_buf_putc(&p->str, esc_out[hit - esc_in]);
            continue;
        }
        uint32_t cp = 0;
        for (int i = 0; i < 4; i++) {
            int h = hexval(tok(p));
            if (h < 0) {
                syntax_error(p, tok(p), "in \\u hexadecimal character escape");
                return -1;
            }
            cp = cp << 4 | (uint32_t)h;
            p->pos++;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            /* a high surrogate followed by an escaped low one is a pair; anything else is
             * U+FFFD and the next escape is read on its own (Go's decoder does the same) */
            int lo = -1;
            if (cp < 0xDC00 && p->pos + 1 < p->len && p->s[p->pos] == '\\' &&
                p->s[p->pos + 1] == 'u')
                lo = peek_u4(p, p->pos + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                p->pos += 6;
            } else {
                cp = 0xFFFD;
            }
        }
        if (cp == 0) {
            p->failed = 1;
            ck_error_set(p->err, 400, CK_REASON_BAD_REQUEST,
                         "json: cannot unmarshal string containing \\u0000: NUL characters are "
                         "not supported");
            return -1;
        }
        utf8_put(&p->str, cp);
    }
}

static cJSON *parse_number(struct parser *p)
{
    size_t start = p->pos;
    int integral = 1;
    if (p->s[p->pos] == '-') {
        p->pos++;
        if (!is_digit(tok(p))) {
            syntax_error(p, tok(p), "in numeric literal");
            return NULL;
        }
    }
    if (p->s[p->pos] == '0')
        p->pos++;
    else
        while (p->pos < p->len && is_digit(p->s[p->pos]))
            p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        integral = 0;
        p->pos++;
        if (!is_digit(tok(p))) {
            syntax_error(p, tok(p), "after decimal point in numeric literal");
            return NULL;
        }
        while (p->pos < p->len && is_digit(p->s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        integral = 0;
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (!is_digit(tok(p))) {
            syntax_error(p, tok(p), "in exponent of numeric literal");
            return NULL;
        }
        while (p->pos < p->len && is_digit(p->s[p->pos]))
            p->pos++;
    }
    size_t n = p->pos - start;
    char small[64];
    char *txt = n < sizeof(small) ? small : ck_xmalloc(n + 1);
    memcpy(txt, p->s + start, n);
    txt[n] = '\0';
    double d = strtod(txt, NULL);
    cJSON *num = NULL;
    if (isinf(d)) {
        p->failed = 1;
        ck_error_set(p->err, 400, CK_REASON_BAD_REQUEST,
                     "json: cannot unmarshal number %.64s into Go value of type float64", txt);
    } else {
        num = must(cJSON_CreateNumber(d));
        /* integer literals that fit int64 stay exact, as upstream's unstructured decoding */
        if (integral && n - (txt[0] == '-') <= 19) {
            errno = 0;
            long long v = strtoll(txt, NULL, 10);
            if (errno == 0 && (v > (long long)TWO53 || v < -(long long)TWO53))
                attach_exact(num, v);
        }
    }
    if (txt != small)
        free(txt);
    return num;
}

static cJSON *parse_literal(struct parser *p, const char *word, cJSON *(*make)(void))
{
    for (size_t i = 1; word[i]; i++) {
        p->pos++;
        int c = tok(p);
        if (c != word[i]) {
            char ctx[48];
            snprintf(ctx, sizeof(ctx), "in literal %s (expecting '%c')", word, word[i]);
            syntax_error(p, c, ctx);
            return NULL;
        }
    }
    p->pos++;
    return must(make());
}

static cJSON *parse_value(struct parser *p);

/* Keeps the last of members sharing a key (Go's map decoding: later values overwrite). */
struct member {
    const char *key;
    size_t idx;
    cJSON *item;
};

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void drop_duplicate_keys(cJSON *obj, size_t n)
{
    if (n <= 8) {
        for (cJSON *a = obj->child; a;) {
            cJSON *next = a->next;
            for (cJSON *b = next; b; b = b->next) {
                if (strcmp(a->string, b->string) == 0) {
                    cJSON_Delete(cJSON_DetachItemViaPointer(obj, a));
                    break;
                }
            }
            a = next;
        }
        return;
    }
    struct member *m = ck_xmalloc(n * sizeof(*m));
    size_t i = 0;
    for (cJSON *c = obj->child; c && i < n; c = c->next, i++)
        m[i] = (struct member){c->string, i, c};
    qsort(m, i, sizeof(*m), member_cmp);
    for (size_t k = 0; k + 1 < i; k++)
        if (strcmp(m[k].key, m[k + 1].key) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(obj, m[k].item));
    free(m);
}

static int enter(struct parser *p, int c)
{
    if (++p->depth > p->max_depth) {
        syntax_error(p, c, "exceeded max depth");
        return -1;
    }
    p->pos++;
    return 0;
}

static cJSON *parse_object(struct parser *p)
{
    if (enter(p, '{') < 0)
        return NULL;
    cJSON *obj = must(cJSON_CreateObject());
    size_t n = 0;
    int c = skip_ws(p);
    if (c == '}') {
        p->pos++;
        p->depth--;
        return obj;
    }
    for (;;) {
        if (c != '"') {
            syntax_error(p, c, "looking for beginning of object key string");
            goto fail;
        }
        if (parse_string(p) < 0)
            goto fail;
        char *key = ck_xstrdup(ck_buf_str(&p->str));
        c = skip_ws(p);
        if (c != ':') {
            free(key);
            syntax_error(p, c, "after object key");
            goto fail;
        }
        p->pos++;
        cJSON *v = parse_value(p);
        if (!v) {
            free(key);
            goto fail;
        }
        must_add(obj, key, v);
        free(key);
        n++;
        c = skip_ws(p);
        if (c == ',') {
            p->pos++;
            c = skip_ws(p);
            continue;
        }
        if (c == '}') {
            p->pos++;
            break;
        }
        syntax_error(p, c, "after object key:value pair");
        goto fail;
    }
    if (n > 1)
        drop_duplicate_keys(obj, n);
    p->depth--;
    return obj;
fail:
    cJSON_Delete(obj);
    return NULL;
}

static cJSON *parse_array(struct parser *p)
{
    if (enter(p, '[') < 0)
        return NULL;
    cJSON *arr = must(cJSON_CreateArray());
    int c = skip_ws(p);
    if (c == ']') {
        p->pos++;
        p->depth--;
        return arr;
    }
    for (;;) {
        cJSON *v = parse_value(p);
        if (!v)
            goto fail;
        cJSON_AddItemToArray(arr, v);
        c = skip_ws(p);
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == ']') {
            p->pos++;
            break;
        }
        syntax_error(p, c, "after array element");
        goto fail;
    }
    p->depth--;
    return arr;
fail:
    cJSON_Delete(arr);
    return NULL;
}

static cJSON *parse_value(struct parser *p)
{
    int c = skip_ws(p);
    switch (c) {
    case -1:
        syntax_error(p, -1, NULL);
        return NULL;
    case '{':
        return parse_object(p);
    case '[':
        return parse_array(p);
    case '"':
        return parse_string(p) < 0 ? NULL : must(cJSON_CreateString(ck_buf_str(&p->str)));
    case 't':
        return parse_literal(p, "true", cJSON_CreateTrue);
    case 'f':
        return parse_literal(p, "false", cJSON_CreateFalse);
    case 'n':
        return parse_literal(p, "null", cJSON_CreateNull);
    }
    if (c == '-' || is_digit(c))
        return parse_number(p);
    syntax_error(p, c, "looking for beginning of value");
    return NULL;
}

static const char *go_value_kind(const cJSON *v)
{
    if (cJSON_IsArray(v))
        return "array";
    if (cJSON_IsString(v))
        return "string";
    if (cJSON_IsNumber(v))
        return "number";
    return "bool";
}

cJSON *ck_json_parse_with(const char *s, size_t len, const struct ck_json_parse_opts *opts,
                          struct ck_error *err)
{
    size_t max_bytes = opts && opts->max_bytes ? opts->max_bytes : CK_JSON_MAX_BYTES;
    int max_depth = CK_JSON_MAX_DEPTH;
    if (opts && opts->max_depth > 0 && opts->max_depth < CK_JSON_MAX_DEPTH)
        max_depth = opts->max_depth;
    if (!s && len) {
        ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "json: no input");
        return NULL;
    }
    if (len > max_bytes) {
        ck_error_set(err, 413, CK_REASON_TOO_LARGE, "Request entity too large: limit is %zu",
                     max_bytes);
        return NULL;
    }
    struct parser p = {
        .s = (const unsigned char *)(s ? s : ""),
        .len = len,
        .max_depth = max_depth,
        .prefix = opts && opts->raw_message ? "" : DECODE_PREFIX,
        .err = err,
    };
    ck_buf_init(&p.str);
    cJSON *v = parse_value(&p);
    if (v) {
        int c = skip_ws(&p);
        if (c >= 0) {
            syntax_error(&p, c, "after top-level value");
            cJSON_Delete(v);
            v = NULL;
        }
    }
    ck_buf_free(&p.str);
    if (v && opts && opts->require_object && !cJSON_IsObject(v)) {
        /* upstream first decodes into a struct holding apiVersion and kind */
        if (cJSON_IsNull(v))
            ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "Object 'Kind' is missing in 'null'");
        else
            ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                         "%sjson: cannot unmarshal %s into Go value of type struct { APIVersion "
                         "string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string "
                         "\"json:\\\"kind,omitempty\\\"\" }",
                         p.prefix, go_value_kind(v));
        cJSON_Delete(v);
        v = NULL;
    }
    return v;
}

cJSON *ck_json_parse(const char *s, size_t len, struct ck_error *err)
{
    return ck_json_parse_with(s, len, NULL, err);
}

/* ---- paths ---- */

enum { STEP_KEY, STEP_INDEX };

struct step {
    int kind;
    const char *key; /* STEP_KEY */
    size_t index;    /* STEP_INDEX */
};

struct path {
    struct step st[MAX_STEPS];
    size_t n;
    char small[256];
    char *heap;
};

static void path_free(struct path *pp)
{
    free(pp->heap);
    pp->heap = NULL;
}

static int path_add(struct path *pp, int kind, const char *key, size_t index)
{
    if (pp->n >= MAX_STEPS)
        return -EINVAL;
    pp->st[pp->n++] = (struct step){kind, key, index};
    return 0;
}

/* Splits a dot path into steps (see json.h for the syntax). */
static int path_parse(struct path *pp, const char *path)
{
    pp->n = 0;
    pp->heap = NULL;
    if (!path)
        return -EINVAL;
    size_t len = strlen(path);
    char *out = len < sizeof(pp->small) ? pp->small : (pp->heap = ck_xmalloc(len + 1));
    const char *p = path;
    if (!*p)
        return 0;
    for (;;) {
        char *key = out;
        int any = 0;
        while (*p && *p != '.' && *p != '[') {
            if (*p == '\\' && !*++p)
                return -EINVAL;
            *out++ = *p++;
        }
        *out++ = '\0';
        if (*key) {
            if (path_add(pp, STEP_KEY, key, 0) < 0)
                return -EINVAL;
            any = 1;
        }
        while (*p == '[') {
            p++;
            if (!is_digit(*p))
                return -EINVAL;
            size_t idx = 0;
            for (; is_digit(*p); p++) {
                if (idx > 100000000) /* far beyond any array we could hold */
                    return -EINVAL;
                idx = idx * 10 + (size_t)(*p - '0');
            }
            if (*p++ != ']' || path_add(pp, STEP_INDEX, NULL, idx) < 0)
                return -EINVAL;
            any = 1;
        }
        if (!any)
            return -EINVAL; /* empty segment: "a..b", ".a", "a." */
        if (!*p)
            return 0;
        if (*p++ != '.' || !*p)
            return -EINVAL;
    }
}

static int path_from_steps(struct path *pp, const char *const *steps, size_t n)
{
    pp->n = 0;
    pp->heap = NULL;
    if (n && !steps)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!steps[i] || path_add(pp, STEP_KEY, steps[i], 0) < 0)
            return -EINVAL;
    return 0;
}

static int path_from_va(struct path *pp, va_list ap)
{
    pp->n = 0;
    pp->heap = NULL;
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL)
        if (path_add(pp, STEP_KEY, k, 0) < 0)
            return -EINVAL;
    return 0;
}

/* The array index a step names: explicit "[n]", or a key made only of digits. */
static int step_index(const struct step *st, size_t *idx)
{
    if (st->kind == STEP_INDEX) {
        *idx = st->index;
        return 1;
    }
    const char *k = st->key;
    if (!*k || strlen(k) > 9)
        return 0;
    size_t v = 0;
    for (; *k; k++) {
        if (!is_digit(*k))
            return 0;
        v = v * 10 + (size_t)(*k - '0');
    }
    *idx = v;
    return 1;
}

static cJSON *array_at(const cJSON *arr, size_t idx)
{
    cJSON *c = arr->child;
    while (c && idx--)
        c = c->next;
    return c;
}

static size_t child_count(const cJSON *c)
{
    size_t n = 0;
    for (c = c->child; c; c = c->next)
        n++;
    return n;
}

static cJSON *step_get(const cJSON *node, const struct step *st)
{
    size_t idx;
    if (!node)
        return NULL;
    if (cJSON_IsObject(node))
        return st->kind == STEP_KEY ? cJSON_GetObjectItemCaseSensitive(node, st->key) : NULL;
    if (cJSON_IsArray(node) && step_index(st, &idx))
        return array_at(node, idx);
    return NULL;
}

static int is_container(const cJSON *j)
{
    return cJSON_IsObject(j) || cJSON_IsArray(j);
}

/* Puts item at one step under parent (replacing what is there); always consumes item. */
static int place(cJSON *parent, const struct step *st, cJSON *item)
{
    size_t idx;
    if (cJSON_IsObject(parent) && st->kind == STEP_KEY) {
        if (cJSON_GetObjectItemCaseSensitive(parent, st->key)) {
            if (!cJSON_ReplaceItemInObjectCaseSensitive(parent, st->key, item))
                must(NULL);
        } else {
            must_add(parent, st->key, item);
        }
        return 0;
    }
    if (cJSON_IsArray(parent) && step_index(st, &idx)) {
        size_t n = child_count(parent);
        if (idx < n) {
            cJSON_ReplaceItemViaPointer(parent, array_at(parent, idx), item);
            return 0;
        }
        if (idx == n) {
            cJSON_AddItemToArray(parent, item);
            return 0;
        }
        cJSON_Delete(item);
        return -ERANGE;
    }
    cJSON_Delete(item);
    return -ENOTDIR;
}

static cJSON *lookup(const cJSON *root, const struct path *pp)
{
    const cJSON *node = root;
    for (size_t i = 0; node && i < pp->n; i++)
        node = step_get(node, &pp->st[i]);
    return (cJSON *)node;
}

/* Walks all steps but the last, creating containers when `create`; returns the parent of the
 * last step, or NULL with *rc set. */
static cJSON *walk_parent(cJSON *root, const struct path *pp, int create, int *rc)
{
    cJSON *node = root;
    for (size_t i = 0; i + 1 < pp->n; i++) {
        const struct step *st = &pp->st[i];
        cJSON *child = step_get(node, st);
        if (child && is_container(child)) {
            node = child;
            continue;
        }
        if (!create) {
            *rc = -ENOENT;
            return NULL;
        }
        if (child && !cJSON_IsNull(child)) {
            *rc = -ENOTDIR;
            return NULL;
        }
        cJSON *made =
            must(pp->st[i + 1].kind == STEP_INDEX ? cJSON_CreateArray() : cJSON_CreateObject());
        int r = place(node, st, made);
        if (r < 0) {
            *rc = r;
            return NULL;
        }
        node = made;
    }
    return node;
}

static int set_path(cJSON *obj, const struct path *pp, cJSON *item)
{
    int rc = -EINVAL;
    if (!obj || !item || pp->n == 0) {
        cJSON_Delete(item);
        return -EINVAL;
    }
    cJSON *parent = walk_parent(obj, pp, 1, &rc);
    if (!parent) {
        cJSON_Delete(item);
        return rc;
    }
    return place(parent, &pp->st[pp->n - 1], item);
}

static cJSON *ensure_path(cJSON *obj, const struct path *pp, int want_array)
{
    int rc;
    if (!obj)
        return NULL;
    if (pp->n == 0)
        return (want_array ? cJSON_IsArray(obj) : cJSON_IsObject(obj)) ? obj : NULL;
    cJSON *parent = walk_parent(obj, pp, 1, &rc);
    if (!parent)
        return NULL;
    const struct step *last = &pp->st[pp->n - 1];
    cJSON *child = step_get(parent, last);
    if (child && (want_array ? cJSON_IsArray(child) : cJSON_IsObject(child)))
        return child;
    if (child && !cJSON_IsNull(child))
        return NULL;
    cJSON *made = must(want_array ? cJSON_CreateArray() : cJSON_CreateObject());
    return place(parent, last, made) < 0 ? NULL : made;
}

static cJSON *detach_path(cJSON *obj, const struct path *pp, int *rc)
{
    *rc = -EINVAL;
    if (!obj || pp->n == 0)
        return NULL;
    cJSON *parent = walk_parent(obj, pp, 0, rc);
    cJSON *child = parent ? step_get(parent, &pp->st[pp->n - 1]) : NULL;
    if (!child) {
        *rc = -ENOENT;
        return NULL;
    }
    *rc = 0;
    return cJSON_DetachItemViaPointer(parent, child);
}

cJSON *ck_json_get(const cJSON *obj, const char *path)
{
    struct path pp;
    cJSON *r = path_parse(&pp, path) < 0 ? NULL : lookup(obj, &pp);
    path_free(&pp);
    return r;
}

cJSON *ck_json_getv(const cJSON *obj, ...)
{
    struct path pp;
    va_list ap;
    va_start(ap, obj);
    int rc = path_from_va(&pp, ap);
    va_end(ap);
    return rc < 0 ? NULL : lookup(obj, &pp);
}

cJSON *ck_json_get_steps(const cJSON *obj, const char *const *steps, size_t n)
{
    struct path pp;
    return path_from_steps(&pp, steps, n) < 0 ? NULL : lookup(obj, &pp);
}

int ck_json_set(cJSON *obj, const char *path, cJSON *item)
{
    struct path pp;
    int rc = path_parse(&pp, path);
    if (rc < 0)
        cJSON_Delete(item);
    else
        rc = set_path(obj, &pp, item);
    path_free(&pp);
    return rc;
}

int ck_json_setv(cJSON *obj, cJSON *item, ...)
{
    struct path pp;
    va_list ap;
    va_start(ap, item);
    int rc = path_from_va(&pp, ap);
    va_end(ap);
    if (rc < 0) {
        cJSON_Delete(item);
        return rc;
    }
    return set_path(obj, &pp, item);
}

int ck_json_set_steps(cJSON *obj, const char *const *steps, size_t n, cJSON *item)
{
    struct path pp;
    if (path_from_steps(&pp, steps, n) < 0) {
        cJSON_Delete(item);
        return -EINVAL;
    }
    return set_path(obj, &pp, item);
}

int ck_json_set_string(cJSON *obj, const char *path, const char *value)
{
    if (!value)
        return -EINVAL;
    return ck_json_set(obj, path, must(cJSON_CreateString(value)));
}

int ck_json_set_int64(cJSON *obj, const char *path, int64_t value)
{
    return ck_json_set(obj, path, ck_json_new_int64(value));
}

int ck_json_set_bool(cJSON *obj, const char *path, bool value)
{
    return ck_json_set(obj, path, must(cJSON_CreateBool(value)));
}

cJSON *ck_json_ensure_object(cJSON *obj, const char *path)
{
    struct path pp;
    cJSON *r = path_parse(&pp, path) < 0 ? NULL : ensure_path(obj, &pp, 0);
    path_free(&pp);
    return r;
}

cJSON *ck_json_ensure_objectv(cJSON *obj, ...)
{
    struct path pp;
    va_list ap;
    va_start(ap, obj);
    int rc = path_from_va(&pp, ap);
    va_end(ap);
    return rc < 0 ? NULL : ensure_path(obj, &pp, 0);
}

cJSON *ck_json_ensure_array(cJSON *obj, const char *path)
{
    struct path pp;
    cJSON *r = path_parse(&pp, path) < 0 ? NULL : ensure_path(obj, &pp, 1);
    path_free(&pp);
    return r;
}

cJSON *ck_json_detach(cJSON *obj, const char *path)
{
    struct path pp;
    int rc;
    cJSON *r = path_parse(&pp, path) < 0 ? NULL : detach_path(obj, &pp, &rc);
    path_free(&pp);
    return r;
}

int ck_json_delete(cJSON *obj, const char *path)
{
    struct path pp;
    int rc = path_parse(&pp, path);
    if (rc == 0)
        cJSON_Delete(detach_path(obj, &pp, &rc));
    path_free(&pp);
    return rc;
}

int ck_json_deletev(cJSON *obj, ...)
{
    struct path pp;
    va_list ap;
    va_start(ap, obj);
    int rc = path_from_va(&pp, ap);
    va_end(ap);
    if (rc == 0)
        cJSON_Delete(detach_path(obj, &pp, &rc));
    return rc;
}

/* ---- typed views ---- */

const char *ck_json_as_string(const cJSON *item, const char *def)
{
    return cJSON_IsString(item) && item->valuestring ? item->valuestring : def;
}

bool ck_json_as_bool(const cJSON *item, bool def)
{
    return cJSON_IsBool(item) ? cJSON_IsTrue(item) : def;
}

double ck_json_as_double(const cJSON *item, double def)
{
    return cJSON_IsNumber(item) ? item->valuedouble : def;
}

int ck_json_to_int64(const cJSON *item, int64_t *out)
{
    if (!item)
        return -ENOENT;
    if (!cJSON_IsNumber(item))
        return -EINVAL;
    int64_t v;
    if (exact_int(item, &v)) {
        *out = v;
        return 0;
    }
    double d = item->valuedouble;
    /* -2^63 is exact as a double; 2^63 is the first value out of range */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return -EINVAL;
    v = (int64_t)d;
    if ((double)v != d)
        return -EINVAL;
    *out = v;
    return 0;
}

int64_t ck_json_as_int64(const cJSON *item, int64_t def)
{
    int64_t v;
    return ck_json_to_int64(item, &v) == 0 ? v : def;
}

const char *ck_json_get_string(const cJSON *obj, const char *path, const char *def)
{
    return ck_json_as_string(ck_json_get(obj, path), def);
}

int64_t ck_json_get_int64(const cJSON *obj, const char *path, int64_t def)
{
    return ck_json_as_int64(ck_json_get(obj, path), def);
}

bool ck_json_get_bool(const cJSON *obj, const char *path, bool def)
{
    return ck_json_as_bool(ck_json_get(obj, path), def);
}

double ck_json_get_double(const cJSON *obj, const char *path, double def)
{
    return ck_json_as_double(ck_json_get(obj, path), def);
}

/* ---- copy and equality ---- */

cJSON *ck_json_dup(const cJSON *item)
{
    return item ? must(cJSON_Duplicate(item, 1)) : NULL;
}

static int equal_rec(const cJSON *a, const cJSON *b, int depth);

static int numbers_equal(const cJSON *a, const cJSON *b)
{
    int64_t x, y;
    if (ck_json_to_int64(a, &x) == 0 && ck_json_to_int64(b, &y) == 0)
        return x == y;
    return a->valuedouble == b->valuedouble;
}

static int objects_equal(const cJSON *a, const cJSON *b, int depth)
{
    if (child_count(a) != child_count(b))
        return 0;
    const cJSON *x = a->child, *y = b->child;
    /* same key order (the common case): compare pairwise */
    while (x && y && x->string && y->string && strcmp(x->string, y->string) == 0) {
        if (!equal_rec(x, y, depth + 1))
            return 0;
        x = x->next;
        y = y->next;
    }
    if (!x)
        return 1;
    /* different order: every remaining member of each side must be found in the other */
    for (; x; x = x->next) {
        const cJSON *m = x->string ? cJSON_GetObjectItemCaseSensitive(b, x->string) : NULL;
        if (!m || !equal_rec(x, m, depth + 1))
            return 0;
    }
    for (; y; y = y->next)
        if (!y->string || !cJSON_GetObjectItemCaseSensitive(a, y->string))
            return 0;
    return 1;
}

static int equal_rec(const cJSON *a, const cJSON *b, int depth)
{
    if (a == b)
        return 1;
    if (!a || !b || depth > CK_JSON_MAX_DEPTH)
        return 0;
    int ta = a->type & 0xFF, tb = b->type & 0xFF;
    if (ta != tb)
        return 0;
    switch (ta) {
    case cJSON_False:
    case cJSON_True:
    case cJSON_NULL:
        return 1;
    case cJSON_Number:
        return numbers_equal(a, b);
    case cJSON_String:
    case cJSON_Raw:
        if (!a->valuestring || !b->valuestring)
            return a->valuestring == b->valuestring;
        return strcmp(a->valuestring, b->valuestring) == 0;
    case cJSON_Array: {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!equal_rec(x, y, depth + 1))
                return 0;
        return !x && !y;
    }
    case cJSON_Object:
        return objects_equal(a, b, depth);
    }
    return 0;
}

bool ck_json_equal(const cJSON *a, const cJSON *b)
{
    return equal_rec(a, b, 0);
}

/* ---- printing ---- */

void ck_json_format_double(double d, char out[32])
{
    if (!isfinite(d)) {
        strcpy(out, "null");
        return;
    }
    if (d == 0) {
        strcpy(out, "0"); /* also -0, as upstream's int64 decoding of "-0" */
        return;
    }
    double a = fabs(d);
    if (a <= TWO53 && (double)(int64_t)d == d) {
        snprintf(out, 32, "%" PRId64, (int64_t)d);
        return;
    }
    /* shortest digits that read back as d */
    char e[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    /* e is "[-]D[.DDD]e[+-]XX": collect the digits and the exponent */
    char digits[24];
    size_t nd = 0;
    const char *p = e + (e[0] == '-');
    for (; *p && *p != 'e'; p++)
        if (is_digit(*p) && nd < sizeof(digits) - 1)
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    int exp10 = *p == 'e' ? atoi(p + 1) : 0;
    char *o = out;
    if (d < 0)
        *o++ = '-';
    if (a < 1e-6 || a >= 1e21) {
        /* Go: strconv 'e' format, then json's "e-07" -> "e-7" cleanup */
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, nd - 1);
            o += nd - 1;
        }
        size_t room = (size_t)(out + 32 - o);
        if (exp10 < 0)
            snprintf(o, room, "e-%d", -exp10);
        else
            snprintf(o, room, "e+%02d", exp10);
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

static void put_number(struct ck_buf *b, const cJSON *num)
{
    int64_t v;
    char txt[32];
    if (exact_int(num, &v))
        snprintf(txt, sizeof(txt), "%" PRId64, v);
    else
        ck_json_format_double(num->valuedouble, txt);
    ck_buf_puts(b, txt);
}

/* Go's string encoding (encoding/json, Go 1.22 and later). */
static void put_string(struct ck_buf *b, const char *s, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, start = 0;
    char esc[8];
    ck_buf_putc(b, '"');
    while (i < n) {
        unsigned char c = p[i];
        const char *rep = NULL;
        size_t width = 1;
        if (c < 0x80) {
            static const char short_in[] = "\"\\\n\r\t\b\f", short_out[] = "\"\\nrtbf";
            const char *hit = c ? strchr(short_in, c) : NULL;
            if (hit) {
                esc[0] = '\\', esc[1] = short_out[hit - short_in], esc[2] = '\0';
                rep = esc;
            } else if (c < 0x20 || (!(flags & CK_JSON_NO_HTML_ESCAPE) && strchr("<>&", c))) {
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                rep = esc;
            }
        } else {
            uint32_t cp;
            width = utf8_decode(p + i, n - i, &cp);
            if (width == 0) {
                width = 1;
                rep = "\\ufffd";
            } else if (cp == 0x2028 || cp == 0x2029) {
                snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
                rep = esc;
            }
        }
        if (rep) {
            ck_buf_add(b, p + start, i - start);
            ck_buf_puts(b, rep);
            start = i + width;
        }
        i += width;
    }
    ck_buf_add(b, p + start, n - start);
    ck_buf_putc(b, '"');
}

static void put_indent(struct ck_buf *b, unsigned flags, int depth)
{
    if (!(flags & CK_JSON_INDENT))
        return;
    ck_buf_putc(b, '\n');
    for (int i = 0; i < depth; i++)
        ck_buf_add(b, "    ", 4);
}

static int put_value(struct ck_buf *b, const cJSON *it, unsigned flags, int depth);

static int put_object(struct ck_buf *b, const cJSON *obj, unsigned flags, int depth)
{
    size_t n = child_count(obj);
    if (n == 0) {
        ck_buf_puts(b, "{}");
        return 0;
    }
    struct member small[32];
    struct member *m = n <= 32 ? small : ck_xmalloc(n * sizeof(*m));
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next, i++)
        m[i] = (struct member){c->string ? c->string : "", i, (cJSON *)c};
    if (flags & CK_JSON_SORT_KEYS)
        qsort(m, n, sizeof(*m), member_cmp);
    int rc = 0;
    ck_buf_putc(b, '{');
    for (i = 0; i < n && rc == 0; i++) {
        if (i)
            ck_buf_putc(b, ',');
        put_indent(b, flags, depth + 1);
        put_string(b, m[i].key, flags);
        ck_buf_puts(b, flags & CK_JSON_INDENT ? ": " : ":");
        rc = put_value(b, m[i].item, flags, depth + 1);
    }
    put_indent(b, flags, depth);
    ck_buf_putc(b, '}');
    if (m != small)
        free(m);
    return rc;
}

static int put_value(struct ck_buf *b, const cJSON *it, unsigned flags, int depth)
{
    if (depth > CK_JSON_MAX_DEPTH)
        return -ELOOP;
    switch (it->type & 0xFF) {
    case cJSON_False:
        ck_buf_puts(b, "false");
        return 0;
    case cJSON_True:
        ck_buf_puts(b, "true");
        return 0;
    case cJSON_Number:
        put_number(b, it);
        return 0;
    case cJSON_String:
        put_string(b, it->valuestring ? it->valuestring : "", flags);
        return 0;
    case cJSON_Raw:
        ck_buf_puts(b, it->valuestring ? it->valuestring : "null");
        return 0;
    case cJSON_Object:
        return put_object(b, it, flags, depth);
    case cJSON_Array: {
        if (!it->child) {
            ck_buf_puts(b, "[]");
            return 0;
        }
        ck_buf_putc(b, '[');
        for (const cJSON *c = it->child; c; c = c->next) {
            if (c != it->child)
                ck_buf_putc(b, ',');
            put_indent(b, flags, depth + 1);
            int rc = put_value(b, c, flags, depth + 1);
            if (rc < 0)
                return rc;
        }
        put_indent(b, flags, depth);
        ck_buf_putc(b, ']');
        return 0;
    }
    default:
        ck_buf_puts(b, "null");
        return 0;
    }
}

int ck_json_print_buf(struct ck_buf *b, const cJSON *item, unsigned flags)
{
    if (!item)
        return -EINVAL;
    size_t mark = b->len;
    int rc = put_value(b, item, flags, 0);
    if (rc < 0)
        ck_buf_truncate(b, mark);
    return rc;
}

char *ck_json_print(const cJSON *item, unsigned flags)
{
    struct ck_buf b = CK_BUF_INIT;
    if (ck_json_print_buf(&b, item, flags) < 0) {
        ck_buf_free(&b);
        return NULL;
    }
    return ck_buf_detach(&b);
}

char *ck_json_canonical(const cJSON *item)
{
    return ck_json_print(item, CK_JSON_SORT_KEYS);
}
