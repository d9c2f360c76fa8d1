/* Path MTU: what the kernel reports per peer, and datagrams cut to fit it or refused. */
#include <netinet/in.h>
#include <string.h>

#include "errqueue.h"
#include "forward.h"
#include "forward_internal.h"
#include "pmtu.h"

#define UDP_HDR	     8
#define IPV6_MIN_MTU 1280
#define IPV4_MIN_MTU 68

static size_t outer_overhead(int family)
{
	return (family == AF_INET ? 20 : 40) + UDP_HDR;
}

/* A fresh identification for a datagram cut into pieces (xorshift64*: cheap, unpredictable
 * enough for an identification, seeded at start). */
static uint32_t next_frag_id(struct dp *dp)
{
	uint64_t x = dp->frag_rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	dp->frag_rng = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static int send_in_pieces(struct dp *dp, int family, size_t dlen, size_t room,
			  const struct sockaddr_storage *to)
{
	struct xlate_frag f;
	int n;

	memcpy(dp->frag_in, fwd_slot(dp, family), dlen);
	n = xlate_frag_begin(&f, dp->frag_in, dlen, room, next_frag_id(dp));
	if (n < 0)
		return n;
	dp->counters[DP_C_FRAGMENTED]++;
	while ((n = xlate_frag_next(&f, fwd_slot(dp, family), dp->slot_size)) > 0) {
		fwd_commit(dp, family, (size_t)n, to);
		dp->counters[DP_C_FRAGMENTS]++;
	}
	return n;
}

int fwd_send_sized(struct dp *dp, int family, size_t dlen, const struct sockaddr_storage *to,
		   const struct xlate_local *p, const uint8_t *pkt, size_t len)
{
	size_t outer = outer_overhead(to->ss_family), room;
	const uint8_t *peer;
	uint8_t addr[16] = { 0 };
	uint32_t mtu;
	int64_t host_mtu;

	if (dlen + outer <= dp->pmtu_floor) {
		fwd_commit(dp, family, dlen, to);
		return 0;
	}
	if (to->ss_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)to)->sin_addr, 4);
		peer = addr;
	} else {
		peer = (const uint8_t *)&((const struct sockaddr_in6 *)to)->sin6_addr;
	}
	mtu = pmtu_get(dp->pmtu, to->ss_family == AF_INET ? 4 : 6, peer, dp->cfg.mtu,
		       ipr_clock_ms());
	if (dlen + outer <= mtu) {
		fwd_commit(dp, family, dlen, to);
		return 0;
	}
	room = mtu - outer;
	/*
	 * An IPv6 host cannot go below 1280 bytes: what it sends within that is cut into pieces
	 * like a DF-clear IPv4 packet, and the far gateway hands them on as IPv6 fragments.
	 */
	if (p->df && !(p->ver == 6 && len <= IPV6_MIN_MTU)) {
		/* the host's packets may grow by what room leaves over the IPREF header's size */
		host_mtu = (int64_t)room - (int64_t)dlen + (int64_t)len;
		if (p->ver == 6 && host_mtu < IPV6_MIN_MTU)
			host_mtu = IPV6_MIN_MTU;
		if (p->ver == 4 && host_mtu < IPV4_MIN_MTU)
			host_mtu = IPV4_MIN_MTU;
		fwd_answer_local(dp, p, pkt, len, ICMP_REPLY_TOO_BIG, (uint32_t)host_mtu);
		return -XLATE_DROP_PATH_MTU;
	}
	return send_in_pieces(dp, family, dlen, room, to);
}

/* What one error-queue message says: a peer's path MTU, or another error about a peer. */
void forward_peer_error(struct dp *dp, const struct msghdr *m, const struct sockaddr_storage *to)
{
	struct errqueue_walk w;
	enum errqueue_kind kind;
	uint32_t mtu = 0;

	errqueue_begin(&w, m);
	while ((kind = errqueue_next(&w, &mtu)) != ERRQUEUE_END) {
		uint8_t addr[16] = { 0 }, ver;

		if (kind != ERRQUEUE_TOO_BIG) {
			dp->counters[DP_C_PEER_ERRORS]++;
			continue;
		}
		if (to->ss_family == AF_INET) {
			ver = 4;
			memcpy(addr, &((const struct sockaddr_in *)to)->sin_addr, 4);
		} else if (to->ss_family == AF_INET6) {
			ver = 6;
			memcpy(addr, &((const struct sockaddr_in6 *)to)->sin6_addr, 16);
		} else {
			continue;
		}
		pmtu_learn(dp->pmtu, ver, addr, mtu, ipr_clock_ms());
		dp->pmtu_floor = pmtu_sweep(dp->pmtu, dp->cfg.mtu, ipr_clock_ms());
		dp->counters[DP_C_PMTU_LEARNED]++;
	}
}

void forward_tick(struct dp *dp, int64_t now_ms)
{
	dp->pmtu_floor = pmtu_sweep(dp->pmtu, dp->cfg.mtu, now_ms);
	icmpfrag_sweep(&dp->icmpfrag, now_ms);
}
