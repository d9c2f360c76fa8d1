/* What the SQLite engine's store*.c files share: its connection, statements, reserve counts. */
#ifndef GWCTL_STORE_IMPL_H
#define GWCTL_STORE_IMPL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_ops.h"
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

struct sqlite_store {
	struct store base; /* first: the handle store_ops.c dispatches on */
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
_Static_assert(offsetof(struct sqlite_store, base) == 0, "the handle comes first");

/* The handle as the SQLite engine's own (it is the first member: the cast is exact). */
static inline struct sqlite_store *sqlite_of(struct store *base)
{
	return (struct sqlite_store *)base;
}

static inline const struct sqlite_store *sqlite_of_const(const struct store *base)
{
	return (const struct sqlite_store *)base;
}

/* The engine's operations (store_sqlite.c's table), each the store_NAME of store.h it names. */
extern const struct store_ops sqlite_store_ops;
void sqlite_store_close(struct store *base);
int sqlite_store_begin(struct store *base);
int sqlite_store_commit(struct store *base);
void sqlite_store_rollback(struct store *base);
void sqlite_store_wal_status(const struct store *base, uint64_t *bytes, int64_t *held_ms);
void sqlite_store_tend(struct store *base);
int sqlite_store_tend_fd(const struct store *base);
int sqlite_store_refill_behind(struct store *base);
int sqlite_store_start(struct store *base, int64_t now, uint32_t lease_secs,
		       uint32_t quarantine_secs, struct store_start_report *report);
int sqlite_store_mark_clean(struct store *base);
void sqlite_store_flush(struct store *base);
bool sqlite_store_flushed(const struct store *base);
void sqlite_store_durability(const struct store *base, struct store_durability *out);
int sqlite_store_reserve_take(struct store *base, const char *pool, bool flushed_only, int64_t now,
			      char *value, size_t size, bool *busy);
int sqlite_store_reserve_peek(struct store *base, const char *pool, int64_t now, char *value,
			      size_t size, bool *busy);
int sqlite_store_reserve_add(struct store *base, const char *pool, const char *value, int64_t now);
int sqlite_store_reserve_add_many(struct store *base, const char *pool, const char *const *values,
				  size_t n, int64_t now);
int sqlite_store_reserve_count(struct store *base, const char *pool, uint64_t *all,
			       uint64_t *flushed);
void sqlite_store_need_sync(struct store *base);
bool sqlite_store_replaced(const struct store *base);
bool sqlite_store_in_transaction(const struct store *base);
uint64_t sqlite_store_changes(const struct store *base);
int sqlite_store_find_remote(struct store *base, int family, const struct ipr_context *context,
			     const struct ipr_ref *ref, struct ipr_mapping *out);
int sqlite_store_find_encoded(struct store *base, int family, const uint8_t *encoded,
			      struct ipr_mapping *out);
int sqlite_store_find_ref(struct store *base, const struct ipr_ref *ref, struct ipr_mapping *out);
int sqlite_store_find_local(struct store *base, int family, const uint8_t *address,
			    struct ipr_mapping *out);
int sqlite_store_insert(struct store *base, struct ipr_mapping *m);
int sqlite_store_bind_remote(struct store *base, struct ipr_mapping *m);
int sqlite_store_bind_ahead(struct store *base, const struct store_bind_terms *terms,
			    struct store_bind *const *items, size_t n);
int sqlite_store_insert_held(struct store *base, struct ipr_mapping *m, const char *pool,
			     int64_t until);
int sqlite_store_delete(struct store *base, const struct ipr_mapping *m, int64_t quarantine_until);
int sqlite_store_set_expiry(struct store *base, const struct ipr_mapping *m, int64_t expires);
int sqlite_store_encoded_quarantined(struct store *base, int family, const uint8_t *encoded,
				     int64_t now);
int sqlite_store_encoded_free(struct store *base, int family, const uint8_t *encoded, int64_t now);
int sqlite_store_ref_quarantined(struct store *base, const struct ipr_ref *ref, int64_t now);
int sqlite_store_mark_used(struct store *base, const struct ipr_mapping *m, int64_t now);
int sqlite_store_inbound_count(struct store *base, const struct ipr_context *peer, uint64_t *count);
int sqlite_store_inbound_idle(struct store *base, const struct ipr_context *peer,
			      struct ipr_mapping *out);
int sqlite_store_encoded_taken(struct store *base, int family, uint64_t *count);
int sqlite_store_expired(struct store *base, int64_t now, struct ipr_mapping *out, size_t max);
int sqlite_store_purge_quarantine(struct store *base, int64_t now);
int sqlite_store_list(struct store *base, uint64_t *cursor, struct ipr_mapping *out, size_t max);
int sqlite_store_list_from_files(struct store *base, uint64_t *cursor, struct ipr_mapping *out,
				 size_t max);
int sqlite_store_savepoint(struct store *base);
int sqlite_store_release(struct store *base);
void sqlite_store_rollback_to(struct store *base);
int sqlite_store_count(struct store *base, struct store_counts *counts);
int sqlite_store_hold_put(struct store *base, const char *pool, const char *value, bool live,
			  int64_t until);
int sqlite_store_hold_set(struct store *base, const char *value, bool live, int64_t until);
int sqlite_store_hold_get(struct store *base, const char *value, bool *live, int64_t *until);
int sqlite_store_hold_delete(struct store *base, const char *value);
int sqlite_store_hold_due(struct store *base, const char *pool, int64_t by, struct store_hold *out,
			  unsigned max);
int sqlite_store_hold_admission(struct store *base, const char *pool, int64_t now, int64_t due_by,
				struct store_hold_admission *out);
int sqlite_store_hold_purge_pool(struct store *base, const char *pool, int64_t now,
				 uint64_t *purged);
int sqlite_store_hold_purge(struct store *base, int64_t now);
int sqlite_store_hold_count_pool(struct store *base, const char *pool, uint64_t *count);
int sqlite_store_hold_count_inbound(struct store *base, uint64_t *count);

/* Every pool's count unknown and nothing taken: after opening, a rollback, SQL of its own. */
static inline void pools_forget(struct sqlite_store *store)
{
	for (size_t i = 0; i < STORE_POOLS_KEPT; i++) {
		store->pools[i].count = -1;
		store->pools[i].taken_to = 0;
	}
}

/* Runs a statement that returns nothing of interest and resets it. */
static inline int run(struct sqlite_store *store, enum stmt s)
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
