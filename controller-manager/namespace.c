/* namespace.c - the namespace-controller, as upstream's NamespaceController and its
 * namespaced-resources deleter: a namespace with a deletionTimestamp (phase Terminating) gets
 * every namespaced object of every discovered resource deleted, its status conditions kept as
 * upstream words them, and once it is empty the "kubernetes" finalizer is removed through
 * PUT namespaces/<name>/finalize so the apiserver can remove it. Keys are namespace names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cm.h"
#include "controller.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "timeutil.h"

#define NS_FINALIZER "kubernetes"
#define NS_MAX_RESOURCES 512

static const struct ck_gvr ns_gvr = {"", "v1", "namespaces"};

static struct {
    struct ck_client *client;
    struct ck_informer *namespaces;
    struct ck_controller *ctl;
} ns_state;

/* One discovered namespaced resource that can be listed and deleted. */
struct ns_resource {
    char *group, *version, *resource;
    bool deletecollection;
};

struct ns_discovery {
    struct ns_resource *v;
    size_t n;
    struct ck_buf failed; /* "group/version: message, ..." */
    int nfailed;
};

static void ns_discovery_free(struct ns_discovery *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].group);
        free(d->v[i].version);
        free(d->v[i].resource);
    }
    free(d->v);
    ck_buf_free(&d->failed);
}

static bool ns_has_verb(const cJSON *verbs, const char *verb)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, verbs)
    {
        if (cJSON_IsString(v) && !strcmp(v->valuestring, verb))
            return true;
    }
    return false;
}

static void ns_discovery_fail(struct ns_discovery *d, const char *gv, const char *msg)
{
    if (d->nfailed++)
        ck_buf_puts(&d->failed, ", ");
    ck_buf_printf(&d->failed, "%s: %s", gv, msg);
}

/* Adds the namespaced, listable and deletable resources of one group version. */
static void ns_discover_gv(struct ns_discovery *d, const char *group, const char *version)
{
    CK_AUTOFREE char *path =
        group[0] ? ck_xasprintf("/apis/%s/%s", group, version) : ck_xasprintf("/api/%s", version);
    CK_AUTOFREE char *gv = group[0] ? ck_xasprintf("%s/%s", group, version) : ck_xstrdup(version);
    struct ck_request req = {.verb = "GET", .path = path};
    cJSON *list = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_client_do_json(ns_state.client, &req, NULL, &list, &err) < 0) {
        ns_discovery_fail(d, gv, err.message);
        ck_error_clear(&err);
        return;
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(list, "resources"))
    {
        const char *name = ck_json_get_string(r, "name", "");
        const cJSON *verbs = cJSON_GetObjectItemCaseSensitive(r, "verbs");
        if (!name[0] || strchr(name, '/') || !ck_json_get_bool(r, "namespaced", false) ||
            !ns_has_verb(verbs, "list") ||
            !(ns_has_verb(verbs, "delete") || ns_has_verb(verbs, "deletecollection")))
            continue;
        if (d->n >= NS_MAX_RESOURCES)
            break;
        d->v = ck_xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
        d->v[d->n++] =
            (struct ns_resource){ck_xstrdup(group), ck_xstrdup(version), ck_xstrdup(name),
                                 ns_has_verb(verbs, "deletecollection")};
    }
    cJSON_Delete(list);
}

/* Upstream's ServerPreferredNamespacedResources: the preferred version of every group. */
static void ns_discover(struct ns_discovery *d)
{
    struct ck_request req = {.verb = "GET", .path = "/api"};
    cJSON *doc = NULL;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_client_do_json(ns_state.client, &req, NULL, &doc, &err) < 0) {
        ns_discovery_fail(d, "v1", err.message);
        ck_error_clear(&err);
    } else {
        const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "versions"), 0);
        ns_discover_gv(d, "", cJSON_IsString(v) ? v->valuestring : "v1");
    }
    cJSON_Delete(doc);
    doc = NULL;
    req.path = "/apis";
    if (ck_client_do_json(ns_state.client, &req, NULL, &doc, &err) < 0) {
        ns_discovery_fail(d, "apis", err.message);
        ck_error_clear(&err);
        return;
    }
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(doc, "groups"))
    {
        const char *group = ck_json_get_string(g, "name", "");
        const char *version = ck_json_get_string(g, "preferredVersion.version", "");
        if (group[0] && version[0])
            ns_discover_gv(d, group, version);
    }
    cJSON_Delete(doc);
}

