/* The store's functions, each through the table of the engine that opened the store. */
#include "store_ops.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef IPR_HAVE_PGSTORE
#include "pgstore.h"
#endif

int store_open(const char *path, struct store **out, char *msg, size_t msg_size)
{
	return sqlite_store_open(path, out, msg, msg_size);
}

int store_open_reader(const char *path, struct store **out, char *msg, size_t msg_size)
{
	return sqlite_store_open_reader(path, out, msg, msg_size);
}

void store_spec_gateway(const struct store_spec *spec, char *buf, size_t size)
{
	if (spec->gateway && spec->gateway[0]) {
		snprintf(buf, size, "%s", spec->gateway);
		return;
	}
	if (gethostname(buf, size) < 0)
		buf[0] = '\0';
	buf[size - 1] = '\0';
}

static bool is_pg(const struct store_spec *spec)
{
	return spec->conninfo && spec->conninfo[0];
}

static int open_spec(const struct store_spec *spec, bool reader, struct store **out, char *msg,
		     size_t msg_size)
{
	char gateway[64];

	if (!is_pg(spec))
		return reader ? store_open_reader(spec->path, out, msg, msg_size)
			      : store_open(spec->path, out, msg, msg_size);
	store_spec_gateway(spec, gateway, sizeof(gateway));
#ifdef IPR_HAVE_PGSTORE
	return reader ? pg_store_open_reader(spec->conninfo, gateway, out, msg, msg_size)
		      : pg_store_open(spec->conninfo, gateway, out, msg, msg_size);
#else
	snprintf(msg, msg_size,
		 "store = postgresql: this gwctld was built without PostgreSQL"
		 " (libpq; meson -Dpostgresql=enabled)");
	return -ENOTSUP;
#endif
}

int store_open_spec(const struct store_spec *spec, struct store **out, char *msg, size_t msg_size)
{
	return open_spec(spec, false, out, msg, msg_size);
}

int store_open_reader_spec(const struct store_spec *spec, struct store **out, char *msg,
			   size_t msg_size)
{
	return open_spec(spec, true, out, msg, msg_size);
}

void store_spec_text(const struct store_spec *spec, char *buf, size_t size)
{
	char gateway[64];

	if (!is_pg(spec)) {
		snprintf(buf, size, "%s", spec->path);
		return;
	}
	store_spec_gateway(spec, gateway, sizeof(gateway));
	snprintf(buf, size, "postgresql (gateway %s)", gateway);
}

