/* gwctl map, unmap, encode and ref: changing mappings by hand, and asking as a client would. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "commands.h"

static bool parse_ipref(const char *text, struct ipr_addr *addr)
{
	struct ipr_err err = { 0 };

	if (ipr_addr_parse(text, strlen(text), addr, &err) < 0) {
		fprintf(stderr, "gwctl: '%s': column %zu: %s\n", text, err.column, err.reason);
		return false;
	}
	if (addr->context.kind == IPR_CONTEXT_NAME) {
		fprintf(stderr, "gwctl: '%s': give the context as an address\n", text);
		return false;
	}
	return true;
}

static void put_context(struct ipr_ctl_builder *b, const struct ipr_context *c)
{
	if (c->kind == IPR_CONTEXT_IPV4)
		ipr_ctl_put_ip(b, IPR_CTL_A_CONTEXT, AF_INET, c->ipv4);
	else
		ipr_ctl_put_ip(b, IPR_CTL_A_CONTEXT, AF_INET6, c->ipv6);
}

/* Sends b and prints the mapping of the reply. */
static int run_and_print(struct ipr_ctl_client *client, struct ipr_ctl_builder *b, bool json)
{
	uint8_t buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_reply reply;
	struct ipr_mapping m;
	int rc = cli_call_lookup(client, b, buf, sizeof(buf), &reply);

	if (rc != 0)
		return rc > 0 ? GWCTL_EXIT_NOT_FOUND : GWCTL_EXIT_FAILED;
	if (ipr_mapping_from_fields(&reply.fields, &m) < 0) {
		fprintf(stderr, "gwctl: the daemon sent an incomplete mapping\n");
		return GWCTL_EXIT_FAILED;
	}
	cli_print_mapping(stdout, &m, reply.fields.ttl, json);
	return GWCTL_EXIT_OK;
}

static int with_client(struct ipr_ctl_builder *b, uint8_t *request, size_t cap, uint8_t kind,
		       void (*fill)(struct ipr_ctl_builder *, void *), void *arg, bool json)
{
	struct ipr_ctl_client *client = cli_connect();
	int status;

	if (!client)
		return GWCTL_EXIT_FAILED;
	ipr_ctl_build(b, request, cap, kind, 0, ipr_ctl_client_next_id(client));
	fill(b, arg);
	status = run_and_print(client, b, json);
	ipr_ctl_client_free(client);
	return status;
}

struct map_args {
	bool publish;
	int family;
	uint8_t address[16];
	struct ipr_addr addr;
	bool has_context;
	uint8_t want_family;
	const char *name;
	bool json;
};

static void fill_map(struct ipr_ctl_builder *b, void *arg)
{
	struct map_args *a = arg;

	ipr_ctl_put_u8(b, IPR_CTL_A_MAP_KIND,
		       a->publish ? IPR_MAP_PUBLISHED : IPR_MAP_STATIC_EXTERNAL);
	ipr_ctl_put_ip(b, a->publish ? IPR_CTL_A_LOCAL : IPR_CTL_A_ENCODED, a->family, a->address);
	put_context(b, &a->addr.context);
	ipr_ctl_put_ref(b, IPR_CTL_A_REF, &a->addr.ref);
	ipr_ctl_put_text(b, IPR_CTL_A_SOURCE, "cli");
}

/*
 * gwctl map ENCODED 'CONTEXT + REF'         a static mapping to a remote host
 * gwctl map --publish LOCAL 'CONTEXT + REF' publish a local host under one of our contexts
 */
