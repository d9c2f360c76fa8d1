/* The PostgreSQL store's transactions, savepoints, commits and what makes them durable. */
#include "pgstore_impl.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pgstore_schema.h"

/*
 * A commit whose values must be on disk when it returns (a refill's, one that bound a value
 * no flush covered, the start's and the clean stop's): PostgreSQL flushes its WAL up to the
 * commit before answering, and with it every commit before (the WAL is one sequence).
 */
#define SYNC_HERE "SET LOCAL synchronous_commit = on"

/*
 * Every transaction of the engine begins so, under the site's write lock (pgstore_schema.h),
 * so the gateways' transactions run one after another. A batch touches shared rows (the
 * counts, a LAN client's hold count, the mapping of a name both were asked for) in the order
 * its requests came; two gateways' batches taking them in crossed orders deadlocked, and
 * PostgreSQL broke each deadlock by failing one whole batch (docs/store.md). A transaction
 * lasts a batch, about a millisecond; the gateways of a site led by keepalived write from one
 * of them at a time anyway.
 */
#define BEGIN_WRITE "BEGIN; " PG_WRITE_LOCK_SQL

/* A statement whose failure the next one meets anyway (a rollback on a broken connection). */
static void run_quietly(struct pg_store *store, const char *sql)
{
	if (pg_simple(store, sql) < 0)
		return;
}

static int recover(struct pg_store *store, int64_t now, uint32_t lease_secs,
		   uint32_t quarantine_secs, struct store_start_report *report);
static int commit(struct pg_store *store, bool sync);

/*
 * The server started again since this gateway last spoke to it: what it acknowledged in the
 * last moments may be lost, the reserve's values too (docs/store.md, Durability). Recovered as
 * an unclean stop of this gateway's, in a transaction of its own, before the next one.
 */
static int recover_restart(struct pg_store *store)
{
	struct store_start_report report = { 0 };
	int rc = pg_simple(store, BEGIN_WRITE);

	if (rc == 0)
		rc = recover(store, (int64_t)time(NULL), store->lease_secs, store->quarantine_secs,
			     &report);
	if (rc == 0)
		rc = commit(store, true);
	if (rc < 0) {
		run_quietly(store, "ROLLBACK");
		return rc;
	}
	store->server_restarted = false;
	store->commit_gen++;
	store->flushed_gen = store->commit_gen;
	log_warn("the PostgreSQL store: the server started again: recovered as after an unclean "
		 "stop (%llu reserved values rest in quarantine, %llu leases extended)",
		 (unsigned long long)report.reserved_quarantined,
		 (unsigned long long)report.leases_extended);
	return 0;
}

int pg_store_begin(struct store *base)
{
	struct pg_store *store = pg_of(base);
	int rc;

	/* a transaction the server ended after an error, or one left open: gone first */
	if (store->txn_open || PQtransactionStatus(store->conn) != PQTRANS_IDLE)
		pg_pools_settle(store, false);
	if (PQtransactionStatus(store->conn) != PQTRANS_IDLE &&
	    PQstatus(store->conn) == CONNECTION_OK)
		run_quietly(store, "ROLLBACK");
	store->txn_open = false;
	store->sync_this = false;
	store->refilled = false;
	rc = pg_ready(store);
	if (rc == 0 && store->server_restarted && store->started)
		rc = recover_restart(store);
	if (rc == 0)
		rc = pg_simple(store, BEGIN_WRITE);
	if (rc == 0)
		store->txn_open = true;
	return rc;
}

/* COMMIT, checked: in a transaction an error aborted, PostgreSQL answers COMMIT by ROLLBACK. */
static int commit(struct pg_store *store, bool sync)
{
	PGresult *res;
	int rc = 0;

	if (sync)
		rc = pg_simple(store, SYNC_HERE);
	if (rc < 0)
		return rc;
	res = pg_await(store, PQsendQuery(store->conn, "COMMIT"));
	rc = pg_errno(res);
	if (rc == 0 && strcmp(PQcmdStatus(res), "COMMIT") != 0)
		rc = -EIO;
	PQclear(res);
	return rc;
}

