/* The allocation handlers: GET_EA, GET_REF, the lookups, REPORT_USE and RANGES. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "handlers.h"

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
		return handler_fail(r, IPR_CTL_E_NOT_FOUND, NULL);
	if (rc < 0)
		return handler_store_failed(r, rc);
	handler_put_mapping(r, m);
	return 0;
}

/*
 * A dynamic mapping asked for again: its lease is renewed and it is the answer; one on
 * probation only by another probation lease, so its answers stay short until it is used.
 */
static int reply_existing(struct request *r, struct ipr_mapping *m)
{
	struct quota_limits lim;
	int rc = quota_on_probation(r->svc->store, m);

	service_quota_limits(r->svc, &lim);
	if (rc == 1)
		rc = quota_renew(r->svc->store, m, &lim, r->now);
	else if (rc == 0)
		rc = extend_lease(r, m);
	return reply_found(r, rc, m);
}

/* The fields every new dynamic mapping takes from the request and the lease settings. */
static void new_dynamic(const struct service *svc, const struct ipr_ctl_fields *f, int64_t now,
			struct ipr_mapping *m, enum ipr_mapping_kind kind)
{
	m->kind = kind;
	memcpy(m->name, f->name, sizeof(m->name));
	m->expires = now + svc->cfg.lease_secs;
	snprintf(m->source, sizeof(m->source), "%.*s", IPR_MAPPING_SOURCE_MAX,
		 handler_source(f, "request"));
}

void handler_new_remote(const struct service *svc, const struct ipr_ctl_fields *f, int64_t now,
			int family, bool on_probation, struct ipr_mapping *m)
{
	new_dynamic(svc, f, now, m, IPR_MAP_DYNAMIC_REMOTE);
	m->family = family;
	m->ref = f->ref;
	if (on_probation) /* its answers live no longer than it may unused */
		m->expires = now + svc->cfg.probation_secs;
}

/* A mapping just bound: counted, announced and the answer. */
static int reply_bound(struct request *r, const struct ipr_mapping *m, uint64_t *allocated)
{
	(*allocated)++;
	service_record(r->svc, IPR_CTL_EV_ADDED, m);
	handler_put_mapping(r, m);
	return 0;
}

/*
 * Stores a mapping whose value the allocator just chose (rc is the allocator's result), and
 * with it the hold of a LAN client's pool when hold_pool is set (one statement on PostgreSQL).
 * An exhausted range is remembered in *full until the next sweep or unmap.
 */
