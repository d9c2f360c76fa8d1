/* The PostgreSQL store's connection, driven by the event loop: connect, migrate, listen, resync. */
#include "pgstore_conn.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgstore_await.h"
#include "pgstore_schema.h"

/* How long one attempt to connect may take before it counts as failed. */
#define CONNECT_TIMEOUT_MS 5000
/*
 * How long a read of the log may go unanswered before the connection counts as lost: a bite
 * takes milliseconds, and a server that keeps the connection but answers nothing (frozen, its
 * storage stalled: TCP acknowledges every byte, so no TCP timer fires) would otherwise leave
 * the feed waiting, `gwctl status` saying "ready", for as long as it stays so.
 */
#define READ_ANSWER_MS 10000

/*
 * A bite of the log (ipref_changes_after, migration 13): at most $3 rows after the cursor
 * ($1, $2: transaction, sequence), not this gateway's ($4), and, on every row and read in the
 * same snapshot, the horizon (every transaction below it has ended) and how far the log was
 * trimmed (change_log_trimmed, migrations 11 and 13). A read with no change still gives one
 * row, its change's columns NULL, so that both are known. Ordered here again, by transaction
 * then seq, rather than kept by WITH ORDINALITY: that keeps PostgreSQL from inlining the
 * function, which then runs a plan made without the cursor's values (15 to 40 ms a bite of
 * a log of 100,000 rows, against 1.6 ms inlined, its index scanned from the cursor).
 */
static const char LOG_SQL[] =
	"SELECT c.txid::text, c.seq, c.gateway, c.tbl, c.op, c.key, c.kind, c.family, c.address,"
	" c.context, c.ref, h.horizon, h.trimmed, h.trimmed_seq"
	" FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon,"
	" (SELECT upto FROM change_log_trimmed)::text AS trimmed,"
	" (SELECT upto_seq FROM change_log_trimmed) AS trimmed_seq) h"
	" LEFT JOIN ipref_changes_after($1::xid8, $2::bigint, $3::integer, $4) c ON true"
	" ORDER BY c.txid, c.seq";
enum {
	COL_TXID,
	COL_SEQ,
	COL_GATEWAY,
	COL_TABLE,
	COL_OP,
	COL_KEY,
	COL_KIND,
	COL_FAMILY,
	COL_ADDRESS,
	COL_CONTEXT,
	COL_REF,
	COL_HORIZON,
	COL_TRIMMED,
	COL_TRIMMED_SEQ,
	LOG_COLUMNS
};

/* Where the first read starts, and how far the log was trimmed then (not a loss: before us). */
static const char HORIZON_SQL[] = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text,"
				  " (SELECT upto FROM change_log_trimmed)::text,"
				  " (SELECT upto_seq FROM change_log_trimmed)";

/*
 * A place in the log: a transaction and a row's sequence number in it, ordered as the log is
 * read. A cursor is the last place read (seq 0: every row of transactions below txid, none of
 * txid's own, as seq starts at 1); a trim's, the last place any trim removed.
 */
struct log_place {
	uint64_t txid;
	int64_t seq;
};

struct pgstore_conn {
	char *conninfo;
	char *gateway;
	struct pgstore_conn_config config;

	PGconn *pg;
	enum pgstore_state state;
	PostgresPollingStatusType polling; /* what PQconnectPoll waits for while CONNECTING */
	int64_t deadline_ms; /* DOWN: next attempt; CONNECTING, READY reading: give up */
	uint32_t backoff_ms;
	int64_t next_read_ms;	  /* READY: the log is read by then even without a NOTIFY */
	bool reading;		  /* a read of the log is in flight */
	bool dirty;		  /* a NOTIFY came (or a reconnect): read the log */
	bool held;		  /* a read is due, but the caller had no room: none till it has */
	bool flushing;		  /* a query is still being sent */
	bool started;		  /* the first connect read the horizon: cursor holds */
	struct log_place cursor;  /* every row up to here was read: the next read starts after */
	struct log_place trimmed; /* change_log_trimmed's value judged already */
	unsigned version;
	char error[256];
	struct pgstore_conn_stats stats;
};

/* libpq's messages span lines ("...failed\n\tIs the server running..."): one line for a log. */
static void one_line(char *text)
{
	char *w = text;

	for (const char *r = text; *r; r++) {
		bool space = *r == '\n' || *r == '\t' || *r == ' ';
		if (!space || (w > text && w[-1] != ' '))
			*w++ = space ? ' ' : *r;
	}
	while (w > text && w[-1] == ' ')
		w--;
	*w = '\0';
}

