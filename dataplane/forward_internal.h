/* Internal to forwarding: the send batches, path-MTU sizing and the gateway's own errors. */
#ifndef DP_FORWARD_INTERNAL_H
#define DP_FORWARD_INTERNAL_H

#include <sys/socket.h>

#include "dp.h"
#include "icmp_reply.h"

/* The buffer the next datagram to a peer of family goes in (NULL: no socket of that family). */
static inline uint8_t *fwd_slot(struct dp *dp, int family)
{
	return dp->sink->send_slot(dp->sink_ctx, family);
}

/* Queues the datagram written at fwd_slot, len bytes, to `to`. */
static inline void fwd_commit(struct dp *dp, int family, size_t len,
			      const struct sockaddr_storage *to)
{
	dp->sink->send_commit(dp->sink_ctx, family, len, to);
}

/*
 * Sends the datagram of dlen bytes written at fwd_slot(family) for the local packet p
 * (pkt/len) to the peer at `to`: as it is when the path takes it, else in pieces at the IPREF
 * layer, or answered with "fragmentation needed" / "packet too big" when the host asked that
 * it not be fragmented. 0, or -reason when it was not sent.
 */
IPR_MUST_CHECK int fwd_send_sized(struct dp *dp, int family, size_t dlen,
				  const struct sockaddr_storage *to, const struct xlate_local *p,
				  const uint8_t *pkt, size_t len);

/* A local packet or datagram that waits in the ICMP fragment cache: neither sent nor dropped. */
#define FWD_HELD 2

/*
 * Fragmented ICMP echoes (forward_icmpfrag.c): before translation, a first fragment whose
 * checksum needs the whole message's length gets it (0), or waits in the cache (FWD_HELD), or
 * is refused (-reason); after a fragment went, a first one that waited for it goes too.
 */
IPR_MUST_CHECK int fwd_icmpfrag_out(struct dp *dp, struct xlate_local *p, const uint8_t *pkt,
				    size_t len);
IPR_MUST_CHECK int fwd_icmpfrag_in(struct dp *dp, struct xlate_remote *rr, uint8_t local_ver,
				   const uint8_t *pkt, size_t len,
				   const struct sockaddr_storage *from);
void fwd_icmpfrag_out_sent(struct dp *dp, const struct xlate_local *p);
void fwd_icmpfrag_in_sent(struct dp *dp, const struct xlate_remote *rr, uint8_t local_ver);

/* A packet from the TUN device or a datagram from a peer through the whole path once more. */
void fwd_redo_local(struct dp *dp, const uint8_t *pkt, size_t len);
void fwd_redo_remote(struct dp *dp, const uint8_t *pkt, size_t len,
		     const struct sockaddr_storage *from);

/* The own-ICMP set-up: source addresses from the encoded ranges, a full token bucket. */
void forward_icmp_init(struct dp *dp);

/*
 * The gateway's own errors, when the packet may be answered and the rate limit allows: to a
 * local host through the TUN device, or to a peer gateway (the datagram's sender, from).
 */
void fwd_answer_local(struct dp *dp, const struct xlate_local *p, const uint8_t *pkt, size_t len,
		      enum icmp_reply_kind kind, uint32_t info);
void fwd_answer_peer(struct dp *dp, const struct xlate_remote *r, const uint8_t *dgram, size_t len,
		     const struct sockaddr_storage *from, enum icmp_reply_kind kind);

#endif
