/* The dataplane's state: the forwarding layer's tables and buffers over the I/O layer's. */
#ifndef DP_DP_H
#define DP_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bucket.h"
#include "dpconf.h"
#include "dpio.h"
#include "dpstats.h"
#include "icmpfrag.h"
#include "maptab.h"
#include "prefix.h"
#include "wire.h"
#include "xlate.h"

/* A packet waiting for a mapping that gwctld is asked for; the memory is allocated at start. */
struct dp_wait_slot {
	bool used;
	bool from_udp;
	int64_t deadline_ms;
	size_t len;
	struct sockaddr_storage from;
	uint8_t *pkt;
};

/*
 * What forwarding needs from below, called through these so that it can run against a fake:
 * the I/O layer's send slots and TUN writes, and questions for gwctld about missing mappings.
 * send_slot gives the same buffer until send_commit (NULL when no socket of that family).
 */
struct dp_sink_ops {
	uint8_t *(*send_slot)(void *ctx, int family);
	void (*send_commit)(void *ctx, int family, size_t len, const struct sockaddr_storage *to);
	int (*tun_write)(void *ctx, const uint8_t *pkt, size_t len);
	void (*want_ref)(void *ctx, uint8_t ver, const uint8_t *addr);
	void (*want_ea)(void *ctx, uint8_t ver, uint8_t ctx_ver, const uint8_t *c,
			const struct ipr_ref *ref);
};

struct dpctl;
struct pmtu_table;
struct dp_workers;
struct dp_worker;

#define DP_GATEWAYS_MAX 16

/*
 * The gateway's layout as gwctld, the one configuration authority, gives it (RANGES): the
 * encoded ranges, routed into the TUN device, and the gateway's own public addresses.
 */
struct dp_layout {
	bool known;	   /* a RANGES reply has been received */
	bool has_range[2]; /* [0] IPv4, [1] IPv6 */
	struct ipr_prefix range[2];
	size_t gateway_count;
	struct {
		int family; /* AF_INET or AF_INET6 */
		uint8_t addr[16];
	} gateways[DP_GATEWAYS_MAX];
};

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
	struct dp_layout layout; /* from gwctld; followed when a reload changes it */
	/* the I/O side's part of a new layout (routes, TUN MTU); NULL in tests. 0 or -errno */
	int (*layout_apply)(struct dp *dp, const struct dp_layout *old);
	struct maptab *tab;
	struct dp_wire_addr own4, own6; /* our public addresses; ver 0 when not configured */
	struct dp_io io;		/* the devices, sockets, batches and offloads */
	const struct dp_sink_ops *sink; /* where forwarding's output and questions go */
	void *sink_ctx;
	/* the TUN MTU in force, and why (reported with the counters) */
	uint32_t tun_mtu;
	bool tun_mtu_outer_ipv6;
	enum dpconf_mtu_basis tun_mtu_basis;
	size_t slot_size; /* the largest packet either side may bring, plus headers */
	uint8_t *tun_out; /* one inbound packet being written to the TUN device */
	struct dp_wait_slot *wait;
	unsigned wait_n, wait_now; /* slots, and how many hold a packet */
	uint8_t *wait_mem;
	uint16_t ipv4_id;
	struct dp_flow_out flow_out;
	struct dp_flow_in flow_in;
	struct dpctl *ctl;
	/*
	 * With `workers` above 1: in the control's state, the workers it feeds (it forwards
	 * nothing itself); in a worker's, the worker, whose questions go through the control.
	 */
	struct dp_workers *workers;
	struct dp_worker *worker;
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
};

#endif
