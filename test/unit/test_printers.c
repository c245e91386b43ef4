/* Unit tests for apiserver/printers: the meta.k8s.io/v1 Table kubectl prints, with upstream's
 * (v1.32) columns and cells for every built-in kind, the pod STATUS rules, the default table
 * convertor, and the row "object" per includeObject.
 *
 * Fixtures are written with single quotes for readability; J() turns them into JSON. Every
 * row is checked as its cells joined by '|' (strings as they are, numbers and booleans as
 * JSON prints them), so one assertion proves a whole `kubectl get -o wide` line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/printers/printers.h"
#include "buf.h"
#include "json.h"
#include "mem.h"

static const struct timespec NOW = {1732284000, 0}; /* 2024-11-22T14:00:00Z */

static struct resource res(const char *group, const char *version, const char *kind)
{
    return (struct resource){.group = group, .version = version, .kind = kind, .plural = ""};
}

/* Parses a single-quoted fixture. */
static cJSON *J(const char *sq)
{
    char *s = ck_xstrdup(sq);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    cJSON *j = ck_json_parse(s, strlen(s), NULL);
    if (!j)
        fail_msg("bad fixture: %s", s);
    free(s);
    return j;
}

/* The cells of row `i` joined by '|'. Caller frees. */
static char *row_cells(const cJSON *table, int i)
{
    struct ck_buf b = CK_BUF_INIT;
    const cJSON *c,
        *cells = ck_json_get(cJSON_GetArrayItem(ck_json_get(table, "rows"), i), "cells");
    cJSON_ArrayForEach(c, cells)
    {
        if (c != cells->child)
            ck_buf_putc(&b, '|');
        if (cJSON_IsString(c)) {
            ck_buf_puts(&b, c->valuestring);
        } else {
            char *s = ck_json_print(c, 0);
            ck_buf_puts(&b, s);
            free(s);
        }
    }
    return ck_buf_detach(&b);
}

/* The column names joined by '|', wide (priority 1) ones marked with '*'. Caller frees. */
static char *column_names(const cJSON *table)
{
    struct ck_buf b = CK_BUF_INIT;
    const cJSON *c, *cols = ck_json_get(table, "columnDefinitions");
    cJSON_ArrayForEach(c, cols)
    {
        if (c != cols->child)
            ck_buf_putc(&b, '|');
        ck_buf_printf(&b, "%s%s", ck_json_get_int64(c, "priority", 0) ? "*" : "",
                      ck_json_get_string(c, "name", "?"));
    }
    return ck_buf_detach(&b);
}

/* Prints one object of (group, version, kind) and returns its row. Caller frees. */
static char *print_row(const char *group, const char *version, const char *kind, const char *obj)
{
    struct resource r = res(group, version, kind);
    cJSON *o = J(obj);
    cJSON *t = printers_table_object(&r, o, "None", &NOW);
    assert_non_null(t);
    char *row = row_cells(t, 0);
    cJSON_Delete(t);
    cJSON_Delete(o);
    return row;
}

struct row_case {
    const char *group, *version, *kind, *obj, *want;
};

