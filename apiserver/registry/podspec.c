/* podspec.c - PodSpec defaulting, QoS and validation shared by Pods and pod templates
 * (see podspec.h). Upstream: pkg/apis/core/v1/defaults.go and zz_generated.defaults.go,
 * pkg/apis/core/validation/validation.go (ValidatePodSpec and its helpers), v1.32 with the
 * default feature gates (RelaxedEnvironmentVariableValidation on, the sleep action's zero
 * value off, pod-level resources off).
 */
#include "podspec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "quantity.h"

/* ---- shared helpers ---- */

cJSON *ps_get(const cJSON *o, const char *key)
{
    if (!cJSON_IsObject(o) || !key)
        return NULL;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

const char *ps_str(const cJSON *o, const char *key)
{
    const cJSON *v = ps_get(o, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

bool ps_int(const cJSON *o, const char *key, int64_t *out)
{
    const cJSON *v = ps_get(o, key);
    return cJSON_IsNumber(v) && ck_json_to_int64(v, out) == 0;
}

void ps_put(cJSON *o, const char *key, cJSON *v)
{
    if (!cJSON_IsObject(o) || !v) {
        cJSON_Delete(v);
        return;
    }
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    else
        cJSON_AddItemToObject(o, key, v);
}

void ps_default_str(cJSON *o, const char *key, const char *def)
{
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]))
        ps_put(o, key, cJSON_CreateString(def));
}

void ps_err_raw(struct field_errors *e, enum field_error_type type, const char *field,
                const char *raw, const char *detail)
{
    cJSON *v = raw ? cJSON_CreateRaw(raw) : NULL;
    if (detail)
        fe_add(e, type, field, v, "%s", detail);
    else
        fe_add(e, type, field, v, NULL);
    cJSON_Delete(v);
}

void ps_err_int(struct field_errors *e, enum field_error_type type, const char *field,
                int64_t value, const char *detail)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRId64, value);
    ps_err_raw(e, type, field, buf, detail);
}

int ps_check(struct field_errors *e, const char *field, const char *value,
             int (*fn)(const char *, struct ck_errlist *))
{
    struct ck_errlist l = CK_ERRLIST_INIT;
    fn(value ? value : "", &l);
    int n = (int)l.n;
    for (size_t i = 0; i < l.n; i++)
        fe_add_str(e, FE_INVALID, field, value ? value : "", "%s", l.items[i]);
    ck_errlist_free(&l);
    return n;
}

char *ps_go_slice(const char *type, const cJSON *arr)
{
    struct ck_buf b = CK_BUF_INIT;
    if (!cJSON_IsArray(arr)) {
        ck_buf_printf(&b, "%s(nil)", type);
        return ck_buf_detach(&b);
    }
    ck_buf_printf(&b, "%s{", type);
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, arr)
    {
        if (i++)
            ck_buf_puts(&b, ", ");
        ck_buf_put_go_quoted(&b, cJSON_IsString(it) ? it->valuestring : "");
    }
    ck_buf_putc(&b, '}');
    return ck_buf_detach(&b);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *ps_go_string_map(const cJSON *obj)
{
    struct ck_buf b = CK_BUF_INIT;
    if (!cJSON_IsObject(obj)) {
        ck_buf_puts(&b, "map[string]string(nil)");
        return ck_buf_detach(&b);
    }
    size_t n = (size_t)cJSON_GetArraySize(obj), k = 0;
    const char **keys = ck_xcalloc(n ? n : 1, sizeof(*keys));
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (k < n)
            keys[k++] = it->string;
    }
    qsort(keys, k, sizeof(*keys), cmp_str);
    ck_buf_puts(&b, "map[string]string{");
    for (size_t i = 0; i < k; i++) {
        if (i)
            ck_buf_puts(&b, ", ");
        ck_buf_put_go_quoted(&b, keys[i]);
        ck_buf_putc(&b, ':');
        const char *v = ps_str(obj, keys[i]);
        ck_buf_put_go_quoted(&b, v);
    }
    ck_buf_putc(&b, '}');
    free(keys);
    return ck_buf_detach(&b);
}

/* Iterates the members of an array that are objects (others are skipped). */
#define EACH_OBJ(it, idx, arr)                                                                     \
    for (cJSON *it = cJSON_IsArray(arr) ? (arr)->child : NULL, *it##_once = NULL; !it##_once;      \
         it##_once = (cJSON *)1)                                                                   \
        for (int idx = 0; it; it = it->next, idx++)                                                \
            if (cJSON_IsObject(it))

/* ---- defaults ---- */

/* Sets an integer member when it is missing, null or 0 (a non-pointer Go int). */
static void default_int_zero(cJSON *o, const char *key, int64_t def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v) || (cJSON_IsNumber(v) && v->valuedouble == 0))
        ps_put(o, key, ck_json_new_int64(def));
}

/* Sets a member when it is missing or null (a Go pointer field). */
static void default_nil(cJSON *o, const char *key, cJSON *def)
{
    if (!cJSON_IsObject(o) || ps_get(o, key)) {
        cJSON_Delete(def);
        return;
    }
    ps_put(o, key, def);
}

void podspec_resource_list_defaults(cJSON *list)
{
    if (!cJSON_IsObject(list))
        return;
    cJSON *next;
    for (cJSON *it = list->child; it; it = next) {
        next = it->next;
        struct ck_quantity q;
        if (!it->string || ck_quantity_parse_json(it, &q, NULL) < 0)
            continue;
        ck_quantity_round_up(&q, CK_SCALE_MILLI);
        cJSON *nv = ck_quantity_to_json(&q);
        CK_AUTOFREE char *key = ck_xstrdup(it->string);
        if (nv)
            cJSON_ReplaceItemInObjectCaseSensitive(list, key, nv);
    }
}

static void resources_defaults(cJSON *res)
{
    podspec_resource_list_defaults(ps_get(res, "limits"));
    podspec_resource_list_defaults(ps_get(res, "requests"));
}

static void fieldref_defaults(cJSON *holder)
{
    cJSON *ref = ps_get(holder, "fieldRef");
    if (cJSON_IsObject(ref))
        ps_default_str(ref, "apiVersion", "v1");
}

static void http_get_defaults(cJSON *h)
{
    if (!cJSON_IsObject(h))
        return;
    ps_default_str(h, "path", "/");
    ps_default_str(h, "scheme", "HTTP");
}

static void probe_defaults(cJSON *p)
{
    if (!cJSON_IsObject(p))
        return;
    default_int_zero(p, "timeoutSeconds", 1);
    default_int_zero(p, "periodSeconds", 10);
    default_int_zero(p, "successThreshold", 1);
    default_int_zero(p, "failureThreshold", 3);
    http_get_defaults(ps_get(p, "httpGet"));
    cJSON *grpc = ps_get(p, "grpc");
    if (cJSON_IsObject(grpc))
        default_nil(grpc, "service", cJSON_CreateString(""));
}

/* SetDefaults_Container plus the nested defaults upstream's generated defaulter calls. */
static void container_defaults(cJSON *c)
{
    if (!cJSON_IsObject(c))
        return;
    if (!ps_str(c, "imagePullPolicy")[0] &&
        (!ps_get(c, "imagePullPolicy") || cJSON_IsString(ps_get(c, "imagePullPolicy")))) {
        char tag[160];
        const char *t = podspec_image_tag(ps_str(c, "image"), tag, sizeof(tag));
        ps_put(c, "imagePullPolicy",
               cJSON_CreateString(!strcmp(t, "latest") ? "Always" : "IfNotPresent"));
    }
    ps_default_str(c, "terminationMessagePath", "/dev/termination-log");
    ps_default_str(c, "terminationMessagePolicy", "File");
    EACH_OBJ(port, i, ps_get(c, "ports"))
    {
        (void)i;
        ps_default_str(port, "protocol", "TCP");
    }
    EACH_OBJ(env, i, ps_get(c, "env"))
    {
        (void)i;
        fieldref_defaults(ps_get(env, "valueFrom"));
    }
    /* ResourceRequirements is a struct, not a pointer: upstream always prints it */
    if (!ps_get(c, "resources"))
        ps_put(c, "resources", cJSON_CreateObject());
    resources_defaults(ps_get(c, "resources"));
    probe_defaults(ps_get(c, "livenessProbe"));
    probe_defaults(ps_get(c, "readinessProbe"));
    probe_defaults(ps_get(c, "startupProbe"));
    cJSON *lc = ps_get(c, "lifecycle");
    http_get_defaults(ps_get(ps_get(lc, "postStart"), "httpGet"));
    http_get_defaults(ps_get(ps_get(lc, "preStop"), "httpGet"));
}

/* Every member of upstream's VolumeSource; a volume with none of them gets an emptyDir. */
static const char *const VOLUME_SOURCES[] = {
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
    NULL,
};

static void volume_defaults(cJSON *v)
{
    if (!cJSON_IsObject(v))
        return;
    bool any = false;
    for (size_t i = 0; VOLUME_SOURCES[i]; i++)
        any = any || ps_get(v, VOLUME_SOURCES[i]);
    if (!any)
        ps_put(v, "emptyDir", cJSON_CreateObject());
    cJSON *s;
    if ((s = ps_get(v, "hostPath")) && cJSON_IsObject(s))
        default_nil(s, "type", cJSON_CreateString(""));
    if ((s = ps_get(v, "secret")) && cJSON_IsObject(s))
        default_nil(s, "defaultMode", cJSON_CreateNumber(420));
    if ((s = ps_get(v, "configMap")) && cJSON_IsObject(s))
        default_nil(s, "defaultMode", cJSON_CreateNumber(420));
    if ((s = ps_get(v, "downwardAPI")) && cJSON_IsObject(s)) {
        default_nil(s, "defaultMode", cJSON_CreateNumber(420));
        EACH_OBJ(item, i, ps_get(s, "items"))
        {
            (void)i;
            fieldref_defaults(item);
        }
    }
    if ((s = ps_get(v, "projected")) && cJSON_IsObject(s)) {
        default_nil(s, "defaultMode", cJSON_CreateNumber(420));
        EACH_OBJ(src, i, ps_get(s, "sources"))
        {
            (void)i;
            EACH_OBJ(item, j, ps_get(ps_get(src, "downwardAPI"), "items"))
            {
                (void)j;
                fieldref_defaults(item);
            }
            cJSON *tok = ps_get(src, "serviceAccountToken");
            if (cJSON_IsObject(tok))
                default_nil(tok, "expirationSeconds", cJSON_CreateNumber(3600));
        }
    }
    if ((s = ps_get(v, "iscsi")) && cJSON_IsObject(s))
        ps_default_str(s, "iscsiInterface", "default");
    if ((s = ps_get(v, "rbd")) && cJSON_IsObject(s)) {
        ps_default_str(s, "pool", "rbd");
        ps_default_str(s, "user", "admin");
        ps_default_str(s, "keyring", "/etc/ceph/keyring");
    }
    if ((s = ps_get(v, "azureDisk")) && cJSON_IsObject(s)) {
        default_nil(s, "cachingMode", cJSON_CreateString("ReadWrite"));
        default_nil(s, "fsType", cJSON_CreateString("ext4"));
        default_nil(s, "readOnly", cJSON_CreateFalse());
        default_nil(s, "kind", cJSON_CreateString("Shared"));
    }
    if ((s = ps_get(v, "scaleIO")) && cJSON_IsObject(s)) {
        ps_default_str(s, "storageMode", "ThinProvisioned");
        ps_default_str(s, "fsType", "xfs");
    }
    cJSON *tmpl = ps_get(ps_get(v, "ephemeral"), "volumeClaimTemplate");
    cJSON *pvc = ps_get(tmpl, "spec");
    if (cJSON_IsObject(pvc)) {
        default_nil(pvc, "volumeMode", cJSON_CreateString("Filesystem"));
        resources_defaults(ps_get(pvc, "resources"));
    }
}

void podspec_defaults(cJSON *spec)
{
    if (!cJSON_IsObject(spec))
        return;
    ps_default_str(spec, "dnsPolicy", "ClusterFirst");
    ps_default_str(spec, "restartPolicy", "Always");
    default_nil(spec, "securityContext", cJSON_CreateObject());
    default_nil(spec, "terminationGracePeriodSeconds", cJSON_CreateNumber(30));
    ps_default_str(spec, "schedulerName", "default-scheduler");
    EACH_OBJ(v, i, ps_get(spec, "volumes"))
    {
        (void)i;
        volume_defaults(v);
    }
    static const char *const LISTS[] = {"initContainers", "containers", "ephemeralContainers"};
    for (size_t l = 0; l < CK_ARRAY_SIZE(LISTS); l++) {
        EACH_OBJ(c, i, ps_get(spec, LISTS[l]))
        {
            (void)i;
            container_defaults(c);
        }
    }
    podspec_resource_list_defaults(ps_get(spec, "overhead"));
}

void podtemplate_defaults(cJSON *tmpl)
{
    if (!cJSON_IsObject(tmpl))
        return;
    cJSON *meta = ps_get(tmpl, "metadata");
    if (!cJSON_IsObject(meta)) {
        meta = cJSON_CreateObject();
        ps_put(tmpl, "metadata", meta);
    }
    /* an embedded ObjectMeta prints its zero creationTimestamp as null upstream */
    if (!cJSON_GetObjectItemCaseSensitive(meta, "creationTimestamp"))
        cJSON_AddNullToObject(meta, "creationTimestamp");
    cJSON *spec = ps_get(tmpl, "spec");
    if (!spec) {
        spec = cJSON_CreateObject();
        ps_put(tmpl, "spec", spec);
    }
    podspec_defaults(spec);
}

/* ---- fields of disabled features ---- */

static bool containers_use(const cJSON *spec, const char *key, const char *sub)
{
    static const char *const LISTS[] = {"containers", "initContainers", "ephemeralContainers"};
    for (size_t l = 0; l < CK_ARRAY_SIZE(LISTS); l++) {
        EACH_OBJ(c, i, ps_get(spec, LISTS[l]))
        {
            (void)i;
            const cJSON *v = ps_get(c, key);
            if (sub)
                v = ps_get(v, sub);
            if (v && !(cJSON_IsArray(v) && !v->child))
                return true;
        }
    }
    return false;
}

static void containers_drop(cJSON *spec, const char *key, const char *sub)
{
    static const char *const LISTS[] = {"containers", "initContainers", "ephemeralContainers"};
    for (size_t l = 0; l < CK_ARRAY_SIZE(LISTS); l++) {
        EACH_OBJ(c, i, ps_get(spec, LISTS[l]))
        {
            (void)i;
            cJSON *holder = sub ? ps_get(c, key) : c;
            if (cJSON_IsObject(holder))
                cJSON_DeleteItemFromObjectCaseSensitive(holder, sub ? sub : key);
        }
    }
}

static bool volumes_use_image(const cJSON *spec)
{
    EACH_OBJ(v, i, ps_get(spec, "volumes"))
    {
        (void)i;
        if (ps_get(v, "image"))
            return true;
    }
    return false;
}

