/* Translating parsed packets between the local IP form and the IPREF tunnel form, both ways. */
#include "xlate.h"

#include <errno.h>
#include <string.h>

#include "checksum.h"
#include "xlate_local.h"

int xlate_wire_parse(const uint8_t *pkt, size_t len, const struct dp_wire_addr *outer_src,
		     const struct dp_wire_addr *own, struct xlate_remote *out)
{
	struct xlate_remote r;
	int hlen, rc;

	memset(&r, 0, sizeof(r));
	hlen = dp_wire_decode(pkt, len, &r.hdr);
	if (hlen < 0)
		return hlen;
	rc = dp_wire_check_contexts(&r.hdr, outer_src, own);
	if (rc < 0)
		return rc;
	r.l4 = pkt + hlen;
	r.l4_len = len - (size_t)hlen;
	/* a peer never forwards what has run out; 1 is for our kernel to expire, as routers do */
	if (r.hdr.ttl == 0) {
		*out = r;
		return -XLATE_DROP_TTL;
	}
	switch (r.hdr.proto) {
	case DP_WIRE_PROTO_TCP:
	case DP_WIRE_PROTO_UDP:
		if (dp_csum_field_offset(r.hdr.proto, r.hdr.frag_off, r.hdr.more_frags, r.l4_len) ==
		    -EBADMSG)
			return -XLATE_DROP_L4_TRUNCATED;
		break;
	case DP_WIRE_PROTO_ICMP:
		if (r.hdr.frag_off != 0)
			break;
		if (r.l4_len < 4)
			return -XLATE_DROP_L4_TRUNCATED;
		if (xlate_icmp_to_local(4, r.l4[0], r.l4[1]) < 0)
			return -XLATE_DROP_ICMP_TYPE;
		if (xlate_icmp_is_error(r.l4[0]) && r.hdr.has_frag)
			return -XLATE_DROP_ICMP_FRAGMENT;
		break;
	default:
		return -XLATE_DROP_PROTOCOL;
	}
	*out = r;
	return 0;
}

/*
 * Rewrites the ICMP type in l4 and fixes the checksum for the type and, from or to ICMPv6,
 * the pseudo-header (old_pseudo / new_pseudo: its sum, or 0 when the form has none).
 */
static void icmp_retype(uint8_t *l4, uint8_t type, uint16_t old_pseudo, uint16_t new_pseudo)
{
	uint8_t old_word[2] = { l4[0], l4[1] };
	uint16_t old_sum, new_sum;

	l4[0] = type;
	old_sum = dp_csum_add(old_pseudo, old_word, 2);
	new_sum = dp_csum_add(new_pseudo, l4, 2);
	xlate_put_be16(l4 + 2, dp_csum_update(xlate_be16(l4 + 2), old_sum, new_sum));
}

/* A local ICMP error (first fragment, type known: parse checked both). */
static bool is_icmp_error_local(const struct xlate_local *pkt)
{
	int tc;

	if (pkt->proto != (pkt->ver == 4 ? DP_WIRE_PROTO_ICMP : XLATE_PROTO_ICMPV6) ||
	    pkt->frag_off != 0)
		return false;
	tc = xlate_icmp_from_local(pkt->ver, pkt->l4[0], pkt->l4[1]);
	return tc >= 0 && xlate_icmp_is_error((uint8_t)(tc >> 8));
}

