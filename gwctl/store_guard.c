/* Guards of the store's files: an orphan WAL at start, a database deleted or replaced later. */
#include "store_guard.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int store_guard_orphan_wal(const char *path, char *msg, size_t msg_size)
{
	char wal[4096 + 8];
	struct stat st;

	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal))
		return 0; /* SQLite could not name it either */
	if (lstat(wal, &st) < 0)
		return 0;
	snprintf(msg, msg_size,
		 "%s is missing but its write-ahead log %s (%lld bytes) is there: commits "
		 "may be in it that a new database would throw away. Restore %s, or move %s "
		 "aside to start with an empty store",
		 path, wal, (long long)st.st_size, path, wal);
	return -EEXIST;
}

bool store_guard_moved(sqlite3 *db)
{
	int moved = 0;

	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK)
		return false; /* a VFS that cannot tell: nothing to go on */
	return moved != 0;
}
