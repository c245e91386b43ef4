/* fuzz_patch.c - patch_apply (apiserver/patch) with each of the three PATCH body types
 * (JSON Patch, JSON Merge Patch, strategic merge patch) of a fuzzed body on a fixed Pod, as a
 * `kubectl patch` request arrives.
 *
 * Input: the patch body, parsed as JSON (bodies that do not parse never reach patch_apply).
 * Properties: never a crash, leak, UB or runaway memory (copy limits, operation limits,
 * recursion limits); neither input tree changes; a failure sets an error and leaves no
 * output; a success gives a JSON object; a merge patch applied twice changes nothing more. */
#include "error.h"
#include "fuzz.h"
#include "json.h"
#include "apiserver/patch/patch.h"

static const char POD[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"namespace\":"
    "\"default\",\"uid\":\"8f9a2d3c-1111-4222-8333-944455556666\",\"resourceVersion\":\"42\","
    "\"labels\":{\"app\":\"web\",\"tier\":\"frontend\"},\"annotations\":{\"a\":\"b\"},"
    "\"finalizers\":[\"example.com/f\"],\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
    "\"kind\":\"ReplicaSet\",\"name\":\"web-1\",\"uid\":\"u1\",\"controller\":true}]},"
    "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"nginx:1.27\",\"args\":[\"-g\","
    "\"daemon off;\"],\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\",\"name\":\"http\"},"
    "{\"containerPort\":443,\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
    "{\"name\":\"B\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}}],"
    "\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"128Mi\"}},\"volumeMounts\":"
    "[{\"name\":\"data\",\"mountPath\":\"/data\"}]},{\"name\":\"sidecar\",\"image\":"
    "\"busybox\",\"command\":[\"sleep\",\"3600\"]}],\"initContainers\":[{\"name\":\"init\","
    "\"image\":\"busybox\"}],\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}},{\"name\":"
    "\"cfg\",\"configMap\":{\"name\":\"cfg\",\"items\":[{\"key\":\"k\",\"path\":\"p\"}]}}],"
    "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
    "\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],\"imagePullSecrets\":[{\"name\":"
    "\"reg\"}],\"nodeSelector\":{\"disk\":\"ssd\"},\"hostAliases\":[{\"ip\":\"127.0.0.1\","
    "\"hostnames\":[\"a\"]}],\"restartPolicy\":\"Always\",\"schedulerGates\":[]},"
    "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
    "\"True\"}],\"podIPs\":[{\"ip\":\"10.0.0.5\"}]}}";

static const char *const TYPES[] = {
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cJSON *pod, *pod_copy;
    if (!pod) {
        pod = ck_json_parse(POD, strlen(POD), NULL);
        pod_copy = ck_json_dup(pod);
        if (!pod || !pod_copy)
            abort();
    }
    cJSON *patch = ck_json_parse((const char *)data, size, NULL);
    if (!patch)
        return 0;
    cJSON *patch_copy = ck_json_dup(patch);

    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
        struct ck_error err = CK_ERROR_INIT;
        cJSON *out = NULL;
        int rc = patch_apply(TYPES[i], pod, patch, "", "v1", "Pod", &out, &err);
        if (rc < 0) {
            FUZZ_CHECK(out == NULL && err.code != 0, "%s: failure left output or no error",
                       TYPES[i]);
        } else {
            FUZZ_CHECK(cJSON_IsObject(out), "%s: result is not an object", TYPES[i]);
            if (i == 1) {
                cJSON *twice = NULL;
                struct ck_error e2 = CK_ERROR_INIT;
                FUZZ_CHECK(patch_apply(TYPES[i], out, patch, "", "v1", "Pod", &twice, &e2) == 0,
                           "merge patch fails on its own result: %s", e2.message);
                FUZZ_CHECK(ck_json_equal(out, twice), "merge patch is not idempotent");
                cJSON_Delete(twice);
                ck_error_clear(&e2);
            }
        }
        ck_error_clear(&err);
        cJSON_Delete(out);
        FUZZ_CHECK(ck_json_equal(pod, pod_copy), "%s changed the target", TYPES[i]);
        FUZZ_CHECK(ck_json_equal(patch, patch_copy), "%s changed the patch", TYPES[i]);
    }
    cJSON_Delete(patch_copy);
    cJSON_Delete(patch);
    return 0;
}
