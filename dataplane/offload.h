/* Kernel offloads of the packet path: TUN TSO/USO and GRO writes, UDP GSO sends, UDP GRO receives.
 */
#ifndef DP_OFFLOAD_H
#define DP_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dpbatch.h"
#include "err.h"
#include "gro.h"
#include "gso.h"

/* What the offloads did, for `gwctl stats` as dataplane.offload.NAME (and drop.NAME). */
enum offload_counter {
	OFF_C_TUN_TSO,	      /* 1: the TUN device hands us TCP super-packets and takes them */
	OFF_C_TUN_USO,	      /* 1: ... and UDP super-packets too */
	OFF_C_UDP_GSO,	      /* 1: datagrams to a peer leave as UDP_SEGMENT sends */
	OFF_C_UDP_GRO,	      /* 1: the UDP sockets receive coalesced datagrams */
	OFF_C_TUN_SUPER,      /* super-packets read from the TUN device and split */
	OFF_C_TUN_SEGMENTS,   /* packets they were split into */
	OFF_C_TUN_CSUM,	      /* single packets whose partial checksum was completed */
	OFF_C_GSO_SENDS,      /* UDP_SEGMENT messages sent (two datagrams or more) */
	OFF_C_GSO_DATAGRAMS,  /* datagrams they carried */
	OFF_C_GSO_FALLBACK,   /* times the kernel refused a GSO send and GSO was turned off */
	OFF_C_GRO_RX,	      /* coalesced UDP buffers received */
	OFF_C_GRO_DATAGRAMS,  /* datagrams they carried */
	OFF_C_TUN_GRO_SUPERS, /* TCP super-packets written to the TUN device */
	OFF_C_TUN_GRO_MERGED, /* segments merged into them beyond each first */
	OFF_C_TUN_GRO_BADSUM, /* TCP segments left unmerged for a wrong checksum */
	OFF_C_COUNT
};

/* The offload state of the I/O layer; buffers are allocated once at start. */
struct dp_offload {
	bool tun_vnet; /* the TUN fd carries virtio-net headers (offloads on) */
	bool udp_gso, udp_gro;
	uint8_t *tun_read; /* one read: header and a super-packet */
	uint8_t *seg;	   /* one segment cut from it */
	uint8_t *gro_mem;
	uint8_t *udp_in; /* DP_BATCH receive slots of OFFLOAD_RX_SLOT bytes, with GRO */
	struct gro gro;
	/* cmsg space of each GSO message and each GRO receive */
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		size_t align; /* cmsghdr's alignment */
	} gso_ctl[DP_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		size_t align; /* cmsghdr's alignment */
	} gro_ctl[DP_BATCH];
	struct mmsghdr gso_msgs[DP_BATCH];
	unsigned gso_first[DP_BATCH]; /* the batch index of each message's first datagram */
	struct gso_split split;	      /* the super-packet being cut into segments */
	bool splitting;
	uint64_t counters[OFF_C_COUNT];
	uint64_t drops[GSO_DROP_COUNT];
};

struct dp_io;

/* Opens the TUN device with offloads when `want` and the kernel agrees, else plain: fd or -errno.
 */
IPR_MUST_CHECK int offload_tun_open(struct dp_io *io, const char *name, bool want,
				    unsigned *ifindex);

/* Turns UDP GSO and GRO on for the open sockets, where wanted and possible. */
void offload_udp_setup(struct dp_io *io, bool gso, bool gro);

/* Buffers for what is on (after the plain receive slots, which GRO's replace); -ENOMEM. */
IPR_MUST_CHECK int offload_init(struct dp_io *io);
void offload_deinit(struct dp_io *io);

/* The next packet or segment from a TUN device with virtio-net headers (dpio_tun_next's). */
bool offload_tun_next(struct dp_io *io, const uint8_t **pkt, size_t *len);

/*
 * Sends b's datagrams as UDP_SEGMENT runs (same peer, equal sizes, the last may be shorter).
 * With keep_open, a last run that could still take more datagrams stays unsent: *end (b->n on
 * entry) becomes its first index, and the caller keeps it in the batch. Returns the index of
 * the first datagram it did not handle: the caller sends the rest up to *end one by one (all of
 * them after the kernel refused GSO, which also turns it off).
 */
unsigned offload_flush_gso(struct dp_io *io, struct dp_batch *b, bool keep_open, unsigned *end);

/* Prepares receive message i for GRO's control message. */
void offload_prepare_recv(struct dp_io *io, unsigned i);

/* The size of the datagrams received message i holds coalesced, 0 when it is a single one. */
size_t offload_gro_size(struct dp_io *io, unsigned i);

/* Holds an inbound packet for coalescing on a TUN device with virtio-net headers. */
void offload_tun_write(struct dp_io *io, const uint8_t *pkt, size_t len);

/* Writes what coalescing holds. */
void offload_tun_flush(struct dp_io *io);

/* Counter names ("offload.udp_gso"...). */
const char *offload_counter_name(enum offload_counter c);

#endif
