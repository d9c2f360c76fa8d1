/* Unit tests of the ipref module's settings file: keys, values, errors with their columns. */
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

#include "settings.h"
#include "synth.h"

static int parse(struct resolver_settings *s, const char *line, struct ipr_err *err)
{
	return settings_parse_line(s, line, strlen(line), err);
}

static void test_defaults_and_values(void **state)
{
	struct resolver_settings s;
	struct ipr_err err = { 0 };

	(void)state;
	settings_defaults(&s);
	assert_string_equal(s.socket, "/run/ipref/gwctl.sock");
	assert_int_equal(s.timeout_ms, 1000);
	assert_int_equal(s.holdoff_ms, 1000);
	assert_int_equal(s.families, SETTINGS_FAMILY_AUTO);
	assert_int_equal(s.max_records, SYNTH_AA_MAX);
	assert_int_equal(s.lookup_wait_ms, 500);

	assert_int_equal(parse(&s, "socket = /tmp/gw.sock  # test daemon\n", &err), 0);
	assert_string_equal(s.socket, "/tmp/gw.sock");
	assert_int_equal(parse(&s, "timeout-ms=5000", &err), 0);
	assert_int_equal(s.timeout_ms, 5000);
	assert_int_equal(parse(&s, "holdoff-ms = 0", &err), 0);
	assert_int_equal(s.holdoff_ms, 0);
	assert_int_equal(parse(&s, "internet-families = ipv6\tipv4", &err), 0);
	assert_int_equal(s.families, SETTINGS_FAMILY_V4 | SETTINGS_FAMILY_V6);
	assert_int_equal(parse(&s, "max-records = 1", &err), 0);
	assert_int_equal(s.max_records, 1);
	assert_int_equal(parse(&s, "lookup-wait-ms = 5000", &err), 0);
	assert_int_equal(s.lookup_wait_ms, 5000);
	assert_int_equal(parse(&s, "   # only a comment", &err), 0);
	assert_int_equal(parse(&s, "", &err), 0);

	settings_defaults(&s);
	assert_int_equal(parse(&s, "internet-families = ipv4", &err), 0);
	assert_int_equal(s.families, SETTINGS_FAMILY_V4);
	settings_defaults(&s);
	assert_int_equal(parse(&s, "internet-families = auto", &err), 0);
	assert_int_equal(s.families, SETTINGS_FAMILY_AUTO);
}

