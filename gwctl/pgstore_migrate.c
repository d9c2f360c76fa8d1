/* The PostgreSQL store's migrations run on a connection, as gwctld's SQLite store runs its own. */
#include "pgstore_schema.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgstore_await.h"
#include "schema.h"

/* The advisory lock every migration takes: the application id, "IPRF". */
#define LOCK_SQL "SELECT pg_advisory_xact_lock(%d)"

/* One run of the migrations: where, how long an answer may take, and what went wrong. */
struct migration {
	PGconn *conn;
	int wait_ms; /* no bound when negative */
	bool gave_up;
	char *msg;
	size_t msg_size;
};

/* A statement's answer, waited for at most m->wait_ms. */
static PGresult *run(struct migration *m, const char *sql)
{
	bool gave_up = false;
	PGresult *res = pgstore_await(m->conn, PQsendQuery(m->conn, sql), m->wait_ms, &gave_up);

	m->gave_up |= gave_up;
	return res;
}

/* The server failed a statement or did not answer it in time: -EIO, saying which. */
static int server_error(struct migration *m)
{
	if (m->gave_up)
		snprintf(m->msg, m->msg_size, "the PostgreSQL store: no answer within %d ms",
			 m->wait_ms);
	else
		snprintf(m->msg, m->msg_size, "the PostgreSQL store: %s", PQerrorMessage(m->conn));
	return -EIO;
}

static int exec_ok(struct migration *m, const char *sql)
{
	PGresult *res = run(m, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = server_error(m);
	PQclear(res);
	return rc;
}

/*
 * A database with tables or views but no ipref_schema belongs to someone else: gwctld adds
 * nothing to it (as it refuses an SQLite file of another application).
 */
static int check_not_foreign(struct migration *m)
{
	static const char sql[] =
		"SELECT to_regclass('ipref_schema') IS NULL AND EXISTS (SELECT FROM pg_class c"
		" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
		" AND c.relkind IN ('r', 'v', 'p', 'm', 'f'))";
	PGresult *res = run(m, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		rc = server_error(m);
	} else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		snprintf(m->msg, m->msg_size,
			 "the PostgreSQL database is not an IPREF store (it holds other tables and"
			 " no ipref_schema): give gwctld a database of its own");
		rc = -EPROTO;
	}
	PQclear(res);
	return rc;
}

/*
 * Inside the open transaction, with the lock held: the version ipref_schema records, made (0)
 * on a database that has none.
 */
static int read_version(struct migration *m, unsigned *version)
{
	static const char fmt[] = "CREATE TABLE IF NOT EXISTS ipref_schema (application_id bigint"
				  " NOT NULL, version integer NOT NULL);"
				  "INSERT INTO ipref_schema SELECT %d, 0"
				  " WHERE NOT EXISTS (SELECT FROM ipref_schema);"
				  "SELECT application_id, version FROM ipref_schema";
	char sql[sizeof(fmt) + 16];
	PGresult *res;
	int rc = 0;

	rc = check_not_foreign(m);
	if (rc < 0)
		return rc;
	snprintf(sql, sizeof(sql), fmt, SCHEMA_APPLICATION_ID);
	res = run(m, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = server_error(m);
		goto out;
	}
	if (PQntuples(res) != 1 ||
	    strtoll(PQgetvalue(res, 0, 0), NULL, 10) != SCHEMA_APPLICATION_ID) {
		snprintf(
			m->msg, m->msg_size,
			"the PostgreSQL database is not an IPREF store (ipref_schema has %d rows or"
			" another application id)",
			PQntuples(res));
		rc = -EPROTO;
		goto out;
	}
	*version = (unsigned)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
out:
	PQclear(res);
	return rc;
}

/* One step: the migration after the version found, in a transaction of its own. */
static int migrate_one(struct migration *m, unsigned *version, bool *done)
{
	char set[64];
	int rc = exec_ok(m, "BEGIN");

	if (rc < 0)
		return rc;
	/* a migration may rewrite a large table and wait for the gateways' batches: the session's
	 * short limits, meant for the event loop's statements, are not for it */
	rc = exec_ok(m, "SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0");
	snprintf(set, sizeof(set), LOCK_SQL, SCHEMA_APPLICATION_ID);
	if (rc == 0)
		rc = exec_ok(m, set);
	if (rc == 0)
		rc = read_version(m, version);
	if (rc == 0 && *version > pgstore_schema_version) {
		snprintf(m->msg, m->msg_size,
			 "the PostgreSQL store has schema version %u, newer than this gwctld knows"
			 " (%u): upgrade gwctld",
			 *version, pgstore_schema_version);
		rc = -EPROTONOSUPPORT;
	}
	*done = rc == 0 && *version == pgstore_schema_version;
	if (rc < 0 || *done)
		goto out;
	/* after the gateways' transactions running now, and before any new one: a migration's
	 * table locks taken in its own order could otherwise cross theirs (migration 8 locks
	 * quota_hold and quarantine one after the other) */
	rc = exec_ok(m, PG_WRITE_LOCK_SQL);
	if (rc == 0)
		rc = exec_ok(m, pgstore_schema_migrations[*version]);
	if (rc < 0)
		goto out;
	snprintf(set, sizeof(set), "UPDATE ipref_schema SET version = %u", *version + 1);
	rc = exec_ok(m, set);
	if (rc < 0)
		goto out;
	rc = exec_ok(m, "COMMIT");
	if (rc == 0)
		++*version;
	return rc;
out:
	/* a failure, or nothing to do: the transaction wrote nothing worth keeping */
	PQclear(run(m, "ROLLBACK"));
	return rc;
}

int pgstore_migrate(PGconn *conn, int wait_ms, unsigned *version, char *msg, size_t msg_size)
{
	struct migration m = { conn, wait_ms, false, msg, msg_size };
	unsigned v = 0;
	bool done = false;
	int rc = 0;

	while (!done && rc == 0)
		rc = migrate_one(&m, &v, &done);
	if (rc == 0 && version)
		*version = v;
	return rc;
}
