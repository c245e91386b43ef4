/* endpointslice.c - the EndpointSlice controller (upstream's "endpointslice-controller"): for
 * every Service with a selector, discovery.k8s.io/v1 EndpointSlices named <service>-<random>
 * holding the matching pods (conditions ready/serving/terminating, targetRef, nodeName, zone),
 * one group of slices per distinct port set, at most 100 endpoints per slice; a placeholder
 * slice without endpoints for a service with none. Slices of deleted services are removed
 * (also owned through ownerReferences, for the garbage collector).
 * Failures are reported as upstream's reconciler does: a pod whose node is unknown is left
 * out (unless publishNotReadyAddresses) and counts as an error, a failed write stops the
 * writes; the errors (deduplicated; several as "[a, b]") make one Warning
 * FailedToUpdateEndpointSlices on the Service from "endpoint-slice-controller" and a retry.
 * A create refused because the namespace is terminating ends the sync silently. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "client.h"
#include "controller.h"
#include "endpoints.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "rvtracker.h"
#include "mem.h"
#include "store.h"
#include "strmap.h"
#include "timeutil.h"

static const struct ck_gvr svc_gvr = {"", "v1", "services"};
static const struct ck_gvr pod_gvr = {"", "v1", "pods"};
static const struct ck_gvr node_gvr = {"", "v1", "nodes"};
static const struct ck_gvr slice_gvr = {"discovery.k8s.io", "v1", "endpointslices"};

#define ES_SERVICE_LABEL "kubernetes.io/service-name"
#define ES_MANAGED_BY_LABEL "endpointslice.kubernetes.io/managed-by"
#define ES_MANAGED_BY "endpointslice-controller.k8s.io"
#define ES_HEADLESS_LABEL "service.kubernetes.io/headless"
#define ES_TRIGGER_ANNOTATION "endpoints.kubernetes.io/last-change-trigger-time"
#define ES_ZONE_LABEL "topology.kubernetes.io/zone"
#define ES_MAX_PER_SLICE 100

/* A slice this controller created that its informer may not have seen yet (upstream's
 * endpointSliceTracker): syncing the service before the cache has it could create twice. */
struct es_created {
    char *svc_key, *slice_key;
    int64_t at_ns;
    struct es_created *next;
};

struct es_ctrl {
    struct ck_controller *ctrl;
    pthread_mutex_t mu; /* guards created */
    struct es_created *created;
    /* per slice key: while the cache still shows the version our last update of it replaced,
     * the service is not synced (upstream's tracker, by generation) */
    struct ck_rv_tracker replaced;
    struct ck_client *client;
    struct ck_store *services, *pods, *nodes, *slices;
    int max_per_slice;
    struct ck_event_recorder *recorder; /* may be NULL; freed at exit */
};

/* Adds msg to errs unless already there (upstream's aggregate prints each message once). */
static void es_add_error(struct ck_strlist *errs, const char *msg)
{
    for (size_t i = 0; i < errs->n; i++)
        if (!strcmp(errs->v[i], msg))
            return;
    ck_strlist_add(errs, msg);
}

static const char *label(const cJSON *obj, const char *key)
{
    return ck_json_as_string(ck_json_getv(obj, "metadata", "labels", key, NULL), NULL);
}

static bool es_managed(const cJSON *slice)
{
    const char *m = label(slice, ES_MANAGED_BY_LABEL);
    return m && strcmp(m, ES_MANAGED_BY) == 0 && label(slice, ES_SERVICE_LABEL);
}

static void es_pod_keys(void *ctx, const struct ck_obj *obj, struct ck_strlist *keys)
{
    struct es_ctrl *c = ctx;
    ep_services_for_pod(c->services, obj->json, keys);
}

static void es_slice_keys(void *ctx, const struct ck_obj *obj, struct ck_strlist *keys)
{
    (void)ctx;
    if (!es_managed(obj->json))
        return;
    CK_AUTOFREE char *k =
        ck_xasprintf("%s/%s", ck_json_get_string(obj->json, "metadata.namespace", ""),
                     label(obj->json, ES_SERVICE_LABEL));
    ck_strlist_add(keys, k);
}

