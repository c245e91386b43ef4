/* flags.c - pflag-style command-line parsing and help text (see flags.h).
 *
 * Values and messages come out as upstream's do because the Go library pieces pflag leans on
 * (strconv's ParseBool/ParseInt/ParseFloat/Quote/FormatFloat('g', -1), encoding/csv's
 * first-record reader and field quoting for StringSlice) come from common/gostrconv, and
 * durations from common/timeutil.
 */
#include "flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gostrconv.h"
#include "log.h"
#include "mem.h"
#include "timeutil.h"

/* ---- durations: Go syntax through common/timeutil ------------------------------------- */

static int parse_duration(const char *value, int64_t *ns, struct ck_buf *msg)
{
    struct ck_error e = CK_ERROR_INIT;
    int rc = ck_duration_parse(value, ns, &e);
    if (rc < 0)
        ck_buf_puts(msg, e.message);
    ck_error_clear(&e);
    return rc;
}

static void format_duration(struct ck_buf *out, int64_t d)
{
    char b[CK_DURATION_BUFSZ];
    ck_duration_format(d, b);
    ck_buf_puts(out, b);
}

/* ---- StringSlice values (encoding/csv through common/gostrconv) ------------------------------ */

static void strings_release(struct ck_flag_strings *l)
{
    for (size_t i = 0; i < l->n; i++)
        free((void *)l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* pflag's readAsCSV: "" is the empty list, otherwise the first CSV record. */
static int read_as_csv(const char *val, struct ck_flag_strings *out, struct ck_buf *msg)
{
    out->items = NULL;
    out->n = 0;
    if (!*val)
        return 0;
    char **fields;
    int rc = ck_go_csv_read(val, &fields, &out->n, msg);
    out->items = (const char **)fields;
    return rc;
}

/* pflag's StringSlice String(): "[" + the list as one CSV record + "]". */
static void format_strings(struct ck_buf *out, const struct ck_flag_strings *l)
{
    ck_buf_putc(out, '[');
    ck_go_csv_write(out, l->items, l->n);
    ck_buf_putc(out, ']');
}

/* ---- maps (k8s cliflag MapStringString / MapStringBool) ----------------------------------- */

static void map_release(struct ck_flag_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free((void *)m->keys[i]);
        free((void *)m->values[i]);
    }
    free(m->keys);
    free(m->values);
    m->keys = m->values = NULL;
    m->n = 0;
}

static void map_put(struct ck_flag_map *m, const char *k, size_t klen, const char *v)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strlen(m->keys[i]) == klen && memcmp(m->keys[i], k, klen) == 0) {
            free((void *)m->values[i]);
            m->values[i] = ck_xstrdup(v);
            return;
        }
    }
    m->keys = ck_xrealloc(m->keys, (m->n + 1) * sizeof(*m->keys));
    m->values = ck_xrealloc(m->values, (m->n + 1) * sizeof(*m->values));
    m->keys[m->n] = ck_xstrndup(k, klen);
    m->values[m->n] = ck_xstrdup(v);
    m->n++;
}

static bool is_go_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Trims ASCII white space from [*s, *s+*n). */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_go_space(**s))
        (*s)++, (*n)--;
    while (*n > 0 && is_go_space((*s)[*n - 1]))
        (*n)--;
}

/* Adds the comma-separated k=v pairs of value to m (empty pairs skipped, keys and values
 * trimmed), as cliflag's Map types do. */
static int map_set(struct ck_flag_map *m, const char *value, bool bools, struct ck_buf *msg)
{
    const char *p = value;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0) {
            const char *eq = memchr(p, '=', n);
            if (!eq) {
                ck_buf_puts(msg, bools ? "malformed pair, expect string=bool"
                                       : "malformed pair, expect string=string");
                return -EINVAL;
            }
            const char *k = p, *v = eq + 1;
            size_t klen = (size_t)(eq - p), vlen = n - klen - 1;
            trim(&k, &klen);
            trim(&v, &vlen);
            CK_AUTOFREE char *val = ck_xstrndup(v, vlen);
            if (bools) {
                bool b;
                CK_AUTOBUF struct ck_buf inner = CK_BUF_INIT;
                if (ck_go_parse_bool(val, &b, &inner) < 0) {
                    ck_buf_printf(msg, "invalid value of %.*s: %s, err: %s", (int)klen, k, val,
                                  ck_buf_str(&inner));
                    return -EINVAL;
                }
                map_put(m, k, klen, b ? "true" : "false");
            } else {
                map_put(m, k, klen, val);
            }
        }
        if (!end)
            return 0;
        p = end + 1;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* cliflag's String(): "k=v" pairs sorted as strings, comma-joined. */
