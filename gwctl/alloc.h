/* Choosing new encoded addresses and references at random, never a value in use or resting. */
#ifndef GWCTL_ALLOC_H
#define GWCTL_ALLOC_H

#include <stdint.h>

#include "err.h"
#include "prefix.h"
#include "ref.h"
#include "store.h"

/*
 * Takes an encoded address of range from the reserve, or, when it has none, picks a free one
 * at random and asks the store to sync the transaction's commit (store_need_sync). Free: one
 * ipr_prefix_place calls usable (not the network address, the gateway's own or the IPv4 broadcast),
 * not mapped, not in quarantine. Returns 0, -ENOSPC when the range is exhausted, or a store error.
 */
IPR_MUST_CHECK int alloc_encoded(struct store *store, const struct ipr_prefix *range, int64_t now,
				 uint8_t out[16]);

/*
 * The encoded address alloc_encoded would take next from the reserve, left there: 0 when it is
 * one a flush covered, free when the transaction read it (ipr_prefix_place's rules aside, which
 * held when it was reserved) and in canonical text, so that binding it needs no more checks;
 * -ENOENT otherwise (none, or one alloc_encoded must check or drop), or where the store has no
 * peek (SQLite). Once it is bound, alloc_encoded in the same transaction takes that value.
 */
IPR_MUST_CHECK int alloc_encoded_next(struct store *store, const struct ipr_prefix *range,
				      int64_t now, uint8_t out[16]);

/* The name of a range's pool of reserved values: "encoded:PREFIX/LEN" (store_reserve_take). */
#define ALLOC_POOL_KEY_MAX 128
void alloc_encoded_pool(const struct ipr_prefix *range, char *buf, size_t size);

/* Picks a free reference in [min, max] the same way. */
IPR_MUST_CHECK int alloc_ref(struct store *store, const struct ipr_ref *min,
			     const struct ipr_ref *max, int64_t now, struct ipr_ref *out);

/*
 * Allocation takes values from the store's reserve (a pool per range), refilled ahead of need
 * by these, each in a transaction of its own that the flusher then puts on disk. A pool holds
 * up to ALLOC_POOL_MAX values and a sixteenth of its range; a pool still three quarters full
 * is left alone (fewer refills, each flushed once). Each adds at most max values and returns
 * how many it added, or -errno.
 */
#define ALLOC_POOL_MAX 4096
IPR_MUST_CHECK int alloc_refill_encoded(struct store *store, const struct ipr_prefix *range,
					int64_t now, size_t max);
IPR_MUST_CHECK int alloc_refill_ref(struct store *store, const struct ipr_ref *min,
				    const struct ipr_ref *max, int64_t now, size_t max_new);

/* How many encoded addresses the range offers (saturates at UINT64_MAX). */
uint64_t alloc_range_size(const struct ipr_prefix *range);

#endif
