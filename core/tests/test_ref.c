/* Unit tests of reference parsing and printing: every notation, its bounds and its errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ref.h"

struct good_case {
	const char *text;
	uint64_t hi, lo;
};

static const struct good_case good_cases[] = {
	/* decimal, with optional commas between digits */
	{ "0", 0, 0 },
	{ "1", 0, 1 },
	{ "12345", 0, 12345 },
	{ "0,85", 0, 85 },
	{ "12,345,136,118", 0, 12345136118ULL },
	{ "1,2,3", 0, 123 },
	{ "007", 0, 7 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "18446744073709551616", 1, 0 },
	{ "340282366920938463463374607431768211455", UINT64_MAX, UINT64_MAX },
	{ "340,282,366,920,938,463,463,374,607,431,768,211,455", UINT64_MAX, UINT64_MAX },
	/* hex in 16-bit groups, right-aligned */
	{ "6-789a", 0, 0x6789a },
	{ "0-705", 0, 0x705 },
	{ "1-22", 0, 0x10022 },
	{ "235a-2156-bcd1", 0, 0x235a2156bcd1ULL },
	{ "ABCD-ef01", 0, 0xabcdef01 },
	{ "0001-0002", 0, 0x10002 },
	{ "0-0", 0, 0 },
	{ "1-2-3-4-5-6-7-8", 0x0001000200030004ULL, 0x0005000600070008ULL },
	{ "ffff-ffff-ffff-ffff-ffff-ffff-ffff-ffff", UINT64_MAX, UINT64_MAX },
	{ "6-52b9-3409-5fad-fc78", 6, 0x52b934095fadfc78ULL },
	/* one "--" fills to eight groups, as "::" in IPv6 */
	{ "a0--12", 0x00a0000000000000ULL, 0x12 },
	{ "1--", 0x0001000000000000ULL, 0 },
	{ "22-33--", 0x0022003300000000ULL, 0 },
	{ "1-2-3-4-5-6--7", 0x0001000200030004ULL, 0x0005000600000007ULL },
	{ "1--2-3", 0x0001000000000000ULL, 0x0000000000020003ULL },
	/* free hex: a group longer than four digits makes every dash insignificant */
	{ "51-23457", 0, 0x5123457 },
	{ "00000-1", 0, 1 },
	{ "123e4567-e89b-12d3-a456-426614174000", 0x123e4567e89b12d3ULL, 0xa456426614174000ULL },
	{ "ffff-ffffffffffffffffffffffffffff", UINT64_MAX, UINT64_MAX },
	{ "0000000000-ffffffffffffffffffffffffffffffff", UINT64_MAX, UINT64_MAX },
	/* dotted decimal: one byte a field, most significant first */
	{ "0.85", 0, 85 },
	{ "28.48.236.172", 0, 0x1c30ecac },
	{ "10.236.228.4.18", 0, 0x0aece40412ULL },
	{ "255.255", 0, 0xffff },
	{ "000.001", 0, 1 },
	{ "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16", 0x0102030405060708ULL, 0x090a0b0c0d0e0f10ULL },
};

struct bad_case {
	const char *text;
	int code;
	size_t column;
};

static const struct bad_case bad_cases[] = {
	{ "", EINVAL, 0 },
	{ "ab", EINVAL, 1 },
	{ "12ab", EINVAL, 3 },
	{ "ffffffffffffffffffffffffffffffff", EINVAL, 1 },
	{ "1,2-3", EINVAL, 4 },
	{ "1.2,3", EINVAL, 4 },
	{ "1-2.3", EINVAL, 4 },
	{ "a.b", EINVAL, 1 },
	{ "1,a", EINVAL, 3 },
	{ "256.1", EINVAL, 1 },
	{ "1.256", EINVAL, 3 },
	{ "1.1000", EINVAL, 3 },
	{ ",1", EINVAL, 1 },
	{ "1,", EINVAL, 2 },
	{ "1,,2", EINVAL, 2 },
	{ ".1", EINVAL, 1 },
	{ "1.", EINVAL, 2 },
	{ "1..2", EINVAL, 2 },
	{ "-1", EINVAL, 1 },
	{ "1-", EINVAL, 2 },
	{ "-", EINVAL, 1 },
	{ "1---2", EINVAL, 2 },
	/* "--" never at the start: the deployed parser refuses it (spec/addresses.md) */
	{ "--1", EINVAL, 1 },
	{ "--0", EINVAL, 1 },
	{ "--", EINVAL, 1 },
	{ "--1-2", EINVAL, 1 },
	{ "---1", EINVAL, 1 },
	{ "1--2--3", EINVAL, 5 },
	{ "1-2-3-4--5-6-7-8", EINVAL, 8 },
	{ "12345--1", EINVAL, 6 },
	{ "0x12", EINVAL, 2 },
	{ "+5", EINVAL, 1 },
	{ "1 2", EINVAL, 2 },
	{ "5 ", EINVAL, 2 },
	{ "1\t", EINVAL, 2 },
	{ "1_000", EINVAL, 2 },
	{ "\x80", EINVAL, 1 },
	{ "1\n", EINVAL, 2 },
	/* more than 128 bits is an error, never a truncation */
	{ "340282366920938463463374607431768211456", ERANGE, 39 },
	{ "999999999999999999999999999999999999999999", ERANGE, 39 },
	{ "1-0-0-0-0-0-0-0-0", ERANGE, 17 },
	{ "1-00000000000000000000000000000000", ERANGE, 34 },
	{ "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17", ERANGE, 40 },
};

