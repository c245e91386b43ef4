/* kubeconfig.c - kubeconfig loading and merging, in-cluster config (see kubeconfig.h). */
#include "kubeconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "encoding.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "yaml.h"

#define MAX_CONFIG_BYTES (16u << 20)

/* ---- rest config ---------------------------------------------------------------------------- */

void ck_rest_config_free(struct ck_rest_config *c)
{
    if (!c)
        return;
    free(c->host);
    free(c->namespace);
    free(c->context);
    free(c->ca_file);
    free(c->ca_data);
    free(c->cert_file);
    free(c->cert_data);
    free(c->key_file);
    free(c->key_data);
    free(c->token);
    free(c->token_file);
    free(c->username);
    free(c->password);
    free(c->tls_server_name);
    free(c);
}

static char *dup_or_null(const char *s)
{
    return s ? ck_xstrdup(s) : NULL;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    if (!p)
        return NULL;
    uint8_t *d = ck_xmalloc(n + 1);
    memcpy(d, p, n);
    d[n] = 0;
    return d;
}

struct ck_rest_config *ck_rest_config_dup(const struct ck_rest_config *c)
{
    if (!c)
        return NULL;
    struct ck_rest_config *d = ck_xcalloc(1, sizeof(*d));
    d->host = dup_or_null(c->host);
    d->namespace = dup_or_null(c->namespace);
    d->context = dup_or_null(c->context);
    d->ca_file = dup_or_null(c->ca_file);
    d->ca_data = dup_bytes(c->ca_data, c->ca_data_len);
    d->ca_data_len = c->ca_data_len;
    d->cert_file = dup_or_null(c->cert_file);
    d->cert_data = dup_bytes(c->cert_data, c->cert_data_len);
    d->cert_data_len = c->cert_data_len;
    d->key_file = dup_or_null(c->key_file);
    d->key_data = dup_bytes(c->key_data, c->key_data_len);
    d->key_data_len = c->key_data_len;
    d->token = dup_or_null(c->token);
    d->token_file = dup_or_null(c->token_file);
    d->username = dup_or_null(c->username);
    d->password = dup_or_null(c->password);
    d->tls_server_name = dup_or_null(c->tls_server_name);
    d->insecure = c->insecure;
    return d;
}

/* ---- files ---------------------------------------------------------------------------------- */

/* Reads a whole file (NUL-terminated); -errno on failure. */
static int read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    struct ck_buf b = CK_BUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.len + n > MAX_CONFIG_BYTES) {
            fclose(f);
            ck_buf_free(&b);
            return -EFBIG;
        }
        ck_buf_add(&b, chunk, n);
    }
    int rc = ferror(f) ? -EIO : 0;
    fclose(f);
    if (rc < 0) {
        ck_buf_free(&b);
        return rc;
    }
    if (len)
        *len = b.len;
    *data = ck_buf_detach(&b);
    return 0;
}

static int config_error(struct ck_error *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* strerror as Go spells syscall errors: lowercase ("no such file or directory") */
static const char *go_strerror(int e, char buf[128])
{
    snprintf(buf, 128, "%s", strerror(e));
    if (buf[0] >= 'A' && buf[0] <= 'Z')
        buf[0] = (char)(buf[0] - 'A' + 'a');
    return buf;
}

static int config_error(struct ck_error *err, int rc, const char *fmt, ...)
{
    if (err) {
        ck_error_clear(err);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Absolute directory of path (for resolving relative paths in it). Caller frees. */
static char *abs_dir(const char *path)
{
    char *abs;
    if (path[0] == '/') {
        abs = ck_xstrdup(path);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
            strcpy(cwd, "/");
        abs = ck_xasprintf("%s/%s", cwd, path);
    }
    char *slash = strrchr(abs, '/');
    if (slash == abs)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    return abs;
}

static void resolve_path(cJSON *obj, const char *field, const char *dir)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!cJSON_IsString(v) || !v->valuestring[0] || v->valuestring[0] == '/')
        return;
    char *p = ck_xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                           v->valuestring);
    cJSON_ReplaceItemInObjectCaseSensitive(obj, field, cJSON_CreateString(p));
    free(p);
}

struct section {
    const char *list;  /* key of the list in a file */
    const char *item;  /* key of the body in each entry */
    const char *map;   /* key of the merged map */
    const char *go_type; /* for upstream's duplicate-name message */
    const char *go_api;
};

