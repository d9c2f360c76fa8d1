/* The PostgreSQL store's connection (gwctl/pgstore_conn.c) against a throwaway cluster. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "pgstore_conn.h"
#include "pgstore_schema.h"
#include "schema.h"

/*
 * The tests that need a server run when tests/store-pg/test_conn.py starts the cluster and
 * passes the conninfo of a fresh database (IPREF_PG_CONNINFO) and of one the tests may spoil
 * (IPREF_PG_CONNINFO_SPARE); the others run in the suite unit too.
 */
static const char *conninfo;
static const char *spare_conninfo;

/* Changes kept in order by the tests of bites, with the read each came in. */
#define KEPT_MAX 256

struct seen {
	int count;
	int lost;
	char key[64];
	char gateway[64];
	char table[32];
	char op[16];
	struct pgstore_conn *conn; /* set: each change's read is kept (the stats' log_reads) */
	char keys[KEPT_MAX][24];
	uint64_t read_of[KEPT_MAX];
	int room; /* has_room: bites more the caller takes (< 0: any) */
	/* at the change of this count (0: never), before the next read, run this on this link */
	int hook_at;
	PGconn *hook_pg;
	const char *hook_sql;
};

static void sql(PGconn *pg, const char *text);

static void on_change(void *arg, const struct pgstore_change *ch)
{
	struct seen *s = arg;

	if (s->conn && s->count < KEPT_MAX) {
		struct pgstore_conn_stats st;
		pgstore_conn_stats(s->conn, &st);
		snprintf(s->keys[s->count], sizeof(s->keys[0]), "%s", ch->key);
		s->read_of[s->count] = st.log_reads;
	}
	s->count++;
	snprintf(s->key, sizeof(s->key), "%s", ch->key);
	snprintf(s->gateway, sizeof(s->gateway), "%s", ch->gateway);
	snprintf(s->table, sizeof(s->table), "%s", ch->table);
	snprintf(s->op, sizeof(s->op), "%s", ch->op);
	if (s->hook_at && s->count == s->hook_at)
		sql(s->hook_pg, s->hook_sql);
}

static bool has_room(void *arg)
{
	struct seen *s = arg;

	if (s->room < 0)
		return true;
	return s->room > 0 && s->room--;
}

static void on_lost(void *arg)
{
	struct seen *s = arg;

	s->lost++;
}

static struct pgstore_conn *conn_bites(const char *info, const char *gateway, struct seen *seen,
				       uint32_t bite_rows)
{
	struct pgstore_conn_config cfg = {
		.conninfo = info,
		.gateway = gateway,
		.backoff_min_ms = 50,
		.backoff_max_ms = 400,
		.resync_ms =
			60000, /* longer than any test: reads come from NOTIFY or a reconnect */
		.on_change = on_change,
		.on_lost = on_lost,
		.has_room = has_room,
		.arg = seen,
		.bite_rows = bite_rows,
	};
	struct pgstore_conn *c;
	char msg[256];

	assert_int_equal(pgstore_conn_new(&cfg, &c, msg, sizeof(msg)), 0);
	return c;
}

static struct pgstore_conn *conn_new(const char *info, const char *gateway, struct seen *seen)
{
	return conn_bites(info, gateway, seen, 0);
}

/* One turn of an event loop: poll the socket for what it wants, up to the timeout, process. */
static void turn(struct pgstore_conn *c)
{
	bool want_write;
	int fd = pgstore_conn_fd(c, &want_write);
	int64_t timeout = pgstore_conn_timeout_ms(c, ipr_clock_ms());
	struct pollfd p = { .fd = fd, .events = want_write ? POLLOUT : POLLIN };

	if (timeout < 0 || timeout > 100)
		timeout = 100;
	(void)poll(&p, fd >= 0 ? 1 : 0, (int)timeout);
	pgstore_conn_process(c, ipr_clock_ms());
}

/* Turns the loop until cond holds, for at most 30 s. */
#define DRIVE(c, cond)                                   \
	do {                                             \
		int64_t end_ = ipr_clock_ms() + 30000;   \
		while (!(cond) && ipr_clock_ms() < end_) \
			turn(c);                         \
		assert_true(cond);                       \
	} while (0)

/* No read in flight, none due: what is written now waits for the test to turn the loop. */
#define IDLE(c) DRIVE(c, !pgstore_conn_reading(c) && pgstore_conn_timeout_ms(c, ipr_clock_ms()) > 0)

