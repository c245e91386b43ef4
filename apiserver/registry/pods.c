/* pods.c - the Pod strategy: field selectors, create preparation (phase Pending, QoS class,
 * the SchedulingGated condition), upstream's Pod defaults (SetDefaults_Pod on top of the
 * PodSpec defaults), ValidatePodCreate and ValidatePodUpdate (pkg/registry/core/pod,
 * pkg/apis/core/validation, v1.32).
 *
 * A /status update keeps the stored spec (the generic code copies it), so the spec rules
 * below find nothing changed there; only the QoS class check concerns status.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fieldutil.h"
#include "graceful.h"
#include "json.h"
#include "kinds.h"
#include "mem.h"
#include "podspec.h"

static const char *const POD_FIELDS[] = {
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
    NULL,
};

#define MIRROR_ANNOTATION "kubernetes.io/config.mirror"
#define DELETION_COST_ANNOTATION "controller.kubernetes.io/pod-deletion-cost"

/* SetDefaults_Pod: requests default to limits, enableServiceLinks to true, and with
 * hostNetwork every unset hostPort to its containerPort. Upstream applies these to Pods only,
 * never to templates. */
static void pod_only_defaults(cJSON *spec)
{
    static const char *const LISTS[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        const cJSON *list = fu_get(spec, LISTS[l]);
        for (cJSON *c = cJSON_IsArray(list) ? list->child : NULL; c; c = c->next) {
            cJSON *res = fu_get(c, "resources");
            cJSON *lim = fu_get(res, "limits");
            if (!cJSON_IsObject(lim))
                continue;
            cJSON *req = fu_get(res, "requests");
            if (req && !cJSON_IsObject(req))
                continue;
            for (const cJSON *q = lim->child; q; q = q->next) {
                if (req && cJSON_GetObjectItemCaseSensitive(req, q->string))
                    continue;
                if (!req) {
                    req = cJSON_CreateObject();
                    fu_put(res, "requests", req);
                }
                cJSON_AddItemToObject(req, q->string, cJSON_Duplicate(q, 1));
            }
        }
    }
    if (!fu_get(spec, "enableServiceLinks"))
        fu_put(spec, "enableServiceLinks", cJSON_CreateTrue());
    if (cJSON_IsTrue(fu_get(spec, "hostNetwork"))) {
        for (size_t l = 0; l < 2; l++) {
            const cJSON *list = fu_get(spec, LISTS[l]);
            for (cJSON *c = cJSON_IsArray(list) ? list->child : NULL; c; c = c->next) {
                const cJSON *ports = fu_get(c, "ports");
                for (cJSON *p = cJSON_IsArray(ports) ? ports->child : NULL; p; p = p->next) {
                    int64_t hp = 0, cp = 0;
                    fu_int(p, "hostPort", &hp);
                    if (hp == 0 && fu_int(p, "containerPort", &cp))
                        fu_put(p, "hostPort", ck_json_new_int64(cp));
                }
            }
        }
    }
}

static void pod_defaults(cJSON *pod)
{
    if (!cJSON_IsObject(pod))
        return;
    cJSON *spec = fu_ensure_object(pod, "spec");
    pod_only_defaults(spec);
    podspec_defaults(spec);
}

/* PrepareForCreate: status is Pending with the computed QoS class (on the defaulted spec,
 * as upstream decodes before preparing), plus the SchedulingGated condition for gated pods. */
static void pod_prepare_create(cJSON *pod)
{
    podspec_drop_disabled(fu_get(pod, "spec"), NULL);
    pod_defaults(pod);
    const cJSON *spec = fu_get(pod, "spec");
    cJSON *status = cJSON_CreateObject();
    cJSON_AddStringToObject(status, "phase", "Pending");
    if (cJSON_GetArraySize(fu_get(spec, "schedulingGates")) > 0) {
        cJSON *conds = cJSON_AddArrayToObject(status, "conditions");
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "type", "PodScheduled");
        cJSON_AddStringToObject(c, "status", "False");
        cJSON_AddNullToObject(c, "lastProbeTime");
        cJSON_AddNullToObject(c, "lastTransitionTime");
        cJSON_AddStringToObject(c, "reason", "SchedulingGated");
        cJSON_AddStringToObject(c, "message",
                                "Scheduling is blocked due to non-empty scheduling gates");
        cJSON_AddItemToArray(conds, c);
    }
    cJSON_AddStringToObject(status, "qosClass", podspec_qos_class(spec));
    fu_put(pod, "status", status);
}

