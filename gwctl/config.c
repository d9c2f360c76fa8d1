/* Reading the gwctl daemon's configuration file one line at a time, with exact error columns. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "conf.h"
#include "conf_table.h"

static bool host_bits_zero(const uint8_t *addr, size_t bytes, unsigned length)
{
	for (size_t i = 0; i < bytes; i++) {
		unsigned bit = (unsigned)i * 8;
		if (bit + 8 <= length)
			continue;
		uint8_t mask = bit >= length ? 0xff : (uint8_t)(0xff >> (length - bit));
		if (addr[i] & mask)
			return false;
	}
	return true;
}

/* ADDRESS/LENGTH of the given family, or `none`. */
struct ipr_prefix config_prefix_get(const struct config_prefix *range)
{
	struct ipr_prefix p = { .family = range->family, .len = range->length };

	memcpy(p.addr, range->addr, sizeof(p.addr));
	return p;
}

static int parse_prefix(const char *v, size_t n, int family, struct config_prefix *out,
			struct ipr_err *err)
{
	struct config_prefix prefix = { .family = family };
	const char *slash;
	size_t addr_len, i;
	uint64_t length;
	int rc;

	if (n == 4 && memcmp(v, "none", 4) == 0) {
		*out = prefix;
		return 0;
	}
	slash = memchr(v, '/', n);
	addr_len = slash ? (size_t)(slash - v) : n;
	if (family == AF_INET) {
		if (memchr(v, ':', addr_len))
			return ipr_fail(err, EINVAL, 1, "expected an IPv4 prefix");
		rc = ipr_ipv4_parse(v, addr_len, prefix.addr, err);
	} else {
		if (!memchr(v, ':', addr_len))
			return ipr_fail(err, EINVAL, 1, "expected an IPv6 prefix");
		rc = ipr_ipv6_parse(v, addr_len, prefix.addr, err);
	}
	if (rc < 0)
		return rc;
	if (!slash)
		return ipr_fail(err, EINVAL, n + 1, "missing '/LENGTH' (or write none)");

	i = addr_len + 1;
	rc = ipr_conf_number(v, n, &i, 128, &length, err);
	if (rc < 0 && rc != -ERANGE)
		return rc;
	if (rc == 0 && i != n)
		return ipr_fail(err, EINVAL, i + 1, "unexpected text after the prefix length");
	if (family == AF_INET && (rc < 0 || length < 8 || length > 30))
		return ipr_fail(err, ERANGE, addr_len + 2, "IPv4 prefix length must be 8 to 30");
	if (family == AF_INET6 && (rc < 0 || length < 8 || length > 126))
		return ipr_fail(err, ERANGE, addr_len + 2, "IPv6 prefix length must be 8 to 126");
	prefix.length = (unsigned)length;
	if (!host_bits_zero(prefix.addr, family == AF_INET ? 4 : 16, prefix.length))
		return ipr_fail(err, EINVAL, 1, "address has bits set beyond the prefix length");
	prefix.enabled = true;
	*out = prefix;
	return 0;
}

/* The custom parsers: each fills the setting's scratch value out (see core/conf_table.h). */

static int parse_gateway(void *out, const char *v, size_t n, const void *target,
			 struct ipr_err *err)
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t zero[16];
	const struct gwctl_config *cfg = target;
	struct config_ip *ip = out;
	int rc;

	if (memchr(v, ':', n)) {
		ip->family = AF_INET6;
		rc = ipr_ipv6_parse(v, n, ip->addr, err);
		if (rc == 0 && memcmp(ip->addr, v4_mapped, sizeof(v4_mapped)) == 0)
			return ipr_fail(err, EINVAL, 1,
					"IPv4-mapped IPv6 address: write the IPv4 address");
		if (rc == 0 && (memcmp(ip->addr, zero, 16) == 0 || ip->addr[0] == 0xff))
			return ipr_fail(err, EINVAL, 1,
					"gateway must be a unicast address, not :: or multicast");
	} else {
		ip->family = AF_INET;
		rc = ipr_ipv4_parse(v, n, ip->addr, err);
		if (rc == 0 && (memcmp(ip->addr, zero, 4) == 0 || (ip->addr[0] & 0xf0) == 0xe0 ||
				memcmp(ip->addr, "\xff\xff\xff\xff", 4) == 0))
			return ipr_fail(err, EINVAL, 1,
					"gateway must be a unicast address, not 0.0.0.0, multicast "
					"or broadcast");
	}
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cfg->gateway_count; i++)
		if (cfg->gateways[i].family == ip->family &&
		    memcmp(cfg->gateways[i].addr, ip->addr, 16) == 0)
			return ipr_fail(err, EINVAL, 1, "gateway address given twice");
	return 0;
}