static int insert_allocated(struct request *r, int rc, struct ipr_mapping *m, bool *full,
			    uint64_t *allocated, const char *exhausted, const char *hold_pool)
{
	struct service *svc = r->svc;

	if (rc == -ENOSPC) {
		*full = true;
		svc->counters.exhausted++;
		return handler_fail(r, IPR_CTL_E_EXHAUSTED, exhausted);
	}
	if (rc == 0 && hold_pool) {
		struct quota_limits lim;

		service_quota_limits(svc, &lim);
		rc = store_insert_held(svc->store, m, hold_pool, quota_client_hold_until(m, &lim));
		if (rc == 0)
			svc->quota_counters.probation++;
	} else if (rc == 0) {
		rc = store_insert(svc->store, m);
	}
	if (rc < 0)
		return handler_store_failed(r, rc);
	return reply_bound(r, m, allocated);
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
static int wanted_family(const struct service *svc, const struct ipr_ctl_fields *f)
{
	if (ipr_ctl_has(f, IPR_CTL_A_FAMILY))
		return f->family == 4 ? AF_INET : AF_INET6;
	return svc->has_range[0] ? AF_INET : AF_INET6;
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
		return handler_fail(r, IPR_CTL_E_BUSY, "new inbound sources arrive too fast");
	}
	rc = quota_purge(svc->store, r->now);
	if (rc < 0)
		return rc;
	quota_inbound_pool(peer, pools[0]);
	for (int i = 0; i < 2; i++) {
		rc = store_inbound_count(svc->store, scopes[i], &count);
		if (rc == 0)
			rc = quota_inbound_resting(svc->store, i == 0 ? pools[0] : NULL, &resting);
		if (rc < 0)
			return rc;
		if (count + resting < limits[i])
			continue;
		*refused = true;
		svc->counters.inbound_over_quota++;
		/* half the pool resting is enough to bring room back soon: take no more */
		if (resting >= limits[i] / 2 && resting > 0)
			return handler_fail(r, IPR_CTL_E_BUSY,
					    "inbound sources are resting: try again");
		rc = store_inbound_idle(svc->store, scopes[i], &idle);
		if (rc == -ENOENT)
			return handler_fail(r, IPR_CTL_E_BUSY,
					    i == 0 ? "this gateway's inbound sources are all in use"
						   : "inbound sources are all in use");
		quota_inbound_pool(&idle.context, pools[1]);
		if (rc == 0)
			rc = store_delete(svc->store, &idle,
					  r->now + svc->cfg.inbound_quarantine_secs);
		if (rc == 0)
			rc = quota_inbound_rest(svc->store, pools[1], &idle,
						r->now + svc->cfg.inbound_quarantine_secs);
		if (rc < 0)
			return rc;
		service_record(svc, IPR_CTL_EV_REMOVED, &idle);
		svc->counters.inbound_reclaimed++;
		return handler_fail(r, IPR_CTL_E_BUSY,
				    "inbound sources are being reclaimed: try again");
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
	rc = quota_client_admit(svc->store, pool, &lim, r->now, removed, 8, &n, &verdict);
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
		return handler_fail(r, IPR_CTL_E_QUOTA, "this client holds its share of new names");
	}
	svc->quota_counters.total_refused++;
	return handler_fail(r, IPR_CTL_E_QUOTA,
			    "new names of all clients hold their share of the range");
}

/*
 * GET_EA without a quota to ask, in one statement where the store can (PostgreSQL: one round
 * trip, where the lookup and the insert were two): the value the reserve gives next is bound
 * unless the address is mapped already, then taken. -EAGAIN: not done, the usual way follows
 * (no such value, or it was taken meanwhile: then it is dropped from the reserve first, so
 * that the usual way's take does not bind it again).
 */
static int get_ea_at_once(struct request *r, struct ipr_mapping *m, int family)
{
	struct service *svc = r->svc;
	const struct ipr_prefix *range = &svc->range[handler_family_index(family)];
	uint8_t taken[16];
	int rc;

	if (svc->range_full[handler_family_index(family)])
		return -EAGAIN;
	rc = alloc_encoded_next(svc->store, range, r->now, m->address);
	if (rc == -ENOENT)
		return -EAGAIN;
	if (rc < 0)
		return handler_store_failed(r, rc);
	handler_new_remote(svc, r->f, r->now, family, false, m);
	rc = store_bind_remote(svc->store, m);
	if (rc == 1)
		return reply_existing(r, m);
	if (rc == 0 || rc == -EEXIST) {
		int taken_rc = alloc_encoded(svc->store, range, r->now, taken);

		/* the same transaction, nothing taken between: the value peeked */
		if (taken_rc == 0 && memcmp(taken, m->address, 16) != 0)
			taken_rc = -EIO;
		if (taken_rc < 0)
			return handler_store_failed(r, taken_rc);
		if (rc == -EEXIST)
			return -EAGAIN;
	}
	if (rc < 0)
		return handler_store_failed(r, rc);
	return reply_bound(r, m, &svc->counters.allocated_encoded);
}

const char *handler_get_ea_checked(struct service *svc, const struct ipr_ctl_fields *f,
				   struct ipr_mapping *m, int *family, uint8_t *status)
{
	struct ipr_site site;
	const char *problem;

