/* cron.h - CronJob schedules as upstream parses and runs them (github.com/robfig/cron/v3
 * ParseStandard and SpecSchedule.Next, which kube-apiserver validates with and the CronJob
 * controller schedules with), and IANA time zones read from the system's TZif files (Go's
 * time.LoadLocation).
 *
 * Schedules
 *   Five fields "minute hour day-of-month month day-of-week", each a comma list of `*`, `?`,
 *   `N`, `N-M`, with an optional `/step` (`N/step` means `N-max/step`); months and weekdays
 *   also by name (jan..dec, sun..sat, any case). Descriptors @yearly @annually @monthly @weekly
 *   @daily @midnight @hourly and "@every <Go duration>". An optional "TZ=<zone> " or
 *   "CRON_TZ=<zone> " prefix selects the zone; without one the schedule runs in UTC (upstream
 *   uses the controller's local zone, which is UTC in every supported deployment). When both
 *   day fields are restricted (neither starts with `*` or `?`), a day matches when EITHER
 *   matches, as in classic cron and upstream.
 *   Parse errors carry robfig's exact wording, which upstream shows to users as the detail of
 *   `spec.schedule: Invalid value: "...": <message>`, e.g.
 *     expected exactly 5 fields, found 1: [x]
 *     end of range (60) above maximum (59): 60
 *     failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax
 *     unrecognized descriptor: @sometimes
 *
 * Time zones
 *   ck_tz_load accepts "" and "UTC" (UTC), "Local" (/etc/localtime, else UTC) and IANA names
 *   found under /usr/share/zoneinfo (or $ZONEINFO, as Go). Offsets come from the file's
 *   transitions and, past the last one, from its POSIX TZ footer rule, so any year works.
 *
 * Instants are Unix seconds (int64). Errors fill an optional struct ck_error (400 BadRequest)
 * and return -EINVAL (bad schedule / zone name) or -ENOENT (no such zone). Ownership: objects
 * returned through **out belong to the caller, who frees them with the matching *_free.
 * Parsed schedules and zones are immutable, so they may be shared between threads.
 */
#ifndef CK_CRON_H
#define CK_CRON_H

#include <stdint.h>

#include "error.h"

struct ck_tz;   /* a loaded time zone */
struct ck_cron; /* a parsed schedule */

/* Loads the zone `name` (Go's time.LoadLocation): -EINVAL and "time: invalid location name"
 * for names containing ".." or starting with '/' or '\\'; -ENOENT and "unknown time zone
 * <name>" when no readable TZif file has that name. */
int ck_tz_load(const char *name, struct ck_tz **out, struct ck_error *err);
/* The name the zone was loaded with ("UTC" for ""). Borrowed from tz. */
const char *ck_tz_name(const struct ck_tz *tz);
/* The zone's offset east of UTC, in seconds, at instant t. A NULL tz is UTC. */
int32_t ck_tz_offset(const struct ck_tz *tz, int64_t t);
void ck_tz_free(struct ck_tz *tz);

/* Parses a schedule as robfig/cron's ParseStandard. */
int ck_cron_parse(const char *spec, struct ck_cron **out, struct ck_error *err);
/* The first activation strictly after `after` (SpecSchedule.Next / ConstantDelaySchedule.Next,
 * in the schedule's zone, with upstream's handling of DST gaps). Returns 0 and sets *next, or
 * -ENOENT when nothing matches within five years (upstream's zero time, e.g. "0 0 30 2 *"),
 * or -ERANGE for an `after` outside years 1..9999. */
int ck_cron_next(const struct ck_cron *c, int64_t after, int64_t *next);
/* The schedule's zone (NULL for UTC). Borrowed from c. */
const struct ck_tz *ck_cron_tz(const struct ck_cron *c);
void ck_cron_free(struct ck_cron *c);

#endif