/* What deleting one resource's content left behind. */
struct ns_tally {
    struct ck_buf remaining;  /* "pods. has 1 resource instances, ..." */
    struct ck_buf finalizers; /* "example.com/f in 1 resource instances, ..." */
    struct ck_buf failed;     /* content deletion failures */
    int nfailed;
    struct {
        char *name;
        int count;
    } fin[64];
    size_t nfin;
};

static void ns_count_finalizers(struct ns_tally *t, const cJSON *item)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, ck_json_get(item, "metadata.finalizers"))
    {
        if (!cJSON_IsString(f))
            continue;
        size_t i;
        for (i = 0; i < t->nfin; i++)
            if (!strcmp(t->fin[i].name, f->valuestring))
                break;
        if (i == t->nfin) {
            if (t->nfin == sizeof(t->fin) / sizeof(t->fin[0]))
                continue;
            t->fin[t->nfin].name = ck_xstrdup(f->valuestring);
            t->fin[t->nfin++].count = 0;
        }
        t->fin[i].count++;
    }
}

static void ns_tally_fail(struct ns_tally *t, const struct ns_resource *r, const char *msg)
{
    if (t->nfailed++)
        ck_buf_puts(&t->failed, ", ");
    ck_buf_printf(&t->failed, "%s.%s: %s", r->resource, r->group, msg);
}

/* Deletes one resource's objects in ns (deletecollection, else list + delete each), then lists
 * what is left. */
static void ns_delete_resource(const char *ns, const struct ns_resource *r, struct ns_tally *t)
{
    struct ck_gvr gvr = {r->group, r->version, r->resource};
    struct ck_error err = CK_ERROR_INIT;
    struct ck_delete_opts dopts = {.propagation_policy = "Background"};
    cJSON *list = NULL;
    if (r->deletecollection) {
        if (ck_client_delete_collection(ns_state.client, &gvr, ns, NULL, &dopts, &err) < 0 &&
            err.code != 404 && err.code != 405) {
            ns_tally_fail(t, r, err.message);
            ck_error_clear(&err);
            return;
        }
        ck_error_clear(&err);
    } else {
        if (ck_client_list(ns_state.client, &gvr, ns, NULL, &list, &err) < 0) {
            if (err.code != 404 && err.code != 405)
                ns_tally_fail(t, r, err.message);
            ck_error_clear(&err);
            return;
        }
        const cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items"))
        {
            if (ck_json_get(item, "metadata.deletionTimestamp"))
                continue;
            const char *name = ck_json_get_string(item, "metadata.name", "");
            if (ck_client_delete(ns_state.client, &gvr, ns, name, &dopts, NULL, &err) < 0 &&
                err.code != 404) {
                ns_tally_fail(t, r, err.message);
                ck_error_clear(&err);
                cJSON_Delete(list);
                return;
            }
            ck_error_clear(&err);
        }
        cJSON_Delete(list);
        list = NULL;
    }
    if (ck_client_list(ns_state.client, &gvr, ns, NULL, &list, &err) < 0) {
        if (err.code != 404 && err.code != 405)
            ns_tally_fail(t, r, err.message);
        ck_error_clear(&err);
        return;
    }
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
    int n = cJSON_GetArraySize(items);
    if (n > 0) {
        if (t->remaining.len)
            ck_buf_puts(&t->remaining, ", ");
        ck_buf_printf(&t->remaining, "%s.%s has %d resource instances", r->resource, r->group, n);
        const cJSON *item;
        cJSON_ArrayForEach(item, items) ns_count_finalizers(t, item);
    }
    cJSON_Delete(list);
}