static PGconn *plain(const char *info, const char *gateway)
{
	PGconn *pg = PQconnectdb(info);
	const char *params[] = { gateway };
	PGresult *res;

	assert_int_equal(PQstatus(pg), CONNECTION_OK);
	res = PQexecParams(pg, "SELECT set_config('ipref.gateway', $1, false)", 1, NULL, params,
			   NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	return pg;
}

static void sql(PGconn *pg, const char *text)
{
	PGresult *res = PQexec(pg, text);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", text, PQerrorMessage(pg));
	PQclear(res);
}

static void bind_encoded(PGconn *pg, const char *encoded, const char *ref)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "INSERT INTO remote_mapping (kind, encoded, family, context, ref, expires, source,"
		 " created) VALUES (3, '%s', 4, '192.0.2.70', '%s', 2000000000, 'resolver', 1)",
		 encoded, ref);
	sql(pg, text);
}

/* Connects, migrates a fresh database; a second gateway finds it migrated and changes nothing. */
static void test_connect_and_migrate(void **state)
{
	struct seen seen = { .room = -1 };
	struct pgstore_conn *a = conn_new(conninfo, "gw-a", &seen);
	struct pgstore_conn *b = conn_new(conninfo, "gw-b", &seen);
	struct pgstore_conn_stats st;

	assert_int_equal(pgstore_conn_state(a), PGSTORE_DOWN);
	DRIVE(a, pgstore_conn_state(a) == PGSTORE_READY);
	assert_int_equal(pgstore_conn_version(a), pgstore_schema_version);
	DRIVE(b, pgstore_conn_state(b) == PGSTORE_READY);
	assert_int_equal(pgstore_conn_version(b), pgstore_schema_version);
	pgstore_conn_stats(a, &st);
	assert_int_equal(st.connects, 1);
	assert_int_equal(st.failures, 0);
	assert_string_equal(pgstore_conn_error(a), "");
	pgstore_conn_free(a);
	pgstore_conn_free(b);
}

/* Another gateway's binding reaches this one through NOTIFY and the change log. */
static void test_hears_other_gateway(void **state)
{
	struct seen seen = { .room = -1 };
	struct pgstore_conn *a = conn_new(conninfo, "gw-a", &seen);
	PGconn *w = plain(conninfo, "gw-w");
	struct pgstore_conn_stats st;

	DRIVE(a, pgstore_conn_state(a) == PGSTORE_READY);
	bind_encoded(w, "10.249.50.1", "1");
	DRIVE(a, seen.count == 1);
	assert_string_equal(seen.key, "10.249.50.1");
	assert_string_equal(seen.gateway, "gw-w");
	assert_string_equal(seen.table, "remote_mapping");
	assert_string_equal(seen.op, "insert");
	pgstore_conn_stats(a, &st);
	assert_true(st.notifications >= 1);
	assert_int_equal(st.changes, 1);
	PQfinish(w);
	pgstore_conn_free(a);
}

/*
 * The connection cut by the server (as a restart does): reconnects with back-off and reads what
 * changed while it was away from where it had got to.
 */
static void test_reconnect_resyncs(void **state)
{
	struct seen seen = { .room = -1 };
	struct pgstore_conn *a = conn_new(conninfo, "gw-a", &seen);
	PGconn *w = plain(conninfo, "gw-w");
	struct pgstore_conn_stats st;

	DRIVE(a, pgstore_conn_state(a) == PGSTORE_READY);
	bind_encoded(w, "10.249.50.2", "2");
	DRIVE(a, seen.count == 1 && strcmp(seen.key, "10.249.50.2") == 0);
	sql(w, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <>"
	       " pg_backend_pid() AND datname = current_database() AND backend_type ="
	       " 'client backend'");
	/* made while a's connection is gone: no NOTIFY can reach it */
	bind_encoded(w, "10.249.50.3", "3");
	sql(w, "DELETE FROM remote_mapping WHERE encoded = '10.249.50.2'");
	DRIVE(a, seen.count == 3);
	assert_string_equal(seen.key, "10.249.50.2");
	assert_string_equal(seen.op, "delete");
	pgstore_conn_stats(a, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.failures, 1);
	assert_int_equal(pgstore_conn_state(a), PGSTORE_READY);
	PQfinish(w);
	pgstore_conn_free(a);
}

/*
 * The log trimmed: rows read already are no loss; a row not read yet is, told once (on_lost,
 * none of that read's rows passed), and the reading goes on from the present; a trim of rows
 * a transaction still open holds back is a loss too, and told once only, though the open
 * transaction keeps the cursor below what the trim removed.
 */
