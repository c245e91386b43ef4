/* log.c - klog-format logging (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int ck_log_verbosity = 0;

void ck_log_set_verbosity(int v)
{
    ck_log_verbosity = v;
}

size_t ck_log_format(char *dst, size_t size, enum ck_log_severity sev, const struct timeval *tv,
                     long tid, const char *file, int line, const char *msg)
{
    struct tm tm;
    time_t secs = tv->tv_sec;
    localtime_r(&secs, &tm);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    int n = snprintf(dst, size, "%c%02d%02d %02d:%02d:%02d.%06ld %7ld %s:%d] %s", (char)sev,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)tv->tv_usec, tid, base, line, msg);
    if (n < 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

void ck_log_write(enum ck_log_severity sev, const char *file, int line, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    char out[4096 + 128];
    size_t n = ck_log_format(out, sizeof(out) - 1, sev, &tv, (long)syscall(SYS_gettid), file,
                             line, msg);
    out[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, out, n);
    (void)w;
}
