/* Unit tests of dataplane.conf: every key, defaults, refusals with their columns, whole files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpconf.h"
#include "tun.h"

static int line(struct dpconf *cfg, const char *text, struct ipr_err *err)
{
	return dpconf_parse_line(cfg, text, strlen(text), err);
}

static void test_defaults_and_keys(void **state)
{
	struct dpconf cfg;
	struct ipr_err err;

	dpconf_defaults(&cfg);
	assert_string_equal(cfg.tun, "ipref0");
	assert_int_equal(cfg.port, 1045);
	assert_int_equal(cfg.peer_port, 1045);
	assert_int_equal(cfg.mtu, 1500);
	assert_true(cfg.ipv4 && cfg.ipv6);
	assert_true(cfg.tun_offload && cfg.udp_gso && cfg.udp_gro);
	assert_string_equal(cfg.gwctl_socket, "/run/ipref/gwctl.sock");
	assert_int_equal(line(&cfg, "gwctl-socket = /run/x/gwctl.sock\n", &err), 0);
	assert_int_equal(line(&cfg, "  tun\t=  ipref7   # a comment\r\n", &err), 0);
	assert_int_equal(line(&cfg, "user = ipref", &err), 0);
	assert_int_equal(line(&cfg, "port = 2045", &err), 0);
	assert_int_equal(line(&cfg, "peer-port=3045", &err), 0);
	assert_int_equal(line(&cfg, "mtu = 9000", &err), 0);
	assert_int_equal(line(&cfg, "ref-bytes = 8", &err), 0);
	assert_int_equal(line(&cfg, "capacity = 1024", &err), 0);
	assert_int_equal(line(&cfg, "wait-slots = 0", &err), 0);
	assert_int_equal(line(&cfg, "internet = ipv6", &err), 0);
	assert_int_equal(cfg.icmp_rate, 100);
	assert_int_equal(cfg.icmp_burst, 50);
	assert_int_equal(line(&cfg, "icmp-rate = 0", &err), 0);
	assert_int_equal(line(&cfg, "icmp-burst = 7", &err), 0);
	assert_int_equal(line(&cfg, "tun-offload = off", &err), 0);
	assert_int_equal(line(&cfg, "udp-gso = off", &err), 0);
	assert_int_equal(line(&cfg, "udp-gro = auto", &err), 0);
	assert_int_equal(cfg.workers, 1);
	assert_int_equal(line(&cfg, "workers = 4", &err), 0);
	assert_int_equal(cfg.workers, 4);
	assert_int_equal(line(&cfg, "# only a comment", &err), 0);
	assert_int_equal(line(&cfg, "", &err), 0);
	assert_string_equal(cfg.gwctl_socket, "/run/x/gwctl.sock");
	assert_string_equal(cfg.tun, "ipref7");
	assert_string_equal(cfg.user, "ipref");
	assert_int_equal(cfg.port, 2045);
	assert_int_equal(cfg.peer_port, 3045);
	assert_int_equal(cfg.mtu, 9000);
	assert_int_equal(cfg.ref_bytes, 8);
	assert_int_equal(cfg.capacity, 1024);
	assert_int_equal(cfg.wait_slots, 0);
	assert_true(!cfg.ipv4 && cfg.ipv6);
	assert_int_equal(cfg.icmp_rate, 0);
	assert_int_equal(cfg.icmp_burst, 7);
	assert_true(!cfg.tun_offload && !cfg.udp_gso && cfg.udp_gro);
}

/* The key of before 19 is refused with what to write instead; a socket path must fit. */
static void test_gwctl_socket(void **state)
{
	struct dpconf cfg;
	struct ipr_err err;
	char longest[200];

	dpconf_defaults(&cfg);
	assert_int_equal(line(&cfg, "gwctl-config = /etc/ipref/gwctl.conf", &err), -EINVAL);
	assert_non_null(strstr(err.reason, "gwctl-socket = "));
	memset(longest, 'a', sizeof(longest));
	memcpy(longest, "gwctl-socket = /", 16);
	longest[sizeof(longest) - 1] = '\0';
	assert_int_equal(line(&cfg, longest, &err), -ERANGE);
	assert_string_equal(cfg.gwctl_socket, "/run/ipref/gwctl.sock");
}