void podspec_drop_disabled(cJSON *spec, const cJSON *old_spec)
{
    if (!cJSON_IsObject(spec))
        return;
    static const char *const SPEC_FIELDS[] = {"resources", "hostUsers", "resourceClaims"};
    for (size_t k = 0; k < CK_ARRAY_SIZE(SPEC_FIELDS); k++)
        if (!ps_get(old_spec, SPEC_FIELDS[k]))
            cJSON_DeleteItemFromObjectCaseSensitive(spec, SPEC_FIELDS[k]);
    static const char *const SC_FIELDS[] = {"supplementalGroupsPolicy", "seLinuxChangePolicy"};
    cJSON *sc = ps_get(spec, "securityContext");
    for (size_t k = 0; k < CK_ARRAY_SIZE(SC_FIELDS); k++)
        if (cJSON_IsObject(sc) && !ps_get(ps_get(old_spec, "securityContext"), SC_FIELDS[k]))
            cJSON_DeleteItemFromObjectCaseSensitive(sc, SC_FIELDS[k]);
    if (!containers_use(old_spec, "resizePolicy", NULL))
        containers_drop(spec, "resizePolicy", NULL);
    if (!containers_use(old_spec, "resources", "claims"))
        containers_drop(spec, "resources", "claims");
    if (!volumes_use_image(old_spec)) {
        EACH_OBJ(v, i, ps_get(spec, "volumes"))
        {
            (void)i;
            cJSON_DeleteItemFromObjectCaseSensitive(v, "image");
        }
    }
}

/* ---- image references (docker/distribution's grammar, as parsers.ParseImageName) ---- */

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* path-component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* over s[0..n) */
static bool path_component_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (!n || !is_lower_alnum(s[0]))
        return false;
    while (i < n) {
        while (i < n && is_lower_alnum(s[i]))
            i++;
        if (i == n)
            return true;
        size_t sep = i;
        if (s[i] == '.')
            i++;
        else if (s[i] == '_')
            i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
        else if (s[i] == '-')
            while (i < n && s[i] == '-')
                i++;
        else
            return false;
        if (i == sep || i >= n || !is_lower_alnum(s[i]))
            return false;
    }
    return true;
}

/* domain: components of [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? joined by '.', optional
 * :port, or a bracketed IPv6 address with optional port. */
static bool domain_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return false;
        char ip[64];
        size_t l = (size_t)(close - s - 1);
        if (l >= sizeof(ip))
            return false;
        memcpy(ip, s + 1, l);
        ip[l] = 0;
        if (ck_parse_ip(ip, NULL) != 6)
            return false;
        i = (size_t)(close - s) + 1;
    } else {
        for (;;) {
            size_t start = i;
            while (i < n && (is_alnum(s[i]) || s[i] == '-'))
                i++;
            if (i == start || s[start] == '-' || s[i - 1] == '-')
                return false;
            if (i < n && s[i] == '.') {
                i++;
                continue;
            }
            break;
        }
    }
    if (i < n && s[i] == ':') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

/* algorithm ':' hex, with the lengths the digest package accepts */
static bool digest_ok(const char *d)
{
    const char *colon = strchr(d, ':');
    if (!colon)
        return false;
    size_t alen = (size_t)(colon - d);
    size_t hlen = strlen(colon + 1);
    for (size_t i = 0; i < hlen; i++)
        if (!is_hex(colon[1 + i]))
            return false;
    if (alen == 6 && !strncmp(d, "sha256", 6))
        return hlen == 64;
    if (alen == 6 && !strncmp(d, "sha384", 6))
        return hlen == 96;
    if (alen == 6 && !strncmp(d, "sha512", 6))
        return hlen == 128;
    return false;
}

static bool tag_ok(const char *t)
{
    size_t n = strlen(t);
    if (!n || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        bool word = is_alnum(c) || c == '_';
        if (!(word || (i > 0 && (c == '.' || c == '-'))))
            return false;
    }
    return true;
}

const char *podspec_image_tag(const char *image, char *buf, size_t size)
{
    if (!buf || size == 0)
        return "";
    buf[0] = 0;
    if (!image || !image[0] || strlen(image) > 4096)
        return buf;
    CK_AUTOFREE char *s = ck_xstrdup(image);
    /* a bare 64-hex identifier is refused by ParseNormalizedNamed */
    if (strlen(s) == 64) {
        bool hex = true;
        for (size_t i = 0; i < 64; i++)
            hex = hex && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
        if (hex)
            return buf;
    }
    char *at = strchr(s, '@');
    bool digest = false;
    if (at) {
        *at = 0;
        if (!digest_ok(at + 1))
            return buf;
        digest = true;
    }
    const char *tag = NULL;
    char *slash = strrchr(s, '/');
    char *colon = strrchr(s, ':');
    if (colon && (!slash || colon > slash)) {
        *colon = 0;
        tag = colon + 1;
        if (!tag_ok(tag))
            return buf;
    }
    /* split the domain as splitDockerDomain does */
    const char *remainder = s;
    size_t total = strlen(s);
    char *first = strchr(s, '/');
    if (first) {
        size_t dl = (size_t)(first - s);
        bool lower = true;
        for (size_t i = 0; i < dl; i++)
            lower = lower && !(s[i] >= 'A' && s[i] <= 'Z');
        bool is_domain = memchr(s, '.', dl) || memchr(s, ':', dl) ||
                         (dl == 9 && !strncmp(s, "localhost", 9)) || !lower;
        if (is_domain) {
            if (!domain_ok(s, dl))
                return buf;
            remainder = first + 1;
        }
    } else {
        total += strlen("docker.io/library/");
    }
    if (total > 255)
        return buf;
    for (const char *p = remainder;;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (!path_component_ok(p, n))
            return buf;
        if (!end)
            break;
        p = end + 1;
    }
    if (tag)
        snprintf(buf, size, "%s", tag);
    else if (!digest)
        snprintf(buf, size, "latest");
    return buf;
}

/* ---- QoS (upstream's GetPodQOS / ComputePodQOS) ---- */

struct qos_sum {
    bool have;
    struct ck_quantity q;
};

static void qos_add(struct qos_sum *s, const struct ck_quantity *q)
{
    if (!s->have) {
        s->q = *q;
        s->have = true;
    } else if (ck_quantity_add(&s->q, q) < 0) {
        s->q = *q; /* beyond 96 digits: cannot happen with real quantities */
    }
}

const char *podspec_qos_class(const cJSON *spec)
{
    static const char *const NAMES[] = {"cpu", "memory"};
    struct qos_sum req[2] = {{0}}, lim[2] = {{0}};
    bool guaranteed = true;
    static const char *const LISTS[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        EACH_OBJ(c, i, ps_get(spec, LISTS[l]))
        {
            (void)i;
            const cJSON *res = ps_get(c, "resources");
            int found = 0;
            for (int r = 0; r < 2; r++) {
                struct ck_quantity q;
                const cJSON *v = ps_get(ps_get(res, "requests"), NAMES[r]);
                if (v && ck_quantity_parse_json(v, &q, NULL) == 0 && ck_quantity_sign(&q) > 0)
                    qos_add(&req[r], &q);
                v = ps_get(ps_get(res, "limits"), NAMES[r]);
                if (v && ck_quantity_parse_json(v, &q, NULL) == 0 && ck_quantity_sign(&q) > 0) {
                    qos_add(&lim[r], &q);
                    found++;
                }
            }
            if (found < 2)
                guaranteed = false;
        }
    }
    int nreq = req[0].have + req[1].have, nlim = lim[0].have + lim[1].have;
    if (!nreq && !nlim)
        return "BestEffort";
    if (guaranteed) {
        for (int r = 0; r < 2; r++)
            if (req[r].have && (!lim[r].have || ck_quantity_cmp(&lim[r].q, &req[r].q) != 0))
                guaranteed = false;
    }
    return guaranteed && nreq == nlim ? "Guaranteed" : "Burstable";
}

/* ---- validation helpers ---- */

#define FILE_MODE_MSG "must be a number between 0 and 0777 (octal), both inclusive"
#define NEGATIVE_MSG "must be greater than or equal to 0"

/* Validation state of one PodSpec. */
struct vctx {
    const struct podspec_opts *o;
    cJSON *vols;   /* owned: valid volume name -> "pvc" or "other" */
    cJSON *claims; /* owned: object whose keys are the pod's resourceClaims names */
    bool has_grace;
    int64_t grace;
};

/* Required when empty, else the DNS-1123 label messages (upstream's pattern for names). */
static void required_label(struct field_errors *e, const char *field, const char *v)
{
    if (!v[0])
        fe_add(e, FE_REQUIRED, field, NULL, NULL);
    else
        ps_check(e, field, v, ck_is_dns1123_label);
}

static int name_subdomain(const char *v, struct ck_errlist *l)
{
    return ck_name_is_dns_subdomain(v, false, l);
}

void podspec_validate_labels(const cJSON *labels, const char *path, struct field_errors *e)
{
    if (!labels)
        return;
    if (!cJSON_IsObject(labels)) {
        fe_add(e, FE_INVALID, path, labels, "must be an object of strings");
        return;
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, labels)
    {
        ps_check(e, path, kv->string, ck_is_qualified_name);
        if (cJSON_IsString(kv))
            ps_check(e, path, kv->valuestring, ck_is_valid_label_value);
        else if (!cJSON_IsNull(kv))
            fe_add(e, FE_INVALID, path, kv, "must be a string");
    }
}

void podspec_validate_annotations(const cJSON *annotations, const char *path,
                                  struct field_errors *e)
{
    if (!annotations)
        return;
    if (!cJSON_IsObject(annotations)) {
        fe_add(e, FE_INVALID, path, annotations, "must be an object of strings");
        return;
    }
    size_t total = 0;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, annotations)
    {
        CK_AUTOFREE char *lower = ck_xstrdup(kv->string);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        struct ck_errlist l = CK_ERRLIST_INIT;
        ck_is_qualified_name(lower, &l);
        for (size_t i = 0; i < l.n; i++)
            fe_add_str(e, FE_INVALID, path, kv->string, "%s", l.items[i]);
        ck_errlist_free(&l);
        total += strlen(kv->string) + (cJSON_IsString(kv) ? strlen(kv->valuestring) : 0);
    }
    if (total > CK_TOTAL_ANNOTATION_SIZE_LIMIT)
        fe_add(e, FE_TOO_LONG, path, NULL, "must have at most %d bytes",
               CK_TOTAL_ANNOTATION_SIZE_LIMIT);
}

/* validatePathNoBacksteps / validateLocalDescendingPath / ValidateLocalNonReservedPath */
static bool path_has_backstep(const char *p)
{
    for (const char *s = p;;) {
        const char *end = s + strcspn(s, "/\\");
        if (end - s == 2 && s[0] == '.' && s[1] == '.')
            return true;
        if (!*end)
            return false;
        s = end + 1;
    }
}

static void no_backsteps(struct field_errors *e, const char *field, const char *p)
{
    if (path_has_backstep(p))
        fe_add_str(e, FE_INVALID, field, p, "must not contain '..'");
}

static void local_descending(struct field_errors *e, const char *field, const char *p)
{
    if (p[0] == '/')
        fe_add_str(e, FE_INVALID, field, p, "must be a relative path");
    no_backsteps(e, field, p);
}

static void local_non_reserved(struct field_errors *e, const char *field, const char *p)
{
    local_descending(e, field, p);
    if (!strncmp(p, "..", 2) && strncmp(p, "../", 3))
        fe_add_str(e, FE_INVALID, field, p, "must not start with '..'");
}

/* An optional int32 file mode member. */
static void file_mode(struct field_errors *e, const cJSON *o, const char *key, const char *field)
{
    int64_t m;
    if (ps_int(o, key, &m) && (m > 0777 || m < 0))
        ps_err_int(e, FE_INVALID, field, m, FILE_MODE_MSG);
}

static void required_str(struct field_errors *e, const cJSON *o, const char *key, const char *base,
                         const char *detail)
{
    if (ps_str(o, key)[0])
        return;
    CK_AUTOFREE char *f = ck_xasprintf("%s.%s", base, key);
    if (detail)
        fe_add(e, FE_REQUIRED, f, NULL, "%s", detail);
    else
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
}

static void key_to_path(struct field_errors *e, const cJSON *kp, const char *base)
{
    CK_AUTOFREE char *fk = ck_xasprintf("%s.key", base);
    CK_AUTOFREE char *fp = ck_xasprintf("%s.path", base);
    CK_AUTOFREE char *fm = ck_xasprintf("%s.mode", base);
    if (!ps_str(kp, "key")[0])
        fe_add(e, FE_REQUIRED, fk, NULL, NULL);
    if (!ps_str(kp, "path")[0])
        fe_add(e, FE_REQUIRED, fp, NULL, NULL);
    local_non_reserved(e, fp, ps_str(kp, "path"));
    file_mode(e, kp, "mode", fm);
}

static void items_key_to_path(struct field_errors *e, const cJSON *src, const char *base)
{
    EACH_OBJ(kp, i, ps_get(src, "items"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.items[%d]", base, i);
        key_to_path(e, kp, f);
    }
}

/* podshelper.ConvertDownwardAPIFieldLabel + validateObjectFieldSelector */
static const char *const ENV_FIELD_PATHS[] = {
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
    NULL,
};
static const char *const VOLUME_FIELD_PATHS[] = {
    "metadata.annotations", "metadata.labels", "metadata.name",
    "metadata.namespace",   "metadata.uid",    NULL,
};

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(list[i], s))
            return true;
    return false;
}

static void object_field_selector(struct field_errors *e, const cJSON *fs,
                                  const char *const *allowed, const char *base)
{
    const char *version = ps_str(fs, "apiVersion"), *fp = ps_str(fs, "fieldPath");
    CK_AUTOFREE char *fv = ck_xasprintf("%s.apiVersion", base);
    CK_AUTOFREE char *ff = ck_xasprintf("%s.fieldPath", base);
    if (!version[0]) {
        fe_add(e, FE_REQUIRED, fv, NULL, NULL);
        return;
    }
    if (!fp[0]) {
        fe_add(e, FE_REQUIRED, ff, NULL, NULL);
        return;
    }
    if (strcmp(version, "v1")) {
        fe_add_str(e, FE_INVALID, ff, fp, "error converting fieldPath: unsupported pod version: %s",
                   version);
        return;
    }
    /* a subscripted path: metadata.labels['key'] */
    size_t n = strlen(fp);
    const char *open = strstr(fp, "['");
    if (n >= 2 && !strcmp(fp + n - 2, "']") && open && open > fp) {
        CK_AUTOFREE char *path = ck_xstrndup(fp, (size_t)(open - fp));
        CK_AUTOFREE char *sub = ck_xstrndup(open + 2, (size_t)(fp + n - 2 - (open + 2)));
        if (strcmp(path, "metadata.annotations") && strcmp(path, "metadata.labels")) {
            fe_add_str(e, FE_INVALID, ff, fp,
                       "error converting fieldPath: field label does not support subscript: %s",
                       fp);
            return;
        }
        if (!strcmp(path, "metadata.annotations"))
            for (char *p = sub; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
        ps_check(e, base, sub, ck_is_qualified_name);
        return;
    }
    static const char *const KNOWN[] = {
        "metadata.annotations", "metadata.labels", "metadata.name",      "metadata.namespace",
        "metadata.uid",         "spec.nodeName",   "spec.restartPolicy", "spec.serviceAccountName",
        "spec.schedulerName",   "status.phase",    "status.hostIP",      "status.hostIPs",
        "status.podIP",         "status.podIPs",   "spec.host",          NULL,
    };
    if (!in_list(KNOWN, fp)) {
        fe_add_str(e, FE_INVALID, ff, fp,
                   "error converting fieldPath: field label not supported: %s", fp);
        return;
    }
    const char *internal = strcmp(fp, "spec.host") ? fp : "spec.nodeName";
    if (!in_list(allowed, internal))
        fe_not_supported(e, ff, internal, allowed);
}

static const char *const RESOURCE_FIELD_PATHS[] = {
    "limits.cpu",   "limits.ephemeral-storage",   "limits.memory",
    "requests.cpu", "requests.ephemeral-storage", "requests.memory",
    NULL,
};

static void divisor_check(struct field_errors *e, const cJSON *fs, const char *res,
                          const char *base)
{
    const cJSON *d = ps_get(fs, "divisor");
    struct ck_quantity q;
    if (!d || ck_quantity_parse_json(d, &q, NULL) < 0 || ck_quantity_is_zero(&q))
        return;
    char s[CK_QUANTITY_STR_MAX];
    ck_quantity_format(&q, s, sizeof(s));
    static const char *const MEM[] = {"1",   "1k",  "1M",  "1G",  "1T",  "1P",  "1E",
                                      "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei", NULL};
    static const char *const CPU[] = {"1m", "1", NULL};
    CK_AUTOFREE char *f = ck_xasprintf("%s.divisor", base);
    const char *all = "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei";
    if ((!strcmp(res, "limits.cpu") || !strcmp(res, "requests.cpu")) && !in_list(CPU, s))
        fe_add_str(e, FE_INVALID, f, res,
                   "only divisor's values 1m and 1 are supported with the cpu resource");
    else if ((!strcmp(res, "limits.memory") || !strcmp(res, "requests.memory")) && !in_list(MEM, s))
        fe_add_str(e, FE_INVALID, f, res,
                   "only divisor's values %s are supported with the memory resource", all);
    else if ((!strcmp(res, "limits.ephemeral-storage") ||
              !strcmp(res, "requests.ephemeral-storage")) &&
             !in_list(MEM, s))
        fe_add_str(e, FE_INVALID, f, res,
                   "only divisor's values %s are supported with the local ephemeral storage "
                   "resource",
                   all);
    if ((!strncmp(res, "requests.hugepages-", 19) || !strncmp(res, "limits.hugepages-", 17)) &&
        !in_list(MEM, s))
        fe_add_str(e, FE_INVALID, f, res,
                   "only divisor's values %s are supported with the hugepages resource", all);
}

static void resource_field_selector(struct field_errors *e, const cJSON *fs, const char *base,
                                    bool volume)
{
    const char *res = ps_str(fs, "resource");
    if (volume && !ps_str(fs, "containerName")[0]) {
        required_str(e, fs, "containerName", base, NULL);
    } else if (!res[0]) {
        required_str(e, fs, "resource", base, NULL);
    } else if (!in_list(RESOURCE_FIELD_PATHS, res) && strncmp(res, "requests.hugepages-", 19) &&
               strncmp(res, "limits.hugepages-", 17)) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.resource", base);
        fe_not_supported(e, f, res, RESOURCE_FIELD_PATHS);
    }
    divisor_check(e, fs, res, base);
}

