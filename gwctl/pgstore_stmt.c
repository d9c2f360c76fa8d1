/* The PostgreSQL engine's statements: their SQL, preparing them, running them, their errors. */
#include "pgstore_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "log.h"
#include "pgstore_conn.h"

#define LOCAL_COLUMNS  "id, kind, address, family, context, ref, name, expires, source"
#define REMOTE_COLUMNS "id, kind, encoded, family, context, ref, name, expires, source"
#define NOW_SECONDS    "extract(epoch FROM now())::bigint"
/* SCHEMA_APPLICATION_ID, 0x49505246 ("IPRF"), as the first key of the reserve's locks */
#define PG_APPLICATION_ID "1230000710"
/* how long the change log keeps a row: a gateway away longer reloads every mapping */
#define PG_LOG_KEEP_SECS "3600"

/*
 * Whether a value ("encoded:ADDRESS" or "ref:DECIMAL") is mapped or rests at `now`, looked up
 * value by value by the unique indexes. Scalar subqueries, not EXISTS: the planner may run an
 * EXISTS over many rows (the 64 values of a refill or a take) as one hash of the whole table,
 * and a prepared statement keeps that plan: planned while remote_mapping was small (a new
 * store), it read every mapping at each refill once there were 50,000 (120 us a value).
 */
#define VALUE_BUSY(value, now)                                                         \
	"(CASE WHEN " value " LIKE 'encoded:%'"                                        \
	" THEN (SELECT 1 FROM remote_mapping WHERE encoded = substr(" value ", 9)"     \
	" LIMIT 1) IS NOT NULL"                                                        \
	" ELSE (SELECT 1 FROM local_mapping WHERE ref = substr(" value ", 5) LIMIT 1)" \
	" IS NOT NULL END"                                                             \
	" OR (SELECT 1 FROM quarantine q WHERE q.value = " value " AND q.until > " now \
	" LIMIT 1) IS NOT NULL)"

/*
 * Those of the SQLite engine (store_open.c), in PostgreSQL's words. Inserts that a unique
 * value may refuse say ON CONFLICT DO NOTHING and report no row (-EEXIST): a unique violation
 * would abort the whole transaction, where SQLite fails the statement alone. Counts are summed
 * over the gateways' rows (docs/store.md, "Several gateways").
 */
