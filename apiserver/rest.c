/* rest.c - generic REST verbs (see rest.h).
 *
 * Each verb follows upstream's generic registry: decode, prepare (objmeta + strategy),
 * validate, admit (namespace lifecycle), store with resourceVersion preconditions, respond with
 * the object as stored or an upstream-shaped Status.
 */
#include "rest.h"
#include "reviews.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fieldvalidation.h"
#include "fields.h"
#include "hooks.h"
#include "json.h"
#include "log.h"
#include "managedfields.h"
#include "mem.h"
#include "objmeta.h"
#include "openapi/schema.h"
#include "patch/patch.h"
#include "printers/printers.h"
#include "registry/fieldutil.h"
#include "registry/strategy.h"
#include "selector.h"
#include "storage/etcd.h"
#include "subresources.h"
#include "timeutil.h"
#include "watch.h"
#include "watchcache.h"

static const struct resource *namespaces_resource(void)
{
    return resource_find("", "v1", "namespaces");
}

/* 404 NotFound for a resource that does not exist (unknown name in URL). */
static int not_found(const struct resource *r, const char *name, struct ck_error *err)
{
    char qr[300];
    store_qualified_resource(r, qr, sizeof(qr));
    ck_error_set(err, 404, CK_REASON_NOT_FOUND, "%s \"%s\" not found", qr, name);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "name", name);
    if (r->group[0])
        cJSON_AddStringToObject(d, "group", r->group);
    cJSON_AddStringToObject(d, "kind", r->plural);
    ck_error_set_details(err, d);
    return -ENOENT;
}

/* Namespace lifecycle admission for writes into ns: the namespace must exist, and a
 * terminating one takes no new objects (upstream's NamespaceLifecycle plugin).
 * With cached_rv, an active namespace is first looked up in the watch cache (as upstream's
 * plugin reads its informer): on a hit *cached_rv gets the cached namespace's revision and
 * the caller must guard its write with it (store_create_guarded), so a namespace that changed
 * meanwhile is caught; otherwise (and without cached_rv) the namespace is read from etcd. */
static int admit_namespace(struct apiserver *s, const struct resource *r, const char *ns,
                           const char *name, int64_t *cached_rv, struct ck_error *err)
{
    if (!r->namespaced)
        return 0;
    if (cached_rv) {
        *cached_rv = 0;
        struct wc_obj *o = NULL;
        if (watchcache_lookup(s, namespaces_resource(), "", ns, &o, NULL) == 0) {
            bool active = strcmp(ck_json_get_string(o->obj, "status.phase", ""), "Terminating");
            if (active)
                *cached_rv = o->rv;
            wc_obj_unref(o);
            if (active)
                return 0;
        }
    }
    cJSON *nsobj = NULL;
    int rc = store_get(&s->store, namespaces_resource(), "", ns, &nsobj, err);
    if (rc < 0)
        return rc;
    const char *phase = ck_json_get_string(nsobj, "status.phase", "");
    bool terminating = !strcmp(phase, "Terminating");
    cJSON_Delete(nsobj);
    if (terminating) {
        ck_error_set(err, 403, CK_REASON_FORBIDDEN,
                     "%s \"%s\" is forbidden: unable to create new content in namespace %s "
                     "because it is being terminated",
                     r->plural, name, ns);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "kind", r->plural);
        cJSON *causes = cJSON_AddArrayToObject(d, "causes");
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "reason", "NamespaceTerminating");
        cJSON_AddStringToObject(c, "message",
                                "namespace is being terminated"); /* upstream's cause text */
        cJSON_AddStringToObject(c, "field", "metadata.namespace");
        cJSON_AddItemToArray(causes, c);
        ck_error_set_details(err, d);
        return -EPERM;
    }
    return 0;
}

bool rest_dry_run(struct ck_http_req *req, struct ck_error *err, int *rc)
{
    const char *dr = ck_http_query(req, "dryRun");
    *rc = 0;
    if (!dr || !dr[0])
        return false;
    if (strcmp(dr, "All")) {
        *rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                           "dryRun: Unsupported value: \"%s\": supported values: \"All\"", dr);
        return false;
    }
    return true;
}

/* ---- read ---- */

static int do_get(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                  const struct resource *r, struct ck_error *err)
{
    cJSON *obj = NULL;
    int rc;
    if (codec_wants_table(req) &&
        (rc = printers_check_include_object(ck_http_query(req, "includeObject"), err)) < 0)
        return rc;
    rc = store_get(&s->store, r, ri->namespace_, ri->name, &obj, err);
    if (rc < 0)
        return rc;
    if (ri->subresource[0] && strcmp(ri->subresource, "status")) {
        cJSON_Delete(obj);
        return ck_error_set(err, 404, CK_REASON_NOT_FOUND,
                            "the server could not find the requested resource");
    }
    if (codec_wants_table(req)) {
        struct timespec now;
        ck_time_now(&now);
        cJSON *t = printers_table_object(r, obj, ck_http_query(req, "includeObject"), &now);
        cJSON_Delete(obj);
        obj = t;
    }
    codec_respond(req, 200, obj);
    cJSON_Delete(obj);
    return 0;
}

struct list_filter {
    const struct resource *r;
    struct ck_label_selector *labels;
    struct ck_field_selector *fields;
};

static bool list_keep(const cJSON *obj, void *vctx)
{
    struct list_filter *f = vctx;
    const cJSON *labels = ck_json_get(obj, "metadata.labels");
    if (f->labels && !ck_label_selector_matches(f->labels, labels))
        return false;
    if (f->fields && !fields_match(f->r, f->fields, obj))
        return false;
    return true;
}

static int parse_int64_param(struct ck_http_req *req, const char *name, int64_t *out,
                             struct ck_error *err)
{
    const char *v = ck_http_query(req, name);
    *out = 0;
    if (!v || !v[0])
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n < 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "invalid value for %s: %s: strconv.ParseInt: parsing \"%s\": invalid "
                            "syntax",
                            name, v, v);
    *out = n;
    return 0;
}

/* Upstream serves lists with resourceVersion=0, or NotOlderThan a revision, from the watch
 * cache (no pagination); other lists read etcd. */
