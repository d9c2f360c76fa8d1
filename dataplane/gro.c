/* Userspace TCP GRO: merges what the tunnel brings segment by segment before the TUN write. */
#include "gro.h"

#include <string.h>

#include "checksum.h"
#include "wire.h"
#include "xlate.h"
#include "xlate_local.h"

#define TCP_ACK 0x10
#define TCP_PSH 0x08

/* What the merge rules need of a packet that is a whole TCP segment. */
struct tcp_seg {
	uint8_t ver;
	size_t l3_len, hdr_len, payload;
	uint32_t seq;
	bool mergeable; /* ACK or ACK+PSH only, some payload (the checksum is checked apart) */
	bool psh;
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)xlate_be16(p) << 16 | xlate_be16(p + 2);
}

/* The pseudo-header's sum (addresses, protocol, L4 length) of a TCP packet. */
static uint16_t pseudo_sum(const uint8_t *pkt, uint8_t ver, size_t l4_len)
{
	const uint8_t tail[4] = { 0, DP_WIRE_PROTO_TCP, (uint8_t)(l4_len >> 8), (uint8_t)l4_len };
	size_t addrs = ver == 4 ? 8 : 32;

	return dp_csum_add(dp_csum_add(0, pkt + (ver == 4 ? 12 : 8), addrs), tail, 4);
}

/* Whether pkt is an unfragmented TCP segment without IP options; fills t when so. */
static bool parse_tcp(const uint8_t *pkt, size_t len, struct tcp_seg *t)
{
	const uint8_t *tcp;
	uint8_t flags;

	if (len < XLATE_IPV4_HDR)
		return false;
	t->ver = pkt[0] >> 4;
	if (t->ver == 4) {
		if (pkt[0] != 0x45 || xlate_be16(pkt + 2) != len || pkt[9] != DP_WIRE_PROTO_TCP ||
		    (xlate_be16(pkt + 6) & 0x3fff))
			return false;
		t->l3_len = XLATE_IPV4_HDR;
	} else if (t->ver == 6) {
		if (len < XLATE_IPV6_HDR || (size_t)xlate_be16(pkt + 4) + XLATE_IPV6_HDR != len ||
		    pkt[6] != DP_WIRE_PROTO_TCP)
			return false;
		t->l3_len = XLATE_IPV6_HDR;
	} else {
		return false;
	}
	if (len < t->l3_len + 20)
		return false;
	tcp = pkt + t->l3_len;
	t->hdr_len = t->l3_len + (size_t)(tcp[12] >> 4) * 4;
	if ((tcp[12] >> 4) < 5 || t->hdr_len > len)
		return false;
	t->payload = len - t->hdr_len;
	t->seq = get_be32(tcp + 4);
	flags = tcp[13];
	t->psh = flags & TCP_PSH;
	t->mergeable = (flags == TCP_ACK || flags == (TCP_ACK | TCP_PSH)) && t->payload > 0;
	return true;
}

/*
 * Whether a segment's checksum is right, given the sum of its payload: a merged super-packet's
 * is computed afresh, so a wrong one must not be merged. The payload starts at an even offset
 * of the TCP header, so the sums add.
 */
static bool csum_ok(const uint8_t *pkt, size_t len, const struct tcp_seg *t, uint16_t payload_sum)
{
	uint16_t sum = dp_csum_add(payload_sum, pkt + t->l3_len, t->hdr_len - t->l3_len);
	const uint8_t be[2] = { (uint8_t)(sum >> 8), (uint8_t)sum };

	return dp_csum_add(pseudo_sum(pkt, t->ver, len - t->l3_len), be, sizeof(be)) == 0xffff;
}

/* Same addresses and ports: the packet belongs to the flow held in f. */
static bool same_flow(const struct gro_flow *f, const uint8_t *pkt, const struct tcp_seg *t)
{
	const uint8_t *h = f->buf;

	if ((h[0] >> 4) != t->ver)
		return false;
	if (t->ver == 4)
		return !memcmp(h + 12, pkt + 12, 8) && !memcmp(h + 20, pkt + 20, 4);
	return !memcmp(h + 8, pkt + 8, 32) && !memcmp(h + 40, pkt + 40, 4);
}

/* Everything that must be equal in the headers of two segments of one super-packet. */
static bool headers_match(const struct gro_flow *f, const uint8_t *pkt, const struct tcp_seg *t)
{
	const uint8_t *h = f->buf, *a = f->buf + f->l3_len, *b = pkt + t->l3_len;

	if (f->hdr_len != t->hdr_len)
		return false;
	if (t->ver == 4 ? h[1] != pkt[1] || (h[6] & 0xe0) != (pkt[6] & 0xe0) || h[8] != pkt[8]
			: memcmp(h, pkt, 4) != 0 || h[7] != pkt[7])
		return false;
	/* acknowledgement, data offset, window, urgent pointer and every option byte */
	return !memcmp(a + 8, b + 8, 5) && !memcmp(a + 14, b + 14, 2) &&
	       !memcmp(a + 18, b + 18, t->hdr_len - t->l3_len - 18);
}

static void emit_plain(struct gro *g, const uint8_t *pkt, size_t len)
{
	const struct vnet_hdr none = { 0 };

	g->emit(g->ctx, &none, pkt, len, 1);
}

