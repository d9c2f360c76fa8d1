/* The PostgreSQL store opened: a connection of its own, the gateway named, migrated, prepared. */
#include "pgstore_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgstore_schema.h"

/*
 * What the store's connection uses unless the conninfo says otherwise (its own values come
 * after these and win): a server that does not answer fails a connect in 5 s, and one that
 * vanished without closing the connection fails a statement once 2 s pass without its data
 * acknowledged (tcp_user_timeout), or is found gone within 9 s while idle (keepalives). A server
 * that keeps the connection but answers nothing (frozen, its storage stalled) is given up on
 * after PG_ANSWER_WAIT_MS (pgstore_await.c): never a wait without end, and no wait on a statement
 * long enough for `gwctl health` to fail. Each statement is one round trip made by the event
 * loop, as the SQLite engine's calls are (docs/store.md, "The store interface on two engines").
 */
static const char *const default_keys[] = {
	"connect_timeout",
	"keepalives_idle",
	"keepalives_interval",
	"keepalives_count",
	"tcp_user_timeout",
	"dbname",
	NULL,
};
static const char *const default_values[] = {
	"5", "5", "2", "2", "2000", NULL, NULL,
};

/* The session's settings, run on every connection made (the first and each reconnect). */
static const char *const session_sql[] = {
	/* the migrations' IF NOT EXISTS would otherwise print notices on stderr */
	"SET client_min_messages = warning",
	/* commits survive gwctld, and reach the disk within 3 x wal_writer_delay; those that must
	 * be on disk at once say so (pgstore_txn.c) */
	"SET synchronous_commit = off",
	/* a statement the server itself ends before gwctld's wait for it does (PG_ANSWER_WAIT_MS):
	 * an error, the connection kept */
	"SET statement_timeout = " PG_STATEMENT_TIMEOUT,
	/* a gateway is never idle inside its own transaction: one whose session waits there was
	 * cut off or stopped mid-batch, and the server could hold its locks, and so every other
	 * gateway's writes, until TCP gives up on it after hours; ended instead */
	"SET idle_in_transaction_session_timeout = '2s'",
	/* the site's write lock or a row held longer than a second: the batch fails (its
	 * requests answered E_STORE), and the event loop waits no longer */
	"SET lock_timeout = " PG_LOCK_TIMEOUT,
};

int pg_limits(struct pg_store *store, bool lifted)
{
	int rc;

	store->answer_wait_ms = -1;
	rc = pg_simple(store, lifted ? "SET statement_timeout = 0; SET lock_timeout = 0"
				     : "SET statement_timeout = " PG_STATEMENT_TIMEOUT
				       "; SET lock_timeout = " PG_LOCK_TIMEOUT);
	if (!lifted)
		store->answer_wait_ms = PG_ANSWER_WAIT_MS;
	return rc;
}

int pg_session(struct pg_store *store, char *msg, size_t msg_size)
{
	const char *params[] = { store->gateway };
	PGresult *res;
	int rc = 0;

	for (size_t i = 0; i < sizeof(session_sql) / sizeof(session_sql[0]) && rc == 0; i++) {
		res = pg_await(store, PQsendQuery(store->conn, session_sql[i]));
		rc = pg_errno(res);
		PQclear(res);
	}
	if (rc == 0) {
		res = pg_await(store,
			       PQsendQueryParams(store->conn,
						 "SELECT set_config('ipref.gateway', $1, false)", 1,
						 NULL, params, NULL, NULL, 0));
		rc = pg_errno(res);
		PQclear(res);
	}
	if (rc == 0) {
		res = pg_await(store,
			       PQsendQuery(store->conn, "SELECT pg_postmaster_start_time()::text"));
		rc = pg_errno(res);
		if (rc == 0 && PQntuples(res) == 1) {
			const char *started = PQgetvalue(res, 0, 0);

			if (store->server_started[0] && strcmp(store->server_started, started) != 0)
				store->server_restarted = true;
			snprintf(store->server_started, sizeof(store->server_started), "%s",
				 started);
		}
		PQclear(res);
	}
	if (rc < 0)
		snprintf(msg, msg_size, "the PostgreSQL store: %s", PQerrorMessage(store->conn));
	return rc;
}

