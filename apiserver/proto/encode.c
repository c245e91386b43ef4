/* encode.c - JSON objects to protobuf bodies, driven by the field table (see proto.h).
 *
 * The inverse of decode.c, for answering clients that ask for protobuf. Fields are written
 * in number order; members absent or null in the JSON are not written (Go would write value
 * fields at their zero value, which reads back the same); map entries go in key order, as
 * Go's generated code sorts them.
 */
#include "proto.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "json.h"
#include "mem.h"
#include "quantity.h"
#include "table.h"
#include "timeutil.h"

struct ectx {
    struct ck_error *err;
    int depth;
};

static int wrong_json(struct ectx *c, const struct pt_message *m, const struct pt_field *f,
                      const cJSON *v)
{
    const char *what = cJSON_IsString(v)   ? "string"
                       : cJSON_IsNumber(v) ? "number"
                       : cJSON_IsBool(v)   ? "bool"
                       : cJSON_IsArray(v)  ? "array"
                       : cJSON_IsObject(v) ? "object"
                                           : "value";
    const char *dot = strchr(m->name, '.');
    return ck_error_set(c->err, 400, CK_REASON_BAD_REQUEST,
                        "json: cannot unmarshal %s into Go struct field %s.%s", what,
                        dot ? dot + 1 : m->name, f ? f->json : "?");
}

static void put_varint(struct ck_buf *b, uint64_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    ck_buf_add(b, tmp, n);
}

static void put_tag(struct ck_buf *b, uint32_t num, int wt)
{
    put_varint(b, (uint64_t)num << 3 | (unsigned)wt);
}

static void put_bytes(struct ck_buf *b, uint32_t num, const void *data, size_t len)
{
    put_tag(b, num, 2);
    put_varint(b, len);
    ck_buf_add(b, data, len);
}

static void put_fixed(struct ck_buf *b, uint64_t v, size_t n)
{
    char tmp[8];
    for (size_t i = 0; i < n; i++)
        tmp[i] = (char)(v >> (8 * i));
    ck_buf_add(b, tmp, n);
}

/* A JSON number as an integer in [lo, hi] (exact int64 text honoured). */
static int json_int(const cJSON *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!cJSON_IsNumber(v) || ck_json_to_int64(v, out) < 0 || *out < lo || *out > hi)
        return -EINVAL;
    return 0;
}

/* Writes one scalar value of field f (number num) from JSON v. */
static int put_scalar(struct ectx *c, const struct pt_message *m, const struct pt_field *f,
                      enum pt_type t, uint32_t num, const cJSON *v, struct ck_buf *b)
{
    int64_t i;
    switch (t) {
    case PT_BOOL:
        if (!cJSON_IsBool(v))
            return wrong_json(c, m, f, v);
        put_tag(b, num, 0);
        put_varint(b, cJSON_IsTrue(v) ? 1 : 0);
        return 0;
    case PT_INT32:
    case PT_INT64:
    case PT_UINT32:
    case PT_UINT64:
    case PT_SINT32:
    case PT_SINT64: {
        int64_t lo = t == PT_INT32 || t == PT_SINT32    ? INT32_MIN
                     : t == PT_UINT32 || t == PT_UINT64 ? 0
                                                        : INT64_MIN;
        int64_t hi = t == PT_INT32 || t == PT_SINT32 ? INT32_MAX
                     : t == PT_UINT32                ? UINT32_MAX
                                                     : INT64_MAX;
        if (json_int(v, lo, hi, &i) < 0)
            return wrong_json(c, m, f, v);
        put_tag(b, num, 0);
        if (t == PT_SINT32 || t == PT_SINT64)
            put_varint(b, ((uint64_t)i << 1) ^ (uint64_t)(i >> 63));
        else
            put_varint(b, (uint64_t)i); /* negative int32s sign-extend to 10 bytes, as Go */
        return 0;
    }
    case PT_DOUBLE:
    case PT_FLOAT: {
        if (!cJSON_IsNumber(v))
            return wrong_json(c, m, f, v);
        if (t == PT_DOUBLE) {
            uint64_t u;
            double d = v->valuedouble;
            memcpy(&u, &d, sizeof(u));
            put_tag(b, num, 1);
            put_fixed(b, u, 8);
        } else {
            uint32_t u;
            float fl = (float)v->valuedouble;
            memcpy(&u, &fl, sizeof(u));
            put_tag(b, num, 5);
            put_fixed(b, u, 4);
        }
        return 0;
    }
    case PT_STRING:
        if (!cJSON_IsString(v))
            return wrong_json(c, m, f, v);
        put_bytes(b, num, v->valuestring, strlen(v->valuestring));
        return 0;
    case PT_BYTES: {
        uint8_t *raw;
        size_t n;
        if (!cJSON_IsString(v) ||
            ck_base64_decode(v->valuestring, strlen(v->valuestring), &raw, &n) < 0)
            return wrong_json(c, m, f, v);
        put_bytes(b, num, raw, n);
        free(raw);
        return 0;
    }
    default:
        return wrong_json(c, m, f, v);
    }
}

