/* The PostgreSQL engine's refills on a thread and a connection of their own (pgstore_refill.h). */
#include "pgstore_refill.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "log.h"
#include "pgstore_impl.h"

/* After a failed connect, jobs fail at once for this long (ms) rather than each try again. */
#define RETRY_MS 1000
/* How often a connect under way looks whether the daemon is stopping (ms). */
#define STOP_CHECK_MS 100

/* The session of the refills' connection: the store's bounds, and commits that wait for the disk
 * (a refill's values are usable once on disk: pgstore_txn.c's SYNC_HERE, for a whole session). */
static const char session_sql[] = "SET client_min_messages = warning;"
				  " SET synchronous_commit = on;"
				  " SET statement_timeout = " PG_STATEMENT_TIMEOUT ";"
				  " SET lock_timeout = " PG_LOCK_TIMEOUT ";"
				  " SET idle_in_transaction_session_timeout = '2s'";

/* Values drawn by the daemon, waiting for a job: pool[k] names the pool of each value. */
struct refill_batch {
	char pools[PG_REFILL_POOLS][PG_POOL_TEXT_MAX];
	size_t npools;
	struct {
		uint8_t pool;
		char value[PG_POOL_TEXT_MAX];
	} item[PG_REFILL_PENDING_MAX];
	size_t n;
	int64_t now;
};

struct pg_refiller {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;		      /* under lock */
	bool in_flight;		      /* under lock: the thread runs a job */
	struct refill_batch *pending; /* under lock: filled by the daemon's thread */
	struct refill_batch *working; /* the refill thread's, outside the lock */
	struct pg_refill_result done; /* under lock: jobs finished, not yet collected */
	/* the refill thread's own */
	PGconn *conn;
	int64_t retry_ms;
	char array[PG_ADD_MANY_TEXT];
	char conninfo[];
};

_Static_assert(sizeof(((struct pg_refill_result *)0)->pool[0].pool) == PG_POOL_TEXT_MAX,
	       "a result's pool holds what a pool's name may be");

/* libpq's message up to its first line break (it ends in one), or a word when it is empty. */
static const char *first_line(char *message)
{
	const char *line = message ? strtok(message, "\n") : NULL;

	return line ? line : "no answer";
}

static bool stopping(struct pg_refiller *r)
{
	pthread_mutex_lock(&r->lock);
	bool stop = r->stop;
	pthread_mutex_unlock(&r->lock);
	return stop;
}

/* A connection made without blocking past PG_CONNECT_MS or a stop; NULL when none was made. */
static PGconn *connect_polled(struct pg_refiller *r)
{
	int64_t deadline = ipr_clock_ms() + PG_CONNECT_MS;
	PGconn *c = pg_connect_start(r->conninfo);
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	if (!c || PQstatus(c) == CONNECTION_BAD)
		goto failed;
	while (st != PGRES_POLLING_OK) {
		struct pollfd p = { .fd = PQsocket(c),
				    .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT };

		if (st == PGRES_POLLING_FAILED || ipr_clock_ms() >= deadline || stopping(r))
			goto failed;
		if (poll(&p, 1, STOP_CHECK_MS) > 0)
			st = PQconnectPoll(c);
	}
	return c;
failed:
	log_warn("store: the reserve's refills cannot connect to PostgreSQL: %s",
		 c ? first_line(PQerrorMessage(c)) : "out of memory");
	PQfinish(c);
	return NULL;
}

/* One statement on the refills' connection, its answer waited for with the store's bound. */
static PGresult *run(struct pg_refiller *r, const char *sql, int n, const char *const *params)
{
	int sent = n ? PQsendQueryParams(r->conn, sql, n, NULL, params, NULL, NULL, 0)
		     : PQsendQuery(r->conn, sql);
	PGresult *res = pgstore_await(r->conn, sent, PG_ANSWER_WAIT_MS, NULL);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	log_warn("store: a refill of the reserve failed: %s", first_line(PQerrorMessage(r->conn)));
	PQclear(res);
	return NULL;
}

