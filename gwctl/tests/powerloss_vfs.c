/* The power-loss VFS: unsynced writes live in memory over the real file until synced or lost. */
#include "powerloss_vfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/*
 * What a crash test needs of a disk (SQLite's own crash tests do the same): a write is only
 * certain once the file is synced. Writes and truncations wait here, in order, per file; a sync
 * applies them to the real file; a power loss drops them. Whole writes are lost or kept, as on
 * a disk whose sector writes are atomic (SQLite assumes no more; the unix VFS says its
 * overwrites are power-safe, and this VFS passes that on).
 */
struct op {
	int64_t offset; /* -1: a truncation to size */
	int64_t size;
	unsigned char *data;
};

struct node {
	char *path; /* NULL: a nameless temporary file */
	struct op *ops;
	size_t n_ops, cap;
	struct node *next;
};

struct pl_file {
	sqlite3_file base;
	struct node *node;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs pl_vfs;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* the flusher thread syncs too */
static struct node *nodes;
static uint64_t writes, crash_at = UINT64_MAX;
static bool dead;

static void drop_ops(struct node *n)
{
	for (size_t i = 0; i < n->n_ops; i++)
		free(n->ops[i].data);
	n->n_ops = 0;
}

static struct node *node_of(const char *path)
{
	struct node *n;

	for (n = nodes; path && n; n = n->next)
		if (n->path && strcmp(n->path, path) == 0)
			return n;
	n = calloc(1, sizeof(*n));
	n->path = path ? strdup(path) : NULL;
	n->next = nodes;
	nodes = n;
	return n;
}

static int add_op(struct node *n, int64_t offset, int64_t size, const void *data)
{
	if (n->n_ops == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 64;
		struct op *ops = realloc(n->ops, cap * sizeof(*ops));
		if (!ops)
			return SQLITE_NOMEM;
		n->ops = ops;
		n->cap = cap;
	}
	struct op *op = &n->ops[n->n_ops++];
	op->offset = offset;
	op->size = size;
	op->data = NULL;
	if (data) {
		op->data = malloc((size_t)size);
		memcpy(op->data, data, (size_t)size);
	}
	return SQLITE_OK;
}

/* The size the file has as the running system sees it: the real one, then the ops. */
static int64_t logical_size(struct pl_file *f)
{
	sqlite3_int64 size = 0;

	f->real->pMethods->xFileSize(f->real, &size);
	for (size_t i = 0; i < f->node->n_ops; i++) {
		struct op *op = &f->node->ops[i];
		if (op->offset < 0)
			size = op->size;
		else if (op->offset + op->size > size)
			size = op->offset + op->size;
	}
	return size;
}

static int pl_close(sqlite3_file *file)
{
	struct pl_file *f = (struct pl_file *)file;
	int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;

	/* what was not synced stays in the system's cache: the node keeps it */
	return rc;
}

static int pl_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
	struct pl_file *f = (struct pl_file *)file;
	unsigned char *out = buf;
	int64_t size;
	int rc;

	pthread_mutex_lock(&lock);
	rc = f->real->pMethods->xRead(f->real, buf, amt, off);
	if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
		goto out;
	sqlite3_int64 real_size = 0;
	f->real->pMethods->xFileSize(f->real, &real_size);
	size = real_size;
	for (size_t i = 0; i < f->node->n_ops; i++) {
		struct op *op = &f->node->ops[i];
		if (op->offset < 0) {
			size = op->size;
			if (size < off + amt)
				memset(out + (size > off ? size - off : 0), 0,
				       (size_t)(off + amt - (size > off ? size : off)));
			continue;
		}
		int64_t from = op->offset > off ? op->offset : off;
		int64_t to = op->offset + op->size < off + amt ? op->offset + op->size : off + amt;
		if (from < to)
			memcpy(out + (from - off), op->data + (from - op->offset),
			       (size_t)(to - from));
		if (op->offset + op->size > size)
			size = op->offset + op->size;
	}
	rc = SQLITE_OK;
	if (size < off + amt) {
		int64_t keep = size > off ? size - off : 0;
		memset(out + keep, 0, (size_t)(amt - keep));
		rc = SQLITE_IOERR_SHORT_READ;
	}
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

/* Counts a write or a truncation; past the armed moment, the power is gone. */
static bool power_gone(void)
{
	if (!dead && ++writes >= crash_at)
		dead = true;
	return dead;
}

static int pl_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
	struct pl_file *f = (struct pl_file *)file;
	int rc = SQLITE_OK;

	pthread_mutex_lock(&lock);
	if (!power_gone())
		rc = add_op(f->node, off, amt, buf);
	pthread_mutex_unlock(&lock);
	return rc;
}

static int pl_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct pl_file *f = (struct pl_file *)file;
	int rc = SQLITE_OK;

	pthread_mutex_lock(&lock);
	if (!power_gone())
		rc = add_op(f->node, -1, size, NULL);
	pthread_mutex_unlock(&lock);
	return rc;
}