/* ---- volumes ---- */

static void v_empty_dir(struct field_errors *e, const cJSON *s, const char *base)
{
    const cJSON *lim = ps_get(s, "sizeLimit");
    struct ck_quantity q;
    if (lim && ck_quantity_parse_json(lim, &q, NULL) == 0 && ck_quantity_sign(&q) < 0) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.sizeLimit", base);
        fe_add(e, FE_FORBIDDEN, f, NULL, "SizeLimit field must be a valid resource quantity");
    }
}

static void v_host_path(struct field_errors *e, const cJSON *s, const char *base)
{
    CK_AUTOFREE char *fp = ck_xasprintf("%s.path", base);
    const char *p = ps_str(s, "path");
    if (!p[0]) {
        fe_add(e, FE_REQUIRED, fp, NULL, NULL);
        return;
    }
    no_backsteps(e, fp, p);
    const cJSON *t = ps_get(s, "type");
    static const char *const TYPES[] = {
        "",     "BlockDevice",  "CharDevice", "Directory", "DirectoryOrCreate",
        "File", "FileOrCreate", "Socket",     NULL};
    if (cJSON_IsString(t) && !in_list(TYPES, t->valuestring)) {
        CK_AUTOFREE char *ft = ck_xasprintf("%s.type", base);
        fe_not_supported(e, ft, t->valuestring, TYPES);
    }
}

static void v_git_repo(struct field_errors *e, const cJSON *s, const char *base)
{
    required_str(e, s, "repository", base, NULL);
    CK_AUTOFREE char *f = ck_xasprintf("%s.directory", base);
    local_descending(e, f, ps_str(s, "directory"));
}

static void v_secret(struct field_errors *e, const cJSON *s, const char *base)
{
    required_str(e, s, "secretName", base, NULL);
    CK_AUTOFREE char *f = ck_xasprintf("%s.defaultMode", base);
    file_mode(e, s, "defaultMode", f);
    items_key_to_path(e, s, base);
}

static void v_config_map(struct field_errors *e, const cJSON *s, const char *base)
{
    required_str(e, s, "name", base, NULL);
    CK_AUTOFREE char *f = ck_xasprintf("%s.defaultMode", base);
    file_mode(e, s, "defaultMode", f);
    items_key_to_path(e, s, base);
}

static void v_nfs(struct field_errors *e, const cJSON *s, const char *base)
{
    required_str(e, s, "server", base, NULL);
    required_str(e, s, "path", base, NULL);
    if (ps_str(s, "path")[0] != '/') {
        CK_AUTOFREE char *f = ck_xasprintf("%s.path", base);
        fe_add_str(e, FE_INVALID, f, ps_str(s, "path"), "must be an absolute path");
    }
}

static void v_pvc(struct field_errors *e, const cJSON *s, const char *base)
{
    required_str(e, s, "claimName", base, NULL);
}

static void downward_file(struct field_errors *e, const cJSON *file, const char *base)
{
    CK_AUTOFREE char *fp = ck_xasprintf("%s.path", base);
    const char *p = ps_str(file, "path");
    if (!p[0])
        fe_add(e, FE_REQUIRED, fp, NULL, NULL);
    local_non_reserved(e, fp, p);
    const cJSON *fr = ps_get(file, "fieldRef"), *rr = ps_get(file, "resourceFieldRef");
    if (fr) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.fieldRef", base);
        object_field_selector(e, fr, VOLUME_FIELD_PATHS, f);
        if (rr)
            fe_add_str(e, FE_INVALID, base, "resource",
                       "fieldRef and resourceFieldRef can not be specified simultaneously");
    } else if (rr) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.resourceFieldRef", base);
        resource_field_selector(e, rr, f, true);
    } else {
        fe_add(e, FE_REQUIRED, base, NULL, "one of fieldRef and resourceFieldRef is required");
    }
    CK_AUTOFREE char *fm = ck_xasprintf("%s.mode", base);
    file_mode(e, file, "mode", fm);
}

static void v_downward_api(struct field_errors *e, const cJSON *s, const char *base)
{
    CK_AUTOFREE char *f = ck_xasprintf("%s.defaultMode", base);
    file_mode(e, s, "defaultMode", f);
    /* upstream reports every item at the volume source's own path */
    EACH_OBJ(file, i, ps_get(s, "items"))
    {
        (void)i;
        downward_file(e, file, base);
    }
}

/* Adds p to the set of projected paths; true when it was already there. */
static bool seen_path(cJSON *set, const char *p)
{
    if (cJSON_GetObjectItemCaseSensitive(set, p))
        return true;
    cJSON_AddTrueToObject(set, p);
    return false;
}

static void projected_items(struct field_errors *e, const cJSON *src, const char *pp,
                            const char *base, cJSON *paths)
{
    required_str(e, src, "name", pp, NULL);
    EACH_OBJ(kp, j, ps_get(src, "items"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.items[%d]", pp, j);
        key_to_path(e, kp, f);
        const char *p = ps_str(kp, "path");
        if (p[0] && seen_path(paths, p))
            fe_add_str(e, FE_INVALID, base, ps_str(src, "name"), "conflicting duplicate paths");
    }
}

static void v_projected(struct field_errors *e, const cJSON *s, const char *base)
{
    CK_AUTOFREE char *fm = ck_xasprintf("%s.defaultMode", base);
    file_mode(e, s, "defaultMode", fm);
    cJSON *paths = cJSON_CreateObject();
    EACH_OBJ(src, i, ps_get(s, "sources"))
    {
        int n = 0;
        CK_AUTOFREE char *sp = ck_xasprintf("%s.sources[%d]", base, i);
        const cJSON *x;
        if ((x = ps_get(src, "secret"))) {
            n++;
            CK_AUTOFREE char *pp = ck_xasprintf("%s.secret", sp);
            projected_items(e, x, pp, base, paths);
        }
        if ((x = ps_get(src, "configMap"))) {
            n++;
            CK_AUTOFREE char *pp = ck_xasprintf("%s.configMap", sp);
            projected_items(e, x, pp, base, paths);
        }
        if ((x = ps_get(src, "downwardAPI"))) {
            n++;
            CK_AUTOFREE char *pp = ck_xasprintf("%s.downwardAPI", sp);
            EACH_OBJ(file, j, ps_get(x, "items"))
            {
                (void)j;
                downward_file(e, file, pp);
                const char *p = ps_str(file, "path");
                if (p[0] && seen_path(paths, p))
                    fe_add_str(e, FE_INVALID, base, p, "conflicting duplicate paths");
            }
        }
        if ((x = ps_get(src, "serviceAccountToken"))) {
            n++;
            CK_AUTOFREE char *fe_ = ck_xasprintf("%s.serviceAccountToken.expirationSeconds", sp);
            int64_t exp = 0;
            ps_int(x, "expirationSeconds", &exp);
            if (exp < 600)
                ps_err_int(e, FE_INVALID, fe_, exp,
                           "may not specify a duration less than 10 minutes");
            if (exp > ((int64_t)1 << 32))
                ps_err_int(e, FE_INVALID, fe_, exp,
                           "may not specify a duration larger than 2^32 seconds");
            CK_AUTOFREE char *fp = ck_xasprintf("%s.path", base);
            if (!ps_str(x, "path")[0])
                fe_add(e, FE_REQUIRED, fp, NULL, NULL);
            else
                local_non_reserved(e, fp, ps_str(x, "path"));
        }
        if ((x = ps_get(src, "clusterTrustBundle"))) {
            n++;
            CK_AUTOFREE char *pp = ck_xasprintf("%s.clusterTrustBundle", sp);
            required_str(e, x, "path", pp, NULL);
        }
        if (n > 1)
            fe_add(e, FE_FORBIDDEN, sp, NULL, "may not specify more than 1 volume type per source");
    }
    cJSON_Delete(paths);
}

static void v_iscsi(struct field_errors *e, const cJSON *s, const char *base)
{
    required_str(e, s, "targetPortal", base, NULL);
    const char *iqn = ps_str(s, "iqn");
    CK_AUTOFREE char *fi = ck_xasprintf("%s.iqn", base);
    if (!iqn[0])
        fe_add(e, FE_REQUIRED, fi, NULL, NULL);
    else if (strncmp(iqn, "iqn", 3) && strncmp(iqn, "eui", 3) && strncmp(iqn, "naa", 3))
        fe_add_str(e, FE_INVALID, fi, iqn, "must be valid format starting with iqn, eui, or naa");
    int64_t lun = 0;
    ps_int(s, "lun", &lun);
    if (lun < 0 || lun > 255) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.lun", base);
        ps_err_int(e, FE_INVALID, f, lun, "must be between 0 and 255, inclusive");
    }
    if ((cJSON_IsTrue(ps_get(s, "chapAuthDiscovery")) ||
         cJSON_IsTrue(ps_get(s, "chapAuthSession"))) &&
        !ps_get(s, "secretRef")) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.secretRef", base);
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
    }
}

static void v_csi(struct field_errors *e, const cJSON *s, const char *base)
{
    const char *d = ps_str(s, "driver");
    CK_AUTOFREE char *f = ck_xasprintf("%s.driver", base);
    if (!d[0])
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
    if (strlen(d) > 63)
        fe_add(e, FE_TOO_LONG, f, NULL, "must have at most 63 bytes");
    CK_AUTOFREE char *lower = ck_xstrdup(d);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    struct ck_errlist l = CK_ERRLIST_INIT;
    ck_is_dns1123_subdomain(lower, &l);
    for (size_t i = 0; i < l.n; i++)
        fe_add_str(e, FE_INVALID, f, d, "%s", l.items[i]);
    ck_errlist_free(&l);
}

static void v_ephemeral(struct field_errors *e, const cJSON *s, const char *base)
{
    const cJSON *t = ps_get(s, "volumeClaimTemplate");
    CK_AUTOFREE char *f = ck_xasprintf("%s.volumeClaimTemplate", base);
    if (!t) {
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
        return;
    }
    const cJSON *spec = ps_get(t, "spec");
    CK_AUTOFREE char *fa = ck_xasprintf("%s.spec.accessModes", f);
    if (cJSON_GetArraySize(ps_get(spec, "accessModes")) == 0)
        fe_add(e, FE_REQUIRED, fa, NULL, "at least 1 access mode is required");
    if (!ps_get(ps_get(ps_get(spec, "resources"), "requests"), "storage")) {
        CK_AUTOFREE char *fr = ck_xasprintf("%s.spec.resources[storage]", f);
        fe_add(e, FE_REQUIRED, fr, NULL, NULL);
    }
}

/* Volume sources whose only rules are required string members. */
struct simple_source {
    const char *key;
    const char *path; /* the child upstream reports errors under (its typos kept) */
    const char *required[4];
};
static const struct simple_source SIMPLE_SOURCES[] = {
    {"gcePersistentDisk", "persistentDisk", {"pdName"}},
    {"awsElasticBlockStore", "awsElasticBlockStore", {"volumeID"}},
    {"glusterfs", "glusterfs", {"endpoints", "path"}},
    {"rbd", "rbd", {"image"}},
    {"cinder", "cinder", {"volumeID"}},
    {"quobyte", "quobyte", {"registry", "volume"}},
    {"flexVolume", "flexVolume", {"driver"}},
    {"azureFile", "azureFile", {"secretName", "shareName"}},
    {"vsphereVolume", "vsphereVolume", {"volumePath"}},
    {"photonPersistentDisk", "photonPersistentDisk", {"pdID"}},
    {"portworxVolume", "portworxVolume", {"volumeID"}},
    {"azureDisk", "azureDisk", {"diskName", "diskURI"}},
    {"storageos", "storageos", {"volumeName"}},
    {"scaleIO", "scaleIO", {"gateway", "system", "volumeName"}},
    {"cephfs", "cephfs", {NULL}},
    {"fc", "fc", {NULL}},
    {"flocker", "flocker", {NULL}},
};

static void v_simple(struct field_errors *e, const cJSON *s, const char *key, const char *base)
{
    for (size_t i = 0; i < CK_ARRAY_SIZE(SIMPLE_SOURCES); i++) {
        if (strcmp(SIMPLE_SOURCES[i].key, key))
            continue;
        CK_AUTOFREE char *b = NULL;
        const char *slash = strrchr(base, '.');
        size_t pre = slash ? (size_t)(slash - base) : 0;
        b = ck_xasprintf("%.*s.%s", (int)pre, base, SIMPLE_SOURCES[i].path);
        for (size_t r = 0; r < 4 && SIMPLE_SOURCES[i].required[r]; r++)
            required_str(e, s, SIMPLE_SOURCES[i].required[r], b, NULL);
        if ((!strcmp(key, "rbd") || !strcmp(key, "cephfs")) &&
            cJSON_GetArraySize(ps_get(s, "monitors")) == 0) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.monitors", b);
            fe_add(e, FE_REQUIRED, f, NULL, NULL);
        }
        if (!strcmp(key, "fc") && cJSON_GetArraySize(ps_get(s, "targetWWNs")) == 0 &&
            cJSON_GetArraySize(ps_get(s, "wwids")) == 0) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.targetWWNs", b);
            fe_add(e, FE_REQUIRED, f, NULL,
                   "must specify either targetWWNs or wwids, but not both");
        }
        if (!strcmp(key, "flocker") && !ps_str(s, "datasetName")[0] && !ps_str(s, "datasetUUID")[0])
            fe_add(e, FE_REQUIRED, b, NULL, "one of datasetName and datasetUUID is required");
    }
}

