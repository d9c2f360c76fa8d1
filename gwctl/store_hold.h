/* Values held against the pools of gwctl/quota.c, kept in the store beside the mappings. */
#ifndef GWCTL_STORE_HOLD_H
#define GWCTL_STORE_HOLD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/*
 * A hold counts one value (an encoded address as store_address_text writes it) against one
 * pool ("client:ADDRESS", "inbound:PEER"; the store counts the two kinds apart): live while
 * its mapping is on probation, resting after, until `until`. A value is held by one pool at a
 * time. quota.c decides what to hold; these only keep and count the holds.
 */
struct store_hold {
	char value[INET6_ADDRSTRLEN];
	int64_t until;
};

/* Holds value in pool, live or resting, until `until`; a value held before moves to pool. */
IPR_MUST_CHECK int store_hold_put(struct store *store, const char *pool, const char *value,
				  bool live, int64_t until);
/* Changes a held value's state and end; nothing when it is not held. */
IPR_MUST_CHECK int store_hold_set(struct store *store, const char *value, bool live, int64_t until);
/* 1 with *live and *until when value is held, 0 when not, or -errno. */
IPR_MUST_CHECK int store_hold_get(struct store *store, const char *value, bool *live,
				  int64_t *until);
IPR_MUST_CHECK int store_hold_delete(struct store *store, const char *value);

/* Up to max live holds of pool that end by `by`, soonest first: how many, or -errno. */
IPR_MUST_CHECK int store_hold_due(struct store *store, const char *pool, int64_t by,
				  struct store_hold *out, unsigned max);

/*
 * What admitting an allocation for a pool reads, in one statement; holds_due says whether
 * store_hold_due(pool, due_by) would find any, so that the admission asks it only then.
 */
struct store_hold_admission {
	bool rests_ended;      /* the pool has resting holds whose end is past */
	bool holds_due;	       /* the pool has live holds that end by due_by */
	uint64_t pool_holds;   /* the pool's holds */
	uint64_t client_holds; /* the holds of every client's pool */
};
IPR_MUST_CHECK int store_hold_admission(struct store *store, const char *pool, int64_t now,
					int64_t due_by, struct store_hold_admission *out);
/* Forgets the pool's resting holds that ended by now; *purged says how many. */
IPR_MUST_CHECK int store_hold_purge_pool(struct store *store, const char *pool, int64_t now,
					 uint64_t *purged);
/* Forgets every resting hold that ended by now (the sweep). */
IPR_MUST_CHECK int store_hold_purge(struct store *store, int64_t now);

/* Holds of one pool, or of all peers' ("inbound:") pools: counts kept as they change. */
IPR_MUST_CHECK int store_hold_count_pool(struct store *store, const char *pool, uint64_t *count);
IPR_MUST_CHECK int store_hold_count_inbound(struct store *store, uint64_t *count);

#endif
