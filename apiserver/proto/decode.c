/* decode.c - protobuf request bodies to JSON objects, driven by the field table (see proto.h).
 *
 * The wire format: a message is a sequence of (tag, value) pairs, tag = number << 3 | wire
 * type; wire type 0 is a varint, 1 eight little-endian bytes, 2 a varint length and that many
 * bytes (strings, bytes, messages, packed repeated scalars), 5 four bytes; 3/4 (groups) only
 * appear in fields we skip. Go's generated code (gogo) writes every non-pointer field, also at
 * its zero value, so zero values are dropped here unless the table marks the field a pointer.
 */
#include "proto.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "encoding.h"
#include "json.h"
#include "mem.h"
#include "quantity.h"
#include "table.h"
#include "timeutil.h"

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_BYTES = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_FIXED32 = 5 };

/* Per-call state: where errors go and how deep we are. */
struct dctx {
    struct ck_error *err;
    int depth;
};

struct rd {
    const uint8_t *p, *end;
};

/* A reader over p[0..len); p may be NULL when len is 0 (an absent bytes field), and NULL + 0
 * is undefined in C, so such a reader points at a static empty array instead. */
static struct rd rd_of(const uint8_t *p, size_t len)
{
    static const uint8_t none[1];
    if (!p)
        p = none;
    return (struct rd){p, p + len};
}

/* One field as read from the wire. */
struct wire {
    uint32_t num;
    int wt;
    uint64_t v;          /* WT_VARINT, WT_FIXED64, WT_FIXED32 */
    const uint8_t *data; /* WT_BYTES */
    size_t len;
};

static int bad(struct dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct dctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ck_error_set(c->err, 400, CK_REASON_BAD_REQUEST, "%s", msg);
}

static const char *short_name(const struct pt_message *m)
{
    const char *dot = strchr(m->name, '.');
    return dot ? dot + 1 : m->name;
}

static int rd_varint(struct dctx *c, struct rd *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end)
            return bad(c, "unexpected EOF");
        uint8_t b = *r->p++;
        if (shift == 63 && b > 1)
            return bad(c, "proto: integer overflow");
        v |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *out = v;
            return 0;
        }
    }
    return bad(c, "proto: integer overflow");
}

static int rd_fixed(struct dctx *c, struct rd *r, size_t n, uint64_t *out)
{
    if ((size_t)(r->end - r->p) < n)
        return bad(c, "unexpected EOF");
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    *out = v;
    return 0;
}

