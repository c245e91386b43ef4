/* fuzz_quantity.c - ck_quantity_parse (common/quantity) on any string, as a resources.limits
 * value or a ResourceQuota arrives; and the arithmetic the scheduler and quota run on what
 * parsed.
 *
 * Properties: never a crash, leak or UB (the 320-bit arithmetic, scales near INT32_MIN/MAX);
 * a failure sets an error and leaves *out untouched; String() of a parsed quantity parses
 * back to an equal value and prints the same; JSON string and number forms agree. */
#include <limits.h>

#include "error.h"
#include "fuzz.h"
#include "json.h"
#include "quantity.h"

static const int32_t SCALES[] = {INT32_MIN, -30, -9, -3, 0, 3, 9, 30, INT32_MAX};

static void arithmetic(const struct ck_quantity *q)
{
    struct ck_quantity a = *q;
    if (ck_quantity_add(&a, q) == 0)
        (void)ck_quantity_sub(&a, q);
    struct ck_quantity m = *q;
    (void)ck_quantity_mul(&m, INT64_MAX);
    m = *q;
    (void)ck_quantity_mul(&m, -1000);
    struct ck_quantity n = *q;
    ck_quantity_neg(&n);
    FUZZ_CHECK(ck_quantity_sign(&n) == -ck_quantity_sign(q), "neg changed the magnitude sign");
    for (size_t i = 0; i < sizeof SCALES / sizeof SCALES[0]; i++) {
        struct ck_quantity r = *q;
        (void)ck_quantity_round_up(&r, SCALES[i]);
        int64_t v;
        (void)ck_quantity_scaled_value(q, SCALES[i], &v);
        char buf[CK_QUANTITY_STR_MAX];
        FUZZ_CHECK(ck_quantity_format(&r, buf, sizeof buf) == 0, "rounded does not format");
    }
    (void)ck_quantity_value(q);
    (void)ck_quantity_milli_value(q);
    (void)ck_quantity_as_float64(q);
    (void)ck_quantity_cmp_int64(q, INT64_MIN);
    (void)ck_quantity_cmp_int64(q, 1000);
    (void)ck_quantity_is_zero(q);
    char small[4];
    (void)ck_quantity_format(q, small, sizeof small);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    struct ck_error err = CK_ERROR_INIT;
    struct ck_quantity q, untouched;
    memset(&q, 0xa5, sizeof q);
    memcpy(&untouched, &q, sizeof q);
    if (ck_quantity_parse(s, &q, &err) < 0) {
        FUZZ_CHECK(err.code != 0, "failed parse without an error");
        FUZZ_CHECK(memcmp(&q, &untouched, sizeof q) == 0, "failed parse changed *out");
        ck_error_clear(&err);
    } else {
        char *text = ck_quantity_to_string(&q);
        struct ck_quantity back;
        int rc = ck_quantity_parse(text, &back, &err);
        FUZZ_CHECK(rc == 0, "String() \"%s\" of \"%s\" does not parse: %s", text, s, err.message);
        FUZZ_CHECK(ck_quantity_cmp(&q, &back) == 0, "\"%s\" -> \"%s\" changed the value", s, text);
        char *text2 = ck_quantity_to_string(&back);
        FUZZ_CHECK(strcmp(text, text2) == 0, "\"%s\" -> \"%s\" -> \"%s\"", s, text, text2);
        free(text2);
        free(text);
        cJSON *j = ck_quantity_to_json(&q);
        struct ck_quantity fromj;
        FUZZ_CHECK(ck_quantity_parse_json(j, &fromj, &err) == 0 && ck_quantity_cmp(&q, &fromj) == 0,
                   "JSON form of \"%s\" does not read back", s);
        cJSON_Delete(j);
        arithmetic(&q);
    }

    /* the JSON forms: the input as a JSON value (number or string) */
    cJSON *v = ck_json_parse((const char *)data, size, NULL);
    if (v) {
        struct ck_quantity jq;
        if (ck_quantity_parse_json(v, &jq, &err) < 0)
            ck_error_clear(&err);
        cJSON_Delete(v);
    }
    free(s);
    return 0;
}
