/* gc.c - the garbage-collector-controller, after upstream's GarbageCollector: objects point at
 * their owners with metadata.ownerReferences; informers on the resources below keep an index
 * "owner uid -> dependents" from which the owner graph is read.
 *   - background: an object all of whose owners are gone (absent from the cache and confirmed
 *     by a live GET: 404 or another uid) is deleted; dangling references next to a live owner
 *     are removed; as upstream, both are decided on the dependent as read live, not cached;
 *   - foreground: an owner carrying the "foregroundDeletion" finalizer gets its dependents
 *     deleted and loses the finalizer once no blockOwnerDeletion dependent is left;
 *   - orphan: an owner carrying the "orphan" finalizer has its references removed from every
 *     dependent, then loses the finalizer.
 *   - an owner reference whose uid is an object observed in another namespace (or any
 *     namespaced object, for a cluster-scoped dependent) is a Warning OwnerRefInvalidNamespace
 *     on the dependent, once per observation as upstream's graph builder records it (when the
 *     reference appears next to an observed owner, or the owner is first observed); a
 *     cluster-scoped dependent naming a namespaced owner kind is never collected.
 * Queue keys are "<row>|<namespace>/<name>" where row indexes gc_resources. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cm.h"
#include "controller.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "strmap.h"

#define GC_INDEX "gc-owner-uid"

struct gc_resource {
    struct ck_gvr gvr;
    const char *kind;
    bool namespaced;
};

/* The resources whose objects are owners or dependents (upstream discovers every resource). */
static const struct gc_resource gc_resources[] = {
    {{"", "v1", "pods"}, "Pod", true},
    {{"", "v1", "configmaps"}, "ConfigMap", true},
    {{"", "v1", "secrets"}, "Secret", true},
    {{"", "v1", "services"}, "Service", true},
    {{"", "v1", "serviceaccounts"}, "ServiceAccount", true},
    {{"", "v1", "replicationcontrollers"}, "ReplicationController", true},
    {{"", "v1", "persistentvolumeclaims"}, "PersistentVolumeClaim", true},
    {{"apps", "v1", "replicasets"}, "ReplicaSet", true},
    {{"apps", "v1", "deployments"}, "Deployment", true},
    {{"apps", "v1", "statefulsets"}, "StatefulSet", true},
    {{"apps", "v1", "daemonsets"}, "DaemonSet", true},
    {{"apps", "v1", "controllerrevisions"}, "ControllerRevision", true},
    {{"batch", "v1", "jobs"}, "Job", true},
    {{"batch", "v1", "cronjobs"}, "CronJob", true},
    {{"discovery.k8s.io", "v1", "endpointslices"}, "EndpointSlice", true},
    {{"", "v1", "namespaces"}, "Namespace", false},
    {{"", "v1", "nodes"}, "Node", false},
};
#define GC_NRES (sizeof(gc_resources) / sizeof(gc_resources[0]))

static struct {
    struct ck_client *client;
    struct ck_controller *ctl;
    struct ck_informer *inf[GC_NRES];
    bool served[GC_NRES];
    size_t rows[GC_NRES];               /* handler contexts: &rows[i] == i */
    struct ck_event_recorder *recorder; /* may be NULL; freed at exit */
    pthread_mutex_t mu;        /* guards observed; serializes the handlers' invalid-ref checks */
    struct ck_strmap observed; /* uid -> struct gc_seen: objects whose add handler ran */
} gc = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Where an observed object lives (upstream's observed graph node identity, reduced). */
struct gc_seen {
    size_t row;
    char ns[64]; /* namespace names are DNS labels: at most 63 bytes */
};

/* Index: the uids of an object's owners. */
static void gc_index_owner_uids(const cJSON *obj, struct ck_strlist *out)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, ck_json_get(obj, "metadata.ownerReferences"))
    {
        const char *uid = ck_json_get_string(ref, "uid", "");
        if (uid[0])
            ck_strlist_add(out, uid);
    }
}

static void gc_enqueue_obj(size_t row, const cJSON *obj)
{
    const char *ns = ck_json_get_string(obj, "metadata.namespace", "");
    const char *name = ck_json_get_string(obj, "metadata.name", "");
    if (!name[0])
        return;
    char *key = ck_xasprintf("%zu|%s/%s", row, ns, name);
    ck_controller_enqueue(gc.ctl, key);
    free(key);
}

