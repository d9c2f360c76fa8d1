/* Path MTUs towards peer gateways, as the kernel reports them: a small fixed table. */
#ifndef DP_PMTU_H
#define DP_PMTU_H

#include <stdint.h>

#include "err.h"

/*
 * The UDP sockets send with DF and ignore the kernel's path-MTU cache (spec/wire.md), so the
 * dataplane sizes datagrams itself. "Fragmentation needed" and "packet too big" that routers
 * send about our datagrams reach us through the sockets' error queues; each gives one peer's
 * MTU, kept here for PMTU_KEEP_MS (as RFC 1191 suggests) and then forgotten, so that a path
 * that grew is found again. The table is set-associative and keyed with a secret SipHash key:
 * forged ICMP can evict entries but not pile them into one set, and it never grows.
 */
#define PMTU_KEEP_MS (10 * 60 * 1000)
#define PMTU_MIN4    552  /* the kernel's floor for IPv4 (min_pmtu) */
#define PMTU_MIN6    1280 /* IPv6 links are never smaller */

struct pmtu_table;

IPR_MUST_CHECK int pmtu_new(struct pmtu_table **out);
void pmtu_free(struct pmtu_table *t);

/* Records a peer's (ver 4 or 6, addr 16 bytes) MTU, raised to the family's floor. */
void pmtu_learn(struct pmtu_table *t, uint8_t ver, const uint8_t *addr, uint32_t mtu,
		int64_t now_ms);

/* The MTU towards a peer: the learnt one while fresh, else dflt (never above dflt). */
uint32_t pmtu_get(struct pmtu_table *t, uint8_t ver, const uint8_t *addr, uint32_t dflt,
		  int64_t now_ms);

/*
 * Forgets stale entries and returns the smallest fresh MTU, or dflt: a datagram within it
 * needs no lookup. Cheap enough for a timer tick.
 */
uint32_t pmtu_sweep(struct pmtu_table *t, uint32_t dflt, int64_t now_ms);

/* Fresh entries now. */
unsigned pmtu_count(const struct pmtu_table *t);

#endif
