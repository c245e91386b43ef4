/* admit_pods.h - the mutating admission of a Pod create, as upstream's default admission
 * plugins do it before validation (also for dry runs): Priority (priority.h) and
 * DefaultTolerationSeconds. */
#ifndef APISERVER_ADMIT_PODS_H
#define APISERVER_ADMIT_PODS_H

#include <cjson/cJSON.h>

#include "error.h"

struct apiserver;

/* DefaultTolerationSeconds: a pod that does not already tolerate the not-ready / unreachable
 * NoExecute taints (a toleration with that key or no key, and effect NoExecute or none) gets a
 * 300 s toleration for each, so it is evicted 5 minutes after its node fails. */
void admit_default_toleration_seconds(cJSON *pod);

/* The pods admit hook: both plugins; 0, or a negative errno with err set (403 from Priority). */
int admit_pod(struct apiserver *s, cJSON *pod, struct ck_error *err);

#endif
