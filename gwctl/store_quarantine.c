/* Values resting in quarantine after their mapping ended, and their purge. */
#include "store_impl.h"

#include <arpa/inet.h>
#include <stdio.h>

static int quarantined(struct sqlite_store *store, const char *key, int64_t now)
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

int sqlite_store_encoded_quarantined(struct store *base, int family, const uint8_t *encoded,
				     int64_t now)
{
	struct sqlite_store *store = sqlite_of(base);
	char text[INET6_ADDRSTRLEN], key[INET6_ADDRSTRLEN + 16];

	address_text(family, encoded, text);
	snprintf(key, sizeof(key), "encoded:%s", text);
	return quarantined(store, key, now);
}

int sqlite_store_encoded_free(struct store *base, int family, const uint8_t *encoded, int64_t now)
{
	struct sqlite_store *store = sqlite_of(base);
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

int sqlite_store_ref_quarantined(struct store *base, const struct ipr_ref *ref, int64_t now)
{
	struct sqlite_store *store = sqlite_of(base);
	char text[IPR_REF_TEXT_MAX], key[IPR_REF_TEXT_MAX + 8];

	ipr_ref_format(ref, text);
	snprintf(key, sizeof(key), "ref:%s", text);
	return quarantined(store, key, now);
}

int sqlite_store_purge_quarantine(struct store *base, int64_t now)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_bind_int64(store->stmt[ST_QUARANTINE_PURGE], 1, now);
	return run(store, ST_QUARANTINE_PURGE);
}
