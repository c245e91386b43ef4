/* node.c - the Node: machine info, registration, status and Lease (see node.h, kubelet.h). */
#include "kubelet/node.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "kubelet/kubelet.h"
#include "kubelet/runtime/bundle.h"
#include "kubelet/status.h"
#include "log.h"
#include "mem.h"
#include "quantity.h"
#include "timeutil.h"

/* ---- machine ----------------------------------------------------------------------------------
 */

static void read_line(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    char *text = NULL;
    if (kl_read_file(path, 65536, &text, NULL) < 0)
        return;
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
    ck_strlcpy(out, text, size);
    free(text);
}

static int64_t meminfo_kb(const char *text, const char *key)
{
    const char *p = text;
    size_t kl = strlen(key);
    while (p && *p) {
        if (!strncmp(p, key, kl) && p[kl] == ':')
            return strtoll(p + kl + 1, NULL, 10);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

static int64_t file_int(const char *path)
{
    char buf[64];
    read_line(path, buf, sizeof(buf));
    if (!buf[0] || !strcmp(buf, "max"))
        return -1;
    return strtoll(buf, NULL, 10);
}

/* Entries of dir named prefix + something (+ only digits when digits_only). */
static int64_t count_entries(const char *dir, const char *prefix, bool digits_only)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int64_t n = 0;
    size_t plen = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *rest = e->d_name + plen;
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, plen) || !*rest)
            continue;
        if (digits_only && strspn(rest, "0123456789") != strlen(rest))
            continue;
        n++;
    }
    closedir(d);
    return n;
}

int64_t kl_count_nvidia_gpus(const char *root)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/proc/driver/nvidia/gpus", root);
    int64_t n = count_entries(path, "", false);
    if (n > 0)
        return n;
    snprintf(path, sizeof(path), "%s/dev", root);
    return count_entries(path, "nvidia", true); /* nvidia0.., not nvidiactl or nvidia-uvm */
}

int kl_machine_read(struct kl_machine *m, const char *root_dir, const struct kl_cgroups *cg)
{
    memset(m, 0, sizeof(*m));
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        m->cpus = CPU_COUNT(&set);
    if (m->cpus <= 0)
        m->cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char *mi = NULL;
    if (kl_read_file("/proc/meminfo", 1 << 20, &mi, NULL) == 0) {
        m->memory = meminfo_kb(mi, "MemTotal") * 1024;
        int64_t avail = meminfo_kb(mi, "MemAvailable");
        m->memory_available = avail >= 0 ? avail * 1024 : m->memory;
        free(mi);
    }
    if (cg) {
        /* limits on the cgroup holding the node's pods lower the capacity */
        char *parent = ck_xstrdup(cg->root);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent)
            *slash = '\0';
        else
            strcpy(parent, "/");
        char *f = cg->version == KL_CGROUP_V2
                      ? kl_cgroup_file(cg, "memory", parent, "memory.max")
                      : kl_cgroup_file(cg, "memory", parent, "memory.limit_in_bytes");
        int64_t lim = f ? file_int(f) : -1;
        if (lim > 0 && lim < m->memory)
            m->memory = lim;
        free(f);
        if (cg->version == KL_CGROUP_V1) {
            char *q = kl_cgroup_file(cg, "cpu", parent, "cpu.cfs_quota_us");
            char *pp = kl_cgroup_file(cg, "cpu", parent, "cpu.cfs_period_us");
            int64_t quota = q ? file_int(q) : -1, period = pp ? file_int(pp) : -1;
            if (quota > 0 && period > 0) {
                int64_t c = (quota + period - 1) / period;
                if (c < m->cpus)
                    m->cpus = c;
            }
            free(q);
            free(pp);
        }
        free(parent);
    }
    struct statvfs sv;
    m->inodes = m->inodes_free = -1;
    if (root_dir && statvfs(root_dir, &sv) == 0) {
        m->ephemeral = (int64_t)sv.f_blocks * (int64_t)sv.f_frsize;
        m->ephemeral_available = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
        if (sv.f_files > 0) {
            m->inodes = (int64_t)sv.f_files;
            m->inodes_free = (int64_t)sv.f_ffree;
        }
    }
    /* PIDs as upstream's rlimit stats: the lower of pid_max and threads-max, and the process
     * count from /proc/loadavg's "running/total" field */
    int64_t pm = file_int("/proc/sys/kernel/pid_max");
    int64_t tm = file_int("/proc/sys/kernel/threads-max");
    m->pid_max = pm > 0 && (tm <= 0 || pm < tm) ? pm : tm > 0 ? tm : -1;
    m->pid_running = -1;
    char la[256];
    read_line("/proc/loadavg", la, sizeof(la));
    const char *slash = strchr(la, '/');
    if (slash) {
        char *end = NULL;
        long long total = strtoll(slash + 1, &end, 10);
        if (end != slash + 1 && total >= 0)
            m->pid_running = total;
    }
    m->nvidia_gpus = kl_count_nvidia_gpus("/");
    int64_t n2 = file_int("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
    int64_t n1 = file_int("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages");
    m->hugepages_2m = n2 > 0 ? n2 * 2 * 1024 * 1024 : 0;
    m->hugepages_1g = n1 > 0 ? n1 * 1024 * 1024 * 1024 : 0;
    read_line("/etc/machine-id", m->machine_id, sizeof(m->machine_id));
    read_line("/sys/class/dmi/id/product_uuid", m->system_uuid, sizeof(m->system_uuid));
    read_line("/proc/sys/kernel/random/boot_id", m->boot_id, sizeof(m->boot_id));
    struct utsname u;
    if (uname(&u) == 0)
        ck_strlcpy(m->kernel, u.release, sizeof(m->kernel));
    char *osr = NULL;
    ck_strlcpy(m->os_image, "Linux", sizeof(m->os_image));
    if (kl_read_file("/etc/os-release", 65536, &osr, NULL) == 0) {
        const char *p = strstr(osr, "PRETTY_NAME=");
        if (p && (p == osr || p[-1] == '\n')) {
            p += strlen("PRETTY_NAME=");
            char val[256];
            size_t i = 0;
            if (*p == '"')
                p++;
            while (*p && *p != '"' && *p != '\n' && i + 1 < sizeof(val))
                val[i++] = *p++;
            val[i] = '\0';
            ck_strlcpy(m->os_image, val, sizeof(m->os_image));
        }
        free(osr);
    }
    ck_strlcpy(m->arch, kl_host_arch(), sizeof(m->arch));
    return 0;
}