int xlate_to_wire(const struct xlate_local *pkt, const struct xlate_out_map *map, uint8_t *out,
		  size_t cap)
{
	struct dp_wire_hdr h;
	size_t addr_len = pkt->ver == 4 ? 4 : 16;
	uint8_t *l4;
	int hlen, off;

	memset(&h, 0, sizeof(h));
	h.version = DP_WIRE_VERSION;
	h.has_frag = pkt->is_frag;
	h.df = pkt->df;
	h.ctx_ver = map->dst_ctx.ver;
	/* the kernel decremented it on the way into the TUN device: one hop per gateway */
	h.ttl = pkt->ttl;
	h.proto = pkt->proto == XLATE_PROTO_ICMPV6 ? DP_WIRE_PROTO_ICMP : pkt->proto;
	h.more_frags = pkt->more_frags;
	h.frag_off = pkt->frag_off;
	h.frag_id = pkt->frag_id;
	/* an unknown own address travels as zero: the peer takes the outer source instead */
	if (map->src_ctx.ver == map->dst_ctx.ver)
		memcpy(h.src_ctx, map->src_ctx.bytes, sizeof(h.src_ctx));
	memcpy(h.dst_ctx, map->dst_ctx.bytes, sizeof(h.dst_ctx));
	h.src_ref = map->src_ref;
	h.dst_ref = map->dst_ref;

	if (!dp_wire_ctx_len(h.ctx_ver))
		return -XLATE_DROP_NO_CONTEXT;
	hlen = dp_wire_encode(&h, out, cap);
	if (hlen == -ENOSPC || (hlen > 0 && (size_t)hlen + pkt->l4_len > cap))
		return -XLATE_DROP_TOO_BIG;
	if (hlen < 0)
		return -XLATE_DROP_NO_SRC_REF; /* a null reference: the lookups gave nothing usable
						*/
	l4 = out + hlen;
	if (is_icmp_error_local(pkt)) {
		off = xlate_icmp_error_to_wire(pkt, map, l4, cap - (size_t)hlen);
		return off < 0 ? off : hlen + off;
	}
	memcpy(l4, pkt->l4, pkt->l4_len);

	if (pkt->proto == XLATE_PROTO_ICMPV6) {
		/* the pseudo-header holds the whole message's length; later fragments pass */
		if (pkt->is_frag && pkt->frag_off == 0 && !pkt->icmp_len)
			return -XLATE_DROP_ICMP_FRAGMENT;
		if (pkt->frag_off == 0)
			icmp_retype(
				l4, (uint8_t)(xlate_icmp_from_local(6, l4[0], l4[1]) >> 8),
				xlate_icmp6_pseudo_sum(pkt->src, pkt->dst,
						       pkt->is_frag ? pkt->icmp_len : pkt->l4_len),
				0);
	} else if (pkt->proto != DP_WIRE_PROTO_ICMP) {
		off = dp_csum_field_offset(pkt->proto, pkt->frag_off, pkt->more_frags, pkt->l4_len);
		if (off >= 0) {
			uint16_t check = dp_csum_strip_addrs(pkt->proto, xlate_be16(l4 + off),
							     pkt->src, pkt->dst, addr_len);
			/*
			 * A TCP zero leaves as -0, the same value to the arithmetic: the deployed
			 * gateway takes a 0x0000 field for "no checksum" and would pass it on
			 * unadjusted (docs/dataplane.md, Peers with bugs).
			 */
			if (pkt->proto == DP_WIRE_PROTO_TCP && check == 0)
				check = 0xffff;
			xlate_put_be16(l4 + off, check);
		}
	}
	return hlen + (int)pkt->l4_len;
}

/* TCP and UDP get the new addresses in their checksum; a zero UDP checksum needs care for IPv6. */
static int fill_l4_checksum(const struct xlate_remote *pkt, const struct xlate_in_map *map,
			    uint8_t *l4)
{
	const struct dp_wire_hdr *h = &pkt->hdr;
	size_t addr_len = map->dst.ver == 4 ? 4 : 16;
	int off = dp_csum_field_offset(h->proto, h->frag_off, h->more_frags, pkt->l4_len);
	uint16_t check;

	if (off < 0)
		return 0;
	check = xlate_be16(l4 + off);
	if (h->proto == DP_WIRE_PROTO_UDP && check == 0 && map->dst.ver == 6) {
		/* IPv6 has no "no checksum": compute it, which needs the whole datagram */
		if (h->has_frag)
			return -XLATE_DROP_UDP_ZERO_FRAGMENT;
		check = dp_csum_l4(h->proto, map->src.bytes, map->dst.bytes, 16, l4, pkt->l4_len);
	} else {
		check = dp_csum_fill_addrs(h->proto, check, map->src.bytes, map->dst.bytes,
					   addr_len);
	}
	xlate_put_be16(l4 + off, check);
	return 0;
}

