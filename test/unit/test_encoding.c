/* Unit tests for encoding.c: base64 (RFC 4648 vectors), sha256, hex, generateName, random
 * strings and UUIDs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "mem.h"

/* RFC 4648 section 10 test vectors */
static const struct {
    const char *plain, *std, *url;
} RFC4648[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

static void base64_rfc4648_vectors_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(RFC4648); i++) {
        size_t n = strlen(RFC4648[i].plain);
        CK_AUTOFREE char *std = ck_base64_encode(RFC4648[i].plain, n);
        assert_string_equal(std, RFC4648[i].std);
        CK_AUTOFREE char *url = ck_base64url_encode(RFC4648[i].plain, n);
        assert_string_equal(url, RFC4648[i].url);
        /* both forms decode back: padded standard and unpadded URL-safe */
        const char *forms[] = {RFC4648[i].std, RFC4648[i].url};
        for (size_t f = 0; f < 2; f++) {
            uint8_t *out = NULL;
            size_t out_len = 99;
            int rc = f == 0 ? ck_base64_decode(forms[f], strlen(forms[f]), &out, &out_len)
                            : ck_base64url_decode(forms[f], strlen(forms[f]), &out, &out_len);
            assert_int_equal(rc, 0);
            assert_int_equal(out_len, n);
            assert_memory_equal(out, RFC4648[i].plain, n);
            assert_int_equal(out[n], 0); /* NUL-terminated for convenience */
            free(out);
        }
    }
}

