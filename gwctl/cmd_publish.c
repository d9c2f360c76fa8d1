/* gwctl publish: writes the records that publish a local server, choosing an unused reference. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "validity.h"

/* Tries before giving up on finding a reference nobody uses. */
#define PICK_TRIES 64

__extension__ typedef unsigned __int128 u128;

static u128 wide(const struct ipr_ref *r)
{
	return ((u128)r->hi << 64) | r->lo;
}

/*
 * A random reference outside 0-1023 and outside the dynamic range: below it when there is
 * room (short references read better in zone files), else above it.
 */
static struct ipr_ref random_published_ref(const struct gwctl_config *cfg)
{
	u128 low = IPR_REF_RESERVED_END, high, min = wide(&cfg->dynamic_ref_min),
	     max = wide(&cfg->dynamic_ref_max);
	u128 value;

	if (min > low + IPR_REF_RESERVED_END) {
		high = min - 1;
	} else {
		low = max + 1;
		high = low + ((u128)1 << 32); /* plenty of room, and still short on the wire */
	}
	value = low +
		(randombytes_random() | ((u128)randombytes_random() << 32)) % (high - low + 1);
	return (struct ipr_ref){ .hi = (uint64_t)(value >> 64), .lo = (uint64_t)value };
}

/* 1 when the daemon knows the reference, 0 when not, -1 when it could not be asked. */
static int ref_in_use(struct ipr_ctl_client *client, const struct ipr_ref *ref)
{
	uint8_t request[64], buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_builder b;
	struct ipr_ctl_reply reply;
	size_t len;

	ipr_ctl_build(&b, request, sizeof(request), IPR_CTL_LOOKUP_REF, 0,
		      ipr_ctl_client_next_id(client));
	ipr_ctl_put_ref(&b, IPR_CTL_A_REF, ref);
	if (ipr_ctl_finish(&b, &len) < 0 ||
	    ipr_ctl_client_call(client, request, len, buf, sizeof(buf), CLI_TIMEOUT_MS, &reply) < 0)
		return -1;
	return reply.hdr.status == IPR_CTL_OK ? 1 : 0;
}

/*
 * A --context must be one of ours when the configuration names any (in either form of an IPv4
 * address), and at least one some gateway could have when it names none.
 */
static bool check_context(const struct gwctl_config *cfg, struct ipr_context *context)
{
	char reason[VALIDITY_REASON_MAX];
	struct ipr_site site;
	const char *problem;

	validity_site(cfg, &site);
	if (site.own_count)
		problem = validity_our_context(&site, context, reason);
	else
		problem = validity_remote_context(NULL, context, reason);
	if (problem)
		fprintf(stderr, "gwctl: %s\n", problem);
	return !problem;
}

/* The gateway's context to publish under: --context, else its first name, else its address. */
static bool pick_context(const struct gwctl_config *cfg, const char *given, char *out, size_t size)
{
	struct ipr_context context;

	if (given) {
		if (ipr_context_parse(given, strlen(given), &context, NULL) < 0)
			return false;
		(void)ipr_context_unmap(&context); /* an IPv4 context is written as IPv4 */
		ipr_context_format(&context, out);
	} else if (cfg->gateway_name_count) {
		snprintf(out, size, "%s", cfg->gateway_names[0]);
	} else if (cfg->gateway_count) {
		inet_ntop(cfg->gateways[0].family, cfg->gateways[0].addr, out, (socklen_t)size);
	} else {
		return false;
	}
	return true;
}

