/* Unit tests for the apps/v1, batch/v1 and rbac/v1 strategies (apiserver/registry/apps.c,
 * batch.c, rbac.c, workload.c), driven through the generic create/update preparation and
 * validation of apiserver/objmeta.c: upstream 1.32's defaults, generated Job selectors,
 * generation bumps, and the exact field paths and messages of validation errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiserver/objmeta.h"
#include "apiserver/registry/kinds.h"
#include "apiserver/registry/resources.h"
#include "buf.h"
#include "json.h"
#include "mem.h"

/* ---- harness ---- */

#define ROW(g, res, k, ns, strat)                                                                  \
    {                                                                                              \
        .group = g, .version = "v1", .plural = res, .kind = k, .namespaced = ns,                   \
        .strategy = &strat                                                                         \
    }

static const struct resource DEPLOY =
    ROW("apps", "deployments", "Deployment", true, strategy_deployment);
static const struct resource RS =
    ROW("apps", "replicasets", "ReplicaSet", true, strategy_replicaset);
static const struct resource STS =
    ROW("apps", "statefulsets", "StatefulSet", true, strategy_statefulset);
static const struct resource DS = ROW("apps", "daemonsets", "DaemonSet", true, strategy_daemonset);
static const struct resource JOB = ROW("batch", "jobs", "Job", true, strategy_job);
static const struct resource CJ = ROW("batch", "cronjobs", "CronJob", true, strategy_cronjob);
static const struct resource ROLE =
    ROW("rbac.authorization.k8s.io", "roles", "Role", true, strategy_rbac);
static const struct resource CROLE =
    ROW("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", false, strategy_rbac);
static const struct resource RB =
    ROW("rbac.authorization.k8s.io", "rolebindings", "RoleBinding", true, strategy_rbac);
static const struct resource CRB = ROW("rbac.authorization.k8s.io", "clusterrolebindings",
                                       "ClusterRoleBinding", false, strategy_rbac);

static cJSON *parse(const char *json)
{
    cJSON *o = cJSON_Parse(json);
    if (!o)
        fail_msg("bad test JSON: %s", json);
    return o;
}

/* Decodes as the codec does (kind set), then prepares and validates a create. */
static cJSON *create(const struct resource *r, const char *json, struct field_errors *e)
{
    cJSON *obj = parse(json);
    ck_json_set_string(obj, "kind", r->kind);
    meta_prepare_create(r, obj);
    meta_validate_create(r, obj, e);
    return obj;
}

/* The same for an update of `old` (a prepared object) to `json`. */
static cJSON *update(const struct resource *r, const cJSON *old, const char *json,
                     struct field_errors *e)
{
    cJSON *obj = parse(json);
    ck_json_set_string(obj, "kind", r->kind);
    meta_prepare_update(r, obj, old, false);
    meta_validate_update(r, obj, old, false, e);
    return obj;
}

/* Every error, one per line, as upstream prints them. Caller frees. */
static char *errors_text(const struct field_errors *e)
{
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; i < e->len; i++) {
        char *s = fe_format(&e->items[i]);
        ck_buf_printf(&b, "%s%s", i ? "\n" : "", s);
        free(s);
    }
    return ck_buf_detach(&b);
}

static void expect_errors(const struct field_errors *e, const char *expected, const char *what)
{
    char *got = errors_text(e);
    if (strcmp(got, expected))
        fail_msg("%s:\n--- want\n%s\n--- got\n%s", what, expected, got);
    free(got);
}

/* The object's uid, for expectations that contain it. */
static const char *uid_of(const cJSON *obj)
{
    return ck_json_get_string(obj, "metadata.uid", "");
}

/* Replaces "$UID" in s with uid; caller frees. */
static char *with_uid(const char *s, const char *uid)
{
    struct ck_buf b = CK_BUF_INIT;
    for (const char *p = s; *p;) {
        if (!strncmp(p, "$UID", 4)) {
            ck_buf_puts(&b, uid);
            p += 4;
        } else {
            ck_buf_putc(&b, *p++);
        }
    }
    return ck_buf_detach(&b);
}

#define META(n) "\"metadata\":{\"name\":\"" n "\",\"namespace\":\"default\"}"
#define CMETA(n) "\"metadata\":{\"name\":\"" n "\"}"
#define CONTAINERS "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]"
#define TMPL(labels) "\"template\":{\"metadata\":{\"labels\":" labels "},\"spec\":{" CONTAINERS "}}"
#define TMPL_RP(labels, rp)                                                                        \
    "\"template\":{\"metadata\":{\"labels\":" labels "},\"spec\":{\"restartPolicy\":\"" rp         \
    "\"," CONTAINERS "}}"
#define APP_WEB "{\"app\":\"web\"}"
#define SEL_WEB "\"selector\":{\"matchLabels\":" APP_WEB "}"
#define DEPLOYMENT(extra) "{" META("web") ",\"spec\":{" SEL_WEB "," TMPL(APP_WEB) extra "}}"

/* ---- defaults ---- */

struct want {
    const char *path; /* ck_json_get path */
    const char *json; /* expected value; NULL: absent. "$UID" stands for metadata.uid */
};

struct defaults_case {
    const char *name;
    const struct resource *r;
    const char *input;
    struct want wants[16];
};

