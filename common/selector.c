/* selector.c - label and field selectors as upstream (see selector.h).
 *
 * The label selector parser follows upstream's shape: a lexer turns the whole string into
 * tokens first, then a recursive-descent parser walks them with one token of lookahead, in
 * one of two contexts ("in"/"notin" are keywords only where an operator is expected).
 * Requirements are validated as labels.NewRequirement does, and every error message is worded
 * (and, where upstream's field paths show up, pathed) as upstream prints it.
 */
#include "selector.h"
#include "buf.h"
#include "mem.h"
#include "validation.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *ck_selector_op_string(enum ck_selector_op op)
{
    switch (op) {
    case CK_SEL_IN:
        return "in";
    case CK_SEL_NOT_IN:
        return "notin";
    case CK_SEL_EQUALS:
        return "=";
    case CK_SEL_DOUBLE_EQUALS:
        return "==";
    case CK_SEL_NOT_EQUALS:
        return "!=";
    case CK_SEL_EXISTS:
        return "exists";
    case CK_SEL_DOES_NOT_EXIST:
        return "!";
    case CK_SEL_GT:
        return "gt";
    case CK_SEL_LT:
        return "lt";
    }
    return "";
}

static int bad_request(struct ck_error *err, const char *msg)
{
    return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", msg);
}

/* strconv.ParseInt(s, 10, 64): optional sign, at least one digit, nothing else, in range. */
static bool parse_int64(const char *s, long long *out)
{
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!*s)
        return false;
    unsigned long long v = 0;
    const unsigned long long lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (lim - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (long long)(0 - v) : (long long)v;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- requirements ---- */

static void req_clear(struct ck_label_requirement *r)
{
    free(r->key);
    for (size_t i = 0; i < r->nvalues; i++)
        free(r->values[i]);
    free(r->values);
    memset(r, 0, sizeof(*r));
}

static char **strv_dup(const char *const *v, size_t n)
{
    if (n == 0)
        return NULL;
    char **out = ck_xmalloc(n * sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = ck_xstrdup(v[i] ? v[i] : "");
    return out;
}

/* Go's %#v of a []string as LabelSelectorAsSelector passes it (empty -> nil slice). */
static void put_go_string_slice(struct ck_buf *b, const char *const *v, size_t n)
{
    if (n == 0) {
        ck_buf_puts(b, "[]string(nil)");
        return;
    }
    ck_buf_puts(b, "[]string{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            ck_buf_puts(b, ", ");
        ck_buf_put_go_quoted(b, v[i]);
    }
    ck_buf_putc(b, '}');
}

static void invalid_values(struct ck_errlist *errs, const char *const *v, size_t n,
                           const char *detail)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "values: Invalid value: ");
    put_go_string_slice(&b, v, n);
    ck_buf_printf(&b, ": %s", detail);
    ck_errlist_add(errs, "%s", ck_buf_str(&b));
    ck_buf_free(&b);
}

/* labels.NewRequirement's checks (with a nil field path). Returns NULL when valid, else the
 * aggregated message (caller frees). */
static char *validate_requirement(const char *key, enum ck_selector_op op, const char *const *vals,
                                  size_t n)
{
    CK_AUTOERRLIST struct ck_errlist errs = CK_ERRLIST_INIT;
    CK_AUTOERRLIST struct ck_errlist msgs = CK_ERRLIST_INIT;
    if (ck_is_qualified_name(key, &msgs)) {
        CK_AUTOFREE char *joined = ck_errlist_join(&msgs, "; ");
        ck_field_invalid(&errs, "key", key, joined);
    }
    switch (op) {
    case CK_SEL_IN:
    case CK_SEL_NOT_IN:
        if (n == 0)
            invalid_values(&errs, vals, n,
                           "for 'in', 'notin' operators, values set can't be empty");
        break;
    case CK_SEL_EQUALS:
    case CK_SEL_DOUBLE_EQUALS:
    case CK_SEL_NOT_EQUALS:
        if (n != 1)
            invalid_values(&errs, vals, n, "exact-match compatibility requires one single value");
        break;
    case CK_SEL_EXISTS:
    case CK_SEL_DOES_NOT_EXIST:
        if (n != 0)
            invalid_values(&errs, vals, n,
                           "values set must be empty for exists and does not exist");
        break;
    case CK_SEL_GT:
    case CK_SEL_LT:
        if (n != 1)
            invalid_values(&errs, vals, n,
                           "for 'Gt', 'Lt' operators, exactly one value is required");
        for (size_t i = 0; i < n; i++) {
            long long ignored;
            if (!parse_int64(vals[i], &ignored)) {
                CK_AUTOFREE char *path = ck_xasprintf("values[%zu]", i);
                ck_field_invalid(&errs, path, vals[i],
                                 "for 'Gt', 'Lt' operators, the value must be an integer");
            }
        }
        break;
    default:
        ck_errlist_add(&errs,
                       "operator: Unsupported value: \"%d\": supported values: \"in\", "
                       "\"notin\", \"=\", \"==\", \"!=\", \"gt\", \"lt\", \"exists\", \"!\"",
                       (int)op);
    }
    for (size_t i = 0; i < n; i++) {
        ck_errlist_free(&msgs);
        if (ck_is_valid_label_value(vals[i], &msgs)) {
            CK_AUTOFREE char *joined = ck_errlist_join(&msgs, "; ");
            CK_AUTOFREE char *path = ck_xasprintf("values[%zu][%s]", i, key);
            ck_field_invalid(&errs, path, vals[i], joined);
        }
    }
    if (errs.n == 0)
        return NULL;
    return ck_errlist_aggregate(&errs);
}

