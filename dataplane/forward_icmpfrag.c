/* Fragmented ICMP echoes whose checksum changes form: first fragments wait for their length. */
#include <string.h>

#include "forward_internal.h"
#include "icmpfrag.h"

static void ref_bytes(const struct ipr_ref *r, uint8_t out[16])
{
	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)(r->hi >> (56 - 8 * i));
		out[8 + i] = (uint8_t)(r->lo >> (56 - 8 * i));
	}
}

static void key_in(struct icmpfrag_key *k, const struct xlate_remote *rr)
{
	uint8_t src[16], dst[16];

	ref_bytes(&rr->hdr.src_ref, src);
	ref_bytes(&rr->hdr.dst_ref, dst);
	icmpfrag_key_make(k, ICMPFRAG_TO_LOCAL, rr->hdr.src_ctx, src, dst, rr->hdr.frag_id);
}

/*
 * A first fragment: goes on with the length when the last fragment told it already (the entry
 * is then through), else waits. A length no longer than the first fragment, or longer than any
 * datagram, is a lie: dropped.
 */
static int first_fragment(struct dp *dp, const struct icmpfrag_key *k, size_t first_len,
			  uint32_t *icmp_len, const uint8_t *pkt, size_t len,
			  const struct sockaddr_storage *from)
{
	int64_t now = ipr_clock_ms();
	struct icmpfrag_entry *e = icmpfrag_find(&dp->icmpfrag, k, now);

	if (e && e->total) {
		uint32_t total = e->total;
		icmpfrag_done(&dp->icmpfrag, e);
		if (total <= first_len || total > XLATE_PKT_MAX)
			return -XLATE_DROP_ICMP_FRAGMENT;
		*icmp_len = total;
		return 0;
	}
	if (icmpfrag_hold(&dp->icmpfrag, k, pkt, len, from, now) < 0)
		return -XLATE_DROP_TOO_BIG;
	return FWD_HELD;
}

int fwd_icmpfrag_out(struct dp *dp, struct xlate_local *p, const uint8_t *pkt, size_t len)
{
	struct icmpfrag_key k;
	uint32_t total;

	if (!xlate_local_icmp_frag(p, &total) || p->frag_off != 0)
		return 0;
	icmpfrag_key_make(&k, ICMPFRAG_TO_WIRE, p->src, p->dst, NULL, p->frag_id);
	return first_fragment(dp, &k, p->l4_len, &p->icmp_len, pkt, len, NULL);
}

int fwd_icmpfrag_in(struct dp *dp, struct xlate_remote *rr, uint8_t local_ver, const uint8_t *pkt,
		    size_t len, const struct sockaddr_storage *from)
{
	struct icmpfrag_key k;
	uint32_t total;

	if (!xlate_remote_icmp_frag(rr, local_ver, &total) || rr->hdr.frag_off != 0)
		return 0;
	key_in(&k, rr);
	return first_fragment(dp, &k, rr->l4_len, &rr->icmp_len, pkt, len, from);
}

/* The last fragment went: its length is noted, and a first fragment waiting for it goes now. */
static void last_went(struct dp *dp, const struct icmpfrag_key *k, uint32_t total, bool to_wire)
{
	struct icmpfrag_entry *e = icmpfrag_total(&dp->icmpfrag, k, total, ipr_clock_ms());
	struct sockaddr_storage from;
	size_t len = e->len;

	if (!len)
		return;
	memcpy(dp->icmpfrag_pkt, e->pkt, len);
	from = e->from;
	if (to_wire)
		fwd_redo_local(dp, dp->icmpfrag_pkt, len);
	else
		fwd_redo_remote(dp, dp->icmpfrag_pkt, len, &from);
}

void fwd_icmpfrag_out_sent(struct dp *dp, const struct xlate_local *p)
{
	struct icmpfrag_key k;
	uint32_t total;

	if (!xlate_local_icmp_frag(p, &total) || !total || p->frag_off == 0)
		return;
	icmpfrag_key_make(&k, ICMPFRAG_TO_WIRE, p->src, p->dst, NULL, p->frag_id);
	last_went(dp, &k, total, true);
}

void fwd_icmpfrag_in_sent(struct dp *dp, const struct xlate_remote *rr, uint8_t local_ver)
{
	struct icmpfrag_key k;
	uint32_t total;

	if (!xlate_remote_icmp_frag(rr, local_ver, &total) || !total || rr->hdr.frag_off == 0)
		return;
	key_in(&k, rr);
	last_went(dp, &k, total, false);
}
