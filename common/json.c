/* json.c - JSON helpers over cJSON: exact integers, paths, typed views, equality and Go-style
 * printing (see json.h). The parser lives in json_parse.c. */
#include "json.h"
#include "json_internal.h"

#include "gostrconv.h"
#include "mem.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define TWO53 9007199254740992.0
#define MAX_STEPS 64 /* steps in one path */

int ck_json_member_cmp(const void *a, const void *b)
{
    const struct ck_json_member *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

cJSON *ck_json_must(cJSON *j)
{
    if (!j) {
        fprintf(stderr, "ckube: out of memory building JSON\n");
        abort();
    }
    return j;
}

void ck_json_must_add(cJSON *obj, const char *key, cJSON *item)
{
    if (!cJSON_AddItemToObject(obj, key, item)) {
        fprintf(stderr, "ckube: out of memory building JSON\n");
        abort();
    }
}

/* ---- exact integers ---- */

/* Stores v's decimal text in the number node (see json.h), allocated by cJSON itself so that
 * cJSON_Delete's deallocator matches. */
static void attach_exact(cJSON *num, int64_t v)
{
    char txt[24];
    snprintf(txt, sizeof(txt), "%" PRId64, v);
    cJSON *tmp = ck_json_must(cJSON_CreateString(txt));
    num->valuestring = tmp->valuestring;
    tmp->valuestring = NULL;
    cJSON_Delete(tmp);
}

/* The exact integer text of a number node, when present and still matching valuedouble. */
static int exact_int(const cJSON *num, int64_t *out)
{
    if (!num->valuestring)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(num->valuestring, &end, 10);
    if (errno || end == num->valuestring || *end || (double)v != num->valuedouble)
        return 0;
    *out = v;
    return 1;
}

cJSON *ck_json_new_int64(int64_t v)
{
    cJSON *n = ck_json_must(cJSON_CreateNumber((double)v));
    if (v > (int64_t)TWO53 || v < -(int64_t)TWO53)
        attach_exact(n, v);
    return n;
}

/* ---- paths ---- */

enum { STEP_KEY, STEP_INDEX };

struct step {
    int kind;
    const char *key; /* STEP_KEY */
    size_t index;    /* STEP_INDEX */
};

struct path {
    struct step st[MAX_STEPS];
    size_t n;
    char small[256];
    char *heap;
};

static void path_free(struct path *pp)
{
    free(pp->heap);
    pp->heap = NULL;
}

static int path_add(struct path *pp, int kind, const char *key, size_t index)
{
    if (pp->n >= MAX_STEPS)
        return -EINVAL;
    pp->st[pp->n++] = (struct step){kind, key, index};
    return 0;
}

/* Splits a dot path into steps (see json.h for the syntax). */
static int path_parse(struct path *pp, const char *path)
{
    pp->n = 0;
    pp->heap = NULL;
    if (!path)
        return -EINVAL;
    size_t len = strlen(path);
    char *out = len < sizeof(pp->small) ? pp->small : (pp->heap = ck_xmalloc(len + 1));
    const char *p = path;
    if (!*p)
        return 0;
    for (;;) {
        char *key = out;
        int any = 0;
        while (*p && *p != '.' && *p != '[') {
            if (*p == '\\' && !*++p)
                return -EINVAL;
            *out++ = *p++;
        }
        *out++ = '\0';
        if (*key) {
            if (path_add(pp, STEP_KEY, key, 0) < 0)
                return -EINVAL;
            any = 1;
        }
        while (*p == '[') {
            p++;
            if (!ck_json_is_digit(*p))
                return -EINVAL;
            size_t idx = 0;
            for (; ck_json_is_digit(*p); p++) {
                if (idx > 100000000) /* far beyond any array we could hold */
                    return -EINVAL;
                idx = idx * 10 + (size_t)(*p - '0');
            }
            if (*p++ != ']' || path_add(pp, STEP_INDEX, NULL, idx) < 0)
                return -EINVAL;
            any = 1;
        }
        if (!any)
            return -EINVAL; /* empty segment: "a..b", ".a", "a." */
        if (!*p)
            return 0;
        if (*p++ != '.' || !*p)
            return -EINVAL;
    }
}

static int path_from_steps(struct path *pp, const char *const *steps, size_t n)
{
    pp->n = 0;
    pp->heap = NULL;
    if (n && !steps)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!steps[i] || path_add(pp, STEP_KEY, steps[i], 0) < 0)
            return -EINVAL;
    return 0;
}

