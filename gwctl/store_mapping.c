/* Mappings in the store: rows <-> mappings, lookups, inserts, deletes, leases, lists. */
#include "store_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The cursor of store_list: the top bit says which table, the rest is the last row id. */
#define CURSOR_REMOTE (1ULL << 63)

/* The current row (LOCAL_COLUMNS order, store_open.c) as a mapping, every value checked. */
static int row_to_mapping(struct sqlite_store *store, sqlite3_stmt *st, struct ipr_mapping *m)
{
	struct store_row row = {
		.id = sqlite3_column_int64(st, 0),
		.kind = sqlite3_column_int(st, 1),
		.address = (const char *)sqlite3_column_text(st, 2),
		.family = sqlite3_column_int(st, 3),
		.context = (const char *)sqlite3_column_text(st, 4),
		.ref = (const char *)sqlite3_column_text(st, 5),
		.name = (const char *)sqlite3_column_text(st, 6),
		.expires = sqlite3_column_int64(st, 7),
		.source = (const char *)sqlite3_column_text(st, 8),
	};
	int rc = store_row_to_mapping(&row, m);

	if (rc < 0)
		store->bad_rows++;
	return rc;
}

/* Steps a one-row query: 0 with *out, -ENOENT without a row. Resets the statement. */
static int fetch_one(struct sqlite_store *store, enum stmt s, struct ipr_mapping *out)
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

