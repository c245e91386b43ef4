/* strategic.c - strategic merge patch as kube-apiserver applies it (apimachinery's
 * StrategicMergeMapPatch with MergeParallelList and IgnoreUnmatchedNulls), with the field
 * metadata read from the OpenAPI schema instead of Go struct tags:
 *
 *  - objects merge key by key; null deletes; a new key takes the patch value without nulls
 *    and without directives;
 *  - lists whose field says x-kubernetes-patch-strategy "merge" merge: lists of objects by the
 *    x-kubernetes-patch-merge-key (containers by name, ports by containerPort, ...), lists of
 *    scalars as a set (finalizers); other lists are replaced;
 *  - directives: {"$patch": "replace"|"delete"} on an object, {"$patch": "delete", <key>} and
 *    {"$patch": "replace"} elements of a merging list, "$retainKeys", "$setElementOrder/<list>",
 *    "$deleteFromPrimitiveList/<list>";
 *  - the order of a merged list: $setElementOrder first, then the patch's order, then the live
 *    list's (upstream's normalizeElementOrder; items only in the patch go before the live
 *    items that follow them).
 *
 * Where a key has no schema (unknown fields kept in storage) the merge is lenient: objects
 * merge without metadata and lists are replaced; upstream, whose objects never hold unknown
 * fields, fails there. Messages and error classes are upstream's (see patch.h).
 *
 * This file holds the object half (mergeMap, the directives, $retainKeys) and the entry point;
 * strategic_list.c holds the lists. Ownership inside both: the merge functions take ownership
 * of the trees they are given ("consume") and return a tree the caller owns, or NULL with the
 * error recorded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/openapi/schema.h"
#include "json.h"
#include "mem.h"
#include "patch.h"
#include "patch_internal.h"

/* ---- errors ---- */

void *smp_fail(struct smp *s, enum smp_err_class cls, const char *fmt, ...)
{
    if (s->failed)
        return NULL;
    struct ck_buf b = CK_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ck_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    int rc = cls == SMP_BAD_REQUEST ? patch_err_bad_request(s->err, ck_buf_str(&b))
             : cls == SMP_INVALID   ? patch_err_invalid(s->err, ck_buf_str(&b))
                                    : patch_err_internal(s->err, ck_buf_str(&b));
    s->failed = rc ? rc : -EINVAL;
    ck_buf_free(&b);
    return NULL;
}

void *smp_fail_no_merge_key(struct smp *s, const cJSON *m, const char *key)
{
    struct ck_buf b = CK_BUF_INIT;
    patch_gofmt(&b, m);
    smp_fail(s, SMP_INTERNAL, "map: %s does not contain declared merge key: %s", ck_buf_str(&b),
             key);
    ck_buf_free(&b);
    return NULL;
}

void *smp_fail_arg_type(struct smp *s, const char *expected, const cJSON *actual)
{
    return smp_fail(s, SMP_INTERNAL, "expected a %s, but received a %s", expected,
                    patch_gotype(actual));
}

/* ---- schema lookups ---- */

static const char *canon_strategy(const char *p, size_t n)
{
    if (n == 5 && !strncmp(p, "merge", 5))
        return "merge";
    if (n == 7 && !strncmp(p, "replace", 7))
        return "replace";
    return n ? "other" : NULL;
}