/* Every cached object (of any resource) naming uid as an owner; caller frees each list. */
static void gc_dependents(const char *uid, struct ck_obj_list out[GC_NRES])
{
    for (size_t i = 0; i < GC_NRES; i++) {
        out[i] = (struct ck_obj_list)CK_OBJ_LIST_INIT;
        if (gc.served[i] && uid[0])
            ck_store_by_index(ck_informer_store(gc.inf[i]), GC_INDEX, uid, &out[i]);
    }
}

static void gc_dependents_free(struct ck_obj_list l[GC_NRES])
{
    for (size_t i = 0; i < GC_NRES; i++)
        ck_obj_list_free(&l[i]);
}

/* The owners of obj and obj itself when its deletion is pending. */
static void gc_enqueue_related(size_t row, const cJSON *obj, bool deleted)
{
    if (!deleted)
        gc_enqueue_obj(row, obj);
    /* a dependent changed or went away: its owners may be waiting for it (foreground) */
    const char *ns = ck_json_get_string(obj, "metadata.namespace", "");
    const cJSON *ref;
    cJSON_ArrayForEach(ref, ck_json_get(obj, "metadata.ownerReferences"))
    {
        const char *av = ck_json_get_string(ref, "apiVersion", "");
        const char *kind = ck_json_get_string(ref, "kind", "");
        const char *slash = strchr(av, '/');
        size_t glen = slash ? (size_t)(slash - av) : 0;
        for (size_t i = 0; i < GC_NRES; i++) {
            const struct gc_resource *r = &gc_resources[i];
            if (strcmp(r->kind, kind) || strlen(r->gvr.group) != glen ||
                strncmp(r->gvr.group, av, glen))
                continue;
            char *key = ck_xasprintf("%zu|%s/%s", i, r->namespaced ? ns : "",
                                     ck_json_get_string(ref, "name", ""));
            ck_controller_enqueue(gc.ctl, key);
            free(key);
        }
    }
    /* an owner went away or changed: its dependents must be looked at */
    struct ck_obj_list deps[GC_NRES];
    gc_dependents(ck_json_get_string(obj, "metadata.uid", ""), deps);
    for (size_t i = 0; i < GC_NRES; i++)
        for (size_t j = 0; j < deps[i].n; j++)
            gc_enqueue_obj(i, deps[i].items[j]->json);
    gc_dependents_free(deps);
}

/* upstream's reportInvalidNamespaceOwnerRef: dependent (of row) names as owner ref's uid an
 * object living in another namespace. */
static void gc_report_invalid_ns(size_t row, const cJSON *dep, const cJSON *ref)
{
    const struct gc_resource *r = &gc_resources[row];
    const char *ns = ck_json_get_string(dep, "metadata.namespace", "");
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "kind", r->kind);
    CK_AUTOFREE char *av = r->gvr.group[0] ? ck_xasprintf("%s/%s", r->gvr.group, r->gvr.version)
                                           : ck_xstrdup(r->gvr.version);
    cJSON_AddStringToObject(obj, "apiVersion", av);
    if (ns[0])
        cJSON_AddStringToObject(obj, "namespace", ns);
    cJSON_AddStringToObject(obj, "name", ck_json_get_string(dep, "metadata.name", ""));
    cJSON_AddStringToObject(obj, "uid", ck_json_get_string(dep, "metadata.uid", ""));
    ck_vinfo(2, "item references an owner but does not match namespaces item=\"%s/%s\"", ns,
             ck_json_get_string(dep, "metadata.name", ""));
    ck_event_recordf(gc.recorder, obj, CK_EVENT_WARNING, "OwnerRefInvalidNamespace",
                     "ownerRef [%s/%s, namespace: %s, name: %s, uid: %s] does not exist in "
                     "namespace \"%s\"",
                     ck_json_get_string(ref, "apiVersion", ""), ck_json_get_string(ref, "kind", ""),
                     ns, ck_json_get_string(ref, "name", ""), ck_json_get_string(ref, "uid", ""),
                     ns);
    cJSON_Delete(obj);
}

/* True when seen (an observed owner) is namespaced and not in namespace ns. */
static bool gc_seen_elsewhere(const struct gc_seen *seen, const char *ns)
{
    return seen && gc_resources[seen->row].namespaced && strcmp(seen->ns, ns) != 0;
}

