/* A batch: requests answered in one transaction, one durable commit, replies after it. */
#include "server_impl.h"

#include <errno.h>
#include <string.h>

#include "log.h"

/* What every write is answered once the store's file is gone from under the daemon. */
#define STORE_REPLACED_REPLY "the store's file was deleted or replaced under gwctld: restart it"
/* Expired mappings removed per batch: a request waits behind one round at most. */
#define SWEEP_ROUND 256

/* Sends a reload's answer to the client that asked, if it is still there. */
static void reload_reply(void *ctx, const struct reload_waiter *w, const uint8_t *msg, size_t len)
{
	struct server *srv = ctx;
	struct client *c = &srv->clients[w->client];

	if (c->fd >= 0 && c->serial == w->serial)
		server_send(srv, c, msg, len);
}

/* Decodes and answers one request of the batch; returns -EIO when the batch is doomed. */
static int process_entry(struct server *srv, struct batch_entry *e)
{
	struct client *c = &srv->clients[e->client];
	struct ipr_ctl_header hdr = { 0 };
	const uint8_t *attrs;
	size_t attrs_len;
	int rc = ipr_ctl_decode(e->msg, e->len, &hdr, &attrs, &attrs_len);

	e->reply_len = 0;
	if (c->serial != e->serial || c->fd < 0)
		return 0; /* the client left */
	if (rc == -EPROTONOSUPPORT) {
		e->reply_len =
			service_error_reply(e->reply, sizeof(e->reply), hdr.kind, hdr.id,
					    IPR_CTL_E_VERSION, "this daemon speaks version 1");
		c->closing = true;
		return 0;
	}
	if (rc < 0 || e->oversized) {
		srv->svc->counters.malformed++;
		srv->svc->counters.errors[IPR_CTL_E_MALFORMED]++;
		e->reply_len = service_error_reply(e->reply, sizeof(e->reply), hdr.kind, hdr.id,
						   IPR_CTL_E_MALFORMED, "malformed message");
		return 0;
	}
	if (hdr.kind == IPR_CTL_RANGES)
		c->asked_ranges = true;
	if (hdr.kind == IPR_CTL_SUBSCRIBE) {
		e->reply_len = server_subscribe(srv, c, &hdr, e->reply, sizeof(e->reply));
		return 0;
	}
	if (hdr.kind == IPR_CTL_RELOAD) {
		const struct reload_waiter waiter = { .client = e->client,
						      .serial = e->serial,
						      .id = hdr.id };

		/* answered after the commit that applies it (reload.h), or now when refused */
		e->reply_len = reloader_request(srv->reloader, srv->svc, &waiter, e->reply,
						sizeof(e->reply));
		e->deferred = e->reply_len == 0;
		return 0;
	}
	rc = service_handle(srv->svc, &hdr, attrs, attrs_len, e->reply, sizeof(e->reply),
			    &e->ahead);
	if (rc < 0)
		return rc;
	e->reply_len = (size_t)rc;
	return 0;
}

/*
 * After a batch's replies went out: the reserve topped up when allocations took from it, in a
 * commit of its own that does not wait for the disk either (the flusher makes it usable). The
 * loop waits for a refill, so each adds about twice what the last batch took (the reserve keeps
 * up with any rate) and no more: a refill of 2 x 512 values held the batches behind it for
 * 6-13 ms, one of 2 x 64 for 0.6 ms (median; 1.3 ms at the 90th percentile). A flush is asked for
 * when the reserve is full again, or once REFILL_CHUNK_MAX values wait for one (a flush each small
 * step would be a sync each).
 */
void server_refill_reserve(struct server *srv)
{
	struct service *svc = srv->svc;
	uint64_t allocated = svc->counters.allocated_encoded + svc->counters.allocated_refs;
	uint64_t taken = allocated - svc->allocated_seen;
	size_t chunk = taken < REFILL_CHUNK_MIN / 2   ? REFILL_CHUNK_MIN
		       : taken > REFILL_CHUNK_MAX / 2 ? REFILL_CHUNK_MAX
						      : (size_t)taken * 2;
	int rc;

	/* counting a pool costs a scan of its index: every REFILL_EVERY allocations is enough */
	if (!srv->refill_due && taken < REFILL_EVERY)
		return;
	svc->allocated_seen = allocated;
	rc = service_refill(svc, chunk);
	srv->refill_due = rc >= (int)chunk;
	if (rc > 0)
		srv->refilled_unflushed += (uint32_t)rc;
	if (srv->refilled_unflushed >= (srv->refill_due ? REFILL_CHUNK_MAX : 1)) {
		store_flush(svc->store);
		srv->refilled_unflushed = 0;
	}
	if (rc < 0)
		log_warn("store: the reserve of values could not be refilled (%s); allocations "
			 "sync on the spot until it is",
			 strerror(-rc));
}

/*
 * The batch's GET_EAs sent ahead of the rest, together (service_ahead_run): each client's
 * requests keep their order, so only those before its first that cannot go ahead do. Requests
 * of different clients came at the same time, and any order between them is one they could
 * have come in. 0, or -EIO when the store failed.
 */
static int bind_ahead(struct server *srv)
{
	size_t n = 0;

	if (!service_ahead_wanted(srv->svc))
		return 0;
	for (size_t i = 0; i < srv->batch_len; i++) {
		struct batch_entry *e = &srv->batch[i];
		struct client *c = &srv->clients[e->client];

		if (c->serial != e->serial || c->fd < 0)
			continue; /* the client left */
		if (!c->held_back && !e->oversized &&
		    service_ahead_prepare(srv->svc, e->msg, e->len, &e->ahead))
			srv->ahead[n++] = &e->ahead;
		else
			c->held_back = true;
	}
	return n ? service_ahead_run(srv->svc, srv->ahead, n) : 0;
}