static bool from_cache(struct ck_http_req *req, const char *continue_token)
{
    const char *rv = ck_http_query(req, "resourceVersion");
    const char *rvm = ck_http_query(req, "resourceVersionMatch");
    if (continue_token && continue_token[0])
        return false;
    if (rvm && !strcmp(rvm, "NotOlderThan") && rv && rv[0])
        return true;
    return rv && !strcmp(rv, "0") && (!rvm || !rvm[0]);
}

static int list_from_cache(struct apiserver *s, const struct resource *r,
                           const struct store_list_opts *o, struct store_list_result *out,
                           struct ck_error *err)
{
    struct watchcache *wc;
    int rc = watchcache_get(s, r, &wc, err);
    if (rc < 0)
        return rc;
    struct wc_obj **objs;
    size_t n;
    int64_t rv;
    if ((rc = watchcache_snapshot(wc, o->ns, o->rv, &objs, &n, &rv, err)) < 0)
        return rc;
    memset(out, 0, sizeof(*out));
    out->items = cJSON_CreateArray();
    out->rv = rv;
    out->remaining = -1;
    for (size_t i = 0; i < n; i++) {
        if (!o->filter || o->filter(objs[i]->obj, o->filter_ctx))
            cJSON_AddItemToArray(out->items, ck_json_dup(objs[i]->obj));
        wc_obj_unref(objs[i]);
    }
    free(objs);
    return 0;
}

static int do_list(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                   const struct resource *r, struct ck_error *err)
{
    struct list_filter f = {.r = r};
    int rc = 0;
    const char *ls = ck_http_query(req, "labelSelector");
    const char *fs = ck_http_query(req, "fieldSelector");
    if (ls && ls[0] && (rc = ck_label_selector_parse(ls, &f.labels, err)) < 0)
        goto out;
    if (fs && fs[0]) {
        if ((rc = ck_field_selector_parse(fs, &f.fields, err)) < 0)
            goto out;
        if ((rc = fields_check(r, f.fields, err)) < 0)
            goto out;
    }
    struct store_list_opts o = {.ns = ri->namespace_, .filter_ctx = &f};
    if (f.labels || f.fields)
        o.filter = list_keep;
    if ((rc = parse_int64_param(req, "limit", &o.limit, err)) < 0)
        goto out;
    o.continue_token = ck_http_query(req, "continue");
    const char *rv = ck_http_query(req, "resourceVersion");
    const char *rvm = ck_http_query(req, "resourceVersionMatch");
    if (rv && rv[0] && strcmp(rv, "0") && rvm && rvm[0]) {
        if ((rc = parse_int64_param(req, "resourceVersion", &o.rv, err)) < 0)
            goto out;
    }
    bool table = codec_wants_table(req);
    if (table && (rc = printers_check_include_object(ck_http_query(req, "includeObject"), err)) < 0)
        goto out;
    struct store_list_result res;
    if (from_cache(req, o.continue_token))
        rc = list_from_cache(s, r, &o, &res, err);
    else
        rc = store_list(&s->store, r, &o, &res, err);
    if (rc < 0)
        goto out;
    if (table) {
        struct timespec now;
        ck_time_now(&now);
        char rvs[32];
        snprintf(rvs, sizeof(rvs), "%lld", (long long)res.rv);
        cJSON *t = printers_table(r, res.items, ck_http_query(req, "includeObject"), rvs,
                                  res.continue_token, res.continue_token ? res.remaining : -1,
                                  &now);
        store_list_result_free(&res);
        codec_respond(req, 200, t);
        cJSON_Delete(t);
        goto out;
    }
    cJSON *list = cJSON_CreateObject();
    char gv[300], kind[300];
    resource_api_version(r, gv, sizeof(gv));
    snprintf(kind, sizeof(kind), "%sList", r->kind);
    cJSON_AddStringToObject(list, "kind", kind);
    cJSON_AddStringToObject(list, "apiVersion", gv);
    cJSON *meta = cJSON_AddObjectToObject(list, "metadata");
    char rvs[32];
    snprintf(rvs, sizeof(rvs), "%lld", (long long)res.rv);
    cJSON_AddStringToObject(meta, "resourceVersion", rvs);
    if (res.continue_token) {
        cJSON_AddStringToObject(meta, "continue", res.continue_token);
        if (res.remaining >= 0)
            cJSON_AddItemToObject(meta, "remainingItemCount", ck_json_new_int64(res.remaining));
    }
    cJSON_AddItemToObject(list, "items", res.items);
    res.items = NULL;
    store_list_result_free(&res);
    codec_respond(req, 200, list);
    cJSON_Delete(list);
out:
    ck_label_selector_free(f.labels);
    ck_field_selector_free(f.fields);
    return rc;
}

/* ---- managedFields and fieldValidation (managedfields.h, fieldvalidation.h) ---- */

/* The kind's schema (root NULL: no schema, fields are deduced from the values). */
static struct mf_type mf_type_for(const struct resource *r)
{
    const struct schema_doc *doc = schema_builtin();
    struct mf_type t = {doc, doc ? schema_for_gvk(doc, r->group, r->version, r->kind, NULL) : NULL};
    return t;
}

/* The field manager of a request; caller frees. */
static char *request_manager(struct ck_http_req *req)
{
    return mf_manager_name(ck_http_query(req, "fieldManager"), ck_http_header(req, "User-Agent"));
}

static bool has_status_split(const struct resource *r)
{
    return (r->strategy->flags & STRAT_STATUS) != 0;
}

void rest_record_update(struct ck_http_req *req, const struct resource *r, const cJSON *old,
                          cJSON *obj, const char *subresource)
{
    struct mf_type t = mf_type_for(r);
    char gv[300], now[CK_TIME_BUFSZ];
    resource_api_version(r, gv, sizeof(gv));
    ck_time_now_string(now);
    CK_AUTOFREE char *manager = request_manager(req);
    mf_record_update(&t, old, obj, manager, gv, subresource, has_status_split(r), now);
}

/* fieldValidation of a decoded body: unknown fields go from obj, duplicates are looked for in
 * the raw JSON body when `raw_body`; Strict fails with `prefix` before upstream's message. */
