/* The local side of translation: parsing packets from the TUN device and building packets for it.
 */
#include "xlate_local.h"

#include <errno.h>
#include <string.h>

#include "checksum.h"

#define IPV4_DF		 0x4000
#define IPV4_MF		 0x2000
#define IPV4_OFF_MASK	 0x1fff
#define IPV6_NH_HOP	 0
#define IPV6_NH_ROUTING	 43
#define IPV6_NH_FRAG	 44
#define IPV6_NH_DSTOPTS	 60
#define IPV6_EXT_MAX	 8 /* extension headers looked through before giving up */
#define IPV4_OPT_EOL	 0
#define IPV4_OPT_NOP	 1
#define IPV4_OPT_LSRR	 131
#define IPV4_OPT_SSRR	 137
#define ICMP_ECHO_REPLY	 0
#define ICMP_ECHO	 8
#define ICMP6_ECHO	 128
#define ICMP6_ECHO_REPLY 129

uint16_t xlate_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void xlate_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	xlate_put_be16(p, (uint16_t)(v >> 16));
	xlate_put_be16(p + 2, (uint16_t)v);
}

/* Checks what the L4 header must hold for translation, once the IP layer is known good. */
static int check_l4(const struct xlate_local *p)
{
	bool first = p->frag_off == 0;
	int rc;

	if (p->proto == DP_WIRE_PROTO_TCP || p->proto == DP_WIRE_PROTO_UDP) {
		int off = dp_csum_field_offset(p->proto, p->frag_off, p->more_frags, p->l4_len);
		return off == -EBADMSG ? -XLATE_DROP_L4_TRUNCATED : 0;
	}
	if (p->proto != (p->ver == 4 ? DP_WIRE_PROTO_ICMP : XLATE_PROTO_ICMPV6))
		return -XLATE_DROP_PROTOCOL;
	if (!first)
		return 0;
	if (p->l4_len < 4)
		return -XLATE_DROP_L4_TRUNCATED;
	rc = xlate_icmp_from_local(p->ver, p->l4[0], p->l4[1]);
	if (rc < 0)
		return -XLATE_DROP_ICMP_TYPE;
	/* an error quotes a packet that must be translated too: it has to be whole here */
	if (xlate_icmp_is_error((uint8_t)(rc >> 8)) && p->is_frag)
		return -XLATE_DROP_ICMP_FRAGMENT;
	return 0;
}

/*
 * An unexpired loose or strict source route asks for hops the tunnel cannot make (RFC 7915
 * 4.1 likewise refuses to translate such a packet); any other option is simply left behind.
 */
static bool source_routed(const uint8_t *opt, size_t len)
{
	size_t i = 0;

	while (i < len && opt[i] != IPV4_OPT_EOL) {
		if (opt[i] == IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 2 > len || opt[i + 1] < 2 || i + opt[i + 1] > len)
			return false; /* malformed options: the kernel let it through, so do we */
		if ((opt[i] == IPV4_OPT_LSRR || opt[i] == IPV4_OPT_SSRR) && opt[i + 1] >= 3 &&
		    opt[i + 2] <= opt[i + 1])
			return true;
		i += opt[i + 1];
	}
	return false;
}

static int parse_v4(const uint8_t *pkt, size_t len, bool quoted, struct xlate_local *p)
{
	size_t ihl, total;
	uint16_t frag;

	if (len < XLATE_IPV4_HDR)
		return -XLATE_DROP_IP_TRUNCATED;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	total = xlate_be16(pkt + 2);
	frag = xlate_be16(pkt + 6);
	if (ihl < XLATE_IPV4_HDR || total < ihl)
		return -XLATE_DROP_IP_HEADER;
	/* a quoted packet is cut short by the error's sender: what is there is all there is */
	if (quoted && total > len)
		total = len;
	if (ihl > len || total > len)
		return -XLATE_DROP_IP_TRUNCATED;
	/* a correct header sums to -0 with its own checksum */
	if (!quoted && dp_csum_add(0, pkt, ihl) != 0xffff)
		return -XLATE_DROP_IP_HEADER;
	p->ttl = pkt[8];
	p->proto = pkt[9];
	p->proto_at = 9;
	memcpy(p->src, pkt + 12, 4);
	memcpy(p->dst, pkt + 16, 4);
	p->df = frag & IPV4_DF;
	p->more_frags = frag & IPV4_MF;
	p->frag_off = (uint16_t)((frag & IPV4_OFF_MASK) * 8);
	p->is_frag = p->more_frags || p->frag_off;
	p->frag_id = p->is_frag ? xlate_be16(pkt + 4) : 0;
	/* options say nothing a peer could use: they are left behind like the rest of the header */
	if (!quoted && ihl > XLATE_IPV4_HDR &&
	    source_routed(pkt + XLATE_IPV4_HDR, ihl - XLATE_IPV4_HDR))
		return -XLATE_DROP_SOURCE_ROUTE;
	p->l4 = pkt + ihl;
	p->l4_len = total - ihl;
	return 0;
}

