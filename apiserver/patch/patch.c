/* patch.c - PATCH dispatch by Content-Type, JSON merge patch (RFC 7386), and the helpers the
 * patch implementations share (Go-style value printing for upstream's messages, the error
 * shapes of upstream's patch handler, a string index). See patch.h. */
#include "patch.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/openapi/schema.h"
#include "json.h"
#include "mem.h"
#include "patch_internal.h"

/* ---- Go-style printing of decoded JSON values ---- */

/* Go's strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent form when the decimal
 * exponent is below -4 or at least 6 (eprec 6 for the shortest precision). */
static void go_float_g(struct ck_buf *b, double d)
{
    if (isnan(d)) {
        ck_buf_puts(b, "NaN");
        return;
    }
    if (isinf(d)) {
        ck_buf_puts(b, d > 0 ? "+Inf" : "-Inf");
        return;
    }
    char tmp[64];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    snprintf(tmp, sizeof(tmp), "%.*e", prec, d);
    /* tmp = [-]D[.DDD]e(+|-)XX */
    char *e = strchr(tmp, 'e');
    if (!e) {
        ck_buf_puts(b, tmp);
        return;
    }
    int exp = atoi(e + 1);
    *e = '\0';
    const char *m = tmp;
    bool neg = *m == '-';
    if (neg)
        m++;
    char digits[40];
    size_t nd = 0;
    for (const char *p = m; *p && nd < sizeof(digits) - 1; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    digits[nd] = '\0';
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = '\0';
    if (neg)
        ck_buf_putc(b, '-');
    if (exp < -4 || exp >= 6) {
        ck_buf_putc(b, digits[0]);
        if (nd > 1) {
            ck_buf_putc(b, '.');
            ck_buf_puts(b, digits + 1);
        }
        ck_buf_printf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        return;
    }
    if (exp < 0) {
        ck_buf_puts(b, "0.");
        for (int i = -1; i > exp; i--)
            ck_buf_putc(b, '0');
        ck_buf_puts(b, digits);
        return;
    }
    for (int i = 0; i <= exp; i++)
        ck_buf_putc(b, (size_t)i < nd ? digits[i] : '0');
    if ((size_t)exp + 1 < nd) {
        ck_buf_putc(b, '.');
        ck_buf_puts(b, digits + exp + 1);
    }
}

static bool is_int64_number(const cJSON *v, int64_t *out)
{
    return cJSON_IsNumber(v) && ck_json_to_int64(v, out) == 0;
}

static void gofmt_rec(struct ck_buf *b, const cJSON *v, int depth);

static int key_cmp(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

static void gofmt_rec(struct ck_buf *b, const cJSON *v, int depth)
{
    int64_t i;
    if (depth > PATCH_MAX_DEPTH) {
        ck_buf_puts(b, "...");
        return;
    }
    if (!v || cJSON_IsNull(v)) {
        ck_buf_puts(b, "<nil>");
    } else if (cJSON_IsTrue(v)) {
        ck_buf_puts(b, "true");
    } else if (cJSON_IsFalse(v)) {
        ck_buf_puts(b, "false");
    } else if (cJSON_IsString(v)) {
        ck_buf_puts(b, v->valuestring);
    } else if (is_int64_number(v, &i)) {
        ck_buf_printf(b, "%lld", (long long)i);
    } else if (cJSON_IsNumber(v)) {
        go_float_g(b, v->valuedouble);
    } else if (cJSON_IsArray(v)) {
        ck_buf_putc(b, '[');
        const cJSON *e;
        bool first = true;
        cJSON_ArrayForEach(e, v)
        {
            if (!first)
                ck_buf_putc(b, ' ');
            first = false;
            gofmt_rec(b, e, depth + 1);
        }
        ck_buf_putc(b, ']');
    } else if (cJSON_IsObject(v)) {
        size_t n = (size_t)cJSON_GetArraySize(v), k = 0;
        const cJSON **members = ck_xcalloc(n ? n : 1, sizeof(*members));
        const cJSON *e;
        cJSON_ArrayForEach(e, v) members[k++] = e;
        qsort(members, k, sizeof(*members), key_cmp);
        ck_buf_puts(b, "map[");
        for (size_t j = 0; j < k; j++) {
            if (j)
                ck_buf_putc(b, ' ');
            ck_buf_printf(b, "%s:", members[j]->string);
            gofmt_rec(b, members[j], depth + 1);
        }
        ck_buf_putc(b, ']');
        free(members);
    } else {
        ck_buf_puts(b, "<nil>");
    }
}

void patch_gofmt(struct ck_buf *b, const cJSON *v)
{
    gofmt_rec(b, v, 0);
}

const char *patch_gotype(const cJSON *v)
{
    int64_t i;
    if (!v || cJSON_IsNull(v))
        return "%!s(<nil>)";
    if (cJSON_IsBool(v))
        return "bool";
    if (cJSON_IsString(v))
        return "string";
    if (is_int64_number(v, &i))
        return "int64";
    if (cJSON_IsNumber(v))
        return "float64";
    if (cJSON_IsArray(v))
        return "[]interface {}";
    return "map[string]interface {}";
}

void patch_gofmt_s(struct ck_buf *b, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        ck_buf_puts(b, v->valuestring);
    } else if (!v || cJSON_IsNull(v)) {
        ck_buf_puts(b, "%!s(<nil>)");
    } else {
        ck_buf_printf(b, "%%!s(%s=", patch_gotype(v));
        patch_gofmt(b, v);
        ck_buf_putc(b, ')');
    }
}

/* ---- errors ---- */

int patch_err_bad_request(struct ck_error *err, const char *msg)
{
    return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", msg);
}

int patch_err_invalid(struct ck_error *err, const char *msg)
{
    /* upstream: errors.NewGenericServerResponse(422, "", GroupResource{}, "", msg, 0, false) */
    int rc = ck_error_set(err, 422, CK_REASON_INVALID,
                          "the server rejected our request due to an error in our request");
    if (err) {
        cJSON *details = cJSON_CreateObject();
        cJSON *causes = cJSON_AddArrayToObject(details, "causes");
        cJSON *cause = cJSON_CreateObject();
        cJSON_AddStringToObject(cause, "reason", "UnexpectedServerResponse");
        cJSON_AddStringToObject(cause, "message", msg);
        cJSON_AddItemToArray(causes, cause);
        ck_error_set_details(err, details);
    }
    return rc;
}

int patch_err_internal(struct ck_error *err, const char *msg)
{
    return ck_error_set(err, 500, "", "%s", msg);
}

/* ---- string index ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void patch_keyidx_init(struct patch_keyidx *k, size_t expect)
{
    size_t cap = 16;
    while (cap < expect * 2 + 1)
        cap *= 2;
    k->cap = cap;
    k->n = 0;
    k->keys = ck_xcalloc(cap, sizeof(*k->keys));
    k->vals = ck_xcalloc(cap, sizeof(*k->vals));
}

static void keyidx_grow(struct patch_keyidx *k)
{
    struct patch_keyidx bigger;
    patch_keyidx_init(&bigger, k->cap);
    for (size_t i = 0; i < k->cap; i++) {
        if (!k->keys[i])
            continue;
        size_t j = hash_str(k->keys[i]) & (bigger.cap - 1);
        while (bigger.keys[j])
            j = (j + 1) & (bigger.cap - 1);
        bigger.keys[j] = k->keys[i];
        bigger.vals[j] = k->vals[i];
        bigger.n++;
    }
    free(k->keys);
    free(k->vals);
    *k = bigger;
}

bool patch_keyidx_put(struct patch_keyidx *k, const char *key, size_t val)
{
    if ((k->n + 1) * 2 > k->cap)
        keyidx_grow(k);
    size_t j = hash_str(key) & (k->cap - 1);
    while (k->keys[j]) {
        if (!strcmp(k->keys[j], key))
            return false;
        j = (j + 1) & (k->cap - 1);
    }
    k->keys[j] = ck_xstrdup(key);
    k->vals[j] = val;
    k->n++;
    return true;
}

bool patch_keyidx_get(const struct patch_keyidx *k, const char *key, size_t *val)
{
    if (!k->cap)
        return false;
    size_t j = hash_str(key) & (k->cap - 1);
    while (k->keys[j]) {
        if (!strcmp(k->keys[j], key)) {
            if (val)
                *val = k->vals[j];
            return true;
        }
        j = (j + 1) & (k->cap - 1);
    }
    return false;
}

void patch_keyidx_free(struct patch_keyidx *k)
{
    for (size_t i = 0; i < k->cap; i++)
        free(k->keys[i]);
    free(k->keys);
    free(k->vals);
    memset(k, 0, sizeof(*k));
}

char *patch_value_key(const cJSON *v)
{
    if (!v)
        return ck_xstrdup("<absent>");
    char *s = ck_json_canonical(v);
    return s ? s : ck_xstrdup("<deep>");
}

/* ---- JSON merge patch (RFC 7386), as evanphx/json-patch's MergePatch ---- */

/* Drops null members of objects, recursively; arrays keep their null elements but objects in
 * them lose theirs (evanphx's pruneNulls). */
static void prune_nulls(cJSON *n, int depth)
{
    if (depth > PATCH_MAX_DEPTH)
        return;
    if (cJSON_IsObject(n)) {
        cJSON *m = n->child;
        while (m) {
            cJSON *next = m->next;
            if (cJSON_IsNull(m))
                cJSON_Delete(cJSON_DetachItemViaPointer(n, m));
            else
                prune_nulls(m, depth + 1);
            m = next;
        }
    } else if (cJSON_IsArray(n)) {
        cJSON *e;
        cJSON_ArrayForEach(e, n) prune_nulls(e, depth + 1);
    }
}

static void merge_docs(cJSON *doc, cJSON *patch, int depth);

/* Merges patch into cur; both owned, the result is owned by the caller. */
static cJSON *merge_value(cJSON *cur, cJSON *patch, int depth)
{
    if (!cJSON_IsObject(cur)) {
        prune_nulls(patch, depth);
        cJSON_Delete(cur);
        return patch;
    }
    if (!cJSON_IsObject(patch)) {
        cJSON_Delete(cur);
        return patch;
    }
    merge_docs(cur, patch, depth);
    cJSON_Delete(patch);
    return cur;
}

static void put_member(cJSON *obj, const char *key, cJSON *item)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
    else
        cJSON_AddItemToObject(obj, key, item);
}