static void base64_alphabets_differ_on_62_and_63(void **state)
{
    (void)state;
    static const uint8_t bin[] = {0xfb, 0xff, 0xbf, 0x00, 0x10};
    CK_AUTOFREE char *std = ck_base64_encode(bin, sizeof(bin));
    CK_AUTOFREE char *url = ck_base64url_encode(bin, sizeof(bin));
    assert_string_equal(std, "+/+/ABA=");
    assert_string_equal(url, "-_-_ABA");
    uint8_t *out;
    size_t n;
    assert_int_equal(ck_base64url_decode(url, strlen(url), &out, &n), 0);
    assert_int_equal(n, sizeof(bin));
    assert_memory_equal(out, bin, sizeof(bin));
    free(out);
    /* embedded NUL bytes survive */
    assert_int_equal(ck_base64_decode("AAEA", 4, &out, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\0\1\0", 3);
    free(out);
    /* out_len may be NULL */
    assert_int_equal(ck_base64_decode("Zm9v", 4, &out, NULL), 0);
    assert_string_equal((char *)out, "foo");
    free(out);
}

/* Go's base64.StdEncoding and RawURLEncoding DecodeString on tricky input, each row checked
 * against Go 1.19: the offset of "illegal base64 data at input byte N" (upstream's message for
 * bad Secret data), or, when accepted (-1), the bytes decoded as hex. */
static const struct {
    const char *in;
    long std, url;                 /* error offset, or -1 when accepted */
    const char *std_hex, *url_hex; /* decoded bytes when accepted */
} GO_DECODE[] = {
    /* a lone '=' ending "xx=": the error is at len(input), not at the quantum */
    {"Zg=", 3, 2, NULL, NULL},
    {"Zg=\n", 4, 2, NULL, NULL},
    {"Zm9vZg=\r\n", 9, 6, NULL, NULL},
    /* "xx=" followed by something else: Go reports the byte before the offender */
    {"Zg=x", 2, 2, NULL, NULL},
    {"Zg=\nx", 3, 2, NULL, NULL},
    /* padding too early: at the '=' */
    {"====", 0, 0, NULL, NULL},
    {"Z===", 1, 1, NULL, NULL},
    {"=Zg=", 0, 0, NULL, NULL},
    {"Zm9v=Zg=", 4, 4, NULL, NULL},
    /* trailing garbage after complete padding: at the first non-newline after it */
    {"Zg===", 4, 2, NULL, NULL},
    {"Zg==Zg==", 4, 2, NULL, NULL},
    {"Zm9=\n\nA", 6, 3, NULL, NULL},
    /* a short final quantum: len(input) minus the alphabet characters read (newlines inside
     * the quantum do not count) */
    {"Z", 0, 0, NULL, NULL},
    {"Zm9vY", 4, 4, NULL, NULL},
    {"Zg", 0, -1, NULL, "66"},
    {"Z\nm", 1, -1, NULL, "66"},
    {"Zm9\n", 1, -1, NULL, "666f"},
    {"Zm9v\nZ\n", 6, 6, NULL, NULL},
    {"Zm9vYmFy\n\nYg\n", 11, -1, NULL, "666f6f62617262"},
    /* characters outside the alphabet, at their byte (UTF-8 counts in bytes) */
    {"Zm9v!A==", 4, 4, NULL, NULL},
    {"Zm 9v", 2, 2, NULL, NULL},
    {"-_-_", 0, -1, NULL, "fbffbf"},
    {"Zm9\xc3\xa9", 3, 3, NULL, NULL},
    /* accepted: newlines anywhere, even between the two '=' */
    {"Zg==\n\r", -1, 2, "66", NULL},
    {"Zg\n=\n=\n", -1, 3, "66", NULL},
    {"\n\n", -1, -1, "", ""},
    {"", -1, -1, "", ""},
    {"Zh==", -1, 2, "66", NULL}, /* stray low bits are ignored (not strict) */
};

static void base64_decode_errors_match_go(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(GO_DECODE); i++) {
        for (int f = 0; f < 2; f++) {
            const char *in = GO_DECODE[i].in;
            long want = f == 0 ? GO_DECODE[i].std : GO_DECODE[i].url;
            const char *want_hex = f == 0 ? GO_DECODE[i].std_hex : GO_DECODE[i].url_hex;
            uint8_t *out = (uint8_t *)"untouched";
            size_t n = 99;
            int rc = f == 0 ? ck_base64_decode(in, strlen(in), &out, &n)
                            : ck_base64url_decode(in, strlen(in), &out, &n);
            if (want >= 0) {
                if (rc != -EINVAL)
                    fail_msg("%s %s: accepted, want error at %ld", f ? "url" : "std", in, want);
                assert_string_equal((char *)out, "untouched"); /* nothing allocated */
                if ((long)n != want)
                    fail_msg("%s %s: error at %zu, want %ld", f ? "url" : "std", in, n, want);
                continue;
            }
            if (rc != 0)
                fail_msg("%s %s: rejected at %zu, Go accepts it", f ? "url" : "std", in, n);
            CK_AUTOFREE char *hex = ck_hex_encode(out, n);
            assert_string_equal(hex, want_hex);
            assert_int_equal(out[n], 0); /* NUL-terminated for convenience */
            free(out);
        }
    }
}

/* Only len bytes are read, and an error offset is optional. */
static void base64_decode_reads_only_len_bytes(void **state)
{
    (void)state;
    uint8_t *out;
    size_t n;
    assert_int_equal(ck_base64_decode("Zm9v!!!", 4, &out, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "foo", 3);
    free(out);
    assert_int_equal(ck_base64_decode("Zg=", 3, &out, NULL), -EINVAL);
    assert_int_equal(ck_base64_decode("Zm9v\r\nYmFy\n", 11, &out, &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "foobar", 6);
    free(out);
}

static void sha256_and_hex_vectors(void **state)
{
    (void)state;
    /* FIPS 180-2 example and the empty message */
    CK_AUTOFREE char *abc = ck_sha256_hex("abc", 3);
    assert_string_equal(abc, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CK_AUTOFREE char *empty = ck_sha256_hex("", 0);
    assert_string_equal(empty, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    uint8_t d[32];
    ck_sha256("abc", 3, d);
    assert_int_equal(d[0], 0xba);
    assert_int_equal(d[31], 0xad);
    CK_AUTOFREE char *hex = ck_hex_encode("\x00\x0f\xf0\xff", 4);
    assert_string_equal(hex, "000ff0ff");
    CK_AUTOFREE char *none = ck_hex_encode("", 0);
    assert_string_equal(none, "");
}

static int in_alphabet(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(CK_RAND_ALPHABET, s[i]))
            return 0;
    return 1;
}

static void generate_name_follows_upstream_lengths(void **state)
{
    (void)state;
    /* a 70-character base is cut to 58 (63 - 5) before the 5-character suffix */
    char base[71];
    for (int i = 0; i < 70; i++)
        base[i] = (char)('a' + i % 26);
    base[70] = '\0';
    CK_AUTOFREE char *long_name = ck_generate_name(base);
    assert_int_equal(strlen(long_name), 63);
    assert_memory_equal(long_name, base, 58);
    assert_true(in_alphabet(long_name + 58, 5));

    CK_AUTOFREE char *web = ck_generate_name("web-");
    assert_int_equal(strlen(web), 9);
    assert_memory_equal(web, "web-", 4);
    assert_true(in_alphabet(web + 4, 5));

    base[58] = '\0'; /* exactly 58: kept whole */
    CK_AUTOFREE char *exact = ck_generate_name(base);
    assert_int_equal(strlen(exact), 63);
    assert_memory_equal(exact, base, 58);

    CK_AUTOFREE char *bare = ck_generate_name("");
    assert_int_equal(strlen(bare), 5);
    assert_true(in_alphabet(bare, 5));
}

static void random_strings_use_the_upstream_alphabet(void **state)
{
    (void)state;
    assert_string_equal(CK_RAND_ALPHABET, "bcdfghjklmnpqrstvwxz2456789");
    char s[1001];
    ck_rand_string(s, 1000);
    assert_int_equal(strlen(s), 1000);
    assert_true(in_alphabet(s, 1000));
    /* no vowels or look-alikes ever (a, e, i, o, u, y, 0, 1, 3) */
    assert_null(strpbrk(s, "aeiouy013"));
    /* every letter of the alphabet shows up in 1000 draws (chance of a miss ~ 1e-15) */
    for (const char *c = CK_RAND_ALPHABET; *c; c++)
        assert_non_null(strchr(s, *c));
    char t[17], u[17];
    ck_rand_string(t, 16);
    ck_rand_string(u, 16);
    assert_string_not_equal(t, u);
    char empty[1] = {'x'};
    ck_rand_string(empty, 0);
    assert_int_equal(empty[0], '\0');
}

static void uuid4_has_rfc4122_shape(void **state)
{
    (void)state;
    char a[37], b[37];
    ck_uuid4(a);
    ck_uuid4(b);
    assert_string_not_equal(a, b);
    for (int k = 0; k < 50; k++) {
        char u[37];
        ck_uuid4(u);
        assert_int_equal(strlen(u), 36);
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                assert_int_equal(u[i], '-');
            else
                assert_non_null(strchr("0123456789abcdef", u[i]));
        }
        assert_int_equal(u[14], '4');           /* version 4 */
        assert_non_null(strchr("89ab", u[19])); /* RFC 4122 variant */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base64_rfc4648_vectors_round_trip),
        cmocka_unit_test(base64_alphabets_differ_on_62_and_63),
        cmocka_unit_test(base64_decode_errors_match_go),
        cmocka_unit_test(base64_decode_reads_only_len_bytes),
        cmocka_unit_test(sha256_and_hex_vectors),
        cmocka_unit_test(generate_name_follows_upstream_lengths),
        cmocka_unit_test(random_strings_use_the_upstream_alphabet),
        cmocka_unit_test(uuid4_has_rfc4122_shape),
    };
    return cmocka_run_group_tests_name("encoding", tests, NULL, NULL);
}
