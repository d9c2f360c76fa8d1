/* Unit tests of the rule for which addresses can be remote gateways and local hosts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "context.h"

static struct ipr_context context(const char *text)
{
	struct ipr_context c;

	assert_int_equal(ipr_context_parse(text, strlen(text), &c, NULL), 0);
	return c;
}

/* 10.240.0.0/12 and fdee:eeee::/64 encoded; 198.51.100.1, 2001:db8::1 and gw.example ours. */
static struct ipr_site site(void)
{
	struct ipr_site s = { .range_count = 2, .own_count = 3 };

	s.ranges[0] = (struct ipr_prefix){ .family = AF_INET, .addr = { 10, 240 }, .len = 12 };
	s.ranges[1] = (struct ipr_prefix){ .family = AF_INET6, .len = 64 };
	assert_int_equal(inet_pton(AF_INET6, "fdee:eeee::", s.ranges[1].addr), 1);
	s.own[0] = context("198.51.100.1");
	s.own[1] = context("2001:db8::1");
	s.own[2] = context("gw.example");
	return s;
}

struct context_case {
	const char *text;
	enum ipr_addr_use use;
};

static const struct context_case context_cases[] = {
	{ "192.0.2.1", IPR_ADDR_USABLE },
	{ "2001:db8::abc:11", IPR_ADDR_USABLE },
	{ "203.0.113.255", IPR_ADDR_USABLE },
	{ "b6.example.net", IPR_ADDR_USABLE },
	{ "10.239.255.255", IPR_ADDR_USABLE },
	{ "0.0.0.0", IPR_ADDR_UNSPECIFIED },
	{ "0.1.2.3", IPR_ADDR_UNSPECIFIED },
	{ "::", IPR_ADDR_UNSPECIFIED },
	{ "::ffff:0.0.0.0", IPR_ADDR_UNSPECIFIED },
	{ "127.0.0.1", IPR_ADDR_LOOPBACK },
	{ "127.255.0.9", IPR_ADDR_LOOPBACK },
	{ "::1", IPR_ADDR_LOOPBACK },
	{ "::ffff:127.0.0.1", IPR_ADDR_LOOPBACK },
	{ "169.254.1.1", IPR_ADDR_LINK_LOCAL },
	{ "fe80::1", IPR_ADDR_LINK_LOCAL },
	{ "febf::1", IPR_ADDR_LINK_LOCAL },
	{ "224.0.0.1", IPR_ADDR_MULTICAST },
	{ "239.255.255.250", IPR_ADDR_MULTICAST },
	{ "ff02::1", IPR_ADDR_MULTICAST },
	{ "255.255.255.255", IPR_ADDR_BROADCAST },
	{ "198.51.100.1", IPR_ADDR_OWN },
	{ "::ffff:198.51.100.1", IPR_ADDR_OWN },
	{ "2001:db8::1", IPR_ADDR_OWN },
	{ "GW.example.", IPR_ADDR_OWN },
	{ "10.240.0.0", IPR_ADDR_ENCODED },
	{ "10.240.3.4", IPR_ADDR_ENCODED },
	{ "10.255.255.255", IPR_ADDR_ENCODED },
	{ "::ffff:10.240.3.4", IPR_ADDR_ENCODED },
	{ "fdee:eeee::1377:5951", IPR_ADDR_ENCODED },
};

static void test_contexts(void **state)
{
	const struct ipr_site s = site();

	(void)state;
	for (size_t i = 0; i < sizeof(context_cases) / sizeof(context_cases[0]); i++) {
		struct ipr_context c = context(context_cases[i].text);
		enum ipr_addr_use use = ipr_context_check(&c, &s);

		if (use != context_cases[i].use)
			fail_msg("'%s': %d (%s), want %d", context_cases[i].text, use,
				 ipr_addr_use_text(use) ? ipr_addr_use_text(use) : "usable",
				 context_cases[i].use);
		assert_true((use == IPR_ADDR_USABLE) == (ipr_addr_use_text(use) == NULL));
	}
}

/* Without a site only the addresses no gateway can have are refused. */
static void test_contexts_without_site(void **state)
{
	struct ipr_context c = context("10.240.3.4");

	(void)state;
	assert_int_equal(ipr_context_check(&c, NULL), IPR_ADDR_USABLE);
	c = context("198.51.100.1");
	assert_int_equal(ipr_context_check(&c, NULL), IPR_ADDR_USABLE);
	c = context("127.0.0.1");
	assert_int_equal(ipr_context_check(&c, NULL), IPR_ADDR_LOOPBACK);
}

/* ::ffff:192.0.2.1 and 192.0.2.1 are one gateway: the check leaves the IPv4 form behind. */
static void test_mapped_context_becomes_ipv4(void **state)
{
	const struct ipr_site s = site();
	struct ipr_context mapped = context("::ffff:192.0.2.1");
	struct ipr_context v4 = context("192.0.2.1");
	struct ipr_context other = context("::fffe:c000:201");
	char text[IPR_ADDR_TEXT_MAX];

	(void)state;
	assert_int_equal(ipr_context_check(&mapped, &s), IPR_ADDR_USABLE);
	assert_int_equal(mapped.kind, IPR_CONTEXT_IPV4);
	assert_true(ipr_context_equal(&mapped, &v4));
	ipr_context_format(&mapped, text);
	assert_string_equal(text, "192.0.2.1");
	/* only the ::ffff:0:0/96 form is an IPv4 address */
	assert_false(ipr_context_unmap(&other));
	assert_int_equal(other.kind, IPR_CONTEXT_IPV6);
	assert_false(ipr_context_unmap(&v4));
}

static void test_hosts(void **state)
{
	const struct ipr_site s = site();
	static const struct {
		const char *text;
		enum ipr_addr_use use;
	} cases[] = {
		{ "172.17.1.75", IPR_ADDR_USABLE },
		{ "fd00::5", IPR_ADDR_USABLE },
		{ "198.51.100.1", IPR_ADDR_USABLE }, /* a server on the gateway itself */
		{ "0.0.0.0", IPR_ADDR_UNSPECIFIED },
		{ "::", IPR_ADDR_UNSPECIFIED },
		{ "127.0.0.1", IPR_ADDR_LOOPBACK },
		{ "::1", IPR_ADDR_LOOPBACK },
		{ "169.254.0.5", IPR_ADDR_LINK_LOCAL },
		{ "fe80::5", IPR_ADDR_LINK_LOCAL },
		{ "224.0.0.5", IPR_ADDR_MULTICAST },
		{ "ff05::5", IPR_ADDR_MULTICAST },
		{ "255.255.255.255", IPR_ADDR_BROADCAST },
		{ "::ffff:172.17.1.75", IPR_ADDR_MAPPED },
		{ "10.240.0.9", IPR_ADDR_ENCODED },
		{ "fdee:eeee::9", IPR_ADDR_ENCODED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t addr[16] = { 0 };
		int family = strchr(cases[i].text, ':') ? AF_INET6 : AF_INET;

		assert_int_equal(inet_pton(family, cases[i].text, addr), 1);
		if (ipr_host_check(family, addr, &s) != cases[i].use)
			fail_msg("'%s': %d, want %d", cases[i].text,
				 ipr_host_check(family, addr, &s), cases[i].use);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contexts),
		cmocka_unit_test(test_contexts_without_site),
		cmocka_unit_test(test_mapped_context_becomes_ipv4),
		cmocka_unit_test(test_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
