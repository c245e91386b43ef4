/* fuzz.h - small helpers the libFuzzer targets in test/fuzz/ share (header-only).
 *
 * Every target defines LLVMFuzzerTestOneInput and must hold, on any input: no crash, no
 * leak, no undefined behaviour. Where a decoder promises a round trip (print what parses,
 * parse what prints), the target checks it with FUZZ_CHECK, which aborts so that libFuzzer
 * reports the input as a crash. */
#ifndef CK_FUZZ_H
#define CK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Aborts with a message when a promised property does not hold. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A NUL-terminated copy of the input (an embedded NUL ends the string early, as it would
 * for any C string the decoders are given). Caller frees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Splits the input at its first NUL byte: *a gets the part before (NUL-terminated copy),
 * the return value the part after (a NUL-terminated copy, "" when there is no NUL).
 * Both are freed by the caller. */
static inline char *fuzz_split(const uint8_t *data, size_t size, char **a)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t alen = nul ? (size_t)(nul - data) : size;
    *a = fuzz_cstr(data, alen);
    return nul ? fuzz_cstr(nul + 1, size - alen - 1) : fuzz_cstr(data, 0);
}

/* True when s is valid UTF-8 (no overlongs, surrogates or values past U+10FFFF): decoders
 * that walk runes replace anything else by U+FFFD, as Go does, so byte-exact round trips
 * hold only for valid text. */
static inline int fuzz_valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, n, min, r;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, min = 0x80, r = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, min = 0x800, r = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, min = 0x10000, r = c & 0x07;
        } else {
            return 0;
        }
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            r = (r << 6) | (p[i] & 0x3f);
        }
        if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

#endif
