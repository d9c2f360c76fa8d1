/* Keeping the store's write-ahead log bounded, and saying when a reader holds it back. */
#include "store_wal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

int store_wal_init(struct store_wal *w, sqlite3 *db, const char *db_path)
{
	char sql[64];

	memset(w, 0, sizeof(*w));
	if (asprintf(&w->path, "%s-wal", db_path) < 0) {
		w->path = NULL;
		return -ENOMEM;
	}
	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %d", STORE_WAL_LIMIT);
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
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

/* Copies the WAL into the database and cuts it to nothing, unless a reader needs it. */
static int truncate_wal(sqlite3 *db)
{
	int frames = 0, copied = 0, rc;

	rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
	if (rc != SQLITE_OK)
		return -EIO;
	if (copied < frames)
		return -EBUSY; /* a reader's snapshot still needs the frames past copied */
	/* every frame is in the database; a reader may still be reading the WAL, and a truncation
	 * would wait for it under the busy timeout: do not wait at all */
	sqlite3_busy_timeout(db, 0);
	rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_busy_timeout(db, STORE_BUSY_MS);
	if ((rc & 0xff) == SQLITE_BUSY)
		return -EBUSY;
	return rc == SQLITE_OK ? 0 : -EIO;
}

void store_wal_after_commit(struct store_wal *w, sqlite3 *db, int64_t now_ms)
{
	uint64_t size;
	int rc;

	if (now_ms < w->next_check_ms)
		return;
	w->next_check_ms = now_ms + STORE_WAL_CHECK_MS;
	size = store_wal_size(w);
	/* small enough, or made so now: a reader that held it back is gone */
	rc = size <= STORE_WAL_LIMIT ? 0 : truncate_wal(db);
	if (rc == 0) {
		if (w->held_since_ms)
			log_info("store: the reader that held the write-ahead log back is gone "
				 "(it had grown to %llu KiB); it is truncated",
				 (unsigned long long)(size >> 10));
		w->held_since_ms = 0;
		return;
	}
	if (rc != -EBUSY)
		return; /* an I/O error: the next commit will say more */
	if (!w->held_since_ms) {
		w->held_since_ms = now_ms;
		w->next_warn_ms = now_ms;
	}
	if (now_ms >= w->next_warn_ms) {
		w->next_warn_ms = now_ms + STORE_WAL_WARN_MS;
		log_warn("store: a reader holds back checkpoints of %s (%llu MiB, for %lld s): it "
			 "grows until the reader ends its transaction; inspect with short "
			 "transactions, read-only (see docs/store.md)",
			 w->path, (unsigned long long)(size >> 20),
			 (long long)((now_ms - w->held_since_ms) / 1000));
	}
}
