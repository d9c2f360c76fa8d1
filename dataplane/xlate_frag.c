/* IPREF-layer fragmentation of tunnel datagrams that do not fit the path to a peer. */
#include <string.h>

#include "xlate.h"

#define FRAG_OFF_MAX 0xfff8 /* the largest offset the fragment-info word holds */

int xlate_frag_begin(struct xlate_frag *f, const uint8_t *dgram, size_t len, size_t max,
		     uint32_t id)
{
	struct dp_wire_hdr h;
	int hlen = dp_wire_decode(dgram, len, &h);
	size_t piece_hdr;

	if (hlen < 0)
		return -XLATE_DROP_TOO_BIG; /* never: the caller built it */
	if (!h.has_frag) {
		h.has_frag = true;
		h.frag_id = id;
	}
	piece_hdr = dp_wire_hdr_len(&h);
	if (max < piece_hdr + 8 || (size_t)h.frag_off + (len - (size_t)hlen) > FRAG_OFF_MAX + 8)
		return -XLATE_DROP_TOO_BIG;
	h.df = false; /* the pieces are fragments now, whatever the host asked of the whole */
	f->hdr = h;
	f->l4 = dgram + hlen;
	f->l4_len = len - (size_t)hlen;
	f->step = (max - piece_hdr) / 8 * 8;
	f->started = false;
	return 0;
}

int xlate_frag_next(struct xlate_frag *f, uint8_t *out, size_t cap)
{
	struct dp_wire_hdr h = f->hdr;
	size_t n = f->l4_len > f->step ? f->step : f->l4_len;
	int hlen;

	if (f->l4_len == 0 && f->started)
		return 0;
	f->started = true;
	/* the last piece carries the original's MF: more may follow it from the host */
	h.more_frags = n < f->l4_len || f->hdr.more_frags;
	hlen = dp_wire_encode(&h, out, cap);
	if (hlen < 0 || (size_t)hlen + n > cap)
		return -XLATE_DROP_TOO_BIG;
	memcpy(out + hlen, f->l4, n);
	f->l4 += n;
	f->l4_len -= n;
	f->hdr.frag_off = (uint16_t)(f->hdr.frag_off + n);
	return hlen + (int)n;
}
