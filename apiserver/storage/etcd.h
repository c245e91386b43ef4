/* etcd.h - the kube-apiserver's etcd v3 client, spoken over etcd's JSON/HTTP gateway.
 *
 * What lives here: KV (range, put, delete, txn), watch streams, leases (grant, keep-alive,
 * revoke, time-to-live, a reusing lease manager), compaction (one-shot and upstream's periodic
 * compactor), member list / status, and upstream's key layout (/registry/<resource>/...).
 * Only kube-apiserver uses it. Implementation: etcd.c (transport, fail-over, error mapping),
 * etcd_kv.c, etcd_watch.c, etcd_lease.c, etcd_maint.c, etcd_keys.c.
 *
 * Wire format: POST <endpoint>/v3/... with JSON bodies. Keys and values are base64 in JSON
 * and plain bytes in this API; int64 fields travel as JSON strings; absent fields mean zero.
 *
 * Endpoints and fail-over: the client takes several endpoints ("http://a:2379,http://b:2379").
 * Requests go to a preferred endpoint; on connect errors, timeouts, 5xx and etcd's
 * "no leader" / "leader changed" / unavailable errors the client moves to the next endpoint
 * (and makes it the preferred one), backing off (50 ms doubling to 1 s) once every endpoint
 * has failed, until the per-request deadline (request_timeout_ms, 15 s). One attempt may take
 * attempt_timeout_ms (2 s), doubled after every endpoint has timed out once more: a frozen
 * member, or a proposal lost with a killed or frozen leader, costs 2 s instead of the whole
 * deadline, while a merely slow request (a huge list) gets longer attempts. Every request
 * carries the gRPC metadata "hasleader=true", so a member cut off from the leader answers
 * "etcdserver: no leader" at once instead of hanging; watches are also canceled by such a
 * member, and a silent watch stream checks its member's status every watch_idle_check_ms.
 *   Retried after an uncertain outcome (request sent, no answer): range, status, member list,
 *   lease grant (a duplicate only leaves an unused lease to expire), keep-alive, revoke ("not
 *   found" after an uncertain attempt counts as revoked), time-to-live, txns of only ranges,
 *   and txns that carry compares. A guarded txn whose earlier attempt may have been applied
 *   and whose retry then fails its compares reports resp->ambiguous = true: the earlier
 *   attempt may be the one that changed the key (compare the value to tell).
 *   NOT retried after an uncertain outcome: put, delete, txns with writes but no compares,
 *   compact. These are retried only when etcd certainly did not apply them (connection
 *   refused, "no leader", "too many requests", ...). When such a request fails with 503/504 it
 *   may or may not have been applied: callers that need certainty use a guarded txn
 *   (create_revision == 0 / mod_revision == rv), as kube-apiserver's registry does.
 *
 * Errors (return value / struct ck_error, which every call accepts as NULL):
 *   -ESTALE    410 Expired   revision compacted ("The resourceVersion for the provided list is
 *                            too old."; watches report ETCD_WATCH_COMPACTED instead)
 *   -EOVERFLOW 504 Timeout   revision newer than the store ("Too large resource version")
 *   -EAGAIN    503 ServiceUnavailable  no endpoint could serve the request before the deadline
 *   -ETIMEDOUT 504 Timeout   the deadline passed while a request was outstanding (or an
 *                            unretried write's attempt timed out)
 *   -ENOENT    404 NotFound  lease not found
 *   -EINVAL    400 BadRequest invalid request (etcd's InvalidArgument, bad key names)
 *   -E2BIG     413 RequestEntityTooLarge  etcd's "request is too large"
 *   -EIO       500 InternalError anything else (malformed response, no space, ...)
 * A txn whose compares fail is not an error: it returns 0 with resp->succeeded == false.
 *
 * Ownership: response structs are filled by the call and released with their *_free function
 * (safe on zeroed structs and after a failed call). Request structs are borrowed.
 *
 * Threads: one struct etcd_client serves any number of threads concurrently (libmicrohttpd
 * worker threads call it in parallel). Connections are reused through a pool of libcurl
 * handles. Watch callbacks run on the watch's own thread; keep-alive and compactor loops run on
 * their own threads. Stop every watch, keep-alive, compactor and lease manager before
 * etcd_client_free.
 */
