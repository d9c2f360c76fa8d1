/* The ipref module's settings file: `key = value` lines with exact error columns. */
#include "settings.h"

#include <errno.h>
#include <string.h>

#include "conf.h"
#include "synth.h"

struct settings_key {
	const char *name;
	/* Sees only the value; columns count from 1 at its first character. */
	int (*set)(struct resolver_settings *s, const char *v, size_t n, struct ipr_err *err);
};

static int parse_bounded(const char *v, size_t n, uint64_t min, uint64_t max, unsigned *out,
			 const char *range, struct ipr_err *err)
{
	uint64_t value = 0;
	int rc = ipr_conf_uint(v, n, max, &value, err);

	if (rc == -ERANGE || (rc == 0 && value < min))
		return ipr_fail(err, ERANGE, 1, range);
	if (rc < 0)
		return rc;
	*out = (unsigned)value;
	return 0;
}

static int set_socket(struct resolver_settings *s, const char *v, size_t n, struct ipr_err *err)
{
	if (v[0] != '/')
		return ipr_fail(err, EINVAL, 1, "must be an absolute path");
	if (n >= sizeof(s->socket))
		return ipr_fail(err, EINVAL, 1, "socket path too long");
	memcpy(s->socket, v, n);
	s->socket[n] = '\0';
	return 0;
}

static int set_timeout(struct resolver_settings *s, const char *v, size_t n, struct ipr_err *err)
{
	return parse_bounded(v, n, 1, SETTINGS_TIMEOUT_MAX, &s->timeout_ms,
			     "must be 1 to 5000 milliseconds", err);
}

static int set_holdoff(struct resolver_settings *s, const char *v, size_t n, struct ipr_err *err)
{
	return parse_bounded(v, n, 0, SETTINGS_HOLDOFF_MAX, &s->holdoff_ms,
			     "must be 0 to 60000 milliseconds", err);
}

static int set_lookup_wait(struct resolver_settings *s, const char *v, size_t n,
			   struct ipr_err *err)
{
	return parse_bounded(v, n, 1, SETTINGS_LOOKUP_WAIT_MAX, &s->lookup_wait_ms,
			     "must be 1 to 5000 milliseconds", err);
}

static int set_max_records(struct resolver_settings *s, const char *v, size_t n,
			   struct ipr_err *err)
{
	return parse_bounded(v, n, 1, SYNTH_AA_MAX, &s->max_records, "must be 1 to 8", err);
}

/* "auto", or "ipv4", "ipv6" or both separated by blanks. */
static int set_families(struct resolver_settings *s, const char *v, size_t n, struct ipr_err *err)
{
	unsigned families = 0;
	size_t i = 0;

	if (n == 4 && memcmp(v, "auto", 4) == 0) {
		s->families = SETTINGS_FAMILY_AUTO;
		return 0;
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
	s->families = families;
	return 0;
}

static const struct settings_key keys[] = {
	{ "socket", set_socket },	    { "timeout-ms", set_timeout },
	{ "holdoff-ms", set_holdoff },	    { "internet-families", set_families },
	{ "max-records", set_max_records }, { "lookup-wait-ms", set_lookup_wait },
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))
_Static_assert(KEY_COUNT <= 32, "struct resolver_settings.seen has one bit per key");

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
	struct resolver_settings next;
	struct ipr_conf_line kv;
	size_t k;
	int rc = ipr_conf_split(line, len, &kv, err);

	if (rc <= 0)
		return rc;
	for (k = 0; k < KEY_COUNT; k++)
		if (strlen(keys[k].name) == kv.key_len &&
		    memcmp(line + kv.key, keys[k].name, kv.key_len) == 0)
			break;
	if (k == KEY_COUNT)
		return ipr_fail(err, EINVAL, kv.key + 1, "unknown key");
	if (s->seen & (UINT32_C(1) << k))
		return ipr_fail(err, EINVAL, kv.key + 1, "key given twice");
	if (kv.value_len == 0)
		return ipr_fail(err, EINVAL, kv.value + 1, "missing value");

	/* a setter that fails leaves s as it was */
	next = *s;
	rc = keys[k].set(&next, line + kv.value, kv.value_len, err);
	if (rc < 0) {
		if (err)
			err->column = err->column ? err->column + kv.value : kv.value + 1;
		return rc;
	}
	next.seen |= UINT32_C(1) << k;
	*s = next;
	return 0;
}

static int parse_into(void *ctx, const char *line, size_t len, struct ipr_err *err)
{
	return settings_parse_line(ctx, line, len, err);
}

int settings_load(const char *path, struct resolver_settings *out, char *msg, size_t msg_size)
{
	struct resolver_settings next;
	int rc;

	settings_defaults(&next);
	rc = ipr_conf_read(path, parse_into, &next, msg, msg_size);
	if (rc == 0 || rc == -ENOENT)
		*out = next;
	return rc;
}
