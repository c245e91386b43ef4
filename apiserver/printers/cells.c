/* cells.c - helpers the printers share: reading fields with Go's zero values, building cells,
 * and upstream's formatting of times, labels, selectors, containers and quantities (see
 * printers_internal.h). */
#include "printers_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "quantity.h"
#include "selector.h"

const char PRINTERS_DESC_NAME[] =
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

const char PRINTERS_DESC_AGE[] =
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata";

const char PRINTERS_DESC_CONTAINERS[] = "Names of each container in the template.";
const char PRINTERS_DESC_IMAGES[] = "Images referenced by each container in the template.";

/* Go's zero time.Time (0001-01-01T00:00:00Z) in Unix seconds. */
#define GO_ZERO_TIME_UNIX INT64_C(-62135596800)

/* ---- reading ---- */

const char *pj_str(const cJSON *obj, const char *path)
{
    return ck_json_get_string(obj, path, "");
}

int64_t pj_int(const cJSON *obj, const char *path)
{
    return ck_json_get_int64(obj, path, 0);
}

bool pj_bool(const cJSON *obj, const char *path, bool def)
{
    return ck_json_get_bool(obj, path, def);
}

bool pj_set(const cJSON *obj, const char *path)
{
    const cJSON *v = ck_json_get(obj, path);
    return v && !cJSON_IsNull(v);
}

int64_t pj_count(const cJSON *obj, const char *path)
{
    const cJSON *v = ck_json_get(obj, path);
    if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
        return 0;
    return cJSON_GetArraySize(v);
}

const cJSON *pj_array(const cJSON *obj, const char *path)
{
    const cJSON *v = ck_json_get(obj, path);
    return cJSON_IsArray(v) ? v : NULL;
}

/* ---- time ---- */

bool pt_parse(const char *ts, struct timespec *out)
{
    if (!ts || !*ts || ck_time_parse(ts, out, NULL) < 0)
        return false;
    return !(out->tv_sec == GO_ZERO_TIME_UNIX && out->tv_nsec == 0);
}

void pt_since(const struct prow *row, const char *ts, char out[CK_HUMAN_BUFSZ])
{
    struct timespec t;
    if (!pt_parse(ts, &t)) {
        snprintf(out, CK_HUMAN_BUFSZ, "<unknown>");
        return;
    }
    ck_human_duration(ck_time_sub_ns(row->now, &t), out);
}

/* ---- cells ---- */

static void cell_add(struct prow *row, cJSON *item)
{
    if (!item)
        abort(); /* cJSON allocation failure: out of memory, as ck_xmalloc */
    cJSON_AddItemToArray(row->cells, item);
}

void cell_str(struct prow *row, const char *s)
{
    cell_add(row, cJSON_CreateString(s ? s : ""));
}

void cell_fmt(struct prow *row, const char *fmt, ...)
{
    struct ck_buf b = CK_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ck_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    cell_take(row, ck_buf_detach(&b));
}

void cell_take(struct prow *row, char *s)
{
    cell_str(row, s);
    free(s);
}

void cell_int(struct prow *row, int64_t v)
{
    cell_add(row, ck_json_new_int64(v));
}

void cell_bool(struct prow *row, bool v)
{
    cell_add(row, cJSON_CreateBool(v));
}

void cell_name(struct prow *row, const cJSON *obj)
{
    cell_str(row, pj_str(obj, "metadata.name"));
}

void cell_age(struct prow *row, const cJSON *obj)
{
    char age[CK_HUMAN_BUFSZ];
    pt_since(row, pj_str(obj, "metadata.creationTimestamp"), age);
    cell_str(row, age);
}

void cell_containers(struct prow *row, const cJSON *containers)
{
    struct ck_buf names = CK_BUF_INIT, images = CK_BUF_INIT;
    const cJSON *c;
    bool first = true;
    if (cJSON_IsArray(containers)) {
        cJSON_ArrayForEach(c, containers)
        {
            if (!first) {
                ck_buf_putc(&names, ',');
                ck_buf_putc(&images, ',');
            }
            first = false;
            ck_buf_puts(&names, pj_str(c, "name"));
            ck_buf_puts(&images, pj_str(c, "image"));
        }
    }
    cell_take(row, ck_buf_detach(&names));
    cell_take(row, ck_buf_detach(&images));
}

/* ---- formatting ---- */

