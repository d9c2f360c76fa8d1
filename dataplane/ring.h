/* A single-producer single-consumer ring of fixed-size records between two threads, no locks. */
#ifndef DP_RING_H
#define DP_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * One thread pushes, one other thread pops; head and tail are each written by one side only and
 * read by the other with acquire/release ordering, so a record is whole before it is seen.
 * The memory is allocated once (dp_ring_init): pushing and popping never allocate.
 */
struct dp_ring {
	uint32_t cap;	   /* records, a power of two */
	uint32_t rec_size; /* bytes per record */
	uint8_t *mem;
	/* on their own cache lines: the producer writes head, the consumer tail */
	_Alignas(64) uint32_t head;
	_Alignas(64) uint32_t tail;
};

/* cap (a power of two) records of rec_size bytes: 0 or -ENOMEM / -EINVAL. */
IPR_MUST_CHECK int dp_ring_init(struct dp_ring *r, uint32_t cap, uint32_t rec_size);
void dp_ring_deinit(struct dp_ring *r);

/* Producer: how many records may be pushed now; a copy of rec in, false when full. */
uint32_t dp_ring_space(const struct dp_ring *r);
bool dp_ring_push(struct dp_ring *r, const void *rec);

/* Consumer: the oldest record copied to out, false when empty. */
bool dp_ring_pop(struct dp_ring *r, void *out);

#endif