static int encode_fields(struct ectx *c, const struct pt_message *m, const cJSON *obj,
                         struct ck_buf *b);

/* Writes message m's encoding of JSON value v into b (no tag, no length). */
static int encode_value(struct ectx *c, const struct pt_message *m, const cJSON *v,
                        struct ck_buf *b)
{
    if (c->depth >= PROTO_MAX_DEPTH)
        return ck_error_set(c->err, 400, CK_REASON_BAD_REQUEST,
                            "proto: nesting deeper than %d messages", PROTO_MAX_DEPTH);
    c->depth++;
    int rc = 0;
    switch (m->special) {
    case PS_TIME:
    case PS_MICROTIME: {
        struct timespec ts;
        if (!cJSON_IsString(v)) {
            rc = wrong_json(c, m, NULL, v);
            break;
        }
        if (!v->valuestring[0])
            break; /* "" is the zero time, as upstream's UnmarshalJSON */
        rc = ck_time_parse(v->valuestring, &ts, c->err);
        if (rc < 0)
            break;
        put_tag(b, 1, 0);
        put_varint(b, (uint64_t)(int64_t)ts.tv_sec);
        put_tag(b, 2, 0);
        put_varint(b, (uint64_t)ts.tv_nsec);
        break;
    }
    case PS_DURATION: {
        int64_t ns;
        if (!cJSON_IsString(v)) {
            rc = wrong_json(c, m, NULL, v);
            break;
        }
        rc = ck_duration_parse(v->valuestring, &ns, c->err);
        if (rc == 0) {
            put_tag(b, 1, 0);
            put_varint(b, (uint64_t)ns);
        }
        break;
    }
    case PS_QUANTITY: {
        struct ck_quantity q;
        char s[CK_QUANTITY_STR_MAX];
        rc = ck_quantity_parse_json(v, &q, c->err);
        if (rc == 0 && (rc = ck_quantity_format(&q, s, sizeof(s))) == 0)
            put_bytes(b, 1, s, strlen(s));
        break;
    }
    case PS_INTORSTRING: {
        int64_t i;
        if (cJSON_IsString(v)) {
            put_tag(b, 1, 0);
            put_varint(b, 1);
            put_tag(b, 2, 0);
            put_varint(b, 0);
            put_bytes(b, 3, v->valuestring, strlen(v->valuestring));
        } else if (json_int(v, INT32_MIN, INT32_MAX, &i) == 0) {
            put_tag(b, 1, 0);
            put_varint(b, 0);
            put_tag(b, 2, 0);
            put_varint(b, (uint64_t)i);
            put_bytes(b, 3, "", 0);
        } else {
            rc = wrong_json(c, m, NULL, v);
        }
        break;
    }
    case PS_RAWJSON: {
        char *s = ck_json_print(v, 0);
        if (!s) {
            rc = wrong_json(c, m, NULL, v);
            break;
        }
        put_bytes(b, 1, s, strlen(s));
        free(s);
        break;
    }
    case PS_ITEMS: {
        const cJSON *e;
        if (!cJSON_IsArray(v)) {
            rc = wrong_json(c, m, NULL, v);
            break;
        }
        cJSON_ArrayForEach(e, v)
        {
            if ((rc = put_scalar(c, m, &m->fields[0], PT_STRING, 1, e, b)) < 0)
                break;
        }
        break;
    }
    case PS_PROPSORARRAY:
    case PS_PROPSORBOOL:
    case PS_PROPSORSTRINGS: {
        const struct pt_field *schema = pt_field(m, m->special == PS_PROPSORBOOL ? 2 : 1);
        const struct pt_field *list = m->special == PS_PROPSORBOOL ? NULL : pt_field(m, 2);
        if (cJSON_IsBool(v) && m->special == PS_PROPSORBOOL) {
            put_tag(b, 1, 0);
            put_varint(b, cJSON_IsTrue(v) ? 1 : 0);
        } else if (cJSON_IsObject(v) && schema) {
            struct ck_buf sub = CK_BUF_INIT;
            if (m->special == PS_PROPSORBOOL) {
                put_tag(b, 1, 0);
                put_varint(b, 1);
            }
            rc = encode_value(c, schema->msg, v, &sub);
            if (rc == 0)
                put_bytes(b, schema->number, sub.data ? sub.data : "", sub.len);
            ck_buf_free(&sub);
        } else if (cJSON_IsArray(v) && list) {
            const cJSON *e;
            cJSON_ArrayForEach(e, v)
            {
                if (list->type == PT_MESSAGE) {
                    struct ck_buf sub = CK_BUF_INIT;
                    rc = encode_value(c, list->msg, e, &sub);
                    if (rc == 0)
                        put_bytes(b, list->number, sub.data ? sub.data : "", sub.len);
                    ck_buf_free(&sub);
                } else {
                    rc = put_scalar(c, m, list, list->type, list->number, e, b);
                }
                if (rc < 0)
                    break;
            }
        } else {
            rc = wrong_json(c, m, NULL, v);
        }
        break;
    }
    default:
        if (!cJSON_IsObject(v)) {
            rc = wrong_json(c, m, NULL, v);
            break;
        }
        rc = encode_fields(c, m, v, b);
        break;
    }
    c->depth--;
    return rc;
}

