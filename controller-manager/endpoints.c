/* endpoints.c - the Endpoints controller (upstream's "endpoint-controller"): for every Service
 * with a selector, an Endpoints object of the same name listing the matching pods, ready ones
 * under addresses and the others under notReadyAddresses, grouped into subsets by port set
 * (upstream's EndpointSubset repacking). Also the pod/port helpers endpointslice.c shares.
 * A rejected write of the Endpoints is a Warning event from "endpoint-controller" about the
 * Endpoints object as upstream records it: FailedToCreateEndpoint (the object not yet stored,
 * so without namespace: the event lands in "default") or FailedToUpdateEndpoint; a create
 * refused because the namespace is terminating is dropped silently. As upstream 1.32, an
 * Endpoints this controller updated is not written again while the cache still shows the
 * revision it replaced (the sync is retried without an event instead of failing with a
 * conflict). */
#include <errno.h>
#include <math.h>
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
#include "selector.h"
#include "strmap.h"
#include "store.h"
#include "timeutil.h"

static const struct ck_gvr svc_gvr = {"", "v1", "services"};
static const struct ck_gvr pod_gvr = {"", "v1", "pods"};
static const struct ck_gvr ep_gvr = {"", "v1", "endpoints"};

#define EP_TRIGGER_ANNOTATION "endpoints.kubernetes.io/last-change-trigger-time"
#define EP_HEADLESS_LABEL "service.kubernetes.io/headless"

/* ---- shared helpers --------------------------------------------------------------------- */

bool ep_pod_ready(const cJSON *pod)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_get(pod, "status.conditions"))
    {
        if (strcmp(ck_json_get_string(c, "type", ""), "Ready") == 0)
            return strcmp(ck_json_get_string(c, "status", ""), "True") == 0;
    }
    return false;
}

bool ep_pod_included(const cJSON *pod, bool include_terminating)
{
    if (!*ck_json_get_string(pod, "status.podIP", ""))
        return false;
    const char *phase = ck_json_get_string(pod, "status.phase", "");
    if (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)
        return false;
    if (!include_terminating && ck_json_get(pod, "metadata.deletionTimestamp") &&
        !cJSON_IsNull(ck_json_get(pod, "metadata.deletionTimestamp")))
        return false;
    return true;
}

int ep_resolve_port(const cJSON *pod, const cJSON *sp, int *out)
{
    const cJSON *tp = ck_json_get(sp, "targetPort");
    if (!tp) {
        /* defaulted to port by the apiserver; tolerate its absence */
        *out = (int)ck_json_get_int64(sp, "port", 0);
        return *out > 0 ? 0 : -ENOENT;
    }
    if (cJSON_IsNumber(tp)) {
        *out = (int)ck_json_as_int64(tp, 0);
        return *out > 0 ? 0 : -ENOENT;
    }
    const char *name = ck_json_as_string(tp, NULL);
    if (!name || !*name)
        return -ENOENT;
    const char *proto = ck_json_get_string(sp, "protocol", "TCP");
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_get(pod, "spec.containers"))
    {
        const cJSON *p;
        cJSON_ArrayForEach(p, ck_json_get(c, "ports"))
        {
            if (strcmp(ck_json_get_string(p, "name", ""), name) == 0 &&
                strcmp(ck_json_get_string(p, "protocol", "TCP"), proto) == 0) {
                *out = (int)ck_json_get_int64(p, "containerPort", 0);
                return *out > 0 ? 0 : -ENOENT;
            }
        }
    }
    return -ENOENT;
}

bool ep_service_selects(const cJSON *svc)
{
    const cJSON *sel = ck_json_get(svc, "spec.selector");
    return cJSON_IsObject(sel) && sel->child;
}

void ep_services_for_pod(struct ck_store *services, const cJSON *pod, struct ck_strlist *keys)
{
    struct ck_obj_list l = CK_OBJ_LIST_INIT;
    ck_store_list_namespace(services, ck_json_get_string(pod, "metadata.namespace", ""), &l);
    const cJSON *labels = ck_json_get(pod, "metadata.labels");
    for (size_t i = 0; i < l.n; i++) {
        const cJSON *svc = l.items[i]->json;
        if (!ep_service_selects(svc))
            continue;
        struct ck_label_selector *sel =
            ck_label_selector_from_set(ck_json_get(svc, "spec.selector"));
        if (ck_label_selector_matches(sel, labels))
            ck_strlist_add(keys, l.items[i]->key);
        ck_label_selector_free(sel);
    }
    ck_obj_list_free(&l);
}

