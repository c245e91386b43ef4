/* probes.c - container probes and lifecycle hooks (see probes.h). */
#include "kubelet/probes.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "kubelet/podworker.h"
#include "log.h"
#include "mem.h"
#include "timeutil.h"

/* ---- actions ------------------------------------------------------------------------------------
 */

int kl_probe_port(const cJSON *port, const cJSON *container)
{
    if (cJSON_IsNumber(port)) {
        int64_t v = ck_json_as_int64(port, -1);
        return v > 0 && v < 65536 ? (int)v : -1;
    }
    if (!cJSON_IsString(port))
        return -1;
    const char *s = port->valuestring;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (s[0] && end && !*end)
        return v > 0 && v < 65536 ? (int)v : -1;
    const cJSON *p;
    cJSON_ArrayForEach(p, ck_json_getv(container, "ports", NULL))
    {
        if (!strcmp(ck_json_get_string(p, "name", ""), s))
            return (int)ck_json_get_int64(p, "containerPort", -1);
    }
    return -1;
}

static size_t discard(char *ptr, size_t size, size_t n, void *ud)
{
    (void)ptr;
    struct ck_buf *b = ud;
    size_t len = size * n;
    if (b && b->len < 10240)
        ck_buf_add(b, ptr, len < 10240 - b->len ? len : 10240 - b->len);
    return len;
}

enum kl_probe_result kl_probe_http(const cJSON *action, const cJSON *container, const char *host,
                                   int timeout_ms, char *output, size_t size)
{
    output[0] = '\0';
    int port = kl_probe_port(ck_json_getv(action, "port", NULL), container);
    if (port < 0) {
        snprintf(output, size, "invalid port");
        return KL_PROBE_FAILURE;
    }
    const char *h = ck_json_get_string(action, "host", "");
    if (!h[0])
        h = host ? host : "";
    const char *scheme = ck_json_get_string(action, "scheme", "HTTP");
    const char *path = ck_json_get_string(action, "path", "/");
    bool v6 = strchr(h, ':') != NULL;
    CK_AUTOFREE char *url =
        ck_xasprintf("%s://%s%s%s:%d%s%s", !strcmp(scheme, "HTTPS") ? "https" : "http",
                     v6 ? "[" : "", h, v6 ? "]" : "", port, path[0] == '/' ? "" : "/", path);
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(output, size, "cannot create an HTTP client");
        return KL_PROBE_UNKNOWN;
    }
    struct curl_slist *hdrs = NULL;
    bool ua = false, accept = false;
    const cJSON *hd;
    cJSON_ArrayForEach(hd, ck_json_getv(action, "httpHeaders", NULL))
    {
        const char *n = ck_json_get_string(hd, "name", "");
        if (!strcasecmp(n, "User-Agent"))
            ua = true;
        if (!strcasecmp(n, "Accept"))
            accept = true;
        CK_AUTOFREE char *line = ck_xasprintf("%s: %s", n, ck_json_get_string(hd, "value", ""));
        hdrs = curl_slist_append(hdrs, line);
    }
    if (!ua)
        hdrs = curl_slist_append(hdrs, "User-Agent: kube-probe/1.32");
    if (!accept)
        hdrs = curl_slist_append(hdrs, "Accept: */*");
    struct ck_buf body = CK_BUF_INIT;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    enum kl_probe_result res = KL_PROBE_SUCCESS;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(output, size,
                 "Get \"%s\": context deadline exceeded (Client.Timeout exceeded while awaiting "
                 "headers)",
                 url);
        res = KL_PROBE_FAILURE;
    } else if (rc != CURLE_OK) {
        snprintf(output, size, "Get \"%s\": dial tcp %s:%d: connect: %s", url, h, port,
                 rc == CURLE_COULDNT_CONNECT ? "connection refused" : curl_easy_strerror(rc));
        res = KL_PROBE_FAILURE;
    } else if (code < 200 || code >= 400) {
        snprintf(output, size, "HTTP probe failed with statuscode: %ld", code);
        res = KL_PROBE_FAILURE;
    }
    ck_buf_free(&body);
    return res;
}

