/* fuzz_time.c - ck_duration_parse and ck_time_parse / ck_microtime_parse (common/timeutil) on
 * any string, as a --flag=1m30s, a metav1.Time or a MicroTime field arrives.
 *
 * Properties: never a crash or UB (overflow of digits, units, offsets, years); a failure sets
 * an error; a parsed duration formats (Go's String()) and that text parses back to the same
 * nanoseconds; a parsed time within years 0..9999 formats and parses back to the same
 * second (and microsecond for MicroTime). */
#include <time.h>

#include "error.h"
#include "fuzz.h"
#include "timeutil.h"

static void duration(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    int64_t ns = 0x5a5a;
    if (ck_duration_parse(s, &ns, &err) < 0) {
        FUZZ_CHECK(err.code != 0, "failed parse without an error");
        ck_error_clear(&err);
        return;
    }
    char out[CK_DURATION_BUFSZ], human[CK_HUMAN_BUFSZ];
    ck_duration_format(ns, out);
    int64_t back;
    FUZZ_CHECK(ck_duration_parse(out, &back, &err) == 0 && back == ns,
               "\"%s\" -> %lld ns -> \"%s\" does not read back", s, (long long)ns, out);
    ck_human_duration(ns, human);
    ck_short_human_duration(ns, human);
}

static void instant(const char *s)
{
    struct ck_error err = CK_ERROR_INIT;
    struct timespec t;
    char out[CK_TIME_BUFSZ], human[CK_HUMAN_BUFSZ];
    if (ck_time_parse(s, &t, &err) < 0) {
        FUZZ_CHECK(err.code != 0, "failed parse without an error");
        ck_error_clear(&err);
    } else {
        FUZZ_CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000, "tv_nsec out of range");
        if (ck_time_format(&t, out) == 0) {
            struct timespec back;
            FUZZ_CHECK(ck_time_parse(out, &back, &err) == 0 && back.tv_sec == t.tv_sec &&
                           back.tv_nsec == 0,
                       "\"%s\" -> \"%s\" does not read back", s, out);
        }
        (void)ck_microtime_format(&t, out);
        static const struct timespec now = {1732284000, 0};
        ck_human_age(s, &now, human);
    }
    if (ck_microtime_parse(s, &t, &err) < 0) {
        ck_error_clear(&err);
    } else if (ck_microtime_format(&t, out) == 0) {
        struct timespec back;
        FUZZ_CHECK(ck_microtime_parse(out, &back, &err) == 0 && back.tv_sec == t.tv_sec &&
                       back.tv_nsec == t.tv_nsec / 1000 * 1000,
                   "\"%s\" -> \"%s\" does not read back", s, out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    duration(s);
    instant(s);
    free(s);
    return 0;
}
