/* A VFS over SQLite's default one that writes a commit's WAL frames to the file in one call. */
#ifndef GWCTL_STORE_WALBUF_H
#define GWCTL_STORE_WALBUF_H

#include <stdint.h>

#include "err.h"

/*
 * SQLite appends each frame to the write-ahead log with two writes (its 24-byte header, then
 * the page): a commit of one new mapping wrote 7 pages in 14 system calls, a third of gwctld's
 * CPU for a lone request (docs/store.md, "Durability"). Files opened through this VFS keep the
 * frames a thread appends to a WAL in a buffer, and write them together (in writes of 64 KiB at
 * most, what SQLite's unix VFS takes):
 *
 * - when the commit's last frame is written (the frame header with a database size, which marks
 *   a commit in the WAL's format), so a failed write fails that commit, as without the buffer;
 * - before that thread does anything else with any file of this VFS: a read, a sync, a write
 *   elsewhere in the file, a lock, or a call on the shared-memory index. SQLite publishes new
 *   frames only through that index, after its writes, so no reader can be told of frames still
 *   in the buffer, and a commit returns only with its frames in the file: kill -9 loses nothing
 *   acknowledged.
 *
 * Only appends are gathered; a write over an earlier frame of the transaction goes to the file
 * at once, after what the buffer holds. Only the thread that buffered frames writes them:
 * another thread's call on the same file (the flusher's sync) goes straight to the file, and
 * syncs what earlier commits wrote.
 */

/*
 * Registers the VFS (once; later calls return the first result) over whichever VFS is SQLite's
 * default then, without making it the default. Returns 0 or -ENOMEM / -EIO.
 */
IPR_MUST_CHECK int store_walbuf_register(void);
/* The VFS's name, for sqlite3_open_v2. */
extern const char store_walbuf_name[];

/* What the buffers did, over every file and thread of the process. */
struct store_walbuf_counts {
	uint64_t flushes;   /* buffers written out (in writes of 64 KiB at most) */
	uint64_t writes_in; /* SQLite's writes taken into a buffer */
};
void store_walbuf_counts(struct store_walbuf_counts *out);

#endif
