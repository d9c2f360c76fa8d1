/* Allocation under pressure: the decisions on new allocations; store_hold.h keeps the holds. */
#include "quota.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "store_hold.h"

/* Probation mappings put to rest by one admission at most: the cost of a request stays bounded. */
#define RECLAIM_BATCH 8

static void value_text(const struct ipr_mapping *m, char *buf)
{
	store_address_text(m->family, m->address, buf);
}

void quota_client_pool(int family, const uint8_t *addr, char *pool)
{
	char text[INET6_ADDRSTRLEN];

	store_address_text(family, addr, text);
	snprintf(pool, QUOTA_POOL_MAX, "client:%s", text);
}

void quota_inbound_pool(const struct ipr_context *peer, char *pool)
{
	char text[IPR_ADDR_TEXT_MAX];

	ipr_context_format(peer, text);
	snprintf(pool, QUOTA_POOL_MAX, "inbound:%s", text);
}

static int hold(struct store *store, const char *pool, const struct ipr_mapping *m, bool live,
		int64_t until)
{
	char value[INET6_ADDRSTRLEN];

	value_text(m, value);
	return store_hold_put(store, pool, value, live, until);
}

/* 1 with *until when m's value is held live (on probation), 0 when not, or -errno. */
static int live_hold(struct store *store, const struct ipr_mapping *m, int64_t *until)
{
	char value[INET6_ADDRSTRLEN];
	bool live = false;
	int rc;

	if (m->kind != IPR_MAP_DYNAMIC_REMOTE)
		return 0;
	value_text(m, value);
	rc = store_hold_get(store, value, &live, until);
	return rc <= 0 ? rc : live;
}

/*
 * Puts the client's probation mappings whose answers have run out to rest: each rests until
 * its hold ends, probation_secs after its lease, so that an answer a cache kept to the last
 * second has gone before the value can name another host.
 */
static int reclaim_due(struct store *store, const char *pool, const struct quota_limits *lim,
		       int64_t now, struct ipr_mapping *removed, unsigned removed_max,
		       unsigned *removed_count)
{
	struct store_hold due[RECLAIM_BATCH];
	int rc = 0, n = store_hold_due(store, pool, now + lim->probation_secs, due, RECLAIM_BATCH);

	*removed_count = 0;
	if (n < 0)
		return n;
	for (int i = 0; rc == 0 && i < n; i++) {
		struct ipr_mapping m;
		uint8_t addr[16] = { 0 };
		int family = strchr(due[i].value, ':') ? AF_INET6 : AF_INET;
		int64_t until = due[i].until > now ? due[i].until : now;

		if (inet_pton(family, due[i].value, addr) != 1)
			return -EBADMSG;
		rc = store_find_encoded(store, family, addr, &m);
		if (rc == 0 && m.kind == IPR_MAP_DYNAMIC_REMOTE) {
			rc = store_delete(store, &m, until);
			if (rc == 0 && *removed_count < removed_max)
				removed[(*removed_count)++] = m;
		} else if (rc == -ENOENT || rc == -EBADMSG || rc == 0) {
			rc = 0; /* gone by hand already: only the hold is left to rest */
		}
		if (rc == 0)
			rc = store_hold_set(store, due[i].value, false, until);
	}
	return rc;
}

int quota_client_admit(struct store *store, const char *pool, const struct quota_limits *lim,
		       int64_t now, struct ipr_mapping *removed, unsigned removed_max,
		       unsigned *removed_count, enum quota_verdict *verdict)
{
	struct store_hold_admission a = { 0 };
	uint64_t gone;
	int rc;

	*verdict = QUOTA_ALLOW;
	*removed_count = 0;
	/* the due holds are asked for only when the admission saw some: a round trip spared on
	 * PostgreSQL; the counts are read again after a reclaim */
	rc = store_hold_admission(store, pool, now, now + lim->probation_secs, &a);
	if (rc == 0 && a.holds_due) {
		rc = reclaim_due(store, pool, lim, now, removed, removed_max, removed_count);
		if (rc == 0)
			rc = store_hold_admission(store, pool, now, now + lim->probation_secs, &a);
	}
	if (rc == 0 && a.rests_ended) {
		rc = store_hold_purge_pool(store, pool, now, &gone);
		/* the rows purged were the pool's, and client holds (the trigger's count too) */
		a.pool_holds -= gone < a.pool_holds ? gone : a.pool_holds;
		a.client_holds -= gone < a.client_holds ? gone : a.client_holds;
	}
	if (rc < 0)
		return rc;
	if (a.pool_holds >= lim->client_limit)
		*verdict = QUOTA_CLIENT_FULL;
	else if (a.client_holds >= lim->client_total)
		*verdict = QUOTA_TOTAL_FULL;
	return 0;
}

int64_t quota_client_hold_until(const struct ipr_mapping *m, const struct quota_limits *lim)
{
	return m->expires + lim->probation_secs;
}

int quota_client_hold(struct store *store, const char *pool, const struct ipr_mapping *m,
		      const struct quota_limits *lim)
{
	return hold(store, pool, m, true, quota_client_hold_until(m, lim));
}

int quota_on_probation(struct store *store, const struct ipr_mapping *m)
{
	int64_t until;

	return live_hold(store, m, &until);
}

int quota_renew(struct store *store, struct ipr_mapping *m, const struct quota_limits *lim,
		int64_t now)
{
	char value[INET6_ADDRSTRLEN];
	int64_t fresh = now + lim->probation_secs;
	int rc;

	/* a probation lease moves only forward, and only when a quarter of it has passed */
	if (fresh - m->expires < (int64_t)lim->probation_secs / 4)
		return 0;
	rc = store_set_expiry(store, m, fresh);
	if (rc < 0)
		return rc;
	m->expires = fresh;
	value_text(m, value);
	return store_hold_set(store, value, true, fresh + lim->probation_secs);
}

int quota_confirm(struct store *store, const struct ipr_mapping *m)
{
	char value[INET6_ADDRSTRLEN];
	int64_t until;
	int rc = live_hold(store, m, &until);

	if (rc <= 0)
		return rc;
	value_text(m, value);
	rc = store_hold_delete(store, value);
	return rc < 0 ? rc : 1;
}

int quota_release(struct store *store, const struct ipr_mapping *m, int64_t now, int64_t *until)
{
	char value[INET6_ADDRSTRLEN];
	int64_t held;
	int rc = live_hold(store, m, &held);

	if (rc <= 0)
		return rc;
	*until = held > now ? held : now;
	value_text(m, value);
	return store_hold_set(store, value, false, *until);
}

int quota_inbound_rest(struct store *store, const char *pool, const struct ipr_mapping *m,
		       int64_t until)
{
	return hold(store, pool, m, false, until);
}

int quota_inbound_resting(struct store *store, const char *pool, uint64_t *count)
{
	return pool ? store_hold_count_pool(store, pool, count)
		    : store_hold_count_inbound(store, count);
}

int quota_purge(struct store *store, int64_t now)
{
	return store_hold_purge(store, now);
}
