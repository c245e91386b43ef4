/* print_core.c - printers for the core kinds that are not pods or workloads: Service (TYPE,
 * CLUSTER-IP, EXTERNAL-IP, PORT(S) as `80:30080/TCP`), Endpoints, EndpointSlice, Node (STATUS
 * such as "Ready,SchedulingDisabled", ROLES from node-role labels), Namespace, Event (core/v1
 * and events.k8s.io/v1), ConfigMap, Secret, ServiceAccount, ResourceQuota and
 * ComponentStatus, as upstream's printers.go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "printers_internal.h"

/* "<none>" for an empty string. */
static const char *or_none(const char *s)
{
    return *s ? s : "<none>";
}

/* ---- Service ---- */

static const struct printer_column SERVICE_COLUMNS[] = {
    COL_NAME,
    COL("Type", "string",
        "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
        "ExternalName, ClusterIP, NodePort, and LoadBalancer."),
    COL("Cluster-IP", "string",
        "clusterIP is the IP address of the service and is usually assigned randomly."),
    COL("External-IP", "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
        "traffic for this service."),
    COL("Port(s)", "string", "The list of ports that are exposed by this service."),
    COL_AGE,
    COL_WIDE("Selector", "string",
             "Route service traffic to pods with label keys and values matching this selector."),
    COL_END,
};

/* The load balancer ingress points (IP, else hostname), sorted and distinct, joined by ','.
 * The server prints wide, so nothing is clipped. */
static char *lb_ingress(const cJSON *obj, const char *path)
{
    struct strset set = {0};
    const cJSON *in, *arr = pj_array(obj, path);
    if (arr) {
        cJSON_ArrayForEach(in, arr)
        {
            const char *ip = pj_str(in, "ip"), *host = pj_str(in, "hostname");
            if (*ip)
                strset_add(&set, ip);
            else if (*host)
                strset_add(&set, host);
        }
    }
    char *out = strset_join(&set, ",");
    strset_free(&set);
    return out;
}

static char *service_external_ip(const cJSON *svc)
{
    const char *type = pj_str(svc, "spec.type");
    const cJSON *ext = pj_array(svc, "spec.externalIPs");
    bool has_ext = ext && cJSON_GetArraySize(ext) > 0;
    if (!strcmp(type, "ClusterIP") || !strcmp(type, "NodePort"))
        return has_ext ? join_strings(ext, ",") : ck_xstrdup("<none>");
    if (!strcmp(type, "LoadBalancer")) {
        char *lb = lb_ingress(svc, "status.loadBalancer.ingress");
        if (has_ext) {
            CK_AUTOFREE char *e = join_strings(ext, ",");
            char *both = *lb ? ck_xasprintf("%s,%s", lb, e) : ck_xstrdup(e);
            free(lb);
            return both;
        }
        if (*lb)
            return lb;
        free(lb);
        return ck_xstrdup("<pending>");
    }
    if (!strcmp(type, "ExternalName"))
        return ck_xstrdup(pj_str(svc, "spec.externalName"));
    return ck_xstrdup("<unknown>");
}

/* makePortString: "80/TCP", "80:30080/TCP", joined by ','. */
static char *service_ports(const cJSON *svc)
{
    struct ck_buf b = CK_BUF_INIT;
    const cJSON *p, *arr = pj_array(svc, "spec.ports");
    bool first = true;
    if (arr) {
        cJSON_ArrayForEach(p, arr)
        {
            if (!first)
                ck_buf_putc(&b, ',');
            first = false;
            long long port = pj_int(p, "port"), node_port = pj_int(p, "nodePort");
            if (node_port > 0)
                ck_buf_printf(&b, "%lld:%lld/%s", port, node_port, pj_str(p, "protocol"));
            else
                ck_buf_printf(&b, "%lld/%s", port, pj_str(p, "protocol"));
        }
    }
    if (!b.len) {
        ck_buf_free(&b);
        return ck_xstrdup("<none>");
    }
    return ck_buf_detach(&b);
}

