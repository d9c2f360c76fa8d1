/* Mappings in the PostgreSQL store: rows <-> mappings, lookups, inserts, deletes, leases, lists. */
#include "pgstore_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The cursor of store_list: the top bit says which table, the rest is the last row id. */
#define CURSOR_REMOTE (1ULL << 63)

static const char *text_at(const PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

int pg_row_to_mapping(struct pg_store *store, const PGresult *res, int r, struct ipr_mapping *m)
{
	struct store_row row = {
		.id = pg_int_at(res, r, 0),
		.kind = (int)pg_int_at(res, r, 1),
		.address = text_at(res, r, 2),
		.family = (int)pg_int_at(res, r, 3),
		.context = text_at(res, r, 4),
		.ref = text_at(res, r, 5),
		.name = text_at(res, r, 6),
		.expires = pg_int_at(res, r, 7),
		.source = text_at(res, r, 8),
	};
	int rc = store_row_to_mapping(&row, m);

	if (rc < 0)
		store->bad_rows++;
	return rc;
}

/* A one-row query: 0 with *out, -ENOENT without a row. */
static int fetch_one(struct pg_store *store, enum pst s, int n, const char *const *params,
		     struct ipr_mapping *out)
{
	PGresult *res;
	int rc = pg_exec(store, s, n, params, &res);

	if (rc == 0)
		rc = PQntuples(res) > 0 ? pg_row_to_mapping(store, res, 0, out) : -ENOENT;
	PQclear(res);
	return rc;
}

/* Up to max rows as mappings (a bad row is counted and skipped); *last_id: the last row's. */
static int fetch_many(struct pg_store *store, enum pst s, int n, const char *const *params,
		      struct ipr_mapping *out, size_t max, int64_t *last_id)
{
	PGresult *res;
	int rc = pg_exec(store, s, n, params, &res);
	size_t count = 0;

	if (rc < 0)
		return rc;
	for (int r = 0; r < PQntuples(res) && count < max; r++) {
		*last_id = pg_int_at(res, r, 0);
		if (pg_row_to_mapping(store, res, r, &out[count]) == 0)
			count++;
	}
	PQclear(res);
	return (int)count;
}

int pg_store_find_remote(struct store *base, int family, const struct ipr_context *context,
			 const struct ipr_ref *ref, struct ipr_mapping *out)
{
	char context_text[IPR_ADDR_TEXT_MAX], ref_text[IPR_REF_TEXT_MAX];
	const char *params[] = { family == AF_INET ? "4" : "6", context_text, ref_text };

	ipr_context_format(context, context_text);
	ipr_ref_format(ref, ref_text);
	return fetch_one(pg_of(base), PST_REMOTE_BY_ADDR, 3, params, out);
}

int pg_store_find_encoded(struct store *base, int family, const uint8_t *encoded,
			  struct ipr_mapping *out)
{
	char text[INET6_ADDRSTRLEN];
	const char *params[] = { text };

	store_address_text(family, encoded, text);
	return fetch_one(pg_of(base), PST_REMOTE_BY_ENCODED, 1, params, out);
}

int pg_store_find_ref(struct store *base, const struct ipr_ref *ref, struct ipr_mapping *out)
{
	char text[IPR_REF_TEXT_MAX];
	const char *params[] = { text };

	ipr_ref_format(ref, text);
	return fetch_one(pg_of(base), PST_LOCAL_BY_REF, 1, params, out);
}

int pg_store_find_local(struct store *base, int family, const uint8_t *address,
			struct ipr_mapping *out)
{
	char text[INET6_ADDRSTRLEN];
	const char *params[] = { text };

	store_address_text(family, address, text);
	return fetch_one(pg_of(base), PST_LOCAL_BY_ADDRESS, 1, params, out);
}

/* A mapping's columns as the insert statements' eight parameters, and the text they point to. */
struct row_params {
	char address[INET6_ADDRSTRLEN], context[IPR_ADDR_TEXT_MAX], ref[IPR_REF_TEXT_MAX];
	char kind[PG_INT_TEXT], expires[PG_INT_TEXT];
	const char *params[8];
};

static void row_params(const struct ipr_mapping *m, struct row_params *p)
{
	store_address_text(m->family, m->address, p->address);
	ipr_context_format(&m->context, p->context);
	ipr_ref_format(&m->ref, p->ref);
	p->params[0] = pg_int(p->kind, m->kind);
	p->params[1] = p->address;
	p->params[2] = m->family == AF_INET ? "4" : "6";
	p->params[3] = p->context;
	p->params[4] = p->ref;
	p->params[5] = m->name[0] ? m->name : NULL;
	p->params[6] = m->expires ? pg_int(p->expires, m->expires) : NULL;
	p->params[7] = m->source[0] ? m->source : "unknown";
}

/* An insert that answers the new row's id, or no row (-EEXIST): a unique value is taken. */
static int insert_row(struct pg_store *store, enum pst s, int n, const char *const *params,
		      struct ipr_mapping *m)
{
	PGresult *res;
	int rc = pg_exec(store, s, n, params, &res);

	if (rc == 0 && PQntuples(res) == 0)
		rc = -EEXIST; /* ON CONFLICT DO NOTHING: nothing added (and so nothing held) */
	if (rc == 0)
		m->id = pg_int_at(res, 0, 0);
	PQclear(res);
	return rc;
}

int pg_store_insert(struct store *base, struct ipr_mapping *m)
{
	enum pst s = ipr_mapping_is_local(m) ? PST_INSERT_LOCAL : PST_INSERT_REMOTE;
	struct row_params p;

	row_params(m, &p);
	return insert_row(pg_of(base), s, 8, p.params, m);
}

int pg_store_insert_held(struct store *base, struct ipr_mapping *m, const char *pool, int64_t until)
{
	struct row_params p;
	char at[PG_INT_TEXT];
	const char *params[10];

	row_params(m, &p);
	memcpy(params, p.params, sizeof(p.params));
	params[8] = pool;
	params[9] = pg_int(at, until);
	return insert_row(pg_of(base), PST_INSERT_REMOTE_HELD, 10, params, m);
}

/*
 * PST_BIND_REMOTE answers the row it added (its last column true) or the mapping of the
 * address it found (false), or nothing: the value was taken, or a transaction the statement's
 * snapshot did not see mapped the address (a hand edit: the gateways' own hold the site's
 * write lock, so none commits while the statement runs).
 */
int pg_store_bind_remote(struct store *base, struct ipr_mapping *m)
{
	struct pg_store *store = pg_of(base);
	struct row_params p;
	PGresult *res;
	int rc;

	row_params(m, &p);
	rc = pg_exec(store, PST_BIND_REMOTE, 8, p.params, &res);
	if (rc == 0 && PQntuples(res) == 0)
		rc = -EEXIST;
	if (rc == 0 && pg_int_at(res, 0, 9)) {
		m->id = pg_int_at(res, 0, 0);
	} else if (rc == 0) {
		rc = pg_row_to_mapping(store, res, 0, m);
		rc = rc < 0 ? rc : 1;
	}
	PQclear(res);
	return rc;
}

int pg_store_delete(struct store *base, const struct ipr_mapping *m, int64_t quarantine_until)
{
	struct pg_store *store = pg_of(base);
	enum pst s = ipr_mapping_is_local(m) ? PST_DELETE_LOCAL : PST_DELETE_REMOTE;
	char id[PG_INT_TEXT], until[PG_INT_TEXT], key[IPR_ADDR_TEXT_MAX + 16];
	const char *params[] = { pg_int(id, m->id) };
	const char *rest[] = { key, pg_int(until, quarantine_until) };
	uint64_t before = store->changes;
	int rc = pg_exec(store, s, 1, params, NULL);

	if (rc < 0 || quarantine_until <= 0)
		return rc;
	if (store->changes == before)
		return -ENOENT;
	store_quarantine_key(m, key, sizeof(key));
	return pg_exec(store, PST_QUARANTINE_ADD, 2, rest, NULL);
}

int pg_store_set_expiry(struct store *base, const struct ipr_mapping *m, int64_t expires)
{
	enum pst s = ipr_mapping_is_local(m) ? PST_EXPIRY_LOCAL : PST_EXPIRY_REMOTE;
	char id[PG_INT_TEXT], at[PG_INT_TEXT];
	const char *params[] = { pg_int(id, m->id), pg_int(at, expires) };

	return pg_exec(pg_of(base), s, 2, params, NULL);
}

int pg_store_mark_used(struct store *base, const struct ipr_mapping *m, int64_t now)
{
	char id[PG_INT_TEXT], at[PG_INT_TEXT];
	const char *params[] = { pg_int(id, m->id), pg_int(at, now) };

	if (ipr_mapping_is_local(m))
		return 0;
	return pg_exec(pg_of(base), PST_MARK_USED, 2, params, NULL);
}

int pg_store_inbound_count(struct store *base, const struct ipr_context *peer, uint64_t *count)
{
	char text[IPR_ADDR_TEXT_MAX];
	const char *params[] = { text };
	PGresult *res;
	int rc;

	if (peer)
		ipr_context_format(peer, text);
	rc = pg_exec(pg_of(base), peer ? PST_INBOUND_COUNT_PEER : PST_INBOUND_COUNT, peer ? 1 : 0,
		     params, &res);
	if (rc == 0)
		*count = (uint64_t)pg_int_at(res, 0, 0);
	PQclear(res);
	return rc;
}

int pg_store_inbound_idle(struct store *base, const struct ipr_context *peer,
			  struct ipr_mapping *out)
{
	char text[IPR_ADDR_TEXT_MAX];
	const char *params[] = { text };

	if (peer)
		ipr_context_format(peer, text);
	return fetch_one(pg_of(base), peer ? PST_INBOUND_IDLE_PEER : PST_INBOUND_IDLE, peer ? 1 : 0,
			 params, out);
}

int pg_store_expired(struct store *base, int64_t now, struct ipr_mapping *out, size_t max)
{
	struct pg_store *store = pg_of(base);
	char at[PG_INT_TEXT], limit[PG_INT_TEXT];
	const char *params[] = { pg_int(at, now), pg_int(limit, (int64_t)max) };
	int64_t last;
	int local, remote;

	local = fetch_many(store, PST_EXPIRED_LOCAL, 2, params, out, max, &last);
	if (local < 0 || (size_t)local == max)
		return local;
	pg_int(limit, (int64_t)(max - (size_t)local));
	remote = fetch_many(store, PST_EXPIRED_REMOTE, 2, params, out + local, max - (size_t)local,
			    &last);
	return remote < 0 ? remote : local + remote;
}

/* Pages through a local table, then a remote one, as one sequence (see CURSOR_REMOTE). */
static int list_pair(struct pg_store *store, enum pst local_stmt, enum pst remote_stmt,
		     uint64_t *cursor, struct ipr_mapping *out, size_t max)
{
	bool remote = *cursor & CURSOR_REMOTE;
	int64_t last = (int64_t)(*cursor & ~CURSOR_REMOTE);
	char after[PG_INT_TEXT], limit[PG_INT_TEXT];
	const char *params[] = { after, limit };
	int n = 0, more;

	if (!remote) {
		pg_int(after, last);
		pg_int(limit, (int64_t)max);
		n = fetch_many(store, local_stmt, 2, params, out, max, &last);
		if (n < 0)
			return n;
		if (n > 0)
			*cursor = (uint64_t)last;
		if ((size_t)n == max)
			return n;
		/* local rows done: fill the rest of the page from the remote table */
		last = 0;
	}
	pg_int(after, last);
	pg_int(limit, (int64_t)(max - (size_t)n));
	more = fetch_many(store, remote_stmt, 2, params, out + n, max - (size_t)n, &last);
	if (more < 0)
		return more;
	if (more > 0)
		*cursor = CURSOR_REMOTE | (uint64_t)last;
	return n + more;
}

int pg_store_list(struct store *base, uint64_t *cursor, struct ipr_mapping *out, size_t max)
{
	return list_pair(pg_of(base), PST_LIST_LOCAL, PST_LIST_REMOTE, cursor, out, max);
}

int pg_store_list_from_files(struct store *base, uint64_t *cursor, struct ipr_mapping *out,
			     size_t max)
{
	return list_pair(pg_of(base), PST_FIXED_LOCAL, PST_FIXED_REMOTE, cursor, out, max);
}