static int ep_cmp(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(ck_json_get_string(cJSON_GetArrayItem(ck_json_get(x, "addresses"), 0), "", ""),
                  ck_json_get_string(cJSON_GetArrayItem(ck_json_get(y, "addresses"), 0), "", ""));
}

static int port_cmp(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    int r = strcmp(ck_json_get_string(x, "name", ""), ck_json_get_string(y, "name", ""));
    if (r)
        return r;
    return (int)(ck_json_get_int64(x, "port", 0) - ck_json_get_int64(y, "port", 0));
}

static void sort_array(cJSON *arr, int (*cmp)(const void *, const void *))
{
    int n = cJSON_GetArraySize(arr);
    if (n < 2)
        return;
    cJSON **v = ck_xmalloc(sizeof(*v) * (size_t)n);
    for (int i = 0; i < n; i++)
        v[i] = cJSON_DetachItemFromArray(arr, 0);
    qsort(v, (size_t)n, sizeof(*v), cmp);
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, v[i]);
    free(v);
}

/* One group of endpoints sharing a port set. */
struct es_group {
    cJSON *ports;     /* array of EndpointPort */
    char *key;        /* canonical ports */
    cJSON *endpoints; /* array of Endpoint */
};

static cJSON *es_endpoint(struct es_ctrl *c, const cJSON *svc, const cJSON *pod)
{
    bool pub = ck_json_get_bool(svc, "spec.publishNotReadyAddresses", false);
    bool ready = pub || ep_pod_ready(pod);
    bool serving = ready;
    const cJSON *dt = ck_json_get(pod, "metadata.deletionTimestamp");
    bool terminating = dt && !cJSON_IsNull(dt);
    if (terminating && !pub)
        ready = false;
    cJSON *e = cJSON_CreateObject();
    cJSON *addrs = cJSON_AddArrayToObject(e, "addresses");
    cJSON_AddItemToArray(addrs, cJSON_CreateString(ck_json_get_string(pod, "status.podIP", "")));
    cJSON *cond = cJSON_AddObjectToObject(e, "conditions");
    cJSON_AddBoolToObject(cond, "ready", ready);
    cJSON_AddBoolToObject(cond, "serving", serving);
    cJSON_AddBoolToObject(cond, "terminating", terminating);
    const char *hn;
    if (ep_pod_hostname(pod, svc, &hn))
        cJSON_AddStringToObject(e, "hostname", hn);
    cJSON *ref = cJSON_AddObjectToObject(e, "targetRef");
    cJSON_AddStringToObject(ref, "kind", "Pod");
    cJSON_AddStringToObject(ref, "namespace", ck_json_get_string(pod, "metadata.namespace", ""));
    cJSON_AddStringToObject(ref, "name", ck_json_get_string(pod, "metadata.name", ""));
    cJSON_AddStringToObject(ref, "uid", ck_json_get_string(pod, "metadata.uid", ""));
    const char *node = ck_json_get_string(pod, "spec.nodeName", "");
    if (*node) {
        cJSON_AddStringToObject(e, "nodeName", node);
        struct ck_obj *n = ck_store_get(c->nodes, node);
        const char *zone = n ? label(n->json, ES_ZONE_LABEL) : NULL;
        if (zone)
            cJSON_AddStringToObject(e, "zone", zone);
        ck_obj_unref(n);
    }
    return e;
}

/* True when the pod's node is in the cache (upstream looks every endpoint's node up). */
static bool es_node_known(struct es_ctrl *c, const cJSON *pod)
{
    struct ck_obj *n = ck_store_get(c->nodes, ck_json_get_string(pod, "spec.nodeName", ""));
    ck_obj_unref(n);
    return n != NULL;
}

/* The desired groups for svc; returns their count (*out owned by the caller). A pod on a node
 * that does not exist is left out with an error in errs, unless the service publishes
 * not-ready addresses (upstream's reconcileByAddressType). */
