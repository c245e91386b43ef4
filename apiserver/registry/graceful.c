/* graceful.c - pod grace periods and namespace finalization (see graceful.h). */
#include "graceful.h"

#include <string.h>

#include "json.h"

int64_t pod_grace_period(const cJSON *pod, const cJSON *opts)
{
    const char *phase = ck_json_get_string(pod, "status.phase", "");
    if (!ck_json_get_string(pod, "spec.nodeName", "")[0] || !strcmp(phase, "Succeeded") ||
        !strcmp(phase, "Failed"))
        return 0;
    const cJSON *g = ck_json_get(opts, "gracePeriodSeconds");
    int64_t grace;
    if (cJSON_IsNumber(g))
        grace = ck_json_as_int64(g, 0);
    else
        grace = ck_json_get_int64(pod, "spec.terminationGracePeriodSeconds", 30);
    /* upstream: a negative request means "now" (1 s, so the kubelet still stops it) */
    return grace < 0 ? 1 : grace;
}

bool namespace_held(const cJSON *ns)
{
    return cJSON_GetArraySize(ck_json_get(ns, "spec.finalizers")) > 0;
}

void namespace_prepare_delete(cJSON *ns)
{
    ck_json_set_string(ns, "status.phase", "Terminating");
}
