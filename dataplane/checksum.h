/* Internet checksums for the tunnel: incremental TCP/UDP pseudo-header updates of spec/wire.md. */
#ifndef DP_CHECKSUM_H
#define DP_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Where the checksum field sits in each L4 header. */
#define DP_CSUM_TCP_FIELD 16
#define DP_CSUM_UDP_FIELD 6
#define DP_CSUM_UDP_HDR	  8

/*
 * Adds data to a one's-complement sum: big-endian 16-bit words, an odd last byte padded with
 * zero (so only the last piece of a chain may have an odd length). Sums are folded, never
 * complemented; start from 0.
 */
uint16_t dp_csum_add(uint16_t sum, const uint8_t *data, size_t len);

/*
 * dp_csum_add of src that also copies it to dst (len bytes, any alignment, no overlap): one
 * pass over a payload that is both moved and checksummed, as when a super-packet is cut.
 */
uint16_t dp_csum_copy(uint16_t sum, uint8_t *dst, const uint8_t *src, size_t len);

/*
 * The checksum field value of a TCP or UDP datagram (whole, or an unfragmented packet) under a
 * pseudo-header of the two addresses (addr_len 4 or 16; both pseudo-header forms leave the same
 * residue), the protocol and len. addr_len 0 gives the wire form of spec/wire.md, without
 * addresses. The TCP or UDP field's current content is ignored (any other protocol is summed as
 * it is: zero its field first). A UDP result of 0 is sent as 0xffff.
 */
uint16_t dp_csum_l4(uint8_t proto, const uint8_t *src, const uint8_t *dst, size_t addr_len,
		    const uint8_t *l4, size_t len);

/*
 * Sending side: takes the inner pseudo-header's addresses out of a TCP or UDP checksum field,
 * leaving the wire form. Receiving side: puts the new addresses in. The addresses may be 4 or
 * 16 bytes each side, independently. For UDP a zero field (no checksum) stays zero and a
 * result of zero is written 0xffff; 0xffff on input is just another zero. Any other protocol
 * is adjusted like TCP.
 */
uint16_t dp_csum_strip_addrs(uint8_t proto, uint16_t check, const uint8_t *src, const uint8_t *dst,
			     size_t addr_len);
uint16_t dp_csum_fill_addrs(uint8_t proto, uint16_t check, const uint8_t *src, const uint8_t *dst,
			    size_t addr_len);

/*
 * RFC 1624's incremental update of a checksum field when covered data whose one's-complement
 * sum was old_sum now sums to new_sum (sums from dp_csum_add). Like a full computation, it
 * never gives 0xffff for data that is not all zero.
 */
uint16_t dp_csum_update(uint16_t check, uint16_t old_sum, uint16_t new_sum);

/*
 * Where the checksum field to adjust lies in one fragment's L4 bytes: frag_off is the
 * fragment's offset in bytes, more_frags its MF flag, len its L4 length (an unfragmented packet
 * is offset 0 without MF). TCP is adjusted in whichever fragment carries the field, UDP only in
 * the first fragment. Returns the field's offset within the fragment, -ENOENT when this
 * fragment has nothing to adjust (or proto is neither TCP nor UDP), or -EBADMSG when the
 * datagram or a fragment ends inside the field or the UDP header.
 */
IPR_MUST_CHECK int dp_csum_field_offset(uint8_t proto, uint16_t frag_off, bool more_frags,
					size_t len);

#endif