/* ---- label selector objects ---- */

struct ck_label_selector *ck_label_selector_everything(void)
{
    return ck_xcalloc(1, sizeof(struct ck_label_selector));
}

struct ck_label_selector *ck_label_selector_nothing(void)
{
    struct ck_label_selector *sel = ck_label_selector_everything();
    sel->nothing = true;
    return sel;
}

void ck_label_selector_free(struct ck_label_selector *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++)
        req_clear(&sel->reqs[i]);
    free(sel->reqs);
    free(sel);
}

void ck_label_selector_freep(struct ck_label_selector **sel)
{
    ck_label_selector_free(*sel);
    *sel = NULL;
}

struct ck_label_selector *ck_label_selector_dup(const struct ck_label_selector *sel)
{
    if (!sel)
        return NULL;
    struct ck_label_selector *d = ck_label_selector_everything();
    d->nothing = sel->nothing;
    d->n = sel->n;
    if (sel->n) {
        d->reqs = ck_xcalloc(sel->n, sizeof(*d->reqs));
        for (size_t i = 0; i < sel->n; i++) {
            d->reqs[i].key = ck_xstrdup(sel->reqs[i].key);
            d->reqs[i].op = sel->reqs[i].op;
            d->reqs[i].nvalues = sel->reqs[i].nvalues;
            d->reqs[i].values =
                strv_dup((const char *const *)sel->reqs[i].values, sel->reqs[i].nvalues);
        }
    }
    return d;
}

/* Inserts r (taken over) after every requirement whose key sorts before or equal to it, which
 * keeps requirements sorted by key and stable, as upstream's Add. */
static void insert_sorted(struct ck_label_selector *sel, struct ck_label_requirement *r)
{
    size_t lo = 0, hi = sel->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(sel->reqs[mid].key, r->key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    sel->reqs = ck_xrealloc(sel->reqs, (sel->n + 1) * sizeof(*sel->reqs));
    memmove(&sel->reqs[lo + 1], &sel->reqs[lo], (sel->n - lo) * sizeof(*sel->reqs));
    sel->reqs[lo] = *r;
    sel->n++;
    memset(r, 0, sizeof(*r));
}

int ck_label_selector_add(struct ck_label_selector *sel, const char *key, enum ck_selector_op op,
                          const char *const *values, size_t nvalues, struct ck_error *err)
{
    if (!sel || (nvalues && !values))
        return bad_request(err, "invalid label requirement");
    const char *k = key ? key : "";
    CK_AUTOFREE char *msg = validate_requirement(k, op, values, nvalues);
    if (msg)
        return bad_request(err, msg);
    if (sel->nothing)
        return 0;
    struct ck_label_requirement r = {ck_xstrdup(k), op, strv_dup(values, nvalues), nvalues};
    insert_sorted(sel, &r);
    return 0;
}

struct ck_label_selector *ck_label_selector_from_set(const cJSON *set)
{
    struct ck_label_selector *sel = ck_label_selector_everything();
    const cJSON *obj = cJSON_IsObject(set) ? set : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (!cJSON_IsString(it) || !it->string)
            continue;
        const char *v = it->valuestring;
        struct ck_label_requirement r = {ck_xstrdup(it->string), CK_SEL_EQUALS, strv_dup(&v, 1), 1};
        insert_sorted(sel, &r);
    }
    return sel;
}

/* ---- matching ---- */

static const cJSON *label_get(const cJSON *labels, const char *key)
{
    if (!cJSON_IsObject(labels))
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(labels, key);
}

static const char *label_value(const cJSON *it)
{
    return cJSON_IsString(it) && it->valuestring ? it->valuestring : "";
}

static bool req_has_value(const struct ck_label_requirement *r, const char *v)
{
    for (size_t i = 0; i < r->nvalues; i++)
        if (strcmp(r->values[i], v) == 0)
            return true;
    return false;
}

static bool req_matches(const struct ck_label_requirement *r, const cJSON *labels)
{
    const cJSON *it = label_get(labels, r->key);
    switch (r->op) {
    case CK_SEL_IN:
    case CK_SEL_EQUALS:
    case CK_SEL_DOUBLE_EQUALS:
        return it && req_has_value(r, label_value(it));
    case CK_SEL_NOT_IN:
    case CK_SEL_NOT_EQUALS:
        return !it || !req_has_value(r, label_value(it));
    case CK_SEL_EXISTS:
        return it != NULL;
    case CK_SEL_DOES_NOT_EXIST:
        return it == NULL;
    case CK_SEL_GT:
    case CK_SEL_LT: {
        long long have, want;
        if (!it || r->nvalues != 1 || !parse_int64(label_value(it), &have) ||
            !parse_int64(r->values[0], &want))
            return false;
        return r->op == CK_SEL_GT ? have > want : have < want;
    }
    }
    return false;
}