static void format_map(struct ck_buf *out, const struct ck_flag_map *m)
{
    if (m->n == 0)
        return;
    char **pairs = ck_xcalloc(m->n, sizeof(*pairs));
    for (size_t i = 0; i < m->n; i++)
        pairs[i] = ck_xasprintf("%s=%s", m->keys[i] ? m->keys[i] : "",
                                m->values && m->values[i] ? m->values[i] : "");
    qsort(pairs, m->n, sizeof(*pairs), cmp_str);
    for (size_t i = 0; i < m->n; i++) {
        if (i > 0)
            ck_buf_putc(out, ',');
        ck_buf_puts(out, pairs[i]);
        free(pairs[i]);
    }
    free(pairs);
}

const char *ck_flag_map_get(const struct ck_flag_map *m, const char *key)
{
    if (!m || !key)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (m->keys[i] && strcmp(m->keys[i], key) == 0)
            return m->values[i];
    return NULL;
}

int ck_flag_map_get_bool(const struct ck_flag_map *m, const char *key, bool *out)
{
    const char *v = ck_flag_map_get(m, key);
    if (!v)
        return -ENOENT;
    *out = strcmp(v, "true") == 0;
    return 0;
}

/* ---- values ----------------------------------------------------------------------------- */

/* Size of the C variable behind each type; every value is copied by value. */
static size_t value_size(enum ck_flag_type t)
{
    switch (t) {
    case CK_FLAG_BOOL:
        return sizeof(bool);
    case CK_FLAG_INT:
        return sizeof(int);
    case CK_FLAG_INT64:
    case CK_FLAG_DURATION:
        return sizeof(int64_t);
    case CK_FLAG_FLOAT:
        return sizeof(double);
    case CK_FLAG_STRING:
        return sizeof(const char *);
    case CK_FLAG_STRINGS:
        return sizeof(struct ck_flag_strings);
    case CK_FLAG_MAP:
    case CK_FLAG_BOOL_MAP:
        return sizeof(struct ck_flag_map);
    }
    return 0;
}

static void capture_default(struct ck_flag *f)
{
    if (f->priv.init || !f->value)
        return;
    memcpy(&f->priv.def, f->value, value_size(f->type));
    f->priv.init = true;
}

/* Frees what parsing put into the variable and writes the default back. */
static void restore_default(struct ck_flag *f)
{
    if (!f->priv.init)
        return;
    if (f->priv.owned) {
        if (f->type == CK_FLAG_STRING)
            free(*(char **)f->value);
        else if (f->type == CK_FLAG_STRINGS)
            strings_release(f->value);
        else if (f->type == CK_FLAG_MAP || f->type == CK_FLAG_BOOL_MAP)
            map_release(f->value);
    }
    memcpy(f->value, &f->priv.def, value_size(f->type));
    memset(&f->priv, 0, sizeof(f->priv));
}

/* Parses value into the flag's variable (pflag's Value.Set); msg gets the bare reason. */
static int set_value(struct ck_flag *f, const char *value, struct ck_buf *msg)
{
    int rc = 0;
    switch (f->type) {
    case CK_FLAG_BOOL:
        return ck_go_parse_bool(value, f->value, msg);
    case CK_FLAG_INT: {
        int64_t v;
        rc = ck_go_parse_int_msg(value, (int)sizeof(int) * 8, &v, msg);
        if (rc == 0)
            *(int *)f->value = (int)v;
        return rc;
    }
    case CK_FLAG_INT64:
        return ck_go_parse_int_msg(value, 64, f->value, msg);
    case CK_FLAG_FLOAT:
        return ck_go_parse_float(value, f->value, msg);
    case CK_FLAG_DURATION:
        return parse_duration(value, f->value, msg);
    case CK_FLAG_STRING:
        if (f->priv.owned)
            free(*(char **)f->value);
        *(char **)f->value = ck_xstrdup(value);
        f->priv.owned = true;
        return 0;
    case CK_FLAG_STRINGS: {
        struct ck_flag_strings add;
        rc = read_as_csv(value, &add, msg);
        if (rc < 0)
            return rc;
        struct ck_flag_strings *l = f->value;
        if (!f->priv.owned) { /* the first use replaces the default */
            *l = add;
            f->priv.owned = true;
            return 0;
        }
        if (add.n) {
            l->items = ck_xrealloc(l->items, (l->n + add.n) * sizeof(*l->items));
            memcpy(l->items + l->n, add.items, add.n * sizeof(*add.items));
            l->n += add.n;
        }
        free(add.items);
        return 0;
    }
    case CK_FLAG_MAP:
    case CK_FLAG_BOOL_MAP:
        if (!f->priv.owned) { /* the first use clears the default */
            struct ck_flag_map *m = f->value;
            m->keys = m->values = NULL;
            m->n = 0;
            f->priv.owned = true;
        }
        return map_set(f->value, value, f->type == CK_FLAG_BOOL_MAP, msg);
    }
    return -EINVAL;
}

