/* batch.c - strategies of batch/v1: Job and CronJob, as upstream 1.32
 * (pkg/apis/batch/v1/defaults.go, pkg/apis/batch/validation/validation.go,
 * pkg/registry/batch/{job,cronjob}/strategy.go). Embedded pod templates get podspec.h's
 * defaults and validation; schedules and time zones are checked with common/cron. */
#include "kinds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cron.h"
#include "json.h"
#include "mem.h"
#include "podspec.h"
#include "validation.h"
#include "workload.h"

/* The labels a Job's pods get when its selector is generated (legacy and prefixed). */
#define LEGACY_UID_LABEL "controller-uid"
#define LEGACY_NAME_LABEL "job-name"
#define UID_LABEL "batch.kubernetes.io/controller-uid"
#define NAME_LABEL "batch.kubernetes.io/job-name"

#define MAX_INDEXED_PARALLELISM 100000
#define MAX_FAILED_INDEXES 100000
#define COMPLETIONS_SOFT_LIMIT 100000
#define PARALLELISM_LIMIT_HIGH_COMPLETIONS 10000
#define MAX_FAILED_INDEXES_HIGH_COMPLETIONS 10000
#define MAX_POD_FAILURE_POLICY_RULES 20
#define MAX_EXIT_CODE_VALUES 255
#define MAX_POD_CONDITION_PATTERNS 20
#define MAX_MANAGED_BY_LENGTH 63
#define MAX_SUCCEEDED_INDEXES_LENGTH (64 * 1024)
#define MAX_SUCCESS_POLICY_RULES 20
/* the CronJob controller appends "-<11 digits>" to job names, which are DNS-1035 labels */
#define MAX_CRONJOB_NAME_LENGTH (63 - 11)

/* "<base>.<child>", owned by the caller */
static char *at(const char *base, const char *child)
{
    return ck_xasprintf("%s.%s", base, child);
}

static int64_t int_or(const cJSON *v, int64_t def)
{
    int64_t n;
    return wl_int32(v, &n) > 0 ? n : def;
}

/* field.TooMany: "Too many: <n>: must have at most <max> items" */
static void too_many(struct field_errors *e, const char *field, int n, int max)
{
    cJSON *num = cJSON_CreateNumber(n);
    fe_add(e, FE_TOO_MANY, field, num, "must have at most %d items", max);
    cJSON_Delete(num);
}

/* ---- defaults ---- */

/* onPodConditions patterns default to status True. */
static void pod_failure_policy_defaults(cJSON *spec)
{
    cJSON *rule;
    cJSON_ArrayForEach(rule, fu_get(fu_get(spec, "podFailurePolicy"), "rules"))
    {
        cJSON *pattern;
        cJSON_ArrayForEach(pattern, fu_get(rule, "onPodConditions"))
            fu_default_str(pattern, "status", "True");
    }
}

static void job_defaults(cJSON *obj)
{
    cJSON *spec = wl_object(obj, "spec");
    if (!spec)
        return;
    /* a non-parallel Job may leave both unset: both become 1 */
    if (!fu_get(spec, "completions") && !fu_get(spec, "parallelism"))
        fu_default(spec, "completions", ck_json_new_int64(1));
    fu_default(spec, "parallelism", ck_json_new_int64(1));
    fu_default(spec, "backoffLimit",
               ck_json_new_int64(fu_get(spec, "backoffLimitPerIndex") ? INT32_MAX : 6));
    const cJSON *tl = wl_template_labels(fu_get(spec, "template"));
    cJSON *md = wl_object(obj, "metadata");
    if (cJSON_IsObject(tl) && md && wl_empty(fu_get(md, "labels"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(md, "labels");
        cJSON_AddItemToObject(md, "labels", ck_json_dup(tl));
    }
    fu_default(spec, "completionMode", cJSON_CreateString("NonIndexed"));
    fu_default(spec, "suspend", cJSON_CreateFalse());
    pod_failure_policy_defaults(spec);
    fu_default(
        spec, "podReplacementPolicy",
        cJSON_CreateString(fu_get(spec, "podFailurePolicy") ? "Failed" : "TerminatingOrFailed"));
    fu_default(spec, "manualSelector", cJSON_CreateFalse());
    wl_template_defaults(spec);
}

static void add_label_if_missing(cJSON *labels, const char *key, const char *value)
{
    if (!cJSON_GetObjectItemCaseSensitive(labels, key))
        cJSON_AddStringToObject(labels, key, value);
}

/* Upstream's generateSelector: pods get the job's name and uid as labels (legacy and
 * prefixed; labels the user set are kept and judged by validation) and the selector
 * requires the prefixed uid label. */
static void generate_selector(cJSON *obj)
{
    const char *name = fu_str(fu_get(obj, "metadata"), "name");
    const char *uid = fu_str(fu_get(obj, "metadata"), "uid");
    cJSON *spec = wl_object(obj, "spec");
    cJSON *labels = wl_object(wl_object(wl_object(spec, "template"), "metadata"), "labels");
    if (labels) {
        add_label_if_missing(labels, LEGACY_NAME_LABEL, name);
        add_label_if_missing(labels, NAME_LABEL, name);
        add_label_if_missing(labels, LEGACY_UID_LABEL, uid);
        add_label_if_missing(labels, UID_LABEL, uid);
    }
    cJSON *ml = wl_object(wl_object(spec, "selector"), "matchLabels");
    if (ml)
        add_label_if_missing(ml, UID_LABEL, uid);
}

/* Runs after the generic preparation gave the Job its name and uid. Upstream decodes (and
 * so defaults) the object before PrepareForCreate, and defaults it again when it reads the
 * stored object back; the generic code runs `defaults` after this hook, which is that second
 * pass (it is what copies the generated template labels onto a Job that had none). */
static void job_prepare_create(cJSON *obj)
{
    job_defaults(obj);
    if (!cJSON_IsTrue(fu_get(wl_spec(obj), "manualSelector")))
        generate_selector(obj);
}

/* ---- Job validation ---- */

#define HTTP_PATH_CHARS                                                                            \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-._~%!$&'()*+,;=:"

/* IsDomainPrefixedPath */
static void validate_domain_prefixed_path(const char *field, const char *s, struct field_errors *e)
{
    if (!s[0]) {
        fe_add(e, FE_REQUIRED, field, NULL, NULL);
        return;
    }
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1]) {
        fe_add_str(e, FE_INVALID, field, s,
                   "must be a domain-prefixed path (such as \"acme.io/foo\")");
        return;
    }
    CK_AUTOFREE char *host = ck_xstrndup(s, (size_t)(slash - s));
    struct ck_errlist l = CK_ERRLIST_INIT;
    ck_is_dns1123_subdomain(host, &l);
    fu_add_msgs(e, field, host, &l);
    const char *path = slash + 1;
    if (strspn(path, HTTP_PATH_CHARS) != strlen(path))
        fe_add_str(e, FE_INVALID, field, path,
                   "Invalid path (regex used for validation is "
                   "'[A-Za-z0-9/\\-._~%%!$&'()*+,;=:]+')");
}

