/* Tests of the PostgreSQL engine of the store: what SQLite cannot show, several gateways. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "pgstore_impl.h"
#include "store_engine.h"
#include "store_hold.h"

/*
 * tests/store-pg/test_engine.py passes a fresh database's conninfo in IPREF_TEST_PG; each
 * test empties it first (test_store_reset).
 */
static const char *conninfo;

static struct store *open_gw(const char *gateway)
{
	struct store *s = NULL;
	char msg[512] = "";
	int rc = pg_store_open(conninfo, gateway, &s, msg, sizeof(msg));

	if (rc != 0)
		fail_msg("pg_store_open: %d %s", rc, msg);
	return s;
}

static struct ipr_mapping remote(const char *encoded, unsigned ref)
{
	struct ipr_mapping m = { .kind = IPR_MAP_DYNAMIC_REMOTE, .family = AF_INET };
	char text[16];

	assert_int_equal(inet_pton(AF_INET, encoded, m.address), 1);
	assert_int_equal(ipr_context_parse("198.51.100.9", 12, &m.context, NULL), 0);
	snprintf(text, sizeof(text), "%u", ref);
	assert_int_equal(ipr_ref_parse(text, strlen(text), &m.ref, NULL), 0);
	m.expires = 5000;
	snprintf(m.source, sizeof(m.source), "test");
	return m;
}

static int setup(void **state)
{
	test_store_reset();
	return 0;
}

/* Bad settings fail at once with a sentence, never a wait: no server, an unparsable conninfo. */
static void test_open_refusals(void **state)
{
	struct store *s = NULL;
	char msg[512] = "";

	assert_int_equal(pg_store_open("host=/nonexistent/ipref dbname=x connect_timeout=2", "gw",
				       &s, msg, sizeof(msg)),
			 -EIO);
	assert_non_null(strstr(msg, "cannot connect"));
	assert_int_equal(pg_store_open("host='unclosed", "gw", &s, msg, sizeof(msg)), -EINVAL);
	assert_null(s);
}

/*
 * A unique value taken fails the statement alone (-EEXIST, as SQLite's constraint failure):
 * the transaction goes on and commits what else it did.
 */
static void test_unique_violation_keeps_transaction(void **state)
{
	struct store *s = open_gw("gw-a");
	struct ipr_mapping a = remote("10.1.0.1", 100), b = remote("10.1.0.1", 101);
	struct ipr_mapping c = remote("10.1.0.2", 102), found;

	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_insert(s, &a), 0);
	assert_int_equal(store_insert(s, &b), -EEXIST);
	assert_true(store_in_transaction(s));
	assert_int_equal(store_insert(s, &c), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_find_encoded(s, AF_INET, c.address, &found), 0);
	assert_int_equal(found.id, c.id);
	store_close(s);
}

/* An error that aborts the transaction ends it: in_transaction says so, commit fails. */
static void test_aborted_transaction_fails_commit(void **state)
{
	struct store *s = open_gw("gw-a");
	struct ipr_mapping a = remote("10.1.0.1", 100);

	assert_int_equal(store_begin(s), 0);
	a.kind = 9; /* a CHECK constraint: the whole transaction is aborted */
	assert_int_equal(store_insert(s, &a), -EEXIST);
	assert_false(store_in_transaction(s));
	assert_int_equal(store_commit(s), -EIO);
	/* and the next one works */
	a.kind = IPR_MAP_DYNAMIC_REMOTE;
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_insert(s, &a), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
}

/* A savepoint undoes an error inside it, as on SQLite. */
static void test_savepoint_undoes_error(void **state)
{
	struct store *s = open_gw("gw-a");
	struct ipr_mapping a = remote("10.1.0.1", 100), bad = remote("10.1.0.3", 103), found;

	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_insert(s, &a), 0);
	assert_int_equal(store_savepoint(s), 0);
	bad.kind = 9;
	assert_true(store_insert(s, &bad) < 0);
	store_rollback_to(s);
	assert_true(store_in_transaction(s));
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_find_encoded(s, AF_INET, a.address, &found), 0);
	store_close(s);
}

