/* The daemon's state: ranges, pending changes, refills, sweeping, and requests to handlers. */
#include "service.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "handlers.h"

__attribute__((weak)) int64_t service_now(void)
{
	return (int64_t)time(NULL);
}

void service_set_ranges(struct service *svc)
{
	const struct config_prefix *prefixes[2] = { &svc->cfg.encoded_ipv4,
						    &svc->cfg.encoded_ipv6 };

	for (int i = 0; i < 2; i++) {
		svc->has_range[i] = prefixes[i]->enabled;
		svc->range[i] = config_prefix_get(prefixes[i]);
	}
}

int service_init(struct service *svc, const struct gwctl_config *cfg, struct store *store)
{
	memset(svc, 0, sizeof(*svc));
	svc->cfg = *cfg;
	svc->store = store;
	svc->started = service_now();
	inbound_init(&svc->inbound);
	service_set_ranges(svc);
	/* room for every change one full batch can make, plus one sweep round */
	svc->pending_cap = 2 * (size_t)cfg->commit_batch + 1024;
	svc->pending = calloc(svc->pending_cap, sizeof(*svc->pending));
	return svc->pending ? 0 : -ENOMEM;
}

void service_quota_limits(const struct service *svc, struct quota_limits *lim)
{
	uint64_t smallest = UINT64_MAX;

	for (int i = 0; i < 2; i++)
		if (svc->has_range[i] && alloc_range_size(&svc->range[i]) < smallest)
			smallest = alloc_range_size(&svc->range[i]);
	lim->probation_secs = svc->cfg.probation_secs;
	lim->client_limit = svc->cfg.client_limit;
	/* by default half the range stays for mappings that carried traffic, and for inbound */
	lim->client_total = svc->cfg.client_total ? svc->cfg.client_total : smallest / 2;
	lim->inbound_quarantine_secs = svc->cfg.inbound_quarantine_secs;
}

void service_deinit(struct service *svc)
{
	free(svc->pending);
	svc->pending = NULL;
	publish_state_deinit(&svc->publish);
	names_free(svc->names);
	svc->names = NULL;
}

void service_record(struct service *svc, uint8_t kind, const struct ipr_mapping *m)
{
	svc->pending_changes++; /* GENERATION counts it even when subscribers cannot be told */
	if (svc->pending_count < svc->pending_cap) {
		svc->pending[svc->pending_count].kind = kind;
		svc->pending[svc->pending_count].mapping = *m;
		svc->pending_count++;
	} else {
		svc->pending_overflow = true;
	}
}

void service_drop_pending(struct service *svc)
{
	svc->pending_count = 0;
	svc->pending_changes = 0;
	svc->pending_overflow = false;
}

struct service_pending_mark service_pending_mark(const struct service *svc)
{
	return (struct service_pending_mark){ .count = svc->pending_count,
					      .changes = svc->pending_changes,
					      .overflow = svc->pending_overflow };
}

void service_pending_rewind(struct service *svc, struct service_pending_mark mark)
{
	svc->pending_count = mark.count;
	svc->pending_changes = mark.changes;
	svc->pending_overflow = mark.overflow;
}

size_t service_error_reply(uint8_t *buf, size_t cap, uint8_t kind, uint32_t id, uint8_t status,
			   const char *message)
{
	struct ipr_ctl_builder b;
	size_t len = 0;

	ipr_ctl_build(&b, buf, cap, (uint8_t)(kind | IPR_CTL_REPLY), status, id);
	if (message)
		ipr_ctl_put_text(&b, IPR_CTL_A_MESSAGE, message);
	if (ipr_ctl_finish(&b, &len) < 0) {
		ipr_ctl_build(&b, buf, cap, (uint8_t)(kind | IPR_CTL_REPLY), status, id);
		if (ipr_ctl_finish(&b, &len) < 0)
			len = 0; /* cap below a header: nothing can be said */
	}
	return len;
}

