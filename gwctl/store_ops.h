/* The operations an engine of the store implements, and the handle each engine's starts with. */
#ifndef GWCTL_STORE_OPS_H
#define GWCTL_STORE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_hold.h"

/*
 * One table per engine (SQLite: store_sqlite.c; PostgreSQL: pgstore_ops.c), each member the
 * engine's version of the store_NAME function of store.h or store_hold.h of the same name and
 * meaning; store_ops.c calls through it. Every member is set: an engine without a meaning for
 * one says so in its own function (-ENOTSUP or a documented stand-in), never by NULL.
 */
struct store_ops {
	const char *engine; /* "sqlite" or "postgresql", for messages */
	void (*close)(struct store *store);
	int (*begin)(struct store *store);
	int (*commit)(struct store *store);
	void (*rollback)(struct store *store);
	void (*wal_status)(const struct store *store, uint64_t *bytes, int64_t *held_ms);
	void (*tend)(struct store *store);
	int (*tend_fd)(const struct store *store);
	int (*refill_behind)(struct store *store);
	int (*start)(struct store *store, int64_t now, uint32_t lease_secs,
		     uint32_t quarantine_secs, struct store_start_report *report);
	int (*mark_clean)(struct store *store);
	void (*flush)(struct store *store);
	bool (*flushed)(const struct store *store);
	void (*durability)(const struct store *store, struct store_durability *out);
	int (*reserve_take)(struct store *store, const char *pool, bool flushed_only, int64_t now,
			    char *value, size_t size, bool *busy);
	int (*reserve_peek)(struct store *store, const char *pool, int64_t now, char *value,
			    size_t size, bool *busy);
	int (*reserve_add)(struct store *store, const char *pool, const char *value, int64_t now);
	int (*reserve_add_many)(struct store *store, const char *pool, const char *const *values,
				size_t n, int64_t now);
	int (*reserve_count)(struct store *store, const char *pool, uint64_t *all,
			     uint64_t *flushed);
	void (*need_sync)(struct store *store);
	bool (*replaced)(const struct store *store);
	bool (*in_transaction)(const struct store *store);
	uint64_t (*changes)(const struct store *store);
	int (*find_remote)(struct store *store, int family, const struct ipr_context *context,
			   const struct ipr_ref *ref, struct ipr_mapping *out);
	int (*find_encoded)(struct store *store, int family, const uint8_t *encoded,
			    struct ipr_mapping *out);
	int (*find_ref)(struct store *store, const struct ipr_ref *ref, struct ipr_mapping *out);
	int (*find_local)(struct store *store, int family, const uint8_t *address,
			  struct ipr_mapping *out);
	int (*insert)(struct store *store, struct ipr_mapping *m);
	int (*bind_remote)(struct store *store, struct ipr_mapping *m);
	int (*insert_held)(struct store *store, struct ipr_mapping *m, const char *pool,
			   int64_t until);
	int (*bind_ahead)(struct store *store, const struct store_bind_terms *terms,
			  struct store_bind *const *items, size_t n);
	int (*delete)(struct store *store, const struct ipr_mapping *m, int64_t quarantine_until);
	int (*set_expiry)(struct store *store, const struct ipr_mapping *m, int64_t expires);
	int (*encoded_quarantined)(struct store *store, int family, const uint8_t *encoded,
				   int64_t now);
	int (*encoded_free)(struct store *store, int family, const uint8_t *encoded, int64_t now);
	int (*ref_quarantined)(struct store *store, const struct ipr_ref *ref, int64_t now);
	int (*mark_used)(struct store *store, const struct ipr_mapping *m, int64_t now);
	int (*inbound_count)(struct store *store, const struct ipr_context *peer, uint64_t *count);
	int (*inbound_idle)(struct store *store, const struct ipr_context *peer,
			    struct ipr_mapping *out);
	int (*encoded_taken)(struct store *store, int family, uint64_t *count);
	int (*expired)(struct store *store, int64_t now, struct ipr_mapping *out, size_t max);
	int (*purge_quarantine)(struct store *store, int64_t now);
	int (*list)(struct store *store, uint64_t *cursor, struct ipr_mapping *out, size_t max);
	int (*list_from_files)(struct store *store, uint64_t *cursor, struct ipr_mapping *out,
			       size_t max);
	int (*savepoint)(struct store *store);
	int (*release)(struct store *store);
	void (*rollback_to)(struct store *store);
	int (*count)(struct store *store, struct store_counts *counts);
	int (*hold_put)(struct store *store, const char *pool, const char *value, bool live,
			int64_t until);
	int (*hold_set)(struct store *store, const char *value, bool live, int64_t until);
	int (*hold_get)(struct store *store, const char *value, bool *live, int64_t *until);
	int (*hold_delete)(struct store *store, const char *value);
	int (*hold_due)(struct store *store, const char *pool, int64_t by, struct store_hold *out,
			unsigned max);
	int (*hold_admission)(struct store *store, const char *pool, int64_t now, int64_t due_by,
			      struct store_hold_admission *out);
	int (*hold_purge_pool)(struct store *store, const char *pool, int64_t now,
			       uint64_t *purged);
	int (*hold_purge)(struct store *store, int64_t now);
	int (*hold_count_pool)(struct store *store, const char *pool, uint64_t *count);
	int (*hold_count_inbound)(struct store *store, uint64_t *count);
};

/* The handle: the first member of each engine's own (struct sqlite_store, struct pg_store). */
struct store {
	const struct store_ops *ops;
};

/* A row of either engine's mapping tables, its columns as the tables keep them. */
struct store_row {
	int64_t id;
	int kind;
	const char *address; /* local kinds: the host's address; remote kinds: the encoded one */
	int family;	     /* 4 or 6 */
	const char *context;
	const char *ref;
	const char *name; /* NULL when none */
	int64_t expires;
	const char *source;
};
/* The row as a mapping, every value checked: -EBADMSG (the caller counts it) when one is wrong. */
IPR_MUST_CHECK int store_row_to_mapping(const struct store_row *row, struct ipr_mapping *m);

/* The quarantine key of a mapping's allocated value: "encoded:ADDRESS" or "ref:DECIMAL". */
void store_quarantine_key(const struct ipr_mapping *m, char *buf, size_t size);
/* Adds one row of the counts table (its name and value) to counts. */
void store_counts_add(struct store_counts *counts, const char *name, int64_t n);

/* The engines' openers: store_open() picks one by the name it is given (store_ops.c). */
IPR_MUST_CHECK int sqlite_store_open(const char *path, struct store **out, char *msg,
				     size_t msg_size);
IPR_MUST_CHECK int sqlite_store_open_reader(const char *path, struct store **out, char *msg,
					    size_t msg_size);

#endif
