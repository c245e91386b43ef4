/* fieldvalidation.h - the fieldValidation request option (Ignore, Warn, Strict) of
 * create/update/patch, as upstream's strict decoding: fields a kind's schema does not declare
 * ("unknown field \"spec.foo\"") and repeated members of one JSON object ("duplicate field
 * \"spec.replicas\"") are found, reported as the directive says, and unknown fields are dropped
 * from the object in every mode (Go's decoder has nowhere to put them).
 *
 *   Strict  400 BadRequest "<prefix>strict decoding error: <e1>, <e2>"
 *   Warn    (the default) one `Warning: 299 - "<error>"` response header per error
 *   Ignore  nothing
 */
#ifndef APISERVER_FIELDVALIDATION_H
#define APISERVER_FIELDVALIDATION_H

#include <cjson/cJSON.h>

#include "error.h"
#include "validation.h"

struct schema_doc;
struct ck_http_req;

enum fv_directive { FV_WARN = 0, FV_IGNORE, FV_STRICT };

/* Parses ?fieldValidation= ("" or NULL = Warn). An unknown value fails as upstream's options
 * validation: 422 `<options_kind>.meta.k8s.io "" is invalid: fieldValidation: Unsupported
 * value: "x": supported values: "", "Ignore", "Strict", "Warn"` (options_kind: "CreateOptions",
 * "UpdateOptions", "PatchOptions"). */
int fv_parse_directive(const char *param, const char *options_kind, enum fv_directive *out,
                       struct ck_error *err);

/* Checks `raw` (the body as decoded with duplicate members kept, may be NULL: then obj) against
 * `def` (the kind's definition in doc), appending upstream's messages in document order to
 * out, and drops the unknown fields from obj (may be NULL: nothing dropped). */
void fv_check(const struct schema_doc *doc, const cJSON *def, const cJSON *raw, cJSON *obj,
              struct ck_errlist *out);

/* Acts on the errors as the directive says (see the table above): returns the Strict error
 * (-EINVAL, message prefixed with `prefix`, may be "") or 0, adding Warning headers to req for
 * Warn. */
int fv_report(struct ck_http_req *req, enum fv_directive d, const struct ck_errlist *errs,
              const char *prefix, struct ck_error *err);

#endif
