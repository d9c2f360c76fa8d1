/* The single-producer single-consumer ring: two indexes, each owned by one thread. */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int dp_ring_init(struct dp_ring *r, uint32_t cap, uint32_t rec_size)
{
	memset(r, 0, sizeof(*r));
	if (cap == 0 || (cap & (cap - 1)) != 0 || rec_size == 0)
		return -EINVAL;
	r->mem = calloc(cap, rec_size);
	if (!r->mem)
		return -ENOMEM;
	r->cap = cap;
	r->rec_size = rec_size;
	return 0;
}

void dp_ring_deinit(struct dp_ring *r)
{
	free(r->mem);
	r->mem = NULL;
}

uint32_t dp_ring_space(const struct dp_ring *r)
{
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	return r->cap - (r->head - tail);
}

bool dp_ring_push(struct dp_ring *r, const void *rec)
{
	uint32_t head = r->head; /* ours alone */

	if (head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= r->cap)
		return false;
	memcpy(r->mem + (size_t)(head & (r->cap - 1)) * r->rec_size, rec, r->rec_size);
	/* the record is written before the consumer can see the new head */
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return true;
}

bool dp_ring_pop(struct dp_ring *r, void *out)
{
	uint32_t tail = r->tail; /* ours alone */

	if (__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == tail)
		return false;
	memcpy(out, r->mem + (size_t)(tail & (r->cap - 1)) * r->rec_size, r->rec_size);
	/* read before the producer may write the slot again */
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}
