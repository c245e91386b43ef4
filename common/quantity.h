/* quantity.h - resource quantities as upstream's resource.Quantity
 * (k8s.io/apimachinery/pkg/api/resource): "500m", "1Gi", "1.5", "1e3", "129M", ...
 *
 * A struct ck_quantity is a plain value (copy it with `=`, nothing to free). It holds an
 * exact decimal: sign * mag * 10^scale, with a 320-bit magnitude (up to 96 significant
 * digits), so every value upstream keeps exactly in an int64 or in an inf.Dec of
 * reasonable size is exact here too. Parsing follows upstream's scanner and rules:
 *   - suffixes n u m "" k M G T P E (DecimalSI), Ki Mi Gi Ti Pi Ei (BinarySI), e<N>/E<N>
 *     (DecimalExponent, N a signed integer);
 *   - values finer than 1n are rounded away from zero to the next nano ("0.9n" -> 1n);
 *   - BinarySI values are capped, silently, at 2^63-1 ("9Ei"), and a BinarySI value
 *     strictly between 0 and 1 becomes DecimalSI;
 *   - like upstream, the scanner is more lenient than its error message's regex:
 *     "Gi", "m", ".", "-" and "+" all parse as 0.
 * Errors carry upstream's messages:
 *   quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'
 *   unable to parse quantity's suffix
 *   unable to parse numeric part of quantity   (also: more digits than we can hold)
 *
 * Formatting is upstream's String(): the parsed format is kept; the canonical form has
 * no fraction, the largest suffix that loses nothing, and "0" for zero. BinarySI values
 * in (-1024, 1024) or with a fraction print as DecimalSI; DecimalSI exponents beyond "E"
 * print as e<N>. Like upstream, a parsed string that already looks canonical (for
 * instance "+1", "1.500" or "1E3") is remembered and printed back verbatim until the
 * value changes.
 */
#ifndef CK_QUANTITY_H
#define CK_QUANTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"

/* Upstream's resource.Format. A zero-initialised quantity has the first one, which
 * behaves like upstream's empty Format (printed as DecimalExponent). */
enum ck_quantity_format {
    CK_QUANTITY_DECIMAL_EXPONENT = 0, /* 12e6 */
    CK_QUANTITY_BINARY_SI,            /* 12Mi = 12 * 2^20 */
    CK_QUANTITY_DECIMAL_SI,           /* 12M  = 12 * 10^6 */
};

#define CK_QUANTITY_LIMBS 10      /* 32-bit words of magnitude: 320 bits */
#define CK_QUANTITY_CACHE_SIZE 32 /* longest remembered input, with its NUL */
#define CK_QUANTITY_STR_MAX 128   /* a buffer this big always holds a formatted quantity */

/* Upstream's named scales (powers of ten). */
#define CK_SCALE_NANO (-9)
#define CK_SCALE_MICRO (-6)
#define CK_SCALE_MILLI (-3)
#define CK_SCALE_KILO 3
#define CK_SCALE_MEGA 6
#define CK_SCALE_GIGA 9

/* Treat the fields as private: use the functions below. All-zero bytes is a valid 0. */
struct ck_quantity {
    uint32_t mag[CK_QUANTITY_LIMBS]; /* magnitude, least significant word first */
    int32_t scale;                   /* value = (negative ? -1 : 1) * mag * 10^scale */
    bool negative;                   /* never set for zero */
    enum ck_quantity_format format;
    char cached[CK_QUANTITY_CACHE_SIZE]; /* input kept verbatim as upstream does, or "" */
};

/* Parses `s` (NUL-terminated, no surrounding whitespace allowed) into *out. Returns 0,
 * -EINVAL for a malformed quantity or -ERANGE for one with more digits than we hold
 * (err: 400 BadRequest with upstream's message). *out is untouched on error. */
int ck_quantity_parse(const char *s, struct ck_quantity *out, struct ck_error *err);

/* Upstream's UnmarshalJSON: a JSON string (surrounding whitespace trimmed) is parsed; a
 * JSON number is parsed from its shortest decimal spelling (so `cpu: 1` or `0.5` work);
 * NULL or JSON null gives the zero Quantity{}; anything else is the format error. */
int ck_quantity_parse_json(const cJSON *v, struct ck_quantity *out, struct ck_error *err);

/* Upstream's String(): writes the canonical form into buf (NUL-terminated). Returns 0,
 * or -ENOSPC when size is too small (CK_QUANTITY_STR_MAX always suffices). */
int ck_quantity_format(const struct ck_quantity *q, char *buf, size_t size);
/* The same as a new string; the caller frees it. */
char *ck_quantity_to_string(const struct ck_quantity *q);
/* The JSON form (a string node); the caller owns it. */
cJSON *ck_quantity_to_json(const struct ck_quantity *q);

/* Constructors, as upstream's NewQuantity / NewMilliQuantity / NewScaledQuantity (the
 * last one takes a format here; upstream's always uses DecimalSI). */
struct ck_quantity ck_quantity_from_int64(int64_t value, enum ck_quantity_format format);
struct ck_quantity ck_quantity_from_milli(int64_t milli, enum ck_quantity_format format);
struct ck_quantity ck_quantity_from_scaled(int64_t value, int32_t scale,
                                           enum ck_quantity_format format);

/* -1, 0 or 1 as a < b, a == b, a > b (exact, whatever the scales). */
int ck_quantity_cmp(const struct ck_quantity *a, const struct ck_quantity *b);
int ck_quantity_cmp_int64(const struct ck_quantity *a, int64_t b);
/* -1, 0 or 1. */
int ck_quantity_sign(const struct ck_quantity *q);
bool ck_quantity_is_zero(const struct ck_quantity *q);

/* q += y / q -= y, exact. As upstream, a zero q takes y's format first. Returns 0, or
 * -ERANGE (q unchanged) when the exact result needs more than 96 significant digits. */
int ck_quantity_add(struct ck_quantity *q, const struct ck_quantity *y);
int ck_quantity_sub(struct ck_quantity *q, const struct ck_quantity *y);
/* q *= y exactly; 0 or -ERANGE (q unchanged). */
int ck_quantity_mul(struct ck_quantity *q, int64_t y);
/* q = -q (the format is kept). */
void ck_quantity_neg(struct ck_quantity *q);

/* Upstream's RoundUp: rounds q away from zero to a multiple of 10^scale; returns true
 * when nothing was lost. */
bool ck_quantity_round_up(struct ck_quantity *q, int32_t scale);

/* Upstream's ScaledValue: q / 10^scale rounded away from zero. Returns 0, or -ERANGE
 * when the result does not fit an int64 (upstream overflows silently). */
int ck_quantity_scaled_value(const struct ck_quantity *q, int32_t scale, int64_t *out);
/* Upstream's Value() and MilliValue(), saturated at INT64_MIN/INT64_MAX on overflow. */
int64_t ck_quantity_value(const struct ck_quantity *q);
int64_t ck_quantity_milli_value(const struct ck_quantity *q);
/* Upstream's AsApproximateFloat64 (may lose precision; +-Inf when out of range). */
double ck_quantity_as_float64(const struct ck_quantity *q);

/* "DecimalExponent", "BinarySI" or "DecimalSI". */
const char *ck_quantity_format_name(enum ck_quantity_format format);

#endif
