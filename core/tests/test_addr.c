/* Unit tests of IPREF address and context parsing: the spec's examples and their edges. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

struct addr_case {
	const char *text;
	const char *canonical; /* NULL: must be rejected */
	size_t column;	       /* for rejected input */
};

static const struct addr_case cases[] = {
	/* every example of spec/addresses.md */
	{ "192.0.2.1 + 12345", "192.0.2.1 + 12345", 0 },
	{ "gw.example.com + 6-789a", "gw.example.com + 424090", 0 },
	{ "192.0.2.1 + 235a-2156-bcd1", "192.0.2.1 + 38870013361361", 0 },
	{ "198.51.100.1 + 0,85", "198.51.100.1 + 85", 0 },
	{ "192.0.2.1 + 0.85", "192.0.2.1 + 85", 0 },
	{ "192.0.2.1 + 28.48.236.172", "192.0.2.1 + 472968364", 0 },
	{ "2001:db8::abc:11 + 700", "2001:db8::abc:11 + 700", 0 },
	{ "198.51.100.11+700", "198.51.100.11 + 700", 0 },
	{ "192.0.2.1 + ab", NULL, 13 },
	{ "192.0.2.1 + 1,2-3", NULL, 16 },
	{ "192.0.2.1 + 256.1", NULL, 13 },
	{ "192.0.2 + 5", NULL, 8 },
	{ "192.0.2.1 ++5", NULL, 12 },
	{ "192.0.2.1 + --0", NULL, 13 },
	{ "192.0.2.1 +--5", NULL, 12 },
	/* whitespace: around '+' only, spaces or tabs, any amount */
	{ "192.0.2.1\t+\t5", "192.0.2.1 + 5", 0 },
	{ "192.0.2.1   +5", "192.0.2.1 + 5", 0 },
	{ "192.0.2.1+ \t 5", "192.0.2.1 + 5", 0 },
	{ " 192.0.2.1 + 5", NULL, 1 },
	{ "192.0.2.1 + 5 ", NULL, 14 },
	{ "192.0.2.1 + 5\n", NULL, 14 },
	{ "192. 0.2.1 + 5", NULL, 5 },
	/* missing parts */
	{ "", NULL, 0 },
	{ "+ 5", NULL, 1 },
	{ "  + 5", NULL, 1 },
	{ "192.0.2.1 +", NULL, 12 },
	{ "192.0.2.1 +  ", NULL, 14 },
	{ "192.0.2.1 5", NULL, 12 },
	{ "192.0.2.1 + 5 + 6", NULL, 14 },
	/* IPv4 contexts */
	{ "0.0.0.0 + 1", "0.0.0.0 + 1", 0 },
	{ "255.255.255.255 + 1", "255.255.255.255 + 1", 0 },
	{ "256.0.0.1 + 1", NULL, 1 },
	{ "01.2.3.4 + 1", NULL, 1 },
	{ "1.2.3.4.5 + 1", NULL, 8 },
	{ "1.2.3 + 1", NULL, 6 },
	{ "1.2..3 + 1", NULL, 5 },
	{ "1234.1.1.1 + 1", NULL, 1 },
	{ "1.2.3.4. + 1", NULL, 8 },
	/* IPv6 contexts: canonical RFC 5952 text */
	{ "2001:DB8:0:0:0:0:0:1 + 1", "2001:db8::1 + 1", 0 },
	{ ":: + 1", ":: + 1", 0 },
	{ "::ffff:192.0.2.1 + 1", "::ffff:192.0.2.1 + 1", 0 },
	{ "fdee:eeee::1377:5951 + 0-705", "fdee:eeee::1377:5951 + 1797", 0 },
	{ "[2001:db8::1] + 1", NULL, 1 },
	{ "fe80::1%eth0 + 1", NULL, 8 },
	{ "2001:db8:::1 + 1", NULL, 1 },
	{ "2001:db8::g + 1", NULL, 11 },
	{ "1:2:3:4:5:6:7:8:9 + 1", NULL, 1 },
	/* DNS-name contexts: lower case, no trailing dot */
	{ "GW.Example.COM. + 1", "gw.example.com + 1", 0 },
	{ "gw + 1", "gw + 1", 0 },
	{ "a-b.c0 + 1", "a-b.c0 + 1", 0 },
	{ "192.0.2.1x + 1", "192.0.2.1x + 1", 0 },
	{ "-gw.example + 1", NULL, 1 },
	{ "gw-.example + 1", NULL, 3 },
	{ "a..b + 1", NULL, 3 },
	{ ".example + 1", NULL, 1 },
	{ "example.. + 1", NULL, 9 },
	{ "gw_1.example + 1", NULL, 3 },
	{ "gw.exa*mple + 1", NULL, 7 },
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct addr_case *c = &cases[i];
		struct ipr_addr addr;
		struct ipr_err err = { 0 };
		char text[IPR_ADDR_TEXT_MAX];
		int rc = ipr_addr_parse(c->text, strlen(c->text), &addr, &err);

		if (c->canonical) {
			if (rc != 0)
				fail_msg("'%s' rejected: column %zu: %s", c->text, err.column,
					 err.reason);
			ipr_addr_format(&addr, IPR_REF_DECIMAL, text);
			if (strcmp(text, c->canonical) != 0)
				fail_msg("'%s' printed as '%s', want '%s'", c->text, text,
					 c->canonical);
		} else if (rc != -EINVAL || err.column != c->column || !err.reason) {
			fail_msg("'%s': rc %d column %zu (%s), want -EINVAL at column %zu", c->text,
				 rc, err.column, err.reason ? err.reason : "-", c->column);
		}
	}
}

