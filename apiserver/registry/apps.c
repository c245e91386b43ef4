/* apps.c - strategies of apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet, as
 * upstream 1.32 (pkg/apis/apps/v1/defaults.go, pkg/apis/apps/validation/validation.go,
 * pkg/registry/apps/<kind>/strategy.go). Embedded pod templates get podspec.h's defaults and
 * validation; this file adds each controller's own rules. */
#include "kinds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "podspec.h"
#include "validation.h"
#include "workload.h"

/* The annotation apps/v1 DaemonSets carry their internal spec.templateGeneration in. */
#define DS_TEMPLATE_GENERATION "deprecated.daemonset.template.generation"

static const char *const ALWAYS[] = {"Always", NULL};

/* ---- shared pieces ---- */

/* Controllers that keep pods running: restartPolicy Always, no activeDeadlineSeconds. */
static void validate_always_restart(const cJSON *tmpl, const char *kind, struct field_errors *e)
{
    const cJSON *ps = fu_get(tmpl, "spec");
    const char *rp = fu_str(ps, "restartPolicy");
    if (strcmp(rp, "Always"))
        fe_not_supported(e, "spec.template.spec.restartPolicy", rp, ALWAYS);
    if (fu_get(ps, "activeDeadlineSeconds"))
        fe_add(e, FE_FORBIDDEN, "spec.template.spec.activeDeadlineSeconds", NULL,
               "activeDeadlineSeconds in %s is not Supported", kind);
}

/* spec.selector must be given, valid and not empty ("empty selector is invalid for <what>"). */
static void validate_required_selector(const cJSON *sel, const char *what, struct field_errors *e)
{
    if (!sel) {
        fe_add(e, FE_REQUIRED, "spec.selector", NULL, NULL);
        return;
    }
    wl_validate_label_selector(sel, "spec.selector", false, e);
    if (cJSON_GetArraySize(fu_get(sel, "matchLabels")) +
            cJSON_GetArraySize(fu_get(sel, "matchExpressions")) ==
        0) {
        CK_AUTOFREE char *d = ck_xasprintf("empty selector is invalid for %s", what);
        fu_add_go(e, FE_INVALID, "spec.selector", wl_go_label_selector, sel, d);
    }
}

static void default_int(cJSON *obj, const char *key, int64_t v)
{
    fu_default(obj, key, ck_json_new_int64(v));
}

/* ---- IntOrString fields (maxSurge, maxUnavailable) ---- */

/* strconv.Atoi of digits as Go's (clamped on overflow), 0 when not a number. */
static int64_t go_atoi_clamped(const char *s, size_t n)
{
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return 0;
    int64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        if (v > (INT64_MAX - (s[i] - '0')) / 10)
            return neg ? INT64_MIN : INT64_MAX;
        v = v * 10 + (s[i] - '0');
    }
    return neg ? -v : v;
}

/* upstream's getPercentValue / getIntOrPercentValue */
static int64_t intstr_value(const cJSON *v, bool *percent)
{
    *percent = false;
    if (cJSON_IsString(v)) {
        size_t n = strlen(v->valuestring);
        if (ck_is_valid_percent(v->valuestring, NULL) == 0) {
            *percent = true;
            return go_atoi_clamped(v->valuestring, n - 1);
        }
        return go_atoi_clamped(v->valuestring, n);
    }
    int64_t n = 0;
    return wl_int32(v, &n) > 0 ? n : 0;
}

/* ValidatePositiveIntOrPercent */
static void validate_int_or_percent(const cJSON *v, const char *field, struct field_errors *e)
{
    if (!v)
        return;
    if (cJSON_IsString(v)) {
        struct ck_errlist l = CK_ERRLIST_INIT;
        ck_is_valid_percent(v->valuestring, &l);
        for (size_t i = 0; i < l.n; i++)
            fu_add_go(e, FE_INVALID, field, wl_go_intstr, v, l.items[i]);
        ck_errlist_free(&l);
        return;
    }
    int64_t n;
    if (wl_int32(v, &n) > 0) {
        if (n < 0)
            fe_add(e, FE_INVALID, field, v, "must be greater than or equal to 0");
        return;
    }
    fe_add(e, FE_INVALID, field, v, "must be an integer or percentage (e.g '5%%%%')");
}

