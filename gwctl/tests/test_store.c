/* Unit tests of the SQLite store on real files: identity, rows, quarantine, paging, the WAL. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "schema.h"
#include "store_engine.h"
#include "store.h"
#include "store_hold.h"
#include "store_wal.h"
#include "watch_vfs.h"

/* A test of the SQLite engine's files and migrations: skipped on PostgreSQL (IPREF_TEST_PG). */
#define SQLITE_ONLY()                \
	do {                         \
		if (test_store_pg()) \
			skip();      \
	} while (0)

struct fixture {
	char dir[64];
	char path[128];
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char msg[512];

	strcpy(fx->dir, "/tmp/ipref-store-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/gw.db", fx->dir);
	test_store_reset();
	assert_int_equal(test_store_open(fx->path, &fx->store, msg, sizeof(msg)), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[160];

	store_close(fx->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static struct ipr_mapping remote(const char *encoded, const char *context, uint64_t ref)
{
	struct ipr_mapping m = { .kind = IPR_MAP_DYNAMIC_REMOTE, .expires = 5000 };

	m.family = strchr(encoded, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(m.family, encoded, m.address), 1);
	assert_int_equal(ipr_context_parse(context, strlen(context), &m.context, NULL), 0);
	m.ref = ipr_ref_from_u64(ref);
	strcpy(m.source, "test");
	return m;
}

static struct ipr_mapping local(const char *address, uint64_t ref, enum ipr_mapping_kind kind)
{
	struct ipr_mapping m = { .kind = kind,
				 .expires = kind == IPR_MAP_DYNAMIC_LOCAL ? 5000 : 0 };

	m.family = strchr(address, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(m.family, address, m.address), 1);
	assert_int_equal(ipr_context_parse("198.51.100.1", 12, &m.context, NULL), 0);
	m.ref = ipr_ref_from_u64(ref);
	strcpy(m.source, "test");
	return m;
}

static int64_t pragma(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t value = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return value;
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_new_store_identity(void **state)
{
	SQLITE_ONLY();
	struct fixture *fx = *state;
	char msg[512];

	assert_int_equal(pragma(fx->path, "PRAGMA application_id"), SCHEMA_APPLICATION_ID);
	assert_int_equal(pragma(fx->path, "PRAGMA user_version"), schema_version);
	assert_int_equal(pragma(fx->path, "SELECT count(*) FROM mappings"), 0);
	/* reopening an existing store is fine and changes nothing */
	store_close(fx->store);
	assert_int_equal(store_open(fx->path, &fx->store, msg, sizeof(msg)), 0);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	assert_non_null(f);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* Refused files are left byte for byte as they were. */
static void expect_refused(const char *path, const char *words)
{
	struct store *store = NULL;
	char msg[512] = "";
	size_t before_len, after_len;
	char *before = read_file(path, &before_len);

	assert_true(store_open(path, &store, msg, sizeof(msg)) < 0);
	assert_null(store);
	if (!strstr(msg, words))
		fail_msg("message '%s' does not say '%s'", msg, words);
	char *after = read_file(path, &after_len);
	assert_int_equal(before_len, after_len);
	assert_memory_equal(before, after, before_len);
	free(before);
	free(after);
}

static void test_refuses_foreign_and_broken(void **state)
{
	SQLITE_ONLY();
	struct fixture *fx = *state;
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/other.db", fx->dir);
	raw_exec(path, "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT);"
		       "INSERT INTO photos (name) VALUES ('cat.jpg')");
	expect_refused(path, "another application");

	snprintf(path, sizeof(path), "%s/garbage.db", fx->dir);
	f = fopen(path, "wb");
	for (int i = 0; i < 4096; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);
	expect_refused(path, "not a usable SQLite database");

	/* a store from a newer version of the daemon */
	store_close(fx->store);
	fx->store = NULL;
	raw_exec(fx->path, "PRAGMA user_version = 99");
	expect_refused(fx->path, "newer gwctld");
}

static void test_refuses_corrupt(void **state)
{
	SQLITE_ONLY();
	struct fixture *fx = *state;
	char msg[512];
	FILE *f;

	/* enough rows for several pages, then scribble over the middle of the file */
	assert_int_equal(store_begin(fx->store), 0);
	for (int i = 0; i < 2000; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "10.240.%d.%d", i / 250, i % 250 + 2);
		struct ipr_mapping m = remote(addr, "192.0.2.1", (uint64_t)i + 5000);
		assert_int_equal(store_insert(fx->store, &m), 0);
	}
	assert_int_equal(store_commit(fx->store), 0);
	store_close(fx->store);
	fx->store = NULL;
	raw_exec(fx->path, "PRAGMA wal_checkpoint(TRUNCATE)");
	f = fopen(fx->path, "r+b");
	assert_non_null(f);
	/* the b-tree page headers of pages 2 to 9 */
	for (long page = 1; page < 9; page++) {
		fseek(f, page * 4096, SEEK_SET);
		for (int i = 0; i < 32; i++)
			fputc(0xa5, f);
	}
	fclose(f);
	assert_true(store_open(fx->path, &fx->store, msg, sizeof(msg)) < 0);
	assert_non_null(strstr(msg, "corrupt"));
}

static void test_rows(void **state)
{
	struct fixture *fx = *state;
	struct ipr_mapping a = remote("10.240.0.5", "192.0.2.1", 2466);
	struct ipr_mapping b = remote("fdee:eeee::5", "2001:db8::1", 2466);
	struct ipr_mapping c = local("172.17.1.75", 4294967300ULL, IPR_MAP_DYNAMIC_LOCAL);
	struct ipr_mapping p = local("172.17.1.75", 5000, IPR_MAP_PUBLISHED);
	struct ipr_mapping found;

	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_insert(fx->store, &a), 0);
	assert_int_equal(store_insert(fx->store, &b), 0);
	assert_int_equal(store_insert(fx->store, &c), 0);
	assert_int_equal(store_commit(fx->store), 0);

	assert_int_equal(store_find_remote(fx->store, AF_INET, &a.context, &a.ref, &found), 0);
	assert_memory_equal(found.address, a.address, 4);
	assert_int_equal(found.expires, 5000);
	assert_string_equal(found.source, "test");
	assert_int_equal(store_find_remote(fx->store, AF_INET6, &a.context, &a.ref, &found),
			 -ENOENT);
	assert_int_equal(store_find_encoded(fx->store, AF_INET6, b.address, &found), 0);
	assert_true(ipr_context_equal(&found.context, &b.context));
	assert_int_equal(store_find_ref(fx->store, &c.ref, &found), 0);
	assert_int_equal(found.kind, IPR_MAP_DYNAMIC_LOCAL);

	/* unique values stay unique */
	struct ipr_mapping dup = remote("10.240.0.6", "192.0.2.1", 2466);
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_insert(fx->store, &dup), -EEXIST);
	dup = remote("10.240.0.5", "192.0.2.9", 1);
	assert_int_equal(store_insert(fx->store, &dup), -EEXIST);
	/* a host may be published besides its dynamic reference; the published one comes first */
	assert_int_equal(store_insert(fx->store, &p), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(store_find_local(fx->store, AF_INET, c.address, &found), 0);
	assert_int_equal(found.kind, IPR_MAP_PUBLISHED);

	/* deleting quarantines the value until the given time */
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_delete(fx->store, &a, 7000), 0);
	assert_int_equal(store_delete(fx->store, &c, 7000), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(store_find_encoded(fx->store, AF_INET, a.address, &found), -ENOENT);
	assert_int_equal(store_encoded_quarantined(fx->store, AF_INET, a.address, 6999), 1);
	assert_int_equal(store_encoded_quarantined(fx->store, AF_INET, a.address, 7000), 0);
	assert_int_equal(store_ref_quarantined(fx->store, &c.ref, 100), 1);
	uint64_t taken = 0;
	assert_int_equal(store_encoded_taken(fx->store, AF_INET, &taken), 0);
	assert_int_equal(taken, 1); /* a's address, resting */
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_purge_quarantine(fx->store, 7000), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(store_encoded_quarantined(fx->store, AF_INET, a.address, 100), 0);

	struct store_counts counts;
	assert_int_equal(store_count(fx->store, &counts), 0);
	assert_int_equal(counts.by_kind[IPR_MAP_DYNAMIC_REMOTE], 1);
	assert_int_equal(counts.by_kind[IPR_MAP_PUBLISHED], 1);
	assert_int_equal(counts.by_kind[IPR_MAP_DYNAMIC_LOCAL], 0);
}

/*
 * store_bind_remote: the row added when the address has none, the mapping it has otherwise
 * (the value offered left alone), nothing when the value is taken; the transaction goes on.
 */
static void test_bind_remote(void **state)
{
	struct fixture *fx = *state;
	struct ipr_mapping a = remote("10.240.0.5", "192.0.2.1", 2466);
	struct ipr_mapping again = remote("10.240.0.6", "192.0.2.1", 2466);
	struct ipr_mapping clash = remote("10.240.0.5", "192.0.2.1", 2467);
	struct ipr_mapping other = remote("10.240.0.7", "192.0.2.1", 2467);
	struct ipr_mapping found;
	struct store_counts counts;

	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_bind_remote(fx->store, &a), 0);
	assert_true(a.id > 0);
	assert_int_equal(store_bind_remote(fx->store, &again), 1);
	assert_int_equal(again.id, a.id);
	assert_memory_equal(again.address, a.address, 4);
	assert_int_equal(again.expires, 5000);
	assert_int_equal(store_bind_remote(fx->store, &clash), -EEXIST);
	assert_int_equal(store_bind_remote(fx->store, &other), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(store_find_encoded(fx->store, AF_INET, other.address, &found), 0);
	assert_true(ipr_ref_equal(&found.ref, &other.ref));
	again = remote("10.240.0.6", "192.0.2.1", 2466); /* the value offered: not bound */
	assert_int_equal(store_find_encoded(fx->store, AF_INET, again.address, &found), -ENOENT);
	assert_int_equal(store_count(fx->store, &counts), 0);
	assert_int_equal(counts.by_kind[IPR_MAP_DYNAMIC_REMOTE], 2);
}

/* store_insert_held: the mapping and its value's live hold, or neither when the value is taken. */
static void test_insert_held(void **state)
{
	struct fixture *fx = *state;
	struct ipr_mapping a = remote("10.240.0.5", "192.0.2.1", 2466);
	struct ipr_mapping clash = remote("10.240.0.5", "192.0.2.1", 2467);
	struct ipr_mapping found;
	bool live = false;
	int64_t until = 0;
	uint64_t held = 0;

	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_insert_held(fx->store, &a, "client:192.168.1.10", 6000), 0);
	assert_true(a.id > 0);
	assert_int_equal(store_insert_held(fx->store, &clash, "client:192.168.1.11", 7000),
			 -EEXIST);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(store_find_remote(fx->store, AF_INET, &a.context, &a.ref, &found), 0);
	assert_int_equal(found.id, a.id);
	assert_int_equal(store_hold_get(fx->store, "10.240.0.5", &live, &until), 1);
	assert_true(live);
	assert_int_equal(until, 6000);
	assert_int_equal(store_hold_count_pool(fx->store, "client:192.168.1.10", &held), 0);
	assert_int_equal(held, 1);
	assert_int_equal(store_hold_count_pool(fx->store, "client:192.168.1.11", &held), 0);
	assert_int_equal(held, 0);
}

static void test_expiry_and_sweep_query(void **state)
{
	struct fixture *fx = *state;
	struct ipr_mapping a = remote("10.240.0.5", "192.0.2.1", 1), out[8];
	struct ipr_mapping s = remote("10.240.0.6", "192.0.2.1", 2);

	s.kind = IPR_MAP_STATIC_EXTERNAL;
	s.expires = 0;
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_insert(fx->store, &a), 0);
	assert_int_equal(store_insert(fx->store, &s), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(store_expired(fx->store, 4999, out, 8), 0);
	assert_int_equal(store_expired(fx->store, 5000, out, 8), 1);
	assert_int_equal(out[0].id, a.id);
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_set_expiry(fx->store, &a, 9000), 0);
	assert_int_equal(store_set_expiry(fx->store, &s, 9000), 0); /* static: ignored */
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(store_expired(fx->store, 8999, out, 8), 0);
	assert_int_equal(store_expired(fx->store, 1000000, out, 8), 1);
}

static void test_list_pages_and_bad_rows(void **state)
{
	struct fixture *fx = *state;
	struct ipr_mapping page[3];
	uint64_t cursor = 0, seen_local = 0, seen_remote = 0;
	struct store_counts counts;
	int n, pages = 0;

	assert_int_equal(store_begin(fx->store), 0);
	for (int i = 0; i < 10; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "10.240.0.%d", i + 2);
		struct ipr_mapping m = remote(addr, "192.0.2.1", (uint64_t)i + 1);
		assert_int_equal(store_insert(fx->store, &m), 0);
		snprintf(addr, sizeof(addr), "172.17.0.%d", i + 2);
		m = local(addr, (uint64_t)i + 5000, IPR_MAP_PUBLISHED);
		assert_int_equal(store_insert(fx->store, &m), 0);
	}
	assert_int_equal(store_commit(fx->store), 0);
	/* a row someone wrote by hand that does not hold together */
	assert_int_equal(
		test_store_sql(fx->store,
			       "INSERT INTO remote_mapping (kind, encoded, family, context,"
			       " ref, source, created, expires) VALUES (3, 'not-an-address',"
			       " 4, '192.0.2.1', '77', 'hand', 0, 1)",
			       NULL, NULL, 0),
		0);