/* ---- the Node object --------------------------------------------------------------------------
 */

static void add_label(cJSON *labels, const char *k, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(labels, k);
    cJSON_AddStringToObject(labels, k, v);
}

static cJSON *default_labels(const struct kl_machine *m, const struct kl_node_params *p)
{
    cJSON *l = cJSON_CreateObject();
    add_label(l, "beta.kubernetes.io/arch", m->arch);
    add_label(l, "beta.kubernetes.io/os", "linux");
    add_label(l, "kubernetes.io/arch", m->arch);
    add_label(l, "kubernetes.io/hostname", p->hostname ? p->hostname : p->name);
    add_label(l, "kubernetes.io/os", "linux");
    return l;
}

#define CMAD_ANNOTATION "volumes.kubernetes.io/controller-managed-attach-detach"

cJSON *kl_node_initial(const struct kl_machine *m, const struct kl_node_params *p)
{
    cJSON *n = cJSON_CreateObject();
    cJSON_AddStringToObject(n, "apiVersion", "v1");
    cJSON_AddStringToObject(n, "kind", "Node");
    cJSON *md = cJSON_AddObjectToObject(n, "metadata");
    cJSON_AddStringToObject(md, "name", p->name);
    cJSON *labels = default_labels(m, p);
    for (size_t i = 0; i < p->n_labels; i++) {
        const char *eq = strchr(p->labels[i], '=');
        if (!eq)
            continue;
        CK_AUTOFREE char *k = ck_xstrndup(p->labels[i], (size_t)(eq - p->labels[i]));
        add_label(labels, k, eq + 1);
    }
    cJSON_AddItemToObject(md, "labels", labels);
    cJSON *ann = cJSON_AddObjectToObject(md, "annotations");
    cJSON_AddStringToObject(ann, CMAD_ANNOTATION, "true");
    cJSON *spec = cJSON_AddObjectToObject(n, "spec");
    if (p->pod_cidr && p->pod_cidr[0]) {
        cJSON_AddStringToObject(spec, "podCIDR", p->pod_cidr);
        cJSON *arr = cJSON_AddArrayToObject(spec, "podCIDRs");
        cJSON_AddItemToArray(arr, cJSON_CreateString(p->pod_cidr));
    }
    return n;
}