void store_address_text(int family, const uint8_t *address, char *buf)
{
	char *p = buf;

	if (family != AF_INET) {
		inet_ntop(family, address, buf, INET6_ADDRSTRLEN);
		return;
	}
	/* glibc's inet_ntop formats IPv4 with sprintf: 7 % of an allocation's instructions */
	for (int i = 0; i < 4; i++) {
		unsigned v = address[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
}

int store_row_to_mapping(const struct store_row *row, struct ipr_mapping *m)
{
	const char *address = row->address, *context = row->context, *ref = row->ref;
	const char *name = row->name, *source = row->source;
	int family = row->family;

	memset(m, 0, sizeof(*m));
	m->id = row->id;
	m->kind = (enum ipr_mapping_kind)row->kind;
	m->family = family == 4 ? AF_INET : AF_INET6;
	m->expires = row->expires;
	if (!address || !context || !ref || (family != 4 && family != 6) ||
	    inet_pton(m->family, address, m->address) != 1 ||
	    ipr_context_parse(context, strlen(context), &m->context, NULL) < 0 ||
	    ipr_ref_parse(ref, strlen(ref), &m->ref, NULL) < 0 ||
	    (name && (strlen(name) > IPR_NAME_MAX ||
		      ipr_name_parse(name, strlen(name), m->name, NULL) < 0)))
		return -EBADMSG;
	if (source)
		snprintf(m->source, sizeof(m->source), "%s", source);
	return 0;
}

int store_encoded_value(int family, const char *value, uint8_t out[16])
{
	char text[INET6_ADDRSTRLEN];

	memset(out, 0, 16);
	if (strncmp(value, "encoded:", 8) != 0 || inet_pton(family, value + 8, out) != 1)
		return -EINVAL;
	store_address_text(family, out, text);
	return strcmp(text, value + 8) == 0;
}

/* The quarantine key of a mapping's allocated value: its encoded address or our reference. */
void store_quarantine_key(const struct ipr_mapping *m, char *buf, size_t size)
{
	char text[IPR_ADDR_TEXT_MAX];

	if (ipr_mapping_is_local(m)) {
		ipr_ref_format(&m->ref, text);
		snprintf(buf, size, "ref:%s", text);
	} else {
		store_address_text(m->family, m->address, text);
		snprintf(buf, size, "encoded:%s", text);
	}
}

void store_counts_add(struct store_counts *counts, const char *name, int64_t n)
{
	unsigned kind;

	/* a count edited below zero by hand reads as 0, not as 2^64 - 1 */
	if (!name || n < 0)
		return;
	if (sscanf(name, "mappings.%u", &kind) == 1 && kind >= IPR_MAP_PUBLISHED &&
	    kind <= IPR_MAP_STATIC_EXTERNAL)
		counts->by_kind[kind] = (uint64_t)n;
	else if (strncmp(name, "quarantine.", 11) == 0)
		counts->quarantined += (uint64_t)n;
	else if (strcmp(name, "hold.client") == 0)
		counts->held_client = (uint64_t)n;
	else if (strcmp(name, "hold.inbound") == 0)
		counts->held_inbound = (uint64_t)n;
}

void store_close(struct store *store)
{
	if (store)
		store->ops->close(store);
}

int store_begin(struct store *store)
{
	return store->ops->begin(store);
}

int store_commit(struct store *store)
{
	return store->ops->commit(store);
}

void store_rollback(struct store *store)
{
	store->ops->rollback(store);
}

void store_wal_status(const struct store *store, uint64_t *bytes, int64_t *held_ms)
{
	store->ops->wal_status(store, bytes, held_ms);
}

void store_tend(struct store *store)
{
	store->ops->tend(store);
}

int store_tend_fd(const struct store *store)
{
	return store->ops->tend_fd(store);
}

int store_refill_behind(struct store *store)
{
	return store->ops->refill_behind(store);
}

int store_start(struct store *store, int64_t now, uint32_t lease_secs, uint32_t quarantine_secs,
		struct store_start_report *report)
{
	return store->ops->start(store, now, lease_secs, quarantine_secs, report);
}

int store_mark_clean(struct store *store)
{
	return store->ops->mark_clean(store);
}

void store_flush(struct store *store)
{
	store->ops->flush(store);
}

bool store_flushed(const struct store *store)
{
	return store->ops->flushed(store);
}

void store_durability(const struct store *store, struct store_durability *out)
{
	store->ops->durability(store, out);
}

int store_reserve_take(struct store *store, const char *pool, bool flushed_only, int64_t now,
		       char *value, size_t size, bool *busy)
{
	return store->ops->reserve_take(store, pool, flushed_only, now, value, size, busy);
}

int store_reserve_peek(struct store *store, const char *pool, int64_t now, char *value, size_t size,
		       bool *busy)
{
	return store->ops->reserve_peek(store, pool, now, value, size, busy);
}

int store_reserve_add(struct store *store, const char *pool, const char *value, int64_t now)
{
	return store->ops->reserve_add(store, pool, value, now);
}

int store_reserve_add_many(struct store *store, const char *pool, const char *const *values,
			   size_t n, int64_t now)
{
	return store->ops->reserve_add_many(store, pool, values, n, now);
}

int store_reserve_count(struct store *store, const char *pool, uint64_t *all, uint64_t *flushed)
{
	return store->ops->reserve_count(store, pool, all, flushed);
}

void store_need_sync(struct store *store)
{
	store->ops->need_sync(store);
}

bool store_replaced(const struct store *store)
{
	return store->ops->replaced(store);
}

bool store_in_transaction(const struct store *store)
{
	return store->ops->in_transaction(store);
}

uint64_t store_changes(const struct store *store)
{
	return store->ops->changes(store);
}

int store_find_remote(struct store *store, int family, const struct ipr_context *context,
		      const struct ipr_ref *ref, struct ipr_mapping *out)
{
	return store->ops->find_remote(store, family, context, ref, out);
}

int store_find_encoded(struct store *store, int family, const uint8_t *encoded,
		       struct ipr_mapping *out)
{
	return store->ops->find_encoded(store, family, encoded, out);
}

int store_find_ref(struct store *store, const struct ipr_ref *ref, struct ipr_mapping *out)
{
	return store->ops->find_ref(store, ref, out);
}

int store_find_local(struct store *store, int family, const uint8_t *address,
		     struct ipr_mapping *out)
{
	return store->ops->find_local(store, family, address, out);
}

int store_insert(struct store *store, struct ipr_mapping *m)
{
	return store->ops->insert(store, m);
}

int store_bind_remote(struct store *store, struct ipr_mapping *m)
{
	return store->ops->bind_remote(store, m);
}

int store_insert_held(struct store *store, struct ipr_mapping *m, const char *pool, int64_t until)
{
	return store->ops->insert_held(store, m, pool, until);
}

int store_bind_ahead(struct store *store, const struct store_bind_terms *terms,
		     struct store_bind *const *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		items[i]->outcome = STORE_BIND_USUAL;
	return store->ops->bind_ahead(store, terms, items, n);
}

int store_delete(struct store *store, const struct ipr_mapping *m, int64_t quarantine_until)
{
	return store->ops->delete (store, m, quarantine_until);
}

int store_set_expiry(struct store *store, const struct ipr_mapping *m, int64_t expires)
{
	return store->ops->set_expiry(store, m, expires);
}

int store_encoded_quarantined(struct store *store, int family, const uint8_t *encoded, int64_t now)
{
	return store->ops->encoded_quarantined(store, family, encoded, now);
}

int store_encoded_free(struct store *store, int family, const uint8_t *encoded, int64_t now)
{
	return store->ops->encoded_free(store, family, encoded, now);
}

int store_ref_quarantined(struct store *store, const struct ipr_ref *ref, int64_t now)
{
	return store->ops->ref_quarantined(store, ref, now);
}

int store_mark_used(struct store *store, const struct ipr_mapping *m, int64_t now)
{
	return store->ops->mark_used(store, m, now);
}

int store_inbound_count(struct store *store, const struct ipr_context *peer, uint64_t *count)
{
	return store->ops->inbound_count(store, peer, count);
}

int store_inbound_idle(struct store *store, const struct ipr_context *peer, struct ipr_mapping *out)
{
	return store->ops->inbound_idle(store, peer, out);
}

int store_encoded_taken(struct store *store, int family, uint64_t *count)
{
	return store->ops->encoded_taken(store, family, count);
}

int store_expired(struct store *store, int64_t now, struct ipr_mapping *out, size_t max)
{
	return store->ops->expired(store, now, out, max);
}

int store_purge_quarantine(struct store *store, int64_t now)
{
	return store->ops->purge_quarantine(store, now);
}

int store_list(struct store *store, uint64_t *cursor, struct ipr_mapping *out, size_t max)
{
	return store->ops->list(store, cursor, out, max);
}

int store_list_from_files(struct store *store, uint64_t *cursor, struct ipr_mapping *out,
			  size_t max)
{
	return store->ops->list_from_files(store, cursor, out, max);
}

int store_savepoint(struct store *store)
{
	return store->ops->savepoint(store);
}

int store_release(struct store *store)
{
	return store->ops->release(store);
}

void store_rollback_to(struct store *store)
{
	store->ops->rollback_to(store);
}

int store_count(struct store *store, struct store_counts *counts)
{
	return store->ops->count(store, counts);
}

int store_hold_put(struct store *store, const char *pool, const char *value, bool live,
		   int64_t until)
{
	return store->ops->hold_put(store, pool, value, live, until);
}

int store_hold_set(struct store *store, const char *value, bool live, int64_t until)
{
	return store->ops->hold_set(store, value, live, until);
}

int store_hold_get(struct store *store, const char *value, bool *live, int64_t *until)
{
	return store->ops->hold_get(store, value, live, until);
}

int store_hold_delete(struct store *store, const char *value)
{
	return store->ops->hold_delete(store, value);
}

int store_hold_due(struct store *store, const char *pool, int64_t by, struct store_hold *out,
		   unsigned max)
{
	return store->ops->hold_due(store, pool, by, out, max);
}

int store_hold_admission(struct store *store, const char *pool, int64_t now, int64_t due_by,
			 struct store_hold_admission *out)
{
	return store->ops->hold_admission(store, pool, now, due_by, out);
}

int store_hold_purge_pool(struct store *store, const char *pool, int64_t now, uint64_t *purged)
{
	return store->ops->hold_purge_pool(store, pool, now, purged);
}

int store_hold_purge(struct store *store, int64_t now)
{
	return store->ops->hold_purge(store, now);
}

int store_hold_count_pool(struct store *store, const char *pool, uint64_t *count)
{
	return store->ops->hold_count_pool(store, pool, count);
}

int store_hold_count_inbound(struct store *store, uint64_t *count)
{
	return store->ops->hold_count_inbound(store, count);
}