	while ((n = store_list(fx->store, &cursor, page, 3)) > 0) {
		pages++;
		for (int i = 0; i < n; i++) {
			if (ipr_mapping_is_local(&page[i]))
				seen_local |= 1ULL << (page[i].ref.lo - 5000);
			else
				seen_remote |= 1ULL << page[i].ref.lo;
		}
		assert_true(pages < 20);
	}
	assert_int_equal(n, 0);
	assert_int_equal(seen_local, 0x3ff);
	assert_int_equal(seen_remote, 0x7fe);
	assert_int_equal(store_count(fx->store, &counts), 0);
	assert_int_equal(counts.bad_rows, 1);
	/* looking the broken row up says so instead of inventing a mapping */
	struct ipr_ref ref = ipr_ref_from_u64(77);
	struct ipr_context ctx;
	struct ipr_mapping m;
	assert_int_equal(ipr_context_parse("192.0.2.1", 9, &ctx, NULL), 0);
	assert_int_equal(store_find_remote(fx->store, AF_INET, &ctx, &ref, &m), -EBADMSG);
}

/* A store whose file is deleted refuses writes (reads go on); an orphan WAL refuses a start. */
static void test_deleted_under_us(void **state)
{
	SQLITE_ONLY();
	struct fixture *fx = *state;
	struct ipr_mapping m = remote("10.240.0.5", "192.0.2.1", 5);
	struct store *again = NULL;
	char wal[160], msg[512];
	FILE *f;

	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_insert(fx->store, &m), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_false(store_replaced(fx->store));
	assert_int_equal(unlink(fx->path), 0);
	/* a read-only transaction still commits */
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_find_encoded(fx->store, AF_INET, m.address, &m), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_true(store_replaced(fx->store));
	/* a write does not, and leaves nothing behind */
	m = remote("10.240.0.6", "192.0.2.1", 6);
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_insert(fx->store, &m), 0);
	assert_int_equal(store_commit(fx->store), -ESTALE);
	assert_false(store_in_transaction(fx->store));
	assert_int_equal(store_find_encoded(fx->store, AF_INET, m.address, &m), -ENOENT);

	/* at start, a missing database beside its WAL is not created afresh */
	store_close(fx->store);
	fx->store = NULL;
	snprintf(wal, sizeof(wal), "%s-wal", fx->path);
	f = fopen(wal, "w");
	assert_non_null(f);
	fputs("not empty", f);
	fclose(f);
	assert_int_equal(store_open(fx->path, &again, msg, sizeof(msg)), -EEXIST);
	assert_null(again);
	assert_non_null(strstr(msg, "gw.db-wal"));
	assert_int_equal(access(fx->path, F_OK), -1);
}

