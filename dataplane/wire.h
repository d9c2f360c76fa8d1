/* The IPREF tunnel header (spec/wire.md): pure decoder, encoder and typed drop reasons. */
#ifndef DP_WIRE_H
#define DP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ref.h"

#define DP_WIRE_VERSION	  1
#define DP_WIRE_PORT	  1045
#define DP_WIRE_FIXED_LEN 4
#define DP_WIRE_FRAG_LEN  8
#define DP_WIRE_HDR_MIN	  20
#define DP_WIRE_HDR_MAX	  76

/* Byte 0: version, REFL, IF, DF. */
#define DP_WIRE_VERSION_SHIFT 4
#define DP_WIRE_REFL_SHIFT    2
#define DP_WIRE_REFL_MASK     0x3
#define DP_WIRE_REFL_INVALID  3
#define DP_WIRE_F_IF	      0x02
#define DP_WIRE_F_DF	      0x01
/* Byte 1: context address version in the high nibble; the low nibble is reserved. */
#define DP_WIRE_CTX_SHIFT    4
#define DP_WIRE_CTX_RESERVED 0x0f
/* Fragment-info offset word: as in an IPv6 Fragment header. */
#define DP_WIRE_FRAG_OFF_MASK 0xfff8
#define DP_WIRE_FRAG_RESERVED 0x0006
#define DP_WIRE_FRAG_MF	      0x0001

/* Protocol byte values; 1 is IPREF-ICMP (ICMPv4 style, no pseudo-header) for both families. */
#define DP_WIRE_PROTO_ICMP 1
#define DP_WIRE_PROTO_TCP  6
#define DP_WIRE_PROTO_UDP  17

/* The two fixed-layout parts of the header, byte arrays so that any buffer alignment works. */
struct dp_wire_fixed {
	uint8_t flags; /* version, REFL, IF, DF */
	uint8_t ctx;   /* context address version, reserved nibble */
	uint8_t ttl;
	uint8_t proto;
};

struct dp_wire_frag {
	uint8_t zero[2];
	uint8_t offset[2]; /* offset in bytes, reserved bits, MF */
	uint8_t id[4];
};

_Static_assert(sizeof(struct dp_wire_fixed) == DP_WIRE_FIXED_LEN, "fixed part is 4 bytes");
_Static_assert(sizeof(struct dp_wire_frag) == DP_WIRE_FRAG_LEN, "fragment info is 8 bytes");
_Static_assert(DP_WIRE_HDR_MIN == DP_WIRE_FIXED_LEN + 2 * 4 + 2 * 4, "shortest header");
_Static_assert(DP_WIRE_HDR_MAX == DP_WIRE_FIXED_LEN + DP_WIRE_FRAG_LEN + 2 * 16 + 2 * 16,
	       "longest header");

/*
 * Why a packet is dropped, for counters. The decoder returns the negated value, so that any
 * negative return is a reason and any positive one a header length.
 */
enum dp_wire_drop {
	DP_WIRE_DROP_TRUNCATED = 1, /* shorter than its header */
	DP_WIRE_DROP_VERSION,	    /* version is not 1 */
	DP_WIRE_DROP_REFL,	    /* REFL 3 */
	DP_WIRE_DROP_RESERVED,	    /* low nibble of byte 1 not zero */
	DP_WIRE_DROP_FAMILY,	    /* context address version neither 4 nor 6 */
	DP_WIRE_DROP_FRAG_ZERO,	    /* fragment-info bytes 0-1 not zero */
	DP_WIRE_DROP_FRAG_BITS,	    /* fragment offset bits 1-2 set */
	DP_WIRE_DROP_NULL_REF,	    /* reference 0 ("never valid in a packet") */
	DP_WIRE_DROP_SRC_CONTEXT,   /* source context is not the outer source address */
	DP_WIRE_DROP_DST_CONTEXT,   /* destination context is not our public address */
	DP_WIRE_DROP_COUNT	    /* one past the last reason: sizes counter arrays */
};

/* A decoded header. Context addresses use 4 or 16 bytes of their arrays; the rest is zero. */
struct dp_wire_hdr {
	uint8_t version; /* DP_WIRE_VERSION */
	uint8_t ref_len; /* 4, 8 or 16 as received; the encoder chooses its own */
	bool has_frag;	 /* IF: the fragment fields below are meaningful */
	bool df;
	uint8_t ctx_ver; /* 4 or 6 (equal to IPR_CONTEXT_IPV4 and IPR_CONTEXT_IPV6) */
	uint8_t ttl;
	uint8_t proto;
	bool more_frags;   /* MF */
	uint16_t frag_off; /* in bytes, a multiple of 8 */
	uint32_t frag_id;
	uint8_t src_ctx[16];
	uint8_t dst_ctx[16];
	struct ipr_ref src_ref;
	struct ipr_ref dst_ref;
};

/* An outer or configured address for the context checks; ver 0 means unknown. */
struct dp_wire_addr {
	uint8_t ver; /* 0, 4 or 6 */
	uint8_t bytes[16];
};

/* Context address length for an address version: 4, 16, or 0 when neither 4 nor 6. */
size_t dp_wire_ctx_len(uint8_t ctx_ver);

/* Smallest reference length (4, 8 or 16) on the wire that holds both references. */
size_t dp_wire_ref_len(const struct ipr_ref *a, const struct ipr_ref *b);

/* Length dp_wire_encode writes for hdr (its ref_len is ignored); 0 if ctx_ver is invalid. */
size_t dp_wire_hdr_len(const struct dp_wire_hdr *hdr);

/*
 * Decodes the header at the start of a UDP payload and applies every receiver check of
 * wire.md that needs nothing but the packet, plus the null-reference rule. Returns the header
 * length (the L4 data starts there) or -enum dp_wire_drop; out is written only on success.
 * Checks run in the deployed gateway's order: at least 20 bytes, byte 0, byte 1, the whole
 * header's length, fragment info, references.
 */
IPR_MUST_CHECK int dp_wire_decode(const uint8_t *pkt, size_t len, struct dp_wire_hdr *out);

/*
 * Writes hdr with the smallest reference length that holds both references. Returns the
 * length written, -EINVAL for a header that must not go on the wire (version not 1, bad
 * ctx_ver, null reference, offset not a multiple of 8, fragment fields set without has_frag)
 * or -ENOSPC when cap is too small; buf is untouched on failure.
 */
IPR_MUST_CHECK int dp_wire_encode(const struct dp_wire_hdr *hdr, uint8_t *buf, size_t cap);

/*
 * The receiver's context rules: a zero source context becomes outer_src and must then equal it;
 * a zero destination context becomes own and must then equal it. own is the gateway's public
 * address of the packet's context family; when it is NULL or unknown (ver 0 or all zero: a
 * client-only gateway) the destination context is accepted as it is. Returns 0,
 * -DP_WIRE_DROP_SRC_CONTEXT or -DP_WIRE_DROP_DST_CONTEXT (-DP_WIRE_DROP_FAMILY for a header
 * whose ctx_ver is neither 4 nor 6); hdr is changed only on success.
 */
IPR_MUST_CHECK int dp_wire_check_contexts(struct dp_wire_hdr *hdr,
					  const struct dp_wire_addr *outer_src,
					  const struct dp_wire_addr *own);

/* A short fixed name for a drop reason ("truncated", "bad_version", ...), "unknown" if none. */
const char *dp_wire_drop_name(enum dp_wire_drop reason);

#endif
