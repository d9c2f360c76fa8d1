/* Limits on encoded addresses the dataplane asks for on behalf of unknown remote sources. */
#ifndef GWCTL_INBOUND_H
#define GWCTL_INBOUND_H

#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "addr.h"
#include "bucket.h"

/*
 * Inbound traffic from an unknown remote IPREF address makes the dataplane ask for an encoded
 * address, so an attacker varying references or spoofing gateway addresses could drain the
 * encoded range. Rates are token buckets, per peer gateway and in all; the per-peer buckets
 * sit in a fixed table indexed by a keyed hash of the gateway, so crafted addresses cannot aim
 * at one bucket, and many spoofed gateways share buckets rather than grow memory.
 */
#define INBOUND_BUCKETS 4096

struct inbound {
	struct ipr_bucket peers[INBOUND_BUCKETS]; /* one allocation costs a token */
	struct ipr_bucket all;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

void inbound_init(struct inbound *in);

/*
 * Takes one allocation from peer's bucket and from the global one, each refilled at its rate
 * (allocations per second, a second's worth at most; now_ms from ipr_clock_ms); false, and nothing
 * taken, when either is empty.
 */
bool inbound_take(struct inbound *in, const struct ipr_context *peer, uint32_t rate,
		  uint32_t rate_total, int64_t now_ms);

#endif
