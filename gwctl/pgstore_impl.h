/* What the PostgreSQL engine's pgstore_*.c files share: its connection and its statements. */
#ifndef GWCTL_PGSTORE_IMPL_H
#define GWCTL_PGSTORE_IMPL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgstore.h"
#include "pgstore_await.h"
#include "pgstore_refill.h"
#include "store_ops.h"

#define PG_GATEWAY_MAX 64 /* a gateway's id and its NUL */
#define PG_INT_TEXT    24 /* an int64_t in decimal and its NUL */
/* a lost connection is tried again after a wait that doubles between these (ms) */
#define PG_BACKOFF_MIN_MS 500
#define PG_BACKOFF_MAX_MS 30000
/* a reconnect not done in this long is given up (ms): the connect_timeout of the first one */
#define PG_CONNECT_MS 5000
/* pools whose reserve is tracked in memory (the daemon has one per range, a few at most) */
#define PG_POOLS_KEPT	 8
#define PG_POOL_TEXT_MAX 128
/* The server's limits of a statement and of a wait for a lock, on every connection of gwctld's
 * that writes (pgstore_open.c's session, pgstore_refill.c's) */
#define PG_STATEMENT_TIMEOUT "'1400ms'"
#define PG_LOCK_TIMEOUT	     "'1s'"
/* Values a statement of PST_RESERVE_ADD_MANY adds at most, and the array's text for them. */
#define PG_ADD_MANY_MAX	 64
#define PG_ADD_MANY_TEXT (PG_ADD_MANY_MAX * (2 * PG_POOL_TEXT_MAX + 3) + 3)
/* reserved rows a take reads at once, handed out by the takes after it in the transaction */
#define PG_TAKE_AHEAD 64

/* The statements of pg_stmt_sql (pgstore_stmt.c), prepared on every connection. */
enum pst {
	PST_REMOTE_BY_ADDR,
	PST_REMOTE_BY_ENCODED,
	PST_LOCAL_BY_REF,
	PST_LOCAL_BY_ADDRESS,
	PST_INSERT_LOCAL,
	PST_INSERT_REMOTE,
	PST_BIND_REMOTE,
	PST_INSERT_REMOTE_HELD,
	PST_BIND_BATCH,
	PST_DELETE_LOCAL,
	PST_DELETE_REMOTE,
	PST_EXPIRY_LOCAL,
	PST_EXPIRY_REMOTE,
	PST_QUARANTINE_ADD,
	PST_QUARANTINE_HAS,
	PST_QUARANTINE_PURGE,
	PST_LOG_TRIM,
	PST_ENCODED_TAKEN,
	PST_ENCODED_BUSY,
	PST_EXPIRED_LOCAL,
	PST_EXPIRED_REMOTE,
	PST_LIST_LOCAL,
	PST_LIST_REMOTE,
	PST_FIXED_LOCAL,
	PST_FIXED_REMOTE,
	PST_COUNT,
	PST_MARK_USED,
	PST_INBOUND_COUNT,
	PST_INBOUND_COUNT_PEER,
	PST_INBOUND_IDLE,
	PST_INBOUND_IDLE_PEER,
	PST_RESERVE_AHEAD,
	PST_RESERVE_DELETE,
	PST_RESERVE_DELETE_TAKEN,
	PST_RESERVE_ADD_MANY,
	PST_RESERVE_COUNT,
	PST_HOLD_PUT,
	PST_HOLD_DUE,
	PST_HOLD_PURGE_POOL,
	PST_HOLD_COUNT_POOL,
	PST_HOLD_COUNT_INBOUND,
	PST_HOLD_GET,
	PST_HOLD_SET,
	PST_HOLD_DELETE,
	PST_HOLD_PURGE,
	PST_HOLD_ADMISSION,
	PST_STATE_CLEAN,
	PST_STATE_SET_CLEAN,
	PST_START_QUARANTINE,
	PST_START_UNRESERVE,
	PST_START_EXTEND_LOCAL,
	PST_START_EXTEND_REMOTE,
	PST_START_RENUMBER,
	PST_COUNT_MAX,
};

