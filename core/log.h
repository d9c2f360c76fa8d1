/* Logging with levels: stderr in the foreground, syslog otherwise. Never per packet or request. */
#ifndef IPR_LOG_H
#define IPR_LOG_H

#include <stdbool.h>

enum ipr_log_level {
	IPR_LOG_ERROR,
	IPR_LOG_WARN,
	IPR_LOG_INFO,
	IPR_LOG_DEBUG,
};

/* ident names the program in every line; use_syslog false writes "ident: level: msg" to stderr. */
void ipr_log_open(const char *ident, bool use_syslog, enum ipr_log_level level);
void ipr_log_set_level(enum ipr_log_level level);
bool ipr_log_enabled(enum ipr_log_level level);

__attribute__((format(printf, 2, 3))) void ipr_log(enum ipr_log_level level, const char *fmt, ...);

#define log_error(...) ipr_log(IPR_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  ipr_log(IPR_LOG_WARN, __VA_ARGS__)
#define log_info(...)  ipr_log(IPR_LOG_INFO, __VA_ARGS__)
#define log_debug(...) ipr_log(IPR_LOG_DEBUG, __VA_ARGS__)

#endif
