/* The SQLite store: opening safely, migrations, prepared statements, rows <-> mappings. */
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema.h"
#include "bucket.h"
#include "store_flush.h"
#include "store_guard.h"
#include "store_wal.h"

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

/* Both tables are read through the same column order, so one function turns rows into mappings. */
#define LOCAL_COLUMNS  "id, kind, address, family, context, ref, name, expires, source"
#define REMOTE_COLUMNS "id, kind, encoded, family, context, ref, name, expires, source"

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_REMOTE_BY_ADDR,
	ST_REMOTE_BY_ENCODED,
	ST_LOCAL_BY_REF,
	ST_LOCAL_BY_ADDRESS,
	ST_INSERT_LOCAL,
	ST_INSERT_REMOTE,
	ST_DELETE_LOCAL,
	ST_DELETE_REMOTE,
	ST_EXPIRY_LOCAL,
	ST_EXPIRY_REMOTE,
	ST_QUARANTINE_ADD,
	ST_QUARANTINE_HAS,
	ST_QUARANTINE_PURGE,
	ST_ENCODED_TAKEN,
	ST_EXPIRED_LOCAL,
	ST_EXPIRED_REMOTE,
	ST_LIST_LOCAL,
	ST_LIST_REMOTE,
	ST_COUNT,
	ST_FIXED_LOCAL,
	ST_FIXED_REMOTE,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_MARK_USED,
	ST_INBOUND_COUNT,
	ST_INBOUND_COUNT_PEER,
	ST_INBOUND_IDLE,
	ST_INBOUND_IDLE_PEER,
	ST_RESERVE_TAKE,
	ST_RESERVE_DELETE,
	ST_RESERVE_DELETE_TAKEN,
	ST_RESERVE_ADD,
	ST_RESERVE_COUNT,
	ST_RESERVE_COUNT_ALL,
	ST_ENCODED_BUSY,
	ST_COUNT_MAX,
};

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
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT_MAX];
	uint64_t bad_rows;
	bool replaced; /* the file was deleted or replaced under us: no write commits any more */
	uint64_t changes_at_begin;
	struct store_wal wal;
	/* commits are numbered; the flusher says up to which one the disk has them */
	uint64_t commit_gen;
	bool sync_this; /* the open transaction used a value not yet on disk: sync at commit */
	struct store_flush flush;
	struct store_durability stats;
	/*
	 * How many values each pool holds, kept as takes and adds succeed, so that the refill's
	 * check after a batch reads no index (counting a pool of 4,096 rows every 32 allocations
	 * was a fifth of an allocation's instructions). -1: unknown, counted at the next ask.
	 * Any rollback forgets them all: the rows it took back are counted again, never guessed.
	 * taken_to: the newest row the open transaction took; its rows, the oldest of the pool,
	 * are deleted by one statement at commit rather than one each.
	 */
	struct reserve_pool {
		char pool[STORE_POOL_TEXT_MAX];
		int64_t count;
		int64_t taken_to;
	} pools[STORE_POOLS_KEPT];
};

static void pools_forget(struct store *store)
{
	for (size_t i = 0; i < STORE_POOLS_KEPT; i++) {
		store->pools[i].count = -1;
		store->pools[i].taken_to = 0;
	}
}

/* The pool's slot, or NULL when it has none (more pools than slots). */
static struct reserve_pool *pool_slot(struct store *store, const char *pool, bool claim)
{
	size_t i;

	for (i = 0; i < STORE_POOLS_KEPT && store->pools[i].pool[0]; i++) {
		if (strcmp(store->pools[i].pool, pool) == 0)
			return &store->pools[i];
	}
	if (!claim || i == STORE_POOLS_KEPT || strlen(pool) >= STORE_POOL_TEXT_MAX)
		return NULL;
	snprintf(store->pools[i].pool, STORE_POOL_TEXT_MAX, "%s", pool);
	store->pools[i].count = -1;
	store->pools[i].taken_to = 0;
	return &store->pools[i];
}

