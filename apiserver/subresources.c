/* subresources.c - binding, scale and finalize (see subresources.h). */
#include "subresources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json.h"
#include "objmeta.h"
#include "patch/patch.h"
#include "rest.h"
#include "selector.h"
#include "timeutil.h"

/* ---- binding ---- */

struct bind_ctx {
    const char *node;
    const char *pod;
};

/* Sets or refreshes condition `type` in status.conditions. */
static void set_condition(cJSON *obj, const char *type, const char *status)
{
    cJSON *conds = ck_json_ensure_array(obj, "status.conditions");
    cJSON *c = NULL, *it;
    cJSON_ArrayForEach(it, conds)
    {
        if (!strcmp(ck_json_get_string(it, "type", ""), type))
            c = it;
    }
    if (!c) {
        c = cJSON_CreateObject();
        cJSON_AddItemToArray(conds, c);
    }
    char ts[CK_TIME_BUFSZ];
    ck_time_now_string(ts);
    /* upstream replaces the whole condition: an earlier reason/message does not survive */
    cJSON_DeleteItemFromObjectCaseSensitive(c, "reason");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "message");
    ck_json_set_string(c, "type", type);
    ck_json_set_string(c, "status", status);
    cJSON_DeleteItemFromObjectCaseSensitive(c, "lastProbeTime");
    cJSON_AddItemToObject(c, "lastProbeTime", cJSON_CreateNull());
    ck_json_set_string(c, "lastTransitionTime", ts);
}

static int bind_fn(const cJSON *current, void *vctx, cJSON **next, bool *delete_it,
                   struct ck_error *err)
{
    (void)delete_it;
    struct bind_ctx *c = vctx;
    if (ck_json_get(current, "metadata.deletionTimestamp"))
        return ck_error_set(err, 409, CK_REASON_CONFLICT,
                            "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is "
                            "being deleted, cannot be assigned to a host",
                            c->pod, c->pod);
    const char *cur = ck_json_get_string(current, "spec.nodeName", "");
    if (cur[0])
        return ck_error_set(err, 409, CK_REASON_CONFLICT,
                            "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is "
                            "already assigned to node \"%s\"",
                            c->pod, c->pod, cur);
    cJSON *obj = ck_json_dup(current);
    ck_json_set_string(obj, "spec.nodeName", c->node);
    set_condition(obj, "PodScheduled", "True");
    *next = obj;
    return 0;
}

int subresource_binding(struct apiserver *s, struct ck_http_req *req,
                        const struct request_info *ri, struct ck_error *err)
{
    cJSON *b = NULL;
    int rc = codec_decode_any(req, &b, err);
    if (rc < 0)
        return rc;
    const char *pod = ri->name[0] ? ri->name : meta_name(b);
    const char *node = ck_json_get_string(b, "target.name", "");
    const char *kind = ck_json_get_string(b, "target.kind", "Node");
    if (!node[0] || (kind[0] && strcmp(kind, "Node"))) {
        struct field_errors fe = FIELD_ERRORS_INIT;
        if (!node[0])
            fe_add(&fe, FE_REQUIRED, "target.name", NULL, NULL);
        else
            fe_add_str(&fe, FE_NOT_SUPPORTED, "target.kind", kind, "must be empty or 'Node'");
        rc = fe_to_error(&fe, "", "Binding", pod, err);
        field_errors_free(&fe);
        cJSON_Delete(b);
        return rc;
    }
    bool dry = rest_dry_run(req, err, &rc);
    if (rc < 0) {
        cJSON_Delete(b);
        return rc;
    }
    struct bind_ctx c = {node, pod};
    rc = store_update(&s->store, resource_find("", "v1", "pods"), ri->namespace_, pod, bind_fn,
                      &c, dry ? STORE_DRY_RUN : 0, NULL, err);
    cJSON_Delete(b);
    if (rc < 0)
        return rc;
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "kind", "Status");
    cJSON_AddStringToObject(st, "apiVersion", "v1");
    cJSON_AddObjectToObject(st, "metadata");
    cJSON_AddStringToObject(st, "status", "Success");
    cJSON_AddNumberToObject(st, "code", 201);
    codec_respond(req, 201, st);
    cJSON_Delete(st);
    return 0;
}

/* ---- scale ---- */

/* The autoscaling/v1 Scale view of a workload. */
static cJSON *scale_of(const cJSON *obj)
{
    cJSON *sc = cJSON_CreateObject();
    cJSON_AddStringToObject(sc, "kind", "Scale");
    cJSON_AddStringToObject(sc, "apiVersion", "autoscaling/v1");
    cJSON *m = cJSON_AddObjectToObject(sc, "metadata");
    static const char *const KEEP[] = {"name", "namespace", "uid", "resourceVersion",
                                       "creationTimestamp", NULL};
    for (size_t i = 0; KEEP[i]; i++) {
        const cJSON *v = ck_json_getv(obj, "metadata", KEEP[i], NULL);
        if (v)
            cJSON_AddItemToObject(m, KEEP[i], ck_json_dup(v));
    }
    cJSON *spec = cJSON_AddObjectToObject(sc, "spec");
    cJSON_AddItemToObject(spec, "replicas",
                          ck_json_new_int64(ck_json_get_int64(obj, "spec.replicas", 1)));
    cJSON *status = cJSON_AddObjectToObject(sc, "status");
    cJSON_AddItemToObject(status, "replicas",
                          ck_json_new_int64(ck_json_get_int64(obj, "status.replicas", 0)));
    /* selector as a string: LabelSelector (apps) or a plain map (replicationcontrollers) */
    const cJSON *sel = ck_json_get(obj, "spec.selector");
    struct ck_label_selector *ls = NULL;
    if (cJSON_IsObject(sel) && (ck_json_get(sel, "matchLabels") || ck_json_get(sel, "matchExpressions")))
        ck_label_selector_from_json(sel, &ls, NULL);
    else if (cJSON_IsObject(sel))
        ls = ck_label_selector_from_set(sel);
    if (ls) {
        char *str = ck_label_selector_string(ls);
        cJSON_AddStringToObject(status, "selector", str);
        free(str);
        ck_label_selector_free(ls);
    }
    return sc;
}

