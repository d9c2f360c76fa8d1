/* Which addresses may stand for a remote gateway or a local host: one rule for every part. */
#ifndef IPR_CONTEXT_H
#define IPR_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"
#include "prefix.h"

/* Room for gwctl.conf's gateway addresses and names (CONFIG_GATEWAY_MAX of each). */
#define IPR_SITE_OWN_MAX 16

/*
 * What a gateway knows of itself: its encoded ranges and its own public contexts. Each part
 * fills one from where it learns them (gwctld from its configuration, the resolver module from
 * RANGES), so that the daemon and the module apply the same rule.
 */
struct ipr_site {
	size_t range_count;
	struct ipr_prefix ranges[2];
	size_t own_count;
	struct ipr_context own[IPR_SITE_OWN_MAX];
};

/* Why an address cannot be used where it was given; IPR_ADDR_USABLE (0) when it can. */
enum ipr_addr_use {
	IPR_ADDR_USABLE = 0,
	IPR_ADDR_UNSPECIFIED, /* 0.0.0.0/8 ("this network", a source only), :: */
	IPR_ADDR_LOOPBACK,    /* 127.0.0.0/8, ::1 */
	IPR_ADDR_LINK_LOCAL,  /* 169.254.0.0/16, fe80::/10: never forwarded by a router */
	IPR_ADDR_MULTICAST,   /* 224.0.0.0/4, ff00::/8 */
	IPR_ADDR_BROADCAST,   /* 255.255.255.255 */
	IPR_ADDR_MAPPED,      /* a local host given as ::ffff:a.b.c.d (contexts are converted) */
	IPR_ADDR_OWN,	      /* one of this gateway's own contexts */
	IPR_ADDR_ENCODED,     /* inside one of this gateway's encoded ranges */
};

/*
 * Turns an IPv4-mapped IPv6 context (::ffff:a.b.c.d) into its IPv4 address, so that both forms
 * are one remote gateway; returns whether it did. Other contexts are left alone.
 */
bool ipr_context_unmap(struct ipr_context *context);

/*
 * Whether a context can be a remote gateway: unmaps it (ipr_context_unmap), then refuses the
 * addresses no remote gateway can have, and, given a site (NULL: none), this gateway's own
 * contexts and every address inside its encoded ranges. A DNS name is refused only when it is
 * one of the site's own names: what it resolves to is checked when it has been resolved.
 */
IPR_MUST_CHECK enum ipr_addr_use ipr_context_check(struct ipr_context *context,
						   const struct ipr_site *site);

/*
 * Whether addr (AF_INET: 4 bytes, AF_INET6: 16) can be a local host reached through the
 * gateway: not unspecified, loopback, link-local, multicast, broadcast, IPv4-mapped, or inside
 * the site's encoded ranges (site may be NULL). The gateway's own addresses are allowed: a
 * server on the gateway itself may be published.
 */
IPR_MUST_CHECK enum ipr_addr_use ipr_host_check(int family, const uint8_t *addr,
						const struct ipr_site *site);

/*
 * What the address is, to follow "ADDRESS is ": "unspecified", "a loopback address"... NULL
 * for IPR_ADDR_USABLE.
 */
const char *ipr_addr_use_text(enum ipr_addr_use use);

#endif
