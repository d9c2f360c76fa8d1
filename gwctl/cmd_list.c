/* gwctl list and show: reading mappings without changing anything. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cli.h"
#include "commands.h"

int cmd_list(int argc, char **argv)
{
	uint8_t request[64], buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_reply reply;
	struct ipr_ctl_client *client;
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "hex", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	enum ipr_ref_style style = IPR_REF_DECIMAL;
	bool json = false, more = true;
	struct json_out j;
	uint64_t cursor = 0;
	int64_t now = (int64_t)time(NULL);
	int status = GWCTL_EXIT_OK, opt;

	while ((opt = getopt_long(argc, argv, "jx", options, NULL)) != -1) {
		if (opt == 'j')
			json = true;
		else if (opt == 'x')
			style = IPR_REF_HEX;
		else
			return gwctl_usage_error("list");
	}
	if (optind != argc)
		return gwctl_usage_error("list");
	client = cli_connect();
	if (!client)
		return GWCTL_EXIT_FAILED;
	json_init(&j, stdout, true);
	if (json)
		json_array_begin(&j, NULL);
	else
		cli_print_list_header(stdout);
	while (more) {
		struct ipr_ctl_builder b;
		struct ipr_ctl_iter it;
		struct ipr_ctl_attr attr;

		ipr_ctl_build(&b, request, sizeof(request), IPR_CTL_LIST, 0,
			      ipr_ctl_client_next_id(client));
		if (cursor)
			ipr_ctl_put_u64(&b, IPR_CTL_A_CURSOR, cursor);
		if (cli_call(client, &b, buf, sizeof(buf), &reply) < 0) {
			status = GWCTL_EXIT_FAILED;
			break;
		}
		ipr_ctl_iter_init(&it, reply.attrs, reply.attrs_len);
		while (ipr_ctl_iter_next(&it, &attr) > 0) {
			struct ipr_ctl_fields f;
			struct ipr_mapping m;
			if (attr.type != IPR_CTL_A_MAPPING ||
			    ipr_ctl_fields_parse(attr.value, attr.len, &f, NULL) < 0 ||
			    ipr_mapping_from_fields(&f, &m) < 0)
				continue;
			if (json)
				cli_json_mapping(&j, &m);
			else
				cli_print_list_row(stdout, &m, style, now);
		}
		more = (reply.hdr.flags & IPR_CTL_F_MORE) &&
		       ipr_ctl_has(&reply.fields, IPR_CTL_A_CURSOR);
		cursor = reply.fields.cursor;
	}
	if (json)
		json_end(&j, ']');
	ipr_ctl_client_free(client);
	return status;
}

struct show_key {
	int family;
	uint8_t ip[16];
	struct ipr_addr addr;
	uint8_t want_family;
	bool json;
};

/* One lookup; 0 printed, 1 not found, -1 error already printed. */
static int show_one(struct ipr_ctl_client *client, uint8_t kind,
		    void (*fill)(void *, struct ipr_ctl_builder *), struct show_key *arg)
{
	uint8_t request[128], buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_builder b;
	struct ipr_ctl_reply reply;
	struct ipr_mapping m;
	int rc;

	ipr_ctl_build(&b, request, sizeof(request), kind, 0, ipr_ctl_client_next_id(client));
	fill(arg, &b);
	rc = cli_call_lookup(client, &b, buf, sizeof(buf), &reply);
	if (rc != 0)
		return rc;
	if (ipr_mapping_from_fields(&reply.fields, &m) < 0) {
		fprintf(stderr, "gwctl: the daemon sent an incomplete mapping\n");
		return -1;
	}
	cli_print_mapping(stdout, &m, reply.fields.ttl, arg->json);
	return 0;
}

static void fill_encoded(void *arg, struct ipr_ctl_builder *b)
{
	struct show_key *k = arg;
	ipr_ctl_put_ip(b, IPR_CTL_A_ENCODED, k->family, k->ip);
}

static void fill_local(void *arg, struct ipr_ctl_builder *b)
{
	struct show_key *k = arg;
	ipr_ctl_put_ip(b, IPR_CTL_A_LOCAL, k->family, k->ip);
}

static void fill_ref(void *arg, struct ipr_ctl_builder *b)
{
	struct show_key *k = arg;
	ipr_ctl_put_ref(b, IPR_CTL_A_REF, &k->addr.ref);
}

static void fill_remote(void *arg, struct ipr_ctl_builder *b)
{
	struct show_key *k = arg;
	const struct ipr_context *c = &k->addr.context;
	ipr_ctl_put_ip(b, IPR_CTL_A_CONTEXT, c->kind == IPR_CONTEXT_IPV4 ? AF_INET : AF_INET6,
		       c->kind == IPR_CONTEXT_IPV4 ? c->ipv4 : c->ipv6);
	ipr_ctl_put_ref(b, IPR_CTL_A_REF, &k->addr.ref);
	ipr_ctl_put_u8(b, IPR_CTL_A_FAMILY, k->want_family);
}

/* gwctl show KEY: KEY is an encoded or local address, an IPREF address, or one of our refs. */
int cmd_show(int argc, char **argv)
{
	struct ipr_ctl_client *client;
	struct show_key key;
	struct ipr_err err = { 0 };
	int rc = 1, first;
	const char *text;

	memset(&key, 0, sizeof(key));
	first = cli_operands(argc, argv, &key.json);
	if (first < 0 || first != argc - 1)
		return gwctl_usage_error("show");
	text = argv[first];
	client = cli_connect();
	if (!client)
		return GWCTL_EXIT_FAILED;
	if (cli_parse_ip(text, &key.family, key.ip)) {
		rc = show_one(client, IPR_CTL_LOOKUP_EA, fill_encoded, &key);
		if (rc == 1)
			rc = show_one(client, IPR_CTL_LOOKUP_REF, fill_local, &key);
	} else if (strchr(text, '+')) {
		if (ipr_addr_parse(text, strlen(text), &key.addr, &err) < 0) {
			fprintf(stderr, "gwctl: '%s': column %zu: %s\n", text, err.column,
				err.reason);
			rc = -1;
		} else if (key.addr.context.kind == IPR_CONTEXT_NAME) {
			fprintf(stderr,
				"gwctl: mappings hold contexts as addresses; resolve the name"
				" first\n");
			rc = -1;
		} else {
			for (uint8_t fam = 4; fam <= 6 && rc == 1; fam += 2) {
				key.want_family = fam;
				rc = show_one(client, IPR_CTL_LOOKUP_EA, fill_remote, &key);
			}
		}
	} else if (ipr_ref_parse(text, strlen(text), &key.addr.ref, &err) == 0) {
		rc = show_one(client, IPR_CTL_LOOKUP_REF, fill_ref, &key);
	} else {
		fprintf(stderr,
			"gwctl: '%s' is neither an address, an IPREF address nor a reference\n",
			text);
		rc = -1;
	}
	ipr_ctl_client_free(client);
	if (rc == 1) {
		fprintf(stderr, "gwctl: no mapping for %s\n", text);
		return GWCTL_EXIT_NOT_FOUND;
	}
	return rc == 0 ? GWCTL_EXIT_OK : GWCTL_EXIT_FAILED;
}