static int parse_encoded_ipv4(void *out, const char *v, size_t n, const void *target,
			      struct ipr_err *err)
{
	(void)target;
	return parse_prefix(v, n, AF_INET, out, err);
}

static int parse_encoded_ipv6(void *out, const char *v, size_t n, const void *target,
			      struct ipr_err *err)
{
	(void)target;
	return parse_prefix(v, n, AF_INET6, out, err);
}

static int parse_ref(void *out, const char *v, size_t n, const void *target, struct ipr_err *err)
{
	(void)target;
	return ipr_ref_parse(v, n, out, err);
}

static int parse_gateway_name(void *out, const char *v, size_t n, const void *target,
			      struct ipr_err *err)
{
	const struct gwctl_config *cfg = target;
	char *name = out;
	int rc = ipr_name_parse(v, n, name, err);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cfg->gateway_name_count; i++)
		if (!strcmp(cfg->gateway_names[i], name))
			return ipr_fail(err, EINVAL, 1, "gateway name given twice");
	return 0;
}

/* The store's engine: `sqlite` (the file of `database`) or `postgresql:CONNINFO`. */
static int parse_store(void *out, const char *v, size_t n, const void *target, struct ipr_err *err)
{
	static const char pg[] = "postgresql:";
	char *conninfo = out;

	(void)target;
	if (n == 6 && memcmp(v, "sqlite", 6) == 0) {
		conninfo[0] = '\0';
		return 0;
	}
	if (n < sizeof(pg) - 1 || memcmp(v, pg, sizeof(pg) - 1) != 0)
		return ipr_fail(err, EINVAL, 1, "expected sqlite or postgresql:CONNINFO");
	if (n == sizeof(pg) - 1)
		return ipr_fail(err, EINVAL, n + 1, "the conninfo after postgresql: is empty");
	if (n - (sizeof(pg) - 1) >= CONFIG_CONNINFO_MAX)
		return ipr_fail(err, ERANGE, sizeof(pg), "conninfo longer than 1023 bytes");
	memcpy(conninfo, v + sizeof(pg) - 1, n - (sizeof(pg) - 1));
	conninfo[n - (sizeof(pg) - 1)] = '\0';
	return 0;
}

/* PUBLIC-ZONE-FILE INTERNAL-ZONE-FILE: two absolute paths separated by blanks. */
static int parse_zone(void *out, const char *v, size_t n, const void *target, struct ipr_err *err)
{
	struct config_zone *zone = out;
	size_t first_end = 0, second;
	int rc;

	(void)target;
	while (first_end < n && v[first_end] != ' ' && v[first_end] != '\t')
		first_end++;
	second = first_end;
	while (second < n && (v[second] == ' ' || v[second] == '\t'))
		second++;
	if (second == n)
		return ipr_fail(err, EINVAL, n + 1,
				"expected two files: the public zone, then the internal zone");
	rc = ipr_setting_path(v, first_end, zone->public_path, sizeof(zone->public_path),
			      "path too long", err);
	if (rc < 0)
		return rc;
	rc = ipr_setting_path(v + second, n - second, zone->internal_path,
			      sizeof(zone->internal_path), "path too long", err);
	if (rc < 0 && err && err->column)
		err->column += second;
	return rc;
}

/* ADDRESS or ADDRESS@PORT: a DNS server to forward name lookups to. */
static int parse_dns_server(void *out, const char *v, size_t n, const void *target,
			    struct ipr_err *err)
{
	const char *at = memchr(v, '@', n);
	size_t addr_len = at ? (size_t)(at - v) : n;
	uint8_t addr[16];
	uint64_t port = 53;
	size_t i = addr_len + 1;
	int rc;

	(void)target;
	rc = memchr(v, ':', addr_len) ? ipr_ipv6_parse(v, addr_len, addr, err)
				      : ipr_ipv4_parse(v, addr_len, addr, err);
	if (rc < 0)
		return rc;
	if (at) {
		rc = ipr_conf_number(v, n, &i, 65535, &port, err);
		if (rc == 0 && i != n)
			return ipr_fail(err, EINVAL, i + 1, "unexpected text after the port");
		if (rc < 0 || port == 0)
			return ipr_fail(err, ERANGE, addr_len + 2, "port must be 1 to 65535");
	}
	snprintf(out, sizeof(((struct gwctl_config *)0)->dns_servers[0]), "%.*s@%u", (int)addr_len,
		 v, (unsigned)port);
	return 0;
}