static const struct section sections[] = {
    {"clusters", "cluster", "clusters", "NamedCluster", "Cluster"},
    {"users", "user", "users", "NamedAuthInfo", "AuthInfo"},
    {"contexts", "context", "contexts", "NamedContext", "Context"},
};

/* Merges one file into merged. A missing file is -ENOENT (the caller decides). */
static int merge_file(const char *path, cJSON *merged, struct ck_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc = read_file(path, &data, &len);
    if (rc < 0) {
        if (rc == -ENOENT)
            return rc;
        char eb[128];
        return config_error(err, rc, "error loading config file \"%s\": %s", path,
                            go_strerror(-rc, eb));
    }
    cJSON *doc = NULL;
    struct ck_error yerr = CK_ERROR_INIT;
    if (ck_yaml_parse(data, len, 0, &doc, &yerr) < 0) {
        free(data);
        rc = config_error(err, -EINVAL, "error loading config file \"%s\": %s", path,
                          yerr.message);
        ck_error_clear(&yerr);
        return rc;
    }
    free(data);
    if (cJSON_IsNull(doc)) { /* an empty file is an empty config */
        cJSON_Delete(doc);
        return 0;
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return config_error(err, -EINVAL,
                            "error loading config file \"%s\": couldn't get version/kind; json "
                            "parse error: json: cannot unmarshal into Go value of type struct",
                            path);
    }
    char *dir = abs_dir(path);
    rc = 0;
    for (size_t s = 0; s < CK_ARRAY_SIZE(sections) && rc == 0; s++) {
        const struct section *sec = &sections[s];
        cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, sec->list);
        if (!list || cJSON_IsNull(list))
            continue;
        if (!cJSON_IsArray(list)) {
            rc = config_error(err, -EINVAL,
                              "error loading config file \"%s\": json: cannot unmarshal %s into "
                              "Go struct field Config.%s of type []v1.%s",
                              path, cJSON_IsObject(list) ? "object" : "string", sec->list,
                              sec->go_type);
            break;
        }
        cJSON *map = ck_json_ensure_object(merged, sec->map);
        cJSON *seen = cJSON_CreateObject();
        cJSON *e;
        cJSON_ArrayForEach(e, list)
        {
            const char *name = ck_json_get_string(e, "name", "");
            if (cJSON_GetObjectItemCaseSensitive(seen, name)) {
                rc = config_error(err, -EINVAL,
                                  "error loading config file \"%s\": error converting *[]%s into "
                                  "*map[string]*api.%s: duplicate name \"%s\" in list",
                                  path, sec->go_type, sec->go_api, name);
                break;
            }
            cJSON_AddItemToObject(seen, name, cJSON_CreateTrue());
            if (cJSON_GetObjectItemCaseSensitive(map, name))
                continue; /* the first file to define a name wins, whole */
            cJSON *body = cJSON_GetObjectItemCaseSensitive(e, sec->item);
            body = cJSON_IsObject(body) ? ck_json_dup(body) : cJSON_CreateObject();
            if (!strcmp(sec->item, "cluster")) {
                resolve_path(body, "certificate-authority", dir);
            } else if (!strcmp(sec->item, "user")) {
                resolve_path(body, "client-certificate", dir);
                resolve_path(body, "client-key", dir);
                resolve_path(body, "tokenFile", dir);
            }
            cJSON_AddItemToObject(map, name, body);
        }
        cJSON_Delete(seen);
    }
    const char *cur = ck_json_get_string(doc, "current-context", "");
    if (rc == 0 && cur[0] && !ck_json_get_string(merged, "current-context", "")[0])
        ck_json_set_string(merged, "current-context", cur);
    free(dir);
    cJSON_Delete(doc);
    return rc;
}

