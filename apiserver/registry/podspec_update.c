/* podspec_update.c - what updates compare and drop: DropDisabledPodFields for v1.32's default
 * feature gates, and Go-semantics equality for "field is immutable" checks. */
#include "podspec_internal.h"

#include "json.h"
#include "mem.h"

/* ---- fields of disabled features ---- */

static bool containers_use(const cJSON *spec, const char *key, const char *sub)
{
    static const char *const LISTS[] = {"containers", "initContainers", "ephemeralContainers"};
    for (size_t l = 0; l < CK_ARRAY_SIZE(LISTS); l++) {
        EACH_OBJ(c, i, fu_get(spec, LISTS[l]))
        {
            (void)i;
            const cJSON *v = fu_get(c, key);
            if (sub)
                v = fu_get(v, sub);
            if (v && !(cJSON_IsArray(v) && !v->child))
                return true;
        }
    }
    return false;
}

static void containers_drop(cJSON *spec, const char *key, const char *sub)
{
    static const char *const LISTS[] = {"containers", "initContainers", "ephemeralContainers"};
    for (size_t l = 0; l < CK_ARRAY_SIZE(LISTS); l++) {
        EACH_OBJ(c, i, fu_get(spec, LISTS[l]))
        {
            (void)i;
            cJSON *holder = sub ? fu_get(c, key) : c;
            if (cJSON_IsObject(holder))
                cJSON_DeleteItemFromObjectCaseSensitive(holder, sub ? sub : key);
        }
    }
}

static bool volumes_use_image(const cJSON *spec)
{
    EACH_OBJ(v, i, fu_get(spec, "volumes"))
    {
        (void)i;
        if (fu_get(v, "image"))
            return true;
    }
    return false;
}

void podspec_drop_disabled(cJSON *spec, const cJSON *old_spec)
{
    if (!cJSON_IsObject(spec))
        return;
    static const char *const SPEC_FIELDS[] = {"resources", "hostUsers", "resourceClaims"};
    for (size_t k = 0; k < CK_ARRAY_SIZE(SPEC_FIELDS); k++)
        if (!fu_get(old_spec, SPEC_FIELDS[k]))
            cJSON_DeleteItemFromObjectCaseSensitive(spec, SPEC_FIELDS[k]);
    static const char *const SC_FIELDS[] = {"supplementalGroupsPolicy", "seLinuxChangePolicy"};
    cJSON *sc = fu_get(spec, "securityContext");
    for (size_t k = 0; k < CK_ARRAY_SIZE(SC_FIELDS); k++)
        if (cJSON_IsObject(sc) && !fu_get(fu_get(old_spec, "securityContext"), SC_FIELDS[k]))
            cJSON_DeleteItemFromObjectCaseSensitive(sc, SC_FIELDS[k]);
    if (!containers_use(old_spec, "resizePolicy", NULL))
        containers_drop(spec, "resizePolicy", NULL);
    if (!containers_use(old_spec, "resources", "claims"))
        containers_drop(spec, "resources", "claims");
    if (!volumes_use_image(old_spec)) {
        EACH_OBJ(v, i, fu_get(spec, "volumes"))
        {
            (void)i;
            cJSON_DeleteItemFromObjectCaseSensitive(v, "image");
        }
    }
}

/* ---- Go-semantics equality ---- */

/* Members that are Go pointers (or non-omitempty), where a zero value differs from "unset". */
static const char *const POINTER_FIELDS[] = {
    "automountServiceAccountToken",
    "shareProcessNamespace",
    "setHostnameAsFQDN",
    "hostUsers",
    "priority",
    "preemptionPolicy",
    "runtimeClassName",
    "enableServiceLinks",
    "activeDeadlineSeconds",
    "terminationGracePeriodSeconds",
    "securityContext",
    "affinity",
    "dnsConfig",
    "os",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "privileged",
    "readOnlyRootFilesystem",
    "allowPrivilegeEscalation",
    "fsGroup",
    "defaultMode",
    "mode",
    "optional",
    "readOnly",
    "replicas",
    "immutable",
    "restartPolicy",
    "tolerationSeconds",
    "expirationSeconds",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "internalTrafficPolicy",
    "ipFamilyPolicy",
    "allocateLoadBalancerNodePorts",
    "loadBalancerClass",
    "sessionAffinityConfig",
    "timeoutSeconds",
    NULL,
};

static bool go_zero(const cJSON *v)
{
    if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
        return true;
    if (cJSON_IsNumber(v))
        return v->valuedouble == 0;
    if (cJSON_IsString(v))
        return !v->valuestring[0];
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        return !v->child;
    return false;
}

static bool go_equal_depth(const cJSON *a, const cJSON *b, int depth);

/* Equality of one member present on at most one side. */
static bool go_member_equal(const char *key, const cJSON *a, const cJSON *b, int depth)
{
    bool an = !a || cJSON_IsNull(a), bn = !b || cJSON_IsNull(b);
    if (an && bn)
        return true;
    if (an || bn) {
        if (fu_in_list(POINTER_FIELDS, key))
            return false;
        return go_zero(an ? b : a);
    }
    return go_equal_depth(a, b, depth + 1);
}

static bool go_equal_depth(const cJSON *a, const cJSON *b, int depth)
{
    if (depth > CK_JSON_MAX_DEPTH)
        return false;
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        for (const cJSON *x = a->child; x; x = x->next)
            if (!go_member_equal(x->string, x, cJSON_GetObjectItemCaseSensitive(b, x->string),
                                 depth))
                return false;
        for (const cJSON *y = b->child; y; y = y->next)
            if (!cJSON_GetObjectItemCaseSensitive(a, y->string) &&
                !go_member_equal(y->string, NULL, y, depth))
                return false;
        return true;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!go_equal_depth(x, y, depth + 1))
                return false;
        return !x && !y;
    }
    if ((cJSON_IsArray(a) || cJSON_IsObject(a)) && cJSON_IsNull(b))
        return !a->child;
    if ((cJSON_IsArray(b) || cJSON_IsObject(b)) && cJSON_IsNull(a))
        return !b->child;
    return ck_json_equal(a, b);
}

bool podspec_go_equal(const cJSON *a, const cJSON *b)
{
    if ((!a || cJSON_IsNull(a)) && (!b || cJSON_IsNull(b)))
        return true;
    if (!a || !b)
        return go_zero(a ? a : b);
    return go_equal_depth(a, b, 0);
}
