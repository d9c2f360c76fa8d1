/* The suite's one token bucket, in thousandths of a token so that low rates refill smoothly. */
#include "bucket.h"

#include <time.h>

int64_t ipr_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ipr_bucket_refill(struct ipr_bucket *b, uint32_t rate, uint32_t burst, int64_t now_ms)
{
	uint64_t cap = (uint64_t)burst * IPR_BUCKET_TOKEN;
	int64_t elapsed = now_ms - b->last_ms;

	if (b->last_ms == 0) {
		b->milli = cap;
	} else if (elapsed > 0 && rate > 0) {
		/* past the time an empty bucket takes to fill it is full; below it nothing
		 * overflows: elapsed * rate <= cap + rate */
		if ((uint64_t)elapsed > cap / rate)
			b->milli = cap;
		else
			b->milli += (uint64_t)elapsed * rate;
		if (b->milli > cap)
			b->milli = cap;
	}
	b->last_ms = now_ms; /* after a clock that went back, counting starts again from now */
}

bool ipr_bucket_take(struct ipr_bucket *b, uint32_t rate, uint32_t burst, int64_t now_ms)
{
	ipr_bucket_refill(b, rate, burst, now_ms);
	if (!ipr_bucket_has(b))
		return false;
	b->milli -= IPR_BUCKET_TOKEN;
	return true;
}