static int path_from_va(struct path *pp, va_list ap)
{
    pp->n = 0;
    pp->heap = NULL;
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL)
        if (path_add(pp, STEP_KEY, k, 0) < 0)
            return -EINVAL;
    return 0;
}

/* The array index a step names: explicit "[n]", or a key made only of digits. */
static int step_index(const struct step *st, size_t *idx)
{
    if (st->kind == STEP_INDEX) {
        *idx = st->index;
        return 1;
    }
    const char *k = st->key;
    if (!*k || strlen(k) > 9)
        return 0;
    size_t v = 0;
    for (; *k; k++) {
        if (!ck_json_is_digit(*k))
            return 0;
        v = v * 10 + (size_t)(*k - '0');
    }
    *idx = v;
    return 1;
}

static cJSON *array_at(const cJSON *arr, size_t idx)
{
    cJSON *c = arr->child;
    while (c && idx--)
        c = c->next;
    return c;
}

static size_t child_count(const cJSON *c)
{
    size_t n = 0;
    for (c = c->child; c; c = c->next)
        n++;
    return n;
}

static cJSON *step_get(const cJSON *node, const struct step *st)
{
    size_t idx;
    if (!node)
        return NULL;
    if (cJSON_IsObject(node))
        return st->kind == STEP_KEY ? cJSON_GetObjectItemCaseSensitive(node, st->key) : NULL;
    if (cJSON_IsArray(node) && step_index(st, &idx))
        return array_at(node, idx);
    return NULL;
}

static int is_container(const cJSON *j)
{
    return cJSON_IsObject(j) || cJSON_IsArray(j);
}

/* Puts item at one step under parent (replacing what is there); always consumes item. */
static int place(cJSON *parent, const struct step *st, cJSON *item)
{
    size_t idx;
    if (cJSON_IsObject(parent) && st->kind == STEP_KEY) {
        if (cJSON_GetObjectItemCaseSensitive(parent, st->key)) {
            if (!cJSON_ReplaceItemInObjectCaseSensitive(parent, st->key, item))
                ck_json_must(NULL);
        } else {
            ck_json_must_add(parent, st->key, item);
        }
        return 0;
    }
    if (cJSON_IsArray(parent) && step_index(st, &idx)) {
        size_t n = child_count(parent);
        if (idx < n) {
            cJSON_ReplaceItemViaPointer(parent, array_at(parent, idx), item);
            return 0;
        }
        if (idx == n) {
            cJSON_AddItemToArray(parent, item);
            return 0;
        }
        cJSON_Delete(item);
        return -ERANGE;
    }
    cJSON_Delete(item);
    return -ENOTDIR;
}

static cJSON *lookup(const cJSON *root, const struct path *pp)
{
    const cJSON *node = root;
    for (size_t i = 0; node && i < pp->n; i++)
        node = step_get(node, &pp->st[i]);
    return (cJSON *)node;
}

/* Walks all steps but the last, creating containers when `create`; returns the parent of the
 * last step, or NULL with *rc set. */
static cJSON *walk_parent(cJSON *root, const struct path *pp, int create, int *rc)
{
    cJSON *node = root;
    for (size_t i = 0; i + 1 < pp->n; i++) {
        const struct step *st = &pp->st[i];
        cJSON *child = step_get(node, st);
        if (child && is_container(child)) {
            node = child;
            continue;
        }
        if (!create) {
            *rc = -ENOENT;
            return NULL;
        }
        if (child && !cJSON_IsNull(child)) {
            *rc = -ENOTDIR;
            return NULL;
        }
        cJSON *made = ck_json_must(pp->st[i + 1].kind == STEP_INDEX ? cJSON_CreateArray()
                                                                    : cJSON_CreateObject());
        int r = place(node, st, made);
        if (r < 0) {
            *rc = r;
            return NULL;
        }
        node = made;
    }
    return node;
}

static int set_path(cJSON *obj, const struct path *pp, cJSON *item)
{
    int rc = -EINVAL;
    if (!obj || !item || pp->n == 0) {
        cJSON_Delete(item);
        return -EINVAL;
    }
    cJSON *parent = walk_parent(obj, pp, 1, &rc);
    if (!parent) {
        cJSON_Delete(item);
        return rc;
    }
    return place(parent, &pp->st[pp->n - 1], item);
}

