/* rbac.c - the strategy shared by Role, ClusterRole, RoleBinding and ClusterRoleBinding
 * (rbac.authorization.k8s.io/v1), as upstream 1.32 (pkg/apis/rbac/v1/defaults.go,
 * pkg/apis/rbac/validation/validation.go). One strategy serves the four kinds, so each hook
 * dispatches on the object's `kind`, which the codec always sets before the hooks run. */
#include "kinds.h"

#include <string.h>

#include "mem.h"
#include "validation.h"
#include "workload.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"

enum rbac_kind { RBAC_OTHER, ROLE, CLUSTER_ROLE, ROLE_BINDING, CLUSTER_ROLE_BINDING };

static enum rbac_kind kind_of(const cJSON *obj)
{
    const char *k = fu_str(obj, "kind");
    if (!strcmp(k, "Role"))
        return ROLE;
    if (!strcmp(k, "ClusterRole"))
        return CLUSTER_ROLE;
    if (!strcmp(k, "RoleBinding"))
        return ROLE_BINDING;
    if (!strcmp(k, "ClusterRoleBinding"))
        return CLUSTER_ROLE_BINDING;
    return RBAC_OTHER;
}

/* Bindings: roleRef.apiGroup defaults to the RBAC group, and so do subjects of kind User and
 * Group. */
static void rbac_defaults(cJSON *obj)
{
    enum rbac_kind k = kind_of(obj);
    if (k != ROLE_BINDING && k != CLUSTER_ROLE_BINDING)
        return;
    fu_default_str(wl_object(obj, "roleRef"), "apiGroup", RBAC_GROUP);
    cJSON *s;
    cJSON_ArrayForEach(s, fu_get(obj, "subjects"))
    {
        const char *kind = fu_str(s, "kind");
        if (!strcmp(kind, "User") || !strcmp(kind, "Group"))
            fu_default_str(s, "apiGroup", RBAC_GROUP);
    }
}

static int list_len(const cJSON *v)
{
    return cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
}

/* ValidatePolicyRule */
static void validate_rule(const cJSON *rule, bool namespaced, const char *base,
                          struct field_errors *e)
{
    CK_AUTOFREE char *verbs = ck_xasprintf("%s.verbs", base);
    if (!list_len(fu_get(rule, "verbs")))
        fe_add(e, FE_REQUIRED, verbs, NULL, "verbs must contain at least one value");
    const cJSON *urls = fu_get(rule, "nonResourceURLs");
    if (list_len(urls)) {
        CK_AUTOFREE char *p = ck_xasprintf("%s.nonResourceURLs", base);
        struct ck_buf b = CK_BUF_INIT;
        fu_go_string_slice(&b, urls);
        if (namespaced)
            fe_add_raw(e, FE_INVALID, p, ck_buf_str(&b),
                       "namespaced rules cannot apply to non-resource URLs");
        if (list_len(fu_get(rule, "apiGroups")) || list_len(fu_get(rule, "resources")) ||
            list_len(fu_get(rule, "resourceNames")))
            fe_add_raw(e, FE_INVALID, p, ck_buf_str(&b),
                       "rules cannot apply to both regular resources and non-resource URLs");
        ck_buf_free(&b);
        return;
    }
    CK_AUTOFREE char *groups = ck_xasprintf("%s.apiGroups", base);
    CK_AUTOFREE char *resources = ck_xasprintf("%s.resources", base);
    if (!list_len(fu_get(rule, "apiGroups")))
        fe_add(e, FE_REQUIRED, groups, NULL, "resource rules must supply at least one api group");
    if (!list_len(fu_get(rule, "resources")))
        fe_add(e, FE_REQUIRED, resources, NULL, "resource rules must supply at least one resource");
}

static void validate_role(const cJSON *obj, bool namespaced, struct field_errors *e)
{
    int i = 0;
    const cJSON *rule;
    const cJSON *rules = fu_get(obj, "rules");
    if (rules && !cJSON_IsArray(rules)) {
        fe_add(e, FE_INVALID, "rules", rules, "must be a list");
        return;
    }
    cJSON_ArrayForEach(rule, rules)
    {
        CK_AUTOFREE char *p = ck_xasprintf("rules[%d]", i++);
        validate_rule(rule, namespaced, p, e);
    }
}

static void validate_aggregation_rule(const cJSON *obj, struct field_errors *e)
{
    const cJSON *ar = fu_get(obj, "aggregationRule");
    if (!ar)
        return;
    const cJSON *sels = fu_get(ar, "clusterRoleSelectors");
    if (!list_len(sels)) {
        fe_add(e, FE_REQUIRED, "aggregationRule.clusterRoleSelectors", NULL,
               "at least one clusterRoleSelector required if aggregationRule is non-nil");
        return;
    }
    int i = 0;
    const cJSON *sel;
    cJSON_ArrayForEach(sel, sels)
    {
        CK_AUTOFREE char *p = ck_xasprintf("aggregationRule.clusterRoleSelectors[%d]", i++);
        wl_validate_label_selector(sel, p, false, e);
        /* upstream prints the (nil) converted selector here */
        if (wl_selector_match(sel, NULL) == WL_SEL_ERROR)
            fe_add_str(e, FE_INVALID, p, "null", "invalid label selector.");
    }
}