int service_refill(struct service *svc, size_t chunk)
{
	int64_t now = service_now();
	int added = 0, rc;

	rc = store_begin(svc->store);
	for (int i = 0; i < 2 && rc >= 0; i++) {
		if (svc->has_range[i])
			rc = alloc_refill_encoded(svc->store, &svc->range[i], now, chunk);
		if (rc > added)
			added = rc;
	}
	if (rc >= 0)
		rc = alloc_refill_ref(svc->store, &svc->cfg.dynamic_ref_min,
				      &svc->cfg.dynamic_ref_max, now, chunk);
	if (rc > added)
		added = rc;
	if (rc >= 0)
		rc = store_commit(svc->store);
	else
		store_rollback(svc->store);
	if (rc < 0) {
		svc->counters.refill_failures++;
		return rc;
	}
	svc->counters.reserved += (uint64_t)added;
	return added;
}

int service_sweep(struct service *svc, size_t max)
{
	struct ipr_mapping expired[256];
	int64_t now = service_now();
	int n, rc, removed = 0;

	if (max > sizeof(expired) / sizeof(expired[0]))
		max = sizeof(expired) / sizeof(expired[0]);
	/* quarantine ends and expiries free values: full ranges get another look */
	svc->range_full[0] = svc->range_full[1] = svc->refs_full = false;
	if (svc->names)
		names_refresh(svc->names); /* gateway names whose TTL ran out */
	rc = store_purge_quarantine(svc->store, now);
	if (rc < 0)
		return rc;
	rc = quota_purge(svc->store, now);
	if (rc < 0)
		return rc;
	n = store_expired(svc->store, now, expired, max);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		int64_t until = now + svc->cfg.quarantine_secs;

		/* a value still on probation rests only until no answer naming it can be kept */
		rc = quota_release(svc->store, &expired[i], now, &until);
		if (rc >= 0)
			rc = store_delete(svc->store, &expired[i], until);
		if (rc == -ENOENT)
			continue;
		if (rc < 0)
			return rc;
		service_record(svc, IPR_CTL_EV_REMOVED, &expired[i]);
		removed++;
	}
	svc->counters.expired += (uint64_t)removed;
	return removed;
}

void service_put_line(struct ipr_ctl_builder *b, const char *line)
{
	size_t mark = ipr_ctl_nest_begin(b, IPR_CTL_A_COUNTER);

	ipr_ctl_put_text(b, IPR_CTL_A_TEXT, line);
	ipr_ctl_nest_end(b, mark);
}

/* The handler of each request kind; SUBSCRIBE and RELOAD are the server's (they outlive a batch).
 */
static int (*const handlers[IPR_CTL_KIND_MAX + 1])(struct request *r) = {
	[IPR_CTL_GET_EA] = handle_get_ea,
	[IPR_CTL_GET_REF] = handle_get_ref,
	[IPR_CTL_LOOKUP_EA] = handle_lookup_ea,
	[IPR_CTL_LOOKUP_REF] = handle_lookup_ref,
	[IPR_CTL_REPORT_USE] = handle_report_use,
	[IPR_CTL_LIST] = handle_list,
	[IPR_CTL_STATS] = handle_stats,
	[IPR_CTL_STATUS] = handle_status,
	[IPR_CTL_MAP] = handle_map,
	[IPR_CTL_UNMAP] = handle_unmap,
	[IPR_CTL_RANGES] = handle_ranges,
	[IPR_CTL_REPORT_COUNTERS] = handle_report_counters,
};

int service_handle(struct service *svc, const struct ipr_ctl_header *hdr, const uint8_t *attrs,
		   size_t attrs_len, uint8_t *reply_buf, size_t reply_cap,
		   const struct service_ahead *ahead)
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
		.ahead = ahead && ahead->sent ? ahead : NULL,
	};
	size_t len;

	ipr_ctl_build(&b, reply_buf, reply_cap, (uint8_t)(hdr->kind | IPR_CTL_REPLY), IPR_CTL_OK,
		      hdr->id);
	if (hdr->kind > IPR_CTL_KIND_MAX || !handlers[hdr->kind]) {
		/* SUBSCRIBE and RELOAD reaching here mean a bad kind, as any kind without one */
		handler_fail(&r, IPR_CTL_E_KIND, "unknown request kind");
	} else if (ipr_ctl_fields_parse(attrs, attrs_len, &f, NULL) < 0) {
		svc->counters.malformed++;
		handler_fail(&r, IPR_CTL_E_MALFORMED, "bad attribute");
	} else {
		svc->counters.requests[hdr->kind]++;
		handlers[hdr->kind](&r);
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
