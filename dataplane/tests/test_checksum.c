/* Unit tests of checksums: incremental tunnel updates against independent full computations. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "checksum.h"
#include "wire.h"

#define MAX_L4 600

/* RFC 1071 written out plainly: the test's own sum, sharing no code with checksum.c. */
static uint16_t rfc1071(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Lays out the pseudo-header byte by byte, then the datagram: IPv4 (RFC 768, RFC 793), IPv6
 * (RFC 8200 8.1), or family 0 for the tunnel's form without addresses. Returns the length.
 */
static size_t host_layout(uint8_t *buf, int family, uint8_t proto, const uint8_t *src,
			  const uint8_t *dst, const uint8_t *l4, size_t len)
{
	size_t n;

	assert_true(len <= MAX_L4);
	if (family == 4) {
		memcpy(buf, src, 4);
		memcpy(buf + 4, dst, 4);
		buf[8] = 0;
		buf[9] = proto;
		buf[10] = (uint8_t)(len >> 8);
		buf[11] = (uint8_t)len;
		n = 12;
	} else if (family == 6) {
		memcpy(buf, src, 16);
		memcpy(buf + 16, dst, 16);
		buf[32] = 0;
		buf[33] = 0;
		buf[34] = (uint8_t)(len >> 8);
		buf[35] = (uint8_t)len;
		buf[36] = buf[37] = buf[38] = 0;
		buf[39] = proto;
		n = 40;
	} else {
		buf[0] = 0;
		buf[1] = proto;
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
		n = 4;
	}
	memcpy(buf + n, l4, len);
	return n + len;
}

/* The field a host stack writes: computed with the field zeroed, UDP's 0 sent as 0xffff. */
static uint16_t host_csum(int family, uint8_t proto, const uint8_t *src, const uint8_t *dst,
			  const uint8_t *l4, size_t len)
{
	uint8_t buf[40 + MAX_L4];
	size_t field = proto == DP_WIRE_PROTO_TCP ? 16 : 6;
	size_t n = host_layout(buf, family, proto, src, dst, l4, len);
	uint16_t check;

	buf[n - len + field] = buf[n - len + field + 1] = 0;
	check = rfc1071(buf, n);
	if (proto == DP_WIRE_PROTO_UDP && check == 0)
		check = 0xffff;
	return check;
}

/* What a receiving host checks: everything, field included, sums to -0. */
static bool host_accepts(int family, uint8_t proto, const uint8_t *src, const uint8_t *dst,
			 const uint8_t *l4, size_t len)
{
	uint8_t buf[40 + MAX_L4];

	return rfc1071(buf, host_layout(buf, family, proto, src, dst, l4, len)) == 0;
}

static const uint8_t v4_a[4] = { 10, 0, 0, 1 }, v4_b[4] = { 198, 18, 7, 7 };
static const uint8_t v4_c[4] = { 0xff, 0xff, 0xff, 0xff }, v4_d[4] = { 0, 0, 0, 0 };
static const uint8_t v6_a[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 0xcd };
static const uint8_t v6_b[16] = { 0xfd, 0x00, [7] = 0x42, [15] = 0x01 };
static const uint8_t v6_c[16] = { 0xfe, 0x80, [8] = 0xff, [9] = 0xff, [15] = 0x2 };

struct endpoints {
	int family;
	const uint8_t *src, *dst;
};

static const struct endpoints ends[] = {
	{ 4, v4_a, v4_b }, { 4, v4_c, v4_d }, { 4, v4_b, v4_c },
	{ 6, v6_a, v6_b }, { 6, v6_c, v6_a }, { 6, v6_b, v6_c },
};

#define N_ENDS (sizeof(ends) / sizeof(ends[0]))

static size_t addr_len(int family)
{
	return family == 6 ? 16 : 4;
}

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill_random(uint8_t *p, size_t n, uint64_t *seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)next_random(seed);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Sets the word at `at` so that the datagram's sum under e's pseudo-header (family 0: none) is
 * 0xffff, the sum whose checksum is zero: the 0/0xffff corner a random packet rarely reaches.
 */
static void force_zero_sum(uint8_t proto, const struct endpoints *e, uint8_t *l4, size_t len,
			   size_t at)
{
	uint16_t sum;

	put16(l4 + at, 0);
	sum = (uint16_t)~host_csum(e ? e->family : 0, proto, e ? e->src : NULL, e ? e->dst : NULL,
				   l4, len);
	if (proto == DP_WIRE_PROTO_UDP && sum == 0)
		sum = 0xffff; /* host_csum wrote 0 as 0xffff */
	put16(l4 + at, (uint16_t)(0xffff - sum));
	sum = (uint16_t)~host_csum(e ? e->family : 0, proto, e ? e->src : NULL, e ? e->dst : NULL,
				   l4, len);
	assert_true(sum == 0xffff || sum == 0);
}

/*
 * One datagram through the tunnel, in -> wire -> out, checking each stage against a full
 * computation: the incremental result must be exactly what a host would have computed.
 */
static void check_crossing(uint8_t proto, const struct endpoints *in, const struct endpoints *out,
			   uint8_t *l4, size_t len)
{
	size_t field = proto == DP_WIRE_PROTO_TCP ? 16 : 6;
	uint16_t inner = host_csum(in->family, proto, in->src, in->dst, l4, len);
	uint16_t wire = dp_csum_strip_addrs(proto, inner, in->src, in->dst, addr_len(in->family));
	uint16_t outer = dp_csum_fill_addrs(proto, wire, out->src, out->dst, addr_len(out->family));

	assert_int_equal(dp_csum_l4(proto, in->src, in->dst, addr_len(in->family), l4, len), inner);
	assert_int_equal(wire, host_csum(0, proto, NULL, NULL, l4, len));
	assert_int_equal(wire, dp_csum_l4(proto, NULL, NULL, 0, l4, len));
	assert_int_equal(outer, host_csum(out->family, proto, out->src, out->dst, l4, len));
	/* and the host at the far end accepts it */
	put16(l4 + field, outer);
	assert_true(host_accepts(out->family, proto, out->src, out->dst, l4, len));
}

static void test_add(void **state)
{
	/* RFC 1071 section 3's example */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const uint8_t odd[] = { 0x12, 0x34, 0x56 };

	(void)state;
	assert_int_equal(dp_csum_add(0, rfc, sizeof(rfc)), 0xddf2);
	assert_int_equal(dp_csum_add(dp_csum_add(0, rfc, 4), rfc + 4, 4), 0xddf2);
	assert_int_equal(dp_csum_add(0, odd, sizeof(odd)), 0x1234 + 0x5600);
	assert_int_equal(dp_csum_add(0xffff, rfc, 0), 0xffff);
	assert_int_equal(dp_csum_add(0, NULL, 0), 0);
	/* end-around carry */
	assert_int_equal(dp_csum_add(0xffff, (const uint8_t[]){ 0x00, 0x01 }, 2), 0x0001);
}

/* The word-at-a-time sum against the plain one: every length and start, worst-case bytes too. */
/*
 * Copying while summing gives the plain sum and an exact copy: every length 0..2000, sources
 * and destinations at every offset within an 8-byte word, a non-zero starting sum, random data,
 * and nothing written outside the destination.
 */
static void test_copy_matches_add(void **state)
{
	enum { MAX = 2000, GUARD = 16 };
	static uint8_t src[MAX + 16], dst[MAX + 16 + 2 * GUARD];
	uint32_t rng = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++) {
		rng = rng * 1103515245 + 12345;
		src[i] = (uint8_t)(rng >> 16);
	}
	for (size_t len = 0; len <= MAX; len++) {
		for (size_t so = 0; so < 8; so++) {
			size_t d_o = (len + so) % 8;
			uint16_t start = (uint16_t)(len * 7919 + so);
			uint8_t *out = dst + GUARD + d_o;

			memset(dst, 0xa5, sizeof(dst));
			uint16_t got = dp_csum_copy(start, out, src + so, len);
			assert_int_equal(got, dp_csum_add(start, src + so, len));
			/* the test's own sum, independent of checksum.c */
			uint32_t want = (uint16_t)~rfc1071(src + so, len) + (uint32_t)start;
			want = (want & 0xffff) + (want >> 16);
			want = (want & 0xffff) + (want >> 16);
			assert_int_equal(got == 0xffff ? 0 : got, want == 0xffff ? 0 : want);
			assert_memory_equal(out, src + so, len);
			for (size_t i = 0; i < GUARD + d_o; i++)
				assert_int_equal(dst[i], 0xa5);
			for (size_t i = GUARD + d_o + len; i < sizeof(dst); i++)
				assert_int_equal(dst[i], 0xa5);
		}
	}
}

