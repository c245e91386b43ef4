/* containers.c - pod -> sandbox config, pod cgroup, container runtime spec, /etc/hosts (see
 * containers.h). */
#include "kubelet/containers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "encoding.h"
#include "json.h"
#include "kubelet/status.h"
#include "mem.h"
#include "quantity.h"

/* ---- string arena -----------------------------------------------------------------------------
 */

static const char *keep(struct kl_strs *a, char *s)
{
    a->v = ck_xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
    a->v[a->n++] = s;
    return s;
}

static const char *keep_dup(struct kl_strs *a, const char *s)
{
    return keep(a, ck_xstrdup(s ? s : ""));
}

static void strs_free(struct kl_strs *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

/* a NULL-terminated array of the strings of a JSON string array, kept in the arena */
static const char **json_strv(struct kl_strs *a, const cJSON *arr, size_t *n)
{
    size_t cap = (size_t)cJSON_GetArraySize(arr);
    const char **v = ck_xcalloc(cap + 1, sizeof(*v));
    size_t k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (cJSON_IsString(e) && k < cap)
            v[k++] = keep_dup(a, e->valuestring);
    }
    *n = k;
    return v;
}

/* ---- resolv.conf and DNS ----------------------------------------------------------------------
 */

static void strs_add_unique(struct kl_strs *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return;
    keep_dup(l, s);
}

void kl_resolv_parse(const char *text, struct kl_resolv *out)
{
    memset(out, 0, sizeof(*out));
    if (!text)
        return;
    CK_AUTOFREE char *copy = ck_xstrdup(text);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *hash = strpbrk(line, "#;");
        if (hash)
            *hash = '\0';
        char *ws = NULL;
        char *key = strtok_r(line, " \t\r", &ws);
        if (!key)
            continue;
        struct kl_strs *dst = NULL;
        if (!strcmp(key, "nameserver"))
            dst = &out->servers;
        else if (!strcmp(key, "search") || !strcmp(key, "domain"))
            dst = &out->searches;
        else if (!strcmp(key, "options"))
            dst = &out->options;
        if (!dst)
            continue;
        if (dst == &out->searches)
            strs_free(dst); /* the last search/domain line wins, as glibc */
        for (char *w = strtok_r(NULL, " \t\r", &ws); w; w = strtok_r(NULL, " \t\r", &ws))
            strs_add_unique(dst, w);
    }
}

void kl_resolv_free(struct kl_resolv *r)
{
    strs_free(&r->servers);
    strs_free(&r->searches);
    strs_free(&r->options);
}

static void opt_merge(struct kl_strs *opts, const char *name, const char *value)
{
    CK_AUTOFREE char *o = value && value[0] ? ck_xasprintf("%s:%s", name, value) : ck_xstrdup(name);
    size_t nl = strlen(name);
    for (size_t i = 0; i < opts->n; i++) {
        if (!strncmp(opts->v[i], name, nl) && (opts->v[i][nl] == '\0' || opts->v[i][nl] == ':')) {
            free(opts->v[i]);
            opts->v[i] = ck_xstrdup(o);
            return;
        }
    }
    keep_dup(opts, o);
}

static const char **strs_view(struct kl_strs *arena, const struct kl_strs *l, size_t max, size_t *n)
{
    size_t k = l->n < max ? l->n : max;
    const char **v = ck_xcalloc(k + 1, sizeof(*v));
    for (size_t i = 0; i < k; i++)
        v[i] = keep_dup(arena, l->v[i]);
    *n = k;
    return v;
}