/* An ICMP error: its length is known only once the quote is translated, so the IP header last. */
static int icmp_error_to_local(const struct xlate_remote *pkt, const struct xlate_in_map *map,
			       uint8_t *out, size_t cap)
{
	const struct dp_wire_hdr *h = &pkt->hdr;
	struct xlate_local_hdr lh;
	size_t room = map->dst.ver == 4 ? XLATE_IPV4_HDR : XLATE_IPV6_HDR;
	int n, hlen;

	if (cap < room)
		return -XLATE_DROP_TOO_BIG;
	n = xlate_icmp_error_to_local(pkt, map, out + room, cap - room);
	if (n < 0)
		return n;
	memset(&lh, 0, sizeof(lh));
	lh.ver = map->dst.ver;
	lh.src = map->src.bytes;
	lh.dst = map->dst.bytes;
	lh.ttl = h->ttl; /* decremented by the kernel as it forwards from the TUN device */
	lh.proto = lh.ver == 6 ? XLATE_PROTO_ICMPV6 : DP_WIRE_PROTO_ICMP;
	lh.df = h->df;
	lh.id16 = h->df ? 0 : map->ipv4_id;
	lh.l4_len = (size_t)n;
	hlen = xlate_local_header(&lh, out, room + (size_t)n);
	return hlen < 0 ? hlen : hlen + n;
}

int xlate_to_local(const struct xlate_remote *pkt, const struct xlate_in_map *map, uint8_t *out,
		   size_t cap)
{
	const struct dp_wire_hdr *h = &pkt->hdr;
	struct xlate_local_hdr lh;
	uint8_t *l4;
	int hlen, rc;

	if (map->src.ver != map->dst.ver || (map->dst.ver != 4 && map->dst.ver != 6))
		return -XLATE_DROP_FAMILY_MISMATCH;
	if (h->proto == DP_WIRE_PROTO_ICMP && map->dst.ver == 6 && h->has_frag &&
	    h->frag_off == 0 && !pkt->icmp_len)
		return -XLATE_DROP_ICMP_FRAGMENT;
	if (h->proto == DP_WIRE_PROTO_ICMP && h->frag_off == 0 && xlate_icmp_is_error(pkt->l4[0]))
		return icmp_error_to_local(pkt, map, out, cap);
	memset(&lh, 0, sizeof(lh));
	lh.ver = map->dst.ver;
	lh.src = map->src.bytes;
	lh.dst = map->dst.bytes;
	lh.ttl = h->ttl; /* decremented by the kernel as it forwards from the TUN device */
	lh.proto = h->proto == DP_WIRE_PROTO_ICMP && lh.ver == 6 ? XLATE_PROTO_ICMPV6 : h->proto;
	lh.df = h->df;
	lh.is_frag = h->has_frag;
	lh.more_frags = h->more_frags;
	lh.frag_off = h->frag_off;
	lh.frag_id = h->frag_id;
	/* IPv4 keeps the low 16 bits of the identification (spec/wire.md, Fragments) */
	lh.id16 = h->has_frag ? (uint16_t)h->frag_id : h->df ? 0 : map->ipv4_id;
	lh.l4_len = pkt->l4_len;
	hlen = xlate_local_header(&lh, out, cap);
	if (hlen < 0)
		return hlen;
	l4 = out + hlen;
	memcpy(l4, pkt->l4, pkt->l4_len);

	if (h->proto == DP_WIRE_PROTO_ICMP) {
		if (lh.ver == 6 && h->frag_off == 0)
			icmp_retype(
				l4, (uint8_t)(xlate_icmp_to_local(6, l4[0], l4[1]) >> 8), 0,
				xlate_icmp6_pseudo_sum(map->src.bytes, map->dst.bytes,
						       h->has_frag ? pkt->icmp_len : pkt->l4_len));
	} else {
		rc = fill_l4_checksum(pkt, map, l4);
		if (rc < 0)
			return rc;
	}
	return hlen + (int)pkt->l4_len;
}

/* The message's length from its last fragment, which ends it. */
static uint32_t total_from_last(bool more_frags, uint16_t frag_off, size_t l4_len)
{
	return more_frags ? 0 : (uint32_t)frag_off + (uint32_t)l4_len;
}

