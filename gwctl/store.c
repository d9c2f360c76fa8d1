/* The SQLite store: transactions, commits and what makes them durable (store_*.c: the rest). */
#include "store_impl.h"

#include <errno.h>
#include <string.h>

#include "bucket.h"
#include "store_guard.h"

int store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
		return -EROFS;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

int sqlite_store_begin(struct store *base)
{
	struct sqlite_store *store = sqlite_of(base);
	store->changes_at_begin = sqlite_store_changes(&store->base);
	store->sync_this = false;
	return run(store, ST_BEGIN);
}

/* Deletes what the open transaction took from each pool: one statement a pool, not a take. */
static int delete_taken(struct sqlite_store *store)
{
	sqlite3_stmt *st = store->stmt[ST_RESERVE_DELETE_TAKEN];
	int rc = 0;

	for (size_t i = 0; i < STORE_POOLS_KEPT && rc == 0; i++) {
		if (!store->pools[i].taken_to)
			continue;
		bind_text(st, 1, store->pools[i].pool);
		sqlite3_bind_int64(st, 2, store->pools[i].taken_to);
		rc = run(store, ST_RESERVE_DELETE_TAKEN);
		store->pools[i].taken_to = 0;
	}
	return rc;
}

int sqlite_store_commit(struct store *base)
{
	struct sqlite_store *store = sqlite_of(base);
	int rc;

	/* checked before COMMIT, so that nothing is acknowledged that a restart would lose;
	 * reads go on, from the file still open, so that status and stats can tell what happened */
	if (!store->replaced)
		store->replaced = store_guard_moved(store->db);
	if (store->replaced && sqlite_store_changes(&store->base) != store->changes_at_begin) {
		sqlite_store_rollback(&store->base);
		return -ESTALE;
	}
	/* the values taken leave the reserve in the commit that binds them */
	rc = delete_taken(store);
	if (rc == 0)
		rc = run(store, ST_COMMIT);
	if (rc < 0) {
		sqlite_store_rollback(&store->base);
		return rc;
	}
	store->commit_gen++;
	if (store->sync_this) {
		/* a value was bound that no flush had covered yet: on disk before anyone hears of
		 * it (the old way, now the exception; counted) */
		store->sync_this = false;
		store->stats.sync_commits++;
		rc = store_flush_now(&store->flush, store->commit_gen);
	}
	return rc;
}

void sqlite_store_flush(struct store *base)
{
	struct sqlite_store *store = sqlite_of(base);
	store_flush_request(&store->flush, store->commit_gen);
}

bool sqlite_store_flushed(const struct store *base)
{
	const struct sqlite_store *store = sqlite_of_const(base);
	return store_flush_done(&store->flush) >= store->commit_gen;
}

void sqlite_store_durability(const struct store *base, struct store_durability *out)
{
	const struct sqlite_store *store = sqlite_of_const(base);
	*out = store->stats;
	out->flushes = __atomic_load_n(&store->flush.flushes, __ATOMIC_RELAXED);
	out->flush_failures = __atomic_load_n(&store->flush.failures, __ATOMIC_RELAXED);
	out->wal_restarts = store->wal.restarts;
	out->wal_waits = store->wal.waits;
	out->wal_catch_ups = store->wal.catch_ups;
}

void sqlite_store_need_sync(struct store *base)
{
	struct sqlite_store *store = sqlite_of(base);
	store->sync_this = true;
}

/* Runs sql with ?1 and ?2 bound (unused ones are ignored); for the rare statements of start. */
static int run_sql(struct sqlite_store *store, const char *sql, int64_t a, int64_t b,
		   int64_t *result)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(store->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return store_errno(rc);
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && result)
		*result = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return store_errno(rc);
}

