/* The holds of quota pools in the store, and the decisions on new allocations under pressure. */
#include "quota.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Probation mappings put to rest by one admission at most: the cost of a request stays bounded. */
#define RECLAIM_BATCH 8

enum qstmt {
	Q_HOLD,
	Q_DUE,
	Q_PURGE_POOL,
	Q_COUNT_POOL,
	Q_COUNT_NAME,
	Q_GET,
	Q_SET,
	Q_DELETE,
	Q_PURGE,
	Q_ADMIT,
	Q_MAX,
};

static const char *const qstmt_sql[Q_MAX] = {
	/* a value is held by one pool at a time: a new hold of a reused value replaces the old */
	[Q_HOLD] = ("INSERT INTO quota_hold (value, pool, live, until) VALUES (?1, ?2, ?3, ?4)"
		    " ON CONFLICT (value) DO UPDATE SET pool = excluded.pool,"
		    " live = excluded.live, until = excluded.until"),
	[Q_DUE] = ("SELECT value, until FROM quota_hold WHERE pool = ?1 AND live = 1"
		   " AND until <= ?2 ORDER BY until LIMIT ?3"),
	[Q_PURGE_POOL] = "DELETE FROM quota_hold WHERE pool = ?1 AND live = 0 AND until <= ?2",
	/* kept by triggers (schema/007-hold-counts.sql): one row, however many the pool holds */
	[Q_COUNT_POOL] = "SELECT coalesce(max(value), 0) FROM hold_counts WHERE pool = ?1",
	/* kept by triggers (schema/005-quota.sql): constant time whatever the store holds */
	[Q_COUNT_NAME] = "SELECT coalesce(max(value), 0) FROM counts WHERE name = ?1",
	[Q_GET] = "SELECT live, until FROM quota_hold WHERE value = ?1",
	[Q_SET] = "UPDATE quota_hold SET live = ?2, until = ?3 WHERE value = ?1",
	[Q_DELETE] = "DELETE FROM quota_hold WHERE value = ?1",
	[Q_PURGE] = "DELETE FROM quota_hold WHERE live = 0 AND until <= ?1",
	/* what an admission reads, in one statement: whether the pool has rests to purge (the
	 * DELETE is run only then: even deleting nothing it cost three times this), the pool's
	 * holds and all clients' */
	[Q_ADMIT] = ("SELECT EXISTS (SELECT 1 FROM quota_hold WHERE pool = ?1 AND live = 0"
		     " AND until <= ?2),"
		     " (SELECT coalesce(max(value), 0) FROM hold_counts WHERE pool = ?1),"
		     " (SELECT coalesce(max(value), 0) FROM counts WHERE name = 'hold.client')"),
};

_Static_assert(Q_MAX <= sizeof(((struct quota *)0)->stmt) / sizeof(void *), "room for stmts");

void quota_close(struct quota *q)
{
	for (int i = 0; i < Q_MAX; i++)
		sqlite3_finalize(q->stmt[i]);
	memset(q, 0, sizeof(*q));
}

/* The statement s on the store's connection, prepared once (again if the store changed). */
static int prepare(struct quota *q, struct store *store, enum qstmt s, sqlite3_stmt **out)
{
	sqlite3 *db = store_db(store);

	*out = NULL; /* set on every path: gcc -O3 cannot see that store_errno() < 0 here */
	if (q->db != db) {
		quota_close(q);
		q->db = db;
	}
	if (!q->stmt[s]) {
		int rc = sqlite3_prepare_v3(db, qstmt_sql[s], -1, SQLITE_PREPARE_PERSISTENT,
					    (sqlite3_stmt **)&q->stmt[s], NULL);
		if (rc != SQLITE_OK)
			return store_errno(rc);
	}
	*out = q->stmt[s];
	return 0;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return store_errno(rc);
}

static int count_of(sqlite3_stmt *st, uint64_t *count)
{
	int rc = sqlite3_step(st);

	*count = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return store_errno(rc);
}

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

static int hold(struct quota *q, struct store *store, const char *pool, const struct ipr_mapping *m,
		bool live, int64_t until)
{
	char value[INET6_ADDRSTRLEN];
	sqlite3_stmt *st;
	int rc = prepare(q, store, Q_HOLD, &st);

	if (rc < 0)
		return rc;
	value_text(m, value);
	sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, pool, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, live);
	sqlite3_bind_int64(st, 4, until);
	return step_done(st);
}

static int set_hold(struct quota *q, struct store *store, const char *value, bool live,
		    int64_t until)
{
	sqlite3_stmt *st;
	int rc = prepare(q, store, Q_SET, &st);

	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, live);
	sqlite3_bind_int64(st, 3, until);
	return step_done(st);
}

/* 1 with *until when m's value is held live (on probation), 0 when not, or -errno. */
static int live_hold(struct quota *q, struct store *store, const struct ipr_mapping *m,
		     int64_t *until)
{
	char value[INET6_ADDRSTRLEN];
	sqlite3_stmt *st;
	int rc, live = 0;

	if (m->kind != IPR_MAP_DYNAMIC_REMOTE)
		return 0;
	rc = prepare(q, store, Q_GET, &st);
	if (rc < 0)
		return rc;
	value_text(m, value);
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		live = sqlite3_column_int(st, 0);
		*until = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	rc = store_errno(rc);
	return rc < 0 ? rc : live;
}