static bool gc_refs_have_uid(const cJSON *refs, const char *uid)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, refs)
    {
        if (!strcmp(ck_json_get_string(ref, "uid", ""), uid))
            return true;
    }
    return false;
}

/* The graph-builder part of an add or update of obj (old: its previous state or NULL): an owner
 * reference added next to an observed owner in another namespace is reported (the first one,
 * as upstream stops at the first suspicious reference), and so is every observed dependent in
 * another namespace when obj is observed for the first time. gc.mu makes each pair reported
 * once even when the two informers deliver at the same time. */
static void gc_observe(size_t row, const cJSON *old, const cJSON *obj)
{
    const char *uid = ck_json_get_string(obj, "metadata.uid", "");
    const char *ns = ck_json_get_string(obj, "metadata.namespace", "");
    if (!uid[0])
        return;
    pthread_mutex_lock(&gc.mu);
    bool first = !ck_strmap_get(&gc.observed, uid);
    if (first) {
        struct gc_seen *seen = ck_xcalloc(1, sizeof(*seen));
        seen->row = row;
        snprintf(seen->ns, sizeof(seen->ns), "%s", ns);
        ck_strmap_put(&gc.observed, uid, seen);
    }
    const cJSON *oldrefs = old ? ck_json_get(old, "metadata.ownerReferences") : NULL;
    const cJSON *ref;
    cJSON_ArrayForEach(ref, ck_json_get(obj, "metadata.ownerReferences"))
    {
        const char *ouid = ck_json_get_string(ref, "uid", "");
        if (!ouid[0] || gc_refs_have_uid(oldrefs, ouid))
            continue;
        if (gc_seen_elsewhere(ck_strmap_get(&gc.observed, ouid), ns)) {
            gc_report_invalid_ns(row, obj, ref);
            break;
        }
    }
    if (first && gc_resources[row].namespaced) {
        struct ck_obj_list deps[GC_NRES];
        gc_dependents(uid, deps);
        for (size_t i = 0; i < GC_NRES; i++)
            for (size_t j = 0; j < deps[i].n; j++) {
                const cJSON *d = deps[i].items[j]->json;
                /* only dependents already observed: the others report us when they are */
                if (!ck_strmap_get(&gc.observed, ck_json_get_string(d, "metadata.uid", "")) ||
                    !strcmp(ck_json_get_string(d, "metadata.namespace", ""), ns))
                    continue;
                cJSON_ArrayForEach(ref, ck_json_get(d, "metadata.ownerReferences"))
                {
                    if (!strcmp(ck_json_get_string(ref, "uid", ""), uid)) {
                        gc_report_invalid_ns(i, d, ref);
                        break;
                    }
                }
            }
        gc_dependents_free(deps);
    }
    pthread_mutex_unlock(&gc.mu);
}

static void gc_forget(const cJSON *obj)
{
    const char *uid = ck_json_get_string(obj, "metadata.uid", "");
    if (!uid[0])
        return;
    pthread_mutex_lock(&gc.mu);
    free(ck_strmap_remove(&gc.observed, uid));
    pthread_mutex_unlock(&gc.mu);
}

static void gc_on_add(void *ctx, const struct ck_obj *obj, bool initial)
{
    (void)initial;
    gc_observe(*(size_t *)ctx, NULL, obj->json);
    gc_enqueue_related(*(size_t *)ctx, obj->json, false);
}

static void gc_on_update(void *ctx, const struct ck_obj *old, const struct ck_obj *cur)
{
    gc_observe(*(size_t *)ctx, old ? old->json : NULL, cur->json);
    gc_enqueue_related(*(size_t *)ctx, cur->json, false);
}

static void gc_on_delete(void *ctx, const struct ck_obj *obj, bool unknown)
{
    (void)unknown;
    gc_forget(obj->json);
    gc_enqueue_related(*(size_t *)ctx, obj->json, true);
}

static bool gc_has_string(const cJSON *arr, const char *s)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (cJSON_IsString(v) && !strcmp(v->valuestring, s))
            return true;
    }
    return false;
}

/* The owner's state as upstream's attemptToDeleteItem classifies it. */
enum gc_owner_state { GC_OWNER_SOLID, GC_OWNER_DANGLING, GC_OWNER_WAITING };

