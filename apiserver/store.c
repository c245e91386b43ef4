/* store.c - Kubernetes objects in etcd with resourceVersion semantics (see store.h). */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "encoding.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "storage/etcd.h"

/* Upstream retries a conflicting GuaranteedUpdate without bound; we stop after this many
 * rounds and answer 409 so a hot key cannot pin a request thread forever. */
#define MAX_UPDATE_ROUNDS 64

void store_qualified_resource(const struct resource *r, char *dst, size_t size)
{
    if (r->group[0])
        snprintf(dst, size, "%s.%s", r->plural, r->group);
    else
        snprintf(dst, size, "%s", r->plural);
}

static int status_error(const struct resource *r, const char *name, int code, const char *reason,
                        const char *what, struct ck_error *err)
{
    char qr[300];
    store_qualified_resource(r, qr, sizeof(qr));
    ck_error_set(err, code, reason, "%s \"%s\" %s", qr, name, what);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "name", name);
    if (r->group[0])
        cJSON_AddStringToObject(d, "group", r->group);
    cJSON_AddStringToObject(d, "kind", r->plural);
    ck_error_set_details(err, d);
    return ck_error_errno(code);
}

static int not_found(const struct resource *r, const char *name, struct ck_error *err)
{
    return status_error(r, name, 404, CK_REASON_NOT_FOUND, "not found", err);
}

static int object_key(struct store *s, const struct resource *r, const char *ns,
                      const char *name, char **key, struct ck_error *err)
{
    if (!r->storage)
        return ck_error_set(err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                            "the server does not allow this method on the requested resource");
    return etcd_key(s->prefix, r->storage, r->namespaced ? ns : NULL, name, key, err);
}

/* The stored form: the object without resourceVersion (etcd's mod_revision is the truth). */
static char *encode(const cJSON *obj)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    cJSON *rv = cJSON_DetachItemFromObjectCaseSensitive(m, "resourceVersion");
    char *s = ck_json_print(obj, 0);
    if (rv)
        cJSON_AddItemToObject(m, "resourceVersion", rv);
    return s;
}

static void set_rv(cJSON *obj, int64_t rv)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)rv);
    cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (!cJSON_IsObject(m))
        return;
    if (cJSON_GetObjectItemCaseSensitive(m, "resourceVersion"))
        cJSON_ReplaceItemInObjectCaseSensitive(m, "resourceVersion", cJSON_CreateString(buf));
    else
        cJSON_AddStringToObject(m, "resourceVersion", buf);
}

/* Parses a stored value into an object carrying its resourceVersion; NULL if corrupt. */
static cJSON *decode(const struct etcd_kv *kv)
{
    cJSON *obj = ck_json_parse(kv->value, kv->value_len, NULL);
    if (!cJSON_IsObject(obj)) {
        ck_err("store: undecodable value at %s", kv->key);
        cJSON_Delete(obj);
        return NULL;
    }
    set_rv(obj, kv->mod_revision);
    return obj;
}

static int corrupt(const char *key, struct ck_error *err)
{
    return ck_error_set(err, 500, CK_REASON_INTERNAL, "stored object at %s cannot be decoded",
                        key);
}

