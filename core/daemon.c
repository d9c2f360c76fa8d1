/* Arguments and the switch to an unprivileged user, shared by gwctld and ipref-dataplane. */
#include "daemon.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void usage(FILE *out, const char *name, const char *default_config)
{
	fprintf(out,
		"usage: %s [--config FILE] [--syslog] [--check] [--version]\n"
		"  --config FILE  configuration (default %s; missing file: defaults)\n"
		"  --syslog       log to syslog instead of stderr\n"
		"  --check        check the configuration and exit\n",
		name, default_config);
}

int ipr_daemon_args_parse(int argc, char **argv, const char *name, const char *default_config,
			  struct ipr_daemon_args *out)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' }, { "syslog", no_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'k' },	    { "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },	    { NULL, 0, NULL, 0 },
	};
	int opt;

	out->config = default_config;
	out->use_syslog = out->check_only = false;
	while ((opt = getopt_long(argc, argv, "c:skVh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			out->config = optarg;
			break;
		case 's':
			out->use_syslog = true;
			break;
		case 'k':
			out->check_only = true;
			break;
		case 'V':
			printf("%s %s\n", name, IPR_VERSION);
			return 0;
		case 'h':
			usage(stdout, name, default_config);
			return 0;
		default:
			usage(stderr, name, default_config);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr, name, default_config);
		return 2;
	}
	return -1;
}

int ipr_become_user(const char *user)
{
	struct passwd *pw;

	if (!user[0] || geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		log_error("user %s: no such user", user);
		return -ENOENT;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		log_error("cannot become %s: %s", user, strerror(errno));
		return -errno;
	}
	if (setuid(0) == 0) {
		log_error("still able to regain root after dropping privileges");
		return -EPERM;
	}
	log_info("running as %s", user);
	return 0;
}
