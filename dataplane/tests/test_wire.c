/* Unit tests of the tunnel header: spec and captured vectors, every drop, reference lengths. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

/* wire.md's worked example: 1.2.3.4 + 1 -> 5.6.7.8 + 11, DF, TTL 64, UDP. */
static const uint8_t spec_example[] = {
	0x11, 0x40, 0x40, 0x11, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	0x07, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0b,
};

/* vectors/ref-gw-icmp-echo.md, A -> B: the echo request as the reference gateway sent it. */
static const uint8_t echo_request[] = {
	0x19, 0x40, 0x40, 0x01, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x52, 0xb9, 0x34, 0x09, 0x5f, 0xad, 0xfc, 0x78,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x07, 0x05, 0x08, 0x00, 0xff, 0x13, 0x11, 0xa4, 0x00, 0x01, 0x1c, 0xac, 0x07, 0x6b,
	0x00, 0x00, 0x00, 0x00, 0xc0, 0x2f, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* B -> A: the echo reply, DF clear. */
static const uint8_t echo_reply[] = {
	0x18, 0x40, 0x40, 0x01, 0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x05,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x52, 0xb9, 0x34, 0x09, 0x5f, 0xad,
	0xfc, 0x78, 0x00, 0x00, 0x07, 0x14, 0x11, 0xa4, 0x00, 0x01, 0x1c, 0xac, 0x07, 0x6b,
	0x00, 0x00, 0x00, 0x00, 0xc0, 0x2f, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t gw_a[4] = { 198, 18, 0, 1 }, gw_b[4] = { 198, 18, 0, 2 };
static const struct ipr_ref host_a_ref = { 0x6, 0x52b934095fadfc78ULL };
static const struct ipr_ref host_b_ref = { 0, 0x705 };

static void assert_same_hdr(const struct dp_wire_hdr *a, const struct dp_wire_hdr *b)
{
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->has_frag, b->has_frag);
	assert_int_equal(a->df, b->df);
	assert_int_equal(a->ctx_ver, b->ctx_ver);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->more_frags, b->more_frags);
	assert_int_equal(a->frag_off, b->frag_off);
	assert_int_equal(a->frag_id, b->frag_id);
	assert_memory_equal(a->src_ctx, b->src_ctx, 16);
	assert_memory_equal(a->dst_ctx, b->dst_ctx, 16);
	assert_true(ipr_ref_equal(&a->src_ref, &b->src_ref));
	assert_true(ipr_ref_equal(&a->dst_ref, &b->dst_ref));
}

/* Re-encoding a decoded header gives back the input's header bytes. */
static void assert_reencodes(const uint8_t *pkt, int hlen, const struct dp_wire_hdr *h)
{
	uint8_t buf[DP_WIRE_HDR_MAX];

	assert_int_equal(dp_wire_hdr_len(h), (size_t)hlen);
	assert_int_equal(dp_wire_encode(h, buf, sizeof(buf)), hlen);
	assert_memory_equal(buf, pkt, (size_t)hlen);
}

static void test_spec_example(void **state)
{
	static const uint8_t zero[12] = { 0 };
	struct dp_wire_hdr h;

	(void)state;
	assert_int_equal(dp_wire_decode(spec_example, sizeof(spec_example), &h), 20);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.ref_len, 4);
	assert_false(h.has_frag);
	assert_true(h.df);
	assert_int_equal(h.ctx_ver, 4);
	assert_int_equal(h.ttl, 64);
	assert_int_equal(h.proto, DP_WIRE_PROTO_UDP);
	assert_false(h.more_frags);
	assert_int_equal(h.frag_off, 0);
	assert_int_equal(h.frag_id, 0);
	assert_memory_equal(h.src_ctx, ((uint8_t[]){ 1, 2, 3, 4 }), 4);
	assert_memory_equal(h.dst_ctx, ((uint8_t[]){ 5, 6, 7, 8 }), 4);
	assert_memory_equal(h.src_ctx + 4, zero, 12);
	assert_memory_equal(h.dst_ctx + 4, zero, 12);
	assert_true(ipr_ref_equal(&h.src_ref, &(struct ipr_ref){ 0, 1 }));
	assert_true(ipr_ref_equal(&h.dst_ref, &(struct ipr_ref){ 0, 11 }));
	assert_reencodes(spec_example, 20, &h);
}

