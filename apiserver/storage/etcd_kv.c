/* etcd_kv.c - key-value requests over the gateway: range, put, delete, txn, compact, and the
 * JSON encoding they share (base64 keys and values, int64 as strings, absent means zero).
 */
#include "etcd_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "mem.h"

/* ---- JSON helpers ------------------------------------------------------------------------ */

int64_t etcd_json_i64(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsString(v))
        return strtoll(v->valuestring, NULL, 10);
    if (cJSON_IsNumber(v))
        return (int64_t)v->valuedouble;
    return 0;
}

uint64_t etcd_json_u64(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsString(v))
        return strtoull(v->valuestring, NULL, 10);
    if (cJSON_IsNumber(v) && v->valuedouble > 0)
        return (uint64_t)v->valuedouble;
    return 0;
}

bool etcd_json_bool(const cJSON *o, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, name));
}

void etcd_parse_header(const cJSON *o, struct etcd_header *h)
{
    const cJSON *hd = cJSON_GetObjectItemCaseSensitive(o, "header");
    h->cluster_id = etcd_json_u64(hd, "cluster_id");
    h->member_id = etcd_json_u64(hd, "member_id");
    h->revision = etcd_json_i64(hd, "revision");
    h->raft_term = etcd_json_i64(hd, "raft_term");
}

/* Decodes the base64 field `name` of o into a NUL-terminated allocation; absent -> "". */
static int json_bytes(const cJSON *o, const char *name, char **out, size_t *len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    *len = 0;
    if (!v || cJSON_IsNull(v)) {
        *out = ck_xstrdup("");
        return 0;
    }
    if (!cJSON_IsString(v))
        return -EIO;
    uint8_t *data;
    if (ck_base64_decode(v->valuestring, strlen(v->valuestring), &data, len) < 0)
        return -EIO;
    *out = (char *)data;
    return 0;
}

int etcd_parse_kv(const cJSON *o, struct etcd_kv *kv)
{
    memset(kv, 0, sizeof(*kv));
    if (!cJSON_IsObject(o))
        return -EIO;
    if (json_bytes(o, "key", &kv->key, &kv->key_len) < 0 ||
        json_bytes(o, "value", &kv->value, &kv->value_len) < 0) {
        etcd_kv_free(kv);
        return -EIO;
    }
    kv->create_revision = etcd_json_i64(o, "create_revision");
    kv->mod_revision = etcd_json_i64(o, "mod_revision");
    kv->version = etcd_json_i64(o, "version");
    kv->lease = etcd_json_i64(o, "lease");
    return 0;
}

void etcd_kv_free(struct etcd_kv *kv)
{
    free(kv->key);
    free(kv->value);
    memset(kv, 0, sizeof(*kv));
}

/* Parses an array field of kvs; absent -> none. */
static int parse_kvs(const cJSON *o, const char *name, struct etcd_kv **kvs, size_t *n)
{
    *kvs = NULL;
    *n = 0;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!arr || cJSON_IsNull(arr))
        return 0;
    if (!cJSON_IsArray(arr))
        return -EIO;
    int count = cJSON_GetArraySize(arr);
    if (count <= 0)
        return 0;
    *kvs = ck_xcalloc((size_t)count, sizeof(struct etcd_kv));
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        if (etcd_parse_kv(item, &(*kvs)[*n]) < 0)
            return -EIO; /* the caller frees what was parsed so far */
        (*n)++;
    }
    return 0;
}

static void free_kvs(struct etcd_kv *kvs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        etcd_kv_free(&kvs[i]);
    free(kvs);
}

void etcd_json_b64(struct ck_buf *b, bool comma, const char *name, const void *data, size_t len)
{
    char *enc = ck_base64_encode(data ? data : "", data ? len : 0);
    if (comma)
        ck_buf_putc(b, ',');
    ck_buf_putc(b, '"');
    ck_buf_puts(b, name);
    ck_buf_puts(b, "\":\"");
    ck_buf_puts(b, enc); /* not through printf: a value is kilobytes */
    ck_buf_putc(b, '"');
    free(enc);
}

void etcd_json_range_keys(struct ck_buf *b, const char *key, const char *range_end, bool prefix,
                          bool from_key)
{
    size_t klen = strlen(key);
    etcd_json_b64(b, false, "key", key, klen);
    if (prefix) {
        size_t elen;
        char *end = etcd_prefix_end(key, klen, &elen);
        etcd_json_b64(b, true, "range_end", end, elen);
        free(end);
    } else if (from_key) {
        etcd_json_b64(b, true, "range_end", "", 1);
    } else if (range_end) {
        etcd_json_b64(b, true, "range_end", range_end, strlen(range_end));
    }
}

