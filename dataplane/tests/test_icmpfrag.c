/* Unit tests of the ICMP first-fragment cache: holding, lengths, eviction, expiry, fragment kinds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "icmpfrag.h"
#include "vectors_util.h"
#include "xlate.h"

static const uint8_t A[16] = { 0xfd, 0, 0, 0xa, [15] = 5 }, B[16] = { 0xfd, 0xee, [15] = 0x21 };

static struct icmpfrag cache;

static int setup(void **state)
{
	(void)state;
	return icmpfrag_init(&cache, 1600);
}

static int teardown(void **state)
{
	(void)state;
	icmpfrag_deinit(&cache);
	return 0;
}

static void key(struct icmpfrag_key *k, enum icmpfrag_side side, uint32_t id)
{
	icmpfrag_key_make(k, side, A, B, NULL, id);
}

/* The first fragment waits; the last tells the length and hands it back; then it is through. */
static void test_first_then_last(void **state)
{
	uint8_t pkt[100];
	struct icmpfrag_key k, other;
	struct icmpfrag_entry *e;

	(void)state;
	memset(pkt, 0x5a, sizeof(pkt));
	key(&k, ICMPFRAG_TO_WIRE, 7);
	key(&other, ICMPFRAG_TO_LOCAL, 7); /* the other side's datagram with the same numbers */
	assert_int_equal(icmpfrag_hold(&cache, &k, pkt, sizeof(pkt), NULL, 1000), 0);
	assert_null(icmpfrag_find(&cache, &other, 1000));
	e = icmpfrag_total(&cache, &k, 4008, 1001);
	assert_int_equal(e->total, 4008);
	assert_int_equal(e->len, sizeof(pkt));
	assert_memory_equal(e->pkt, pkt, sizeof(pkt));
	icmpfrag_done(&cache, e);
	assert_null(icmpfrag_find(&cache, &k, 1002));
	assert_int_equal(cache.stats.held, 1);
	assert_int_equal(cache.stats.released, 1);
}

/* Reordered: the last fragment first, and the first finds the length waiting for it. */
static void test_last_then_first(void **state)
{
	struct icmpfrag_key k;
	struct icmpfrag_entry *e;

	(void)state;
	key(&k, ICMPFRAG_TO_LOCAL, 8);
	e = icmpfrag_total(&cache, &k, 2000, 5000);
	assert_int_equal(e->len, 0);
	e = icmpfrag_find(&cache, &k, 5001);
	assert_non_null(e);
	assert_int_equal(e->total, 2000);
	icmpfrag_done(&cache, e);
	assert_int_equal(cache.stats.released, 0); /* nothing waited */
}

/* A full cache gives its oldest entry away; entries run out after ICMPFRAG_KEEP_MS. */
static void test_bounds(void **state)
{
	uint8_t pkt[1601] = { 1 };
	struct icmpfrag_key k;

	(void)state;
	for (uint32_t id = 0; id < ICMPFRAG_ENTRIES; id++) {
		key(&k, ICMPFRAG_TO_WIRE, id);
		assert_int_equal(icmpfrag_hold(&cache, &k, pkt, 64, NULL, 100 + id), 0);
	}
	assert_int_equal(cache.stats.evicted, 0);
	key(&k, ICMPFRAG_TO_WIRE, 999);
	assert_int_equal(icmpfrag_hold(&cache, &k, pkt, 64, NULL, 200), 0);
	assert_int_equal(cache.stats.evicted, 1);
	key(&k, ICMPFRAG_TO_WIRE, 0); /* the oldest */
	assert_null(icmpfrag_find(&cache, &k, 200));
	key(&k, ICMPFRAG_TO_WIRE, 1);
	assert_non_null(icmpfrag_find(&cache, &k, 200));
	/* too large for an entry: refused, nothing changes */
	assert_int_equal(icmpfrag_hold(&cache, &k, pkt, sizeof(pkt), NULL, 200), -EMSGSIZE);
	assert_int_equal(icmpfrag_hold(&cache, &k, pkt, 0, NULL, 200), -EMSGSIZE);
	/* time runs out for all of them */
	assert_null(icmpfrag_find(&cache, &k, 101 + ICMPFRAG_KEEP_MS));
	icmpfrag_sweep(&cache, 300 + ICMPFRAG_KEEP_MS);
	assert_int_equal(cache.stats.expired, ICMPFRAG_ENTRIES);
	for (size_t i = 0; i < ICMPFRAG_ENTRIES; i++)
		assert_int_equal(cache.e[i].expires_ms, 0);
}

/* Which fragments need the length, and which tell it. */
static void test_fragment_kinds(void **state)
{
	/* ICMPv6 echo, first fragment (MF) and last fragment (offset 16, 8 bytes) */
	static const char *first6 =
		"6000000000182c40fd000000000000000000000000000001fd000000000000000000000000000002"
		"3a0000010000000180000000000000000000000000000000";
	static const char *last6 =
		"6000000000102c40fd000000000000000000000000000001fd000000000000000000000000000002"
		"3a00001000000001aaaaaaaaaaaaaaaa";
	uint8_t pkt[VEC_BUF];
	struct xlate_local p;
	struct xlate_remote r;
	uint32_t total = 99;

	(void)state;
	assert_int_equal(xlate_local_parse(pkt, vec_unhex(first6, pkt, sizeof(pkt)), &p), 0);
	assert_true(xlate_local_icmp_frag(&p, &total));
	assert_int_equal(total, 0);
	assert_int_equal(xlate_local_parse(pkt, vec_unhex(last6, pkt, sizeof(pkt)), &p), 0);
	assert_true(xlate_local_icmp_frag(&p, &total));
	assert_int_equal(total, 24);
	memset(&p, 0, sizeof(p));
	p.ver = 4;
	p.proto = 1;
	p.is_frag = true;
	p.more_frags = true;
	assert_false(xlate_local_icmp_frag(&p, &total)); /* IPv4 ICMP: the wire's form already */
	/* inbound: only for an IPv6 host */
	memset(&r, 0, sizeof(r));
	r.hdr.proto = DP_WIRE_PROTO_ICMP;
	r.hdr.has_frag = true;
	r.hdr.frag_off = 1400;
	r.l4_len = 600;
	assert_false(xlate_remote_icmp_frag(&r, 4, &total));
	assert_true(xlate_remote_icmp_frag(&r, 6, &total));
	assert_int_equal(total, 2000);
	r.hdr.proto = DP_WIRE_PROTO_UDP;
	assert_false(xlate_remote_icmp_frag(&r, 6, &total));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_then_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_then_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test(test_fragment_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