static void print_service(struct prow *row, const cJSON *svc)
{
    const char *cluster_ip = pj_str(svc, "spec.clusterIPs.0");
    if (!*cluster_ip)
        cluster_ip = pj_str(svc, "spec.clusterIP");
    cell_name(row, svc);
    cell_str(row, pj_str(svc, "spec.type"));
    cell_str(row, or_none(cluster_ip));
    cell_take(row, service_external_ip(svc));
    cell_take(row, service_ports(svc));
    cell_age(row, svc);
    cell_take(row, fmt_labels(ck_json_get(svc, "spec.selector")));
}

/* ---- Endpoints, EndpointSlice ---- */

static const struct printer_column ENDPOINTS_COLUMNS[] = {
    COL_NAME,
    COL("Endpoints", "string",
        "The set of all endpoints is the union of all subsets. Addresses are placed into "
        "subsets according to the IPs they share."),
    COL_AGE,
    COL_END,
};

/* A list showing at most three entries, then " + N more...". */
struct shortlist {
    struct ck_buf b;
    int shown, count;
    bool more;
};

/* Counts one more entry; true when it is among the first three (the caller appends it). */
static bool shortlist_next(struct shortlist *l)
{
    l->count++;
    if (l->shown == 3) {
        l->more = true;
        return false;
    }
    if (l->shown++)
        ck_buf_putc(&l->b, ',');
    return true;
}

/* The list; `empty` (upstream's listWithMoreString "<unset>") when nothing was added. */
static char *shortlist_done(struct shortlist *l, const char *empty)
{
    if (l->more)
        ck_buf_printf(&l->b, " + %d more...", l->count - 3);
    if (!l->b.len && empty) {
        ck_buf_free(&l->b);
        return ck_xstrdup(empty);
    }
    return ck_buf_detach(&l->b);
}

/* formatEndpoints with all ports: "ip:port" (net.JoinHostPort: IPv6 in brackets), or the
 * bare IPs of a subset without ports. */
static char *format_endpoints(const cJSON *ep)
{
    const cJSON *subsets = pj_array(ep, "subsets"), *ss, *a, *p;
    if (!subsets || !cJSON_GetArraySize(subsets))
        return ck_xstrdup("<none>");
    struct shortlist l = {CK_BUF_INIT, 0, 0, false};
    cJSON_ArrayForEach(ss, subsets)
    {
        const cJSON *addrs = pj_array(ss, "addresses"), *ports = pj_array(ss, "ports");
        if (!addrs)
            continue;
        if (!ports || !cJSON_GetArraySize(ports)) {
            cJSON_ArrayForEach(a, addrs)
            {
                if (shortlist_next(&l))
                    ck_buf_puts(&l.b, pj_str(a, "ip"));
            }
            continue;
        }
        cJSON_ArrayForEach(p, ports)
        {
            cJSON_ArrayForEach(a, addrs)
            {
                const char *ip = pj_str(a, "ip");
                if (shortlist_next(&l))
                    ck_buf_printf(&l.b, strchr(ip, ':') ? "[%s]:%lld" : "%s:%lld", ip,
                                  (long long)pj_int(p, "port"));
            }
        }
    }
    return shortlist_done(&l, NULL);
}

static void print_endpoints(struct prow *row, const cJSON *ep)
{
    cell_name(row, ep);
    cell_take(row, format_endpoints(ep));
    cell_age(row, ep);
}

static const struct printer_column ENDPOINT_SLICE_COLUMNS[] = {
    COL_NAME,
    COL("AddressType", "string",
        "addressType specifies the type of address carried by this EndpointSlice."),
    COL("Ports", "string",
        "ports specifies the list of network ports exposed by each endpoint "
        "in this slice."),
    COL("Endpoints", "string", "endpoints is a list of unique endpoints in this slice."),
    COL_AGE,
    COL_END,
};