/* ---- request bodies ---------------------------------------------------------------------- */

static int check_key(const char *key, struct ck_error *err)
{
    if (!key || !*key)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "etcd: key is not provided");
    return 0;
}

static void range_body(struct ck_buf *b, const struct etcd_range_req *r)
{
    ck_buf_putc(b, '{');
    etcd_json_range_keys(b, r->key, r->range_end, r->prefix, r->from_key);
    if (r->limit > 0)
        ck_buf_printf(b, ",\"limit\":\"%" PRId64 "\"", r->limit);
    if (r->revision > 0)
        ck_buf_printf(b, ",\"revision\":\"%" PRId64 "\"", r->revision);
    if (r->count_only)
        ck_buf_puts(b, ",\"count_only\":true");
    if (r->keys_only)
        ck_buf_puts(b, ",\"keys_only\":true");
    if (r->serializable)
        ck_buf_puts(b, ",\"serializable\":true");
    ck_buf_putc(b, '}');
}

static void put_body(struct ck_buf *b, const struct etcd_put_req *r)
{
    ck_buf_putc(b, '{');
    etcd_json_b64(b, false, "key", r->key, strlen(r->key));
    etcd_json_b64(b, true, "value", r->value, r->value_len);
    if (r->lease)
        ck_buf_printf(b, ",\"lease\":\"%" PRId64 "\"", r->lease);
    if (r->prev_kv)
        ck_buf_puts(b, ",\"prev_kv\":true");
    ck_buf_putc(b, '}');
}

static void delete_body(struct ck_buf *b, const struct etcd_delete_req *r)
{
    ck_buf_putc(b, '{');
    etcd_json_range_keys(b, r->key, r->range_end, r->prefix, r->from_key);
    if (r->prev_kv)
        ck_buf_puts(b, ",\"prev_kv\":true");
    ck_buf_putc(b, '}');
}

/* ---- response parsing ---------------------------------------------------------------------- */

static int parse_range(const cJSON *o, struct etcd_range_resp *r)
{
    etcd_parse_header(o, &r->header);
    r->more = etcd_json_bool(o, "more");
    r->count = etcd_json_i64(o, "count");
    return parse_kvs(o, "kvs", &r->kvs, &r->n_kvs);
}

static int parse_put(const cJSON *o, struct etcd_put_resp *r)
{
    etcd_parse_header(o, &r->header);
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(o, "prev_kv");
    if (prev && !cJSON_IsNull(prev)) {
        if (etcd_parse_kv(prev, &r->prev_kv) < 0)
            return -EIO;
        r->has_prev_kv = true;
    }
    return 0;
}

static int parse_delete(const cJSON *o, struct etcd_delete_resp *r)
{
    etcd_parse_header(o, &r->header);
    r->deleted = etcd_json_i64(o, "deleted");
    return parse_kvs(o, "prev_kvs", &r->prev_kvs, &r->n_prev_kvs);
}

void etcd_range_resp_free(struct etcd_range_resp *r)
{
    if (!r)
        return;
    free_kvs(r->kvs, r->n_kvs);
    memset(r, 0, sizeof(*r));
}

void etcd_put_resp_free(struct etcd_put_resp *r)
{
    if (!r)
        return;
    etcd_kv_free(&r->prev_kv);
    memset(r, 0, sizeof(*r));
}

void etcd_delete_resp_free(struct etcd_delete_resp *r)
{
    if (!r)
        return;
    free_kvs(r->prev_kvs, r->n_prev_kvs);
    memset(r, 0, sizeof(*r));
}

static void op_resp_free(struct etcd_op_resp *r)
{
    switch (r->type) {
    case ETCD_OP_RANGE:
        etcd_range_resp_free(&r->range);
        break;
    case ETCD_OP_PUT:
        etcd_put_resp_free(&r->put);
        break;
    case ETCD_OP_DELETE:
        etcd_delete_resp_free(&r->del);
        break;
    }
}

void etcd_txn_resp_free(struct etcd_txn_resp *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_responses; i++)
        op_resp_free(&r->responses[i]);
    free(r->responses);
    memset(r, 0, sizeof(*r));
}

/* ---- calls --------------------------------------------------------------------------------- */

