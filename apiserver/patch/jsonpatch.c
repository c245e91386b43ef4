/* jsonpatch.c - RFC 6902 JSON Patch as kube-apiserver applies it (evanphx/json-patch v4):
 * add, remove, replace, move, copy, test; JSON pointers with ~0/~1 escapes; "-" appends;
 * negative array indices count from the end (evanphx's SupportNegativeIndices, on upstream);
 * the first pointer segment is ignored as evanphx does (it splits on "/" and drops the part
 * before the first slash); a "replace" of a missing object member adds it (evanphx only
 * checks that arrays hold the index). Messages are evanphx's, wrapped the way it wraps them.
 * See patch.h for the Status each failure becomes. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "patch.h"
#include "patch_internal.h"

/* The failure of one operation: a message for the 422's cause. */
struct jp_fail {
    struct ck_buf msg;
};

static int failf(struct jp_fail *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(struct jp_fail *f, const char *fmt, ...)
{
    ck_buf_reset(&f->msg);
    va_list ap;
    va_start(ap, fmt);
    ck_buf_vprintf(&f->msg, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Prefixes the current message: "<prefix>: <message>" (Go's %w wrapping). */
static int wrapf(struct jp_fail *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int wrapf(struct jp_fail *f, const char *fmt, ...)
{
    struct ck_buf b = CK_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ck_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    ck_buf_puts(&b, ": ");
    ck_buf_puts(&b, ck_buf_str(&f->msg));
    ck_buf_free(&f->msg);
    f->msg = b;
    return -EINVAL;
}

/* Go's strconv.Quote for the keys we print (ASCII escapes; other bytes kept). */
static void go_quote(struct ck_buf *b, const char *s)
{
    ck_buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            ck_buf_printf(b, "\\%c", c);
        else if (c == '\n')
            ck_buf_puts(b, "\\n");
        else if (c == '\t')
            ck_buf_puts(b, "\\t");
        else if (c == '\r')
            ck_buf_puts(b, "\\r");
        else if (c < 0x20 || c == 0x7f)
            ck_buf_printf(b, "\\x%02x", c);
        else
            ck_buf_putc(b, (char)c);
    }
    ck_buf_putc(b, '"');
}

/* Go's strconv.Atoi: optional sign, decimal digits, int64 range. 0, or -EINVAL with the
 * message strconv gives. */
static int go_atoi(const char *s, long long *out, struct jp_fail *f)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!*p)
        goto syntax;
    unsigned long long v = 0;
    bool range = false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            goto syntax;
        unsigned d = (unsigned)(*p - '0');
        if (v > (ULLONG_MAX - d) / 10)
            range = true;
        else
            v = v * 10 + d;
    }
    if (range || (!neg && v > (unsigned long long)LLONG_MAX) ||
        (neg && v > (unsigned long long)LLONG_MAX + 1ULL)) {
        struct ck_buf q = CK_BUF_INIT;
        go_quote(&q, s);
        failf(f, "strconv.Atoi: parsing %s: value out of range", ck_buf_str(&q));
        ck_buf_free(&q);
        return -ERANGE;
    }
    *out = neg ? (long long)(0 - v) : (long long)v;
    return 0;
syntax:;
    struct ck_buf q = CK_BUF_INIT;
    go_quote(&q, s);
    failf(f, "strconv.Atoi: parsing %s: invalid syntax", ck_buf_str(&q));
    ck_buf_free(&q);
    return -EINVAL;
}

/* RFC 6901 unescaping in one left-to-right pass, as strings.NewReplacer("~1", "/", "~0", "~"). */
static char *decode_key(const char *s, size_t n)
{
    char *out = ck_xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '~' && i + 1 < n && (s[i + 1] == '1' || s[i + 1] == '0')) {
            *o++ = s[i + 1] == '1' ? '/' : '~';
            i++;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* A copy of v without its member name (cJSON_Duplicate copies the name). */
static cJSON *dup_value(const cJSON *v)
{
    cJSON *c = ck_json_dup(v);
    if (c && c->string && !(c->type & cJSON_StringIsConst))
        cJSON_free(c->string);
    if (c)
        c->string = NULL;
    return c;
}

static bool is_nil(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

/* ---- containers: a JSON object or array of the document ---- */

/* The element at key (object member or array index); NULL for a missing member (no error, as
 * evanphx's partialDoc.get). Array indices may be negative. */
static int con_get(cJSON *con, const char *key, cJSON **val, struct jp_fail *f)
{
    *val = NULL;
    if (cJSON_IsObject(con)) {
        *val = cJSON_GetObjectItemCaseSensitive(con, key);
        return 0;
    }
    long long idx;
    int rc = go_atoi(key, &idx, f);
    if (rc < 0)
        return rc;
    long long len = cJSON_GetArraySize(con);
    if (idx < 0) {
        if (idx < -len)
            return failf(f, "Unable to access invalid index: %lld: invalid index referenced", idx);
        idx += len;
    }
    if (idx >= len)
        return failf(f, "Unable to access invalid index: %lld: invalid index referenced", idx);
    *val = cJSON_GetArrayItem(con, (int)idx);
    return 0;
}

/* Inserts item before position idx (< size) of arr. cJSON_InsertItemInArray is not used: the
 * cJSON of Debian 12 refuses some inserts. */
static void array_insert(cJSON *arr, int idx, cJSON *item)
{
    cJSON *after = cJSON_GetArrayItem(arr, idx);
    if (!after) {
        cJSON_AddItemToArray(arr, item);
        return;
    }
    item->next = after;
    item->prev = after->prev; /* for the head: the last element, as cJSON keeps it */
    if (after == arr->child)
        arr->child = item;
    else
        after->prev->next = item;
    after->prev = item;
}

static void obj_put(cJSON *obj, const char *key, cJSON *val)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
    else
        cJSON_AddItemToObject(obj, key, val);
}

/* Adds val (owned; freed on failure) at key: object members are set, array elements inserted
 * ("-" appends). */
static int con_add(cJSON *con, const char *key, cJSON *val, struct jp_fail *f)
{
    if (cJSON_IsObject(con)) {
        obj_put(con, key, val);
        return 0;
    }
    if (!strcmp(key, "-")) {
        cJSON_AddItemToArray(con, val);
        return 0;
    }
    long long idx;
    if (go_atoi(key, &idx, f) < 0) {
        cJSON_Delete(val);
        return wrapf(f, "value was not a proper array index: '%s'", key);
    }
    long long size = (long long)cJSON_GetArraySize(con) + 1;
    if (idx >= size || idx < -size) {
        cJSON_Delete(val);
        return failf(f, "Unable to access invalid index: %lld: invalid index referenced", idx);
    }
    if (idx < 0)
        idx += size;
    if (idx >= size - 1)
        cJSON_AddItemToArray(con, val);
    else
        array_insert(con, (int)idx, val);
    return 0;
}

/* Replaces the element at key (which con_get found) with val (owned). */
static int con_set(cJSON *con, const char *key, cJSON *val, struct jp_fail *f)
{
    if (cJSON_IsObject(con)) {
        obj_put(con, key, val);
        return 0;
    }
    long long idx;
    if (go_atoi(key, &idx, f) < 0) {
        cJSON_Delete(val);
        return -EINVAL;
    }
    long long len = cJSON_GetArraySize(con);
    if (idx < 0) {
        if (idx < -len) {
            cJSON_Delete(val);
            return failf(f, "Unable to access invalid index: %lld: invalid index referenced", idx);
        }
        idx += len;
    }
    if (idx >= len) {
        cJSON_Delete(val);
        return failf(f, "Unable to access invalid index: %lld: invalid index referenced", idx);
    }
    cJSON_ReplaceItemInArray(con, (int)idx, val);
    return 0;
}

static int con_remove(cJSON *con, const char *key, struct jp_fail *f)
{
    if (cJSON_IsObject(con)) {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(con, key);
        if (!m)
            return failf(f, "Unable to remove nonexistent key: %s: missing value", key);
        cJSON_Delete(cJSON_DetachItemViaPointer(con, m));
        return 0;
    }
    long long idx;
    if (go_atoi(key, &idx, f) < 0)
        return -EINVAL;
    long long len = cJSON_GetArraySize(con);
    if (idx >= len)
        return failf(f, "Unable to access invalid index: %lld: invalid index referenced", idx);
    if (idx < 0) {
        if (idx < -len)
            return failf(f, "Unable to access invalid index: %lld: invalid index referenced", idx);
        idx += len;
    }
    cJSON_DeleteItemFromArray(con, (int)idx);
    return 0;
}

/* evanphx's findObject: the container holding the pointer's last segment, and that segment
 * decoded (into *key, caller frees); NULL when the pointer has no "/" or a step on the way is
 * missing, null or not a container. */
static cJSON *find_object(cJSON *root, const char *path, char **key)
{
    *key = NULL;
    const char *slash = strchr(path, '/');
    if (!slash)
        return NULL;
    cJSON *doc = root;
    const char *seg = slash + 1;
    for (;;) {
        const char *end = strchr(seg, '/');
        if (!end)
            break;
        CK_AUTOFREE char *part = decode_key(seg, (size_t)(end - seg));
        struct jp_fail ignore = {CK_BUF_INIT};
        cJSON *next = NULL;
        int rc = con_get(doc, part, &next, &ignore);
        ck_buf_free(&ignore.msg);
        if (rc < 0 || is_nil(next) || !(cJSON_IsObject(next) || cJSON_IsArray(next)))
            return NULL;
        doc = next;
        seg = end + 1;
    }
    *key = decode_key(seg, strlen(seg));
    return doc;
}

/* ---- reading an operation ---- */

/* Reads the string member `field` ("path"/"from") the way evanphx's Operation.Path/From do;
 * on failure f holds the reason ("operation missing path field: missing value", or Go's
 * decoding error for a non-string). */
static int op_string(const cJSON *op, const char *field, const char **s, struct jp_fail *f)
{
    *s = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, field);
    if (is_nil(v)) {
        if (!strcmp(field, "path"))
            return failf(f, "operation missing path field: missing value");
        return failf(f, "operation, missing from field: missing value");
    }
    if (!cJSON_IsString(v))
        return failf(f, "json: cannot unmarshal %s into Go value of type string",
                     cJSON_IsNumber(v)  ? "number"
                     : cJSON_IsBool(v)  ? "bool"
                     : cJSON_IsArray(v) ? "array"
                                        : "object");
    *s = v->valuestring;
    return 0;
}

/* The operation's value: *has = false when the member is absent; a JSON null is "present but
 * null" (evanphx keeps a node whose raw text is nil). Returns a copy (caller owns) or NULL. */
static cJSON *op_value(const cJSON *op, bool *has)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, "value");
    *has = v != NULL;
    return v ? dup_value(v) : cJSON_CreateNull();
}