bool ck_label_selector_matches(const struct ck_label_selector *sel, const cJSON *labels)
{
    if (!sel || sel->nothing)
        return false;
    for (size_t i = 0; i < sel->n; i++)
        if (!req_matches(&sel->reqs[i], labels))
            return false;
    return true;
}

bool ck_label_selector_empty(const struct ck_label_selector *sel)
{
    return sel && !sel->nothing && sel->n == 0;
}

bool ck_label_selector_requires_exact_match(const struct ck_label_selector *sel, const char *key,
                                            const char **value)
{
    if (!sel || sel->nothing || !key)
        return false;
    for (size_t i = 0; i < sel->n; i++) {
        const struct ck_label_requirement *r = &sel->reqs[i];
        if (strcmp(r->key, key) != 0)
            continue;
        if ((r->op == CK_SEL_EQUALS || r->op == CK_SEL_DOUBLE_EQUALS || r->op == CK_SEL_IN) &&
            r->nvalues == 1) {
            if (value)
                *value = r->values[0];
            return true;
        }
        return false;
    }
    return false;
}

/* ---- canonical string ---- */

static void req_string(struct ck_buf *b, const struct ck_label_requirement *r)
{
    if (r->op == CK_SEL_DOES_NOT_EXIST)
        ck_buf_putc(b, '!');
    ck_buf_puts(b, r->key);
    switch (r->op) {
    case CK_SEL_EQUALS:
        ck_buf_puts(b, "=");
        break;
    case CK_SEL_DOUBLE_EQUALS:
        ck_buf_puts(b, "==");
        break;
    case CK_SEL_NOT_EQUALS:
        ck_buf_puts(b, "!=");
        break;
    case CK_SEL_IN:
        ck_buf_puts(b, " in ");
        break;
    case CK_SEL_NOT_IN:
        ck_buf_puts(b, " notin ");
        break;
    case CK_SEL_GT:
        ck_buf_puts(b, ">");
        break;
    case CK_SEL_LT:
        ck_buf_puts(b, "<");
        break;
    case CK_SEL_EXISTS:
    case CK_SEL_DOES_NOT_EXIST:
        return;
    }
    bool set = r->op == CK_SEL_IN || r->op == CK_SEL_NOT_IN;
    if (set)
        ck_buf_putc(b, '(');
    if (r->nvalues == 1) {
        ck_buf_puts(b, r->values[0]);
    } else if (r->nvalues > 1) {
        /* sorted copy: the selector itself keeps the caller's order */
        char **sorted = ck_xmalloc(r->nvalues * sizeof(*sorted));
        memcpy(sorted, r->values, r->nvalues * sizeof(*sorted));
        qsort(sorted, r->nvalues, sizeof(*sorted), cmp_str);
        for (size_t i = 0; i < r->nvalues; i++) {
            if (i)
                ck_buf_putc(b, ',');
            ck_buf_puts(b, sorted[i]);
        }
        free(sorted);
    }
    if (set)
        ck_buf_putc(b, ')');
}

char *ck_label_selector_string(const struct ck_label_selector *sel)
{
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; sel && !sel->nothing && i < sel->n; i++) {
        if (i)
            ck_buf_putc(&b, ',');
        req_string(&b, &sel->reqs[i]);
    }
    return ck_buf_detach(&b);
}

/* ---- label selector lexer ---- */

enum tok_type {
    T_ERROR,
    T_EOS,
    T_CLOSEPAR,
    T_COMMA,
    T_NOT,
    T_DOUBLEEQ,
    T_EQ,
    T_GT,
    T_IDENT,
    T_IN,
    T_LT,
    T_NOTEQ,
    T_NOTIN,
    T_OPENPAR,
};