#ifndef CK_APISERVER_ETCD_H
#define CK_APISERVER_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define ETCD_DEFAULT_REQUEST_TIMEOUT_MS 15000
#define ETCD_DEFAULT_ATTEMPT_TIMEOUT_MS 2000
#define ETCD_DEFAULT_DIAL_TIMEOUT_MS 2000
#define ETCD_DEFAULT_WATCH_IDLE_CHECK_MS 10000
/* upstream's --etcd-compaction-interval default (5m) */
#define ETCD_DEFAULT_COMPACTION_INTERVAL_MS (5 * 60 * 1000)
/* upstream's --etcd-prefix default */
#define ETCD_DEFAULT_PREFIX "/registry"

/* upstream's messages for reads at a compacted revision */
#define ETCD_MSG_LIST_EXPIRED "The resourceVersion for the provided list is too old."
#define ETCD_MSG_WATCH_EXPIRED "The resourceVersion for the provided watch is too old."

/* ---- client ---------------------------------------------------------------------------- */

struct etcd_config {
    const char *endpoints;     /* required: comma-separated URLs, http:// or https:// */
    const char *ca_file;       /* --etcd-cafile: CA bundle to verify https endpoints */
    const char *cert_file;     /* --etcd-certfile: client certificate (PEM) */
    const char *key_file;      /* --etcd-keyfile: its private key (PEM) */
    int request_timeout_ms;    /* deadline per request over all attempts; 0: 15000 */
    int attempt_timeout_ms;    /* one attempt on one endpoint, doubled after each round of
                                  timeouts over all endpoints; 0: 2000 */
    int dial_timeout_ms;       /* TCP (+TLS) connect; 0: 2000 */
    int watch_idle_check_ms;   /* a silent watch stream checks its member after this; 0: 10000 */
    size_t max_response_bytes; /* larger responses fail with 500; 0: 1 GiB */
};

/* Opaque; thread-safe (see the file comment). */
struct etcd_client;

/* Creates a client; nothing is contacted yet. Returns 0 and *out (free with
 * etcd_client_free), or -EINVAL (400) for an empty or malformed endpoint list. The config
 * strings are copied. */
int etcd_client_new(const struct etcd_config *cfg, struct etcd_client **out, struct ck_error *err);
/* Releases the client and its connections. NULL is accepted. */
void etcd_client_free(struct etcd_client *c);
size_t etcd_endpoint_count(const struct etcd_client *c);
/* The i-th endpoint URL as configured (borrowed; NULL when out of range). */
const char *etcd_endpoint(const struct etcd_client *c, size_t i);

/* ---- key-values -------------------------------------------------------------------------- */

struct etcd_header {
    uint64_t cluster_id;
    uint64_t member_id; /* the member that answered */
    int64_t revision;   /* store revision when the request was served */
    int64_t raft_term;
};

/* One key-value. key and value are NUL-terminated for convenience (the lengths exclude the
 * terminator; values may hold NUL bytes). Owned by the response that contains them. */
struct etcd_kv {
    char *key;
    size_t key_len;
    char *value;
    size_t value_len;
    int64_t create_revision; /* 0: the key does not exist (compare target) */
    int64_t mod_revision;    /* kube-apiserver's resourceVersion */
    int64_t version;         /* number of writes since creation */
    int64_t lease;
};

/* Which keys a range / delete / watch covers: just `key`; [key, range_end); every key that
 * starts with `key` (prefix); or every key >= key (from_key). */
struct etcd_range_req {
    const char *key;       /* required, NUL-terminated */
    const char *range_end; /* NULL: only `key` */
    bool prefix;
    bool from_key;
    int64_t limit;    /* 0: no limit */
    int64_t revision; /* 0: latest; else read the store as of that revision */
    bool count_only;
    bool keys_only;
    bool serializable; /* answer from the member's local state (may be stale) */
};

struct etcd_range_resp {
    struct etcd_header header; /* header.revision is a list's resourceVersion */
    struct etcd_kv *kvs;
    size_t n_kvs;
    bool more;     /* limit cut the result short */
    int64_t count; /* keys in the range, regardless of limit */
};

struct etcd_put_req {
    const char *key; /* required */
    const void *value;
    size_t value_len;
    int64_t lease; /* 0: none */
    bool prev_kv;
};

