/* image.h - the kubelet's image service: pull over the Registry v2 API, verify, unpack, and
 * keep images in a content-addressed store shared by every pod of the node.
 *
 * Store layout under its directory (the kubelet uses <root-dir>/images):
 *   blobs/sha256/<hex>          manifests, index manifests, configs, compressed layers; each
 *                               written only after its sha256 was checked
 *   layers/sha256/<diffid hex>  one unpacked layer (the overlayfs lowerdir), shared by every
 *                               image that has it and unpacked once
 *   images/<config hex>.json    image record: manifest, config, layers (digest, diffID, size)
 *   refs/<sha256(name)>.json    reference -> image: {"name", "id", "target", "pulled"}
 *   tmp/  locks/  store.lock    work in progress and the locks below
 * Concurrency: safe across threads and processes. Pulls, lookups and listings hold store.lock
 * shared; remove and GC hold it exclusive. A download or unpack takes a file lock named after
 * its digest, so concurrent pulls of one image fetch and unpack each piece once.
 *
 * Errors follow what the kubelet shows (reason in err->reason, text in err->message):
 *   ErrImagePull      `rpc error: code = NotFound desc = failed to pull and unpack image
 *                     "docker.io/library/x:y": failed to resolve reference "docker.io/library/x:y":
 *                     docker.io/library/x:y: not found` (code NotFound / FailedPrecondition /
 *                     Unknown as containerd reports them; err->code 404 / 412 / 500);
 *                     err->details.causes[0] carries the registry's error code
 *                     ("MANIFEST_UNKNOWN") when it sent one
 *   InvalidImageName  `Failed to apply default image tag "X": couldn't parse image name "X": ...`
 *   ErrImageNeverPull `Container image "X" is not present with pull policy of Never`
 *
 * Ownership: kl_image and list results belong to the caller (kl_image_free,
 * kl_image_list_free).
 */
#ifndef KL_IMAGE_H
#define KL_IMAGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "registry.h"

struct kl_image_store;

struct kl_image {
    char *ref;         /* as recorded: "docker.io/library/busybox:1.36", "...@sha256:..", or the
                        * ID when looked up by ID */
    char *id;          /* "sha256:<config digest hex>" (the CRI image ID) */
    char *repo_digest; /* "docker.io/library/busybox@sha256:<what the tag resolved to>" (the
                        * container status imageID); NULL when unknown */
    char **layer_dirs; /* absolute overlayfs lowerdirs, lowest first; NULL-terminated */
    size_t n_layers;
    cJSON *config; /* the image config's "config" object: Env, Cmd, Entrypoint, WorkingDir,
                    * User, ExposedPorts, Volumes, Labels, StopSignal; {} when absent */
    int64_t size;  /* bytes as containerd reports them: manifest(s) + config + compressed
                    * layers */
};

/* One image for NodeStatus.images / ListImages. */
struct kl_image_summary {
    char *id;
    char **repo_tags; /* "docker.io/library/busybox:1.36", sorted */
    size_t n_repo_tags;
    char **repo_digests; /* "docker.io/library/busybox@sha256:..", sorted */
    size_t n_repo_digests;
    int64_t size;
    int64_t pulled_at; /* unix seconds of the latest pull of any of its references */
};

struct kl_image_store_stats {
    int64_t manifests_fetched; /* manifest GETs that succeeded */
    int64_t blobs_fetched;     /* blobs downloaded (configs and layers) */
    int64_t bytes_fetched;
    int64_t layers_unpacked;
};

/* Opens (creating when missing) the store in directory dir and clears leftovers of crashed
 * pulls. *out is released with kl_image_store_close. */
int kl_image_store_open(const char *dir, struct kl_image_store **out, struct ck_error *err);
void kl_image_store_close(struct kl_image_store *st);
/* The store's directory (borrowed). */
const char *kl_image_store_dir(const struct kl_image_store *st);
/* Counters since open (for metrics and tests). */
void kl_image_store_get_stats(const struct kl_image_store *st, struct kl_image_store_stats *out);

/* Pulls ref from its registry (through rc's mirrors; rc may be NULL), always asking the
 * registry what the reference points to now, and makes it present: verified blobs, unpacked
 * layers, records. On success *out (may be NULL) gets the image. */
int kl_image_pull(struct kl_image_store *st, const char *ref, const struct kl_registry_config *rc,
                  struct kl_image **out, struct ck_error *err);

/* The local image for ref (a reference as kl_image_pull takes, or an image ID "sha256:..").
 * -ENOENT (404) when it is not present or incomplete. */
int kl_image_get(struct kl_image_store *st, const char *ref, struct kl_image **out,
                 struct ck_error *err);
void kl_image_free(struct kl_image *img);

enum kl_pull_policy { KL_PULL_ALWAYS, KL_PULL_IF_NOT_PRESENT, KL_PULL_NEVER };
/* "Always", "IfNotPresent", "Never" -> the enum; -EINVAL otherwise. */
int kl_pull_policy_parse(const char *s, enum kl_pull_policy *out);

/* The kubelet's EnsureImageExists: applies the default tag, then pulls as the policy says
 * (Always: every time; IfNotPresent: when absent; Never: never, ErrImageNeverPull when absent).
 * *pulled (may be NULL) says whether a pull happened. */
int kl_image_ensure(struct kl_image_store *st, const char *image, enum kl_pull_policy policy,
                    const struct kl_registry_config *rc, struct kl_image **out, bool *pulled,
                    struct ck_error *err);

/* Every image with its references, sorted by ID. */
int kl_image_list(struct kl_image_store *st, struct kl_image_summary **out, size_t *n,
                  struct ck_error *err);
void kl_image_list_free(struct kl_image_summary *list, size_t n);

/* Removes the image ref names (a reference or an ID) with all its references, then every
 * blob and layer no remaining image uses. -ENOENT when there is no such image. */
int kl_image_remove(struct kl_image_store *st, const char *ref, struct ck_error *err);

struct kl_image_gc_result {
    size_t images_removed;
    int64_t bytes_freed;
};
/* Removes every image not named in keep (references or IDs; an image stays when any of its
 * references or its ID is listed), then every unreferenced blob and layer. */
int kl_image_gc(struct kl_image_store *st, const char *const *keep, size_t n_keep,
                struct kl_image_gc_result *res, struct ck_error *err);

struct kl_image_fs_usage {
    int64_t used_bytes; /* blocks the store occupies (hardlinks counted once) */
    int64_t inodes_used;
    int64_t capacity_bytes; /* of the filesystem holding the store */
    int64_t available_bytes;
};
int kl_image_fs_usage(struct kl_image_store *st, struct kl_image_fs_usage *out,
                      struct ck_error *err);

/* The entry of an image index / manifest list for os/arch ("linux", "amd64"): an exact
 * platform match first, else an entry without a platform; NULL when none fits (borrowed). */
const cJSON *kl_manifest_select_platform(const cJSON *index, const char *os, const char *arch);
/* The GOARCH name of the machine we were built for ("amd64", "arm64", ...). */
const char *kl_host_arch(void);

#endif