int store_create_guarded(struct store *s, const struct resource *r, cJSON *obj,
                         const struct resource *guard_r, const char *guard_ns,
                         const char *guard_name, int64_t guard_rv, struct ck_error *err)
{
    const char *ns = ck_json_get_string(obj, "metadata.namespace", "");
    const char *name = ck_json_get_string(obj, "metadata.name", "");
    char *key = NULL, *guard_key = NULL;
    int rc = object_key(s, r, ns, name, &key, err);
    if (rc < 0)
        return rc;
    if (guard_r && (rc = object_key(s, guard_r, guard_ns, guard_name, &guard_key, err)) < 0) {
        free(key);
        return rc;
    }
    char *value = encode(obj);
    struct etcd_compare cmp[2] = {
        {.key = key, .target = ETCD_CMP_CREATE, .op = ETCD_CMP_EQUAL},
        {.key = guard_key, .target = ETCD_CMP_MOD, .op = ETCD_CMP_EQUAL, .number = guard_rv},
    };
    struct etcd_op put = {.type = ETCD_OP_PUT,
                          .put = {.key = key, .value = value, .value_len = strlen(value)}};
    struct etcd_op get[2] = {{.type = ETCD_OP_RANGE, .range = {.key = key}},
                             {.type = ETCD_OP_RANGE, .range = {.key = guard_key}}};
    size_t n = guard_key ? 2 : 1;
    struct etcd_txn_req req = {cmp, n, &put, 1, get, n};
    struct etcd_txn_resp resp = {0};
    rc = etcd_txn(s->etcd, &req, &resp, err);
    if (rc == 0 && !resp.succeeded) {
        if (guard_key && resp.n_responses == 2 &&
            (resp.responses[1].range.n_kvs != 1 ||
             resp.responses[1].range.kvs[0].mod_revision != guard_rv)) {
            rc = -ESTALE;
        } else {
            /* after a retry of uncertain outcome, the existing key may be our own create */
            bool ours = false;
            if (resp.ambiguous && resp.n_responses >= 1 &&
                resp.responses[0].range.n_kvs == 1) {
                const struct etcd_kv *kv = &resp.responses[0].range.kvs[0];
                ours = kv->value_len == strlen(value) && !memcmp(kv->value, value, kv->value_len);
                if (ours)
                    set_rv(obj, kv->mod_revision);
            }
            if (!ours)
                rc = status_error(r, name, 409, CK_REASON_ALREADY_EXISTS, "already exists", err);
        }
    } else if (rc == 0) {
        set_rv(obj, resp.header.revision);
    }
    etcd_txn_resp_free(&resp);
    free(value);
    free(guard_key);
    free(key);
    return rc;
}

int store_create(struct store *s, const struct resource *r, cJSON *obj, struct ck_error *err)
{
    return store_create_guarded(s, r, obj, NULL, NULL, NULL, 0, err);
}

int store_get(struct store *s, const struct resource *r, const char *ns, const char *name,
              cJSON **out, struct ck_error *err)
{
    *out = NULL;
    char *key = NULL;
    int rc = object_key(s, r, ns, name, &key, err);
    if (rc < 0)
        return rc;
    struct etcd_range_req req = {.key = key};
    struct etcd_range_resp resp = {0};
    rc = etcd_range(s->etcd, &req, &resp, err);
    if (rc == 0) {
        if (resp.n_kvs == 0)
            rc = not_found(r, name, err);
        else if (!(*out = decode(&resp.kvs[0])))
            rc = corrupt(key, err);
    }
    etcd_range_resp_free(&resp);
    free(key);
    return rc;
}

/* ---- lists ---- */

/* Continue tokens as upstream encodes them: base64 of
 * {"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key after the prefix>"}. */
static char *encode_continue(int64_t rv, const char *start)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "v", "meta.k8s.io/v1");
    cJSON_AddItemToObject(t, "rv", ck_json_new_int64(rv));
    cJSON_AddStringToObject(t, "start", start);
    char *json = ck_json_print(t, 0);
    cJSON_Delete(t);
    char *b64 = ck_base64url_encode(json, strlen(json)); /* RawURLEncoding, as upstream */
    free(json);
    return b64;
}

static int decode_continue(const char *token, int64_t *rv, char **start, struct ck_error *err)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    cJSON *t = NULL;
    if (ck_base64url_decode(token, strlen(token), &raw, &len) == 0)
        t = ck_json_parse((const char *)raw, len, NULL);
    free(raw);
    const char *v = ck_json_get_string(t, "v", "");
    const char *st = ck_json_get_string(t, "start", NULL);
    int64_t r = ck_json_get_int64(t, "rv", 0);
    if (strcmp(v, "meta.k8s.io/v1") || !st || r <= 0 || strstr(st, "..") || st[0] == '/') {
        cJSON_Delete(t);
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "continue key is not valid: incorrect encoded start resourceVersion "
                            "(version meta.k8s.io/v1)");
    }
    *rv = r;
    *start = ck_xstrdup(st);
    cJSON_Delete(t);
    return 0;
}

void store_list_result_free(struct store_list_result *res)
{
    cJSON_Delete(res->items);
    free(res->continue_token);
    res->items = NULL;
    res->continue_token = NULL;
}

