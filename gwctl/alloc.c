/* Random allocation over a range with rejection sampling, and a bounded scan when nearly full. */
#include "alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
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

/*
 * Random bytes from libsodium's generator, drawn a kilobyte at a time: one getrandom() per
 * draw was 1.5 % of the daemon's CPU when allocating (several draws an allocation).
 */
static void random_bytes(void *out, size_t n)
{
	static _Thread_local struct {
		uint8_t buf[1024];
		size_t used;
	} rnd = { .used = sizeof(rnd.buf) };

	if (rnd.used + n > sizeof(rnd.buf)) {
		randombytes_buf(rnd.buf, sizeof(rnd.buf));
		rnd.used = 0;
	}
	memcpy(out, rnd.buf + rnd.used, n);
	sodium_memzero(rnd.buf + rnd.used, n);
	rnd.used += n;
}

/* Uniform in [0, span) where span > 0, without modulo bias. */
static u128 random_below(u128 span)
{
	u128 mask = span - 1, value;
	size_t bytes = mask >> 64 ? 16 : mask >> 32 ? 8 : 4; /* as many as the span needs */
	uint8_t b[16];

	mask |= mask >> 1;
	mask |= mask >> 2;
	mask |= mask >> 4;
	mask |= mask >> 8;
	mask |= mask >> 16;
	mask |= mask >> 32;
	mask |= mask >> 64;
	do {
		random_bytes(b, bytes);
		value = 0;
		for (size_t i = 0; i < bytes; i++)
			value = value << 8 | b[i];
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

static void encoded_key(int family, const uint8_t *address, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	store_address_text(family, address, text);
	snprintf(buf, size, "encoded:%s", text);
}

static void ref_key(const struct ipr_ref *ref, char *buf, size_t size)
{
	char text[IPR_REF_TEXT_MAX];

	ipr_ref_format(ref, text);
	snprintf(buf, size, "ref:%s", text);
}

void alloc_encoded_pool(const struct ipr_prefix *range, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	store_address_text(range->family, range->addr, text);
	snprintf(buf, size, "encoded:%s/%u", text, (unsigned)range->len);
}

static void refs_pool(const struct ipr_ref *min, const struct ipr_ref *max, char *buf, size_t size)
{
	char lo[IPR_REF_TEXT_MAX], hi[IPR_REF_TEXT_MAX];

	ipr_ref_format(min, lo);
	ipr_ref_format(max, hi);
	snprintf(buf, size, "ref:%s-%s", lo, hi);
}

/*
 * 1 when the encoded address is neither mapped nor resting, 0 when taken, or -errno. A value
 * may be reserved and picked again: taking it from the reserve checks once more.
 */
static int encoded_free(struct store *store, int family, const uint8_t *candidate, int64_t now)
{
	return store_encoded_free(store, family, candidate, now); /* one statement, not two */
}

/* Picks a free encoded address at random: the old way, and the refill's. */
static int pick_encoded(struct store *store, const struct ipr_prefix *range, int64_t now,
			uint8_t out[16], bool scan)
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
	if (!scan || span > SCAN_LIMIT)
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

static int pick_ref(struct store *store, const struct ipr_ref *min, const struct ipr_ref *max,
		    int64_t now, struct ipr_ref *out, bool scan)
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
	if (!scan || span == 0 || span > SCAN_LIMIT)
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

/*
 * Takes a value of the pool: one a flush covered, else (counted by the store) one not yet on
 * disk, the commit then syncing. A value taken that is mapped or resting now (a static mapping
 * written from a file since, a value picked at random while reserved, then freed) is dropped
 * from the reserve and the next one tried. The statement that takes a value says whether it is
 * busy; a value not in canonical text (edited by hand) is checked as the address it parses to.
 */
static int take_encoded(struct store *store, const struct ipr_prefix *range, int64_t now,
			uint8_t out[16])
{
	char pool[ALLOC_POOL_KEY_MAX], value[ALLOC_POOL_KEY_MAX];
	bool busy;
	int rc;

	alloc_encoded_pool(range, pool, sizeof(pool));
	for (int flushed = 1; flushed >= 0; flushed--) {
		while ((rc = store_reserve_take(store, pool, flushed, now, value, sizeof(value),
						&busy)) == 0) {
			rc = store_encoded_value(range->family, value, out);
			if (rc < 0)
				continue;
			rc = rc == 1 ? !busy : encoded_free(store, range->family, out, now);
			if (rc != 0)
				return rc < 0 ? rc : 0;
		}
		if (rc != -ENOENT)
			return rc;
	}
	return -ENOENT;
}

int alloc_encoded_next(struct store *store, const struct ipr_prefix *range, int64_t now,
		       uint8_t out[16])
{
	char pool[ALLOC_POOL_KEY_MAX], value[ALLOC_POOL_KEY_MAX];
	bool busy;
	int rc;

	alloc_encoded_pool(range, pool, sizeof(pool));
	rc = store_reserve_peek(store, pool, now, value, sizeof(value), &busy);
	if (rc < 0)
		return rc == -ENOTSUP ? -ENOENT : rc;
	if (store_encoded_value(range->family, value, out) != 1 || busy) {
		memset(out, 0, 16);
		return -ENOENT;
	}
	return 0;
}

int alloc_encoded(struct store *store, const struct ipr_prefix *range, int64_t now, uint8_t out[16])
{
	int rc = take_encoded(store, range, now, out);

	if (rc != -ENOENT)
		return rc;
	/* the reserve is dry: a value picked now is bound durably, synced at commit */
	rc = pick_encoded(store, range, now, out, true);
	if (rc == 0)
		store_need_sync(store);
	return rc;
}

static int take_ref(struct store *store, const struct ipr_ref *min, const struct ipr_ref *max,
		    int64_t now, struct ipr_ref *out)
{
	char pool[ALLOC_POOL_KEY_MAX], value[ALLOC_POOL_KEY_MAX], canonical[ALLOC_POOL_KEY_MAX];
	const char *text;
	bool busy;
	int rc;

	refs_pool(min, max, pool, sizeof(pool));
	for (int flushed = 1; flushed >= 0; flushed--) {
		while ((rc = store_reserve_take(store, pool, flushed, now, value, sizeof(value),
						&busy)) == 0) {
			text = value + strlen("ref:");
			if (strncmp(value, "ref:", 4) != 0 ||
			    ipr_ref_parse(text, strlen(text), out, NULL) < 0)
				continue;
			ref_key(out, canonical, sizeof(canonical));
			rc = strcmp(canonical, value) == 0 ? !busy : ref_free(store, out, now);
			if (rc != 0)
				return rc < 0 ? rc : 0;
		}
		if (rc != -ENOENT)
			return rc;
	}
	return -ENOENT;
}

int alloc_ref(struct store *store, const struct ipr_ref *min, const struct ipr_ref *max,
	      int64_t now, struct ipr_ref *out)
{
	int rc;

	if (to_u128(min) > to_u128(max))
		return -EINVAL;
	rc = take_ref(store, min, max, now, out);
	if (rc != -ENOENT)
		return rc;
	rc = pick_ref(store, min, max, now, out, true);
	if (rc == 0)
		store_need_sync(store);
	return rc;
}

/* A pool holds at most this many, and a sixteenth of its range (a power loss rests them all). */
static uint64_t pool_target(uint64_t range_size)
{
	uint64_t target = range_size / 16;

	return target < 1 ? 1 : target > ALLOC_POOL_MAX ? ALLOC_POOL_MAX : target;
}

/* Candidates a refill hands the store at once (one statement on PostgreSQL). */
#define REFILL_DRAW 64

/*
 * Adds up to max values to a pool short of its target; returns how many, or -errno. pick gives
 * a random candidate, unchecked: the statement that reserves it skips one mapped or resting.
 * Candidates go to the store REFILL_DRAW at a time; RANDOM_TRIES of them in a row not added
 * (a nearly full range) end the refill, as they end a pick.
 */
static int refill(struct store *store, const char *pool, uint64_t range_size, size_t max,
		  int64_t now, int (*pick)(void *arg, char *value, size_t size), void *arg)
{
	uint64_t all, target = pool_target(range_size);
	char draw[REFILL_DRAW][ALLOC_POOL_KEY_MAX];
	const char *values[REFILL_DRAW];
	int rc, added = 0, misses = 0;
	size_t handed = 0; /* to the refills behind the loop (store_refill_behind) */

	rc = store_reserve_count(store, pool, &all, NULL);
	if (rc < 0)
		return rc;
	/* above three quarters full, wait: a later refill adds more in one commit and one flush
	 * (a flush after every batch cost more than the rest of the refill) */
	if (all >= target - target / 4)
		return 0;
	while (all + (uint64_t)added + handed < target && (size_t)added + handed < max) {
		uint64_t want = target - all - (uint64_t)added - handed;
		size_t n = 0;

		if (want > max - (size_t)added - handed)
			want = max - (size_t)added - handed;
		for (; n < REFILL_DRAW && n < want; n++) {
			rc = pick(arg, draw[n], sizeof(draw[n]));
			if (rc < 0)
				return rc == -ENOSPC ? added : rc;
			values[n] = draw[n];
		}
		rc = store_reserve_add_many(store, pool, values, n, now);
		if (rc == -EBUSY)
			break; /* the refills behind the loop have as much as they take: later */
		if (rc == -EINPROGRESS) {
			handed += n; /* the pool counts them until their job reports */
			continue;
		}
		if (rc < 0)
			return rc;
		added += rc;
		misses = rc ? 0 : misses + (int)n;
		if (misses >= RANDOM_TRIES)
			break; /* nearly full: what is left is picked when asked for */
	}
	return added;
}

static int pick_encoded_value(void *arg, char *value, size_t size)
{
	const struct ipr_prefix *range = arg;
	u128 last = last_offset(range);
	uint8_t address[16];

	if (last < 2)
		return -ENOSPC;
	address_at(range, 2 + random_below(last - 1), address);
	encoded_key(range->family, address, value, size);
	return 0;
}

int alloc_refill_encoded(struct store *store, const struct ipr_prefix *range, int64_t now,
			 size_t max)
{
	char pool[ALLOC_POOL_KEY_MAX];

	alloc_encoded_pool(range, pool, sizeof(pool));
	return refill(store, pool, alloc_range_size(range), max, now, pick_encoded_value,
		      (void *)range);
}

struct ref_span {
	const struct ipr_ref *min, *max;
};

static int pick_ref_value(void *arg, char *value, size_t size)
{
	const struct ref_span *p = arg;
	u128 lo = to_u128(p->min), span = to_u128(p->max) - lo + 1, v;
	struct ipr_ref ref;

	/* span 0: [min, max] is the whole 128-bit space */
	v = lo + (span ? random_below(span) : random_below(~(u128)0));
	ref = (struct ipr_ref){ .hi = (uint64_t)(v >> 64), .lo = (uint64_t)v };
	ref_key(&ref, value, size);
	return 0;
}

int alloc_refill_ref(struct store *store, const struct ipr_ref *min, const struct ipr_ref *max,
		     int64_t now, size_t count)
{
	struct ref_span p = { min, max };
	u128 span = to_u128(max) - to_u128(min) + 1;
	char pool[ALLOC_POOL_KEY_MAX];

	if (to_u128(min) > to_u128(max))
		return -EINVAL;
	refs_pool(min, max, pool, sizeof(pool));
	return refill(store, pool, span == 0 || span > UINT64_MAX ? UINT64_MAX : (uint64_t)span,
		      count, now, pick_ref_value, &p);
}
