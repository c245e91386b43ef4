/* nodeinfo.c - parsing Pods and Nodes into the scheduler's model, resource arithmetic, node
 * infos (see nodeinfo.h). */
#include "nodeinfo.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "mem.h"
#include "quantity.h"
#include "timeutil.h"

/* ---- resources ---- */

bool sched_is_extended_resource_name(const char *name)
{
    if (!name || !strchr(name, '/'))
        return false;
    return strstr(name, "kubernetes.io/") == NULL && strncmp(name, "requests.", 9) != 0;
}

bool sched_is_scalar_resource_name(const char *name)
{
    if (!name)
        return false;
    return sched_is_extended_resource_name(name) || strncmp(name, "hugepages-", 10) == 0 ||
           strstr(name, "kubernetes.io/") != NULL || strncmp(name, "attachable-volumes-", 19) == 0;
}

void sched_resource_free(struct sched_resource *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nscalar; i++)
        free(r->scalar[i].name);
    free(r->scalar);
    memset(r, 0, sizeof(*r));
}

void sched_resource_copy(struct sched_resource *dst, const struct sched_resource *src)
{
    sched_resource_free(dst);
    *dst = *src;
    dst->scalar = NULL;
    if (src->nscalar) {
        dst->scalar = ck_xcalloc(src->nscalar, sizeof(*dst->scalar));
        for (size_t i = 0; i < src->nscalar; i++) {
            dst->scalar[i].name = ck_xstrdup(src->scalar[i].name);
            dst->scalar[i].value = src->scalar[i].value;
        }
    }
}

int64_t sched_resource_scalar(const struct sched_resource *r, const char *name)
{
    for (size_t i = 0; i < r->nscalar; i++)
        if (strcmp(r->scalar[i].name, name) == 0)
            return r->scalar[i].value;
    return 0;
}

void sched_resource_add_scalar(struct sched_resource *r, const char *name, int64_t v)
{
    size_t i = 0;
    for (; i < r->nscalar; i++) {
        int c = strcmp(r->scalar[i].name, name);
        if (c == 0) {
            r->scalar[i].value += v;
            return;
        }
        if (c > 0)
            break;
    }
    r->scalar = ck_xrealloc(r->scalar, (r->nscalar + 1) * sizeof(*r->scalar));
    memmove(&r->scalar[i + 1], &r->scalar[i], (r->nscalar - i) * sizeof(*r->scalar));
    r->scalar[i].name = ck_xstrdup(name);
    r->scalar[i].value = v;
    r->nscalar++;
}

void sched_resource_add(struct sched_resource *r, const struct sched_resource *x, int sign)
{
    r->milli_cpu += sign * x->milli_cpu;
    r->memory += sign * x->memory;
    r->ephemeral_storage += sign * x->ephemeral_storage;
    r->allowed_pods += sign * x->allowed_pods;
    for (size_t i = 0; i < x->nscalar; i++)
        sched_resource_add_scalar(r, x->scalar[i].name, sign * x->scalar[i].value);
}

static void resource_add_one(struct sched_resource *r, const char *name,
                             const struct ck_quantity *q)
{
    if (strcmp(name, "cpu") == 0)
        r->milli_cpu += ck_quantity_milli_value(q);
    else if (strcmp(name, "memory") == 0)
        r->memory += ck_quantity_value(q);
    else if (strcmp(name, "pods") == 0)
        r->allowed_pods += ck_quantity_value(q);
    else if (strcmp(name, "ephemeral-storage") == 0)
        r->ephemeral_storage += ck_quantity_value(q);
    else if (sched_is_scalar_resource_name(name))
        sched_resource_add_scalar(r, name, ck_quantity_value(q));
}

int sched_resource_add_list(struct sched_resource *r, const cJSON *list, struct ck_error *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        struct ck_quantity q;
        int rc = ck_quantity_parse_json(it, &q, err);
        if (rc < 0)
            return rc;
        if (it->string)
            resource_add_one(r, it->string, &q);
    }
    return 0;
}

/* ---- exact resource lists, for upstream's PodRequests ---- */

struct rl_entry {
    const char *name;
    struct ck_quantity q;
};
struct rlist {
    struct rl_entry *e;
    size_t n;
};

static struct rl_entry *rl_find(struct rlist *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].name, name) == 0)
            return &l->e[i];
    return NULL;
}