static void test_trimmed_log(void **state)
{
	struct seen seen = { .room = -1 };
	struct pgstore_conn *a = conn_new(conninfo, "gw-a", &seen);
	PGconn *w = plain(conninfo, "gw-w");
	PGconn *h = plain(conninfo, "gw-h");
	struct pgstore_conn_stats st;
	uint64_t reads;

	assert_false(pgstore_conn_started(a));
	DRIVE(a, pgstore_conn_state(a) == PGSTORE_READY);
	assert_true(pgstore_conn_started(a));
	bind_encoded(w, "10.249.51.1", "51");
	DRIVE(a, seen.count == 1);
	sql(w, "DELETE FROM change_log");
	bind_encoded(w, "10.249.51.2", "52");
	DRIVE(a, seen.count == 2);
	assert_int_equal(seen.lost, 0);
	/*
	 * No read in flight before a rests: one the turn that brought .2 sent (a NOTIFY come
	 * meanwhile) and the server ran between .3's commit and its trim would read .3, and
	 * rightly tell no loss (CI saw it so once).
	 */
	IDLE(a);

	/* a is not turned: .3 is trimmed before a read it */
	bind_encoded(w, "10.249.51.3", "53");
	sql(w, "DELETE FROM change_log WHERE key = '10.249.51.3'");
	bind_encoded(w, "10.249.51.4", "54");
	DRIVE(a, seen.lost == 1);
	assert_int_equal(seen.count, 2); /* .4 came with the loss: the caller reloads */
	bind_encoded(w, "10.249.51.5", "55");
	DRIVE(a, seen.count == 3);
	assert_string_equal(seen.key, "10.249.51.5");
	assert_int_equal(seen.lost, 1);
	IDLE(a); /* as above */

	/* h's transaction holds the cursor back; .7, after it, is trimmed before it can be read */
	sql(h, "BEGIN");
	bind_encoded(h, "10.249.51.6", "56");
	bind_encoded(w, "10.249.51.7", "57");
	sql(w, "DELETE FROM change_log WHERE key = '10.249.51.7'");
	DRIVE(a, seen.lost == 2);
	/* a read after .8 (its NOTIFY): .8 held back too, and no loss again */
	bind_encoded(w, "10.249.51.8", "58");
	pgstore_conn_stats(a, &st);
	reads = st.log_reads;
	DRIVE(a,
	      (pgstore_conn_stats(a, &st), st.log_reads > reads && !pgstore_conn_reading(a) &&
						   pgstore_conn_timeout_ms(a, ipr_clock_ms()) > 0));
	assert_int_equal(seen.lost, 2);
	assert_int_equal(seen.count, 3);
	sql(h, "COMMIT");
	DRIVE(a, seen.count == 5 && strcmp(seen.key, "10.249.51.8") == 0);
	assert_int_equal(seen.lost, 2);
	pgstore_conn_stats(a, &st);
	assert_int_equal(st.lost, 2);
	PQfinish(h);
	PQfinish(w);
	pgstore_conn_free(a);
}

/* Binds count encoded addresses 10.249.NET.1 up (refs NET * 1000 up) in one transaction. */
static void bind_many(PGconn *pg, int net, int count)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "INSERT INTO remote_mapping (kind, encoded, family, context, ref, expires, source,"
		 " created) SELECT 3, '10.249.%d.' || g, 4, '192.0.2.71', (%d * 1000 + g)::text,"
		 " 2000000000, 'resolver', 1 FROM generate_series(1, %d) g",
		 net, net, count);
	sql(pg, text);
}

/* The changes kept were 10.249.NET.1 up to .COUNT, in order, from index first on. */
static void assert_run(const struct seen *seen, int first, int net, int count)
{
	for (int i = 0; i < count; i++) {
		char want[24];
		snprintf(want, sizeof(want), "10.249.%d.%d", net, i + 1);
		assert_string_equal(seen->keys[first + i], want);
	}
}

/*
 * Many more rows than a bite, of three transactions, come while the feed is held off (not
 * turned): each is passed once, in the order of the log (transaction, then sequence), in
 * several reads none of which returned more than the bite; this gateway's own rows, written
 * between, are never passed, and do not count against a bite.
 */
