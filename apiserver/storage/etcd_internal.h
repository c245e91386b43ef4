/* etcd_internal.h - what the etcd client's files share and nothing else sees: the client
 * struct, the request/fail-over engine of etcd.c, and JSON helpers of etcd_kv.c.
 */
#ifndef CK_APISERVER_ETCD_INTERNAL_H
#define CK_APISERVER_ETCD_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "buf.h"
#include "etcd.h"

#define ETCD_POOL_MAX 64 /* idle curl handles kept for reuse */

struct etcd_client {
    /* immutable after etcd_client_new */
    char **endpoints;
    size_t n_endpoints;
    char *ca_file, *cert_file, *key_file;
    int request_timeout_ms, attempt_timeout_ms, dial_timeout_ms, watch_idle_check_ms;
    size_t max_response_bytes;
    struct curl_slist *headers; /* Content-Type, hasleader metadata, no Expect */
    CURLSH *share;              /* DNS and TLS sessions; locked by share_locks */
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

    /* the endpoint new requests try first; moves on when it fails */
    atomic_uint preferred;

    /* idle handles, each keeping its connections alive; guarded by pool_lock */
    pthread_mutex_t pool_lock;
    CURL *pool[ETCD_POOL_MAX];
    size_t n_pool;
};

/* How a request may be repeated after an attempt whose outcome is unknown. */
enum etcd_retry {
    ETCD_RETRY_IDEMPOTENT, /* always: reads, guarded txns, keep-alives */
    ETCD_RETRY_UNSENT,     /* only when etcd certainly did not apply it */
};

struct etcd_call {
    const char *path; /* "/v3/kv/range" */
    const char *body;
    size_t body_len;
    enum etcd_retry retry;
    int endpoint;   /* < 0: any (fail-over); else only this endpoint, one attempt */
    int timeout_ms; /* 0: the client's request timeout */
    /* results */
    cJSON *resp;    /* the parsed response object (caller deletes) */
    bool ambiguous; /* an earlier attempt may have been applied (set on failure too) */
    int used;       /* endpoint that answered */
};

/* Runs a call with fail-over and the deadline; 0 and call->resp, or a mapped error. */
int etcd_do(struct etcd_client *c, struct etcd_call *call, struct ck_error *err);

/* Maps an etcd error message (the gateway's "error"/"message" field) to an API error; used for
 * errors carried inside watch streams too. */
int etcd_map_error(const char *msg, int grpc_code, struct ck_error *err);

/* A curl handle from the pool (or a new one) with the client's fixed options set. */
CURL *etcd_handle_get(struct etcd_client *c);
/* Returns a handle to the pool (or frees it when the pool is full). */
void etcd_handle_put(struct etcd_client *c, CURL *h);
/* Milliseconds on the monotonic clock. */
int64_t etcd_now_ms(void);
/* Sleeps ms milliseconds (interrupted sleeps resume). */
void etcd_sleep_ms(int64_t ms);
/* A condition variable on the monotonic clock, and a wait on it until `until_ms`
 * (etcd_now_ms time); the caller holds mu. */
void etcd_cond_init(pthread_cond_t *cv);
void etcd_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until_ms);

/* JSON helpers (etcd_kv.c). Absent fields read as 0 / false / "". */
int64_t etcd_json_i64(const cJSON *o, const char *name);
uint64_t etcd_json_u64(const cJSON *o, const char *name);
bool etcd_json_bool(const cJSON *o, const char *name);
void etcd_parse_header(const cJSON *o, struct etcd_header *h);
/* Decodes a kv object into kv (fields allocated); -EIO on malformed base64. */
int etcd_parse_kv(const cJSON *o, struct etcd_kv *kv);
void etcd_kv_free(struct etcd_kv *kv);
/* Appends "name":"<base64 of data>" (with a leading comma when `comma`). */
void etcd_json_b64(struct ck_buf *b, bool comma, const char *name, const void *data, size_t len);
/* Appends the key / range_end fields of a range-like selection. */
void etcd_json_range_keys(struct ck_buf *b, const char *key, const char *range_end, bool prefix,
                          bool from_key);
/* Sets a 500 "malformed response" error. */
int etcd_bad_response(struct ck_error *err, const char *what);

#endif
