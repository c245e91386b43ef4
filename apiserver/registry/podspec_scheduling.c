/* podspec_scheduling.c - the scheduling rules of ValidatePodSpec: node and pod (anti-)affinity,
 * tolerations and topology spread constraints (pkg/apis/core/validation, v1.32). */
#include "podspec_internal.h"

#include <string.h>

#include "mem.h"

/* ---- affinity, tolerations, scheduling ---- */

static void label_name(struct field_errors *e, const char *field, const char *v)
{
    fu_check(e, field, v, ck_is_qualified_name);
}

static void node_selector_requirement(struct field_errors *e, const cJSON *rq, const char *base,
                                      bool allow_invalid_values)
{
    const char *op = fu_str(rq, "operator");
    int nv = cJSON_GetArraySize(fu_get(rq, "values"));
    CK_AUTOFREE char *fv = ck_xasprintf("%s.values", base);
    CK_AUTOFREE char *fo = ck_xasprintf("%s.operator", base);
    CK_AUTOFREE char *fk = ck_xasprintf("%s.key", base);
    if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
        if (nv == 0)
            fe_add(e, FE_REQUIRED, fv, NULL,
                   "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) {
        if (nv > 0)
            fe_add(e, FE_FORBIDDEN, fv, NULL,
                   "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else if (!strcmp(op, "Gt") || !strcmp(op, "Lt")) {
        if (nv != 1)
            fe_add(e, FE_REQUIRED, fv, NULL,
                   "must be specified single value when `operator` is 'Lt' or 'Gt'");
    } else {
        fe_add_str(e, FE_INVALID, fo, op, "not a valid selector operator");
    }
    label_name(e, fk, fu_str(rq, "key"));
    if (allow_invalid_values)
        return;
    int j = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, fu_get(rq, "values"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s[%d]", fv, j++);
        fu_check(e, f, cJSON_IsString(v) ? v->valuestring : "", ck_is_valid_label_value);
    }
}

static void node_selector_term(struct field_errors *e, const cJSON *term, const char *base,
                               bool allow_invalid_values)
{
    EACH_OBJ(rq, j, fu_get(term, "matchExpressions"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.matchExpressions[%d]", base, j);
        node_selector_requirement(e, rq, f, allow_invalid_values);
    }
    EACH_OBJ(rq, j, fu_get(term, "matchFields"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.matchFields[%d]", base, j);
        CK_AUTOFREE char *fv = ck_xasprintf("%s.values", f);
        CK_AUTOFREE char *fo = ck_xasprintf("%s.operator", f);
        CK_AUTOFREE char *fk = ck_xasprintf("%s.key", f);
        const char *op = fu_str(rq, "operator");
        if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
            if (cJSON_GetArraySize(fu_get(rq, "values")) != 1)
                fe_add(e, FE_REQUIRED, fv, NULL,
                       "must be only one value when `operator` is 'In' or 'NotIn' for node field "
                       "selector");
        } else {
            fe_add_str(e, FE_INVALID, fo, op, "not a valid selector operator");
        }
        if (strcmp(fu_str(rq, "key"), "metadata.name")) {
            fe_add_str(e, FE_INVALID, fk, fu_str(rq, "key"), "not a valid field selector key");
        } else {
            int k = 0;
            const cJSON *v;
            cJSON_ArrayForEach(v, fu_get(rq, "values"))
            {
                CK_AUTOFREE char *fi = ck_xasprintf("%s[%d]", fv, k++);
                fu_check(e, fi, cJSON_IsString(v) ? v->valuestring : "", ps_name_subdomain);
            }
        }
    }
}

static void pod_affinity_term(struct field_errors *e, const cJSON *t, const char *base)
{
    CK_AUTOFREE char *fn = ck_xasprintf("%s.namespace", base);
    const cJSON *ns;
    cJSON_ArrayForEach(ns, fu_get(t, "namespaces"))
    {
        struct ck_errlist l = CK_ERRLIST_INIT;
        const char *v = cJSON_IsString(ns) ? ns->valuestring : "";
        ck_validate_namespace_name(v, false, &l);
        fu_add_msgs(e, fn, v, &l);
    }
    CK_AUTOFREE char *ft = ck_xasprintf("%s.topologyKey", base);
    const char *tk = fu_str(t, "topologyKey");
    if (!tk[0])
        fe_add(e, FE_REQUIRED, ft, NULL, "can not be empty");
    label_name(e, ft, tk);
}

/* The weight of a preferred scheduling term, 1..100. */
static void preference_weight(struct field_errors *e, const cJSON *term, const char *base)
{
    int64_t w = 0;
    fu_int(term, "weight", &w);
    if (w <= 0 || w > 100) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.weight", base);
        fe_add_int(e, FE_INVALID, f, w, "must be in the range 1-100");
    }
}

void ps_validate_affinity(struct field_errors *e, const cJSON *aff, const char *base)
{
    if (!aff)
        return;
    const cJSON *na = fu_get(aff, "nodeAffinity");
    if (na) {
        const cJSON *req = fu_get(na, "requiredDuringSchedulingIgnoredDuringExecution");
        if (req) {
            CK_AUTOFREE char *f = ck_xasprintf(
                "%s.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
                base);
            if (cJSON_GetArraySize(fu_get(req, "nodeSelectorTerms")) == 0)
                fe_add(e, FE_REQUIRED, f, NULL, "must have at least one node selector term");
            EACH_OBJ(term, i, fu_get(req, "nodeSelectorTerms"))
            {
                CK_AUTOFREE char *ft = ck_xasprintf("%s[%d]", f, i);
                node_selector_term(e, term, ft, false);
            }
        }
        EACH_OBJ(pt, i, fu_get(na, "preferredDuringSchedulingIgnoredDuringExecution"))
        {
            CK_AUTOFREE char *f = ck_xasprintf(
                "%s.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[%d]", base, i);
            preference_weight(e, pt, f);
            CK_AUTOFREE char *fp = ck_xasprintf("%s.preference", f);
            node_selector_term(e, fu_get(pt, "preference"), fp, true);
        }
    }
    static const char *const KINDS[] = {"podAffinity", "podAntiAffinity"};
    for (int k = 0; k < 2; k++) {
        const cJSON *pa = fu_get(aff, KINDS[k]);
        EACH_OBJ(t, i, fu_get(pa, "requiredDuringSchedulingIgnoredDuringExecution"))
        {
            CK_AUTOFREE char *f = ck_xasprintf(
                "%s.%s.requiredDuringSchedulingIgnoredDuringExecution[%d]", base, KINDS[k], i);
            pod_affinity_term(e, t, f);
        }
        EACH_OBJ(wt, i, fu_get(pa, "preferredDuringSchedulingIgnoredDuringExecution"))
        {
            CK_AUTOFREE char *f = ck_xasprintf(
                "%s.%s.preferredDuringSchedulingIgnoredDuringExecution[%d]", base, KINDS[k], i);
            preference_weight(e, wt, f);
            CK_AUTOFREE char *ft = ck_xasprintf("%s.podAffinityTerm", f);
            pod_affinity_term(e, fu_get(wt, "podAffinityTerm"), ft);
        }
    }
}

static const char *const TAINT_EFFECTS[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};

void podspec_validate_tolerations(const cJSON *tolerations, const char *path,
                                  struct field_errors *e)
{
    EACH_OBJ(t, i, tolerations)
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s[%d]", path, i);
        CK_AUTOFREE char *fk = ck_xasprintf("%s.key", p);
        CK_AUTOFREE char *fo = ck_xasprintf("%s.operator", p);
        CK_AUTOFREE char *fe_ = ck_xasprintf("%s.effect", p);
        const char *key = fu_str(t, "key"), *op = fu_str(t, "operator");
        const char *value = fu_str(t, "value"), *effect = fu_str(t, "effect");
        if (key[0])
            label_name(e, fk, key);
        if (!key[0] && strcmp(op, "Exists"))
            fe_add_str(e, FE_INVALID, fo, op,
                       "operator must be Exists when `key` is empty, which means \"match all "
                       "values and all keys\"");
        if (fu_get(t, "tolerationSeconds") && strcmp(effect, "NoExecute"))
            fe_add_str(e, FE_INVALID, fe_, effect,
                       "effect must be 'NoExecute' when `tolerationSeconds` is set");
        if (!op[0] || !strcmp(op, "Equal")) {
            struct ck_errlist l = CK_ERRLIST_INIT;
            if (ck_is_valid_label_value(value, &l)) {
                CK_AUTOFREE char *j = ck_errlist_join(&l, ";");
                fe_add_str(e, FE_INVALID, fo, value, "%s", j);
            }
            ck_errlist_free(&l);
        } else if (!strcmp(op, "Exists")) {
            if (value[0])
                fe_add_str(e, FE_INVALID, fo, value,
                           "value must be empty when `operator` is 'Exists'");
        } else {
            static const char *const OPS[] = {"Equal", "Exists", NULL};
            fe_not_supported(e, fo, op, OPS);
        }
        if (effect[0] && !fu_in_list(TAINT_EFFECTS, effect))
            fe_not_supported(e, fe_, effect, TAINT_EFFECTS);
    }
}