static const char *const pg_stmt_sql[PST_COUNT_MAX] = {
	[PST_REMOTE_BY_ADDR] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping"
			       " WHERE family = $1 AND context = $2 AND ref = $3",
	[PST_REMOTE_BY_ENCODED] =
		"SELECT " REMOTE_COLUMNS " FROM remote_mapping WHERE encoded = $1",
	[PST_LOCAL_BY_REF] = "SELECT " LOCAL_COLUMNS " FROM local_mapping WHERE ref = $1",
	[PST_LOCAL_BY_ADDRESS] = "SELECT " LOCAL_COLUMNS " FROM local_mapping WHERE address = $1"
				 " ORDER BY kind, id LIMIT 1",
	[PST_INSERT_LOCAL] =
		"INSERT INTO local_mapping"
		" (kind, address, family, context, ref, name, expires, source, created)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, " NOW_SECONDS ")"
		" ON CONFLICT DO NOTHING RETURNING id",
	[PST_INSERT_REMOTE] =
		"INSERT INTO remote_mapping"
		" (kind, encoded, family, context, ref, name, expires, source, created)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, " NOW_SECONDS ")"
		" ON CONFLICT DO NOTHING RETURNING id",
	/*
	 * The lookup and the insert of an allocation in one round trip (store_bind_remote): the
	 * address's mapping if it has one, else the row added; the last column says which. The
	 * insert runs only when the lookup found nothing, and its ON CONFLICT covers every
	 * UNIQUE constraint, so a value taken meanwhile adds nothing and answers no row.
	 */
	[PST_BIND_REMOTE] =
		"WITH found AS (SELECT " REMOTE_COLUMNS " FROM remote_mapping"
		" WHERE family = $3::integer AND context = $4::text AND ref = $5::text),"
		" added AS (INSERT INTO remote_mapping"
		" (kind, encoded, family, context, ref, name, expires, source, created)"
		" SELECT $1::integer, $2::text, $3::integer, $4::text, $5::text, $6::text,"
		" $7::bigint, $8::text, " NOW_SECONDS " WHERE NOT EXISTS (SELECT 1 FROM found)"
		" ON CONFLICT DO NOTHING RETURNING " REMOTE_COLUMNS ")"
		" SELECT " REMOTE_COLUMNS ", true FROM added"
		" UNION ALL SELECT " REMOTE_COLUMNS ", false FROM found",
	/* PST_INSERT_REMOTE and PST_HOLD_PUT of its encoded address, when the row went in */
	[PST_INSERT_REMOTE_HELD] =
		"WITH added AS (INSERT INTO remote_mapping"
		" (kind, encoded, family, context, ref, name, expires, source, created)"
		" VALUES ($1::integer, $2::text, $3::integer, $4::text, $5::text, $6::text,"
		" $7::bigint, $8::text, " NOW_SECONDS
		") ON CONFLICT DO NOTHING RETURNING id, encoded),"
		" held AS (INSERT INTO quota_hold (value, pool, live, until)"
		" SELECT encoded, $9::text, 1, $10::bigint FROM added"
		" ON CONFLICT (value) DO UPDATE SET pool = excluded.pool,"
		" live = excluded.live, until = excluded.until)"
		" SELECT id FROM added",
	/* a batch's new names in one statement (store_bind_ahead, migration 15) */
	[PST_BIND_BATCH] =
		"SELECT * FROM ipref_bind_batch($1::integer[], $2::text[], $3::text[],"
		" $4::text[], $5::bigint[], $6::text[], $7::text[], $8::bigint[], $9::integer,"
		" $10::text, $11::text, $12::bigint, $13::bigint, $14::bigint, $15::bigint,"
		" $16::bigint, $17::bigint)",
	[PST_DELETE_LOCAL] = "DELETE FROM local_mapping WHERE id = $1",
	[PST_DELETE_REMOTE] = "DELETE FROM remote_mapping WHERE id = $1",
	[PST_EXPIRY_LOCAL] = "UPDATE local_mapping SET expires = $2 WHERE id = $1 AND kind = 2",
	[PST_EXPIRY_REMOTE] = "UPDATE remote_mapping SET expires = $2 WHERE id = $1 AND kind = 3",
	[PST_QUARANTINE_ADD] = "INSERT INTO quarantine (value, until) VALUES ($1, $2)"
			       " ON CONFLICT (value) DO UPDATE SET until = excluded.until",
	[PST_QUARANTINE_HAS] = "SELECT 1 FROM quarantine WHERE value = $1 AND until > $2",
	[PST_QUARANTINE_PURGE] = "DELETE FROM quarantine WHERE until <= $1",
	/* the change log past an hour, by the sweep, a bounded bite at a time (docs/store.md) */
	[PST_LOG_TRIM] =
		"DELETE FROM change_log WHERE seq IN (SELECT seq FROM change_log"
		" WHERE at < " NOW_SECONDS " - " PG_LOG_KEEP_SECS " ORDER BY seq LIMIT 10000)",
	[PST_ENCODED_TAKEN] =
		"SELECT coalesce(sum(value), 0) FROM counts"
		" WHERE name IN ('encoded.' || $1::text, 'quarantine.encoded.' || $1::text)",
	[PST_ENCODED_BUSY] =
		"SELECT EXISTS (SELECT 1 FROM remote_mapping WHERE encoded = $1)"
		" OR EXISTS (SELECT 1 FROM quarantine WHERE value = 'encoded:' || $1::text"
		" AND until > $2)",
	[PST_EXPIRED_LOCAL] = "SELECT " LOCAL_COLUMNS " FROM local_mapping"
			      " WHERE expires IS NOT NULL AND expires <= $1 LIMIT $2",
	[PST_EXPIRED_REMOTE] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping"
			       " WHERE expires IS NOT NULL AND expires <= $1 LIMIT $2",
	[PST_LIST_LOCAL] = "SELECT " LOCAL_COLUMNS " FROM local_mapping WHERE id > $1"
			   " ORDER BY id LIMIT $2",
	[PST_LIST_REMOTE] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping WHERE id > $1"
			    " ORDER BY id LIMIT $2",
	[PST_FIXED_LOCAL] = "SELECT " LOCAL_COLUMNS " FROM local_mapping WHERE kind = 1"
			    " AND source LIKE '/%' AND id > $1 ORDER BY id LIMIT $2",
	[PST_FIXED_REMOTE] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping WHERE kind = 4"
			     " AND source LIKE '/%' AND id > $1 ORDER BY id LIMIT $2",
	[PST_COUNT] = "SELECT name, sum(value) FROM counts GROUP BY name",
	[PST_MARK_USED] = "UPDATE remote_mapping SET last_used = $2 WHERE id = $1"
			  " AND (last_used IS NULL OR last_used < $2 - 60)",
	[PST_INBOUND_COUNT] = "SELECT count(*) FROM remote_mapping"
			      " WHERE kind = 3 AND source = 'dataplane'",
	[PST_INBOUND_COUNT_PEER] = "SELECT count(*) FROM remote_mapping"
				   " WHERE kind = 3 AND source = 'dataplane' AND context = $1",
	[PST_INBOUND_IDLE] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping"
			     " WHERE kind = 3 AND source = 'dataplane' AND last_used IS NULL"
			     " ORDER BY created, id LIMIT 1",
	[PST_INBOUND_IDLE_PEER] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping"
				  " WHERE kind = 3 AND source = 'dataplane' AND last_used IS NULL"
				  " AND context = $1 ORDER BY created, id LIMIT 1",
	/* this gateway's oldest rows of the pool after those the transaction took ($4), and
	 * whether each value is busy now: no other gateway takes from them, so nothing waits;
	 * the rows taken are deleted at commit (PST_RESERVE_DELETE_TAKEN) */
	[PST_RESERVE_AHEAD] = "WITH t AS (SELECT id, seq, value FROM reserve WHERE gateway = $3"
			      " AND pool = $1 AND id > $4 ORDER BY id LIMIT $5)"
			      " SELECT t.id, t.seq, t.value, " VALUE_BUSY(
				      "t.value", "$2") " FROM t ORDER BY t.id",
	[PST_RESERVE_DELETE] = "DELETE FROM reserve WHERE id = $1",
	/* the rows a transaction took: the oldest of the pool, after the floor ($3) */
	[PST_RESERVE_DELETE_TAKEN] = "DELETE FROM reserve WHERE gateway = $1 AND pool = $2"
				     " AND id > $3 AND id <= $4",
	/*
	 * Each value of the array $1, in its order, in one round trip (a refill's 64 candidates;
	 * a single add is a list of one). value is UNIQUE across gateways: a value another
	 * gateway reserved is not added. One
	 * that another gateway's open refill is adding is skipped, not waited for: two refills
	 * adding the same random values in crossed order would deadlock. The lock (two keys: the
	 * application id and the value's hash, apart from the migrations' one-key lock) is held
	 * to the commit: one shared lock-table entry per value added (docs/store.md).
	 */
	[PST_RESERVE_ADD_MANY] =
		"INSERT INTO reserve (gateway, value, pool, seq)"
		" SELECT $5::text, v.value, $2::text, $3::bigint"
		" FROM unnest($1::text[]) WITH ORDINALITY AS v(value, i)"
		" WHERE pg_try_advisory_xact_lock(" PG_APPLICATION_ID ", hashtext(v.value))"
		" AND NOT " VALUE_BUSY("v.value", "$4::bigint") " ORDER BY v.i"
								" ON CONFLICT (value) DO NOTHING",
	/* not counting the rows the open transaction took ($4), deleted at its commit */
	[PST_RESERVE_COUNT] = "SELECT count(*), count(*) FILTER (WHERE seq <= $2) FROM reserve"
			      " WHERE gateway = $3 AND pool = $1 AND id > $4",
	[PST_HOLD_PUT] = "INSERT INTO quota_hold (value, pool, live, until) VALUES ($1, $2, $3, $4)"
			 " ON CONFLICT (value) DO UPDATE SET pool = excluded.pool,"
			 " live = excluded.live, until = excluded.until",
	[PST_HOLD_DUE] = "SELECT value, until FROM quota_hold WHERE pool = $1 AND live = 1"
			 " AND until <= $2 ORDER BY until LIMIT $3",
	[PST_HOLD_PURGE_POOL] =
		"DELETE FROM quota_hold WHERE pool = $1 AND live = 0 AND until <= $2",
	[PST_HOLD_COUNT_POOL] = "SELECT coalesce(max(value), 0) FROM hold_counts WHERE pool = $1",
	[PST_HOLD_COUNT_INBOUND] = "SELECT coalesce(sum(value), 0) FROM counts WHERE name = $1",
	[PST_HOLD_GET] = "SELECT live, until FROM quota_hold WHERE value = $1",
	[PST_HOLD_SET] = "UPDATE quota_hold SET live = $2, until = $3 WHERE value = $1",
	[PST_HOLD_DELETE] = "DELETE FROM quota_hold WHERE value = $1",
	[PST_HOLD_PURGE] = "DELETE FROM quota_hold WHERE live = 0 AND until <= $1",
	[PST_HOLD_ADMISSION] =
		"SELECT EXISTS (SELECT 1 FROM quota_hold WHERE pool = $1 AND live = 0"
		" AND until <= $2),"
		" (SELECT coalesce(max(value), 0) FROM hold_counts WHERE pool = $1),"
		" (SELECT coalesce(sum(value), 0) FROM counts WHERE name = 'hold.client'),"
		" EXISTS (SELECT 1 FROM quota_hold WHERE pool = $1 AND live = 1 AND until <= $3)",
	/* this gateway's clean-stop mark; none yet: a gateway's first start */
	[PST_STATE_CLEAN] = "SELECT value FROM store_state WHERE gateway = $1 AND name = 'clean'",
	[PST_STATE_SET_CLEAN] = "INSERT INTO store_state (gateway, name, value)"
				" VALUES ($1, 'clean', $2) ON CONFLICT (gateway, name)"
				" DO UPDATE SET value = excluded.value",
	/* an unclean stop: this gateway's reserved values rest, the others' blocks stay */
	[PST_START_QUARANTINE] =
		"INSERT INTO quarantine (value, until)"
		" SELECT value, $2::bigint FROM reserve WHERE gateway = $1"
		" ON CONFLICT (value)"
		" DO UPDATE SET until = greatest(quarantine.until, excluded.until)",
	[PST_START_UNRESERVE] = "DELETE FROM reserve WHERE gateway = $1",
	[PST_START_EXTEND_LOCAL] = "UPDATE local_mapping SET expires = $1"
				   " WHERE expires IS NOT NULL AND expires < $1",
	[PST_START_EXTEND_REMOTE] = "UPDATE remote_mapping SET expires = $1"
				    " WHERE expires IS NOT NULL AND expires < $1",
	[PST_START_RENUMBER] = "UPDATE reserve SET seq = 0 WHERE gateway = $1 AND seq <> 0",
};