static int check_fields(struct ck_http_req *req, const struct resource *r, enum fv_directive d,
                        cJSON *obj, bool raw_body, const char *prefix, struct ck_error *err)
{
    struct mf_type t = mf_type_for(r);
    if (!t.root)
        return 0;
    cJSON *raw = NULL;
    const char *ct = ck_http_header(req, "Content-Type");
    size_t len;
    const char *body = ck_http_body(req, &len);
    if (raw_body && d != FV_IGNORE && body && (!ct || strstr(ct, "json"))) {
        size_t i = 0;
        while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
            i++;
        if (i < len && body[i] == '{')
            raw = cJSON_ParseWithLength(body, len);
    }
    CK_AUTOERRLIST struct ck_errlist l = CK_ERRLIST_INIT;
    fv_check(t.doc, t.root, raw, obj, &l);
    cJSON_Delete(raw);
    return fv_report(req, d, &l, prefix, err);
}

/* fieldValidation of a create or update body (upstream's transformDecodeError words Strict);
 * dup_keys: the body repeated a key somewhere (codec_decode_object says), so the messages must
 * come from the raw body, not from obj. */
static int check_body_fields(struct ck_http_req *req, const struct resource *r,
                             const char *options_kind, cJSON *obj, bool dup_keys,
                             struct ck_error *err)
{
    enum fv_directive d;
    int rc = fv_parse_directive(ck_http_query(req, "fieldValidation"), options_kind, &d, err);
    if (rc < 0)
        return rc;
    CK_AUTOFREE char *prefix = ck_xasprintf(
        "%s in version \"%s\" cannot be handled as a %s: ", r->kind, r->version, r->kind);
    return check_fields(req, r, d, obj, dup_keys, prefix, err);
}

/* ---- create ---- */

/* A namespaced object's namespace is the request's: an empty one is filled in, another one
 * is a 400, as upstream. */
static int adopt_request_namespace(const struct resource *r, const struct request_info *ri,
                                   cJSON *obj, struct ck_error *err)
{
    if (!r->namespaced)
        return 0;
    const char *ns = meta_namespace(obj);
    if (ns[0] && strcmp(ns, ri->namespace_))
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "the namespace of the provided object does not match the namespace "
                            "sent on the request");
    meta_set_str(obj, "namespace", ri->namespace_);
    return 0;
}

/* The rest of every create once obj is prepared and its field manager recorded: mutating
 * admission, validation, namespace admission, the resource's hooks, storage (one transaction
 * guarded on the cached namespace) and the 201 response. Takes nothing from obj's owner. */
static int admit_and_store(struct apiserver *s, struct ck_http_req *req,
                           const struct request_info *ri, const struct resource *r, cJSON *obj,
                           bool dry, struct ck_error *err)
{
    /* after the field manager, as upstream: what admission adds belongs to no manager */
    const struct resource_hooks *h = hooks_for(r);
    int rc;
    if (h && h->admit && (rc = h->admit(s, obj, err)) < 0)
        return rc;
    struct field_errors fe = FIELD_ERRORS_INIT;
    meta_validate_create(r, obj, &fe);
    if (fe.len) {
        rc = fe_to_error(&fe, r->group, r->kind, meta_name(obj), err);
        field_errors_free(&fe);
        return rc;
    }
    int64_t ns_rv = 0;
    if ((rc = admit_namespace(s, r, ri->namespace_, meta_name(obj), &ns_rv, err)) < 0)
        return rc;
    if (!dry && h && h->create && (rc = h->create(s, obj, err)) < 0)
        return rc;
    if (!dry) {
        /* admitted on the cached namespace: one transaction checks it is still that one */
        rc = store_create_guarded(&s->store, r, obj, ns_rv ? namespaces_resource() : NULL,
                                  "", ri->namespace_, ns_rv, err);
        if (rc == -ESTALE && (rc = admit_namespace(s, r, ri->namespace_, meta_name(obj), NULL,
                                                   err)) == 0)
            rc = store_create(&s->store, r, obj, err);
        if (rc < 0) {
            if (h && h->create_failed)
                h->create_failed(s, obj);
            return rc;
        }
    }
    codec_respond(req, 201, obj);
    return 0;
}

static int do_create(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                     const struct resource *r, struct ck_error *err)
{
    cJSON *obj = NULL;
    bool dup_keys = false;
    int rc = codec_decode_object(req, r, &obj, &dup_keys, err);
    if (rc < 0)
        return rc;
    bool dry = rest_dry_run(req, err, &rc);
    if (rc < 0)
        goto out;
    if ((rc = check_body_fields(req, r, "CreateOptions", obj, dup_keys, err)) < 0 ||
        (rc = adopt_request_namespace(r, ri, obj, err)) < 0)
        goto out;
    meta_prepare_create(r, obj);
    rest_record_update(req, r, NULL, obj, "");
    rc = admit_and_store(s, req, ri, r, obj, dry, err);
out:
    cJSON_Delete(obj);
    return rc;
}

/* ---- update and patch ---- */

enum write_kind { WRITE_UPDATE, WRITE_PATCH };

struct update_ctx {
    struct apiserver *s;
    const struct resource *r;
    const struct request_info *ri;
    enum write_kind kind;
    const cJSON *input;       /* the PUT body or the patch */
    const char *content_type; /* of a patch */
    bool status;        /* /status subresource */
    bool dry;
    const struct resource_hooks *hooks;
    cJSON *tried, *tried_old; /* the last attempt the hooks prepared, and its base */
    bool deleted;             /* the last attempt deletes the object */
    struct ck_http_req *req;
    bool apply, force;         /* server-side apply, ?force=true */
    const char *manager;       /* apply's fieldManager */
    enum fv_directive fvd;     /* fieldValidation of a patch result */
    struct ck_errlist fv_errs; /* what the last attempt's patch result held */
};

/* An attempt the hooks prepared was not written (or is being retried): undo it. */
static void hooks_undo(struct update_ctx *c)
{
    if (c->tried && c->hooks && c->hooks->update_done)
        c->hooks->update_done(c->s, NULL, c->tried_old, c->tried);
    cJSON_Delete(c->tried);
    cJSON_Delete(c->tried_old);
    c->tried = c->tried_old = NULL;
}

int rest_conflict(const struct resource *r, const char *name, struct ck_error *err)
{
    char qr[300];
    store_qualified_resource(r, qr, sizeof(qr));
    ck_error_set(err, 409, CK_REASON_CONFLICT,
                 "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
                 "please apply your changes to the latest version and try again",
                 qr, name);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "name", name);
    if (r->group[0])
        cJSON_AddStringToObject(d, "group", r->group);
    cJSON_AddStringToObject(d, "kind", r->plural);
    ck_error_set_details(err, d);
    return -EBUSY;
}