static bool has_edge_space(const char *s)
{
    size_t n = strlen(s);
    static const char WS[] = " \t\n\v\f\r";
    return n && (strchr(WS, s[0]) || strchr(WS, s[n - 1]));
}

/* validateContainersOnlyForPod: images of a Pod may not carry surrounding whitespace. */
static void image_whitespace(const cJSON *spec, const char *list, struct field_errors *e)
{
    const cJSON *arr = fu_get(spec, list);
    int i = 0;
    for (const cJSON *c = cJSON_IsArray(arr) ? arr->child : NULL; c; c = c->next, i++) {
        const char *img = fu_str(c, "image");
        if (has_edge_space(img)) {
            CK_AUTOFREE char *f = ck_xasprintf("spec.%s[%d].image", list, i);
            fe_add_str(e, FE_INVALID, f, img, "must not have leading or trailing whitespace");
        }
    }
}

/* GetDeletionCostFromPodAnnotations: a base-10 int32 without '+' or leading zeros. */
static bool valid_deletion_cost(const char *v)
{
    if (!v[0] || !(v[0] == '-' || (v[0] >= '1' && v[0] <= '9') || !strcmp(v, "0")))
        return false;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    return !*end && errno == 0 && n >= INT32_MIN && n <= INT32_MAX && strcmp(v, "-");
}

/* ValidatePodSpecificAnnotations */
static void pod_annotations(const cJSON *pod, struct field_errors *e)
{
    const cJSON *ann = fu_get(fu_get(pod, "metadata"), "annotations");
    const cJSON *mirror = fu_get(ann, MIRROR_ANNOTATION);
    if (mirror && !fu_str(fu_get(pod, "spec"), "nodeName")[0])
        fe_add_str(e, FE_INVALID, "metadata.annotations[" MIRROR_ANNOTATION "]",
                   cJSON_IsString(mirror) ? mirror->valuestring : "",
                   "must set spec.nodeName if mirror pod annotation is set");
    const cJSON *cost = fu_get(ann, DELETION_COST_ANNOTATION);
    if (cost && !(cJSON_IsString(cost) && valid_deletion_cost(cost->valuestring)))
        fe_add_str(e, FE_INVALID, "metadata.annotations[" DELETION_COST_ANNOTATION "]",
                   cJSON_IsString(cost) ? cost->valuestring : "", "must be a 32bit integer");
}

/* validatePodMetadataAndSpec + ValidatePodCreate (ObjectMeta is checked generically). */
static void pod_validate(const cJSON *pod, struct field_errors *e)
{
    const cJSON *spec = fu_get(pod, "spec");
    const cJSON *meta = fu_get(pod, "metadata");
    pod_annotations(pod, e);
    struct podspec_opts o = {.resource_is_pod = true, .pod_name = fu_str(meta, "name")};
    podspec_validate_opts(spec, "spec", &o, e);
    if (!fu_str(spec, "serviceAccountName")[0]) {
        const cJSON *vols = fu_get(spec, "volumes");
        int vi = 0;
        for (const cJSON *v = cJSON_IsArray(vols) ? vols->child : NULL; v; v = v->next, vi++) {
            const cJSON *srcs = fu_get(fu_get(v, "projected"), "sources");
            int si = 0;
            for (const cJSON *s = cJSON_IsArray(srcs) ? srcs->child : NULL; s; s = s->next, si++) {
                if (!fu_get(s, "serviceAccountToken"))
                    continue;
                CK_AUTOFREE char *f = ck_xasprintf(
                    "spec.volumes[%d].projected.sources[%d].serviceAccountToken", vi, si);
                fe_add(e, FE_FORBIDDEN, f, NULL,
                       "must not be specified when serviceAccountName is not set");
            }
        }
    }
    image_whitespace(spec, "containers", e);
    image_whitespace(spec, "initContainers", e);
    /* create-only rules; a stored pod always carries its resourceVersion on update */
    if (!fu_str(meta, "resourceVersion")[0] &&
        cJSON_GetArraySize(fu_get(spec, "ephemeralContainers")) > 0)
        fe_add(e, FE_FORBIDDEN, "spec.ephemeralContainers", NULL, "cannot be set on create");
    if (fu_str(spec, "nodeName")[0] && cJSON_GetArraySize(fu_get(spec, "schedulingGates")) > 0)
        fe_add(e, FE_FORBIDDEN, "spec.nodeName", NULL,
               "cannot be set until all schedulingGates have been cleared");
}