void ep_pods_for_service(struct ck_store *pods, const cJSON *svc, struct ck_obj_list *out)
{
    struct ck_obj_list l = CK_OBJ_LIST_INIT;
    ck_store_list_namespace(pods, ck_json_get_string(svc, "metadata.namespace", ""), &l);
    struct ck_label_selector *sel = ck_label_selector_from_set(ck_json_get(svc, "spec.selector"));
    size_t k = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (ck_label_selector_matches(sel, ck_json_get(l.items[i]->json, "metadata.labels")))
            l.items[k++] = l.items[i];
        else
            ck_obj_unref(l.items[i]);
    }
    l.n = k;
    ck_label_selector_free(sel);
    *out = l;
}

bool ep_pod_hostname(const cJSON *pod, const cJSON *svc, const char **hostname)
{
    const char *h = ck_json_get_string(pod, "spec.hostname", "");
    const char *sub = ck_json_get_string(pod, "spec.subdomain", "");
    if (*h && *sub && strcmp(sub, ck_json_get_string(svc, "metadata.name", "")) == 0 &&
        strcmp(ck_json_get_string(pod, "metadata.namespace", ""),
               ck_json_get_string(svc, "metadata.namespace", "")) == 0) {
        *hostname = h;
        return true;
    }
    return false;
}

/* ---- the controller --------------------------------------------------------------------- */

struct ep_ctrl {
    struct ck_client *client;
    struct ck_store *services, *pods, *endpoints;
    struct ck_event_recorder *recorder; /* may be NULL; freed at exit */
    struct ck_rv_tracker stale;         /* "ns/name": upstream's staleEndpointsTracker */
};

/* True when err carries the NamespaceTerminating cause of the namespace lifecycle admission. */
bool ep_namespace_terminating(const struct ck_error *err)
{
    const cJSON *cause;
    cJSON_ArrayForEach(cause, ck_json_get(err->details, "causes"))
    {
        if (!strcmp(ck_json_get_string(cause, "reason", ""), "NamespaceTerminating"))
            return true;
    }
    return false;
}

/* The Warning upstream records when writing the Endpoints failed. Its object is the Endpoints
 * upstream was writing: for a create a fresh one carrying only the name (hence no namespace,
 * uid nor resourceVersion), for an update the cached one. */
static void ep_write_failed(struct ep_ctrl *c, const char *ns, const char *name, const cJSON *obj,
                            bool create, const struct ck_error *err)
{
    if (create) {
        cJSON *ref = cJSON_CreateObject();
        cJSON_AddStringToObject(ref, "kind", "Endpoints");
        cJSON_AddStringToObject(ref, "apiVersion", "v1");
        cJSON_AddStringToObject(ref, "name", name);
        ck_event_recordf(c->recorder, ref, CK_EVENT_WARNING, "FailedToCreateEndpoint",
                         "Failed to create endpoint for service %s/%s: %s", ns, name, err->message);
        cJSON_Delete(ref);
    } else {
        ck_event_recordf(c->recorder, obj, CK_EVENT_WARNING, "FailedToUpdateEndpoint",
                         "Failed to update endpoint %s/%s: %s", ns, name, err->message);
    }
}

static void ep_pod_keys(void *ctx, const struct ck_obj *obj, struct ck_strlist *keys)
{
    struct ep_ctrl *c = ctx;
    ep_services_for_pod(c->services, obj->json, keys);
}

/* One address with the ports it serves. */
struct ep_addr {
    cJSON *addr;    /* EndpointAddress */
    const char *ip; /* borrowed from addr */
    bool ready;
    cJSON *ports;  /* array of EndpointPort */
    char *portkey; /* canonical text of ports, to group */
};