/* IsNotMoreThan100Percent */
static void not_more_than_100(const cJSON *v, const char *field, struct field_errors *e)
{
    bool percent;
    int64_t n = intstr_value(v, &percent);
    if (percent && n > 100)
        fu_add_go(e, FE_INVALID, field, wl_go_intstr, v, "must not be greater than 100%");
}

/* "<type>{Type:"x", RollingUpdate:(*<ptr>)(nil)}" */
static char *go_strategy(const char *type, const cJSON *strategy, const char *ptr_type)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_printf(&b, "%s{Type:", type);
    ck_buf_put_go_quoted(&b, fu_str(strategy, "type"));
    ck_buf_printf(&b, ", RollingUpdate:(*%s)(%s)}", ptr_type,
                  fu_get(strategy, "rollingUpdate") ? "0xc000010000" : "nil");
    return ck_buf_detach(&b);
}

/* ---- Deployment ---- */

static void deployment_defaults(cJSON *obj)
{
    cJSON *spec = wl_object(obj, "spec");
    if (!spec)
        return;
    default_int(spec, "replicas", 1);
    cJSON *st = wl_object(spec, "strategy");
    if (st) {
        fu_default_str(st, "type", "RollingUpdate");
        if (!strcmp(fu_str(st, "type"), "RollingUpdate")) {
            cJSON *ru = wl_object(st, "rollingUpdate");
            fu_default(ru, "maxUnavailable", cJSON_CreateString("25%"));
            fu_default(ru, "maxSurge", cJSON_CreateString("25%"));
        }
    }
    default_int(spec, "revisionHistoryLimit", 10);
    default_int(spec, "progressDeadlineSeconds", 600);
    wl_template_defaults(spec);
}

/* ValidateRollingUpdateDeployment */
static void validate_rolling_update_deployment(const cJSON *ru, struct field_errors *e)
{
    const char *MU = "spec.strategy.rollingUpdate.maxUnavailable";
    const cJSON *mu = fu_get(ru, "maxUnavailable"), *ms = fu_get(ru, "maxSurge");
    validate_int_or_percent(mu, MU, e);
    validate_int_or_percent(ms, "spec.strategy.rollingUpdate.maxSurge", e);
    bool p;
    if (intstr_value(mu, &p) == 0 && intstr_value(ms, &p) == 0)
        fu_add_go(e, FE_INVALID, MU, wl_go_intstr, mu, "may not be 0 when `maxSurge` is 0");
    not_more_than_100(mu, MU, e);
}

/* ValidateDeploymentStrategy */
static void validate_deployment_strategy(const cJSON *st, struct field_errors *e)
{
    const char *type = fu_str(st, "type");
    const cJSON *ru = fu_get(st, "rollingUpdate");
    if (!strcmp(type, "Recreate")) {
        if (ru)
            fe_add(e, FE_FORBIDDEN, "spec.strategy.rollingUpdate", NULL,
                   "may not be specified when strategy `type` is 'Recreate'");
    } else if (!strcmp(type, "RollingUpdate")) {
        if (!ru)
            fe_add(e, FE_REQUIRED, "spec.strategy.rollingUpdate", NULL,
                   "this should be defaulted and never be nil");
        else
            validate_rolling_update_deployment(ru, e);
    } else {
        CK_AUTOFREE char *v =
            go_strategy("apps.DeploymentStrategy", st, "apps.RollingUpdateDeployment");
        fe_add_raw(e, FE_NOT_SUPPORTED, "spec.strategy", v,
                   "supported values: \"Recreate\", \"RollingUpdate\"");
    }
}

/* The selector and template rules Deployments and ReplicaSets share
 * (ValidatePodTemplateSpecForReplicaSet behind LabelSelectorAsSelector). */
