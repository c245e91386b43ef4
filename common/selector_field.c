/* selector_field.c - field selectors as upstream's fields package (see selector.h): parsing
 * with backslash escapes, matching through a caller's lookup, the canonical String(). */
#include "selector.h"
#include "selector_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "validation.h"

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
                ck_buf_put_utf8(&b, r);
            } else {
                struct ck_buf seq = CK_BUF_INIT;
                ck_buf_putc(&seq, '\\');
                ck_buf_put_utf8(&seq, r);
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
            ck_buf_put_utf8(&b, r);
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
        qsort(terms, nterms, sizeof(*terms), ck_sel_cmp_str);
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