static void assert_counts(struct store *store, uint64_t published, uint64_t dynamic_remote,
			  uint64_t quarantined, uint64_t taken_v4)
{
	struct store_counts counts;
	uint64_t taken = 0;

	assert_int_equal(store_count(store, &counts), 0);
	assert_int_equal(counts.by_kind[IPR_MAP_PUBLISHED], published);
	assert_int_equal(counts.by_kind[IPR_MAP_DYNAMIC_REMOTE], dynamic_remote);
	assert_int_equal(counts.quarantined, quarantined);
	assert_int_equal(store_encoded_taken(store, AF_INET, &taken), 0);
	assert_int_equal(taken, taken_v4);
}

/* Counts are kept as rows change, roll back with them, and start from an older store's rows. */
static void test_counts_follow_changes(void **state)
{
	struct fixture *fx = *state;
	struct ipr_mapping a = remote("10.240.0.5", "192.0.2.1", 1);
	struct ipr_mapping b = remote("10.240.0.6", "192.0.2.1", 2);
	struct ipr_mapping six = remote("fd00::6", "192.0.2.1", 3);
	struct ipr_mapping p = local("172.17.0.5", 5000, IPR_MAP_PUBLISHED);
	char msg[512];

	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_insert(fx->store, &a), 0);
	assert_int_equal(store_insert(fx->store, &b), 0);
	assert_int_equal(store_insert(fx->store, &six), 0);
	assert_int_equal(store_insert(fx->store, &p), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_counts(fx->store, 1, 3, 0, 2);

	/* a rolled-back transaction and a dropped savepoint take their counts with them */
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_delete(fx->store, &a, 7000), 0);
	assert_counts(fx->store, 1, 2, 1, 2); /* a's address rests: still taken */
	store_rollback(fx->store);
	assert_counts(fx->store, 1, 3, 0, 2);
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_savepoint(fx->store), 0);
	assert_int_equal(store_delete(fx->store, &p, 0), 0);
	store_rollback_to(fx->store);
	assert_int_equal(store_delete(fx->store, &a, 7000), 0);
	assert_int_equal(store_delete(fx->store, &six, 7000), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_counts(fx->store, 1, 1, 2, 2);

	/* a value quarantined again is renewed, not counted twice; purging uncounts it */
	a.id = 0;
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_insert(fx->store, &a), 0);
	assert_int_equal(store_delete(fx->store, &a, 8000), 0);
	assert_counts(fx->store, 1, 1, 2, 2);
	assert_int_equal(store_purge_quarantine(fx->store, 8000), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_counts(fx->store, 1, 1, 0, 1);

	/* a store from before the counts (schema version 2) is counted once by the migration:
	 * SQLite's; store-pg-schema checks PostgreSQL's migrations */
	if (test_store_pg())
		return;
	store_close(fx->store);
	fx->store = NULL;
	raw_exec(fx->path,
		 "DROP TABLE reserve; DROP TABLE store_state;"
		 " DROP TABLE counts; DROP TRIGGER local_mapping_count_insert;"
		 " DROP TRIGGER local_mapping_count_delete;"
		 " DROP TRIGGER local_mapping_count_update;"
		 " DROP TRIGGER remote_mapping_count_insert;"
		 " DROP TRIGGER remote_mapping_count_delete;"
		 " DROP TRIGGER remote_mapping_count_update;"
		 " DROP TRIGGER quarantine_count_insert; DROP TRIGGER quarantine_count_delete;"
		 " DROP TRIGGER quarantine_count_update;"
		 " DROP TABLE quota_hold; DROP TABLE hold_counts;" /* later migrations' */
		 " INSERT INTO quarantine VALUES ('encoded:10.240.0.9', 9000),"
		 " ('encoded:fd00::9', 9000), ('ref:77777', 9000);"
		 " PRAGMA user_version = 2");
	assert_int_equal(store_open(fx->path, &fx->store, msg, sizeof(msg)), 0);
	assert_counts(fx->store, 1, 1, 3, 2);
}

