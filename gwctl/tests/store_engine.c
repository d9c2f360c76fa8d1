/* The store's tests on either engine: SQLite by default, PostgreSQL when IPREF_TEST_PG is set. */
#include "store_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "store_impl.h"
#ifdef IPR_TEST_HAVE_PG
#include "pgstore_impl.h"
#endif

const char *test_store_pg(void)
{
	const char *c = getenv("IPREF_TEST_PG");

	return c && c[0] ? c : NULL;
}

void test_store_reset(void)
{
#ifdef IPR_TEST_HAVE_PG
	PGconn *conn;
	PGresult *res;

	if (!test_store_pg())
		return;
	conn = PQconnectdb(test_store_pg());
	res = PQexec(conn, "SET client_min_messages = warning;"
			   " DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "cannot empty the test database: %s", PQerrorMessage(conn));
		abort();
	}
	PQclear(res);
	PQfinish(conn);
#endif
}

int test_store_open(const char *path, struct store **out, char *msg, size_t msg_size)
{
#ifdef IPR_TEST_HAVE_PG
	if (test_store_pg())
		return pg_store_open(test_store_pg(), "gw-test", out, msg, msg_size);
#endif
	return store_open(path, out, msg, msg_size);
}

#ifdef IPR_TEST_HAVE_PG
static int pg_rows(struct store *store, const char *sql, const char *param, char rows[][64],
		   int max)
{
	char text[1024], *q;
	const char *params[] = { param };
	PGresult *res;
	int n = -1;

	snprintf(text, sizeof(text), "%s", sql);
	while ((q = strstr(text, "?1")))
		*q = '$';
	res = PQexecParams(pg_of(store)->conn, text, param ? 1 : 0, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK) {
		for (n = 0; n < PQntuples(res) && n < max; n++)
			snprintf(rows[n], 64, "%s", PQgetvalue(res, n, 0));
	} else {
		fprintf(stderr, "%s: %s", text, PQerrorMessage(pg_of(store)->conn));
	}
	PQclear(res);
	return n;
}
#endif

int test_store_sql(struct store *store, const char *sql, const char *param, char rows[][64],
		   int max)
{
	sqlite3_stmt *st;
	int n = 0, rc;

#ifdef IPR_TEST_HAVE_PG
	if (test_store_pg())
		return pg_rows(store, sql, param, rows, max);
#endif
	if (sqlite3_prepare_v2(sqlite_of(store)->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(sqlite_of(store)->db));
		return -1;
	}
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		snprintf(rows[n++], 64, "%s", v ? v : "");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -1;
}

int test_refill_flushed(struct store *store, const struct ipr_prefix *range, int64_t now)
{
	if (store_begin(store) < 0 || alloc_refill_encoded(store, range, now, 64) <= 0 ||
	    store_commit(store) < 0)
		return -1;
	store_flush(store);
	return 0;
}

int test_reserved_and_mapped(struct store *store)
{
	char rows[1][64];

	if (test_store_sql(store,
			   "SELECT count(*) FROM reserve r JOIN remote_mapping m"
			   " ON m.encoded = substr(r.value, 9)",
			   NULL, rows, 1) != 1)
		return -1;
	return atoi(rows[0]);
}