/*
 * Hop-by-hop options, destination options and a routing header with no segments left are
 * stripped, as RFC 7915 5.1 does: they speak to this hop or to the final host, never to a
 * peer. A routing header with segments left asks for hops the tunnel cannot make. Returns
 * the offset of the first header after them, with *nh its type, or -reason.
 */
static int skip_extensions(const uint8_t *pkt, size_t end, size_t pos, uint8_t *nh, size_t *nh_at)
{
	for (int n = 0; n < IPV6_EXT_MAX; n++) {
		size_t len;

		if (*nh != IPV6_NH_HOP && *nh != IPV6_NH_DSTOPTS && *nh != IPV6_NH_ROUTING)
			return (int)pos;
		if (*nh == IPV6_NH_HOP && pos != XLATE_IPV6_HDR)
			return -XLATE_DROP_IP_EXTENSION; /* only allowed first (RFC 8200 4.1) */
		if (pos + 8 > end)
			return -XLATE_DROP_IP_TRUNCATED;
		len = ((size_t)pkt[pos + 1] + 1) * 8;
		if (pos + len > end)
			return -XLATE_DROP_IP_TRUNCATED;
		if (*nh == IPV6_NH_ROUTING && pkt[pos + 3] != 0)
			return -XLATE_DROP_SOURCE_ROUTE;
		*nh = pkt[pos];
		*nh_at = pos;
		pos += len;
	}
	return -XLATE_DROP_IP_EXTENSION;
}

static int parse_v6(const uint8_t *pkt, size_t len, bool quoted, struct xlate_local *p)
{
	size_t payload, end, nh_at = 6;
	int pos;
	uint8_t nh;

	if (len < XLATE_IPV6_HDR)
		return -XLATE_DROP_IP_TRUNCATED;
	payload = xlate_be16(pkt + 4);
	if (quoted && XLATE_IPV6_HDR + payload > len)
		payload = len - XLATE_IPV6_HDR;
	if (payload == 0 || XLATE_IPV6_HDR + payload > len)
		return -XLATE_DROP_IP_TRUNCATED; /* a jumbogram never comes through a TUN device */
	end = XLATE_IPV6_HDR + payload;
	nh = pkt[6];
	p->ttl = pkt[7];
	memcpy(p->src, pkt + 8, 16);
	memcpy(p->dst, pkt + 24, 16);
	/* IPv6 routers never fragment: the tunnel must not either */
	p->df = true;
	pos = skip_extensions(pkt, end, XLATE_IPV6_HDR, &nh, &nh_at);
	if (pos < 0)
		return pos;
	if (nh == IPV6_NH_FRAG) {
		uint16_t word;

		if ((size_t)pos + XLATE_IPV6_FRAG > end)
			return -XLATE_DROP_IP_TRUNCATED;
		nh = pkt[pos];
		nh_at = (size_t)pos;
		word = xlate_be16(pkt + pos + 2);
		p->frag_off = word & DP_WIRE_FRAG_OFF_MASK;
		p->more_frags = word & DP_WIRE_FRAG_MF;
		/* an atomic fragment (RFC 6946) is a whole packet */
		p->is_frag = p->frag_off || p->more_frags;
		p->frag_id = p->is_frag ? be32(pkt + pos + 4) : 0;
		pos += XLATE_IPV6_FRAG;
		/* what follows a Fragment header is the fragmentable part: only L4 is carried */
		if (nh == IPV6_NH_HOP || nh == IPV6_NH_DSTOPTS || nh == IPV6_NH_ROUTING ||
		    nh == IPV6_NH_FRAG)
			return -XLATE_DROP_IP_EXTENSION;
	}
	p->proto = nh;
	p->proto_at = (uint16_t)nh_at;
	p->l4 = pkt + pos;
	p->l4_len = end - (size_t)pos;
	return 0;
}

