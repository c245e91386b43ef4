/* intstr.h - upstream's intstr.IntOrString (k8s.io/apimachinery/pkg/util/intstr): a field
 * that holds either an int32 or a string, such as a Service targetPort ("http" or 8080)
 * or a Deployment's maxSurge / maxUnavailable ("25%" or 1).
 *
 * A struct ck_intstr owns its string: release it with ck_intstr_clear (a no-op for ints
 * and for CK_INTSTR_INIT). Percent arithmetic follows upstream's
 * GetScaledValueFromIntOrPercent, including its error messages, e.g.
 *   invalid value for IntOrString: invalid type: string is not a percentage
 *   invalid value for IntOrString: invalid value "abc%": strconv.Atoi: parsing "abc": invalid
 * syntax
 */
#ifndef CK_INTSTR_H
#define CK_INTSTR_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"

enum ck_intstr_type {
    CK_INTSTR_INT = 0,    /* int_val holds the value */
    CK_INTSTR_STRING = 1, /* str_val holds the value */
};

struct ck_intstr {
    enum ck_intstr_type type;
    int32_t int_val;
    char *str_val; /* owned; NULL (read as "") for an int */
};

#define CK_INTSTR_INIT                                                                             \
    {                                                                                              \
        CK_INTSTR_INT, 0, NULL                                                                     \
    }

/* The default upstream's defaulting gives Deployment rollingUpdate.maxSurge and
 * maxUnavailable when unset. */
#define CK_INTSTR_ROLLING_UPDATE_DEFAULT "25%"

/* Upstream's FromInt32. */
struct ck_intstr ck_intstr_from_int(int32_t v);
/* Upstream's FromString: copies s (NULL reads as ""); free with ck_intstr_clear. */
struct ck_intstr ck_intstr_from_string(const char *s);
/* Upstream's Parse: an int when strconv.Atoi accepts s (truncated to int32 as upstream
 * does), else the string. Free with ck_intstr_clear. */
struct ck_intstr ck_intstr_parse(const char *s);
/* A borrowed, static "25%" string value (CK_INTSTR_ROLLING_UPDATE_DEFAULT); never clear it. */
const struct ck_intstr *ck_intstr_rolling_update_default(void);

/* Frees the string and resets v to int 0. */
void ck_intstr_clear(struct ck_intstr *v);
/* Deep copy; dst is overwritten (not freed first) and must be cleared later. */
void ck_intstr_copy(struct ck_intstr *dst, const struct ck_intstr *src);
/* True when both hold the same type and value. */
bool ck_intstr_equal(const struct ck_intstr *a, const struct ck_intstr *b);

/* Upstream's UnmarshalJSON: a JSON string gives a string; a whole number in int32 range an
 * int; NULL or JSON null int 0 (a non-pointer field's behaviour). Other values fail with
 * -EINVAL and Go's message ("json: cannot unmarshal bool into Go value of type int32").
 * On success *out is owned by the caller (ck_intstr_clear); on error it is left alone. */
int ck_intstr_from_json(const cJSON *v, struct ck_intstr *out, struct ck_error *err);
/* A number or string node; the caller owns it. */
cJSON *ck_intstr_to_json(const struct ck_intstr *v);
/* Upstream's String(): the string, or the decimal int; the caller frees it. */
char *ck_intstr_to_string(const struct ck_intstr *v);
/* Upstream's IntValue(): the int, or strconv.Atoi of the string (0 when not a number,
 * clamped to the int64 range when too large). */
int64_t ck_intstr_int_value(const struct ck_intstr *v);

/* Upstream's ValueOrDefault: v when non-NULL, else def (both borrowed). */
const struct ck_intstr *ck_intstr_value_or_default(const struct ck_intstr *v,
                                                   const struct ck_intstr *def);

/* Upstream's GetScaledValueFromIntOrPercent: an int is returned as is; "N%" gives
 * N * total / 100 rounded up (round_up) or down. A NULL v, a string without '%' or a bad
 * number fail with -EINVAL and upstream's message (400 BadRequest in err). */
int ck_intstr_scaled_value(const struct ck_intstr *v, int64_t total, bool round_up, int64_t *out,
                           struct ck_error *err);

/* Upstream's validation IsValidPercent: matches ^[0-9]+%$. */
bool ck_intstr_is_valid_percent(const char *s);

/* Upstream's deployment ResolveFenceposts: maxSurge rounds up, maxUnavailable down (NULL
 * means 0), and when both resolve to 0 maxUnavailable becomes 1. */
int ck_intstr_resolve_fenceposts(const struct ck_intstr *max_surge,
                                 const struct ck_intstr *max_unavailable, int32_t desired,
                                 int32_t *surge, int32_t *unavailable, struct ck_error *err);

#endif