int ck_kubeconfig_load_merged(const struct ck_kubeconfig_opts *opts, cJSON **out,
                              struct ck_error *err)
{
    *out = NULL;
    cJSON *merged = cJSON_CreateObject();
    cJSON_AddItemToObject(merged, "clusters", cJSON_CreateObject());
    cJSON_AddItemToObject(merged, "users", cJSON_CreateObject());
    cJSON_AddItemToObject(merged, "contexts", cJSON_CreateObject());
    int rc = 0;
    if (opts && opts->explicit_path && opts->explicit_path[0]) {
        struct stat st;
        char eb[128];
        if (stat(opts->explicit_path, &st) < 0) {
            int e = errno;
            rc = config_error(err, -e, "stat %s: %s", opts->explicit_path, go_strerror(e, eb));
        } else {
            rc = merge_file(opts->explicit_path, merged, err);
            if (rc == -ENOENT)
                rc = config_error(err, rc, "stat %s: %s", opts->explicit_path, go_strerror(ENOENT, eb));
        }
    } else if (opts && opts->use_env) {
        const char *env = getenv("KUBECONFIG");
        if (env && env[0]) {
            char *list = ck_xstrdup(env);
            cJSON *done = cJSON_CreateObject(); /* each path once */
            char *save = NULL;
            for (char *p = strtok_r(list, ":", &save); p && rc == 0;
                 p = strtok_r(NULL, ":", &save)) {
                if (!p[0] || cJSON_GetObjectItemCaseSensitive(done, p))
                    continue;
                cJSON_AddItemToObject(done, p, cJSON_CreateTrue());
                rc = merge_file(p, merged, err);
                if (rc == -ENOENT)
                    rc = 0; /* missing files in the list are ignored */
            }
            cJSON_Delete(done);
            free(list);
        } else {
            const char *home = getenv("HOME");
            if (home && home[0]) {
                char *p = ck_xasprintf("%s/.kube/config", home);
                rc = merge_file(p, merged, err);
                if (rc == -ENOENT)
                    rc = 0;
                free(p);
            }
        }
    }
    if (rc < 0) {
        cJSON_Delete(merged);
        return rc;
    }
    *out = merged;
    return 0;
}

/* ---- resolving a context ------------------------------------------------------------------ */

struct errlist {
    char *msgs[8];
    size_t n;
};

static void errlist_add(struct errlist *l, char *msg)
{
    if (l->n < CK_ARRAY_SIZE(l->msgs))
        l->msgs[l->n++] = msg;
    else
        free(msg);
}

/* "invalid configuration: <one>" or "invalid configuration: [a, b]" (utilerrors.Aggregate) */
static int errlist_report(struct errlist *l, struct ck_error *err)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "invalid configuration: ");
    if (l->n > 1)
        ck_buf_putc(&b, '[');
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            ck_buf_puts(&b, ", ");
        ck_buf_puts(&b, l->msgs[i]);
        free(l->msgs[i]);
    }
    if (l->n > 1)
        ck_buf_putc(&b, ']');
    int rc = config_error(err, -EINVAL, "%s", b.data);
    ck_buf_free(&b);
    l->n = 0;
    return rc;
}

static bool readable(const char *path, char **why)
{
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        return true;
    }
    char eb[128];
    *why = ck_xasprintf("open %s: %s", path, go_strerror(errno, eb));
    return false;
}

static const char *str(const cJSON *obj, const char *field)
{
    const char *s = ck_json_get_string(obj, field, NULL);
    return s && s[0] ? s : NULL;
}

static void validate_user(const char *name, const cJSON *u, struct errlist *errs)
{
    const char *cert = str(u, "client-certificate"), *cert_data = str(u, "client-certificate-data");
    const char *key = str(u, "client-key"), *key_data = str(u, "client-key-data");
    char *why;
    if (cert || cert_data) {
        if (cert && cert_data)
            errlist_add(errs, ck_xasprintf("client-cert-data and client-cert are both specified "
                                           "for %s. client-cert-data will override.",
                                           name));
        if (key && key_data)
            errlist_add(errs, ck_xasprintf("client-key-data and client-key are both specified "
                                           "for %s; client-key-data will override",
                                           name));
        if (!key && !key_data)
            errlist_add(errs, ck_xasprintf("client-key-data or client-key must be specified for "
                                           "%s to use the clientCert authentication method.",
                                           name));
        if (cert && !readable(cert, &why)) {
            errlist_add(errs, ck_xasprintf("unable to read client-cert %s for %s due to %s", cert,
                                           name, why));
            free(why);
        }
        if (key && !readable(key, &why)) {
            errlist_add(errs, ck_xasprintf("unable to read client-key %s for %s due to %s", key,
                                           name, why));
            free(why);
        }
    }
}

