/* mem.c - allocation helpers that abort on exhaustion (see mem.h). */
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "ckube: out of memory allocating %zu bytes\n", n);
    abort();
}

void *ck_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *ck_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *ck_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *ck_xstrdup(const char *s)
{
    return ck_xstrndup(s, strlen(s));
}

char *ck_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = ck_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *ck_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    return s;
}

void ck_freep(void *pp)
{
    free(*(void **)pp);
}