static bool has_finalizers(const struct resource *r, const cJSON *obj)
{
    return cJSON_GetArraySize(ck_json_get(obj, "metadata.finalizers")) > 0 ||
           (r->strategy->held && r->strategy->held(obj));
}

static int update_fn(const cJSON *current, void *vctx, cJSON **next, bool *delete_it,
                     struct ck_error *err)
{
    struct update_ctx *c = vctx;
    cJSON *obj;
    if (c->kind == WRITE_PATCH && c->apply) {
        const char *prv = ck_json_get_string(c->input, "metadata.resourceVersion", "");
        if (prv[0] && strcmp(prv, meta_str(current, "resourceVersion")))
            return rest_conflict(c->r, c->ri->name, err);
        struct mf_type t = mf_type_for(c->r);
        char gv[300], now[CK_TIME_BUFSZ];
        resource_api_version(c->r, gv, sizeof(gv));
        ck_time_now_string(now);
        struct mf_apply_opts o = {.manager = c->manager,
                                  .api_version = gv,
                                  .subresource = c->status ? "status" : "",
                                  .force = c->force,
                                  .has_status = has_status_split(c->r),
                                  .now = now};
        int arc = mf_apply(&t, current, c->input, &o, &obj, err);
        if (arc < 0)
            return arc;
    } else if (c->kind == WRITE_PATCH) {
        int prc = patch_apply(c->content_type, current, c->input, c->r->group, c->r->version,
                              c->r->kind, &obj, err);
        if (prc < 0)
            return prc;
        /* a patch that names a resourceVersion makes it a precondition */
        const char *prv = ck_json_get_string(obj, "metadata.resourceVersion", "");
        if (prv[0] && strcmp(prv, meta_str(current, "resourceVersion"))) {
            cJSON_Delete(obj);
            return rest_conflict(c->r, c->ri->name, err);
        }
        /* fieldValidation looks at the patched object */
        ck_errlist_free(&c->fv_errs);
        struct mf_type t = mf_type_for(c->r);
        fv_check(t.doc, t.root, NULL, obj, &c->fv_errs);
        if (c->fvd == FV_STRICT && c->fv_errs.n) {
            cJSON_Delete(obj);
            return fv_report(NULL, c->fvd, &c->fv_errs, "", err);
        }
    } else {
        obj = ck_json_dup(c->input);
        const char *rv = meta_str(obj, "resourceVersion");
        if (rv[0] && strcmp(rv, meta_str(current, "resourceVersion"))) {
            cJSON_Delete(obj);
            return rest_conflict(c->r, c->ri->name, err);
        }
    }
    meta_prepare_update(c->r, obj, current, c->status);
    if (!c->apply)
        rest_record_update(c->req, c->r, current, obj, c->status ? "status" : "");
    struct field_errors fe = FIELD_ERRORS_INIT;
    meta_validate_update(c->r, obj, current, c->status, &fe);
    if (fe.len) {
        int rc = fe_to_error(&fe, c->r->group, c->r->kind, c->ri->name, err);
        field_errors_free(&fe);
        cJSON_Delete(obj);
        return rc;
    }
    hooks_undo(c); /* a retry: the previous round's allocations go back first */
    if (c->hooks && c->hooks->update && !c->status && !c->dry) {
        int rc = c->hooks->update(c->s, obj, current, err);
        if (rc < 0) {
            cJSON_Delete(obj);
            return rc;
        }
        c->tried = ck_json_dup(obj);
        c->tried_old = ck_json_dup(current);
    }
    /* an object marked for deletion whose last finalizer went and whose grace period is over
     * goes away with this update (upstream's ShouldDeleteDuringUpdate) */
    if (ck_json_get(obj, "metadata.deletionTimestamp") && !has_finalizers(c->r, obj) &&
        ck_json_get_int64(obj, "metadata.deletionGracePeriodSeconds", 0) == 0)
        *delete_it = true;
    c->deleted = *delete_it;
    *next = obj;
    return 0;
}

/* upstream's ValidatePatchOptions: apply needs a fieldManager, force is for apply only. */
static int check_patch_options(struct ck_http_req *req, bool apply, struct ck_error *err)
{
    const char *fm = ck_http_query(req, "fieldManager");
    const char *force = ck_http_query(req, "force");
    struct field_errors fe = FIELD_ERRORS_INIT;
    if (!apply && force)
        fe_add(&fe, FE_FORBIDDEN, "force", NULL, "may not be specified for non-apply patch");
    if (apply && (!fm || !fm[0]))
        fe_add(&fe, FE_REQUIRED, "fieldManager", NULL, "is required for apply patch");
    if (fm && strlen(fm) > MF_MAX_MANAGER)
        fe_add(&fe, FE_TOO_LONG, "fieldManager", NULL, "may not be more than %d bytes",
               MF_MAX_MANAGER);
    int rc = 0;
    if (fe.len)
        rc = fe_to_error(&fe, "meta.k8s.io", "PatchOptions", "", err);
    field_errors_free(&fe);
    return rc;
}

/* Server-side apply of an object that does not exist creates it (upstream's apply patcher
 * allows create): the applied configuration over the kind's zero object, then the create
 * path. */
static int apply_create(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                        const struct resource *r, struct update_ctx *c, struct ck_error *err)
{
    struct mf_type t = mf_type_for(r);
    char gv[300], now[CK_TIME_BUFSZ];
    resource_api_version(r, gv, sizeof(gv));
    ck_time_now_string(now);
    struct mf_apply_opts o = {.manager = c->manager,
                              .api_version = gv,
                              .subresource = "",
                              .force = c->force,
                              .has_status = has_status_split(r),
                              .now = now};
    cJSON *obj = NULL;
    int rc = mf_apply(&t, NULL, c->input, &o, &obj, err);
    if (rc < 0)
        return rc;
    const char *av = ck_json_get_string(obj, "apiVersion", "");
    const char *kind = ck_json_get_string(obj, "kind", "");
    if (strcmp(av, gv) || strcmp(kind, r->kind)) {
        rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                          "the API version in the data (%s) does not match the expected API "
                          "version (%s)",
                          av, gv);
        goto out;
    }
    if (strcmp(meta_name(obj), ri->name)) {
        rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                          "the name of the object (%s) does not match the name on the URL (%s)",
                          meta_name(obj), ri->name);
        goto out;
    }
    if ((rc = adopt_request_namespace(r, ri, obj, err)) < 0)
        goto out;
    cJSON *mf = ck_json_detach(obj, "metadata.managedFields");
    meta_prepare_create(r, obj);
    if (mf)
        cJSON_AddItemToObject(meta_of(obj), "managedFields", mf);
    rc = admit_and_store(s, req, ri, r, obj, c->dry, err);