static int64_t *pool_count(struct store *store, const char *pool, bool claim)
{
	struct reserve_pool *slot = pool_slot(store, pool, claim);

	return slot ? &slot->count : NULL;
}

/* After a take (-1) or an add (+1) that succeeded. */
static void pool_moved(struct store *store, const char *pool, int64_t by)
{
	int64_t *count = pool_count(store, pool, false);

	if (count && *count >= 0)
		*count += by;
}

sqlite3 *store_db(struct store *store)
{
	return store->db;
}

/* The cursor of store_list: the top bit says which table, the rest is the last row id. */
#define CURSOR_REMOTE (1ULL << 63)

int store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
		return -EROFS;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

__attribute__((format(printf, 3, 4))) static void say(char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
}

/* Runs a statement that returns nothing of interest and resets it. */
static int run(struct store *store, enum stmt s)
{
	int rc = sqlite3_step(store->stmt[s]);

	sqlite3_reset(store->stmt[s]);
	return store_errno(rc);
}

static void bind_text(sqlite3_stmt *st, int index, const char *text)
{
	if (text && text[0])
		sqlite3_bind_text(st, index, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, index);
}

void store_address_text(int family, const uint8_t *address, char *buf)
{
	char *p = buf;

	if (family != AF_INET) {
		inet_ntop(family, address, buf, INET6_ADDRSTRLEN);
		return;
	}
	/* glibc's inet_ntop formats IPv4 with sprintf: 7 % of an allocation's instructions */
	for (int i = 0; i < 4; i++) {
		unsigned v = address[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
}

static void address_text(int family, const uint8_t *address, char *buf)
{
	store_address_text(family, address, buf);
}

/* Turns the current row (LOCAL_COLUMNS order) into a mapping, checking every value. */
static int row_to_mapping(struct store *store, sqlite3_stmt *st, struct ipr_mapping *m)
{
	const char *address = (const char *)sqlite3_column_text(st, 2);
	const char *context = (const char *)sqlite3_column_text(st, 4);
	const char *ref = (const char *)sqlite3_column_text(st, 5);
	const char *name = (const char *)sqlite3_column_text(st, 6);
	const char *source = (const char *)sqlite3_column_text(st, 8);
	int family = sqlite3_column_int(st, 3);

	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(st, 0);
	m->kind = (enum ipr_mapping_kind)sqlite3_column_int(st, 1);
	m->family = family == 4 ? AF_INET : AF_INET6;
	m->expires = sqlite3_column_int64(st, 7);
	if (!address || !context || !ref || (family != 4 && family != 6) ||
	    inet_pton(m->family, address, m->address) != 1 ||
	    ipr_context_parse(context, strlen(context), &m->context, NULL) < 0 ||
	    ipr_ref_parse(ref, strlen(ref), &m->ref, NULL) < 0 ||
	    (name && (strlen(name) > IPR_NAME_MAX ||
		      ipr_name_parse(name, strlen(name), m->name, NULL) < 0))) {
		store->bad_rows++;
		return -EBADMSG;
	}
	if (source)
		snprintf(m->source, sizeof(m->source), "%s", source);
	return 0;
}

/* Steps a one-row query: 0 with *out, -ENOENT without a row. Resets the statement. */
static int fetch_one(struct store *store, enum stmt s, struct ipr_mapping *out)
{
	sqlite3_stmt *st = store->stmt[s];
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		rc = row_to_mapping(store, st, out);
	else
		rc = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	sqlite3_reset(st);
	return rc;
}

static int fetch_many(struct store *store, enum stmt s, struct ipr_mapping *out, size_t max,
		      int64_t *last_id)
{
	sqlite3_stmt *st = store->stmt[s];
	size_t n = 0;
	int rc = SQLITE_DONE;

	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*last_id = sqlite3_column_int64(st, 0);
		/* a bad row is counted and skipped: one broken row must not hide the others */
		if (row_to_mapping(store, st, &out[n]) == 0)
			n++;
	}
	if (n < max && rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return store_errno(rc);
	}
	sqlite3_reset(st);
	return (int)n;
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

/* Every statement, prepared once for the life of the connection. */
static int prepare_all(struct store *store, const char *path, char *msg, size_t msg_size)
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

int store_open(const char *path, struct store **out, char *msg, size_t msg_size)
{
	struct store *store = NULL;
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
	pools_forget(store);
	/* no memory statistics: they take a global mutex on every malloc of SQLite's (refused,
	 * harmlessly, once SQLite was initialized) */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	rc = sqlite3_open_v2(path, &store->db, flags, NULL);
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
	*out = store;
	store = NULL;
	rc = 0;
out:
	store_close(store);
	return rc;
}

int store_open_reader(const char *path, struct store **out, char *msg, size_t msg_size)
{
	struct store *store = calloc(1, sizeof(*store));
	int rc;

	if (!store) {
		say(msg, msg_size, "out of memory");
		return -ENOMEM;
	}
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
	*out = store;
	store = NULL;
	rc = 0;
out:
	store_close(store);
	return rc;
}

void store_close(struct store *store)
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

int store_begin(struct store *store)
{
	store->changes_at_begin = store_changes(store);
	store->sync_this = false;
	return run(store, ST_BEGIN);
}

/* Deletes what the open transaction took from each pool: one statement a pool, not a take. */
static int delete_taken(struct store *store)
{
	sqlite3_stmt *st = store->stmt[ST_RESERVE_DELETE_TAKEN];
	int rc = 0;

	for (size_t i = 0; i < STORE_POOLS_KEPT && rc == 0; i++) {
		if (!store->pools[i].taken_to)
			continue;
		bind_text(st, 1, store->pools[i].pool);
		sqlite3_bind_int64(st, 2, store->pools[i].taken_to);
		rc = run(store, ST_RESERVE_DELETE_TAKEN);
		store->pools[i].taken_to = 0;
	}
	return rc;
}

int store_commit(struct store *store)
{
	int rc;

	/* checked before COMMIT, so that nothing is acknowledged that a restart would lose;
	 * reads go on, from the file still open, so that status and stats can tell what happened */
	if (!store->replaced)
		store->replaced = store_guard_moved(store->db);
	if (store->replaced && store_changes(store) != store->changes_at_begin) {
		store_rollback(store);
		return -ESTALE;
	}
	/* the values taken leave the reserve in the commit that binds them */
	rc = delete_taken(store);
	if (rc == 0)
		rc = run(store, ST_COMMIT);
	if (rc < 0) {
		store_rollback(store);
		return rc;
	}
	store->commit_gen++;
	if (store->sync_this) {
		/* a value was bound that no flush had covered yet: on disk before anyone hears of
		 * it (the old way, now the exception; counted) */
		store->sync_this = false;
		store->stats.sync_commits++;
		rc = store_flush_now(&store->flush, store->commit_gen);
	}
	store_wal_after_commit(&store->wal, store->db, ipr_clock_ms());
	return rc;
}

void store_flush(struct store *store)
{
	store_flush_request(&store->flush, store->commit_gen);
}

bool store_flushed(const struct store *store)
{
	return store_flush_done(&store->flush) >= store->commit_gen;
}

void store_durability(const struct store *store, struct store_durability *out)
{
	*out = store->stats;
	out->flushes = __atomic_load_n(&store->flush.flushes, __ATOMIC_RELAXED);
	out->flush_failures = __atomic_load_n(&store->flush.failures, __ATOMIC_RELAXED);
}

void store_need_sync(struct store *store)
{
	store->sync_this = true;
}

int store_reserve_take(struct store *store, const char *pool, bool flushed_only, int64_t now,
		       char *value, size_t size, bool *busy)
{
	sqlite3_stmt *st = store->stmt[ST_RESERVE_TAKE];
	struct reserve_pool *slot = pool_slot(store, pool, true);
	const char *text;
	int64_t id = 0;
	int rc;

	bind_text(st, 1, pool);
	sqlite3_bind_int64(st, 2,
			   flushed_only ? (int64_t)store_flush_done(&store->flush) : INT64_MAX);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, slot ? slot->taken_to : 0);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		text = (const char *)sqlite3_column_text(st, 1);
		snprintf(value, size, "%s", text ? text : "");
		*busy = sqlite3_column_int(st, 2) != 0;
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	sqlite3_reset(st);
	if (rc < 0)
		return rc;
	if (slot) {
		slot->taken_to = id; /* deleted with the others at commit */
	} else {
		sqlite3_bind_int64(store->stmt[ST_RESERVE_DELETE], 1, id);
		rc = run(store, ST_RESERVE_DELETE);
	}
	if (rc == 0)
		pool_moved(store, pool, -1);
	if (rc == 0 && !flushed_only)
		store_need_sync(store);
	return rc;
}

int store_reserve_add(struct store *store, const char *pool, const char *value, int64_t now)
{
	sqlite3_stmt *st = store->stmt[ST_RESERVE_ADD];
	int rc;

	bind_text(st, 1, value);
	bind_text(st, 2, pool);
	sqlite3_bind_int64(st, 3, (int64_t)store->commit_gen + 1); /* the commit to come */
	sqlite3_bind_int64(st, 4, now);
	rc = run(store, ST_RESERVE_ADD);
	if (rc < 0)
		return rc;
	if (sqlite3_changes(store->db) != 1)
		return 0;
	pool_moved(store, pool, 1);
	return 1;
}

int store_reserve_count(struct store *store, const char *pool, uint64_t *all, uint64_t *flushed)
{
	sqlite3_stmt *st = store->stmt[flushed ? ST_RESERVE_COUNT : ST_RESERVE_COUNT_ALL];
	struct reserve_pool *slot = pool_slot(store, pool, true);
	int64_t *kept = flushed || !slot ? NULL : &slot->count;
	int rc;

	if (kept && *kept >= 0) {
		*all = (uint64_t)*kept;
		return 0;
	}
	bind_text(st, 1, pool);
	sqlite3_bind_int64(st, 3, slot ? slot->taken_to : 0);
	if (flushed)
		sqlite3_bind_int64(st, 2, (int64_t)store_flush_done(&store->flush));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*all = (uint64_t)sqlite3_column_int64(st, 0);
		if (kept)
			*kept = (int64_t)*all;
		if (flushed)
			*flushed = (uint64_t)sqlite3_column_int64(st, 1);
		rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	return store_errno(rc);
}

/* Runs sql with ?1 and ?2 bound (unused ones are ignored); for the rare statements of start. */
static int run_sql(struct store *store, const char *sql, int64_t a, int64_t b, int64_t *result)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(store->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return store_errno(rc);
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && result)
		*result = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return store_errno(rc);
}

