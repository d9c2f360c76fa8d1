/* Unit tests of the gwctl configuration file: every key, its bounds, file errors, cross checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int parse(struct gwctl_config *cfg, const char *line, struct ipr_err *err)
{
	return config_parse_line(cfg, line, strlen(line), err);
}

/* Parses a good line over the defaults. */
static struct gwctl_config parse_good(const char *line)
{
	struct gwctl_config cfg;
	struct ipr_err err = { 0 };

	config_defaults(&cfg);
	if (parse(&cfg, line, &err) != 0)
		fail_msg("'%s' should parse, got %zu: %s", line, err.column, err.reason);
	return cfg;
}

struct bad_case {
	const char *line;
	int rc;
	size_t column;
	const char *reason;
};

/* Each line fails alone over the defaults, with its column and reason, and changes nothing. */
static void expect_bad(const struct bad_case *cases, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct gwctl_config cfg, before;
		struct ipr_err err = { 0 };
		int rc;

		config_defaults(&cfg);
		memcpy(&before, &cfg, sizeof(cfg));
		rc = parse(&cfg, cases[i].line, &err);
		if (rc != cases[i].rc || err.column != cases[i].column || !err.reason ||
		    strcmp(err.reason, cases[i].reason) != 0)
			fail_msg("'%s': expected %d at %zu (%s), got %d at %zu (%s)", cases[i].line,
				 cases[i].rc, cases[i].column, cases[i].reason, rc, err.column,
				 err.reason ? err.reason : "no reason");
		if (memcmp(&before, &cfg, sizeof(cfg)) != 0)
			fail_msg("'%s' changed the config although it failed", cases[i].line);
		/* the same without error details */
		assert_int_equal(parse(&cfg, cases[i].line, NULL), cases[i].rc);
	}
}

static void test_defaults(void **state)
{
	struct gwctl_config cfg;
	static const uint8_t v6[16] = { 0xfd, 0xee, 0xee, 0xee };

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	config_defaults(&cfg);
	assert_string_equal(cfg.database, "/var/lib/ipref/gw.db");
	assert_string_equal(cfg.socket, "/run/ipref/gwctl.sock");
	assert_string_equal(cfg.socket_group, "");
	assert_string_equal(cfg.user, "");
	assert_int_equal(cfg.gateway_count, 0);
	assert_true(cfg.encoded_ipv4.enabled);
	assert_int_equal(cfg.encoded_ipv4.family, AF_INET);
	assert_memory_equal(cfg.encoded_ipv4.addr, "\x0a\xf0\x00\x00", 4);
	assert_int_equal(cfg.encoded_ipv4.length, 12);
	assert_true(cfg.encoded_ipv6.enabled);
	assert_int_equal(cfg.encoded_ipv6.family, AF_INET6);
	assert_memory_equal(cfg.encoded_ipv6.addr, v6, 16);
	assert_int_equal(cfg.encoded_ipv6.length, 64);
	assert_int_equal(cfg.lease_secs, 4 * 3600);
	assert_int_equal(cfg.quarantine_secs, 3600);
	assert_int_equal(cfg.sweep_interval_secs, 60);
	assert_int_equal(cfg.dynamic_ref_min.hi, 0);
	assert_int_equal(cfg.dynamic_ref_min.lo, 4294967296ULL);
	assert_int_equal(cfg.dynamic_ref_max.hi, 0);
	assert_int_equal(cfg.dynamic_ref_max.lo, 72057594037927935ULL);
	assert_int_equal(cfg.commit_batch, 256);
	assert_int_equal(cfg.max_clients, 64);
	assert_int_equal(cfg.max_clients_per_user, 0);
	assert_int_equal(cfg.idle_timeout_secs, 60);
	assert_int_equal(cfg.log_level, CONFIG_LOG_INFO);
	assert_int_equal(cfg.seen, 0);
	assert_int_equal(config_check(&cfg, NULL, 0), 0);
}

static void test_blank_and_comment_lines(void **state)
{
	static const char *const lines[] = {
		"",  "\n",	   "\r\n",  "   \t  ", "# comment", "  \t# indented # twice",
		"#", "# lease = ", "#\r\n", "\t\n",    "# ünïcödé",
	};
	struct gwctl_config cfg, defaults;

	(void)state;
	config_defaults(&defaults);
	for (size_t i = 0; i < COUNT(lines); i++) {
		config_defaults(&cfg);
		if (parse(&cfg, lines[i], NULL) != 0 || memcmp(&cfg, &defaults, sizeof(cfg)) != 0)
			fail_msg("'%s' should change nothing", lines[i]);
	}
}

static void test_whitespace_and_comments(void **state)
{
	static const char *const lines[] = {
		"lease=2h",
		"lease = 2h",
		"  lease  =  2h  ",
		"\tlease\t=\t2h\t",
		"lease = 2h # two hours",
		"lease = 2h# no blank needed",
		"lease=2h#",
		"lease = 2h\n",
		"lease = 2h\r\n",
		" \t lease \t= \t2h \t# comment \t\r\n",
	};

	(void)state;
	for (size_t i = 0; i < COUNT(lines); i++) {
		struct gwctl_config cfg = parse_good(lines[i]);
		assert_int_equal(cfg.lease_secs, 2 * 3600);
	}
}

static void test_paths(void **state)
{
	char line[CONFIG_SOCKET_PATH_MAX + 32];
	struct gwctl_config cfg;
	size_t room = CONFIG_SOCKET_PATH_MAX - 1;
	static const struct bad_case bad[] = {
		{ "database = gw.db", -EINVAL, 12, "must be an absolute path" },
		{ "database = ./gw.db", -EINVAL, 12, "must be an absolute path" },
		{ "database = ~/gw.db", -EINVAL, 12, "must be an absolute path" },
		{ "database = /var/lib/ipref/", -EINVAL, 26,
		  "path names a directory (ends in '/')" },
		{ "database = /", -EINVAL, 12, "path names a directory (ends in '/')" },
		{ "database =", -EINVAL, 11, "missing value" },
		{ "database = # none", -EINVAL, 11, "missing value" },
		{ "socket = run/gwctl.sock", -EINVAL, 10, "must be an absolute path" },
		{ "socket = /run/ipref/", -EINVAL, 20, "path names a directory (ends in '/')" },
		{ "socket =  ", -EINVAL, 9, "missing value" },
	};

	(void)state;
	cfg = parse_good("database = /srv/ipref/state.db");
	assert_string_equal(cfg.database, "/srv/ipref/state.db");
	cfg = parse_good("database = /srv/my files/gw.db   # blanks inside stay");
	assert_string_equal(cfg.database, "/srv/my files/gw.db");
	cfg = parse_good("database=/a");
	assert_string_equal(cfg.database, "/a");
	cfg = parse_good("socket = /tmp/gwctl-test.sock");
	assert_string_equal(cfg.socket, "/tmp/gwctl-test.sock");
	expect_bad(bad, COUNT(bad));

	/* the socket path with its NUL fills sun_path exactly, one more byte does not fit */
	snprintf(line, sizeof(line), "socket = /%0*d", (int)room - 1, 0);
	cfg = parse_good(line);
	assert_int_equal(strlen(cfg.socket), room);
	snprintf(line, sizeof(line), "socket = /%0*d", (int)room, 0);
	const struct bad_case too_long[] = {
		{ line, -ERANGE, 9 + CONFIG_SOCKET_PATH_MAX,
		  "socket path does not fit in sockaddr_un.sun_path" },
	};
	expect_bad(too_long, COUNT(too_long));
}

