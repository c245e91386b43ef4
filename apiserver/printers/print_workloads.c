/* print_workloads.c - printers for the controllers that own pods and what scales them: Deployment,
 * ReplicaSet, ReplicationController, StatefulSet, DaemonSet, Job (with its STATUS column),
 * CronJob, ControllerRevision, HorizontalPodAutoscaler (v2 metrics and v1's CPU target),
 * PodDisruptionBudget and Scale, as upstream's printers.go. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "printers_internal.h"

#define COL_SELECTOR_WIDE(d) COL_WIDE("Selector", "string", d)

/* ---- Deployment ---- */

static const struct printer_column DEPLOYMENT_COLUMNS[] = {
    COL_NAME,
    COL("Ready", "string", "Number of the pod with ready state"),
    COL("Up-to-date", "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired "
        "template spec."),
    COL("Available", "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this "
        "deployment."),
    COL_AGE,
    COL_CONTAINERS_WIDE,
    COL_IMAGES_WIDE,
    COL_SELECTOR_WIDE("Label selector for pods. Existing ReplicaSets whose pods are selected by "
                      "this will be the ones affected by this deployment. It must match the pod "
                      "template's labels."),
    COL_END,
};

static void print_deployment(struct prow *row, const cJSON *d)
{
    cell_name(row, d);
    cell_fmt(row, "%lld/%lld", (long long)pj_int(d, "status.readyReplicas"),
             (long long)pj_int(d, "spec.replicas"));
    cell_int(row, pj_int(d, "status.updatedReplicas"));
    cell_int(row, pj_int(d, "status.availableReplicas"));
    cell_age(row, d);
    cell_containers(row, ck_json_get(d, "spec.template.spec.containers"));
    cell_take(row, fmt_selector_string(ck_json_get(d, "spec.selector"), "<invalid>"));
}

/* ---- ReplicaSet, ReplicationController ---- */

static const struct printer_column REPLICASET_COLUMNS[] = {
    COL_NAME,
    COL("Desired", "integer",
        "Replicas is the number of desired pods. This is a pointer to distinguish between "
        "explicit zero and unspecified. Defaults to 1."),
    COL("Current", "integer", "Replicas is the most recently observed number of replicas."),
    COL("Ready", "integer",
        "The number of ready replicas for this replica set. A pod is considered ready when it "
        "has a Ready condition."),
    COL_AGE,
    COL_CONTAINERS_WIDE,
    COL_IMAGES_WIDE,
    COL_SELECTOR_WIDE("Selector is a label query over pods that should match the replica count."),
    COL_END,
};

static void replica_cells(struct prow *row, const cJSON *obj)
{
    cell_name(row, obj);
    cell_int(row, pj_int(obj, "spec.replicas"));
    cell_int(row, pj_int(obj, "status.replicas"));
    cell_int(row, pj_int(obj, "status.readyReplicas"));
    cell_age(row, obj);
    cell_containers(row, ck_json_get(obj, "spec.template.spec.containers"));
}

static void print_replicaset(struct prow *row, const cJSON *rs)
{
    replica_cells(row, rs);
    cell_take(row, fmt_label_selector(ck_json_get(rs, "spec.selector")));
}

static const struct printer_column RC_COLUMNS[] = {
    COL_NAME,
    COL("Desired", "integer",
        "Replicas is the number of desired replicas. This is a pointer to distinguish between "
        "explicit zero and unspecified. Defaults to 1."),
    COL("Current", "integer", "Replicas is the most recently observed number of replicas."),
    COL("Ready", "integer", "The number of ready replicas for this replication controller."),
    COL_AGE,
    COL_CONTAINERS_WIDE,
    COL_IMAGES_WIDE,
    COL_SELECTOR_WIDE("Selector is a label query over pods that should match the Replicas count."),
    COL_END,
};

static void print_rc(struct prow *row, const cJSON *rc)
{
    replica_cells(row, rc);
    cell_take(row, fmt_labels(ck_json_get(rc, "spec.selector")));
}