/* the names of the template's containers and init containers */
static bool has_container(const cJSON *spec, const char *name)
{
    const char *lists[] = {"containers", "initContainers"};
    const cJSON *ps = fu_get(fu_get(spec, "template"), "spec");
    for (size_t i = 0; i < 2; i++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, fu_get(ps, lists[i]))
        {
            if (!strcmp(fu_str(c, "name"), name))
                return true;
        }
    }
    return false;
}

static void validate_on_exit_codes(const cJSON *spec, const cJSON *oe, const char *base,
                                   struct field_errors *e)
{
    static const char *const OPS[] = {"In", "NotIn", NULL};
    CK_AUTOFREE char *op_path = at(base, "operator");
    const char *op = fu_str(oe, "operator");
    if (!op[0])
        fe_add(e, FE_REQUIRED, op_path, NULL, "valid values: [\"In\" \"NotIn\"]");
    else if (!fu_in_list(OPS, op))
        fe_not_supported(e, op_path, op, OPS);
    const cJSON *cn = fu_get(oe, "containerName");
    if (cJSON_IsString(cn) && !has_container(spec, cn->valuestring)) {
        CK_AUTOFREE char *p = at(base, "containerName");
        fe_add_str(e, FE_INVALID, p, cn->valuestring,
                   "must be one of the container or initContainer names in the pod template");
    }
    CK_AUTOFREE char *vpath = at(base, "values");
    const cJSON *values = fu_get(oe, "values");
    int n = cJSON_IsArray(values) ? cJSON_GetArraySize(values) : 0;
    if (n == 0)
        fu_add_go(e, FE_INVALID, vpath, wl_go_int32_slice, values,
                  "at least one value is required");
    else if (n > MAX_EXIT_CODE_VALUES)
        too_many(e, vpath, n, MAX_EXIT_CODE_VALUES);
    bool ordered = true;
    int64_t prev = 0;
    int j = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, values)
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s[%d]", vpath, j);
        int64_t x;
        if (wl_int32_field(v, p, e, &x) <= 0) {
            j++;
            continue;
        }
        if (!strcmp(op, "In") && x == 0)
            fe_add(e, FE_INVALID, p, v, "must not be 0 for the In operator");
        const cJSON *w = values->child;
        for (int k = 0; k < j && w; k++, w = w->next) {
            int64_t y;
            if (wl_int32(w, &y) > 0 && y == x) {
                fe_add(e, FE_DUPLICATE, p, v, NULL);
                break;
            }
        }
        if (j > 0 && prev > x)
            ordered = false;
        prev = x;
        j++;
    }
    if (!ordered)
        fu_add_go(e, FE_INVALID, vpath, wl_go_int32_slice, values, "must be ordered");
}

