/* The holds of quota pools in the PostgreSQL store, shared by the site's gateways. */
#include "pgstore_impl.h"

#include <errno.h>
#include <stdio.h>

int pg_store_hold_put(struct store *base, const char *pool, const char *value, bool live,
		      int64_t until)
{
	char at[PG_INT_TEXT];
	const char *params[] = { value, pool, live ? "1" : "0", pg_int(at, until) };

	return pg_exec(pg_of(base), PST_HOLD_PUT, 4, params, NULL);
}

int pg_store_hold_set(struct store *base, const char *value, bool live, int64_t until)
{
	char at[PG_INT_TEXT];
	const char *params[] = { value, live ? "1" : "0", pg_int(at, until) };

	return pg_exec(pg_of(base), PST_HOLD_SET, 3, params, NULL);
}

int pg_store_hold_get(struct store *base, const char *value, bool *live, int64_t *until)
{
	const char *params[] = { value };
	PGresult *res;
	int rc = pg_exec(pg_of(base), PST_HOLD_GET, 1, params, &res);

	if (rc == 0 && PQntuples(res) > 0) {
		*live = pg_int_at(res, 0, 0) != 0;
		*until = pg_int_at(res, 0, 1);
		rc = 1;
	}
	PQclear(res);
	return rc;
}

int pg_store_hold_delete(struct store *base, const char *value)
{
	const char *params[] = { value };

	return pg_exec(pg_of(base), PST_HOLD_DELETE, 1, params, NULL);
}

int pg_store_hold_due(struct store *base, const char *pool, int64_t by, struct store_hold *out,
		      unsigned max)
{
	char at[PG_INT_TEXT], limit[PG_INT_TEXT];
	const char *params[] = { pool, pg_int(at, by), pg_int(limit, max) };
	PGresult *res;
	int rc = pg_exec(pg_of(base), PST_HOLD_DUE, 3, params, &res);
	unsigned n = 0;

	if (rc < 0)
		return rc;
	for (int r = 0; r < PQntuples(res) && n < max; r++, n++) {
		snprintf(out[n].value, sizeof(out[n].value), "%s", PQgetvalue(res, r, 0));
		out[n].until = pg_int_at(res, r, 1);
	}
	PQclear(res);
	return (int)n;
}

int pg_store_hold_admission(struct store *base, const char *pool, int64_t now, int64_t due_by,
			    struct store_hold_admission *out)
{
	char at[PG_INT_TEXT], by[PG_INT_TEXT];
	const char *params[] = { pool, pg_int(at, now), pg_int(by, due_by) };
	PGresult *res;
	int rc = pg_exec(pg_of(base), PST_HOLD_ADMISSION, 3, params, &res);

	if (rc == 0 && PQntuples(res) != 1)
		rc = -EIO;
	if (rc == 0) {
		out->rests_ended = pg_int_at(res, 0, 0) != 0;
		out->pool_holds = (uint64_t)pg_int_at(res, 0, 1);
		out->client_holds = (uint64_t)pg_int_at(res, 0, 2);
		out->holds_due = pg_int_at(res, 0, 3) != 0;
	}
	PQclear(res);
	return rc;
}

int pg_store_hold_purge_pool(struct store *base, const char *pool, int64_t now, uint64_t *purged)
{
	struct pg_store *store = pg_of(base);
	char at[PG_INT_TEXT];
	const char *params[] = { pool, pg_int(at, now) };
	uint64_t before = store->changes;
	int rc = pg_exec(store, PST_HOLD_PURGE_POOL, 2, params, NULL);

	*purged = rc == 0 ? store->changes - before : 0;
	return rc;
}

int pg_store_hold_purge(struct store *base, int64_t now)
{
	char at[PG_INT_TEXT];
	const char *params[] = { pg_int(at, now) };

	return pg_exec(pg_of(base), PST_HOLD_PURGE, 1, params, NULL);
}

/* A one-number query: the count kept by the triggers, 0 when it has no row. */
static int count_of(struct pg_store *store, enum pst s, const char *param, uint64_t *count)
{
	const char *params[] = { param };
	PGresult *res;
	int rc = pg_exec(store, s, 1, params, &res);
	int64_t v = 0;

	if (rc == 0 && PQntuples(res) > 0)
		v = pg_int_at(res, 0, 0);
	*count = v > 0 ? (uint64_t)v : 0;
	PQclear(res);
	return rc;
}

int pg_store_hold_count_pool(struct store *base, const char *pool, uint64_t *count)
{
	return count_of(pg_of(base), PST_HOLD_COUNT_POOL, pool, count);
}

int pg_store_hold_count_inbound(struct store *base, uint64_t *count)
{
	return count_of(pg_of(base), PST_HOLD_COUNT_INBOUND, "hold.inbound", count);
}
