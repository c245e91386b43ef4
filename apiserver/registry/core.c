/* core.c - strategies of the smaller core/v1 kinds: Namespace, Node, ConfigMap, Secret, Event,
 * ReplicationController (pkg/registry/core/<kind>/strategy.go, pkg/apis/core/v1/defaults.go,
 * pkg/apis/core/validation, v1.32).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "encoding.h"
#include "fieldutil.h"
#include "graceful.h"
#include "json.h"
#include "kinds.h"
#include "mem.h"
#include "podspec.h"
#include "quantity.h"

/* upstream's MaxSecretSize, also the ConfigMap limit */
#define MAX_DATA_SIZE (1024 * 1024)
#define IMMUTABLE_MSG "field is immutable when `immutable` is set"

/* "<value>: field is immutable" on field when the members differ (Go semantics). */
static void immutable(const cJSON *obj, const cJSON *old, const char *key, const char *field,
                      struct field_errors *e)
{
    const cJSON *a = fu_get(obj, key), *b = fu_get(old, key);
    if (podspec_go_equal(a, b))
        return;
    if (cJSON_IsString(a) || !a)
        fe_add_str(e, FE_INVALID, field, a ? a->valuestring : "", "field is immutable");
    else
        fe_add(e, FE_INVALID, field, a, "field is immutable");
}

/* ---- Namespace ---- */

static const char *const NAMESPACE_FIELDS[] = {"status.phase", NULL};

/* SetDefaults_Namespace (and the strategy's Canonicalize): the kubernetes.io/metadata.name
 * label always equals the name. */
static void namespace_defaults(cJSON *ns)
{
    const char *name = fu_str(fu_get(ns, "metadata"), "name");
    if (!cJSON_IsObject(ns) || !name[0])
        return;
    CK_AUTOFREE char *copy = ck_xstrdup(name);
    cJSON *labels = fu_ensure_object(fu_ensure_object(ns, "metadata"), "labels");
    fu_put(labels, "kubernetes.io/metadata.name", cJSON_CreateString(copy));
}

/* PrepareForCreate: phase Active and the "kubernetes" finalizer. */
static void namespace_prepare_create(cJSON *ns)
{
    cJSON *status = cJSON_CreateObject();
    cJSON_AddStringToObject(status, "phase", "Active");
    fu_put(ns, "status", status);
    cJSON *spec = fu_ensure_object(ns, "spec");
    cJSON *fin = fu_get(spec, "finalizers");
    if (!cJSON_IsArray(fin)) {
        fin = cJSON_CreateArray();
        fu_put(spec, "finalizers", fin);
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, fin)
    {
        if (cJSON_IsString(f) && !strcmp(f->valuestring, "kubernetes"))
            return;
    }
    cJSON_AddItemToArray(fin, cJSON_CreateString("kubernetes"));
}

/* PrepareForUpdate: spec.finalizers change only through /finalize. */
static void namespace_prepare_update(cJSON *ns, const cJSON *old)
{
    const cJSON *of = fu_get(fu_get(old, "spec"), "finalizers");
    cJSON *spec = fu_get(ns, "spec");
    if (of)
        fu_put(fu_ensure_object(ns, "spec"), "finalizers", cJSON_Duplicate(of, 1));
    else if (cJSON_IsObject(spec))
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "finalizers");
}

/* validateFinalizerName: a qualified name; without a '/', one of the standard names. */
static void finalizer_name(const char *name, const char *field, struct field_errors *e)
{
    static const char *const STANDARD[] = {"kubernetes", "orphan", "foregroundDeletion", NULL};
    fu_check(e, field, name, ck_is_qualified_name);
    if (!strchr(name, '/') && !fu_in_list(STANDARD, name))
        fe_add_str(e, FE_INVALID, field, name,
                   "name is neither a standard finalizer name nor is it fully qualified");
}

static void namespace_validate(const cJSON *ns, struct field_errors *e)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, fu_get(fu_get(ns, "spec"), "finalizers"))
        finalizer_name(cJSON_IsString(f) ? f->valuestring : "", "spec.finalizers", e);
}

