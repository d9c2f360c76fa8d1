/* Golden vectors for segmentation and coalescing, and every malformed-offload drop reason. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vectors_util.h"
#include "gro.h"
#include "gso.h"
#include "vnet.h"

#define BUF  (70 * 1024)
#define MAXN 8

struct gso_vector {
	const char *name, *vnet, *in;
	const char *segs[MAXN];
};

struct gro_vector {
	const char *name;
	const char *in[MAXN];
	const char *out[MAXN];
};

/* Packets in and out as hex, built by gen_offload_vectors.py from the protocol rules alone. */
#include "offload_vectors.inc"

static void assert_hex(const char *name, unsigned i, const uint8_t *got, size_t len,
		       const char *want)
{
	static uint8_t expect[BUF];
	size_t n = vec_unhex(want, expect, sizeof(expect));

	if (n != len || memcmp(got, expect, n) != 0) {
		print_error("%s, packet %u: %zu bytes, want %zu\n", name, i, len, n);
		for (size_t k = 0; k < len && k < n; k++)
			if (got[k] != expect[k]) {
				print_error("  first difference at byte %zu: %02x, want %02x\n", k,
					    got[k], expect[k]);
				break;
			}
		fail();
	}
}

static void test_gso_vectors(void **state)
{
	static uint8_t in[BUF], seg[BUF];

	(void)state;
	for (size_t v = 0; v < sizeof(gso_vectors) / sizeof(gso_vectors[0]); v++) {
		const struct gso_vector *t = &gso_vectors[v];
		struct vnet_hdr h;
		struct gso_split s;
		uint8_t hb[VNET_HDR_LEN];
		size_t len;
		unsigned i = 0;
		int rc;

		assert_int_equal(vec_unhex(t->vnet, hb, sizeof(hb)), VNET_HDR_LEN);
		assert_int_equal(vnet_hdr_get(hb, sizeof(hb), &h), 0);
		len = vec_unhex(t->in, in, sizeof(in));
		rc = gso_begin(&s, &h, in, len);
		assert_true(rc >= 0);
		if (rc == 0) {
			assert_hex(t->name, 0, in, len, t->segs[0]);
			assert_null(t->segs[1]);
			continue;
		}
		while ((rc = gso_next(&s, seg, sizeof(seg))) > 0) {
			assert_non_null(t->segs[i]);
			assert_hex(t->name, i, seg, (size_t)rc, t->segs[i]);
			i++;
		}
		assert_int_equal(rc, 0);
		assert_null(t->segs[i]);
	}
}

/* What coalescing emitted, header and packet together as on the TUN device. */
static uint8_t emitted[MAXN][BUF];
static size_t emitted_len[MAXN];
static unsigned emitted_n;

static void collect(void *ctx, const struct vnet_hdr *h, const uint8_t *pkt, size_t len,
		    unsigned segments)
{
	(void)ctx;
	(void)segments;
	assert_true(emitted_n < MAXN);
	vnet_hdr_put(emitted[emitted_n], h);
	memcpy(emitted[emitted_n] + VNET_HDR_LEN, pkt, len);
	emitted_len[emitted_n++] = VNET_HDR_LEN + len;
}

static uint8_t gro_mem[GRO_FLOWS * GRO_MAX_LEN];

static void test_gro_vectors(void **state)
{
	static uint8_t in[BUF];
	struct gro g;

	(void)state;
	for (size_t v = 0; v < sizeof(gro_vectors) / sizeof(gro_vectors[0]); v++) {
		const struct gro_vector *t = &gro_vectors[v];
		unsigned i;

		gro_init(&g, gro_mem, collect, NULL);
		emitted_n = 0;
		for (i = 0; t->in[i]; i++)
			gro_add(&g, in, vec_unhex(t->in[i], in, sizeof(in)));
		gro_flush(&g);
		for (i = 0; t->out[i]; i++) {
			assert_true(i < emitted_n);
			assert_hex(t->name, i, emitted[i], emitted_len[i], t->out[i]);
		}
		assert_int_equal(emitted_n, i);
	}
}