/*
 * Everything of the batch inside one transaction: its requests, the daemon's reload begun, a
 * reload's slice, a sweep round. Returns true when it committed.
 */
static bool run_transaction(struct server *srv)
{
	struct service *svc = srv->svc;
	bool doomed = false;
	int rc;

	for (size_t i = 0; i < srv->batch_len; i++) {
		srv->batch[i].ahead.sent = false;
		srv->clients[srv->batch[i].client].held_back = false;
	}
	rc = store_begin(svc->store);
	if (rc < 0 || bind_ahead(srv) < 0)
		doomed = true;
	for (size_t i = 0; i < srv->batch_len && !doomed; i++)
		doomed = process_entry(srv, &srv->batch[i]) < 0;
	reloader_start_asked(srv->reloader, svc);
	if (!doomed)
		doomed = reloader_step(srv->reloader, svc) < 0;
	if (!doomed && srv->sweep_due) {
		rc = service_sweep(svc, SWEEP_ROUND);
		if (rc < 0)
			doomed = true;
		else if (rc < SWEEP_ROUND)
			srv->sweep_due = false; /* a full round means more may be waiting */
	}
	if (!doomed && store_in_transaction(svc->store)) {
		rc = store_commit(svc->store);
		doomed = rc < 0;
	} else {
		doomed = true;
		store_rollback(svc->store);
	}
	return !doomed;
}

/*
 * What changes nothing in the store need not fail with its batch: answered again outside the
 * transaction. STATUS says what it can and that the store is unavailable, STATS gives every
 * counter but the store's counts; a component's counters (REPORT_COUNTERS) and the ranges
 * (RANGES) live in memory. The shared store away must not make every gateway's health check
 * fail at once (gwctl health, keepalived): it fails when the dataplane's last report is too
 * old, and a dataplane's reports refused with their batches for 6 s took the addresses from
 * every gateway of the site.
 */
static bool answers_without_store(enum ipr_ctl_kind kind)
{
	return kind == IPR_CTL_STATUS || kind == IPR_CTL_STATS || kind == IPR_CTL_REPORT_COUNTERS ||
	       kind == IPR_CTL_RANGES;
}

static bool answer_anyway(struct server *srv, struct batch_entry *e, enum ipr_ctl_kind kind)
{
	struct client *c = &srv->clients[e->client];
	int rc;

	if (c->serial != e->serial || c->fd < 0)
		return false;
	/* counted once: the run inside the failed transaction (if it got that far) is undone */
	if (e->reply_len > 0)
		srv->svc->counters.requests[kind]--;
	rc = process_entry(srv, e);
	return rc == 0 && e->reply_len > 0;
}

/* Nothing of this batch reached the disk: every answer becomes a store error, but those. */
static void doom_batch(struct server *srv)
{
	struct service *svc = srv->svc;
	const char *why =
		store_replaced(svc->store) ? STORE_REPLACED_REPLY : "the store could not commit";

	svc->counters.store_failures++;
	if (store_replaced(svc->store))
		svc->counters.store_replaced++;
	service_drop_pending(svc);
	srv->sweep_due = false; /* not at once again: at the next tick, the disk may be full */
	for (size_t i = 0; i < srv->batch_len; i++) {
		struct batch_entry *e = &srv->batch[i];
		struct ipr_ctl_header hdr = { 0 };
		const uint8_t *attrs;
		size_t attrs_len;
		if (e->deferred)
			continue; /* the reloader answers it */
		/* hdr is filled whenever the header was complete, whatever else is wrong */
		if (ipr_ctl_decode(e->msg, e->len, &hdr, &attrs, &attrs_len) < 0)
			attrs_len = 0;
		else if (answers_without_store(hdr.kind) && !e->oversized &&
			 answer_anyway(srv, e, hdr.kind))
			continue;
		svc->counters.errors[IPR_CTL_E_STORE]++;
		e->reply_len = service_error_reply(e->reply, sizeof(e->reply), hdr.kind, hdr.id,
						   IPR_CTL_E_STORE, why);
	}
	if (!store_replaced(svc->store))
		log_warn("store: a batch of %zu requests could not be committed", srv->batch_len);
	else if (ipr_bucket_take(&srv->replaced_log, 1, 1, ipr_clock_ms()))
		log_error("store: %s was deleted or replaced while gwctld runs: a batch of "
			  "%zu requests is refused, as every write will be until a restart",
			  svc->cfg.database, srv->batch_len);
}

/* Replies go out only now, after the commit: an acknowledged allocation is durable. */
static void send_replies(struct server *srv)
{
	for (size_t i = 0; i < srv->batch_len; i++) {
		struct batch_entry *e = &srv->batch[i];
		struct client *c = &srv->clients[e->client];
		if (e->reply_len && c->fd >= 0 && c->serial == e->serial)
			server_send(srv, c, e->reply, e->reply_len);
	}
}

void server_process_batch(struct server *srv)
{
	struct service *svc = srv->svc;
	uint64_t changes_before = store_changes(svc->store);
	bool committed = run_transaction(srv);

	if (!committed)
		doom_batch(srv);
	if (committed && store_changes(svc->store) != changes_before) {
		svc->counters.commits++;
		svc->counters.committed_requests += srv->batch_len;
	}
	reloader_after_batch(srv->reloader, svc, committed, reload_reply, srv);
	send_replies(srv);
	if (committed)
		server_publish_pending(srv);
	if (svc->layout_changed)
		server_tell_layout(srv);
	srv->batch_len = 0;
	server_refill_reserve(srv);
}
