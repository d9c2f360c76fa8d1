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

/* The pool's slot, or NULL when it has none (more pools than slots: then nothing is kept). */
static struct pg_pool *pool_slot(struct pg_store *store, const char *pool)
{
	size_t i;

	for (i = 0; i < PG_POOLS_KEPT && store->pools[i].pool[0]; i++) {
		if (strcmp(store->pools[i].pool, pool) == 0)
			return &store->pools[i];
	}
	if (i == PG_POOLS_KEPT || strlen(pool) >= PG_POOL_TEXT_MAX)
		return NULL;
	snprintf(store->pools[i].pool, PG_POOL_TEXT_MAX, "%s", pool);
	store->pools[i].count = -1;
	store->pools[i].posted = 0;
	store->pools[i].floor = store->pools[i].taken_to = 0;
	store->pools[i].next = store->pools[i].n = 0;
	return &store->pools[i];
}

void pg_pools_forget(struct pg_store *store)
{
	for (size_t i = 0; i < PG_POOLS_KEPT; i++) {
		store->pools[i].count = -1;
		store->pools[i].floor = store->pools[i].taken_to = 0;
		store->pools[i].next = store->pools[i].n = 0;
	}
}

int pg_pools_delete_taken(struct pg_store *store)
{
	char floor[PG_INT_TEXT], to[PG_INT_TEXT];
	int rc = 0;

	for (size_t i = 0; i < PG_POOLS_KEPT && store->pools[i].pool[0] && rc == 0; i++) {
		struct pg_pool *p = &store->pools[i];
		const char *params[] = { store->gateway, p->pool, pg_int(floor, p->floor),
					 pg_int(to, p->taken_to) };

		if (p->taken_to > p->floor)
			rc = pg_exec(store, PST_RESERVE_DELETE_TAKEN, 4, params, NULL);
	}
	return rc;
}

void pg_pools_settle(struct pg_store *store, bool committed)
{
	for (size_t i = 0; i < PG_POOLS_KEPT; i++) {
		struct pg_pool *p = &store->pools[i];

		p->next = p->n = 0; /* read in the transaction that ends */
		if (committed) {
			p->floor = p->taken_to;
		} else {
			/* the rows taken are back, and the adds undone: counted again */
			p->taken_to = p->floor;
			p->count = -1;
		}
	}
}

/*
 * Reads up to max rows of the pool after the row `after`, oldest first, with whether each
 * value is mapped or resting at `now`, into out; returns how many, or -errno.
 */
static int read_ahead(struct pg_store *store, const char *pool, int64_t after, int64_t now,
		      struct pg_reserved *out, unsigned max)
{
	char at[PG_INT_TEXT], from[PG_INT_TEXT], limit[PG_INT_TEXT];
	const char *params[] = { pool, pg_int(at, now), store->gateway, pg_int(from, after),
				 pg_int(limit, max) };
	PGresult *res;
	int rc = pg_exec(store, PST_RESERVE_AHEAD, 5, params, &res);
	unsigned n = 0;

	for (int r = 0; rc == 0 && r < PQntuples(res) && n < max; r++, n++) {
		out[n].id = pg_int_at(res, r, 0);
		out[n].seq = pg_int_at(res, r, 1);
		snprintf(out[n].value, sizeof(out[n].value), "%s", PQgetvalue(res, r, 2));
		out[n].busy = pg_int_at(res, r, 3) != 0;
	}
	PQclear(res);
	return rc < 0 ? rc : (int)n;
}

/*
 * The pool's next row for a take: read ahead when the transaction has none left of it in
 * memory (into one when the pool has no slot). *row: NULL when the pool has none.
 */
static int next_row(struct pg_store *store, const char *pool, struct pg_pool *slot, int64_t now,
		    struct pg_reserved *one, struct pg_reserved **row)
{
	int rc;

	*row = NULL;
	if (!slot) {
		rc = read_ahead(store, pool, 0, now, one, 1);
		if (rc > 0)
			*row = one;
		return rc < 0 ? rc : 0;
	}
	if (slot->next == slot->n) {
		rc = read_ahead(store, pool, slot->taken_to, now, slot->ahead, PG_TAKE_AHEAD);
		if (rc < 0)
			return rc;
		slot->next = 0;
		slot->n = (unsigned)rc;
	}
	if (slot->next < slot->n)
		*row = &slot->ahead[slot->next];
	return 0;
}

