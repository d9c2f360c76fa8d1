/* Keeping the store's write-ahead log bounded, and saying when a reader holds it back. */
#ifndef GWCTL_STORE_WAL_H
#define GWCTL_STORE_WAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store_flush.h"

/*
 * SQLite starts its WAL again from the beginning (a "restart") only when a write begins with
 * every frame already copied into the database. The flusher's checkpoints run beside the
 * daemon's commits, so under a steady stream of commits they never catch up at such a moment,
 * and the WAL would grow without end. So, counted in the WAL's frames in use (SQLite's WAL hook
 * gives them after each commit), and looked at between batches, after their replies went out
 * (store_tend):
 * - past STORE_WAL_RESTART the daemon asks the flusher's checkpoint thread for a pass (the bulk
 *   of the copying, and a sync of each file). The pass's end wakes the daemon's loop
 *   (store_flush_wake_fd), which looks again at once, before its next commit. When a few frames
 *   were committed after the pass began, it asks for another (below). When a pass has left
 *   nothing, or more than a few frames, or the passes are used up, the daemon copies what is
 *   left itself (a PASSIVE checkpoint of its own: when there is anything to copy, a sync of
 *   the WAL's tail and one of the database, counted as a catch-up), then makes a write that
 *   starts the WAL again (SQLite syncs the new header then). Once every 16 MiB of commits
 *   (about 400 new names) the daemon's thread thus syncs once, 0.2-0.3 ms on this project's
 *   test machines, or three times, 3-5 ms, after a catch-up. Before 2026-12-05 it always
 *   caught up: it looked again only after its next batch, whose commit the pass had not
 *   copied. Before 2026-12-04 the daemon looked at the WAL once a second, inside a commit,
 *   and past 8 MiB copied and truncated it itself: 30-60 ms a second at 500 new names a
 *   second, in the answers' way. A larger WAL costs disk space only: readers look past the
 *   last checkpoint, never through the whole file;
 * - past STORE_WAL_LIMIT it catches up without waiting for the pass to end;
 * - past STORE_WAL_CEILING, when the flusher's pass holds the checkpoint lock (a disk slower
 *   than the commits), it waits for that pass: the one wait for the disk's pace on the
 *   daemon's thread, and only when the disk has fallen that far behind;
 * - a reader's snapshot that the WAL must keep (an open read transaction of another process)
 *   keeps any checkpoint from catching up: the daemon warns, tries again at most every
 *   STORE_WAL_CHECK_MS, and never waits for the reader; once it is gone, the daemon cuts the
 *   WAL's file to nothing (once: the reader may have made it large).
 * The file itself is never truncated while it stays under STORE_WAL_KEEP (SQLite's
 * journal_size_limit): truncating a WAL of megabytes costs tens of milliseconds on ext4.
 */
#define STORE_WAL_RESTART (16 << 20)
#define STORE_WAL_LIMIT	  (32 << 20)
#define STORE_WAL_CEILING (48 << 20)
#define STORE_WAL_KEEP	  (64 << 20)
/*
 * Another checkpoint pass is asked for when the last left at most STORE_WAL_REPASS_FRAMES
 * (commits arrive apart: the next pass is short, and likely ends before another commit), up to
 * STORE_WAL_PASSES in all; more left means commits in a steady stream, which no pass outruns:
 * the daemon copies that itself at once.
 */
#define STORE_WAL_REPASS_FRAMES 128
#define STORE_WAL_PASSES	8
/* The store's wait for a lock (sqlite3_busy_timeout). */
#define STORE_BUSY_MS 200
/* How often a WAL that a reader holds back is tried again, and warned about. */
#define STORE_WAL_CHECK_MS 1000
#define STORE_WAL_WARN_MS  60000

struct store_wal {
	char *path;	       /* the database's path with "-wal" */
	int frame_bytes;       /* a page and its frame header */
	int frames;	       /* in use after the last commit (the WAL hook) */
	int passes;	       /* checkpoint passes asked for since the last restart */
	uint64_t pass_before;  /* store_flush_checkpoints() when the last was asked */
	int64_t next_check_ms; /* ipr_clock_ms: while a reader holds the WAL back */
	int64_t held_since_ms; /* 0: no reader holds the WAL back */
	int64_t next_warn_ms;
	uint64_t restarts;  /* times the daemon let the WAL start again (counted) */
	uint64_t waits;	    /* of those, ones that waited for the flusher's pass */
	uint64_t catch_ups; /* of those, ones where it copied frames itself, and synced */
};

/*
 * Sets journal_size_limit on db and installs the WAL hook (which turns SQLite's automatic
 * checkpoints off); 0 or -ENOMEM / -EIO.
 */
int store_wal_init(struct store_wal *w, sqlite3 *db, const char *db_path);
void store_wal_deinit(struct store_wal *w);

/* Between batches (outside any transaction): the steps above. Never waits for a reader. */
void store_wal_tend(struct store_wal *w, sqlite3 *db, struct store_flush *flush, int64_t now_ms);

/* The WAL's file size in bytes now (0 when there is none). */
uint64_t store_wal_size(const struct store_wal *w);

/* For how long (ms) a reader has held the WAL back, as of the last look; 0 when it does not. */
int64_t store_wal_held_ms(const struct store_wal *w, int64_t now_ms);

#endif