/* A refused line leaves the configuration as it was and points at the offending column. */
static void test_refusals(void **state)
{
	static const struct {
		const char *text;
		int rc;
		size_t column;
	} cases[] = {
		{ "nonsense = 1", -EINVAL, 1 },
		/* gwctld gives the ranges now: the old key says what to write instead */
		{ "gwctl-config = /etc/ipref/gwctl.conf", -EINVAL, 16 },
		{ "port 1045", -EINVAL, 6 },
		{ "port = 0", -ERANGE, 8 },
		{ "port = 65536", -ERANGE, 8 },
		{ "port = 01045", -EINVAL, 8 },
		{ "port = 10x5", -EINVAL, 10 },
		{ "mtu = 1000", -ERANGE, 7 },
		{ "ref-bytes = 5", -EINVAL, 13 },
		{ "ref-bytes = 32", -ERANGE, 13 },
		{ "capacity = 8", -ERANGE, 12 },
		{ "internet = ipv5", -EINVAL, 12 },
		{ "icmp-rate = 100001", -ERANGE, 13 },
		{ "icmp-burst = 0", -ERANGE, 14 },
		{ "udp-gso = on", -EINVAL, 11 },
		{ "workers = 0", -ERANGE, 11 },
		{ "workers = 65", -ERANGE, 11 },
		{ "tun = a/b", -EINVAL, 8 },
		{ "tun = abcdefghijklmnop", -ERANGE, 7 },
		{ "tun =", -EINVAL, 6 }, /* missing value, as in gwctl.conf */
		{ "gwctl-socket = run/gwctl.sock", -EINVAL, 16 }, /* absolute, as gwctl.conf's */
		{ "user = 1000", -EINVAL, 8 },			  /* a name, as gwctl.conf's */
		{ "user = a\001b", -EINVAL, 9 },
		{ "port = 99999999999999999999999", -ERANGE, 8 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dpconf cfg, before;
		struct ipr_err err = { 0 };
		int rc;

		dpconf_defaults(&cfg);
		before = cfg;
		rc = line(&cfg, cases[i].text, &err);
		if (rc != cases[i].rc || err.column != cases[i].column)
			fail_msg("'%s': rc %d column %zu (%s)", cases[i].text, rc, err.column,
				 err.reason ? err.reason : "");
		assert_memory_equal(&cfg, &before, sizeof(cfg));
	}
}

static void test_twice(void **state)
{
	struct dpconf cfg;
	struct ipr_err err;

	dpconf_defaults(&cfg);
	assert_int_equal(line(&cfg, "port = 1", &err), 0);
	assert_int_equal(line(&cfg, "port = 2", &err), -EINVAL);
	assert_int_equal(cfg.port, 1);
	/* empty user: stay as started, as docs/dataplane.md says */
	assert_int_equal(line(&cfg, "user =", &err), 0);
	assert_string_equal(cfg.user, "");
}

static void test_files(void **state)
{
	char path[] = "/tmp/test-dpconf-XXXXXX";
	int fd = mkstemp(path);
	struct dpconf cfg;
	char msg[256];
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# sample\ntun = t0\nport = 7\n", f);
	fclose(f);
	dpconf_defaults(&cfg);
	assert_int_equal(dpconf_load(&cfg, path, msg, sizeof(msg)), 0);
	assert_string_equal(cfg.tun, "t0");
	assert_int_equal(cfg.port, 7);

	f = fopen(path, "w");
	fputs("tun = t1\n\nport = 0\n", f);
	fclose(f);
	dpconf_defaults(&cfg);
	assert_int_equal(dpconf_load(&cfg, path, msg, sizeof(msg)), -ERANGE);
	assert_non_null(strstr(msg, ":3:8: "));
	assert_string_equal(cfg.tun, "ipref0"); /* nothing of a bad file is kept */
	unlink(path);
	assert_int_equal(dpconf_load(&cfg, path, msg, sizeof(msg)), -ENOENT);
}

/* The TUN MTU's outer header: `internet` when given, else the gateway addresses' families. */
static void test_tun_mtu_basis(void **state)
{
	static const struct {
		const char *internet; /* NULL: not given */
		bool gw4, gw6;
		enum dpconf_mtu_basis basis;
		uint32_t mtu; /* with mtu 1500 and 16-byte references */
	} cases[] = {
		{ NULL, true, false, DPCONF_MTU_GATEWAYS, 1440 },
		{ NULL, false, true, DPCONF_MTU_GATEWAYS, 1396 },
		{ NULL, true, true, DPCONF_MTU_GATEWAYS, 1396 },
		{ NULL, false, false, DPCONF_MTU_NO_GATEWAY, 1396 },
		{ "internet = ipv4", true, true, DPCONF_MTU_INTERNET_KEY, 1440 },
		{ "internet = ipv6", true, false, DPCONF_MTU_INTERNET_KEY, 1396 },
		{ "internet = both", true, false, DPCONF_MTU_INTERNET_KEY, 1396 },
	};
	struct dpconf cfg;
	struct ipr_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum dpconf_mtu_basis basis;
		bool v6;

		dpconf_defaults(&cfg);
		if (cases[i].internet)
			assert_int_equal(line(&cfg, cases[i].internet, &err), 0);
		v6 = dpconf_outer_ipv6(&cfg, cases[i].gw4, cases[i].gw6, &basis);
		assert_int_equal(basis, cases[i].basis);
		assert_int_equal(tun_mtu_for(cfg.mtu, v6, cfg.ref_bytes), cases[i].mtu);
	}
	/* 8-byte references leave 16 bytes more */
	dpconf_defaults(&cfg);
	assert_int_equal(line(&cfg, "ref-bytes = 8", &err), 0);
	assert_int_equal(tun_mtu_for(cfg.mtu, false, cfg.ref_bytes), 1456);
}

/* The key table is one core's dispatcher can serve (core/conf_table.h). */
static void test_table(void **state)
{
	struct ipr_err err = { 0 };

	(void)state;
	if (ipr_settings_check(&dpconf_settings, &err) != 0)
		fail_msg("row %zu: %s", err.column, err.reason);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),	      cmocka_unit_test(test_defaults_and_keys),
		cmocka_unit_test(test_refusals),      cmocka_unit_test(test_gwctl_socket),
		cmocka_unit_test(test_twice),	      cmocka_unit_test(test_files),
		cmocka_unit_test(test_tun_mtu_basis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