/*
 * Migration 6 rewrote the remote mappings' counting triggers without IN lists (a temporary
 * index per row): a store of schema 5 counts the same after it, inserts, deletes and changes
 * of kind or family included, and no trigger keeps an IN list.
 */
static void test_count_triggers_migration(void **state)
{
	SQLITE_ONLY();
	struct fixture *fx = *state;
	struct ipr_mapping a = remote("10.240.0.5", "192.0.2.1", 1);
	struct ipr_mapping six = remote("fd00::6", "192.0.2.1", 3);
	char msg[512];

	/* back to schema 5: the triggers as migration 3 wrote them */
	store_close(fx->store);
	fx->store = NULL;
	raw_exec(
		fx->path,
		"DROP TRIGGER remote_mapping_count_insert; DROP TRIGGER "
		"remote_mapping_count_delete;"
		" DROP TRIGGER remote_mapping_count_update;"
		" CREATE TRIGGER remote_mapping_count_insert AFTER INSERT ON remote_mapping BEGIN"
		" UPDATE counts SET value = value + 1"
		" WHERE name IN ('mappings.' || NEW.kind, 'encoded.' || NEW.family); END;"
		" CREATE TRIGGER remote_mapping_count_delete AFTER DELETE ON remote_mapping BEGIN"
		" UPDATE counts SET value = value - 1"
		" WHERE name IN ('mappings.' || OLD.kind, 'encoded.' || OLD.family); END;"
		" INSERT INTO remote_mapping (kind, encoded, family, context, ref, expires, source,"
		" created) VALUES (3, '10.240.0.9', 4, '192.0.2.1', '9', 5000, 't', 0);"
		" DROP TABLE hold_counts; DROP TRIGGER quota_hold_pool_count_insert;"
		" DROP TRIGGER quota_hold_pool_count_delete;"
		" DROP TRIGGER quota_hold_pool_count_update;"
		" DROP TRIGGER quota_hold_count_update; DROP TRIGGER quarantine_count_update;"
		" INSERT INTO quota_hold VALUES ('10.240.0.20', 'client:192.168.1.5', 1, 9000),"
		" ('10.240.0.21', 'client:192.168.1.5', 0, 9000);"
		" PRAGMA user_version = 5");
	assert_int_equal(pragma(fx->path, "SELECT value FROM counts WHERE name = 'encoded.4'"), 1);
	assert_int_equal(store_open(fx->path, &fx->store, msg, sizeof(msg)), 0);
	assert_int_equal(pragma(fx->path, "PRAGMA user_version"), schema_version);
	/* migration 7 counted the holds there were */
	assert_int_equal(pragma(fx->path, "SELECT value FROM hold_counts"
					  " WHERE pool = 'client:192.168.1.5'"),
			 2);
	assert_int_equal(pragma(fx->path,
				"SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"
				" AND name LIKE 'remote_mapping_count_%'"),
			 3);
	assert_int_equal(pragma(fx->path,
				"SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"
				" AND sql LIKE '% IN (%'"),
			 0);
	assert_counts(fx->store, 0, 1, 0, 1);

	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_insert(fx->store, &a), 0);
	assert_int_equal(store_insert(fx->store, &six), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_counts(fx->store, 0, 3, 0, 2);
	/* a change of kind moves one count, of family the other */
	raw_exec(fx->path, "UPDATE remote_mapping SET kind = 4, expires = NULL"
			   " WHERE encoded = '10.240.0.9'");
	assert_counts(fx->store, 0, 2, 0, 2);
	assert_int_equal(pragma(fx->path, "SELECT value FROM counts WHERE name = 'mappings.4'"), 1);
	raw_exec(fx->path, "UPDATE remote_mapping SET family = 6 WHERE encoded = '10.240.0.9'");
	assert_counts(fx->store, 0, 2, 0, 1);
	assert_int_equal(pragma(fx->path, "SELECT value FROM counts WHERE name = 'encoded.6'"), 2);
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_delete(fx->store, &a, 0), 0);
	assert_int_equal(store_delete(fx->store, &six, 0), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_counts(fx->store, 0, 0, 0, 0);
	assert_int_equal(pragma(fx->path, "SELECT value FROM counts WHERE name = 'encoded.6'"), 1);
}

