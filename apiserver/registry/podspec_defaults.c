/* podspec_defaults.c - upstream's PodSpec defaulting: SetDefaults_PodSpec, _Container,
 * _ContainerPort, _Probe, _Volume and the nested defaults the generated defaulter applies
 * (pkg/apis/core/v1/defaults.go, zz_generated.defaults.go, v1.32). */
#include "podspec_internal.h"

#include <string.h>

#include "json.h"
#include "mem.h"
#include "quantity.h"

/* ---- defaults ---- */

/* Sets an integer member when it is missing, null or 0 (a non-pointer Go int). */
static void default_int_zero(cJSON *o, const char *key, int64_t def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v) || (cJSON_IsNumber(v) && v->valuedouble == 0))
        fu_put(o, key, ck_json_new_int64(def));
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
    podspec_resource_list_defaults(fu_get(res, "limits"));
    podspec_resource_list_defaults(fu_get(res, "requests"));
}

static void fieldref_defaults(cJSON *holder)
{
    cJSON *ref = fu_get(holder, "fieldRef");
    if (cJSON_IsObject(ref))
        fu_default_str(ref, "apiVersion", "v1");
}

static void http_get_defaults(cJSON *h)
{
    if (!cJSON_IsObject(h))
        return;
    fu_default_str(h, "path", "/");
    fu_default_str(h, "scheme", "HTTP");
}

static void probe_defaults(cJSON *p)
{
    if (!cJSON_IsObject(p))
        return;
    default_int_zero(p, "timeoutSeconds", 1);
    default_int_zero(p, "periodSeconds", 10);
    default_int_zero(p, "successThreshold", 1);
    default_int_zero(p, "failureThreshold", 3);
    http_get_defaults(fu_get(p, "httpGet"));
    cJSON *grpc = fu_get(p, "grpc");
    if (cJSON_IsObject(grpc))
        fu_default(grpc, "service", cJSON_CreateString(""));
}