cJSON *kl_node_reconcile(const cJSON *existing, const struct kl_machine *m,
                         const struct kl_node_params *p)
{
    cJSON *want = default_labels(m, p);
    cJSON *labels = cJSON_CreateObject();
    const cJSON *have = ck_json_get(existing, "metadata.labels");
    const cJSON *w;
    cJSON_ArrayForEach(w, want)
    {
        const char *cur = ck_json_as_string(ck_json_getv(have, w->string, NULL), NULL);
        if (!cur || strcmp(cur, w->valuestring) != 0)
            cJSON_AddStringToObject(labels, w->string, w->valuestring);
    }
    cJSON_Delete(want);
    cJSON *patch = cJSON_CreateObject();
    cJSON *md = cJSON_AddObjectToObject(patch, "metadata");
    if (cJSON_GetArraySize(labels) > 0)
        cJSON_AddItemToObject(md, "labels", labels);
    else
        cJSON_Delete(labels);
    const char *cmad = ck_json_as_string(
        ck_json_getv(existing, "metadata", "annotations", CMAD_ANNOTATION, NULL), "");
    if (strcmp(cmad, "true") != 0) {
        cJSON *ann = cJSON_AddObjectToObject(md, "annotations");
        cJSON_AddStringToObject(ann, CMAD_ANNOTATION, "true");
    }
    const char *cidr = ck_json_get_string(existing, "spec.podCIDR", "");
    if (!cidr[0] && p->pod_cidr && p->pod_cidr[0]) {
        cJSON *spec = cJSON_AddObjectToObject(patch, "spec");
        cJSON_AddStringToObject(spec, "podCIDR", p->pod_cidr);
        cJSON *arr = cJSON_AddArrayToObject(spec, "podCIDRs");
        cJSON_AddItemToArray(arr, cJSON_CreateString(p->pod_cidr));
    }
    if (cJSON_GetArraySize(md) == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(patch, "metadata");
    if (cJSON_GetArraySize(patch) == 0) {
        cJSON_Delete(patch);
        return NULL;
    }
    return patch;
}

static cJSON *qty(int64_t v, enum ck_quantity_format f)
{
    struct ck_quantity q = ck_quantity_from_int64(v, f);
    return ck_quantity_to_json(&q);
}

void kl_machine_eviction_stats(const struct kl_machine *m, struct kl_eviction_stats *out)
{
    memset(out, 0xff, sizeof(*out)); /* every field -1: not observed */
    out->memory_capacity = m->memory;
    out->memory_available = m->memory_available < m->memory ? m->memory_available : m->memory;
    if (m->ephemeral > 0) {
        out->nodefs_capacity = out->imagefs_capacity = m->ephemeral;
        out->nodefs_available = out->imagefs_available = m->ephemeral_available;
    }
    out->nodefs_inodes = out->imagefs_inodes = m->inodes;
    out->nodefs_inodes_free = out->imagefs_inodes_free = m->inodes_free;
    out->pid_max = m->pid_max;
    out->pid_running = m->pid_running;
}

static void add_resources(cJSON *o, const struct kl_machine *m, const struct kl_node_params *p,
                          bool allocatable)
{
    struct kl_eviction_thresholds defaults;
    const struct kl_eviction_thresholds *ev = p->eviction;
    if (!ev) {
        kl_eviction_defaults(&defaults);
        ev = &defaults;
    }
    struct ck_quantity cpu = ck_quantity_from_milli(m->cpus * 1000, CK_QUANTITY_DECIMAL_SI);
    cJSON_AddItemToObject(o, "cpu", ck_quantity_to_json(&cpu));
    int64_t eph = m->ephemeral;
    if (allocatable) {
        /* minus nodefs.available's hard threshold (a float32 percentage upstream) */
        eph -= kl_threshold_amount(&ev->t[KL_SIG_NODEFS_AVAILABLE], m->ephemeral);
        if (eph < 0)
            eph = 0;
    }
    cJSON_AddItemToObject(o, "ephemeral-storage", qty(eph, CK_QUANTITY_BINARY_SI));
    cJSON_AddItemToObject(o, "hugepages-1Gi", qty(m->hugepages_1g, CK_QUANTITY_BINARY_SI));
    cJSON_AddItemToObject(o, "hugepages-2Mi", qty(m->hugepages_2m, CK_QUANTITY_BINARY_SI));
    int64_t mem = m->memory;
    if (allocatable) {
        /* minus memory.available's hard threshold and the huge pages */
        mem -= kl_threshold_amount(&ev->t[KL_SIG_MEMORY_AVAILABLE], m->memory) + m->hugepages_1g +
               m->hugepages_2m;
        if (mem < 0)
            mem = 0;
    }
    cJSON_AddItemToObject(o, "memory", qty(mem, CK_QUANTITY_BINARY_SI));
    if (m->nvidia_gpus > 0) /* what NVIDIA's device plugin advertises, all allocatable */
        cJSON_AddItemToObject(o, "nvidia.com/gpu", qty(m->nvidia_gpus, CK_QUANTITY_DECIMAL_SI));
    cJSON_AddItemToObject(o, "pods", qty(p->max_pods, CK_QUANTITY_DECIMAL_SI));
}

static const cJSON *find_condition(const cJSON *status, const char *type)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_getv(status, "conditions", NULL))
    {
        if (!strcmp(ck_json_get_string(c, "type", ""), type))
            return c;
    }
    return NULL;
}

static void node_condition(cJSON *arr, const cJSON *old, const char *type, bool status,
                           const char *reason, const char *message, const char *now)
{
    cJSON *c = cJSON_CreateObject();
    const char *st = status ? "True" : "False";
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddStringToObject(c, "status", st);
    cJSON_AddStringToObject(c, "lastHeartbeatTime", now);
    const cJSON *o = find_condition(old, type);
    const char *ot = ck_json_get_string(o, "lastTransitionTime", "");
    cJSON_AddStringToObject(c, "lastTransitionTime",
                            o && !strcmp(ck_json_get_string(o, "status", ""), st) && ot[0] ? ot
                                                                                           : now);
    cJSON_AddStringToObject(c, "reason", reason);
    cJSON_AddStringToObject(c, "message", message);
    cJSON_AddItemToArray(arr, c);
}