/* ---- StatefulSet ---- */

static const struct printer_column STATEFULSET_COLUMNS[] = {
    COL_NAME,        COL("Ready", "string", "Number of the pod with ready state"),
    COL_AGE,         COL_CONTAINERS_WIDE,
    COL_IMAGES_WIDE, COL_END,
};

static void print_statefulset(struct prow *row, const cJSON *s)
{
    cell_name(row, s);
    cell_fmt(row, "%lld/%lld", (long long)pj_int(s, "status.readyReplicas"),
             (long long)pj_int(s, "spec.replicas"));
    cell_age(row, s);
    cell_containers(row, ck_json_get(s, "spec.template.spec.containers"));
}

/* ---- DaemonSet ---- */

static const struct printer_column DAEMONSET_COLUMNS[] = {
    COL_NAME,
    COL("Desired", "integer",
        "The total number of nodes that should be running the daemon pod (including nodes "
        "correctly running the daemon pod)."),
    COL("Current", "integer",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the "
        "daemon pod."),
    COL("Ready", "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the "
        "daemon pod running with a Ready Condition."),
    COL("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    COL("Available", "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the "
        "daemon pod running and available (ready for at least spec.minReadySeconds)"),
    COL("Node Selector", "string",
        "NodeSelector is a selector which must be true for the pod to fit on a node. Selector "
        "which must match a node's labels for the pod to be scheduled on that node."),
    COL_AGE,
    COL_CONTAINERS_WIDE,
    COL_IMAGES_WIDE,
    COL_SELECTOR_WIDE("A label query over pods that are managed by the daemon set. Must match in "
                      "order to be controlled. It must match the pod template's labels."),
    COL_END,
};

static void print_daemonset(struct prow *row, const cJSON *ds)
{
    static const char *const counts[] = {
        "status.desiredNumberScheduled", "status.currentNumberScheduled", "status.numberReady",
        "status.updatedNumberScheduled", "status.numberAvailable",
    };
    cell_name(row, ds);
    for (size_t i = 0; i < CK_ARRAY_SIZE(counts); i++)
        cell_int(row, pj_int(ds, counts[i]));
    cell_take(row, fmt_labels(ck_json_get(ds, "spec.template.spec.nodeSelector")));
    cell_age(row, ds);
    cell_containers(row, ck_json_get(ds, "spec.template.spec.containers"));
    cell_take(row, fmt_label_selector(ck_json_get(ds, "spec.selector")));
}

/* ---- Job, CronJob ---- */

static const struct printer_column JOB_COLUMNS[] = {
    COL_NAME,
    COL("Status", "string", "Status of the job."),
    COL("Completions", "string",
        "The number of pods which reached phase Succeeded. The value increases monotonically "
        "for a given spec."),
    COL("Duration", "string", "Time required to complete the job."),
    COL_AGE,
    COL_CONTAINERS_WIDE,
    COL_IMAGES_WIDE,
    COL_SELECTOR_WIDE("A label query over pods that should match the pod count."),
    COL_END,
};

/* hasJobCondition: the first condition of that type decides. */
static bool job_condition(const cJSON *job, const char *type)
{
    const cJSON *c, *arr = pj_array(job, "status.conditions");
    if (arr) {
        cJSON_ArrayForEach(c, arr)
        {
            if (!strcmp(pj_str(c, "type"), type))
                return !strcmp(pj_str(c, "status"), "True");
        }
    }
    return false;
}

static const char *job_status(const cJSON *job)
{
    if (job_condition(job, "Complete"))
        return "Complete";
    if (job_condition(job, "Failed"))
        return "Failed";
    if (pj_set(job, "metadata.deletionTimestamp"))
        return "Terminating";
    if (job_condition(job, "Suspended"))
        return "Suspended";
    if (job_condition(job, "FailureTarget"))
        return "FailureTarget";
    return "Running";
}

