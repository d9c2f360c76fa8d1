/* ICMP across the tunnel: type and code maps, errors with their quoted packet translated too. */
#include <errno.h>
#include <string.h>

#include "checksum.h"
#include "xlate_local.h"

#define ICMP_ECHO_REPLY	 0
#define ICMP_UNREACH	 3
#define ICMP_ECHO	 8
#define ICMP_TIME	 11
#define ICMP6_UNREACH	 1
#define ICMP6_TOO_BIG	 2
#define ICMP6_TIME	 3
#define ICMP6_ECHO	 128
#define ICMP6_ECHO_REPLY 129
/* Destination-unreachable codes on the wire (spec/wire.md): port is 2, not ICMPv4's 3. */
#define WIRE_NET	 0
#define WIRE_HOST	 1
#define WIRE_PORT	 2
#define WIRE_NEEDFRAG	 4
#define WIRE_PROHIBITED	 13
#define ICMP_HDR	 8
#define WIRE_ERROR_MAX	 576  /* an error with its quote, on the wire */
#define LOCAL4_ERROR_MAX 548  /* so that the IPv4 datagram stays within 576 bytes */
#define LOCAL6_ERROR_MAX 1232 /* so that the IPv6 packet stays within 1280 bytes */
#define TC(type, code)	 ((type) << 8 | (code))

bool xlate_icmp_is_error(uint8_t wire_type)
{
	return wire_type == ICMP_UNREACH || wire_type == ICMP_TIME;
}

int xlate_icmp_from_local(uint8_t ver, uint8_t type, uint8_t code)
{
	if (ver == 4) {
		switch (TC(type, code)) {
		case TC(ICMP_ECHO_REPLY, 0):
		case TC(ICMP_ECHO, 0):
		case TC(ICMP_UNREACH, 0):
		case TC(ICMP_UNREACH, 1):
		case TC(ICMP_UNREACH, 4):
		case TC(ICMP_UNREACH, 13):
		case TC(ICMP_TIME, 0):
		case TC(ICMP_TIME, 1):
			return TC(type, code);
		case TC(ICMP_UNREACH, 3):
			return TC(ICMP_UNREACH, WIRE_PORT);
		}
		return -1;
	}
	switch (TC(type, code)) {
	case TC(ICMP6_ECHO, 0):
		return TC(ICMP_ECHO, 0);
	case TC(ICMP6_ECHO_REPLY, 0):
		return TC(ICMP_ECHO_REPLY, 0);
	case TC(ICMP6_UNREACH, 0):
		return TC(ICMP_UNREACH, WIRE_NET);
	case TC(ICMP6_UNREACH, 1):
		return TC(ICMP_UNREACH, WIRE_PROHIBITED);
	case TC(ICMP6_UNREACH, 3):
		return TC(ICMP_UNREACH, WIRE_HOST);
	case TC(ICMP6_UNREACH, 4):
		return TC(ICMP_UNREACH, WIRE_PORT);
	case TC(ICMP6_TOO_BIG, 0):
		return TC(ICMP_UNREACH, WIRE_NEEDFRAG);
	case TC(ICMP6_TIME, 0):
		return TC(ICMP_TIME, 0);
	case TC(ICMP6_TIME, 1):
		return TC(ICMP_TIME, 1);
	}
	return -1;
}

int xlate_icmp_to_local(uint8_t ver, uint8_t type, uint8_t code)
{
	int tc = TC(type, code);

	switch (tc) {
	case TC(ICMP_ECHO_REPLY, 0):
		return ver == 4 ? tc : TC(ICMP6_ECHO_REPLY, 0);
	case TC(ICMP_ECHO, 0):
		return ver == 4 ? tc : TC(ICMP6_ECHO, 0);
	case TC(ICMP_UNREACH, WIRE_NET):
		return ver == 4 ? tc : TC(ICMP6_UNREACH, 0);
	case TC(ICMP_UNREACH, WIRE_HOST):
		return ver == 4 ? tc : TC(ICMP6_UNREACH, 3);
	case TC(ICMP_UNREACH, WIRE_PORT):
		return ver == 4 ? TC(ICMP_UNREACH, 3) : TC(ICMP6_UNREACH, 4);
	case TC(ICMP_UNREACH, WIRE_NEEDFRAG):
		return ver == 4 ? tc : TC(ICMP6_TOO_BIG, 0);
	case TC(ICMP_UNREACH, WIRE_PROHIBITED):
		return ver == 4 ? tc : TC(ICMP6_UNREACH, 1);
	case TC(ICMP_TIME, 0):
	case TC(ICMP_TIME, 1):
		return ver == 4 ? tc : TC(ICMP6_TIME, code);
	}
	return -1;
}