static int64_t count_row(struct fixture *fx, const char *name)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT value FROM counts WHERE name = '%s'", name);
	return pragma(fx->path, sql);
}

/*
 * Migration 8: a store of schema 7 whose hold and quarantine counts missed a change of pool or
 * of value is counted again from its rows, and after it such a change moves its count, by an
 * UPDATE or by gwctl/quota.c's upsert.
 */
static void test_count_moves_migration(void **state)
{
	SQLITE_ONLY();
	struct fixture *fx = *state;
	char msg[512];

	store_close(fx->store);
	fx->store = NULL;
	raw_exec(fx->path,
		 "DROP TRIGGER quota_hold_count_update; DROP TRIGGER quarantine_count_update;"
		 " INSERT INTO quota_hold VALUES ('10.240.0.20', 'client:192.168.1.5', 1, 9000),"
		 " ('10.240.0.21', 'client:192.168.1.5', 0, 9000);"
		 " INSERT INTO quarantine VALUES ('encoded:10.240.0.9', 9000), ('ref:77', 9000);"
		 /* what schema 7 did not count */
		 " UPDATE quota_hold SET pool = 'inbound:192.0.2.7' WHERE value = '10.240.0.21';"
		 " UPDATE quarantine SET value = 'encoded:fd00::9'"
		 " WHERE value = 'encoded:10.240.0.9';"
		 " PRAGMA user_version = 7");
	assert_int_equal(count_row(fx, "hold.client"), 2);
	assert_int_equal(count_row(fx, "quarantine.encoded.4"), 1);
	assert_int_equal(store_open(fx->path, &fx->store, msg, sizeof(msg)), 0);
	assert_int_equal(pragma(fx->path, "PRAGMA user_version"), schema_version);
	assert_int_equal(count_row(fx, "hold.client"), 1);
	assert_int_equal(count_row(fx, "hold.inbound"), 1);
	assert_int_equal(count_row(fx, "quarantine.encoded.4"), 0);
	assert_int_equal(count_row(fx, "quarantine.encoded.6"), 1);
	assert_int_equal(count_row(fx, "quarantine.ref"), 1);

	/* to a client's pool, to another client's (no count moves), to a peer's by the upsert */
	raw_exec(fx->path,
		 "UPDATE quota_hold SET pool = 'client:192.168.1.6' WHERE value = '10.240.0.21';"
		 " UPDATE quota_hold SET pool = 'client:192.168.1.7' WHERE value = '10.240.0.20';");
	assert_int_equal(count_row(fx, "hold.client"), 2);
	assert_int_equal(count_row(fx, "hold.inbound"), 0);
	raw_exec(fx->path,
		 "INSERT INTO quota_hold VALUES ('10.240.0.20', 'inbound:192.0.2.8', 0, 9100)"
		 " ON CONFLICT (value) DO UPDATE SET pool = excluded.pool,"
		 " live = excluded.live, until = excluded.until");
	assert_int_equal(count_row(fx, "hold.client"), 1);
	assert_int_equal(count_row(fx, "hold.inbound"), 1);
	assert_int_equal(pragma(fx->path, "SELECT sum(value) FROM hold_counts"), 2);
	/* a resting value renamed by hand; renewed by the daemon's upsert it is counted once */
	raw_exec(fx->path, "UPDATE quarantine SET value = 'ref:78' WHERE value = 'encoded:fd00::9';"
			   " INSERT INTO quarantine VALUES ('ref:78', 9500)"
			   " ON CONFLICT (value) DO UPDATE SET until = excluded.until");
	assert_int_equal(count_row(fx, "quarantine.encoded.6"), 0);
	assert_int_equal(count_row(fx, "quarantine.ref"), 2);
	raw_exec(fx->path, "DELETE FROM quota_hold; DELETE FROM quarantine");
	assert_int_equal(count_row(fx, "hold.client"), 0);
	assert_int_equal(count_row(fx, "hold.inbound"), 0);
	assert_int_equal(count_row(fx, "quarantine.ref"), 0);
}