static void print_job(struct prow *row, const cJSON *job)
{
    long long succeeded = pj_int(job, "status.succeeded");
    long long parallelism = pj_int(job, "spec.parallelism");
    cell_name(row, job);
    cell_str(row, job_status(job));
    if (pj_set(job, "spec.completions"))
        cell_fmt(row, "%lld/%lld", succeeded, (long long)pj_int(job, "spec.completions"));
    else if (parallelism > 1)
        cell_fmt(row, "%lld/1 of %lld", succeeded, parallelism);
    else
        cell_fmt(row, "%lld/1", succeeded);

    struct timespec start, end;
    char dur[CK_HUMAN_BUFSZ] = "";
    if (pj_set(job, "status.startTime")) {
        if (!pt_parse(pj_str(job, "status.startTime"), &start))
            start = (struct timespec){INT64_C(-62135596800), 0}; /* Go's zero time */
        if (!pj_set(job, "status.completionTime"))
            end = *row->now;
        else if (!pt_parse(pj_str(job, "status.completionTime"), &end))
            end = (struct timespec){INT64_C(-62135596800), 0};
        ck_human_duration(ck_time_sub_ns(&end, &start), dur);
    }
    cell_str(row, dur);
    cell_age(row, job);
    cell_containers(row, ck_json_get(job, "spec.template.spec.containers"));
    cell_take(row, fmt_label_selector(ck_json_get(job, "spec.selector")));
}

static const struct printer_column CRONJOB_COLUMNS[] = {
    COL_NAME,
    COL("Schedule", "string",
        "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    COL("Timezone", "string",
        "The time zone name for the given schedule, see "
        "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones."),
    COL("Suspend", "boolean",
        "This flag tells the controller to suspend subsequent executions, it does not apply to "
        "already started executions. Defaults to false."),
    COL("Active", "integer", "A list of pointers to currently running jobs."),
    COL("Last Schedule", "string",
        "Information when was the last time the job was successfully scheduled."),
    COL_AGE,
    COL_CONTAINERS_WIDE,
    COL_IMAGES_WIDE,
    COL_SELECTOR_WIDE("A label query over pods that should match the pod count."),
    COL_END,
};

/* printBoolPtr */
static const char *bool_ptr(const cJSON *obj, const char *path)
{
    const cJSON *v = ck_json_get(obj, path);
    if (!cJSON_IsBool(v))
        return "<unset>";
    return cJSON_IsTrue(v) ? "True" : "False";
}

static void print_cronjob(struct prow *row, const cJSON *cj)
{
    char last[CK_HUMAN_BUFSZ] = "<none>";
    if (pj_set(cj, "status.lastScheduleTime"))
        pt_since(row, pj_str(cj, "status.lastScheduleTime"), last);
    const char *tz = pj_set(cj, "spec.timeZone") ? pj_str(cj, "spec.timeZone") : "<none>";
    cell_name(row, cj);
    cell_str(row, pj_str(cj, "spec.schedule"));
    cell_str(row, tz);
    cell_str(row, bool_ptr(cj, "spec.suspend"));
    cell_int(row, pj_count(cj, "status.active"));
    cell_str(row, last);
    cell_age(row, cj);
    cell_containers(row, ck_json_get(cj, "spec.jobTemplate.spec.template.spec.containers"));
    cell_take(row, fmt_label_selector(ck_json_get(cj, "spec.jobTemplate.spec.selector")));
}

/* ---- ControllerRevision ---- */

static const struct printer_column CONTROLLER_REVISION_COLUMNS[] = {
    COL_NAME,
    COL("Controller", "string", "Controller of the object"),
    COL("Revision", "string", "Revision indicates the revision of the state represented by Data."),
    COL_AGE,
    COL_END,
};