enum kl_probe_result kl_probe_tcp(const cJSON *action, const cJSON *container, const char *host,
                                  int timeout_ms, char *output, size_t size)
{
    output[0] = '\0';
    int port = kl_probe_port(ck_json_getv(action, "port", NULL), container);
    const char *h = ck_json_get_string(action, "host", "");
    if (!h[0])
        h = host ? host : "";
    if (port < 0) {
        snprintf(output, size, "invalid port");
        return KL_PROBE_FAILURE;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    if (getaddrinfo(h, ps, &hints, &ai) != 0 || !ai) {
        snprintf(output, size, "dial tcp: lookup %s: no such host", h);
        return KL_PROBE_FAILURE;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    enum kl_probe_result res = KL_PROBE_FAILURE;
    if (fd >= 0) {
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            rc = poll(&pfd, 1, timeout_ms);
            if (rc == 0) {
                snprintf(output, size, "dial tcp %s:%d: i/o timeout", h, port);
                rc = -1;
                errno = 0;
            } else if (rc > 0) {
                int e = 0;
                socklen_t l = sizeof(e);
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
                rc = e ? -1 : 0;
                errno = e;
            }
        }
        if (rc == 0)
            res = KL_PROBE_SUCCESS;
        else if (errno)
            snprintf(output, size, "dial tcp %s:%d: connect: %s", h, port,
                     errno == ECONNREFUSED ? "connection refused" : strerror(errno));
        close(fd);
    }
    freeaddrinfo(ai);
    return res;
}

/* runs argv in the container; output (at most 10 KiB) into out */
static int exec_capture(struct kl_kubelet *k, const struct kl_container *c, const cJSON *cmd,
                        int timeout_ms, int *code, struct ck_buf *out, struct ck_error *err)
{
    size_t n = (size_t)cJSON_GetArraySize(cmd);
    if (n == 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "no command specified");
    const char **argv = ck_xcalloc(n + 1, sizeof(*argv));
    size_t i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, cmd)
    {
        argv[i++] = ck_json_as_string(a, "");
    }
    char tmpl[] = "/tmp/ckube-kubelet-exec-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        free(argv);
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "cannot capture output: %s",
                            strerror(errno));
    }
    unlink(tmpl);
    int rc = kl_container_exec(k->rt, c, argv, -1, fd, fd, timeout_ms, code, err);
    free(argv);
    lseek(fd, 0, SEEK_SET);
    char buf[4096];
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0 && out->len < 10240)
        ck_buf_add(out, buf, (size_t)r);
    close(fd);
    return rc;
}

static void join_cmd(struct ck_buf *b, const cJSON *cmd)
{
    ck_buf_putc(b, '[');
    const cJSON *a;
    bool first = true;
    cJSON_ArrayForEach(a, cmd)
    {
        if (!first)
            ck_buf_putc(b, ' ');
        ck_buf_puts(b, ck_json_as_string(a, ""));
        first = false;
    }
    ck_buf_putc(b, ']');
}

static const cJSON *container_spec(const cJSON *pod, const char *name)
{
    static const char *const lists[] = {"spec.containers", "spec.initContainers"};
    for (size_t l = 0; l < 2; l++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, ck_json_get(pod, lists[l]))
        {
            if (!strcmp(ck_json_get_string(c, "name", ""), name))
                return c;
        }
    }
    return NULL;
}

static const char *pod_ip_of(const cJSON *pod, struct kl_kubelet *k, const char *uid)
{
    (void)k;
    (void)uid;
    return ck_json_get_string(pod, "status.podIP", "");
}

