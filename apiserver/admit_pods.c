/* admit_pods.c - mutating admission of Pod creates (see admit_pods.h). */
#include "admit_pods.h"

#include <stdbool.h>
#include <string.h>

#include "json.h"
#include "priority.h"

void admit_default_toleration_seconds(cJSON *pod)
{
    static const char *const keys[] = {"node.kubernetes.io/not-ready",
                                       "node.kubernetes.io/unreachable"};
    cJSON *spec = ck_json_get(pod, "spec");
    if (!cJSON_IsObject(spec))
        return;
    bool have[2] = {false, false};
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(spec, "tolerations")) {
        const char *key = ck_json_get_string(t, "key", "");
        const char *effect = ck_json_get_string(t, "effect", "");
        if (effect[0] && strcmp(effect, "NoExecute"))
            continue;
        for (int i = 0; i < 2; i++)
            if (!key[0] || !strcmp(key, keys[i]))
                have[i] = true;
    }
    for (int i = 0; i < 2; i++) {
        if (have[i])
            continue;
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(spec, "tolerations");
        if (!cJSON_IsArray(arr)) {
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "tolerations");
            arr = cJSON_AddArrayToObject(spec, "tolerations");
        }
        cJSON *tol = cJSON_CreateObject();
        cJSON_AddStringToObject(tol, "key", keys[i]);
        cJSON_AddStringToObject(tol, "operator", "Exists");
        cJSON_AddStringToObject(tol, "effect", "NoExecute");
        cJSON_AddNumberToObject(tol, "tolerationSeconds", 300);
        cJSON_AddItemToArray(arr, tol);
    }
}

int admit_pod(struct apiserver *s, cJSON *pod, struct ck_error *err)
{
    int rc = priority_admit_pod(s, pod, err);
    if (rc < 0)
        return rc;
    admit_default_toleration_seconds(pod);
    return 0;
}
