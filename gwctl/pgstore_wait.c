/* The PostgreSQL store's answers, waited for with a bound: a server that never answers costs a
 * batch, not the loop. */
#include "pgstore_impl.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "bucket.h"
#include "log.h"

/* Until the socket has data or deadline_ms passes (false then). */
static bool wait_readable(int fd, int64_t deadline_ms)
{
	for (;;) {
		int64_t left = deadline_ms - ipr_clock_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		if (left <= 0)
			return false;
		n = poll(&p, 1, (int)left);
		if (n > 0 || (n < 0 && errno != EINTR))
			return true; /* data, or an error libpq will read and report */
	}
}

/*
 * The connection is given up: shut down under libpq, which then reads its end at once, fails
 * what was in flight and marks the connection bad, so the next statement reconnects without
 * blocking (pg_ready). The server, once it runs again, finds the connection closed and rolls
 * back whatever the transaction had not committed. A COMMIT given up on may have committed:
 * its requests were answered E_STORE all the same, and a mapping they made is found by the
 * next request for it (the unique constraints refuse a second one).
 */
static void give_up(struct pg_store *store)
{
	log_warn(
		"the PostgreSQL store: no answer within %d ms: the connection is given up and made "
		"again",
		PG_ANSWER_WAIT_MS);
	store->stats.answer_timeouts++;
	shutdown(PQsocket(store->conn), SHUT_RDWR);
	(void)PQconsumeInput(store->conn);
}

PGresult *pg_await(struct pg_store *store, int sent)
{
	int64_t deadline_ms = ipr_clock_ms() + PG_ANSWER_WAIT_MS;
	PGresult *kept = NULL, *res;
	bool gave_up = false;

	if (!sent)
		return NULL;
	for (;;) {
		while (!gave_up && PQisBusy(store->conn)) {
			if (!wait_readable(PQsocket(store->conn), deadline_ms)) {
				give_up(store);
				gave_up = true;
			} else if (!PQconsumeInput(store->conn)) {
				break; /* the connection broke: PQgetResult says how */
			}
		}
		res = PQgetResult(store->conn);
		if (!res)
			break;
		/* a string of statements: the first that failed is the answer, else the last */
		if (kept && pg_errno(kept) < 0) {
			PQclear(res);
		} else {
			PQclear(kept);
			kept = res;
		}
	}
	if (gave_up && pg_errno(kept) == 0) {
		PQclear(kept); /* answered in part, and the connection is gone with the rest */
		kept = NULL;
	}
	return kept;
}
