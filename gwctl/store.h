/* The daemon's store: the only place mappings are written; which engine keeps it shows nowhere. */
#ifndef GWCTL_STORE_H
#define GWCTL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "mapping.h"

struct store;

/*
 * Opens (or creates) the store at path and brings its schema up to date. Refuses, with a
 * sentence in msg and without writing anything, a file that is not an SQLite database, that
 * belongs to another application, that is corrupt, or that a newer gwctld created, and will not
 * create a missing database beside a write-ahead log it left (-EEXIST).
 */
IPR_MUST_CHECK int store_open(const char *path, struct store **out, char *msg, size_t msg_size);
void store_close(struct store *store);
/*
 * A second, read-only connection to a store the daemon has opened, for a thread that reads
 * while the daemon writes (WAL: it sees the last commit, never blocks or is blocked). Only the
 * lookups and lists may be used on it.
 */
IPR_MUST_CHECK int store_open_reader(const char *path, struct store **out, char *msg,
				     size_t msg_size);

/*
 * The store a configuration names (gwctl.conf's `database`, `store` and `gateway-id`): SQLite at
 * path when conninfo is NULL or "", else the site's PostgreSQL store shared by several gateways,
 * this one named gateway ("": the host name). A gwctld built without libpq refuses the second
 * with -ENOTSUP. store_open_reader_spec is store_open_reader's counterpart (on PostgreSQL a
 * connection of its own, read-only).
 */
struct store_spec {
	const char *path;
	const char *conninfo;
	const char *gateway;
};
IPR_MUST_CHECK int store_open_spec(const struct store_spec *spec, struct store **out, char *msg,
				   size_t msg_size);
IPR_MUST_CHECK int store_open_reader_spec(const struct store_spec *spec, struct store **out,
					  char *msg, size_t msg_size);
/* What the spec names, for messages: the path, or "postgresql (gateway NAME)". */
void store_spec_text(const struct store_spec *spec, char *buf, size_t size);
/* The gateway's id in the shared store: the one configured, else the host name. */
void store_spec_gateway(const struct store_spec *spec, char *buf, size_t size);

/*
 * Writes happen between begin and commit. A commit survives the daemon's crash on return;
 * surviving a power loss waits for the next flush (store_flush, store_flushed), except where
 * store_need_sync asked for it now (docs/store.md, Durability).
 * commit returns -ENOSPC, -EROFS, -EIO or -EBUSY when the store could not commit, and -ESTALE
 * for a transaction that wrote once the database file was found deleted or replaced under the
 * daemon (store_replaced; reads still commit); the transaction is then rolled back and nothing
 * of it remains.
 */
IPR_MUST_CHECK int store_begin(struct store *store);
IPR_MUST_CHECK int store_commit(struct store *store);
void store_rollback(struct store *store);
/*
 * The write-ahead log's size in bytes, and for how long (ms) a reader has held its checkpoints
 * back, keeping it past its bound (0 when none does). See gwctl/store_wal.h.
 */
void store_wal_status(const struct store *store, uint64_t *bytes, int64_t *held_ms);
/*
 * Upkeep between batches, once their replies went out (never inside a transaction): on SQLite,
 * the WAL started again when it has grown past its bound (gwctl/store_wal.h), the one place
 * where the daemon's thread syncs the disk; nothing on PostgreSQL.
 */
void store_tend(struct store *store);
/*
 * A descriptor that becomes readable when store_tend has work that should not wait for the
 * next batch (SQLite: a checkpoint pass ended, and the WAL may start again before the next
 * commit gives it frames to copy on the daemon's thread); the loop reads it empty (it counts,
 * as an eventfd) and calls store_tend. -1 when there is none (PostgreSQL).
 */
int store_tend_fd(const struct store *store);
/*
 * The daemon's refills of the reserve go on behind it from now on, where the engine can do that:
 * on PostgreSQL a thread with a connection of its own adds the values store_reserve_add_many is
 * handed, which then answers -EINPROGRESS (taken for a job) or -EBUSY (the jobs' queue is full,
 * nothing taken), and the pool's count includes them until their job reports (store_tend);
 * 0 when started (or already), -ENOTSUP on SQLite, whose adds are calls in the daemon's own
 * process. Call after store_start: values are added only once the start's recovery is done.
 */
