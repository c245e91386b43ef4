/* env.h - a container's environment as upstream's kubelet makes it (makeEnvironmentVariables):
 * envFrom (configMapRef / secretRef with prefix), then env in order (value with $(VAR)
 * expansion over what is defined so far and the service variables, valueFrom fieldRef /
 * resourceFieldRef / configMapKeyRef / secretKeyRef), then the Docker-link style service
 * variables ({SVC}_SERVICE_HOST, {SVC}_SERVICE_PORT[_NAME], {SVC}_PORT[_N_PROTO[_PROTO|_PORT|
 * _ADDR]]) of the pod's namespace's services when enableServiceLinks (default true) and of
 * default/kubernetes always, for names not defined already. A later definition of a name
 * replaces the earlier one in place.
 *
 * Errors read as upstream's CreateContainerConfigError messages: `configmap "x" not found`,
 * `couldn't find key k in ConfigMap ns/x`, `secret "x" not found`, `couldn't find key k in
 * Secret ns/x`.
 */
#ifndef KL_ENV_H
#define KL_ENV_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"
#include "kubelet/volumes.h"

struct kl_env {
    char **v; /* "NAME=value", in order */
    size_t n;
};

/* The service variables of `services` (an array of Service objects; only those with a cluster
 * IP count) appended to env, without replacing names already there. */
void kl_env_add_services(struct kl_env *env, const cJSON *services);

/* Builds the environment of container c of pod. services: the Service objects the pod may see
 * (its namespace's and default/kubernetes; filtered here by enableServiceLinks), may be NULL.
 * On success env holds the result (kl_env_free). */
int kl_container_env(const cJSON *pod, const cJSON *c, const struct kl_downward_env *denv,
                     kl_object_getter get, void *gctx, const cJSON *services, struct kl_env *env,
                     struct ck_error *err);
/* Sets name=value, replacing an earlier definition in place. */
void kl_env_set(struct kl_env *env, const char *name, const char *value);
/* The value of name, or NULL (borrowed). */
const char *kl_env_get(const struct kl_env *env, const char *name);
void kl_env_free(struct kl_env *env);

#endif
