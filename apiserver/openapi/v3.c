/* v3.c - OpenAPI 3.0 documents per group-version, converted from the v2 (swagger) document the
 * way kube-openapi's v2-to-v3 converter does: schemas keep their names under
 * components.schemas, "#/definitions/X" becomes "#/components/schemas/X", a reference with
 * sibling keywords is wrapped in allOf (OpenAPI 3.0 ignores siblings of $ref), v2 parameters are
 * inlined ("$ref": "#/parameters/..." resolved) with their type moved into a schema, the body
 * parameter becomes requestBody with one content entry per consumed media type, and each
 * response gets one content entry per produced media type. See openapi.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "openapi.h"
#include "schema.h"

#define DEFS_V2 "#/definitions/"
#define DEFS_V3 "#/components/schemas/"
#define MAX_DEPTH 200

static bool str_eq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static const char *member_str(const cJSON *obj, const char *key)
{
    const cJSON *v = member(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- schemas ---- */

static cJSON *conv_schema(const cJSON *s, int depth);

static cJSON *conv_schema_map(const cJSON *m, int depth)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *e;
    cJSON_ArrayForEach(e, m) cJSON_AddItemToObject(out, e->string, conv_schema(e, depth + 1));
    return out;
}

static cJSON *conv_schema_list(const cJSON *l, int depth)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *e;
    cJSON_ArrayForEach(e, l) cJSON_AddItemToArray(out, conv_schema(e, depth + 1));
    return out;
}

static cJSON *conv_ref(const char *ref)
{
    if (!strncmp(ref, DEFS_V2, strlen(DEFS_V2))) {
        CK_AUTOFREE char *r = ck_xasprintf(DEFS_V3 "%s", ref + strlen(DEFS_V2));
        return cJSON_CreateString(r);
    }
    return cJSON_CreateString(ref);
}

static cJSON *conv_schema(const cJSON *s, int depth)
{
    if (!cJSON_IsObject(s) || depth > MAX_DEPTH)
        return ck_json_dup(s);
    cJSON *out = cJSON_CreateObject();
    const cJSON *m;
    cJSON_ArrayForEach(m, s)
    {
        const char *k = m->string;
        cJSON *v;
        if (!strcmp(k, "$ref") && cJSON_IsString(m))
            v = conv_ref(m->valuestring);
        else if ((!strcmp(k, "properties") || !strcmp(k, "patternProperties") ||
                  !strcmp(k, "definitions")) &&
                 cJSON_IsObject(m))
            v = conv_schema_map(m, depth);
        else if (!strcmp(k, "items") && cJSON_IsArray(m))
            v = conv_schema_list(m, depth);
        else if ((!strcmp(k, "items") || !strcmp(k, "additionalProperties") ||
                  !strcmp(k, "additionalItems") || !strcmp(k, "not")) &&
                 cJSON_IsObject(m))
            v = conv_schema(m, depth + 1);
        else if ((!strcmp(k, "allOf") || !strcmp(k, "anyOf") || !strcmp(k, "oneOf")) &&
                 cJSON_IsArray(m))
            v = conv_schema_list(m, depth);
        else
            v = ck_json_dup(m);
        cJSON_AddItemToObject(out, k, v);
    }
    /* a reference with siblings: {"allOf":[{"$ref":...}], <siblings>} */
    cJSON *ref = cJSON_GetObjectItemCaseSensitive(out, "$ref");
    if (cJSON_IsString(ref) && cJSON_GetArraySize(out) > 1) {
        ref = cJSON_DetachItemViaPointer(out, ref);
        cJSON_DeleteItemFromObjectCaseSensitive(out, "allOf");
        cJSON *wrap = cJSON_CreateObject();
        cJSON_AddItemToObject(wrap, "$ref", ref);
        cJSON *all = cJSON_CreateArray();
        cJSON_AddItemToArray(all, wrap);
        cJSON_AddItemToObject(out, "allOf", all);
    }
    return out;
}

cJSON *openapi_v3_schema(const cJSON *v2)
{
    return conv_schema(v2, 0);
}