static void test_long_database_path(void **state)
{
	static char line[CONFIG_PATH_MAX + 32];
	struct gwctl_config cfg;
	size_t prefix = strlen("database = ");

	(void)state;
	memset(line, 'a', sizeof(line));
	memcpy(line, "database = /", prefix + 1);
	line[prefix + CONFIG_PATH_MAX - 1] = '\0';
	cfg = parse_good(line);
	assert_int_equal(strlen(cfg.database), CONFIG_PATH_MAX - 1);
	line[prefix + CONFIG_PATH_MAX - 1] = 'a';
	line[prefix + CONFIG_PATH_MAX] = '\0';
	const struct bad_case bad[] = {
		{ line, -ERANGE, prefix + CONFIG_PATH_MAX, "path too long" },
	};
	expect_bad(bad, COUNT(bad));
}

/* The store's engine: SQLite at `database` by default, or the site's PostgreSQL store. */
static void test_store_engine(void **state)
{
	static char line[CONFIG_CONNINFO_MAX + 64];
	struct gwctl_config cfg;
	size_t prefix = strlen("store = postgresql:");

	(void)state;
	config_defaults(&cfg);
	assert_string_equal(cfg.store_conninfo, "");
	assert_string_equal(cfg.gateway_id, "");
	cfg = parse_good("store = postgresql:host=/run/postgresql dbname=ipref  # blanks stay");
	assert_string_equal(cfg.store_conninfo, "host=/run/postgresql dbname=ipref");
	cfg = parse_good("store = postgresql:postgresql://gw@db.example/ipref?sslmode=require");
	assert_string_equal(cfg.store_conninfo, "postgresql://gw@db.example/ipref?sslmode=require");
	cfg = parse_good("store = sqlite");
	assert_string_equal(cfg.store_conninfo, "");
	cfg = parse_good("gateway-id = gw-a");
	assert_string_equal(cfg.gateway_id, "gw-a");
	memset(line, 'a', sizeof(line));
	memcpy(line, "store = postgresql:", prefix);
	line[prefix + CONFIG_CONNINFO_MAX - 1] = '\0';
	cfg = parse_good(line);
	assert_int_equal(strlen(cfg.store_conninfo), CONFIG_CONNINFO_MAX - 1);
	line[prefix + CONFIG_CONNINFO_MAX - 1] = 'a';
	line[prefix + CONFIG_CONNINFO_MAX] = '\0';
	const struct bad_case bad[] = {
		{ "store = mysql:host=x", -EINVAL, 9, "expected sqlite or postgresql:CONNINFO" },
		{ "store = SQLite", -EINVAL, 9, "expected sqlite or postgresql:CONNINFO" },
		{ "store = postgresql:", -EINVAL, 20, "the conninfo after postgresql: is empty" },
		{ "store = postgresql: # a comment", -EINVAL, 20,
		  "the conninfo after postgresql: is empty" },
		{ line, -ERANGE, 20, "conninfo longer than 1023 bytes" },
		{ "gateway-id = a-name-longer-than-thirty-two-chars", -ERANGE, 46,
		  "name longer than 32 characters" },
	};
	expect_bad(bad, COUNT(bad));
}

static void test_names(void **state)
{
	static const char *const good[] = {
		"ipref",
		"_ipref",
		"Debian-exim",
		"ipref.gw",
		"a1",
		"machine$",
		"x",
		"ipref_gw-2",
		/* 32 characters */
		"abcdefghijklmnopqrstuvwxyz012345",
	};
	static const struct bad_case bad[] = {
		{ "user = 1ipref", -EINVAL, 8, "name must start with a letter or '_'" },
		{ "user = -ipref", -EINVAL, 8, "name must start with a letter or '_'" },
		{ "user = .ipref", -EINVAL, 8, "name must start with a letter or '_'" },
		{ "user = ip ref", -EINVAL, 10, "unexpected character in a user or group name" },
		{ "user = ip$ref", -EINVAL, 10, "unexpected character in a user or group name" },
		{ "user = ipréf", -EINVAL, 11, "unexpected character in a user or group name" },
		{ "user = 1000", -EINVAL, 8, "name must start with a letter or '_'" },
		{ "user = abcdefghijklmnopqrstuvwxyz0123456", -ERANGE, 40,
		  "name longer than 32 characters" },
		{ "socket-group = ip:ref", -EINVAL, 18,
		  "unexpected character in a user or group name" },
		{ "socket-group = $", -EINVAL, 16, "name must start with a letter or '_'" },
	};
	char line[80];
	struct gwctl_config cfg;

	(void)state;
	for (size_t i = 0; i < COUNT(good); i++) {
		snprintf(line, sizeof(line), "user = %s", good[i]);
		cfg = parse_good(line);
		assert_string_equal(cfg.user, good[i]);
		snprintf(line, sizeof(line), "socket-group=%s # the group", good[i]);
		cfg = parse_good(line);
		assert_string_equal(cfg.socket_group, good[i]);
	}
	/* empty is allowed and means the default */
	cfg = parse_good("user =");
	assert_string_equal(cfg.user, "");
	cfg = parse_good("socket-group = # mode 0600");
	assert_string_equal(cfg.socket_group, "");
	assert_true(cfg.seen != 0);
	expect_bad(bad, COUNT(bad));
}

