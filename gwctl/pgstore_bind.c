/*
 * A batch's new remote mappings bound in one statement (store_bind_ahead, migration 15's
 * ipref_bind_batch): the requests go as parallel arrays, a chunk at a time, and the server pays
 * once a chunk what it paid once a request before, a round trip and the work of starting each
 * statement and each trigger's statements (docs/store.md, "A batch's new names in one
 * statement").
 */
#include "pgstore_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Requests a statement carries at most: the reserved values one read ahead gives. */
#define BIND_CHUNK PG_TAKE_AHEAD

/* The columns the arrays carry, in ipref_bind_batch's order, and the bytes each may need. */
enum { A_FAMILY, A_CONTEXT, A_REF, A_NAME, A_EXPIRES, A_SOURCE, A_POOL, A_UNTIL, A_COUNT };
static const size_t element_max[A_COUNT] = {
	[A_FAMILY] = 4,
	[A_CONTEXT] = IPR_ADDR_TEXT_MAX,
	[A_REF] = IPR_REF_TEXT_MAX,
	[A_NAME] = IPR_NAME_MAX + 1,
	[A_EXPIRES] = PG_INT_TEXT,
	[A_SOURCE] = IPR_MAPPING_SOURCE_MAX + 1,
	[A_POOL] = IPR_ADDR_TEXT_MAX + 16, /* a LAN client's pool (quota.h) */
	[A_UNTIL] = PG_INT_TEXT,
};

/* The bytes column c's array of n elements may need: each escaped, quoted and separated. */
static size_t array_cap(int c, size_t n)
{
	return n * (2 * element_max[c] + 3) + 3;
}

/* The arrays of items[0..n) built over one buffer (freed by the caller); -ENOMEM or -EINVAL. */
static int build_arrays(struct store_bind *const *items, size_t n, struct pg_array *arrays,
			char **buffer)
{
	size_t total = 0, at = 0;

	for (int c = 0; c < A_COUNT; c++)
		total += array_cap(c, n);
	*buffer = malloc(total);
	if (!*buffer)
		return -ENOMEM;
	for (int c = 0; c < A_COUNT; c++) {
		pg_array_start(&arrays[c], *buffer + at, array_cap(c, n));
		at += array_cap(c, n);
	}
	for (size_t i = 0; i < n; i++) {
		const struct ipr_mapping *m = &items[i]->m;
		char context[IPR_ADDR_TEXT_MAX], ref[IPR_REF_TEXT_MAX];

		ipr_context_format(&m->context, context);
		ipr_ref_format(&m->ref, ref);
		pg_array_put(&arrays[A_FAMILY], m->family == AF_INET ? "4" : "6");
		pg_array_put(&arrays[A_CONTEXT], context);
		pg_array_put(&arrays[A_REF], ref);
		pg_array_put(&arrays[A_NAME], m->name[0] ? m->name : NULL);
		if (m->expires)
			pg_array_put_int(&arrays[A_EXPIRES], m->expires);
		else
			pg_array_put(&arrays[A_EXPIRES], NULL);
		pg_array_put(&arrays[A_SOURCE], m->source[0] ? m->source : "unknown");
		pg_array_put(&arrays[A_POOL], items[i]->hold_pool);
		pg_array_put_int(&arrays[A_UNTIL], items[i]->hold_until);
	}
	/* a field longer than its kind allows overflows: never one a request can carry */
	for (int c = 0; c < A_COUNT; c++)
		if (pg_array_end(&arrays[c]) < 0)
			return -EINVAL;
	return 0;
}

/* The answer's rows into items[0..n); *to: the last reserve row used (0: none). 0 or -errno. */
static int read_answers(struct pg_store *store, PGresult *res, struct store_bind *const *items,
			size_t n, int64_t *to)
{
	int rc = PQnfields(res) == 12 ? 0 : -EIO;

	*to = 0;
	for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
		int64_t ord = pg_int_at(res, r, 11);
		struct store_bind *item;

		if (ord < 1 || (size_t)ord > n)
			return -EIO;
		item = items[ord - 1];
		if (!PQgetisnull(res, r, 10) && pg_int_at(res, r, 10) > *to)
			*to = pg_int_at(res, r, 10);
		switch (pg_int_at(res, r, 9)) {
		case 0:
			rc = pg_row_to_mapping(store, res, r, &item->m);
			item->outcome = STORE_BIND_ADDED;
			break;
		case 1:
			rc = pg_row_to_mapping(store, res, r, &item->m);
			item->outcome = STORE_BIND_FOUND;
			break;
		default:
			item->outcome = STORE_BIND_USUAL;
		}
	}
	return rc;
}

/* One chunk: items[0..n) with the reserved values [first, last]. 0 or -errno. */
static int bind_chunk(struct pg_store *store, const struct store_bind_terms *t,
		      struct store_bind *const *items, size_t n, int64_t first, int64_t last)
{
	struct pg_array arrays[A_COUNT];
	char *buffer = NULL, kind[PG_INT_TEXT], from[PG_INT_TEXT], to_id[PG_INT_TEXT];
	char at[PG_INT_TEXT], due_by[PG_INT_TEXT], pool_limit[PG_INT_TEXT], all_limit[PG_INT_TEXT];
	PGresult *res = NULL;
	int64_t to = 0;
	int rc = build_arrays(items, n, arrays, &buffer);

	if (rc == 0) {
		const char *params[17] = {
			arrays[A_FAMILY].text,
			arrays[A_CONTEXT].text,
			arrays[A_REF].text,
			arrays[A_NAME].text,
			arrays[A_EXPIRES].text,
			arrays[A_SOURCE].text,
			arrays[A_POOL].text,
			arrays[A_UNTIL].text,
			pg_int(kind, IPR_MAP_DYNAMIC_REMOTE),
			store->gateway,
			t->pool,
			pg_int(from, first),
			pg_int(to_id, last),
			pg_int(at, t->now),
			pg_int(due_by, t->due_by),
			pg_int(pool_limit, (int64_t)t->pool_limit),
			pg_int(all_limit, (int64_t)t->clients_limit),
		};

		rc = pg_exec(store, PST_BIND_BATCH, 17, params, &res);
	}
	if (rc == 0)
		rc = read_answers(store, res, items, n, &to);
	if (rc == 0 && to > 0)
		pg_pool_took(store, t->pool, to);
	PQclear(res);
	free(buffer);
	return rc;
}

int pg_store_bind_ahead(struct store *base, const struct store_bind_terms *terms,
			struct store_bind *const *items, size_t n)
{
	struct pg_store *store = pg_of(base);
	int rc = 0;

	for (size_t done = 0; rc == 0 && done < n;) {
		size_t k = n - done < BIND_CHUNK ? n - done : BIND_CHUNK;
		int64_t first = 0, last = 0;
		unsigned candidates;

		rc = pg_pool_candidates(store, terms->pool, terms->family, terms->now, (unsigned)k,
					&first, &last, &candidates);
		if (rc < 0 || candidates == 0)
			return rc; /* the rest go the usual way, whose take deals with the row */
		rc = bind_chunk(store, terms, items + done, k, first, last);
		done += k;
	}
	return rc;
}
