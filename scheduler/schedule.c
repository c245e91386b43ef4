/* schedule.c - one scheduling cycle and its failure texts (see schedule.h). */
#include "schedule.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "timeutil.h"

#define MIN_FEASIBLE_NODES_TO_FIND 100
#define MIN_FEASIBLE_NODES_PERCENTAGE 5

int32_t sched_num_feasible_nodes_to_find(int percentage, int32_t n)
{
    if (n < MIN_FEASIBLE_NODES_TO_FIND)
        return n;
    int32_t p = percentage;
    if (p <= 0) {
        p = 50 - n / 125;
        if (p < MIN_FEASIBLE_NODES_PERCENTAGE)
            p = MIN_FEASIBLE_NODES_PERCENTAGE;
    }
    int32_t k = (int32_t)((int64_t)n * p / 100);
    return k < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : k;
}

void sched_result_clear(struct sched_result *r)
{
    if (!r)
        return;
    free(r->node);
    free(r->message);
    sched_postfilter_result_clear(&r->post);
    memset(r, 0, sizeof(*r));
}

/* ---- messages ---- */

struct hist {
    struct ck_strmap counts; /* reason -> count (uintptr_t) */
};

static void hist_add(struct hist *h, const struct sched_status *st, size_t n)
{
    for (size_t i = 0; st && i < st->nreasons; i++)
        ck_strmap_put(&h->counts, st->reasons[i],
                      (void *)((uintptr_t)ck_strmap_get(&h->counts, st->reasons[i]) + n));
}

static void hist_each_status(const char *key, void *value, void *ctx)
{
    (void)key;
    hist_add(ctx, value, 1);
}

struct lines {
    char **s;
    size_t n;
};

static void hist_line(const char *key, void *value, void *ctx)
{
    struct lines *l = ctx;
    l->s = ck_xrealloc(l->s, (l->n + 1) * sizeof(char *));
    l->s[l->n++] = ck_xasprintf("%zu %s", (size_t)(uintptr_t)value, key);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *sched_fit_error_message(size_t num_all, struct ck_strmap *node_status,
                              const struct sched_status *absent, const char *prefilter_msg,
                              const char *postfilter_msg)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_printf(&b, "0/%zu nodes are available:", num_all);
    if (prefilter_msg && prefilter_msg[0]) {
        ck_buf_printf(&b, " %s.", prefilter_msg);
    } else {
        struct hist h = {CK_STRMAP_INIT};
        size_t known = node_status ? node_status->len : 0;
        if (node_status)
            ck_strmap_each(node_status, hist_each_status, &h);
        if (known < num_all)
            hist_add(&h, absent, num_all - known);
        struct lines l = {NULL, 0};
        ck_strmap_each(&h.counts, hist_line, &l);
        if (l.n)
            qsort(l.s, l.n, sizeof(char *), cmp_str);
        if (l.n) {
            ck_buf_putc(&b, ' ');
            for (size_t i = 0; i < l.n; i++) {
                ck_buf_printf(&b, "%s%s", i ? ", " : "", l.s[i]);
                free(l.s[i]);
            }
            ck_buf_putc(&b, '.');
        }
        free(l.s);
        ck_strmap_free(&h.counts, NULL);
    }
    if (postfilter_msg && postfilter_msg[0])
        ck_buf_printf(&b, " %s.", postfilter_msg);
    return ck_buf_detach(&b);
}

cJSON *sched_unschedulable_condition(const char *reason, const char *message, const char *now)
{
    char buf[CK_TIME_BUFSZ];
    if (!now) {
        ck_time_now_string(buf);
        now = buf;
    }
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", "PodScheduled");
    cJSON_AddStringToObject(c, "status", "False");
    cJSON_AddNullToObject(c, "lastProbeTime");
    cJSON_AddStringToObject(c, "lastTransitionTime", now);
    cJSON_AddStringToObject(c, "reason", reason ? reason : SCHED_REASON_UNSCHEDULABLE);
    cJSON_AddStringToObject(c, "message", message ? message : "");
    return c;
}

char *sched_event_message(const char *message)
{
    static const char suffix[] = " ...";
    size_t len = message ? strlen(message) : 0;
    if (len <= SCHED_EVENT_MESSAGE_MAX)
        return ck_xstrdup(message ? message : "");
    size_t keep = SCHED_EVENT_MESSAGE_MAX - (sizeof(suffix) - 1);
    char *r = ck_xmalloc(SCHED_EVENT_MESSAGE_MAX + 1);
    memcpy(r, message, keep);
    memcpy(r + keep, suffix, sizeof(suffix));
    return r;
}

/* ---- the cycle ---- */

