/*
 * common/log.h - one-line log records on stderr: time, level, role[pid], message.
 * Never pass a token, password or request body to these functions.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* Set the minimum level printed and the role shown in each line ("master", "worker"). */
void log_setup(enum log_level min, const char *role);
/* Parse "debug" | "info" | "warn" | "error"; returns -1 when unknown. */
int log_level_parse(const char *name);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
