/* The dataplane's copy of gwctld's mappings: fixed-capacity hash tables with a secret hash key. */
#ifndef DP_MAPTAB_H
#define DP_MAPTAB_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "mapping.h"
#include "ref.h"

/*
 * Four indexes over two preallocated pools, each hashed with libsodium's keyed short hash
 * (SipHash) under a key drawn at start, so that crafted addresses or references cannot pile
 * into one chain. Nothing is allocated after maptab_new; a full table refuses new mappings.
 */

/* A remote host: its encoded address here and its IPREF address (gateway context + ref). */
struct maptab_remote {
	uint8_t ver; /* of the encoded address: 4 or 6 */
	uint8_t encoded[16];
	uint8_t ctx_ver; /* 4 or 6; 0 when gwctld knows the gateway only by name */
	uint8_t ctx[16];
	struct ipr_ref ref;
	bool used;     /* carried traffic since the last use report */
	bool replied;  /* of which a packet from a local host: not a stranger's probe only */
	uint16_t port; /* the peer gateway's UDP port as last seen; 0: not learned */
	/*
	 * Which of our references the peer last addressed a local host by: a host published
	 * under several answers under the one the peer used, so its replies come from the
	 * address the peer knows (has_via false: none seen yet).
	 */
	bool has_via;
	struct ipr_ref via;
	uint32_t epoch; /* the resync that last confirmed it */
};

/* A local host and one of our references for it, published or dynamic. */
struct maptab_local {
	uint8_t ver; /* of the local address */
	uint8_t addr[16];
	struct ipr_ref ref;
	uint8_t kind; /* IPR_MAP_PUBLISHED or IPR_MAP_DYNAMIC_LOCAL */
	bool used;
	uint32_t epoch;
};

struct maptab;

/* capacity mappings of each side (remote, local), at most 1 << 24. */
IPR_MUST_CHECK int maptab_new(uint32_t capacity, struct maptab **out);
void maptab_free(struct maptab *t);

/*
 * Adds a mapping as gwctld sent it, replacing one with the same key (an addition may arrive
 * twice during a snapshot). -ENOSPC when the pool is full, -EINVAL for a mapping the dataplane
 * cannot hold (unknown kind or family).
 */
IPR_MUST_CHECK int maptab_add(struct maptab *t, const struct ipr_mapping *m);
/* Removes it: 0, or -ENOENT when it was not there. */
IPR_MUST_CHECK int maptab_remove(struct maptab *t, const struct ipr_mapping *m);
/* Forgets everything. */
void maptab_clear(struct maptab *t);

/*
 * A fresh snapshot after reconnecting to gwctld: mappings keep working while it streams in;
 * at its end, those it did not confirm (removed meanwhile) go. Returns how many went.
 */
void maptab_resync_begin(struct maptab *t);
uint32_t maptab_resync_end(struct maptab *t);

/* Outbound: the remote behind an encoded address; the local host's reference (published first). */
struct maptab_remote *maptab_find_encoded(struct maptab *t, uint8_t ver, const uint8_t *addr);
struct maptab_local *maptab_find_local(struct maptab *t, uint8_t ver, const uint8_t *addr);
/* Inbound: our local host for a reference; the encoded address of family ver for a remote. */
struct maptab_local *maptab_find_ref(struct maptab *t, const struct ipr_ref *ref);
struct maptab_remote *maptab_find_remote(struct maptab *t, uint8_t ver, uint8_t ctx_ver,
					 const uint8_t *ctx, const struct ipr_ref *ref);

/*
 * A number that changes whenever a mapping is added or removed: an entry pointer kept by a
 * caller (a flow cache) stays meaningful while it does not change.
 */
uint64_t maptab_generation(const struct maptab *t);

/* How many mappings each side holds. */
uint32_t maptab_remote_count(const struct maptab *t);
uint32_t maptab_local_count(const struct maptab *t);

/*
 * Visits mappings marked used and clears the mark, stopping early when visit returns false (the
 * mark then stays for the next round). At most limit visits per call.
 */
struct maptab_use_visitor {
	bool (*remote)(void *ctx, const struct maptab_remote *r);
	bool (*local)(void *ctx, const struct maptab_local *l);
	void *ctx;
};
unsigned maptab_collect_used(struct maptab *t, const struct maptab_use_visitor *v, unsigned limit);

#endif
