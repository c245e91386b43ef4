/* podspec_internal.h - what the podspec_*.c files share among themselves; other files use
 * podspec.h. The PodSpec rules are split by what they check:
 *   podspec_defaults.c    SetDefaults_PodSpec and the nested defaults
 *   podspec_image.c       image references (the tag that decides imagePullPolicy)
 *   podspec_update.c      dropping disabled fields, Go-semantics equality
 *   podspec_validate.c    ValidatePodSpec, PodTemplateSpec, shared validation helpers,
 *                         security contexts, DNS config
 *   podspec_volumes.c     volumes and their sources
 *   podspec_containers.c  containers, init and ephemeral containers, ports, env, mounts,
 *                         probes and lifecycle handlers
 *   podspec_resources.c   resource requirements and the QoS class
 *   podspec_scheduling.c  affinity, tolerations, topology spread constraints
 */
#ifndef APISERVER_PODSPEC_INTERNAL_H
#define APISERVER_PODSPEC_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "fielderr.h"
#include "fieldutil.h"
#include "podspec.h"
#include "validation.h"

/* Iterates the members of an array that are objects (others are skipped). */
#define EACH_OBJ(it, idx, arr)                                                                     \
    for (cJSON *it = cJSON_IsArray(arr) ? (arr)->child : NULL, *it##_once = NULL; !it##_once;      \
         it##_once = (cJSON *)1)                                                                   \
        for (int idx = 0; it; it = it->next, idx++)                                                \
            if (cJSON_IsObject(it))

#define PS_FILE_MODE_MSG "must be a number between 0 and 0777 (octal), both inclusive"
#define PS_NEGATIVE_MSG "must be greater than or equal to 0"

/* Validation state of one PodSpec. */
struct ps_vctx {
    const struct podspec_opts *o;
    cJSON *vols;   /* owned: valid volume name -> "pvc" or "other" */
    cJSON *claims; /* owned: object whose keys are the pod's resourceClaims names */
    bool has_grace;
    int64_t grace;
};

/* [a-z0-9] */
static inline bool ps_is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ---- podspec_validate.c: helpers of every part ---- */

/* Required when empty, else the DNS-1123 label messages (upstream's pattern for names). */
void ps_required_label(struct field_errors *e, const char *field, const char *v);
/* ck_name_is_dns_subdomain for a full name, as a ck_is_* check. */
int ps_name_subdomain(const char *v, struct ck_errlist *l);
/* validatePathNoBacksteps / validateLocalDescendingPath / ValidateLocalNonReservedPath */
bool ps_path_has_backstep(const char *p);
void ps_no_backsteps(struct field_errors *e, const char *field, const char *p);
void ps_local_descending(struct field_errors *e, const char *field, const char *p);
void ps_local_non_reserved(struct field_errors *e, const char *field, const char *p);
/* An optional int32 file mode member o.key, reported at field. */
void ps_file_mode(struct field_errors *e, const cJSON *o, const char *key, const char *field);
/* `<base>.<key>: Required value[: detail]` when the string member is empty. */
void ps_required_str(struct field_errors *e, const cJSON *o, const char *key, const char *base,
                     const char *detail);
/* The fieldPaths an env var's and a downward API volume's fieldRef may name. */
extern const char *const PS_ENV_FIELD_PATHS[];
extern const char *const PS_VOLUME_FIELD_PATHS[];
/* validateObjectFieldSelector / validateContainerResourceFieldSelector at base. */
void ps_object_field_selector(struct field_errors *e, const cJSON *fs, const char *const *allowed,
                              const char *base);
void ps_resource_field_selector(struct field_errors *e, const cJSON *fs, const char *base,
                                bool volume);
/* ValidateSecurityContext of one container at base. */
void ps_container_security_context(struct field_errors *e, const cJSON *sc, const char *base);

/* ---- the parts of ValidatePodSpec ---- */

void ps_validate_volumes(struct field_errors *e, const cJSON *vols, const char *path,
                         struct ps_vctx *c);
void ps_validate_containers(struct field_errors *e, const cJSON *spec, const char *path,
                            const struct ps_vctx *c);
void ps_validate_init_containers(struct field_errors *e, const cJSON *spec, const char *path,
                                 const struct ps_vctx *c);
void ps_validate_ephemeral_containers(struct field_errors *e, const cJSON *spec, const char *path,
                                      const struct ps_vctx *c);
/* ValidateResourceRequirements of a container (or the pod overhead as limits) at base. */
void ps_validate_resources(struct field_errors *e, const cJSON *res, const char *base,
                           const struct ps_vctx *c);
void ps_validate_affinity(struct field_errors *e, const cJSON *aff, const char *base);
void ps_validate_topology_spread(struct field_errors *e, const cJSON *list, const char *path);

#endif