static void rl_set(struct rlist *l, const char *name, const struct ck_quantity *q)
{
    struct rl_entry *e = rl_find(l, name);
    if (!e) {
        l->e = ck_xrealloc(l->e, (l->n + 1) * sizeof(*l->e));
        e = &l->e[l->n++];
        e->name = name;
    }
    e->q = *q;
}

static void rl_add(struct rlist *dst, const struct rlist *src)
{
    for (size_t i = 0; i < src->n; i++) {
        struct rl_entry *e = rl_find(dst, src->e[i].name);
        if (!e || ck_quantity_add(&e->q, &src->e[i].q) < 0)
            rl_set(dst, src->e[i].name, e ? &e->q : &src->e[i].q);
    }
}

static void rl_max(struct rlist *dst, const struct rlist *src)
{
    for (size_t i = 0; i < src->n; i++) {
        struct rl_entry *e = rl_find(dst, src->e[i].name);
        if (!e || ck_quantity_cmp(&src->e[i].q, &e->q) > 0)
            rl_set(dst, src->e[i].name, &src->e[i].q);
    }
}

static void rl_copy(struct rlist *dst, const struct rlist *src)
{
    dst->n = 0;
    rl_add(dst, src);
}

static int rl_parse(struct rlist *l, const cJSON *obj, bool non_missing, struct ck_error *err)
{
    l->n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        struct ck_quantity q;
        int rc = ck_quantity_parse_json(it, &q, err);
        if (rc < 0)
            return rc;
        if (it->string)
            rl_set(l, it->string, &q);
    }
    if (non_missing) {
        struct ck_quantity cpu =
            ck_quantity_from_milli(SCHED_DEFAULT_MILLI_CPU_REQUEST, CK_QUANTITY_DECIMAL_SI);
        struct ck_quantity mem =
            ck_quantity_from_int64(SCHED_DEFAULT_MEMORY_REQUEST, CK_QUANTITY_DECIMAL_SI);
        if (!rl_find(l, "cpu"))
            rl_set(l, "cpu", &cpu);
        if (!rl_find(l, "memory"))
            rl_set(l, "memory", &mem);
    }
    return 0;
}

/* upstream resourcehelper.PodRequests (AggregateContainerRequests + overhead). */
static int pod_requests(const cJSON *spec, bool non_missing, struct rlist *out,
                        struct ck_error *err)
{
    struct rlist c = {0}, restartable = {0}, init = {0}, tmp = {0};
    int rc = 0;
    out->n = 0;
    const cJSON *ctr;
    cJSON_ArrayForEach(ctr, ck_json_get(spec, "containers"))
    {
        if ((rc = rl_parse(&c, ck_json_get(ctr, "resources.requests"), non_missing, err)) < 0)
            goto out;
        rl_add(out, &c);
    }
    cJSON_ArrayForEach(ctr, ck_json_get(spec, "initContainers"))
    {
        if ((rc = rl_parse(&c, ck_json_get(ctr, "resources.requests"), non_missing, err)) < 0)
            goto out;
        if (strcmp(ck_json_get_string(ctr, "restartPolicy", ""), "Always") == 0) {
            rl_add(out, &c);
            rl_add(&restartable, &c);
            rl_copy(&tmp, &restartable);
        } else {
            rl_copy(&tmp, &c);
            rl_add(&tmp, &restartable);
        }
        rl_max(&init, &tmp);
    }
    rl_max(out, &init);
    if ((rc = rl_parse(&c, ck_json_get(spec, "overhead"), false, err)) < 0)
        goto out;
    rl_add(out, &c);
out:
    free(c.e);
    free(restartable.e);
    free(init.e);
    free(tmp.e);
    return rc;
}

/* ---- taints and tolerations ---- */

unsigned sched_taint_effect_bit(const char *effect)
{
    if (!effect)
        return 0;
    if (strcmp(effect, "NoSchedule") == 0)
        return SCHED_EFFECT_NO_SCHEDULE;
    if (strcmp(effect, "NoExecute") == 0)
        return SCHED_EFFECT_NO_EXECUTE;
    if (strcmp(effect, "PreferNoSchedule") == 0)
        return SCHED_EFFECT_PREFER_NO_SCHEDULE;
    return 0;
}

