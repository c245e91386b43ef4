/* buf.h - the one growable byte buffer / string builder of ckube (like git's strbuf).
 *
 * A struct ck_buf is always NUL-terminated after ck_buf_init, so `b.data` can be used as a
 * C string; `len` excludes the terminator. The buffer owns `data`; ck_buf_free releases it,
 * ck_buf_detach hands it to the caller (who then frees it with free()).
 */
#ifndef CK_BUF_H
#define CK_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct ck_buf {
    char *data;
    size_t len;
    size_t cap;
};

#define CK_BUF_INIT {NULL, 0, 0}

void ck_buf_init(struct ck_buf *b);
void ck_buf_free(struct ck_buf *b);
/* Empties the buffer, keeping its memory. */
void ck_buf_reset(struct ck_buf *b);
/* Makes room for at least `extra` more bytes. */
void ck_buf_grow(struct ck_buf *b, size_t extra);
void ck_buf_add(struct ck_buf *b, const void *data, size_t len);
void ck_buf_puts(struct ck_buf *b, const char *s);
void ck_buf_putc(struct ck_buf *b, char c);
void ck_buf_printf(struct ck_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ck_buf_vprintf(struct ck_buf *b, const char *fmt, va_list ap);
/* Shortens the buffer to `len` bytes (no-op when already shorter). */
void ck_buf_truncate(struct ck_buf *b, size_t len);
/* Returns the NUL-terminated contents, owned by the caller; the buffer is left empty. */
char *ck_buf_detach(struct ck_buf *b);
/* Returns a NUL-terminated string even for a buffer nothing was added to (borrowed). */
const char *ck_buf_str(struct ck_buf *b);

/* `CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;` frees b at the end of the scope. */
void ck_buf_freep(struct ck_buf *b);
#define CK_AUTOBUF __attribute__((cleanup(ck_buf_freep)))

/* snprintf that always terminates and reports truncation: returns 0, or -ENOSPC when the
 * output did not fit (dst then holds the truncated prefix). */
int ck_snprintf(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* strlcpy-like copy; returns 0 or -ENOSPC on truncation. */
int ck_strlcpy(char *dst, const char *src, size_t size);

#endif
