/* One function per request kind: validate, read or change the store, build the reply. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "service.h"
#include "validity.h"

#define VERSION_TEXT "gwctld " IPR_VERSION

/* What a handler is given and fills; status != OK turns the reply into an error. */
struct request {
	struct service *svc;
	const struct ipr_ctl_header *hdr;
	const uint8_t *attrs;
	size_t attrs_len;
	const struct ipr_ctl_fields *f;
	struct ipr_ctl_builder *reply;
	int64_t now;
	uint8_t status;
	const char *message;
	bool doomed;	/* the store failed: the whole batch must be rolled back */
	bool keep_body; /* an error reply that keeps the attributes built so far */
};

static int fail(struct request *r, uint8_t status, const char *message)
{
	r->status = status;
	r->message = message;
	return 0;
}

/* A reason naming an address, kept until the reply is built (the daemon is single-threaded). */
static char reason[VALIDITY_REASON_MAX];

/* A store error: clean "not found" stays a status, anything else dooms the batch. */
static int store_failed(struct request *r, int rc)
{
	r->doomed = true;
	log_warn("store: %s", strerror(-rc));
	return fail(r, IPR_CTL_E_STORE, strerror(-rc));
}

static int family_index(int family)
{
	return family == AF_INET ? 0 : 1;
}

static uint32_t ttl_of(const struct ipr_mapping *m, int64_t now)
{
	if (!m->expires)
		return UINT32_MAX;
	if (m->expires <= now)
		return 0;
	return m->expires - now > UINT32_MAX ? UINT32_MAX : (uint32_t)(m->expires - now);
}

static void put_mapping_reply(struct request *r, const struct ipr_mapping *m)
{
	ipr_mapping_put(r->reply, m);
	ipr_ctl_put_u32(r->reply, IPR_CTL_A_TTL, ttl_of(m, r->now));
}

/*
 * A dynamic mapping in use gets a fresh lease. Writing only when a quarter of the lease has
 * passed keeps lookups from turning into a write each.
 */
static int extend_lease(struct request *r, struct ipr_mapping *m)
{
	struct service *svc = r->svc;
	int64_t fresh = r->now + svc->cfg.lease_secs;
	int rc;

	if (!m->expires || fresh - m->expires < (int64_t)svc->cfg.lease_secs / 4)
		return 0;
	rc = store_set_expiry(svc->store, m, fresh);
	if (rc < 0)
		return rc;
	m->expires = fresh;
	svc->counters.leases_extended++;
	return 0;
}

/* Replies to a lookup: the mapping, or not found, or a store failure. */
static int reply_found(struct request *r, int rc, const struct ipr_mapping *m)
{
	if (rc == -ENOENT)
		return fail(r, IPR_CTL_E_NOT_FOUND, NULL);
	if (rc < 0)
		return store_failed(r, rc);
	put_mapping_reply(r, m);
	return 0;
}

/*
 * A dynamic mapping asked for again: its lease is renewed and it is the answer; one on
 * probation only by another probation lease, so its answers stay short until it is used.
 */
static int reply_existing(struct request *r, struct ipr_mapping *m)
{
	struct quota_limits lim;
	int rc = quota_on_probation(&r->svc->quota, r->svc->store, m);

	service_quota_limits(r->svc, &lim);
	if (rc == 1)
		rc = quota_renew(&r->svc->quota, r->svc->store, m, &lim, r->now);
	else if (rc == 0)
		rc = extend_lease(r, m);
	return reply_found(r, rc, m);
}

static const char *source_of(const struct ipr_ctl_fields *f, const char *fallback)
{
	return ipr_ctl_has(f, IPR_CTL_A_SOURCE) ? f->source : fallback;
}

/* The fields every new dynamic mapping takes from the request and the lease settings. */
static void new_dynamic(struct request *r, struct ipr_mapping *m, enum ipr_mapping_kind kind)
{
	m->kind = kind;
	memcpy(m->name, r->f->name, sizeof(m->name));
	m->expires = r->now + r->svc->cfg.lease_secs;
	snprintf(m->source, sizeof(m->source), "%.*s", IPR_MAPPING_SOURCE_MAX,
		 source_of(r->f, "request"));
}

/*
 * Stores a mapping whose value the allocator just chose (rc is the allocator's result). An
 * exhausted range is remembered in *full until the next sweep or unmap.
 */
static int insert_allocated(struct request *r, int rc, struct ipr_mapping *m, bool *full,
			    uint64_t *allocated, const char *exhausted)
{
	struct service *svc = r->svc;

	if (rc == -ENOSPC) {
		*full = true;
		svc->counters.exhausted++;
		return fail(r, IPR_CTL_E_EXHAUSTED, exhausted);
	}
	if (rc == 0)
		rc = store_insert(svc->store, m);
	if (rc < 0)
		return store_failed(r, rc);
	(*allocated)++;
	service_record(svc, IPR_CTL_EV_ADDED, m);
	put_mapping_reply(r, m);
	return 0;
}

static bool context_from_fields(const struct ipr_ctl_fields *f, struct ipr_context *context)
{
	memset(context, 0, sizeof(*context));
	if (!ipr_ctl_has(f, IPR_CTL_A_CONTEXT))
		return false;
	context->kind = f->context_family == AF_INET ? IPR_CONTEXT_IPV4 : IPR_CONTEXT_IPV6;
	memcpy(context->ipv6, f->context, 16);
	return true;
}