/* ---- the operations ---- */

static int op_add(cJSON **root, const cJSON *op, struct jp_fail *f)
{
    const char *path;
    if (op_string(op, "path", &path, f) < 0)
        return failf(f, "add operation failed to decode path: missing value");
    CK_AUTOFREE char *key = NULL;
    cJSON *con = find_object(*root, path, &key);
    if (!con)
        return failf(f, "add operation does not apply: doc is missing path: \"%s\": missing value",
                     path);
    bool has;
    if (con_add(con, key, op_value(op, &has), f) < 0)
        return wrapf(f, "error in add for path: '%s'", path);
    return 0;
}

static int op_remove(cJSON **root, const cJSON *op, struct jp_fail *f)
{
    const char *path;
    if (op_string(op, "path", &path, f) < 0)
        return failf(f, "remove operation failed to decode path: missing value");
    CK_AUTOFREE char *key = NULL;
    cJSON *con = find_object(*root, path, &key);
    if (!con)
        return failf(
            f, "remove operation does not apply: doc is missing path: \"%s\": missing value", path);
    if (con_remove(con, key, f) < 0)
        return wrapf(f, "error in remove for path: '%s'", path);
    return 0;
}

static int op_replace(cJSON **root, const cJSON *op, struct jp_fail *f)
{
    const char *path;
    if (op_string(op, "path", &path, f) < 0)
        return wrapf(f, "replace operation failed to decode path");
    if (!*path) {
        /* the whole document; the value must be an object or an array */
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, "value");
        if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
            return failf(f, "replace operation value must be object or array: %%!w(<nil>)");
        cJSON_Delete(*root);
        *root = dup_value(v);
        return 0;
    }
    CK_AUTOFREE char *key = NULL;
    cJSON *con = find_object(*root, path, &key);
    if (!con)
        return failf(f, "replace operation does not apply: doc is missing path: %s: missing value",
                     path);
    cJSON *cur;
    if (con_get(con, key, &cur, f) < 0)
        return failf(f, "replace operation does not apply: doc is missing key: %s: missing value",
                     path);
    bool has;
    if (con_set(con, key, op_value(op, &has), f) < 0)
        return wrapf(f, "error in remove for path: '%s'", path);
    return 0;
}