	memset(m, 0, sizeof(*m));
	*family = wanted_family(svc, f);
	*status = IPR_CTL_E_INVALID;
	if (!context_from_fields(f, &m->context) || !ipr_ctl_has(f, IPR_CTL_A_REF))
		return "GET_EA needs CONTEXT and REF";
	if (ipr_ref_is_null(&f->ref))
		return "reference 0 is the null reference";
	/* whoever asks: the resolver, the dataplane for an inbound source, a person */
	validity_site(&svc->cfg, &site);
	*status = IPR_CTL_E_UNUSABLE;
	problem = validity_remote_context(&site, &m->context, handler_reason);
	if (problem)
		return problem;
	*status = IPR_CTL_E_NO_RANGE;
	if (!svc->has_range[handler_family_index(*family)])
		return "no encoded range of that family";
	*status = IPR_CTL_OK;
	return NULL;
}

/* What came of a GET_EA sent ahead (service_ahead_run): its answer, or -EAGAIN: the usual way. */
static int reply_ahead(struct request *r)
{
	const struct store_bind *item = &r->ahead->item;
	struct ipr_mapping m = item->m;

	if (item->outcome == STORE_BIND_FOUND)
		return reply_existing(r, &m);
	if (item->outcome != STORE_BIND_ADDED)
		return -EAGAIN;
	if (item->hold_pool)
		r->svc->quota_counters.probation++;
	return reply_bound(r, &m, &r->svc->counters.allocated_encoded);
}