/* The conninfo as libpq reads it: a mistake in it is reported once, not retried for ever. */
static int check_conninfo(const char *conninfo, char *msg, size_t msg_size)
{
	char *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &why);

	if (!opts) {
		snprintf(msg, msg_size, "the PostgreSQL conninfo is not valid: %s",
			 why ? why : "out of memory");
		one_line(msg);
		PQfreemem(why);
		return why ? -EINVAL : -ENOMEM;
	}
	PQconninfoFree(opts);
	return 0;
}

int pgstore_conn_new(const struct pgstore_conn_config *config, struct pgstore_conn **out, char *msg,
		     size_t msg_size)
{
	struct pgstore_conn *c;
	int rc;

	*out = NULL;
	rc = check_conninfo(config->conninfo ? config->conninfo : "", msg, msg_size);
	if (rc < 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->config = *config;
	c->conninfo = strdup(config->conninfo ? config->conninfo : "");
	c->gateway = strdup(config->gateway ? config->gateway : "");
	if (!c->conninfo || !c->gateway) {
		pgstore_conn_free(c);
		return -ENOMEM;
	}
	c->config.conninfo = c->conninfo;
	c->config.gateway = c->gateway;
	if (c->config.backoff_min_ms == 0)
		c->config.backoff_min_ms = 100;
	if (c->config.backoff_max_ms < c->config.backoff_min_ms)
		c->config.backoff_max_ms = c->config.backoff_min_ms;
	if (c->config.resync_ms == 0)
		c->config.resync_ms = 1000;
	if (c->config.bite_rows == 0 || c->config.bite_rows > INT32_MAX)
		c->config.bite_rows = PGSTORE_BITE_ROWS;
	c->backoff_ms = c->config.backoff_min_ms;
	c->state = PGSTORE_DOWN;
	c->deadline_ms = 0;
	*out = c;
	return 0;
}

void pgstore_conn_free(struct pgstore_conn *c)
{
	if (!c)
		return;
	if (c->pg)
		PQfinish(c->pg);
	free(c->conninfo);
	free(c->gateway);
	free(c);
}

/*
 * Closes the connection and schedules the next attempt, doubling the wait up to its bound. A
 * reason that repeats the last one is logged at debug level only: a database away for an hour
 * is one warning, not one per attempt.
 */
static void fail(struct pgstore_conn *c, int64_t now_ms, const char *what)
{
	const char *why = c->pg ? PQerrorMessage(c->pg) : "";
	char error[sizeof(c->error)];

	snprintf(error, sizeof(error), "%s%s%s", what, *why ? ": " : "", why);
	one_line(error);
	ipr_log(strcmp(error, c->error) == 0 ? IPR_LOG_DEBUG : IPR_LOG_WARN,
		"the PostgreSQL store: %s; trying again in %u ms", error, c->backoff_ms);
	memcpy(c->error, error, sizeof(error));
	if (c->pg)
		PQfinish(c->pg);
	c->pg = NULL;
	c->state = PGSTORE_DOWN;
	c->reading = c->flushing = c->held = false;
	c->deadline_ms = now_ms + c->backoff_ms;
	c->backoff_ms = c->backoff_ms > c->config.backoff_max_ms / 2 ? c->config.backoff_max_ms
								     : c->backoff_ms * 2;
	c->stats.failures++;
}

static void start_connect(struct pgstore_conn *c, int64_t now_ms)
{
	c->pg = PQconnectStart(c->conninfo);
	if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
		fail(c, now_ms, "cannot connect");
		return;
	}
	c->state = PGSTORE_CONNECTING;
	/* libpq's contract: act as if the last poll asked to write */
	c->polling = PGRES_POLLING_WRITING;
	c->deadline_ms = now_ms + CONNECT_TIMEOUT_MS;
}

static bool exec_ok(struct pgstore_conn *c, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = pgstore_await(
		c->pg, PQsendQueryParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0),
		PG_ANSWER_WAIT_MS, NULL);
	ExecStatusType st = PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	PQclear(res);
	return ok;
}

/* An xid8 as the server writes it (NULL: 0); false for anything else. */
static bool get_xid(const PGresult *res, int row, int col, uint64_t *out)
{
	const char *text = PQgetvalue(res, row, col);
	char *end;

	*out = 0;
	if (PQgetisnull(res, row, col))
		return true;
	errno = 0;
	*out = strtoull(text, &end, 10);
	return errno == 0 && end != text && *end == '\0';
}