static void print_endpoint_slice(struct prow *row, const cJSON *es)
{
    struct shortlist ports = {CK_BUF_INIT, 0, 0, false}, addrs = ports;
    const cJSON *p, *e, *a, *arr = pj_array(es, "ports");
    if (arr) {
        cJSON_ArrayForEach(p, arr)
        {
            if (!shortlist_next(&ports))
                continue;
            if (pj_set(p, "port"))
                ck_buf_printf(&ports.b, "%lld", (long long)pj_int(p, "port"));
            else if (pj_set(p, "name"))
                ck_buf_puts(&ports.b, pj_str(p, "name"));
            else
                ck_buf_putc(&ports.b, '*');
        }
    }
    if ((arr = pj_array(es, "endpoints")) != NULL) {
        cJSON_ArrayForEach(e, arr)
        {
            const cJSON *list = pj_array(e, "addresses");
            if (!list)
                continue;
            cJSON_ArrayForEach(a, list)
            {
                if (shortlist_next(&addrs))
                    ck_buf_puts(&addrs.b, ck_json_as_string(a, ""));
            }
        }
    }
    cell_name(row, es);
    cell_str(row, pj_str(es, "addressType"));
    cell_take(row, shortlist_done(&ports, "<unset>"));
    cell_take(row, shortlist_done(&addrs, "<unset>"));
    cell_age(row, es);
}

/* ---- Node ---- */

static const struct printer_column NODE_COLUMNS[] = {
    COL_NAME,
    COL("Status", "string", "The status of the node"),
    COL("Roles", "string", "The roles of the node"),
    COL_AGE,
    COL("Version", "string", "Kubelet Version reported by the node."),
    COL_WIDE("Internal-IP", "string",
             "List of addresses reachable to the node. Queried from cloud provider, if "
             "available."),
    COL_WIDE("External-IP", "string",
             "List of addresses reachable to the node. Queried from cloud provider, if "
             "available."),
    COL_WIDE("OS-Image", "string",
             "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 "
             "(wheezy))."),
    COL_WIDE("Kernel-Version", "string",
             "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    COL_WIDE("Container-Runtime", "string",
             "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
             "containerd://1.4.2)."),
    COL_END,
};

/* "Ready" / "NotReady" from the (last) Ready condition, "Unknown" without one, then
 * ",SchedulingDisabled" for a cordoned node. */
static char *node_status(const cJSON *node)
{
    const cJSON *c, *ready = NULL, *arr = pj_array(node, "status.conditions");
    if (arr) {
        cJSON_ArrayForEach(c, arr)
        {
            if (!strcmp(pj_str(c, "type"), "Ready"))
                ready = c;
        }
    }
    const char *status = !ready                                     ? "Unknown"
                         : !strcmp(pj_str(ready, "status"), "True") ? "Ready"
                                                                    : "NotReady";
    if (pj_bool(node, "spec.unschedulable", false))
        return ck_xasprintf("%s,SchedulingDisabled", status);
    return ck_xstrdup(status);
}

/* findNodeRoles: node-role.kubernetes.io/<role> keys and kubernetes.io/role values. */
static char *node_roles(const cJSON *node)
{
    static const char prefix[] = "node-role.kubernetes.io/";
    struct strset roles = {0};
    const cJSON *l, *labels = ck_json_get(node, "metadata.labels");
    if (cJSON_IsObject(labels)) {
        cJSON_ArrayForEach(l, labels)
        {
            const char *k = l->string ? l->string : "";
            const char *v = ck_json_as_string(l, "");
            if (!strncmp(k, prefix, sizeof(prefix) - 1) && k[sizeof(prefix) - 1])
                strset_add(&roles, k + sizeof(prefix) - 1);
            else if (!strcmp(k, "kubernetes.io/role") && *v)
                strset_add(&roles, v);
        }
    }
    char *out = strset_join(&roles, ",");
    strset_free(&roles);
    if (!*out) {
        free(out);
        return ck_xstrdup("<none>");
    }
    return out;
}

