/* The daemon's view of itself: STATS, STATUS and the REPORT_COUNTERS other components send. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "peers_feed.h"

#define VERSION_TEXT "gwctld " IPR_VERSION

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

/* Where a counter of STATS is kept: each its own struct of uint64_t fields. */
enum stats_from { FROM_SERVICE, FROM_QUOTA, FROM_COUNTS, FROM_DURABILITY, FROM_START };

/* What the store found at start, as counters. */
struct stats_start {
	uint64_t unclean, reserved_quarantined, leases_extended;
};

struct stats_counter {
	const char *name;
	enum stats_from from;
	size_t offset;
};

#define SERVICE(name, field)                                                 \
	{                                                                    \
		name, FROM_SERVICE, offsetof(struct service_counters, field) \
	}
#define QUOTA(name, field)                                               \
	{                                                                \
		name, FROM_QUOTA, offsetof(struct quota_counters, field) \
	}
#define COUNTS(name, field)                                             \
	{                                                               \
		name, FROM_COUNTS, offsetof(struct store_counts, field) \
	}
#define DURABILITY(name, field)                                                 \
	{                                                                       \
		name, FROM_DURABILITY, offsetof(struct store_durability, field) \
	}
#define START(name, field)                                            \
	{                                                             \
		name, FROM_START, offsetof(struct stats_start, field) \
	}

/* The counters STATS gives after the requests and errors by kind, in this order. */
static const struct stats_counter stats_counters[] = {
	SERVICE("gwctld.messages.malformed", malformed),
	SERVICE("gwctld.peers.denied", denied_peers),
	SERVICE("gwctld.clients.refused_full", refused_full),
	SERVICE("gwctld.clients.refused_share", refused_share),
	SERVICE("gwctld.clients.closed_idle", closed_idle),
	SERVICE("gwctld.allocated.encoded", allocated_encoded),
	SERVICE("gwctld.allocated.refs", allocated_refs),
	SERVICE("gwctld.allocations.exhausted", exhausted),
	SERVICE("gwctld.allocations.ahead", ahead_answered),
	SERVICE("gwctld.allocations.ahead_usual", ahead_usual),
	SERVICE("gwctld.inbound.rate_limited", inbound_rate_limited),
	SERVICE("gwctld.inbound.over_quota", inbound_over_quota),
	SERVICE("gwctld.inbound.reclaimed", inbound_reclaimed),
	COUNTS("gwctld.inbound.resting", held_inbound),
	QUOTA("gwctld.resolution.probation", probation),
	QUOTA("gwctld.resolution.confirmed", confirmed),
	QUOTA("gwctld.resolution.reclaimed", reclaimed),
	QUOTA("gwctld.resolution.over_quota", client_refused),
	QUOTA("gwctld.resolution.over_share", total_refused),
	COUNTS("gwctld.resolution.held", held_client),
	SERVICE("gwctld.leases.expired", expired),
	SERVICE("gwctld.leases.extended", leases_extended),
	SERVICE("gwctld.store.commits", commits),
	SERVICE("gwctld.store.committed_requests", committed_requests),
	SERVICE("gwctld.store.failures", store_failures),
	SERVICE("gwctld.store.replaced", store_replaced),
	COUNTS("gwctld.store.bad_rows", bad_rows),
	DURABILITY("gwctld.store.flushes", flushes),
	DURABILITY("gwctld.store.flush_failures", flush_failures),
	DURABILITY("gwctld.store.sync_commits", sync_commits),
	DURABILITY("gwctld.store.answer_timeouts", answer_timeouts),
	DURABILITY("gwctld.store.wal_restarts", wal_restarts),
	DURABILITY("gwctld.store.wal_waits", wal_waits),
	DURABILITY("gwctld.store.wal_catch_ups", wal_catch_ups),
	DURABILITY("gwctld.store.reserved_behind", reserved_behind),
	DURABILITY("gwctld.store.refills_behind_failed", refills_behind_failed),
	SERVICE("gwctld.store.reserved", reserved),
	SERVICE("gwctld.store.refill_failures", refill_failures),
	START("gwctld.store.unclean_start", unclean),
	START("gwctld.store.unclean_start_quarantined", reserved_quarantined),
	START("gwctld.store.unclean_start_leases_extended", leases_extended),
	SERVICE("gwctld.events.sent", events_sent),
	SERVICE("gwctld.subscribers.dropped", subscribers_dropped),
	SERVICE("gwctld.layout.changes", layout_changes),
	SERVICE("gwctld.layout.closed", layout_closed),
	SERVICE("gwctld.peers_feed.changes", peers_feed_changes),
	SERVICE("gwctld.peers_feed.own", peers_feed_own),
	SERVICE("gwctld.peers_feed.added", peers_feed_added),
	SERVICE("gwctld.peers_feed.removed", peers_feed_removed),
	SERVICE("gwctld.peers_feed.bad", peers_feed_bad),
	SERVICE("gwctld.peers_feed.dropped", peers_feed_dropped),
	SERVICE("gwctld.peers_feed.resyncs", peers_feed_resyncs),
	SERVICE("gwctld.peers_feed.connects", peers_feed_connects),
	SERVICE("gwctld.peers_feed.failures", peers_feed_failures),
	SERVICE("gwctld.peers_feed.reads", peers_feed_reads),
	SERVICE("gwctld.peers_feed.full_reads", peers_feed_full_reads),
};

