/* Unit tests of the token bucket: first fill, refill at the rate, the burst cap, odd clocks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bucket.h"

static unsigned drain(struct ipr_bucket *b, uint32_t rate, uint32_t burst, int64_t now)
{
	unsigned n = 0;

	while (ipr_bucket_take(b, rate, burst, now))
		n++;
	return n;
}

static void test_fill_and_refill(void **state)
{
	struct ipr_bucket b = { 0 };

	(void)state;
	assert_int_equal(drain(&b, 2, 5, 1000), 5); /* a new bucket starts full */
	assert_int_equal(drain(&b, 2, 5, 1499), 0); /* 2 a second: not one token yet */
	assert_int_equal(drain(&b, 2, 5, 1500), 1);
	assert_int_equal(drain(&b, 2, 5, 3000), 3);
	assert_int_equal(drain(&b, 2, 5, 3000 + 3600 * 1000), 5); /* an hour later: the burst */
	/* a clock that went back adds nothing, and counting starts again from it */
	assert_int_equal(drain(&b, 2, 5, 2000), 0);
	assert_int_equal(drain(&b, 2, 5, 2500), 1);
}

static void test_extremes(void **state)
{
	struct ipr_bucket b = { 0 };

	(void)state;
	assert_int_equal(drain(&b, 0, 3, 10), 3); /* rate 0: the first fill, then nothing */
	assert_int_equal(drain(&b, 0, 3, INT64_MAX), 0);
	b = (struct ipr_bucket){ 0 };
	assert_int_equal(drain(&b, UINT32_MAX, 1, 1), 1);
	assert_int_equal(drain(&b, UINT32_MAX, 1, INT64_MAX), 1); /* no overflow */
	b = (struct ipr_bucket){ 0 };
	assert_int_equal(drain(&b, 1, 0, 1), 0); /* burst 0 never holds a token */
	assert_true(ipr_clock_ms() > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_and_refill),
		cmocka_unit_test(test_extremes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