static void test_good_notations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		const struct good_case *c = &good_cases[i];
		struct ipr_ref ref = { 1, 1 };
		struct ipr_err err = { 0 };
		int rc = ipr_ref_parse(c->text, strlen(c->text), &ref, &err);

		if (rc != 0 || ref.hi != c->hi || ref.lo != c->lo)
			fail_msg("'%s': rc %d (%s), got %016llx%016llx", c->text, rc,
				 err.reason ? err.reason : "-", (unsigned long long)ref.hi,
				 (unsigned long long)ref.lo);
	}
}

static void test_bad_notations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct ipr_ref ref = { 7, 7 };
		struct ipr_err err = { 0 };
		int rc = ipr_ref_parse(c->text, strlen(c->text), &ref, &err);

		if (rc != -c->code || err.column != c->column || !err.reason)
			fail_msg("'%s': rc %d column %zu (%s), want rc %d column %zu", c->text, rc,
				 err.column, err.reason ? err.reason : "-", -c->code, c->column);
		/* a failed parse leaves the output alone */
		assert_int_equal(ref.hi, 7);
		assert_int_equal(ref.lo, 7);
	}
}

static void test_error_without_detail(void **state)
{
	struct ipr_ref ref;

	(void)state;
	assert_int_equal(ipr_ref_parse("ab", 2, &ref, NULL), -EINVAL);
	assert_int_equal(ipr_ref_parse("1,2", 1, &ref, NULL), 0); /* only len bytes are read */
	assert_int_equal(ref.lo, 1);
}

static void check_format(uint64_t hi, uint64_t lo, const char *decimal, const char *hex)
{
	struct ipr_ref ref = { hi, lo };
	char buf[IPR_REF_TEXT_MAX];

	assert_int_equal(ipr_ref_format(&ref, buf), strlen(decimal));
	assert_string_equal(buf, decimal);
	assert_int_equal(ipr_ref_format_hex(&ref, buf), strlen(hex));
	assert_string_equal(buf, hex);
}

static void test_format(void **state)
{
	(void)state;
	check_format(0, 0, "0", "0-0");
	check_format(0, 1, "1", "0-1");
	check_format(0, 0x705, "1797", "0-705");
	check_format(0, 0x10022, "65570", "1-22");
	check_format(0, 0xffff, "65535", "0-ffff");
	check_format(0, 0x10000, "65536", "1-0");
	check_format(6, 0x52b934095fadfc78ULL, "116641317238923459704", "6-52b9-3409-5fad-fc78");
	check_format(0x00a0000000000000ULL, 0x12, "830767497365572420564879412675215378",
		     "a0-0-0-0-0-0-0-12");
	check_format(UINT64_MAX, UINT64_MAX, "340282366920938463463374607431768211455",
		     "ffff-ffff-ffff-ffff-ffff-ffff-ffff-ffff");
}

/* Printing then parsing gives the same value back, in both styles, across the whole range. */
static void test_round_trip(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		/* xorshift: deterministic values spread over every magnitude */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned shift = (unsigned)(x % 128);
		struct ipr_ref ref = { x, x * 0x2545f4914f6cdd1dULL };
		if (shift >= 64) {
			ref.hi = 0;
			ref.lo >>= shift - 64;
		} else {
			ref.hi >>= shift;
		}
		char buf[IPR_REF_TEXT_MAX];
		struct ipr_ref back;

		ipr_ref_format(&ref, buf);
		assert_int_equal(ipr_ref_parse(buf, strlen(buf), &back, NULL), 0);
		assert_true(ipr_ref_equal(&ref, &back));
		ipr_ref_format_hex(&ref, buf);
		assert_int_equal(ipr_ref_parse(buf, strlen(buf), &back, NULL), 0);
		assert_true(ipr_ref_equal(&ref, &back));
	}
}

static void test_helpers(void **state)
{
	struct ipr_ref a = ipr_ref_from_u64(5), b = { 0, 5 }, zero = { 0, 0 };

	(void)state;
	assert_true(ipr_ref_equal(&a, &b));
	assert_true(ipr_ref_is_null(&zero));
	assert_false(ipr_ref_is_null(&a));
	b.hi = 1;
	assert_false(ipr_ref_equal(&a, &b));
}

static void test_publishable(void **state)
{
	struct ipr_ref min = ipr_ref_from_u64(1ULL << 32), max = ipr_ref_from_u64((1ULL << 56) - 1);
	static const struct {
		uint64_t hi, lo;
		enum ipr_ref_use use;
	} cases[] = {
		{ 0, 0, IPR_REF_NULL },
		{ 0, 1, IPR_REF_RESERVED },
		{ 0, 1023, IPR_REF_RESERVED },
		{ 0, 1024, IPR_REF_PUBLISHABLE },
		{ 0, (1ULL << 32) - 1, IPR_REF_PUBLISHABLE },
		{ 0, 1ULL << 32, IPR_REF_DYNAMIC },
		{ 0, (1ULL << 56) - 1, IPR_REF_DYNAMIC },
		{ 0, 1ULL << 56, IPR_REF_PUBLISHABLE },
		{ 1, 0, IPR_REF_PUBLISHABLE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipr_ref ref = { cases[i].hi, cases[i].lo };
		enum ipr_ref_use use = ipr_ref_use_of(&ref, &min, &max);
		assert_int_equal(use, cases[i].use);
		assert_true((ipr_ref_use_text(use) == NULL) == (use == IPR_REF_PUBLISHABLE));
	}
	assert_string_equal(ipr_ref_use_text(IPR_REF_DYNAMIC),
			    "the reference is in the dynamic range");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_notations),	     cmocka_unit_test(test_bad_notations),
		cmocka_unit_test(test_error_without_detail), cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),	     cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_publishable),
	};
	return cmocka_run_group_tests_name("ref", tests, NULL, NULL);
}
