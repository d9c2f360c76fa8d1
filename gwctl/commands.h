/* The gwctl subcommands: each lives in its own cmd_*.c file and returns the exit status. */
#ifndef GWCTL_COMMANDS_H
#define GWCTL_COMMANDS_H

#include <stdio.h>

/* Exit statuses shared by every subcommand (documented in docs/gwctl.md). */
enum {
	GWCTL_EXIT_OK = 0,
	GWCTL_EXIT_FAILED = 1,	  /* the command ran, and something it was given was bad */
	GWCTL_EXIT_USAGE = 2,	  /* the command line itself was wrong */
	GWCTL_EXIT_NOT_FOUND = 3, /* show or unmap: no such mapping */
};

struct gwctl_command {
	const char *name;
	const char *usage;   /* the operands and options, after "gwctl NAME" */
	const char *summary; /* one line for gwctl --help */
	const char *options; /* "  --opt  what it does\n" lines for NAME --help, or NULL */
	int (*run)(int argc, char **argv);
};

/* Prints "usage: gwctl NAME ..." and where to find more to stderr; returns GWCTL_EXIT_USAGE. */
int gwctl_usage_error(const char *name);

int cmd_addr(int argc, char **argv);

#endif