static int fetch_many(struct sqlite_store *store, enum stmt s, struct ipr_mapping *out, size_t max,
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

int sqlite_store_find_remote(struct store *base, int family, const struct ipr_context *context,
			     const struct ipr_ref *ref, struct ipr_mapping *out)
{
	struct sqlite_store *store = sqlite_of(base);
	sqlite3_stmt *st = store->stmt[ST_REMOTE_BY_ADDR];
	char context_text[IPR_ADDR_TEXT_MAX], ref_text[IPR_REF_TEXT_MAX];

	ipr_context_format(context, context_text);
	ipr_ref_format(ref, ref_text);
	sqlite3_bind_int(st, 1, family == AF_INET ? 4 : 6);
	bind_text(st, 2, context_text);
	bind_text(st, 3, ref_text);
	return fetch_one(store, ST_REMOTE_BY_ADDR, out);
}

int sqlite_store_find_encoded(struct store *base, int family, const uint8_t *encoded,
			      struct ipr_mapping *out)
{
	struct sqlite_store *store = sqlite_of(base);
	char text[INET6_ADDRSTRLEN];

	address_text(family, encoded, text);
	bind_text(store->stmt[ST_REMOTE_BY_ENCODED], 1, text);
	return fetch_one(store, ST_REMOTE_BY_ENCODED, out);
}

int sqlite_store_find_ref(struct store *base, const struct ipr_ref *ref, struct ipr_mapping *out)
{
	struct sqlite_store *store = sqlite_of(base);
	char text[IPR_REF_TEXT_MAX];

	ipr_ref_format(ref, text);
	bind_text(store->stmt[ST_LOCAL_BY_REF], 1, text);
	return fetch_one(store, ST_LOCAL_BY_REF, out);
}

int sqlite_store_find_local(struct store *base, int family, const uint8_t *address,
			    struct ipr_mapping *out)
{
	struct sqlite_store *store = sqlite_of(base);
	char text[INET6_ADDRSTRLEN];

	address_text(family, address, text);
	bind_text(store->stmt[ST_LOCAL_BY_ADDRESS], 1, text);
	return fetch_one(store, ST_LOCAL_BY_ADDRESS, out);
}

int sqlite_store_insert(struct store *base, struct ipr_mapping *m)
{
	struct sqlite_store *store = sqlite_of(base);
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

/* The insert, then the hold: two calls in this process, no round trip to save. */
int sqlite_store_insert_held(struct store *base, struct ipr_mapping *m, const char *pool,
			     int64_t until)
{
	char value[INET6_ADDRSTRLEN];
	int rc = sqlite_store_insert(base, m);

	address_text(m->family, m->address, value);
	return rc < 0 ? rc : sqlite_store_hold_put(base, pool, value, true, until);
}

/* The lookup, then the insert: two calls in this process, no round trip to save. */
int sqlite_store_bind_remote(struct store *base, struct ipr_mapping *m)
{
	struct ipr_mapping found;
	int rc = sqlite_store_find_remote(base, m->family, &m->context, &m->ref, &found);

	if (rc == 0) {
		*m = found;
		return 1;
	}
	return rc == -ENOENT ? sqlite_store_insert(base, m) : rc;
}

/* A statement costs no round trip here: each request of a batch goes the usual way. */
int sqlite_store_bind_ahead(struct store *base, const struct store_bind_terms *terms,
			    struct store_bind *const *items, size_t n)
{
	(void)base;
	(void)terms;
	(void)items;
	(void)n;
	return -ENOTSUP;
}

int sqlite_store_delete(struct store *base, const struct ipr_mapping *m, int64_t quarantine_until)
{
	struct sqlite_store *store = sqlite_of(base);
	enum stmt s = ipr_mapping_is_local(m) ? ST_DELETE_LOCAL : ST_DELETE_REMOTE;
	char key[IPR_ADDR_TEXT_MAX + 16];
	int rc;

	sqlite3_bind_int64(store->stmt[s], 1, m->id);
	rc = run(store, s);
	if (rc < 0 || quarantine_until <= 0)
		return rc;
	if (sqlite3_changes(store->db) == 0)
		return -ENOENT;
	store_quarantine_key(m, key, sizeof(key));
	bind_text(store->stmt[ST_QUARANTINE_ADD], 1, key);
	sqlite3_bind_int64(store->stmt[ST_QUARANTINE_ADD], 2, quarantine_until);
	return run(store, ST_QUARANTINE_ADD);
}

int sqlite_store_set_expiry(struct store *base, const struct ipr_mapping *m, int64_t expires)
{
	struct sqlite_store *store = sqlite_of(base);
	enum stmt s = ipr_mapping_is_local(m) ? ST_EXPIRY_LOCAL : ST_EXPIRY_REMOTE;

	sqlite3_bind_int64(store->stmt[s], 1, m->id);
	sqlite3_bind_int64(store->stmt[s], 2, expires);
	return run(store, s);
}

int sqlite_store_mark_used(struct store *base, const struct ipr_mapping *m, int64_t now)
{
	struct sqlite_store *store = sqlite_of(base);
	if (ipr_mapping_is_local(m))
		return 0;
	sqlite3_bind_int64(store->stmt[ST_MARK_USED], 1, m->id);
	sqlite3_bind_int64(store->stmt[ST_MARK_USED], 2, now);
	return run(store, ST_MARK_USED);
}

int sqlite_store_inbound_count(struct store *base, const struct ipr_context *peer, uint64_t *count)
{
	struct sqlite_store *store = sqlite_of(base);
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

int sqlite_store_inbound_idle(struct store *base, const struct ipr_context *peer,
			      struct ipr_mapping *out)
{
	struct sqlite_store *store = sqlite_of(base);
	enum stmt s = peer ? ST_INBOUND_IDLE_PEER : ST_INBOUND_IDLE;
	char text[IPR_ADDR_TEXT_MAX];

	if (peer) {
		ipr_context_format(peer, text);
		bind_text(store->stmt[s], 1, text);
	}
	return fetch_one(store, s, out);
}

int sqlite_store_expired(struct store *base, int64_t now, struct ipr_mapping *out, size_t max)
{
	struct sqlite_store *store = sqlite_of(base);
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

/* Pages through a local table, then a remote one, as one sequence (see CURSOR_REMOTE). */
static int list_pair(struct sqlite_store *store, enum stmt local_stmt, enum stmt remote_stmt,
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

int sqlite_store_list(struct store *base, uint64_t *cursor, struct ipr_mapping *out, size_t max)
{
	struct sqlite_store *store = sqlite_of(base);
	return list_pair(store, ST_LIST_LOCAL, ST_LIST_REMOTE, cursor, out, max);
}

int sqlite_store_list_from_files(struct store *base, uint64_t *cursor, struct ipr_mapping *out,
				 size_t max)
{
	struct sqlite_store *store = sqlite_of(base);
	return list_pair(store, ST_FIXED_LOCAL, ST_FIXED_REMOTE, cursor, out, max);
}
