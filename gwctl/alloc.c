/* Random allocation over a range with rejection sampling, and a bounded scan when nearly full. */
#include "alloc.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

__extension__ typedef unsigned __int128 u128;

/*
 * Random tries before falling back to a scan; a scan is only done over small ranges. Failing
 * 64 tries means the range is almost surely over 90% full; the caller remembers an exhausted
 * range so that the scan does not repeat on every request.
 */
#define RANDOM_TRIES 64
#define SCAN_LIMIT   (1u << 20)

/* Uniform in [0, span) where span > 0, from libsodium's generator, without modulo bias. */
static u128 random_below(u128 span)
{
	u128 mask = span - 1, value;

	mask |= mask >> 1;
	mask |= mask >> 2;
	mask |= mask >> 4;
	mask |= mask >> 8;
	mask |= mask >> 16;
	mask |= mask >> 32;
	mask |= mask >> 64;
	do {
		randombytes_buf(&value, sizeof(value));
		value &= mask;
	} while (value >= span);
	return value;
}

static unsigned host_bits(const struct ipr_prefix *range)
{
	return (range->family == AF_INET ? 32 : 128) - range->len;
}

/* Usable offsets within the range: [2, last]; 0 is the network, 1 the gateway itself. */
static u128 last_offset(const struct ipr_prefix *range)
{
	unsigned bits = host_bits(range);
	u128 top = bits >= 128 ? ~(u128)0 : ((u128)1 << bits) - 1;

	return range->family == AF_INET ? top - 1 : top; /* IPv4 keeps its broadcast free */
}

uint64_t alloc_range_size(const struct ipr_prefix *range)
{
	u128 last = last_offset(range);

	if (last < 2)
		return 0;
	return last - 1 > UINT64_MAX ? UINT64_MAX : (uint64_t)(last - 1);
}

static void address_at(const struct ipr_prefix *range, u128 offset, uint8_t out[16])
{
	size_t len = range->family == AF_INET ? 4 : 16;

	memset(out, 0, 16);
	memcpy(out, range->addr, len);
	for (size_t i = len; i-- > 0 && offset; offset >>= 8)
		out[i] |= (uint8_t)offset;
}

/* 1 when the encoded address is neither mapped nor resting, 0 when taken, or -errno. */
static int encoded_free(struct store *store, int family, const uint8_t *candidate, int64_t now)
{
	struct ipr_mapping existing;
	int rc = store_find_encoded(store, family, candidate, &existing);

	if (rc == 0 || rc == -EBADMSG)
		return 0; /* in use (a broken row still holds its value) */
	if (rc != -ENOENT)
		return rc;
	rc = store_encoded_quarantined(store, family, candidate, now);
	return rc < 0 ? rc : !rc;
}

int alloc_encoded(struct store *store, const struct ipr_prefix *range, int64_t now, uint8_t out[16])
{
	u128 last = last_offset(range), span, offset;
	int rc;

	if (last < 2)
		return -ENOSPC;
	span = last - 1;

	for (int i = 0; i < RANDOM_TRIES; i++) {
		address_at(range, 2 + random_below(span), out);
		rc = encoded_free(store, range->family, out, now);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	if (span > SCAN_LIMIT)
		return -ENOSPC;
	/* Nearly full and small: walk the whole range once from a random place. */
	offset = random_below(span);
	for (u128 n = 0; n < span; n++) {
		address_at(range, 2 + (offset + n) % span, out);
		rc = encoded_free(store, range->family, out, now);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	return -ENOSPC;
}

static u128 to_u128(const struct ipr_ref *ref)
{
	return ((u128)ref->hi << 64) | ref->lo;
}

static int ref_free(struct store *store, const struct ipr_ref *candidate, int64_t now)
{
	struct ipr_mapping existing;
	int rc = store_find_ref(store, candidate, &existing);

	if (rc == 0 || rc == -EBADMSG)
		return 0;
	if (rc != -ENOENT)
		return rc;
	rc = store_ref_quarantined(store, candidate, now);
	return rc < 0 ? rc : !rc;
}

int alloc_ref(struct store *store, const struct ipr_ref *min, const struct ipr_ref *max,
	      int64_t now, struct ipr_ref *out)
{
	u128 lo = to_u128(min), hi = to_u128(max), span, value, start;
	int rc;

	if (lo > hi)
		return -EINVAL;
	span = hi - lo + 1; /* 0 when [min, max] is the whole 128-bit space */
	for (int i = 0; i < RANDOM_TRIES; i++) {
		value = lo + (span ? random_below(span) : random_below(~(u128)0));
		*out = (struct ipr_ref){ .hi = (uint64_t)(value >> 64), .lo = (uint64_t)value };
		rc = ref_free(store, out, now);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	if (span == 0 || span > SCAN_LIMIT)
		return -ENOSPC;
	start = random_below(span);
	for (u128 n = 0; n < span; n++) {
		value = lo + (start + n) % span;
		*out = (struct ipr_ref){ .hi = (uint64_t)(value >> 64), .lo = (uint64_t)value };
		rc = ref_free(store, out, now);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	return -ENOSPC;
}