static void test_reads_in_bites(void **state)
{
	struct seen seen = { .room = -1 };
	struct pgstore_conn *a = conn_bites(conninfo, "gw-a", &seen, 10);
	PGconn *w = plain(conninfo, "gw-w");
	PGconn *own = plain(conninfo, "gw-a");
	struct pgstore_conn_stats st;
	uint64_t reads, per_read = 0, most = 0;

	seen.conn = a;
	DRIVE(a, pgstore_conn_state(a) == PGSTORE_READY);
	IDLE(a);
	pgstore_conn_stats(a, &st);
	reads = st.log_reads;
	bind_many(w, 60, 23);
	bind_many(own, 63, 12);
	bind_many(w, 61, 7);
	bind_many(w, 62, 15);
	DRIVE(a, seen.count >= 45);
	IDLE(a);
	assert_int_equal(seen.count, 45);
	assert_run(&seen, 0, 60, 23);
	assert_run(&seen, 23, 61, 7);
	assert_run(&seen, 30, 62, 15);
	for (int i = 0; i < seen.count; i++) {
		per_read = i > 0 && seen.read_of[i] == seen.read_of[i - 1] ? per_read + 1 : 1;
		most = per_read > most ? per_read : most;
	}
	pgstore_conn_stats(a, &st);
	assert_true(most <= 10);
	assert_true(st.log_reads - reads >= 5); /* 45 rows, 10 a read */
	assert_int_equal(st.changes, 45);
	assert_int_equal(seen.lost, 0);
	PQfinish(own);
	PQfinish(w);
	pgstore_conn_free(a);
}

/*
 * A trim between two bites of one catch-up: of rows read already (the first bite's), no loss,
 * every row passed; of rows not read yet, in the transaction the last bite ended in, one loss,
 * told once, the rest of that catch-up not passed, and what comes after passed again.
 */
static void test_trim_between_bites(void **state)
{
	struct seen seen = { .room = -1 };
	struct pgstore_conn *a = conn_bites(conninfo, "gw-a", &seen, 10);
	PGconn *w = plain(conninfo, "gw-w");
	PGconn *t = plain(conninfo, "");

	seen.conn = a;
	DRIVE(a, pgstore_conn_state(a) == PGSTORE_READY);
	IDLE(a);
	/* the trim runs as the first bite's last row is passed: before the next bite is asked */
	seen.hook_at = 10;
	seen.hook_pg = t;
	seen.hook_sql = "DELETE FROM change_log WHERE key IN ('10.249.64.3', '10.249.64.10')";
	bind_many(w, 64, 30);
	DRIVE(a, seen.count >= 30);
	IDLE(a);
	assert_int_equal(seen.count, 30);
	assert_int_equal(seen.lost, 0);
	assert_run(&seen, 0, 64, 30);

	seen.hook_sql = "DELETE FROM change_log WHERE key = '10.249.65.25'";
	seen.hook_at = 40;
	bind_many(w, 65, 30);
	DRIVE(a, seen.lost == 1);
	IDLE(a);
	assert_int_equal(seen.count, 40); /* the loss: the caller reloads from the tables */
	assert_int_equal(seen.lost, 1);
	bind_encoded(w, "10.249.66.1", "66001");
	DRIVE(a, seen.count == 41);
	IDLE(a);
	assert_string_equal(seen.key, "10.249.66.1");
	assert_int_equal(seen.lost, 1);
	PQfinish(t);
	PQfinish(w);
	pgstore_conn_free(a);
}

/*
 * A caller without room for another bite holds the reading back: no read is sent, none is due
 * (the caller calls again once it has room), notifications meanwhile change nothing; with room
 * again, the catch-up goes on where it stopped, nothing lost or told twice.
 */
static void test_held_for_room(void **state)
{
	struct seen seen = { .room = -1 };
	struct pgstore_conn *a = conn_bites(conninfo, "gw-a", &seen, 10);
	PGconn *w = plain(conninfo, "gw-w");
	struct pgstore_conn_stats st;
	uint64_t reads;

	seen.conn = a;
	DRIVE(a, pgstore_conn_state(a) == PGSTORE_READY);
	IDLE(a);
	seen.room = 2; /* two reads: the one the NOTIFY asks for, and the bite after it */
	bind_many(w, 70, 35);
	DRIVE(a, pgstore_conn_held(a));
	assert_int_equal(seen.count, 20); /* two full bites */
	assert_int_equal(pgstore_conn_timeout_ms(a, ipr_clock_ms()), -1);
	pgstore_conn_stats(a, &st);
	reads = st.log_reads;
	bind_encoded(w, "10.249.71.1", "71001"); /* its NOTIFY: still held */
	DRIVE(a, (pgstore_conn_stats(a, &st), st.notifications > 0 && pgstore_conn_held(a)));
	for (int i = 0; i < 5; i++)
		turn(a);
	pgstore_conn_stats(a, &st);
	assert_int_equal(st.log_reads, reads);
	assert_int_equal(seen.count, 20);
	seen.room = -1;
	pgstore_conn_process(a, ipr_clock_ms());
	assert_false(pgstore_conn_held(a));
	DRIVE(a, seen.count >= 36);
	IDLE(a);
	assert_int_equal(seen.count, 36);
	assert_run(&seen, 0, 70, 35);
	assert_string_equal(seen.keys[35], "10.249.71.1");
	assert_int_equal(seen.lost, 0);
	PQfinish(w);
	pgstore_conn_free(a);
}

