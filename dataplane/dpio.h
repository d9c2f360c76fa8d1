/*
 * The dataplane's I/O layer: the TUN device and the UDP sockets, plain or with kernel offloads,
 * read and written in batches. It knows nothing of translation and never calls the layers above:
 * what it reads, the caller takes packet by packet from its iterators.
 */
#ifndef DP_DPIO_H
#define DP_DPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dpbatch.h"
#include "err.h"
#include "offload.h"

struct dp_io {
	int tun_fd, udp4_fd, udp6_fd;
	size_t slot_size; /* the largest packet either side may bring, plus headers */
	/* the daemon's counters (enum dp_counter) and drops (enum xlate_drop), counted here too */
	uint64_t *counters;
	uint64_t *drops;
	struct dp_batch out4, out6;
	uint8_t *tun_in;    /* one packet read from the TUN device */
	unsigned tun_reads; /* reads done in this wake-up */
	/* datagrams received together by recvmmsg, and where the iterator is among them */
	struct mmsghdr in_msgs[DP_BATCH];
	struct iovec in_iov[DP_BATCH];
	struct sockaddr_storage in_from[DP_BATCH];
	uint8_t *udp_in;
	unsigned in_n, in_i;
	size_t in_off, in_size; /* the next piece of a coalesced buffer, and the pieces' size */
	struct dp_offload off;	/* kernel offloads: what is on, their buffers and counters */
};

/*
 * Buffers for batches and receive slots (the descriptors and offloads are set up already),
 * counting into the caller's counters and drops; -ENOMEM.
 */
IPR_MUST_CHECK int dpio_init(struct dp_io *io, size_t slot_size, uint64_t *counters,
			     uint64_t *drops);
void dpio_deinit(struct dp_io *io);

/*
 * The buffer the next datagram to a peer of family (AF_INET, AF_INET6) goes in, the same until
 * committed; NULL when there is no socket of that family. Commit queues it, len bytes, to
 * `to`; a full batch is sent at once.
 */
uint8_t *dpio_send_slot(struct dp_io *io, int family);
void dpio_send_commit(struct dp_io *io, int family, size_t len, const struct sockaddr_storage *to);

/*
 * Writes a packet to the TUN device, or holds it for coalescing: 0 or -XLATE_DROP_SEND_FAILED.
 * Every write to the device comes here: with offloads on, each one carries a virtio-net header.
 */
IPR_MUST_CHECK int dpio_tun_write(struct dp_io *io, const uint8_t *pkt, size_t len);

/* Sends what the batches hold and writes what coalescing holds. */
void dpio_flush(struct dp_io *io);

/*
 * The TUN device's packets of one wake-up (up to DP_BATCH reads; super-packets come cut into
 * segments): begin, then next until it returns false. A packet stays valid until the next call.
 */
void dpio_tun_begin(struct dp_io *io);
bool dpio_tun_next(struct dp_io *io, const uint8_t **pkt, size_t *len);

/*
 * A socket's datagrams of one wake-up (one recvmmsg; coalesced buffers come apart): receive,
 * then next until it returns false. Truncated datagrams are counted and dropped here.
 */
void dpio_udp_recv(struct dp_io *io, int fd);
bool dpio_udp_next(struct dp_io *io, const uint8_t **pkt, size_t *len,
		   const struct sockaddr_storage **from);

#endif
