/* fields.c - field selectors per kind (see fields.h).
 *
 * A strategy lists its field labels as "spec.nodeName" (the label is the JSON path) or
 * "source=source.component" (label, then the path it reads). metadata.name and
 * metadata.namespace are supported everywhere.
 */
#include "fields.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "registry/strategy.h"

/* The path a label reads for r, into path; false when r does not support the label. */
static bool label_path(const struct resource *r, const char *label, char *path, size_t size)
{
    if (!strcmp(label, "metadata.name") || !strcmp(label, "metadata.namespace")) {
        snprintf(path, size, "%s", label);
        return true;
    }
    const char *const *f = r->strategy->field_labels;
    for (; f && *f; f++) {
        const char *eq = strchr(*f, '=');
        size_t llen = eq ? (size_t)(eq - *f) : strlen(*f);
        if (strlen(label) == llen && !strncmp(*f, label, llen)) {
            snprintf(path, size, "%s", eq ? eq + 1 : *f);
            return true;
        }
    }
    return false;
}

int fields_check(const struct resource *r, const struct ck_field_selector *sel,
                 struct ck_error *err)
{
    char path[256];
    for (size_t i = 0; i < sel->n; i++)
        if (!label_path(r, sel->reqs[i].field, path, sizeof(path)))
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "field label not supported: %s",
                                sel->reqs[i].field);
    return 0;
}

struct lookup_ctx {
    const struct resource *r;
    const cJSON *obj;
    char scratch[64];
};

static const char *lookup(void *vctx, const char *label)
{
    struct lookup_ctx *c = vctx;
    char path[256];
    if (!label_path(c->r, label, path, sizeof(path)))
        return NULL;
    const cJSON *v = ck_json_get(c->obj, path);
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    if (cJSON_IsNumber(v)) {
        ck_json_format_double(v->valuedouble, c->scratch);
        return c->scratch;
    }
    /* absent: upstream's attrs hold the zero value ("" for strings, "false" for bools) */
    if (!strcmp(label, "spec.hostNetwork") || !strcmp(label, "spec.unschedulable"))
        return "false";
    if (!strcmp(label, "status.replicas") || !strcmp(label, "status.successful"))
        return "0";
    return "";
}

bool fields_match(const struct resource *r, const struct ck_field_selector *sel,
                  const cJSON *obj)
{
    struct lookup_ctx c = {.r = r, .obj = obj};
    return ck_field_selector_matches(sel, lookup, &c);
}
