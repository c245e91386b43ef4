/* buf.c - growable byte buffer (see buf.h). */
#include "buf.h"
#include "mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void ck_buf_init(struct ck_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void ck_buf_free(struct ck_buf *b)
{
    free(b->data);
    ck_buf_init(b);
}

void ck_buf_freep(struct ck_buf *b)
{
    ck_buf_free(b);
}

void ck_buf_reset(struct ck_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void ck_buf_grow(struct ck_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap < ((size_t)1 << 30) ? cap * 2 : cap + ((size_t)1 << 30);
    b->data = ck_xrealloc(b->data, cap);
    b->cap = cap;
}

void ck_buf_add(struct ck_buf *b, const void *data, size_t len)
{
    ck_buf_grow(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void ck_buf_puts(struct ck_buf *b, const char *s)
{
    ck_buf_add(b, s, strlen(s));
}

void ck_buf_putc(struct ck_buf *b, char c)
{
    ck_buf_add(b, &c, 1);
}

void ck_buf_vprintf(struct ck_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    ck_buf_grow(b, 64);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
    va_end(cp);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        ck_buf_grow(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void ck_buf_printf(struct ck_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ck_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void ck_buf_truncate(struct ck_buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

char *ck_buf_detach(struct ck_buf *b)
{
    if (!b->data)
        return ck_xstrdup("");
    char *p = b->data;
    ck_buf_init(b);
    return p;
}

const char *ck_buf_str(struct ck_buf *b)
{
    return b->data ? b->data : "";
}

int ck_snprintf(char *dst, size_t size, const char *fmt, ...)
{
    if (size == 0)
        return -ENOSPC;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, size, fmt, ap);
    va_end(ap);
    if (n < 0) {
        dst[0] = '\0';
        return -EINVAL;
    }
    return (size_t)n >= size ? -ENOSPC : 0;
}

int ck_strlcpy(char *dst, const char *src, size_t size)
{
    if (size == 0)
        return -ENOSPC;
    size_t n = strlen(src);
    if (n >= size) {
        memcpy(dst, src, size - 1);
        dst[size - 1] = '\0';
        return -ENOSPC;
    }
    memcpy(dst, src, n + 1);
    return 0;
}