/*
 * The reserve: this gateway's rows only (the gateway column), so that two gateways never
 * contend for a value. Values are usable once a synchronous commit covered them: the refill's
 * own, so flushed_only takes any row a finished commit added. Rows are added in the order of
 * their commits, so a row a flush did not cover has none it covered after it: the oldest row
 * not covered ends the pass over covered ones, and the commit's DELETE of the rows up to the
 * one taken never removes one that was not handed out.
 */
int pg_store_reserve_take(struct store *base, const char *pool, bool flushed_only, int64_t now,
			  char *value, size_t size, bool *busy)
{
	struct pg_store *store = pg_of(base);
	struct pg_pool *slot = pool_slot(store, pool);
	struct pg_reserved one, *row;
	char id[PG_INT_TEXT];
	int rc = next_row(store, pool, slot, now, &one, &row);

	if (rc < 0)
		return rc;
	if (!row || (flushed_only && row->seq > (int64_t)store->flushed_gen))
		return -ENOENT;
	snprintf(value, size, "%s", row->value);
	*busy = row->busy;
	if (slot) {
		slot->next++;
		slot->taken_to = row->id; /* deleted with the others at commit */
		slot->count = slot->count > 0 ? slot->count - 1 : -1; /* none kept: counted again */
	} else {
		const char *del[] = { pg_int(id, row->id) };

		rc = pg_exec(store, PST_RESERVE_DELETE, 1, del, NULL);
		if (rc < 0)
			return rc;
	}
	if (!flushed_only)
		pg_store_need_sync(base);
	return 0;
}

/*
 * What the next flushed take would give, from the rows read ahead in this transaction (or one
 * read now): the allocation binds it in the statement that looks its address up, and takes it
 * once bound. Without a slot the row read is not kept: the take reads it again.
 */
int pg_store_reserve_peek(struct store *base, const char *pool, int64_t now, char *value,
			  size_t size, bool *busy)
{
	struct pg_store *store = pg_of(base);
	struct pg_reserved one, *row;
	int rc = next_row(store, pool, pool_slot(store, pool), now, &one, &row);

	if (rc < 0)
		return rc;
	if (!row || row->seq > (int64_t)store->flushed_gen)
		return -ENOENT;
	snprintf(value, size, "%s", row->value);
	*busy = row->busy;
	return 0;
}

int pg_pool_candidates(struct pg_store *store, const char *pool, int family, int64_t now,
		       unsigned want, int64_t *first, int64_t *last, unsigned *count)
{
	struct pg_pool *slot = pool_slot(store, pool);
	struct pg_reserved one, *row;
	int rc;

	*count = 0;
	if (!slot)
		return 0;
	if (slot->n - slot->next < want)
		slot->next = slot->n; /* fewer than wanted in memory: read ahead again */
	rc = next_row(store, pool, slot, now, &one, &row);
	if (rc < 0)
		return rc;
	for (unsigned i = slot->next; i < slot->n; i++) {
		const struct pg_reserved *r = &slot->ahead[i];
		uint8_t addr[16];

		if (r->busy || r->seq > (int64_t)store->flushed_gen ||
		    store_encoded_value(family, r->value, addr) != 1)
			break; /* the usual way's take deals with it */
		if (*count == 0)
			*first = r->id;
		*last = r->id;
		(*count)++;
	}
	return 0;
}

void pg_pool_took(struct pg_store *store, const char *pool, int64_t to)
{
	struct pg_pool *slot = pool_slot(store, pool);

	if (!slot)
		return;
	while (slot->next < slot->n && slot->ahead[slot->next].id <= to) {
		slot->next++;
		slot->count = slot->count > 0 ? slot->count - 1 : -1;
	}
	if (to > slot->taken_to)
		slot->taken_to = to;
}

int pg_values_text(const char *const *values, size_t n, char *out, size_t size)
{
	struct pg_array a;

	pg_array_start(&a, out, size);
	for (size_t i = 0; i < n; i++) {
		if (strlen(values[i]) >= PG_POOL_TEXT_MAX)
			return -EINVAL;
		pg_array_put(&a, values[i]);
	}
	return pg_array_end(&a);
}