static const char *node_address(const cJSON *node, const char *type)
{
    const cJSON *a, *arr = pj_array(node, "status.addresses");
    if (arr) {
        cJSON_ArrayForEach(a, arr)
        {
            if (!strcmp(pj_str(a, "type"), type))
                return pj_str(a, "address");
        }
    }
    return "<none>";
}

static const char *or_unknown(const char *s)
{
    return *s ? s : "<unknown>";
}

static void print_node(struct prow *row, const cJSON *node)
{
    cell_name(row, node);
    cell_take(row, node_status(node));
    cell_take(row, node_roles(node));
    cell_age(row, node);
    cell_str(row, pj_str(node, "status.nodeInfo.kubeletVersion"));
    cell_str(row, node_address(node, "InternalIP"));
    cell_str(row, node_address(node, "ExternalIP"));
    cell_str(row, or_unknown(pj_str(node, "status.nodeInfo.osImage")));
    cell_str(row, or_unknown(pj_str(node, "status.nodeInfo.kernelVersion")));
    cell_str(row, or_unknown(pj_str(node, "status.nodeInfo.containerRuntimeVersion")));
}

/* ---- Namespace ---- */

static const struct printer_column NAMESPACE_COLUMNS[] = {
    COL_NAME,
    COL("Status", "string", "The status of the namespace"),
    COL_AGE,
    COL_END,
};

static void print_namespace(struct prow *row, const cJSON *ns)
{
    cell_name(row, ns);
    cell_str(row, pj_str(ns, "status.phase"));
    cell_age(row, ns);
}

/* ---- Event ---- */

static const struct printer_column EVENT_COLUMNS[] = {
    COL("Last Seen", "string",
        "The time at which the most recent occurrence of this event was recorded."),
    COL("Type", "string",
        "Type of this event (Normal, Warning), new types could be added in the "
        "future"),
    COL("Reason", "string",
        "This should be a short, machine understandable string that gives the reason for the "
        "transition into the object's current status."),
    COL("Object", "string", "The object that this event is about."),
    COL_WIDE("Subobject", "string",
             "If referring to a piece of an object instead of an entire object, this string "
             "should contain a valid JSON/Go field access statement, such as "
             "desiredState.manifest.containers[2]."),
    COL_WIDE("Source", "string",
             "The component reporting this event. Should be a short machine understandable "
             "string."),
    COL("Message", "string", "A human-readable description of the status of this operation."),
    COL_WIDE("First Seen", "string",
             "The time at which the event was first recorded. (Time of server receipt is in "
             "TypeMeta.)"),
    COL_WIDE("Count", "string", "The number of times this event has occurred."),
    {"Name", "string", "name", PRINTERS_DESC_NAME, 1},
    COL_END,
};

/* Where each field of the internal Event lives in the two served shapes. */
struct event_fields {
    const char *involved, *message, *source, *first, *last, *count, *reporting_controller;
};
static const struct event_fields EVENT_CORE = {
    "involvedObject",     "message", "source", "firstTimestamp", "lastTimestamp", "count",
    "reportingComponent",
};
static const struct event_fields EVENT_EVENTS_V1 = {
    "regarding",
    "note",
    "deprecatedSource",
    "deprecatedFirstTimestamp",
    "deprecatedLastTimestamp",
    "deprecatedCount",
    "reportingController",
};

/* The string member `key` of the event. */
static const char *ev_str(const cJSON *ev, const char *key)
{
    return ck_json_as_string(ck_json_getv(ev, key, NULL), "");
}

