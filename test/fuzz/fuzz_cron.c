/* fuzz_cron.c - ck_cron_parse (common/cron) on any string, as a CronJob's spec.schedule
 * arrives (with an optional TZ= / CRON_TZ= prefix, which loads a zone file), and
 * ck_cron_next from a few instants as the CronJob controller calls it.
 *
 * Properties: never a crash, leak, UB or hang (the next-activation search is bounded); a
 * failure sets an error; the next activation is strictly after the instant asked for. */
#include <limits.h>

#include "cron.h"
#include "error.h"
#include "fuzz.h"

static const int64_t AFTER[] = {INT64_MIN,  -62135596801LL, 0,
                                1732284000, 253402300799LL, INT64_MAX};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    struct ck_error err = CK_ERROR_INIT;
    struct ck_cron *c = NULL;
    if (ck_cron_parse(s, &c, &err) < 0) {
        FUZZ_CHECK(c == NULL && err.code != 0, "failed parse left output or no error");
        ck_error_clear(&err);
    } else {
        for (size_t i = 0; i < sizeof AFTER / sizeof AFTER[0]; i++) {
            int64_t next;
            if (ck_cron_next(c, AFTER[i], &next) == 0)
                FUZZ_CHECK(next > AFTER[i], "next %lld not after %lld", (long long)next,
                           (long long)AFTER[i]);
        }
        const struct ck_tz *tz = ck_cron_tz(c);
        if (tz) {
            (void)ck_tz_name(tz);
            (void)ck_tz_offset(tz, INT64_MIN);
            (void)ck_tz_offset(tz, INT64_MAX);
        }
        ck_cron_free(c);
    }
    free(s);
    return 0;
}