/* The volume sources in the order upstream's validateVolumeSource checks them, with the
 * child name of its "more than 1 volume type" error (typos kept). */
static const struct {
    const char *key;
    const char *forbidden;
    void (*fn)(struct field_errors *, const cJSON *, const char *);
} SOURCES[] = {
    {"emptyDir", "emptyDir", v_empty_dir},
    {"hostPath", "hostPath", v_host_path},
    {"gitRepo", "gitRepo", v_git_repo},
    {"gcePersistentDisk", "gcePersistentDisk", NULL},
    {"awsElasticBlockStore", "awsElasticBlockStore", NULL},
    {"secret", "secret", v_secret},
    {"nfs", "nfs", v_nfs},
    {"iscsi", "iscsi", v_iscsi},
    {"glusterfs", "glusterfs", NULL},
    {"flocker", "flocker", NULL},
    {"persistentVolumeClaim", "persistentVolumeClaim", v_pvc},
    {"rbd", "rbd", NULL},
    {"cinder", "cinder", NULL},
    {"cephfs", "cephFS", NULL},
    {"quobyte", "quobyte", NULL},
    {"downwardAPI", "downwarAPI", v_downward_api},
    {"fc", "fc", NULL},
    {"flexVolume", "flexVolume", NULL},
    {"configMap", "configMap", v_config_map},
    {"azureFile", "azureFile", NULL},
    {"vsphereVolume", "vsphereVolume", NULL},
    {"photonPersistentDisk", "photonPersistentDisk", NULL},
    {"portworxVolume", "portworxVolume", NULL},
    {"azureDisk", "azureDisk", NULL},
    {"storageos", "storageos", NULL},
    {"projected", "projected", v_projected},
    {"scaleIO", "scaleIO", NULL},
    {"csi", "csi", v_csi},
    {"ephemeral", "ephemeral", v_ephemeral},
    {"image", "image", NULL},
};

static void volume_source(struct field_errors *e, const cJSON *vol, const char *base,
                          const struct vctx *c)
{
    int n = 0;
    for (size_t i = 0; i < CK_ARRAY_SIZE(SOURCES); i++) {
        const cJSON *s = ps_get(vol, SOURCES[i].key);
        if (!s)
            continue;
        if (n > 0) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.%s", base, SOURCES[i].forbidden);
            fe_add(e, FE_FORBIDDEN, f, NULL, "may not specify more than 1 volume type");
            continue;
        }
        n++;
        CK_AUTOFREE char *sb = ck_xasprintf("%s.%s", base, SOURCES[i].key);
        if (SOURCES[i].fn)
            SOURCES[i].fn(e, s, sb);
        else
            v_simple(e, s, SOURCES[i].key, sb);
        if (!strcmp(SOURCES[i].key, "ephemeral") && c->o && c->o->pod_name && c->o->pod_name[0] &&
            ps_str(vol, "name")[0]) {
            CK_AUTOFREE char *pvc = ck_xasprintf("%s-%s", c->o->pod_name, ps_str(vol, "name"));
            struct ck_errlist l = CK_ERRLIST_INIT;
            ck_name_is_dns_subdomain(pvc, false, &l);
            CK_AUTOFREE char *fnm = ck_xasprintf("%s.name", base);
            for (size_t k = 0; k < l.n; k++)
                fe_add_str(e, FE_INVALID, fnm, ps_str(vol, "name"), "PVC name \"%s\": %s", pvc,
                           l.items[k]);
            ck_errlist_free(&l);
        }
    }
    if (n == 0)
        fe_add(e, FE_REQUIRED, base, NULL, "must specify a volume type");
}

static void validate_volumes(struct field_errors *e, const cJSON *vols, const char *path,
                             struct vctx *c)
{
    EACH_OBJ(vol, i, vols)
    {
        CK_AUTOFREE char *base = ck_xasprintf("%s[%d]", path, i);
        CK_AUTOFREE char *fname = ck_xasprintf("%s.name", base);
        const char *name = ps_str(vol, "name");
        struct field_errors el = FIELD_ERRORS_INIT;
        volume_source(&el, vol, base, c);
        required_label(&el, fname, name);
        if (cJSON_GetObjectItemCaseSensitive(c->vols, name))
            fe_add_str(&el, FE_DUPLICATE, fname, name, NULL);
        if (el.len == 0) {
            bool pvc = ps_get(vol, "persistentVolumeClaim") || ps_get(vol, "ephemeral");
            cJSON_AddStringToObject(c->vols, name, pvc ? "pvc" : "other");
        }
        /* move the volume's errors over in order */
        for (size_t k = 0; k < el.len; k++) {
            struct field_error *x = &el.items[k];
            ps_err_raw(e, x->type, x->field, x->value, x->detail);
        }
        field_errors_free(&el);
        const cJSON *pvc = ps_get(vol, "persistentVolumeClaim");
        if (pvc && c->o && c->o->pod_name && c->o->pod_name[0]) {
            const char *claim = ps_str(pvc, "claimName");
            EACH_OBJ(other, j, vols)
            {
                (void)j;
                if (!ps_get(other, "ephemeral"))
                    continue;
                CK_AUTOFREE char *gen =
                    ck_xasprintf("%s-%s", c->o->pod_name, ps_str(other, "name"));
                if (!strcmp(gen, claim)) {
                    CK_AUTOFREE char *f = ck_xasprintf("%s.persistentVolumeClaim.claimName", base);
                    fe_add_str(e, FE_INVALID, f, claim,
                               "must not reference a PVC that gets created for an ephemeral "
                               "volume");
                    break;
                }
            }
        }
    }
}

/* ---- containers ---- */

static int relaxed_env_name(const char *v, struct ck_errlist *l)
{
    if (!v[0]) {
        ck_errlist_add(l, "environment variable name must be non-empty");
        return 1;
    }
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 32 || *p >= 127 || *p == '=') {
            ck_errlist_add(l, "a valid environment variable name must consist only of printable "
                              "ASCII characters other than '='");
            return 1;
        }
    }
    return 0;
}

/* ValidatePortNumOrName over an IntOrString member. */
static void port_num_or_name(struct field_errors *e, const cJSON *v, const char *field)
{
    if (cJSON_IsNumber(v)) {
        int64_t n = 0;
        ck_json_to_int64(v, &n);
        struct ck_errlist l = CK_ERRLIST_INIT;
        ck_is_valid_port_num(n, &l);
        for (size_t i = 0; i < l.n; i++)
            ps_err_int(e, FE_INVALID, field, n, l.items[i]);
        ck_errlist_free(&l);
    } else if (cJSON_IsString(v)) {
        ps_check(e, field, v->valuestring, ck_is_valid_port_name);
    } else {
        /* a missing IntOrString is the int 0 */
        ps_err_int(e, FE_INVALID, field, 0, "must be between 1 and 65535, inclusive");
    }
}

static const char *const PROTOCOLS[] = {"SCTP", "TCP", "UDP", NULL};

static void validate_ports(struct field_errors *e, const cJSON *ports, const char *base)
{
    cJSON *names = cJSON_CreateObject();
    EACH_OBJ(port, i, ports)
    {
        CK_AUTOFREE char *ip = ck_xasprintf("%s[%d]", base, i);
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", ip);
        const char *name = ps_str(port, "name");
        if (name[0]) {
            if (ps_check(e, fn, name, ck_is_valid_port_name) == 0) {
                if (cJSON_GetObjectItemCaseSensitive(names, name))
                    fe_add_str(e, FE_DUPLICATE, fn, name, NULL);
                else
                    cJSON_AddTrueToObject(names, name);
            }
        }
        int64_t cp = 0, hp = 0;
        ps_int(port, "containerPort", &cp);
        ps_int(port, "hostPort", &hp);
        CK_AUTOFREE char *fc = ck_xasprintf("%s.containerPort", ip);
        if (cp == 0) {
            fe_add(e, FE_REQUIRED, fc, NULL, NULL);
        } else {
            struct ck_errlist l = CK_ERRLIST_INIT;
            ck_is_valid_port_num(cp, &l);
            for (size_t k = 0; k < l.n; k++)
                ps_err_int(e, FE_INVALID, fc, cp, l.items[k]);
            ck_errlist_free(&l);
        }
        if (hp != 0) {
            CK_AUTOFREE char *fh = ck_xasprintf("%s.hostPort", ip);
            struct ck_errlist l = CK_ERRLIST_INIT;
            ck_is_valid_port_num(hp, &l);
            for (size_t k = 0; k < l.n; k++)
                ps_err_int(e, FE_INVALID, fh, hp, l.items[k]);
            ck_errlist_free(&l);
        }
        const char *proto = ps_str(port, "protocol");
        CK_AUTOFREE char *fp = ck_xasprintf("%s.protocol", ip);
        if (!proto[0])
            fe_add(e, FE_REQUIRED, fp, NULL, NULL);
        else if (!in_list(PROTOCOLS, proto))
            fe_not_supported(e, fp, proto, PROTOCOLS);
    }
    cJSON_Delete(names);
}

static void key_selector(struct field_errors *e, const cJSON *s, const char *base)
{
    CK_AUTOFREE char *fn = ck_xasprintf("%s.name", base);
    CK_AUTOFREE char *fk = ck_xasprintf("%s.key", base);
    ps_check(e, fn, ps_str(s, "name"), name_subdomain);
    const char *key = ps_str(s, "key");
    if (!key[0])
        fe_add(e, FE_REQUIRED, fk, NULL, NULL);
    else
        ps_check(e, fk, key, ck_is_config_map_key);
}

static void validate_env(struct field_errors *e, const cJSON *env, const char *base)
{
    EACH_OBJ(ev, i, env)
    {
        CK_AUTOFREE char *ip = ck_xasprintf("%s[%d]", base, i);
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", ip);
        const char *name = ps_str(ev, "name");
        if (!name[0])
            fe_add(e, FE_REQUIRED, fn, NULL, NULL);
        else
            ps_check(e, fn, name, relaxed_env_name);
        const cJSON *vf = ps_get(ev, "valueFrom");
        if (!vf)
            continue;
        CK_AUTOFREE char *fv = ck_xasprintf("%s.valueFrom", ip);
        int n = 0;
        const cJSON *x;
        if ((x = ps_get(vf, "fieldRef"))) {
            n++;
            CK_AUTOFREE char *f = ck_xasprintf("%s.fieldRef", fv);
            object_field_selector(e, x, ENV_FIELD_PATHS, f);
        }
        if ((x = ps_get(vf, "resourceFieldRef"))) {
            n++;
            CK_AUTOFREE char *f = ck_xasprintf("%s.resourceFieldRef", fv);
            resource_field_selector(e, x, f, false);
        }
        if ((x = ps_get(vf, "configMapKeyRef"))) {
            n++;
            CK_AUTOFREE char *f = ck_xasprintf("%s.configMapKeyRef", fv);
            key_selector(e, x, f);
        }
        if ((x = ps_get(vf, "secretKeyRef"))) {
            n++;
            CK_AUTOFREE char *f = ck_xasprintf("%s.secretKeyRef", fv);
            key_selector(e, x, f);
        }
        if (n == 0)
            fe_add_str(e, FE_INVALID, fv, "",
                       "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` "
                       "or `secretKeyRef`");
        else if (ps_str(ev, "value")[0])
            fe_add_str(e, FE_INVALID, fv, "", "may not be specified when `value` is not empty");
        else if (n > 1)
            fe_add_str(e, FE_INVALID, fv, "",
                       "may not have more than one field specified at a time");
    }
}

static void validate_env_from(struct field_errors *e, const cJSON *list, const char *base)
{
    EACH_OBJ(ev, i, list)
    {
        CK_AUTOFREE char *ip = ck_xasprintf("%s[%d]", base, i);
        const char *prefix = ps_str(ev, "prefix");
        if (prefix[0]) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.prefix", ip);
            ps_check(e, f, prefix, relaxed_env_name);
        }
        int n = 0;
        static const char *const REFS[] = {"configMapRef", "secretRef"};
        for (size_t r = 0; r < 2; r++) {
            const cJSON *x = ps_get(ev, REFS[r]);
            if (!x)
                continue;
            n++;
            CK_AUTOFREE char *f = ck_xasprintf("%s.%s.name", ip, REFS[r]);
            const char *name = ps_str(x, "name");
            if (!name[0]) {
                fe_add(e, FE_REQUIRED, f, NULL, NULL);
            } else {
                struct ck_errlist l = CK_ERRLIST_INIT;
                ck_name_is_dns_subdomain(name, true, &l);
                for (size_t k = 0; k < l.n; k++)
                    fe_add_str(e, FE_INVALID, f, name, "%s", l.items[k]);
                ck_errlist_free(&l);
            }
        }
        /* upstream reports these at the list's path, not the item's */
        if (n == 0)
            fe_add_str(e, FE_INVALID, base, "",
                       "must specify one of: `configMapRef` or `secretRef`");
        else if (n > 1)
            fe_add_str(e, FE_INVALID, base, "",
                       "may not have more than one field specified at a time");
    }
}

static const char *mount_path_of(const cJSON *list, const char *name, const char *pathkey)
{
    EACH_OBJ(m, i, list)
    {
        (void)i;
        if (!strcmp(ps_str(m, "name"), name))
            return ps_str(m, pathkey);
    }
    return NULL;
}

static bool path_in(const cJSON *list, const char *pathkey, const char *p)
{
    EACH_OBJ(m, i, list)
    {
        (void)i;
        if (!strcmp(ps_str(m, pathkey), p))
            return true;
    }
    return false;
}