static void check_rows(const struct row_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *got = print_row(cases[i].group, cases[i].version, cases[i].kind, cases[i].obj);
        if (strcmp(got, cases[i].want))
            print_error("case %zu (%s): got   %s\n                want  %s\n", i, cases[i].kind,
                        got, cases[i].want);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

/* ---- pods ---- */

#define META_P "'metadata':{'name':'p','creationTimestamp':'2024-11-22T13:00:00Z'}"
#define POD(SPEC, STATUS)                                                                          \
    "{" META_P ",'spec':{'containers':[{'name':'app','image':'nginx'}]" SPEC "},'status':" STATUS  \
    "}"
#define INIT_SPEC ",'initContainers':[{'name':'init','image':'busybox'}]"
#define RUNNING_READY "{'name':'app','ready':true,'restartCount':0,'state':{'running':{}}}"
#define WAITING(R)                                                                                 \
    "{'name':'app','ready':false,'restartCount':0,'state':{'waiting':{'reason':'" R "'}}}"

struct pod_case {
    const char *what, *pod, *want; /* want: READY|STATUS|RESTARTS */
};

static const struct pod_case POD_CASES[] = {
    {"pending", POD("", "{'phase':'Pending'}"), "0/1|Pending|0"},
    {"scheduling gated",
     POD("", "{'phase':'Pending','conditions':[{'type':'PodScheduled','status':'False',"
             "'reason':'SchedulingGated'}]}"),
     "0/1|SchedulingGated|0"},
    {"creating",
     POD("", "{'phase':'Pending','containerStatuses':[" WAITING("ContainerCreating") "]}"),
     "0/1|ContainerCreating|0"},
    {"running", POD("", "{'phase':'Running','containerStatuses':[" RUNNING_READY "]}"),
     "1/1|Running|0"},
    {"running, not ready",
     POD("", "{'phase':'Running','containerStatuses':[{'name':'app','ready':false,"
             "'state':{'running':{}}}]}"),
     "0/1|Running|0"},
    {"completed",
     POD("", "{'phase':'Succeeded','containerStatuses':[{'name':'app','state':{'terminated':"
             "{'exitCode':0,'reason':'Completed'}}}]}"),
     "0/1|Completed|0"},
    {"error",
     POD("", "{'phase':'Failed','containerStatuses':[{'name':'app','state':{'terminated':"
             "{'exitCode':1,'reason':'Error'}}}]}"),
     "0/1|Error|0"},
    {"crash loop, last restart 5m ago",
     POD("", "{'phase':'Running','containerStatuses':[{'name':'app','restartCount':5,'state':"
             "{'waiting':{'reason':'CrashLoopBackOff'}},'lastState':{'terminated':{'exitCode':1,"
             "'finishedAt':'2024-11-22T13:55:00Z'}}}]}"),
     "0/1|CrashLoopBackOff|5 (5m ago)"},
    {"image pull backoff",
     POD("", "{'phase':'Pending','containerStatuses':[" WAITING("ImagePullBackOff") "]}"),
     "0/1|ImagePullBackOff|0"},
    {"err image pull",
     POD("", "{'phase':'Pending','containerStatuses':[" WAITING("ErrImagePull") "]}"),
     "0/1|ErrImagePull|0"},
    {"oom killed",
     POD("", "{'phase':'Running','containerStatuses':[{'name':'app','restartCount':1,'state':"
             "{'terminated':{'exitCode':137,'reason':'OOMKilled'}},'lastState':{'terminated':"
             "{'finishedAt':'2024-11-22T13:58:30Z'}}}]}"),
     "0/1|OOMKilled|1 (90s ago)"},
    {"exit code without reason",
     POD("", "{'phase':'Running','containerStatuses':[{'name':'app','state':{'terminated':"
             "{'exitCode':3}}}]}"),
     "0/1|ExitCode:3|0"},
    {"signal without reason",
     POD("", "{'phase':'Running','containerStatuses':[{'name':'app','state':{'terminated':"
             "{'exitCode':0,'signal':9}}}]}"),
     "0/1|Signal:9|0"},
    {"init running",
     POD(INIT_SPEC, "{'phase':'Pending','initContainerStatuses':[{'name':'init','state':"
                    "{'running':{}}}],'containerStatuses':[" WAITING("PodInitializing") "]}"),
     "0/1|Init:0/1|0"},
    {"second init running",
     POD(",'initContainers':[{'name':'a'},{'name':'b'}]",
         "{'phase':'Pending','initContainerStatuses':[{'name':'a','state':{'terminated':"
         "{'exitCode':0,'reason':'Completed'}}},{'name':'b','state':{'running':{}}}]}"),
     "0/1|Init:1/2|0"},
    {"init error, its restarts count",
     POD(INIT_SPEC, "{'phase':'Pending','initContainerStatuses':[{'name':'init','restartCount':2,"
                    "'state':{'terminated':{'exitCode':1,'reason':'Error'}},'lastState':"
                    "{'terminated':{'finishedAt':'2024-11-22T13:50:00Z'}}}]}"),
     "0/1|Init:Error|2 (10m ago)"},
    {"init crash loop",
     POD(INIT_SPEC, "{'phase':'Pending','initContainerStatuses':[{'name':'init','restartCount':3,"
                    "'state':{'waiting':{'reason':'CrashLoopBackOff'}},'lastState':{'terminated':"
                    "{'finishedAt':'2024-11-22T13:59:00Z'}}}]}"),
     "0/1|Init:CrashLoopBackOff|3 (60s ago)"},
    {"init exit code",
     POD(INIT_SPEC, "{'phase':'Pending','initContainerStatuses':[{'name':'init','state':"
                    "{'terminated':{'exitCode':2}}}]}"),
     "0/1|Init:ExitCode:2|0"},
    {"init signal",
     POD(INIT_SPEC, "{'phase':'Pending','initContainerStatuses':[{'name':'init','state':"
                    "{'terminated':{'exitCode':143,'signal':15}}}]}"),
     "0/1|Init:Signal:15|0"},
    {"init waiting for PodInitializing counts as running",
     POD(INIT_SPEC, "{'phase':'Pending','initContainerStatuses':[{'name':'init','state':"
                    "{'waiting':{'reason':'PodInitializing'}}}]}"),
     "0/1|Init:0/1|0"},
    {"pod initializing",
     POD(INIT_SPEC,
         "{'phase':'Pending','initContainerStatuses':[{'name':'init','state':"
         "{'terminated':{'exitCode':0,'reason':'Completed'}}}],'containerStatuses':[" WAITING(
             "PodInitializing") "]}"),
     "0/1|PodInitializing|0"},
    {"sidecar counts in READY and RESTARTS",
     POD(",'initContainers':[{'name':'proxy','restartPolicy':'Always'}]",
         "{'phase':'Running','conditions':[{'type':'Initialized','status':'True'},{'type':'Ready',"
         "'status':'True'}],'initContainerStatuses':[{'name':'proxy','started':true,'ready':true,"
         "'restartCount':1,'state':{'running':{}},'lastState':{'terminated':{'finishedAt':"
         "'2024-11-22T13:40:00Z'}}}],'containerStatuses':[" RUNNING_READY "]}"),
     "2/2|Running|1 (20m ago)"},
    {"completed container beside a running one, pod not ready",
     POD(",'containers':[{'name':'a'},{'name':'b'}]",
         "{'phase':'Running','conditions':[{'type':'Ready','status':'False'}],'containerStatuses':"
         "[{'name':'a','ready':true,'state':{'running':{}}},{'name':'b','state':{'terminated':"
         "{'exitCode':0,'reason':'Completed'}}}]}"),
     "1/2|NotReady|0"},
    {"completed container beside a running one, pod ready",
     POD("", "{'phase':'Running','conditions':[{'type':'Ready','status':'True'}],"
             "'containerStatuses':[" RUNNING_READY ",{'name':'b','state':{'terminated':"
             "{'exitCode':0,'reason':'Completed'}}}]}"),
     "1/1|Running|0"},
    {"terminating",
     "{'metadata':{'name':'p','creationTimestamp':'2024-11-22T13:00:00Z','deletionTimestamp':"
     "'2024-11-22T13:59:00Z'},'spec':{'containers':[{'name':'app'}]},'status':{'phase':'Running',"
     "'containerStatuses':[" RUNNING_READY "]}}",
     "1/1|Terminating|0"},
    {"node lost",
     "{'metadata':{'name':'p','creationTimestamp':'2024-11-22T13:00:00Z','deletionTimestamp':"
     "'2024-11-22T13:59:00Z'},'spec':{'containers':[{'name':'app'}]},'status':{'phase':'Running',"
     "'reason':'NodeLost','containerStatuses':[" RUNNING_READY "]}}",
     "1/1|Unknown|0"},
    {"deleting a succeeded pod keeps Completed",
     "{'metadata':{'name':'p','creationTimestamp':'2024-11-22T13:00:00Z','deletionTimestamp':"
     "'2024-11-22T13:59:00Z'},'spec':{'containers':[{'name':'app'}]},'status':{'phase':"
     "'Succeeded','containerStatuses':[{'name':'app','state':{'terminated':{'exitCode':0,"
     "'reason':'Completed'}}}]}}",
     "0/1|Completed|0"},
    {"evicted", POD("", "{'phase':'Failed','reason':'Evicted','message':'low on memory'}"),
     "0/1|Evicted|0"},
};

static void pod_status_column(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(POD_CASES); i++) {
        char *row = print_row("", "v1", "Pod", POD_CASES[i].pod);
        /* cells 1..3 of "p|READY|STATUS|RESTARTS|AGE|..." */
        char *ready = strchr(row, '|') + 1;
        char *end = ready;
        for (int k = 0; k < 3 && end; k++)
            end = strchr(end + 1, '|');
        *end = '\0';
        if (strcmp(ready, POD_CASES[i].want))
            print_error("%s: got %s\n", POD_CASES[i].what, ready);
        assert_string_equal(ready, POD_CASES[i].want);
        free(row);
    }
}

static void pod_wide_cells_and_conditions(void **state)
{
    (void)state;
    struct resource r = res("", "v1", "Pod");
    cJSON *pods =
        J("[{'metadata':{'name':'web-0','creationTimestamp':'2024-11-22T13:00:00Z'},'spec':{"
          "'nodeName':'node-1','containers':[{'name':'app'}],'readinessGates':[{'conditionType':"
          "'example.com/lb'},{'conditionType':'example.com/dns'}]},'status':{'phase':'Running',"
          "'podIP':'10.244.1.7','podIPs':[{'ip':'10.244.1.7'},{'ip':'fd00::7'}],'conditions':[{"
          "'type':'example.com/dns','status':'False'},{'type':'example.com/lb','status':'True'}],"
          "'containerStatuses':[" RUNNING_READY "]}},"
          "{'metadata':{'name':'job-x'},'spec':{'containers':[{'name':'app'}]},'status':{'phase':"
          "'Succeeded','nominatedNodeName':'node-2','podIPs':[{'ip':'10.244.2.9'}]}}]");
    cJSON *t = printers_table(&r, pods, "None", "42", NULL, -1, &NOW);
    char *r0 = row_cells(t, 0), *r1 = row_cells(t, 1);
    assert_string_equal(r0, "web-0|1/1|Running|0|60m|10.244.1.7|node-1|<none>|1/2");
    /* no creationTimestamp: AGE is <unknown>; the IP comes from podIPs */
    assert_string_equal(r1, "job-x|0/1|Succeeded|0|<unknown>|10.244.2.9|<none>|node-2|<none>");
    /* a running pod's row has no conditions; a succeeded one is marked Completed */
    assert_null(ck_json_get(t, "rows.0.conditions"));
    assert_string_equal(ck_json_get_string(t, "rows.1.conditions.0.type", ""), "Completed");
    assert_string_equal(ck_json_get_string(t, "rows.1.conditions.0.reason", ""), "Succeeded");
    assert_string_equal(ck_json_get_string(t, "rows.1.conditions.0.message", ""),
                        "The pod has completed successfully.");
    free(r0);
    free(r1);
    cJSON_Delete(t);
    cJSON_Delete(pods);
}

/* ---- workloads ---- */