static size_t es_groups(struct es_ctrl *c, const cJSON *svc, struct es_group **out,
                        struct ck_strlist *errs)
{
    bool pub = ck_json_get_bool(svc, "spec.publishNotReadyAddresses", false);
    struct ck_obj_list pods = CK_OBJ_LIST_INIT;
    ep_pods_for_service(c->pods, svc, &pods);
    struct es_group *g = NULL;
    size_t ng = 0;
    const cJSON *sports = ck_json_get(svc, "spec.ports");
    for (size_t i = 0; i < pods.n; i++) {
        const cJSON *pod = pods.items[i]->json;
        if (!ep_pod_included(pod, true))
            continue;
        if (strchr(ck_json_get_string(pod, "status.podIP", ""), ':'))
            continue; /* addressType IPv4 only */
        if (!pub && !es_node_known(c, pod)) {
            CK_AUTOFREE char *m =
                ck_xasprintf("skipping Pod %s for Service %s/%s: Node %s Not Found",
                             ck_json_get_string(pod, "metadata.name", ""),
                             ck_json_get_string(svc, "metadata.namespace", ""),
                             ck_json_get_string(svc, "metadata.name", ""),
                             ck_json_get_string(pod, "spec.nodeName", ""));
            ck_vinfo(0, "skipping Pod for Service, Node not found pod=\"%s/%s\" node=\"%s\"",
                     ck_json_get_string(pod, "metadata.namespace", ""),
                     ck_json_get_string(pod, "metadata.name", ""),
                     ck_json_get_string(pod, "spec.nodeName", ""));
            es_add_error(errs, m);
            continue;
        }
        cJSON *ports = cJSON_CreateArray();
        const cJSON *sp;
        cJSON_ArrayForEach(sp, sports)
        {
            int port;
            if (ep_resolve_port(pod, sp, &port) < 0)
                continue;
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "name", ck_json_get_string(sp, "name", ""));
            cJSON_AddNumberToObject(p, "port", port);
            cJSON_AddStringToObject(p, "protocol", ck_json_get_string(sp, "protocol", "TCP"));
            const char *ap = ck_json_get_string(sp, "appProtocol", NULL);
            if (ap)
                cJSON_AddStringToObject(p, "appProtocol", ap);
            cJSON_AddItemToArray(ports, p);
        }
        sort_array(ports, port_cmp);
        char *key = ck_json_print(ports, 0);
        size_t k;
        for (k = 0; k < ng; k++)
            if (strcmp(g[k].key, key) == 0)
                break;
        if (k == ng) {
            g = ck_xrealloc(g, sizeof(*g) * (ng + 1));
            g[ng].ports = ports;
            g[ng].key = key;
            g[ng].endpoints = cJSON_CreateArray();
            ng++;
        } else {
            cJSON_Delete(ports);
            free(key);
        }
        cJSON_AddItemToArray(g[k].endpoints, es_endpoint(c, svc, pod));
    }
    ck_obj_list_free(&pods);
    for (size_t k = 0; k < ng; k++)
        sort_array(g[k].endpoints, ep_cmp);
    *out = g;
    return ng;
}

static cJSON *es_labels(const cJSON *svc)
{
    cJSON *l = ck_json_dup(ck_json_get(svc, "metadata.labels"));
    if (!cJSON_IsObject(l)) {
        cJSON_Delete(l);
        l = cJSON_CreateObject();
    }
    cJSON_DeleteItemFromObjectCaseSensitive(l, ES_HEADLESS_LABEL);
    cJSON_DeleteItemFromObjectCaseSensitive(l, ES_SERVICE_LABEL);
    cJSON_DeleteItemFromObjectCaseSensitive(l, ES_MANAGED_BY_LABEL);
    if (strcmp(ck_json_get_string(svc, "spec.clusterIP", ""), "None") == 0)
        cJSON_AddStringToObject(l, ES_HEADLESS_LABEL, "");
    cJSON_AddStringToObject(l, ES_SERVICE_LABEL, ck_json_get_string(svc, "metadata.name", ""));
    cJSON_AddStringToObject(l, ES_MANAGED_BY_LABEL, ES_MANAGED_BY);
    return l;
}