/*
 * A read whose answer is all in the socket already is taken in by one call of process, not a
 * socket buffer of libpq's a call (a turn of the caller's loop each): its backend, done sending,
 * is seen idle before the call.
 */
static void test_drains_each_turn(void **state)
{
	struct seen seen = { .room = -1 };
	char info[512];
	struct pgstore_conn *a;
	PGconn *w = plain(conninfo, "gw-w");
	struct pgstore_conn_stats st;
	uint64_t reads;
	const char *activity = "SELECT 1 FROM pg_stat_activity WHERE application_name ="
			       " 'ipref-drain' AND state = 'idle' AND state_change > ";
	char text[512], since[64];
	PGresult *res;

	snprintf(info, sizeof(info), "%s application_name=ipref-drain", conninfo);
	a = conn_new(info, "gw-a", &seen);
	DRIVE(a, pgstore_conn_state(a) == PGSTORE_READY);
	IDLE(a);
	res = PQexec(w, "SELECT now()::text");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	snprintf(since, sizeof(since), "'%s'", PQgetvalue(res, 0, 0));
	PQclear(res);
	pgstore_conn_stats(a, &st);
	reads = st.log_reads;
	bind_many(w, 67, 250); /* some 25 KB of answer, more than libpq reads at once (16 KB) */
	bind_many(w, 68, 250);
	bind_many(w, 69, 250);
	DRIVE(a, (pgstore_conn_stats(a, &st), st.log_reads > reads));
	/* the answer sent whole: the backend idle since */
	snprintf(text, sizeof(text), "%s%s", activity, since);
	for (int64_t end = ipr_clock_ms() + 30000;;) {
		res = PQexec(w, text);
		assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
		int idle = PQntuples(res);
		PQclear(res);
		if (idle || ipr_clock_ms() > end)
			break;
		poll(NULL, 0, 10);
	}
	if (seen.count < 750) {
		struct pollfd p = { .fd = pgstore_conn_fd(a, &(bool){ false }), .events = POLLIN };
		assert_int_equal(poll(&p, 1, 30000), 1);
		pgstore_conn_process(a, ipr_clock_ms());
	}
	assert_int_equal(seen.count, 750);
	PQfinish(w);
	pgstore_conn_free(a);
}

/* No server: every attempt fails quickly, the waits double up to their bound, nothing blocks. */
static void test_database_away(void **state)
{
	struct seen seen = { .room = -1 };
	struct pgstore_conn *a =
		conn_new("host=/nonexistent-ipref-socket-dir dbname=x", "gw-a", &seen);
	struct pgstore_conn_stats st;
	static const int64_t expect[] = { 50, 100, 200, 400, 400, 400 };
	/* a clock of the test's own, so the waits are exact however slow the machine */
	int64_t now = 1000000;

	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		uint64_t before;
		pgstore_conn_stats(a, &st);
		before = st.failures;
		assert_int_equal(pgstore_conn_timeout_ms(a, now), 0); /* the attempt is due */
		for (int turns = 0; turns < 1000 && st.failures == before; turns++) {
			bool want_write;
			struct pollfd p = { .fd = pgstore_conn_fd(a, &want_write) };
			p.events = want_write ? POLLOUT : POLLIN;
			if (p.fd >= 0)
				(void)poll(&p, 1, 100);
			pgstore_conn_process(a, now);
			pgstore_conn_stats(a, &st);
		}
		assert_int_equal(st.failures, before + 1);
		assert_int_equal(pgstore_conn_state(a), PGSTORE_DOWN);
		assert_int_equal(pgstore_conn_fd(a, &(bool){ false }), -1);
		assert_int_equal(pgstore_conn_timeout_ms(a, now), expect[i]);
		/* nothing happens before the wait is over */
		pgstore_conn_process(a, now + expect[i] - 1);
		assert_int_equal(pgstore_conn_state(a), PGSTORE_DOWN);
		now += expect[i];
	}
	assert_non_null(strstr(pgstore_conn_error(a), "cannot connect"));
	assert_null(strchr(pgstore_conn_error(a), '\n')); /* one line for the journal */
	pgstore_conn_free(a);
}