#define CT(N, I) "{'name':'" N "','image':'" I "'}"
#define AT(TS) "'creationTimestamp':'" TS "'"

static const struct row_case WORKLOAD_CASES[] = {
    {"apps", "v1", "Deployment",
     "{'metadata':{'name':'web'," AT(
         "2024-11-20T14:00:00Z") "},'spec':{'replicas':3,'selector':"
                                 "{'matchLabels':{'tier':'fe'},'matchExpressions':[{'key':'env','"
                                 "operator':'In','values':["
                                 "'prod','dev']}]},'template':{'spec':{'containers':[" CT(
                                     "nginx",
                                     "nginx:1.27") "," CT("log",
                                                          "busybox") "]}}},'status':{'"
                                                                     "readyReplicas':2,'"
                                                                     "updatedReplicas':3,"
                                                                     "'availableReplicas':2}}",
     "web|2/3|3|2|2d|nginx,log|nginx:1.27,busybox|env in (dev,prod),tier=fe"},
    {"apps", "v1", "Deployment", "{'metadata':{'name':'bare'},'spec':{}}",
     "bare|0/0|0|0|<unknown>|||"},
    {"apps", "v1", "ReplicaSet",
     "{'metadata':{'name':'web-5d9c'," AT(
         "2024-11-22T13:57:30Z") "},'spec':{'replicas':3,"
                                 "'selector':{'matchLabels':{'app':'web','pod-template-hash':'5d9c'"
                                 "}},'template':{'spec':"
                                 "{'containers':[" CT(
                                     "nginx",
                                     "nginx") "]}}},'status':{'replicas':3,'readyReplicas':1}}",
     "web-5d9c|3|3|1|2m30s|nginx|nginx|app=web,pod-template-hash=5d9c"},
    {"", "v1", "ReplicationController",
     "{'metadata':{'name':'rc1'," AT(
         "2024-11-22T11:00:00Z") "},'spec':{'replicas':2,"
                                 "'selector':{'app':'x'}},'status':{'replicas':2}}",
     "rc1|2|2|0|3h|||app=x"},
    {"apps", "v1", "StatefulSet",
     "{'metadata':{'name':'db'," AT(
         "2024-11-22T06:00:00Z") "},'spec':{'replicas':3,'template':"
                                 "{'spec':{'containers':[" CT(
                                     "pg", "postgres:16") "]}}},'status':{'readyReplicas':3}}",
     "db|3/3|8h|pg|postgres:16"},
    {"apps", "v1", "DaemonSet",
     "{'metadata':{'name':'kube-proxy'," AT(
         "2024-10-23T14:00:00Z") "},'spec':{'selector':"
                                 "{'matchLabels':{'k8s-app':'kube-proxy'}},'template':{'spec':{'"
                                 "nodeSelector':"
                                 "{'kubernetes.io/os':'linux'},'containers':[" CT(
                                     "kube-proxy",
                                     "registry.k8s.io/kube-proxy:v1.32.0") "]}}},'status':{'"
                                                                           "desiredNumberScheduled'"
                                                                           ":3,'"
                                                                           "currentNumberScheduled'"
                                                                           ":3,'numberReady':2,"
                                                                           "'updatedNumberScheduled"
                                                                           "':3,'numberAvailable':"
                                                                           "2}}",
     "kube-proxy|3|3|2|3|2|kubernetes.io/os=linux|30d|kube-proxy|"
     "registry.k8s.io/kube-proxy:v1.32.0|k8s-app=kube-proxy"},
    {"apps", "v1", "DaemonSet", "{'metadata':{'name':'ds'},'spec':{'template':{'spec':{}}}}",
     "ds|0|0|0|0|0|<none>|<unknown>|||<none>"},
    {"batch", "v1", "Job",
     "{'metadata':{'name':'pi'," AT(
         "2024-11-22T13:00:00Z") "},'spec':{'completions':1,"
                                 "'parallelism':1,'selector':{'matchLabels':{'batch.kubernetes.io/"
                                 "controller-uid':'abc'}},"
                                 "'template':{'spec':{'containers':[" CT(
                                     "pi",
                                     "perl") "]}}},'status':{'succeeded':1,"
                                             "'startTime':'2024-11-22T13:00:00Z','completionTime':'"
                                             "2024-11-22T13:00:42Z','conditions':"
                                             "[{'type':'SuccessCriteriaMet','status':'True'},{'"
                                             "type':'Complete','status':'True'}]}}",
     "pi|Complete|1/1|42s|60m|pi|perl|batch.kubernetes.io/controller-uid=abc"},
    {"batch", "v1", "Job",
     "{'metadata':{'name':'w'," AT(
         "2024-11-22T13:00:00Z") "},'spec':{'parallelism':3},'status':"
                                 "{'active':3,'startTime':'2024-11-22T13:55:00Z'}}",
     "w|Running|0/1 of 3|5m|60m|||<none>"},
    {"batch", "v1", "Job",
     "{'metadata':{'name':'f'},'spec':{'completions':3},'status':{'succeeded':1,'conditions':[{"
     "'type':'FailureTarget','status':'True'},{'type':'Failed','status':'True'}]}}",
     "f|Failed|1/3||<unknown>|||<none>"},
    {"batch", "v1", "Job",
     "{'metadata':{'name':'s'},'spec':{'completions':2,'suspend':true},'status':{'conditions':"
     "[{'type':'Suspended','status':'True'}]}}",
     "s|Suspended|0/2||<unknown>|||<none>"},
    {"batch", "v1", "Job",
     "{'metadata':{'name':'t','deletionTimestamp':'2024-11-22T13:59:00Z'},'spec':{},'status':"
     "{'conditions':[{'type':'Suspended','status':'True'}]}}",
     "t|Terminating|0/1||<unknown>|||<none>"},
    {"batch", "v1", "Job",
     "{'metadata':{'name':'ft'},'spec':{},'status':{'conditions':[{'type':'FailureTarget',"
     "'status':'True'}]}}",
     "ft|FailureTarget|0/1||<unknown>|||<none>"},
    {"batch", "v1", "CronJob",
     "{'metadata':{'name':'hello'," AT(
         "2024-11-21T14:00:00Z") "},'spec':{'schedule':"
                                 "'*/5 * * * "
                                 "*','suspend':false,'jobTemplate':{'spec':{'template':{'spec':{'"
                                 "containers':[" CT(
                                     "hello",
                                     "busybox:1.28") "]}}}}},'status':{'active':[{'name':'hello-1'}"
                                                     "],"
                                                     "'lastScheduleTime':'2024-11-22T13:55:00Z'}}",
     "hello|*/5 * * * *|<none>|False|1|5m|24h|hello|busybox:1.28|<none>"},
    {"batch", "v1", "CronJob",
     "{'metadata':{'name':'tz'},'spec':{'schedule':'@daily','timeZone':'Etc/UTC'}}",
     "tz|@daily|Etc/UTC|<unset>|0|<none>|<unknown>|||<none>"},
    {"apps", "v1", "ControllerRevision",
     "{'metadata':{'name':'web-6b9'," AT(
         "2024-11-22T13:00:00Z") ",'ownerReferences':[{"
                                 "'apiVersion':'apps/"
                                 "v1','kind':'StatefulSet','name':'web','controller':true}]},"
                                 "'revision':3}",
     "web-6b9|statefulset.apps/web|3|60m"},
    {"apps", "v1", "ControllerRevision",
     "{'metadata':{'name':'r','ownerReferences':[{'apiVersion':'v1','kind':'Pod','name':'x'}]},"
     "'revision':1}",
     "r|<none>|1|<unknown>"},
    {"autoscaling", "v2", "HorizontalPodAutoscaler",
     "{'metadata':{'name':'hpa'," AT(
         "2024-11-22T13:00:00Z") "},'spec':{'scaleTargetRef':{'kind':"
                                 "'Deployment','name':'web'},'minReplicas':2,'maxReplicas':10,'"
                                 "metrics':[{'type':'Resource',"
                                 "'resource':{'name':'cpu','target':{'type':'Utilization','"
                                 "averageUtilization':80}}},{"
                                 "'type':'Resource','resource':{'name':'memory','target':{'type':'"
                                 "AverageValue',"
                                 "'averageValue':'500Mi'}}},{'type':'Pods','pods':{'metric':{'name'"
                                 ":'qps'},'target':{"
                                 "'type':'AverageValue','averageValue':'1k'}}}]},'status':{'"
                                 "currentReplicas':3,"
                                 "'currentMetrics':[{'type':'Resource','resource':{'name':'cpu','"
                                 "current':{"
                                 "'averageUtilization':35,'averageValue':'120m'}}}]}}",
     "hpa|Deployment/web|cpu: 35%/80%, memory: <unknown>/500Mi + 1 more...|2|10|3|60m"},
    {"autoscaling", "v2", "HorizontalPodAutoscaler",
     "{'metadata':{'name':'ext'},'spec':{'scaleTargetRef':{'kind':'Deployment','name':'q'},"
     "'maxReplicas':4,'metrics':[{'type':'External','external':{'metric':{'name':'queue'},"
     "'target':{'type':'Value','value':'30'}}},{'type':'Object','object':{'metric':{'name':"
     "'rps'},'target':{'type':'AverageValue','averageValue':'10'}}}]},'status':{"
     "'currentMetrics':[{'type':'External','external':{'current':{'value':'12'}}}]}}",
     "ext|Deployment/q|12/30, <unknown>/10 (avg)|<unset>|4|0|<unknown>"},
    {"autoscaling", "v1", "HorizontalPodAutoscaler",
     "{'metadata':{'name':'h1'," AT(
         "2024-11-22T13:00:00Z") "},'spec':{'scaleTargetRef':{'kind':"
                                 "'Deployment','name':'web'},'maxReplicas':5,'"
                                 "targetCPUUtilizationPercentage':50},"
                                 "'status':{'currentReplicas':1,'currentCPUUtilizationPercentage':"
                                 "12}}",
     "h1|Deployment/web|cpu: 12%/50%|<unset>|5|1|60m"},
    {"autoscaling", "v2", "HorizontalPodAutoscaler",
     "{'metadata':{'name':'none'},'spec':{'scaleTargetRef':{'kind':'StatefulSet','name':'s'},"
     "'minReplicas':1,'maxReplicas':3}}",
     "none|StatefulSet/s|<none>|1|3|0|<unknown>"},
    {"policy", "v1", "PodDisruptionBudget",
     "{'metadata':{'name':'pdb'," AT("2024-11-22T13:00:00Z") "},'spec':{'minAvailable':'50%'},"
                                                             "'status':{'disruptionsAllowed':1}}",
     "pdb|50%|N/A|1|60m"},
    {"policy", "v1", "PodDisruptionBudget",
     "{'metadata':{'name':'pdb2'},'spec':{'maxUnavailable':1}}", "pdb2|N/A|1|0|<unknown>"},
    {"", "v1", "PodTemplate",
     "{'metadata':{'name':'pt'},'template':{'metadata':{'labels':{'tier':'fe','app':'x'}},"
     "'spec':{'containers':[" CT("c1", "img1") "]}}}",
     "pt|c1|img1|app=x,tier=fe"},
};