/* Each gateway takes only its own reserved values; a value another reserved is not added. */
static void test_reserve_per_gateway(void **state)
{
	struct store *a = open_gw("gw-a"), *b = open_gw("gw-b");
	char value[64];
	uint64_t all, flushed;
	bool busy;

	assert_int_equal(store_begin(a), 0);
	assert_int_equal(store_reserve_add(a, "encoded:10.1.0.0/24", "encoded:10.1.0.5", 1000), 1);
	assert_int_equal(store_commit(a), 0);
	assert_true(store_flushed(a));
	assert_int_equal(store_begin(b), 0);
	assert_int_equal(store_reserve_add(b, "encoded:10.1.0.0/24", "encoded:10.1.0.5", 1000), 0);
	assert_int_equal(store_reserve_count(b, "encoded:10.1.0.0/24", &all, &flushed), 0);
	assert_int_equal(all, 0);
	assert_int_equal(store_reserve_take(b, "encoded:10.1.0.0/24", true, 1000, value,
					    sizeof(value), &busy),
			 -ENOENT);
	assert_int_equal(store_commit(b), 0);
	assert_int_equal(store_begin(a), 0);
	assert_int_equal(store_reserve_count(a, "encoded:10.1.0.0/24", &all, &flushed), 0);
	assert_int_equal(all, 1);
	assert_int_equal(flushed, 1);
	assert_int_equal(store_reserve_take(a, "encoded:10.1.0.0/24", true, 1000, value,
					    sizeof(value), &busy),
			 0);
	assert_string_equal(value, "encoded:10.1.0.5");
	assert_false(busy);
	assert_int_equal(store_commit(a), 0);
	store_close(a);
	store_close(b);
}

/*
 * Many values reserved by one statement: each as one add would (not a value mapped, resting,
 * reserved by another gateway, or twice), in their order, and quoted whatever they hold.
 */
static void test_reserve_add_many(void **state)
{
	struct store *a = open_gw("gw-a"), *b = open_gw("gw-b");
	const char *pool = "encoded:10.1.0.0/24";
	struct ipr_mapping mapped = remote("10.1.0.6", 106);
	const char *values[] = { "encoded:10.1.0.5", "encoded:10.1.0.5", "encoded:10.1.0.6",
				 "encoded:10.1.0.7", "encoded:10.1.0.8", "encoded:\"odd\\,{x}",
				 "encoded:10.1.0.9" };
	const char *want[] = { "encoded:10.1.0.5", "encoded:\"odd\\,{x}", "encoded:10.1.0.9" };
	char value[64];
	uint64_t all, flushed;
	bool busy;

	assert_int_equal(store_begin(b), 0);
	assert_int_equal(store_insert(b, &mapped), 0);
	assert_int_equal(store_reserve_add(b, pool, "encoded:10.1.0.7", 1000), 1);
	assert_int_equal(test_store_sql(b,
					"INSERT INTO quarantine VALUES ('encoded:10.1.0.8', 5000)",
					NULL, NULL, 0),
			 0);
	assert_int_equal(store_commit(b), 0);
	assert_int_equal(store_begin(a), 0);
	assert_int_equal(store_reserve_count(a, pool, &all, NULL), 0);
	assert_int_equal(all, 0);
	assert_int_equal(store_reserve_add_many(a, pool, values, 7, 1000), 3);
	/* the count kept in memory follows, and agrees with the table's */
	assert_int_equal(store_reserve_count(a, pool, &all, NULL), 0);
	assert_int_equal(all, 3);
	assert_int_equal(store_commit(a), 0);
	assert_int_equal(store_reserve_count(a, pool, &all, &flushed), 0);
	assert_int_equal(all, 3);
	assert_int_equal(flushed, 3);
	assert_int_equal(store_begin(a), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
			store_reserve_take(a, pool, true, 1000, value, sizeof(value), &busy), 0);
		assert_string_equal(value, want[i]);
		assert_false(busy);
	}
	assert_int_equal(store_reserve_take(a, pool, true, 1000, value, sizeof(value), &busy),
			 -ENOENT);
	assert_int_equal(store_commit(a), 0);
	assert_int_equal(store_reserve_count(a, pool, &all, &flushed), 0);
	assert_int_equal(all, 0);
	store_close(a);
	store_close(b);
}

/* An unclean stop quarantines that gateway's reserve only; the other's stays. */
static void test_unclean_start_per_gateway(void **state)
{
	struct store *a = open_gw("gw-a"), *b = open_gw("gw-b");
	struct store_start_report report;
	uint64_t all;

	assert_int_equal(store_start(a, 1000, 100, 50, &report), 0);
	assert_false(report.unclean);
	assert_int_equal(store_start(b, 1000, 100, 50, &report), 0);
	assert_int_equal(store_begin(a), 0);
	assert_int_equal(store_reserve_add(a, "ref:1-100", "ref:7", 1000), 1);
	assert_int_equal(store_commit(a), 0);
	assert_int_equal(store_begin(b), 0);
	assert_int_equal(store_reserve_add(b, "ref:1-100", "ref:8", 1000), 1);
	assert_int_equal(store_commit(b), 0);
	assert_int_equal(store_mark_clean(b), 0);
	store_close(a); /* no mark_clean: a stopped uncleanly */
	store_close(b);

	a = open_gw("gw-a");
	b = open_gw("gw-b");
	assert_int_equal(store_start(a, 2000, 100, 50, &report), 0);
	assert_true(report.unclean);
	assert_int_equal(report.reserved_quarantined, 1);
	assert_int_equal(store_start(b, 2000, 100, 50, &report), 0);
	assert_false(report.unclean);
	assert_int_equal(store_reserve_count(a, "ref:1-100", &all, NULL), 0);
	assert_int_equal(all, 0);
	assert_int_equal(store_reserve_count(b, "ref:1-100", &all, NULL), 0);
	assert_int_equal(all, 1);
	assert_int_equal(store_ref_quarantined(a, &(struct ipr_ref){ .lo = 7 }, 2000), 1);
	store_close(a);
	store_close(b);
}

