//  Timestamped logging to stderr:
//  "2026-11-26T12:00:00.123Z mp-coord[1234] INFO: text"
#include "log.h"

#include "clock.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char s_program[64] = "mp";
static mp_log_level_t s_level = MP_LOG_INFO;

static const char *s_level_name (mp_log_level_t level)
{
    switch (level) {
    case MP_LOG_ERROR: return "ERROR";
    case MP_LOG_WARN: return "WARN";
    case MP_LOG_INFO: return "INFO";
    default: return "DEBUG";
    }
}

void mp_log_init (const char *program, mp_log_level_t level)
{
    if (program && *program)
        snprintf (s_program, sizeof s_program, "%s", program);
    s_level = level;
}

static void s_vlog (mp_log_level_t level, const char *fmt, va_list args)
{
    if (level > s_level)
        return;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r (&now.tv_sec, &tm);

    //  One buffer, one write: lines from several processes sharing stderr stay whole.
    char line[2048];
    int len = snprintf (line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec, now.tv_nsec / 1000000, s_program, (int) getpid (),
                        s_level_name (level));
    if (len < 0)
        return;
    if ((size_t) len < sizeof line - 1) {
        int more = vsnprintf (line + len, sizeof line - (size_t) len, fmt, args);
        if (more > 0)
            len += more;
    }
    if ((size_t) len > sizeof line - 2)
        len = (int) sizeof line - 2; //  truncated: keep room for the newline
    line[len++] = '\n';
    fwrite (line, 1, (size_t) len, stderr);
}

void mp_log (mp_log_level_t level, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    s_vlog (level, fmt, args);
    va_end (args);
}

static void s_log_line (mp_log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void s_log_line (mp_log_level_t level, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    s_vlog (level, fmt, args);
    va_end (args);
}

void mp_log_limited (mp_log_limit_t *limit, mp_log_level_t level, const char *fmt, ...)
{
    uint64_t now = mp_clock_mono_ms ();
    if (limit->window_ms == 0 || now - limit->window_ms >= MP_LOG_WINDOW_MS) {
        if (limit->held)
            s_log_line (level, "%" PRIu64 " more lines like the next were not logged",
                        limit->held);
        limit->window_ms = now;
        limit->lines = 0;
        limit->held = 0;
    }
    if (limit->lines >= MP_LOG_BURST) {
        limit->held++;
        return;
    }
    limit->lines++;
    va_list args;
    va_start (args, fmt);
    s_vlog (level, fmt, args);
    va_end (args);
}