cJSON *kl_node_status(const struct kl_machine *m, const struct kl_node_params *p,
                      const cJSON *old_status, const struct timespec *now)
{
    char ts[CK_TIME_BUFSZ];
    ck_time_format(now, ts);
    cJSON *st = cJSON_CreateObject();
    add_resources(cJSON_AddObjectToObject(st, "capacity"), m, p, false);
    add_resources(cJSON_AddObjectToObject(st, "allocatable"), m, p, true);
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    const struct kl_pressure *pr = p->pressure;
    if (pr && pr->memory)
        node_condition(conds, old_status, "MemoryPressure", true, "KubeletHasInsufficientMemory",
                       "kubelet has insufficient memory available", ts);
    else
        node_condition(conds, old_status, "MemoryPressure", false, "KubeletHasSufficientMemory",
                       "kubelet has sufficient memory available", ts);
    if (pr && pr->disk)
        node_condition(conds, old_status, "DiskPressure", true, "KubeletHasDiskPressure",
                       "kubelet has disk pressure", ts);
    else
        node_condition(conds, old_status, "DiskPressure", false, "KubeletHasNoDiskPressure",
                       "kubelet has no disk pressure", ts);
    if (pr && pr->pid)
        node_condition(conds, old_status, "PIDPressure", true, "KubeletHasInsufficientPID",
                       "kubelet has insufficient PID available", ts);
    else
        node_condition(conds, old_status, "PIDPressure", false, "KubeletHasSufficientPID",
                       "kubelet has sufficient PID available", ts);
    if (p->network_ready) {
        node_condition(conds, old_status, "Ready", true, "KubeletReady",
                       "kubelet is posting ready status", ts);
    } else {
        CK_AUTOFREE char *msg = ck_xasprintf(
            "container runtime network not ready: NetworkReady=false "
            "reason:NetworkPluginNotReady message:Network plugin returns error: %s",
            p->network_message && p->network_message[0] ? p->network_message
                                                        : "cni plugin not initialized");
        node_condition(conds, old_status, "Ready", false, "KubeletNotReady", msg, ts);
    }
    cJSON *addrs = cJSON_AddArrayToObject(st, "addresses");
    if (p->node_ip && p->node_ip[0]) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "type", "InternalIP");
        cJSON_AddStringToObject(a, "address", p->node_ip);
        cJSON_AddItemToArray(addrs, a);
    }
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "type", "Hostname");
    cJSON_AddStringToObject(h, "address", p->hostname ? p->hostname : p->name);
    cJSON_AddItemToArray(addrs, h);
    cJSON *de = cJSON_AddObjectToObject(st, "daemonEndpoints");
    cJSON *ke = cJSON_AddObjectToObject(de, "kubeletEndpoint");
    cJSON_AddNumberToObject(ke, "Port", p->kubelet_port);
    cJSON *ni = cJSON_AddObjectToObject(st, "nodeInfo");
    cJSON_AddStringToObject(ni, "machineID", m->machine_id);
    cJSON_AddStringToObject(ni, "systemUUID", m->system_uuid);
    cJSON_AddStringToObject(ni, "bootID", m->boot_id);
    cJSON_AddStringToObject(ni, "kernelVersion", m->kernel);
    cJSON_AddStringToObject(ni, "osImage", m->os_image);
    cJSON_AddStringToObject(ni, "containerRuntimeVersion",
                            p->runtime_version ? p->runtime_version : "runc://unknown");
    cJSON_AddStringToObject(ni, "kubeletVersion", KL_VERSION);
    cJSON_AddStringToObject(ni, "operatingSystem", "linux");
    cJSON_AddStringToObject(ni, "architecture", m->arch);
    if (p->images)
        cJSON_AddItemToObject(st, "images", ck_json_dup(p->images));
    return st;
}

/* a copy without the conditions' heartbeat times */
static cJSON *strip_heartbeats(const cJSON *st)
{
    cJSON *c = ck_json_dup(st);
    cJSON *cond;
    cJSON_ArrayForEach(cond, ck_json_getv(c, "conditions", NULL))
    {
        cJSON_DeleteItemFromObjectCaseSensitive(cond, "lastHeartbeatTime");
    }
    return c;
}

bool kl_node_status_changed(const cJSON *a, const cJSON *b)
{
    if (!a || !b)
        return true;
    cJSON *x = strip_heartbeats(a), *y = strip_heartbeats(b);
    bool eq = ck_json_equal(x, y);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return !eq;
}

cJSON *kl_node_lease(const char *node, const char *uid, int duration_seconds,
                     const struct timespec *now)
{
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "apiVersion", "coordination.k8s.io/v1");
    cJSON_AddStringToObject(l, "kind", "Lease");
    cJSON *md = cJSON_AddObjectToObject(l, "metadata");
    cJSON_AddStringToObject(md, "name", node);
    cJSON_AddStringToObject(md, "namespace", "kube-node-lease");
    if (uid && uid[0]) {
        cJSON *refs = cJSON_AddArrayToObject(md, "ownerReferences");
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "apiVersion", "v1");
        cJSON_AddStringToObject(r, "kind", "Node");
        cJSON_AddStringToObject(r, "name", node);
        cJSON_AddStringToObject(r, "uid", uid);
        cJSON_AddItemToArray(refs, r);
    }
    cJSON *spec = cJSON_AddObjectToObject(l, "spec");
    cJSON_AddStringToObject(spec, "holderIdentity", node);
    cJSON_AddNumberToObject(spec, "leaseDurationSeconds", duration_seconds);
    char ts[CK_TIME_BUFSZ];
    ck_microtime_format(now, ts);
    cJSON_AddStringToObject(spec, "renewTime", ts);
    return l;
}

/* ---- the node thread --------------------------------------------------------------------------
 */

struct kl_node {
    struct kl_kubelet *k;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock; /* guards poked */
    pthread_cond_t cond;
    bool poked;
    struct ck_cancel_hook *hook;
    /* node thread only */
    cJSON *last_status; /* what was posted last */
    int64_t last_post_ns;
    cJSON *lease;             /* the Lease as last written */
    cJSON *posted_conditions; /* the conditions posted last (events on changes) */
    int64_t last_lease_ns;
    struct kl_pressure pressure; /* the eviction thresholds' conditions */
};

static const struct ck_gvr NODES = {"", "v1", "nodes"};
static const struct ck_gvr LEASES = {"coordination.k8s.io", "v1", "leases"};