/* The server ends the connection: the statement fails with -EIO, the next transaction works. */
static void test_connection_lost_and_back(void **state)
{
	struct store *s = open_gw("gw-a"), *admin = open_gw("admin");
	char sql[128];
	struct ipr_mapping a = remote("10.1.0.1", 100);
	PGresult *res;
	int rc = -1;

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", PQbackendPID(pg_of(s)->conn));
	res = PQexec(pg_of(admin)->conn, sql);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	assert_int_equal(store_begin(s), -EIO);
	for (int i = 0; i < 100 && rc != 0; i++) {
		rc = store_begin(s);
		if (rc != 0)
			usleep(50 * 1000);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(store_insert(s, &a), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	store_close(admin);
}

static void admin_sql(PGconn *admin, const char *sql)
{
	PGresult *res = PQexec(admin, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(admin));
	PQclear(res);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A session on another database: PostgreSQL refuses to lock out the current one. */
static PGconn *admin_connect(void)
{
	char sql[256];
	PGconn *admin;

	snprintf(sql, sizeof(sql), "%s dbname=postgres", conninfo);
	admin = PQconnectdb(sql);
	assert_int_equal(PQstatus(admin), CONNECTION_OK);
	return admin;
}

/* New connections to the store's database refused, or taken again. */
static void allow_connections(PGconn *admin, struct store *s, bool allow)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" WITH ALLOW_CONNECTIONS %s",
		 PQdb(pg_of(s)->conn), allow ? "true" : "false");
	admin_sql(admin, sql);
}

/*
 * The database away (its connection cut, new ones refused): every call fails at once with
 * -EIO, none waits or crashes, lookups and counts too; once it is back, the store works again
 * by itself.
 */
static void test_database_away_and_back(void **state)
{
	struct store *s = open_gw("gw-a");
	struct ipr_mapping a = remote("10.1.0.1", 100), found;
	struct store_counts counts;
	char sql[256];
	PGconn *admin;
	int64_t start;
	int rc = -1;

	admin = admin_connect();
	allow_connections(admin, s, false);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", PQbackendPID(pg_of(s)->conn));
	admin_sql(admin, sql);
	start = now_ms();
	for (int i = 0; i < 20; i++) {
		assert_int_equal(store_begin(s), -EIO);
		assert_false(store_in_transaction(s));
		assert_int_equal(store_commit(s), -EIO);
		assert_int_equal(store_find_encoded(s, AF_INET, a.address, &found), -EIO);
		assert_int_equal(store_count(s, &counts), -EIO);
		store_flush(s);
	}
	/* each failed at once: the reconnect waits out its back-off instead of the caller */
	assert_true(now_ms() - start < 5000);
	allow_connections(admin, s, true);
	for (int i = 0; i < 200 && rc != 0; i++) {
		rc = store_begin(s);
		if (rc != 0)
			usleep(100 * 1000);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(store_insert(s, &a), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	PQfinish(admin);
}

/* Until the refills behind the loop have reported this many values added and jobs failed. */
static void wait_refills(struct store *s, uint64_t added, uint64_t failed)
{
	struct store_durability d = { 0 };

	for (int i = 0; i < 500; i++) {
		store_tend(s); /* between batches, where the daemon collects their reports */
		store_durability(s, &d);
		if (d.reserved_behind >= added && d.refills_behind_failed >= failed)
			return;
		usleep(10 * 1000);
	}
	fail_msg("refills behind: %llu added, %llu failed; waited for %llu and %llu",
		 (unsigned long long)d.reserved_behind, (unsigned long long)d.refills_behind_failed,
		 (unsigned long long)added, (unsigned long long)failed);
}

/*
 * Refills behind the loop (store_refill_behind): the values handed over count as the pool's at
 * once, are added by the refills' own connection as a refill adds them (a mapped one skipped),
 * and can be taken as flushed the moment their job reported; more than the jobs' queue holds
 * is refused whole; with the database away a job fails, counted, and the pool lets go of it;
 * once it is back the refills work again by themselves.
 */
static void test_refills_behind(void **state)
{
	struct store *s = open_gw("gw-a");
	const char *pool = "encoded:10.1.0.0/24";
	struct ipr_mapping mapped = remote("10.1.0.6", 106);
	const char *values[] = { "encoded:10.1.0.5", "encoded:10.1.0.6", "encoded:10.1.0.7" };
	const char *more[] = { "encoded:10.1.0.8" };
	const char *many[PG_REFILL_PENDING_MAX + 1];
	struct store_start_report report;
	char value[64], sql[256];
	uint64_t all;
	PGconn *admin;
	bool busy;
	int rc = -1;

	for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		many[i] = "encoded:10.1.0.9";
	assert_int_equal(store_start(s, 1000, 3600, 600, &report), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_insert(s, &mapped), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_refill_behind(s), 0);
	assert_int_equal(store_refill_behind(s), 0); /* started once */
	assert_int_equal(store_reserve_count(s, pool, &all, NULL), 0);
	assert_int_equal(all, 0);
	assert_int_equal(store_reserve_add_many(s, pool, values, 3, 1000), -EINPROGRESS);
	assert_int_equal(store_reserve_count(s, pool, &all, NULL), 0);
	assert_int_equal(all, 3); /* on their way in: the next refill does not ask for them again */
	wait_refills(s, 2, 0);
	assert_int_equal(store_reserve_count(s, pool, &all, NULL), 0);
	assert_int_equal(all, 2); /* 10.1.0.6 is mapped: not reserved */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_reserve_take(s, pool, true, 1000, value, sizeof(value), &busy), 0);
	assert_string_equal(value, "encoded:10.1.0.5");
	assert_int_equal(store_reserve_take(s, pool, true, 1000, value, sizeof(value), &busy), 0);
	assert_string_equal(value, "encoded:10.1.0.7");
	assert_int_equal(store_reserve_take(s, pool, true, 1000, value, sizeof(value), &busy),
			 -ENOENT);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_reserve_add_many(s, pool, many, PG_REFILL_PENDING_MAX + 1, 1000),
			 -EBUSY);
	assert_int_equal(store_reserve_count(s, pool, &all, NULL), 0);
	assert_int_equal(all, 0);

	/* the database away: the refills' connection cut, new ones refused */
	admin = admin_connect();
	allow_connections(admin, s, false);
	snprintf(sql, sizeof(sql),
		 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'",
		 PQdb(pg_of(s)->conn));
	admin_sql(admin, sql);
	assert_int_equal(store_reserve_add_many(s, pool, more, 1, 1000), -EINPROGRESS);
	wait_refills(s, 2, 1);
	allow_connections(admin, s, true);
	/* a job fails at once while the refills wait to connect again: hand it over until one
	 * goes through */
	for (int i = 0; i < 100 && rc != 0; i++) {
		struct store_durability d;

		store_durability(s, &d);
		if (d.reserved_behind < 3 &&
		    store_reserve_add_many(s, pool, more, 1, 1000) == -EINPROGRESS)
			usleep(100 * 1000);
		store_tend(s);
		store_durability(s, &d);
		rc = d.reserved_behind == 3 ? 0 : -1;
	}
	assert_int_equal(rc, 0);
	/* the store's own connection comes back after its back-off, and counts what was added */
	rc = -1;
	for (int i = 0; i < 100 && rc != 0; i++) {
		rc = store_reserve_count(s, pool, &all, NULL);
		if (rc != 0)
			usleep(100 * 1000);
	}
	assert_int_equal(all, 1);
	/* stops the refills first; the store's own connection may still be on its way back */
	rc = -1;
	for (int i = 0; i < 100 && rc != 0; i++) {
		rc = store_mark_clean(s);
		if (rc != 0)
			usleep(100 * 1000);
	}
	assert_int_equal(rc, 0);
	store_close(s);
	PQfinish(admin);
}

/* The sweep's purge trims the change log past an hour, and keeps the newer rows. */
static void test_sweep_trims_change_log(void **state)
{
	struct store *s = open_gw("gw-a");
	struct ipr_mapping a = remote("10.1.0.1", 100), b = remote("10.1.0.2", 101);
	PGresult *res;

	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_insert(s, &a), 0);
	assert_int_equal(store_commit(s), 0);
	res = PQexec(pg_of(s)->conn, "UPDATE change_log SET at = at - 7200");
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_insert(s, &b), 0);
	assert_int_equal(store_purge_quarantine(s, 1000), 0);
	assert_int_equal(store_commit(s), 0);
	res = PQexec(pg_of(s)->conn, "SELECT key FROM change_log");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), 1);
	assert_string_equal(PQgetvalue(res, 0, 0), "10.1.0.2");
	PQclear(res);
	store_close(s);
}