/* The family asked for, or the first one this gateway has a range of. */
static int wanted_family(const struct request *r)
{
	if (ipr_ctl_has(r->f, IPR_CTL_A_FAMILY))
		return r->f->family == 4 ? AF_INET : AF_INET6;
	return r->svc->has_range[0] ? AF_INET : AF_INET6;
}

/*
 * The dataplane asks for an encoded address when traffic arrives from an unknown remote
 * source (its requests carry SOURCE "dataplane"): bound how fast and how many. Live ones and
 * reclaimed ones still resting count against inbound-per-peer and inbound-total together. When
 * a limit is reached the oldest such mapping that never carried a reply, of the same peer
 * gateway first, is put to rest for inbound-quarantine (while less than half the pool rests)
 * and the request refused: room comes back as rests end, so a flood at the allowed rate leaves
 * room for new sources again and again, and what it holds stays bounded. Returns 0 to go on, or a
 * refusal already put in the reply.
 */
static int inbound_room(struct request *r, const struct ipr_context *peer, bool *refused)
{
	struct service *svc = r->svc;
	const struct ipr_context *scopes[2] = { peer, NULL };
	const uint32_t limits[2] = { svc->cfg.inbound_per_peer, svc->cfg.inbound_total };
	char pools[2][QUOTA_POOL_MAX];
	struct ipr_mapping idle;
	uint64_t count, resting;
	int rc;

	*refused = false;
	if (!inbound_take(&svc->inbound, peer, svc->cfg.inbound_rate, svc->cfg.inbound_rate_total,
			  ipr_clock_ms())) {
		svc->counters.inbound_rate_limited++;
		*refused = true;
		return fail(r, IPR_CTL_E_BUSY, "new inbound sources arrive too fast");
	}
	rc = quota_purge(&svc->quota, svc->store, r->now);
	if (rc < 0)
		return rc;
	quota_inbound_pool(peer, pools[0]);
	for (int i = 0; i < 2; i++) {
		rc = store_inbound_count(svc->store, scopes[i], &count);
		if (rc == 0)
			rc = quota_inbound_resting(&svc->quota, svc->store,
						   i == 0 ? pools[0] : NULL, &resting);
		if (rc < 0)
			return rc;
		if (count + resting < limits[i])
			continue;
		*refused = true;
		svc->counters.inbound_over_quota++;
		/* half the pool resting is enough to bring room back soon: take no more */
		if (resting >= limits[i] / 2 && resting > 0)
			return fail(r, IPR_CTL_E_BUSY, "inbound sources are resting: try again");
		rc = store_inbound_idle(svc->store, scopes[i], &idle);
		if (rc == -ENOENT)
			return fail(r, IPR_CTL_E_BUSY,
				    i == 0 ? "this gateway's inbound sources are all in use"
					   : "inbound sources are all in use");
		quota_inbound_pool(&idle.context, pools[1]);
		if (rc == 0)
			rc = store_delete(svc->store, &idle,
					  r->now + svc->cfg.inbound_quarantine_secs);
		if (rc == 0)
			rc = quota_inbound_rest(&svc->quota, svc->store, pools[1], &idle,
						r->now + svc->cfg.inbound_quarantine_secs);
		if (rc < 0)
			return rc;
		service_record(svc, IPR_CTL_EV_REMOVED, &idle);
		svc->counters.inbound_reclaimed++;
		return fail(r, IPR_CTL_E_BUSY, "inbound sources are being reclaimed: try again");
	}
	return 0;
}

/*
 * A new mapping for a LAN client's question: the client's pool and the clients' share of the
 * range must have room (gwctl/quota.h). Returns 0 to go on, or a refusal put in the reply.
 */
static int client_room(struct request *r, const char *pool, bool *refused)
{
	struct service *svc = r->svc;
	struct ipr_mapping removed[8];
	struct quota_limits lim;
	enum quota_verdict verdict;
	unsigned n;
	int rc;

	service_quota_limits(svc, &lim);
	*refused = false;
	rc = quota_client_admit(&svc->quota, svc->store, pool, &lim, r->now, removed, 8, &n,
				&verdict);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < n; i++)
		service_record(svc, IPR_CTL_EV_REMOVED, &removed[i]);
	svc->quota_counters.reclaimed += n;
	if (n)
		svc->range_full[0] = svc->range_full[1] = false;
	if (verdict == QUOTA_ALLOW)
		return 0;
	*refused = true;
	if (verdict == QUOTA_CLIENT_FULL) {
		svc->quota_counters.client_refused++;
		return fail(r, IPR_CTL_E_QUOTA, "this client holds its share of new names");
	}
	svc->quota_counters.total_refused++;
	return fail(r, IPR_CTL_E_QUOTA, "new names of all clients hold their share of the range");
}

