/* etcd_maint.c - maintenance calls: member status, member list, and upstream's periodic
 * compactor coordinated through the "compact_rev_key" key (see etcd.h).
 */
#include "etcd_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"

int etcd_status(struct etcd_client *c, int endpoint, struct etcd_status *st, struct ck_error *err)
{
    memset(st, 0, sizeof(*st));
    struct etcd_call call = {
        .path = "/v3/maintenance/status",
        .body = "{}",
        .body_len = 2,
        .retry = ETCD_RETRY_IDEMPOTENT,
        .endpoint = endpoint < 0 ? -1 : endpoint,
    };
    if (endpoint >= 0)
        call.timeout_ms = c->attempt_timeout_ms;
    int rc = etcd_do(c, &call, err);
    if (rc < 0)
        return rc;
    const cJSON *o = call.resp;
    etcd_parse_header(o, &st->header);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
    if (cJSON_IsString(v))
        ck_strlcpy(st->version, v->valuestring, sizeof(st->version));
    st->db_size = etcd_json_i64(o, "dbSize");
    st->db_size_in_use = etcd_json_i64(o, "dbSizeInUse");
    st->leader = etcd_json_u64(o, "leader");
    st->raft_index = etcd_json_i64(o, "raftIndex");
    st->raft_term = etcd_json_i64(o, "raftTerm");
    st->raft_applied_index = etcd_json_i64(o, "raftAppliedIndex");
    cJSON_Delete(call.resp);
    return 0;
}

static char **string_array(const cJSON *arr, size_t *n)
{
    *n = 0;
    int count = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    if (count <= 0)
        return NULL;
    char **out = ck_xcalloc((size_t)count, sizeof(char *));
    const cJSON *s;
    cJSON_ArrayForEach(s, arr)
    {
        if (cJSON_IsString(s))
            out[(*n)++] = ck_xstrdup(s->valuestring);
    }
    return out;
}

int etcd_member_list(struct etcd_client *c, struct etcd_member **members, size_t *n,
                     struct ck_error *err)
{
    *members = NULL;
    *n = 0;
    struct etcd_call call = {
        .path = "/v3/cluster/member/list",
        .body = "{}",
        .body_len = 2,
        .retry = ETCD_RETRY_IDEMPOTENT,
        .endpoint = -1,
    };
    int rc = etcd_do(c, &call, err);
    if (rc < 0)
        return rc;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(call.resp, "members");
    int count = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    if (count > 0) {
        struct etcd_member *m = ck_xcalloc((size_t)count, sizeof(*m));
        const cJSON *item;
        size_t i = 0;
        cJSON_ArrayForEach(item, arr)
        {
            m[i].id = etcd_json_u64(item, "ID");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
            m[i].name = ck_xstrdup(cJSON_IsString(name) ? name->valuestring : "");
            m[i].peer_urls =
                string_array(cJSON_GetObjectItemCaseSensitive(item, "peerURLs"), &m[i].n_peer_urls);
            m[i].client_urls = string_array(cJSON_GetObjectItemCaseSensitive(item, "clientURLs"),
                                            &m[i].n_client_urls);
            m[i].is_learner = etcd_json_bool(item, "isLearner");
            i++;
        }
        *members = m;
        *n = i;
    }
    cJSON_Delete(call.resp);
    return 0;
}

void etcd_members_free(struct etcd_member *members, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(members[i].name);
        for (size_t j = 0; j < members[i].n_peer_urls; j++)
            free(members[i].peer_urls[j]);
        free(members[i].peer_urls);
        for (size_t j = 0; j < members[i].n_client_urls; j++)
            free(members[i].client_urls[j]);
        free(members[i].client_urls);
    }
    free(members);
}

/* ---- compactor ----------------------------------------------------------------------------- */

/* upstream's coordination key; its version is the "compact time" all apiservers agree on */
#define COMPACT_REV_KEY "compact_rev_key"

struct etcd_compactor {
    struct etcd_client *c; /* immutable */
    int interval_ms;       /* immutable */
    pthread_t thread;
    pthread_mutex_t mu; /* guards stop */
    pthread_cond_t cv;
    bool stop;
    _Atomic int64_t compacted; /* last known compacted revision */
};

