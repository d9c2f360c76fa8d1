/* The one logging back end of every program in the suite. */
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static const char *log_ident = "ipref";
static bool log_syslog;
static bool log_journal; /* stderr is systemd's journal stream: "<priority>message" lines */
static enum ipr_log_level log_level = IPR_LOG_INFO;

bool ipr_log_stream_is(const char *journal_stream, uint64_t dev, uint64_t ino)
{
	uint64_t want_dev, want_ino;
	char end;

	if (!journal_stream ||
	    sscanf(journal_stream, "%" SCNu64 ":%" SCNu64 "%c", &want_dev, &want_ino, &end) != 2)
		return false;
	return want_dev == dev && want_ino == ino;
}

/*
 * systemd sets JOURNAL_STREAM when it connects stderr to the journal; a child whose stderr was
 * redirected elsewhere inherits the variable, so it counts only while stderr is that stream.
 */
static bool stderr_is_journal(void)
{
	struct stat st;

	return fstat(STDERR_FILENO, &st) == 0 &&
	       ipr_log_stream_is(getenv("JOURNAL_STREAM"), (uint64_t)st.st_dev,
				 (uint64_t)st.st_ino);
}

void ipr_log_open(const char *ident, bool use_syslog, enum ipr_log_level level)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_level = level;
	log_journal = !use_syslog && stderr_is_journal();
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
	} else if (log_journal) {
		/* the journal adds the program's name and takes the priority from the prefix */
		fprintf(stderr, "<%d>", priorities[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		fprintf(stderr, "%s: %s: ", log_ident, names[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