static int es_slice_name_cmp(const void *a, const void *b)
{
    const struct ck_obj *x = *(struct ck_obj *const *)a, *y = *(struct ck_obj *const *)b;
    return strcmp(x->key, y->key);
}

/* True when a slice created for svc_key is still missing from the cache (and was created less
 * than 10 s ago); forgets the entries the cache has caught up with. */
static bool es_cache_stale(struct es_ctrl *c, const char *svc_key)
{
    bool stale = false;
    int64_t now = ck_mono_ns();
    pthread_mutex_lock(&c->mu);
    for (struct es_created **pp = &c->created; *pp;) {
        struct es_created *e = *pp;
        if (strcmp(e->svc_key, svc_key) == 0) {
            struct ck_obj *o = ck_store_get(c->slices, e->slice_key);
            if (!o && now - e->at_ns < 10 * CK_SECOND) {
                stale = true;
            } else {
                ck_obj_unref(o);
                *pp = e->next;
                free(e->svc_key);
                free(e->slice_key);
                free(e);
                continue;
            }
        }
        pp = &e->next;
    }
    pthread_mutex_unlock(&c->mu);
    return stale;
}

static void es_remember(struct es_ctrl *c, const char *svc_key, const cJSON *slice)
{
    char *k = ck_object_key(slice);
    if (!k)
        return;
    struct es_created *e = ck_xmalloc(sizeof(*e));
    e->svc_key = ck_xstrdup(svc_key);
    e->slice_key = k;
    e->at_ns = ck_mono_ns();
    pthread_mutex_lock(&c->mu);
    e->next = c->created;
    c->created = e;
    pthread_mutex_unlock(&c->mu);
}

/* True when one of the slices still shows a revision this controller already replaced. */
static bool es_slices_stale(struct es_ctrl *c, const struct ck_obj_list *slices)
{
    for (size_t i = 0; i < slices->n; i++)
        if (ck_rv_tracker_stale(&c->replaced, slices->items[i]->key,
                                ck_json_get_string(slices->items[i]->json,
                                                   "metadata.resourceVersion", "")))
            return true;
    return false;
}

/* Equality of two arrays or objects where absent/null means empty (the apiserver may drop
 * empty lists). */
static bool same(const cJSON *a, const cJSON *b)
{
    bool ea = !a || cJSON_IsNull(a) || !a->child, eb = !b || cJSON_IsNull(b) || !b->child;
    if (ea || eb)
        return ea && eb;
    return ck_json_equal(a, b);
}

/* Writes one slice: updates cur (may be NULL: creates) to hold ports/endpoints. On failure
 * adds upstream's message to errs; *ns_gone is set (and 0 returned) when a create was refused
 * because the namespace is terminating. */
