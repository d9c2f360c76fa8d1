/* Reading the gwctl daemon's configuration file one line at a time, with exact error columns. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "conf.h"

enum config_key {
	KEY_DATABASE,
	KEY_SOCKET,
	KEY_SOCKET_GROUP,
	KEY_USER,
	KEY_GATEWAY,
	KEY_ENCODED_IPV4,
	KEY_ENCODED_IPV6,
	KEY_LEASE,
	KEY_QUARANTINE,
	KEY_SWEEP_INTERVAL,
	KEY_DYNAMIC_REF_MIN,
	KEY_DYNAMIC_REF_MAX,
	KEY_COMMIT_BATCH,
	KEY_FLUSH_INTERVAL_MS,
	KEY_MAX_CLIENTS,
	KEY_LOG_LEVEL,
	KEY_GATEWAY_NAME,
	KEY_ZONE,
	KEY_HOSTS,
	KEY_DNS_SERVER,
	KEY_INBOUND_PER_PEER,
	KEY_INBOUND_TOTAL,
	KEY_INBOUND_RATE,
	KEY_INBOUND_RATE_TOTAL,
	KEY_IDLE_TIMEOUT,
	KEY_MAX_CLIENTS_PER_USER,
	KEY_INBOUND_QUARANTINE,
	KEY_PROBATION,
	KEY_CLIENT_LIMIT,
	KEY_CLIENT_TOTAL,
	KEY_COUNT,
};

_Static_assert(KEY_COUNT <= 32, "struct gwctl_config.seen has one bit per key");

struct config_key_info {
	const char *name;
	/*
	 * Sees only the value, without blanks and comment, and reports columns counted from 1 at
	 * its first character (0: the value as a whole).
	 */
	int (*set)(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err);
	bool repeatable;
	bool may_be_empty;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* A whole number from 1 to max; range is the reason given for one outside it. */
static int parse_positive(const char *v, size_t n, uint32_t max, const char *range, uint32_t *out,
			  struct ipr_err *err)
{
	uint64_t value = 0;
	int rc = ipr_conf_uint(v, n, max, &value, err);

	if (rc == -ERANGE || (rc == 0 && value == 0))
		return ipr_fail(err, ERANGE, 1, range);
	if (rc < 0)
		return rc;
	*out = (uint32_t)value;
	return 0;
}

static int parse_count(const char *v, size_t n, uint32_t *out, struct ipr_err *err)
{
	return parse_positive(v, n, CONFIG_COUNT_MAX, "must be 1 to 4096", out, err);
}

/* A number with an optional unit s, m, h or d; no unit means seconds. */
static int parse_duration(const char *v, size_t n, uint32_t *out, struct ipr_err *err)
{
	uint64_t value = 0, unit = 1;
	size_t i = 0;
	int rc = ipr_conf_number(v, n, &i, CONFIG_DURATION_MAX, &value, err);

	if (rc == -ERANGE)
		return ipr_fail(err, ERANGE, 1, "duration longer than 365 days");
	if (rc < 0)
		return rc;
	if (i < n) {
		switch (v[i]) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 60 * 60;
			break;
		case 'd':
			unit = 24 * 60 * 60;
			break;
		default:
			return ipr_fail(err, EINVAL, i + 1, "unknown duration unit (s, m, h or d)");
		}
		if (++i != n)
			return ipr_fail(err, EINVAL, i + 1,
					"unexpected text after the duration unit");
	}
	if (value == 0)
		return ipr_fail(err, ERANGE, 1, "duration must be more than 0");
	if (value > CONFIG_DURATION_MAX / unit)
		return ipr_fail(err, ERANGE, 1, "duration longer than 365 days");
	*out = (uint32_t)(value * unit);
	return 0;
}

