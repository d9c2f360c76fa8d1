/* The PostgreSQL store's migrations compiled into gwctld (generated from schema/pg/). */
#ifndef GWCTL_PGSTORE_SCHEMA_H
#define GWCTL_PGSTORE_SCHEMA_H

#include <libpq-fe.h>
#include <stddef.h>

#include "err.h"

/*
 * The site's write lock: every transaction of gwctld's that writes rows other gateways write
 * too takes it first and holds it to its end (pgstore_txn.c), a migration too, so that no
 * two lock the same rows in crossed orders. A key of its own, apart from the migrations' one
 * (the application id) and the refills' two-key locks.
 */
#define PG_WRITE_LOCK_SQL "SELECT pg_advisory_xact_lock(4950524657)"

/* pgstore_schema_migrations[i] brings a store from version i to i + 1 (schema/pg/README.md). */
extern const char *const pgstore_schema_migrations[];
extern const unsigned pgstore_schema_version;

/*
 * Brings the database of conn up to date: each migration the table ipref_schema says is not
 * applied runs in one transaction that also records it, under an advisory lock, so gateways
 * starting together migrate once. Blocks: each answer is waited for at most wait_ms, with no
 * bound when negative (at start: a migration may take a while on a large store; inside the
 * event loop, the peers feed's reconnect, which finds the schema current or gives up). Refuses,
 * with a sentence in msg, a database of another application (-EPROTO) or one a newer gwctld
 * migrated (-EPROTONOSUPPORT); -EIO when the server failed a statement or did not answer in
 * time. *version (may be NULL) is the version found or made.
 */
IPR_MUST_CHECK int pgstore_migrate(PGconn *conn, int wait_ms, unsigned *version, char *msg,
				   size_t msg_size);

#endif