/* Skips the rest of a group whose start tag was just read (groups nest; no recursion). */
static int skip_group(struct dctx *c, struct rd *r)
{
    size_t depth = 1;
    while (depth) {
        uint64_t tag, v;
        int rc = rd_varint(c, r, &tag);
        if (rc < 0)
            return rc;
        switch (tag & 7) {
        case WT_VARINT:
            rc = rd_varint(c, r, &v);
            break;
        case WT_FIXED64:
            rc = rd_fixed(c, r, 8, &v);
            break;
        case WT_FIXED32:
            rc = rd_fixed(c, r, 4, &v);
            break;
        case WT_BYTES:
            rc = rd_varint(c, r, &v);
            if (rc == 0 && v > (uint64_t)(r->end - r->p))
                rc = bad(c, v > INT64_MAX ? "proto: negative length found during unmarshaling"
                                          : "unexpected EOF");
            if (rc == 0)
                r->p += v;
            break;
        case WT_SGROUP:
            depth++;
            break;
        case WT_EGROUP:
            depth--;
            break;
        default:
            return bad(c, "proto: illegal wireType %d", (int)(tag & 7));
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Reads the next field of message m (for error messages). Returns 1 with *w filled, 0 at the
 * end of the input, or a negative errno. Groups are skipped and reported with wt 3. */
static int next_field(struct dctx *c, struct rd *r, const char *mname, struct wire *w)
{
    if (r->p >= r->end)
        return 0;
    uint64_t tag;
    int rc = rd_varint(c, r, &tag);
    if (rc < 0)
        return rc;
    uint64_t num = tag >> 3;
    w->wt = (int)(tag & 7);
    if (w->wt == WT_EGROUP)
        return bad(c, "proto: %s: wiretype end group for non-group", mname);
    if (num == 0 || num > 536870911)
        return bad(c, "proto: %s: illegal tag %d (wire type %d)", mname, (int)(int32_t)num, w->wt);
    w->num = (uint32_t)num;
    w->data = NULL;
    w->len = 0;
    w->v = 0;
    switch (w->wt) {
    case WT_VARINT:
        return rd_varint(c, r, &w->v) < 0 ? -EINVAL : 1;
    case WT_FIXED64:
        return rd_fixed(c, r, 8, &w->v) < 0 ? -EINVAL : 1;
    case WT_FIXED32:
        return rd_fixed(c, r, 4, &w->v) < 0 ? -EINVAL : 1;
    case WT_BYTES: {
        uint64_t n;
        if (rd_varint(c, r, &n) < 0)
            return -EINVAL;
        if (n > INT64_MAX)
            return bad(c, "proto: negative length found during unmarshaling");
        if (n > (uint64_t)(r->end - r->p))
            return bad(c, "unexpected EOF");
        w->data = r->p;
        w->len = (size_t)n;
        r->p += n;
        return 1;
    }
    case WT_SGROUP:
        return skip_group(c, r) < 0 ? -EINVAL : 1;
    default:
        return bad(c, "proto: illegal wireType %d", w->wt);
    }
}

static int wrong_wt(struct dctx *c, const struct pt_field *f, int wt)
{
    /* gogo names the Go field; ours differs only in the first letter's case */
    return bad(c, "proto: wrong wireType = %d for field %c%s", wt,
               f->name[0] >= 'a' && f->name[0] <= 'z' ? f->name[0] - 'a' + 'A' : f->name[0],
               f->name + 1);
}

static int wire_type_of(enum pt_type t)
{
    switch (t) {
    case PT_DOUBLE:
        return WT_FIXED64;
    case PT_FLOAT:
        return WT_FIXED32;
    case PT_STRING:
    case PT_BYTES:
    case PT_MESSAGE:
        return WT_BYTES;
    default:
        return WT_VARINT;
    }
}

/* A JSON string of n bytes; protobuf strings may hold NUL, which C strings (and our JSON
 * decoder) cannot, so those are refused as ck_json_parse refuses "\u0000". */
static cJSON *new_string(struct dctx *c, const uint8_t *s, size_t n)
{
    if (memchr(s, 0, n)) {
        bad(c, "json: cannot unmarshal string containing \\u0000: NUL characters are not "
               "supported");
        return NULL;
    }
    char *tmp = ck_xstrndup((const char *)s, n);
    cJSON *j = cJSON_CreateString(tmp);
    free(tmp);
    return j;
}

/* Converts one scalar (already read with a matching wire type) to JSON; *zero tells whether it
 * is the type's zero value. NULL with err set on failure. */
static cJSON *scalar_json(struct dctx *c, enum pt_type t, const struct wire *w, bool *zero)
{
    uint64_t v = w->v;
    *zero = false;
    switch (t) {
    case PT_BOOL:
        *zero = v == 0;
        return cJSON_CreateBool(v != 0);
    case PT_INT32:
        *zero = (int32_t)(uint32_t)v == 0;
        return cJSON_CreateNumber((int32_t)(uint32_t)v);
    case PT_UINT32:
        *zero = (uint32_t)v == 0;
        return cJSON_CreateNumber((uint32_t)v);
    case PT_SINT32: {
        uint32_t u = (uint32_t)v;
        int32_t s = (int32_t)(u >> 1) ^ -(int32_t)(u & 1);
        *zero = s == 0;
        return cJSON_CreateNumber(s);
    }
    case PT_INT64:
        *zero = v == 0;
        return ck_json_new_int64((int64_t)v);
    case PT_SINT64: {
        int64_t s = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
        *zero = s == 0;
        return ck_json_new_int64(s);
    }
    case PT_UINT64:
        *zero = v == 0;
        return v <= INT64_MAX ? ck_json_new_int64((int64_t)v) : cJSON_CreateNumber((double)v);
    case PT_DOUBLE:
    case PT_FLOAT: {
        double d;
        if (t == PT_DOUBLE) {
            memcpy(&d, &v, sizeof(d));
        } else {
            uint32_t u = (uint32_t)v;
            float f;
            memcpy(&f, &u, sizeof(f));
            d = f;
        }
        if (!isfinite(d)) {
            bad(c, "json: unsupported value: %s", isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
            return NULL;
        }
        *zero = d == 0;
        return cJSON_CreateNumber(d);
    }
    case PT_STRING:
        *zero = w->len == 0;
        return new_string(c, w->data, w->len);
    case PT_BYTES: {
        *zero = w->len == 0;
        char *b64 = ck_base64_encode(w->data, w->len);
        cJSON *j = cJSON_CreateString(b64);
        free(b64);
        return j;
    }
    default:
        bad(c, "proto: unsupported field type");
        return NULL;
    }
}

/* Marks (in the otherwise unused valueint of an object node) a map that may hold duplicate
 * keys until finish() runs. */
#define MAP_UNCHECKED 0x70726f74

struct keyed {
    cJSON *item;
    size_t index;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->item->string, y->item->string);
    return c ? c : x->index < y->index ? -1 : x->index > y->index;
}

/* Keeps only the last entry of each key (protobuf map semantics), in O(n log n). */
static void dedupe_map(cJSON *map)
{
    size_t n = 0;
    for (cJSON *e = map->child; e; e = e->next)
        n++;
    if (n < 2)
        return;
    struct keyed *ks = ck_xcalloc(n, sizeof(*ks));
    size_t i = 0;
    for (cJSON *e = map->child; e; e = e->next, i++)
        ks[i] = (struct keyed){e, i};
    qsort(ks, n, sizeof(*ks), cmp_keyed);
    for (i = 0; i + 1 < n; i++)
        if (!strcmp(ks[i].item->string, ks[i + 1].item->string))
            cJSON_Delete(cJSON_DetachItemViaPointer(map, ks[i].item));
    free(ks);
}

/* Final pass over a decoded tree: resolves map duplicates. */
static void finish(cJSON *node, int depth)
{
    if (depth > CK_JSON_MAX_DEPTH + PROTO_MAX_DEPTH)
        return;
    if (cJSON_IsObject(node) && node->valueint == MAP_UNCHECKED) {
        node->valueint = 0;
        dedupe_map(node);
    }
    if (cJSON_IsObject(node) || cJSON_IsArray(node))
        for (cJSON *e = node->child; e; e = e->next)
            finish(e, depth + 1);
}

/* Sets obj[key] = item, replacing an earlier member of that name (protobuf: last one wins). */
static void set_member(cJSON *obj, const char *key, cJSON *item)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
    else
        cJSON_AddItemToObject(obj, key, item);
}

static int decode_fields(struct dctx *c, const struct pt_message *m, const uint8_t *p, size_t len,
                         cJSON *obj);
static cJSON *message_json(struct dctx *c, const struct pt_message *m, const uint8_t *p, size_t len,
                           bool *zero);
static int decode_envelope(struct dctx *c, const uint8_t *p, size_t len, const char *def_av,
                           const char *def_kind, cJSON **out);

/* ---- special messages ---- */

/* Collects the fields of a small special message: varints/fixed by number into v[], byte
 * strings into d[]/n[], and counts of each field number in seen[]. Numbers >= 4 are skipped;
 * repeated fields keep their last value (callers that need all of them walk the wire
 * themselves). */
struct smallmsg {
    uint64_t v[4];
    const uint8_t *d[4];
    size_t n[4];
    int seen[4];
};

static int read_small(struct dctx *c, const struct pt_message *m, const uint8_t *p, size_t len,
                      struct smallmsg *s)
{
    memset(s, 0, sizeof(*s));
    struct rd r = rd_of(p, len);
    struct wire w;
    int rc;
    while ((rc = next_field(c, &r, short_name(m), &w)) > 0) {
        const struct pt_field *f = pt_field(m, w.num);
        if (!f || w.num >= 4)
            continue;
        bool packed_ok = (f->flags & PTF_REPEATED) && w.wt == WT_BYTES;
        if (w.wt != wire_type_of(f->type) && !packed_ok)
            return wrong_wt(c, f, w.wt);
        s->v[w.num] = w.v;
        s->d[w.num] = w.data;
        s->n[w.num] = w.len;
        s->seen[w.num]++;
    }
    return rc;
}

static cJSON *time_json(struct dctx *c, const struct pt_message *m, const uint8_t *p, size_t len,
                        bool micro, bool *zero)
{
    struct smallmsg s;
    if (read_small(c, m, p, len, &s) < 0)
        return NULL;
    /* an empty message is Go's zero time (Marshal writes nothing for it); anything else,
     * even seconds = 0, is a real instant (1970-01-01T00:00:00Z) */
    *zero = len == 0;
    if (*zero)
        return cJSON_CreateNull();
    int64_t sec = (int64_t)s.v[1];
    int64_t nsec = (int32_t)(uint32_t)s.v[2];
    /* normalise as time.Unix does */
    if (nsec < 0 || nsec >= CK_NSEC_PER_SEC) {
        int64_t q = nsec / CK_NSEC_PER_SEC;
        nsec -= q * CK_NSEC_PER_SEC;
        if (nsec < 0) {
            nsec += CK_NSEC_PER_SEC;
            q--;
        }
        if ((q > 0 && sec > INT64_MAX - q) || (q < 0 && sec < INT64_MIN - q))
            sec = q > 0 ? INT64_MAX : INT64_MIN;
        else
            sec += q;
    }
    struct timespec ts = {.tv_sec = (time_t)sec, .tv_nsec = (long)nsec};
    char buf[CK_TIME_BUFSZ];
    /* years 0..9999 only (Go's Time.MarshalJSON refuses others); keeps time_t math safe */
    if (sec < INT64_C(-62167219200) || sec > INT64_C(253402300799) ||
        (micro ? ck_microtime_format(&ts, buf) : ck_time_format(&ts, buf)) < 0) {
        bad(c, "Time.MarshalJSON: year outside of range [0,9999]");
        return NULL;
    }
    return cJSON_CreateString(buf);
}

static cJSON *duration_json(struct dctx *c, const struct pt_message *m, const uint8_t *p,
                            size_t len, bool *zero)
{
    struct smallmsg s;
    if (read_small(c, m, p, len, &s) < 0)
        return NULL;
    char buf[CK_DURATION_BUFSZ];
    ck_duration_format((int64_t)s.v[1], buf);
    *zero = s.v[1] == 0;
    return cJSON_CreateString(buf);
}

static cJSON *quantity_json(struct dctx *c, const struct pt_message *m, const uint8_t *p,
                            size_t len, bool *zero)
{
    struct smallmsg s;
    if (read_small(c, m, p, len, &s) < 0)
        return NULL;
    *zero = !s.seen[1];
    if (!s.seen[1]) /* Go's zero Quantity */
        return cJSON_CreateString("0");
    cJSON *str = new_string(c, s.d[1], s.n[1]);
    if (!str)
        return NULL;
    struct ck_quantity q;
    int rc = ck_quantity_parse(str->valuestring, &q, c->err); /* as upstream's Unmarshal */
    cJSON_Delete(str);
    if (rc < 0)
        return NULL;
    /* upstream keeps the parsed value, and its JSON is String(): "1e7" reads as "10e6" */
    return ck_quantity_to_json(&q);
}

static cJSON *intorstring_json(struct dctx *c, const struct pt_message *m, const uint8_t *p,
                               size_t len, bool *zero)
{
    struct smallmsg s;
    if (read_small(c, m, p, len, &s) < 0)
        return NULL;
    int64_t type = (int64_t)s.v[1];
    int32_t ival = (int32_t)(uint32_t)s.v[2];
    /* zero by the value it shows: an int 0 whose unused strVal is set still reads as 0 */
    *zero = type == 0 && ival == 0;
    if (type == 0)
        return cJSON_CreateNumber(ival);
    if (type == 1)
        return new_string(c, s.d[3] ? s.d[3] : (const uint8_t *)"", s.n[3]);
    bad(c, "impossible IntOrString.Type");
    return NULL;
}

static cJSON *rawjson_json(struct dctx *c, const struct pt_message *m, const uint8_t *p, size_t len,
                           bool *zero)
{
    struct smallmsg s;
    if (read_small(c, m, p, len, &s) < 0)
        return NULL;
    *zero = s.n[1] == 0;
    if (s.n[1] == 0)
        return cJSON_CreateNull();
    cJSON *out = NULL;
    if (s.n[1] >= PROTO_MAGIC_LEN && !memcmp(s.d[1], PROTO_MAGIC, PROTO_MAGIC_LEN)) {
        /* an embedded object in its own protobuf envelope */
        if (decode_envelope(c, s.d[1], s.n[1], NULL, NULL, &out) < 0)
            return NULL;
        return out;
    }
    struct ck_json_parse_opts opts = {.raw_message = true,
                                      .max_depth = CK_JSON_MAX_DEPTH - c->depth};
    out = ck_json_parse_with((const char *)s.d[1], s.n[1], &opts, c->err);
    return out;
}

/* Collects every occurrence of field `num` of m (a message, or repeated strings) as JSON. */
static int collect(struct dctx *c, const struct pt_message *m, const uint8_t *p, size_t len,
                   uint32_t num, cJSON *arr)
{
    struct rd r = rd_of(p, len);
    struct wire w;
    int rc;
    const struct pt_field *f = pt_field(m, num);
    while ((rc = next_field(c, &r, short_name(m), &w)) > 0) {
        if (w.num != num || !f)
            continue;
        if (w.wt != WT_BYTES)
            return wrong_wt(c, f, w.wt);
        bool zero;
        cJSON *item = f->type == PT_MESSAGE ? message_json(c, f->msg, w.data, w.len, &zero)
                                            : scalar_json(c, f->type, &w, &zero);
        if (!item)
            return -EINVAL;
        cJSON_AddItemToArray(arr, item);
    }
    return rc;
}

/* The JSON-Schema unions: a schema, or an array (of schemas / strings), or a bool. */
static cJSON *union_json(struct dctx *c, const struct pt_message *m, const uint8_t *p, size_t len,
                         bool *zero)
{
    uint32_t schema_num = m->special == PS_PROPSORBOOL ? 2 : 1;
    uint32_t list_num = m->special == PS_PROPSORBOOL ? 0 : 2;
    *zero = len == 0;
    if (list_num) {
        cJSON *arr = cJSON_CreateArray();
        if (collect(c, m, p, len, list_num, arr) < 0) {
            cJSON_Delete(arr);
            return NULL;
        }
        if (cJSON_GetArraySize(arr) > 0)
            return arr;
        cJSON_Delete(arr);
    }
    cJSON *schemas = cJSON_CreateArray();
    if (collect(c, m, p, len, schema_num, schemas) < 0) {
        cJSON_Delete(schemas);
        return NULL;
    }
    int n = cJSON_GetArraySize(schemas);
    if (n > 0) { /* the last occurrence wins */
        cJSON *last = cJSON_DetachItemFromArray(schemas, n - 1);
        cJSON_Delete(schemas);
        return last;
    }
    cJSON_Delete(schemas);
    if (m->special == PS_PROPSORBOOL) {
        struct smallmsg s;
        if (read_small(c, m, p, len, &s) < 0)
            return NULL;
        return cJSON_CreateBool(s.v[1] != 0);
    }
    return cJSON_CreateNull();
}

/* The JSON form of a message value; *zero tells whether Go would hold its zero value. */
static cJSON *message_json(struct dctx *c, const struct pt_message *m, const uint8_t *p, size_t len,
                           bool *zero)
{
    if (c->depth >= PROTO_MAX_DEPTH) {
        bad(c, "proto: nesting deeper than %d messages", PROTO_MAX_DEPTH);
        return NULL;
    }
    c->depth++;
    cJSON *out = NULL;
    switch (m->special) {
    case PS_TIME:
        out = time_json(c, m, p, len, false, zero);
        break;
    case PS_MICROTIME:
        out = time_json(c, m, p, len, true, zero);
        break;
    case PS_DURATION:
        out = duration_json(c, m, p, len, zero);
        break;
    case PS_QUANTITY:
        out = quantity_json(c, m, p, len, zero);
        break;
    case PS_INTORSTRING:
        out = intorstring_json(c, m, p, len, zero);
        break;
    case PS_RAWJSON:
        out = rawjson_json(c, m, p, len, zero);
        break;
    case PS_ITEMS:
        out = cJSON_CreateArray();
        if (collect(c, m, p, len, 1, out) < 0) {
            cJSON_Delete(out);
            out = NULL;
        } else {
            *zero = cJSON_GetArraySize(out) == 0;
        }
        break;
    case PS_PROPSORARRAY:
    case PS_PROPSORBOOL:
    case PS_PROPSORSTRINGS:
        out = union_json(c, m, p, len, zero);
        break;
    default:
        out = cJSON_CreateObject();
        if (decode_fields(c, m, p, len, out) < 0) {
            cJSON_Delete(out);
            out = NULL;
        } else {
            *zero = out->child == NULL;
        }
        break;
    }
    c->depth--;
    return out;
}

/* ---- ordinary messages ---- */

/* One map entry {key = 1, value = 2} into obj[key]; absent parts are their zero values. */
static int map_entry(struct dctx *c, const struct pt_field *f, const uint8_t *p, size_t len,
                     cJSON *map)
{
    struct rd r = rd_of(p, len);
    struct wire w, key = {0}, val = {0};
    bool have_key = false, have_val = false;
    int rc;
    while ((rc = next_field(c, &r, "MapEntry", &w)) > 0) {
        if (w.num == 1) {
            if (w.wt != wire_type_of(f->key_type))
                return wrong_wt(c, f, w.wt);
            key = w;
            have_key = true;
        } else if (w.num == 2) {
            if (w.wt != wire_type_of(f->type))
                return wrong_wt(c, f, w.wt);
            val = w;
            have_val = true;
        }
    }
    if (rc < 0)
        return rc;
    bool zero;
    char keybuf[32];
    cJSON *k;
    if (!have_key) {
        key.wt = wire_type_of(f->key_type);
        key.data = (const uint8_t *)"";
    }
    k = scalar_json(c, f->key_type, &key, &zero);
    if (!k)
        return -EINVAL;
    const char *ks = k->valuestring;
    if (!cJSON_IsString(k)) { /* Go's JSON writes integer and bool map keys as strings */
        if (cJSON_IsBool(k))
            snprintf(keybuf, sizeof(keybuf), "%s", cJSON_IsTrue(k) ? "true" : "false");
        else
            snprintf(keybuf, sizeof(keybuf), "%.0f", k->valuedouble);
        ks = keybuf;
    }
    cJSON *v;
    if (f->type == PT_MESSAGE) {
        v = message_json(c, f->msg, have_val ? val.data : NULL, have_val ? val.len : 0, &zero);
    } else {
        if (!have_val) {
            val.wt = wire_type_of(f->type);
            val.data = (const uint8_t *)"";
        }
        v = scalar_json(c, f->type, &val, &zero);
    }
    if (!v) {
        cJSON_Delete(k);
        return -EINVAL;
    }
    /* appended now, duplicates dropped once at the end (finish()): looking each key up here
     * would make a body of many entries quadratic */
    cJSON_AddItemToObject(map, ks, v);
    map->valueint = MAP_UNCHECKED;
    cJSON_Delete(k);
    return 0;
}

/* Appends to (creating) the array obj[key]. */
static void append_member(cJSON *obj, const char *key, cJSON *item)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(arr)) {
        arr = cJSON_CreateArray();
        set_member(obj, key, arr);
    }
    cJSON_AddItemToArray(arr, item);
}

