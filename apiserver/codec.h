/* codec.h - request bodies in (JSON or YAML) and objects out (JSON, `?pretty` indented). */
#ifndef APISERVER_CODEC_H
#define APISERVER_CODEC_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"
#include "httpd.h"
#include "registry/resources.h"

/* Decodes the request body as an object of resource r (JSON, or YAML when the content type
 * says so), and checks its apiVersion/kind against r, filling them in when absent, as
 * upstream's decoder defaults them. Returns 0 with *out owned by the caller, or a 400/415
 * error. *dup_keys (when not NULL) tells whether the body repeated a key in some object, which
 * the tree, holding only the last, no longer shows (fieldValidation reports it). */
int codec_decode_object(struct ck_http_req *req, const struct resource *r, cJSON **out,
                        bool *dup_keys, struct ck_error *err);
/* Decodes the body as any JSON/YAML value (patches, DeleteOptions). */
int codec_decode_any(struct ck_http_req *req, cJSON **out, struct ck_error *err);
/* True when the Accept header asks for a meta.k8s.io Table (`kubectl get`):
 * application/json;as=Table;v=v1;g=meta.k8s.io (or v1beta1) among its choices. */
bool codec_wants_table(struct ck_http_req *req);
/* Writes obj (borrowed) as the response, indented when ?pretty is set. */
void codec_respond(struct ck_http_req *req, int status, const cJSON *obj);
/* Writes err as a Status response. */
void codec_respond_error(struct ck_http_req *req, const struct ck_error *err);

#endif