static void test_captured_request(void **state)
{
	struct dp_wire_hdr h;

	(void)state;
	assert_int_equal(dp_wire_decode(echo_request, sizeof(echo_request), &h), 44);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.ref_len, 16);
	assert_false(h.has_frag);
	assert_true(h.df);
	assert_int_equal(h.ctx_ver, 4);
	assert_int_equal(h.ttl, 64);
	assert_int_equal(h.proto, DP_WIRE_PROTO_ICMP);
	assert_memory_equal(h.src_ctx, gw_a, 4);
	assert_memory_equal(h.dst_ctx, gw_b, 4);
	assert_true(ipr_ref_equal(&h.src_ref, &host_a_ref));
	assert_true(ipr_ref_equal(&h.dst_ref, &host_b_ref));
	/* the ICMP echo request follows: type 8, code 0 */
	assert_int_equal(echo_request[44], 8);
	assert_int_equal(echo_request[45], 0);
	assert_reencodes(echo_request, 44, &h);
}

static void test_captured_reply(void **state)
{
	struct dp_wire_hdr h;

	(void)state;
	assert_int_equal(dp_wire_decode(echo_reply, sizeof(echo_reply), &h), 44);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.ref_len, 16);
	assert_false(h.has_frag);
	assert_false(h.df);
	assert_int_equal(h.ctx_ver, 4);
	assert_int_equal(h.ttl, 64);
	assert_int_equal(h.proto, DP_WIRE_PROTO_ICMP);
	assert_memory_equal(h.src_ctx, gw_b, 4);
	assert_memory_equal(h.dst_ctx, gw_a, 4);
	assert_true(ipr_ref_equal(&h.src_ref, &host_b_ref));
	assert_true(ipr_ref_equal(&h.dst_ref, &host_a_ref));
	assert_int_equal(echo_reply[44], 0);
	assert_reencodes(echo_reply, 44, &h);
}

/* A valid IPv6, fragmented header: offset 1480, MF, identification 0xdeadbeef, 8-byte refs. */
static const uint8_t v6_fragment[] = {
	0x16, 0x60, 0x3f, 0x06, 0x00, 0x00, 0x05, 0xc9, 0xde, 0xad, 0xbe, 0xef, /* IF, MF */
	0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,	  0,	0,    0,    0,	  0,
	0,    0,    0,	  0x01, /* src context */
	0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,	  0,	0,    0,    0,	  0,
	0,    0,    0,	  0x02,				/* dst context */
	0x80, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* R 0x80, b3 1 */
	0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a,
};

static void test_fragment_v6(void **state)
{
	struct dp_wire_hdr h;

	(void)state;
	assert_int_equal(dp_wire_decode(v6_fragment, sizeof(v6_fragment), &h), 60);
	assert_int_equal(h.ref_len, 8);
	assert_true(h.has_frag);
	assert_false(h.df);
	assert_int_equal(h.ctx_ver, 6);
	assert_int_equal(h.ttl, 63);
	assert_int_equal(h.proto, DP_WIRE_PROTO_TCP);
	assert_int_equal(h.frag_off, 1480);
	assert_true(h.more_frags);
	assert_int_equal(h.frag_id, 0xdeadbeef);
	assert_memory_equal(h.src_ctx, v6_fragment + 12, 16);
	assert_memory_equal(h.dst_ctx, v6_fragment + 28, 16);
	assert_true(
		ipr_ref_equal(&h.src_ref, &(struct ipr_ref){ 0x8000000000000000ULL, 0x1000000 }));
	assert_true(ipr_ref_equal(&h.dst_ref, &(struct ipr_ref){ 0, 0x123456789aULL }));
	assert_reencodes(v6_fragment, 60, &h);
}

