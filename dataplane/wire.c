/* Decoding, checking and encoding the IPREF tunnel header of spec/wire.md, without allocation. */
#include "wire.h"

#include <errno.h>
#include <string.h>

/* R, the most significant byte b15, travels in every reference length. */
#define REF_R_SHIFT 56
#define REF_LOW_HI  0x00ffffffffffffffULL

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t value = 0;

	for (size_t i = 0; i < n; i++)
		value = value << 8 | p[i];
	return value;
}

static void put_be(uint8_t *p, size_t n, uint64_t value)
{
	for (size_t i = n; i-- > 0;) {
		p[i] = (uint8_t)value;
		value >>= 8;
	}
}

/* Smallest length for one reference: b14..b3 zero gives 4, b14..b7 zero gives 8. */
static size_t ref_len_one(const struct ipr_ref *ref)
{
	if (ref->hi & REF_LOW_HI)
		return 16;
	if (ref->lo >> 24 == 0)
		return 4;
	if (ref->lo >> 56 == 0)
		return 8;
	return 16;
}

/* 16 bytes are b15..b0; 4 and 8 bytes are R followed by the low 3 or 7 bytes. */
static void ref_put(uint8_t *p, size_t n, const struct ipr_ref *ref)
{
	if (n == 16) {
		put_be(p, 8, ref->hi);
		put_be(p + 8, 8, ref->lo);
		return;
	}
	p[0] = (uint8_t)(ref->hi >> REF_R_SHIFT);
	put_be(p + 1, n - 1, ref->lo);
}

static struct ipr_ref ref_get(const uint8_t *p, size_t n)
{
	if (n == 16)
		return (struct ipr_ref){ .hi = get_be(p, 8), .lo = get_be(p + 8, 8) };
	return (struct ipr_ref){ .hi = (uint64_t)p[0] << REF_R_SHIFT, .lo = get_be(p + 1, n - 1) };
}