static int gc_owner_state(const cJSON *ref, const char *ns, enum gc_owner_state *out)
{
    const char *av = ck_json_get_string(ref, "apiVersion", "");
    const char *kind = ck_json_get_string(ref, "kind", "");
    const char *name = ck_json_get_string(ref, "name", "");
    const char *uid = ck_json_get_string(ref, "uid", "");
    const char *slash = strchr(av, '/');
    size_t glen = slash ? (size_t)(slash - av) : 0;
    const struct gc_resource *r = NULL;
    size_t row = 0;
    for (size_t i = 0; i < GC_NRES; i++)
        if (!strcmp(gc_resources[i].kind, kind) && strlen(gc_resources[i].gvr.group) == glen &&
            !strncmp(gc_resources[i].gvr.group, av, glen)) {
            r = &gc_resources[i];
            row = i;
        }
    *out = GC_OWNER_SOLID;
    if (!r || !gc.served[row])
        return 0; /* a kind we cannot look up: never collect on its account */
    cJSON *owner = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_get(gc.client, &r->gvr, r->namespaced ? ns : NULL, name, &owner, &err);
    if (rc < 0) {
        if (err.code == 404) {
            *out = GC_OWNER_DANGLING;
            rc = 0;
        }
        ck_error_clear(&err);
        return rc;
    }
    if (strcmp(ck_json_get_string(owner, "metadata.uid", ""), uid) != 0)
        *out = GC_OWNER_DANGLING;
    else if (ck_json_get(owner, "metadata.deletionTimestamp") &&
             gc_has_string(ck_json_get(owner, "metadata.finalizers"), "foregroundDeletion"))
        *out = GC_OWNER_WAITING;
    cJSON_Delete(owner);
    return 0;
}

/* Merge-patches metadata.ownerReferences to the refs of obj not matching drop (a uid list). */
static int gc_remove_refs(size_t row, const cJSON *obj, const struct ck_strlist *drop)
{
    cJSON *keep = cJSON_CreateArray();
    const cJSON *ref;
    cJSON_ArrayForEach(ref, ck_json_get(obj, "metadata.ownerReferences"))
    {
        bool dropped = false;
        for (size_t i = 0; i < drop->n; i++)
            if (!strcmp(ck_json_get_string(ref, "uid", ""), drop->v[i]))
                dropped = true;
        if (!dropped)
            cJSON_AddItemToArray(keep, cJSON_Duplicate(ref, 1));
    }
    cJSON *patch = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(patch, "metadata");
    if (cJSON_GetArraySize(keep) == 0) {
        cJSON_Delete(keep);
        cJSON_AddNullToObject(meta, "ownerReferences");
    } else
        cJSON_AddItemToObject(meta, "ownerReferences", keep);
    cJSON_AddStringToObject(meta, "uid", ck_json_get_string(obj, "metadata.uid", ""));
    char *body = cJSON_PrintUnformatted(patch);
    cJSON_Delete(patch);
    struct ck_error err = CK_ERROR_INIT;
    const struct gc_resource *r = &gc_resources[row];
    int rc = ck_client_patch(
        gc.client, &r->gvr, ck_json_get_string(obj, "metadata.namespace", NULL),
        ck_json_get_string(obj, "metadata.name", ""), NULL, CK_PATCH_MERGE, body, NULL, NULL, &err);
    free(body);
    if (rc < 0 && err.code == 404)
        rc = 0;
    if (rc < 0)
        ck_err("garbage collector: removing owner references of %s %s failed: %s", r->kind,
               ck_json_get_string(obj, "metadata.name", ""), err.message);
    ck_error_clear(&err);
    return rc;
}

static int gc_delete(size_t row, const cJSON *obj, const char *policy)
{
    const struct gc_resource *r = &gc_resources[row];
    struct ck_delete_opts o = {.propagation_policy = policy,
                               .precondition_uid = ck_json_get_string(obj, "metadata.uid", NULL)};
    struct ck_error err = CK_ERROR_INIT;
    int rc =
        ck_client_delete(gc.client, &r->gvr, ck_json_get_string(obj, "metadata.namespace", NULL),
                         ck_json_get_string(obj, "metadata.name", ""), &o, NULL, &err);
    if (rc < 0 && (err.code == 404 || err.code == 409))
        rc = 0; /* gone, or replaced by an object of the same name */
    if (rc < 0)
        ck_err("garbage collector: deleting %s %s failed: %s", r->kind,
               ck_json_get_string(obj, "metadata.name", ""), err.message);
    else
        ck_info("garbage collector: deleting %s %s/%s (propagation %s)", r->kind,
                ck_json_get_string(obj, "metadata.namespace", ""),
                ck_json_get_string(obj, "metadata.name", ""), policy);
    ck_error_clear(&err);
    return rc;
}

