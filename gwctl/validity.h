/* gwctld's checks of the addresses a request gives: remote contexts, local hosts, our contexts. */
#ifndef GWCTL_VALIDITY_H
#define GWCTL_VALIDITY_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "context.h"

/* Room for a reason with an address in it. */
#define VALIDITY_REASON_MAX 160

/* This gateway as core/context.h sees it: its enabled encoded ranges, its addresses and names. */
void validity_site(const struct gwctl_config *cfg, struct ipr_site *site);

/*
 * NULL when context can be a remote gateway (an IPv4-mapped one is turned into its IPv4
 * address in place), else the reason, written into buf.
 */
const char *validity_remote_context(const struct ipr_site *site, struct ipr_context *context,
				    char buf[VALIDITY_REASON_MAX]);

/* NULL when the address can be a local host reached through the gateway, else the reason. */
const char *validity_local_host(const struct ipr_site *site, int family, const uint8_t *addr,
				char buf[VALIDITY_REASON_MAX]);

/*
 * NULL when context is one this gateway publishes under (one of its addresses, in either
 * IPv6 form for an IPv4 one, which is then turned into the IPv4 address, or one of its names),
 * else the reason.
 */
const char *validity_our_context(const struct ipr_site *site, struct ipr_context *context,
				 char buf[VALIDITY_REASON_MAX]);

#endif