static void node_params(struct kl_kubelet *k, struct kl_node_params *p, char *netmsg,
                        size_t netmsg_size)
{
    const struct kl_config *cfg = k->cfg;
    memset(p, 0, sizeof(*p));
    p->name = cfg->node_name;
    p->hostname = cfg->node_name;
    p->node_ip = cfg->node_ip;
    p->pod_cidr = cfg->pod_cidr;
    p->max_pods = cfg->max_pods;
    p->labels = (const char *const *)cfg->node_labels;
    p->n_labels = cfg->n_node_labels;
    p->runtime_version = k->runtime_version;
    p->kubelet_port = cfg->port;
    struct ck_error err = CK_ERROR_INIT;
    p->network_ready = kl_cni_status(k->cni, NULL, 0, &err) == 0;
    if (!p->network_ready) {
        /* the runtime's wording, without its own prefix */
        const char *m = err.message;
        const char *pre = "cni plugin not initialized";
        const char *hit = strstr(m, pre);
        ck_strlcpy(netmsg, hit ? pre : m, netmsg_size);
        p->network_message = netmsg;
    }
    ck_error_clear(&err);
    pthread_mutex_lock(&k->lock);
    k->network_ready = p->network_ready;
    pthread_mutex_unlock(&k->lock);
}

static void set_pod_cidr(struct kl_kubelet *k, const cJSON *node)
{
    const char *cidr = ck_json_get_string(node, "spec.podCIDR", "");
    const char *uid = ck_json_get_string(node, "metadata.uid", "");
    pthread_mutex_lock(&k->lock);
    if (uid[0])
        ck_strlcpy(k->node_uid, uid, sizeof(k->node_uid));
    bool changed = cidr[0] && strcmp(cidr, k->pod_cidr) != 0;
    if (changed)
        ck_strlcpy(k->pod_cidr, cidr, sizeof(k->pod_cidr));
    pthread_mutex_unlock(&k->lock);
    if (!changed)
        return;
    struct ck_error err = CK_ERROR_INIT;
    if (kl_cni_write_default_conf(k->cfg->cni_conf_dir, cidr, 1500, NULL, &err) < 0)
        ck_err("cannot write the CNI config for pod CIDR %s: %s", cidr, err.message);
    else
        ck_info("Updating Pod CIDR originalPodCIDR=\"\" newPodCIDR=\"%s\"", cidr);
    ck_error_clear(&err);
}

static cJSON *images_status(struct kl_kubelet *k)
{
    struct kl_image_summary *list = NULL;
    size_t n = 0;
    if (kl_image_list(k->images, &list, &n, NULL) < 0)
        return NULL;
    /* largest first, at most 50, as upstream's nodeStatusMaxImages */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && list[j - 1].size < list[j].size; j--) {
            struct kl_image_summary t = list[j];
            list[j] = list[j - 1];
            list[j - 1] = t;
        }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n && i < 50; i++) {
        cJSON *img = cJSON_CreateObject();
        cJSON *names = cJSON_AddArrayToObject(img, "names");
        for (size_t d = 0; d < list[i].n_repo_digests; d++)
            cJSON_AddItemToArray(names, cJSON_CreateString(list[i].repo_digests[d]));
        for (size_t t = 0; t < list[i].n_repo_tags; t++)
            cJSON_AddItemToArray(names, cJSON_CreateString(list[i].repo_tags[t]));
        cJSON_AddItemToObject(img, "sizeBytes", ck_json_new_int64(list[i].size));
        cJSON_AddItemToArray(arr, img);
    }
    kl_image_list_free(list, n);
    return arr;
}

/* registers the Node or adopts the existing one; 0 when done */
static int register_node(struct kl_kubelet *k, const struct kl_machine *m)
{
    struct kl_node_params p;
    char netmsg[512];
    node_params(k, &p, netmsg, sizeof(netmsg));
    cJSON *node = kl_node_initial(m, &p);
    cJSON *out = NULL;
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_client_create(k->client, &NODES, NULL, node, &out, &err);
    cJSON_Delete(node);
    if (rc == 0) {
        ck_info("Successfully registered node node=\"%s\"", p.name);
        set_pod_cidr(k, out);
        cJSON_Delete(out);
        return 0;
    }
    if (rc != -EEXIST) {
        ck_err("Unable to register node with API server err=\"%s\" node=\"%s\"", err.message,
               p.name);
        ck_error_clear(&err);
        return rc;
    }
    ck_error_clear(&err);
    rc = ck_client_get(k->client, &NODES, NULL, p.name, &out, &err);
    if (rc < 0) {
        ck_err("Unable to register node with API server, error getting existing node err=\"%s\" "
               "node=\"%s\"",
               err.message, p.name);
        ck_error_clear(&err);
        return rc;
    }
    cJSON *patch = kl_node_reconcile(out, m, &p);
    if (patch) {
        CK_AUTOFREE char *txt = ck_json_print(patch, 0);
        cJSON *upd = NULL;
        rc = ck_client_patch(k->client, &NODES, NULL, p.name, NULL, CK_PATCH_MERGE, txt, NULL, &upd,
                             &err);
        cJSON_Delete(patch);
        if (rc < 0) {
            ck_err("Unable to reconcile the existing node err=\"%s\" node=\"%s\"", err.message,
                   p.name);
            ck_error_clear(&err);
            cJSON_Delete(out);
            return rc;
        }
        cJSON_Delete(out);
        out = upd;
    }
    ck_info("Node was previously registered node=\"%s\"", p.name);
    /* condition events compare with what the Node says, as upstream's setters do */
    if (k->node) {
        cJSON_Delete(k->node->posted_conditions);
        k->node->posted_conditions = ck_json_dup(ck_json_get(out, "status.conditions"));
    }
    set_pod_cidr(k, out);
    cJSON_Delete(out);
    return 0;
}

