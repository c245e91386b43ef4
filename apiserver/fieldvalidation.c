/* fieldvalidation.c - unknown and duplicate fields against the schema (see fieldvalidation.h). */
#include "fieldvalidation.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "apiserver/openapi/schema.h"
#include "apiserver/registry/fielderr.h"
#include "buf.h"
#include "httpd.h"
#include "mem.h"

#define FV_MAX_DEPTH 100

int fv_parse_directive(const char *param, const char *options_kind, enum fv_directive *out,
                       struct ck_error *err)
{
    *out = FV_WARN;
    if (!param || !param[0] || !strcmp(param, "Warn"))
        return 0;
    if (!strcmp(param, "Strict")) {
        *out = FV_STRICT;
        return 0;
    }
    if (!strcmp(param, "Ignore")) {
        *out = FV_IGNORE;
        return 0;
    }
    static const char *const SUPPORTED[] = {"", "Ignore", "Strict", "Warn", NULL};
    struct field_errors fe = FIELD_ERRORS_INIT;
    fe_not_supported(&fe, "fieldValidation", param, SUPPORTED);
    int rc = fe_to_error(&fe, "meta.k8s.io", options_kind, "", err);
    field_errors_free(&fe);
    return rc;
}

/* schema_describe with a per-thread direct-mapped cache for the built-in document (immutable,
 * so node addresses are stable keys): following references by name dominates the walk. */
#define DESCRIBE_CACHE_SIZE 1024
static __thread struct {
    const cJSON *node;
    int rc;
    struct schema_field sf;
} describe_cache[DESCRIBE_CACHE_SIZE];

static int describe(const struct schema_doc *doc, const cJSON *node, struct schema_field *out)
{
    if (doc != schema_builtin() || !node)
        return schema_describe(doc, node, out);
    size_t h = ((uintptr_t)node >> 4) % DESCRIBE_CACHE_SIZE;
    if (describe_cache[h].node != node) {
        describe_cache[h].rc = schema_describe(doc, node, &describe_cache[h].sf);
        describe_cache[h].node = node;
    }
    *out = describe_cache[h].sf;
    return describe_cache[h].rc;
}

static void path_add(struct ck_buf *p, const char *name)
{
    if (p->len)
        ck_buf_putc(p, '.');
    ck_buf_puts(p, name);
}

/* Appends the messages for raw (duplicates kept) at path. */
static void walk(const struct schema_doc *doc, const cJSON *schema, const cJSON *raw,
                 struct ck_buf *path, struct ck_errlist *out, int depth)
{
    struct schema_field sf;
    if (depth > FV_MAX_DEPTH || !schema || describe(doc, schema, &sf) < 0)
        return;
    size_t keep = path->len;
    if (cJSON_IsArray(raw) && sf.items) {
        int i = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, raw)
        {
            ck_buf_printf(path, "[%d]", i);
            walk(doc, sf.items, it, path, out, depth + 1);
            ck_buf_truncate(path, keep);
            i++;
        }
        return;
    }
    if (!cJSON_IsObject(raw))
        return;
    bool strct = cJSON_IsObject(sf.properties) && sf.properties->child;
    if (!strct && !sf.additional)
        return; /* free-form object: anything goes */
    const cJSON *c;
    cJSON_ArrayForEach(c, raw)
    {
        bool dup = false;
        for (const cJSON *b = raw->child; b != c; b = b->next)
            if (!strcmp(b->string, c->string)) {
                dup = true;
                break;
            }
        path_add(path, c->string);
        const cJSON *sub =
            strct ? cJSON_GetObjectItemCaseSensitive(sf.properties, c->string) : sf.additional;
        if (dup) {
            ck_errlist_add(out, "duplicate field \"%s\"", path->data);
        } else if (!sub) {
            ck_errlist_add(out, "unknown field \"%s\"", path->data);
        } else {
            walk(doc, sub, c, path, out, depth + 1);
        }
        ck_buf_truncate(path, keep);
    }
}

/* Drops unknown fields from obj (walked on its own, after the messages came from raw). */
static void prune(const struct schema_doc *doc, const cJSON *schema, cJSON *obj, int depth)
{
    struct schema_field sf;
    if (depth > FV_MAX_DEPTH || !schema || !obj || describe(doc, schema, &sf) < 0)
        return;
    cJSON *c;
    if (cJSON_IsArray(obj)) {
        cJSON_ArrayForEach(c, obj) prune(doc, sf.items, c, depth + 1);
        return;
    }
    if (!cJSON_IsObject(obj))
        return;
    bool strct = cJSON_IsObject(sf.properties) && sf.properties->child;
    if (!strct && !sf.additional)
        return;
    c = obj->child;
    while (c) {
        cJSON *next = c->next;
        const cJSON *sub =
            strct ? cJSON_GetObjectItemCaseSensitive(sf.properties, c->string) : sf.additional;
        if (!sub)
            cJSON_Delete(cJSON_DetachItemViaPointer(obj, c));
        else
            prune(doc, sub, c, depth + 1);
        c = next;
    }
}

void fv_check(const struct schema_doc *doc, const cJSON *def, const cJSON *raw, cJSON *obj,
              struct ck_errlist *out)
{
    if (!doc || !def)
        return;
    struct ck_buf path = CK_BUF_INIT;
    ck_buf_puts(&path, "");
    walk(doc, def, raw ? raw : obj, &path, out, 0);
    ck_buf_free(&path);
    prune(doc, def, obj, 0);
}

int fv_report(struct ck_http_req *req, enum fv_directive d, const struct ck_errlist *errs,
              const char *prefix, struct ck_error *err)
{
    if (!errs->n || d == FV_IGNORE)
        return 0;
    if (d == FV_STRICT) {
        CK_AUTOFREE char *all = ck_errlist_join(errs, ", ");
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%sstrict decoding error: %s",
                            prefix ? prefix : "", all);
    }
    for (size_t i = 0; i < errs->n; i++) {
        struct ck_buf b = CK_BUF_INIT;
        ck_buf_puts(&b, "299 - \"");
        for (const char *p = errs->items[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                ck_buf_putc(&b, '\\');
            ck_buf_putc(&b, *p);
        }
        ck_buf_putc(&b, '"');
        if (req)
            ck_http_add_header(req, "Warning", b.data);
        ck_buf_free(&b);
    }
    return 0;
}