/* A good IPv4 TCP super-packet (1800 bytes in 600-byte segments) to break in each test. */
static size_t good_tso4(uint8_t *buf, struct vnet_hdr *h)
{
	uint8_t hb[VNET_HDR_LEN];

	assert_int_equal(vnet_hdr_get(hb, vec_unhex(gso_vectors[0].vnet, hb, sizeof(hb)), h), 0);
	return vec_unhex(gso_vectors[0].in, buf, BUF);
}

static void test_gso_drops(void **state)
{
	static uint8_t buf[BUF], seg[BUF];
	struct vnet_hdr h;
	struct gso_split s;
	size_t len;

	(void)state;
	assert_int_equal(vnet_hdr_get(buf, VNET_HDR_LEN - 1, &h), -EBADMSG);

	len = good_tso4(buf, &h);
	assert_int_equal(gso_begin(&s, &h, buf, len), 3);
	h.gso_size = 0;
	assert_int_equal(gso_begin(&s, &h, buf, len), -GSO_DROP_SIZE);
	h.gso_size = 1; /* 1800 one-byte segments */
	assert_int_equal(gso_begin(&s, &h, buf, len), -GSO_DROP_SIZE);

	len = good_tso4(buf, &h);
	h.gso_type = VNET_GSO_TCPV6;
	assert_int_equal(gso_begin(&s, &h, buf, len), -GSO_DROP_TYPE);
	h.gso_type = VNET_GSO_UDP;
	assert_int_equal(gso_begin(&s, &h, buf, len), -GSO_DROP_TYPE);
	h.gso_type = VNET_GSO_UDP_L4; /* a TCP packet */
	assert_int_equal(gso_begin(&s, &h, buf, len), -GSO_DROP_TYPE);

	len = good_tso4(buf, &h);
	h.csum_start = 24;
	assert_int_equal(gso_begin(&s, &h, buf, len), -GSO_DROP_CSUM);
	h.csum_start = 20;
	h.csum_offset = 6;
	assert_int_equal(gso_begin(&s, &h, buf, len), -GSO_DROP_CSUM);

	/* headers past the end: the TCP data offset, the IPv4 header length, a cut packet */
	len = good_tso4(buf, &h);
	assert_int_equal(gso_begin(&s, &h, buf, 20 + 19), -GSO_DROP_HEADER);
	buf[20 + 12] = 0xf0;
	assert_int_equal(gso_begin(&s, &h, buf, 20 + 40), -GSO_DROP_HEADER);
	len = good_tso4(buf, &h);
	buf[0] = 0x4f;
	assert_int_equal(gso_begin(&s, &h, buf, 50), -GSO_DROP_HEADER);
	buf[0] = 0x44;
	assert_int_equal(gso_begin(&s, &h, buf, len), -GSO_DROP_HEADER);
	buf[0] = 0x75;
	assert_int_equal(gso_begin(&s, &h, buf, len), -GSO_DROP_HEADER);
	len = good_tso4(buf, &h);
	buf[6] |= 0x20; /* a fragment */
	assert_int_equal(gso_begin(&s, &h, buf, len), -GSO_DROP_HEADER);

	/* a segment larger than the caller's room */
	len = good_tso4(buf, &h);
	assert_int_equal(gso_begin(&s, &h, buf, len), 3);
	assert_int_equal(gso_next(&s, seg, 500), -GSO_DROP_SEG_ROOM);

	/* a pending checksum outside the packet */
	h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .csum_start = 60, .csum_offset = 0 };
	assert_int_equal(gso_begin(&s, &h, buf, 60), -GSO_DROP_CSUM);
	h.csum_start = 40;
	h.csum_offset = 19;
	assert_int_equal(gso_begin(&s, &h, buf, 60), -GSO_DROP_CSUM);
	h.csum_offset = 18;
	assert_int_equal(gso_begin(&s, &h, buf, 60), 0);
	assert_string_equal(gso_drop_name(GSO_DROP_SIZE), "gso_size");
	/* counter names: lowercase words joined by underscores */
	for (int r = 1; r < GSO_DROP_COUNT; r++)
		assert_int_equal(strspn(gso_drop_name(r), "abcdefghijklmnopqrstuvwxyz0123456789_"),
				 strlen(gso_drop_name(r)));
	assert_string_equal(gso_drop_name(0), "unknown");
}