static int op_move(cJSON **root, const cJSON *op, struct jp_fail *f)
{
    const char *from, *path;
    if (op_string(op, "from", &from, f) < 0)
        return wrapf(f, "move operation failed to decode from");
    CK_AUTOFREE char *key = NULL;
    cJSON *con = find_object(*root, from, &key);
    if (!con)
        return failf(
            f, "move operation does not apply: doc is missing from path: %s: missing value", from);
    cJSON *val;
    if (con_get(con, key, &val, f) < 0)
        return wrapf(f, "error in move for path: '%s'", key);
    cJSON *moved = val ? dup_value(val) : cJSON_CreateNull();
    if (con_remove(con, key, f) < 0) {
        cJSON_Delete(moved);
        return wrapf(f, "error in move for path: '%s'", key);
    }
    if (op_string(op, "path", &path, f) < 0) {
        cJSON_Delete(moved);
        return wrapf(f, "move operation failed to decode path");
    }
    CK_AUTOFREE char *dkey = NULL;
    con = find_object(*root, path, &dkey);
    if (!con) {
        cJSON_Delete(moved);
        return failf(f,
                     "move operation does not apply: doc is missing destination path: %s: missing "
                     "value",
                     path);
    }
    if (con_add(con, dkey, moved, f) < 0)
        return wrapf(f, "error in move for path: '%s'", path);
    return 0;
}

