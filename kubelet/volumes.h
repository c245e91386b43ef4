/* volumes.h - the pod volumes the kubelet sets up on its own node, laid out as upstream's
 * volume plugins do under <root-dir>/pods/<uid>/volumes/<plugin>/<name>:
 *   emptyDir      kubernetes.io~empty-dir: a 0777 directory, or a tmpfs (medium: Memory,
 *                 sizeLimit as its size)
 *   hostPath      the host path itself, after upstream's type checks (DirectoryOrCreate,
 *                 Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice)
 *   configMap     kubernetes.io~configmap, secret kubernetes.io~secret (on a tmpfs, as
 *   downwardAPI   kubernetes.io~downward-api, projected kubernetes.io~projected (configMap,
 *                 secret, downwardAPI sources; serviceAccountToken sources are skipped until
 *                 the apiserver issues tokens)
 * Projected contents are written with upstream's AtomicWriter layout, so a container sees a
 * consistent set of files even while they are updated: the data lives in a directory
 * "..<timestamp>", the symlink "..data" points at it, and every visible top-level name is a
 * symlink "name" -> "..data/name". Items (key -> path, mode), defaultMode, optional sources
 * and the downward API's formats (labels as `key="value"` lines, resources divided by their
 * divisor and rounded up) follow upstream, as do the error texts (`configmap "x" not found`,
 * `configmap references non-existent config key: k`).
 *
 * ConfigMaps and Secrets are read through a getter (the API in the kubelet, a fake in tests).
 * Ownership: kl_pod_volumes and strings returned through out-parameters belong to the caller.
 */
#ifndef KL_VOLUMES_H
#define KL_VOLUMES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"

/* Reads a configMap or secret ("configmaps" / "secrets"): 0 with *out (caller frees), -ENOENT
 * when it does not exist (err set as the API answered), another negative errno otherwise. */
typedef int (*kl_object_getter)(void *ctx, const char *resource, const char *ns, const char *name,
                                cJSON **out, struct ck_error *err);

struct kl_volume {
    char *name;
    char *path;    /* the host path a volumeMount binds */
    bool readonly; /* always mounted read-only (configMap, secret, downwardAPI, projected) */
};

struct kl_pod_volumes {
    struct kl_volume *v;
    size_t n;
};

/* What the downward API can read besides the pod object. */
struct kl_downward_env {
    const char *host_ip;
    const char *const *pod_ips;
    size_t n_pod_ips;
    const cJSON *node_allocatable; /* for resource limits a container does not set; may be NULL */
};

/* Sets up (or refreshes) every volume of the pod under pod_dir (<root>/pods/<uid>). Idempotent;
 * projected contents are rewritten only when they changed. On error, err says which volume
 * failed as upstream's event does: `MountVolume.SetUp failed for volume "v" : <why>`. */
int kl_volumes_setup(const char *pod_dir, const cJSON *pod, const struct kl_downward_env *denv,
                     kl_object_getter get, void *get_ctx, struct kl_pod_volumes *out,
                     struct ck_error *err);
/* The host path of the pod's volume `name`, or NULL (borrowed from v). */
const struct kl_volume *kl_pod_volume(const struct kl_pod_volumes *v, const char *name);
void kl_pod_volumes_free(struct kl_pod_volumes *v);
/* Unmounts every mount under pod_dir (tmpfs volumes) and removes pod_dir. */
int kl_volumes_teardown(const char *pod_dir);

/* ---- pieces, exposed for tests ------------------------------------------------------------- */

/* One file of a projection: path relative to the volume (no "..", not absolute). */
struct kl_file_projection {
    char *path;
    char *data;
    size_t len;
    int mode;
};
struct kl_projection {
    struct kl_file_projection *f;
    size_t n;
};
void kl_projection_free(struct kl_projection *p);
/* Writes the projection into dir with the AtomicWriter layout (dir is created when missing).
 * Returns 0 (also when nothing changed) or a negative errno with err set. */
int kl_atomic_write(const char *dir, const struct kl_projection *p, struct ck_error *err);

/* The downward API value of a fieldRef path for pod ("metadata.name", "metadata.labels",
 * "metadata.annotations['k']", "status.podIP", ...). *out is the caller's. */
int kl_downward_field(const cJSON *pod, const struct kl_downward_env *denv, const char *path,
                      char **out, struct ck_error *err);
/* The downward API value of a resourceFieldRef ("limits.cpu", "requests.memory", ...) for the
 * container named container_name (NULL/"": the only container), divided by divisor (NULL: 1),
 * rounded up. *out is the caller's. */
int kl_downward_resource(const cJSON *pod, const struct kl_downward_env *denv,
                         const char *container_name, const char *resource, const char *divisor,
                         char **out, struct ck_error *err);

#endif