/* Posts body to path and leaves the parsed answer in *out. */
static int post(struct etcd_client *c, const char *path, struct ck_buf *body, enum etcd_retry retry,
                struct etcd_call *call, struct ck_error *err)
{
    memset(call, 0, sizeof(*call));
    call->path = path;
    call->body = ck_buf_str(body);
    call->body_len = body->len;
    call->retry = retry;
    call->endpoint = -1;
    return etcd_do(c, call, err);
}

int etcd_range(struct etcd_client *c, const struct etcd_range_req *req,
               struct etcd_range_resp *resp, struct ck_error *err)
{
    memset(resp, 0, sizeof(*resp));
    int rc = check_key(req->key, err);
    if (rc < 0)
        return rc;
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    range_body(&b, req);
    struct etcd_call call;
    rc = post(c, "/v3/kv/range", &b, ETCD_RETRY_IDEMPOTENT, &call, err);
    if (rc < 0)
        return rc;
    rc = parse_range(call.resp, resp);
    cJSON_Delete(call.resp);
    if (rc < 0) {
        etcd_range_resp_free(resp);
        return etcd_bad_response(err, "range kvs");
    }
    return 0;
}

int etcd_put(struct etcd_client *c, const struct etcd_put_req *req, struct etcd_put_resp *resp,
             struct ck_error *err)
{
    memset(resp, 0, sizeof(*resp));
    int rc = check_key(req->key, err);
    if (rc < 0)
        return rc;
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    put_body(&b, req);
    struct etcd_call call;
    rc = post(c, "/v3/kv/put", &b, ETCD_RETRY_UNSENT, &call, err);
    if (rc < 0)
        return rc;
    rc = parse_put(call.resp, resp);
    cJSON_Delete(call.resp);
    if (rc < 0) {
        etcd_put_resp_free(resp);
        return etcd_bad_response(err, "put prev_kv");
    }
    return 0;
}

int etcd_delete(struct etcd_client *c, const struct etcd_delete_req *req,
                struct etcd_delete_resp *resp, struct ck_error *err)
{
    memset(resp, 0, sizeof(*resp));
    int rc = check_key(req->key, err);
    if (rc < 0)
        return rc;
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    delete_body(&b, req);
    struct etcd_call call;
    rc = post(c, "/v3/kv/deleterange", &b, ETCD_RETRY_UNSENT, &call, err);
    if (rc < 0)
        return rc;
    rc = parse_delete(call.resp, resp);
    cJSON_Delete(call.resp);
    if (rc < 0) {
        etcd_delete_resp_free(resp);
        return etcd_bad_response(err, "delete prev_kvs");
    }
    return 0;
}

static const char *const CMP_TARGET[] = {"VERSION", "CREATE", "MOD", "VALUE", "LEASE"};
static const char *const CMP_FIELD[] = {"version", "create_revision", "mod_revision", "value",
                                        "lease"};
static const char *const CMP_RESULT[] = {"EQUAL", "NOT_EQUAL", "LESS", "GREATER"};

static int compare_json(struct ck_buf *b, const struct etcd_compare *cmp, struct ck_error *err)
{
    int rc = check_key(cmp->key, err);
    if (rc < 0)
        return rc;
    if ((unsigned)cmp->target >= CK_ARRAY_SIZE(CMP_TARGET) ||
        (unsigned)cmp->op >= CK_ARRAY_SIZE(CMP_RESULT))
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "etcd: invalid compare");
    ck_buf_printf(b, "{\"target\":\"%s\",\"result\":\"%s\",", CMP_TARGET[cmp->target],
                  CMP_RESULT[cmp->op]);
    etcd_json_b64(b, false, "key", cmp->key, strlen(cmp->key));
    if (cmp->target == ETCD_CMP_VALUE)
        etcd_json_b64(b, true, "value", cmp->value, cmp->value_len);
    else
        ck_buf_printf(b, ",\"%s\":\"%" PRId64 "\"", CMP_FIELD[cmp->target], cmp->number);
    ck_buf_putc(b, '}');
    return 0;
}

