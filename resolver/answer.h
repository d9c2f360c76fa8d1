/* Replies the ipref module gives: synthesized RRsets in the query's region, and caching them. */
#ifndef ANSWER_H
#define ANSWER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "synth.h"

struct module_qstate;
struct dns_msg;
struct ub_packed_rrset_key;

/*
 * Synthesized RRsets carry this flag in their cache key, so they never share a cache entry with
 * the native RRset of the same name and type: the iterator and validator look up flags 0 and
 * never see them, and a native RRset stored later cannot replace what a cached synthesized
 * message points at. The bit is one Unbound leaves unused (see packed_rrset.h).
 */
#define ANSWER_RRSET_FLAG 0x40000000u

/* What goes into an answer besides the synthesized data. */
struct answer_parts {
	struct ub_packed_rrset_key **chain; /* CNAME/DNAME RRsets leading to owner, in order */
	size_t chain_count;
	const uint8_t *owner; /* wire name the synthesized RRset belongs to */
	size_t owner_len;
	uint32_t ttl;
	int secure; /* every input validated as secure: the answer may carry AD */
};

/*
 * A NOERROR answer for qstate's question: the chain, then an RRset of type with the RDATA
 * of data (none: no data). Allocated in qstate's region; NULL when out of memory.
 */
struct dns_msg *answer_build(struct module_qstate *qstate, const struct answer_parts *parts,
			     uint16_t type, const struct synth_answer *data);

/* An NXDOMAIN answer with no records (PTR questions for encoded addresses not in use). */
struct dns_msg *answer_nxdomain(struct module_qstate *qstate);

/* Copies an RRset (from a sub-query whose region goes away) into qstate's region. */
struct ub_packed_rrset_key *answer_copy_rrset(struct module_qstate *qstate,
					      struct ub_packed_rrset_key *rrset);

/* Stores msg in the message cache under qstate's question, unless the query forbids caching. */
void answer_cache(struct module_qstate *qstate, struct dns_msg *msg, int allowed);

/*
 * The same, but the cache keeps msg for at_most seconds whatever its TTL (the TTLs clients
 * see are unchanged): for an answer that must not decide a name's fate for long.
 */
void answer_cache_for(struct module_qstate *qstate, struct dns_msg *msg, int allowed,
		      time_t at_most);

/* How long a native answer given because the TXT lookup failed or did not finish is cached. */
#define ANSWER_BRIEF_TTL 5

#endif
