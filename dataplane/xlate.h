/* Translation between local IPv4/IPv6 packets and IPREF tunnel packets: pure, on caller buffers. */
#ifndef DP_XLATE_H
#define DP_XLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ref.h"
#include "wire.h"

/*
 * The packet path is parse -> validate -> (the caller looks mappings up) -> translate -> emit.
 * Nothing here allocates, logs or keeps state, so the daemon, the golden-vector tests and the
 * fuzz target run exactly the same code. Every refusal is a typed reason for a counter.
 *
 * TTL and hop limit cross the tunnel unchanged: the gateway's kernel decrements them once as it
 * forwards a packet into the TUN device (and on the other side out of it), so each gateway
 * counts as one hop, like a router, and an expiry at the far gateway makes its kernel send
 * "time exceeded", which comes back translated. Only 0 is refused.
 */

#define XLATE_IPV4_HDR	20
#define XLATE_IPV6_HDR	40
#define XLATE_IPV6_FRAG 8
/* Largest inner packet either way: an IPv4 or IPv6 datagram never exceeds this. */
#define XLATE_PKT_MAX 65535

#define XLATE_PROTO_ICMPV6 58

/*
 * Drop reasons share one number space with the wire decoder's (enum dp_wire_drop), so that a
 * single counter array covers both sides. Functions return the negated reason.
 */
enum xlate_drop {
	/* local side (packets read from the TUN device) */
	XLATE_DROP_IP_TRUNCATED = DP_WIRE_DROP_COUNT, /* shorter than its IP header or length */
	XLATE_DROP_IP_VERSION,			      /* neither IPv4 nor IPv6 */
	XLATE_DROP_IP_HEADER,			      /* IPv4 header length or checksum wrong */
	XLATE_DROP_IP_EXTENSION,      /* IPv6 extension header that cannot be stripped */
	XLATE_DROP_TTL,		      /* TTL or hop limit 0: ran out before it came here */
	XLATE_DROP_PROTOCOL,	      /* neither TCP, UDP nor ICMP */
	XLATE_DROP_ICMP_TYPE,	      /* ICMP type or code without a translation */
	XLATE_DROP_ICMP_FRAGMENT,     /* fragmented ICMP error, or an echo's length unknown */
	XLATE_DROP_L4_TRUNCATED,      /* L4 header too short for its checksum */
	XLATE_DROP_UDP_ZERO_FRAGMENT, /* fragmented zero-checksum UDP to IPv6 */
	XLATE_DROP_TOO_BIG,	      /* the result does not fit the output */
	XLATE_DROP_ICMP_QUOTE,	      /* an ICMP error quoting what this flow never carried */
	/* mapping lookups, done by the caller but counted alike */
	XLATE_DROP_NO_DST_MAPPING, /* local packet to an encoded address nobody mapped */
	XLATE_DROP_NO_SRC_REF,	   /* local source without a reference, and no room to wait */
	XLATE_DROP_NOT_OURS,	   /* destination reference is none of our local mappings */
	XLATE_DROP_NO_SRC_EA,	   /* remote source without an encoded address, no room to wait */
	XLATE_DROP_WAIT_TIMEOUT,   /* waited for a mapping from gwctld too long */
	XLATE_DROP_NO_CONTEXT, /* remote gateway only known by name, or no socket of its family */
	XLATE_DROP_FAMILY_MISMATCH, /* local host and encoded address of different families */
	XLATE_DROP_SEND_FAILED,	    /* the kernel refused the datagram or TUN write */
	XLATE_DROP_SOURCE_ROUTE,    /* IPv4 source route or IPv6 routing header with hops left */
	XLATE_DROP_PATH_MTU,	    /* DF packet larger than the peer's path MTU allows */
	XLATE_DROP_COUNT
};

/* A local packet after parsing and validation; l4 points into the packet parsed. */
struct xlate_local {
	uint8_t ver; /* 4 or 6 */
	uint8_t src[16];
	uint8_t dst[16];
	uint8_t ttl;
	uint8_t proto;	   /* as in the IP header: 1, 6, 17 or 58 */
	uint16_t proto_at; /* offset of the byte that names proto (for Parameter Problem) */
	bool df;
	bool is_frag; /* offset, MF and id below are meaningful */
	bool more_frags;
	uint16_t frag_off; /* in bytes */
	uint32_t frag_id;
	const uint8_t *l4;
	size_t l4_len;
	/*
	 * The first fragment of an ICMPv6 echo: the whole message's length, which its checksum's
	 * pseudo-header covers and only the last fragment tells. Set by the caller (0: unknown,
	 * and the fragment cannot be translated: -XLATE_DROP_ICMP_FRAGMENT).
	 */
	uint32_t icmp_len;
};

/* A tunnel packet after decoding and the context rules; l4 points into the datagram. */
struct xlate_remote {
	struct dp_wire_hdr hdr;
	const uint8_t *l4;
	size_t l4_len;
	uint32_t icmp_len; /* the same for the first fragment of an echo to an IPv6 host */
};

/*
 * Whether a fragment needs the whole ICMP message's length to be translated (the first
 * fragment of an ICMPv6 echo going to the wire, or of an IPREF-ICMP echo going to an IPv6
 * host), and what the fragment tells of it: *total is the length when it is the last fragment,
 * else 0. Other fragments of the same datagram pass as they are.
 */
bool xlate_local_icmp_frag(const struct xlate_local *pkt, uint32_t *total);
bool xlate_remote_icmp_frag(const struct xlate_remote *pkt, uint8_t local_ver, uint32_t *total);

