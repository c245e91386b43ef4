/* validation.c - upstream name/value validation with upstream's messages (see validation.h).
 *
 * Upstream expresses most checks as regular expressions; here each pattern is a small
 * hand-written matcher, and the pattern text is kept only to quote it in the message exactly
 * as upstream's RegexError does.
 */
#include "validation.h"
#include "mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* ---- error lists ---- */

static void errlist_push(struct ck_errlist *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->items = ck_xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->n++] = s;
}

void ck_errlist_add(struct ck_errlist *l, const char *fmt, ...)
{
    if (!l)
        return;
    struct ck_buf b = CK_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ck_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    errlist_push(l, ck_buf_detach(&b));
}

void ck_errlist_free(struct ck_errlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

void ck_errlist_freep(struct ck_errlist *l)
{
    ck_errlist_free(l);
}

char *ck_errlist_join(const struct ck_errlist *l, const char *sep)
{
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; l && i < l->n; i++) {
        if (i)
            ck_buf_puts(&b, sep ? sep : "");
        ck_buf_puts(&b, l->items[i]);
    }
    return ck_buf_detach(&b);
}

char *ck_errlist_aggregate(const struct ck_errlist *l)
{
    struct ck_buf b = CK_BUF_INIT;
    if (!l || l->n == 0)
        return ck_buf_detach(&b);
    if (l->n == 1) {
        ck_buf_puts(&b, l->items[0]);
        return ck_buf_detach(&b);
    }
    size_t seen = 0;
    for (size_t i = 0; i < l->n; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(l->items[i], l->items[j]) == 0;
        if (dup)
            continue;
        if (seen++)
            ck_buf_puts(&b, ", ");
        ck_buf_puts(&b, l->items[i]);
    }
    if (seen == 1)
        return ck_buf_detach(&b);
    struct ck_buf out = CK_BUF_INIT;
    ck_buf_printf(&out, "[%s]", ck_buf_str(&b));
    ck_buf_free(&b);
    return ck_buf_detach(&out);
}

/* ---- message helpers (upstream MaxLenError, RegexError, EmptyError, ...) ---- */

void ck_errlist_add_max_len(struct ck_errlist *out, int length)
{
    ck_errlist_add(out, "must be no more than %d characters", length);
}

void ck_errlist_add_empty(struct ck_errlist *out)
{
    ck_errlist_add(out, "must be non-empty");
}

/* Appends `prefix` + msg + " (e.g. 'ex1',  or 'ex2', regex used for validation is 'fmt')"
 * + `suffix`, the exact shape of upstream's RegexError (note the double space). */
static void add_regex_error(struct ck_errlist *out, const char *prefix, const char *msg,
                            const char *fmt, const char *const *examples, const char *suffix)
{
    if (!out)
        return;
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, prefix);
    ck_buf_puts(&b, msg);
    if (!examples || !examples[0]) {
        ck_buf_printf(&b, " (regex used for validation is '%s')", fmt);
    } else {
        ck_buf_puts(&b, " (e.g. ");
        for (size_t i = 0; examples[i]; i++) {
            if (i)
                ck_buf_puts(&b, " or ");
            ck_buf_printf(&b, "'%s', ", examples[i]);
        }
        ck_buf_printf(&b, "regex used for validation is '%s')", fmt);
    }
    ck_buf_puts(&b, suffix);
    errlist_push(out, ck_buf_detach(&b));
}

#define EXAMPLES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The shape of most IsXxx checks: upstream's MaxLenError when len > max (max 0: no limit),
 * then its RegexError unless the value matched. Returns how many messages it added. */
static int len_and_regex(struct ck_errlist *out, size_t len, size_t max, bool matched,
                         const char *msg, const char *fmt, const char *const *examples)
{
    int errs = 0;
    if (max && len > max) {
        ck_errlist_add_max_len(out, (int)max);
        errs++;
    }
    if (!matched) {
        add_regex_error(out, "", msg, fmt, examples, "");
        errs++;
    }
    return errs;
}