int store_start(struct store *store, int64_t now, uint32_t lease_secs, uint32_t quarantine_secs,
		struct store_start_report *report)
{
	int64_t clean = 0, n = 0;
	int rc;

	memset(report, 0, sizeof(*report));
	rc = run(store, ST_BEGIN);
	if (rc == 0)
		rc = run_sql(store, "SELECT value FROM store_state WHERE name = 'clean'", 0, 0,
			     &clean);
	if (rc == 0 && !clean) {
		/* Power may have gone: bindings of the last flush interval may be forgotten, and
		 * their values are back in reserve. Every reserved value rests for a lease (an
		 * answer naming it may be cached) plus the quarantine. */
		report->unclean = true;
		rc = run_sql(store, "SELECT count(DISTINCT value) FROM reserve", 0, 0, &n);
		report->reserved_quarantined = (uint64_t)n;
		if (rc == 0)
			rc = run_sql(
				store,
				"INSERT INTO quarantine (value, until) SELECT DISTINCT value, ?1"
				" FROM reserve WHERE true ON CONFLICT (value)"
				" DO UPDATE SET until = max(until, excluded.until)",
				now + lease_secs + quarantine_secs, 0, NULL);
		if (rc == 0)
			rc = run_sql(store, "DELETE FROM reserve", 0, 0, NULL);
		/* extensions of the lost interval are forgotten too: every lease may run to
		 * now + lease, as one acknowledged just before the crash would */
		if (rc == 0)
			rc = run_sql(store,
				     "UPDATE local_mapping SET expires = ?1"
				     " WHERE expires IS NOT NULL AND expires < ?1",
				     now + lease_secs, 0, NULL);
		if (rc == 0)
			report->leases_extended = (uint64_t)sqlite3_changes64(store->db);
		if (rc == 0)
			rc = run_sql(store,
				     "UPDATE remote_mapping SET expires = ?1"
				     " WHERE expires IS NOT NULL AND expires < ?1",
				     now + lease_secs, 0, NULL);
		if (rc == 0)
			report->leases_extended += (uint64_t)sqlite3_changes64(store->db);
	}
	/* after a clean stop every reserved value is on disk and unused: usable at once */
	if (rc == 0)
		rc = run_sql(store, "UPDATE reserve SET seq = 0 WHERE seq <> 0", 0, 0, NULL);
	if (rc == 0)
		rc = run_sql(store, "UPDATE store_state SET value = 0 WHERE name = 'clean'", 0, 0,
			     NULL);
	if (rc < 0) {
		store_rollback(store);
		return rc;
	}
	rc = run(store, ST_COMMIT);
	if (rc < 0) {
		store_rollback(store);
		return rc;
	}
	store->commit_gen++;
	pools_forget(store); /* the reserve was emptied or renumbered by SQL of its own */
	/* on disk before anything is bound: the next start must see "not clean" */
	return store_flush_now(&store->flush, store->commit_gen);
}