/* decodes a *-data field (base64 in the file) */
static int take_data(const cJSON *obj, const char *field, uint8_t **out, size_t *len,
                     struct errlist *errs)
{
    const char *s = str(obj, field);
    if (!s)
        return 0;
    size_t off = 0;
    if (ck_base64_decode(s, strlen(s), out, &off) < 0) {
        errlist_add(errs, ck_xasprintf("%s: illegal base64 data at input byte %zu", field, off));
        return -EINVAL;
    }
    *len = off;
    return 0;
}

static char *trim_dup(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return ck_xstrndup(s, n);
}

/* rest.DefaultServerURL: a host without scheme gets https:// when TLS is configured, else
 * http:// */
static char *normalize_host(const char *server, bool tls)
{
    if (strstr(server, "://"))
        return ck_xstrdup(server);
    return ck_xasprintf("%s%s", tls ? "https://" : "http://", server);
}

int ck_kubeconfig_load(const struct ck_kubeconfig_opts *opts, struct ck_rest_config **out,
                       struct ck_error *err)
{
    *out = NULL;
    struct ck_kubeconfig_opts none = {0};
    if (!opts)
        opts = &none;
    cJSON *cfg = NULL;
    int rc = ck_kubeconfig_load_merged(opts, &cfg, err);
    if (rc < 0)
        return rc;
    struct errlist errs = {0};
    const char *ctx_name = opts->context && opts->context[0]
                               ? opts->context
                               : ck_json_get_string(cfg, "current-context", "");
    const cJSON *ctx = ctx_name[0] ? ck_json_getv(cfg, "contexts", ctx_name, NULL) : NULL;
    if (ctx_name[0] && !ctx)
        errlist_add(&errs, ck_xasprintf("context was not found for specified context: %s",
                                        ctx_name));
    const char *cluster_name = opts->cluster && opts->cluster[0] ? opts->cluster
                                                                 : ck_json_get_string(ctx, "cluster", "");
    const char *user_name =
        opts->user && opts->user[0] ? opts->user : ck_json_get_string(ctx, "user", "");
    const cJSON *cluster = cluster_name[0] ? ck_json_getv(cfg, "clusters", cluster_name, NULL)
                                           : NULL;
    const cJSON *user = user_name[0] ? ck_json_getv(cfg, "users", user_name, NULL) : NULL;
    const char *server = opts->master && opts->master[0] ? opts->master : str(cluster, "server");

    validate_user(user_name, user, &errs);
    bool empty_cluster = !server && (!cluster || !cluster->child);
    if (empty_cluster) {
        /* "cluster has no server defined" alone means: no configuration at all */
        if (errs.n == 0) {
            errlist_add(&errs, ck_xstrdup("no configuration has been provided, try setting "
                                          "KUBERNETES_MASTER environment variable"));
        } else {
            errlist_add(&errs, ck_xstrdup("cluster has no server defined"));
        }
    } else if (!server) {
        errlist_add(&errs, cluster_name[0]
                               ? ck_xasprintf("no server found for cluster \"%s\"", cluster_name)
                               : ck_xstrdup("default cluster has no server defined"));
    }
    const char *ca = str(cluster, "certificate-authority");
    char *why;
    if (ca && !readable(ca, &why)) {
        errlist_add(&errs, ck_xasprintf("unable to read certificate-authority %s for %s due to %s",
                                        ca, cluster_name, why));
        free(why);
    }
    struct ck_rest_config *c = ck_xcalloc(1, sizeof(*c));
    take_data(cluster, "certificate-authority-data", &c->ca_data, &c->ca_data_len, &errs);
    take_data(user, "client-certificate-data", &c->cert_data, &c->cert_data_len, &errs);
    take_data(user, "client-key-data", &c->key_data, &c->key_data_len, &errs);
    if (errs.n) {
        ck_rest_config_free(c);
        cJSON_Delete(cfg);
        return errlist_report(&errs, err);
    }
    c->ca_file = dup_or_null(ca);
    c->insecure = ck_json_get_bool(cluster, "insecure-skip-tls-verify", false);
    c->tls_server_name = dup_or_null(str(cluster, "tls-server-name"));
    c->cert_file = dup_or_null(str(user, "client-certificate"));
    c->key_file = dup_or_null(str(user, "client-key"));
    c->username = dup_or_null(str(user, "username"));
    c->password = dup_or_null(str(user, "password"));
    const char *token = str(user, "token"), *token_file = str(user, "tokenFile");
    if (token) {
        c->token = ck_xstrdup(token);
        c->token_file = dup_or_null(token_file);
    } else if (token_file) {
        char *data = NULL;
        rc = read_file(token_file, &data, NULL);
        if (rc < 0) {
            char eb[128];
            config_error(err, rc, "open %s: %s", token_file, go_strerror(-rc, eb));
            ck_rest_config_free(c);
            cJSON_Delete(cfg);
            return rc;
        }
        c->token = trim_dup(data);
        free(data);
        c->token_file = ck_xstrdup(token_file);
    }
    bool tls = c->ca_file || c->ca_data || c->cert_file || c->cert_data || c->insecure;
    c->host = normalize_host(server, tls);
    c->context = ctx_name[0] ? ck_xstrdup(ctx_name) : NULL;
    const char *ns = opts->namespace && opts->namespace[0] ? opts->namespace
                                                           : str(ctx, "namespace");
    c->namespace = ck_xstrdup(ns ? ns : "default");
    cJSON_Delete(cfg);
    *out = c;
    return 0;
}

