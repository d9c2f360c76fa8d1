/* A VFS over SQLite's default one that writes a commit's WAL frames to the file in one call. */
#include "store_walbuf.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

/*
 * Large enough for the biggest commit the daemon makes in practice (a batch of 256 new mappings
 * dirtied about 300 pages of 4 KiB); a bigger one is written in several calls, still in order.
 */
#define WALBUF_SIZE (2u << 20)
/*
 * The most one write hands the VFS beneath: SQLite's unix VFS writes at most 128 KiB - 1 bytes
 * a call (it never writes more than a page of its own) and takes a longer write for a full disk.
 */
#define WALBUF_WRITE_MAX (64u << 10)
/* The WAL's format (sqlite.org/fileformat.html, "WAL file format"): a frame's header */
#define WAL_FRAME_HEADER 24

const char store_walbuf_name[] = "ipref-walbuf";

struct walbuf_file {
	sqlite3_file base;   /* SQLite's view: methods are walbuf_methods */
	sqlite3_file *real;  /* the file of the VFS beneath, right after this struct */
	uint8_t *buf;	     /* WAL files only: the frames not yet written */
	size_t len;	     /* bytes in buf */
	sqlite3_int64 start; /* the file offset of buf[0] */
	/* where the next frame goes if it is appended, -1 until known */
	sqlite3_int64 append_at;
	bool commit_page; /* the next write is the page of a commit frame */
};

static sqlite3_vfs walbuf_vfs;
static sqlite3_vfs *real_vfs;
/* by the version of the file's methods beneath (1 to 3): SQLite calls only what they have */
static sqlite3_io_methods walbuf_methods[3];
static uint64_t flushes, writes_in;
/* the file whose buffer this thread filled: only this thread writes it out */
static _Thread_local struct walbuf_file *pending;
/*
 * This thread took a WAL's write lock and has not written to it since: its next write to a WAL
 * is an append (the WAL's header when it starts again, else the frame after the last commit).
 */
static _Thread_local bool write_lock_taken;
/* SQLite's lock of a WAL's writer, first of its shared-memory locks (wal.c, WAL_WRITE_LOCK) */
#define WAL_WRITE_LOCK 0

static int write_out(struct walbuf_file *f)
{
	int rc = SQLITE_OK;

	for (size_t done = 0; done < f->len && rc == SQLITE_OK; done += WALBUF_WRITE_MAX) {
		size_t n = f->len - done < WALBUF_WRITE_MAX ? f->len - done : WALBUF_WRITE_MAX;

		rc = f->real->pMethods->xWrite(f->real, f->buf + done, (int)n,
					       f->start + (sqlite3_int64)done);
	}
	if (f->len > 0)
		__atomic_add_fetch(&flushes, 1, __ATOMIC_RELAXED);
	f->len = 0;
	f->commit_page = false;
	if (pending == f)
		pending = NULL;
	return rc;
}

/* Before this thread does anything else with a file: what it buffered goes to its file. */
static int settle(void)
{
	return pending ? write_out(pending) : SQLITE_OK;
}

#define REAL(file) (((struct walbuf_file *)(file))->real)

static int walbuf_close(sqlite3_file *file)
{
	struct walbuf_file *f = (struct walbuf_file *)file;
	int rc = settle();
	int closed = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;

	sqlite3_free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : closed;
}

static int walbuf_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	int rc = settle();

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xRead(REAL(file), out, amt, off);
}

static bool commit_frame_header(const void *data, int amt)
{
	const uint8_t *h = data;

	/* bytes 4-7: the database's size in pages after a commit, zero in any other frame */
	return amt == WAL_FRAME_HEADER && (h[4] | h[5] | h[6] | h[7]) != 0;
}

static int walbuf_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	struct walbuf_file *f = (struct walbuf_file *)file;
	bool commit_page;
	int rc;

	if (pending && (pending != f || off != f->start + (sqlite3_int64)f->len ||
			f->len + (size_t)amt > WALBUF_SIZE)) {
		rc = settle();
		if (rc != SQLITE_OK)
			return rc;
	}
	if (!f->buf)
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	/*
	 * Only appends are gathered: a transaction's first write is one (frames of earlier
	 * transactions are never written again, and where a rolled-back one ended does not count),
	 * and the next appends follow it. A write over an earlier frame of the transaction (a page
	 * written twice, the checksums SQLite then writes again, ahead of its commit or after it)
	 * goes to the file at once, in its order, and its error to SQLite.
	 */
	if (write_lock_taken || off == 0)
		f->append_at = off;
	write_lock_taken = false;
	if (f->len == 0 && (off != f->append_at || (size_t)amt > WALBUF_SIZE)) {
		rc = f->real->pMethods->xWrite(f->real, data, amt, off);
		if (rc == SQLITE_OK && off + amt > f->append_at)
			f->append_at = off + amt;
		/* a commit frame's header written so (the first write after the open): its page
		 * still writes the buffer out */
		f->commit_page = rc == SQLITE_OK && commit_frame_header(data, amt);
		return rc;
	}
	if (f->len == 0)
		f->start = off;
	f->append_at = off + amt;
	memcpy(f->buf + f->len, data, (size_t)amt);
	f->len += (size_t)amt;
	pending = f;
	__atomic_add_fetch(&writes_in, 1, __ATOMIC_RELAXED);
	commit_page = f->commit_page;
	f->commit_page = commit_frame_header(data, amt);
	/* the commit's page written: the commit fails here if the file refuses it */
	return commit_page ? write_out(f) : SQLITE_OK;
}

