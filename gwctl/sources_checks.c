/* The checks every source applies: our contexts, published references, host and encoded addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "sources_impl.h"

static bool name_equal(const char *a, const char *b)
{
	size_t la = strnlen(a, IPR_NAME_MAX + 1), lb = strnlen(b, IPR_NAME_MAX + 1);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

bool sources_context_is_ours(const struct sources_config *cfg, const struct ipr_context *context)
{
	size_t count =
		cfg->gateway_count < SOURCES_GATEWAY_MAX ? cfg->gateway_count : SOURCES_GATEWAY_MAX;

	for (size_t i = 0; i < count; i++) {
		const struct ipr_context *gw = &cfg->gateways[i];

		if (gw->kind != context->kind)
			continue;
		if (gw->kind == IPR_CONTEXT_NAME ? name_equal(gw->name, context->name)
						 : ipr_context_equal(gw, context))
			return true;
	}
	return false;
}

int sources_check_published_ref(const struct sources_config *cfg, const struct ipr_ref *ref,
				char *reason)
{
	char text[IPR_REF_TEXT_MAX], min[IPR_REF_TEXT_MAX], max[IPR_REF_TEXT_MAX];

	ipr_ref_format(ref, text);
	switch (ipr_ref_use_of(ref, &cfg->dynamic_min, &cfg->dynamic_max)) {
	case IPR_REF_NULL:
		snprintf(reason, SOURCES_REASON_MAX, "reference 0 is the null reference");
		return -EINVAL;
	case IPR_REF_RESERVED:
		snprintf(reason, SOURCES_REASON_MAX,
			 "reference %s is reserved: 0-1023 are never published", text);
		return -EINVAL;
	case IPR_REF_DYNAMIC:
		ipr_ref_format(&cfg->dynamic_min, min);
		ipr_ref_format(&cfg->dynamic_max, max);
		snprintf(reason, SOURCES_REASON_MAX,
			 "reference %s lies in the dynamic range %s-%s, kept for allocation", text,
			 min, max);
		return -EINVAL;
	case IPR_REF_PUBLISHABLE:
		break;
	}
	return 0;
}

const char *sources_address_text(int family, const uint8_t *address, char *buf)
{
	if (!inet_ntop(family, address, buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	return buf;
}

static const struct sources_range *range_of(const struct sources_config *cfg, int family)
{
	return &cfg->encoded[family == AF_INET ? 0 : 1];
}

/* This gateway as core/context.h sees it: its enabled ranges and its contexts. */
static void site_of(const struct sources_config *cfg, struct ipr_site *site)
{
	memset(site, 0, sizeof(*site));
	for (int i = 0; i < 2; i++)
		if (cfg->encoded[i].enabled)
			site->ranges[site->range_count++] = cfg->encoded[i].prefix;
	for (size_t i = 0; i < cfg->gateway_count && i < SOURCES_GATEWAY_MAX &&
			   site->own_count < IPR_SITE_OWN_MAX;
	     i++)
		site->own[site->own_count++] = cfg->gateways[i];
}

int sources_check_host_address(const struct sources_config *cfg, int family, const uint8_t *address,
			       char *reason)
{
	char text[INET6_ADDRSTRLEN], prefix[INET6_ADDRSTRLEN];
	const struct sources_range *r = range_of(cfg, family);
	struct ipr_site site;
	enum ipr_addr_use use;

	site_of(cfg, &site);
	use = ipr_host_check(family, address, &site);
	sources_address_text(family, address, text);
	switch (use) {
	case IPR_ADDR_USABLE:
		return 0;
	case IPR_ADDR_MULTICAST:
	case IPR_ADDR_BROADCAST:
		snprintf(reason, SOURCES_REASON_MAX, "host address %s is not a unicast address",
			 text);
		break;
	case IPR_ADDR_ENCODED:
		snprintf(reason, SOURCES_REASON_MAX,
			 "host address %s lies in the encoded range %s/%u", text,
			 sources_address_text(family, r->prefix.addr, prefix), r->prefix.len);
		break;
	default:
		snprintf(reason, SOURCES_REASON_MAX, "host address %s is %s", text,
			 ipr_addr_use_text(use));
		break;
	}
	return -EINVAL;
}

int sources_check_remote_context(const struct sources_config *cfg, struct ipr_context *context,
				 char *reason)
{
	char text[IPR_ADDR_TEXT_MAX];
	struct ipr_site site;
	enum ipr_addr_use use;

	site_of(cfg, &site);
	use = ipr_context_check(context, &site);
	if (use == IPR_ADDR_USABLE)
		return 0;
	ipr_context_format(context, text);
	snprintf(reason, SOURCES_REASON_MAX,
		 "external context %.100s is %s: it cannot be a remote gateway", text,
		 ipr_addr_use_text(use));
	return -EINVAL;
}

int sources_check_encoded(const struct sources_config *cfg, int family, const uint8_t *address,
			  char *reason)
{
	char text[INET6_ADDRSTRLEN], prefix[INET6_ADDRSTRLEN];
	const struct sources_range *r = range_of(cfg, family);
	enum ipr_prefix_place place;

	sources_address_text(family, address, text);
	if (!r->enabled) {
		snprintf(reason, SOURCES_REASON_MAX,
			 "external %s: no encoded %s range is configured", text,
			 family == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	sources_address_text(family, r->prefix.addr, prefix);
	place = ipr_prefix_place(&r->prefix, family, address);
	if (place == IPR_PREFIX_OUTSIDE) {
		snprintf(reason, SOURCES_REASON_MAX,
			 "external %s lies outside the encoded range %s/%u", text, prefix,
			 r->prefix.len);
		return -EINVAL;
	}
	if (place != IPR_PREFIX_USABLE) {
		snprintf(reason, SOURCES_REASON_MAX,
			 "external %s is the %s of the encoded range %s/%u", text,
			 ipr_prefix_place_text(place), prefix, r->prefix.len);
		return -EINVAL;
	}
	return 0;
}
