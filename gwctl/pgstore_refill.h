/*
 * The PostgreSQL engine's refills behind the event loop: a thread with a connection of its own
 * adds the values the daemon drew to this gateway's reserve, so that the server's work of adding
 * them (most of a refill) and their synchronous commit run beside the batches, on the other CPU,
 * rather than between them (docs/store.md, "Refills behind the loop").
 */
#ifndef GWCTL_PGSTORE_REFILL_H
#define GWCTL_PGSTORE_REFILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Values waiting for the thread at most: a refill's largest step (REFILL_CHUNK_MAX). */
#define PG_REFILL_PENDING_MAX 512
/* Pools one collect reports at most (the daemon refills three: two ranges and references). */
#define PG_REFILL_POOLS 8

struct pg_refiller;

/* What the thread did since the last collect. */
struct pg_refill_result {
	size_t pools;
	struct {
		char pool[128];
		uint64_t posted; /* values of it the jobs were handed (added or not) */
		uint64_t added;
	} pool[PG_REFILL_POOLS];
	uint64_t added; /* values added to the reserve, on disk (each job commits synchronously) */
	uint64_t failures; /* jobs that failed: their values were not added, a later refill draws
			      anew */
	bool idle;	   /* no value waits for a job or is in one: nothing more is coming */
};

/*
 * Starts the thread, which connects at once (conninfo as the store's own, the gateway's id as
 * its rows' gateway) and again after a failed job. -ENOMEM, or the error of pthread_create.
 */
IPR_MUST_CHECK int pg_refiller_start(const char *conninfo, const char *gateway,
				     struct pg_refiller **out);
/* Stops the thread (a job in flight ends at its answer's bound at most), closes its connection. */
void pg_refiller_stop(struct pg_refiller *r);
/*
 * Hands values of pool to the thread, which adds them (each checked neither mapped nor resting,
 * as every add is) in its next job: 0, or -EBUSY when the values waiting would pass
 * PG_REFILL_PENDING_MAX or a name is too long (nothing taken then).
 */
IPR_MUST_CHECK int pg_refiller_post(struct pg_refiller *r, const char *pool,
				    const char *const *values, size_t n, int64_t now);
/* What jobs finished since the last call, into out; out's counts start from zero each call. */
void pg_refiller_collect(struct pg_refiller *r, struct pg_refill_result *out);

#endif