/* A bigint (NULL: 0); false for anything else. */
static bool get_int(const PGresult *res, int row, int col, int64_t *out)
{
	const char *text = PQgetvalue(res, row, col);
	char *end;

	*out = 0;
	if (PQgetisnull(res, row, col))
		return true;
	errno = 0;
	*out = strtoll(text, &end, 10);
	return errno == 0 && end != text && *end == '\0';
}

/* A place of the log from a transaction's column and a sequence's beside it. */
static bool get_place(const PGresult *res, int row, int col, struct log_place *out)
{
	return get_xid(res, row, col, &out->txid) && get_int(res, row, col + 1, &out->seq);
}

/* a after b in the log's order */
static bool after(struct log_place a, struct log_place b)
{
	return a.txid > b.txid || (a.txid == b.txid && a.seq > b.seq);
}

/*
 * The cursor of "from now on": every transaction older than this one's snapshot has ended, so
 * its changes are in any copy of the tables read after this (the subscribers' snapshots wait
 * for it: pgstore_conn_started).
 */
static bool read_horizon(struct pgstore_conn *c)
{
	PGresult *res =
		pgstore_await(c->pg, PQsendQuery(c->pg, HORIZON_SQL), PG_ANSWER_WAIT_MS, NULL);

	c->cursor.seq = 0;
	c->started = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		     PQnfields(res) == 3 && get_xid(res, 0, 0, &c->cursor.txid) &&
		     get_place(res, 0, 1, &c->trimmed);
	PQclear(res);
	return c->started;
}

/*
 * Connected: name the gateway for the triggers, migrate, listen; the first connect starts
 * reading the log from now (the caller loads the tables themselves, after this), a reconnect
 * from where the last read ended, so what changed meanwhile is read at once. When LISTEN
 * comes does not matter: a NOTIFY only hastens a read, and the reads go by the cursor.
 */
static void on_connected(struct pgstore_conn *c, int64_t now_ms)
{
	const char *params[] = { c->gateway };
	char msg[256];
	int rc;

	/* the migrations' IF NOT EXISTS would otherwise print notices on stderr */
	if (!exec_ok(c, "SET client_min_messages = warning", 0, NULL) ||
	    !exec_ok(c, "SELECT set_config('ipref.gateway', $1, false)", 1, params)) {
		fail(c, now_ms, "cannot set ipref.gateway");
		return;
	}
	rc = pgstore_migrate(c->pg, PG_ANSWER_WAIT_MS, &c->version, msg, sizeof(msg));
	if (rc < 0) {
		fail(c, now_ms, msg);
		return;
	}
	if (!exec_ok(c, "LISTEN ipref_changes", 0, NULL)) {
		fail(c, now_ms, "cannot LISTEN");
		return;
	}
	if (!c->started && !read_horizon(c)) {
		fail(c, now_ms, "cannot read the change log's horizon");
		return;
	}
	if (PQsetnonblocking(c->pg, 1) != 0) {
		fail(c, now_ms, "cannot make the connection non-blocking");
		return;
	}
	c->state = PGSTORE_READY;
	c->backoff_ms = c->config.backoff_min_ms;
	c->dirty = true;
	c->error[0] = '\0';
	c->stats.connects++;
	log_info("the PostgreSQL store: connected as gateway \"%s\", schema version %u", c->gateway,
		 c->version);
}

static void send_read(struct pgstore_conn *c, int64_t now_ms)
{
	char txid[24], seq[24], bite[16];
	/* not this gateway's own rows: its subscribers heard those at its commit, and a busy
	 * gateway reading back all it wrote is what made one read last minutes (BENCHMARKS.md) */
	const char *params[] = { txid, seq, bite, c->gateway };
	int flushed;

	snprintf(txid, sizeof(txid), "%" PRIu64, c->cursor.txid);
	snprintf(seq, sizeof(seq), "%" PRId64, c->cursor.seq);
	snprintf(bite, sizeof(bite), "%" PRIu32, c->config.bite_rows);
	if (!PQsendQueryParams(c->pg, LOG_SQL, 4, NULL, params, NULL, NULL, 0)) {
		fail(c, now_ms, "cannot read the change log");
		return;
	}
	flushed = PQflush(c->pg);
	if (flushed < 0) {
		fail(c, now_ms, "cannot read the change log");
		return;
	}
	c->flushing = flushed == 1;
	c->reading = true;
	c->deadline_ms = now_ms + READ_ANSWER_MS;
	c->dirty = false;
	c->next_read_ms = now_ms + c->config.resync_ms;
	c->stats.log_reads++;
}

