/* The other gateways' changes: heard on a connection of their own, told to the subscribers. */
#include "peers_feed.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "service.h"
#include "store_ops.h"

#ifdef IPR_HAVE_PGSTORE
#include "pgstore_conn.h"

/* Changes kept between two applies; beyond it the subscribers start again from a snapshot. */
#define QUEUE_MAX 16384

/* One change to a mapping table, as the change log gave it. */
struct heard {
	bool local; /* local_mapping (its key a ref), else remote_mapping (an encoded address) */
	char key[64];
	/* a deleted row's identity (kind 0 otherwise): see pgstore_conn.h */
	int kind;
	int family;
	char address[64];
	char context[IPR_ADDR_TEXT_MAX];
	char ref[IPR_REF_TEXT_MAX];
};

struct peers_feed {
	struct service *svc;
	struct pgstore_conn *conn;
	char gateway[64];
	struct heard *queue;
	size_t len, cap;
	uint64_t overflowed; /* changes not kept since the last apply */
	bool lost;	     /* the log lost changes before they were read: start over */
	bool stalled;	     /* the store could not be read: wait for the next process */
};

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* on_change: this gateway's own changes its subscribers heard at their commit already. */
static void on_change(void *arg, const struct pgstore_change *ch)
{
	struct peers_feed *f = arg;
	struct service_counters *c = &f->svc->counters;
	struct heard *h;

	if (strcmp(ch->gateway, f->gateway) == 0) {
		c->peers_feed_own++;
		return;
	}
	/* quarantine: values resting; the dataplane holds only mappings */
	if (strcmp(ch->table, "local_mapping") != 0 && strcmp(ch->table, "remote_mapping") != 0)
		return;
	c->peers_feed_changes++;
	if (f->len == f->cap && f->cap < QUEUE_MAX) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct heard *q = realloc(f->queue, cap * sizeof(*q));
		if (q) {
			f->queue = q;
			f->cap = cap;
		}
	}
	if (f->len == f->cap) {
		f->overflowed++;
		return;
	}
	h = &f->queue[f->len++];
	memset(h, 0, sizeof(*h));
	h->local = strcmp(ch->table, "local_mapping") == 0;
	copy(h->key, sizeof(h->key), ch->key);
	if (strcmp(ch->op, "delete") == 0) {
		h->kind = ch->kind;
		h->family = ch->family;
		copy(h->address, sizeof(h->address), ch->address);
		copy(h->context, sizeof(h->context), ch->context);
		copy(h->ref, sizeof(h->ref), ch->ref);
	}
}

/* A bite more fits in the queue (the quarantine's rows and ours are not even kept). */
static bool room(const struct peers_feed *f)
{
	return f->len + PGSTORE_BITE_ROWS <= QUEUE_MAX;
}

/* has_room: asked before each read of the log */
static bool has_room(void *arg)
{
	return room(arg);
}

/* on_lost: the log was trimmed past changes not read yet (docs/store.md, "The peers feed"). */
static void on_lost(void *arg)
{
	struct peers_feed *f = arg;

	f->lost = true;
}