struct etcd_put_resp {
    struct etcd_header header; /* header.revision is the new mod_revision of the key */
    bool has_prev_kv;
    struct etcd_kv prev_kv;
};

struct etcd_delete_req {
    const char *key; /* required */
    const char *range_end;
    bool prefix;
    bool from_key;
    bool prev_kv;
};

struct etcd_delete_resp {
    struct etcd_header header;
    int64_t deleted;
    struct etcd_kv *prev_kvs;
    size_t n_prev_kvs;
};

/* Reads one revision-consistent range. Compacted revision -> -ESTALE (410 Expired, list
 * message); future revision -> -EOVERFLOW (504). */
int etcd_range(struct etcd_client *c, const struct etcd_range_req *req,
               struct etcd_range_resp *resp, struct ck_error *err);
/* Writes one key unconditionally (see the file comment on retries). */
int etcd_put(struct etcd_client *c, const struct etcd_put_req *req, struct etcd_put_resp *resp,
             struct ck_error *err);
int etcd_delete(struct etcd_client *c, const struct etcd_delete_req *req,
                struct etcd_delete_resp *resp, struct ck_error *err);

void etcd_range_resp_free(struct etcd_range_resp *r);
void etcd_put_resp_free(struct etcd_put_resp *r);
void etcd_delete_resp_free(struct etcd_delete_resp *r);

/* ---- transactions ------------------------------------------------------------------------ */

enum etcd_cmp_target {
    ETCD_CMP_VERSION,
    ETCD_CMP_CREATE, /* create_revision: == 0 means "does not exist" */
    ETCD_CMP_MOD,    /* mod_revision: == rv is kube-apiserver's optimistic concurrency */
    ETCD_CMP_VALUE,
    ETCD_CMP_LEASE,
};

enum etcd_cmp_op { ETCD_CMP_EQUAL, ETCD_CMP_NOT_EQUAL, ETCD_CMP_LESS, ETCD_CMP_GREATER };

struct etcd_compare {
    const char *key;
    enum etcd_cmp_target target;
    enum etcd_cmp_op op;
    int64_t number;    /* VERSION, CREATE, MOD, LEASE */
    const void *value; /* VALUE */
    size_t value_len;
};

enum etcd_op_type { ETCD_OP_RANGE, ETCD_OP_PUT, ETCD_OP_DELETE };

struct etcd_op {
    enum etcd_op_type type;
    union {
        struct etcd_range_req range;
        struct etcd_put_req put;
        struct etcd_delete_req del;
    };
};

struct etcd_op_resp {
    enum etcd_op_type type;
    union {
        struct etcd_range_resp range;
        struct etcd_put_resp put;
        struct etcd_delete_resp del;
    };
};

struct etcd_txn_req {
    const struct etcd_compare *compares;
    size_t n_compares;
    const struct etcd_op *success; /* run when every compare holds */
    size_t n_success;
    const struct etcd_op *failure; /* run otherwise */
    size_t n_failure;
};

struct etcd_txn_resp {
    struct etcd_header header;
    bool succeeded;                 /* which branch ran */
    struct etcd_op_resp *responses; /* one per op of that branch, in order */
    size_t n_responses;
    bool ambiguous; /* failed compares on a retry after an attempt of unknown outcome */
};

/* Runs an atomic compare-and-ops transaction. Failed compares are data (succeeded == false),
 * the caller decides between Conflict and AlreadyExists. */
int etcd_txn(struct etcd_client *c, const struct etcd_txn_req *req, struct etcd_txn_resp *resp,
             struct ck_error *err);
void etcd_txn_resp_free(struct etcd_txn_resp *r);

/* ---- watch ------------------------------------------------------------------------------- */

enum etcd_event_type { ETCD_EVENT_PUT, ETCD_EVENT_DELETE };

struct etcd_event {
    enum etcd_event_type type;
    struct etcd_kv kv; /* for DELETE: key and mod_revision (the deletion's revision) only */
    bool has_prev_kv;
    struct etcd_kv prev_kv;
};

enum etcd_watch_kind {
    ETCD_WATCH_EVENTS,    /* events, in revision order, none lost or repeated */
    ETCD_WATCH_PROGRESS,  /* no events: everything up to header.revision has been delivered */
    ETCD_WATCH_COMPACTED, /* the next revision to deliver is compacted; the watch has ended */
    ETCD_WATCH_ERROR,     /* etcd unreachable for longer than the request timeout; the watch
                             keeps retrying unless the callback returns non-zero */
};

