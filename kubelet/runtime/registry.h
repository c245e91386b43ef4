/* registry.h - image references, registry mirrors, and a Docker Registry HTTP API v2 client.
 *
 * What lives here:
 *  - Image reference parsing exactly as upstream's github.com/distribution/reference
 *    (ParseNormalizedNamed, ParseDockerRef, familiar names), with docker's error texts, and the
 *    kubelet's helpers built on it (applyDefaultImageTag, the imagePullPolicy default).
 *  - struct kl_registry_config: registry mirrors as the kubelet's
 *    `--registry-mirror=docker.io=http://10.250.0.1:5000` flag (repeatable) gives them, the
 *    order endpoints are tried in, and per-registry credentials. Plain HTTP is used only for an
 *    endpoint configured as http://; a registry named in an image reference is always HTTPS.
 *  - struct kl_registry_client: one endpoint + one repository over libcurl: manifests and blobs
 *    (GET /v2/<name>/manifests/<ref>, /v2/<name>/blobs/<digest>), the bearer-token flow
 *    (WWW-Authenticate: Bearer realm=...,service=...,scope=...), retries of transient failures,
 *    and blobs streamed to disk while their sha256 is checked.
 *
 * Ownership: strings and arrays returned through out-parameters belong to the caller (free();
 * string arrays with kl_strv_free). Structures with a _free function are released with it.
 * Thread-safety: a kl_registry_config is read-only once built and may be shared; a client is
 * used by one thread at a time.
 */
#ifndef KL_REGISTRY_H
#define KL_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* ---- image references ------------------------------------------------------------------- */

#define KL_DEFAULT_DOMAIN "docker.io"
#define KL_DEFAULT_TAG "latest"
/* Upstream's RepositoryNameTotalLengthMax. */
#define KL_REF_NAME_MAX 255

/* A parsed reference "domain/path[:tag][@digest]". */
struct kl_image_ref {
    char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
    char *path;   /* "library/busybox" */
    char *tag;    /* "1.36"; NULL when absent */
    char *digest; /* "sha256:<hex>"; NULL when absent */
};

/* Parses s as upstream's ParseNormalizedNamed: "busybox" is docker.io/library/busybox (no tag
 * is added here), "host:5000/name@sha256:..." keeps its registry. On error returns -EINVAL and
 * writes docker's message into msg (e.g. "invalid reference format", "invalid reference
 * format: repository name (library/Foo) must be lowercase"). *out is filled only on success;
 * release it with kl_image_ref_free. */
int kl_image_ref_parse(const char *s, struct kl_image_ref *out, char *msg, size_t msg_size);
void kl_image_ref_free(struct kl_image_ref *r);
/* "domain/path"; caller frees. */
char *kl_image_ref_name(const struct kl_image_ref *r);
/* The reference's String(): name[:tag][@digest]; caller frees. */
char *kl_image_ref_string(const struct kl_image_ref *r);
/* As upstream's ParseDockerRef prints it, the name a runtime pulls and records: name@digest
 * when there is a digest (the digest wins over a tag), else name:tag with "latest" by
 * default. Caller frees. */
char *kl_image_ref_docker_string(const struct kl_image_ref *r);
/* The familiar form docker prints ("busybox:1.36", "myorg/app", "host:5000/x@sha256:..");
 * caller frees. */
char *kl_image_ref_familiar(const struct kl_image_ref *r);
/* Whether s is an image ID: "sha256:<64 hex>" or 64 lowercase hex (upstream's
 * ParseAnyReference identifiers). When it is and id is not NULL, writes "sha256:<hex>" there
 * (at least 72 bytes). */
bool kl_image_id_parse(const char *s, char *id, size_t id_size);

/* The kubelet's applyDefaultImageTag: returns in *out (caller frees) the image with ":latest"
 * appended when it has neither tag nor digest, the image unchanged otherwise (it is not
 * normalized: "busybox" becomes "busybox:latest"). On a malformed image, returns -EINVAL and
 * sets err to reason "InvalidImageName" with the kubelet's message
 * `Failed to apply default image tag "X": couldn't parse image name "X": <docker error>`. */
int kl_image_apply_default_tag(const char *image, char **out, struct ck_error *err);
/* The API server's imagePullPolicy default for a container image: "Always" when the tag is
 * "latest" or there is no tag and no digest, else "IfNotPresent" (also for a malformed image,
 * as upstream, which leaves that to validation). Returns a static string. */
const char *kl_image_default_pull_policy(const char *image);

/* Writes s as Go's %q prints it (quotes, escapes) into b; used for upstream-exact messages. */
void kl_go_quote(struct ck_buf *b, const char *s);

/* ---- registry configuration -------------------------------------------------------------- */

struct kl_registry_mirror {
    char *host;     /* registry the mirror stands in for: "docker.io", "registry.k8s.io:443";
                     * "*" stands in for every registry */
    char *endpoint; /* "http://10.250.0.1:5000", "https://mirror.example/v2/prefix" */
};

struct kl_registry_auth {
    char *host; /* registry (or mirror endpoint host[:port]) these credentials are for */
    char *username, *password;
};