/* One tick. *time is the compact_rev_key version we expect, *rev the revision seen at the
 * previous tick; both advance as upstream's compact(): the winner of the txn compacts to *rev,
 * the losers learn the current time and revision. */
static int compact_tick(struct etcd_compactor *k, int64_t *time, int64_t *rev)
{
    char value[32];
    snprintf(value, sizeof(value), "%" PRId64, *rev);
    struct etcd_compare cmp = {
        .key = COMPACT_REV_KEY, .target = ETCD_CMP_VERSION, .op = ETCD_CMP_EQUAL, .number = *time};
    struct etcd_op put = {
        .type = ETCD_OP_PUT,
        .put = {.key = COMPACT_REV_KEY, .value = value, .value_len = strlen(value)}};
    struct etcd_op get = {.type = ETCD_OP_RANGE, .range = {.key = COMPACT_REV_KEY}};
    struct etcd_txn_req req = {&cmp, 1, &put, 1, &get, 1};
    struct etcd_txn_resp resp;
    struct ck_error err = CK_ERROR_INIT;
    int rc = etcd_txn(k->c, &req, &resp, &err);
    if (rc < 0) {
        ck_err("etcd: compaction txn failed: %s", err.message);
        ck_error_clear(&err);
        return rc;
    }
    int64_t current = resp.header.revision;
    if (!resp.succeeded) {
        /* another apiserver compacted this interval: follow its clock */
        const struct etcd_range_resp *r = &resp.responses[0].range;
        *time = r->n_kvs ? r->kvs[0].version : 0;
        if (r->n_kvs) {
            int64_t done = strtoll(r->kvs[0].value, NULL, 10);
            if (done > 0)
                atomic_store(&k->compacted, done);
        }
        *rev = current;
        etcd_txn_resp_free(&resp);
        return 0;
    }
    etcd_txn_resp_free(&resp);
    (*time)++;
    int64_t target = *rev;
    *rev = current;
    if (target == 0)
        return 0; /* nothing seen yet: no compaction on the first tick, as upstream */
    rc = etcd_compact(k->c, target, false, &err);
    if (rc == 0 || rc == -ESTALE) {
        ck_vinfo(4, "etcd: compacted to revision %" PRId64, target);
        atomic_store(&k->compacted, target);
        rc = 0;
    } else {
        ck_err("etcd: compaction to %" PRId64 " failed: %s", target, err.message);
    }
    ck_error_clear(&err);
    return rc;
}

static void *compactor_loop(void *arg)
{
    struct etcd_compactor *k = arg;
    int64_t time = 0, rev = 0;
    for (;;) {
        int64_t next = etcd_now_ms() + k->interval_ms;
        pthread_mutex_lock(&k->mu);
        while (!k->stop && etcd_now_ms() < next)
            etcd_cond_wait_until(&k->cv, &k->mu, next);
        bool stop = k->stop;
        pthread_mutex_unlock(&k->mu);
        if (stop)
            break;
        compact_tick(k, &time, &rev);
    }
    return NULL;
}

int etcd_compactor_start(struct etcd_client *c, int interval_ms, struct etcd_compactor **out,
                         struct ck_error *err)
{
    *out = NULL;
    if (interval_ms <= 0)
        return 0;
    struct etcd_compactor *k = ck_xcalloc(1, sizeof(*k));
    k->c = c;
    k->interval_ms = interval_ms;
    pthread_mutex_init(&k->mu, NULL);
    etcd_cond_init(&k->cv);
    atomic_init(&k->compacted, 0);
    if (pthread_create(&k->thread, NULL, compactor_loop, k) != 0) {
        pthread_cond_destroy(&k->cv);
        pthread_mutex_destroy(&k->mu);
        free(k);
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "etcd: cannot start the compactor");
    }
    *out = k;
    return 0;
}

int64_t etcd_compactor_revision(struct etcd_compactor *k)
{
    return k ? atomic_load(&k->compacted) : 0;
}

void etcd_compactor_stop(struct etcd_compactor *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    free(k);
}
