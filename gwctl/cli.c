/* Reaching gwctld from the CLI, with clear words when it cannot, and reading operands. */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "commands.h"

const char *cli_socket_path = "/run/ipref/gwctl.sock";

struct ipr_ctl_client *cli_connect(void)
{
	struct ipr_ctl_client *client;
	int rc = ipr_ctl_client_connect(cli_socket_path, &client);

	if (rc == 0)
		return client;
	if (rc == -ENOENT || rc == -ECONNREFUSED)
		fprintf(stderr, "gwctl: gwctld is not running (nothing answers at %s)\n",
			cli_socket_path);
	else if (rc == -EACCES || rc == -EPERM)
		fprintf(stderr,
			"gwctl: %s: permission denied (run as root or as a member of the"
			" daemon's socket-group)\n",
			cli_socket_path);
	else
		fprintf(stderr, "gwctl: cannot reach gwctld at %s: %s\n", cli_socket_path,
			strerror(-rc));
	return NULL;
}

static int call(struct ipr_ctl_client *client, struct ipr_ctl_builder *b, uint8_t *buf, size_t cap,
		struct ipr_ctl_reply *reply, bool quiet_not_found)
{
	size_t len;
	int rc = ipr_ctl_finish(b, &len);

	if (rc == 0)
		rc = ipr_ctl_client_call(client, b->buf, len, buf, cap, CLI_TIMEOUT_MS, reply);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "gwctl: gwctld did not answer within %d ms\n", CLI_TIMEOUT_MS);
		return -1;
	}
	if (rc == -ECONNRESET) {
		fprintf(stderr, "gwctl: gwctld closed the connection\n");
		return -1;
	}
	if (rc < 0) {
		fprintf(stderr, "gwctl: %s\n", strerror(-rc));
		return -1;
	}
	if (reply->hdr.status == IPR_CTL_E_NOT_FOUND && quiet_not_found)
		return 1;
	if (reply->hdr.status != IPR_CTL_OK) {
		const char *status = ipr_ctl_status_text(reply->hdr.status);
		/* a message that only repeats the status ("the store could not commit") once */
		const char *detail =
			reply->fields.message[0] && strcmp(reply->fields.message, status)
				? reply->fields.message
				: NULL;
		fprintf(stderr, "gwctl: %s%s%s\n", status, detail ? ": " : "",
			detail ? detail : "");
		return -1;
	}
	return 0;
}

int cli_call(struct ipr_ctl_client *client, struct ipr_ctl_builder *b, uint8_t *buf, size_t cap,
	     struct ipr_ctl_reply *reply)
{
	return call(client, b, buf, cap, reply, false);
}

int cli_call_lookup(struct ipr_ctl_client *client, struct ipr_ctl_builder *b, uint8_t *buf,
		    size_t cap, struct ipr_ctl_reply *reply)
{
	return call(client, b, buf, cap, reply, true);
}

int cli_operands(int argc, char **argv, bool *json)
{
	static const struct option with_json[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	if (json)
		*json = false;
	while ((opt = getopt_long(argc, argv, json ? "j" : "", json ? with_json : with_json + 1,
				  NULL)) != -1) {
		if (opt != 'j' || !json)
			return -1;
		*json = true;
	}
	return optind;
}

bool cli_parse_ip(const char *text, int *family, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, text, out) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, out) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}