/*
 * Lost: a trim not judged yet removed a row after the cursor, one not read (every row up to
 * the cursor was), or the horizon went back (another database behind the conninfo, a restored
 * one). Exact but for a transaction that wrote to the tables and stayed open past a trim that
 * raised change_log_trimmed above the cursor (a trim judged already, at the first connect or
 * at a loss): a later trim of that transaction's rows raises nothing.
 */
static bool lost(const struct pgstore_conn *c, uint64_t horizon, struct log_place trimmed)
{
	return (after(trimmed, c->trimmed) && after(trimmed, c->cursor)) ||
	       horizon < c->cursor.txid;
}

/*
 * Rows of one bite: each to on_change, and the cursor past them; or on_lost. A full bite ends
 * at its last row, with more to read at once; one that is not read every row below the horizon.
 */
static int take_rows(struct pgstore_conn *c, PGresult *res)
{
	int rows = PQntuples(res), taken = 0;
	uint64_t horizon;
	struct log_place trimmed, last = c->cursor;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != LOG_COLUMNS || rows < 1 ||
	    !get_xid(res, 0, COL_HORIZON, &horizon) || !get_place(res, 0, COL_TRIMMED, &trimmed))
		return -EIO;
	if (lost(c, horizon, trimmed)) {
		/* these rows are part of what changed only: the caller starts from the tables */
		c->stats.lost++;
		if (c->config.on_lost)
			c->config.on_lost(c->config.arg);
		rows = 0;
	}
	for (int i = 0; i < rows; i++) {
		if (PQgetisnull(res, i, COL_SEQ))
			continue; /* the one row of a read with no change */
		if (!get_place(res, i, COL_TXID, &last) || !after(last, c->cursor))
			return -EIO; /* the log's order, or the bite's bound, not kept */
		struct pgstore_change ch = {
			.seq = last.seq,
			.gateway = PQgetvalue(res, i, COL_GATEWAY),
			.table = PQgetvalue(res, i, COL_TABLE),
			.op = PQgetvalue(res, i, COL_OP),
			.key = PQgetvalue(res, i, COL_KEY),
			/* NULL but for a delete's old row (migration 10): 0 and "" then */
			.kind = (int)strtol(PQgetvalue(res, i, COL_KIND), NULL, 10),
			.family = (int)strtol(PQgetvalue(res, i, COL_FAMILY), NULL, 10),
			.address = PQgetvalue(res, i, COL_ADDRESS),
			.context = PQgetvalue(res, i, COL_CONTEXT),
			.ref = PQgetvalue(res, i, COL_REF),
		};
		c->cursor = last;
		taken++;
		c->stats.changes++;
		if (c->config.on_change)
			c->config.on_change(c->config.arg, &ch);
	}
	c->trimmed = trimmed;
	if (taken > (int)c->config.bite_rows)
		return -EIO;
	if (taken == (int)c->config.bite_rows) {
		/* more may wait: the next bite at once, from the last row */
		c->stats.full_reads++;
		c->dirty = true;
		return 0;
	}
	/* every transaction below the horizon has ended: its rows were among these */
	c->cursor = (struct log_place){ .txid = horizon, .seq = 0 };
	return 0;
}

static void take_notifies(struct pgstore_conn *c)
{
	PGnotify *n;

	while ((n = PQnotifies(c->pg))) {
		c->stats.notifications++;
		c->dirty = true;
		PQfreemem(n);
	}
}

/* The results of the read in flight that have come whole; false when the connection failed. */
static bool take_results(struct pgstore_conn *c, int64_t now_ms)
{
	while (c->reading && !PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);
		if (!res) {
			c->reading = false;
			break;
		}
		int rc = take_rows(c, res);
		PQclear(res);
		if (rc < 0) {
			fail(c, now_ms, "cannot read the change log");
			return false;
		}
	}
	return true;
}

/*
 * Takes in what the server sent, as long as a read is under way and more of its answer is in
 * the socket: PQconsumeInput reads one buffer of libpq's (16 KB), so a read taken in a call a
 * turn of the caller's loop would keep the backend waiting to send, its snapshot holding back
 * vacuum, for as many turns. Never waits; one bite at most a call (the next one's answer is
 * never there when the bite before completes).
 */
