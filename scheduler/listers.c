/* listers.c - PodTopologySpread's default selector and the PDB view preemption reads, from
 * informer stores. See listers.h. */
#include "listers.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"

/* Copies the string members of `set` into `into` (later keys win, as labels.Merge). */
static void merge_set(cJSON *into, const cJSON *set)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, set)
    {
        if (!cJSON_IsString(it) || !it->string)
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(into, it->string);
        cJSON_AddStringToObject(into, it->string, it->valuestring);
    }
}

/* The Services of the pod's namespace whose (non-nil) selector matches the pod's labels. */
static void merge_services(cJSON *set, struct ck_store *services, const char *ns,
                           const cJSON *pod_labels)
{
    if (!services)
        return;
    struct ck_obj_list l = CK_OBJ_LIST_INIT;
    ck_store_list_namespace(services, ns, &l);
    for (size_t i = 0; i < l.n; i++) {
        const cJSON *svc = l.items[i]->json;
        if (strcmp(ck_json_get_string(svc, "metadata.namespace", ""), ns) != 0)
            continue;
        const cJSON *sel = ck_json_get(svc, "spec.selector");
        if (!cJSON_IsObject(sel))
            continue;
        struct ck_label_selector *s = ck_label_selector_from_set(sel);
        if (ck_label_selector_matches(s, pod_labels))
            merge_set(set, sel);
        ck_label_selector_free(s);
    }
    ck_obj_list_free(&l);
}

/* The pod's controller ownerReference (controller: true), or NULL. */
static const cJSON *controller_ref(const cJSON *pod)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, ck_json_get(pod, "metadata.ownerReferences"))
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "controller")))
            return it;
    }
    return NULL;
}

/* The object named by the reference in the pod's namespace (a new reference) or NULL. */
static struct ck_obj *owner_get(struct ck_store *s, const char *ns, const cJSON *ref)
{
    const char *name = ck_json_get_string(ref, "name", NULL);
    if (!s || !name)
        return NULL;
    char *key = ck_xasprintf("%s/%s", ns, name);
    struct ck_obj *o = ck_store_get(s, key);
    free(key);
    return o;
}

/* Adds the requirements of a metav1.LabelSelector to sel (nothing for nil/invalid ones). */
static void add_requirements(struct ck_label_selector *sel, const cJSON *label_selector)
{
    struct ck_label_selector *other = NULL;
    if (ck_label_selector_from_json(label_selector, &other, NULL) < 0 || !other)
        return;
    if (!other->nothing) {
        for (size_t i = 0; i < other->n; i++) {
            const struct ck_label_requirement *r = &other->reqs[i];
            (void)ck_label_selector_add(sel, r->key, r->op, (const char *const *)r->values,
                                        r->nvalues, NULL);
        }
    }
    ck_label_selector_free(other);
}

struct ck_label_selector *sched_default_selector(const struct sched_listers *l, const cJSON *pod)
{
    const char *ns = ck_json_get_string(pod, "metadata.namespace", "");
    const cJSON *labels = ck_json_get(pod, "metadata.labels");
    cJSON *set = cJSON_CreateObject();
    if (l)
        merge_services(set, l->services, ns, labels);
    const cJSON *ref = l ? controller_ref(pod) : NULL;
    const char *api = ck_json_get_string(ref, "apiVersion", "");
    const char *kind = ck_json_get_string(ref, "kind", "");
    struct ck_obj *owner = NULL;
    bool is_rc = false;
    if (ref && strcmp(api, "v1") == 0 && strcmp(kind, "ReplicationController") == 0) {
        owner = owner_get(l->rcs, ns, ref);
        is_rc = true;
    } else if (ref && strcmp(api, "apps/v1") == 0 && strcmp(kind, "ReplicaSet") == 0) {
        owner = owner_get(l->rss, ns, ref);
    } else if (ref && strcmp(api, "apps/v1") == 0 && strcmp(kind, "StatefulSet") == 0) {
        owner = owner_get(l->sts, ns, ref);
    }
    if (owner && is_rc)
        merge_set(set, ck_json_get(owner->json, "spec.selector"));
    struct ck_label_selector *sel = ck_label_selector_from_set(set);
    cJSON_Delete(set);
    if (owner && !is_rc)
        add_requirements(sel, ck_json_get(owner->json, "spec.selector"));
    ck_obj_unref(owner);
    return sel;
}

void sched_pdb_view_clear(struct sched_pdb_view *v)
{
    cJSON_Delete(v->arr); /* the items are references: the trees stay with the objects */
    v->arr = NULL;
    ck_obj_list_free(&v->objs);
}

const cJSON *sched_pdb_view_take(struct sched_pdb_view *v, struct ck_store *pdbs)
{
    sched_pdb_view_clear(v);
    v->arr = cJSON_CreateArray();
    if (pdbs)
        ck_store_list(pdbs, &v->objs);
    for (size_t i = 0; i < v->objs.n; i++)
        cJSON_AddItemReferenceToArray(v->arr, v->objs.items[i]->json); /* never changed */
    return v->arr;
}