/* The name each statement is prepared under on the connection. */
static void stmt_name(enum pst s, char buf[16])
{
	snprintf(buf, 16, "ipref_%d", (int)s);
}

int pg_errno(const PGresult *res)
{
	const char *state;

	if (!res)
		return -EIO; /* not sent: the connection is gone, or no memory for the result */
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
		return 0;
	default:
		break;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (!state)
		return -EIO; /* the connection broke: libpq made the error itself */
	if (strncmp(state, "23", 2) == 0)
		return -EEXIST; /* a constraint refused the row, as the other engine says */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0)
		return -EBUSY; /* serialization failure, deadlock, lock not available */
	if (strcmp(state, "53100") == 0)
		return -ENOSPC;
	if (strcmp(state, "53200") == 0)
		return -ENOMEM;
	if (strcmp(state, "25006") == 0)
		return -EROFS; /* a read-only transaction (a standby, or
				  default_transaction_read_only) */
	return -EIO;
}

const char *pg_stmt_text(enum pst s)
{
	return pg_stmt_sql[s];
}

const char *pg_int(char buf[PG_INT_TEXT], int64_t v)
{
	snprintf(buf, PG_INT_TEXT, "%" PRId64, v);
	return buf;
}

int64_t pg_int_at(const PGresult *res, int r, int c)
{
	if (PQgetisnull(res, r, c))
		return 0;
	/* sums are numeric: "12" all the same; booleans read as 't' / 'f' */
	const char *v = PQgetvalue(res, r, c);

	if (v[0] == 't')
		return 1;
	return strtoll(v, NULL, 10);
}