static void renew_lease(struct kl_node *n)
{
    struct kl_kubelet *k = n->k;
    struct timespec now;
    ck_time_now(&now);
    char uid[64];
    pthread_mutex_lock(&k->lock);
    ck_strlcpy(uid, k->node_uid, sizeof(uid));
    pthread_mutex_unlock(&k->lock);
    struct ck_error err = CK_ERROR_INIT;
    int rc;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (!n->lease) {
            rc = ck_client_get(k->client, &LEASES, "kube-node-lease", k->cfg->node_name, &n->lease,
                               &err);
            if (rc == -ENOENT) {
                ck_error_clear(&err);
                cJSON *l = kl_node_lease(k->cfg->node_name, uid,
                                         k->cfg->node_lease_duration_seconds, &now);
                rc = ck_client_create(k->client, &LEASES, "kube-node-lease", l, &n->lease, &err);
                cJSON_Delete(l);
                if (rc == 0)
                    return;
            }
            if (rc < 0) {
                ck_err("failed to ensure lease exists, will retry err=\"%s\"", err.message);
                ck_error_clear(&err);
                return;
            }
        }
        cJSON *l = ck_json_dup(n->lease);
        char ts[CK_TIME_BUFSZ];
        ck_microtime_format(&now, ts);
        ck_json_set_string(l, "spec.renewTime", ts);
        ck_json_set_string(l, "spec.holderIdentity", k->cfg->node_name);
        ck_json_set_int64(l, "spec.leaseDurationSeconds", k->cfg->node_lease_duration_seconds);
        if (uid[0] && !ck_json_get(l, "metadata.ownerReferences")) {
            cJSON *tmp = kl_node_lease(k->cfg->node_name, uid, 40, &now);
            ck_json_set(l, "metadata.ownerReferences",
                        ck_json_detach(tmp, "metadata.ownerReferences"));
            cJSON_Delete(tmp);
        }
        cJSON *out = NULL;
        rc = ck_client_update(k->client, &LEASES, "kube-node-lease", l, &out, &err);
        cJSON_Delete(l);
        if (rc == 0) {
            cJSON_Delete(n->lease);
            n->lease = out;
            return;
        }
        /* conflict or gone: read it again */
        cJSON_Delete(n->lease);
        n->lease = NULL;
        if (rc != -EEXIST && rc != -EBUSY && rc != -ENOENT) {
            ck_err("failed to update lease err=\"%s\"", err.message);
            ck_error_clear(&err);
            return;
        }
        ck_error_clear(&err);
    }
}

/* upstream's recordNodeStatusEvent for every condition whose status changed, and for a new
 * pressure condition: "Node node-1 status is now: NodeReady". A new Ready condition records
 * nothing (a fresh node's first NotReady, before its network is configured, is no news);
 * `before` is what was posted last, or the existing Node's conditions after a restart. */
static void node_condition_events(struct kl_kubelet *k, const cJSON *before, const cJSON *st)
{
    static const char *const names[][3] = {
        /* type, event when True, event when False */
        {"MemoryPressure", "NodeHasInsufficientMemory", "NodeHasSufficientMemory"},
        {"DiskPressure", "NodeHasDiskPressure", "NodeHasNoDiskPressure"},
        {"PIDPressure", "NodeHasInsufficientPID", "NodeHasSufficientPID"},
        {"Ready", "NodeReady", "NodeNotReady"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(names); i++) {
        const cJSON *now = find_condition(st, names[i][0]);
        const char *ns = ck_json_get_string(now, "status", "");
        const cJSON *old = NULL;
        const cJSON *c;
        cJSON_ArrayForEach(c, before)
        {
            if (!strcmp(ck_json_get_string(c, "type", ""), names[i][0]))
                old = c;
        }
        if (!now || (old && !strcmp(ck_json_get_string(old, "status", ""), ns)))
            continue;
        if (!old && !strcmp(names[i][0], "Ready"))
            continue;
        const char *reason = !strcmp(ns, "True") ? names[i][1] : names[i][2];
        CK_AUTOFREE char *msg =
            ck_xasprintf("Node %s status is now: %s", k->cfg->node_name, reason);
        kl_node_event(k, CK_EVENT_NORMAL, reason, msg);
        if (!strcmp(names[i][0], "Ready"))
            ck_info("Node %s node=\"%s\"", !strcmp(ns, "True") ? "became ready" : "is not ready",
                    k->cfg->node_name);
    }
}

static void post_status(struct kl_node *n, const struct kl_machine *m, bool force)
{
    struct kl_kubelet *k = n->k;
    struct kl_node_params p;
    char netmsg[512];
    node_params(k, &p, netmsg, sizeof(netmsg));
    cJSON *images = images_status(k);
    p.images = images;
    struct kl_eviction_stats es;
    kl_machine_eviction_stats(m, &es);
    bool was_memory = n->pressure.memory, was_disk = n->pressure.disk, was_pid = n->pressure.pid;
    if (kl_pressure_update(&n->pressure, &k->cfg->eviction_hard, &es, ck_mono_ns(),
                           k->cfg->eviction_pressure_transition_period)) {
        ck_info("Eviction manager: pressure conditions changed memory=%s->%s disk=%s->%s "
                "pid=%s->%s",
                was_memory ? "true" : "false", n->pressure.memory ? "true" : "false",
                was_disk ? "true" : "false", n->pressure.disk ? "true" : "false",
                was_pid ? "true" : "false", n->pressure.pid ? "true" : "false");
    }
    p.eviction = &k->cfg->eviction_hard;
    p.pressure = &n->pressure;
    struct timespec now;
    ck_time_now(&now);
    cJSON *st = kl_node_status(m, &p, n->last_status, &now);
    cJSON_Delete(images);
    pthread_mutex_lock(&k->lock);
    cJSON_Delete(k->node_allocatable);
    k->node_allocatable = ck_json_dup(ck_json_get(st, "allocatable"));
    k->node_memory = m->memory;
    pthread_mutex_unlock(&k->lock);
    int64_t mono = ck_mono_ns();
    if (!force && !kl_node_status_changed(n->last_status, st) &&
        mono - n->last_post_ns < k->cfg->node_status_report_frequency) {
        cJSON_Delete(st);
        return;
    }
    cJSON *body = n->last_status ? kl_merge_patch_diff(n->last_status, st) : ck_json_dup(st);
    cJSON *patch = cJSON_CreateObject();
    cJSON_AddItemToObject(patch, "status", body ? body : cJSON_CreateObject());
    CK_AUTOFREE char *txt = ck_json_print(patch, 0);
    cJSON_Delete(patch);
    struct ck_error err = CK_ERROR_INIT;
    cJSON *out = NULL;
    int rc = ck_client_patch(k->client, &NODES, NULL, k->cfg->node_name, "status", CK_PATCH_MERGE,
                             txt, NULL, &out, &err);
    if (rc < 0) {
        ck_err("Error updating node status, will retry err=\"%s\"", err.message);
        ck_error_clear(&err);
        cJSON_Delete(st);
        /* the status may be half-posted: post it all next time */
        cJSON_Delete(n->last_status);
        n->last_status = NULL;
        return;
    }
    node_condition_events(k, n->posted_conditions, st);
    cJSON_Delete(n->posted_conditions);
    n->posted_conditions = ck_json_dup(ck_json_get(st, "conditions"));
    set_pod_cidr(k, out);
    cJSON_Delete(out);
    cJSON_Delete(n->last_status);
    n->last_status = st;
    n->last_post_ns = mono;
}

static void wake(void *arg)
{
    struct kl_node *n = arg;
    pthread_mutex_lock(&n->lock);
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->lock);
}