static void test_gateways(void **state)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const struct bad_case bad[] = {
		{ "gateway = 192.0.2", -EINVAL, 18,
		  "not an IPv4 address (four decimal octets 0-255)" },
		{ "gateway = 192.0.2.256", -EINVAL, 19, "IPv4 octet above 255" },
		{ "gateway = 192.0.2.01", -EINVAL, 19, "IPv4 octet with a leading zero" },
		{ "gateway = gw.example.net", -EINVAL, 11,
		  "not an IPv4 address (four decimal octets 0-255)" },
		{ "gateway = 2001:db8::g", -EINVAL, 21, "unexpected character in IPv6 address" },
		{ "gateway = [2001:db8::1]", -EINVAL, 11,
		  "IPv6 address without brackets expected" },
		{ "gateway = fe80::1%eth0", -EINVAL, 18, "IPv6 zone index not allowed here" },
		{ "gateway = 2001:db8:::1", -EINVAL, 11, "not an IPv6 address" },
		{ "gateway = 192.0.2.1 192.0.2.2", -EINVAL, 20,
		  "not an IPv4 address (four decimal octets 0-255)" },
		{ "gateway = 0.0.0.0", -EINVAL, 11,
		  "gateway must be a unicast address, not 0.0.0.0, multicast or broadcast" },
		{ "gateway = 224.0.0.1", -EINVAL, 11,
		  "gateway must be a unicast address, not 0.0.0.0, multicast or broadcast" },
		{ "gateway = 239.255.255.255", -EINVAL, 11,
		  "gateway must be a unicast address, not 0.0.0.0, multicast or broadcast" },
		{ "gateway = 255.255.255.255", -EINVAL, 11,
		  "gateway must be a unicast address, not 0.0.0.0, multicast or broadcast" },
		{ "gateway = ::", -EINVAL, 11,
		  "gateway must be a unicast address, not :: or multicast" },
		{ "gateway = ff02::1", -EINVAL, 11,
		  "gateway must be a unicast address, not :: or multicast" },
		{ "gateway = ::ffff:192.0.2.1", -EINVAL, 11,
		  "IPv4-mapped IPv6 address: write the IPv4 address" },
		{ "gateway =", -EINVAL, 10, "missing value" },
	};
	struct gwctl_config cfg;
	struct ipr_err err = { 0 };
	char line[64];

	(void)state;
	cfg = parse_good("gateway = 192.0.2.1");
	assert_int_equal(cfg.gateway_count, 1);
	assert_int_equal(cfg.gateways[0].family, AF_INET);
	assert_memory_equal(cfg.gateways[0].addr, "\xc0\x00\x02\x01", 4);
	cfg = parse_good("gateway = 2001:DB8::1 # upper case hex is fine");
	assert_int_equal(cfg.gateway_count, 1);
	assert_int_equal(cfg.gateways[0].family, AF_INET6);
	assert_memory_equal(cfg.gateways[0].addr, v6, 16);
	cfg = parse_good("gateway = 127.0.0.1");
	assert_int_equal(cfg.gateway_count, 1);
	expect_bad(bad, COUNT(bad));

	/* repeatable up to eight, each address once, IPv4 and IPv6 mixed */
	config_defaults(&cfg);
	assert_int_equal(parse(&cfg, "gateway = 2001:db8::1", NULL), 0);
	for (int i = 1; i < CONFIG_GATEWAY_MAX; i++) {
		snprintf(line, sizeof(line), "gateway = 198.51.100.%d", i);
		assert_int_equal(parse(&cfg, line, NULL), 0);
	}
	assert_int_equal(cfg.gateway_count, CONFIG_GATEWAY_MAX);
	assert_int_equal(cfg.gateways[7].family, AF_INET);
	assert_memory_equal(cfg.gateways[7].addr, "\xc6\x33\x64\x07", 4);
	assert_int_equal(parse(&cfg, "gateway = 198.51.100.100", &err), -EINVAL);
	assert_string_equal(err.reason, "more than 8 gateway addresses");
	assert_int_equal(err.column, 11);
	assert_int_equal(cfg.gateway_count, CONFIG_GATEWAY_MAX);

	config_defaults(&cfg);
	assert_int_equal(parse(&cfg, "gateway = 2001:db8::1", NULL), 0);
	assert_int_equal(parse(&cfg, "gateway = 192.0.2.1", NULL), 0);
	assert_int_equal(parse(&cfg, "gateway = 2001:db8:0::1", &err), -EINVAL);
	assert_string_equal(err.reason, "gateway address given twice");
	assert_int_equal(parse(&cfg, "  gateway = 192.0.2.1", &err), -EINVAL);
	assert_string_equal(err.reason, "gateway address given twice");
	assert_int_equal(err.column, 13);
	assert_int_equal(cfg.gateway_count, 2);
}