/* ValidateContainerUpdates; returns false when the lists differ in length (upstream stops). */
static bool container_updates(const cJSON *spec, const cJSON *old, const char *list,
                              struct field_errors *e)
{
    const cJSON *a = fu_get(spec, list), *b = fu_get(old, list);
    CK_AUTOFREE char *base = ck_xasprintf("spec.%s", list);
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) {
        fe_add(e, FE_FORBIDDEN, base, NULL, "pod updates may not add or remove containers");
        return false;
    }
    int i = 0;
    for (const cJSON *c = cJSON_IsArray(a) ? a->child : NULL; c; c = c->next, i++) {
        const char *img = fu_str(c, "image");
        CK_AUTOFREE char *f = ck_xasprintf("%s[%d].image", base, i);
        if (!img[0])
            fe_add(e, FE_REQUIRED, f, NULL, NULL);
        if (has_edge_space(img))
            fe_add_str(e, FE_INVALID, f, img, "must not have leading or trailing whitespace");
    }
    return true;
}

/* validateOnlyAddedTolerations: each old toleration must still be there, ignoring its
 * tolerationSeconds. */
static void only_added_tolerations(const cJSON *spec, const cJSON *old, struct field_errors *e)
{
    const cJSON *nt = fu_get(spec, "tolerations"), *ot = fu_get(old, "tolerations");
    for (const cJSON *o = cJSON_IsArray(ot) ? ot->child : NULL; o; o = o->next) {
        bool found = false;
        for (const cJSON *n = cJSON_IsArray(nt) ? nt->child : NULL; n && !found; n = n->next) {
            cJSON *oc = cJSON_Duplicate(o, 1), *nc = cJSON_Duplicate(n, 1);
            cJSON_DeleteItemFromObjectCaseSensitive(oc, "tolerationSeconds");
            cJSON_DeleteItemFromObjectCaseSensitive(nc, "tolerationSeconds");
            found = podspec_go_equal(oc, nc);
            cJSON_Delete(oc);
            cJSON_Delete(nc);
        }
        if (!found) {
            fe_add(e, FE_FORBIDDEN, "spec.tolerations", NULL,
                   "existing toleration can not be modified except its tolerationSeconds");
            return;
        }
    }
    podspec_validate_tolerations(nt, "spec.tolerations", e);
}

static void only_deleted_gates(const cJSON *spec, const cJSON *old, struct field_errors *e)
{
    const cJSON *ng = fu_get(spec, "schedulingGates"), *og = fu_get(old, "schedulingGates");
    int i = 0;
    for (const cJSON *n = cJSON_IsArray(ng) ? ng->child : NULL; n; n = n->next, i++) {
        const char *name = fu_str(n, "name");
        bool found = false;
        for (const cJSON *o = cJSON_IsArray(og) ? og->child : NULL; o && !found; o = o->next)
            found = !strcmp(fu_str(o, "name"), name);
        if (!found) {
            CK_AUTOFREE char *f = ck_xasprintf("spec.schedulingGates[%d].name", i);
            fe_add(e, FE_FORBIDDEN, f, NULL,
                   "only deletion is allowed, but found new scheduling gate '%s'", name);
        }
    }
}