int cmd_map(int argc, char **argv)
{
	static const struct option options[] = {
		{ "publish", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t request[256];
	struct ipr_ctl_builder b;
	struct map_args a = { 0 };
	int first, opt;

	while ((opt = getopt_long(argc, argv, "pj", options, NULL)) != -1) {
		if (opt == 'p')
			a.publish = true;
		else if (opt == 'j')
			a.json = true;
		else
			return gwctl_usage_error("map");
	}
	first = optind;
	if (argc != first + 2)
		return gwctl_usage_error("map");
	if (!cli_parse_ip(argv[first], &a.family, a.address)) {
		fprintf(stderr, "gwctl: '%s' is not an IP address\n", argv[first]);
		return GWCTL_EXIT_FAILED;
	}
	if (!parse_ipref(argv[first + 1], &a.addr))
		return GWCTL_EXIT_FAILED;
	return with_client(&b, request, sizeof(request), IPR_CTL_MAP, fill_map, &a, a.json);
}

struct unmap_args {
	bool by_ref;
	int family;
	uint8_t address[16];
	struct ipr_ref ref;
};

static void fill_unmap(struct ipr_ctl_builder *b, void *arg)
{
	struct unmap_args *a = arg;

	if (a->by_ref)
		ipr_ctl_put_ref(b, IPR_CTL_A_REF, &a->ref);
	else
		ipr_ctl_put_ip(b, IPR_CTL_A_ENCODED, a->family, a->address);
}

/* gwctl unmap ENCODED | REF */
int cmd_unmap(int argc, char **argv)
{
	uint8_t request[128];
	struct ipr_ctl_builder b;
	struct unmap_args a = { 0 };
	bool json;
	int first = cli_operands(argc, argv, &json), status;
	const char *key;

	if (first < 0 || argc != first + 1)
		return gwctl_usage_error("unmap");
	key = argv[first];
	if (!cli_parse_ip(key, &a.family, a.address)) {
		if (ipr_ref_parse(key, strlen(key), &a.ref, NULL) < 0) {
			fprintf(stderr, "gwctl: '%s' is neither an address nor a reference\n", key);
			return GWCTL_EXIT_FAILED;
		}
		a.by_ref = true;
	}
	status = with_client(&b, request, sizeof(request), IPR_CTL_UNMAP, fill_unmap, &a, json);
	if (status == GWCTL_EXIT_NOT_FOUND)
		fprintf(stderr, "gwctl: no mapping for %s\n", key);
	return status;
}

static void fill_encode(struct ipr_ctl_builder *b, void *arg)
{
	struct map_args *a = arg;

	put_context(b, &a->addr.context);
	ipr_ctl_put_ref(b, IPR_CTL_A_REF, &a->addr.ref);
	if (a->want_family)
		ipr_ctl_put_u8(b, IPR_CTL_A_FAMILY, a->want_family);
	if (a->name)
		ipr_ctl_put_text(b, IPR_CTL_A_NAME, a->name);
	ipr_ctl_put_text(b, IPR_CTL_A_SOURCE, "cli");
}

/* gwctl encode [--family 4|6] [--name NAME] 'CONTEXT + REF': as the resolver asks. */
int cmd_encode(int argc, char **argv)
{
	static const struct option options[] = {
		{ "family", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static char name[IPR_NAME_MAX + 1];
	uint8_t request[512];
	struct ipr_ctl_builder b;
	struct map_args a = { 0 };
	int opt;

	while ((opt = getopt_long(argc, argv, "f:n:j", options, NULL)) != -1) {
		if (opt == 'f' && (!strcmp(optarg, "4") || !strcmp(optarg, "6"))) {
			a.want_family = (uint8_t)(optarg[0] - '0');
		} else if (opt == 'n') {
			if (ipr_name_parse(optarg, strlen(optarg), name, NULL) < 0) {
				fprintf(stderr, "gwctl: '%s' is not a DNS name\n", optarg);
				return GWCTL_EXIT_FAILED;
			}
			a.name = name;
		} else if (opt == 'j') {
			a.json = true;
		} else {
			return gwctl_usage_error("encode");
		}
	}
	if (optind != argc - 1)
		return gwctl_usage_error("encode");
	if (!parse_ipref(argv[optind], &a.addr))
		return GWCTL_EXIT_FAILED;
	return with_client(&b, request, sizeof(request), IPR_CTL_GET_EA, fill_encode, &a, a.json);
}

static void fill_ref(struct ipr_ctl_builder *b, void *arg)
{
	struct map_args *a = arg;

	ipr_ctl_put_ip(b, IPR_CTL_A_LOCAL, a->family, a->address);
	ipr_ctl_put_text(b, IPR_CTL_A_SOURCE, "cli");
}

/* gwctl ref LOCAL-ADDRESS: the reference a local host is known by, as the dataplane asks. */
int cmd_ref(int argc, char **argv)
{
	uint8_t request[128];
	struct ipr_ctl_builder b;
	struct map_args a = { 0 };
	int first = cli_operands(argc, argv, &a.json);

	if (first < 0 || argc != first + 1)
		return gwctl_usage_error("ref");
	if (!cli_parse_ip(argv[first], &a.family, a.address)) {
		fprintf(stderr, "gwctl: '%s' is not an IP address\n", argv[first]);
		return GWCTL_EXIT_FAILED;
	}
	return with_client(&b, request, sizeof(request), IPR_CTL_GET_REF, fill_ref, &a, a.json);
}
