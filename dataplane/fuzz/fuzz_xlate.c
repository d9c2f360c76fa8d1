/* Fuzzes both sides of translation: TUN packets to the wire and back, tunnel datagrams to hosts. */
#include <errno.h>
#include <string.h>

#include "checksum.h"
#include "fuzz.h"
#include "icmp_reply.h"
#include "xlate.h"

#define BUF (XLATE_PKT_MAX + 128)

static const uint8_t gw_a4[16] = { 198, 18, 0, 1 }, gw_b4[16] = { 198, 18, 0, 2 };
static const uint8_t gw_a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t gw_b6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static struct dp_wire_addr gw(uint8_t ver, bool a)
{
	struct dp_wire_addr addr = { .ver = ver };

	memcpy(addr.bytes, ver == 4 ? (a ? gw_a4 : gw_b4) : (a ? gw_a6 : gw_b6), 16);
	return addr;
}

/* 0 and 0xffff are the two zeros of one's complement. */
static bool csum_equiv(uint16_t a, uint16_t b)
{
	return a == b || ((a == 0 || a == 0xffff) && (b == 0 || b == 0xffff));
}

static bool is_drop(int rc)
{
	return rc < 0 && -rc < XLATE_DROP_COUNT && strcmp(xlate_drop_name(-rc), "unknown") != 0;
}

static bool is_icmp_error(const struct xlate_local *p)
{
	if (p->frag_off != 0 || p->l4_len < 1)
		return false;
	if (p->proto == DP_WIRE_PROTO_ICMP)
		return p->l4[0] == 3 || p->l4[0] == 11;
	return p->proto == XLATE_PROTO_ICMPV6 && p->l4[0] >= 1 && p->l4[0] <= 3;
}

/*
 * The pieces of an IPREF-layer fragmentation are datagrams a peer accepts, each within max,
 * whose data in order is the original's, offsets running on and the original's MF last.
 */
static void fragment(const uint8_t *wire, size_t n, size_t max, const struct xlate_remote *whole,
		     const struct dp_wire_addr *src, const struct dp_wire_addr *dst)
{
	static uint8_t piece[BUF];
	struct xlate_frag f;
	size_t done = 0;
	int len, rc = xlate_frag_begin(&f, wire, n, max, 0x5eed);
	struct xlate_remote r = { 0 };

	if (rc < 0) {
		FUZZ_CHECK(rc == -XLATE_DROP_TOO_BIG);
		return;
	}
	while ((len = xlate_frag_next(&f, piece, sizeof(piece))) > 0) {
		FUZZ_CHECK((size_t)len <= max);
		rc = xlate_wire_parse(piece, (size_t)len, src, dst, &r);
		/* a piece of UDP may end inside the header: the peer counts it, never misreads */
		if (rc == -XLATE_DROP_L4_TRUNCATED || rc == -XLATE_DROP_ICMP_FRAGMENT)
			return;
		FUZZ_CHECK(rc == 0 && r.hdr.has_frag && !r.hdr.df);
		FUZZ_CHECK(r.hdr.frag_off == whole->hdr.frag_off + done);
		FUZZ_CHECK(done + r.l4_len <= whole->l4_len);
		FUZZ_CHECK(memcmp(r.l4, whole->l4 + done, r.l4_len) == 0);
		done += r.l4_len;
	}
	FUZZ_CHECK(len == 0 && done == whole->l4_len);
	FUZZ_CHECK(r.hdr.more_frags == whole->hdr.more_frags);
	if (whole->hdr.has_frag)
		FUZZ_CHECK(r.hdr.frag_id == whole->hdr.frag_id);
}

/* The ICMPv6 pseudo-header's sum of an IPv6 packet, written out here from RFC 8200 8.1. */
static uint16_t icmp6_pseudo_of(const uint8_t *pkt, size_t n)
{
	uint8_t tail[8] = { 0, 0, (uint8_t)((n - 40) >> 8), (uint8_t)(n - 40), 0, 0, 0, 58 };

	return dp_csum_add(dp_csum_add(0, pkt + 8, 32), tail, sizeof(tail));
}

/*
 * The gateway's own error about a local packet: a packet of its family to the packet's source,
 * within the size every host takes, with its checksums right (it may quote anything, so it is
 * checked field by field rather than parsed for translation).
 */
