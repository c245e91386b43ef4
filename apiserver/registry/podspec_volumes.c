/* podspec_volumes.c - the volume rules of ValidatePodSpec: one volume source per volume, each
 * source's own rules (secret, configMap, projected, downwardAPI, hostPath, ephemeral, ...),
 * and unique names (pkg/apis/core/validation, v1.32). */
#include "podspec_internal.h"

#include <string.h>

#include "mem.h"
#include "quantity.h"

/* ---- volumes ---- */

static void key_to_path(struct field_errors *e, const cJSON *kp, const char *base)
{
    CK_AUTOFREE char *fk = ck_xasprintf("%s.key", base);
    CK_AUTOFREE char *fp = ck_xasprintf("%s.path", base);
    CK_AUTOFREE char *fm = ck_xasprintf("%s.mode", base);
    if (!fu_str(kp, "key")[0])
        fe_add(e, FE_REQUIRED, fk, NULL, NULL);
    if (!fu_str(kp, "path")[0])
        fe_add(e, FE_REQUIRED, fp, NULL, NULL);
    ps_local_non_reserved(e, fp, fu_str(kp, "path"));
    ps_file_mode(e, kp, "mode", fm);
}

static void items_key_to_path(struct field_errors *e, const cJSON *src, const char *base)
{
    EACH_OBJ(kp, i, fu_get(src, "items"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.items[%d]", base, i);
        key_to_path(e, kp, f);
    }
}

static void v_empty_dir(struct field_errors *e, const cJSON *s, const char *base)
{
    const cJSON *lim = fu_get(s, "sizeLimit");
    struct ck_quantity q;
    if (lim && ck_quantity_parse_json(lim, &q, NULL) == 0 && ck_quantity_sign(&q) < 0) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.sizeLimit", base);
        fe_add(e, FE_FORBIDDEN, f, NULL, "SizeLimit field must be a valid resource quantity");
    }
}

static void v_host_path(struct field_errors *e, const cJSON *s, const char *base)
{
    CK_AUTOFREE char *fp = ck_xasprintf("%s.path", base);
    const char *p = fu_str(s, "path");
    if (!p[0]) {
        fe_add(e, FE_REQUIRED, fp, NULL, NULL);
        return;
    }
    ps_no_backsteps(e, fp, p);
    const cJSON *t = fu_get(s, "type");
    static const char *const TYPES[] = {
        "",     "BlockDevice",  "CharDevice", "Directory", "DirectoryOrCreate",
        "File", "FileOrCreate", "Socket",     NULL};
    if (cJSON_IsString(t) && !fu_in_list(TYPES, t->valuestring)) {
        CK_AUTOFREE char *ft = ck_xasprintf("%s.type", base);
        fe_not_supported(e, ft, t->valuestring, TYPES);
    }
}

static void v_git_repo(struct field_errors *e, const cJSON *s, const char *base)
{
    ps_required_str(e, s, "repository", base, NULL);
    CK_AUTOFREE char *f = ck_xasprintf("%s.directory", base);
    ps_local_descending(e, f, fu_str(s, "directory"));
}

static void v_secret(struct field_errors *e, const cJSON *s, const char *base)
{
    ps_required_str(e, s, "secretName", base, NULL);
    CK_AUTOFREE char *f = ck_xasprintf("%s.defaultMode", base);
    ps_file_mode(e, s, "defaultMode", f);
    items_key_to_path(e, s, base);
}

static void v_config_map(struct field_errors *e, const cJSON *s, const char *base)
{
    ps_required_str(e, s, "name", base, NULL);
    CK_AUTOFREE char *f = ck_xasprintf("%s.defaultMode", base);
    ps_file_mode(e, s, "defaultMode", f);
    items_key_to_path(e, s, base);
}

static void v_nfs(struct field_errors *e, const cJSON *s, const char *base)
{
    ps_required_str(e, s, "server", base, NULL);
    ps_required_str(e, s, "path", base, NULL);
    if (fu_str(s, "path")[0] != '/') {
        CK_AUTOFREE char *f = ck_xasprintf("%s.path", base);
        fe_add_str(e, FE_INVALID, f, fu_str(s, "path"), "must be an absolute path");
    }
}

static void v_pvc(struct field_errors *e, const cJSON *s, const char *base)
{
    ps_required_str(e, s, "claimName", base, NULL);
}

static void downward_file(struct field_errors *e, const cJSON *file, const char *base)
{
    CK_AUTOFREE char *fp = ck_xasprintf("%s.path", base);
    const char *p = fu_str(file, "path");
    if (!p[0])
        fe_add(e, FE_REQUIRED, fp, NULL, NULL);
    ps_local_non_reserved(e, fp, p);
    const cJSON *fr = fu_get(file, "fieldRef"), *rr = fu_get(file, "resourceFieldRef");
    if (fr) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.fieldRef", base);
        ps_object_field_selector(e, fr, PS_VOLUME_FIELD_PATHS, f);
        if (rr)
            fe_add_str(e, FE_INVALID, base, "resource",
                       "fieldRef and resourceFieldRef can not be specified simultaneously");
    } else if (rr) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.resourceFieldRef", base);
        ps_resource_field_selector(e, rr, f, true);
    } else {
        fe_add(e, FE_REQUIRED, base, NULL, "one of fieldRef and resourceFieldRef is required");
    }
    CK_AUTOFREE char *fm = ck_xasprintf("%s.mode", base);
    ps_file_mode(e, file, "mode", fm);
}