static void test_add_matches_rfc1071(void **state)
{
	static uint8_t buf[1600];
	uint32_t x = 1;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = i < 200 ? 0xff : (uint8_t)(x >> 16);
	}
	for (size_t start = 0; start < 4; start++)
		for (size_t n = 0; n + start <= sizeof(buf); n += n < 64 ? 1 : 97)
			assert_int_equal((uint16_t)~dp_csum_add(0, buf + start, n),
					 rfc1071(buf + start, n));
}

/* IPREF-ICMP: the captured echo messages verify with no pseudo-header at all. */
static void test_captured_icmp(void **state)
{
	static const uint8_t request[] = {
		0x08, 0x00, 0xff, 0x13, 0x11, 0xa4, 0x00, 0x01, 0x1c, 0xac, 0x07, 0x6b,
		0x00, 0x00, 0x00, 0x00, 0xc0, 0x2f, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	static const uint8_t reply[] = {
		0x00, 0x00, 0x07, 0x14, 0x11, 0xa4, 0x00, 0x01, 0x1c, 0xac, 0x07, 0x6b,
		0x00, 0x00, 0x00, 0x00, 0xc0, 0x2f, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
	};

	(void)state;
	assert_int_equal(dp_csum_add(0, request, sizeof(request)), 0xffff);
	assert_int_equal(dp_csum_add(0, reply, sizeof(reply)), 0xffff);
	assert_int_equal(rfc1071(request, sizeof(request)), 0);
}

static void test_full_matches_host(void **state)
{
	static const uint8_t protos[] = { DP_WIRE_PROTO_TCP, DP_WIRE_PROTO_UDP };
	uint64_t seed = 0x243f6a8885a308d3ULL;
	uint8_t l4[MAX_L4];

	(void)state;
	for (size_t len = 20; len < 300; len++) {
		fill_random(l4, len, &seed);
		for (size_t p = 0; p < 2; p++) {
			for (size_t e = 0; e < N_ENDS; e++) {
				const struct endpoints *x = &ends[e];

				assert_int_equal(
					dp_csum_l4(protos[p], x->src, x->dst, addr_len(x->family),
						   l4, len),
					host_csum(x->family, protos[p], x->src, x->dst, l4, len));
			}
			assert_int_equal(dp_csum_l4(protos[p], NULL, NULL, 0, l4, len),
					 host_csum(0, protos[p], NULL, NULL, l4, len));
		}
	}
}

/* Every pairing of IPv4 and IPv6 on each side, TCP and UDP, odd and even lengths. */
static void test_crossings(void **state)
{
	static const uint8_t protos[] = { DP_WIRE_PROTO_TCP, DP_WIRE_PROTO_UDP };
	static const size_t lengths[] = { 20, 21, 40, 63, 64, 577 };
	uint64_t seed = 0x13198a2e03707344ULL;
	uint8_t l4[MAX_L4];

	(void)state;
	for (int round = 0; round < 50; round++) {
		for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++) {
			for (size_t p = 0; p < 2; p++) {
				for (size_t i = 0; i < N_ENDS; i++) {
					for (size_t o = 0; o < N_ENDS; o++) {
						fill_random(l4, lengths[l], &seed);
						check_crossing(protos[p], &ends[i], &ends[o], l4,
							       lengths[l]);
					}
				}
			}
		}
	}
}