static const struct defaults_case DEFAULTS[] = {
    {"deployment: replicas, RollingUpdate 25%/25%, history 10, deadline 600",
     &DEPLOY,
     DEPLOYMENT(""),
     {{"spec.replicas", "1"},
      {"spec.strategy.type", "\"RollingUpdate\""},
      {"spec.strategy.rollingUpdate.maxUnavailable", "\"25%\""},
      {"spec.strategy.rollingUpdate.maxSurge", "\"25%\""},
      {"spec.revisionHistoryLimit", "10"},
      {"spec.progressDeadlineSeconds", "600"},
      {"spec.template.spec.restartPolicy", "\"Always\""},
      {"metadata.generation", "1"},
      {"status", "{}"}}},
    {"deployment: Recreate gets no rollingUpdate; given values stay",
     &DEPLOY,
     DEPLOYMENT(",\"replicas\":0,\"strategy\":{\"type\":\"Recreate\"}"),
     {{"spec.replicas", "0"},
      {"spec.strategy.type", "\"Recreate\""},
      {"spec.strategy.rollingUpdate", NULL}}},
    {"deployment: an explicit maxSurge 0 is kept, maxUnavailable still defaults",
     &DEPLOY,
     DEPLOYMENT(",\"strategy\":{\"rollingUpdate\":{\"maxSurge\":0}}"),
     {{"spec.strategy.rollingUpdate.maxSurge", "0"},
      {"spec.strategy.rollingUpdate.maxUnavailable", "\"25%\""}}},
    {"replicaset: replicas 1",
     &RS,
     "{" META("web") ",\"spec\":{" SEL_WEB "," TMPL(APP_WEB) "}}",
     {{"spec.replicas", "1"}, {"spec.template.spec.restartPolicy", "\"Always\""}}},
    {"statefulset: OrderedReady, RollingUpdate{partition 0}, Retain/Retain, claim templates",
     &STS,
     "{" META("db") ",\"spec\":{\"serviceName\":\"db\"," SEL_WEB "," TMPL(
         APP_WEB) ",\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\"},\"spec\":{"
                  "\"accessModes\":"
                  "[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}]}}",
     {{"spec.replicas", "1"},
      {"spec.podManagementPolicy", "\"OrderedReady\""},
      {"spec.updateStrategy", "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"partition\":0}}"},
      {"spec.revisionHistoryLimit", "10"},
      {"spec.persistentVolumeClaimRetentionPolicy",
       "{\"whenDeleted\":\"Retain\",\"whenScaled\":\"Retain\"}"},
      {"spec.volumeClaimTemplates[0].spec.volumeMode", "\"Filesystem\""},
      {"spec.volumeClaimTemplates[0].status", "{\"phase\":\"Pending\"}"},
      {"spec.volumeClaimTemplates[0].apiVersion", "\"v1\""},
      {"spec.volumeClaimTemplates[0].kind", "\"PersistentVolumeClaim\""},
      {"spec.volumeClaimTemplates[0].metadata", "{\"name\":\"data\",\"creationTimestamp\":null}"}}},
    {"statefulset: OnDelete gets no rollingUpdate; alpha maxUnavailable is dropped",
     &STS,
     "{" META("db") ",\"spec\":{" SEL_WEB
                    "," TMPL(APP_WEB) ",\"podManagementPolicy\":\"Parallel\",\"updateStrategy\":{"
                                      "\"type\":\"RollingUpdate\","
                                      "\"rollingUpdate\":{\"maxUnavailable\":2}}}}",
     {{"spec.podManagementPolicy", "\"Parallel\""},
      {"spec.updateStrategy.rollingUpdate", "{\"partition\":0}"}}},
    {"daemonset: RollingUpdate{maxUnavailable 1, maxSurge 0}, history 10, template generation",
     &DS,
     "{" META("agent") ",\"spec\":{" SEL_WEB "," TMPL(APP_WEB) "}}",
     {{"spec.updateStrategy",
       "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":1,\"maxSurge\":0}}"},
      {"spec.revisionHistoryLimit", "10"},
      {"metadata.annotations", "{\"deprecated.daemonset.template.generation\":\"1\"}"}}},
    {"job: 1/1, backoff 6, NonIndexed, generated selector and labels (copied onto the job)",
     &JOB,
     "{" META("pi") ",\"spec\":{" TMPL_RP("null", "Never") "}}",
     {{"spec.completions", "1"},
      {"spec.parallelism", "1"},
      {"spec.backoffLimit", "6"},
      {"spec.completionMode", "\"NonIndexed\""},
      {"spec.suspend", "false"},
      {"spec.podReplacementPolicy", "\"TerminatingOrFailed\""},
      {"spec.manualSelector", "false"},
      {"spec.selector", "{\"matchLabels\":{\"batch.kubernetes.io/controller-uid\":\"$UID\"}}"},
      {"spec.template.metadata.labels",
       "{\"controller-uid\":\"$UID\",\"job-name\":\"pi\",\"batch.kubernetes.io/controller-uid\":"
       "\"$UID\",\"batch.kubernetes.io/job-name\":\"pi\"}"},
      {"metadata.labels",
       "{\"controller-uid\":\"$UID\",\"job-name\":\"pi\",\"batch.kubernetes.io/controller-uid\":"
       "\"$UID\",\"batch.kubernetes.io/job-name\":\"pi\"}"}}},
    {"job: user template labels are what the job gets; parallelism alone leaves completions",
     &JOB,
     "{" META("pi") ",\"spec\":{\"parallelism\":3," TMPL_RP(APP_WEB, "Never") "}}",
     {{"metadata.labels", APP_WEB}, {"spec.completions", NULL}, {"spec.parallelism", "3"}}},
    {"job: podFailurePolicy makes replacement Failed, patterns default to True",
     &JOB,
     "{" META("pi") ",\"spec\":{\"podFailurePolicy\":{\"rules\":[{\"action\":\"Ignore\","
                    "\"onPodConditions\":[{\"type\":\"DisruptionTarget\"}]}]}," TMPL_RP(
                        "null", "Never") "}}",
     {{"spec.podReplacementPolicy", "\"Failed\""},
      {"spec.podFailurePolicy.rules[0].onPodConditions[0].status", "\"True\""}}},
    {"job: backoffLimitPerIndex makes backoffLimit MaxInt32",
     &JOB,
     "{" META("pi") ",\"spec\":{\"completionMode\":\"Indexed\",\"completions\":3,"
                    "\"backoffLimitPerIndex\":1," TMPL_RP("null", "Never") "}}",
     {{"spec.backoffLimit", "2147483647"}, {"spec.parallelism", "1"}}},
    {"job: manualSelector keeps the user's selector and labels",
     &JOB,
     "{" META("pi") ",\"spec\":{\"manualSelector\":true," SEL_WEB
                    "," TMPL_RP(APP_WEB, "Never") "}}",
     {{"spec.selector", "{\"matchLabels\":" APP_WEB "}"},
      {"spec.template.metadata.labels", APP_WEB}}},
    {"cronjob: Allow, not suspended, history 3/1; the job template is not defaulted as a Job",
     &CJ,
     "{" META("nightly") ",\"spec\":{\"schedule\":\"0 3 * * "
                         "*\",\"jobTemplate\":{\"spec\":{" TMPL_RP("null", "OnFailure") "}}}}",
     {{"spec.concurrencyPolicy", "\"Allow\""},
      {"spec.suspend", "false"},
      {"spec.successfulJobsHistoryLimit", "3"},
      {"spec.failedJobsHistoryLimit", "1"},
      {"spec.jobTemplate.spec.backoffLimit", NULL},
      {"spec.jobTemplate.spec.template.spec.restartPolicy", "\"OnFailure\""}}},
    {"rolebinding: roleRef and User/Group subjects get the RBAC group, ServiceAccounts none",
     &RB,
     "{" META("rb") ",\"roleRef\":{\"kind\":\"Role\",\"name\":\"r\"},\"subjects\":[{\"kind\":"
                    "\"User\",\"name\":\"alice\"},{\"kind\":\"ServiceAccount\",\"name\":\"sa\"},{"
                    "\"kind\":"
                    "\"Group\",\"name\":\"devs\"}]}",
     {{"roleRef.apiGroup", "\"rbac.authorization.k8s.io\""},
      {"subjects[0].apiGroup", "\"rbac.authorization.k8s.io\""},
      {"subjects[1].apiGroup", NULL},
      {"subjects[2].apiGroup", "\"rbac.authorization.k8s.io\""}}},
};