static void validate_on_pod_conditions(const cJSON *conds, const char *base, struct field_errors *e)
{
    static const char *const STATUSES[] = {"False", "True", "Unknown", NULL};
    int n = cJSON_GetArraySize(conds);
    if (n > MAX_POD_CONDITION_PATTERNS)
        too_many(e, base, n, MAX_POD_CONDITION_PATTERNS);
    int j = 0;
    const cJSON *pat;
    cJSON_ArrayForEach(pat, conds)
    {
        CK_AUTOFREE char *tpath = ck_xasprintf("%s[%d].type", base, j);
        CK_AUTOFREE char *spath = ck_xasprintf("%s[%d].status", base, j);
        const char *type = fu_str(pat, "type");
        struct ck_errlist l = CK_ERRLIST_INIT;
        ck_is_qualified_name(type, &l);
        fu_add_msgs(e, tpath, type, &l);
        const char *status = fu_str(pat, "status");
        if (!status[0])
            fe_add(e, FE_REQUIRED, spath, NULL, "valid values: [\"False\" \"True\" \"Unknown\"]");
        else if (!fu_in_list(STATUSES, status))
            fe_not_supported(e, spath, status, STATUSES);
        j++;
    }
}

static void validate_pod_failure_policy(const cJSON *spec, const char *base, struct field_errors *e)
{
    static const char *const ACTIONS[] = {"Count", "FailIndex", "FailJob", "Ignore", NULL};
    const cJSON *rules = fu_get(fu_get(spec, "podFailurePolicy"), "rules");
    CK_AUTOFREE char *rules_path = at(base, "rules");
    int n = cJSON_IsArray(rules) ? cJSON_GetArraySize(rules) : 0;
    if (n > MAX_POD_FAILURE_POLICY_RULES)
        too_many(e, rules_path, n, MAX_POD_FAILURE_POLICY_RULES);
    int i = 0;
    const cJSON *rule;
    const cJSON *list = cJSON_IsArray(rules) ? rules : NULL;
    cJSON_ArrayForEach(rule, list)
    {
        CK_AUTOFREE char *rp = ck_xasprintf("%s[%d]", rules_path, i++);
        CK_AUTOFREE char *ap = at(rp, "action");
        const char *action = fu_str(rule, "action");
        if (!action[0])
            fe_add(e, FE_REQUIRED, ap, NULL,
                   "valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]");
        else if (!strcmp(action, "FailIndex")) {
            if (!fu_get(spec, "backoffLimitPerIndex"))
                fe_add_str(e, FE_INVALID, ap, action,
                           "requires the backoffLimitPerIndex to be set");
        } else if (!fu_in_list(ACTIONS, action))
            fe_not_supported(e, ap, action, ACTIONS);
        const cJSON *oe = fu_get(rule, "onExitCodes"), *opc = fu_get(rule, "onPodConditions");
        bool has_conds = cJSON_GetArraySize(opc) > 0;
        if (oe) {
            CK_AUTOFREE char *p = at(rp, "onExitCodes");
            validate_on_exit_codes(spec, oe, p, e);
        }
        if (has_conds) {
            CK_AUTOFREE char *p = at(rp, "onPodConditions");
            validate_on_pod_conditions(opc, p, e);
        }
        if (oe && has_conds)
            fe_add(e, FE_INVALID, rp, NULL,
                   "specifying both OnExitCodes and OnPodConditions is not supported");
        if (!oe && !has_conds)
            fe_add(e, FE_INVALID, rp, NULL,
                   "specifying one of OnExitCodes and OnPodConditions is required");
    }
}

/* upstream's parseIndexInterval / validateIndexesFormat ("1,3-5,7"); *total gets the count */
static int parse_indexes(const char *s, int64_t completions, int64_t *total, char **why)
{
    *total = 0;
    if (!s[0])
        return 0;
    bool have_last = false;
    int64_t last = 0;
    const char *p = s;
    for (;;) {
        size_t n = strcspn(p, ",");
        CK_AUTOFREE char *iv = ck_xstrndup(p, n);
        char *parts[3] = {iv, NULL, NULL};
        size_t nparts = 1;
        for (char *q = iv; *q; q++) {
            if (*q == '-') {
                *q = '\0';
                if (nparts < 3)
                    parts[nparts] = q + 1;
                nparts++;
            }
        }
        if (nparts > 2) {
            CK_AUTOFREE char *orig = ck_xstrndup(p, n);
            struct ck_buf b = CK_BUF_INIT;
            ck_buf_puts(&b, "the fragment ");
            ck_buf_put_go_quoted(&b, orig);
            ck_buf_puts(&b, " violates the requirement that an index interval can have at "
                            "most two parts separated by '-'");
            *why = ck_buf_detach(&b);
            return -1;
        }
        int64_t xy[2];
        for (size_t k = 0; k < nparts; k++) {
            const char *t = parts[k];
            char *end;
            errno = 0;
            long long v = strtoll(t, &end, 10);
            bool ok = t[0] && !*end && errno != ERANGE &&
                      (t[0] == '-' || t[0] == '+' || (t[0] >= '0' && t[0] <= '9'));
            struct ck_buf b = CK_BUF_INIT;
            if (!ok) {
                ck_buf_puts(&b, "cannot convert string to integer for index: ");
                ck_buf_put_go_quoted(&b, t);
                *why = ck_buf_detach(&b);
                return -1;
            }
            if (v >= completions) {
                ck_buf_puts(&b, "too large index: ");
                ck_buf_put_go_quoted(&b, t);
                *why = ck_buf_detach(&b);
                return -1;
            }
            ck_buf_free(&b);
            xy[k] = v;
        }
        if (nparts == 1)
            xy[1] = xy[0];
        else if (xy[0] >= xy[1]) {
            *why = ck_xasprintf("non-increasing order, previous: %lld, current: %lld",
                                (long long)xy[0], (long long)xy[1]);
            return -1;
        }
        if (have_last && last >= xy[0]) {
            *why = ck_xasprintf("non-increasing order, previous: %lld, current: %lld",
                                (long long)last, (long long)xy[0]);
            return -1;
        }
        *total += xy[1] - xy[0] + 1;
        last = xy[1];
        have_last = true;
        p += n;
        if (!*p)
            break;
        p++;
    }
    return 0;
}