uint16_t xlate_icmp6_pseudo_sum(const uint8_t *src, const uint8_t *dst, size_t len)
{
	uint8_t tail[8] = { 0 };

	tail[2] = (uint8_t)(len >> 8);
	tail[3] = (uint8_t)len;
	tail[7] = XLATE_PROTO_ICMPV6;
	return dp_csum_add(dp_csum_add(dp_csum_add(0, src, 16), dst, 16), tail, sizeof(tail));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)xlate_be16(p) << 16 | xlate_be16(p + 2);
}

/*
 * The "fragmentation needed" MTU on the wire (spec/wire.md): the deployed gateway reads it as
 * the L4 bytes that fit plus 76 (its largest IPREF header), whatever headers the packet had, so
 * that is what we write: it then tells its hosts exactly their path MTU. We read it by the same
 * rule, which gives our own values back exact and keeps the deployed writer's (host-side MTU
 * minus 28, an understatement by at least 20 bytes) below the truth. Any other offset would
 * move loss from one direction to the other, never remove it, and a too-large value is a
 * black hole where a too-small one only costs efficiency.
 */
static uint32_t mtu_to_wire(uint32_t host_mtu, size_t local_hdr)
{
	if (host_mtu < local_hdr)
		return DP_WIRE_HDR_MAX;
	host_mtu = host_mtu - (uint32_t)local_hdr + DP_WIRE_HDR_MAX;
	return host_mtu > 0xffff ? 0xffff : host_mtu;
}

static uint32_t mtu_from_wire(uint32_t field, size_t local_hdr)
{
	if (field < DP_WIRE_HDR_MAX)
		return (uint32_t)local_hdr;
	return field - DP_WIRE_HDR_MAX + (uint32_t)local_hdr;
}

/* Adjusts a quoted packet's TCP/UDP checksum, when the quote reaches that far. */
static void quoted_l4_checksum(uint8_t proto, uint16_t frag_off, uint8_t *l4, size_t len,
			       const uint8_t *src, const uint8_t *dst, size_t addr_len, bool fill)
{
	int off;

	if (proto != DP_WIRE_PROTO_TCP && proto != DP_WIRE_PROTO_UDP)
		return;
	/* a quote ends anywhere: as if more followed, so that a short one is no error */
	off = dp_csum_field_offset(proto, frag_off, true, len);
	if (off < 0 || (size_t)off + 2 > len)
		return;
	xlate_put_be16(l4 + off,
		       fill ? dp_csum_fill_addrs(proto, xlate_be16(l4 + off), src, dst, addr_len)
			    : dp_csum_strip_addrs(proto, xlate_be16(l4 + off), src, dst, addr_len));
}