static void validate_replicated_template(const cJSON *spec, struct field_errors *e)
{
    const cJSON *sel = fu_get(spec, "selector"), *tmpl = fu_get(spec, "template");
    enum wl_match m = wl_selector_match(sel, wl_template_labels(tmpl));
    if (m == WL_SEL_ERROR) {
        fu_add_go(e, FE_INVALID, "spec.selector", wl_go_label_selector, sel,
                  "invalid label selector");
        return;
    }
    if (m == WL_SEL_NO_MATCH)
        wl_selector_mismatch(tmpl, "spec.template.metadata.labels", e);
    podtemplate_validate(tmpl, "spec.template", e);
    validate_always_restart(tmpl, "ReplicaSet", e);
}

static void deployment_validate(const cJSON *obj, struct field_errors *e)
{
    if (!wl_check_object(fu_get(obj, "spec"), "spec", e))
        return;
    const cJSON *spec = wl_spec(obj);
    wl_nonnegative(fu_get(spec, "replicas"), "spec.replicas", e);
    validate_required_selector(fu_get(spec, "selector"), "deployment", e);
    validate_replicated_template(spec, e);
    validate_deployment_strategy(fu_get(spec, "strategy"), e);
    int64_t mrs = 0, pds;
    wl_nonnegative(fu_get(spec, "minReadySeconds"), "spec.minReadySeconds", e);
    if (wl_int32(fu_get(spec, "minReadySeconds"), &mrs) <= 0)
        mrs = 0;
    wl_nonnegative(fu_get(spec, "revisionHistoryLimit"), "spec.revisionHistoryLimit", e);
    const cJSON *pdsv = fu_get(spec, "progressDeadlineSeconds");
    wl_nonnegative(pdsv, "spec.progressDeadlineSeconds", e);
    if (wl_int32(pdsv, &pds) > 0 && pds <= mrs)
        fe_add(e, FE_INVALID, "spec.progressDeadlineSeconds", pdsv,
               "must be greater than minReadySeconds");
}

static void immutable_selector(const cJSON *obj, const cJSON *old, struct field_errors *e)
{
    wl_immutable(fu_get(wl_spec(obj), "selector"), fu_get(wl_spec(old), "selector"),
                 "spec.selector", wl_go_label_selector, e);
}

/* Upstream also bumps the generation when annotations change: the Deployment controller
 * copies them onto the ReplicaSets it owns. */
static void deployment_prepare_update(cJSON *obj, const cJSON *old)
{
    const cJSON *a = fu_get(fu_get(obj, "metadata"), "annotations");
    const cJSON *b = fu_get(fu_get(old, "metadata"), "annotations");
    if (wl_semantic_equal(a, b))
        return;
    int64_t g = ck_json_get_int64(old, "metadata.generation", 0);
    cJSON *m = wl_object(obj, "metadata");
    if (m && cJSON_GetObjectItemCaseSensitive(m, "generation"))
        cJSON_ReplaceItemInObjectCaseSensitive(m, "generation", ck_json_new_int64(g + 1));
    else if (m)
        cJSON_AddItemToObject(m, "generation", ck_json_new_int64(g + 1));
}

const struct strategy strategy_deployment = {
    .flags = STRAT_STATUS | STRAT_GENERATION | STRAT_STATUS_ANNOTATIONS,
    .defaults = deployment_defaults,
    .prepare_update = deployment_prepare_update,
    .validate = deployment_validate,
    .validate_update = immutable_selector,
};

/* ---- ReplicaSet ---- */

static void replicaset_defaults(cJSON *obj)
{
    cJSON *spec = wl_object(obj, "spec");
    if (!spec)
        return;
    default_int(spec, "replicas", 1);
    wl_template_defaults(spec);
}

