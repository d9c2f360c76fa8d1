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
/* on either engine: they read and write its tables on its own connection */
#include "store_engine.h"

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
	test_store_reset();
	assert_int_equal(test_store_open(path, &fx->store, msg, sizeof(msg)), 0);
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

/* The pool's reserved values, oldest first, as text ("encoded:10.9.0.7"); returns how many. */
static int reserved(struct fixture *fx, const char *pool, char values[][64], int max)
{
	int n = test_store_sql(fx->store, "SELECT value FROM reserve WHERE pool = ?1 ORDER BY id",
			       pool, values, max);

	assert_true(n >= 0);
	return n;
}

static void sql(struct fixture *fx, const char *text)
{
	assert_int_equal(test_store_sql(fx->store, text, NULL, NULL, 0), 0);
}

/*
 * What n takes from rows (a pool's reserve, oldest first) give, as store_reserve_take's check
 * decides: a row whose value is busy (in busy[0..nbusy), or taken by an earlier row) is dropped
 * and the next one tried. A refill draws values at random and checks only that they are
 * neither mapped nor resting, so the reserve may hold a value twice (schema/004-reserve.sql):
 * its second row is then dropped. Fills want[0..n) and returns how many rows the takes use.
 */
static int expected_takes(char rows[][64], int nrows, char busy[][64], int nbusy, int n,
			  char want[][64])
{
	int used = 0, taken = 0;

	while (taken < n) {
		bool dropped = false;

		assert_true(used < nrows);
		for (int i = 0; i < nbusy; i++)
			dropped |= strcmp(rows[used], busy[i]) == 0;
		for (int i = 0; i < taken; i++)
			dropped |= strcmp(rows[used], want[i]) == 0;
		if (!dropped)
			snprintf(want[taken++], 64, "%s", rows[used]);
		used++;
	}
	return used;
}

