/* The dataplane's configuration file: `key = value` lines and defaults; gwctld gives the rest. */
#ifndef DP_DPCONF_H
#define DP_DPCONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "err.h"
#include "conf_table.h"

#define DPCONF_PATH_MAX	  PATH_MAX
#define DPCONF_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define DPCONF_NAME_MAX	  32
#define DPCONF_WORKERS	  64 /* the most `workers` */

/*
 * What only the dataplane needs. The gateway's own addresses and the encoded ranges come from
 * gwctld over its socket (RANGES, again when a reload changes them), so that the daemons can
 * never disagree about them.
 */
struct dpconf {
	char gwctl_socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char tun[DPCONF_IFNAME_MAX + 1];
	char user[DPCONF_NAME_MAX + 1]; /* "": stay as started */
	uint16_t port;			/* local UDP port */
	uint16_t peer_port;		/* a peer's port until it is learned */
	uint32_t mtu;			/* path MTU of the Internet link */
	uint32_t ref_bytes;		/* longest reference length the TUN MTU leaves room for */
	uint32_t capacity;		/* mappings of each kind the tables hold */
	uint32_t wait_slots;		/* packets waiting for a mapping from gwctld */
	uint32_t icmp_rate;		/* the gateway's own ICMP errors per second; 0: none */
	uint32_t icmp_burst;		/* and how many may go at once */
	bool ipv4, ipv6;		/* Internet families with a socket */
	bool internet_given;		/* the `internet` key was set, not defaulted */
	bool tun_offload;		/* TUN TSO/USO and GRO writes: auto (true) or off */
	bool udp_gso, udp_gro;		/* UDP segmentation and receive offloads: auto or off */
	uint64_t seen;			/* one bit per key already set */
	/* forwarding threads, each with a TUN queue and a UDP socket; 1: one thread, as before */
	uint32_t workers;
};

/* The keys, their kinds, bounds and fields, for core's settings dispatcher (core/conf_table.h). */
extern const struct ipr_settings dpconf_settings;

void dpconf_defaults(struct dpconf *cfg);

/* Why the TUN MTU leaves room for the outer IP header it does (docs/dataplane.md, TUN MTU). */
enum dpconf_mtu_basis {
	DPCONF_MTU_INTERNET_KEY, /* `internet` was given: IPv6's header if it includes IPv6 */
	DPCONF_MTU_GATEWAYS,	 /* gwctld's gateway addresses: IPv6's if one is IPv6 */
	DPCONF_MTU_NO_GATEWAY,	 /* no gateway address: either family may carry the tunnel */
};

/*
 * Whether the TUN MTU must leave room for an IPv6 outer header, given which families gwctld
 * has gateway addresses of; *basis says why. An IPv4-only site so gets the larger MTU without
 * setting `internet`.
 */
bool dpconf_outer_ipv6(const struct dpconf *cfg, bool gateway_ipv4, bool gateway_ipv6,
		       enum dpconf_mtu_basis *basis);

/* One line into cfg (changed only if the whole line is good): 0, -EINVAL or -ERANGE. */
IPR_MUST_CHECK int dpconf_parse_line(struct dpconf *cfg, const char *line, size_t len,
				     struct ipr_err *err);

/* The whole file; on failure msg gets "PATH:LINE:COLUMN: reason" and cfg is unchanged. */
IPR_MUST_CHECK int dpconf_load(struct dpconf *cfg, const char *path, char *msg, size_t msg_size);

#endif
