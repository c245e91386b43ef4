/* yaml_emit.c - JSON -> YAML as `kubectl get -o yaml` writes it (see yaml.h): libyaml's emitter
 * driven with the styles go-yaml v2's encoder asks for (go-yaml's emitter is a port of
 * libyaml's, so layout, quoting fallbacks and line folding agree).
 */
#include "yaml_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gostrconv.h"
#include "mem.h"

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
    char *fixed = ck_yaml_utf8_sanitize(s, n);
    if (fixed) {
        s = fixed;
        n = strlen(fixed);
    }
    struct rval r;
    ck_yaml_resolve_plain(s, n, true, &r);
    bool plain_ok = r.kind == RK_STR && !ck_yaml_is_base60_float(s, n);
    ck_yaml_rval_free(&r);
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
        ck_go_format_float(v, 'g', 64, buf);
    return emit_scalar(e, buf, strlen(buf), YAML_PLAIN_SCALAR_STYLE);
}

/* go-yaml's map key order (sorter.go), for string keys: rune by rune, letters before other
 * runes, runs of digits compared by value. Non-ASCII runes count as letters. */
static bool go_key_less(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t i = 0, j = 0;
    while (i < la && j < lb) {
        size_t na = ck_yaml_utf8_len((const unsigned char *)a + i, la - i);
        size_t nb = ck_yaml_utf8_len((const unsigned char *)b + j, lb - j);
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
        /* digit runs compare as Go ints, which wrap on overflow */
        size_t ai = i, bi = j;
        for (; ai < la && a[ai] >= '0' && a[ai] <= '9'; ai++)
            an = (int64_t)((uint64_t)an * 10 + (uint64_t)(a[ai] - '0'));
        for (; bi < lb && b[bi] >= '0' && b[bi] <= '9'; bi++)
            bn = (int64_t)((uint64_t)bn * 10 + (uint64_t)(b[bi] - '0'));
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