void kl_sandbox_spec_build(struct kl_sandbox_spec *out, const cJSON *pod,
                           const struct kl_dns_params *dns, const char *log_dir,
                           const char *cgroup_parent)
{
    memset(out, 0, sizeof(*out));
    struct kl_strs *a = &out->arena;
    struct kl_sandbox_config *cfg = &out->cfg;
    cfg->pod_uid = keep_dup(a, ck_json_get_string(pod, "metadata.uid", ""));
    cfg->pod_name = keep_dup(a, ck_json_get_string(pod, "metadata.name", ""));
    cfg->pod_namespace = keep_dup(a, ck_json_get_string(pod, "metadata.namespace", "default"));
    const char *hn = ck_json_get_string(pod, "spec.hostname", "");
    if (!hn[0])
        hn = ck_json_get_string(pod, "metadata.name", "");
    /* a hostname is at most 63 characters; upstream cuts the pod name and its trailing
     * '-' / '.' */
    char host[64];
    ck_strlcpy(host, hn, sizeof(host));
    size_t hl = strlen(host);
    while (hl > 0 && (host[hl - 1] == '-' || host[hl - 1] == '.'))
        host[--hl] = '\0';
    cfg->hostname = keep_dup(a, host);
    cfg->log_directory = log_dir ? keep_dup(a, log_dir) : NULL;
    cfg->cgroup_parent = cgroup_parent ? keep_dup(a, cgroup_parent) : NULL;
    cfg->host_network = ck_json_get_bool(pod, "spec.hostNetwork", false);
    cfg->host_ipc = ck_json_get_bool(pod, "spec.hostIPC", false);
    cfg->host_pid = ck_json_get_bool(pod, "spec.hostPID", false);

    /* DNS, as upstream's dns.Configurer.GetPodDNS */
    const char *policy = ck_json_get_string(pod, "spec.dnsPolicy", "ClusterFirst");
    struct kl_strs servers = {0}, searches = {0}, options = {0};
    bool cluster = false, host_dns = false;
    if (!strcmp(policy, "ClusterFirstWithHostNet"))
        cluster = true;
    else if (!strcmp(policy, "ClusterFirst"))
        cluster = !cfg->host_network;
    /* Default, and ClusterFirst on the host's network: the node's resolver */
    host_dns = !strcmp(policy, "Default") || (!strcmp(policy, "ClusterFirst") && cfg->host_network);
    if (cluster && (!dns || dns->n_cluster_dns == 0)) {
        /* no cluster DNS configured: the pod gets the node's resolver (upstream's fallback,
         * with a MissingClusterDNS event) */
        out->cluster_dns_missing = true;
        cluster = false;
        host_dns = true;
    }
    if (cluster) {
        for (size_t i = 0; i < dns->n_cluster_dns; i++)
            strs_add_unique(&servers, dns->cluster_dns[i]);
        const char *dom = dns->cluster_domain ? dns->cluster_domain : "";
        if (dom[0]) {
            CK_AUTOFREE char *s1 = ck_xasprintf("%s.svc.%s", cfg->pod_namespace, dom);
            CK_AUTOFREE char *s2 = ck_xasprintf("svc.%s", dom);
            strs_add_unique(&searches, s1);
            strs_add_unique(&searches, s2);
            strs_add_unique(&searches, dom);
        }
        if (dns->host)
            for (size_t i = 0; i < dns->host->searches.n; i++)
                strs_add_unique(&searches, dns->host->searches.v[i]);
        strs_add_unique(&options, "ndots:5");
    } else if (host_dns && dns && dns->host) {
        for (size_t i = 0; i < dns->host->servers.n; i++)
            strs_add_unique(&servers, dns->host->servers.v[i]);
        for (size_t i = 0; i < dns->host->searches.n; i++)
            strs_add_unique(&searches, dns->host->searches.v[i]);
        for (size_t i = 0; i < dns->host->options.n; i++)
            strs_add_unique(&options, dns->host->options.v[i]);
    }
    const cJSON *dc = ck_json_get(pod, "spec.dnsConfig");
    const cJSON *e;
    cJSON_ArrayForEach(e, ck_json_getv(dc, "nameservers", NULL))
    {
        if (cJSON_IsString(e))
            strs_add_unique(&servers, e->valuestring);
    }
    cJSON_ArrayForEach(e, ck_json_getv(dc, "searches", NULL))
    {
        if (cJSON_IsString(e))
            strs_add_unique(&searches, e->valuestring);
    }
    cJSON_ArrayForEach(e, ck_json_getv(dc, "options", NULL))
    {
        opt_merge(&options, ck_json_get_string(e, "name", ""), ck_json_get_string(e, "value", ""));
    }
    out->servers = strs_view(a, &servers, 3, &cfg->n_dns_servers);
    out->searches = strs_view(a, &searches, 32, &cfg->n_dns_searches);
    out->options = strs_view(a, &options, 64, &cfg->n_dns_options);
    strs_free(&servers);
    strs_free(&searches);
    strs_free(&options);
    cfg->dns_servers = out->servers;
    cfg->dns_searches = out->searches;
    cfg->dns_options = out->options;

    /* namespaced sysctls of the pod's security context */
    const cJSON *sys = ck_json_get(pod, "spec.securityContext.sysctls");
    out->sysctls = ck_xcalloc((size_t)cJSON_GetArraySize(sys) + 1, sizeof(char *));
    cJSON_ArrayForEach(e, sys)
    {
        const char *n = ck_json_get_string(e, "name", "");
        if (!n[0] || !kl_sysctl_allowed(n, cfg->host_network, cfg->host_ipc))
            continue;
        out->sysctls[cfg->n_sysctls++] =
            keep(a, ck_xasprintf("%s=%s", n, ck_json_get_string(e, "value", "")));
    }
    cfg->sysctls = out->sysctls;
    out->labels = ck_xcalloc(4, sizeof(char *));
    out->labels[0] = keep(a, ck_xasprintf(KL_LABEL_POD_NAME "=%s", cfg->pod_name));
    out->labels[1] = keep(a, ck_xasprintf(KL_LABEL_POD_NAMESPACE "=%s", cfg->pod_namespace));
    out->labels[2] = keep(a, ck_xasprintf(KL_LABEL_POD_UID "=%s", cfg->pod_uid));
    cfg->labels = out->labels;
    cfg->n_labels = 3;
}