int store_mark_clean(struct store *store)
{
	int rc = run(store, ST_BEGIN);

	if (rc == 0)
		rc = run_sql(store, "UPDATE store_state SET value = 1 WHERE name = 'clean'", 0, 0,
			     NULL);
	if (rc == 0)
		rc = run(store, ST_COMMIT);
	if (rc < 0) {
		store_rollback(store);
		return rc;
	}
	store->commit_gen++;
	/* the mark and every commit before it, on disk together */
	return store_flush_now(&store->flush, store->commit_gen);
}

void store_rollback(struct store *store)
{
	pools_forget(store);
	if (!sqlite3_get_autocommit(store->db))
		(void)run(store, ST_ROLLBACK);
}

void store_wal_status(const struct store *store, uint64_t *bytes, int64_t *held_ms)
{
	*bytes = store_wal_size(&store->wal);
	*held_ms = store_wal_held_ms(&store->wal, ipr_clock_ms());
}

bool store_replaced(const struct store *store)
{
	return store->replaced;
}

uint64_t store_changes(const struct store *store)
{
	return (uint64_t)sqlite3_total_changes64(store->db);
}

bool store_in_transaction(const struct store *store)
{
	return !sqlite3_get_autocommit(store->db);
}

int store_find_remote(struct store *store, int family, const struct ipr_context *context,
		      const struct ipr_ref *ref, struct ipr_mapping *out)
{
	sqlite3_stmt *st = store->stmt[ST_REMOTE_BY_ADDR];
	char context_text[IPR_ADDR_TEXT_MAX], ref_text[IPR_REF_TEXT_MAX];

	ipr_context_format(context, context_text);
	ipr_ref_format(ref, ref_text);
	sqlite3_bind_int(st, 1, family == AF_INET ? 4 : 6);
	bind_text(st, 2, context_text);
	bind_text(st, 3, ref_text);
	return fetch_one(store, ST_REMOTE_BY_ADDR, out);
}