int handle_stats(struct request *r)
{
	const struct service *svc = r->svc;
	const struct service_counters *c = &svc->counters;
	struct store_counts counts;
	struct store_durability durability;
	const struct stats_start start = {
		.unclean = svc->start.unclean,
		.reserved_quarantined = svc->start.reserved_quarantined,
		.leases_extended = svc->start.leases_extended,
	};
	const void *from[] = { [FROM_SERVICE] = c,
			       [FROM_QUOTA] = &svc->quota_counters,
			       [FROM_COUNTS] = &counts,
			       [FROM_DURABILITY] = &durability,
			       [FROM_START] = &start };
	char name[64];
	/*
	 * A store that cannot be read leaves every counter but its counts worth reading, the more
	 * so while it is away: the counts are left out, not the reply (as STATUS answers).
	 */
	bool counted = store_count(svc->store, &counts) == 0;

	store_durability(svc->store, &durability);
	for (int k = 1; k <= IPR_CTL_KIND_MAX; k++) {
		snprintf(name, sizeof(name), "gwctld.requests.%s", kind_names[k]);
		ipr_ctl_put_counter(r->reply, name, c->requests[k]);
	}
	for (int s = 1; s <= IPR_CTL_STATUS_MAX; s++) {
		snprintf(name, sizeof(name), "gwctld.errors.%s", status_names[s]);
		ipr_ctl_put_counter(r->reply, name, c->errors[s]);
	}
	for (size_t i = 0; i < sizeof(stats_counters) / sizeof(stats_counters[0]); i++) {
		const struct stats_counter *e = &stats_counters[i];
		uint64_t value;

		if (e->from == FROM_COUNTS && !counted)
			continue;

		memcpy(&value, (const char *)from[e->from] + e->offset, sizeof(value));
		ipr_ctl_put_counter(r->reply, e->name, value);
	}
	for (int k = IPR_MAP_PUBLISHED; k <= IPR_MAP_STATIC_EXTERNAL && counted; k++) {
		snprintf(name, sizeof(name), "gwctld.mappings.%s", ipr_mapping_kind_name(k));
		for (char *p = name; *p; p++)
			*p = *p == ' ' ? '_' : *p;
		ipr_ctl_put_counter(r->reply, name, counts.by_kind[k]);
	}
	if (counted)
		ipr_ctl_put_counter(r->reply, "gwctld.mappings.quarantined", counts.quarantined);
	reports_each(&svc->reports, ipr_ctl_put_counter, r->reply);
	return 0;
}

/* REPORT_COUNTERS: a component's latest counters replace its previous ones. */
int handle_report_counters(struct request *r)
{
	const char *why;
	int n = reports_update(&r->svc->reports, r->attrs, r->attrs_len, ipr_clock_ms(), &why);

	if (n == -EBUSY)
		return handler_fail(r, IPR_CTL_E_BUSY, why);
	if (n < 0)
		return handler_fail(r, IPR_CTL_E_INVALID, why);
	ipr_ctl_put_u64(r->reply, IPR_CTL_A_VALUE, (uint64_t)n);
	return 0;
}

static void put_line(struct ipr_ctl_builder *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

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

/*
 * Whether a dataplane is connected (subscribed) and how long ago it last reported: what
 * `gwctl health` (keepalived's check) judges the gateway by, since gwctld answering alone says
 * nothing of the dataplane that carries the traffic.
 */
static void dataplane_lines(struct request *r)
{
	int64_t age;

	put_line(r->reply, "dataplanes-connected: %u", r->svc->subscribers);
	if (reports_age_ms(&r->svc->reports, "dataplane", ipr_clock_ms(), &age) < 0)
		put_line(r->reply, "dataplane-report-age: none");
	else
		put_line(r->reply, "dataplane-report-age: %lld ms", (long long)age);
}

int handle_status(struct request *r)
{
	const struct service *svc = r->svc;
	struct store_counts counts;
	char text[128], min[IPR_REF_TEXT_MAX], max[IPR_REF_TEXT_MAX];
	uint64_t total = 0, wal_bytes;
	int64_t wal_held_ms;
	/*
	 * A store that cannot be read leaves the rest worth telling (the dataplane, the ranges):
	 * STATUS answers with a "store:" line saying so, and gwctl status fails on that line.
	 */
	int rc = store_count(svc->store, &counts);

	for (int k = IPR_MAP_PUBLISHED; k <= IPR_MAP_STATIC_EXTERNAL && rc == 0; k++)
		total += counts.by_kind[k];
	put_line(r->reply, "version: %s", VERSION_TEXT);
	put_line(r->reply, "uptime: %lld s", (long long)(r->now - svc->started));
	/* never the conninfo: it may hold a password; the id defaults to the host name */
	if (svc->cfg.store_conninfo[0]) {
		const struct store_spec spec = { svc->cfg.database, svc->cfg.store_conninfo,
						 svc->cfg.gateway_id };

		store_spec_gateway(&spec, text, sizeof(text));
		put_line(r->reply, "database: postgresql, as gateway %s", text);
	} else
		put_line(r->reply, "database: %s", svc->cfg.database);
	if (svc->feed) {
		peers_feed_describe(svc->feed, text, sizeof(text));
		put_line(r->reply, "peers-feed: %s", text);
	}
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
	if (rc < 0)
		put_line(r->reply, "store: unavailable (%s)", strerror(-rc));
	else
		put_line(r->reply, "mappings: %llu (%llu quarantined values)",
			 (unsigned long long)total, (unsigned long long)counts.quarantined);
	put_line(r->reply, "generation: %llu", (unsigned long long)svc->generation);
	store_wal_status(svc->store, &wal_bytes, &wal_held_ms);
	put_line(r->reply, "store-wal: %llu KiB", (unsigned long long)(wal_bytes >> 10));
	tun_mtu_line(r);
	dataplane_lines(r);
	if (wal_held_ms)
		put_line(r->reply,
			 "warning: a reader holds back the store's checkpoints (for %lld s): the "
			 "write-ahead log grows until it ends its transaction (docs/store.md)",
			 (long long)(wal_held_ms / 1000));
	return 0;
}
