/* The SQLite store opened: identity and integrity checks, migrations, every statement prepared. */
#include "store_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema.h"
#include "store_guard.h"
#include "store_walbuf.h"

/*
 * Whether a value ("encoded:ADDRESS" or "ref:DECIMAL", as quarantine names them) is mapped (a
 * broken row too) or rests at time `now`, as one SQL expression: allocation's check of a
 * candidate folded into the statement that takes or reserves it.
 */
#define VALUE_BUSY(value, now)                                                             \
	"(CASE WHEN " value " GLOB 'encoded:*'"                                            \
	" THEN EXISTS (SELECT 1 FROM remote_mapping WHERE encoded = substr(" value ", 9))" \
	" ELSE EXISTS (SELECT 1 FROM local_mapping WHERE ref = substr(" value ", 5)) END"  \
	" OR EXISTS (SELECT 1 FROM quarantine q WHERE q.value = " value " AND q.until > " now "))"

/* Both tables are read in the same column order: one function turns rows into mappings
 * (row_to_mapping, store_mapping.c). */
#define LOCAL_COLUMNS  "id, kind, address, family, context, ref, name, expires, source"
#define REMOTE_COLUMNS "id, kind, encoded, family, context, ref, name, expires, source"

static const char *const stmt_sql[ST_COUNT_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_REMOTE_BY_ADDR] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping"
			      " WHERE family = ?1 AND context = ?2 AND ref = ?3",
	[ST_REMOTE_BY_ENCODED] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping WHERE encoded = ?1",
	[ST_LOCAL_BY_REF] = "SELECT " LOCAL_COLUMNS " FROM local_mapping WHERE ref = ?1",
	[ST_LOCAL_BY_ADDRESS] = "SELECT " LOCAL_COLUMNS " FROM local_mapping WHERE address = ?1"
				" ORDER BY kind, id LIMIT 1",
	[ST_INSERT_LOCAL] = "INSERT INTO local_mapping"
			    " (kind, address, family, context, ref, name, expires, source, created)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, unixepoch())",
	[ST_INSERT_REMOTE] =
		"INSERT INTO remote_mapping"
		" (kind, encoded, family, context, ref, name, expires, source, created)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, unixepoch())",
	[ST_DELETE_LOCAL] = "DELETE FROM local_mapping WHERE id = ?1",
	[ST_DELETE_REMOTE] = "DELETE FROM remote_mapping WHERE id = ?1",
	[ST_EXPIRY_LOCAL] = "UPDATE local_mapping SET expires = ?2 WHERE id = ?1 AND kind = 2",
	[ST_EXPIRY_REMOTE] = "UPDATE remote_mapping SET expires = ?2 WHERE id = ?1 AND kind = 3",
	/* an upsert, not INSERT OR REPLACE: the counting triggers see the row's only insert */
	[ST_QUARANTINE_ADD] = "INSERT INTO quarantine (value, until) VALUES (?1, ?2)"
			      " ON CONFLICT (value) DO UPDATE SET until = excluded.until",
	[ST_QUARANTINE_HAS] = "SELECT 1 FROM quarantine WHERE value = ?1 AND until > ?2",
	[ST_QUARANTINE_PURGE] = "DELETE FROM quarantine WHERE until <= ?1",
	/* counts are kept by triggers (schema/003-counts.sql): no scan grows with the store */
	[ST_ENCODED_TAKEN] = "SELECT coalesce(sum(value), 0) FROM counts"
			     " WHERE name IN ('encoded.' || ?1, 'quarantine.encoded.' || ?1)",
	[ST_EXPIRED_LOCAL] = "SELECT " LOCAL_COLUMNS " FROM local_mapping"
			     " WHERE expires IS NOT NULL AND expires <= ?1 LIMIT ?2",
	[ST_EXPIRED_REMOTE] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping"
			      " WHERE expires IS NOT NULL AND expires <= ?1 LIMIT ?2",
	[ST_LIST_LOCAL] = "SELECT " LOCAL_COLUMNS " FROM local_mapping WHERE id > ?1"
			  " ORDER BY id LIMIT ?2",
	[ST_LIST_REMOTE] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping WHERE id > ?1"
			   " ORDER BY id LIMIT ?2",
	[ST_COUNT] = "SELECT name, value FROM counts",
	/* the mappings published sources own: fixed-life kinds written from a file */
	[ST_FIXED_LOCAL] = "SELECT " LOCAL_COLUMNS " FROM local_mapping WHERE kind = 1"
			   " AND source LIKE '/%' AND id > ?1 ORDER BY id LIMIT ?2",
	[ST_FIXED_REMOTE] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping WHERE kind = 4"
			    " AND source LIKE '/%' AND id > ?1 ORDER BY id LIMIT ?2",
	[ST_SAVEPOINT] = "SAVEPOINT part",
	[ST_RELEASE] = "RELEASE part",
	[ST_ROLLBACK_TO] = "ROLLBACK TO part",
	/* at most one write a minute for a mapping in steady use */
	[ST_MARK_USED] = "UPDATE remote_mapping SET last_used = ?2 WHERE id = ?1"
			 " AND (last_used IS NULL OR last_used < ?2 - 60)",
	/* what the dataplane made for unknown remote sources (see schema/002-inbound.sql) */
	[ST_INBOUND_COUNT] = "SELECT count(*) FROM remote_mapping"
			     " WHERE kind = 3 AND source = 'dataplane'",
	[ST_INBOUND_COUNT_PEER] = "SELECT count(*) FROM remote_mapping"
				  " WHERE kind = 3 AND source = 'dataplane' AND context = ?1",
	[ST_INBOUND_IDLE] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping"
			    " WHERE kind = 3 AND source = 'dataplane' AND last_used IS NULL"
			    " ORDER BY created, id LIMIT 1",
	[ST_INBOUND_IDLE_PEER] = "SELECT " REMOTE_COLUMNS " FROM remote_mapping"
				 " WHERE kind = 3 AND source = 'dataplane' AND last_used IS NULL"
				 " AND context = ?1 ORDER BY created, id LIMIT 1",
	/* values reserved ahead of need (schema/004-reserve.sql): usable once flushed */
	/* oldest first: takes and adds touch the ends of the table, not random pages */
	/* Taking is two statements: the oldest value with whether it is mapped or resting now (a
	 * static mapping written over it, a value picked at random while reserved, then freed),
	 * and its delete. One DELETE ... RETURNING cost more: SQLite buffers what RETURNING
	 * returns in a temporary B-tree of its own, made and dropped on every take. */
	[ST_RESERVE_TAKE] = "SELECT id, value, " VALUE_BUSY(
		"reserve.value", "?3") " FROM reserve WHERE pool = ?1 AND id > ?4 AND seq <= ?2"
				       " ORDER BY id LIMIT 1",
	[ST_RESERVE_DELETE] = "DELETE FROM reserve WHERE id = ?1",
	/* what a transaction took: the oldest rows of the pool (seq grows with id) */
	[ST_RESERVE_DELETE_TAKEN] = "DELETE FROM reserve WHERE pool = ?1 AND id <= ?2",
	/* a value is reserved only while neither mapped nor resting: no check of its own */
	[ST_RESERVE_ADD] = "INSERT INTO reserve (value, pool, seq) SELECT ?1, ?2, ?3"
			   " WHERE NOT " VALUE_BUSY("?1", "?4"),
	/* without what the open transaction took (deleted at its commit) */
	[ST_RESERVE_COUNT] = "SELECT count(*), coalesce(sum(seq <= ?2), 0) FROM reserve"
			     " WHERE pool = ?1 AND id > ?3",
	/* from the pool's index alone: the refill's count after every batch reads no table row */
	[ST_RESERVE_COUNT_ALL] = "SELECT count(*) FROM reserve WHERE pool = ?1 AND id > ?3",
	/* an allocation's check of a candidate in one statement: mapped (a broken row too), or
	 * resting */
	[ST_ENCODED_BUSY] = "SELECT EXISTS (SELECT 1 FROM remote_mapping WHERE encoded = ?1)"
			    " OR EXISTS (SELECT 1 FROM quarantine WHERE value = 'encoded:' || ?1"
			    " AND until > ?2)",
	/* the holds of gwctl/quota.c's pools (schema/005-quota.sql, store_hold.h) */
	/* a value is held by one pool at a time: a new hold of a reused value replaces the old */
	[ST_HOLD_PUT] = ("INSERT INTO quota_hold (value, pool, live, until) VALUES (?1, ?2, ?3, ?4)"
			 " ON CONFLICT (value) DO UPDATE SET pool = excluded.pool,"
			 " live = excluded.live, until = excluded.until"),
	[ST_HOLD_DUE] = ("SELECT value, until FROM quota_hold WHERE pool = ?1 AND live = 1"
			 " AND until <= ?2 ORDER BY until LIMIT ?3"),
	[ST_HOLD_PURGE_POOL] =
		"DELETE FROM quota_hold WHERE pool = ?1 AND live = 0 AND until <= ?2",
	/* kept by triggers (schema/007-hold-counts.sql): one row, however many the pool holds */
	[ST_HOLD_COUNT_POOL] = "SELECT coalesce(max(value), 0) FROM hold_counts WHERE pool = ?1",
	/* kept by triggers (schema/005-quota.sql): constant time whatever the store holds */
	[ST_HOLD_COUNT_INBOUND] = "SELECT coalesce(max(value), 0) FROM counts WHERE name = ?1",
	[ST_HOLD_GET] = "SELECT live, until FROM quota_hold WHERE value = ?1",
	[ST_HOLD_SET] = "UPDATE quota_hold SET live = ?2, until = ?3 WHERE value = ?1",
	[ST_HOLD_DELETE] = "DELETE FROM quota_hold WHERE value = ?1",
	[ST_HOLD_PURGE] = "DELETE FROM quota_hold WHERE live = 0 AND until <= ?1",
	/* what an admission reads, in one statement: whether the pool has rests to purge (the
	 * DELETE is run only then: even deleting nothing it cost three times this), the pool's
	 * holds and all clients', and whether it has live holds due by ?3 (ST_HOLD_DUE is run only
	 * then) */
	[ST_HOLD_ADMISSION] =
		("SELECT EXISTS (SELECT 1 FROM quota_hold WHERE pool = ?1 AND live = 0"
		 " AND until <= ?2),"
		 " (SELECT coalesce(max(value), 0) FROM hold_counts WHERE pool = ?1),"
		 " (SELECT coalesce(max(value), 0) FROM counts WHERE name = 'hold.client'),"
		 " EXISTS (SELECT 1 FROM quota_hold WHERE pool = ?1 AND live = 1"
		 " AND until <= ?3)"),
};