void kl_sandbox_spec_free(struct kl_sandbox_spec *s)
{
    free(s->servers);
    free(s->searches);
    free(s->options);
    free(s->sysctls);
    free(s->labels);
    free(s->annotations);
    strs_free(&s->arena);
    memset(s, 0, sizeof(*s));
}

/* ---- resources --------------------------------------------------------------------------------
 */

static int64_t res_milli(const cJSON *c, const char *kind, const char *name, bool *has)
{
    const cJSON *q = ck_json_getv(c, "resources", kind, name, NULL);
    struct ck_quantity v;
    if (!q || ck_quantity_parse_json(q, &v, NULL) < 0) {
        if (has)
            *has = false;
        return 0;
    }
    if (has)
        *has = true;
    return ck_quantity_milli_value(&v);
}

static int64_t res_value(const cJSON *c, const char *kind, const char *name, bool *has)
{
    const cJSON *q = ck_json_getv(c, "resources", kind, name, NULL);
    struct ck_quantity v;
    if (!q || ck_quantity_parse_json(q, &v, NULL) < 0) {
        if (has)
            *has = false;
        return 0;
    }
    if (has)
        *has = true;
    return ck_quantity_value(&v);
}

void kl_pod_cgroup_resources(const cJSON *pod, enum kl_qos *qos, struct kl_cgroup_resources *res)
{
    memset(res, 0, sizeof(*res));
    const char *q = kl_pod_qos(ck_json_get(pod, "spec"));
    *qos = !strcmp(q, "Guaranteed")   ? KL_QOS_GUARANTEED
           : !strcmp(q, "BestEffort") ? KL_QOS_BESTEFFORT
                                      : KL_QOS_BURSTABLE;
    /* requests: the sum over app containers, or the largest init container when bigger */
    int64_t cpu_req = 0, cpu_lim = 0, mem_lim = 0;
    bool all_cpu_lim = true, all_mem_lim = true;
    const cJSON *c;
    cJSON_ArrayForEach(c, ck_json_get(pod, "spec.containers"))
    {
        bool h;
        cpu_req += res_milli(c, "requests", "cpu", NULL);
        cpu_lim += res_milli(c, "limits", "cpu", &h);
        all_cpu_lim = all_cpu_lim && h;
        mem_lim += res_value(c, "limits", "memory", &h);
        all_mem_lim = all_mem_lim && h;
    }
    cJSON_ArrayForEach(c, ck_json_get(pod, "spec.initContainers"))
    {
        int64_t r = res_milli(c, "requests", "cpu", NULL);
        if (r > cpu_req)
            cpu_req = r;
        bool h;
        int64_t l = res_milli(c, "limits", "cpu", &h);
        if (h && l > cpu_lim)
            cpu_lim = l;
        int64_t m = res_value(c, "limits", "memory", &h);
        if (h && m > mem_lim)
            mem_lim = m;
    }
    if (*qos == KL_QOS_BESTEFFORT) {
        res->cpu_shares = KL_CPU_MIN_SHARES;
        return;
    }
    res->cpu_shares = kl_milli_cpu_to_shares(cpu_req);
    if (all_cpu_lim && cpu_lim > 0)
        res->cpu_quota = kl_milli_cpu_to_quota(cpu_lim, KL_CPU_QUOTA_PERIOD);
    if (all_mem_lim && mem_lim > 0)
        res->memory_limit = mem_lim;
}