out:
    cJSON_Delete(obj);
    return rc;
}

static int do_write(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                    const struct resource *r, enum write_kind kind, struct ck_error *err)
{
    cJSON *input = NULL;
    const char *ct = NULL;
    int rc;
    bool dup_keys = false;
    if (kind == WRITE_UPDATE) {
        rc = codec_decode_object(req, r, &input, &dup_keys, err);
        if (rc < 0)
            return rc;
        const char *name = meta_name(input);
        if (strcmp(name, ri->name)) {
            rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                              "the name of the object (%s) does not match the name on the URL "
                              "(%s)",
                              name, ri->name);
            goto out;
        }
        if ((rc = adopt_request_namespace(r, ri, input, err)) < 0)
            goto out;
        if ((rc = check_body_fields(req, r, "UpdateOptions", input, dup_keys, err)) < 0)
            goto out;
    } else {
        ct = ck_http_header(req, "Content-Type");
        enum patch_type pt = patch_type_of(ct);
        if (pt == PATCH_UNKNOWN) {
            rc = ck_error_set(err, 415, CK_REASON_UNSUPPORTED_MEDIA,
                              "the body of the request was in an unknown format - accepted media "
                              "types include: application/json-patch+json, "
                              "application/merge-patch+json, "
                              "application/strategic-merge-patch+json, "
                              "application/apply-patch+yaml");
            return rc;
        }
        if ((rc = check_patch_options(req, pt == PATCH_APPLY, err)) < 0)
            return rc;
        if ((rc = codec_decode_any(req, &input, err)) < 0)
            return rc;
        if (pt != PATCH_JSON && !cJSON_IsObject(input)) {
            rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                              "json: cannot unmarshal into Go value of type map[string]interface "
                              "{}");
            goto out;
        }
    }
    bool dry = rest_dry_run(req, err, &rc);
    if (rc < 0)
        goto out;
    bool apply = kind == WRITE_PATCH && patch_type_of(ct) == PATCH_APPLY;
    enum fv_directive fvd = FV_WARN;
    if (kind == WRITE_PATCH && (rc = fv_parse_directive(ck_http_query(req, "fieldValidation"),
                                                        "PatchOptions", &fvd, err)) < 0)
        goto out;
    if (apply && (rc = check_fields(req, r, fvd, input, false, "", err)) < 0)
        goto out;
    CK_AUTOFREE char *manager = request_manager(req);
    const char *force = ck_http_query(req, "force");
    struct update_ctx c = {.s = s,
                           .r = r,
                           .ri = ri,
                           .kind = kind,
                           .input = input,
                           .content_type = ct,
                           .status = !strcmp(ri->subresource, "status"),
                           .dry = dry,
                           .hooks = hooks_for(r),
                           .req = req,
                           .apply = apply,
                           .force = force && !strcmp(force, "true"),
                           .manager = manager,
                           .fvd = fvd,
                           .fv_errs = CK_ERRLIST_INIT};
    cJSON *out = NULL;
    rc = store_update(&s->store, r, ri->namespace_, ri->name, update_fn, &c,
                      dry ? STORE_DRY_RUN : 0, &out, err);
    if (rc == 0)
        rc = fv_report(req, fvd == FV_STRICT ? FV_IGNORE : fvd, &c.fv_errs, "", err);
    ck_errlist_free(&c.fv_errs);
    if (rc == -ENOENT && apply && err && err->code == 404 && !c.status) {
        ck_error_clear(err);
        rc = apply_create(s, req, ri, r, &c, err);
        goto out;
    }
    if (rc == 0 && c.tried && c.hooks->update_done)
        c.hooks->update_done(s, out, c.tried_old, c.tried);
    else
        hooks_undo(&c);
    cJSON_Delete(c.tried);
    cJSON_Delete(c.tried_old);
    if (rc == 0 && c.deleted && c.hooks && c.hooks->deleted)
        c.hooks->deleted(s, out);
    if (rc == -ENOENT && err && err->code == 404)
        not_found(r, ri->name, err);
    if (rc < 0)
        goto out;
    codec_respond(req, 200, out);
    cJSON_Delete(out);
out:
    cJSON_Delete(input);
    return rc;
}

/* ---- delete ---- */

static cJSON *success_status(const struct resource *r, const cJSON *obj)
{
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "kind", "Status");
    cJSON_AddStringToObject(st, "apiVersion", "v1");
    cJSON_AddObjectToObject(st, "metadata");
    cJSON_AddStringToObject(st, "status", "Success");
    cJSON *d = cJSON_AddObjectToObject(st, "details");
    cJSON_AddStringToObject(d, "name", meta_name(obj));
    if (r->group[0])
        cJSON_AddStringToObject(d, "group", r->group);
    cJSON_AddStringToObject(d, "kind", r->plural);
    cJSON_AddStringToObject(d, "uid", meta_str(obj, "uid"));
    return st;
}

struct delete_ctx {
    struct apiserver *s;
    const struct resource *r;
    const cJSON *opts; /* DeleteOptions, may be NULL */
    bool pending;      /* set: the object stays (finalizers or grace), marked for deletion */
    int round;         /* guaranteed-update attempts so far */
};

static void set_deletion(cJSON *obj, int64_t grace)
{
    struct timespec t;
    ck_time_now(&t);
    t.tv_sec += grace;
    char ts[CK_TIME_BUFSZ];
    ck_time_format(&t, ts);
    ck_json_set_string(obj, "metadata.deletionTimestamp", ts);
    ck_json_set_int64(obj, "metadata.deletionGracePeriodSeconds", grace);
}

/* A 409 Conflict "Operation cannot be fulfilled on <what> "<name>": <why>", details naming
 * `kind` as upstream's NewConflict does. Returns -EBUSY. */