/* ---- matchers for upstream's patterns ---- */

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_ascii_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?  (or [a-z]... first when `alpha_first`) over s[0..len) */
static bool match_dns_label(const char *s, size_t len, bool alpha_first)
{
    if (len == 0)
        return false;
    if (alpha_first ? !(s[0] >= 'a' && s[0] <= 'z') : !is_lower_alnum(s[0]))
        return false;
    if (!is_lower_alnum(s[len - 1]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool match_dns_subdomain(const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (!match_dns_label(s + start, i - start, false))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static bool match_qualified_part(const char *s, size_t len)
{
    if (len == 0 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_MSG                                                                                  \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character"
#define LABEL_VALUE_FMT "(" QNAME_FMT ")?"
#define LABEL_VALUE_MSG                                                                            \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character"
#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_LABEL_MSG                                                                          \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character"
#define DNS1123_SUBDOMAIN_FMT DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*"
#define DNS1123_SUBDOMAIN_MSG                                                                      \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character"
#define DNS1035_LABEL_FMT "[a-z]([-a-z0-9]*[a-z0-9])?"
#define DNS1035_LABEL_MSG                                                                          \
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "   \
    "alphabetic character, and end with an alphanumeric character"
#define WILDCARD_FMT "\\*\\." DNS1123_SUBDOMAIN_FMT
#define WILDCARD_MSG                                                                               \
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "      \
    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "        \
    "alphanumeric character"
#define C_IDENT_FMT "[A-Za-z_][A-Za-z0-9_]*"
#define C_IDENT_MSG                                                                                \
    "a valid C identifier must start with alphabetic character or '_', followed by a string of "   \
    "alphanumeric characters or '_'"
#define ENV_FMT "[-._a-zA-Z][-._a-zA-Z0-9]*"
#define ENV_MSG                                                                                    \
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "  \
    "or '.', and must not start with a digit"
#define CMKEY_FMT "[-._a-zA-Z0-9]+"
#define CMKEY_MSG "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
#define PERCENT_FMT "[0-9]+%"
#define PERCENT_MSG "a valid percent string must be a numeric string followed by an ending '%'"
#define HEADER_FMT "[-A-Za-z0-9]+"
#define HEADER_MSG "a valid HTTP header must consist of alphanumeric characters or '-'"

/* ---- upstream pkg/util/validation ---- */

int ck_is_qualified_name(const char *value, struct ck_errlist *out)
{
    const char *v = nz(value);
    int errs = 0;
    const char *slash = strchr(v, '/');
    const char *name = v;
    if (slash && strchr(slash + 1, '/')) {
        add_regex_error(
            out, "a qualified name ", QNAME_MSG, QNAME_FMT,
            EXAMPLES("MyName", "my.name", "123-abc"),
            " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
        return 1;
    }
    if (slash) {
        size_t plen = (size_t)(slash - v);
        name = slash + 1;
        if (plen == 0) {
            ck_errlist_add(out, "prefix part must be non-empty");
            errs++;
        } else {
            char *prefix = ck_xstrndup(v, plen);
            struct ck_errlist sub = CK_ERRLIST_INIT;
            int n = ck_is_dns1123_subdomain(prefix, &sub);
            for (size_t i = 0; i < sub.n; i++)
                ck_errlist_add(out, "prefix part %s", sub.items[i]);
            errs += n;
            ck_errlist_free(&sub);
            free(prefix);
        }
    }
    size_t nlen = strlen(name);
    if (nlen == 0) {
        ck_errlist_add(out, "name part must be non-empty");
        errs++;
    } else if (nlen > CK_QUALIFIED_NAME_MAX_LENGTH) {
        ck_errlist_add(out, "name part must be no more than %d characters",
                       CK_QUALIFIED_NAME_MAX_LENGTH);
        errs++;
    }
    if (!match_qualified_part(name, nlen)) {
        add_regex_error(out, "name part ", QNAME_MSG, QNAME_FMT,
                        EXAMPLES("MyName", "my.name", "123-abc"), "");
        errs++;
    }
    return errs;
}

int ck_is_valid_label_value(const char *value, struct ck_errlist *out)
{
    const char *v = nz(value);
    size_t len = strlen(v);
    return len_and_regex(out, len, CK_LABEL_VALUE_MAX_LENGTH,
                         len == 0 || match_qualified_part(v, len), LABEL_VALUE_MSG, LABEL_VALUE_FMT,
                         EXAMPLES("MyValue", "my_value", "12345"));
}

int ck_is_dns1123_label(const char *value, struct ck_errlist *out)
{
    const char *v = nz(value);
    size_t len = strlen(v);
    return len_and_regex(out, len, CK_DNS1123_LABEL_MAX_LENGTH, match_dns_label(v, len, false),
                         DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, EXAMPLES("my-name", "123-abc"));
}

int ck_is_dns1123_subdomain(const char *value, struct ck_errlist *out)
{
    const char *v = nz(value);
    size_t len = strlen(v);
    return len_and_regex(out, len, CK_DNS1123_SUBDOMAIN_MAX_LENGTH, match_dns_subdomain(v, len),
                         DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, EXAMPLES("example.com"));
}

int ck_is_dns1035_label(const char *value, struct ck_errlist *out)
{
    const char *v = nz(value);
    size_t len = strlen(v);
    return len_and_regex(out, len, CK_DNS1035_LABEL_MAX_LENGTH, match_dns_label(v, len, true),
                         DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, EXAMPLES("my-name", "abc-123"));
}

int ck_is_wildcard_dns1123_subdomain(const char *value, struct ck_errlist *out)
{
    const char *v = nz(value);
    size_t len = strlen(v);
    bool ok = len >= 2 && v[0] == '*' && v[1] == '.' && match_dns_subdomain(v + 2, len - 2);
    return len_and_regex(out, len, CK_DNS1123_SUBDOMAIN_MAX_LENGTH, ok, WILDCARD_MSG, WILDCARD_FMT,
                         EXAMPLES("*.example.com"));
}

int ck_is_c_identifier(const char *value, struct ck_errlist *out)
{
    const char *v = nz(value);
    bool ok = v[0] && (is_ascii_alpha(v[0]) || v[0] == '_');
    for (size_t i = 1; ok && v[i]; i++)
        ok = is_alnum(v[i]) || v[i] == '_';
    return len_and_regex(out, 0, 0, ok, C_IDENT_MSG, C_IDENT_FMT,
                         EXAMPLES("my_name", "MY_NAME", "MyName"));
}

/* upstream's hasChDirPrefix */
static int add_chdir_prefix_errors(const char *v, struct ck_errlist *out)
{
    if (strcmp(v, ".") == 0)
        ck_errlist_add(out, "must not be '.'");
    else if (strcmp(v, "..") == 0)
        ck_errlist_add(out, "must not be '..'");
    else if (strncmp(v, "..", 2) == 0)
        ck_errlist_add(out, "must not start with '..'");
    else
        return 0;
    return 1;
}

int ck_is_env_var_name(const char *value, struct ck_errlist *out)
{
    const char *v = nz(value);
    bool ok = v[0] && (is_ascii_alpha(v[0]) || v[0] == '-' || v[0] == '.' || v[0] == '_');
    for (size_t i = 1; ok && v[i]; i++)
        ok = is_alnum(v[i]) || v[i] == '-' || v[i] == '.' || v[i] == '_';
    int errs = len_and_regex(out, 0, 0, ok, ENV_MSG, ENV_FMT,
                             EXAMPLES("my.env-name", "MY_ENV.NAME", "MyEnvName1"));
    return errs + add_chdir_prefix_errors(v, out); /* after the regex error, as upstream */
}

int ck_is_config_map_key(const char *value, struct ck_errlist *out)
{
    const char *v = nz(value);
    size_t len = strlen(v);
    bool ok = len > 0;
    for (size_t i = 0; ok && i < len; i++)
        ok = is_alnum(v[i]) || v[i] == '-' || v[i] == '.' || v[i] == '_';
    int errs = len_and_regex(out, len, CK_DNS1123_SUBDOMAIN_MAX_LENGTH, ok, CMKEY_MSG, CMKEY_FMT,
                             EXAMPLES("key.name", "KEY_NAME", "key-name"));
    return errs + add_chdir_prefix_errors(v, out); /* after the regex error, as upstream */
}

int ck_is_in_range(long long value, long long lo, long long hi, struct ck_errlist *out)
{
    if (value >= lo && value <= hi)
        return 0;
    ck_errlist_add(out, "must be between %lld and %lld, inclusive", lo, hi);
    return 1;
}

int ck_is_valid_port_num(long long port, struct ck_errlist *out)
{
    return ck_is_in_range(port, 1, 65535, out);
}

int ck_is_valid_port_name(const char *port, struct ck_errlist *out)
{
    const char *p = nz(port);
    size_t len = strlen(p);
    int errs = 0;
    if (len > 15) {
        ck_errlist_add_max_len(out, 15);
        errs++;
    }
    bool charset = len > 0, letter = false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] >= 'a' && p[i] <= 'z')
            letter = true;
        else if (!(p[i] >= '0' && p[i] <= '9') && p[i] != '-')
            charset = false;
    }
    if (!charset) {
        ck_errlist_add(out,
                       "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
        errs++;
    }
    if (!letter) {
        ck_errlist_add(out, "must contain at least one letter (a-z)");
        errs++;
    }
    if (strstr(p, "--")) {
        ck_errlist_add(out, "must not contain consecutive hyphens");
        errs++;
    }
    if (len > 0 && (p[0] == '-' || p[len - 1] == '-')) {
        ck_errlist_add(out, "must not begin or end with a hyphen");
        errs++;
    }
    return errs;
}

/* ---- IP parsing with the semantics of upstream's ParseIPSloppy (Go <= 1.16 net.ParseIP) ---- */

#define IP_BIG 0xFFFFFF

/* Reads decimal digits: returns the count consumed (0 when none or on overflow past IP_BIG). */
static size_t ip_dtoi(const char *s, unsigned *n)
{
    unsigned v = 0;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (unsigned)(s[i] - '0');
        if (v >= IP_BIG)
            return 0;
    }
    *n = v;
    return i;
}

static size_t ip_xtoi(const char *s, unsigned *n)
{
    unsigned v = 0;
    size_t i = 0;
    for (;; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            break;
        v = v * 16 + d;
        if (v >= IP_BIG)
            return 0;
    }
    *n = v;
    return i;
}

/* Parses exactly "a.b.c.d" (all of s) into out[4]. */
static bool parse_ipv4(const char *s, unsigned char out[4])
{
    for (int i = 0; i < 4; i++) {
        if (!*s)
            return false;
        if (i > 0) {
            if (*s != '.')
                return false;
            s++;
        }
        unsigned n;
        size_t c = ip_dtoi(s, &n);
        if (c == 0 || n > 0xFF)
            return false;
        s += c;
        out[i] = (unsigned char)n;
    }
    return *s == '\0';
}

static bool parse_ipv6(const char *s, unsigned char ip[16])
{
    memset(ip, 0, 16);
    int ellipsis = -1;
    if (s[0] == ':' && s[1] == ':') {
        ellipsis = 0;
        s += 2;
        if (!*s)
            return true;
    }
    int i = 0;
    while (i < 16) {
        unsigned n;
        size_t c = ip_xtoi(s, &n);
        if (c == 0 || n > 0xFFFF)
            return false;
        if (s[c] == '.') {
            if (ellipsis < 0 && i != 12)
                return false;
            if (i + 4 > 16)
                return false;
            unsigned char v4[4];
            if (!parse_ipv4(s, v4))
                return false;
            memcpy(ip + i, v4, 4);
            s += strlen(s);
            i += 4;
            break;
        }
        ip[i] = (unsigned char)(n >> 8);
        ip[i + 1] = (unsigned char)n;
        i += 2;
        s += c;
        if (!*s)
            break;
        if (*s != ':' || s[1] == '\0')
            return false;
        s++;
        if (*s == ':') {
            if (ellipsis >= 0)
                return false;
            ellipsis = i;
            s++;
            if (!*s)
                break;
        }
    }
    if (*s)
        return false;
    if (i < 16) {
        if (ellipsis < 0)
            return false;
        int n = 16 - i;
        for (int j = i - 1; j >= ellipsis; j--)
            ip[j + n] = ip[j];
        for (int j = ellipsis + n - 1; j >= ellipsis; j--)
            ip[j] = 0;
    } else if (ellipsis >= 0) {
        return false;
    }
    return true;
}

int ck_parse_ip(const char *value, unsigned char ip16[16])
{
    const char *v = nz(value);
    unsigned char tmp[16];
    unsigned char *ip = ip16 ? ip16 : tmp;
    for (const char *p = v; *p; p++) {
        if (*p == '.') {
            unsigned char v4[4];
            if (!parse_ipv4(v, v4))
                return 0;
            memset(ip, 0, 10);
            ip[10] = ip[11] = 0xFF;
            memcpy(ip + 12, v4, 4);
            return 4;
        }
        if (*p == ':')
            return parse_ipv6(v, ip) ? 6 : 0;
    }
    return 0;
}

int ck_is_valid_ip(const char *value, struct ck_errlist *out)
{
    if (ck_parse_ip(value, NULL))
        return 0;
    ck_errlist_add(out, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
    return 1;
}

int ck_is_valid_percent(const char *value, struct ck_errlist *out)
{
    const char *v = nz(value);
    size_t len = strlen(v);
    bool ok = len >= 2 && v[len - 1] == '%';
    for (size_t i = 0; ok && i + 1 < len; i++)
        ok = v[i] >= '0' && v[i] <= '9';
    return len_and_regex(out, 0, 0, ok, PERCENT_MSG, PERCENT_FMT, EXAMPLES("1%", "93%"));
}

int ck_is_http_header_name(const char *value, struct ck_errlist *out)
{
    const char *v = nz(value);
    bool ok = v[0] != '\0';
    for (size_t i = 0; ok && v[i]; i++)
        ok = is_alnum(v[i]) || v[i] == '-';
    return len_and_regex(out, 0, 0, ok, HEADER_MSG, HEADER_FMT, EXAMPLES("X-Header-Name"));
}

/* ---- upstream pkg/api/validation/path ---- */

int ck_is_valid_path_segment_prefix(const char *name, struct ck_errlist *out)
{
    const char *v = nz(name);
    int errs = 0;
    if (strchr(v, '/')) {
        ck_errlist_add(out, "may not contain '/'");
        errs++;
    }
    if (strchr(v, '%')) {
        ck_errlist_add(out, "may not contain '%%'");
        errs++;
    }
    return errs;
}

int ck_is_valid_path_segment_name(const char *name, struct ck_errlist *out)
{
    const char *v = nz(name);
    if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
        ck_errlist_add(out, "may not be '%s'", v);
        return 1;
    }
    return ck_is_valid_path_segment_prefix(v, out);
}

int ck_validate_path_segment_name(const char *name, bool prefix, struct ck_errlist *out)
{
    return prefix ? ck_is_valid_path_segment_prefix(name, out)
                  : ck_is_valid_path_segment_name(name, out);
}

/* ---- upstream pkg/api/validation name functions ---- */

/* upstream's maskTrailingDash: a generateName ending in '-' has its last two characters
 * replaced by "a" (sic: upstream drops two, which also hides the character before the dash). */
static char *mask_trailing_dash(const char *name)
{
    size_t len = strlen(name);
    if (len > 1 && name[len - 1] == '-') {
        char *m = ck_xmalloc(len);
        memcpy(m, name, len - 2);
        m[len - 2] = 'a';
        m[len - 1] = '\0';
        return m;
    }
    return ck_xstrdup(name);
}

static int name_check(const char *name, bool prefix, struct ck_errlist *out,
                      int (*check)(const char *, struct ck_errlist *))
{
    const char *v = nz(name);
    if (!prefix)
        return check(v, out);
    char *m = mask_trailing_dash(v);
    int n = check(m, out);
    free(m);
    return n;
}

int ck_name_is_dns_subdomain(const char *name, bool prefix, struct ck_errlist *out)
{
    return name_check(name, prefix, out, ck_is_dns1123_subdomain);
}

int ck_name_is_dns_label(const char *name, bool prefix, struct ck_errlist *out)
{
    return name_check(name, prefix, out, ck_is_dns1123_label);
}

int ck_name_is_dns1035_label(const char *name, bool prefix, struct ck_errlist *out)
{
    return name_check(name, prefix, out, ck_is_dns1035_label);
}

int ck_validate_namespace_name(const char *name, bool prefix, struct ck_errlist *out)
{
    return ck_name_is_dns_label(name, prefix, out);
}

/* ---- field errors ---- */

void ck_field_invalid(struct ck_errlist *out, const char *path, const char *value,
                      const char *detail)
{
    if (!out)
        return;
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_printf(&b, "%s: Invalid value: ", nz(path));
    ck_buf_put_go_quoted(&b, value);
    if (detail && *detail)
        ck_buf_printf(&b, ": %s", detail);
    errlist_push(out, ck_buf_detach(&b));
}

void ck_field_required(struct ck_errlist *out, const char *path, const char *detail)
{
    if (detail && *detail)
        ck_errlist_add(out, "%s: Required value: %s", nz(path), detail);
    else
        ck_errlist_add(out, "%s: Required value", nz(path));
}

void ck_field_forbidden(struct ck_errlist *out, const char *path, const char *detail)
{
    if (detail && *detail)
        ck_errlist_add(out, "%s: Forbidden: %s", nz(path), detail);
    else
        ck_errlist_add(out, "%s: Forbidden", nz(path));
}

void ck_field_too_long(struct ck_errlist *out, const char *path, int max_bytes)
{
    ck_errlist_add(out, "%s: Too long: must have at most %d bytes", nz(path), max_bytes);
}

/* Runs `check` and turns each bare message into a field.Invalid error at `path`. */
static int invalid_each(struct ck_errlist *out, const char *path, const char *value,
                        const struct ck_errlist *msgs)
{
    for (size_t i = 0; i < msgs->n; i++)
        ck_field_invalid(out, path, value, msgs->items[i]);
    return (int)msgs->n;
}

int ck_validate_object_meta_name(const char *name, const char *generate_name, ck_name_validator fn,
                                 const char *path, struct ck_errlist *out)
{
    int errs = 0;
    const char *p = nz(path);
    const char *gn = nz(generate_name);
    const char *n = nz(name);
    if (*gn) {
        CK_AUTOERRLIST struct ck_errlist msgs = CK_ERRLIST_INIT;
        fn(gn, true, &msgs);
        CK_AUTOFREE char *fp = ck_xasprintf("%s%sgenerateName", p, *p ? "." : "");
        errs += invalid_each(out, fp, gn, &msgs);
    }
    CK_AUTOFREE char *np = ck_xasprintf("%s%sname", p, *p ? "." : "");
    if (!*n) {
        ck_field_required(out, np, "name or generateName is required");
        errs++;
    } else {
        CK_AUTOERRLIST struct ck_errlist msgs = CK_ERRLIST_INIT;
        fn(n, false, &msgs);
        errs += invalid_each(out, np, n, &msgs);
    }
    return errs;
}

int ck_validate_labels(const cJSON *labels, const char *path, struct ck_errlist *out)
{
    int errs = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, labels)
    {
        CK_AUTOERRLIST struct ck_errlist msgs = CK_ERRLIST_INIT;
        ck_is_qualified_name(it->string, &msgs);
        errs += invalid_each(out, path, nz(it->string), &msgs);
        if (!cJSON_IsString(it)) {
            ck_field_invalid(out, path, "", "label values must be strings");
            errs++;
            continue;
        }
        ck_errlist_free(&msgs);
        ck_is_valid_label_value(it->valuestring, &msgs);
        errs += invalid_each(out, path, it->valuestring, &msgs);
    }
    return errs;
}

int ck_validate_annotations(const cJSON *annotations, const char *path, struct ck_errlist *out)
{
    int errs = 0;
    size_t total = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, annotations)
    {
        const char *k = nz(it->string);
        char *lower = ck_xstrdup(k);
        for (char *c = lower; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        CK_AUTOERRLIST struct ck_errlist msgs = CK_ERRLIST_INIT;
        ck_is_qualified_name(lower, &msgs);
        free(lower);
        errs += invalid_each(out, path, k, &msgs);
        total += strlen(k);
        if (cJSON_IsString(it))
            total += strlen(it->valuestring);
    }
    if (total > CK_TOTAL_ANNOTATION_SIZE_LIMIT) {
        ck_field_too_long(out, path, CK_TOTAL_ANNOTATION_SIZE_LIMIT);
        errs++;
    }
    return errs;
}
