/* gostrconv.h - the pieces of Go's standard library whose exact output upstream's messages and
 * formats carry, re-implemented once for every module that must match them byte for byte:
 *   unicode/utf8   decoding (ck_utf8_decode) and encoding (ck_buf_put_utf8);
 *   unicode        IsPrint, approximated (ck_go_is_print);
 *   strconv        Quote / QuoteRune (%q), ParseBool, ParseInt / ParseUint, ParseFloat with
 *                  their NumError texts, FormatFloat(v, 'e'|'f'|'g', -1, 32|64);
 *   encoding/csv   the first record of a string, and one record written back (pflag's
 *                  StringSlice flags read and print their values so).
 *
 * Ownership: the ck_buf_put_* functions and the `msg` out-parameters append to a caller's
 * buffer (msg may be NULL when only the verdict matters); ck_go_csv_read returns an array the
 * caller frees with ck_go_csv_free. No function keeps a pointer to its arguments. No shared
 * state: all functions are thread-safe.
 */
#ifndef CK_GOSTRCONV_H
#define CK_GOSTRCONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- UTF-8 and quoting ---- */

/* Decodes one UTF-8 sequence at s[0..len) as Go does: returns its width (>= 1 when len > 0)
 * and stores the rune, or U+FFFD with width 1 for an invalid or truncated sequence
 * (overlong forms, surrogates and values past U+10FFFF are invalid). */
size_t ck_utf8_decode(const char *s, size_t len, unsigned *rune);
/* Appends the UTF-8 encoding of a rune (at most U+10FFFF). */
void ck_buf_put_utf8(struct ck_buf *b, unsigned rune);
/* unicode.IsPrint: ASCII 0x20..0x7E; for runes >= 0x80 an approximation: everything but C1
 * controls, the non-ASCII spaces, format characters, separators, private use and
 * non-characters. */
bool ck_go_is_print(unsigned rune);
/* Appends `s` quoted the way Go's %q / strconv.Quote does (double quotes; \" \\ \n \t ...
 * escapes; invalid UTF-8 bytes as \xNN; non-printable runes as \uNNNN). NULL reads as "". */
void ck_buf_put_go_quoted(struct ck_buf *b, const char *s);
/* The same for s[0..n), which may hold NUL bytes (written \x00). */
void ck_buf_put_go_quoted_n(struct ck_buf *b, const char *s, size_t n);
/* Appends a rune as strconv.QuoteRune writes it: 'x', '\n', '\'', '\x7f', 'é', '\u0085'. A
 * byte value given as a rune prints as that rune, as Go's %q of a byte does. */
void ck_buf_put_go_quoted_rune(struct ck_buf *b, unsigned rune);

/* ---- strconv: parsing ---- */

enum ck_go_numerr { CK_GO_NUM_OK, CK_GO_NUM_SYNTAX, CK_GO_NUM_RANGE };

/* The value of c as a digit in bases up to 36 (0-9, a-z, A-Z), or 99 for any other byte. */
int ck_go_digit_val(int c);

/* strconv.ParseUint(s[0..n), base, bits): base 0 reads the 0b/0o/0x and leading-0 octal
 * prefixes and allows `_` between digits (underscoreOK); bits 1..64. *out is set on OK. */
enum ck_go_numerr ck_go_parse_uint(const char *s, size_t n, int base, int bits, uint64_t *out);
/* strconv.ParseInt(s[0..n), base, bits): an optional sign, then as ck_go_parse_uint. */
enum ck_go_numerr ck_go_parse_int(const char *s, size_t n, int base, int bits, int64_t *out);
/* strconv.ParseFloat(s[0..n), 64): decimal and hex (0x1p-2) literals, `_` separators,
 * inf/infinity/nan in any case; RANGE beyond float64. *out is set on OK. */
enum ck_go_numerr ck_go_parse_float_n(const char *s, size_t n, double *out);
/* strconv's underscoreOK over s[0..n): `_` only between digits or after a base prefix. */
bool ck_go_underscore_ok(const char *s, size_t n);

/* Appends strconv's NumError text: `strconv.<fn>: parsing "<s>": invalid syntax` (or
 * `value out of range` when range is true). */
void ck_go_num_error(struct ck_buf *msg, const char *fn, const char *s, bool range);
/* strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False. Returns 0, or -EINVAL
 * with the NumError text appended to msg. */
int ck_go_parse_bool(const char *s, bool *out, struct ck_buf *msg);
/* strconv.ParseInt(s, 0, bits): 0, -EINVAL (syntax) or -ERANGE, with the NumError text. */
int ck_go_parse_int_msg(const char *s, int bits, int64_t *out, struct ck_buf *msg);
/* strconv.ParseFloat(s, 64) as ck_go_parse_float_n: 0, -EINVAL or -ERANGE, with the NumError
 * text. */
int ck_go_parse_float(const char *s, double *out, struct ck_buf *msg);

/* ---- strconv: formatting ---- */

/* Room ck_go_format_float needs, NUL included. */
#define CK_GO_FLOAT_BUFSZ 40

/* strconv.FormatFloat(v, fmt, -1, bits): the shortest digits that read back as the same
 * float64 (bits 64) or float32 (bits 32), in fmt 'e' (-1.5e+07, 1e-07), 'f' (15000000,
 * 0.0000001) or 'g' ('e' when the exponent is < -4 or >= 6, else 'f'). NaN, +Inf, -Inf and
 * -0 print as Go prints them. */
void ck_go_format_float(double v, char fmt, int bits, char out[CK_GO_FLOAT_BUFSZ]);

/* ---- encoding/csv ---- */

/* Reads the first record of s as Go's csv.Reader with its defaults (comma separator, no
 * trimming, empty lines skipped, "" escapes inside quoted fields, CRLF read as LF). Returns
 * 0 with *fields (n strings, caller frees with ck_go_csv_free), or -EINVAL with Go's error
 * text ("EOF" for no record, csv.ParseError's text otherwise) appended to msg. */
int ck_go_csv_read(const char *s, char ***fields, size_t *n, struct ck_buf *msg);
void ck_go_csv_free(char **fields, size_t n);
/* Appends fields as one CSV record the way csv.Writer quotes them (no line end). */
void ck_go_csv_write(struct ck_buf *b, const char *const *fields, size_t n);

#endif