static void assert_encoded(const uint8_t a[16], const char *value)
{
	char text[64] = "encoded:";

	inet_ntop(AF_INET, a, text + strlen(text), sizeof(text) - strlen(text));
	assert_string_equal(text, value);
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
	char rows[64][64], want[3][64];
	int n, used;

	reserve_flushed(fx, &r);
	/* the second row repeats the first, as a refill's random draws may (a draw of 15 of 253
	 * values has a pair about once in three; within the first three rows once in 85) */
	if (!test_store_pg()) /* PostgreSQL's reserve keeps a value once, for all gateways */
		sql(fx, "UPDATE reserve SET value = (SELECT value FROM reserve ORDER BY id LIMIT 1)"
			" WHERE id = (SELECT id FROM reserve ORDER BY id LIMIT 1 OFFSET 1)");
	n = reserved(fx, "encoded:10.9.0.0/24", rows, 64);
	used = expected_takes(rows, n, NULL, 0, 3, want);
	assert_true(used >= (test_store_pg() ? 3 : 4));
	assert_int_equal(store_reserve_count(fx->store, "encoded:10.9.0.0/24", &before, &flushed),
			 0);
	assert_int_equal(flushed, before);
	assert_int_equal(before, n);
	assert_int_equal(store_begin(fx->store), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(take(fx, &r, 1000, first[i], (uint64_t)i + 1), 0);
	store_rollback(fx->store);
	assert_int_equal(store_begin(fx->store), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(take(fx, &r, 1000, a, (uint64_t)i + 1), 0);
		assert_memory_equal(a, first[i], 16); /* oldest first, as before the rollback */
		assert_encoded(a, want[i]);	      /* the repeated value once */
		seen[a[3]] = 1;
	}
	assert_int_equal(store_commit(fx->store), 0);
	/* the rows taken and the dropped ones left the table, and the kept count knows it */
	assert_int_equal(store_reserve_count(fx->store, "encoded:10.9.0.0/24", &all, &flushed), 0);
	assert_int_equal(all, before - (uint64_t)used);
	assert_int_equal(reserved(fx, "encoded:10.9.0.0/24", rows, 64), (int)all);
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

/*
 * A reserved value mapped or resting by the time it is taken (a static mapping written over
 * it, a value picked at random while reserved, then freed) is dropped and the next one
 * taken: the statement that takes a value checks it, for encoded addresses and references.
 */
static void test_reserve_skips_busy_values(void **state)
{
	struct fixture *fx = *state;
	struct ipr_prefix r = range4("10.9.0.0", 24);
	struct ipr_ref min = ipr_ref_from_u64(1024), max = ipr_ref_from_u64(1279), ref;
	char enc[16][64], refs[16][64], q[2048], text[32], want[1][64];
	uint64_t all, flushed;
	uint8_t a[16];
	int n_enc, n_refs, used_enc, used_refs;

	reserve_flushed(fx, &r);
	assert_int_equal(store_begin(fx->store), 0);
	assert_true(alloc_refill_ref(fx->store, &min, &max, 1000, 64) > 0);
	assert_int_equal(store_commit(fx->store), 0);
	store_flush(fx->store);
	for (int i = 0; i < 10000 && !store_flushed(fx->store); i++)
		usleep(1000);
	n_enc = reserved(fx, "encoded:10.9.0.0/24", enc, 16);
	n_refs = reserved(fx, "ref:1024-1279", refs, 16);
	assert_true(n_enc >= 3 && n_refs >= 3);
	assert_int_equal(store_reserve_count(fx->store, "encoded:10.9.0.0/24", &all, NULL), 0);

	assert_int_equal(store_begin(fx->store), 0);
	/* the oldest: mapped by hand (static); the next: resting */
	snprintf(q, sizeof(q),
		 "INSERT INTO remote_mapping (kind, encoded, family, context, ref, source, created)"
		 " VALUES (4, '%s', 4, '192.0.2.9', '7', 'cli', 0)",
		 enc[0] + strlen("encoded:"));
	sql(fx, q);
	snprintf(q, sizeof(q), "INSERT INTO quarantine VALUES ('%s', 5000)", enc[1]);
	sql(fx, q);
	/* the next one, enc[2] unless the refill reserved a busy value twice */
	used_enc = expected_takes(enc, n_enc, enc, 2, 1, want);
	assert_int_equal(take(fx, &r, 1000, a, 1), 0);
	assert_encoded(a, want[0]);
	/* the two busy ones left the reserve with the one taken, and the kept count knows it */
	uint64_t left;
	assert_int_equal(store_reserve_count(fx->store, "encoded:10.9.0.0/24", &left, NULL), 0);
	assert_int_equal(left, all - (uint64_t)used_enc);
	assert_int_equal(store_reserve_count(fx->store, "encoded:10.9.0.0/24", &left, &flushed), 0);
	assert_int_equal(left, all - (uint64_t)used_enc);

	/* the same for references: one published by hand, one resting */
	snprintf(q, sizeof(q),
		 "INSERT INTO local_mapping (kind, ref, family, address, context, source, created)"
		 " VALUES (1, '%s', 4, '172.17.0.9', '198.51.100.1', 'cli', 0)",
		 refs[0] + strlen("ref:"));
	sql(fx, q);
	snprintf(q, sizeof(q), "INSERT INTO quarantine VALUES ('%s', 5000)", refs[1]);
	sql(fx, q);
	used_refs = expected_takes(refs, n_refs, refs, 2, 1, want);
	assert_int_equal(alloc_ref(fx->store, &min, &max, 1000, &ref), 0);
	snprintf(text, sizeof(text), "ref:%llu", (unsigned long long)ref.lo);
	assert_string_equal(text, want[0]);
	assert_int_equal(store_commit(fx->store), 0);
	/* the commit took the values taken, and the busy ones, out of the table itself: what is
	 * left is the rows after them (a later row repeating one of them stays, to be dropped in
	 * its turn) */
	char after[16][64];
	int n = reserved(fx, "encoded:10.9.0.0/24", after, 16);
	assert_int_equal((uint64_t)n, all - used_enc < 16 ? all - used_enc : 16);
	for (int i = 0; i < n && used_enc + i < n_enc; i++)
		assert_string_equal(after[i], enc[used_enc + i]);
	n = reserved(fx, "ref:1024-1279", after, 16);
	for (int i = 0; i < n && used_refs + i < n_refs; i++)
		assert_string_equal(after[i], refs[used_refs + i]);
}

/* A refill reserves only values neither mapped nor resting. */
static void test_refill_skips_busy_values(void **state)
{
	struct fixture *fx = *state;
	struct ipr_prefix r = range4("10.7.0.0", 24);
	char values[64][64];
	int n;

	/* 10.7.0.2 - 10.7.0.251 mapped, .252 resting: .253 and .254 are all that is free */
	sql(fx, "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 251)"
		" INSERT INTO remote_mapping (kind, encoded, family, context, ref, source, created)"
		" SELECT 4, '10.7.0.' || i, 4, '192.0.2.9', i, 'cli', 0 FROM n");
	sql(fx, "INSERT INTO quarantine VALUES ('encoded:10.7.0.252', 5000)");
	for (int round = 0; round < 20; round++) {
		int added = alloc_refill_encoded(fx->store, &r, 1000, 64);
		assert_true(added >= 0);
	}
	n = reserved(fx, "encoded:10.7.0.0/24", values, 64);
	assert_true(n >= 1); /* 20 refills of 64 tries each: all missing is ~3e-5 */
	for (int i = 0; i < n; i++)
		assert_true(strcmp(values[i], "encoded:10.7.0.253") == 0 ||
			    strcmp(values[i], "encoded:10.7.0.254") == 0);
}

/* The store's own dotted quads are inet_ntop's, byte for byte. */
static void test_address_text(void **state)
{
	char mine[INET6_ADDRSTRLEN], libc[INET6_ADDRSTRLEN];
	uint8_t a[16] = { 0 };

	(void)state;
	for (unsigned i = 0; i < 200000; i++) {
		uint32_t v = i < 1024 ? i * 0x01010101u / 4 : (uint32_t)random();
		a[0] = (uint8_t)(v >> 24);
		a[1] = (uint8_t)(v >> 16);
		a[2] = (uint8_t)(v >> 8);
		a[3] = (uint8_t)v;
		store_address_text(AF_INET, a, mine);
		inet_ntop(AF_INET, a, libc, sizeof(libc));
		assert_string_equal(mine, libc);
	}
	assert_int_equal(inet_pton(AF_INET6, "fd00::1:0:0:5", a), 1);
	store_address_text(AF_INET6, a, mine);
	assert_string_equal(mine, "fd00::1:0:0:5");
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
		cmocka_unit_test_setup_teardown(test_reserve_skips_busy_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refill_skips_busy_values, setup, teardown),
		cmocka_unit_test(test_address_text),
	};
	return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