/* Rows of a query as one text: each row's columns joined by '|', rows by ';'. */
static void query_text(struct store *s, const char *sql, char *out, size_t size)
{
	PGresult *res = PQexec(pg_of(s)->conn, sql);
	size_t at = 0;

	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	out[0] = '\0';
	for (int r = 0; r < PQntuples(res); r++)
		for (int c = 0; c < PQnfields(res); c++)
			at += (size_t)snprintf(out + at, size - at, "%s%s", PQgetvalue(res, r, c),
					       c + 1 < PQnfields(res) ? "|" : ";");
	PQclear(res);
}

/* A new name of 198.51.100.9 + ref as store_bind_ahead is given it, held in pool when set. */
static struct store_bind bind_item(unsigned ref, const char *pool)
{
	struct store_bind item = { .m = remote("10.1.0.1", ref), .hold_pool = pool };

	memset(item.m.address, 0, sizeof(item.m.address)); /* the call chooses it */
	item.hold_until = 6000;
	return item;
}

/*
 * A batch's new names bound by one statement (store_bind_ahead, migration 15): each takes the
 * next reserved value in order; a name mapped already is found and takes none; past the
 * reserve, and past a row that is not a canonical address of the pool's family (a hand edit),
 * the request goes the usual way and that row is left to the usual way's take. The values
 * taken leave the reserve at commit, the others stay.
 */