static void workload_rows(void **state)
{
    (void)state;
    check_rows(WORKLOAD_CASES, CK_ARRAY_SIZE(WORKLOAD_CASES));
}

/* ---- core ---- */

static const struct row_case CORE_CASES[] = {
    {"", "v1", "Service",
     "{'metadata':{'name':'web'," AT(
         "2024-11-22T13:00:00Z") "},'spec':{'type':'NodePort',"
                                 "'clusterIP':'10.96.12.7','clusterIPs':['10.96.12.7'],'ports':[{'"
                                 "port':80,'targetPort':"
                                 "8080,'nodePort':30080,'protocol':'TCP'},{'name':'dns','port':53,'"
                                 "protocol':'UDP'}],"
                                 "'selector':{'app':'web'}}}",
     "web|NodePort|10.96.12.7|<none>|80:30080/TCP,53/UDP|60m|app=web"},
    {"", "v1", "Service",
     "{'metadata':{'name':'h'},'spec':{'type':'ClusterIP','clusterIP':'None','clusterIPs':["
     "'None'],'externalIPs':['192.0.2.1','192.0.2.2']}}",
     "h|ClusterIP|None|192.0.2.1,192.0.2.2|<none>|<unknown>|<none>"},
    {"", "v1", "Service",
     "{'metadata':{'name':'lb'},'spec':{'type':'LoadBalancer','clusterIPs':['10.96.0.9'],"
     "'ports':[{'port':443,'nodePort':31443,'protocol':'TCP'}]}}",
     "lb|LoadBalancer|10.96.0.9|<pending>|443:31443/TCP|<unknown>|<none>"},
    {"", "v1", "Service",
     "{'metadata':{'name':'lb2'},'spec':{'type':'LoadBalancer','clusterIP':'10.96.0.8',"
     "'externalIPs':['198.51.100.1']},'status':{'loadBalancer':{'ingress':[{'hostname':"
     "'lb.example.com'},{'ip':'203.0.113.9'}]}}}",
     "lb2|LoadBalancer|10.96.0.8|203.0.113.9,lb.example.com,198.51.100.1|<none>|<unknown>|<none>"},
    {"", "v1", "Service",
     "{'metadata':{'name':'x'},'spec':{'type':'ExternalName','externalName':'db.example.com'}}",
     "x|ExternalName|<none>|db.example.com|<none>|<unknown>|<none>"},
    {"", "v1", "Endpoints",
     "{'metadata':{'name':'web'," AT(
         "2024-11-22T13:00:00Z") "},'subsets':[{'addresses':[{'ip':"
                                 "'10.1.0.5'},{'ip':'10.1.0.6'}],'ports':[{'name':'http','port':"
                                 "8080},{'name':'https',"
                                 "'port':8443}]}]}",
     "web|10.1.0.5:8080,10.1.0.6:8080,10.1.0.5:8443 + 1 more...|60m"},
    {"", "v1", "Endpoints",
     "{'metadata':{'name':'v6'},'subsets':[{'addresses':[{'ip':'fd00::5'}],'ports':[{'port':80}]},"
     "{'addresses':[{'ip':'10.0.0.1'}]}]}",
     "v6|[fd00::5]:80,10.0.0.1|<unknown>"},
    {"", "v1", "Endpoints", "{'metadata':{'name':'e'}}", "e|<none>|<unknown>"},
    {"", "v1", "Endpoints",
     "{'metadata':{'name':'nr'},'subsets':[{'notReadyAddresses':[{'ip':'10.0.0.2'}],'ports':"
     "[{'port':80}]}]}",
     "nr||<unknown>"},
    {"discovery.k8s.io", "v1", "EndpointSlice",
     "{'metadata':{'name':'web-abc'," AT(
         "2024-11-22T13:00:00Z") "},'addressType':'IPv4','ports':"
                                 "[{'name':'http','port':80},{'name':'x'},{}],'endpoints':[{'"
                                 "addresses':['10.1.0.5']},"
                                 "{'addresses':['10.1.0.6']}]}",
     "web-abc|IPv4|80,x,*|10.1.0.5,10.1.0.6|60m"},
    {"discovery.k8s.io", "v1", "EndpointSlice",
     "{'metadata':{'name':'empty'},'addressType':'IPv6'}", "empty|IPv6|<unset>|<unset>|<unknown>"},
    {"", "v1", "Node",
     "{'metadata':{'name':'node-1'," AT(
         "2024-11-12T14:00:00Z") ",'labels':{"
                                 "'node-role.kubernetes.io/worker':'','node-role.kubernetes.io/"
                                 "control-plane':'',"
                                 "'kubernetes.io/role':'master','node-role.kubernetes.io/"
                                 "':'x','kubernetes.io/hostname':"
                                 "'node-1'}},'spec':{'unschedulable':true},'status':{'conditions':["
                                 "{'type':'MemoryPressure',"
                                 "'status':'False'},{'type':'Ready','status':'True'}],'addresses':["
                                 "{'type':'Hostname',"
                                 "'address':'node-1'},{'type':'InternalIP','address':'192.168.1.10'"
                                 "}],'nodeInfo':{"
                                 "'kubeletVersion':'v1.32.0','osImage':'Debian GNU/Linux 12 "
                                 "(bookworm)','kernelVersion':"
                                 "'6.1.0-26-amd64','containerRuntimeVersion':'containerd://"
                                 "1.7.22'}}}",
     "node-1|Ready,SchedulingDisabled|control-plane,master,worker|10d|v1.32.0|192.168.1.10|<none>|"
     "Debian GNU/Linux 12 (bookworm)|6.1.0-26-amd64|containerd://1.7.22"},
    {"", "v1", "Node",
     "{'metadata':{'name':'n2'},'status':{'conditions':[{'type':'Ready','status':'Unknown'}],"
     "'addresses':[{'type':'ExternalIP','address':'203.0.113.4'}]}}",
     "n2|NotReady|<none>|<unknown>||<none>|203.0.113.4|<unknown>|<unknown>|<unknown>"},
    {"", "v1", "Node", "{'metadata':{'name':'n3'}}",
     "n3|Unknown|<none>|<unknown>||<none>|<none>|<unknown>|<unknown>|<unknown>"},
    {"", "v1", "Namespace",
     "{'metadata':{'name':'dev'," AT("2024-11-22T13:00:00Z") "},'status':{'phase':'Terminating'}}",
     "dev|Terminating|60m"},
    {"", "v1", "Event",
     "{'metadata':{'name':'web-1.17f3'," AT(
         "2024-11-22T13:50:00Z") "},'involvedObject':{'kind':"
                                 "'Pod','name':'web-1','fieldPath':'spec.containers{nginx}'},'"
                                 "reason':'Pulled','message':"
                                 "'  Successfully pulled image "
                                 "nginx\\n','source':{'component':'kubelet','host':'node-1'},"
                                 "'firstTimestamp':'2024-11-22T13:50:00Z','lastTimestamp':'2024-11-"
                                 "22T13:58:00Z','count':3,"
                                 "'type':'Normal'}",
     "2m|Normal|Pulled|pod/web-1|spec.containers{nginx}|kubelet, node-1|"
     "Successfully pulled image nginx|10m|3|web-1.17f3"},
    {"", "v1", "Event",
     "{'metadata':{'name':'ev2'},'eventTime':'2024-11-22T13:59:29.500000Z','reportingComponent':"
     "'default-scheduler','reportingInstance':'default-scheduler-node-1','involvedObject':{"
     "'kind':'Pod','name':'x'},'reason':'Scheduled','type':'Normal','message':'ok'}",
     "30s|Normal|Scheduled|pod/x||default-scheduler, default-scheduler-node-1|ok|30s|1|ev2"},
    {"", "v1", "Event",
     "{'metadata':{'name':'ev3'},'involvedObject':{'kind':'Namespace'},'source':{'component':"
     "'ctrl'},'count':2,'type':'Warning','reason':'R','message':'m'}",
     "<unknown>|Warning|R|namespace||ctrl|m|<unknown>|2|ev3"},
    {"events.k8s.io", "v1", "Event",
     "{'metadata':{'name':'e3'},'eventTime':'2024-11-22T13:00:00.000000Z','series':{'count':12,"
     "'lastObservedTime':'2024-11-22T13:59:00.000000Z'},'reportingController':'kubelet',"
     "'reportingInstance':'node-2','regarding':{'kind':'Node','name':'node-2'},'reason':"
     "'NodeNotReady','note':'Node is not ready','type':'Warning'}",
     "60s|Warning|NodeNotReady|node/node-2||kubelet, node-2|Node is not ready|60m|12|e3"},
    {"", "v1", "ConfigMap",
     "{'metadata':{'name':'cfg'," AT("2024-11-22T13:00:00Z") "},'data':{'a':'1','b':'2'},"
                                                             "'binaryData':{'c':'AA=='}}",
     "cfg|3|60m"},
    {"", "v1", "Secret",
     "{'metadata':{'name':'tls'},'type':'kubernetes.io/tls','data':{'tls.crt':'','tls.key':''}}",
     "tls|kubernetes.io/tls|2|<unknown>"},
    {"", "v1", "ServiceAccount", "{'metadata':{'name':'default'},'secrets':[]}",
     "default|0|<unknown>"},
    {"", "v1", "ResourceQuota",
     "{'metadata':{'name':'rq'," AT(
         "2024-11-22T13:00:00Z") "},'status':{'hard':{'requests.cpu':"
                                 "'1','limits.memory':'2Gi','pods':'10','limits.cpu':'2','requests."
                                 "memory':'1Gi'},'used':{"
                                 "'requests.cpu':'500m','pods':'3','requests.memory':'256Mi'}}}",
     "rq|60m|pods: 3/10, requests.cpu: 500m/1, requests.memory: 256Mi/1Gi|"
     "limits.cpu: 0/2, limits.memory: 0/2Gi"},
    {"", "v1", "ComponentStatus",
     "{'metadata':{'name':'etcd-0'},'conditions':[{'type':'Healthy','status':'True','message':"
     "'ok'}]}",
     "etcd-0|Healthy|ok|"},
};