bool sched_toleration_tolerates(const struct sched_toleration *t, const struct sched_taint *taint)
{
    if (t->effect[0] && strcmp(t->effect, taint->effect) != 0)
        return false;
    if (t->key[0] && strcmp(t->key, taint->key) != 0)
        return false;
    if (t->op[0] == '\0' || strcmp(t->op, "Equal") == 0)
        return strcmp(t->value, taint->value) == 0;
    return strcmp(t->op, "Exists") == 0;
}

const struct sched_taint *sched_find_untolerated_taint(const struct sched_taint *taints,
                                                       size_t ntaints,
                                                       const struct sched_toleration *tols,
                                                       size_t ntols, unsigned filter)
{
    for (size_t i = 0; i < ntaints; i++) {
        if (!(sched_taint_effect_bit(taints[i].effect) & filter))
            continue;
        bool ok = false;
        for (size_t j = 0; j < ntols && !ok; j++)
            ok = sched_toleration_tolerates(&tols[j], &taints[i]);
        if (!ok)
            return &taints[i];
    }
    return NULL;
}

/* ---- affinity terms ---- */

bool sched_term_matches(const struct sched_affinity_term *t, const char *pod_ns,
                        const cJSON *pod_labels, const cJSON *ns_labels)
{
    bool ns_ok = false;
    for (size_t i = 0; i < t->nnamespaces && !ns_ok; i++)
        ns_ok = strcmp(t->namespaces[i], pod_ns) == 0;
    if (!ns_ok && t->ns_selector && !t->ns_selector->nothing)
        ns_ok = ck_label_selector_matches(t->ns_selector, ns_labels);
    return ns_ok && ck_label_selector_matches(t->selector, pod_labels);
}

static void term_free(struct sched_affinity_term *t)
{
    ck_label_selector_free(t->selector);
    ck_label_selector_free(t->ns_selector);
    for (size_t i = 0; i < t->nnamespaces; i++)
        free(t->namespaces[i]);
    free(t->namespaces);
}

static void terms_free(struct sched_affinity_term *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        term_free(&t[i]);
    free(t);
}

/* Parses a PodAffinityTerm; false (with *perr set once) when a selector is invalid. */
static bool term_parse(struct sched_pod *p, const cJSON *term, struct sched_affinity_term *out)
{
    struct ck_error e = CK_ERROR_INIT;
    memset(out, 0, sizeof(*out));
    const cJSON *nss = ck_json_get(term, "namespaceSelector");
    if (ck_label_selector_from_json(ck_json_get(term, "labelSelector"), &out->selector, &e) < 0 ||
        ck_label_selector_from_json(cJSON_IsNull(nss) ? NULL : nss, &out->ns_selector, &e) < 0) {
        if (!p->parse_error)
            p->parse_error = ck_xstrdup(e.message);
        ck_error_clear(&e);
        term_free(out);
        return false;
    }
    const cJSON *names = ck_json_get(term, "namespaces");
    int n = cJSON_IsArray(names) ? cJSON_GetArraySize(names) : 0;
    if (n == 0 && (!nss || cJSON_IsNull(nss))) {
        out->namespaces = ck_xcalloc(1, sizeof(char *));
        out->namespaces[0] = ck_xstrdup(p->ns);
        out->nnamespaces = 1;
    } else if (n > 0) {
        out->namespaces = ck_xcalloc((size_t)n, sizeof(char *));
        const cJSON *it;
        cJSON_ArrayForEach(it, names) if (cJSON_IsString(it)) out->namespaces[out->nnamespaces++] =
            ck_xstrdup(it->valuestring);
    }
    out->topology_key = ck_json_get_string(term, "topologyKey", "");
    return true;
}

static void terms_parse(struct sched_pod *p, const cJSON *arr, bool weighted,
                        struct sched_affinity_term **out, size_t *n)
{
    int len = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    *out = len > 0 ? ck_xcalloc((size_t)len, sizeof(**out)) : NULL;
    *n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        const cJSON *term = weighted ? ck_json_get(it, "podAffinityTerm") : it;
        if (*n < (size_t)len && term_parse(p, term, &(*out)[*n])) {
            (*out)[*n].weight = (int32_t)ck_json_get_int64(it, "weight", 0);
            (*n)++;
        }
    }
}

/* ---- pods ---- */

