/* encoding.h - base64 (standard and URL alphabets), sha256, and random names.
 *
 * All returned strings are NUL-terminated and owned by the caller (free()).
 */
#ifndef CK_ENCODING_H
#define CK_ENCODING_H

#include <stddef.h>
#include <stdint.h>

/* Standard base64 with padding (RFC 4648 §4), as etcd's JSON gateway and Secret data use. */
char *ck_base64_encode(const void *data, size_t len);
/* URL-safe alphabet without padding (RFC 4648 §5), as JWTs use. */
char *ck_base64url_encode(const void *data, size_t len);
/* Decodes as Go's base64.StdEncoding does (what upstream uses for Secret data): standard
 * alphabet, '=' padding required, '\r' and '\n' skipped anywhere, stray bits after the last
 * byte ignored. Returns 0 and sets *out (caller frees; NUL-terminated for convenience,
 * *out_len excludes it), or -EINVAL with *out untouched and *out_len (when given) set to the
 * offset Go reports ("illegal base64 data at input byte N"). */
int ck_base64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len);
/* The same for Go's base64.RawURLEncoding (URL-safe alphabet, no padding), as JWTs and
 * continue tokens use. */
int ck_base64url_decode(const char *s, size_t len, uint8_t **out, size_t *out_len);

/* sha256 of data: raw 32 bytes into digest. */
void ck_sha256(const void *data, size_t len, uint8_t digest[32]);
/* sha256 as 64 lowercase hex characters; caller frees. */
char *ck_sha256_hex(const void *data, size_t len);
/* Lowercase hex of bytes; caller frees. */
char *ck_hex_encode(const void *data, size_t len);

/* The alphabet of upstream's utilrand.String: consonants and digits without look-alikes
 * ("bcdfghjklmnpqrstvwxz2456789"), used for generateName suffixes and pod-template hashes. */
#define CK_RAND_ALPHABET "bcdfghjklmnpqrstvwxz2456789"
/* Writes n random characters from CK_RAND_ALPHABET plus NUL into dst (size >= n+1). */
void ck_rand_string(char *dst, size_t n);
/* generateName: base truncated to 58 characters (63 - 5, as upstream's
 * SimpleNameGenerator) plus a 5-character random suffix; caller frees. */
char *ck_generate_name(const char *base);
/* Fills buf with cryptographically random bytes (getrandom). */
void ck_rand_bytes(void *buf, size_t n);
/* A random RFC 4122 version-4 UUID in its 36-character text form plus NUL. */
void ck_uuid4(char out[37]);

#endif