/* One delivery; everything it points to is valid only during the callback.
 * For EVENTS, header.revision is the store's revision when etcd sent the batch: while a watch
 * replays history it is ahead of the batch's last event, and later batches still follow. The
 * last event's kv.mod_revision is how far the watch has got; only PROGRESS says that nothing
 * up to header.revision is still to come. */
struct etcd_watch_resp {
    enum etcd_watch_kind kind;
    struct etcd_header header;
    const struct etcd_event *events;
    size_t n_events;
    int64_t compact_revision;     /* COMPACTED: the oldest revision still available */
    const struct ck_error *error; /* COMPACTED: 410 Expired (watch message); ERROR: 503 */
};

/* Called on the watch thread, one delivery at a time. Return 0 to go on, non-zero to end the
 * watch. It must not call etcd_watch_stop on its own watch. */
typedef int (*etcd_watch_fn)(const struct etcd_watch_resp *resp, void *arg);

struct etcd_watch_req {
    const char *key; /* required */
    const char *range_end;
    bool prefix;
    bool from_key;
    int64_t start_revision; /* 0: from now on */
    bool prev_kv;
    bool progress_notify;
};

struct etcd_watch;

/* Opens a watch stream and returns once etcd confirmed it (or with -EAGAIN / -ETIMEDOUT when
 * no endpoint did before the request deadline). Events then reach fn on a dedicated thread.
 * A broken stream reconnects (to the next endpoint) and resumes at the last delivered
 * revision + 1. *out is freed by etcd_watch_stop. */
int etcd_watch_start(struct etcd_client *c, const struct etcd_watch_req *req, etcd_watch_fn fn,
                     void *arg, struct etcd_watch **out, struct ck_error *err);
/* Ends the stream, joins the thread and frees w (NULL is accepted). No callback runs after
 * it returns. */
void etcd_watch_stop(struct etcd_watch *w);
/* Index of the endpoint the stream is connected to (-1 while disconnected). */
int etcd_watch_endpoint(struct etcd_watch *w);
/* How many times the stream has been re-established. */
int etcd_watch_reconnects(struct etcd_watch *w);
/* false once the watch has ended (compacted, callback asked to stop). */
bool etcd_watch_running(struct etcd_watch *w);

/* ---- leases ------------------------------------------------------------------------------ */

/* Grants a lease of ttl seconds: *id and (optional) *granted_ttl. */
int etcd_lease_grant(struct etcd_client *c, int64_t ttl, int64_t *id, int64_t *granted_ttl,
                     struct ck_error *err);
/* Renews once; *ttl (optional) gets the renewed TTL. Expired or unknown lease -> -ENOENT. */
int etcd_lease_keepalive_once(struct etcd_client *c, int64_t id, int64_t *ttl,
                              struct ck_error *err);
/* Revokes the lease and deletes its keys. Unknown lease -> -ENOENT. */
int etcd_lease_revoke(struct etcd_client *c, int64_t id, struct ck_error *err);

struct etcd_lease_info {
    int64_t id;
    int64_t ttl; /* remaining seconds; -1 when the lease has expired or never existed */
    int64_t granted_ttl;
    char **keys; /* with keys == true: attached keys, NUL-terminated */
    size_t n_keys;
};
int etcd_lease_time_to_live(struct etcd_client *c, int64_t id, bool keys,
                            struct etcd_lease_info *info, struct ck_error *err);
void etcd_lease_info_free(struct etcd_lease_info *info);

/* Periodic keep-alive on its own thread, every interval_ms (0: a third of the TTL etcd reports,
 * at least 500 ms). Stops by itself once etcd says the lease is gone. */
struct etcd_keepalive;
int etcd_keepalive_start(struct etcd_client *c, int64_t id, int interval_ms,
                         struct etcd_keepalive **out, struct ck_error *err);
/* true once etcd reported the lease expired or unknown */
bool etcd_keepalive_lost(struct etcd_keepalive *k);
/* Stops the loop, joins it and frees k (NULL accepted). The lease is not revoked. */
void etcd_keepalive_stop(struct etcd_keepalive *k);

