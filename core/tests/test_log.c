/* Unit tests of logging: which JOURNAL_STREAM values name stderr's file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "log.h"

static void test_stream_matches(void **state)
{
	(void)state;
	assert_true(ipr_log_stream_is("8:12345", 8, 12345));
	assert_true(ipr_log_stream_is("18446744073709551615:1", UINT64_MAX, 1));
	assert_false(ipr_log_stream_is("8:12345", 8, 12346));
	assert_false(ipr_log_stream_is("9:12345", 8, 12345));
}

static void test_stream_malformed(void **state)
{
	static const char *const bad[] = {
		"", ":", "8", "8:", ":12345", "8:12345x", "8:12345 ", "x8:12345", "8;12345",
	};

	(void)state;
	assert_false(ipr_log_stream_is(NULL, 8, 12345));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(ipr_log_stream_is(bad[i], 8, 12345));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_matches),
		cmocka_unit_test(test_stream_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
