/* sched_test_util.h - helpers shared by the test_sched_*.c unit tests: JSON written with single
 * quotes, a small "world" (cache + snapshot + profile) to run plugins and cycles on, and
 * runners that turn a filter result into "Code: reason, reason" text for table comparisons. */
#ifndef SCHED_TEST_UTIL_H
#define SCHED_TEST_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "scheduler/cache.h"
#include "scheduler/framework.h"
#include "scheduler/plugins/plugins.h"
#include "scheduler/schedule.h"

/* Parses printf-formatted JSON in which ' stands for ". Aborts the test on bad JSON. */
static cJSON *J(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static cJSON *J(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    cJSON *j = ck_json_parse(s, strlen(s), NULL);
    if (!j) {
        fprintf(stderr, "bad test JSON: %s\n", s);
        abort();
    }
    free(s);
    return j;
}

/* A Node with allocatable cpu/memory/pods, labels (a JSON object text) and spec (text). */
static cJSON *node_json(const char *name, const char *cpu, const char *mem, int pods,
                        const char *labels, const char *spec) __attribute__((unused));
static cJSON *node_json(const char *name, const char *cpu, const char *mem, int pods,
                        const char *labels, const char *spec)
{
    return J("{'apiVersion':'v1','kind':'Node','metadata':{'name':'%s','labels':%s},"
             "'spec':%s,'status':{'allocatable':{'cpu':'%s','memory':'%s','pods':'%d',"
             "'ephemeral-storage':'100Gi'}}}",
             name, labels ? labels : "{}", spec ? spec : "{}", cpu, mem, pods);
}

/* A Pod in `ns` with one container requesting cpu/mem ("" for none) and extra spec members
 * (a JSON text without braces, may be ""), assigned to `node` ("" for pending). */
static cJSON *pod_json(const char *ns, const char *name, const char *labels, const char *cpu,
                       const char *mem, const char *node, const char *extra)
    __attribute__((unused));
static cJSON *pod_json(const char *ns, const char *name, const char *labels, const char *cpu,
                       const char *mem, const char *node, const char *extra)
{
    char req[256] = "";
    if (cpu[0] && mem[0])
        snprintf(req, sizeof(req), "'cpu':'%s','memory':'%s'", cpu, mem);
    else if (cpu[0])
        snprintf(req, sizeof(req), "'cpu':'%s'", cpu);
    else if (mem[0])
        snprintf(req, sizeof(req), "'memory':'%s'", mem);
    return J("{'apiVersion':'v1','kind':'Pod','metadata':{'namespace':'%s','name':'%s',"
             "'uid':'uid-%s-%s','labels':%s},'spec':{'nodeName':'%s','containers':[{'name':'c',"
             "'image':'busybox','resources':{'requests':{%s}}}]%s%s},'status':{}}",
             ns, name, ns, name, labels ? labels : "{}", node, req, extra && extra[0] ? "," : "",
             extra ? extra : "");
}

struct world {
    struct sched_cache *cache;
    struct sched_snapshot snap;
    struct sched_framework *fw;
    struct sched_handle h;
};

static void world_init(struct world *w, const struct sched_plugin *const *plugins, size_t n,
                       const struct sched_handle *h) __attribute__((unused));
static void world_init(struct world *w, const struct sched_plugin *const *plugins, size_t n,
                       const struct sched_handle *h)
{
    memset(w, 0, sizeof(*w));
    w->cache = sched_cache_new(NULL);
    sched_snapshot_init(&w->snap);
    if (h)
        w->h = *h;
    w->fw = plugins ? sched_framework_new(plugins, n, h) : sched_framework_new_default(h);
}

static void world_free(struct world *w) __attribute__((unused));
static void world_free(struct world *w)
{
    sched_snapshot_free(&w->snap);
    sched_cache_free(w->cache);
    sched_framework_free(w->fw);
}

/* Adds (and frees) a node or an assigned pod. */
static void world_node(struct world *w, cJSON *node) __attribute__((unused));
static void world_node(struct world *w, cJSON *node)
{
    if (sched_cache_add_node(w->cache, node, NULL) < 0)
        abort();
    cJSON_Delete(node);
}

static void world_pod(struct world *w, cJSON *pod) __attribute__((unused));
static void world_pod(struct world *w, cJSON *pod)
{
    if (sched_cache_add_pod(w->cache, pod, NULL) < 0)
        abort();
    cJSON_Delete(pod);
}

static struct sched_pod *parse_pod(cJSON *obj) __attribute__((unused));
static struct sched_pod *parse_pod(cJSON *obj)
{
    struct sched_pod *p = sched_pod_new(obj, NULL);
    cJSON_Delete(obj);
    if (!p)
        abort();
    return p;
}

static const char *code_name(enum sched_code c)
{
    switch (c) {
    case SCHED_SUCCESS:
        return "Success";
    case SCHED_ERROR:
        return "Error";
    case SCHED_UNSCHEDULABLE:
        return "Unschedulable";
    case SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE:
        return "UnschedulableAndUnresolvable";
    case SCHED_SKIP:
        return "Skip";
    default:
        return "Other";
    }
}

/* "" when the pod passes PreFilter and Filter on `node`, else "Code: reasons". Caller frees.
 * Takes `pod` (the JSON). */
static char *world_filter(struct world *w, cJSON *pod, const char *node) __attribute__((unused));
static char *world_filter(struct world *w, cJSON *pod, const char *node)
{
    sched_cache_update_snapshot(w->cache, &w->snap);
    struct sched_pod *p = parse_pod(pod);
    struct sched_cycle *c = sched_cycle_new(w->fw, &w->snap, p);
    struct sched_prefilter_result res;
    struct sched_status *st = sched_run_pre_filter(c, &res, NULL, NULL);
    if (!st) {
        struct sched_node_info *ni = sched_snapshot_get(&w->snap, node);
        if (!ni)
            abort();
        bool listed = res.all_nodes;
        for (size_t i = 0; i < res.nnames; i++)
            listed = listed || strcmp(res.names[i], node) == 0;
        st = listed ? sched_run_filter(c, ni)
                    : sched_status_new(SCHED_SKIP, "not in PreFilterResult");
    }
    char *out;
    if (!st) {
        out = ck_xstrdup("");
    } else {
        char *m = sched_status_message(st);
        out = ck_xasprintf("%s: %s", code_name(st->code), m);
        free(m);
    }
    sched_status_free(st);
    sched_prefilter_result_clear(&res);
    sched_cycle_free(c);
    sched_pod_unref(p);
    return out;
}

/* Scores every snapshot node for the pod; totals in snapshot order ("a:10 b:20"). Takes pod. */
static char *world_scores(struct world *w, cJSON *pod) __attribute__((unused));
static char *world_scores(struct world *w, cJSON *pod)
{
    sched_cache_update_snapshot(w->cache, &w->snap);
    struct sched_pod *p = parse_pod(pod);
    struct sched_cycle *c = sched_cycle_new(w->fw, &w->snap, p);
    struct sched_prefilter_result res;
    sched_status_free(sched_run_pre_filter(c, &res, NULL, NULL));
    sched_prefilter_result_clear(&res);
    int64_t *t = ck_xcalloc(w->snap.nnodes + 1, sizeof(int64_t));
    struct sched_status *st = sched_run_score(c, w->snap.nodes, w->snap.nnodes, t);
    struct ck_buf b = CK_BUF_INIT;
    if (st) {
        char *m = sched_status_message(st);
        ck_buf_printf(&b, "error: %s", m);
        free(m);
    }
    for (size_t i = 0; !st && i < w->snap.nnodes; i++)
        ck_buf_printf(&b, "%s%s:%lld", i ? " " : "", w->snap.nodes[i]->name, (long long)t[i]);
    sched_status_free(st);
    free(t);
    sched_cycle_free(c);
    sched_pod_unref(p);
    return ck_buf_detach(&b);
}

#endif