static void validate_subject(const cJSON *s, bool namespaced, const char *base,
                             struct field_errors *e)
{
    static const char *const SA_GROUP[] = {"", NULL};
    static const char *const RBAC_GROUPS[] = {RBAC_GROUP, NULL};
    static const char *const KINDS[] = {"ServiceAccount", "User", "Group", NULL};
    const char *name = fu_str(s, "name"), *kind = fu_str(s, "kind");
    const char *group = fu_str(s, "apiGroup");
    CK_AUTOFREE char *np = ck_xasprintf("%s.name", base);
    CK_AUTOFREE char *gp = ck_xasprintf("%s.apiGroup", base);
    if (!name[0])
        fe_add(e, FE_REQUIRED, np, NULL, NULL);
    if (!strcmp(kind, "ServiceAccount")) {
        if (name[0]) {
            struct ck_errlist l = CK_ERRLIST_INIT;
            ck_name_is_dns_subdomain(name, false, &l);
            fu_add_msgs(e, np, name, &l);
        }
        if (group[0])
            fe_not_supported(e, gp, group, SA_GROUP);
        if (!namespaced && !fu_str(s, "namespace")[0]) {
            CK_AUTOFREE char *p = ck_xasprintf("%s.namespace", base);
            fe_add(e, FE_REQUIRED, p, NULL, NULL);
        }
    } else if (!strcmp(kind, "User") || !strcmp(kind, "Group")) {
        if (strcmp(group, RBAC_GROUP))
            fe_not_supported(e, gp, group, RBAC_GROUPS);
    } else {
        CK_AUTOFREE char *p = ck_xasprintf("%s.kind", base);
        fe_not_supported(e, p, kind, KINDS);
    }
}

static void validate_binding(const cJSON *obj, bool namespaced, struct field_errors *e)
{
    static const char *const RBAC_GROUPS[] = {RBAC_GROUP, NULL};
    static const char *const ROLE_KINDS[] = {"Role", "ClusterRole", NULL};
    static const char *const CLUSTER_KINDS[] = {"ClusterRole", NULL};
    const cJSON *ref = fu_get(obj, "roleRef");
    const char *group = fu_str(ref, "apiGroup"), *kind = fu_str(ref, "kind");
    const char *name = fu_str(ref, "name");
    if (strcmp(group, RBAC_GROUP))
        fe_not_supported(e, "roleRef.apiGroup", group, RBAC_GROUPS);
    if (namespaced ? strcmp(kind, "Role") && strcmp(kind, "ClusterRole")
                   : strcmp(kind, "ClusterRole") != 0)
        fe_not_supported(e, "roleRef.kind", kind, namespaced ? ROLE_KINDS : CLUSTER_KINDS);
    if (!name[0]) {
        fe_add(e, FE_REQUIRED, "roleRef.name", NULL, NULL);
    } else {
        struct ck_errlist l = CK_ERRLIST_INIT;
        ck_validate_path_segment_name(name, false, &l);
        fu_add_msgs(e, "roleRef.name", name, &l);
    }
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, fu_get(obj, "subjects"))
    {
        CK_AUTOFREE char *p = ck_xasprintf("subjects[%d]", i++);
        validate_subject(s, namespaced, p, e);
    }
}

static void rbac_validate(const cJSON *obj, struct field_errors *e)
{
    switch (kind_of(obj)) {
    case ROLE:
        validate_role(obj, true, e);
        break;
    case CLUSTER_ROLE:
        validate_role(obj, false, e);
        validate_aggregation_rule(obj, e);
        break;
    case ROLE_BINDING:
        validate_binding(obj, true, e);
        break;
    case CLUSTER_ROLE_BINDING:
        validate_binding(obj, false, e);
        break;
    case RBAC_OTHER:
    default:
        break;
    }
}

/* "rbac.RoleRef{APIGroup:"...", Kind:"...", Name:"..."}" */
static void go_role_ref(struct ck_buf *b, const cJSON *ref)
{
    static const char *const FIELDS[] = {"APIGroup", "apiGroup", "Kind", "kind",
                                         "Name",     "name",     NULL};
    fu_go_struct(b, "rbac.RoleRef", ref, FIELDS);
}

/* A binding's roleRef never changes: delete and recreate the binding instead. */
static void rbac_validate_update(const cJSON *obj, const cJSON *old, struct field_errors *e)
{
    enum rbac_kind k = kind_of(obj);
    if (k != ROLE_BINDING && k != CLUSTER_ROLE_BINDING)
        return;
    const cJSON *a = fu_get(obj, "roleRef"), *b = fu_get(old, "roleRef");
    static const char *const KEYS[] = {"apiGroup", "kind", "name", NULL};
    for (size_t i = 0; KEYS[i]; i++) {
        if (strcmp(fu_str(a, KEYS[i]), fu_str(b, KEYS[i]))) {
            fu_add_go(e, FE_INVALID, "roleRef", go_role_ref, a, "cannot change roleRef");
            return;
        }
    }
}

const struct strategy strategy_rbac = {
    .flags = 0,
    .name_rule = NAME_PATH_SEGMENT,
    .defaults = rbac_defaults,
    .validate = rbac_validate,
    .validate_update = rbac_validate_update,
};