void sched_pod_key(const cJSON *pod, char *buf, size_t size)
{
    const char *uid = ck_json_get_string(pod, "metadata.uid", "");
    if (uid[0])
        snprintf(buf, size, "%s", uid);
    else
        snprintf(buf, size, "%s/%s", ck_json_get_string(pod, "metadata.namespace", ""),
                 ck_json_get_string(pod, "metadata.name", ""));
}

static int64_t time_field(const cJSON *obj, const char *path)
{
    const char *s = ck_json_get_string(obj, path, NULL);
    struct timespec ts;
    if (!s || ck_time_parse(s, &ts, NULL) < 0)
        return 0;
    return (int64_t)ts.tv_sec;
}

static const char *str_or(const cJSON *obj, const char *key, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : def;
}

static void pod_parse_spec(struct sched_pod *p, const cJSON *spec)
{
    const cJSON *tols = ck_json_get(spec, "tolerations");
    int nt = cJSON_IsArray(tols) ? cJSON_GetArraySize(tols) : 0;
    p->tols = nt > 0 ? ck_xcalloc((size_t)nt, sizeof(*p->tols)) : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, tols)
    {
        if (p->ntols >= (size_t)nt)
            break;
        struct sched_toleration *t = &p->tols[p->ntols++];
        t->key = str_or(it, "key", "");
        t->op = str_or(it, "operator", "");
        t->value = str_or(it, "value", "");
        t->effect = str_or(it, "effect", "");
    }
    size_t nports = 0, nimages = 0;
    const cJSON *ctrs = ck_json_get(spec, "containers"),
                *inits = ck_json_get(spec, "initContainers");
    const cJSON *ctr, *port;
    cJSON_ArrayForEach(ctr, ctrs) nports += (size_t)cJSON_GetArraySize(ck_json_get(ctr, "ports"));
    nimages = (size_t)cJSON_GetArraySize(ctrs) + (size_t)cJSON_GetArraySize(inits);
    p->ports = nports ? ck_xcalloc(nports, sizeof(*p->ports)) : NULL;
    cJSON_ArrayForEach(ctr, ctrs) cJSON_ArrayForEach(port, ck_json_get(ctr, "ports"))
    {
        int64_t hp = ck_json_get_int64(port, "hostPort", 0);
        if (hp <= 0 || p->nports >= nports)
            continue;
        struct sched_host_port *hpi = &p->ports[p->nports++];
        hpi->port = (int32_t)hp;
        hpi->ip = str_or(port, "hostIP", "");
        if (!hpi->ip[0])
            hpi->ip = "0.0.0.0";
        hpi->protocol = str_or(port, "protocol", "");
        if (!hpi->protocol[0])
            hpi->protocol = "TCP";
    }
    p->images = nimages ? ck_xcalloc(nimages, sizeof(char *)) : NULL;
    cJSON_ArrayForEach(ctr, inits) if (p->nimages < nimages) p->images[p->nimages++] =
        str_or(ctr, "image", "");
    cJSON_ArrayForEach(ctr, ctrs) if (p->nimages < nimages) p->images[p->nimages++] =
        str_or(ctr, "image", "");
    const cJSON *aff = ck_json_get(spec, "affinity");
    terms_parse(p, ck_json_get(aff, "podAffinity.requiredDuringSchedulingIgnoredDuringExecution"),
                false, &p->req_aff, &p->nreq_aff);
    terms_parse(p,
                ck_json_get(aff, "podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"),
                false, &p->req_anti, &p->nreq_anti);
    terms_parse(p, ck_json_get(aff, "podAffinity.preferredDuringSchedulingIgnoredDuringExecution"),
                true, &p->pref_aff, &p->npref_aff);
    terms_parse(p,
                ck_json_get(aff, "podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"),
                true, &p->pref_anti, &p->npref_anti);
    p->has_affinity = ck_json_get(aff, "podAffinity") || ck_json_get(aff, "podAntiAffinity");
    p->ngates = (size_t)cJSON_GetArraySize(ck_json_get(spec, "schedulingGates"));
}

