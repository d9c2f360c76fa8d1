/* Fuzzes gwctl's config lines: errors leave the config alone, accepted values stay in bounds. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "fuzz.h"

static bool terminated(const char *text, size_t size)
{
	return memchr(text, '\0', size) != NULL;
}

static bool host_bits_zero(const struct config_prefix *prefix)
{
	size_t bytes = prefix->family == AF_INET ? 4 : 16;

	for (size_t bit = prefix->length; bit < bytes * 8; bit++)
		if (prefix->addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static void check_prefix(const struct config_prefix *prefix, int family, unsigned max)
{
	FUZZ_CHECK(prefix->family == family);
	if (!prefix->enabled)
		return;
	FUZZ_CHECK(prefix->length >= 8 && prefix->length <= max);
	FUZZ_CHECK(host_bits_zero(prefix));
}

static void check_duration(uint32_t secs)
{
	FUZZ_CHECK(secs > 0 && secs <= CONFIG_DURATION_MAX);
}

/* What every accepted line must leave behind, whatever it set. */
static void check_config(const struct gwctl_config *cfg)
{
	FUZZ_CHECK(terminated(cfg->database, sizeof(cfg->database)) && cfg->database[0] == '/');
	FUZZ_CHECK(terminated(cfg->socket, sizeof(cfg->socket)) && cfg->socket[0] == '/');
	FUZZ_CHECK(strnlen(cfg->socket_group, sizeof(cfg->socket_group)) <= CONFIG_NAME_MAX);
	FUZZ_CHECK(strnlen(cfg->user, sizeof(cfg->user)) <= CONFIG_NAME_MAX);
	FUZZ_CHECK(cfg->gateway_count <= CONFIG_GATEWAY_MAX);
	for (size_t i = 0; i < cfg->gateway_count; i++)
		FUZZ_CHECK(cfg->gateways[i].family == AF_INET ||
			   cfg->gateways[i].family == AF_INET6);
	check_prefix(&cfg->encoded_ipv4, AF_INET, 30);
	check_prefix(&cfg->encoded_ipv6, AF_INET6, 126);
	check_duration(cfg->lease_secs);
	check_duration(cfg->quarantine_secs);
	check_duration(cfg->sweep_interval_secs);
	FUZZ_CHECK(cfg->commit_batch >= 1 && cfg->commit_batch <= CONFIG_COUNT_MAX);
	FUZZ_CHECK(cfg->max_clients >= 1 && cfg->max_clients <= CONFIG_COUNT_MAX);
	FUZZ_CHECK(config_log_level_name(cfg->log_level)[0] != '\0');
}

static void parse_one(struct gwctl_config *cfg, const char *line, size_t len)
{
	struct gwctl_config before;
	struct ipr_err err = { 0 };
	int rc;

	memcpy(&before, cfg, sizeof(before));
	rc = config_parse_line(cfg, line, len, &err);
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -ERANGE);
		FUZZ_CHECK(err.reason != NULL);
		FUZZ_CHECK(err.column >= 1 && err.column <= len + 1);
		FUZZ_CHECK(memcmp(&before, cfg, sizeof(before)) == 0);
		return;
	}
	FUZZ_CHECK(rc == 0);
	check_config(cfg);
}

static void check_cross_fields(const struct gwctl_config *cfg)
{
	char msg[256], tiny[1];
	int rc = config_check(cfg, msg, sizeof(msg));

	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK(rc == 0 || terminated(msg, sizeof(msg)));
	FUZZ_CHECK(config_check(cfg, tiny, sizeof(tiny)) == rc);
	FUZZ_CHECK(rc == 0 || tiny[0] == '\0');
	FUZZ_CHECK(config_check(cfg, NULL, 0) == rc);
	if (rc == 0)
		FUZZ_CHECK(cfg->sweep_interval_secs <= cfg->lease_secs);
}

/* The input as a file: each line in turn, so that repeated keys and the gateway limit count. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct gwctl_config cfg;
	size_t start = 0;

	config_defaults(&cfg);
	check_config(&cfg);
	while (start < size) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - text) + 1 : size;
		parse_one(&cfg, text + start, end - start);
		start = end;
	}
	check_cross_fields(&cfg);

	/* and as a single line, newlines being control characters inside it */
	config_defaults(&cfg);
	parse_one(&cfg, text, size);
	check_cross_fields(&cfg);
	return 0;
}