static int delete_conflict(const struct resource *r, const char *what, const char *kind,
                           const char *name, const char *why, struct ck_error *err)
{
    ck_error_set(err, 409, CK_REASON_CONFLICT, "Operation cannot be fulfilled on %s \"%s\": %s",
                 what, name, why);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "name", name);
    if (r->group[0])
        cJSON_AddStringToObject(d, "group", r->group);
    cJSON_AddStringToObject(d, "kind", kind);
    ck_error_set_details(err, d);
    return -EBUSY;
}

/* DeleteOptions.preconditions against the object about to be deleted. The first attempt is
 * upstream's BeforeDelete check on the object just read (a conflict named by Kind); a retry,
 * after the object moved under us, is the storage layer's Preconditions.Check (a conflict on
 * the resource wrapping the StorageError text with the etcd key). */
static int check_preconditions(struct delete_ctx *c, const cJSON *current, struct ck_error *err)
{
    const cJSON *uid = ck_json_get(c->opts, "preconditions.uid");
    const cJSON *rv = ck_json_get(c->opts, "preconditions.resourceVersion");
    const char *have_uid = ck_json_get_string(current, "metadata.uid", "");
    const char *have_rv = ck_json_get_string(current, "metadata.resourceVersion", "");
    const char *name = ck_json_get_string(current, "metadata.name", "");
    bool uid_bad = cJSON_IsString(uid) && strcmp(uid->valuestring, have_uid);
    bool rv_bad = !uid_bad && cJSON_IsString(rv) && strcmp(rv->valuestring, have_rv);
    if (!uid_bad && !rv_bad)
        return 0;
    const struct resource *r = c->r;
    if (c->round == 1) {
        CK_AUTOFREE char *kind =
            r->group[0] ? ck_xasprintf("%s.%s", r->kind, r->group) : ck_xstrdup(r->kind);
        CK_AUTOFREE char *why =
            uid_bad ? ck_xasprintf("the UID in the precondition (%s) does not match the UID in "
                                   "record (%s). The object might have been deleted and then "
                                   "recreated",
                                   uid->valuestring, have_uid)
                    : ck_xasprintf("the ResourceVersion in the precondition (%s) does not match "
                                   "the ResourceVersion in record (%s). The object might have "
                                   "been modified",
                                   rv->valuestring, have_rv);
        return delete_conflict(r, kind, r->kind, name, why, err);
    }
    char qr[300];
    store_qualified_resource(r, qr, sizeof(qr));
    char *key = NULL;
    struct ck_error kerr = CK_ERROR_INIT;
    if (etcd_key(c->s->store.prefix, r->storage, r->namespaced ? meta_namespace(current) : NULL,
                 name, &key, &kerr) < 0)
        key = ck_xstrdup("");
    ck_error_clear(&kerr);
    CK_AUTOFREE char *why =
        uid_bad ? ck_xasprintf("StorageError: invalid object, Code: 4, Key: %s, ResourceVersion: "
                               "0, AdditionalErrorMsg: Precondition failed: UID in precondition: "
                               "%s, UID in object meta: %s",
                               key, uid->valuestring, have_uid)
                : ck_xasprintf("StorageError: invalid object, Code: 4, Key: %s, ResourceVersion: "
                               "0, AdditionalErrorMsg: Precondition failed: ResourceVersion in "
                               "precondition: %s, ResourceVersion in object meta: %s",
                               key, rv->valuestring, have_rv);
    free(key);
    return delete_conflict(r, qr, r->plural, name, why, err);
}

static bool has_string(const cJSON *arr, const char *want)
{
    for (const cJSON *v = cJSON_IsArray(arr) ? arr->child : NULL; v; v = v->next)
        if (cJSON_IsString(v) && !strcmp(v->valuestring, want))
            return true;
    return false;
}

/* Upstream's deletionFinalizersForGarbageCollection: which of "orphan" and
 * "foregroundDeletion" the object keeps is decided by orphanDependents, else propagationPolicy,
 * else the first of the two already on the object. When that changes the set of finalizers,
 * both are dropped and the chosen one appended (the field goes when nothing is left). */
static void gc_finalizers(const cJSON *opts, cJSON *obj)
{
    const cJSON *od = ck_json_get(opts, "orphanDependents");
    const char *policy = ck_json_get_string(opts, "propagationPolicy", "");
    cJSON *arr = ck_json_get(obj, "metadata.finalizers");
    bool orphan = false, foreground = false;
    if (cJSON_IsBool(od)) {
        orphan = cJSON_IsTrue(od);
    } else if (policy[0]) {
        orphan = !strcmp(policy, "Orphan");
        foreground = !strcmp(policy, "Foreground");
    } else {
        for (const cJSON *f = cJSON_IsArray(arr) ? arr->child : NULL; f; f = f->next) {
            if (!cJSON_IsString(f))
                continue;
            orphan = !strcmp(f->valuestring, "orphan");
            foreground = !strcmp(f->valuestring, "foregroundDeletion");
            if (orphan || foreground)
                break;
        }
    }
    if (has_string(arr, "orphan") == orphan && has_string(arr, "foregroundDeletion") == foreground)
        return;
    for (cJSON *f = cJSON_IsArray(arr) ? arr->child : NULL, *nx; f; f = nx) {
        nx = f->next;
        if (cJSON_IsString(f) &&
            (!strcmp(f->valuestring, "orphan") || !strcmp(f->valuestring, "foregroundDeletion")))
            cJSON_Delete(cJSON_DetachItemViaPointer(arr, f));
    }
    if (orphan || foreground) {
        arr = ck_json_ensure_array(obj, "metadata.finalizers");
        cJSON_AddItemToArray(arr, cJSON_CreateString(orphan ? "orphan" : "foregroundDeletion"));
    } else if (cJSON_IsArray(arr) && !arr->child) {
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
                                                "finalizers");
    }
}

/* Upstream's BeforeDelete: objects that finalizers hold or that get a grace period are marked
 * (deletionTimestamp = now + grace) and stay; a repeated delete may only shorten the grace;
 * the rest are deleted at once. Orphan/Foreground policies set their finalizers. */