int handle_get_ea(struct request *r)
{
	struct service *svc = r->svc;
	struct ipr_mapping m;
	int family, rc;
	uint8_t status;
	const char *problem;

	if (r->ahead) { /* checked as below when it was prepared, in this batch */
		rc = reply_ahead(r);
		if (rc != -EAGAIN)
			return rc;
	}
	problem = handler_get_ea_checked(svc, r->f, &m, &family, &status);
	if (problem)
		return handler_fail(r, status, problem);

	bool quota = strcmp(handler_source(r->f, ""), "dataplane") == 0 ||
		     ipr_ctl_has(r->f, IPR_CTL_A_CLIENT);
	/* one sent ahead was looked up already, and bound nothing: the usual way follows */
	if (!quota && !r->ahead) {
		struct ipr_context context = m.context;

		rc = get_ea_at_once(r, &m, family);
		if (rc != -EAGAIN)
			return rc;
		memset(&m, 0, sizeof(m));
		m.context = context;
	}
	rc = store_find_remote(svc->store, family, &m.context, &r->f->ref, &m);
	if (rc != -ENOENT)
		return rc == 0 ? reply_existing(r, &m) : handler_store_failed(r, rc);
	char pool[QUOTA_POOL_MAX] = "";
	bool refused = false;
	rc = 0;
	if (strcmp(handler_source(r->f, ""), "dataplane") == 0) {
		rc = inbound_room(r, &m.context, &refused);
	} else if (ipr_ctl_has(r->f, IPR_CTL_A_CLIENT)) {
		quota_client_pool(r->f->client_family, r->f->client, pool);
		rc = client_room(r, pool, &refused);
	}
	if (rc < 0)
		return handler_store_failed(r, rc);
	if (refused)
		return 0;

	handler_new_remote(svc, r->f, r->now, family, pool[0] != 0, &m);
	bool *full = &svc->range_full[handler_family_index(family)];
	rc = *full ? -ENOSPC
		   : alloc_encoded(svc->store, &svc->range[handler_family_index(family)], r->now,
				   m.address);
	return insert_allocated(r, rc, &m, full, &svc->counters.allocated_encoded,
				"the encoded range is exhausted", pool[0] ? pool : NULL);
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

int handle_get_ref(struct request *r)
{
	struct service *svc = r->svc;
	struct ipr_mapping m;
	struct ipr_site site;
	const char *problem;
	int rc;

	if (!ipr_ctl_has(r->f, IPR_CTL_A_LOCAL))
		return handler_fail(r, IPR_CTL_E_INVALID, "GET_REF needs LOCAL");
	validity_site(&svc->cfg, &site);
	problem = validity_local_host(&site, r->f->local_family, r->f->local, handler_reason);
	if (problem)
		return handler_fail(r, IPR_CTL_E_UNUSABLE, problem);
	rc = store_find_local(svc->store, r->f->local_family, r->f->local, &m);
	if (rc != -ENOENT)
		return rc == 0 ? reply_existing(r, &m) : handler_store_failed(r, rc);

	memset(&m, 0, sizeof(m));
	new_dynamic(svc, r->f, r->now, &m, IPR_MAP_DYNAMIC_LOCAL);
	m.family = r->f->local_family;
	memcpy(m.address, r->f->local, 16);
	own_context(svc, &m.context);
	rc = svc->refs_full ? -ENOSPC
			    : alloc_ref(svc->store, &svc->cfg.dynamic_ref_min,
					&svc->cfg.dynamic_ref_max, r->now, &m.ref);
	return insert_allocated(r, rc, &m, &svc->refs_full, &svc->counters.allocated_refs,
				"the dynamic reference range is exhausted", NULL);
}

/*
 * RANGES: what a resolver needs to know once per connection, without touching the store:
 * the encoded ranges, for PTR questions and for answering NODATA without asking,
 * and this gateway's own addresses, whose families are the Internet families it reaches.
 */
int handle_ranges(struct request *r)
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
int handle_lookup_ea(struct request *r)
{
	struct ipr_mapping m;
	struct ipr_context context;
	int rc;

	if (ipr_ctl_has(r->f, IPR_CTL_A_ENCODED)) {
		rc = store_find_encoded(r->svc->store, r->f->encoded_family, r->f->encoded, &m);
	} else if (context_from_fields(r->f, &context) && ipr_ctl_has(r->f, IPR_CTL_A_REF)) {
		(void)ipr_context_unmap(&context); /* as GET_EA stored it */
		rc = store_find_remote(r->svc->store, wanted_family(r->svc, r->f), &context,
				       &r->f->ref, &m);
	} else {
		return handler_fail(r, IPR_CTL_E_INVALID,
				    "LOOKUP_EA needs ENCODED, or CONTEXT and REF");
	}
	return reply_found(r, rc, &m);
}

/* LOOKUP_REF: by REF (one of ours), or by LOCAL address, without allocating. */
int handle_lookup_ref(struct request *r)
{
	struct ipr_mapping m;
	int rc;

	if (ipr_ctl_has(r->f, IPR_CTL_A_REF))
		rc = store_find_ref(r->svc->store, &r->f->ref, &m);
	else if (ipr_ctl_has(r->f, IPR_CTL_A_LOCAL))
		rc = store_find_local(r->svc->store, r->f->local_family, r->f->local, &m);
	else
		return handler_fail(r, IPR_CTL_E_INVALID, "LOOKUP_REF needs REF or LOCAL");
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
	int rc = quota_on_probation(svc->store, m);

	if (rc == 1 && !replied) {
		service_quota_limits(svc, &lim);
		return quota_renew(svc->store, m, &lim, r->now);
	}
	if (rc == 1)
		rc = quota_confirm(svc->store, m);
	if (rc == 1)
		svc->quota_counters.confirmed++;
	return rc < 0 ? rc : extend_lease(r, m);
}

/*
 * REPORT_USE: MAPPING nests, each with ENCODED (remote) or REF (ours), REPLIED when a local
 * host sent to it; unknown ones skipped.
 */
int handle_report_use(struct request *r)
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
			return handler_fail(r, IPR_CTL_E_MALFORMED, "bad MAPPING in REPORT_USE");
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
			return handler_store_failed(r, rc);
		extended++;
	}
	ipr_ctl_put_u64(r->reply, IPR_CTL_A_VALUE, extended);
	return 0;
}