static void v_downward_api(struct field_errors *e, const cJSON *s, const char *base)
{
    CK_AUTOFREE char *f = ck_xasprintf("%s.defaultMode", base);
    ps_file_mode(e, s, "defaultMode", f);
    /* upstream reports every item at the volume source's own path */
    EACH_OBJ(file, i, fu_get(s, "items"))
    {
        (void)i;
        downward_file(e, file, base);
    }
}

static void projected_items(struct field_errors *e, const cJSON *src, const char *pp,
                            const char *base, cJSON *paths)
{
    ps_required_str(e, src, "name", pp, NULL);
    EACH_OBJ(kp, j, fu_get(src, "items"))
    {
        CK_AUTOFREE char *f = ck_xasprintf("%s.items[%d]", pp, j);
        key_to_path(e, kp, f);
        const char *p = fu_str(kp, "path");
        if (p[0] && fu_seen(paths, p))
            fe_add_str(e, FE_INVALID, base, fu_str(src, "name"), "conflicting duplicate paths");
    }
}

static void v_projected(struct field_errors *e, const cJSON *s, const char *base)
{
    CK_AUTOFREE char *fm = ck_xasprintf("%s.defaultMode", base);
    ps_file_mode(e, s, "defaultMode", fm);
    cJSON *paths = cJSON_CreateObject();
    EACH_OBJ(src, i, fu_get(s, "sources"))
    {
        int n = 0;
        CK_AUTOFREE char *sp = ck_xasprintf("%s.sources[%d]", base, i);
        const cJSON *x;
        if ((x = fu_get(src, "secret"))) {
            n++;
            CK_AUTOFREE char *pp = ck_xasprintf("%s.secret", sp);
            projected_items(e, x, pp, base, paths);
        }
        if ((x = fu_get(src, "configMap"))) {
            n++;
            CK_AUTOFREE char *pp = ck_xasprintf("%s.configMap", sp);
            projected_items(e, x, pp, base, paths);
        }
        if ((x = fu_get(src, "downwardAPI"))) {
            n++;
            CK_AUTOFREE char *pp = ck_xasprintf("%s.downwardAPI", sp);
            EACH_OBJ(file, j, fu_get(x, "items"))
            {
                (void)j;
                downward_file(e, file, pp);
                const char *p = fu_str(file, "path");
                if (p[0] && fu_seen(paths, p))
                    fe_add_str(e, FE_INVALID, base, p, "conflicting duplicate paths");
            }
        }
        if ((x = fu_get(src, "serviceAccountToken"))) {
            n++;
            CK_AUTOFREE char *fe_ = ck_xasprintf("%s.serviceAccountToken.expirationSeconds", sp);
            int64_t exp = 0;
            fu_int(x, "expirationSeconds", &exp);
            if (exp < 600)
                fe_add_int(e, FE_INVALID, fe_, exp,
                           "may not specify a duration less than 10 minutes");
            if (exp > ((int64_t)1 << 32))
                fe_add_int(e, FE_INVALID, fe_, exp,
                           "may not specify a duration larger than 2^32 seconds");
            CK_AUTOFREE char *fp = ck_xasprintf("%s.path", base);
            if (!fu_str(x, "path")[0])
                fe_add(e, FE_REQUIRED, fp, NULL, NULL);
            else
                ps_local_non_reserved(e, fp, fu_str(x, "path"));
        }
        if ((x = fu_get(src, "clusterTrustBundle"))) {
            n++;
            CK_AUTOFREE char *pp = ck_xasprintf("%s.clusterTrustBundle", sp);
            ps_required_str(e, x, "path", pp, NULL);
        }
        if (n > 1)
            fe_add(e, FE_FORBIDDEN, sp, NULL, "may not specify more than 1 volume type per source");
    }
    cJSON_Delete(paths);
}

static void v_iscsi(struct field_errors *e, const cJSON *s, const char *base)
{
    ps_required_str(e, s, "targetPortal", base, NULL);
    const char *iqn = fu_str(s, "iqn");
    CK_AUTOFREE char *fi = ck_xasprintf("%s.iqn", base);
    if (!iqn[0])
        fe_add(e, FE_REQUIRED, fi, NULL, NULL);
    else if (strncmp(iqn, "iqn", 3) && strncmp(iqn, "eui", 3) && strncmp(iqn, "naa", 3))
        fe_add_str(e, FE_INVALID, fi, iqn, "must be valid format starting with iqn, eui, or naa");
    int64_t lun = 0;
    fu_int(s, "lun", &lun);
    if (lun < 0 || lun > 255) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.lun", base);
        fe_add_int(e, FE_INVALID, f, lun, "must be between 0 and 255, inclusive");
    }
    if ((cJSON_IsTrue(fu_get(s, "chapAuthDiscovery")) ||
         cJSON_IsTrue(fu_get(s, "chapAuthSession"))) &&
        !fu_get(s, "secretRef")) {
        CK_AUTOFREE char *f = ck_xasprintf("%s.secretRef", base);
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
    }
}