IPR_MUST_CHECK int store_refill_behind(struct store *store);

/*
 * Durability (docs/store.md). Commits do not wait for the disk (WAL, synchronous=NORMAL): they
 * survive the process being killed, and reach the disk when a flush covers them. Values bound
 * by commits that do not wait come from the reserve, whose rows were flushed before use.
 *
 * store_start, once after store_open: after an unclean stop, sends every reserved value to
 * quarantine until now + lease + quarantine and moves every dynamic lease to at least
 * now + lease; marks the store in use, on disk before it returns.
 * store_mark_clean, last before store_close: everything on disk and the stop recorded clean.
 */
struct store_start_report {
	bool unclean;
	uint64_t reserved_quarantined;
	uint64_t leases_extended;
};
IPR_MUST_CHECK int store_start(struct store *store, int64_t now, uint32_t lease_secs,
			       uint32_t quarantine_secs, struct store_start_report *report);
IPR_MUST_CHECK int store_mark_clean(struct store *store);
/* Asks the flusher thread to put every commit so far on disk; returns at once. */
void store_flush(struct store *store);
/* True when the last commit is on disk. */
bool store_flushed(const struct store *store);

struct store_durability {
	uint64_t flushes;	  /* syncs of the WAL by the flusher or on the spot */
	uint64_t flush_failures;  /* syncs that failed (retried at the next flush) */
	uint64_t sync_commits;	  /* commits that synced on the spot: a value the reserve lacked */
	uint64_t answer_timeouts; /* statements a database server did not answer in time */
	uint64_t wal_restarts;	  /* SQLite: times the daemon let the WAL start again */
	uint64_t wal_waits;	  /* of those, ones that waited for the flusher's checkpoint */
	uint64_t wal_catch_ups;	  /* of those, ones where it copied frames itself, and synced */
	uint64_t reserved_behind; /* PostgreSQL: values the refills' own connection added */
	uint64_t refills_behind_failed; /* PostgreSQL: its jobs that failed (nothing added) */
};
void store_durability(const struct store *store, struct store_durability *out);

/*
 * The reserve: values of one pool ("encoded:PREFIX/LEN", "ref:MIN-MAX"), as quarantine names
 * them ("encoded:ADDRESS", "ref:DECIMAL"). take removes the oldest one and writes it to value
 * (-ENOENT when the pool has none), with *busy set when it is mapped or resting at now, all in
 * one statement; flushed_only takes only values a flush covered, otherwise the open
 * transaction syncs at commit (store_need_sync). add reserves a value, usable once flushed,
 * unless it is mapped or resting at now: 1 added, 0 not (one statement too); add_many adds
 * each of values[0..n) so, in one statement where the engine can (a round trip each on
 * PostgreSQL was a third of an allocation's), and returns how many it added. count says how
 * many the pool holds, and how many a flush covered unless flushed is NULL (cheaper: the
 * pool's index alone).
 */
#define STORE_POOLS_KEPT    4	/* pools whose counts the store keeps in memory */
#define STORE_POOL_TEXT_MAX 128 /* "encoded:PREFIX/LEN" or "ref:MIN-MAX" and its NUL */
IPR_MUST_CHECK int store_reserve_take(struct store *store, const char *pool, bool flushed_only,
				      int64_t now, char *value, size_t size, bool *busy);
/*
 * The value the next flushed_only take of the pool would give (and whether it is busy), left in
 * the reserve: a caller that binds it at once takes it after (the same value, the same
 * transaction). -ENOENT when no flushed value is next; -ENOTSUP where looking first costs
 * nothing (SQLite: the lookup and the insert are calls in the daemon's own process).
 */
IPR_MUST_CHECK int store_reserve_peek(struct store *store, const char *pool, int64_t now,
				      char *value, size_t size, bool *busy);
IPR_MUST_CHECK int store_reserve_add(struct store *store, const char *pool, const char *value,
				     int64_t now);
IPR_MUST_CHECK int store_reserve_add_many(struct store *store, const char *pool,
					  const char *const *values, size_t n, int64_t now);
IPR_MUST_CHECK int store_reserve_count(struct store *store, const char *pool, uint64_t *all,
				       uint64_t *flushed);