static bool run_ok(struct pg_refiller *r, const char *sql, int n, const char *const *params)
{
	PGresult *res = run(r, sql, n, params);

	PQclear(res);
	return res != NULL;
}

static bool ready(struct pg_refiller *r, const char *gateway)
{
	const char *params[] = { gateway };

	if (r->conn && PQstatus(r->conn) == CONNECTION_OK)
		return true;
	PQfinish(r->conn);
	r->conn = NULL;
	if (ipr_clock_ms() < r->retry_ms)
		return false;
	r->conn = connect_polled(r);
	if (r->conn && run_ok(r, session_sql, 0, NULL) &&
	    run_ok(r, "SELECT set_config('ipref.gateway', $1, false)", 1, params))
		return true;
	PQfinish(r->conn);
	r->conn = NULL;
	r->retry_ms = ipr_clock_ms() + RETRY_MS;
	return false;
}

/* The values of pool k from item *next on, up to PG_ADD_MANY_MAX, as an array's text. */
static size_t next_array(struct pg_refiller *r, const struct refill_batch *b, uint8_t k,
			 size_t *next)
{
	const char *values[PG_ADD_MANY_MAX];
	size_t taken = 0;

	for (; *next < b->n && taken < PG_ADD_MANY_MAX; (*next)++) {
		if (b->item[*next].pool == k)
			values[taken++] = b->item[*next].value;
	}
	return pg_values_text(values, taken, r->array, sizeof(r->array)) == 0 ? taken : 0;
}

/*
 * One job: every value of b added in one transaction, committed synchronously, so that each is
 * on disk before the daemon can take it (seq 0: usable at once). The site's write lock is not
 * taken: a refill writes only this gateway's new reserve rows, and a value another gateway's
 * refill is adding is skipped (pg_try_advisory_xact_lock), so it crosses no one's row locks.
 * added[k]: what pool k got; false when the job failed (nothing added then).
 */
static bool run_job(struct pg_refiller *r, const struct refill_batch *b, const char *gateway,
		    uint64_t added[PG_REFILL_POOLS])
{
	char now[PG_INT_TEXT];
	const char *params[] = { r->array, NULL, "0", pg_int(now, b->now), gateway };
	const char *sql = pg_stmt_text(PST_RESERVE_ADD_MANY);

	if (!ready(r, gateway) || !run_ok(r, "BEGIN", 0, NULL))
		goto failed;
	for (uint8_t k = 0; k < b->npools; k++) {
		params[1] = b->pools[k];
		for (size_t next = 0; next < b->n;) {
			PGresult *res;

			if (next_array(r, b, k, &next) == 0)
				continue; /* none left of this pool */
			res = run(r, sql, 5, params);
			if (!res)
				goto failed;
			added[k] += strtoull(PQcmdTuples(res), NULL, 10);
			PQclear(res);
		}
	}
	if (run_ok(r, "COMMIT", 0, NULL))
		return true;
failed:
	/* a connection that failed a statement is made again, and what it held rolled back */
	PQfinish(r->conn);
	r->conn = NULL;
	return false;
}

static void record(struct pg_refiller *r, const struct refill_batch *b, bool ok,
		   const uint64_t added[PG_REFILL_POOLS])
{
	struct pg_refill_result *d = &r->done;

	d->failures += !ok;
	for (size_t k = 0; k < b->npools; k++) {
		size_t i = 0, posted = 0;

		for (size_t j = 0; j < b->n; j++)
			posted += b->item[j].pool == k;
		while (i < d->pools && strcmp(d->pool[i].pool, b->pools[k]) != 0)
			i++;
		if (i == PG_REFILL_POOLS)
			continue; /* cannot be: a job has PG_REFILL_POOLS pools at most, and so has
				     d */
		if (i == d->pools) {
			memcpy(d->pool[i].pool, b->pools[k], sizeof(d->pool[i].pool));
			d->pool[i].posted = d->pool[i].added = 0;
			d->pools++;
		}
		d->pool[i].posted += posted;
		if (ok) {
			d->pool[i].added += added[k];
			d->added += added[k];
		}
	}
}