/* pflag's Value.String() of the default (its DefValue); sets *zero when pflag would treat it as
 * the zero value and leave "(default ...)" out. */
static void format_default(const struct ck_flag *f, struct ck_buf *out, bool *zero)
{
    size_t start = out->len;
    switch (f->type) {
    case CK_FLAG_BOOL:
        ck_buf_puts(out, f->priv.def.b ? "true" : "false");
        break;
    case CK_FLAG_INT:
        ck_buf_printf(out, "%d", f->priv.def.i);
        break;
    case CK_FLAG_INT64:
        ck_buf_printf(out, "%lld", (long long)f->priv.def.i64);
        break;
    case CK_FLAG_FLOAT: {
        char num[CK_GO_FLOAT_BUFSZ];
        ck_go_format_float(f->priv.def.f, 'g', 64, num);
        ck_buf_puts(out, num);
    } break;
    case CK_FLAG_STRING:
        ck_buf_puts(out, f->priv.def.s ? f->priv.def.s : "");
        break;
    case CK_FLAG_STRINGS:
        format_strings(out, &f->priv.def.strings);
        break;
    case CK_FLAG_DURATION:
        format_duration(out, f->priv.def.i64);
        break;
    case CK_FLAG_MAP:
    case CK_FLAG_BOOL_MAP:
        format_map(out, &f->priv.def.map);
        break;
    }
    const char *s = ck_buf_str(out) + start;
    switch (f->type) {
    case CK_FLAG_BOOL:
        *zero = strcmp(s, "false") == 0;
        break;
    case CK_FLAG_DURATION:
        *zero = strcmp(s, "0s") == 0;
        break;
    case CK_FLAG_INT:
    case CK_FLAG_INT64:
    case CK_FLAG_FLOAT:
        *zero = strcmp(s, "0") == 0;
        break;
    case CK_FLAG_STRING:
        *zero = *s == '\0';
        break;
    case CK_FLAG_STRINGS:
        *zero = strcmp(s, "[]") == 0;
        break;
    default:
        *zero = !*s || !strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "<nil>");
        break;
    }
}

/* ---- the table ------------------------------------------------------------------------------ */

/* The flags every binary gets: --help/-h and klog's --v/-v. */
struct builtins {
    struct ck_flag flags[3];
    bool help;
    int verbosity;
};

/* Flag-name equality under upstream's WordSepNormalizeFunc ('_' reads as '-'). */
static bool name_eq(const char *a, const char *b, size_t blen)
{
    size_t i = 0;
    for (; i < blen && a[i]; i++) {
        char x = a[i] == '_' ? '-' : a[i];
        char y = b[i] == '_' ? '-' : b[i];
        if (x != y)
            return false;
    }
    return i == blen && a[i] == '\0';
}

static struct ck_flag *find_in(struct ck_flag *t, const char *name, size_t n)
{
    for (; t && t->name; t++)
        if (name_eq(t->name, name, n))
            return t;
    return NULL;
}

static struct ck_flag *find_short_in(struct ck_flag *t, char c)
{
    for (; t && t->name; t++)
        if (t->shorthand && t->shorthand == c)
            return t;
    return NULL;
}

