/* Unit tests of hosts-file lines with the "#=" mapping extension. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "hosts_line.h"

static int parse(const char *line, struct ipr_hosts_line *entry, struct ipr_err *err)
{
	return ipr_hosts_line_parse(line, strlen(line), entry, err);
}

static void expect_name(const char *line, const struct ipr_hosts_line *entry, size_t i,
			const char *name)
{
	assert_true(i < entry->name_count);
	assert_int_equal(entry->names[i].len, strlen(name));
	assert_memory_equal(line + entry->names[i].offset, name, strlen(name));
}

static void test_lines_without_mapping(void **state)
{
	static const char *const lines[] = {
		"",
		"   \t",
		"\n",
		"# a comment",
		"   # indented comment #= pub + 5",
		"#= pub + 5",
		"#==== a banner ====",
		"127.0.0.1 localhost",
		"127.0.0.1 localhost # loopback",
		"10.0.0.1 host #",
		"10.0.0.1 host # ",
		"10.0.0.1 host #",
		"10.0.0.1 host # not a mapping #= pub + 5",
		"not even an address",
		"10.0.0.1 host #\n",
	};
	struct ipr_hosts_line entry;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		entry.kind = IPR_HOSTS_PUBLIC;
		if (parse(lines[i], &entry, NULL) != 0 || entry.kind != IPR_HOSTS_NONE)
			fail_msg("'%s' should be left alone", lines[i]);
	}
}

static void test_public(void **state)
{
	const char *line = "10.0.0.5 web web.internal #= public + 1234 # our web server\n";
	struct ipr_hosts_line entry;
	char text[IPR_ADDR_TEXT_MAX];

	(void)state;
	assert_int_equal(parse(line, &entry, NULL), 0);
	assert_int_equal(entry.kind, IPR_HOSTS_PUBLIC);
	assert_int_equal(entry.family, AF_INET);
	assert_memory_equal(entry.ip, "\x0a\x00\x00\x05", 4);
	assert_int_equal(entry.name_count, 2);
	expect_name(line, &entry, 0, "web");
	expect_name(line, &entry, 1, "web.internal");
	assert_false(entry.has_context);
	assert_int_equal(entry.addr.ref.lo, 1234);

	line = "\t10.0.0.5\tweb\t#=\tPub\t192.0.2.1\t+\t0-705\r\n";
	assert_int_equal(parse(line, &entry, NULL), 0);
	assert_int_equal(entry.kind, IPR_HOSTS_PUBLIC);
	assert_true(entry.has_context);
	ipr_addr_format(&entry.addr, IPR_REF_DECIMAL, text);
	assert_string_equal(text, "192.0.2.1 + 1797");

	assert_int_equal(parse("10.0.0.5 x #=pub+5", &entry, NULL), 0);
	assert_int_equal(entry.kind, IPR_HOSTS_PUBLIC);
	assert_int_equal(entry.addr.ref.lo, 5);
	assert_int_equal(parse("10.0.0.5 x #= publ +5#c", &entry, NULL), 0);
	assert_int_equal(entry.addr.ref.lo, 5);
	assert_int_equal(parse("10.0.0.5 #= pub + 5", &entry, NULL), 0);
	assert_int_equal(entry.name_count, 0);
}

static void test_external_and_local(void **state)
{
	struct ipr_hosts_line entry;
	char text[IPR_ADDR_TEXT_MAX];

	(void)state;
	assert_int_equal(parse("10.240.1.2 remote #= ext gw.example.net + 2466", &entry, NULL), 0);
	assert_int_equal(entry.kind, IPR_HOSTS_EXTERNAL);
	assert_true(entry.has_context);
	ipr_addr_format(&entry.addr, IPR_REF_DECIMAL, text);
	assert_string_equal(text, "gw.example.net + 2466");

	assert_int_equal(parse("fdee:eeee::7 r6 #= external 2001:db8::1 + 1-0", &entry, NULL), 0);
	assert_int_equal(entry.kind, IPR_HOSTS_EXTERNAL);
	assert_int_equal(entry.family, AF_INET6);
	assert_int_equal(entry.addr.ref.lo, 0x10000);

	assert_int_equal(parse("fd00::5 web6 #= loc", &entry, NULL), 0);
	assert_int_equal(entry.kind, IPR_HOSTS_LOCAL);
	assert_int_equal(entry.family, AF_INET6);
	assert_int_equal(parse("10.0.0.5 x #= LOCAL # private", &entry, NULL), 0);
	assert_int_equal(entry.kind, IPR_HOSTS_LOCAL);
	assert_string_equal(ipr_hosts_kind_name(entry.kind), "local");
	assert_string_equal(ipr_hosts_kind_name(IPR_HOSTS_NONE), "");
}

struct bad_line {
	const char *line;
	size_t column;
};

static const struct bad_line bad_lines[] = {
	{ "10.0.0.5 x #=", 14 },
	{ "10.0.0.5 x #= # comment", 15 },
	{ "10.0.0.5 x #= pu + 1", 15 },
	{ "10.0.0.5 x #= publicity + 1", 15 },
	{ "10.0.0.5 x #= pub1 + 5", 18 },
	{ "10.0.0.5 x #= loc + 5", 19 },
	{ "10.0.0.5 x #= pub", 18 },
	{ "10.0.0.5 x #= pub   # c", 21 },
	{ "10.0.0.5 x #= ext + 5", 19 },
	{ "10.0.0.5 x #= ext gw.example", 29 },
	{ "10.0.0.5 x #= pub + 0", 19 },
	{ "10.0.0.5 x #= pub 192.0.2.1 + 0", 19 },
	{ "10.0.0.5 x #= pub + ab", 21 },
	{ "10.0.0.5 x #= pub + --5", 21 },
	{ "10.0.0.5 x #= ext 192.0.2.1 + --5", 31 },
	{ "10.0.0.5 x #= pub +", 20 },
	{ "10.0.0.5 x #= ext 192.0.2 + 5", 26 },
	{ "10.0.0.256 x #= loc", 8 },
	{ "10.0.0 x #= loc", 7 },
	{ "fe80::1%eth0 x #= loc", 8 },
	{ "10.0.0.5 bad_name #= loc", 13 },
	{ "10.0.0.5 ok -bad #= loc", 13 },
	{ "10.0.0.5 a b c d e f g h i j k l m n o p q #= loc", 42 },
};

static void test_bad_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		const struct bad_line *c = &bad_lines[i];
		struct ipr_hosts_line entry;
		struct ipr_err err = { 0 };
		int rc = parse(c->line, &entry, &err);

		if (rc != -EINVAL || err.column != c->column || !err.reason)
			fail_msg("'%s': rc %d column %zu (%s), want -EINVAL at column %zu", c->line,
				 rc, err.column, err.reason ? err.reason : "-", c->column);
	}
}

static void test_sixteen_names(void **state)
{
	const char *line = "10.0.0.5 a b c d e f g h i j k l m n o p #= loc";
	struct ipr_hosts_line entry;

	(void)state;
	assert_int_equal(parse(line, &entry, NULL), 0);
	assert_int_equal(entry.name_count, 16);
	expect_name(line, &entry, 15, "p");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_without_mapping), cmocka_unit_test(test_public),
		cmocka_unit_test(test_external_and_local),    cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_sixteen_names),
	};
	return cmocka_run_group_tests_name("hosts_line", tests, NULL, NULL);
}