static void core_rows(void **state)
{
    (void)state;
    check_rows(CORE_CASES, CK_ARRAY_SIZE(CORE_CASES));
}

/* ---- storage and cluster kinds ---- */

static const struct row_case OTHER_CASES[] = {
    {"", "v1", "PersistentVolume",
     "{'metadata':{'name':'pv1'," AT(
         "2024-11-22T13:00:00Z") ",'annotations':{"
                                 "'volume.beta.kubernetes.io/"
                                 "storage-class':'slow'}},'spec':{'capacity':{'storage':'10Gi'},"
                                 "'accessModes':['ReadWriteMany','ReadWriteOnce'],'"
                                 "persistentVolumeReclaimPolicy':'Retain',"
                                 "'storageClassName':'fast','claimRef':{'namespace':'default','"
                                 "name':'data'},'volumeMode':"
                                 "'Filesystem'},'status':{'phase':'Bound'}}",
     "pv1|10Gi|RWO,RWX|Retain|Bound|default/data|slow|<unset>||60m|Filesystem"},
    {"", "v1", "PersistentVolume",
     "{'metadata':{'name':'pv2','deletionTimestamp':'2024-11-22T13:00:00Z'},'spec':{"
     "'accessModes':['ReadWriteOncePod'],'volumeAttributesClassName':'gold'},'status':{'phase':"
     "'Failed','reason':'Recycle failed'}}",
     "pv2|0|RWOP||Terminating|||gold|Recycle failed|<unknown>|<unset>"},
    {"", "v1", "PersistentVolumeClaim",
     "{'metadata':{'name':'data'," AT(
         "2024-11-22T13:00:00Z") "},'spec':{'accessModes':["
                                 "'ReadWriteOnce'],'resources':{'requests':{'storage':'1Gi'}},'"
                                 "storageClassName':'standard'},"
                                 "'status':{'phase':'Pending'}}",
     "data|Pending||||standard|<unset>|60m|<unset>"},
    {"", "v1", "PersistentVolumeClaim",
     "{'metadata':{'name':'data'},'spec':{'volumeName':'pvc-123','storageClassName':'standard',"
     "'volumeMode':'Block'},'status':{'phase':'Bound','capacity':{'storage':'1Gi'},'accessModes':"
     "['ReadWriteOnce']}}",
     "data|Bound|pvc-123|1Gi|RWO|standard|<unset>|<unknown>|Block"},
    {"storage.k8s.io", "v1", "StorageClass",
     "{'metadata':{'name':'standard'," AT(
         "2024-11-22T13:00:00Z") ",'annotations':{"
                                 "'storageclass.kubernetes.io/"
                                 "is-default-class':'true'}},'provisioner':"
                                 "'rancher.io/"
                                 "local-path','volumeBindingMode':'WaitForFirstConsumer'}",
     "standard (default)|rancher.io/local-path|Delete|WaitForFirstConsumer|false|60m"},
    {"storage.k8s.io", "v1", "CSIDriver",
     "{'metadata':{'name':'csi.example.com'},'spec':{'attachRequired':false,"
     "'volumeLifecycleModes':['Persistent','Ephemeral'],'tokenRequests':[{'audience':'vault'},"
     "{'audience':'gcp'}],'storageCapacity':true}}",
     "csi.example.com|false|false|true|vault,gcp|false|Persistent,Ephemeral|<unknown>"},
    {"storage.k8s.io", "v1", "CSIDriver", "{'metadata':{'name':'d'},'spec':{}}",
     "d|true|false|false|<unset>|false|<none>|<unknown>"},
    {"storage.k8s.io", "v1", "CSINode",
     "{'metadata':{'name':'node-1'},'spec':{'drivers':[{'name':'a'},{'name':'b'}]}}",
     "node-1|2|<unknown>"},
    {"storage.k8s.io", "v1", "CSIStorageCapacity",
     "{'metadata':{'name':'cap'},'storageClassName':'fast','capacity':'100Gi'}", "cap|fast|100Gi"},
    {"storage.k8s.io", "v1", "VolumeAttachment",
     "{'metadata':{'name':'va'},'spec':{'attacher':'csi.example.com','nodeName':'node-1',"
     "'source':{'persistentVolumeName':'pv1'}},'status':{'attached':true}}",
     "va|csi.example.com|pv1|node-1|true|<unknown>"},
    {"networking.k8s.io", "v1", "Ingress",
     "{'metadata':{'name':'ing'," AT(
         "2024-11-22T13:00:00Z") "},'spec':{'ingressClassName':"
                                 "'nginx','rules':[{'host':'a.example.com'},{'host':'b.example.com'"
                                 "},{},{'host':"
                                 "'c.example.com'},{'host':'d.example.com'}],'tls':[{'hosts':['a."
                                 "example.com']}]},'status':"
                                 "{'loadBalancer':{'ingress':[{'ip':'10.0.0.5'},{'hostname':'a.lb'}"
                                 ",{'ip':'10.0.0.5'}]}}}",
     "ing|nginx|a.example.com,b.example.com,c.example.com + 2 more...|10.0.0.5,a.lb|80, 443|60m"},
    {"networking.k8s.io", "v1", "Ingress", "{'metadata':{'name':'i2'},'spec':{}}",
     "i2|<none>|*||80|<unknown>"},
    {"networking.k8s.io", "v1", "IngressClass",
     "{'metadata':{'name':'ext'},'spec':{'controller':'example.com/ingress','parameters':{"
     "'apiGroup':'k8s.example.com','kind':'IngressParameters','name':'external-lb'}}}",
     "ext|example.com/ingress|IngressParameters.k8s.example.com/external-lb|<unknown>"},
    {"networking.k8s.io", "v1", "IngressClass",
     "{'metadata':{'name':'nginx'},'spec':{'controller':'k8s.io/ingress-nginx'}}",
     "nginx|k8s.io/ingress-nginx|<none>|<unknown>"},
    {"networking.k8s.io", "v1", "NetworkPolicy",
     "{'metadata':{'name':'deny'},'spec':{'podSelector':{}}}", "deny|<none>|<unknown>"},
    {"networking.k8s.io", "v1", "NetworkPolicy",
     "{'metadata':{'name':'db'},'spec':{'podSelector':{'matchLabels':{'role':'db'}}}}",
     "db|role=db|<unknown>"},
    {"rbac.authorization.k8s.io", "v1", "RoleBinding",
     "{'metadata':{'name':'rb'," AT(
         "2024-11-22T13:00:00Z") "},'roleRef':{'kind':'ClusterRole',"
                                 "'name':'view'},'subjects':[{'kind':'User','name':'alice'},{'kind'"
                                 ":'Group','name':'devs'},"
                                 "{'kind':'ServiceAccount','name':'ci','namespace':'build'},{'kind'"
                                 ":'User','name':'bob'}]}",
     "rb|ClusterRole/view|60m|alice, bob|devs|build/ci"},
    {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding",
     "{'metadata':{'name':'admin'},'roleRef':{'kind':'ClusterRole','name':'cluster-admin'},"
     "'subjects':[{'kind':'Group','name':'system:masters'}]}",
     "admin|ClusterRole/cluster-admin|<unknown>||system:masters|"},
    {"coordination.k8s.io", "v1", "Lease",
     "{'metadata':{'name':'kube-scheduler'},'spec':{'holderIdentity':'cp-1_9f3c'}}",
     "kube-scheduler|cp-1_9f3c|<unknown>"},
    {"scheduling.k8s.io", "v1", "PriorityClass",
     "{'metadata':{'name':'system-cluster-critical'},'value':2000000000,'preemptionPolicy':"
     "'PreemptLowerPriority'}",
     "system-cluster-critical|2000000000|false|<unknown>|PreemptLowerPriority"},
    {"node.k8s.io", "v1", "RuntimeClass", "{'metadata':{'name':'gvisor'},'handler':'runsc'}",
     "gvisor|runsc|<unknown>"},
    {"certificates.k8s.io", "v1", "CertificateSigningRequest",
     "{'metadata':{'name':'csr1'," AT(
         "2024-11-22T13:00:00Z") "},'spec':{'signerName':"
                                 "'kubernetes.io/"
                                 "kube-apiserver-client','username':'alice','expirationSeconds':"
                                 "86400},"
                                 "'status':{'conditions':[{'type':'Approved','status':'True'}],'"
                                 "certificate':'LS0t'}}",
     "csr1|60m|kubernetes.io/kube-apiserver-client|alice|24h|Approved,Issued"},
    {"certificates.k8s.io", "v1", "CertificateSigningRequest",
     "{'metadata':{'name':'csr2'},'spec':{'username':'bob'},'status':{'conditions':[{'type':"
     "'Approved','status':'True'},{'type':'Denied','status':'True'},{'type':'Failed'}]}}",
     "csr2|<unknown>|<none>|bob|<none>|Denied,Failed"},
    {"certificates.k8s.io", "v1", "CertificateSigningRequest",
     "{'metadata':{'name':'csr3'},'spec':{}}", "csr3|<unknown>|<none>||<none>|Pending"},
    {"admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration",
     "{'metadata':{'name':'wh'},'webhooks':[{'name':'a.example.com'},{'name':'b.example.com'}]}",
     "wh|2|<unknown>"},
    {"admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy",
     "{'metadata':{'name':'p'},'spec':{'paramKind':{'apiVersion':'v1','kind':'ConfigMap'},"
     "'validations':[{'expression':'true'}]}}",
     "p|1|v1/ConfigMap|<unknown>"},
    {"admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding",
     "{'metadata':{'name':'b1'},'spec':{'policyName':'p','paramRef':{'name':'cfg'}}}",
     "b1|p|*/cfg|<unknown>"},
    {"admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding",
     "{'metadata':{'name':'b2'},'spec':{'policyName':'p','paramRef':{'selector':{'matchLabels':{"
     "'env':'prod'},'matchExpressions':[{'key':'tier','operator':'In','values':['a','b']}]}}}}",
     "b2|p|&LabelSelector{MatchLabels:map[string]string{env: prod,},MatchExpressions:"
     "[]LabelSelectorRequirement{LabelSelectorRequirement{Key:tier,Operator:In,Values:[a b],},},}"
     "|<unknown>"},
};