static cJSON *ensure_path(cJSON *obj, const struct path *pp, int want_array)
{
    int rc;
    if (!obj)
        return NULL;
    if (pp->n == 0)
        return (want_array ? cJSON_IsArray(obj) : cJSON_IsObject(obj)) ? obj : NULL;
    cJSON *parent = walk_parent(obj, pp, 1, &rc);
    if (!parent)
        return NULL;
    const struct step *last = &pp->st[pp->n - 1];
    cJSON *child = step_get(parent, last);
    if (child && (want_array ? cJSON_IsArray(child) : cJSON_IsObject(child)))
        return child;
    if (child && !cJSON_IsNull(child))
        return NULL;
    cJSON *made = ck_json_must(want_array ? cJSON_CreateArray() : cJSON_CreateObject());
    return place(parent, last, made) < 0 ? NULL : made;
}

static cJSON *detach_path(cJSON *obj, const struct path *pp, int *rc)
{
    *rc = -EINVAL;
    if (!obj || pp->n == 0)
        return NULL;
    cJSON *parent = walk_parent(obj, pp, 0, rc);
    cJSON *child = parent ? step_get(parent, &pp->st[pp->n - 1]) : NULL;
    if (!child) {
        *rc = -ENOENT;
        return NULL;
    }
    *rc = 0;
    return cJSON_DetachItemViaPointer(parent, child);
}

cJSON *ck_json_get(const cJSON *obj, const char *path)
{
    struct path pp;
    cJSON *r = path_parse(&pp, path) < 0 ? NULL : lookup(obj, &pp);
    path_free(&pp);
    return r;
}

cJSON *ck_json_getv(const cJSON *obj, ...)
{
    struct path pp;
    va_list ap;
    va_start(ap, obj);
    int rc = path_from_va(&pp, ap);
    va_end(ap);
    return rc < 0 ? NULL : lookup(obj, &pp);
}

cJSON *ck_json_get_steps(const cJSON *obj, const char *const *steps, size_t n)
{
    struct path pp;
    return path_from_steps(&pp, steps, n) < 0 ? NULL : lookup(obj, &pp);
}

int ck_json_set(cJSON *obj, const char *path, cJSON *item)
{
    struct path pp;
    int rc = path_parse(&pp, path);
    if (rc < 0)
        cJSON_Delete(item);
    else
        rc = set_path(obj, &pp, item);
    path_free(&pp);
    return rc;
}

int ck_json_setv(cJSON *obj, cJSON *item, ...)
{
    struct path pp;
    va_list ap;
    va_start(ap, item);
    int rc = path_from_va(&pp, ap);
    va_end(ap);
    if (rc < 0) {
        cJSON_Delete(item);
        return rc;
    }
    return set_path(obj, &pp, item);
}

int ck_json_set_steps(cJSON *obj, const char *const *steps, size_t n, cJSON *item)
{
    struct path pp;
    if (path_from_steps(&pp, steps, n) < 0) {
        cJSON_Delete(item);
        return -EINVAL;
    }
    return set_path(obj, &pp, item);
}

int ck_json_set_string(cJSON *obj, const char *path, const char *value)
{
    if (!value)
        return -EINVAL;
    return ck_json_set(obj, path, ck_json_must(cJSON_CreateString(value)));
}

int ck_json_set_int64(cJSON *obj, const char *path, int64_t value)
{
    return ck_json_set(obj, path, ck_json_new_int64(value));
}

int ck_json_set_bool(cJSON *obj, const char *path, bool value)
{
    return ck_json_set(obj, path, ck_json_must(cJSON_CreateBool(value)));
}

cJSON *ck_json_ensure_object(cJSON *obj, const char *path)
{
    struct path pp;
    cJSON *r = path_parse(&pp, path) < 0 ? NULL : ensure_path(obj, &pp, 0);
    path_free(&pp);
    return r;
}

cJSON *ck_json_ensure_objectv(cJSON *obj, ...)
{
    struct path pp;
    va_list ap;
    va_start(ap, obj);
    int rc = path_from_va(&pp, ap);
    va_end(ap);
    return rc < 0 ? NULL : ensure_path(obj, &pp, 0);
}

