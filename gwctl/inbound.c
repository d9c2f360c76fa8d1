/* Token buckets for allocations triggered by inbound traffic, per peer gateway and in all. */
#include "inbound.h"

#include <string.h>
#include <time.h>

int64_t inbound_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void inbound_init(struct inbound *in)
{
	memset(in, 0, sizeof(*in));
	crypto_shorthash_keygen(in->key);
}

static void refill(struct inbound_bucket *b, uint32_t rate, int64_t now_ms)
{
	uint64_t cap = (uint64_t)rate * 1000;
	int64_t elapsed = now_ms - b->last_ms;

	/* a bucket never seen, or a clock that went back, starts full */
	if (b->last_ms == 0 || elapsed < 0 || (uint64_t)elapsed >= 1000) {
		b->millitokens = cap;
	} else {
		b->millitokens += (uint64_t)elapsed * rate;
		if (b->millitokens > cap)
			b->millitokens = cap;
	}
	b->last_ms = now_ms;
}

bool inbound_take(struct inbound *in, const struct ipr_context *peer, uint32_t rate,
		  uint32_t rate_total, int64_t now_ms)
{
	char text[IPR_ADDR_TEXT_MAX];
	uint8_t hash[crypto_shorthash_BYTES];
	uint64_t index;
	struct inbound_bucket *b;

	ipr_context_format(peer, text);
	crypto_shorthash(hash, (const unsigned char *)text, strlen(text), in->key);
	memcpy(&index, hash, sizeof(index));
	b = &in->peers[index % INBOUND_BUCKETS];
	refill(b, rate, now_ms);
	refill(&in->all, rate_total, now_ms);
	if (b->millitokens < 1000 || in->all.millitokens < 1000)
		return false;
	b->millitokens -= 1000;
	in->all.millitokens -= 1000;
	return true;
}
