/* gwctld's checks of the addresses requests give, by the one rule of core/context.c. */
#include "validity.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

void validity_site(const struct gwctl_config *cfg, struct ipr_site *site)
{
	const struct config_prefix *ranges[2] = { &cfg->encoded_ipv4, &cfg->encoded_ipv6 };

	memset(site, 0, sizeof(*site));
	for (int i = 0; i < 2; i++)
		if (ranges[i]->enabled)
			site->ranges[site->range_count++] = config_prefix_get(ranges[i]);
	for (size_t i = 0; i < cfg->gateway_count && site->own_count < IPR_SITE_OWN_MAX; i++) {
		struct ipr_context *c = &site->own[site->own_count++];

		c->kind = cfg->gateways[i].family == AF_INET ? IPR_CONTEXT_IPV4 : IPR_CONTEXT_IPV6;
		memcpy(c->ipv6, cfg->gateways[i].addr, 16);
	}
	for (size_t i = 0; i < cfg->gateway_name_count && site->own_count < IPR_SITE_OWN_MAX; i++) {
		struct ipr_context *c = &site->own[site->own_count++];

		c->kind = IPR_CONTEXT_NAME;
		memcpy(c->name, cfg->gateway_names[i], sizeof(c->name));
	}
}

const char *validity_remote_context(const struct ipr_site *site, struct ipr_context *context,
				    char buf[VALIDITY_REASON_MAX])
{
	char text[IPR_ADDR_TEXT_MAX];
	enum ipr_addr_use use = ipr_context_check(context, site);

	if (use == IPR_ADDR_USABLE)
		return NULL;
	ipr_context_format(context, text);
	snprintf(buf, VALIDITY_REASON_MAX, "context %.64s is %s: it cannot be a remote gateway",
		 text, ipr_addr_use_text(use));
	return buf;
}

const char *validity_local_host(const struct ipr_site *site, int family, const uint8_t *addr,
				char buf[VALIDITY_REASON_MAX])
{
	char text[INET6_ADDRSTRLEN] = "?";
	enum ipr_addr_use use = ipr_host_check(family, addr, site);

	if (use == IPR_ADDR_USABLE)
		return NULL;
	inet_ntop(family, addr, text, sizeof(text));
	snprintf(buf, VALIDITY_REASON_MAX, "host address %s is %s: it cannot be a local host", text,
		 ipr_addr_use_text(use));
	return buf;
}

const char *validity_our_context(const struct ipr_site *site, struct ipr_context *context,
				 char buf[VALIDITY_REASON_MAX])
{
	char text[IPR_ADDR_TEXT_MAX];

	/* our own contexts are exactly those a remote gateway may not have for that reason */
	if (ipr_context_check(context, site) == IPR_ADDR_OWN)
		return NULL;
	ipr_context_format(context, text);
	snprintf(buf, VALIDITY_REASON_MAX, "context %.64s is not a context of this gateway", text);
	return buf;
}