static int walbuf_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	int rc = settle();

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xTruncate(REAL(file), size);
}

static int walbuf_sync(sqlite3_file *file, int flags)
{
	int rc = settle();

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xSync(REAL(file), flags);
}

static int walbuf_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	int rc = settle();

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xFileSize(REAL(file), size);
}

static int walbuf_lock(sqlite3_file *file, int level)
{
	int rc = settle();

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xLock(REAL(file), level);
}

static int walbuf_unlock(sqlite3_file *file, int level)
{
	int rc = settle();

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xUnlock(REAL(file), level);
}

static int walbuf_check_reserved(sqlite3_file *file, int *out)
{
	int rc = settle();

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}

static int walbuf_file_control(sqlite3_file *file, int op, void *arg)
{
	int rc = settle();

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xFileControl(REAL(file), op, arg);
}

static int walbuf_sector_size(sqlite3_file *file)
{
	return REAL(file)->pMethods->xSectorSize(REAL(file));
}

static int walbuf_device(sqlite3_file *file)
{
	return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}

/*
 * The shared-memory index: SQLite tells readers of new frames only here, after writing them
 * (hash entries, then the header around a barrier, then the write lock released).
 */
static int walbuf_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **p)
{
	int rc = settle();

	return rc != SQLITE_OK ? rc
			       : REAL(file)->pMethods->xShmMap(REAL(file), page, size, extend, p);
}

static int walbuf_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	int rc = settle();

	if (rc != SQLITE_OK)
		return rc;
	rc = REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
	if (rc == SQLITE_OK && offset == WAL_WRITE_LOCK &&
	    flags == (SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE))
		write_lock_taken = true;
	return rc;
}

static void walbuf_shm_barrier(sqlite3_file *file)
{
	/*
	 * No error can be returned here, and none is left to return: SQLite calls this as it
	 * publishes a commit, whose appends went out with its last frame (writes over earlier
	 * frames go out at once); frames spilled before a commit are published by none.
	 */
	(void)settle();
	REAL(file)->pMethods->xShmBarrier(REAL(file));
}

static int walbuf_shm_unmap(sqlite3_file *file, int delete_flag)
{
	int rc = settle();

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xShmUnmap(REAL(file), delete_flag);
}

static int walbuf_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **p)
{
	int rc = settle();

	*p = NULL;
	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xFetch(REAL(file), off, amt, p);
}

static int walbuf_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	return REAL(file)->pMethods->xUnfetch(REAL(file), off, p);
}

static int walbuf_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
		       int *out_flags)
{
	struct walbuf_file *f = (struct walbuf_file *)file;
	int rc, version;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->append_at = -1;
	f->real = (sqlite3_file *)(f + 1);
	f->real->pMethods = NULL;
	if (flags & SQLITE_OPEN_WAL) {
		f->buf = sqlite3_malloc(WALBUF_SIZE);
		if (!f->buf)
			return SQLITE_NOMEM;
	}
	rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK || !f->real->pMethods) {
		/* a file beneath that has methods is closed even when its open failed */
		if (f->real->pMethods)
			f->real->pMethods->xClose(f->real);
		sqlite3_free(f->buf);
		f->buf = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	version = f->real->pMethods->iVersion;
	f->base.pMethods = &walbuf_methods[version < 1 ? 0 : version > 3 ? 2 : version - 1];
	return SQLITE_OK;
}

static int register_result = -EIO;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;

static void register_vfs(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs)
		return;
	walbuf_methods[2] = (sqlite3_io_methods){
		.iVersion = 3,
		.xClose = walbuf_close,
		.xRead = walbuf_read,
		.xWrite = walbuf_write,
		.xTruncate = walbuf_truncate,
		.xSync = walbuf_sync,
		.xFileSize = walbuf_file_size,
		.xLock = walbuf_lock,
		.xUnlock = walbuf_unlock,
		.xCheckReservedLock = walbuf_check_reserved,
		.xFileControl = walbuf_file_control,
		.xSectorSize = walbuf_sector_size,
		.xDeviceCharacteristics = walbuf_device,
		.xShmMap = walbuf_shm_map,
		.xShmLock = walbuf_shm_lock,
		.xShmBarrier = walbuf_shm_barrier,
		.xShmUnmap = walbuf_shm_unmap,
		.xFetch = walbuf_fetch,
		.xUnfetch = walbuf_unfetch,
	};
	walbuf_methods[1] = walbuf_methods[2];
	walbuf_methods[1].iVersion = 2;
	walbuf_methods[0] = walbuf_methods[2];
	walbuf_methods[0].iVersion = 1;
	/* the rest of the VFS is the one beneath, called with its own settings (pAppData) */
	walbuf_vfs = *real_vfs;
	walbuf_vfs.szOsFile = (int)sizeof(struct walbuf_file) + real_vfs->szOsFile;
	walbuf_vfs.zName = store_walbuf_name;
	walbuf_vfs.pNext = NULL;
	walbuf_vfs.xOpen = walbuf_open;
	register_result = sqlite3_vfs_register(&walbuf_vfs, 0) == SQLITE_OK ? 0 : -ENOMEM;
}

int store_walbuf_register(void)
{
	pthread_once(&register_once, register_vfs);
	return register_result;
}

void store_walbuf_counts(struct store_walbuf_counts *out)
{
	out->flushes = __atomic_load_n(&flushes, __ATOMIC_RELAXED);
	out->writes_in = __atomic_load_n(&writes_in, __ATOMIC_RELAXED);
}
