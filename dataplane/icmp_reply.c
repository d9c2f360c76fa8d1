/* The gateway's own ICMP errors, built from the packet they answer and nothing else. */
#include "icmp_reply.h"

#include <errno.h>
#include <string.h>

#include "checksum.h"
#include "xlate_local.h"

#define ICMP_HDR	 8
#define ICMP_UNREACH	 3
#define ICMP_TIME	 11
#define ICMP_PARAM	 12
#define ICMP6_UNREACH	 1
#define ICMP6_TOO_BIG	 2
#define ICMP6_TIME	 3
#define ICMP6_PARAM	 4
#define ICMP6_INFO_FIRST 128 /* ICMPv6 types below are errors */
#define LOCAL4_MAX	 576
#define LOCAL6_MAX	 1280
#define WIRE_ICMP_MAX	 576
#define REPLY_TTL	 64
#define TC(type, code)	 ((type) << 8 | (code))

static bool is_icmp4_error(uint8_t type)
{
	return type == ICMP_UNREACH || type == 4 /* source quench */ || type == 5 /* redirect */ ||
	       type == ICMP_TIME || type == ICMP_PARAM;
}

static bool bad_source4(const uint8_t *a)
{
	static const uint8_t bcast[4] = { 255, 255, 255, 255 };

	return a[0] == 0 || a[0] == 127 || a[0] >= 224 || !memcmp(a, bcast, 4);
}

static bool bad_source6(const uint8_t *a)
{
	static const uint8_t zero[16], loop[16] = { [15] = 1 };

	return a[0] == 0xff || !memcmp(a, zero, 16) || !memcmp(a, loop, 16);
}

bool icmp_reply_local_allowed(const struct xlate_local *p)
{
	if (p->frag_off != 0)
		return false;
	if (p->ver == 4) {
		if (bad_source4(p->src) || p->dst[0] >= 224)
			return false;
		/* an unparsed L4 (a failed check) has l4 NULL: only ICMP needs a look */
		return !(p->proto == DP_WIRE_PROTO_ICMP && p->l4 && p->l4_len > 0 &&
			 is_icmp4_error(p->l4[0]));
	}
	if (bad_source6(p->src) || p->dst[0] == 0xff)
		return false;
	return !(p->proto == XLATE_PROTO_ICMPV6 && p->l4 && p->l4_len > 0 &&
		 p->l4[0] < ICMP6_INFO_FIRST);
}

/* The type and code, or -1 when the family has no such message. */
static int local_type(uint8_t ver, enum icmp_reply_kind kind)
{
	switch (kind) {
	case ICMP_REPLY_HOST_UNREACHABLE:
		return ver == 4 ? TC(ICMP_UNREACH, 1) : TC(ICMP6_UNREACH, 3);
	case ICMP_REPLY_PROTO_UNREACHABLE:
		return ver == 4 ? TC(ICMP_UNREACH, 2) : TC(ICMP6_PARAM, 1);
	case ICMP_REPLY_SOURCE_ROUTE:
		return ver == 4 ? TC(ICMP_UNREACH, 5) : -1;
	case ICMP_REPLY_TOO_BIG:
		return ver == 4 ? TC(ICMP_UNREACH, 4) : TC(ICMP6_TOO_BIG, 0);
	case ICMP_REPLY_TIME_EXCEEDED:
		return ver == 4 ? TC(ICMP_TIME, 0) : TC(ICMP6_TIME, 0);
	}
	return -1;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	xlate_put_be16(p, (uint16_t)(v >> 16));
	xlate_put_be16(p + 2, (uint16_t)v);
}

