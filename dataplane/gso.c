/* Segmentation of TCP (TSO) and UDP (USO) super-packets, as a NIC would do it, into caller buffers.
 */
#include "gso.h"

#include <string.h>

#include "checksum.h"
#include "wire.h"
#include "xlate_local.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

const char *gso_drop_name(int reason)
{
	static const char *const names[GSO_DROP_COUNT] = {
		[GSO_DROP_VNET] = "vnet_header",  [GSO_DROP_TYPE] = "gso_type",
		[GSO_DROP_HEADER] = "gso_header", [GSO_DROP_SIZE] = "gso_size",
		[GSO_DROP_CSUM] = "csum_offset",  [GSO_DROP_SEG_ROOM] = "gso_segment_room",
	};

	return reason > 0 && reason < GSO_DROP_COUNT ? names[reason] : "unknown";
}

int gso_complete_csum(uint8_t *pkt, size_t len, size_t csum_start, size_t csum_offset)
{
	uint16_t sum;

	if (csum_start >= len || csum_offset > len - csum_start ||
	    len - csum_start - csum_offset < 2)
		return -GSO_DROP_CSUM;
	sum = (uint16_t)~dp_csum_add(0, pkt + csum_start, len - csum_start);
	xlate_put_be16(pkt + csum_start + csum_offset, sum ? sum : 0xffff);
	return 0;
}

/* The IP header: version, its length and the L4 protocol it announces. 0 or -GSO_DROP_HEADER. */
static int ip_header(const uint8_t *pkt, size_t len, uint8_t *ver, size_t *l3_len, uint8_t *proto)
{
	if (len < 1)
		return -GSO_DROP_HEADER;
	*ver = pkt[0] >> 4;
	if (*ver == 4) {
		if (len < XLATE_IPV4_HDR || (pkt[0] & 0xf) < 5 || (size_t)(pkt[0] & 0xf) * 4 > len)
			return -GSO_DROP_HEADER;
		/* a fragment cannot be segmented: its L4 header is elsewhere */
		if (xlate_be16(pkt + 6) & 0x3fff)
			return -GSO_DROP_HEADER;
		*l3_len = (size_t)(pkt[0] & 0xf) * 4;
		*proto = pkt[9];
		return 0;
	}
	if (*ver == 6 && len >= XLATE_IPV6_HDR) {
		/* the kernel segments only packets whose L4 header follows the fixed header */
		*l3_len = XLATE_IPV6_HDR;
		*proto = pkt[6];
		return 0;
	}
	return -GSO_DROP_HEADER;
}