/* "kind.group/name" in lower case for the controlling owner, as formatResourceName. */
static char *controller_name(const cJSON *obj)
{
    const cJSON *o, *refs = pj_array(obj, "metadata.ownerReferences");
    if (refs) {
        cJSON_ArrayForEach(o, refs)
        {
            if (!pj_bool(o, "controller", false))
                continue;
            const char *gv = pj_str(o, "apiVersion"), *kind = pj_str(o, "kind");
            const char *slash = strchr(gv, '/');
            size_t glen = slash ? (size_t)(slash - gv) : 0;
            if (!strcmp(gv, "/") || (slash && strchr(slash + 1, '/')))
                glen = 0; /* an empty or unparsable group version: no group */
            if (!glen && !*kind)
                return ck_xstrdup(pj_str(o, "name"));
            char *s = glen ? ck_xasprintf("%s.%.*s/%s", kind, (int)glen, gv, pj_str(o, "name"))
                           : ck_xasprintf("%s/%s", kind, pj_str(o, "name"));
            for (char *p = s; *p && p < s + strlen(kind) + (glen ? glen + 1 : 0); p++)
                *p = (char)tolower((unsigned char)*p);
            return s;
        }
    }
    return ck_xstrdup("<none>");
}

static void print_controller_revision(struct prow *row, const cJSON *cr)
{
    cell_name(row, cr);
    cell_take(row, controller_name(cr));
    cell_int(row, pj_int(cr, "revision"));
    cell_age(row, cr);
}

/* ---- HorizontalPodAutoscaler ---- */

static const struct printer_column HPA_COLUMNS[] = {
    COL_NAME,
    COL("Reference", "string",
        "scaleTargetRef points to the target resource to scale, and is used to the pods for "
        "which metrics should be collected, as well as to actually change the replica count."),
    COL("Targets", "string",
        "metrics contains the specifications for which to use to calculate the desired replica "
        "count (the maximum replica count across all metrics will be used)."),
    COL("MinPods", "string",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can "
        "scale down. It defaults to 1 pod."),
    COL("MaxPods", "string",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can "
        "scale up. It cannot be less that minReplicas."),
    COL("Replicas", "string",
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as "
        "last seen by the autoscaler."),
    COL_AGE,
    COL_END,
};

/* A *resource.Quantity's String(): "<nil>" when unset. */
static char *qty(const cJSON *obj, const char *path)
{
    const cJSON *q = ck_json_get(obj, path);
    return (!q || cJSON_IsNull(q)) ? ck_xstrdup("<nil>") : fmt_quantity(q);
}

/* One metric as formatHPAMetrics prints it; `src` is the source member ("external", ...). */
static char *hpa_value_metric(const cJSON *spec, const cJSON *status, const char *src)
{
    char path[64];
    const cJSON *cur = status ? ck_json_getv(status, src, NULL) : NULL;
    bool have = cur && !cJSON_IsNull(cur);
    snprintf(path, sizeof(path), "%s.target.averageValue", src);
    if (pj_set(spec, path)) {
        CK_AUTOFREE char *target = qty(spec, path);
        CK_AUTOFREE char *current = have && pj_set(cur, "current.averageValue")
                                        ? qty(cur, "current.averageValue")
                                        : ck_xstrdup("<unknown>");
        return ck_xasprintf("%s/%s (avg)", current, target);
    }
    snprintf(path, sizeof(path), "%s.target.value", src);
    CK_AUTOFREE char *target = qty(spec, path);
    CK_AUTOFREE char *current = have ? qty(cur, "current.value") : ck_xstrdup("<unknown>");
    return ck_xasprintf("%s/%s", current, target);
}

