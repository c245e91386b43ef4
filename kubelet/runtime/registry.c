/* registry.c - image references, registry mirrors, and the Registry HTTP API v2 client
 * (see registry.h). */
#include "registry.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"

/* ==== reference grammar (distribution/reference) ============================================ */

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_ascii_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_ascii_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
    return is_ascii_alnum(c) || c == '_';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* path-component: [a-z0-9]+ ( ([._]|__|[-]+) [a-z0-9]+ )* */
static bool match_path_component(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < n && is_lower_alnum(s[i]))
            i++;
        if (i == start)
            return false;
        if (i == n)
            return true;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < n && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            return false;
        }
    }
}

/* remote-name: path-component ('/' path-component)* */
static bool match_remote_name(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (!match_path_component(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* domain-component: [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool match_domain_component(const char *s, size_t n)
{
    if (n == 0 || !is_ascii_alnum(s[0]) || !is_ascii_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_ascii_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

/* domainAndPort: (domain-name | '[' [a-fA-F0-9:]+ ']') (':' [0-9]+)? */
static bool match_domain(const char *s, size_t n)
{
    size_t hostlen;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close || close == s + 1)
            return false;
        for (const char *p = s + 1; p < close; p++)
            if (!is_hex(*p) && *p != ':')
                return false;
        hostlen = (size_t)(close - s) + 1;
    } else {
        const char *colon = memchr(s, ':', n);
        hostlen = colon ? (size_t)(colon - s) : n;
        size_t start = 0;
        for (size_t i = 0; i <= hostlen; i++) {
            if (i == hostlen || s[i] == '.') {
                if (!match_domain_component(s + start, i - start))
                    return false;
                start = i + 1;
            }
        }
    }
    if (hostlen == n)
        return true;
    if (s[hostlen] != ':' || hostlen + 1 == n)
        return false;
    for (size_t i = hostlen + 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* tag: [\w][\w.-]{0,127} */
static bool match_tag(const char *s, size_t n)
{
    if (n == 0 || n > 128 || !is_word(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

/* digest: [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* ':' [[:xdigit:]]{32,} */
static bool match_digest_pat(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return false;
    size_t alen = (size_t)(colon - s), i = 0;
    for (;;) {
        if (i >= alen || !is_ascii_alpha(s[i]))
            return false;
        i++;
        while (i < alen && is_ascii_alnum(s[i]))
            i++;
        if (i == alen)
            break;
        if (!strchr("-_+.", s[i]))
            return false;
        i++;
    }
    size_t hlen = n - alen - 1;
    if (hlen < 32)
        return false;
    for (size_t k = alen + 1; k < n; k++)
        if (!is_hex(s[k]))
            return false;
    return true;
}

/* go-digest's DigestRegexp: [a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+ */
static bool match_go_digest_regexp(const char *s)
{
    const char *colon = strchr(s, ':');
    if (!colon)
        return false;
    size_t alen = (size_t)(colon - s), i = 0;
    for (;;) {
        size_t start = i;
        while (i < alen && is_lower_alnum(s[i]))
            i++;
        if (i == start)
            return false;
        if (i == alen)
            break;
        if (!strchr(".+_-", s[i]))
            return false;
        i++;
    }
    if (!colon[1])
        return false;
    for (const char *p = colon + 1; *p; p++)
        if (!is_ascii_alnum(*p) && !strchr("=_-", *p))
            return false;
    return true;
}

/* go-digest's Digest.Validate, for the algorithms a Go binary registers (sha256/384/512).
 * Returns NULL or the error text. */
static const char *digest_validate(const char *d)
{
    const char *colon = strchr(d, ':');
    if (!colon || colon == d || !colon[1])
        return "invalid checksum digest format";
    size_t alen = (size_t)(colon - d), bytes = 0;
    if (alen == 6 && !strncmp(d, "sha256", 6))
        bytes = 32;
    else if (alen == 6 && !strncmp(d, "sha384", 6))
        bytes = 48;
    else if (alen == 6 && !strncmp(d, "sha512", 6))
        bytes = 64;
    if (!bytes)
        return match_go_digest_regexp(d) ? "unsupported digest algorithm"
                                         : "invalid checksum digest format";
    const char *enc = colon + 1;
    if (strlen(enc) != bytes * 2)
        return "invalid checksum digest length";
    for (const char *p = enc; *p; p++)
        if (!is_lower_hex(*p))
            return "invalid checksum digest format";
    return NULL;
}

struct ref_spans {
    const char *domain, *path, *tag, *digest;
    size_t domain_len, path_len, tag_len, digest_len;
};

/* The anchored ReferenceRegexp with its three captures (name split into domain and path as
 * anchoredNameRegexp does). */
static bool ref_match(const char *s, struct ref_spans *sp)
{
    memset(sp, 0, sizeof(*sp));
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    size_t name_len = at ? (size_t)(at - s) : n;
    if (at) {
        sp->digest = at + 1;
        sp->digest_len = n - name_len - 1;
        if (!match_digest_pat(sp->digest, sp->digest_len))
            return false;
    }
    const char *slash = NULL, *colon = NULL;
    for (size_t i = 0; i < name_len; i++) {
        if (s[i] == '/')
            slash = s + i;
        else if (s[i] == ':')
            colon = s + i;
    }
    if (colon && (!slash || colon > slash)) {
        sp->tag = colon + 1;
        sp->tag_len = name_len - (size_t)(colon - s) - 1;
        if (!match_tag(sp->tag, sp->tag_len))
            return false;
        name_len = (size_t)(colon - s);
    }
    const char *first = memchr(s, '/', name_len);
    if (first && match_domain(s, (size_t)(first - s)) &&
        match_remote_name(first + 1, name_len - (size_t)(first - s) - 1)) {
        sp->domain = s;
        sp->domain_len = (size_t)(first - s);
        sp->path = first + 1;
        sp->path_len = name_len - sp->domain_len - 1;
        return true;
    }
    if (!match_remote_name(s, name_len))
        return false;
    sp->path = s;
    sp->path_len = name_len;
    return true;
}

static void set_msg(char *msg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_msg(char *msg, size_t size, const char *fmt, ...)
{
    if (!msg || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

/* reference.Parse */
static int ref_parse_strict(const char *s, struct kl_image_ref *out, char *msg, size_t msg_size)
{
    if (!*s) {
        set_msg(msg, msg_size, "repository name must have at least one component");
        return -EINVAL;
    }
    struct ref_spans sp;
    if (!ref_match(s, &sp)) {
        CK_AUTOFREE char *lower = ck_xstrdup(s);
        bool changed = false;
        for (char *p = lower; *p; p++) {
            if (*p >= 'A' && *p <= 'Z') {
                *p = (char)(*p - 'A' + 'a');
                changed = true;
            }
        }
        struct ref_spans tmp;
        if (changed && ref_match(lower, &tmp))
            set_msg(msg, msg_size, "repository name must be lowercase");
        else
            set_msg(msg, msg_size, "invalid reference format");
        return -EINVAL;
    }
    if (sp.path_len > KL_REF_NAME_MAX) {
        set_msg(msg, msg_size, "repository name must not be more than %d characters",
                KL_REF_NAME_MAX);
        return -EINVAL;
    }
    CK_AUTOFREE char *digest = sp.digest ? ck_xstrndup(sp.digest, sp.digest_len) : NULL;
    if (digest) {
        const char *e = digest_validate(digest);
        if (e) {
            set_msg(msg, msg_size, "%s", e);
            return -EINVAL;
        }
    }
    out->domain = ck_xstrndup(sp.domain ? sp.domain : "", sp.domain_len);
    out->path = ck_xstrndup(sp.path, sp.path_len);
    out->tag = sp.tag ? ck_xstrndup(sp.tag, sp.tag_len) : NULL;
    out->digest = digest;
    digest = NULL;
    return 0;
}

static bool is_identifier(const char *s)
{
    size_t n = strlen(s);
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_hex(s[i]))
            return false;
    return true;
}

static bool has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

int kl_image_ref_parse(const char *s, struct kl_image_ref *out, char *msg, size_t msg_size)
{
    if (!s || !out) {
        set_msg(msg, msg_size, "invalid reference format");
        return -EINVAL;
    }
    if (is_identifier(s)) {
        set_msg(msg, msg_size,
                "invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s);
        return -EINVAL;
    }
    /* splitDockerDomain */
    const char *domain = KL_DEFAULT_DOMAIN;
    size_t domain_len = strlen(KL_DEFAULT_DOMAIN);
    const char *remainder = s;
    const char *slash = strchr(s, '/');
    bool library = false;
    if (!slash) {
        library = true;
    } else {
        size_t dl = (size_t)(slash - s);
        if ((dl == 9 && !strncmp(s, "localhost", 9)) || memchr(s, '.', dl) || memchr(s, ':', dl) ||
            has_upper(s, dl)) {
            domain = s;
            domain_len = dl;
            remainder = slash + 1;
            if (dl == 15 && !strncmp(s, "index.docker.io", 15)) {
                domain = KL_DEFAULT_DOMAIN;
                domain_len = strlen(KL_DEFAULT_DOMAIN);
            }
        }
        if (domain_len == strlen(KL_DEFAULT_DOMAIN) &&
            !strncmp(domain, KL_DEFAULT_DOMAIN, domain_len) && !strchr(remainder, '/'))
            library = true;
    }
    CK_AUTOFREE char *rem = ck_xasprintf("%s%s", library ? "library/" : "", remainder);
    const char *colon = strchr(rem, ':');
    size_t remote_len = colon ? (size_t)(colon - rem) : strlen(rem);
    if (has_upper(rem, remote_len)) {
        set_msg(msg, msg_size, "invalid reference format: repository name (%.*s) must be lowercase",
                (int)remote_len, rem);
        return -EINVAL;
    }
    CK_AUTOFREE char *full = ck_xasprintf("%.*s/%s", (int)domain_len, domain, rem);
    return ref_parse_strict(full, out, msg, msg_size);
}

void kl_image_ref_free(struct kl_image_ref *r)
{
    if (!r)
        return;
    free(r->domain);
    free(r->path);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof(*r));
}

char *kl_image_ref_name(const struct kl_image_ref *r)
{
    if (!r->domain || !*r->domain)
        return ck_xstrdup(r->path);
    return ck_xasprintf("%s/%s", r->domain, r->path);
}

char *kl_image_ref_string(const struct kl_image_ref *r)
{
    CK_AUTOFREE char *name = kl_image_ref_name(r);
    return ck_xasprintf("%s%s%s%s%s", name, r->tag ? ":" : "", r->tag ? r->tag : "",
                        r->digest ? "@" : "", r->digest ? r->digest : "");
}

char *kl_image_ref_docker_string(const struct kl_image_ref *r)
{
    CK_AUTOFREE char *name = kl_image_ref_name(r);
    if (r->digest)
        return ck_xasprintf("%s@%s", name, r->digest);
    return ck_xasprintf("%s:%s", name, r->tag ? r->tag : KL_DEFAULT_TAG);
}

char *kl_image_ref_familiar(const struct kl_image_ref *r)
{
    struct ck_buf b = CK_BUF_INIT;
    if (r->domain && !strcmp(r->domain, KL_DEFAULT_DOMAIN)) {
        const char *p = r->path;
        if (!strncmp(p, "library/", 8) && !strchr(p + 8, '/'))
            p += 8;
        ck_buf_puts(&b, p);
    } else {
        char *name = kl_image_ref_name(r);
        ck_buf_puts(&b, name);
        free(name);
    }
    if (r->tag)
        ck_buf_printf(&b, ":%s", r->tag);
    if (r->digest)
        ck_buf_printf(&b, "@%s", r->digest);
    return ck_buf_detach(&b);
}

bool kl_image_id_parse(const char *s, char *id, size_t id_size)
{
    if (!s)
        return false;
    const char *hex = !strncmp(s, "sha256:", 7) ? s + 7 : s;
    if (!is_identifier(hex))
        return false;
    if (id && ck_snprintf(id, id_size, "sha256:%s", hex) < 0)
        return false;
    return true;
}

bool kl_digest_is_sha256(const char *digest)
{
    return digest && !strncmp(digest, "sha256:", 7) && is_identifier(digest + 7);
}

/* Go's strconv.Quote for the strings we print (valid UTF-8 above ASCII passes through). */
void kl_go_quote(struct ck_buf *b, const char *s)
{
    ck_buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        if (c < 0x80) {
            switch (c) {
            case '"':
                ck_buf_puts(b, "\\\"");
                break;
            case '\\':
                ck_buf_puts(b, "\\\\");
                break;
            case '\a':
                ck_buf_puts(b, "\\a");
                break;
            case '\b':
                ck_buf_puts(b, "\\b");
                break;
            case '\f':
                ck_buf_puts(b, "\\f");
                break;
            case '\n':
                ck_buf_puts(b, "\\n");
                break;
            case '\r':
                ck_buf_puts(b, "\\r");
                break;
            case '\t':
                ck_buf_puts(b, "\\t");
                break;
            case '\v':
                ck_buf_puts(b, "\\v");
                break;
            default:
                if (c < 0x20 || c == 0x7f)
                    ck_buf_printf(b, "\\x%02x", c);
                else
                    ck_buf_putc(b, (char)c);
            }
            p++;
            continue;
        }
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        bool ok = len > 0 && c < 0xf5;
        for (size_t i = 1; ok && i < len; i++)
            ok = (p[i] & 0xc0) == 0x80;
        if (ok) {
            ck_buf_add(b, p, len);
            p += len;
        } else {
            ck_buf_printf(b, "\\x%02x", c);
            p++;
        }
    }
    ck_buf_putc(b, '"');
}

/* The kubelet's parsers.ParseImageName: repository, tag ("latest" when neither tag nor digest)
 * and digest; the error text wraps docker's. */
static int parse_image_name(const char *image, char **tag, bool *has_digest, struct ck_buf *errmsg)
{
    struct kl_image_ref r;
    char msg[512];
    if (kl_image_ref_parse(image, &r, msg, sizeof(msg)) < 0) {
        ck_buf_puts(errmsg, "couldn't parse image name ");
        kl_go_quote(errmsg, image);
        ck_buf_printf(errmsg, ": %s", msg);
        return -EINVAL;
    }
    *has_digest = r.digest != NULL;
    if (r.tag)
        *tag = ck_xstrdup(r.tag);
    else
        *tag = r.digest ? NULL : ck_xstrdup(KL_DEFAULT_TAG);
    kl_image_ref_free(&r);
    return 0;
}

int kl_image_apply_default_tag(const char *image, char **out, struct ck_error *err)
{
    CK_AUTOBUF struct ck_buf m = CK_BUF_INIT;
    CK_AUTOFREE char *tag = NULL;
    bool has_digest = false;
    if (!image)
        image = "";
    if (parse_image_name(image, &tag, &has_digest, &m) < 0) {
        CK_AUTOBUF struct ck_buf full = CK_BUF_INIT;
        ck_buf_puts(&full, "Failed to apply default image tag ");
        kl_go_quote(&full, image);
        ck_buf_printf(&full, ": %s", m.data);
        return ck_error_set(err, 400, "InvalidImageName", "%s", full.data);
    }
    size_t il = strlen(image), tl = tag ? strlen(tag) : 0;
    bool suffixed = tag && il > tl && image[il - tl - 1] == ':' && !strcmp(image + il - tl, tag);
    if (!has_digest && tag && !suffixed)
        *out = ck_xasprintf("%s:%s", image, tag);
    else
        *out = ck_xstrdup(image);
    return 0;
}

const char *kl_image_default_pull_policy(const char *image)
{
    CK_AUTOBUF struct ck_buf m = CK_BUF_INIT;
    CK_AUTOFREE char *tag = NULL;
    bool has_digest;
    if (image && parse_image_name(image, &tag, &has_digest, &m) == 0 && tag &&
        !strcmp(tag, KL_DEFAULT_TAG))
        return "Always";
    return "IfNotPresent";
}

/* ==== configuration ========================================================================== */

void kl_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* Length of the host[:port] part of a URL after its scheme, or 0 when malformed. */
static size_t url_host_len(const char *url, const char **host)
{
    const char *p = NULL;
    if (!strncmp(url, "http://", 7))
        p = url + 7;
    else if (!strncmp(url, "https://", 8))
        p = url + 8;
    if (!p)
        return 0;
    size_t n = strcspn(p, "/?#");
    *host = p;
    return n;
}

int kl_registry_config_add_mirror(struct kl_registry_config *rc, const char *flag_value,
                                  struct ck_error *err)
{
    const char *v = flag_value ? flag_value : "";
    const char *eq = strchr(v, '=');
    const char *host = NULL;
    size_t hl = eq ? url_host_len(eq + 1, &host) : 0;
    bool ok = eq && eq > v && hl > 0;
    for (const char *p = v; ok && p < eq; p++)
        ok = *p > ' ' && *p != '/' && *p < 0x7f;
    for (const char *p = eq ? eq + 1 : v; ok && *p; p++)
        ok = *p > ' ' && *p < 0x7f;
    if (!ok)
        return ck_error_set(
            err, 400, CK_REASON_BAD_REQUEST,
            "invalid registry mirror \"%s\": want REGISTRY=http(s)://HOST[:PORT][/PATH]", v);
    rc->mirrors = ck_xrealloc(rc->mirrors, (rc->n_mirrors + 1) * sizeof(*rc->mirrors));
    rc->mirrors[rc->n_mirrors].host = ck_xstrndup(v, (size_t)(eq - v));
    rc->mirrors[rc->n_mirrors].endpoint = ck_xstrdup(eq + 1);
    rc->n_mirrors++;
    return 0;
}

void kl_registry_config_add_auth(struct kl_registry_config *rc, const char *host,
                                 const char *username, const char *password)
{
    rc->auths = ck_xrealloc(rc->auths, (rc->n_auths + 1) * sizeof(*rc->auths));
    rc->auths[rc->n_auths].host = ck_xstrdup(host ? host : "");
    rc->auths[rc->n_auths].username = ck_xstrdup(username ? username : "");
    rc->auths[rc->n_auths].password = ck_xstrdup(password ? password : "");
    rc->n_auths++;
}

void kl_registry_config_free(struct kl_registry_config *rc)
{
    if (!rc)
        return;
    for (size_t i = 0; i < rc->n_mirrors; i++) {
        free(rc->mirrors[i].host);
        free(rc->mirrors[i].endpoint);
    }
    for (size_t i = 0; i < rc->n_auths; i++) {
        free(rc->auths[i].host);
        free(rc->auths[i].username);
        free(rc->auths[i].password);
    }
    free(rc->mirrors);
    free(rc->auths);
    free(rc->ca_file);
    memset(rc, 0, sizeof(*rc));
}

/* "http://h:5000/" -> "http://h:5000/v2"; an endpoint already ending in /v2 is kept. */
static char *endpoint_base(const char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n >= 3 && !strncmp(url + n - 3, "/v2", 3))
        return ck_xstrndup(url, n);
    return ck_xasprintf("%.*s/v2", (int)n, url);
}

static void strv_add_unique(char ***v, size_t *n, char *s)
{
    for (size_t i = 0; i < *n; i++) {
        if (!strcmp((*v)[i], s)) {
            free(s);
            return;
        }
    }
    *v = ck_xrealloc(*v, (*n + 2) * sizeof(char *));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

size_t kl_registry_endpoints(const struct kl_registry_config *rc, const char *domain, char ***out)
{
    char **v = ck_xcalloc(1, sizeof(char *));
    size_t n = 0;
    for (int pass = 0; rc && pass < 2; pass++) {
        for (size_t i = 0; i < rc->n_mirrors; i++) {
            const char *h = rc->mirrors[i].host;
            if (pass == 0 ? !strcmp(h, domain) : !strcmp(h, "*"))
                strv_add_unique(&v, &n, endpoint_base(rc->mirrors[i].endpoint));
        }
    }
    if (!rc || !rc->mirrors_only) {
        if (!strcmp(domain, KL_DEFAULT_DOMAIN))
            strv_add_unique(&v, &n, ck_xstrdup("https://registry-1.docker.io/v2"));
        else
            strv_add_unique(&v, &n, ck_xasprintf("https://%s/v2", domain));
    }
    *out = v;
    return n;
}

/* ==== WWW-Authenticate ==== */

void kl_auth_challenge_free(struct kl_auth_challenge *c)
{
    if (!c)
        return;
    free(c->realm);
    free(c->service);
    free(c->scope);
    memset(c, 0, sizeof(*c));
}

int kl_auth_challenge_parse(const char *value, struct kl_auth_challenge *out)
{
    memset(out, 0, sizeof(*out));
    if (!value)
        return -EINVAL;
    const char *p = value;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t sl = strcspn(p, " \t");
    if (sl == 0 || sl >= sizeof(out->scheme))
        return -EINVAL;
    memcpy(out->scheme, p, sl);
    out->scheme[sl] = '\0';
    p += sl;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t kl = strcspn(p, "= \t,");
        if (kl == 0 || p[kl] != '=') {
            kl_auth_challenge_free(out);
            return -EINVAL;
        }
        const char *key = p;
        p += kl + 1;
        struct ck_buf val = CK_BUF_INIT;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                ck_buf_putc(&val, *p++);
            }
            if (*p != '"') {
                ck_buf_free(&val);
                kl_auth_challenge_free(out);
                return -EINVAL;
            }
            p++;
        } else {
            size_t vl = strcspn(p, " \t,");
            ck_buf_add(&val, p, vl);
            p += vl;
        }
        char **slot = NULL;
        if (kl == 5 && !strncasecmp(key, "realm", 5))
            slot = &out->realm;
        else if (kl == 7 && !strncasecmp(key, "service", 7))
            slot = &out->service;
        else if (kl == 5 && !strncasecmp(key, "scope", 5))
            slot = &out->scope;
        if (slot && !*slot)
            *slot = ck_buf_detach(&val);
        else
            ck_buf_free(&val);
    }
    return 0;
}

/* ==== HTTP client ==== */

struct kl_registry_client {
    const struct kl_registry_config *rc; /* borrowed */
    char *domain, *endpoint, *repo;
    const struct kl_registry_auth *auth; /* credentials for this endpoint or registry, or NULL */
    char *token;                         /* bearer token once the flow ran */
    bool basic;                          /* the registry asked for Basic auth */
    CURL *curl;
};

/* One response: status, the headers we use, and where the body goes. */
struct response {
    long status;
    char reason[64];
    char *content_type;
    char *www_auth;
    /* body to memory (manifests, tokens, error bodies) */
    struct ck_buf body;
    size_t limit;
    bool too_big;
    /* body to a file (blobs), hashed on the way */
    int fd;
    EVP_MD_CTX *md;
    int64_t written, expect;
    bool overflow;
    int write_errno;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

struct kl_registry_client *kl_registry_client_new(const struct kl_registry_config *rc,
                                                  const char *domain, const char *endpoint,
                                                  const char *repo)
{
    pthread_once(&curl_once, curl_init_once);
    struct kl_registry_client *c = ck_xcalloc(1, sizeof(*c));
    c->rc = rc;
    c->domain = ck_xstrdup(domain);
    c->endpoint = ck_xstrdup(endpoint);
    c->repo = ck_xstrdup(repo);
    c->curl = curl_easy_init();
    const char *host = NULL;
    size_t hl = url_host_len(endpoint, &host);
    for (size_t i = 0; rc && i < rc->n_auths && !c->auth; i++) {
        const char *ah = rc->auths[i].host;
        if (hl && strlen(ah) == hl && !strncmp(ah, host, hl))
            c->auth = &rc->auths[i];
    }
    for (size_t i = 0; rc && i < rc->n_auths && !c->auth; i++)
        if (!strcmp(rc->auths[i].host, domain))
            c->auth = &rc->auths[i];
    return c;
}

void kl_registry_client_free(struct kl_registry_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->domain);
    free(c->endpoint);
    free(c->repo);
    free(c->token);
    free(c);
}

static void resp_clear_headers(struct response *r)
{
    free(r->content_type);
    free(r->www_auth);
    r->content_type = r->www_auth = NULL;
    r->status = 0;
    r->reason[0] = '\0';
}

static void resp_free(struct response *r)
{
    resp_clear_headers(r);
    ck_buf_free(&r->body);
    if (r->md)
        EVP_MD_CTX_free(r->md);
    r->md = NULL;
}

/* Before each try: forget the last answer and start the file over. */
static int resp_reset(struct response *r)
{
    resp_clear_headers(r);
    ck_buf_reset(&r->body);
    r->too_big = r->overflow = false;
    r->written = 0;
    r->write_errno = 0;
    if (r->fd >= 0) {
        if (ftruncate(r->fd, 0) < 0 || lseek(r->fd, 0, SEEK_SET) < 0)
            return -errno;
        if (!r->md)
            r->md = EVP_MD_CTX_new();
        if (!r->md || EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
            return -ENOMEM;
    }
    return 0;
}

/* Go's http.StatusText for the statuses a registry sends without a reason phrase (HTTP/2). */
static const char *status_text(long code)
{
    switch (code) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "";
    }
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    struct response *r = ud;
    size_t n = sz * nm;
    if (n >= 5 && !strncmp(p, "HTTP/", 5)) {
        /* a new response (after a redirect or 100-continue): start over */
        resp_clear_headers(r);
        ck_buf_reset(&r->body);
        const char *sp = memchr(p, ' ', n);
        if (sp) {
            char code[8] = "";
            size_t cl = n - (size_t)(sp + 1 - p);
            memcpy(code, sp + 1, cl < sizeof(code) - 1 ? cl : sizeof(code) - 1);
            r->status = strtol(code, NULL, 10);
            const char *rs = memchr(sp + 1, ' ', n - (size_t)(sp + 1 - p));
            if (rs) {
                const char *start = rs + 1;
                size_t rl = n - (size_t)(start - p);
                while (rl && (start[rl - 1] == '\r' || start[rl - 1] == '\n'))
                    rl--;
                if (rl >= sizeof(r->reason))
                    rl = sizeof(r->reason) - 1;
                memcpy(r->reason, start, rl);
                r->reason[rl] = '\0';
            }
            if (!r->reason[0])
                ck_snprintf(r->reason, sizeof(r->reason), "%s", status_text(r->status));
        }
        return n;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return n;
    size_t kl = (size_t)(colon - p);
    const char *v = colon + 1;
    size_t vl = n - kl - 1;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (kl == 12 && !strncasecmp(p, "Content-Type", 12)) {
        free(r->content_type);
        r->content_type = ck_xstrndup(v, vl);
    } else if (kl == 16 && !strncasecmp(p, "WWW-Authenticate", 16)) {
        /* several challenges: prefer Bearer */
        if (!r->www_auth ||
            (strncasecmp(r->www_auth, "Bearer", 6) && vl >= 6 && !strncasecmp(v, "Bearer", 6))) {
            free(r->www_auth);
            r->www_auth = ck_xstrndup(v, vl);
        }
    }
    return n;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct response *r = ud;
    size_t n = sz * nm;
    bool ok = r->status >= 200 && r->status < 300;
    if (ok && r->fd >= 0) {
        if (r->written + (int64_t)n > r->expect) {
            r->written += (int64_t)n;
            r->overflow = true;
            return 0;
        }
        EVP_DigestUpdate(r->md, p, n);
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(r->fd, p + off, n - off);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                r->write_errno = errno;
                return 0;
            }
            off += (size_t)w;
        }
        r->written += (int64_t)n;
        return n;
    }
    size_t limit = ok ? r->limit : 64 * 1024;
    if (r->body.len + n > limit) {
        if (ok) {
            r->too_big = true;
            return 0;
        }
        n = limit - r->body.len; /* keep the head of an error body */
        ck_buf_add(&r->body, p, n);
        return sz * nm;
    }
    ck_buf_add(&r->body, p, n);
    return n;
}

static int cfg_int(int v, int dflt)
{
    return v > 0 ? v : dflt;
}

/* One HTTP GET with our options; headers may be NULL. */
static CURLcode perform(struct kl_registry_client *c, const char *url, struct curl_slist *headers,
                        bool basic_auth, struct response *r, char errbuf[CURL_ERROR_SIZE])
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 8L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)cfg_int(c->rc ? c->rc->connect_timeout_ms : 0, 10000));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    long stall = cfg_int(c->rc ? c->rc->stall_timeout_ms : 0, 30000);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (stall + 999) / 1000);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "ckube-kubelet/1.32");
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (c->rc && c->rc->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->rc->ca_file);
    if (headers)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (basic_auth && c->auth) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->auth->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->auth->password);
    }
    return curl_easy_perform(h);
}

