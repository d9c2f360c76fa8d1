/* Keeping the store's write-ahead log bounded, and saying when a reader holds it back. */
#include "store_wal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"

/* The longest the daemon waits past STORE_WAL_CEILING for the flusher's pass to end. */
#define CEILING_WAIT_MS 1000

/* SQLite's WAL hook, after each commit of the connection: the frames the WAL holds now. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	((struct store_wal *)arg)->frames = frames;
	return SQLITE_OK;
}

int store_wal_init(struct store_wal *w, sqlite3 *db, const char *db_path)
{
	char sql[64];
	sqlite3_stmt *st = NULL;

	memset(w, 0, sizeof(*w));
	if (asprintf(&w->path, "%s-wal", db_path) < 0) {
		w->path = NULL;
		return -ENOMEM;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -EIO;
	}
	w->frame_bytes = sqlite3_column_int(st, 0) + 24;
	sqlite3_finalize(st);
	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %d", STORE_WAL_KEEP);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	/* replaces the automatic checkpoint, which is a WAL hook too: no commit checkpoints */
	sqlite3_wal_hook(db, wal_hook, w);
	return 0;
}

void store_wal_deinit(struct store_wal *w)
{
	free(w->path);
	w->path = NULL;
}

uint64_t store_wal_size(const struct store_wal *w)
{
	struct stat st;

	if (!w->path || stat(w->path, &st) < 0)
		return 0;
	return (uint64_t)st.st_size;
}

int64_t store_wal_held_ms(const struct store_wal *w, int64_t now_ms)
{
	return w->held_since_ms ? now_ms - w->held_since_ms : 0;
}

/*
 * Copies what the WAL holds past the last checkpoint into the database, so that the next write
 * starts the WAL again: 0, -EINPROGRESS (the flusher's checkpoint holds the lock; waited for up
 * to CEILING_WAIT_MS when wait), -EBUSY (a reader's snapshot needs frames not copied) or -EIO.
 */
static int catch_up(sqlite3 *db, bool wait)
{
	const struct timespec pause = { .tv_nsec = 1000000 };
	int frames = 0, copied = 0, rc;

	for (int waited = 0;; waited++) {
		rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &frames,
					       &copied);
		if ((rc & 0xff) != SQLITE_BUSY)
			break;
		if (!wait || waited >= CEILING_WAIT_MS)
			return -EINPROGRESS;
		nanosleep(&pause, NULL);
	}
	if (rc != SQLITE_OK)
		return -EIO;
	return copied < frames ? -EBUSY : 0;
}

/*
 * Every frame is in the database: a write starts the WAL again now, and with it the sync of its
 * new header that SQLite makes, rather than in the next batch's commit, before its replies. The
 * write leaves the row as it was, but through another value: SQLite writes no page for an
 * update that rewrites a row's bytes unchanged ("SET value = value" started nothing, and the
 * next batch's commit synced the header until 2026-12-05). Its failure only leaves that sync
 * to the next commit.
 */
static void restart_now(sqlite3 *db)
{
	(void)sqlite3_exec(db,
			   "BEGIN IMMEDIATE; "
			   "UPDATE store_state SET value = -1 - value WHERE name = 'clean'; "
			   "UPDATE store_state SET value = -1 - value WHERE name = 'clean'; COMMIT",
			   NULL, NULL, NULL);
	if (!sqlite3_get_autocommit(db))
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Every frame is in the database after a reader held the WAL back: the file, perhaps grown
 * large meanwhile, is cut to nothing (a TRUNCATE checkpoint that waits for no one; if someone
 * reads the WAL right now, the file stays, and SQLite cuts it to STORE_WAL_KEEP at the next
 * restart).
 */
static void reader_gone(struct store_wal *w, sqlite3 *db)
{
	uint64_t size = store_wal_size(w);

	sqlite3_busy_timeout(db, 0);
	if (sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) ==
	    SQLITE_OK)
		w->frames = 0; /* the next write starts the WAL again (the hook says so then) */
	sqlite3_busy_timeout(db, STORE_BUSY_MS);
	log_info("store: the reader that held the write-ahead log back is gone (it had grown to "
		 "%llu KiB); it is truncated",
		 (unsigned long long)(size >> 10));
	w->held_since_ms = 0;
}

static void held_back(struct store_wal *w, int64_t now_ms, uint64_t bytes)
{
	w->next_check_ms = now_ms + STORE_WAL_CHECK_MS;
	if (!w->held_since_ms) {
		w->held_since_ms = now_ms;
		w->next_warn_ms = now_ms;
	}
	if (now_ms >= w->next_warn_ms) {
		w->next_warn_ms = now_ms + STORE_WAL_WARN_MS;
		log_warn("store: a reader holds back checkpoints of %s (%llu MiB, for %lld s): it "
			 "grows until the reader ends its transaction; inspect with short "
			 "transactions, read-only (see docs/store.md)",
			 w->path, (unsigned long long)(bytes >> 20),
			 (long long)((now_ms - w->held_since_ms) / 1000));
	}
}

static void ask_pass(struct store_wal *w, struct store_flush *flush)
{
	w->pass_before = store_flush_checkpoints(flush);
	w->passes++;
	store_flush_checkpoint(flush);
}

void store_wal_tend(struct store_wal *w, sqlite3 *db, struct store_flush *flush, int64_t now_ms)
{
	uint64_t bytes = (uint64_t)w->frames * (uint64_t)w->frame_bytes;
	int rc;

	if (bytes < STORE_WAL_RESTART) {
		w->passes = 0; /* the WAL started again since */
		return;
	}
	if (w->held_since_ms && now_ms < w->next_check_ms)
		return; /* a reader holds it back: no checkpoint gets further until it goes */
	/* the bulk of the copying and both its syncs on the flusher's thread */
	if (w->passes == 0)
		ask_pass(w, flush);
	bool ended = store_flush_checkpoints(flush) != w->pass_before;
	if (bytes < STORE_WAL_LIMIT && !ended)
		return; /* the pass has not ended yet */
	/* what the last pass left: frames committed after it began (all, when it failed) */
	int copied = ended ? store_flush_pass_copied(flush) : -1;
	int left = copied < 0 ? w->frames : w->frames - copied;
	if (left > 0 && left <= STORE_WAL_REPASS_FRAMES && w->passes < STORE_WAL_PASSES &&
	    bytes < STORE_WAL_LIMIT) {
		ask_pass(w, flush); /* copied off this thread too, and its syncs */
		return;
	}
	bool wait = bytes >= STORE_WAL_CEILING;
	rc = catch_up(db, wait);
	if (rc == 0) {
		w->restarts++;
		w->waits += wait;
		w->catch_ups += left > 0;
		if (w->held_since_ms)
			reader_gone(w, db);
		else
			restart_now(db);
		/* if the WAL could not start again (a reader came meanwhile), the next look
		 * past STORE_WAL_RESTART asks for another pass first */
		w->passes = 0;
	} else if (rc == -EBUSY) {
		held_back(w, now_ms, bytes);
	}
}
