/* Unit tests of address prefixes: membership at every boundary, and the places never handed out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "prefix.h"

static struct ipr_prefix prefix(const char *text, unsigned len)
{
	struct ipr_prefix p = { .family = strchr(text, ':') ? AF_INET6 : AF_INET, .len = len };

	assert_int_equal(inet_pton(p.family, text, p.addr), 1);
	return p;
}

static enum ipr_prefix_place place(const struct ipr_prefix *p, const char *text)
{
	uint8_t addr[16] = { 0 };
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, text, addr), 1);
	return ipr_prefix_place(p, family, addr);
}

static void test_ipv4(void **state)
{
	struct ipr_prefix p = prefix("10.240.0.0", 12);

	(void)state;
	assert_int_equal(place(&p, "10.240.0.0"), IPR_PREFIX_NETWORK);
	assert_int_equal(place(&p, "10.240.0.1"), IPR_PREFIX_GATEWAY);
	assert_int_equal(place(&p, "10.240.0.2"), IPR_PREFIX_USABLE);
	assert_int_equal(place(&p, "10.255.255.254"), IPR_PREFIX_USABLE);
	assert_int_equal(place(&p, "10.255.255.255"), IPR_PREFIX_BROADCAST);
	assert_int_equal(place(&p, "10.239.255.255"), IPR_PREFIX_OUTSIDE);
	assert_int_equal(place(&p, "10.0.0.2"), IPR_PREFIX_OUTSIDE);
	assert_int_equal(place(&p, "fdee::2"), IPR_PREFIX_OUTSIDE); /* another family */

	/* the smallest ranges: /30 has one usable address, /31 and /32 none */
	p = prefix("10.0.0.8", 30);
	assert_int_equal(place(&p, "10.0.0.8"), IPR_PREFIX_NETWORK);
	assert_int_equal(place(&p, "10.0.0.9"), IPR_PREFIX_GATEWAY);
	assert_int_equal(place(&p, "10.0.0.10"), IPR_PREFIX_USABLE);
	assert_int_equal(place(&p, "10.0.0.11"), IPR_PREFIX_BROADCAST);
	assert_int_equal(place(&p, "10.0.0.12"), IPR_PREFIX_OUTSIDE);
	p = prefix("10.0.0.8", 31);
	assert_int_equal(place(&p, "10.0.0.8"), IPR_PREFIX_NETWORK);
	assert_int_equal(place(&p, "10.0.0.9"), IPR_PREFIX_GATEWAY);
	p = prefix("10.0.0.8", 32);
	assert_int_equal(place(&p, "10.0.0.8"), IPR_PREFIX_NETWORK);
	assert_int_equal(place(&p, "10.0.0.9"), IPR_PREFIX_OUTSIDE);
	/* a length past the family's contains nothing */
	p = prefix("10.0.0.8", 33);
	assert_int_equal(place(&p, "10.0.0.8"), IPR_PREFIX_OUTSIDE);
	p = prefix("0.0.0.0", 0);
	assert_int_equal(place(&p, "198.51.100.7"), IPR_PREFIX_USABLE);
}

static void test_ipv6(void **state)
{
	struct ipr_prefix p = prefix("fdee:eeee::", 64);

	(void)state;
	assert_int_equal(place(&p, "fdee:eeee::"), IPR_PREFIX_NETWORK);
	assert_int_equal(place(&p, "fdee:eeee::1"), IPR_PREFIX_GATEWAY);
	assert_int_equal(place(&p, "fdee:eeee::2"), IPR_PREFIX_USABLE);
	/* no broadcast in IPv6: all ones is usable */
	assert_int_equal(place(&p, "fdee:eeee::ffff:ffff:ffff:ffff"), IPR_PREFIX_USABLE);
	assert_int_equal(place(&p, "fdee:eeef::2"), IPR_PREFIX_OUTSIDE);
	/* a length that is not a multiple of 8 */
	p = prefix("fdee:eee0::", 28);
	assert_int_equal(place(&p, "fdee:eeef:1::5"), IPR_PREFIX_USABLE);
	assert_int_equal(place(&p, "fdee:eef0::5"), IPR_PREFIX_OUTSIDE);
	assert_int_equal(place(&p, "10.0.0.2"), IPR_PREFIX_OUTSIDE);
	p = prefix("fdee::", 129);
	assert_false(ipr_prefix_contains(&p, AF_INET6, p.addr));
}

static void expect_gateway(const char *text, unsigned len, const char *want)
{
	struct ipr_prefix p = prefix(text, len);
	uint8_t got[16], expected[16] = { 0 };

	if (!want) {
		assert_int_equal(ipr_prefix_gateway(&p, got), -EINVAL);
		return;
	}
	assert_int_equal(inet_pton(p.family, want, expected), 1);
	assert_int_equal(ipr_prefix_gateway(&p, got), 0);
	assert_memory_equal(got, expected, 16);
	assert_int_equal(ipr_prefix_place(&p, p.family, got), IPR_PREFIX_GATEWAY);
}

static void test_gateway(void **state)
{
	(void)state;
	expect_gateway("10.240.0.0", 12, "10.240.0.1");
	expect_gateway("10.0.0.8", 30, "10.0.0.9");
	expect_gateway("10.0.0.8", 31, "10.0.0.9");
	expect_gateway("10.0.0.8", 32, NULL);
	expect_gateway("10.0.0.8", 33, NULL);
	expect_gateway("fdee:eeee::", 64, "fdee:eeee::1");
	expect_gateway("fdee:eee0::", 28, "fdee:eee0::1");
	expect_gateway("fdee::", 127, "fdee::1");
	expect_gateway("fdee::", 128, NULL);
	/* host bits set: not a prefix the configuration readers accept, and not given a gateway */
	expect_gateway("10.240.0.2", 12, NULL);
}

static void test_texts(void **state)
{
	(void)state;
	assert_string_equal(ipr_prefix_place_text(IPR_PREFIX_NETWORK), "network address");
	assert_string_equal(ipr_prefix_place_text(IPR_PREFIX_GATEWAY), "gateway's own address");
	assert_string_equal(ipr_prefix_place_text(IPR_PREFIX_BROADCAST), "broadcast address");
	assert_null(ipr_prefix_place_text(IPR_PREFIX_USABLE));
	assert_null(ipr_prefix_place_text(IPR_PREFIX_OUTSIDE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_gateway),
		cmocka_unit_test(test_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