int cmd_publish(int argc, char **argv)
{
	static const struct option options[] = {
		{ "ref", required_argument, NULL, 'r' },
		{ "address", required_argument, NULL, 'a' },
		{ "context", required_argument, NULL, 'c' },
		{ "hosts", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const struct gwctl_config *cfg = cli_config();
	const char *ref_text = NULL, *address_text = NULL, *context_given = NULL;
	char name[IPR_NAME_MAX + 1], context[IPR_ADDR_TEXT_MAX], ref_dec[IPR_REF_TEXT_MAX];
	bool hosts = false;
	struct ipr_ref ref;
	int family = 0, opt;
	uint8_t address[16];

	while ((opt = getopt_long(argc, argv, "r:a:c:H", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			ref_text = optarg;
			break;
		case 'a':
			address_text = optarg;
			break;
		case 'c':
			context_given = optarg;
			break;
		case 'H':
			hosts = true;
			break;
		default:
			return gwctl_usage_error("publish");
		}
	}
	if (optind != argc - 1 || (hosts && !address_text)) {
		return gwctl_usage_error("publish");
	}
	if (ipr_name_parse(argv[optind], strlen(argv[optind]), name, NULL) < 0) {
		fprintf(stderr, "gwctl: '%s' is not a DNS name\n", argv[optind]);
		return GWCTL_EXIT_FAILED;
	}
	if (address_text && !cli_parse_ip(address_text, &family, address)) {
		fprintf(stderr, "gwctl: '%s' is not an IP address\n", address_text);
		return GWCTL_EXIT_FAILED;
	}
	if (address_text) {
		char reason[VALIDITY_REASON_MAX];
		struct ipr_site site;

		validity_site(cfg, &site);
		if (validity_local_host(&site, family, address, reason)) {
			fprintf(stderr, "gwctl: %s\n", reason);
			return GWCTL_EXIT_FAILED;
		}
	}
	if (context_given) {
		struct ipr_context given;

		if (ipr_context_parse(context_given, strlen(context_given), &given, NULL) == 0 &&
		    !check_context(cfg, &given))
			return GWCTL_EXIT_FAILED;
	}
	if (!pick_context(cfg, context_given, context, sizeof(context))) {
		fprintf(stderr, "gwctl: no context to publish under: give --context, or set gateway"
				" or gateway-name in the configuration\n");
		return GWCTL_EXIT_FAILED;
	}

	if (ref_text) {
		struct ipr_err err = { 0 };
		if (ipr_ref_parse(ref_text, strlen(ref_text), &ref, &err) < 0) {
			fprintf(stderr, "gwctl: '%s': column %zu: %s\n", ref_text, err.column,
				err.reason);
			return GWCTL_EXIT_FAILED;
		}
		const char *problem = ipr_ref_use_text(
			ipr_ref_use_of(&ref, &cfg->dynamic_ref_min, &cfg->dynamic_ref_max));
		if (problem) {
			fprintf(stderr, "gwctl: %s\n", problem);
			return GWCTL_EXIT_FAILED;
		}
	} else {
		struct ipr_ctl_client *client = NULL;
		int used = -1;
		if (ipr_ctl_client_connect(cli_socket_path, &client) < 0)
			client = NULL;
		for (int i = 0; i < PICK_TRIES; i++) {
			ref = random_published_ref(cfg);
			used = client ? ref_in_use(client, &ref) : -1;
			if (used <= 0)
				break;
		}
		ipr_ctl_client_free(client);
		if (used < 0)
			fprintf(stderr,
				"gwctl: gwctld not reachable: the reference is random but was not"
				" checked against the mappings in use\n");
	}
	ipr_ref_format(&ref, ref_dec);

	const char *dot = strchr(name, '.');
	size_t label = dot ? (size_t)(dot - name) : strlen(name);
	char ip[INET6_ADDRSTRLEN] = "";
	if (address_text)
		inet_ntop(family, address, ip, sizeof(ip));
	if (hosts) {
		printf("%s\t%s\t#= public %s + %s\n", ip, name, context, ref_dec);
		return GWCTL_EXIT_OK;
	}
	printf("; the public zone:\n%s.\tIN\tTXT\t\"AA %s + %s\"\n", name, context, ref_dec);
	if (address_text)
		printf("; the internal zone, at the same name relative to its origin (here if the"
		       " public origin is %s):\n%.*s\tIN\t%s\t%s\n",
		       dot ? dot + 1 : name, (int)label, name, family == AF_INET ? "A" : "AAAA",
		       ip);
	return GWCTL_EXIT_OK;
}
