/* The gateway's own ICMP errors: where they come from, the rate limit, and sending them. */
#include <errno.h>
#include <string.h>

#include "forward_internal.h"

/* The sources (the gateway's address in each encoded range) come with the layout (layout.c). */
void forward_icmp_init(struct dp *dp)
{
	dp->icmp_bucket = (struct ipr_bucket){ 0 }; /* full at its first refill */
	ipr_bucket_refill(&dp->icmp_bucket, dp->cfg.icmp_rate, dp->cfg.icmp_burst, ipr_clock_ms());
}

/* One token, if the bucket has it: icmp-rate a second, icmp-burst at most. */
static bool take_token(struct dp *dp)
{
	if (dp->cfg.icmp_rate == 0 || !ipr_bucket_take(&dp->icmp_bucket, dp->cfg.icmp_rate,
						       dp->cfg.icmp_burst, ipr_clock_ms())) {
		dp->counters[DP_C_ICMP_LIMITED]++;
		return false;
	}
	return true;
}

void fwd_answer_local(struct dp *dp, const struct xlate_local *p, const uint8_t *pkt, size_t len,
		      enum icmp_reply_kind kind, uint32_t info)
{
	const uint8_t *from = p->ver == 4 ? (dp->has_icmp_src4 ? dp->icmp_src4 : NULL)
					  : (dp->has_icmp_src6 ? dp->icmp_src6 : NULL);
	int n;

	if (!from || !icmp_reply_local_allowed(p) || !take_token(dp))
		return;
	n = icmp_reply_to_local(p, pkt, len, kind, info, from, dp->icmp_out, dp->slot_size);
	if (n < 0)
		return;
	/* through the I/O layer: with offloads on, every TUN write needs its virtio header */
	if (dp->sink->tun_write(dp->sink_ctx, dp->icmp_out, (size_t)n) < 0) {
		dp->drops[XLATE_DROP_SEND_FAILED]++;
		return;
	}
	dp->counters[DP_C_ICMP_SENT]++;
}

void fwd_answer_peer(struct dp *dp, const struct xlate_remote *r, const uint8_t *dgram, size_t len,
		     const struct sockaddr_storage *from, enum icmp_reply_kind kind)
{
	int family = from->ss_family == AF_INET ? AF_INET : AF_INET6;
	uint8_t *slot = fwd_slot(dp, family);
	int n;

	if (!slot || !icmp_reply_peer_allowed(r) || !take_token(dp))
		return;
	n = icmp_reply_to_peer(r, dgram, len, kind, slot, dp->slot_size);
	if (n < 0)
		return;
	fwd_commit(dp, family, (size_t)n, from);
	dp->counters[DP_C_ICMP_SENT]++;
}
