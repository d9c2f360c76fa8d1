/* The dataplane daemon's state, shared by the forwarding path, the control link and the loop. */
#ifndef DP_DP_H
#define DP_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bucket.h"
#include "config.h"
#include "dpconf.h"
#include "icmpfrag.h"
#include "maptab.h"
#include "offload.h"
#include "wire.h"
#include "xlate.h"

/* Packets taken from one descriptor per wake-up, and datagrams per sendmmsg/recvmmsg. */
#define DP_BATCH 64

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
	DP_C_COUNT
};

/* A packet waiting for a mapping that gwctld is asked for; the memory is allocated at start. */
struct dp_wait_slot {
	bool used;
	bool from_udp;
	int64_t deadline_ms;
	size_t len;
	struct sockaddr_storage from;
	uint8_t *pkt;
};

/* Datagrams to one UDP socket, sent together by sendmmsg. */
struct dp_batch {
	int fd;
	unsigned n;
	struct mmsghdr msgs[DP_BATCH];
	struct iovec iov[DP_BATCH];
	struct sockaddr_storage to[DP_BATCH];
	uint8_t *bufs; /* DP_BATCH slots of dp.slot_size */
};

struct dpctl;
struct pmtu_table;

/*
 * The last flow each way and the entries its lookups found: a bulk transfer then costs one
 * comparison per packet instead of two keyed hashes. Valid while the tables' generation holds.
 */
struct dp_flow_out {
	uint64_t generation; /* 0: empty (a table's generation is never 0 once filled) */
	uint8_t ver;
	uint8_t src[16], dst[16];
	struct maptab_remote *r;
	struct maptab_local *l;
};

struct dp_flow_in {
	uint64_t generation;
	uint8_t ctx_ver;
	uint8_t ctx[16];
	struct ipr_ref src_ref, dst_ref;
	struct maptab_remote *r;
	struct maptab_local *l;
};

struct dp {
	struct dpconf cfg;
	struct gwctl_config gw; /* gwctl.conf: gateway addresses, encoded ranges, socket */
	struct maptab *tab;
	struct dp_wire_addr own4, own6; /* our public addresses; ver 0 when not configured */
	int tun_fd, udp4_fd, udp6_fd;
	/* the TUN MTU in force, and why (reported with the counters) */
	uint32_t tun_mtu;
	bool tun_mtu_outer_ipv6;
	enum dpconf_mtu_basis tun_mtu_basis;
	size_t slot_size; /* the largest packet either side may bring, plus headers */
	struct dp_batch out4, out6;
	uint8_t *tun_in;  /* one packet read from the TUN device */
	uint8_t *tun_out; /* one inbound packet being written to the TUN device */
	/* datagrams received together by recvmmsg */
	struct mmsghdr in_msgs[DP_BATCH];
	struct iovec in_iov[DP_BATCH];
	struct sockaddr_storage in_from[DP_BATCH];
	uint8_t *udp_in;
	struct dp_wait_slot *wait;
	unsigned wait_n;
	uint8_t *wait_mem;
	uint16_t ipv4_id;
	struct dp_flow_out flow_out;
	struct dp_flow_in flow_in;
	struct dpctl *ctl;
	/* path MTUs learnt per peer; a datagram within floor (all of them) needs no lookup */
	struct pmtu_table *pmtu;
	uint32_t pmtu_floor;
	uint8_t *frag_in; /* a datagram being cut into pieces */
	/* ICMP echo first fragments waiting for their length, and one taken out to go on */
	struct icmpfrag icmpfrag;
	uint8_t *icmpfrag_pkt;
	uint64_t frag_rng;
	/* the gateway's own ICMP: from its address in each encoded range, rate-limited */
	bool has_icmp_src4, has_icmp_src6;
	uint8_t icmp_src4[16], icmp_src6[16];
	uint8_t *icmp_out;
	struct ipr_bucket icmp_bucket;
	uint64_t counters[DP_C_COUNT];
	uint64_t drops[XLATE_DROP_COUNT];
	struct dp_offload off; /* kernel offloads: what is on, their buffers and counters */
};

/* A name for each counter ("tun.rx"...). */
const char *dp_counter_name(enum dp_counter c);

/* Monotonic milliseconds. */
int64_t dp_now_ms(void);

#endif
