/* timeutil.h - Kubernetes time formats, clocks and Go-style durations.
 *
 *  - metav1.Time:      "2026-11-22T14:00:00Z"         (RFC 3339, UTC, whole seconds)
 *  - metav1.MicroTime: "2026-11-22T14:00:00.123456Z"  (exactly 6 fraction digits)
 *  - Go time.ParseDuration / Duration.String: "1h2m3.5s", "300ms", "-2s"
 *  - upstream's HumanDuration / ShortHumanDuration (k8s.io/apimachinery/pkg/util/duration),
 *    the AGE column of kubectl.
 *
 * Instants are struct timespec in UTC Unix time (tv_nsec in [0, 1e9)); durations are int64
 * nanoseconds, like Go's time.Duration. Output goes into caller-provided fixed-size arrays;
 * parse errors fill an optional struct ck_error (400 BadRequest) with Go's own wording, since
 * upstream passes those messages through to clients. Nothing here keeps state: all functions
 * are thread-safe.
 */
#ifndef CK_TIMEUTIL_H
#define CK_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

#include "error.h"

#define CK_TIME_BUFSZ 32     /* "2026-11-22T14:00:00.123456Z" + NUL, with room */
#define CK_DURATION_BUFSZ 40 /* any int64 duration: "-2562047h47m16.854775808s" + NUL */
#define CK_HUMAN_BUFSZ 32    /* "<invalid>", "2y34d", "292y" ... */

#define CK_NSEC_PER_SEC INT64_C(1000000000)
#define CK_SECOND CK_NSEC_PER_SEC
#define CK_MINUTE (60 * CK_SECOND)
#define CK_HOUR (60 * CK_MINUTE)

/* ---- metav1.Time / metav1.MicroTime ---- */

/* Formats t as metav1.Time does (UTC, the fraction dropped, not rounded). Returns 0, -EINVAL
 * for a NULL t or tv_nsec outside [0, 1e9), -ERANGE for years outside 0000..9999. */
int ck_time_format(const struct timespec *t, char out[CK_TIME_BUFSZ]);
/* Formats t as metav1.MicroTime does (microseconds, truncated). Same returns. */
int ck_microtime_format(const struct timespec *t, char out[CK_TIME_BUFSZ]);

/* Parses as upstream's metav1.Time does (Go's time.Parse with time.RFC3339): numeric offsets
 * ("+01:00", up to +24:60 as Go accepts), 'Z' (uppercase only), an optional fraction after the
 * seconds with '.' or ',' and any number of digits (beyond 9 ignored), a one- or two-digit
 * hour; ranges and day-of-month are checked, leap seconds (":60") are not accepted. The result
 * is converted to UTC. Returns 0, or -EINVAL with err set to Go's message, e.g.
 *   parsing time "2026-13-01T00:00:00Z": month out of range
 *   parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"   */
int ck_time_parse(const char *s, struct timespec *out, struct ck_error *err);
/* Parses as upstream's metav1.MicroTime does (layout "2006-01-02T15:04:05.000000Z07:00"): the
 * fraction must be present with exactly 6 digits. Same returns. */
int ck_microtime_parse(const char *s, struct timespec *out, struct ck_error *err);

/* ---- clocks ---- */

/* Wall-clock now (CLOCK_REALTIME). */
void ck_time_now(struct timespec *out);
/* Monotonic nanoseconds (CLOCK_MONOTONIC), for measuring intervals and timeouts. */
int64_t ck_mono_ns(void);
/* metav1.Now() / metav1.NowMicro() as text. */
void ck_time_now_string(char out[CK_TIME_BUFSZ]);
void ck_microtime_now_string(char out[CK_TIME_BUFSZ]);
/* a - b in nanoseconds, saturated to the int64 range. */
int64_t ck_time_sub_ns(const struct timespec *a, const struct timespec *b);

/* ---- durations ---- */

/* Go's time.ParseDuration: a sign, then one or more decimal numbers with optional fraction
 * and a unit (ns, us, µs, μs, ms, s, m, h): "5m30s", "1.5h", "-2s", ".5s". "0" alone needs no
 * unit. Returns 0 and *ns, or -EINVAL with err set to Go's message:
 *   time: invalid duration "x"
 *   time: missing unit in duration "5"
 *   time: unknown unit "d" in duration "5d"
 * (overflow beyond int64 is "invalid duration", as Go). */
int ck_duration_parse(const char *s, int64_t *ns, struct ck_error *err);
/* Go's Duration.String: "1h0m0s", "5m30s", "1.5s", "300ms", "1.5µs", "7ns", "0s", "-2s". */
void ck_duration_format(int64_t ns, char out[CK_DURATION_BUFSZ]);

/* Upstream's HumanDuration (~2-3 significant figures): "119s", "3m10s", "10m", "3h1m", "47h",
 * "2d1h", "8d", "729d", "2y1d", "8y"; "0s" for slightly negative (> -2s) values, "<invalid>"
 * from -2s down. */
void ck_human_duration(int64_t ns, char out[CK_HUMAN_BUFSZ]);
/* Upstream's ShortHumanDuration (one unit): "59s", "1m", "23h", "364d", "1y". */
void ck_short_human_duration(int64_t ns, char out[CK_HUMAN_BUFSZ]);
/* kubectl's AGE column: HumanDuration(now - timestamp), "<unknown>" when the timestamp is
 * NULL, empty or not RFC 3339. now NULL means the current time. */
void ck_human_age(const char *timestamp, const struct timespec *now, char out[CK_HUMAN_BUFSZ]);

#endif