static void validate_mounts(struct field_errors *e, const cJSON *ctr, const char *base,
                            const struct vctx *c)
{
    const cJSON *mounts = ps_get(ctr, "volumeMounts"), *devices = ps_get(ctr, "volumeDevices");
    cJSON *seen = cJSON_CreateObject();
    EACH_OBJ(m, i, mounts)
    {
        CK_AUTOFREE char *ip = ck_xasprintf("%s[%d]", base, i);
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", ip);
        CK_AUTOFREE char *fp = ck_xasprintf("%s.mountPath", ip);
        const char *name = ps_str(m, "name"), *mp = ps_str(m, "mountPath");
        if (!name[0])
            fe_add(e, FE_REQUIRED, fn, NULL, NULL);
        if (!cJSON_GetObjectItemCaseSensitive(c->vols, name))
            fe_add_str(e, FE_NOT_FOUND, fn, name, NULL);
        if (!mp[0])
            fe_add(e, FE_REQUIRED, fp, NULL, NULL);
        if (seen_path(seen, mp))
            fe_add_str(e, FE_INVALID, fp, mp, "must be unique");
        if (mount_path_of(devices, name, "devicePath"))
            fe_add_str(e, FE_INVALID, fn, name, "must not already exist in volumeDevices");
        if (path_in(devices, "devicePath", mp))
            fe_add_str(e, FE_INVALID, fp, mp, "must not already exist as a path in volumeDevices");
        /* upstream reports subPath problems at the list's path (a long-standing quirk) */
        const char *sub = ps_str(m, "subPath"), *expr = ps_str(m, "subPathExpr");
        if (sub[0]) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.subPath", base);
            local_descending(e, f, sub);
        }
        if (expr[0]) {
            if (sub[0]) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.subPathExpr", ip);
                fe_add_str(e, FE_INVALID, f, expr,
                           "subPathExpr and subPath are mutually exclusive");
            }
            CK_AUTOFREE char *f = ck_xasprintf("%s.subPathExpr", base);
            local_descending(e, f, expr);
        }
        const cJSON *prop = ps_get(m, "mountPropagation");
        if (cJSON_IsString(prop)) {
            static const char *const PROPS[] = {"Bidirectional", "HostToContainer", "None", NULL};
            CK_AUTOFREE char *f = ck_xasprintf("%s.mountPropagation", base);
            if (!in_list(PROPS, prop->valuestring))
                fe_not_supported(e, f, prop->valuestring, PROPS);
            if (!strcmp(prop->valuestring, "Bidirectional") &&
                !cJSON_IsTrue(ps_get(ps_get(ctr, "securityContext"), "privileged")))
                fe_add(e, FE_FORBIDDEN, f, NULL,
                       "Bidirectional mount propagation is available only to privileged "
                       "containers");
        }
        const cJSON *rro = ps_get(m, "recursiveReadOnly");
        if (cJSON_IsString(rro) && strcmp(rro->valuestring, "Disabled")) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.recursiveReadOnly", base);
            static const char *const RRO[] = {"Disabled", "Enabled", "IfPossible", NULL};
            if (!in_list(RRO, rro->valuestring)) {
                fe_not_supported(e, f, rro->valuestring, RRO);
            } else {
                if (!cJSON_IsTrue(ps_get(m, "readOnly")))
                    fe_add(e, FE_FORBIDDEN, f, NULL, "may only be specified when readOnly is true");
                if (cJSON_IsString(prop) && strcmp(prop->valuestring, "None"))
                    fe_add(e, FE_FORBIDDEN, f, NULL,
                           "may only be specified when mountPropagation is None or not specified");
            }
        }
    }
    cJSON_Delete(seen);
    CK_AUTOFREE char *dbase = NULL;
    {
        const char *dot = strrchr(base, '.');
        size_t pre = dot ? (size_t)(dot - base) : 0;
        dbase = ck_xasprintf("%.*s.volumeDevices", (int)pre, base);
    }
    cJSON *names = cJSON_CreateObject(), *paths = cJSON_CreateObject();
    EACH_OBJ(d, i, devices)
    {
        CK_AUTOFREE char *ip = ck_xasprintf("%s[%d]", dbase, i);
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", ip);
        CK_AUTOFREE char *fp = ck_xasprintf("%s.devicePath", ip);
        const char *name = ps_str(d, "name"), *dp = ps_str(d, "devicePath");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c->vols, name);
        if (!name[0])
            fe_add(e, FE_REQUIRED, fn, NULL, NULL);
        if (cJSON_GetObjectItemCaseSensitive(names, name))
            fe_add_str(e, FE_INVALID, fn, name, "must be unique");
        if (kind && strcmp(ps_str(c->vols, name), "pvc"))
            fe_add_str(e, FE_INVALID, fn, name,
                       "can only use volume source type of PersistentVolumeClaim or Ephemeral for "
                       "block mode");
        if (!kind)
            fe_add_str(e, FE_NOT_FOUND, fn, name, NULL);
        if (!dp[0])
            fe_add(e, FE_REQUIRED, fp, NULL, NULL);
        if (cJSON_GetObjectItemCaseSensitive(paths, dp))
            fe_add_str(e, FE_INVALID, fp, dp, "must be unique");
        if (dp[0] && path_has_backstep(dp))
            fe_add_str(e, FE_INVALID, fp, dp, "can not contain backsteps ('..')");
        else if (!cJSON_GetObjectItemCaseSensitive(paths, dp))
            cJSON_AddTrueToObject(paths, dp);
        if (mount_path_of(mounts, name, "mountPath"))
            fe_add_str(e, FE_INVALID, fn, name, "must not already exist in volumeMounts");
        if (path_in(mounts, "mountPath", dp))
            fe_add_str(e, FE_INVALID, fp, dp, "must not already exist as a path in volumeMounts");
        if (name[0] && !cJSON_GetObjectItemCaseSensitive(names, name))
            cJSON_AddTrueToObject(names, name);
    }
    cJSON_Delete(names);
    cJSON_Delete(paths);
}

static void validate_pull_policy(struct field_errors *e, const cJSON *ctr, const char *field)
{
    static const char *const POLICIES[] = {"Always", "IfNotPresent", "Never", NULL};
    const char *p = ps_str(ctr, "imagePullPolicy");
    if (!p[0])
        fe_add(e, FE_REQUIRED, field, NULL, NULL);
    else if (!in_list(POLICIES, p))
        fe_not_supported(e, field, p, POLICIES);
}

/* ---- resources ---- */

static bool is_hugepages(const char *n)
{
    return !strncmp(n, "hugepages-", 10);
}

static bool is_native_resource(const char *n)
{
    return !strchr(n, '/') || strstr(n, "kubernetes.io/");
}

static bool is_extended_resource(const char *n)
{
    if (is_native_resource(n) || !strncmp(n, "requests.", 9))
        return false;
    CK_AUTOFREE char *q = ck_xasprintf("requests.%s", n);
    return ck_is_qualified_name(q, NULL) == 0;
}

static bool overcommit_allowed(const char *n)
{
    return is_native_resource(n) && !is_hugepages(n);
}

static const char *const STANDARD_RESOURCES[] = {
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "quotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
    NULL,
};

/* validateContainerResourceName; names print unquoted (ResourceName is a Stringer). */
static void container_resource_name(struct field_errors *e, const char *name, const char *field)
{
    struct ck_errlist l = CK_ERRLIST_INIT;
    ck_is_qualified_name(name, &l);
    for (size_t i = 0; i < l.n; i++)
        ps_err_raw(e, FE_INVALID, field, name, l.items[i]);
    bool bad = l.n > 0;
    ck_errlist_free(&l);
    if (!bad && !strchr(name, '/') && !in_list(STANDARD_RESOURCES, name) && !is_hugepages(name) &&
        strncmp(name, "requests.hugepages-", 19))
        ps_err_raw(e, FE_INVALID, field, name,
                   "must be a standard resource type or fully qualified");
    if (!strchr(name, '/')) {
        if (strcmp(name, "cpu") && strcmp(name, "memory") && strcmp(name, "ephemeral-storage") &&
            !is_hugepages(name))
            ps_err_raw(e, FE_INVALID, field, name, "must be a standard resource for containers");
    } else if (!is_native_resource(name) && !is_extended_resource(name)) {
        ps_err_raw(e, FE_INVALID, field, name, "doesn't follow extended resource name standard");
    }
}

/* ValidateResourceQuantityValue: non-negative, whole for integer resources. Returns false
 * when the value cannot be parsed (reported). */
static bool quantity_value(struct field_errors *e, const char *name, const cJSON *v,
                           const char *field, struct ck_quantity *q)
{
    struct ck_error err = CK_ERROR_INIT;
    if (ck_quantity_parse_json(v, q, &err) < 0) {
        if (cJSON_IsString(v))
            fe_add_str(e, FE_INVALID, field, v->valuestring, "%s", err.message);
        else
            fe_add(e, FE_INVALID, field, v, "%s", err.message);
        ck_error_clear(&err);
        return false;
    }
    char s[CK_QUANTITY_STR_MAX];
    ck_quantity_format(q, s, sizeof(s));
    if (ck_quantity_sign(q) < 0)
        fe_add_str(e, FE_INVALID, field, s, NEGATIVE_MSG);
    static const char *const INTEGER[] = {"pods",
                                          "quotas",
                                          "services",
                                          "replicationcontrollers",
                                          "secrets",
                                          "configmaps",
                                          "persistentvolumeclaims",
                                          "services.nodeports",
                                          "services.loadbalancers",
                                          NULL};
    if ((in_list(INTEGER, name) || is_extended_resource(name)) &&
        ck_quantity_milli_value(q) % 1000 != 0)
        ps_err_raw(e, FE_INVALID, field, s, "must be an integer");
    return true;
}

/* hugepages-<size>: the value must be a whole multiple of the page size. */
static void hugepage_value(struct field_errors *e, const char *name, const struct ck_quantity *q,
                           const char *field)
{
    if (!is_hugepages(name))
        return;
    struct ck_quantity page;
    bool ok = ck_quantity_parse(name + 10, &page, NULL) == 0 && ck_quantity_sign(&page) > 0 &&
              ck_quantity_milli_value(&page) % 1000 == 0;
    if (ok) {
        int64_t ps = ck_quantity_value(&page);
        ok = ps > 0 && ck_quantity_value(q) % ps == 0;
    }
    if (!ok) {
        char s[CK_QUANTITY_STR_MAX];
        ck_quantity_format(q, s, sizeof(s));
        fe_add_str(e, FE_INVALID, field, s, "%s is not positive integer multiple of %s", s, name);
    }
}

static void validate_resources(struct field_errors *e, const cJSON *res, const char *base,
                               const struct vctx *c)
{
    const cJSON *lims = ps_get(res, "limits"), *reqs = ps_get(res, "requests");
    CK_AUTOFREE char *lp = ck_xasprintf("%s.limits", base);
    CK_AUTOFREE char *rp = ck_xasprintf("%s.requests", base);
    bool lim_cm = false, req_cm = false, lim_hp = false, req_hp = false;
    if (cJSON_IsObject(lims)) {
        for (const cJSON *it = lims->child; it; it = it->next) {
            CK_AUTOFREE char *f = ck_xasprintf("%s[%s]", lp, it->string);
            container_resource_name(e, it->string, f);
            struct ck_quantity q;
            if (!quantity_value(e, it->string, it, f, &q))
                continue;
            if (is_hugepages(it->string)) {
                lim_hp = true;
                hugepage_value(e, it->string, &q, f);
            }
            lim_cm = lim_cm || !strcmp(it->string, "cpu") || !strcmp(it->string, "memory");
        }
    }
    if (cJSON_IsObject(reqs)) {
        for (const cJSON *it = reqs->child; it; it = it->next) {
            CK_AUTOFREE char *f = ck_xasprintf("%s[%s]", rp, it->string);
            container_resource_name(e, it->string, f);
            struct ck_quantity q, l;
            if (!quantity_value(e, it->string, it, f, &q))
                continue;
            const cJSON *lv = ps_get(lims, it->string);
            char qs[CK_QUANTITY_STR_MAX], ls[CK_QUANTITY_STR_MAX];
            ck_quantity_format(&q, qs, sizeof(qs));
            if (lv && ck_quantity_parse_json(lv, &l, NULL) == 0) {
                ck_quantity_format(&l, ls, sizeof(ls));
                int cmp = ck_quantity_cmp(&q, &l);
                if (cmp != 0 && !overcommit_allowed(it->string))
                    fe_add_str(e, FE_INVALID, rp, qs, "must be equal to %s limit of %s", it->string,
                               ls);
                else if (cmp > 0)
                    fe_add_str(e, FE_INVALID, rp, qs,
                               "must be less than or equal to %s limit of %s", it->string, ls);
            } else if (!lv && !overcommit_allowed(it->string)) {
                fe_add(e, FE_REQUIRED, lp, NULL,
                       "Limit must be set for non overcommitable resources");
            }
            if (is_hugepages(it->string)) {
                req_hp = true;
                hugepage_value(e, it->string, &q, f);
            }
            req_cm = req_cm || !strcmp(it->string, "cpu") || !strcmp(it->string, "memory");
        }
    }
    if (!lim_cm && !req_cm && (req_hp || lim_hp))
        fe_add(e, FE_FORBIDDEN, base, NULL, "HugePages require cpu or memory");
    cJSON *names = cJSON_CreateObject();
    EACH_OBJ(cl, i, ps_get(res, "claims"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.claims[%d]", base, i);
        const char *name = ps_str(cl, "name");
        if (!name[0]) {
            fe_add(e, FE_REQUIRED, f, NULL, NULL);
            continue;
        }
        if (cJSON_GetObjectItemCaseSensitive(names, name))
            fe_add_str(e, FE_DUPLICATE, f, name, NULL);
        else
            cJSON_AddTrueToObject(names, name);
        if (!cJSON_GetObjectItemCaseSensitive(c->claims, name)) {
            struct ck_buf b = CK_BUF_INIT;
            ck_buf_puts(&b, "must be one of the names in pod.spec.resourceClaims");
            if (!c->claims->child) {
                ck_buf_puts(&b, " which is empty");
            } else {
                ck_buf_puts(&b, ": ");
                int k = 0;
                for (const cJSON *x = c->claims->child; x; x = x->next)
                    ck_buf_printf(&b, "%s%s", k++ ? ", " : "", x->string);
            }
            fe_add_str(e, FE_NOT_FOUND, f, name, "%s", ck_buf_str(&b));
            ck_buf_free(&b);
        }
    }
    cJSON_Delete(names);
}

/* ---- security contexts ---- */

static void id_range(struct field_errors *e, const cJSON *o, const char *key, const char *base)
{
    int64_t v;
    if (ps_int(o, key, &v) && (v < 0 || v > 2147483647)) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.%s", base, key);
        ps_err_int(e, FE_INVALID, f, v, "must be between 0 and 2147483647, inclusive");
    }
}

static void seccomp_profile(struct field_errors *e, const cJSON *sp, const char *base)
{
    if (!sp)
        return;
    CK_AUTOFREE char *ft = ck_xasprintf("%s.type", base);
    CK_AUTOFREE char *fl = ck_xasprintf("%s.localhostProfile", base);
    const char *t = ps_str(sp, "type");
    static const char *const TYPES[] = {"Localhost", "RuntimeDefault", "Unconfined", NULL};
    if (!t[0])
        fe_add(e, FE_REQUIRED, ft, NULL, "type is required when seccompProfile is set");
    else if (!in_list(TYPES, t))
        fe_not_supported(e, ft, t, TYPES);
    const cJSON *lp = ps_get(sp, "localhostProfile");
    if (!strcmp(t, "Localhost")) {
        if (!lp)
            fe_add(e, FE_REQUIRED, fl, NULL, "must be set when seccomp type is Localhost");
        else
            local_descending(e, fl, cJSON_IsString(lp) ? lp->valuestring : "");
    } else if (lp) {
        ps_err_raw(e, FE_INVALID, fl, "{...}", "can only be set when seccomp type is Localhost");
    }
}

static void container_security_context(struct field_errors *e, const cJSON *sc, const char *base)
{
    if (!cJSON_IsObject(sc))
        return;
    id_range(e, sc, "runAsUser", base);
    id_range(e, sc, "runAsGroup", base);
    const cJSON *pm = ps_get(sc, "procMount");
    if (cJSON_IsString(pm)) {
        static const char *const PM[] = {"Default", "Unmasked", NULL};
        CK_AUTOFREE char *f = ck_xasprintf("%s.procMount", base);
        if (!in_list(PM, pm->valuestring))
            fe_not_supported(e, f, pm->valuestring, PM);
    }
    CK_AUTOFREE char *fs = ck_xasprintf("%s.seccompProfile", base);
    seccomp_profile(e, ps_get(sc, "seccompProfile"), fs);
    if (cJSON_IsFalse(ps_get(sc, "allowPrivilegeEscalation")) &&
        cJSON_IsTrue(ps_get(sc, "privileged")))
        ps_err_raw(e, FE_INVALID, base, "{...}",
                   "cannot set `allowPrivilegeEscalation` to false and `privileged` to true");
}

/* ---- probes and handlers ---- */