static void defaults_match_upstream(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(DEFAULTS) / sizeof(DEFAULTS[0]); i++) {
        const struct defaults_case *tc = &DEFAULTS[i];
        struct field_errors e = FIELD_ERRORS_INIT;
        cJSON *obj = create(tc->r, tc->input, &e);
        expect_errors(&e, "", tc->name);
        for (size_t k = 0; k < 16 && tc->wants[k].path; k++) {
            const struct want *w = &tc->wants[k];
            const cJSON *got = ck_json_get(obj, w->path);
            if (!w->json) {
                if (got)
                    fail_msg("%s: %s should be absent", tc->name, w->path);
                continue;
            }
            char *exp_text = with_uid(w->json, uid_of(obj));
            cJSON *exp = parse(exp_text);
            if (!ck_json_equal(got, exp)) {
                char *g = got ? ck_json_print(got, 0) : ck_xstrdup("(absent)");
                fail_msg("%s: %s = %s, want %s", tc->name, w->path, g, exp_text);
            }
            cJSON_Delete(exp);
            free(exp_text);
        }
        field_errors_free(&e);
        cJSON_Delete(obj);
    }
}

static void job_selector_uses_the_uid_given_before_preparation(void **state)
{
    (void)state;
    struct field_errors e = FIELD_ERRORS_INIT;
    cJSON *obj = create(&JOB, "{" META("pi") ",\"spec\":{" TMPL_RP("null", "Never") "}}", &e);
    assert_int_equal(e.len, 0);
    const char *uid = uid_of(obj);
    assert_int_equal(strlen(uid), 36);
    assert_string_equal(ck_json_get_string(obj,
                                           "spec.selector.matchLabels.batch\\.kubernetes\\.io/"
                                           "controller-uid",
                                           ""),
                        uid);
    cJSON_Delete(obj);
}

/* ---- create validation ---- */

struct invalid_case {
    const char *name;
    const struct resource *r;
    const char *input;
    const char *errors; /* every error, '\n'-separated, in upstream's order */
};

#define PERCENT_DETAIL                                                                             \
    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or "   \
    "'93%', regex used for validation is '[0-9]+%')"

