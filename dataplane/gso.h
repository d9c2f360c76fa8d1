/* Splitting the TUN device's segmentation-offload "super-packets" into ordinary packets. */
#ifndef DP_GSO_H
#define DP_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "vnet.h"

/* More segments than this in one read is nonsense (64 KB of 88-byte TCP segments is ~745). */
#define GSO_MAX_SEGS 1024

/* Why a read from the TUN device is dropped before translation; functions return the negation. */
enum gso_drop {
	GSO_DROP_VNET = 1, /* shorter than the virtio-net header */
	GSO_DROP_TYPE,	   /* unknown gso_type, or one that does not match the packet */
	GSO_DROP_HEADER,   /* IP or L4 headers missing, inconsistent or beyond the read */
	GSO_DROP_SIZE,	   /* gso_size 0 or too many segments */
	GSO_DROP_CSUM,	   /* csum_start/csum_offset outside the packet or not the L4 field */
	GSO_DROP_SEG_ROOM, /* a segment does not fit the caller's buffer */
	GSO_DROP_COUNT
};

/* The state of one super-packet being cut into segments; the packet must stay in place. */
struct gso_split {
	const uint8_t *pkt;
	size_t len;
	uint8_t ver;	/* 4 or 6 */
	uint8_t proto;	/* 6 TCP, 17 UDP */
	size_t l3_len;	/* the IP header: where the L4 header starts */
	size_t hdr_len; /* IP and L4 headers, copied into each segment */
	size_t mss;	/* payload bytes per segment (the last may have fewer) */
	size_t off;	/* where the next segment's payload starts in pkt */
	unsigned index; /* segments made so far */
	unsigned count; /* segments in all */
};

/*
 * Looks at a packet read after its virtio-net header h. A packet without GSO has a pending
 * checksum (NEEDS_CSUM) completed in place and returns 0: it goes on as it is. A GSO packet
 * returns its segment count (at least 1) for gso_next. Otherwise -enum gso_drop.
 */
IPR_MUST_CHECK int gso_begin(struct gso_split *s, const struct vnet_hdr *h, uint8_t *pkt,
			     size_t len);

/*
 * Writes the next segment into out: the headers with lengths, IPv4 identification (+1 a
 * segment), TCP sequence number and flags (FIN and PSH only on the last, CWR only on the
 * first) made right, and full IPv4 header and L4 checksums. Returns its length, 0 after the
 * last one, or -GSO_DROP_SEG_ROOM.
 */
IPR_MUST_CHECK int gso_next(struct gso_split *s, uint8_t *out, size_t cap);

/*
 * Completes a partial checksum: the field at csum_start + csum_offset holds the pseudo-header
 * sum, and the sum over pkt[csum_start..len) goes in (a result of 0 is written 0xffff, as the
 * kernel does). 0 or -GSO_DROP_CSUM when the field is not inside the packet.
 */
IPR_MUST_CHECK int gso_complete_csum(uint8_t *pkt, size_t len, size_t csum_start,
				     size_t csum_offset);

/* A short fixed name for each reason ("gso_type"...). */
const char *gso_drop_name(int reason);

#endif
