/* Unit tests of AA record recognition and parsing, from joined text and from TXT RDATA. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "aa_record.h"

static int parse_text(const char *text, struct ipr_addr *addr, struct ipr_err *err)
{
	return ipr_aa_parse_text(text, strlen(text), addr, err);
}

static void expect_address(const struct ipr_addr *addr, const char *canonical)
{
	char text[IPR_ADDR_TEXT_MAX];

	ipr_addr_format(addr, IPR_REF_DECIMAL, text);
	assert_string_equal(text, canonical);
}

static void test_valid_text(void **state)
{
	struct ipr_addr addr;

	(void)state;
	assert_int_equal(parse_text("AA gw.example.com + 25b7-2345", &addr, NULL), 0);
	expect_address(&addr, "gw.example.com + 632759109");
	assert_int_equal(parse_text("AA\t192.0.2.1+5", &addr, NULL), 0);
	expect_address(&addr, "192.0.2.1 + 5");
	assert_int_equal(parse_text("AA   2001:db8::1 + 0-705 \t ", &addr, NULL), 0);
	expect_address(&addr, "2001:db8::1 + 1797");
}

static void test_not_aa(void **state)
{
	static const char *const texts[] = {
		"",
		"A",
		"v=spf1 -all",
		"aa 192.0.2.1 + 5",
		"AAA 192.0.2.1 + 5",
		"AA:192.0.2.1 + 5",
		" AA 192.0.2.1 + 5",
		"AA192.0.2.1 + 5",
	};
	struct ipr_addr addr;
	struct ipr_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		assert_int_equal(parse_text(texts[i], &addr, &err), -ENOENT);
}

static void test_malformed(void **state)
{
	struct ipr_addr addr;
	struct ipr_err err = { 0 };

	(void)state;
	assert_int_equal(parse_text("AA", &addr, &err), -EINVAL);
	assert_int_equal(parse_text("AA  \t", &addr, &err), -EINVAL);
	assert_int_equal(parse_text("AA 192.0.2.1 + 0", &addr, &err), -EINVAL);
	assert_string_equal(err.reason, "reference 0 is the null reference");
	assert_int_equal(parse_text("AA 192.0.2.1 + ab", &addr, &err), -EINVAL);
	assert_int_equal(err.column, 16);
	assert_int_equal(parse_text("AA 192.0.2.1 + --5", &addr, &err), -EINVAL);
	assert_int_equal(err.column, 16);
	assert_int_equal(parse_text("AA  192.0.2 + 1", &addr, &err), -EINVAL);
	assert_int_equal(err.column, 12);
	assert_int_equal(
		parse_text("AA 192.0.2.1 + 999999999999999999999999999999999999999", &addr, &err),
		-ERANGE);
	assert_int_equal(parse_text("AA 192.0.2.1 + 5 extra", &addr, &err), -EINVAL);
}

static void test_too_long(void **state)
{
	char text[IPR_AA_TEXT_MAX + 10];
	struct ipr_addr addr;
	struct ipr_err err;

	(void)state;
	memset(text, ' ', sizeof(text));
	memcpy(text, "AA 192.0.2.1 + 5", 16);
	assert_int_equal(ipr_aa_parse_text(text, IPR_AA_TEXT_MAX, &addr, &err), 0);
	assert_int_equal(ipr_aa_parse_text(text, IPR_AA_TEXT_MAX + 1, &addr, &err), -EINVAL);
	assert_string_equal(err.reason, "AA record text is too long");
}

static void test_rdata_joined(void **state)
{
	/* "AA gw.exa" "mple.com + 25b7-" "" "2345": split anywhere, even inside the reference */
	static const uint8_t rdata[] = "\x09"
				       "AA gw.exa"
				       "\x10"
				       "mple.com + 25b7-"
				       "\x00"
				       "\x04"
				       "2345";
	struct ipr_addr addr;

	(void)state;
	assert_int_equal(ipr_aa_parse_rdata(rdata, sizeof(rdata) - 1, &addr, NULL), 0);
	expect_address(&addr, "gw.example.com + 632759109");
}

static void test_rdata_bad(void **state)
{
	static const uint8_t truncated[] = "\x10"
					   "AA 192.0.2.1";
	static const uint8_t not_aa[] = "\x0b"
					"v=spf1 -all";
	static const uint8_t empty_string[] = "\x00";
	uint8_t huge[5 * 256];
	struct ipr_addr addr;
	struct ipr_err err;

	(void)state;
	assert_int_equal(ipr_aa_parse_rdata(truncated, sizeof(truncated) - 1, &addr, &err),
			 -EBADMSG);
	assert_int_equal(ipr_aa_parse_rdata(truncated, 0, &addr, &err), -EBADMSG);
	assert_int_equal(ipr_aa_parse_rdata(not_aa, sizeof(not_aa) - 1, &addr, &err), -ENOENT);
	assert_int_equal(ipr_aa_parse_rdata(empty_string, 1, &addr, &err), -ENOENT);

	/* five full strings: an AA prefix followed by far more text than any address */
	for (size_t s = 0; s < 5; s++) {
		huge[s * 256] = 255;
		memset(huge + s * 256 + 1, '1', 255);
	}
	memcpy(huge + 1, "AA 192.0.2.1 + ", 15);
	assert_int_equal(ipr_aa_parse_rdata(huge, sizeof(huge), &addr, &err), -EINVAL);
	huge[1] = 'x';
	assert_int_equal(ipr_aa_parse_rdata(huge, sizeof(huge), &addr, &err), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_text),   cmocka_unit_test(test_not_aa),
		cmocka_unit_test(test_malformed),    cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_rdata_joined), cmocka_unit_test(test_rdata_bad),
	};
	return cmocka_run_group_tests_name("aa_record", tests, NULL, NULL);
}
