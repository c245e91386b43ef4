/* print_storage.c - printers for volumes and storage.k8s.io: PersistentVolume,
 * PersistentVolumeClaim (access modes as RWO/ROX/RWX/RWOP, the beta storage-class annotation
 * first), StorageClass ("(default)" suffix), CSIDriver, CSINode, CSIStorageCapacity and
 * VolumeAttachment, as upstream's printers.go. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "printers_internal.h"

#define BETA_STORAGE_CLASS_ANNOTATION "volume.beta.kubernetes.io/storage-class"

/* helper.GetAccessModesAsString: the modes present, in this fixed order. */
static char *access_modes(const cJSON *modes)
{
    static const struct {
        const char *mode, *abbrev;
    } order[] = {
        {"ReadWriteOnce", "RWO"},
        {"ReadOnlyMany", "ROX"},
        {"ReadWriteMany", "RWX"},
        {"ReadWriteOncePod", "RWOP"},
    };
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; i < CK_ARRAY_SIZE(order); i++) {
        const cJSON *m;
        bool found = false;
        if (cJSON_IsArray(modes)) {
            cJSON_ArrayForEach(m, modes)
            {
                if (!strcmp(ck_json_as_string(m, ""), order[i].mode))
                    found = true;
            }
        }
        if (!found)
            continue;
        if (b.len)
            ck_buf_putc(&b, ',');
        ck_buf_puts(&b, order[i].abbrev);
    }
    return ck_buf_detach(&b);
}

/* The storage class: the beta annotation when present, else spec.storageClassName. */
static const char *storage_class(const cJSON *obj)
{
    const cJSON *beta =
        ck_json_getv(obj, "metadata", "annotations", BETA_STORAGE_CLASS_ANNOTATION, NULL);
    if (cJSON_IsString(beta))
        return beta->valuestring;
    return pj_str(obj, "spec.storageClassName");
}

static const char *or_unset(const cJSON *obj, const char *path)
{
    return pj_set(obj, path) ? pj_str(obj, path) : "<unset>";
}

/* ---- PersistentVolume ---- */