/* The 0/0xffff corners: a zero sum at the inner host, on the wire, or at the far host. */
static void test_zero_corners(void **state)
{
	static const uint8_t protos[] = { DP_WIRE_PROTO_TCP, DP_WIRE_PROTO_UDP };
	uint64_t seed = 0xa4093822299f31d0ULL;
	uint8_t l4[64];

	(void)state;
	for (size_t p = 0; p < 2; p++) {
		for (size_t i = 0; i < N_ENDS; i++) {
			for (size_t o = 0; o < N_ENDS; o++) {
				/* stage 0: inner host, 1: wire, 2: far host */
				for (int stage = 0; stage < 3; stage++) {
					const struct endpoints *e = stage == 0	 ? &ends[i]
								    : stage == 2 ? &ends[o]
										 : NULL;

					fill_random(l4, sizeof(l4), &seed);
					force_zero_sum(protos[p], e, l4, sizeof(l4), 40);
					check_crossing(protos[p], &ends[i], &ends[o], l4,
						       sizeof(l4));
				}
			}
		}
	}
}

static void test_udp_zero(void **state)
{
	(void)state;
	for (size_t e = 0; e < N_ENDS; e++) {
		const struct endpoints *x = &ends[e];
		size_t n = addr_len(x->family);
		uint16_t tcp_ffff =
			dp_csum_strip_addrs(DP_WIRE_PROTO_TCP, 0xffff, x->src, x->dst, n);
		uint16_t tcp_zero = dp_csum_strip_addrs(DP_WIRE_PROTO_TCP, 0, x->src, x->dst, n);
		uint16_t udp_ffff =
			dp_csum_strip_addrs(DP_WIRE_PROTO_UDP, 0xffff, x->src, x->dst, n);

		/* no checksum stays no checksum, both ways */
		assert_int_equal(dp_csum_strip_addrs(DP_WIRE_PROTO_UDP, 0, x->src, x->dst, n), 0);
		assert_int_equal(dp_csum_fill_addrs(DP_WIRE_PROTO_UDP, 0, x->src, x->dst, n), 0);
		/* 0xffff and 0 are the same value to the arithmetic; TCP's 0 is a real checksum */
		assert_int_equal(tcp_ffff, tcp_zero);
		assert_int_equal(udp_ffff, tcp_ffff ? tcp_ffff : 0xffff);
		assert_int_not_equal(udp_ffff, 0);
	}
	/* addresses summing to -0 leave a UDP -0 as -0, never as "no checksum" */
	assert_int_equal(dp_csum_strip_addrs(DP_WIRE_PROTO_UDP, 0xffff, v4_c, v4_d, 4), 0xffff);
	assert_int_equal(dp_csum_fill_addrs(DP_WIRE_PROTO_UDP, 0xffff, v4_c, v4_d, 4), 0xffff);
}