static void test_errors(void **state)
{
	static const struct {
		const char *line;
		int rc;
		size_t column;
		const char *reason;
	} cases[] = {
		{ "socket = run/gw.sock", -EINVAL, 10, "must be an absolute path" },
		{ "timeout-ms = 0", -ERANGE, 14, "must be 1 to 5000 milliseconds" },
		{ "timeout-ms = 5001", -ERANGE, 14, "must be 1 to 5000 milliseconds" },
		{ "timeout-ms = 050", -EINVAL, 14, "number with a leading zero" },
		{ "timeout-ms = 50ms", -EINVAL, 16, "expected a decimal number" },
		{ "timeout-ms = 99999999999999999999999", -ERANGE, 14,
		  "must be 1 to 5000 milliseconds" },
		{ "holdoff-ms = 60001", -ERANGE, 14, "must be 0 to 60000 milliseconds" },
		{ "max-records = 9", -ERANGE, 15, "must be 1 to 8" },
		{ "lookup-wait-ms = 0", -ERANGE, 18, "must be 1 to 5000 milliseconds" },
		{ "lookup-wait-ms = 5001", -ERANGE, 18, "must be 1 to 5000 milliseconds" },
		{ "internet-families = ipv4 ipx", -EINVAL, 26,
		  "expected auto, or ipv4 and/or ipv6" },
		{ "internet-families = auto ipv4", -EINVAL, 21,
		  "expected auto, or ipv4 and/or ipv6" },
		{ "timeout = 5", -EINVAL, 1, "unknown key" },
		{ "Socket = /x", -EINVAL, 1, "keys are lower-case letters, digits and dashes" },
		{ "socket /x", -EINVAL, 8, "expected '=' after the key" },
		{ "socket =", -EINVAL, 9, "missing value" },
		{ "= /x", -EINVAL, 1, "missing key before '='" },
		{ "socket = /x\x01", -EINVAL, 12, "control character" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resolver_settings s, before;
		struct ipr_err err = { 0 };

		settings_defaults(&s);
		before = s;
		assert_int_equal(parse(&s, cases[i].line, &err), cases[i].rc);
		if (err.column != cases[i].column || strcmp(err.reason, cases[i].reason) != 0)
			fail_msg("%s: column %zu '%s'", cases[i].line, err.column, err.reason);
		/* a bad line changes nothing */
		assert_memory_equal(&s, &before, sizeof(s));
	}
}

static void test_repeats_and_long_paths(void **state)
{
	struct resolver_settings s;
	struct ipr_err err = { 0 };
	char line[256];

	(void)state;
	settings_defaults(&s);
	assert_int_equal(parse(&s, "timeout-ms = 10", &err), 0);
	assert_int_equal(parse(&s, "timeout-ms = 20", &err), -EINVAL);
	assert_string_equal(err.reason, "key given twice");
	assert_int_equal(s.timeout_ms, 10);

	/* the path with its NUL must fit a Unix socket address */
	snprintf(line, sizeof(line), "socket = /%0*d", (int)SETTINGS_SOCKET_MAX - 2, 0);
	assert_int_equal(parse(&s, line, &err), 0);
	settings_defaults(&s);
	/* a value out of bounds is ERANGE, as in gwctl.conf and dataplane.conf, at the first
	 * byte that does not fit */
	snprintf(line, sizeof(line), "socket = /%0*d", (int)SETTINGS_SOCKET_MAX - 1, 0);
	assert_int_equal(parse(&s, line, &err), -ERANGE);
	assert_string_equal(err.reason, "socket path too long");
	assert_int_equal(err.column, strlen("socket = ") + SETTINGS_SOCKET_MAX);
	/* a socket path names a file, as gwctl.conf's does */
	assert_int_equal(parse(&s, "socket = /run/ipref/", &err), -EINVAL);
	assert_string_equal(err.reason, "path names a directory (ends in '/')");
	assert_int_equal(err.column, 20);
}

static void test_load(void **state)
{
	char path[] = "/tmp/ipref-settings-XXXXXX";
	struct resolver_settings s;
	char msg[256] = "";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# the test daemon\nsocket = /tmp/x.sock\n\ntimeout-ms = 7\nbogus = 1\nmax-records = "
	      "0\n",
	      f);
	fclose(f);
	assert_int_equal(settings_load(path, &s, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, ":5:1: unknown key")); /* the first error is the one told */

	f = fopen(path, "w");
	fputs("socket = /tmp/x.sock\ntimeout-ms = 7\n", f);
	fclose(f);
	assert_int_equal(settings_load(path, &s, msg, sizeof(msg)), 0);
	assert_string_equal(s.socket, "/tmp/x.sock");
	assert_int_equal(s.timeout_ms, 7);
	unlink(path);

	/* a missing file: -ENOENT with the defaults, for the module to accept or refuse */
	s.timeout_ms = 1;
	assert_int_equal(settings_load(path, &s, msg, sizeof(msg)), -ENOENT);
	assert_int_equal(s.timeout_ms, 1000);
	assert_non_null(strstr(msg, "No such file"));
}

/* The key table is one core's dispatcher can serve (core/conf_table.h). */
static void test_table(void **state)
{
	struct ipr_err err = { 0 };

	(void)state;
	if (ipr_settings_check(&settings_table, &err) != 0)
		fail_msg("row %zu: %s", err.column, err.reason);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),  cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_errors), cmocka_unit_test(test_repeats_and_long_paths),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