static int ops_json(struct ck_buf *b, const char *name, const struct etcd_op *ops, size_t n,
                    bool *all_reads, struct ck_error *err)
{
    ck_buf_printf(b, ",\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        const struct etcd_op *op = &ops[i];
        if (i)
            ck_buf_putc(b, ',');
        int rc;
        switch (op->type) {
        case ETCD_OP_RANGE:
            if ((rc = check_key(op->range.key, err)) < 0)
                return rc;
            ck_buf_puts(b, "{\"request_range\":");
            range_body(b, &op->range);
            break;
        case ETCD_OP_PUT:
            if ((rc = check_key(op->put.key, err)) < 0)
                return rc;
            *all_reads = false;
            ck_buf_puts(b, "{\"request_put\":");
            put_body(b, &op->put);
            break;
        case ETCD_OP_DELETE:
            if ((rc = check_key(op->del.key, err)) < 0)
                return rc;
            *all_reads = false;
            ck_buf_puts(b, "{\"request_delete_range\":");
            delete_body(b, &op->del);
            break;
        default:
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "etcd: invalid txn op");
        }
        ck_buf_putc(b, '}');
    }
    ck_buf_putc(b, ']');
    return 0;
}

/* Parses responses[] of a txn: each {"response_range"|"response_put"|"response_delete_range":{}}
 * must match the op of the branch that ran. */
static int parse_txn(const cJSON *o, const struct etcd_op *ops, size_t n_ops,
                     struct etcd_txn_resp *r)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "responses");
    int count = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    if ((size_t)count != n_ops)
        return -EIO;
    if (!count)
        return 0;
    r->responses = ck_xcalloc((size_t)count, sizeof(struct etcd_op_resp));
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        struct etcd_op_resp *opr = &r->responses[r->n_responses];
        opr->type = ops[r->n_responses].type;
        r->n_responses++;
        const cJSON *x;
        int rc;
        switch (opr->type) {
        case ETCD_OP_RANGE:
            x = cJSON_GetObjectItemCaseSensitive(item, "response_range");
            rc = x ? parse_range(x, &opr->range) : -EIO;
            break;
        case ETCD_OP_PUT:
            x = cJSON_GetObjectItemCaseSensitive(item, "response_put");
            rc = x ? parse_put(x, &opr->put) : -EIO;
            break;
        default:
            x = cJSON_GetObjectItemCaseSensitive(item, "response_delete_range");
            rc = x ? parse_delete(x, &opr->del) : -EIO;
            break;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int etcd_txn(struct etcd_client *c, const struct etcd_txn_req *req, struct etcd_txn_resp *resp,
             struct ck_error *err)
{
    memset(resp, 0, sizeof(*resp));
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "{\"compare\":[");
    for (size_t i = 0; i < req->n_compares; i++) {
        if (i)
            ck_buf_putc(&b, ',');
        int rc = compare_json(&b, &req->compares[i], err);
        if (rc < 0)
            return rc;
    }
    ck_buf_putc(&b, ']');
    bool all_reads = true;
    int rc = ops_json(&b, "success", req->success, req->n_success, &all_reads, err);
    if (rc < 0)
        return rc;
    rc = ops_json(&b, "failure", req->failure, req->n_failure, &all_reads, err);
    if (rc < 0)
        return rc;
    ck_buf_putc(&b, '}');

    /* compares make a retry safe: if an earlier attempt was applied they now fail */
    enum etcd_retry retry =
        req->n_compares > 0 || all_reads ? ETCD_RETRY_IDEMPOTENT : ETCD_RETRY_UNSENT;
    struct etcd_call call;
    rc = post(c, "/v3/kv/txn", &b, retry, &call, err);
    if (rc < 0)
        return rc;
    etcd_parse_header(call.resp, &resp->header);
    resp->succeeded = etcd_json_bool(call.resp, "succeeded");
    resp->ambiguous = call.ambiguous && !resp->succeeded;
    rc = resp->succeeded ? parse_txn(call.resp, req->success, req->n_success, resp)
                         : parse_txn(call.resp, req->failure, req->n_failure, resp);
    cJSON_Delete(call.resp);
    if (rc < 0) {
        etcd_txn_resp_free(resp);
        return etcd_bad_response(err, "txn responses");
    }
    return 0;
}

int etcd_compact(struct etcd_client *c, int64_t revision, bool physical, struct ck_error *err)
{
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    ck_buf_printf(&b, "{\"revision\":\"%" PRId64 "\"%s}", revision,
                  physical ? ",\"physical\":true" : "");
    struct etcd_call call;
    int rc = post(c, "/v3/kv/compaction", &b, ETCD_RETRY_UNSENT, &call, err);
    if (rc == -ESTALE)
        return ck_error_set(err, 410, CK_REASON_EXPIRED,
                            "etcd: revision %" PRId64 " is already compacted", revision);
    if (rc < 0)
        return rc;
    cJSON_Delete(call.resp);
    return 0;
}