struct tok {
    enum tok_type t;
    size_t off, len; /* the literal is s[off..off+len) */
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static enum tok_type special_token(char c)
{
    switch (c) {
    case ')':
        return T_CLOSEPAR;
    case ',':
        return T_COMMA;
    case '!':
        return T_NOT;
    case '=':
        return T_EQ;
    case '>':
        return T_GT;
    case '<':
        return T_LT;
    case '(':
        return T_OPENPAR;
    }
    return T_ERROR;
}

/* Tokenizes all of s; the last token is always T_EOS. The caller frees *toks. */
static size_t lex(const char *s, size_t len, struct tok **toks)
{
    size_t n = 0, cap = 16, i = 0;
    struct tok *t = ck_xmalloc(cap * sizeof(*t));
    for (;;) {
        if (n == cap) {
            cap *= 2;
            t = ck_xrealloc(t, cap * sizeof(*t));
        }
        while (i < len && is_ws(s[i]))
            i++;
        if (i >= len) {
            t[n++] = (struct tok){T_EOS, len, 0};
            break;
        }
        if (is_special(s[i])) {
            /* the longest operator wins: "==" and "!=" are the only two-character ones */
            if (i + 1 < len && s[i + 1] == '=' && (s[i] == '=' || s[i] == '!')) {
                t[n++] = (struct tok){s[i] == '=' ? T_DOUBLEEQ : T_NOTEQ, i, 2};
                i += 2;
            } else {
                t[n++] = (struct tok){special_token(s[i]), i, 1};
                i++;
            }
            continue;
        }
        size_t start = i;
        while (i < len && !is_special(s[i]) && !is_ws(s[i]))
            i++;
        enum tok_type tt = T_IDENT;
        if (i - start == 2 && memcmp(s + start, "in", 2) == 0)
            tt = T_IN;
        else if (i - start == 5 && memcmp(s + start, "notin", 5) == 0)
            tt = T_NOTIN;
        t[n++] = (struct tok){tt, start, i - start};
    }
    *toks = t;
    return n;
}

/* ---- label selector parser ---- */

enum parse_ctx { CTX_KEY_AND_OPERATOR, CTX_VALUES };

struct parser {
    const char *s;
    struct tok *toks;
    size_t n;
    size_t pos;
    struct ck_buf msg; /* the error, once one happened */
};

/* A growable bag of values; turned into upstream's sets.String list by strset_finish. */
struct strset {
    char **v;
    size_t n, cap;
};

static void strset_add(struct strset *s, const char *p, size_t len)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->v = ck_xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = ck_xstrndup(p, len);
}

