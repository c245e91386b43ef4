/* priority.h - upstream's Priority admission for pods: priorityClassName -> spec.priority and
 * spec.preemptionPolicy from the PriorityClass (or the global default class, else 0), and the
 * two built-in classes the apiserver keeps (system-cluster-critical, system-node-critical). */
#ifndef APISERVER_PRIORITY_H
#define APISERVER_PRIORITY_H

#include <cjson/cJSON.h>

#include "error.h"

struct apiserver;

/* The pods create hook: fills priority fields or refuses (403 Forbidden, as upstream). */
int priority_admit_pod(struct apiserver *s, cJSON *pod, struct ck_error *err);
/* Creates the built-in PriorityClasses when missing (bootstrap). */
int priority_bootstrap(struct apiserver *s, struct ck_error *err);

#endif
