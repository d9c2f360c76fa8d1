/* gwctl: the IPREF gateway's control tool; dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct gwctl_command commands[] = {
	{ "addr", "[--hex] ADDRESS...", "check IPREF addresses and print their canonical form",
	  cmd_addr },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: gwctl COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-6s %-22s %s\n", commands[i].name, commands[i].usage,
			commands[i].summary);
	fprintf(out, "\n'gwctl COMMAND --help' describes one command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return GWCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return GWCTL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "gwctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return GWCTL_EXIT_USAGE;
}