/*
 * The write-ahead log under a stream of commits, through a VFS that watches the thread that
 * commits, as gwctld's event loop does (docs/store.md, "Durability", item 7): BURST written as
 * fast as commits go, then a commit a millisecond for PACED_FOR_MS (gwctld looked at the WAL
 * once a second).
 */
#define BURST	     (4ull * STORE_WAL_LIMIT)
#define PACED_FOR_MS 2500
#define MAX_COMMITS  400000

/* One new mapping, committed; n numbers it. */
static void commit_one(struct fixture *fx, uint32_t n)
{
	char address[16];

	snprintf(address, sizeof(address), "10.%u.%u.%u", (n >> 16) & 255, (n >> 8) & 255, n & 255);
	struct ipr_mapping m = remote(address, "192.0.2.1", 4096 + n);
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(store_bind_remote(fx->store, &m), 0);
	assert_int_equal(store_commit(fx->store), 0);
}

static int64_t elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/*
 * A stream of commits, one new mapping each: first as fast as they go, then paced. The WAL's
 * file never grows past twice its bound, however far the flusher's checkpoints lag, and the
 * thread that commits never truncates a file. Before: the daemon looked at the WAL once a
 * second, so a burst made it 50 MiB, and past 8 MiB it truncated it, 23 ms on ext4 in an
 * answer's way.
 */
