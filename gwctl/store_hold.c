/* The holds of quota pools in the SQLite store (schema/005-quota.sql, 007-hold-counts.sql). */
#include "store_hold.h"

#include <errno.h>
#include <stdio.h>

#include "store_impl.h"

/* Steps a statement that returns nothing of interest; resets it and forgets its bindings. */
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return store_errno(rc);
}

/* Steps a one-number query (a count). */
static int count_of(sqlite3_stmt *st, uint64_t *count)
{
	int rc = sqlite3_step(st);

	*count = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return store_errno(rc);
}

int sqlite_store_hold_put(struct store *base, const char *pool, const char *value, bool live,
			  int64_t until)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_HOLD_PUT];

	sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, pool, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, live);
	sqlite3_bind_int64(st, 4, until);
	return step_done(st);
}

int sqlite_store_hold_set(struct store *base, const char *value, bool live, int64_t until)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_HOLD_SET];

	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, live);
	sqlite3_bind_int64(st, 3, until);
	return step_done(st);
}

int sqlite_store_hold_get(struct store *base, const char *value, bool *live, int64_t *until)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_HOLD_GET];
	int rc, found = 0;

	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		found = 1;
		*live = sqlite3_column_int(st, 0) != 0;
		*until = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	rc = store_errno(rc);
	return rc < 0 ? rc : found;
}

int sqlite_store_hold_delete(struct store *base, const char *value)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_HOLD_DELETE];

	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	return step_done(st);
}

int sqlite_store_hold_due(struct store *base, const char *pool, int64_t by, struct store_hold *out,
			  unsigned max)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_HOLD_DUE];
	unsigned n = 0;
	int rc = SQLITE_OK;

	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, by);
	sqlite3_bind_int(st, 3, (int)max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(out[n].value, sizeof(out[n].value), "%s", sqlite3_column_text(st, 0));
		out[n].until = sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	rc = store_errno(rc);
	return rc < 0 ? rc : (int)n;
}

int sqlite_store_hold_admission(struct store *base, const char *pool, int64_t now, int64_t due_by,
				struct store_hold_admission *out)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_HOLD_ADMISSION];
	int rc;

	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, due_by);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->rests_ended = sqlite3_column_int(st, 0) != 0;
		out->pool_holds = (uint64_t)sqlite3_column_int64(st, 1);
		out->client_holds = (uint64_t)sqlite3_column_int64(st, 2);
		out->holds_due = sqlite3_column_int(st, 3) != 0;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -EIO : store_errno(rc);
}

int sqlite_store_hold_purge_pool(struct store *base, const char *pool, int64_t now,
				 uint64_t *purged)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_HOLD_PURGE_POOL];
	int rc;

	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	rc = step_done(st);
	*purged = rc == 0 ? (uint64_t)sqlite3_changes(store->db) : 0;
	return rc;
}

int sqlite_store_hold_purge(struct store *base, int64_t now)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_HOLD_PURGE];

	sqlite3_bind_int64(st, 1, now);
	return step_done(st);
}

int sqlite_store_hold_count_pool(struct store *base, const char *pool, uint64_t *count)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_HOLD_COUNT_POOL];

	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	return count_of(st, count);
}

int sqlite_store_hold_count_inbound(struct store *base, uint64_t *count)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_HOLD_COUNT_INBOUND];

	sqlite3_bind_text(st, 1, "hold.inbound", -1, SQLITE_STATIC);
	return count_of(st, count);
}