int pg_prepare_all(struct pg_store *store, char *msg, size_t msg_size)
{
	char name[16];

	for (int s = 0; s < PST_COUNT_MAX; s++) {
		PGresult *res;
		int rc;

		stmt_name((enum pst)s, name);
		res = pg_await(store, PQsendPrepare(store->conn, name, pg_stmt_sql[s], 0, NULL));
		rc = pg_errno(res);
		if (rc < 0)
			snprintf(msg, msg_size, "the PostgreSQL store: unexpected schema: %s",
				 PQerrorMessage(store->conn));
		PQclear(res);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int reconnect_failed(struct pg_store *store, int64_t now)
{
	store->connecting = false;
	store->retry_ms = now + store->backoff_ms;
	store->backoff_ms = store->backoff_ms * 2 > PG_BACKOFF_MAX_MS ? PG_BACKOFF_MAX_MS
								      : store->backoff_ms * 2;
	return -EIO;
}

/*
 * A connection that was lost is made again, outside a transaction only (one that was open is
 * gone with it: its commit failed) and not more often than the back-off allows, so that a
 * database away costs each batch one quick -EIO, not a wait. The connect itself never blocks:
 * it is started (PQresetStart) and moved on (PQresetPoll) by each call that finds the socket
 * ready, here and at the flusher's tick (pg_store_flush), and given up after PG_CONNECT_MS.
 * A blocking connect held the event loop up to connect_timeout (5 s) against a host that does
 * not answer, long enough for `gwctl health` to fail on every gateway of the site at once and
 * keepalived to take the addresses from all of them. Once connected, the session's settings
 * and statements are a few quick round trips to a server that has just answered.
 */
int pg_ready(struct pg_store *store)
{
	int64_t now = ipr_clock_ms();
	char msg[256];

	if (!store->connecting && PQstatus(store->conn) == CONNECTION_OK)
		return 0;
	if (store->txn_open)
		return -EIO;
	if (!store->connecting) {
		if (now < store->retry_ms)
			return -EIO;
		if (!PQresetStart(store->conn))
			return reconnect_failed(store, now);
		store->connecting = true;
		/* what PQresetStart leaves it waiting for: the socket's connect */
		store->polling = PGRES_POLLING_WRITING;
		store->connect_deadline_ms = now + PG_CONNECT_MS;
	}
	if (pgstore_poll_ready(store->conn, store->polling))
		store->polling = PQresetPoll(store->conn);
	if (store->polling == PGRES_POLLING_FAILED)
		return reconnect_failed(store, now);
	if (store->polling != PGRES_POLLING_OK)
		return now >= store->connect_deadline_ms ? reconnect_failed(store, now) : -EIO;
	store->connecting = false;
	if (pg_session(store, msg, sizeof(msg)) < 0 || pg_prepare_all(store, msg, sizeof(msg)) < 0)
		return reconnect_failed(store, now);
	store->backoff_ms = PG_BACKOFF_MIN_MS;
	pg_pools_forget(store); /* rows may have gone meanwhile (a restarted server) */
	log_info("the PostgreSQL store: connected again");
	return 0;
}

/*
 * A COMMIT given up on may have committed: its requests were answered E_STORE all the same, and
 * a mapping they made is found by the next request for it (the unique constraints refuse a
 * second one).
 */
PGresult *pg_await(struct pg_store *store, int sent)
{
	bool gave_up = false;
	PGresult *res = pgstore_await(store->conn, sent, store->answer_wait_ms, &gave_up);

	if (gave_up) {
		store->stats.answer_timeouts++;
		log_warn("the PostgreSQL store: no answer within %d ms: the connection is given up "
			 "and made again",
			 store->answer_wait_ms);
	}
	return res;
}

/* Rows an INSERT, UPDATE or DELETE changed, as store_changes counts them. */
static void count_changes(struct pg_store *store, const PGresult *res)
{
	const char *status = PQcmdStatus((PGresult *)res);

	if (strncmp(status, "INSERT", 6) == 0 || strncmp(status, "UPDATE", 6) == 0 ||
	    strncmp(status, "DELETE", 6) == 0)
		store->changes += strtoull(PQcmdTuples((PGresult *)res), NULL, 10);
}

/* n bytes more, when they fit with the text's end: else the array overflows */
static void array_put_raw(struct pg_array *a, const char *s, size_t n)
{
	if (a->len + n >= a->cap) {
		a->overflow = true;
		return;
	}
	memcpy(a->text + a->len, s, n);
	a->len += n;
	a->text[a->len] = '\0';
}

void pg_array_start(struct pg_array *a, char *text, size_t cap)
{
	*a = (struct pg_array){ .text = text, .cap = cap };
	array_put_raw(a, "{", 1);
}

void pg_array_put(struct pg_array *a, const char *value)
{
	if (a->count++)
		array_put_raw(a, ",", 1);
	if (!value) {
		array_put_raw(a, "NULL", 4);
		return;
	}
	array_put_raw(a, "\"", 1);
	for (const char *c = value; *c; c++) {
		if (*c == '"' || *c == '\\')
			array_put_raw(a, "\\", 1);
		array_put_raw(a, c, 1);
	}
	array_put_raw(a, "\"", 1);
}

void pg_array_put_int(struct pg_array *a, int64_t v)
{
	char text[PG_INT_TEXT];

	pg_array_put(a, pg_int(text, v));
}

int pg_array_end(struct pg_array *a)
{
	array_put_raw(a, "}", 1);
	return a->overflow ? -EOVERFLOW : 0;
}

int pg_exec(struct pg_store *store, enum pst s, int n, const char *const *params, PGresult **out)
{
	char name[16];
	PGresult *res;
	int rc = pg_ready(store);

	if (out)
		*out = NULL;
	if (rc < 0)
		return rc;
	stmt_name(s, name);
	res = pg_await(store, PQsendQueryPrepared(store->conn, name, n, params, NULL, NULL, 0));
	rc = pg_errno(res);
	if (rc == 0)
		count_changes(store, res);
	if (rc == 0 && out)
		*out = res;
	else
		PQclear(res);
	return rc;
}

int pg_simple(struct pg_store *store, const char *sql)
{
	int rc = pg_ready(store);
	PGresult *res;

	if (rc < 0)
		return rc;
	res = pg_await(store, PQsendQuery(store->conn, sql));
	rc = pg_errno(res);
	PQclear(res);
	return rc;
}
