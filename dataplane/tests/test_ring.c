/* The workers' single-producer single-consumer ring: order, fullness, wrap-around, two threads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>

#include "ring.h"

struct rec {
	uint64_t seq;
	uint8_t pad[40]; /* not a word: records are copied whole */
};

static void test_order_and_fullness(void **state)
{
	struct dp_ring r;
	struct rec in = { 0 }, out;

	assert_int_equal(dp_ring_init(&r, 6, sizeof(in)), -EINVAL);
	assert_int_equal(dp_ring_init(&r, 8, sizeof(in)), 0);
	assert_false(dp_ring_pop(&r, &out));
	/* round after round, so that the indexes wrap around the slots */
	for (uint64_t round = 0; round < 5; round++) {
		assert_int_equal(dp_ring_space(&r), 8);
		for (uint64_t i = 0; i < 8; i++) {
			in.seq = round * 100 + i;
			in.pad[39] = (uint8_t)i;
			assert_true(dp_ring_push(&r, &in));
		}
		assert_int_equal(dp_ring_space(&r), 0);
		assert_false(dp_ring_push(&r, &in)); /* full: refused, nothing overwritten */
		for (uint64_t i = 0; i < 8; i++) {
			assert_true(dp_ring_pop(&r, &out));
			assert_int_equal(out.seq, round * 100 + i);
			assert_int_equal(out.pad[39], i);
		}
		assert_false(dp_ring_pop(&r, &out));
	}
	dp_ring_deinit(&r);
}

#define MANY 50000

static void *producer(void *arg)
{
	struct dp_ring *r = arg;
	struct rec in = { 0 };

	for (uint64_t i = 0; i < MANY;) {
		in.seq = i;
		if (dp_ring_push(r, &in))
			i++;
	}
	return NULL;
}

/* Another thread pushes while this one pops: every record arrives once, whole and in order. */
static void test_two_threads(void **state)
{
	struct dp_ring r;
	pthread_t t;
	struct rec out;
	uint64_t next = 0;

	assert_int_equal(dp_ring_init(&r, 64, sizeof(out)), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, &r), 0);
	while (next < MANY) {
		if (!dp_ring_pop(&r, &out))
			continue;
		assert_int_equal(out.seq, next);
		next++;
	}
	pthread_join(t, NULL);
	assert_false(dp_ring_pop(&r, &out));
	dp_ring_deinit(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_fullness),
		cmocka_unit_test(test_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
