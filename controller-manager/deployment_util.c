/* deployment_util.c - the pure helpers of the Deployment controller: pod-template-hash,
 * maxSurge/maxUnavailable resolution, proportional scaling and the rolling scale-down plan,
 * revisions and their annotations, status and the Progressing/Available conditions. Each
 * follows the upstream function named in deployment_util.h.
 *
 * The pod-template-hash is upstream's value: spewhash.c renders the template as go-spew prints
 * the typed Go PodTemplateSpec (through the Go type table of gotypes.h) and sums that. A
 * template it cannot render exactly (a set metav1.Time in its metadata, a quantity beyond
 * 2^128) falls back, with a warning, to a sum over our canonical JSON.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deployment_util.h"
#include "intstr.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "spewhash.h"
#include "timeutil.h"

/* ---- small accessors ------------------------------------------------------------------------ */

static const cJSON *annotations(const cJSON *obj)
{
    return ck_json_get(obj, "metadata.annotations");
}

/* The annotation key of obj (borrowed), or NULL. Keys hold dots and slashes, so no paths. */
static const char *ann(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(annotations(obj), key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void set_ann(cJSON *obj, const char *key, const char *value)
{
    cJSON *a = ck_json_ensure_objectv(obj, "metadata", "annotations", NULL);
    if (!a)
        return;
    if (cJSON_GetObjectItemCaseSensitive(a, key))
        cJSON_ReplaceItemInObjectCaseSensitive(a, key, cJSON_CreateString(value));
    else
        cJSON_AddStringToObject(a, key, value);
}

static int32_t clamp32(int64_t v)
{
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

static int32_t status_int(const cJSON *obj, const char *field)
{
    if (!obj)
        return 0;
    return clamp32(
        ck_json_as_int64(cJSON_GetObjectItemCaseSensitive(ck_json_get(obj, "status"), field), 0));
}

static int64_t time_at(const cJSON *obj, const char *path)
{
    const char *s = ck_json_get_string(obj, path, NULL);
    struct timespec ts;
    if (!s || ck_time_parse(s, &ts, NULL) < 0)
        return 0;
    return (int64_t)ts.tv_sec;
}

static int32_t min32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

/* ---- pod-template-hash ---------------------------------------------------------------------- */

uint32_t dp_fnv32a(uint32_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

char *dp_safe_encode(const char *s)
{
    static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
    size_t n = s ? strlen(s) : 0;
    char *out = ck_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        out[i] = alnum[(unsigned char)s[i] % (sizeof(alnum) - 1)];
    out[n] = '\0';
    return out;
}

/* The hash we used before spewhash.c: fnv32a over our canonical JSON. Kept only as the
 * fallback for the templates spew_template_sum cannot render as upstream does. */
static uint32_t canonical_json_sum(const cJSON *tmpl, const int64_t *collision_count)
{
    uint32_t h = DP_FNV32_OFFSET;
    CK_AUTOFREE char *canon = ck_json_canonical(tmpl);
    if (canon)
        h = dp_fnv32a(h, canon, strlen(canon));
    if (collision_count) {
        uint32_t c = (uint32_t)*collision_count;
        unsigned char b[8] = {(unsigned char)c, (unsigned char)(c >> 8), (unsigned char)(c >> 16),
                              (unsigned char)(c >> 24)};
        h = dp_fnv32a(h, b, sizeof(b));
    }
    return h;
}

char *dp_compute_hash(const cJSON *tmpl, const int64_t *collision_count)
{
    uint32_t h;
    struct ck_error err = CK_ERROR_INIT;
    if (spew_template_sum(tmpl, collision_count, &h, &err) < 0) {
        ck_warn("pod-template-hash: %s; falling back to a hash of the template's JSON",
                err.message);
        h = canonical_json_sum(tmpl, collision_count);
    }
    ck_error_clear(&err);
    char dec[16];
    snprintf(dec, sizeof(dec), "%u", h);
    return dp_safe_encode(dec);
}

/* A copy of tmpl without the hash label (and without a labels map left empty by that). */
static cJSON *strip_hash(const cJSON *tmpl)
{
    cJSON *t = ck_json_dup(tmpl);
    cJSON *labels = (cJSON *)ck_json_get(t, "metadata.labels");
    if (cJSON_IsObject(labels)) {
        cJSON_DeleteItemFromObjectCaseSensitive(labels, DP_HASH_LABEL);
        if (!labels->child)
            ck_json_delete(t, "metadata.labels");
    }
    cJSON *md = (cJSON *)ck_json_get(t, "metadata");
    if (cJSON_IsObject(md) && !md->child)
        ck_json_delete(t, "metadata");
    return t;
}

bool dp_equal_ignore_hash(const cJSON *t1, const cJSON *t2)
{
    cJSON *a = strip_hash(t1), *b = strip_hash(t2);
    bool eq = ck_json_equal(a, b);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return eq;
}

/* ---- replica arithmetic --------------------------------------------------------------------- */

int32_t dp_spec_replicas(const cJSON *obj)
{
    if (!obj)
        return 0;
    return clamp32(ck_json_get_int64(obj, "spec.replicas", 1));
}

bool dp_is_rolling(const cJSON *d)
{
    return !strcmp(ck_json_get_string(d, "spec.strategy.type", "RollingUpdate"), "RollingUpdate");
}

/* The intstr at path of d into *v; false when absent. */
static bool intstr_at(const cJSON *d, const char *path, struct ck_intstr *v, int *rc,
                      struct ck_error *err)
{
    const cJSON *j = ck_json_get(d, path);
    *rc = 0;
    if (!j || cJSON_IsNull(j))
        return false;
    *rc = ck_intstr_from_json(j, v, err);
    return *rc == 0;
}

int dp_resolve_fenceposts(const cJSON *d, int32_t *surge, int32_t *unavailable,
                          struct ck_error *err)
{
    struct ck_intstr ms = CK_INTSTR_INIT, mu = CK_INTSTR_INIT;
    int rc1, rc2;
    bool has_ms = intstr_at(d, "spec.strategy.rollingUpdate.maxSurge", &ms, &rc1, err);
    bool has_mu = intstr_at(d, "spec.strategy.rollingUpdate.maxUnavailable", &mu, &rc2, err);
    int rc = rc1 < 0 ? rc1 : rc2;
    if (rc == 0)
        rc = ck_intstr_resolve_fenceposts(has_ms ? &ms : NULL, has_mu ? &mu : NULL,
                                          dp_spec_replicas(d), surge, unavailable, err);
    ck_intstr_clear(&ms);
    ck_intstr_clear(&mu);
    return rc;
}

int32_t dp_max_surge(const cJSON *d)
{
    if (!dp_is_rolling(d))
        return 0;
    int32_t s = 0, u = 0;
    if (dp_resolve_fenceposts(d, &s, &u, NULL) < 0)
        return 0;
    return s;
}

int32_t dp_max_unavailable(const cJSON *d)
{
    int32_t want = dp_spec_replicas(d);
    if (!dp_is_rolling(d) || want == 0)
        return 0;
    int32_t s = 0, u = 0;
    if (dp_resolve_fenceposts(d, &s, &u, NULL) < 0)
        return 0;
    return u > want ? want : u;
}

int32_t dp_sum_spec(const cJSON *const *rss, size_t n)
{
    int64_t t = 0;
    for (size_t i = 0; i < n; i++)
        if (rss[i])
            t += dp_spec_replicas(rss[i]);
    return clamp32(t);
}

int32_t dp_sum_status(const cJSON *const *rss, size_t n, const char *field)
{
    int64_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += status_int(rss[i], field);
    return clamp32(t);
}

int dp_new_rs_new_replicas(const cJSON *d, const cJSON *const *all, size_t n, const cJSON *new_rs,
                           int32_t *out, struct ck_error *err)
{
    const char *type = ck_json_get_string(d, "spec.strategy.type", "RollingUpdate");
    int32_t want = dp_spec_replicas(d);
    if (!strcmp(type, "Recreate")) {
        *out = want;
        return 0;
    }
    if (strcmp(type, "RollingUpdate"))
        return ck_error_set(err, 500, "InternalError", "deployment type %s isn't supported", type);
    struct ck_intstr ms = CK_INTSTR_INIT;
    int rc;
    intstr_at(d, "spec.strategy.rollingUpdate.maxSurge", &ms, &rc, err);
    int64_t surge = 0;
    if (rc == 0)
        rc = ck_intstr_scaled_value(&ms, want, true, &surge, err);
    ck_intstr_clear(&ms);
    if (rc < 0)
        return rc;
    int32_t cur = dp_sum_spec(all, n), have = dp_spec_replicas(new_rs);
    int64_t max_total = (int64_t)want + surge;
    if (cur >= max_total) {
        *out = have;
        return 0;
    }
    int64_t up = max_total - cur;
    if (up > (int64_t)want - have)
        up = (int64_t)want - have;
    *out = clamp32(have + up);
    return 0;
}

bool dp_int_annotation(const cJSON *obj, const char *key, int32_t *out)
{
    const char *s = ann(obj, key);
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

bool dp_is_saturated(const cJSON *d, const cJSON *new_rs)
{
    if (!new_rs)
        return false;
    int32_t desired, want = dp_spec_replicas(d);
    if (!dp_int_annotation(new_rs, DP_DESIRED_ANN, &desired))
        return false;
    return dp_spec_replicas(new_rs) == want && desired == want &&
           status_int(new_rs, "availableReplicas") == want;
}

/* ---- ordering ------------------------------------------------------------------------------- */

static int cmp_creation(const cJSON *a, const cJSON *b)
{
    int64_t ta = time_at(a, "metadata.creationTimestamp"),
            tb = time_at(b, "metadata.creationTimestamp");
    if (ta != tb)
        return ta < tb ? -1 : 1;
    return strcmp(ck_json_get_string(a, "metadata.name", ""),
                  ck_json_get_string(b, "metadata.name", ""));
}

static int qcmp_creation(const void *pa, const void *pb)
{
    return cmp_creation(*(const cJSON *const *)pa, *(const cJSON *const *)pb);
}

void dp_sort_by_creation(const cJSON **rss, size_t n)
{
    if (n > 1)
        qsort(rss, n, sizeof(*rss), qcmp_creation);
}

int64_t dp_revision(const cJSON *obj)
{
    const char *s = ann(obj, DP_REVISION_ANN);
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return (*end || errno) ? 0 : v;
}

int64_t dp_max_revision(const cJSON *const *rss, size_t n)
{
    int64_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t r = rss[i] ? dp_revision(rss[i]) : 0;
        if (r > m)
            m = r;
    }
    return m;
}

static int qcmp_revision(const void *pa, const void *pb)
{
    const cJSON *a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
    int64_t ra = dp_revision(a), rb = dp_revision(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    return cmp_creation(a, b);
}

void dp_sort_by_revision(const cJSON **rss, size_t n)
{
    if (n > 1)
        qsort(rss, n, sizeof(*rss), qcmp_revision);
}

int dp_find_new_rs(const cJSON *d, const cJSON *const *rss, size_t n)
{
    const cJSON *tmpl = ck_json_get(d, "spec.template");
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        if (!rss[i] || !dp_equal_ignore_hash(ck_json_get(rss[i], "spec.template"), tmpl))
            continue;
        if (best < 0 || cmp_creation(rss[i], rss[best]) < 0)
            best = (int)i;
    }
    return best;
}

/* ---- proportional scaling and the rolling scale-down plan ----------------------------------- */

struct sized {
    const cJSON *rs;
    size_t idx;
    int grow; /* sort direction: larger first; ties newer first when growing */
};

static int qcmp_size(const void *pa, const void *pb)
{
    const struct sized *a = pa, *b = pb;
    int32_t ra = dp_spec_replicas(a->rs), rb = dp_spec_replicas(b->rs);
    if (ra != rb)
        return ra > rb ? -1 : 1;
    int c = cmp_creation(a->rs, b->rs);
    return a->grow ? -c : c;
}

/* upstream's getReplicaSetFraction: rs's share of the new size, relative to its current one. */
static int32_t rs_fraction(const cJSON *rs, const cJSON *d)
{
    int32_t want = dp_spec_replicas(d), have = dp_spec_replicas(rs);
    if (want == 0)
        return -have;
    int64_t total = (int64_t)want + dp_max_surge(d);
    int32_t annotated;
    if (!dp_int_annotation(rs, DP_MAX_ANN, &annotated))
        annotated = status_int(d, "replicas");
    if (annotated == 0)
        return 0; /* upstream divides by zero here (+Inf); growing nothing is the sane answer */
    double size = (double)have * (double)total / (double)annotated;
    double r = size < 0 ? size - 0.5 : size + 0.5;
    if (r > INT32_MAX || r < INT32_MIN)
        return 0;
    return (int32_t)r - have;
}

/* upstream's GetProportion. */
static int32_t proportion(const cJSON *rs, const cJSON *d, int32_t to_add, int32_t added)
{
    if (!rs || dp_spec_replicas(rs) == 0 || to_add == 0 || to_add == added)
        return 0;
    int32_t f = rs_fraction(rs, d), allowed = to_add - added;
    if (to_add > 0)
        return f < allowed ? f : allowed;
    return f > allowed ? f : allowed;
}

void dp_proportional_sizes(const cJSON *d, const cJSON *const *rss, size_t n, int32_t *sizes)
{
    for (size_t i = 0; i < n; i++)
        sizes[i] = dp_spec_replicas(rss[i]);
    if (n == 0)
        return;
    int32_t want = dp_spec_replicas(d);
    int64_t allowed = want > 0 ? (int64_t)want + dp_max_surge(d) : 0;
    int32_t to_add = clamp32(allowed - dp_sum_spec(rss, n));
    if (to_add == 0)
        return;
    struct sized *s = ck_xmalloc(n * sizeof(*s));
    for (size_t i = 0; i < n; i++)
        s[i] = (struct sized){rss[i], i, to_add > 0};
    qsort(s, n, sizeof(*s), qcmp_size);
    int32_t added = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t p = proportion(s[i].rs, d, to_add, added);
        sizes[s[i].idx] += p;
        added += p;
    }
    size_t first = s[0].idx;
    sizes[first] += to_add - added;
    if (sizes[first] < 0)
        sizes[first] = 0;
    free(s);
}

int32_t dp_rolling_scale_down_plan(const cJSON *d, const cJSON *const *olds, size_t n,
                                   const cJSON *new_rs, int32_t *cleaned, int32_t *sizes)
{
    for (size_t i = 0; i < n; i++)
        cleaned[i] = sizes[i] = dp_spec_replicas(olds[i]);
    int32_t old_count = dp_sum_spec(olds, n);
    if (old_count == 0)
        return 0;
    int32_t all = old_count + dp_spec_replicas(new_rs);
    int32_t min_avail = dp_spec_replicas(d) - dp_max_unavailable(d);
    int32_t new_unavail = dp_spec_replicas(new_rs) - status_int(new_rs, "availableReplicas");
    int32_t max_down = all - min_avail - new_unavail;
    if (max_down <= 0)
        return 0;
    struct sized *s = ck_xmalloc(n * sizeof(*s) + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (struct sized){olds[i], i, 0};
    /* oldest first */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp_creation(s[j - 1].rs, s[j].rs) > 0; j--) {
            struct sized t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    /* upstream's cleanupUnhealthyReplicas: drop replicas that are not available anyway */
    int32_t dropped = 0;
    for (size_t i = 0; i < n && dropped < max_down; i++) {
        int32_t *sz = &sizes[s[i].idx], avail = status_int(s[i].rs, "availableReplicas");
        if (*sz == 0 || *sz <= avail)
            continue;
        int32_t k = min32(max_down - dropped, *sz - avail);
        *sz -= k;
        dropped += k;
    }
    for (size_t i = 0; i < n; i++)
        cleaned[i] = sizes[i];
    /* upstream's scaleDownOldReplicaSetsForRollingUpdate: keep minAvailable available */
    int32_t avail =
        dp_sum_status(olds, n, "availableReplicas") + status_int(new_rs, "availableReplicas");
    int32_t scaled = 0;
    if (avail > min_avail) {
        int32_t total = avail - min_avail;
        for (size_t i = 0; i < n && scaled < total; i++) {
            int32_t *sz = &sizes[s[i].idx];
            if (*sz == 0)
                continue;
            int32_t k = min32(*sz, total - scaled);
            *sz -= k;
            scaled += k;
        }
    }
    free(s);
    return dropped + scaled;
}

/* ---- annotations ---------------------------------------------------------------------------- */

bool dp_replicas_annotations_need_update(const cJSON *rs, int32_t desired, int32_t max)
{
    char a[16], b[16];
    snprintf(a, sizeof(a), "%d", desired);
    snprintf(b, sizeof(b), "%d", max);
    const char *da = ann(rs, DP_DESIRED_ANN), *ma = ann(rs, DP_MAX_ANN);
    return !da || strcmp(da, a) || !ma || strcmp(ma, b);
}

bool dp_set_replicas_annotations(cJSON *rs, int32_t desired, int32_t max)
{
    if (!dp_replicas_annotations_need_update(rs, desired, max))
        return false;
    char a[16], b[16];
    snprintf(a, sizeof(a), "%d", desired);
    snprintf(b, sizeof(b), "%d", max);
    set_ann(rs, DP_DESIRED_ANN, a);
    set_ann(rs, DP_MAX_ANN, b);
    return true;
}

static bool skip_copy(const char *k)
{
    static const char *const skip[] = {"kubectl.kubernetes.io/last-applied-configuration",
                                       DP_REVISION_ANN,
                                       DP_REVISION_HISTORY_ANN,
                                       DP_DESIRED_ANN,
                                       DP_MAX_ANN,
                                       "deprecated.deployment.rollback.to"};
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (!strcmp(k, skip[i]))
            return true;
    return false;
}

/* Appends old to the revision history of rs, dropping the oldest entries past the limit. */
static void push_history(cJSON *rs, const char *old)
{
    const char *h = ann(rs, DP_REVISION_HISTORY_ANN);
    if (!h || !*h) {
        set_ann(rs, DP_REVISION_HISTORY_ANN, old);
        return;
    }
    size_t total = strlen(h) + strlen(old) + 1;
    const char *start = h;
    while (total > DP_MAX_REV_HISTORY_LEN && *start) {
        const char *comma = strchr(start, ',');
        size_t len = comma ? (size_t)(comma - start) : strlen(start);
        total -= len + 1;
        start = comma ? comma + 1 : start + len;
    }
    if (total > DP_MAX_REV_HISTORY_LEN)
        return; /* as upstream: the history is left as it was */
    CK_AUTOFREE char *v = *start ? ck_xasprintf("%s,%s", start, old) : ck_xstrdup(old);
    set_ann(rs, DP_REVISION_HISTORY_ANN, v);
}

bool dp_set_new_rs_annotations(const cJSON *d, cJSON *rs, const char *new_revision, bool exists)
{
    bool changed = false;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, annotations(d))
    {
        if (!cJSON_IsString(kv) || skip_copy(kv->string))
            continue;
        const char *cur = ann(rs, kv->string);
        if (cur && !strcmp(cur, kv->valuestring))
            continue;
        set_ann(rs, kv->string, kv->valuestring);
        changed = true;
    }
    const char *old = ann(rs, DP_REVISION_ANN);
    CK_AUTOFREE char *old_copy = old ? ck_xstrdup(old) : NULL;
    char *end;
    long long old_rev = 0, new_rev;
    if (old_copy && *old_copy) {
        errno = 0;
        old_rev = strtoll(old_copy, &end, 10);
        if (*end || errno)
            return changed; /* upstream logs and leaves the revision alone */
    }
    errno = 0;
    new_rev = strtoll(new_revision, &end, 10);
    if (!*new_revision || *end || errno)
        return changed;
    if (old_rev < new_rev) {
        if (old_copy && *old_copy)
            push_history(rs, old_copy);
        set_ann(rs, DP_REVISION_ANN, new_revision);
        changed = true;
    }
    if (!exists) {
        int32_t want = dp_spec_replicas(d);
        if (dp_set_replicas_annotations(rs, want, clamp32((int64_t)want + dp_max_surge(d))))
            changed = true;
    }
    return changed;
}

bool dp_set_deployment_revision(cJSON *d, const char *revision)
{
    const char *cur = ann(d, DP_REVISION_ANN);
    if (cur && !strcmp(cur, revision))
        return false;
    set_ann(d, DP_REVISION_ANN, revision);
    return true;
}

/* ---- status and conditions ------------------------------------------------------------------ */

cJSON *dp_condition_new(const char *type, const char *status, const char *reason,
                        const char *message, int64_t now)
{
    char ts[CK_TIME_BUFSZ];
    struct timespec t = {.tv_sec = (time_t)now};
    if (ck_time_format(&t, ts) < 0)
        ts[0] = '\0';
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddStringToObject(c, "status", status);
    cJSON_AddStringToObject(c, "lastUpdateTime", ts);
    cJSON_AddStringToObject(c, "lastTransitionTime", ts);
    cJSON_AddStringToObject(c, "reason", reason);
    cJSON_AddStringToObject(c, "message", message);
    return c;
}

const cJSON *dp_condition_get(const cJSON *status, const char *type)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(status, "conditions"))
    {
        if (!strcmp(ck_json_get_string(c, "type", ""), type))
            return c;
    }
    return NULL;
}

void dp_condition_remove(cJSON *status, const char *type)
{
    cJSON *conds = cJSON_GetObjectItemCaseSensitive(status, "conditions");
    cJSON *c = conds ? conds->child : NULL;
    while (c) {
        cJSON *next = c->next;
        if (!strcmp(ck_json_get_string(c, "type", ""), type))
            cJSON_Delete(cJSON_DetachItemViaPointer(conds, c));
        c = next;
    }
    if (conds && !conds->child)
        cJSON_DeleteItemFromObjectCaseSensitive(status, "conditions");
}

void dp_condition_set(cJSON *status, cJSON *cond)
{
    const char *type = ck_json_get_string(cond, "type", "");
    const cJSON *cur = dp_condition_get(status, type);
    const char *st = ck_json_get_string(cond, "status", "");
    if (cur && !strcmp(ck_json_get_string(cur, "status", ""), st) &&
        !strcmp(ck_json_get_string(cur, "reason", ""), ck_json_get_string(cond, "reason", ""))) {
        cJSON_Delete(cond);
        return;
    }
    if (cur && !strcmp(ck_json_get_string(cur, "status", ""), st)) {
        const cJSON *lt = cJSON_GetObjectItemCaseSensitive(cur, "lastTransitionTime");
        if (lt)
            cJSON_ReplaceItemInObjectCaseSensitive(cond, "lastTransitionTime", ck_json_dup(lt));
    }
    dp_condition_remove(status, type);
    cJSON *conds = ck_json_ensure_array(status, "conditions");
    if (!conds) {
        cJSON_Delete(cond);
        return;
    }
    cJSON_AddItemToArray(conds, cond);
}

static void put_count(cJSON *status, const char *field, int64_t v)
{
    if (v != 0) /* omitempty */
        cJSON_AddItemToObject(status, field, ck_json_new_int64(v));
}

cJSON *dp_calculate_status(const cJSON *d, const cJSON *const *all, size_t n, const cJSON *new_rs,
                           int64_t now)
{
    int32_t avail = dp_sum_status(all, n, "availableReplicas");
    int32_t total = dp_sum_status(all, n, "replicas");
    int32_t unavail = total - avail < 0 ? 0 : total - avail;
    const cJSON *old = ck_json_get(d, "status");
    cJSON *s = cJSON_CreateObject();
    put_count(s, "observedGeneration", ck_json_get_int64(d, "metadata.generation", 0));
    put_count(s, "replicas", total);
    put_count(s, "updatedReplicas", status_int(new_rs, "replicas"));
    put_count(s, "readyReplicas", dp_sum_status(all, n, "readyReplicas"));
    put_count(s, "availableReplicas", avail);
    put_count(s, "unavailableReplicas", unavail);
    const cJSON *conds = cJSON_GetObjectItemCaseSensitive(old, "conditions");
    if (cJSON_IsArray(conds) && conds->child)
        cJSON_AddItemToObject(s, "conditions", ck_json_dup(conds));
    const cJSON *cc = cJSON_GetObjectItemCaseSensitive(old, "collisionCount");
    if (cc)
        cJSON_AddItemToObject(s, "collisionCount", ck_json_dup(cc));
    if (avail >= dp_spec_replicas(d) - dp_max_unavailable(d))
        dp_condition_set(s, dp_condition_new("Available", "True", DP_MIN_AVAILABLE_REASON,
                                             "Deployment has minimum availability.", now));
    else
        dp_condition_set(s,
                         dp_condition_new("Available", "False", DP_MIN_UNAVAILABLE_REASON,
                                          "Deployment does not have minimum availability.", now));
    return s;
}

bool dp_has_progress_deadline(const cJSON *d)
{
    const cJSON *p = ck_json_get(d, "spec.progressDeadlineSeconds");
    return cJSON_IsNumber(p) && ck_json_as_int64(p, 0) != INT32_MAX;
}

static int64_t st(const cJSON *status, const char *field)
{
    return ck_json_as_int64(cJSON_GetObjectItemCaseSensitive(status, field), 0);
}

bool dp_complete(const cJSON *d, const cJSON *status)
{
    int64_t want = dp_spec_replicas(d);
    return st(status, "updatedReplicas") == want && st(status, "replicas") == want &&
           st(status, "availableReplicas") == want &&
           st(status, "observedGeneration") >= ck_json_get_int64(d, "metadata.generation", 0);
}

bool dp_progressing(const cJSON *d, const cJSON *status)
{
    const cJSON *old = ck_json_get(d, "status");
    int64_t old_old = st(old, "replicas") - st(old, "updatedReplicas");
    int64_t new_old = st(status, "replicas") - st(status, "updatedReplicas");
    return st(status, "updatedReplicas") > st(old, "updatedReplicas") || new_old < old_old ||
           st(status, "readyReplicas") > st(old, "readyReplicas") ||
           st(status, "availableReplicas") > st(old, "availableReplicas");
}

bool dp_timed_out(const cJSON *d, const cJSON *status, int64_t now)
{
    if (!dp_has_progress_deadline(d))
        return false;
    const cJSON *c = dp_condition_get(status, "Progressing");
    if (!c)
        return false;
    const char *reason = ck_json_get_string(c, "reason", "");
    if (!strcmp(reason, DP_NEW_RS_AVAILABLE_REASON))
        return false;
    if (!strcmp(reason, DP_TIMED_OUT_REASON))
        return true;
    int64_t from = time_at(c, "lastUpdateTime");
    return from + ck_json_get_int64(d, "spec.progressDeadlineSeconds", 0) < now;
}

/* "ReplicaSet \"x\" <what>" when there is a new ReplicaSet, else "Deployment \"d\" <what>". */
static char *subject_msg(const cJSON *d, const cJSON *new_rs, const char *what)
{
    if (new_rs)
        return ck_xasprintf("ReplicaSet \"%s\" %s", ck_json_get_string(new_rs, "metadata.name", ""),
                            what);
    return ck_xasprintf("Deployment \"%s\" %s", ck_json_get_string(d, "metadata.name", ""), what);
}

/* upstream's ReplicaSetToDeploymentCondition. */
static cJSON *failure_cond(const cJSON *c)
{
    cJSON *o = cJSON_CreateObject();
    const char *lt = ck_json_get_string(c, "lastTransitionTime", "");
    cJSON_AddStringToObject(o, "type", ck_json_get_string(c, "type", ""));
    cJSON_AddStringToObject(o, "status", ck_json_get_string(c, "status", ""));
    cJSON_AddStringToObject(o, "lastUpdateTime", lt);
    cJSON_AddStringToObject(o, "lastTransitionTime", lt);
    cJSON_AddStringToObject(o, "reason", ck_json_get_string(c, "reason", ""));
    cJSON_AddStringToObject(o, "message", ck_json_get_string(c, "message", ""));
    return o;
}

static const cJSON *rs_failure(const cJSON *rs)
{
    return rs ? dp_condition_get(ck_json_get(rs, "status"), "ReplicaFailure") : NULL;
}

void dp_rollout_conditions(const cJSON *d, cJSON *ns, const cJSON *new_rs, const cJSON *const *all,
                           size_t n, int64_t now)
{
    bool deadline = dp_has_progress_deadline(d);
    if (!deadline)
        dp_condition_remove(ns, "Progressing");
    const cJSON *cur = dp_condition_get(ck_json_get(d, "status"), "Progressing");
    bool complete = st(ns, "replicas") == st(ns, "updatedReplicas") && cur &&
                    !strcmp(ck_json_get_string(cur, "reason", ""), DP_NEW_RS_AVAILABLE_REASON);
    if (deadline && !complete) {
        if (dp_complete(d, ns)) {
            CK_AUTOFREE char *m = subject_msg(d, new_rs, "has successfully progressed.");
            dp_condition_set(
                ns, dp_condition_new("Progressing", "True", DP_NEW_RS_AVAILABLE_REASON, m, now));
        } else if (dp_progressing(d, ns)) {
            CK_AUTOFREE char *m = subject_msg(d, new_rs, "is progressing.");
            cJSON *c = dp_condition_new("Progressing", "True", DP_RS_UPDATED_REASON, m, now);
            if (cur) {
                /* a True condition keeps its transition time; the update time moves */
                const cJSON *lt = cJSON_GetObjectItemCaseSensitive(cur, "lastTransitionTime");
                if (!strcmp(ck_json_get_string(cur, "status", ""), "True") && lt)
                    cJSON_ReplaceItemInObjectCaseSensitive(c, "lastTransitionTime",
                                                           ck_json_dup(lt));
                dp_condition_remove(ns, "Progressing");
            }
            dp_condition_set(ns, c);
        } else if (dp_timed_out(d, ns, now)) {
            CK_AUTOFREE char *m = subject_msg(d, new_rs, "has timed out progressing.");
            dp_condition_set(ns,
                             dp_condition_new("Progressing", "False", DP_TIMED_OUT_REASON, m, now));
        }
    }
    /* the new ReplicaSet's failure wins over the old ones' */
    const cJSON *f = rs_failure(new_rs);
    for (size_t i = 0; !f && i < n; i++)
        f = rs_failure(all[i]);
    if (f)
        dp_condition_set(ns, failure_cond(f));
    else
        dp_condition_remove(ns, "ReplicaFailure");
}

bool dp_paused_conditions(cJSON *d, int64_t now)
{
    if (!dp_has_progress_deadline(d))
        return false;
    cJSON *status = ck_json_ensure_object(d, "status");
    if (!status)
        return false;
    const cJSON *c = dp_condition_get(status, "Progressing");
    const char *reason = c ? ck_json_get_string(c, "reason", "") : "";
    if (!strcmp(reason, DP_TIMED_OUT_REASON))
        return false;
    bool paused_cond = !strcmp(reason, DP_PAUSED_REASON);
    bool paused = ck_json_get_bool(d, "spec.paused", false);
    if (paused && !paused_cond)
        dp_condition_set(status, dp_condition_new("Progressing", "Unknown", DP_PAUSED_REASON,
                                                  "Deployment is paused", now));
    else if (!paused && paused_cond)
        dp_condition_set(status, dp_condition_new("Progressing", "Unknown", DP_RESUMED_REASON,
                                                  "Deployment is resumed", now));
    else
        return false;
    return true;
}

int64_t dp_requeue_after(const cJSON *d, const cJSON *new_status, int64_t now)
{
    const cJSON *cur = dp_condition_get(ck_json_get(d, "status"), "Progressing");
    if (!dp_has_progress_deadline(d) || !cur)
        return -1;
    if (dp_complete(d, new_status) ||
        !strcmp(ck_json_get_string(cur, "reason", ""), DP_TIMED_OUT_REASON))
        return -1;
    int64_t after = time_at(cur, "lastUpdateTime") +
                    ck_json_get_int64(d, "spec.progressDeadlineSeconds", 0) - now;
    return after < 1 ? 0 : after + 1;
}
