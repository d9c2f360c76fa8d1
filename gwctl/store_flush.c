/* The flusher thread: syncs the write-ahead log that commits with synchronous=NORMAL leave. */
#include "store_flush.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*
 * Syncs the WAL through the connection's own file object, found once on the daemon's thread
 * (the connection itself is never touched here). Only the sync runs on this thread, beside the
 * writer's appends: an fsync of the descriptor, which lives as long as the connection.
 */
static int sync_wal(sqlite3_file *wal)
{
	if (!wal || !wal->pMethods)
		return 0; /* no WAL open: every commit is in the database file, synced at checkpoint
			   */
	return wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) == SQLITE_OK ? 0 : -EIO;
}

static void finish(struct store_flush *f, uint64_t gen, int rc)
{
	if (rc < 0) {
		__atomic_add_fetch(&f->failures, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_add_fetch(&f->flushes, 1, __ATOMIC_RELAXED);
	uint64_t done = __atomic_load_n(&f->done, __ATOMIC_ACQUIRE);
	while (done < gen && !__atomic_compare_exchange_n(&f->done, &done, gen, false,
							  __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
		;
}

static void *flusher(void *arg)
{
	struct store_flush *f = arg;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->stop && f->wanted <= store_flush_done(f))
			pthread_cond_wait(&f->wake, &f->lock);
		if (f->stop)
			break;
		uint64_t gen = f->wanted;
		pthread_mutex_unlock(&f->lock);
		int rc = sync_wal(f->wal);
		finish(f, gen, rc);
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/*
 * Checkpoints on a thread of their own, when the daemon asks (store_wal.h: once the WAL has
 * grown past STORE_WAL_RESTART): copying the WAL into the database and syncing both can take
 * long on a busy disk, and neither a flush nor an answer may wait for that. A PASSIVE
 * checkpoint takes no lock a writer needs. Not after every flush, as before: a checkpoint that
 * caught up with an idle WAL made the next write start the WAL again, and SQLite syncs the
 * new header of a WAL started again in the commit that does it, an answer's.
 */
static void *checkpointer(void *arg)
{
	struct store_flush *f = arg;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->stop && !f->checkpoint_due)
			pthread_cond_wait(&f->checkpoint_wake, &f->lock);
		if (f->stop)
			break;
		f->checkpoint_due = false;
		pthread_mutex_unlock(&f->lock);
		int frames = -1, copied = -1;
		if (sqlite3_wal_checkpoint_v2(f->checkpointer, "main", SQLITE_CHECKPOINT_PASSIVE,
					      &frames, &copied) != SQLITE_OK)
			copied = -1;
		__atomic_store_n(&f->pass_copied, copied, __ATOMIC_RELAXED);
		__atomic_add_fetch(&f->checkpoints, 1, __ATOMIC_RELEASE);
		const uint64_t one = 1;
		/* fails only when the counter is full: the loop has a wake-up pending anyway */
		(void)!write(f->wake_fd, &one, sizeof(one));
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* What a start that failed had opened, closed; returns rc. */
static int unstarted(struct store_flush *f, int rc)
{
	sqlite3_close(f->checkpointer);
	f->checkpointer = NULL;
	if (f->wake_fd >= 0)
		close(f->wake_fd);
	f->wake_fd = -1;
	return rc;
}

int store_flush_start(struct store_flush *f, sqlite3 *db, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->wake_fd = -1;
	/* the connection has read the database, so its WAL is open: the pointer stays valid */
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f->wal) != SQLITE_OK)
		return -EIO;
	f->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->wake_fd < 0)
		return unstarted(f, -errno);
	if (sqlite3_open_v2(path, &f->checkpointer, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(f->checkpointer, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) !=
		    SQLITE_OK)
		return unstarted(f, -EIO);
	sqlite3_busy_timeout(f->checkpointer, 100);
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->wake, NULL);
	pthread_cond_init(&f->checkpoint_wake, NULL);
	/* signals are the daemon's loop's (signalfd): none may land on these threads */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&f->thread, NULL, flusher, f);
	if (rc == 0 && pthread_create(&f->checkpoint_thread, NULL, checkpointer, f) != 0) {
		pthread_mutex_lock(&f->lock);
		f->stop = true;
		pthread_cond_signal(&f->wake);
		pthread_mutex_unlock(&f->lock);
		pthread_join(f->thread, NULL);
		rc = -1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&f->checkpoint_wake);
		pthread_cond_destroy(&f->wake);
		pthread_mutex_destroy(&f->lock);
		return unstarted(f, -EAGAIN);
	}
	f->running = true;
	return 0;
}

void store_flush_stop(struct store_flush *f)
{
	if (!f->running)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_cond_signal(&f->wake);
	pthread_cond_signal(&f->checkpoint_wake);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	pthread_join(f->checkpoint_thread, NULL);
	pthread_cond_destroy(&f->checkpoint_wake);
	sqlite3_close(f->checkpointer); /* before the daemon's own: the last one checkpoints */
	f->checkpointer = NULL;
	close(f->wake_fd);
	f->wake_fd = -1;
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->wake);
	f->running = false;
}

void store_flush_request(struct store_flush *f, uint64_t gen)
{
	if (gen <= store_flush_done(f))
		return;
	pthread_mutex_lock(&f->lock);
	if (gen > f->wanted) {
		f->wanted = gen;
		pthread_cond_signal(&f->wake);
	}
	pthread_mutex_unlock(&f->lock);
}

int store_flush_now(struct store_flush *f, uint64_t gen)
{
	int rc = sync_wal(f->wal);

	finish(f, gen, rc);
	return rc;
}

uint64_t store_flush_done(const struct store_flush *f)
{
	return __atomic_load_n(&f->done, __ATOMIC_ACQUIRE);
}

void store_flush_checkpoint(struct store_flush *f)
{
	if (!f->running)
		return;
	pthread_mutex_lock(&f->lock);
	f->checkpoint_due = true;
	pthread_cond_signal(&f->checkpoint_wake);
	pthread_mutex_unlock(&f->lock);
}

uint64_t store_flush_checkpoints(const struct store_flush *f)
{
	return __atomic_load_n(&f->checkpoints, __ATOMIC_ACQUIRE);
}

int store_flush_pass_copied(const struct store_flush *f)
{
	return __atomic_load_n(&f->pass_copied, __ATOMIC_RELAXED);
}

int store_flush_wake_fd(const struct store_flush *f)
{
	return f->running ? f->wake_fd : -1;
}