static char *hpa_resource_metric(const cJSON *spec, const cJSON *status, const char *src)
{
    char path[64];
    const cJSON *res = ck_json_getv(spec, src, NULL);
    const cJSON *cur = status ? ck_json_getv(status, src, NULL) : NULL;
    bool have = cur && !cJSON_IsNull(cur);
    const char *name = pj_str(res, "name");
    snprintf(path, sizeof(path), "%s.target.averageValue", src);
    if (pj_set(spec, path)) {
        CK_AUTOFREE char *target = qty(spec, path);
        CK_AUTOFREE char *current =
            have ? qty(cur, "current.averageValue") : ck_xstrdup("<unknown>");
        return ck_xasprintf("%s: %s/%s", name, current, target);
    }
    CK_AUTOFREE char *current =
        have && pj_set(cur, "current.averageUtilization")
            ? ck_xasprintf("%lld%%", (long long)pj_int(cur, "current.averageUtilization"))
            : ck_xstrdup("<unknown>");
    CK_AUTOFREE char *target =
        pj_set(res, "target.averageUtilization")
            ? ck_xasprintf("%lld%%", (long long)pj_int(res, "target.averageUtilization"))
            : ck_xstrdup("<auto>");
    return ck_xasprintf("%s: %s/%s", name, current, target);
}

/* formatHPAMetrics: at most two metrics, then " + N more...". Statuses pair with specs by
 * position, as upstream. */
static char *hpa_metrics(const cJSON *specs, const cJSON *statuses)
{
    int n = cJSON_IsArray(specs) ? cJSON_GetArraySize(specs) : 0;
    if (!n)
        return ck_xstrdup("<none>");
    struct ck_buf b = CK_BUF_INIT;
    for (int i = 0; i < n && i < 2; i++) {
        const cJSON *spec = cJSON_GetArrayItem(specs, i);
        const cJSON *status = cJSON_IsArray(statuses) ? cJSON_GetArrayItem(statuses, i) : NULL;
        const char *type = pj_str(spec, "type");
        char *m;
        if (!strcmp(type, "External"))
            m = hpa_value_metric(spec, status, "external");
        else if (!strcmp(type, "Object"))
            m = hpa_value_metric(spec, status, "object");
        else if (!strcmp(type, "Pods")) {
            CK_AUTOFREE char *target = qty(spec, "pods.target.averageValue");
            CK_AUTOFREE char *current = pj_set(status, "pods")
                                            ? qty(status, "pods.current.averageValue")
                                            : ck_xstrdup("<unknown>");
            m = ck_xasprintf("%s/%s", current, target);
        } else if (!strcmp(type, "Resource"))
            m = hpa_resource_metric(spec, status, "resource");
        else if (!strcmp(type, "ContainerResource"))
            m = hpa_resource_metric(spec, status, "containerResource");
        else
            m = ck_xstrdup("<unknown type>");
        if (i)
            ck_buf_puts(&b, ", ");
        ck_buf_puts(&b, m);
        free(m);
    }
    if (n > 2)
        ck_buf_printf(&b, " + %d more...", n - 2);
    return ck_buf_detach(&b);
}

/* autoscaling/v1 keeps only a CPU utilization target; as its conversion, it is one Resource
 * metric (and the current utilization one Resource status). */
static char *hpa_v1_metrics(const cJSON *hpa)
{
    cJSON *specs = cJSON_CreateArray(), *statuses = cJSON_CreateArray();
    if (!specs || !statuses)
        abort();
    if (pj_set(hpa, "spec.targetCPUUtilizationPercentage")) {
        cJSON *m = cJSON_CreateObject();
        ck_json_set_string(m, "type", "Resource");
        ck_json_set_string(m, "resource.name", "cpu");
        ck_json_set_string(m, "resource.target.type", "Utilization");
        ck_json_set_int64(m, "resource.target.averageUtilization",
                          pj_int(hpa, "spec.targetCPUUtilizationPercentage"));
        cJSON_AddItemToArray(specs, m);
    }
    if (pj_set(hpa, "status.currentCPUUtilizationPercentage")) {
        cJSON *m = cJSON_CreateObject();
        ck_json_set_string(m, "type", "Resource");
        ck_json_set_string(m, "resource.name", "cpu");
        ck_json_set_int64(m, "resource.current.averageUtilization",
                          pj_int(hpa, "status.currentCPUUtilizationPercentage"));
        cJSON_AddItemToArray(statuses, m);
    }
    char *out = hpa_metrics(specs, statuses);
    cJSON_Delete(specs);
    cJSON_Delete(statuses);
    return out;
}

