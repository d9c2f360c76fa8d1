/* The one rule for which addresses can be remote gateways (contexts) and local hosts. */
#include "context.h"

#include <string.h>
#include <sys/socket.h>

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool ipr_context_unmap(struct ipr_context *context)
{
	uint8_t v4[4];

	if (context->kind != IPR_CONTEXT_IPV6 ||
	    memcmp(context->ipv6, mapped_prefix, sizeof(mapped_prefix)) != 0)
		return false;
	memcpy(v4, context->ipv6 + 12, 4);
	memset(context, 0, sizeof(*context));
	context->kind = IPR_CONTEXT_IPV4;
	memcpy(context->ipv4, v4, 4);
	return true;
}

/* What an address is by itself, whoever looks at it. */
static enum ipr_addr_use intrinsic(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	if (family == AF_INET) {
		if (a[0] == 0)
			return IPR_ADDR_UNSPECIFIED;
		if (a[0] == 127)
			return IPR_ADDR_LOOPBACK;
		if (a[0] == 169 && a[1] == 254)
			return IPR_ADDR_LINK_LOCAL;
		if ((a[0] & 0xf0) == 0xe0)
			return IPR_ADDR_MULTICAST;
		if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
			return IPR_ADDR_BROADCAST;
		return IPR_ADDR_USABLE;
	}
	if (memcmp(a, zero, 16) == 0)
		return IPR_ADDR_UNSPECIFIED;
	if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		return IPR_ADDR_LOOPBACK;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return IPR_ADDR_LINK_LOCAL;
	if (a[0] == 0xff)
		return IPR_ADDR_MULTICAST;
	if (memcmp(a, mapped_prefix, sizeof(mapped_prefix)) == 0)
		return IPR_ADDR_MAPPED;
	return IPR_ADDR_USABLE;
}

static bool encoded(const struct ipr_site *site, int family, const uint8_t *addr)
{
	size_t n = site && site->range_count < 2 ? site->range_count : 2;

	for (size_t i = 0; site && i < n; i++)
		if (ipr_prefix_contains(&site->ranges[i], family, addr))
			return true;
	return false;
}

enum ipr_addr_use ipr_context_check(struct ipr_context *context, const struct ipr_site *site)
{
	size_t own = site ? site->own_count : 0;
	int family = AF_INET6;
	const uint8_t *addr = context->ipv6;
	enum ipr_addr_use use;

	(void)ipr_context_unmap(context);
	for (size_t i = 0; i < own && i < IPR_SITE_OWN_MAX; i++) {
		struct ipr_context mine = site->own[i];

		(void)ipr_context_unmap(&mine);
		if (ipr_context_equal(&mine, context))
			return IPR_ADDR_OWN;
	}
	if (context->kind == IPR_CONTEXT_NAME)
		return IPR_ADDR_USABLE;
	if (context->kind == IPR_CONTEXT_IPV4) {
		family = AF_INET;
		addr = context->ipv4;
	}
	use = intrinsic(family, addr);
	if (use != IPR_ADDR_USABLE)
		return use;
	return encoded(site, family, addr) ? IPR_ADDR_ENCODED : IPR_ADDR_USABLE;
}

enum ipr_addr_use ipr_host_check(int family, const uint8_t *addr, const struct ipr_site *site)
{
	enum ipr_addr_use use = intrinsic(family, addr);

	if (use != IPR_ADDR_USABLE)
		return use;
	return encoded(site, family, addr) ? IPR_ADDR_ENCODED : IPR_ADDR_USABLE;
}

const char *ipr_addr_use_text(enum ipr_addr_use use)
{
	switch (use) {
	case IPR_ADDR_UNSPECIFIED:
		return "unspecified";
	case IPR_ADDR_LOOPBACK:
		return "a loopback address";
	case IPR_ADDR_LINK_LOCAL:
		return "a link-local address";
	case IPR_ADDR_MULTICAST:
		return "a multicast address";
	case IPR_ADDR_BROADCAST:
		return "the broadcast address";
	case IPR_ADDR_MAPPED:
		return "an IPv4-mapped IPv6 address (give the IPv4 address)";
	case IPR_ADDR_OWN:
		return "one of this gateway's own addresses";
	case IPR_ADDR_ENCODED:
		return "inside this gateway's encoded range";
	case IPR_ADDR_USABLE:
		break;
	}
	return NULL;
}
