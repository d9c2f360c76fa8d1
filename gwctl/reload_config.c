/* Re-reading the configuration file: what may change while running, and layout changes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "reload_impl.h"

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

int reload_config(struct service *svc, char *msg, size_t msg_size)
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
	if (strcmp(cfg.database, svc->cfg.database) ||
	    strcmp(cfg.store_conninfo, svc->cfg.store_conninfo) ||
	    strcmp(cfg.gateway_id, svc->cfg.gateway_id) || strcmp(cfg.socket, svc->cfg.socket) ||
	    strcmp(cfg.socket_group, svc->cfg.socket_group) || strcmp(cfg.user, svc->cfg.user) ||
	    cfg.commit_batch != svc->cfg.commit_batch || cfg.max_clients != svc->cfg.max_clients)
		log_warn("reload: database, store, gateway-id, socket, socket-group, user, "
			 "commit-batch"
			 " and max-clients"
			 " changes take effect at the next start");
	memcpy(cfg.database, svc->cfg.database, sizeof(cfg.database));
	memcpy(cfg.store_conninfo, svc->cfg.store_conninfo, sizeof(cfg.store_conninfo));
	memcpy(cfg.gateway_id, svc->cfg.gateway_id, sizeof(cfg.gateway_id));
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
	service_set_ranges(svc);
	ipr_log_set_level((enum ipr_log_level)cfg.log_level);
	snprintf(msg, msg_size, "reloaded %s", svc->config_path);
	return 0;
}