bool xlate_local_icmp_frag(const struct xlate_local *pkt, uint32_t *total)
{
	if (pkt->ver != 6 || pkt->proto != XLATE_PROTO_ICMPV6 || !pkt->is_frag)
		return false;
	*total = total_from_last(pkt->more_frags, pkt->frag_off, pkt->l4_len);
	return true;
}

bool xlate_remote_icmp_frag(const struct xlate_remote *pkt, uint8_t local_ver, uint32_t *total)
{
	const struct dp_wire_hdr *h = &pkt->hdr;

	if (local_ver != 6 || h->proto != DP_WIRE_PROTO_ICMP || !h->has_frag)
		return false;
	*total = total_from_last(h->more_frags, h->frag_off, pkt->l4_len);
	return true;
}

const char *xlate_drop_name(int reason)
{
	static const char *const names[XLATE_DROP_COUNT - DP_WIRE_DROP_COUNT] = {
		[XLATE_DROP_IP_TRUNCATED - DP_WIRE_DROP_COUNT] = "ip_truncated",
		[XLATE_DROP_IP_VERSION - DP_WIRE_DROP_COUNT] = "ip_version",
		[XLATE_DROP_IP_HEADER - DP_WIRE_DROP_COUNT] = "ip_header",
		[XLATE_DROP_IP_EXTENSION - DP_WIRE_DROP_COUNT] = "ipv6_extension",
		[XLATE_DROP_TTL - DP_WIRE_DROP_COUNT] = "ttl_exceeded",
		[XLATE_DROP_PROTOCOL - DP_WIRE_DROP_COUNT] = "protocol",
		[XLATE_DROP_ICMP_TYPE - DP_WIRE_DROP_COUNT] = "icmp_type",
		[XLATE_DROP_ICMP_FRAGMENT - DP_WIRE_DROP_COUNT] = "icmp_fragment",
		[XLATE_DROP_L4_TRUNCATED - DP_WIRE_DROP_COUNT] = "l4_truncated",
		[XLATE_DROP_UDP_ZERO_FRAGMENT - DP_WIRE_DROP_COUNT] = "udp_zero_checksum_fragment",
		[XLATE_DROP_TOO_BIG - DP_WIRE_DROP_COUNT] = "too_big",
		[XLATE_DROP_ICMP_QUOTE - DP_WIRE_DROP_COUNT] = "icmp_quote",
		[XLATE_DROP_NO_DST_MAPPING - DP_WIRE_DROP_COUNT] = "no_destination_mapping",
		[XLATE_DROP_NO_SRC_REF - DP_WIRE_DROP_COUNT] = "no_source_reference",
		[XLATE_DROP_NOT_OURS - DP_WIRE_DROP_COUNT] = "not_our_reference",
		[XLATE_DROP_NO_SRC_EA - DP_WIRE_DROP_COUNT] = "no_source_encoded_address",
		[XLATE_DROP_WAIT_TIMEOUT - DP_WIRE_DROP_COUNT] = "wait_timeout",
		[XLATE_DROP_NO_CONTEXT - DP_WIRE_DROP_COUNT] = "no_context",
		[XLATE_DROP_FAMILY_MISMATCH - DP_WIRE_DROP_COUNT] = "family_mismatch",
		[XLATE_DROP_SEND_FAILED - DP_WIRE_DROP_COUNT] = "send_failed",
		[XLATE_DROP_SOURCE_ROUTE - DP_WIRE_DROP_COUNT] = "source_route",
		[XLATE_DROP_PATH_MTU - DP_WIRE_DROP_COUNT] = "path_mtu",
	};

	if (reason > 0 && reason < DP_WIRE_DROP_COUNT)
		return dp_wire_drop_name((enum dp_wire_drop)reason);
	if (reason < DP_WIRE_DROP_COUNT || reason >= XLATE_DROP_COUNT ||
	    !names[reason - DP_WIRE_DROP_COUNT])
		return "unknown";
	return names[reason - DP_WIRE_DROP_COUNT];
}
