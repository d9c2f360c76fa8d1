/* The path-MTU table: learning, floors, expiry, sweeping, and a full table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "pmtu.h"

static void peer(uint8_t *addr, unsigned n)
{
	memset(addr, 0, 16);
	addr[0] = 198;
	addr[1] = 18;
	addr[2] = (uint8_t)(n >> 8);
	addr[3] = (uint8_t)n;
}

static void test_learn_and_forget(void **state)
{
	struct pmtu_table *t;
	uint8_t a[16], b[16];

	assert_int_equal(pmtu_new(&t), 0);
	peer(a, 1);
	peer(b, 2);
	assert_int_equal(pmtu_get(t, 4, a, 1500, 1000), 1500);
	assert_int_equal(pmtu_sweep(t, 1500, 1000), 1500);
	pmtu_learn(t, 4, a, 1300, 1000);
	assert_int_equal(pmtu_get(t, 4, a, 1500, 1001), 1300);
	assert_int_equal(pmtu_get(t, 4, b, 1500, 1001), 1500);
	/* the same bytes as an IPv6 peer are another peer */
	assert_int_equal(pmtu_get(t, 6, a, 1500, 1001), 1500);
	/* never above the configured MTU, never below the family's floor */
	assert_int_equal(pmtu_get(t, 4, a, 1200, 1001), 1200);
	pmtu_learn(t, 4, b, 100, 1000);
	assert_int_equal(pmtu_get(t, 4, b, 1500, 1001), PMTU_MIN4);
	pmtu_learn(t, 6, b, 1000, 1000);
	assert_int_equal(pmtu_get(t, 6, b, 1500, 1001), PMTU_MIN6);
	assert_int_equal(pmtu_sweep(t, 1500, 1002), PMTU_MIN4);
	assert_int_equal(pmtu_count(t), 3);
	/* a newer report replaces the older, up or down */
	pmtu_learn(t, 4, a, 1400, 2000);
	assert_int_equal(pmtu_get(t, 4, a, 1500, 2001), 1400);
	/* stale entries are forgotten, so that a path that grew is found again */
	assert_int_equal(pmtu_get(t, 4, a, 1500, 2000 + PMTU_KEEP_MS), 1500);
	assert_int_equal(pmtu_sweep(t, 1500, 2000 + PMTU_KEEP_MS), 1500);
	assert_int_equal(pmtu_count(t), 0);
	pmtu_free(t);
	pmtu_free(NULL);
}

/* Far more peers than entries: the table keeps the newest, never grows, never fails. */
static void test_full_table(void **state)
{
	struct pmtu_table *t;
	uint8_t a[16];
	unsigned kept = 0;

	assert_int_equal(pmtu_new(&t), 0);
	for (unsigned i = 0; i < 20000; i++) {
		peer(a, i);
		pmtu_learn(t, 4, a, 1000 + i % 400, 10 + i);
	}
	assert_true(pmtu_sweep(t, 1500, 20010) >= 1000);
	assert_true(pmtu_count(t) <= 1024);
	for (unsigned i = 20000 - 64; i < 20000; i++) {
		peer(a, i);
		kept += pmtu_get(t, 4, a, 1500, 20011) == 1000 + i % 400;
	}
	/* the latest reports displaced the stalest entries of their sets */
	assert_int_equal(kept, 64);
	pmtu_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_and_forget),
		cmocka_unit_test(test_full_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