/* SetDefaults_Container plus the nested defaults upstream's generated defaulter calls. */
static void container_defaults(cJSON *c)
{
    if (!cJSON_IsObject(c))
        return;
    if (!fu_str(c, "imagePullPolicy")[0] &&
        (!fu_get(c, "imagePullPolicy") || cJSON_IsString(fu_get(c, "imagePullPolicy")))) {
        char tag[160];
        const char *t = podspec_image_tag(fu_str(c, "image"), tag, sizeof(tag));
        fu_put(c, "imagePullPolicy",
               cJSON_CreateString(!strcmp(t, "latest") ? "Always" : "IfNotPresent"));
    }
    fu_default_str(c, "terminationMessagePath", "/dev/termination-log");
    fu_default_str(c, "terminationMessagePolicy", "File");
    EACH_OBJ(port, i, fu_get(c, "ports"))
    {
        (void)i;
        fu_default_str(port, "protocol", "TCP");
    }
    EACH_OBJ(env, i, fu_get(c, "env"))
    {
        (void)i;
        fieldref_defaults(fu_get(env, "valueFrom"));
    }
    /* ResourceRequirements is a struct, not a pointer: upstream always prints it */
    if (!fu_get(c, "resources"))
        fu_put(c, "resources", cJSON_CreateObject());
    resources_defaults(fu_get(c, "resources"));
    probe_defaults(fu_get(c, "livenessProbe"));
    probe_defaults(fu_get(c, "readinessProbe"));
    probe_defaults(fu_get(c, "startupProbe"));
    cJSON *lc = fu_get(c, "lifecycle");
    http_get_defaults(fu_get(fu_get(lc, "postStart"), "httpGet"));
    http_get_defaults(fu_get(fu_get(lc, "preStop"), "httpGet"));
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
        any = any || fu_get(v, VOLUME_SOURCES[i]);
    if (!any)
        fu_put(v, "emptyDir", cJSON_CreateObject());
    cJSON *s;
    if ((s = fu_get(v, "hostPath")) && cJSON_IsObject(s))
        fu_default(s, "type", cJSON_CreateString(""));
    if ((s = fu_get(v, "secret")) && cJSON_IsObject(s))
        fu_default(s, "defaultMode", cJSON_CreateNumber(420));
    if ((s = fu_get(v, "configMap")) && cJSON_IsObject(s))
        fu_default(s, "defaultMode", cJSON_CreateNumber(420));
    if ((s = fu_get(v, "downwardAPI")) && cJSON_IsObject(s)) {
        fu_default(s, "defaultMode", cJSON_CreateNumber(420));
        EACH_OBJ(item, i, fu_get(s, "items"))
        {
            (void)i;
            fieldref_defaults(item);
        }
    }
    if ((s = fu_get(v, "projected")) && cJSON_IsObject(s)) {
        fu_default(s, "defaultMode", cJSON_CreateNumber(420));
        EACH_OBJ(src, i, fu_get(s, "sources"))
        {
            (void)i;
            EACH_OBJ(item, j, fu_get(fu_get(src, "downwardAPI"), "items"))
            {
                (void)j;
                fieldref_defaults(item);
            }
            cJSON *tok = fu_get(src, "serviceAccountToken");
            if (cJSON_IsObject(tok))
                fu_default(tok, "expirationSeconds", cJSON_CreateNumber(3600));
        }
    }
    if ((s = fu_get(v, "iscsi")) && cJSON_IsObject(s))
        fu_default_str(s, "iscsiInterface", "default");
    if ((s = fu_get(v, "rbd")) && cJSON_IsObject(s)) {
        fu_default_str(s, "pool", "rbd");
        fu_default_str(s, "user", "admin");
        fu_default_str(s, "keyring", "/etc/ceph/keyring");
    }
    if ((s = fu_get(v, "azureDisk")) && cJSON_IsObject(s)) {
        fu_default(s, "cachingMode", cJSON_CreateString("ReadWrite"));
        fu_default(s, "fsType", cJSON_CreateString("ext4"));
        fu_default(s, "readOnly", cJSON_CreateFalse());
        fu_default(s, "kind", cJSON_CreateString("Shared"));
    }
    if ((s = fu_get(v, "scaleIO")) && cJSON_IsObject(s)) {
        fu_default_str(s, "storageMode", "ThinProvisioned");
        fu_default_str(s, "fsType", "xfs");
    }
    cJSON *tmpl = fu_get(fu_get(v, "ephemeral"), "volumeClaimTemplate");
    cJSON *pvc = fu_get(tmpl, "spec");
    if (cJSON_IsObject(pvc)) {
        fu_default(pvc, "volumeMode", cJSON_CreateString("Filesystem"));
        resources_defaults(fu_get(pvc, "resources"));
    }
}

void podspec_defaults(cJSON *spec)
{
    if (!cJSON_IsObject(spec))
        return;
    fu_default_str(spec, "dnsPolicy", "ClusterFirst");
    fu_default_str(spec, "restartPolicy", "Always");
    fu_default(spec, "securityContext", cJSON_CreateObject());
    fu_default(spec, "terminationGracePeriodSeconds", cJSON_CreateNumber(30));
    fu_default_str(spec, "schedulerName", "default-scheduler");
    EACH_OBJ(v, i, fu_get(spec, "volumes"))
    {
        (void)i;
        volume_defaults(v);
    }
    static const char *const LISTS[] = {"initContainers", "containers", "ephemeralContainers"};
    for (size_t l = 0; l < CK_ARRAY_SIZE(LISTS); l++) {
        EACH_OBJ(c, i, fu_get(spec, LISTS[l]))
        {
            (void)i;
            container_defaults(c);
        }
    }
    podspec_resource_list_defaults(fu_get(spec, "overhead"));
}

void podtemplate_defaults(cJSON *tmpl)
{
    if (!cJSON_IsObject(tmpl))
        return;
    cJSON *meta = fu_ensure_object(tmpl, "metadata");
    /* an embedded ObjectMeta prints its zero creationTimestamp as null upstream */
    if (!cJSON_GetObjectItemCaseSensitive(meta, "creationTimestamp"))
        cJSON_AddNullToObject(meta, "creationTimestamp");
    cJSON *spec = fu_get(tmpl, "spec");
    if (!spec) {
        spec = cJSON_CreateObject();
        fu_put(tmpl, "spec", spec);
    }
    podspec_defaults(spec);
}
