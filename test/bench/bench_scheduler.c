/* bench_scheduler - scheduling throughput of the pure scheduling library (scheduler/): the
 * shape of upstream's scheduler_perf SchedulingBasic (nodes with 32 cpu / 128Gi / 110 pods
 * spread over 10 zones, pods requesting 100m / 100Mi, no affinity), measured as pods/s over
 * whole cycles: snapshot update, sched_schedule_one with upstream's default profile and node
 * sampling, and assuming the pod in the cache. Creating the objects is excluded.
 *
 * As upstream's workloads, init pods are scheduled first (500 on 500 nodes, 1000 on 5000)
 * and only the measured pods are timed. Upstream's anchor: scheduler_perf's
 * SchedulingBasic/5000Nodes_10000Pods has a CI threshold of 680 pods/s (the lowest
 * throughput its benchmark job accepts; kubernetes/kubernetes
 * test/integration/scheduler_perf/misc/performance-config.yaml, workload
 * "5000Nodes_10000Pods", `threshold: 680`), printed next to ours with the ratio.
 *
 * The comparison is not like for like and the output says so: upstream's figure is the whole
 * kube-scheduler against an in-process apiserver (informers, queue, binding API calls
 * included) on CI machines, ours is the scheduling library alone (no queue, no API calls),
 * so the ratio flatters us; it is a regression alarm, not a claim of being faster.
 *
 * Environment: CK_BENCH_NODES (comma list, default "500,5000"), CK_BENCH_PODS (measured pods,
 * default 5000). Prints one line per shape, "RATE scheduler_<nodes>nodes <pods/s>" and, for
 * 5000 nodes, "RATIO scheduler_5000nodes <ours/680>" for test/bench/run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "mem.h"
#include "scheduler/cache.h"
#include "scheduler/framework.h"
#include "scheduler/schedule.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static cJSON *make_node(int i)
{
    char buf[1024];
    snprintf(
        buf, sizeof(buf),
        "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"node-%05d\","
        "\"labels\":{\"kubernetes.io/hostname\":\"node-%05d\",\"kubernetes.io/os\":\"linux\","
        "\"topology.kubernetes.io/zone\":\"zone-%d\",\"topology.kubernetes.io/region\":\"r1\"}},"
        "\"spec\":{},\"status\":{\"allocatable\":{\"cpu\":\"32\",\"memory\":\"128Gi\","
        "\"pods\":\"110\",\"ephemeral-storage\":\"100Gi\"},\"images\":[{\"names\":["
        "\"registry.k8s.io/pause:3.10\"],\"sizeBytes\":300000}]}}",
        i, i, i % 10);
    return ck_json_parse(buf, strlen(buf), NULL);
}

static cJSON *make_pod(int i)
{
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"bench\","
             "\"name\":\"pod-%06d\",\"uid\":\"uid-%06d\",\"labels\":{\"app\":\"bench\"}},"
             "\"spec\":{\"schedulerName\":\"default-scheduler\",\"priority\":0,\"containers\":[{"
             "\"name\":\"pause\",\"image\":\"registry.k8s.io/pause:3.10\",\"resources\":{"
             "\"requests\":{\"cpu\":\"100m\",\"memory\":\"100Mi\"}}}]},\"status\":{}}",
             i, i);
    return ck_json_parse(buf, strlen(buf), NULL);
}

#define UPSTREAM_5000_NODES_THRESHOLD 680.0

static int run(int nnodes, int nmeasured)
{
    int ninit = nnodes >= 5000 ? 1000 : nnodes;
    int npods = ninit + nmeasured;
    struct sched_cache *cache = sched_cache_new(NULL);
    struct sched_framework *fw = sched_framework_new_default(NULL);
    struct sched_snapshot snap;
    sched_snapshot_init(&snap);
    for (int i = 0; i < nnodes; i++) {
        cJSON *n = make_node(i);
        if (!n || sched_cache_add_node(cache, n, NULL) < 0) {
            fprintf(stderr, "bad node %d\n", i);
            return 1;
        }
        cJSON_Delete(n);
    }
    struct sched_pod **pods = ck_xcalloc((size_t)npods, sizeof(*pods));
    for (int i = 0; i < npods; i++) {
        cJSON *p = make_pod(i);
        pods[i] = sched_pod_new(p, NULL);
        cJSON_Delete(p);
        if (!pods[i])
            return 1;
    }
    struct sched_scheduler s = {fw, 0};
    int scheduled = 0;
    double t0 = 0;
    for (int i = 0; i < npods; i++) {
        if (i == ninit) {
            t0 = now_s();
            scheduled = 0;
        }
        sched_cache_update_snapshot(cache, &snap);
        struct sched_result r;
        if (sched_schedule_one(&s, &snap, pods[i], NULL, &r) == 0 && r.code == SCHED_SUCCESS &&
            sched_cache_assume_pod(cache, pods[i], r.node) == 0)
            scheduled++;
        sched_result_clear(&r);
    }
    double dt = now_s() - t0;
    double rate = dt > 0 ? scheduled / dt : 0;
    printf("%5d nodes, %4d init pods, %5d measured: %d scheduled in %.3f s = %.0f pods/s\n", nnodes,
           ninit, nmeasured, scheduled, dt, rate);
    printf("RATE scheduler_%dnodes %.0f\n", nnodes, rate);
    if (nnodes == 5000) {
        printf("upstream scheduler_perf SchedulingBasic/5000Nodes threshold: %.0f pods/s\n",
               UPSTREAM_5000_NODES_THRESHOLD);
        printf("note: upstream's figure is a CI floor for the whole daemon (queue, informers, "
               "binding over the API); ours times the scheduling library only\n");
        printf("RATIO scheduler_5000nodes %.2f\n", rate / UPSTREAM_5000_NODES_THRESHOLD);
    }
    for (int i = 0; i < npods; i++)
        sched_pod_unref(pods[i]);
    free(pods);
    sched_snapshot_free(&snap);
    sched_framework_free(fw);
    sched_cache_free(cache);
    return scheduled == nmeasured ? 0 : 1;
}

int main(void)
{
    const char *nodes = getenv("CK_BENCH_NODES");
    const char *pods = getenv("CK_BENCH_PODS");
    int npods = pods ? atoi(pods) : 5000;
    char *list = ck_xstrdup(nodes && *nodes ? nodes : "500,5000");
    int rc = 0;
    printf("kube-scheduler library: SchedulingBasic shape (upstream scheduler_perf)\n");
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int n = atoi(tok);
        if (n > 0 && npods > 0)
            rc |= run(n, npods);
    }
    free(list);
    return rc;
}