int kl_run_hook(struct kl_kubelet *k, const cJSON *pod, const struct kl_container *c,
                const cJSON *handler, int64_t timeout_s, const char *kind, char *msg)
{
    if (msg)
        msg[0] = '\0';
    int timeout_ms = timeout_s > 0 && timeout_s < 86400 ? (int)(timeout_s * 1000) : 0;
    const cJSON *ex = ck_json_getv(handler, "exec", NULL);
    const cJSON *hg = ck_json_getv(handler, "httpGet", NULL);
    const cJSON *sl = ck_json_getv(handler, "sleep", NULL);
    if (ex) {
        struct ck_buf out = CK_BUF_INIT;
        struct ck_error err = CK_ERROR_INIT;
        int code = 0;
        int rc =
            exec_capture(k, c, ck_json_getv(ex, "command", NULL), timeout_ms, &code, &out, &err);
        if (rc == 0 && code == 0) {
            ck_buf_free(&out);
            return 0;
        }
        if (msg) {
            struct ck_buf cmd = CK_BUF_INIT;
            join_cmd(&cmd, ck_json_getv(ex, "command", NULL));
            ck_snprintf(
                msg, 512,
                "Exec lifecycle hook (%s) for Container \"%s\" in Pod \"%s_%s(%s)\" failed - "
                "error: command '%s' exited with %d: %s, message: \"%s\"",
                ck_buf_str(&cmd), c->name, ck_json_get_string(pod, "metadata.name", ""),
                ck_json_get_string(pod, "metadata.namespace", ""),
                ck_json_get_string(pod, "metadata.uid", ""), ck_buf_str(&cmd), code,
                rc < 0 ? err.message : "", ck_buf_str(&out));
            ck_buf_free(&cmd);
        }
        ck_vinfo(2, "%s hook failed for container %s: exit %d", kind, c->name, code);
        ck_error_clear(&err);
        ck_buf_free(&out);
        return rc < 0 ? rc : -EIO;
    }
    if (hg) {
        char out[256];
        const cJSON *spec = container_spec(pod, c->name);
        if (kl_probe_http(hg, spec, pod_ip_of(pod, k, NULL), timeout_ms ? timeout_ms : 30000, out,
                          sizeof(out)) == KL_PROBE_SUCCESS)
            return 0;
        if (msg)
            ck_snprintf(
                msg, 512,
                "HTTP lifecycle hook (%s) for Container \"%s\" in Pod \"%s_%s(%s)\" failed - "
                "error: %s",
                ck_json_get_string(hg, "path", "/"), c->name,
                ck_json_get_string(pod, "metadata.name", ""),
                ck_json_get_string(pod, "metadata.namespace", ""),
                ck_json_get_string(pod, "metadata.uid", ""), out);
        return -EIO;
    }
    if (sl) {
        int64_t s = ck_json_get_int64(sl, "seconds", 0);
        if (timeout_s > 0 && s > timeout_s)
            s = timeout_s;
        if (s > 0)
            (void)ck_cancel_sleep(k->stop, s * CK_SECOND);
        return 0;
    }
    return 0;
}

/* ---- probe workers ------------------------------------------------------------------------------
 */

enum probe_kind { PROBE_LIVENESS, PROBE_READINESS, PROBE_STARTUP };
static const char *const KIND_NAMES[] = {"Liveness", "Readiness", "Startup"};
static const char *const KIND_FIELDS[] = {"livenessProbe", "readinessProbe", "startupProbe"};

struct probe_worker {
    struct kl_prober *pr;
    char *uid, *container, *container_id;
    enum probe_kind kind;
    cJSON *probe; /* the probe spec (owned) */
    cJSON *spec;  /* the container spec (owned) */
    cJSON *pod;   /* name, namespace, uid (owned) */
    char pod_ip[64];
    struct kl_container *ctr; /* loaded from the runtime (exec) */
    struct timespec started_at;
    bool stop; /* guarded by pr->lock */
    struct probe_worker *next;
};

struct kl_prober {
    struct kl_kubelet *k;
    pthread_mutex_t lock; /* guards workers, running, each worker's stop */
    pthread_cond_t cond;
    struct probe_worker *workers;
    int running;
    bool closed; /* no new workers */
};

int kl_prober_start(struct kl_kubelet *k)
{
    struct kl_prober *pr = ck_xcalloc(1, sizeof(*pr));
    pr->k = k;
    pthread_mutex_init(&pr->lock, NULL);
    pthread_cond_init(&pr->cond, NULL);
    k->prober = pr;
    return 0;
}

