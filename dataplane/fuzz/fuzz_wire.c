/* Fuzzes the tunnel header: drops are typed, decodes re-encode to the same header, checksums undo.
 */
#include <errno.h>
#include <string.h>

#include "checksum.h"
#include "fuzz.h"
#include "wire.h"

static bool same_hdr(const struct dp_wire_hdr *a, const struct dp_wire_hdr *b)
{
	return a->version == b->version && a->has_frag == b->has_frag && a->df == b->df &&
	       a->ctx_ver == b->ctx_ver && a->ttl == b->ttl && a->proto == b->proto &&
	       a->more_frags == b->more_frags && a->frag_off == b->frag_off &&
	       a->frag_id == b->frag_id && memcmp(a->src_ctx, b->src_ctx, 16) == 0 &&
	       memcmp(a->dst_ctx, b->dst_ctx, 16) == 0 && ipr_ref_equal(&a->src_ref, &b->src_ref) &&
	       ipr_ref_equal(&a->dst_ref, &b->dst_ref);
}

/* 0 and 0xffff are the two zeros of one's complement. */
static bool csum_equiv(uint16_t a, uint16_t b)
{
	return a == b || ((a == 0 || a == 0xffff) && (b == 0 || b == 0xffff));
}

/* Taking the contexts out of a checksum and putting them back gives an equivalent checksum. */
static void check_csum(const struct dp_wire_hdr *h, const uint8_t *l4, size_t len)
{
	size_t n = dp_wire_ctx_len(h->ctx_ver);
	int off = dp_csum_field_offset(h->proto, h->frag_off, h->more_frags, len);
	uint16_t check, wire, back;

	if (off < 0)
		return;
	FUZZ_CHECK((size_t)off + 2 <= len);
	check = (uint16_t)(l4[off] << 8 | l4[off + 1]);
	wire = dp_csum_strip_addrs(h->proto, check, h->src_ctx, h->dst_ctx, n);
	back = dp_csum_fill_addrs(h->proto, wire, h->src_ctx, h->dst_ctx, n);
	if (h->proto == DP_WIRE_PROTO_UDP) {
		FUZZ_CHECK((check == 0) == (wire == 0));
		FUZZ_CHECK((check == 0) == (back == 0));
	}
	FUZZ_CHECK(csum_equiv(check, back));
	/* a checksum computed in full survives the round trip exactly */
	if (h->frag_off == 0 && !h->more_frags) {
		check = dp_csum_l4(h->proto, h->src_ctx, h->dst_ctx, n, l4, len);
		wire = dp_csum_strip_addrs(h->proto, check, h->src_ctx, h->dst_ctx, n);
		FUZZ_CHECK(wire == dp_csum_l4(h->proto, NULL, NULL, 0, l4, len));
		FUZZ_CHECK(dp_csum_fill_addrs(h->proto, wire, h->src_ctx, h->dst_ctx, n) == check);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_wire_hdr hdr, back;
	uint8_t buf[DP_WIRE_HDR_MAX], again[DP_WIRE_HDR_MAX];
	int len, enc;

	len = dp_wire_decode(data, size, &hdr);
	if (len < 0) {
		FUZZ_CHECK(-len < DP_WIRE_DROP_COUNT);
		FUZZ_CHECK(strcmp(dp_wire_drop_name(-len), "unknown") != 0);
		return 0;
	}
	FUZZ_CHECK(len >= DP_WIRE_HDR_MIN && len <= DP_WIRE_HDR_MAX && (size_t)len <= size);

	enc = dp_wire_encode(&hdr, buf, sizeof(buf));
	FUZZ_CHECK(enc > 0 && (size_t)enc == dp_wire_hdr_len(&hdr) && enc <= len);
	FUZZ_CHECK(dp_wire_decode(buf, (size_t)enc, &back) == enc);
	FUZZ_CHECK(same_hdr(&hdr, &back));
	FUZZ_CHECK(back.ref_len == dp_wire_ref_len(&hdr.src_ref, &hdr.dst_ref));
	/* input already in the smallest form comes back byte for byte */
	if (hdr.ref_len == back.ref_len)
		FUZZ_CHECK(enc == len && memcmp(buf, data, (size_t)len) == 0);
	FUZZ_CHECK(dp_wire_encode(&back, again, sizeof(again)) == enc);
	FUZZ_CHECK(memcmp(buf, again, (size_t)enc) == 0);
	FUZZ_CHECK(dp_wire_encode(&hdr, buf, (size_t)enc - 1) == -ENOSPC);

	check_csum(&hdr, data + len, size - (size_t)len);
	return 0;
}