static unsigned refl_code(size_t ref_len)
{
	return ref_len == 4 ? 0 : ref_len == 8 ? 1 : 2;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

size_t dp_wire_ctx_len(uint8_t ctx_ver)
{
	return ctx_ver == 4 ? 4 : ctx_ver == 6 ? 16 : 0;
}

size_t dp_wire_ref_len(const struct ipr_ref *a, const struct ipr_ref *b)
{
	size_t la = ref_len_one(a), lb = ref_len_one(b);

	return la > lb ? la : lb;
}

static size_t hdr_len(bool has_frag, size_t addr_len, size_t ref_len)
{
	return DP_WIRE_FIXED_LEN + (has_frag ? DP_WIRE_FRAG_LEN : 0) + 2 * addr_len + 2 * ref_len;
}

size_t dp_wire_hdr_len(const struct dp_wire_hdr *hdr)
{
	size_t addr_len = dp_wire_ctx_len(hdr->ctx_ver);

	if (!addr_len)
		return 0;
	return hdr_len(hdr->has_frag, addr_len, dp_wire_ref_len(&hdr->src_ref, &hdr->dst_ref));
}

int dp_wire_decode(const uint8_t *pkt, size_t len, struct dp_wire_hdr *out)
{
	struct dp_wire_hdr h = { 0 };
	struct dp_wire_fixed fixed;
	size_t addr_len, pos = DP_WIRE_FIXED_LEN, total;
	unsigned refl;

	if (len < DP_WIRE_HDR_MIN)
		return -DP_WIRE_DROP_TRUNCATED;
	memcpy(&fixed, pkt, sizeof(fixed));
	if (fixed.flags >> DP_WIRE_VERSION_SHIFT != DP_WIRE_VERSION)
		return -DP_WIRE_DROP_VERSION;
	refl = (fixed.flags >> DP_WIRE_REFL_SHIFT) & DP_WIRE_REFL_MASK;
	if (refl == DP_WIRE_REFL_INVALID)
		return -DP_WIRE_DROP_REFL;
	if (fixed.ctx & DP_WIRE_CTX_RESERVED)
		return -DP_WIRE_DROP_RESERVED;
	h.ctx_ver = fixed.ctx >> DP_WIRE_CTX_SHIFT;
	addr_len = dp_wire_ctx_len(h.ctx_ver);
	if (!addr_len)
		return -DP_WIRE_DROP_FAMILY;
	h.version = DP_WIRE_VERSION;
	h.ref_len = (uint8_t)(4u << refl);
	h.has_frag = fixed.flags & DP_WIRE_F_IF;
	h.df = fixed.flags & DP_WIRE_F_DF;
	h.ttl = fixed.ttl;
	h.proto = fixed.proto;

	total = hdr_len(h.has_frag, addr_len, h.ref_len);
	if (len < total)
		return -DP_WIRE_DROP_TRUNCATED;
	if (h.has_frag) {
		struct dp_wire_frag frag;
		uint16_t word;

		memcpy(&frag, pkt + pos, sizeof(frag));
		if (frag.zero[0] || frag.zero[1])
			return -DP_WIRE_DROP_FRAG_ZERO;
		word = get_be16(frag.offset);
		if (word & DP_WIRE_FRAG_RESERVED)
			return -DP_WIRE_DROP_FRAG_BITS;
		h.frag_off = word & DP_WIRE_FRAG_OFF_MASK;
		h.more_frags = word & DP_WIRE_FRAG_MF;
		h.frag_id = (uint32_t)get_be(frag.id, sizeof(frag.id));
		pos += DP_WIRE_FRAG_LEN;
	}
	memcpy(h.src_ctx, pkt + pos, addr_len);
	pos += addr_len;
	memcpy(h.dst_ctx, pkt + pos, addr_len);
	pos += addr_len;
	h.src_ref = ref_get(pkt + pos, h.ref_len);
	pos += h.ref_len;
	h.dst_ref = ref_get(pkt + pos, h.ref_len);
	if (ipr_ref_is_null(&h.src_ref) || ipr_ref_is_null(&h.dst_ref))
		return -DP_WIRE_DROP_NULL_REF;

	*out = h;
	return (int)total;
}

static bool encodable(const struct dp_wire_hdr *hdr)
{
	if (hdr->version != DP_WIRE_VERSION || !dp_wire_ctx_len(hdr->ctx_ver))
		return false;
	if (ipr_ref_is_null(&hdr->src_ref) || ipr_ref_is_null(&hdr->dst_ref))
		return false;
	if (hdr->frag_off & ~DP_WIRE_FRAG_OFF_MASK)
		return false;
	/* fragment fields without IF would be lost silently: a forwarder bug, not a packet */
	return hdr->has_frag || (!hdr->more_frags && !hdr->frag_off && !hdr->frag_id);
}

int dp_wire_encode(const struct dp_wire_hdr *hdr, uint8_t *buf, size_t cap)
{
	size_t addr_len, ref_len, total, pos = DP_WIRE_FIXED_LEN;
	struct dp_wire_fixed fixed;

	if (!encodable(hdr))
		return -EINVAL;
	addr_len = dp_wire_ctx_len(hdr->ctx_ver);
	ref_len = dp_wire_ref_len(&hdr->src_ref, &hdr->dst_ref);
	total = hdr_len(hdr->has_frag, addr_len, ref_len);
	if (cap < total)
		return -ENOSPC;

	fixed.flags = (uint8_t)(DP_WIRE_VERSION << DP_WIRE_VERSION_SHIFT |
				refl_code(ref_len) << DP_WIRE_REFL_SHIFT |
				(hdr->has_frag ? DP_WIRE_F_IF : 0) | (hdr->df ? DP_WIRE_F_DF : 0));
	fixed.ctx = (uint8_t)(hdr->ctx_ver << DP_WIRE_CTX_SHIFT);
	fixed.ttl = hdr->ttl;
	fixed.proto = hdr->proto;
	memcpy(buf, &fixed, sizeof(fixed));
	if (hdr->has_frag) {
		struct dp_wire_frag frag = { 0 };

		put_be(frag.offset, sizeof(frag.offset),
		       hdr->frag_off | (hdr->more_frags ? DP_WIRE_FRAG_MF : 0));
		put_be(frag.id, sizeof(frag.id), hdr->frag_id);
		memcpy(buf + pos, &frag, sizeof(frag));
		pos += DP_WIRE_FRAG_LEN;
	}
	memcpy(buf + pos, hdr->src_ctx, addr_len);
	pos += addr_len;
	memcpy(buf + pos, hdr->dst_ctx, addr_len);
	pos += addr_len;
	ref_put(buf + pos, ref_len, &hdr->src_ref);
	pos += ref_len;
	ref_put(buf + pos, ref_len, &hdr->dst_ref);
	return (int)total;
}

static bool addr_matches(const struct dp_wire_addr *addr, uint8_t ver, const uint8_t *ctx)
{
	return addr && addr->ver == ver && memcmp(addr->bytes, ctx, dp_wire_ctx_len(ver)) == 0;
}

int dp_wire_check_contexts(struct dp_wire_hdr *hdr, const struct dp_wire_addr *outer_src,
			   const struct dp_wire_addr *own)
{
	size_t n = dp_wire_ctx_len(hdr->ctx_ver);
	uint8_t src[16], dst[16];
	bool own_known;

	if (!n)
		return -DP_WIRE_DROP_FAMILY;
	memcpy(src, hdr->src_ctx, sizeof(src));
	memcpy(dst, hdr->dst_ctx, sizeof(dst));

	/* a sender that does not know its public address (behind NAT) sends zero */
	if (is_zero(src, n) && outer_src && outer_src->ver == hdr->ctx_ver)
		memcpy(src, outer_src->bytes, n);
	if (!addr_matches(outer_src, hdr->ctx_ver, src))
		return -DP_WIRE_DROP_SRC_CONTEXT;

	/*
	 * A client-only gateway does not know its public address either; it can only take the
	 * peer's word for it (the reference gateway uses the context as a hint the same way).
	 */
	own_known =
		own && dp_wire_ctx_len(own->ver) && !is_zero(own->bytes, dp_wire_ctx_len(own->ver));
	if (own_known) {
		if (is_zero(dst, n) && own->ver == hdr->ctx_ver)
			memcpy(dst, own->bytes, n);
		if (!addr_matches(own, hdr->ctx_ver, dst))
			return -DP_WIRE_DROP_DST_CONTEXT;
	}

	memcpy(hdr->src_ctx, src, sizeof(src));
	memcpy(hdr->dst_ctx, dst, sizeof(dst));
	return 0;
}

const char *dp_wire_drop_name(enum dp_wire_drop reason)
{
	static const char *const names[DP_WIRE_DROP_COUNT] = {
		[DP_WIRE_DROP_TRUNCATED] = "truncated",
		[DP_WIRE_DROP_VERSION] = "bad_version",
		[DP_WIRE_DROP_REFL] = "bad_ref_length",
		[DP_WIRE_DROP_RESERVED] = "reserved_bits",
		[DP_WIRE_DROP_FAMILY] = "bad_context_family",
		[DP_WIRE_DROP_FRAG_ZERO] = "bad_fragment_info",
		[DP_WIRE_DROP_FRAG_BITS] = "bad_fragment_offset",
		[DP_WIRE_DROP_NULL_REF] = "null_reference",
		[DP_WIRE_DROP_SRC_CONTEXT] = "source_context_mismatch",
		[DP_WIRE_DROP_DST_CONTEXT] = "destination_context_mismatch",
	};

	if ((unsigned)reason >= DP_WIRE_DROP_COUNT || !names[reason])
		return "unknown";
	return names[reason];
}