static int es_write(struct es_ctrl *c, const cJSON *svc, const struct ck_obj *cur,
                    const cJSON *ports, const cJSON *endpoints, struct ck_strlist *errs,
                    bool *ns_gone)
{
    struct ck_error e = CK_ERROR_INIT, *err = &e;
    const char *ns = ck_json_get_string(svc, "metadata.namespace", "");
    cJSON *labels = es_labels(svc);
    if (cur && same(ck_json_get(cur->json, "ports"), ports) &&
        same(ck_json_get(cur->json, "endpoints"), endpoints) &&
        same(ck_json_get(cur->json, "metadata.labels"), labels) &&
        strcmp(ck_json_get_string(cur->json, "addressType", ""), "IPv4") == 0) {
        cJSON_Delete(labels);
        return 0;
    }
    const cJSON *dt = ck_json_get(svc, "metadata.deletionTimestamp");
    if (!cur && dt && !cJSON_IsNull(dt)) {
        /* as upstream: no new slices for a service on its way out (the garbage collector
         * would race with us) */
        cJSON_Delete(labels);
        return 0;
    }
    cJSON *obj;
    if (cur) {
        obj = ck_json_dup(cur->json);
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "ports");
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "endpoints");
    } else {
        obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "apiVersion", "discovery.k8s.io/v1");
        cJSON_AddStringToObject(obj, "kind", "EndpointSlice");
        cJSON *m = cJSON_AddObjectToObject(obj, "metadata");
        CK_AUTOFREE char *gen = ck_xasprintf("%s-", ck_json_get_string(svc, "metadata.name", ""));
        cJSON_AddStringToObject(m, "generateName", gen);
        cJSON_AddStringToObject(m, "namespace", ns);
        cJSON *refs = cJSON_AddArrayToObject(m, "ownerReferences");
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "apiVersion", "v1");
        cJSON_AddStringToObject(r, "kind", "Service");
        cJSON_AddStringToObject(r, "name", ck_json_get_string(svc, "metadata.name", ""));
        cJSON_AddStringToObject(r, "uid", ck_json_get_string(svc, "metadata.uid", ""));
        cJSON_AddBoolToObject(r, "controller", true);
        cJSON_AddBoolToObject(r, "blockOwnerDeletion", true);
        cJSON_AddItemToArray(refs, r);
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "addressType");
        cJSON_AddStringToObject(obj, "addressType", "IPv4");
    }
    cJSON *meta = ck_json_ensure_object(obj, "metadata");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "labels");
    cJSON_AddItemToObject(meta, "labels", labels);
    cJSON *ann = ck_json_ensure_object(meta, "annotations");
    char now[CK_TIME_BUFSZ];
    ck_time_now_string(now);
    cJSON_DeleteItemFromObjectCaseSensitive(ann, ES_TRIGGER_ANNOTATION);
    cJSON_AddStringToObject(ann, ES_TRIGGER_ANNOTATION, now);
    cJSON_AddItemToObject(obj, "endpoints", ck_json_dup(endpoints));
    cJSON_AddItemToObject(obj, "ports", ck_json_dup(ports));
    int rc;
    const char *sname = ck_json_get_string(svc, "metadata.name", "");
    if (cur) {
        cJSON *written = NULL;
        rc = ck_client_update(c->client, &slice_gvr, ns, obj, &written, err);
        const char *old_rv = ck_json_get_string(cur->json, "metadata.resourceVersion", "");
        if (rc == 0 &&
            strcmp(ck_json_get_string(written, "metadata.resourceVersion", ""), old_rv) != 0)
            ck_rv_tracker_set(&c->replaced, cur->key, old_rv);
        cJSON_Delete(written);
        if (rc < 0) {
            CK_AUTOFREE char *m = ck_xasprintf(
                "failed to update %s EndpointSlice for Service %s/%s: %s",
                ck_json_get_string(cur->json, "metadata.name", ""), ns, sname, err->message);
            es_add_error(errs, m);
        }
    } else {
        cJSON *made = NULL;
        rc = ck_client_create(c->client, &slice_gvr, ns, obj, &made, err);
        if (rc == 0) {
            CK_AUTOFREE char *svc_key = ck_object_key(svc);
            if (svc_key)
                es_remember(c, svc_key, made);
        } else if (ep_namespace_terminating(err)) {
            ck_vinfo(5, "Forbidden from creating endpoint slices: %s", err->message);
            *ns_gone = true;
            rc = 0;
        } else {
            CK_AUTOFREE char *m = ck_xasprintf(
                "failed to create EndpointSlice for Service %s/%s: %s", ns, sname, err->message);
            es_add_error(errs, m);
        }
        cJSON_Delete(made);
    }
    ck_error_clear(err);
    cJSON_Delete(obj);
    return rc;
}

/* Deletes slice s of service svc_name; on failure adds upstream's message to errs. */
static int es_delete(struct es_ctrl *c, const struct ck_obj *s, const char *svc_name,
                     struct ck_strlist *errs)
{
    struct ck_error err = CK_ERROR_INIT;
    const char *ns = ck_json_get_string(s->json, "metadata.namespace", "");
    const char *name = ck_json_get_string(s->json, "metadata.name", "");
    int rc = ck_client_delete(c->client, &slice_gvr, ns, name, NULL, NULL, &err);
    if (rc == -ENOENT)
        rc = 0;
    if (rc == 0)
        ck_rv_tracker_set(&c->replaced, s->key, NULL);
    if (rc < 0) {
        CK_AUTOFREE char *m =
            ck_xasprintf("failed to delete %s EndpointSlice for Service %s/%s: %s", name, ns,
                         svc_name, err.message);
        es_add_error(errs, m);
    }
    ck_error_clear(&err);
    return rc;
}