char *fmt_labels(const cJSON *map)
{
    struct strset keys = {0};
    const cJSON *m;
    if (cJSON_IsObject(map)) {
        cJSON_ArrayForEach(m, map)
        {
            if (cJSON_IsString(m))
                strset_add(&keys, m->string);
        }
    }
    if (!keys.n) {
        strset_free(&keys);
        return ck_xstrdup("<none>");
    }
    strset_sort(&keys);
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; i < keys.n; i++) {
        if (i)
            ck_buf_putc(&b, ',');
        const cJSON *v = ck_json_getv(map, keys.v[i], NULL);
        ck_buf_printf(&b, "%s=%s", keys.v[i], ck_json_as_string(v, ""));
    }
    strset_free(&keys);
    return ck_buf_detach(&b);
}

/* The selector's String(), NULL when it does not convert. */
static char *selector_string(const cJSON *sel)
{
    struct ck_label_selector *s = NULL;
    if (ck_label_selector_from_json(sel, &s, NULL) < 0)
        return NULL;
    char *out = ck_label_selector_string(s);
    ck_label_selector_free(s);
    return out;
}

char *fmt_label_selector(const cJSON *sel)
{
    char *s = selector_string(sel);
    if (!s)
        return ck_xstrdup("<error>");
    if (!*s) {
        free(s);
        return ck_xstrdup("<none>");
    }
    return s;
}

char *fmt_selector_string(const cJSON *sel, const char *invalid)
{
    char *s = selector_string(sel);
    return s ? s : ck_xstrdup(invalid);
}

char *fmt_quantity(const cJSON *q)
{
    struct ck_quantity v;
    char buf[CK_QUANTITY_STR_MAX];
    if (!q || cJSON_IsNull(q))
        return ck_xstrdup("0");
    if (ck_quantity_parse_json(q, &v, NULL) < 0 || ck_quantity_format(&v, buf, sizeof(buf)) < 0)
        return ck_xstrdup(cJSON_IsString(q) ? q->valuestring : "0");
    return ck_xstrdup(buf);
}

char *fmt_intstr(const cJSON *v)
{
    if (cJSON_IsString(v))
        return ck_xstrdup(v->valuestring);
    return ck_xasprintf("%lld", (long long)ck_json_as_int64(v, 0));
}

/* Length of the Unicode white space (Go's unicode.IsSpace) starting at s, or 0. */
static size_t space_len(const unsigned char *s, size_t n)
{
    if (n >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
        return 1;
    if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
        return 2;
    if (n >= 3 && s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) /* U+1680 */
        return 3;
    if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
        (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf) && s[2] >= 0x80)
        return 3; /* U+2000..U+200A, U+2028, U+2029, U+202F */
    if (n >= 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) /* U+205F */
        return 3;
    if (n >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) /* U+3000 */
        return 3;
    return 0;
}

/* Length of the white space ending at s + n, or 0. */
static size_t space_len_back(const unsigned char *s, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++)
        if (space_len(s + n - k, k) == k)
            return k;
    return 0;
}

char *fmt_trim_space(const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t n = strlen((const char *)s), k;
    while ((k = space_len(s, n)) > 0) {
        s += k;
        n -= k;
    }
    while ((k = space_len_back(s, n)) > 0)
        n -= k;
    return ck_xstrndup((const char *)s, n);
}

/* ---- string sets ---- */

void strset_add(struct strset *s, const char *str)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = ck_xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = ck_xstrdup(str);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strset_sort(struct strset *s)
{
    size_t out = 0;
    if (!s->n)
        return;
    qsort(s->v, s->n, sizeof(*s->v), str_cmp);
    for (size_t i = 0; i < s->n; i++) {
        if (out && !strcmp(s->v[out - 1], s->v[i]))
            free(s->v[i]);
        else
            s->v[out++] = s->v[i];
    }
    s->n = out;
}

char *strset_join(struct strset *s, const char *sep)
{
    struct ck_buf b = CK_BUF_INIT;
    strset_sort(s);
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            ck_buf_puts(&b, sep);
        ck_buf_puts(&b, s->v[i]);
    }
    return ck_buf_detach(&b);
}

void strset_free(struct strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

char *join_strings(const cJSON *arr, const char *sep)
{
    struct ck_buf b = CK_BUF_INIT;
    const cJSON *m;
    bool first = true;
    if (cJSON_IsArray(arr)) {
        cJSON_ArrayForEach(m, arr)
        {
            if (!cJSON_IsString(m))
                continue;
            if (!first)
                ck_buf_puts(&b, sep);
            first = false;
            ck_buf_puts(&b, m->valuestring);
        }
    }
    return ck_buf_detach(&b);
}