static void storage_and_cluster_rows(void **state)
{
    (void)state;
    check_rows(OTHER_CASES, CK_ARRAY_SIZE(OTHER_CASES));
}

/* ---- column definitions ---- */

struct columns_case {
    const char *group, *kind, *want;
};

static const struct columns_case COLUMN_CASES[] = {
    {"", "Pod", "Name|Ready|Status|Restarts|Age|*IP|*Node|*Nominated Node|*Readiness Gates"},
    {"apps", "Deployment", "Name|Ready|Up-to-date|Available|Age|*Containers|*Images|*Selector"},
    {"apps", "ReplicaSet", "Name|Desired|Current|Ready|Age|*Containers|*Images|*Selector"},
    {"apps", "StatefulSet", "Name|Ready|Age|*Containers|*Images"},
    {"apps", "DaemonSet",
     "Name|Desired|Current|Ready|Up-to-date|Available|Node Selector|Age|*Containers|*Images|"
     "*Selector"},
    {"batch", "Job", "Name|Status|Completions|Duration|Age|*Containers|*Images|*Selector"},
    {"batch", "CronJob",
     "Name|Schedule|Timezone|Suspend|Active|Last Schedule|Age|*Containers|*Images|*Selector"},
    {"", "Service", "Name|Type|Cluster-IP|External-IP|Port(s)|Age|*Selector"},
    {"", "Node",
     "Name|Status|Roles|Age|Version|*Internal-IP|*External-IP|*OS-Image|*Kernel-Version|"
     "*Container-Runtime"},
    {"", "Event",
     "Last Seen|Type|Reason|Object|*Subobject|*Source|Message|*First Seen|*Count|*Name"},
    {"", "ResourceQuota", "Name|Age|Request|Limit"},
    {"", "PersistentVolume",
     "Name|Capacity|Access Modes|Reclaim Policy|Status|Claim|StorageClass|"
     "VolumeAttributesClass|Reason|Age|*VolumeMode"},
    {"", "PersistentVolumeClaim",
     "Name|Status|Volume|Capacity|Access Modes|StorageClass|VolumeAttributesClass|Age|"
     "*VolumeMode"},
    {"rbac.authorization.k8s.io", "RoleBinding", "Name|Role|Age|*Users|*Groups|*ServiceAccounts"},
    {"scheduling.k8s.io", "PriorityClass", "Name|Value|Global-Default|Age|PreemptionPolicy"},
    {"certificates.k8s.io", "CertificateSigningRequest",
     "Name|Age|SignerName|Requestor|RequestedDuration|Condition"},
    {"", "PodTemplate", "Name|Containers|Images|Pod Labels"},
    {"rbac.authorization.k8s.io", "Role", "Name|Created At"},
    {"apiextensions.k8s.io", "CustomResourceDefinition", "Name|Created At"},
    {"example.com", "Widget", "Name|Created At"},
};