void kl_node_poke(struct kl_kubelet *k)
{
    struct kl_node *n = k->node;
    if (!n)
        return;
    pthread_mutex_lock(&n->lock);
    n->poked = true;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->lock);
}

/* waits up to ns or until poked / stopped; returns whether it was poked */
static bool node_wait(struct kl_node *n, int64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t = (int64_t)ts.tv_sec * CK_SECOND + ts.tv_nsec + ns;
    ts.tv_sec = t / CK_SECOND;
    ts.tv_nsec = t % CK_SECOND;
    pthread_mutex_lock(&n->lock);
    while (!n->poked && !ck_cancel_fired(n->k->stop))
        if (pthread_cond_timedwait(&n->cond, &n->lock, &ts) == ETIMEDOUT)
            break;
    bool poked = n->poked;
    n->poked = false;
    pthread_mutex_unlock(&n->lock);
    return poked;
}

/* upstream's image GC thresholds: above 85% disk use, unused images go (ours removes every
 * unused image at once, rather than the least recently used ones down to 80%) */
#define IMAGE_GC_HIGH_PERCENT 85
#define IMAGE_GC_PERIOD (5 * CK_MINUTE)
/* right after start, while the Node has no pod CIDR yet (node-ipam assigns it a moment after
 * registration), the Node is looked at this often so it turns Ready at once, for at most the
 * grace period (upstream's fastStatusUpdateOnce: 100 ms, nodeReadyGracePeriod 2 min) */
#define FAST_CIDR_POLL (100 * 1000 * 1000LL)
#define FAST_CIDR_GRACE (2 * CK_MINUTE)

static void image_gc(struct kl_kubelet *k)
{
    struct kl_image_fs_usage u;
    if (kl_image_fs_usage(k->images, &u, NULL) < 0 || u.capacity_bytes <= 0)
        return;
    int64_t used = u.capacity_bytes - u.available_bytes;
    if (used * 100 < (int64_t)IMAGE_GC_HIGH_PERCENT * u.capacity_bytes)
        return;
    char **keep = kl_pods_images_in_use(k);
    size_t n = 0;
    while (keep[n])
        n++;
    /* the references as pods name them ("busybox") and as the store records them */
    const char **all = ck_xcalloc(2 * n + 2, sizeof(*all));
    char **full = ck_xcalloc(n + 1, sizeof(*full));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        all[m++] = keep[i];
        if (kl_image_apply_default_tag(keep[i], &full[i], NULL) == 0)
            all[m++] = full[i];
    }
    all[m++] = k->cfg->pod_infra_container_image;
    struct kl_image_gc_result res = {0};
    struct ck_error err = CK_ERROR_INIT;
    if (kl_image_gc(k->images, all, m, &res, &err) < 0)
        ck_err("Image garbage collection failed err=\"%s\"", err.message);
    else if (res.images_removed)
        ck_info("Image garbage collection removed %zu images, freed %lld bytes", res.images_removed,
                (long long)res.bytes_freed);
    ck_error_clear(&err);
    for (size_t i = 0; i < n; i++)
        free(full[i]);
    free(full);
    free(all);
    kl_strv_free(keep);
}

