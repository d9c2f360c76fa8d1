/* Answers on a PostgreSQL connection, waited for with a bound: a server that never answers costs a
 * statement, not the event loop. */
#include "pgstore_await.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "bucket.h"

/* Until the socket has data or deadline_ms passes (false then); no deadline when negative. */
static bool wait_readable(int fd, int64_t deadline_ms)
{
	for (;;) {
		int64_t left = deadline_ms < 0 ? -1 : deadline_ms - ipr_clock_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		if (deadline_ms >= 0 && left <= 0)
			return false;
		n = poll(&p, 1, (int)left);
		if (n > 0 || (n < 0 && errno != EINTR))
			return true; /* data, or an error libpq will read and report */
	}
}

static bool failed(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK;
}

/*
 * The connection shut down under libpq, which then reads its end at once, fails what was in
 * flight and marks the connection bad, so that its owner makes it again. The server, once it
 * runs again, finds the connection closed and rolls back whatever the transaction had not
 * committed.
 */
static void give_up(PGconn *pg)
{
	shutdown(PQsocket(pg), SHUT_RDWR);
	(void)PQconsumeInput(pg);
}

PGresult *pgstore_await(PGconn *pg, int sent, int wait_ms, bool *gave_up)
{
	int64_t deadline_ms = wait_ms < 0 ? -1 : ipr_clock_ms() + wait_ms;
	PGresult *kept = NULL, *res;
	bool given_up = false;

	if (!sent)
		return NULL;
	for (;;) {
		while (!given_up && PQisBusy(pg)) {
			if (!wait_readable(PQsocket(pg), deadline_ms)) {
				give_up(pg);
				given_up = true;
			} else if (!PQconsumeInput(pg)) {
				break; /* the connection broke: PQgetResult says how */
			}
		}
		res = PQgetResult(pg);
		if (!res)
			break;
		/* a string of statements: the first that failed is the answer, else the last */
		if (kept && failed(kept)) {
			PQclear(res);
		} else {
			PQclear(kept);
			kept = res;
		}
	}
	if (given_up) {
		PQclear(kept); /* answered in part at most, and the connection is gone */
		kept = NULL;
	}
	if (gave_up)
		*gave_up = given_up;
	return kept;
}