static void validate_success_policy(const cJSON *spec, const char *base, struct field_errors *e)
{
    const cJSON *rules = fu_get(fu_get(spec, "successPolicy"), "rules");
    CK_AUTOFREE char *rules_path = at(base, "rules");
    int n = cJSON_IsArray(rules) ? cJSON_GetArraySize(rules) : 0;
    if (n == 0)
        fe_add(e, FE_REQUIRED, rules_path, NULL,
               "at least one rules must be specified when the successPolicy is specified");
    if (n > MAX_SUCCESS_POLICY_RULES)
        too_many(e, rules_path, n, MAX_SUCCESS_POLICY_RULES);
    int64_t completions;
    bool have_completions = wl_int32(fu_get(spec, "completions"), &completions) > 0;
    int i = 0;
    const cJSON *rule;
    const cJSON *list = n ? rules : NULL;
    cJSON_ArrayForEach(rule, list)
    {
        CK_AUTOFREE char *rp = ck_xasprintf("%s[%d]", rules_path, i++);
        const cJSON *sc = fu_get(rule, "succeededCount"), *si = fu_get(rule, "succeededIndexes");
        if (!sc && !si)
            fe_add(e, FE_REQUIRED, rp, NULL,
                   "at least one of succeededCount or succeededIndexes must be specified");
        int64_t total = 0;
        if (cJSON_IsString(si) && have_completions) {
            CK_AUTOFREE char *p = at(rp, "succeededIndexes");
            if (strlen(si->valuestring) > MAX_SUCCEEDED_INDEXES_LENGTH)
                fe_add(e, FE_TOO_LONG, p, NULL, "must have at most %d bytes",
                       MAX_SUCCEEDED_INDEXES_LENGTH);
            char *why = NULL;
            if (parse_indexes(si->valuestring, completions, &total, &why) < 0)
                fe_add_str(e, FE_INVALID, p, si->valuestring, "error parsing succeededIndexes: %s",
                           why);
            free(why);
        }
        int64_t count;
        CK_AUTOFREE char *cp = at(rp, "succeededCount");
        wl_nonnegative(sc, cp, e);
        if (wl_int32(sc, &count) > 0 && have_completions) {
            if (count > completions)
                fe_add(e, FE_INVALID, cp, sc,
                       "must be less than or equal to %lld (the number of specified completions)",
                       (long long)completions);
            if (si && count > total)
                fe_add(e, FE_INVALID, cp, sc,
                       "must be less than or equal to %lld (the number of indexes in the "
                       "specified succeededIndexes field)",
                       (long long)total);
        }
    }
}

/* upstream's validateJobSpec, shared by Jobs ("spec") and CronJob templates
 * ("spec.jobTemplate.spec") */
