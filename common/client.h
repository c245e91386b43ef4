/* client.h - the REST client every component uses to talk to the apiserver (client-go's
 * rest.RESTClient and dynamic client), over libcurl.
 *
 *  - Connection: a struct ck_rest_config (kubeconfig.h): http or https, CA file or data,
 *    client certificate/key files or data, bearer token (a token file is re-read at most once
 *    a minute, as client-go's cached file token source), basic auth, insecure-skip-tls-verify.
 *  - Connection reuse: a pool of curl easy handles (each keeps its live connections); requests
 *    run on any thread, each on its own handle.
 *  - Client-side rate limit: a token bucket per client (qps/burst; client-go's defaults 5/10,
 *    kube-controller-manager uses 20/30, kube-scheduler 50/100; qps < 0 disables it). Every
 *    request, watches included, takes a token first.
 *  - Retries (up to max_retries, 10 by default as client-go): a 429 or 5xx answer carrying
 *    Retry-After is retried after that many seconds (any verb, as client-go); a 429 without it,
 *    and a 5xx on GET, after exponential backoff; a refused connection (nothing was sent) for
 *    any verb; a connection broken after sending, for GET only. All within the request's
 *    overall timeout (timeout_ns; default 60 s).
 *  - Errors: a non-2xx answer is decoded from its metav1.Status into the ck_error (code, reason,
 *    message, details) and the matching negative errno is returned (404 -> -ENOENT, 409 ->
 *    -EEXIST, 410 -> -ESTALE, ...); an answer that is not a Status gets client-go's generic
 *    message ("the server could not find the requested resource (get pods web)"). Transport
 *    errors leave err->code 0 and read like Go's ("Get \"http://h/api\": dial tcp h: connect:
 *    connection refused"), returning -ECONNREFUSED, -ETIMEDOUT, -ECONNRESET or -EIO.
 *  - User agent "<component>/v1.32.4 (linux/amd64) kubernetes/ckube".
 *  - Metrics: rest_client_requests_total{code,host,method},
 *    rest_client_request_duration_seconds{host,verb}.
 *
 * Ownership: trees returned through cJSON **out belong to the caller; input trees are
 * borrowed. Thread-safety: a client may be used by any number of threads at once.
 */
#ifndef CK_CLIENT_H
#define CK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cancel.h"
#include "error.h"
#include "kubeconfig.h"
#include "metrics.h"

#define CK_KUBE_VERSION "v1.32.4"

/* ---- client -------------------------------------------------------------------------------- */

struct ck_client;

struct ck_client_opts {
    const char *component; /* user agent product; NULL: "ckube" */
    double qps;            /* 0: 5; < 0: no client-side limit */
    int burst;             /* 0: 10 */
    int64_t timeout_ns;    /* overall per-request timeout incl. retries; 0: 60 s; < 0: none */
    int max_retries;       /* 0: 10; < 0: no retries */
    struct ck_metrics *metrics; /* NULL: ck_metrics_default() */
};

/* A client for cfg (copied) with opts (may be NULL). Fails with code 0 errors for unusable TLS
 * settings (e.g. "specifying a root certificates file with the insecure flag is not allowed").
 * *out is freed with ck_client_free. */
int ck_client_new(const struct ck_rest_config *cfg, const struct ck_client_opts *opts,
                  struct ck_client **out, struct ck_error *err);
/* Frees the client; no request may be running. NULL accepted. */
void ck_client_free(struct ck_client *c);
/* The server URL, the default namespace of the config, the user agent (borrowed). */
const char *ck_client_host(const struct ck_client *c);
const char *ck_client_namespace(const struct ck_client *c);
const char *ck_client_user_agent(const struct ck_client *c);

/* A resource type: group ("" for the core group), version, plural resource name. */
struct ck_gvr {
    const char *group;
    const char *version;
    const char *resource;
};
#define CK_GVR(g, v, r) ((struct ck_gvr){(g), (v), (r)})

/* The URL path of (gvr, namespace, name, subresource): /api/v1/namespaces/ns/pods/name/status
 * or /apis/apps/v1/deployments; empty parts are left out; path segments are escaped. Appended
 * to out. */
void ck_gvr_path(struct ck_buf *out, const struct ck_gvr *gvr, const char *ns, const char *name,
                 const char *subresource);

/* One raw request. Either gvr (+ namespace/name/subresource) or path ("/version", may carry a
 * query) names the target. params: key, value, key, value, ..., NULL (values escaped here). */
struct ck_request {
    const char *verb; /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const struct ck_gvr *gvr;
    const char *namespace, *name, *subresource;
    const char *path;
    const char *const *params;
    const char *content_type; /* with a body; default "application/json" */
    const char *body;
    size_t body_len;
    int64_t timeout_ns;  /* 0: the client's */
    int max_retries;     /* 0: the client's; < 0: none */
};