static const struct invalid_case INVALID[] = {
    /* Deployment */
    {"deployment: valid", &DEPLOY, DEPLOYMENT(""), ""},
    {"deployment: spec must be an object", &DEPLOY, "{" META("web") ",\"spec\":5}",
     "spec: Invalid value: 5: must be an object"},
    {"deployment: a missing selector is required and matches nothing", &DEPLOY,
     "{" META("web") ",\"spec\":{" TMPL(APP_WEB) "}}",
     "spec.selector: Required value\n"
     "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: "
     "`selector` does not match template `labels`"},
    {"deployment: selector not matching the template labels (printed sorted, Go syntax)", &DEPLOY,
     "{" META("web") ",\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"db\"}}," TMPL(
         "{\"tier\":\"fe\",\"app\":\"web\"}") "}}",
     "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\", "
     "\"tier\":\"fe\"}: `selector` does not match template `labels`"},
    {"deployment: empty selector", &DEPLOY,
     "{" META("web") ",\"spec\":{\"selector\":{}," TMPL(APP_WEB) "}}",
     "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
     "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
     "deployment"},
    {"deployment: bad selector operator", &DEPLOY,
     "{" META("web") ",\"spec\":{\"selector\":{\"matchExpressions\":[{\"key\":\"app\","
                     "\"operator\":\"Near\",\"values\":[\"web\"]}]}," TMPL(APP_WEB) "}}",
     "spec.selector.matchExpressions[0].operator: Invalid value: \"Near\": not a valid selector "
     "operator\n"
     "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
     "MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"app\", "
     "Operator:\"Near\", Values:[]string{\"web\"}}}}: invalid label selector"},
    {"deployment: In without values", &DEPLOY,
     "{" META("web") ",\"spec\":{\"selector\":{\"matchExpressions\":[{\"key\":\"app\","
                     "\"operator\":\"In\"}]}," TMPL(APP_WEB) "}}",
     "spec.selector.matchExpressions[0].values: Required value: must be specified when "
     "`operator` is 'In' or 'NotIn'\n"
     "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
     "MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"app\", "
     "Operator:\"In\", Values:[]string(nil)}}}: invalid label selector"},
    {"deployment: negative replicas and history", &DEPLOY,
     DEPLOYMENT(",\"replicas\":-1,\"revisionHistoryLimit\":-2"),
     "spec.replicas: Invalid value: -1: must be greater than or equal to 0\n"
     "spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0"},
    {"deployment: rollingUpdate with Recreate", &DEPLOY,
     DEPLOYMENT(",\"strategy\":{\"type\":\"Recreate\",\"rollingUpdate\":{}}"),
     "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is "
     "'Recreate'"},
    {"deployment: maxUnavailable and maxSurge both 0", &DEPLOY,
     DEPLOYMENT(",\"strategy\":{\"rollingUpdate\":{\"maxUnavailable\":0,\"maxSurge\":\"0%\"}}"),
     "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, "
     "IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0"},
    {"deployment: bad percentages", &DEPLOY,
     DEPLOYMENT(",\"strategy\":{\"rollingUpdate\":{\"maxUnavailable\":\"150%\","
                "\"maxSurge\":\"abc\"}}"),
     "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, "
     "StrVal:\"abc\"}: " PERCENT_DETAIL "\n"
     "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, "
     "IntVal:0, StrVal:\"150%\"}: must not be greater than 100%"},
    {"deployment: unknown strategy type", &DEPLOY,
     DEPLOYMENT(",\"strategy\":{\"type\":\"BlueGreen\"}"),
     "spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"BlueGreen\", "
     "RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: \"Recreate\", "
     "\"RollingUpdate\""},
    {"deployment: progressDeadlineSeconds not above minReadySeconds", &DEPLOY,
     DEPLOYMENT(",\"minReadySeconds\":10,\"progressDeadlineSeconds\":10"),
     "spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds"},
    {"deployment: pods must restart Always, no active deadline", &DEPLOY,
     "{" META("web") ",\"spec\":{" SEL_WEB ",\"template\":{\"metadata\":{\"labels\":" APP_WEB
                     "},\"spec\":{\"restartPolicy\":\"OnFailure\",\"activeDeadlineSeconds\":"
                     "5," CONTAINERS "}}}}",
     "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: "
     "\"Always\"\n"
     "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet "
     "is not Supported"},
    /* ReplicaSet */
    {"replicaset: empty selector (upstream's message names deployments)", &RS,
     "{" META("web") ",\"spec\":{\"selector\":{\"matchLabels\":{}}," TMPL(APP_WEB) "}}",
     "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{}, "
     "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
     "deployment"},
    /* StatefulSet */
    {"statefulset: the pod spec itself is not validated (upstream TODO)", &STS,
     "{" META("db") ",\"spec\":{" SEL_WEB ",\"template\":{\"metadata\":{\"labels\":" APP_WEB "}}}}",
     ""},
    {"statefulset: names are DNS labels", &STS,
     "{" META("db.v1") ",\"spec\":{" SEL_WEB "," TMPL(APP_WEB) "}}",
     "metadata.name: Invalid value: \"db.v1\": a lowercase RFC 1123 label must consist of lower "
     "case alphanumeric characters or '-', and must start and end with an alphanumeric character "
     "(e.g. 'my-name',  or '123-abc', regex used for validation is "
     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"},
    {"statefulset: policies and strategies", &STS,
     "{" META("db") ",\"spec\":{" SEL_WEB "," TMPL(
         APP_WEB) ",\"podManagementPolicy\":\"Random\",\"updateStrategy\":{\"type\":\"BlueGreen\"},"
                  "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"Keep\"},"
                  "\"ordinals\":"
                  "{\"start\":-1}}}",
     "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'\n"
     "spec.updateStrategy: Invalid value: apps.StatefulSetUpdateStrategy{Type:\"BlueGreen\", "
     "RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be 'RollingUpdate' or "
     "'OnDelete'\n"
     "spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: \"Keep\": "
     "supported values: \"Retain\", \"Delete\"\n"
     "spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0"},
    {"statefulset: rollingUpdate with OnDelete", &STS,
     "{" META("db") ",\"spec\":{" SEL_WEB
                    "," TMPL(APP_WEB) ",\"updateStrategy\":{\"type\":\"OnDelete\","
                                      "\"rollingUpdate\":{\"partition\":2}}}}",
     "spec.updateStrategy.rollingUpdate: Invalid value: apps.RollingUpdateStatefulSetStrategy{"
     "Partition:2, MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy "
     "'RollingUpdate'"},
    {"statefulset: empty selector", &STS,
     "{" META("db") ",\"spec\":{\"selector\":{}," TMPL(APP_WEB) "}}",
     "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
     "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
     "statefulset"},
    /* DaemonSet */
    {"daemonset: a missing selector is not 'required', it just matches nothing", &DS,
     "{" META("agent") ",\"spec\":{" TMPL(APP_WEB) "}}",
     "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: "
     "`selector` does not match template `labels`"},
    {"daemonset: maxUnavailable and maxSurge both 0", &DS,
     "{" META("agent") ",\"spec\":{" SEL_WEB "," TMPL(
         APP_WEB) ",\"updateStrategy\":{\"rollingUpdate\":{\"maxUnavailable\":0}}}}",
     "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when "
     "maxSurge is 0"},
    {"daemonset: maxUnavailable and maxSurge both set", &DS,
     "{" META("agent") ",\"spec\":{" SEL_WEB
                       "," TMPL(APP_WEB) ",\"updateStrategy\":{\"rollingUpdate\":{"
                                         "\"maxUnavailable\":\"10%\",\"maxSurge\":1}}}}",
     "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, "
     "IntVal:1, StrVal:\"\"}: may not be set when maxUnavailable is non-zero"},
    {"daemonset: unknown update strategy", &DS,
     "{" META("agent") ",\"spec\":{" SEL_WEB
                       "," TMPL(APP_WEB) ",\"updateStrategy\":{\"type\":\"Never\"}}}",
     "spec.updateStrategy: Unsupported value: apps.DaemonSetUpdateStrategy{Type:\"Never\", "
     "RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}: supported values: \"RollingUpdate\", "
     "\"OnDelete\""},
    /* Job */
    {"job: the default Always restart policy is 'not set' for a Job", &JOB,
     "{" META("pi") ",\"spec\":{" TMPL("null") "}}",
     "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""},
    {"job: podFailurePolicy needs restartPolicy Never and complete rules", &JOB,
     "{" META("pi") ",\"spec\":{\"podFailurePolicy\":{\"rules\":[{}]}," TMPL_RP("null",
                                                                                "OnFailure") "}}",
     "spec.podFailurePolicy.rules[0].action: Required value: valid values: [\"Count\" "
     "\"FailIndex\" \"FailJob\" \"Ignore\"]\n"
     "spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and "
     "OnPodConditions is required\n"
     "spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is "
     "supported when podFailurePolicy is specified"},
    {"job: exit code values", &JOB,
     "{" META("pi") ",\"spec\":{\"podFailurePolicy\":{\"rules\":[{\"action\":\"FailJob\","
                    "\"onExitCodes\":{\"operator\":\"In\",\"containerName\":\"x\",\"values\":[0,3,"
                    "1,3]}}]}," TMPL_RP("null", "Never") "}}",
     "spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: \"x\": must be "
     "one of the container or initContainer names in the pod template\n"
     "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for "
     "the In operator\n"
     "spec.podFailurePolicy.rules[0].onExitCodes.values[3]: Duplicate value: 3\n"
     "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{0, 3, 1, 3}: "
     "must be ordered"},
    {"job: Indexed needs completions; per-index limits need Indexed", &JOB,
     "{" META("pi") ",\"spec\":{\"completionMode\":\"Indexed\",\"parallelism\":2," TMPL_RP(
         "null", "Never") "}}",
     "spec.completions: Required value: when completion mode is Indexed"},
    {"job: per-index backoff on a NonIndexed job, bad replacement policy, negative deadline", &JOB,
     "{" META("pi") ",\"spec\":{\"backoffLimitPerIndex\":1,\"podReplacementPolicy\":"
                    "\"Sometimes\",\"activeDeadlineSeconds\":-5," TMPL_RP("null", "Never") "}}",
     "spec.activeDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0\n"
     "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode\n"
     "spec.podReplacementPolicy: Unsupported value: \"Sometimes\": supported values: \"Failed\", "
     "\"TerminatingOrFailed\""},
    {"job: managedBy must be a domain-prefixed path", &JOB,
     "{" META("pi") ",\"spec\":{\"managedBy\":\"kueue\"," TMPL_RP("null", "Never") "}}",
     "spec.managedBy: Invalid value: \"kueue\": must be a domain-prefixed path (such as "
     "\"acme.io/foo\")"},
    {"job: manual selector must still be given and match", &JOB,
     "{" META("pi") ",\"spec\":{\"manualSelector\":true," TMPL_RP(APP_WEB, "Never") "}}",
     "spec.selector: Required value\n"
     "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: "
     "`selector` does not match template `labels`"},
    {"job: the last index must make a DNS label", &JOB,
     "{" META("abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefg") ",\"spec\":{"
                                                                                "\"completionMode\""
                                                                                ":\"Indexed\","
                                                                                "\"completions\":"
                                                                                "10," TMPL_RP(
                                                                                    "null",
                                                                                    "Never") "}}",
     "metadata.name: Invalid value: \"abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-"
     "abcdefg\": will not able to create pod with invalid DNS label: abcdefghij-abcdefghij-"
     "abcdefghij-abcdefghij-abcdefghij-abcdefg-9"},
    {"job: success policy needs Indexed", &JOB,
     "{" META("pi") ",\"spec\":{\"successPolicy\":{\"rules\":[{\"succeededCount\":1}]}," TMPL_RP(
         "null", "Never") "}}",
     "spec.successPolicy: Invalid value: {\"rules\":[{\"succeededCount\":1}]}: requires indexed "
     "completion mode"},
    {"job: success policy rules", &JOB,
     "{" META("pi") ",\"spec\":{\"completionMode\":\"Indexed\",\"completions\":5,"
                    "\"successPolicy\":{\"rules\":[{},{\"succeededIndexes\":\"3-1\"},{"
                    "\"succeededIndexes\":"
                    "\"0,2\",\"succeededCount\":3}]}," TMPL_RP("null", "Never") "}}",
     "spec.successPolicy.rules[0]: Required value: at least one of succeededCount or "
     "succeededIndexes must be specified\n"
     "spec.successPolicy.rules[1].succeededIndexes: Invalid value: \"3-1\": error parsing "
     "succeededIndexes: non-increasing order, previous: 3, current: 1\n"
     "spec.successPolicy.rules[2].succeededCount: Invalid value: 3: must be less than or equal "
     "to 2 (the number of indexes in the specified succeededIndexes field)"},
    /* CronJob */
    {"cronjob: valid", &CJ,
     "{" META("nightly") ",\"spec\":{\"schedule\":\"@daily\",\"jobTemplate\":{\"spec\":{" TMPL_RP(
         "null", "OnFailure") "}}}}",
     ""},
    {"cronjob: unparseable schedule, restart policy of the job template", &CJ,
     "{" META("nightly") ",\"spec\":{\"schedule\":\"x\",\"jobTemplate\":{\"spec\":{" TMPL(
         "null") "}}}}",
     "spec.schedule: Invalid value: \"x\": expected exactly 5 fields, found 1: [x]\n"
     "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "
     "\"OnFailure\", \"Never\""},
    {"cronjob: TZ in the schedule, bad time zone, bad concurrency policy", &CJ,
     "{" META("nightly") ",\"spec\":{\"schedule\":\"TZ=UTC 0 * * * *\",\"timeZone\":"
                         "\"Mars/"
                         "Olympus\",\"concurrencyPolicy\":\"Sometimes\",\"jobTemplate\":{\"spec\":"
                         "{" TMPL_RP("null", "Never") "}}}}",
     "spec.schedule: Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, "
     "use timeZone field instead\n"
     "spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus\n"
     "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", "
     "\"Forbid\", \"Replace\""},
    {"cronjob: empty and Local time zones", &CJ,
     "{" META("nightly") ",\"spec\":{\"schedule\":\"@hourly\",\"timeZone\":\"\",\"jobTemplate\":"
                         "{\"spec\":{" TMPL_RP("null", "Never") "}}}}",
     "spec.timeZone: Invalid value: \"\": timeZone must be nil or non-empty string"},
    {"cronjob: Local is no explicit zone", &CJ,
     "{" META("nightly") ",\"spec\":{\"schedule\":\"@hourly\",\"timeZone\":\"Local\","
                         "\"jobTemplate\":{\"spec\":{" TMPL_RP("null", "Never") "}}}}",
     "spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as defined "
     "in https://www.iana.org/time-zones"},
    {"cronjob: job templates get generated selectors", &CJ,
     "{" META("nightly") ",\"spec\":{\"schedule\":\"*/5 * * * *\",\"jobTemplate\":{\"spec\":{"
                         "\"manualSelector\":true," SEL_WEB "," TMPL_RP(APP_WEB, "Never") "}}}}",
     "spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:"
     "map[string]string{\"app\":\"web\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: "
     "`selector` will be auto-generated\n"
     "spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: \"nil\", "
     "\"false\""},
    {"cronjob: names leave room for the job suffix", &CJ,
     "{" META("abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghijk") ",\"spec\":{"
                                                                         "\"schedule\":\"@hourly\","
                                                                         "\"jobTemplate\":{"
                                                                         "\"spec\":{" TMPL_RP(
                                                                             "null",
                                                                             "Never") "}}}}",
     "metadata.name: Invalid value: \"abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghijk\": "
     "must be no more than 52 characters"},
    /* RBAC */
    {"role: non-resource URLs are cluster-wide only", &ROLE,
     "{" META("r") ",\"rules\":[{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\"]}]}",
     "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot "
     "apply to non-resource URLs"},
    {"clusterrole: incomplete rules", &CROLE,
     "{" CMETA("cr") ",\"rules\":[{},{\"verbs\":[\"get\"],\"resources\":[\"pods\"],"
                     "\"nonResourceURLs\":[\"/metrics\"]}]}",
     "rules[0].verbs: Required value: verbs must contain at least one value\n"
     "rules[0].apiGroups: Required value: resource rules must supply at least one api group\n"
     "rules[0].resources: Required value: resource rules must supply at least one resource\n"
     "rules[1].nonResourceURLs: Invalid value: []string{\"/metrics\"}: rules cannot apply to both "
     "regular resources and non-resource URLs"},
    {"clusterrole: aggregation rules need selectors", &CROLE,
     "{" CMETA("cr") ",\"aggregationRule\":{}}",
     "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector "
     "required if aggregationRule is non-nil"},
    {"clusterrole: aggregation rule selectors are validated", &CROLE,
     "{" CMETA(
         "cr") ",\"aggregationRule\":{\"clusterRoleSelectors\":[{\"matchLabels\":"
               "{\"rbac.example.com/aggregate\":\"true\"}},{\"matchExpressions\":[{\"key\":\"a\","
               "\"operator\":\"Exists\",\"values\":[\"x\"]}]}]}}",
     "aggregationRule.clusterRoleSelectors[1].matchExpressions[0].values: Forbidden: may not be "
     "specified when `operator` is 'Exists' or 'DoesNotExist'\n"
     "aggregationRule.clusterRoleSelectors[1]: Invalid value: \"null\": invalid label selector."},
    {"rolebinding: roleRef kind and name", &RB,
     "{" META(
         "rb") ",\"roleRef\":{\"kind\":\"Policy\"},\"subjects\":[{\"kind\":\"Robot\","
               "\"name\":\"r2\"},{\"kind\":\"ServiceAccount\",\"name\":\"Bad_Name\",\"apiGroup\":"
               "\"rbac.authorization.k8s.io\"},{\"kind\":\"User\"}]}",
     "roleRef.kind: Unsupported value: \"Policy\": supported values: \"Role\", \"ClusterRole\"\n"
     "roleRef.name: Required value\n"
     "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", "
     "\"User\", \"Group\"\n"
     "subjects[1].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist "
     "of lower case alphanumeric characters, '-' or '.', and must start and end with an "
     "alphanumeric character (e.g. 'example.com', regex used for validation is "
     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
     "subjects[1].apiGroup: Unsupported value: \"rbac.authorization.k8s.io\": supported "
     "values: \"\"\n"
     "subjects[2].name: Required value"},
    {"clusterrolebinding: only ClusterRoles, namespaced service accounts", &CRB,
     "{" CMETA("crb") ",\"roleRef\":{\"apiGroup\":\"rbac\",\"kind\":\"Role\",\"name\":\"a/b\"},"
                      "\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"sa\"}]}",
     "roleRef.apiGroup: Unsupported value: \"rbac\": supported values: "
     "\"rbac.authorization.k8s.io\"\n"
     "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"\n"
     "roleRef.name: Invalid value: \"a/b\": may not contain '/'\n"
     "subjects[0].namespace: Required value"},
};

static void invalid_objects_get_upstream_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(INVALID) / sizeof(INVALID[0]); i++) {
        const struct invalid_case *tc = &INVALID[i];
        struct field_errors e = FIELD_ERRORS_INIT;
        cJSON *obj = create(tc->r, tc->input, &e);
        expect_errors(&e, tc->errors, tc->name);
        field_errors_free(&e);
        cJSON_Delete(obj);
    }
}