/* The open transaction binds a value no flush covered: its commit syncs before returning. */
void store_need_sync(struct store *store);

/* True once a commit found the database file deleted or replaced: only a restart helps. */
bool store_replaced(const struct store *store);
/* False when SQLite ended the transaction on its own after an error (disk full, I/O). */
bool store_in_transaction(const struct store *store);

/* Rows changed since open: tells whether a commit made anything durable. */
uint64_t store_changes(const struct store *store);

/* Lookups: 0 and *out filled, -ENOENT when absent, another -errno on failure. */
IPR_MUST_CHECK int store_find_remote(struct store *store, int family,
				     const struct ipr_context *context, const struct ipr_ref *ref,
				     struct ipr_mapping *out);
IPR_MUST_CHECK int store_find_encoded(struct store *store, int family, const uint8_t *encoded,
				      struct ipr_mapping *out);
IPR_MUST_CHECK int store_find_ref(struct store *store, const struct ipr_ref *ref,
				  struct ipr_mapping *out);
/* The local mapping of a host address: a published one first, else its dynamic one. */
IPR_MUST_CHECK int store_find_local(struct store *store, int family, const uint8_t *address,
				    struct ipr_mapping *out);

/* Inserts m (its kind picks the table) and sets m->id; -EEXIST when a unique value is taken. */
IPR_MUST_CHECK int store_insert(struct store *store, struct ipr_mapping *m);
/*
 * A remote mapping m (its value chosen) inserted unless its remote address (family, context,
 * ref) is mapped already: 0 inserted (m->id set), 1 mapped already (*m is that mapping),
 * -EEXIST when neither (the value is taken, or the address was mapped by a transaction the
 * statement could not see). One statement and one round trip on PostgreSQL, where the lookup
 * and the insert were two (docs/store.md); the lookup, then the insert, on SQLite.
 */
IPR_MUST_CHECK int store_bind_remote(struct store *store, struct ipr_mapping *m);
/*
 * store_insert of a remote mapping m and, once it is in, store_hold_put(pool, its encoded
 * address, live, until): a LAN client's new name on probation. One statement and one round trip
 * on PostgreSQL, where they were two; -EEXIST (nothing held) when a unique value is taken.
 */
IPR_MUST_CHECK int store_insert_held(struct store *store, struct ipr_mapping *m, const char *pool,
				     int64_t until);
/*
 * store_bind_ahead: the new remote mappings of a batch's requests bound together, before the
 * batch's other work (PostgreSQL: one statement a chunk of 64, docs/store.md).
 * Each request is one of:
 * - STORE_BIND_FOUND: its address was mapped already; m is that mapping;
 * - STORE_BIND_ADDED: m was inserted (m->id, m->address set) with the next value reserved in
 *   terms->pool, and held in hold_pool when set;
 * - STORE_BIND_USUAL: nothing done; the usual way answers it (a pool with due holds, ended rests
 *   or no room, no usable reserved value left, a unique value met).
 */
enum store_bind_outcome { STORE_BIND_USUAL, STORE_BIND_ADDED, STORE_BIND_FOUND };

struct store_bind {
	struct ipr_mapping m;  /* in: family, context, ref, name, expires, source (dynamic) */
	const char *hold_pool; /* a LAN client's pool to hold the new mapping in, or NULL */
	int64_t hold_until;
	enum store_bind_outcome outcome; /* out */
};

/* What the requests of one call share: the reserve's pool of their family, and the quota. */
struct store_bind_terms {
	const char *pool; /* "encoded:PREFIX/LEN", as alloc.c names a range's pool */
	int family;
	int64_t now;
	int64_t due_by;		/* a live hold due by then is reclaimed first: the usual way */
	uint64_t pool_limit;	/* client-limit: a client's pool at it goes the usual way */
	uint64_t clients_limit; /* client-total, as pool_limit */
};

/*
 * 0 with every outcome set; -ENOTSUP where the engine binds one request at a time anyway
 * (SQLite: every outcome STORE_BIND_USUAL); -errno when the store failed (the batch is doomed).
 * n = 0 only asks which: 0 or -ENOTSUP, nothing sent.
 */
IPR_MUST_CHECK int store_bind_ahead(struct store *store, const struct store_bind_terms *terms,
				    struct store_bind *const *items, size_t n);