cJSON *ck_json_ensure_array(cJSON *obj, const char *path)
{
    struct path pp;
    cJSON *r = path_parse(&pp, path) < 0 ? NULL : ensure_path(obj, &pp, 1);
    path_free(&pp);
    return r;
}

cJSON *ck_json_detach(cJSON *obj, const char *path)
{
    struct path pp;
    int rc;
    cJSON *r = path_parse(&pp, path) < 0 ? NULL : detach_path(obj, &pp, &rc);
    path_free(&pp);
    return r;
}

int ck_json_delete(cJSON *obj, const char *path)
{
    struct path pp;
    int rc = path_parse(&pp, path);
    if (rc == 0)
        cJSON_Delete(detach_path(obj, &pp, &rc));
    path_free(&pp);
    return rc;
}

int ck_json_deletev(cJSON *obj, ...)
{
    struct path pp;
    va_list ap;
    va_start(ap, obj);
    int rc = path_from_va(&pp, ap);
    va_end(ap);
    if (rc == 0)
        cJSON_Delete(detach_path(obj, &pp, &rc));
    return rc;
}

/* ---- typed views ---- */

const char *ck_json_as_string(const cJSON *item, const char *def)
{
    return cJSON_IsString(item) && item->valuestring ? item->valuestring : def;
}

bool ck_json_as_bool(const cJSON *item, bool def)
{
    return cJSON_IsBool(item) ? cJSON_IsTrue(item) : def;
}

double ck_json_as_double(const cJSON *item, double def)
{
    return cJSON_IsNumber(item) ? item->valuedouble : def;
}

int ck_json_to_int64(const cJSON *item, int64_t *out)
{
    if (!item)
        return -ENOENT;
    if (!cJSON_IsNumber(item))
        return -EINVAL;
    int64_t v;
    if (exact_int(item, &v)) {
        *out = v;
        return 0;
    }
    double d = item->valuedouble;
    /* -2^63 is exact as a double; 2^63 is the first value out of range */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return -EINVAL;
    v = (int64_t)d;
    if ((double)v != d)
        return -EINVAL;
    *out = v;
    return 0;
}

int64_t ck_json_as_int64(const cJSON *item, int64_t def)
{
    int64_t v;
    return ck_json_to_int64(item, &v) == 0 ? v : def;
}

const char *ck_json_get_string(const cJSON *obj, const char *path, const char *def)
{
    return ck_json_as_string(ck_json_get(obj, path), def);
}

int64_t ck_json_get_int64(const cJSON *obj, const char *path, int64_t def)
{
    return ck_json_as_int64(ck_json_get(obj, path), def);
}

bool ck_json_get_bool(const cJSON *obj, const char *path, bool def)
{
    return ck_json_as_bool(ck_json_get(obj, path), def);
}

double ck_json_get_double(const cJSON *obj, const char *path, double def)
{
    return ck_json_as_double(ck_json_get(obj, path), def);
}

/* ---- copy and equality ---- */

cJSON *ck_json_dup(const cJSON *item)
{
    return item ? ck_json_must(cJSON_Duplicate(item, 1)) : NULL;
}

static int equal_rec(const cJSON *a, const cJSON *b, int depth);

static int numbers_equal(const cJSON *a, const cJSON *b)
{
    int64_t x, y;
    if (ck_json_to_int64(a, &x) == 0 && ck_json_to_int64(b, &y) == 0)
        return x == y;
    return a->valuedouble == b->valuedouble;
}

static int objects_equal(const cJSON *a, const cJSON *b, int depth)
{
    if (child_count(a) != child_count(b))
        return 0;
    const cJSON *x = a->child, *y = b->child;
    /* same key order (the common case): compare pairwise */
    while (x && y && x->string && y->string && strcmp(x->string, y->string) == 0) {
        if (!equal_rec(x, y, depth + 1))
            return 0;
        x = x->next;
        y = y->next;
    }
    if (!x)
        return 1;
    /* different order: every remaining member of each side must be found in the other */
    for (; x; x = x->next) {
        const cJSON *m = x->string ? cJSON_GetObjectItemCaseSensitive(b, x->string) : NULL;
        if (!m || !equal_rec(x, m, depth + 1))
            return 0;
    }
    for (; y; y = y->next)
        if (!y->string || !cJSON_GetObjectItemCaseSensitive(a, y->string))
            return 0;
    return 1;
}