static void status_message_names_group_and_kind(void **state)
{
    (void)state;
    struct field_errors e = FIELD_ERRORS_INIT;
    cJSON *obj = create(&DEPLOY, DEPLOYMENT(",\"replicas\":-3"), &e);
    struct ck_error err = CK_ERROR_INIT;
    fe_to_error(&e, DEPLOY.group, DEPLOY.kind, "web", &err);
    assert_int_equal(err.code, 422);
    assert_string_equal(err.message, "Deployment.apps \"web\" is invalid: spec.replicas: Invalid "
                                     "value: -3: must be greater than or equal to 0");
    ck_error_clear(&err);
    field_errors_free(&e);
    cJSON_Delete(obj);
}

static void job_generated_labels_must_stay_generated(void **state)
{
    (void)state;
    /* the user pre-set a conflicting uid label: kept, and then refused */
    struct field_errors e = FIELD_ERRORS_INIT;
    cJSON *obj = create(
        &JOB, "{" META("pi") ",\"spec\":{" TMPL_RP("{\"controller-uid\":\"x\"}", "Never") "}}", &e);
    const char *uid = uid_of(obj);
    char want[2048];
    snprintf(want, sizeof(want),
             "spec.template.metadata.labels[controller-uid]: Invalid value: "
             "map[string]string{\"batch.kubernetes.io/controller-uid\":\"%s\", "
             "\"batch.kubernetes.io/job-name\":\"pi\", \"controller-uid\":\"x\", "
             "\"job-name\":\"pi\"}: must be '%s'",
             uid, uid);
    expect_errors(&e, want, "conflicting controller-uid label");
    field_errors_free(&e);
    cJSON_Delete(obj);

    /* a selector given without manualSelector gets the uid added, and must match it */
    obj = create(&JOB,
                 "{" META("pi") ",\"spec\":{\"selector\":{\"matchLabels\":{\"job-name\":"
                                "\"other\"}}," TMPL_RP("null", "Never") "}}",
                 &e);
    uid = uid_of(obj);
    snprintf(want, sizeof(want),
             "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"
             "\"batch.kubernetes.io/controller-uid\":\"%s\", \"job-name\":\"other\"}, "
             "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated\n"
             "spec.template.metadata.labels: Invalid value: map[string]string{"
             "\"batch.kubernetes.io/controller-uid\":\"%s\", \"batch.kubernetes.io/job-name\":"
             "\"pi\", \"controller-uid\":\"%s\", \"job-name\":\"pi\"}: `selector` does not match "
             "template `labels`",
             uid, uid, uid);
    expect_errors(&e, want, "foreign selector");
    field_errors_free(&e);
    cJSON_Delete(obj);
}