static void validate_job_spec(const cJSON *spec, const char *base, struct field_errors *e)
{
    static const char *const MODES[] = {"NonIndexed", "Indexed", NULL};
    static const char *const PRP_ALL[] = {"Failed", "TerminatingOrFailed", NULL};
    static const char *const PRP_FAILED[] = {"Failed", NULL};
    static const char *const JOB_RESTART[] = {"OnFailure", "Never", NULL};
    static const char *const INT32_FIELDS[] = {"parallelism", "completions", NULL};
    for (size_t i = 0; INT32_FIELDS[i]; i++) {
        CK_AUTOFREE char *p = at(base, INT32_FIELDS[i]);
        wl_nonnegative(fu_get(spec, INT32_FIELDS[i]), p, e);
    }
    CK_AUTOFREE char *ads = at(base, "activeDeadlineSeconds");
    wl_nonnegative64(fu_get(spec, "activeDeadlineSeconds"), ads, e);
    static const char *const MORE[] = {"backoffLimit", "ttlSecondsAfterFinished",
                                       "backoffLimitPerIndex", NULL};
    for (size_t i = 0; MORE[i]; i++) {
        CK_AUTOFREE char *p = at(base, MORE[i]);
        wl_nonnegative(fu_get(spec, MORE[i]), p, e);
    }
    const cJSON *blpi = fu_get(spec, "backoffLimitPerIndex"),
                *mfi = fu_get(spec, "maxFailedIndexes");
    CK_AUTOFREE char *blpi_path = at(base, "backoffLimitPerIndex");
    CK_AUTOFREE char *mfi_path = at(base, "maxFailedIndexes");
    if (mfi) {
        wl_nonnegative(mfi, mfi_path, e);
        if (!blpi)
            fe_add(e, FE_REQUIRED, blpi_path, NULL, "when maxFailedIndexes is specified");
    }
    const cJSON *mb = fu_get(spec, "managedBy");
    if (mb) {
        CK_AUTOFREE char *p = at(base, "managedBy");
        const char *s = cJSON_IsString(mb) ? mb->valuestring : "";
        validate_domain_prefixed_path(p, s, e);
        if (strlen(s) > MAX_MANAGED_BY_LENGTH)
            fe_add(e, FE_TOO_LONG, p, NULL, "may not be longer than %d", MAX_MANAGED_BY_LENGTH);
    }
    const cJSON *cm = fu_get(spec, "completionMode");
    const char *mode = fu_str(spec, "completionMode");
    bool indexed = !strcmp(mode, "Indexed");
    int64_t completions = -1, parallelism = -1, maxf = -1;
    bool have_c = wl_int32(fu_get(spec, "completions"), &completions) > 0;
    bool have_p = wl_int32(fu_get(spec, "parallelism"), &parallelism) > 0;
    bool have_m = wl_int32(mfi, &maxf) > 0;
    CK_AUTOFREE char *par_path = at(base, "parallelism");
    if (cm) {
        CK_AUTOFREE char *p = at(base, "completionMode");
        if (!fu_in_list(MODES, mode))
            fe_not_supported(e, p, mode, MODES);
        if (indexed) {
            if (!fu_get(spec, "completions")) {
                CK_AUTOFREE char *cp = at(base, "completions");
                fe_add(e, FE_REQUIRED, cp, NULL, "when completion mode is Indexed");
            }
            if (have_p && parallelism > MAX_INDEXED_PARALLELISM)
                fe_add(e, FE_INVALID, par_path, fu_get(spec, "parallelism"),
                       "must be less than or equal to %d when completion mode is Indexed",
                       MAX_INDEXED_PARALLELISM);
            if (have_c && have_m && maxf > completions)
                fe_add(e, FE_INVALID, mfi_path, mfi, "must be less than or equal to completions");
            if (have_m && maxf > MAX_FAILED_INDEXES)
                fe_add(e, FE_INVALID, mfi_path, mfi, "must be less than or equal to %d",
                       MAX_FAILED_INDEXES);
            if (have_c && completions > COMPLETIONS_SOFT_LIMIT && blpi) {
                if (!mfi)
                    fe_add(e, FE_REQUIRED, mfi_path, NULL,
                           "must be specified when completions is above %d",
                           COMPLETIONS_SOFT_LIMIT);
                if (have_p && parallelism > PARALLELISM_LIMIT_HIGH_COMPLETIONS)
                    fe_add(e, FE_INVALID, par_path, fu_get(spec, "parallelism"),
                           "must be less than or equal to %d when completions are above %d and "
                           "used with backoff limit per index",
                           PARALLELISM_LIMIT_HIGH_COMPLETIONS, COMPLETIONS_SOFT_LIMIT);
                if (have_m && maxf > MAX_FAILED_INDEXES_HIGH_COMPLETIONS)
                    fe_add(e, FE_INVALID, mfi_path, mfi,
                           "must be less than or equal to %d when completions are above %d and "
                           "used with backoff limit per index",
                           MAX_FAILED_INDEXES_HIGH_COMPLETIONS, COMPLETIONS_SOFT_LIMIT);
            }
        }
    }
    if (!cm || !strcmp(mode, "NonIndexed")) {
        if (blpi)
            fe_add(e, FE_INVALID, blpi_path, blpi, "requires indexed completion mode");
        if (mfi)
            fe_add(e, FE_INVALID, mfi_path, mfi, "requires indexed completion mode");
    }
    const cJSON *pfp = fu_get(spec, "podFailurePolicy");
    if (pfp) {
        CK_AUTOFREE char *p = at(base, "podFailurePolicy");
        validate_pod_failure_policy(spec, p, e);
    }
    const cJSON *sp = fu_get(spec, "successPolicy");
    if (sp) {
        CK_AUTOFREE char *p = at(base, "successPolicy");
        if (!indexed)
            fe_add(e, FE_INVALID, p, sp, "requires indexed completion mode");
        else
            validate_success_policy(spec, p, e);
    }
    const cJSON *prp = fu_get(spec, "podReplacementPolicy");
    if (prp) {
        CK_AUTOFREE char *p = at(base, "podReplacementPolicy");
        const char *s = cJSON_IsString(prp) ? prp->valuestring : "";
        if (pfp) {
            if (strcmp(s, "Failed"))
                fe_not_supported(e, p, s, PRP_FAILED);
        } else if (!fu_in_list(PRP_ALL, s)) {
            fe_not_supported(e, p, s, PRP_ALL);
        }
    }
    const cJSON *tmpl = fu_get(spec, "template");
    CK_AUTOFREE char *tpath = at(base, "template");
    podtemplate_validate(tmpl, tpath, e); /* a missing template is validated as empty */
    /* the pod defaults make an unset restartPolicy "Always", so both mean "not set" here */
    CK_AUTOFREE char *rp_path = at(base, "template.spec.restartPolicy");
    const char *rp = fu_str(fu_get(tmpl, "spec"), "restartPolicy");
    if (!rp[0] || !strcmp(rp, "Always"))
        fe_add(e, FE_REQUIRED, rp_path, NULL, "valid values: \"OnFailure\", \"Never\"");
    else if (!fu_in_list(JOB_RESTART, rp))
        fe_not_supported(e, rp_path, rp, JOB_RESTART);
    else if (pfp && strcmp(rp, "Never"))
        fe_add_str(e, FE_INVALID, rp_path, rp,
                   "only \"Never\" is supported when podFailurePolicy is specified");
}