void ps_validate_topology_spread(struct field_errors *e, const cJSON *list, const char *path)
{
    EACH_OBJ(tc, i, list)
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s[%d]", path, i);
        int64_t skew = 0;
        fu_int(tc, "maxSkew", &skew);
        if (skew <= 0) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.maxSkew", p);
            fe_add_int(e, FE_INVALID, f, skew, "must be greater than zero");
        }
        const char *tk = fu_str(tc, "topologyKey"), *wu = fu_str(tc, "whenUnsatisfiable");
        if (!tk[0]) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.topologyKey", p);
            fe_add(e, FE_REQUIRED, f, NULL, "can not be empty");
        }
        static const char *const ACTIONS[] = {"DoNotSchedule", "ScheduleAnyway", NULL};
        if (!fu_in_list(ACTIONS, wu)) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.whenUnsatisfiable", p);
            fe_not_supported(e, f, wu, ACTIONS);
        }
        for (const cJSON *o = tc->next; o; o = o->next) {
            if (!strcmp(fu_str(o, "topologyKey"), tk) &&
                !strcmp(fu_str(o, "whenUnsatisfiable"), wu)) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.{topologyKey, whenUnsatisfiable}", p);
                CK_AUTOFREE char *v = ck_xasprintf("{%s, %s}", tk, wu);
                fe_add_str(e, FE_DUPLICATE, f, v, NULL);
                break;
            }
        }
        int64_t md;
        if (fu_int(tc, "minDomains", &md)) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.minDomains", p);
            if (md <= 0)
                fe_add_int(e, FE_INVALID, f, md, "must be greater than zero");
            if (strcmp(wu, "DoNotSchedule")) {
                fe_add_int(e, FE_INVALID, f, md,
                           "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not %s",
                           wu);
            }
        }
        static const char *const POLICIES[] = {"nodeAffinityPolicy", "nodeTaintsPolicy"};
        static const char *const HONOR[] = {"Honor", "Ignore", NULL};
        for (int k = 0; k < 2; k++) {
            const cJSON *v = fu_get(tc, POLICIES[k]);
            if (cJSON_IsString(v) && !fu_in_list(HONOR, v->valuestring)) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.%s", p, POLICIES[k]);
                fe_not_supported(e, f, v->valuestring, HONOR);
            }
        }
    }
}
