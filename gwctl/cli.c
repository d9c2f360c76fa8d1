/* Reaching gwctld from the CLI, with clear words when it cannot, and printing mappings. */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

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
		const char *detail = reply->fields.message[0] ? reply->fields.message : NULL;
		fprintf(stderr, "gwctl: %s%s%s\n", ipr_ctl_status_text(reply->hdr.status),
			detail ? ": " : "", detail ? detail : "");
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

void cli_row_of(const struct ipr_mapping *m, struct cli_row *row)
{
	char ref[IPR_REF_TEXT_MAX];
	size_t n;

	snprintf(row->kind, sizeof(row->kind), "%s", ipr_mapping_kind_name(m->kind));
	inet_ntop(m->family, m->address, row->address, sizeof(row->address));
	n = ipr_context_format(&m->context, row->ipref);
	ipr_ref_format(&m->ref, ref);
	snprintf(row->ipref + n, sizeof(row->ipref) - n, " + %s", ref);
	snprintf(row->name, sizeof(row->name), "%s", m->name[0] ? m->name : "-");
	if (m->expires) {
		time_t t = (time_t)m->expires;
		struct tm tm;
		strftime(row->expires, sizeof(row->expires), "%Y-%m-%d %H:%M:%S UTC",
			 gmtime_r(&t, &tm));
	} else {
		snprintf(row->expires, sizeof(row->expires), "never");
	}
	snprintf(row->source, sizeof(row->source), "%s", m->source[0] ? m->source : "-");
}

void cli_print_row(FILE *out, const struct cli_row *row)
{
	fprintf(out, "%-16s %-39s %-44s %-24s %-24s %s\n", row->kind, row->address, row->ipref,
		row->name, row->expires, row->source);
}

/* Values are printable ASCII (checked by the protocol decoder); only " and \ need escaping. */
static void json_string(FILE *out, const char *text)
{
	fputc('"', out);
	for (; *text; text++) {
		if (*text == '"' || *text == '\\')
			fputc('\\', out);
		fputc(*text, out);
	}
	fputc('"', out);
}

void cli_print_row_json(FILE *out, const struct cli_row *row, bool first)
{
	const char *keys[] = { "kind", "address", "ipref", "name", "expires", "source" };
	const char *values[] = { row->kind, row->address, row->ipref,
				 row->name, row->expires, row->source };

	fputs(first ? "\n  {" : ",\n  {", out);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fprintf(out, "%s\"%s\": ", i ? ", " : "", keys[i]);
		if (!strcmp(values[i], "-"))
			fputs("null", out);
		else
			json_string(out, values[i]);
	}
	fputc('}', out);
}

void cli_print_mapping(FILE *out, const struct ipr_mapping *m, uint32_t ttl)
{
	struct cli_row row;

	cli_row_of(m, &row);
	fprintf(out, "kind:    %s\n", row.kind);
	fprintf(out, "%s %s\n", ipr_mapping_is_local(m) ? "address:" : "encoded:", row.address);
	fprintf(out, "ipref:   %s\n", row.ipref);
	fprintf(out, "name:    %s\n", row.name);
	fprintf(out, "expires: %s", row.expires);
	if (m->expires)
		fprintf(out, " (in %u s)", ttl);
	fprintf(out, "\nsource:  %s\n", row.source);
}

int cli_operands(int argc, char **argv)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };

	return getopt_long(argc, argv, "", none, NULL) == -1 ? optind : -1;
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