int gso_begin(struct gso_split *s, const struct vnet_hdr *h, uint8_t *pkt, size_t len)
{
	uint8_t type = h->gso_type & ~VNET_GSO_ECN, want_proto;
	size_t l4_hdr, payload, count;
	int rc;

	if (type == VNET_GSO_NONE) {
		if (!(h->flags & VNET_F_NEEDS_CSUM))
			return 0;
		return gso_complete_csum(pkt, len, h->csum_start, h->csum_offset);
	}
	memset(s, 0, sizeof(*s));
	rc = ip_header(pkt, len, &s->ver, &s->l3_len, &s->proto);
	if (rc < 0)
		return rc;
	switch (type) {
	case VNET_GSO_TCPV4:
	case VNET_GSO_TCPV6:
		if (s->ver != (type == VNET_GSO_TCPV4 ? 4 : 6))
			return -GSO_DROP_TYPE;
		want_proto = DP_WIRE_PROTO_TCP;
		break;
	case VNET_GSO_UDP_L4:
		want_proto = DP_WIRE_PROTO_UDP;
		break;
	default:
		return -GSO_DROP_TYPE;
	}
	if (s->proto != want_proto)
		return -GSO_DROP_TYPE;
	if (s->proto == DP_WIRE_PROTO_TCP) {
		if (len < s->l3_len + 20)
			return -GSO_DROP_HEADER;
		l4_hdr = (size_t)(pkt[s->l3_len + 12] >> 4) * 4;
		if (l4_hdr < 20 || l4_hdr > len - s->l3_len)
			return -GSO_DROP_HEADER;
	} else {
		l4_hdr = DP_CSUM_UDP_HDR;
		if (len < s->l3_len + l4_hdr)
			return -GSO_DROP_HEADER;
	}
	/* the checksum to complete, when announced, must be the L4 header's own field */
	if ((h->flags & VNET_F_NEEDS_CSUM) &&
	    (h->csum_start != s->l3_len ||
	     h->csum_offset !=
		     (s->proto == DP_WIRE_PROTO_TCP ? DP_CSUM_TCP_FIELD : DP_CSUM_UDP_FIELD)))
		return -GSO_DROP_CSUM;
	if (h->gso_size == 0)
		return -GSO_DROP_SIZE;
	s->pkt = pkt;
	s->len = len;
	s->hdr_len = s->l3_len + l4_hdr;
	s->mss = h->gso_size;
	s->off = s->hdr_len;
	payload = len - s->hdr_len;
	count = payload ? (payload + s->mss - 1) / s->mss : 1;
	if (count > GSO_MAX_SEGS)
		return -GSO_DROP_SIZE;
	s->count = (unsigned)count;
	return (int)s->count;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	xlate_put_be16(p, (uint16_t)(v >> 16));
	xlate_put_be16(p + 2, (uint16_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)xlate_be16(p) << 16 | xlate_be16(p + 2);
}

/*
 * The L4 checksum of a segment whose payload sums to payload_sum: the pseudo-header and the L4
 * header (its field zero) are all that is left to sum. The payload starts at an even offset
 * of the L4 header (TCP's is a multiple of 4, UDP's 8), so the sums simply add.
 */
static uint16_t segment_csum(const struct gso_split *s, const uint8_t *out, uint16_t payload_sum,
			     size_t l4_len)
{
	const uint8_t tail[4] = { 0, s->proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len };
	size_t addrs = s->ver == 4 ? 8 : 32;
	uint16_t sum, check;

	sum = dp_csum_add(payload_sum, out + s->l3_len, s->hdr_len - s->l3_len);
	sum = dp_csum_add(sum, out + (s->ver == 4 ? 12 : 8), addrs);
	check = (uint16_t)~dp_csum_add(sum, tail, sizeof(tail));
	return s->proto == DP_WIRE_PROTO_UDP && check == 0 ? 0xffff : check;
}

int gso_next(struct gso_split *s, uint8_t *out, size_t cap)
{
	size_t chunk, total, field;
	uint8_t *l4 = out + s->l3_len;
	bool first = s->index == 0, last;
	uint16_t payload_sum;

	if (s->index >= s->count)
		return 0;
	chunk = s->len - s->off < s->mss ? s->len - s->off : s->mss;
	total = s->hdr_len + chunk;
	if (total > cap || total > 0xffff)
		return -GSO_DROP_SEG_ROOM;
	last = s->index + 1 == s->count;
	memcpy(out, s->pkt, s->hdr_len);
	/* one pass over the payload: copied and summed together */
	payload_sum = dp_csum_copy(0, out + s->hdr_len, s->pkt + s->off, chunk);
	if (s->ver == 4) {
		xlate_put_be16(out + 2, (uint16_t)total);
		xlate_put_be16(out + 4, (uint16_t)(xlate_be16(s->pkt + 4) + s->index));
		xlate_put_be16(out + 10, 0);
		xlate_put_be16(out + 10, (uint16_t)~dp_csum_add(0, out, s->l3_len));
	} else {
		xlate_put_be16(out + 4, (uint16_t)(total - XLATE_IPV6_HDR));
	}
	if (s->proto == DP_WIRE_PROTO_TCP) {
		put_be32(l4 + 4,
			 get_be32(s->pkt + s->l3_len + 4) + (uint32_t)(s->off - s->hdr_len));
		if (!last)
			l4[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (!first)
			l4[13] &= (uint8_t)~TCP_CWR;
	} else {
		xlate_put_be16(l4 + 4, (uint16_t)(total - s->l3_len));
	}
	field = s->proto == DP_WIRE_PROTO_TCP ? DP_CSUM_TCP_FIELD : DP_CSUM_UDP_FIELD;
	xlate_put_be16(l4 + field, 0);
	xlate_put_be16(l4 + field, segment_csum(s, out, payload_sum, total - s->l3_len));
	s->off += chunk;
	s->index++;
	return (int)total;
}