int kl_oom_score_adj(const cJSON *pod, const cJSON *c, int64_t node_memory)
{
    const char *q = kl_pod_qos(ck_json_get(pod, "spec"));
    if (!strcmp(q, "Guaranteed"))
        return -997;
    if (!strcmp(q, "BestEffort"))
        return 1000;
    int64_t req = res_value(c, "requests", "memory", NULL);
    if (node_memory <= 0)
        return 999;
    int64_t adj = 1000 - (1000 * req) / node_memory;
    if (adj < 3)
        return 3;
    if (adj >= 1000)
        return 999;
    return (int)adj;
}

char *kl_container_hash(const cJSON *c)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "image", ck_json_get_string(c, "image", ""));
    cJSON_AddStringToObject(h, "name", ck_json_get_string(c, "name", ""));
    CK_AUTOFREE char *txt = ck_json_canonical(h);
    cJSON_Delete(h);
    char *hex = ck_sha256_hex(txt, strlen(txt));
    hex[8] = '\0';
    return hex;
}

/* ---- /etc/hosts -------------------------------------------------------------------------------
 */

char *kl_hosts_file(const cJSON *pod, const char *pod_ip, const char *cluster_domain)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "# Kubernetes-managed hosts file.\n"
                    "127.0.0.1\tlocalhost\n"
                    "::1\tlocalhost ip6-localhost ip6-loopback\n"
                    "fe00::0\tip6-localnet\n"
                    "fe00::0\tip6-mcastprefix\n"
                    "fe00::1\tip6-allnodes\n"
                    "fe00::2\tip6-allrouters\n");
    const char *hn = ck_json_get_string(pod, "spec.hostname", "");
    if (!hn[0])
        hn = ck_json_get_string(pod, "metadata.name", "");
    const char *sub = ck_json_get_string(pod, "spec.subdomain", "");
    if (pod_ip && pod_ip[0]) {
        if (sub[0] && cluster_domain && cluster_domain[0])
            ck_buf_printf(&b, "%s\t%s.%s.%s.svc.%s\t%s\n", pod_ip, hn, sub,
                          ck_json_get_string(pod, "metadata.namespace", "default"), cluster_domain,
                          hn);
        else
            ck_buf_printf(&b, "%s\t%s\n", pod_ip, hn);
    }
    const cJSON *aliases = ck_json_get(pod, "spec.hostAliases");
    if (cJSON_GetArraySize(aliases) > 0) {
        ck_buf_puts(&b, "\n# Entries added by HostAliases.\n");
        const cJSON *a;
        cJSON_ArrayForEach(a, aliases)
        {
            ck_buf_puts(&b, ck_json_get_string(a, "ip", ""));
            const cJSON *h;
            cJSON_ArrayForEach(h, ck_json_getv(a, "hostnames", NULL))
            {
                ck_buf_putc(&b, '\t');
                ck_buf_puts(&b, ck_json_as_string(h, ""));
            }
            ck_buf_putc(&b, '\n');
        }
    }
    return ck_buf_detach(&b);
}

/* ---- container spec ---------------------------------------------------------------------------
 */

void kl_cspec_free(struct kl_cspec *s)
{
    free(s->command);
    free(s->args);
    free(s->env);
    free(s->labels);
    free(s->annotations);
    free(s->cap_add);
    free(s->cap_drop);
    free(s->groups);
    free(s->mounts);
    strs_free(&s->arena);
    memset(s, 0, sizeof(*s));
}

/* the effective value of a security context field: the container's, else the pod's */
static const cJSON *sc_get(const cJSON *pod, const cJSON *c, const char *field)
{
    const cJSON *v = ck_json_getv(c, "securityContext", field, NULL);
    if (v && !cJSON_IsNull(v))
        return v;
    v = ck_json_getv(pod, "spec", "securityContext", field, NULL);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static bool subpath_ok(const char *p)
{
    if (!p || p[0] == '/')
        return false;
    const char *s = p;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && !strncmp(s, "..", 2))
            return false;
        if (!e)
            break;
        s = e + 1;
    }
    return true;
}

