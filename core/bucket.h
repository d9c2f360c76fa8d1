/* The suite's one token bucket, in thousandths of a token so that low rates refill smoothly. */
#ifndef IPR_BUCKET_H
#define IPR_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

/* What one token is worth in a bucket's milli. */
#define IPR_BUCKET_TOKEN 1000

/* A zeroed bucket has never been used and starts full at its first refill. */
struct ipr_bucket {
	uint64_t milli;
	int64_t last_ms;
};

/* Milliseconds of the monotonic clock, what buckets count in (never 0 after boot's first ms). */
int64_t ipr_clock_ms(void);

/*
 * Adds rate tokens a second for the time since the last refill, burst tokens at most; a clock
 * that went back adds nothing. Rate 0 never refills (after the first, full, fill).
 */
void ipr_bucket_refill(struct ipr_bucket *b, uint32_t rate, uint32_t burst, int64_t now_ms);

/* True when the bucket holds a whole token (after ipr_bucket_refill). */
static inline bool ipr_bucket_has(const struct ipr_bucket *b)
{
	return b->milli >= IPR_BUCKET_TOKEN;
}

/* Refills, then takes one token if there is one: false, and nothing taken, when empty. */
bool ipr_bucket_take(struct ipr_bucket *b, uint32_t rate, uint32_t burst, int64_t now_ms);

#endif