int xlate_icmp_error_to_wire(const struct xlate_local *pkt, const struct xlate_out_map *map,
			     uint8_t *out, size_t cap)
{
	const uint8_t *icmp = pkt->l4;
	struct xlate_local q;
	struct dp_wire_hdr h;
	size_t addr_len = pkt->ver == 4 ? 4 : 16, quote_l4;
	int tc = xlate_icmp_from_local(pkt->ver, icmp[0], icmp[1]), hlen;
	uint32_t mtu;

	if (pkt->l4_len < ICMP_HDR ||
	    xlate_local_parse_quoted(icmp + ICMP_HDR, pkt->l4_len - ICMP_HDR, &q) < 0)
		return -XLATE_DROP_ICMP_QUOTE;
	/*
	 * The quoted packet came from the remote host to a local one: the roles of the outer swap,
	 * unless a router (or the gateway's kernel) sent the error about another host's packet.
	 */
	if (q.ver != pkt->ver || memcmp(q.src, pkt->dst, addr_len) != 0 ||
	    (!map->has_quote_ref && memcmp(q.dst, pkt->src, addr_len) != 0))
		return -XLATE_DROP_ICMP_QUOTE;
	memset(&h, 0, sizeof(h));
	h.version = DP_WIRE_VERSION;
	h.ctx_ver = map->dst_ctx.ver;
	memcpy(h.src_ctx, map->dst_ctx.bytes, 16);
	if (map->src_ctx.ver == map->dst_ctx.ver)
		memcpy(h.dst_ctx, map->src_ctx.bytes, 16);
	h.src_ref = map->dst_ref;
	h.dst_ref = map->has_quote_ref ? map->quote_ref : map->src_ref;
	h.ttl = q.ttl;
	h.proto = q.proto == XLATE_PROTO_ICMPV6 ? DP_WIRE_PROTO_ICMP : q.proto;
	h.df = q.df;
	h.has_frag = q.is_frag;
	h.more_frags = q.more_frags;
	h.frag_off = q.frag_off;
	h.frag_id = q.frag_id;

	if (cap < ICMP_HDR)
		return -XLATE_DROP_TOO_BIG;
	memset(out, 0, ICMP_HDR);
	out[0] = (uint8_t)(tc >> 8);
	out[1] = (uint8_t)tc;
	if (tc == TC(ICMP_UNREACH, WIRE_NEEDFRAG)) {
		/* the reported packet's own headers: an IPv6 fragment's count against the MTU */
		mtu = pkt->ver == 4 ? xlate_be16(icmp + 6) : get32(icmp + 4);
		mtu = mtu_to_wire(mtu, pkt->ver == 4 ? XLATE_IPV4_HDR
						     : XLATE_IPV6_HDR +
							       (q.is_frag ? XLATE_IPV6_FRAG : 0));
		xlate_put_be16(out + 6, (uint16_t)mtu);
	}
	hlen = dp_wire_encode(&h, out + ICMP_HDR, cap - ICMP_HDR);
	if (hlen < 0)
		return hlen == -ENOSPC ? -XLATE_DROP_TOO_BIG : -XLATE_DROP_ICMP_QUOTE;
	quote_l4 = q.l4_len;
	if (ICMP_HDR + (size_t)hlen + quote_l4 > WIRE_ERROR_MAX)
		quote_l4 = WIRE_ERROR_MAX - ICMP_HDR - (size_t)hlen;
	if (ICMP_HDR + (size_t)hlen + quote_l4 > cap)
		return -XLATE_DROP_TOO_BIG;
	uint8_t *l4 = out + ICMP_HDR + hlen;
	memcpy(l4, q.l4, quote_l4);
	quoted_l4_checksum(q.proto, q.frag_off, l4, quote_l4, q.src, q.dst, addr_len, false);
	/* a quoted ICMPv6 echo becomes IPREF-ICMP like any other (its checksum is moot) */
	if (q.proto == XLATE_PROTO_ICMPV6 && q.frag_off == 0 && quote_l4 >= 2) {
		int e = xlate_icmp_from_local(6, l4[0], l4[1]);
		if (e >= 0)
			l4[0] = (uint8_t)(e >> 8);
	}
	size_t len = ICMP_HDR + (size_t)hlen + quote_l4;
	xlate_put_be16(out + 2, (uint16_t)~dp_csum_add(0, out, len));
	return (int)len;
}

