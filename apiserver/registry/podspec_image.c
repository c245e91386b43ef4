/* podspec_image.c - image references as docker/distribution's grammar reads them
 * (parsers.ParseImageName), for the tag that decides a container's default imagePullPolicy. */
#include "podspec_internal.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"

/* ---- image references (docker/distribution's grammar, as parsers.ParseImageName) ---- */

static bool is_alnum(char c)
{
    return ps_is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* path-component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* over s[0..n) */
static bool path_component_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (!n || !ps_is_lower_alnum(s[0]))
        return false;
    while (i < n) {
        while (i < n && ps_is_lower_alnum(s[i]))
            i++;
        if (i == n)
            return true;
        size_t sep = i;
        if (s[i] == '.')
            i++;
        else if (s[i] == '_')
            i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
        else if (s[i] == '-')
            while (i < n && s[i] == '-')
                i++;
        else
            return false;
        if (i == sep || i >= n || !ps_is_lower_alnum(s[i]))
            return false;
    }
    return true;
}

/* domain: components of [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? joined by '.', optional
 * :port, or a bracketed IPv6 address with optional port. */
static bool domain_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return false;
        char ip[64];
        size_t l = (size_t)(close - s - 1);
        if (l >= sizeof(ip))
            return false;
        memcpy(ip, s + 1, l);
        ip[l] = 0;
        if (ck_parse_ip(ip, NULL) != 6)
            return false;
        i = (size_t)(close - s) + 1;
    } else {
        for (;;) {
            size_t start = i;
            while (i < n && (is_alnum(s[i]) || s[i] == '-'))
                i++;
            if (i == start || s[start] == '-' || s[i - 1] == '-')
                return false;
            if (i < n && s[i] == '.') {
                i++;
                continue;
            }
            break;
        }
    }
    if (i < n && s[i] == ':') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

/* algorithm ':' hex, with the lengths the digest package accepts */
static bool digest_ok(const char *d)
{
    const char *colon = strchr(d, ':');
    if (!colon)
        return false;
    size_t alen = (size_t)(colon - d);
    size_t hlen = strlen(colon + 1);
    for (size_t i = 0; i < hlen; i++)
        if (!is_hex(colon[1 + i]))
            return false;
    if (alen == 6 && !strncmp(d, "sha256", 6))
        return hlen == 64;
    if (alen == 6 && !strncmp(d, "sha384", 6))
        return hlen == 96;
    if (alen == 6 && !strncmp(d, "sha512", 6))
        return hlen == 128;
    return false;
}

static bool tag_ok(const char *t)
{
    size_t n = strlen(t);
    if (!n || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        bool word = is_alnum(c) || c == '_';
        if (!(word || (i > 0 && (c == '.' || c == '-'))))
            return false;
    }
    return true;
}

const char *podspec_image_tag(const char *image, char *buf, size_t size)
{
    if (!buf || size == 0)
        return "";
    buf[0] = 0;
    if (!image || !image[0] || strlen(image) > 4096)
        return buf;
    CK_AUTOFREE char *s = ck_xstrdup(image);
    /* a bare 64-hex identifier is refused by ParseNormalizedNamed */
    if (strlen(s) == 64) {
        bool hex = true;
        for (size_t i = 0; i < 64; i++)
            hex = hex && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
        if (hex)
            return buf;
    }
    char *at = strchr(s, '@');
    bool digest = false;
    if (at) {
        *at = 0;
        if (!digest_ok(at + 1))
            return buf;
        digest = true;
    }
    const char *tag = NULL;
    char *slash = strrchr(s, '/');
    char *colon = strrchr(s, ':');
    if (colon && (!slash || colon > slash)) {
        *colon = 0;
        tag = colon + 1;
        if (!tag_ok(tag))
            return buf;
    }
    /* split the domain as splitDockerDomain does */
    const char *remainder = s;
    size_t total = strlen(s);
    char *first = strchr(s, '/');
    if (first) {
        size_t dl = (size_t)(first - s);
        bool lower = true;
        for (size_t i = 0; i < dl; i++)
            lower = lower && !(s[i] >= 'A' && s[i] <= 'Z');
        bool is_domain = memchr(s, '.', dl) || memchr(s, ':', dl) ||
                         (dl == 9 && !strncmp(s, "localhost", 9)) || !lower;
        if (is_domain) {
            if (!domain_ok(s, dl))
                return buf;
            remainder = first + 1;
        }
    } else {
        total += strlen("docker.io/library/");
    }
    if (total > 255)
        return buf;
    for (const char *p = remainder;;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (!path_component_ok(p, n))
            return buf;
        if (!end)
            break;
        p = end + 1;
    }
    if (tag)
        snprintf(buf, size, "%s", tag);
    else if (!digest)
        snprintf(buf, size, "latest");
    return buf;
}
