/* Unit tests of random allocation: exclusions, exhaustion, quarantine, unpredictability. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc.h"
#include "store.h"

struct fixture {
	char dir[64];
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[128], msg[512];

	strcpy(fx->dir, "/tmp/ipref-alloc-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(path, sizeof(path), "%s/gw.db", fx->dir);
	assert_int_equal(store_open(path, &fx->store, msg, sizeof(msg)), 0);
	assert_int_equal(store_begin(fx->store), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[160];

	store_rollback(fx->store);
	store_close(fx->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static struct ipr_prefix range4(const char *prefix, unsigned len)
{
	struct ipr_prefix r = { .family = AF_INET, .len = len };

	assert_int_equal(inet_pton(AF_INET, prefix, r.addr), 1);
	return r;
}

/* Allocates and records one encoded address, as the daemon does. */
static int take(struct fixture *fx, const struct ipr_prefix *r, int64_t now, uint8_t out[16],
		uint64_t ref)
{
	struct ipr_mapping m = { .kind = IPR_MAP_DYNAMIC_REMOTE,
				 .family = r->family,
				 .expires = now + 100 };
	int rc = alloc_encoded(fx->store, r, now, m.address);

	if (rc < 0)
		return rc;
	/* the allocator and every checker follow the one rule of core/prefix.c */
	assert_int_equal(ipr_prefix_place(r, r->family, m.address), IPR_PREFIX_USABLE);
	assert_int_equal(ipr_context_parse("192.0.2.1", 9, &m.context, NULL), 0);
	m.ref = ipr_ref_from_u64(ref);
	assert_int_equal(store_insert(fx->store, &m), 0);
	memcpy(out, m.address, 16);
	return 0;
}

static void test_small_range_exclusions_and_exhaustion(void **state)
{
	struct fixture *fx = *state;
	struct ipr_prefix r = range4("10.0.0.8", 29); /* .8 network, .9 gateway, .15 broadcast */
	unsigned seen = 0;
	uint8_t a[16];

	assert_int_equal(alloc_range_size(&r), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(take(fx, &r, 1000, a, (uint64_t)i + 1), 0);
		assert_int_equal(a[0], 10);
		assert_true(a[3] >= 10 && a[3] <= 14);
		seen |= 1u << (a[3] - 10);
	}
	assert_int_equal(seen, 0x1f);
	assert_int_equal(take(fx, &r, 1000, a, 99), -ENOSPC);
}

static void test_quarantine_is_respected(void **state)
{
	struct fixture *fx = *state;
	struct ipr_prefix r = range4("10.0.0.0", 30); /* only 10.0.0.2 is usable */
	struct ipr_mapping m;
	uint8_t a[16];

	assert_int_equal(take(fx, &r, 1000, a, 1), 0);
	assert_int_equal(store_find_encoded(fx->store, AF_INET, a, &m), 0);
	assert_int_equal(store_delete(fx->store, &m, 2000), 0);
	assert_int_equal(take(fx, &r, 1500, a, 2), -ENOSPC); /* resting until 2000 */
	assert_int_equal(take(fx, &r, 2000, a, 2), 0);
	assert_int_equal(a[3], 2);
}

/* Fills r's reserve with values on disk (flushed), outside any transaction, as the daemon does. */
static void reserve_flushed(struct fixture *fx, const struct ipr_prefix *r)
{
	store_rollback(fx->store);
	assert_int_equal(store_begin(fx->store), 0);
	assert_true(alloc_refill_encoded(fx->store, r, 1000, 64) > 0);
	assert_int_equal(store_commit(fx->store), 0);
	store_flush(fx->store);
	for (int i = 0; i < 10000 && !store_flushed(fx->store); i++)
		usleep(1000);
	assert_true(store_flushed(fx->store));
}

/*
 * The reserve: a rollback gives back what the transaction took, a commit takes out of the table
 * exactly what it handed out, oldest first, and nothing is handed out twice.
 */