/* ValidateHasLabel */
static void require_label(const cJSON *labels, const char *key, const char *expected,
                          struct field_errors *e)
{
    CK_AUTOFREE char *p = ck_xasprintf("spec.template.metadata.labels[%s]", key);
    const cJSON *v = cJSON_IsObject(labels) ? cJSON_GetObjectItemCaseSensitive(labels, key) : NULL;
    if (!v) {
        fe_add(e, FE_REQUIRED, p, NULL, "must be '%s'", expected);
    } else if (!cJSON_IsString(v) || strcmp(v->valuestring, expected)) {
        CK_AUTOFREE char *d = ck_xasprintf("must be '%s'", expected);
        fu_add_go(e, FE_INVALID, p, fu_go_string_map, labels, d);
    }
}

/* validateGeneratedSelector: a generated selector must still be what was generated. */
static void validate_generated_selector(const cJSON *obj, bool prefixed, struct field_errors *e)
{
    const cJSON *spec = wl_spec(obj);
    const cJSON *sel = fu_get(spec, "selector");
    if (cJSON_IsTrue(fu_get(spec, "manualSelector")) || !sel)
        return;
    const char *name = fu_str(fu_get(obj, "metadata"), "name");
    const char *uid = fu_str(fu_get(obj, "metadata"), "uid");
    if (!uid[0])
        fe_add(e, FE_REQUIRED, "metadata.uid", NULL, NULL);
    const cJSON *labels = wl_template_labels(fu_get(spec, "template"));
    require_label(labels, LEGACY_UID_LABEL, uid, e);
    require_label(labels, LEGACY_NAME_LABEL, name, e);
    cJSON *expected = cJSON_CreateObject();
    if (prefixed) {
        require_label(labels, UID_LABEL, uid, e);
        require_label(labels, NAME_LABEL, name, e);
        cJSON_AddStringToObject(expected, UID_LABEL, uid);
        cJSON_AddStringToObject(expected, NAME_LABEL, name);
    }
    cJSON_AddStringToObject(expected, LEGACY_UID_LABEL, uid);
    cJSON_AddStringToObject(expected, LEGACY_NAME_LABEL, name);
    if (wl_selector_match(sel, expected) == WL_SEL_NO_MATCH)
        fu_add_go(e, FE_INVALID, "spec.selector", wl_go_label_selector, sel,
                  "`selector` not auto-generated");
    cJSON_Delete(expected);
}

static void job_validate(const cJSON *obj, struct field_errors *e)
{
    if (!wl_check_object(fu_get(obj, "spec"), "spec", e))
        return;
    const cJSON *spec = wl_spec(obj);
    validate_generated_selector(obj, true, e);
    validate_job_spec(spec, "spec", e);
    const cJSON *sel = fu_get(spec, "selector");
    if (!sel)
        fe_add(e, FE_REQUIRED, "spec.selector", NULL, NULL);
    else
        wl_validate_label_selector(sel, "spec.selector", false, e);
    const cJSON *tmpl = fu_get(spec, "template");
    if (wl_selector_match(sel, wl_template_labels(tmpl)) == WL_SEL_NO_MATCH)
        wl_selector_mismatch(tmpl, "spec.template.metadata.labels", e);
    /* Indexed pods are named <job>-<index>: the last one must still be a DNS label */
    int64_t completions;
    if (!strcmp(fu_str(spec, "completionMode"), "Indexed") &&
        wl_int32(fu_get(spec, "completions"), &completions) > 0 && completions > 0) {
        const char *name = fu_str(fu_get(obj, "metadata"), "name");
        CK_AUTOFREE char *host = ck_xasprintf("%s-%lld", name, (long long)(completions - 1));
        if (ck_is_dns1123_label(host, NULL))
            fe_add_str(e, FE_INVALID, "metadata.name", name,
                       "will not able to create pod with invalid DNS label: %s", host);
    }
}