static const char *const log_levels[] = {
	[CONFIG_LOG_ERROR] = "error",
	[CONFIG_LOG_WARN] = "warn",
	[CONFIG_LOG_INFO] = "info",
	[CONFIG_LOG_DEBUG] = "debug",
	NULL,
};

#define FIELD(f)   IPR_SETTING_FIELD(struct gwctl_config, f)
#define LIST(a, c) IPR_SETTING_LIST(struct gwctl_config, a, c)
#define DURATION(f)                                                 \
	IPR_SETTING_DURATION, FIELD(f), .max = CONFIG_DURATION_MAX, \
					.reason = "duration longer than 365 days"
#define COUNT(f) \
	IPR_SETTING_UINT, FIELD(f), .min = 1, .max = CONFIG_COUNT_MAX, .reason = "must be 1 to 4096"
#define LIMIT(f)                                                         \
	IPR_SETTING_UINT, FIELD(f), .min = 1, .max = CONFIG_INBOUND_MAX, \
				    .reason = "must be 1 to 16777216"
#define CUSTOM(fn) IPR_SETTING_CUSTOM, .parse = fn

static const struct ipr_setting rows[] = {
	{ "database", IPR_SETTING_PATH, FIELD(database), .reason = "path too long" },
	{ "store", CUSTOM(parse_store), FIELD(store_conninfo) },
	{ "gateway-id", IPR_SETTING_NAME, FIELD(gateway_id),
	  .reason = "name longer than 32 characters" },
	{ "socket", IPR_SETTING_PATH, FIELD(socket),
	  .reason = "socket path does not fit in sockaddr_un.sun_path" },
	{ "socket-group", IPR_SETTING_NAME, IPR_SETTING_EMPTY_OK, FIELD(socket_group),
	  .reason = "name longer than 32 characters" },
	{ "user", IPR_SETTING_NAME, IPR_SETTING_EMPTY_OK, FIELD(user),
	  .reason = "name longer than 32 characters" },
	{ "gateway", CUSTOM(parse_gateway), LIST(gateways, gateway_count),
	  .list_full = "more than 8 gateway addresses" },
	{ "encoded-ipv4", CUSTOM(parse_encoded_ipv4), FIELD(encoded_ipv4) },
	{ "encoded-ipv6", CUSTOM(parse_encoded_ipv6), FIELD(encoded_ipv6) },
	{ "lease", DURATION(lease_secs) },
	{ "quarantine", DURATION(quarantine_secs) },
	{ "sweep-interval", DURATION(sweep_interval_secs) },
	{ "dynamic-ref-min", CUSTOM(parse_ref), FIELD(dynamic_ref_min) },
	{ "dynamic-ref-max", CUSTOM(parse_ref), FIELD(dynamic_ref_max) },
	{ "commit-batch", COUNT(commit_batch) },
	/* power loss may forget at most this much; past 10 s that promise would be an empty one */
	{ "flush-interval-ms", IPR_SETTING_UINT, FIELD(flush_interval_ms), .min = 1, .max = 10000,
	  .reason = "must be 1 to 10000 (milliseconds)" },
	{ "max-clients", COUNT(max_clients) },
	{ "log-level", IPR_SETTING_ENUM, FIELD(log_level), .words = log_levels,
	  .reason = "unknown log level (error, warn, info or debug)" },
	{ "gateway-name", CUSTOM(parse_gateway_name), LIST(gateway_names, gateway_name_count),
	  .list_full = "more than 8 gateway names" },
	{ "zone", CUSTOM(parse_zone), LIST(zones, zone_count),
	  .list_full = "more than 16 zone pairs" },
	{ "hosts", IPR_SETTING_PATH, LIST(hosts_paths, hosts_count), .reason = "path too long",
	  .list_full = "more than 16 hosts files" },
	{ "dns-server", CUSTOM(parse_dns_server), LIST(dns_servers, dns_server_count),
	  .list_full = "more than 4 DNS servers" },
	{ "inbound-per-peer", LIMIT(inbound_per_peer) },
	{ "inbound-total", LIMIT(inbound_total) },
	{ "inbound-rate", LIMIT(inbound_rate) },
	{ "inbound-rate-total", LIMIT(inbound_rate_total) },
	{ "idle-timeout", DURATION(idle_timeout_secs) },
	{ "max-clients-per-user", COUNT(max_clients_per_user) },
	{ "inbound-quarantine", DURATION(inbound_quarantine_secs) },
	{ "probation", DURATION(probation_secs) },
	{ "client-limit", LIMIT(client_limit) },
	{ "client-total", LIMIT(client_total) },
};

