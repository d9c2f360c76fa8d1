/* The packet pump: I/O layer to forwarding and forwarding's sink to the I/O layer and gwctld. */
#include "pump.h"

#include <string.h>

#include "dpctl.h"
#include "forward.h"

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

static void sink_want_ref(void *ctx, uint8_t ver, const uint8_t *addr)
{
	dpctl_request_ref(ctx, ver, addr);
}

static void sink_want_ea(void *ctx, uint8_t ver, uint8_t ctx_ver, const uint8_t *c,
			 const struct ipr_ref *ref)
{
	dpctl_request_ea(ctx, ver, ctx_ver, c, ref);
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
	const uint8_t *pkt;
	size_t len;

	dpio_udp_recv(&dp->io, fd);
	while (dpio_udp_next(&dp->io, &pkt, &len, &from))
		forward_remote(dp, pkt, len, from);
	dpio_flush(&dp->io); /* and the gateway's own errors to peers */
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

		memset(&to, 0, sizeof(to));
		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		forward_peer_error(dp, &m, &to);
	}
}

void pump_retry(struct dp *dp, int64_t now_ms)
{
	forward_retry_waiting(dp, now_ms);
	dpio_flush(&dp->io);
}
