/* Counts of mappings and resting values, kept by triggers: read in constant time. */
#include "store_impl.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int sqlite_store_encoded_taken(struct store *base, int family, uint64_t *count)
{
	struct sqlite_store *store = sqlite_of(base);
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

int sqlite_store_count(struct store *base, struct store_counts *counts)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_COUNT];
	int rc;

	memset(counts, 0, sizeof(*counts));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_counts_add(counts, (const char *)sqlite3_column_text(st, 0),
				 sqlite3_column_int64(st, 1));
	}
	sqlite3_reset(st);
	counts->bad_rows = store->bad_rows;
	return store_errno(rc);
}