/* Records the schema names referenced anywhere under node. */
static void collect_refs(const cJSON *node, struct ck_buf *seen_list, cJSON *seen, int depth)
{
    if (depth > MAX_DEPTH || !node)
        return;
    if (cJSON_IsObject(node)) {
        const char *ref = member_str(node, "$ref");
        if (ref && !strncmp(ref, DEFS_V3, strlen(DEFS_V3))) {
            const char *name = ref + strlen(DEFS_V3);
            if (!cJSON_GetObjectItemCaseSensitive(seen, name)) {
                cJSON_AddTrueToObject(seen, name);
                ck_buf_puts(seen_list, name);
                ck_buf_putc(seen_list, '\n');
            }
        }
    }
    if (cJSON_IsObject(node) || cJSON_IsArray(node)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, node) collect_refs(c, seen_list, seen, depth + 1);
    }
}

/* ---- paths ---- */

static const char *status_text(const char *code)
{
    static const struct {
        const char *code, *text;
    } texts[] = {
        {"200", "OK"},          {"201", "Created"},
        {"202", "Accepted"},    {"204", "No Content"},
        {"400", "Bad Request"}, {"401", "Unauthorized"},
        {"403", "Forbidden"},   {"404", "Not Found"},
        {"409", "Conflict"},    {"500", "Internal Server Error"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(texts); i++)
        if (!strcmp(texts[i].code, code))
            return texts[i].text;
    return "";
}

/* A parameter with "$ref": "#/parameters/X" resolved against the document. */
static const cJSON *resolve_param(const cJSON *root, const cJSON *p)
{
    const char *ref = member_str(p, "$ref");
    if (!ref)
        return p;
    const char *prefix = "#/parameters/";
    if (strncmp(ref, prefix, strlen(prefix)))
        return NULL;
    return member(member(root, "parameters"), ref + strlen(prefix));
}

static void copy_member(cJSON *out, const cJSON *in, const char *key)
{
    const cJSON *v = member(in, key);
    if (v)
        cJSON_AddItemToObject(out, key, ck_json_dup(v));
}

static cJSON *conv_param(const cJSON *p)
{
    cJSON *out = cJSON_CreateObject();
    copy_member(out, p, "name");
    copy_member(out, p, "in");
    copy_member(out, p, "description");
    copy_member(out, p, "required");
    const cJSON *schema = member(p, "schema");
    if (schema) {
        cJSON_AddItemToObject(out, "schema", conv_schema(schema, 0));
    } else {
        cJSON *s = cJSON_CreateObject();
        copy_member(s, p, "type");
        copy_member(s, p, "format");
        if (cJSON_IsTrue(member(p, "uniqueItems")))
            cJSON_AddTrueToObject(s, "uniqueItems");
        const cJSON *items = member(p, "items");
        if (items)
            cJSON_AddItemToObject(s, "items", conv_schema(items, 0));
        cJSON_AddItemToObject(out, "schema", s);
    }
    copy_member(out, p, "allowEmptyValue");
    const cJSON *m;
    cJSON_ArrayForEach(m, p) if (!strncmp(m->string, "x-", 2))
        cJSON_AddItemToObject(out, m->string, ck_json_dup(m));
    return out;
}

/* content: {<media type>: {"schema": <schema>}} for each media type listed */
static cJSON *content_for(const cJSON *types, const cJSON *schema)
{
    cJSON *content = cJSON_CreateObject();
    const cJSON *t;
    cJSON_ArrayForEach(t, types)
    {
        if (!cJSON_IsString(t) || cJSON_GetObjectItemCaseSensitive(content, t->valuestring))
            continue;
        cJSON *mt = cJSON_CreateObject();
        cJSON_AddItemToObject(mt, "schema", conv_schema(schema, 0));
        cJSON_AddItemToObject(content, t->valuestring, mt);
    }
    return content;
}

static cJSON *conv_params(const cJSON *root, const cJSON *params, const cJSON *consumes,
                          cJSON **request_body)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *p;
    cJSON_ArrayForEach(p, params)
    {
        const cJSON *rp = resolve_param(root, p);
        if (!rp)
            continue;
        if (str_eq(member_str(rp, "in"), "body")) {
            if (!request_body || *request_body)
                continue;
            cJSON *rb = cJSON_CreateObject();
            copy_member(rb, rp, "description");
            cJSON_AddItemToObject(rb, "content", content_for(consumes, member(rp, "schema")));
            if (cJSON_IsTrue(member(rp, "required")))
                cJSON_AddTrueToObject(rb, "required");
            *request_body = rb;
            continue;
        }
        cJSON_AddItemToArray(out, conv_param(rp));
    }
    return out;
}

