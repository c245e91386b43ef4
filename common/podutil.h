/* podutil.h - small facts about Pod objects that several daemons need (upstream's podutil).
 * Everything returned is borrowed from the pod. */
#ifndef CK_PODUTIL_H
#define CK_PODUTIL_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* A pod's container lists, in the order upstream's podutil.VisitContainers walks them: init,
 * regular, ephemeral (dot paths). */
#define CK_POD_CONTAINER_LISTS_N 3
extern const char *const ck_pod_container_lists[CK_POD_CONTAINER_LISTS_N];

/* The container of pod named name, in any of the three lists, or NULL. */
const cJSON *ck_pod_container(const cJSON *pod, const char *name);

#endif
