/* Unit tests of the VFS that writes a commit's WAL frames in one call, on real files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "store_walbuf.h"
#include "watch_vfs.h"

#define PAGE 4096
/* rows of the size of a quarter page: a commit of ROWS rows dirties about ROWS / 4 pages */
#define ROW_BYTES 1000

struct fixture {
	char dir[64];
	char path[128];
	char wal[136];
	sqlite3 *db;	/* through the VFS under test, as gwctld's connection */
	sqlite3 *other; /* through SQLite's default VFS: a reader of what reached the files */
};

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

static int64_t one_value(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void integrity_ok(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	strcpy(fx->dir, "/tmp/ipref-walbuf-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/gw.db", fx->dir);
	snprintf(fx->wal, sizeof(fx->wal), "%s-wal", fx->path);
	assert_int_equal(store_walbuf_register(), 0);
	assert_int_equal(sqlite3_open_v2(fx->path, &fx->db,
					 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
					 store_walbuf_name),
			 SQLITE_OK);
	/* as gwctld has it, and no checkpoint of its own: the WAL only grows during a test */
	exec_ok(fx->db, "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;"
			" PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;"
			" CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
	assert_int_equal(sqlite3_open_v2(fx->path, &fx->other, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[96];

	sqlite3_close(fx->other);
	sqlite3_close(fx->db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static int insert_rows(sqlite3 *db, int from, int count)
{
	char sql[160];

	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE n(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
		 " INSERT INTO t SELECT i, randomblob(%d) FROM n",
		 from, from + count - 1, ROW_BYTES);
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int64_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (int64_t)st.st_size;
}

/* A commit goes to the file in one write, and is there, whole, when COMMIT returns. */
static void test_commit_in_one_write(void **state)
{
	struct fixture *fx = *state;
	struct store_walbuf_counts before, after;
	int64_t wal_before = file_size(fx->wal);

	store_walbuf_counts(&before);
	exec_ok(fx->db, "BEGIN IMMEDIATE");
	assert_int_equal(insert_rows(fx->db, 1, 100), SQLITE_OK);
	exec_ok(fx->db, "COMMIT");
	store_walbuf_counts(&after);
	/* each frame was two of SQLite's writes, all taken in; they left in one buffer */
	int64_t frames = (file_size(fx->wal) - wal_before) / (24 + PAGE);
	assert_true(frames >= 25);
	assert_int_equal(after.writes_in - before.writes_in, 2 * frames);
	assert_int_equal(after.flushes - before.flushes, 1);
	/* read from the file by another connection, which only knows what reached it */
	assert_int_equal(one_value(fx->other, "SELECT count(*) FROM t"), 100);
	assert_int_equal(one_value(fx->other, "SELECT sum(length(v)) FROM t"), 100 * ROW_BYTES);
}

/* A commit larger than the buffer, and than what one write of the VFS beneath may be. */
static void test_large_commit(void **state)
{
	struct fixture *fx = *state;

	exec_ok(fx->db, "BEGIN IMMEDIATE");
	assert_int_equal(insert_rows(fx->db, 1, 12000), SQLITE_OK); /* about 12 MiB */
	exec_ok(fx->db, "COMMIT");
	assert_int_equal(one_value(fx->other, "SELECT count(*) FROM t"), 12000);
	integrity_ok(fx->other);
	assert_int_equal(one_value(fx->db, "SELECT count(*) FROM t"), 12000);
}

/*
 * A transaction bigger than the page cache writes frames before its commit (a spill) and reads
 * them back: the reads see what was written, and so does the commit. Its second statement
 * changes the spilled pages again, which SQLite writes over their frames, and at the commit it
 * writes the checksums of the frames from there on again: a copy of the files as they are (what
 * a crash of the process leaves) recovers the commit from the WAL alone, checking each frame.
 */
static void test_spilled_frames_read_back(void **state)
{
	struct fixture *fx = *state;
	char cmd[640], copy[160];
	sqlite3 *recovered = NULL;

	exec_ok(fx->db, "BEGIN IMMEDIATE");
	assert_int_equal(insert_rows(fx->db, 1, 4000), SQLITE_OK);
	exec_ok(fx->db, "COMMIT");
	exec_ok(fx->db, "PRAGMA cache_size = 10; BEGIN IMMEDIATE;"
			" UPDATE t SET v = zeroblob(1000) WHERE id % 2 = 0");
	assert_int_equal(one_value(fx->db, "SELECT count(*) FROM t WHERE v = zeroblob(1000)"),
			 2000);
	exec_ok(fx->db, "UPDATE t SET v = zeroblob(999) WHERE id % 4 = 0");
	exec_ok(fx->db, "COMMIT");
	assert_int_equal(one_value(fx->other, "SELECT count(*) FROM t WHERE v = zeroblob(1000)"),
			 1000);
	integrity_ok(fx->other);

	snprintf(copy, sizeof(copy), "%s/copy", fx->dir);
	snprintf(cmd, sizeof(cmd), "mkdir %s && cp %s %s-wal %s/", copy, fx->path, fx->path, copy);
	assert_int_equal(system(cmd), 0);
	strcat(copy, "/gw.db");
	assert_int_equal(sqlite3_open_v2(copy, &recovered, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(one_value(recovered, "SELECT count(*) FROM t WHERE v = zeroblob(999)"),
			 1000);
	integrity_ok(recovered);
	sqlite3_close(recovered);
}

/*
 * SQLite writes a spilled transaction's checksums again at its commit, the commit frame's header
 * last, after that frame was written: a refusal of that write (by the watch VFS beneath) fails
 * the commit, which no connection then sees, instead of leaving a WAL whose last commit a
 * recovery drops after it was acknowledged.
 */
static void test_refused_rewrite_fails_the_commit(void **state)
{
	struct fixture *fx = *state;
	int rc;

	exec_ok(fx->db, "BEGIN IMMEDIATE");
	assert_int_equal(insert_rows(fx->db, 1, 4000), SQLITE_OK);
	exec_ok(fx->db, "COMMIT");
	exec_ok(fx->db, "PRAGMA cache_size = 10; BEGIN IMMEDIATE;"
			" UPDATE t SET v = zeroblob(1000) WHERE id % 2 = 0;"
			" UPDATE t SET v = zeroblob(999) WHERE id % 4 = 0");
	watch_vfs_refuse_commit_rewrite();
	rc = sqlite3_exec(fx->db, "COMMIT", NULL, NULL, NULL);
	assert_int_not_equal(rc, SQLITE_OK);
	(void)sqlite3_exec(fx->db, "ROLLBACK", NULL, NULL, NULL);
	assert_int_equal(one_value(fx->db, "SELECT count(*) FROM t WHERE length(v) = 999"), 0);
	assert_int_equal(one_value(fx->other, "SELECT count(*) FROM t WHERE length(v) = 999"), 0);
	exec_ok(fx->db, "UPDATE t SET v = zeroblob(999) WHERE id % 4 = 0");
	assert_int_equal(one_value(fx->other, "SELECT count(*) FROM t WHERE length(v) = 999"),
			 1000);
	integrity_ok(fx->other);
}

/*
 * A write the file refuses (the file size limit here; a full disk alike) fails the commit that
 * made it: nothing of it is seen, by the connection or another, and the next commit works.
 */
static void test_refused_write_fails_the_commit(void **state)
{
	struct fixture *fx = *state;
	struct rlimit old, small;
	struct sigaction ignore = { .sa_handler = SIG_IGN }, was;
	int rc;

	exec_ok(fx->db, "BEGIN IMMEDIATE");
	assert_int_equal(insert_rows(fx->db, 1, 50), SQLITE_OK);
	exec_ok(fx->db, "COMMIT");
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(sigaction(SIGXFSZ, &ignore, &was), 0);
	small = old;
	small.rlim_cur = (rlim_t)file_size(fx->wal) + 8 * PAGE;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);

	exec_ok(fx->db, "BEGIN IMMEDIATE");
	rc = insert_rows(fx->db, 51, 200);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(fx->db, "COMMIT", NULL, NULL, NULL);
	assert_int_not_equal(rc, SQLITE_OK);
	(void)sqlite3_exec(fx->db, "ROLLBACK", NULL, NULL, NULL);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(sigaction(SIGXFSZ, &was, NULL), 0);
	assert_int_equal(one_value(fx->db, "SELECT count(*) FROM t"), 50);
	assert_int_equal(one_value(fx->other, "SELECT count(*) FROM t"), 50);
	exec_ok(fx->db, "BEGIN IMMEDIATE");
	assert_int_equal(insert_rows(fx->db, 51, 200), SQLITE_OK);
	exec_ok(fx->db, "COMMIT");
	assert_int_equal(one_value(fx->other, "SELECT count(*) FROM t"), 250);
	integrity_ok(fx->other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_in_one_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spilled_frames_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_rewrite_fails_the_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused_write_fails_the_commit, setup,
						teardown),
	};

	/* beneath the VFS under test, which is made over the default one at its first open */
	if (watch_vfs_register() < 0)
		return 1;

	return cmocka_run_group_tests_name("walbuf", tests, NULL, NULL);
}