/*
 * Puts the client's probation mappings whose answers have run out to rest: each rests until
 * its hold ends, probation_secs after its lease, so that an answer a cache kept to the last
 * second has gone before the value can name another host.
 */
static int reclaim_due(struct quota *q, struct store *store, const char *pool,
		       const struct quota_limits *lim, int64_t now, struct ipr_mapping *removed,
		       unsigned removed_max, unsigned *removed_count)
{
	struct {
		char value[INET6_ADDRSTRLEN];
		int64_t until;
	} due[RECLAIM_BATCH];
	sqlite3_stmt *st;
	int n = 0, rc = prepare(q, store, Q_DUE, &st);

	*removed_count = 0;
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now + lim->probation_secs);
	sqlite3_bind_int(st, 3, RECLAIM_BATCH);
	while (n < RECLAIM_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(due[n].value, sizeof(due[n].value), "%s", sqlite3_column_text(st, 0));
		due[n].until = sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	rc = store_errno(rc);
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
			rc = set_hold(q, store, due[i].value, false, until);
	}
	return rc;
}

int quota_client_admit(struct quota *q, struct store *store, const char *pool,
		       const struct quota_limits *lim, int64_t now, struct ipr_mapping *removed,
		       unsigned removed_max, unsigned *removed_count, enum quota_verdict *verdict)
{
	sqlite3_stmt *st;
	uint64_t held = 0, total = 0, gone;
	int rc, purge = 0;

	*verdict = QUOTA_ALLOW;
	rc = reclaim_due(q, store, pool, lim, now, removed, removed_max, removed_count);
	if (rc == 0)
		rc = prepare(q, store, Q_ADMIT, &st);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		purge = sqlite3_column_int(st, 0);
		held = (uint64_t)sqlite3_column_int64(st, 1);
		total = (uint64_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -EIO : store_errno(rc);
	if (rc == 0 && purge) {
		rc = prepare(q, store, Q_PURGE_POOL, &st);
		if (rc < 0)
			return rc;
		sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		rc = step_done(st);
		/* the rows purged were the pool's, and client holds (the trigger's count too) */
		gone = rc == 0 ? (uint64_t)sqlite3_changes(store_db(store)) : 0;
		held -= gone < held ? gone : held;
		total -= gone < total ? gone : total;
	}
	if (rc < 0)
		return rc;
	if (held >= lim->client_limit)
		*verdict = QUOTA_CLIENT_FULL;
	else if (total >= lim->client_total)
		*verdict = QUOTA_TOTAL_FULL;
	return 0;
}

int quota_client_hold(struct quota *q, struct store *store, const char *pool,
		      const struct ipr_mapping *m, const struct quota_limits *lim)
{
	return hold(q, store, pool, m, true, m->expires + lim->probation_secs);
}

int quota_on_probation(struct quota *q, struct store *store, const struct ipr_mapping *m)
{
	int64_t until;

	return live_hold(q, store, m, &until);
}

int quota_renew(struct quota *q, struct store *store, struct ipr_mapping *m,
		const struct quota_limits *lim, int64_t now)
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
	return set_hold(q, store, value, true, fresh + lim->probation_secs);
}

int quota_confirm(struct quota *q, struct store *store, const struct ipr_mapping *m)
{
	char value[INET6_ADDRSTRLEN];
	sqlite3_stmt *st;
	int64_t until;
	int rc = live_hold(q, store, m, &until);

	if (rc <= 0)
		return rc;
	rc = prepare(q, store, Q_DELETE, &st);
	if (rc < 0)
		return rc;
	value_text(m, value);
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	rc = step_done(st);
	return rc < 0 ? rc : 1;
}

int quota_release(struct quota *q, struct store *store, const struct ipr_mapping *m, int64_t now,
		  int64_t *until)
{
	char value[INET6_ADDRSTRLEN];
	int64_t held;
	int rc = live_hold(q, store, m, &held);

	if (rc <= 0)
		return rc;
	*until = held > now ? held : now;
	value_text(m, value);
	return set_hold(q, store, value, false, *until);
}

int quota_inbound_rest(struct quota *q, struct store *store, const char *pool,
		       const struct ipr_mapping *m, int64_t until)
{
	return hold(q, store, pool, m, false, until);
}

int quota_inbound_resting(struct quota *q, struct store *store, const char *pool, uint64_t *count)
{
	sqlite3_stmt *st;
	int rc = prepare(q, store, pool ? Q_COUNT_POOL : Q_COUNT_NAME, &st);

	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, pool ? pool : "hold.inbound", -1, SQLITE_STATIC);
	return count_of(st, count);
}

int quota_purge(struct quota *q, struct store *store, int64_t now)
{
	sqlite3_stmt *st;
	int rc = prepare(q, store, Q_PURGE, &st);

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	return step_done(st);
}