struct pg_store {
	struct store base; /* first: the handle store_ops.c dispatches on */
	PGconn *conn;
	char gateway[PG_GATEWAY_MAX];
	bool txn_open;	     /* between store_begin and its commit or rollback */
	int64_t retry_ms;    /* a lost connection is not tried again before (ipr_clock_ms) */
	uint32_t backoff_ms; /* the wait after the next failed reconnect */
	/* a reconnect under way, without blocking: what PQresetPoll waits for, and until when */
	bool connecting;
	PostgresPollingStatusType polling;
	int64_t connect_deadline_ms;
	uint64_t changes; /* rows our statements changed since open */
	uint64_t bad_rows;
	/* commits are numbered; flushed_gen: the newest that a synchronous commit covered */
	uint64_t commit_gen;
	uint64_t flushed_gen;
	bool sync_this; /* the open transaction bound a value no flush covered: sync at commit */
	bool refilled;	/* it reserved values, usable once on disk: sync at commit too */
	/*
	 * The server's start time, read on every connection made: a server that started again
	 * may have lost the last moments of every gateway's commits, so the store recovers as after
	 * an unclean stop of its own (restarted), with store_start's lease and quarantine.
	 */
	char server_started[64];
	bool server_restarted;
	bool started; /* store_start ran: lease_secs and quarantine_secs are known */
	uint32_t lease_secs;
	uint32_t quarantine_secs;
	struct store_durability stats;
	/* the refills' own thread and connection, once store_refill_behind started them; the
	 * conninfo they connect with */
	struct pg_refiller *refiller;
	char *conninfo;
	/* how long pg_await waits for an answer: PG_ANSWER_WAIT_MS, or -1 while starting */
	int answer_wait_ms;
	/*
	 * This gateway's reserve, pool by pool (no other gateway takes from its rows). count:
	 * its rows, kept as takes and adds succeed, -1 unknown (counted at the next ask; any
	 * rollback forgets it). A take reads the oldest row after taken_to and deletes nothing:
	 * the rows up to taken_to go at commit, one DELETE a pool. Deleting one row a take made
	 * every later take of the transaction walk the index past the rows it had deleted, which
	 * it still sees (over half the server's time an allocation). floor: every row of the
	 * pool up to it is gone, deleted by a commit, so takes seek past it rather than walk
	 * the index entries of rows deleted but not yet vacuumed.
	 *
	 * ahead[next..n): the rows after taken_to, oldest first, read by one statement with
	 * whether each value was mapped or resting then, so that the takes of a batch cost one
	 * round trip, not one each. Only the transaction that read them uses them (its commit,
	 * rollback or savepoint's rollback forgets them): the check is as fresh as a batch.
	 */
	struct pg_pool {
		char pool[PG_POOL_TEXT_MAX];
		int64_t count;
		/* values handed to the refiller whose job has not reported yet: counted as the
		 * pool's, so that refills do not hand the same need twice */
		int64_t posted;
		int64_t floor;
		int64_t taken_to;
		unsigned next, n;
		struct pg_reserved {
			int64_t id;
			int64_t seq;
			bool busy;
			char value[PG_POOL_TEXT_MAX];
		} ahead[PG_TAKE_AHEAD];
	} pools[PG_POOLS_KEPT];
};
_Static_assert(offsetof(struct pg_store, base) == 0, "the handle comes first");

static inline struct pg_store *pg_of(struct store *base)
{
	return (struct pg_store *)base;
}

static inline const struct pg_store *pg_of_const(const struct store *base)
{
	return (const struct pg_store *)base;
}

/*
 * The rows of pool that a statement of store_bind_ahead may bind, oldest first: from this
 * transaction's next row, as long as each is free, flushed and an address of family in canonical
 * text (read ahead again when fewer than want are in memory). *count: how many (0: none), from
 * the row *first to *last. 0 or -errno.
 */
IPR_MUST_CHECK int pg_pool_candidates(struct pg_store *store, const char *pool, int family,
				      int64_t now, unsigned want, int64_t *first, int64_t *last,
				      unsigned *count);
/* A statement used the candidates up to the row `to`: taken, deleted with the others at commit. */
void pg_pool_took(struct pg_store *store, const char *pool, int64_t to);
/* Row r of a result in REMOTE_COLUMNS order (pgstore_stmt.c) as a mapping, every value checked. */
IPR_MUST_CHECK int pg_row_to_mapping(struct pg_store *store, const PGresult *res, int r,
				     struct ipr_mapping *m);
/*
 * The session's time limits lifted (lifted true: no statement or lock timeout on the server, no
 * bound on the wait for an answer) or put back. The work of a start, before the event loop
 * runs (migrating, preparing, the recovery after an unclean stop), is in proportion to the
 * store and may wait for another session's lock: it waits as long as it needs, as the
 * migrations do. 0 or -errno.
 */