static void cronjob_accepts_real_time_zones(void **state)
{
    (void)state;
    if (access("/usr/share/zoneinfo/America/New_York", R_OK))
        skip();
    struct field_errors e = FIELD_ERRORS_INIT;
    cJSON *obj =
        create(&CJ,
               "{" META("nightly") ",\"spec\":{\"schedule\":\"0 3 * * *\",\"timeZone\":"
                                   "\"America/New_York\",\"jobTemplate\":{\"spec\":{" TMPL_RP(
                                       "null", "Never") "}}}}",
               &e);
    expect_errors(&e, "", "America/New_York");
    cJSON_Delete(obj);
    obj = create(&CJ,
                 "{" META("nightly") ",\"spec\":{\"schedule\":\"0 3 * * *\",\"timeZone\":"
                                     "\"America\",\"jobTemplate\":{\"spec\":{" TMPL_RP(
                                         "null", "Never") "}}}}",
                 &e);
    expect_errors(&e, "spec.timeZone: Invalid value: \"America\": unknown time zone America",
                  "a zone directory");
    field_errors_free(&e);
    cJSON_Delete(obj);
}

/* ---- updates ---- */

static void deployment_updates(void **state)
{
    (void)state;
    struct field_errors e = FIELD_ERRORS_INIT;
    cJSON *v1 = create(&DEPLOY, DEPLOYMENT(""), &e);
    assert_int_equal(e.len, 0);
    ck_json_set_string(v1, "metadata.resourceVersion", "5");

    /* labels only: same generation */
    cJSON *v2 = update(&DEPLOY, v1,
                       "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"labels\":"
                       "{\"team\":\"a\"}},\"spec\":{" SEL_WEB "," TMPL(APP_WEB) "}}",
                       &e);
    expect_errors(&e, "", "labels only");
    assert_int_equal(ck_json_get_int64(v2, "metadata.generation", 0), 1);
    /* the update was defaulted like a create */
    assert_string_equal(ck_json_get_string(v2, "spec.strategy.rollingUpdate.maxSurge", ""), "25%");

    /* annotations: the Deployment controller copies them onto ReplicaSets, so they count */
    cJSON *v3 = update(&DEPLOY, v2,
                       "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"annotations\":"
                       "{\"note\":\"x\"}},\"spec\":{" SEL_WEB "," TMPL(APP_WEB) "}}",
                       &e);
    expect_errors(&e, "", "annotations");
    assert_int_equal(ck_json_get_int64(v3, "metadata.generation", 0), 2);

    /* spec change */
    cJSON *v4 = update(&DEPLOY, v3,
                       "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"annotations\":"
                       "{\"note\":\"x\"}},\"spec\":{\"replicas\":4," SEL_WEB "," TMPL(APP_WEB) "}}",
                       &e);
    expect_errors(&e, "", "scale");
    assert_int_equal(ck_json_get_int64(v4, "metadata.generation", 0), 3);

    /* the selector of an apps/v1 Deployment is immutable */
    cJSON *bad = update(&DEPLOY, v4,
                        "{" META("web") ",\"spec\":{\"selector\":{\"matchLabels\":{\"app\":"
                                        "\"web2\"}}," TMPL("{\"app\":\"web2\"}") "}}",
                        &e);
    expect_errors(&e,
                  "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"
                  "\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field "
                  "is immutable",
                  "selector change");
    field_errors_free(&e);
    cJSON_Delete(bad);
    cJSON_Delete(v1);
    cJSON_Delete(v2);
    cJSON_Delete(v3);
    cJSON_Delete(v4);
}

