/* fuzz_selector.c - ck_label_selector_parse and ck_field_selector_parse (common/selector) on
 * any string, as a ?labelSelector= / ?fieldSelector= query value arrives.
 *
 * Properties: never a crash or leak; a failure sets an error; a parsed selector prints
 * (String()) and that text parses back to an equivalent selector (label: printing the same;
 * field: the same terms, maybe reordered); matching, copying
 * and exact-match lookups work on whatever parsed; field value escaping round-trips (for valid
 * UTF-8: upstream's unescaping turns invalid bytes into U+FFFD). */
#include "error.h"
#include "fuzz.h"
#include "json.h"
#include "selector.h"

static const char LABELS[] = "{\"app\":\"web\",\"tier\":\"1\",\"env\":\"prod\",\"a\":\"\","
                             "\"example.com/x\":\"y\",\"n\":\"42\"}";

static void label(const char *s, const cJSON *labels)
{
    struct ck_error err = CK_ERROR_INIT;
    struct ck_label_selector *sel = NULL;
    if (ck_label_selector_parse(s, &sel, &err) < 0) {
        FUZZ_CHECK(sel == NULL && err.code != 0, "failed parse left output or no error");
        ck_error_clear(&err);
        return;
    }
    (void)ck_label_selector_matches(sel, labels);
    (void)ck_label_selector_matches(sel, NULL);
    (void)ck_label_selector_empty(sel);
    const char *v;
    for (size_t i = 0; i < sel->n; i++)
        (void)ck_label_selector_requires_exact_match(sel, sel->reqs[i].key, &v);
    struct ck_label_selector *dup = ck_label_selector_dup(sel);
    char *text = ck_label_selector_string(sel);
    char *text_dup = ck_label_selector_string(dup);
    FUZZ_CHECK(strcmp(text, text_dup) == 0, "copy prints differently");

    struct ck_label_selector *again = NULL;
    int rc = ck_label_selector_parse(text, &again, &err);
    FUZZ_CHECK(rc == 0, "String() of a parsed selector does not parse: \"%s\" -> \"%s\": %s", s,
               text, err.message);
    char *text2 = ck_label_selector_string(again);
    FUZZ_CHECK(strcmp(text, text2) == 0, "String() not stable: \"%s\" -> \"%s\" -> \"%s\"", s, text,
               text2);
    FUZZ_CHECK(ck_label_selector_matches(sel, labels) == ck_label_selector_matches(again, labels),
               "re-parsed selector matches differently: \"%s\"", text);
    free(text2);
    free(text_dup);
    free(text);
    ck_label_selector_free(again);
    ck_label_selector_free(dup);
    ck_label_selector_free(sel);
}

static size_t count_term(const struct ck_field_selector *sel, const struct ck_field_requirement *r)
{
    size_t n = 0;
    for (size_t i = 0; i < sel->n; i++)
        n += strcmp(sel->reqs[i].field, r->field) == 0 && sel->reqs[i].op == r->op &&
             strcmp(sel->reqs[i].value, r->value) == 0;
    return n;
}

/* Every term of a occurs in b as often. */
static bool same_terms(const struct ck_field_selector *a, const struct ck_field_selector *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (count_term(a, &a->reqs[i]) != count_term(b, &a->reqs[i]))
            return false;
    return true;
}

static void field(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    struct ck_field_selector *sel = NULL;
    if (ck_field_selector_parse(s, &sel, &err) < 0) {
        FUZZ_CHECK(sel == NULL && err.code != 0, "failed parse left output or no error");
        ck_error_clear(&err);
        return;
    }
    static const struct ck_field_kv kv[] = {
        {"metadata.name", "web"}, {"metadata.namespace", "default"}, {"spec.nodeName", ""}};
    bool m = ck_field_selector_matches_set(sel, kv, sizeof kv / sizeof kv[0]);
    (void)ck_field_selector_empty(sel);
    const char *v;
    for (size_t i = 0; i < sel->n; i++)
        (void)ck_field_selector_requires_exact_match(sel, sel->reqs[i].field, &v);

    char *text = ck_field_selector_string(sel);
    struct ck_field_selector *again = NULL;
    int rc = ck_field_selector_parse(text, &again, &err);
    FUZZ_CHECK(rc == 0, "String() of a parsed field selector does not parse: \"%s\" -> \"%s\": %s",
               s, text, err.message);
    /* the same terms; their order may change, as upstream sorts terms by their raw text and
     * String() rewrites "==" as "=" and the escapes */
    FUZZ_CHECK(same_terms(sel, again) && same_terms(again, sel),
               "field String() changed the terms: \"%s\" -> \"%s\"", s, text);
    char *text2 = ck_field_selector_string(again);
    FUZZ_CHECK(m == ck_field_selector_matches_set(again, kv, sizeof kv / sizeof kv[0]),
               "re-parsed field selector matches differently: \"%s\"", text);
    free(text2);
    free(text);
    ck_field_selector_free(again);
    ck_field_selector_free(sel);
}

static void escape(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    char *esc = ck_field_escape_value(s);
    char *back = NULL;
    int rc = ck_field_unescape_value(esc, &back, &err);
    FUZZ_CHECK(rc == 0, "unescaping the escaped \"%s\" failed: %s", s, err.message);
    FUZZ_CHECK(!fuzz_valid_utf8(s) || strcmp(back, s) == 0, "escape/unescape of \"%s\" gave \"%s\"",
               s, back);
    free(back);
    free(esc);
    /* and unescaping the raw input, which may be malformed */
    back = NULL;
    if (ck_field_unescape_value(s, &back, &err) < 0)
        ck_error_clear(&err);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cJSON *labels;
    if (!labels)
        labels = ck_json_parse(LABELS, strlen(LABELS), NULL);
    char *s = fuzz_cstr(data, size);
    label(s, labels);
    field(s);
    escape(s);
    free(s);
    return 0;
}