struct scale_ctx {
    const cJSON *input; /* Scale (PUT) or patch of one (PATCH) */
    bool patch;
    const char *content_type; /* of the patch */
    const struct resource *r;
    const char *name;
    struct ck_http_req *req; /* whose field manager the change is recorded for */
};

static int scale_fn(const cJSON *current, void *vctx, cJSON **next, bool *delete_it,
                    struct ck_error *err)
{
    (void)delete_it;
    struct scale_ctx *c = vctx;
    cJSON *want = NULL;
    if (c->patch) {
        cJSON *sc = scale_of(current);
        int rc = patch_apply(c->content_type, sc, c->input, "autoscaling", "v1", "Scale", &want,
                             err);
        cJSON_Delete(sc);
        if (rc < 0)
            return rc;
    } else {
        want = ck_json_dup(c->input);
    }
    const char *rv = ck_json_get_string(want, "metadata.resourceVersion", "");
    if (rv[0] && strcmp(rv, ck_json_get_string(current, "metadata.resourceVersion", ""))) {
        cJSON_Delete(want);
        return rest_conflict(c->r, c->name, err);
    }
    int64_t replicas;
    const cJSON *rj = ck_json_get(want, "spec.replicas");
    if (ck_json_to_int64(rj, &replicas) < 0)
        replicas = 0;
    if (replicas < 0) {
        struct field_errors fe = FIELD_ERRORS_INIT;
        fe_add(&fe, FE_INVALID, "spec.replicas", rj, "must be greater than or equal to 0");
        int rc = fe_to_error(&fe, "autoscaling", "Scale", c->name, err);
        field_errors_free(&fe);
        cJSON_Delete(want);
        return rc;
    }
    cJSON_Delete(want);
    cJSON *obj = ck_json_dup(current);
    ck_json_set_int64(obj, "spec.replicas", replicas);
    /* the spec changed: the generic update path bumps generation */
    if (ck_json_get_int64(current, "spec.replicas", 1) != replicas)
        ck_json_set_int64(obj, "metadata.generation",
                          ck_json_get_int64(current, "metadata.generation", 0) + 1);
    rest_record_update(c->req, c->r, current, obj, "scale");
    *next = obj;
    return 0;
}

int subresource_scale(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                      const struct resource *r, struct ck_error *err)
{
    const char *verb = ri->verb;
    cJSON *out = NULL;
    int rc;
    if (!strcmp(verb, "get")) {
        if ((rc = store_get(&s->store, r, ri->namespace_, ri->name, &out, err)) < 0)
            return rc;
    } else if (!strcmp(verb, "update") || !strcmp(verb, "patch")) {
        cJSON *input = NULL;
        if ((rc = codec_decode_any(req, &input, err)) < 0)
            return rc;
        bool dry = rest_dry_run(req, err, &rc);
        if (rc == 0) {
            struct scale_ctx c = {input, !strcmp(verb, "patch"),
                                  ck_http_header(req, "Content-Type"), r, ri->name, req};
            rc = store_update(&s->store, r, ri->namespace_, ri->name, scale_fn, &c,
                              dry ? STORE_DRY_RUN : 0, &out, err);
        }
        cJSON_Delete(input);
        if (rc < 0)
            return rc;
    } else {
        return ck_error_set(err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                            "the server does not allow this method on the requested resource");
    }
    cJSON *sc = scale_of(out);
    codec_respond(req, 200, sc);
    cJSON_Delete(sc);
    cJSON_Delete(out);
    return 0;
}

/* ---- namespaces/finalize ---- */

static int finalize_fn(const cJSON *current, void *vctx, cJSON **next, bool *delete_it,
                       struct ck_error *err)
{
    (void)err;
    const cJSON *input = vctx;
    cJSON *obj = ck_json_dup(current);
    const cJSON *fin = ck_json_get(input, "spec.finalizers");
    ck_json_set(obj, "spec.finalizers", fin ? ck_json_dup(fin) : cJSON_CreateArray());
    if (ck_json_get(obj, "metadata.deletionTimestamp") && cJSON_GetArraySize(fin) == 0 &&
        cJSON_GetArraySize(ck_json_get(obj, "metadata.finalizers")) == 0)
        *delete_it = true;
    *next = obj;
    return 0;
}

int subresource_finalize(struct apiserver *s, struct ck_http_req *req,
                         const struct request_info *ri, const struct resource *r,
                         struct ck_error *err)
{
    if (strcmp(ri->verb, "update"))
        return ck_error_set(err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                            "the server does not allow this method on the requested resource");
    cJSON *input = NULL;
    int rc = codec_decode_object(req, r, &input, NULL, err);
    if (rc < 0)
        return rc;
    cJSON *out = NULL;
    rc = store_update(&s->store, r, "", ri->name, finalize_fn, input, 0, &out, err);
    cJSON_Delete(input);
    if (rc < 0)
        return rc;
    codec_respond(req, 200, out);
    cJSON_Delete(out);
    return 0;
}
