/* codec.c - request decoding and response encoding (see codec.h). */
#include "codec.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "proto/proto.h"
#include "yaml.h"

static bool is_yaml_type(const char *ct)
{
    return ct && (!strncmp(ct, "application/yaml", 16) || !strncmp(ct, "application/x-yaml", 18) ||
                  !strncmp(ct, "text/yaml", 9) || !strncmp(ct, "application/apply-patch+yaml", 28));
}

/* codec_decode_any, also saying whether a JSON body repeated a key in some object (*dups:
 * how many members a later one replaced; YAML and protobuf bodies count 0). */
static int decode_body(struct ck_http_req *req, cJSON **out, size_t *dups, struct ck_error *err)
{
    *dups = 0;
    size_t len;
    const char *body = ck_http_body(req, &len);
    const char *ct = ck_http_header(req, "Content-Type");
    if (proto_is_content_type(ct)) /* kubectl's typed clients send protobuf */
        return proto_decode_request(body, len, out, err);
    if (is_yaml_type(ct) && !ck_yaml_looks_like_json(body, len)) {
        int rc = ck_yaml_parse(body, len, 0, out, err);
        if (rc < 0)
            return rc;
        return 0;
    }
    struct ck_json_parse_opts opts = {.duplicate_keys = dups};
    *out = ck_json_parse_with(body, len, &opts, err);
    return *out ? 0 : -22;
}

int codec_decode_any(struct ck_http_req *req, cJSON **out, struct ck_error *err)
{
    size_t dups;
    return decode_body(req, out, &dups, err);
}

int codec_decode_object(struct ck_http_req *req, const struct resource *r, cJSON **out,
                        bool *dup_keys, struct ck_error *err)
{
    cJSON *obj = NULL;
    size_t dups;
    int rc = decode_body(req, &obj, &dups, err);
    if (dup_keys)
        *dup_keys = dups > 0;
    if (rc < 0)
        return rc;
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "couldn't get version/kind; json parse error: json: cannot unmarshal "
                            "non-object into Go value of type struct { APIVersion string "
                            "\"json:\\\"apiVersion,omitempty\\\"\"; Kind string "
                            "\"json:\\\"kind,omitempty\\\"\" }");
    }
    char gv[300];
    resource_api_version(r, gv, sizeof(gv));
    const char *av = ck_json_get_string(obj, "apiVersion", "");
    const char *kind = ck_json_get_string(obj, "kind", "");
    if (av[0] && strcmp(av, gv)) {
        ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                     "the API version in the data (%s) does not match the expected API version "
                     "(%s)",
                     av, gv);
        cJSON_Delete(obj);
        return -22;
    }
    if (kind[0] && strcmp(kind, r->kind)) {
        ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                     "the kind in the data (%s) does not match the expected kind (%s)", kind,
                     r->kind);
        cJSON_Delete(obj);
        return -22;
    }
    ck_json_set_string(obj, "apiVersion", gv);
    ck_json_set_string(obj, "kind", r->kind);
    /* keep apiVersion and kind first, as upstream serializes them */
    cJSON *k = cJSON_DetachItemFromObjectCaseSensitive(obj, "kind");
    cJSON *a = cJSON_DetachItemFromObjectCaseSensitive(obj, "apiVersion");
    cJSON_InsertItemInArray(obj, 0, a);
    cJSON_InsertItemInArray(obj, 0, k);
    *out = obj;
    return 0;
}

bool codec_wants_table(struct ck_http_req *req)
{
    const char *accept = ck_http_header(req, "Accept");
    if (!accept)
        return false;
    /* each comma-separated choice: type;param;param... in preference order */
    const char *p = accept;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char choice[256];
        snprintf(choice, sizeof(choice), "%.*s", (int)(n < sizeof(choice) ? n : sizeof(choice) - 1),
                 p);
        bool json = strstr(choice, "application/json") != NULL;
        bool table = strstr(choice, "as=Table") != NULL;
        bool meta = strstr(choice, "g=meta.k8s.io") != NULL;
        bool version = strstr(choice, "v=v1;") || strstr(choice, "v=v1beta1") ||
                       (strlen(choice) >= 4 && !strcmp(choice + strlen(choice) - 4, "v=v1"));
        if (json && table && meta && version)
            return true;
        if (json && !strstr(choice, "as="))
            return false; /* plain JSON preferred before any Table choice */
        if (!end)
            break;
        p = end + 1;
        while (*p == ' ')
            p++;
    }
    return false;
}

void codec_respond(struct ck_http_req *req, int status, const cJSON *obj)
{
    const char *pretty = ck_http_query(req, "pretty");
    bool indent = pretty && strcmp(pretty, "false") && strcmp(pretty, "0");
    char *s = ck_json_print(obj, indent ? CK_JSON_INDENT : 0);
    size_t n = strlen(s);
    if (indent) { /* upstream ends pretty output with a newline */
        s = ck_xrealloc(s, n + 2);
        s[n++] = '\n';
        s[n] = '\0';
    }
    ck_http_respond(req, status, "application/json", s, n);
    free(s);
}

void codec_respond_error(struct ck_http_req *req, const struct ck_error *err)
{
    cJSON *st = ck_error_to_status(err);
    codec_respond(req, err->code ? err->code : 500, st);
    cJSON_Delete(st);
}