static void validate_handler(struct field_errors *e, const cJSON *h, const char *base,
                             bool lifecycle, const struct vctx *c)
{
    static const char *const KINDS[] = {"exec", "httpGet", "tcpSocket", "grpc", "sleep"};
    int n = 0;
    for (size_t k = 0; k < CK_ARRAY_SIZE(KINDS); k++) {
        /* probes have no sleep action; lifecycle handlers have no grpc */
        if ((!lifecycle && k == 4) || (lifecycle && k == 3))
            continue;
        const cJSON *x = ps_get(h, KINDS[k]);
        if (!x)
            continue;
        CK_AUTOFREE char *f = ck_xasprintf("%s.%s", base, KINDS[k]);
        if (n++ > 0) {
            fe_add(e, FE_FORBIDDEN, f, NULL, "may not specify more than 1 handler type");
            continue;
        }
        if (k == 0) {
            if (cJSON_GetArraySize(ps_get(x, "command")) == 0) {
                CK_AUTOFREE char *fc = ck_xasprintf("%s.command", f);
                fe_add(e, FE_REQUIRED, fc, NULL, NULL);
            }
        } else if (k == 1) {
            CK_AUTOFREE char *fp = ck_xasprintf("%s.path", f);
            CK_AUTOFREE char *fo = ck_xasprintf("%s.port", f);
            CK_AUTOFREE char *fs = ck_xasprintf("%s.scheme", f);
            CK_AUTOFREE char *fh = ck_xasprintf("%s.httpHeaders", f);
            if (!ps_str(x, "path")[0])
                fe_add(e, FE_REQUIRED, fp, NULL, NULL);
            port_num_or_name(e, ps_get(x, "port"), fo);
            static const char *const SCHEMES[] = {"HTTP", "HTTPS", NULL};
            if (!in_list(SCHEMES, ps_str(x, "scheme")))
                fe_not_supported(e, fs, ps_str(x, "scheme"), SCHEMES);
            EACH_OBJ(hdr, j, ps_get(x, "httpHeaders"))
            {
                (void)j;
                ps_check(e, fh, ps_str(hdr, "name"), ck_is_http_header_name);
            }
        } else if (k == 2) {
            CK_AUTOFREE char *fo = ck_xasprintf("%s.port", f);
            port_num_or_name(e, ps_get(x, "port"), fo);
        } else if (k == 3) {
            CK_AUTOFREE char *fo = ck_xasprintf("%s.port", f);
            int64_t port = 0;
            ps_int(x, "port", &port);
            cJSON *pv = ck_json_new_int64(port);
            port_num_or_name(e, pv, fo);
            cJSON_Delete(pv);
        } else if (c->has_grace) {
            int64_t secs = 0;
            ps_int(x, "seconds", &secs);
            if (secs <= 0 || secs > c->grace) {
                CK_AUTOFREE char *d = ck_xasprintf(
                    "must be greater than 0 and less than terminationGracePeriodSeconds (%" PRId64
                    "). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.",
                    c->grace);
                ps_err_int(e, FE_INVALID, f, secs, d);
            }
        }
    }
    if (n == 0)
        fe_add(e, FE_REQUIRED, base, NULL, "must specify a handler type");
}

enum probe_kind { PROBE_LIVENESS, PROBE_READINESS, PROBE_STARTUP };

static void validate_probe(struct field_errors *e, const cJSON *p, const char *base,
                           enum probe_kind kind, const struct vctx *c)
{
    if (!p)
        return;
    validate_handler(e, p, base, false, c);
    static const char *const NONNEG[] = {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                                         "successThreshold", "failureThreshold"};
    for (size_t k = 0; k < CK_ARRAY_SIZE(NONNEG); k++) {
        int64_t v;
        if (ps_int(p, NONNEG[k], &v) && v < 0) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.%s", base, NONNEG[k]);
            ps_err_int(e, FE_INVALID, f, v, NEGATIVE_MSG);
        }
    }
    int64_t tg;
    CK_AUTOFREE char *ftg = ck_xasprintf("%s.terminationGracePeriodSeconds", base);
    if (ps_int(p, "terminationGracePeriodSeconds", &tg) && tg <= 0)
        ps_err_int(e, FE_INVALID, ftg, tg, "must be greater than 0");
    if (kind == PROBE_READINESS) {
        if (ps_int(p, "terminationGracePeriodSeconds", &tg))
            ps_err_int(e, FE_INVALID, ftg, tg, "must not be set for readinessProbes");
    } else {
        int64_t st = 0;
        ps_int(p, "successThreshold", &st);
        if (st != 1) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.successThreshold", base);
            ps_err_int(e, FE_INVALID, f, st, "must be 1");
        }
    }
}

static void validate_lifecycle(struct field_errors *e, const cJSON *lc, const char *base,
                               const struct vctx *c)
{
    static const char *const HOOKS[] = {"postStart", "preStop"};
    for (size_t k = 0; k < 2; k++) {
        const cJSON *h = ps_get(lc, HOOKS[k]);
        if (!h)
            continue;
        CK_AUTOFREE char *f = ck_xasprintf("%s.%s", base, HOOKS[k]);
        validate_handler(e, h, f, true, c);
    }
}

/* validateContainerCommon: the rules every kind of container shares. */
static void container_common(struct field_errors *e, const cJSON *ctr, const char *base,
                             const struct vctx *c)
{
    CK_AUTOFREE char *fn = ck_xasprintf("%s.name", base);
    required_label(e, fn, ps_str(ctr, "name"));
    if (!ps_str(ctr, "image")[0]) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.image", base);
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
    }
    const char *tmp = ps_str(ctr, "terminationMessagePolicy");
    CK_AUTOFREE char *ft = ck_xasprintf("%s.terminationMessagePolicy", base);
    static const char *const TMP[] = {"File", "FallbackToLogsOnError", NULL};
    if (!tmp[0])
        fe_add(e, FE_REQUIRED, ft, NULL, NULL);
    else if (!in_list(TMP, tmp))
        fe_not_supported(e, ft, tmp, TMP);
    CK_AUTOFREE char *fp = ck_xasprintf("%s.ports", base);
    validate_ports(e, ps_get(ctr, "ports"), fp);
    CK_AUTOFREE char *fe_ = ck_xasprintf("%s.env", base);
    validate_env(e, ps_get(ctr, "env"), fe_);
    CK_AUTOFREE char *ff = ck_xasprintf("%s.envFrom", base);
    validate_env_from(e, ps_get(ctr, "envFrom"), ff);
    CK_AUTOFREE char *fm = ck_xasprintf("%s.volumeMounts", base);
    validate_mounts(e, ctr, fm, c);
    CK_AUTOFREE char *fi = ck_xasprintf("%s.imagePullPolicy", base);
    validate_pull_policy(e, ctr, fi);
    CK_AUTOFREE char *fr = ck_xasprintf("%s.resources", base);
    validate_resources(e, ps_get(ctr, "resources"), fr, c);
    CK_AUTOFREE char *fz = ck_xasprintf("%s.resizePolicy", base);
    EACH_OBJ(rp, i, ps_get(ctr, "resizePolicy"))
    {
        (void)i;
        static const char *const RES[] = {"cpu", "memory", NULL};
        static const char *const POL[] = {"NotRequired", "RestartContainer", NULL};
        const char *rn = ps_str(rp, "resourceName"), *pol = ps_str(rp, "restartPolicy");
        if (!rn[0])
            fe_add(e, FE_REQUIRED, fz, NULL, NULL);
        else if (!in_list(RES, rn))
            fe_not_supported(e, fz, rn, RES);
        if (!pol[0])
            fe_add(e, FE_REQUIRED, fz, NULL, NULL);
        else if (!in_list(POL, pol))
            fe_not_supported(e, fz, pol, POL);
    }
    CK_AUTOFREE char *fs = ck_xasprintf("%s.securityContext", base);
    container_security_context(e, ps_get(ctr, "securityContext"), fs);
}

/* AccumulateUniqueHostPorts over the containers of arr (or the single container `one`). */
static void host_port_conflicts(struct field_errors *e, const cJSON *arr, const cJSON *one,
                                int one_index, const char *path)
{
    cJSON *seen = cJSON_CreateObject();
    int ci = 0;
    const cJSON *ctr = one ? one : (cJSON_IsArray(arr) ? arr->child : NULL);
    for (; ctr; ctr = one ? NULL : ctr->next, ci++) {
        int idx = one ? one_index : ci;
        EACH_OBJ(port, pi, ps_get(ctr, "ports"))
        {
            int64_t hp = 0;
            ps_int(port, "hostPort", &hp);
            if (hp == 0)
                continue;
            CK_AUTOFREE char *key = ck_xasprintf("%s/%s/%" PRId64, ps_str(port, "protocol"),
                                                 ps_str(port, "hostIP"), hp);
            if (seen_path(seen, key)) {
                CK_AUTOFREE char *f = ck_xasprintf("%s[%d].ports[%d].hostPort", path, idx, pi);
                fe_add_str(e, FE_DUPLICATE, f, key, NULL);
            }
        }
    }
    cJSON_Delete(seen);
}

/* ---- container lists ---- */

static void validate_containers(struct field_errors *e, const cJSON *spec, const char *path,
                                const struct vctx *c)
{
    const cJSON *list = ps_get(spec, "containers");
    CK_AUTOFREE char *base = ck_xasprintf("%s.containers", path);
    if (cJSON_GetArraySize(list) == 0) {
        fe_add(e, FE_REQUIRED, base, NULL, NULL);
        return;
    }
    cJSON *names = cJSON_CreateObject();
    EACH_OBJ(ctr, i, list)
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s[%d]", base, i);
        container_common(e, ctr, p, c);
        const char *name = ps_str(ctr, "name");
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", p);
        if (cJSON_GetObjectItemCaseSensitive(names, name))
            fe_add_str(e, FE_DUPLICATE, fn, name, NULL);
        else
            cJSON_AddTrueToObject(names, name);
        const cJSON *lc = ps_get(ctr, "lifecycle");
        if (lc) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.lifecycle", p);
            validate_lifecycle(e, lc, f, c);
        }
        CK_AUTOFREE char *fl = ck_xasprintf("%s.livenessProbe", p);
        CK_AUTOFREE char *fr = ck_xasprintf("%s.readinessProbe", p);
        CK_AUTOFREE char *fs = ck_xasprintf("%s.startupProbe", p);
        validate_probe(e, ps_get(ctr, "livenessProbe"), fl, PROBE_LIVENESS, c);
        validate_probe(e, ps_get(ctr, "readinessProbe"), fr, PROBE_READINESS, c);
        validate_probe(e, ps_get(ctr, "startupProbe"), fs, PROBE_STARTUP, c);
        if (ps_get(ctr, "restartPolicy")) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.restartPolicy", p);
            fe_add(e, FE_FORBIDDEN, f, NULL, "may not be set for non-init containers");
        }
    }
    cJSON_Delete(names);
    host_port_conflicts(e, list, NULL, 0, base);
}

static void validate_init_containers(struct field_errors *e, const cJSON *spec, const char *path,
                                     const struct vctx *c)
{
    CK_AUTOFREE char *base = ck_xasprintf("%s.initContainers", path);
    cJSON *names = cJSON_CreateObject();
    EACH_OBJ(ctr, i, ps_get(spec, "containers"))
    {
        (void)i;
        const char *n = ps_str(ctr, "name");
        if (!cJSON_GetObjectItemCaseSensitive(names, n))
            cJSON_AddTrueToObject(names, n);
    }
    EACH_OBJ(ctr, i, ps_get(spec, "initContainers"))
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s[%d]", base, i);
        container_common(e, ctr, p, c);
        bool always = false;
        const cJSON *rp = ps_get(ctr, "restartPolicy");
        if (rp) {
            const char *v = cJSON_IsString(rp) ? rp->valuestring : "";
            always = !strcmp(v, "Always");
            if (!always) {
                static const char *const ALWAYS[] = {"Always", NULL};
                CK_AUTOFREE char *f = ck_xasprintf("%s.restartPolicy", p);
                fe_not_supported(e, f, v, ALWAYS);
            }
        }
        const char *name = ps_str(ctr, "name");
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", p);
        if (cJSON_GetObjectItemCaseSensitive(names, name))
            fe_add_str(e, FE_DUPLICATE, fn, name, NULL);
        else if (name[0])
            cJSON_AddTrueToObject(names, name);
        /* upstream checks each init container alone, so it always reports index 0 */
        host_port_conflicts(e, NULL, ctr, 0, base);
        static const char *const PROBES[] = {"livenessProbe", "readinessProbe", "startupProbe"};
        if (always) {
            const cJSON *lc = ps_get(ctr, "lifecycle");
            if (lc) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.lifecycle", p);
                validate_lifecycle(e, lc, f, c);
            }
            for (int k = 0; k < 3; k++) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.%s", p, PROBES[k]);
                validate_probe(e, ps_get(ctr, PROBES[k]), f, (enum probe_kind)k, c);
            }
        } else {
            static const char *const NOT[] = {"lifecycle", "livenessProbe", "readinessProbe",
                                              "startupProbe"};
            for (size_t k = 0; k < CK_ARRAY_SIZE(NOT); k++) {
                if (!ps_get(ctr, NOT[k]))
                    continue;
                CK_AUTOFREE char *f = ck_xasprintf("%s.%s", p, NOT[k]);
                fe_add(e, FE_FORBIDDEN, f, NULL,
                       "may not be set for init containers without restartPolicy=Always");
            }
        }
        if (cJSON_GetArraySize(ps_get(ctr, "resizePolicy")) > 0) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.resizePolicy", p);
            ps_err_raw(e, FE_INVALID, f, "[]core.ContainerResizePolicy{...}",
                       "must not be set for init containers");
        }
    }
    cJSON_Delete(names);
}

static void validate_ephemeral_containers(struct field_errors *e, const cJSON *spec,
                                          const char *path, const struct vctx *c)
{
    CK_AUTOFREE char *base = ck_xasprintf("%s.ephemeralContainers", path);
    cJSON *others = cJSON_CreateObject(), *all = cJSON_CreateObject();
    static const char *const LISTS[] = {"containers", "initContainers"};
    for (int l = 0; l < 2; l++) {
        EACH_OBJ(ctr, i, ps_get(spec, LISTS[l]))
        {
            (void)i;
            const char *n = ps_str(ctr, "name");
            if (!cJSON_GetObjectItemCaseSensitive(others, n)) {
                cJSON_AddTrueToObject(others, n);
                cJSON_AddTrueToObject(all, n);
            }
        }
    }
    static const char *const DISALLOWED[] = {"ports",          "resources",    "livenessProbe",
                                             "readinessProbe", "startupProbe", "lifecycle",
                                             "resizePolicy",   "restartPolicy"};
    EACH_OBJ(ec, i, ps_get(spec, "ephemeralContainers"))
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s[%d]", base, i);
        container_common(e, ec, p, c);
        const char *img = ps_str(ec, "image");
        size_t n = strlen(img);
        if (n && (img[0] == ' ' || img[0] == '\t' || img[0] == '\n' || img[n - 1] == ' ' ||
                  img[n - 1] == '\t' || img[n - 1] == '\n')) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.image", p);
            fe_add_str(e, FE_INVALID, f, img, "must not have leading or trailing whitespace");
        }
        const char *name = ps_str(ec, "name");
        CK_AUTOFREE char *fn = ck_xasprintf("%s.name", p);
        if (cJSON_GetObjectItemCaseSensitive(all, name))
            fe_add_str(e, FE_DUPLICATE, fn, name, NULL);
        else
            cJSON_AddTrueToObject(all, name);
        const char *target = ps_str(ec, "targetContainerName");
        if (target[0] && !cJSON_GetObjectItemCaseSensitive(others, target)) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.targetContainerName", p);
            fe_add_str(e, FE_NOT_FOUND, f, target, NULL);
        }
        for (size_t k = 0; k < CK_ARRAY_SIZE(DISALLOWED); k++) {
            const cJSON *v = ps_get(ec, DISALLOWED[k]);
            /* the defaulted empty resources struct is the zero value */
            if (!v || (cJSON_IsObject(v) && !v->child) || (cJSON_IsArray(v) && !v->child))
                continue;
            CK_AUTOFREE char *f = ck_xasprintf("%s.%s", p, DISALLOWED[k]);
            fe_add(e, FE_FORBIDDEN, f, NULL, "cannot be set for an Ephemeral Container");
        }
        EACH_OBJ(vm, j, ps_get(ec, "volumeMounts"))
        {
            static const char *const SUB[] = {"subPath", "subPathExpr"};
            for (int k = 0; k < 2; k++) {
                if (!ps_str(vm, SUB[k])[0])
                    continue;
                CK_AUTOFREE char *f = ck_xasprintf("%s.volumeMounts[%d].%s", p, j, SUB[k]);
                fe_add(e, FE_FORBIDDEN, f, NULL, "cannot be set for an Ephemeral Container");
            }
        }
    }
    cJSON_Delete(others);
    cJSON_Delete(all);
}

