/* What the store*.c files share: the SQLite connection, its statements, the reserve's counts. */
#ifndef GWCTL_STORE_IMPL_H
#define GWCTL_STORE_IMPL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "store_flush.h"
#include "store_wal.h"

/* An SQLite result code as the store's -errno (0 for OK, DONE and ROW). */
int store_errno(int sqlite_rc);

/* The statements of stmt_sql (store_open.c), prepared once when the store is opened. */
enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_REMOTE_BY_ADDR,
	ST_REMOTE_BY_ENCODED,
	ST_LOCAL_BY_REF,
	ST_LOCAL_BY_ADDRESS,
	ST_INSERT_LOCAL,
	ST_INSERT_REMOTE,
	ST_DELETE_LOCAL,
	ST_DELETE_REMOTE,
	ST_EXPIRY_LOCAL,
	ST_EXPIRY_REMOTE,
	ST_QUARANTINE_ADD,
	ST_QUARANTINE_HAS,
	ST_QUARANTINE_PURGE,
	ST_ENCODED_TAKEN,
	ST_EXPIRED_LOCAL,
	ST_EXPIRED_REMOTE,
	ST_LIST_LOCAL,
	ST_LIST_REMOTE,
	ST_COUNT,
	ST_FIXED_LOCAL,
	ST_FIXED_REMOTE,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_MARK_USED,
	ST_INBOUND_COUNT,
	ST_INBOUND_COUNT_PEER,
	ST_INBOUND_IDLE,
	ST_INBOUND_IDLE_PEER,
	ST_RESERVE_TAKE,
	ST_RESERVE_DELETE,
	ST_RESERVE_DELETE_TAKEN,
	ST_RESERVE_ADD,
	ST_RESERVE_COUNT,
	ST_RESERVE_COUNT_ALL,
	ST_ENCODED_BUSY,
	ST_HOLD_PUT,
	ST_HOLD_DUE,
	ST_HOLD_PURGE_POOL,
	ST_HOLD_COUNT_POOL,
	ST_HOLD_COUNT_INBOUND,
	ST_HOLD_GET,
	ST_HOLD_SET,
	ST_HOLD_DELETE,
	ST_HOLD_PURGE,
	ST_HOLD_ADMISSION,
	ST_COUNT_MAX,
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT_MAX];
	uint64_t bad_rows;
	bool replaced; /* the file was deleted or replaced under us: no write commits any more */
	uint64_t changes_at_begin;
	struct store_wal wal;
	/* commits are numbered; the flusher says up to which one the disk has them */
	uint64_t commit_gen;
	bool sync_this; /* the open transaction used a value not yet on disk: sync at commit */
	struct store_flush flush;
	struct store_durability stats;
	/*
	 * How many values each pool holds, kept as takes and adds succeed, so that the refill's
	 * check after a batch reads no index (counting a pool of 4,096 rows every 32 allocations
	 * was a fifth of an allocation's instructions). -1: unknown, counted at the next ask.
	 * Any rollback forgets them all: the rows it took back are counted again, never guessed.
	 * taken_to: the newest row the open transaction took; its rows, the oldest of the pool,
	 * are deleted by one statement at commit rather than one each.
	 */
	struct reserve_pool {
		char pool[STORE_POOL_TEXT_MAX];
		int64_t count;
		int64_t taken_to;
	} pools[STORE_POOLS_KEPT];
};

/* Every pool's count unknown and nothing taken: after opening, a rollback, SQL of its own. */
static inline void pools_forget(struct store *store)
{
	for (size_t i = 0; i < STORE_POOLS_KEPT; i++) {
		store->pools[i].count = -1;
		store->pools[i].taken_to = 0;
	}
}

/* Runs a statement that returns nothing of interest and resets it. */
static inline int run(struct store *store, enum stmt s)
{
	int rc = sqlite3_step(store->stmt[s]);

	sqlite3_reset(store->stmt[s]);
	return store_errno(rc);
}

static inline void bind_text(sqlite3_stmt *st, int index, const char *text)
{
	if (text && text[0])
		sqlite3_bind_text(st, index, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, index);
}

static inline void address_text(int family, const uint8_t *address, char *buf)
{
	store_address_text(family, address, buf);
}

#endif
