//  Timestamped logging to stderr, tagged with the program name.
#ifndef MP_LOG_H
#define MP_LOG_H

typedef enum { MP_LOG_ERROR = 0, MP_LOG_WARN, MP_LOG_INFO, MP_LOG_DEBUG } mp_log_level_t;

void mp_log_init (const char *program, mp_log_level_t level);
void mp_log (mp_log_level_t level, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

#define mp_error(...) mp_log (MP_LOG_ERROR, __VA_ARGS__)
#define mp_warn(...) mp_log (MP_LOG_WARN, __VA_ARGS__)
#define mp_info(...) mp_log (MP_LOG_INFO, __VA_ARGS__)
#define mp_debug(...) mp_log (MP_LOG_DEBUG, __VA_ARGS__)

#endif
