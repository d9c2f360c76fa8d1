/* A test-only SQLite VFS that watches what one thread does to the files: syncs, truncations. */
#ifndef GWCTL_TESTS_WATCH_VFS_H
#define GWCTL_TESTS_WATCH_VFS_H

#include <stdint.h>

struct watch_counts {
	uint64_t syncs;	      /* xSync calls by the watched thread, on any file */
	uint64_t truncations; /* xTruncate calls by the watched thread that made a file smaller */
	uint64_t wal_written; /* bytes written to write-ahead logs, by any thread */
	uint64_t wal_peak;    /* the largest a write-ahead log's file has been */
};

/* Registers the VFS as SQLite's default, over the default one. Returns 0 or -1. */
int watch_vfs_register(void);
/* The calling thread is the one watched (the daemon's, in gwctld); counts start again. */
void watch_vfs_this_thread(void);
void watch_vfs_counts(struct watch_counts *out);
/*
 * The next write of a WAL frame's header that marks a commit, over what the WAL already holds
 * (SQLite writing a transaction's checksums again), fails with SQLITE_IOERR_WRITE; once.
 */
void watch_vfs_refuse_commit_rewrite(void);

#endif