static void statefulset_updates_touch_allowed_fields_only(void **state)
{
    (void)state;
    struct field_errors e = FIELD_ERRORS_INIT;
#define STS_BODY(extra)                                                                            \
    "{" META("db") ",\"spec\":{\"serviceName\":\"db\"," SEL_WEB "," TMPL(APP_WEB) extra "}}"
    cJSON *v1 = create(&STS, STS_BODY(""), &e);
    assert_int_equal(e.len, 0);
    cJSON *ok =
        update(&STS, v1,
               STS_BODY(",\"replicas\":5,\"minReadySeconds\":3,\"updateStrategy\":{\"type\":"
                        "\"OnDelete\"},\"ordinals\":{\"start\":1},"
                        "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":"
                        "\"Delete\"}"),
               &e);
    expect_errors(&e, "", "allowed changes");
    assert_int_equal(ck_json_get_int64(ok, "metadata.generation", 0), 2);
    const char *forbidden =
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
        "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
        "'minReadySeconds' are forbidden";
    cJSON *bad = update(
        &STS, v1,
        "{" META("db") ",\"spec\":{\"serviceName\":\"db2\"," SEL_WEB "," TMPL(APP_WEB) "}}", &e);
    expect_errors(&e, forbidden, "serviceName change");
    field_errors_free(&e);
    cJSON_Delete(bad);
    bad = update(&STS, v1, STS_BODY(",\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"d\"}}]"),
                 &e);
    expect_errors(&e, forbidden, "claim template added");
    field_errors_free(&e);
    cJSON_Delete(bad);
    cJSON_Delete(ok);
    cJSON_Delete(v1);
#undef STS_BODY
}

static void daemonset_template_generation_follows_the_template(void **state)
{
    (void)state;
    const char *TG = "metadata.annotations.deprecated\\.daemonset\\.template\\.generation";
    struct field_errors e = FIELD_ERRORS_INIT;
    cJSON *v1 = create(&DS, "{" META("agent") ",\"spec\":{" SEL_WEB "," TMPL(APP_WEB) "}}", &e);
    assert_int_equal(e.len, 0);
    assert_string_equal(ck_json_get_string(v1, TG, ""), "1");
    /* a client cannot set it, and a non-template change keeps it */
    cJSON *v2 =
        update(&DS, v1,
               "{\"metadata\":{\"name\":\"agent\",\"namespace\":\"default\",\"annotations\":"
               "{\"deprecated.daemonset.template.generation\":\"7\"}},\"spec\":{" SEL_WEB
               "," TMPL(APP_WEB) ",\"minReadySeconds\":5}}",
               &e);
    expect_errors(&e, "", "minReadySeconds change");
    assert_string_equal(ck_json_get_string(v2, TG, ""), "1");
    assert_int_equal(ck_json_get_int64(v2, "metadata.generation", 0), 2);
    /* a template change bumps it */
    cJSON *v3 = update(&DS, v2,
                       "{" META("agent") ",\"spec\":{" SEL_WEB ",\"template\":{\"metadata\":"
                                         "{\"labels\":" APP_WEB
                                         "},\"spec\":{\"containers\":[{\"name\":\"c\","
                                         "\"image\":\"nginx:2\"}]}},\"minReadySeconds\":5}}",
                       &e);
    expect_errors(&e, "", "template change");
    assert_string_equal(ck_json_get_string(v3, TG, ""), "2");
    assert_int_equal(ck_json_get_int64(v3, "metadata.generation", 0), 3);
    cJSON_Delete(v1);
    cJSON_Delete(v2);
    cJSON_Delete(v3);
}

static void job_updates(void **state)
{
    (void)state;
    struct field_errors e = FIELD_ERRORS_INIT;
    cJSON *v1 = create(&JOB, "{" META("pi") ",\"spec\":{" TMPL_RP("null", "Never") "}}", &e);
    assert_int_equal(e.len, 0);
    /* clients send back what they read: change parallelism only */
    cJSON *body = ck_json_dup(v1);
    ck_json_set_int64(body, "spec.parallelism", 3);
    char *s = ck_json_print(body, 0);
    cJSON *v2 = update(&JOB, v1, s, &e);
    free(s);
    expect_errors(&e, "", "parallelism change");
    assert_int_equal(ck_json_get_int64(v2, "metadata.generation", 0), 2);

    /* completions of a NonIndexed job are immutable; so is a started job's template */
    ck_json_set_int64(body, "spec.completions", 4);
    ck_json_set_string(body, "spec.template.spec.containers[0].image", "busybox");
    s = ck_json_print(body, 0);
    cJSON *bad = update(&JOB, v1, s, &e);
    free(s);
    char *text = errors_text(&e);
    const char *second = strchr(text, '\n');
    assert_non_null(second);
    assert_int_equal(second - text,
                     strlen("spec.completions: Invalid value: 4: field is immutable"));
    assert_memory_equal(text, "spec.completions: Invalid value: 4: field is immutable",
                        (size_t)(second - text));
    assert_true(!strncmp(second + 1, "spec.template: Invalid value: {", 31));
    assert_true(strstr(second + 1, "\"busybox\"") != NULL);
    assert_string_equal(text + strlen(text) - strlen(": field is immutable"),
                        ": field is immutable");
    free(text);
    field_errors_free(&e);
    cJSON_Delete(bad);
    cJSON_Delete(body);
    cJSON_Delete(v2);
    cJSON_Delete(v1);

    /* a suspended Job that never started may change its scheduling directives */
    v1 = create(&JOB, "{" META("pi") ",\"spec\":{\"suspend\":true," TMPL_RP("null", "Never") "}}",
                &e);
    assert_int_equal(e.len, 0);
    body = ck_json_dup(v1);
    ck_json_set(body, "spec.template.spec.nodeSelector", parse("{\"zone\":\"a\"}"));
    ck_json_set_string(body, "spec.template.metadata.annotations.note", "x");
    s = ck_json_print(body, 0);
    cJSON *v3 = update(&JOB, v1, s, &e);
    free(s);
    expect_errors(&e, "", "suspended job scheduling change");
    ck_json_set_string(body, "spec.template.spec.containers[0].image", "busybox");
    s = ck_json_print(body, 0);
    bad = update(&JOB, v1, s, &e);
    free(s);
    assert_int_equal(e.len, 1);
    assert_string_equal(e.items[0].field, "spec.template");
    assert_string_equal(e.items[0].detail, "field is immutable");
    field_errors_free(&e);
    cJSON_Delete(bad);
    cJSON_Delete(v3);
    cJSON_Delete(body);
    cJSON_Delete(v1);
}

