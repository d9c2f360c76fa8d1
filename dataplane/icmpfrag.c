/* A fixed cache of ICMP echo first fragments waiting for their datagram's length. */
#include "icmpfrag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int icmpfrag_init(struct icmpfrag *c, size_t pkt_max)
{
	memset(c, 0, sizeof(*c));
	c->mem = calloc(ICMPFRAG_ENTRIES, pkt_max);
	if (!c->mem)
		return -ENOMEM;
	c->pkt_max = pkt_max;
	for (size_t i = 0; i < ICMPFRAG_ENTRIES; i++)
		c->e[i].pkt = c->mem + i * pkt_max;
	return 0;
}

void icmpfrag_deinit(struct icmpfrag *c)
{
	free(c->mem);
	c->mem = NULL;
}

void icmpfrag_key_make(struct icmpfrag_key *k, enum icmpfrag_side side, const uint8_t *a,
		       const uint8_t *b, const uint8_t *c, uint32_t id)
{
	uint8_t *p = k->bytes;

	memset(k, 0, sizeof(*k));
	*p++ = (uint8_t)side;
	memcpy(p, a, 16);
	memcpy(p + 16, b, 16);
	if (c)
		memcpy(p + 32, c, 16);
	p += 48;
	p[0] = (uint8_t)(id >> 24);
	p[1] = (uint8_t)(id >> 16);
	p[2] = (uint8_t)(id >> 8);
	p[3] = (uint8_t)id;
}

struct icmpfrag_entry *icmpfrag_find(struct icmpfrag *c, const struct icmpfrag_key *k,
				     int64_t now_ms)
{
	for (size_t i = 0; i < ICMPFRAG_ENTRIES; i++) {
		struct icmpfrag_entry *e = &c->e[i];
		if (e->expires_ms > now_ms && memcmp(&e->key, k, sizeof(*k)) == 0)
			return e;
	}
	return NULL;
}

/* The key's entry, or a fresh one: a free or expired one, else the oldest gives way. */
static struct icmpfrag_entry *take(struct icmpfrag *c, const struct icmpfrag_key *k, int64_t now_ms)
{
	struct icmpfrag_entry *e = icmpfrag_find(c, k, now_ms), *oldest = &c->e[0];

	if (e)
		return e;
	for (size_t i = 0; i < ICMPFRAG_ENTRIES; i++) {
		e = &c->e[i];
		if (e->expires_ms <= now_ms) {
			if (e->expires_ms && e->len)
				c->stats.expired++;
			goto fresh;
		}
		if (e->expires_ms < oldest->expires_ms)
			oldest = e;
	}
	e = oldest;
	c->stats.evicted++;
fresh:
	e->key = *k;
	e->expires_ms = now_ms + ICMPFRAG_KEEP_MS;
	e->total = 0;
	e->len = 0;
	return e;
}

int icmpfrag_hold(struct icmpfrag *c, const struct icmpfrag_key *k, const uint8_t *pkt, size_t len,
		  const struct sockaddr_storage *from, int64_t now_ms)
{
	struct icmpfrag_entry *e;

	if (len == 0 || len > c->pkt_max)
		return -EMSGSIZE;
	e = take(c, k, now_ms);
	memcpy(e->pkt, pkt, len);
	e->len = len;
	if (from)
		e->from = *from;
	else
		memset(&e->from, 0, sizeof(e->from));
	c->stats.held++;
	return 0;
}

struct icmpfrag_entry *icmpfrag_total(struct icmpfrag *c, const struct icmpfrag_key *k,
				      uint32_t total, int64_t now_ms)
{
	struct icmpfrag_entry *e = take(c, k, now_ms);

	e->total = total;
	return e;
}

void icmpfrag_done(struct icmpfrag *c, struct icmpfrag_entry *e)
{
	if (e->len)
		c->stats.released++;
	e->expires_ms = 0;
	e->len = 0;
	e->total = 0;
}

void icmpfrag_sweep(struct icmpfrag *c, int64_t now_ms)
{
	for (size_t i = 0; i < ICMPFRAG_ENTRIES; i++) {
		struct icmpfrag_entry *e = &c->e[i];
		if (!e->expires_ms || e->expires_ms > now_ms)
			continue;
		if (e->len)
			c->stats.expired++;
		e->expires_ms = 0;
		e->len = 0;
	}
}
