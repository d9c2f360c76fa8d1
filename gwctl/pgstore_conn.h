/* The PostgreSQL store's connection: connect, migrate, hear the other gateways' changes. */
#ifndef GWCTL_PGSTORE_CONN_H
#define GWCTL_PGSTORE_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * One connection of a gateway to the site's shared store (docs/store.md, "Several gateways"),
 * driven by the caller's event loop and never blocking it, but for the migrations run once
 * connected: connects from a libpq conninfo (PQconnectStart), brings the schema up to date,
 * LISTENs on ipref_changes, and reads the change log (ipref_changes_after) after every
 * notification, every resync_ms, and after every reconnect from where it had got to, so no
 * change is missed while the database was away. A read returns at most bite_rows rows; one
 * that came back full is followed by the next at once, so a long catch-up is many short reads,
 * none holding its snapshot (and vacuum) for long. A lost connection is retried with back-off
 * (doubling from backoff_min_ms to backoff_max_ms, reset once connected). When the log was
 * trimmed past rows it had not read yet (away longer than the log keeps them), or the database
 * is not the one the cursor came from, what was missed is unknown: on_lost says so, and the
 * reading goes on from the present (the caller reloads what the log describes).
 *
 * gwctld's peers feed (peers_feed.c) drives one beside the store's own connection, to tell its
 * dataplane what the other gateways changed.
 */
struct pgstore_conn;

/*
 * Rows a read of the log returns at most, unless the config says: some 200 KB of answer, taken
 * in at one turn of the loop in a few milliseconds; a catch-up of 100,000 rows is 50 reads.
 */
#define PGSTORE_BITE_ROWS 2000

/* One row of the change log: what another (or this) gateway changed; read the row for more. */
struct pgstore_change {
	int64_t seq;
	const char *gateway; /* the writer's gateway-id, "" for psql by hand */
	const char *table;   /* local_mapping, remote_mapping, quarantine */
	const char *op;	     /* insert, update, delete */
	const char *key;     /* the row's unique value: ref, encoded, value */
	/* a deleted mapping's identity (0 and "" otherwise): its row can no longer be read */
	int kind;
	int family;	     /* 4 or 6 */
	const char *address; /* local_mapping's address, remote_mapping's encoded one */
	const char *context;
	const char *ref;
};

struct pgstore_conn_config {
	const char *conninfo; /* libpq's "host=... dbname=..." or a postgresql:// URI */
	const char *gateway;  /* this gateway's id, sent as ipref.gateway */
	uint32_t backoff_min_ms;
	uint32_t backoff_max_ms;
	uint32_t resync_ms; /* read the log this often even without a notification */
	/* rows a read of the log returns at most (0: PGSTORE_BITE_ROWS); a full one asks again */
	uint32_t bite_rows;
	void (*on_change)(void *arg, const struct pgstore_change *change);
	/* rows lost before they were read (NULL: ignored); the rows of that read are not passed */
	void (*on_lost)(void *arg);
	/*
	 * Whether a bite more of on_change calls can be taken now (NULL: always), asked before
	 * each read: while not, no read is sent (pgstore_conn_held), and the caller calls
	 * pgstore_conn_process again once it has room.
	 */
	bool (*has_room)(void *arg);
	void *arg;
};

enum pgstore_state {
	PGSTORE_DOWN,	    /* waiting for the next attempt */
	PGSTORE_CONNECTING, /* the connection is being made */
	PGSTORE_READY,	    /* connected, migrated, listening */
};

struct pgstore_conn_stats {
	uint64_t connects;	/* connections made ready */
	uint64_t failures;	/* attempts that failed and connections lost */
	uint64_t notifications; /* NOTIFYs received */
	uint64_t log_reads;	/* reads of the change log (bites) */
	uint64_t full_reads;	/* of them, those that came back full: the next asked at once */
	uint64_t changes;	/* rows of it passed to on_change */
	uint64_t lost;		/* reads that found rows lost before they were read */
};

/*
 * Copies the config (its strings too); starts DOWN, with the first attempt due at once.
 * -EINVAL, with libpq's reason in msg, for a conninfo libpq cannot parse: a setting to fix,
 * not a server to wait for.
 */
IPR_MUST_CHECK int pgstore_conn_new(const struct pgstore_conn_config *config,
				    struct pgstore_conn **out, char *msg, size_t msg_size);
void pgstore_conn_free(struct pgstore_conn *c);

/*
 * What to wait for: the socket (-1 while DOWN) and whether for reading or writing, and how
 * many ms until pgstore_conn_process is due anyway (-1: only when the socket is ready; while a
 * read is in flight, when it is given up unanswered).
 */
int pgstore_conn_fd(const struct pgstore_conn *c, bool *want_write);
int64_t pgstore_conn_timeout_ms(const struct pgstore_conn *c, int64_t now_ms);
/*
 * Does what is due: the next step of connecting, reading notifications and the log's rows
 * (on_change for each). Never fails: a failure closes the connection and schedules the next
 * attempt (pgstore_conn_error says why).
 */
void pgstore_conn_process(struct pgstore_conn *c, int64_t now_ms);

enum pgstore_state pgstore_conn_state(const struct pgstore_conn *c);
/* The last failure in a sentence ("" when none since the last connect). */
const char *pgstore_conn_error(const struct pgstore_conn *c);
void pgstore_conn_stats(const struct pgstore_conn *c, struct pgstore_conn_stats *out);
/* Is a read due but held back, has_room having said no? */
bool pgstore_conn_held(const struct pgstore_conn *c);
/* Is a read of the log in flight (sent, its answer not all taken in)? */
bool pgstore_conn_reading(const struct pgstore_conn *c);
/* The schema version found or made at the last connect (0 before). */
unsigned pgstore_conn_version(const struct pgstore_conn *c);
/*
 * Has the first connect read where the log's reading starts? Every change committed after
 * that is passed to on_change (or on_lost): a copy of the tables read after it misses none.
 */
bool pgstore_conn_started(const struct pgstore_conn *c);

/*
 * Whether a connect under way may be polled now (PQconnectPoll, PQresetPoll): libpq asks to be
 * called only once the socket is ready for what the last poll said it waits for (writing, the
 * first time). Never waits. Also the store's own reconnect (pgstore_stmt.c).
 */
bool pgstore_poll_ready(PGconn *pg, PostgresPollingStatusType polling);

#endif