static void column_definitions(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(COLUMN_CASES); i++) {
        struct resource r = res(COLUMN_CASES[i].group, "v1", COLUMN_CASES[i].kind);
        cJSON *t = printers_table(&r, NULL, NULL, NULL, NULL, -1, &NOW);
        char *names = column_names(t);
        assert_string_equal(names, COLUMN_CASES[i].want);
        free(names);
        cJSON_Delete(t);
    }
    /* each definition carries name, type, format, description and priority, as upstream */
    struct resource pod = res("", "v1", "Pod");
    cJSON *t = printers_table(&pod, NULL, NULL, NULL, NULL, -1, &NOW);
    assert_string_equal(ck_json_get_string(t, "columnDefinitions.0.format", "?"), "name");
    assert_string_equal(ck_json_get_string(t, "columnDefinitions.1.format", "?"), "");
    assert_string_equal(ck_json_get_string(t, "columnDefinitions.3.type", "?"), "string");
    assert_true(strlen(ck_json_get_string(t, "columnDefinitions.4.description", "")) > 20);
    assert_non_null(ck_json_get(t, "columnDefinitions.0.priority"));
    cJSON_Delete(t);
}

/* Every kind of the resource table (apiserver/registry/resources.c) that upstream prints has
 * its printer; the rest (no printer upstream, or create-only reviews) get the default columns. */
static void every_served_kind_has_its_printer(void **state)
{
    (void)state;
    static const char *const no_printer[][2] = {
        {"", "Binding"},
        {"", "LimitRange"},
        {"apiextensions.k8s.io", "CustomResourceDefinition"},
        {"rbac.authorization.k8s.io", "ClusterRole"},
        {"rbac.authorization.k8s.io", "Role"},
        {"authentication.k8s.io", "SelfSubjectReview"},
        {"authentication.k8s.io", "TokenReview"},
        {"authorization.k8s.io", "LocalSubjectAccessReview"},
        {"authorization.k8s.io", "SelfSubjectAccessReview"},
        {"authorization.k8s.io", "SelfSubjectRulesReview"},
        {"authorization.k8s.io", "SubjectAccessReview"},
    };
    assert_true(ck_resources_count > 50);
    for (size_t i = 0; i < ck_resources_count; i++) {
        const struct resource *r = &ck_resources[i];
        bool want = true;
        for (size_t k = 0; k < CK_ARRAY_SIZE(no_printer); k++)
            if (!strcmp(r->group, no_printer[k][0]) && !strcmp(r->kind, no_printer[k][1]))
                want = false;
        if (printers_has_kind(r->group, r->kind) != want)
            print_error("%s/%s: printer %s\n", r->group, r->kind, want ? "missing" : "unexpected");
        assert_int_equal(printers_has_kind(r->group, r->kind), want);
    }
    /* the kind alone does not match: the group must too */
    assert_false(printers_has_kind("apps", "Pod"));
    assert_false(printers_has_kind("", "Deployment"));
}

/* ---- the Table itself ---- */

static void default_convertor_rows(void **state)
{
    (void)state;
    struct resource r = res("rbac.authorization.k8s.io", "v1", "Role");
    cJSON *items =
        J("[{'metadata':{'name':'admin','creationTimestamp':'2024-11-22T15:00:00+02:00'}},"
          "{'metadata':{'name':'none'}}]");
    cJSON *t = printers_table(&r, items, NULL, NULL, NULL, -1, &NOW);
    char *r0 = row_cells(t, 0), *r1 = row_cells(t, 1);
    assert_string_equal(r0, "admin|2024-11-22T13:00:00Z"); /* RFC 3339 in UTC */
    assert_string_equal(r1, "none|0001-01-01T00:00:00Z");  /* Go's zero time */
    assert_string_equal(ck_json_get_string(t, "columnDefinitions.1.type", ""), "date");
    free(r0);
    free(r1);
    cJSON_Delete(t);

    /* an empty list: upstream's default convertor leaves rows nil (null), printers give [] */
    cJSON *empty = J("[]");
    t = printers_table(&r, empty, NULL, "7", NULL, -1, &NOW);
    assert_true(cJSON_IsNull(ck_json_get(t, "rows")));
    cJSON_Delete(t);
    struct resource pod = res("", "v1", "Pod");
    t = printers_table(&pod, empty, NULL, "7", NULL, -1, &NOW);
    assert_true(cJSON_IsArray(ck_json_get(t, "rows")));
    assert_int_equal(cJSON_GetArraySize(ck_json_get(t, "rows")), 0);
    cJSON_Delete(t);
    cJSON_Delete(empty);
    cJSON_Delete(items);
}

