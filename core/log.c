/* The one logging back end of every program in the suite. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static const char *log_ident = "ipref";
static bool log_syslog;
static enum ipr_log_level log_level = IPR_LOG_INFO;

void ipr_log_open(const char *ident, bool use_syslog, enum ipr_log_level level)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_level = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void ipr_log_set_level(enum ipr_log_level level)
{
	log_level = level;
}

bool ipr_log_enabled(enum ipr_log_level level)
{
	return level <= log_level;
}

void ipr_log(enum ipr_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(priorities[level], fmt, ap);
	} else {
		fprintf(stderr, "%s: %s: ", log_ident, names[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
