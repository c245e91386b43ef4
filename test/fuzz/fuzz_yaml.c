/* fuzz_yaml.c - ck_yaml_parse_stream on any bytes, and the ck_yaml_emit round trip of every
 * document that parses.
 *
 * Properties: parsing (lenient and strict) never crashes or leaks; every parsed document
 * emits (sorted and in document order) and the emitted YAML parses back to an equal tree. */
#include <stdbool.h>

#include "buf.h"
#include "error.h"
#include "fuzz.h"
#include "json.h"
#include "yaml.h"

/* Raw items (exact big integers) compare by their text: ck_json_equal knows only numbers. */
static bool has_raw(const cJSON *j, int depth)
{
    if (depth > CK_YAML_MAX_DEPTH)
        return true;
    if (cJSON_IsRaw(j))
        return true;
    for (const cJSON *c = j ? j->child : NULL; c; c = c->next)
        if (has_raw(c, depth + 1))
            return true;
    return false;
}

static void round_trip(const cJSON *doc, unsigned flags)
{
    struct ck_error err = CK_ERROR_INIT;
    struct ck_buf b = CK_BUF_INIT;
    int rc = ck_yaml_emit(doc, flags, &b, &err);
    if (rc < 0) {
        /* only nesting beyond the limit may fail */
        FUZZ_CHECK(err.code != 0, "emit failed without an error");
        ck_error_clear(&err);
        ck_buf_free(&b);
        return;
    }
    const char *text = ck_buf_str(&b);
    cJSON *back = NULL;
    rc = ck_yaml_parse(text, strlen(text), 0, &back, &err);
    FUZZ_CHECK(rc == 0, "emitted YAML does not parse: %s\n---\n%s", err.message, text);
    if (!has_raw(doc, 0))
        FUZZ_CHECK(ck_json_equal(doc, back), "YAML round trip changed the value:\n%s", text);
    cJSON_Delete(back);
    ck_error_clear(&err);
    ck_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *docs = NULL;
    int rc = ck_yaml_parse_stream((const char *)data, size, 0, &docs, &err);
    if (rc == 0) {
        FUZZ_CHECK(cJSON_IsArray(docs), "stream is not an array");
        const cJSON *d;
        cJSON_ArrayForEach(d, docs)
        {
            round_trip(d, 0);
            round_trip(d, CK_YAML_SORT_KEYS);
        }
        struct ck_buf b = CK_BUF_INIT;
        if (ck_yaml_emit_stream(docs, CK_YAML_SORT_KEYS, &b, &err) < 0)
            ck_error_clear(&err);
        ck_buf_free(&b);
    } else {
        FUZZ_CHECK(docs == NULL && err.code != 0, "failed parse left output or no error");
    }
    cJSON_Delete(docs);
    ck_error_clear(&err);

    cJSON *strict = NULL;
    if (ck_yaml_parse_stream((const char *)data, size, CK_YAML_STRICT, &strict, &err) < 0)
        ck_error_clear(&err);
    cJSON_Delete(strict);

    cJSON *first = NULL;
    if (ck_yaml_parse((const char *)data, size, 0, &first, &err) < 0)
        ck_error_clear(&err);
    cJSON_Delete(first);
    return 0;
}
