/* gwctl status, stats and reload: the daemon's own view of itself. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
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

/* Walks the COUNTER nests of a reply: each has TEXT and, for stats, VALUE. */
static void print_counters(const struct ipr_ctl_reply *reply, bool json, bool with_values)
{
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr attr;
	bool first = true;

	if (json)
		fputs("{", stdout);
	ipr_ctl_iter_init(&it, reply->attrs, reply->attrs_len);
	while (ipr_ctl_iter_next(&it, &attr) > 0) {
		struct ipr_ctl_fields f;
		if (attr.type != IPR_CTL_A_COUNTER ||
		    ipr_ctl_fields_parse(attr.value, attr.len, &f, NULL) < 0 ||
		    !ipr_ctl_has(&f, IPR_CTL_A_TEXT))
			continue;
		if (json)
			printf("%s\n  \"%s\": %llu", first ? "" : ",", f.text,
			       (unsigned long long)f.value);
		else if (with_values)
			printf("%-32s %llu\n", f.text, (unsigned long long)f.value);
		else
			printf("%s\n", f.text);
		first = false;
	}
	if (json)
		fputs("\n}\n", stdout);
}

int cmd_status(int argc, char **argv)
{
	uint8_t buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_reply reply;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: gwctl status\n");
		return GWCTL_EXIT_USAGE;
	}
	if (simple_request(IPR_CTL_STATUS, buf, sizeof(buf), &reply) < 0)
		return GWCTL_EXIT_FAILED;
	print_counters(&reply, false, false);
	return GWCTL_EXIT_OK;
}

int cmd_stats(int argc, char **argv)
{
	uint8_t buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_reply reply;
	bool json = argc == 2 && !strcmp(argv[1], "--json");

	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "usage: gwctl stats [--json]\n");
		return GWCTL_EXIT_USAGE;
	}
	if (simple_request(IPR_CTL_STATS, buf, sizeof(buf), &reply) < 0)
		return GWCTL_EXIT_FAILED;
	print_counters(&reply, json, true);
	return GWCTL_EXIT_OK;
}

int cmd_reload(int argc, char **argv)
{
	uint8_t buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_reply reply;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: gwctl reload\n");
		return GWCTL_EXIT_USAGE;
	}
	if (simple_request(IPR_CTL_RELOAD, buf, sizeof(buf), &reply) < 0)
		return GWCTL_EXIT_FAILED;
	if (reply.fields.message[0])
		printf("%s\n", reply.fields.message);
	return GWCTL_EXIT_OK;
}