struct thread_arg {
	struct pg_refiller *r;
	char gateway[PG_GATEWAY_MAX];
};

static void *refill_thread(void *arg)
{
	struct thread_arg *t = arg;
	struct pg_refiller *r = t->r;

	(void)ready(r, t->gateway); /* at once: the first refill need not wait for a connect */
	pthread_mutex_lock(&r->lock);
	for (;;) {
		uint64_t added[PG_REFILL_POOLS] = { 0 };
		struct refill_batch *b;
		bool ok;

		while (!r->stop && r->pending->n == 0)
			pthread_cond_wait(&r->wake, &r->lock);
		if (r->stop)
			break;
		b = r->pending; /* the daemon fills the other meanwhile */
		r->pending = r->working;
		r->working = b;
		r->in_flight = true;
		pthread_mutex_unlock(&r->lock);
		ok = run_job(r, b, t->gateway, added);
		pthread_mutex_lock(&r->lock);
		record(r, b, ok, added);
		b->n = b->npools = 0;
		r->in_flight = false;
	}
	pthread_mutex_unlock(&r->lock);
	PQfinish(r->conn);
	r->conn = NULL;
	free(t);
	return NULL;
}

int pg_refiller_start(const char *conninfo, const char *gateway, struct pg_refiller **out)
{
	size_t len = strlen(conninfo) + 1;
	struct pg_refiller *r = calloc(1, sizeof(*r) + len);
	struct thread_arg *t = calloc(1, sizeof(*t));
	int rc = -ENOMEM;

	if (!r || !t)
		goto out;
	r->pending = calloc(1, sizeof(*r->pending));
	r->working = calloc(1, sizeof(*r->working));
	if (!r->pending || !r->working)
		goto out;
	memcpy(r->conninfo, conninfo, len);
	t->r = r;
	snprintf(t->gateway, sizeof(t->gateway), "%s", gateway);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	/* signals are the daemon's loop's (signalfd): none may land on this thread */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = -pthread_create(&r->thread, NULL, refill_thread, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0) {
		*out = r;
		return 0;
	}
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
out:
	if (r) {
		free(r->pending);
		free(r->working);
	}
	free(r);
	free(t);
	return rc;
}

void pg_refiller_stop(struct pg_refiller *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->pending);
	free(r->working);
	free(r);
}

int pg_refiller_post(struct pg_refiller *r, const char *pool, const char *const *values, size_t n,
		     int64_t now)
{
	struct refill_batch *b;
	size_t k;
	int rc = -EBUSY;

	if (strlen(pool) >= PG_POOL_TEXT_MAX)
		return -EBUSY;
	for (size_t i = 0; i < n; i++) {
		if (strlen(values[i]) >= PG_POOL_TEXT_MAX)
			return -EBUSY;
	}
	pthread_mutex_lock(&r->lock);
	b = r->pending;
	for (k = 0; k < b->npools && strcmp(b->pools[k], pool) != 0; k++)
		;
	if (b->n + n <= PG_REFILL_PENDING_MAX && k < PG_REFILL_POOLS) {
		if (k == b->npools)
			memcpy(b->pools[b->npools++], pool, strlen(pool) + 1);
		for (size_t i = 0; i < n; i++) {
			b->item[b->n].pool = (uint8_t)k;
			memcpy(b->item[b->n].value, values[i], strlen(values[i]) + 1);
			b->n++;
		}
		b->now = now;
		pthread_cond_signal(&r->wake);
		rc = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void pg_refiller_collect(struct pg_refiller *r, struct pg_refill_result *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->done;
	out->idle = !r->in_flight && r->pending->n == 0;
	memset(&r->done, 0, sizeof(r->done));
	pthread_mutex_unlock(&r->lock);
}