struct kl_registry_config {
    struct kl_registry_mirror *mirrors; /* tried in this order, before the registry itself */
    size_t n_mirrors;
    struct kl_registry_auth *auths;
    size_t n_auths;
    bool mirrors_only;      /* never fall back to the registry itself (air-gapped nodes) */
    char *ca_file;          /* extra CA bundle for https endpoints; NULL: the system's */
    int connect_timeout_ms; /* 0: 10000 */
    int stall_timeout_ms;   /* a transfer slower than 1 byte/s for this long fails; 0: 30000 */
    int max_attempts;       /* tries per request for transient failures; 0: 3 */
    int retry_delay_ms;     /* first back-off between tries, doubled each time; 0: 200 */
};

#define KL_REGISTRY_CONFIG_INIT                                                                    \
    {                                                                                              \
        0                                                                                          \
    }

/* Adds one mirror from a flag value "HOST=URL" (as `--registry-mirror=docker.io=http://
 * 10.250.0.1:5000`). URL must be http:// or https:// with a host. On error returns -EINVAL
 * and sets err (400, message naming the bad value); rc is then unchanged. */
int kl_registry_config_add_mirror(struct kl_registry_config *rc, const char *flag_value,
                                  struct ck_error *err);
/* Adds credentials for a registry host (copied). */
void kl_registry_config_add_auth(struct kl_registry_config *rc, const char *host,
                                 const char *username, const char *password);
/* Releases everything rc owns and resets it to KL_REGISTRY_CONFIG_INIT. */
void kl_registry_config_free(struct kl_registry_config *rc);

/* The endpoints to try for a registry domain, in order: its mirrors, the "*" mirrors, then the
 * registry itself (https://registry-1.docker.io for docker.io, https://<domain> otherwise)
 * unless mirrors_only. Each is a base URL ending in "/v2" ("http://10.250.0.1:5000/v2").
 * Returns the count; *out is a NULL-terminated array the caller frees with kl_strv_free. */
size_t kl_registry_endpoints(const struct kl_registry_config *rc, const char *domain, char ***out);

/* Frees a NULL-terminated string array and its strings (NULL is fine). */
void kl_strv_free(char **v);

/* ---- WWW-Authenticate ------------------------------------------------------------------- */

struct kl_auth_challenge {
    char scheme[16];               /* "Bearer", "Basic" */
    char *realm, *service, *scope; /* NULL when absent; owned */
};
/* Parses one WWW-Authenticate value (RFC 7235 auth-params, quoted or token values). Returns 0,
 * or -EINVAL when it is not a challenge. Release with kl_auth_challenge_free. */
int kl_auth_challenge_parse(const char *value, struct kl_auth_challenge *out);
void kl_auth_challenge_free(struct kl_auth_challenge *c);

/* ---- the client ---------------------------------------------------------------------------- */

/* Why a request failed, for the pull's error message. */
struct kl_registry_status {
    int http_status;    /* 0 when no HTTP answer came */
    char code[64];      /* the registry's error code ("MANIFEST_UNKNOWN"), or "" */
    char detail[256];   /* the registry's error message ("manifest unknown"), or "" */
    char url[1024];     /* the URL asked */
    char message[1024]; /* what went wrong, worded as containerd words it */
};

struct kl_registry_client;

/* A client for repository `repo` ("library/busybox") of registry `domain` ("docker.io") at
 * `endpoint` (a base URL from kl_registry_endpoints). rc is borrowed and must outlive the
 * client. Release with kl_registry_client_free. */
struct kl_registry_client *kl_registry_client_new(const struct kl_registry_config *rc,
                                                  const char *domain, const char *endpoint,
                                                  const char *repo);
void kl_registry_client_free(struct kl_registry_client *c);

/* Accept header media types for manifests: OCI index + manifest, Docker list + schema 2. */
#define KL_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define KL_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define KL_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define KL_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define KL_MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define KL_MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
/* Largest manifest we read (containerd's limit as well). */
#define KL_MANIFEST_MAX ((size_t)4 << 20)

/* GET /v2/<repo>/manifests/<reference>. On success returns 0 with the body in *body (caller
 * frees; NUL-terminated, *len excludes it) and the Content-Type in *media_type (caller frees;
 * "" when the registry sent none). Errors: -ENOENT (404), -EACCES (401/403 after the token
 * flow), -EFBIG (over KL_MANIFEST_MAX), -EIO (network, other statuses); st says more. */
int kl_registry_get_manifest(struct kl_registry_client *c, const char *reference, char **body,
                             size_t *len, char **media_type, struct kl_registry_status *st);

/* GET /v2/<repo>/blobs/<digest> streamed into fd (from its current start: fd is truncated to 0
 * before each try), checking that exactly `size` bytes arrive whose sha256 is `digest`.
 * Errors as kl_registry_get_manifest, plus -EBADMSG when the content does not match (message
 * "unexpected commit digest sha256:<got>, expected <digest>: failed precondition", or the
 * size variant). */
int kl_registry_fetch_blob(struct kl_registry_client *c, const char *digest, int64_t size, int fd,
                           struct kl_registry_status *st);

/* Whether digest is "sha256:" + 64 lowercase hex (the only algorithm the store keeps). */
bool kl_digest_is_sha256(const char *digest);

#endif