/* The template of a suspended Job that never started may change its scheduling directives
 * (node affinity, node selector, tolerations, scheduling gates) and its labels and
 * annotations: copy those from the new template onto the old before comparing. */
static cJSON *template_with_mutable_directives(const cJSON *old_tmpl, const cJSON *new_tmpl)
{
    cJSON *t = cJSON_IsObject(old_tmpl) ? ck_json_dup(old_tmpl) : cJSON_CreateObject();
    cJSON *ts = wl_object(t, "spec"), *tm = wl_object(t, "metadata");
    const cJSON *ns = fu_get(new_tmpl, "spec"), *nm = fu_get(new_tmpl, "metadata");
    static const char *const SPEC_FIELDS[] = {"nodeSelector", "tolerations", "schedulingGates",
                                              NULL};
    static const char *const META_FIELDS[] = {"labels", "annotations", NULL};
    for (size_t i = 0; ts && SPEC_FIELDS[i]; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(ts, SPEC_FIELDS[i]);
        if (fu_get(ns, SPEC_FIELDS[i]))
            cJSON_AddItemToObject(ts, SPEC_FIELDS[i], ck_json_dup(fu_get(ns, SPEC_FIELDS[i])));
    }
    for (size_t i = 0; tm && META_FIELDS[i]; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(tm, META_FIELDS[i]);
        if (fu_get(nm, META_FIELDS[i]))
            cJSON_AddItemToObject(tm, META_FIELDS[i], ck_json_dup(fu_get(nm, META_FIELDS[i])));
    }
    const cJSON *node = fu_get(fu_get(ns, "affinity"), "nodeAffinity");
    cJSON *aff = ts ? cJSON_GetObjectItemCaseSensitive(ts, "affinity") : NULL;
    if (cJSON_IsObject(aff)) {
        cJSON_DeleteItemFromObjectCaseSensitive(aff, "nodeAffinity");
        if (node)
            cJSON_AddItemToObject(aff, "nodeAffinity", ck_json_dup(node));
    } else if (node && ts) {
        cJSON_DeleteItemFromObjectCaseSensitive(ts, "affinity");
        cJSON_AddItemToObject(wl_object(ts, "affinity"), "nodeAffinity", ck_json_dup(node));
    }
    return t;
}

static void job_validate_update(const cJSON *obj, const cJSON *old, struct field_errors *e)
{
    const cJSON *spec = wl_spec(obj), *ospec = wl_spec(old);
    const cJSON *c = fu_get(spec, "completions"), *oc = fu_get(ospec, "completions");
    if (strcmp(fu_str(spec, "completionMode"), "Indexed")) {
        wl_immutable(c, oc, "spec.completions", NULL, e);
    } else if (c && !wl_semantic_equal(c, oc)) {
        /* elastic Indexed Jobs (GA in 1.31) scale completions with parallelism */
        if (int_or(c, -1) != int_or(fu_get(spec, "parallelism"), -2))
            fe_add(e, FE_INVALID, "spec.completions", c,
                   "can only be modified in tandem with spec.parallelism");
    }
    wl_immutable(fu_get(spec, "selector"), fu_get(ospec, "selector"), "spec.selector",
                 wl_go_label_selector, e);
    const cJSON *tmpl = fu_get(spec, "template"), *otmpl = fu_get(ospec, "template");
    bool mutable_sched =
        cJSON_IsTrue(fu_get(ospec, "suspend")) && !fu_get(fu_get(old, "status"), "startTime");
    if (mutable_sched) {
        cJSON *t = template_with_mutable_directives(otmpl, tmpl);
        wl_immutable(tmpl, t, "spec.template", NULL, e);
        cJSON_Delete(t);
    } else {
        wl_immutable(tmpl, otmpl, "spec.template", NULL, e);
    }
    static const char *const IMMUTABLE[] = {"completionMode",       "podFailurePolicy",
                                            "backoffLimitPerIndex", "managedBy",
                                            "successPolicy",        NULL};
    for (size_t i = 0; IMMUTABLE[i]; i++) {
        CK_AUTOFREE char *p = at("spec", IMMUTABLE[i]);
        wl_immutable(fu_get(spec, IMMUTABLE[i]), fu_get(ospec, IMMUTABLE[i]), p, NULL, e);
    }
}

static const char *const JOB_FIELDS[] = {"status.successful", NULL};
const struct strategy strategy_job = {
    .flags = STRAT_STATUS | STRAT_GENERATION,
    .field_labels = JOB_FIELDS,
    .defaults = job_defaults,
    .prepare_create = job_prepare_create,
    .validate = job_validate,
    .validate_update = job_validate_update,
};

/* ---- CronJob ---- */