static int decode_field(struct dctx *c, const struct pt_field *f, const struct wire *w, cJSON *obj)
{
    int want = wire_type_of(f->type);
    if (f->flags & PTF_MAP) {
        if (w->wt != WT_BYTES)
            return wrong_wt(c, f, w->wt);
        cJSON *map = cJSON_GetObjectItemCaseSensitive(obj, f->json);
        if (!cJSON_IsObject(map)) {
            map = cJSON_CreateObject();
            set_member(obj, f->json, map);
        }
        return map_entry(c, f, w->data, w->len, map);
    }
    if ((f->flags & PTF_REPEATED) && w->wt == WT_BYTES && want != WT_BYTES) {
        /* packed repeated scalars */
        struct rd r = {w->data, w->data + w->len};
        while (r.p < r.end) {
            struct wire e = {.num = w->num, .wt = want};
            int rc = want == WT_VARINT ? rd_varint(c, &r, &e.v)
                                       : rd_fixed(c, &r, want == WT_FIXED64 ? 8 : 4, &e.v);
            if (rc < 0)
                return rc;
            bool zero;
            cJSON *item = scalar_json(c, f->type, &e, &zero);
            if (!item)
                return -EINVAL;
            append_member(obj, f->json, item);
        }
        return 0;
    }
    if (w->wt != want)
        return wrong_wt(c, f, w->wt);
    bool zero = false;
    if (f->type == PT_MESSAGE && (f->flags & PTF_INLINE)) {
        if (c->depth >= PROTO_MAX_DEPTH)
            return bad(c, "proto: nesting deeper than %d messages", PROTO_MAX_DEPTH);
        c->depth++;
        int rc = decode_fields(c, f->msg, w->data, w->len, obj);
        c->depth--;
        return rc;
    }
    cJSON *item;
    if (f->type == PT_MESSAGE && !f->msg->special && !(f->flags & PTF_REPEATED)) {
        /* a singular message seen twice merges, as protobuf does */
        cJSON *prev = cJSON_GetObjectItemCaseSensitive(obj, f->json);
        if (cJSON_IsObject(prev)) {
            if (c->depth >= PROTO_MAX_DEPTH)
                return bad(c, "proto: nesting deeper than %d messages", PROTO_MAX_DEPTH);
            c->depth++;
            int rc = decode_fields(c, f->msg, w->data, w->len, prev);
            c->depth--;
            return rc;
        }
    }
    if (f->type == PT_MESSAGE)
        item = message_json(c, f->msg, w->data, w->len, &zero);
    else
        item = scalar_json(c, f->type, w, &zero);
    if (!item)
        return -EINVAL;
    if (f->flags & PTF_REPEATED) {
        append_member(obj, f->json, item);
    } else if (zero && !(f->flags & PTF_PTR)) {
        /* a value field at its zero value: what omitempty leaves out */
        cJSON_Delete(item);
        cJSON_DeleteItemFromObjectCaseSensitive(obj, f->json);
    } else {
        set_member(obj, f->json, item);
    }
    return 0;
}

