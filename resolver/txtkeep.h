/* The answers of the module's own TXT lookups, kept briefly per worker thread. */
#ifndef TXTKEEP_H
#define TXTKEEP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "synth.h"

/*
 * Why a table of its own: the module asks TXT beside every client's A/AAAA question. Stored
 * by Unbound, each answer would be one more message and RRset in its caches, twice what an
 * IPREF name costs there otherwise, for data needed only until the native answer is back and
 * by the same name's question of the other family a moment later: the client's answer is
 * cached under its own question. So the module's lookups store nothing (no_cache_store) and
 * their answers wait here.
 *
 * One table per worker thread, without locks: a question, its sub-queries and the mesh they
 * share all run on one thread. Bounded in entries and in bytes, the oldest out first; an entry
 * stands no longer than its answer's TTL. Nothing here needs Unbound, so the unit tests link
 * it as the module does.
 */

struct txtkeep_entry;

/* A TXT lookup's answer: the RDATA of its TXT RRset (without the length prefixes), or none. */
struct txtkeep_answer {
	int security;			 /* Unbound's sec_status, kept as given */
	uint32_t ttl;			 /* the TXT RRset's TTL; 0 with no RRset */
	uint32_t keep_secs;		 /* how long the answer stands (its message's TTL) */
	const struct synth_rdata *items; /* NULL with count 0: no TXT records (NODATA, NXDOMAIN) */
	size_t count;
};

struct txtkeep {
	struct txtkeep_entry **buckets;
	size_t bucket_mask;
	struct txtkeep_entry *oldest, *newest; /* every entry, in the order kept */
	size_t count, max_count;
	size_t bytes, max_bytes;
};

/* Room for max_count entries and max_bytes in all (both above 0): 0, -EINVAL, -ENOMEM. */
IPR_MUST_CHECK int txtkeep_init(struct txtkeep *k, size_t max_count, size_t max_bytes);

/* Frees every entry and the table; safe on one zeroed or deinitialised. */
void txtkeep_deinit(struct txtkeep *k);

/*
 * Keeps a copy of answer for (name, flags) at now, in place of what was kept for them, the
 * oldest entries leaving to make room. name is in wire form (compared without regard to case);
 * flags are the lookup's query flags (RD, CD), which are part of the key. An answer that stands
 * for 0 seconds is not kept. 0; -E2BIG for an
 * answer above a sixteenth of max_bytes (the caller leaves it to Unbound's cache); -EINVAL for
 * a bad name or answer; -ENOMEM.
 */
IPR_MUST_CHECK int txtkeep_put(struct txtkeep *k, const uint8_t *name, size_t name_len,
			       uint16_t flags, const struct txtkeep_answer *answer, time_t now);

/*
 * The answer kept for (name, flags) that still stands at now and was kept at not_before or
 * later: 0 with *out filled, its items pointing into the table until the next put, its ttl
 * what is left of the RRset's; -ENOENT when there is none.
 */
IPR_MUST_CHECK int txtkeep_find(const struct txtkeep *k, const uint8_t *name, size_t name_len,
				uint16_t flags, time_t now, time_t not_before,
				struct txtkeep_answer *out);

/* Bytes held, the table included (for Unbound's mem.mod statistics); any thread may ask. */
size_t txtkeep_memory(const struct txtkeep *k);

#endif