static void answer_local(const struct xlate_local *p, const uint8_t *data, size_t size)
{
	static uint8_t out[BUF];
	static const enum icmp_reply_kind kinds[] = {
		ICMP_REPLY_HOST_UNREACHABLE, ICMP_REPLY_PROTO_UNREACHABLE, ICMP_REPLY_SOURCE_ROUTE,
		ICMP_REPLY_TOO_BIG,	     ICMP_REPLY_TIME_EXCEEDED,
	};
	if (!icmp_reply_local_allowed(p))
		return;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int n = icmp_reply_to_local(p, data, size, kinds[k], 1280, p->dst, out,
					    sizeof(out));
		if (n == -EINVAL)
			continue;
		FUZZ_CHECK(n > 0 && (size_t)n <= (p->ver == 4 ? 576u : 1280u));
		if (p->ver == 4) {
			FUZZ_CHECK(out[0] == 0x45 && out[9] == 1 &&
				   memcmp(out + 16, p->src, 4) == 0);
			FUZZ_CHECK(dp_csum_add(0, out, 20) == 0xffff);
			FUZZ_CHECK(dp_csum_add(0, out + 20, (size_t)n - 20) == 0xffff);
		} else {
			uint16_t pseudo = icmp6_pseudo_of(out, (size_t)n);
			FUZZ_CHECK(out[0] == 0x60 && out[6] == 58 &&
				   memcmp(out + 24, p->src, 16) == 0);
			FUZZ_CHECK(dp_csum_add(pseudo, out + 40, (size_t)n - 40) == 0xffff);
		}
	}
}

/*
 * A local packet goes out over an Internet of either family and comes back to its own family
 * with the addresses swapped back: the L4 bytes must survive, checksums up to their two zeros.
 */
static void tun_side(const uint8_t *data, size_t size, uint8_t net_ver, const struct ipr_ref *ref,
		     size_t frag_max)
{
	static uint8_t wire[BUF], back[BUF];
	struct xlate_local p, q;
	struct xlate_remote r;
	struct xlate_out_map out = { .src_ctx = gw(net_ver, true), .dst_ctx = gw(net_ver, false) };
	struct xlate_in_map in;
	int n, m, field, rc = xlate_local_parse(data, size, &p);
	uint32_t total;

	(void)xlate_local_is_link_traffic(data, size);

	if (rc == -XLATE_DROP_PROTOCOL || rc == -XLATE_DROP_SOURCE_ROUTE)
		answer_local(&p, data, size);
	if (rc < 0) {
		FUZZ_CHECK(is_drop(rc));
		return;
	}
	answer_local(&p, data, size);
	FUZZ_CHECK(p.l4 >= data && p.l4 + p.l4_len <= data + size);
	/* an ICMPv6 echo's first fragment, as if its last had told the length */
	if (xlate_local_icmp_frag(&p, &total) && p.frag_off == 0)
		p.icmp_len = (uint32_t)p.l4_len + 8 * (uint32_t)(size & 7);
	out.src_ref = *ref;
	out.dst_ref = (struct ipr_ref){ 0, 0x705 };
	n = xlate_to_wire(&p, &out, wire, sizeof(wire));
	if (n < 0) {
		FUZZ_CHECK(is_drop(n));
		return;
	}
	if (is_icmp_error(&p))
		FUZZ_CHECK((size_t)n <= DP_WIRE_HDR_MAX + 576);
	else
		FUZZ_CHECK((size_t)n > p.l4_len && (size_t)n <= p.l4_len + DP_WIRE_HDR_MAX);

	rc = xlate_wire_parse(wire, (size_t)n, &out.src_ctx, &out.dst_ctx, &r);
	if (rc == -XLATE_DROP_TTL)
		return;
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(r.hdr.ttl == p.ttl);
	FUZZ_CHECK(r.l4_len == p.l4_len || is_icmp_error(&p));
	FUZZ_CHECK(r.hdr.has_frag == p.is_frag && r.hdr.frag_off == p.frag_off);
	fragment(wire, (size_t)n, frag_max, &r, &out.src_ctx, &out.dst_ctx);

	r.icmp_len = p.icmp_len;
	memset(&in, 0, sizeof(in));
	in.src.ver = in.dst.ver = p.ver;
	memcpy(in.src.bytes, p.src, 16);
	memcpy(in.dst.bytes, p.dst, 16);
	m = xlate_to_local(&r, &in, back, sizeof(back));
	if (m < 0) {
		FUZZ_CHECK(is_drop(m));
		return;
	}
	rc = xlate_local_parse(back, (size_t)m, &q);
	if (rc == -XLATE_DROP_TTL)
		return;
	FUZZ_CHECK(rc == 0 && q.ver == p.ver && q.proto == p.proto);
	/* an error's quote is rebuilt (other header, length capped): only the rest compares */
	if (is_icmp_error(&p))
		return;
	FUZZ_CHECK(q.l4_len == p.l4_len);
	FUZZ_CHECK(memcmp(q.src, p.src, 16) == 0 && memcmp(q.dst, p.dst, 16) == 0);
	/* the checksum field this fragment carries, if any */
	field = p.proto == 6 || p.proto == 17
			? dp_csum_field_offset(p.proto, p.frag_off, p.more_frags, p.l4_len)
		: p.frag_off == 0 ? 2
				  : -1;
	for (size_t i = 0; i < p.l4_len; i++) {
		if (field >= 0 && (i == (size_t)field || i == (size_t)field + 1)) {
			uint16_t a = (uint16_t)(p.l4[field] << 8 | p.l4[field + 1]);
			uint16_t b = (uint16_t)(q.l4[field] << 8 | q.l4[field + 1]);
			/* IPv6 has no "no checksum": the way back computes a real one */
			FUZZ_CHECK(csum_equiv(a, b) || (p.ver == 6 && p.proto == 17 && a == 0));
			i = field + 1;
			continue;
		}
		FUZZ_CHECK(p.l4[i] == q.l4[i]);
	}
}