/* Databases of other applications, and one a newer gwctld migrated: refused, left alone. */
static void test_foreign_and_newer(void **state)
{
	struct seen seen = { .room = -1 };
	PGconn *w = plain(spare_conninfo, "");
	struct pgstore_conn *a;
	struct pgstore_conn_stats st;
	char text[128];

	/* tables of someone else's, no ipref_schema: nothing is added */
	sql(w, "CREATE TABLE accounts (id integer)");
	a = conn_new(spare_conninfo, "gw-a", &seen);
	DRIVE(a, (pgstore_conn_stats(a, &st), st.failures > 0));
	assert_non_null(strstr(pgstore_conn_error(a), "holds other tables and no ipref_schema"));
	pgstore_conn_free(a);
	sql(w, "DO $$ BEGIN IF to_regclass('ipref_schema') IS NOT NULL OR"
	       " to_regclass('local_mapping') IS NOT NULL THEN"
	       " RAISE 'gwctld wrote to a database of another application'; END IF; END $$");
	sql(w, "DROP TABLE accounts");

	sql(w, "CREATE TABLE ipref_schema (application_id bigint NOT NULL, version integer NOT"
	       " NULL); INSERT INTO ipref_schema VALUES (42, 1)");
	a = conn_new(spare_conninfo, "gw-a", &seen);
	DRIVE(a, (pgstore_conn_stats(a, &st), st.failures > 0));
	assert_non_null(strstr(pgstore_conn_error(a), "not an IPREF store"));
	pgstore_conn_free(a);

	snprintf(text, sizeof(text), "UPDATE ipref_schema SET application_id = %d, version = 99",
		 SCHEMA_APPLICATION_ID);
	sql(w, text);
	a = conn_new(spare_conninfo, "gw-a", &seen);
	DRIVE(a, (pgstore_conn_stats(a, &st), st.failures > 0));
	assert_non_null(strstr(pgstore_conn_error(a), "newer than this gwctld knows"));
	pgstore_conn_free(a);
	PQfinish(w);
}

/* A conninfo libpq cannot read is a mistake in the setting, refused at once, not retried. */
static void test_bad_conninfo(void **state)
{
	static const char *const bad[] = { "host", "host='unterminated", "nosuchkey=1",
					   "postgresql://[::1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pgstore_conn_config cfg = { .conninfo = bad[i], .gateway = "gw-a" };
		struct pgstore_conn *c = (struct pgstore_conn *)&cfg;
		char msg[256] = "";

		assert_int_equal(pgstore_conn_new(&cfg, &c, msg, sizeof(msg)), -EINVAL);
		assert_null(c);
		assert_non_null(strstr(msg, "the PostgreSQL conninfo is not valid: "));
		assert_null(strchr(msg, '\n'));
	}
}

int main(void)
{
	const struct CMUnitTest with_server[] = {
		cmocka_unit_test(test_connect_and_migrate),
		cmocka_unit_test(test_hears_other_gateway),
		cmocka_unit_test(test_reconnect_resyncs),
		cmocka_unit_test(test_trimmed_log),
		cmocka_unit_test(test_reads_in_bites),
		cmocka_unit_test(test_trim_between_bites),
		cmocka_unit_test(test_held_for_room),
		cmocka_unit_test(test_drains_each_turn),
		cmocka_unit_test(test_foreign_and_newer),
	};
	const struct CMUnitTest without[] = {
		cmocka_unit_test(test_database_away),
		cmocka_unit_test(test_bad_conninfo),
	};
	int failed;

	conninfo = getenv("IPREF_PG_CONNINFO");
	spare_conninfo = getenv("IPREF_PG_CONNINFO_SPARE");
	failed = cmocka_run_group_tests_name("no server", without, NULL, NULL);
	/* the suite unit runs the rest without a server; store-pg with one */
	if (!conninfo || !spare_conninfo) {
		printf("the tests with a server run in tests/store-pg/test_conn.py\n");
		return failed;
	}
	return failed + cmocka_run_group_tests_name("with a server", with_server, NULL, NULL);
}
