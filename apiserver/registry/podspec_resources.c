/* podspec_resources.c - resource requirements: the pod's QoS class (GetPodQOS) and
 * ValidateResourceRequirements with its resource name and quantity rules (hugepages,
 * extended resources, overcommit), v1.32. */
#include "podspec_internal.h"

#include <string.h>

#include "buf.h"
#include "mem.h"
#include "quantity.h"

/* ---- QoS (upstream's GetPodQOS / ComputePodQOS) ---- */

struct qos_sum {
    bool have;
    struct ck_quantity q;
};

static void qos_add(struct qos_sum *s, const struct ck_quantity *q)
{
    if (!s->have) {
        s->q = *q;
        s->have = true;
    } else if (ck_quantity_add(&s->q, q) < 0) {
        s->q = *q; /* beyond 96 digits: cannot happen with real quantities */
    }
}

const char *podspec_qos_class(const cJSON *spec)
{
    static const char *const NAMES[] = {"cpu", "memory"};
    struct qos_sum req[2] = {{0}}, lim[2] = {{0}};
    bool guaranteed = true;
    static const char *const LISTS[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        EACH_OBJ(c, i, fu_get(spec, LISTS[l]))
        {
            (void)i;
            const cJSON *res = fu_get(c, "resources");
            int found = 0;
            for (int r = 0; r < 2; r++) {
                struct ck_quantity q;
                const cJSON *v = fu_get(fu_get(res, "requests"), NAMES[r]);
                if (v && ck_quantity_parse_json(v, &q, NULL) == 0 && ck_quantity_sign(&q) > 0)
                    qos_add(&req[r], &q);
                v = fu_get(fu_get(res, "limits"), NAMES[r]);
                if (v && ck_quantity_parse_json(v, &q, NULL) == 0 && ck_quantity_sign(&q) > 0) {
                    qos_add(&lim[r], &q);
                    found++;
                }
            }
            if (found < 2)
                guaranteed = false;
        }
    }
    int nreq = req[0].have + req[1].have, nlim = lim[0].have + lim[1].have;
    if (!nreq && !nlim)
        return "BestEffort";
    if (guaranteed) {
        for (int r = 0; r < 2; r++)
            if (req[r].have && (!lim[r].have || ck_quantity_cmp(&lim[r].q, &req[r].q) != 0))
                guaranteed = false;
    }
    return guaranteed && nreq == nlim ? "Guaranteed" : "Burstable";
}

/* ---- resources ---- */

static bool is_hugepages(const char *n)
{
    return !strncmp(n, "hugepages-", 10);
}

static bool is_native_resource(const char *n)
{
    return !strchr(n, '/') || strstr(n, "kubernetes.io/");
}

static bool is_extended_resource(const char *n)
{
    if (is_native_resource(n) || !strncmp(n, "requests.", 9))
        return false;
    CK_AUTOFREE char *q = ck_xasprintf("requests.%s", n);
    return ck_is_qualified_name(q, NULL) == 0;
}

static bool overcommit_allowed(const char *n)
{
    return is_native_resource(n) && !is_hugepages(n);
}

static const char *const STANDARD_RESOURCES[] = {
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "quotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
    NULL,
};

/* validateContainerResourceName; names print unquoted (ResourceName is a Stringer). */
static void container_resource_name(struct field_errors *e, const char *name, const char *field)
{
    struct ck_errlist l = CK_ERRLIST_INIT;
    ck_is_qualified_name(name, &l);
    for (size_t i = 0; i < l.n; i++)
        fe_add_raw(e, FE_INVALID, field, name, "%s", l.items[i]);
    bool bad = l.n > 0;
    ck_errlist_free(&l);
    if (!bad && !strchr(name, '/') && !fu_in_list(STANDARD_RESOURCES, name) &&
        !is_hugepages(name) && strncmp(name, "requests.hugepages-", 19))
        fe_add_raw(e, FE_INVALID, field, name,
                   "must be a standard resource type or fully qualified");
    if (!strchr(name, '/')) {
        if (strcmp(name, "cpu") && strcmp(name, "memory") && strcmp(name, "ephemeral-storage") &&
            !is_hugepages(name))
            fe_add_raw(e, FE_INVALID, field, name, "must be a standard resource for containers");
    } else if (!is_native_resource(name) && !is_extended_resource(name)) {
        fe_add_raw(e, FE_INVALID, field, name, "doesn't follow extended resource name standard");
    }
}

/* ValidateResourceQuantityValue: non-negative, whole for integer resources. Returns false
 * when the value cannot be parsed (reported). */
static bool quantity_value(struct field_errors *e, const char *name, const cJSON *v,
                           const char *field, struct ck_quantity *q)
{
    struct ck_error err = CK_ERROR_INIT;
    if (ck_quantity_parse_json(v, q, &err) < 0) {
        if (cJSON_IsString(v))
            fe_add_str(e, FE_INVALID, field, v->valuestring, "%s", err.message);
        else
            fe_add(e, FE_INVALID, field, v, "%s", err.message);
        ck_error_clear(&err);
        return false;
    }
    char s[CK_QUANTITY_STR_MAX];
    ck_quantity_format(q, s, sizeof(s));
    if (ck_quantity_sign(q) < 0)
        fe_add_str(e, FE_INVALID, field, s, PS_NEGATIVE_MSG);
    static const char *const INTEGER[] = {"pods",
                                          "quotas",
                                          "services",
                                          "replicationcontrollers",
                                          "secrets",
                                          "configmaps",
                                          "persistentvolumeclaims",
                                          "services.nodeports",
                                          "services.loadbalancers",
                                          NULL};
    if ((fu_in_list(INTEGER, name) || is_extended_resource(name)) &&
        ck_quantity_milli_value(q) % 1000 != 0)
        fe_add_raw(e, FE_INVALID, field, s, "must be an integer");
    return true;
}