static void merge_docs(cJSON *doc, cJSON *patch, int depth)
{
    if (depth > PATCH_MAX_DEPTH)
        return;
    while (patch->child) {
        cJSON *p = cJSON_DetachItemViaPointer(patch, patch->child);
        CK_AUTOFREE char *key = ck_xstrdup(p->string ? p->string : "");
        if (cJSON_IsNull(p)) {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, key);
            cJSON_Delete(p);
            continue;
        }
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(doc, key);
        if (!cur || cJSON_IsNull(cur)) {
            prune_nulls(p, depth + 1);
            put_member(doc, key, p);
            continue;
        }
        cur = cJSON_DetachItemViaPointer(doc, cur);
        put_member(doc, key, merge_value(cur, p, depth + 1));
    }
}

int patch_merge(const cJSON *target, const cJSON *patch, cJSON **out, struct ck_error *err)
{
    *out = NULL;
    if (!patch || cJSON_IsNull(patch))
        return patch_err_bad_request(err, "Invalid JSON Patch");
    if (!target || cJSON_IsNull(target))
        return patch_err_internal(err, "Invalid JSON Document");
    if (!cJSON_IsObject(patch)) {
        if (!cJSON_IsArray(patch))
            return patch_err_bad_request(err, "Invalid JSON Patch");
        cJSON *p = ck_json_dup(patch);
        prune_nulls(p, 0);
        *out = p;
        return 0;
    }
    cJSON *p = ck_json_dup(patch);
    if (!cJSON_IsObject(target)) {
        prune_nulls(p, 0);
        *out = p;
        return 0;
    }
    cJSON *doc = ck_json_dup(target);
    merge_docs(doc, p, 0);
    cJSON_Delete(p);
    *out = doc;
    return 0;
}