static int port_cmp(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    int r = strcmp(ck_json_get_string(x, "name", ""), ck_json_get_string(y, "name", ""));
    if (r)
        return r;
    int64_t px = ck_json_get_int64(x, "port", 0), py = ck_json_get_int64(y, "port", 0);
    if (px != py)
        return px < py ? -1 : 1;
    return strcmp(ck_json_get_string(x, "protocol", ""), ck_json_get_string(y, "protocol", ""));
}

/* Sorts the items of array arr in place with cmp on the item pointers. */
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

static int addr_cmp(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    int r = strcmp(ck_json_get_string(x, "ip", ""), ck_json_get_string(y, "ip", ""));
    if (r)
        return r;
    return strcmp(ck_json_get_string(x, "targetRef.uid", ""),
                  ck_json_get_string(y, "targetRef.uid", ""));
}

static int subset_cmp(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    CK_AUTOFREE char *px = ck_json_canonical(ck_json_get(x, "ports"));
    CK_AUTOFREE char *py = ck_json_canonical(ck_json_get(y, "ports"));
    int r = strcmp(px ? px : "", py ? py : "");
    if (r)
        return r;
    CK_AUTOFREE char *ax = ck_json_canonical(x);
    CK_AUTOFREE char *ay = ck_json_canonical(y);
    return strcmp(ax ? ax : "", ay ? ay : "");
}

/* The subsets for svc (a new array): addresses grouped by identical port sets, sorted. */
static cJSON *ep_build_subsets(struct ep_ctrl *c, const cJSON *svc)
{
    bool tolerate = ck_json_get_bool(svc, "spec.publishNotReadyAddresses", false);
    bool headless = strcmp(ck_json_get_string(svc, "spec.clusterIP", ""), "None") == 0;
    const cJSON *sports = ck_json_get(svc, "spec.ports");
    bool noports = cJSON_GetArraySize(sports) == 0;
    struct ck_obj_list pods = CK_OBJ_LIST_INIT;
    ep_pods_for_service(c->pods, svc, &pods);
    struct ep_addr *as = ck_xmalloc(sizeof(*as) * (pods.n + 1));
    size_t na = 0;
    for (size_t i = 0; i < pods.n; i++) {
        const cJSON *pod = pods.items[i]->json;
        if (!ep_pod_included(pod, tolerate))
            continue;
        if (strchr(ck_json_get_string(pod, "status.podIP", ""), ':'))
            continue; /* IPv4 family only */
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "ip", ck_json_get_string(pod, "status.podIP", ""));
        const char *hn;
        if (ep_pod_hostname(pod, svc, &hn))
            cJSON_AddStringToObject(a, "hostname", hn);
        const char *node = ck_json_get_string(pod, "spec.nodeName", "");
        if (*node)
            cJSON_AddStringToObject(a, "nodeName", node);
        cJSON *ref = cJSON_AddObjectToObject(a, "targetRef");
        cJSON_AddStringToObject(ref, "kind", "Pod");
        cJSON_AddStringToObject(ref, "namespace",
                                ck_json_get_string(pod, "metadata.namespace", ""));
        cJSON_AddStringToObject(ref, "name", ck_json_get_string(pod, "metadata.name", ""));
        cJSON_AddStringToObject(ref, "uid", ck_json_get_string(pod, "metadata.uid", ""));
        cJSON *ports = cJSON_CreateArray();
        const cJSON *sp;
        cJSON_ArrayForEach(sp, sports)
        {
            int port;
            if (ep_resolve_port(pod, sp, &port) < 0) {
                ck_vinfo(4,
                         "Failed to find port for service %s/%s: no suitable port for "
                         "manifest: %s",
                         ck_json_get_string(svc, "metadata.namespace", ""),
                         ck_json_get_string(svc, "metadata.name", ""),
                         ck_json_get_string(pod, "metadata.uid", ""));
                continue;
            }
            cJSON *p = cJSON_CreateObject();
            const char *pn = ck_json_get_string(sp, "name", "");
            if (*pn)
                cJSON_AddStringToObject(p, "name", pn);
            cJSON_AddNumberToObject(p, "port", port);
            cJSON_AddStringToObject(p, "protocol", ck_json_get_string(sp, "protocol", "TCP"));
            const char *ap = ck_json_get_string(sp, "appProtocol", NULL);
            if (ap)
                cJSON_AddStringToObject(p, "appProtocol", ap);
            cJSON_AddItemToArray(ports, p);
        }
        if (cJSON_GetArraySize(ports) == 0 && !(noports && headless)) {
            cJSON_Delete(ports);
            cJSON_Delete(a);
            continue;
        }
        sort_array(ports, port_cmp);
        as[na].addr = a;
        as[na].ip = ck_json_get_string(a, "ip", "");
        as[na].ready = tolerate || ep_pod_ready(pod);
        as[na].ports = ports;
        as[na].portkey = ck_json_print(ports, 0);
        na++;
    }
    ck_obj_list_free(&pods);
    /* group by port set */
    cJSON *subsets = cJSON_CreateArray();
    bool *done = calloc(na + 1, 1);
    for (size_t i = 0; i < na; i++) {
        if (done[i])
            continue;
        cJSON *ss = cJSON_CreateObject();
        cJSON *ready = cJSON_CreateArray(), *notready = cJSON_CreateArray();
        for (size_t j = i; j < na; j++) {
            if (done[j] || strcmp(as[j].portkey, as[i].portkey) != 0)
                continue;
            done[j] = true;
            cJSON_AddItemToArray(as[j].ready ? ready : notready, ck_json_dup(as[j].addr));
        }
        sort_array(ready, addr_cmp);
        sort_array(notready, addr_cmp);
        if (cJSON_GetArraySize(ready) > 0)
            cJSON_AddItemToObject(ss, "addresses", ready);
        else
            cJSON_Delete(ready);
        if (cJSON_GetArraySize(notready) > 0)
            cJSON_AddItemToObject(ss, "notReadyAddresses", notready);
        else
            cJSON_Delete(notready);
        if (cJSON_GetArraySize(as[i].ports) > 0)
            cJSON_AddItemToObject(ss, "ports", ck_json_dup(as[i].ports));
        cJSON_AddItemToArray(subsets, ss);
    }
    for (size_t i = 0; i < na; i++) {
        cJSON_Delete(as[i].addr);
        cJSON_Delete(as[i].ports);
        free(as[i].portkey);
    }
    free(done);
    free(as);
    sort_array(subsets, subset_cmp);
    return subsets;
}