/* Removes one finalizer with an optimistic-concurrency merge patch. */
static int gc_remove_finalizer(size_t row, const cJSON *obj, const char *fin)
{
    cJSON *keep = cJSON_CreateArray();
    const cJSON *f;
    cJSON_ArrayForEach(f, ck_json_get(obj, "metadata.finalizers"))
    {
        if (!cJSON_IsString(f) || strcmp(f->valuestring, fin))
            cJSON_AddItemToArray(keep, cJSON_Duplicate(f, 1));
    }
    cJSON *patch = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(patch, "metadata");
    cJSON_AddStringToObject(meta, "resourceVersion",
                            ck_json_get_string(obj, "metadata.resourceVersion", ""));
    if (cJSON_GetArraySize(keep) == 0) {
        cJSON_Delete(keep);
        cJSON_AddNullToObject(meta, "finalizers");
    } else
        cJSON_AddItemToObject(meta, "finalizers", keep);
    char *body = cJSON_PrintUnformatted(patch);
    cJSON_Delete(patch);
    struct ck_error err = CK_ERROR_INIT;
    const struct gc_resource *r = &gc_resources[row];
    int rc = ck_client_patch(
        gc.client, &r->gvr, ck_json_get_string(obj, "metadata.namespace", NULL),
        ck_json_get_string(obj, "metadata.name", ""), NULL, CK_PATCH_MERGE, body, NULL, NULL, &err);
    free(body);
    if (rc < 0 && err.code == 404)
        rc = 0;
    if (rc < 0)
        ck_err("garbage collector: removing finalizer %s of %s %s failed: %s", fin, r->kind,
               ck_json_get_string(obj, "metadata.name", ""), err.message);
    ck_error_clear(&err);
    return rc;
}

/* orphan: strip our references from every dependent, then drop the "orphan" finalizer. */
static int gc_orphan(size_t row, const cJSON *obj)
{
    const char *uid = ck_json_get_string(obj, "metadata.uid", "");
    struct ck_strlist drop = CK_STRLIST_INIT;
    ck_strlist_add(&drop, uid);
    struct ck_obj_list deps[GC_NRES];
    gc_dependents(uid, deps);
    int rc = 0;
    for (size_t i = 0; i < GC_NRES && rc == 0; i++)
        for (size_t j = 0; j < deps[i].n && rc == 0; j++)
            rc = gc_remove_refs(i, deps[i].items[j]->json, &drop);
    gc_dependents_free(deps);
    ck_strlist_free(&drop);
    return rc < 0 ? rc : gc_remove_finalizer(row, obj, "orphan");
}

static bool gc_blocks(const cJSON *dep, const char *uid)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, ck_json_get(dep, "metadata.ownerReferences"))
    {
        if (!strcmp(ck_json_get_string(ref, "uid", ""), uid) &&
            ck_json_get_bool(ref, "blockOwnerDeletion", false))
            return true;
    }
    return false;
}

/* foreground: delete the dependents; drop "foregroundDeletion" once no blocking one is left. */
static int gc_foreground(size_t row, const cJSON *obj)
{
    const char *uid = ck_json_get_string(obj, "metadata.uid", "");
    struct ck_obj_list deps[GC_NRES];
    gc_dependents(uid, deps);
    int rc = 0;
    size_t blocking = 0;
    for (size_t i = 0; i < GC_NRES; i++)
        for (size_t j = 0; j < deps[i].n; j++) {
            const cJSON *d = deps[i].items[j]->json;
            bool blocks = gc_blocks(d, uid);
            blocking += blocks;
            if (ck_json_get(d, "metadata.deletionTimestamp"))
                continue;
            /* a dependent with other live owners only loses its reference to us: that is
             * handled when the dependent itself is synced */
            gc_enqueue_obj(i, d);
        }
    gc_dependents_free(deps);
    if (blocking == 0)
        rc = gc_remove_finalizer(row, obj, "foregroundDeletion");
    return rc;
}