static int parse_path(const char *v, size_t n, char *out, size_t size, const char *too_long,
		      struct ipr_err *err)
{
	if (v[0] != '/')
		return ipr_fail(err, EINVAL, 1, "must be an absolute path");
	if (v[n - 1] == '/')
		return ipr_fail(err, EINVAL, n, "path names a directory (ends in '/')");
	if (n >= size)
		return ipr_fail(err, ERANGE, size, too_long);
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

/* User and group names as the shadow tools allow them: [A-Za-z_][A-Za-z0-9_.-]*[$]. */
static int parse_name(const char *v, size_t n, char out[CONFIG_NAME_MAX + 1], struct ipr_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		bool ok = is_lower(c) || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (i > 0 &&
			   (is_digit(c) || c == '.' || c == '-' || (c == '$' && i == n - 1)));
		if (!ok)
			return ipr_fail(err, EINVAL, i + 1,
					i == 0 ? "name must start with a letter or '_'"
					       : "unexpected character in a user or group name");
	}
	if (n > CONFIG_NAME_MAX)
		return ipr_fail(err, ERANGE, CONFIG_NAME_MAX + 1, "name longer than 32 characters");
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

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

static int set_database(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_path(v, n, cfg->database, sizeof(cfg->database), "path too long", err);
}

static int set_socket(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_path(v, n, cfg->socket, sizeof(cfg->socket),
			  "socket path does not fit in sockaddr_un.sun_path", err);
}

static int set_socket_group(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_name(v, n, cfg->socket_group, err);
}

static int set_user(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_name(v, n, cfg->user, err);
}

static int set_gateway(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t zero[16];
	struct config_ip ip = { 0 };
	int rc;

	if (cfg->gateway_count == CONFIG_GATEWAY_MAX)
		return ipr_fail(err, EINVAL, 1, "more than 8 gateway addresses");
	if (memchr(v, ':', n)) {
		ip.family = AF_INET6;
		rc = ipr_ipv6_parse(v, n, ip.addr, err);
		if (rc == 0 && memcmp(ip.addr, v4_mapped, sizeof(v4_mapped)) == 0)
			return ipr_fail(err, EINVAL, 1,
					"IPv4-mapped IPv6 address: write the IPv4 address");
		if (rc == 0 && (memcmp(ip.addr, zero, 16) == 0 || ip.addr[0] == 0xff))
			return ipr_fail(err, EINVAL, 1,
					"gateway must be a unicast address, not :: or multicast");
	} else {
		ip.family = AF_INET;
		rc = ipr_ipv4_parse(v, n, ip.addr, err);
		if (rc == 0 && (memcmp(ip.addr, zero, 4) == 0 || (ip.addr[0] & 0xf0) == 0xe0 ||
				memcmp(ip.addr, "\xff\xff\xff\xff", 4) == 0))
			return ipr_fail(err, EINVAL, 1,
					"gateway must be a unicast address, not 0.0.0.0, multicast "
					"or broadcast");
	}
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cfg->gateway_count; i++)
		if (cfg->gateways[i].family == ip.family &&
		    memcmp(cfg->gateways[i].addr, ip.addr, 16) == 0)
			return ipr_fail(err, EINVAL, 1, "gateway address given twice");
	cfg->gateways[cfg->gateway_count++] = ip;
	return 0;
}

static int set_encoded_ipv4(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_prefix(v, n, AF_INET, &cfg->encoded_ipv4, err);
}

static int set_encoded_ipv6(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_prefix(v, n, AF_INET6, &cfg->encoded_ipv6, err);
}

static int set_lease(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_duration(v, n, &cfg->lease_secs, err);
}

static int set_quarantine(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_duration(v, n, &cfg->quarantine_secs, err);
}

static int set_sweep_interval(struct gwctl_config *cfg, const char *v, size_t n,
			      struct ipr_err *err)
{
	return parse_duration(v, n, &cfg->sweep_interval_secs, err);
}

static int set_dynamic_ref_min(struct gwctl_config *cfg, const char *v, size_t n,
			       struct ipr_err *err)
{
	return ipr_ref_parse(v, n, &cfg->dynamic_ref_min, err);
}

static int set_dynamic_ref_max(struct gwctl_config *cfg, const char *v, size_t n,
			       struct ipr_err *err)
{
	return ipr_ref_parse(v, n, &cfg->dynamic_ref_max, err);
}

static int set_commit_batch(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_count(v, n, &cfg->commit_batch, err);
}

/* Power loss may forget at most this much; past 10 s would make that promise an empty one. */
static int set_flush_interval(struct gwctl_config *cfg, const char *v, size_t n,
			      struct ipr_err *err)
{
	return parse_positive(v, n, 10000, "must be 1 to 10000 (milliseconds)",
			      &cfg->flush_interval_ms, err);
}

static int parse_limit(const char *v, size_t n, uint32_t *out, struct ipr_err *err)
{
	return parse_positive(v, n, CONFIG_INBOUND_MAX, "must be 1 to 16777216", out, err);
}

static int set_inbound_per_peer(struct gwctl_config *cfg, const char *v, size_t n,
				struct ipr_err *err)
{
	return parse_limit(v, n, &cfg->inbound_per_peer, err);
}

static int set_inbound_total(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_limit(v, n, &cfg->inbound_total, err);
}

static int set_inbound_rate(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_limit(v, n, &cfg->inbound_rate, err);
}

static int set_inbound_rate_total(struct gwctl_config *cfg, const char *v, size_t n,
				  struct ipr_err *err)
{
	return parse_limit(v, n, &cfg->inbound_rate_total, err);
}

static int set_inbound_quarantine(struct gwctl_config *cfg, const char *v, size_t n,
				  struct ipr_err *err)
{
	return parse_duration(v, n, &cfg->inbound_quarantine_secs, err);
}

