/* The names the dataplane's counters are reported under, kept in the library beside the enum. */
#include "dpstats.h"

const char *dp_counter_name(enum dp_counter c)
{
	static const char *const names[DP_C_COUNT] = {
		[DP_C_TUN_RX] = "tun.rx",
		[DP_C_TUN_TX] = "tun.tx",
		[DP_C_UDP_RX] = "udp.rx",
		[DP_C_UDP_TX] = "udp.tx",
		[DP_C_WAIT_QUEUED] = "wait.queued",
		[DP_C_WAIT_SENT] = "wait.sent",
		[DP_C_CTL_CONNECTS] = "gwctl.connects",
		[DP_C_CTL_REQUESTS] = "gwctl.requests",
		[DP_C_CTL_REFUSED] = "gwctl.refused",
		[DP_C_CTL_LOST] = "gwctl.lost",
		[DP_C_EVENTS] = "gwctl.events",
		[DP_C_TABLE_FULL] = "mappings.table_full",
		[DP_C_USE_REPORTED] = "mappings.use_reported",
		[DP_C_PORT_LEARNED] = "peers.port_learned",
		[DP_C_PMTU_LEARNED] = "peers.pmtu_learned",
		[DP_C_PEER_ERRORS] = "peers.errors",
		[DP_C_FRAGMENTED] = "frag.datagrams",
		[DP_C_FRAGMENTS] = "frag.pieces",
		[DP_C_ICMP_SENT] = "icmp.sent",
		[DP_C_ICMP_LIMITED] = "icmp.rate_limited",
		[DP_C_TUN_KERNEL] = "tun.kernel_traffic",
		[DP_C_LAYOUT_CHANGES] = "layout.changes",
		[DP_C_LAYOUT_FAILED] = "layout.failed",
		[DP_C_LAYOUT_BAD] = "layout.bad_replies",
	};

	return (unsigned)c < DP_C_COUNT && names[c] ? names[c] : "unknown";
}