static cJSON *conv_responses(const cJSON *responses, const cJSON *produces)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *r;
    cJSON_ArrayForEach(r, responses)
    {
        if (!strncmp(r->string, "x-", 2)) {
            cJSON_AddItemToObject(out, r->string, ck_json_dup(r));
            continue;
        }
        cJSON *o = cJSON_CreateObject();
        const char *ref = member_str(r, "$ref");
        if (ref) {
            const char *prefix = "#/responses/";
            CK_AUTOFREE char *nr =
                !strncmp(ref, prefix, strlen(prefix))
                    ? ck_xasprintf("#/components/responses/%s", ref + strlen(prefix))
                    : ck_xstrdup(ref);
            cJSON_AddStringToObject(o, "$ref", nr);
            cJSON_AddItemToObject(out, r->string, o);
            continue;
        }
        const char *desc = member_str(r, "description");
        cJSON_AddStringToObject(o, "description", desc && *desc ? desc : status_text(r->string));
        const cJSON *schema = member(r, "schema");
        if (schema)
            cJSON_AddItemToObject(o, "content", content_for(produces, schema));
        cJSON_AddItemToObject(out, r->string, o);
    }
    return out;
}

static cJSON *conv_operation(const cJSON *root, const cJSON *op)
{
    cJSON *out = cJSON_CreateObject();
    copy_member(out, op, "tags");
    copy_member(out, op, "summary");
    copy_member(out, op, "description");
    copy_member(out, op, "externalDocs");
    copy_member(out, op, "operationId");
    cJSON *body = NULL;
    cJSON *params = conv_params(root, member(op, "parameters"), member(op, "consumes"), &body);
    if (cJSON_GetArraySize(params))
        cJSON_AddItemToObject(out, "parameters", params);
    else
        cJSON_Delete(params);
    if (body)
        cJSON_AddItemToObject(out, "requestBody", body);
    cJSON_AddItemToObject(out, "responses",
                          conv_responses(member(op, "responses"), member(op, "produces")));
    copy_member(out, op, "deprecated");
    const cJSON *m;
    cJSON_ArrayForEach(m, op) if (!strncmp(m->string, "x-", 2))
        cJSON_AddItemToObject(out, m->string, ck_json_dup(m));
    return out;
}

static cJSON *conv_path_item(const cJSON *root, const cJSON *item)
{
    static const char *const methods[] = {"get",     "put",  "post", "delete",
                                          "options", "head", "patch"};
    cJSON *out = cJSON_CreateObject();
    const cJSON *params = member(item, "parameters");
    if (params) {
        cJSON *p = conv_params(root, params, NULL, NULL);
        if (cJSON_GetArraySize(p))
            cJSON_AddItemToObject(out, "parameters", p);
        else
            cJSON_Delete(p);
    }
    for (size_t i = 0; i < CK_ARRAY_SIZE(methods); i++) {
        const cJSON *op = member(item, methods[i]);
        if (cJSON_IsObject(op))
            cJSON_AddItemToObject(out, methods[i], conv_operation(root, op));
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, item) if (!strncmp(m->string, "x-", 2))
        cJSON_AddItemToObject(out, m->string, ck_json_dup(m));
    return out;
}