static int build_mounts(struct kl_cspec *s, const cJSON *c, const struct kl_cspec_params *p,
                        struct ck_error *err)
{
    const cJSON *vms = ck_json_getv(c, "volumeMounts", NULL);
    size_t cap = (size_t)cJSON_GetArraySize(vms) + 1;
    s->mounts = ck_xcalloc(cap, sizeof(*s->mounts));
    size_t n = 0;
    bool hosts_mounted = false;
    const cJSON *vm;
    cJSON_ArrayForEach(vm, vms)
    {
        const char *vname = ck_json_get_string(vm, "name", "");
        const char *mpath = ck_json_get_string(vm, "mountPath", "");
        const struct kl_volume *vol = kl_pod_volume(p->vols, vname);
        if (!vol)
            return ck_error_set(err, 400, "CreateContainerConfigError",
                                "cannot find volume \"%s\" to mount into container \"%s\"", vname,
                                ck_json_get_string(c, "name", ""));
        if (mpath[0] != '/')
            return ck_error_set(err, 400, "CreateContainerConfigError",
                                "mount path \"%s\" is not absolute", mpath);
        const char *sub = ck_json_get_string(vm, "subPath", "");
        const char *subx = ck_json_get_string(vm, "subPathExpr", "");
        CK_AUTOFREE char *expanded = NULL;
        if (subx[0]) {
            expanded = kl_expand_vars(subx, p->env ? (const char *const *)p->env->v : NULL,
                                      p->env ? p->env->n : 0);
            sub = expanded;
        }
        const char *host = vol->path;
        if (sub[0]) {
            if (!subpath_ok(sub))
                return ck_error_set(err, 400, "CreateContainerConfigError",
                                    "subPath \"%s\" must be a relative path without \"..\"", sub);
            char *hp = ck_xasprintf("%s/%s", vol->path, sub);
            host = keep(&s->arena, hp);
        }
        struct kl_mount *m = &s->mounts[n++];
        m->container_path = keep_dup(&s->arena, mpath);
        m->host_path = host;
        m->readonly = vol->readonly || ck_json_get_bool(vm, "readOnly", false);
        const char *prop = ck_json_get_string(vm, "mountPropagation", "");
        m->propagation = !strcmp(prop, "HostToContainer") ? KL_PROPAGATION_HOST_TO_CONTAINER
                         : !strcmp(prop, "Bidirectional") ? KL_PROPAGATION_BIDIRECTIONAL
                                                          : KL_PROPAGATION_PRIVATE;
        if (!strcmp(mpath, "/etc/hosts"))
            hosts_mounted = true;
    }
    if (p->hosts_file && !hosts_mounted) {
        struct kl_mount *m = &s->mounts[n++];
        m->container_path = "/etc/hosts";
        m->host_path = keep_dup(&s->arena, p->hosts_file);
        m->readonly = false;
    }
    s->spec.mounts = s->mounts;
    s->spec.n_mounts = n;
    return 0;
}