int peers_feed_open(struct service *svc, struct peers_feed **out, char *msg, size_t msg_size)
{
	struct store_spec spec = { svc->cfg.database, svc->cfg.store_conninfo,
				   svc->cfg.gateway_id };
	struct peers_feed *f;
	int rc;

	*out = NULL;
	if (!svc->cfg.store_conninfo[0])
		return 0; /* SQLite: one gateway, nobody else to hear */
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->svc = svc;
	store_spec_gateway(&spec, f->gateway, sizeof(f->gateway));
	struct pgstore_conn_config cfg = {
		.conninfo = svc->cfg.store_conninfo,
		.gateway = f->gateway,
		.backoff_min_ms = 100,
		.backoff_max_ms = 5000,
		.resync_ms = 1000,
		.on_change = on_change,
		.on_lost = on_lost,
		.has_room = has_room,
		.arg = f,
	};
	rc = pgstore_conn_new(&cfg, &f->conn, msg, msg_size);
	if (rc < 0) {
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

void peers_feed_free(struct peers_feed *f)
{
	if (!f)
		return;
	pgstore_conn_free(f->conn);
	free(f->queue);
	free(f);
}

int peers_feed_fd(const struct peers_feed *f, bool *want_write)
{
	*want_write = false;
	return f ? pgstore_conn_fd(f->conn, want_write) : -1;
}

int64_t peers_feed_timeout_ms(const struct peers_feed *f, int64_t now_ms)
{
	return f ? pgstore_conn_timeout_ms(f->conn, now_ms) : -1;
}

void peers_feed_process(struct peers_feed *f, int64_t now_ms)
{
	struct pgstore_conn_stats st;

	if (!f)
		return;
	pgstore_conn_process(f->conn, now_ms);
	f->stalled = false;
	pgstore_conn_stats(f->conn, &st);
	f->svc->counters.peers_feed_connects = st.connects;
	f->svc->counters.peers_feed_failures = st.failures;
	f->svc->counters.peers_feed_reads = st.log_reads;
	f->svc->counters.peers_feed_full_reads = st.full_reads;
}

bool peers_feed_room_again(const struct peers_feed *f)
{
	return f && pgstore_conn_held(f->conn) && room(f);
}

bool peers_feed_waiting(const struct peers_feed *f)
{
	return f && (f->lost || (!f->stalled && (f->len || f->overflowed)));
}

/*
 * The startup window: a subscriber's snapshot read before the first cursor would miss a change
 * another gateway committed between the two, as the feed reads only what comes after its
 * cursor. So snapshots wait for it (server_stream_snapshots); a change committed before the
 * cursor is then in the snapshot, one after it is read by the feed (both: told twice, which a
 * subscriber takes as it takes any repeat). Reconnects keep the cursor, so only the first
 * connect matters.
 */
bool peers_feed_started(const struct peers_feed *f)
{
	return !f || pgstore_conn_started(f->conn);
}

/* The row as it is now: 0 (in *m), -ENOENT when gone, -EBADMSG for a key that is not one. */
static int read_row(struct store *store, const struct heard *h, struct ipr_mapping *m)
{
	uint8_t encoded[16];
	struct ipr_ref ref;
	int family = strchr(h->key, ':') ? AF_INET6 : AF_INET;

	if (h->local)
		return ipr_ref_parse(h->key, strlen(h->key), &ref, NULL) < 0
			       ? -EBADMSG
			       : store_find_ref(store, &ref, m);
	if (inet_pton(family, h->key, encoded) != 1)
		return -EBADMSG;
	return store_find_encoded(store, family, encoded, m);
}

/* A row gone: the mapping it was, from what the change log kept of it. */
static int gone_row(const struct heard *h, struct ipr_mapping *m)
{
	const struct store_row row = {
		.kind = h->kind,
		.address = h->address,
		.family = h->family,
		.context = h->context,
		.ref = h->ref,
		.source = "",
	};

	if (h->kind < IPR_MAP_PUBLISHED || h->kind > IPR_MAP_STATIC_EXTERNAL)
		return -EBADMSG;
	return store_row_to_mapping(&row, m);
}

size_t peers_feed_apply(struct peers_feed *f)
{
	struct service *svc;
	size_t done = 0;

	if (!f)
		return 0;
	svc = f->svc;
	if (f->overflowed || f->lost) {
		/*
		 * What was missed is unknown: the subscribers are closed and start over from a
		 * snapshot, read after this, so after every change the log lost or the queue
		 * dropped (all committed before the read that told of them).
		 */
		svc->counters.peers_feed_dropped += f->overflowed;
		svc->counters.peers_feed_resyncs += f->lost;
		svc->pending_overflow = true;
		f->overflowed = 0;
		f->lost = false;
		f->len = 0;
		return 0;
	}
	/* no more than the pending changes hold: the rest after these are published */
	for (; done < f->len && svc->pending_count < svc->pending_cap; done++) {
		const struct heard *h = &f->queue[done];
		struct ipr_mapping m;
		int rc = read_row(svc->store, h, &m);

		if (rc == 0) {
			service_record(svc, IPR_CTL_EV_ADDED, &m);
			svc->counters.peers_feed_added++;
		} else if (rc == -ENOENT && h->kind) {
			rc = gone_row(h, &m);
			if (rc == 0) {
				service_record(svc, IPR_CTL_EV_REMOVED, &m);
				svc->counters.peers_feed_removed++;
			}
		} else if (rc != -ENOENT && rc != -EBADMSG) {
			/* the store away: the rest stays queued, read again after the next process
			 */
			f->stalled = true;
			break;
		}
		if (rc == -EBADMSG)
			svc->counters.peers_feed_bad++;
	}
	memmove(f->queue, f->queue + done, (f->len - done) * sizeof(*f->queue));
	f->len -= done;
	return done;
}

void peers_feed_describe(const struct peers_feed *f, char *buf, size_t size)
{
	switch (pgstore_conn_state(f->conn)) {
	case PGSTORE_READY:
		snprintf(buf, size, "ready");
		break;
	case PGSTORE_CONNECTING:
		snprintf(buf, size, "connecting");
		break;
	default:
		snprintf(buf, size, "down (%s)", pgstore_conn_error(f->conn));
		break;
	}
}

#else /* built without PostgreSQL: store_open refuses store = postgresql already */

int peers_feed_open(struct service *svc, struct peers_feed **out, char *msg, size_t msg_size)
{
	(void)svc, (void)msg, (void)msg_size;
	*out = NULL;
	return 0;
}

void peers_feed_free(struct peers_feed *f)
{
	(void)f;
}

int peers_feed_fd(const struct peers_feed *f, bool *want_write)
{
	(void)f;
	*want_write = false;
	return -1;
}

int64_t peers_feed_timeout_ms(const struct peers_feed *f, int64_t now_ms)
{
	(void)f, (void)now_ms;
	return -1;
}

void peers_feed_process(struct peers_feed *f, int64_t now_ms)
{
	(void)f, (void)now_ms;
}

bool peers_feed_waiting(const struct peers_feed *f)
{
	(void)f;
	return false;
}

bool peers_feed_room_again(const struct peers_feed *f)
{
	(void)f;
	return false;
}

bool peers_feed_started(const struct peers_feed *f)
{
	(void)f;
	return true;
}

size_t peers_feed_apply(struct peers_feed *f)
{
	(void)f;
	return 0;
}

void peers_feed_describe(const struct peers_feed *f, char *buf, size_t size)
{
	(void)f;
	snprintf(buf, size, "none");
}

#endif