/* The labels an Endpoints object gets: the Service's, plus the headless marker. */
/* Keeps the first n items of arr (an array member of subset named key); drops it when n is 0. */
static void keep_first(cJSON *subset, const char *key, int n)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(subset, key);
    if (n <= 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(subset, key);
        return;
    }
    while (cJSON_GetArraySize(arr) > n)
        cJSON_DeleteItemFromArray(arr, cJSON_GetArraySize(arr) - 1);
}

bool ep_truncate_subsets(cJSON *subsets, int max)
{
    int ready = 0, not_ready = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, subsets) {
        ready += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "addresses"));
        not_ready += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "notReadyAddresses"));
    }
    if (ready + not_ready <= max)
        return false;
    /* too many ready ones: share `max` among them and drop every not-ready one; otherwise
     * keep every ready one and share what is left among the not-ready ones */
    bool cut_ready = ready > max;
    const char *kind = cut_ready ? "addresses" : "notReadyAddresses";
    int budget = cut_ready ? max : max - ready, total = cut_ready ? ready : not_ready;
    int left = budget;
    cJSON *sub;
    cJSON_ArrayForEach(sub, subsets) {
        int have = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sub, kind));
        int share = (int)ceil((double)have / (double)total * (double)budget);
        if (share > left)
            share = left;
        keep_first(sub, kind, share);
        if (cut_ready)
            cJSON_DeleteItemFromObjectCaseSensitive(sub, "notReadyAddresses");
        left -= have < share ? have : share;
    }
    return true;
}

/* upstream's capacityAnnotationSetCorrectly on the stored Endpoints: within capacity and
 * without the over-capacity annotation. */