__attribute__((format(printf, 3, 4))) static void say(char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
}

static int exec(sqlite3 *db, const char *sql, char *msg, size_t size)
{
	char *error = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &error);

	if (rc != SQLITE_OK)
		say(msg, size, "%s", error ? error : sqlite3_errstr(rc));
	sqlite3_free(error);
	return rc == SQLITE_OK ? 0 : store_errno(rc);
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *value)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Says whether the file is ours, new, or something to leave alone. */
static int check_identity(sqlite3 *db, const char *path, char *msg, size_t size)
{
	int64_t app_id = 0, version = 0, objects = 0;
	int rc;

	rc = pragma_int(db, "PRAGMA application_id", &app_id);
	if (rc == SQLITE_OK)
		rc = pragma_int(db, "PRAGMA user_version", &version);
	if (rc == SQLITE_OK)
		rc = pragma_int(db, "SELECT count(*) FROM sqlite_schema", &objects);
	if (rc != SQLITE_OK) {
		say(msg, size, "%s: not a usable SQLite database (%s); refusing to touch it", path,
		    sqlite3_errstr(rc));
		return -EBADMSG;
	}
	if (app_id == 0 && version == 0 && objects == 0)
		return 0; /* new and empty: ours to set up */
	if (app_id != SCHEMA_APPLICATION_ID) {
		say(msg, size,
		    "%s: this database belongs to another application (application_id %#llx);"
		    " refusing to touch it",
		    path, (unsigned long long)app_id);
		return -EBADMSG;
	}
	if (version > (int64_t)schema_version) {
		say(msg, size,
		    "%s: created by a newer gwctld (schema version %lld, this one knows %u);"
		    " refusing to touch it",
		    path, (long long)version, schema_version);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

static int check_integrity(sqlite3 *db, const char *path, char *msg, size_t size)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *result = (const char *)sqlite3_column_text(st, 0);
		rc = result && strcmp(result, "ok") == 0 ? SQLITE_OK : SQLITE_CORRUPT;
		if (rc != SQLITE_OK)
			say(msg, size, "%s: the database is corrupt (%s); refusing to start", path,
			    result ? result : "?");
	} else {
		say(msg, size, "%s: the database cannot be checked (%s); refusing to start", path,
		    sqlite3_errstr(rc));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -EBADMSG;
}

static int migrate(sqlite3 *db, const char *path, char *msg, size_t size)
{
	int64_t version = 0;
	char sql[128], error[256] = "";
	int rc;

	if (pragma_int(db, "PRAGMA user_version", &version) != SQLITE_OK)
		return -EIO;
	for (unsigned v = (unsigned)version; v < schema_version; v++) {
		rc = exec(db, "BEGIN IMMEDIATE", error, sizeof(error));
		if (rc == 0)
			rc = exec(db, schema_migrations[v], error, sizeof(error));
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %u",
			 SCHEMA_APPLICATION_ID, v + 1);
		if (rc == 0)
			rc = exec(db, sql, error, sizeof(error));
		if (rc == 0)
			rc = exec(db, "COMMIT", error, sizeof(error));
		if (rc < 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			say(msg, size, "%s: migration to schema version %u failed: %s", path, v + 1,
			    error);
			return rc;
		}
	}
	return 0;
}