static int delete_fn(const cJSON *current, void *vctx, cJSON **next, bool *delete_it,
                     struct ck_error *err)
{
    struct delete_ctx *c = vctx;
    c->round++;
    c->pending = false;
    int rc = check_preconditions(c, current, err);
    if (rc < 0)
        return rc;
    const struct strategy *st = c->r->strategy;
    int64_t grace = st->grace_period ? st->grace_period(current, c->opts) : 0;
    cJSON *obj = ck_json_dup(current);
    gc_finalizers(c->opts, obj);
    bool held = has_finalizers(c->r, obj);
    if (ck_json_get(current, "metadata.deletionTimestamp")) {
        int64_t cur = ck_json_get_int64(current, "metadata.deletionGracePeriodSeconds", 0);
        if (cJSON_IsNumber(ck_json_get(c->opts, "gracePeriodSeconds")) && grace < cur)
            set_deletion(obj, grace);
        else
            grace = cur;
    } else if (grace > 0 || held) {
        set_deletion(obj, grace);
        if (st->prepare_delete)
            st->prepare_delete(obj);
    }
    if (grace == 0 && !held) {
        cJSON_Delete(obj);
        *delete_it = true;
        return 0;
    }
    c->pending = true;
    *next = obj;
    return 0;
}

/* Go's strconv.ParseBool, as the query parameter decoder uses. Returns 0/1, or -1. */
static int go_parse_bool(const char *v)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(yes); i++) {
        if (!strcmp(v, yes[i]))
            return 1;
        if (!strcmp(v, no[i]))
            return 0;
    }
    return -1;
}

/* DeleteOptions as upstream's delete handler takes them: from the body when there is one,
 * else from the query (gracePeriodSeconds, propagationPolicy, orphanDependents; preconditions
 * have no query form), then upstream's ValidateDeleteOptions (422 on DeleteOptions). *opts
 * (caller frees) is NULL when none were given. */
static int delete_options(struct ck_http_req *req, cJSON **opts, struct ck_error *err)
{
    size_t len;
    ck_http_body(req, &len);
    int rc;
    *opts = NULL;
    if (len) {
        if ((rc = codec_decode_any(req, opts, err)) < 0)
            return rc;
        if (!cJSON_IsObject(*opts)) {
            cJSON_Delete(*opts);
            *opts = NULL;
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                "decoded object cannot be converted to DeleteOptions");
        }
    } else {
        const char *pp = ck_http_query(req, "propagationPolicy");
        const char *gp = ck_http_query(req, "gracePeriodSeconds");
        const char *od = ck_http_query(req, "orphanDependents");
        if ((pp && pp[0]) || (gp && gp[0]) || (od && od[0]))
            *opts = cJSON_CreateObject();
        if (pp && pp[0])
            ck_json_set_string(*opts, "propagationPolicy", pp);
        if (gp && gp[0])
            ck_json_set_int64(*opts, "gracePeriodSeconds", strtoll(gp, NULL, 10));
        if (od && od[0]) {
            int b = go_parse_bool(od);
            if (b < 0) {
                cJSON_Delete(*opts);
                *opts = NULL;
                return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                    "strconv.ParseBool: parsing \"%s\": invalid syntax", od);
            }
            cJSON_AddBoolToObject(*opts, "orphanDependents", b);
        }
    }
    const cJSON *pol = ck_json_get(*opts, "propagationPolicy");
    const cJSON *od = ck_json_get(*opts, "orphanDependents");
    struct field_errors fe = FIELD_ERRORS_INIT;
    if (cJSON_IsString(pol) && od && !cJSON_IsNull(od))
        fe_add(&fe, FE_INVALID, "propagationPolicy", pol,
               "orphanDependents and deletionPropagation cannot be both set");
    if (cJSON_IsString(pol) && strcmp(pol->valuestring, "Foreground") &&
        strcmp(pol->valuestring, "Background") && strcmp(pol->valuestring, "Orphan")) {
        static const char *const ok[] = {"Foreground", "Background", "Orphan", "nil", NULL};
        fe_not_supported(&fe, "propagationPolicy", pol->valuestring, ok);
    }
    const cJSON *dr = ck_json_get(*opts, "dryRun"), *v;
    bool dr_bad = dr && !cJSON_IsNull(dr) && !cJSON_IsArray(dr);
    for (v = cJSON_IsArray(dr) ? dr->child : NULL; v; v = v->next)
        dr_bad |= !cJSON_IsString(v) || strcmp(v->valuestring, "All");
    if (dr_bad) {
        CK_AUTOFREE char *shown = fu_go_render(fu_go_string_slice, dr);
        fe_add_raw(&fe, FE_NOT_SUPPORTED, "dryRun", shown, "supported values: \"All\"");
    }
    rc = 0;
    if (fe.len) {
        rc = fe_to_error(&fe, "meta.k8s.io", "DeleteOptions", "", err);
        cJSON_Delete(*opts);
        *opts = NULL;
    }
    field_errors_free(&fe);
    return rc;
}

/* dryRun of a delete: the query's, or DeleteOptions.dryRun (["All"], validated above), which
 * is where client-go and kubectl --dry-run=server put it. */
static bool delete_dry_run(struct ck_http_req *req, const cJSON *opts, struct ck_error *err,
                           int *rc)
{
    bool dry = rest_dry_run(req, err, rc);
    return dry || (*rc == 0 && cJSON_GetArraySize(ck_json_get(opts, "dryRun")) > 0);
}

static int do_delete(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                     const struct resource *r, struct ck_error *err)
{
    cJSON *opts = NULL;
    int rc = delete_options(req, &opts, err);
    if (rc < 0)
        return rc;
    bool dry = delete_dry_run(req, opts, err, &rc);
    if (rc < 0)
        goto out;
    struct delete_ctx c = {s, r, opts, false, 0};
    cJSON *obj = NULL;
    rc = store_update(&s->store, r, ri->namespace_, ri->name, delete_fn, &c,
                      dry ? STORE_DRY_RUN : 0, &obj, err);
    if (rc < 0)
        goto out;
    if (c.pending) {
        codec_respond(req, 200, obj);
    } else {
        const struct resource_hooks *h = hooks_for(r);
        if (!dry && h && h->deleted)
            h->deleted(s, obj);
        cJSON *st = success_status(r, obj);
        codec_respond(req, 200, st);
        cJSON_Delete(st);
    }
    cJSON_Delete(obj);
out:
    cJSON_Delete(opts);
    return rc;
}

