/* Unit tests for controller-manager/deployment_util.c: the Deployment controller's pure logic
 * (pod-template-hash, surge/unavailable resolution, new ReplicaSet size, proportional scaling,
 * the rolling scale-down plan, revision annotations, status and condition transitions). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller-manager/deployment_util.h"
#include "json.h"
#include "mem.h"

#define NOW 1800000000LL /* 2027-01-15T08:00:00Z */

static cJSON *J(const char *s)
{
    cJSON *j = ck_json_parse(s, strlen(s), NULL);
    assert_non_null(j);
    return j;
}

/* A Deployment with replicas and a rollingUpdate (surge/unavail JSON values, NULL: absent). */
static cJSON *deploy(int replicas, const char *surge, const char *unavail)
{
    char *s = ck_xasprintf(
        "{\"metadata\":{\"name\":\"web\",\"generation\":2},\"spec\":{\"replicas\":%d,"
        "\"progressDeadlineSeconds\":600,\"strategy\":{\"type\":\"RollingUpdate\","
        "\"rollingUpdate\":{%s%s%s%s%s%s}},\"template\":{\"metadata\":{\"labels\":{\"app\":"
        "\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}",
        replicas, surge ? "\"maxSurge\":" : "", surge ? surge : "", surge && unavail ? "," : "",
        unavail ? "\"maxUnavailable\":" : "", unavail ? unavail : "", "");
    cJSON *d = J(s);
    free(s);
    return d;
}

/* A ReplicaSet: name, creation second offset, spec.replicas, status available, max annotation
 * (< 0: none). */
static cJSON *rs(const char *name, int created, int spec, int avail, int max_ann)
{
    char ann[96] = "";
    if (max_ann >= 0)
        snprintf(ann, sizeof(ann),
                 "\"annotations\":{\"deployment.kubernetes.io/max-replicas\":"
                 "\"%d\"},",
                 max_ann);
    char *s = ck_xasprintf("{\"metadata\":{\"name\":\"%s\",%s\"creationTimestamp\":"
                           "\"2026-01-01T00:00:%02dZ\"},\"spec\":{\"replicas\":%d},"
                           "\"status\":{\"replicas\":%d,\"availableReplicas\":%d,"
                           "\"readyReplicas\":%d}}",
                           name, ann, created, spec, spec, avail, avail);
    cJSON *r = J(s);
    free(s);
    return r;
}

/* ---- hash ----------------------------------------------------------------------------------- */

static void fnv32a_matches_reference_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint32_t want;
    } cases[] = {{"", 0x811c9dc5u}, {"a", 0xe40c292cu}, {"foobar", 0xbf9cf968u}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(dp_fnv32a(DP_FNV32_OFFSET, cases[i].in, strlen(cases[i].in)),
                         cases[i].want);
}

