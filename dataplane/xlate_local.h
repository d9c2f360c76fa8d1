/* Internal to translation: the local IP headers and ICMP type maps shared by both directions. */
#ifndef DP_XLATE_LOCAL_H
#define DP_XLATE_LOCAL_H

#include "xlate.h"

/* The fields of a local IPv4 or IPv6 header to build. */
struct xlate_local_hdr {
	uint8_t ver; /* 4 or 6 */
	const uint8_t *src;
	const uint8_t *dst;
	uint8_t ttl;
	uint8_t proto; /* the local protocol number: 58 for ICMPv6 */
	bool df;       /* IPv4 only */
	bool is_frag;
	bool more_frags;
	uint16_t frag_off;
	uint32_t frag_id; /* IPv6 fragments */
	uint16_t id16;	  /* IPv4 identification */
	size_t l4_len;
};

uint16_t xlate_be16(const uint8_t *p);
void xlate_put_be16(uint8_t *p, uint16_t v);

/*
 * Writes the IP header (and an IPv6 Fragment header) for l4_len bytes to follow. Returns the
 * header length or -XLATE_DROP_TOO_BIG when the packet would not fit cap or an IP datagram.
 */
IPR_MUST_CHECK int xlate_local_header(const struct xlate_local_hdr *h, uint8_t *out, size_t cap);

/* Local parsing of an IP packet that may be cut short, as an ICMP error quotes it. */
IPR_MUST_CHECK int xlate_local_parse_quoted(const uint8_t *pkt, size_t len,
					    struct xlate_local *out);

/*
 * IPREF-ICMP type and code (type << 8 | code) for a local ICMP (ver 4) or ICMPv6 (ver 6) type
 * and code, or -1 when there is no translation (spec/wire.md, ICMP).
 */
int xlate_icmp_from_local(uint8_t ver, uint8_t type, uint8_t code);
/* The local ICMP or ICMPv6 type and code (type << 8 | code) for an IPREF-ICMP one, or -1. */
int xlate_icmp_to_local(uint8_t ver, uint8_t type, uint8_t code);
/* Whether an IPREF-ICMP type is an error (and quotes a packet). */
bool xlate_icmp_is_error(uint8_t wire_type);

/* The one's-complement sum of an ICMPv6 pseudo-header (RFC 8200 8.1) for len bytes. */
uint16_t xlate_icmp6_pseudo_sum(const uint8_t *src, const uint8_t *dst, size_t len);

/* Translate an ICMP error and the packet it quotes; both return the L4 length or -reason. */
IPR_MUST_CHECK int xlate_icmp_error_to_wire(const struct xlate_local *pkt,
					    const struct xlate_out_map *map, uint8_t *out,
					    size_t cap);
IPR_MUST_CHECK int xlate_icmp_error_to_local(const struct xlate_remote *pkt,
					     const struct xlate_in_map *map, uint8_t *out,
					     size_t cap);

#endif
