/* Keeping the store's write-ahead log bounded, and saying when a reader holds it back. */
#ifndef GWCTL_STORE_WAL_H
#define GWCTL_STORE_WAL_H

#include <sqlite3.h>
#include <stdint.h>

/*
 * The WAL's bound: SQLite's journal_size_limit (a WAL that was reset is cut back to it), and
 * the size past which the daemon checkpoints and truncates the WAL itself, or finds that a
 * reader holds it back. The automatic checkpoint keeps it near 4 MiB otherwise.
 */
#define STORE_WAL_LIMIT (8 << 20)
/* The store's wait for a lock (sqlite3_busy_timeout). */
#define STORE_BUSY_MS 200
/* How often the WAL is looked at (after a commit), and a held-back WAL warned about. */
#define STORE_WAL_CHECK_MS 1000
#define STORE_WAL_WARN_MS  60000

struct store_wal {
	char *path;	       /* the database's path with "-wal" */
	int64_t next_check_ms; /* ipr_clock_ms */
	int64_t held_since_ms; /* 0: no reader holds the WAL back */
	int64_t next_warn_ms;
	uint64_t largest; /* bytes, while held */
};

/* Sets journal_size_limit on db; 0 or -ENOMEM / -EIO. */
int store_wal_init(struct store_wal *w, sqlite3 *db, const char *db_path);
void store_wal_deinit(struct store_wal *w);

/*
 * After a commit (outside any transaction), at most every STORE_WAL_CHECK_MS: a WAL past
 * STORE_WAL_LIMIT is checkpointed and truncated; when a reader keeps that from happening, a
 * warning is logged (again every STORE_WAL_WARN_MS while it lasts) and store_wal_held says so.
 * Never waits for a reader.
 */
void store_wal_after_commit(struct store_wal *w, sqlite3 *db, int64_t now_ms);

/* The WAL's size in bytes now (0 when there is none). */
uint64_t store_wal_size(const struct store_wal *w);

/* For how long (ms) a reader has held the WAL back, as of the last look; 0 when it does not. */
int64_t store_wal_held_ms(const struct store_wal *w, int64_t now_ms);

#endif