/* Every segment a super-packet is cut into coalesces back into the same super-packet. */
static void test_split_then_coalesce(void **state)
{
	static uint8_t buf[BUF], seg[BUF];
	struct vnet_hdr h, back;
	struct gso_split s;
	struct gro g;
	size_t len = good_tso4(buf, &h);
	int rc;

	(void)state;
	gro_init(&g, gro_mem, collect, NULL);
	emitted_n = 0;
	buf[20 + 13] = 0x18; /* ACK and PSH, no CWR: a first segment with CWR would stay apart */
	assert_int_equal(gso_begin(&s, &h, buf, len), 3);
	while ((rc = gso_next(&s, seg, sizeof(seg))) > 0)
		gro_add(&g, seg, (size_t)rc);
	gro_flush(&g);
	assert_int_equal(emitted_n, 1);
	assert_int_equal(g.supers, 1);
	assert_int_equal(g.merged, 2);
	assert_int_equal(vnet_hdr_get(emitted[0], emitted_len[0], &back), 0);
	assert_int_equal(back.gso_type, VNET_GSO_TCPV4);
	assert_int_equal(back.gso_size, h.gso_size);
	assert_int_equal(back.csum_start, 20);
	assert_int_equal(back.csum_offset, 16);
	/* byte for byte the super-packet the kernel gave, partial checksum included */
	assert_int_equal(emitted_len[0], VNET_HDR_LEN + len);
	assert_memory_equal(emitted[0] + VNET_HDR_LEN, buf, len);
}

/*
 * A segment with a wrong checksum in the middle of a flow is summed as it is copied past the
 * flow's end: it must not be merged (its bytes are left out), the segment before it goes as it
 * was, it goes alone and counted, and the one after starts a flow of its own.
 */
static void test_bad_segment_not_merged(void **state)
{
	static uint8_t buf[BUF], seg[3][BUF];
	size_t seg_len[3];
	struct vnet_hdr h;
	struct gso_split s;
	struct gro g;
	size_t len = good_tso4(buf, &h);
	int rc;

	(void)state;
	gro_init(&g, gro_mem, collect, NULL);
	emitted_n = 0;
	buf[20 + 13] = 0x10; /* ACK only: every segment may merge */
	assert_int_equal(gso_begin(&s, &h, buf, len), 3);
	for (unsigned i = 0; i < 3; i++) {
		rc = gso_next(&s, seg[i], sizeof(seg[i]));
		assert_true(rc > 40);
		seg_len[i] = (size_t)rc;
	}
	seg[1][seg_len[1] - 1] ^= 0x01; /* a payload byte changed, the checksum not */
	for (unsigned i = 0; i < 3; i++)
		gro_add(&g, seg[i], seg_len[i]);
	gro_flush(&g);
	assert_int_equal(g.bad_csum, 1);
	assert_int_equal(g.supers, 0);
	assert_int_equal(emitted_n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(emitted_len[i], VNET_HDR_LEN + seg_len[i]);
		assert_memory_equal(emitted[i] + VNET_HDR_LEN, seg[i], seg_len[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gso_vectors),
		cmocka_unit_test(test_gro_vectors),
		cmocka_unit_test(test_gso_drops),
		cmocka_unit_test(test_split_then_coalesce),
		cmocka_unit_test(test_bad_segment_not_merged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