static void test_bind_ahead(void **state)
{
	struct store *a = open_gw("gw-a");
	const char *pool = "encoded:10.1.0.0/24";
	const char *values[] = { "encoded:10.1.0.5", "encoded:10.1.0.6", "encoded:10.1.0.7" };
	struct store_bind_terms terms = { .pool = pool,
					  .family = AF_INET,
					  .now = 1000,
					  .due_by = 1010,
					  .pool_limit = 10,
					  .clients_limit = 10 };
	struct store_bind items[4], *ptrs[4] = { &items[0], &items[1], &items[2], &items[3] };
	char text[INET6_ADDRSTRLEN], rows[256];
	uint64_t all;

	assert_int_equal(store_bind_ahead(a, NULL, NULL, 0), 0); /* it binds ahead */
	assert_int_equal(store_begin(a), 0);
	assert_int_equal(store_reserve_add_many(a, pool, values, 3, 1000), 3);
	assert_int_equal(store_commit(a), 0);
	store_flush(a);
	assert_int_equal(store_begin(a), 0);
	items[0] = bind_item(1, "client:192.168.1.10");
	items[1] = bind_item(2, NULL);
	items[2] = bind_item(1, NULL); /* asked again in the same batch */
	items[3] = bind_item(3, NULL);
	assert_int_equal(store_bind_ahead(a, &terms, ptrs, 4), 0);
	assert_int_equal(items[0].outcome, STORE_BIND_ADDED);
	assert_int_equal(items[1].outcome, STORE_BIND_ADDED);
	assert_int_equal(items[2].outcome, STORE_BIND_FOUND);
	assert_int_equal(items[3].outcome, STORE_BIND_ADDED);
	assert_int_equal(items[2].m.id, items[0].m.id);
	for (int i = 0; i < 4; i++) {
		store_address_text(AF_INET, items[i].m.address, text);
		assert_string_equal(text, values[i == 3 ? 2 : i == 2 ? 0 : i] + strlen("encoded:"));
	}
	assert_int_equal(store_commit(a), 0);
	query_text(a, "SELECT value, pool, live, until FROM quota_hold", rows, sizeof(rows));
	assert_string_equal(rows, "10.1.0.5|client:192.168.1.10|1|6000;");
	assert_int_equal(store_reserve_count(a, pool, &all, NULL), 0);
	assert_int_equal(all, 0);

	/* the reserve's next row is no address: nothing bound ahead, the row left in place */
	assert_int_equal(store_begin(a), 0);
	assert_int_equal(
		test_store_sql(a,
			       "INSERT INTO reserve (gateway, pool, value, seq)"
			       " VALUES ('gw-a', 'encoded:10.1.0.0/24', 'encoded:10.1.0.x', 0),"
			       " ('gw-a', 'encoded:10.1.0.0/24', 'encoded:10.1.0.9', 0)",
			       NULL, NULL, 0),
		0);
	assert_int_equal(store_commit(a), 0);
	assert_int_equal(store_begin(a), 0);
	items[0] = bind_item(4, NULL);
	items[1] = bind_item(2, NULL);
	assert_int_equal(store_bind_ahead(a, &terms, ptrs, 2), 0);
	assert_int_equal(items[0].outcome, STORE_BIND_USUAL);
	assert_int_equal(items[1].outcome, STORE_BIND_USUAL); /* no call made: the usual way */
	assert_int_equal(store_commit(a), 0);
	query_text(a, "SELECT count(*) FROM reserve", rows, sizeof(rows));
	assert_string_equal(rows, "2;");
	store_close(a);
}