static void print_hpa(struct prow *row, const cJSON *hpa)
{
    cell_name(row, hpa);
    cell_fmt(row, "%s/%s", pj_str(hpa, "spec.scaleTargetRef.kind"),
             pj_str(hpa, "spec.scaleTargetRef.name"));
    if (!strcmp(row->version, "v1") && !ck_json_get(hpa, "spec.metrics"))
        cell_take(row, hpa_v1_metrics(hpa));
    else
        cell_take(row, hpa_metrics(ck_json_get(hpa, "spec.metrics"),
                                   ck_json_get(hpa, "status.currentMetrics")));
    if (pj_set(hpa, "spec.minReplicas"))
        cell_fmt(row, "%lld", (long long)pj_int(hpa, "spec.minReplicas"));
    else
        cell_str(row, "<unset>");
    cell_int(row, pj_int(hpa, "spec.maxReplicas"));
    cell_int(row, pj_int(hpa, "status.currentReplicas"));
    cell_age(row, hpa);
}

/* ---- PodDisruptionBudget ---- */

static const struct printer_column PDB_COLUMNS[] = {
    COL_NAME,
    COL("Min Available", "string", "The minimum number of pods that must be available."),
    COL("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
    COL("Allowed Disruptions", "integer",
        "Calculated number of pods that may be disrupted at this time."),
    COL_AGE,
    COL_END,
};

static void print_pdb(struct prow *row, const cJSON *pdb)
{
    static const char *const bounds[] = {"spec.minAvailable", "spec.maxUnavailable"};
    cell_name(row, pdb);
    for (size_t i = 0; i < CK_ARRAY_SIZE(bounds); i++) {
        if (pj_set(pdb, bounds[i]))
            cell_take(row, fmt_intstr(ck_json_get(pdb, bounds[i])));
        else
            cell_str(row, "N/A");
    }
    cell_int(row, pj_int(pdb, "status.disruptionsAllowed"));
    cell_age(row, pdb);
}

/* ---- Scale (the scale subresource) ---- */

static const struct printer_column SCALE_COLUMNS[] = {
    {"Name", "string", "", PRINTERS_DESC_NAME, 0},
    COL("Desired", "integer", "replicas is the desired number of instances for the scaled object."),
    COL("Available", "integer",
        "replicas is the actual number of observed instances of the "
        "scaled object."),
    COL_AGE,
    COL_END,
};

static void print_scale(struct prow *row, const cJSON *s)
{
    cell_name(row, s);
    cell_int(row, pj_int(s, "spec.replicas"));
    cell_int(row, pj_int(s, "status.replicas"));
    cell_age(row, s);
}

const struct printer_kind printers_workload_kinds[] = {
    {"apps", "Deployment", DEPLOYMENT_COLUMNS, print_deployment},
    {"apps", "ReplicaSet", REPLICASET_COLUMNS, print_replicaset},
    {"", "ReplicationController", RC_COLUMNS, print_rc},
    {"apps", "StatefulSet", STATEFULSET_COLUMNS, print_statefulset},
    {"apps", "DaemonSet", DAEMONSET_COLUMNS, print_daemonset},
    {"batch", "Job", JOB_COLUMNS, print_job},
    {"batch", "CronJob", CRONJOB_COLUMNS, print_cronjob},
    {"apps", "ControllerRevision", CONTROLLER_REVISION_COLUMNS, print_controller_revision},
    {"autoscaling", "HorizontalPodAutoscaler", HPA_COLUMNS, print_hpa},
    {"policy", "PodDisruptionBudget", PDB_COLUMNS, print_pdb},
    {"autoscaling", "Scale", SCALE_COLUMNS, print_scale},
    {NULL, NULL, NULL, NULL},
};
