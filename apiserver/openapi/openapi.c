/* openapi.c - serving /openapi/v2 and /openapi/v3 (see openapi.h): content negotiation as
 * kube-openapi's handlers (goautoneg's Accept parsing and ordering), ETags, hash-pinned URLs,
 * and the documents built once and cached for the life of the process. */
#include "openapi.h"

#include <errno.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "schema.h"

#define CT_JSON "application/json"
#define V2_PATH "/openapi/v2"
#define V3_PATH "/openapi/v3"

void openapi_hash(const void *data, size_t len, char out[129])
{
    unsigned char d[SHA512_DIGEST_LENGTH];
    SHA512(data, len, d);
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < sizeof(d); i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[128] = '\0';
}

void openapi_expires(char *buf, size_t size, time_t now)
{
    struct tm tm;
    gmtime_r(&now, &tm);
    tm.tm_year += 1; /* Go's AddDate(1, 0, 0); Feb 29 normalizes to Mar 1 as Go does */
    time_t later = timegm(&tm);
    gmtime_r(&later, &tm);
    strftime(buf, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* ---- the documents, built once ---- */

struct v3_group {
    char *gv;
    char *json;
    size_t len;
    char hash[129];
};

static pthread_once_t v2_once = PTHREAD_ONCE_INIT;
static char v2_hash[129]; /* written once under v2_once */

static pthread_once_t v3_once = PTHREAD_ONCE_INIT;
/* written once under v3_once, read-only afterwards */
static struct {
    struct v3_group *groups; /* sorted by gv */
    size_t n;
    char *discovery;
    size_t discovery_len;
    char discovery_hash[129];
    bool ok;
} v3;

static void v2_init(void)
{
    size_t len;
    const char *s = schema_swagger_json(&len);
    openapi_hash(s, len, v2_hash);
}

static int group_cmp(const void *a, const void *b)
{
    return strcmp(((const struct v3_group *)a)->gv, ((const struct v3_group *)b)->gv);
}

static void v3_init(void)
{
    const struct schema_doc *doc = schema_builtin();
    const cJSON *swagger = schema_doc_root(doc);
    if (!swagger) {
        ck_err("openapi: no v2 document to build v3 documents from");
        return;
    }
    /* the group-versions, in path order, each once */
    cJSON *seen = cJSON_CreateObject();
    size_t cap = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(swagger, "paths"))
    {
        char gv[256];
        if (openapi_v3_group_of(p->string, gv, sizeof(gv)) < 0 ||
            cJSON_GetObjectItemCaseSensitive(seen, gv))
            continue;
        cJSON_AddTrueToObject(seen, gv);
        cJSON *d = openapi_v3_document(swagger, gv);
        if (!d)
            continue;
        char *json = ck_json_print(d, CK_JSON_NO_HTML_ESCAPE);
        cJSON_Delete(d);
        if (!json)
            continue;
        if (v3.n == cap) {
            cap = cap ? cap * 2 : 64;
            v3.groups = ck_xrealloc(v3.groups, cap * sizeof(*v3.groups));
        }
        struct v3_group *g = &v3.groups[v3.n++];
        g->gv = ck_xstrdup(gv);
        g->json = json;
        g->len = strlen(json);
        openapi_hash(json, g->len, g->hash);
    }
    cJSON_Delete(seen);
    qsort(v3.groups, v3.n, sizeof(*v3.groups), group_cmp);

    /* {"paths":{"<gv>":{"serverRelativeURL":"/openapi/v3/<gv>?hash=<HASH>"}}} */
    cJSON *disc = cJSON_CreateObject();
    cJSON *paths = cJSON_AddObjectToObject(disc, "paths");
    for (size_t i = 0; i < v3.n; i++) {
        cJSON *e = cJSON_CreateObject();
        CK_AUTOFREE char *url =
            ck_xasprintf(V3_PATH "/%s?hash=%s", v3.groups[i].gv, v3.groups[i].hash);
        cJSON_AddStringToObject(e, "serverRelativeURL", url);
        cJSON_AddItemToObject(paths, v3.groups[i].gv, e);
    }
    v3.discovery = ck_json_print(disc, CK_JSON_NO_HTML_ESCAPE);
    cJSON_Delete(disc);
    v3.discovery_len = strlen(v3.discovery);
    openapi_hash(v3.discovery, v3.discovery_len, v3.discovery_hash);
    v3.ok = true;
}

static const struct v3_group *v3_find(const char *gv)
{
    struct v3_group key = {(char *)gv, NULL, 0, ""};
    return bsearch(&key, v3.groups, v3.n, sizeof(key), group_cmp);
}

/* ---- Accept negotiation (goautoneg) ---- */

struct clause {
    char type[64], subtype[128];
    double q;
};

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* goautoneg's ordering: higher q first, then a concrete type before "*", then a concrete
 * subtype before "*" (its Less, applied by an insertion sort as Go's sort.Sort does for short
 * lists). */
static bool clause_less(const struct clause *a, const struct clause *b)
{
    if (a->q > b->q)
        return true;
    if (strcmp(a->type, "*") && !strcmp(b->type, "*"))
        return true;
    if (strcmp(a->subtype, "*") && !strcmp(b->subtype, "*"))
        return true;
    return false;
}

static size_t parse_accept(const char *accept, struct clause *out, size_t max)
{
    if (!accept || !*accept)
        accept = "*/*";
    size_t n = 0;
    for (const char *p = accept; *p && n < max;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *part = p;
        p = end ? end + 1 : p + len;
        trim(&part, &len);
        size_t mlen = strcspn(part, ";");
        if (mlen > len)
            mlen = len;
        const char *mt = part;
        size_t mtl = mlen;
        trim(&mt, &mtl);
        struct clause c = {"", "", 1.0};
        const char *slash = memchr(mt, '/', mtl);
        if (!slash) {
            if (mtl != 1 || mt[0] != '*')
                continue;
            strcpy(c.type, "*");
            strcpy(c.subtype, "*");
        } else {
            size_t tl = (size_t)(slash - mt), sl = mtl - tl - 1;
            if (memchr(slash + 1, '/', sl) || tl >= sizeof(c.type) || sl >= sizeof(c.subtype))
                continue;
            memcpy(c.type, mt, tl);
            c.type[tl] = '\0';
            memcpy(c.subtype, slash + 1, sl);
            c.subtype[sl] = '\0';
        }
        /* parameters: only q matters */
        const char *params = part + mlen;
        size_t plen = len - mlen;
        while (plen && *params == ';') {
            params++;
            plen--;
            size_t l = strcspn(params, ";");
            if (l > plen)
                l = plen;
            const char *eq = memchr(params, '=', l);
            if (eq) {
                const char *k = params;
                size_t kl = (size_t)(eq - params);
                trim(&k, &kl);
                if (kl == 1 && *k == 'q') {
                    char num[32];
                    size_t vl = l - kl - 1;
                    if (vl >= sizeof(num))
                        vl = sizeof(num) - 1;
                    memcpy(num, eq + 1, vl);
                    num[vl] = '\0';
                    char *endp;
                    double q = strtod(num, &endp);
                    c.q = endp == num ? 0 : q;
                }
            }
            params += l;
            plen -= l;
        }
        out[n++] = c;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && clause_less(&out[j], &out[j - 1]); j--) {
            struct clause t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

/* True when Accept lets us answer JSON: the first clause (in goautoneg order) matching a type
 * the endpoint knows decides; protobuf clauses are passed over since we serve no protobuf. */
static bool accepts_json(const char *accept)
{
    struct clause c[32];
    size_t n = parse_accept(accept, c, CK_ARRAY_SIZE(c));
    for (size_t i = 0; i < n; i++) {
        bool type_ok = !strcmp(c[i].type, "*") || !strcmp(c[i].type, "application");
        if (type_ok && (!strcmp(c[i].subtype, "*") || !strcmp(c[i].subtype, "json")))
            return true;
    }
    return false;
}

/* http.ServeContent's If-None-Match check against our (strong) ETag. */
static bool none_match(const char *header, const char *etag)
{
    if (!header || !*etag)
        return false;
    size_t elen = strlen(etag);
    for (const char *p = header; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*p == '*')
            return true;
        if (!strncmp(p, "W/", 2))
            p += 2;
        size_t l = strcspn(p, ",");
        const char *e = p;
        size_t el = l;
        trim(&e, &el);
        if (el == elen && !memcmp(e, etag, elen))
            return true;
        p += l;
    }
    return false;
}

static void respond_body(struct openapi_response *rs, const struct openapi_request *rq,
                         const char *body, size_t len)
{
    if (none_match(rq->if_none_match, rs->etag)) {
        rs->status = 304;
        rs->body = NULL;
        rs->body_len = 0;
        return;
    }
    rs->status = 200;
    rs->body = body;
    rs->body_len = len;
}

bool openapi_is_path(const char *path)
{
    if (!path)
        return false;
    if (!strcmp(path, V2_PATH) || !strcmp(path, V3_PATH))
        return true;
    return !strncmp(path, V3_PATH "/", strlen(V3_PATH) + 1);
}

static void serve_v2(const struct openapi_request *rq, struct openapi_response *rs)
{
    pthread_once(&v2_once, v2_init);
    rs->vary = "Accept";
    if (!accepts_json(rq->accept)) {
        rs->status = 406;
        return;
    }
    size_t len;
    const char *s = schema_swagger_json(&len);
    rs->content_type = CT_JSON;
    snprintf(rs->etag, sizeof(rs->etag), "\"%s\"", v2_hash);
    respond_body(rs, rq, s, len);
}

static void serve_v3_discovery(const struct openapi_request *rq, struct openapi_response *rs)
{
    rs->content_type = CT_JSON;
    snprintf(rs->etag, sizeof(rs->etag), "\"%s\"", v3.discovery_hash);
    respond_body(rs, rq, v3.discovery, v3.discovery_len);
}

static void serve_v3_group(const struct openapi_request *rq, const char *gv,
                           struct openapi_response *rs)
{
    rs->vary = "Accept";
    const struct v3_group *g = v3_find(gv);
    if (!g) {
        rs->status = 404;
        return;
    }
    if (!accepts_json(rq->accept)) {
        rs->status = 406;
        return;
    }
    rs->content_type = CT_JSON;
    snprintf(rs->etag, sizeof(rs->etag), "\"%s\"", g->hash);
    if (rq->hash && *rq->hash) {
        if (strcmp(rq->hash, g->hash)) {
            rs->status = 301;
            snprintf(rs->location, sizeof(rs->location), V3_PATH "/%s?hash=%s", g->gv, g->hash);
            return;
        }
        rs->cache_control = "public, immutable";
        rs->expires_in_a_year = true;
    }
    respond_body(rs, rq, g->json, g->len);
}

int openapi_serve(const struct openapi_request *rq, struct openapi_response *rs)
{
    memset(rs, 0, sizeof(*rs));
    rs->status = 404;
    if (!rq || !openapi_is_path(rq->path))
        return -ENOENT;
    if (!strcmp(rq->path, V2_PATH)) {
        serve_v2(rq, rs);
        return 0;
    }
    pthread_once(&v3_once, v3_init);
    if (!v3.ok) {
        rs->status = 500;
        return 0;
    }
    if (!strcmp(rq->path, V3_PATH)) {
        serve_v3_discovery(rq, rs);
        return 0;
    }
    serve_v3_group(rq, rq->path + strlen(V3_PATH) + 1, rs);
    return 0;
}