static void test_encoded_prefixes(void **state)
{
	static const uint8_t fd00[16] = { 0xfd };
	static const struct bad_case bad[] = {
		{ "encoded-ipv4 = 10.240.0.1/12", -EINVAL, 16,
		  "address has bits set beyond the prefix length" },
		{ "encoded-ipv4 = 10.241.0.0/12", -EINVAL, 16,
		  "address has bits set beyond the prefix length" },
		{ "encoded-ipv4 = 192.168.0.2/30", -EINVAL, 16,
		  "address has bits set beyond the prefix length" },
		{ "encoded-ipv4 = 10.0.0.0/7", -ERANGE, 25, "IPv4 prefix length must be 8 to 30" },
		{ "encoded-ipv4 = 10.0.0.0/31", -ERANGE, 25, "IPv4 prefix length must be 8 to 30" },
		{ "encoded-ipv4 = 10.0.0.0/32", -ERANGE, 25, "IPv4 prefix length must be 8 to 30" },
		{ "encoded-ipv4 = 10.0.0.0/0", -ERANGE, 25, "IPv4 prefix length must be 8 to 30" },
		{ "encoded-ipv4 = 10.0.0.0/99999999999999999999999", -ERANGE, 25,
		  "IPv4 prefix length must be 8 to 30" },
		{ "encoded-ipv4 = 10.0.0.0/08", -EINVAL, 25, "number with a leading zero" },
		{ "encoded-ipv4 = 10.0.0.0/", -EINVAL, 25, "expected a decimal number" },
		{ "encoded-ipv4 = 10.0.0.0/-8", -EINVAL, 25, "expected a decimal number" },
		{ "encoded-ipv4 = 10.0.0.0/8x", -EINVAL, 26,
		  "unexpected text after the prefix length" },
		{ "encoded-ipv4 = 10.0.0.0/8/8", -EINVAL, 26,
		  "unexpected text after the prefix length" },
		{ "encoded-ipv4 = 10.0.0.0", -EINVAL, 24, "missing '/LENGTH' (or write none)" },
		{ "encoded-ipv4 = 10.0.0/8", -EINVAL, 22,
		  "not an IPv4 address (four decimal octets 0-255)" },
		{ "encoded-ipv4 = fdee:eeee::/64", -EINVAL, 16, "expected an IPv4 prefix" },
		{ "encoded-ipv4 = None", -EINVAL, 16,
		  "not an IPv4 address (four decimal octets 0-255)" },
		{ "encoded-ipv4 = off", -EINVAL, 16,
		  "not an IPv4 address (four decimal octets 0-255)" },
		{ "encoded-ipv4 =", -EINVAL, 15, "missing value" },
		{ "encoded-ipv6 = fdee:eeee::1/64", -EINVAL, 16,
		  "address has bits set beyond the prefix length" },
		{ "encoded-ipv6 = fdee:eeee:0:0:8000::/64", -EINVAL, 16,
		  "address has bits set beyond the prefix length" },
		{ "encoded-ipv6 = fd00::/7", -ERANGE, 23, "IPv6 prefix length must be 8 to 126" },
		{ "encoded-ipv6 = fd00::/127", -ERANGE, 23, "IPv6 prefix length must be 8 to 126" },
		{ "encoded-ipv6 = fd00::/128", -ERANGE, 23, "IPv6 prefix length must be 8 to 126" },
		{ "encoded-ipv6 = fd00::/129", -ERANGE, 23, "IPv6 prefix length must be 8 to 126" },
		{ "encoded-ipv6 = fd00::", -EINVAL, 22, "missing '/LENGTH' (or write none)" },
		{ "encoded-ipv6 = 10.240.0.0/12", -EINVAL, 16, "expected an IPv6 prefix" },
		{ "encoded-ipv6 = fd00:::/64", -EINVAL, 16, "not an IPv6 address" },
		{ "encoded-ipv6 = NONE", -EINVAL, 16, "expected an IPv6 prefix" },
	};
	struct gwctl_config cfg;

	(void)state;
	cfg = parse_good("encoded-ipv4 = 100.64.0.0/10");
	assert_true(cfg.encoded_ipv4.enabled);
	assert_memory_equal(cfg.encoded_ipv4.addr, "\x64\x40\x00\x00", 4);
	assert_int_equal(cfg.encoded_ipv4.length, 10);
	cfg = parse_good("encoded-ipv4 = 10.0.0.0/8");
	assert_int_equal(cfg.encoded_ipv4.length, 8);
	cfg = parse_good("encoded-ipv4 = 192.168.7.252/30");
	assert_int_equal(cfg.encoded_ipv4.length, 30);
	cfg = parse_good("encoded-ipv4 = none # IPv6 only");
	assert_false(cfg.encoded_ipv4.enabled);
	assert_int_equal(cfg.encoded_ipv4.family, AF_INET);
	assert_true(cfg.encoded_ipv6.enabled);

	cfg = parse_good("encoded-ipv6 = fd00::/8");
	assert_true(cfg.encoded_ipv6.enabled);
	assert_int_equal(cfg.encoded_ipv6.family, AF_INET6);
	assert_memory_equal(cfg.encoded_ipv6.addr, fd00, 16);
	assert_int_equal(cfg.encoded_ipv6.length, 8);
	cfg = parse_good("encoded-ipv6 = fdee:eeee::4/126");
	assert_int_equal(cfg.encoded_ipv6.length, 126);
	assert_int_equal(cfg.encoded_ipv6.addr[15], 4);
	cfg = parse_good("encoded-ipv6 = FDEE:EEEE:1::/48");
	assert_int_equal(cfg.encoded_ipv6.length, 48);
	cfg = parse_good("encoded-ipv6 = none");
	assert_false(cfg.encoded_ipv6.enabled);
	assert_int_equal(cfg.encoded_ipv6.family, AF_INET6);
	assert_true(cfg.encoded_ipv4.enabled);
	expect_bad(bad, COUNT(bad));
}

struct duration_case {
	const char *text;
	uint32_t secs;
};

static void test_durations(void **state)
{
	static const struct duration_case good[] = {
		{ "1", 1 },
		{ "90", 90 },
		{ "1s", 1 },
		{ "45s", 45 },
		{ "1m", 60 },
		{ "90m", 5400 },
		{ "1h", 3600 },
		{ "36h", 129600 },
		{ "1d", 86400 },
		{ "7d", 604800 },
		{ "365d", 31536000 },
		{ "8760h", 31536000 },
		{ "525600m", 31536000 },
		{ "31536000s", 31536000 },
		{ "31536000", 31536000 },
	};
	static const char *const keys[] = { "lease", "quarantine", "sweep-interval" };
	static const struct bad_case bad[] = {
		{ "lease = 0", -ERANGE, 9, "duration must be more than 0" },
		{ "lease = 0s", -ERANGE, 9, "duration must be more than 0" },
		{ "lease = 0d", -ERANGE, 9, "duration must be more than 0" },
		{ "lease = 366d", -ERANGE, 9, "duration longer than 365 days" },
		{ "lease = 8761h", -ERANGE, 9, "duration longer than 365 days" },
		{ "lease = 525601m", -ERANGE, 9, "duration longer than 365 days" },
		{ "lease = 31536001", -ERANGE, 9, "duration longer than 365 days" },
		{ "lease = 31536001s", -ERANGE, 9, "duration longer than 365 days" },
		/* beyond 32 and 64 bits, with and without a unit */
		{ "lease = 4294967297", -ERANGE, 9, "duration longer than 365 days" },
		{ "lease = 18446744073709551617s", -ERANGE, 9, "duration longer than 365 days" },
		{ "lease = 213503982334601d", -ERANGE, 9, "duration longer than 365 days" },
		{ "lease = 99999999999999999999999999999999999999999d", -ERANGE, 9,
		  "duration longer than 365 days" },
		{ "lease = 4H", -EINVAL, 10, "unknown duration unit (s, m, h or d)" },
		{ "lease = 4w", -EINVAL, 10, "unknown duration unit (s, m, h or d)" },
		{ "lease = 4ms", -EINVAL, 11, "unexpected text after the duration unit" },
		{ "lease = 4hours", -EINVAL, 11, "unexpected text after the duration unit" },
		{ "lease = 1h30m", -EINVAL, 11, "unexpected text after the duration unit" },
		{ "lease = 4 h", -EINVAL, 10, "unknown duration unit (s, m, h or d)" },
		{ "lease = 1.5h", -EINVAL, 10, "unknown duration unit (s, m, h or d)" },
		{ "lease = -1", -EINVAL, 9, "expected a decimal number" },
		{ "lease = +1", -EINVAL, 9, "expected a decimal number" },
		{ "lease = h", -EINVAL, 9, "expected a decimal number" },
		{ "lease = 04h", -EINVAL, 9, "number with a leading zero" },
		{ "lease = 00", -EINVAL, 9, "number with a leading zero" },
		{ "lease =", -EINVAL, 8, "missing value" },
		{ "quarantine = 0", -ERANGE, 14, "duration must be more than 0" },
		{ "quarantine = 1y", -EINVAL, 15, "unknown duration unit (s, m, h or d)" },
		{ "sweep-interval = 366d", -ERANGE, 18, "duration longer than 365 days" },
		{ "sweep-interval = 1 m", -EINVAL, 19, "unknown duration unit (s, m, h or d)" },
	};
	char line[64];

	(void)state;
	for (size_t k = 0; k < COUNT(keys); k++) {
		for (size_t i = 0; i < COUNT(good); i++) {
			snprintf(line, sizeof(line), "%s = %s", keys[k], good[i].text);
			struct gwctl_config cfg = parse_good(line);
			uint32_t got = k == 0	? cfg.lease_secs
				       : k == 1 ? cfg.quarantine_secs
						: cfg.sweep_interval_secs;
			if (got != good[i].secs)
				fail_msg("'%s': %u seconds, expected %u", line, got, good[i].secs);
		}
	}
	expect_bad(bad, COUNT(bad));
}