static void indexed_job_completions_scale_with_parallelism(void **state)
{
    (void)state;
    struct field_errors e = FIELD_ERRORS_INIT;
    cJSON *v1 = create(&JOB,
                       "{" META("pi") ",\"spec\":{\"completionMode\":\"Indexed\",\"completions\":"
                                      "3,\"parallelism\":3," TMPL_RP("null", "Never") "}}",
                       &e);
    assert_int_equal(e.len, 0);
    cJSON *body = ck_json_dup(v1);
    ck_json_set_int64(body, "spec.completions", 5);
    ck_json_set_int64(body, "spec.parallelism", 5);
    char *s = ck_json_print(body, 0);
    cJSON *ok = update(&JOB, v1, s, &e);
    free(s);
    expect_errors(&e, "", "completions with parallelism");
    ck_json_set_int64(body, "spec.parallelism", 3);
    s = ck_json_print(body, 0);
    cJSON *bad = update(&JOB, v1, s, &e);
    free(s);
    expect_errors(&e,
                  "spec.completions: Invalid value: 5: can only be modified in tandem with "
                  "spec.parallelism",
                  "completions alone");
    field_errors_free(&e);
    cJSON_Delete(bad);
    cJSON_Delete(ok);
    cJSON_Delete(body);
    cJSON_Delete(v1);
}

static void bindings_cannot_change_role_ref(void **state)
{
    (void)state;
    struct field_errors e = FIELD_ERRORS_INIT;
    cJSON *v1 = create(&RB,
                       "{" META("rb") ",\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"view\"},"
                                      "\"subjects\":[{\"kind\":\"User\",\"name\":\"alice\"}]}",
                       &e);
    assert_int_equal(e.len, 0);
    /* the subjects may change; an omitted apiGroup is defaulted back, so that is no change */
    cJSON *ok = update(&RB, v1,
                       "{" META("rb") ",\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"view\"},"
                                      "\"subjects\":[{\"kind\":\"Group\",\"name\":\"devs\"}]}",
                       &e);
    expect_errors(&e, "", "subjects change");
    cJSON *bad = update(
        &RB, v1, "{" META("rb") ",\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"edit\"}}", &e);
    expect_errors(&e,
                  "roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", "
                  "Kind:\"ClusterRole\", Name:\"edit\"}: cannot change roleRef",
                  "roleRef change");
    field_errors_free(&e);
    cJSON_Delete(bad);
    cJSON_Delete(ok);
    cJSON_Delete(v1);
}

/* Wrong JSON types never crash a hook: they are reported, not followed. */
static void wrong_types_are_reported_not_followed(void **state)
{
    (void)state;
    static const struct {
        const struct resource *r;
        const char *input;
    } CASES[] = {
        {&DEPLOY, "{" META("web") ",\"spec\":5}"},
        {&DEPLOY,
         "{" META("web") ",\"spec\":{\"replicas\":\"3\",\"strategy\":[],\"selector\":"
                         "{\"matchLabels\":[1]},\"template\":{\"metadata\":{\"labels\":7}}}}"},
        {&STS, "{" META("db") ",\"spec\":{\"updateStrategy\":\"x\",\"volumeClaimTemplates\":"
                              "[1,null,{\"spec\":3}],\"ordinals\":[]}}"},
        {&DS, "{" META("agent") ",\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{"
                                "\"maxUnavailable\":true}}}}"},
        {&JOB,
         "{" META("pi") ",\"spec\":{\"template\":[],\"podFailurePolicy\":{\"rules\":"
                        "[1,{\"onExitCodes\":{\"values\":[\"a\",1e12]}}]},\"successPolicy\":7}}"},
        {&CJ, "{" META("cj") ",\"spec\":{\"schedule\":5,\"timeZone\":1,\"jobTemplate\":[]}}"},
        {&RB, "{" META("rb") ",\"roleRef\":\"x\",\"subjects\":{\"a\":1}}"},
        {&CROLE, "{" CMETA("cr") ",\"rules\":{},\"aggregationRule\":{\"clusterRoleSelectors\":"
                                 "[5]}}"},
    };
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        struct field_errors e = FIELD_ERRORS_INIT;
        cJSON *obj = create(CASES[i].r, CASES[i].input, &e);
        if (!e.len)
            fail_msg("case %zu: no error reported", i);
        field_errors_free(&e);
        cJSON *again = update(CASES[i].r, obj, CASES[i].input, &e);
        field_errors_free(&e);
        cJSON_Delete(again);
        cJSON_Delete(obj);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_match_upstream),
        cmocka_unit_test(job_selector_uses_the_uid_given_before_preparation),
        cmocka_unit_test(invalid_objects_get_upstream_errors),
        cmocka_unit_test(status_message_names_group_and_kind),
        cmocka_unit_test(job_generated_labels_must_stay_generated),
        cmocka_unit_test(cronjob_accepts_real_time_zones),
        cmocka_unit_test(deployment_updates),
        cmocka_unit_test(statefulset_updates_touch_allowed_fields_only),
        cmocka_unit_test(daemonset_template_generation_follows_the_template),
        cmocka_unit_test(job_updates),
        cmocka_unit_test(indexed_job_completions_scale_with_parallelism),
        cmocka_unit_test(bindings_cannot_change_role_ref),
        cmocka_unit_test(wrong_types_are_reported_not_followed),
    };
    return cmocka_run_group_tests_name("strategy_apps", tests, NULL, NULL);
}