static void table_envelope_and_list_metadata(void **state)
{
    (void)state;
    struct resource r = res("", "v1", "ConfigMap");
    cJSON *items = J("[{'metadata':{'name':'a'}},{'metadata':{'name':'b'}}]");
    cJSON *t = printers_table(&r, items, NULL, "1234", "eyJ2IjoibWV0YSJ9", 5, &NOW);
    char *s = ck_json_print(t, 0);
    /* member order as upstream marshals metav1.Table */
    assert_non_null(strstr(s, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":"
                              "{\"resourceVersion\":\"1234\",\"continue\":\"eyJ2IjoibWV0YSJ9\","
                              "\"remainingItemCount\":5},\"columnDefinitions\":[{\"name\":\"Name\","
                              "\"type\":\"string\",\"format\":\"name\",\"description\":"));
    /* (printed as Go does, with < and > escaped) */
    assert_non_null(strstr(s, "\"rows\":[{\"cells\":[\"a\",0,\"\\u003cunknown\\u003e\"],"
                              "\"object\":{\"kind\":\"PartialObjectMetadata\""));
    free(s);
    assert_int_equal(cJSON_GetArraySize(ck_json_get(t, "rows")), 2);
    cJSON_Delete(t);

    /* nothing to say: the list metadata is empty */
    t = printers_table(&r, items, NULL, NULL, "", -1, &NOW);
    assert_int_equal(cJSON_GetArraySize(ck_json_get(t, "metadata")), 0);
    cJSON_Delete(t);
    cJSON_Delete(items);

    /* a single object: its resourceVersion becomes the table's */
    cJSON *obj = J("{'metadata':{'name':'a','resourceVersion':'99'}}");
    t = printers_table_object(&r, obj, NULL, &NOW);
    assert_string_equal(ck_json_get_string(t, "metadata.resourceVersion", ""), "99");
    assert_int_equal(cJSON_GetArraySize(ck_json_get(t, "rows")), 1);
    cJSON_Delete(t);
    assert_null(printers_table_object(&r, items = J("[]"), NULL, &NOW));
    assert_null(printers_table(NULL, items, NULL, NULL, NULL, -1, &NOW));
    cJSON_Delete(items);
    cJSON_Delete(obj);
}

static void include_object_modes(void **state)
{
    (void)state;
    struct resource r = res("apps", "v1", "Deployment");
    cJSON *obj = J("{'metadata':{'labels':{'app':'web'},'name':'web','namespace':'default','uid':"
                   "'u-1','resourceVersion':'5','generation':2,'annotations':{},'extra':'x'},"
                   "'spec':{'replicas':1},'status':{}}");

    cJSON *t = printers_table_object(&r, obj, "Metadata", &NOW);
    char *s = ck_json_print(ck_json_get(t, "rows.0.object"), 0);
    /* ObjectMeta in field order, empty members dropped, a zero creationTimestamp as null */
    assert_string_equal(s, "{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\","
                           "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":"
                           "\"u-1\",\"resourceVersion\":\"5\",\"generation\":2,"
                           "\"creationTimestamp\":null,\"labels\":{\"app\":\"web\"}}}");
    free(s);
    cJSON_Delete(t);

    t = printers_table_object(&r, obj, NULL, &NOW); /* the default is Metadata */
    assert_string_equal(ck_json_get_string(t, "rows.0.object.kind", ""), "PartialObjectMetadata");
    cJSON_Delete(t);

    t = printers_table_object(&r, obj, "Object", &NOW);
    assert_string_equal(ck_json_get_string(t, "rows.0.object.kind", ""), "Deployment");
    assert_string_equal(ck_json_get_string(t, "rows.0.object.apiVersion", ""), "apps/v1");
    assert_int_equal(ck_json_get_int64(t, "rows.0.object.spec.replicas", 0), 1);
    assert_string_equal(ck_json_get(t, "rows.0.object")->child->string, "kind");
    cJSON_Delete(t);

    t = printers_table_object(&r, obj, "None", &NOW);
    assert_true(cJSON_IsNull(ck_json_get(t, "rows.0.object")));
    cJSON_Delete(t);

    struct ck_error err = CK_ERROR_INIT;
    assert_null(printers_table_object(&r, obj, "Full", &NOW));
    assert_int_equal(printers_check_include_object("Full", &err), -EINVAL);
    assert_int_equal(err.code, 400);
    assert_string_equal(err.reason, "BadRequest");
    assert_string_equal(err.message, "Unable to convert to Table as requested: includeObject: "
                                     "Invalid value: \"Full\": must be 'Metadata', 'Object', "
                                     "'None', or empty");
    assert_int_equal(printers_check_include_object("", NULL), 0);
    assert_int_equal(printers_check_include_object("None", NULL), 0);
    cJSON_Delete(obj);
}

/* Objects of the wrong shape print with zero values and never crash. */
static void odd_input_prints_without_crashing(void **state)
{
    (void)state;
    static const char *const kinds[][2] = {
        {"", "Pod"},
        {"", "Service"},
        {"", "Node"},
        {"", "Event"},
        {"apps", "Deployment"},
        {"batch", "Job"},
        {"autoscaling", "HorizontalPodAutoscaler"},
        {"", "Endpoints"},
        {"", "ResourceQuota"},
        {"networking.k8s.io", "Ingress"},
    };
    cJSON *items = J("[{'metadata':5,'spec':[],'status':'x','subsets':{},'webhooks':7},"
                     "{'spec':{'containers':'no','ports':[1,null,{'port':'x'}],'metrics':[{}]},"
                     "'status':{'containerStatuses':[null,{'state':[]}],'hard':{'cpu':'bad'}}},"
                     "3,null]");
    for (size_t i = 0; i < CK_ARRAY_SIZE(kinds); i++) {
        struct resource r = res(kinds[i][0], "v1", kinds[i][1]);
        cJSON *t = printers_table(&r, items, "Object", NULL, NULL, -1, NULL);
        assert_non_null(t);
        assert_int_equal(cJSON_GetArraySize(ck_json_get(t, "rows")), 2); /* non-objects skipped */
        assert_int_equal(cJSON_GetArraySize(ck_json_get(t, "rows.0.cells")),
                         cJSON_GetArraySize(ck_json_get(t, "columnDefinitions")));
        cJSON_Delete(t);
    }
    cJSON_Delete(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pod_status_column),
        cmocka_unit_test(pod_wide_cells_and_conditions),
        cmocka_unit_test(workload_rows),
        cmocka_unit_test(core_rows),
        cmocka_unit_test(storage_and_cluster_rows),
        cmocka_unit_test(column_definitions),
        cmocka_unit_test(every_served_kind_has_its_printer),
        cmocka_unit_test(default_convertor_rows),
        cmocka_unit_test(table_envelope_and_list_metadata),
        cmocka_unit_test(include_object_modes),
        cmocka_unit_test(odd_input_prints_without_crashing),
    };
    return cmocka_run_group_tests_name("printers", tests, NULL, NULL);
}