/* ---- affinity, tolerations, scheduling ---- */

static void label_name(struct field_errors *e, const char *field, const char *v)
{
    ps_check(e, field, v, ck_is_qualified_name);
}

static void node_selector_requirement(struct field_errors *e, const cJSON *rq, const char *base,
                                      bool allow_invalid_values)
{
    const char *op = ps_str(rq, "operator");
    int nv = cJSON_GetArraySize(ps_get(rq, "values"));
    CK_AUTOFREE char *fv = ck_xasprintf("%s.values", base);
    CK_AUTOFREE char *fo = ck_xasprintf("%s.operator", base);
    CK_AUTOFREE char *fk = ck_xasprintf("%s.key", base);
    if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
        if (nv == 0)
            fe_add(e, FE_REQUIRED, fv, NULL,
                   "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) {
        if (nv > 0)
            fe_add(e, FE_FORBIDDEN, fv, NULL,
                   "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else if (!strcmp(op, "Gt") || !strcmp(op, "Lt")) {
        if (nv != 1)
            fe_add(e, FE_REQUIRED, fv, NULL,
                   "must be specified single value when `operator` is 'Lt' or 'Gt'");
    } else {
        fe_add_str(e, FE_INVALID, fo, op, "not a valid selector operator");
    }
    label_name(e, fk, ps_str(rq, "key"));
    if (allow_invalid_values)
        return;
    int j = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, ps_get(rq, "values"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s[%d]", fv, j++);
        ps_check(e, f, cJSON_IsString(v) ? v->valuestring : "", ck_is_valid_label_value);
    }
}

static void node_selector_term(struct field_errors *e, const cJSON *term, const char *base,
                               bool allow_invalid_values)
{
    EACH_OBJ(rq, j, ps_get(term, "matchExpressions"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.matchExpressions[%d]", base, j);
        node_selector_requirement(e, rq, f, allow_invalid_values);
    }
    EACH_OBJ(rq, j, ps_get(term, "matchFields"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.matchFields[%d]", base, j);
        CK_AUTOFREE char *fv = ck_xasprintf("%s.values", f);
        CK_AUTOFREE char *fo = ck_xasprintf("%s.operator", f);
        CK_AUTOFREE char *fk = ck_xasprintf("%s.key", f);
        const char *op = ps_str(rq, "operator");
        if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
            if (cJSON_GetArraySize(ps_get(rq, "values")) != 1)
                fe_add(e, FE_REQUIRED, fv, NULL,
                       "must be only one value when `operator` is 'In' or 'NotIn' for node field "
                       "selector");
        } else {
            fe_add_str(e, FE_INVALID, fo, op, "not a valid selector operator");
        }
        if (strcmp(ps_str(rq, "key"), "metadata.name")) {
            fe_add_str(e, FE_INVALID, fk, ps_str(rq, "key"), "not a valid field selector key");
        } else {
            int k = 0;
            const cJSON *v;
            cJSON_ArrayForEach(v, ps_get(rq, "values"))
            {
                CK_AUTOFREE char *fi = ck_xasprintf("%s[%d]", fv, k++);
                ps_check(e, fi, cJSON_IsString(v) ? v->valuestring : "", name_subdomain);
            }
        }
    }
}

static void pod_affinity_term(struct field_errors *e, const cJSON *t, const char *base)
{
    CK_AUTOFREE char *fn = ck_xasprintf("%s.namespace", base);
    const cJSON *ns;
    cJSON_ArrayForEach(ns, ps_get(t, "namespaces"))
    {
        struct ck_errlist l = CK_ERRLIST_INIT;
        const char *v = cJSON_IsString(ns) ? ns->valuestring : "";
        ck_validate_namespace_name(v, false, &l);
        for (size_t k = 0; k < l.n; k++)
            fe_add_str(e, FE_INVALID, fn, v, "%s", l.items[k]);
        ck_errlist_free(&l);
    }
    CK_AUTOFREE char *ft = ck_xasprintf("%s.topologyKey", base);
    const char *tk = ps_str(t, "topologyKey");
    if (!tk[0])
        fe_add(e, FE_REQUIRED, ft, NULL, "can not be empty");
    label_name(e, ft, tk);
}

static void validate_affinity(struct field_errors *e, const cJSON *aff, const char *base)
{
    if (!aff)
        return;
    const cJSON *na = ps_get(aff, "nodeAffinity");
    if (na) {
        const cJSON *req = ps_get(na, "requiredDuringSchedulingIgnoredDuringExecution");
        if (req) {
            CK_AUTOFREE char *f = ck_xasprintf(
                "%s.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
                base);
            if (cJSON_GetArraySize(ps_get(req, "nodeSelectorTerms")) == 0)
                fe_add(e, FE_REQUIRED, f, NULL, "must have at least one node selector term");
            EACH_OBJ(term, i, ps_get(req, "nodeSelectorTerms"))
            {
                CK_AUTOFREE char *ft = ck_xasprintf("%s[%d]", f, i);
                node_selector_term(e, term, ft, false);
            }
        }
        EACH_OBJ(pt, i, ps_get(na, "preferredDuringSchedulingIgnoredDuringExecution"))
        {
            CK_AUTOFREE char *f = ck_xasprintf(
                "%s.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[%d]", base, i);
            int64_t w = 0;
            ps_int(pt, "weight", &w);
            if (w <= 0 || w > 100) {
                CK_AUTOFREE char *fw = ck_xasprintf("%s.weight", f);
                ps_err_int(e, FE_INVALID, fw, w, "must be in the range 1-100");
            }
            CK_AUTOFREE char *fp = ck_xasprintf("%s.preference", f);
            node_selector_term(e, ps_get(pt, "preference"), fp, true);
        }
    }
    static const char *const KINDS[] = {"podAffinity", "podAntiAffinity"};
    for (int k = 0; k < 2; k++) {
        const cJSON *pa = ps_get(aff, KINDS[k]);
        EACH_OBJ(t, i, ps_get(pa, "requiredDuringSchedulingIgnoredDuringExecution"))
        {
            CK_AUTOFREE char *f = ck_xasprintf(
                "%s.%s.requiredDuringSchedulingIgnoredDuringExecution[%d]", base, KINDS[k], i);
            pod_affinity_term(e, t, f);
        }
        EACH_OBJ(wt, i, ps_get(pa, "preferredDuringSchedulingIgnoredDuringExecution"))
        {
            CK_AUTOFREE char *f = ck_xasprintf(
                "%s.%s.preferredDuringSchedulingIgnoredDuringExecution[%d]", base, KINDS[k], i);
            int64_t w = 0;
            ps_int(wt, "weight", &w);
            if (w <= 0 || w > 100) {
                CK_AUTOFREE char *fw = ck_xasprintf("%s.weight", f);
                ps_err_int(e, FE_INVALID, fw, w, "must be in the range 1-100");
            }
            CK_AUTOFREE char *ft = ck_xasprintf("%s.podAffinityTerm", f);
            pod_affinity_term(e, ps_get(wt, "podAffinityTerm"), ft);
        }
    }
}

static const char *const TAINT_EFFECTS[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};

void podspec_validate_tolerations(const cJSON *tolerations, const char *path,
                                  struct field_errors *e)
{
    EACH_OBJ(t, i, tolerations)
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s[%d]", path, i);
        CK_AUTOFREE char *fk = ck_xasprintf("%s.key", p);
        CK_AUTOFREE char *fo = ck_xasprintf("%s.operator", p);
        CK_AUTOFREE char *fe_ = ck_xasprintf("%s.effect", p);
        const char *key = ps_str(t, "key"), *op = ps_str(t, "operator");
        const char *value = ps_str(t, "value"), *effect = ps_str(t, "effect");
        if (key[0])
            label_name(e, fk, key);
        if (!key[0] && strcmp(op, "Exists"))
            fe_add_str(e, FE_INVALID, fo, op,
                       "operator must be Exists when `key` is empty, which means \"match all "
                       "values and all keys\"");
        if (ps_get(t, "tolerationSeconds") && strcmp(effect, "NoExecute"))
            fe_add_str(e, FE_INVALID, fe_, effect,
                       "effect must be 'NoExecute' when `tolerationSeconds` is set");
        if (!op[0] || !strcmp(op, "Equal")) {
            struct ck_errlist l = CK_ERRLIST_INIT;
            if (ck_is_valid_label_value(value, &l)) {
                CK_AUTOFREE char *j = ck_errlist_join(&l, ";");
                fe_add_str(e, FE_INVALID, fo, value, "%s", j);
            }
            ck_errlist_free(&l);
        } else if (!strcmp(op, "Exists")) {
            if (value[0])
                fe_add_str(e, FE_INVALID, fo, value,
                           "value must be empty when `operator` is 'Exists'");
        } else {
            static const char *const OPS[] = {"Equal", "Exists", NULL};
            fe_not_supported(e, fo, op, OPS);
        }
        if (effect[0] && !in_list(TAINT_EFFECTS, effect))
            fe_not_supported(e, fe_, effect, TAINT_EFFECTS);
    }
}

static void validate_dns_config(struct field_errors *e, const cJSON *spec, const char *path)
{
    const cJSON *cfg = ps_get(spec, "dnsConfig");
    CK_AUTOFREE char *base = ck_xasprintf("%s.dnsConfig", path);
    CK_AUTOFREE char *fn = ck_xasprintf("%s.nameservers", base);
    CK_AUTOFREE char *fs = ck_xasprintf("%s.searches", base);
    if (!strcmp(ps_str(spec, "dnsPolicy"), "None")) {
        if (!cfg) {
            fe_add(e, FE_REQUIRED, base, NULL, "must provide `dnsConfig` when `dnsPolicy` is None");
            return;
        }
        if (cJSON_GetArraySize(ps_get(cfg, "nameservers")) == 0) {
            fe_add(e, FE_REQUIRED, fn, NULL,
                   "must provide at least one DNS nameserver when `dnsPolicy` is None");
            return;
        }
    }
    if (!cfg)
        return;
    const cJSON *ns = ps_get(cfg, "nameservers"), *se = ps_get(cfg, "searches");
    if (cJSON_GetArraySize(ns) > 3) {
        CK_AUTOFREE char *v = ps_go_slice("[]string", ns);
        ps_err_raw(e, FE_INVALID, fn, v, "must not have more than 3 nameservers");
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ns)
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s[%d]", fn, i++);
        ps_check(e, f, cJSON_IsString(it) ? it->valuestring : "", ck_is_valid_ip);
    }
    size_t chars = 0;
    int count = cJSON_GetArraySize(se);
    cJSON_ArrayForEach(it, se) chars += (cJSON_IsString(it) ? strlen(it->valuestring) : 0) + 1;
    if (count > 32) {
        CK_AUTOFREE char *v = ps_go_slice("[]string", se);
        ps_err_raw(e, FE_INVALID, fs, v, "must not have more than 32 search paths");
    }
    if (count && chars - 1 > 2048) {
        CK_AUTOFREE char *v = ps_go_slice("[]string", se);
        ps_err_raw(e, FE_INVALID, fs, v,
                   "must not have more than 2048 characters (including spaces) in the search list");
    }
    i = 0;
    cJSON_ArrayForEach(it, se)
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s[%d]", fs, i++);
        CK_AUTOFREE char *s = ck_xstrdup(cJSON_IsString(it) ? it->valuestring : "");
        size_t n = strlen(s);
        if (n && s[n - 1] == '.')
            s[n - 1] = 0;
        ps_check(e, f, s, ck_is_dns1123_subdomain);
    }
    EACH_OBJ(opt, j, ps_get(cfg, "options"))
    {
        if (!ps_str(opt, "name")[0]) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.options[%d]", base, j);
            fe_add(e, FE_REQUIRED, f, NULL, "must not be empty");
        }
    }
}

static void validate_pod_security_context(struct field_errors *e, const cJSON *spec,
                                          const char *path)
{
    const cJSON *sc = ps_get(spec, "securityContext");
    if (!cJSON_IsObject(sc))
        return;
    CK_AUTOFREE char *base = ck_xasprintf("%s.securityContext", path);
    id_range(e, sc, "fsGroup", base);
    id_range(e, sc, "runAsUser", base);
    id_range(e, sc, "runAsGroup", base);
    int g = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ps_get(sc, "supplementalGroups"))
    {
        int64_t v = 0;
        if (cJSON_IsNumber(it) && ck_json_to_int64(it, &v) == 0 && (v < 0 || v > 2147483647)) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.supplementalGroups[%d]", base, g);
            ps_err_int(e, FE_INVALID, f, v, "must be between 0 and 2147483647, inclusive");
        }
        g++;
    }
    if (cJSON_IsTrue(ps_get(spec, "shareProcessNamespace")) &&
        cJSON_IsTrue(ps_get(spec, "hostPID"))) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.shareProcessNamespace", base);
        ps_err_raw(e, FE_INVALID, f, "true",
                   "ShareProcessNamespace and HostPID cannot both be enabled");
    }
    cJSON *names = cJSON_CreateObject();
    EACH_OBJ(s, i, ps_get(sc, "sysctls"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.sysctls[%d].name", base, i);
        const char *n = ps_str(s, "name");
        bool ok = n[0] && strlen(n) <= 253;
        /* [a-z0-9]([-_a-z0-9]*[a-z0-9])? segments joined by '.' or '/' */
        for (const char *p = n; ok && *p;) {
            const char *end = p + strcspn(p, "./");
            ok = end > p && is_lower_alnum(p[0]) && is_lower_alnum(end[-1]);
            for (const char *q = p; ok && q < end; q++)
                ok = is_lower_alnum(*q) || *q == '-' || *q == '_';
            if (!*end)
                break;
            p = end + 1;
            ok = ok && *p;
        }
        if (!n[0])
            fe_add(e, FE_REQUIRED, f, NULL, NULL);
        else if (!ok)
            fe_add_str(e, FE_INVALID, f, n,
                       "must have at most 253 characters and match regex "
                       "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$");
        else if (cJSON_GetObjectItemCaseSensitive(names, n))
            fe_add_str(e, FE_DUPLICATE, f, n, NULL);
        if (n[0] && !cJSON_GetObjectItemCaseSensitive(names, n))
            cJSON_AddTrueToObject(names, n);
    }
    cJSON_Delete(names);
    const cJSON *fcp = ps_get(sc, "fsGroupChangePolicy");
    if (fcp) {
        static const char *const POL[] = {"Always", "OnRootMismatch", NULL};
        CK_AUTOFREE char *f = ck_xasprintf("%s.fsGroupChangePolicy", base);
        const char *v = cJSON_IsString(fcp) ? fcp->valuestring : "";
        if (!in_list(POL, v))
            fe_not_supported(e, f, v, POL);
    }
    CK_AUTOFREE char *fs = ck_xasprintf("%s.seccompProfile", base);
    seccomp_profile(e, ps_get(sc, "seccompProfile"), fs);
}