struct diag {
    struct ck_strmap status; /* node -> struct sched_status* */
    struct sched_status *absent;
    char *prefilter_msg;
    uint32_t unsched;
};

static void diag_set(struct diag *d, const char *node, struct sched_status *st)
{
    sched_status_free(ck_strmap_put(&d->status, node, st));
}

static void free_status_v(void *v)
{
    sched_status_free(v);
}

static uint32_t plugin_bit(const struct sched_framework *fw, const char *name)
{
    for (size_t i = 0; name && i < fw->nplugins; i++)
        if (strcmp(fw->plugins[i]->name, name) == 0)
            return 1u << fw->plugins[i]->id;
    return 0;
}

static void fail(struct sched_result *out, enum sched_code code, const char *reason, char *msg)
{
    out->code = code;
    out->reason = reason;
    free(out->message);
    out->message = msg;
}

/* Runs PostFilter plugins (upstream RunPostFilterPlugins); returns the message to append. */
static char *run_post_filter(struct sched_cycle *c, struct diag *d, struct sched_result *out)
{
    struct ck_buf msg = CK_BUF_INIT;
    for (size_t i = 0; i < c->fw->nplugins; i++) {
        const struct sched_plugin *pl = c->fw->plugins[i];
        if (!pl->post_filter)
            continue;
        struct sched_postfilter_result r = {0};
        struct sched_status *st = pl->post_filter(c, &d->status, d->absent, &r);
        if (r.nominate || r.nvictims) {
            sched_postfilter_result_clear(&out->post);
            out->post = r;
        } else {
            sched_postfilter_result_clear(&r);
        }
        char *m = sched_status_message(st);
        bool stop =
            !st || !sched_status_rejected(st) || st->code == SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE;
        if (m[0])
            ck_buf_printf(&msg, "%s%s", msg.len ? ", " : "", m);
        free(m);
        sched_status_free(st);
        if (stop)
            break;
    }
    return ck_buf_detach(&msg);
}

static size_t select_host(struct sched_framework *fw, const int64_t *totals, size_t n)
{
    size_t best = 0, ties = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || totals[i] > totals[best]) {
            best = i;
            ties = 1;
        } else if (totals[i] == totals[best]) {
            ties++;
            if (sched_framework_rand(fw, ties) == 0)
                best = i;
        }
    }
    return best;
}

/* Filters `nodes` from the rotating start; fills feasible. Returns an error status or NULL. */
static struct sched_status *find_feasible(struct sched_scheduler *s, struct sched_cycle *c,
                                          struct sched_node_info **nodes, size_t n, size_t want,
                                          bool rotate, struct diag *d,
                                          struct sched_node_info **feasible, size_t *nfeasible)
{
    size_t start = rotate ? s->next_start : 0;
    for (size_t i = 0; i < n && *nfeasible < want; i++) {
        struct sched_node_info *ni = nodes[(start + i) % n];
        struct sched_status *st = sched_run_filter_with_nominated(c, ni);
        if (!st) {
            feasible[(*nfeasible)++] = ni;
            continue;
        }
        if (!sched_status_rejected(st)) {
            char *m = sched_status_message(st);
            struct sched_status *e = sched_status_newf(SCHED_ERROR, "running %s filter plugin: %s",
                                                       st->plugin ? st->plugin : "", m);
            free(m);
            sched_status_free(st);
            return e;
        }
        d->unsched |= plugin_bit(c->fw, st->plugin);
        diag_set(d, ni->name, st);
    }
    return NULL;
}

static const char *const *with_nodes_names(const struct sched_framework *fw, uint32_t bits,
                                           const char **names, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < fw->nplugins; i++)
        if (bits & (1u << fw->plugins[i]->id))
            names[(*n)++] = fw->plugins[i]->name;
    qsort(names, *n, sizeof(char *), cmp_str);
    return names;
}