/* ---- in-cluster ----------------------------------------------------------------------------- */

int ck_rest_config_in_cluster(const char *sa_dir, struct ck_rest_config **out,
                              struct ck_error *err)
{
    *out = NULL;
    if (!sa_dir)
        sa_dir = CK_SERVICEACCOUNT_DIR;
    const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !host[0] || !port || !port[0])
        return config_error(err, -ENOENT,
                            "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
                            "KUBERNETES_SERVICE_PORT must be defined");
    char *token_file = ck_xasprintf("%s/token", sa_dir);
    char *token = NULL;
    int rc = read_file(token_file, &token, NULL);
    if (rc < 0) {
        char eb[128];
        config_error(err, rc, "open %s: %s", token_file, go_strerror(-rc, eb));
        free(token_file);
        return rc;
    }
    struct ck_rest_config *c = ck_xcalloc(1, sizeof(*c));
    c->host = strchr(host, ':') ? ck_xasprintf("https://[%s]:%s", host, port)
                                : ck_xasprintf("https://%s:%s", host, port);
    c->token = trim_dup(token);
    free(token);
    c->token_file = token_file;
    char *ca = ck_xasprintf("%s/ca.crt", sa_dir);
    char *ca_data = NULL;
    if (read_file(ca, &ca_data, NULL) == 0 && strstr(ca_data, "-----BEGIN CERTIFICATE-----")) {
        c->ca_file = ca;
    } else {
        ck_err("Expected to load root CA config from %s, but got err: %s", ca,
               ca_data ? "data does not contain any valid RSA or ECDSA certificates"
                       : "no such file or directory");
        free(ca);
    }
    free(ca_data);
    const char *ns = getenv("POD_NAMESPACE");
    char *nsfile = ck_xasprintf("%s/namespace", sa_dir), *nsdata = NULL;
    if (ns && ns[0]) {
        c->namespace = ck_xstrdup(ns);
    } else if (read_file(nsfile, &nsdata, NULL) == 0) {
        c->namespace = trim_dup(nsdata);
        if (!c->namespace[0]) {
            free(c->namespace);
            c->namespace = ck_xstrdup("default");
        }
    } else {
        c->namespace = ck_xstrdup("default");
    }
    free(nsdata);
    free(nsfile);
    *out = c;
    return 0;
}

int ck_rest_config_from_flags(const char *master, const char *kubeconfig,
                              struct ck_rest_config **out, struct ck_error *err)
{
    bool no_master = !master || !master[0], no_kubeconfig = !kubeconfig || !kubeconfig[0];
    if (no_master && no_kubeconfig) {
        ck_warn("Neither --kubeconfig nor --master was specified.  Using the inClusterConfig.  "
                "This might not work.");
        struct ck_error ierr = CK_ERROR_INIT;
        if (ck_rest_config_in_cluster(NULL, out, &ierr) == 0)
            return 0;
        ck_warn("error creating inClusterConfig, falling back to default config: %s",
                ierr.message);
        ck_error_clear(&ierr);
    }
    struct ck_kubeconfig_opts o = {.explicit_path = kubeconfig, .master = master};
    return ck_kubeconfig_load(&o, out, err);
}
