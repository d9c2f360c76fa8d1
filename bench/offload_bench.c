/* CPU time per megabyte of the offloads' user-space work: cutting TSO super-packets, coalescing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gro.h"
#include "gso.h"
#include "vnet.h"

/* One 64 KB super-packet as a Linux TCP sender makes it: 47 segments of 1388 bytes. */
#define MSS	  1388
#define SEGS	  47
#define HDR	  40
#define PER_ROUND 3000
#define ROUNDS	  9

static uint8_t super[HDR + SEGS * MSS], seg[2048], gro_mem[GRO_FLOWS * GRO_MAX_LEN];

static void discard(void *ctx, const struct vnet_hdr *h, const uint8_t *pkt, size_t len,
		    unsigned segments)
{
	(void)ctx, (void)h, (void)pkt, (void)len, (void)segments;
}

static double cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Cuts PER_ROUND super-packets, coalescing the segments again when asked: CPU us per MB. */
static double run(struct gro *g, const struct vnet_hdr *h, int coalesce)
{
	double t0 = cpu_seconds();

	for (int k = 0; k < PER_ROUND; k++) {
		struct gso_split s;
		int rc;

		if (gso_begin(&s, h, super, sizeof(super)) != SEGS)
			abort();
		while ((rc = gso_next(&s, seg, sizeof(seg))) > 0)
			if (coalesce)
				gro_add(g, seg, (size_t)rc);
		gro_flush(g);
	}
	return (cpu_seconds() - t0) * 1e6 / (PER_ROUND * (double)(SEGS * MSS) / 1e6);
}

int main(void)
{
	static const uint8_t hdr[HDR] = { 0x45, 0,    0,    0,	  0, 1, 0x40, 0, 64, 6,
					  0,	0,    10,   1,	  0, 2, 10,   2, 0,  2,
					  0x13, 0x88, 0x9c, 0x40, 0, 0, 0,    1, 0,  0,
					  0,	1,    0x50, 0x10, 1, 0, 0,    0, 0,  0 };
	const struct vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM,
				    .gso_type = VNET_GSO_TCPV4,
				    .hdr_len = HDR,
				    .gso_size = MSS,
				    .csum_start = 20,
				    .csum_offset = 16 };
	double cut = 1e9, both = 1e9;
	struct gro g;

	for (size_t i = 0; i < sizeof(super); i++)
		super[i] = (uint8_t)(i * 7 + 3);
	memcpy(super, hdr, sizeof(hdr));
	gro_init(&g, gro_mem, discard, NULL);
	/* the lowest of several rounds: other load only ever adds */
	for (int r = 0; r < ROUNDS; r++) {
		double c = run(&g, &h, 0), b = run(&g, &h, 1);
		cut = c < cut ? c : cut;
		both = b < both ? b : both;
	}
	if (g.supers == 0 || g.bad_csum != 0)
		abort();
	printf("CPU per MB of TCP payload: cutting %.1f us, coalescing %.1f us\n", cut, both - cut);
	return 0;
}
