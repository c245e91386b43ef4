/* selector_parse.c - the label selector string syntax (ck_label_selector_parse, see selector.h).
 *
 * The parser follows upstream's shape: a lexer turns the whole string into tokens first, then
 * a recursive-descent parser walks them with one token of lookahead, in one of two contexts
 * ("in"/"notin" are keywords only where an operator is expected).
 */
#include "selector.h"
#include "selector_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "validation.h"

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
    qsort(s->v, s->n, sizeof(*s->v), ck_sel_cmp_str);
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
    char *msg = ck_sel_validate_requirement(key, op, (const char *const *)set.v, set.n);
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
        rc = ck_sel_bad_request(err, ck_buf_str(&p.msg));
        ck_buf_free(&p.msg);
        ck_label_selector_free(sel);
        return rc;
    }
    ck_buf_free(&p.msg);
    *out = sel;
    return 0;
}