static void replicaset_validate(const cJSON *obj, struct field_errors *e)
{
    if (!wl_check_object(fu_get(obj, "spec"), "spec", e))
        return;
    const cJSON *spec = wl_spec(obj);
    wl_nonnegative(fu_get(spec, "replicas"), "spec.replicas", e);
    wl_nonnegative(fu_get(spec, "minReadySeconds"), "spec.minReadySeconds", e);
    /* (upstream's ReplicaSet message says "deployment" too) */
    validate_required_selector(fu_get(spec, "selector"), "deployment", e);
    validate_replicated_template(spec, e);
}

static const char *const RS_FIELDS[] = {"status.replicas", NULL};
const struct strategy strategy_replicaset = {
    .flags = STRAT_STATUS | STRAT_GENERATION,
    .field_labels = RS_FIELDS,
    .defaults = replicaset_defaults,
    .validate = replicaset_validate,
    .validate_update = immutable_selector,
};

/* ---- StatefulSet ---- */

static void pvc_template_defaults(cJSON *pvc)
{
    if (!cJSON_IsObject(pvc))
        return;
    fu_default_str(pvc, "apiVersion", "v1");
    fu_default_str(pvc, "kind", "PersistentVolumeClaim");
    /* the zero metav1.Time of an embedded object's metadata serializes as null */
    cJSON *md = wl_object(pvc, "metadata");
    if (md && !cJSON_GetObjectItemCaseSensitive(md, "creationTimestamp"))
        cJSON_AddNullToObject(md, "creationTimestamp");
    cJSON *spec = wl_object(pvc, "spec");
    if (spec)
        fu_default(spec, "volumeMode", cJSON_CreateString("Filesystem"));
    fu_default_str(wl_object(pvc, "status"), "phase", "Pending");
}

static void statefulset_defaults(cJSON *obj)
{
    cJSON *spec = wl_object(obj, "spec");
    if (!spec)
        return;
    fu_default_str(spec, "podManagementPolicy", "OrderedReady");
    cJSON *us = wl_object(spec, "updateStrategy");
    if (us) {
        const cJSON *t = fu_get(us, "type");
        if (!t || (cJSON_IsString(t) && !t->valuestring[0])) {
            fu_default_str(us, "type", "RollingUpdate");
            wl_object(us, "rollingUpdate");
        }
        cJSON *ru = cJSON_GetObjectItemCaseSensitive(us, "rollingUpdate");
        if (!strcmp(fu_str(us, "type"), "RollingUpdate") && cJSON_IsObject(ru))
            default_int(ru, "partition", 0);
    }
    cJSON *rp = wl_object(spec, "persistentVolumeClaimRetentionPolicy");
    fu_default_str(rp, "whenDeleted", "Retain");
    fu_default_str(rp, "whenScaled", "Retain");
    default_int(spec, "replicas", 1);
    default_int(spec, "revisionHistoryLimit", 10);
    wl_template_defaults(spec);
    cJSON *pvc;
    cJSON_ArrayForEach(pvc, fu_get(spec, "volumeClaimTemplates")) pvc_template_defaults(pvc);
}

/* rollingUpdate.maxUnavailable belongs to the MaxUnavailableStatefulSet feature, alpha and off
 * in 1.32: upstream drops it unless the stored object already uses it. */
static cJSON *sts_rolling_update(const cJSON *obj)
{
    return ck_json_getv(obj, "spec", "updateStrategy", "rollingUpdate", NULL);
}

static void statefulset_prepare_create(cJSON *obj)
{
    cJSON *ru = sts_rolling_update(obj);
    if (cJSON_IsObject(ru))
        cJSON_DeleteItemFromObjectCaseSensitive(ru, "maxUnavailable");
}

static void statefulset_prepare_update(cJSON *obj, const cJSON *old)
{
    if (!fu_get(sts_rolling_update(old), "maxUnavailable"))
        statefulset_prepare_create(obj);
}