int store_list(struct store *s, const struct resource *r, const struct store_list_opts *o,
               struct store_list_result *out, struct ck_error *err)
{
    memset(out, 0, sizeof(*out));
    out->remaining = -1;
    if (!r->storage)
        return ck_error_set(err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                            "the server does not allow this method on the requested resource");
    char *prefix = NULL;
    int rc = etcd_key_list_prefix(s->prefix, r->storage, r->namespaced ? o->ns : NULL, &prefix,
                                  err);
    if (rc < 0)
        return rc;
    size_t end_len;
    char *end = etcd_prefix_end(prefix, strlen(prefix), &end_len);
    int64_t rv = o->rv;
    char *from = NULL;     /* first key to read */
    char *last_key = NULL; /* last key read */
    if (o->continue_token && o->continue_token[0]) {
        char *start = NULL;
        if ((rc = decode_continue(o->continue_token, &rv, &start, err)) < 0)
            goto done;
        /* continue strictly after the last key returned: key + "\x01" is the smallest key
         * after it that a C string can name (no stored name contains \x00 or \x01) */
        from = ck_xasprintf("%s%s\x01", prefix, start);
        free(start);
    } else {
        from = ck_xstrdup(prefix);
    }
    out->items = cJSON_CreateArray();
    int64_t want = o->limit > 0 ? o->limit : 0;
    int64_t got = 0;
    bool filtered = o->filter != NULL;
    for (;;) {
        struct etcd_range_req req = {.key = from, .range_end = end, .revision = rv};
        if (want)
            req.limit = filtered ? (want - got) * 2 + 8 : want - got;
        struct etcd_range_resp resp = {0};
        if ((rc = etcd_range(s->etcd, &req, &resp, err)) < 0) {
            etcd_range_resp_free(&resp);
            goto done;
        }
        if (!rv)
            rv = resp.header.revision;
        size_t i;
        for (i = 0; i < resp.n_kvs && (!want || got < want); i++) {
            cJSON *obj = decode(&resp.kvs[i]);
            free(last_key);
            last_key = ck_xstrdup(resp.kvs[i].key);
            if (!obj)
                continue;
            if (o->filter && !o->filter(obj, o->filter_ctx)) {
                cJSON_Delete(obj);
                continue;
            }
            cJSON_AddItemToArray(out->items, obj);
            got++;
        }
        bool more = resp.more || i < resp.n_kvs;
        int64_t count = resp.count;
        etcd_range_resp_free(&resp);
        if (!more)
            break;
        if (want && got >= want) {
            out->continue_token = encode_continue(rv, last_key + strlen(prefix));
            /* upstream reports remainingItemCount only for unfiltered lists */
            if (!filtered)
                out->remaining = count - (int64_t)i;
            break;
        }
        free(from);
        from = ck_xasprintf("%s\x01", last_key);
    }
    out->rv = rv;
done:
    free(last_key);
    free(from);
    free(end);
    free(prefix);
    if (rc < 0)
        store_list_result_free(out);
    return rc;
}

/* ---- writes ---- */

