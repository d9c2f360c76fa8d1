/*
 * The forwarding layer: lookups around the pure translation core, waiting for mappings, path
 * MTU and the gateway's own errors. It is handed packets and sends what it makes down through
 * dp->sink (the I/O layer and the gwctld link in the daemon, a fake in tests): it never reads a
 * descriptor and never calls the layers above.
 */
#ifndef DP_FORWARD_H
#define DP_FORWARD_H

#include "dp.h"

/* Buffers for waiting packets and the gateway's own replies, sized from the configuration. */
IPR_MUST_CHECK int forward_init(struct dp *dp);
void forward_deinit(struct dp *dp);

/* One local packet (or segment of a super-packet) to translate and send to its peer. */
void forward_local(struct dp *dp, const uint8_t *pkt, size_t len);
/* One peer's datagram (or piece of a coalesced one) to translate and write to the TUN device. */
void forward_remote(struct dp *dp, const uint8_t *pkt, size_t len,
		    const struct sockaddr_storage *from);

/* One message of a socket's error queue about the peer `to`: a path MTU or another error. */
void forward_peer_error(struct dp *dp, const struct msghdr *m, const struct sockaddr_storage *to);

/* Timer work: forgets stale path MTUs and ICMP fragments. */
void forward_tick(struct dp *dp, int64_t now_ms);

/* Gives waiting packets another try after mappings arrived; drops those waiting too long. */
void forward_retry_waiting(struct dp *dp, int64_t now_ms);

/* How many packets wait for a mapping. */
unsigned forward_waiting(const struct dp *dp);

#endif
