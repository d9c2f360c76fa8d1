/* The PostgreSQL store's values: resting in quarantine, counted, reserved by this gateway. */
#include "pgstore_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A query of one number (a count, a flag): into *v. */
static int number_of(struct pg_store *store, enum pst s, int n, const char *const *params,
		     int64_t *v)
{
	PGresult *res;
	int rc = pg_exec(store, s, n, params, &res);

	if (rc == 0)
		*v = PQntuples(res) > 0 ? pg_int_at(res, 0, 0) : 0;
	PQclear(res);
	return rc;
}

static int quarantined(struct pg_store *store, const char *key, int64_t now)
{
	char at[PG_INT_TEXT];
	const char *params[] = { key, pg_int(at, now) };
	PGresult *res;
	int rc = pg_exec(store, PST_QUARANTINE_HAS, 2, params, &res);

	if (rc == 0)
		rc = PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

int pg_store_encoded_quarantined(struct store *base, int family, const uint8_t *encoded,
				 int64_t now)
{
	char text[INET6_ADDRSTRLEN], key[INET6_ADDRSTRLEN + 16];

	store_address_text(family, encoded, text);
	snprintf(key, sizeof(key), "encoded:%s", text);
	return quarantined(pg_of(base), key, now);
}

int pg_store_encoded_free(struct store *base, int family, const uint8_t *encoded, int64_t now)
{
	char text[INET6_ADDRSTRLEN], at[PG_INT_TEXT];
	const char *params[] = { text, pg_int(at, now) };
	int64_t busy = 1;
	int rc;

	store_address_text(family, encoded, text);
	rc = number_of(pg_of(base), PST_ENCODED_BUSY, 2, params, &busy);
	return rc < 0 ? rc : !busy;
}

int pg_store_ref_quarantined(struct store *base, const struct ipr_ref *ref, int64_t now)
{
	char text[IPR_REF_TEXT_MAX], key[IPR_REF_TEXT_MAX + 8];

	ipr_ref_format(ref, text);
	snprintf(key, sizeof(key), "ref:%s", text);
	return quarantined(pg_of(base), key, now);
}

/* The sweep's forgetting of what is over: resting values, and here the change log's old rows. */
int pg_store_purge_quarantine(struct store *base, int64_t now)
{
	char at[PG_INT_TEXT];
	const char *params[] = { pg_int(at, now) };
	int rc = pg_exec(pg_of(base), PST_QUARANTINE_PURGE, 1, params, NULL);

	return rc < 0 ? rc : pg_exec(pg_of(base), PST_LOG_TRIM, 0, NULL, NULL);
}

int pg_store_encoded_taken(struct store *base, int family, uint64_t *count)
{
	const char *params[] = { family == AF_INET ? "4" : "6" };
	int64_t v = 0;
	int rc = number_of(pg_of(base), PST_ENCODED_TAKEN, 1, params, &v);

	if (rc == 0)
		*count = v > 0 ? (uint64_t)v : 0;
	return rc;
}

int pg_store_count(struct store *base, struct store_counts *counts)
{
	struct pg_store *store = pg_of(base);
	PGresult *res;
	int rc = pg_exec(store, PST_COUNT, 0, NULL, &res);

	memset(counts, 0, sizeof(*counts));
	for (int r = 0; rc == 0 && r < PQntuples(res); r++)
		store_counts_add(counts, PQgetvalue(res, r, 0), pg_int_at(res, r, 1));
	PQclear(res);
	counts->bad_rows = store->bad_rows;
	return rc;
}

/*
 * The reserve: this gateway's rows only (the gateway column), so that two gateways never
 * contend for a value. Values are usable once a synchronous commit covered them: the refill's
 * own, so flushed_only takes any row a finished commit added.
 */
int pg_store_reserve_take(struct store *base, const char *pool, bool flushed_only, int64_t now,
			  char *value, size_t size, bool *busy)
{
	struct pg_store *store = pg_of(base);
	char seq[PG_INT_TEXT], at[PG_INT_TEXT];
	const char *params[] = {
		pool,
		pg_int(seq, flushed_only ? (int64_t)store->flushed_gen : INT64_MAX),
		pg_int(at, now),
		store->gateway,
	};
	PGresult *res;
	int rc = pg_exec(store, PST_RESERVE_TAKE, 4, params, &res);

	if (rc == 0 && PQntuples(res) == 0)
		rc = -ENOENT;
	if (rc == 0) {
		snprintf(value, size, "%s", PQgetvalue(res, 0, 0));
		*busy = pg_int_at(res, 0, 1) != 0;
	}
	PQclear(res);
	if (rc == 0 && !flushed_only)
		pg_store_need_sync(base);
	return rc;
}

int pg_store_reserve_add(struct store *base, const char *pool, const char *value, int64_t now)
{
	struct pg_store *store = pg_of(base);
	char seq[PG_INT_TEXT], at[PG_INT_TEXT];
	const char *params[] = {
		value,
		pool,
		pg_int(seq, (int64_t)store->commit_gen + 1), /* the commit to come */
		pg_int(at, now),
		store->gateway,
	};
	uint64_t before = store->changes;
	int rc = pg_exec(store, PST_RESERVE_ADD, 5, params, NULL);

	if (rc < 0)
		return rc;
	if (store->changes == before)
		return 0; /* mapped, resting, or reserved already (by this or another gateway) */
	store->refilled = true;
	return 1;
}

int pg_store_reserve_count(struct store *base, const char *pool, uint64_t *all, uint64_t *flushed)
{
	struct pg_store *store = pg_of(base);
	char seq[PG_INT_TEXT];
	const char *params[] = { pool, pg_int(seq, (int64_t)store->flushed_gen), store->gateway };
	PGresult *res;
	int rc = pg_exec(store, PST_RESERVE_COUNT, 3, params, &res);

	if (rc == 0) {
		*all = (uint64_t)pg_int_at(res, 0, 0);
		if (flushed)
			*flushed = (uint64_t)pg_int_at(res, 0, 1);
	}
	PQclear(res);
	return rc;
}