int pg_limits(struct pg_store *store, bool lifted);
/*
 * A PostgreSQL array's text, written as a parameter of a statement (a refill's candidates, a
 * batch's requests): begun over text[0..cap), each element quoted, its quotes and backslashes
 * escaped (a parameter is never trusted to need no quoting), NULL written as such.
 */
struct pg_array {
	char *text;
	size_t len, cap, count;
	bool overflow;
};
void pg_array_start(struct pg_array *a, char *text, size_t cap);
void pg_array_put(struct pg_array *a, const char *value);
void pg_array_put_int(struct pg_array *a, int64_t v);
/* The array closed: 0, or -EOVERFLOW when its text did not fit in cap. */
int pg_array_end(struct pg_array *a);
/* values[0..n) as an array's text: 0, -EINVAL for a value of PG_POOL_TEXT_MAX or more, or
 * -EOVERFLOW. */
int pg_values_text(const char *const *values, size_t n, char *out, size_t size);
/* Every pool's count and floor unknown, nothing taken: after opening, a recovery, a reconnect. */
void pg_pools_forget(struct pg_store *store);
/* Deletes what the open transaction took from each pool: before its COMMIT. 0 or -errno. */
IPR_MUST_CHECK int pg_pools_delete_taken(struct pg_store *store);
/* After a commit (committed true) or a rollback: the floors move up, or the takes are undone. */
void pg_pools_settle(struct pg_store *store, bool committed);

/* A result's error as the store's -errno: what the SQLite engine returns for the same. */
int pg_errno(const PGresult *res);
/*
 * Runs statement s with its n parameters (text; NULL is SQL NULL), always bound, never
 * spliced into SQL. 0, or -errno (-EIO when the server is away). With res, the caller gets
 * the result to read and PQclear; rows changed are added to store->changes. Outside a
 * transaction, first reconnects a connection that was lost (with back-off).
 */
IPR_MUST_CHECK int pg_exec(struct pg_store *store, enum pst s, int n, const char *const *params,
			   PGresult **res);
/* The connection usable: made again if it was lost (outside a transaction, with back-off). */
IPR_MUST_CHECK int pg_ready(struct pg_store *store);
/*
 * The answer to the statement just sent on the store's connection (pgstore_await with
 * PG_ANSWER_WAIT_MS); a wait given up on is logged and counted, and the next pg_ready makes the
 * connection again.
 */
PGresult *pg_await(struct pg_store *store, int sent);
/* A fixed statement of no parameters (BEGIN, COMMIT, SAVEPOINT ...): 0 or -errno. */
IPR_MUST_CHECK int pg_simple(struct pg_store *store, const char *sql);
/* Prepares every statement on the connection (at open and after each reconnect). */
IPR_MUST_CHECK int pg_prepare_all(struct pg_store *store, char *msg, size_t msg_size);
/* Sets up a (re)made connection: the gateway's name and the session's settings. */
IPR_MUST_CHECK int pg_session(struct pg_store *store, char *msg, size_t msg_size);

/* An int64_t as a parameter's text. */
const char *pg_int(char buf[PG_INT_TEXT], int64_t v);
/* A statement's text, as prepared on the store's connection (the refills' runs it unprepared). */
const char *pg_stmt_text(enum pst s);
/* A connection started without blocking (PQconnectStartParams), the store's defaults under the
 * conninfo's own keywords; NULL when out of memory. */
PGconn *pg_connect_start(const char *conninfo);
/* Applies what the refills' jobs did since last asked: the pools' counts, the counters. */
void pg_refills_collect(struct pg_store *store);
/* Row r's column c as a number (0 when NULL). */
int64_t pg_int_at(const PGresult *res, int r, int c);

/* The engine's operations (pgstore_ops.c's table), each the store_NAME of store.h it names. */
extern const struct store_ops pg_store_ops;
void pg_store_close(struct store *base);
int pg_store_begin(struct store *base);
int pg_store_commit(struct store *base);
void pg_store_rollback(struct store *base);
void pg_store_wal_status(const struct store *base, uint64_t *bytes, int64_t *held_ms);
void pg_store_tend(struct store *base);
int pg_store_tend_fd(const struct store *base);
int pg_store_refill_behind(struct store *base);
int pg_store_start(struct store *base, int64_t now, uint32_t lease_secs, uint32_t quarantine_secs,
		   struct store_start_report *report);