int pg_store_commit(struct store *base)
{
	struct pg_store *store = pg_of(base);
	bool sync = store->sync_this || store->refilled;
	int rc = store->txn_open ? pg_pools_delete_taken(store) : -EIO;

	if (rc == 0)
		rc = commit(store, sync);
	store->txn_open = false;
	if (rc < 0) {
		pg_store_rollback(base);
		return rc;
	}
	pg_pools_settle(store, true);
	store->commit_gen++;
	if (sync) {
		store->flushed_gen = store->commit_gen;
		store->stats.flushes++;
		if (store->sync_this)
			store->stats.sync_commits++;
	}
	store->sync_this = store->refilled = false;
	return 0;
}

void pg_store_rollback(struct store *base)
{
	struct pg_store *store = pg_of(base);

	store->txn_open = false;
	pg_pools_settle(store, false);
	if (PQstatus(store->conn) == CONNECTION_OK &&
	    PQtransactionStatus(store->conn) != PQTRANS_IDLE)
		run_quietly(store, "ROLLBACK");
}

/*
 * The counterpart of the SQLite engine's flusher: a write committed synchronously puts every
 * commit before it on disk. One round trip and the server's fsync, on the caller's thread; only
 * when commits since the last are not covered (PostgreSQL's WAL writer does it anyway within
 * 3 x wal_writer_delay). The write touches this gateway's own row of store_state only.
 */
void pg_store_flush(struct store *base)
{
	struct pg_store *store = pg_of(base);
	int rc;

	/* the tick also moves a reconnect on, when no request comes to */
	if (!store->txn_open && (store->connecting || PQstatus(store->conn) != CONNECTION_OK) &&
	    pg_ready(store) < 0)
		return;
	if (store->txn_open || store->flushed_gen >= store->commit_gen)
		return;
	rc = pg_simple(store,
		       "BEGIN; " SYNC_HERE "; UPDATE store_state SET value = value"
		       " WHERE gateway = current_setting('ipref.gateway') AND name = 'clean';"
		       " COMMIT");
	if (rc < 0) {
		store->stats.flush_failures++;
		return;
	}
	store->flushed_gen = store->commit_gen;
	store->stats.flushes++;
}

bool pg_store_flushed(const struct store *base)
{
	const struct pg_store *store = pg_of_const(base);

	return store->flushed_gen >= store->commit_gen;
}

void pg_store_durability(const struct store *base, struct store_durability *out)
{
	*out = pg_of_const(base)->stats;
}

void pg_store_need_sync(struct store *base)
{
	pg_of(base)->sync_this = true;
}

/*
 * Runs statement s with the gateway and, when n is 2, a number; *changed (may be NULL): the
 * rows it changed.
 */
static int run_gw(struct pg_store *store, enum pst s, int n, int64_t v, uint64_t *changed)
{
	char num[PG_INT_TEXT];
	const char *params[] = { store->gateway, pg_int(num, v) };
	uint64_t before = store->changes;
	int rc = pg_exec(store, s, n, params, NULL);

	if (changed)
		*changed = store->changes - before;
	return rc;
}

/* The unclean stop's work (docs/store.md, Durability), on this gateway's rows of reserve. */
static int recover(struct pg_store *store, int64_t now, uint32_t lease_secs,
		   uint32_t quarantine_secs, struct store_start_report *report)
{
	char num[PG_INT_TEXT];
	const char *until[] = { pg_int(num, now + lease_secs) };
	uint64_t n = 0;
	int rc;

	report->unclean = true;
	pg_pools_forget(store); /* this gateway's rows go */
	rc = run_gw(store, PST_START_QUARANTINE, 2, now + lease_secs + quarantine_secs, NULL);
	if (rc == 0)
		rc = run_gw(store, PST_START_UNRESERVE, 1, 0, &report->reserved_quarantined);
	if (rc == 0) {
		n = store->changes;
		rc = pg_exec(store, PST_START_EXTEND_LOCAL, 1, until, NULL);
	}
	if (rc == 0)
		rc = pg_exec(store, PST_START_EXTEND_REMOTE, 1, until, NULL);
	if (rc == 0)
		report->leases_extended = store->changes - n;
	return rc;
}

int pg_store_start(struct store *base, int64_t now, uint32_t lease_secs, uint32_t quarantine_secs,
		   struct store_start_report *report)
{
	struct pg_store *store = pg_of(base);
	const char *params[] = { store->gateway };
	PGresult *res = NULL;
	bool clean = true; /* a gateway's first start: it has reserved nothing */
	int rc;