static void safe_encode_maps_like_upstream(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {{"0123456789", "456789bcdf"}, {"a", "v"}, {"", ""}, {"z", "s"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = dp_safe_encode(cases[i].in);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void hash_is_stable_and_depends_on_template_and_collisions(void **state)
{
    (void)state;
    cJSON *a = J("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"x\"}},"
                 "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}");
    cJSON *same = J("{\"spec\":{\"containers\":[{\"image\":\"busybox\",\"name\":\"c\"}]},"
                    "\"metadata\":{\"labels\":{\"tier\":\"x\",\"app\":\"web\"}}}");
    cJSON *other = J("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"x\"}},"
                     "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}");
    int64_t zero = 0, one = 1;
    char *h = dp_compute_hash(a, NULL), *h2 = dp_compute_hash(same, NULL);
    char *ho = dp_compute_hash(other, NULL), *h0 = dp_compute_hash(a, &zero),
         *h1 = dp_compute_hash(a, &one);
    assert_string_equal(h, h2); /* member order does not matter */
    /* upstream's values (v1.32 ComputeHash), see test_spewhash.c */
    assert_string_equal(h, "6449cbc86");
    assert_string_equal(ho, "75856cb9fb");
    assert_string_equal(h0, "86c75f884b");
    assert_string_equal(h1, "5988ddf987");
    assert_string_not_equal(h, ho);
    assert_string_not_equal(h, h0); /* a nil count and 0 differ, as upstream */
    assert_string_not_equal(h0, h1);
    char *all[] = {h, ho, h0, h1};
    for (size_t i = 0; i < 4; i++) {
        assert_true(strlen(all[i]) >= 1 && strlen(all[i]) <= 10);
        assert_int_equal(strspn(all[i], "456789bcdf"), strlen(all[i]));
        free(all[i]);
    }
    free(h2);
    cJSON_Delete(a);
    cJSON_Delete(same);
    cJSON_Delete(other);
}

static void equal_ignore_hash_drops_only_the_hash_label(void **state)
{
    (void)state;
    static const struct {
        const char *t1, *t2;
        bool want;
    } cases[] = {
        {"{\"metadata\":{\"labels\":{\"app\":\"w\",\"pod-template-hash\":\"abc\"}},\"spec\":{}}",
         "{\"metadata\":{\"labels\":{\"app\":\"w\"}},\"spec\":{}}", true},
        {"{\"metadata\":{\"labels\":{\"pod-template-hash\":\"abc\"}},\"spec\":{}}", "{\"spec\":{}}",
         true},
        {"{\"metadata\":{\"labels\":{\"app\":\"w\"}},\"spec\":{\"x\":1}}",
         "{\"metadata\":{\"labels\":{\"app\":\"w\"}},\"spec\":{\"x\":2}}", false},
        {"{\"metadata\":{\"labels\":{\"app\":\"w\",\"pod-template-hash\":\"a\"}}}",
         "{\"metadata\":{\"labels\":{\"app\":\"v\",\"pod-template-hash\":\"a\"}}}", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *a = J(cases[i].t1), *b = J(cases[i].t2);
        assert_int_equal(dp_equal_ignore_hash(a, b), cases[i].want);
        assert_int_equal(dp_equal_ignore_hash(b, a), cases[i].want);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
}

/* ---- surge / unavailable -------------------------------------------------------------------- */

static void fenceposts_round_as_upstream(void **state)
{
    (void)state;
    static const struct {
        int replicas;
        const char *surge, *unavail;
        int want_surge, want_unavail;
    } cases[] = {
        {10, "\"25%\"", "\"25%\"", 3, 2}, /* surge rounds up, unavailable down */
        {4, "\"25%\"", "\"25%\"", 1, 1},
        {1, "\"25%\"", "\"25%\"", 1, 0},
        {10, "\"33%\"", "\"33%\"", 4, 3},
        {5, "\"0%\"", "\"0%\"", 0, 1}, /* both 0: unavailable becomes 1 */
        {3, "0", "0", 0, 1},
        {2, "1", "5", 1, 2}, /* MaxUnavailable caps at replicas */
        {0, "\"25%\"", "\"25%\"", 0, 0},
        {4, NULL, NULL, 0, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *d = deploy(cases[i].replicas, cases[i].surge, cases[i].unavail);
        assert_int_equal(dp_max_surge(d), cases[i].want_surge);
        assert_int_equal(dp_max_unavailable(d), cases[i].want_unavail);
        cJSON_Delete(d);
    }
    /* Recreate has neither */
    cJSON *d = J("{\"spec\":{\"replicas\":4,\"strategy\":{\"type\":\"Recreate\"}}}");
    assert_int_equal(dp_max_surge(d), 0);
    assert_int_equal(dp_max_unavailable(d), 0);
    cJSON_Delete(d);
    /* a value that is no percentage fails with upstream's message */
    d = deploy(4, "\"abc\"", "1");
    int32_t s, u;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(dp_resolve_fenceposts(d, &s, &u, &err), -EINVAL);
    assert_non_null(strstr(err.message, "invalid value for IntOrString"));
    ck_error_clear(&err);
    cJSON_Delete(d);
}

static void new_rs_replicas_respect_max_surge(void **state)
{
    (void)state;
    static const struct {
        int old, cur_new, want;
    } cases[] = {
        {10, 0, 3}, /* 10 + 25% surge: 3 more */
        {10, 3, 3}, /* at 13 already: no growth */
        {8, 3, 5},  /* 11 of 13: +2 */
        {0, 8, 10}, /* never past replicas */
        {12, 0, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *d = deploy(10, "\"25%\"", "\"25%\"");
        cJSON *o = rs("old", 1, cases[i].old, cases[i].old, -1),
              *n = rs("new", 2, cases[i].cur_new, 0, -1);
        const cJSON *all[] = {o, n};
        int32_t got = -1;
        assert_int_equal(dp_new_rs_new_replicas(d, all, 2, n, &got, NULL), 0);
        assert_int_equal(got, cases[i].want);
        cJSON_Delete(d);
        cJSON_Delete(o);
        cJSON_Delete(n);
    }
    cJSON *d = J("{\"spec\":{\"replicas\":7,\"strategy\":{\"type\":\"Recreate\"}}}");
    int32_t got = 0;
    assert_int_equal(dp_new_rs_new_replicas(d, NULL, 0, NULL, &got, NULL), 0);
    assert_int_equal(got, 7);
    cJSON_Delete(d);
    d = J("{\"spec\":{\"replicas\":7,\"strategy\":{\"type\":\"Canary\"}}}");
    struct ck_error err = CK_ERROR_INIT;
    assert_true(dp_new_rs_new_replicas(d, NULL, 0, NULL, &got, &err) < 0);
    assert_string_equal(err.message, "deployment type Canary isn't supported");
    ck_error_clear(&err);
    cJSON_Delete(d);
}

/* ---- proportional scaling ------------------------------------------------------------------- */

static void proportional_scaling_splits_by_size(void **state)
{
    (void)state;
    static const struct {
        int replicas;
        const char *surge;
        int sizes[3], max_ann[3], n;
        int want[3];
    } cases[] = {
        /* 10 -> 20 mid-rollout (allowed 25 of 13): the larger, newer one gets more */
        {20, "\"25%\"", {5, 8}, {13, 13}, 2, {10, 15}},
        /* 10 -> 5 (allowed 7 of 13) */
        {5, "\"25%\"", {5, 8}, {13, 13}, 2, {3, 4}},
        /* rounding leftover goes to the first in order: the newest on a tie when growing */
        {4, "0", {1, 1, 1}, {3, 3, 3}, 3, {1, 1, 2}},
        /* and the oldest on a tie when shrinking */
        {2, "0", {1, 1, 1}, {3, 3, 3}, 3, {0, 1, 1}},
        /* scaled to zero: everything goes */
        {0, "\"25%\"", {4, 2}, {5, 5}, 2, {0, 0}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *d = deploy(cases[i].replicas, cases[i].surge, "1");
        cJSON *r[3];
        const cJSON *rr[3];
        int32_t got[3];
        for (int k = 0; k < cases[i].n; k++) {
            char name[16];
            snprintf(name, sizeof(name), "rs%d", k);
            rr[k] = r[k] = rs(name, k, cases[i].sizes[k], cases[i].sizes[k], cases[i].max_ann[k]);
        }
        dp_proportional_sizes(d, rr, (size_t)cases[i].n, got);
        for (int k = 0; k < cases[i].n; k++) {
            assert_int_equal(got[k], cases[i].want[k]);
            cJSON_Delete(r[k]);
        }
        cJSON_Delete(d);
    }
}

static void proportional_scaling_without_annotation_uses_status_replicas(void **state)
{
    (void)state;
    cJSON *d = deploy(6, "0", "1");
    cJSON_AddItemToObject(d, "status", J("{\"replicas\":3}"));
    cJSON *a = rs("a", 1, 3, 3, -1);
    const cJSON *rr[] = {a};
    int32_t got;
    dp_proportional_sizes(d, rr, 1, &got);
    assert_int_equal(got, 6);
    cJSON_Delete(a);
    cJSON_Delete(d);
}

/* ---- rolling scale-down --------------------------------------------------------------------- */

static void rolling_scale_down_plan_keeps_min_available(void **state)
{
    (void)state;
    static const struct {
        int n, old_spec[2], old_avail[2], new_spec, new_avail;
        int want_cleaned[2], want[2], want_total;
    } cases[] = {
        /* all healthy: drop one (5 pods, 3 must stay available, the new one is not yet) */
        {1, {4}, {4}, 1, 0, {4}, {3}, 1},
        /* unhealthy old replicas go first */
        {1, {4}, {2}, 1, 0, {3}, {3}, 1},
        /* the new replicas are not available: nothing may go */
        {1, {3}, {3}, 2, 0, {3}, {3}, 0},
        /* the oldest ReplicaSet goes first */
        {2, {2, 2}, {2, 2}, 1, 1, {2, 2}, {0, 2}, 2},
        /* no old replicas at all */
        {1, {0}, {0}, 4, 4, {0}, {0}, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *d = deploy(4, "1", "1");
        cJSON *o[2];
        const cJSON *oo[2];
        for (int k = 0; k < cases[i].n; k++)
            oo[k] = o[k] = rs(k ? "b" : "a", k, cases[i].old_spec[k], cases[i].old_avail[k], -1);
        cJSON *n = rs("new", 9, cases[i].new_spec, cases[i].new_avail, -1);
        int32_t cleaned[2], sizes[2];
        assert_int_equal(dp_rolling_scale_down_plan(d, oo, (size_t)cases[i].n, n, cleaned, sizes),
                         cases[i].want_total);
        for (int k = 0; k < cases[i].n; k++) {
            assert_int_equal(cleaned[k], cases[i].want_cleaned[k]);
            assert_int_equal(sizes[k], cases[i].want[k]);
            cJSON_Delete(o[k]);
        }
        cJSON_Delete(n);
        cJSON_Delete(d);
    }
}

static void saturation_needs_size_annotation_and_availability(void **state)
{
    (void)state;
    cJSON *d = deploy(3, "1", "1");
    cJSON *r = J("{\"metadata\":{\"annotations\":{\"deployment.kubernetes.io/desired-replicas\":"
                 "\"3\"}},\"spec\":{\"replicas\":3},\"status\":{\"availableReplicas\":3}}");
    assert_true(dp_is_saturated(d, r));
    ck_json_set_int64(r, "status.availableReplicas", 2);
    assert_false(dp_is_saturated(d, r));
    ck_json_set_int64(r, "status.availableReplicas", 3);
    ck_json_setv(r, cJSON_CreateString("x"), "metadata", "annotations",
                 "deployment.kubernetes.io/desired-replicas", NULL);
    assert_false(dp_is_saturated(d, r));
    assert_false(dp_is_saturated(d, NULL));
    cJSON_Delete(r);
    cJSON_Delete(d);
}

/* ---- revisions and annotations -------------------------------------------------------------- */

static const char *ann(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ck_json_get(o, "metadata.annotations"), k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void new_rs_annotations_copy_and_track_revisions(void **state)
{
    (void)state;
    cJSON *d = deploy(4, "1", "1");
    ck_json_set(d, "metadata.annotations",
                J("{\"team\":\"a\",\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\","
                  "\"deployment.kubernetes.io/revision\":\"7\"}"));
    cJSON *r = J("{\"metadata\":{\"name\":\"web-x\"}}");
    assert_true(dp_set_new_rs_annotations(d, r, "1", false));
    assert_string_equal(ann(r, "team"), "a");
    assert_null(ann(r, "kubectl.kubernetes.io/last-applied-configuration"));
    assert_string_equal(ann(r, DP_REVISION_ANN), "1");
    assert_null(ann(r, DP_REVISION_HISTORY_ANN));
    assert_string_equal(ann(r, DP_DESIRED_ANN), "4");
    assert_string_equal(ann(r, DP_MAX_ANN), "5");
    /* nothing new: no change */
    assert_false(dp_set_new_rs_annotations(d, r, "1", true));
    /* reused at a later revision: the old one goes to the history */
    assert_true(dp_set_new_rs_annotations(d, r, "3", true));
    assert_string_equal(ann(r, DP_REVISION_ANN), "3");
    assert_string_equal(ann(r, DP_REVISION_HISTORY_ANN), "1");
    assert_true(dp_set_new_rs_annotations(d, r, "5", true));
    assert_string_equal(ann(r, DP_REVISION_HISTORY_ANN), "1,3");
    /* never lowered */
    assert_false(dp_set_new_rs_annotations(d, r, "2", true));
    assert_string_equal(ann(r, DP_REVISION_ANN), "5");
    /* a revision that is no number is left alone */
    ck_json_setv(r, cJSON_CreateString("x"), "metadata", "annotations", DP_REVISION_ANN, NULL);
    assert_false(dp_set_new_rs_annotations(d, r, "9", true));
    assert_string_equal(ann(r, DP_REVISION_ANN), "x");
    cJSON_Delete(r);
    cJSON_Delete(d);
}

static void revision_history_is_bounded(void **state)
{
    (void)state;
    cJSON *d = deploy(1, "1", "1");
    /* 400 entries of "1000," = 2000 chars: the oldest entries make room */
    struct ck_buf b = CK_BUF_INIT;
    for (int i = 0; i < 399; i++)
        ck_buf_printf(&b, "%d,", 1000 + i);
    ck_buf_printf(&b, "%d", 1399);
    cJSON *r = J("{}");
    ck_json_setv(r, cJSON_CreateString(b.data), "metadata", "annotations", DP_REVISION_HISTORY_ANN,
                 NULL);
    ck_json_setv(r, cJSON_CreateString("1400"), "metadata", "annotations", DP_REVISION_ANN, NULL);
    assert_true(dp_set_new_rs_annotations(d, r, "1401", true));
    const char *h = ann(r, DP_REVISION_HISTORY_ANN);
    assert_true(strlen(h) <= DP_MAX_REV_HISTORY_LEN);
    assert_int_equal(strncmp(h, "1001,", 5), 0); /* the oldest went */
    assert_non_null(strstr(h, ",1399,1400"));
    assert_int_equal(strcmp(h + strlen(h) - 5, ",1400"), 0);
    ck_buf_free(&b);
    cJSON_Delete(r);
    cJSON_Delete(d);
}

static void revisions_sort_and_find_the_new_replicaset(void **state)
{
    (void)state;
    cJSON *d = deploy(1, "1", "1");
    cJSON *a = J("{\"metadata\":{\"name\":\"a\",\"creationTimestamp\":\"2026-01-01T00:00:05Z\","
                 "\"annotations\":{\"deployment.kubernetes.io/revision\":\"10\"}},"
                 "\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\","
                 "\"pod-template-hash\":\"q\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                 "\"image\":\"busybox\"}]}}}}");
    cJSON *b = J("{\"metadata\":{\"name\":\"b\",\"creationTimestamp\":\"2026-01-01T00:00:01Z\","
                 "\"annotations\":{\"deployment.kubernetes.io/revision\":\"9\"}},"
                 "\"spec\":{\"template\":{\"spec\":{}}}}");
    cJSON *c = J("{\"metadata\":{\"name\":\"c\",\"creationTimestamp\":\"2026-01-01T00:00:03Z\","
                 "\"annotations\":{\"deployment.kubernetes.io/revision\":\"bad\"}}}");
    const cJSON *v[] = {a, b, c};
    assert_int_equal(dp_max_revision(v, 3), 10);
    assert_int_equal(dp_find_new_rs(d, v, 3), 0);
    dp_sort_by_revision(v, 3);
    assert_ptr_equal(v[0], c);
    assert_ptr_equal(v[1], b);
    assert_ptr_equal(v[2], a);
    dp_sort_by_creation(v, 3);
    assert_ptr_equal(v[0], b);
    assert_ptr_equal(v[1], c);
    assert_ptr_equal(v[2], a);
    const cJSON *none[] = {b, c};
    assert_int_equal(dp_find_new_rs(d, none, 2), -1);
    assert_true(dp_set_deployment_revision(d, "10"));
    assert_false(dp_set_deployment_revision(d, "10"));
    assert_string_equal(ann(d, DP_REVISION_ANN), "10");
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    cJSON_Delete(d);
}

/* ---- conditions and status ------------------------------------------------------------------ */

static const char *cond_field(const cJSON *status, const char *type, const char *field)
{
    return ck_json_get_string(dp_condition_get(status, type), field, NULL);
}

static void condition_set_keeps_transition_time_like_upstream(void **state)
{
    (void)state;
    cJSON *s = cJSON_CreateObject();
    dp_condition_set(s, dp_condition_new("Progressing", "True", "A", "m1", NOW));
    /* same status and reason: nothing changes, not even the update time */
    dp_condition_set(s, dp_condition_new("Progressing", "True", "A", "m2", NOW + 10));
    assert_string_equal(cond_field(s, "Progressing", "message"), "m1");
    assert_string_equal(cond_field(s, "Progressing", "lastUpdateTime"), "2027-01-15T08:00:00Z");
    /* same status, new reason: transition time kept, update time moves */
    dp_condition_set(s, dp_condition_new("Progressing", "True", "B", "m3", NOW + 20));
    assert_string_equal(cond_field(s, "Progressing", "reason"), "B");
    assert_string_equal(cond_field(s, "Progressing", "lastTransitionTime"), "2027-01-15T08:00:00Z");
    assert_string_equal(cond_field(s, "Progressing", "lastUpdateTime"), "2027-01-15T08:00:20Z");
    /* a new status: both times move; a second type is appended */
    dp_condition_set(s, dp_condition_new("Available", "True", "R", "m", NOW));
    dp_condition_set(s, dp_condition_new("Progressing", "False", "C", "m4", NOW + 30));
    assert_string_equal(cond_field(s, "Progressing", "lastTransitionTime"), "2027-01-15T08:00:30Z");
    assert_int_equal(cJSON_GetArraySize(ck_json_get(s, "conditions")), 2);
    assert_string_equal(ck_json_get_string(s, "conditions[1].type", ""), "Progressing");
    dp_condition_remove(s, "Progressing");
    dp_condition_remove(s, "Available");
    assert_null(ck_json_get(s, "conditions"));
    cJSON_Delete(s);
}

static void calculate_status_counts_and_availability(void **state)
{
    (void)state;
    cJSON *d = deploy(4, "1", "1");
    cJSON *o = rs("old", 1, 2, 2, -1), *n = rs("new", 2, 2, 0, -1);
    const cJSON *all[] = {o, n};
    cJSON *s = dp_calculate_status(d, all, 2, n, NOW);
    assert_int_equal(ck_json_get_int64(s, "observedGeneration", -1), 2);
    assert_int_equal(ck_json_get_int64(s, "replicas", -1), 4);
    assert_int_equal(ck_json_get_int64(s, "updatedReplicas", -1), 2);
    assert_int_equal(ck_json_get_int64(s, "readyReplicas", -1), 2);
    assert_int_equal(ck_json_get_int64(s, "availableReplicas", -1), 2);
    assert_int_equal(ck_json_get_int64(s, "unavailableReplicas", -1), 2);
    assert_string_equal(cond_field(s, "Available", "status"), "False");
    assert_string_equal(cond_field(s, "Available", "reason"), "MinimumReplicasUnavailable");
    assert_string_equal(cond_field(s, "Available", "message"),
                        "Deployment does not have minimum availability.");
    cJSON_Delete(s);
    ck_json_set_int64(n, "status.availableReplicas", 1); /* 3 of 4 - maxUnavailable 1 */
    s = dp_calculate_status(d, all, 2, n, NOW);
    assert_string_equal(cond_field(s, "Available", "reason"), "MinimumReplicasAvailable");
    assert_string_equal(cond_field(s, "Available", "message"),
                        "Deployment has minimum availability.");
    cJSON_Delete(s);
    /* zero counts are left out (omitempty) */
    cJSON *z = rs("z", 1, 0, 0, -1);
    const cJSON *zz[] = {z};
    s = dp_calculate_status(d, zz, 1, NULL, NOW);
    assert_null(ck_json_get(s, "replicas"));
    assert_null(ck_json_get(s, "updatedReplicas"));
    cJSON_Delete(s);
    cJSON_Delete(z);
    cJSON_Delete(o);
    cJSON_Delete(n);
    cJSON_Delete(d);
}

static void rollout_conditions_follow_progress(void **state)
{
    (void)state;
    cJSON *d = deploy(2, "1", "1");
    cJSON *n = rs("web-abc", 1, 2, 2, -1);
    const cJSON *all[] = {n};
    /* complete */
    cJSON *s = dp_calculate_status(d, all, 1, n, NOW);
    dp_rollout_conditions(d, s, n, all, 1, NOW);
    assert_string_equal(cond_field(s, "Progressing", "reason"), "NewReplicaSetAvailable");
    assert_string_equal(cond_field(s, "Progressing", "message"),
                        "ReplicaSet \"web-abc\" has successfully progressed.");
    cJSON_Delete(s);
    /* progressing: more updated replicas than before; a True condition keeps its transition */
    ck_json_set(d, "status",
                J("{\"replicas\":2,\"conditions\":[{\"type\":\"Progressing\",\"status\":\"True\","
                  "\"reason\":\"NewReplicaSetCreated\",\"lastUpdateTime\":\"2027-01-15T07:00:00Z\","
                  "\"lastTransitionTime\":\"2027-01-15T07:00:00Z\"}]}"));
    ck_json_set_int64(n, "status.availableReplicas", 0);
    s = dp_calculate_status(d, all, 1, n, NOW);
    dp_rollout_conditions(d, s, n, all, 1, NOW);
    assert_string_equal(cond_field(s, "Progressing", "reason"), "ReplicaSetUpdated");
    assert_string_equal(cond_field(s, "Progressing", "message"),
                        "ReplicaSet \"web-abc\" is progressing.");
    assert_string_equal(cond_field(s, "Progressing", "lastTransitionTime"), "2027-01-15T07:00:00Z");
    assert_string_equal(cond_field(s, "Progressing", "lastUpdateTime"), "2027-01-15T08:00:00Z");
    cJSON_Delete(s);
    /* no progress past the deadline: timed out */
    ck_json_set(d, "status",
                J("{\"replicas\":2,\"updatedReplicas\":2,\"readyReplicas\":2,\"conditions\":[{"
                  "\"type\":\"Progressing\",\"status\":\"True\",\"reason\":\"ReplicaSetUpdated\","
                  "\"lastUpdateTime\":\"2027-01-15T07:49:00Z\","
                  "\"lastTransitionTime\":\"2027-01-15T07:49:00Z\"}]}"));
    s = dp_calculate_status(d, all, 1, n, NOW);
    assert_int_equal(dp_requeue_after(d, s, NOW), 0);
    assert_int_equal(dp_requeue_after(d, s, NOW - 100), 41);
    dp_rollout_conditions(d, s, n, all, 1, NOW);
    assert_string_equal(cond_field(s, "Progressing", "status"), "False");
    assert_string_equal(cond_field(s, "Progressing", "reason"), "ProgressDeadlineExceeded");
    assert_string_equal(cond_field(s, "Progressing", "message"),
                        "ReplicaSet \"web-abc\" has timed out progressing.");
    cJSON_Delete(s);
    /* not yet past it: unchanged */
    s = dp_calculate_status(d, all, 1, n, NOW - 100);
    dp_rollout_conditions(d, s, n, all, 1, NOW - 100);
    assert_string_equal(cond_field(s, "Progressing", "reason"), "ReplicaSetUpdated");
    cJSON_Delete(s);
    /* without a new ReplicaSet the message names the Deployment */
    s = dp_calculate_status(d, all, 1, NULL, NOW);
    dp_rollout_conditions(d, s, NULL, all, 1, NOW);
    assert_string_equal(cond_field(s, "Progressing", "message"),
                        "Deployment \"web\" has timed out progressing.");
    cJSON_Delete(s);
    /* the new ReplicaSet's failure shows up as ReplicaFailure */
    ck_json_set(n, "status.conditions",
                J("[{\"type\":\"ReplicaFailure\",\"status\":\"True\",\"reason\":\"FailedCreate\","
                  "\"message\":\"quota\",\"lastTransitionTime\":\"2027-01-15T07:59:00Z\"}]"));
    s = dp_calculate_status(d, all, 1, n, NOW);
    dp_rollout_conditions(d, s, n, all, 1, NOW);
    assert_string_equal(cond_field(s, "ReplicaFailure", "reason"), "FailedCreate");
    assert_string_equal(cond_field(s, "ReplicaFailure", "lastUpdateTime"), "2027-01-15T07:59:00Z");
    cJSON_Delete(s);
    /* no deadline: no Progressing condition at all */
    ck_json_delete(d, "spec.progressDeadlineSeconds");
    s = dp_calculate_status(d, all, 1, n, NOW);
    dp_rollout_conditions(d, s, n, all, 1, NOW);
    assert_null(dp_condition_get(s, "Progressing"));
    assert_int_equal(dp_requeue_after(d, s, NOW), -1);
    cJSON_Delete(s);
    cJSON_Delete(n);
    cJSON_Delete(d);
}

static void paused_and_resumed_conditions(void **state)
{
    (void)state;
    cJSON *d = deploy(1, "1", "1");
    assert_false(dp_paused_conditions(d, NOW)); /* not paused, nothing to say */
    ck_json_set_bool(d, "spec.paused", true);
    assert_true(dp_paused_conditions(d, NOW));
    const cJSON *s = ck_json_get(d, "status");
    assert_string_equal(cond_field(s, "Progressing", "status"), "Unknown");
    assert_string_equal(cond_field(s, "Progressing", "reason"), "DeploymentPaused");
    assert_string_equal(cond_field(s, "Progressing", "message"), "Deployment is paused");
    assert_false(dp_paused_conditions(d, NOW));
    ck_json_set_bool(d, "spec.paused", false);
    assert_true(dp_paused_conditions(d, NOW));
    s = ck_json_get(d, "status");
    assert_string_equal(cond_field(s, "Progressing", "reason"), "DeploymentResumed");
    assert_string_equal(cond_field(s, "Progressing", "message"), "Deployment is resumed");
    /* a timed-out Deployment keeps its condition */
    ck_json_set(d, "status",
                J("{\"conditions\":[{\"type\":\"Progressing\",\"status\":\"False\","
                  "\"reason\":\"ProgressDeadlineExceeded\"}]}"));
    ck_json_set_bool(d, "spec.paused", true);
    assert_false(dp_paused_conditions(d, NOW));
    cJSON_Delete(d);
}

static void garbage_inputs_do_not_crash(void **state)
{
    (void)state;
    cJSON *junk = J("{\"spec\":{\"replicas\":\"x\",\"strategy\":[],\"selector\":7},"
                    "\"metadata\":{\"annotations\":[1,2]},\"status\":\"y\"}");
    assert_int_equal(dp_spec_replicas(junk), 1);
    assert_int_equal(dp_spec_replicas(NULL), 0);
    assert_int_equal(dp_revision(junk), 0);
    assert_false(dp_has_progress_deadline(junk));
    int32_t v;
    assert_false(dp_int_annotation(junk, DP_MAX_ANN, &v));
    const cJSON *one[] = {junk};
    int32_t sz;
    dp_proportional_sizes(junk, one, 1, &sz);
    cJSON *s = dp_calculate_status(junk, one, 1, junk, NOW);
    assert_non_null(s);
    cJSON_Delete(s);
    char *h = dp_compute_hash(NULL, NULL);
    assert_int_equal(strspn(h, "456789bcdf"), strlen(h));
    free(h);
    assert_true(dp_equal_ignore_hash(NULL, NULL));
    cJSON_Delete(junk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fnv32a_matches_reference_vectors),
        cmocka_unit_test(safe_encode_maps_like_upstream),
        cmocka_unit_test(hash_is_stable_and_depends_on_template_and_collisions),
        cmocka_unit_test(equal_ignore_hash_drops_only_the_hash_label),
        cmocka_unit_test(fenceposts_round_as_upstream),
        cmocka_unit_test(new_rs_replicas_respect_max_surge),
        cmocka_unit_test(proportional_scaling_splits_by_size),
        cmocka_unit_test(proportional_scaling_without_annotation_uses_status_replicas),
        cmocka_unit_test(rolling_scale_down_plan_keeps_min_available),
        cmocka_unit_test(saturation_needs_size_annotation_and_availability),
        cmocka_unit_test(new_rs_annotations_copy_and_track_revisions),
        cmocka_unit_test(revision_history_is_bounded),
        cmocka_unit_test(revisions_sort_and_find_the_new_replicaset),
        cmocka_unit_test(condition_set_keeps_transition_time_like_upstream),
        cmocka_unit_test(calculate_status_counts_and_availability),
        cmocka_unit_test(rollout_conditions_follow_progress),
        cmocka_unit_test(paused_and_resumed_conditions),
        cmocka_unit_test(garbage_inputs_do_not_crash),
    };
    return cmocka_run_group_tests_name("deployment_util", tests, NULL, NULL);
}