int store_find_encoded(struct store *store, int family, const uint8_t *encoded,
		       struct ipr_mapping *out)
{
	char text[INET6_ADDRSTRLEN];

	address_text(family, encoded, text);
	bind_text(store->stmt[ST_REMOTE_BY_ENCODED], 1, text);
	return fetch_one(store, ST_REMOTE_BY_ENCODED, out);
}

int store_find_ref(struct store *store, const struct ipr_ref *ref, struct ipr_mapping *out)
{
	char text[IPR_REF_TEXT_MAX];

	ipr_ref_format(ref, text);
	bind_text(store->stmt[ST_LOCAL_BY_REF], 1, text);
	return fetch_one(store, ST_LOCAL_BY_REF, out);
}

int store_find_local(struct store *store, int family, const uint8_t *address,
		     struct ipr_mapping *out)
{
	char text[INET6_ADDRSTRLEN];

	address_text(family, address, text);
	bind_text(store->stmt[ST_LOCAL_BY_ADDRESS], 1, text);
	return fetch_one(store, ST_LOCAL_BY_ADDRESS, out);
}

int store_insert(struct store *store, struct ipr_mapping *m)
{
	enum stmt s = ipr_mapping_is_local(m) ? ST_INSERT_LOCAL : ST_INSERT_REMOTE;
	sqlite3_stmt *st = store->stmt[s];
	char address[INET6_ADDRSTRLEN], context[IPR_ADDR_TEXT_MAX], ref[IPR_REF_TEXT_MAX];
	int rc;

	address_text(m->family, m->address, address);
	ipr_context_format(&m->context, context);
	ipr_ref_format(&m->ref, ref);
	sqlite3_bind_int(st, 1, m->kind);
	bind_text(st, 2, address);
	sqlite3_bind_int(st, 3, m->family == AF_INET ? 4 : 6);
	bind_text(st, 4, context);
	bind_text(st, 5, ref);
	bind_text(st, 6, m->name);
	if (m->expires)
		sqlite3_bind_int64(st, 7, m->expires);
	else
		sqlite3_bind_null(st, 7);
	bind_text(st, 8, m->source[0] ? m->source : "unknown");
	rc = run(store, s);
	if (rc == 0)
		m->id = sqlite3_last_insert_rowid(store->db);
	return rc;
}