static bool capacity_annotation_right(const cJSON *cur)
{
    int n = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, ck_json_get(cur, "subsets")) {
        n += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "addresses"));
        n += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "notReadyAddresses"));
    }
    return n <= EP_MAX_CAPACITY &&
           !ck_json_getv(cur, "metadata", "annotations", EP_OVER_CAPACITY_ANNOTATION, NULL);
}

static cJSON *ep_labels(const cJSON *svc)
{
    cJSON *l = ck_json_dup(ck_json_get(svc, "metadata.labels"));
    if (!cJSON_IsObject(l)) {
        cJSON_Delete(l);
        l = cJSON_CreateObject();
    }
    cJSON_DeleteItemFromObjectCaseSensitive(l, EP_HEADLESS_LABEL);
    if (strcmp(ck_json_get_string(svc, "spec.clusterIP", ""), "None") == 0)
        cJSON_AddStringToObject(l, EP_HEADLESS_LABEL, "");
    return l;
}

/* Equality of two arrays or objects where absent/null means empty. */
static bool same(const cJSON *a, const cJSON *b)
{
    bool ea = !a || cJSON_IsNull(a) || !a->child, eb = !b || cJSON_IsNull(b) || !b->child;
    if (ea || eb)
        return ea && eb;
    return ck_json_equal(a, b);
}

static int ep_sync(void *ctx, const char *key)
{
    struct ep_ctrl *c = ctx;
    struct ck_error err = CK_ERROR_INIT;
    char *ns = NULL, *name = NULL;
    if (ck_split_key(key, &ns, &name) < 0)
        return 0;
    int rc = 0;
    struct ck_obj *svc = ck_store_get(c->services, key);
    struct ck_obj *cur = ck_store_get(c->endpoints, key);
    if (!svc) {
        ck_rv_tracker_set(&c->stale, key, NULL);
        /* the Service is gone: so are its Endpoints (only those we would have made) */
        if (cur && !ck_json_getv(cur->json, "metadata", "labels",
                                 "endpointslice.kubernetes.io/skip-mirror", NULL)) {
            rc = ck_client_delete(c->client, &ep_gvr, ns, name, NULL, NULL, &err);
            if (rc == -ENOENT)
                rc = 0;
        }
        goto out;
    }
    if (!ep_service_selects(svc->json))
        goto out; /* not ours: Endpoints managed by someone else */
    const char *cur_rv = cur ? ck_json_get_string(cur->json, "metadata.resourceVersion", "") : "";
    if (cur && ck_rv_tracker_stale(&c->stale, key, cur_rv)) {
        rc = ck_error_set(&err, 409, CK_REASON_CONFLICT,
                          "endpoints informer cache is out of date, resource version %s already "
                          "processed for endpoints %s",
                          cur_rv, key);
        goto out;
    }
    cJSON *subsets = ep_build_subsets(c, svc->json);
    cJSON *labels = ep_labels(svc->json);
    if (cur && same(subsets, ck_json_get(cur->json, "subsets")) &&
        same(labels, ck_json_get(cur->json, "metadata.labels")) &&
        capacity_annotation_right(cur->json)) {
        cJSON_Delete(subsets);
        cJSON_Delete(labels);
        goto out;
    }
    cJSON *obj;
    if (cur) {
        obj = ck_json_dup(cur->json);
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "subsets");
        ck_json_set_string(obj, "apiVersion", "v1");
        ck_json_set_string(obj, "kind", "Endpoints");
    } else {
        obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "apiVersion", "v1");
        cJSON_AddStringToObject(obj, "kind", "Endpoints");
        cJSON *m = cJSON_AddObjectToObject(obj, "metadata");
        cJSON_AddStringToObject(m, "name", name);
        cJSON_AddStringToObject(m, "namespace", ns);
    }
    cJSON *meta = ck_json_ensure_object(obj, "metadata");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "labels");
    cJSON_AddItemToObject(meta, "labels", labels);
    cJSON *ann = ck_json_ensure_object(meta, "annotations");
    char now[CK_TIME_BUFSZ];
    ck_time_now_string(now);
    cJSON_DeleteItemFromObjectCaseSensitive(ann, EP_TRIGGER_ANNOTATION);
    cJSON_AddStringToObject(ann, EP_TRIGGER_ANNOTATION, now);
    cJSON_DeleteItemFromObjectCaseSensitive(ann, EP_OVER_CAPACITY_ANNOTATION);
    if (ep_truncate_subsets(subsets, EP_MAX_CAPACITY))
        cJSON_AddStringToObject(ann, EP_OVER_CAPACITY_ANNOTATION, "truncated");
    cJSON_AddItemToObject(obj, "subsets", subsets);
    cJSON *written = NULL;
    if (cur)
        rc = ck_client_update(c->client, &ep_gvr, ns, obj, &written, &err);
    else
        rc = ck_client_create(c->client, &ep_gvr, ns, obj, NULL, &err);
    if (rc == 0 && cur &&
        strcmp(ck_json_get_string(written, "metadata.resourceVersion", ""), cur_rv) != 0)
        ck_rv_tracker_set(&c->stale, key, cur_rv); /* until the cache moves past cur_rv */
    cJSON_Delete(written);
    if (rc < 0 && !cur && ep_namespace_terminating(&err)) {
        /* as upstream: every later create would fail alike; drop the key */
        ck_vinfo(5, "Forbidden from creating endpoints: %s", err.message);
        rc = 0;
    } else if (rc < 0) {
        ep_write_failed(c, ns, name, obj, !cur, &err);
    }
    cJSON_Delete(obj);
    if (rc == 0)
        ck_vinfo(4, "Finished syncing endpoints for service %s", key);