static int op_test(cJSON **root, const cJSON *op, struct jp_fail *f)
{
    const char *path;
    if (op_string(op, "path", &path, f) < 0)
        return wrapf(f, "test operation failed to decode path");
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(op, "value");
    if (!*path) {
        if (want && ck_json_equal(*root, want))
            return 0;
        return failf(f, "testing value %s failed: test failed", path);
    }
    CK_AUTOFREE char *key = NULL;
    cJSON *con = find_object(*root, path, &key);
    if (!con)
        return failf(f, "test operation does not apply: is missing path: %s: missing value", path);
    cJSON *val;
    if (con_get(con, key, &val, f) < 0)
        return wrapf(f, "error in test for path: '%s'", path);
    if (is_nil(val)) {
        if (is_nil(want))
            return 0;
        return failf(f, "testing value %s failed: test failed", path);
    }
    if (!is_nil(want) && ck_json_equal(val, want))
        return 0;
    return failf(f, "testing value %s failed: test failed", path);
}

static int op_copy(cJSON **root, const cJSON *op, long long *copied, struct jp_fail *f)
{
    const char *from, *path;
    if (op_string(op, "from", &from, f) < 0)
        return wrapf(f, "copy operation failed to decode from");
    CK_AUTOFREE char *key = NULL;
    cJSON *con = find_object(*root, from, &key);
    if (!con)
        return failf(
            f, "copy operation does not apply: doc is missing from path: %s: missing value", from);
    cJSON *val;
    if (con_get(con, key, &val, f) < 0)
        return wrapf(f, "error in copy for from: '%s'", from);
    if (op_string(op, "path", &path, f) < 0)
        return failf(f, "copy operation failed to decode path: missing value");
    CK_AUTOFREE char *dkey = NULL;
    con = find_object(*root, path, &dkey);
    if (!con)
        return failf(f,
                     "copy operation does not apply: doc is missing destination path: %s: missing "
                     "value",
                     path);
    if (val) {
        CK_AUTOFREE char *text = ck_json_print(val, 0);
        *copied += text ? (long long)strlen(text) : 0;
        if (*copied > PATCH_MAX_COPY_BYTES)
            return failf(f,
                         "Unable to complete the copy, the accumulated size increase of copy is "
                         "%lld, exceeding the limit %lld",
                         *copied, PATCH_MAX_COPY_BYTES);
    }
    if (con_add(con, dkey, val ? dup_value(val) : cJSON_CreateNull(), f) < 0)
        return wrapf(f, "error while adding value during copy");
    return 0;
}