/* Upstream's lease manager: writes that need a TTL (Events' 1 h) share one lease. A lease is
 * granted with TTL + reuse window, where the window is min(reuse_seconds, ttl * reuse_percent),
 * and is handed out again while it still outlives the requested TTL, for at most
 * max_objects writes. Thread-safe. */
struct etcd_lease_manager;
/* 0 arguments take upstream's defaults: 60 s, 0.05, 1000 objects. Caller frees. */
struct etcd_lease_manager *etcd_lease_manager_new(struct etcd_client *c, int64_t reuse_seconds,
                                                  double reuse_percent, int64_t max_objects);
/* A lease id that keeps a key alive at least ttl seconds. */
int etcd_lease_manager_get(struct etcd_lease_manager *m, int64_t ttl, int64_t *id,
                           struct ck_error *err);
void etcd_lease_manager_free(struct etcd_lease_manager *m);

/* ---- maintenance ------------------------------------------------------------------------- */

/* Compacts the key-value history up to `revision` (exclusive of it). physical == true waits
 * until the space is reclaimed. Already compacted -> -ESTALE, future -> -EOVERFLOW. */
int etcd_compact(struct etcd_client *c, int64_t revision, bool physical, struct ck_error *err);

/* Upstream's compactor: every interval, a txn on key "compact_rev_key" elects one compacting
 * apiserver among many, which compacts to the revision seen at the previous tick. So history
 * of about one interval is always kept. interval_ms <= 0 returns 0 with *out = NULL
 * (disabled, as upstream's 0). */
struct etcd_compactor;
int etcd_compactor_start(struct etcd_client *c, int interval_ms, struct etcd_compactor **out,
                         struct ck_error *err);
/* The last revision this compactor or a peer compacted to (0: none yet). */
int64_t etcd_compactor_revision(struct etcd_compactor *k);
void etcd_compactor_stop(struct etcd_compactor *k);

struct etcd_status {
    struct etcd_header header;
    char version[32];
    int64_t db_size;
    int64_t db_size_in_use;
    uint64_t leader; /* member id of the leader; 0: none */
    int64_t raft_index;
    int64_t raft_term;
    int64_t raft_applied_index;
};
/* Status of the member at endpoint index `endpoint` (one attempt, no fail-over), or of any
 * member when endpoint < 0. */
int etcd_status(struct etcd_client *c, int endpoint, struct etcd_status *st, struct ck_error *err);

struct etcd_member {
    uint64_t id;
    char *name;
    char **peer_urls;
    size_t n_peer_urls;
    char **client_urls;
    size_t n_client_urls;
    bool is_learner;
};
/* Returns 0 and the members in *members (free with etcd_members_free). */
int etcd_member_list(struct etcd_client *c, struct etcd_member **members, size_t *n,
                     struct ck_error *err);
void etcd_members_free(struct etcd_member *members, size_t n);

/* ---- keys ------------------------------------------------------------------------------- */

/* Upstream's layout: <prefix>/<resource>/<namespace>/<name>, or <prefix>/<resource>/<name>
 * when namespace is NULL or "" (cluster-scoped). prefix NULL means "/registry"; it is
 * normalized like a path ("registry/" -> "/registry"). resource may contain '/' (upstream
 * keeps services under "services/specs"). Names must be valid path segments, as upstream:
 * missing -> 400 "Name parameter required.", "." / ".." / '/' / '%' -> 400 "Name parameter
 * invalid: ...". Returns 0 and *key (caller frees). */
int etcd_key(const char *prefix, const char *resource, const char *ns, const char *name, char **key,
             struct ck_error *err);
/* The prefix a list ranges over, with a trailing '/': <prefix>/<resource>/[<namespace>/].
 * Caller frees *key. */
int etcd_key_list_prefix(const char *prefix, const char *resource, const char *ns, char **key,
                         struct ck_error *err);
/* range_end for "every key starting with key[0..len)": the prefix with its last byte
 * incremented, trailing 0xff bytes dropped first; a prefix of only 0xff bytes (or empty) gives
 * "\0" (every key >= prefix), as etcd's clientv3 does. Returns a NUL-terminated allocation
 * (caller frees) and its length in *out_len. */
char *etcd_prefix_end(const char *key, size_t len, size_t *out_len);

#endif
