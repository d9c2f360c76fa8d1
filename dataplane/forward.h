/* The daemon's packet path: lookups around the pure translation core, batching and waiting. */
#ifndef DP_FORWARD_H
#define DP_FORWARD_H

#include "dp.h"

/* Buffers for batches and waiting packets, sized from the configuration; -ENOMEM. */
IPR_MUST_CHECK int forward_init(struct dp *dp);
void forward_deinit(struct dp *dp);

/* Reads what the TUN device or a UDP socket has (up to DP_BATCH), forwards it, flushes. */
void forward_on_tun(struct dp *dp);
void forward_on_udp(struct dp *dp, int fd);
/* The socket's error queue: path MTUs and other errors the kernel reports about peers. */
void forward_on_udp_errors(struct dp *dp, int fd);
/* Timer work: forgets stale path MTUs. */
void forward_tick(struct dp *dp, int64_t now_ms);

/*
 * One local packet (or segment of a super-packet) to translate and batch, and one peer's
 * datagram (or piece of a coalesced one) to translate and write: what the offload paths call.
 */
void forward_local(struct dp *dp, const uint8_t *pkt, size_t len);
void forward_remote(struct dp *dp, const uint8_t *pkt, size_t len,
		    const struct sockaddr_storage *from);

/* Gives waiting packets another try after mappings arrived; drops those waiting too long. */
void forward_retry_waiting(struct dp *dp, int64_t now_ms);

/* How many packets wait for a mapping. */
unsigned forward_waiting(const struct dp *dp);

#endif