/* ---- dispatch ---- */

enum patch_type patch_type_of(const char *content_type)
{
    if (!content_type)
        return PATCH_UNKNOWN;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    size_t n = strcspn(content_type, ";");
    while (n && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
        n--;
    static const struct {
        const char *name;
        enum patch_type type;
    } types[] = {
        {"application/json-patch+json", PATCH_JSON},
        {"application/merge-patch+json", PATCH_MERGE},
        {"application/strategic-merge-patch+json", PATCH_STRATEGIC},
        {"application/apply-patch+yaml", PATCH_APPLY},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(types); i++)
        if (strlen(types[i].name) == n && !strncmp(content_type, types[i].name, n))
            return types[i].type;
    return PATCH_UNKNOWN;
}

static int unsupported(struct ck_error *err, bool strategic)
{
    return ck_error_set(err, 415, CK_REASON_UNSUPPORTED_MEDIA,
                        "the body of the request was in an unknown format - accepted media types "
                        "include: application/json-patch+json, application/merge-patch+json%s",
                        strategic ? ", application/strategic-merge-patch+json" : "");
}

static const char *go_json_kind(const cJSON *v)
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

/* A patch result the apiserver cannot decode as an object: upstream's
 * NewInvalid(GroupKind{}, "", [Invalid(patch, <json>, <decode error>)]). */
static int not_an_object(const cJSON *result, struct ck_error *err)
{
    CK_AUTOFREE char *json = ck_json_print(result, CK_JSON_NO_HTML_ESCAPE);
    cJSON *js = cJSON_CreateString(json ? json : "null");
    CK_AUTOFREE char *quoted = ck_json_print(js, CK_JSON_NO_HTML_ESCAPE);
    cJSON_Delete(js);
    CK_AUTOFREE char *detail = NULL;
    if (cJSON_IsNull(result))
        detail = ck_xstrdup("Object 'Kind' is missing in 'null'");
    else
        detail = ck_xasprintf(
            "couldn't get version/kind; json parse error: json: cannot unmarshal %s into Go value "
            "of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string "
            "\"json:\\\"kind,omitempty\\\"\" }",
            go_json_kind(result));
    int rc = ck_error_set(err, 422, CK_REASON_INVALID,
                          " \"\" is invalid: patch: Invalid value: %s: %s", quoted, detail);
    if (err) {
        cJSON *details = cJSON_CreateObject();
        cJSON *causes = cJSON_AddArrayToObject(details, "causes");
        cJSON *cause = cJSON_CreateObject();
        cJSON_AddStringToObject(cause, "reason", "FieldValueInvalid");
        CK_AUTOFREE char *m = ck_xasprintf("Invalid value: %s: %s", quoted, detail);
        cJSON_AddStringToObject(cause, "message", m);
        cJSON_AddStringToObject(cause, "field", "patch");
        cJSON_AddItemToArray(causes, cause);
        ck_error_set_details(err, details);
    }
    return rc;
}

int patch_apply(const char *content_type, const cJSON *target, const cJSON *patch,
                const char *group, const char *version, const char *kind, cJSON **out,
                struct ck_error *err)
{
    *out = NULL;
    int rc;
    switch (patch_type_of(content_type)) {
    case PATCH_JSON:
        rc = patch_json(target, patch, out, err);
        break;
    case PATCH_MERGE:
        rc = patch_merge(target, patch, out, err);
        break;
    case PATCH_STRATEGIC: {
        const struct schema_doc *doc = schema_builtin();
        const cJSON *def = schema_for_gvk(doc, group, version, kind, NULL);
        if (!def)
            return unsupported(err, false);
        rc = patch_strategic(target, patch, doc, def, out, err);
        break;
    }
    default:
        return unsupported(err, true);
    }
    if (rc < 0)
        return rc;
    if (!cJSON_IsObject(*out)) {
        rc = not_an_object(*out, err);
        cJSON_Delete(*out);
        *out = NULL;
        return rc;
    }
    return 0;
}