/* The quarantine key of a mapping's allocated value: its encoded address or our reference. */
static void quarantine_key(const struct ipr_mapping *m, char *buf, size_t size)
{
	char text[IPR_ADDR_TEXT_MAX];

	if (ipr_mapping_is_local(m)) {
		ipr_ref_format(&m->ref, text);
		snprintf(buf, size, "ref:%s", text);
	} else {
		address_text(m->family, m->address, text);
		snprintf(buf, size, "encoded:%s", text);
	}
}

int store_delete(struct store *store, const struct ipr_mapping *m, int64_t quarantine_until)
{
	enum stmt s = ipr_mapping_is_local(m) ? ST_DELETE_LOCAL : ST_DELETE_REMOTE;
	char key[IPR_ADDR_TEXT_MAX + 16];
	int rc;

	sqlite3_bind_int64(store->stmt[s], 1, m->id);
	rc = run(store, s);
	if (rc < 0 || quarantine_until <= 0)
		return rc;
	if (sqlite3_changes(store->db) == 0)
		return -ENOENT;
	quarantine_key(m, key, sizeof(key));
	bind_text(store->stmt[ST_QUARANTINE_ADD], 1, key);
	sqlite3_bind_int64(store->stmt[ST_QUARANTINE_ADD], 2, quarantine_until);
	return run(store, ST_QUARANTINE_ADD);
}