static void strset_free(struct strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Sorts and de-duplicates, as sets.String.List(). */
static void strset_finish(struct strset *s)
{
    if (s->n < 2)
        return;
    qsort(s->v, s->n, sizeof(*s->v), cmp_str);
    size_t w = 1;
    for (size_t i = 1; i < s->n; i++) {
        if (strcmp(s->v[i], s->v[w - 1]) == 0)
            free(s->v[i]);
        else
            s->v[w++] = s->v[i];
    }
    s->n = w;
}

static const struct tok *tok_at(const struct parser *p, size_t i)
{
    return &p->toks[i < p->n ? i : p->n - 1];
}

static enum tok_type in_ctx(enum tok_type t, enum parse_ctx ctx)
{
    if (ctx == CTX_VALUES && (t == T_IN || t == T_NOTIN))
        return T_IDENT;
    return t;
}

static enum tok_type lookahead(const struct parser *p, enum parse_ctx ctx, const struct tok **tk)
{
    const struct tok *t = tok_at(p, p->pos);
    if (tk)
        *tk = t;
    return in_ctx(t->t, ctx);
}

static enum tok_type consume(struct parser *p, enum parse_ctx ctx, const struct tok **tk)
{
    const struct tok *t = tok_at(p, p->pos);
    if (p->pos < p->n)
        p->pos++;
    if (tk)
        *tk = t;
    return in_ctx(t->t, ctx);
}

/* Records "found '<literal>', <rest>" as the error and returns -1. */
static int found(struct parser *p, const struct tok *t, const char *rest)
{
    ck_buf_reset(&p->msg);
    ck_buf_printf(&p->msg, "found '%.*s'%s", (int)t->len, p->s + t->off, rest);
    return -1;
}

static int parse_key_and_infer_operator(struct parser *p, char **key, int *op)
{
    const struct tok *t;
    *op = -1;
    enum tok_type tt = consume(p, CTX_VALUES, &t);
    if (tt == T_NOT) {
        *op = CK_SEL_DOES_NOT_EXIST;
        tt = consume(p, CTX_VALUES, &t);
    }
    if (tt != T_IDENT)
        return found(p, t, ", expected: identifier");
    char *k = ck_xstrndup(p->s + t->off, t->len);
    CK_AUTOERRLIST struct ck_errlist msgs = CK_ERRLIST_INIT;
    if (ck_is_qualified_name(k, &msgs)) {
        /* upstream validates with the parser's (nil) field path here */
        CK_AUTOERRLIST struct ck_errlist e = CK_ERRLIST_INIT;
        CK_AUTOFREE char *joined = ck_errlist_join(&msgs, "; ");
        ck_field_invalid(&e, "<nil>", k, joined);
        ck_buf_reset(&p->msg);
        ck_buf_puts(&p->msg, e.items[0]);
        free(k);
        return -1;
    }
    enum tok_type next = lookahead(p, CTX_VALUES, NULL);
    if ((next == T_EOS || next == T_COMMA) && *op != CK_SEL_DOES_NOT_EXIST)
        *op = CK_SEL_EXISTS;
    *key = k;
    return 0;
}

static int parse_operator(struct parser *p, enum ck_selector_op *op)
{
    const struct tok *t;
    switch (consume(p, CTX_KEY_AND_OPERATOR, &t)) {
    case T_IN:
        *op = CK_SEL_IN;
        return 0;
    case T_EQ:
        *op = CK_SEL_EQUALS;
        return 0;
    case T_DOUBLEEQ:
        *op = CK_SEL_DOUBLE_EQUALS;
        return 0;
    case T_GT:
        *op = CK_SEL_GT;
        return 0;
    case T_LT:
        *op = CK_SEL_LT;
        return 0;
    case T_NOTIN:
        *op = CK_SEL_NOT_IN;
        return 0;
    case T_NOTEQ:
        *op = CK_SEL_NOT_EQUALS;
        return 0;
    default:
        return found(p, t, ", expected: in, notin, =, ==, !=, gt, lt");
    }
}

/* A possibly empty, comma separated list of possibly empty identifiers, up to (not including)
 * the closing parenthesis. */
static int parse_identifiers_list(struct parser *p, struct strset *set)
{
    for (;;) {
        const struct tok *t, *t2;
        enum tok_type tt = consume(p, CTX_VALUES, &t);
        if (tt == T_IDENT) {
            strset_add(set, p->s + t->off, t->len);
            enum tok_type next = lookahead(p, CTX_VALUES, &t2);
            if (next == T_COMMA)
                continue;
            if (next == T_CLOSEPAR)
                return 0;
            return found(p, t2, ", expected: ',' or ')'");
        } else if (tt == T_COMMA) {
            if (set->n == 0)
                strset_add(set, "", 0); /* "(," */
            enum tok_type next = lookahead(p, CTX_VALUES, NULL);
            if (next == T_CLOSEPAR) {
                strset_add(set, "", 0); /* ",)" */
                return 0;
            }
            if (next == T_COMMA) {
                consume(p, CTX_VALUES, NULL);
                strset_add(set, "", 0); /* ",," */
            }
        } else {
            return found(p, t, ", expected: ',', or identifier");
        }
    }
}

static int parse_values(struct parser *p, struct strset *set)
{
    const struct tok *t;
    if (consume(p, CTX_VALUES, &t) != T_OPENPAR)
        return found(p, t, " expected: '('");
    enum tok_type tt = lookahead(p, CTX_VALUES, &t);
    if (tt == T_IDENT || tt == T_COMMA) {
        if (parse_identifiers_list(p, set) < 0)
            return -1;
        if (consume(p, CTX_VALUES, NULL) != T_CLOSEPAR)
            return found(p, t, ", expected: ')'");
        return 0;
    }
    if (tt == T_CLOSEPAR) {
        consume(p, CTX_VALUES, NULL);
        strset_add(set, "", 0); /* "()" is the empty value */
        return 0;
    }
    return found(p, t, ", expected: ',', ')' or identifier");
}

static int parse_exact_value(struct parser *p, struct strset *set)
{
    const struct tok *t;
    enum tok_type tt = lookahead(p, CTX_VALUES, NULL);
    if (tt == T_EOS || tt == T_COMMA) {
        strset_add(set, "", 0);
        return 0;
    }
    if (consume(p, CTX_VALUES, &t) == T_IDENT) {
        strset_add(set, p->s + t->off, t->len);
        return 0;
    }
    return found(p, t, ", expected: identifier");
}

static int parse_requirement(struct parser *p, struct ck_label_requirement *out)
{
    char *key = NULL;
    int inferred;
    if (parse_key_and_infer_operator(p, &key, &inferred) < 0)
        return -1;
    enum ck_selector_op op;
    struct strset set = {0};
    if (inferred == CK_SEL_EXISTS || inferred == CK_SEL_DOES_NOT_EXIST) {
        op = (enum ck_selector_op)inferred;
    } else {
        int rc = parse_operator(p, &op);
        if (rc == 0)
            rc = (op == CK_SEL_IN || op == CK_SEL_NOT_IN) ? parse_values(p, &set)
                                                          : parse_exact_value(p, &set);
        if (rc < 0) {
            free(key);
            strset_free(&set);
            return -1;
        }
        strset_finish(&set);
    }
    char *msg = validate_requirement(key, op, (const char *const *)set.v, set.n);
    if (msg) {
        ck_buf_reset(&p->msg);
        ck_buf_puts(&p->msg, msg);
        free(msg);
        free(key);
        strset_free(&set);
        return -1;
    }
    *out = (struct ck_label_requirement){key, op, set.v, set.n};
    return 0;
}

static void append_req(struct ck_label_selector *sel, struct ck_label_requirement *r)
{
    if ((sel->n & (sel->n - 1)) == 0) /* grow at powers of two */
        sel->reqs = ck_xrealloc(sel->reqs, (sel->n ? sel->n * 2 : 1) * sizeof(*sel->reqs));
    sel->reqs[sel->n++] = *r;
}

/* Stable merge sort of the requirements by key (upstream sorts parsed selectors by key). */
static void sort_reqs(struct ck_label_requirement *a, size_t n)
{
    if (n < 2)
        return;
    struct ck_label_requirement *tmp = ck_xmalloc(n * sizeof(*tmp));
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = strcmp(a[j].key, a[i].key) < 0 ? a[j++] : a[i++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof(*a));
    }
    free(tmp);
}