/*
 * The batch statement when a reserved value's insert meets a unique value (a mapping made by
 * hand after the daemon read the reserve ahead): that request binds nothing and goes the usual
 * way, its reserve row still reported taken, and takes no hold; the requests around it bind
 * their own values and are held (migration 16's joins by position, as migration 15's).
 */
static void test_bind_batch_meets_unique_value(void **state)
{
	struct store *a = open_gw("gw-a");
	const char *pool = "encoded:10.1.0.0/24";
	const char *values[] = { "encoded:10.1.0.5", "encoded:10.1.0.6", "encoded:10.1.0.7" };
	struct ipr_mapping by_hand = remote("10.1.0.6", 106);
	char rows[512];

	assert_int_equal(store_begin(a), 0);
	assert_int_equal(store_reserve_add_many(a, pool, values, 3, 1000), 3);
	assert_int_equal(store_commit(a), 0);
	assert_int_equal(store_begin(a), 0);
	assert_int_equal(store_insert(a, &by_hand), 0);
	assert_int_equal(store_commit(a), 0);
	assert_int_equal(store_begin(a), 0);
	query_text(
		a,
		"SELECT ord, outcome, taken IS NOT NULL, coalesce(encoded, '-'), coalesce(ref, '-')"
		" FROM ipref_bind_batch(ARRAY[4, 4, 4], ARRAY['198.51.100.9', '198.51.100.9',"
		" '198.51.100.9'], ARRAY['201', '202', '203'], ARRAY[NULL, NULL, NULL]::text[],"
		" ARRAY[5000, 5000, 5000]::bigint[], ARRAY['test', 'test', 'test'],"
		" ARRAY['client:a', 'client:a', 'client:a'], ARRAY[6000, 6000, 6000]::bigint[], 3,"
		" 'gw-a', 'encoded:10.1.0.0/24', (SELECT min(id) FROM reserve),"
		" (SELECT max(id) FROM reserve), 1000, 1010, 10, 10)",
		rows, sizeof(rows));
	assert_string_equal(rows, "1|0|t|10.1.0.5|201;2|2|t|-|-;3|0|t|10.1.0.7|203;");
	query_text(a, "SELECT value, pool FROM quota_hold ORDER BY value", rows, sizeof(rows));
	assert_string_equal(rows, "10.1.0.5|client:a;10.1.0.7|client:a;");
	query_text(a, "SELECT encoded, ref FROM remote_mapping ORDER BY encoded", rows,
		   sizeof(rows));
	assert_string_equal(rows, "10.1.0.5|201;10.1.0.6|106;10.1.0.7|203;");
	store_rollback(a);
	store_close(a);
}

/*
 * A remote mapping's insert (by either statement) and delete: its change-log rows, its counts
 * on this gateway's rows and a NOTIFY, as the triggers of migrations 3, 10 and 12 wrote them
 * before migration 14 made the insert's one trigger.
 */
static void test_remote_insert_logs_and_counts(void **state)
{
	struct store *s = open_gw("gw-a");
	struct ipr_mapping a = remote("10.1.0.1", 100), b = remote("10.1.0.2", 101);
	char text[512];
	PGnotify *note;
	PGresult *res = PQexec(pg_of(s)->conn, "LISTEN ipref_changes");

	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_insert(s, &a), 0);
	assert_int_equal(store_bind_remote(s, &b), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(PQconsumeInput(pg_of(s)->conn), 1);
	note = PQnotifies(pg_of(s)->conn);
	assert_non_null(note);
	PQfreemem(note);
	query_text(s,
		   "SELECT gateway, tbl, op, key, coalesce(kind, 0) FROM change_log"
		   " ORDER BY seq",
		   text, sizeof(text));
	assert_string_equal(text, "gw-a|remote_mapping|insert|10.1.0.1|0;"
				  "gw-a|remote_mapping|insert|10.1.0.2|0;");
	query_text(s,
		   "SELECT name, value FROM counts WHERE gateway = 'gw-a'"
		   " AND name IN ('mappings.3', 'encoded.4') ORDER BY name",
		   text, sizeof(text));
	assert_string_equal(text, "encoded.4|2;mappings.3|2;");
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_delete(s, &a, 0), 0);
	assert_int_equal(store_commit(s), 0);
	query_text(s,
		   "SELECT name, value FROM counts WHERE gateway = 'gw-a'"
		   " AND name IN ('mappings.3', 'encoded.4') ORDER BY name",
		   text, sizeof(text));
	assert_string_equal(text, "encoded.4|1;mappings.3|1;");
	query_text(s, "SELECT op, key, kind FROM change_log WHERE op = 'delete'", text,
		   sizeof(text));
	assert_string_equal(text, "delete|10.1.0.1|3;");
	store_close(s);
}