/* apimachinery's extractRetainKeysPatchStrategy over the comma-separated strategy list. */
static int parse_strategy(struct smp *s, const char *raw, struct smp_meta *m)
{
    m->strategy = NULL;
    m->retain_keys = false;
    if (!raw)
        return 0;
    const char *parts[3] = {NULL, NULL, NULL};
    size_t lens[3] = {0, 0, 0};
    int n = 0;
    for (const char *p = raw;;) {
        const char *comma = strchr(p, ',');
        if (n < 3) {
            parts[n] = p;
            lens[n] = comma ? (size_t)(comma - p) : strlen(p);
        }
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    bool rk0 = lens[0] == 10 && !strncmp(parts[0], "retainKeys", 10);
    if (n == 1) {
        if (rk0)
            m->retain_keys = true;
        else
            m->strategy = canon_strategy(parts[0], lens[0]);
        return 0;
    }
    bool rk1 = n == 2 && lens[1] == 10 && !strncmp(parts[1], "retainKeys", 10);
    if (n == 2 && (rk0 || rk1)) {
        m->retain_keys = true;
        m->strategy = rk0 ? canon_strategy(parts[1], lens[1]) : canon_strategy(parts[0], lens[0]);
        return 0;
    }
    CK_AUTOFREE char *list = ck_xstrdup(raw);
    for (char *p = list; *p; p++)
        if (*p == ',')
            *p = ' ';
    smp_fail(s, SMP_INTERNAL, "unexpected patch strategy: [%s]", list);
    return -EINVAL;
}

int smp_lookup_field(struct smp *s, const cJSON *schema, const char *key, bool slice,
                     const cJSON **sub, struct smp_meta *m)
{
    memset(m, 0, sizeof(*m));
    *sub = NULL;
    if (!schema)
        return 0;
    struct schema_field f;
    if (schema_field(s->doc, schema, key, &f) == 0) {
        if (parse_strategy(s, f.patch_strategy, m) < 0)
            return -EINVAL;
        m->merge_key = f.patch_merge_key;
        *sub = slice ? f.items : f.resolved;
        return 0;
    }
    /* a map (additionalProperties): its values' schema, no metadata */
    struct schema_field self;
    if (schema_describe(s->doc, schema, &self) == 0 && self.additional) {
        if (!slice) {
            *sub = self.additional;
        } else {
            struct schema_field v;
            if (schema_describe(s->doc, self.additional, &v) == 0)
                *sub = v.items;
        }
    }
    return 0;
}

/* ---- value helpers ---- */

static bool has_prefix(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static const char *extract_key(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) || s[n] != '/')
        return NULL;
    return s + n + 1;
}

static void obj_put(cJSON *obj, const char *key, cJSON *val)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
    else
        cJSON_AddItemToObject(obj, key, val);
}

/* Same JSON type, as Go compares reflect types (all numbers count as one type here). */
static bool same_type(const cJSON *a, const cJSON *b)
{
    return (cJSON_IsObject(a) && cJSON_IsObject(b)) || (cJSON_IsArray(a) && cJSON_IsArray(b)) ||
           (cJSON_IsString(a) && cJSON_IsString(b)) || (cJSON_IsNumber(a) && cJSON_IsNumber(b)) ||
           (cJSON_IsBool(a) && cJSON_IsBool(b)) || (cJSON_IsNull(a) && cJSON_IsNull(b));
}

/* Drops null members of objects at any depth (apimachinery's discardNullValuesFromPatch). */
static void discard_nulls(cJSON *v, int depth)
{
    if (depth > PATCH_MAX_DEPTH)
        return;
    if (cJSON_IsObject(v)) {
        cJSON *m = v->child;
        while (m) {
            cJSON *next = m->next;
            if (cJSON_IsNull(m))
                cJSON_Delete(cJSON_DetachItemViaPointer(v, m));
            else
                discard_nulls(m, depth + 1);
            m = next;
        }
    } else if (cJSON_IsArray(v)) {
        cJSON *e;
        cJSON_ArrayForEach(e, v) discard_nulls(e, depth + 1);
    }
}

cJSON *smp_remove_directives(cJSON *v, bool *keep, int depth)
{
    *keep = true;
    if (depth > PATCH_MAX_DEPTH)
        return v;
    if (cJSON_IsObject(v)) {
        if (cJSON_GetObjectItemCaseSensitive(v, SMP_DIRECTIVE)) {
            cJSON_Delete(v);
            *keep = false;
            return NULL;
        }
        cJSON *out = cJSON_CreateObject();
        while (v->child) {
            cJSON *m = cJSON_DetachItemViaPointer(v, v->child);
            CK_AUTOFREE char *key = ck_xstrdup(m->string ? m->string : "");
            bool k;
            cJSON *nv = smp_remove_directives(m, &k, depth + 1);
            if (k)
                cJSON_AddItemToObject(out, key, nv);
        }
        cJSON_Delete(v);
        return out;
    }
    if (cJSON_IsArray(v)) {
        cJSON *out = cJSON_CreateArray();
        while (v->child) {
            cJSON *e = cJSON_DetachItemViaPointer(v, v->child);
            bool k;
            cJSON *nv = smp_remove_directives(e, &k, depth + 1);
            if (k)
                cJSON_AddItemToArray(out, nv);
        }
        cJSON_Delete(v);
        return out;
    }
    return v;
}