static bool transient_curl_error(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Picks the registry's {"errors":[{"code":..,"message":..}]} out of an error body. */
static void parse_registry_error(const struct response *r, struct kl_registry_status *st)
{
    st->code[0] = st->detail[0] = '\0';
    if (!r->body.len)
        return;
    cJSON *j = cJSON_ParseWithLength(r->body.data, r->body.len);
    cJSON *errs = j ? cJSON_GetObjectItemCaseSensitive(j, "errors") : NULL;
    cJSON *e0 = cJSON_IsArray(errs) ? cJSON_GetArrayItem(errs, 0) : NULL;
    cJSON *code = e0 ? cJSON_GetObjectItemCaseSensitive(e0, "code") : NULL;
    cJSON *msg = e0 ? cJSON_GetObjectItemCaseSensitive(e0, "message") : NULL;
    if (cJSON_IsString(code))
        ck_snprintf(st->code, sizeof(st->code), "%s", code->valuestring);
    if (cJSON_IsString(msg))
        ck_snprintf(st->detail, sizeof(st->detail), "%s", msg->valuestring);
    cJSON_Delete(j);
}

static void status_msg(struct kl_registry_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void status_msg(struct kl_registry_status *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->message, sizeof(st->message), fmt, ap);
    va_end(ap);
}

/* "pull access denied" as containerd words a refused pull. */
static int access_denied(struct kl_registry_status *st, const struct response *r)
{
    parse_registry_error(r, st);
    char lower[64];
    size_t i = 0;
    for (; st->code[i] && i + 1 < sizeof(lower); i++)
        lower[i] = (char)tolower((unsigned char)st->code[i]);
    lower[i] = '\0';
    status_msg(st,
               "pull access denied, repository does not exist or may require authorization: "
               "server message: %s: %s",
               *lower ? lower : "unauthorized",
               *st->detail ? st->detail : "authentication required");
    return -EACCES;
}

/* Runs the token flow for a 401 carrying a challenge; on success later requests carry the
 * token (or Basic credentials). */
static int authorize(struct kl_registry_client *c, const struct response *r401,
                     struct kl_registry_status *st)
{
    struct kl_auth_challenge ch;
    if (!r401->www_auth || kl_auth_challenge_parse(r401->www_auth, &ch) < 0)
        return access_denied(st, r401);
    int rc = 0;
    if (!strcasecmp(ch.scheme, "Basic")) {
        if (c->auth && !c->basic)
            c->basic = true;
        else
            rc = access_denied(st, r401);
        kl_auth_challenge_free(&ch);
        return rc;
    }
    if (strcasecmp(ch.scheme, "Bearer") || !ch.realm ||
        (strncmp(ch.realm, "http://", 7) && strncmp(ch.realm, "https://", 8))) {
        kl_auth_challenge_free(&ch);
        return access_denied(st, r401);
    }
    CK_AUTOBUF struct ck_buf url = CK_BUF_INIT;
    ck_buf_puts(&url, ch.realm);
    char sep = strchr(ch.realm, '?') ? '&' : '?';
    if (ch.service) {
        char *e = curl_easy_escape(c->curl, ch.service, 0);
        ck_buf_printf(&url, "%cservice=%s", sep, e ? e : "");
        curl_free(e);
        sep = '&';
    }
    CK_AUTOFREE char *dflt_scope = ck_xasprintf("repository:%s:pull", c->repo);
    char *e = curl_easy_escape(c->curl, ch.scope ? ch.scope : dflt_scope, 0);
    ck_buf_printf(&url, "%cscope=%s", sep, e ? e : "");
    curl_free(e);
    kl_auth_challenge_free(&ch);

    struct response tr = {.fd = -1, .limit = 1 << 20};
    char errbuf[CURL_ERROR_SIZE];
    int delay = cfg_int(c->rc ? c->rc->retry_delay_ms : 0, 200);
    int attempts = cfg_int(c->rc ? c->rc->max_attempts : 0, 3);
    CURLcode cc = CURLE_OK;
    for (int i = 0; i < attempts; i++) {
        resp_reset(&tr);
        cc = perform(c, url.data, NULL, true, &tr, errbuf);
        if ((cc != CURLE_OK && transient_curl_error(cc)) || (cc == CURLE_OK && tr.status >= 500)) {
            if (i + 1 < attempts)
                sleep_ms(delay);
            delay *= 2;
            continue;
        }
        break;
    }
    ck_snprintf(st->url, sizeof(st->url), "%s", url.data);
    if (cc != CURLE_OK) {
        status_msg(st, "failed to fetch anonymous token: Get \"%s\": %s", url.data,
                   *errbuf ? errbuf : curl_easy_strerror(cc));
        resp_free(&tr);
        return -EIO;
    }
    if (tr.status == 401 || tr.status == 403) {
        rc = access_denied(st, &tr);
        resp_free(&tr);
        return rc;
    }
    cJSON *j = tr.status == 200 ? cJSON_ParseWithLength(tr.body.data, tr.body.len) : NULL;
    cJSON *tok = j ? cJSON_GetObjectItemCaseSensitive(j, "token") : NULL;
    if (!cJSON_IsString(tok) || !*tok->valuestring)
        tok = j ? cJSON_GetObjectItemCaseSensitive(j, "access_token") : NULL;
    if (!cJSON_IsString(tok) || !*tok->valuestring) {
        status_msg(
            st, "failed to fetch anonymous token: unexpected status from GET request to %s: %ld %s",
            url.data, tr.status, tr.reason);
        cJSON_Delete(j);
        resp_free(&tr);
        return -EIO;
    }
    free(c->token);
    c->token = ck_xstrdup(tok->valuestring);
    cJSON_Delete(j);
    resp_free(&tr);
    return 0;
}

/* GET url with retries of transient failures and the auth flow on a 401. Returns 0 when an
 * HTTP answer arrived (the caller judges its status), or a negative errno with st filled. */
static int request(struct kl_registry_client *c, const char *url, const char *accept,
                   struct response *r, struct kl_registry_status *st)
{
    int attempts = cfg_int(c->rc ? c->rc->max_attempts : 0, 3);
    int delay = cfg_int(c->rc ? c->rc->retry_delay_ms : 0, 200);
    bool auth_done = false;
    char errbuf[CURL_ERROR_SIZE];
    ck_snprintf(st->url, sizeof(st->url), "%s", url);
    for (int i = 0;;) {
        int rr = resp_reset(r);
        if (rr < 0) {
            status_msg(st, "failed to prepare download: %s", strerror(-rr));
            return rr;
        }
        struct curl_slist *hdrs = NULL;
        if (accept) {
            char *a = ck_xasprintf("Accept: %s", accept);
            hdrs = curl_slist_append(hdrs, a);
            free(a);
        }
        if (c->token) {
            char *a = ck_xasprintf("Authorization: Bearer %s", c->token);
            hdrs = curl_slist_append(hdrs, a);
            free(a);
        }
        CURLcode cc = perform(c, url, hdrs, c->basic, r, errbuf);
        curl_slist_free_all(hdrs);
        if (cc != CURLE_OK) {
            if (r->too_big || r->overflow || r->write_errno)
                return 0; /* the caller words these */
            if (transient_curl_error(cc) && ++i < attempts) {
                sleep_ms(delay);
                delay *= 2;
                continue;
            }
            st->http_status = 0;
            status_msg(st, "failed to do request: Get \"%s\": %s", url,
                       *errbuf ? errbuf : curl_easy_strerror(cc));
            return -EIO;
        }
        st->http_status = (int)r->status;
        if (r->status == 401 && !auth_done) {
            auth_done = true;
            int ar = authorize(c, r, st);
            if (ar < 0)
                return ar;
            continue;
        }
        if ((r->status >= 500 || r->status == 429) && ++i < attempts) {
            sleep_ms(delay);
            delay *= 2;
            continue;
        }
        return 0;
    }
}

/* Words a non-2xx answer; returns the errno for it. */
static int judge_status(const struct response *r, struct kl_registry_status *st)
{
    parse_registry_error(r, st);
    if (r->status == 404) {
        status_msg(st, "not found");
        return -ENOENT;
    }
    if (r->status == 401 || r->status == 403)
        return access_denied(st, r);
    status_msg(st, "unexpected status from GET request to %s: %ld %s", st->url, r->status,
               r->reason);
    return -EIO;
}

int kl_registry_get_manifest(struct kl_registry_client *c, const char *reference, char **body,
                             size_t *len, char **media_type, struct kl_registry_status *st)
{
    memset(st, 0, sizeof(*st));
    CK_AUTOFREE char *url = ck_xasprintf("%s/%s/manifests/%s", c->endpoint, c->repo, reference);
    struct response r = {.fd = -1, .limit = KL_MANIFEST_MAX};
    int rc = request(c, url,
                     KL_MT_OCI_INDEX ", " KL_MT_OCI_MANIFEST ", " KL_MT_DOCKER_LIST
                                     ", " KL_MT_DOCKER_MANIFEST,
                     &r, st);
    if (rc == 0 && r.too_big) {
        status_msg(st, "manifest at %s is larger than %zu bytes", url, KL_MANIFEST_MAX);
        rc = -EFBIG;
    } else if (rc == 0 && (r.status < 200 || r.status >= 300)) {
        rc = judge_status(&r, st);
    }
    if (rc == 0) {
        *len = r.body.len;
        *body = ck_buf_detach(&r.body);
        const char *ct = r.content_type ? r.content_type : "";
        *media_type = ck_xstrndup(ct, strcspn(ct, "; "));
    }
    resp_free(&r);
    return rc;
}

int kl_registry_fetch_blob(struct kl_registry_client *c, const char *digest, int64_t size, int fd,
                           struct kl_registry_status *st)
{
    memset(st, 0, sizeof(*st));
    if (!kl_digest_is_sha256(digest) || size < 0) {
        status_msg(st, "unsupported digest %s", digest ? digest : "");
        return -EINVAL;
    }
    CK_AUTOFREE char *url = ck_xasprintf("%s/%s/blobs/%s", c->endpoint, c->repo, digest);
    struct response r = {.fd = fd, .expect = size, .limit = 64 * 1024};
    int rc = request(c, url, NULL, &r, st);
    if (rc == 0 && r.write_errno) {
        status_msg(st, "failed to write %s: %s", digest, strerror(r.write_errno));
        rc = -r.write_errno;
    } else if (rc == 0 && r.overflow) {
        status_msg(st, "unexpected commit size %lld, expected %lld: failed precondition",
                   (long long)r.written, (long long)size);
        rc = -EBADMSG;
    } else if (rc == 0 && (r.status < 200 || r.status >= 300)) {
        rc = judge_status(&r, st);
        if (rc == -ENOENT)
            status_msg(st, "httpReadSeeker: failed open: content at %s not found: not found", url);
    } else if (rc == 0 && r.written != size) {
        status_msg(st, "unexpected commit size %lld, expected %lld: failed precondition",
                   (long long)r.written, (long long)size);
        rc = -EBADMSG;
    } else if (rc == 0) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        EVP_DigestFinal_ex(r.md, md, &mdlen);
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        for (unsigned int i = 0; i < mdlen; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        hex[2 * mdlen] = '\0';
        if (strcmp(hex, digest + 7)) {
            status_msg(st, "unexpected commit digest sha256:%s, expected %s: failed precondition",
                       hex, digest);
            rc = -EBADMSG;
        }
    }
    resp_free(&r);
    return rc;
}