static void flush_flow(struct gro *g, struct gro_flow *f)
{
	uint8_t *p = f->buf;
	struct vnet_hdr h = { 0 };

	if (!f->len)
		return;
	if (f->segs == 1) {
		emit_plain(g, p, f->len);
		f->len = 0;
		return;
	}
	if (p[0] >> 4 == 4) {
		xlate_put_be16(p + 2, (uint16_t)f->len);
		xlate_put_be16(p + 10, 0);
		xlate_put_be16(p + 10, (uint16_t)~dp_csum_add(0, p, f->l3_len));
	} else {
		xlate_put_be16(p + 4, (uint16_t)(f->len - XLATE_IPV6_HDR));
	}
	if (f->psh)
		p[f->l3_len + 13] |= TCP_PSH;
	/* NEEDS_CSUM: the field holds the pseudo-header sum, the rest is summed when needed */
	xlate_put_be16(p + f->l3_len + DP_CSUM_TCP_FIELD,
		       pseudo_sum(p, (uint8_t)(p[0] >> 4), f->len - f->l3_len));
	h.flags = VNET_F_NEEDS_CSUM;
	h.gso_type = p[0] >> 4 == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
	h.hdr_len = (uint16_t)f->hdr_len;
	h.gso_size = (uint16_t)f->mss;
	h.csum_start = (uint16_t)f->l3_len;
	h.csum_offset = DP_CSUM_TCP_FIELD;
	g->emit(g->ctx, &h, p, f->len, f->segs);
	g->supers++;
	g->merged += f->segs - 1;
	f->len = 0;
}

void gro_init(struct gro *g, uint8_t *mem, gro_emit_fn *emit, void *ctx)
{
	memset(g, 0, sizeof(*g));
	for (unsigned i = 0; i < GRO_FLOWS; i++)
		g->flows[i].buf = mem + (size_t)i * GRO_MAX_LEN;
	g->emit = emit;
	g->ctx = ctx;
}

static struct gro_flow *find_flow(struct gro *g, const uint8_t *pkt, const struct tcp_seg *t)
{
	for (unsigned i = 0; i < GRO_FLOWS; i++)
		if (g->flows[i].len && same_flow(&g->flows[i], pkt, t))
			return &g->flows[i];
	return NULL;
}

/* A free slot, or the least recently used one emptied. */
static struct gro_flow *take_slot(struct gro *g)
{
	struct gro_flow *oldest = &g->flows[0];

	for (unsigned i = 0; i < GRO_FLOWS; i++) {
		if (!g->flows[i].len)
			return &g->flows[i];
		if (g->flows[i].stamp < oldest->stamp)
			oldest = &g->flows[i];
	}
	flush_flow(g, oldest);
	return oldest;
}

/* A segment with a wrong checksum goes on alone, counted, so that the receiver drops it. */
static void emit_bad(struct gro *g, const uint8_t *pkt, size_t len)
{
	g->bad_csum++;
	emit_plain(g, pkt, len);
}

void gro_add(struct gro *g, const uint8_t *pkt, size_t len)
{
	struct tcp_seg t;
	struct gro_flow *f;

	g->clock++;
	if (!parse_tcp(pkt, len, &t)) {
		emit_plain(g, pkt, len);
		return;
	}
	f = find_flow(g, pkt, &t);
	if (f && t.mergeable && !f->psh && t.seq == f->next_seq && t.payload <= f->mss &&
	    f->len + t.payload <= GRO_MAX_LEN && f->len - f->hdr_len == (size_t)f->segs * f->mss &&
	    headers_match(f, pkt, &t)) {
		/* one pass: copied past the flow's end, and kept only when the checksum is right */
		uint16_t sum = dp_csum_copy(0, f->buf + f->len, pkt + t.hdr_len, t.payload);

		if (!csum_ok(pkt, len, &t, sum)) {
			flush_flow(g, f);
			emit_bad(g, pkt, len);
			return;
		}
		f->len += t.payload;
		f->segs++;
		f->next_seq += (uint32_t)t.payload;
		f->psh = t.psh;
		f->stamp = g->clock;
		return;
	}
	if (f)
		flush_flow(g, f);
	if (!t.mergeable || t.psh) {
		/* nothing can follow a PSH segment: it goes at once, as does anything unmergeable
		 */
		if (t.mergeable &&
		    !csum_ok(pkt, len, &t, dp_csum_add(0, pkt + t.hdr_len, t.payload)))
			emit_bad(g, pkt, len);
		else
			emit_plain(g, pkt, len);
		return;
	}
	f = f ? f : take_slot(g);
	/* the headers as they are, the payload summed as it is copied; f stays empty if wrong */
	memcpy(f->buf, pkt, t.hdr_len);
	if (!csum_ok(pkt, len, &t,
		     dp_csum_copy(0, f->buf + t.hdr_len, pkt + t.hdr_len, t.payload))) {
		emit_bad(g, pkt, len);
		return;
	}
	f->len = len;
	f->l3_len = t.l3_len;
	f->hdr_len = t.hdr_len;
	f->mss = t.payload;
	f->next_seq = t.seq + (uint32_t)t.payload;
	f->segs = 1;
	f->psh = false;
	f->stamp = g->clock;
}

void gro_flush(struct gro *g)
{
	for (unsigned i = 0; i < GRO_FLOWS; i++)
		flush_flow(g, &g->flows[i]);
}