/* Sets (or updates) one condition in status.conditions; lastTransitionTime changes only when
 * the status does. */
static void ns_set_condition(cJSON *status, const char *type, bool on, const char *reason,
                             const char *message)
{
    cJSON *conds = ck_json_ensure_array(status, "conditions");
    if (!conds)
        return;
    cJSON *c = NULL, *it;
    cJSON_ArrayForEach(it, conds)
    {
        if (!strcmp(ck_json_get_string(it, "type", ""), type)) {
            c = it;
            break;
        }
    }
    const char *st = on ? "True" : "False";
    if (!c) {
        c = cJSON_CreateObject();
        cJSON_AddItemToArray(conds, c);
        ck_json_set_string(c, "type", type);
    }
    if (strcmp(ck_json_get_string(c, "status", ""), st) != 0 ||
        !ck_json_get(c, "lastTransitionTime")) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        char ts[CK_TIME_BUFSZ];
        ck_time_format(&now, ts);
        ck_json_set_string(c, "lastTransitionTime", ts);
    }
    ck_json_set_string(c, "status", st);
    ck_json_set_string(c, "reason", reason);
    ck_json_set_string(c, "message", message);
}

/* Writes the conditions onto ns (a copy of the cached object) when they changed. */
static int ns_update_conditions(const cJSON *cached, struct ns_discovery *d, struct ns_tally *t)
{
    cJSON *ns = cJSON_Duplicate(cached, 1);
    cJSON *status = ck_json_ensure_object(ns, "status");
    if (!status) {
        cJSON_Delete(ns);
        return -EINVAL;
    }
    struct ck_buf msg = CK_BUF_INIT;
    if (d->nfailed) {
        ck_buf_printf(&msg, "Discovery failed for some groups, %d failing: %s", d->nfailed,
                      ck_buf_str(&d->failed));
        ns_set_condition(status, "NamespaceDeletionDiscoveryFailure", true, "DiscoveryFailed",
                         ck_buf_str(&msg));
    } else
        ns_set_condition(status, "NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered",
                         "All resources successfully discovered");
    ns_set_condition(status, "NamespaceDeletionGroupVersionParsingFailure", false,
                     "ParsedGroupVersions", "All legacy kube types successfully parsed");
    ck_buf_reset(&msg);
    if (t->nfailed) {
        ck_buf_printf(&msg, "Failed to delete all resource types, %d remaining: %s", t->nfailed,
                      ck_buf_str(&t->failed));
        ns_set_condition(status, "NamespaceDeletionContentFailure", true, "ContentDeletionFailed",
                         ck_buf_str(&msg));
    } else
        ns_set_condition(status, "NamespaceDeletionContentFailure", false, "ContentDeleted",
                         "All content successfully deleted, may be waiting on finalization");
    ck_buf_reset(&msg);
    if (t->remaining.len) {
        ck_buf_printf(&msg, "Some resources are remaining: %s", ck_buf_str(&t->remaining));
        ns_set_condition(status, "NamespaceContentRemaining", true, "SomeResourcesRemain",
                         ck_buf_str(&msg));
    } else
        ns_set_condition(status, "NamespaceContentRemaining", false, "ContentRemoved",
                         "All content successfully removed");
    ck_buf_reset(&msg);
    if (t->nfin) {
        ck_buf_puts(&msg, "Some content in the namespace has finalizers remaining: ");
        for (size_t i = 0; i < t->nfin; i++)
            ck_buf_printf(&msg, "%s%s in %d resource instances", i ? ", " : "", t->fin[i].name,
                          t->fin[i].count);
        ns_set_condition(status, "NamespaceFinalizersRemaining", true, "SomeFinalizersRemain",
                         ck_buf_str(&msg));
    } else
        ns_set_condition(status, "NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers",
                         "All content-preserving finalizers finished");
    ck_buf_free(&msg);
    int rc = 0;
    if (!cJSON_Compare(ck_json_get(cached, "status"), status, 1)) {
        struct ck_error err = CK_ERROR_INIT;
        rc = ck_client_update_status(ns_state.client, &ns_gvr, NULL, ns, NULL, &err);
        if (rc < 0 && err.code == 404)
            rc = 0;
        if (rc < 0)
            ck_err("namespace %s: status update failed: %s",
                   ck_json_get_string(ns, "metadata.name", ""), err.message);
        ck_error_clear(&err);
    }
    cJSON_Delete(ns);
    return rc;
}