static void worker_free(struct probe_worker *w)
{
    free(w->uid);
    free(w->container);
    free(w->container_id);
    cJSON_Delete(w->probe);
    cJSON_Delete(w->spec);
    cJSON_Delete(w->pod);
    kl_container_free(w->ctr);
    free(w);
}

static bool worker_stopped(struct probe_worker *w)
{
    pthread_mutex_lock(&w->pr->lock);
    bool s = w->stop || ck_cancel_fired(w->pr->k->stop);
    pthread_mutex_unlock(&w->pr->lock);
    return s;
}

static enum kl_probe_result run_probe(struct probe_worker *w, char *out, size_t size)
{
    int timeout_s = (int)ck_json_get_int64(w->probe, "timeoutSeconds", 1);
    if (timeout_s <= 0)
        timeout_s = 1;
    const cJSON *a;
    out[0] = '\0';
    if ((a = ck_json_getv(w->probe, "exec", NULL))) {
        if (!w->ctr && kl_container_get(w->pr->k->rt, w->container_id, &w->ctr) < 0)
            return KL_PROBE_UNKNOWN;
        struct ck_buf o = CK_BUF_INIT;
        struct ck_error err = CK_ERROR_INIT;
        int code = 0;
        int rc = exec_capture(w->pr->k, w->ctr, ck_json_getv(a, "command", NULL), timeout_s * 1000,
                              &code, &o, &err);
        enum kl_probe_result res = KL_PROBE_SUCCESS;
        if (rc == -ETIMEDOUT) {
            struct ck_buf cmd = CK_BUF_INIT;
            join_cmd(&cmd, ck_json_getv(a, "command", NULL));
            snprintf(out, size, "command \"%s\" timed out", ck_buf_str(&cmd));
            ck_buf_free(&cmd);
            res = KL_PROBE_FAILURE;
        } else if (rc < 0) {
            ck_strlcpy(out, err.message, size);
            res = KL_PROBE_UNKNOWN;
        } else if (code != 0) {
            ck_strlcpy(out, ck_buf_str(&o), size);
            res = KL_PROBE_FAILURE;
        }
        ck_error_clear(&err);
        ck_buf_free(&o);
        return res;
    }
    if ((a = ck_json_getv(w->probe, "httpGet", NULL)))
        return kl_probe_http(a, w->spec, w->pod_ip, timeout_s * 1000, out, size);
    if ((a = ck_json_getv(w->probe, "tcpSocket", NULL)))
        return kl_probe_tcp(a, w->spec, w->pod_ip, timeout_s * 1000, out, size);
    return KL_PROBE_SUCCESS; /* gRPC and unknown handlers are not run */
}

/* writes a result into the pod's slot; true when the pod must sync */
static bool publish(struct probe_worker *w, bool value)
{
    struct kl_pods *ps = w->pr->k->pods;
    bool changed = false;
    if (!ps)
        return false;
    pthread_mutex_lock(&ps->lock);
    struct kl_pod *p = ck_strmap_get(&ps->map, w->uid);
    for (size_t i = 0; p && i < p->n_slots; i++) {
        struct kl_slot *s = &p->slots[i];
        if (strcmp(s->name, w->container) != 0)
            continue;
        if (strcmp(s->probe.container_id, w->container_id) != 0) {
            memset(&s->probe, 0, sizeof(s->probe));
            ck_strlcpy(s->probe.container_id, w->container_id, sizeof(s->probe.container_id));
        }
        switch (w->kind) {
        case PROBE_READINESS:
            changed = s->probe.ready != value;
            s->probe.ready = value;
            break;
        case PROBE_STARTUP:
            changed = s->probe.started != value;
            s->probe.started = value;
            if (!value) {
                s->probe.liveness_failed = true;
                snprintf(s->probe.liveness_message, sizeof(s->probe.liveness_message),
                         "Container %s failed startup probe, will be restarted", w->container);
                changed = true;
            }
            break;
        case PROBE_LIVENESS:
            if (!value) {
                s->probe.liveness_failed = true;
                snprintf(s->probe.liveness_message, sizeof(s->probe.liveness_message),
                         "Container %s failed liveness probe, will be restarted", w->container);
                changed = true;
            }
            break;
        }
    }
    pthread_mutex_unlock(&ps->lock);
    return changed;
}

