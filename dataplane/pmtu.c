/* Path MTUs towards peer gateways in a fixed set-associative table with a secret hash key. */
#include "pmtu.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PMTU_SETS 256
#define PMTU_WAYS 4

struct pmtu_entry {
	int64_t expires_ms; /* 0: empty */
	uint32_t mtu;
	uint8_t ver;
	uint8_t addr[16];
};

struct pmtu_table {
	uint8_t key[crypto_shorthash_KEYBYTES];
	unsigned count;
	struct pmtu_entry e[PMTU_SETS][PMTU_WAYS];
};

int pmtu_new(struct pmtu_table **out)
{
	struct pmtu_table *t;

	if (sodium_init() < 0)
		return -EIO;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	crypto_shorthash_keygen(t->key);
	*out = t;
	return 0;
}

void pmtu_free(struct pmtu_table *t)
{
	free(t);
}

static struct pmtu_entry *set_of(struct pmtu_table *t, uint8_t ver, const uint8_t *addr)
{
	uint8_t in[17], h[crypto_shorthash_BYTES];
	uint64_t v;

	in[0] = ver;
	memcpy(in + 1, addr, 16);
	crypto_shorthash(h, in, sizeof(in), t->key);
	memcpy(&v, h, sizeof(v));
	return t->e[v % PMTU_SETS];
}

static bool same(const struct pmtu_entry *e, uint8_t ver, const uint8_t *addr, int64_t now_ms)
{
	return e->expires_ms > now_ms && e->ver == ver && memcmp(e->addr, addr, 16) == 0;
}

void pmtu_learn(struct pmtu_table *t, uint8_t ver, const uint8_t *addr, uint32_t mtu,
		int64_t now_ms)
{
	struct pmtu_entry *set = set_of(t, ver, addr), *slot = NULL;
	uint32_t floor = ver == 4 ? PMTU_MIN4 : PMTU_MIN6;

	for (int i = 0; i < PMTU_WAYS; i++) {
		if (same(&set[i], ver, addr, now_ms)) {
			slot = &set[i];
			break;
		}
		/* else the stalest way: an empty or expired one first */
		if (!slot || set[i].expires_ms < slot->expires_ms)
			slot = &set[i];
	}
	if (!slot->expires_ms)
		t->count++; /* expired ones still count until the next sweep */
	slot->ver = ver;
	memcpy(slot->addr, addr, 16);
	slot->mtu = mtu < floor ? floor : mtu;
	slot->expires_ms = now_ms + PMTU_KEEP_MS;
}

uint32_t pmtu_get(struct pmtu_table *t, uint8_t ver, const uint8_t *addr, uint32_t dflt,
		  int64_t now_ms)
{
	struct pmtu_entry *set = set_of(t, ver, addr);

	for (int i = 0; i < PMTU_WAYS; i++)
		if (same(&set[i], ver, addr, now_ms))
			return set[i].mtu < dflt ? set[i].mtu : dflt;
	return dflt;
}

uint32_t pmtu_sweep(struct pmtu_table *t, uint32_t dflt, int64_t now_ms)
{
	uint32_t low = dflt;
	unsigned n = 0;

	for (int s = 0; s < PMTU_SETS; s++) {
		for (int i = 0; i < PMTU_WAYS; i++) {
			struct pmtu_entry *e = &t->e[s][i];
			if (!e->expires_ms)
				continue;
			if (e->expires_ms <= now_ms) {
				e->expires_ms = 0;
				continue;
			}
			n++;
			if (e->mtu < low)
				low = e->mtu;
		}
	}
	t->count = n;
	return low;
}

unsigned pmtu_count(const struct pmtu_table *t)
{
	return t->count;
}