static void test_commits_keep_the_wal_bounded(void **state)
{
	struct fixture *fx = *state;
	const struct timespec pace = { .tv_nsec = 1000000 };
	struct watch_counts seen;
	struct timespec start;
	uint32_t n = 0;

	SQLITE_ONLY();
	watch_vfs_this_thread();
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		commit_one(fx, n++);
		store_tend(fx->store); /* as the daemon's loop does after a batch */
		watch_vfs_counts(&seen);
		if (seen.wal_written >= BURST)
			nanosleep(&pace, NULL);
	} while ((seen.wal_written < BURST || elapsed_ms(&start) < PACED_FOR_MS) &&
		 n < MAX_COMMITS);
	printf("# %u commits, %llu MiB written to the WAL, its file at most %llu KiB; the "
	       "committing thread synced %llu times, truncated %llu times\n",
	       n, (unsigned long long)(seen.wal_written >> 20),
	       (unsigned long long)(seen.wal_peak >> 10), (unsigned long long)seen.syncs,
	       (unsigned long long)seen.truncations);
	assert_true(seen.wal_written >= BURST);
	assert_true(seen.wal_peak <= 2 * (uint64_t)STORE_WAL_LIMIT);
	assert_int_equal(seen.truncations, 0);
}

static struct store_durability durability(struct fixture *fx)
{
	struct store_durability d;