static void validate_sts_update_strategy(const cJSON *us, struct field_errors *e)
{
    const char *type = fu_str(us, "type");
    const cJSON *ru = fu_get(us, "rollingUpdate");
    if (!type[0]) {
        fe_add(e, FE_REQUIRED, "spec.updateStrategy", NULL, NULL);
    } else if (!strcmp(type, "OnDelete")) {
        if (ru) {
            int64_t part = 0;
            if (wl_int32(fu_get(ru, "partition"), &part) <= 0)
                part = 0;
            CK_AUTOFREE char *v = ck_xasprintf(
                "apps.RollingUpdateStatefulSetStrategy{Partition:%lld, "
                "MaxUnavailable:(*intstr.IntOrString)(%s)}",
                (long long)part, fu_get(ru, "maxUnavailable") ? "0xc000010000" : "nil");
            fe_add_raw(e, FE_INVALID, "spec.updateStrategy.rollingUpdate", v,
                       "only allowed for updateStrategy 'RollingUpdate'");
        }
    } else if (!strcmp(type, "RollingUpdate")) {
        if (ru) {
            const char *MU = "spec.updateStrategy.rollingUpdate.maxUnavailable";
            wl_nonnegative(fu_get(ru, "partition"), "spec.updateStrategy.rollingUpdate.partition",
                           e);
            const cJSON *mu = fu_get(ru, "maxUnavailable");
            if (mu) {
                bool p;
                validate_int_or_percent(mu, MU, e);
                if (intstr_value(mu, &p) == 0)
                    fu_add_go(e, FE_INVALID, MU, wl_go_intstr, mu, "cannot be 0");
                not_more_than_100(mu, MU, e);
            }
        }
    } else {
        CK_AUTOFREE char *v = go_strategy("apps.StatefulSetUpdateStrategy", us,
                                          "apps.RollingUpdateStatefulSetStrategy");
        fe_add_raw(e, FE_INVALID, "spec.updateStrategy", v,
                   "must be 'RollingUpdate' or 'OnDelete'");
    }
}

static void validate_retention(const cJSON *rp, struct field_errors *e)
{
    static const char *const SUPPORTED[] = {"Retain", "Delete", NULL};
    if (!rp)
        return;
    const char *keys[] = {"whenDeleted", "whenScaled"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = fu_str(rp, keys[i]);
        if (strcmp(v, "Retain") && strcmp(v, "Delete")) {
            CK_AUTOFREE char *f =
                ck_xasprintf("spec.persistentVolumeClaimRetentionPolicy.%s", keys[i]);
            fe_not_supported(e, f, v, SUPPORTED);
        }
    }
}

static void statefulset_validate(const cJSON *obj, struct field_errors *e)
{
    if (!wl_check_object(fu_get(obj, "spec"), "spec", e))
        return;
    const cJSON *spec = wl_spec(obj);
    const char *pmp = fu_str(spec, "podManagementPolicy");
    if (!pmp[0])
        fe_add(e, FE_REQUIRED, "spec.podManagementPolicy", NULL, NULL);
    else if (strcmp(pmp, "OrderedReady") && strcmp(pmp, "Parallel"))
        fe_add_str(e, FE_INVALID, "spec.podManagementPolicy", pmp,
                   "must be 'OrderedReady' or 'Parallel'");
    validate_sts_update_strategy(fu_get(spec, "updateStrategy"), e);
    validate_retention(fu_get(spec, "persistentVolumeClaimRetentionPolicy"), e);
    wl_nonnegative(fu_get(spec, "replicas"), "spec.replicas", e);
    wl_nonnegative(fu_get(spec, "minReadySeconds"), "spec.minReadySeconds", e);
    const cJSON *ord = fu_get(spec, "ordinals");
    if (ord)
        wl_nonnegative(fu_get(ord, "start"), "spec.ordinals.start", e);
    validate_required_selector(fu_get(spec, "selector"), "statefulset", e);

    /* ValidatePodTemplateSpecForStatefulSet: upstream checks the template's labels and
     * annotations only, not its pod spec (a TODO there since 1.5) */
    const cJSON *sel = fu_get(spec, "selector"), *tmpl = fu_get(spec, "template");
    enum wl_match m = wl_selector_match(sel, wl_template_labels(tmpl));
    if (m == WL_SEL_ERROR) {
        fu_add_go(e, FE_INVALID, "spec.selector", wl_go_label_selector, sel, "");
    } else {
        if (m == WL_SEL_NO_MATCH)
            wl_selector_mismatch(tmpl, "spec.template.metadata.labels", e);
        const cJSON *tm = fu_get(tmpl, "metadata");
        fu_validate_labels(fu_get(tm, "labels"), "spec.template.labels", e);
        fu_validate_annotations(fu_get(tm, "annotations"), "spec.template.annotations", e);
    }
    validate_always_restart(tmpl, "StatefulSet", e);
}

