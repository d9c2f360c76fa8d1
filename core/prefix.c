/* Address prefixes: membership and the places (network, gateway, broadcast) never handed out. */
#include "prefix.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static unsigned width(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

static int bit(const uint8_t *addr, unsigned i)
{
	return (addr[i / 8] >> (7 - i % 8)) & 1;
}

bool ipr_prefix_contains(const struct ipr_prefix *p, int family, const uint8_t *addr)
{
	unsigned whole = p->len / 8, rest = p->len % 8;

	if (family != p->family || width(family) == 0 || p->len > width(family))
		return false;
	if (memcmp(p->addr, addr, whole) != 0)
		return false;
	return rest == 0 || ((p->addr[whole] ^ addr[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

enum ipr_prefix_place ipr_prefix_place(const struct ipr_prefix *p, int family, const uint8_t *addr)
{
	unsigned w = width(family), ones = 0;

	if (!ipr_prefix_contains(p, family, addr))
		return IPR_PREFIX_OUTSIDE;
	for (unsigned i = p->len; i < w; i++)
		ones += (unsigned)bit(addr, i);
	if (ones == 0)
		return IPR_PREFIX_NETWORK;
	if (ones == 1 && bit(addr, w - 1))
		return IPR_PREFIX_GATEWAY;
	if (family == AF_INET && ones == w - p->len)
		return IPR_PREFIX_BROADCAST;
	return IPR_PREFIX_USABLE;
}

int ipr_prefix_gateway(const struct ipr_prefix *p, uint8_t out[16])
{
	unsigned w = width(p->family);

	if (w == 0 || p->len >= w)
		return -EINVAL;
	memset(out, 0, 16);
	memcpy(out, p->addr, w / 8);
	out[w / 8 - 1] |= 1;
	/* the place rule above is the one definition; a prefix with host bits set fails it here */
	return ipr_prefix_place(p, p->family, out) == IPR_PREFIX_GATEWAY ? 0 : -EINVAL;
}

const char *ipr_prefix_place_text(enum ipr_prefix_place place)
{
	switch (place) {
	case IPR_PREFIX_NETWORK:
		return "network address";
	case IPR_PREFIX_GATEWAY:
		return "gateway's own address";
	case IPR_PREFIX_BROADCAST:
		return "broadcast address";
	case IPR_PREFIX_OUTSIDE:
	case IPR_PREFIX_USABLE:
		break;
	}
	return NULL;
}