struct sched_pod *sched_pod_new(const cJSON *obj, struct ck_error *err)
{
    if (!cJSON_IsObject(obj)) {
        ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "pod is not a JSON object");
        return NULL;
    }
    struct sched_pod *p = ck_xcalloc(1, sizeof(*p));
    p->refs = 1;
    p->obj = cJSON_Duplicate(obj, 1);
    const cJSON *md = ck_json_get(p->obj, "metadata"), *spec = ck_json_get(p->obj, "spec");
    p->ns = str_or(md, "namespace", "");
    p->name = str_or(md, "name", "");
    p->uid = str_or(md, "uid", "");
    p->labels = ck_json_get(md, "labels");
    p->node_name = str_or(spec, "nodeName", "");
    p->scheduler_name = str_or(spec, "schedulerName", "default-scheduler");
    p->nominated_node = ck_json_get_string(p->obj, "status.nominatedNodeName", "");
    p->key = p->uid[0] ? ck_xstrdup(p->uid) : ck_xasprintf("%s/%s", p->ns, p->name);
    p->priority = (int32_t)ck_json_get_int64(spec, "priority", 0);
    p->preempt_never = strcmp(str_or(spec, "preemptionPolicy", ""), "Never") == 0;
    p->terminating =
        ck_json_get(md, "deletionTimestamp") && !cJSON_IsNull(ck_json_get(md, "deletionTimestamp"));
    p->start_time = time_field(p->obj, "status.startTime");
    p->creation_time = time_field(md, "creationTimestamp");
    struct rlist l = {0};
    if (pod_requests(spec, false, &l, err) < 0) {
        free(l.e);
        sched_pod_unref(p);
        return NULL;
    }
    for (size_t i = 0; i < l.n; i++)
        resource_add_one(&p->req, l.e[i].name, &l.e[i].q);
    if (pod_requests(spec, true, &l, err) == 0) {
        struct rl_entry *e = rl_find(&l, "cpu");
        p->non0_cpu = e ? ck_quantity_milli_value(&e->q) : 0;
        e = rl_find(&l, "memory");
        p->non0_mem = e ? ck_quantity_value(&e->q) : 0;
    }
    free(l.e);
    pod_parse_spec(p, spec);
    return p;
}

struct sched_pod *sched_pod_ref(struct sched_pod *p)
{
    if (p)
        __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
    return p;
}

void sched_pod_unref(struct sched_pod *p)
{
    if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    sched_resource_free(&p->req);
    free(p->tols);
    free(p->ports);
    free(p->images);
    terms_free(p->req_aff, p->nreq_aff);
    terms_free(p->req_anti, p->nreq_anti);
    terms_free(p->pref_aff, p->npref_aff);
    terms_free(p->pref_anti, p->npref_anti);
    free(p->parse_error);
    free(p->key);
    cJSON_Delete(p->obj);
    free(p);
}

int32_t sched_pod_priority(const struct sched_pod *p)
{
    return p ? p->priority : 0;
}

bool sched_pod_more_important(const struct sched_pod *a, const struct sched_pod *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority;
    /* upstream GetPodStartTime: a pod that has not started counts as starting now */
    int64_t now = (int64_t)time(NULL);
    int64_t sa = a->start_time ? a->start_time : now, sb = b->start_time ? b->start_time : now;
    return sa < sb;
}

/* ---- nodes ---- */

static void free_image(void *v)
{
    free(v);
}

struct sched_node *sched_node_new(const cJSON *obj, struct ck_error *err)
{
    if (!cJSON_IsObject(obj)) {
        ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "node is not a JSON object");
        return NULL;
    }
    struct sched_node *n = ck_xcalloc(1, sizeof(*n));
    n->refs = 1;
    n->obj = cJSON_Duplicate(obj, 1);
    n->name = ck_json_get_string(n->obj, "metadata.name", "");
    n->labels = ck_json_get(n->obj, "metadata.labels");
    n->unschedulable = ck_json_get_bool(n->obj, "spec.unschedulable", false);
    const cJSON *taints = ck_json_get(n->obj, "spec.taints"), *it;
    int nt = cJSON_IsArray(taints) ? cJSON_GetArraySize(taints) : 0;
    n->taints = nt > 0 ? ck_xcalloc((size_t)nt, sizeof(*n->taints)) : NULL;
    cJSON_ArrayForEach(it, taints)
    {
        if (n->ntaints >= (size_t)nt)
            break;
        struct sched_taint *t = &n->taints[n->ntaints++];
        t->key = str_or(it, "key", "");
        t->value = str_or(it, "value", "");
        t->effect = str_or(it, "effect", "");
    }
    if (sched_resource_add_list(&n->allocatable, ck_json_get(n->obj, "status.allocatable"), err) <
        0) {
        sched_node_unref(n);
        return NULL;
    }
    cJSON_ArrayForEach(it, ck_json_get(n->obj, "status.images"))
    {
        int64_t size = ck_json_get_int64(it, "sizeBytes", 0);
        const cJSON *name;
        cJSON_ArrayForEach(name, ck_json_get(it, "names"))
        {
            if (!cJSON_IsString(name) || ck_strmap_get(&n->images, name->valuestring))
                continue;
            struct sched_image *img = ck_xcalloc(1, sizeof(*img));
            img->size = size;
            ck_strmap_put(&n->images, name->valuestring, img);
        }
    }
    return n;
}