/* hugepages-<size>: the value must be a whole multiple of the page size. */
static void hugepage_value(struct field_errors *e, const char *name, const struct ck_quantity *q,
                           const char *field)
{
    if (!is_hugepages(name))
        return;
    struct ck_quantity page;
    bool ok = ck_quantity_parse(name + 10, &page, NULL) == 0 && ck_quantity_sign(&page) > 0 &&
              ck_quantity_milli_value(&page) % 1000 == 0;
    if (ok) {
        int64_t ps = ck_quantity_value(&page);
        ok = ps > 0 && ck_quantity_value(q) % ps == 0;
    }
    if (!ok) {
        char s[CK_QUANTITY_STR_MAX];
        ck_quantity_format(q, s, sizeof(s));
        fe_add_str(e, FE_INVALID, field, s, "%s is not positive integer multiple of %s", s, name);
    }
}

void ps_validate_resources(struct field_errors *e, const cJSON *res, const char *base,
                           const struct ps_vctx *c)
{
    const cJSON *lims = fu_get(res, "limits"), *reqs = fu_get(res, "requests");
    CK_AUTOFREE char *lp = ck_xasprintf("%s.limits", base);
    CK_AUTOFREE char *rp = ck_xasprintf("%s.requests", base);
    bool lim_cm = false, req_cm = false, lim_hp = false, req_hp = false;
    if (cJSON_IsObject(lims)) {
        for (const cJSON *it = lims->child; it; it = it->next) {
            CK_AUTOFREE char *f = ck_xasprintf("%s[%s]", lp, it->string);
            container_resource_name(e, it->string, f);
            struct ck_quantity q;
            if (!quantity_value(e, it->string, it, f, &q))
                continue;
            if (is_hugepages(it->string)) {
                lim_hp = true;
                hugepage_value(e, it->string, &q, f);
            }
            lim_cm = lim_cm || !strcmp(it->string, "cpu") || !strcmp(it->string, "memory");
        }
    }
    if (cJSON_IsObject(reqs)) {
        for (const cJSON *it = reqs->child; it; it = it->next) {
            CK_AUTOFREE char *f = ck_xasprintf("%s[%s]", rp, it->string);
            container_resource_name(e, it->string, f);
            struct ck_quantity q, l;
            if (!quantity_value(e, it->string, it, f, &q))
                continue;
            const cJSON *lv = fu_get(lims, it->string);
            char qs[CK_QUANTITY_STR_MAX], ls[CK_QUANTITY_STR_MAX];
            ck_quantity_format(&q, qs, sizeof(qs));
            if (lv && ck_quantity_parse_json(lv, &l, NULL) == 0) {
                ck_quantity_format(&l, ls, sizeof(ls));
                int cmp = ck_quantity_cmp(&q, &l);
                if (cmp != 0 && !overcommit_allowed(it->string))
                    fe_add_str(e, FE_INVALID, rp, qs, "must be equal to %s limit of %s", it->string,
                               ls);
                else if (cmp > 0)
                    fe_add_str(e, FE_INVALID, rp, qs,
                               "must be less than or equal to %s limit of %s", it->string, ls);
            } else if (!lv && !overcommit_allowed(it->string)) {
                fe_add(e, FE_REQUIRED, lp, NULL,
                       "Limit must be set for non overcommitable resources");
            }
            if (is_hugepages(it->string)) {
                req_hp = true;
                hugepage_value(e, it->string, &q, f);
            }
            req_cm = req_cm || !strcmp(it->string, "cpu") || !strcmp(it->string, "memory");
        }
    }
    if (!lim_cm && !req_cm && (req_hp || lim_hp))
        fe_add(e, FE_FORBIDDEN, base, NULL, "HugePages require cpu or memory");
    cJSON *names = cJSON_CreateObject();
    EACH_OBJ(cl, i, fu_get(res, "claims"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.claims[%d]", base, i);
        const char *name = fu_str(cl, "name");
        if (!name[0]) {
            fe_add(e, FE_REQUIRED, f, NULL, NULL);
            continue;
        }
        if (fu_seen(names, name))
            fe_add_str(e, FE_DUPLICATE, f, name, NULL);
        if (!cJSON_GetObjectItemCaseSensitive(c->claims, name)) {
            struct ck_buf b = CK_BUF_INIT;
            ck_buf_puts(&b, "must be one of the names in pod.spec.resourceClaims");
            if (!c->claims->child) {
                ck_buf_puts(&b, " which is empty");
            } else {
                ck_buf_puts(&b, ": ");
                int k = 0;
                for (const cJSON *x = c->claims->child; x; x = x->next)
                    ck_buf_printf(&b, "%s%s", k++ ? ", " : "", x->string);
            }
            fe_add_str(e, FE_NOT_FOUND, f, name, "%s", ck_buf_str(&b));
            ck_buf_free(&b);
        }
    }
    cJSON_Delete(names);
}
