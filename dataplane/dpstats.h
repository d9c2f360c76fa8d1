/* The dataplane's counters: what happened, counted by every layer, reported under these names. */
#ifndef DP_DPSTATS_H
#define DP_DPSTATS_H

/* What happened, for `gwctl stats` as dataplane.NAME; drops are counted by reason apart. */
enum dp_counter {
	DP_C_TUN_RX,	   /* packets read from the TUN device */
	DP_C_TUN_TX,	   /* packets written to it */
	DP_C_UDP_RX,	   /* datagrams received from peers */
	DP_C_UDP_TX,	   /* datagrams sent to peers */
	DP_C_WAIT_QUEUED,  /* packets that waited for a mapping */
	DP_C_WAIT_SENT,	   /* of which went on once it came */
	DP_C_CTL_CONNECTS, /* connections to gwctld (and thus snapshots) */
	DP_C_CTL_REQUESTS, /* GET_REF and GET_EA sent */
	DP_C_CTL_REFUSED,  /* of which gwctld refused (no range, exhausted...) */
	DP_C_CTL_LOST,	   /* messages that could not be sent (socket full or closed) */
	DP_C_EVENTS,	   /* mapping events applied */
	DP_C_TABLE_FULL,   /* mappings the tables had no room for */
	DP_C_USE_REPORTED, /* mappings reported as used */
	DP_C_PORT_LEARNED, /* peer ports that changed from what we sent to */
	DP_C_PMTU_LEARNED, /* path MTUs the kernel reported for a peer */
	DP_C_PEER_ERRORS,  /* other errors the kernel reported for a peer (port unreachable...) */
	DP_C_FRAGMENTED,   /* datagrams fragmented at the IPREF layer */
	DP_C_FRAGMENTS,	   /* the pieces they became */
	DP_C_ICMP_SENT,	   /* the gateway's own ICMP errors sent */
	DP_C_ICMP_LIMITED, /* and those the rate limit held back */
	DP_C_TUN_KERNEL, /* the gateway kernel's own link traffic on the TUN device, passed over */
	DP_C_LAYOUT_CHANGES, /* new layouts (ranges, gateway addresses) from gwctld, followed */
	DP_C_LAYOUT_FAILED,  /* of which the routes or TUN MTU could not follow (see the log) */
	DP_C_LAYOUT_BAD,     /* RANGES replies that could not be used */
	DP_C_COUNT
};

/* A name for each counter ("tun.rx"...). */
const char *dp_counter_name(enum dp_counter c);

#endif
