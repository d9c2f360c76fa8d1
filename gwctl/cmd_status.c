/* gwctl status, health, stats and reload: the daemon's own view of itself. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_prometheus.h"
#include "cli_status.h"
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

/* The reply's next COUNTER nest with TEXT (a status line, or a counter with its VALUE). */
static bool next_counter(struct ipr_ctl_iter *it, struct ipr_ctl_fields *f)
{
	struct ipr_ctl_attr attr;

	while (ipr_ctl_iter_next(it, &attr) > 0) {
		if (attr.type == IPR_CTL_A_COUNTER &&
		    ipr_ctl_fields_parse(attr.value, attr.len, f, NULL) == 0 &&
		    ipr_ctl_has(f, IPR_CTL_A_TEXT))
			return true;
	}
	return false;
}

/* Walks the COUNTER nests of a reply: each has TEXT and, for stats, VALUE. */
static void print_counters(const struct ipr_ctl_reply *reply, enum counters_format format,
			   FILE *out)
{
	bool json = format == COUNTERS_JSON;
	struct ipr_ctl_iter it;
	struct ipr_ctl_fields f;
	struct json_out j;

	json_init(&j, out, true);
	if (json)
		json_object_begin(&j, NULL);
	ipr_ctl_iter_init(&it, reply->attrs, reply->attrs_len);
	while (next_counter(&it, &f)) {
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

/* A STATUS line's value for key ("key: value"), or NULL. */
static const char *status_value(const struct ipr_ctl_reply *reply, const char *key,
				struct ipr_ctl_fields *f)
{
	size_t n = strlen(key);
	struct ipr_ctl_iter it;

	ipr_ctl_iter_init(&it, reply->attrs, reply->attrs_len);
	while (next_counter(&it, f)) {
		if (!strncmp(f->text, key, n) && !strncmp(f->text + n, ": ", 2))
			return f->text + n + 2;
	}
	return NULL;
}

/* A STATUS reply whose "store:" line says the store is unavailable: status fails, saying so. */
static int store_trouble(const struct ipr_ctl_reply *reply)
{
	struct ipr_ctl_fields f;
	const char *store = status_value(reply, "store", &f);

	if (!store)
		return GWCTL_EXIT_OK;
	fprintf(stderr, "gwctl: status: the store is %s\n", store);
	return GWCTL_EXIT_FAILED;
}

int cmd_status(int argc, char **argv)
{
	uint8_t buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_reply reply;
	struct ipr_ctl_iter it;
	struct ipr_ctl_fields f;
	struct json_out j;
	bool json;

	if (cli_operands(argc, argv, &json) != argc)
		return gwctl_usage_error("status");
	if (simple_request(IPR_CTL_STATUS, buf, sizeof(buf), &reply) < 0)
		return GWCTL_EXIT_FAILED;
	if (!json) {
		print_counters(&reply, COUNTERS_LINES, stdout);
		return store_trouble(&reply);
	}
	json_init(&j, stdout, true);
	json_object_begin(&j, NULL);
	ipr_ctl_iter_init(&it, reply.attrs, reply.attrs_len);
	while (next_counter(&it, &f))
		cli_status_json_line(&j, f.text);
	json_end(&j, '}');
	return store_trouble(&reply);
}

/* The dataplane reports every 2 s: three reports missed and it is taken for stuck. */
#define HEALTH_MAX_AGE_DEFAULT_S 6

/*
 * gwctl health: exit 0 when the gateway can carry traffic (gwctld answers STATUS; a dataplane
 * is connected; it reported within max-age; with --store, the store is readable), else 1:
 * the check keepalived runs to move a site's addresses away from a gateway that cannot.
 */
int cmd_health(int argc, char **argv)
{
	uint8_t buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_reply reply;
	static const struct option options[] = {
		{ "max-age", required_argument, NULL, 'a' },
		{ "store", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct ipr_ctl_fields f;
	unsigned long long connected, age_ms;
	double max_age = HEALTH_MAX_AGE_DEFAULT_S;
	bool need_store = false;
	const char *value, *store;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "a:s", options, NULL)) != -1) {
		if (opt == 's') {
			need_store = true;
			continue;
		}
		if (opt != 'a')
			return gwctl_usage_error("health");
		errno = 0;
		max_age = strtod(optarg, &end);
		if (errno || end == optarg || *end || !(max_age > 0 && max_age <= 3600)) {
			fprintf(stderr, "gwctl: health: --max-age takes seconds, above 0 and at "
					"most 3600\n");
			return GWCTL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return gwctl_usage_error("health");
	if (simple_request(IPR_CTL_STATUS, buf, sizeof(buf), &reply) < 0)
		return GWCTL_EXIT_FAILED; /* the reason is printed: gwctld is not running */
	/*
	 * The store away fails new names, not the flows the dataplane's tables carry, and a
	 * shared store away fails every gateway alike: moving the addresses would help nothing.
	 */
	store = status_value(&reply, "store", &f);
	if (store && need_store) {
		fprintf(stderr, "gwctl: health: the store is %s\n", store);
		return GWCTL_EXIT_FAILED;
	}
	value = status_value(&reply, "dataplanes-connected", &f);
	if (!value || sscanf(value, "%llu", &connected) != 1) {
		fprintf(stderr, "gwctl: health: gwctld does not say whether a dataplane is "
				"connected (a gwctld older than this gwctl?)\n");
		return GWCTL_EXIT_FAILED;
	}
	if (connected == 0) {
		fprintf(stderr, "gwctl: health: no dataplane is connected to gwctld\n");
		return GWCTL_EXIT_FAILED;
	}
	value = status_value(&reply, "dataplane-report-age", &f);
	if (!value || sscanf(value, "%llu ms", &age_ms) != 1) {
		fprintf(stderr, "gwctl: health: the dataplane has not reported yet\n");
		return GWCTL_EXIT_FAILED;
	}
	if ((double)age_ms > max_age * 1000) {
		fprintf(stderr,
			"gwctl: health: the dataplane's last report is %.1f s old (at most "
			"%g s)\n",
			(double)age_ms / 1000, max_age);
		return GWCTL_EXIT_FAILED;
	}
	printf("ok: gwctld answers, %llu dataplane%s connected, last report %.1f s ago%s\n",
	       connected, connected == 1 ? "" : "s", (double)age_ms / 1000,
	       store ? "; store unavailable (new names fail meanwhile)" : "");
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