/*
 * Behind the loop (store_refill_behind): the values go to the refills' thread, and count as the
 * pool's until its job reports (pg_refills_collect), so that the next refill does not hand the
 * same need again.
 */
static int add_behind(struct pg_store *store, struct pg_pool *slot, const char *pool,
		      const char *const *values, size_t n, int64_t now)
{
	if (pg_refiller_post(store->refiller, pool, values, n, now) < 0)
		return -EBUSY;
	if (slot)
		slot->posted += (int64_t)n;
	return -EINPROGRESS;
}

void pg_refills_collect(struct pg_store *store)
{
	struct pg_refill_result done;

	if (!store->refiller)
		return;
	pg_refiller_collect(store->refiller, &done);
	for (size_t i = 0; i < done.pools; i++) {
		struct pg_pool *slot = pool_slot(store, done.pool[i].pool);

		if (!slot)
			continue;
		slot->posted -= (int64_t)done.pool[i].posted;
		if (slot->posted < 0)
			slot->posted = 0;
		if (slot->count >= 0)
			slot->count += (int64_t)done.pool[i].added;
	}
	/* nothing waits or runs: whatever a pool still counts as on its way is not */
	for (size_t i = 0; done.idle && i < PG_POOLS_KEPT; i++)
		store->pools[i].posted = 0;
	store->stats.reserved_behind += done.added;
	store->stats.refills_behind_failed += done.failures;
}

int pg_store_reserve_add_many(struct store *base, const char *pool, const char *const *values,
			      size_t n, int64_t now)
{
	struct pg_store *store = pg_of(base);
	struct pg_pool *slot = pool_slot(store, pool);
	char array[PG_ADD_MANY_TEXT], seq[PG_INT_TEXT], at[PG_INT_TEXT];
	const char *params[] = {
		array,
		pool,
		pg_int(seq, (int64_t)store->commit_gen + 1), /* the commit to come */
		pg_int(at, now),
		store->gateway,
	};
	int added = 0;

	if (store->refiller)
		return add_behind(store, slot, pool, values, n, now);
	for (size_t done = 0; done < n;) {
		size_t k = n - done < PG_ADD_MANY_MAX ? n - done : PG_ADD_MANY_MAX;
		uint64_t before = store->changes;
		int rc = pg_values_text(values + done, k, array, sizeof(array));

		if (rc == 0)
			rc = pg_exec(store, PST_RESERVE_ADD_MANY, 5, params, NULL);
		if (rc < 0)
			return rc;
		added += (int)(store->changes - before);
		done += k;
	}
	if (added)
		store->refilled = true;
	if (slot && slot->count >= 0)
		slot->count += added;
	return added;
}

/* One value is a list of one: the same statement, checked the same way. */
int pg_store_reserve_add(struct store *base, const char *pool, const char *value, int64_t now)
{
	return pg_store_reserve_add_many(base, pool, &value, 1, now);
}

int pg_store_reserve_count(struct store *base, const char *pool, uint64_t *all, uint64_t *flushed)
{
	struct pg_store *store = pg_of(base);
	struct pg_pool *slot = pool_slot(store, pool);
	char seq[PG_INT_TEXT], after[PG_INT_TEXT];
	const char *params[] = { pool, pg_int(seq, (int64_t)store->flushed_gen), store->gateway,
				 pg_int(after, slot ? slot->taken_to : 0) };
	PGresult *res;
	int rc;

	pg_refills_collect(store);
	if (!flushed && slot && slot->count >= 0) {
		*all = (uint64_t)(slot->count + slot->posted);
		return 0;
	}
	rc = pg_exec(store, PST_RESERVE_COUNT, 4, params, &res);
	if (rc == 0) {
		*all = (uint64_t)pg_int_at(res, 0, 0);
		if (flushed)
			*flushed = (uint64_t)pg_int_at(res, 0, 1);
		if (slot)
			slot->count = (int64_t)*all;
		if (slot && !flushed)
			*all += (uint64_t)slot->posted; /* on their way in */
	}
	PQclear(res);
	return rc;
}
