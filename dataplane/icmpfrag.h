/* First fragments of ICMP echoes held until their datagram's length is known: a fixed cache. */
#ifndef DP_ICMPFRAG_H
#define DP_ICMPFRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

/*
 * Between ICMPv6 and IPREF-ICMP the checksum changes by a pseudo-header that holds the whole
 * message's length, which only the last fragment tells (its offset plus its length), while the
 * first carries the checksum (spec/wire.md, Fragments). So a first fragment waits here until
 * the last of its datagram has gone by, or that length is noted here for a first fragment that
 * comes after it. The cache is a fixed number of entries with a packet buffer each, allocated
 * at start; lookups are a linear scan of those few entries, in fixed time. When it is full the
 * oldest entry gives way; an entry lives ICMPFRAG_KEEP_MS at most (hosts give up reassembly
 * after 30 s, Linux's ipfrag_time, or 60 s for IPv6: what is held longer could never be used).
 */
#define ICMPFRAG_ENTRIES 64
#define ICMPFRAG_KEEP_MS (30 * 1000)
/* side (1), two addresses or context and references (16 each, three of them), identification */
#define ICMPFRAG_KEY_LEN (1 + 3 * 16 + 4)

/* Which way the datagram goes, so that the two sides' keys never meet. */
enum icmpfrag_side { ICMPFRAG_TO_WIRE = 1, ICMPFRAG_TO_LOCAL = 2 };

struct icmpfrag_key {
	uint8_t bytes[ICMPFRAG_KEY_LEN];
};

struct icmpfrag_entry {
	struct icmpfrag_key key;
	int64_t expires_ms; /* 0: free */
	uint32_t total;	    /* the message's length once the last fragment told it; 0 before */
	size_t len;	    /* the held first fragment's length; 0: none held */
	uint8_t *pkt;	    /* its bytes (pkt_max of them), owned by the cache */
	struct sockaddr_storage from; /* a datagram's sender (to-local side) */
};

struct icmpfrag_stats {
	uint64_t held;	   /* first fragments that waited here */
	uint64_t released; /* of which went on once their length was known */
	uint64_t expired;  /* of which were dropped when their time ran out */
	uint64_t evicted;  /* entries that gave way to newer ones, the cache being full */
};

struct icmpfrag {
	struct icmpfrag_entry e[ICMPFRAG_ENTRIES];
	size_t pkt_max;
	uint8_t *mem;
	struct icmpfrag_stats stats;
};

/* Entries with pkt_max bytes each: 0 or -ENOMEM. */
IPR_MUST_CHECK int icmpfrag_init(struct icmpfrag *c, size_t pkt_max);
void icmpfrag_deinit(struct icmpfrag *c);

/* Keys: the local source and destination (16 bytes each), or the peer's context (16 bytes)
 * and both references (16 bytes each, most significant first), and the identification. */
void icmpfrag_key_make(struct icmpfrag_key *k, enum icmpfrag_side side, const uint8_t *a,
		       const uint8_t *b, const uint8_t *c, uint32_t id);

/* The live entry of a key, or NULL. */
struct icmpfrag_entry *icmpfrag_find(struct icmpfrag *c, const struct icmpfrag_key *k,
				     int64_t now_ms);

/*
 * A first fragment whose length is not known yet: copied into the key's entry (made if need be,
 * the oldest giving way when all are taken). Returns 0, or -EMSGSIZE when it exceeds pkt_max.
 */
IPR_MUST_CHECK int icmpfrag_hold(struct icmpfrag *c, const struct icmpfrag_key *k,
				 const uint8_t *pkt, size_t len,
				 const struct sockaddr_storage *from, int64_t now_ms);

/*
 * The last fragment told the length: noted in the key's entry (made if need be, for a first
 * fragment still to come). Returns the entry; it holds a first fragment when len is non-zero,
 * which the caller then sends (copying it out first) and gives back with icmpfrag_done.
 */
struct icmpfrag_entry *icmpfrag_total(struct icmpfrag *c, const struct icmpfrag_key *k,
				      uint32_t total, int64_t now_ms);

/* The entry's datagram is through (its first fragment went, or was dropped): frees it. */
void icmpfrag_done(struct icmpfrag *c, struct icmpfrag_entry *e);

/* Frees the entries whose time ran out; those holding a fragment count as expired. */
void icmpfrag_sweep(struct icmpfrag *c, int64_t now_ms);

#endif
