/* etcd_keys.c - upstream's etcd key layout (/registry/<resource>/[<namespace>/]<name>) and
 * prefix-range computation (see etcd.h).
 */
#include "etcd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

/* Cleans a prefix like a path joined to "/": leading '/', no empty, "." or ".." segments, no
 * trailing '/'. "/" becomes "" so that keys never start with "//". */
static void clean_prefix(struct ck_buf *out, const char *prefix)
{
    const char *p = prefix ? prefix : ETCD_DEFAULT_PREFIX;
    while (*p) {
        while (*p == '/')
            p++;
        const char *seg = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - seg);
        if (len == 0 || (len == 1 && seg[0] == '.'))
            continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            char *slash = out->len ? strrchr(out->data, '/') : NULL;
            if (slash)
                ck_buf_truncate(out, (size_t)(slash - out->data));
            continue;
        }
        ck_buf_putc(out, '/');
        ck_buf_add(out, seg, len);
    }
}

/* Go's %q for the names in messages: double-quoted, backslash escapes. */
static void quote(struct ck_buf *b, const char *s)
{
    ck_buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            ck_buf_printf(b, "\\%c", ch);
        else if (ch == '\n')
            ck_buf_puts(b, "\\n");
        else if (ch == '\t')
            ck_buf_puts(b, "\\t");
        else if (ch < 0x20 || ch == 0x7f)
            ck_buf_printf(b, "\\x%02x", ch);
        else
            ck_buf_putc(b, (char)ch);
    }
    ck_buf_putc(b, '"');
}

/* upstream's path-segment rule for names in keys: not "." or "..", no '/' or '%'. */
static int check_segment(const char *what, const char *s, struct ck_error *err)
{
    if (!s || !*s)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s parameter required.", what);
    CK_AUTOBUF struct ck_buf why = CK_BUF_INIT;
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        ck_buf_printf(&why, "may not be '%s'", s);
    } else {
        if (strchr(s, '/'))
            ck_buf_puts(&why, "may not contain '/'");
        if (strchr(s, '%'))
            ck_buf_printf(&why, "%smay not contain '%%'", why.len ? ";" : "");
    }
    if (!why.len)
        return 0;
    CK_AUTOBUF struct ck_buf q = CK_BUF_INIT;
    quote(&q, s);
    return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s parameter invalid: %s: %s", what,
                        ck_buf_str(&q), why.data);
}

/* <prefix>/<resource>[/<ns>] into b. */
static int key_root(struct ck_buf *b, const char *prefix, const char *resource, const char *ns,
                    struct ck_error *err)
{
    if (!resource)
        resource = "";
    while (*resource == '/')
        resource++;
    size_t rlen = strlen(resource);
    while (rlen && resource[rlen - 1] == '/')
        rlen--;
    if (!rlen)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "Resource parameter required.");
    clean_prefix(b, prefix);
    ck_buf_putc(b, '/');
    ck_buf_add(b, resource, rlen);
    if (ns && *ns) {
        int rc = check_segment("Namespace", ns, err);
        if (rc < 0)
            return rc;
        ck_buf_putc(b, '/');
        ck_buf_puts(b, ns);
    }
    return 0;
}

int etcd_key(const char *prefix, const char *resource, const char *ns, const char *name, char **key,
             struct ck_error *err)
{
    *key = NULL;
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    int rc = key_root(&b, prefix, resource, ns, err);
    if (rc < 0)
        return rc;
    rc = check_segment("Name", name, err);
    if (rc < 0)
        return rc;
    ck_buf_putc(&b, '/');
    ck_buf_puts(&b, name);
    *key = ck_buf_detach(&b);
    return 0;
}

int etcd_key_list_prefix(const char *prefix, const char *resource, const char *ns, char **key,
                         struct ck_error *err)
{
    *key = NULL;
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    int rc = key_root(&b, prefix, resource, ns, err);
    if (rc < 0)
        return rc;
    ck_buf_putc(&b, '/');
    *key = ck_buf_detach(&b);
    return 0;
}

char *etcd_prefix_end(const char *key, size_t len, size_t *out_len)
{
    while (len > 0 && (unsigned char)key[len - 1] == 0xff)
        len--;
    if (len == 0) {
        /* no upper bound exists: "\0" asks etcd for every key >= the prefix */
        char *all = ck_xcalloc(2, 1);
        *out_len = 1;
        return all;
    }
    char *end = ck_xmalloc(len + 1);
    memcpy(end, key, len);
    end[len - 1] = (char)((unsigned char)end[len - 1] + 1);
    end[len] = '\0';
    *out_len = len;
    return end;
}