static void service(struct pgstore_conn *c, int64_t now_ms)
{
	do {
		if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
			fail(c, now_ms, "lost the connection");
			return;
		}
		if (c->flushing) {
			int flushed = PQflush(c->pg);
			if (flushed < 0) {
				fail(c, now_ms, "lost the connection");
				return;
			}
			c->flushing = flushed == 1;
		}
		take_notifies(c);
		if (!take_results(c, now_ms))
			return;
	} while (c->reading && pgstore_poll_ready(c->pg, PGRES_POLLING_READING));
	/* one read with the rows may have come before them: the next read tells */
	take_notifies(c);
	if (c->reading || (!c->dirty && now_ms < c->next_read_ms))
		return;
	/* a catch-up comes no faster than the caller takes it in: no bite is dropped for room */
	c->held = c->config.has_room && !c->config.has_room(c->config.arg);
	if (!c->held)
		send_read(c, now_ms);
}

bool pgstore_poll_ready(PGconn *pg, PostgresPollingStatusType polling)
{
	struct pollfd p = {
		.fd = PQsocket(pg),
		.events = polling == PGRES_POLLING_WRITING ? POLLOUT : POLLIN,
	};

	if (p.fd < 0)
		return true; /* no socket yet: the poll makes the next one */
	return poll(&p, 1, 0) > 0;
}

void pgstore_conn_process(struct pgstore_conn *c, int64_t now_ms)
{
	switch (c->state) {
	case PGSTORE_DOWN:
		if (now_ms >= c->deadline_ms)
			start_connect(c, now_ms);
		break;
	case PGSTORE_CONNECTING:
		if (!pgstore_poll_ready(c->pg, c->polling)) {
			if (now_ms >= c->deadline_ms)
				fail(c, now_ms, "timed out connecting");
			break;
		}
		c->polling = PQconnectPoll(c->pg);
		if (c->polling == PGRES_POLLING_FAILED)
			fail(c, now_ms, "cannot connect");
		else if (c->polling == PGRES_POLLING_OK)
			on_connected(c, now_ms);
		else if (now_ms >= c->deadline_ms)
			fail(c, now_ms, "timed out connecting");
		break;
	case PGSTORE_READY:
		service(c, now_ms);
		if (c->state == PGSTORE_READY && c->reading && now_ms >= c->deadline_ms)
			fail(c, now_ms, "no answer to a read of the change log");
		break;
	}
}

int pgstore_conn_fd(const struct pgstore_conn *c, bool *want_write)
{
	*want_write = false;
	if (c->state == PGSTORE_DOWN || !c->pg)
		return -1;
	if (c->state == PGSTORE_CONNECTING)
		*want_write = c->polling == PGRES_POLLING_WRITING;
	else
		*want_write = c->flushing;
	return PQsocket(c->pg);
}

int64_t pgstore_conn_timeout_ms(const struct pgstore_conn *c, int64_t now_ms)
{
	int64_t due;

	switch (c->state) {
	case PGSTORE_DOWN:
	case PGSTORE_CONNECTING:
		due = c->deadline_ms;
		break;
	case PGSTORE_READY:
		if (c->reading) {
			due = c->deadline_ms;
			break;
		}
		if (c->held)
			return -1; /* the caller calls again once it has room */
		due = c->dirty ? now_ms : c->next_read_ms;
		break;
	default:
		return -1;
	}
	return due > now_ms ? due - now_ms : 0;
}

enum pgstore_state pgstore_conn_state(const struct pgstore_conn *c)
{
	return c->state;
}

const char *pgstore_conn_error(const struct pgstore_conn *c)
{
	return c->error;
}

void pgstore_conn_stats(const struct pgstore_conn *c, struct pgstore_conn_stats *out)
{
	*out = c->stats;
}

unsigned pgstore_conn_version(const struct pgstore_conn *c)
{
	return c->version;
}

bool pgstore_conn_held(const struct pgstore_conn *c)
{
	return c->state == PGSTORE_READY && c->held;
}

bool pgstore_conn_reading(const struct pgstore_conn *c)
{
	return c->state == PGSTORE_READY && c->reading;
}

bool pgstore_conn_started(const struct pgstore_conn *c)
{
	return c->started;
}