static void test_dynamic_refs(void **state)
{
	static const struct bad_case bad[] = {
		{ "dynamic-ref-min = ab", -EINVAL, 19,
		  "hex needs a dash (16-bit groups such as 0-ab)" },
		{ "dynamic-ref-min = 1 000", -EINVAL, 20,
		  "whitespace inside or after the reference" },
		{ "dynamic-ref-min = 0x400", -EINVAL, 20, "unexpected character in the reference" },
		{ "dynamic-ref-max = 340282366920938463463374607431768211456", -ERANGE, 57,
		  "reference does not fit in 128 bits" },
		{ "dynamic-ref-max = -1", -EINVAL, 19, "dash needs a hex digit on both sides" },
		{ "dynamic-ref-max =", -EINVAL, 18, "missing value" },
	};
	struct gwctl_config cfg;

	(void)state;
	cfg = parse_good("dynamic-ref-min = 1024");
	assert_int_equal(cfg.dynamic_ref_min.lo, 1024);
	cfg = parse_good("dynamic-ref-min = 0-400");
	assert_int_equal(cfg.dynamic_ref_min.lo, 1024);
	cfg = parse_good("dynamic-ref-min = 4.0");
	assert_int_equal(cfg.dynamic_ref_min.lo, 1024);
	cfg = parse_good("dynamic-ref-min = 1,024 # commas are fine");
	assert_int_equal(cfg.dynamic_ref_min.lo, 1024);
	cfg = parse_good("dynamic-ref-max = ff-ffff-ffff-ffff");
	assert_int_equal(cfg.dynamic_ref_max.hi, 0);
	assert_int_equal(cfg.dynamic_ref_max.lo, 72057594037927935ULL);
	cfg = parse_good("dynamic-ref-max = 340282366920938463463374607431768211455");
	assert_int_equal(cfg.dynamic_ref_max.hi, UINT64_MAX);
	assert_int_equal(cfg.dynamic_ref_max.lo, UINT64_MAX);
	cfg = parse_good("dynamic-ref-max = 1--");
	assert_int_equal(cfg.dynamic_ref_max.hi, 1ULL << 48);
	assert_int_equal(cfg.dynamic_ref_max.lo, 0);
	expect_bad(bad, COUNT(bad));
}

static void test_counts(void **state)
{
	static const struct bad_case bad[] = {
		{ "commit-batch = 0", -ERANGE, 16, "must be 1 to 4096" },
		{ "commit-batch = 4097", -ERANGE, 16, "must be 1 to 4096" },
		{ "commit-batch = 18446744073709551616", -ERANGE, 16, "must be 1 to 4096" },
		{ "commit-batch = 99999999999999999999999999999", -ERANGE, 16,
		  "must be 1 to 4096" },
		{ "commit-batch = -1", -EINVAL, 16, "expected a decimal number" },
		{ "commit-batch = 064", -EINVAL, 16, "number with a leading zero" },
		{ "commit-batch = 0x10", -EINVAL, 17, "expected a decimal number" },
		{ "commit-batch = 12 34", -EINVAL, 18, "expected a decimal number" },
		{ "commit-batch = 1k", -EINVAL, 17, "expected a decimal number" },
		{ "commit-batch = many", -EINVAL, 16, "expected a decimal number" },
		{ "commit-batch =", -EINVAL, 15, "missing value" },
		{ "max-clients = 0", -ERANGE, 15, "must be 1 to 4096" },
		{ "max-clients = 5000", -ERANGE, 15, "must be 1 to 4096" },
		{ "max-clients = 1.5", -EINVAL, 16, "expected a decimal number" },
		{ "max-clients-per-user = 0", -ERANGE, 24, "must be 1 to 4096" },
		{ "idle-timeout = 0", -ERANGE, 16, "duration must be more than 0" },
		{ "inbound-rate = 0", -ERANGE, 16, "must be 1 to 16777216" },
		{ "inbound-total = 16777217", -ERANGE, 17, "must be 1 to 16777216" },
		{ "inbound-per-peer = 01", -EINVAL, 20, "number with a leading zero" },
		{ "inbound-rate-total = 5/s", -EINVAL, 23, "expected a decimal number" },
		{ "client-limit = 0", -ERANGE, 16, "must be 1 to 16777216" },
		{ "client-total = 16777217", -ERANGE, 16, "must be 1 to 16777216" },
		{ "probation = 0", -ERANGE, 13, "duration must be more than 0" },
		{ "flush-interval-ms = 0", -ERANGE, 21, "must be 1 to 10000 (milliseconds)" },
		{ "flush-interval-ms = 10001", -ERANGE, 21, "must be 1 to 10000 (milliseconds)" },
		{ "flush-interval-ms = 1s", -EINVAL, 22, "expected a decimal number" },
	};
	struct gwctl_config cfg;

	(void)state;
	cfg = parse_good("commit-batch = 1");
	assert_int_equal(cfg.commit_batch, 1);
	assert_int_equal(cfg.flush_interval_ms, 200); /* the default: at most 1 s is promised */
	cfg = parse_good("flush-interval-ms = 10000");
	assert_int_equal(cfg.flush_interval_ms, 10000);
	cfg = parse_good("commit-batch = 4096");
	assert_int_equal(cfg.commit_batch, 4096);
	cfg = parse_good("max-clients = 1");
	assert_int_equal(cfg.max_clients, 1);
	cfg = parse_good("max-clients = 4096");
	assert_int_equal(cfg.max_clients, 4096);
	cfg = parse_good("max-clients=100#");
	assert_int_equal(cfg.max_clients, 100);
	cfg = parse_good("max-clients-per-user = 3");
	assert_int_equal(cfg.max_clients_per_user, 3);
	cfg = parse_good("idle-timeout = 5m");
	assert_int_equal(cfg.idle_timeout_secs, 300);
	cfg = parse_good("inbound-per-peer = 16777216");
	assert_int_equal(cfg.inbound_per_peer, 16777216);
	cfg = parse_good("inbound-rate-total = 1");
	assert_int_equal(cfg.inbound_rate_total, 1);
	/* the defaults */
	cfg = parse_good("");
	assert_true(cfg.inbound_per_peer == 1024 && cfg.inbound_total == 16384 &&
		    cfg.inbound_rate == 50 && cfg.inbound_rate_total == 500);
	assert_true(cfg.probation_secs == 30 && cfg.client_limit == 512 && cfg.client_total == 0 &&
		    cfg.inbound_quarantine_secs == 10);
	cfg = parse_good("probation = 1m");
	assert_int_equal(cfg.probation_secs, 60);
	cfg = parse_good("inbound-quarantine = 2s");
	assert_int_equal(cfg.inbound_quarantine_secs, 2);
	expect_bad(bad, COUNT(bad));
}