static int set_probation(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_duration(v, n, &cfg->probation_secs, err);
}

static int set_client_limit(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_limit(v, n, &cfg->client_limit, err);
}

static int set_client_total(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_limit(v, n, &cfg->client_total, err);
}

static int set_max_clients(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_count(v, n, &cfg->max_clients, err);
}

static int set_max_clients_per_user(struct gwctl_config *cfg, const char *v, size_t n,
				    struct ipr_err *err)
{
	return parse_count(v, n, &cfg->max_clients_per_user, err);
}

static int set_idle_timeout(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	return parse_duration(v, n, &cfg->idle_timeout_secs, err);
}

static const char *const log_levels[] = {
	[CONFIG_LOG_ERROR] = "error",
	[CONFIG_LOG_WARN] = "warn",
	[CONFIG_LOG_INFO] = "info",
	[CONFIG_LOG_DEBUG] = "debug",
};

static int set_log_level(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (strlen(log_levels[i]) == n && memcmp(v, log_levels[i], n) == 0) {
			cfg->log_level = (enum config_log_level)i;
			return 0;
		}
	}
	return ipr_fail(err, EINVAL, 1, "unknown log level (error, warn, info or debug)");
}

static int set_gateway_name(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	char name[IPR_NAME_MAX + 1];
	int rc;

	if (cfg->gateway_name_count == CONFIG_GATEWAY_MAX)
		return ipr_fail(err, EINVAL, 1, "more than 8 gateway names");
	rc = ipr_name_parse(v, n, name, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cfg->gateway_name_count; i++)
		if (!strcmp(cfg->gateway_names[i], name))
			return ipr_fail(err, EINVAL, 1, "gateway name given twice");
	memcpy(cfg->gateway_names[cfg->gateway_name_count++], name, sizeof(name));
	return 0;
}

/* PUBLIC-ZONE-FILE INTERNAL-ZONE-FILE: two absolute paths separated by blanks. */
static int set_zone(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	size_t first_end = 0, second;
	int rc;

	if (cfg->zone_count == CONFIG_SOURCES_MAX)
		return ipr_fail(err, EINVAL, 1, "more than 16 zone pairs");
	while (first_end < n && v[first_end] != ' ' && v[first_end] != '\t')
		first_end++;
	second = first_end;
	while (second < n && (v[second] == ' ' || v[second] == '\t'))
		second++;
	if (second == n)
		return ipr_fail(err, EINVAL, n + 1,
				"expected two files: the public zone, then the internal zone");
	rc = parse_path(v, first_end, cfg->zones[cfg->zone_count].public_path, CONFIG_PATH_MAX,
			"path too long", err);
	if (rc < 0)
		return rc;
	rc = parse_path(v + second, n - second, cfg->zones[cfg->zone_count].internal_path,
			CONFIG_PATH_MAX, "path too long", err);
	if (rc < 0) {
		if (err && err->column)
			err->column += second;
		return rc;
	}
	cfg->zone_count++;
	return 0;
}

static int set_hosts(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	int rc;

	if (cfg->hosts_count == CONFIG_SOURCES_MAX)
		return ipr_fail(err, EINVAL, 1, "more than 16 hosts files");
	rc = parse_path(v, n, cfg->hosts_paths[cfg->hosts_count], CONFIG_PATH_MAX, "path too long",
			err);
	if (rc == 0)
		cfg->hosts_count++;
	return rc;
}

/* ADDRESS or ADDRESS@PORT: a DNS server to forward name lookups to. */
static int set_dns_server(struct gwctl_config *cfg, const char *v, size_t n, struct ipr_err *err)
{
	const char *at = memchr(v, '@', n);
	size_t addr_len = at ? (size_t)(at - v) : n;
	uint8_t addr[16];
	uint64_t port = 53;
	size_t i = addr_len + 1;
	int rc;

	if (cfg->dns_server_count == CONFIG_DNS_SERVERS_MAX)
		return ipr_fail(err, EINVAL, 1, "more than 4 DNS servers");
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
	snprintf(cfg->dns_servers[cfg->dns_server_count++], sizeof(cfg->dns_servers[0]), "%.*s@%u",
		 (int)addr_len, v, (unsigned)port);
	return 0;
}

