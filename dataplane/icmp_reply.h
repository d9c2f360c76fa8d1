/* The gateway's own ICMP errors: ICMP or ICMPv6 to local hosts, IPREF-ICMP to peer gateways. */
#ifndef DP_ICMP_REPLY_H
#define DP_ICMP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "xlate.h"

/*
 * Pure builders like the translation core: the caller decides whether to answer (the rate
 * limit is its own) and where the result goes. Errors quote the offending packet as received,
 * cut so that the whole error stays within 576 bytes (IPv4, IPREF) or 1280 bytes (IPv6), the
 * sizes every host must accept.
 */

/* The gateway's reference in its own context (spec/wire.md, Reserved references). */
#define ICMP_REPLY_GATEWAY_REF 1

enum icmp_reply_kind {
	ICMP_REPLY_HOST_UNREACHABLE,  /* ICMP 3/1, ICMPv6 1/3, IPREF-ICMP 3/1 */
	ICMP_REPLY_PROTO_UNREACHABLE, /* ICMP 3/2, ICMPv6 Parameter Problem 4/1 at proto_at */
	ICMP_REPLY_SOURCE_ROUTE,      /* ICMP 3/5 (IPv4 only) */
	ICMP_REPLY_TOO_BIG,	      /* ICMP 3/4, ICMPv6 2/0, with the MTU */
	ICMP_REPLY_TIME_EXCEEDED,     /* ICMP 11/0, ICMPv6 3/0, IPREF-ICMP 11/0 */
};

/*
 * Whether a local packet may be answered at all (RFC 1812 4.3.2.7, RFC 4443 2.4 e): never an
 * ICMP error, a later fragment, or a packet from an unspecified, loopback, multicast or
 * broadcast source or to a multicast or broadcast destination.
 */
bool icmp_reply_local_allowed(const struct xlate_local *p);

/*
 * An error from `from` (an address of p's family: the gateway's own in the encoded range) to
 * p's source about p, whose bytes are pkt/len. info is the MTU for ICMP_REPLY_TOO_BIG. Returns
 * the packet's length or -XLATE_DROP_TOO_BIG when cap is short; -EINVAL for a kind that the
 * family has no message for.
 */
IPR_MUST_CHECK int icmp_reply_to_local(const struct xlate_local *p, const uint8_t *pkt, size_t len,
				       enum icmp_reply_kind kind, uint32_t info,
				       const uint8_t *from, uint8_t *out, size_t cap);

/* Likewise for a peer's datagram: never an IPREF-ICMP error or a later fragment. */
bool icmp_reply_peer_allowed(const struct xlate_remote *r);

/*
 * An IPREF-ICMP error from this gateway (reference 1 in the context the packet was sent to) to
 * the sender of r, whose datagram is dgram/len: HOST_UNREACHABLE or TIME_EXCEEDED. Returns the
 * datagram's length or a negative reason.
 */
IPR_MUST_CHECK int icmp_reply_to_peer(const struct xlate_remote *r, const uint8_t *dgram,
				      size_t len, enum icmp_reply_kind kind, uint8_t *out,
				      size_t cap);

#endif
