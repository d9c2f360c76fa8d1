/* Guards of the store's files: an orphan WAL at start, a database deleted or replaced later. */
#ifndef GWCTL_STORE_GUARD_H
#define GWCTL_STORE_GUARD_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/*
 * Before a missing database at path is created: 0, or -EEXIST with a sentence in msg when its
 * write-ahead log (path-wal) is there without it. SQLite would throw such a WAL away with the
 * commits it holds; the operator should restore the database or move the WAL aside.
 */
IPR_MUST_CHECK int store_guard_orphan_wal(const char *path, char *msg, size_t msg_size);

/*
 * True when the database db has open is no longer the file at its path (deleted, renamed, or
 * replaced by another file): what is committed there would be lost at the next start. One
 * stat and one fstat (SQLite's SQLITE_FCNTL_HAS_MOVED), cheap beside a commit's fsync.
 */
bool store_guard_moved(sqlite3 *db);

#endif
