/* config.c - KubeSchedulerConfiguration: the fields kube-scheduler honours, their defaults
 * and validation. See config.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "yaml.h"

#define SCHED_CONFIG_API_VERSION "kubescheduler.config.k8s.io/v1"
#define SCHED_CONFIG_KIND "KubeSchedulerConfiguration"
#define SCHED_CONFIG_MAX_BYTES (1 << 20)

void sched_config_defaults(struct sched_config *c)
{
    c->percentage_of_nodes_to_score = 0;
    c->initial_backoff_ns = 1000000000LL;
    c->max_backoff_ns = 10000000000LL;
}

/* An integer field: *present false when absent; -EINVAL (message in b) for a non-integer. */
static int get_int(const cJSON *obj, const char *field, const char *path, int64_t *v, bool *present,
                   struct ck_buf *b)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, field);
    *present = false;
    if (!it || cJSON_IsNull(it))
        return 0;
    double d = it->valuedouble;
    if (!cJSON_IsNumber(it) || d != (double)(int64_t)d || d > 2147483647.0 || d < -2147483648.0) {
        ck_buf_printf(b, "%s%s: Invalid value: must be an integer", b->len ? ", " : "", path);
        return -EINVAL;
    }
    *v = (int64_t)d;
    *present = true;
    return 0;
}

static void check_percentage(int64_t v, const char *path, struct ck_buf *b)
{
    if (v < 0 || v > 100)
        ck_buf_printf(b, "%s%s: Invalid value: %lld: not in valid range [0-100]",
                      b->len ? ", " : "", path, (long long)v);
}

int sched_config_from_json(const cJSON *doc, struct sched_config *c, struct ck_error *err)
{
    sched_config_defaults(c);
    if (!cJSON_IsObject(doc))
        return ck_error_set(err, 400, "BadRequest", "KubeSchedulerConfiguration: not an object");
    const char *api = ck_json_get_string(doc, "apiVersion", "");
    const char *kind = ck_json_get_string(doc, "kind", "");
    if (strcmp(api, SCHED_CONFIG_API_VERSION) != 0 || strcmp(kind, SCHED_CONFIG_KIND) != 0)
        return ck_error_set(err, 400, "BadRequest",
                            "no kind \"%s\" is registered for version \"%s\"", kind, api);
    struct ck_buf b = CK_BUF_INIT;
    int64_t v;
    bool have;
    if (get_int(doc, "percentageOfNodesToScore", "percentageOfNodesToScore", &v, &have, &b) == 0 &&
        have) {
        check_percentage(v, "percentageOfNodesToScore", &b);
        c->percentage_of_nodes_to_score = (int)v;
    }
    int64_t initial = 1, max = 10;
    if (get_int(doc, "podInitialBackoffSeconds", "podInitialBackoffSeconds", &v, &have, &b) == 0 &&
        have) {
        initial = v;
        if (v <= 0)
            ck_buf_printf(&b,
                          "%spodInitialBackoffSeconds: Invalid value: %lld: must be greater than 0",
                          b.len ? ", " : "", (long long)v);
    }
    if (get_int(doc, "podMaxBackoffSeconds", "podMaxBackoffSeconds", &v, &have, &b) == 0 && have)
        max = v;
    if (max < initial)
        ck_buf_printf(&b,
                      "%spodMaxBackoffSeconds: Invalid value: %lld: must be greater than or equal "
                      "to PodInitialBackoffSeconds",
                      b.len ? ", " : "", (long long)max);
    c->initial_backoff_ns = initial * 1000000000LL;
    c->max_backoff_ns = max * 1000000000LL;
    const cJSON *prof;
    int i = 0;
    cJSON_ArrayForEach(prof, ck_json_get(doc, "profiles"))
    {
        const char *name = ck_json_get_string(prof, "schedulerName", "default-scheduler");
        char path[64];
        snprintf(path, sizeof(path), "profiles[%d].percentageOfNodesToScore", i++);
        if (get_int(prof, "percentageOfNodesToScore", path, &v, &have, &b) == 0 && have) {
            check_percentage(v, path, &b);
            if (strcmp(name, "default-scheduler") == 0)
                c->percentage_of_nodes_to_score = (int)v;
        }
    }
    int rc = 0;
    if (b.len)
        rc = ck_error_set(err, 400, "Invalid", "%s", ck_buf_str(&b));
    ck_buf_free(&b);
    if (rc < 0)
        sched_config_defaults(c);
    return rc;
}

int sched_config_load(const char *path, struct sched_config *c, struct ck_error *err)
{
    sched_config_defaults(c);
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return ck_error_set(err, 400, "BadRequest", "failed to read config file \"%s\": %s",
                            path ? path : "", strerror(errno));
    struct ck_buf b = CK_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= SCHED_CONFIG_MAX_BYTES)
        ck_buf_add(&b, chunk, n);
    fclose(f);
    if (b.len > SCHED_CONFIG_MAX_BYTES) {
        ck_buf_free(&b);
        return ck_error_set(err, 400, "BadRequest", "config file \"%s\" is too large", path);
    }
    cJSON *doc = NULL;
    int rc = ck_yaml_parse(ck_buf_str(&b), b.len, 0, &doc, err);
    ck_buf_free(&b);
    if (rc == 0)
        rc = sched_config_from_json(doc, c, err);
    cJSON_Delete(doc);
    return rc;
}