static bool startup_done(struct probe_worker *w)
{
    struct kl_pods *ps = w->pr->k->pods;
    if (!ck_json_getv(w->spec, "startupProbe", NULL) || w->kind == PROBE_STARTUP)
        return true;
    bool done = false;
    pthread_mutex_lock(&ps->lock);
    struct kl_pod *p = ck_strmap_get(&ps->map, w->uid);
    for (size_t i = 0; p && i < p->n_slots; i++)
        if (!strcmp(p->slots[i].name, w->container) &&
            !strcmp(p->slots[i].probe.container_id, w->container_id))
            done = p->slots[i].probe.started;
    pthread_mutex_unlock(&ps->lock);
    return done;
}

static void unhealthy_event(struct probe_worker *w, const char *out)
{
    kl_pod_event(w->pr->k, w->pod, w->container, false, CK_EVENT_WARNING, "Unhealthy",
                 "%s probe failed: %s", KIND_NAMES[w->kind], out);
}

static void *probe_thread(void *arg)
{
    struct probe_worker *w = arg;
    struct kl_kubelet *k = w->pr->k;
    int64_t period = ck_json_get_int64(w->probe, "periodSeconds", 10);
    if (period <= 0)
        period = 10;
    int64_t initial = ck_json_get_int64(w->probe, "initialDelaySeconds", 0);
    int success_th = (int)ck_json_get_int64(w->probe, "successThreshold", 1);
    int failure_th = (int)ck_json_get_int64(w->probe, "failureThreshold", 3);
    if (success_th <= 0)
        success_th = 1;
    if (failure_th <= 0)
        failure_th = 3;
    int successes = 0, failures = 0;
    bool have_result = false, last = false, done = false;
    while (!worker_stopped(w) && !done) {
        struct timespec now;
        ck_time_now(&now);
        bool due = ck_time_sub_ns(&now, &w->started_at) >= initial * CK_SECOND;
        if (due && startup_done(w)) {
            char out[512];
            enum kl_probe_result r = run_probe(w, out, sizeof(out));
            if (worker_stopped(w))
                break;
            if (r == KL_PROBE_SUCCESS) {
                successes++;
                failures = 0;
            } else if (r == KL_PROBE_FAILURE) {
                failures++;
                successes = 0;
                unhealthy_event(w, out);
            }
            bool value = last;
            if (successes >= success_th)
                value = true;
            else if (failures >= failure_th)
                value = false;
            bool flip = !have_result || value != last;
            if (r != KL_PROBE_UNKNOWN && flip &&
                (successes >= success_th || failures >= failure_th)) {
                have_result = true;
                last = value;
                if (publish(w, value))
                    kl_pods_enqueue(k, w->uid);
                if (!value && w->kind != PROBE_READINESS) {
                    /* the container restarts; this worker's job ends with it */
                    done = true;
                }
                if (value && w->kind == PROBE_STARTUP)
                    done = true; /* startup probes stop after their first success */
            }
        }
        if (!done)
            (void)ck_cancel_sleep(k->stop, (due ? period : 1) * CK_SECOND);
    }
    pthread_mutex_lock(&w->pr->lock);
    /* unlink if still listed */
    for (struct probe_worker **pp = &w->pr->workers; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    w->pr->running--;
    pthread_cond_broadcast(&w->pr->cond);
    pthread_mutex_unlock(&w->pr->lock);
    worker_free(w);
    return NULL;
}

void kl_prober_sync_pod(struct kl_kubelet *k, struct kl_pod *p, const cJSON *pod)
{
    struct kl_prober *pr = k->prober;
    if (!pr)
        return;
    const char *ip = p->n_ips ? p->ips[0] : "";
    pthread_mutex_lock(&pr->lock);
    if (pr->closed) {
        pthread_mutex_unlock(&pr->lock);
        return;
    }
    /* stop workers of containers that no longer run */
    for (struct probe_worker *w = pr->workers; w; w = w->next) {
        if (strcmp(w->uid, p->uid) != 0 || w->stop)
            continue;
        bool keep = false;
        for (size_t i = 0; i < p->n_slots && !keep; i++) {
            struct kl_slot *s = &p->slots[i];
            keep = !strcmp(s->name, w->container) && s->cur &&
                   s->cur->st.status == KL_CONTAINER_RUNNING &&
                   !strcmp(s->cur->c->id, w->container_id);
        }
        if (!keep)
            w->stop = true;
    }
    for (size_t i = 0; i < p->n_slots; i++) {
        struct kl_slot *s = &p->slots[i];
        if (!s->cur || s->cur->st.status != KL_CONTAINER_RUNNING)
            continue;
        const cJSON *spec = container_spec(pod, s->name);
        for (int kind = 0; kind < 3; kind++) {
            const cJSON *probe = ck_json_getv(spec, KIND_FIELDS[kind], NULL);
            if (!probe)
                continue;
            bool exists = false;
            for (struct probe_worker *w = pr->workers; w && !exists; w = w->next)
                exists = !strcmp(w->uid, p->uid) && !strcmp(w->container, s->name) &&
                         (int)w->kind == kind && !strcmp(w->container_id, s->cur->c->id);
            if (exists)
                continue;
            struct probe_worker *w = ck_xcalloc(1, sizeof(*w));
            w->pr = pr;
            w->uid = ck_xstrdup(p->uid);
            w->container = ck_xstrdup(s->name);
            w->container_id = ck_xstrdup(s->cur->c->id);
            w->kind = (enum probe_kind)kind;
            w->probe = ck_json_dup(probe);
            w->spec = ck_json_dup(spec);
            w->pod = cJSON_CreateObject();
            cJSON_AddStringToObject(w->pod, "apiVersion", "v1");
            cJSON_AddStringToObject(w->pod, "kind", "Pod");
            cJSON *md = cJSON_AddObjectToObject(w->pod, "metadata");
            cJSON_AddStringToObject(md, "name", p->name);
            cJSON_AddStringToObject(md, "namespace", p->ns);
            cJSON_AddStringToObject(md, "uid", p->uid);
            ck_strlcpy(w->pod_ip, ip, sizeof(w->pod_ip));
            w->started_at = s->cur->st.started_at;
            pthread_t t;
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            w->next = pr->workers;
            pr->workers = w;
            pr->running++;
            if (pthread_create(&t, &attr, probe_thread, w) != 0) {
                pr->workers = w->next;
                pr->running--;
                worker_free(w);
            }
            pthread_attr_destroy(&attr);
        }
    }
    pthread_mutex_unlock(&pr->lock);
}

void kl_prober_forget_pod(struct kl_kubelet *k, const char *uid)
{
    struct kl_prober *pr = k->prober;
    if (!pr)
        return;
    pthread_mutex_lock(&pr->lock);
    for (struct probe_worker *w = pr->workers; w; w = w->next)
        if (!strcmp(w->uid, uid))
            w->stop = true;
    pthread_mutex_unlock(&pr->lock);
}

void kl_prober_stop(struct kl_kubelet *k)
{
    struct kl_prober *pr = k->prober;
    if (!pr)
        return;
    pthread_mutex_lock(&pr->lock);
    pr->closed = true;
    for (struct probe_worker *w = pr->workers; w; w = w->next)
        w->stop = true;
    while (pr->running > 0)
        pthread_cond_wait(&pr->cond, &pr->lock);
    pthread_mutex_unlock(&pr->lock);
}

void kl_prober_free(struct kl_kubelet *k)
{
    struct kl_prober *pr = k->prober;
    if (!pr)
        return;
    kl_prober_stop(k);
    pthread_cond_destroy(&pr->cond);
    pthread_mutex_destroy(&pr->lock);
    free(pr);
    k->prober = NULL;
}