/* ValidateNamespaceStatusUpdate, for updates that change the status. */
static void namespace_validate_update(const cJSON *ns, const cJSON *old, struct field_errors *e)
{
    if (podspec_go_equal(fu_get(ns, "status"), fu_get(old, "status")))
        return;
    const char *phase = fu_str(fu_get(ns, "status"), "phase");
    if (!fu_str(fu_get(ns, "metadata"), "deletionTimestamp")[0]) {
        if (strcmp(phase, "Active"))
            fe_add_str(e, FE_INVALID, "status.Phase", phase,
                       "may only be 'Active' if `deletionTimestamp` is empty");
    } else if (strcmp(phase, "Terminating")) {
        fe_add_str(e, FE_INVALID, "status.Phase", phase,
                   "may only be 'Terminating' if `deletionTimestamp` is not empty");
    }
}

const struct strategy strategy_namespace = {
    .flags = STRAT_STATUS,
    .name_rule = NAME_DNS1123_LABEL,
    .field_labels = NAMESPACE_FIELDS,
    .defaults = namespace_defaults,
    .prepare_create = namespace_prepare_create,
    .prepare_update = namespace_prepare_update,
    .validate = namespace_validate,
    .validate_update = namespace_validate_update,
    .held = namespace_held,
    .prepare_delete = namespace_prepare_delete,
};

/* ---- Node ---- */

static const char *const NODE_FIELDS[] = {"spec.unschedulable", NULL};

/* SetDefaults_NodeStatus and the v1 conversion of podCIDR <-> podCIDRs. */
static void node_defaults(cJSON *node)
{
    cJSON *spec = fu_get(node, "spec");
    if (cJSON_IsObject(spec)) {
        const char *cidr = fu_str(spec, "podCIDR");
        const cJSON *cidrs = fu_get(spec, "podCIDRs");
        if (cidr[0] && cJSON_GetArraySize(cidrs) == 0) {
            cJSON *arr = cJSON_CreateArray();
            cJSON_AddItemToArray(arr, cJSON_CreateString(cidr));
            fu_put(spec, "podCIDRs", arr);
        } else if (!cidr[0] && cJSON_GetArraySize(cidrs) > 0 && cJSON_IsString(cidrs->child)) {
            fu_put(spec, "podCIDR", cJSON_CreateString(cidrs->child->valuestring));
        }
    }
    cJSON *status = fu_get(node, "status");
    const cJSON *cap = fu_get(status, "capacity");
    if (cJSON_IsObject(cap) && !fu_get(status, "allocatable"))
        fu_put(status, "allocatable", cJSON_Duplicate(cap, 1));
    podspec_resource_list_defaults(fu_get(status, "capacity"));
    podspec_resource_list_defaults(fu_get(status, "allocatable"));
}

/* PrepareForCreate: nodes may set everything, status included, but the retired dynamic
 * kubelet configuration fields. */
static void node_prepare_create(cJSON *node)
{
    cJSON_DeleteItemFromObjectCaseSensitive(fu_get(node, "spec"), "configSource");
    cJSON_DeleteItemFromObjectCaseSensitive(fu_get(node, "status"), "config");
}

static void node_prepare_update(cJSON *node, const cJSON *old)
{
    if (!fu_get(fu_get(old, "spec"), "configSource"))
        cJSON_DeleteItemFromObjectCaseSensitive(fu_get(node, "spec"), "configSource");
}

/* IsValidCIDR as upstream's netutils.ParseCIDRSloppy accepts it. */
static int cidr_family(const char *v)
{
    const char *slash = strchr(v, '/');
    if (!slash || slash == v || !slash[1] || strlen(v) > 128)
        return 0;
    CK_AUTOFREE char *ip = ck_xstrndup(v, (size_t)(slash - v));
    int fam = ck_parse_ip(ip, NULL);
    int bits = 0;
    for (const char *p = slash + 1; *p; p++) {
        if (*p < '0' || *p > '9' || bits > 1000)
            return 0;
        bits = bits * 10 + (*p - '0');
    }
    return fam && bits <= (fam == 4 ? 32 : 128) ? fam : 0;
}