static int do_deletecollection(struct apiserver *s, struct ck_http_req *req,
                               const struct request_info *ri, const struct resource *r,
                               struct ck_error *err)
{
    struct list_filter f = {.r = r};
    cJSON *opts = NULL;
    int rc = delete_options(req, &opts, err);
    if (rc < 0)
        return rc;
    bool dry = delete_dry_run(req, opts, err, &rc);
    if (rc < 0)
        goto out;
    const char *ls = ck_http_query(req, "labelSelector");
    const char *fs = ck_http_query(req, "fieldSelector");
    if (ls && ls[0] && (rc = ck_label_selector_parse(ls, &f.labels, err)) < 0)
        goto out;
    if (fs && fs[0] && ((rc = ck_field_selector_parse(fs, &f.fields, err)) < 0 ||
                        (rc = fields_check(r, f.fields, err)) < 0))
        goto out;
    struct store_list_opts o = {.ns = ri->namespace_, .filter_ctx = &f};
    if (f.labels || f.fields)
        o.filter = list_keep;
    struct store_list_result res;
    if ((rc = store_list(&s->store, r, &o, &res, err)) < 0)
        goto out;
    cJSON *deleted = cJSON_CreateArray();
    const cJSON *item;
    /* as upstream, every item gets the same DeleteOptions; one that fails (but for being gone
     * already) fails the request once the others are done */
    cJSON_ArrayForEach(item, res.items)
    {
        struct delete_ctx c = {s, r, opts, false, 0};
        cJSON *obj = NULL;
        struct ck_error e = CK_ERROR_INIT;
        int drc = store_update(&s->store, r, meta_namespace(item), meta_name(item), delete_fn, &c,
                               dry ? STORE_DRY_RUN : 0, &obj, &e);
        if (drc == 0) {
            const struct resource_hooks *h = hooks_for(r);
            if (!c.pending && !dry && h && h->deleted)
                h->deleted(s, obj);
            cJSON_AddItemToArray(deleted, obj);
        } else if (rc == 0 && e.code != 404) {
            rc = drc;
            if (err) {
                ck_error_set(err, e.code, e.reason, "%s", e.message);
                ck_error_set_details(err, e.details);
                e.details = NULL;
            }
        }
        ck_error_clear(&e);
    }
    store_list_result_free(&res);
    if (rc < 0) {
        cJSON_Delete(deleted);
        goto out;
    }
    cJSON *list = cJSON_CreateObject();
    char gv[300], kind[300];
    resource_api_version(r, gv, sizeof(gv));
    snprintf(kind, sizeof(kind), "%sList", r->kind);
    cJSON_AddStringToObject(list, "kind", kind);
    cJSON_AddStringToObject(list, "apiVersion", gv);
    cJSON_AddObjectToObject(list, "metadata");
    cJSON_AddItemToObject(list, "items", deleted);
    codec_respond(req, 200, list);
    cJSON_Delete(list);
out:
    ck_label_selector_free(f.labels);
    ck_field_selector_free(f.fields);
    cJSON_Delete(opts);
    return rc;
}

/* ---- dispatch ---- */

static bool verb_allowed(const struct resource *r, const char *verb)
{
    for (unsigned bit = 1; bit <= VERB_DELETECOLLECTION; bit <<= 1)
        if (!strcmp(resource_verb_name(bit), verb))
            return r->verbs & bit;
    return false;
}

void rest_handle(struct apiserver *s, struct ck_http_req *req, const struct request_info *ri,
                 const struct resource *r)
{
    struct ck_error err = CK_ERROR_INIT;
    int rc = 0;
    const char *verb = ri->verb;
    unsigned sub = ri->subresource[0] ? resource_subresource_bit(ri->subresource) : 0;

    if (ri->namespace_[0] && !r->namespaced) {
        rc = ck_error_set(&err, 404, CK_REASON_NOT_FOUND,
                          "the server could not find the requested resource");
    } else if (ri->subresource[0] && !(sub & r->subresources)) {
        rc = ck_error_set(&err, 404, CK_REASON_NOT_FOUND,
                          "the server could not find the requested resource");
    } else if (sub == SUB_BINDING || (!strcmp(r->plural, "bindings") && !ri->name[0])) {
        rc = !strcmp(verb, "create") ? subresource_binding(s, req, ri, &err)
                                     : ck_error_set(&err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                                                    "the server does not allow this method on "
                                                    "the requested resource");
    } else if (sub == SUB_SCALE) {
        rc = subresource_scale(s, req, ri, r, &err);
    } else if (sub == SUB_FINALIZE) {
        rc = subresource_finalize(s, req, ri, r, &err);
    } else if (sub && sub != SUB_STATUS) {
        rc = ck_error_set(&err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                          "the server does not allow this method on the requested resource");
    } else if (!verb_allowed(r, verb) && !(sub == SUB_STATUS && (!strcmp(verb, "get") ||
                                                                  !strcmp(verb, "update") ||
                                                                  !strcmp(verb, "patch")))) {
        rc = ck_error_set(&err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                          "the server does not allow this method on the requested resource");
    } else if (!strcmp(verb, "watch")) {
        rc = watch_serve(s, req, ri, r, &err);
    } else if (!strcmp(verb, "get")) {
        rc = do_get(s, req, ri, r, &err);
    } else if (!strcmp(verb, "list")) {
        rc = do_list(s, req, ri, r, &err);
    } else if (!strcmp(verb, "create") && !r->storage) {
        reviews_create(req, ri, r); /* answered, never stored */
    } else if (!strcmp(verb, "create")) {
        rc = do_create(s, req, ri, r, &err);
    } else if (!strcmp(verb, "update")) {
        rc = do_write(s, req, ri, r, WRITE_UPDATE, &err);
    } else if (!strcmp(verb, "patch")) {
        rc = do_write(s, req, ri, r, WRITE_PATCH, &err);
    } else if (!strcmp(verb, "delete")) {
        rc = do_delete(s, req, ri, r, &err);
    } else if (!strcmp(verb, "deletecollection")) {
        rc = do_deletecollection(s, req, ri, r, &err);
    } else {
        rc = ck_error_set(&err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                          "the server does not allow this method on the requested resource");
    }
    if (rc < 0) {
        if (!err.code)
            ck_error_set(&err, 500, CK_REASON_INTERNAL, "internal error (%d)", rc);
        codec_respond_error(req, &err);
    }
    ck_error_clear(&err);
}
