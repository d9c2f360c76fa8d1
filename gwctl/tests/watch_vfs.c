/* The watch VFS: every call goes to the real one; a few are counted on the way. */
#include "watch_vfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

struct watch_file {
	sqlite3_file base;
	int is_wal;
	sqlite3_int64 size; /* the file's size as its writes and truncations made it */
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs watch_vfs;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* the flusher's threads write too */
static pthread_t watched;
static int watching;
static struct watch_counts counts;

/* Under the lock: the flusher's threads ask while the test may be choosing its thread. */
static int by_watched(void)
{
	pthread_mutex_lock(&lock);
	int yes = watching && pthread_equal(pthread_self(), watched);
	pthread_mutex_unlock(&lock);
	return yes;
}

static struct watch_file *of(sqlite3_file *file)
{
	return (struct watch_file *)file;
}

static void sized(struct watch_file *f, sqlite3_int64 size, int grow_only)
{
	pthread_mutex_lock(&lock);
	if (!grow_only || size > f->size)
		f->size = size;
	if (f->is_wal && (uint64_t)f->size > counts.wal_peak)
		counts.wal_peak = (uint64_t)f->size;
	pthread_mutex_unlock(&lock);
}

static int w_close(sqlite3_file *file)
{
	return of(file)->real->pMethods ? of(file)->real->pMethods->xClose(of(file)->real)
					: SQLITE_OK;
}

static int w_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
	return of(file)->real->pMethods->xRead(of(file)->real, buf, amt, off);
}

static int refuse_commit_rewrite;

/* A WAL frame's header (24 bytes) whose database size, bytes 4-7, marks a commit. */
static int commit_header(const void *buf, int amt)
{
	const unsigned char *h = buf;

	return amt == 24 && (h[4] | h[5] | h[6] | h[7]) != 0;
}

static int w_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
	struct watch_file *f = of(file);

	if (f->is_wal && commit_header(buf, amt) && off + amt <= f->size &&
	    __atomic_exchange_n(&refuse_commit_rewrite, 0, __ATOMIC_RELAXED))
		return SQLITE_IOERR_WRITE;
	int rc = f->real->pMethods->xWrite(f->real, buf, amt, off);

	if (rc == SQLITE_OK) {
		if (f->is_wal)
			__atomic_add_fetch(&counts.wal_written, (uint64_t)amt, __ATOMIC_RELAXED);
		sized(f, off + amt, 1);
	}
	return rc;
}

static int w_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct watch_file *f = of(file);

	sqlite3_int64 before = 0;

	/* SQLite also "truncates" a database to the size it has after a whole checkpoint */
	f->real->pMethods->xFileSize(f->real, &before);
	if (by_watched() && size < before)
		__atomic_add_fetch(&counts.truncations, 1, __ATOMIC_RELAXED);
	int rc = f->real->pMethods->xTruncate(f->real, size);
	if (rc == SQLITE_OK)
		sized(f, size, 0);
	return rc;
}

static int w_sync(sqlite3_file *file, int flags)
{
	if (by_watched())
		__atomic_add_fetch(&counts.syncs, 1, __ATOMIC_RELAXED);
	return of(file)->real->pMethods->xSync(of(file)->real, flags);
}

static int w_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	return of(file)->real->pMethods->xFileSize(of(file)->real, size);
}

static int w_lock(sqlite3_file *file, int level)
{
	return of(file)->real->pMethods->xLock(of(file)->real, level);
}

static int w_unlock(sqlite3_file *file, int level)
{
	return of(file)->real->pMethods->xUnlock(of(file)->real, level);
}

static int w_check_reserved(sqlite3_file *file, int *out)
{
	return of(file)->real->pMethods->xCheckReservedLock(of(file)->real, out);
}

static int w_file_control(sqlite3_file *file, int op, void *arg)
{
	return of(file)->real->pMethods->xFileControl(of(file)->real, op, arg);
}

static int w_sector_size(sqlite3_file *file)
{
	return of(file)->real->pMethods->xSectorSize(of(file)->real);
}

static int w_device(sqlite3_file *file)
{
	return of(file)->real->pMethods->xDeviceCharacteristics(of(file)->real);
}

static int w_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **pp)
{
	return of(file)->real->pMethods->xShmMap(of(file)->real, region, size, extend, pp);
}

static int w_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	return of(file)->real->pMethods->xShmLock(of(file)->real, offset, n, flags);
}

static void w_shm_barrier(sqlite3_file *file)
{
	of(file)->real->pMethods->xShmBarrier(of(file)->real);
}

static int w_shm_unmap(sqlite3_file *file, int delete_flag)
{
	return of(file)->real->pMethods->xShmUnmap(of(file)->real, delete_flag);
}

/* No memory-mapped reads: every page goes through xRead, as gwctld's store reads them. */
static int w_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **pp)
{
	(void)file;
	(void)off;
	(void)amt;
	*pp = NULL;
	return SQLITE_OK;
}

static int w_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	(void)file;
	(void)off;
	(void)p;
	return SQLITE_OK;
}

static const sqlite3_io_methods methods = {
	.iVersion = 3,
	.xClose = w_close,
	.xRead = w_read,
	.xWrite = w_write,
	.xTruncate = w_truncate,
	.xSync = w_sync,
	.xFileSize = w_file_size,
	.xLock = w_lock,
	.xUnlock = w_unlock,
	.xCheckReservedLock = w_check_reserved,
	.xFileControl = w_file_control,
	.xSectorSize = w_sector_size,
	.xDeviceCharacteristics = w_device,
	.xShmMap = w_shm_map,
	.xShmLock = w_shm_lock,
	.xShmBarrier = w_shm_barrier,
	.xShmUnmap = w_shm_unmap,
	.xFetch = w_fetch,
	.xUnfetch = w_unfetch,
};

static int w_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
		  int *out_flags)
{
	struct watch_file *f = of(file);

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		f->real->pMethods = NULL;
		return rc;
	}
	f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
	f->real->pMethods->xFileSize(f->real, &f->size);
	f->base.pMethods = &methods;
	return SQLITE_OK;
}

int watch_vfs_register(void)
{
	if (real_vfs)
		return 0;
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs)
		return -1;
	watch_vfs = *real_vfs;
	watch_vfs.zName = "watch";
	watch_vfs.szOsFile = (int)sizeof(struct watch_file) + real_vfs->szOsFile;
	watch_vfs.xOpen = w_open;
	return sqlite3_vfs_register(&watch_vfs, 1) == SQLITE_OK ? 0 : -1;
}

void watch_vfs_this_thread(void)
{
	pthread_mutex_lock(&lock);
	watched = pthread_self();
	watching = 1;
	memset(&counts, 0, sizeof(counts));
	pthread_mutex_unlock(&lock);
}

void watch_vfs_counts(struct watch_counts *out)
{
	pthread_mutex_lock(&lock);
	*out = counts;
	out->syncs = __atomic_load_n(&counts.syncs, __ATOMIC_RELAXED);
	out->truncations = __atomic_load_n(&counts.truncations, __ATOMIC_RELAXED);
	out->wal_written = __atomic_load_n(&counts.wal_written, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lock);
}

void watch_vfs_refuse_commit_rewrite(void)
{
	__atomic_store_n(&refuse_commit_rewrite, 1, __ATOMIC_RELAXED);
}