/* The top-level loop; fills sel (requirements in input order) or returns -1 with p->msg. */
static int parse_all(struct parser *p, struct ck_label_selector *sel)
{
    for (;;) {
        const struct tok *t;
        enum tok_type tt = lookahead(p, CTX_VALUES, &t);
        if (tt == T_EOS)
            return 0;
        if (tt != T_IDENT && tt != T_NOT)
            return found(p, t, ", expected: !, identifier, or 'end of string'");
        struct ck_label_requirement r;
        if (parse_requirement(p, &r) < 0) {
            struct ck_buf wrapped = CK_BUF_INIT;
            ck_buf_printf(&wrapped, "unable to parse requirement: %s", ck_buf_str(&p->msg));
            ck_buf_free(&p->msg);
            p->msg = wrapped;
            return -1;
        }
        append_req(sel, &r);
        tt = consume(p, CTX_VALUES, &t);
        if (tt == T_EOS)
            return 0;
        if (tt != T_COMMA)
            return found(p, t, ", expected: ',' or 'end of string'");
        tt = lookahead(p, CTX_VALUES, &t);
        if (tt != T_IDENT && tt != T_NOT)
            return found(p, t, ", expected: identifier after ','");
    }
}

int ck_label_selector_parse(const char *s, struct ck_label_selector **out, struct ck_error *err)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    const char *str = s ? s : "";
    struct parser p = {.s = str, .msg = CK_BUF_INIT};
    p.n = lex(str, strlen(str), &p.toks);
    struct ck_label_selector *sel = ck_label_selector_everything();
    int rc = parse_all(&p, sel);
    free(p.toks);
    sort_reqs(sel->reqs, sel->n);
    if (rc < 0) {
        rc = bad_request(err, ck_buf_str(&p.msg));
        ck_buf_free(&p.msg);
        ck_label_selector_free(sel);
        return rc;
    }
    ck_buf_free(&p.msg);
    *out = sel;
    return 0;
}

/* ---- metav1.LabelSelector ---- */

static int json_error(struct ck_error *err, const char *what)
{
    return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "invalid label selector: %s", what);
}

static int add_expression(struct ck_label_selector *sel, const cJSON *expr, struct ck_error *err)
{
    if (!cJSON_IsObject(expr))
        return json_error(err, "matchExpressions entries must be objects");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(expr, "key");
    const cJSON *oper = cJSON_GetObjectItemCaseSensitive(expr, "operator");
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(expr, "values");
    if ((key && !cJSON_IsNull(key) && !cJSON_IsString(key)) ||
        (oper && !cJSON_IsNull(oper) && !cJSON_IsString(oper)) ||
        (vals && !cJSON_IsNull(vals) && !cJSON_IsArray(vals)))
        return json_error(err, "matchExpressions entries need a string key and operator and an "
                               "array of string values");
    const char *k = cJSON_IsString(key) ? key->valuestring : "";
    const char *o = cJSON_IsString(oper) ? oper->valuestring : "";
    enum ck_selector_op op;
    if (strcmp(o, "In") == 0) {
        op = CK_SEL_IN;
    } else if (strcmp(o, "NotIn") == 0) {
        op = CK_SEL_NOT_IN;
    } else if (strcmp(o, "Exists") == 0) {
        op = CK_SEL_EXISTS;
    } else if (strcmp(o, "DoesNotExist") == 0) {
        op = CK_SEL_DOES_NOT_EXIST;
    } else {
        struct ck_buf b = CK_BUF_INIT;
        ck_buf_put_go_quoted(&b, o);
        ck_buf_puts(&b, " is not a valid label selector operator");
        int rc = bad_request(err, ck_buf_str(&b));
        ck_buf_free(&b);
        return rc;
    }
    size_t n = (size_t)cJSON_GetArraySize(vals);
    const char **v = ck_xcalloc(n ? n : 1, sizeof(*v));
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, vals)
    {
        if (!cJSON_IsString(it)) {
            free(v);
            return json_error(err, "matchExpressions values must be strings");
        }
        v[i++] = it->valuestring;
    }
    int rc = ck_label_selector_add(sel, k, op, v, i, err);
    free(v);
    return rc;
}