int store_set_expiry(struct store *store, const struct ipr_mapping *m, int64_t expires)
{
	enum stmt s = ipr_mapping_is_local(m) ? ST_EXPIRY_LOCAL : ST_EXPIRY_REMOTE;

	sqlite3_bind_int64(store->stmt[s], 1, m->id);
	sqlite3_bind_int64(store->stmt[s], 2, expires);
	return run(store, s);
}

static int quarantined(struct store *store, const char *key, int64_t now)
{
	sqlite3_stmt *st = store->stmt[ST_QUARANTINE_HAS];
	int rc;

	bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return store_errno(rc);
}

int store_encoded_quarantined(struct store *store, int family, const uint8_t *encoded, int64_t now)
{
	char text[INET6_ADDRSTRLEN], key[INET6_ADDRSTRLEN + 16];

	address_text(family, encoded, text);
	snprintf(key, sizeof(key), "encoded:%s", text);
	return quarantined(store, key, now);
}

int store_encoded_free(struct store *store, int family, const uint8_t *encoded, int64_t now)
{
	sqlite3_stmt *st = store->stmt[ST_ENCODED_BUSY];
	char text[INET6_ADDRSTRLEN];
	int rc, busy = 1;

	address_text(family, encoded, text);
	bind_text(st, 1, text);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		busy = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	rc = store_errno(rc);
	return rc < 0 ? rc : !busy;
}

int store_ref_quarantined(struct store *store, const struct ipr_ref *ref, int64_t now)
{
	char text[IPR_REF_TEXT_MAX], key[IPR_REF_TEXT_MAX + 8];

	ipr_ref_format(ref, text);
	snprintf(key, sizeof(key), "ref:%s", text);
	return quarantined(store, key, now);
}

int store_mark_used(struct store *store, const struct ipr_mapping *m, int64_t now)
{
	if (ipr_mapping_is_local(m))
		return 0;
	sqlite3_bind_int64(store->stmt[ST_MARK_USED], 1, m->id);
	sqlite3_bind_int64(store->stmt[ST_MARK_USED], 2, now);
	return run(store, ST_MARK_USED);
}