struct drop_case {
	const char *what;
	size_t at;     /* byte of spec_example or v6_fragment to change */
	uint8_t value; /* its new value */
	bool fragment; /* start from v6_fragment instead of spec_example */
	enum dp_wire_drop reason;
};

static const struct drop_case drop_cases[] = {
	{ "version 0", 0, 0x01, false, DP_WIRE_DROP_VERSION },
	{ "version 2", 0, 0x21, false, DP_WIRE_DROP_VERSION },
	{ "version 15", 0, 0xf1, false, DP_WIRE_DROP_VERSION },
	{ "REFL 3", 0, 0x1d, false, DP_WIRE_DROP_REFL },
	{ "REFL 3, IF", 0, 0x1e, true, DP_WIRE_DROP_REFL },
	{ "byte 1 low bit", 1, 0x41, false, DP_WIRE_DROP_RESERVED },
	{ "byte 1 low nibble", 1, 0x4f, false, DP_WIRE_DROP_RESERVED },
	{ "reserved beats family", 1, 0x08, false, DP_WIRE_DROP_RESERVED },
	{ "family 0", 1, 0x00, false, DP_WIRE_DROP_FAMILY },
	{ "family 5", 1, 0x50, false, DP_WIRE_DROP_FAMILY },
	{ "family 15", 1, 0xf0, false, DP_WIRE_DROP_FAMILY },
	{ "fragment byte 0", 4, 0x01, true, DP_WIRE_DROP_FRAG_ZERO },
	{ "fragment byte 1", 5, 0x80, true, DP_WIRE_DROP_FRAG_ZERO },
	{ "offset bit 1", 7, 0xcb, true, DP_WIRE_DROP_FRAG_BITS },
	{ "offset bit 2", 7, 0xcc, true, DP_WIRE_DROP_FRAG_BITS },
	{ "null source reference", 15, 0x00, false, DP_WIRE_DROP_NULL_REF },
	{ "null destination reference", 19, 0x00, false, DP_WIRE_DROP_NULL_REF },
	{ "IF on a 20-byte packet", 0, 0x13, false, DP_WIRE_DROP_TRUNCATED },
	{ "REFL 1 on a 20-byte packet", 0, 0x15, false, DP_WIRE_DROP_TRUNCATED },
	{ "IPv6 on a 20-byte packet", 1, 0x60, false, DP_WIRE_DROP_TRUNCATED },
};

static void test_drops(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(drop_cases) / sizeof(drop_cases[0]); i++) {
		const struct drop_case *c = &drop_cases[i];
		uint8_t pkt[sizeof(v6_fragment)];
		size_t len = c->fragment ? sizeof(v6_fragment) : sizeof(spec_example);
		struct dp_wire_hdr h = { .ttl = 99 };
		int rc;

		memcpy(pkt, c->fragment ? v6_fragment : spec_example, len);
		pkt[c->at] = c->value;
		rc = dp_wire_decode(pkt, len, &h);
		if (rc != -(int)c->reason)
			fail_msg("%s: got %d (%s), want %s", c->what, rc,
				 rc < 0 ? dp_wire_drop_name(-rc) : "accepted",
				 dp_wire_drop_name(c->reason));
		/* a dropped packet leaves the output alone */
		assert_int_equal(h.ttl, 99);
	}
}