	store_durability(fx->store, &d);
	return d;
}

/* Commits until round + 1 times a bound and a MiB went to the WAL since the counts began. */
static void grow_wal_past_bound(struct fixture *fx, uint32_t *n, int round)
{
	struct watch_counts seen;

	do {
		commit_one(fx, (*n)++);
		watch_vfs_counts(&seen);
	} while (seen.wal_written < (uint64_t)(round + 1) * (STORE_WAL_RESTART + (1 << 20)));
}

/* store_tend as the daemon's loop calls it, until the WAL has started again (or 10 s). */
static void tend_until_restarted(struct fixture *fx, uint64_t restarts_before)
{
	const struct timespec pause = { .tv_nsec = 200000 };

	for (int i = 0; i < 50000 && durability(fx).wal_restarts == restarts_before; i++) {
		store_tend(fx->store);
		nanosleep(&pause, NULL);
	}
	assert_true(durability(fx).wal_restarts > restarts_before);
}

/*
 * The daemon starts the WAL again between batches, so that the sync SQLite makes of a new WAL
 * header is never in an answer's commit: the first commit after a restart syncs nothing.
 * Before, the write meant to start it ("UPDATE ... SET value = value") changed no byte, SQLite
 * wrote no frame for it, and the next commit started the WAL and synced the header.
 */
static void test_wal_starts_again_between_commits(void **state)
{
	struct fixture *fx = *state;
	struct watch_counts before, after;
	uint32_t n = 0;

	SQLITE_ONLY();
	watch_vfs_this_thread();
	for (int round = 0; round < 3; round++) {
		uint64_t restarts = durability(fx).wal_restarts;

		grow_wal_past_bound(fx, &n, round); /* the next look asks for a checkpoint pass */
		tend_until_restarted(fx, restarts);
		watch_vfs_counts(&before);
		commit_one(fx, n++);
		watch_vfs_counts(&after);
		printf("# round %d: %u commits; the commit after the restart synced %llu times\n",
		       round, n, (unsigned long long)(after.syncs - before.syncs));
		assert_int_equal(after.syncs, before.syncs);
	}
}

/*
 * The end of the checkpoint pass wakes the loop (store_tend_fd): looking again at once, before
 * any further commit, the daemon finds nothing left to copy and starts the WAL again with one
 * sync, the new header's, where a look after the next commit copied that commit and synced the
 * WAL and the database first (3-5 ms on this project's machines, in the way of the requests
 * that arrived meanwhile).
 */
static void test_pass_end_wakes_the_loop(void **state)
{
	struct fixture *fx = *state;
	struct watch_counts before, after;
	uint64_t ticks;
	uint32_t n = 0;
	int fd = store_tend_fd(fx->store);

	SQLITE_ONLY();
	assert_true(fd >= 0);
	watch_vfs_this_thread();
	for (int round = 0; round < 3; round++) {
		struct store_durability was = durability(fx);

		grow_wal_past_bound(fx, &n, round);
		(void)!read(fd, &ticks, sizeof(ticks)); /* what passes of other rounds left */
		store_tend(fx->store);			/* asks for a pass */
		assert_int_equal(durability(fx).wal_restarts, was.wal_restarts);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		assert_int_equal(poll(&pfd, 1, 10000), 1);
		assert_int_equal(read(fd, &ticks, sizeof(ticks)), (ssize_t)sizeof(ticks));
		watch_vfs_counts(&before);
		store_tend(fx->store);
		watch_vfs_counts(&after);
		printf("# round %d: the WAL started again with %llu syncs on this thread\n", round,
		       (unsigned long long)(after.syncs - before.syncs));
		assert_int_equal(durability(fx).wal_restarts, was.wal_restarts + 1);
		assert_int_equal(durability(fx).wal_catch_ups, was.wal_catch_ups);
		assert_int_equal(after.syncs - before.syncs, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_store_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_foreign_and_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_remote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insert_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_sweep_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_pages_and_bad_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_under_us, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_follow_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_triggers_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_moves_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commits_keep_the_wal_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_starts_again_between_commits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pass_end_wakes_the_loop, setup, teardown),
	};
	/* forwards every call to the default VFS, counting a few: the WAL test's witness */
	if (watch_vfs_register() < 0)
		return 1;
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