int store_inbound_count(struct store *store, const struct ipr_context *peer, uint64_t *count)
{
	enum stmt s = peer ? ST_INBOUND_COUNT_PEER : ST_INBOUND_COUNT;
	sqlite3_stmt *st = store->stmt[s];
	char text[IPR_ADDR_TEXT_MAX];
	int rc;

	if (peer) {
		ipr_context_format(peer, text);
		bind_text(st, 1, text);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	return store_errno(rc);
}

int store_inbound_idle(struct store *store, const struct ipr_context *peer, struct ipr_mapping *out)
{
	enum stmt s = peer ? ST_INBOUND_IDLE_PEER : ST_INBOUND_IDLE;
	char text[IPR_ADDR_TEXT_MAX];

	if (peer) {
		ipr_context_format(peer, text);
		bind_text(store->stmt[s], 1, text);
	}
	return fetch_one(store, s, out);
}

int store_encoded_taken(struct store *store, int family, uint64_t *count)
{
	sqlite3_stmt *st = store->stmt[ST_ENCODED_TAKEN];
	int rc;

	sqlite3_bind_int(st, 1, family == AF_INET ? 4 : 6);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	return store_errno(rc);
}

int store_expired(struct store *store, int64_t now, struct ipr_mapping *out, size_t max)
{
	int64_t last;
	int local, remote;

	sqlite3_bind_int64(store->stmt[ST_EXPIRED_LOCAL], 1, now);
	sqlite3_bind_int64(store->stmt[ST_EXPIRED_LOCAL], 2, (int64_t)max);
	local = fetch_many(store, ST_EXPIRED_LOCAL, out, max, &last);
	if (local < 0 || (size_t)local == max)
		return local;
	sqlite3_bind_int64(store->stmt[ST_EXPIRED_REMOTE], 1, now);
	sqlite3_bind_int64(store->stmt[ST_EXPIRED_REMOTE], 2, (int64_t)(max - (size_t)local));
	remote = fetch_many(store, ST_EXPIRED_REMOTE, out + local, max - (size_t)local, &last);
	return remote < 0 ? remote : local + remote;
}

int store_purge_quarantine(struct store *store, int64_t now)
{
	sqlite3_bind_int64(store->stmt[ST_QUARANTINE_PURGE], 1, now);
	return run(store, ST_QUARANTINE_PURGE);
}

/* Pages through a local table, then a remote one, as one sequence (see CURSOR_REMOTE). */
static int list_pair(struct store *store, enum stmt local_stmt, enum stmt remote_stmt,
		     uint64_t *cursor, struct ipr_mapping *out, size_t max)
{
	bool remote = *cursor & CURSOR_REMOTE;
	int64_t last = (int64_t)(*cursor & ~CURSOR_REMOTE);
	int n = 0, more;

	if (!remote) {
		sqlite3_bind_int64(store->stmt[local_stmt], 1, last);
		sqlite3_bind_int64(store->stmt[local_stmt], 2, (int64_t)max);
		n = fetch_many(store, local_stmt, out, max, &last);
		if (n < 0)
			return n;
		if (n > 0)
			*cursor = (uint64_t)last;
		if ((size_t)n == max)
			return n;
		/* local rows done: fill the rest of the page from the remote table */
		last = 0;
	}
	sqlite3_bind_int64(store->stmt[remote_stmt], 1, last);
	sqlite3_bind_int64(store->stmt[remote_stmt], 2, (int64_t)(max - (size_t)n));
	more = fetch_many(store, remote_stmt, out + n, max - (size_t)n, &last);
	if (more < 0)
		return more;
	if (more > 0)
		*cursor = CURSOR_REMOTE | (uint64_t)last;
	return n + more;
}

int store_list(struct store *store, uint64_t *cursor, struct ipr_mapping *out, size_t max)
{
	return list_pair(store, ST_LIST_LOCAL, ST_LIST_REMOTE, cursor, out, max);
}

int store_list_from_files(struct store *store, uint64_t *cursor, struct ipr_mapping *out,
			  size_t max)
{
	return list_pair(store, ST_FIXED_LOCAL, ST_FIXED_REMOTE, cursor, out, max);
}

int store_savepoint(struct store *store)
{
	return run(store, ST_SAVEPOINT);
}

int store_release(struct store *store)
{
	return run(store, ST_RELEASE);
}

void store_rollback_to(struct store *store)
{
	/* counts only: deleting at commit what was taken before the savepoint is still right,
	 * and deleting a row given back after it only shortens the reserve */
	for (size_t i = 0; i < STORE_POOLS_KEPT; i++)
		store->pools[i].count = -1;
	if (store_in_transaction(store) && run(store, ST_ROLLBACK_TO) == 0)
		(void)run(store, ST_RELEASE);
}

int store_count(struct store *store, struct store_counts *counts)
{
	sqlite3_stmt *st = store->stmt[ST_COUNT];
	int rc;

	memset(counts, 0, sizeof(*counts));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int64_t n = sqlite3_column_int64(st, 1);
		unsigned kind;

		/* a count edited below zero by hand reads as 0, not as 2^64 - 1 */
		if (!name || n < 0)
			continue;
		if (sscanf(name, "mappings.%u", &kind) == 1 && kind >= IPR_MAP_PUBLISHED &&
		    kind <= IPR_MAP_STATIC_EXTERNAL)
			counts->by_kind[kind] = (uint64_t)n;
		else if (strncmp(name, "quarantine.", 11) == 0)
			counts->quarantined += (uint64_t)n;
		else if (strcmp(name, "hold.client") == 0)
			counts->held_client = (uint64_t)n;
		else if (strcmp(name, "hold.inbound") == 0)
			counts->held_inbound = (uint64_t)n;
	}
	sqlite3_reset(st);
	counts->bad_rows = store->bad_rows;
	return store_errno(rc);
}