struct sched_node *sched_node_ref(struct sched_node *n)
{
    if (n)
        __atomic_add_fetch(&n->refs, 1, __ATOMIC_RELAXED);
    return n;
}

void sched_node_unref(struct sched_node *n)
{
    if (!n || __atomic_sub_fetch(&n->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    free(n->taints);
    sched_resource_free(&n->allocatable);
    ck_strmap_free(&n->images, free_image);
    cJSON_Delete(n->obj);
    free(n);
}

const char *sched_node_label(const struct sched_node *n, const char *key)
{
    if (!n || !n->labels)
        return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(n->labels, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- node infos ---- */

struct sched_node_info *sched_node_info_new(const char *name)
{
    struct sched_node_info *ni = ck_xcalloc(1, sizeof(*ni));
    ni->name = ck_xstrdup(name ? name : "");
    return ni;
}

void sched_node_info_free(struct sched_node_info *ni)
{
    if (!ni)
        return;
    for (size_t i = 0; i < ni->npods; i++)
        sched_pod_unref(ni->pods[i]);
    free(ni->pods);
    sched_node_unref(ni->node);
    sched_resource_free(&ni->requested);
    free(ni->name);
    free(ni);
}

struct sched_node_info *sched_node_info_clone(const struct sched_node_info *ni)
{
    struct sched_node_info *c = ck_xcalloc(1, sizeof(*c));
    *c = *ni;
    c->name = ck_xstrdup(ni->name);
    c->node = sched_node_ref(ni->node);
    c->cap = ni->npods;
    c->pods = c->cap ? ck_xcalloc(c->cap, sizeof(*c->pods)) : NULL;
    for (size_t i = 0; i < ni->npods; i++)
        c->pods[i] = sched_pod_ref(ni->pods[i]);
    memset(&c->requested, 0, sizeof(c->requested));
    sched_resource_copy(&c->requested, &ni->requested);
    return c;
}

void sched_node_info_set_node(struct sched_node_info *ni, struct sched_node *node)
{
    sched_node_ref(node);
    sched_node_unref(ni->node);
    ni->node = node;
}

static void account(struct sched_node_info *ni, const struct sched_pod *p, int sign)
{
    sched_resource_add(&ni->requested, &p->req, sign);
    ni->non0_cpu += sign * p->non0_cpu;
    ni->non0_mem += sign * p->non0_mem;
    if (p->has_affinity)
        ni->naffinity = (size_t)((int64_t)ni->naffinity + sign);
    if (p->nreq_anti)
        ni->nreq_anti = (size_t)((int64_t)ni->nreq_anti + sign);
}

void sched_node_info_add_pod(struct sched_node_info *ni, struct sched_pod *p)
{
    if (ni->npods == ni->cap) {
        ni->cap = ni->cap ? ni->cap * 2 : 8;
        ni->pods = ck_xrealloc(ni->pods, ni->cap * sizeof(*ni->pods));
    }
    ni->pods[ni->npods++] = sched_pod_ref(p);
    account(ni, p, 1);
}

int sched_node_info_remove_pod(struct sched_node_info *ni, const char *key)
{
    for (size_t i = 0; i < ni->npods; i++) {
        if (strcmp(ni->pods[i]->key, key) != 0)
            continue;
        struct sched_pod *p = ni->pods[i];
        /* upstream swaps the last pod into the hole */
        ni->pods[i] = ni->pods[--ni->npods];
        account(ni, p, -1);
        sched_pod_unref(p);
        return 0;
    }
    return -ENOENT;
}

const struct sched_resource *sched_node_info_allocatable(const struct sched_node_info *ni)
{
    static const struct sched_resource zero;
    return ni->node ? &ni->node->allocatable : &zero;
}