static void print_event_as(struct prow *row, const cJSON *ev, const struct event_fields *f)
{
    char first[CK_HUMAN_BUFSZ], last[CK_HUMAN_BUFSZ];
    struct timespec t;
    const cJSON *inv = ck_json_getv(ev, f->involved, NULL);
    const cJSON *src = ck_json_getv(ev, f->source, NULL);

    /* a zero firstTimestamp falls back to eventTime, a zero lastTimestamp to the first */
    pt_since(row,
             pt_parse(ev_str(ev, f->first), &t) ? ev_str(ev, f->first) : ev_str(ev, "eventTime"),
             first);
    if (pt_parse(ev_str(ev, f->last), &t))
        pt_since(row, ev_str(ev, f->last), last);
    else
        memcpy(last, first, sizeof(last));
    int64_t count = ck_json_as_int64(ck_json_getv(ev, f->count, NULL), 0);
    if (pj_set(ev, "series")) {
        pt_since(row, pj_str(ev, "series.lastObservedTime"), last);
        count = pj_int(ev, "series.count");
    } else if (count == 0) {
        count = 1; /* singleton events of the new API have no count */
    }

    struct ck_buf target = CK_BUF_INIT;
    for (const char *k = pj_str(inv, "kind"); *k; k++)
        ck_buf_putc(&target, (*k >= 'A' && *k <= 'Z') ? (char)(*k - 'A' + 'a') : *k);
    if (*pj_str(inv, "name"))
        ck_buf_printf(&target, "/%s", pj_str(inv, "name"));

    const char *component = pj_str(src, "component"), *host = pj_str(src, "host");
    if (!*component)
        component = ev_str(ev, f->reporting_controller);
    if (!*host)
        host = pj_str(ev, "reportingInstance");

    cell_str(row, last);
    cell_str(row, pj_str(ev, "type"));
    cell_str(row, pj_str(ev, "reason"));
    cell_str(row, ck_buf_str(&target));
    cell_str(row, pj_str(inv, "fieldPath"));
    if (*host)
        cell_fmt(row, "%s, %s", component, host);
    else
        cell_str(row, component);
    cell_take(row, fmt_trim_space(ev_str(ev, f->message)));
    cell_str(row, first);
    cell_int(row, count);
    cell_name(row, ev);
    ck_buf_free(&target);
}

static void print_event(struct prow *row, const cJSON *ev)
{
    print_event_as(row, ev, &EVENT_CORE);
}

static void print_events_v1_event(struct prow *row, const cJSON *ev)
{
    print_event_as(row, ev, &EVENT_EVENTS_V1);
}

/* ---- ConfigMap, Secret, ServiceAccount ---- */

static const struct printer_column CONFIGMAP_COLUMNS[] = {
    COL_NAME,
    COL("Data", "string",
        "Data contains the configuration data. Each key must consist of alphanumeric "
        "characters, '-', '_' or '.'."),
    COL_AGE,
    COL_END,
};

static void print_configmap(struct prow *row, const cJSON *cm)
{
    cell_name(row, cm);
    cell_int(row, pj_count(cm, "data") + pj_count(cm, "binaryData"));
    cell_age(row, cm);
}

static const struct printer_column SECRET_COLUMNS[] = {
    COL_NAME,
    COL("Type", "string", "Used to facilitate programmatic handling of secret data."),
    COL("Data", "string",
        "Data contains the secret data. Each key must consist of alphanumeric characters, '-', "
        "'_' or '.'."),
    COL_AGE,
    COL_END,
};

static void print_secret(struct prow *row, const cJSON *s)
{
    cell_name(row, s);
    cell_str(row, pj_str(s, "type"));
    cell_int(row, pj_count(s, "data"));
    cell_age(row, s);
}

static const struct printer_column SERVICE_ACCOUNT_COLUMNS[] = {
    COL_NAME,
    COL("Secrets", "string",
        "Secrets is a list of the secrets in the same namespace that pods running using this "
        "ServiceAccount are allowed to use."),
    COL_AGE,
    COL_END,
};

static void print_service_account(struct prow *row, const cJSON *sa)
{
    cell_name(row, sa);
    cell_int(row, pj_count(sa, "secrets"));
    cell_age(row, sa);
}

/* ---- ResourceQuota ---- */

