/* Logging with levels: stderr in the foreground, syslog otherwise. Never per packet or request. */
#ifndef IPR_LOG_H
#define IPR_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum ipr_log_level {
	IPR_LOG_ERROR,
	IPR_LOG_WARN,
	IPR_LOG_INFO,
	IPR_LOG_DEBUG,
};

/*
 * ident names the program in every line; use_syslog false writes "ident: level: msg" to stderr,
 * or "<priority>msg" when stderr is systemd's journal stream (JOURNAL_STREAM names its device
 * and inode), so that the journal records each line's priority and the name once.
 */
void ipr_log_open(const char *ident, bool use_syslog, enum ipr_log_level level);
/* Whether journal_stream, a JOURNAL_STREAM value ("DEV:INO"), names the file dev:ino. */
bool ipr_log_stream_is(const char *journal_stream, uint64_t dev, uint64_t ino);
void ipr_log_set_level(enum ipr_log_level level);
bool ipr_log_enabled(enum ipr_log_level level);

__attribute__((format(printf, 2, 3))) void ipr_log(enum ipr_log_level level, const char *fmt, ...);

#define log_error(...) ipr_log(IPR_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  ipr_log(IPR_LOG_WARN, __VA_ARGS__)
#define log_info(...)  ipr_log(IPR_LOG_INFO, __VA_ARGS__)
#define log_debug(...) ipr_log(IPR_LOG_DEBUG, __VA_ARGS__)

#endif
