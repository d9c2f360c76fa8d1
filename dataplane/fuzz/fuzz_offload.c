/* Fuzzes the offload paths: any virtio-net header and packet through segmentation, coalescing. */
#include <string.h>

#include "fuzz.h"
#include "gro.h"
#include "gso.h"
#include "vnet.h"

#define BUF (GRO_MAX_LEN + 1024)

static uint8_t gro_mem[GRO_FLOWS * GRO_MAX_LEN];

static bool is_drop(int rc)
{
	return rc < 0 && -rc < GSO_DROP_COUNT && strcmp(gso_drop_name(-rc), "unknown") != 0;
}

/* What coalescing writes must be something the kernel (and our own splitting) accepts. */
static void check_emitted(void *ctx, const struct vnet_hdr *h, const uint8_t *pkt, size_t len,
			  unsigned segments)
{
	static uint8_t copy[BUF], seg[BUF];
	struct gso_split s;
	int rc;

	(void)ctx;
	if (h->gso_type == VNET_GSO_NONE) {
		FUZZ_CHECK(h->flags == 0 && segments == 1); /* passed on as it came */
		return;
	}
	FUZZ_CHECK(len > 0 && len <= GRO_MAX_LEN && segments >= 2);
	FUZZ_CHECK(h->gso_type == VNET_GSO_TCPV4 || h->gso_type == VNET_GSO_TCPV6);
	FUZZ_CHECK(h->flags == VNET_F_NEEDS_CSUM && h->gso_size > 0 && h->hdr_len < len);
	FUZZ_CHECK((size_t)h->csum_start + h->csum_offset + 2 <= len);
	FUZZ_CHECK(len - h->hdr_len <= (size_t)segments * h->gso_size);
	/* cut again, it gives back as many segments as went in */
	memcpy(copy, pkt, len);
	rc = gso_begin(&s, h, copy, len);
	FUZZ_CHECK(rc == (int)segments || (rc == -GSO_DROP_SIZE && segments > GSO_MAX_SEGS));
	while (rc > 0 && (rc = gso_next(&s, seg, sizeof(seg))) > 0)
		FUZZ_CHECK((size_t)rc <= h->hdr_len + h->gso_size);
	FUZZ_CHECK(rc == 0 || rc == -GSO_DROP_SIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[BUF], seg[BUF];
	static const size_t caps[4] = { 1500, 9200, 600, BUF };
	struct gro g;
	struct vnet_hdr h;
	struct gso_split s;
	size_t len, cap, payload = 0, made = 0;
	int rc;

	/* the first byte picks the segment room; then the header and the packet */
	if (size < 1 + VNET_HDR_LEN || size - 1 - VNET_HDR_LEN > sizeof(pkt))
		return 0;
	cap = caps[data[0] & 3];
	FUZZ_CHECK(vnet_hdr_get(data + 1, size - 1, &h) == 0);
	len = size - 1 - VNET_HDR_LEN;
	memcpy(pkt, data + 1 + VNET_HDR_LEN, len);
	gro_init(&g, gro_mem, check_emitted, NULL);

	rc = gso_begin(&s, &h, pkt, len);
	if (rc < 0) {
		FUZZ_CHECK(is_drop(rc));
	} else if (rc == 0) {
		gro_add(&g, pkt, len);
	} else {
		FUZZ_CHECK((unsigned)rc == s.count && s.count <= GSO_MAX_SEGS);
		while ((rc = gso_next(&s, seg, cap)) > 0) {
			FUZZ_CHECK((size_t)rc <= cap && (size_t)rc >= s.hdr_len);
			payload += (size_t)rc - s.hdr_len;
			made++;
			gro_add(&g, seg, (size_t)rc);
		}
		FUZZ_CHECK(rc == 0 || rc == -GSO_DROP_SEG_ROOM);
		if (rc == 0)
			FUZZ_CHECK(made == s.count && payload == len - s.hdr_len);
	}
	/* the raw bytes as a packet from the tunnel, too */
	gro_add(&g, data + 1 + VNET_HDR_LEN, len);
	gro_flush(&g);
	return 0;
}