/* A zero-checksum IPv4 UDP datagram: the IPv6 side must compute a real one in full. */
static void test_udp_zero_to_v6(void **state)
{
	uint8_t l4[32];
	uint64_t seed = 0x082efa98ec4e6c89ULL;
	uint16_t check;

	(void)state;
	fill_random(l4, sizeof(l4), &seed);
	put16(l4 + 6, 0);
	assert_int_equal(dp_csum_strip_addrs(DP_WIRE_PROTO_UDP, 0, v4_a, v4_b, 4), 0);
	check = dp_csum_l4(DP_WIRE_PROTO_UDP, v6_a, v6_b, 16, l4, sizeof(l4));
	assert_int_equal(check, host_csum(6, DP_WIRE_PROTO_UDP, v6_a, v6_b, l4, sizeof(l4)));
	assert_int_not_equal(check, 0);
}

struct field_case {
	uint8_t proto;
	uint16_t frag_off;
	bool more_frags;
	size_t len;
	int want;
};

static const struct field_case field_cases[] = {
	/* unfragmented */
	{ DP_WIRE_PROTO_TCP, 0, false, 20, 16 },
	{ DP_WIRE_PROTO_TCP, 0, false, 18, 16 },
	{ DP_WIRE_PROTO_TCP, 0, false, 17, -EBADMSG },
	{ DP_WIRE_PROTO_TCP, 0, false, 10, -EBADMSG },
	{ DP_WIRE_PROTO_UDP, 0, false, 8, 6 },
	{ DP_WIRE_PROTO_UDP, 0, false, 7, -EBADMSG },
	{ DP_WIRE_PROTO_ICMP, 0, false, 64, -ENOENT },
	{ 58, 0, false, 64, -ENOENT },
	/* TCP: whichever fragment carries the field */
	{ DP_WIRE_PROTO_TCP, 0, true, 1480, 16 },
	{ DP_WIRE_PROTO_TCP, 0, true, 8, -ENOENT },
	{ DP_WIRE_PROTO_TCP, 0, true, 16, -ENOENT },
	{ DP_WIRE_PROTO_TCP, 8, true, 8, -ENOENT },
	{ DP_WIRE_PROTO_TCP, 0, true, 17, -EBADMSG },
	{ DP_WIRE_PROTO_TCP, 8, true, 9, -EBADMSG },
	{ DP_WIRE_PROTO_TCP, 17, true, 8, -EBADMSG },
	{ DP_WIRE_PROTO_TCP, 8, true, 16, 8 },
	{ DP_WIRE_PROTO_TCP, 8, false, 12, 8 },
	{ DP_WIRE_PROTO_TCP, 8, false, 9, -EBADMSG },
	{ DP_WIRE_PROTO_TCP, 16, true, 8, 0 },
	{ DP_WIRE_PROTO_TCP, 16, false, 2, 0 },
	{ DP_WIRE_PROTO_TCP, 16, false, 1, -EBADMSG },
	{ DP_WIRE_PROTO_TCP, 24, false, 100, -ENOENT },
	{ DP_WIRE_PROTO_TCP, 1480, true, 1480, -ENOENT },
	/* UDP: only the first fragment */
	{ DP_WIRE_PROTO_UDP, 0, true, 1480, 6 },
	{ DP_WIRE_PROTO_UDP, 8, true, 1480, -ENOENT },
	{ DP_WIRE_PROTO_UDP, 1480, false, 3, -ENOENT },
};

static void test_field_offset(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		const struct field_case *c = &field_cases[i];
		int got = dp_csum_field_offset(c->proto, c->frag_off, c->more_frags, c->len);

		if (got != c->want)
			fail_msg("proto %u offset %u MF %d len %zu: got %d, want %d", c->proto,
				 c->frag_off, c->more_frags, c->len, got, c->want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),	      cmocka_unit_test(test_add_matches_rfc1071),
		cmocka_unit_test(test_captured_icmp), cmocka_unit_test(test_full_matches_host),
		cmocka_unit_test(test_crossings),     cmocka_unit_test(test_zero_corners),
		cmocka_unit_test(test_udp_zero),      cmocka_unit_test(test_udp_zero_to_v6),
		cmocka_unit_test(test_field_offset),  cmocka_unit_test(test_copy_matches_add),
	};
	return cmocka_run_group_tests_name("checksum", tests, NULL, NULL);
}