/* Records upstream's event for the errors of one sync and returns -EAGAIN (0 without any). */
static int es_report(struct es_ctrl *c, const struct ck_obj *svc, const char *ns, const char *name,
                     const struct ck_strlist *errs)
{
    if (errs->n == 0)
        return 0;
    struct ck_buf b = CK_BUF_INIT;
    if (errs->n > 1)
        ck_buf_puts(&b, "[");
    for (size_t i = 0; i < errs->n; i++)
        ck_buf_printf(&b, "%s%s", i ? ", " : "", errs->v[i]);
    if (errs->n > 1)
        ck_buf_puts(&b, "]");
    ck_err("error syncing endpoint slices for service \"%s/%s\": %s", ns, name, ck_buf_str(&b));
    if (svc)
        ck_event_recordf(c->recorder, svc->json, CK_EVENT_WARNING, "FailedToUpdateEndpointSlices",
                         "Error updating Endpoint Slices for Service %s/%s: %s", ns, name,
                         ck_buf_str(&b));
    ck_buf_free(&b);
    return -EAGAIN;
}

/* The slices this controller made for service ns/name that are not being deleted (as upstream
 * drops those pending deletion), oldest name first. */
static void es_slices_of(struct es_ctrl *c, const char *ns, const char *name,
                         struct ck_obj_list *out)
{
    ck_store_list_namespace(c->slices, ns, out);
    size_t n = 0;
    for (size_t i = 0; i < out->n; i++) {
        const cJSON *sl = out->items[i]->json;
        const cJSON *dt = ck_json_get(sl, "metadata.deletionTimestamp");
        if (es_managed(sl) && strcmp(label(sl, ES_SERVICE_LABEL), name) == 0 &&
            (!dt || cJSON_IsNull(dt)))
            out->items[n++] = out->items[i];
        else
            ck_obj_unref(out->items[i]);
    }
    out->n = n;
    if (n > 1)
        qsort(out->items, n, sizeof(*out->items), es_slice_name_cmp);
}

