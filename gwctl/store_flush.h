/* Flushing the store's write-ahead log to disk from a thread of its own, off the answer's path. */
#ifndef GWCTL_STORE_FLUSH_H
#define GWCTL_STORE_FLUSH_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/*
 * Commits are numbered by the store (generations). A flush syncs the WAL, through SQLite's own
 * file object so that a test VFS sees it; once it returns, every commit made before it began is
 * on disk. done is the last generation known to be on disk.
 */
struct store_flush {
	pthread_t thread, checkpoint_thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, checkpoint_wake;
	bool checkpoint_due;   /* under lock: the daemon asked for a checkpoint pass */
	uint64_t checkpoints;  /* atomic: checkpoint passes ended */
	int pass_copied;       /* atomic: the WAL's frames in the database after the last pass */
	int wake_fd;	       /* an eventfd, written when a checkpoint pass ends */
	sqlite3_file *wal;     /* the connection's WAL file object */
	sqlite3 *checkpointer; /* a connection of the thread's own, for checkpoints */
	uint64_t wanted;       /* under lock */
	uint64_t done;	       /* atomic */
	uint64_t flushes;      /* atomic: syncs made */
	uint64_t failures;     /* atomic: syncs that failed (the next one retries) */
	bool stop, running;
};

/*
 * Starts the thread for the daemon's connection db to the database at path, and a second one
 * that checkpoints the WAL into the database when asked (store_flush_checkpoint), on a
 * connection of its own, so that the daemon's commits never do (store_wal.h turns their
 * automatic checkpoints off, and asks for a pass when the WAL is due to start again).
 */
IPR_MUST_CHECK int store_flush_start(struct store_flush *f, sqlite3 *db, const char *path);
void store_flush_stop(struct store_flush *f);
/* Asks for a flush of every commit up to generation gen; returns at once. */
void store_flush_request(struct store_flush *f, uint64_t gen);
/* Syncs now, on the caller's thread (the rare path that must not wait for the flusher). */
IPR_MUST_CHECK int store_flush_now(struct store_flush *f, uint64_t gen);
uint64_t store_flush_done(const struct store_flush *f);
/* Asks for a checkpoint pass now; returns at once. */
void store_flush_checkpoint(struct store_flush *f);
/* How many checkpoint passes have ended (a pass asked for after this was read ends later). */
uint64_t store_flush_checkpoints(const struct store_flush *f);
/*
 * How many of the WAL's frames were in the database when the last pass ended (-1 when it
 * failed); read after store_flush_checkpoints said that pass ended.
 */
int store_flush_pass_copied(const struct store_flush *f);
/*
 * A descriptor that becomes readable when a checkpoint pass ends, so that the daemon's loop
 * starts the WAL again at once, before its next commit leaves it frames to copy (store_wal.h);
 * the loop reads it empty. -1 when the threads are not running.
 */
int store_flush_wake_fd(const struct store_flush *f);

#endif
