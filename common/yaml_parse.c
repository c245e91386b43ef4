/* yaml_parse.c - YAML -> JSON with the rules of sigs.k8s.io/yaml over go-yaml v2 (see yaml.h).
 *
 * Reading goes in three steps, as upstream's does: libyaml's events build a node tree of the
 * first document (yaml_tree.c: anchors resolved to nodes, nesting capped); the tree is
 * decoded here with go-yaml v2's scalar resolution (yaml_resolve.c), merge keys and alias
 * budget; keys are turned into JSON strings as sigs.k8s.io/yaml does. Errors keep upstream's
 * precedence: a syntax or decode error first, then strict-mode duplicate keys, then key
 * conversion, then JSON encoding. Streams are split as kubectl's YAMLReader splits them.
 */
#include "yaml_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "gostrconv.h"
#include "json.h"
#include "mem.h"
#include "strmap.h"

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
    ck_yaml_resolve_plain(n->value, n->len, !tag || !strcmp(tag, TAG_TIMESTAMP), r);
    if (!tag || !strcmp(tag, ck_yaml_rkind_tag(r->kind)))
        return true;
    if (!strcmp(tag, TAG_FLOAT) && r->kind == RK_INT) {
        r->kind = RK_FLOAT;
        r->f = (double)r->i;
        return true;
    }
    char have[64], want[64];
    fmt_short_tag(ck_yaml_rkind_tag(r->kind), have, sizeof(have));
    fmt_short_tag(tag, want, sizeof(want));
    ck_yaml_rval_free(r);
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
    char *fixed = ck_yaml_utf8_sanitize(s, n);
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
            ck_go_format_float(f, 'g', 64, buf);
            ck_buf_puts(b, buf);
        }
    } else if (cJSON_IsString(v)) {
        ck_buf_put_go_quoted_n(b, v->valuestring, strlen(v->valuestring));
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool obj = cJSON_IsObject(v);
        ck_buf_puts(b, obj ? "map[interface {}]interface {}{" : "[]interface {}{");
        for (const cJSON *c = v->child; c; c = c->next) {
            if (c != v->child)
                ck_buf_puts(b, ", ");
            if (obj) {
                ck_buf_put_go_quoted_n(b, c->string, strlen(c->string));
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
    struct ck_strmap index; /* key -> struct mapent * (owned) */
    struct ck_buf unconv;   /* strict mode: keys JSON cannot hold, as "kind:%#v\n" lines */
};

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
    struct mapent *e = ck_strmap_get(&m->index, k->str);
    if (e) {
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
    e = ck_xmalloc(sizeof(*e));
    *e = (struct mapent){val, k->kind};
    ck_strmap_put(&m->index, k->str, e);
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
            ck_go_format_float(r.f, 'g', 32, buf);
            k->str = ck_xstrdup(buf);
        }
        ck_go_format_float(r.f, 'g', 64, buf);
        ck_buf_puts(&fb, buf);
        break;
    case RK_BINARY: {
        char *fixed = ck_yaml_utf8_sanitize(r.own, r.ownlen);
        k->str = fixed ? fixed : ck_xstrndup(r.own, r.ownlen);
        ck_buf_put_go_quoted_n(&fb, r.own, r.ownlen);
        break;
    }
    case RK_TIMESTAMP:
    case RK_STR: {
        char *fixed = ck_yaml_utf8_sanitize(r.s, r.slen);
        k->str = fixed ? fixed : ck_xstrndup(r.s, r.slen);
        ck_buf_put_go_quoted_n(&fb, r.s, r.slen > ERR_VALUE_MAX ? ERR_VALUE_MAX : r.slen);
        break;
    }
    }
    snprintf(k->gofmt, sizeof(k->gofmt), "%s", ck_buf_str(&fb));
    ck_buf_free(&fb);
    ck_yaml_rval_free(&r);
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
        ck_yaml_rval_free(&r);
        return v;
    }
    case YK_MAPPING: {
        cJSON *obj = NULL;
        if (ddepth_enter(d)) {
            struct mapb m = {cJSON_CreateObject(), CK_STRMAP_INIT, CK_BUF_INIT};
            decode_mapping_into(d, n, &m);
            ck_strmap_free(&m.index, free);
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
    int rc = ck_yaml_tree_build(data, len, &t, msg, msgsize);
    if (rc < 0)
        return -EINVAL;
    if (!t.root) {
        ck_yaml_tree_free(&t);
        *out = cJSON_CreateNull();
        return 0;
    }
    struct decoder d;
    memset(&d, 0, sizeof(d));
    d.flags = flags;
    dcount(&d); /* the document node */
    cJSON *v = decode_node(&d, t.root);
    ck_yaml_tree_free(&t);
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
            /* not YAML (libyaml rejects invalid UTF-8, tabs, ...): decode with Go's JSON
             * rules, as kubectl's decoder does (U+FFFD for invalid UTF-8, last duplicate
             * key wins) rather than cJSON's */
            struct ck_error jerr = CK_ERROR_INIT;
            const struct ck_json_parse_opts raw = {.raw_message = true};
            cJSON *go = ck_json_parse_with(data + start, i - start, &raw, &jerr);
            cJSON_Delete(strict);
            if (!go) {
                /* cJSON is laxer than Go (it skips control bytes such as NUL as space) */
                int rc = stream_error(err, docs, "%s", jerr.message);
                ck_error_clear(&jerr);
                return rc;
            }
            add_doc(docs, go);
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