static void test_truncated(void **state)
{
	const struct {
		const uint8_t *pkt;
		size_t hlen;
	} valid[] = {
		{ spec_example, 20 },
		{ echo_request, 44 },
		{ echo_reply, 44 },
		{ v6_fragment, 60 },
	};
	struct dp_wire_hdr h;

	(void)state;
	for (size_t v = 0; v < sizeof(valid) / sizeof(valid[0]); v++) {
		for (size_t len = 0; len < valid[v].hlen; len++) {
			/* exact-size copies let the sanitizer catch any read past the end */
			uint8_t *pkt = test_malloc(len ? len : 1);

			memcpy(pkt, valid[v].pkt, len);
			assert_int_equal(dp_wire_decode(pkt, len, &h), -DP_WIRE_DROP_TRUNCATED);
			test_free(pkt);
		}
	}
	/* the fixed part is checked before the length, fragment info after it */
	uint8_t bad[sizeof(v6_fragment)];
	memcpy(bad, v6_fragment, sizeof(bad));
	bad[4] = 1;
	assert_int_equal(dp_wire_decode(bad, sizeof(bad), &h), -DP_WIRE_DROP_FRAG_ZERO);
	assert_int_equal(dp_wire_decode(bad, sizeof(bad) - 1, &h), -DP_WIRE_DROP_TRUNCATED);
	bad[0] = 0x26;
	assert_int_equal(dp_wire_decode(bad, 20, &h), -DP_WIRE_DROP_VERSION);
	assert_int_equal(dp_wire_decode(bad, 19, &h), -DP_WIRE_DROP_TRUNCATED);
}

static void test_drop_names(void **state)
{
	(void)state;
	for (int i = 1; i < DP_WIRE_DROP_COUNT; i++) {
		const char *name = dp_wire_drop_name((enum dp_wire_drop)i);

		assert_string_not_equal(name, "unknown");
		for (int j = 1; j < i; j++)
			assert_string_not_equal(name, dp_wire_drop_name((enum dp_wire_drop)j));
	}
	assert_string_equal(dp_wire_drop_name(DP_WIRE_DROP_COUNT), "unknown");
	assert_string_equal(dp_wire_drop_name((enum dp_wire_drop)0), "unknown");
}

/* Non-minimal lengths are accepted on the way in and re-encoded in the smallest form. */
static void test_decode_non_minimal(void **state)
{
	static const uint8_t refl2[] = {
		0x19, 0x40, 0x40, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0,    0,    0,	  0,	0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
	};
	struct dp_wire_hdr h;
	uint8_t buf[DP_WIRE_HDR_MAX];

	(void)state;
	assert_int_equal(dp_wire_decode(refl2, sizeof(refl2), &h), 44);
	assert_int_equal(h.ref_len, 16);
	assert_int_equal(dp_wire_hdr_len(&h), 20);
	assert_int_equal(dp_wire_encode(&h, buf, sizeof(buf)), 20);
	assert_memory_equal(buf, spec_example, 20);
}

struct len_case {
	struct ipr_ref ref;
	size_t len;
	const char *bytes; /* the reference on the wire, in hex, when it travels alone */
};

static const struct len_case len_cases[] = {
	{ { 0, 1 }, 4, "00000001" },
	{ { 0, 0xffffff }, 4, "00ffffff" },
	{ { 0xff00000000000000ULL, 0xffffff }, 4, "ffffffff" },
	{ { 0x0100000000000000ULL, 0 }, 4, "01000000" },
	{ { 0, 0x1000000 }, 8, "0000000001000000" },
	{ { 0, 0xffffffff }, 8, "00000000ffffffff" },
	{ { 0, 0x00ffffffffffffffULL }, 8, "00ffffffffffffff" },
	{ { 0xab00000000000000ULL, 0x00ffffffffffffffULL }, 8, "abffffffffffffff" },
	{ { 0xab00000000000000ULL, 0x1000000 }, 8, "ab00000001000000" },
	{ { 0, 0x0100000000000000ULL }, 16, "00000000000000000100000000000000" },
	{ { 0, UINT64_MAX }, 16, "0000000000000000ffffffffffffffff" },
	{ { 1, 0 }, 16, "00000000000000010000000000000000" },
	{ { 0x0080000000000000ULL, 1 }, 16, "00800000000000000000000000000001" },
	{ { 6, 0x52b934095fadfc78ULL }, 16, "000000000000000652b934095fadfc78" },
	{ { UINT64_MAX, UINT64_MAX }, 16, "ffffffffffffffffffffffffffffffff" },
};

