/* Golden vectors and drop reasons of the translation core, for every direction and family pair. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "checksum.h"
#include "gro.h"
#include "vectors_util.h"
#include "xlate.h"

#define BUF 2048

struct vector {
	const char *name;
	bool outbound;
	const char *in;
	const char *out;
	const char *sctx, *dctx, *outer, *own, *src, *dst;
	uint64_t sref_hi, sref_lo, dref_hi, dref_lo;
	uint16_t ipid;
	bool has_qref; /* an ICMP error's quote is for another local host: its reference */
	uint64_t qref;
	const char *qea;   /* or for another remote host: its encoded address */
	uint32_t icmp_len; /* an ICMP echo's first fragment: the whole message's length */
};

/* Packets in and out as hex, built by gen_vectors.py from spec/wire.md alone. */
static const struct vector vectors[] = {
#include "xlate_vectors.inc"
};

/* RFC 1071 sum written out again, sharing nothing with checksum.c: 0xffff means "checks". */
static uint32_t sum_words(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t folded(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Verifies an unfragmented L4 checksum under a pseudo-header of addr_len-byte addresses. */
static void assert_l4_checks(uint8_t proto, const uint8_t *src, const uint8_t *dst, size_t addr_len,
			     const uint8_t *l4, size_t len)
{
	uint32_t sum = 0;

	if (proto == 17 && l4[6] == 0 && l4[7] == 0 && addr_len != 16)
		return; /* IPv4 and the wire may say "no checksum" */
	if (proto != 1) {
		sum = sum_words(sum_words(0, src, addr_len), dst, addr_len);
		sum += (uint32_t)proto + (uint32_t)len;
	}
	assert_int_equal(folded(sum_words(sum, l4, len)), 0xffff);
}

/* Checks every checksum of an output packet independently of the code under test. */
static void check_output(const uint8_t *pkt, size_t len, bool wire)
{
	if (wire) {
		struct dp_wire_hdr h;
		int hl = dp_wire_decode(pkt, len, &h);
		assert_true(hl > 0);
		if (!h.has_frag)
			assert_l4_checks(h.proto, NULL, NULL, 0, pkt + hl, len - (size_t)hl);
		return;
	}
	if (pkt[0] >> 4 == 4) {
		assert_int_equal(folded(sum_words(0, pkt, 20)), 0xffff);
		if (!(pkt[6] & 0x20) && !(pkt[6] & 0x1f) && !pkt[7])
			assert_l4_checks(pkt[9], pkt + 12, pkt + 16, 4, pkt + 20, len - 20);
	} else if (pkt[6] != 44) {
		assert_l4_checks(pkt[6] == 58 ? 58 : pkt[6], pkt + 8, pkt + 24, 16, pkt + 40,
				 len - 40);
	}
}

static void run_vector(const struct vector *v)
{
	uint8_t in[BUF], want[BUF], out[BUF];
	size_t in_len = vec_unhex(v->in, in, sizeof(in)),
	       want_len = vec_unhex(v->out, want, sizeof(want));
	int n;

	if (v->outbound) {
		struct xlate_local p;
		struct xlate_out_map map = {
			.src_ctx = vec_addr(v->sctx),
			.dst_ctx = vec_addr(v->dctx),
			.src_ref = { v->sref_hi, v->sref_lo },
			.dst_ref = { v->dref_hi, v->dref_lo },
			.has_quote_ref = v->has_qref,
			.quote_ref = { 0, v->qref },
		};
		assert_int_equal(xlate_local_parse(in, in_len, &p), 0);
		if (v->icmp_len) {
			/* without the length the first fragment cannot go */
			assert_int_equal(xlate_to_wire(&p, &map, out, sizeof(out)),
					 -XLATE_DROP_ICMP_FRAGMENT);
			p.icmp_len = v->icmp_len;
		}
		n = xlate_to_wire(&p, &map, out, sizeof(out));
		/* too small an output buffer is a typed drop, never an overrun */
		if (n > 0)
			assert_int_equal(xlate_to_wire(&p, &map, out, (size_t)n - 1),
					 -XLATE_DROP_TOO_BIG);
		n = xlate_to_wire(&p, &map, out, sizeof(out));
	} else {
		struct xlate_remote r;
		struct dp_wire_addr outer = vec_addr(v->outer), own = vec_addr(v->own);
		struct xlate_in_map map = {
			.src = vec_addr(v->src),
			.dst = vec_addr(v->dst),
			.ipv4_id = v->ipid,
		};
		if (v->qea) {
			map.has_quote_ea = true;
			memcpy(map.quote_ea, vec_addr(v->qea).bytes, 16);
		}
		assert_int_equal(xlate_wire_parse(in, in_len, &outer, &own, &r), 0);
		if (v->icmp_len) {
			assert_int_equal(xlate_to_local(&r, &map, out, sizeof(out)),
					 -XLATE_DROP_ICMP_FRAGMENT);
			r.icmp_len = v->icmp_len;
		}
		n = xlate_to_local(&r, &map, out, sizeof(out));
		if (n > 0)
			assert_int_equal(xlate_to_local(&r, &map, out, (size_t)n - 1),
					 -XLATE_DROP_TOO_BIG);
		n = xlate_to_local(&r, &map, out, sizeof(out));
	}
	if (n < 0)
		fail_msg("%s: dropped as %s", v->name, xlate_drop_name(-n));
	vec_assert_bytes(v->name, out, (size_t)n, v->out, want_len);
	check_output(out, (size_t)n, v->outbound);
}

static void test_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		run_vector(&vectors[i]);
}

/* The captured exchange in spec/vectors/ref-gw-icmp-echo.md, byte for byte. */
static void test_capture_is_a_vector(void **state)
{
	static const char request[] = "19404001c6120001c6120002"
				      "000000000000000652b934095fadfc78"
				      "00000000000000000000000000000705"
				      "0800ff1311a400011cac076b00000000"
				      "c02f030000000000";

	assert_string_equal(vectors[0].out, request);
	assert_string_equal(vectors[2].in, request);
}

static int wire_reason(const char *hex, const char *outer_text, const char *own_text)
{
	uint8_t pkt[BUF];
	size_t len = vec_unhex(hex, pkt, sizeof(pkt));
	struct dp_wire_addr outer = vec_addr(outer_text), own = vec_addr(own_text);
	struct xlate_remote r;
	int rc = xlate_wire_parse(pkt, len, &outer, &own, &r);

	return rc < 0 ? -rc : 0;
}

/* Every receiver check of spec/wire.md, and this gateway's own, is a typed drop. */
static void test_wire_drops(void **state)
{
	static const struct {
		const char *hex;
		int reason;
	} cases[] = {
		{ "114040110102030405060708000000010000000b", XLATE_DROP_L4_TRUNCATED },
		{ "1140401101020304050607080000000100000b", DP_WIRE_DROP_TRUNCATED },
		{ "214040110102030405060708000000010000000b00010002000c0000",
		  DP_WIRE_DROP_VERSION },
		{ "1d4040110102030405060708000000010000000b00010002000c0000", DP_WIRE_DROP_REFL },
		{ "114140110102030405060708000000010000000b00010002000c0000",
		  DP_WIRE_DROP_RESERVED },
		{ "115040110102030405060708000000010000000b00010002000c0000", DP_WIRE_DROP_FAMILY },
		{ "136040110102030405060708000000010000000b00010002000c0000",
		  DP_WIRE_DROP_TRUNCATED },
		{ "13404011010000000000000001020304050607080000000100000000b00010002000c0000",
		  DP_WIRE_DROP_FRAG_ZERO },
		{ "13404011000000020000000001020304050607080000000100000000b00010002000c0000",
		  DP_WIRE_DROP_FRAG_BITS },
		{ "114040110102030405060708000000000000000b00010002000c0000",
		  DP_WIRE_DROP_NULL_REF },
		{ "114040110909090905060708000000010000000b00010002000c0000",
		  DP_WIRE_DROP_SRC_CONTEXT },
		{ "114040110102030409090909000000010000000b00010002000c0000",
		  DP_WIRE_DROP_DST_CONTEXT },
		{ "114000110102030405060708000000010000000b00010002000c0000", XLATE_DROP_TTL },
		{ "114040320102030405060708000000010000000b00010002000c0000", XLATE_DROP_PROTOCOL },
		{ "114040110102030405060708000000010000000b0001000200", XLATE_DROP_L4_TRUNCATED },
		{ "114040060102030405060708000000010000000b00010002000c0000",
		  XLATE_DROP_L4_TRUNCATED },
		{ "114040010102030405060708000000010000000b0d000000", XLATE_DROP_ICMP_TYPE },
		{ "114040010102030405060708000000010000000b0801f7ff", XLATE_DROP_ICMP_TYPE },
		{ "114040010102030405060708000000010000000b0800", XLATE_DROP_L4_TRUNCATED },
		{ "114040110102030405060708000000010000000b00010002000c0000", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = wire_reason(cases[i].hex, "1.2.3.4", "5.6.7.8");
		if (got != cases[i].reason)
			fail_msg("case %zu: got %s, want %s", i, xlate_drop_name(got),
				 xlate_drop_name(cases[i].reason));
	}
	/* a peer behind NAT sends a zero source context; an unknown own address accepts any */
	assert_int_equal(wire_reason("114040110000000005060708000000010000000b00010002000c0000",
				     "1.2.3.4", "5.6.7.8"),
			 0);
	assert_int_equal(wire_reason("114040110102030409090909000000010000000b00010002000c0000",
				     "1.2.3.4", NULL),
			 0);
}

static int local_reason(const char *hex)
{
	uint8_t pkt[BUF];
	size_t len = vec_unhex(hex, pkt, sizeof(pkt));
	struct xlate_local p;
	int rc = xlate_local_parse(pkt, len, &p);

	return rc < 0 ? -rc : 0;
}

static void test_local_drops(void **state)
{
	static const struct {
		const char *hex;
		int reason;
	} cases[] = {
		{ "", XLATE_DROP_IP_TRUNCATED },
		{ "45000014000000004011", XLATE_DROP_IP_TRUNCATED },
		{ "5500001c000000004011000000000000000000000000000000000000",
		  XLATE_DROP_IP_VERSION },
		/* header checksum wrong, IHL too small, total length beyond the packet */
		{ "4500001c000000004011000001020304050607080000000000000000",
		  XLATE_DROP_IP_HEADER },
		{ "4400001c00000000401100000102030405060708000000000000000000",
		  XLATE_DROP_IP_HEADER },
		{ "4500009c0000000040116a3e0102030405060708000000000000000000",
		  XLATE_DROP_IP_TRUNCATED },
		/* TTL 0, an unknown protocol, a short UDP header, ICMP timestamp */
		{ "4500001c000000000011aabe01020304050607080000000000000000", XLATE_DROP_TTL },
		{ "4500001c0000000040326a9d01020304050607080000000000000000", XLATE_DROP_PROTOCOL },
		{ "450000180000000040116ac2010203040506070800000000", XLATE_DROP_L4_TRUNCATED },
		{ "4500001c0000000040016ace01020304050607080d00f2ff00000000",
		  XLATE_DROP_ICMP_TYPE },
		/* IPv4 options: an unexpired loose source route, a spent one, NOPs */
		{ "47000024000000004011dbaa010203040506070883070401020304000001000200080000",
		  XLATE_DROP_SOURCE_ROUTE },
		{ "47000024000000004011d7aa010203040506070883070801020304000001000200080000", 0 },
		{ "4600002000000000401167b90102030405060708010101000001000200080000", 0 },
		/* IPv6 hop-by-hop options are stripped; a routing header with hops left is not */
		{ "6000000000100001fd000000000000000000000000000001fd000000000000000000000000000002"
		  "11000000000000000001000200080000",
		  0 },
		{ "6000000000102b40fd000000000000000000000000000001fd000000000000000000000000000002"
		  "11000001000000000001000200080000",
		  XLATE_DROP_SOURCE_ROUTE },
		/* hop-by-hop after destination options; an extension after a Fragment header */
		{ "6000000000183c40fd000000000000000000000000000001fd000000000000000000000000000002"
		  "000000000000000011000000000000000001000200080000",
		  XLATE_DROP_IP_EXTENSION },
		{ "6000000000182c40fd000000000000000000000000000001fd000000000000000000000000000002"
		  "3c0000000000000011000000000000000001000200080000",
		  XLATE_DROP_IP_EXTENSION },
		/* SCTP: a protocol the tunnel does not carry */
		{ "6000000000088440fd000000000000000000000000000001fd000000000000000000000000000002"
		  "0000000000000000",
		  XLATE_DROP_PROTOCOL },
		/* IPv6: hop-by-hop options before a truncated UDP header */
		{ "6000000000080001fd000000000000000000000000000001fd000000000000000000000000000002"
		  "1100000000000000",
		  XLATE_DROP_L4_TRUNCATED },
		{ "6000000000081100fd000000000000000000000000000001fd000000000000000000000000000002"
		  "0001000200080000",
		  XLATE_DROP_TTL },
		{ "6000000000083a40fd000000000000000000000000000001fd000000000000000000000000000002"
		  "8700000000000000",
		  XLATE_DROP_ICMP_TYPE },
		{ "6000000000303a40fd000000000000000000000000000001fd000000000000000000000000000002"
		  "8700000000000000",
		  XLATE_DROP_IP_TRUNCATED },
		/* a fragmented ICMPv6 echo parses; to translate it, the caller must know its length
		 */
		{ "6000000000182c40fd000000000000000000000000000001fd000000000000000000000000000002"
		  "3a0000010000000180000000000000000000000000000000",
		  0 },
		/* a fragmented ICMPv6 error does not: its quote must be whole */
		{ "6000000000182c40fd000000000000000000000000000001fd000000000000000000000000000002"
		  "3a0000010000000101000000000000000000000000000000",
		  XLATE_DROP_ICMP_FRAGMENT },
		/* a well-formed UDP datagram */
		{ "4500001c0000000040116abe0102030405060708000100020008efc7", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = local_reason(cases[i].hex);
		if (got != cases[i].reason)
			fail_msg("case %zu: got %s, want %s", i, xlate_drop_name(got),
				 xlate_drop_name(cases[i].reason));
	}
}

/* A family mismatch in the lookups and a zero UDP checksum in a fragment to IPv6 are drops. */
static void test_inbound_refusals(void **state)
{
	uint8_t in[BUF], out[BUF];
	size_t len = vec_unhex(vectors[0].out, in, sizeof(in));
	struct dp_wire_addr outer = vec_addr("198.18.0.1"), own = vec_addr("198.18.0.2");
	struct xlate_remote r;
	struct xlate_in_map map = { .src = vec_addr("10.240.0.1"), .dst = vec_addr("fd00::1") };

	assert_int_equal(xlate_wire_parse(in, len, &outer, &own, &r), 0);
	assert_int_equal(xlate_to_local(&r, &map, out, sizeof(out)), -XLATE_DROP_FAMILY_MISMATCH);

	/* fragment info, UDP with checksum 0 */
	len = vec_unhex("13404011000000000000beef0102030405060708000000010000000b"
			"03e807d0006c0000000102030405",
			in, sizeof(in));
	outer = vec_addr("1.2.3.4");
	own = vec_addr("5.6.7.8");
	assert_int_equal(xlate_wire_parse(in, len, &outer, &own, &r), 0);
	map.src = vec_addr("fdee::1");
	assert_int_equal(xlate_to_local(&r, &map, out, sizeof(out)), -XLATE_DROP_UDP_ZERO_FRAGMENT);
	map.src = vec_addr("10.240.0.1");
	map.dst = vec_addr("10.0.0.1");
	assert_true(xlate_to_local(&r, &map, out, sizeof(out)) > 0);
}

/* The last level of a counter name: lowercase words joined by underscores. */
static bool counter_word(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return s[-1] != '_';
}

static const struct vector *vector_named(const char *name)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		if (strcmp(vectors[i].name, name) == 0)
			return &vectors[i];
	fail_msg("no vector %s", name);
	return NULL;
}

static struct {
	unsigned n;
	bool csum_asked; /* a header asked the kernel to compute a checksum */
	uint8_t pkt[BUF];
	size_t len;
} gro_out;

static void gro_collect(void *ctx, const struct vnet_hdr *h, const uint8_t *pkt, size_t len,
			unsigned segments)
{
	(void)ctx;
	(void)segments;
	gro_out.n++;
	gro_out.csum_asked |= (h->flags & VNET_F_NEEDS_CSUM) != 0;
	if (len <= sizeof(gro_out.pkt) && gro_out.n == 1) {
		memcpy(gro_out.pkt, pkt, len);
		gro_out.len = len;
	}
}

/*
 * The deployed gateway leaves about one TCP checksum in 65,536 unadjusted (a host's 0x0000 taken
 * as "none"). Such a segment must reach the host with a checksum that fails, as a corrupt one
 * would (the far host's addresses are unknown here, so it cannot be mended), and the offloads
 * must never merge it into a super-packet whose checksum the kernel would compute afresh:
 * it is counted (offload.tun_gro_bad_checksum) and written as it is.
 */
static void test_peer_tcp_checksum_unadjusted(void **state)
{
	static uint8_t gro_mem[GRO_FLOWS * GRO_MAX_LEN];
	const struct vector *v = vector_named("in_v4_tcpdata_v4");
	uint8_t in[BUF], out[BUF];
	size_t in_len = vec_unhex(v->in, in, sizeof(in));
	struct dp_wire_addr outer = vec_addr(v->outer), own = vec_addr(v->own);
	struct xlate_in_map map = { .src = vec_addr(v->src), .dst = vec_addr(v->dst) };
	struct xlate_remote r;
	struct dp_wire_hdr h;
	struct gro g;
	int hl = dp_wire_decode(in, in_len, &h), n;

	(void)state;
	assert_true(hl > 0);
	assert_int_not_equal((in[hl + 16] << 8 | in[hl + 17]), 0); /* the right value is not zero */
	in[hl + 16] = in[hl + 17] = 0;
	assert_int_equal(xlate_wire_parse(in, in_len, &outer, &own, &r), 0);
	n = xlate_to_local(&r, &map, out, sizeof(out));
	assert_true(n > 40);
	assert_int_not_equal(
		folded(sum_words(
			sum_words(sum_words(6 + (uint32_t)(n - 20), out + 12, 4), out + 16, 4),
			out + 20, (size_t)n - 20)),
		0xffff);
	gro_init(&g, gro_mem, gro_collect, NULL);
	memset(&gro_out, 0, sizeof(gro_out));
	gro_add(&g, out, (size_t)n);
	gro_flush(&g);
	assert_int_equal(g.bad_csum, 1);
	assert_int_equal(gro_out.n, 1);
	assert_false(gro_out.csum_asked);
	assert_int_equal(gro_out.len, (size_t)n);
	assert_memory_equal(gro_out.pkt, out, (size_t)n);
}

/* The TUN device's own link traffic (MLD reports, solicitations, IGMP) is told from forwarding. */
static void test_link_traffic(void **state)
{
	static const struct {
		const char *dst;
		bool link;
	} cases[] = {
		{ "ff02::16", true },	 { "ff02::2", true },	      { "ff05::1:3", true },
		{ "fe80::1", true },	 { "febf::1", true },	      { "fec0::1", false },
		{ "fdee::9", false },	 { "2001:db8::1", false },    { "224.0.0.22", true },
		{ "239.1.2.3", true },	 { "255.255.255.255", true }, { "169.254.1.1", true },
		{ "10.240.0.9", false }, { "192.0.2.255", false },    { "223.255.255.255", false },
	};
	uint8_t pkt[40];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool v6 = strchr(cases[i].dst, ':') != NULL;
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = v6 ? 0x60 : 0x45;
		assert_int_equal(
			inet_pton(v6 ? AF_INET6 : AF_INET, cases[i].dst, pkt + (v6 ? 24 : 16)), 1);
		assert_int_equal(xlate_local_is_link_traffic(pkt, v6 ? 40 : 20), cases[i].link);
		/* cut short, it is no packet at all, and parsing refuses it */
		assert_false(xlate_local_is_link_traffic(pkt, v6 ? 39 : 19));
	}
	pkt[0] = 0x50;
	assert_false(xlate_local_is_link_traffic(pkt, sizeof(pkt)));
}

static void test_drop_names(void **state)
{
	for (int i = 1; i < XLATE_DROP_COUNT; i++) {
		const char *name = xlate_drop_name(i);
		assert_string_not_equal(name, "unknown");
		if (!counter_word(name))
			fail_msg("drop.%s breaks the counter naming rule", name);
		for (int j = 1; j < i; j++)
			assert_string_not_equal(name, xlate_drop_name(j));
	}
	assert_string_equal(xlate_drop_name(0), "unknown");
	assert_string_equal(xlate_drop_name(XLATE_DROP_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_capture_is_a_vector),
		cmocka_unit_test(test_wire_drops),
		cmocka_unit_test(test_local_drops),
		cmocka_unit_test(test_inbound_refusals),
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_link_traffic),
		cmocka_unit_test(test_peer_tcp_checksum_unadjusted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
