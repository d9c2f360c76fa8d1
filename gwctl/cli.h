/* What the CLI commands share: reaching the daemon, one request at a time, printing mappings. */
#ifndef GWCTL_CLI_H
#define GWCTL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "cli_json.h"
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

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and for "12345d23h". */
#define CLI_TIME_TEXT_MAX 32

/* The kind as one token: "dynamic_remote" where the store says "dynamic remote". */
const char *cli_kind_token(enum ipr_mapping_kind kind);
/* Unix seconds as RFC 3339 UTC, "2026-12-03T14:21:13Z". */
void cli_rfc3339(int64_t t, char buf[CLI_TIME_TEXT_MAX]);
/* A time left in its two largest units, "3h59m"; "0s" when none is left. */
void cli_duration(int64_t secs, char buf[CLI_TIME_TEXT_MAX]);

/* gwctl list's columns: one word each, "-" for none. */
void cli_print_list_header(FILE *out);
void cli_print_list_row(FILE *out, const struct ipr_mapping *m, enum ipr_ref_style style,
			int64_t now);
/* The mapping object of every --json output (docs/gwctl.md has the schema). */
void cli_json_mapping(struct json_out *j, const struct ipr_mapping *m);
/* One mapping as "field: value" lines (gwctl show and friends), or as its JSON object. */
void cli_print_mapping(FILE *out, const struct ipr_mapping *m, uint32_t ttl, bool json);

/*
 * Parses the options of a subcommand that takes none but, when json is not NULL, --json (so
 * "--" and a stray "-x" behave as everywhere else); returns the index of the first operand,
 * or -1 after getopt's message.
 */
int cli_operands(int argc, char **argv, bool *json);

/* Parses an IPv4 or IPv6 literal; family is AF_INET or AF_INET6. */
bool cli_parse_ip(const char *text, int *family, uint8_t out[16]);

int cmd_status(int argc, char **argv);
int cmd_health(int argc, char **argv);
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
