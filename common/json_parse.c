/* json_parse.c - the Go-compatible JSON parser behind ck_json_parse / ck_json_parse_with
 * (see json.h): encoding/json's grammar and its scanner's error texts, exact int64 literals,
 * U+FFFD for invalid UTF-8 and lone surrogates, the last of duplicate keys kept. */
#include "json.h"
#include "json_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gostrconv.h"
#include "mem.h"

static const char DECODE_PREFIX[] = "couldn't get version/kind; json parse error: ";

struct parser {
    const unsigned char *s;
    size_t len, pos;
    int depth, max_depth;
    const char *prefix;
    struct ck_error *err;
    int failed;
    struct ck_buf str; /* the string just read */
    size_t duplicates; /* members dropped for a later one of the same key */
};

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
    /* Go's quoteChar shows the byte as the rune of the same value (0xE9 reads 'é') */
    CK_AUTOBUF struct ck_buf q = CK_BUF_INIT;
    ck_buf_put_go_quoted_rune(&q, (unsigned char)c);
    ck_error_set(p->err, 400, CK_REASON_BAD_REQUEST, "%sinvalid character %s %s", p->prefix,
                 ck_buf_str(&q), context);
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

/* The bytes that end a plain run inside a string: quote, backslash, control bytes, non-ASCII. */
static const unsigned char string_stop[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

/* Reads the string at the cursor (on its opening quote) into p->str, decoded. */
static int parse_string(struct parser *p)
{
    ck_buf_reset(&p->str);
    ck_buf_add(&p->str, "", 0); /* never leave str.data NULL */
    p->pos++;
    for (;;) {
        size_t run = p->pos;
        while (run < p->len && !string_stop[p->s[run]])
            run++;
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
            unsigned cp;
            size_t n = ck_utf8_decode((const char *)p->s + p->pos, p->len - p->pos, &cp);
            if (n == 1 && cp == 0xFFFD) {
                ck_buf_put_utf8(&p->str, 0xFFFD); /* an invalid byte, as Go's decoder */
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
        ck_buf_put_utf8(&p->str, cp);
    }
}

static cJSON *parse_number(struct parser *p)
{
    size_t start = p->pos;
    int integral = 1;
    if (p->s[p->pos] == '-') {
        p->pos++;
        if (!ck_json_is_digit(tok(p))) {
            syntax_error(p, tok(p), "in numeric literal");
            return NULL;
        }
    }
    if (p->s[p->pos] == '0')
        p->pos++;
    else
        while (p->pos < p->len && ck_json_is_digit(p->s[p->pos]))
            p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        integral = 0;
        p->pos++;
        if (!ck_json_is_digit(tok(p))) {
            syntax_error(p, tok(p), "after decimal point in numeric literal");
            return NULL;
        }
        while (p->pos < p->len && ck_json_is_digit(p->s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        integral = 0;
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (!ck_json_is_digit(tok(p))) {
            syntax_error(p, tok(p), "in exponent of numeric literal");
            return NULL;
        }
        while (p->pos < p->len && ck_json_is_digit(p->s[p->pos]))
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
        /* integer literals that fit int64 stay exact, as upstream's unstructured decoding */
        long long v = 0;
        if (integral && n - (txt[0] == '-') <= 19) {
            errno = 0;
            v = strtoll(txt, NULL, 10);
            if (errno)
                v = 0;
        }
        num = v ? ck_json_new_int64(v) : ck_json_must(cJSON_CreateNumber(d));
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
    return ck_json_must(make());
}

static cJSON *parse_value(struct parser *p);

/* Keeps the last of members sharing a key (Go's map decoding: later values overwrite).
 * Returns how many it dropped. */
static size_t drop_duplicate_keys(cJSON *obj, size_t n)
{
    size_t dropped = 0;
    if (n <= 8) {
        for (cJSON *a = obj->child; a;) {
            cJSON *next = a->next;
            for (cJSON *b = next; b; b = b->next) {
                if (strcmp(a->string, b->string) == 0) {
                    cJSON_Delete(cJSON_DetachItemViaPointer(obj, a));
                    dropped++;
                    break;
                }
            }
            a = next;
        }
        return dropped;
    }
    struct ck_json_member *m = ck_xmalloc(n * sizeof(*m));
    size_t i = 0;
    for (cJSON *c = obj->child; c && i < n; c = c->next, i++)
        m[i] = (struct ck_json_member){c->string, i, c};
    qsort(m, i, sizeof(*m), ck_json_member_cmp);
    for (size_t k = 0; k + 1 < i; k++)
        if (strcmp(m[k].key, m[k + 1].key) == 0) {
            cJSON_Delete(cJSON_DetachItemViaPointer(obj, m[k].item));
            dropped++;
        }
    free(m);
    return dropped;
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
    cJSON *obj = ck_json_must(cJSON_CreateObject());
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
        ck_json_must_add(obj, key, v);
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
        p->duplicates += drop_duplicate_keys(obj, n);
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
    cJSON *arr = ck_json_must(cJSON_CreateArray());
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
        return parse_string(p) < 0 ? NULL : ck_json_must(cJSON_CreateString(ck_buf_str(&p->str)));
    case 't':
        return parse_literal(p, "true", cJSON_CreateTrue);
    case 'f':
        return parse_literal(p, "false", cJSON_CreateFalse);
    case 'n':
        return parse_literal(p, "null", cJSON_CreateNull);
    }
    if (c == '-' || ck_json_is_digit(c))
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
    if (opts && opts->duplicate_keys)
        *opts->duplicate_keys = p.duplicates;
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
