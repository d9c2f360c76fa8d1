/* Answers on a PostgreSQL connection, waited for with a bound (pgstore_await.c). */
#ifndef GWCTL_PGSTORE_AWAIT_H
#define GWCTL_PGSTORE_AWAIT_H

#include <libpq-fe.h>
#include <stdbool.h>

/*
 * The longest gwctld's event loop waits for an answer from the database server (ms):
 * keepalived's health check (docs/store.md: every second, 2 s to answer, two failures) must
 * never fail because a shared database server hangs, or it would fail on every gateway of the
 * site at once. The store's session ends a slow statement sooner on the server's side
 * (lock_timeout, statement_timeout), with the connection kept; past this, the connection is
 * given up.
 */
#define PG_ANSWER_WAIT_MS 1500

/*
 * The answer to what was just sent on pg (sent: what PQsend* returned), waited for at most
 * wait_ms (no bound when negative: the migrations at start): the first failed result of a
 * string of statements, else the last one, for the caller to PQclear. NULL when nothing was
 * sent, or when the wait was given up: then the connection is shut down and marked bad, and
 * *gave_up (may be NULL) is set.
 */
PGresult *pgstore_await(PGconn *pg, int sent, int wait_ms, bool *gave_up);

#endif