static void test_context_kinds(void **state)
{
	struct ipr_addr addr;
	static const uint8_t v4[4] = { 192, 0, 2, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	(void)state;
	assert_int_equal(ipr_addr_parse("192.0.2.1 + 5", 13, &addr, NULL), 0);
	assert_int_equal(addr.context.kind, IPR_CONTEXT_IPV4);
	assert_memory_equal(addr.context.ipv4, v4, 4);
	assert_int_equal(ipr_addr_parse("2001:db8::1 + 5", 15, &addr, NULL), 0);
	assert_int_equal(addr.context.kind, IPR_CONTEXT_IPV6);
	assert_memory_equal(addr.context.ipv6, v6, 16);
	assert_int_equal(ipr_addr_parse("Gw.Example + 5", 14, &addr, NULL), 0);
	assert_int_equal(addr.context.kind, IPR_CONTEXT_NAME);
	assert_string_equal(addr.context.name, "gw.example");
}

static void test_hex_output(void **state)
{
	struct ipr_addr addr;
	char text[IPR_ADDR_TEXT_MAX];

	(void)state;
	assert_int_equal(ipr_addr_parse("198.18.0.2 + 1797", 17, &addr, NULL), 0);
	ipr_addr_format(&addr, IPR_REF_HEX, text);
	assert_string_equal(text, "198.18.0.2 + 0-705");
}

/* Labels of 63 and names of 253 characters are the limits. */
static void test_name_limits(void **state)
{
	char name[300], text[400];
	struct ipr_addr addr;
	struct ipr_err err;

	(void)state;
	memset(name, 'a', 63);
	strcpy(name + 63, ".example");
	snprintf(text, sizeof(text), "%s + 1", name);
	assert_int_equal(ipr_addr_parse(text, strlen(text), &addr, NULL), 0);
	memset(name, 'a', 64);
	strcpy(name + 64, ".example");
	snprintf(text, sizeof(text), "%s + 1", name);
	assert_int_equal(ipr_addr_parse(text, strlen(text), &addr, &err), -EINVAL);
	assert_int_equal(err.column, 1);

	/* 4 labels of 62 plus dots = 251, then ".b" makes 253 */
	size_t n = 0;
	for (int l = 0; l < 4; l++) {
		memset(name + n, 'a' + l, 62);
		n += 62;
		name[n++] = '.';
	}
	name[n++] = 'b';
	name[n] = '\0';
	assert_int_equal(strlen(name), 253);
	snprintf(text, sizeof(text), "%s. + 1", name);
	assert_int_equal(ipr_addr_parse(text, strlen(text), &addr, NULL), 0);
	assert_int_equal(strlen(addr.context.name), 253);
	char printed[IPR_ADDR_TEXT_MAX];
	assert_int_equal(ipr_addr_format(&addr, IPR_REF_DECIMAL, printed), 253 + 4);

	name[n++] = 'c';
	name[n] = '\0';
	snprintf(text, sizeof(text), "%s + 1", name);
	assert_int_equal(ipr_addr_parse(text, strlen(text), &addr, &err), -EINVAL);
	assert_int_equal(err.column, 254);
}

static void test_context_equal(void **state)
{
	struct ipr_context a, b;

	(void)state;
	assert_int_equal(ipr_context_parse("GW.example.", 11, &a, NULL), 0);
	assert_int_equal(ipr_context_parse("gw.EXAMPLE", 10, &b, NULL), 0);
	assert_true(ipr_context_equal(&a, &b));
	assert_int_equal(ipr_context_parse("192.0.2.1", 9, &b, NULL), 0);
	assert_false(ipr_context_equal(&a, &b));
	assert_int_equal(ipr_context_parse("192.0.2.1", 9, &a, NULL), 0);
	assert_true(ipr_context_equal(&a, &b));
	assert_int_equal(ipr_context_parse("::c000:201", 10, &a, NULL), 0);
	assert_false(ipr_context_equal(&a, &b));
}

/* The order agrees with equality, is antisymmetric, and sorts kinds, then bytes or names. */
static void test_context_compare(void **state)
{
	static const char *const sorted[] = { "a.example", "b.example", "192.0.2.1",
					      "192.0.2.2", "::1",	"2001:db8::1" };
	struct ipr_context c[6], same;

	(void)state;
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(ipr_context_parse(sorted[i], strlen(sorted[i]), &c[i], NULL), 0);
	for (size_t i = 0; i < 6; i++)
		for (size_t k = 0; k < 6; k++) {
			int order = ipr_context_compare(&c[i], &c[k]);

			assert_true(i < k ? order < 0 : i > k ? order > 0 : order == 0);
			assert_int_equal(order == 0, ipr_context_equal(&c[i], &c[k]));
		}
	assert_int_equal(ipr_context_parse("A.Example.", 10, &same, NULL), 0);
	assert_int_equal(ipr_context_compare(&same, &c[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),		cmocka_unit_test(test_context_kinds),
		cmocka_unit_test(test_context_compare), cmocka_unit_test(test_hex_output),
		cmocka_unit_test(test_name_limits),	cmocka_unit_test(test_context_equal),
	};
	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