/* Writes one occurrence of field f with JSON value v. */
static int put_field(struct ectx *c, const struct pt_message *m, const struct pt_field *f,
                     const cJSON *v, struct ck_buf *b)
{
    if (f->type != PT_MESSAGE)
        return put_scalar(c, m, f, f->type, f->number, v, b);
    struct ck_buf sub = CK_BUF_INIT;
    int rc = encode_value(c, f->msg, v, &sub);
    if (rc == 0)
        put_bytes(b, f->number, sub.data ? sub.data : "", sub.len);
    ck_buf_free(&sub);
    return rc;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

static int put_map(struct ectx *c, const struct pt_message *m, const struct pt_field *f,
                   const cJSON *v, struct ck_buf *b)
{
    if (!cJSON_IsObject(v))
        return wrong_json(c, m, f, v);
    size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
    const cJSON **members = ck_xcalloc(n ? n : 1, sizeof(*members));
    const cJSON *e;
    cJSON_ArrayForEach(e, v) members[i++] = e;
    qsort(members, n, sizeof(*members), cmp_key);
    int rc = 0;
    for (i = 0; i < n && rc == 0; i++) {
        struct ck_buf entry = CK_BUF_INIT;
        cJSON *key = cJSON_CreateString(members[i]->string);
        if (f->key_type == PT_STRING) {
            rc = put_scalar(c, m, f, PT_STRING, 1, key, &entry);
        } else { /* integer or bool keys arrive as JSON strings */
            cJSON *k = f->key_type == PT_BOOL
                           ? cJSON_CreateBool(!strcmp(members[i]->string, "true"))
                           : cJSON_CreateNumber(strtod(members[i]->string, NULL));
            rc = put_scalar(c, m, f, f->key_type, 1, k, &entry);
            cJSON_Delete(k);
        }
        cJSON_Delete(key);
        if (rc == 0 && !cJSON_IsNull(members[i])) {
            if (f->type == PT_MESSAGE) {
                struct ck_buf sub = CK_BUF_INIT;
                rc = encode_value(c, f->msg, members[i], &sub);
                if (rc == 0)
                    put_bytes(&entry, 2, sub.data ? sub.data : "", sub.len);
                ck_buf_free(&sub);
            } else {
                rc = put_scalar(c, m, f, f->type, 2, members[i], &entry);
            }
        }
        if (rc == 0)
            put_bytes(b, f->number, entry.data ? entry.data : "", entry.len);
        ck_buf_free(&entry);
    }
    free(members);
    return rc;
}

static int encode_fields(struct ectx *c, const struct pt_message *m, const cJSON *obj,
                         struct ck_buf *b)
{
    for (size_t i = 0; i < m->nfields; i++) {
        const struct pt_field *f = &m->fields[i];
        int rc = 0;
        if (f->flags & PTF_INLINE) {
            struct ck_buf sub = CK_BUF_INIT;
            if (c->depth >= PROTO_MAX_DEPTH) {
                rc = ck_error_set(c->err, 400, CK_REASON_BAD_REQUEST,
                                  "proto: nesting deeper than %d messages", PROTO_MAX_DEPTH);
            } else {
                c->depth++;
                rc = encode_fields(c, f->msg, obj, &sub);
                c->depth--;
            }
            if (rc == 0 && sub.len)
                put_bytes(b, f->number, sub.data, sub.len);
            ck_buf_free(&sub);
            if (rc < 0)
                return rc;
            continue;
        }
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, f->json);
        if (!v || cJSON_IsNull(v))
            continue;
        if (f->flags & PTF_MAP) {
            rc = put_map(c, m, f, v, b);
        } else if (f->flags & PTF_REPEATED) {
            const cJSON *e;
            if (!cJSON_IsArray(v))
                return wrong_json(c, m, f, v);
            cJSON_ArrayForEach(e, v)
            {
                if ((rc = put_field(c, m, f, e, b)) < 0)
                    break;
            }
        } else {
            rc = put_field(c, m, f, v, b);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int proto_encode_object(const cJSON *obj, struct ck_buf *out, struct ck_error *err)
{
    struct ectx c = {.err = err};
    if (pt_load() < 0)
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "protobuf field table unavailable");
    const char *av = ck_json_get_string(obj, "apiVersion", "");
    const char *kind = ck_json_get_string(obj, "kind", "");
    const struct pt_message *m = cJSON_IsObject(obj) ? pt_kind(av, kind) : NULL;
    if (!m)
        return ck_error_set(err, 500, CK_REASON_INTERNAL,
                            "object %s/%s is not marshalable to protobuf", av, kind);
    struct ck_buf raw = CK_BUF_INIT, tm = CK_BUF_INIT;
    int rc = encode_fields(&c, m, obj, &raw);
    if (rc == 0) {
        put_bytes(&tm, 1, av, strlen(av));
        put_bytes(&tm, 2, kind, strlen(kind));
        ck_buf_add(out, PROTO_MAGIC, PROTO_MAGIC_LEN);
        put_bytes(out, 1, tm.data, tm.len);
        put_bytes(out, 2, raw.data ? raw.data : "", raw.len);
        put_bytes(out, 3, "", 0);
        put_bytes(out, 4, "", 0);
    }
    ck_buf_free(&raw);
    ck_buf_free(&tm);
    return rc;
}