int sqlite_store_start(struct store *base, int64_t now, uint32_t lease_secs,
		       uint32_t quarantine_secs, struct store_start_report *report)
{
	struct sqlite_store *store = sqlite_of(base);
	int64_t clean = 0, n = 0;
	int rc;

	memset(report, 0, sizeof(*report));
	rc = run(store, ST_BEGIN);
	if (rc == 0)
		rc = run_sql(store, "SELECT value FROM store_state WHERE name = 'clean'", 0, 0,
			     &clean);
	if (rc == 0 && !clean) {
		/* Power may have gone: bindings of the last flush interval may be forgotten, and
		 * their values are back in reserve. Every reserved value rests for a lease (an
		 * answer naming it may be cached) plus the quarantine. */
		report->unclean = true;
		rc = run_sql(store, "SELECT count(DISTINCT value) FROM reserve", 0, 0, &n);
		report->reserved_quarantined = (uint64_t)n;
		if (rc == 0)
			rc = run_sql(
				store,
				"INSERT INTO quarantine (value, until) SELECT DISTINCT value, ?1"
				" FROM reserve WHERE true ON CONFLICT (value)"
				" DO UPDATE SET until = max(until, excluded.until)",
				now + lease_secs + quarantine_secs, 0, NULL);
		if (rc == 0)
			rc = run_sql(store, "DELETE FROM reserve", 0, 0, NULL);
		/* extensions of the lost interval are forgotten too: every lease may run to
		 * now + lease, as one acknowledged just before the crash would */
		if (rc == 0)
			rc = run_sql(store,
				     "UPDATE local_mapping SET expires = ?1"
				     " WHERE expires IS NOT NULL AND expires < ?1",
				     now + lease_secs, 0, NULL);
		if (rc == 0)
			report->leases_extended = (uint64_t)sqlite3_changes64(store->db);
		if (rc == 0)
			rc = run_sql(store,
				     "UPDATE remote_mapping SET expires = ?1"
				     " WHERE expires IS NOT NULL AND expires < ?1",
				     now + lease_secs, 0, NULL);
		if (rc == 0)
			report->leases_extended += (uint64_t)sqlite3_changes64(store->db);
	}
	/* after a clean stop every reserved value is on disk and unused: usable at once */
	if (rc == 0)
		rc = run_sql(store, "UPDATE reserve SET seq = 0 WHERE seq <> 0", 0, 0, NULL);
	if (rc == 0)
		rc = run_sql(store, "UPDATE store_state SET value = 0 WHERE name = 'clean'", 0, 0,
			     NULL);
	if (rc < 0) {
		sqlite_store_rollback(&store->base);
		return rc;
	}
	rc = run(store, ST_COMMIT);
	if (rc < 0) {
		sqlite_store_rollback(&store->base);
		return rc;
	}
	store->commit_gen++;
	pools_forget(store); /* the reserve was emptied or renumbered by SQL of its own */
	/* on disk before anything is bound: the next start must see "not clean" */
	return store_flush_now(&store->flush, store->commit_gen);
}

int sqlite_store_mark_clean(struct store *base)
{
	struct sqlite_store *store = sqlite_of(base);
	int rc = run(store, ST_BEGIN);

	if (rc == 0)
		rc = run_sql(store, "UPDATE store_state SET value = 1 WHERE name = 'clean'", 0, 0,
			     NULL);
	if (rc == 0)
		rc = run(store, ST_COMMIT);
	if (rc < 0) {
		sqlite_store_rollback(&store->base);
		return rc;
	}
	store->commit_gen++;
	/* the mark and every commit before it, on disk together */
	return store_flush_now(&store->flush, store->commit_gen);
}

void sqlite_store_rollback(struct store *base)
{
	struct sqlite_store *store = sqlite_of(base);
	pools_forget(store);
	if (!sqlite3_get_autocommit(store->db))
		(void)run(store, ST_ROLLBACK);
}

void sqlite_store_tend(struct store *base)
{
	struct sqlite_store *store = sqlite_of(base);

	if (sqlite3_get_autocommit(store->db))
		store_wal_tend(&store->wal, store->db, &store->flush, ipr_clock_ms());
}

/* The end of a checkpoint pass: the WAL may start again before the next commit. */
int sqlite_store_tend_fd(const struct store *base)
{
	return store_flush_wake_fd(&sqlite_of_const(base)->flush);
}

/* A refill's adds are calls in this process, a statement a value: nothing to move behind it. */
int sqlite_store_refill_behind(struct store *base)
{
	(void)base;
	return -ENOTSUP;
}

void sqlite_store_wal_status(const struct store *base, uint64_t *bytes, int64_t *held_ms)
{
	const struct sqlite_store *store = sqlite_of_const(base);
	*bytes = store_wal_size(&store->wal);
	*held_ms = store_wal_held_ms(&store->wal, ipr_clock_ms());
}

bool sqlite_store_replaced(const struct store *base)
{
	const struct sqlite_store *store = sqlite_of_const(base);
	return store->replaced;
}

uint64_t sqlite_store_changes(const struct store *base)
{
	const struct sqlite_store *store = sqlite_of_const(base);
	return (uint64_t)sqlite3_total_changes64(store->db);
}

bool sqlite_store_in_transaction(const struct store *base)
{
	const struct sqlite_store *store = sqlite_of_const(base);
	return !sqlite3_get_autocommit(store->db);
}

int sqlite_store_savepoint(struct store *base)
{
	struct sqlite_store *store = sqlite_of(base);
	return run(store, ST_SAVEPOINT);
}

int sqlite_store_release(struct store *base)
{
	struct sqlite_store *store = sqlite_of(base);
	return run(store, ST_RELEASE);
}

void sqlite_store_rollback_to(struct store *base)
{
	struct sqlite_store *store = sqlite_of(base);
	/* counts only: deleting at commit what was taken before the savepoint is still right,
	 * and deleting a row given back after it only shortens the reserve */
	for (size_t i = 0; i < STORE_POOLS_KEPT; i++)
		store->pools[i].count = -1;
	if (sqlite_store_in_transaction(&store->base) && run(store, ST_ROLLBACK_TO) == 0)
		(void)run(store, ST_RELEASE);
}
