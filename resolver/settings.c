/* The ipref module's settings file: `key = value` lines with exact error columns. */
#include "settings.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "conf_table.h"
#include "synth.h"

/* "auto", or "ipv4", "ipv6" or both separated by blanks. */
static int parse_families(void *out, const char *v, size_t n, const void *target,
			  struct ipr_err *err)
{
	unsigned families = 0;
	size_t i = 0;

	(void)target;
	if (n == 4 && memcmp(v, "auto", 4) == 0) {
		families = SETTINGS_FAMILY_AUTO;
		i = n;
	}
	while (i < n) {
		size_t start = i, len;

		while (i < n && v[i] != ' ' && v[i] != '\t')
			i++;
		len = i - start;
		if (len == 4 && memcmp(v + start, "ipv4", 4) == 0)
			families |= SETTINGS_FAMILY_V4;
		else if (len == 4 && memcmp(v + start, "ipv6", 4) == 0)
			families |= SETTINGS_FAMILY_V6;
		else
			return ipr_fail(err, EINVAL, start + 1,
					"expected auto, or ipv4 and/or ipv6");
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
	}
	memcpy(out, &families, sizeof(families));
	return 0;
}

#define FIELD(f) IPR_SETTING_FIELD(struct resolver_settings, f)
#define MILLISECONDS(f, lo, hi, range) \
	IPR_SETTING_UINT, FIELD(f), .min = (lo), .max = (hi), .reason = (range)

static const struct ipr_setting rows[] = {
	{ "socket", IPR_SETTING_PATH, FIELD(socket), .reason = "socket path too long" },
	{ "timeout-ms",
	  MILLISECONDS(timeout_ms, 1, SETTINGS_TIMEOUT_MAX, "must be 1 to 5000 milliseconds") },
	{ "holdoff-ms",
	  MILLISECONDS(holdoff_ms, 0, SETTINGS_HOLDOFF_MAX, "must be 0 to 60000 milliseconds") },
	{ "internet-families", IPR_SETTING_CUSTOM, FIELD(families), .parse = parse_families },
	{ "max-records", IPR_SETTING_UINT, FIELD(max_records), .min = 1, .max = SYNTH_AA_MAX,
	  .reason = "must be 1 to 8" },
	{ "lookup-wait-ms", MILLISECONDS(lookup_wait_ms, 1, SETTINGS_LOOKUP_WAIT_MAX,
					 "must be 1 to 5000 milliseconds") },
};

const struct ipr_settings settings_table = {
	.rows = rows,
	.count = sizeof(rows) / sizeof(rows[0]),
	.seen_offset = offsetof(struct resolver_settings, seen),
};

void settings_defaults(struct resolver_settings *s)
{
	static const char socket[] = "/run/ipref/gwctl.sock";

	_Static_assert(sizeof(socket) <= SETTINGS_SOCKET_MAX, "default socket path fits");
	memset(s, 0, sizeof(*s));
	memcpy(s->socket, socket, sizeof(socket));
	s->timeout_ms = 1000;
	s->holdoff_ms = 1000;
	s->families = SETTINGS_FAMILY_AUTO;
	s->max_records = SYNTH_AA_MAX;
	s->lookup_wait_ms = 500;
}

int settings_parse_line(struct resolver_settings *s, const char *line, size_t len,
			struct ipr_err *err)
{
	return ipr_settings_parse_line(&settings_table, s, line, len, err);
}

int settings_load(const char *path, struct resolver_settings *out, char *msg, size_t msg_size)
{
	struct resolver_settings next;
	int rc;

	settings_defaults(&next);
	rc = ipr_settings_read(&settings_table, &next, path, msg, msg_size);
	if (rc == 0 || rc == -ENOENT)
		*out = next;
	return rc;
}
