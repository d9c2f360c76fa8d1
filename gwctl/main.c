/* gwctl: the IPREF gateway's control tool; global options, then one subcommand per file. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"

static const struct gwctl_command commands[] = {
	{ "status", "", "the daemon's version, store, ranges and counts", cmd_status },
	{ "list", "[--json]", "every mapping", cmd_list },
	{ "show", "KEY", "one mapping by encoded or local address, IPREF address or ref",
	  cmd_show },
	{ "map", "[--publish] ADDRESS 'CTX + REF'", "add a static or published mapping", cmd_map },
	{ "unmap", "ENCODED|REF", "remove a mapping", cmd_unmap },
	{ "encode", "[--family 4|6] 'CTX + REF'", "the encoded address of a remote host",
	  cmd_encode },
	{ "ref", "LOCAL-ADDRESS", "the reference of a local host", cmd_ref },
	{ "stats", "[--json]", "the daemon's counters", cmd_stats },
	{ "reload", "", "re-read the configuration", cmd_reload },
	{ "publish", "NAME [--ref R] [--address IP]", "print the records that publish a server",
	  cmd_publish },
	{ "addr", "[--hex] ADDRESS...", "check IPREF addresses (needs no daemon)", cmd_addr },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: gwctl [--socket PATH | --config FILE] COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-7s %-32s %s\n", commands[i].name, commands[i].usage,
			commands[i].summary);
	fprintf(out, "\nThe socket is --socket, else the one named by --config (default\n"
		     "/etc/ipref/gwctl.conf when it exists), else /run/ipref/gwctl.sock.\n");
}

static struct gwctl_config cfg;

const struct gwctl_config *cli_config(void)
{
	return &cfg;
}

/* The daemon's configuration (for the socket path); a missing default file is not an error. */
static int socket_from_config(const char *path, bool must_exist)
{
	char msg[1024];
	FILE *probe = fopen(path, "r");

	config_defaults(&cfg);
	if (!probe) {
		if (!must_exist)
			return 0;
		perror(path);
		return -1;
	}
	fclose(probe);
	if (config_load(&cfg, path, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "gwctl: %s\n", msg);
		return -1;
	}
	cli_socket_path = cfg.socket;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket = NULL, *config = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "+s:c:h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			socket = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'h':
			usage(stdout);
			return GWCTL_EXIT_OK;
		default:
			usage(stderr);
			return GWCTL_EXIT_USAGE;
		}
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "gwctl: libsodium cannot start\n");
		return GWCTL_EXIT_FAILED;
	}
	if (optind == argc) {
		usage(stderr);
		return GWCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		usage(stdout);
		return GWCTL_EXIT_OK;
	}
	if (socket_from_config(config ? config : "/etc/ipref/gwctl.conf", config != NULL) < 0)
		return GWCTL_EXIT_FAILED;
	if (socket)
		cli_socket_path = socket;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			char **sub = argv + optind;
			int sub_argc = argc - optind;
			optind = 1; /* each command parses its own options from its own argv */
			return commands[i].run(sub_argc, sub);
		}
	}
	fprintf(stderr, "gwctl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return GWCTL_EXIT_USAGE;
}