/* The gc_resources row of an owner reference's kind, or -1 when it is not one we know. */
static int gc_ref_row(const cJSON *ref)
{
    const char *av = ck_json_get_string(ref, "apiVersion", "");
    const char *kind = ck_json_get_string(ref, "kind", "");
    const char *slash = strchr(av, '/');
    size_t glen = slash ? (size_t)(slash - av) : 0;
    for (size_t i = 0; i < GC_NRES; i++)
        if (!strcmp(gc_resources[i].kind, kind) && strlen(gc_resources[i].gvr.group) == glen &&
            !strncmp(gc_resources[i].gvr.group, av, glen))
            return (int)i;
    return -1;
}

static int gc_classify(size_t row, const cJSON *obj);

/* A dependent: collect it when every owner is gone (or waiting for its dependents). As
 * upstream's attemptToDeleteItem, the decision is taken on the object as the apiserver has it
 * now, not as cached: a reference just removed (e.g. by an orphaning owner) must not make the
 * object look like garbage. */
static int gc_check_dependent(size_t row, const cJSON *cached)
{
    const cJSON *refs = ck_json_get(cached, "metadata.ownerReferences");
    if (cJSON_GetArraySize(refs) == 0 || ck_json_get(cached, "metadata.deletionTimestamp"))
        return 0;
    const struct gc_resource *r = &gc_resources[row];
    cJSON *latest = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc =
        ck_client_get(gc.client, &r->gvr,
                      r->namespaced ? ck_json_get_string(cached, "metadata.namespace", "") : NULL,
                      ck_json_get_string(cached, "metadata.name", ""), &latest, &err);
    if (rc < 0) {
        if (err.code == 404)
            rc = 0; /* gone meanwhile: its delete event follows */
        ck_error_clear(&err);
        return rc;
    }
    if (strcmp(ck_json_get_string(latest, "metadata.uid", ""),
               ck_json_get_string(cached, "metadata.uid", "")) == 0)
        rc = gc_classify(row, latest);
    cJSON_Delete(latest);
    return rc;
}

/* gc_check_dependent on the live object. */
static int gc_classify(size_t row, const cJSON *obj)
{
    const cJSON *refs = ck_json_get(obj, "metadata.ownerReferences");
    if (cJSON_GetArraySize(refs) == 0 || ck_json_get(obj, "metadata.deletionTimestamp"))
        return 0;
    const char *ns = ck_json_get_string(obj, "metadata.namespace", "");
    const cJSON *ref;
    if (!ns[0]) {
        /* as upstream's isDangling: a cluster-scoped object cannot have a namespaced owner;
         * that will not resolve on retry, so the item is left alone (neither collected nor
         * requeued) */
        cJSON_ArrayForEach(ref, refs)
        {
            int r = gc_ref_row(ref);
            if (r >= 0 && gc_resources[r].namespaced) {
                ck_vinfo(2,
                         "item is cluster-scoped, but refers to a namespaced owner item=\"%s\" "
                         "owner=\"%s/%s\"",
                         ck_json_get_string(obj, "metadata.name", ""),
                         ck_json_get_string(ref, "kind", ""), ck_json_get_string(ref, "name", ""));
                return 0;
            }
        }
    }
    struct ck_strlist dangling = CK_STRLIST_INIT, waiting = CK_STRLIST_INIT;
    size_t solid = 0;
    int rc = 0;
    cJSON_ArrayForEach(ref, refs)
    {
        enum gc_owner_state st;
        rc = gc_owner_state(ref, ns, &st);
        if (rc < 0)
            break;
        const char *uid = ck_json_get_string(ref, "uid", "");
        if (st == GC_OWNER_SOLID)
            solid++;
        else
            ck_strlist_add(st == GC_OWNER_DANGLING ? &dangling : &waiting, uid);
    }
    if (rc == 0 && solid > 0 && (dangling.n || waiting.n)) {
        for (size_t i = 0; i < waiting.n; i++)
            ck_strlist_add(&dangling, waiting.v[i]);
        rc = gc_remove_refs(row, obj, &dangling);
    } else if (rc == 0 && solid == 0) {
        /* as upstream: foreground when an owner waits for us and we have dependents */
        const char *policy = "Background";
        if (waiting.n) {
            struct ck_obj_list deps[GC_NRES];
            gc_dependents(ck_json_get_string(obj, "metadata.uid", ""), deps);
            for (size_t i = 0; i < GC_NRES; i++)
                if (deps[i].n)
                    policy = "Foreground";
            gc_dependents_free(deps);
        }
        rc = gc_delete(row, obj, policy);
    }
    ck_strlist_free(&dangling);
    ck_strlist_free(&waiting);
    return rc;
}