static const struct printer_column PV_COLUMNS[] = {
    COL_NAME,
    COL("Capacity", "string",
        "capacity is the description of the persistent volume's resources "
        "and capacity."),
    COL("Access Modes", "string", "accessModes contains all ways the volume can be mounted."),
    COL("Reclaim Policy", "string",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when "
        "released from its claim. Valid options are Retain (default for manually created "
        "PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), "
        "and Recycle (deprecated)."),
    COL("Status", "string",
        "phase indicates if a volume is available, bound to a claim, or released by a claim."),
    COL("Claim", "string",
        "claimRef is part of a bi-directional binding between PersistentVolume and "
        "PersistentVolumeClaim."),
    COL("StorageClass", "string", "StorageClass of the pv"),
    COL("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
    COL("Reason", "string",
        "reason is a brief CamelCase string that describes any failure and is meant for "
        "machine parsing and tidy display in the CLI."),
    COL_AGE,
    COL_WIDE("VolumeMode", "string",
             "volumeMode defines if a volume is intended to be used with a formatted filesystem "
             "or to remain in raw block state. Value of Filesystem is implied when not included "
             "in spec."),
    COL_END,
};

static void print_pv(struct prow *row, const cJSON *pv)
{
    cell_name(row, pv);
    cell_take(row, fmt_quantity(ck_json_get(pv, "spec.capacity.storage")));
    cell_take(row, access_modes(ck_json_get(pv, "spec.accessModes")));
    cell_str(row, pj_str(pv, "spec.persistentVolumeReclaimPolicy"));
    cell_str(row,
             pj_set(pv, "metadata.deletionTimestamp") ? "Terminating" : pj_str(pv, "status.phase"));
    if (pj_set(pv, "spec.claimRef"))
        cell_fmt(row, "%s/%s", pj_str(pv, "spec.claimRef.namespace"),
                 pj_str(pv, "spec.claimRef.name"));
    else
        cell_str(row, "");
    cell_str(row, storage_class(pv));
    cell_str(row, or_unset(pv, "spec.volumeAttributesClassName"));
    cell_str(row, pj_str(pv, "status.reason"));
    cell_age(row, pv);
    cell_str(row, or_unset(pv, "spec.volumeMode"));
}

/* ---- PersistentVolumeClaim ---- */

static const struct printer_column PVC_COLUMNS[] = {
    COL_NAME,
    COL("Status", "string", "phase represents the current phase of PersistentVolumeClaim."),
    COL("Volume", "string",
        "volumeName is the binding reference to the PersistentVolume backing this claim."),
    COL("Capacity", "string",
        "capacity represents the actual resources of the underlying "
        "volume."),
    COL("Access Modes", "string",
        "accessModes contains the actual access modes the volume backing the PVC has."),
    COL("StorageClass", "string", "StorageClass of the pvc"),
    COL("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
    COL_AGE,
    COL_WIDE("VolumeMode", "string",
             "volumeMode defines what type of volume is required by the claim. Value of "
             "Filesystem is implied when not included in claim spec."),
    COL_END,
};

static void print_pvc(struct prow *row, const cJSON *pvc)
{
    bool bound = *pj_str(pvc, "spec.volumeName") != '\0';
    cell_name(row, pvc);
    cell_str(row, pj_set(pvc, "metadata.deletionTimestamp") ? "Terminating"
                                                            : pj_str(pvc, "status.phase"));
    cell_str(row, pj_str(pvc, "spec.volumeName"));
    /* capacity and access modes only once bound */
    cell_take(row,
              bound ? fmt_quantity(ck_json_get(pvc, "status.capacity.storage")) : ck_xstrdup(""));
    cell_take(row, bound ? access_modes(ck_json_get(pvc, "status.accessModes")) : ck_xstrdup(""));
    cell_str(row, storage_class(pvc));
    cell_str(row, or_unset(pvc, "spec.volumeAttributesClassName"));
    cell_age(row, pvc);
    cell_str(row, or_unset(pvc, "spec.volumeMode"));
}

/* ---- StorageClass ---- */

static const struct printer_column STORAGE_CLASS_COLUMNS[] = {
    COL_NAME,
    COL("Provisioner", "string", "provisioner indicates the type of the provisioner."),
    COL("ReclaimPolicy", "string",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned "
        "PersistentVolumes of this storage class. Defaults to Delete."),
    COL("VolumeBindingMode", "string",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and "
        "bound. When unset, VolumeBindingImmediate is used."),
    COL("AllowVolumeExpansion", "string",
        "allowVolumeExpansion shows whether the storage class allow volume expand."),
    COL_AGE,
    COL_END,
};

/* storageutil.IsDefaultAnnotation: the GA or beta is-default-class annotation is "true". */
static bool default_class(const cJSON *sc)
{
    static const char *const keys[] = {"storageclass.kubernetes.io/is-default-class",
                                       "storageclass.beta.kubernetes.io/is-default-class"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(keys); i++) {
        const cJSON *v = ck_json_getv(sc, "metadata", "annotations", keys[i], NULL);
        if (!strcmp(ck_json_as_string(v, ""), "true"))
            return true;
    }
    return false;
}

static void print_storage_class(struct prow *row, const cJSON *sc)
{
    const char *reclaim = pj_str(sc, "reclaimPolicy"), *binding = pj_str(sc, "volumeBindingMode");
    cell_fmt(row, "%s%s", pj_str(sc, "metadata.name"), default_class(sc) ? " (default)" : "");
    cell_str(row, pj_str(sc, "provisioner"));
    cell_str(row, pj_set(sc, "reclaimPolicy") ? reclaim : "Delete");
    cell_str(row, pj_set(sc, "volumeBindingMode") ? binding : "Immediate");
    cell_bool(row, pj_bool(sc, "allowVolumeExpansion", false));
    cell_age(row, sc);
}

/* ---- CSIDriver, CSINode, CSIStorageCapacity ---- */

static const struct printer_column CSI_DRIVER_COLUMNS[] = {
    COL_NAME,
    COL("AttachRequired", "boolean",
        "attachRequired indicates this CSI volume driver requires an attach operation."),
    COL("PodInfoOnMount", "boolean",
        "podInfoOnMount indicates this CSI volume driver requires additional pod information "
        "(like podName, podUID, etc.) during mount operations."),
    COL("StorageCapacity", "boolean",
        "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider "
        "the storage capacity that the driver deployment will report."),
    COL("TokenRequests", "string",
        "tokenRequests indicates the CSI driver needs pods' service account tokens it is "
        "mounting volume for to do necessary authentication."),
    COL("RequiresRepublish", "boolean",
        "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being "
        "periodically called to reflect any possible change in the mounted volume."),
    COL("Modes", "string",
        "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports."),
    COL_AGE,
    COL_END,
};

static void print_csi_driver(struct prow *row, const cJSON *d)
{
    const cJSON *tokens = ck_json_get(d, "spec.tokenRequests");
    cell_name(row, d);
    cell_bool(row, pj_bool(d, "spec.attachRequired", true));
    cell_bool(row, pj_bool(d, "spec.podInfoOnMount", false));
    cell_bool(row, pj_bool(d, "spec.storageCapacity", false));
    if (cJSON_IsArray(tokens)) {
        struct ck_buf b = CK_BUF_INIT;
        const cJSON *t;
        cJSON_ArrayForEach(t, tokens)
        {
            if (t != tokens->child)
                ck_buf_putc(&b, ',');
            ck_buf_puts(&b, pj_str(t, "audience"));
        }
        cell_take(row, ck_buf_detach(&b));
    } else {
        cell_str(row, "<unset>");
    }
    cell_bool(row, pj_bool(d, "spec.requiresRepublish", false));
    char *modes = join_strings(ck_json_get(d, "spec.volumeLifecycleModes"), ",");
    if (!*modes) {
        free(modes);
        modes = ck_xstrdup("<none>");
    }
    cell_take(row, modes);
    cell_age(row, d);
}

static const struct printer_column CSI_NODE_COLUMNS[] = {
    COL_NAME,
    COL("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"),
    COL_AGE,
    COL_END,
};

static void print_csi_node(struct prow *row, const cJSON *n)
{
    cell_name(row, n);
    cell_int(row, pj_count(n, "spec.drivers"));
    cell_age(row, n);
}

static const struct printer_column CSI_STORAGE_CAPACITY_COLUMNS[] = {
    COL_NAME,
    COL("StorageClassName", "string",
        "storageClassName represents the name of the StorageClass that the reported capacity "
        "applies to."),
    COL("Capacity", "string",
        "capacity is the value reported by the CSI driver in its GetCapacityResponse for a "
        "GetCapacityRequest with topology and parameters that match the previous fields."),
    COL_END,
};

static void print_csi_storage_capacity(struct prow *row, const cJSON *c)
{
    cell_name(row, c);
    cell_str(row, pj_str(c, "storageClassName"));
    cell_take(row, pj_set(c, "capacity") ? fmt_quantity(ck_json_get(c, "capacity"))
                                         : ck_xstrdup("<unset>"));
}

/* ---- VolumeAttachment ---- */

static const struct printer_column VOLUME_ATTACHMENT_COLUMNS[] = {
    COL_NAME,
    {"Attacher", "string", "name",
     "attacher indicates the name of the volume driver that MUST handle this request.", 0},
    COL("PV", "string",
        "persistentVolumeName represents the name of the persistent volume to "
        "attach."),
    COL("Node", "string", "nodeName represents the node that the volume should be attached to."),
    COL("Attached", "boolean", "attached indicates the volume is successfully attached."),
    COL_AGE,
    COL_END,
};

static void print_volume_attachment(struct prow *row, const cJSON *va)
{
    cell_name(row, va);
    cell_str(row, pj_str(va, "spec.attacher"));
    cell_str(row, pj_str(va, "spec.source.persistentVolumeName"));
    cell_str(row, pj_str(va, "spec.nodeName"));
    cell_bool(row, pj_bool(va, "status.attached", false));
    cell_age(row, va);
}

const struct printer_kind printers_storage_kinds[] = {
    {"", "PersistentVolume", PV_COLUMNS, print_pv},
    {"", "PersistentVolumeClaim", PVC_COLUMNS, print_pvc},
    {"storage.k8s.io", "StorageClass", STORAGE_CLASS_COLUMNS, print_storage_class},
    {"storage.k8s.io", "CSIDriver", CSI_DRIVER_COLUMNS, print_csi_driver},
    {"storage.k8s.io", "CSINode", CSI_NODE_COLUMNS, print_csi_node},
    {"storage.k8s.io", "CSIStorageCapacity", CSI_STORAGE_CAPACITY_COLUMNS,
     print_csi_storage_capacity},
    {"storage.k8s.io", "VolumeAttachment", VOLUME_ATTACHMENT_COLUMNS, print_volume_attachment},
    {NULL, NULL, NULL, NULL},
};