static void builtins_init(struct builtins *b, struct ck_flag *table, const char *help_usage)
{
    memset(b, 0, sizeof(*b));
    b->verbosity = ck_log_verbosity;
    size_t n = 0;
    if (!find_in(table, "help", 4))
        b->flags[n++] = (struct ck_flag)CK_BOOL_FLAG_P("help", find_short_in(table, 'h') ? 0 : 'h',
                                                       &b->help, help_usage);
    if (!find_in(table, "v", 1))
        b->flags[n++] = (struct ck_flag)CK_INT_FLAG_P(
            "v", find_short_in(table, 'v') ? 0 : 'v', &b->verbosity,
            "number for the log level verbosity", .type_name = "Level");
    for (size_t i = 0; i < n; i++)
        capture_default(&b->flags[i]);
}

static int validate_table(struct ck_flag *table, struct ck_error *err)
{
    for (struct ck_flag *f = table; f->name; f++) {
        if (!*f->name || f->name[0] == '-' || strchr(f->name, '=') || !f->value ||
            f->type < CK_FLAG_BOOL || f->type > CK_FLAG_BOOL_MAP)
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "invalid flag definition: %s",
                                f->name);
        for (struct ck_flag *g = table; g != f; g++) {
            if (name_eq(g->name, f->name, strlen(f->name)))
                return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "flag redefined: %s", f->name);
            if (f->shorthand && g->shorthand == f->shorthand)
                return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                    "unable to redefine '%c' shorthand: it's already used for "
                                    "\"%s\" flag",
                                    f->shorthand, g->name);
        }
    }
    return 0;
}

struct parser {
    struct ck_flag *table;
    struct builtins b;
    struct ck_error *err;
};

static struct ck_flag *lookup_long(struct parser *p, const char *name, size_t n)
{
    struct ck_flag *f = find_in(p->table, name, n);
    return f ? f : find_in(p->b.flags, name, n);
}

static struct ck_flag *lookup_short(struct parser *p, char c)
{
    struct ck_flag *f = find_short_in(p->table, c);
    return f ? f : find_short_in(p->b.flags, c);
}

static int fail(struct parser *p, struct ck_buf *msg)
{
    return ck_error_set(p->err, 400, CK_REASON_BAD_REQUEST, "%s", ck_buf_str(msg));
}

/* pflag's FlagSet.Set: parse, wrap errors as `invalid argument "v" for "--name" flag: ...`,
 * mark Changed, warn when deprecated. */
static int apply(struct parser *p, struct ck_flag *f, const char *value)
{
    CK_AUTOBUF struct ck_buf inner = CK_BUF_INIT;
    if (set_value(f, value, &inner) < 0) {
        CK_AUTOBUF struct ck_buf msg = CK_BUF_INIT;
        CK_AUTOBUF struct ck_buf name = CK_BUF_INIT;
        if (f->shorthand)
            ck_buf_printf(&name, "-%c, --%s", f->shorthand, f->name);
        else
            ck_buf_printf(&name, "--%s", f->name);
        ck_buf_puts(&msg, "invalid argument ");
        ck_buf_put_go_quoted(&msg, value);
        ck_buf_puts(&msg, " for ");
        ck_buf_put_go_quoted(&msg, ck_buf_str(&name));
        ck_buf_printf(&msg, " flag: %s", ck_buf_str(&inner));
        return fail(p, &msg);
    }
    f->priv.changed = true;
    if (f->deprecated)
        fprintf(stderr, "Flag --%s has been deprecated, %s\n", f->name, f->deprecated);
    if (f->value == &p->b.verbosity)
        ck_log_set_verbosity(p->b.verbosity);
    return 0;
}

/* One `--name[=value]` argument at argv[*i]; may consume argv[*i+1]. */
static int parse_long(struct parser *p, int argc, char **argv, int *i)
{
    const char *s = argv[*i];
    const char *name = s + 2;
    CK_AUTOBUF struct ck_buf msg = CK_BUF_INIT;
    if (!*name || *name == '-' || *name == '=') {
        ck_buf_printf(&msg, "bad flag syntax: %s", s);
        return fail(p, &msg);
    }
    const char *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    struct ck_flag *f = lookup_long(p, name, n);
    if (!f) {
        ck_buf_printf(&msg, "unknown flag: --%.*s", (int)n, name);
        return fail(p, &msg);
    }
    const char *value;
    if (eq)
        value = eq + 1;
    else if (f->type == CK_FLAG_BOOL)
        value = "true";
    else if (*i + 1 < argc && argv[*i + 1])
        value = argv[++*i];
    else {
        ck_buf_printf(&msg, "flag needs an argument: %s", s);
        return fail(p, &msg);
    }
    return apply(p, f, value);
}