int sched_schedule_one(struct sched_scheduler *s, const struct sched_snapshot *snap,
                       struct sched_pod *pod, struct sched_nominator *nom, struct sched_result *out)
{
    if (!s || !s->fw || !snap || !pod || !out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (snap->nnodes == 0) {
        fail(out, SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE, SCHED_REASON_UNSCHEDULABLE,
             ck_xstrdup(SCHED_NO_NODES_MESSAGE));
        return 0;
    }
    struct sched_cycle *c = sched_cycle_new(s->fw, snap, pod);
    c->nominator = nom;
    struct diag d = {CK_STRMAP_INIT, NULL, NULL, 0};
    struct sched_prefilter_result pre = {.all_nodes = true};
    struct sched_node_info **feasible = NULL;
    struct sched_node_info **subset = NULL;
    size_t nfeasible = 0;
    uint32_t with_nodes = 0;
    struct sched_status *st = sched_run_pre_filter(c, &pre, &d.unsched, &with_nodes);
    if (st && !sched_status_rejected(st)) {
        char *m = sched_status_message(st);
        fail(out, SCHED_ERROR, SCHED_REASON_SCHEDULER_ERROR,
             ck_xasprintf("running PreFilter plugin \"%s\": %s", st->plugin ? st->plugin : "", m));
        free(m);
        sched_status_free(st);
        goto done;
    }
    if (st) {
        d.prefilter_msg = sched_status_message(st);
        d.absent = st;
        goto unschedulable;
    }
    feasible = ck_xcalloc(1, sizeof(*feasible)); /* the nominated node */
    if (pod->nominated_node[0]) {
        struct sched_node_info *nn = sched_snapshot_get(snap, pod->nominated_node);
        if (nn && (st = find_feasible(s, c, &nn, 1, 1, false, &d, feasible, &nfeasible))) {
            sched_status_free(st);
            nfeasible = 0;
        }
        if (nfeasible == 1)
            goto chosen;
    }
    struct sched_node_info **nodes = snap->nodes;
    size_t n = snap->nnodes;
    if (!pre.all_nodes) {
        subset = ck_xcalloc(snap->nnodes, sizeof(*subset));
        n = 0;
        for (size_t i = 0; i < snap->nnodes; i++)
            for (size_t j = 0; j < pre.nnames; j++)
                if (strcmp(snap->nodes[i]->name, pre.names[j]) == 0) {
                    subset[n++] = snap->nodes[i];
                    break;
                }
        nodes = subset;
        const char *names[SCHED_PL_COUNT];
        size_t nn;
        with_nodes_names(s->fw, with_nodes, names, &nn);
        struct ck_buf b = CK_BUF_INIT;
        ck_buf_puts(&b, "node(s) didn't satisfy plugin(s) [");
        for (size_t i = 0; i < nn; i++)
            ck_buf_printf(&b, "%s%s", i ? " " : "", names[i]);
        ck_buf_putc(&b, ']');
        d.absent = sched_status_new(SCHED_UNSCHEDULABLE_AND_UNRESOLVABLE, ck_buf_str(&b));
        ck_buf_free(&b);
    }
    size_t want = n ? (size_t)sched_num_feasible_nodes_to_find(s->fw->percentage_of_nodes_to_score,
                                                               (int32_t)n)
                    : 0;
    feasible = ck_xrealloc(feasible, (want + 1) * sizeof(*feasible));
    nfeasible = 0;
    st = n ? find_feasible(s, c, nodes, n, want, true, &d, feasible, &nfeasible) : NULL;
    s->next_start = (s->next_start + nfeasible + d.status.len) % snap->nnodes;
    if (st) {
        fail(out, SCHED_ERROR, SCHED_REASON_SCHEDULER_ERROR, sched_status_message(st));
        sched_status_free(st);
        goto done;
    }
    out->evaluated = nfeasible + d.status.len;
    out->feasible = nfeasible;
    if (nfeasible == 0)
        goto unschedulable;
    if (nfeasible == 1)
        goto chosen;
    int64_t *totals = ck_xcalloc(nfeasible, sizeof(*totals));
    st = sched_run_score(c, feasible, nfeasible, totals);
    if (st) {
        char *m = sched_status_message(st);
        fail(out, SCHED_ERROR, SCHED_REASON_SCHEDULER_ERROR, m);
        sched_status_free(st);
        free(totals);
        goto done;
    }
    out->code = SCHED_SUCCESS;
    out->node = ck_xstrdup(feasible[select_host(s->fw, totals, nfeasible)]->name);
    free(totals);
    goto done;
chosen:
    out->code = SCHED_SUCCESS;
    out->node = ck_xstrdup(feasible[0]->name);
    out->feasible = 1;
    if (!out->evaluated)
        out->evaluated = 1 + d.status.len;
    goto done;
unschedulable:
    out->unsched_plugins = d.unsched;
    {
        char *post = run_post_filter(c, &d, out);
        fail(out, SCHED_UNSCHEDULABLE, SCHED_REASON_UNSCHEDULABLE,
             sched_fit_error_message(snap->nnodes, &d.status, d.absent, d.prefilter_msg, post));
        free(post);
    }
done:
    ck_strmap_free(&d.status, free_status_v);
    sched_status_free(d.absent);
    free(d.prefilter_msg);
    sched_prefilter_result_clear(&pre);
    free(subset);
    free(feasible);
    sched_cycle_free(c);
    return 0;
}
