/* The gwctl subcommands: each lives in its own cmd_*.c file and returns the exit status. */
#ifndef GWCTL_COMMANDS_H
#define GWCTL_COMMANDS_H

/* Exit statuses shared by every subcommand. */
enum {
	GWCTL_EXIT_OK = 0,
	GWCTL_EXIT_FAILED = 1, /* the command ran, and something it was given was bad */
	GWCTL_EXIT_USAGE = 2,  /* the command line itself was wrong */
};

struct gwctl_command {
	const char *name;
	const char *usage;
	const char *summary;
	int (*run)(int argc, char **argv);
};

int cmd_addr(int argc, char **argv);

#endif
