/* mem.h - allocation helpers that never return NULL, and scoped-cleanup attributes.
 *
 * Out of memory is not a recoverable condition for a ckube daemon: the x-allocators log
 * and abort, so callers never check for NULL. Everything they return is owned by the
 * caller and released with free().
 */
#ifndef CK_MEM_H
#define CK_MEM_H

#include <stddef.h>
#include <stdlib.h>

#define CK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *ck_xmalloc(size_t n);
void *ck_xcalloc(size_t nmemb, size_t size);
void *ck_xrealloc(void *p, size_t n);
char *ck_xstrdup(const char *s);
char *ck_xstrndup(const char *s, size_t n);
/* Formats into a newly allocated string; the caller frees it. */
char *ck_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* `CK_AUTOFREE char *s = ...;` frees s when it goes out of scope. */
void ck_freep(void *pp);
#define CK_AUTOFREE __attribute__((cleanup(ck_freep)))

#endif