static int handle_get_ea(struct request *r)
{
	struct service *svc = r->svc;
	struct ipr_mapping m;
	struct ipr_site site;
	int family = wanted_family(r), rc;
	const char *problem;

	memset(&m, 0, sizeof(m));
	if (!context_from_fields(r->f, &m.context) || !ipr_ctl_has(r->f, IPR_CTL_A_REF))
		return fail(r, IPR_CTL_E_INVALID, "GET_EA needs CONTEXT and REF");
	if (ipr_ref_is_null(&r->f->ref))
		return fail(r, IPR_CTL_E_INVALID, "reference 0 is the null reference");
	/* whoever asks: the resolver, the dataplane for an inbound source, a person */
	validity_site(&svc->cfg, &site);
	problem = validity_remote_context(&site, &m.context, reason);
	if (problem)
		return fail(r, IPR_CTL_E_UNUSABLE, problem);
	if (!svc->has_range[family_index(family)])
		return fail(r, IPR_CTL_E_NO_RANGE, "no encoded range of that family");

	rc = store_find_remote(svc->store, family, &m.context, &r->f->ref, &m);
	if (rc != -ENOENT)
		return rc == 0 ? reply_existing(r, &m) : store_failed(r, rc);
	char pool[QUOTA_POOL_MAX] = "";
	bool refused = false;
	rc = 0;
	if (strcmp(source_of(r->f, ""), "dataplane") == 0) {
		rc = inbound_room(r, &m.context, &refused);
	} else if (ipr_ctl_has(r->f, IPR_CTL_A_CLIENT)) {
		quota_client_pool(r->f->client_family, r->f->client, pool);
		rc = client_room(r, pool, &refused);
	}
	if (rc < 0)
		return store_failed(r, rc);
	if (refused)
		return 0;

	new_dynamic(r, &m, IPR_MAP_DYNAMIC_REMOTE);
	m.family = family;
	m.ref = r->f->ref;
	if (pool[0]) /* on probation: its answers live no longer than it may unused */
		m.expires = r->now + svc->cfg.probation_secs;
	bool *full = &svc->range_full[family_index(family)];
	rc = *full ? -ENOSPC
		   : alloc_encoded(svc->store, &svc->range[family_index(family)], r->now,
				   m.address);
	rc = insert_allocated(r, rc, &m, full, &svc->counters.allocated_encoded,
			      "the encoded range is exhausted");
	if (rc == 0 && r->status == IPR_CTL_OK && pool[0]) {
		struct quota_limits lim;

		service_quota_limits(svc, &lim);
		rc = quota_client_hold(&svc->quota, svc->store, pool, &m, &lim);
		if (rc < 0)
			return store_failed(r, rc);
		svc->quota_counters.probation++;
	}
	return rc;
}

/* The context our dynamic references are published under: our first address, or 0.0.0.0. */
static void own_context(const struct service *svc, struct ipr_context *context)
{
	memset(context, 0, sizeof(*context));
	context->kind = IPR_CONTEXT_IPV4;
	if (svc->cfg.gateway_count) {
		const struct config_ip *gw = &svc->cfg.gateways[0];
		context->kind = gw->family == AF_INET ? IPR_CONTEXT_IPV4 : IPR_CONTEXT_IPV6;
		memcpy(context->ipv6, gw->addr, 16);
	}
}

static int handle_get_ref(struct request *r)
{
	struct service *svc = r->svc;
	struct ipr_mapping m;
	struct ipr_site site;
	const char *problem;
	int rc;

	if (!ipr_ctl_has(r->f, IPR_CTL_A_LOCAL))
		return fail(r, IPR_CTL_E_INVALID, "GET_REF needs LOCAL");
	validity_site(&svc->cfg, &site);
	problem = validity_local_host(&site, r->f->local_family, r->f->local, reason);
	if (problem)
		return fail(r, IPR_CTL_E_UNUSABLE, problem);
	rc = store_find_local(svc->store, r->f->local_family, r->f->local, &m);
	if (rc != -ENOENT)
		return rc == 0 ? reply_existing(r, &m) : store_failed(r, rc);

	memset(&m, 0, sizeof(m));
	new_dynamic(r, &m, IPR_MAP_DYNAMIC_LOCAL);
	m.family = r->f->local_family;
	memcpy(m.address, r->f->local, 16);
	own_context(svc, &m.context);
	rc = svc->refs_full ? -ENOSPC
			    : alloc_ref(svc->store, &svc->cfg.dynamic_ref_min,
					&svc->cfg.dynamic_ref_max, r->now, &m.ref);
	return insert_allocated(r, rc, &m, &svc->refs_full, &svc->counters.allocated_refs,
				"the dynamic reference range is exhausted");
}

/*
 * RANGES: what a resolver needs to know once per connection, without touching the store:
 * the encoded ranges, for PTR questions and for answering NODATA without asking,
 * and this gateway's own addresses, whose families are the Internet families it reaches.
 */
static int handle_ranges(struct request *r)
{
	const struct service *svc = r->svc;

	for (int i = 0; i < 2; i++)
		if (svc->has_range[i])
			ipr_ctl_put_range(r->reply, IPR_CTL_A_RANGE, svc->range[i].family,
					  svc->range[i].addr, svc->range[i].len);
	for (size_t i = 0; i < svc->cfg.gateway_count; i++)
		ipr_ctl_put_ip(r->reply, IPR_CTL_A_GATEWAY, svc->cfg.gateways[i].family,
			       svc->cfg.gateways[i].addr);
	return 0;
}

