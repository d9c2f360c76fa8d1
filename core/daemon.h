/* What every daemon of the suite does alike at start: its arguments and giving up root. */
#ifndef IPR_DAEMON_H
#define IPR_DAEMON_H

#include <stdbool.h>

#include "err.h"

struct ipr_daemon_args {
	const char *config; /* the configuration file */
	bool use_syslog;
	bool check_only; /* check the configuration and exit */
};

/*
 * Parses --config FILE, --syslog, --check, --version and --help for the daemon name. Returns
 * -1 when the daemon should go on, else the exit status (0 after --version or --help, 2 after a
 * usage error, the usage then printed on stderr).
 */
int ipr_daemon_args_parse(int argc, char **argv, const char *name, const char *default_config,
			  struct ipr_daemon_args *out);

/*
 * Becomes user (its uid, gid and groups) when running as root and user is not empty, then
 * checks that root cannot be regained. Returns 0 or -errno, with the reason logged.
 */
IPR_MUST_CHECK int ipr_become_user(const char *user);

#endif