int kl_cspec_build(struct kl_cspec *out, const cJSON *pod, const cJSON *c,
                   const struct kl_cspec_params *p, struct ck_error *err)
{
    memset(out, 0, sizeof(*out));
    struct kl_container_spec *sp = &out->spec;
    struct kl_strs *a = &out->arena;
    sp->name = keep_dup(a, ck_json_get_string(c, "name", ""));
    sp->attempt = p->attempt;
    sp->image = keep_dup(a, p->image_ref ? p->image_ref : ck_json_get_string(c, "image", ""));
    out->command = json_strv(a, ck_json_getv(c, "command", NULL), &sp->n_command);
    out->args = json_strv(a, ck_json_getv(c, "args", NULL), &sp->n_args);
    sp->command = out->command;
    sp->args = out->args;
    size_t ne = p->env ? p->env->n : 0;
    out->env = ck_xcalloc(ne + 1, sizeof(char *));
    for (size_t i = 0; i < ne; i++)
        out->env[i] = keep_dup(a, p->env->v[i]);
    sp->env = out->env;
    sp->n_env = ne;
    const char *wd = ck_json_get_string(c, "workingDir", "");
    sp->working_dir = wd[0] ? keep_dup(a, wd) : NULL;

    const cJSON *v;
    if ((v = sc_get(pod, c, "runAsUser")) && cJSON_IsNumber(v)) {
        sp->has_run_as_user = true;
        sp->run_as_user = ck_json_as_int64(v, 0);
    }
    if ((v = sc_get(pod, c, "runAsGroup")) && cJSON_IsNumber(v)) {
        sp->has_run_as_group = true;
        sp->run_as_group = ck_json_as_int64(v, 0);
    }
    const cJSON *sg = ck_json_get(pod, "spec.securityContext.supplementalGroups");
    const cJSON *fsg = ck_json_get(pod, "spec.securityContext.fsGroup");
    size_t ng = (size_t)cJSON_GetArraySize(sg) + 1;
    out->groups = ck_xcalloc(ng, sizeof(int64_t));
    const cJSON *e;
    cJSON_ArrayForEach(e, sg)
    {
        if (cJSON_IsNumber(e))
            out->groups[sp->n_supplemental_groups++] = ck_json_as_int64(e, 0);
    }
    if (cJSON_IsNumber(fsg))
        out->groups[sp->n_supplemental_groups++] = ck_json_as_int64(fsg, 0);
    sp->supplemental_groups = out->groups;
    sp->privileged = ck_json_get_bool(c, "securityContext.privileged", false);
    sp->read_only_root_filesystem =
        ck_json_get_bool(c, "securityContext.readOnlyRootFilesystem", false);
    const cJSON *ape = ck_json_get(c, "securityContext.allowPrivilegeEscalation");
    sp->no_new_privileges = cJSON_IsFalse(ape);
    out->cap_add = json_strv(a, ck_json_get(c, "securityContext.capabilities.add"), &sp->n_cap_add);
    out->cap_drop =
        json_strv(a, ck_json_get(c, "securityContext.capabilities.drop"), &sp->n_cap_drop);
    sp->cap_add = out->cap_add;
    sp->cap_drop = out->cap_drop;
    sp->unmasked_proc_mount =
        !strcmp(ck_json_get_string(c, "securityContext.procMount", ""), "Unmasked");

    sp->cpu_request_milli = res_milli(c, "requests", "cpu", NULL);
    sp->cpu_limit_milli = res_milli(c, "limits", "cpu", NULL);
    sp->memory_limit = res_value(c, "limits", "memory", NULL);
    sp->oom_score_adj = kl_oom_score_adj(pod, c, p->node_memory);

    int rc = build_mounts(out, c, p, err);
    if (rc < 0) {
        kl_cspec_free(out);
        return rc;
    }
    const char *tmp = ck_json_get_string(c, "terminationMessagePath", "/dev/termination-log");
    sp->termination_message_path = tmp[0] ? keep_dup(a, tmp) : NULL;

    out->labels = ck_xcalloc(5, sizeof(char *));
    out->labels[0] = keep(
        a, ck_xasprintf(KL_LABEL_POD_NAME "=%s", ck_json_get_string(pod, "metadata.name", "")));
    out->labels[1] = keep(a, ck_xasprintf(KL_LABEL_POD_NAMESPACE "=%s",
                                          ck_json_get_string(pod, "metadata.namespace", "")));
    out->labels[2] =
        keep(a, ck_xasprintf(KL_LABEL_POD_UID "=%s", ck_json_get_string(pod, "metadata.uid", "")));
    out->labels[3] = keep(a, ck_xasprintf(KL_LABEL_CONTAINER_NAME "=%s", sp->name));
    sp->labels = out->labels;
    sp->n_labels = 4;
    CK_AUTOFREE char *hash = kl_container_hash(c);
    out->annotations = ck_xcalloc(8, sizeof(char *));
    size_t na = 0;
    out->annotations[na++] = keep(a, ck_xasprintf(KL_ANN_HASH "=%s", hash));
    out->annotations[na++] = keep(a, ck_xasprintf(KL_ANN_RESTART_COUNT "=%u", p->attempt));
    out->annotations[na++] =
        keep(a, ck_xasprintf("io.kubernetes.container.terminationMessagePath=%s", tmp));
    out->annotations[na++] =
        keep(a, ck_xasprintf("io.kubernetes.container.terminationMessagePolicy=%s",
                             ck_json_get_string(c, "terminationMessagePolicy", "File")));
    out->annotations[na++] = keep(
        a,
        ck_xasprintf("io.kubernetes.pod.terminationGracePeriod=%lld",
                     (long long)ck_json_get_int64(pod, "spec.terminationGracePeriodSeconds", 30)));
    out->annotations[na++] =
        keep(a, ck_xasprintf(KL_ANN_IMAGE_ID "=%s", p->image_id ? p->image_id : ""));
    sp->annotations = out->annotations;
    sp->n_annotations = na;
    return 0;
}