/* LOOKUP_EA: by ENCODED, or by CONTEXT + REF (+ FAMILY) without allocating. */
static int handle_lookup_ea(struct request *r)
{
	struct ipr_mapping m;
	struct ipr_context context;
	int rc;

	if (ipr_ctl_has(r->f, IPR_CTL_A_ENCODED)) {
		rc = store_find_encoded(r->svc->store, r->f->encoded_family, r->f->encoded, &m);
	} else if (context_from_fields(r->f, &context) && ipr_ctl_has(r->f, IPR_CTL_A_REF)) {
		(void)ipr_context_unmap(&context); /* as GET_EA stored it */
		rc = store_find_remote(r->svc->store, wanted_family(r), &context, &r->f->ref, &m);
	} else {
		return fail(r, IPR_CTL_E_INVALID, "LOOKUP_EA needs ENCODED, or CONTEXT and REF");
	}
	return reply_found(r, rc, &m);
}

/* LOOKUP_REF: by REF (one of ours), or by LOCAL address, without allocating. */
static int handle_lookup_ref(struct request *r)
{
	struct ipr_mapping m;
	int rc;

	if (ipr_ctl_has(r->f, IPR_CTL_A_REF))
		rc = store_find_ref(r->svc->store, &r->f->ref, &m);
	else if (ipr_ctl_has(r->f, IPR_CTL_A_LOCAL))
		rc = store_find_local(r->svc->store, r->f->local_family, r->f->local, &m);
	else
		return fail(r, IPR_CTL_E_INVALID, "LOOKUP_REF needs REF or LOCAL");
	return reply_found(r, rc, &m);
}

/*
 * One mapping that carried traffic: a local host sending to it (replied) ends its probation and
 * gives it the full lease; traffic that only came in renews a probation lease no further than
 * probation, so a remote host cannot lift its own mapping out of a client's quota.
 */
static int report_one(struct request *r, struct ipr_mapping *m, bool replied)
{
	struct service *svc = r->svc;
	struct quota_limits lim;
	int rc = quota_on_probation(&svc->quota, svc->store, m);

	if (rc == 1 && !replied) {
		service_quota_limits(svc, &lim);
		return quota_renew(&svc->quota, svc->store, m, &lim, r->now);
	}
	if (rc == 1)
		rc = quota_confirm(&svc->quota, svc->store, m);
	if (rc == 1)
		svc->quota_counters.confirmed++;
	return rc < 0 ? rc : extend_lease(r, m);
}

/*
 * REPORT_USE: MAPPING nests, each with ENCODED (remote) or REF (ours), REPLIED when a local
 * host sent to it; unknown ones skipped.
 */
static int handle_report_use(struct request *r)
{
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr attr;
	uint64_t extended = 0;
	int rc;

	ipr_ctl_iter_init(&it, r->attrs, r->attrs_len);
	while (ipr_ctl_iter_next(&it, &attr) > 0) {
		struct ipr_ctl_fields f;
		struct ipr_mapping m;

		if (attr.type != IPR_CTL_A_MAPPING)
			continue;
		if (ipr_ctl_fields_parse(attr.value, attr.len, &f, NULL) < 0)
			return fail(r, IPR_CTL_E_MALFORMED, "bad MAPPING in REPORT_USE");
		if (ipr_ctl_has(&f, IPR_CTL_A_ENCODED))
			rc = store_find_encoded(r->svc->store, f.encoded_family, f.encoded, &m);
		else if (ipr_ctl_has(&f, IPR_CTL_A_REF))
			rc = store_find_ref(r->svc->store, &f.ref, &m);
		else
			continue;
		if (rc == -ENOENT || rc == -EBADMSG)
			continue;
		if (rc == 0)
			rc = report_one(r, &m, ipr_ctl_has(&f, IPR_CTL_A_REPLIED));
		/* reclaim spares what ever carried a reply, not what only strangers sent to */
		if (rc == 0 && ipr_ctl_has(&f, IPR_CTL_A_REPLIED))
			rc = store_mark_used(r->svc->store, &m, r->now);
		if (rc < 0)
			return store_failed(r, rc);
		extended++;
	}
	ipr_ctl_put_u64(r->reply, IPR_CTL_A_VALUE, extended);
	return 0;
}

/* LIST: one page of MAPPING nests per request; CURSOR and the MORE flag say where to go on. */
static int handle_list(struct request *r)
{
	struct ipr_mapping page[64];
	uint64_t cursor = ipr_ctl_has(r->f, IPR_CTL_A_CURSOR) ? r->f->cursor : 0;
	int n = store_list(r->svc->store, &cursor, page, sizeof(page) / sizeof(page[0]));

	if (n < 0)
		return store_failed(r, n);
	for (int i = 0; i < n; i++) {
		size_t mark = ipr_ctl_nest_begin(r->reply, IPR_CTL_A_MAPPING);
		put_mapping_reply(r, &page[i]);
		ipr_ctl_nest_end(r->reply, mark);
	}
	if (n == (int)(sizeof(page) / sizeof(page[0]))) {
		ipr_ctl_set_flags(r->reply, IPR_CTL_F_MORE);
		ipr_ctl_put_u64(r->reply, IPR_CTL_A_CURSOR, cursor);
	}
	return 0;
}