static int pl_sync(sqlite3_file *file, int flags)
{
	struct pl_file *f = (struct pl_file *)file;
	int rc = SQLITE_OK;

	(void)flags;
	pthread_mutex_lock(&lock);
	if (dead)
		goto out;
	/* to the real file, in order; the real disk's own sync is not needed for the test */
	for (size_t i = 0; i < f->node->n_ops && rc == SQLITE_OK; i++) {
		struct op *op = &f->node->ops[i];
		rc = op->offset < 0 ? f->real->pMethods->xTruncate(f->real, op->size)
				    : f->real->pMethods->xWrite(f->real, op->data, (int)op->size,
								op->offset);
	}
	drop_ops(f->node);
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

static int pl_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	pthread_mutex_lock(&lock);
	*size = logical_size((struct pl_file *)file);
	pthread_mutex_unlock(&lock);
	return SQLITE_OK;
}

#define REAL(f) (((struct pl_file *)(f))->real)

static int pl_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int pl_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int pl_check_lock(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int pl_file_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int pl_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int pl_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
/* The wal-index is memory shared between connections, not data: passed through. */
static int pl_shm_map(sqlite3_file *f, int pg, int size, int extend, void volatile **out)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, size, extend, out);
}
static int pl_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}
static void pl_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int pl_shm_unmap(sqlite3_file *f, int delete_flag)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static const sqlite3_io_methods pl_methods = {
	.iVersion = 2,
	.xClose = pl_close,
	.xRead = pl_read,
	.xWrite = pl_write,
	.xTruncate = pl_truncate,
	.xSync = pl_sync,
	.xFileSize = pl_file_size,
	.xLock = pl_lock,
	.xUnlock = pl_unlock,
	.xCheckReservedLock = pl_check_lock,
	.xFileControl = pl_file_control,
	.xSectorSize = pl_sector_size,
	.xDeviceCharacteristics = pl_device,
	.xShmMap = pl_shm_map,
	.xShmLock = pl_shm_lock,
	.xShmBarrier = pl_shm_barrier,
	.xShmUnmap = pl_shm_unmap,
};

static int pl_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
		   int *out_flags)
{
	struct pl_file *f = (struct pl_file *)file;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK)
		return rc;
	pthread_mutex_lock(&lock);
	f->node = node_of(name);
	pthread_mutex_unlock(&lock);
	f->base.pMethods = &pl_methods;
	return SQLITE_OK;
}

static int pl_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	int rc = SQLITE_OK;

	(void)vfs;
	pthread_mutex_lock(&lock);
	if (!dead) {
		rc = real_vfs->xDelete(real_vfs, name, sync_dir);
		drop_ops(node_of(name));
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static int pl_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int pl_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static int pl_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int pl_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return real_vfs->xSleep(real_vfs, us);
}

static int pl_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int pl_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xGetLastError(real_vfs, n, out);
}

static int pl_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

int powerloss_register(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs)
		return -1;
	pl_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct pl_file) + real_vfs->szOsFile,
		.mxPathname = real_vfs->mxPathname,
		.zName = "powerloss",
		.xOpen = pl_open,
		.xDelete = pl_delete,
		.xAccess = pl_access,
		.xFullPathname = pl_full_pathname,
		.xRandomness = pl_randomness,
		.xSleep = pl_sleep,
		.xCurrentTime = pl_current_time,
		.xGetLastError = pl_last_error,
		.xCurrentTimeInt64 = pl_current_time64,
	};
	return sqlite3_vfs_register(&pl_vfs, 1) == SQLITE_OK ? 0 : -1;
}

uint64_t powerloss_writes(void)
{
	pthread_mutex_lock(&lock);
	uint64_t n = writes;
	pthread_mutex_unlock(&lock);
	return n;
}

void powerloss_arm(uint64_t at)
{
	pthread_mutex_lock(&lock);
	crash_at = at;
	pthread_mutex_unlock(&lock);
}

bool powerloss_dead(void)
{
	pthread_mutex_lock(&lock);
	bool d = dead;
	pthread_mutex_unlock(&lock);
	return d;
}

void powerloss_reboot(void)
{
	pthread_mutex_lock(&lock);
	for (struct node *n = nodes; n; n = n->next)
		drop_ops(n);
	dead = false;
	crash_at = UINT64_MAX;
	pthread_mutex_unlock(&lock);
}
