/* Allocation under pressure: probation for resolved names, per-client and inbound quotas. */
#ifndef GWCTL_QUOTA_H
#define GWCTL_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "mapping.h"
#include "store.h"

/*
 * The policy docs/gwctl.md ("Allocation under pressure") describes. A mapping a LAN client's
 * question makes starts on probation: its lease, and so the TTL of every answer naming it, is
 * quota_limits.probation_secs; once a use report says it carried traffic it is an ordinary
 * mapping with the full lease. Each probation value is held in the client's pool from its
 * allocation until its short quarantine ends; a client's pool holds at most client_limit, all
 * clients' pools together at most client_total, so the rest of the range is kept for mappings
 * in use. Idle values reclaimed from inbound sources rest in their peer's pool, counted by the
 * inbound limits. Holds live in the store (store_hold.h, schema/005-quota.sql): they survive
 * restarts.
 */
struct quota_limits {
	uint32_t probation_secs;	  /* lease and answer TTL of a mapping on probation */
	uint32_t client_limit;		  /* held values per client */
	uint64_t client_total;		  /* held values of all clients */
	uint32_t inbound_quarantine_secs; /* rest of an idle inbound value reclaimed */
};

struct quota_counters {
	uint64_t probation;	 /* mappings made on probation */
	uint64_t client_refused; /* refused: the client's pool was full */
	uint64_t total_refused;	 /* refused: the clients' share of the range was full */
	uint64_t reclaimed;	 /* probation mappings whose TTL ran out, put to rest early */
	uint64_t confirmed;	 /* probation ended by traffic */
};

enum quota_verdict {
	QUOTA_ALLOW = 0,
	QUOTA_CLIENT_FULL, /* this client holds client_limit values */
	QUOTA_TOTAL_FULL,  /* the clients together hold client_total values */
};

/* The pool of a client address ("client:192.0.2.1"); size at least QUOTA_POOL_MAX. */
#define QUOTA_POOL_MAX (IPR_ADDR_TEXT_MAX + 16)
void quota_client_pool(int family, const uint8_t *addr, char *pool);
void quota_inbound_pool(const struct ipr_context *peer, char *pool);

/*
 * Before a new allocation for a client's question: puts the client's probation mappings
 * whose answers have run out to rest (mappings removed are added to removed[], at most
 * removed_max, *removed_count set), forgets rests that ended, and decides.
 */
IPR_MUST_CHECK int quota_client_admit(struct store *store, const char *pool,
				      const struct quota_limits *lim, int64_t now,
				      struct ipr_mapping *removed, unsigned removed_max,
				      unsigned *removed_count, enum quota_verdict *verdict);

/* When the hold of a client's new mapping m ends: probation_secs after its lease. */
int64_t quota_client_hold_until(const struct ipr_mapping *m, const struct quota_limits *lim);
/* After inserting m for that client: holds its value, on probation. */
IPR_MUST_CHECK int quota_client_hold(struct store *store, const char *pool,
				     const struct ipr_mapping *m, const struct quota_limits *lim);

/* 1 when m is on probation, 0 when not, or -errno. */
IPR_MUST_CHECK int quota_on_probation(struct store *store, const struct ipr_mapping *m);

/* m asked for again while on probation: its lease and hold move to a fresh probation. */
IPR_MUST_CHECK int quota_renew(struct store *store, struct ipr_mapping *m,
			       const struct quota_limits *lim, int64_t now);

/* m carried traffic: its probation ends (1), or it was not on probation (0). */
IPR_MUST_CHECK int quota_confirm(struct store *store, const struct ipr_mapping *m);

/*
 * A mapping leaves the store (lease over, reclaimed): the quarantine its value should get,
 * *until (unchanged when it is no probation value), the hold then resting to that time.
 */
IPR_MUST_CHECK int quota_release(struct store *store, const struct ipr_mapping *m, int64_t now,
				 int64_t *until);

/* An idle inbound value put to rest until `until`: held in its peer's pool till then. */
IPR_MUST_CHECK int quota_inbound_rest(struct store *store, const char *pool,
				      const struct ipr_mapping *m, int64_t until);
/* Resting inbound values of one pool, or of all (pool NULL). */
IPR_MUST_CHECK int quota_inbound_resting(struct store *store, const char *pool, uint64_t *count);

/* Forgets holds whose rest has ended (the sweep). */
IPR_MUST_CHECK int quota_purge(struct store *store, int64_t now);

#endif