static const char *const kind_names[IPR_CTL_KIND_MAX + 1] = {
	[IPR_CTL_GET_EA] = "get_ea",
	[IPR_CTL_GET_REF] = "get_ref",
	[IPR_CTL_LOOKUP_EA] = "lookup_ea",
	[IPR_CTL_LOOKUP_REF] = "lookup_ref",
	[IPR_CTL_SUBSCRIBE] = "subscribe",
	[IPR_CTL_REPORT_USE] = "report_use",
	[IPR_CTL_LIST] = "list",
	[IPR_CTL_STATS] = "stats",
	[IPR_CTL_STATUS] = "status",
	[IPR_CTL_RELOAD] = "reload",
	[IPR_CTL_MAP] = "map",
	[IPR_CTL_UNMAP] = "unmap",
	[IPR_CTL_RANGES] = "ranges",
	[IPR_CTL_REPORT_COUNTERS] = "report_counters",
};

static const char *const status_names[IPR_CTL_STATUS_MAX + 1] = {
	[IPR_CTL_E_MALFORMED] = "malformed", [IPR_CTL_E_VERSION] = "version",
	[IPR_CTL_E_KIND] = "kind",	     [IPR_CTL_E_INVALID] = "invalid",
	[IPR_CTL_E_NOT_FOUND] = "not_found", [IPR_CTL_E_EXHAUSTED] = "exhausted",
	[IPR_CTL_E_NO_RANGE] = "no_range",   [IPR_CTL_E_STORE] = "store",
	[IPR_CTL_E_CONFLICT] = "conflict",   [IPR_CTL_E_DENIED] = "denied",
	[IPR_CTL_E_BUSY] = "busy",	     [IPR_CTL_E_SOURCES] = "sources",
	[IPR_CTL_E_UNUSABLE] = "unusable",   [IPR_CTL_E_QUOTA] = "quota",
};

static int handle_stats(struct request *r)
{
	const struct service_counters *c = &r->svc->counters;
	const struct quota_counters *q = &r->svc->quota_counters;
	struct store_counts counts;
	struct store_durability durability;
	char name[64];
	int rc = store_count(r->svc->store, &counts);

	if (rc < 0)
		return store_failed(r, rc);
	for (int k = 1; k <= IPR_CTL_KIND_MAX; k++) {
		snprintf(name, sizeof(name), "gwctld.requests.%s", kind_names[k]);
		ipr_ctl_put_counter(r->reply, name, c->requests[k]);
	}
	for (int s = 1; s <= IPR_CTL_STATUS_MAX; s++) {
		snprintf(name, sizeof(name), "gwctld.errors.%s", status_names[s]);
		ipr_ctl_put_counter(r->reply, name, c->errors[s]);
	}
	ipr_ctl_put_counter(r->reply, "gwctld.messages.malformed", c->malformed);
	ipr_ctl_put_counter(r->reply, "gwctld.peers.denied", c->denied_peers);
	ipr_ctl_put_counter(r->reply, "gwctld.clients.refused_full", c->refused_full);
	ipr_ctl_put_counter(r->reply, "gwctld.clients.refused_share", c->refused_share);
	ipr_ctl_put_counter(r->reply, "gwctld.clients.closed_idle", c->closed_idle);
	ipr_ctl_put_counter(r->reply, "gwctld.allocated.encoded", c->allocated_encoded);
	ipr_ctl_put_counter(r->reply, "gwctld.allocated.refs", c->allocated_refs);
	ipr_ctl_put_counter(r->reply, "gwctld.allocations.exhausted", c->exhausted);
	ipr_ctl_put_counter(r->reply, "gwctld.inbound.rate_limited", c->inbound_rate_limited);
	ipr_ctl_put_counter(r->reply, "gwctld.inbound.over_quota", c->inbound_over_quota);
	ipr_ctl_put_counter(r->reply, "gwctld.inbound.reclaimed", c->inbound_reclaimed);
	ipr_ctl_put_counter(r->reply, "gwctld.inbound.resting", counts.held_inbound);
	ipr_ctl_put_counter(r->reply, "gwctld.resolution.probation", q->probation);
	ipr_ctl_put_counter(r->reply, "gwctld.resolution.confirmed", q->confirmed);
	ipr_ctl_put_counter(r->reply, "gwctld.resolution.reclaimed", q->reclaimed);
	ipr_ctl_put_counter(r->reply, "gwctld.resolution.over_quota", q->client_refused);
	ipr_ctl_put_counter(r->reply, "gwctld.resolution.over_share", q->total_refused);
	ipr_ctl_put_counter(r->reply, "gwctld.resolution.held", counts.held_client);
	ipr_ctl_put_counter(r->reply, "gwctld.leases.expired", c->expired);
	ipr_ctl_put_counter(r->reply, "gwctld.leases.extended", c->leases_extended);
	ipr_ctl_put_counter(r->reply, "gwctld.store.commits", c->commits);
	ipr_ctl_put_counter(r->reply, "gwctld.store.committed_requests", c->committed_requests);
	ipr_ctl_put_counter(r->reply, "gwctld.store.failures", c->store_failures);
	ipr_ctl_put_counter(r->reply, "gwctld.store.replaced", c->store_replaced);
	ipr_ctl_put_counter(r->reply, "gwctld.store.bad_rows", counts.bad_rows);
	store_durability(r->svc->store, &durability);
	ipr_ctl_put_counter(r->reply, "gwctld.store.flushes", durability.flushes);
	ipr_ctl_put_counter(r->reply, "gwctld.store.flush_failures", durability.flush_failures);
	ipr_ctl_put_counter(r->reply, "gwctld.store.sync_commits", durability.sync_commits);
	ipr_ctl_put_counter(r->reply, "gwctld.store.reserved", c->reserved);
	ipr_ctl_put_counter(r->reply, "gwctld.store.refill_failures", c->refill_failures);
	ipr_ctl_put_counter(r->reply, "gwctld.store.unclean_start", r->svc->start.unclean);
	ipr_ctl_put_counter(r->reply, "gwctld.store.unclean_start_quarantined",
			    r->svc->start.reserved_quarantined);
	ipr_ctl_put_counter(r->reply, "gwctld.store.unclean_start_leases_extended",
			    r->svc->start.leases_extended);
	ipr_ctl_put_counter(r->reply, "gwctld.events.sent", c->events_sent);
	ipr_ctl_put_counter(r->reply, "gwctld.subscribers.dropped", c->subscribers_dropped);
	ipr_ctl_put_counter(r->reply, "gwctld.layout.changes", c->layout_changes);
	ipr_ctl_put_counter(r->reply, "gwctld.layout.closed", c->layout_closed);
	for (int k = IPR_MAP_PUBLISHED; k <= IPR_MAP_STATIC_EXTERNAL; k++) {
		snprintf(name, sizeof(name), "gwctld.mappings.%s", ipr_mapping_kind_name(k));
		for (char *p = name; *p; p++)
			*p = *p == ' ' ? '_' : *p;
		ipr_ctl_put_counter(r->reply, name, counts.by_kind[k]);
	}
	ipr_ctl_put_counter(r->reply, "gwctld.mappings.quarantined", counts.quarantined);
	reports_each(&r->svc->reports, ipr_ctl_put_counter, r->reply);
	return 0;
}

