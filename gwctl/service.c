/* The daemon's state: ranges from the configuration, pending changes, sweeping and reloading. */
#include "service.h"

#include "alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

__attribute__((weak)) int64_t service_now(void)
{
	return (int64_t)time(NULL);
}

static void set_ranges(struct service *svc)
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
	set_ranges(svc);
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
	quota_close(&svc->quota);
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

int service_refill(struct service *svc)
{
	int64_t now = service_now();
	int added = 0, rc;

	rc = store_begin(svc->store);
	for (int i = 0; i < 2 && rc >= 0; i++) {
		if (svc->has_range[i])
			rc = alloc_refill_encoded(svc->store, &svc->range[i], now, REFILL_CHUNK);
		if (rc > added)
			added = rc;
	}
	if (rc >= 0)
		rc = alloc_refill_ref(svc->store, &svc->cfg.dynamic_ref_min,
				      &svc->cfg.dynamic_ref_max, now, REFILL_CHUNK);
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
	if (added)
		store_flush(svc->store); /* usable once on disk: the flusher's work, not ours */
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
	rc = quota_purge(&svc->quota, svc->store, now);
	if (rc < 0)
		return rc;
	n = store_expired(svc->store, now, expired, max);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		int64_t until = now + svc->cfg.quarantine_secs;

		/* a value still on probation rests only until no answer naming it can be kept */
		rc = quota_release(&svc->quota, svc->store, &expired[i], now, &until);
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

static bool same_prefix(const struct config_prefix *a, const struct config_prefix *b)
{
	return a->enabled == b->enabled &&
	       (!a->enabled || (a->family == b->family && a->length == b->length &&
				memcmp(a->addr, b->addr, 16) == 0));
}

/* What RANGES answers: the encoded ranges and the gateway's own addresses. */
static bool same_layout(const struct gwctl_config *a, const struct gwctl_config *b)
{
	if (!same_prefix(&a->encoded_ipv4, &b->encoded_ipv4) ||
	    !same_prefix(&a->encoded_ipv6, &b->encoded_ipv6) ||
	    a->gateway_count != b->gateway_count)
		return false;
	for (size_t i = 0; i < a->gateway_count; i++)
		if (a->gateways[i].family != b->gateways[i].family ||
		    memcmp(a->gateways[i].addr, b->gateways[i].addr, 16) != 0)
			return false;
	return true;
}

int service_reload_config(struct service *svc, char *msg, size_t msg_size)
{
	static struct gwctl_config cfg; /* large; only the event loop's thread reloads */
	int rc;

	config_defaults(&cfg);
	rc = config_load(&cfg, svc->config_path, msg, msg_size);
	if (rc == 0)
		rc = config_check(&cfg, msg, msg_size);
	if (rc < 0)
		return -EINVAL;

	/* What the daemon opened or sized at start keeps its value until a restart. */
	if (strcmp(cfg.database, svc->cfg.database) || strcmp(cfg.socket, svc->cfg.socket) ||
	    strcmp(cfg.socket_group, svc->cfg.socket_group) || strcmp(cfg.user, svc->cfg.user) ||
	    cfg.commit_batch != svc->cfg.commit_batch || cfg.max_clients != svc->cfg.max_clients)
		log_warn(
			"reload: database, socket, socket-group, user, commit-batch and max-clients"
			" changes take effect at the next start");
	memcpy(cfg.database, svc->cfg.database, sizeof(cfg.database));
	memcpy(cfg.socket, svc->cfg.socket, sizeof(cfg.socket));
	memcpy(cfg.socket_group, svc->cfg.socket_group, sizeof(cfg.socket_group));
	memcpy(cfg.user, svc->cfg.user, sizeof(cfg.user));
	cfg.commit_batch = svc->cfg.commit_batch;
	cfg.max_clients = svc->cfg.max_clients;
	if (!same_layout(&cfg, &svc->cfg)) {
		/* the dataplane and the resolvers learn it anew (docs/control-protocol.md) */
		svc->layout_changed = true;
		svc->counters.layout_changes++;
		log_info("reload: the encoded ranges or gateway addresses changed; telling the "
			 "dataplane and the resolvers");
	}
	svc->cfg = cfg;
	svc->config_loads++;
	set_ranges(svc);
	ipr_log_set_level((enum ipr_log_level)cfg.log_level);
	snprintf(msg, msg_size, "reloaded %s", svc->config_path);
	return 0;
}