/* The Go field name of a PodSpec member, for the update diff. */
static void go_field_name(struct ck_buf *b, const char *json)
{
    static const struct {
        const char *json, *go;
    } SPECIAL[] = {
        {"dnsPolicy", "DNSPolicy"},
        {"dnsConfig", "DNSConfig"},
        {"hostPID", "HostPID"},
        {"hostIPC", "HostIPC"},
        {"os", "OS"},
        {"setHostnameAsFQDN", "SetHostnameAsFQDN"},
        {"serviceAccount", "DeprecatedServiceAccount"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(SPECIAL); i++) {
        if (!strcmp(SPECIAL[i].json, json)) {
            ck_buf_puts(b, SPECIAL[i].go);
            return;
        }
    }
    if (json[0] >= 'a' && json[0] <= 'z')
        ck_buf_putc(b, (char)(json[0] - 'a' + 'A'));
    else if (json[0])
        ck_buf_putc(b, json[0]);
    if (json[0])
        ck_buf_puts(b, json + 1);
}

static void diff_line(struct ck_buf *b, char sign, const char *key, const cJSON *v)
{
    ck_buf_printf(b, "%c \t", sign);
    go_field_name(b, key);
    ck_buf_puts(b, ": ");
    if (!v || cJSON_IsNull(v)) {
        ck_buf_puts(b, "nil");
    } else {
        CK_AUTOFREE char *s = ck_json_print(v, CK_JSON_NO_HTML_ESCAPE);
        ck_buf_puts(b, s ? s : "nil");
    }
    ck_buf_puts(b, ",\n");
}

static void flush_identical(struct ck_buf *b, int *same)
{
    if (*same)
        ck_buf_printf(b, "  \t... // %d identical field%s\n", *same, *same == 1 ? "" : "s");
    *same = 0;
}

/* A go-cmp style report of the top-level PodSpec members that differ (upstream prints
 * cmp.Diff of the internal structs; its exact layout is deliberately unstable). */
static char *spec_diff(const cJSON *old, const cJSON *munged)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "  core.PodSpec{\n");
    int same = 0;
    for (const cJSON *o = cJSON_IsObject(old) ? old->child : NULL; o; o = o->next) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(munged, o->string);
        const cJSON *nn = cJSON_IsObject(munged) ? n : NULL;
        if (podspec_go_equal(o, nn)) {
            same++;
            continue;
        }
        flush_identical(&b, &same);
        diff_line(&b, '-', o->string, o);
        if (nn && !cJSON_IsNull(nn))
            diff_line(&b, '+', o->string, nn);
        else
            diff_line(&b, '+', o->string, NULL);
    }
    for (const cJSON *n = cJSON_IsObject(munged) ? munged->child : NULL; n; n = n->next) {
        if (cJSON_GetObjectItemCaseSensitive(old, n->string) || podspec_go_equal(NULL, n))
            continue;
        flush_identical(&b, &same);
        diff_line(&b, '-', n->string, NULL);
        diff_line(&b, '+', n->string, n);
    }
    flush_identical(&b, &same);
    ck_buf_puts(&b, "  }\n");
    return ck_buf_detach(&b);
}

/* Copies member `key` of src into dst (or removes it when src lacks it). */
static void copy_member(cJSON *dst, const cJSON *src, const char *key)
{
    const cJSON *v = fu_get(src, key);
    if (v)
        fu_put(dst, key, cJSON_Duplicate(v, 1));
    else
        cJSON_DeleteItemFromObjectCaseSensitive(dst, key);
}

/* The new spec with every field a pod update may change reset to its old value. */
static cJSON *munge_spec(const cJSON *spec, const cJSON *old, struct field_errors *e)
{
    cJSON *m = cJSON_IsObject(spec) ? cJSON_Duplicate(spec, 1) : cJSON_CreateObject();
    static const char *const LISTS[] = {"containers", "initContainers"};
    for (int l = 0; l < 2; l++) {
        const cJSON *oc = fu_get(old, LISTS[l]);
        cJSON *nc = fu_get(m, LISTS[l]);
        const cJSON *o = cJSON_IsArray(oc) ? oc->child : NULL;
        for (cJSON *n = cJSON_IsArray(nc) ? nc->child : NULL; n && o; n = n->next, o = o->next)
            if (cJSON_IsObject(n))
                copy_member(n, o, "image");
    }
    copy_member(m, old, "activeDeadlineSeconds");
    copy_member(m, old, "schedulingGates");
    copy_member(m, old, "tolerations");
    int64_t og, ng;
    if (fu_int(old, "terminationGracePeriodSeconds", &og) && og < 0 &&
        fu_int(m, "terminationGracePeriodSeconds", &ng) && ng == 1)
        copy_member(m, old, "terminationGracePeriodSeconds");
    /* a gated pod may gain nodeSelector entries (but not lose or change any) */
    if (cJSON_GetArraySize(fu_get(old, "schedulingGates")) > 0 &&
        !podspec_go_equal(fu_get(m, "nodeSelector"), fu_get(old, "nodeSelector"))) {
        const cJSON *ons = fu_get(old, "nodeSelector"), *nns = fu_get(m, "nodeSelector");
        for (const cJSON *kv = cJSON_IsObject(ons) ? ons->child : NULL; kv; kv = kv->next) {
            const cJSON *nv = fu_get(nns, kv->string);
            if (!nv || !cJSON_IsString(nv) || !cJSON_IsString(kv) ||
                strcmp(nv->valuestring, kv->valuestring)) {
                fu_add_go(e, FE_INVALID, "spec.nodeSelector", fu_go_string_map, nns,
                          "only additions to spec.nodeSelector are allowed (no mutations or "
                          "deletions)");
                break;
            }
        }
        copy_member(m, old, "nodeSelector");
    }
    return m;
}