/* One `-abc` / `-n=value` / `-nvalue` / `-n value` argument at argv[*i]. */
static int parse_short(struct parser *p, int argc, char **argv, int *i)
{
    const char *shorthands = argv[*i] + 1;
    CK_AUTOBUF struct ck_buf msg = CK_BUF_INIT;
    while (*shorthands) {
        char c = shorthands[0];
        struct ck_flag *f = lookup_short(p, c);
        if (!f) {
            ck_buf_puts(&msg, "unknown shorthand flag: ");
            ck_buf_put_go_quoted_rune(&msg, (unsigned char)c);
            ck_buf_printf(&msg, " in -%s", shorthands);
            return fail(p, &msg);
        }
        const char *value, *next = "";
        if (strlen(shorthands) > 2 && shorthands[1] == '=') {
            value = shorthands + 2;
        } else if (f->type == CK_FLAG_BOOL) {
            value = "true";
            next = shorthands + 1;
        } else if (shorthands[1]) {
            value = shorthands + 1;
        } else if (*i + 1 < argc && argv[*i + 1]) {
            value = argv[++*i];
        } else {
            ck_buf_puts(&msg, "flag needs an argument: ");
            ck_buf_put_go_quoted_rune(&msg, (unsigned char)c);
            ck_buf_printf(&msg, " in -%s", shorthands);
            return fail(p, &msg);
        }
        int rc = apply(p, f, value);
        if (rc < 0)
            return rc;
        shorthands = next;
    }
    return 0;
}

int ck_flags_parse(struct ck_flag *table, int argc, char **argv, struct ck_flags_result *res,
                   struct ck_error *err)
{
    struct ck_flags_result ignored;
    if (!res)
        res = &ignored;
    memset(res, 0, sizeof(*res));
    res->args_before_dash = -1;
    res->args = argv && argc > 0 ? argv + 1 : argv;
    if (!table || argc < 0 || (argc > 0 && !argv))
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "invalid flag table or arguments");
    int rc = validate_table(table, err);
    if (rc < 0)
        return rc;
    for (struct ck_flag *f = table; f->name; f++)
        capture_default(f);

    struct parser p = {.table = table, .err = err};
    builtins_init(&p.b, table, "help");
    int npos = 0;
    for (int i = 1; i < argc && argv[i]; i++) {
        char *s = argv[i];
        if (s[0] != '-' || s[1] == '\0') {
            argv[1 + npos++] = s;
            continue;
        }
        if (s[1] == '-' && s[2] == '\0') { /* "--" ends the flags */
            res->args_before_dash = npos;
            for (i++; i < argc && argv[i]; i++)
                argv[1 + npos++] = argv[i];
            break;
        }
        rc = s[1] == '-' ? parse_long(&p, argc, argv, &i) : parse_short(&p, argc, argv, &i);
        if (rc < 0) {
            res->nargs = npos;
            return rc;
        }
    }
    res->nargs = npos;
    res->help = p.b.help;
    return 0;
}

/* ---- help text ---------------------------------------------------------------------------- */

struct usage_line {
    const char *name;
    char *left;  /* "  -v, --v Level" */
    char *right; /* usage text and default */
};

static int cmp_usage(const void *a, const void *b)
{
    return strcmp(((const struct usage_line *)a)->name, ((const struct usage_line *)b)->name);
}

static const char *type_word(const struct ck_flag *f)
{
    if (f->type_name) {
        if (!strcmp(f->type_name, "bool"))
            return "";
        if (!strcmp(f->type_name, "float64"))
            return "float";
        if (!strcmp(f->type_name, "int64"))
            return "int";
        return f->type_name;
    }
    switch (f->type) {
    case CK_FLAG_BOOL:
        return "";
    case CK_FLAG_INT:
    case CK_FLAG_INT64:
        return "int";
    case CK_FLAG_FLOAT:
        return "float";
    case CK_FLAG_STRING:
        return "string";
    case CK_FLAG_STRINGS:
        return "strings";
    case CK_FLAG_DURATION:
        return "duration";
    case CK_FLAG_MAP:
        return "mapStringString";
    case CK_FLAG_BOOL_MAP:
        return "mapStringBool";
    }
    return "";
}