static const struct config_key_info keys[KEY_COUNT] = {
	[KEY_DATABASE] = { "database", set_database, false, false },
	[KEY_SOCKET] = { "socket", set_socket, false, false },
	[KEY_SOCKET_GROUP] = { "socket-group", set_socket_group, false, true },
	[KEY_USER] = { "user", set_user, false, true },
	[KEY_GATEWAY] = { "gateway", set_gateway, true, false },
	[KEY_ENCODED_IPV4] = { "encoded-ipv4", set_encoded_ipv4, false, false },
	[KEY_ENCODED_IPV6] = { "encoded-ipv6", set_encoded_ipv6, false, false },
	[KEY_LEASE] = { "lease", set_lease, false, false },
	[KEY_QUARANTINE] = { "quarantine", set_quarantine, false, false },
	[KEY_SWEEP_INTERVAL] = { "sweep-interval", set_sweep_interval, false, false },
	[KEY_DYNAMIC_REF_MIN] = { "dynamic-ref-min", set_dynamic_ref_min, false, false },
	[KEY_DYNAMIC_REF_MAX] = { "dynamic-ref-max", set_dynamic_ref_max, false, false },
	[KEY_COMMIT_BATCH] = { "commit-batch", set_commit_batch, false, false },
	[KEY_FLUSH_INTERVAL_MS] = { "flush-interval-ms", set_flush_interval, false, false },
	[KEY_MAX_CLIENTS] = { "max-clients", set_max_clients, false, false },
	[KEY_LOG_LEVEL] = { "log-level", set_log_level, false, false },
	[KEY_GATEWAY_NAME] = { "gateway-name", set_gateway_name, true, false },
	[KEY_ZONE] = { "zone", set_zone, true, false },
	[KEY_HOSTS] = { "hosts", set_hosts, true, false },
	[KEY_DNS_SERVER] = { "dns-server", set_dns_server, true, false },
	[KEY_INBOUND_PER_PEER] = { "inbound-per-peer", set_inbound_per_peer, false, false },
	[KEY_INBOUND_TOTAL] = { "inbound-total", set_inbound_total, false, false },
	[KEY_INBOUND_RATE] = { "inbound-rate", set_inbound_rate, false, false },
	[KEY_INBOUND_RATE_TOTAL] = { "inbound-rate-total", set_inbound_rate_total, false, false },
	[KEY_IDLE_TIMEOUT] = { "idle-timeout", set_idle_timeout, false, false },
	[KEY_MAX_CLIENTS_PER_USER] = { "max-clients-per-user", set_max_clients_per_user, false,
				       false },
	[KEY_INBOUND_QUARANTINE] = { "inbound-quarantine", set_inbound_quarantine, false, false },
	[KEY_PROBATION] = { "probation", set_probation, false, false },
	[KEY_CLIENT_LIMIT] = { "client-limit", set_client_limit, false, false },
	[KEY_CLIENT_TOTAL] = { "client-total", set_client_total, false, false },
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

/* Runs a value parser on line[start..) and turns its columns into line columns. */
static int shift_column(int rc, struct ipr_err *err, size_t start)
{
	if (rc < 0 && err)
		err->column = err->column ? err->column + start : start + 1;
	return rc;
}

/* Returns the key's index in keys[], or -EINVAL. */
static int find_key(const char *name, size_t len, struct ipr_err *err, size_t column)
{
	for (size_t k = 0; k < KEY_COUNT; k++) {
		if (strlen(keys[k].name) == len && memcmp(name, keys[k].name, len) == 0)
			return (int)k;
	}
	return ipr_fail(err, EINVAL, column, "unknown key");
}

int config_parse_line(struct gwctl_config *cfg, const char *line, size_t len, struct ipr_err *err)
{
	struct gwctl_config next;
	struct ipr_conf_line kv;
	int key, rc = ipr_conf_split(line, len, &kv, err);

	if (rc <= 0)
		return rc;
	key = find_key(line + kv.key, kv.key_len, err, kv.key + 1);
	if (key < 0)
		return key;
	if (!keys[key].repeatable && (cfg->seen & (UINT32_C(1) << key)))
		return ipr_fail(err, EINVAL, kv.key + 1, "key given twice");
	if (kv.value_len == 0 && !keys[key].may_be_empty)
		return ipr_fail(err, EINVAL, kv.value + 1, "missing value");

	next = *cfg;
	rc = keys[key].set(&next, line + kv.value, kv.value_len, err);
	if (rc < 0)
		return shift_column(rc, err, kv.value);
	next.seen |= UINT32_C(1) << key;
	*cfg = next;
	return 0;
}

static int parse_into(void *ctx, const char *line, size_t len, struct ipr_err *err)
{
	return config_parse_line(ctx, line, len, err);
}

int config_load(struct gwctl_config *cfg, const char *path, char *msg, size_t msg_size)
{
	struct gwctl_config next;
	int rc;

	config_defaults(&next);
	rc = ipr_conf_read(path, parse_into, &next, msg, msg_size);
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
	if ((size_t)level < sizeof(log_levels) / sizeof(log_levels[0]))
		return log_levels[level];
	return "";
}