/* validateNodeTaints; upstream reports them under metadata.taints. */
static void node_taints(const cJSON *taints, struct field_errors *e)
{
    static const char *const EFFECTS[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
    cJSON *seen = cJSON_CreateObject();
    int i = 0;
    for (const cJSON *t = cJSON_IsArray(taints) ? taints->child : NULL; t; t = t->next, i++) {
        CK_AUTOFREE char *base = ck_xasprintf("metadata.taints[%d]", i);
        CK_AUTOFREE char *fk = ck_xasprintf("%s.key", base);
        CK_AUTOFREE char *fv = ck_xasprintf("%s.value", base);
        CK_AUTOFREE char *fe_ = ck_xasprintf("%s.effect", base);
        const char *key = fu_str(t, "key"), *value = fu_str(t, "value");
        const char *effect = fu_str(t, "effect");
        fu_check(e, fk, key, ck_is_qualified_name);
        struct ck_errlist l = CK_ERRLIST_INIT;
        if (ck_is_valid_label_value(value, &l)) {
            CK_AUTOFREE char *j = ck_errlist_join(&l, ";");
            fe_add_str(e, FE_INVALID, fv, value, "%s", j);
        }
        ck_errlist_free(&l);
        fu_check_enum(e, fe_, effect, EFFECTS);
        CK_AUTOFREE char *k = ck_xasprintf("%s\n%s", effect, key);
        if (cJSON_GetObjectItemCaseSensitive(seen, k)) {
            struct ck_buf b = CK_BUF_INIT;
            ck_buf_puts(&b, "core.Taint{Key:");
            ck_buf_put_go_quoted(&b, key);
            ck_buf_puts(&b, ", Value:");
            ck_buf_put_go_quoted(&b, value);
            ck_buf_puts(&b, ", Effect:");
            ck_buf_put_go_quoted(&b, effect);
            ck_buf_puts(&b, ", TimeAdded:(*v1.Time)(nil)}");
            fe_add_raw(e, FE_DUPLICATE, base, ck_buf_str(&b),
                       "taints must be unique by key and effect pair");
            ck_buf_free(&b);
            continue;
        }
        cJSON_AddTrueToObject(seen, k);
    }
    cJSON_Delete(seen);
}

/* ValidateNodeResources: capacity and allocatable quantities. */
static void node_resources(const cJSON *status, struct field_errors *e)
{
    static const char *const LISTS[] = {"capacity", "allocatable"};
    for (int l = 0; l < 2; l++) {
        const cJSON *list = fu_get(status, LISTS[l]);
        for (const cJSON *q = cJSON_IsObject(list) ? list->child : NULL; q; q = q->next) {
            CK_AUTOFREE char *f = ck_xasprintf("status.%s.%s", LISTS[l], q->string);
            struct ck_quantity v;
            struct ck_error err = CK_ERROR_INIT;
            if (ck_quantity_parse_json(q, &v, &err) < 0) {
                fe_add(e, FE_INVALID, f, q, "%s", err.message);
                ck_error_clear(&err);
                continue;
            }
            char s[CK_QUANTITY_STR_MAX];
            ck_quantity_format(&v, s, sizeof(s));
            if (ck_quantity_sign(&v) < 0)
                fe_add_str(e, FE_INVALID, f, s, "must be greater than or equal to 0");
        }
    }
}

static void node_validate(const cJSON *node, struct field_errors *e)
{
    const cJSON *spec = fu_get(node, "spec");
    node_taints(fu_get(spec, "taints"), e);
    node_resources(fu_get(node, "status"), e);
    const cJSON *cidrs = fu_get(spec, "podCIDRs");
    int n = cJSON_GetArraySize(cidrs), i = 0, fams[2] = {0, 0};
    const cJSON *c;
    cJSON_ArrayForEach(c, cidrs)
    {
        CK_AUTOFREE char *f = ck_xasprintf("spec.podCIDRs[%d]", i);
        const char *v = cJSON_IsString(c) ? c->valuestring : "";
        int fam = cidr_family(v);
        if (!fam)
            fe_add_str(e, FE_INVALID, f, v,
                       "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
        if (i < 2)
            fams[i] = fam;
        i++;
    }
    if (n > 1) {
        CK_AUTOFREE char *v = fu_go_render(fu_go_string_slice, cidrs);
        if (n > 2 || fams[0] == fams[1] || !fams[0] || !fams[1])
            fe_add_raw(e, FE_INVALID, "spec.podCIDRs", v,
                       "may specify no more than one CIDR for each IP family");
        cJSON *seen = cJSON_CreateObject();
        i = 0;
        cJSON_ArrayForEach(c, cidrs)
        {
            const char *s = cJSON_IsString(c) ? c->valuestring : "";
            if (cJSON_GetObjectItemCaseSensitive(seen, s)) {
                CK_AUTOFREE char *f = ck_xasprintf("spec.podCIDRs[%d]", i);
                fe_add_str(e, FE_DUPLICATE, f, s, NULL);
            } else {
                cJSON_AddTrueToObject(seen, s);
            }
            i++;
        }
        cJSON_Delete(seen);
    }
}

/* core.NodeAddress{Type:"InternalIP", Address:"10.0.0.1"} */
static void go_node_address(struct ck_buf *b, const cJSON *a)
{
    static const char *const FIELDS[] = {"Type", "type", "Address", "address", NULL};
    fu_go_struct(b, "core.NodeAddress", a, FIELDS);
}

/* ValidateNodeUpdate beyond the create rules. */
static void node_validate_update(const cJSON *node, const cJSON *old, struct field_errors *e)
{
    const cJSON *spec = fu_get(node, "spec"), *ospec = fu_get(old, "spec");
    const cJSON *addrs = fu_get(fu_get(node, "status"), "addresses");
    int i = 0;
    for (const cJSON *a = cJSON_IsArray(addrs) ? addrs->child : NULL; a; a = a->next, i++) {
        for (const cJSON *b = addrs->child; b != a; b = b->next) {
            if (strcmp(fu_str(a, "type"), fu_str(b, "type")) ||
                strcmp(fu_str(a, "address"), fu_str(b, "address")))
                continue;
            CK_AUTOFREE char *f = ck_xasprintf("status.addresses[%d]", i);
            fu_add_go(e, FE_DUPLICATE, f, go_node_address, a, NULL);
            break;
        }
    }
    const cJSON *oc = fu_get(ospec, "podCIDRs"), *nc = fu_get(spec, "podCIDRs");
    if (cJSON_GetArraySize(oc) > 0) {
        const char *msg = "node updates may not change podCIDR except from \"\" to valid";
        if (cJSON_GetArraySize(oc) != cJSON_GetArraySize(nc)) {
            fe_add(e, FE_FORBIDDEN, "spec.podCIDRs", NULL, "%s", msg);
        } else {
            for (const cJSON *a = oc->child, *b = nc->child; a && b; a = a->next, b = b->next)
                if (!podspec_go_equal(a, b))
                    fe_add(e, FE_FORBIDDEN, "spec.podCIDRs", NULL, "%s", msg);
        }
    }
    const char *op = fu_str(ospec, "providerID");
    if (op[0] && strcmp(op, fu_str(spec, "providerID")))
        fe_add(e, FE_FORBIDDEN, "spec.providerID", NULL,
               "node updates may not change providerID except from \"\" to valid");
    if (strcmp(fu_str(spec, "externalID"), fu_str(ospec, "externalID")))
        fe_add(e, FE_FORBIDDEN, "spec.externalID", NULL, "may not be updated");
}

const struct strategy strategy_node = {
    .flags = STRAT_STATUS | STRAT_CREATE_STATUS,
    .field_labels = NODE_FIELDS,
    .defaults = node_defaults,
    .prepare_create = node_prepare_create,
    .prepare_update = node_prepare_update,
    .validate = node_validate,
    .validate_update = node_validate_update,
};

/* ---- base64 as Go's encoding/json decodes a []byte ---- */

/* Decodes s as Go's base64.StdEncoding does (ck_base64_decode). Returns -1 on success with
 * *decoded set to the byte count, or the offset Go reports in "illegal base64 data at input
 * byte N". */
static long go_base64_check(const char *s, size_t *decoded)
{
    uint8_t *raw = NULL;
    size_t n = 0;
    if (ck_base64_decode(s, strlen(s), &raw, &n) < 0)
        return (long)n;
    free(raw);
    *decoded = n;
    return -1;
}

/* Checks the values of a map of base64 strings (Secret data, ConfigMap binaryData): each
 * must decode as Go would; adds their decoded sizes to *total. Returns the count of bad
 * values. */
static int base64_map(const cJSON *map, const char *field, size_t *total, struct field_errors *e)
{
    int bad = 0;
    for (const cJSON *kv = cJSON_IsObject(map) ? map->child : NULL; kv; kv = kv->next) {
        CK_AUTOFREE char *f = ck_xasprintf("%s[%s]", field, kv->string);
        if (cJSON_IsNull(kv))
            continue;
        if (!cJSON_IsString(kv)) {
            fe_add(e, FE_INVALID, f, NULL, "illegal base64 data at input byte 0");
            bad++;
            continue;
        }
        size_t n = 0;
        long off = go_base64_check(kv->valuestring, &n);
        if (off >= 0) {
            fe_add(e, FE_INVALID, f, NULL, "illegal base64 data at input byte %ld", off);
            bad++;
            continue;
        }
        *total += n;
    }
    return bad;
}

/* Rewrites valid base64 values that carry line breaks the way upstream re-encodes them. */
static void canonical_base64(cJSON *map)
{
    cJSON *next;
    for (cJSON *kv = cJSON_IsObject(map) ? map->child : NULL; kv; kv = next) {
        next = kv->next;
        size_t n;
        if (!cJSON_IsString(kv) || !strpbrk(kv->valuestring, "\r\n") ||
            go_base64_check(kv->valuestring, &n) >= 0)
            continue;
        CK_AUTOFREE char *clean = ck_xstrdup(kv->valuestring);
        char *w = clean;
        for (const char *r = clean; *r; r++)
            if (*r != '\r' && *r != '\n')
                *w++ = *r;
        *w = 0;
        uint8_t *raw = NULL;
        size_t rl = 0;
        if (ck_base64_decode(clean, strlen(clean), &raw, &rl) < 0)
            continue;
        char *enc = ck_base64_encode(raw, rl);
        free(raw);
        CK_AUTOFREE char *key = ck_xstrdup(kv->string);
        cJSON_ReplaceItemInObjectCaseSensitive(map, key, cJSON_CreateString(enc));
        free(enc);
    }
}

/* ---- ConfigMap ---- */

static void configmap_defaults(cJSON *cm)
{
    canonical_base64(fu_get(cm, "binaryData"));
}

static void configmap_validate(const cJSON *cm, struct field_errors *e)
{
    size_t total = 0;
    const cJSON *data = fu_get(cm, "data"), *bin = fu_get(cm, "binaryData");
    for (const cJSON *kv = cJSON_IsObject(data) ? data->child : NULL; kv; kv = kv->next) {
        CK_AUTOFREE char *f = ck_xasprintf("data[%s]", kv->string);
        fu_check(e, f, kv->string, ck_is_config_map_key);
        if (cJSON_GetObjectItemCaseSensitive(bin, kv->string))
            fe_add_str(e, FE_INVALID, f, kv->string, "duplicate of key present in binaryData");
        if (cJSON_IsString(kv))
            total += strlen(kv->valuestring);
        else if (!cJSON_IsNull(kv))
            fe_add(e, FE_INVALID, f, kv, "must be a string");
    }
    for (const cJSON *kv = cJSON_IsObject(bin) ? bin->child : NULL; kv; kv = kv->next) {
        CK_AUTOFREE char *f = ck_xasprintf("binaryData[%s]", kv->string);
        fu_check(e, f, kv->string, ck_is_config_map_key);
    }
    base64_map(bin, "binaryData", &total, e);
    if (total > MAX_DATA_SIZE)
        fe_add(e, FE_TOO_LONG, "[]", NULL, "must have at most %d bytes", MAX_DATA_SIZE);
}

static void configmap_validate_update(const cJSON *cm, const cJSON *old, struct field_errors *e)
{
    if (!cJSON_IsTrue(fu_get(old, "immutable")))
        return;
    if (!cJSON_IsTrue(fu_get(cm, "immutable")))
        fe_add(e, FE_FORBIDDEN, "immutable", NULL, IMMUTABLE_MSG);
    if (!podspec_go_equal(fu_get(cm, "data"), fu_get(old, "data")))
        fe_add(e, FE_FORBIDDEN, "data", NULL, IMMUTABLE_MSG);
    if (!podspec_go_equal(fu_get(cm, "binaryData"), fu_get(old, "binaryData")))
        fe_add(e, FE_FORBIDDEN, "binaryData", NULL, IMMUTABLE_MSG);
}

const struct strategy strategy_configmap = {
    .flags = 0,
    .defaults = configmap_defaults,
    .validate = configmap_validate,
    .validate_update = configmap_validate_update,
};

/* ---- Secret ---- */

static const char *const SECRET_FIELDS[] = {"type", NULL};

/* SetDefaults_Secret, and the v1 conversion that folds stringData into data. */
static void secret_defaults(cJSON *s)
{
    if (!cJSON_IsObject(s))
        return;
    fu_default_str(s, "type", "Opaque");
    cJSON *sd = fu_get(s, "stringData");
    if (cJSON_IsObject(sd)) {
        cJSON *data = fu_ensure_object(s, "data");
        for (const cJSON *kv = sd->child; kv; kv = kv->next) {
            const char *v = cJSON_IsString(kv) ? kv->valuestring : "";
            char *enc = ck_base64_encode(v, strlen(v));
            fu_put(data, kv->string, cJSON_CreateString(enc));
            free(enc);
        }
        if (!data->child)
            cJSON_DeleteItemFromObjectCaseSensitive(s, "data");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(s, "stringData");
    canonical_base64(fu_get(s, "data"));
}

/* Whether data[key] holds a non-empty value (Go: len(secret.Data[key]) > 0). */
static bool data_nonempty(const cJSON *data, const char *key)
{
    return fu_str(data, key)[0] != 0;
}

/* The JSON a docker config key must hold, as Go's json.Unmarshal into a map checks it. */
static void docker_json(const cJSON *data, const char *key, struct field_errors *e)
{
    CK_AUTOFREE char *f = ck_xasprintf("data[%s]", key);
    const cJSON *v = fu_get(data, key);
    if (!v) {
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
        return;
    }
    uint8_t *raw = NULL;
    size_t n = 0, dn;
    if (!cJSON_IsString(v) || go_base64_check(v->valuestring, &dn) >= 0 ||
        ck_base64_decode(v->valuestring, strlen(v->valuestring), &raw, &n) < 0)
        return; /* reported as bad base64 already */
    struct ck_error err = CK_ERROR_INIT;
    struct ck_json_parse_opts o = {.raw_message = true};
    cJSON *j = ck_json_parse_with((const char *)raw, n, &o, &err);
    if (!j) {
        fe_add_str(e, FE_INVALID, f, "<secret contents redacted>", "%s", err.message);
    } else if (!cJSON_IsObject(j) && !cJSON_IsNull(j)) {
        const char *t = cJSON_IsArray(j)    ? "array"
                        : cJSON_IsString(j) ? "string"
                        : cJSON_IsNumber(j) ? "number"
                                            : "bool";
        fe_add_str(e, FE_INVALID, f, "<secret contents redacted>",
                   "json: cannot unmarshal %s into Go value of type map[string]interface {}", t);
    }
    cJSON_Delete(j);
    ck_error_clear(&err);
    free(raw);
}

static void secret_validate(const cJSON *s, struct field_errors *e)
{
    const cJSON *data = fu_get(s, "data");
    size_t total = 0;
    for (const cJSON *kv = cJSON_IsObject(data) ? data->child : NULL; kv; kv = kv->next) {
        CK_AUTOFREE char *f = ck_xasprintf("data[%s]", kv->string);
        fu_check(e, f, kv->string, ck_is_config_map_key);
    }
    base64_map(data, "data", &total, e);
    if (total > MAX_DATA_SIZE)
        fe_add(e, FE_TOO_LONG, "data", NULL, "must have at most %d bytes", MAX_DATA_SIZE);
    const char *type = fu_str(s, "type");
    if (!strcmp(type, "kubernetes.io/service-account-token")) {
        const cJSON *ann = fu_get(fu_get(s, "metadata"), "annotations");
        if (!fu_str(ann, "kubernetes.io/service-account.name")[0])
            fe_add(e, FE_REQUIRED, "metadata.annotations[kubernetes.io/service-account.name]", NULL,
                   NULL);
    } else if (!strcmp(type, "kubernetes.io/dockercfg")) {
        docker_json(data, ".dockercfg", e);
    } else if (!strcmp(type, "kubernetes.io/dockerconfigjson")) {
        docker_json(data, ".dockerconfigjson", e);
    } else if (!strcmp(type, "kubernetes.io/basic-auth")) {
        if (!fu_get(data, "username") && !fu_get(data, "password") &&
            !cJSON_GetObjectItemCaseSensitive(data, "username") &&
            !cJSON_GetObjectItemCaseSensitive(data, "password")) {
            fe_add(e, FE_REQUIRED, "data[username]", NULL, NULL);
            fe_add(e, FE_REQUIRED, "data[password]", NULL, NULL);
        }
    } else if (!strcmp(type, "kubernetes.io/ssh-auth")) {
        if (!data_nonempty(data, "ssh-privatekey"))
            fe_add(e, FE_REQUIRED, "data[ssh-privatekey]", NULL, NULL);
    } else if (!strcmp(type, "kubernetes.io/tls")) {
        if (!cJSON_GetObjectItemCaseSensitive(data, "tls.crt"))
            fe_add(e, FE_REQUIRED, "data[tls.crt]", NULL, NULL);
        if (!cJSON_GetObjectItemCaseSensitive(data, "tls.key"))
            fe_add(e, FE_REQUIRED, "data[tls.key]", NULL, NULL);
    }
}

static void secret_validate_update(const cJSON *s, const cJSON *old, struct field_errors *e)
{
    immutable(s, old, "type", "type", e);
    if (!cJSON_IsTrue(fu_get(old, "immutable")))
        return;
    if (!cJSON_IsTrue(fu_get(s, "immutable")))
        fe_add(e, FE_FORBIDDEN, "immutable", NULL, IMMUTABLE_MSG);
    if (!podspec_go_equal(fu_get(s, "data"), fu_get(old, "data")))
        fe_add(e, FE_FORBIDDEN, "data", NULL, IMMUTABLE_MSG);
}

const struct strategy strategy_secret = {
    .flags = 0,
    .field_labels = SECRET_FIELDS,
    .defaults = secret_defaults,
    .validate = secret_validate,
    .validate_update = secret_validate_update,
};

/* ---- Event ---- */

static const char *const EVENT_FIELDS[] = {
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    NULL,
};

/* legacyValidateEvent: all a core/v1 Event gets, on create and on update. */
static void event_validate(const cJSON *ev, struct field_errors *e)
{
    const char *ns = fu_str(fu_get(ev, "metadata"), "namespace");
    const char *ins = fu_str(fu_get(ev, "involvedObject"), "namespace");
    if (!fu_str(ev, "eventTime")[0]) {
        if (!ins[0] ? (ns[0] && strcmp(ns, "default")) : strcmp(ns, ins))
            fe_add_str(e, FE_INVALID, "involvedObject.namespace", ins,
                       "does not match event.namespace");
    } else {
        if (!ins[0] && strcmp(ns, "default") && strcmp(ns, "kube-system"))
            fe_add_str(e, FE_INVALID, "involvedObject.namespace", ins,
                       "does not match event.namespace");
        const char *rc = fu_str(ev, "reportingComponent");
        if (!rc[0])
            fe_add(e, FE_REQUIRED, "reportingController", NULL, NULL);
        fu_check(e, "reportingController", rc, ck_is_qualified_name);
        static const struct {
            const char *key;
            size_t limit;
            bool required;
        } LIMITS[] = {
            {"reportingInstance", 128, true},
            {"action", 128, true},
            {"reason", 128, true},
            {"message", 1024, false},
        };
        for (size_t i = 0; i < CK_ARRAY_SIZE(LIMITS); i++) {
            const char *v = fu_str(ev, LIMITS[i].key);
            if (LIMITS[i].required && !v[0])
                fe_add(e, FE_REQUIRED, LIMITS[i].key, NULL, NULL);
            if (strlen(v) > LIMITS[i].limit)
                fe_add_str(e, FE_INVALID, LIMITS[i].key, "", "can have at most %zu characters",
                           LIMITS[i].limit);
        }
    }
    fu_check(e, "namespace", ns, ck_is_dns1123_subdomain);
}

const struct strategy strategy_event = {
    .flags = 0,
    .name_rule = NAME_PATH_SEGMENT,
    .field_labels = EVENT_FIELDS,
    .validate = event_validate,
};

/* ---- ReplicationController ---- */

static const char *const RC_FIELDS[] = {"status.replicas", NULL};

/* SetDefaults_ReplicationController: selector and labels from the template's labels,
 * replicas 1; the template gets the PodSpec defaults. */
static void rc_defaults(cJSON *rc)
{
    if (!cJSON_IsObject(rc))
        return;
    cJSON *spec = fu_ensure_object(rc, "spec");
    cJSON *tmpl = fu_get(spec, "template");
    const cJSON *labels = fu_get(fu_get(tmpl, "metadata"), "labels");
    if (cJSON_IsObject(labels)) {
        if (cJSON_GetArraySize(fu_get(spec, "selector")) == 0)
            fu_put(spec, "selector", cJSON_Duplicate(labels, 1));
        cJSON *meta = fu_ensure_object(rc, "metadata");
        if (cJSON_GetArraySize(fu_get(meta, "labels")) == 0)
            fu_put(meta, "labels", cJSON_Duplicate(labels, 1));
    }
    if (!fu_get(spec, "replicas"))
        fu_put(spec, "replicas", cJSON_CreateNumber(1));
    if (cJSON_IsObject(tmpl))
        podtemplate_defaults(tmpl);
}

/* The status upstream prints for a new controller (replicas is not omitempty). */
static void rc_prepare_create(cJSON *rc)
{
    cJSON *status = cJSON_CreateObject();
    cJSON_AddNumberToObject(status, "replicas", 0);
    fu_put(rc, "status", status);
}

static void nonnegative(const cJSON *o, const char *key, const char *field, struct field_errors *e)
{
    int64_t v;
    if (fu_int(o, key, &v) && v < 0)
        fe_add_int(e, FE_INVALID, field, v, "must be greater than or equal to 0");
}

/* ValidateReplicationControllerSpec */
static void rc_validate(const cJSON *rc, struct field_errors *e)
{
    const cJSON *spec = fu_get(rc, "spec");
    nonnegative(spec, "minReadySeconds", "spec.minReadySeconds", e);
    const cJSON *sel = fu_get(spec, "selector");
    if (cJSON_GetArraySize(sel) == 0)
        fe_add(e, FE_REQUIRED, "spec.selector", NULL, NULL);
    nonnegative(spec, "replicas", "spec.replicas", e);
    const cJSON *tmpl = fu_get(spec, "template");
    if (!tmpl) {
        fe_add(e, FE_REQUIRED, "spec.template", NULL, NULL);
        return;
    }
    const cJSON *labels = fu_get(fu_get(tmpl, "metadata"), "labels");
    bool match = true;
    for (const cJSON *kv = cJSON_IsObject(sel) ? sel->child : NULL; kv; kv = kv->next) {
        const cJSON *lv = fu_get(labels, kv->string);
        if (!cJSON_IsString(lv) || !cJSON_IsString(kv) || strcmp(lv->valuestring, kv->valuestring))
            match = false;
    }
    if (!match) {
        fu_add_go(e, FE_INVALID, "spec.template.metadata.labels", fu_go_string_map, labels,
                  "`selector` does not match template `labels`");
    }
    podtemplate_validate(tmpl, "spec.template", e);
    const cJSON *tspec = fu_get(tmpl, "spec");
    const char *rp = fu_str(tspec, "restartPolicy");
    if (strcmp(rp, "Always")) {
        static const char *const ALWAYS[] = {"Always", NULL};
        fe_not_supported(e, "spec.template.spec.restartPolicy", rp, ALWAYS);
    }
    if (fu_get(tspec, "activeDeadlineSeconds"))
        fe_add(e, FE_FORBIDDEN, "spec.template.spec.activeDeadlineSeconds", NULL,
               "activeDeadlineSeconds in ReplicationController is not Supported");
}

/* ValidateReplicationControllerStatus, for updates that change the status. */
static void rc_validate_update(const cJSON *rc, const cJSON *old, struct field_errors *e)
{
    const cJSON *st = fu_get(rc, "status");
    if (podspec_go_equal(st, fu_get(old, "status")))
        return;
    static const char *const FIELDS[] = {"replicas", "fullyLabeledReplicas", "readyReplicas",
                                         "availableReplicas", "observedGeneration"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(FIELDS); i++) {
        CK_AUTOFREE char *f = ck_xasprintf("status.%s", FIELDS[i]);
        nonnegative(st, FIELDS[i], f, e);
    }
    int64_t rep = 0, fl = 0, ready = 0, avail = 0;
    fu_int(st, "replicas", &rep);
    fu_int(st, "fullyLabeledReplicas", &fl);
    fu_int(st, "readyReplicas", &ready);
    fu_int(st, "availableReplicas", &avail);
    const char *msg = "cannot be greater than status.replicas";
    if (fl > rep)
        fe_add_int(e, FE_INVALID, "status.fullyLabeledReplicas", fl, "%s", msg);
    if (ready > rep)
        fe_add_int(e, FE_INVALID, "status.readyReplicas", ready, "%s", msg);
    if (avail > rep)
        fe_add_int(e, FE_INVALID, "status.availableReplicas", avail, "%s", msg);
    if (avail > ready)
        fe_add_int(e, FE_INVALID, "status.availableReplicas", avail,
                   "cannot be greater than readyReplicas");
}

const struct strategy strategy_replicationcontroller = {
    .flags = STRAT_STATUS | STRAT_GENERATION,
    .field_labels = RC_FIELDS,
    .defaults = rc_defaults,
    .prepare_create = rc_prepare_create,
    .validate = rc_validate,
    .validate_update = rc_validate_update,
};