/* pflag's UnquoteUsage + default: fills line->left and line->right. */
static void usage_line(const struct ck_flag *f, struct usage_line *line)
{
    CK_AUTOBUF struct ck_buf left = CK_BUF_INIT;
    CK_AUTOBUF struct ck_buf right = CK_BUF_INIT;
    const char *usage = f->usage ? f->usage : "";
    const char *q1 = strchr(usage, '`');
    const char *q2 = q1 ? strchr(q1 + 1, '`') : NULL;
    CK_AUTOFREE char *varname = NULL;
    if (q2) {
        varname = ck_xstrndup(q1 + 1, (size_t)(q2 - q1 - 1));
        ck_buf_add(&right, usage, (size_t)(q1 - usage));
        ck_buf_puts(&right, varname);
        ck_buf_puts(&right, q2 + 1);
    } else {
        varname = ck_xstrdup(type_word(f));
        ck_buf_puts(&right, usage);
    }
    if (f->shorthand)
        ck_buf_printf(&left, "  -%c, --%s", f->shorthand, f->name);
    else
        ck_buf_printf(&left, "      --%s", f->name);
    if (*varname)
        ck_buf_printf(&left, " %s", varname);

    CK_AUTOBUF struct ck_buf def = CK_BUF_INIT;
    bool zero;
    format_default(f, &def, &zero);
    if (!zero) {
        ck_buf_puts(&right, " (default ");
        if (f->type == CK_FLAG_STRING)
            ck_buf_put_go_quoted(&right, ck_buf_str(&def));
        else
            ck_buf_puts(&right, ck_buf_str(&def));
        ck_buf_putc(&right, ')');
    }
    line->name = f->name;
    line->left = ck_buf_detach(&left);
    line->right = ck_buf_detach(&right);
}

static bool listed(const struct ck_flag *f)
{
    return !f->hidden && !f->deprecated;
}

void ck_flags_format_usage(struct ck_flag *table, const char *prog, struct ck_buf *out)
{
    if (!out)
        return;
    CK_AUTOFREE char *help_usage = ck_xasprintf("help for %s", prog ? prog : "this command");
    struct builtins b;
    builtins_init(&b, table, help_usage);
    size_t n = 0;
    for (struct ck_flag *f = table; f && f->name; f++)
        n++;
    struct usage_line *lines = ck_xcalloc(n + CK_ARRAY_SIZE(b.flags), sizeof(*lines));
    size_t count = 0;
    for (struct ck_flag *f = table; f && f->name; f++) {
        capture_default(f);
        if (listed(f))
            usage_line(f, &lines[count++]);
    }
    for (struct ck_flag *f = b.flags; f->name; f++)
        usage_line(f, &lines[count++]);
    qsort(lines, count, sizeof(*lines), cmp_usage);

    size_t maxlen = 0;
    for (size_t i = 0; i < count; i++)
        if (strlen(lines[i].left) + 1 > maxlen)
            maxlen = strlen(lines[i].left) + 1;
    for (size_t i = 0; i < count; i++) {
        size_t l = strlen(lines[i].left);
        ck_buf_printf(out, "%s %*s ", lines[i].left, (int)(maxlen - l), "");
        /* continuation lines of a multi-line usage start under the first one */
        for (const char *r = lines[i].right; *r; r++) {
            ck_buf_putc(out, *r);
            if (*r == '\n')
                ck_buf_printf(out, "%*s", (int)(maxlen + 2), "");
        }
        ck_buf_putc(out, '\n');
        free(lines[i].left);
        free(lines[i].right);
    }
    free(lines);
}

int ck_flags_usage(struct ck_flag *table, const char *prog, FILE *out)
{
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    ck_flags_format_usage(table, prog, &b);
    if (!out)
        return -EINVAL;
    if (b.len && fwrite(b.data, 1, b.len, out) != b.len)
        return -EIO;
    return fflush(out) == 0 ? 0 : -EIO;
}

void ck_flags_free(struct ck_flag *table)
{
    for (struct ck_flag *f = table; f && f->name; f++)
        restore_default(f);
}

struct ck_flag *ck_flags_lookup(struct ck_flag *table, const char *name)
{
    return name ? find_in(table, name, strlen(name)) : NULL;
}

bool ck_flags_changed(struct ck_flag *table, const char *name)
{
    struct ck_flag *f = ck_flags_lookup(table, name);
    return f && f->priv.changed;
}