int pg_store_mark_clean(struct store *base);
void pg_store_flush(struct store *base);
bool pg_store_flushed(const struct store *base);
void pg_store_durability(const struct store *base, struct store_durability *out);
int pg_store_reserve_take(struct store *base, const char *pool, bool flushed_only, int64_t now,
			  char *value, size_t size, bool *busy);
int pg_store_reserve_peek(struct store *base, const char *pool, int64_t now, char *value,
			  size_t size, bool *busy);
int pg_store_reserve_add(struct store *base, const char *pool, const char *value, int64_t now);
int pg_store_reserve_add_many(struct store *base, const char *pool, const char *const *values,
			      size_t n, int64_t now);
int pg_store_reserve_count(struct store *base, const char *pool, uint64_t *all, uint64_t *flushed);
void pg_store_need_sync(struct store *base);
bool pg_store_replaced(const struct store *base);
bool pg_store_in_transaction(const struct store *base);
uint64_t pg_store_changes(const struct store *base);
int pg_store_find_remote(struct store *base, int family, const struct ipr_context *context,
			 const struct ipr_ref *ref, struct ipr_mapping *out);
int pg_store_find_encoded(struct store *base, int family, const uint8_t *encoded,
			  struct ipr_mapping *out);
int pg_store_find_ref(struct store *base, const struct ipr_ref *ref, struct ipr_mapping *out);
int pg_store_find_local(struct store *base, int family, const uint8_t *address,
			struct ipr_mapping *out);
int pg_store_insert(struct store *base, struct ipr_mapping *m);
int pg_store_bind_remote(struct store *base, struct ipr_mapping *m);
int pg_store_bind_ahead(struct store *base, const struct store_bind_terms *terms,
			struct store_bind *const *items, size_t n);
int pg_store_insert_held(struct store *base, struct ipr_mapping *m, const char *pool,
			 int64_t until);
int pg_store_delete(struct store *base, const struct ipr_mapping *m, int64_t quarantine_until);
int pg_store_set_expiry(struct store *base, const struct ipr_mapping *m, int64_t expires);
int pg_store_encoded_quarantined(struct store *base, int family, const uint8_t *encoded,
				 int64_t now);
int pg_store_encoded_free(struct store *base, int family, const uint8_t *encoded, int64_t now);
int pg_store_ref_quarantined(struct store *base, const struct ipr_ref *ref, int64_t now);
int pg_store_mark_used(struct store *base, const struct ipr_mapping *m, int64_t now);
int pg_store_inbound_count(struct store *base, const struct ipr_context *peer, uint64_t *count);
int pg_store_inbound_idle(struct store *base, const struct ipr_context *peer,
			  struct ipr_mapping *out);
int pg_store_encoded_taken(struct store *base, int family, uint64_t *count);
int pg_store_expired(struct store *base, int64_t now, struct ipr_mapping *out, size_t max);
int pg_store_purge_quarantine(struct store *base, int64_t now);
int pg_store_list(struct store *base, uint64_t *cursor, struct ipr_mapping *out, size_t max);
int pg_store_list_from_files(struct store *base, uint64_t *cursor, struct ipr_mapping *out,
			     size_t max);
int pg_store_savepoint(struct store *base);
int pg_store_release(struct store *base);
void pg_store_rollback_to(struct store *base);
int pg_store_count(struct store *base, struct store_counts *counts);
int pg_store_hold_put(struct store *base, const char *pool, const char *value, bool live,
		      int64_t until);
int pg_store_hold_set(struct store *base, const char *value, bool live, int64_t until);
int pg_store_hold_get(struct store *base, const char *value, bool *live, int64_t *until);
int pg_store_hold_delete(struct store *base, const char *value);
int pg_store_hold_due(struct store *base, const char *pool, int64_t by, struct store_hold *out,
		      unsigned max);
int pg_store_hold_admission(struct store *base, const char *pool, int64_t now, int64_t due_by,
			    struct store_hold_admission *out);
int pg_store_hold_purge_pool(struct store *base, const char *pool, int64_t now, uint64_t *purged);
int pg_store_hold_purge(struct store *base, int64_t now);
int pg_store_hold_count_pool(struct store *base, const char *pool, uint64_t *count);
int pg_store_hold_count_inbound(struct store *base, uint64_t *count);

#endif