out:
    if (rc < 0)
        ck_err("error syncing endpoints for service \"%s\": %s", key, err.message);
    ck_obj_unref(svc);
    ck_obj_unref(cur);
    ck_error_clear(&err);
    free(ns);
    free(name);
    return rc;
}

/* Endpoints events (deletions, and the initial list: upstream's onEndpointsDelete and
 * checkLeftoverEndpoints) sync the Service of the same name, which recreates the Endpoints or,
 * when the Service is gone, deletes a leftover one; Endpoints holding an old leader-election
 * record are not ours. Adds and updates are left alone, so Endpoints written by hand before
 * their (selectorless) Service stay. */
static void ep_endpoints_keys(void *ctx, const struct ck_obj *obj, struct ck_strlist *keys)
{
    (void)ctx;
    if (!ck_json_getv(obj->json, "metadata", "annotations",
                      "control-plane.alpha.kubernetes.io/leader", NULL))
        ck_strlist_add(keys, obj->key);
}

static struct ep_ctrl ep_st; /* the controller's state, alive until exit */

static void ep_free_state(void)
{
    ck_event_recorder_free(ep_st.recorder);
    ep_st.recorder = NULL;
    ck_rv_tracker_free(&ep_st.stale);
}

int endpoints_start(struct ck_controller_context *cc, struct ck_error *err)
{
    (void)err;
    struct ck_informer *si = ck_informer_factory_get(cc->informers, &svc_gvr);
    struct ck_informer *pi = ck_informer_factory_get(cc->informers, &pod_gvr);
    struct ck_informer *ei = ck_informer_factory_get(cc->informers, &ep_gvr);
    ep_st.client = cc->client;
    ep_st.services = ck_informer_store(si);
    ep_st.pods = ck_informer_store(pi);
    ep_st.endpoints = ck_informer_store(ei);
    static bool atexit_done;
    if (!atexit_done) {
        atexit_done = true;
        ck_rv_tracker_init(&ep_st.stale);
        atexit(ep_free_state);
    }
    if (cc->events && !ep_st.recorder)
        ep_st.recorder = ck_event_recorder_new(cc->events, "endpoint-controller", NULL);
    struct ck_controller_opts o = {
        .name = "endpoint", .sync = ep_sync, .ctx = &ep_st, .max_retries = 15};
    struct ck_controller *c = ck_controller_new(&o);
    ck_controller_watch(c, si, NULL);
    ck_controller_watch(c, pi, ep_pod_keys);
    ck_controller_watch_deletions(c, ei, ep_endpoints_keys);
    return ck_controller_context_add(cc, c, 5);
}