int ck_label_selector_from_json(const cJSON *ls, struct ck_label_selector **out,
                                struct ck_error *err)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!ls || cJSON_IsNull(ls)) {
        *out = ck_label_selector_nothing();
        return 0;
    }
    if (!cJSON_IsObject(ls))
        return json_error(err, "must be an object");
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(ls, "matchLabels");
    const cJSON *me = cJSON_GetObjectItemCaseSensitive(ls, "matchExpressions");
    if (ml && !cJSON_IsNull(ml) && !cJSON_IsObject(ml))
        return json_error(err, "matchLabels must be an object");
    if (me && !cJSON_IsNull(me) && !cJSON_IsArray(me))
        return json_error(err, "matchExpressions must be an array");
    struct ck_label_selector *sel = ck_label_selector_everything();
    const cJSON *labels = cJSON_IsObject(ml) ? ml : NULL;
    const cJSON *exprs = cJSON_IsArray(me) ? me : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, labels)
    {
        if (!cJSON_IsString(it)) {
            ck_label_selector_free(sel);
            return json_error(err, "matchLabels values must be strings");
        }
        const char *v = it->valuestring;
        int rc = ck_label_selector_add(sel, it->string, CK_SEL_EQUALS, &v, 1, err);
        if (rc < 0) {
            ck_label_selector_free(sel);
            return rc;
        }
    }
    cJSON_ArrayForEach(it, exprs)
    {
        int rc = add_expression(sel, it, err);
        if (rc < 0) {
            ck_label_selector_free(sel);
            return rc;
        }
    }
    *out = sel;
    return 0;
}

/* ---- field selectors ---- */

struct ck_field_selector *ck_field_selector_everything(void)
{
    return ck_xcalloc(1, sizeof(struct ck_field_selector));
}

static void field_push(struct ck_field_selector *sel, char *field, enum ck_selector_op op,
                       char *value)
{
    sel->reqs = ck_xrealloc(sel->reqs, (sel->n + 1) * sizeof(*sel->reqs));
    sel->reqs[sel->n++] = (struct ck_field_requirement){field, op, value};
}

struct ck_field_selector *ck_field_selector_one_term_equal(const char *field, const char *value)
{
    struct ck_field_selector *sel = ck_field_selector_everything();
    field_push(sel, ck_xstrdup(field ? field : ""), CK_SEL_EQUALS, ck_xstrdup(value ? value : ""));
    return sel;
}

void ck_field_selector_free(struct ck_field_selector *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++) {
        free(sel->reqs[i].field);
        free(sel->reqs[i].value);
    }
    free(sel->reqs);
    free(sel);
}

void ck_field_selector_freep(struct ck_field_selector **sel)
{
    ck_field_selector_free(*sel);
    *sel = NULL;
}

char *ck_field_escape_value(const char *s)
{
    struct ck_buf b = CK_BUF_INIT;
    for (const char *c = s ? s : ""; *c; c++) {
        if (*c == '\\' || *c == ',' || *c == '=')
            ck_buf_putc(&b, '\\');
        ck_buf_putc(&b, *c);
    }
    return ck_buf_detach(&b);
}

static void put_utf8(struct ck_buf *b, unsigned r)
{
    char out[4];
    size_t n;
    if (r < 0x80) {
        out[0] = (char)r;
        n = 1;
    } else if (r < 0x800) {
        out[0] = (char)(0xC0 | (r >> 6));
        out[1] = (char)(0x80 | (r & 0x3F));
        n = 2;
    } else if (r < 0x10000) {
        out[0] = (char)(0xE0 | (r >> 12));
        out[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        out[2] = (char)(0x80 | (r & 0x3F));
        n = 3;
    } else {
        out[0] = (char)(0xF0 | (r >> 18));
        out[1] = (char)(0x80 | ((r >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((r >> 6) & 0x3F));
        out[3] = (char)(0x80 | (r & 0x3F));
        n = 4;
    }
    ck_buf_add(b, out, n);
}

int ck_field_unescape_value(const char *s, char **out, struct ck_error *err)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    const char *v = s ? s : "";
    if (!strpbrk(v, "\\,=")) {
        *out = ck_xstrdup(v); /* upstream's fast path returns the bytes untouched */
        return 0;
    }
    /* the slow path walks runes, so invalid UTF-8 comes out as U+FFFD, as in upstream */
    struct ck_buf b = CK_BUF_INIT;
    size_t len = strlen(v);
    bool in_slash = false;
    for (size_t i = 0; i < len;) {
        unsigned r;
        size_t w = ck_utf8_decode(v + i, len - i, &r);
        i += w;
        if (in_slash) {
            if (r == '\\' || r == ',' || r == '=') {
                put_utf8(&b, r);
            } else {
                struct ck_buf seq = CK_BUF_INIT;
                ck_buf_putc(&seq, '\\');
                put_utf8(&seq, r);
                int rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                      "invalid field selector: invalid escape sequence: %s",
                                      ck_buf_str(&seq));
                ck_buf_free(&seq);
                ck_buf_free(&b);
                return rc;
            }
            in_slash = false;
            continue;
        }
        if (r == '\\') {
            in_slash = true;
        } else if (r == ',' || r == '=') {
            ck_buf_free(&b);
            /* upstream prints the rune with %v, i.e. as its number */
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                "invalid field selector: unescaped character in value: %u", r);
        } else {
            put_utf8(&b, r);
        }
    }
    if (in_slash) {
        ck_buf_free(&b);
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "invalid field selector: invalid escape sequence: \\");
    }
    *out = ck_buf_detach(&b);
    return 0;
}