static void validate_topology_spread(struct field_errors *e, const cJSON *list, const char *path)
{
    EACH_OBJ(tc, i, list)
    {
        CK_AUTOFREE char *p = ck_xasprintf("%s[%d]", path, i);
        int64_t skew = 0;
        ps_int(tc, "maxSkew", &skew);
        if (skew <= 0) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.maxSkew", p);
            ps_err_int(e, FE_INVALID, f, skew, "must be greater than zero");
        }
        const char *tk = ps_str(tc, "topologyKey"), *wu = ps_str(tc, "whenUnsatisfiable");
        if (!tk[0]) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.topologyKey", p);
            fe_add(e, FE_REQUIRED, f, NULL, "can not be empty");
        }
        static const char *const ACTIONS[] = {"DoNotSchedule", "ScheduleAnyway", NULL};
        if (!in_list(ACTIONS, wu)) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.whenUnsatisfiable", p);
            fe_not_supported(e, f, wu, ACTIONS);
        }
        for (const cJSON *o = tc->next; o; o = o->next) {
            if (!strcmp(ps_str(o, "topologyKey"), tk) &&
                !strcmp(ps_str(o, "whenUnsatisfiable"), wu)) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.{topologyKey, whenUnsatisfiable}", p);
                CK_AUTOFREE char *v = ck_xasprintf("{%s, %s}", tk, wu);
                fe_add_str(e, FE_DUPLICATE, f, v, NULL);
                break;
            }
        }
        int64_t md;
        if (ps_int(tc, "minDomains", &md)) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.minDomains", p);
            if (md <= 0)
                ps_err_int(e, FE_INVALID, f, md, "must be greater than zero");
            if (strcmp(wu, "DoNotSchedule")) {
                CK_AUTOFREE char *d = ck_xasprintf(
                    "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not %s", wu);
                ps_err_int(e, FE_INVALID, f, md, d);
            }
        }
        static const char *const POLICIES[] = {"nodeAffinityPolicy", "nodeTaintsPolicy"};
        static const char *const HONOR[] = {"Honor", "Ignore", NULL};
        for (int k = 0; k < 2; k++) {
            const cJSON *v = ps_get(tc, POLICIES[k]);
            if (cJSON_IsString(v) && !in_list(HONOR, v->valuestring)) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.%s", p, POLICIES[k]);
                fe_not_supported(e, f, v->valuestring, HONOR);
            }
        }
    }
}

/* ---- ValidatePodSpec ---- */

void podspec_validate_opts(const cJSON *spec, const char *path, const struct podspec_opts *o,
                           struct field_errors *e)
{
    if (!cJSON_IsObject(spec)) {
        /* a missing spec is Go's zero PodSpec, which decoding would have defaulted */
        cJSON *zero = cJSON_CreateObject();
        podspec_defaults(zero);
        podspec_validate_opts(zero, path, o, e);
        cJSON_Delete(zero);
        return;
    }
    static const struct podspec_opts none = {false, NULL};
    struct vctx c = {o ? o : &none, cJSON_CreateObject(), cJSON_CreateObject(), false, 0};
    c.has_grace = ps_int(spec, "terminationGracePeriodSeconds", &c.grace);
    if (!ps_get(spec, "terminationGracePeriodSeconds")) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.terminationGracePeriodSeconds", path);
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
    }
    CK_AUTOFREE char *fv = ck_xasprintf("%s.volumes", path);
    validate_volumes(e, ps_get(spec, "volumes"), fv, &c);
    EACH_OBJ(cl, i, ps_get(spec, "resourceClaims"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.resourceClaims[%d].name", path, i);
        const char *n = ps_str(cl, "name");
        if (!n[0]) {
            fe_add(e, FE_REQUIRED, f, NULL, NULL);
        } else if (cJSON_GetObjectItemCaseSensitive(c.claims, n)) {
            fe_add_str(e, FE_DUPLICATE, f, n, NULL);
        } else {
            ps_check(e, f, n, ck_is_dns1123_label);
            cJSON_AddTrueToObject(c.claims, n);
        }
    }
    validate_containers(e, spec, path, &c);
    validate_init_containers(e, spec, path, &c);
    validate_ephemeral_containers(e, spec, path, &c);
    if (cJSON_IsTrue(ps_get(spec, "hostNetwork"))) {
        EACH_OBJ(ctr, i, ps_get(spec, "containers"))
        {
            EACH_OBJ(port, j, ps_get(ctr, "ports"))
            {
                int64_t hp = 0, cp = 0;
                ps_int(port, "hostPort", &hp);
                ps_int(port, "containerPort", &cp);
                if ((c.o->resource_is_pod || hp != 0) && hp != cp) {
                    CK_AUTOFREE char *f =
                        ck_xasprintf("%s.containers[%d].ports[%d].hostPort", path, i, j);
                    ps_err_int(e, FE_INVALID, f, hp,
                               "must match `containerPort` when `hostNetwork` is true");
                }
            }
        }
    }
    CK_AUTOFREE char *fr = ck_xasprintf("%s.restartPolicy", path);
    const char *rp = ps_str(spec, "restartPolicy");
    static const char *const RESTART[] = {"Always", "OnFailure", "Never", NULL};
    if (!rp[0])
        fe_add(e, FE_REQUIRED, fr, NULL, NULL);
    else if (!in_list(RESTART, rp))
        fe_not_supported(e, fr, rp, RESTART);
    CK_AUTOFREE char *fd = ck_xasprintf("%s.dnsPolicy", path);
    const char *dp = ps_str(spec, "dnsPolicy");
    static const char *const DNS[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None",
                                      NULL};
    if (!dp[0])
        fe_add(e, FE_REQUIRED, fd, NULL, NULL);
    else if (!in_list(DNS, dp))
        fe_not_supported(e, fd, dp, DNS);
    CK_AUTOFREE char *fns = ck_xasprintf("%s.nodeSelector", path);
    podspec_validate_labels(ps_get(spec, "nodeSelector"), fns, e);
    validate_pod_security_context(e, spec, path);
    EACH_OBJ(ref, i, ps_get(spec, "imagePullSecrets"))
    {
        for (const cJSON *k = ref->child; k; k = k->next) {
            if (strcmp(k->string, "name")) {
                CK_AUTOFREE char *f = ck_xasprintf("%s.imagePullSecrets[%d]", path, i);
                struct ck_buf b = CK_BUF_INIT;
                ck_buf_puts(&b, "core.LocalObjectReference{Name:");
                ck_buf_put_go_quoted(&b, ps_str(ref, "name"));
                ck_buf_putc(&b, '}');
                ps_err_raw(e, FE_INVALID, f, ck_buf_str(&b), "only name may be set");
                ck_buf_free(&b);
                break;
            }
        }
    }
    CK_AUTOFREE char *fa = ck_xasprintf("%s.affinity", path);
    validate_affinity(e, ps_get(spec, "affinity"), fa);
    validate_dns_config(e, spec, path);
    EACH_OBJ(rg, i, ps_get(spec, "readinessGates"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.readinessGates[%d].conditionType", path, i);
        ps_check(e, f, ps_str(rg, "conditionType"), ck_is_qualified_name);
    }
    cJSON *gates = cJSON_CreateObject();
    EACH_OBJ(g, i, ps_get(spec, "schedulingGates"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.schedulingGates[%d]", path, i);
        const char *n = ps_str(g, "name");
        ps_check(e, f, n, ck_is_qualified_name);
        if (seen_path(gates, n))
            fe_add_str(e, FE_DUPLICATE, f, n, NULL);
    }
    cJSON_Delete(gates);
    CK_AUTOFREE char *ft = ck_xasprintf("%s.topologySpreadConstraints", path);
    validate_topology_spread(e, ps_get(spec, "topologySpreadConstraints"), ft);
    const char *sa = ps_str(spec, "serviceAccountName");
    if (sa[0]) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.serviceAccountName", path);
        ps_check(e, f, sa, name_subdomain);
    }
    const char *node = ps_str(spec, "nodeName");
    if (node[0]) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.nodeName", path);
        ps_check(e, f, node, name_subdomain);
    }
    int64_t ads;
    if (ps_int(spec, "activeDeadlineSeconds", &ads) && (ads < 1 || ads > 2147483647)) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.activeDeadlineSeconds", path);
        ps_err_int(e, FE_INVALID, f, ads, "must be between 1 and 2147483647, inclusive");
    }
    static const char *const LABELS[] = {"hostname", "subdomain"};
    for (int k = 0; k < 2; k++) {
        const char *v = ps_str(spec, LABELS[k]);
        if (v[0]) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.%s", path, LABELS[k]);
            ps_check(e, f, v, ck_is_dns1123_label);
        }
    }
    CK_AUTOFREE char *ftol = ck_xasprintf("%s.tolerations", path);
    podspec_validate_tolerations(ps_get(spec, "tolerations"), ftol, e);
    EACH_OBJ(ha, i, ps_get(spec, "hostAliases"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.hostAliases[%d].ip", path, i);
        ps_check(e, f, ps_str(ha, "ip"), ck_is_valid_ip);
        int j = 0;
        const cJSON *h;
        cJSON_ArrayForEach(h, ps_get(ha, "hostnames"))
        {
            CK_AUTOFREE char *fh = ck_xasprintf("%s.hostAliases[%d].hostnames[%d]", path, i, j++);
            ps_check(e, fh, cJSON_IsString(h) ? h->valuestring : "", ck_is_dns1123_subdomain);
        }
    }
    const char *pcn = ps_str(spec, "priorityClassName");
    if (pcn[0]) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.priorityClassName", path);
        ps_check(e, f, pcn, name_subdomain);
    }
    const cJSON *rcn = ps_get(spec, "runtimeClassName");
    if (rcn) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.runtimeClassName", path);
        ps_check(e, f, cJSON_IsString(rcn) ? rcn->valuestring : "", name_subdomain);
    }
    const cJSON *pp = ps_get(spec, "preemptionPolicy");
    if (pp) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.preemptionPolicy", path);
        static const char *const PP[] = {"PreemptLowerPriority", "Never", NULL};
        const char *v = cJSON_IsString(pp) ? pp->valuestring : "";
        if (!v[0])
            fe_add(e, FE_REQUIRED, f, NULL, NULL);
        else if (!in_list(PP, v))
            fe_not_supported(e, f, v, PP);
    }
    const cJSON *oh = ps_get(spec, "overhead");
    if (oh) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.overhead", path);
        cJSON *req = cJSON_CreateObject();
        cJSON_AddItemToObject(req, "limits", cJSON_Duplicate(oh, 1));
        validate_resources(e, req, f, &c);
        cJSON_Delete(req);
    }
    const cJSON *os = ps_get(spec, "os");
    if (os) {
        const char *n = ps_str(os, "name");
        static const char *const OS[] = {"linux", "windows", NULL};
        CK_AUTOFREE char *f = ck_xasprintf("%s.os", path);
        CK_AUTOFREE char *fn = ck_xasprintf("%s.os.name", path);
        if (!n[0])
            fe_add(e, FE_REQUIRED, fn, NULL, "cannot be empty");
        else if (!in_list(OS, n))
            fe_not_supported(e, f, n, OS);
    }
    cJSON_Delete(c.vols);
    cJSON_Delete(c.claims);
}

void podspec_validate(const cJSON *spec, const char *path, struct field_errors *e)
{
    podspec_validate_opts(spec, path, NULL, e);
}

void podtemplate_validate(const cJSON *tmpl, const char *path, struct field_errors *e)
{
    if (!cJSON_IsObject(tmpl)) {
        cJSON *zero = cJSON_CreateObject();
        podtemplate_validate(zero, path, e);
        cJSON_Delete(zero);
        return;
    }
    const cJSON *meta = ps_get(tmpl, "metadata");
    CK_AUTOFREE char *fl = ck_xasprintf("%s.labels", path);
    CK_AUTOFREE char *fa = ck_xasprintf("%s.annotations", path);
    CK_AUTOFREE char *fs = ck_xasprintf("%s.spec", path);
    podspec_validate_labels(ps_get(meta, "labels"), fl, e);
    podspec_validate_annotations(ps_get(meta, "annotations"), fa, e);
    podspec_validate(ps_get(tmpl, "spec"), fs, e);
    if (cJSON_GetArraySize(ps_get(ps_get(tmpl, "spec"), "ephemeralContainers")) > 0) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.spec.ephemeralContainers", path);
        fe_add(e, FE_FORBIDDEN, f, NULL, "ephemeral containers not allowed in pod template");
    }
}

/* ---- Go-semantics equality ---- */

/* Members that are Go pointers (or non-omitempty), where a zero value differs from "unset". */
static const char *const POINTER_FIELDS[] = {
    "automountServiceAccountToken",
    "shareProcessNamespace",
    "setHostnameAsFQDN",
    "hostUsers",
    "priority",
    "preemptionPolicy",
    "runtimeClassName",
    "enableServiceLinks",
    "activeDeadlineSeconds",
    "terminationGracePeriodSeconds",
    "securityContext",
    "affinity",
    "dnsConfig",
    "os",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "privileged",
    "readOnlyRootFilesystem",
    "allowPrivilegeEscalation",
    "fsGroup",
    "defaultMode",
    "mode",
    "optional",
    "readOnly",
    "replicas",
    "immutable",
    "restartPolicy",
    "tolerationSeconds",
    "expirationSeconds",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "internalTrafficPolicy",
    "ipFamilyPolicy",
    "allocateLoadBalancerNodePorts",
    "loadBalancerClass",
    "sessionAffinityConfig",
    "timeoutSeconds",
    NULL,
};

static bool go_zero(const cJSON *v)
{
    if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
        return true;
    if (cJSON_IsNumber(v))
        return v->valuedouble == 0;
    if (cJSON_IsString(v))
        return !v->valuestring[0];
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        return !v->child;
    return false;
}

static bool go_equal_depth(const cJSON *a, const cJSON *b, int depth);

/* Equality of one member present on at most one side. */
static bool go_member_equal(const char *key, const cJSON *a, const cJSON *b, int depth)
{
    bool an = !a || cJSON_IsNull(a), bn = !b || cJSON_IsNull(b);
    if (an && bn)
        return true;
    if (an || bn) {
        if (in_list(POINTER_FIELDS, key))
            return false;
        return go_zero(an ? b : a);
    }
    return go_equal_depth(a, b, depth + 1);
}

static bool go_equal_depth(const cJSON *a, const cJSON *b, int depth)
{
    if (depth > CK_JSON_MAX_DEPTH)
        return false;
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        for (const cJSON *x = a->child; x; x = x->next)
            if (!go_member_equal(x->string, x, cJSON_GetObjectItemCaseSensitive(b, x->string),
                                 depth))
                return false;
        for (const cJSON *y = b->child; y; y = y->next)
            if (!cJSON_GetObjectItemCaseSensitive(a, y->string) &&
                !go_member_equal(y->string, NULL, y, depth))
                return false;
        return true;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!go_equal_depth(x, y, depth + 1))
                return false;
        return !x && !y;
    }
    if ((cJSON_IsArray(a) || cJSON_IsObject(a)) && cJSON_IsNull(b))
        return !a->child;
    if ((cJSON_IsArray(b) || cJSON_IsObject(b)) && cJSON_IsNull(a))
        return !b->child;
    return ck_json_equal(a, b);
}

bool podspec_go_equal(const cJSON *a, const cJSON *b)
{
    if ((!a || cJSON_IsNull(a)) && (!b || cJSON_IsNull(b)))
        return true;
    if (!a || !b)
        return go_zero(a ? a : b);
    return go_equal_depth(a, b, 0);
}