/* Parses the IP layer; a whole packet (not quoted) must also survive the TTL and its L4 checks. */
static int parse(const uint8_t *pkt, size_t len, bool quoted, struct xlate_local *out)
{
	struct xlate_local p;
	int rc;

	memset(&p, 0, sizeof(p));
	if (len < 1)
		return -XLATE_DROP_IP_TRUNCATED;
	p.ver = pkt[0] >> 4;
	if (p.ver == 4)
		rc = parse_v4(pkt, len, quoted, &p);
	else if (p.ver == 6)
		rc = parse_v6(pkt, len, quoted, &p);
	else
		rc = -XLATE_DROP_IP_VERSION;
	if (rc == 0 && !quoted && p.ttl == 0)
		rc = -XLATE_DROP_TTL;
	if (rc == 0 && !quoted)
		rc = check_l4(&p);
	/* these refusals are answered with an ICMP error, which needs the header's fields */
	if (rc == 0 || rc == -XLATE_DROP_PROTOCOL || rc == -XLATE_DROP_SOURCE_ROUTE)
		*out = p;
	return rc;
}

int xlate_local_parse(const uint8_t *pkt, size_t len, struct xlate_local *out)
{
	return parse(pkt, len, false, out);
}

int xlate_local_parse_quoted(const uint8_t *pkt, size_t len, struct xlate_local *out)
{
	return parse(pkt, len, true, out);
}

int xlate_local_header(const struct xlate_local_hdr *h, uint8_t *out, size_t cap)
{
	size_t hdr_len;

	if (h->ver == 4) {
		uint16_t frag = (uint16_t)(h->frag_off / 8 | (h->df ? IPV4_DF : 0) |
					   (h->more_frags ? IPV4_MF : 0));

		hdr_len = XLATE_IPV4_HDR;
		if (hdr_len + h->l4_len > XLATE_PKT_MAX || hdr_len + h->l4_len > cap)
			return -XLATE_DROP_TOO_BIG;
		memset(out, 0, hdr_len);
		out[0] = 0x45;
		xlate_put_be16(out + 2, (uint16_t)(hdr_len + h->l4_len));
		xlate_put_be16(out + 4, h->id16);
		xlate_put_be16(out + 6, frag);
		out[8] = h->ttl;
		out[9] = h->proto;
		memcpy(out + 12, h->src, 4);
		memcpy(out + 16, h->dst, 4);
		xlate_put_be16(out + 10, (uint16_t)~dp_csum_add(0, out, hdr_len));
		return (int)hdr_len;
	}

	hdr_len = XLATE_IPV6_HDR + (h->is_frag ? XLATE_IPV6_FRAG : 0);
	if (hdr_len - XLATE_IPV6_HDR + h->l4_len > XLATE_PKT_MAX || hdr_len + h->l4_len > cap)
		return -XLATE_DROP_TOO_BIG;
	memset(out, 0, hdr_len);
	out[0] = 0x60;
	xlate_put_be16(out + 4, (uint16_t)(hdr_len - XLATE_IPV6_HDR + h->l4_len));
	out[6] = h->is_frag ? IPV6_NH_FRAG : h->proto;
	out[7] = h->ttl;
	memcpy(out + 8, h->src, 16);
	memcpy(out + 24, h->dst, 16);
	if (h->is_frag) {
		out[XLATE_IPV6_HDR] = h->proto;
		xlate_put_be16(out + XLATE_IPV6_HDR + 2,
			       (uint16_t)(h->frag_off | (h->more_frags ? DP_WIRE_FRAG_MF : 0)));
		put_be32(out + XLATE_IPV6_HDR + 4, h->frag_id);
	}
	return (int)hdr_len;
}

bool xlate_local_is_link_traffic(const uint8_t *pkt, size_t len)
{
	if (len >= 20 && pkt[0] >> 4 == 4) {
		const uint8_t *dst = pkt + 16;
		return (dst[0] & 0xf0) == 0xe0 || (dst[0] == 169 && dst[1] == 254) ||
		       (dst[0] == 255 && dst[1] == 255 && dst[2] == 255 && dst[3] == 255);
	}
	if (len >= 40 && pkt[0] >> 4 == 6) {
		const uint8_t *dst = pkt + 24;
		return dst[0] == 0xff || (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80);
	}
	return false;
}
