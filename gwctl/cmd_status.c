/* gwctl status, stats and reload: the daemon's own view of itself. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_prometheus.h"
#include "commands.h"

/* Runs one request without attributes; the reply stays in buf. */
static int simple_request(uint8_t kind, uint8_t *buf, size_t cap, struct ipr_ctl_reply *reply)
{
	uint8_t request[64];
	struct ipr_ctl_builder b;
	struct ipr_ctl_client *client = cli_connect();
	int rc;

	if (!client)
		return -1;
	ipr_ctl_build(&b, request, sizeof(request), kind, 0, ipr_ctl_client_next_id(client));
	rc = cli_call(client, &b, buf, cap, reply);
	ipr_ctl_client_free(client);
	return rc;
}

enum counters_format {
	COUNTERS_LINES,	     /* status and reload: TEXT is a line of its own */
	COUNTERS_TEXT,	     /* "name value" */
	COUNTERS_JSON,	     /* one object */
	COUNTERS_PROMETHEUS, /* the text exposition format */
};

/* Walks the COUNTER nests of a reply: each has TEXT and, for stats, VALUE. */
static void print_counters(const struct ipr_ctl_reply *reply, enum counters_format format,
			   FILE *out)
{
	bool json = format == COUNTERS_JSON;
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr attr;
	struct json_out j;

	json_init(&j, out, true);
	if (json)
		json_object_begin(&j, NULL);
	ipr_ctl_iter_init(&it, reply->attrs, reply->attrs_len);
	while (ipr_ctl_iter_next(&it, &attr) > 0) {
		struct ipr_ctl_fields f;
		if (attr.type != IPR_CTL_A_COUNTER ||
		    ipr_ctl_fields_parse(attr.value, attr.len, &f, NULL) < 0 ||
		    !ipr_ctl_has(&f, IPR_CTL_A_TEXT))
			continue;
		if (json)
			json_u64(&j, f.text, f.value);
		else if (format == COUNTERS_PROMETHEUS)
			prometheus_metric(out, f.text, f.value);
		else if (format == COUNTERS_TEXT)
			fprintf(out, "%-44s %llu\n", f.text, (unsigned long long)f.value);
		else
			fprintf(out, "%s\n", f.text);
	}
	if (json)
		json_end(&j, '}');
}

/* "10.240.0.0/12 (1048573 addresses, 3 in use or resting)" or "none". */
static void json_range(struct json_out *j, const char *key, const char *text)
{
	char prefix[64];
	unsigned long long size, taken;

	if (sscanf(text, "%63s (%llu addresses, %llu in use", prefix, &size, &taken) != 3) {
		json_string(j, key, strcmp(text, "none") ? text : NULL);
		return;
	}
	json_object_begin(j, key);
	json_string(j, "prefix", prefix);
	json_u64(j, "size", size);
	json_u64(j, "taken", taken);
	json_end(j, '}');
}

/*
 * One status line as typed members (the schema in docs/gwctl.md); a line this version does
 * not know, or cannot read, becomes a string member named after its key.
 */
static void json_status_line(struct json_out *j, const char *line)
{
	const char *colon = strstr(line, ": ");
	char key[48], a[64], b[64];
	unsigned long long x, y;
	size_t n;

	if (!colon || (n = (size_t)(colon - line)) >= sizeof(key))
		return;
	for (size_t i = 0; i < n; i++)
		key[i] = line[i] == '-' ? '_' : line[i];
	key[n] = 0;
	const char *value = colon + 2;
	if (!strcmp(key, "uptime") && sscanf(value, "%llu s", &x) == 1) {
		json_u64(j, "uptime_seconds", x);
	} else if (!strcmp(key, "encoded_ipv4") || !strcmp(key, "encoded_ipv6")) {
		json_range(j, key, value);
	} else if (!strcmp(key, "dynamic_refs") && sscanf(value, "%63[0-9]-%63[0-9]", a, b) == 2) {
		json_object_begin(j, key);
		json_string(j, "min", a);
		json_string(j, "max", b);
		json_end(j, '}');
	} else if (!strcmp(key, "lease") &&
		   sscanf(value, "%llu s, quarantine: %llu s", &x, &y) == 2) {
		json_u64(j, "lease_seconds", x);
		json_u64(j, "quarantine_seconds", y);
	} else if (!strcmp(key, "mappings") &&
		   sscanf(value, "%llu (%llu quarantined", &x, &y) == 2) {
		json_u64(j, "mappings", x);
		json_u64(j, "quarantined", y);
	} else if (!strcmp(key, "generation") && sscanf(value, "%llu", &x) == 1) {
		json_u64(j, key, x);
	} else {
		json_string(j, key, value);
	}
}

