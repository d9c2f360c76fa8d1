/* The TUN device and its configuration through rtnetlink: link up, MTU, routes to encoded ranges.
 */
#ifndef DP_TUN_H
#define DP_TUN_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* Creates (or attaches to) the TUN device name, non-blocking; returns the fd or -errno. */
IPR_MUST_CHECK int tun_open(const char *name, unsigned *ifindex);

/* The same with more TUNSETIFF flags (IFF_VNET_HDR). */
IPR_MUST_CHECK int tun_open_flags(const char *name, unsigned *ifindex, short flags);

/*
 * From now on every open is one queue of a multi-queue device (IFF_MULTI_QUEUE), for the
 * workers: each opens its own and the kernel spreads the device's packets over them by flow.
 */
void tun_multi_queue(bool on);

/* Sets the MTU and brings the link up, on a raw NETLINK_ROUTE socket. */
IPR_MUST_CHECK int tun_link_up(unsigned ifindex, uint32_t mtu);

/* Routes prefix/len (family AF_INET or AF_INET6) into the device, replacing an older route. */
IPR_MUST_CHECK int tun_route(unsigned ifindex, int family, const uint8_t *prefix, unsigned len);
/* Takes that route away again (a range gwctld no longer has); a route already gone is 0. */
IPR_MUST_CHECK int tun_route_del(unsigned ifindex, int family, const uint8_t *prefix, unsigned len);

/*
 * The TUN MTU that fits the tunnel: the path MTU less the outer IP header (the larger of the
 * Internet families in use), UDP, and the longest IPREF header with ref_bytes references and
 * fragment info, plus the inner IPv4 header that the IPREF header replaces.
 */
uint32_t tun_mtu_for(uint32_t path_mtu, bool ipv6_internet, uint32_t ref_bytes);

#endif
