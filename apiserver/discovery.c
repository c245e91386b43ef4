/* discovery.c - discovery documents from the resource table (see discovery.h). */
#include "discovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "encoding.h"
#include "json.h"
#include "registry/resources.h"

/* The preferred version of a group: the first row's version in table order. */
static const char *preferred_version(const char *group)
{
    for (size_t i = 0; i < ck_resources_count; i++)
        if (!strcmp(ck_resources[i].group, group))
            return ck_resources[i].version;
    return NULL;
}

static bool seen_before(size_t upto, const char *group, const char *version)
{
    for (size_t j = 0; j < upto; j++)
        if (!strcmp(ck_resources[j].group, group) &&
            (!version || !strcmp(ck_resources[j].version, version)))
            return true;
    return false;
}

static cJSON *gv_entry(const char *group, const char *version)
{
    cJSON *v = cJSON_CreateObject();
    char gv[300];
    snprintf(gv, sizeof(gv), "%s/%s", group, version);
    cJSON_AddStringToObject(v, "groupVersion", gv);
    cJSON_AddStringToObject(v, "version", version);
    return v;
}

/* APIGroup for `group`, or NULL when no row has it. */
static cJSON *api_group(const char *group)
{
    const char *pref = preferred_version(group);
    if (!pref || !group[0])
        return NULL;
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "name", group);
    cJSON *versions = cJSON_AddArrayToObject(g, "versions");
    for (size_t i = 0; i < ck_resources_count; i++) {
        const struct resource *r = &ck_resources[i];
        if (!strcmp(r->group, group) && !seen_before(i, group, r->version))
            cJSON_AddItemToArray(versions, gv_entry(group, r->version));
    }
    cJSON_AddItemToObject(g, "preferredVersion", gv_entry(group, pref));
    return g;
}

static void add_strings(cJSON *obj, const char *key, const char *const *list, size_t max)
{
    if (!list[0])
        return;
    cJSON *a = cJSON_AddArrayToObject(obj, key);
    for (size_t i = 0; i < max && list[i]; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(list[i]));
}

static cJSON *resource_entry(const struct resource *r, const char *sub, unsigned verbs)
{
    cJSON *e = cJSON_CreateObject();
    char name[300];
    if (sub)
        snprintf(name, sizeof(name), "%s/%s", r->plural, sub);
    else
        snprintf(name, sizeof(name), "%s", r->plural);
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "singularName", sub ? "" : r->singular);
    cJSON_AddBoolToObject(e, "namespaced", r->namespaced);
    if (sub && !strcmp(sub, "scale")) {
        cJSON_AddStringToObject(e, "group", "autoscaling");
        cJSON_AddStringToObject(e, "version", "v1");
        cJSON_AddStringToObject(e, "kind", "Scale");
    } else {
        cJSON_AddStringToObject(e, "kind", r->kind);
    }
    cJSON *v = cJSON_AddArrayToObject(e, "verbs");
    for (unsigned bit = 1; bit <= VERB_DELETECOLLECTION; bit <<= 1)
        if (verbs & bit)
            cJSON_AddItemToArray(v, cJSON_CreateString(resource_verb_name(bit)));
    if (!sub) {
        add_strings(e, "shortNames", r->short_names, 4);
        add_strings(e, "categories", r->categories, 3);
    }
    return e;
}

/* The verbs upstream lists for a subresource. */
static unsigned sub_verbs(unsigned bit)
{
    switch (bit) {
    case SUB_STATUS:
    case SUB_SCALE:
    case SUB_EPHEMERAL:
    case SUB_RESIZE:
    case SUB_APPROVAL: return VERB_GET | VERB_UPDATE | VERB_PATCH;
    case SUB_LOG: return VERB_GET;
    case SUB_FINALIZE: return VERB_UPDATE;
    case SUB_EXEC:
    case SUB_ATTACH:
    case SUB_PORTFORWARD: return VERB_CREATE | VERB_GET;
    case SUB_PROXY: return VERB_CREATE | VERB_DELETE | VERB_GET | VERB_PATCH | VERB_UPDATE;
    default: return VERB_CREATE;
    }
}