	memset(report, 0, sizeof(*report));
	store->lease_secs = lease_secs;
	store->quarantine_secs = quarantine_secs;
	store->started = true;
	store->server_restarted = false; /* the start's own recovery covers it */
	pg_pools_forget(store);
	rc = pg_limits(store, true); /* before the event loop: as long as it needs */
	if (rc == 0)
		rc = pg_store_begin(base);
	if (rc == 0)
		rc = pg_exec(store, PST_STATE_CLEAN, 1, params, &res);
	if (rc == 0 && PQntuples(res) == 1)
		clean = pg_int_at(res, 0, 0) != 0;
	PQclear(res);
	if (rc == 0 && !clean)
		rc = recover(store, now, lease_secs, quarantine_secs, report);
	/* every reserved value left is on disk and unused: usable at once */
	if (rc == 0)
		rc = run_gw(store, PST_START_RENUMBER, 1, 0, NULL);
	if (rc == 0)
		rc = run_gw(store, PST_STATE_SET_CLEAN, 2, 0, NULL);
	/* on disk before anything is bound: the next start must see "not clean" */
	if (rc == 0) {
		store->refilled = true;
		rc = pg_store_commit(base);
	} else {
		pg_store_rollback(base);
	}
	if (pg_limits(store, false) < 0 && rc == 0)
		rc = -EIO;
	return rc;
}

int pg_store_mark_clean(struct store *base)
{
	struct pg_store *store = pg_of(base);
	int rc;

	/* the last writes are the daemon's own: a refill's job ends (or gives up) first */
	pg_refiller_stop(store->refiller);
	store->refiller = NULL;
	rc = pg_store_begin(base);

	if (rc == 0)
		rc = run_gw(store, PST_STATE_SET_CLEAN, 2, 1, NULL);
	if (rc == 0) {
		store->refilled = true; /* the mark and every commit before it, on disk together */
		return pg_store_commit(base);
	}
	pg_store_rollback(base);
	return rc;
}

/*
 * No write-ahead log of gwctld's to bound on PostgreSQL: the server keeps its own. 0 and 0
 * (docs/store.md, "The store interface on two engines").
 */
void pg_store_wal_status(const struct store *base, uint64_t *bytes, int64_t *held_ms)
{
	*bytes = 0;
	*held_ms = 0;
}

/* Between batches: what the refills behind the loop did (the server checkpoints its own WAL). */
void pg_store_tend(struct store *base)
{
	pg_refills_collect(pg_of(base));
}

/* Its refills' jobs are collected after the batches that hand them out: nothing to wake for. */
int pg_store_tend_fd(const struct store *base)
{
	(void)base;
	return -1;
}

/* A database on a server is not a file that can be deleted or replaced under gwctld. */
bool pg_store_replaced(const struct store *base)
{
	return false;
}

uint64_t pg_store_changes(const struct store *base)
{
	return pg_of_const(base)->changes;
}

/* False once an error aborted the transaction (PostgreSQL then refuses all but a rollback). */
bool pg_store_in_transaction(const struct store *base)
{
	const struct pg_store *store = pg_of_const(base);

	return store->txn_open && PQstatus(store->conn) == CONNECTION_OK &&
	       PQtransactionStatus(store->conn) == PQTRANS_INTRANS;
}

int pg_store_savepoint(struct store *base)
{
	return pg_simple(pg_of(base), "SAVEPOINT part");
}

int pg_store_release(struct store *base)
{
	return pg_simple(pg_of(base), "RELEASE part");
}

/* Undoes the part, an error in it too (what savepoints are for on PostgreSQL), and ends it. */
void pg_store_rollback_to(struct store *base)
{
	struct pg_store *store = pg_of(base);
	PGTransactionStatusType st = PQtransactionStatus(store->conn);

	/* counts only: deleting at commit what was taken before the savepoint is still right,
	 * and deleting a row given back after it only shortens the reserve */
	for (size_t i = 0; i < PG_POOLS_KEPT; i++) {
		store->pools[i].count = -1;
		store->pools[i].next = store->pools[i].n = 0; /* read in what is undone */
	}
	if (store->txn_open && (st == PQTRANS_INTRANS || st == PQTRANS_INERROR) &&
	    pg_simple(store, "ROLLBACK TO part") == 0)
		run_quietly(store, "RELEASE part");
}
