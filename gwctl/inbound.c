/* Token buckets for allocations triggered by inbound traffic, per peer gateway and in all. */
#include "inbound.h"

#include <string.h>

void inbound_init(struct inbound *in)
{
	memset(in, 0, sizeof(*in));
	crypto_shorthash_keygen(in->key);
}

bool inbound_take(struct inbound *in, const struct ipr_context *peer, uint32_t rate,
		  uint32_t rate_total, int64_t now_ms)
{
	char text[IPR_ADDR_TEXT_MAX];
	uint8_t hash[crypto_shorthash_BYTES];
	uint64_t index;
	struct ipr_bucket *b;

	ipr_context_format(peer, text);
	crypto_shorthash(hash, (const unsigned char *)text, strlen(text), in->key);
	memcpy(&index, hash, sizeof(index));
	b = &in->peers[index % INBOUND_BUCKETS];
	/* a second's worth at most; both buckets or neither pay */
	ipr_bucket_refill(b, rate, rate, now_ms);
	ipr_bucket_refill(&in->all, rate_total, rate_total, now_ms);
	if (!ipr_bucket_has(b) || !ipr_bucket_has(&in->all))
		return false;
	b->milli -= IPR_BUCKET_TOKEN;
	in->all.milli -= IPR_BUCKET_TOKEN;
	return true;
}