static void cronjob_defaults(cJSON *obj)
{
    cJSON *spec = wl_object(obj, "spec");
    if (!spec)
        return;
    fu_default_str(spec, "concurrencyPolicy", "Allow");
    fu_default(spec, "suspend", cJSON_CreateFalse());
    fu_default(spec, "successfulJobsHistoryLimit", ck_json_new_int64(3));
    fu_default(spec, "failedJobsHistoryLimit", ck_json_new_int64(1));
    /* the job template is no Job: only its pod template and failure policy get defaults */
    cJSON *js = wl_object(wl_object(spec, "jobTemplate"), "spec");
    pod_failure_policy_defaults(js);
    wl_template_defaults(js);
}

#define TZ_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_+"

/* validateTimeZone: IANA names only, as Go's time.LoadLocation finds them. */
static void validate_time_zone(const cJSON *tz, struct field_errors *e)
{
    const char *F = "spec.timeZone";
    if (!tz)
        return;
    if (!cJSON_IsString(tz)) {
        fe_add(e, FE_INVALID, F, tz, "must be a string");
        return;
    }
    const char *s = tz->valuestring;
    if (!s[0]) {
        fe_add_str(e, FE_INVALID, F, s, "timeZone must be nil or non-empty string");
        return;
    }
    for (const char *p = s;;) {
        size_t n = strcspn(p, "/");
        bool ok = n >= 1 && n <= 14 && p[0] != '-' && !(n == 1 && p[0] == '.') &&
                  !(n == 2 && p[0] == '.' && p[1] == '.');
        for (size_t i = 0; ok && i < n; i++)
            ok = strchr(TZ_CHARS, p[i]) != NULL;
        if (!ok) {
            fe_add_str(e, FE_INVALID, F, s, "unknown time zone %s", s);
            return;
        }
        if (!p[n])
            break;
        p += n + 1;
    }
    if (!strcasecmp(s, "Local"))
        fe_add_str(e, FE_INVALID, F, s,
                   "timeZone must be an explicit time zone as defined in "
                   "https://www.iana.org/time-zones");
    struct ck_tz *zone = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_tz_load(s, &zone, &err) < 0)
        fe_add_str(e, FE_INVALID, F, s, "%s", err.message);
    ck_tz_free(zone);
    ck_error_clear(&err);
}

static void cronjob_validate(const cJSON *obj, struct field_errors *e)
{
    static const char *const POLICIES[] = {"Allow", "Forbid", "Replace", NULL};
    if (!wl_check_object(fu_get(obj, "spec"), "spec", e))
        return;
    const cJSON *spec = wl_spec(obj);
    const char *sched = fu_str(spec, "schedule");
    if (!sched[0]) {
        fe_add(e, FE_REQUIRED, "spec.schedule", NULL, NULL);
    } else {
        struct ck_cron *c = NULL;
        struct ck_error err = CK_ERROR_INIT;
        if (ck_cron_parse(sched, &c, &err) < 0)
            fe_add_str(e, FE_INVALID, "spec.schedule", sched, "%s", err.message);
        ck_cron_free(c);
        ck_error_clear(&err);
        /* (updates of objects stored with TZ= are allowed upstream; none exist here) */
        if (strstr(sched, "TZ"))
            fe_add_str(e, FE_INVALID, "spec.schedule", sched,
                       "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
    }
    wl_nonnegative64(fu_get(spec, "startingDeadlineSeconds"), "spec.startingDeadlineSeconds", e);
    validate_time_zone(fu_get(spec, "timeZone"), e);
    const char *cp = fu_str(spec, "concurrencyPolicy");
    fu_check_enum(e, "spec.concurrencyPolicy", cp, POLICIES);

    /* ValidateJobTemplateSpec */
    const cJSON *js = fu_get(fu_get(spec, "jobTemplate"), "spec");
    validate_job_spec(cJSON_IsObject(js) ? js : NULL, "spec.jobTemplate.spec", e);
    if (fu_get(js, "selector"))
        fu_add_go(e, FE_INVALID, "spec.jobTemplate.spec.selector", wl_go_label_selector,
                  fu_get(js, "selector"), "`selector` will be auto-generated");
    if (cJSON_IsTrue(fu_get(js, "manualSelector"))) {
        cJSON *t = cJSON_CreateTrue();
        fe_add(e, FE_NOT_SUPPORTED, "spec.jobTemplate.spec.manualSelector", t,
               "supported values: \"nil\", \"false\"");
        cJSON_Delete(t);
    }
    wl_nonnegative(fu_get(spec, "successfulJobsHistoryLimit"), "spec.successfulJobsHistoryLimit",
                   e);
    wl_nonnegative(fu_get(spec, "failedJobsHistoryLimit"), "spec.failedJobsHistoryLimit", e);
    const char *name = fu_str(fu_get(obj, "metadata"), "name");
    if (strlen(name) > MAX_CRONJOB_NAME_LENGTH)
        fe_add_str(e, FE_INVALID, "metadata.name", name, "must be no more than %d characters",
                   MAX_CRONJOB_NAME_LENGTH);
}

const struct strategy strategy_cronjob = {
    .flags = STRAT_STATUS | STRAT_GENERATION,
    .defaults = cronjob_defaults,
    .validate = cronjob_validate,
};