static int es_sync(void *ctx, const char *key)
{
    struct es_ctrl *c = ctx;
    char *ns = NULL, *name = NULL;
    if (ck_split_key(key, &ns, &name) < 0)
        return 0;
    if (es_cache_stale(c, key)) {
        /* our own writes are not in the cache yet: look again shortly */
        ck_controller_enqueue_after(c->ctrl, key, 100 * (CK_SECOND / 1000));
        free(ns);
        free(name);
        return 0;
    }
    int rc = 0;
    bool ns_gone = false;
    struct ck_strlist errs = CK_STRLIST_INIT;
    struct ck_obj_list all = CK_OBJ_LIST_INIT;
    es_slices_of(c, ns, name, &all);
    if (es_slices_stale(c, &all)) {
        /* as upstream: "EndpointSlice informer cache is out of date"; retried, no event */
        ck_vinfo(4, "EndpointSlice informer cache is out of date for service %s", key);
        ck_controller_enqueue_after(c->ctrl, key, 100 * (CK_SECOND / 1000));
        ck_obj_list_free(&all);
        free(ns);
        free(name);
        return 0;
    }
    size_t n = all.n;
    bool *used = ck_xcalloc(n + 1, 1);
    struct ck_obj *svc = ck_store_get(c->services, key);
    if (!svc || !ep_service_selects(svc->json)) {
        /* gone (or no longer selecting): its slices go too */
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = es_delete(c, all.items[i], name, &errs);
        goto out;
    }
    struct es_group *g = NULL;
    size_t ng = es_groups(c, svc->json, &g, &errs);
    int max = c->max_per_slice;
    for (size_t k = 0; k < ng && rc == 0 && !ns_gone; k++) {
        int total = cJSON_GetArraySize(g[k].endpoints);
        /* existing slices with these ports, in name order, receive the chunks in order */
        size_t next = 0;
        for (int off = 0; off < total && rc == 0 && !ns_gone; off += max) {
            cJSON *chunk = cJSON_CreateArray();
            for (int j = off; j < total && j < off + max; j++)
                cJSON_AddItemToArray(chunk, ck_json_dup(cJSON_GetArrayItem(g[k].endpoints, j)));
            const struct ck_obj *cur = NULL;
            for (; next < n; next++) {
                if (!used[next] && same(ck_json_get(all.items[next]->json, "ports"), g[k].ports)) {
                    cur = all.items[next];
                    used[next++] = true;
                    break;
                }
            }
            rc = es_write(c, svc->json, cur, g[k].ports, chunk, &errs, &ns_gone);
            cJSON_Delete(chunk);
        }
    }
    if (rc == 0 && !ns_gone && ng == 0) {
        /* a placeholder slice: no endpoints, no ports */
        cJSON *none = cJSON_CreateArray();
        const struct ck_obj *cur = NULL;
        for (size_t i = 0; i < n; i++)
            if (!used[i]) {
                cur = all.items[i];
                used[i] = true;
                break;
            }
        rc = es_write(c, svc->json, cur, none, none, &errs, &ns_gone);
        cJSON_Delete(none);
    }
    for (size_t i = 0; i < n && rc == 0 && !ns_gone; i++)
        if (!used[i])
            rc = es_delete(c, all.items[i], name, &errs);
    for (size_t k = 0; k < ng; k++) {
        cJSON_Delete(g[k].ports);
        cJSON_Delete(g[k].endpoints);
        free(g[k].key);
    }
    free(g);
out:
    if (ns_gone) /* as upstream: creates would keep failing, the namespace is going away */
        rc = 0;
    else
        rc = es_report(c, svc, ns, name, &errs);
    ck_strlist_free(&errs);
    free(used);
    ck_obj_unref(svc);
    ck_obj_list_free(&all);
    free(ns);
    free(name);
    return rc;
}

static struct es_ctrl es_st; /* the controller's state, alive until exit */

static void es_free_state(void)
{
    ck_event_recorder_free(es_st.recorder);
    es_st.recorder = NULL;
    pthread_mutex_lock(&es_st.mu);
    while (es_st.created) {
        struct es_created *e = es_st.created;
        es_st.created = e->next;
        free(e->svc_key);
        free(e->slice_key);
        free(e);
    }
    pthread_mutex_unlock(&es_st.mu);
    ck_rv_tracker_free(&es_st.replaced);
}

int endpointslice_start(struct ck_controller_context *cc, struct ck_error *err)
{
    (void)err;
    struct es_ctrl *st = &es_st;
    struct ck_informer *si = ck_informer_factory_get(cc->informers, &svc_gvr);
    struct ck_informer *pi = ck_informer_factory_get(cc->informers, &pod_gvr);
    struct ck_informer *ni = ck_informer_factory_get(cc->informers, &node_gvr);
    struct ck_informer *li = ck_informer_factory_get(cc->informers, &slice_gvr);
    static bool atexit_done;
    if (!atexit_done) {
        atexit_done = true;
        pthread_mutex_init(&st->mu, NULL);
        ck_rv_tracker_init(&st->replaced);
        atexit(es_free_state);
    }
    if (cc->events && !st->recorder)
        st->recorder = ck_event_recorder_new(cc->events, "endpoint-slice-controller", NULL);
    st->client = cc->client;
    st->services = ck_informer_store(si);
    st->pods = ck_informer_store(pi);
    st->nodes = ck_informer_store(ni);
    st->slices = ck_informer_store(li);
    st->max_per_slice = ES_MAX_PER_SLICE;
    struct ck_controller_opts o = {
        .name = "endpoint_slice", .sync = es_sync, .ctx = st, .max_retries = 15};
    struct ck_controller *c = ck_controller_new(&o);
    st->ctrl = c;
    ck_controller_watch(c, si, NULL);
    ck_controller_watch(c, pi, es_pod_keys);
    ck_controller_watch(c, li, es_slice_keys);
    ck_controller_needs(c, ni);
    return ck_controller_context_add(cc, c, 5);
}
