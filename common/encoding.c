/* encoding.c - base64, sha256, hex and random names (see encoding.h). */
#include "encoding.h"
#include "mem.h"

#include <errno.h>
#include <stdbool.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static const char STD_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode(const uint8_t *in, size_t len, const char *alphabet, int pad)
{
    char *out = ck_xmalloc((len + 2) / 3 * 4 + 1);
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        if (i + 1 < len)
            out[o++] = alphabet[v >> 6 & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

char *ck_base64_encode(const void *data, size_t len)
{
    return b64_encode(data, len, STD_ALPHABET, 1);
}

char *ck_base64url_encode(const void *data, size_t len)
{
    return b64_encode(data, len, URL_ALPHABET, 0);
}

/* 1 + the value of each letter and digit (shared by both alphabets); 0 for anything else */
static const uint8_t B64_ALNUM[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62,
};

static int b64_value(char c, bool url)
{
    int v = B64_ALNUM[(unsigned char)c];
    if (v)
        return v - 1;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

static size_t skip_newlines(const char *s, size_t len, size_t si)
{
    while (si < len && (s[si] == '\r' || s[si] == '\n'))
        si++;
    return si;
}

/* One quantum of up to 4 alphabet characters starting at *si, with Go's rules and offsets:
 * '\r' and '\n' are skipped anywhere; input ending after 1 character (or, when `padded`,
 * after 2 or 3) is an error at len minus the characters read; '=' after 0 or 1 characters is
 * an error at the '='; "xx=" must be followed (newlines aside) by a second '=', the error being
 * at len when the input ends and at the character before the offending one otherwise; after
 * padding only newlines may follow (error at the first other character). Appends the bytes to
 * buf at *o; returns 1 when the input is finished, 0 to go on, or -EINVAL with *bad set. */
static int b64_quantum(const char *s, size_t len, size_t *si, bool url, bool padded, uint8_t *buf,
                       size_t *o, size_t *bad)
{
    uint32_t acc = 0;
    int j = 0, fin = 0;
    size_t i = *si;
    while (j < 4) {
        i = skip_newlines(s, len, i);
        if (i == len) {
            if (j == 0) {
                *si = i;
                return 1;
            }
            if (j == 1 || padded) {
                *bad = len - (size_t)j;
                return -EINVAL;
            }
            fin = 1;
            break;
        }
        char c = s[i++];
        int v = b64_value(c, url);
        if (v >= 0) {
            acc = acc << 6 | (uint32_t)v;
            j++;
            continue;
        }
        if (c != '=' || !padded || j < 2) {
            *bad = i - 1;
            return -EINVAL;
        }
        if (j == 2) { /* the second '=' */
            i = skip_newlines(s, len, i);
            if (i == len) {
                *bad = len;
                return -EINVAL;
            }
            if (s[i] != '=') {
                *bad = i - 1;
                return -EINVAL;
            }
            i++;
        }
        i = skip_newlines(s, len, i);
        if (i < len) {
            *bad = i; /* data after the padding */
            return -EINVAL;
        }
        fin = 1;
        break;
    }
    acc <<= 6 * (4 - j); /* stray low bits are ignored, as Go's non-strict encodings do */
    buf[(*o)++] = (uint8_t)(acc >> 16);
    if (j >= 3)
        buf[(*o)++] = (uint8_t)(acc >> 8);
    if (j == 4)
        buf[(*o)++] = (uint8_t)acc;
    *si = i;
    return fin;
}

/* Go's Decode, quantum by quantum: with `padded` (StdEncoding) a partial final quantum must
 * be completed by '='; without (RawURLEncoding) any '=' is an illegal character. */
static int b64_decode(const char *s, size_t len, bool url, bool padded, uint8_t **out,
                      size_t *out_len)
{
    uint8_t *buf = ck_xmalloc(len / 4 * 3 + 4);
    size_t o = 0, si = 0, bad = 0;
    int rc = 0;
    while (rc == 0) {
        /* four plain alphabet characters make three bytes; anything else (newlines, padding,
         * the end, errors) goes through b64_quantum from the same place, as Go's fast path */
        while (si + 4 <= len) {
            int a = b64_value(s[si], url), b = b64_value(s[si + 1], url),
                c = b64_value(s[si + 2], url), d = b64_value(s[si + 3], url);
            if ((a | b | c | d) < 0)
                break;
            uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
            buf[o++] = (uint8_t)(v >> 16);
            buf[o++] = (uint8_t)(v >> 8);
            buf[o++] = (uint8_t)v;
            si += 4;
        }
        rc = b64_quantum(s, len, &si, url, padded, buf, &o, &bad);
    }
    if (rc < 0) {
        free(buf);
        if (out_len)
            *out_len = bad;
        return -EINVAL;
    }
    buf[o] = 0;
    *out = buf;
    if (out_len)
        *out_len = o;
    return 0;
}

int ck_base64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
    return b64_decode(s, len, false, true, out, out_len);
}

int ck_base64url_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
    return b64_decode(s, len, true, false, out, out_len);
}

void ck_sha256(const void *data, size_t len, uint8_t digest[32])
{
    SHA256(data, len, digest);
}

char *ck_hex_encode(const void *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = data;
    char *out = ck_xmalloc(len * 2 + 1);
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[len * 2] = '\0';
    return out;
}

char *ck_sha256_hex(const void *data, size_t len)
{
    uint8_t d[32];
    ck_sha256(data, len, d);
    return ck_hex_encode(d, sizeof(d));
}

void ck_rand_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            abort(); /* the kernel's random source is gone: nothing sane to do */
        }
        p += r;
        n -= (size_t)r;
    }
}

void ck_rand_string(char *dst, size_t n)
{
    const size_t alen = sizeof(CK_RAND_ALPHABET) - 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t b;
        do
            ck_rand_bytes(&b, 1);
        while (b >= 256 - 256 % alen); /* reject to keep the distribution uniform */
        dst[i] = CK_RAND_ALPHABET[b % alen];
    }
    dst[n] = '\0';
}

char *ck_generate_name(const char *base)
{
    char suffix[6];
    ck_rand_string(suffix, 5);
    size_t blen = strlen(base);
    if (blen > 58)
        blen = 58;
    return ck_xasprintf("%.*s%s", (int)blen, base, suffix);
}

void ck_uuid4(char out[37])
{
    uint8_t u[16];
    ck_rand_bytes(u, sizeof(u));
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
}