int xlate_icmp_error_to_local(const struct xlate_remote *pkt, const struct xlate_in_map *map,
			      uint8_t *out, size_t cap)
{
	const uint8_t *icmp = pkt->l4;
	struct xlate_local_hdr lh;
	struct dp_wire_hdr q;
	size_t max = map->dst.ver == 4 ? LOCAL4_ERROR_MAX : LOCAL6_ERROR_MAX, quote_l4;
	int tc, qhlen, hlen;
	uint8_t *l4;

	if (pkt->l4_len < ICMP_HDR)
		return -XLATE_DROP_ICMP_QUOTE;
	qhlen = dp_wire_decode(icmp + ICMP_HDR, pkt->l4_len - ICMP_HDR, &q);
	/* the quote is a packet this gateway sent: from our host to the error's sender, or past it
	 */
	if (qhlen < 0 || !ipr_ref_equal(&q.src_ref, &pkt->hdr.dst_ref) ||
	    (!map->has_quote_ea && !ipr_ref_equal(&q.dst_ref, &pkt->hdr.src_ref)))
		return -XLATE_DROP_ICMP_QUOTE;
	tc = xlate_icmp_to_local(map->dst.ver, icmp[0], icmp[1]);
	if (tc < 0 || cap < ICMP_HDR)
		return -XLATE_DROP_ICMP_TYPE;
	memset(out, 0, ICMP_HDR);
	out[0] = (uint8_t)(tc >> 8);
	out[1] = (uint8_t)tc;
	if (icmp[0] == ICMP_UNREACH && icmp[1] == WIRE_NEEDFRAG) {
		uint32_t mtu = mtu_from_wire(xlate_be16(icmp + 6),
					     map->dst.ver == 4 ? XLATE_IPV4_HDR : XLATE_IPV6_HDR);
		xlate_put_be16(out + 6, mtu > 0xffff ? 0xffff : (uint16_t)mtu);
	}

	/* built from the mappings, not from the quote: a peer cannot make it name another host */
	memset(&lh, 0, sizeof(lh));
	lh.ver = map->dst.ver;
	lh.src = map->dst.bytes;
	lh.dst = map->has_quote_ea ? map->quote_ea : map->src.bytes;
	lh.ttl = q.ttl;
	lh.proto = q.proto == DP_WIRE_PROTO_ICMP && lh.ver == 6 ? XLATE_PROTO_ICMPV6 : q.proto;
	lh.df = q.df;
	lh.is_frag = q.has_frag;
	lh.more_frags = q.more_frags;
	lh.frag_off = q.frag_off;
	lh.frag_id = q.frag_id;
	lh.id16 = (uint16_t)q.frag_id;
	quote_l4 = pkt->l4_len - ICMP_HDR - (size_t)qhlen;
	hlen = lh.ver == 4 ? XLATE_IPV4_HDR : XLATE_IPV6_HDR + (lh.is_frag ? XLATE_IPV6_FRAG : 0);
	if (ICMP_HDR + (size_t)hlen > max)
		return -XLATE_DROP_TOO_BIG;
	if (ICMP_HDR + (size_t)hlen + quote_l4 > max)
		quote_l4 = max - ICMP_HDR - (size_t)hlen;
	lh.l4_len = quote_l4;
	hlen = xlate_local_header(&lh, out + ICMP_HDR, cap - ICMP_HDR);
	if (hlen < 0)
		return hlen;
	l4 = out + ICMP_HDR + hlen;
	memcpy(l4, icmp + ICMP_HDR + qhlen, quote_l4);
	quoted_l4_checksum(q.proto, q.frag_off, l4, quote_l4, lh.src, lh.dst, lh.ver == 4 ? 4 : 16,
			   true);
	if (lh.proto == XLATE_PROTO_ICMPV6 && q.frag_off == 0 && quote_l4 >= 2) {
		int e = xlate_icmp_to_local(6, l4[0], l4[1]);
		if (e >= 0)
			l4[0] = (uint8_t)(e >> 8);
	}
	size_t len = ICMP_HDR + (size_t)hlen + quote_l4;
	uint16_t sum =
		lh.ver == 6 ? xlate_icmp6_pseudo_sum(map->src.bytes, map->dst.bytes, len) : 0;
	xlate_put_be16(out + 2, (uint16_t)~dp_csum_add(sum, out, len));
	return (int)len;
}

int xlate_local_quote_dst(const struct xlate_local *pkt, uint8_t *ver, uint8_t *addr)
{
	struct xlate_local q;
	int tc;

	if (pkt->proto != (pkt->ver == 4 ? DP_WIRE_PROTO_ICMP : XLATE_PROTO_ICMPV6) ||
	    pkt->frag_off != 0 || pkt->l4_len < ICMP_HDR)
		return -ENOENT;
	tc = xlate_icmp_from_local(pkt->ver, pkt->l4[0], pkt->l4[1]);
	if (tc < 0 || !xlate_icmp_is_error((uint8_t)(tc >> 8)) ||
	    xlate_local_parse_quoted(pkt->l4 + ICMP_HDR, pkt->l4_len - ICMP_HDR, &q) < 0)
		return -ENOENT;
	*ver = q.ver;
	memcpy(addr, q.dst, 16);
	return 0;
}

int xlate_remote_quote_dst(const struct xlate_remote *pkt, struct ipr_ref *ref)
{
	struct dp_wire_hdr q;

	if (pkt->hdr.proto != DP_WIRE_PROTO_ICMP || pkt->hdr.frag_off != 0 ||
	    pkt->l4_len < ICMP_HDR || !xlate_icmp_is_error(pkt->l4[0]) ||
	    dp_wire_decode(pkt->l4 + ICMP_HDR, pkt->l4_len - ICMP_HDR, &q) < 0)
		return -ENOENT;
	*ref = q.dst_ref;
	return 0;
}
