/* graceful.h - deletion rules of the kinds that do not vanish at once: pods (graceful
 * termination) and namespaces (spec.finalizers, phase Terminating). */
#ifndef APISERVER_GRACEFUL_H
#define APISERVER_GRACEFUL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* Pods: DeleteOptions.gracePeriodSeconds, else spec.terminationGracePeriodSeconds (30); 0 for
 * a pod no node runs (spec.nodeName empty) or one that has finished (Succeeded/Failed), as
 * upstream's pod strategy CheckGracefulDelete. */
int64_t pod_grace_period(const cJSON *pod, const cJSON *opts);
/* Namespaces: held while spec.finalizers is not empty. */
bool namespace_held(const cJSON *ns);
/* Namespaces: a deleted namespace is Terminating. */
void namespace_prepare_delete(cJSON *ns);

#endif