/* PUT namespaces/<name>/finalize with spec.finalizers minus "kubernetes". */
static int ns_finalize(const char *name)
{
    cJSON *ns = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_get(ns_state.client, &ns_gvr, NULL, name, &ns, &err);
    if (rc < 0) {
        rc = err.code == 404 ? 0 : rc;
        ck_error_clear(&err);
        return rc;
    }
    cJSON *fins = ck_json_get(ns, "spec.finalizers");
    cJSON *keep = cJSON_CreateArray();
    const cJSON *f;
    bool had = false;
    cJSON_ArrayForEach(f, fins)
    {
        if (cJSON_IsString(f) && !strcmp(f->valuestring, NS_FINALIZER))
            had = true;
        else
            cJSON_AddItemToArray(keep, cJSON_Duplicate(f, 1));
    }
    if (!had) {
        cJSON_Delete(keep);
        cJSON_Delete(ns);
        return 0;
    }
    ck_json_set(ns, "spec.finalizers", keep);
    struct ck_request req = {
        .verb = "PUT", .gvr = &ns_gvr, .name = name, .subresource = "finalize"};
    rc = ck_client_do_json(ns_state.client, &req, ns, NULL, &err);
    if (rc < 0 && err.code == 404)
        rc = 0;
    if (rc < 0)
        ck_err("namespace %s: finalize failed: %s", name, err.message);
    ck_error_clear(&err);
    cJSON_Delete(ns);
    return rc;
}

static bool ns_has_finalizer(const cJSON *ns)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, ck_json_get(ns, "spec.finalizers"))
    {
        if (cJSON_IsString(f) && !strcmp(f->valuestring, NS_FINALIZER))
            return true;
    }
    return false;
}

static int ns_sync(void *ctx, const char *key)
{
    (void)ctx;
    struct ck_obj *obj = ck_store_get(ck_informer_store(ns_state.namespaces), key);
    if (!obj)
        return 0;
    if (!ck_json_get(obj->json, "metadata.deletionTimestamp") || !ns_has_finalizer(obj->json)) {
        ck_obj_unref(obj);
        return 0;
    }
    struct ns_discovery d = {0};
    ns_discover(&d);
    struct ns_tally t = {0};
    for (size_t i = 0; i < d.n; i++)
        ns_delete_resource(key, &d.v[i], &t);
    int rc = ns_update_conditions(obj->json, &d, &t);
    bool done = !d.nfailed && !t.nfailed && !t.remaining.len;
    ck_obj_unref(obj);
    if (done)
        rc = ns_finalize(key);
    else {
        /* as upstream: content is still going away; look again shortly */
        ck_controller_enqueue_after(ns_state.ctl, key, 2 * CK_SECOND);
    }
    ns_discovery_free(&d);
    ck_buf_free(&t.remaining);
    ck_buf_free(&t.finalizers);
    ck_buf_free(&t.failed);
    for (size_t i = 0; i < t.nfin; i++)
        free(t.fin[i].name);
    return rc;
}

int cm_namespace_start(struct ck_controller_context *cc, struct ck_error *err)
{
    (void)err;
    ns_state.client = cc->client;
    ns_state.namespaces = ck_informer_factory_get(cc->informers, &ns_gvr);
    struct ck_controller_opts o = {.name = "namespace", .sync = ns_sync};
    struct ck_controller *c = ck_controller_new(&o);
    ns_state.ctl = c;
    ck_controller_watch(c, ns_state.namespaces, NULL);
    return ck_controller_context_add(cc, c, 5);
}
