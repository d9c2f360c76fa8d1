/* The store's tests on either engine: SQLite by default, PostgreSQL when IPREF_TEST_PG is set. */
#ifndef GWCTL_TESTS_STORE_ENGINE_H
#define GWCTL_TESTS_STORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "store.h"

/* The conninfo of the PostgreSQL database the tests run on, or NULL: they run on SQLite. */
const char *test_store_pg(void);
/* Empties that database (every table, view and function gone): each test starts afresh. */
void test_store_reset(void);
/* store_open(path) on SQLite, or the PostgreSQL store as gateway "gw-test". */
int test_store_open(const char *path, struct store **out, char *msg, size_t msg_size);
/*
 * Runs sql on the store's own connection (so it sees the open transaction), with ?1 bound to
 * param (may be NULL), SQL the two engines read alike; copies up to max rows' first column to
 * rows (64 bytes each) and returns how many, or -1 when the statement failed.
 */
int test_store_sql(struct store *store, const char *sql, const char *param, char rows[][64],
		   int max);
/* The range's reserve refilled (up to 64 values) and flushed: usable without a sync. 0 or -1. */
int test_refill_flushed(struct store *store, const struct ipr_prefix *range, int64_t now);
/* Reserved values that are mapped too (a value bound but not taken: must be none), or -1. */
int test_reserved_and_mapped(struct store *store);

#endif