static void hex_to_bytes(const char *hex, uint8_t *out)
{
	for (size_t i = 0; hex[2 * i]; i++) {
		unsigned byte;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
		out[i] = (uint8_t)byte;
	}
}

static struct dp_wire_hdr v4_hdr(struct ipr_ref src, struct ipr_ref dst)
{
	return (struct dp_wire_hdr){
		.version = DP_WIRE_VERSION,
		.ctx_ver = 4,
		.ttl = 64,
		.proto = DP_WIRE_PROTO_UDP,
		.src_ctx = { 1, 2, 3, 4 },
		.dst_ctx = { 5, 6, 7, 8 },
		.src_ref = src,
		.dst_ref = dst,
	};
}

static void test_ref_lengths(void **state)
{
	static const unsigned refl[17] = { [4] = 0, [8] = 1, [16] = 2 };
	const struct ipr_ref one = { 0, 1 };

	(void)state;
	for (size_t i = 0; i < sizeof(len_cases) / sizeof(len_cases[0]); i++) {
		const struct len_case *c = &len_cases[i];
		struct dp_wire_hdr h = v4_hdr(c->ref, one), back;
		uint8_t buf[DP_WIRE_HDR_MAX], want[16];
		size_t hlen = 12 + 2 * c->len;

		hex_to_bytes(c->bytes, want);
		assert_int_equal(dp_wire_ref_len(&c->ref, &one), c->len);
		assert_int_equal(dp_wire_ref_len(&one, &c->ref), c->len);
		assert_int_equal(dp_wire_hdr_len(&h), hlen);
		assert_int_equal(dp_wire_encode(&h, buf, sizeof(buf)), (int)hlen);
		assert_int_equal(buf[0], 0x10 | refl[c->len] << 2);
		assert_memory_equal(buf + 12, want, c->len);
		assert_int_equal(dp_wire_decode(buf, hlen, &back), (int)hlen);
		assert_true(ipr_ref_equal(&back.src_ref, &c->ref));
		assert_true(ipr_ref_equal(&back.dst_ref, &one));

		/* the longer of the two references decides, whichever side it is on */
		for (size_t j = 0; j < sizeof(len_cases) / sizeof(len_cases[0]); j++) {
			const struct len_case *d = &len_cases[j];
			size_t both = c->len > d->len ? c->len : d->len;

			h = v4_hdr(d->ref, c->ref);
			assert_int_equal(dp_wire_ref_len(&c->ref, &d->ref), both);
			assert_int_equal(dp_wire_encode(&h, buf, sizeof(buf)),
					 (int)(12 + 2 * both));
			assert_int_equal(dp_wire_decode(buf, 12 + 2 * both, &back),
					 (int)(12 + 2 * both));
			assert_int_equal(back.ref_len, both);
			assert_same_hdr(&h, &back);
		}
	}
}

/* xorshift64: the same "random" headers on every run. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random bytes masked so that all three reference lengths come up often. */
static struct ipr_ref random_ref(uint64_t *s)
{
	static const uint64_t lo_masks[] = { 0xffffff, 0x00ffffffffffffffULL, UINT64_MAX };
	uint64_t kind = next_random(s) % 3;
	struct ipr_ref ref = {
		.hi = next_random(s) & (kind == 2 ? UINT64_MAX : 0xff00000000000000ULL),
		.lo = next_random(s) & lo_masks[kind],
	};

	if (ipr_ref_is_null(&ref))
		ref.lo = 1;
	return ref;
}

