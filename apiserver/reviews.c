/* reviews.c - create of the review resources (see reviews.h). */
#include "reviews.h"

#include <string.h>

#include "buf.h"
#include "codec.h"
#include "gostrconv.h"
#include "json.h"
#include "mem.h"
#include "registry/fielderr.h"
#include "rest.h"
#include "timeutil.h"

/* Who sends every request (see reviews.h). */
static const char INSECURE_USER[] = "system:unsecured";
static const char *const INSECURE_GROUPS[] = {"system:masters", "system:authenticated", NULL};

static cJSON *string_array(const char *const *v)
{
    cJSON *a = cJSON_CreateArray();
    for (; *v; v++)
        cJSON_AddItemToArray(a, cJSON_CreateString(*v));
    return a;
}

/* Go's %#v of an internal authorization.NonResourceAttributes, as field errors print it. */
static void add_non_resource_error(struct field_errors *fe, const char *field, const cJSON *nra,
                                   const char *detail)
{
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "authorization.NonResourceAttributes{Path:");
    ck_buf_put_go_quoted(&b, ck_json_get_string(nra, "path", ""));
    ck_buf_puts(&b, ", Verb:");
    ck_buf_put_go_quoted(&b, ck_json_get_string(nra, "verb", ""));
    ck_buf_putc(&b, '}');
    const char *raw = ck_buf_str(&b);
    fe_add_raw(fe, FE_INVALID, field, raw, "%s", detail);
}

/* upstream's metadata rule: empty, but for managedFields (the field manager's own) and, for a
 * LocalSubjectAccessReview, the namespace. */
static void check_metadata(struct field_errors *fe, const cJSON *meta, bool local)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, meta) {
        if (!strcmp(m->string, "managedFields") || (local && !strcmp(m->string, "namespace")) ||
            cJSON_IsNull(m))
            continue;
        /* upstream prints the Go struct; we print what was sent (the field manager's entry
         * and null times are not the client's) */
        cJSON *sent = ck_json_dup(meta);
        cJSON_DeleteItemFromObjectCaseSensitive(sent, "managedFields");
        if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(sent, "creationTimestamp")))
            cJSON_DeleteItemFromObjectCaseSensitive(sent, "creationTimestamp");
        CK_AUTOFREE char *printed = ck_json_print(sent, 0);
        cJSON_Delete(sent);
        fe_add_str(fe, FE_INVALID, "metadata", printed, "%s",
                   local ? "must be empty except for namespace" : "must be empty");
        return;
    }
}

/* The spec rules every access review shares; `self`: no user to check. */
static void check_access_spec(struct field_errors *fe, const cJSON *spec, bool self)
{
    const cJSON *ra = ck_json_get(spec, "resourceAttributes");
    const cJSON *nra = ck_json_get(spec, "nonResourceAttributes");
    bool has_ra = ra && !cJSON_IsNull(ra), has_nra = nra && !cJSON_IsNull(nra);
    if (has_ra && has_nra)
        add_non_resource_error(fe, "spec.nonResourceAttributes", nra,
                               "cannot be specified in combination with resourceAttributes");
    if (!has_ra && !has_nra)
        fe_add_str(fe, FE_INVALID, "spec.resourceAttributes", "null",
                   "exactly one of nonResourceAttributes or resourceAttributes must be "
                   "specified");
    if (!self && !ck_json_get_string(spec, "user", "")[0] &&
        cJSON_GetArraySize(ck_json_get(spec, "groups")) == 0)
        fe_add_str(fe, FE_INVALID, "spec.user", "",
                   "at least one of user or group must be specified");
}

/* Fills obj's status for an access review the AlwaysAllow authorizer decides. */
static void allow(cJSON *obj)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(obj, "status"), "allowed", true);
}

/* Answers the review in obj; returns 0, or a negative errno with err set. */
/* How one review kind is answered: fills obj (the decoded review, the URL's namespace in it
 * for a namespaced kind); 0, or a negative errno with err set. */
typedef int (*answer_fn)(const struct request_info *ri, const struct resource *r, cJSON *obj,
                         struct ck_error *err);

static int token_review(const struct request_info *ri, const struct resource *r, cJSON *obj,
                        struct ck_error *err)
{
    (void)ri, (void)r;
    if (!ck_json_get_string(obj, "spec.token", "")[0])
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "token is required for TokenReview in authentication");
    return 0; /* no token authenticator: the review comes back as sent */
}

static int self_subject_review(const struct request_info *ri, const struct resource *r,
                               cJSON *obj, struct ck_error *err)
{
    (void)ri, (void)r, (void)err;
    char now[CK_TIME_BUFSZ];
    ck_time_now_string(now);
    cJSON *m = ck_json_ensure_object(obj, "metadata");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "creationTimestamp");
    cJSON_AddStringToObject(m, "creationTimestamp", now);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
    cJSON *ui = cJSON_AddObjectToObject(cJSON_AddObjectToObject(obj, "status"), "userInfo");
    cJSON_AddStringToObject(ui, "username", INSECURE_USER);
    cJSON_AddItemToObject(ui, "groups", string_array(INSECURE_GROUPS));
    return 0;
}

