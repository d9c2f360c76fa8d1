/* The answers of the module's own TXT lookups, kept briefly per worker thread (see txtkeep.h). */
#include "txtkeep.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Longest name in wire form (RFC 1035, 3.1). */
#define NAME_WIRE_MAX 255

struct txtkeep_entry {
	struct txtkeep_entry *bucket_next;
	struct txtkeep_entry *fifo_next; /* the next one kept after this */
	uint64_t hash;
	bool linked; /* findable: not replaced by a newer answer for its key */
	uint16_t flags;
	time_t kept_at;
	time_t stands_until;
	int security;
	uint32_t ttl;
	size_t name_len;
	size_t size; /* this allocation, counted in the table's bytes */
	size_t count;
	struct synth_rdata items[]; /* count of them, then the name, then their RDATA */
};

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* FNV-1a over the name without regard to case (label lengths are below 'A'), then the flags. */
static uint64_t key_hash(const uint8_t *name, size_t len, uint16_t flags)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ lower(name[i])) * 0x100000001b3ULL;
	h = (h ^ (flags & 0xff)) * 0x100000001b3ULL;
	return (h ^ (flags >> 8)) * 0x100000001b3ULL;
}

static const uint8_t *entry_name(const struct txtkeep_entry *e)
{
	return (const uint8_t *)(e->items + e->count);
}

static bool same_key(const struct txtkeep_entry *e, uint64_t hash, const uint8_t *name, size_t len,
		     uint16_t flags)
{
	const uint8_t *own = entry_name(e);

	if (e->hash != hash || e->flags != flags || e->name_len != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (lower(own[i]) != lower(name[i]))
			return false;
	return true;
}

int txtkeep_init(struct txtkeep *k, size_t max_count, size_t max_bytes)
{
	size_t buckets = 1;

	memset(k, 0, sizeof(*k));
	if (max_count == 0 || max_bytes == 0 || max_count > (SIZE_MAX >> 2))
		return -EINVAL;
	while (buckets < max_count)
		buckets <<= 1;
	k->buckets = calloc(buckets, sizeof(*k->buckets));
	if (!k->buckets)
		return -ENOMEM;
	k->bucket_mask = buckets - 1;
	k->max_count = max_count;
	k->max_bytes = max_bytes;
	return 0;
}

/* Takes e out of its bucket, if it is still there. */
static void unlink_entry(struct txtkeep *k, struct txtkeep_entry *e)
{
	struct txtkeep_entry **at = &k->buckets[e->hash & k->bucket_mask];

	if (!e->linked)
		return;
	while (*at && *at != e)
		at = &(*at)->bucket_next;
	if (*at)
		*at = e->bucket_next;
	e->linked = false;
}

/*
 * Only the table's own thread writes bytes, but Unbound's statistics read every thread's
 * (txtkeep_memory) from the thread that answers unbound-control: a relaxed atomic store.
 */
static void set_bytes(struct txtkeep *k, size_t bytes)
{
	__atomic_store_n(&k->bytes, bytes, __ATOMIC_RELAXED);
}

static void drop_oldest(struct txtkeep *k)
{
	struct txtkeep_entry *e = k->oldest;

	unlink_entry(k, e);
	k->oldest = e->fifo_next;
	if (!k->oldest)
		k->newest = NULL;
	k->count--;
	set_bytes(k, k->bytes - e->size);
	free(e);
}

void txtkeep_deinit(struct txtkeep *k)
{
	while (k->buckets && k->oldest)
		drop_oldest(k);
	free(k->buckets);
	memset(k, 0, sizeof(*k));
}

static struct txtkeep_entry *lookup(const struct txtkeep *k, uint64_t hash, const uint8_t *name,
				    size_t len, uint16_t flags)
{
	struct txtkeep_entry *e = k->buckets[hash & k->bucket_mask];

	while (e && !same_key(e, hash, name, len, flags))
		e = e->bucket_next;
	return e;
}

int txtkeep_put(struct txtkeep *k, const uint8_t *name, size_t name_len, uint16_t flags,
		const struct txtkeep_answer *answer, time_t now)
{
	size_t size = sizeof(struct txtkeep_entry) + name_len;
	uint64_t hash = key_hash(name, name_len, flags);
	struct txtkeep_entry *e, *old;
	uint8_t *bytes;

	if (!k->buckets || !name || name_len == 0 || name_len > NAME_WIRE_MAX ||
	    (answer->count && !answer->items))
		return -EINVAL;
	for (size_t i = 0; i < answer->count; i++) {
		if (!answer->items[i].data && answer->items[i].len)
			return -EINVAL;
		size += sizeof(struct synth_rdata) + answer->items[i].len;
		if (size > k->max_bytes / 16)
			return -E2BIG;
	}
	if (size > k->max_bytes / 16)
		return -E2BIG;
	/* an older answer stays in line, unfindable, until its turn to leave */
	old = lookup(k, hash, name, name_len, flags);
	if (old)
		unlink_entry(k, old);
	if (answer->keep_secs == 0)
		return 0;
	e = malloc(size);
	if (!e)
		return -ENOMEM;
	*e = (struct txtkeep_entry){ .hash = hash,
				     .linked = true,
				     .flags = flags,
				     .kept_at = now,
				     .stands_until = now + (time_t)answer->keep_secs,
				     .security = answer->security,
				     .ttl = answer->ttl,
				     .name_len = name_len,
				     .size = size,
				     .count = answer->count };
	bytes = (uint8_t *)(e->items + e->count);
	memcpy(bytes, name, name_len);
	bytes += name_len;
	for (size_t i = 0; i < answer->count; i++) {
		e->items[i] = (struct synth_rdata){ bytes, answer->items[i].len };
		if (answer->items[i].len)
			memcpy(bytes, answer->items[i].data, answer->items[i].len);
		bytes += answer->items[i].len;
	}
	while (k->oldest && (k->count >= k->max_count || k->bytes + size > k->max_bytes))
		drop_oldest(k);
	e->bucket_next = k->buckets[hash & k->bucket_mask];
	k->buckets[hash & k->bucket_mask] = e;
	if (k->newest)
		k->newest->fifo_next = e;
	else
		k->oldest = e;
	k->newest = e;
	k->count++;
	set_bytes(k, k->bytes + size);
	return 0;
}

int txtkeep_find(const struct txtkeep *k, const uint8_t *name, size_t name_len, uint16_t flags,
		 time_t now, time_t not_before, struct txtkeep_answer *out)
{
	const struct txtkeep_entry *e;
	time_t age;

	if (!k->buckets || !name || name_len == 0 || name_len > NAME_WIRE_MAX)
		return -ENOENT;
	e = lookup(k, key_hash(name, name_len, flags), name, name_len, flags);
	if (!e || now >= e->stands_until || e->kept_at < not_before)
		return -ENOENT;
	age = now > e->kept_at ? now - e->kept_at : 0;
	*out = (struct txtkeep_answer){
		.security = e->security,
		.ttl = (time_t)e->ttl > age ? e->ttl - (uint32_t)age : 0,
		.keep_secs = (uint32_t)(e->stands_until - now),
		.items = e->count ? e->items : NULL,
		.count = e->count,
	};
	return 0;
}

size_t txtkeep_memory(const struct txtkeep *k)
{
	return __atomic_load_n(&k->bytes, __ATOMIC_RELAXED) +
	       (k->buckets ? (k->bucket_mask + 1) * sizeof(*k->buckets) : 0);
}