static void test_round_trip(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint64_t r = next_random(&seed);
		struct dp_wire_hdr h = {
			.version = DP_WIRE_VERSION,
			.ctx_ver = r & 1 ? 6 : 4,
			.has_frag = r & 2,
			.df = r & 4,
			.ttl = (uint8_t)(r >> 8),
			.proto = (uint8_t)(r >> 16),
		}, back;
		uint8_t pkt[DP_WIRE_HDR_MAX + 8], again[DP_WIRE_HDR_MAX];
		size_t n = dp_wire_ctx_len(h.ctx_ver);
		int len;

		if (h.has_frag) {
			h.more_frags = r & 8;
			h.frag_off = (uint16_t)(r >> 24) & DP_WIRE_FRAG_OFF_MASK;
			h.frag_id = (uint32_t)(r >> 32);
		}
		for (size_t b = 0; b < n; b++) {
			h.src_ctx[b] = (uint8_t)next_random(&seed);
			h.dst_ctx[b] = (uint8_t)next_random(&seed);
		}
		h.src_ref = random_ref(&seed);
		h.dst_ref = random_ref(&seed);

		len = dp_wire_encode(&h, pkt, sizeof(pkt));
		assert_int_equal(len, (int)dp_wire_hdr_len(&h));
		/* trailing L4 bytes are not part of the header */
		memset(pkt + len, 0xa5, 8);
		assert_int_equal(dp_wire_decode(pkt, (size_t)len + 8, &back), len);
		assert_same_hdr(&h, &back);
		assert_int_equal(back.ref_len, dp_wire_ref_len(&h.src_ref, &h.dst_ref));
		assert_int_equal(dp_wire_encode(&back, again, sizeof(again)), len);
		assert_memory_equal(pkt, again, (size_t)len);
	}
}

