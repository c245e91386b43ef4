/* podutil.c - facts about Pod objects (see podutil.h). */
#include "podutil.h"

#include <string.h>

#include "json.h"

const char *const ck_pod_container_lists[CK_POD_CONTAINER_LISTS_N] = {
    "spec.initContainers", "spec.containers", "spec.ephemeralContainers"};

const cJSON *ck_pod_container(const cJSON *pod, const char *name)
{
    for (size_t i = 0; i < CK_POD_CONTAINER_LISTS_N; i++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, ck_json_get(pod, ck_pod_container_lists[i]))
        {
            if (!strcmp(ck_json_get_string(c, "name", ""), name))
                return c;
        }
    }
    return NULL;
}