int cmd_status(int argc, char **argv)
{
	uint8_t buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_reply reply;
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr attr;
	struct json_out j;
	bool json;

	if (cli_operands(argc, argv, &json) != argc)
		return gwctl_usage_error("status");
	if (simple_request(IPR_CTL_STATUS, buf, sizeof(buf), &reply) < 0)
		return GWCTL_EXIT_FAILED;
	if (!json) {
		print_counters(&reply, COUNTERS_LINES, stdout);
		return GWCTL_EXIT_OK;
	}
	json_init(&j, stdout, true);
	json_object_begin(&j, NULL);
	ipr_ctl_iter_init(&it, reply.attrs, reply.attrs_len);
	while (ipr_ctl_iter_next(&it, &attr) > 0) {
		struct ipr_ctl_fields f;
		if (attr.type == IPR_CTL_A_COUNTER &&
		    ipr_ctl_fields_parse(attr.value, attr.len, &f, NULL) == 0 &&
		    ipr_ctl_has(&f, IPR_CTL_A_TEXT))
			json_status_line(&j, f.text);
	}
	json_end(&j, '}');
	return GWCTL_EXIT_OK;
}

int cmd_stats(int argc, char **argv)
{
	uint8_t buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_reply reply;
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	enum counters_format format = COUNTERS_TEXT;
	int opt, formats = 0;

	while ((opt = getopt_long(argc, argv, "jp", options, NULL)) != -1) {
		if (opt == 'j')
			format = COUNTERS_JSON;
		else if (opt == 'p')
			format = COUNTERS_PROMETHEUS;
		else
			return gwctl_usage_error("stats");
		formats++;
	}
	if (optind != argc || formats > 1)
		return gwctl_usage_error("stats");
	if (simple_request(IPR_CTL_STATS, buf, sizeof(buf), &reply) < 0)
		return GWCTL_EXIT_FAILED;
	print_counters(&reply, format, stdout);
	return GWCTL_EXIT_OK;
}

/* The reply lists problems of the published sources one per line, also when it fails. */
int cmd_reload(int argc, char **argv)
{
	uint8_t request[64], buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_builder b;
	struct ipr_ctl_reply reply;
	struct ipr_ctl_client *client;
	size_t len;
	int rc;

	if (cli_operands(argc, argv, NULL) != argc)
		return gwctl_usage_error("reload");
	client = cli_connect();
	if (!client)
		return GWCTL_EXIT_FAILED;
	ipr_ctl_build(&b, request, sizeof(request), IPR_CTL_RELOAD, 0,
		      ipr_ctl_client_next_id(client));
	rc = ipr_ctl_finish(&b, &len);
	if (rc == 0)
		rc = ipr_ctl_client_call(client, request, len, buf, sizeof(buf), CLI_TIMEOUT_MS,
					 &reply);
	ipr_ctl_client_free(client);
	if (rc < 0) {
		fprintf(stderr, "gwctl: reload: %s\n", strerror(-rc));
		return GWCTL_EXIT_FAILED;
	}
	if (reply.hdr.status != IPR_CTL_OK && reply.hdr.status != IPR_CTL_E_SOURCES) {
		fprintf(stderr, "gwctl: %s%s%s\n", ipr_ctl_status_text(reply.hdr.status),
			reply.fields.message[0] ? ": " : "", reply.fields.message);
		return GWCTL_EXIT_FAILED;
	}
	FILE *out = reply.hdr.status == IPR_CTL_OK ? stdout : stderr;
	if (reply.fields.message[0])
		fprintf(out, "%s\n", reply.fields.message);
	print_counters(&reply, COUNTERS_LINES, out);
	return reply.hdr.status == IPR_CTL_OK ? GWCTL_EXIT_OK : GWCTL_EXIT_FAILED;
}