/* Stops the flusher, finalizes the statements and closes the connection; NULL: nothing. */
static void close_engine(struct sqlite_store *store)
{
	if (!store)
		return;
	store_flush_stop(&store->flush);
	for (int s = 0; s < ST_COUNT_MAX; s++)
		sqlite3_finalize(store->stmt[s]);
	sqlite3_close(store->db);
	store_wal_deinit(&store->wal);
	free(store);
}

/* Every statement, prepared once for the life of the connection. */
static int prepare_all(struct sqlite_store *store, const char *path, char *msg, size_t msg_size)
{
	for (int s = 0; s < ST_COUNT_MAX; s++) {
		if (sqlite3_prepare_v3(store->db, stmt_sql[s], -1, SQLITE_PREPARE_PERSISTENT,
				       &store->stmt[s], NULL) != SQLITE_OK) {
			say(msg, msg_size, "%s: unexpected schema: %s", path,
			    sqlite3_errmsg(store->db));
			return -EBADMSG;
		}
	}
	return 0;
}

int sqlite_store_open(const char *path, struct store **out, char *msg, size_t msg_size)
{
	struct sqlite_store *store = NULL;
	struct stat st;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	char error[256] = "";
	int rc;

	/* Only a missing file may be created: never let SQLite turn a typo'd path into a new store
	 * silently next to real data, nor overwrite anything. */
	if (stat(path, &st) < 0) {
		if (errno != ENOENT) {
			say(msg, msg_size, "%s: %s", path, strerror(errno));
			return -errno;
		}
		rc = store_guard_orphan_wal(path, msg, msg_size);
		if (rc < 0)
			return rc;
		flags |= SQLITE_OPEN_CREATE;
	} else if (!S_ISREG(st.st_mode)) {
		say(msg, msg_size, "%s: not a regular file", path);
		return -EINVAL;
	}

	store = calloc(1, sizeof(*store));
	if (!store) {
		say(msg, msg_size, "out of memory");
		return -ENOMEM;
	}
	store->base.ops = &sqlite_store_ops;
	pools_forget(store);
	/* no memory statistics: they take a global mutex on every malloc of SQLite's (refused,
	 * harmlessly, once SQLite was initialized) */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* the daemon's one writing connection: its commits' WAL frames go out in one write each */
	rc = store_walbuf_register();
	if (rc < 0) {
		say(msg, msg_size, "%s: cannot register SQLite's file layer: %s", path,
		    strerror(-rc));
		goto out;
	}
	rc = sqlite3_open_v2(path, &store->db, flags, store_walbuf_name);
	if (rc != SQLITE_OK) {
		say(msg, msg_size, "%s: cannot open: %s", path,
		    store->db ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc));
		rc = store_errno(rc);
		goto out;
	}
	sqlite3_extended_result_codes(store->db, 1);
	sqlite3_busy_timeout(store->db, STORE_BUSY_MS);
	/* SQLite quietly opens a write-protected file read-only; a store must be writable. */
	if (sqlite3_db_readonly(store->db, "main") == 1) {
		say(msg, msg_size, "%s: the database is read-only (file or file system)", path);
		rc = -EROFS;
		goto out;
	}

	rc = check_identity(store->db, path, msg, msg_size);
	if (rc < 0)
		goto out;
	rc = check_integrity(store->db, path, msg, msg_size);
	if (rc < 0)
		goto out;
	/* WAL with synchronous=NORMAL: a COMMIT that returned survives the process, and reaches
	 * the disk at the next flush (see store_flush.h and docs/store.md). */
	rc = exec(store->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", error,
		  sizeof(error));
	if (rc < 0) {
		say(msg, msg_size, "%s: cannot switch to WAL: %s", path, error);
		goto out;
	}
	rc = store_wal_init(&store->wal, store->db, path);
	if (rc < 0) {
		say(msg, msg_size, "%s: cannot set the write-ahead log's size limit", path);
		goto out;
	}
	rc = migrate(store->db, path, msg, msg_size);
	if (rc == 0)
		rc = prepare_all(store, path, msg, msg_size);
	if (rc < 0)
		goto out;
	rc = store_flush_start(&store->flush, store->db, path);
	if (rc < 0) {
		say(msg, msg_size, "%s: cannot start the flusher thread", path);
		goto out;
	}
	*out = &store->base;
	store = NULL;
	rc = 0;
out:
	close_engine(store);
	return rc;
}

int sqlite_store_open_reader(const char *path, struct store **out, char *msg, size_t msg_size)
{
	struct sqlite_store *store = calloc(1, sizeof(*store));
	int rc;

	if (!store) {
		say(msg, msg_size, "out of memory");
		return -ENOMEM;
	}
	store->base.ops = &sqlite_store_ops;
	/* the daemon has opened, checked and migrated the file: only the statements remain */
	rc = sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		say(msg, msg_size, "%s: cannot open to read: %s", path,
		    store->db ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc));
		rc = store_errno(rc);
		goto out;
	}
	sqlite3_extended_result_codes(store->db, 1);
	sqlite3_busy_timeout(store->db, 200);
	rc = prepare_all(store, path, msg, msg_size);
	if (rc < 0)
		goto out;
	*out = &store->base;
	store = NULL;
	rc = 0;
out:
	close_engine(store);
	return rc;
}

void sqlite_store_close(struct store *base)
{
	close_engine(sqlite_of(base));
}
