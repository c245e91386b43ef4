/* log.h - klog-format logging to stderr.
 *
 * Lines look like upstream's:  I1122 14:00:00.000000    1234 file.c:42] message
 * (severity I/W/E/F, month+day, wall time with microseconds, thread id, source position).
 * Verbosity follows `--v=N`: CK_V(n) is true when n <= the configured level, so
 * `if (CK_V(4)) ck_info(...)` or the ck_vinfo(4, ...) shorthand. Thread-safe: each line is
 * written with a single write(2).
 */
#ifndef CK_LOG_H
#define CK_LOG_H

enum ck_log_severity { CK_LOG_INFO = 'I', CK_LOG_WARNING = 'W', CK_LOG_ERROR = 'E', CK_LOG_FATAL = 'F' };

extern int ck_log_verbosity;

void ck_log_set_verbosity(int v);
void ck_log_write(enum ck_log_severity sev, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define CK_V(n) ((n) <= ck_log_verbosity)
#define ck_info(...) ck_log_write(CK_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define ck_warn(...) ck_log_write(CK_LOG_WARNING, __FILE__, __LINE__, __VA_ARGS__)
#define ck_err(...) ck_log_write(CK_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define ck_vinfo(n, ...)                                                                           \
    do {                                                                                           \
        if (CK_V(n))                                                                               \
            ck_info(__VA_ARGS__);                                                                  \
    } while (0)

/* Formats one klog line (without trailing newline) into dst for the given time; used by
 * ck_log_write and by tests. Returns the length written. */
#include <stddef.h>
#include <sys/time.h>
size_t ck_log_format(char *dst, size_t size, enum ck_log_severity sev, const struct timeval *tv,
                     long tid, const char *file, int line, const char *msg);

#endif