const struct ipr_settings config_settings = {
	.rows = rows,
	.count = sizeof(rows) / sizeof(rows[0]),
	.seen_offset = offsetof(struct gwctl_config, seen),
};

void config_defaults(struct gwctl_config *cfg)
{
	static const char database[] = "/var/lib/ipref/gw.db";
	static const char socket[] = "/run/ipref/gwctl.sock";

	_Static_assert(sizeof(database) <= CONFIG_PATH_MAX, "default database path fits");
	_Static_assert(sizeof(socket) <= CONFIG_SOCKET_PATH_MAX, "default socket path fits");
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->database, database, sizeof(database));
	memcpy(cfg->socket, socket, sizeof(socket));
	cfg->encoded_ipv4 = (struct config_prefix){
		.enabled = true, .family = AF_INET, .addr = { 10, 240 }, .length = 12
	};
	cfg->encoded_ipv6 = (struct config_prefix){ .enabled = true,
						    .family = AF_INET6,
						    .addr = { 0xfd, 0xee, 0xee, 0xee },
						    .length = 64 };
	cfg->lease_secs = 4 * 60 * 60;
	cfg->quarantine_secs = 60 * 60;
	cfg->sweep_interval_secs = 60;
	/* above every 32-bit hand-picked reference, within the 8-byte wire form */
	cfg->dynamic_ref_min = ipr_ref_from_u64(UINT64_C(1) << 32);
	cfg->dynamic_ref_max = ipr_ref_from_u64((UINT64_C(1) << 56) - 1);
	cfg->commit_batch = 256;
	cfg->flush_interval_ms = 200;
	cfg->max_clients = 64;
	cfg->max_clients_per_user = 0; /* half of max-clients */
	cfg->idle_timeout_secs = 60;
	cfg->inbound_per_peer = 1024;
	cfg->inbound_total = 16384;
	cfg->inbound_rate = 50;
	cfg->inbound_rate_total = 500;
	cfg->inbound_quarantine_secs = 10;
	cfg->probation_secs = 30;
	cfg->client_limit = 512;
	cfg->client_total = 0;
	cfg->log_level = CONFIG_LOG_INFO;
}

int config_parse_line(struct gwctl_config *cfg, const char *line, size_t len, struct ipr_err *err)
{
	return ipr_settings_parse_line(&config_settings, cfg, line, len, err);
}

int config_load(struct gwctl_config *cfg, const char *path, char *msg, size_t msg_size)
{
	/* one fresh struct for the whole file, kept only if every line is good */
	struct gwctl_config next;
	int rc;

	config_defaults(&next);
	rc = ipr_settings_read(&config_settings, &next, path, msg, msg_size);
	if (rc == 0)
		*cfg = next;
	return rc;
}

static int check_fail(char *msg, size_t msg_size, const char *reason)
{
	if (msg && msg_size)
		snprintf(msg, msg_size, "%s", reason);
	return -EINVAL;
}

int config_check(const struct gwctl_config *cfg, char *msg, size_t msg_size)
{
	const struct ipr_ref *min = &cfg->dynamic_ref_min, *max = &cfg->dynamic_ref_max;

	if (!cfg->encoded_ipv4.enabled && !cfg->encoded_ipv6.enabled)
		return check_fail(
			msg, msg_size,
			"encoded-ipv4 and encoded-ipv6 are both none: enable at least one");
	if (min->hi == 0 && min->lo < CONFIG_DYNAMIC_REF_FLOOR)
		return check_fail(msg, msg_size,
				  "dynamic-ref-min must be at least 1024 (0-1023 are kept for "
				  "published references)");
	if (min->hi > max->hi || (min->hi == max->hi && min->lo > max->lo))
		return check_fail(msg, msg_size, "dynamic-ref-min is above dynamic-ref-max");
	if (cfg->lease_secs == 0)
		return check_fail(msg, msg_size, "lease must be more than 0");
	if (cfg->quarantine_secs == 0)
		return check_fail(msg, msg_size, "quarantine must be more than 0");
	if (cfg->probation_secs == 0 || cfg->probation_secs > cfg->lease_secs)
		return check_fail(msg, msg_size, "probation must be more than 0 and at most lease");
	if (cfg->inbound_quarantine_secs == 0)
		return check_fail(msg, msg_size, "inbound-quarantine must be more than 0");
	if (cfg->sweep_interval_secs > cfg->lease_secs)
		return check_fail(msg, msg_size, "sweep-interval is longer than lease");
	return 0;
}

const char *config_log_level_name(enum config_log_level level)
{
	if ((size_t)level < sizeof(log_levels) / sizeof(log_levels[0]) - 1)
		return log_levels[level];
	return "";
}
