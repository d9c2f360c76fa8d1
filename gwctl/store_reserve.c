/* The reserve: values set aside ahead of need, taken oldest first, counted in memory. */
#include "store_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The pool's slot, or NULL when it has none (more pools than slots). */
static struct reserve_pool *pool_slot(struct sqlite_store *store, const char *pool, bool claim)
{
	size_t i;

	for (i = 0; i < STORE_POOLS_KEPT && store->pools[i].pool[0]; i++) {
		if (strcmp(store->pools[i].pool, pool) == 0)
			return &store->pools[i];
	}
	if (!claim || i == STORE_POOLS_KEPT || strlen(pool) >= STORE_POOL_TEXT_MAX)
		return NULL;
	snprintf(store->pools[i].pool, STORE_POOL_TEXT_MAX, "%s", pool);
	store->pools[i].count = -1;
	store->pools[i].taken_to = 0;
	return &store->pools[i];
}

static int64_t *pool_count(struct sqlite_store *store, const char *pool, bool claim)
{
	struct reserve_pool *slot = pool_slot(store, pool, claim);

	return slot ? &slot->count : NULL;
}

/* After a take (-1) or an add (+1) that succeeded. */
static void pool_moved(struct sqlite_store *store, const char *pool, int64_t by)
{
	int64_t *count = pool_count(store, pool, false);

	if (count && *count >= 0)
		*count += by;
}

int sqlite_store_reserve_take(struct store *base, const char *pool, bool flushed_only, int64_t now,
			      char *value, size_t size, bool *busy)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_RESERVE_TAKE];
	struct reserve_pool *slot = pool_slot(store, pool, true);
	const char *text;
	int64_t id = 0;
	int rc;

	bind_text(st, 1, pool);
	sqlite3_bind_int64(st, 2,
			   flushed_only ? (int64_t)store_flush_done(&store->flush) : INT64_MAX);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, slot ? slot->taken_to : 0);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		text = (const char *)sqlite3_column_text(st, 1);
		snprintf(value, size, "%s", text ? text : "");
		*busy = sqlite3_column_int(st, 2) != 0;
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	sqlite3_reset(st);
	if (rc < 0)
		return rc;
	if (slot) {
		slot->taken_to = id; /* deleted with the others at commit */
	} else {
		sqlite3_bind_int64(store->stmt[ST_RESERVE_DELETE], 1, id);
		rc = run(store, ST_RESERVE_DELETE);
	}
	if (rc == 0)
		pool_moved(store, pool, -1);
	if (rc == 0 && !flushed_only)
		sqlite_store_need_sync(&store->base);
	return rc;
}

/* Looking first is a call in this process here: the allocation looks up, then takes. */
int sqlite_store_reserve_peek(struct store *base, const char *pool, int64_t now, char *value,
			      size_t size, bool *busy)
{
	(void)base, (void)pool, (void)now, (void)value, (void)size, (void)busy;
	return -ENOTSUP;
}

int sqlite_store_reserve_add(struct store *base, const char *pool, const char *value, int64_t now)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_RESERVE_ADD];
	int rc;

	bind_text(st, 1, value);
	bind_text(st, 2, pool);
	sqlite3_bind_int64(st, 3, (int64_t)store->commit_gen + 1); /* the commit to come */
	sqlite3_bind_int64(st, 4, now);
	rc = run(store, ST_RESERVE_ADD);
	if (rc < 0)
		return rc;
	if (sqlite3_changes(store->db) != 1)
		return 0;
	pool_moved(store, pool, 1);
	return 1;
}

/* A statement each: SQLite's are calls in the daemon's own process, not round trips. */
int sqlite_store_reserve_add_many(struct store *base, const char *pool, const char *const *values,
				  size_t n, int64_t now)
{
	int added = 0;

	for (size_t i = 0; i < n; i++) {
		int rc = sqlite_store_reserve_add(base, pool, values[i], now);

		if (rc < 0)
			return rc;
		added += rc;
	}
	return added;
}

int sqlite_store_reserve_count(struct store *base, const char *pool, uint64_t *all,
			       uint64_t *flushed)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[flushed ? ST_RESERVE_COUNT : ST_RESERVE_COUNT_ALL];
	struct reserve_pool *slot = pool_slot(store, pool, true);
	int64_t *kept = flushed || !slot ? NULL : &slot->count;
	int rc;

	if (kept && *kept >= 0) {
		*all = (uint64_t)*kept;
		return 0;
	}
	bind_text(st, 1, pool);
	sqlite3_bind_int64(st, 3, slot ? slot->taken_to : 0);
	if (flushed)
		sqlite3_bind_int64(st, 2, (int64_t)store_flush_done(&store->flush));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*all = (uint64_t)sqlite3_column_int64(st, 0);
		if (kept)
			*kept = (int64_t)*all;
		if (flushed)
			*flushed = (uint64_t)sqlite3_column_int64(st, 1);
		rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	return store_errno(rc);
}
