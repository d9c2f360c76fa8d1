/* gwctl: the IPREF gateway's control tool; global options, then one subcommand per file. */
#include <getopt.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"

/* What --json prints, for the commands that print one mapping. */
#define JSON_MAPPING "  --json  the mapping as one JSON object\n"

static const struct gwctl_command commands[] = {
	{ "status", "[--json]", "the daemon's version, store, ranges and counts",
	  "  --json  one JSON object\n", cmd_status },
	{ "health", "[--max-age SECONDS] [--store]",
	  "exit 0 when the gateway can carry traffic, 1 with the reason when not (for keepalived)",
	  "  --max-age SECONDS  the oldest dataplane report taken as alive (default 6: three\n"
	  "                     missed reports)\n"
	  "  --store            also fail while gwctld's store is unavailable (by default the\n"
	  "                     gateway still carries the flows it knows)\n",
	  cmd_health },
	{ "list", "[--hex] [--json]", "every mapping",
	  "  --hex   references as 16-bit hex groups\n"
	  "  --json  one JSON array of mapping objects (references in decimal)\n",
	  cmd_list },
	{ "show", "[--json] KEY",
	  "one mapping by encoded or local address, 'CONTEXT + REF' or reference", JSON_MAPPING,
	  cmd_show },
	{ "map", "[--publish] [--json] ADDRESS 'CONTEXT + REF'",
	  "add a static mapping (or with --publish, publish a local host)",
	  "  --publish  ADDRESS is a local host to publish under one of our contexts\n"
	  "  --json     the mapping as one JSON object\n",
	  cmd_map },
	{ "unmap", "[--json] ENCODED|REF", "remove a mapping", JSON_MAPPING, cmd_unmap },
	{ "encode", "[--family 4|6] [--name NAME] [--json] 'CONTEXT + REF'",
	  "the encoded address of a remote host, as the resolver asks",
	  "  --family 4|6  the family of the encoded address (default: the context's)\n"
	  "  --name NAME   the DNS name the remote host was looked up by\n"
	  "  --json        the mapping as one JSON object\n",
	  cmd_encode },
	{ "ref", "[--json] LOCAL-ADDRESS", "the reference of a local host, as the dataplane asks",
	  JSON_MAPPING, cmd_ref },
	{ "stats", "[--json | --prometheus]", "the daemon's counters and those components report",
	  "  --json        one JSON object of counter names and values\n"
	  "  --prometheus  the Prometheus text exposition format (for node_exporter's textfile\n"
	  "                collector, or any scraper)\n",
	  cmd_stats },
	{ "reload", "", "re-read the configuration and the published sources", NULL, cmd_reload },
	{ "publish", "NAME [--address IP] [--ref REF] [--context CTX] [--hosts]",
	  "print the records that publish a server",
	  "  --address IP   the server's local address (adds its A or AAAA record)\n"
	  "  --ref REF      the reference to publish under (default: an unused random one)\n"
	  "  --context CTX  the context to publish under (default: the first gateway-name or\n"
	  "                 gateway of the configuration)\n"
	  "  --hosts        a hosts-file line instead of zone records (needs --address)\n",
	  cmd_publish },
	{ "addr", "[--hex] ADDRESS...", "check IPREF addresses (needs no daemon)",
	  "  --hex  print references as 16-bit hex groups\n", cmd_addr },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static const struct gwctl_command *command_named(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: gwctl [--socket PATH | --config FILE] COMMAND [ARGS...]\n"
		     "       gwctl COMMAND --help | gwctl help COMMAND\n"
		     "       gwctl --help | --version\n\ncommands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %s %s\n      %s\n", commands[i].name, commands[i].usage,
			commands[i].summary);
	fprintf(out, "\nOptions may come before or after operands; -- ends them.\n"
		     "The socket is --socket, else the one named by --config (default\n"
		     "/etc/ipref/gwctl.conf when it exists), else /run/ipref/gwctl.sock.\n"
		     "Exit status: 0 done, 1 failed, 2 usage error, 3 no such mapping.\n");
}

static void command_help(const struct gwctl_command *c)
{
	printf("usage: gwctl %s%s%s\n\n%s.\n", c->name, c->usage[0] ? " " : "", c->usage,
	       c->summary);
	if (c->options)
		printf("\noptions:\n%s", c->options);
}

int gwctl_usage_error(const char *name)
{
	const struct gwctl_command *c = command_named(name);

	if (c)
		fprintf(stderr, "usage: gwctl %s%s%s\n(gwctl %s --help tells more)\n", c->name,
			c->usage[0] ? " " : "", c->usage, c->name);
	return GWCTL_EXIT_USAGE;
}

/* -h or --help before any "--", wherever it stands: help never needs the daemon. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
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
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct gwctl_command *command;
	const char *socket = NULL, *config = NULL;
	int opt, first;

	while ((opt = getopt_long(argc, argv, "+s:c:hV", options, NULL)) != -1) {
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
		case 'V':
			printf("gwctl %s\n", IPR_VERSION);
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
		/* "gwctl help COMMAND" is "gwctl COMMAND --help" */
		command = optind + 1 < argc ? command_named(argv[optind + 1]) : NULL;
		if (command)
			command_help(command);
		else
			usage(stdout);
		return GWCTL_EXIT_OK;
	}
	command = command_named(argv[optind]);
	if (!command) {
		fprintf(stderr, "gwctl: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return GWCTL_EXIT_USAGE;
	}
	if (wants_help(argc - optind, argv + optind)) {
		command_help(command);
		return GWCTL_EXIT_OK;
	}
	if (socket_from_config(config ? config : "/etc/ipref/gwctl.conf", config != NULL) < 0)
		return GWCTL_EXIT_FAILED;
	if (socket)
		cli_socket_path = socket;
	/*
	 * Each command parses its own options from its own argv. 0, not 1: glibc re-initialises
	 * getopt only then, so the '+' (stop at the first operand) of ours does not carry over.
	 */
	first = optind;
	optind = 0;
	return command->run(argc - first, argv + first);
}
