/* fuzz_json.c - ck_json_parse on any bytes, and ck_json_print of whatever parses.
 *
 * Properties: the parser never crashes and frees everything; a parsed tree prints in every
 * flag combination; what prints parses back to the same values (numbers as float64: see
 * same()), and the canonical form is stable across that round trip; a copy is ck_json_equal. */
#include <stdbool.h>

#include "error.h"
#include "fuzz.h"
#include "json.h"

/* Same JSON value, numbers compared as float64: printing an exact integer beyond 2^53 and a
 * fraction that rounds to the same float64 gives the same text, and reading that text back
 * keeps an exact integer (as Go decoding into an unstructured object makes an int64 of it),
 * which ck_json_equal would compare by its exact value. Depth is bounded by the parser. */
static bool same(const cJSON *a, const cJSON *b)
{
    if ((a->type & 0xff) != (b->type & 0xff))
        return false;
    if (cJSON_IsNumber(a))
        return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!same(x, y))
                return false;
        return !x && !y;
    }
    if (cJSON_IsObject(a)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return false;
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !same(x, y))
                return false;
        }
    }
    return true;
}

static const unsigned FLAGS[] = {
    0,
    CK_JSON_SORT_KEYS | CK_JSON_INDENT,
    CK_JSON_NO_HTML_ESCAPE,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *j = ck_json_parse((const char *)data, size, &err);
    if (!j) {
        FUZZ_CHECK(err.code != 0, "parse failed without an error");
        ck_error_clear(&err);
        return 0;
    }
    ck_error_clear(&err);

    char *canon = ck_json_canonical(j);
    FUZZ_CHECK(canon != NULL, "no canonical form");
    for (size_t i = 0; i < sizeof FLAGS / sizeof FLAGS[0]; i++) {
        char *s = ck_json_print(j, FLAGS[i]);
        FUZZ_CHECK(s != NULL, "print failed (flags %u)", FLAGS[i]);
        cJSON *back = ck_json_parse(s, strlen(s), &err);
        FUZZ_CHECK(back != NULL, "printed JSON does not parse: %s: %s", err.message, s);
        FUZZ_CHECK(same(j, back), "round trip changed the value: %s", s);
        char *canon2 = ck_json_canonical(back);
        FUZZ_CHECK(canon2 && strcmp(canon, canon2) == 0, "canonical form changed: %s vs %s", canon,
                   canon2 ? canon2 : "(null)");
        free(canon2);
        cJSON_Delete(back);
        free(s);
    }
    free(canon);

    cJSON *dup = ck_json_dup(j);
    FUZZ_CHECK(ck_json_equal(j, dup), "copy differs");
    cJSON_Delete(dup);

    /* the object-body mode the apiserver uses for requests */
    struct ck_json_parse_opts opts = {.require_object = true, .max_depth = 16};
    cJSON *o = ck_json_parse_with((const char *)data, size, &opts, &err);
    FUZZ_CHECK(!o || cJSON_IsObject(o), "require_object returned a non-object");
    cJSON_Delete(o);
    ck_error_clear(&err);

    cJSON_Delete(j);
    return 0;
}