static int gc_sync(void *ctx, const char *key)
{
    (void)ctx;
    char *end = NULL;
    unsigned long row = strtoul(key, &end, 10);
    if (!end || *end != '|' || row >= GC_NRES || !gc.served[row])
        return 0;
    const char *okey = end + 1;
    if (!gc_resources[row].namespaced && okey[0] == '/')
        okey++;
    struct ck_obj *o = ck_store_get(ck_informer_store(gc.inf[row]), okey);
    if (!o)
        return 0;
    int rc = 0;
    const cJSON *obj = o->json;
    const cJSON *fins = ck_json_get(obj, "metadata.finalizers");
    if (ck_json_get(obj, "metadata.deletionTimestamp") && gc_has_string(fins, "orphan"))
        rc = gc_orphan(row, obj);
    else if (ck_json_get(obj, "metadata.deletionTimestamp") &&
             gc_has_string(fins, "foregroundDeletion"))
        rc = gc_foreground(row, obj);
    if (rc == 0)
        rc = gc_check_dependent(row, obj);
    ck_obj_unref(o);
    return rc;
}

/* Which rows the apiserver serves (a missing resource would keep its informer from syncing). */
static void gc_discover(void)
{
    for (size_t i = 0; i < GC_NRES; i++) {
        const struct gc_resource *r = &gc_resources[i];
        char *path = r->gvr.group[0] ? ck_xasprintf("/apis/%s/%s", r->gvr.group, r->gvr.version)
                                     : ck_xasprintf("/api/%s", r->gvr.version);
        struct ck_request req = {.verb = "GET", .path = path};
        cJSON *doc = NULL;
        struct ck_error err = CK_ERROR_INIT;
        if (ck_client_do_json(gc.client, &req, NULL, &doc, &err) == 0) {
            const cJSON *res;
            cJSON_ArrayForEach(res, cJSON_GetObjectItemCaseSensitive(doc, "resources"))
            {
                if (!strcmp(ck_json_get_string(res, "name", ""), r->gvr.resource))
                    gc.served[i] = true;
            }
        }
        ck_error_clear(&err);
        cJSON_Delete(doc);
        free(path);
    }
}

static void gc_free_state(void)
{
    ck_event_recorder_free(gc.recorder);
    gc.recorder = NULL;
    pthread_mutex_lock(&gc.mu);
    ck_strmap_free(&gc.observed, free);
    pthread_mutex_unlock(&gc.mu);
}

int cm_gc_start(struct ck_controller_context *cc, struct ck_error *err)
{
    (void)err;
    static bool atexit_done;
    gc.client = cc->client;
    if (!atexit_done) {
        atexit_done = true;
        atexit(gc_free_state);
    }
    if (cc->events && !gc.recorder)
        gc.recorder = ck_event_recorder_new(cc->events, "garbage-collector-controller", NULL);
    gc_discover();
    struct ck_controller_opts o = {.name = "garbage_collector_attempt_to_delete", .sync = gc_sync};
    struct ck_controller *c = ck_controller_new(&o);
    gc.ctl = c;
    for (size_t i = 0; i < GC_NRES; i++) {
        if (!gc.served[i])
            continue;
        gc.rows[i] = i;
        gc.inf[i] = ck_informer_factory_get(cc->informers, &gc_resources[i].gvr);
        ck_informer_add_index(gc.inf[i], GC_INDEX, gc_index_owner_uids);
        struct ck_event_handler h = {gc_on_add, gc_on_update, gc_on_delete, &gc.rows[i]};
        ck_informer_add_handler(gc.inf[i], &h, -1);
        ck_controller_needs(c, gc.inf[i]);
    }
    return ck_controller_context_add(cc, c, 5);
}