/* ---- maps ---- */

/* applyRetainKeysDirective: "$retainKeys" lists the keys the object keeps. */
static int apply_retain_keys(struct smp *s, cJSON *original, cJSON *patch)
{
    cJSON *rk = cJSON_DetachItemFromObjectCaseSensitive(patch, SMP_RETAIN_KEYS);
    if (!rk)
        return 0;
    if (!cJSON_IsArray(rk)) {
        cJSON_Delete(rk);
        smp_fail(s, SMP_BAD_REQUEST, "invalid patch format of retainKeys");
        return -EINVAL;
    }
    struct patch_keyidx keep;
    patch_keyidx_init(&keep, (size_t)cJSON_GetArraySize(rk));
    const cJSON *e;
    cJSON_ArrayForEach(e, rk) if (cJSON_IsString(e)) patch_keyidx_put(&keep, e->valuestring, 0);
    int rc = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, patch)
    {
        if (cJSON_IsNull(m) || has_prefix(m->string, SMP_DELETE_PREFIX) ||
            has_prefix(m->string, SMP_ORDER_PREFIX))
            continue;
        if (!patch_keyidx_get(&keep, m->string, NULL)) {
            smp_fail(s, SMP_BAD_REQUEST, "invalid patch format of retainKeys");
            rc = -EINVAL;
            break;
        }
    }
    if (!rc) {
        cJSON *o = original->child;
        while (o) {
            cJSON *next = o->next;
            if (!patch_keyidx_get(&keep, o->string, NULL))
                cJSON_Delete(cJSON_DetachItemViaPointer(original, o));
            o = next;
        }
    }
    patch_keyidx_free(&keep);
    cJSON_Delete(rk);
    return rc;
}

/* handleDirectiveInMergeMap */
static cJSON *map_directive(struct smp *s, cJSON *original, cJSON *patch, const cJSON *directive)
{
    const char *d = cJSON_IsString(directive) ? directive->valuestring : NULL;
    if (d && !strcmp(d, "replace")) {
        cJSON_DeleteItemFromObjectCaseSensitive(patch, SMP_DIRECTIVE);
        cJSON_Delete(original);
        return patch;
    }
    if (d && !strcmp(d, "delete")) {
        cJSON_Delete(original);
        cJSON_Delete(patch);
        return cJSON_CreateObject();
    }
    struct ck_buf t = CK_BUF_INIT, mb = CK_BUF_INIT;
    patch_gofmt_s(&t, directive);
    patch_gofmt(&mb, patch);
    smp_fail(s, SMP_INTERNAL, "unknown patch type: %s in map: %s", ck_buf_str(&t), ck_buf_str(&mb));
    ck_buf_free(&t);
    ck_buf_free(&mb);
    cJSON_Delete(original);
    cJSON_Delete(patch);
    return NULL;
}