static void test_reserve_batches(void **state)
{
	struct fixture *fx = *state;
	struct ipr_prefix r = range4("10.9.0.0", 24);
	uint64_t all, flushed, before;
	uint8_t first[3][16], a[16], seen[256] = { 0 };

	reserve_flushed(fx, &r);
	assert_int_equal(store_reserve_count(fx->store, "encoded:10.9.0.0/24", &before, &flushed),
			 0);
	assert_int_equal(flushed, before);
	assert_int_equal(store_begin(fx->store), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(take(fx, &r, 1000, first[i], (uint64_t)i + 1), 0);
	store_rollback(fx->store);
	assert_int_equal(store_begin(fx->store), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(take(fx, &r, 1000, a, (uint64_t)i + 1), 0);
		assert_memory_equal(a, first[i], 16); /* oldest first, as before the rollback */
		seen[a[3]] = 1;
	}
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(store_reserve_count(fx->store, "encoded:10.9.0.0/24", &all, &flushed), 0);
	assert_int_equal(all, before - 3);
	/* the rest of the batch, over several commits, then values picked once it is dry */
	for (uint64_t i = 3; i < 100; i++) {
		assert_int_equal(store_begin(fx->store), 0);
		assert_int_equal(take(fx, &r, 1000, a, i + 1), 0);
		assert_int_equal(seen[a[3]], 0);
		seen[a[3]] = 1;
		assert_int_equal(store_commit(fx->store), 0);
	}
	assert_int_equal(store_reserve_count(fx->store, "encoded:10.9.0.0/24", &all, &flushed), 0);
	assert_int_equal(all, 0);
	assert_int_equal(store_begin(fx->store), 0);
}

static void test_nearly_full_large_range_still_finds_the_gap(void **state)
{
	struct fixture *fx = *state;
	struct ipr_prefix r = range4("10.1.0.0", 24);
	uint8_t a[16];

	/* fill all but one of 253 usable addresses; random tries mostly miss, the scan finds it */
	for (int i = 0; i < 252; i++)
		assert_int_equal(take(fx, &r, 1000, a, (uint64_t)i + 1), 0);
	assert_int_equal(take(fx, &r, 1000, a, 999), 0);
	assert_int_equal(take(fx, &r, 1000, a, 1000), -ENOSPC);
}

static void test_unpredictable_order(void **state)
{
	struct fixture *fx = *state;
	struct ipr_prefix r = range4("10.240.0.0", 12);
	uint32_t prev = 0, increasing = 0, distinct_top = 0;
	uint8_t a[16], tops[256] = { 0 };

	for (int i = 0; i < 64; i++) {
		assert_int_equal(take(fx, &r, 1000, a, (uint64_t)i + 1), 0);
		uint32_t v = ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
		assert_true(a[0] == 10 && (a[1] & 0xf0) == 0xf0);
		if (v > prev)
			increasing++;
		prev = v;
		if (!tops[a[1] & 0x0f]++)
			distinct_top++;
	}
	/* a sequence would increase 64 times and stay in one corner of the range */
	assert_true(increasing < 60);
	assert_true(distinct_top >= 8);
}

static void test_ipv6_range_and_contains(void **state)
{
	struct fixture *fx = *state;
	struct ipr_prefix r = { .family = AF_INET6, .len = 64 };
	uint8_t a[16], outside[16];

	assert_int_equal(inet_pton(AF_INET6, "fdee:eeee::", r.addr), 1);
	assert_int_equal(take(fx, &r, 1000, a, 1), 0);
	assert_memory_equal(a, r.addr, 8);
	assert_true(ipr_prefix_contains(&r, AF_INET6, a));
	assert_int_equal(inet_pton(AF_INET6, "fdee:eeef::5", outside), 1);
	assert_false(ipr_prefix_contains(&r, AF_INET6, outside));
	assert_false(ipr_prefix_contains(&r, AF_INET, a));
	struct ipr_prefix r12 = range4("10.240.0.0", 12);
	uint8_t in12[4] = { 10, 255, 1, 1 }, out12[4] = { 10, 239, 1, 1 };
	assert_true(ipr_prefix_contains(&r12, AF_INET, in12));
	assert_false(ipr_prefix_contains(&r12, AF_INET, out12));
}

static void test_refs(void **state)
{
	struct fixture *fx = *state;
	struct ipr_ref min = ipr_ref_from_u64(1024), max = ipr_ref_from_u64(1030), ref;
	unsigned seen = 0;

	for (int i = 0; i < 7; i++) {
		struct ipr_mapping m = { .kind = IPR_MAP_DYNAMIC_LOCAL,
					 .family = AF_INET,
					 .address = { 172, 17, 0, (uint8_t)i },
					 .expires = 99 };
		assert_int_equal(alloc_ref(fx->store, &min, &max, 10, &ref), 0);
		assert_true(ref.hi == 0 && ref.lo >= 1024 && ref.lo <= 1030);
		seen |= 1u << (ref.lo - 1024);
		m.ref = ref;
		assert_int_equal(ipr_context_parse("198.51.100.1", 12, &m.context, NULL), 0);
		assert_int_equal(store_insert(fx->store, &m), 0);
	}
	assert_int_equal(seen, 0x7f);
	assert_int_equal(alloc_ref(fx->store, &min, &max, 10, &ref), -ENOSPC);
	assert_int_equal(alloc_ref(fx->store, &max, &min, 10, &ref), -EINVAL);

	/* the default range: 2^32 .. 2^56-1 fits the 8-byte wire form */
	min = ipr_ref_from_u64(1ULL << 32);
	max = ipr_ref_from_u64((1ULL << 56) - 1);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(alloc_ref(fx->store, &min, &max, 10, &ref), 0);
		assert_true(ref.hi == 0 && ref.lo >= (1ULL << 32) && ref.lo < (1ULL << 56));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_small_range_exclusions_and_exhaustion, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_quarantine_is_respected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nearly_full_large_range_still_finds_the_gap,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unpredictable_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_range_and_contains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_batches, setup, teardown),
	};
	return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