/* Only replicas, ordinals, template, updateStrategy, persistentVolumeClaimRetentionPolicy
 * and minReadySeconds may change. */
static void statefulset_validate_update(const cJSON *obj, const cJSON *old, struct field_errors *e)
{
    static const char *const MUTABLE[] = {"replicas",
                                          "template",
                                          "updateStrategy",
                                          "minReadySeconds",
                                          "ordinals",
                                          "persistentVolumeClaimRetentionPolicy",
                                          NULL};
    const cJSON *ospec = wl_spec(old);
    cJSON *clone = cJSON_IsObject(wl_spec(obj)) ? ck_json_dup(wl_spec(obj)) : cJSON_CreateObject();
    for (size_t i = 0; MUTABLE[i]; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(clone, MUTABLE[i]);
        const cJSON *v = fu_get(ospec, MUTABLE[i]);
        if (v)
            cJSON_AddItemToObject(clone, MUTABLE[i], ck_json_dup(v));
    }
    if (!wl_semantic_equal(clone, ospec))
        fe_add(e, FE_FORBIDDEN, "spec", NULL,
               "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
               "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
               "'minReadySeconds' are forbidden");
    cJSON_Delete(clone);
}

/* StatefulSet names become pod hostnames: upstream requires a DNS-1123 label. */
const struct strategy strategy_statefulset = {
    .flags = STRAT_STATUS | STRAT_GENERATION,
    .name_rule = NAME_DNS1123_LABEL,
    .defaults = statefulset_defaults,
    .prepare_create = statefulset_prepare_create,
    .prepare_update = statefulset_prepare_update,
    .validate = statefulset_validate,
    .validate_update = statefulset_validate_update,
};

/* ---- DaemonSet ---- */

static void daemonset_defaults(cJSON *obj)
{
    cJSON *spec = wl_object(obj, "spec");
    if (!spec)
        return;
    cJSON *us = wl_object(spec, "updateStrategy");
    if (us) {
        fu_default_str(us, "type", "RollingUpdate");
        if (!strcmp(fu_str(us, "type"), "RollingUpdate")) {
            cJSON *ru = wl_object(us, "rollingUpdate");
            default_int(ru, "maxUnavailable", 1);
            default_int(ru, "maxSurge", 0);
        }
    }
    default_int(spec, "revisionHistoryLimit", 10);
    wl_template_defaults(spec);
}

static int64_t template_generation(const cJSON *obj)
{
    const char *v = fu_str(fu_get(fu_get(obj, "metadata"), "annotations"), DS_TEMPLATE_GENERATION);
    return go_atoi_clamped(v, strlen(v));
}

static void set_template_generation(cJSON *obj, int64_t g)
{
    cJSON *ann = wl_object(wl_object(obj, "metadata"), "annotations");
    if (!ann)
        return;
    char s[32];
    snprintf(s, sizeof(s), "%lld", (long long)g);
    if (cJSON_GetObjectItemCaseSensitive(ann, DS_TEMPLATE_GENERATION))
        cJSON_ReplaceItemInObjectCaseSensitive(ann, DS_TEMPLATE_GENERATION, cJSON_CreateString(s));
    else
        cJSON_AddStringToObject(ann, DS_TEMPLATE_GENERATION, s);
}

/* apps/v1 keeps the internal spec.templateGeneration in an annotation: 1 (or more) on create,
 * bumped whenever the pod template changes, never set by clients on update. */