/* ValidateContainerStateTransition: without restartPolicy Always, a terminated container
 * (one that succeeded, or any under Never) may not run again. */
static void state_transitions(const cJSON *st, const cJSON *ost, const char *list,
                              const char *policy, const cJSON *ospec, struct field_errors *e)
{
    if (!strcmp(policy, "Always"))
        return;
    const cJSON *olist = fu_get(ost, list), *nlist = fu_get(st, list);
    int i = 0;
    for (const cJSON *o = cJSON_IsArray(olist) ? olist->child : NULL; o; o = o->next, i++) {
        const cJSON *term = fu_get(fu_get(o, "state"), "terminated");
        if (!term)
            continue;
        int64_t code = 0;
        fu_int(term, "exitCode", &code);
        if (code != 0 && !strcmp(policy, "OnFailure"))
            continue;
        /* restartable init containers (sidecars) may restart */
        bool sidecar = false;
        const cJSON *inits = fu_get(ospec, "initContainers");
        for (const cJSON *c = !strcmp(list, "initContainerStatuses") && cJSON_IsArray(inits)
                                  ? inits->child
                                  : NULL;
             c; c = c->next)
            if (!strcmp(fu_str(c, "name"), fu_str(o, "name")))
                sidecar = !strcmp(fu_str(c, "restartPolicy"), "Always");
        if (sidecar)
            continue;
        for (const cJSON *n = cJSON_IsArray(nlist) ? nlist->child : NULL; n; n = n->next) {
            if (!strcmp(fu_str(n, "name"), fu_str(o, "name")) &&
                !fu_get(fu_get(n, "state"), "terminated")) {
                CK_AUTOFREE char *f = ck_xasprintf("status.%s[%d].state", list, i);
                fe_add(e, FE_FORBIDDEN, f, NULL, "may not be transitioned to non-terminated state");
            }
        }
    }
}

/* The parts of ValidatePodStatusUpdate that concern what a status writer may change. */
static void pod_status_rules(const cJSON *pod, const cJSON *old, struct field_errors *e)
{
    const cJSON *st = fu_get(pod, "status"), *ost = fu_get(old, "status");
    const cJSON *ospec = fu_get(old, "spec");
    const char *nq = fu_str(st, "qosClass"), *oq = fu_str(ost, "qosClass");
    if (strcmp(nq, oq))
        fe_add_str(e, FE_INVALID, "status.qosClass", nq, "field is immutable");
    static const char *const SYSTEM[] = {"PodScheduled", "Ready", "Initialized", NULL};
    int i = 0;
    const cJSON *conds = fu_get(st, "conditions");
    for (const cJSON *c = cJSON_IsArray(conds) ? conds->child : NULL; c; c = c->next, i++) {
        const char *t = fu_str(c, "type");
        bool sys = false;
        for (size_t k = 0; SYSTEM[k]; k++)
            sys = sys || !strcmp(SYSTEM[k], t);
        if (sys)
            continue;
        /* upstream reports these under metadata (a long-standing quirk) */
        CK_AUTOFREE char *f = ck_xasprintf("metadata.conditions[%d].Type", i);
        fu_check(e, f, t, ck_is_qualified_name);
    }
    const char *nn = fu_str(st, "nominatedNodeName");
    if (nn[0] && strcmp(nn, fu_str(ost, "nominatedNodeName"))) {
        struct ck_errlist l = CK_ERRLIST_INIT;
        ck_name_is_dns_subdomain(nn, false, &l);
        fu_add_msgs(e, "status.nominatedNodeName", nn, &l);
    }
    const char *policy = fu_str(ospec, "restartPolicy");
    state_transitions(st, ost, "containerStatuses", policy, ospec, e);
    state_transitions(st, ost, "initContainerStatuses", policy, ospec, e);
    state_transitions(st, ost, "ephemeralContainerStatuses", "Never", ospec, e);
    static const char *const IPS[] = {"podIPs", "hostIPs"};
    for (int k = 0; k < 2; k++) {
        const cJSON *list = fu_get(st, IPS[k]);
        int j = 0;
        for (const cJSON *ip = cJSON_IsArray(list) ? list->child : NULL; ip; ip = ip->next, j++) {
            CK_AUTOFREE char *f = ck_xasprintf("status.%s[%d]", IPS[k], j);
            fu_check(e, f, fu_str(ip, "ip"), ck_is_valid_ip);
        }
    }
    const cJSON *hips = fu_get(st, "hostIPs");
    if (cJSON_GetArraySize(hips) > 0 && strcmp(fu_str(st, "hostIP"), fu_str(hips->child, "ip")))
        fe_add_str(e, FE_INVALID, "status.hostIPs[0].ip", fu_str(hips->child, "ip"),
                   "must be equal to `hostIP`");
}