/* A datagram from the Internet becomes an IPv4 and an IPv6 packet, each of which parses. */
static void udp_side(const uint8_t *data, size_t size, uint8_t net_ver, bool own_known)
{
	static uint8_t out[BUF];
	struct dp_wire_addr outer = gw(net_ver, true), own = gw(net_ver, false);
	struct xlate_remote r;
	uint32_t total;
	int rc = xlate_wire_parse(data, size, &outer, own_known ? &own : NULL, &r);

	if (rc < 0) {
		FUZZ_CHECK(is_drop(rc));
		return;
	}
	FUZZ_CHECK(r.l4 >= data && r.l4 + r.l4_len == data + size);
	/* an echo's first fragment to an IPv6 host, as if its last had told the length */
	if (xlate_remote_icmp_frag(&r, 6, &total) && r.hdr.frag_off == 0)
		r.icmp_len = (uint32_t)r.l4_len + 8 * (uint32_t)(size & 7);
	if (icmp_reply_peer_allowed(&r)) {
		/* the gateway's own error goes back to the sender, which accepts it */
		struct xlate_remote e;
		struct dp_wire_addr replier = { .ver = r.hdr.ctx_ver }, sender = replier;
		int n = icmp_reply_to_peer(&r, data, size, ICMP_REPLY_HOST_UNREACHABLE, out,
					   sizeof(out));
		memcpy(replier.bytes, r.hdr.dst_ctx, 16);
		memcpy(sender.bytes, r.hdr.src_ctx, 16);
		FUZZ_CHECK(n > 0 && (size_t)n <= DP_WIRE_HDR_MAX + 576);
		FUZZ_CHECK(xlate_wire_parse(out, (size_t)n, &replier, &sender, &e) == 0);
		FUZZ_CHECK(icmp_reply_peer_allowed(&e) == false); /* never answered in turn */
	}
	for (uint8_t ver = 4; ver <= 6; ver += 2) {
		struct xlate_in_map in = { .src = gw(ver, true), .dst = gw(ver, false) };
		struct xlate_local q;
		int n = xlate_to_local(&r, &in, out, sizeof(out));

		if (n < 0) {
			FUZZ_CHECK(is_drop(n));
			continue;
		}
		rc = xlate_local_parse(out, (size_t)n, &q);
		FUZZ_CHECK(rc == 0 || rc == -XLATE_DROP_TTL);
		if (rc < 0)
			continue;
		FUZZ_CHECK(q.ttl == r.hdr.ttl);
		/* an error's quote is rebuilt with a local header: its length changes */
		if (r.hdr.proto != DP_WIRE_PROTO_ICMP || r.hdr.frag_off != 0 ||
		    (r.l4[0] != 3 && r.l4[0] != 11))
			FUZZ_CHECK(q.l4_len == r.l4_len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipr_ref ref = { 0, 0x1234 };
	uint8_t mode, net_ver;

	if (size < 1)
		return 0;
	/* the first byte picks the side, the Internet's family and the reference length */
	mode = data[0];
	net_ver = mode & 2 ? 6 : 4;
	if (mode & 4)
		ref.lo = 0xabcdef0123ULL;
	if (mode & 8)
		ref.hi = 0x0006000000000000ULL;
	if (mode & 1)
		udp_side(data + 1, size - 1, net_ver, !(mode & 16));
	else
		tun_side(data + 1, size - 1, net_ver, &ref, 36 + (size_t)(mode >> 5) * 200);
	return 0;
}
