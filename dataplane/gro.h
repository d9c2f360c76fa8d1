/* Coalescing consecutive TCP segments of a flow into one super-packet for the TUN device (GRO). */
#ifndef DP_GRO_H
#define DP_GRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet.h"

/* Flows held at once: a few bulk transfers interleaved still coalesce. */
#define GRO_FLOWS 8
/* The largest super-packet: the IPv4 total length and IPv6 payload length limit. */
#define GRO_MAX_LEN 65535

/* Receives each packet to write: h is all zero for an ordinary packet. */
typedef void gro_emit_fn(void *ctx, const struct vnet_hdr *h, const uint8_t *pkt, size_t len,
			 unsigned segments);

struct gro_flow {
	uint8_t *buf;	   /* GRO_MAX_LEN bytes: the first segment's headers, then payloads */
	size_t len;	   /* 0: the slot is free */
	size_t l3_len;	   /* IP header length */
	size_t hdr_len;	   /* IP and TCP header length */
	size_t mss;	   /* the first segment's payload: every one but the last has this */
	uint32_t next_seq; /* the sequence number that continues the flow */
	unsigned segs;
	bool psh;	/* the last segment merged had PSH: it goes on the super-packet */
	uint64_t stamp; /* when the flow was last used, to evict the oldest */
};

struct gro {
	struct gro_flow flows[GRO_FLOWS];
	uint64_t clock;
	gro_emit_fn *emit;
	void *ctx;
	uint64_t merged;   /* segments that went into a super-packet after its first */
	uint64_t supers;   /* super-packets emitted (two segments or more) */
	uint64_t bad_csum; /* TCP segments not merged because their checksum was wrong */
};

/* mem holds GRO_FLOWS * GRO_MAX_LEN bytes and belongs to the caller. */
void gro_init(struct gro *g, uint8_t *mem, gro_emit_fn *emit, void *ctx);

/*
 * Takes one IPv4 or IPv6 packet (copied when held). A TCP segment that continues a held flow
 * (same addresses, ports, IP fields, ACK, window and options; next sequence number; only ACK,
 * PSH on the last; a valid checksum; no more payload than the first) is appended to it; any
 * other packet of that flow first flushes what is held, so the order within a flow stays.
 * Packets that cannot be merged at all are emitted at once.
 */
void gro_add(struct gro *g, const uint8_t *pkt, size_t len);

/*
 * Emits every held flow: a lone segment as it came, several as one super-packet with the IP
 * lengths set, the pseudo-header sum in the TCP checksum field and a header asking for
 * NEEDS_CSUM and TCPV4/TCPV6 segmentation at the first segment's payload size.
 */
void gro_flush(struct gro *g);

#endif