static void test_encode_errors(void **state)
{
	const struct dp_wire_hdr good = v4_hdr((struct ipr_ref){ 0, 1 }, (struct ipr_ref){ 0, 2 });
	struct dp_wire_hdr h;
	uint8_t buf[DP_WIRE_HDR_MAX];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	h = good;
	h.version = 2;
	assert_int_equal(dp_wire_encode(&h, buf, sizeof(buf)), -EINVAL);
	h = good;
	h.ctx_ver = 5;
	assert_int_equal(dp_wire_encode(&h, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(dp_wire_hdr_len(&h), 0);
	h = good;
	h.src_ref = (struct ipr_ref){ 0, 0 };
	assert_int_equal(dp_wire_encode(&h, buf, sizeof(buf)), -EINVAL);
	h = good;
	h.dst_ref = (struct ipr_ref){ 0, 0 };
	assert_int_equal(dp_wire_encode(&h, buf, sizeof(buf)), -EINVAL);
	h = good;
	h.has_frag = true;
	h.frag_off = 12;
	assert_int_equal(dp_wire_encode(&h, buf, sizeof(buf)), -EINVAL);
	/* fragment fields without IF */
	h = good;
	h.more_frags = true;
	assert_int_equal(dp_wire_encode(&h, buf, sizeof(buf)), -EINVAL);
	h = good;
	h.frag_off = 8;
	assert_int_equal(dp_wire_encode(&h, buf, sizeof(buf)), -EINVAL);
	h = good;
	h.frag_id = 1;
	assert_int_equal(dp_wire_encode(&h, buf, sizeof(buf)), -EINVAL);
	/* every capacity short of the header */
	for (size_t cap = 0; cap < 20; cap++)
		assert_int_equal(dp_wire_encode(&good, buf, cap), -ENOSPC);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
	assert_int_equal(dp_wire_encode(&good, buf, 20), 20);
}

static struct dp_wire_addr v4_addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (struct dp_wire_addr){ .ver = 4, .bytes = { a, b, c, d } };
}

static void test_contexts(void **state)
{
	const struct dp_wire_addr outer = v4_addr(1, 2, 3, 4), own = v4_addr(5, 6, 7, 8);
	const struct dp_wire_addr nat = v4_addr(9, 9, 9, 9), unknown = v4_addr(0, 0, 0, 0);
	const struct dp_wire_addr outer6 = { .ver = 6, .bytes = { 0x20, 0x01, [15] = 1 } };
	const struct dp_wire_hdr good = v4_hdr((struct ipr_ref){ 0, 1 }, (struct ipr_ref){ 0, 2 });
	struct dp_wire_hdr h;

	(void)state;
	h = good;
	assert_int_equal(dp_wire_check_contexts(&h, &outer, &own), 0);
	assert_same_hdr(&h, &good);

	/* zero contexts take the outer source and our own address */
	memset(h.src_ctx, 0, 4);
	memset(h.dst_ctx, 0, 4);
	assert_int_equal(dp_wire_check_contexts(&h, &outer, &own), 0);
	assert_same_hdr(&h, &good);

	/* a source context that is not the outer source: spoofed, or NAT without a zero context */
	h = good;
	assert_int_equal(dp_wire_check_contexts(&h, &nat, &own), -DP_WIRE_DROP_SRC_CONTEXT);
	assert_same_hdr(&h, &good);
	assert_int_equal(dp_wire_check_contexts(&h, &outer6, &own), -DP_WIRE_DROP_SRC_CONTEXT);
	assert_int_equal(dp_wire_check_contexts(&h, NULL, &own), -DP_WIRE_DROP_SRC_CONTEXT);
	memset(h.src_ctx, 0, 4);
	assert_int_equal(dp_wire_check_contexts(&h, &outer6, &own), -DP_WIRE_DROP_SRC_CONTEXT);
	assert_memory_equal(h.src_ctx, ((uint8_t[4]){ 0 }), 4);

	/* a destination context that is not ours */
	h = good;
	assert_int_equal(dp_wire_check_contexts(&h, &outer, &nat), -DP_WIRE_DROP_DST_CONTEXT);
	assert_int_equal(dp_wire_check_contexts(&h, &outer, &outer6), -DP_WIRE_DROP_DST_CONTEXT);
	memset(h.dst_ctx, 0, 4);
	memset(h.src_ctx, 0, 4);
	assert_int_equal(dp_wire_check_contexts(&h, &outer, &outer6), -DP_WIRE_DROP_DST_CONTEXT);
	/* the zero source context was not replaced either */
	assert_memory_equal(h.src_ctx, ((uint8_t[4]){ 0 }), 4);

	/* a gateway that does not know its own address accepts what the peer says */
	h = good;
	assert_int_equal(dp_wire_check_contexts(&h, &outer, &unknown), 0);
	assert_same_hdr(&h, &good);
	assert_int_equal(dp_wire_check_contexts(&h, &outer, NULL), 0);
	assert_same_hdr(&h, &good);
	memset(h.dst_ctx, 0, 4);
	assert_int_equal(dp_wire_check_contexts(&h, &outer, NULL), 0);
	assert_memory_equal(h.dst_ctx, ((uint8_t[4]){ 0 }), 4);

	/* IPv6 contexts */
	h = good;
	h.ctx_ver = 6;
	memset(h.src_ctx, 0, 16);
	memcpy(h.dst_ctx, outer6.bytes, 16);
	assert_int_equal(dp_wire_check_contexts(&h, &outer6, &outer6), 0);
	assert_memory_equal(h.src_ctx, outer6.bytes, 16);
	assert_int_equal(dp_wire_check_contexts(&h, &outer, &outer6), -DP_WIRE_DROP_SRC_CONTEXT);

	/* a header that never came from the decoder */
	h = good;
	h.ctx_ver = 0;
	assert_int_equal(dp_wire_check_contexts(&h, &outer, &own), -DP_WIRE_DROP_FAMILY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),   cmocka_unit_test(test_captured_request),
		cmocka_unit_test(test_captured_reply), cmocka_unit_test(test_fragment_v6),
		cmocka_unit_test(test_drops),	       cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_drop_names),     cmocka_unit_test(test_decode_non_minimal),
		cmocka_unit_test(test_ref_lengths),    cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_errors),  cmocka_unit_test(test_contexts),
	};
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
