//  Timestamped logging to stderr, tagged with the program name.
#ifndef MP_LOG_H
#define MP_LOG_H

#include <stdint.h>

typedef enum { MP_LOG_ERROR = 0, MP_LOG_WARN, MP_LOG_INFO, MP_LOG_DEBUG } mp_log_level_t;

void mp_log_init (const char *program, mp_log_level_t level);
void mp_log (mp_log_level_t level, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

//  A call site's share of the log: at most MP_LOG_BURST lines per MP_LOG_WINDOW_MS,
//  the rest counted and said in one line when the next window opens. What a peer
//  can make a daemon log goes through this, so that a flood costs a line, not a disk.
#define MP_LOG_BURST 10
#define MP_LOG_WINDOW_MS 10000
typedef struct {
    uint64_t window_ms; //  start of the current window (monotonic)
    unsigned lines;     //  written in it
    uint64_t held;      //  suppressed since the last line
} mp_log_limit_t;

void mp_log_limited (mp_log_limit_t *limit, mp_log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
#define mp_warn_limited(...)                                                             \
    do {                                                                                 \
        static mp_log_limit_t s_log_limit_;                                              \
        mp_log_limited (&s_log_limit_, MP_LOG_WARN, __VA_ARGS__);                        \
    } while (0)

#define mp_error(...) mp_log (MP_LOG_ERROR, __VA_ARGS__)
#define mp_warn(...) mp_log (MP_LOG_WARN, __VA_ARGS__)
#define mp_info(...) mp_log (MP_LOG_INFO, __VA_ARGS__)
#define mp_debug(...) mp_log (MP_LOG_DEBUG, __VA_ARGS__)

#endif