struct ck_response {
    int status;         /* HTTP status, 0 when no answer arrived */
    struct ck_buf body; /* the answer's body */
};
#define CK_RESPONSE_INIT {0, CK_BUF_INIT}
void ck_response_free(struct ck_response *r);

/* Sends req (with throttling and retries). Returns 0 for a 2xx answer; otherwise a negative
 * errno with err filled (resp still holds the last answer). resp may be NULL. */
int ck_client_do(struct ck_client *c, const struct ck_request *req, struct ck_response *resp,
                 struct ck_error *err);
/* ck_client_do with a JSON body (may be NULL) and a JSON answer parsed into *out (may be NULL
 * when the caller does not want it). */
int ck_client_do_json(struct ck_client *c, const struct ck_request *req, const cJSON *body,
                      cJSON **out, struct ck_error *err);

/* Fills err from a metav1.Status object (as received in an answer or a watch ERROR event);
 * http_code is used when the Status has none. Returns the matching negative errno. */
int ck_error_from_status(const cJSON *status, int http_code, struct ck_error *err);

/* ---- typed helpers (namespace NULL or "": cluster-scoped, or all namespaces for list) ------ */

int ck_client_get(struct ck_client *c, const struct ck_gvr *r, const char *ns, const char *name,
                  cJSON **out, struct ck_error *err);

struct ck_list_opts {
    const char *label_selector, *field_selector;
    int64_t limit;                /* 0: no limit */
    const char *continue_token;
    const char *resource_version; /* "" / NULL: most recent (consistent read) */
    const char *resource_version_match;
    int timeout_seconds;
};
int ck_client_list(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                   const struct ck_list_opts *o, cJSON **out, struct ck_error *err);

/* Create/update: ns NULL takes obj's metadata.namespace; update's name is obj's metadata.name.
 * out may be NULL. */
int ck_client_create(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                     const cJSON *obj, cJSON **out, struct ck_error *err);
int ck_client_update(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                     const cJSON *obj, cJSON **out, struct ck_error *err);
/* PUT to the status subresource. */
int ck_client_update_status(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                            const cJSON *obj, cJSON **out, struct ck_error *err);
/* POST to a subresource of a named object (pods/binding, pods/eviction, .../token). */
int ck_client_create_subresource(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                                 const char *name, const char *subresource, const cJSON *obj,
                                 cJSON **out, struct ck_error *err);

enum ck_patch_type {
    CK_PATCH_MERGE = 1, /* application/merge-patch+json */
    CK_PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
    CK_PATCH_JSON,      /* application/json-patch+json */
    CK_PATCH_APPLY,     /* application/apply-patch+yaml (needs field_manager) */
};
int ck_client_patch(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                    const char *name, const char *subresource, enum ck_patch_type type,
                    const char *patch, const char *field_manager, cJSON **out,
                    struct ck_error *err);

struct ck_delete_opts {
    const char *propagation_policy;  /* "Foreground", "Background", "Orphan", or NULL */
    bool has_grace_period;
    int64_t grace_period_seconds;
    const char *precondition_uid;    /* NULL: none */
    const char *precondition_rv;
    bool dry_run;
};
/* out (may be NULL) gets what the server answered: the object (graceful deletion, finalizers)
 * or a Status. */
int ck_client_delete(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                     const char *name, const struct ck_delete_opts *o, cJSON **out,
                     struct ck_error *err);
int ck_client_delete_collection(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                                const struct ck_list_opts *lo, const struct ck_delete_opts *o,
                                struct ck_error *err);

/* ---- watch --------------------------------------------------------------------------------- */

struct ck_watch_opts {
    const char *resource_version; /* NULL/"": from the current state (ADDED for everything) */
    const char *label_selector, *field_selector;
    int timeout_seconds;          /* 0: the server's default */
    bool allow_bookmarks;
    bool send_initial_events;     /* with resource_version_match=NotOlderThan */
    struct ck_cancel *cancel;     /* may be NULL */
};

/* Called for every event; `type` is "ADDED", "MODIFIED", "DELETED", "BOOKMARK" or "ERROR"
 * (object: a Status); the callee owns `object` (cJSON_Delete it). Return 0 to continue,
 * anything else to stop the watch (ck_client_watch then returns it). */
typedef int (*ck_watch_fn)(void *ctx, const char *type, cJSON *object);

/* Opens a watch and streams its events to fn until the server ends it (returns 0), cancel
 * fires (-ECANCELED), fn asks to stop (fn's value), the server refuses the watch (its Status:
 * e.g. 410 -> -ESTALE with err filled) or the connection breaks (-ECONNRESET, -EIO, ...). A
 * line that is not a JSON event ends the watch with -EBADMSG. */
int ck_client_watch(struct ck_client *c, const struct ck_gvr *r, const char *ns,
                    const struct ck_watch_opts *o, ck_watch_fn fn, void *ctx,
                    struct ck_error *err);

#endif