static cJSON *resource_list(const char *group, const char *version)
{
    cJSON *list = NULL, *arr = NULL;
    for (size_t i = 0; i < ck_resources_count; i++) {
        const struct resource *r = &ck_resources[i];
        if (strcmp(r->group, group) || strcmp(r->version, version))
            continue;
        if (!list) {
            list = cJSON_CreateObject();
            cJSON_AddStringToObject(list, "kind", "APIResourceList");
            cJSON_AddStringToObject(list, "apiVersion", "v1");
            char gv[300];
            resource_api_version(r, gv, sizeof(gv));
            cJSON_AddStringToObject(list, "groupVersion", gv);
            arr = cJSON_AddArrayToObject(list, "resources");
        }
        cJSON_AddItemToArray(arr, resource_entry(r, NULL, r->verbs));
        for (unsigned bit = 1; resource_subresource_name(bit); bit <<= 1)
            if (r->subresources & bit)
                cJSON_AddItemToArray(arr, resource_entry(r, resource_subresource_name(bit),
                                                         sub_verbs(bit)));
    }
    return list;
}

/* ---- aggregated discovery (apidiscovery.k8s.io v2 / v2beta1) ---- */

static cJSON *gvk(const char *group, const char *version, const char *kind)
{
    cJSON *k = cJSON_CreateObject();
    cJSON_AddStringToObject(k, "group", group);
    cJSON_AddStringToObject(k, "version", version);
    cJSON_AddStringToObject(k, "kind", kind);
    return k;
}

static cJSON *verbs_array(unsigned verbs)
{
    cJSON *v = cJSON_CreateArray();
    for (unsigned bit = 1; bit <= VERB_DELETECOLLECTION; bit <<= 1)
        if (verbs & bit)
            cJSON_AddItemToArray(v, cJSON_CreateString(resource_verb_name(bit)));
    return v;
}

static cJSON *aggregated_resource(const struct resource *r)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "resource", r->plural);
    cJSON_AddItemToObject(e, "responseKind", gvk(r->group, r->version, r->kind));
    cJSON_AddStringToObject(e, "scope", r->namespaced ? "Namespaced" : "Cluster");
    cJSON_AddStringToObject(e, "singularResource", r->singular);
    cJSON_AddItemToObject(e, "verbs", verbs_array(r->verbs));
    add_strings(e, "shortNames", r->short_names, 4);
    add_strings(e, "categories", r->categories, 3);
    if (r->subresources) {
        cJSON *subs = cJSON_AddArrayToObject(e, "subresources");
        for (unsigned bit = 1; resource_subresource_name(bit); bit <<= 1) {
            if (!(r->subresources & bit))
                continue;
            cJSON *sub = cJSON_CreateObject();
            cJSON_AddStringToObject(sub, "subresource", resource_subresource_name(bit));
            if (bit == SUB_SCALE)
                cJSON_AddItemToObject(sub, "responseKind", gvk("autoscaling", "v1", "Scale"));
            else
                cJSON_AddItemToObject(sub, "responseKind", gvk(r->group, r->version, r->kind));
            cJSON_AddItemToObject(sub, "verbs", verbs_array(sub_verbs(bit)));
            cJSON_AddItemToArray(subs, sub);
        }
    }
    return e;
}

/* One APIGroupDiscovery: every version of `group` with its resources. */
static cJSON *aggregated_group(const char *group)
{
    cJSON *g = cJSON_CreateObject();
    cJSON *m = cJSON_AddObjectToObject(g, "metadata");
    if (group[0])
        cJSON_AddStringToObject(m, "name", group);
    cJSON_AddNullToObject(m, "creationTimestamp");
    cJSON *versions = cJSON_AddArrayToObject(g, "versions");
    for (size_t i = 0; i < ck_resources_count; i++) {
        const struct resource *r = &ck_resources[i];
        if (strcmp(r->group, group) || seen_before(i, group, r->version))
            continue;
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "version", r->version);
        cJSON *res = cJSON_AddArrayToObject(v, "resources");
        for (size_t j = i; j < ck_resources_count; j++)
            if (!strcmp(ck_resources[j].group, group) &&
                !strcmp(ck_resources[j].version, r->version))
                cJSON_AddItemToArray(res, aggregated_resource(&ck_resources[j]));
        cJSON_AddStringToObject(v, "freshness", "Current");
        cJSON_AddItemToArray(versions, v);
    }
    return g;
}

/* The apidiscovery version the Accept header asks for ("v2", "v2beta1"), or NULL. */
static const char *aggregated_version(struct ck_http_req *req)
{
    const char *accept = ck_http_header(req, "Accept");
    if (!accept || !strstr(accept, "as=APIGroupDiscoveryList"))
        return NULL;
    const char *v2 = strstr(accept, "g=apidiscovery.k8s.io;v=v2;");
    const char *v2b = strstr(accept, "g=apidiscovery.k8s.io;v=v2beta1");
    if (v2 && (!v2b || v2 < v2b))
        return "v2";
    return v2b ? "v2beta1" : NULL;
}

