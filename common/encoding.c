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

static int b64_value(char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
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

/* Go's decoder, quantum by quantum: with `padded`, a partial final quantum must be completed
 * by '=' (and nothing but newlines may follow); without, padding is an error. Stray bits
 * after the last byte are ignored, as Go's non-strict encodings do. */
static int b64_decode(const char *s, size_t len, bool url, bool padded, uint8_t **out,
                      size_t *out_len)
{
    uint8_t *buf = ck_xmalloc(len / 4 * 3 + 4);
    size_t o = 0, si = 0, bad = (size_t)-1;
    bool done = false;
    while (!done) {
        uint32_t acc = 0;
        int j = 0;
        size_t qstart = si = skip_newlines(s, len, si);
        if (si == len)
            break; /* clean end between quanta */
        bool pad = false;
        while (j < 4) {
            si = skip_newlines(s, len, si);
            if (si == len)
                break;
            char c = s[si];
            if (c == '=' && padded && j >= 2) {
                pad = true;
                break;
            }
            int v = b64_value(c, url);
            if (v < 0) {
                bad = si;
                break;
            }
            acc = acc << 6 | (uint32_t)v;
            j++;
            si++;
        }
        if (bad != (size_t)-1)
            break;
        if (j < 4) {
            if (pad) {
                /* "xx==" needs a second '='; then only newlines may follow */
                si++;
                if (j == 2) {
                    si = skip_newlines(s, len, si);
                    if (si == len || s[si] != '=') {
                        bad = si == len ? qstart : si;
                        break;
                    }
                    si++;
                }
                si = skip_newlines(s, len, si);
                if (si < len) {
                    bad = si;
                    break;
                }
            } else if (padded || j == 1) {
                bad = qstart; /* input ended inside a quantum */
                break;
            }
            done = true;
        }
        acc <<= 6 * (4 - j);
        buf[o++] = (uint8_t)(acc >> 16);
        if (j >= 3)
            buf[o++] = (uint8_t)(acc >> 8);
        if (j == 4)
            buf[o++] = (uint8_t)acc;
    }
    if (bad != (size_t)-1) {
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