static int equal_rec(const cJSON *a, const cJSON *b, int depth)
{
    if (a == b)
        return 1;
    if (!a || !b || depth > CK_JSON_MAX_DEPTH)
        return 0;
    int ta = a->type & 0xFF, tb = b->type & 0xFF;
    if (ta != tb)
        return 0;
    switch (ta) {
    case cJSON_False:
    case cJSON_True:
    case cJSON_NULL:
        return 1;
    case cJSON_Number:
        return numbers_equal(a, b);
    case cJSON_String:
    case cJSON_Raw:
        if (!a->valuestring || !b->valuestring)
            return a->valuestring == b->valuestring;
        return strcmp(a->valuestring, b->valuestring) == 0;
    case cJSON_Array: {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!equal_rec(x, y, depth + 1))
                return 0;
        return !x && !y;
    }
    case cJSON_Object:
        return objects_equal(a, b, depth);
    }
    return 0;
}

bool ck_json_equal(const cJSON *a, const cJSON *b)
{
    return equal_rec(a, b, 0);
}

/* ---- printing ---- */

void ck_json_format_double(double d, char out[32])
{
    if (!isfinite(d)) {
        strcpy(out, "null");
        return;
    }
    if (d == 0) {
        strcpy(out, "0"); /* also -0, as upstream's int64 decoding of "-0" */
        return;
    }
    double a = fabs(d);
    if (a <= TWO53 && (double)(int64_t)d == d) {
        snprintf(out, 32, "%" PRId64, (int64_t)d);
        return;
    }
    /* Go: strconv 'e' format below 1e-6 and from 1e21, 'f' between; then json's "e-07" ->
     * "e-7" cleanup */
    char txt[CK_GO_FLOAT_BUFSZ];
    ck_go_format_float(d, a < 1e-6 || a >= 1e21 ? 'e' : 'f', 64, txt);
    size_t n = strlen(txt);
    if (n >= 4 && txt[n - 4] == 'e' && txt[n - 3] == '-' && txt[n - 2] == '0') {
        txt[n - 2] = txt[n - 1];
        txt[n - 1] = '\0';
    }
    n = strlen(txt); /* at most 25 characters: [-]0.00000 + 17 digits, or d.16 digits e-324 */
    memcpy(out, txt, n < 32 ? n + 1 : 32);
    out[31] = '\0';
}

static void put_number(struct ck_buf *b, const cJSON *num)
{
    int64_t v;
    char txt[32];
    if (exact_int(num, &v))
        snprintf(txt, sizeof(txt), "%" PRId64, v);
    else
        ck_json_format_double(num->valuedouble, txt);
    ck_buf_puts(b, txt);
}

/* Go's string encoding (encoding/json, Go 1.22 and later). */
/* ASCII bytes put_string copies as they are: 1 always, 2 only without CK_JSON_NO_HTML_ESCAPE
 * clear ('<', '>', '&'), 0 never (quote, backslash, control bytes). */