static void v_csi(struct field_errors *e, const cJSON *s, const char *base)
{
    const char *d = fu_str(s, "driver");
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
    fu_add_msgs(e, f, d, &l);
}

static void v_ephemeral(struct field_errors *e, const cJSON *s, const char *base)
{
    const cJSON *t = fu_get(s, "volumeClaimTemplate");
    CK_AUTOFREE char *f = ck_xasprintf("%s.volumeClaimTemplate", base);
    if (!t) {
        fe_add(e, FE_REQUIRED, f, NULL, NULL);
        return;
    }
    const cJSON *spec = fu_get(t, "spec");
    CK_AUTOFREE char *fa = ck_xasprintf("%s.spec.accessModes", f);
    if (cJSON_GetArraySize(fu_get(spec, "accessModes")) == 0)
        fe_add(e, FE_REQUIRED, fa, NULL, "at least 1 access mode is required");
    if (!fu_get(fu_get(fu_get(spec, "resources"), "requests"), "storage")) {
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
            ps_required_str(e, s, SIMPLE_SOURCES[i].required[r], b, NULL);
        if ((!strcmp(key, "rbd") || !strcmp(key, "cephfs")) &&
            cJSON_GetArraySize(fu_get(s, "monitors")) == 0) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.monitors", b);
            fe_add(e, FE_REQUIRED, f, NULL, NULL);
        }
        if (!strcmp(key, "fc") && cJSON_GetArraySize(fu_get(s, "targetWWNs")) == 0 &&
            cJSON_GetArraySize(fu_get(s, "wwids")) == 0) {
            CK_AUTOFREE char *f = ck_xasprintf("%s.targetWWNs", b);
            fe_add(e, FE_REQUIRED, f, NULL,
                   "must specify either targetWWNs or wwids, but not both");
        }
        if (!strcmp(key, "flocker") && !fu_str(s, "datasetName")[0] && !fu_str(s, "datasetUUID")[0])
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
                          const struct ps_vctx *c)
{
    int n = 0;
    for (size_t i = 0; i < CK_ARRAY_SIZE(SOURCES); i++) {
        const cJSON *s = fu_get(vol, SOURCES[i].key);
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
            fu_str(vol, "name")[0]) {
            CK_AUTOFREE char *pvc = ck_xasprintf("%s-%s", c->o->pod_name, fu_str(vol, "name"));
            struct ck_errlist l = CK_ERRLIST_INIT;
            ck_name_is_dns_subdomain(pvc, false, &l);
            CK_AUTOFREE char *fnm = ck_xasprintf("%s.name", base);
            for (size_t k = 0; k < l.n; k++)
                fe_add_str(e, FE_INVALID, fnm, fu_str(vol, "name"), "PVC name \"%s\": %s", pvc,
                           l.items[k]);
            ck_errlist_free(&l);
        }
    }
    if (n == 0)
        fe_add(e, FE_REQUIRED, base, NULL, "must specify a volume type");
}

void ps_validate_volumes(struct field_errors *e, const cJSON *vols, const char *path,
                         struct ps_vctx *c)
{
    EACH_OBJ(vol, i, vols)
    {
        CK_AUTOFREE char *base = ck_xasprintf("%s[%d]", path, i);
        CK_AUTOFREE char *fname = ck_xasprintf("%s.name", base);
        const char *name = fu_str(vol, "name");
        struct field_errors el = FIELD_ERRORS_INIT;
        volume_source(&el, vol, base, c);
        ps_required_label(&el, fname, name);
        if (cJSON_GetObjectItemCaseSensitive(c->vols, name))
            fe_add_str(&el, FE_DUPLICATE, fname, name, NULL);
        if (el.len == 0) {
            bool pvc = fu_get(vol, "persistentVolumeClaim") || fu_get(vol, "ephemeral");
            cJSON_AddStringToObject(c->vols, name, pvc ? "pvc" : "other");
        }
        fe_move(e, &el); /* the volume's errors, in order */
        const cJSON *pvc = fu_get(vol, "persistentVolumeClaim");
        if (pvc && c->o && c->o->pod_name && c->o->pod_name[0]) {
            const char *claim = fu_str(pvc, "claimName");
            EACH_OBJ(other, j, vols)
            {
                (void)j;
                if (!fu_get(other, "ephemeral"))
                    continue;
                CK_AUTOFREE char *gen =
                    ck_xasprintf("%s-%s", c->o->pod_name, fu_str(other, "name"));
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