static void daemonset_prepare_create(cJSON *obj)
{
    int64_t g = template_generation(obj);
    set_template_generation(obj, g < 1 ? 1 : g);
}

static void daemonset_prepare_update(cJSON *obj, const cJSON *old)
{
    daemonset_defaults(obj); /* compare templates as upstream does, after decoding defaults */
    int64_t g = template_generation(old);
    if (!wl_semantic_equal(fu_get(wl_spec(obj), "template"), fu_get(wl_spec(old), "template")))
        g++;
    set_template_generation(obj, g);
}

static void validate_rolling_update_daemonset(const cJSON *ru, struct field_errors *e)
{
    const char *MU = "spec.updateStrategy.rollingUpdate.maxUnavailable";
    const char *MS = "spec.updateStrategy.rollingUpdate.maxSurge";
    const cJSON *mu = fu_get(ru, "maxUnavailable"), *ms = fu_get(ru, "maxSurge");
    validate_int_or_percent(mu, MU, e);
    validate_int_or_percent(ms, MS, e);
    not_more_than_100(mu, MU, e);
    not_more_than_100(ms, MS, e);
    bool p;
    bool unavailable = intstr_value(mu, &p) != 0, surge = intstr_value(ms, &p) != 0;
    if (unavailable && surge)
        fu_add_go(e, FE_INVALID, MS, wl_go_intstr, ms,
                  "may not be set when maxUnavailable is non-zero");
    else if (!unavailable && !surge)
        fe_add(e, FE_REQUIRED, MU, NULL, "cannot be 0 when maxSurge is 0");
}

static void daemonset_validate(const cJSON *obj, struct field_errors *e)
{
    if (!wl_check_object(fu_get(obj, "spec"), "spec", e))
        return;
    const cJSON *spec = wl_spec(obj);
    const cJSON *sel = fu_get(spec, "selector"), *tmpl = fu_get(spec, "template");
    wl_validate_label_selector(sel, "spec.selector", false, e);
    /* no "Required" here: a missing selector selects nothing, so the labels never match */
    if (wl_selector_match(sel, wl_template_labels(tmpl)) == WL_SEL_NO_MATCH)
        wl_selector_mismatch(tmpl, "spec.template.metadata.labels", e);
    if (sel && cJSON_GetArraySize(fu_get(sel, "matchLabels")) +
                       cJSON_GetArraySize(fu_get(sel, "matchExpressions")) ==
                   0)
        fu_add_go(e, FE_INVALID, "spec.selector", wl_go_label_selector, sel,
                  "empty selector is invalid for daemonset");
    podtemplate_validate(tmpl, "spec.template", e);
    validate_always_restart(tmpl, "DaemonSet", e);
    wl_nonnegative(fu_get(spec, "minReadySeconds"), "spec.minReadySeconds", e);

    const cJSON *us = fu_get(spec, "updateStrategy");
    const char *type = fu_str(us, "type");
    if (!strcmp(type, "RollingUpdate")) {
        const cJSON *ru = fu_get(us, "rollingUpdate");
        if (!ru)
            fe_add(e, FE_REQUIRED, "spec.updateStrategy.rollingUpdate", NULL, NULL);
        else
            validate_rolling_update_daemonset(ru, e);
    } else if (strcmp(type, "OnDelete")) {
        CK_AUTOFREE char *v =
            go_strategy("apps.DaemonSetUpdateStrategy", us, "apps.RollingUpdateDaemonSet");
        fe_add_raw(e, FE_NOT_SUPPORTED, "spec.updateStrategy", v,
                   "supported values: \"RollingUpdate\", \"OnDelete\"");
    }
    wl_nonnegative(fu_get(spec, "revisionHistoryLimit"), "spec.revisionHistoryLimit", e);
}

const struct strategy strategy_daemonset = {
    .flags = STRAT_STATUS | STRAT_GENERATION,
    .defaults = daemonset_defaults,
    .prepare_create = daemonset_prepare_create,
    .prepare_update = daemonset_prepare_update,
    .validate = daemonset_validate,
    .validate_update = immutable_selector,
};
