/* fuzz_base64.c - ck_base64_decode and ck_base64url_decode (common/encoding) on any bytes, as
 * Secret data, a continue token or a JWT segment arrives.
 *
 * Properties: never a crash, leak or out-of-bounds read (the input is not NUL-terminated);
 * a failure leaves *out alone; decoded output is NUL-terminated with the reported length;
 * encoding the input bytes and decoding that gives the bytes back, for both alphabets. */
#include "encoding.h"
#include "fuzz.h"

typedef int (*decode_fn)(const char *, size_t, uint8_t **, size_t *);
typedef char *(*encode_fn)(const void *, size_t);

static void check(decode_fn decode, encode_fn encode, const uint8_t *data, size_t size)
{
    /* the exact input, in a heap block of its own so any over-read is caught */
    char *in = malloc(size ? size : 1);
    if (size)
        memcpy(in, data, size);
    uint8_t *out = (uint8_t *)"untouched";
    size_t len = 0;
    if (decode(in, size, &out, &len) < 0) {
        FUZZ_CHECK(strcmp((char *)out, "untouched") == 0, "failed decode changed *out");
        FUZZ_CHECK(len <= size, "error offset %zu past the input (%zu)", len, size);
    } else {
        FUZZ_CHECK(out[len] == 0, "decoded output not NUL-terminated");
        FUZZ_CHECK(len <= size, "decoded output longer than the input");
        free(out);
    }
    free(in);

    char *enc = encode(data, size);
    FUZZ_CHECK(enc != NULL, "encode failed");
    out = NULL;
    int rc = decode(enc, strlen(enc), &out, &len);
    FUZZ_CHECK(rc == 0 && len == size && (size == 0 || memcmp(out, data, size) == 0),
               "decode(encode(x)) != x for %zu bytes (%s)", size, enc);
    free(out);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(ck_base64_decode, ck_base64_encode, data, size);
    check(ck_base64url_decode, ck_base64url_encode, data, size);
    return 0;
}