int openapi_v3_group_of(const char *path, char *out, size_t size)
{
    if (!path || size == 0)
        return -EINVAL;
    while (*path == '/')
        path++;
    if (!*path)
        return -EINVAL;
    /* the segments, without empty ones */
    const char *seg[8];
    size_t len[8], n = 0;
    for (const char *p = path; *p && n < CK_ARRAY_SIZE(seg);) {
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l) {
            seg[n] = p;
            len[n] = l;
            n++;
        }
        if (!e)
            break;
        p = e + 1;
    }
    if (!n)
        return -EINVAL;
    size_t keep;
    if (len[0] == 3 && !strncmp(seg[0], "api", 3))
        keep = n < 2 ? 1 : 2;
    else if (len[0] == 4 && !strncmp(seg[0], "apis", 4))
        keep = n < 3 ? n : 3;
    else
        for (keep = 0; keep < n && seg[keep][0] != '{'; keep++)
            ;
    if (!keep)
        return -EINVAL;
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; i < keep; i++) {
        if (i)
            ck_buf_putc(&b, '/');
        ck_buf_add(&b, seg[i], len[i]);
    }
    int rc = ck_strlcpy(out, ck_buf_str(&b), size) < 0 ? -EINVAL : 0;
    ck_buf_free(&b);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

cJSON *openapi_v3_document(const cJSON *swagger, const char *gv)
{
    const cJSON *paths = member(swagger, "paths");
    const cJSON *defs = member(swagger, "definitions");
    cJSON *out_paths = cJSON_CreateObject();
    const cJSON *p;
    cJSON_ArrayForEach(p, paths)
    {
        char key[256];
        if (openapi_v3_group_of(p->string, key, sizeof(key)) < 0 || strcmp(key, gv))
            continue;
        cJSON_AddItemToObject(out_paths, p->string, conv_path_item(swagger, p));
    }
    if (!cJSON_GetArraySize(out_paths)) {
        cJSON_Delete(out_paths);
        return NULL;
    }

    /* the schemas the paths reach, and those they reach in turn */
    cJSON *seen = cJSON_CreateObject();
    cJSON *converted = cJSON_CreateObject();
    struct ck_buf todo = CK_BUF_INIT;
    collect_refs(out_paths, &todo, seen, 0);
    size_t done = 0;
    while (done < todo.len) {
        const char *name = todo.data + done;
        size_t l = strcspn(name, "\n");
        CK_AUTOFREE char *n = ck_xstrndup(name, l);
        done += l + 1;
        const cJSON *def = member(defs, n);
        if (!def)
            continue;
        cJSON *c = conv_schema(def, 0);
        collect_refs(c, &todo, seen, 0);
        cJSON_AddItemToObject(converted, n, c);
    }
    ck_buf_free(&todo);
    cJSON_Delete(seen);

    /* components.schemas in name order, as Go prints maps */
    size_t count = (size_t)cJSON_GetArraySize(converted), k = 0;
    const char **names = ck_xcalloc(count ? count : 1, sizeof(*names));
    const cJSON *c;
    cJSON_ArrayForEach(c, converted) names[k++] = c->string;
    qsort(names, k, sizeof(*names), name_cmp);
    cJSON *schemas = cJSON_CreateObject();
    for (size_t i = 0; i < k; i++) {
        cJSON *s = cJSON_DetachItemFromObjectCaseSensitive(converted, names[i]);
        CK_AUTOFREE char *nm = ck_xstrdup(s->string);
        cJSON_AddItemToObject(schemas, nm, s);
    }
    free(names);
    cJSON_Delete(converted);

    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "openapi", "3.0.0");
    const cJSON *info = member(swagger, "info");
    cJSON_AddItemToObject(doc, "info", info ? ck_json_dup(info) : cJSON_CreateObject());
    cJSON_AddItemToObject(doc, "paths", out_paths);
    cJSON *components = cJSON_AddObjectToObject(doc, "components");
    cJSON_AddItemToObject(components, "schemas", schemas);
    const cJSON *secdefs = member(swagger, "securityDefinitions");
    if (cJSON_IsObject(secdefs)) {
        cJSON *schemes = cJSON_AddObjectToObject(components, "securitySchemes");
        const cJSON *sd;
        cJSON_ArrayForEach(sd, secdefs)
        {
            cJSON *o = cJSON_CreateObject();
            copy_member(o, sd, "type");
            copy_member(o, sd, "description");
            copy_member(o, sd, "name");
            copy_member(o, sd, "in");
            cJSON_AddItemToObject(schemes, sd->string, o);
        }
    }
    return doc;
}
