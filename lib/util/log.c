#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *log_program = "ownmail";
static log_level log_min = LOG_LEVEL_INFO;

void log_init(const char *program, log_level min_level)
{
    log_program = program;
    log_min = min_level;
}

__attribute__((format(printf, 3, 0))) static void log_vwrite(const char *level, const char *session,
                                                             const char *fmt, va_list ap)
{
    char line[2048];
    char stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf(line, sizeof(line), "%s.%03ldZ %s %s[%s] ", stamp, ts.tv_nsec / 1000000, level,
                     log_program, session != NULL ? session : "-");
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    /* One fputs per line keeps lines whole when several threads log. */
    fprintf(stderr, "%s\n", line);
}

void log_msg(log_level level, const char *session, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < log_min)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(names[level], session, fmt, ap);
    va_end(ap);
}

void log_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite("panic", NULL, fmt, ap);
    va_end(ap);
    abort();
}

void log_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite("fatal", NULL, fmt, ap);
    va_end(ap);
    exit(1);
}
