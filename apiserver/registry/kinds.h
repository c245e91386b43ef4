/* kinds.h - the strategy of every kind with rules of its own; each is defined in the file
 * named after its API family (pods.c, services.c, core.c, apps.c, batch.c, rbac.c). */
#ifndef APISERVER_KINDS_H
#define APISERVER_KINDS_H

#include "strategy.h"

extern const struct strategy strategy_generation; /* spec-less kinds tracking generation */

/* core/v1 */
extern const struct strategy strategy_pod;
extern const struct strategy strategy_service;
extern const struct strategy strategy_namespace;
extern const struct strategy strategy_node;
extern const struct strategy strategy_configmap;
extern const struct strategy strategy_secret;
extern const struct strategy strategy_event;
extern const struct strategy strategy_replicationcontroller;
/* apps/v1 */
extern const struct strategy strategy_deployment;
extern const struct strategy strategy_replicaset;
extern const struct strategy strategy_statefulset;
extern const struct strategy strategy_daemonset;
/* batch/v1 */
extern const struct strategy strategy_job;
extern const struct strategy strategy_cronjob;
/* rbac.authorization.k8s.io/v1 */
extern const struct strategy strategy_rbac;

#endif
