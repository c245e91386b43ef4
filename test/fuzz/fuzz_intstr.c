/* fuzz_intstr.c - ck_intstr_from_json (common/intstr) on any JSON value, as a Service
 * targetPort or a Deployment's maxSurge arrives; and the percent arithmetic the Deployment
 * controller runs on what decodes.
 *
 * Properties: never a crash, leak or UB (percent * total near the int64 limits); a failure
 * sets an error and leaves *out alone; the JSON form of a decoded value decodes to an equal
 * value. */
#include <limits.h>

#include "error.h"
#include "fuzz.h"
#include "intstr.h"
#include "json.h"

static const int64_t TOTALS[] = {INT64_MIN, -7, 0, 1, 3, 100, INT32_MAX, INT64_MAX};

static void use(const struct ck_intstr *v)
{
    struct ck_error err = CK_ERROR_INIT;
    char *s = ck_intstr_to_string(v);
    FUZZ_CHECK(s != NULL, "no string form");
    free(s);
    (void)ck_intstr_int_value(v);
    for (size_t i = 0; i < sizeof TOTALS / sizeof TOTALS[0]; i++) {
        int64_t out;
        for (int up = 0; up < 2; up++)
            if (ck_intstr_scaled_value(v, TOTALS[i], up, &out, &err) < 0)
                ck_error_clear(&err);
    }
    static const int32_t desired[] = {INT32_MIN, 0, 10, INT32_MAX};
    for (size_t i = 0; i < sizeof desired / sizeof desired[0]; i++) {
        int32_t surge, unavail;
        if (ck_intstr_resolve_fenceposts(v, v, desired[i], &surge, &unavail, &err) < 0)
            ck_error_clear(&err);
        if (ck_intstr_resolve_fenceposts(NULL, v, desired[i], &surge, &unavail, &err) < 0)
            ck_error_clear(&err);
    }
    struct ck_intstr copy = CK_INTSTR_INIT;
    ck_intstr_copy(&copy, v);
    FUZZ_CHECK(ck_intstr_equal(&copy, v), "copy differs");
    ck_intstr_clear(&copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *j = ck_json_parse((const char *)data, size, NULL);
    if (j) {
        struct ck_intstr v = {CK_INTSTR_STRING, 77, (char *)"untouched"};
        if (ck_intstr_from_json(j, &v, &err) < 0) {
            FUZZ_CHECK(err.code != 0, "failed decode without an error");
            FUZZ_CHECK(v.type == CK_INTSTR_STRING && v.int_val == 77 &&
                           strcmp(v.str_val, "untouched") == 0,
                       "failed decode changed *out");
            ck_error_clear(&err);
        } else {
            cJSON *back = ck_intstr_to_json(&v);
            struct ck_intstr w = CK_INTSTR_INIT;
            FUZZ_CHECK(ck_intstr_from_json(back, &w, &err) == 0 && ck_intstr_equal(&v, &w),
                       "JSON form does not decode to the same value");
            cJSON_Delete(back);
            ck_intstr_clear(&w);
            use(&v);
            ck_intstr_clear(&v);
        }
        cJSON_Delete(j);
    }

    /* the same bytes as a plain string (flag values, annotations) */
    char *s = fuzz_cstr(data, size);
    struct ck_intstr p = ck_intstr_parse(s);
    use(&p);
    ck_intstr_clear(&p);
    (void)ck_intstr_is_valid_percent(s);
    free(s);
    return 0;
}
