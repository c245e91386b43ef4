/* priority.c - Priority admission and the built-in PriorityClasses (see priority.h). */
#include "priority.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "objmeta.h"
#include "server.h"
#include "store.h"

static const struct {
    const char *name;
    int64_t value;
    const char *description;
} BUILTIN[] = {
    {"system-node-critical", 2000001000, "Used for system critical pods that must not be moved "
                                         "from their current node."},
    {"system-cluster-critical", 2000000000, "Used for system critical pods that must run in the "
                                            "cluster, but can be moved to another node if "
                                            "necessary."},
};

static const struct resource *classes(void)
{
    return resource_find("scheduling.k8s.io", "v1", "priorityclasses");
}

/* The globalDefault class, or NULL (caller frees). */
static cJSON *default_class(struct apiserver *s)
{
    struct store_list_opts o = {.ns = ""};
    struct store_list_result res;
    if (store_list(&s->store, classes(), &o, &res, NULL) < 0)
        return NULL;
    cJSON *found = NULL;
    const cJSON *pc;
    cJSON_ArrayForEach(pc, res.items)
    {
        if (cJSON_IsTrue(ck_json_get(pc, "globalDefault")))
            found = ck_json_dup(pc);
    }
    store_list_result_free(&res);
    return found;
}

int priority_admit_pod(struct apiserver *s, cJSON *pod, struct ck_error *err)
{
    const char *name = ck_json_get_string(pod, "spec.priorityClassName", "");
    cJSON *pc = NULL;
    if (name[0]) {
        struct ck_error e = CK_ERROR_INIT;
        int rc = store_get(&s->store, classes(), "", name, &pc, &e);
        ck_error_clear(&e);
        if (rc < 0)
            return ck_error_set(err, 403, CK_REASON_FORBIDDEN,
                                "pods \"%s\" is forbidden: no PriorityClass with name %s was found",
                                meta_name(pod), name);
    } else {
        pc = default_class(s);
    }
    int64_t value = pc ? ck_json_get_int64(pc, "value", 0) : 0;
    const cJSON *asked = ck_json_get(pod, "spec.priority");
    if (asked && ck_json_get_int64(pod, "spec.priority", 0) != value) {
        cJSON_Delete(pc);
        return ck_error_set(err, 403, CK_REASON_FORBIDDEN,
                            "pods \"%s\" is forbidden: the integer value of priority (%lld) must "
                            "not be provided in pod spec; priority admission controller computed "
                            "%lld from the given PriorityClass name",
                            meta_name(pod), (long long)ck_json_get_int64(pod, "spec.priority", 0),
                            (long long)value);
    }
    ck_json_set_int64(pod, "spec.priority", value);
    if (pc) {
        if (!name[0])
            ck_json_set_string(pod, "spec.priorityClassName", meta_name(pc));
        ck_json_set_string(pod, "spec.preemptionPolicy",
                           ck_json_get_string(pc, "preemptionPolicy", "PreemptLowerPriority"));
    } else {
        ck_json_set_string(pod, "spec.preemptionPolicy", "PreemptLowerPriority");
    }
    cJSON_Delete(pc);
    return 0;
}

int priority_bootstrap(struct apiserver *s, struct ck_error *err)
{
    for (size_t i = 0; i < sizeof(BUILTIN) / sizeof(BUILTIN[0]); i++) {
        cJSON *cur = NULL;
        struct ck_error e = CK_ERROR_INIT;
        int rc = store_get(&s->store, classes(), "", BUILTIN[i].name, &cur, &e);
        cJSON_Delete(cur);
        bool missing = rc < 0 && e.code == 404;
        ck_error_clear(&e);
        if (!missing)
            continue;
        cJSON *pc = cJSON_CreateObject();
        cJSON_AddStringToObject(pc, "kind", "PriorityClass");
        cJSON_AddStringToObject(pc, "apiVersion", "scheduling.k8s.io/v1");
        meta_set_str(pc, "name", BUILTIN[i].name);
        ck_json_set_int64(pc, "value", BUILTIN[i].value);
        ck_json_set_string(pc, "description", BUILTIN[i].description);
        ck_json_set_string(pc, "preemptionPolicy", "PreemptLowerPriority");
        meta_prepare_create(classes(), pc);
        rc = store_create(&s->store, classes(), pc, &e);
        cJSON_Delete(pc);
        if (rc < 0 && e.code != 409) {
            ck_error_set(err, e.code, e.reason, "%s", e.message);
            ck_error_clear(&e);
            return rc;
        }
        ck_error_clear(&e);
    }
    return 0;
}
