/* The packet pump: I/O layer to forwarding and forwarding's sink to the I/O layer and gwctld. */
#include "pump.h"

#include <netinet/in.h>
#include <string.h>

#include "dpctl.h"
#include "forward.h"
#include "pmtu.h"
#include "workers.h"

#define ERRORS_PER_WAKEUP 32

static uint8_t *sink_send_slot(void *ctx, int family)
{
	return dpio_send_slot(&((struct dp *)ctx)->io, family);
}

static void sink_send_commit(void *ctx, int family, size_t len, const struct sockaddr_storage *to)
{
	dpio_send_commit(&((struct dp *)ctx)->io, family, len, to);
}

static int sink_tun_write(void *ctx, const uint8_t *pkt, size_t len)
{
	return dpio_tun_write(&((struct dp *)ctx)->io, pkt, len);
}

/* A worker has no gwctld link: its questions go to the control thread, which asks. */
static void sink_want_ref(void *ctx, uint8_t ver, const uint8_t *addr)
{
	struct dp *dp = ctx;

	if (dp->worker)
		workers_ask_ref(dp->worker, ver, addr);
	else
		dpctl_request_ref(dp, ver, addr);
}

static void sink_want_ea(void *ctx, uint8_t ver, uint8_t ctx_ver, const uint8_t *c,
			 const struct ipr_ref *ref)
{
	struct dp *dp = ctx;

	if (dp->worker)
		workers_ask_ea(dp->worker, ver, ctx_ver, c, ref);
	else
		dpctl_request_ea(dp, ver, ctx_ver, c, ref);
}

static const struct dp_sink_ops daemon_sink = {
	.send_slot = sink_send_slot,
	.send_commit = sink_send_commit,
	.tun_write = sink_tun_write,
	.want_ref = sink_want_ref,
	.want_ea = sink_want_ea,
};

void pump_attach(struct dp *dp)
{
	dp->sink = &daemon_sink;
	dp->sink_ctx = dp;
}

void pump_tun(struct dp *dp)
{
	const uint8_t *pkt;
	size_t len;

	dpio_tun_begin(&dp->io);
	while (dpio_tun_next(&dp->io, &pkt, &len))
		forward_local(dp, pkt, len);
	dpio_flush(&dp->io); /* and the gateway's own errors to local hosts */
}

void pump_udp(struct dp *dp, int fd)
{
	const struct sockaddr_storage *from;
	uint64_t learnt = dp->counters[DP_C_PORT_LEARNED];
	const uint8_t *pkt;
	size_t len;

	dpio_udp_recv(&dp->io, fd);
	while (dpio_udp_next(&dp->io, &pkt, &len, &from)) {
		forward_remote(dp, pkt, len, from);
		/* a peer's new port (learnt on the flow just cached) is the other workers' too */
		if (dp->worker && dp->counters[DP_C_PORT_LEARNED] != learnt) {
			learnt = dp->counters[DP_C_PORT_LEARNED];
			workers_peer_learnt(dp->worker, dp->flow_in.r);
		}
	}
	dpio_flush(&dp->io); /* and the gateway's own errors to peers */
}

/*
 * The kernel queues a router's "too big" on the socket the peer's own datagrams reach, which is
 * one worker's: the others learn the path MTU from it through the control.
 */
static void share_pmtu(struct dp *dp, const struct sockaddr_storage *to)
{
	uint8_t addr[16] = { 0 }, ver = to->ss_family == AF_INET ? 4 : 6;

	if (ver == 4)
		memcpy(addr, &((const struct sockaddr_in *)to)->sin_addr, 4);
	else
		memcpy(addr, &((const struct sockaddr_in6 *)to)->sin6_addr, 16);
	workers_pmtu_learnt(dp->worker, ver, addr,
			    pmtu_get(dp->pmtu, ver, addr, dp->cfg.mtu, ipr_clock_ms()));
}

void pump_udp_errors(struct dp *dp, int fd)
{
	for (int i = 0; i < ERRORS_PER_WAKEUP; i++) {
		struct sockaddr_storage to;
		uint8_t quote[64];
		union {
			struct cmsghdr align;
			uint8_t buf[256];
		} ctrl;
		struct iovec iov = { quote, sizeof(quote) };
		struct msghdr m = { .msg_name = &to,
				    .msg_namelen = sizeof(to),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctrl.buf,
				    .msg_controllen = sizeof(ctrl.buf) };

		uint64_t learnt = dp->counters[DP_C_PMTU_LEARNED];

		memset(&to, 0, sizeof(to));
		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		forward_peer_error(dp, &m, &to);
		if (dp->worker && dp->counters[DP_C_PMTU_LEARNED] != learnt)
			share_pmtu(dp, &to);
	}
}

void pump_retry(struct dp *dp, int64_t now_ms)
{
	forward_retry_waiting(dp, now_ms);
	dpio_flush(&dp->io);
}
