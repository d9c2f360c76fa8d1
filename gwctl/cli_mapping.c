/* How gwctl prints mappings: list's columns, show's lines and the JSON mapping object. */
#include "cli.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

/* One width for the header and the rows; long values push the next columns right. */
#define LIST_FORMAT "%-15s %-15s %-15s %-17s %-6s %-17s %s\n"

const char *cli_kind_token(enum ipr_mapping_kind kind)
{
	switch (kind) {
	case IPR_MAP_PUBLISHED:
		return "published";
	case IPR_MAP_DYNAMIC_LOCAL:
		return "dynamic_local";
	case IPR_MAP_DYNAMIC_REMOTE:
		return "dynamic_remote";
	case IPR_MAP_STATIC_EXTERNAL:
		return "static_external";
	}
	return "unknown";
}

void cli_rfc3339(int64_t t, char buf[CLI_TIME_TEXT_MAX])
{
	time_t when = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&when, &tm) || !strftime(buf, CLI_TIME_TEXT_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, CLI_TIME_TEXT_MAX, "1970-01-01T00:00:00Z");
}

void cli_duration(int64_t secs, char buf[CLI_TIME_TEXT_MAX])
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	size_t n = 0;
	int shown = 0;

	if (secs <= 0) {
		snprintf(buf, CLI_TIME_TEXT_MAX, "0s");
		return;
	}
	/* the two largest units: "3h59m", "59m58s", "12s" */
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && shown < 2; i++) {
		int64_t count = secs / units[i].secs;
		if (!count && !shown)
			continue;
		secs -= count * units[i].secs;
		if (count)
			n += (size_t)snprintf(buf + n, CLI_TIME_TEXT_MAX - n, "%lld%c",
					      (long long)count, units[i].unit);
		shown++;
	}
}

void cli_print_list_header(FILE *out)
{
	fprintf(out, LIST_FORMAT, "KIND", "ADDRESS", "CONTEXT", "REF", "LEASE", "NAME", "SOURCE");
}

void cli_print_list_row(FILE *out, const struct ipr_mapping *m, enum ipr_ref_style style,
			int64_t now)
{
	char address[INET6_ADDRSTRLEN], context[IPR_ADDR_TEXT_MAX], ref[IPR_REF_TEXT_MAX];
	char lease[CLI_TIME_TEXT_MAX] = "-";

	inet_ntop(m->family, m->address, address, sizeof(address));
	ipr_context_format(&m->context, context);
	if (style == IPR_REF_HEX)
		ipr_ref_format_hex(&m->ref, ref);
	else
		ipr_ref_format(&m->ref, ref);
	if (m->expires)
		cli_duration(m->expires - now, lease);
	fprintf(out, LIST_FORMAT, cli_kind_token(m->kind), address, context, ref, lease,
		m->name[0] ? m->name : "-", m->source[0] ? m->source : "-");
}

void cli_json_mapping(struct json_out *j, const struct ipr_mapping *m)
{
	char address[INET6_ADDRSTRLEN], context[IPR_ADDR_TEXT_MAX], ref[IPR_REF_TEXT_MAX];
	char expires[CLI_TIME_TEXT_MAX];

	inet_ntop(m->family, m->address, address, sizeof(address));
	ipr_context_format(&m->context, context);
	ipr_ref_format(&m->ref, ref);
	json_object_begin(j, NULL);
	json_string(j, "kind", cli_kind_token(m->kind));
	json_u64(j, "family", m->family == AF_INET ? 4 : 6);
	json_string(j, "address", address);
	json_string(j, "context", context);
	json_string(j, "ref", ref);
	json_string(j, "name", m->name[0] ? m->name : NULL);
	if (m->expires) {
		cli_rfc3339(m->expires, expires);
		json_string(j, "expires", expires);
	} else {
		json_null(j, "expires");
	}
	json_string(j, "source", m->source[0] ? m->source : NULL);
	json_end(j, '}');
}

void cli_print_mapping(FILE *out, const struct ipr_mapping *m, uint32_t ttl, bool json)
{
	char address[INET6_ADDRSTRLEN], ipref[IPR_ADDR_TEXT_MAX], when[CLI_TIME_TEXT_MAX];
	struct ipr_addr addr = { .context = m->context, .ref = m->ref };

	if (json) {
		struct json_out j;
		json_init(&j, out, true);
		cli_json_mapping(&j, m);
		return;
	}
	inet_ntop(m->family, m->address, address, sizeof(address));
	ipr_addr_format(&addr, IPR_REF_DECIMAL, ipref);
	fprintf(out, "kind:    %s\n", cli_kind_token(m->kind));
	fprintf(out, "%s %s\n", ipr_mapping_is_local(m) ? "address:" : "encoded:", address);
	fprintf(out, "ipref:   %s\n", ipref);
	fprintf(out, "name:    %s\n", m->name[0] ? m->name : "-");
	if (m->expires) {
		cli_rfc3339(m->expires, when);
		fprintf(out, "expires: %s (in %u s)\n", when, ttl);
	} else {
		fprintf(out, "expires: never\n");
	}
	fprintf(out, "source:  %s\n", m->source[0] ? m->source : "-");
}