static const unsigned char ascii_plain[128] = {
    [' '] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 2, ['\''] = 1, ['('] = 1,
    [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1, ['0'] = 1,
    ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
    ['9'] = 1, [':'] = 1, [';'] = 1, ['<'] = 2, ['='] = 1, ['>'] = 2, ['?'] = 1, ['@'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['['] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['a'] = 1,
    ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,
    ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1,
    ['z'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1, [127] = 1,
};

static void put_string(struct ck_buf *b, const char *s, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, start = 0;
    unsigned char plain = flags & CK_JSON_NO_HTML_ESCAPE ? 2 : 1; /* the highest class kept */
    char esc[8];
    ck_buf_grow(b, n + 2);
    ck_buf_putc(b, '"');
    while (i < n) {
        unsigned char c = p[i];
        const char *rep = NULL;
        size_t width = 1;
        if (c < 0x80) {
            if (ascii_plain[c] && ascii_plain[c] <= plain) {
                i++;
                continue;
            }
            static const char short_in[] = "\"\\\n\r\t\b\f", short_out[] = "\"\\nrtbf";
            const char *hit = c ? strchr(short_in, c) : NULL;
            if (hit) {
                esc[0] = '\\', esc[1] = short_out[hit - short_in], esc[2] = '\0';
                rep = esc;
            } else {
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                rep = esc;
            }
        } else {
            unsigned cp;
            width = ck_utf8_decode(s + i, n - i, &cp);
            if (width == 1 && cp == 0xFFFD) {
                rep = "\\ufffd";
            } else if (cp == 0x2028 || cp == 0x2029) {
                snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
                rep = esc;
            }
        }
        if (rep) {
            ck_buf_add(b, p + start, i - start);
            ck_buf_puts(b, rep);
            start = i + width;
        }
        i += width;
    }
    ck_buf_add(b, p + start, n - start);
    ck_buf_putc(b, '"');
}

static void put_indent(struct ck_buf *b, unsigned flags, int depth)
{
    if (!(flags & CK_JSON_INDENT))
        return;
    ck_buf_putc(b, '\n');
    for (int i = 0; i < depth; i++)
        ck_buf_add(b, "    ", 4);
}

static int put_value(struct ck_buf *b, const cJSON *it, unsigned flags, int depth);

static int put_object(struct ck_buf *b, const cJSON *obj, unsigned flags, int depth)
{
    size_t n = child_count(obj);
    if (n == 0) {
        ck_buf_puts(b, "{}");
        return 0;
    }
    struct ck_json_member small[32];
    struct ck_json_member *m = n <= 32 ? small : ck_xmalloc(n * sizeof(*m));
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next, i++)
        m[i] = (struct ck_json_member){c->string ? c->string : "", i, (cJSON *)c};
    if (flags & CK_JSON_SORT_KEYS)
        qsort(m, n, sizeof(*m), ck_json_member_cmp);
    int rc = 0;
    ck_buf_putc(b, '{');
    for (i = 0; i < n && rc == 0; i++) {
        if (i)
            ck_buf_putc(b, ',');
        put_indent(b, flags, depth + 1);
        put_string(b, m[i].key, flags);
        ck_buf_puts(b, flags & CK_JSON_INDENT ? ": " : ":");
        rc = put_value(b, m[i].item, flags, depth + 1);
    }
    put_indent(b, flags, depth);
    ck_buf_putc(b, '}');
    if (m != small)
        free(m);
    return rc;
}

static int put_value(struct ck_buf *b, const cJSON *it, unsigned flags, int depth)
{
    if (depth > CK_JSON_MAX_DEPTH)
        return -ELOOP;
    switch (it->type & 0xFF) {
    case cJSON_False:
        ck_buf_puts(b, "false");
        return 0;
    case cJSON_True:
        ck_buf_puts(b, "true");
        return 0;
    case cJSON_Number:
        put_number(b, it);
        return 0;
    case cJSON_String:
        put_string(b, it->valuestring ? it->valuestring : "", flags);
        return 0;
    case cJSON_Raw:
        ck_buf_puts(b, it->valuestring ? it->valuestring : "null");
        return 0;
    case cJSON_Object:
        return put_object(b, it, flags, depth);
    case cJSON_Array: {
        if (!it->child) {
            ck_buf_puts(b, "[]");
            return 0;
        }
        ck_buf_putc(b, '[');
        for (const cJSON *c = it->child; c; c = c->next) {
            if (c != it->child)
                ck_buf_putc(b, ',');
            put_indent(b, flags, depth + 1);
            int rc = put_value(b, c, flags, depth + 1);
            if (rc < 0)
                return rc;
        }
        put_indent(b, flags, depth);
        ck_buf_putc(b, ']');
        return 0;
    }
    default:
        ck_buf_puts(b, "null");
        return 0;
    }
}

int ck_json_print_buf(struct ck_buf *b, const cJSON *item, unsigned flags)
{
    if (!item)
        return -EINVAL;
    size_t mark = b->len;
    int rc = put_value(b, item, flags, 0);
    if (rc < 0)
        ck_buf_truncate(b, mark);
    return rc;
}

char *ck_json_print(const cJSON *item, unsigned flags)
{
    struct ck_buf b = CK_BUF_INIT;
    if (ck_json_print_buf(&b, item, flags) < 0) {
        ck_buf_free(&b);
        return NULL;
    }
    return ck_buf_detach(&b);
}

char *ck_json_canonical(const cJSON *item)
{
    return ck_json_print(item, CK_JSON_SORT_KEYS);
}