static void test_log_level(void **state)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	static const struct bad_case bad[] = {
		{ "log-level = verbose", -EINVAL, 13,
		  "unknown log level (error, warn, info or debug)" },
		{ "log-level = DEBUG", -EINVAL, 13,
		  "unknown log level (error, warn, info or debug)" },
		{ "log-level = warning", -EINVAL, 13,
		  "unknown log level (error, warn, info or debug)" },
		{ "log-level = info debug", -EINVAL, 13,
		  "unknown log level (error, warn, info or debug)" },
		{ "log-level = 3", -EINVAL, 13, "unknown log level (error, warn, info or debug)" },
		{ "log-level =", -EINVAL, 12, "missing value" },
	};
	char line[64];

	(void)state;
	for (size_t i = 0; i < COUNT(names); i++) {
		snprintf(line, sizeof(line), "log-level = %s", names[i]);
		struct gwctl_config cfg = parse_good(line);
		assert_int_equal(cfg.log_level, (enum config_log_level)i);
		assert_string_equal(config_log_level_name(cfg.log_level), names[i]);
	}
	assert_string_equal(config_log_level_name((enum config_log_level)4), "");
	assert_string_equal(config_log_level_name((enum config_log_level) - 1), "");
	expect_bad(bad, COUNT(bad));
}

static void test_duplicates(void **state)
{
	static const char *const lines[] = {
		"database = /a.db",
		"socket = /a.sock",
		"socket-group = ipref",
		"socket-group =",
		"user = ipref",
		"user =",
		"encoded-ipv4 = 10.0.0.0/8",
		"encoded-ipv4 = none",
		"encoded-ipv6 = fd00::/8",
		"encoded-ipv6 = none",
		"lease = 1h",
		"quarantine = 1h",
		"sweep-interval = 1m",
		"dynamic-ref-min = 2048",
		"dynamic-ref-max = 4096",
		"commit-batch = 10",
		"max-clients = 10",
		"log-level = debug",
	};
	struct gwctl_config cfg, before;
	struct ipr_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < COUNT(lines); i++) {
		config_defaults(&cfg);
		assert_int_equal(parse(&cfg, lines[i], NULL), 0);
		before = cfg;
		/* a second time is an error even with the same value, or with a bad one */
		err = (struct ipr_err){ 0 };
		assert_int_equal(parse(&cfg, lines[i], &err), -EINVAL);
		assert_string_equal(err.reason, "key given twice");
		assert_int_equal(err.column, 1);
		assert_memory_equal(&cfg, &before, sizeof(cfg));
	}
	/* a key that failed has not been seen */
	config_defaults(&cfg);
	assert_int_equal(parse(&cfg, "lease = 0", NULL), -ERANGE);
	assert_int_equal(parse(&cfg, "lease = 2h", NULL), 0);
	assert_int_equal(parse(&cfg, "  lease = 3h", &err), -EINVAL);
	assert_int_equal(err.column, 3);
	assert_string_equal(err.reason, "key given twice");
	assert_int_equal(cfg.lease_secs, 7200);
	/* config_defaults forgets what was seen */
	config_defaults(&cfg);
	assert_int_equal(parse(&cfg, "lease = 3h", NULL), 0);
}

static void test_malformed_lines(void **state)
{
	static const struct bad_case bad[] = {
		{ "unknown = 1", -EINVAL, 1, "unknown key" },
		{ "  lease-time = 1h", -EINVAL, 3, "unknown key" },
		{ "leas = 1h", -EINVAL, 1, "unknown key" },
		{ "leasee = 1h", -EINVAL, 1, "unknown key" },
		{ "Lease = 1h", -EINVAL, 1, "keys are lower-case letters, digits and dashes" },
		{ "log_level = info", -EINVAL, 4,
		  "keys are lower-case letters, digits and dashes" },
		{ "lease: 1h", -EINVAL, 6, "keys are lower-case letters, digits and dashes" },
		{ "lease 1h", -EINVAL, 7, "expected '=' after the key" },
		{ "lease", -EINVAL, 6, "expected '=' after the key" },
		{ "lease # = 1h", -EINVAL, 6, "expected '=' after the key" },
		{ "= 1h", -EINVAL, 1, "missing key before '='" },
		{ "  =", -EINVAL, 3, "missing key before '='" },
		{ "lease = 1h\x01", -EINVAL, 11, "control character" },
		{ "lease = 1h # \x1b[0m", -EINVAL, 14, "control character" },
		{ "lease = 1h\x7f", -EINVAL, 11, "control character" },
		{ "lease = 1h\rx", -EINVAL, 11, "control character" },
		{ "lease = 1h\n\n", -EINVAL, 11, "control character" },
		{ "lease = 1h\r\r\n", -EINVAL, 11, "control character" },
		{ "\vlease = 1h", -EINVAL, 1, "control character" },
		{ "lease = = 1h", -EINVAL, 9, "expected a decimal number" },
	};
	struct gwctl_config cfg;
	struct ipr_err err = { 0 };
	const char nul_line[] = "lease = 1h\0# hidden";

	(void)state;
	expect_bad(bad, COUNT(bad));
	config_defaults(&cfg);
	assert_int_equal(config_parse_line(&cfg, nul_line, sizeof(nul_line) - 1, &err), -EINVAL);
	assert_int_equal(err.column, 11);
	assert_string_equal(err.reason, "control character");
	/* the length bounds the line: nothing past it is read */
	assert_int_equal(config_parse_line(&cfg, "lease = 2hxyz", 10, NULL), 0);
	assert_int_equal(cfg.lease_secs, 7200);
}

static char *write_temp(const char *content, size_t len)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (asprintf(&path, "%s/test_config.XXXXXX", dir && *dir ? dir : "/tmp") < 0)
		fail_msg("out of memory");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Loads content from a temporary file; msg gets the reason with the file name cut off. */
static int load(struct gwctl_config *cfg, const char *content, size_t len, char *msg,
		size_t msg_size)
{
	char full[512];
	char *path = write_temp(content, len);
	int rc = config_load(cfg, path, full, sizeof(full));

	if (rc < 0) {
		size_t plen = strlen(path);
		assert_memory_equal(full, path, plen);
		snprintf(msg, msg_size, "%s", full + plen);
	}
	unlink(path);
	free(path);
	return rc;
}