/* Decodes the fields of message m into obj (which may already hold members). */
static int decode_fields(struct dctx *c, const struct pt_message *m, const uint8_t *p, size_t len,
                         cJSON *obj)
{
    struct rd r = rd_of(p, len);
    struct wire w;
    int rc;
    while ((rc = next_field(c, &r, short_name(m), &w)) > 0) {
        const struct pt_field *f = pt_field(m, w.num);
        if (!f) /* unknown fields are skipped, as Go's generated code does */
            continue;
        if (w.wt == WT_SGROUP)
            return wrong_wt(c, f, w.wt);
        rc = decode_field(c, f, &w, obj);
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* ---- the envelope ---- */

static int decode_envelope(struct dctx *c, const uint8_t *p, size_t len, const char *def_av,
                           const char *def_kind, cJSON **out)
{
    *out = NULL;
    if (len < PROTO_MAGIC_LEN || memcmp(p, PROTO_MAGIC, PROTO_MAGIC_LEN))
        return bad(c, "provided data does not appear to be a protobuf message, expected prefix "
                      "[107 56 115 0]");
    if (c->depth >= PROTO_MAX_DEPTH)
        return bad(c, "proto: nesting deeper than %d messages", PROTO_MAX_DEPTH);
    const struct pt_message *unk = pt_message("runtime.Unknown");
    const struct pt_message *tm = pt_message("runtime.TypeMeta");
    if (!unk || !tm)
        return ck_error_set(c->err, 500, CK_REASON_INTERNAL, "protobuf field table unavailable");
    struct rd r = {p + PROTO_MAGIC_LEN, p + len};
    struct wire w;
    const uint8_t *raw = NULL;
    size_t raw_len = 0;
    cJSON *av = NULL, *kind = NULL, *ctype = NULL;
    int rc;
    while ((rc = next_field(c, &r, "Unknown", &w)) > 0) {
        if (w.num < 1 || w.num > 4)
            continue;
        const struct pt_field *f = pt_field(unk, w.num);
        if (w.wt != WT_BYTES) {
            rc = wrong_wt(c, f, w.wt);
            break;
        }
        if (w.num == 1) {
            struct rd tr = {w.data, w.data + w.len};
            struct wire t;
            while ((rc = next_field(c, &tr, "TypeMeta", &t)) > 0) {
                if (t.num != 1 && t.num != 2)
                    continue;
                if (t.wt != WT_BYTES) {
                    rc = wrong_wt(c, pt_field(tm, t.num), t.wt);
                    break;
                }
                cJSON *s = new_string(c, t.data, t.len);
                if (!s) {
                    rc = -EINVAL;
                    break;
                }
                cJSON **slot = t.num == 1 ? &av : &kind;
                cJSON_Delete(*slot);
                *slot = s;
            }
            if (rc < 0)
                break;
        } else if (w.num == 2) {
            raw = w.data;
            raw_len = w.len;
        } else if (w.num == 4) {
            cJSON_Delete(ctype);
            ctype = new_string(c, w.data, w.len);
            if (!ctype) {
                rc = -EINVAL;
                break;
            }
        }
    }
    char api_version[256] = "", kind_s[256] = "", ct[128] = "";
    if (av)
        snprintf(api_version, sizeof(api_version), "%s", av->valuestring);
    if (kind)
        snprintf(kind_s, sizeof(kind_s), "%s", kind->valuestring);
    if (ctype)
        snprintf(ct, sizeof(ct), "%s", ctype->valuestring);
    cJSON_Delete(av);
    cJSON_Delete(kind);
    cJSON_Delete(ctype);
    if (rc < 0)
        return rc;
    if (!api_version[0] && def_av)
        snprintf(api_version, sizeof(api_version), "%s", def_av);
    if (!kind_s[0] && def_kind)
        snprintf(kind_s, sizeof(kind_s), "%s", def_kind);
    if (!kind_s[0])
        return bad(c, "Object 'Kind' is missing in protobuf body");
    const struct pt_message *m = pt_kind(api_version, kind_s);
    if (!m)
        return bad(c,
                   "no kind \"%s\" is registered for version \"%s\" in scheme "
                   "\"pkg/api/legacyscheme/scheme.go:30\"",
                   kind_s, api_version);
    cJSON *obj;
    if (ct[0] && !strncmp(ct, "application/json", 16)) {
        /* an envelope may carry a JSON body (contentType says so) */
        struct ck_json_parse_opts opts = {.raw_message = true, .require_object = true};
        obj = ck_json_parse_with((const char *)(raw ? raw : (const uint8_t *)""), raw_len, &opts,
                                 c->err);
        if (!obj)
            return -EINVAL;
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "apiVersion");
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "kind");
    } else {
        obj = cJSON_CreateObject();
        c->depth++;
        rc = decode_fields(c, m, raw, raw_len, obj);
        c->depth--;
        if (rc < 0) {
            cJSON_Delete(obj);
            if (c->err && c->err->code == 400) {
                char inner[sizeof(c->err->message)];
                snprintf(inner, sizeof(inner), "%s", c->err->message);
                const char *slash = strrchr(api_version, '/');
                bad(c, "%s in version \"%s\" cannot be handled as a %s: %s", kind_s,
                    slash ? slash + 1 : api_version, kind_s, inner);
            }
            return rc;
        }
    }
    /* apiVersion and kind first, as upstream serializes them */
    cJSON_InsertItemInArray(obj, 0, cJSON_CreateString(kind_s));
    obj->child->string = ck_xstrdup("kind");
    cJSON_InsertItemInArray(obj, 0, cJSON_CreateString(api_version));
    obj->child->string = ck_xstrdup("apiVersion");
    *out = obj;
    return 0;
}

