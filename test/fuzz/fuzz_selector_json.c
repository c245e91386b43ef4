/* fuzz_selector_json.c - ck_label_selector_from_json (common/selector): a metav1.LabelSelector
 * object (matchLabels, matchExpressions) as it arrives in a Deployment, a PDB or a
 * NetworkPolicy, from any JSON text.
 *
 * Properties: never a crash or leak; a failure sets an error; a converted selector prints,
 * matches, copies; ck_label_selector_from_set accepts any JSON as a label set, and every
 * selector can be matched against the input used as labels. */
#include "error.h"
#include "fuzz.h"
#include "json.h"
#include "selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *j = ck_json_parse((const char *)data, size, NULL);
    if (!j)
        return 0;
    const cJSON *labels = ck_json_get(j, "matchLabels");

    struct ck_error err = CK_ERROR_INIT;
    struct ck_label_selector *sel = NULL;
    if (ck_label_selector_from_json(j, &sel, &err) < 0) {
        FUZZ_CHECK(sel == NULL && err.code != 0, "failed conversion left output or no error");
        ck_error_clear(&err);
    } else {
        char *text = ck_label_selector_string(sel);
        FUZZ_CHECK(text != NULL, "no String()");
        (void)ck_label_selector_matches(sel, labels);
        (void)ck_label_selector_matches(sel, j);
        (void)ck_label_selector_empty(sel);
        struct ck_label_selector *dup = ck_label_selector_dup(sel);
        char *text2 = ck_label_selector_string(dup);
        FUZZ_CHECK(strcmp(text, text2) == 0, "copy prints differently");
        free(text2);
        free(text);
        ck_label_selector_free(dup);
        ck_label_selector_free(sel);
    }

    struct ck_label_selector *set = ck_label_selector_from_set(labels ? labels : j);
    FUZZ_CHECK(set != NULL, "from_set returned NULL");
    /* a selector built from a label set matches that set */
    const cJSON *l = labels ? labels : j;
    FUZZ_CHECK(!cJSON_IsObject(l) || ck_label_selector_matches(set, l),
               "selector from a set does not match the set");
    char *t = ck_label_selector_string(set);
    free(t);
    ck_label_selector_free(set);
    cJSON_Delete(j);
    return 0;
}