int icmp_reply_to_local(const struct xlate_local *p, const uint8_t *pkt, size_t len,
			enum icmp_reply_kind kind, uint32_t info, const uint8_t *from, uint8_t *out,
			size_t cap)
{
	struct xlate_local_hdr lh;
	size_t ip_len = p->ver == 4 ? XLATE_IPV4_HDR : XLATE_IPV6_HDR;
	size_t max = p->ver == 4 ? LOCAL4_MAX : LOCAL6_MAX, quote = len, msg;
	int tc = local_type(p->ver, kind), hlen;
	uint8_t *icmp;

	if (tc < 0)
		return -EINVAL;
	if (ip_len + ICMP_HDR + quote > max)
		quote = max - ip_len - ICMP_HDR;
	msg = ICMP_HDR + quote;
	if (ip_len + msg > cap)
		return -XLATE_DROP_TOO_BIG;
	memset(&lh, 0, sizeof(lh));
	lh.ver = p->ver;
	lh.src = from;
	lh.dst = p->src;
	lh.ttl = REPLY_TTL;
	lh.proto = p->ver == 4 ? DP_WIRE_PROTO_ICMP : XLATE_PROTO_ICMPV6;
	lh.l4_len = msg;
	hlen = xlate_local_header(&lh, out, cap);
	if (hlen < 0)
		return hlen;
	icmp = out + hlen;
	memset(icmp, 0, ICMP_HDR);
	icmp[0] = (uint8_t)(tc >> 8);
	icmp[1] = (uint8_t)tc;
	if (kind == ICMP_REPLY_TOO_BIG && p->ver == 4)
		xlate_put_be16(icmp + 6, info > 0xffff ? 0xffff : (uint16_t)info);
	else if (kind == ICMP_REPLY_TOO_BIG)
		put_be32(icmp + 4, info);
	else if (kind == ICMP_REPLY_PROTO_UNREACHABLE && p->ver == 6)
		put_be32(icmp + 4, p->proto_at);
	memcpy(icmp + ICMP_HDR, pkt, quote);
	{
		uint16_t sum = p->ver == 6 ? xlate_icmp6_pseudo_sum(from, p->src, msg) : 0;
		xlate_put_be16(icmp + 2, (uint16_t)~dp_csum_add(sum, icmp, msg));
	}
	return hlen + (int)msg;
}

bool icmp_reply_peer_allowed(const struct xlate_remote *r)
{
	if (r->hdr.frag_off != 0)
		return false;
	return !(r->hdr.proto == DP_WIRE_PROTO_ICMP && r->l4_len > 0 &&
		 xlate_icmp_is_error(r->l4[0]));
}

int icmp_reply_to_peer(const struct xlate_remote *r, const uint8_t *dgram, size_t len,
		       enum icmp_reply_kind kind, uint8_t *out, size_t cap)
{
	struct dp_wire_hdr h;
	size_t quote = len, msg;
	uint8_t *icmp;
	int hlen;

	if (kind != ICMP_REPLY_HOST_UNREACHABLE && kind != ICMP_REPLY_TIME_EXCEEDED)
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.version = DP_WIRE_VERSION;
	h.ctx_ver = r->hdr.ctx_ver;
	/* the context rules already filled both: ours is where the packet came to */
	memcpy(h.src_ctx, r->hdr.dst_ctx, 16);
	memcpy(h.dst_ctx, r->hdr.src_ctx, 16);
	h.src_ref = (struct ipr_ref){ .lo = ICMP_REPLY_GATEWAY_REF };
	h.dst_ref = r->hdr.src_ref;
	h.ttl = REPLY_TTL;
	h.proto = DP_WIRE_PROTO_ICMP;
	hlen = dp_wire_encode(&h, out, cap);
	if (hlen < 0)
		return hlen == -ENOSPC ? -XLATE_DROP_TOO_BIG : -XLATE_DROP_NO_SRC_REF;
	if (ICMP_HDR + quote > WIRE_ICMP_MAX)
		quote = WIRE_ICMP_MAX - ICMP_HDR;
	msg = ICMP_HDR + quote;
	if ((size_t)hlen + msg > cap)
		return -XLATE_DROP_TOO_BIG;
	icmp = out + hlen;
	memset(icmp, 0, ICMP_HDR);
	icmp[0] = kind == ICMP_REPLY_TIME_EXCEEDED ? ICMP_TIME : ICMP_UNREACH;
	icmp[1] = kind == ICMP_REPLY_TIME_EXCEEDED ? 0 : 1;
	memcpy(icmp + ICMP_HDR, dgram, quote);
	xlate_put_be16(icmp + 2, (uint16_t)~dp_csum_add(0, icmp, msg));
	return hlen + (int)msg;
}
