/* The batch size of the packet path and one batch of datagrams to a UDP socket. */
#ifndef DP_DPBATCH_H
#define DP_DPBATCH_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Packets taken from one descriptor per wake-up, and datagrams per sendmmsg/recvmmsg. */
#define DP_BATCH 64

/*
 * Datagrams to one UDP socket, sent together by sendmmsg. The buffers are a ring: datagram i
 * lies in slot (head + i) % DP_BATCH, so that datagrams kept back for a longer GSO train stay
 * where they were written while the ones before them are sent.
 */
struct dp_batch {
	int fd;
	unsigned n;
	unsigned head;
	struct mmsghdr msgs[DP_BATCH];
	struct iovec iov[DP_BATCH];
	struct sockaddr_storage to[DP_BATCH];
	uint8_t *bufs; /* DP_BATCH slots of the I/O layer's slot_size */
};

#endif