/* Two gateways binding at once. */
struct binder {
	const char *gateway;
	int first, count; /* the values it tries: 10.2.(i / 250).(i % 250 + 1) */
	unsigned ref_base;
	bool bound[1000];
	int ok, taken, failed;
};

static void *bind_all(void *arg)
{
	struct binder *b = arg;
	struct store *s = open_gw(b->gateway);

	for (int i = b->first; i < b->first + b->count; i++) {
		char text[32];
		struct ipr_mapping m;
		int rc;

		snprintf(text, sizeof(text), "10.2.%d.%d", i / 250, i % 250 + 1);
		m = remote(text, b->ref_base + (unsigned)i);
		if (store_begin(s) < 0) {
			b->failed++;
			continue;
		}
		rc = store_insert(s, &m);
		if (rc == 0)
			rc = store_commit(s);
		else
			store_rollback(s);
		if (rc == 0) {
			b->bound[i] = true;
			b->ok++;
		} else if (rc == -EEXIST) {
			b->taken++;
		} else {
			b->failed++;
		}
	}
	store_close(s);
	return NULL;
}

/*
 * Two gateways binding the same 500 encoded addresses at once, each in transactions of its
 * own: every value is bound exactly once, by one of them; the database holds 500 rows.
 */
static void test_two_gateways_never_bind_twice(void **state)
{
	static struct binder a = { .gateway = "gw-a", .first = 0, .count = 500, .ref_base = 1000 };
	static struct binder b = { .gateway = "gw-b", .first = 0, .count = 500, .ref_base = 5000 };
	struct store *s;
	struct store_counts counts;
	pthread_t ta, tb;

	assert_int_equal(pthread_create(&ta, NULL, bind_all, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, bind_all, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.failed + b.failed, 0);
	assert_int_equal(a.ok + b.ok, 500);
	assert_int_equal(a.taken + b.taken, 500);
	for (int i = 0; i < 500; i++)
		assert_true(a.bound[i] != b.bound[i]);
	s = open_gw("gw-c");
	assert_int_equal(store_count(s, &counts), 0);
	assert_int_equal(counts.by_kind[IPR_MAP_DYNAMIC_REMOTE], 500);
	store_close(s);
}

/* Allocation on two gateways at once, each from its own reserve: no value twice. */
struct allocator {
	const char *gateway;
	uint8_t got[400][16];
	int ok, failed;
};

/* Tops up the gateway's reserve in a transaction of its own; a failure is the next take's. */
static void refill(struct store *s, const struct ipr_prefix *range)
{
	if (store_begin(s) == 0 && alloc_refill_encoded(s, range, 1000, 64) >= 0 &&
	    store_commit(s) == 0)
		return;
	store_rollback(s);
}

static void *allocate_all(void *arg)
{
	struct allocator *al = arg;
	struct store *s = open_gw(al->gateway);
	struct ipr_prefix range = { .family = AF_INET, .len = 22 };
	unsigned ref_base = al->gateway[3] == 'a' ? 10000 : 20000;

	assert_int_equal(inet_pton(AF_INET, "10.3.0.0", range.addr), 1);
	for (int i = 0; i < 400; i++) {
		struct ipr_mapping m = remote("10.3.0.1", ref_base + (unsigned)i);
		int rc;

		if (i % 32 == 0)
			refill(s, &range);
		rc = store_begin(s);
		if (rc == 0)
			rc = alloc_encoded(s, &range, 1000, m.address);
		if (rc == 0)
			rc = store_insert(s, &m);
		if (rc == 0)
			rc = store_commit(s);
		else
			store_rollback(s);
		if (rc == 0)
			memcpy(al->got[al->ok++], m.address, 16);
		else
			al->failed++;
	}
	store_close(s);
	return NULL;
}

static void test_two_gateways_allocate(void **state)
{
	static struct allocator a = { .gateway = "gw-a" }, b = { .gateway = "gw-b" };
	pthread_t ta, tb;

	assert_int_equal(pthread_create(&ta, NULL, allocate_all, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, allocate_all, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	/* a random pick both made at once loses on one side (-EEXIST): rare, allowed */
	assert_true(a.ok + b.ok >= 790);
	for (int i = 0; i < a.ok; i++)
		for (int j = 0; j < b.ok; j++)
			assert_memory_not_equal(a.got[i], b.got[j], 4);
}

/*
 * Two gateways asking for the same 200 addresses at once, each bound by the statement that
 * looks it up (the value its own reserve gives next, taken once bound): each address is mapped
 * once, to one value, and both gateways answer it with that value; no value twice.
 */
struct at_once {
	const char *gateway;
	uint8_t got[200][16];
	bool ok[200];
	int failed;
};

static void *bind_at_once_all(void *arg)
{
	struct at_once *al = arg;
	struct store *s = open_gw(al->gateway);
	struct ipr_prefix range = { .family = AF_INET, .len = 22 };

	assert_int_equal(inet_pton(AF_INET, "10.4.0.0", range.addr), 1);
	for (int i = 0; i < 200; i++) {
		struct ipr_mapping m = remote("10.4.0.1", 30000 + (unsigned)i);
		uint8_t taken[16];
		int rc;

		if (i % 32 == 0)
			refill(s, &range);
		rc = store_begin(s);
		if (rc == 0)
			rc = alloc_encoded_next(s, &range, 1000, m.address);
		if (rc == 0)
			rc = store_bind_remote(s, &m);
		if (rc == 0) {
			rc = alloc_encoded(s, &range, 1000, taken);
			if (rc == 0 && memcmp(taken, m.address, 4) != 0)
				rc = -EIO;
		}
		if (rc >= 0)
			rc = store_commit(s);
		else
			store_rollback(s);
		if (rc == 0) {
			memcpy(al->got[i], m.address, 16);
			al->ok[i] = true;
		} else {
			al->failed++;
		}
	}
	store_close(s);
	return NULL;
}

static void test_two_gateways_bind_at_once(void **state)
{
	static struct at_once a = { .gateway = "gw-a" }, b = { .gateway = "gw-b" };
	struct store *s;
	char rows[2][64];
	pthread_t ta, tb;

	assert_int_equal(pthread_create(&ta, NULL, bind_at_once_all, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, bind_at_once_all, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.failed + b.failed, 0);
	for (int i = 0; i < 200; i++)
		assert_memory_equal(a.got[i], b.got[i], 4);
	s = open_gw("gw-c");
	assert_int_equal(test_store_sql(s,
					"SELECT count(*) FROM remote_mapping UNION ALL"
					" SELECT count(DISTINCT encoded) FROM remote_mapping",
					NULL, rows, 2),
			 2);
	assert_string_equal(rows[0], "200");
	assert_string_equal(rows[1], "200");
	/* no value bound is still reserved: each was taken in the transaction that bound it */
	assert_int_equal(test_store_sql(s,
					"SELECT count(*) FROM reserve r JOIN remote_mapping m"
					" ON m.encoded = substr(r.value, 9)",
					NULL, rows, 1),
			 1);
	assert_string_equal(rows[0], "0");
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_refusals),
		cmocka_unit_test_setup(test_unique_violation_keeps_transaction, setup),
		cmocka_unit_test_setup(test_aborted_transaction_fails_commit, setup),
		cmocka_unit_test_setup(test_savepoint_undoes_error, setup),
		cmocka_unit_test_setup(test_reserve_per_gateway, setup),
		cmocka_unit_test_setup(test_reserve_add_many, setup),
		cmocka_unit_test_setup(test_bind_ahead, setup),
		cmocka_unit_test_setup(test_bind_batch_meets_unique_value, setup),
		cmocka_unit_test_setup(test_unclean_start_per_gateway, setup),
		cmocka_unit_test_setup(test_connection_lost_and_back, setup),
		cmocka_unit_test_setup(test_database_away_and_back, setup),
		cmocka_unit_test_setup(test_refills_behind, setup),
		cmocka_unit_test_setup(test_sweep_trims_change_log, setup),
		cmocka_unit_test_setup(test_two_gateways_never_bind_twice, setup),
		cmocka_unit_test_setup(test_two_gateways_allocate, setup),
		cmocka_unit_test_setup(test_two_gateways_bind_at_once, setup),
		cmocka_unit_test_setup(test_remote_insert_logs_and_counts, setup),
	};

	conninfo = test_store_pg();
	if (!conninfo) {
		printf("SKIP: IPREF_TEST_PG (a PostgreSQL conninfo) is not set: run by"
		       " tests/store-pg/test_engine.py in the suite store-pg\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