/* ---- API ---- */

bool proto_is_content_type(const char *ct)
{
    size_t n = strlen(PROTO_CONTENT_TYPE);
    return ct && !strncasecmp(ct, PROTO_CONTENT_TYPE, n) &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int proto_decode_object(const void *body, size_t len, const char *default_api_version,
                        const char *default_kind, cJSON **out, struct ck_error *err)
{
    struct dctx c = {.err = err};
    *out = NULL;
    if (pt_load() < 0)
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "protobuf field table unavailable");
    if (!body && len)
        return bad(&c, "unexpected EOF");
    int rc = decode_envelope(&c, body ? body : "", len, default_api_version, default_kind, out);
    if (rc == 0)
        finish(*out, 0);
    return rc;
}

int proto_decode_request(const void *body, size_t len, cJSON **out, struct ck_error *err)
{
    return proto_decode_object(body, len, NULL, NULL, out, err);
}

int proto_decode_message(const char *message, const void *data, size_t len, cJSON **out,
                         struct ck_error *err)
{
    struct dctx c = {.err = err};
    *out = NULL;
    if (pt_load() < 0)
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "protobuf field table unavailable");
    const struct pt_message *m = pt_message(message);
    if (!m)
        return bad(&c, "unknown protobuf message %s", message ? message : "(null)");
    if (!data && len)
        return bad(&c, "unexpected EOF");
    bool zero;
    *out = message_json(&c, m, data ? data : (const void *)"", len, &zero);
    if (!*out)
        return -EINVAL;
    finish(*out, 0);
    return 0;
}