static int self_subject_rules_review(const struct request_info *ri, const struct resource *r,
                                     cJSON *obj, struct ck_error *err)
{
    (void)ri, (void)r;
    if (!ck_json_get_string(obj, "spec.namespace", "")[0])
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "no namespace on request");
    /* upstream answers with a fresh object: an empty spec, AlwaysAllow's rules */
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "spec");
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
    cJSON_AddObjectToObject(obj, "spec");
    cJSON *st = cJSON_AddObjectToObject(obj, "status");
    static const char *const all[] = {"*", NULL};
    cJSON *rr = cJSON_CreateObject();
    cJSON_AddItemToObject(rr, "verbs", string_array(all));
    cJSON_AddItemToObject(rr, "apiGroups", string_array(all));
    cJSON_AddItemToObject(rr, "resources", string_array(all));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(st, "resourceRules"), rr);
    cJSON *nr = cJSON_CreateObject();
    cJSON_AddItemToObject(nr, "verbs", string_array(all));
    cJSON_AddItemToObject(nr, "nonResourceURLs", string_array(all));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(st, "nonResourceRules"), nr);
    cJSON_AddBoolToObject(st, "incomplete", false);
    return 0;
}

/* SubjectAccessReview, SelfSubjectAccessReview (no user to check) and
 * LocalSubjectAccessReview (bound to the URL's namespace): validated, then allowed. */
static int access_review(const struct request_info *ri, const struct resource *r, cJSON *obj,
                         struct ck_error *err)
{
    bool self = !strcmp(r->kind, "SelfSubjectAccessReview");
    bool local = r->namespaced;
    const cJSON *spec = ck_json_get(obj, "spec");
    const char *ns = ck_json_get_string(obj, "metadata.namespace", "");
    if (local && strcmp(ns, ri->namespace_))
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "spec.resourceAttributes.namespace must match namespace: %s",
                            ri->namespace_);
    struct field_errors fe = FIELD_ERRORS_INIT;
    check_access_spec(&fe, spec, self);
    check_metadata(&fe, ck_json_get(obj, "metadata"), local);
    if (local) {
        const cJSON *ra = ck_json_get(spec, "resourceAttributes");
        if (ra && !cJSON_IsNull(ra) && strcmp(ck_json_get_string(ra, "namespace", ""), ns))
            fe_add_str(&fe, FE_INVALID, "spec.resourceAttributes.namespace",
                       ck_json_get_string(ra, "namespace", ""), "must match metadata.namespace");
        const cJSON *nra = ck_json_get(spec, "nonResourceAttributes");
        if (nra && !cJSON_IsNull(nra))
            add_non_resource_error(&fe, "spec.nonResourceAttributes", nra,
                                   "disallowed on this kind of request");
    }
    int rc = fe.len ? fe_to_error(&fe, r->group, r->kind, "", err) : 0;
    field_errors_free(&fe);
    if (rc == 0)
        allow(obj);
    return rc;
}

/* The review kinds, by kind (the resource table's rows without storage). */
static const struct {
    const char *kind;
    answer_fn answer;
} ANSWERS[] = {
    {"TokenReview", token_review},
    {"SelfSubjectReview", self_subject_review},
    {"SelfSubjectRulesReview", self_subject_rules_review},
    {"SubjectAccessReview", access_review},
    {"SelfSubjectAccessReview", access_review},
    {"LocalSubjectAccessReview", access_review},
};

static int answer(const struct request_info *ri, const struct resource *r, cJSON *obj,
                  struct ck_error *err)
{
    for (size_t i = 0; i < sizeof(ANSWERS) / sizeof(ANSWERS[0]); i++)
        if (!strcmp(ANSWERS[i].kind, r->kind))
            return ANSWERS[i].answer(ri, r, obj, err);
    return ck_error_set(err, 405, CK_REASON_METHOD_NOT_ALLOWED,
                        "the server does not allow this method on the requested resource");
}

/* Puts obj's members in the order upstream's types print them: kind, apiVersion, metadata,
 * spec, status. */
static void order_members(cJSON *obj)
{
    static const char *const order[] = {"status", "spec", "metadata", "apiVersion", "kind"};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        cJSON *m = cJSON_DetachItemFromObjectCaseSensitive(obj, order[i]);
        if (!m)
            continue;
        /* each goes first in turn, so the last one moved ends up first (cJSON's insert
         * works on an object's member list as on an array's) */
        cJSON_InsertItemInArray(obj, 0, m);
    }
}

void reviews_create(struct ck_http_req *req, const struct request_info *ri,
                    const struct resource *r)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *obj = NULL;
    int rc = codec_decode_object(req, r, &obj, NULL, &err);
    if (rc == 0) {
        bool dry = rest_dry_run(req, &err, &rc);
        (void)dry; /* nothing is stored either way */
    }
    if (rc == 0) {
        /* what upstream's create handler does to every object: no name, a zero creation time,
         * the field manager's entry */
        cJSON *m = ck_json_ensure_object(obj, "metadata");
        if (r->namespaced && !ck_json_get_string(m, "namespace", "")[0]) {
            cJSON_DeleteItemFromObjectCaseSensitive(m, "namespace");
            cJSON_AddStringToObject(m, "namespace", ri->namespace_); /* the URL's */
        }
        if (!cJSON_GetObjectItemCaseSensitive(m, "creationTimestamp"))
            cJSON_AddNullToObject(m, "creationTimestamp");
        rest_record_update(req, r, NULL, obj, "");
        rc = answer(ri, r, obj, &err);
    }
    if (rc < 0) {
        codec_respond_error(req, &err);
    } else {
        order_members(obj);
        codec_respond(req, 201, obj);
    }
    cJSON_Delete(obj);
    ck_error_clear(&err);
}