static bool serve_aggregated(struct ck_http_req *req, bool core)
{
    const char *ver = aggregated_version(req);
    if (!ver)
        return false;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "kind", "APIGroupDiscoveryList");
    char av[64];
    snprintf(av, sizeof(av), "apidiscovery.k8s.io/%s", ver);
    cJSON_AddStringToObject(doc, "apiVersion", av);
    cJSON_AddObjectToObject(doc, "metadata");
    cJSON *items = cJSON_AddArrayToObject(doc, "items");
    if (core) {
        cJSON_AddItemToArray(items, aggregated_group(""));
    } else {
        for (size_t i = 0; i < ck_resources_count; i++) {
            const char *g = ck_resources[i].group;
            if (g[0] && !seen_before(i, g, NULL))
                cJSON_AddItemToArray(items, aggregated_group(g));
        }
    }
    char *body = ck_json_print(doc, 0);
    cJSON_Delete(doc);
    char ct[160];
    snprintf(ct, sizeof(ct), "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList",
             ver);
    char *etag = ck_sha256_hex(body, strlen(body));
    char quoted[80];
    snprintf(quoted, sizeof(quoted), "\"%.64s\"", etag);
    free(etag);
    ck_http_add_header(req, "ETag", quoted);
    ck_http_add_header(req, "Vary", "Accept");
    ck_http_respond(req, 200, ct, body, strlen(body));
    free(body);
    return true;
}

bool discovery_serve(struct ck_http_req *req, const char *path)
{
    cJSON *doc = NULL;
    if (!strcmp(path, "/api") || !strcmp(path, "/api/") || !strcmp(path, "/apis") ||
        !strcmp(path, "/apis/")) {
        if (serve_aggregated(req, !strncmp(path, "/api", 4) && path[4] != 's'))
            return true;
    }
    if (!strcmp(path, "/api") || !strcmp(path, "/api/")) {
        doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "kind", "APIVersions");
        cJSON *v = cJSON_AddArrayToObject(doc, "versions");
        cJSON_AddItemToArray(v, cJSON_CreateString("v1"));
        cJSON *a = cJSON_AddArrayToObject(doc, "serverAddressByClientCIDRs");
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "clientCIDR", "0.0.0.0/0");
        cJSON_AddStringToObject(e, "serverAddress", "127.0.0.1:6443");
        cJSON_AddItemToArray(a, e);
    } else if (!strcmp(path, "/apis") || !strcmp(path, "/apis/")) {
        doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "kind", "APIGroupList");
        cJSON_AddStringToObject(doc, "apiVersion", "v1");
        cJSON *groups = cJSON_AddArrayToObject(doc, "groups");
        for (size_t i = 0; i < ck_resources_count; i++) {
            const char *g = ck_resources[i].group;
            if (g[0] && !seen_before(i, g, NULL))
                cJSON_AddItemToArray(groups, api_group(g));
        }
    } else if (!strcmp(path, "/api/v1")) {
        doc = resource_list("", "v1");
    } else if (!strncmp(path, "/apis/", 6)) {
        char group[254] = "", version[64] = "";
        const char *p = path + 6;
        const char *slash = strchr(p, '/');
        if (!slash) {
            snprintf(group, sizeof(group), "%s", p);
            doc = api_group(group);
            if (doc) {
                cJSON_AddStringToObject(doc, "kind", "APIGroup");
                cJSON_AddStringToObject(doc, "apiVersion", "v1");
            }
        } else if (!strchr(slash + 1, '/') && (size_t)(slash - p) < sizeof(group)) {
            snprintf(group, sizeof(group), "%.*s", (int)(slash - p), p);
            snprintf(version, sizeof(version), "%s", slash + 1);
            doc = resource_list(group, version);
        } else {
            return false;
        }
        if (!doc) {
            struct ck_error err = CK_ERROR_INIT;
            ck_error_set(&err, 404, CK_REASON_NOT_FOUND,
                         "the server could not find the requested resource");
            codec_respond_error(req, &err);
            ck_error_clear(&err);
            return true;
        }
    } else {
        return false;
    }
    codec_respond(req, 200, doc);
    cJSON_Delete(doc);
    return true;
}