/* What the lookups give an outbound packet: both sides' contexts and references. */
struct xlate_out_map {
	struct dp_wire_addr src_ctx; /* our public address, ver = dst_ctx.ver; zero if unknown */
	struct dp_wire_addr dst_ctx; /* the peer gateway */
	struct ipr_ref src_ref;	     /* the local host's reference */
	struct ipr_ref dst_ref;	     /* the remote host's reference */
	/*
	 * ICMP errors only: the reference of the local host the quoted packet was for, when that
	 * is not the error's sender (a router on the way, this gateway's kernel).
	 */
	bool has_quote_ref;
	struct ipr_ref quote_ref;
};

/* What the lookups give an inbound packet: the remote's encoded address and the local host. */
struct xlate_in_map {
	struct dp_wire_addr src; /* encoded address standing for the remote host */
	struct dp_wire_addr dst; /* the local host; same ver as src */
	uint16_t ipv4_id;	 /* IPv4 identification for an unfragmented packet without DF */
	/*
	 * ICMP errors only: the encoded address of the remote host the quoted packet was for, when
	 * that is not the error's sender (a router beyond the peer gateway); same ver as dst.
	 */
	bool has_quote_ea;
	uint8_t quote_ea[16];
};

/*
 * Parses and checks a packet read from the TUN device: IPv4 (options stripped, an unexpired
 * source route refused) or IPv6 (hop-by-hop, destination options and spent routing headers
 * stripped, a Fragment header mapped), TCP, UDP, ICMP echo and the errors of spec/wire.md, and a
 * TTL above 0. Returns 0 or -enum xlate_drop; out is written on success, and also for
 * -XLATE_DROP_PROTOCOL and -XLATE_DROP_SOURCE_ROUTE, so that the caller can answer them with
 * an ICMP error (l4 is then NULL for a source route).
 */
IPR_MUST_CHECK int xlate_local_parse(const uint8_t *pkt, size_t len, struct xlate_local *out);

/*
 * Whether a packet read from the TUN device is link traffic of the device itself: to a
 * multicast, broadcast or link-local address. Only the gateway's own kernel sends such packets
 * there (MLD reports, router and neighbour solicitations): the routes into the device are the
 * encoded ranges, and routers never forward link-scoped packets. They are not drops.
 */
bool xlate_local_is_link_traffic(const uint8_t *pkt, size_t len);

/*
 * Decodes a datagram received from outer_src, applies the context rules with own (our public
 * address of the packet's context family; NULL or ver 0 when unknown), and checks the protocol,
 * ICMP type and TTL. Returns 0 or -(enum dp_wire_drop or enum xlate_drop); out is written on
 * success and for -XLATE_DROP_TTL (which the caller answers with "time exceeded").
 */
IPR_MUST_CHECK int xlate_wire_parse(const uint8_t *pkt, size_t len,
				    const struct dp_wire_addr *outer_src,
				    const struct dp_wire_addr *own, struct xlate_remote *out);

/*
 * Builds the tunnel datagram (the UDP payload) for a parsed local packet: IPREF header, L4 checksum
 * without the inner addresses, ICMPv6 made IPREF-ICMP. Returns its length or -enum xlate_drop.
 */
IPR_MUST_CHECK int xlate_to_wire(const struct xlate_local *pkt, const struct xlate_out_map *map,
				 uint8_t *out, size_t cap);

/*
 * Builds the local IPv4 or IPv6 packet (map->dst.ver decides, whatever the tunnel's family) for
 * a parsed tunnel packet: checksums with the new addresses, IPREF-ICMP made ICMPv6 for
 * IPv6, fragments as IPv4 fragments or an IPv6 Fragment header. Returns its length or
 * -enum xlate_drop.
 */
IPR_MUST_CHECK int xlate_to_local(const struct xlate_remote *pkt, const struct xlate_in_map *map,
				  uint8_t *out, size_t cap);

/*
 * What an ICMP error's quoted packet was addressed to, for the lookups when it was not the
 * error's own sender: a local error gives the quoted destination address (*ver 4 or 6, addr
 * 16 bytes), a tunnel error the quoted destination reference. Returns 0, or -ENOENT when the
 * packet is no ICMP error with a readable quote.
 */
IPR_MUST_CHECK int xlate_local_quote_dst(const struct xlate_local *pkt, uint8_t *ver,
					 uint8_t *addr);
IPR_MUST_CHECK int xlate_remote_quote_dst(const struct xlate_remote *pkt, struct ipr_ref *ref);

/*
 * IPREF-layer fragmentation (spec/wire.md, Fragments) of a tunnel datagram longer than the path
 * allows: pieces of at most max bytes, each with fragment info, offsets continuing the
 * original's, MF on all but the last (which keeps the original's), DF clear. A datagram that is
 * a fragment already keeps its identification (so its pieces reassemble with its siblings);
 * a whole one gets id. Nothing is allocated: begin checks and plans, next writes one piece.
 */
struct xlate_frag {
	const uint8_t *l4; /* what is left to send */
	size_t l4_len;
	size_t step;  /* L4 bytes per piece, a multiple of 8 */
	bool started; /* a datagram with no data at all still goes, as one piece */
	struct dp_wire_hdr hdr;
};

/* 0, or -XLATE_DROP_TOO_BIG when max leaves no room for 8 bytes of data after the header. */
IPR_MUST_CHECK int xlate_frag_begin(struct xlate_frag *f, const uint8_t *dgram, size_t len,
				    size_t max, uint32_t id);
/* The next piece's length, 0 when all are written, or -XLATE_DROP_TOO_BIG when cap is short. */
IPR_MUST_CHECK int xlate_frag_next(struct xlate_frag *f, uint8_t *out, size_t cap);

/* A short fixed name for any drop reason, wire or translation ("bad_version", "ttl"...). */
const char *xlate_drop_name(int reason);

#endif