/* libpq's reason for a conninfo it cannot parse, on one line. */
static int check_conninfo(const char *conninfo, char *msg, size_t msg_size)
{
	char *error = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &error);

	if (opts) {
		PQconninfoFree(opts);
		return 0;
	}
	snprintf(msg, msg_size, "the PostgreSQL store's conninfo: %s",
		 error ? strtok(error, "\n") : "out of memory");
	PQfreemem(error);
	return -EINVAL;
}

#define DEFAULT_COUNT (sizeof(default_values) / sizeof(default_values[0]))

/* The defaults with the conninfo as dbname: expanded, its keywords over the defaults before it. */
static void connect_values(const char *values[DEFAULT_COUNT], const char *conninfo)
{
	memcpy(values, default_values, sizeof(default_values));
	values[5] = conninfo;
}

PGconn *pg_connect_start(const char *conninfo)
{
	const char *values[DEFAULT_COUNT];

	connect_values(values, conninfo);
	return PQconnectStartParams(default_keys, values, 1);
}

static void close_engine(struct pg_store *store)
{
	if (!store)
		return;
	pg_refiller_stop(store->refiller);
	PQfinish(store->conn);
	free(store->conninfo);
	free(store);
}

static int open_engine(const char *conninfo, const char *gateway, bool reader, struct store **out,
		       char *msg, size_t msg_size)
{
	const char *values[DEFAULT_COUNT];
	struct pg_store *store = NULL;
	int rc;

	if (strlen(gateway) >= PG_GATEWAY_MAX) {
		snprintf(msg, msg_size, "the gateway's id is longer than %d bytes",
			 PG_GATEWAY_MAX - 1);
		return -EINVAL;
	}
	rc = check_conninfo(conninfo, msg, msg_size);
	if (rc < 0)
		return rc;
	store = calloc(1, sizeof(*store));
	if (!store) {
		snprintf(msg, msg_size, "out of memory");
		return -ENOMEM;
	}
	store->base.ops = &pg_store_ops;
	store->conninfo = strdup(conninfo);
	if (!store->conninfo) {
		snprintf(msg, msg_size, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	store->backoff_ms = PG_BACKOFF_MIN_MS;
	store->answer_wait_ms = PG_ANSWER_WAIT_MS;
	pg_pools_forget(store);
	snprintf(store->gateway, sizeof(store->gateway), "%s", gateway);
	connect_values(values, conninfo);
	store->conn = PQconnectdbParams(default_keys, values, 1);
	if (!store->conn || PQstatus(store->conn) != CONNECTION_OK) {
		snprintf(msg, msg_size, "the PostgreSQL store: cannot connect: %s",
			 store->conn ? strtok(PQerrorMessage(store->conn), "\n") : "out of memory");
		rc = -EIO;
		goto out;
	}
	/* named before migrating: the migrations' own rows are logged as this gateway's */
	rc = pg_session(store, msg, msg_size);
	/* a reader comes after the daemon migrated: it only reads */
	if (rc == 0 && reader && pg_simple(store, "SET default_transaction_read_only = on") < 0) {
		snprintf(msg, msg_size, "the PostgreSQL store: %s", PQerrorMessage(store->conn));
		rc = -EIO;
	}
	/* the daemon's start: migrating and preparing wait as long as they need (pg_limits) */
	if (rc == 0 && !reader)
		rc = pg_limits(store, true);
	if (rc == 0 && !reader)
		rc = pgstore_migrate(store->conn, -1, NULL, msg, msg_size);
	if (rc == 0)
		rc = pg_prepare_all(store, msg, msg_size);
	if (rc == 0 && !reader)
		rc = pg_limits(store, false);
	if (rc < 0)
		goto out;
	*out = &store->base;
	store = NULL;
out:
	close_engine(store);
	return rc;
}

int pg_store_open(const char *conninfo, const char *gateway, struct store **out, char *msg,
		  size_t msg_size)
{
	return open_engine(conninfo, gateway, false, out, msg, msg_size);
}

int pg_store_open_reader(const char *conninfo, const char *gateway, struct store **out, char *msg,
			 size_t msg_size)
{
	return open_engine(conninfo, gateway, true, out, msg, msg_size);
}

void pg_store_close(struct store *base)
{
	close_engine(pg_of(base));
}

int pg_store_refill_behind(struct store *base)
{
	struct pg_store *store = pg_of(base);

	if (store->refiller)
		return 0;
	return pg_refiller_start(store->conninfo, store->gateway, &store->refiller);
}