int store_update(struct store *s, const struct resource *r, const char *ns, const char *name,
                 store_update_fn fn, void *ctx, unsigned flags, cJSON **out,
                 struct ck_error *err)
{
    if (out)
        *out = NULL;
    char *key = NULL;
    int rc = object_key(s, r, ns, name, &key, err);
    if (rc < 0)
        return rc;
    struct etcd_kv cur = {0};
    cJSON *current = NULL;
    bool have = false;
    for (int round = 0; round < MAX_UPDATE_ROUNDS; round++) {
        if (!have) {
            struct etcd_range_req req = {.key = key};
            struct etcd_range_resp resp = {0};
            rc = etcd_range(s->etcd, &req, &resp, err);
            if (rc == 0 && resp.n_kvs == 0)
                rc = not_found(r, name, err);
            if (rc == 0) {
                cur.mod_revision = resp.kvs[0].mod_revision;
                current = decode(&resp.kvs[0]);
                if (!current)
                    rc = corrupt(key, err);
            }
            etcd_range_resp_free(&resp);
            if (rc < 0)
                goto done;
        }
        cJSON *next = NULL;
        bool delete_it = false;
        rc = fn(current, ctx, &next, &delete_it, err);
        if (rc < 0)
            goto done;
        if (rc == 1 || (!delete_it && next && ck_json_equal(next, current))) {
            /* nothing changes: answer with the stored object, write nothing */
            cJSON_Delete(next);
            rc = 0;
            if (out) {
                *out = current;
                current = NULL;
            }
            goto done;
        }
        if (flags & STORE_DRY_RUN) {
            /* the answer a real write would give, without the write */
            cJSON *result = next;
            if (delete_it && !next) {
                result = current;
                current = NULL;
            }
            if (out)
                *out = result;
            else
                cJSON_Delete(result);
            rc = 0;
            goto done;
        }
        char *value = next && !delete_it ? encode(next) : NULL;
        struct etcd_compare cmp = {.key = key, .target = ETCD_CMP_MOD, .op = ETCD_CMP_EQUAL,
                                   .number = cur.mod_revision};
        struct etcd_op op;
        if (delete_it)
            op = (struct etcd_op){.type = ETCD_OP_DELETE, .del = {.key = key}};
        else
            op = (struct etcd_op){.type = ETCD_OP_PUT,
                                  .put = {.key = key, .value = value, .value_len = strlen(value)}};
        struct etcd_op get = {.type = ETCD_OP_RANGE, .range = {.key = key}};
        struct etcd_txn_req req = {&cmp, 1, &op, 1, &get, 1};
        struct etcd_txn_resp resp = {0};
        rc = etcd_txn(s->etcd, &req, &resp, err);
        free(value);
        if (rc < 0) {
            cJSON_Delete(next);
            etcd_txn_resp_free(&resp);
            goto done;
        }
        if (resp.succeeded) {
            if (delete_it) {
                cJSON *gone = next ? next : current;
                if (gone == current)
                    current = NULL; /* handed to the caller; else freed at done */
                set_rv(gone, resp.header.revision);
                if (out)
                    *out = gone;
                else
                    cJSON_Delete(gone);
            } else {
                set_rv(next, resp.header.revision);
                if (out)
                    *out = next;
                else
                    cJSON_Delete(next);
            }
            etcd_txn_resp_free(&resp);
            rc = 0;
            goto done;
        }
        /* the object moved under us: take the newer one from the failure branch and retry */
        cJSON_Delete(next);
        cJSON_Delete(current);
        current = NULL;
        const struct etcd_range_resp *rr = &resp.responses[0].range;
        if (resp.n_responses != 1 || rr->n_kvs == 0) {
            rc = not_found(r, name, err);
            etcd_txn_resp_free(&resp);
            goto done;
        }
        cur.mod_revision = rr->kvs[0].mod_revision;
        current = decode(&rr->kvs[0]);
        etcd_txn_resp_free(&resp);
        if (!current) {
            rc = corrupt(key, err);
            goto done;
        }
        have = true;
    }
    rc = status_error(r, name, 409, CK_REASON_CONFLICT,
                      "could not be updated: too many concurrent writers", err);
done:
    cJSON_Delete(current);
    free(key);
    return rc;
}

int store_delete(struct store *s, const struct resource *r, const char *ns, const char *name,
                 int64_t rv, cJSON **out, struct ck_error *err)
{
    if (out)
        *out = NULL;
    char *key = NULL;
    int rc = object_key(s, r, ns, name, &key, err);
    if (rc < 0)
        return rc;
    struct etcd_compare cmp = {.key = key, .target = ETCD_CMP_MOD, .op = ETCD_CMP_EQUAL,
                               .number = rv};
    struct etcd_op del = {.type = ETCD_OP_DELETE, .del = {.key = key, .prev_kv = true}};
    struct etcd_txn_req req = {rv ? &cmp : NULL, rv ? 1 : 0, &del, 1, NULL, 0};
    struct etcd_txn_resp resp = {0};
    rc = etcd_txn(s->etcd, &req, &resp, err);
    if (rc == 0) {
        const struct etcd_delete_resp *d =
            resp.succeeded && resp.n_responses == 1 ? &resp.responses[0].del : NULL;
        if (!resp.succeeded)
            rc = status_error(r, name, 409, CK_REASON_CONFLICT,
                              "the object has been modified; please apply your changes to the "
                              "latest version and try again",
                              err);
        else if (!d || d->deleted == 0)
            rc = not_found(r, name, err);
        else if (out && d->n_prev_kvs == 1)
            *out = decode(&d->prev_kvs[0]);
    }
    etcd_txn_resp_free(&resp);
    free(key);
    return rc;
}
