/* What the CLI commands share: reaching the daemon, one request at a time, printing mappings. */
#ifndef GWCTL_CLI_H
#define GWCTL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "ctl_client.h"
#include "mapping.h"

/* How long the CLI waits for any one reply. */
#define CLI_TIMEOUT_MS 5000

/* Set by main from --socket, --config or the default. */
extern const char *cli_socket_path;

/* The daemon's configuration as the CLI read it (defaults when there is no file). */
const struct gwctl_config *cli_config(void);

/* Connects, or prints why not (naming the socket and whether the daemon runs) and returns NULL. */
struct ipr_ctl_client *cli_connect(void);

/*
 * Sends the request in b and waits for its reply into buf. Prints transport and daemon errors
 * (status and MESSAGE) and returns -1 for them; 0 when the reply's status is OK.
 */
int cli_call(struct ipr_ctl_client *client, struct ipr_ctl_builder *b, uint8_t *buf, size_t cap,
	     struct ipr_ctl_reply *reply);

/* Like cli_call, but a NOT_FOUND status returns 1 without printing anything. */
int cli_call_lookup(struct ipr_ctl_client *client, struct ipr_ctl_builder *b, uint8_t *buf,
		    size_t cap, struct ipr_ctl_reply *reply);

/* The columns of `gwctl list`, in text; expires is "never" or "YYYY-MM-DD HH:MM:SS UTC". */
struct cli_row {
	char kind[20];
	char address[64];
	char ipref[IPR_ADDR_TEXT_MAX];
	char name[IPR_NAME_MAX + 1];
	char expires[32];
	char source[IPR_MAPPING_SOURCE_MAX + 1];
};
void cli_row_of(const struct ipr_mapping *m, struct cli_row *row);
void cli_print_row(FILE *out, const struct cli_row *row);
void cli_print_row_json(FILE *out, const struct cli_row *row, bool first);
/* Prints one mapping as "field: value" lines (gwctl show and friends). */
void cli_print_mapping(FILE *out, const struct ipr_mapping *m, uint32_t ttl);

/*
 * Parses the options of a subcommand that takes none (so "--" and a stray "-x" behave as
 * everywhere else); returns the index of the first operand, or -1 after getopt's message.
 */
int cli_operands(int argc, char **argv);

/* Parses an IPv4 or IPv6 literal; family is AF_INET or AF_INET6. */
bool cli_parse_ip(const char *text, int *family, uint8_t out[16]);

int cmd_status(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_unmap(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_ref(int argc, char **argv);
int cmd_publish(int argc, char **argv);

#endif