/* Removes m; quarantine_until > 0 also rests its allocated value until then. */
IPR_MUST_CHECK int store_delete(struct store *store, const struct ipr_mapping *m,
				int64_t quarantine_until);
/* Moves a dynamic mapping's expiry (never of published or static ones). */
IPR_MUST_CHECK int store_set_expiry(struct store *store, const struct ipr_mapping *m,
				    int64_t expires);

/* True (1) when the encoded address or reference rests in quarantine at time now. */
IPR_MUST_CHECK int store_encoded_quarantined(struct store *store, int family,
					     const uint8_t *encoded, int64_t now);
/* An address as the store keeps it: RFC 5952 / dotted quad text, INET6_ADDRSTRLEN bytes. */
void store_address_text(int family, const uint8_t *address, char *buf);
/*
 * A reserved or resting value "encoded:ADDRESS" read back into out: 1 when ADDRESS is of family
 * in the text store_address_text gives it, 0 when it parses but is written otherwise (edited by
 * hand: check the address itself), -EINVAL when it is no encoded address of family.
 */
IPR_MUST_CHECK int store_encoded_value(int family, const char *value, uint8_t out[16]);
/* 1 when the encoded address is neither mapped (a broken row too) nor resting, 0 when taken. */
IPR_MUST_CHECK int store_encoded_free(struct store *store, int family, const uint8_t *encoded,
				      int64_t now);
IPR_MUST_CHECK int store_ref_quarantined(struct store *store, const struct ipr_ref *ref,
					 int64_t now);

/* Records that a remote mapping carried traffic (REPORT_USE); local mappings are left alone. */
IPR_MUST_CHECK int store_mark_used(struct store *store, const struct ipr_mapping *m, int64_t now);

/*
 * Mappings the dataplane made for unknown remote sources (dynamic remote, source "dataplane"):
 * how many there are, of one peer gateway or (peer NULL) in all; and the oldest of them that
 * never carried traffic since (-ENOENT when there is none).
 */
IPR_MUST_CHECK int store_inbound_count(struct store *store, const struct ipr_context *peer,
				       uint64_t *count);
IPR_MUST_CHECK int store_inbound_idle(struct store *store, const struct ipr_context *peer,
				      struct ipr_mapping *out);

/*
 * How many encoded addresses of a family are in use or resting in quarantine (until the sweep
 * that forgets them); read from counts the store keeps as it changes, in constant time.
 */
IPR_MUST_CHECK int store_encoded_taken(struct store *store, int family, uint64_t *count);

/*
 * Up to max dynamic mappings expired at time now, for the sweeper to delete. Returns how many
 * were written to out.
 */
IPR_MUST_CHECK int store_expired(struct store *store, int64_t now, struct ipr_mapping *out,
				 size_t max);
/* Forgets quarantine entries whose time is over. */
IPR_MUST_CHECK int store_purge_quarantine(struct store *store, int64_t now);

/*
 * Mappings in a stable order for paging: fills up to max entries after *cursor (0 to start)
 * and advances *cursor; returns the count, 0 at the end.
 */
IPR_MUST_CHECK int store_list(struct store *store, uint64_t *cursor, struct ipr_mapping *out,
			      size_t max);

/* The same over the mappings published sources own (published and static, from files). */
IPR_MUST_CHECK int store_list_from_files(struct store *store, uint64_t *cursor,
					 struct ipr_mapping *out, size_t max);

/*
 * A nested part of the open transaction that can be undone alone: savepoint, then release to
 * keep it or rollback_to to drop it (the rest of the transaction stays).
 */
IPR_MUST_CHECK int store_savepoint(struct store *store);
IPR_MUST_CHECK int store_release(struct store *store);
void store_rollback_to(struct store *store);

/* Mappings by kind and resting values, kept as the store changes: constant time to read. */
struct store_counts {
	uint64_t by_kind[IPR_MAP_STATIC_EXTERNAL + 1];
	uint64_t quarantined;
	uint64_t held_client;  /* values held by clients' pools (gwctl/quota.h) */
	uint64_t held_inbound; /* inbound values reclaimed and resting */
	uint64_t bad_rows;     /* rows that failed validation when read, since open */
};
IPR_MUST_CHECK int store_count(struct store *store, struct store_counts *counts);

#endif