static void test_load_good(void **state)
{
	static const char text[] = "# gwctl.conf\n"
				   "database = /srv/gw.db\n"
				   "socket = /run/gw.sock\n"
				   "socket-group = ipref\n"
				   "user = _ipref\n"
				   "\n"
				   "gateway = 192.0.2.1\n"
				   "gateway = 2001:db8::1   # the IPv6 side\n"
				   "encoded-ipv4 = none\n"
				   "encoded-ipv6 = fd00:1::/96\n"
				   "lease = 2d\n"
				   "quarantine = 12h\n"
				   "sweep-interval = 5m\n"
				   "dynamic-ref-min = 0-1-0-0\n"
				   "dynamic-ref-max = 1--\n"
				   "commit-batch = 1\n"
				   "max-clients = 4096\n"
				   "log-level = debug\n";
	struct gwctl_config cfg;
	char msg[256] = "";

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(load(&cfg, text, sizeof(text) - 1, msg, sizeof(msg)), 0);
	assert_string_equal(cfg.database, "/srv/gw.db");
	assert_string_equal(cfg.socket, "/run/gw.sock");
	assert_string_equal(cfg.socket_group, "ipref");
	assert_string_equal(cfg.user, "_ipref");
	assert_int_equal(cfg.gateway_count, 2);
	assert_int_equal(cfg.gateways[1].family, AF_INET6);
	assert_false(cfg.encoded_ipv4.enabled);
	assert_int_equal(cfg.encoded_ipv6.length, 96);
	assert_int_equal(cfg.lease_secs, 2 * 86400);
	assert_int_equal(cfg.quarantine_secs, 12 * 3600);
	assert_int_equal(cfg.sweep_interval_secs, 300);
	assert_int_equal(cfg.dynamic_ref_min.lo, 1ULL << 32);
	assert_int_equal(cfg.dynamic_ref_max.hi, 1ULL << 48);
	assert_int_equal(cfg.commit_batch, 1);
	assert_int_equal(cfg.max_clients, 4096);
	assert_int_equal(cfg.log_level, CONFIG_LOG_DEBUG);
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), 0);

	/* empty file: the defaults; no final newline, CRLF lines */
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(load(&cfg, "", 0, msg, sizeof(msg)), 0);
	assert_string_equal(cfg.database, "/var/lib/ipref/gw.db");
	assert_int_equal(load(&cfg, "lease = 5h", 10, msg, sizeof(msg)), 0);
	assert_int_equal(cfg.lease_secs, 5 * 3600);
	assert_int_equal(load(&cfg, "# dos\r\nlease = 6h\r\n\r\n", 21, msg, sizeof(msg)), 0);
	assert_int_equal(cfg.lease_secs, 6 * 3600);
	assert_int_equal(cfg.quarantine_secs, 3600);
}

struct load_case {
	const char *content;
	int rc;
	const char *msg;
};

static void test_load_errors(void **state)
{
	static const struct load_case cases[] = {
		{ "lease = 1h\n\n  lease = 2h\n", -EINVAL, ":3:3: key given twice" },
		{ "# ok\nlease = 1h\nquarantine = 1x\n", -EINVAL,
		  ":3:15: unknown duration unit (s, m, h or d)" },
		/* the first error is reported, even when later lines are worse */
		{ "user = ipref\nbogus = 1\nlease = 0\n", -EINVAL, ":2:1: unknown key" },
		{ "lease = 0\nbogus = 1\n", -ERANGE, ":1:9: duration must be more than 0" },
		{ "gateway = 192.0.2.1\r\n\tgateway = 192.0.2.300\r\n", -EINVAL,
		  ":2:20: IPv4 octet above 255" },
		{ "log-level = info\nlog-level", -EINVAL, ":2:10: expected '=' after the key" },
		{ "\n\n\n\nencoded-ipv4 = 10.240.0.1/12", -EINVAL,
		  ":5:16: address has bits set beyond the prefix length" },
	};
	struct gwctl_config cfg, before;
	char msg[256];

	(void)state;
	for (size_t i = 0; i < COUNT(cases); i++) {
		memset(&cfg, 0x5a, sizeof(cfg));
		memcpy(&before, &cfg, sizeof(cfg));
		int rc = load(&cfg, cases[i].content, strlen(cases[i].content), msg, sizeof(msg));
		if (rc != cases[i].rc || strcmp(msg, cases[i].msg) != 0)
			fail_msg("case %zu: expected %d '%s', got %d '%s'", i, cases[i].rc,
				 cases[i].msg, rc, msg);
		/* a broken file leaves the previous configuration in force */
		assert_memory_equal(&cfg, &before, sizeof(cfg));
	}

	/* a NUL byte is binary content, not the end of the line: the whole file is refused */
	assert_int_equal(load(&cfg, "lease = 1h\0x\n", 13, msg, sizeof(msg)), -EILSEQ);
	assert_string_equal(msg, ":1:11: NUL byte: binary content is refused");
}