/* Splits on commas not preceded by an unescaped backslash; backslashes stay in the terms. */
static char **split_terms(const char *s, size_t *nterms)
{
    size_t len = strlen(s), n = 0, cap = 4, start = 0;
    *nterms = 0;
    if (len == 0)
        return NULL;
    char **terms = ck_xmalloc(cap * sizeof(*terms));
    bool in_slash = false;
    for (size_t i = 0; i <= len; i++) {
        bool cut = i == len;
        if (!cut) {
            if (in_slash)
                in_slash = false;
            else if (s[i] == '\\')
                in_slash = true;
            else if (s[i] == ',')
                cut = true;
        }
        if (cut) {
            if (n == cap) {
                cap *= 2;
                terms = ck_xrealloc(terms, cap * sizeof(*terms));
            }
            terms[n++] = ck_xstrndup(s + start, i - start);
            start = i + 1;
        }
    }
    *nterms = n;
    return terms;
}

/* The first "!=", "==" or "=" (tried in that order at each position) splits the term. */
static bool split_term(const char *term, size_t *lhs_len, enum ck_selector_op *op, size_t *rhs_off)
{
    for (size_t i = 0; term[i]; i++) {
        if (term[i] == '!' && term[i + 1] == '=') {
            *op = CK_SEL_NOT_EQUALS;
            *lhs_len = i;
            *rhs_off = i + 2;
            return true;
        }
        if (term[i] == '=') {
            *op = CK_SEL_EQUALS;
            *lhs_len = i;
            *rhs_off = term[i + 1] == '=' ? i + 2 : i + 1;
            return true;
        }
    }
    return false;
}

int ck_field_selector_parse(const char *s, struct ck_field_selector **out, struct ck_error *err)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    const char *str = s ? s : "";
    size_t nterms;
    char **terms = split_terms(str, &nterms);
    if (nterms > 1)
        qsort(terms, nterms, sizeof(*terms), cmp_str);
    struct ck_field_selector *sel = ck_field_selector_everything();
    int rc = 0;
    for (size_t i = 0; i < nterms && rc == 0; i++) {
        const char *part = terms[i];
        if (!*part)
            continue;
        size_t lhs_len, rhs_off;
        enum ck_selector_op op;
        if (!split_term(part, &lhs_len, &op, &rhs_off)) {
            rc = ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                              "invalid selector: '%s'; can't understand '%s'", str, part);
            break;
        }
        char *value;
        rc = ck_field_unescape_value(part + rhs_off, &value, err);
        if (rc < 0)
            break;
        if (lhs_len == 0 && !*value) {
            free(value); /* a term with neither field nor value selects everything */
            continue;
        }
        field_push(sel, ck_xstrndup(part, lhs_len), op, value);
    }
    for (size_t i = 0; i < nterms; i++)
        free(terms[i]);
    free(terms);
    if (rc < 0) {
        ck_field_selector_free(sel);
        return rc;
    }
    *out = sel;
    return 0;
}

bool ck_field_selector_matches(const struct ck_field_selector *sel, ck_field_lookup_fn lookup,
                               void *ctx)
{
    for (size_t i = 0; sel && i < sel->n; i++) {
        const char *got = lookup ? lookup(ctx, sel->reqs[i].field) : NULL;
        bool eq = strcmp(got ? got : "", sel->reqs[i].value) == 0;
        if (sel->reqs[i].op == CK_SEL_NOT_EQUALS ? eq : !eq)
            return false;
    }
    return true;
}

struct kv_ctx {
    const struct ck_field_kv *kv;
    size_t n;
};

static const char *kv_lookup(void *ctx, const char *field)
{
    const struct kv_ctx *c = ctx;
    for (size_t i = 0; i < c->n; i++)
        if (c->kv[i].name && strcmp(c->kv[i].name, field) == 0)
            return c->kv[i].value;
    return NULL;
}

bool ck_field_selector_matches_set(const struct ck_field_selector *sel,
                                   const struct ck_field_kv *fields, size_t nfields)
{
    struct kv_ctx c = {fields, fields ? nfields : 0};
    return ck_field_selector_matches(sel, kv_lookup, &c);
}

bool ck_field_selector_empty(const struct ck_field_selector *sel)
{
    return !sel || sel->n == 0;
}

char *ck_field_selector_string(const struct ck_field_selector *sel)
{
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; sel && i < sel->n; i++) {
        if (i)
            ck_buf_putc(&b, ',');
        CK_AUTOFREE char *v = ck_field_escape_value(sel->reqs[i].value);
        ck_buf_printf(&b, "%s%s%s", sel->reqs[i].field,
                      sel->reqs[i].op == CK_SEL_NOT_EQUALS ? "!=" : "=", v);
    }
    return ck_buf_detach(&b);
}

bool ck_field_selector_requires_exact_match(const struct ck_field_selector *sel, const char *field,
                                            const char **value)
{
    for (size_t i = 0; sel && field && i < sel->n; i++) {
        if (sel->reqs[i].op == CK_SEL_EQUALS && strcmp(sel->reqs[i].field, field) == 0) {
            if (value)
                *value = sel->reqs[i].value;
            return true;
        }
    }
    return false;
}