static const char *go_kind_of(const cJSON *v)
{
    if (cJSON_IsArray(v))
        return "array";
    if (cJSON_IsString(v))
        return "string";
    if (cJSON_IsNumber(v))
        return "number";
    if (cJSON_IsBool(v))
        return "bool";
    return "object";
}

int patch_json(const cJSON *target, const cJSON *ops, cJSON **out, struct ck_error *err)
{
    *out = NULL;
    if (ops && !cJSON_IsNull(ops) && !cJSON_IsArray(ops)) {
        CK_AUTOFREE char *m = ck_xasprintf(
            "json: cannot unmarshal %s into Go value of type jsonpatch.Patch", go_kind_of(ops));
        return patch_err_bad_request(err, m);
    }
    const cJSON *op;
    int count = 0;
    cJSON_ArrayForEach(op, ops)
    {
        if (!cJSON_IsObject(op) && !cJSON_IsNull(op)) {
            CK_AUTOFREE char *m =
                ck_xasprintf("json: cannot unmarshal %s into Go value of type jsonpatch.Operation",
                             go_kind_of(op));
            return patch_err_bad_request(err, m);
        }
        count++;
    }
    if (count > PATCH_MAX_JSON_OPERATIONS)
        return ck_error_set(err, 413, CK_REASON_TOO_LARGE,
                            "Request entity too large: The allowed maximum operations in a JSON "
                            "patch is %d, got %d",
                            PATCH_MAX_JSON_OPERATIONS, count);
    if (!cJSON_IsObject(target) && !cJSON_IsArray(target))
        return patch_err_internal(err, "json: cannot unmarshal document");

    cJSON *doc = ck_json_dup(target);
    struct jp_fail f = {CK_BUF_INIT};
    long long copied = 0;
    int rc = 0;
    cJSON_ArrayForEach(op, ops)
    {
        const cJSON *kindv = cJSON_GetObjectItemCaseSensitive(op, "op");
        const char *kind = cJSON_IsString(kindv) ? kindv->valuestring : "unknown";
        if (!strcmp(kind, "add"))
            rc = op_add(&doc, op, &f);
        else if (!strcmp(kind, "remove"))
            rc = op_remove(&doc, op, &f);
        else if (!strcmp(kind, "replace"))
            rc = op_replace(&doc, op, &f);
        else if (!strcmp(kind, "move"))
            rc = op_move(&doc, op, &f);
        else if (!strcmp(kind, "test"))
            rc = op_test(&doc, op, &f);
        else if (!strcmp(kind, "copy"))
            rc = op_copy(&doc, op, &copied, &f);
        else
            rc = failf(&f, "Unexpected kind: %s", kind);
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        rc = patch_err_invalid(err, ck_buf_str(&f.msg));
        cJSON_Delete(doc);
    } else {
        *out = doc;
    }
    ck_buf_free(&f.msg);
    return rc;
}