/* One member of the patch (consumed) merged into original. 0 or -EINVAL. */
static int merge_member(struct smp *s, cJSON *original, cJSON *pv, const cJSON *schema, int depth)
{
    CK_AUTOFREE char *k = ck_xstrdup(pv->string ? pv->string : "");
    const char *key = k;
    bool delete_list = false;
    if (has_prefix(k, SMP_DELETE_PREFIX)) {
        key = extract_key(k, SMP_DELETE_PREFIX);
        if (!key) {
            cJSON_Delete(pv);
            smp_fail(s, SMP_BAD_REQUEST, "invalid patch format of primitive list");
            return -EINVAL;
        }
        delete_list = true;
    }
    if (cJSON_IsNull(pv)) {
        cJSON_DeleteItemFromObjectCaseSensitive(original, key);
        cJSON_Delete(pv);
        return 0;
    }
    cJSON *ov = cJSON_GetObjectItemCaseSensitive(original, key);
    if (!ov || !same_type(ov, pv)) {
        /* a new key (or one of another type) takes the patch value, without its nulls and
         * directives; a deletion list for a missing list does nothing */
        if (delete_list) {
            cJSON_Delete(pv);
            return 0;
        }
        discard_nulls(pv, depth);
        bool keep;
        cJSON *nv = smp_remove_directives(pv, &keep, depth);
        if (keep)
            obj_put(original, key, nv);
        else
            cJSON_DeleteItemFromObjectCaseSensitive(original, key);
        return 0;
    }
    const cJSON *sub;
    struct smp_meta meta;
    cJSON *merged;
    if (cJSON_IsObject(pv)) {
        if (smp_lookup_field(s, schema, key, false, &sub, &meta) < 0) {
            cJSON_Delete(pv);
            return -EINVAL;
        }
        cJSON *o = cJSON_DetachItemViaPointer(original, ov);
        if (meta.strategy && !strcmp(meta.strategy, "replace")) {
            cJSON_Delete(o);
            merged = pv;
        } else {
            merged = smp_merge_map(s, o, pv, sub, depth + 1);
        }
    } else if (cJSON_IsArray(pv)) {
        if (smp_lookup_field(s, schema, key, true, &sub, &meta) < 0) {
            cJSON_Delete(pv);
            return -EINVAL;
        }
        cJSON *o = cJSON_DetachItemViaPointer(original, ov);
        merged = smp_merge_list(s, o, pv, sub, &meta, delete_list, depth + 1);
    } else {
        merged = pv;
    }
    if (!merged)
        return -EINVAL;
    obj_put(original, key, merged);
    return 0;
}

cJSON *smp_merge_map(struct smp *s, cJSON *original, cJSON *patch, const cJSON *schema, int depth)
{
    if (depth > PATCH_MAX_DEPTH) {
        cJSON_Delete(original);
        cJSON_Delete(patch);
        return smp_fail(s, SMP_INTERNAL, "patch nesting too deep");
    }
    cJSON *directive = cJSON_GetObjectItemCaseSensitive(patch, SMP_DIRECTIVE);
    if (directive)
        return map_directive(s, original, patch, directive);
    if (!original)
        original = cJSON_CreateObject();
    int rc = apply_retain_keys(s, original, patch);
    if (!rc)
        rc = smp_merge_ordered_lists(s, original, patch, schema, depth);
    while (!rc && patch->child)
        rc = merge_member(s, original, cJSON_DetachItemViaPointer(patch, patch->child), schema,
                          depth);
    cJSON_Delete(patch);
    if (rc) {
        cJSON_Delete(original);
        if (!s->failed)
            smp_fail(s, SMP_INTERNAL, "strategic merge patch failed");
        return NULL;
    }
    return original;
}

int patch_strategic(const cJSON *target, const cJSON *patch, const struct schema_doc *doc,
                    const cJSON *schema, cJSON **out, struct ck_error *err)
{
    *out = NULL;
    if (patch && !cJSON_IsNull(patch) && !cJSON_IsObject(patch)) {
        const char *k = cJSON_IsArray(patch)    ? "array"
                        : cJSON_IsString(patch) ? "string"
                        : cJSON_IsNumber(patch) ? "number"
                                                : "bool";
        CK_AUTOFREE char *m = ck_xasprintf(
            "json: cannot unmarshal %s into Go value of type map[string]interface {}", k);
        return patch_err_bad_request(err, m);
    }
    if (!cJSON_IsObject(target))
        return patch_err_bad_request(err, "invalid JSON document");
    struct smp s = {doc, err, 0};
    const cJSON *root = schema && doc ? schema_resolve(doc, schema) : NULL;
    /* a JSON null patch decodes to an empty map upstream: nothing changes */
    cJSON *p = cJSON_IsObject(patch) ? ck_json_dup(patch) : cJSON_CreateObject();
    cJSON *result = smp_merge_map(&s, ck_json_dup(target), p, root, 0);
    if (!result)
        return s.failed ? s.failed : -EINVAL;
    *out = result;
    return 0;
}