static bool has_pod_cidr(struct kl_kubelet *k)
{
    pthread_mutex_lock(&k->lock);
    bool has = k->pod_cidr[0] != '\0';
    pthread_mutex_unlock(&k->lock);
    return has;
}

/* GETs the Node and adopts its spec.podCIDR; true when the kubelet has a pod CIDR now */
static bool fetch_pod_cidr(struct kl_kubelet *k)
{
    cJSON *node = NULL;
    if (ck_client_get(k->client, &NODES, NULL, k->cfg->node_name, &node, NULL) == 0) {
        set_pod_cidr(k, node);
        cJSON_Delete(node);
    }
    return has_pod_cidr(k);
}

static void *node_thread(void *arg)
{
    struct kl_node *n = arg;
    struct kl_kubelet *k = n->k;
    struct kl_machine m;
    kl_machine_read(&m, k->cfg->root_dir, k->rt->cg);
    const int64_t lease_every = (int64_t)k->cfg->node_lease_duration_seconds * CK_SECOND / 4;
    bool force = true;
    int64_t next_status = 0;
    int64_t next_gc = ck_mono_ns() + IMAGE_GC_PERIOD;
    const int64_t fast_until = ck_mono_ns() + FAST_CIDR_GRACE;
    bool fast = !has_pod_cidr(k);
    while (!ck_cancel_fired(k->stop)) {
        int64_t now = ck_mono_ns();
        if (fast && now >= fast_until) {
            ck_info("Node has no pod CIDR %lld s after start; checking it with the node status "
                    "from now on node=\"%s\"",
                    (long long)(FAST_CIDR_GRACE / CK_SECOND), k->cfg->node_name);
            fast = false;
        }
        if (fast && n->last_status && (has_pod_cidr(k) || fetch_pod_cidr(k))) {
            /* the network can be configured now: report Ready without waiting for the period */
            fast = false;
            force = true;
        }
        if (now >= next_gc) {
            image_gc(k);
            next_gc = now + IMAGE_GC_PERIOD;
        }
        if (now - n->last_lease_ns >= lease_every || !n->last_lease_ns) {
            renew_lease(n);
            n->last_lease_ns = now;
        }
        if (force || now >= next_status) {
            kl_machine_read(&m, k->cfg->root_dir, k->rt->cg);
            post_status(n, &m, force);
            force = n->last_status == NULL;
            next_status = now + k->cfg->node_status_update_frequency;
            /* no pod CIDR yet: look at the Node again (node-ipam may assign one) */
            if (!fast && !has_pod_cidr(k))
                fetch_pod_cidr(k);
        }
        int64_t wait = next_status - ck_mono_ns();
        int64_t lw = n->last_lease_ns + lease_every - ck_mono_ns();
        if (lw < wait)
            wait = lw;
        /* (not while the status cannot be posted: that retries at the normal period) */
        if (fast && n->last_status && wait > FAST_CIDR_POLL)
            wait = FAST_CIDR_POLL;
        if (wait < 10 * 1000 * 1000)
            wait = 10 * 1000 * 1000;
        if (node_wait(n, wait))
            force = true;
    }
    return NULL;
}

int kl_node_start(struct kl_kubelet *k)
{
    struct kl_node *n = ck_xcalloc(1, sizeof(*n));
    n->k = k;
    pthread_mutex_init(&n->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cond, &ca);
    pthread_condattr_destroy(&ca);
    k->node = n;
    n->hook = ck_cancel_hook_add(k->stop, wake, n);
    struct kl_machine m;
    kl_machine_read(&m, k->cfg->root_dir, k->rt->cg);
    pthread_mutex_lock(&k->lock);
    k->node_memory = m.memory;
    pthread_mutex_unlock(&k->lock);
    if (k->cfg->register_node) {
        int64_t delay = 100 * 1000 * 1000;
        while (register_node(k, &m) < 0) {
            if (ck_cancel_sleep(k->stop, delay) < 0)
                return -ECANCELED;
            delay = delay * 2 > 7 * CK_SECOND ? 7 * CK_SECOND : delay * 2;
        }
    } else {
        cJSON *node = NULL;
        if (ck_client_get(k->client, &NODES, NULL, k->cfg->node_name, &node, NULL) == 0) {
            set_pod_cidr(k, node);
            cJSON_Delete(node);
        }
    }
    /* standalone pod CIDR (no Node spec.podCIDR): the flag's */
    pthread_mutex_lock(&k->lock);
    bool none = !k->pod_cidr[0];
    pthread_mutex_unlock(&k->lock);
    if (none && k->cfg->pod_cidr[0]) {
        cJSON *fake = cJSON_CreateObject();
        ck_json_set_string(fake, "spec.podCIDR", k->cfg->pod_cidr);
        set_pod_cidr(k, fake);
        cJSON_Delete(fake);
    }
    pthread_mutex_lock(&k->lock);
    k->registered = true;
    pthread_mutex_unlock(&k->lock);
    if (pthread_create(&n->thread, NULL, node_thread, n) != 0)
        return -EAGAIN;
    n->started = true;
    return 0;
}

void kl_node_stop(struct kl_kubelet *k)
{
    struct kl_node *n = k->node;
    if (!n)
        return;
    wake(n);
    if (n->started)
        pthread_join(n->thread, NULL);
    ck_cancel_hook_remove(k->stop, n->hook);
    cJSON_Delete(n->last_status);
    cJSON_Delete(n->lease);
    cJSON_Delete(n->posted_conditions);
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->lock);
    free(n);
    k->node = NULL;
}
