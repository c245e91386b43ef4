/* patch.h - the PATCH body types of the apiserver, as pure functions over cJSON trees:
 *
 *   application/json-patch+json           RFC 6902 JSON Patch (jsonpatch.c), with the quirks
 *                                         and messages of evanphx/json-patch v4 upstream uses
 *   application/merge-patch+json          RFC 7386 JSON Merge Patch (patch.c), as evanphx's
 *                                         MergePatch
 *   application/strategic-merge-patch+json  strategic merge patch (strategic.c and
 *                                         strategic_list.c), as
 *                                         apimachinery's StrategicMergeMapPatch, driven by the
 *                                         OpenAPI schema's x-kubernetes-patch-strategy and
 *                                         x-kubernetes-patch-merge-key
 *
 * Conventions for every function here: neither input tree is modified; *out is a new tree the
 * caller frees with cJSON_Delete (NULL on failure); the return value is 0 or a negative errno,
 * and err (optional) receives what kube-apiserver answers for the same failure:
 *
 *   unknown Content-Type                  415 UnsupportedMediaType "the body of the request was
 *                                         in an unknown format - accepted media types include: ..."
 *   JSON patch not an array of objects    400 BadRequest with Go's decoding message
 *   more than 10000 JSON patch operations 413 RequestEntityTooLarge
 *   a JSON patch operation failing        422 Invalid "the server rejected our request due to an
 *   (test failed, missing path, ...)      error in our request", details.causes[0] =
 *                                         {reason: UnexpectedServerResponse, message: the
 *                                         json-patch error, e.g. "testing value /spec/replicas
 *                                         failed: test failed"}
 *   merge patch `null` or not JSON object/array  400 BadRequest "Invalid JSON Patch"
 *   strategic patch not an object         400 BadRequest
 *   strategic patch malformed directives  400 BadRequest ("invalid patch format of ...")
 *   lists of lists                        422 Invalid (as upstream's generic 422)
 *   other strategic errors (missing merge key, unknown $patch, ...)  500 with no reason and
 *                                         the apimachinery message, as upstream (its error is
 *                                         not a Status)
 *   a result that is not a JSON object    422 Invalid on field "patch" (upstream fails decoding
 *                                         the patched object the same way)
 */
#ifndef APISERVER_PATCH_PATCH_H
#define APISERVER_PATCH_PATCH_H

#include <cjson/cJSON.h>

#include "error.h"

struct schema_doc;

enum patch_type {
    PATCH_UNKNOWN = 0,
    PATCH_JSON,      /* application/json-patch+json */
    PATCH_MERGE,     /* application/merge-patch+json */
    PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
    PATCH_APPLY,     /* application/apply-patch+yaml (server-side apply: patch/apply.c, mf_apply) */
};

/* Upstream's limit on operations in one JSON patch. */
#define PATCH_MAX_JSON_OPERATIONS 10000
/* Upstream's default limit on the bytes all "copy" operations of one JSON patch may add
 * (kube-apiserver's JSONPatchMaxCopyBytes). */
#define PATCH_MAX_COPY_BYTES ((long long)3 << 20)

/* The patch type of a Content-Type header value; parameters (";charset=utf-8") are ignored. */
enum patch_type patch_type_of(const char *content_type);

/* The one entry point for rest.c: applies `patch` (the parsed request body) of the given
 * Content-Type to `target` (the current object) of kind group/version/kind. Strategic merge
 * patch needs the kind's schema in the built-in OpenAPI document; a kind without one (custom
 * resources) gets 415, as upstream answers for custom resources. The result is a JSON object
 * or an error (see the table above). */
int patch_apply(const char *content_type, const cJSON *target, const cJSON *patch,
                const char *group, const char *version, const char *kind, cJSON **out,
                struct ck_error *err);

/* RFC 6902 JSON Patch: `ops` must be an array of operation objects. The result may be any
 * JSON value (a replace of "" can swap the whole document). */
int patch_json(const cJSON *target, const cJSON *ops, cJSON **out, struct ck_error *err);

/* RFC 7386 JSON Merge Patch, as evanphx/json-patch's MergePatch: nulls in the patch delete,
 * objects merge recursively, nulls inside newly added objects are dropped, anything else
 * replaces. A non-object target is replaced by the patch. */
int patch_merge(const cJSON *target, const cJSON *patch, cJSON **out, struct ck_error *err);

/* Strategic merge patch of `target` with `patch` (both JSON objects), the field metadata taken
 * from `schema` (a definition of doc; NULL = no metadata: every list is replaced, as for a kind
 * without patch annotations). */
int patch_strategic(const cJSON *target, const cJSON *patch, const struct schema_doc *doc,
                    const cJSON *schema, cJSON **out, struct ck_error *err);

#endif