static const struct printer_column RESOURCE_QUOTA_COLUMNS[] = {
    COL_NAME,
    COL_AGE,
    COL("Request", "string",
        "Request represents a minimum amount of cpu/memory that a container may consume."),
    COL("Limit", "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent "
        "of contention on the node."),
    COL_END,
};

/* "resource: used/hard" for each hard limit in name order; "limits.*" go to the LIMIT
 * column, everything else to REQUEST. */
static void print_resource_quota(struct prow *row, const cJSON *rq)
{
    struct strset names = {0};
    struct ck_buf req = CK_BUF_INIT, lim = CK_BUF_INIT;
    const cJSON *h, *hard = ck_json_get(rq, "status.hard");
    const cJSON *used = ck_json_get(rq, "status.used");
    if (cJSON_IsObject(hard)) {
        cJSON_ArrayForEach(h, hard)
        {
            strset_add(&names, h->string ? h->string : "");
        }
    }
    strset_sort(&names);
    for (size_t i = 0; i < names.n; i++) {
        const char *name = names.v[i];
        const char *dot = strchr(name, '.');
        struct ck_buf *w = (dot && dot - name == 6 && !strncmp(name, "limits", 6)) ? &lim : &req;
        CK_AUTOFREE char *u = fmt_quantity(ck_json_getv(used, name, NULL));
        CK_AUTOFREE char *hv = fmt_quantity(ck_json_getv(hard, name, NULL));
        if (w->len)
            ck_buf_puts(w, ", ");
        ck_buf_printf(w, "%s: %s/%s", name, u, hv);
    }
    strset_free(&names);
    cell_name(row, rq);
    cell_age(row, rq);
    cell_take(row, ck_buf_detach(&req));
    cell_take(row, ck_buf_detach(&lim));
}

/* ---- ComponentStatus ---- */

static const struct printer_column COMPONENT_STATUS_COLUMNS[] = {
    COL_NAME,
    COL("Status", "string", "Status of the component conditions"),
    COL("Message", "string", "Message of the component conditions"),
    COL("Error", "string", "Error of the component conditions"),
    COL_END,
};

static void print_component_status(struct prow *row, const cJSON *cs)
{
    const char *status = "Unknown", *message = "", *error = "";
    const cJSON *c, *arr = pj_array(cs, "conditions");
    if (arr) {
        cJSON_ArrayForEach(c, arr)
        {
            if (strcmp(pj_str(c, "type"), "Healthy"))
                continue;
            status = !strcmp(pj_str(c, "status"), "True") ? "Healthy" : "Unhealthy";
            message = pj_str(c, "message");
            error = pj_str(c, "error");
            break;
        }
    }
    cell_name(row, cs);
    cell_str(row, status);
    cell_str(row, message);
    cell_str(row, error);
}

const struct printer_kind printers_core_kinds[] = {
    {"", "Service", SERVICE_COLUMNS, print_service},
    {"", "Endpoints", ENDPOINTS_COLUMNS, print_endpoints},
    {"discovery.k8s.io", "EndpointSlice", ENDPOINT_SLICE_COLUMNS, print_endpoint_slice},
    {"", "Node", NODE_COLUMNS, print_node},
    {"", "Namespace", NAMESPACE_COLUMNS, print_namespace},
    {"", "Event", EVENT_COLUMNS, print_event},
    {"events.k8s.io", "Event", EVENT_COLUMNS, print_events_v1_event},
    {"", "ConfigMap", CONFIGMAP_COLUMNS, print_configmap},
    {"", "Secret", SECRET_COLUMNS, print_secret},
    {"", "ServiceAccount", SERVICE_ACCOUNT_COLUMNS, print_service_account},
    {"", "ResourceQuota", RESOURCE_QUOTA_COLUMNS, print_resource_quota},
    {"", "ComponentStatus", COMPONENT_STATUS_COLUMNS, print_component_status},
    {NULL, NULL, NULL, NULL},
};