/* ValidatePodUpdate (the metadata and spec rules of create ran already). */
static void pod_validate_update(const cJSON *pod, const cJSON *old, struct field_errors *e)
{
    const cJSON *spec = fu_get(pod, "spec"), *ospec = fu_get(old, "spec");
    const cJSON *ann = fu_get(fu_get(pod, "metadata"), "annotations");
    const cJSON *oann = fu_get(fu_get(old, "metadata"), "annotations");
    const cJSON *nm = fu_get(ann, MIRROR_ANNOTATION), *om = fu_get(oann, MIRROR_ANNOTATION);
    const char *mf = "metadata.annotations[" MIRROR_ANNOTATION "]";
    if (om && (!nm || !podspec_go_equal(om, nm)))
        fe_add(e, FE_FORBIDDEN, mf, NULL, "may not remove or update mirror pod annotation");
    if (nm && !om)
        fe_add(e, FE_FORBIDDEN, mf, NULL, "may not add mirror pod annotation");
    /* a main update keeps the stored status, so this only sees /status writes */
    if (!podspec_go_equal(fu_get(pod, "status"), fu_get(old, "status")))
        pod_status_rules(pod, old, e);
    if (!container_updates(spec, ospec, "containers", e) ||
        !container_updates(spec, ospec, "initContainers", e))
        return;
    int64_t nads, oads;
    bool hn = fu_int(spec, "activeDeadlineSeconds", &nads);
    bool ho = fu_int(ospec, "activeDeadlineSeconds", &oads);
    if (hn) {
        if (nads < 0 || nads > INT32_MAX) {
            fe_add_int(e, FE_INVALID, "spec.activeDeadlineSeconds", nads,
                       "must be between 0 and 2147483647, inclusive");
            return;
        }
        if (ho && oads < nads) {
            fe_add_int(e, FE_INVALID, "spec.activeDeadlineSeconds", nads,
                       "must be less than or equal to previous value");
            return;
        }
    } else if (ho) {
        fe_add_raw(e, FE_INVALID, "spec.activeDeadlineSeconds", "null",
                   "must not update from a positive integer to nil value");
    }
    only_added_tolerations(spec, ospec, e);
    only_deleted_gates(spec, ospec, e);
    if (podspec_go_equal(spec, ospec))
        return;
    cJSON *m = munge_spec(spec, ospec, e);
    if (!podspec_go_equal(m, ospec)) {
        CK_AUTOFREE char *diff = spec_diff(ospec, m);
        fe_add(e, FE_FORBIDDEN, "spec", NULL,
               "pod updates may not change fields other than `spec.containers[*].image`,"
               "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
               "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
               "(allow it to be set to 1 if it was previously negative)\n%s",
               diff);
    }
    cJSON_Delete(m);
}

/* PrepareForUpdate: fields of disabled features go unless the stored pod uses them. */
static void pod_prepare_update(cJSON *pod, const cJSON *old)
{
    podspec_drop_disabled(fu_get(pod, "spec"), fu_get(old, "spec"));
}

static void pod_strategy_defaults(cJSON *pod)
{
    pod_defaults(pod);
}

const struct strategy strategy_pod = {
    .flags = STRAT_STATUS,
    .field_labels = POD_FIELDS,
    .defaults = pod_strategy_defaults,
    .prepare_create = pod_prepare_create,
    .prepare_update = pod_prepare_update,
    .validate = pod_validate,
    .validate_update = pod_validate_update,
    .grace_period = pod_grace_period,
};