/* REPORT_COUNTERS: a component's latest counters replace its previous ones. */
static int handle_report_counters(struct request *r)
{
	const char *why;
	int n = reports_update(&r->svc->reports, r->attrs, r->attrs_len, &why);

	if (n == -EBUSY)
		return fail(r, IPR_CTL_E_BUSY, why);
	if (n < 0)
		return fail(r, IPR_CTL_E_INVALID, why);
	ipr_ctl_put_u64(r->reply, IPR_CTL_A_VALUE, (uint64_t)n);
	return 0;
}

static void put_line(struct ipr_ctl_builder *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void service_put_line(struct ipr_ctl_builder *b, const char *line)
{
	size_t mark = ipr_ctl_nest_begin(b, IPR_CTL_A_COUNTER);

	ipr_ctl_put_text(b, IPR_CTL_A_TEXT, line);
	ipr_ctl_nest_end(b, mark);
}

static void put_line(struct ipr_ctl_builder *b, const char *fmt, ...)
{
	char line[IPR_CTL_TEXT_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	service_put_line(b, line);
}

static void range_text(const struct service *svc, int i, int64_t now, char *buf, size_t size)
{
	char addr[64];
	uint64_t taken = 0;

	if (!svc->has_range[i]) {
		snprintf(buf, size, "none");
		return;
	}
	inet_ntop(svc->range[i].family, svc->range[i].addr, addr, sizeof(addr));
	if (store_encoded_taken(svc->store, svc->range[i].family, &taken) < 0)
		taken = 0;
	snprintf(buf, size, "%s/%u (%llu addresses, %llu in use or resting)", addr,
		 svc->range[i].len, (unsigned long long)alloc_range_size(&svc->range[i]),
		 (unsigned long long)taken);
}

/*
 * The TUN MTU the dataplane has in force and why, from its last counter report: its own
 * device is the dataplane's, but operators ask gwctl status (docs/dataplane.md, TUN MTU).
 */
static void tun_mtu_line(struct request *r)
{
	const struct reports *reports = &r->svc->reports;
	uint64_t mtu, outer6 = 0, by_key = 0, by_gateways = 0;
	const char *why;

	if (reports_find(reports, "dataplane", "tun.mtu", &mtu) < 0) {
		put_line(r->reply, "tun-mtu: unknown (no report from the dataplane yet)");
		return;
	}
	(void)!reports_find(reports, "dataplane", "tun.mtu_outer_ipv6", &outer6);
	(void)!reports_find(reports, "dataplane", "tun.mtu_by_internet_key", &by_key);
	(void)!reports_find(reports, "dataplane", "tun.mtu_by_gateway_addresses", &by_gateways);
	if (by_key)
		why = outer6 ? "outer IPv6 header: dataplane.conf's internet includes IPv6"
			     : "outer IPv4 header: dataplane.conf's internet is ipv4";
	else if (by_gateways)
		why = outer6 ? "outer IPv6 header: the gateway addresses include IPv6"
			     : "outer IPv4 header: the gateway addresses are all IPv4";
	else
		why = "outer IPv6 header: no gateway address is configured, so either family may "
		      "carry the tunnel";
	put_line(r->reply, "tun-mtu: %llu (%s)", (unsigned long long)mtu, why);
}

static int handle_status(struct request *r)
{
	const struct service *svc = r->svc;
	struct store_counts counts;
	char text[128], min[IPR_REF_TEXT_MAX], max[IPR_REF_TEXT_MAX];
	uint64_t total = 0, wal_bytes;
	int64_t wal_held_ms;
	int rc = store_count(svc->store, &counts);

	if (rc < 0)
		return store_failed(r, rc);
	for (int k = IPR_MAP_PUBLISHED; k <= IPR_MAP_STATIC_EXTERNAL; k++)
		total += counts.by_kind[k];
	put_line(r->reply, "version: %s", VERSION_TEXT);
	put_line(r->reply, "uptime: %lld s", (long long)(r->now - svc->started));
	put_line(r->reply, "database: %s", svc->cfg.database);
	put_line(r->reply, "socket: %s", svc->cfg.socket);
	range_text(svc, 0, r->now, text, sizeof(text));
	put_line(r->reply, "encoded-ipv4: %s", text);
	range_text(svc, 1, r->now, text, sizeof(text));
	put_line(r->reply, "encoded-ipv6: %s", text);
	ipr_ref_format(&svc->cfg.dynamic_ref_min, min);
	ipr_ref_format(&svc->cfg.dynamic_ref_max, max);
	put_line(r->reply, "dynamic-refs: %s-%s", min, max);
	put_line(r->reply, "lease: %u s, quarantine: %u s", svc->cfg.lease_secs,
		 svc->cfg.quarantine_secs);
	put_line(r->reply, "mappings: %llu (%llu quarantined values)", (unsigned long long)total,
		 (unsigned long long)counts.quarantined);
	put_line(r->reply, "generation: %llu", (unsigned long long)svc->generation);
	store_wal_status(svc->store, &wal_bytes, &wal_held_ms);
	put_line(r->reply, "store-wal: %llu KiB", (unsigned long long)(wal_bytes >> 10));
	tun_mtu_line(r);
	if (wal_held_ms)
		put_line(r->reply,
			 "warning: a reader holds back the store's checkpoints (for %lld s): the "
			 "write-ahead log grows until it ends its transaction (docs/store.md)",
			 (long long)(wal_held_ms / 1000));
	return 0;
}

/* Checks a hand-made mapping against the ranges it must respect. */
static const char *map_problem(const struct service *svc, const struct ipr_mapping *m)
{
	if (ipr_ref_is_null(&m->ref))
		return "reference 0 is the null reference";
	if (m->kind == IPR_MAP_STATIC_EXTERNAL) {
		int i = family_index(m->family);
		enum ipr_prefix_place place =
			svc->has_range[i] ? ipr_prefix_place(&svc->range[i], m->family, m->address)
					  : IPR_PREFIX_OUTSIDE;

		/* the same addresses the allocator and a hosts file may use, no others */
		if (place == IPR_PREFIX_OUTSIDE)
			return "the encoded address is outside the encoded range";
		if (place == IPR_PREFIX_NETWORK)
			return "the encoded address is the network address of the encoded range";
		if (place == IPR_PREFIX_GATEWAY)
			return "the encoded address is the gateway's own address in the encoded "
			       "range";
		if (place == IPR_PREFIX_BROADCAST)
			return "the encoded address is the broadcast address of the encoded range";
		if (m->context.kind == IPR_CONTEXT_NAME)
			return "a static mapping needs the context as an address";
		return NULL;
	}
	if (m->kind == IPR_MAP_PUBLISHED)
		return ipr_ref_use_text(ipr_ref_use_of(&m->ref, &svc->cfg.dynamic_ref_min,
						       &svc->cfg.dynamic_ref_max));
	return "only static external and published mappings are made by hand";
}

/*
 * The addresses of a hand-made mapping, by the rule GET_EA and GET_REF follow: a static
 * mapping's context must be able to be a remote gateway, a published host a local host under
 * one of our contexts. Contexts given as IPv4-mapped IPv6 become IPv4 in m.
 */
static const char *map_address_problem(const struct service *svc, struct ipr_mapping *m)
{
	struct ipr_site site;

	validity_site(&svc->cfg, &site);
	if (m->kind == IPR_MAP_STATIC_EXTERNAL)
		return validity_remote_context(&site, &m->context, reason);
	if (m->kind != IPR_MAP_PUBLISHED)
		return NULL; /* map_problem refuses the other kinds */
	if (validity_local_host(&site, m->family, m->address, reason))
		return reason;
	return validity_our_context(&site, &m->context, reason);
}

static int handle_map(struct request *r)
{
	struct service *svc = r->svc;
	struct ipr_mapping m;
	const char *problem;
	int rc;

	if (ipr_mapping_from_fields(r->f, &m) < 0)
		return fail(r, IPR_CTL_E_INVALID,
			    "MAP needs MAP_KIND, the address, context and REF");
	problem = map_address_problem(svc, &m);
	if (problem)
		return fail(r, IPR_CTL_E_UNUSABLE, problem);
	problem = map_problem(svc, &m);
	if (problem)
		return fail(r, IPR_CTL_E_INVALID, problem);
	m.expires = 0;
	snprintf(m.source, sizeof(m.source), "%.*s", IPR_MAPPING_SOURCE_MAX,
		 source_of(r->f, "cli"));
	rc = store_insert(svc->store, &m);
	if (rc == -EEXIST)
		return fail(r, IPR_CTL_E_CONFLICT, "the address or reference is already mapped");
	if (rc < 0)
		return store_failed(r, rc);
	service_record(svc, IPR_CTL_EV_ADDED, &m);
	put_mapping_reply(r, &m);
	return 0;
}

/* UNMAP by ENCODED (remote kinds) or REF (local kinds). Dynamic values go to quarantine. */
static int handle_unmap(struct request *r)
{
	struct service *svc = r->svc;
	struct ipr_mapping m;
	int rc;

	if (ipr_ctl_has(r->f, IPR_CTL_A_ENCODED))
		rc = store_find_encoded(svc->store, r->f->encoded_family, r->f->encoded, &m);
	else if (ipr_ctl_has(r->f, IPR_CTL_A_REF))
		rc = store_find_ref(svc->store, &r->f->ref, &m);
	else
		return fail(r, IPR_CTL_E_INVALID, "UNMAP needs ENCODED or REF");
	if (rc == -ENOENT)
		return fail(r, IPR_CTL_E_NOT_FOUND, NULL);
	if (rc < 0)
		return store_failed(r, rc);
	if (m.source[0] == '/')
		return fail(r, IPR_CTL_E_DENIED,
			    "this mapping comes from a published source: change the file instead");
	int64_t hold_until = 0;
	/* a probation value unmapped by hand stops counting as live; it rests the full quarantine
	 */
	rc = quota_release(&svc->quota, svc->store, &m, r->now, &hold_until);
	if (rc >= 0)
		rc = store_delete(svc->store, &m,
				  m.expires ? r->now + svc->cfg.quarantine_secs : 0);
	if (rc < 0)
		return store_failed(r, rc);
	if (!m.expires) /* a static value is free at once */
		svc->range_full[family_index(m.family)] = svc->refs_full = false;
	service_record(svc, IPR_CTL_EV_REMOVED, &m);
	put_mapping_reply(r, &m);
	return 0;
}

int service_handle(struct service *svc, const struct ipr_ctl_header *hdr, const uint8_t *attrs,
		   size_t attrs_len, uint8_t *reply_buf, size_t reply_cap)
{
	struct ipr_ctl_fields f;
	struct ipr_ctl_builder b;
	struct request r = {
		.svc = svc,
		.hdr = hdr,
		.attrs = attrs,
		.attrs_len = attrs_len,
		.f = &f,
		.reply = &b,
		.now = service_now(),
		.status = IPR_CTL_OK,
	};
	size_t len;

	ipr_ctl_build(&b, reply_buf, reply_cap, (uint8_t)(hdr->kind | IPR_CTL_REPLY), IPR_CTL_OK,
		      hdr->id);
	if (hdr->kind == 0 || hdr->kind > IPR_CTL_KIND_MAX || hdr->kind == IPR_CTL_SUBSCRIBE ||
	    hdr->kind == IPR_CTL_RELOAD) {
		/* SUBSCRIBE and RELOAD are the server's own business (they outlive one batch);
		 * reaching here means a bad kind */
		fail(&r, IPR_CTL_E_KIND, "unknown request kind");
	} else if (ipr_ctl_fields_parse(attrs, attrs_len, &f, NULL) < 0) {
		svc->counters.malformed++;
		fail(&r, IPR_CTL_E_MALFORMED, "bad attribute");
	} else {
		svc->counters.requests[hdr->kind]++;
		switch (hdr->kind) {
		case IPR_CTL_GET_EA:
			handle_get_ea(&r);
			break;
		case IPR_CTL_GET_REF:
			handle_get_ref(&r);
			break;
		case IPR_CTL_LOOKUP_EA:
			handle_lookup_ea(&r);
			break;
		case IPR_CTL_LOOKUP_REF:
			handle_lookup_ref(&r);
			break;
		case IPR_CTL_REPORT_USE:
			handle_report_use(&r);
			break;
		case IPR_CTL_LIST:
			handle_list(&r);
			break;
		case IPR_CTL_STATS:
			handle_stats(&r);
			break;
		case IPR_CTL_STATUS:
			handle_status(&r);
			break;
		case IPR_CTL_MAP:
			handle_map(&r);
			break;
		case IPR_CTL_UNMAP:
			handle_unmap(&r);
			break;
		case IPR_CTL_RANGES:
			handle_ranges(&r);
			break;
		case IPR_CTL_REPORT_COUNTERS:
			handle_report_counters(&r);
			break;
		}
	}
	if (r.status != IPR_CTL_OK && r.keep_body && ipr_ctl_finish(&b, &len) == 0) {
		svc->counters.errors[r.status]++;
		reply_buf[3] = r.status; /* the header's status byte */
	} else if (r.status != IPR_CTL_OK || ipr_ctl_finish(&b, &len) < 0) {
		if (r.status == IPR_CTL_OK) {
			r.status = IPR_CTL_E_INVALID;
			r.message = "reply too large";
		}
		svc->counters.errors[r.status]++;
		len = service_error_reply(reply_buf, reply_cap, hdr->kind, hdr->id, r.status,
					  r.message);
	}
	return r.doomed ? -EIO : (int)len;
}