static void test_load_long_lines(void **state)
{
	static char text[CONFIG_LINE_MAX + 64];
	struct gwctl_config cfg;
	char msg[256];
	size_t len;

	(void)state;
	/* exactly CONFIG_LINE_MAX bytes is read (and fails only for the path's length) */
	len = (size_t)snprintf(text, sizeof(text), "lease = 1h\n%-*s\n", CONFIG_LINE_MAX,
			       "# a long comment");
	assert_int_equal(load(&cfg, text, len, msg, sizeof(msg)), 0);
	len = (size_t)snprintf(text, sizeof(text), "lease = 1h\n%-*s\nbogus\n", CONFIG_LINE_MAX + 1,
			       "# a longer comment");
	assert_int_equal(load(&cfg, text, len, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, ":2:8193: line too long");
	/* the line numbers go on after a long line */
	len = (size_t)snprintf(text, sizeof(text), "%-*s\nbogus\n", CONFIG_LINE_MAX + 1, "#");
	assert_int_equal(load(&cfg, text, len, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, ":1:8193: line too long");
	len = (size_t)snprintf(text, sizeof(text), "%-*s\nbogus = 1\n", CONFIG_LINE_MAX, "#");
	assert_int_equal(load(&cfg, text, len, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, ":2:1: unknown key");
}

static void test_load_unreadable(void **state)
{
	struct gwctl_config cfg;
	char msg[256], tiny[8];
	const char *dir = getenv("TMPDIR");
	char *path;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, "/nonexistent/gwctl.conf", msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "/nonexistent/gwctl.conf: No such file or directory");
	assert_int_equal(config_load(&cfg, "/nonexistent/gwctl.conf", NULL, 0), -ENOENT);
	assert_int_equal(config_load(&cfg, "/nonexistent/gwctl.conf", tiny, sizeof(tiny)), -ENOENT);
	assert_string_equal(tiny, "/nonexi");

	/* a folder opens, but does not read */
	assert_true(asprintf(&path, "%s/test_config_dir.XXXXXX", dir && *dir ? dir : "/tmp") > 0);
	assert_non_null(mkdtemp(path));
	assert_int_equal(config_load(&cfg, path, msg, sizeof(msg)), -EISDIR);
	assert_true(strstr(msg, ": Is a directory") != NULL);
	rmdir(path);
	free(path);

	/* errors without a message buffer */
	path = write_temp("bogus\n", 6);
	assert_int_equal(config_load(&cfg, path, NULL, 0), -EINVAL);
	unlink(path);
	free(path);
}

static void test_check(void **state)
{
	struct gwctl_config cfg;
	char msg[256], tiny[6];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), 0);

	cfg.encoded_ipv4.enabled = false;
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), 0);
	cfg.encoded_ipv6.enabled = false;
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg,
			    "encoded-ipv4 and encoded-ipv6 are both none: enable at least one");
	assert_int_equal(config_check(&cfg, NULL, 0), -EINVAL);
	assert_int_equal(config_check(&cfg, tiny, sizeof(tiny)), -EINVAL);
	assert_string_equal(tiny, "encod");
	cfg.encoded_ipv4.enabled = true;
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), 0);
	cfg.probation_secs = cfg.lease_secs + 1;
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "probation must be more than 0 and at most lease");
	cfg.probation_secs = 30;

	config_defaults(&cfg);
	cfg.dynamic_ref_min = ipr_ref_from_u64(1023);
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "dynamic-ref-min must be at least 1024 (0-1023 are kept for "
				 "published references)");
	cfg.dynamic_ref_min = ipr_ref_from_u64(0);
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), -EINVAL);
	cfg.dynamic_ref_min = ipr_ref_from_u64(1024);
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), 0);
	cfg.dynamic_ref_min = (struct ipr_ref){ .hi = 1, .lo = 5 };
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "dynamic-ref-min is above dynamic-ref-max");
	cfg.dynamic_ref_max = (struct ipr_ref){ .hi = 1, .lo = 5 };
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), 0); /* min == max */
	cfg.dynamic_ref_max = (struct ipr_ref){ .hi = 1, .lo = 4 };
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), -EINVAL);
	cfg.dynamic_ref_max = (struct ipr_ref){ .hi = 2, .lo = 0 };
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), 0);

	config_defaults(&cfg);
	cfg.lease_secs = 0;
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "lease must be more than 0");
	config_defaults(&cfg);
	cfg.quarantine_secs = 0;
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "quarantine must be more than 0");

	/* sweep-interval may equal the lease, not exceed it; quarantine may exceed it */
	config_defaults(&cfg);
	assert_int_equal(parse(&cfg, "lease = 10m", NULL), 0);
	assert_int_equal(parse(&cfg, "sweep-interval = 600", NULL), 0);
	assert_int_equal(parse(&cfg, "quarantine = 1d", NULL), 0);
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), 0);
	cfg.sweep_interval_secs = 601;
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "sweep-interval is longer than lease");
}

/* Lines that parse can still fail the cross checks, through config_load as through lines. */
static void test_check_after_load(void **state)
{
	static const char text[] = "encoded-ipv4 = none\nencoded-ipv6 = none\n";
	struct gwctl_config cfg;
	char msg[256];

	(void)state;
	assert_int_equal(load(&cfg, text, sizeof(text) - 1, msg, sizeof(msg)), 0);
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(load(&cfg, "dynamic-ref-max = 4096\n", 23, msg, sizeof(msg)), 0);
	assert_int_equal(config_check(&cfg, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "dynamic-ref-min is above dynamic-ref-max");
}

static void test_source_keys(void **state)
{
	static const struct bad_case bad[] = {
		{ "zone = /etc/ipref/example.com.zone", -EINVAL, 35,
		  "expected two files: the public zone, then the internal zone" },
		{ "zone = zones/a.zone /etc/b.zone", -EINVAL, 8, "must be an absolute path" },
		{ "zone = /etc/a.zone etc/b.zone", -EINVAL, 20, "must be an absolute path" },
		{ "hosts = hosts", -EINVAL, 9, "must be an absolute path" },
		{ "gateway-name = gw..example.com", -EINVAL, 19, "empty label in name" },
	};
	struct gwctl_config cfg;
	struct ipr_err err = { 0 };

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.zone_count + cfg.hosts_count + cfg.gateway_name_count, 0);
	assert_int_equal(
		parse(&cfg, "zone = /etc/ipref/example.com.zone \t /etc/ipref/internal.zone", &err),
		0);
	assert_int_equal(parse(&cfg, "zone = /a/public.zone /a/internal zone", &err), 0);
	assert_int_equal(cfg.zone_count, 2);
	assert_string_equal(cfg.zones[0].public_path, "/etc/ipref/example.com.zone");
	assert_string_equal(cfg.zones[0].internal_path, "/etc/ipref/internal.zone");
	assert_string_equal(cfg.zones[1].internal_path, "/a/internal zone");
	assert_int_equal(parse(&cfg, "hosts = /etc/hosts", &err), 0);
	assert_int_equal(parse(&cfg, "hosts = /etc/ipref/hosts", &err), 0);
	assert_int_equal(cfg.hosts_count, 2);
	assert_string_equal(cfg.hosts_paths[1], "/etc/ipref/hosts");
	assert_int_equal(parse(&cfg, "gateway-name = GW.Example.com.", &err), 0);
	assert_string_equal(cfg.gateway_names[0], "gw.example.com");
	assert_int_equal(parse(&cfg, "gateway-name = gw.example.com", &err), -EINVAL);
	assert_string_equal(err.reason, "gateway name given twice");
	for (int i = 2; i < CONFIG_SOURCES_MAX; i++)
		assert_int_equal(parse(&cfg, "hosts = /etc/hosts", &err), 0);
	assert_int_equal(parse(&cfg, "hosts = /etc/hosts", &err), -EINVAL);
	assert_string_equal(err.reason, "more than 16 hosts files");
	expect_bad(bad, sizeof(bad) / sizeof(bad[0]));
}

/* The key table is one core's dispatcher can serve (core/conf_table.h). */
static void test_table(void **state)
{
	struct ipr_err err = { 0 };

	(void)state;
	if (ipr_settings_check(&config_settings, &err) != 0)
		fail_msg("row %zu: %s", err.column, err.reason);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_blank_and_comment_lines),
		cmocka_unit_test(test_whitespace_and_comments),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_long_database_path),
		cmocka_unit_test(test_store_engine),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_gateways),
		cmocka_unit_test(test_encoded_prefixes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_dynamic_refs),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_log_level),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_long_lines),
		cmocka_unit_test(test_load_unreadable),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_after_load),
		cmocka_unit_test(test_source_keys),
	};
	return cmocka_run_group_tests_name("gwctl-config", tests, NULL, NULL);
}
